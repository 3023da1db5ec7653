/*
 * Unit tests for kms-guard's pure stages (functions/kms-guard/stages.c,
 * declared in kms_guard.h): event parsing, the alarm window and items, the
 * prior-state decision from CloudTrail history, the verdict, ARN and tag
 * helpers. stages.c is compiled in (the Makefile links a unit test with
 * the runtime library only).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "../../functions/kms-guard/stages.c"

static const struct kg_settings kSet = { .alarm_name = "kms-key-changes", .lookback_s = 900 };

static enum fb_err parse(const char *text, struct kg_event *ev, char *why, size_t wn)
{
	return kg_parse(text, strlen(text), &kSet, ev, why, wn);
}

/* An EventBridge envelope around a CloudTrail record with `detail`. */
static char *envelope(const char *detail)
{
	static char buf[8192];

	snprintf(buf, sizeof(buf),
		 "{\"version\":\"0\",\"id\":\"eb-1\",\"detail-type\":\"AWS API Call via CloudTrail\","
		 "\"source\":\"aws.kms\",\"account\":\"111111111111\",\"time\":\"2024-03-01T10:00:30Z\","
		 "\"region\":\"us-east-1\",\"resources\":[],\"detail\":%s}", detail);
	return buf;
}

static void test_kms_guard__parse_schedule_deletion(void **st)
{
	struct kg_event ev;
	char why[256];

	(void)st;
	assert_int_equal(parse(envelope(
		"{\"eventName\":\"ScheduleKeyDeletion\",\"eventID\":\"e-1\",\"eventTime\":\"2024-03-01T10:00:30Z\","
		"\"awsRegion\":\"us-east-1\",\"userIdentity\":{\"arn\":\"arn:aws:iam::111111111111:user/m\"},"
		"\"requestParameters\":{\"keyId\":\"1234abcd-12ab-34cd-56ef-1234567890ab\",\"pendingWindowInDays\":7}}"),
		&ev, why, sizeof(why)), FB_OK);
	assert_int_equal(ev.kind, KG_CALL);
	assert_string_equal(ev.item.key_ref, "1234abcd-12ab-34cd-56ef-1234567890ab");
	assert_string_equal(ev.item.region, "us-east-1");
	assert_string_equal(ev.item.account, "111111111111");
	assert_string_equal(ev.item.event_name, "ScheduleKeyDeletion");
	assert_string_equal(ev.item.event_id, "e-1");
	assert_string_equal(ev.item.actor, "arn:aws:iam::111111111111:user/m");
	assert_int_equal(ev.item.pending_days, 7);
	assert_true(ev.item.event_ms == 1709287230000LL);
	assert_string_equal(ev.item.note, "");
	kg_event_cleanup(&ev);
}

/* The published sample's shape: bare keyId, awsRegion us-east-1, the key
 * ARN (resources[]) in us-west-2: the ARN wins and the mismatch is noted. */
static void test_kms_guard__parse_region_mismatch(void **st)
{
	struct kg_event ev;
	char why[256];

	(void)st;
	assert_int_equal(parse(envelope(
		"{\"eventName\":\"DisableKey\",\"awsRegion\":\"us-east-1\",\"recipientAccountId\":\"111122223333\","
		"\"requestParameters\":{\"keyId\":\"1234abcd-12ab-34cd-56ef-1234567890ab\"},"
		"\"resources\":[{\"ARN\":\"arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\"}]}"),
		&ev, why, sizeof(why)), FB_OK);
	assert_string_equal(ev.item.key_ref,
			    "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab");
	assert_string_equal(ev.item.region, "us-west-2");
	assert_string_equal(ev.item.account, "111122223333");
	assert_non_null(strstr(ev.item.note, "region mismatch"));
	kg_event_cleanup(&ev);

	/* A keyId ARN wins over the event region too. */
	assert_int_equal(parse(envelope(
		"{\"eventName\":\"ScheduleKeyDeletion\",\"awsRegion\":\"us-east-1\",\"requestParameters\":"
		"{\"keyId\":\"arn:aws:kms:eu-west-1:111111111111:key/mrk-1234abcd12ab34cd56ef1234567890ab\"}}"), &ev, why, sizeof(why)), FB_OK);
	assert_string_equal(ev.item.region, "eu-west-1");
	assert_non_null(strstr(ev.item.note, "eu-west-1"));
	kg_event_cleanup(&ev);

	/* resources[] naming another key is not used for a bare id. */
	assert_int_equal(parse(envelope(
		"{\"eventName\":\"DisableKey\",\"awsRegion\":\"us-east-1\",\"requestParameters\":{\"keyId\":\"1111aaaa-12ab-34cd-56ef-1234567890ab\"},"
		"\"resources\":[{\"ARN\":\"arn:aws:kms:us-west-2:111111111111:key/2222bbbb-12ab-34cd-56ef-1234567890ab\"}]}"), &ev, why, sizeof(why)), FB_OK);
	assert_string_equal(ev.item.key_ref, "1111aaaa-12ab-34cd-56ef-1234567890ab");
	assert_string_equal(ev.item.region, "us-east-1");
	kg_event_cleanup(&ev);
}

