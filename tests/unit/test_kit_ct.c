/*
 * test_kit_ct: the kit's CloudTrail helpers a responder's policy leans on
 * (runtime/kit.h, block w4-kc-kg): a read's deadline, exemption tags
 * judged on the resource's history (kit_exemption: kms-guard's, with
 * data-breach and net-block holding copies), and the events of several
 * names in a window (kit_ct_each: kms-guard's alarm). Over the real AWS
 * layer and the fake transport of kit_fake.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "http.h"
#include "kit.h"
#include "resp.h"

#include "kit_fake.h"

#define KEY "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
#define OPS "arn:aws:iam::111111111111:role/ops"
#define MALLORY "arn:aws:iam::111111111111:user/mallory"

static int64_t ct_now(void *c) { return ((struct fake *)c)->now; }
static void ct_sleep(void *c, int64_t ms) { ((struct fake *)c)->now += ms; }
static const struct ct_clock CT_CLOCK = { ct_now, ct_sleep, &F };

/* A LookupEvents page with one TagResource of firebreak:exempt=true on KEY
 * by `who`, `days` days before T0_MS. Static buffer. */
static const char *tag_page(const char *who, int days)
{
	static char page[2048];
	long long t = T0_MS / 1000 - (long long)days * 86400;

	snprintf(page, sizeof(page),
		 "{\"Events\":[{\"EventId\":\"t-1\",\"EventName\":\"TagResource\",\"EventTime\":%lld,"
		 "\"CloudTrailEvent\":\"{\\\"eventName\\\":\\\"TagResource\\\",\\\"eventID\\\":\\\"t-1\\\","
		 "\\\"userIdentity\\\":{\\\"arn\\\":\\\"%s\\\"},\\\"requestParameters\\\":{\\\"keyId\\\":"
		 "\\\"" KEY "\\\",\\\"tags\\\":[{\\\"tagKey\\\":\\\"firebreak:exempt\\\",\\\"tagValue\\\":"
		 "\\\"true\\\"}]}}\"}]}", t, who);
	return page;
}

static void test_kit_ct__read_deadline(void **st)
{
	struct world w;
	struct lr_context timed = ctx;

	(void)st;
	world_up(&w, 0);
	assert_true(kit_read_deadline(&w.k, 1500) == 0);     /* no deadline: none */
	timed.deadline_ms = T0_MS + 10000;
	w.r.ctx = &timed;
	assert_true(kit_read_deadline(&w.k, 1500) == T0_MS + 8500);
	world_down(&w);
}

static const char *const KEYS[] = { "firebreak:exempt", "firebreak:allow-deletion" };

/* No key "true": no read, nothing said. */
static void test_kit_ct__exemption_not_asked(void **st)
{
	struct world w;
	cJSON *tags = cJSON_Parse("[{\"TagKey\":\"firebreak:exempt\",\"TagValue\":\"false\"},"
				  "{\"TagKey\":\"Owner\",\"TagValue\":\"true\"}]");
	cJSON *out = cJSON_CreateObject();
	struct prov_query q = { .trigger_ms = T0_MS, .trigger_actor = MALLORY };
	char why[PROV_REASON_LEN] = "";

	(void)st;
	world_up(&w, 0);
	assert_null(kit_exemption(&w.k, &(struct kit_prov_read){ .step = "tag-provenance", .arn = KEY },
				  &q, tags, KEYS, 2, out, why, sizeof(why)));
	assert_int_equal(F.nlog, 0);
	assert_int_equal(w.r.nsteps, 0);
	assert_null(cJSON_GetObjectItem(out, "exemption_tags"));
	cJSON_Delete(tags);
	cJSON_Delete(out);
	world_down(&w);
}

/* A tag set long ago by someone else is honoured; the same tag set by the
 * trigger's actor is not. The report's settings give the minimum age. */
