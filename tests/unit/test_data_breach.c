/*
 * data-breach stages (functions/data-breach/stages.c): table-driven, no AWS.
 * The "must not be usable as a weapon" cases: an event names a table and
 * nothing else (no crafted name or ARN gets through to a call), an alarm
 * that is not ours (prefix) or not in ALARM acts on nothing, an alarm on
 * another namespace or over two tables is refused, a principal must be a
 * well-formed IAM ARN, and the preserve decisions read the table's state,
 * never the event's claims (a Streams view type other than ours is never
 * disabled to change it).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include "../../functions/data-breach/stages.c"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static enum fb_err parse(const char *text, struct db_event *ev, char *why)
{
	return db_parse(text, strlen(text), DB_DEFAULT_ALARM_PREFIX, DB_DEFAULT_MIN_SEVERITY, ev, why, 300);
}

static void test_db__alarm_sample(void **state)
{
	char *text = slurp("events/data-breach/alarm-read-spike.json"), why[300] = "";
	struct db_event ev;

	(void)state;
	assert_non_null(text);
	assert_int_equal(parse(text, &ev, why), FB_OK);
	assert_int_equal(ev.source, DB_SRC_ALARM);
	assert_string_equal(ev.table, "orders");
	assert_string_equal(ev.account, "123456789012");
	assert_string_equal(ev.region, "us-east-1");
	assert_string_equal(ev.skip, "");
	/* state.timestamp ("...40.989+0000"), not the envelope time */
	assert_true(ev.detected_ms == resp_parse_time_ms("2019-10-02T17:04:40.989Z"));
	db_event_cleanup(&ev);
	free(text);
}

/* The published sample as AWS wrote it: an EC2 alarm, and not our prefix. */
static void test_db__alarm_not_ours(void **state)
{
	char *text = slurp("../shared/reference-events/cloudwatch-alarm-state-change-single-metric.eventbridge.json");
	char why[300] = "";
	struct db_event ev;

	(void)state;
	if (!text)
		text = slurp("/work/shared/reference-events/cloudwatch-alarm-state-change-single-metric.eventbridge.json");
	if (!text)
		skip();
	assert_int_equal(parse(text, &ev, why), FB_OK);
	assert_non_null(strstr(ev.skip, "prefix"));
	assert_string_equal(ev.table, "");
	db_event_cleanup(&ev);
	/* with the prefix matching, the EC2 metric is refused */
	assert_int_equal(db_parse(text, strlen(text), "Server", DB_DEFAULT_MIN_SEVERITY, &ev, why, sizeof(why)), FB_E_INVALID);
	assert_non_null(strstr(why, "AWS/DynamoDB"));
	db_event_cleanup(&ev);
	free(text);
}

#define ALARM(name, state, metrics) \
	"{\"source\":\"aws.cloudwatch\",\"detail-type\":\"CloudWatch Alarm State Change\"," \
	"\"account\":\"123456789012\",\"region\":\"eu-west-1\",\"time\":\"2026-12-07T01:00:00Z\"," \
	"\"detail\":{\"alarmName\":\"" name "\",\"state\":{\"value\":\"" state "\"}," \
	"\"configuration\":{\"metrics\":" metrics "}}}"
#define DDB(t) "{\"metricStat\":{\"metric\":{\"namespace\":\"AWS/DynamoDB\",\"name\":\"ConsumedReadCapacityUnits\"," \
	"\"dimensions\":{\"TableName\":\"" t "\"}}}}"

