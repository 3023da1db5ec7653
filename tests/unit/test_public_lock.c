/*
 * public-lock stages (functions/public-lock/stages.c): table-driven, no AWS.
 * The "must not be usable as a weapon" cases: an event cannot name what to
 * lock beyond a valid bucket or account, a crafted name is refused before
 * any call, the event's claims never decide (only pl_exposure over the
 * state read does), our own write does not re-trigger, an attacker's
 * PutBucketTagging of firebreak:public-ok is visible to the provenance rule.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "../../functions/public-lock/stages.c"
#include "prov.h"

static enum fb_err parse(const char *text, struct pl_event *ev, char *why)
{
	return pl_parse(text, strlen(text), ev, why, 300);
}

static void test_pl__bucket_names(void **state)
{
	static const struct { const char *b; int ok; } rows[] = {
		{ "my-bucket", 1 }, { "logs.example.com", 1 }, { "abc", 1 }, { "a1-2", 1 },
		{ "ab", 0 }, { "My-Bucket", 0 }, { "-abc", 0 }, { "abc-", 0 }, { "a..b", 0 },
		{ "192.168.1.1", 0 }, { "xn--abc", 0 }, { "sthree-x", 0 }, { "abc-s3alias", 0 },
		{ "abc--ol-s3", 0 }, { "a/b", 0 }, { "a b", 0 }, { "abc?acl", 0 }, { "", 0 },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0 }, /* 64 */
		{ "evil.com#", 0 }, { "b\xc3\xa9", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (pl_bucket_name_ok(rows[i].b) != rows[i].ok)
			fail_msg("bucket '%s': want %d", rows[i].b, rows[i].ok);
	assert_false(pl_bucket_name_ok(NULL));
}

#define CT(name, rp, extra) \
	"{\"version\":\"0\",\"id\":\"e1\",\"detail-type\":\"AWS API Call via CloudTrail\",\"source\":\"aws.s3\"," \
	"\"account\":\"111111111111\",\"time\":\"2026-12-07T01:00:00Z\",\"region\":\"us-east-1\",\"detail\":{" \
	"\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"" name "\",\"eventID\":\"ev-1\"," \
	"\"eventTime\":\"2026-12-07T01:00:00Z\",\"userIdentity\":{\"arn\":\"arn:aws:iam::111111111111:user/mallory\"}," \
	"\"recipientAccountId\":\"111111111111\",\"requestParameters\":" rp extra "}}"

