/*
 * data-breach stages: the decisions, pure (no AWS), unit-tested in
 * tests/unit/test_data_breach.c. data_breach.h says what each one decides.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_breach.h"
#include "resp.h"

static void set_why(char *why, size_t whylen, const char *msg)
{
	if (why && whylen)
		snprintf(why, whylen, "%s", msg);
}

static int copy_str(char *dst, size_t cap, const char *src)
{
	size_t n;

	if (!src)
		return -1;
	n = strlen(src);
	if (n >= cap)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

int db_table_name_ok(const char *name)
{
	size_t n, i;

	if (!name)
		return 0;
	n = strlen(name);
	if (n < 3 || n > 255)
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

static int printable_path(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

int db_principal_ok(const char *arn)
{
	const char *p, *acct;
	size_t i;
	int sts = 0;

	if (!arn || strncmp(arn, "arn:", 4) || strlen(arn) >= 512 || !printable_path(arn))
		return 0;
	p = arn + 4;
	if (strncmp(p, "aws:", 4) == 0)
		p += 4;
	else if (strncmp(p, "aws-cn:", 7) == 0)
		p += 7;
	else if (strncmp(p, "aws-us-gov:", 11) == 0)
		p += 11;
	else
		return 0;
	if (strncmp(p, "iam::", 5) == 0)
		acct = p + 5;
	else if (strncmp(p, "sts::", 5) == 0) {
		acct = p + 5;
		sts = 1;
	}
	else
		return 0;
	for (i = 0; i < 12; i++)
		if (acct[i] < '0' || acct[i] > '9')
			return 0;
	if (acct[12] != ':')
		return 0;
	p = acct + 13;
	if (sts)
		return strncmp(p, "assumed-role/", 13) == 0 && p[13] && strchr(p + 13, '/');
	return (strncmp(p, "user/", 5) == 0 && p[5]) || (strncmp(p, "role/", 5) == 0 && p[5]);
}

/* "<name>" or "arn:<partition>:dynamodb:<region>:<account>:table/<name>". */
static int table_ref(const char *ref, struct db_event *ev, char *why, size_t whylen)
{
	if (strncmp(ref, "arn:", 4) == 0) {
		char buf[600];
		char *f[6], *p = buf;
		int i;

		if (copy_str(buf, sizeof(buf), ref)) {
			set_why(why, whylen, "table ARN too long");
			return -1;
		}
		for (i = 0; i < 5; i++) {
			char *c = strchr(p, ':');
			if (!c) {
				set_why(why, whylen, "table ARN does not parse");
				return -1;
			}
			*c = 0;
			f[i] = p;
			p = c + 1;
		}
		f[5] = p;
		if (strcmp(f[2], "dynamodb") || strncmp(f[5], "table/", 6) || strchr(f[5] + 6, '/')) {
			set_why(why, whylen, "not a DynamoDB table ARN (arn:<partition>:dynamodb:<region>:<account>:table/<name>)");
			return -1;
		}
		if (!resp_account_id_ok(f[4]) || !resp_region_name_ok(f[3])) {
			set_why(why, whylen, "table ARN: bad account or region");
			return -1;
		}
		snprintf(ev->account, sizeof(ev->account), "%s", f[4]);
		snprintf(ev->region, sizeof(ev->region), "%s", f[3]);
		ref = ref + (size_t)(f[5] - buf) + 6;
	}
	if (!db_table_name_ok(ref)) {
		set_why(why, whylen, "table name must be 3-255 characters of A-Z a-z 0-9 _ . -");
		return -1;
	}
	snprintf(ev->table, sizeof(ev->table), "%s", ref);
	return 0;
}

static void copy_printable(char *dst, size_t cap, const char *src)
{
	size_t i = 0;

	for (; src && *src && i + 1 < cap; src++)
		dst[i++] = ((unsigned char)*src >= 0x20 && (unsigned char)*src < 0x7f) ? *src : '?';
	dst[i] = 0;
}

/* The table of an alarm: its single metric (detail.configuration.metrics
 * []. metricStat.metric) in AWS/DynamoDB with a TableName dimension. An
 * alarm over several metrics (metric math) must name one table in all. */
