/*
 * Unit tests for runtime/prov.{c,h}: firebreak:* tag provenance from a
 * resource's CloudTrail history, one case per edge case in prov.h, and the
 * one tag-value comparison every function uses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prov.h"

#define T0 1709287230000LL   /* 2024-03-01T10:00:30Z: the triggering event */
#define HOUR (3600LL * 1000)
#define DAY (24 * HOUR)
#define MALLORY "arn:aws:iam::111111111111:user/mallory"
#define OPS "arn:aws:iam::111111111111:user/ops"
#define KEY_ARN "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"

/* A LookupEvents Events element for a KMS call on the key. `tags` is the
 * requestParameters fragment (e.g. "\"tags\":[...]"), may be "". */
static cJSON *ev(const char *id, const char *name, int64_t ms, const char *actor,
		 const char *params, const char *error)
{
	char rec[2048];
	cJSON *e = cJSON_CreateObject();

	snprintf(rec, sizeof(rec),
		 "{\"eventVersion\":\"1.08\",\"eventID\":\"%s\",\"eventName\":\"%s\","
		 "\"eventSource\":\"kms.amazonaws.com\",%s%s%s"
		 "\"userIdentity\":{\"arn\":\"%s\"},\"requestParameters\":{\"keyId\":\"%s\"%s%s}}",
		 id, name, error ? "\"errorCode\":\"" : "", error ? error : "", error ? "\"," : "",
		 actor, KEY_ARN, params[0] ? "," : "", params);
	cJSON_AddStringToObject(e, "EventId", id);
	cJSON_AddStringToObject(e, "EventName", name);
	cJSON_AddNumberToObject(e, "EventTime", (double)(ms / 1000));
	cJSON_AddStringToObject(e, "CloudTrailEvent", rec);
	return e;
}

static cJSON *tag_ev(const char *id, int64_t ms, const char *actor, const char *key, const char *val)
{
	char p[512];

	snprintf(p, sizeof(p), "\"tags\":[{\"tagKey\":\"%s\",\"tagValue\":\"%s\"}]", key, val);
	return ev(id, "TagResource", ms, actor, p, NULL);
}

static cJSON *untag_ev(const char *id, int64_t ms, const char *actor, const char *key)
{
	char p[512];

	snprintf(p, sizeof(p), "\"tagKeys\":[\"%s\"]", key);
	return ev(id, "UntagResource", ms, actor, p, NULL);
}

/* The trigger itself, as LookupEvents lists it. */
static cJSON *trigger_ev(void)
{
	return ev("trig-1", "ScheduleKeyDeletion", T0, MALLORY, "\"pendingWindowInDays\":7", NULL);
}

static struct prov_query query(const char *value)
{
	struct prov_query q;

	memset(&q, 0, sizeof(q));
	q.tag_key = "firebreak:exempt";
	q.tag_value = value;
	q.trigger_ms = T0;
	q.trigger_event_id = "trig-1";
	q.trigger_actor = MALLORY;
	q.min_age_ms = DAY;
	q.complete = 1;
	q.since_ms = 0;
	return q;
}

/* Events array from a NULL-terminated list (takes ownership). */
static cJSON *list(cJSON *first, ...)
{
	cJSON *a = cJSON_CreateArray(), *e;
	va_list ap;

	va_start(ap, first);
	for (e = first; e; e = va_arg(ap, cJSON *))
		cJSON_AddItemToArray(a, e);
	va_end(ap);
	return a;
}

static enum prov_verdict decide(cJSON *events, const struct prov_query *q, struct prov_decision *d)
{
	enum prov_verdict v = prov_decide(events, q, d);

	cJSON_Delete(events);
	return v;
}

static void test_prov__value_true_is_one_comparison(void **st)
{
	static const struct { const char *v; int want; } cases[] = {
		{ "true", 1 }, { "True", 1 }, { "TRUE", 1 }, { " true ", 1 }, { "\ttrue\n", 1 },
		{ "yes", 0 }, { "1", 0 }, { "truex", 0 }, { "t rue", 0 }, { "", 0 }, { "false", 0 },
		{ NULL, 0 },
	};
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(prov_value_true(cases[i].v), cases[i].want);
	assert_true(prov_value_eq(" Team-A", "team-a "));
	assert_false(prov_value_eq("team-a", "team-b"));
	assert_false(prov_value_eq("x", NULL));
	assert_true(prov_value_eq(NULL, NULL));
}

