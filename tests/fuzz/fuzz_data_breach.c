/*
 * fuzz_data_breach: data-breach's pure stages (functions/data-breach/
 * stages.c, declared in data_breach.h). The first byte picks the stage:
 *   0 the event text -> db_parse (CloudWatch alarm via EventBridge, manual);
 *   1 a GetMetricStatistics Datapoints array -> db_spike_measure, then the
 *     GDPR draft db_gdpr_record over it;
 *   2 DescribeTable / DescribeContinuousBackups / ListBackups answers ->
 *     db_stream_state, db_pitr_on, db_backup_exists, db_backup_name.
 * Checks: a parsed table is a valid table name (nothing else reaches a
 * request), the account is 12 digits or empty, a principal is a valid IAM
 * ARN or empty, an invalid event says why and keeps nothing; the spike's
 * baseline is never above the peak; the draft always says DRAFT; the
 * backup name is a valid DynamoDB name.
 * FUZZ_SOURCES: functions/data-breach/stages.c
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_common.h"
#include "resp.h"
#include "../../functions/data-breach/data_breach.h"

static void fuzz_event(const char *s, size_t n)
{
	struct db_event ev;
	char why[300];
	enum fb_err rc;

	why[0] = '\0';
	rc = db_parse(s, n, DB_DEFAULT_ALARM_PREFIX, DB_DEFAULT_MIN_SEVERITY, &ev, why, sizeof(why));
	if (rc != FB_OK) {
		if (!why[0])
			abort();
		db_event_cleanup(&ev);
		return;
	}
	if (!ev.skip[0] && !db_table_name_ok(ev.table))
		abort();
	if (ev.account[0] && strlen(ev.account) != 12)
		abort();
	if (ev.principal[0] && !db_principal_ok(ev.principal))
		abort();
	if (!memchr(ev.skip, '\0', sizeof(ev.skip)) || !memchr(ev.reason, '\0', sizeof(ev.reason)))
		abort();
	db_event_cleanup(&ev);
}

static void fuzz_points(const char *s, size_t n)
{
	cJSON *j = cJSON_ParseWithLength(s, n), *rec;
	struct db_spike sp;
	struct db_record_in in;
	const char *st;

	if (db_spike_measure(j, &sp)) {
		if (sp.n < 3 || sp.baseline > sp.peak || sp.factor < 0 || isnan(sp.factor))
			abort();
	}
	memset(&in, 0, sizeof(in));
	in.incident = "fb-x";
	in.aware_ms = 1709287230000;
	in.item_count = (long)(n % 7) - 1;
	in.spike = &sp;
	in.spike_threshold = 5;
	in.measures = j;
	rec = db_gdpr_record(&in);
	st = resp_get_str(rec, "status");
	if (rec && (!st || !strstr(st, "DRAFT")))
		abort();
	cJSON_Delete(rec);
	cJSON_Delete(j);
}

static void fuzz_state(const char *s, size_t n)
{
	cJSON *j = cJSON_ParseWithLength(s, n);
	char name[300];
	int k;

	k = db_stream_state(j);
	if (k < -1 || k > 2)
		abort();
	k = db_pitr_on(j);
	if (k < -1 || k > 1)
		abort();
	(void)db_backup_exists(resp_get(j, "BackupSummaries"), "firebreak-x");
	db_backup_name(s, name, sizeof(name));
	if (strlen(name) > 255 || (strlen(name) >= 3 && !db_table_name_ok(name)))
		abort();
	cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1 || size > RESP_MAX_EVENT_BYTES + 2)
		return 0;
	s = fuzz_strndup(data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		fuzz_event(s, size - 1);
		break;
	case 1:
		fuzz_points(s, size - 1);
		break;
	default:
		fuzz_state(s, size - 1);
		break;
	}
	free(s);
	return 0;
}
