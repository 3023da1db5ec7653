/*
 * data-breach stages: the decisions, pure (no AWS), unit-tested in
 * tests/unit/test_data_breach.c. data_breach.h says what each one decides.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_breach.h"
#include "buf.h"
#include "cloudtrail.h"
#include "field.h"
#include "kit.h"
#include "resp.h"

int db_table_name_ok(const char *name)
{
	return field_name_ok(name, 3, 255, "a-zA-Z0-9_.-");
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

		if (!buf_copy_id(buf, sizeof(buf), ref)) {
			field_why(why, whylen, "table ARN too long");
			return -1;
		}
		for (i = 0; i < 5; i++) {
			char *c = strchr(p, ':');
			if (!c) {
				field_why(why, whylen, "table ARN does not parse");
				return -1;
			}
			*c = 0;
			f[i] = p;
			p = c + 1;
		}
		f[5] = p;
		if (strcmp(f[2], "dynamodb") || strncmp(f[5], "table/", 6) || strchr(f[5] + 6, '/')) {
			field_why(why, whylen, "not a DynamoDB table ARN "
				  "(arn:<partition>:dynamodb:<region>:<account>:table/<name>)");
			return -1;
		}
		if (!resp_account_id_ok(f[4]) || !resp_region_name_ok(f[3])) {
			field_why(why, whylen, "table ARN: bad account or region");
			return -1;
		}
		snprintf(ev->account, sizeof(ev->account), "%s", f[4]);
		snprintf(ev->region, sizeof(ev->region), "%s", f[3]);
		ref = ref + (size_t)(f[5] - buf) + 6;
	}
	if (!db_table_name_ok(ref)) {
		field_why(why, whylen, "table name must be 3-255 characters of A-Z a-z 0-9 _ . -");
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
		field_why(why, whylen, "alarm event without configuration.metrics");
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
			field_why(why, whylen, "alarm metric is not an AWS/DynamoDB metric with a TableName dimension");
			return -1;
		}
		if (found && strcmp(ev->table, t)) {
			field_why(why, whylen, "alarm metrics name more than one table");
			return -1;
		}
		if (!db_table_name_ok(t)) {
			field_why(why, whylen, "alarm TableName is not a valid table name");
			return -1;
		}
		snprintf(ev->table, sizeof(ev->table), "%s", t);
		found = 1;
	}
	if (!found) {
		field_why(why, whylen, "alarm names no table");
		return -1;
	}
	return 0;
}


int db_data_api(const char *api)
{
	static const char *const apis[] = {
		"Scan", "Query", "GetItem", "BatchGetItem", "TransactGetItems", "ExecuteStatement",
		"BatchExecuteStatement", "ExecuteTransaction", "ExportTableToPointInTime",
		"RestoreTableToPointInTime", "RestoreTableFromBackup",
	};
	size_t i;

	for (i = 0; api && i < sizeof(apis) / sizeof(apis[0]); i++)
		if (strcmp(api, apis[i]) == 0)
			return 1;
	return 0;
}

static void add_api(struct db_finding *f, const char *api, size_t n)
{
	char name[64];
	size_t have = strlen(f->apis);

	if (n == 0 || n >= sizeof(name))
		return;
	memcpy(name, api, n);
	name[n] = 0;
	if (!db_data_api(name))
		return;
	/* each once */
	{
		const char *p = f->apis;

		while ((p = strstr(p, name))) {
			if ((p == f->apis || p[-1] == ',') && (p[n] == 0 || p[n] == ','))
				return;
			p += n;
		}
	}
	if (have + n + 2 > sizeof(f->apis))
		return;
	snprintf(f->apis + have, sizeof(f->apis) - have, "%s%s", have ? "," : "", name);
}

#define DB_GD_SERVICE "dynamodb.amazonaws.com"

/* anomalousAPIs as GuardDuty writes it, a string: "dynamodb.amazonaws.com:
 * [Scan:success , Query:success] , iam.amazonaws.com:[...]"; or (other
 * renderings) an object {"dynamodb.amazonaws.com": ["Scan", ...]}. */
static void anomalous_apis(const cJSON *a, struct db_finding *f)
{
	if (cJSON_IsString(a)) {
		const char *p = strstr(a->valuestring, DB_GD_SERVICE ":[");
		const char *end;

		if (!p)
			return;
		p += strlen(DB_GD_SERVICE ":[");
		end = strchr(p, ']');
		if (!end)
			return;
		while (p < end) {
			const char *q = p;

			while (q < end && *q != ',')
				q++;
			{
				const char *b = p, *e = q, *c;

				while (b < e && *b == ' ')
					b++;
				for (c = b; c < e; c++)
					if (*c == ':') {
						e = c;
						break;
					}
				while (e > b && e[-1] == ' ')
					e--;
				add_api(f, b, (size_t)(e - b));
			}
			p = q + 1;
		}
	} else if (cJSON_IsObject(a)) {
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(a, DB_GD_SERVICE), *x;

		cJSON_ArrayForEach(x, l)
			if (cJSON_IsString(x))
				add_api(f, x->valuestring, strlen(x->valuestring));
	}
}