static void test_pl__parse_cloudtrail(void **state)
{
	struct pl_event ev;
	char why[300];

	(void)state;
	assert_int_equal(parse(CT("PutBucketPolicy", "{\"bucketName\":\"web-1\",\"policy\":\"x\"}", ""), &ev, why),
			 FB_OK);
	assert_int_equal(ev.source, PL_SRC_CLOUDTRAIL);
	assert_int_equal(ev.scope, PL_SCOPE_BUCKET);
	assert_int_equal(ev.nbuckets, 1);
	assert_string_equal(ev.buckets[0], "web-1");
	assert_string_equal(ev.account, "111111111111");
	assert_string_equal(ev.event_id, "ev-1");
	assert_string_equal(ev.actor, "arn:aws:iam::111111111111:user/mallory");
	assert_string_equal(ev.skip, "");
	assert_true(ev.event_ms > 0);
	assert_string_equal(ev.region, "us-east-1");
	pl_event_cleanup(&ev);
	/* the bucket's region is the record's awsRegion */
	assert_int_equal(parse(CT("PutBucketPolicy", "{\"bucketName\":\"web-1\"}", ",\"awsRegion\":\"eu-west-3\""),
			       &ev, why), FB_OK);
	assert_string_equal(ev.region, "eu-west-3");
	pl_event_cleanup(&ev);
	assert_int_equal(parse(CT("PutBucketPolicy", "{\"bucketName\":\"web-1\"}", ",\"awsRegion\":\"eu-west-3.evil\""),
			       &ev, why), FB_E_INVALID);

	/* bucketName "" (the S3 guide's sample): resources[] names it */
	assert_int_equal(parse(CT("PutBucketAcl", "{\"bucketName\":\"\"}",
				  ",\"resources\":[{\"type\":\"AWS::S3::Bucket\",\"ARN\":\"arn:aws:s3:::from-res\"}]"),
			       &ev, why), FB_OK);
	assert_string_equal(ev.buckets[0], "from-res");
	pl_event_cleanup(&ev);

	/* account level */
	assert_int_equal(parse(CT("DeleteAccountPublicAccessBlock", "{\"Host\":\"x\"}", ""), &ev, why), FB_OK);
	assert_int_equal(ev.scope, PL_SCOPE_ACCOUNT);
	assert_int_equal(ev.nbuckets, 0);
	pl_event_cleanup(&ev);

	/* loop safety: our own write (all four on) weakens nothing */
	assert_int_equal(parse(CT("PutBucketPublicAccessBlock", "{\"bucketName\":\"b-1\",\"PublicAccessBlockConfiguration\":"
				  "{\"BlockPublicAcls\":true,\"IgnorePublicAcls\":true,\"BlockPublicPolicy\":true,"
				  "\"RestrictPublicBuckets\":true}}", ""), &ev, why), FB_OK);
	assert_non_null(strstr(ev.skip, "turned every setting on"));
	pl_event_cleanup(&ev);
	assert_int_equal(parse(CT("PutAccountPublicAccessBlock", "{\"PublicAccessBlockConfiguration\":"
				  "{\"BlockPublicAcls\":true,\"IgnorePublicAcls\":true,\"BlockPublicPolicy\":true,"
				  "\"RestrictPublicBuckets\":true}}", ""), &ev, why), FB_OK);
	assert_int_equal(ev.scope, PL_SCOPE_ACCOUNT);
	assert_non_null(strstr(ev.skip, "turned every setting on"));
	pl_event_cleanup(&ev);
	/* one setting off: not skipped (the state decides) */
	assert_int_equal(parse(CT("PutBucketPublicAccessBlock", "{\"bucketName\":\"b-1\",\"PublicAccessBlockConfiguration\":"
				  "{\"BlockPublicAcls\":true,\"IgnorePublicAcls\":true,\"BlockPublicPolicy\":false,"
				  "\"RestrictPublicBuckets\":true}}", ""), &ev, why), FB_OK);
	assert_string_equal(ev.skip, "");
	pl_event_cleanup(&ev);
	/* a failed call changed nothing */
	assert_int_equal(parse(CT("PutBucketPolicy", "{\"bucketName\":\"b-1\"}", ",\"errorCode\":\"AccessDenied\""),
			       &ev, why), FB_OK);
	assert_non_null(strstr(ev.skip, "failed"));
	pl_event_cleanup(&ev);
}

static void test_pl__parse_refuses(void **state)
{
	static const char *const bad[] = {
		/* crafted bucket names never reach a request */
		CT("PutBucketPolicy", "{\"bucketName\":\"../other?policy\"}", ""),
		CT("PutBucketPolicy", "{\"bucketName\":\"UPPER\"}", ""),
		CT("PutBucketPolicy", "{\"bucketName\":\"a.b.evil.com:443\"}", ""),
		CT("PutBucketPolicy", "{\"bucketName\":42}", ""),
		CT("PutBucketPolicy", "{}", ""),
		/* not ours */
		CT("GetObject", "{\"bucketName\":\"b-1\"}", ""),
		CT("DeleteBucket", "{\"bucketName\":\"b-1\"}", ""),
		"{\"detail-type\":\"AWS API Call via CloudTrail\",\"source\":\"aws.s3\",\"detail\":{\"eventSource\":"
		"\"kms.amazonaws.com\",\"eventName\":\"PutBucketPolicy\",\"requestParameters\":{\"bucketName\":\"b-1\"}}}",
		"{\"detail-type\":\"GuardDuty Finding\",\"source\":\"aws.guardduty\",\"detail\":{}}",
		/* an account that is not 12 digits */
		"{\"detail-type\":\"AWS API Call via CloudTrail\",\"source\":\"aws.s3\",\"account\":\"1234\",\"detail\":"
		"{\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"DeleteAccountPublicAccessBlock\"}}",
		/* manual */
		"{}", "{\"bucket\": 1}", "{\"bucket\": \"Bad_Name\"}", "{\"account\": \"12345678901x\"}",
		"{\"bucket\": \"b-1\", \"account\": \"evil.example.com\"}",
		"{\"bucket\": \"b-1\", \"region\": \"us-east-1.evil.example\"}",
		"{\"bucket\": \"b-1\", \"region\": 1}",
		"[1]", "not json", "{\"bucket\": \"b\\u0000x\"}",
	};
	struct pl_event ev;
	char why[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		if (parse(bad[i], &ev, why) != FB_E_INVALID)
			fail_msg("case %zu accepted: %s", i, bad[i]);
		assert_true(why[0] != '\0');
		assert_null(ev.root);
	}
}