static void test_kms_guard__parse_failed_call_without_key(void **st)
{
	struct kg_event ev;
	char why[256];

	(void)st;
	assert_int_equal(parse(envelope("{\"eventName\":\"ScheduleKeyDeletion\",\"errorCode\":\"AccessDenied\","
					"\"requestParameters\":null}"), &ev, why, sizeof(why)), FB_OK);
	assert_string_equal(ev.item.error_code, "AccessDenied");
	kg_event_cleanup(&ev);
}

static void test_kms_guard__parse_invalid(void **st)
{
	static const struct { const char *text, *want; } cases[] = {
		{ "", "empty event" },
		{ "nope", "not JSON" },
		{ "{\"keyId\":\"k\"} trailing", "trailing data" },
		{ "[1]", "not a JSON object" },
		{ "{}", "missing 'keyId'" },
		{ "{\"keyId\":7}", "'keyId'" },
		{ "{\"keyId\":\"\"}", "'keyId'" },
		{ "{\"keyId\":\"has space\"}", "'keyId'" },
		{ "{\"keyId\":\"alias/k\",\"region\":\"US EAST\"}", "'region'" },
		{ "{\"keyId\":\"alias/k\",\"region\":5}", "'region'" },
		{ "{\"keyId\":\"alias/k\",\"dryRun\":\"yes\"}", "'dryRun'" },
		{ "{\"source\":\"aws.kms\"}", "both 'source' and 'detail-type'" },
		{ "{\"source\":1,\"detail-type\":\"x\"}", "must be strings" },
		{ "{\"source\":\"aws.s3\",\"detail-type\":\"AWS API Call via CloudTrail\"}", "source 'aws.s3'" },
		{ "{\"source\":\"aws.kms\",\"detail-type\":\"KMS CMK Deletion\",\"detail\":{}}",
		  "completed deletion" },
		{ "{\"source\":\"aws.kms\",\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":[]}",
		  "'detail' must be an object" },
		{ "{\"source\":\"aws.kms\",\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":"
		  "{\"eventName\":\"DeleteKey\"}}", "eventName 'DeleteKey'" },
		{ "{\"source\":\"aws.kms\",\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":"
		  "{\"eventName\":\"DisableKey\",\"requestParameters\":{\"keyId\":[1]}}}", "must be a string" },
		{ "{\"source\":\"aws.kms\",\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":"
		  "{\"eventName\":\"DisableKey\",\"requestParameters\":{}}}", "missing 'detail.requestParameters.keyId'" },
		{ "{\"source\":\"aws.cloudwatch\",\"detail-type\":\"CloudWatch Alarm State Change\",\"detail\":"
		  "{\"alarmName\":\"other\",\"state\":{\"value\":\"ALARM\"}}}", "alarm 'other'" },
		{ "{\"source\":\"aws.cloudwatch\",\"detail-type\":\"CloudWatch Alarm State Change\",\"detail\":"
		  "{\"alarmName\":\"kms-key-changes\",\"state\":{\"value\":\"OK\"}}}", "alarm state 'OK'" },
	};
	struct kg_event ev;
	char why[256];
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why[0] = '\0';
		assert_int_equal(parse(cases[i].text, &ev, why, sizeof(why)), FB_E_INVALID);
		if (!strstr(why, cases[i].want))
			fail_msg("case %zu: '%s' lacks '%s'", i, why, cases[i].want);
		assert_null(ev.root);
	}
	/* Over the size limit: refused before parsing. */
	{
		size_t n = RESP_MAX_EVENT_BYTES + 1;
		char *big = malloc(n + 1);

		memset(big, ' ', n);
		big[n] = '\0';
		assert_int_equal(kg_parse(big, n, &kSet, &ev, why, sizeof(why)), FB_E_INVALID);
		assert_non_null(strstr(why, "byte limit"));
		free(big);
	}
}