static int key_chars_ok(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s), i;

	if (n < min || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

/* principalId: "AIDA..." (user) or "AROA...:<session>" (role). */
static int principal_id_ok(const char *s)
{
	char head[129];
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);

	if (strlen(s) >= sizeof(head) || !printable_path(s) || n >= sizeof(head))
		return 0;
	memcpy(head, s, n);
	head[n] = 0;
	return key_chars_ok(head, 16, 128) && (!colon || colon[1]);
}

/* When the event's own time says it happened (ms; iso NULL or unreadable:
 * the envelope's "time", else 0). */
static int64_t time_or_envelope(const char *iso, const cJSON *root)
{
	int64_t ms = iso ? resp_parse_time_ms(iso) : 0;

	if (ms <= 0) {
		iso = resp_get_str(root, "time");
		ms = iso ? resp_parse_time_ms(iso) : 0;
	}
	return ms < 0 ? 0 : ms;
}

static enum fb_err parse_finding(const cJSON *root, double min_sev, struct db_event *ev,
				 char *why, size_t whylen)
{
	struct kit_gd_finding gd;
	struct db_finding *f = &ev->gd;
	const cJSON *akd, *call, *aff, *t;
	const char *s, *svc, *api;

	ev->source = DB_SRC_GUARDDUTY;
	if (kit_guardduty_finding(root, &gd, why, whylen))
		return FB_E_INVALID;
	f->severity = gd.severity;
	if (!buf_copy_id(f->id, sizeof(f->id), gd.id) || !buf_copy_id(f->type, sizeof(f->type), gd.type))
		return field_bad(why, whylen, "finding id or type too long");
	s = resp_get_str(gd.detail, "accountId");
	if (!s || !resp_account_id_ok(s))
		return field_bad(why, whylen, "finding without a 12-digit detail.accountId");
	snprintf(ev->account, sizeof(ev->account), "%s", s);
	s = resp_get_str(gd.detail, "region");
	if (!s)
		s = resp_get_str(root, "region");
	if (!s || !resp_region_name_ok(s))
		return field_bad(why, whylen, "finding without a valid region");
	snprintf(ev->region, sizeof(ev->region), "%s", s);
	/* awareness: when GuardDuty made the finding (a re-published update
	 * keeps its createdAt: the clock does not restart) */
	ev->detected_ms = time_or_envelope(resp_get_str(gd.detail, "createdAt"), root);
	s = resp_get_str(gd.detail, "service.eventFirstSeen");
	f->first_seen_ms = s ? resp_parse_time_ms(s) : 0;
	if (f->first_seen_ms < 0)
		f->first_seen_ms = 0;
	snprintf(ev->reason, sizeof(ev->reason), "GuardDuty %.120s severity %.1f",
		 f->type[0] ? f->type : "finding", f->severity);

	/* What it is about: DynamoDB data access by an access key. */
	call = resp_get(gd.detail, "service.action.awsApiCallAction");
	svc = resp_get_str(call, "serviceName");
	api = resp_get_str(call, "api");
	if (svc && strcmp(svc, DB_GD_SERVICE) == 0 && api)
		add_api(f, api, strlen(api));
	anomalous_apis(resp_get(gd.detail, "service.additionalInfo.anomalies.anomalousAPIs"), f);
	akd = cJSON_GetObjectItemCaseSensitive(gd.resource, "accessKeyDetails");
	if (!f->apis[0] || !cJSON_IsObject(akd)) {
		snprintf(ev->skip, sizeof(ev->skip), "finding %.80s is not DynamoDB data access by an access key",
			 f->type[0] ? f->type : "(no type)");
		return FB_OK;
	}
	s = resp_get_str(akd, "accessKeyId");
	if (!s || !key_chars_ok(s, 16, 128))
		return field_bad(why, whylen, "finding without a well-formed accessKeyDetails.accessKeyId");
	snprintf(f->access_key, sizeof(f->access_key), "%s", s);
	s = resp_get_str(akd, "principalId");
	if (s && *s) {
		if (!principal_id_ok(s))
			return field_bad(why, whylen, "finding's accessKeyDetails.principalId is not well-formed");
		snprintf(f->principal_id, sizeof(f->principal_id), "%s", s);
	}
	copy_printable(f->user_type, sizeof(f->user_type), resp_get_str(akd, "userType"));
	copy_printable(f->user_name, sizeof(f->user_name), resp_get_str(akd, "userName"));
	/* The table, when the finding names one (checked like a manual one). */
	aff = resp_get(call, "affectedResources");
	t = cJSON_GetObjectItemCaseSensitive(aff, "AWS::DynamoDB::Table");
	if (t) {
		char acct[16];

		if (!cJSON_IsString(t))
			return field_bad(why, whylen, "affectedResources AWS::DynamoDB::Table must be a string");
		snprintf(acct, sizeof(acct), "%s", ev->account);
		if (table_ref(t->valuestring, ev, why, whylen))
			return FB_E_INVALID;
		if (strcmp(acct, ev->account))
			return field_bad(why, whylen, "the finding's table ARN is in another account than the finding");
	}
	/* below the gate: reported, nothing done */
	kit_severity_below(f->severity, min_sev, ev->skip, sizeof(ev->skip));
	return FB_OK;
}