static void test_db__parse_rows(void **state)
{
	static const struct { const char *ev; enum fb_err rc; const char *table; const char *skip; } rows[] = {
		{ ALARM("firebreak-data-breach-x", "ALARM", "[" DDB("users") "]"), FB_OK, "users", "" },
		{ ALARM("firebreak-data-breach-x", "OK", "[" DDB("users") "]"), FB_OK, "users", "not ALARM" },
		{ ALARM("other-x", "ALARM", "[" DDB("users") "]"), FB_OK, "", "prefix" },
		{ ALARM("firebreak-data-breach-x", "ALARM", "[" DDB("users") "," DDB("orders") "]"), FB_E_INVALID, "", NULL },
		{ ALARM("firebreak-data-breach-x", "ALARM", "[" DDB("users") ",{\"id\":\"e1\",\"expression\":\"m1*2\"}]"), FB_OK, "users", "" },
		{ ALARM("firebreak-data-breach-x", "ALARM", "[{\"id\":\"e1\",\"expression\":\"1\"}]"), FB_E_INVALID, "", NULL },
		{ ALARM("firebreak-data-breach-x", "ALARM", "[" DDB("u/../../x") "]"), FB_E_INVALID, "", NULL },
		{ ALARM("firebreak-data-breach-x", "ALARM", "[]"), FB_E_INVALID, "", NULL },
		{ "{\"table\":\"orders\"}", FB_OK, "orders", "" },
		{ "{\"table\":\"arn:aws:dynamodb:eu-west-1:123456789012:table/orders\"}", FB_OK, "orders", "" },
		{ "{\"table\":\"arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/x\"}", FB_E_INVALID, "", NULL },
		{ "{\"table\":\"arn:aws:s3:::orders\"}", FB_E_INVALID, "", NULL },
		{ "{\"table\":\"arn:aws:dynamodb:eu-west-1:12345:table/orders\"}", FB_E_INVALID, "", NULL },
		{ "{\"table\":\"ab\"}", FB_E_INVALID, "", NULL },
		{ "{\"table\":\"a b c\"}", FB_E_INVALID, "", NULL },
		{ "{\"table\":7}", FB_E_INVALID, "", NULL },
		{ "{\"table\":\"orders\",\"principal\":\"arn:aws:iam::123456789012:user/bob\"}", FB_OK, "orders", "" },
		{ "{\"table\":\"orders\",\"principal\":\"arn:aws:sts::123456789012:assumed-role/r/s\"}", FB_OK, "orders", "" },
		{ "{\"table\":\"orders\",\"principal\":\"*\"}", FB_E_INVALID, "", NULL },
		{ "{\"table\":\"orders\",\"principal\":\"arn:aws:iam::123456789012:root\"}", FB_E_INVALID, "", NULL },
		{ "{\"table\":\"orders\",\"principal\":\"arn:aws:iam::*:user/x\"}", FB_E_INVALID, "", NULL },
		{ "{\"table\":\"orders\",\"reason\":5}", FB_E_INVALID, "", NULL },
		{ "{\"source\":\"aws.guardduty\",\"detail\":{}}", FB_E_INVALID, "", NULL },
		{ "{\"source\":\"aws.cloudwatch\",\"alarmData\":{}}", FB_E_INVALID, "", NULL },
		{ "[1]", FB_E_INVALID, "", NULL },
		{ "{}", FB_E_INVALID, "", NULL },
		{ "{\"restore\":{\"table\":\"orders\",\"to\":\"2026-12-06T01:00:00Z\",\"target\":\"orders-r\"}}", FB_OK, "orders", "" },
		{ "{\"restore\":{\"table\":\"orders\",\"to\":\"2026-12-06T01:00:00Z\",\"target\":\"orders\"}}", FB_E_INVALID, "", NULL },
		{ "{\"restore\":{\"table\":\"orders\",\"to\":\"yesterday\",\"target\":\"orders-r\"}}", FB_E_INVALID, "", NULL },
		{ "{\"restore\":{\"table\":\"orders\",\"to\":\"2026-12-06T01:00:00Z\",\"target\":\"a/b\"}}", FB_E_INVALID, "", NULL },
		{ "{\"restore\":{\"table\":\"orders\",\"target\":\"orders-r\"}}", FB_E_INVALID, "", NULL },
		{ "not json", FB_E_INVALID, "", NULL },
		{ "{\"table\":\"orders\"} {}", FB_E_INVALID, "", NULL },
		{ "{\"table\":\"orders\\u0000x\"}", FB_E_INVALID, "", NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct db_event ev;
		char why[300] = "";
		enum fb_err rc = parse(rows[i].ev, &ev, why);

		if (rc != rows[i].rc)
			fail_msg("row %zu: rc %d want %d (%s)", i, rc, rows[i].rc, why);
		if (rc == FB_OK) {
			if (strcmp(ev.table, rows[i].table))
				fail_msg("row %zu: table '%s' want '%s'", i, ev.table, rows[i].table);
			if (*rows[i].skip ? !strstr(ev.skip, rows[i].skip) : *ev.skip != 0)
				fail_msg("row %zu: skip '%s' want '%s'", i, ev.skip, rows[i].skip);
		} else if (!*why) {
			fail_msg("row %zu: no reason given", i);
		}
		db_event_cleanup(&ev);
	}
	assert_int_equal(db_parse("", 0, NULL, 0, &(struct db_event){0}, NULL, 0), FB_E_INVALID);
}

static void test_db__manual_arn_sets_account(void **state)
{
	struct db_event ev;
	char why[300];

	(void)state;
	assert_int_equal(parse("{\"table\":\"arn:aws:dynamodb:eu-west-1:210987654321:table/t.1\","
			       "\"reason\":\"x\\u0007y\"}", &ev, why), FB_OK);
	assert_string_equal(ev.account, "210987654321");
	assert_string_equal(ev.region, "eu-west-1");
	assert_string_equal(ev.table, "t.1");
	assert_string_equal(ev.reason, "x?y");
	db_event_cleanup(&ev);
}

static cJSON *points(const double *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < n; i++) {
		cJSON *d = cJSON_CreateObject();
		char ts[32];
		snprintf(ts, sizeof(ts), "2026-12-06T%02zu:00:00Z", i);
		cJSON_AddStringToObject(d, "Timestamp", ts);
		cJSON_AddNumberToObject(d, "Sum", v[i]);
		cJSON_AddStringToObject(d, "Unit", "Count");
		cJSON_AddItemToArray(a, d);
	}
	return a;
}