static void test_prov__tag_value_every_shape(void **st)
{
	cJSON *kms = cJSON_Parse("[{\"TagKey\":\"firebreak:exempt\",\"TagValue\":\"True\"}]");
	cJSON *sm = cJSON_Parse("[{\"Key\":\"Owner\",\"Value\":\"x\"},{\"Key\":\"firebreak:exempt\",\"Value\":\" true\"}]");
	cJSON *ecs = cJSON_Parse("[{\"key\":\"firebreak:exempt\",\"value\":\"TRUE\"}]");
	cJSON *other = cJSON_Parse("[{\"key\":\"Firebreak:Exempt\",\"value\":\"true\"}]");

	(void)st;
	assert_true(prov_tag_true(kms, "firebreak:exempt"));
	assert_true(prov_tag_true(sm, "firebreak:exempt"));
	assert_true(prov_tag_true(ecs, "firebreak:exempt"));
	assert_false(prov_tag_true(other, "firebreak:exempt")); /* keys compare exactly */
	assert_string_equal(prov_tag_value(sm, "Owner"), "x");
	assert_null(prov_tag_value(sm, "missing"));
	assert_null(prov_tag_value(NULL, "firebreak:exempt"));
	cJSON_Delete(kms);
	cJSON_Delete(sm);
	cJSON_Delete(ecs);
	cJSON_Delete(other);
}

static void test_prov__same_principal(void **st)
{
	(void)st;
	assert_true(prov_same_principal("arn:aws:sts::111111111111:assumed-role/Dev/alice",
					"arn:aws:sts::111111111111:assumed-role/Dev/bob"));
	assert_true(prov_same_principal("arn:aws:sts::111111111111:assumed-role/Dev/alice",
					"arn:aws:iam::111111111111:role/Dev"));
	assert_false(prov_same_principal("arn:aws:sts::111111111111:assumed-role/Dev/alice",
					 "arn:aws:sts::222222222222:assumed-role/Dev/alice"));
	assert_false(prov_same_principal("arn:aws:sts::111111111111:assumed-role/Dev/a",
					 "arn:aws:sts::111111111111:assumed-role/Dev2/a"));
	assert_true(prov_same_principal(MALLORY, MALLORY));
	assert_false(prov_same_principal(MALLORY, OPS));
	assert_false(prov_same_principal(NULL, MALLORY));
	assert_false(prov_same_principal("", ""));
}

/* The table: each edge case of prov.h, the history, the query changes, and
 * the verdict with a word the reason must contain. */
static void test_prov__absent_tag(void **st)
{
	struct prov_query q = query(NULL);
	struct prov_decision d;

	(void)st;
	assert_int_equal(decide(list(trigger_ev(), NULL), &q, &d), PROV_ABSENT);
}

static void test_prov__older_than_history_is_honoured(void **st)
{
	struct prov_query q = query("true");
	struct prov_decision d;

	(void)st;
	assert_int_equal(decide(list(trigger_ev(), ev("d1", "Decrypt", T0 - 5 * DAY, OPS, "", NULL), NULL),
				&q, &d), PROV_HONOURED);
	assert_non_null(strstr(d.reason, "90-day"));
	/* a window read since (trigger - min age - slack) also proves it */
	q.since_ms = prov_window_start(T0, DAY);
	assert_int_equal(decide(list(trigger_ev(), NULL), &q, &d), PROV_HONOURED);
	assert_non_null(strstr(d.reason, "no change to the tag"));
}

static void test_prov__window_shorter_than_min_age_cannot_verify(void **st)
{
	struct prov_query q = query("true");
	struct prov_decision d;

	(void)st;
	q.since_ms = T0 - HOUR;
	assert_int_equal(decide(list(trigger_ev(), NULL), &q, &d), PROV_IGNORED);
	assert_non_null(strstr(d.reason, "cannot verify"));
}

static void test_prov__incomplete_read_is_ignored(void **st)
{
	struct prov_query q = query("true");
	struct prov_decision d;

	(void)st;
	q.complete = 0;
	q.why_incomplete = "page 2: ThrottlingException after 7 attempts, deadline reached";
	assert_int_equal(decide(list(trigger_ev(), NULL), &q, &d), PROV_IGNORED);
	assert_non_null(strstr(d.reason, "ThrottlingException"));
	q.why_incomplete = NULL; /* failed before any page */
	assert_int_equal(decide(cJSON_CreateArray(), &q, &d), PROV_IGNORED);
	assert_non_null(strstr(d.reason, "incomplete"));
}

static void test_prov__trigger_not_yet_in_history_cannot_verify(void **st)
{
	struct prov_query q = query("true");
	struct prov_decision d;

	(void)st;
	/* CloudTrail has not caught up: the attacker's TagResource a second
	 * before the deletion may be missing too */
	assert_int_equal(decide(list(ev("d1", "Decrypt", T0 - 5 * DAY, OPS, "", NULL), NULL), &q, &d),
			 PROV_IGNORED);
	assert_non_null(strstr(d.reason, "delivery lag"));
	/* a manual invocation has no trigger event to wait for */
	q.trigger_event_id = NULL;
	assert_int_equal(decide(cJSON_CreateArray(), &q, &d), PROV_HONOURED);
}

