/*
 * Unit tests for runtime/field.{c,h}: refusals, name syntax, the manual
 * event table, string settings, sets of ids. The responders' own wording
 * through these is pinned by their tests (test_<name>.c, 5x, 86).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "field.h"

static void test_field__why_and_bad(void **st)
{
	char why[16];

	(void)st;
	field_why(why, sizeof(why), "a %s b", "x");
	assert_string_equal(why, "a x b");
	field_why(NULL, 0, "nothing to write to");
	field_why(why, 0, "untouched");
	assert_string_equal(why, "a x b");
	assert_int_equal(field_bad(why, sizeof(why), "%d is too long to fit here", 12345), FB_E_INVALID);
	assert_string_equal(why, "12345 is too lo");   /* cut to fit, terminated */
	assert_int_equal(field_bad(NULL, 0, "x"), FB_E_INVALID);
}

static void test_field__name_ok(void **st)
{
	(void)st;
	assert_true(field_name_ok("Table_1.a-b", 3, 255, "a-zA-Z0-9_.-"));
	assert_false(field_name_ok("ab", 3, 255, "a-zA-Z0-9_.-"));          /* too short */
	assert_false(field_name_ok("abcd", 1, 3, "a-z"));                   /* too long */
	assert_false(field_name_ok("ab c", 1, 9, "a-z"));
	assert_false(field_name_ok(NULL, 0, 9, "a-z"));
	assert_true(field_name_ok("", 0, 9, "a-z"));
	/* '-' first or last is itself, not a range */
	assert_true(field_name_ok("-a-", 1, 9, "-a"));
	assert_true(field_name_ok("a-", 1, 9, "a-"));
	assert_false(field_name_ok("b", 1, 9, "a-"));
	/* a range is inclusive at both ends, nothing between its ends leaks in */
	assert_true(field_name_ok("az09", 1, 9, "a-z0-9"));
	assert_false(field_name_ok("A", 1, 9, "a-z0-9"));
	assert_false(field_name_ok("/", 1, 9, "a-z0-9"));
	/* bytes past ASCII are never names, even under a range that spans them */
	assert_false(field_name_ok("a\xc3\xa9", 1, 9, "a-z"));
	assert_false(field_name_ok("\xff", 1, 9, "\x01-\xff"));
	assert_true(field_name_ok("x+y", 1, 9, "a-z_+"));
}

static int starts_i(const char *s)
{
	return s[0] == 'i';
}