static const char *rec_table(const cJSON *rec)
{
	const char *s = resp_get_str(rec, "requestParameters.tableName");
	const cJSON *r;

	if (!s)
		s = resp_get_str(rec, "requestParameters.tableArn");
	if (!s)
		s = resp_get_str(rec, "requestParameters.sourceTableName");
	if (s)
		return s;
	cJSON_ArrayForEach(r, resp_get(rec, "resources")) {
		const char *ty = resp_get_str(r, "type"), *a = resp_get_str(r, "ARN");

		if (ty && a && strcmp(ty, "AWS::DynamoDB::Table") == 0)
			return a;
	}
	return NULL;
}

int db_ct_access(const cJSON *rec, const struct db_finding *f, const char *account, struct db_access *out)
{
	const char *s, *type, *arn;
	struct db_event tmp;
	char why[80];

	memset(out, 0, sizeof(*out));
	s = resp_get_str(rec, "eventSource");
	if (!s || strcmp(s, DB_GD_SERVICE))
		return 0;
	s = resp_get_str(rec, "userIdentity.accessKeyId");
	if (!s || !f->access_key[0] || strcmp(s, f->access_key))
		return 0;
	if (f->principal_id[0]) {
		s = resp_get_str(rec, "userIdentity.principalId");
		if (!s || strcmp(s, f->principal_id))
			return 0;
	}
	s = resp_get_str(rec, "recipientAccountId");
	if (!s || !account || strcmp(s, account))
		return 0;
	s = rec_table(rec);
	memset(&tmp, 0, sizeof(tmp));
	if (!s || table_ref(s, &tmp, why, sizeof(why)))
		return 0;
	if (tmp.account[0] && strcmp(tmp.account, account))
		return 0;
	snprintf(out->table, sizeof(out->table), "%s", tmp.table);
	copy_printable(out->event, sizeof(out->event), resp_get_str(rec, "eventName"));
	type = resp_get_str(rec, "userIdentity.type");
	if (type && strcmp(type, "IAMUser") == 0) {
		arn = resp_get_str(rec, "userIdentity.arn");
		if (arn && db_principal_ok(arn) && strstr(arn, ":iam::") && strstr(arn, ":user/"))
			snprintf(out->principal, sizeof(out->principal), "%s", arn);
	} else if (type && strcmp(type, "AssumedRole") == 0) {
		arn = resp_get_str(rec, "userIdentity.sessionContext.sessionIssuer.arn");
		s = resp_get_str(rec, "userIdentity.sessionContext.sessionIssuer.type");
		if (arn && s && strcmp(s, "Role") == 0 && db_principal_ok(arn) && strstr(arn, ":role/")) {
			snprintf(out->principal, sizeof(out->principal), "%s", arn);
			out->is_role = 1;
		}
	}
	return 1;
}

enum fb_err db_parse(const char *event, size_t len, const char *alarm_prefix, double min_severity,
		     struct db_event *ev, char *why, size_t whylen)
{
	const cJSON *root, *v;
	const char *s;