static void test_prov__set_by_the_actor_is_ignored(void **st)
{
	struct prov_query q = query("true");
	struct prov_decision d;

	(void)st;
	/* a week old, but set by the event's actor */
	assert_int_equal(decide(list(trigger_ev(), tag_ev("t1", T0 - 7 * DAY, MALLORY, "firebreak:exempt",
							     "true"), NULL), &q, &d), PROV_IGNORED);
	assert_non_null(strstr(d.reason, "own actor"));
	assert_string_equal(d.setter, MALLORY);
	/* another session of the same role */
	q.trigger_actor = "arn:aws:sts::111111111111:assumed-role/Dev/session-2";
	assert_int_equal(decide(list(trigger_ev(), tag_ev("t1", T0 - 7 * DAY,
		"arn:aws:sts::111111111111:assumed-role/Dev/session-1", "firebreak:exempt", "true"), NULL),
		&q, &d), PROV_IGNORED);
	assert_non_null(strstr(d.reason, "own actor"));
	/* unknown actor: cannot tell the setter apart */
	q.trigger_actor = "";
	assert_int_equal(decide(list(trigger_ev(), tag_ev("t1", T0 - 7 * DAY, OPS, "firebreak:exempt",
							     "true"), NULL), &q, &d), PROV_IGNORED);
}

static void test_prov__set_by_someone_else_long_ago_is_honoured(void **st)
{
	struct prov_query q = query("true");
	struct prov_decision d;

	(void)st;
	assert_int_equal(decide(list(trigger_ev(), tag_ev("t1", T0 - 2 * DAY, OPS, "firebreak:exempt",
							     "true"), NULL), &q, &d), PROV_HONOURED);
	assert_string_equal(d.setter, OPS);
	assert_true(d.set_ms == T0 - 2 * DAY);
	assert_non_null(strstr(d.reason, "2 d 0 h before the event"));
}

static void test_prov__too_young_is_ignored_unless_trusted(void **st)
{
	struct prov_query q = query("true");
	struct prov_decision d;
	struct resp_config trust;
	char *pat = (char *)"arn:aws:iam::111111111111:role/iac-*";

	(void)st;
	assert_int_equal(decide(list(trigger_ev(), tag_ev("t1", T0 - 2 * HOUR, OPS, "firebreak:exempt",
							     "true"), NULL), &q, &d), PROV_IGNORED);
	assert_non_null(strstr(d.reason, "only 2 h 0 min before the event"));
	/* the min age is configurable */
	q.min_age_ms = HOUR;
	assert_int_equal(decide(list(trigger_ev(), tag_ev("t1", T0 - 2 * HOUR, OPS, "firebreak:exempt",
							     "true"), NULL), &q, &d), PROV_HONOURED);
	/* a trusted principal's tag counts at once (before the event) */
	q.min_age_ms = DAY;
	memset(&trust, 0, sizeof(trust));
	trust.trusted = &pat;
	trust.ntrusted = 1;
	q.trust = &trust;
	assert_int_equal(decide(list(trigger_ev(), tag_ev("t1", T0 - 60000,
		"arn:aws:sts::111111111111:assumed-role/iac-deploy/run-9", "firebreak:exempt", "true"), NULL),
		&q, &d), PROV_HONOURED);
	assert_non_null(strstr(d.reason, "trusted principal"));
	/* ... but not after it */
	assert_int_equal(decide(list(trigger_ev(), tag_ev("t1", T0 + 60000,
		"arn:aws:sts::111111111111:assumed-role/iac-deploy/run-9", "firebreak:exempt", "true"), NULL),
		&q, &d), PROV_IGNORED);
	assert_non_null(strstr(d.reason, "after the event"));
}