#define SH(control, status, workflow, res) \
	"{\"version\":\"0\",\"id\":\"sh-1\",\"detail-type\":\"Security Hub Findings - Imported\"," \
	"\"source\":\"aws.securityhub\",\"account\":\"111111111111\",\"time\":\"2026-12-07T01:00:00Z\"," \
	"\"region\":\"us-east-1\",\"detail\":{\"findings\":[{\"AwsAccountId\":\"111111111111\"," \
	"\"GeneratorId\":\"aws-foundational-security-best-practices/v/1.0.0/" control "\"," \
	"\"Compliance\":{\"Status\":\"" status "\"},\"Workflow\":{\"Status\":\"" workflow "\"}," \
	"\"RecordState\":\"ACTIVE\",\"UpdatedAt\":\"2026-12-07T00:59:00Z\",\"Resources\":[" res "]}]}}"
#define BUCKET_RES(arn) "{\"Type\":\"AwsS3Bucket\",\"Id\":\"" arn "\"}"

static void test_pl__parse_securityhub(void **state)
{
	struct pl_event ev;
	char why[300];

	(void)state;
	assert_int_equal(parse(SH("S3.8", "FAILED", "NEW", BUCKET_RES("arn:aws:s3:::example")), &ev, why), FB_OK);
	assert_int_equal(ev.source, PL_SRC_SECURITYHUB);
	assert_string_equal(ev.control, "S3.8");
	assert_string_equal(ev.buckets[0], "example");
	assert_string_equal(ev.account, "111111111111");
	assert_string_equal(ev.event_id, "");
	assert_string_equal(ev.skip, "");
	pl_event_cleanup(&ev);

	/* negative cases: nothing to do, zero calls */
	assert_int_equal(parse(SH("S3.2", "PASSED", "RESOLVED", BUCKET_RES("arn:aws:s3:::example")), &ev, why),
			 FB_OK);
	assert_non_null(strstr(ev.skip, "PASSED"));
	pl_event_cleanup(&ev);
	assert_int_equal(parse(SH("S3.3", "FAILED", "SUPPRESSED", BUCKET_RES("arn:aws:s3:::example")), &ev, why),
			 FB_OK);
	assert_true(ev.skip[0] != '\0');
	pl_event_cleanup(&ev);
	assert_int_equal(parse(SH("EC2.2", "FAILED", "NEW", BUCKET_RES("arn:aws:s3:::example")), &ev, why), FB_OK);
	assert_non_null(strstr(ev.skip, "EC2.2"));
	pl_event_cleanup(&ev);

	/* a crafted resource id is refused */
	assert_int_equal(parse(SH("S3.2", "FAILED", "NEW", BUCKET_RES("arn:aws:s3:::Bad/../x")), &ev, why),
			 FB_E_INVALID);
	assert_int_equal(parse(SH("S3.2", "FAILED", "NEW", BUCKET_RES("example")), &ev, why), FB_E_INVALID);
}