static void test_kms_guard__parse_manual(void **st)
{
	struct kg_event ev;
	char why[256];

	(void)st;
	assert_int_equal(parse("{\"keyId\":\"arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab\",\"region\":\"us-east-1\","
			       "\"dryRun\":true}", &ev, why, sizeof(why)), FB_OK);
	assert_int_equal(ev.kind, KG_MANUAL);
	assert_string_equal(ev.item.region, "eu-west-1");
	assert_string_equal(ev.item.account, "222222222222");
	assert_string_equal(ev.item.event_name, "manual");
	assert_non_null(strstr(ev.item.note, "region mismatch"));
	kg_event_cleanup(&ev);
	assert_int_equal(parse("{\"keyId\":\"alias/payments\"}", &ev, why, sizeof(why)), FB_OK);
	assert_string_equal(ev.item.region, "");
	kg_event_cleanup(&ev);
}

/* The published CloudWatch samples' detail (../shared/reference-events). */
static void test_kms_guard__alarm_window(void **st)
{
	const char *metric =
		"{\"alarmName\":\"a\",\"state\":{\"value\":\"ALARM\","
		"\"reasonData\":\"{\\\"version\\\":\\\"1.0\\\",\\\"queryDate\\\":\\\"2019-10-02T17:20:48.551+0000\\\","
		"\\\"startDate\\\":\\\"2019-10-02T17:10:00.000+0000\\\",\\\"period\\\":300}\","
		"\"timestamp\":\"2019-10-02T17:20:48.554+0000\"}}";
	const char *composite =
		"{\"alarmName\":\"a\",\"state\":{\"value\":\"ALARM\",\"reasonData\":\"{\\\"triggeringAlarms\\\":[]}\","
		"\"timestamp\":\"2022-07-22T15:57:45.394+0000\"},\"configuration\":{\"metrics\":["
		"{\"metricStat\":{\"period\":60}},{\"metricStat\":{\"period\":300}}]}}";
	struct alarm_change a;
	cJSON *d;
	int64_t s, e;

	(void)st;
	d = cJSON_Parse(metric);
	assert_int_equal(alarm_parse(d, &a), FB_OK);
	alarm_lookup_window(&a, 0, 900, &s, &e);
	/* date -u -d 2019-10-02T17:10:00Z +%s = 1570036200; 17:20:48 = 1570036848 */
	assert_true(s == 1570036200 - 900);
	assert_true(e == 1570036848 + 60);
	cJSON_Delete(d);
	d = cJSON_Parse(composite);
	assert_int_equal(alarm_parse(d, &a), FB_OK);
	alarm_lookup_window(&a, 0, 900, &s, &e);
	/* 2022-07-22T15:57:45Z = 1658505465 */
	assert_true(e == 1658505465 + 60);
	assert_true(s == 1658505465 - 900 - 300);
	cJSON_Delete(d);
}

/* LookupEvents "Events", newest first. */
static cJSON *history(const char *const *rows, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < n; i += 4) {
		cJSON *e = cJSON_CreateObject();
		char ct[512];

		/* rows: EventId, EventName, epoch seconds, "actor|errorCode" */
		cJSON_AddStringToObject(e, "EventId", rows[i]);
		cJSON_AddStringToObject(e, "EventName", rows[i + 1]);
		cJSON_AddNumberToObject(e, "EventTime", strtod(rows[i + 2], NULL));
		if (!strncmp(rows[i + 3], "err:", 4))
			snprintf(ct, sizeof(ct), "{\"eventID\":\"%s\",\"errorCode\":\"%s\"}", rows[i], rows[i + 3] + 4);
		else
			snprintf(ct, sizeof(ct), "{\"eventID\":\"%s\",\"userIdentity\":{\"arn\":\"%s\"}}", rows[i],
				 rows[i + 3]);
		cJSON_AddStringToObject(e, "CloudTrailEvent", ct);
		cJSON_AddItemToArray(a, e);
	}
	return a;
}

static enum kg_prior prior_of(const char *const *rows, size_t n, const char *trig_id,
			      int64_t trig_ms, const char *name, const char *actor, char *src)
{
	struct kg_item it;
	cJSON *h = history(rows, n);
	enum kg_prior p;

	memset(&it, 0, sizeof(it));
	buf_copy_str(it.event_id, sizeof(it.event_id), trig_id);
	buf_copy_str(it.event_name, sizeof(it.event_name), name);
	buf_copy_str(it.actor, sizeof(it.actor), actor);
	it.event_ms = trig_ms;
	p = kg_prior_from_history(h, &it, src, 600);
	cJSON_Delete(h);
	return p;
}

