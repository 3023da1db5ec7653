/*
 * Unit tests for runtime/alarm.{c,h}: the CloudWatch alarm state-change
 * detail as root-verify and kms-guard read it (their window tests stay in
 * test_root_verify.c / test_kms_guard.c, through these functions).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarm.h"

static enum fb_err parse(const char *text, struct alarm_change *a, cJSON **keep)
{
	*keep = cJSON_Parse(text);
	return alarm_parse(*keep, a);
}

static void test_alarm__name_and_state_must_be_strings(void **st)
{
	static const char *bad[] = {
		"[]", "\"x\"", "{}", "{\"alarmName\":\"a\"}", "{\"alarmName\":7,\"state\":{\"value\":\"ALARM\"}}",
		"{\"alarmName\":\"a\",\"state\":{\"value\":null}}", "{\"alarmName\":null,\"state\":{\"value\":\"OK\"}}",
	};
	struct alarm_change a;
	cJSON *d;
	size_t i;

	(void)st;
	assert_int_equal(alarm_parse(NULL, &a), FB_E_INVALID);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &a, &d) != FB_E_INVALID)
			fail_msg("row %zu accepted: %s", i, bad[i]);
		cJSON_Delete(d);
	}
	assert_int_equal(parse("{\"alarmName\":\"a\",\"state\":{\"value\":\"OK\"}}", &a, &d), FB_OK);
	assert_string_equal(a.name, "a");
	assert_string_equal(a.state, "OK");
	assert_true(a.changed_ms == 0 && a.first_ms == 0 && a.period_s == 0);
	assert_int_equal(a.datapoints, 1);
	assert_int_equal(alarm_span_minutes(&a, 1440), 0);   /* period unknown */
	cJSON_Delete(d);
}

/* A metric alarm (CloudWatch User Guide sample): reasonData names the
 * first datapoint and the period; the reason the datapoints. */
static void test_alarm__metric_alarm_fields_and_window(void **st)
{
	struct alarm_change a;
	cJSON *d;
	int64_t s, e;

	(void)st;
	assert_int_equal(parse("{\"alarmName\":\"a\",\"state\":{\"value\":\"ALARM\",\"reason\":\"Threshold "
			       "Crossed: 2 out of the last 3 datapoints [5.0 (02/10/19 17:10:00)]\","
			       "\"reasonData\":\"{\\\"startDate\\\":\\\"2019-10-02T17:10:00.000+0000\\\","
			       "\\\"period\\\":300}\",\"timestamp\":\"2019-10-02T17:20:48.554+0000\"}}", &a, &d), FB_OK);
	assert_true(a.changed_ms == 1570036848554LL);
	assert_true(a.first_ms == 1570036200000LL);
	assert_true(a.period_s == 300);
	assert_int_equal(a.datapoints, 3);
	assert_int_equal(alarm_span_minutes(&a, 1440), 15);
	assert_int_equal(alarm_span_minutes(&a, 10), 10);     /* the caller's bound */
	alarm_lookup_window(&a, 0, 900, &s, &e);
	assert_true(s == 1570036200 - 900);
	assert_true(e == 1570036848 + 60);
	cJSON_Delete(d);
}

/* Composite alarm: no startDate; the metrics' largest period, numbers or
 * decimal strings; periods past a day and an oversized reasonData are not
 * read; no timestamp: the envelope's time. */