static void test_field__read_rows_in_order(void **st)
{
	char id[8], region[8], why[64];
	cJSON *ev;
	const struct field *rows;
	struct field t[] = {
		FIELD_CHECK("id", FIELD_STR | FIELD_REQUIRED, "missing string field 'id'"),
		FIELD_CHECK("region", FIELD_STR, "field 'region' must be a string"),
		FIELD_CHECK("reason", FIELD_STR | FIELD_NULL, "field 'reason' must be a string"),
		FIELD_CHECK("dryRun", FIELD_BOOL, "field 'dryRun' must be a boolean"),
		FIELD_INTO("id", FIELD_STR, "field 'id' is not an id", starts_i, id),
		FIELD_INTO("region", FIELD_STR, "field 'region' is too long", NULL, region),
		FIELD_END,
	};

	(void)st;
	rows = t;
	ev = cJSON_Parse("{\"id\": \"i-1\", \"reason\": null, \"dryRun\": true}");
	region[0] = 0;
	assert_int_equal(field_read(ev, rows, why, sizeof(why)), 0);
	assert_string_equal(id, "i-1");
	assert_string_equal(region, "");       /* absent: dst as it was */
	cJSON_Delete(ev);

	struct { const char *json, *why; } bad[] = {
		{ "{}", "missing string field 'id'" },
		{ "{\"id\": 5}", "missing string field 'id'" },
		{ "{\"id\": null}", "missing string field 'id'" },     /* null without FIELD_NULL: wrong type */
		{ "{\"id\": \"x\", \"region\": 1}", "field 'region' must be a string" },
		{ "{\"id\": \"i\", \"reason\": 1}", "field 'reason' must be a string" },
		{ "{\"id\": \"i\", \"dryRun\": \"true\"}", "field 'dryRun' must be a boolean" },
		/* the type rows come first: a bad id and a bad dryRun name dryRun */
		{ "{\"id\": \"x\", \"dryRun\": 1}", "field 'dryRun' must be a boolean" },
		{ "{\"id\": \"x\"}", "field 'id' is not an id" },
		{ "{\"id\": \"i-too-long\"}", "field 'id' is not an id" },   /* never cut */
		{ "{\"id\": \"i\", \"region\": \"us-east-1\"}", "field 'region' is too long" },
		{ "[1]", "missing string field 'id'" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ev = cJSON_Parse(bad[i].json);
		assert_non_null(ev);
		assert_int_equal(field_read(ev, rows, why, sizeof(why)), -1);
		assert_string_equal(why, bad[i].why);
		cJSON_Delete(ev);
	}
	assert_int_equal(field_read(NULL, rows, why, sizeof(why)), -1);
	assert_string_equal(why, "missing string field 'id'");
}

static void test_field__read_types_and_presence(void **st)
{
	char why[32];
	cJSON *ev = cJSON_Parse("{\"a\": [1], \"b\": false, \"c\": {}}");

	(void)st;
	assert_int_equal(field_read(ev, (const struct field[]){
					FIELD_CHECK("a", FIELD_ARRAY | FIELD_STR | FIELD_REQUIRED, "a"),
					FIELD_CHECK("b", FIELD_BOOL | FIELD_STR, "b"),
					FIELD_CHECK("c", FIELD_REQUIRED, "c"),   /* any type */
					FIELD_END }, why, sizeof(why)), 0);
	assert_int_equal(field_read(ev, (const struct field[]){ FIELD_CHECK("c", FIELD_ARRAY, "c not an array"), FIELD_END },
				    why, sizeof(why)), -1);
	assert_string_equal(why, "c not an array");
	assert_int_equal(field_read(ev, (const struct field[]){ FIELD_CHECK("d", FIELD_REQUIRED, "d missing"), FIELD_END },
				    why, sizeof(why)), -1);
	assert_string_equal(why, "d missing");
	assert_int_equal(field_read(ev, (const struct field[]){ FIELD_END }, why, sizeof(why)), 0);
	cJSON_Delete(ev);
}

static int is_acct(const char *s)
{
	return strlen(s) == 12;
}

static void test_field__str(void **st)
{
	char acct[16] = "", name[4] = "";
	cJSON *ev = cJSON_Parse("{\"account\": \"111111111111\", \"n\": 5, \"long\": \"abcd\", \"bad\": \"1\"}");

	(void)st;
	assert_int_equal(field_str(ev, "account", is_acct, acct, sizeof(acct)), 0);
	assert_string_equal(acct, "111111111111");
	assert_int_equal(field_str(ev, "bad", is_acct, acct, sizeof(acct)), -1);
	assert_int_equal(field_str(ev, "n", NULL, name, sizeof(name)), -1);       /* not a string */
	assert_int_equal(field_str(ev, "none", NULL, name, sizeof(name)), -1);    /* required */
	assert_int_equal(field_str(ev, "long", NULL, name, sizeof(name)), -1);    /* never cut */
	assert_int_equal(field_str(NULL, "account", NULL, acct, sizeof(acct)), -1);
	cJSON_Delete(ev);
}

static void test_field__json_free(void **st)
{
	cJSON *j = cJSON_CreateObject();

	(void)st;
	field_json_free(&j);
	assert_null(j);
	field_json_free(&j);     /* again: nothing */
	field_json_free(NULL);
}

static void test_field__env_str(void **st)
{
	char v[6] = "dflt", err[64] = "";

	(void)st;
	unsetenv("FIELD_TEST_SETTING");
	assert_int_equal(field_env_str("FIELD_TEST_SETTING", v, sizeof(v), err, sizeof(err)), FB_OK);
	assert_string_equal(v, "dflt");
	setenv("FIELD_TEST_SETTING", "", 1);
	assert_int_equal(field_env_str("FIELD_TEST_SETTING", v, sizeof(v), err, sizeof(err)), FB_OK);
	assert_string_equal(v, "dflt");
	setenv("FIELD_TEST_SETTING", "abcde", 1);
	assert_int_equal(field_env_str("FIELD_TEST_SETTING", v, sizeof(v), err, sizeof(err)), FB_OK);
	assert_string_equal(v, "abcde");
	setenv("FIELD_TEST_SETTING", "abcdef", 1);
	assert_int_equal(field_env_str("FIELD_TEST_SETTING", v, sizeof(v), err, sizeof(err)), FB_E_CONFIG);
	assert_string_equal(err, "setting 'FIELD_TEST_SETTING' is too long");
	assert_string_equal(v, "abcde");       /* never cut into */
	unsetenv("FIELD_TEST_SETTING");
}

static void test_field__set_add_and_same(void **st)
{
	char set[2][4];
	char one[4] = "";
	size_t n = 0;

	(void)st;
	assert_int_equal(field_set_add(set[0], sizeof(set[0]), &n, 2, "a"), 1);
	assert_int_equal(field_set_add(set[0], sizeof(set[0]), &n, 2, "a"), 0);
	assert_int_equal(field_set_add(set[0], sizeof(set[0]), &n, 2, "bcde"), -2);
	assert_int_equal(field_set_add(set[0], sizeof(set[0]), &n, 2, NULL), -2);
	assert_int_equal(field_set_add(set[0], sizeof(set[0]), &n, 2, "bc"), 1);
	assert_int_equal(field_set_add(set[0], sizeof(set[0]), &n, 2, "bc"), 0);   /* present beats full */
	assert_int_equal(field_set_add(set[0], sizeof(set[0]), &n, 2, "d"), -1);
	assert_int_equal(n, 2);
	assert_string_equal(set[0], "a");
	assert_string_equal(set[1], "bc");

	assert_int_equal(field_same(one, sizeof(one), "x"), 0);
	assert_int_equal(field_same(one, sizeof(one), "x"), 0);
	assert_int_equal(field_same(one, sizeof(one), "y"), -1);
	assert_int_equal(field_same(one, sizeof(one), NULL), -1);
	assert_string_equal(one, "x");
	one[0] = 0;
	assert_int_equal(field_same(one, sizeof(one), "long"), -1);
	assert_string_equal(one, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_field__why_and_bad),
		cmocka_unit_test(test_field__name_ok),
		cmocka_unit_test(test_field__read_rows_in_order),
		cmocka_unit_test(test_field__read_types_and_presence),
		cmocka_unit_test(test_field__str),
		cmocka_unit_test(test_field__json_free),
		cmocka_unit_test(test_field__env_str),
		cmocka_unit_test(test_field__set_add_and_same),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