#define M "arn:aws:iam::1:user/mallory"
#define OPS "arn:aws:iam::1:user/ops"
#define N(a) (sizeof(a) / sizeof(a[0]))

static void test_kms_guard__prior_from_history(void **st)
{
	char src[600];

	(void)st;
	{	/* in use before the trigger -> Enabled */
		const char *const rows[] = { "t", "ScheduleKeyDeletion", "1000", M,
					     "d", "Decrypt", "900", "arn:aws:iam::1:role/app" };
		assert_int_equal(prior_of(rows, N(rows), "t", 1000000, "ScheduleKeyDeletion", M, src),
				 KG_PRIOR_ENABLED);
		assert_non_null(strstr(src, "cloudtrail:Decrypt@1970-01-01T00:15:00.000Z"));
	}
	{	/* disabled by someone else, long before -> Disabled */
		const char *const rows[] = { "t", "ScheduleKeyDeletion", "1000", M,
					     "x", "DisableKey", "500", OPS, "y", "EnableKey", "400", OPS };
		assert_int_equal(prior_of(rows, N(rows), "t", 1000000, "ScheduleKeyDeletion", M, src),
				 KG_PRIOR_DISABLED);
		assert_non_null(strstr(src, "cloudtrail:DisableKey@"));
	}
	{	/* disabled by the same actor just before: part of the incident */
		const char *const rows[] = { "t", "ScheduleKeyDeletion", "1000", M,
					     "x", "DisableKey", "990", M, "y", "TagResource", "400", OPS };
		assert_int_equal(prior_of(rows, N(rows), "t", 1000000, "ScheduleKeyDeletion", M, src),
				 KG_PRIOR_ENABLED);
	}
	{	/* later events and failed calls are ignored; nothing decides -> unknown */
		const char *const rows[] = { "z", "EnableKey", "2000", OPS, "t", "ScheduleKeyDeletion", "1000", M,
					     "f", "EnableKey", "800", "err:AccessDenied",
					     "g", "DescribeKey", "700", OPS };
		assert_int_equal(prior_of(rows, N(rows), "t", 1000000, "ScheduleKeyDeletion", M, src),
				 KG_PRIOR_UNKNOWN);
	}
	{	/* trigger not listed: cut by time instead */
		const char *const rows[] = { "z", "EnableKey", "2000", OPS, "c", "CancelKeyDeletion", "500", OPS };
		assert_int_equal(prior_of(rows, N(rows), "absent", 1000000, "ScheduleKeyDeletion", M, src),
				 KG_PRIOR_DISABLED);
	}
	{	/* manual: the newest change is the trigger */
		const char *const rows[] = { "s", "ScheduleKeyDeletion", "1000", M, "c", "CreateKey", "10", OPS };
		assert_int_equal(prior_of(rows, N(rows), "", 0, "manual", "", src), KG_PRIOR_ENABLED);
		assert_non_null(strstr(src, "CreateKey"));
	}
	{	/* manual: a DisableKey being reverted says Enabled */
		const char *const rows[] = { "d", "DisableKey", "1000", M, "x", "DisableKey", "10", OPS };
		assert_int_equal(prior_of(rows, N(rows), "", 0, "manual", "", src), KG_PRIOR_ENABLED);
	}
	{	/* empty history */
		cJSON *h = cJSON_CreateArray();
		struct kg_item it;

		memset(&it, 0, sizeof(it));
		buf_copy_str(it.event_name, sizeof(it.event_name), "ScheduleKeyDeletion");
		assert_int_equal(kg_prior_from_history(h, &it, src, sizeof(src)), KG_PRIOR_UNKNOWN);
		cJSON_Delete(h);
	}
}