static int alarm_table(const cJSON *detail, struct db_event *ev, char *why, size_t whylen)
{
	const cJSON *metrics = resp_get(detail, "configuration.metrics"), *m;
	int found = 0;

	if (!cJSON_IsArray(metrics) || cJSON_GetArraySize(metrics) == 0) {
		set_why(why, whylen, "alarm event without configuration.metrics");
		return -1;
	}
	cJSON_ArrayForEach(m, metrics) {
		const cJSON *metric = resp_get(m, "metricStat.metric");
		const char *ns, *t;

		if (!metric)
			continue; /* a math expression: no table of its own */
		ns = resp_get_str(metric, "namespace");
		t = resp_get_str(metric, "dimensions.TableName");
		if (!ns || strcmp(ns, "AWS/DynamoDB") || !t) {
			set_why(why, whylen, "alarm metric is not an AWS/DynamoDB metric with a TableName dimension");
			return -1;
		}
		if (found && strcmp(ev->table, t)) {
			set_why(why, whylen, "alarm metrics name more than one table");
			return -1;
		}
		if (!db_table_name_ok(t)) {
			set_why(why, whylen, "alarm TableName is not a valid table name");
			return -1;
		}
		snprintf(ev->table, sizeof(ev->table), "%s", t);
		found = 1;
	}
	if (!found) {
		set_why(why, whylen, "alarm names no table");
		return -1;
	}
	return 0;
}

enum fb_err db_parse(const char *event, size_t len, const char *alarm_prefix,
		     struct db_event *ev, char *why, size_t whylen)
{
	const cJSON *root, *v;
	const char *s;

	memset(ev, 0, sizeof(*ev));
	if (!event || !len) {
		set_why(why, whylen, "empty event");
		return FB_E_INVALID;
	}
	/* the one parser every responder uses: size, UTF-8, NULs, depth, trailing data */
	if (resp_parse_event(event, len, RESP_MAX_EVENT_BYTES, &ev->root, why, whylen) != FB_OK)
		return FB_E_INVALID;
	root = ev->root;
	s = resp_get_str(root, "source");
	if (s && strcmp(s, "aws.cloudwatch") == 0) {
		const cJSON *detail = cJSON_GetObjectItemCaseSensitive(root, "detail");
		const char *dt = resp_get_str(root, "detail-type"), *name, *state, *t;

		if (!dt || strcmp(dt, "CloudWatch Alarm State Change") || !cJSON_IsObject(detail)) {
			set_why(why, whylen, "aws.cloudwatch event is not a CloudWatch Alarm State Change");
			return FB_E_INVALID;
		}
		ev->source = DB_SRC_ALARM;
		name = resp_get_str(detail, "alarmName");
		if (!name || copy_str(ev->alarm, sizeof(ev->alarm), name)) {
			set_why(why, whylen, "alarm event without a usable alarmName");
			return FB_E_INVALID;
		}
		s = resp_get_str(root, "account");
		if (!s || !resp_account_id_ok(s)) {
			set_why(why, whylen, "alarm event without a 12-digit account");
			return FB_E_INVALID;
		}
		snprintf(ev->account, sizeof(ev->account), "%s", s);
		s = resp_get_str(root, "region");
		if (!s || !resp_region_name_ok(s)) {
			set_why(why, whylen, "alarm event without a valid region");
			return FB_E_INVALID;
		}
		snprintf(ev->region, sizeof(ev->region), "%s", s);
		/* state.timestamp is "...989+0000", not ISO-8601 Z; the
		 * envelope's time (same second) is the fallback */
		t = resp_get_str(detail, "state.timestamp");
		ev->detected_ms = t ? resp_parse_time_ms(t) : 0;
		if (ev->detected_ms <= 0) {
			t = resp_get_str(root, "time");
			ev->detected_ms = t ? resp_parse_time_ms(t) : 0;
		}
		if (ev->detected_ms < 0)
			ev->detected_ms = 0;
		if (alarm_prefix && *alarm_prefix && strncmp(name, alarm_prefix, strlen(alarm_prefix))) {
			snprintf(ev->skip, sizeof(ev->skip), "alarm name does not start with the prefix '%.100s'",
				 alarm_prefix);
			return FB_OK;
		}
		state = resp_get_str(detail, "state.value");
		if (!state) {
			set_why(why, whylen, "alarm event without state.value");
			return FB_E_INVALID;
		}
		if (alarm_table(detail, ev, why, whylen))
			return FB_E_INVALID;
		if (strcmp(state, "ALARM"))
			snprintf(ev->skip, sizeof(ev->skip), "alarm state is %.32s, not ALARM", state);
		return FB_OK;
	}
	if (s || cJSON_GetObjectItemCaseSensitive(root, "detail-type")) {
		set_why(why, whylen, "unsupported event source (expected aws.cloudwatch or the manual form)");
		return FB_E_INVALID;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "restore");
	if (v) {
		const char *t = resp_get_str(v, "table"), *to = resp_get_str(v, "to"), *tg = resp_get_str(v, "target");

		ev->source = DB_SRC_RESTORE;
		if (!cJSON_IsObject(v) || !t || !to || !tg) {
			set_why(why, whylen, "\"restore\" needs string \"table\", \"to\" (ISO time) and \"target\"");
			return FB_E_INVALID;
		}
		if (!db_table_name_ok(t) || !db_table_name_ok(tg)) {
			set_why(why, whylen, "restore: table names must be 3-255 characters of A-Z a-z 0-9 _ . -");
			return FB_E_INVALID;
		}
		if (strcmp(t, tg) == 0) {
			set_why(why, whylen, "restore: the target must be a new table, never the source");
			return FB_E_INVALID;
		}
		ev->restore_ms = resp_parse_time_ms(to);
		if (ev->restore_ms <= 0) {
			set_why(why, whylen, "restore: \"to\" is not an ISO-8601 UTC time");
			return FB_E_INVALID;
		}
		snprintf(ev->table, sizeof(ev->table), "%s", t);
		snprintf(ev->target, sizeof(ev->target), "%s", tg);
		snprintf(ev->reason, sizeof(ev->reason), "restore");
		return FB_OK;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "table");
	if (!v) {
		set_why(why, whylen, "expected a CloudWatch alarm event or {\"table\": \"<name or ARN>\"}");
		return FB_E_INVALID;
	}
	if (!cJSON_IsString(v)) {
		set_why(why, whylen, "\"table\" must be a string");
		return FB_E_INVALID;
	}
	ev->source = DB_SRC_MANUAL;
	if (table_ref(v->valuestring, ev, why, whylen))
		return FB_E_INVALID;
	v = cJSON_GetObjectItemCaseSensitive(root, "reason");
	if (v && !cJSON_IsString(v)) {
		set_why(why, whylen, "\"reason\" must be a string");
		return FB_E_INVALID;
	}
	copy_printable(ev->reason, sizeof(ev->reason), v ? v->valuestring : "manual");
	v = cJSON_GetObjectItemCaseSensitive(root, "principal");
	if (v) {
		if (!cJSON_IsString(v) || !db_principal_ok(v->valuestring)) {
			set_why(why, whylen, "\"principal\" must be an IAM user, role or assumed-role ARN");
			return FB_E_INVALID;
		}
		snprintf(ev->principal, sizeof(ev->principal), "%s", v->valuestring);
	}
	return FB_OK;
}

