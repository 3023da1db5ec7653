/*
 * alarm: the CloudWatch "Alarm State Change" event, read once for every
 * responder an alarm triggers (root-verify, kms-guard; access-triage and
 * data-breach read the same fields). Prefix alarm_. Pure: no I/O, no clock.
 *
 * The event's detail (EventBridge, "CloudWatch Alarm State Change";
 * CloudWatch User Guide, "Alarm events and EventBridge"):
 *   alarmName, state.value (ALARM / OK / INSUFFICIENT_DATA),
 *   state.timestamp (the state change), state.reason ("Threshold Crossed:
 *   2 out of the last 3 datapoints ..."), state.reasonData (a JSON document
 *   in a string: startDate, the first datapoint evaluated, and period; a
 *   composite alarm's has triggeringAlarms instead), configuration.metrics[]
 *   .metricStat.period.
 */
#ifndef FB_ALARM_H
#define FB_ALARM_H

#include <stdint.h>
#include <cjson/cJSON.h>
#include "fb_err.h"

/* A state.reasonData larger than this is not parsed (CloudWatch writes a
 * few hundred bytes). */
#define ALARM_MAX_REASON_DATA 65536
/* Periods past a day are not alarm periods: ignored. */
#define ALARM_MAX_PERIOD_S 86400

struct alarm_change {
	const char *name;       /* detail.alarmName; borrowed from the detail */
	const char *state;      /* detail.state.value; borrowed */
	int64_t changed_ms;     /* detail.state.timestamp; 0 when absent or not a time */
	int64_t first_ms;       /* reasonData.startDate; 0 when absent or not a time */
	int64_t period_s;       /* the largest of reasonData.period and the metrics'
				 * metricStat.period, 1..ALARM_MAX_PERIOD_S; 0 unknown */
	int datapoints;         /* "out of the last N datapoints" (1..9999); 1 when not said */
};

/* detail (borrowed; the alarm fields stay borrowed from it) -> a.
 * FB_E_INVALID when it is not an object or alarmName / state.value is not a
 * string; the other fields are optional (0 / 1 when missing or malformed).
 * Periods may be JSON numbers or decimal strings. */
enum fb_err alarm_parse(const cJSON *detail, struct alarm_change *a);

/* The CloudTrail window (epoch seconds) that holds what made the alarm
 * fire: from the first datapoint evaluated less lookback_s (CloudTrail ->
 * CloudWatch Logs delivery delay) to the state change plus a minute.
 * Without a startDate (composite alarms): lookback_s plus the period
 * before the state change. The state change is event_ms (the envelope's
 * time) when the detail has none. */
void alarm_lookup_window(const struct alarm_change *a, int64_t event_ms, int64_t lookback_s,
			 int64_t *start_s, int64_t *end_s);

/* What the alarm evaluated: period x datapoints, in minutes rounded up,
 * within 1..max_minutes; 0 when the period is unknown. */
int alarm_span_minutes(const struct alarm_change *a, int max_minutes);

/* ---- w4-kc-lr: the log window of an alarm on a metric filter ---------------------- */

/* The window (epoch ms) whose log events made an alarm on a log metric
 * filter fire (leak-rotate's exposure alarm, read back with
 * FilterLogEvents): from lookback_ms before the alarm to a minute after,
 * widened to a minute before the first datapoint it evaluated. The alarm's
 * time is event_ms (the envelope's), else the state change, else now_ms.
 * a may be zeroed (a detail alarm_parse refused). */
void alarm_log_window(const struct alarm_change *a, int64_t event_ms, int64_t now_ms, int64_t lookback_ms,
		      int64_t *start_ms, int64_t *end_ms);

/* The whole event (EventBridge envelope, borrowed) is a "CloudWatch Alarm
 * State Change" from aws.cloudwatch whose detail alarm_parse takes: FB_OK
 * with *a filled; else FB_E_INVALID and why says which ("unsupported event:
 * expected a CloudWatch Alarm State Change", "alarm event lacks
 * 'detail.alarmName' or 'detail.state.value'"). kms-guard, root-verify,
 * access-triage, data-breach, cognito-lockdown and codeartifact-lock check
 * the same envelope themselves. */
enum fb_err alarm_event(const cJSON *ev, struct alarm_change *a, char *why, size_t whylen);

#endif