static void test_kms_guard__arn_and_tags(void **st)
{
	struct arn a;
	cJSON *tags = cJSON_Parse("[{\"TagKey\":\"firebreak:exempt\",\"TagValue\":\"true\"},"
				  "{\"TagKey\":\"x\",\"TagValue\":\"y\"}]");

	(void)st;
	assert_true(arn_kms("arn:aws:kms:us-west-2:111122223333:key/k", &a));
	assert_string_equal(a.region, "us-west-2");
	assert_string_equal(a.account, "111122223333");
	assert_true(arn_kms("arn:aws-cn:kms:cn-north-1:1:alias/a", &a));
	assert_string_equal(a.region, "cn-north-1");
	assert_false(arn_kms("arn:aws:s3:::bucket/key", &a));
	assert_false(arn_kms("arn:aws:kms:us-east-1:1:grant/x", &a));
	assert_false(arn_kms("1234abcd", &a));
	assert_false(arn_kms("arn:aws:kms::1:key/k", &a));
	assert_string_equal(prov_tag_value(tags, "firebreak:exempt"), "true");
	assert_null(prov_tag_value(tags, "firebreak:allow-deletion"));
	assert_null(prov_tag_value(NULL, "x"));
	cJSON_Delete(tags);
}

/* Key references: only the forms KMS documents for KeyId pass. */
static void test_kms_guard__key_reference_forms(void **st)
{
	static const struct { const char *ref; int ok; } cases[] = {
		{ "1234abcd-12ab-34cd-56ef-1234567890ab", 1 },
		{ "1234ABCD-12AB-34CD-56EF-1234567890AB", 1 },
		{ "mrk-1234abcd12ab34cd56ef1234567890ab", 1 },
		{ "alias/payments-dk", 1 },
		{ "alias/aws/s3", 1 },
		{ "alias/a_b/C-9", 1 },
		{ "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab", 1 },
		{ "arn:aws:kms:eu-west-1:111111111111:key/mrk-1234abcd12ab34cd56ef1234567890ab", 1 },
		{ "arn:aws:kms:ap-southeast-4:111111111111:alias/x", 1 },
		{ "arn:aws-cn:kms:cn-north-1:111111111111:alias/x", 1 },
		{ "arn:aws-us-gov:kms:us-gov-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab", 1 },
		{ "", 0 },
		{ "k", 0 },
		{ "1234abcd-12ab-34cd-56ef-1234567890a", 0 },    /* short */
		{ "1234abcd-12ab-34cd-56ef-1234567890abc", 0 },  /* long */
		{ "1234abcd_12ab-34cd-56ef-1234567890ab", 0 },
		{ "1234abcg-12ab-34cd-56ef-1234567890ab", 0 },   /* not hex */
		{ "mrk-1234abcd12ab34cd56ef1234567890a", 0 },
		{ "mrk-1234abcd-12ab-34cd-56ef-1234567890", 0 },
		{ "alias/", 0 },
		{ "alias/has space", 0 },
		{ "alias/../x", 0 },
		{ "alias/a:b", 0 },
		{ "alias/a\r\nX-Amz-Target: x", 0 },
		{ "https://evil.example/x", 0 },
		{ "http://169.254.169.254/latest/meta-data/", 0 },
		{ "kms.evil.example:443/key", 0 },
		{ "arn:aws:kms:us-east-1:111111111111:key/../../x", 0 },
		{ "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab/x", 0 },
		{ "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab:x", 0 },
		{ "arn:aws:kms:us-east-1:1:key/1234abcd-12ab-34cd-56ef-1234567890ab", 0 },
		{ "arn:aws:kms:us-east-1:11111111111a:key/1234abcd-12ab-34cd-56ef-1234567890ab", 0 },
		{ "arn:aws:kms::111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab", 0 },
		{ "arn:aws:kms:US-EAST-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab", 0 },
		{ "arn:aws:kms:us-east:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab", 0 },
		{ "arn:aws:kms:evil.example:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab", 0 },
		{ "arn:evil:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab", 0 },
		{ "arn:aws-cn:kms:us-east-1:111111111111:alias/x", 0 },   /* partition/region */
		{ "arn:aws:kms:cn-north-1:111111111111:alias/x", 0 },
		{ "arn:aws:s3:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab", 0 },
		{ "arn:aws:kms:us-east-1:111111111111:grant/1234abcd-12ab-34cd-56ef-1234567890ab", 0 },
		{ "arn:aws:kms:us-east-1:111111111111:alias/", 0 },
		{ "arn:aws:kms:us-east-1:111111111111:key/k", 0 },
	};
	char alias[300];
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (arn_kms_ref_ok(cases[i].ref) != cases[i].ok)
			fail_msg("case %zu '%s': want %d", i, cases[i].ref, cases[i].ok);
	/* AliasName is at most 256 characters, "alias/" included. */
	memcpy(alias, "alias/", 6);
	memset(alias + 6, 'a', 250);
	alias[256] = '\0';
	assert_true(arn_kms_ref_ok(alias));
	alias[256] = 'a';
	alias[257] = '\0';
	assert_false(arn_kms_ref_ok(alias));
}