	memset(ev, 0, sizeof(*ev));
	/* the one parser every responder uses: size, UTF-8, NULs, depth, trailing data */
	if (resp_parse_event(event, len, RESP_MAX_EVENT_BYTES, &ev->root, why, whylen) != FB_OK)
		return FB_E_INVALID;
	root = ev->root;
	s = resp_get_str(root, "source");
	if (s && strcmp(s, "aws.guardduty") == 0) {
		const char *dt = resp_get_str(root, "detail-type");

		if (!dt || strcmp(dt, "GuardDuty Finding"))
			return field_bad(why, whylen, "aws.guardduty event is not a GuardDuty Finding");
		return parse_finding(root, min_severity, ev, why, whylen);
	}
	if (s && strcmp(s, "aws.cloudwatch") == 0) {
		const cJSON *detail = cJSON_GetObjectItemCaseSensitive(root, "detail");
		const char *dt = resp_get_str(root, "detail-type"), *name, *state;

		if (!dt || strcmp(dt, "CloudWatch Alarm State Change") || !cJSON_IsObject(detail))
			return field_bad(why, whylen, "aws.cloudwatch event is not a CloudWatch Alarm State Change");
		ev->source = DB_SRC_ALARM;
		if (field_str(detail, "alarmName", NULL, ev->alarm, sizeof(ev->alarm)))
			return field_bad(why, whylen, "alarm event without a usable alarmName");
		name = ev->alarm;
		if (field_str(root, "account", resp_account_id_ok, ev->account, sizeof(ev->account)))
			return field_bad(why, whylen, "alarm event without a 12-digit account");
		if (field_str(root, "region", resp_region_name_ok, ev->region, sizeof(ev->region)))
			return field_bad(why, whylen, "alarm event without a valid region");
		/* state.timestamp is "...989+0000", not ISO-8601 Z; the
		 * envelope's time (same second) is the fallback */
		ev->detected_ms = time_or_envelope(resp_get_str(detail, "state.timestamp"), root);
		if (alarm_prefix && *alarm_prefix && strncmp(name, alarm_prefix, strlen(alarm_prefix))) {
			snprintf(ev->skip, sizeof(ev->skip), "alarm name does not start with the prefix '%.100s'",
				 alarm_prefix);
			return FB_OK;
		}
		state = resp_get_str(detail, "state.value");
		if (!state)
			return field_bad(why, whylen, "alarm event without state.value");
		if (alarm_table(detail, ev, why, whylen))
			return FB_E_INVALID;
		if (strcmp(state, "ALARM"))
			snprintf(ev->skip, sizeof(ev->skip), "alarm state is %.32s, not ALARM", state);
		return FB_OK;
	}
	if (s || cJSON_GetObjectItemCaseSensitive(root, "detail-type"))
		return field_bad(why, whylen, "unsupported event source (expected aws.cloudwatch, aws.guardduty or "
				 "the manual form)");
	v = cJSON_GetObjectItemCaseSensitive(root, "restore");
	if (v) {
		const char *t = resp_get_str(v, "table"), *to = resp_get_str(v, "to"), *tg = resp_get_str(v, "target");

		ev->source = DB_SRC_RESTORE;
		if (!cJSON_IsObject(v) || !t || !to || !tg)
			return field_bad(why, whylen, "\"restore\" needs string \"table\", \"to\" (ISO time) and "
					 "\"target\"");
		if (!db_table_name_ok(t) || !db_table_name_ok(tg))
			return field_bad(why, whylen, "restore: table names must be 3-255 characters of "
					 "A-Z a-z 0-9 _ . -");
		if (strcmp(t, tg) == 0)
			return field_bad(why, whylen, "restore: the target must be a new table, never the source");
		ev->restore_ms = resp_parse_time_ms(to);
		if (ev->restore_ms <= 0)
			return field_bad(why, whylen, "restore: \"to\" is not an ISO-8601 UTC time");
		snprintf(ev->table, sizeof(ev->table), "%s", t);
		snprintf(ev->target, sizeof(ev->target), "%s", tg);
		snprintf(ev->reason, sizeof(ev->reason), "restore");
		return FB_OK;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "table");
	if (!v)
		return field_bad(why, whylen, "expected a CloudWatch alarm event or {\"table\": \"<name or ARN>\"}");
	if (!cJSON_IsString(v))
		return field_bad(why, whylen, "\"table\" must be a string");
	ev->source = DB_SRC_MANUAL;
	if (table_ref(v->valuestring, ev, why, whylen))
		return FB_E_INVALID;
	v = cJSON_GetObjectItemCaseSensitive(root, "reason");
	if (v && !cJSON_IsString(v))
		return field_bad(why, whylen, "\"reason\" must be a string");
	copy_printable(ev->reason, sizeof(ev->reason), v ? v->valuestring : "manual");
	v = cJSON_GetObjectItemCaseSensitive(root, "principal");
	if (v) {
		if (!cJSON_IsString(v) || !db_principal_ok(v->valuestring))
			return field_bad(why, whylen, "\"principal\" must be an IAM user, role or assumed-role ARN");
		snprintf(ev->principal, sizeof(ev->principal), "%s", v->valuestring);
	}
	return FB_OK;
}