void db_event_cleanup(struct db_event *ev)
{
	if (!ev)
		return;
	cJSON_Delete(ev->root);
	ev->root = NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int db_spike_measure(const cJSON *datapoints, struct db_spike *out)
{
	const cJSON *d;
	double v[64];
	const char *ts[64];
	int n = 0, i, peak_i = 0;
	double rest[64];
	int nrest = 0;

	memset(out, 0, sizeof(*out));
	cJSON_ArrayForEach(d, datapoints) {
		const cJSON *sum = cJSON_GetObjectItemCaseSensitive(d, "Sum");
		double x;

		if (n == 64)
			break; /* 24 hourly points are asked; more is not ours to read */
		if (cJSON_IsNumber(sum))
			x = sum->valuedouble;
		else if (cJSON_IsString(sum))
			x = strtod(sum->valuestring, NULL);
		else
			continue;
		if (!isfinite(x) || x < 0)
			continue;
		v[n] = x;
		ts[n] = resp_get_str(d, "Timestamp");
		n++;
	}
	out->n = n;
	if (n < 3)
		return 0;
	for (i = 1; i < n; i++)
		if (v[i] > v[peak_i])
			peak_i = i;
	for (i = 0; i < n; i++)
		if (i != peak_i)
			rest[nrest++] = v[i];
	qsort(rest, (size_t)nrest, sizeof(rest[0]), cmp_double);
	out->peak = v[peak_i];
	out->baseline = nrest % 2 ? rest[nrest / 2] : (rest[nrest / 2 - 1] + rest[nrest / 2]) / 2;
	if (out->baseline > 0)
		out->factor = out->peak / out->baseline;
	else
		out->factor = out->peak > 0 ? INFINITY : 0;
	snprintf(out->peak_at, sizeof(out->peak_at), "%s", ts[peak_i] ? ts[peak_i] : "");
	return 1;
}

int db_pitr_on(const cJSON *dcb)
{
	const char *s = resp_get_str(dcb, "ContinuousBackupsDescription.PointInTimeRecoveryDescription."
					  "PointInTimeRecoveryStatus");

	if (!s)
		return -1;
	return strcmp(s, "ENABLED") == 0;
}

int db_stream_state(const cJSON *dt)
{
	const cJSON *t = resp_get(dt, "Table"), *on;
	const char *view;

	if (!cJSON_IsObject(t))
		return -1;
	on = resp_get(t, "StreamSpecification.StreamEnabled");
	if (!cJSON_IsTrue(on))
		return 0;
	view = resp_get_str(t, "StreamSpecification.StreamViewType");
	return view && strcmp(view, "NEW_AND_OLD_IMAGES") == 0 ? 1 : 2;
}

void db_backup_name(const char *incident, char *out, size_t outlen)
{
	size_t i, n;

	if (!outlen)
		return;
	snprintf(out, outlen, "firebreak-%s", incident ? incident : "");
	n = strlen(out);
	if (n > 255)
		out[n = 255] = 0;
	for (i = 0; i < n; i++) {
		char c = out[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			out[i] = '-';
	}
}

int db_backup_exists(const cJSON *summaries, const char *name)
{
	const cJSON *b;

	cJSON_ArrayForEach(b, summaries) {
		const char *n = resp_get_str(b, "BackupName"), *st = resp_get_str(b, "BackupStatus");

		if (n && strcmp(n, name) == 0 && !(st && strcmp(st, "DELETED") == 0))
			return 1;
	}
	return 0;
}

int64_t db_gdpr_deadline_ms(int64_t aware_ms)
{
	return aware_ms + (int64_t)DB_GDPR_HOURS * 3600 * 1000;
}

static void add_field(cJSON *o, const char *key, const char *val)
{
	cJSON_AddStringToObject(o, key, val && *val ? val : "unknown");
}

cJSON *db_gdpr_record(const struct db_record_in *in)
{
	cJSON *o = cJSON_CreateObject(), *a33, *dl;
	char t[RESP_TIME_LEN], buf[512];

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "status",
				"DRAFT for a human (the controller's DPO): complete, check and send; "
				"nothing here was notified to anyone");
	cJSON_AddStringToObject(o, "incident", in->incident ? in->incident : "unknown");
	resp_format_time_ms(in->aware_ms, t);
	cJSON_AddStringToObject(o, "awareTime", t);
	add_field(o, "detectionSource", in->source);
	add_field(o, "table", in->table_arn);
	dl = cJSON_AddArrayToObject(o, "deadlines");
	if (dl) {
		cJSON *d = cJSON_CreateObject();
		resp_format_time_ms(db_gdpr_deadline_ms(in->aware_ms), t);
		cJSON_AddStringToObject(d, "regime", "GDPR Art. 33(1): notify the supervisory authority");
		cJSON_AddNumberToObject(d, "hours", DB_GDPR_HOURS);
		cJSON_AddStringToObject(d, "due", t);
		cJSON_AddItemToArray(dl, d);
	}
	a33 = cJSON_AddObjectToObject(o, "article33");
	if (!a33)
		goto fail;
	/* (a) nature: what the evidence says, no more */
	if (in->spike && in->spike->n >= 3 && in->spike->factor >= in->spike_threshold) {
		if (isinf(in->spike->factor))
			snprintf(buf, sizeof(buf), "suspected unauthorised access (confidentiality): bulk read of "
				 "%.0f read units in the hour of %s against a baseline of 0", in->spike->peak,
				 in->spike->peak_at);
		else
			snprintf(buf, sizeof(buf), "suspected unauthorised access (confidentiality): bulk read, "
				 "%.1fx the table's baseline (%.0f read units in the hour of %s)",
				 in->spike->factor, in->spike->peak, in->spike->peak_at);
	} else {
		snprintf(buf, sizeof(buf), "suspected unauthorised access (confidentiality) to the table; "
			 "no read spike measured above %.1fx", in->spike_threshold);
	}
	cJSON_AddStringToObject(a33, "nature", buf);
	add_field(a33, "dataCategories", in->categories);
	add_field(a33, "approxDataSubjects", in->subjects);
	if (in->item_count >= 0) {
		snprintf(buf, sizeof(buf), "up to %ld items (DescribeTable ItemCount, updated about every "
			 "6 hours), %ld bytes", in->item_count, in->size_bytes);
		cJSON_AddStringToObject(a33, "approxRecords", buf);
	} else {
		cJSON_AddStringToObject(a33, "approxRecords", "unknown");
	}
	cJSON_AddStringToObject(a33, "dpoContact", "unknown");
	cJSON_AddStringToObject(a33, "likelyConsequences", "unknown");
	if (in->measures)
		cJSON_AddItemToObject(a33, "measuresTaken", cJSON_Duplicate(in->measures, 1));
	else
		cJSON_AddStringToObject(a33, "measuresTaken", "unknown");
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}