static void test_pl__blocks(void **state)
{
	struct pl_block b;
	cJSON *j, *in;
	char off[120];

	(void)state;
	j = cJSON_Parse("{\"BlockPublicAcls\":\"true\",\"IgnorePublicAcls\":\"false\","
			"\"BlockPublicPolicy\":\"true\",\"RestrictPublicBuckets\":\"false\"}");
	assert_true(pl_block_from_json(j, &b));
	assert_true(b.present);
	assert_false(pl_block_all_on(&b));
	pl_block_off_names(&b, off, sizeof(off));
	assert_string_equal(off, "IgnorePublicAcls,RestrictPublicBuckets");
	cJSON_Delete(j);
	/* the restore entry is the prior configuration, exactly */
	in = pl_restore_input(&b, "b-1", NULL);
	j = cJSON_Parse("{\"Bucket\":\"b-1\",\"PublicAccessBlockConfiguration\":{\"BlockPublicAcls\":true,"
			"\"IgnorePublicAcls\":false,\"BlockPublicPolicy\":true,\"RestrictPublicBuckets\":false}}");
	assert_true(cJSON_Compare(in, j, 1));
	cJSON_Delete(in);
	cJSON_Delete(j);
	/* wrapped form and booleans */
	j = cJSON_Parse("{\"PublicAccessBlockConfiguration\":{\"BlockPublicAcls\":true,\"IgnorePublicAcls\":true,"
			"\"BlockPublicPolicy\":true,\"RestrictPublicBuckets\":true}}");
	assert_true(pl_block_from_json(j, &b));
	assert_true(pl_block_all_on(&b));
	cJSON_Delete(j);
	/* a value that is neither: the read does not do */
	j = cJSON_Parse("{\"BlockPublicAcls\":\"yes\"}");
	assert_false(pl_block_from_json(j, &b));
	cJSON_Delete(j);
	/* none: no restore input (the caller records a delete) */
	memset(&b, 0, sizeof(b));
	assert_null(pl_restore_input(&b, "b-1", NULL));
	pl_block_off_names(&b, off, sizeof(off));
	assert_string_equal(off, "BlockPublicAcls,IgnorePublicAcls,BlockPublicPolicy,RestrictPublicBuckets");
	/* the lock turns all four on, never anything off */
	in = pl_lock_input("111111111111");
	j = cJSON_Parse("{\"AccountId\":\"111111111111\",\"PublicAccessBlockConfiguration\":{\"BlockPublicAcls\":true,"
			"\"IgnorePublicAcls\":true,\"BlockPublicPolicy\":true,\"RestrictPublicBuckets\":true}}");
	assert_true(cJSON_Compare(in, j, 1));
	cJSON_Delete(in);
	cJSON_Delete(j);
}

static void test_pl__acl(void **state)
{
	static const struct { const char *acl; int n; const char *names; } rows[] = {
		{ "{\"AccessControlList\":{\"Grant\":{\"Grantee\":{\"ID\":\"o\"},\"Permission\":\"FULL_CONTROL\"}}}", 0, "" },
		{ "{\"AccessControlList\":{\"Grant\":[{\"Grantee\":{\"ID\":\"o\"},\"Permission\":\"FULL_CONTROL\"},"
		  "{\"Grantee\":{\"URI\":\"http://acs.amazonaws.com/groups/global/AllUsers\"},\"Permission\":\"READ\"}]}}",
		  1, "AllUsers:READ" },
		{ "{\"AccessControlList\":{\"Grant\":[{\"Grantee\":{\"URI\":\"http://acs.amazonaws.com/groups/global/"
		  "AuthenticatedUsers\"},\"Permission\":\"WRITE\"},{\"Grantee\":{\"URI\":\"http://acs.amazonaws.com/groups/"
		  "global/AllUsers\"},\"Permission\":\"WRITE_ACP\"}]}}", 2, "AuthenticatedUsers:WRITE,AllUsers:WRITE_ACP" },
		/* the log delivery group is not public */
		{ "{\"AccessControlList\":{\"Grant\":{\"Grantee\":{\"URI\":\"http://acs.amazonaws.com/groups/s3/LogDelivery\"},"
		  "\"Permission\":\"WRITE\"}}}", 0, "" },
		{ "{\"AccessControlList\":\"\"}", 0, "" },
		{ "{\"AccessControlList\":{\"Grant\":[1]}}", -1, "" },
		{ "[]", -1, "" },
	};
	char names[200];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cJSON *j = cJSON_Parse(rows[i].acl);

		assert_int_equal(pl_acl_public(j, names, sizeof(names)), rows[i].n);
		if (rows[i].n >= 0)
			assert_string_equal(names, rows[i].names);
		cJSON_Delete(j);
	}
}