/* Crafted key references in events are invalid, whichever form carries them. */
static void test_kms_guard__parse_refuses_crafted_keys(void **st)
{
	static const char *const texts[] = {
		"{\"keyId\":\"https://evil.example/x\"}",
		"{\"keyId\":\"1234abcd-12ab-34cd-56ef-1234567890ab\\u0000/../evil\"}",
		"{\"source\":\"aws.kms\",\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":"
		"{\"eventName\":\"DisableKey\",\"requestParameters\":{\"keyId\":\"kms.evil.example:443/key\"}}}",
		/* resources[] is not a way around the check */
		"{\"source\":\"aws.kms\",\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":"
		"{\"eventName\":\"DisableKey\",\"resources\":[{\"ARN\":\"arn:aws:kms:us-east-1:111111111111:key/../../x\"}]}}",
	};
	struct kg_event ev;
	char why[256];
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		if (parse(texts[i], &ev, why, sizeof(why)) != FB_E_INVALID)
			fail_msg("case %zu accepted", i);
		assert_null(ev.root);
	}
}

/* A LookupEvents record as the alarm's query returns it. */
static cJSON *lookup_event(const char *id, const char *name, const char *key, const char *actor,
			   const char *err)
{
	char rec[1024];
	cJSON *e = cJSON_CreateObject();

	snprintf(rec, sizeof(rec),
		 "{\"eventName\":\"%s\",\"eventID\":\"%s\",\"eventTime\":\"2024-03-01T10:00:30Z\","
		 "\"awsRegion\":\"us-east-1\",\"recipientAccountId\":\"111111111111\","
		 "\"userIdentity\":{\"arn\":\"%s\"},\"requestParameters\":{\"keyId\":\"%s\"}%s%s%s}",
		 name, id, actor, key, err ? ",\"errorCode\":\"" : "", err ? err : "", err ? "\"" : "");
	cJSON_AddStringToObject(e, "EventId", id);
	cJSON_AddStringToObject(e, "EventName", name);
	cJSON_AddStringToObject(e, "CloudTrailEvent", rec);
	return e;
}

static void test_kms_guard__alarm_items(void **st)
{
	static const char *const trusted[] = { "arn:aws:iam::111111111111:role/BreakGlass" };
	const char *k1 = "1234abcd-12ab-34cd-56ef-1234567890ab", *k2 = "2222abcd-12ab-34cd-56ef-1234567890ab";
	const char *m = "arn:aws:iam::111111111111:user/mallory";
	struct resp_config trust;
	struct kg_item items[KG_MAX_ITEMS];
	cJSON *found = cJSON_CreateArray();
	size_t n = 99, ignored;

	(void)st;
	memset(&trust, 0, sizeof(trust));
	trust.trusted = (char **)trusted;
	trust.ntrusted = 1;
	/* newest first, as LookupEvents lists them */
	cJSON_AddItemToArray(found, lookup_event("e5", "DisableKey", k1, m, NULL));        /* same key again */
	cJSON_AddItemToArray(found, lookup_event("e4", "DisableKey", k2,
				"arn:aws:sts::111111111111:assumed-role/BreakGlass/alice", NULL)); /* trusted */
	cJSON_AddItemToArray(found, lookup_event("e3", "ScheduleKeyDeletion", k2, m, "AccessDeniedException"));
	cJSON_AddItemToArray(found, lookup_event("e2", "EnableKey", k1, m, NULL));         /* not a trigger */
	cJSON_AddItemToArray(found, lookup_event("e1", "ScheduleKeyDeletion", k1, m, NULL));
	ignored = kg_items_from_events(found, &trust, "us-east-1", items, KG_MAX_ITEMS, &n);
	assert_int_equal(ignored, 1);
	assert_int_equal(n, 3);
	assert_string_equal(items[0].event_id, "e1");   /* oldest first; decides for k1 */
	assert_string_equal(items[0].key_ref, k1);
	assert_string_equal(items[1].event_id, "e3");
	assert_string_equal(items[1].error_code, "AccessDeniedException");
	assert_string_equal(items[2].event_id, "e4");   /* trusted: its own (skipped) item */
	/* the cap holds */
	ignored = kg_items_from_events(found, &trust, "us-east-1", items, 2, &n);
	assert_int_equal(n, 2);
	cJSON_Delete(found);
}