void db_event_cleanup(struct db_event *ev)
{
	if (ev)
		field_json_free(&ev->root);
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

enum fb_err db_deadlines_parse(const char *setting, struct db_deadline *out, size_t cap, size_t *n,
			       char *err, size_t errlen)
{
	const char *p = setting;
	char item[128];
	int rc;

	*n = 0;
	while (p && (rc = kit_list_next(&p, item, sizeof(item))) != 0) {
		char *eq, *end;
		long h;
		size_t i, rl;

		if (rc < 0 || *n >= cap) {
			snprintf(err, errlen, "setting 'FIREBREAK_DB_DEADLINES': %s",
				 rc < 0 ? "an item is too long" : "too many regimes");
			return FB_E_CONFIG;
		}
		eq = strrchr(item, '=');
		if (!eq) {
			snprintf(err, errlen, "setting 'FIREBREAK_DB_DEADLINES': '%.60s' is not <regime>=<hours>", item);
			return FB_E_CONFIG;
		}
		*eq = 0;
		rl = strlen(item);
		while (rl && item[rl - 1] == ' ')
			item[--rl] = 0;
		h = strtol(eq + 1, &end, 10);
		while (*end == ' ')
			end++;
		if (rl == 0 || rl > 80 || *end || end == eq + 1 || h < 1 || h > 8760) {
			snprintf(err, errlen, "setting 'FIREBREAK_DB_DEADLINES': '%.60s' needs a regime (1-80 characters) "
				 "and hours 1..8760", item);
			return FB_E_CONFIG;
		}
		for (i = 0; i < rl; i++)
			if ((unsigned char)item[i] < 0x20 || (unsigned char)item[i] > 0x7e || item[i] == '=') {
				snprintf(err, errlen, "setting 'FIREBREAK_DB_DEADLINES': regime names are printable ASCII");
				return FB_E_CONFIG;
			}
		snprintf(out[*n].regime, sizeof(out[*n].regime), "%s", item);
		out[*n].hours = (int)h;
		(*n)++;
	}
	return FB_OK;
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
	for (size_t i = 0; dl && i < in->n_deadlines; i++) {
		cJSON *d = cJSON_CreateObject();

		resp_format_time_ms(in->aware_ms + (int64_t)in->deadlines[i].hours * 3600 * 1000, t);
		cJSON_AddStringToObject(d, "regime", in->deadlines[i].regime);
		cJSON_AddNumberToObject(d, "hours", in->deadlines[i].hours);
		cJSON_AddStringToObject(d, "due", t);
		cJSON_AddItemToArray(dl, d);
	}
	add_field(o, "suspectedPrincipal", in->principal);
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
	add_field(a33, "dpoContact", in->dpo);
	cJSON_AddStringToObject(a33, "likelyConsequences", "unknown");
	if (in->measures && cJSON_GetArraySize(in->measures) > 0)
		cJSON_AddItemToObject(a33, "measuresTaken", cJSON_Duplicate(in->measures, 1));
	else
		cJSON_AddStringToObject(a33, "measuresTaken", "unknown");
	/* (d) also asks for the measures proposed: a human's to write */
	cJSON_AddStringToObject(a33, "measuresProposed", "unknown");
	cJSON_AddStringToObject(o, "phasing", "Art. 33(4): what is unknown now may be provided in phases, "
				"without undue further delay");
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

/* The DPO's text (runtime/buf), `failed` once an append did not fit. Its
 * cap is far above any record: the record is drawn from one report. */
#define DB_TEXT_MAX (4u * 1024u * 1024u)
struct db_text {
	struct buf b;
	int failed;
};

static void text_add(struct db_text *t, const char *s)
{
	t->failed |= buf_puts(&t->b, s) != FB_OK;
}

/* One line "label: value" per field; value "unknown" when absent. */
static void text_line(struct db_text *t, const char *label, const char *value)
{
	t->failed |= buf_printf(&t->b, "%s: %s\n", label, value && *value ? value : "unknown") != FB_OK;
}

char *db_gdpr_text(const cJSON *rec)
{
	static const struct { const char *key, *label; } a33[] = {
		{ "nature", "(a) Nature of the breach" },
		{ "dataCategories", "(a) Categories of personal data" },
		{ "approxDataSubjects", "(a) Approximate number of data subjects" },
		{ "approxRecords", "(a) Approximate number of records" },
		{ "dpoContact", "(b) DPO / contact point" },
		{ "likelyConsequences", "(c) Likely consequences" },
		{ "measuresProposed", "(d) Measures proposed" },
	};
	struct db_text t = { .failed = 0 };
	const cJSON *x, *m;
	size_t i;
	char line[600];

	buf_init(&t.b, DB_TEXT_MAX);
	text_add(&t, "PERSONAL DATA BREACH RECORD (GDPR Art. 33) - ");
	text_line(&t, "status", resp_get_str(rec, "status"));
	text_line(&t, "Incident", resp_get_str(rec, "incident"));
	text_line(&t, "Aware since (UTC)", resp_get_str(rec, "awareTime"));
	text_line(&t, "Detection source", resp_get_str(rec, "detectionSource"));
	text_line(&t, "Table", resp_get_str(rec, "table"));
	text_line(&t, "Suspected principal", resp_get_str(rec, "suspectedPrincipal"));
	text_add(&t, "\nDEADLINES\n");
	cJSON_ArrayForEach(x, resp_get(rec, "deadlines")) {
		const cJSON *h = resp_get(x, "hours");

		snprintf(line, sizeof(line), "- %s (%d h): due %s\n", resp_get_str(x, "regime") ?
			 resp_get_str(x, "regime") : "unknown", cJSON_IsNumber(h) ? h->valueint : 0,
			 resp_get_str(x, "due") ? resp_get_str(x, "due") : "unknown");
		text_add(&t, line);
	}
	text_add(&t, "\nARTICLE 33(3)\n");
	for (i = 0; i < sizeof(a33) / sizeof(a33[0]); i++)
		text_line(&t, a33[i].label, resp_get_str(resp_get(rec, "article33"), a33[i].key));
	m = resp_get(rec, "article33.measuresTaken");
	if (cJSON_IsArray(m) && cJSON_GetArraySize(m) > 0) {
		text_add(&t, "(d) Measures taken:\n");
		cJSON_ArrayForEach(x, m) {
			snprintf(line, sizeof(line), "- %s: %s%s%s\n", resp_get_str(x, "step") ? resp_get_str(x, "step") : "?",
				 resp_get_str(x, "status") ? resp_get_str(x, "status") : "?",
				 resp_get_str(x, "detail") ? " - " : "",
				 resp_get_str(x, "detail") ? resp_get_str(x, "detail") : "");
			text_add(&t, line);
		}
	} else {
		text_line(&t, "(d) Measures taken", NULL);
	}
	text_add(&t, "\n");
	text_line(&t, "Note", resp_get_str(rec, "phasing"));
	if (t.failed) {
		buf_cleanup(&t.b);
		return NULL;
	}
	return buf_detach(&t.b, NULL);
}

/* ---- bulk reads in the window --------------------------------------------- */

static int64_t export_ms(const char *arn)
{
	const char *p = arn ? strstr(arn, "/export/") : NULL;
	char *end;
	long long v;

	if (!p)
		return -1;
	v = strtoll(p + 8, &end, 10);
	if (end == p + 8 || (*end && *end != '-') || v <= 0)
		return -1;
	return (int64_t)v;
}

int db_bulk_reads(const cJSON *summaries, const cJSON *events, int64_t since_ms, cJSON *out)
{
	const cJSON *x;
	int n = 0;
	char t[RESP_TIME_LEN];

	cJSON_ArrayForEach(x, summaries) {
		const char *arn = resp_get_str(x, "ExportArn");
		int64_t ms = export_ms(arn);
		cJSON *o;

		/* an ARN without its time: kept (cannot tell it is older) */
		if (!arn || (ms > 0 && ms < since_ms))
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "kind", "export");
		cJSON_AddStringToObject(o, "arn", arn);
		if (resp_get_str(x, "ExportStatus"))
			cJSON_AddStringToObject(o, "status", resp_get_str(x, "ExportStatus"));
		if (ms > 0) {
			resp_format_time_ms(ms, t);
			cJSON_AddStringToObject(o, "time", t);
		}
		cJSON_AddStringToObject(o, "source", "dynamodb:ListExports");
		cJSON_AddItemToArray(out, o);
		n++;
	}
	cJSON_ArrayForEach(x, events) {
		const char *name = resp_get_str(x, "EventName");
		cJSON *rec, *o;
		const char *v;

		if (!name || (strcmp(name, "ExportTableToPointInTime") && strcmp(name, "Scan")))
			continue;
		rec = ct_event_detail(x);
		if (rec && resp_get_str(rec, "errorCode")) {
			cJSON_Delete(rec);
			continue; /* refused: nothing was copied */
		}
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "kind", strcmp(name, "Scan") ? "export" : "scan");
		cJSON_AddStringToObject(o, "source", "cloudtrail");
		if ((v = resp_get_str(rec, "eventTime")))
			cJSON_AddStringToObject(o, "time", v);
		if ((v = resp_get_str(rec, "userIdentity.arn")))
			cJSON_AddStringToObject(o, "by", v);
		if ((v = resp_get_str(rec, "requestParameters.s3Bucket")))
			cJSON_AddStringToObject(o, "s3Bucket", v);
		if ((v = resp_get_str(rec, "requestParameters.s3BucketOwner")))
			cJSON_AddStringToObject(o, "s3BucketOwner", v);
		if ((v = resp_get_str(rec, "responseElements.exportDescription.exportArn")))
			cJSON_AddStringToObject(o, "arn", v);
		cJSON_Delete(rec);
		cJSON_AddItemToArray(out, o);
		n++;
	}
	return n;
}