static void test_db__spike(void **state)
{
	static const double flat[] = { 10, 12, 11, 9, 10 };
	static const double spike[] = { 10, 12, 500, 9, 10, 11 };
	static const double zero[] = { 0, 0, 40, 0 };
	struct db_spike s;
	cJSON *a;

	(void)state;
	a = points(flat, 5);
	assert_int_equal(db_spike_measure(a, &s), 1);
	assert_true(s.factor < 1.5);
	cJSON_Delete(a);
	a = points(spike, 6);
	assert_int_equal(db_spike_measure(a, &s), 1);
	assert_true(s.peak == 500 && s.baseline == 10);
	assert_true(s.factor == 50);
	assert_string_equal(s.peak_at, "2026-12-06T02:00:00Z");
	cJSON_Delete(a);
	a = points(zero, 4);
	assert_int_equal(db_spike_measure(a, &s), 1);
	assert_true(isinf(s.factor));
	cJSON_Delete(a);
	a = points(spike, 2);
	assert_int_equal(db_spike_measure(a, &s), 0);
	cJSON_Delete(a);
	assert_int_equal(db_spike_measure(NULL, &s), 0);
}

static void test_db__preserve_decisions(void **state)
{
	static const struct { const char *j; int want; } pitr[] = {
		{ "{\"ContinuousBackupsDescription\":{\"ContinuousBackupsStatus\":\"ENABLED\","
		  "\"PointInTimeRecoveryDescription\":{\"PointInTimeRecoveryStatus\":\"ENABLED\"}}}", 1 },
		{ "{\"ContinuousBackupsDescription\":{\"ContinuousBackupsStatus\":\"ENABLED\","
		  "\"PointInTimeRecoveryDescription\":{\"PointInTimeRecoveryStatus\":\"DISABLED\"}}}", 0 },
		{ "{}", -1 },
	};
	static const struct { const char *j; int want; } streams[] = {
		{ "{\"Table\":{\"TableName\":\"t\"}}", 0 },
		{ "{\"Table\":{\"StreamSpecification\":{\"StreamEnabled\":false}}}", 0 },
		{ "{\"Table\":{\"StreamSpecification\":{\"StreamEnabled\":true,\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"}}}", 1 },
		{ "{\"Table\":{\"StreamSpecification\":{\"StreamEnabled\":true,\"StreamViewType\":\"KEYS_ONLY\"}}}", 2 },
		{ "{}", -1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(pitr) / sizeof(pitr[0]); i++) {
		cJSON *j = cJSON_Parse(pitr[i].j);
		if (db_pitr_on(j) != pitr[i].want)
			fail_msg("pitr row %zu", i);
		cJSON_Delete(j);
	}
	for (i = 0; i < sizeof(streams) / sizeof(streams[0]); i++) {
		cJSON *j = cJSON_Parse(streams[i].j);
		if (db_stream_state(j) != streams[i].want)
			fail_msg("streams row %zu", i);
		cJSON_Delete(j);
	}
}

static void test_db__backup_name(void **state)
{
	char name[300], longid[400];
	cJSON *s;

	(void)state;
	db_backup_name("c4c1c1c9-6542:e61b/x y", name, sizeof(name));
	assert_string_equal(name, "firebreak-c4c1c1c9-6542-e61b-x-y");
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = 0;
	db_backup_name(longid, name, sizeof(name));
	assert_int_equal(strlen(name), 255);
	assert_true(db_table_name_ok(name));
	s = cJSON_Parse("[{\"BackupName\":\"firebreak-a\",\"BackupStatus\":\"AVAILABLE\"},"
			"{\"BackupName\":\"firebreak-b\",\"BackupStatus\":\"DELETED\"}]");
	assert_true(db_backup_exists(s, "firebreak-a"));
	assert_false(db_backup_exists(s, "firebreak-b"));
	assert_false(db_backup_exists(s, "firebreak-c"));
	cJSON_Delete(s);
}