static void test_prov__removed_and_readded(void **st)
{
	struct prov_query q = query("true");
	struct prov_decision d;

	(void)st;
	/* set long ago, removed, re-added an hour before: the clock restarts */
	assert_int_equal(decide(list(trigger_ev(),
		tag_ev("t3", T0 - HOUR, OPS, "firebreak:exempt", "true"),
		untag_ev("t2", T0 - 3 * DAY, OPS, "firebreak:exempt"),
		tag_ev("t1", T0 - 30 * DAY, OPS, "firebreak:exempt", "true"), NULL), &q, &d), PROV_IGNORED);
	assert_true(d.set_ms == T0 - HOUR);
	/* newest change removed it, yet it is there now: CloudTrail lags */
	assert_int_equal(decide(list(trigger_ev(),
		untag_ev("t2", T0 - 3 * DAY, OPS, "firebreak:exempt"),
		tag_ev("t1", T0 - 30 * DAY, OPS, "firebreak:exempt", "true"), NULL), &q, &d), PROV_IGNORED);
	assert_non_null(strstr(d.reason, "removed"));
	/* newest change set another value than the one read now */
	assert_int_equal(decide(list(trigger_ev(),
		tag_ev("t1", T0 - 30 * DAY, OPS, "firebreak:exempt", "false"), NULL), &q, &d), PROV_IGNORED);
	assert_non_null(strstr(d.reason, "another value"));
	/* the same value in another case and spacing is the same value */
	q.tag_value = "True";
	assert_int_equal(decide(list(trigger_ev(),
		tag_ev("t1", T0 - 30 * DAY, OPS, "firebreak:exempt", " TRUE "), NULL), &q, &d), PROV_HONOURED);
	/* other keys and failed calls do not count */
	q.tag_value = "true";
	assert_int_equal(decide(list(trigger_ev(),
		tag_ev("t2", T0 - HOUR, MALLORY, "firebreak:allow-deletion", "true"),
		ev("t3", "TagResource", T0 - HOUR, MALLORY,
		   "\"tags\":[{\"tagKey\":\"firebreak:exempt\",\"tagValue\":\"true\"}]", "AccessDeniedException"),
		NULL), &q, &d), PROV_HONOURED);
}

static void test_prov__same_second_disagreement_is_ambiguous(void **st)
{
	struct prov_query q = query("true");
	struct prov_decision d;

	(void)st;
	assert_int_equal(decide(list(trigger_ev(),
		tag_ev("t1", T0 - 3 * DAY, OPS, "firebreak:exempt", "true"),
		untag_ev("t2", T0 - 3 * DAY, OPS, "firebreak:exempt"), NULL), &q, &d), PROV_IGNORED);
	assert_non_null(strstr(d.reason, "same second"));
}

static void test_prov__create_call_with_tags_and_young_resource(void **st)
{
	struct prov_query q = query("true");
	struct prov_decision d;

	(void)st;
	/* CreateKey with Tags by someone else 10 days ago */
	assert_int_equal(decide(list(trigger_ev(), ev("c1", "CreateKey", T0 - 10 * DAY, OPS,
		"\"tags\":[{\"tagKey\":\"firebreak:exempt\",\"tagValue\":\"true\"}]", NULL), NULL), &q, &d),
		PROV_HONOURED);
	/* Secrets Manager / ECS spelling */
	assert_int_equal(decide(list(trigger_ev(), ev("c1", "CreateSecret", T0 - 10 * DAY, MALLORY,
		"\"tags\":[{\"key\":\"firebreak:exempt\",\"value\":\"true\"}]", NULL), NULL), &q, &d),
		PROV_IGNORED);
	/* a resource created an hour before the event cannot carry an old tag */
	q.created_ms = T0 - HOUR;
	assert_int_equal(decide(list(trigger_ev(), NULL), &q, &d), PROV_IGNORED);
	assert_non_null(strstr(d.reason, "created"));
}

static void test_prov__unreadable_tag_record_cannot_verify(void **st)
{
	struct prov_query q = query("true");
	struct prov_decision d;
	cJSON *bad = cJSON_CreateObject();

	(void)st;
	cJSON_AddStringToObject(bad, "EventId", "t9");
	cJSON_AddStringToObject(bad, "EventName", "TagResource");
	cJSON_AddNumberToObject(bad, "EventTime", (double)((T0 - HOUR) / 1000));
	cJSON_AddStringToObject(bad, "CloudTrailEvent", "{not json");
	assert_int_equal(decide(list(trigger_ev(), bad, NULL), &q, &d), PROV_IGNORED);
	assert_non_null(strstr(d.reason, "could not be read"));
}

static void test_prov__value_before_for_reverts(void **st)
{
	cJSON *h = list(
		tag_ev("t3", T0, MALLORY, "firebreak:exempt", "true"),           /* the change to revert */
		tag_ev("t2", T0 - 3 * DAY, OPS, "firebreak:exempt", "false"),
		untag_ev("u1", T0 - 30 * DAY, OPS, "firebreak:allow-deletion"), NULL);
	char val[64], who[256];

	(void)st;
	assert_int_equal(prov_value_before(h, "firebreak:exempt", "t3", 0, val, sizeof(val), who, sizeof(who)),
			 PROV_OP_SET);
	assert_string_equal(val, "false");
	assert_string_equal(who, OPS);
	assert_int_equal(prov_value_before(h, "firebreak:allow-deletion", "t3", 0, val, sizeof(val), NULL, 0),
			 PROV_OP_UNSET);
	assert_int_equal(prov_value_before(h, "firebreak:other", "t3", 0, val, sizeof(val), NULL, 0),
			 PROV_OP_NONE);
	/* by time when the event is not in the list */
	assert_int_equal(prov_value_before(h, "firebreak:exempt", "zz", T0 - 4 * DAY, val, sizeof(val),
					   NULL, 0), PROV_OP_NONE);
	cJSON_Delete(h);
}