/* ---- containment -------------------------------------------------------- */

/* account and role name of a role / assumed-role ARN; 1 when it is one */
static int role_of(const char *arn, char *part, size_t plen, char *acct, char *name, size_t nlen)
{
	const char *p, *a, *r;
	size_t i;

	if (!db_principal_ok(arn))
		return 0;
	p = strchr(arn + 4, ':');           /* after the partition */
	snprintf(part, plen, "%.*s", (int)(p - arn - 4), arn + 4);
	a = strstr(p, "::");
	if (!a)
		return 0;
	a += 2;
	for (i = 0; i < 12; i++)
		acct[i] = a[i];
	acct[12] = 0;
	r = a + 13;
	if (strncmp(r, "role/", 5) == 0) {
		const char *last = strrchr(r, '/');

		snprintf(name, nlen, "%s", last + 1);
		return name[0] != 0;
	}
	if (strncmp(r, "assumed-role/", 13) == 0) {
		const char *e = strchr(r + 13, '/');

		if (!e)
			return 0;
		snprintf(name, nlen, "%.*s", (int)(e - r - 13), r + 13);
		return name[0] != 0;
	}
	return 0;
}

cJSON *db_principal_patterns(const char *principal)
{
	char part[16], acct[13], name[200], buf[600];
	cJSON *a;

	if (!db_principal_ok(principal) || strpbrk(principal, "*?"))
		return NULL;
	a = cJSON_CreateArray();
	if (!a)
		return NULL;
	if (role_of(principal, part, sizeof(part), acct, name, sizeof(name))) {
		snprintf(buf, sizeof(buf), "arn:%s:iam::%s:role/%s", part, acct, name);
		cJSON_AddItemToArray(a, cJSON_CreateString(buf));
		snprintf(buf, sizeof(buf), "arn:%s:iam::%s:role/*/%s", part, acct, name);
		cJSON_AddItemToArray(a, cJSON_CreateString(buf));
	} else {
		cJSON_AddItemToArray(a, cJSON_CreateString(principal));
	}
	return a;
}