static void test_pl__exposure(void **state)
{
	static const struct {
		int pol, acl;
		const char *bucket, *account; /* "1111" = settings, NULL none */
		enum pl_exposure want;
	} rows[] = {
		{ 0, 0, NULL, NULL, PL_NOT_PUBLIC },
		{ 1, 0, NULL, NULL, PL_PUBLIC },
		{ 0, 1, NULL, NULL, PL_PUBLIC },
		{ 1, 0, "0001", NULL, PL_BLOCKED },    /* RestrictPublicBuckets */
		{ 1, 0, "1110", NULL, PL_PUBLIC },     /* BlockPublicPolicy does not affect an existing policy */
		{ 0, 1, "1000", NULL, PL_PUBLIC },     /* BlockPublicAcls does not affect an existing ACL */
		{ 0, 1, "0100", NULL, PL_BLOCKED },    /* IgnorePublicAcls */
		{ 1, 1, "0100", NULL, PL_PUBLIC },     /* the policy still is */
		{ 1, 1, NULL, "0101", PL_BLOCKED },    /* the account's settings count */
		{ 1, 1, "0100", "0001", PL_BLOCKED },  /* the most restrictive combination */
		{ 1, 1, "1111", NULL, PL_BLOCKED },
	};
	size_t i;
	char why[300];

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pl_state s;
		int k;

		memset(&s, 0, sizeof(s));
		s.policy_public = rows[i].pol;
		s.acl_public = rows[i].acl;
		if (rows[i].bucket) {
			s.bucket.present = 1;
			for (k = 0; k < 4; k++)
				s.bucket.on[k] = rows[i].bucket[k] == '1';
		}
		if (rows[i].account) {
			s.account.present = 1;
			for (k = 0; k < 4; k++)
				s.account.on[k] = rows[i].account[k] == '1';
		}
		if (pl_exposure(&s, why, sizeof(why)) != rows[i].want)
			fail_msg("row %zu: got another exposure (%s)", i, why);
		assert_true(why[0] != '\0');
	}
}

/* A LookupEvents entry holding a CloudTrail record. */
static cJSON *lookup_event(const char *name, const char *time_iso, const char *actor, const char *rp)
{
	char rec[2048];
	cJSON *e = cJSON_CreateObject();

	snprintf(rec, sizeof(rec), "{\"eventName\":\"%s\",\"eventTime\":\"%s\",\"eventID\":\"id-%s-%s\","
		 "\"userIdentity\":{\"arn\":\"%s\"},\"requestParameters\":%s}", name, time_iso, name, time_iso,
		 actor, rp);
	cJSON_AddStringToObject(e, "EventName", name);
	cJSON_AddNumberToObject(e, "EventTime", (double)(resp_parse_time_ms(time_iso) / 1000));
	cJSON_AddStringToObject(e, "EventId", strcmp(name, "PutBucketPolicy") ? "x" : "ev-1");
	cJSON_AddStringToObject(e, "CloudTrailEvent", rec);
	return e;
}

