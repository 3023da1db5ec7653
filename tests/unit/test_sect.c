/*
 * Unit tests for runtime/sect.{c,h}: per-item report sections and the
 * verdict from their outcome words (kms-guard's keys[]; its verdict test
 * moved here with the code).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sect.h"

static struct lr_context ctx = { .request_id = "req-1" };

/* A replay whose only write is the incident tag contained nothing: the
 * invocation is "already-contained", not "contained". */
static void test_sect__already_when_only_tagged(void **st)
{
	static const struct {
		int dry, changed, already;
		const char *want; /* NULL: resp derives it from the steps */
	} cases[] = {
		{ 0, 0, 1, "already-contained" },  /* deletion already cancelled; tag only */
		{ 0, 0, 3, "already-contained" },  /* an alarm over three keys, all safe already */
		{ 0, 1, 0, NULL },                 /* cancelled now: contained */
		{ 0, 1, 2, NULL },                 /* one key contained now, two already */
		{ 0, 0, 0, NULL },                 /* skipped or failed: resp says so */
		{ 1, 0, 1, NULL },                 /* dry run: planned */
		{ 1, 1, 0, NULL },
	};
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = sect_already(cases[i].dry, cases[i].changed, cases[i].already);

		if (cases[i].want) {
			assert_non_null(got);
			assert_string_equal(got, cases[i].want);
		} else {
			assert_null(got);
		}
	}
}

/* Sections with the given outcomes into r's extra["keys"]. */
static cJSON *sections(struct resp *r, const char *const *outcomes, size_t n)
{
	cJSON *list = cJSON_AddArrayToObject(r->extra, "keys");
	size_t i;

	for (i = 0; i < n; i++) {
		cJSON *sec = cJSON_CreateObject();

		cJSON_AddItemToArray(list, sec);
		assert_int_equal(sect_outcome(sec, (int)i, "%s", "first"), (int)i);
		sect_outcome(sec, 0, "%s", outcomes[i]);   /* replaces */
	}
	return list;
}

/* The verdict from the outcome words, as kms-guard's alarm and single-key
 * invocations end. */
static void test_sect__verdict_from_outcomes(void **st)
{
	static const struct {
		int dry;
		const char *outcomes[3];
		const char *want;       /* NULL: left to resp (not set here) */
	} cases[] = {
		{ 0, { "skipped: trusted actor 'x'" }, "skipped: trusted actor 'x'" },
		{ 0, { "skipped: a", "skipped: b" }, "skipped: all 2 key changes were skipped (see keys[])" },
		{ 0, { "skipped: a", "already: k needs no change" }, "already-contained" },
		{ 0, { "already: k", "already: l" }, "already-contained" },
		{ 0, { "skipped: a", "contained: 'k'" }, NULL },
		{ 1, { "skipped: a", "planned (dry run): see actions" }, NULL },
		{ 1, { "already: k" }, NULL },
		{ 0, { "failed: x" }, NULL },
	};
	struct resp_config cfg = { 0 };
	size_t i, n;

	(void)st;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct resp r;

		assert_int_equal(resp_begin(&r, &cfg, "kms-guard", &ctx), FB_OK);
		r.dry_run = cases[i].dry;
		for (n = 0; n < 3 && cases[i].outcomes[n]; n++)
			;
		sect_verdict(&r, sections(&r, cases[i].outcomes, n), "key changes", "keys");
		if (cases[i].want) {
			if (!r.verdict || strcmp(r.verdict, cases[i].want))
				fail_msg("case %zu: verdict '%s'", i, r.verdict ? r.verdict : "(none)");
		} else if (r.verdict) {
			fail_msg("case %zu: verdict '%s' set", i, r.verdict);
		}
		resp_cleanup(&r);
	}
}

/* A required step that failed: the sections say nothing over it. */
static void test_sect__failed_step_wins(void **st)
{
	static const char *const all_skipped[] = { "skipped: a" };
	struct resp_config cfg = { 0 };
	struct resp r;
	int i;

	(void)st;
	assert_int_equal(resp_begin(&r, &cfg, "kms-guard", &ctx), FB_OK);
	i = resp_step_begin(&r, "describe-key", "kms:DescribeKey", "k", RESP_READ);
	resp_step_end(&r, i, RESP_FAILED, "boom", NULL);
	sect_verdict(&r, sections(&r, all_skipped, 1), "key changes", "keys");
	assert_null(r.verdict);
	assert_int_equal(r.skipped, 0);
	resp_cleanup(&r);
}

static void test_sect__count_event_lift(void **st)
{
	cJSON *list = cJSON_CreateArray(), *a = cJSON_CreateObject(), *b = cJSON_CreateObject();
	cJSON *top = cJSON_CreateObject();
	static const char *const names[] = { "prior_state", "note", "absent" };

	(void)st;
	cJSON_AddItemToArray(list, a);
	cJSON_AddItemToArray(list, b);
	cJSON_AddItemToArray(list, cJSON_CreateObject());   /* no outcome */
	sect_outcome(a, 0, "skipped: %s", "x");
	sect_outcome(b, 0, "skippedx");
	assert_int_equal(sect_count(list, "skipped: "), 1);
	assert_int_equal(sect_count(list, "skipped"), 2);
	assert_int_equal(sect_count(NULL, "skipped"), 0);
	sect_event(a, "DisableKey", "", 0, "");
	assert_string_equal(resp_get_str(a, "event_name"), "DisableKey");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(a, "event_id")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(a, "actor")));
	assert_null(cJSON_GetObjectItem(a, "event_time"));
	sect_event(b, "ScheduleKeyDeletion", "e-1", 1709287230000LL, "arn:aws:iam::111111111111:user/m");
	assert_string_equal(resp_get_str(b, "event_id"), "e-1");
	assert_string_equal(resp_get_str(b, "event_time"), "2024-03-01T10:00:30.000Z");
	assert_string_equal(resp_get_str(b, "actor"), "arn:aws:iam::111111111111:user/m");
	cJSON_AddStringToObject(b, "prior_state", "Enabled");
	cJSON_AddItemToObject(b, "note", cJSON_CreateArray());
	sect_lift(top, b, names, 3);
	assert_string_equal(resp_get_str(top, "prior_state"), "Enabled");
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(top, "note")));
	assert_null(cJSON_GetObjectItem(top, "absent"));
	assert_int_equal(cJSON_GetArraySize(top), 2);
	cJSON_Delete(list);
	cJSON_Delete(top);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sect__already_when_only_tagged),
		cmocka_unit_test(test_sect__verdict_from_outcomes),
		cmocka_unit_test(test_sect__failed_step_wins),
		cmocka_unit_test(test_sect__count_event_lift),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