int db_principal_protected(const char *principal, const char *caller_arn, const char *member_role,
			   char *why, size_t whylen)
{
	char p1[16], a1[13], n1[200], p2[16], a2[13], n2[200];

	if (!role_of(principal, p1, sizeof(p1), a1, n1, sizeof(n1)))
		return 0;
	if (caller_arn && role_of(caller_arn, p2, sizeof(p2), a2, n2, sizeof(n2)) && strcmp(a1, a2) == 0 &&
	    strcmp(n1, n2) == 0) {
		field_why(why, whylen, "the function's own role: never denied");
		return 1;
	}
	if (member_role && *member_role && strcmp(n1, member_role) == 0) {
		field_why(why, whylen, "the member role firebreak acts through: never denied");
		return 1;
	}
	return 0;
}

static int str_in(const cJSON *arr, const char *s)
{
	const cJSON *x;

	if (cJSON_IsString(arr))
		return strcmp(arr->valuestring, s) == 0;
	cJSON_ArrayForEach(x, arr)
		if (cJSON_IsString(x) && strcmp(x->valuestring, s) == 0)
			return 1;
	return 0;
}

/* exactly firebreak's shape (any Sid): the patterns list returned, else NULL */
static cJSON *our_patterns(cJSON *st, const char *table_arn)
{
	cJSON *c, *pa;
	const cJSON *pr;
	char idx[600];
	int nkeys = 0;

	cJSON_ArrayForEach(c, st)
		nkeys++;
	snprintf(idx, sizeof(idx), "%s/index/*", table_arn);
	pr = resp_get(st, "Principal.AWS");
	if (nkeys != 6 || !cJSON_IsString(resp_get(st, "Sid")) || !resp_get_str(st, "Effect") ||
	    strcmp(resp_get_str(st, "Effect"), "Deny") || !cJSON_IsObject(resp_get(st, "Principal")) ||
	    cJSON_GetArraySize(resp_get(st, "Principal")) != 1 || !cJSON_IsString(pr) ||
	    strcmp(pr->valuestring, "*") || !resp_get_str(st, "Action") ||
	    strcmp(resp_get_str(st, "Action"), "dynamodb:*") || !cJSON_IsArray(resp_get(st, "Resource")) ||
	    cJSON_GetArraySize(resp_get(st, "Resource")) != 2 || !str_in(resp_get(st, "Resource"), table_arn) ||
	    !str_in(resp_get(st, "Resource"), idx))
		return NULL;
	c = cJSON_GetObjectItemCaseSensitive(st, "Condition");
	if (!cJSON_IsObject(c) || cJSON_GetArraySize(c) != 1)
		return NULL;
	c = cJSON_GetObjectItemCaseSensitive(c, "ArnLike");
	if (!cJSON_IsObject(c) || cJSON_GetArraySize(c) != 1)
		return NULL;
	pa = cJSON_GetObjectItemCaseSensitive(c, "aws:PrincipalArn");
	return cJSON_IsArray(pa) ? pa : NULL;
}