/* issue 20: EC2 writes tags as tagSet.items (CreateTags / DeleteTags) and
 * tagSpecificationSet.items[].tags (RunInstances). Before, those records
 * read as "no tag change", so an attacker's CreateTags an hour before the
 * finding looked older than CloudTrail's 90 days and was honoured. */
static void test_prov__ec2_tag_records(void **st)
{
	struct prov_query q = query("true");
	struct prov_decision d;
	char val[64];
	cJSON *rec;

	(void)st;
	q.trigger_event_id = NULL; /* a GuardDuty finding: no CloudTrail record */
	assert_int_equal(decide(list(ev("c1", "CreateTags", T0 - HOUR, MALLORY,
					"\"resourcesSet\":{\"items\":[{\"resourceId\":\"i-0123456789abcdef0\"}]},"
					"\"tagSet\":{\"items\":[{\"key\":\"firebreak:exempt\",\"value\":\"true\"}]}",
					NULL), NULL), &q, &d), PROV_IGNORED);
	assert_string_equal(d.setter, MALLORY);
	assert_int_equal(decide(list(ev("c2", "RunInstances", T0 - 2 * DAY, OPS,
					"\"tagSpecificationSet\":{\"items\":[{\"resourceType\":\"instance\","
					"\"tags\":[{\"key\":\"firebreak:exempt\",\"value\":\"true\"}]}]}",
					NULL), NULL), &q, &d), PROV_HONOURED);
	assert_string_equal(d.setter, OPS);
	rec = cJSON_Parse("{\"eventName\":\"DeleteTags\",\"requestParameters\":{\"tagSet\":{\"items\":"
			  "[{\"key\":\"firebreak:exempt\"}]}}}");
	assert_int_equal(prov_record_op(rec, "firebreak:exempt", val, sizeof(val)), PROV_OP_UNSET);
	assert_int_equal(prov_record_op(rec, "firebreak:other", val, sizeof(val)), PROV_OP_NONE);
	cJSON_Delete(rec);
}

/* An S3 bucket-tagging record as CloudTrail writes it (the documented
 * shape: requestParameters.bucketName, the "tagging" query parameter, and
 * the request body as Tagging.TagSet.Tag, an object for one tag and an
 * array for several), as LookupEvents lists it. `tagging` is the Tagging
 * member's JSON, NULL for none (DeleteBucketTagging). */
static cJSON *s3_ev(const char *id, const char *name, int64_t ms, const char *actor, const char *tagging)
{
	char rec[2048];
	cJSON *e = cJSON_CreateObject();

	snprintf(rec, sizeof(rec),
		 "{\"eventVersion\":\"1.09\",\"eventID\":\"%s\",\"eventName\":\"%s\",\"eventTime\":\"2024-03-01T10:00:00Z\","
		 "\"eventSource\":\"s3.amazonaws.com\",\"awsRegion\":\"us-east-1\",\"eventCategory\":\"Management\","
		 "\"userIdentity\":{\"type\":\"IAMUser\",\"arn\":\"%s\",\"accountId\":\"111111111111\"},"
		 "\"requestParameters\":{\"bucketName\":\"web-assets\",\"Host\":\"web-assets.s3.amazonaws.com\","
		 "\"tagging\":\"\"%s%s},\"responseElements\":null,"
		 "\"resources\":[{\"type\":\"AWS::S3::Bucket\",\"ARN\":\"arn:aws:s3:::web-assets\"}]}",
		 id, name, actor, tagging ? ",\"Tagging\":" : "", tagging ? tagging : "");
	cJSON_AddStringToObject(e, "EventId", id);
	cJSON_AddStringToObject(e, "EventName", name);
	cJSON_AddNumberToObject(e, "EventTime", (double)(ms / 1000));
	cJSON_AddStringToObject(e, "CloudTrailEvent", rec);
	return e;
}

/* S3 records PutBucketTagging with the bucket's whole new tag set and
 * DeleteBucketTagging with none: before, prov read neither, so an
 * attacker's PutBucketTagging an hour before the incident read as "no
 * change in 90 days" and the tag was honoured (public-lock rewrote the
 * records itself, at the wrong depth). */
