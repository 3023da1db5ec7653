/*
 * fuzz_access_triage: access-triage's pure stages (functions/access-triage/
 * stages.c, declared in access_triage.h). The first byte picks the stage:
 *   0 the event text -> at_parse (alarm state change, manual form); an
 *     accepted alarm/manual event has a window that ends after it starts
 *     and no longer than window + lookback;
 *   1 a LookupEvents answer or event array (JSON) -> at_add_events,
 *     at_decide, at_report: every group has a severity P1..P3 and a
 *     reason; the report lists at most the cap. The same JSON read as
 *     Insights GetQueryResults rows (at_insights_events, at_add_denials,
 *     at_add_successes): the successes query built from its groups has
 *     exactly the three '|' of its fixed text (no record adds a command),
 *     and the sources report stays within the cap.
 * FUZZ_SOURCES: functions/access-triage/stages.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_common.h"
#include "../../functions/access-triage/access_triage.h"

static struct at_settings S;
static int ready;

static void stage_event(const char *s, size_t n)
{
	struct at_event ev;
	char why[256] = "";

	if (at_parse(s, n, &S, 1700000000000, &ev, why, sizeof(why)) == FB_OK) {
		if (ev.kind != AT_SKIP && (ev.end_ms <= ev.start_ms ||
					   ev.end_ms - ev.start_ms > (int64_t)(1440 + S.lookback_minutes) * 60000))
			abort();
		if (ev.kind == AT_SKIP && !ev.why[0])
			abort();
	} else if (!why[0]) {
		abort();
	}
	at_event_cleanup(&ev);
}

static void stage_insights(const cJSON *results)
{
	cJSON *recs = at_insights_events(results), *src;
	struct at_triage t;
	size_t n = 0, left = 0, pipes = 0;
	char *q;

	if (!recs)
		return;
	at_triage_init(&t, 0, 0);
	if (at_add_denials(&t, recs) != FB_OK)
		abort();
	q = at_query_successes(&t, 100, &n, &left);
	for (const char *p = q; p && *p; p++)
		pipes += *p == '|';
	if (q && (pipes != 3 || !n))
		abort();
	free(q);
	at_add_successes(&t, recs);
	(void)at_decide(&t, &S);
	src = at_report_sources(&t, 3);
	if (src && cJSON_GetArraySize(src) > 3)
		abort();
	cJSON_Delete(src);
	at_triage_cleanup(&t);
	cJSON_Delete(recs);
}

static void stage_events(const char *s)
{
	cJSON *j = cJSON_Parse(s), *arr, *more = NULL;
	struct at_triage t;
	const char *worst;

	if (!j)
		return;
	at_triage_init(&t, 0, 0);
	if (at_add_events(&t, j) != FB_OK)
		abort();
	worst = at_decide(&t, &S);
	if (t.n && (strlen(worst) != 2 || worst[0] != 'P'))
		abort();
	for (size_t i = 0; i < t.n; i++)
		if (t.g[i].sev[0] != 'P' || !t.g[i].reason[0] || t.g[i].denied < 1)
			abort();
	arr = at_report(&t, 3, &more);
	if (!arr || cJSON_GetArraySize(arr) > 3)
		abort();
	cJSON_Delete(arr);
	cJSON_Delete(more);
	at_triage_cleanup(&t);
	stage_insights(j);
	cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (!ready) {
		at_settings_default(&S);
		snprintf(S.noisy, sizeof(S.noisy), "%s", "arn:aws:iam::*:user/scanner-*");
		ready = 1;
	}
	if (size < 1)
		return 0;
	s = fuzz_strndup(data + 1, size - 1);
	if (data[0] % 2 == 0)
		stage_event(s, size - 1);
	else
		stage_events(s);
	free(s);
	return 0;
}