static void test_db__gdpr_record(void **state)
{
	static const double spike[] = { 10, 12, 500, 9, 10, 11 };
	cJSON *pts = points(spike, 6), *measures = cJSON_Parse("[{\"step\":\"pitr\",\"status\":\"done\"}]"), *rec;
	struct db_spike s;
	struct db_record_in in = { 0 };
	char t[RESP_TIME_LEN];

	(void)state;
	assert_int_equal(db_spike_measure(pts, &s), 1);
	in.table_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders";
	in.incident = "inc-1";
	in.source = "cloudwatch-alarm: firebreak-data-breach-orders";
	in.aware_ms = resp_parse_time_ms("2026-12-07T01:00:00Z");
	in.item_count = 1200;
	in.size_bytes = 99000;
	in.categories = "contact details";
	in.subjects = NULL;
	in.spike = &s;
	in.spike_threshold = 5;
	in.measures = measures;
	assert_true(db_gdpr_deadline_ms(in.aware_ms) == resp_parse_time_ms("2026-12-10T01:00:00Z"));
	rec = db_gdpr_record(&in);
	assert_non_null(rec);
	assert_non_null(strstr(resp_get_str(rec, "status"), "DRAFT"));
	resp_format_time_ms(db_gdpr_deadline_ms(in.aware_ms), t);
	assert_string_equal(resp_get_str(cJSON_GetArrayItem(resp_get(rec, "deadlines"), 0), "due"), t);
	assert_non_null(strstr(resp_get_str(rec, "article33.nature"), "50.0x"));
	assert_string_equal(resp_get_str(rec, "article33.dataCategories"), "contact details");
	assert_string_equal(resp_get_str(rec, "article33.approxDataSubjects"), "unknown");
	assert_non_null(strstr(resp_get_str(rec, "article33.approxRecords"), "1200 items"));
	assert_string_equal(resp_get_str(rec, "article33.likelyConsequences"), "unknown");
	assert_true(cJSON_IsArray(resp_get(rec, "article33.measuresTaken")));
	cJSON_Delete(rec);
	/* below the threshold: no spike claimed */
	in.spike_threshold = 100;
	in.item_count = -1;
	rec = db_gdpr_record(&in);
	assert_non_null(strstr(resp_get_str(rec, "article33.nature"), "no read spike"));
	assert_string_equal(resp_get_str(rec, "article33.approxRecords"), "unknown");
	cJSON_Delete(rec);
	cJSON_Delete(pts);
	cJSON_Delete(measures);
}

/* A GuardDuty finding: DynamoDB data access by an access key at or above the
 * severity; anything else names nothing to act on. The finding's text never
 * becomes a table or a principal without the checks a manual one gets. */
/* resp_get for the tests' own mutable documents */
static cJSON *mget(cJSON *j, const char *path)
{
	return (cJSON *)(uintptr_t)resp_get(j, path);
}

static cJSON *gd_sample(void)
{
	char *text = slurp("events/data-breach/guardduty-anomalous-dynamodb.json");
	cJSON *j = text ? cJSON_Parse(text) : NULL;

	free(text);
	return j;
}

static enum fb_err parse_json(const cJSON *j, double min, struct db_event *ev, char *why)
{
	char *t = cJSON_PrintUnformatted(j);
	enum fb_err rc = db_parse(t, strlen(t), DB_DEFAULT_ALARM_PREFIX, min, ev, why, 300);

	free(t);
	return rc;
}