static void test_prov__s3_bucket_tagging(void **st)
{
	struct prov_query q = query("true");
	struct prov_decision d;
	char val[64];
	cJSON *rec;

	(void)st;
	q.tag_key = "firebreak:public-ok";
	/* one tag: Tag is an object */
	assert_int_equal(decide(list(trigger_ev(), s3_ev("s1", "PutBucketTagging", T0 - HOUR, MALLORY,
		"{\"xmlns\":\"http://s3.amazonaws.com/doc/2006-03-01/\",\"TagSet\":{\"Tag\":"
		"{\"Key\":\"firebreak:public-ok\",\"Value\":\"true\"}}}"), NULL), &q, &d), PROV_IGNORED);
	assert_string_equal(d.setter, MALLORY);
	assert_true(d.set_ms == T0 - HOUR);
	/* several: Tag is an array; set long ago by someone else: honoured */
	assert_int_equal(decide(list(trigger_ev(), s3_ev("s1", "PutBucketTagging", T0 - 30 * DAY, OPS,
		"{\"TagSet\":{\"Tag\":[{\"Key\":\"Owner\",\"Value\":\"web\"},"
		"{\"Key\":\"firebreak:public-ok\",\"Value\":\"true\"}]}}"), NULL), &q, &d), PROV_HONOURED);
	assert_string_equal(d.setter, OPS);
	/* the set replaced wholesale: a later set without the key removed it,
	 * so the tag read now is newer than what CloudTrail shows */
	assert_int_equal(decide(list(trigger_ev(),
		s3_ev("s2", "PutBucketTagging", T0 - 2 * DAY, OPS,
		      "{\"TagSet\":{\"Tag\":{\"Key\":\"Owner\",\"Value\":\"web\"}}}"),
		s3_ev("s1", "PutBucketTagging", T0 - 30 * DAY, OPS,
		      "{\"TagSet\":{\"Tag\":{\"Key\":\"firebreak:public-ok\",\"Value\":\"true\"}}}"), NULL), &q, &d),
		PROV_IGNORED);
	assert_non_null(strstr(d.reason, "removed"));
	/* DeleteBucketTagging removes every key */
	assert_int_equal(decide(list(trigger_ev(), s3_ev("s2", "DeleteBucketTagging", T0 - 2 * DAY, OPS, NULL),
		s3_ev("s1", "PutBucketTagging", T0 - 30 * DAY, OPS,
		      "{\"TagSet\":{\"Tag\":{\"Key\":\"firebreak:public-ok\",\"Value\":\"true\"}}}"), NULL), &q, &d),
		PROV_IGNORED);
	assert_non_null(strstr(d.reason, "removed"));
	/* a tag set that cannot be read: cannot verify */
	assert_int_equal(decide(list(trigger_ev(), s3_ev("s1", "PutBucketTagging", T0 - 30 * DAY, OPS,
		"\"garbled\""), NULL), &q, &d), PROV_IGNORED);
	assert_int_equal(decide(list(trigger_ev(), s3_ev("s1", "PutBucketTagging", T0 - 30 * DAY, OPS,
		"{\"TagSet\":{\"Tag\":[{\"Value\":\"no key\"}]}}"), NULL), &q, &d), PROV_IGNORED);
	/* the record by itself */
	rec = cJSON_Parse("{\"eventName\":\"PutBucketTagging\",\"requestParameters\":{\"Tagging\":{\"TagSet\":"
			  "{\"Tag\":[{\"Key\":\"a\",\"Value\":\"1\"},{\"Key\":\"b\",\"Value\":\"2\"}]}}}}");
	assert_int_equal(prov_record_op(rec, "firebreak:public-ok", val, sizeof(val)), PROV_OP_UNSET);
	assert_int_equal(prov_record_op(rec, "b", val, sizeof(val)), PROV_OP_SET);
	assert_string_equal(val, "2");
	cJSON_Delete(rec);
	rec = cJSON_Parse("{\"eventName\":\"PutBucketTagging\",\"errorCode\":\"AccessDenied\",\"requestParameters\":"
			  "{\"Tagging\":{\"TagSet\":{\"Tag\":{\"Key\":\"b\",\"Value\":\"2\"}}}}}");
	assert_int_equal(prov_record_op(rec, "b", val, sizeof(val)), PROV_OP_NONE);
	cJSON_Delete(rec);
	rec = cJSON_Parse("{\"eventName\":\"DeleteBucketTagging\",\"requestParameters\":{\"bucketName\":\"b\"}}");
	assert_int_equal(prov_record_op(rec, "b", val, sizeof(val)), PROV_OP_UNSET);
	cJSON_Delete(rec);
	rec = cJSON_Parse("{\"eventName\":\"PutBucketTagging\",\"requestParameters\":{\"bucketName\":\"b\"}}");
	assert_int_equal(prov_record_op(rec, "b", val, sizeof(val)), PROV_OP_UNREADABLE);
	cJSON_Delete(rec);
}