/* ---- item 8: tag changes ------------------------------------------------------ */

#define TK "arn:aws:kms:us-east-1:111111111111:key/8888abcd-12ab-34cd-56ef-1234567890ab"

/* A LookupEvents element for a tag change on TK. */
static cJSON *tag_event(const char *id, const char *name, long t, const char *actor, const char *params)
{
	char rec[1024];
	cJSON *e = cJSON_CreateObject();

	snprintf(rec, sizeof(rec), "{\"eventID\":\"%s\",\"eventName\":\"%s\",\"userIdentity\":{\"arn\":\"%s\"},"
		 "\"requestParameters\":{\"keyId\":\"" TK "\",%s}}", id, name, actor, params);
	cJSON_AddStringToObject(e, "EventId", id);
	cJSON_AddStringToObject(e, "EventName", name);
	cJSON_AddNumberToObject(e, "EventTime", (double)t);
	cJSON_AddStringToObject(e, "CloudTrailEvent", rec);
	return e;
}

static void test_kms_guard__parse_tag_change(void **st)
{
	struct kg_event ev;
	char why[256];

	(void)st;
	assert_int_equal(parse(envelope(
		"{\"eventName\":\"TagResource\",\"eventID\":\"t-1\",\"eventTime\":\"2024-03-01T10:00:30Z\","
		"\"userIdentity\":{\"arn\":\"arn:aws:iam::111111111111:user/m\"},\"requestParameters\":{\"keyId\":\"" TK "\","
		"\"tags\":[{\"tagKey\":\"Owner\",\"tagValue\":\"x\"},{\"tagKey\":\"firebreak:incident\",\"tagValue\":\"fb-1\"},"
		"{\"tagKey\":\"firebreak:exempt\",\"tagValue\":\"true\"}]}}"), &ev, why, sizeof(why)), FB_OK);
	assert_true(kg_is_tag_item(&ev.item));
	assert_int_equal(ev.item.ntags, 1);   /* Owner and firebreak:incident are not ours to guard */
	assert_string_equal(ev.item.tags[0].key, "firebreak:exempt");
	assert_string_equal(ev.item.tags[0].value, "true");
	assert_false(ev.item.tags[0].unset);
	kg_event_cleanup(&ev);
	assert_int_equal(parse(envelope(
		"{\"eventName\":\"UntagResource\",\"eventID\":\"t-2\",\"requestParameters\":{\"keyId\":\"" TK "\","
		"\"tagKeys\":[\"firebreak:allow-deletion\"]}}"), &ev, why, sizeof(why)), FB_OK);
	assert_true(ev.item.tags[0].unset);
	kg_event_cleanup(&ev);
	/* kms-guard's own incident tag, or no firebreak key at all: not a trigger */
	assert_int_equal(parse(envelope(
		"{\"eventName\":\"TagResource\",\"requestParameters\":{\"keyId\":\"" TK "\","
		"\"tags\":[{\"tagKey\":\"firebreak:incident\",\"tagValue\":\"fb-1\"}]}}"), &ev, why, sizeof(why)),
		FB_E_INVALID);
	assert_non_null(strstr(why, "changes no firebreak:* tag"));
	assert_int_equal(parse(envelope(
		"{\"eventName\":\"UntagResource\",\"requestParameters\":{\"keyId\":\"" TK "\",\"tagKeys\":[\"Owner\"]}}"),
		&ev, why, sizeof(why)), FB_E_INVALID);
}