static void test_db__guardduty_finding(void **state)
{
	cJSON *j = gd_sample(), *d;
	struct db_event ev;
	char why[300] = "";

	(void)state;
	assert_non_null(j);
	assert_int_equal(parse_json(j, DB_DEFAULT_MIN_SEVERITY, &ev, why), FB_OK);
	assert_int_equal(ev.source, DB_SRC_GUARDDUTY);
	assert_string_equal(ev.skip, "");
	assert_string_equal(ev.table, ""); /* affectedResources {}: CloudTrail says */
	assert_string_equal(ev.account, "123456789012");
	assert_string_equal(ev.gd.access_key, "ASIARZOOKWPXR24HLMYM");
	assert_string_equal(ev.gd.principal_id, "AROAIHWLDLKQ2YARYAIIW:815945");
	assert_string_equal(ev.gd.user_type, "AssumedRole");
	/* DescribeTable and ListTables are not data access */
	assert_string_equal(ev.gd.apis, "ExportTableToPointInTime");
	assert_true(ev.detected_ms == resp_parse_time_ms("2026-12-07T02:54:50.712Z"));
	assert_true(ev.gd.first_seen_ms == resp_parse_time_ms("2026-12-07T02:41:25Z"));
	db_event_cleanup(&ev);

	/* below the minimum severity: skipped, nothing named */
	assert_int_equal(parse_json(j, 9, &ev, why), FB_OK);
	assert_non_null(strstr(ev.skip, "below"));
	db_event_cleanup(&ev);

	/* the table the finding names is taken like a manual one */
	d = mget(j, "detail.service.action.awsApiCallAction.affectedResources");
	cJSON_AddStringToObject(d, "AWS::DynamoDB::Table", "orders");
	assert_int_equal(parse_json(j, 5, &ev, why), FB_OK);
	assert_string_equal(ev.table, "orders");
	db_event_cleanup(&ev);
	cJSON_ReplaceItemInObject(d, "AWS::DynamoDB::Table", cJSON_CreateString("orders;DROP"));
	assert_int_equal(parse_json(j, 5, &ev, why), FB_E_INVALID);
	db_event_cleanup(&ev);
	cJSON_ReplaceItemInObject(d, "AWS::DynamoDB::Table",
				  cJSON_CreateString("arn:aws:dynamodb:us-east-1:999999999999:table/orders"));
	assert_int_equal(parse_json(j, 5, &ev, why), FB_E_INVALID);
	assert_non_null(strstr(why, "another account"));
	db_event_cleanup(&ev);
	cJSON_DeleteItemFromObject(d, "AWS::DynamoDB::Table");

	/* other services' APIs only: not ours */
	cJSON_ReplaceItemInObject(mget(j, "detail.service.action.awsApiCallAction"), "serviceName",
				  cJSON_CreateString("s3.amazonaws.com"));
	cJSON_ReplaceItemInObject(mget(j, "detail.service.additionalInfo.anomalies"), "anomalousAPIs",
				  cJSON_CreateString("dynamodb.amazonaws.com:[DescribeTable:success , ListTables:success] , "
						     "s3.amazonaws.com:[GetObject:success]"));
	assert_int_equal(parse_json(j, 5, &ev, why), FB_OK);
	assert_non_null(strstr(ev.skip, "not DynamoDB data access"));
	db_event_cleanup(&ev);
	/* the object rendering of anomalousAPIs counts too */
	cJSON_ReplaceItemInObject(mget(j, "detail.service.additionalInfo.anomalies"), "anomalousAPIs",
				  cJSON_Parse("{\"dynamodb.amazonaws.com\": [\"Scan\", \"Scan\", \"Query\"]}"));
	assert_int_equal(parse_json(j, 5, &ev, why), FB_OK);
	assert_string_equal(ev.skip, "");
	assert_string_equal(ev.gd.apis, "Scan,Query");
	db_event_cleanup(&ev);
	/* a malformed key id is refused */
	cJSON_ReplaceItemInObject(mget(j, "detail.resource.accessKeyDetails"), "accessKeyId",
				  cJSON_CreateString("ASIA*"));
	assert_int_equal(parse_json(j, 5, &ev, why), FB_E_INVALID);
	db_event_cleanup(&ev);
	/* no accessKeyDetails: nothing to act on */
	cJSON_DeleteItemFromObject(mget(j, "detail.resource"), "accessKeyDetails");
	assert_int_equal(parse_json(j, 5, &ev, why), FB_OK);
	assert_non_null(strstr(ev.skip, "not DynamoDB data access"));
	db_event_cleanup(&ev);
	cJSON_Delete(j);
}

/* CloudTrail confirms: the key, its principalId, the account, DynamoDB, a
 * table; the role is its issuer's ARN (path included), never the finding's
 * userName. */
static void test_db__ct_access(void **state)
{
	struct db_finding f;
	struct db_access a;
	cJSON *rec = cJSON_Parse(
		"{\"eventSource\": \"dynamodb.amazonaws.com\", \"eventName\": \"ExportTableToPointInTime\","
		" \"recipientAccountId\": \"123456789012\","
		" \"userIdentity\": {\"type\": \"AssumedRole\", \"principalId\": \"AROAIHWLDLKQ2YARYAIIW:815945\","
		"  \"accessKeyId\": \"ASIARZOOKWPXR24HLMYM\", \"arn\": \"arn:aws:sts::123456789012:assumed-role/analytics-etl/815945\","
		"  \"sessionContext\": {\"sessionIssuer\": {\"type\": \"Role\", \"arn\": \"arn:aws:iam::123456789012:role/etl/analytics-etl\"}}},"
		" \"requestParameters\": {\"tableArn\": \"arn:aws:dynamodb:us-east-1:123456789012:table/orders\", \"s3Bucket\": \"x\"}}");

	(void)state;
	memset(&f, 0, sizeof(f));
	snprintf(f.access_key, sizeof(f.access_key), "ASIARZOOKWPXR24HLMYM");
	snprintf(f.principal_id, sizeof(f.principal_id), "AROAIHWLDLKQ2YARYAIIW:815945");
	assert_int_equal(db_ct_access(rec, &f, "123456789012", &a), 1);
	assert_string_equal(a.table, "orders");
	assert_string_equal(a.principal, "arn:aws:iam::123456789012:role/etl/analytics-etl");
	assert_int_equal(a.is_role, 1);
	assert_int_equal(db_ct_access(rec, &f, "210987654321", &a), 0);   /* other account */
	snprintf(f.principal_id, sizeof(f.principal_id), "AROAOTHEROTHEROTHER1:1");
	assert_int_equal(db_ct_access(rec, &f, "123456789012", &a), 0);   /* other session */
	f.principal_id[0] = 0;
	snprintf(f.access_key, sizeof(f.access_key), "ASIAOTHERKEY00000000");
	assert_int_equal(db_ct_access(rec, &f, "123456789012", &a), 0);   /* other key */
	snprintf(f.access_key, sizeof(f.access_key), "ASIARZOOKWPXR24HLMYM");
	cJSON_ReplaceItemInObject(rec, "eventSource", cJSON_CreateString("s3.amazonaws.com"));
	assert_int_equal(db_ct_access(rec, &f, "123456789012", &a), 0);   /* not DynamoDB */
	cJSON_ReplaceItemInObject(rec, "eventSource", cJSON_CreateString("dynamodb.amazonaws.com"));
	cJSON_ReplaceItemInObject(mget(rec, "requestParameters"), "tableArn",
				  cJSON_CreateString("arn:aws:dynamodb:us-east-1:999999999999:table/orders"));
	assert_int_equal(db_ct_access(rec, &f, "123456789012", &a), 0);   /* a table elsewhere */
	cJSON_DeleteItemFromObject(mget(rec, "requestParameters"), "tableArn");
	assert_int_equal(db_ct_access(rec, &f, "123456789012", &a), 0);   /* no table (ListTables) */
	cJSON_AddStringToObject(mget(rec, "requestParameters"), "tableName", "orders");
	cJSON_ReplaceItemInObject(mget(rec, "userIdentity"), "type", cJSON_CreateString("Root"));
	assert_int_equal(db_ct_access(rec, &f, "123456789012", &a), 1);   /* seen, not containable */
	assert_string_equal(a.principal, "");
	cJSON_Delete(rec);
}