static void test_alarm__composite_strings_bounds_and_fallbacks(void **st)
{
	struct alarm_change a;
	cJSON *d;
	char *big;
	int64_t s, e;
	size_t n = ALARM_MAX_REASON_DATA + 100;

	(void)st;
	assert_int_equal(parse("{\"alarmName\":\"a\",\"state\":{\"value\":\"ALARM\",\"reasonData\":"
			       "\"{\\\"triggeringAlarms\\\":[]}\"},\"configuration\":{\"metrics\":["
			       "{\"metricStat\":{\"period\":60}},{\"metricStat\":{\"period\":\"600\"}},"
			       "{\"metricStat\":{\"period\":172800}},{\"metricStat\":{\"period\":-5}}]}}", &a, &d), FB_OK);
	assert_true(a.period_s == 600);
	assert_true(a.first_ms == 0);
	alarm_lookup_window(&a, 1658505465000LL, 900, &s, &e);
	assert_true(e == 1658505465 + 60);
	assert_true(s == 1658505465 - 900 - 600);
	assert_int_equal(alarm_span_minutes(&a, 1440), 10);
	cJSON_Delete(d);
	/* reasonData too large to be CloudWatch's: not parsed */
	big = malloc(n + 200);
	assert_non_null(big);
	snprintf(big, n + 200, "{\"alarmName\":\"a\",\"state\":{\"value\":\"ALARM\",\"reasonData\":\"{\\\"period\\\":60,"
		 "\\\"x\\\":\\\"%0*d\\\"}\"}}", (int)n, 0);
	assert_int_equal(parse(big, &a, &d), FB_OK);
	assert_true(a.period_s == 0);
	cJSON_Delete(d);
	free(big);
	/* a startDate after the state change is not believed */
	assert_int_equal(parse("{\"alarmName\":\"a\",\"state\":{\"value\":\"ALARM\",\"timestamp\":"
			       "\"2019-10-02T17:20:00Z\",\"reasonData\":\"{\\\"startDate\\\":\\\"2019-10-02T18:00:00Z\\\","
			       "\\\"period\\\":60}\"}}", &a, &d), FB_OK);
	alarm_lookup_window(&a, 0, 0, &s, &e);
	assert_true(s == 1570036800 - 60);
	cJSON_Delete(d);
}

/* w4-kc-lr: the log window of leak-rotate's exposure alarm (alarm_log_window)
 * and the envelope check every alarm-triggered responder makes (alarm_event). */
static void test_alarm__log_window_and_event(void **st)
{
	struct alarm_change a;
	int64_t s, e;
	char why[200];
	cJSON *ev;

	(void)st;
	memset(&a, 0, sizeof(a));
	/* nothing known: now */
	alarm_log_window(&a, 0, 1000000, 900000, &s, &e);
	assert_int_equal(s, 1000000 - 900000);
	assert_int_equal(e, 1000000 + 60000);
	/* the state change before now, the envelope's time before both */
	a.changed_ms = 2000000;
	alarm_log_window(&a, 0, 5000000, 900000, &s, &e);
	assert_int_equal(e, 2060000);
	alarm_log_window(&a, 3000000, 5000000, 900000, &s, &e);
	assert_int_equal(e, 3060000);
	assert_int_equal(s, 2100000);
	/* widened to a minute before the first datapoint evaluated, never narrowed */
	a.first_ms = 1500000;
	alarm_log_window(&a, 3000000, 5000000, 900000, &s, &e);
	assert_int_equal(s, 1440000);
	a.first_ms = 2900000;
	alarm_log_window(&a, 3000000, 5000000, 900000, &s, &e);
	assert_int_equal(s, 2100000);

	ev = cJSON_Parse("{\"source\":\"aws.cloudwatch\",\"detail-type\":\"CloudWatch Alarm State Change\","
			 "\"detail\":{\"alarmName\":\"exposure\",\"state\":{\"value\":\"ALARM\"}}}");
	assert_int_equal(alarm_event(ev, &a, why, sizeof(why)), FB_OK);
	assert_string_equal(a.name, "exposure");
	assert_string_equal(a.state, "ALARM");
	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(ev, "detail"), "alarmName");
	assert_int_equal(alarm_event(ev, &a, why, sizeof(why)), FB_E_INVALID);
	assert_string_equal(why, "alarm event lacks 'detail.alarmName' or 'detail.state.value'");
	cJSON_ReplaceItemInObject(ev, "source", cJSON_CreateString("aws.events"));
	assert_int_equal(alarm_event(ev, &a, why, sizeof(why)), FB_E_INVALID);
	assert_string_equal(why, "unsupported event: expected a CloudWatch Alarm State Change");
	cJSON_ReplaceItemInObject(ev, "source", cJSON_CreateNumber(1));
	assert_int_equal(alarm_event(ev, &a, why, sizeof(why)), FB_E_INVALID);
	cJSON_Delete(ev);
	assert_int_equal(alarm_event(NULL, &a, why, sizeof(why)), FB_E_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alarm__name_and_state_must_be_strings),
		cmocka_unit_test(test_alarm__metric_alarm_fields_and_window),
		cmocka_unit_test(test_alarm__composite_strings_bounds_and_fallbacks),
		cmocka_unit_test(test_alarm__log_window_and_event),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
