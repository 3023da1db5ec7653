/*
 * alarm: CloudWatch alarm state-change events (alarm.h).
 */
#include "alarm.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "kit.h"
#include "resp.h"

/* A period from a JSON number or decimal string; 0 when absent or out of range. */
static int64_t period_of(const cJSON *v)
{
	long p;

	if (kit_json_long(v, &p) != 0 || p <= 0 || p > ALARM_MAX_PERIOD_S)
		return 0;
	return p;
}

enum fb_err alarm_parse(const cJSON *detail, struct alarm_change *a)
{
	const char *rd, *reason, *k;
	const cJSON *m;

	memset(a, 0, sizeof(*a));
	a->datapoints = 1;
	if (!cJSON_IsObject(detail))
		return FB_E_INVALID;
	a->name = resp_get_str(detail, "alarmName");
	a->state = resp_get_str(detail, "state.value");
	if (!a->name || !a->state)
		return FB_E_INVALID;
	a->changed_ms = resp_parse_time_ms(resp_get_str(detail, "state.timestamp"));
	rd = resp_get_str(detail, "state.reasonData");
	if (rd && strlen(rd) < ALARM_MAX_REASON_DATA) {
		cJSON *j = cJSON_Parse(rd);

		a->first_ms = resp_parse_time_ms(resp_get_str(j, "startDate"));
		a->period_s = period_of(cJSON_GetObjectItemCaseSensitive(j, "period"));
		cJSON_Delete(j);
	}
	cJSON_ArrayForEach(m, resp_get(detail, "configuration.metrics")) {
		int64_t p = period_of(resp_get(m, "metricStat.period"));

		if (p > a->period_s)
			a->period_s = p;
	}
	reason = resp_get_str(detail, "state.reason");
	k = reason ? strstr(reason, "out of the last ") : NULL;
	if (k) {
		char *end = NULL;
		long v = strtol(k + strlen("out of the last "), &end, 10);

		if (end && v > 0 && v < 10000)
			a->datapoints = (int)v;
	}
	return FB_OK;
}

void alarm_lookup_window(const struct alarm_change *a, int64_t event_ms, int64_t lookback_s,
			 int64_t *start_s, int64_t *end_s)
{
	int64_t end_ms = a->changed_ms ? a->changed_ms : event_ms;

	*end_s = end_ms / 1000 + 60;
	if (a->first_ms && a->first_ms <= end_ms)
		*start_s = a->first_ms / 1000 - lookback_s;
	else
		*start_s = end_ms / 1000 - lookback_s - a->period_s;
}

int alarm_span_minutes(const struct alarm_change *a, int max_minutes)
{
	int64_t minutes;

	if (a->period_s <= 0)
		return 0;
	minutes = (a->period_s * a->datapoints + 59) / 60;
	if (minutes < 1)
		minutes = 1;
	return minutes > max_minutes ? max_minutes : (int)minutes;
}

/* ---- w4-kc-lr: the log window of an alarm on a metric filter ---------------------- */

void alarm_log_window(const struct alarm_change *a, int64_t event_ms, int64_t now_ms, int64_t lookback_ms,
		      int64_t *start_ms, int64_t *end_ms)
{
	int64_t t = event_ms ? event_ms : a->changed_ms ? a->changed_ms : now_ms;

	*end_ms = t + 60000;
	*start_ms = t - lookback_ms;
	if (a->first_ms && a->first_ms - 60000 < *start_ms)
		*start_ms = a->first_ms - 60000;
}

enum fb_err alarm_event(const cJSON *ev, struct alarm_change *a, char *why, size_t whylen)
{
	const cJSON *dt = cJSON_GetObjectItemCaseSensitive(ev, "detail-type");
	const cJSON *src = cJSON_GetObjectItemCaseSensitive(ev, "source");

	memset(a, 0, sizeof(*a));
	if (!cJSON_IsString(dt) || !cJSON_IsString(src) || strcmp(dt->valuestring, "CloudWatch Alarm State Change") ||
	    strcmp(src->valuestring, "aws.cloudwatch")) {
		snprintf(why, whylen, "unsupported event: expected a CloudWatch Alarm State Change");
		return FB_E_INVALID;
	}
	if (alarm_parse(cJSON_GetObjectItemCaseSensitive(ev, "detail"), a) != FB_OK) {
		snprintf(why, whylen, "alarm event lacks 'detail.alarmName' or 'detail.state.value'");
		return FB_E_INVALID;
	}
	return FB_OK;
}