static void test_kms_guard__tag_revert_plan(void **st)
{
	const char *m = "arn:aws:iam::111111111111:user/mallory", *ops = "arn:aws:iam::111111111111:user/ops";
	struct kg_item it;
	struct kg_tag_revert p;
	cJSON *hist = cJSON_CreateArray();
	cJSON *now_true = cJSON_Parse("[{\"TagKey\":\"firebreak:exempt\",\"TagValue\":\"true\"}]");
	cJSON *now_false = cJSON_Parse("[{\"TagKey\":\"firebreak:exempt\",\"TagValue\":\"false\"}]");
	cJSON *none = cJSON_CreateArray();

	(void)st;
	memset(&it, 0, sizeof(it));
	buf_copy_str(it.event_name, sizeof(it.event_name), "TagResource");
	buf_copy_str(it.event_id, sizeof(it.event_id), "t-9");
	it.event_ms = 1709287230000LL;
	it.ntags = 1;
	buf_copy_str(it.tags[0].key, sizeof(it.tags[0].key), "firebreak:exempt");
	buf_copy_str(it.tags[0].value, sizeof(it.tags[0].value), "true");
	cJSON_AddItemToArray(hist, tag_event("t-9", "TagResource", 1709287230, m,
		"\"tags\":[{\"tagKey\":\"firebreak:exempt\",\"tagValue\":\"true\"}]"));
	/* no earlier value: remove (an exemption that cannot be shown is not kept) */
	kg_tag_revert_plan(hist, 1, &it, 0, now_true, &p);
	assert_int_equal(p.action, KG_TAG_REMOVE);
	assert_true(p.present_now);
	assert_string_equal(p.now, "true");
	assert_non_null(strstr(p.why, "no earlier value"));
	kg_tag_revert_plan(hist, 0, &it, 0, now_true, &p);
	assert_int_equal(p.action, KG_TAG_REMOVE);
	assert_non_null(strstr(p.why, "incomplete"));
	/* already removed: nothing to write */
	kg_tag_revert_plan(hist, 1, &it, 0, none, &p);
	assert_int_equal(p.action, KG_TAG_ALREADY);
	/* changed since (another value now): left to that change */
	kg_tag_revert_plan(hist, 1, &it, 0, now_false, &p);
	assert_int_equal(p.action, KG_TAG_SUPERSEDED);
	/* an earlier value by ops: put it back */
	cJSON_AddItemToArray(hist, tag_event("t-1", "TagResource", 1700000000, ops,
		"\"tags\":[{\"tagKey\":\"firebreak:exempt\",\"tagValue\":\"false\"}]"));
	kg_tag_revert_plan(hist, 1, &it, 0, now_true, &p);
	assert_int_equal(p.action, KG_TAG_SET);
	assert_string_equal(p.value, "false");
	kg_tag_revert_plan(hist, 1, &it, 0, now_false, &p);
	assert_int_equal(p.action, KG_TAG_SUPERSEDED); /* "false" now: not what the event set */
	/* a later change in CloudTrail: superseded, whatever the tags say */
	cJSON_InsertItemInArray(hist, 0, tag_event("t-10", "TagResource", 1709287300, ops,
		"\"tags\":[{\"tagKey\":\"firebreak:exempt\",\"tagValue\":\"true\"}]"));
	kg_tag_revert_plan(hist, 1, &it, 0, now_true, &p);
	assert_int_equal(p.action, KG_TAG_SUPERSEDED);
	assert_non_null(strstr(p.why, "changed again"));
	cJSON_DeleteItemFromArray(hist, 0);

	/* UntagResource */
	buf_copy_str(it.event_name, sizeof(it.event_name), "UntagResource");
	it.tags[0].unset = 1;
	kg_tag_revert_plan(hist, 1, &it, 0, none, &p);
	assert_int_equal(p.action, KG_TAG_SET);         /* ops's "false" is put back */
	assert_string_equal(p.value, "false");
	kg_tag_revert_plan(hist, 1, &it, 0, now_false, &p);
	assert_int_equal(p.action, KG_TAG_ALREADY);
	cJSON_Delete(hist);
	hist = cJSON_CreateArray();
	kg_tag_revert_plan(hist, 1, &it, 0, none, &p);
	assert_int_equal(p.action, KG_TAG_UNKNOWN);     /* older than the history: not guessed */
	assert_non_null(strstr(p.why, "not restored"));
	cJSON_Delete(hist);
	cJSON_Delete(now_true);
	cJSON_Delete(now_false);
	cJSON_Delete(none);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kms_guard__parse_schedule_deletion),
		cmocka_unit_test(test_kms_guard__parse_region_mismatch),
		cmocka_unit_test(test_kms_guard__parse_failed_call_without_key),
		cmocka_unit_test(test_kms_guard__parse_invalid),
		cmocka_unit_test(test_kms_guard__parse_manual),
		cmocka_unit_test(test_kms_guard__alarm_window),
		cmocka_unit_test(test_kms_guard__prior_from_history),
		cmocka_unit_test(test_kms_guard__arn_and_tags),
		cmocka_unit_test(test_kms_guard__key_reference_forms),
		cmocka_unit_test(test_kms_guard__parse_refuses_crafted_keys),
		cmocka_unit_test(test_kms_guard__alarm_items),
		cmocka_unit_test(test_kms_guard__parse_tag_change),
		cmocka_unit_test(test_kms_guard__tag_revert_plan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