/* Further regimes' clocks: a bad setting is refused whole (no half a list). */
static void test_db__deadlines(void **state)
{
	struct db_deadline d[DB_MAX_DEADLINES];
	size_t n = 9;
	char err[200];
	static const char *const bad[] = { "NIS2", "NIS2=0", "NIS2=8761", "=24", "NIS2=24h", "NIS2=",
					   "a=1,b=1,c=1,d=1,e=1,f=1,g=1,h=1,i=1" };
	size_t i;

	(void)state;
	assert_int_equal(db_deadlines_parse(NULL, d, DB_MAX_DEADLINES, &n, err, sizeof(err)), FB_OK);
	assert_int_equal(n, 0);
	assert_int_equal(db_deadlines_parse(" NIS2 Art. 23 early warning = 24 , DORA=4", d, DB_MAX_DEADLINES, &n, err,
					    sizeof(err)), FB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(d[0].regime, "NIS2 Art. 23 early warning");
	assert_int_equal(d[0].hours, 24);
	assert_string_equal(d[1].regime, "DORA");
	assert_int_equal(d[1].hours, 4);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(db_deadlines_parse(bad[i], d, DB_MAX_DEADLINES, &n, err, sizeof(err)), FB_E_CONFIG);
}

/* The DPO's text: every Art. 33(3) field on its line, "unknown" when the
 * record has nothing, the deadlines with their due times. */
static void test_db__gdpr_text(void **state)
{
	struct db_deadline dl[1] = { { "NIS2 early warning", 24 } };
	struct db_record_in in;
	cJSON *rec;
	char *txt;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.table_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/orders";
	in.incident = "i-1";
	in.source = "manual: test";
	in.aware_ms = resp_parse_time_ms("2026-12-07T00:00:00Z");
	in.item_count = -1;
	in.size_bytes = -1;
	in.spike_threshold = 5;
	in.deadlines = dl;
	in.n_deadlines = 1;
	rec = db_gdpr_record(&in);
	assert_non_null(rec);
	assert_string_equal(resp_get_str(rec, "article33.dpoContact"), "unknown");
	assert_string_equal(resp_get_str(rec, "article33.measuresTaken"), "unknown");
	assert_string_equal(resp_get_str(rec, "suspectedPrincipal"), "unknown");
	assert_int_equal(cJSON_GetArraySize(resp_get(rec, "deadlines")), 2);
	txt = db_gdpr_text(rec);
	assert_non_null(txt);
	assert_non_null(strstr(txt, "(a) Categories of personal data: unknown\n"));
	assert_non_null(strstr(txt, "(a) Approximate number of data subjects: unknown\n"));
	assert_non_null(strstr(txt, "(a) Approximate number of records: unknown\n"));
	assert_non_null(strstr(txt, "(b) DPO / contact point: unknown\n"));
	assert_non_null(strstr(txt, "(c) Likely consequences: unknown\n"));
	assert_non_null(strstr(txt, "(d) Measures taken: unknown\n"));
	assert_non_null(strstr(txt, "(d) Measures proposed: unknown\n"));
	assert_non_null(strstr(txt, "GDPR Art. 33(1): notify the supervisory authority (72 h): due 2026-12-10T00:00:00.000Z"));
	assert_non_null(strstr(txt, "NIS2 early warning (24 h): due 2026-12-08T00:00:00.000Z"));
	assert_non_null(strstr(txt, "Aware since (UTC): 2026-12-07T00:00:00.000Z"));
	free(txt);
	cJSON_Delete(rec);
}

#define T_ARN "arn:aws:dynamodb:us-east-1:123456789012:table/orders"

/* The Deny merged into the table's policy: other statements kept as they
 * are, ours recognised only by its exact shape, idempotent, bounded. */
static void test_db__policy_merge(void **state)
{
	const char *role = "arn:aws:iam::123456789012:role/etl/analytics-etl";
	const char *other = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"AppReads\",\"Effect\":\"Allow\","
			    "\"Principal\":{\"AWS\":\"arn:aws:iam::123456789012:role/app\"},\"Action\":\"dynamodb:GetItem\","
			    "\"Resource\":\"" T_ARN "\"}]}";
	char *doc = NULL, *doc2 = NULL, why[200];
	cJSON *j, *pats;
	char big[DB_POLICY_MAX + 200];

	(void)state;
	/* none yet: a new document */
	assert_int_equal(db_policy_merge(NULL, T_ARN, role, &doc, why, sizeof(why)), 1);
	j = cJSON_Parse(doc);
	assert_int_equal(cJSON_GetArraySize(resp_get(j, "Statement")), 1);
	cJSON_Delete(j);
	/* the same principal again: already */
	assert_int_equal(db_policy_merge(doc, T_ARN, role, &doc2, why, sizeof(why)), 0);
	assert_null(doc2);
	/* a session ARN of the same role: the same patterns, already */
	assert_int_equal(db_policy_merge(doc, T_ARN, "arn:aws:sts::123456789012:assumed-role/analytics-etl/s1", &doc2,
					 why, sizeof(why)), 0);
	/* another principal: added to our statement, still one statement */
	assert_int_equal(db_policy_merge(doc, T_ARN, "arn:aws:iam::123456789012:user/mallory", &doc2, why,
					 sizeof(why)), 1);
	j = cJSON_Parse(doc2);
	assert_int_equal(cJSON_GetArraySize(resp_get(j, "Statement")), 1);
	assert_int_equal(cJSON_GetArraySize(resp_get(cJSON_GetArrayItem(resp_get(j, "Statement"), 0),
						      "Condition.ArnLike.aws:PrincipalArn")), 3);
	cJSON_Delete(j);
	free(doc);
	free(doc2);
	/* other statements are kept, first, as they were */
	assert_int_equal(db_policy_merge(other, T_ARN, role, &doc, why, sizeof(why)), 1);
	j = cJSON_Parse(doc);
	assert_int_equal(cJSON_GetArraySize(resp_get(j, "Statement")), 2);
	assert_string_equal(resp_get_str(cJSON_GetArrayItem(resp_get(j, "Statement"), 0), "Sid"), "AppReads");
	cJSON_Delete(j);
	free(doc);
	/* a look-alike with our Sid that is not our shape (Allow): left alone, ours gets another Sid */
	assert_int_equal(db_policy_merge("{\"Statement\":{\"Sid\":\"" DB_DENY_SID "\",\"Effect\":\"Allow\","
					 "\"Principal\":{\"AWS\":\"*\"},\"Action\":\"dynamodb:*\",\"Resource\":\"" T_ARN "\"}}",
					 T_ARN, role, &doc, why, sizeof(why)), 1);
	j = cJSON_Parse(doc);
	assert_int_equal(cJSON_GetArraySize(resp_get(j, "Statement")), 2);
	assert_string_equal(resp_get_str(cJSON_GetArrayItem(resp_get(j, "Statement"), 0), "Effect"), "Allow");
	assert_string_equal(resp_get_str(cJSON_GetArrayItem(resp_get(j, "Statement"), 1), "Sid"), DB_DENY_SID "1");
	cJSON_Delete(j);
	free(doc);
	/* not a policy: no write */
	assert_int_equal(db_policy_merge("[1]", T_ARN, role, &doc, why, sizeof(why)), -1);
	assert_int_equal(db_policy_merge("{\"Statement\":7}", T_ARN, role, &doc, why, sizeof(why)), -1);
	assert_int_equal(db_policy_merge(NULL, T_ARN, "arn:aws:iam::123456789012:user/*", &doc, why, sizeof(why)), -1);
	/* over 20 KB: no write */
	memset(big, 0, sizeof(big));
	snprintf(big, sizeof(big), "{\"Statement\":[{\"Sid\":\"");
	memset(big + strlen(big), 'A', DB_POLICY_MAX);
	strcat(big, "\"}]}");
	assert_int_equal(db_policy_merge(big, T_ARN, role, &doc, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "20 KB"));
	/* the patterns: a role by name (any path), a user as is */
	pats = db_principal_patterns("arn:aws:sts::123456789012:assumed-role/analytics-etl/s1");
	assert_string_equal(cJSON_GetArrayItem(pats, 0)->valuestring, "arn:aws:iam::123456789012:role/analytics-etl");
	assert_string_equal(cJSON_GetArrayItem(pats, 1)->valuestring, "arn:aws:iam::123456789012:role/*/analytics-etl");
	cJSON_Delete(pats);
}

/* The function's own role and the member role are never denied. */
static void test_db__protected(void **state)
{
	char why[120];

	(void)state;
	assert_int_equal(db_principal_protected("arn:aws:iam::123456789012:role/fb-data-breach",
						"arn:aws:sts::123456789012:assumed-role/fb-data-breach/fn", NULL, why,
						sizeof(why)), 1);
	assert_int_equal(db_principal_protected("arn:aws:sts::123456789012:assumed-role/fb-data-breach/x",
						"arn:aws:sts::123456789012:assumed-role/fb-data-breach/fn", NULL, why,
						sizeof(why)), 1);
	/* the same name in another account is someone else */
	assert_int_equal(db_principal_protected("arn:aws:iam::210987654321:role/fb-data-breach",
						"arn:aws:sts::123456789012:assumed-role/fb-data-breach/fn", NULL, why,
						sizeof(why)), 0);
	assert_int_equal(db_principal_protected("arn:aws:iam::210987654321:role/path/firebreak-member", NULL,
						"firebreak-member", why, sizeof(why)), 1);
	assert_int_equal(db_principal_protected("arn:aws:iam::123456789012:user/firebreak-member", NULL,
						"firebreak-member", why, sizeof(why)), 0);
}

/* Exports and scans in the window: ListExports' ARNs carry their time; a
 * refused CloudTrail call copied nothing. */
static void test_db__bulk_reads(void **state)
{
	cJSON *sums = cJSON_Parse("[{\"ExportArn\": \"" T_ARN "/export/1796600000000-aaaaaaaa\", \"ExportStatus\": \"COMPLETED\"},"
				  " {\"ExportArn\": \"" T_ARN "/export/1700000000000-bbbbbbbb\", \"ExportStatus\": \"COMPLETED\"},"
				  " {\"ExportArn\": \"" T_ARN "/export/odd\"}]");
	cJSON *evs = cJSON_Parse("[{\"EventName\": \"ExportTableToPointInTime\", \"CloudTrailEvent\": "
				 "\"{\\\"eventTime\\\": \\\"2026-12-07T01:00:00Z\\\", \\\"userIdentity\\\": {\\\"arn\\\": \\\"arn:aws:iam::123456789012:user/m\\\"},"
				 " \\\"requestParameters\\\": {\\\"s3Bucket\\\": \\\"exfil\\\"}}\"},"
				 " {\"EventName\": \"Scan\", \"CloudTrailEvent\": \"{\\\"errorCode\\\": \\\"AccessDenied\\\"}\"},"
				 " {\"EventName\": \"DescribeTable\", \"CloudTrailEvent\": \"{}\"}]");
	cJSON *out = cJSON_CreateArray();

	(void)state;
	assert_non_null(sums);
	assert_non_null(evs);
	/* the 2023 export is older than the window; the one without a time is kept */
	assert_int_equal(db_bulk_reads(sums, evs, 1796500000000LL, out), 3);
	assert_string_equal(resp_get_str(cJSON_GetArrayItem(out, 0), "time"), "2026-12-06T23:33:20.000Z");
	assert_null(resp_get_str(cJSON_GetArrayItem(out, 1), "time"));
	assert_string_equal(resp_get_str(cJSON_GetArrayItem(out, 2), "s3Bucket"), "exfil");
	assert_string_equal(resp_get_str(cJSON_GetArrayItem(out, 2), "by"), "arn:aws:iam::123456789012:user/m");
	cJSON_Delete(out);
	cJSON_Delete(sums);
	cJSON_Delete(evs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_db__alarm_sample),
		cmocka_unit_test(test_db__alarm_not_ours),
		cmocka_unit_test(test_db__parse_rows),
		cmocka_unit_test(test_db__manual_arn_sets_account),
		cmocka_unit_test(test_db__spike),
		cmocka_unit_test(test_db__preserve_decisions),
		cmocka_unit_test(test_db__backup_name),
		cmocka_unit_test(test_db__gdpr_record),
		cmocka_unit_test(test_db__guardduty_finding),
		cmocka_unit_test(test_db__ct_access),
		cmocka_unit_test(test_db__deadlines),
		cmocka_unit_test(test_db__gdpr_text),
		cmocka_unit_test(test_db__policy_merge),
		cmocka_unit_test(test_db__protected),
		cmocka_unit_test(test_db__bulk_reads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