/* EC2's CreateTags / DeleteTags name their keys in tagSet.items: a
 * tag-change trigger from EC2 listed no firebreak:* key before. */
static void test_prov__record_firebreak_keys_ec2(void **st)
{
	cJSON *rec = cJSON_Parse("{\"eventName\":\"CreateTags\",\"requestParameters\":{"
				 "\"resourcesSet\":{\"items\":[{\"resourceId\":\"sg-0123456789abcdef0\"}]},"
				 "\"tagSet\":{\"items\":[{\"key\":\"Owner\",\"value\":\"x\"},"
				 "{\"key\":\"firebreak:exempt\",\"value\":\"true\"}]}}}");
	cJSON *keys = cJSON_CreateArray();

	(void)st;
	assert_int_equal(prov_record_firebreak_keys(rec, keys, 8), 1);
	assert_string_equal(cJSON_GetStringValue(resp_get(cJSON_GetArrayItem(keys, 0), "key")), "firebreak:exempt");
	assert_string_equal(cJSON_GetStringValue(resp_get(cJSON_GetArrayItem(keys, 0), "op")), "set");
	assert_string_equal(cJSON_GetStringValue(resp_get(cJSON_GetArrayItem(keys, 0), "value")), "true");
	cJSON_Delete(rec);
	cJSON_Delete(keys);
	rec = cJSON_Parse("{\"eventName\":\"DeleteTags\",\"requestParameters\":{\"tagSet\":{\"items\":"
			  "[{\"key\":\"firebreak:exempt\"}]}}}");
	keys = cJSON_CreateArray();
	assert_int_equal(prov_record_firebreak_keys(rec, keys, 8), 1);
	assert_string_equal(cJSON_GetStringValue(resp_get(cJSON_GetArrayItem(keys, 0), "op")), "unset");
	cJSON_Delete(rec);
	cJSON_Delete(keys);
}

static void test_prov__record_firebreak_keys(void **st)
{
	cJSON *rec = cJSON_Parse("{\"requestParameters\":{\"keyId\":\"k\",\"tags\":["
				 "{\"tagKey\":\"Owner\",\"tagValue\":\"x\"},"
				 "{\"tagKey\":\"firebreak:exempt\",\"tagValue\":\"true\"}],"
				 "\"tagKeys\":[\"firebreak:allow-deletion\",\"Team\"]}}");
	cJSON *keys = cJSON_CreateArray();

	(void)st;
	assert_int_equal(prov_record_firebreak_keys(rec, keys, 8), 2);
	assert_string_equal(resp_get_str(keys, "0.key"), "firebreak:exempt");
	assert_string_equal(resp_get_str(keys, "0.op"), "set");
	assert_string_equal(resp_get_str(keys, "1.key"), "firebreak:allow-deletion");
	assert_string_equal(resp_get_str(keys, "1.op"), "unset");
	cJSON_Delete(rec);
	cJSON_Delete(keys);
}

/* Several flags on one resource: each true one judged and listed, the
 * first honoured (in the order asked) wins; a value not "true" is not. */
static void test_prov__honoured_among_several_flags(void **st)
{
	static const char *const keys[] = { "firebreak:exempt", "firebreak:allow-deletion", "firebreak:watch" };
	struct prov_query q = query(NULL);
	cJSON *events = list(trigger_ev(),
			     tag_ev("t1", T0 - 7 * DAY, MALLORY, "firebreak:exempt", "true"),
			     tag_ev("t2", T0 - 3 * DAY, OPS, "firebreak:allow-deletion", "true"), NULL);
	cJSON *tags = cJSON_Parse("[{\"TagKey\":\"firebreak:exempt\",\"TagValue\":\"true\"},"
				  "{\"TagKey\":\"firebreak:allow-deletion\",\"TagValue\":\"True\"},"
				  "{\"TagKey\":\"firebreak:watch\",\"TagValue\":\"yes\"}]");
	cJSON *out = cJSON_CreateArray();
	char reason[PROV_REASON_LEN] = "";
	const char *h;

	(void)st;
	h = prov_honoured(events, &q, tags, keys, 3, out, reason, sizeof(reason));
	assert_non_null(h);
	assert_string_equal(h, "firebreak:allow-deletion");
	assert_non_null(strstr(reason, "3 d 0 h before the event"));
	assert_int_equal(cJSON_GetArraySize(out), 2); /* watch=yes is not a true flag */
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(out, 0), "verdict")->valuestring, "ignored");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(out, 1), "verdict")->valuestring, "honoured");
	/* none true: nothing judged */
	assert_null(prov_honoured(events, &q, NULL, keys, 3, NULL, reason, sizeof(reason)));
	cJSON_Delete(events);
	cJSON_Delete(tags);
	cJSON_Delete(out);
}

