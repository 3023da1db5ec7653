/*
 * test_slist: runtime/slist (slist_), the owned string lists settings give
 * (moved from leak-rotate's leak_list): comma lists trimmed with empty
 * items dropped, the default only when the variable is unset, membership
 * without regard to case.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "slist.h"

static void test_slist__parse_trims_and_drops_empty_items(void **st)
{
	struct slist l;

	(void)st;
	assert_int_equal(slist_parse(" a, b ,,c,", &l), FB_OK);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0], "a");
	assert_string_equal(l.v[1], "b");
	assert_string_equal(l.v[2], "c");
	assert_int_equal(slist_add(&l, "D e"), FB_OK);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.v[3], "D e");
	slist_free(&l);
	assert_int_equal(l.n, 0);
	assert_null(l.v);
	assert_int_equal(slist_parse(NULL, &l), FB_OK);
	assert_int_equal(l.n, 0);
	assert_int_equal(slist_parse(" , ,", &l), FB_OK);
	assert_int_equal(l.n, 0);
	slist_free(&l);
}

static void test_slist__env_default_only_when_unset(void **st)
{
	struct slist l;

	(void)st;
	unsetenv("SLIST_TEST");
	assert_int_equal(slist_env("SLIST_TEST", "host,port", &l), FB_OK);
	assert_int_equal(l.n, 2);
	slist_free(&l);
	/* set to "": an empty list, not the default */
	setenv("SLIST_TEST", "", 1);
	assert_int_equal(slist_env("SLIST_TEST", "host,port", &l), FB_OK);
	assert_int_equal(l.n, 0);
	slist_free(&l);
	setenv("SLIST_TEST", "x", 1);
	assert_int_equal(slist_env("SLIST_TEST", "host,port", &l), FB_OK);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0], "x");
	slist_free(&l);
	unsetenv("SLIST_TEST");
	assert_int_equal(slist_env("SLIST_TEST", NULL, &l), FB_OK);
	assert_int_equal(l.n, 0);
	slist_free(&l);
}

static void test_slist__has_nocase(void **st)
{
	struct slist l;

	(void)st;
	assert_int_equal(slist_parse("host,dbInstanceIdentifier", &l), FB_OK);
	assert_true(slist_has_nocase(&l, "HOST"));
	assert_true(slist_has_nocase(&l, "dbinstanceidentifier"));
	assert_false(slist_has_nocase(&l, "hostname"));
	assert_false(slist_has_nocase(&l, NULL));
	assert_false(slist_has_nocase(NULL, "host"));
	slist_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slist__parse_trims_and_drops_empty_items),
		cmocka_unit_test(test_slist__env_default_only_when_unset),
		cmocka_unit_test(test_slist__has_nocase),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
