/*
 * Unit tests of runtime/verdict.c: reasons merged by code, the severity as
 * the most urgent level (info never counts), the cap, the report array.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "verdict.h"

static void test_verdict__merge_by_code(void **st)
{
	struct vd_verdict v;

	(void)st;
	memset(&v, 0, sizeof(v));
	vd_add(&v, "a", VD_P2, "first %d", 1);
	vd_add(&v, "b", VD_INFO, "note");
	vd_add(&v, "a", VD_P1, "second");
	vd_add(&v, "a", VD_P3, "third");
	assert_int_equal(v.nreasons, 2);
	assert_string_equal(v.reasons[0].code, "a");
	assert_string_equal(v.reasons[0].detail, "first 1; second; third");
	assert_int_equal(v.reasons[0].level, VD_P1); /* the more urgent level stays */
	assert_true(vd_has(&v, "a"));
	assert_true(vd_has(&v, "b"));
	assert_false(vd_has(&v, "c"));
}

static void test_verdict__severity(void **st)
{
	struct vd_verdict v;

	(void)st;
	memset(&v, 0, sizeof(v));
	assert_int_equal(vd_severity(&v), VD_P3); /* no reason: P3 */
	assert_string_equal(v.severity, "P3");
	vd_add(&v, "i", VD_INFO, "info only");
	assert_int_equal(vd_severity(&v), VD_P3);
	vd_add(&v, "r", VD_P2, "review");
	assert_int_equal(vd_severity(&v), VD_P2);
	assert_string_equal(v.severity, "P2");
	vd_add(&v, "e", VD_P1, "escalate");
	assert_int_equal(vd_severity(&v), VD_P1);
	assert_string_equal(v.severity, "P1");
	assert_string_equal(vd_level_name(VD_P3), "P3");
	assert_string_equal(vd_level_name(VD_INFO), "info");
	assert_string_equal(vd_level_name((enum vd_level)0), "info");
}

static void test_verdict__cap_and_long_details(void **st)
{
	static struct vd_verdict v;
	static const char *codes[VD_MAX_REASONS + 2] = { "c0", "c1", "c2", "c3", "c4", "c5", "c6",
		"c7", "c8", "c9", "c10", "c11", "c12", "c13", "c14", "c15", "c16", "c17", "c18", "c19",
		"c20", "c21", "c22", "c23", "c24", "c25" };
	char big[1000];

	(void)st;
	memset(&v, 0, sizeof(v));
	for (size_t i = 0; i < VD_MAX_REASONS + 2; i++)
		vd_add(&v, codes[i], VD_P3, "%zu", i);
	assert_int_equal(v.nreasons, VD_MAX_REASONS);
	assert_false(vd_has(&v, "c24"));
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	vd_add(&v, "c0", VD_P1, "%s", big);
	vd_add(&v, "c0", VD_P1, "%s", big);
	assert_int_equal(strlen(v.reasons[0].detail), sizeof(v.reasons[0].detail) - 1);
	assert_int_equal(v.reasons[0].level, VD_P1);
}

static void test_verdict__reasons_json(void **st)
{
	struct vd_verdict v;
	cJSON *a;
	char *txt;

	(void)st;
	memset(&v, 0, sizeof(v));
	vd_add(&v, "sensitive-call", VD_P1, "root called %s", "StopLogging");
	vd_add(&v, "network-restriction-not-configured", VD_INFO, "unset");
	a = vd_reasons_json(&v);
	assert_non_null(a);
	txt = cJSON_PrintUnformatted(a);
	assert_string_equal(txt, "[{\"code\":\"sensitive-call\",\"severity\":\"P1\",\"detail\":\"root called StopLogging\"},"
			    "{\"code\":\"network-restriction-not-configured\",\"severity\":\"info\",\"detail\":\"unset\"}]");
	cJSON_free(txt);
	cJSON_Delete(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdict__merge_by_code),
		cmocka_unit_test(test_verdict__severity),
		cmocka_unit_test(test_verdict__cap_and_long_details),
		cmocka_unit_test(test_verdict__reasons_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