/* w4-kc-lr: prov_decide_tag judges one tag whatever its value (a list of
 * services), reports it and gives the reason either way. */
static void test_prov__decide_tag_any_value(void **st)
{
	struct prov_query q = query(NULL);
	cJSON *events = list(trigger_ev(),
			     tag_ev("t1", T0 - 7 * DAY, OPS, "firebreak:ecs-services", "prod/api"),
			     tag_ev("t2", T0 - 60000, MALLORY, "firebreak:exempt", "true"), NULL);
	cJSON *out = cJSON_CreateArray();
	char why[PROV_REASON_LEN] = "";

	(void)st;
	assert_int_equal(prov_decide_tag(events, &q, "firebreak:ecs-services", "prod/api", why, sizeof(why), out),
			 PROV_HONOURED);
	assert_non_null(strstr(why, "7 d"));
	assert_int_equal(prov_decide_tag(events, &q, "firebreak:exempt", "true", why, sizeof(why), out),
			 PROV_IGNORED);
	assert_non_null(strstr(why, "ignored"));
	assert_int_equal(cJSON_GetArraySize(out), 2);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(out, 0), "value")->valuestring, "prod/api");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(out, 1), "verdict")->valuestring, "ignored");
	/* the base query is the caller's, unchanged */
	assert_string_equal(q.tag_key, "firebreak:exempt");
	assert_null(q.tag_value);
	assert_int_equal(prov_decide_tag(events, &q, "firebreak:exempt", "true", why, sizeof(why), NULL),
			 PROV_IGNORED);
	cJSON_Delete(events);
	cJSON_Delete(out);
}

/* kms-guard's loop safety (moved with kg_is_self): its own tag writes and a
 * responder's member-role sessions are its own; a session name alone is not. */
static void test_prov__is_self(void **st)
{
	const char *self = "arn:aws:sts::999999999999:assumed-role/firebreak-kms-guard/firebreak-kms-guard";

	(void)st;
	assert_true(prov_is_self("arn:aws:sts::999999999999:assumed-role/firebreak-kms-guard/other", self, NULL));
	assert_true(prov_is_self("arn:aws:sts::111111111111:assumed-role/firebreak-member/firebreak-kms-guard-fb-1",
			       self, "firebreak-member"));
	/* the session name alone proves nothing */
	assert_false(prov_is_self("arn:aws:sts::111111111111:assumed-role/Dev/firebreak-kms-guard-fb-1",
				self, "firebreak-member"));
	/* the member role, but not a responder's session */
	assert_false(prov_is_self("arn:aws:sts::111111111111:assumed-role/firebreak-member/alice", self,
				"firebreak-member"));
	assert_false(prov_is_self("arn:aws:iam::111111111111:user/mallory", self, "firebreak-member"));
	assert_false(prov_is_self("arn:aws:iam::111111111111:user/mallory", "", NULL));
	assert_false(prov_is_self("", self, "firebreak-member"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prov__value_true_is_one_comparison),
		cmocka_unit_test(test_prov__ec2_tag_records),
		cmocka_unit_test(test_prov__tag_value_every_shape),
		cmocka_unit_test(test_prov__same_principal),
		cmocka_unit_test(test_prov__absent_tag),
		cmocka_unit_test(test_prov__older_than_history_is_honoured),
		cmocka_unit_test(test_prov__window_shorter_than_min_age_cannot_verify),
		cmocka_unit_test(test_prov__incomplete_read_is_ignored),
		cmocka_unit_test(test_prov__trigger_not_yet_in_history_cannot_verify),
		cmocka_unit_test(test_prov__set_by_the_actor_is_ignored),
		cmocka_unit_test(test_prov__honoured_among_several_flags),
		cmocka_unit_test(test_prov__decide_tag_any_value),
		cmocka_unit_test(test_prov__set_by_someone_else_long_ago_is_honoured),
		cmocka_unit_test(test_prov__too_young_is_ignored_unless_trusted),
		cmocka_unit_test(test_prov__removed_and_readded),
		cmocka_unit_test(test_prov__same_second_disagreement_is_ambiguous),
		cmocka_unit_test(test_prov__create_call_with_tags_and_young_resource),
		cmocka_unit_test(test_prov__unreadable_tag_record_cannot_verify),
		cmocka_unit_test(test_prov__value_before_for_reverts),
		cmocka_unit_test(test_prov__record_firebreak_keys),
		cmocka_unit_test(test_prov__record_firebreak_keys_ec2),
		cmocka_unit_test(test_prov__s3_bucket_tagging),
		cmocka_unit_test(test_prov__is_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