static void test_kit_ct__exemption_judged_on_the_history(void **st)
{
	static const struct {
		const char *setter;
		int days;
		int honoured;
	} cases[] = {
		{ OPS, 30, 1 },
		{ MALLORY, 30, 0 },     /* the trigger's actor set it */
		{ OPS, 0, 0 },          /* younger than FIREBREAK_TAG_MIN_AGE_HOURS */
	};
	cJSON *tags = cJSON_Parse("[{\"TagKey\":\"firebreak:exempt\",\"TagValue\":\"true\"}]");
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct world w;
		cJSON *out = cJSON_CreateObject();
		struct prov_query q = { .trigger_ms = T0_MS, .trigger_event_id = "ev-1", .trigger_actor = MALLORY };
		char why[PROV_REASON_LEN] = "";
		const char *got;

		world_up(&w, 0);
		ct_limiter_reset();
		route("LookupEvents", NULL, 200, tag_page(cases[i].setter, cases[i].days), 5, 0);
		got = kit_exemption(&w.k, &(struct kit_prov_read){ .step = "tag-provenance", .arn = KEY,
			.complete_note = " (complete)" }, &q, tags, KEYS, 2, out, why, sizeof(why));
		if (cases[i].honoured) {
			assert_non_null(got);
			assert_string_equal(got, "firebreak:exempt");
		} else if (got) {
			fail_msg("case %zu honoured: %s", i, why);
		}
		assert_int_equal(sent("LookupEvents"), 1);
		assert_non_null(strstr(last_of("LookupEvents")->body, "\"AttributeValue\":\"" KEY "\""));
		assert_string_equal(line(&w, "tag-provenance")->detail, "1 events (complete)");
		assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(out, "exemption_tags")), 1);
		assert_string_equal(resp_get_str(out, "exemption_tags.0.verdict"),
				    cases[i].honoured ? "honoured" : "ignored");
		cJSON_Delete(out);
		world_down(&w);
	}
	cJSON_Delete(tags);
}

static const char *const NAMES[] = { "ScheduleKeyDeletion", "DisableKey" };

/* kit_ct_each over NAMES, ScheduleKeyDeletion answered `sched`
 * (status, body), DisableKey one event; the events into *found. */
static enum fb_err each(struct world *w, const struct ct_query *q, long status, const char *sched,
			cJSON **found)
{
	enum fb_err rc;

	world_up(w, 0);
	ct_limiter_reset();
	route("LookupEvents", "ScheduleKeyDeletion", status, sched, 5, 0);
	route("LookupEvents", "DisableKey", 200, "{\"Events\":[{\"EventId\":\"d1\"}]}", 5, 0);
	*found = kit_ct_each(&w->k, "lookup-events", q, NAMES, 2, &rc);
	assert_non_null(*found);
	return rc;
}

/* Each name its own required line, in turn; the events of all in name
 * order; a failed name fails the call but the others are still read. */
static void test_kit_ct__each_name(void **st)
{
	struct world w;
	struct ct_query q = { .attr_key = "EventName", .max_results = 50, .max_pages = 5, .keep_events = 1,
			      .clock = &CT_CLOCK, .jitter_seed = 3 };
	cJSON *found;

	(void)st;
	assert_int_equal(each(&w, &q, 200, "{\"Events\":[{\"EventId\":\"s2\"},{\"EventId\":\"s1\"}]}",
			      &found), FB_OK);
	assert_int_equal(cJSON_GetArraySize(found), 3);
	assert_string_equal(resp_get_str(found, "0.EventId"), "s2");
	assert_string_equal(resp_get_str(found, "2.EventId"), "d1");
	assert_int_equal(w.r.nsteps, 2);
	assert_string_equal(w.r.steps[0].target, "ScheduleKeyDeletion");
	assert_string_equal(w.r.steps[0].detail, "EventName=ScheduleKeyDeletion: 2 events");
	assert_string_equal(w.r.steps[1].detail, "EventName=DisableKey: 1 events");
	assert_int_equal(w.r.steps[1].required, 1);
	assert_null(q.attr_value);      /* the caller's query is not changed */
	world_down(&w);
	cJSON_Delete(found);

	assert_int_not_equal(each(&w, &q, 400, "{\"__type\":\"AccessDeniedException\",\"message\":\"no\"}",
				  &found), FB_OK);
	assert_int_equal(cJSON_GetArraySize(found), 1);
	assert_int_equal(w.r.steps[0].status, RESP_FAILED);
	assert_int_equal(w.r.steps[1].status, RESP_DONE);
	assert_true(resp_failed(&w.r));
	world_down(&w);
	cJSON_Delete(found);
}

/* {"start", "end"} in ISO 8601, added under the name given. */
static void test_kit_ct__window(void **st)
{
	cJSON *extra = cJSON_CreateObject();
	cJSON *w;

	(void)st;
	w = kit_window(extra, "alarm_window", 1709287200000LL, 1709287260500LL);
	assert_non_null(w);
	assert_ptr_equal(w, cJSON_GetObjectItem(extra, "alarm_window"));
	assert_string_equal(resp_get_str(extra, "alarm_window.start"), "2024-03-01T10:00:00.000Z");
	assert_string_equal(resp_get_str(extra, "alarm_window.end"), "2024-03-01T10:01:00.500Z");
	assert_int_equal(cJSON_GetArraySize(w), 2);
	cJSON_Delete(extra);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kit_ct__read_deadline),
		cmocka_unit_test(test_kit_ct__exemption_not_asked),
		cmocka_unit_test(test_kit_ct__exemption_judged_on_the_history),
		cmocka_unit_test(test_kit_ct__each_name),
		cmocka_unit_test(test_kit_ct__window),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
