/*
 * test_kit_time: kit_time_left (runtime/kit.h, w5-cut-a block): a step
 * may start when the invocation has no deadline or enough time left, and
 * not when the deadline is nearly spent (task-quarantine then reports the
 * step failed "not started").
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "kit.h"
#include "lr.h"

static void test_kit_time__left_unless_the_deadline_is_near(void **st)
{
	struct lr_context ctx = { 0 };

	(void)st;
	assert_true(kit_time_left(NULL, 300));
	assert_true(kit_time_left(&ctx, 300));           /* no deadline */
	ctx.deadline_ms = lr_now_ms() + 60000;
	assert_true(kit_time_left(&ctx, 300));
	assert_false(kit_time_left(&ctx, 120000));
	ctx.deadline_ms = lr_now_ms() + 100;
	assert_false(kit_time_left(&ctx, 300));
	ctx.deadline_ms = lr_now_ms() - 1000;            /* already past */
	assert_false(kit_time_left(&ctx, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kit_time__left_unless_the_deadline_is_near),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
