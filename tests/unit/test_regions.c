/*
 * Unit tests of runtime/regions.c: Region lists from a setting (order,
 * spaces, duplicates, refusals with the setting's name) and additions to a
 * reading plan (crafted names dropped, the cap).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "regions.h"

static void test_regions__parse(void **st)
{
	char out[4][REGIONS_NAME_LEN], err[200] = "";
	size_t n = 99;

	(void)st;
	assert_int_equal(regions_parse(" us-west-2 ,eu-central-1,,us-west-2", "S", out, 4, &n, err,
				       sizeof(err)), FB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(out[0], "us-west-2");
	assert_string_equal(out[1], "eu-central-1");
	assert_int_equal(regions_parse(NULL, "S", out, 4, &n, err, sizeof(err)), FB_OK);
	assert_int_equal(n, 0);
	assert_int_equal(regions_parse(" , ", "S", out, 4, &n, err, sizeof(err)), FB_OK);
	assert_int_equal(n, 0);
	assert_int_equal(regions_parse("us-east-1,Evil Region", "MY_SETTING", out, 4, &n, err, sizeof(err)),
			 FB_E_CONFIG);
	assert_string_equal(err, "setting 'MY_SETTING': 'Evil Region' is not a region name");
	assert_int_equal(regions_parse("us-east-1,../x", "S", out, 4, &n, err, sizeof(err)), FB_E_CONFIG);
	assert_int_equal(regions_parse("us-east-1,us-east-2,us-west-1,us-west-2", "S", out, 4, &n, err,
				       sizeof(err)), FB_OK);
	assert_int_equal(n, 4);
	assert_int_equal(regions_parse("us-east-1,us-east-2,us-west-1,us-west-2,eu-west-1", "S", out, 4, &n,
				       err, sizeof(err)), FB_E_CONFIG);
	assert_string_equal(err, "setting 'S': more than 4 regions");
	/* a duplicate when the list is full is refused too (as root-verify always did) */
	assert_int_equal(regions_parse("us-east-1,us-east-2,us-west-1,us-west-2,us-west-2", "S", out, 4, &n,
				       err, sizeof(err)), FB_E_CONFIG);
}

static void test_regions__add(void **st)
{
	char out[3][REGIONS_NAME_LEN];
	size_t n = 0;

	(void)st;
	regions_add(out, &n, 3, "eu-west-1");
	regions_add(out, &n, 3, NULL);
	regions_add(out, &n, 3, "");
	regions_add(out, &n, 3, "eu-west-1");
	regions_add(out, &n, 3, "us-east-1.evil.example:443");
	regions_add(out, &n, 3, "us-east-1");
	regions_add(out, &n, 3, "ap-south-1");
	regions_add(out, &n, 3, "us-west-2");     /* full: dropped */
	assert_int_equal(n, 3);
	assert_string_equal(out[0], "eu-west-1");
	assert_string_equal(out[1], "us-east-1");
	assert_string_equal(out[2], "ap-south-1");
}

static void test_regions__log(void **st)
{
	static struct regions_log l;
	cJSON *o = cJSON_CreateObject();
	char *txt;

	(void)st;
	memset(&l, 0, sizeof(l));
	assert_false(l.complete);   /* nothing read is not complete */
	regions_log_add(&l, "us-east-1", 1, 2, 60, 0, "ignored when complete");
	assert_true(l.complete);
	assert_string_equal(l.incomplete_why, "");
	assert_string_equal(l.regions[0].why, "");
	regions_log_add(&l, "eu-west-1", 0, 1, 50, 3, "page 2: ThrottlingException");
	regions_log_add(&l, "ap-south-1", 0, 0, 0, 0, NULL);
	assert_false(l.complete);
	assert_string_equal(l.incomplete_why, "regions not fully read: eu-west-1 (page 2: ThrottlingException); "
			    "ap-south-1 (not read)");
	regions_log_json(&l, o);
	txt = cJSON_PrintUnformatted(o);
	assert_string_equal(txt, "{\"regions\":[{\"region\":\"us-east-1\",\"complete\":true,\"pages\":2,\"events\":60,"
			    "\"throttled\":0},{\"region\":\"eu-west-1\",\"complete\":false,\"pages\":1,\"events\":50,"
			    "\"throttled\":3,\"why\":\"page 2: ThrottlingException\"},{\"region\":\"ap-south-1\","
			    "\"complete\":false,\"pages\":0,\"events\":0,\"throttled\":0,\"why\":\"not read\"}],"
			    "\"regions_read\":[\"us-east-1\"],\"regions_incomplete\":[\"eu-west-1\",\"ap-south-1\"]}");
	cJSON_free(txt);
	cJSON_Delete(o);
	/* past the cap nothing more is listed, and the verdict stands */
	for (int i = 0; i < REGIONS_LOG_MAX + 5; i++)
		regions_log_add(&l, "us-west-2", 1, 1, 0, 0, NULL);
	assert_int_equal(l.nregions, REGIONS_LOG_MAX);
	assert_false(l.complete);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regions__parse),
		cmocka_unit_test(test_regions__add),
		cmocka_unit_test(test_regions__log),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
