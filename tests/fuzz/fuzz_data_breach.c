/*
 * fuzz_data_breach: data-breach's pure stages (functions/data-breach/
 * stages.c, declared in data_breach.h). The first byte picks the stage:
 *   0 the event text -> db_parse (CloudWatch alarm via EventBridge, manual);
 *   1 a GetMetricStatistics Datapoints array -> db_spike_measure, then the
 *     GDPR draft db_gdpr_record over it;
 *   2 DescribeTable / DescribeContinuousBackups / ListBackups answers ->
 *     db_stream_state, db_pitr_on, db_backup_exists, db_backup_name;
 *   3 a table's resource policy (GetResourcePolicy's Policy) ->
 *     db_policy_merge for a role: a result parses, is within 20 KB and
 *     keeps every prior statement (one more at most);
 *   4 a CloudTrail record / Events array -> db_ct_access (a table it names
 *     is a valid name, a principal a valid ARN), db_bulk_reads, and the
 *     FIREBREAK_DB_DEADLINES parser over the same text.
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
	/* a finding may name no table (CloudTrail says, later), never a bad one;
	 * one that is acted on names its access key */
	if (!ev.skip[0] && !(ev.source == DB_SRC_GUARDDUTY && !ev.table[0]) && !db_table_name_ok(ev.table))
		abort();
	if (!ev.skip[0] && ev.source == DB_SRC_GUARDDUTY && strlen(ev.gd.access_key) < 16)
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
	if (rec) {
		char *txt = db_gdpr_text(rec);

		if (txt && !strstr(txt, "(c) Likely consequences: unknown"))
			abort();
		free(txt);
	}
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

#define FZ_TABLE "arn:aws:dynamodb:us-east-1:123456789012:table/orders"

static int statements(const char *doc)
{
	cJSON *j = cJSON_Parse(doc), *st;
	int n = -1;

	if (cJSON_IsObject(j)) {
		st = cJSON_GetObjectItemCaseSensitive(j, "Statement");
		n = cJSON_IsArray(st) ? cJSON_GetArraySize(st) : cJSON_IsObject(st) ? 1 : -1;
	}
	cJSON_Delete(j);
	return n;
}

static void fuzz_policy(const char *s, size_t n)
{
	char *out = NULL, why[200] = "";
	int k, before = statements(s), after;

	(void)n;
	k = db_policy_merge(s, FZ_TABLE, "arn:aws:iam::123456789012:role/p/r", &out, why, sizeof(why));
	if (k == 1) {
		after = out ? statements(out) : -1;
		if (!out || strlen(out) > DB_POLICY_MAX || after < 1 || (before >= 0 && after != before && after != before + 1))
			abort();
		/* merged again: already */
		{
			char *again = NULL;

			if (db_policy_merge(out, FZ_TABLE, "arn:aws:iam::123456789012:role/r", &again, why, sizeof(why)) != 0)
				abort();
			free(again);
		}
	} else if (k == 0 ? out != NULL : (k != -1 || out != NULL || !why[0])) {
		abort();
	}
	free(out);
}

static void fuzz_record(const char *s, size_t n)
{
	cJSON *j = cJSON_ParseWithLength(s, n), *bulk = cJSON_CreateArray();
	struct db_finding f;
	struct db_access a;
	struct db_deadline dl[DB_MAX_DEADLINES];
	size_t nd = 0, i;
	char err[200];

	memset(&f, 0, sizeof(f));
	snprintf(f.access_key, sizeof(f.access_key), "ASIARZOOKWPXR24HLMYM");
	if (db_ct_access(j, &f, "123456789012", &a) == 1) {
		if (!db_table_name_ok(a.table) || (a.principal[0] && !db_principal_ok(a.principal)))
			abort();
	}
	(void)db_bulk_reads(j, j, 0, bulk);
	cJSON_Delete(bulk);
	cJSON_Delete(j);
	if (db_deadlines_parse(s, dl, DB_MAX_DEADLINES, &nd, err, sizeof(err)) == FB_OK) {
		if (nd > DB_MAX_DEADLINES)
			abort();
		for (i = 0; i < nd; i++)
			if (dl[i].hours < 1 || dl[i].hours > 8760 || !dl[i].regime[0])
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1 || size > RESP_MAX_EVENT_BYTES + 2)
		return 0;
	s = fuzz_strndup(data + 1, size - 1);
	switch (data[0] % 5) {
	case 0:
		fuzz_event(s, size - 1);
		break;
	case 1:
		fuzz_points(s, size - 1);
		break;
	case 2:
		fuzz_state(s, size - 1);
		break;
	case 3:
		fuzz_policy(s, size - 1);
		break;
	default:
		fuzz_record(s, size - 1);
		break;
	}
	free(s);
	return 0;
}