static void test_pl__tag_history_for_prov(void **state)
{
	const char *mallory = "arn:aws:iam::111111111111:user/mallory";
	struct prov_query q;
	struct prov_decision d;
	cJSON *events = cJSON_CreateArray(), *tags;
	cJSON *trigger;

	(void)state;
	/* mallory tags the bucket public-ok, then makes it public */
	cJSON_AddItemToArray(events, lookup_event("PutBucketTagging", "2026-12-07T00:59:00Z", mallory,
		"{\"bucketName\":\"b-1\",\"Tagging\":{\"TagSet\":{\"Tag\":{\"Key\":\"firebreak:public-ok\","
		"\"Value\":\"true\"}}}}"));
	trigger = lookup_event("PutBucketPolicy", "2026-12-07T01:00:00Z", mallory, "{\"bucketName\":\"b-1\"}");
	cJSON_ReplaceItemInObject(trigger, "CloudTrailEvent", cJSON_CreateString(
		"{\"eventName\":\"PutBucketPolicy\",\"eventTime\":\"2026-12-07T01:00:00Z\",\"eventID\":\"ev-1\","
		"\"userIdentity\":{\"arn\":\"arn:aws:iam::111111111111:user/mallory\"},\"requestParameters\":{}}"));
	cJSON_AddItemToArray(events, trigger);
	tags = cJSON_Parse("[{\"Key\":\"firebreak:public-ok\",\"Value\":\"true\"}]");
	memset(&q, 0, sizeof(q));
	q.tag_key = PL_TAG_PUBLIC_OK;
	q.tag_value = prov_tag_value(tags, PL_TAG_PUBLIC_OK);
	q.trigger_ms = resp_parse_time_ms("2026-12-07T01:00:00Z");
	q.trigger_event_id = "ev-1";
	q.trigger_actor = mallory;
	q.min_age_ms = 24LL * 3600 * 1000;
	q.complete = 1;

	/* prov reads S3's tagging record itself (runtime/prov, PutBucketTagging):
	 * the setter and the time are known: ignored */
	prov_decide(events, &q, &d);
	assert_int_equal(d.verdict, PROV_IGNORED);
	assert_string_equal(d.setter, mallory);
	cJSON_Delete(events);

	/* a PutBucketTagging whose new set lacks the key removes it; a
	 * DeleteBucketTagging removes it; an unreadable one cannot be verified */
	events = cJSON_CreateArray();
	cJSON_AddItemToArray(events, lookup_event("PutBucketTagging", "2026-10-01T00:00:00Z", mallory,
		"{\"Tagging\":{\"TagSet\":{\"Tag\":[{\"Key\":\"a\",\"Value\":\"1\"},{\"Key\":\"b\",\"Value\":\"2\"}]}}}"));
	cJSON_AddItemToArray(events, lookup_event("DeleteBucketTagging", "2026-10-02T00:00:00Z", mallory, "{}"));
	cJSON_AddItemToArray(events, lookup_event("PutBucketTagging", "2026-10-03T00:00:00Z", mallory,
		"{\"Tagging\":\"garbled\"}"));
	{
		cJSON *r0 = cJSON_Parse(cJSON_GetObjectItem(cJSON_GetArrayItem(events, 0), "CloudTrailEvent")->valuestring);
		cJSON *r1 = cJSON_Parse(cJSON_GetObjectItem(cJSON_GetArrayItem(events, 1), "CloudTrailEvent")->valuestring);
		cJSON *r2 = cJSON_Parse(cJSON_GetObjectItem(cJSON_GetArrayItem(events, 2), "CloudTrailEvent")->valuestring);
		char v[64];

		assert_int_equal(prov_record_op(r0, PL_TAG_PUBLIC_OK, v, sizeof(v)), PROV_OP_UNSET);
		assert_int_equal(prov_record_op(r0, "b", v, sizeof(v)), PROV_OP_SET);
		assert_string_equal(v, "2");
		assert_int_equal(prov_record_op(r1, PL_TAG_PUBLIC_OK, v, sizeof(v)), PROV_OP_UNSET);
		assert_int_equal(prov_record_op(r2, PL_TAG_PUBLIC_OK, v, sizeof(v)), PROV_OP_UNREADABLE);
		cJSON_Delete(r0);
		cJSON_Delete(r1);
		cJSON_Delete(r2);
	}
	/* the history as a whole: set long ago by someone else, but an
	 * unreadable tagging record since: cannot verify */
	q.trigger_event_id = NULL;
	q.trigger_actor = NULL;
	prov_decide(events, &q, &d);
	assert_int_equal(d.verdict, PROV_IGNORED);
	cJSON_Delete(events);
	cJSON_Delete(tags);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pl__bucket_names),
		cmocka_unit_test(test_pl__parse_cloudtrail),
		cmocka_unit_test(test_pl__parse_refuses),
		cmocka_unit_test(test_pl__parse_securityhub),
		cmocka_unit_test(test_pl__blocks),
		cmocka_unit_test(test_pl__acl),
		cmocka_unit_test(test_pl__exposure),
		cmocka_unit_test(test_pl__tag_history_for_prov),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
