/*
 * Unit tests for runtime/arn.{c,h}: fields, the strict head, the tail.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "arn.h"

#define TASK "arn:aws:ecs:us-east-1:111111111111:task/prod/0123456789abcdef0123456789abcdef"

static void test_arn__fields(void **st)
{
	char f[32];

	(void)st;
	assert_true(arn_field(TASK, 1, f, sizeof(f)));
	assert_string_equal(f, "aws");
	assert_true(arn_field(TASK, 3, f, sizeof(f)));
	assert_string_equal(f, "us-east-1");
	assert_true(arn_field(TASK, 4, f, sizeof(f)));
	assert_string_equal(f, "111111111111");
	/* empty, missing, too long, not an ARN: never a truncated field */
	assert_false(arn_field("arn:aws:s3:::bucket", 3, f, sizeof(f)));
	assert_false(arn_field("arn:aws:s3", 4, f, sizeof(f)));
	assert_false(arn_field(TASK, 3, f, 5));
	assert_false(arn_field("urn:aws:ecs:us-east-1:1:x", 3, f, sizeof(f)));
}

static void test_arn__strict_head_and_tail(void **st)
{
	(void)st;
	assert_string_equal(arn_rest(TASK, "ecs"), "task/prod/0123456789abcdef0123456789abcdef");
	assert_string_equal(arn_rest("arn:aws-us-gov:ecs:us-gov-west-1:111111111111:cluster/c", "ecs"), "cluster/c");
	assert_null(arn_rest(TASK, "ec2"));
	assert_null(arn_rest(TASK, "ec"));
	assert_null(arn_rest("arn:aws:ecs:us-east-1:11111111111:task/x", "ecs"));      /* 11 digits */
	assert_null(arn_rest("arn:aws:ecs:us-east-1:1111111111112:task/x", "ecs"));    /* 13 */
	assert_null(arn_rest("arn:AWS:ecs:us-east-1:111111111111:task/x", "ecs"));
	assert_null(arn_rest("arn:aws:ecs::111111111111:task/x", "ecs"));               /* no region */
	assert_null(arn_rest("arn:aws:ecs:evil.example:443:111111111111:task/x", "ecs"));
	assert_string_equal(arn_tail(TASK), "0123456789abcdef0123456789abcdef");
	assert_string_equal(arn_tail("no-slash"), "no-slash");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arn__fields),
		cmocka_unit_test(test_arn__strict_head_and_tail),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