int db_policy_merge(const char *prior, const char *table_arn, const char *principal, char **out,
		    char *why, size_t whylen)
{
	cJSON *doc, *stmts, *st, *ours = NULL, *pats, *x;
	char idx[600], sid[64];
	int added = 0, n = 0;

	*out = NULL;
	pats = db_principal_patterns(principal);
	if (!pats) {
		field_why(why, whylen, "the principal cannot be named in a policy");
		return -1;
	}
	if (prior) {
		doc = cJSON_Parse(prior);
		if (!cJSON_IsObject(doc)) {
			cJSON_Delete(doc);
			cJSON_Delete(pats);
			field_why(why, whylen, "the table's resource policy is not a JSON object");
			return -1;
		}
		stmts = cJSON_GetObjectItemCaseSensitive(doc, "Statement");
		if (cJSON_IsObject(stmts)) {
			/* one statement as an object: the same policy as a list of one */
			cJSON *one = cJSON_DetachItemViaPointer(doc, stmts);

			stmts = cJSON_AddArrayToObject(doc, "Statement");
			cJSON_AddItemToArray(stmts, one);
		}
		if (!cJSON_IsArray(stmts)) {
			cJSON_Delete(doc);
			cJSON_Delete(pats);
			field_why(why, whylen, "the table's resource policy has no Statement list");
			return -1;
		}
	} else {
		doc = cJSON_CreateObject();
		cJSON_AddStringToObject(doc, "Version", "2012-10-17");
		stmts = cJSON_AddArrayToObject(doc, "Statement");
	}
	cJSON_ArrayForEach(st, stmts)
		if (!ours && (ours = our_patterns(st, table_arn)) != NULL)
			break;
	if (!ours) {
		/* a Sid of our own that no statement has */
		snprintf(sid, sizeof(sid), "%s", DB_DENY_SID);
		for (;;) {
			int taken = 0;

			cJSON_ArrayForEach(st, stmts)
				if (resp_get_str(st, "Sid") && strcmp(resp_get_str(st, "Sid"), sid) == 0)
					taken = 1;
			if (!taken)
				break;
			snprintf(sid, sizeof(sid), "%s%d", DB_DENY_SID, ++n);
		}
		snprintf(idx, sizeof(idx), "%s/index/*", table_arn);
		st = cJSON_CreateObject();
		cJSON_AddStringToObject(st, "Sid", sid);
		cJSON_AddStringToObject(st, "Effect", "Deny");
		cJSON_AddStringToObject(cJSON_AddObjectToObject(st, "Principal"), "AWS", "*");
		cJSON_AddStringToObject(st, "Action", "dynamodb:*");
		x = cJSON_AddArrayToObject(st, "Resource");
		cJSON_AddItemToArray(x, cJSON_CreateString(table_arn));
		cJSON_AddItemToArray(x, cJSON_CreateString(idx));
		ours = cJSON_AddArrayToObject(cJSON_AddObjectToObject(cJSON_AddObjectToObject(st, "Condition"),
									 "ArnLike"), "aws:PrincipalArn");
		cJSON_AddItemToArray(stmts, st);
	}
	cJSON_ArrayForEach(x, pats)
		if (!str_in(ours, x->valuestring)) {
			cJSON_AddItemToArray(ours, cJSON_CreateString(x->valuestring));
			added++;
		}
	cJSON_Delete(pats);
	if (!added) {
		cJSON_Delete(doc);
		return 0;
	}
	*out = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	if (!*out) {
		field_why(why, whylen, "out of memory");
		return -1;
	}
	if (strlen(*out) > DB_POLICY_MAX) {
		free(*out);
		*out = NULL;
		field_why(why, whylen, "the merged policy would pass DynamoDB's 20 KB limit");
		return -1;
	}
	return 1;
}
