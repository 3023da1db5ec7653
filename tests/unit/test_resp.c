/*
 * Unit tests for runtime/resp.c.
 *
 * resp.c is included (not linked) so its static stages (SNS subject and
 * message, ARN helpers) are reachable, and the archive's resp.o is never
 * pulled in. The AWS layer is replaced by the stubs below, which record
 * each call: resp.o's and acct.o's (issue 17: the clients, split from
 * resp.c, linked from the archive) only AWS dependencies are these six
 * functions, so aws.o is not linked into this test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../runtime/resp.c"
#include "acct.h"

/* ---- AWS stubs --------------------------------------------------------------- */

struct aws_client {
	char region[32];
	char role[256]; /* "" = base credentials */
};

static struct {
	int ncalls;
	char ops[16][64];
	cJSON *last_in;
	enum fb_err rc;             /* what aws_do returns */
	const char *account;        /* GetCallerIdentity answer */
	int nassume;
	char assumed[256];
} stub;

static void stub_reset(void)
{
	cJSON_Delete(stub.last_in);
	memset(&stub, 0, sizeof(stub));
	stub.account = "111111111111";
}

enum fb_err aws_do(struct aws_client *c, const char *service, const char *op, const cJSON *in,
		   cJSON **out, struct aws_error *err)
{
	(void)c;
	if (stub.ncalls < 16)
		snprintf(stub.ops[stub.ncalls], sizeof(stub.ops[0]), "%s:%s", service, op);
	stub.ncalls++;
	cJSON_Delete(stub.last_in);
	stub.last_in = in ? cJSON_Duplicate(in, 1) : NULL;
	*out = NULL;
	if (stub.rc != FB_OK) {
		snprintf(err->code, sizeof(err->code), "InternalError");
		err->http_status = 500;
		err->attempts = 3;
		return stub.rc;
	}
	if (!strcmp(op, "GetCallerIdentity")) {
		*out = cJSON_Parse("{\"GetCallerIdentityResponse\":{\"GetCallerIdentityResult\":{}}}");
		cJSON_AddStringToObject(cJSON_GetObjectItem(cJSON_GetObjectItem(*out,
				"GetCallerIdentityResponse"), "GetCallerIdentityResult"),
				"Account", stub.account);
	} else if (!strcmp(op, "Publish")) {
		*out = cJSON_Parse("{\"PublishResponse\":{\"PublishResult\":{\"MessageId\":\"m-1\"}}}");
	}
	return FB_OK;
}

enum fb_err aws_client_assume_role(struct aws_client *c, const char *role_arn,
				   const char *session_name, struct aws_client **out,
				   struct aws_error *err)
{
	(void)err;
	stub.nassume++;
	snprintf(stub.assumed, sizeof(stub.assumed), "%s", role_arn);
	assert_true(strlen(session_name) <= 64);
	*out = calloc(1, sizeof(**out));
	snprintf((*out)->region, sizeof((*out)->region), "%s", c->region);
	snprintf((*out)->role, sizeof((*out)->role), "%s", role_arn);
	return FB_OK;
}

enum fb_err aws_client_for_region(struct aws_client *c, const char *region, struct aws_client **out)
{
	*out = calloc(1, sizeof(**out));
	snprintf((*out)->region, sizeof((*out)->region), "%s", region);
	snprintf((*out)->role, sizeof((*out)->role), "%s", c->role);
	return FB_OK;
}

void aws_client_free(struct aws_client *c) { free(c); }
const char *aws_client_region(const struct aws_client *c) { return c->region; }
const char *aws_client_partition(const struct aws_client *c)
{
	return !strncmp(c->region, "cn-", 3) ? "aws-cn" : "aws";
}

/* ---- helpers ----------------------------------------------------------------- */

static struct lr_context test_ctx = {
	.request_id = "req-1",
	.deadline_ms = 0,
	.function_arn = "arn:aws:lambda:us-east-1:111111111111:function:kms-guard",
	.trace_id = "", .client_context = "", .cognito_identity = "", .tenant_id = "",
};

static void set_env(const char *dry, const char *trusted, const char *topic, const char *role)
{
	if (dry) setenv("FIREBREAK_DRY_RUN", dry, 1); else unsetenv("FIREBREAK_DRY_RUN");
	if (trusted) setenv("FIREBREAK_TRUSTED_PRINCIPALS", trusted, 1);
	else unsetenv("FIREBREAK_TRUSTED_PRINCIPALS");
	if (topic) setenv("FIREBREAK_TOPIC_ARN", topic, 1); else unsetenv("FIREBREAK_TOPIC_ARN");
	if (role) setenv("FIREBREAK_MEMBER_ROLE", role, 1); else unsetenv("FIREBREAK_MEMBER_ROLE");
}

static const char *kEnvelope =
	"{\"version\":\"0\",\"id\":\"6a7e8feb-b491-4cf7-a9f1-bf3703467718\","
	"\"detail-type\":\"AWS API Call via CloudTrail\",\"source\":\"aws.kms\","
	"\"account\":\"111111111111\",\"time\":\"2024-03-01T10:00:00Z\",\"region\":\"us-east-1\","
	"\"resources\":[],\"detail\":{\"eventTime\":\"2024-03-01T09:59:58Z\","
	"\"userIdentity\":{\"arn\":\"arn:aws:sts::111111111111:assumed-role/Admin/alice\"},"
	"\"sourceIPAddress\":\"203.0.113.7\",\"eventName\":\"ScheduleKeyDeletion\","
	"\"requestParameters\":{\"keyId\":\"1234abcd-12ab-34cd-56ef-1234567890ab\"}}}";

/* ---- tests --------------------------------------------------------------------- */

static void test_resp__config_from_env(void **st)
{
	struct resp_config cfg;
	char err[128];

	(void)st;
	set_env("true", " arn:aws:iam::*:role/BreakGlass , ,arn:aws:iam::1:role/Ci ", "arn:t", "Member");
	assert_int_equal(resp_config_from_env(&cfg, err, sizeof(err)), FB_OK);
	assert_int_equal(cfg.dry_run, 1);
	assert_int_equal(cfg.ntrusted, 2);
	assert_string_equal(cfg.trusted[0], "arn:aws:iam::*:role/BreakGlass");
	assert_string_equal(cfg.trusted[1], "arn:aws:iam::1:role/Ci");
	assert_string_equal(cfg.topic_arn, "arn:t");
	assert_string_equal(cfg.member_role, "Member");
	assert_null(cfg.own_account);
	resp_config_cleanup(&cfg);

	set_env(NULL, NULL, "", NULL);
	assert_int_equal(resp_config_from_env(&cfg, err, sizeof(err)), FB_OK);
	assert_int_equal(cfg.dry_run, 0);
	assert_int_equal(cfg.ntrusted, 0);
	assert_null(cfg.topic_arn);
	assert_null(cfg.member_role);
	resp_config_cleanup(&cfg);

	/* A typo must not turn a dry run into a live run. */
	set_env("ture", NULL, NULL, NULL);
	assert_int_equal(resp_config_from_env(&cfg, err, sizeof(err)), FB_E_CONFIG);
	assert_non_null(strstr(err, "FIREBREAK_DRY_RUN"));
	set_env(NULL, NULL, NULL, NULL);
}

/* The one flag reader (resp_config_from_env's flags, kit_env_flag) and the
 * epoch-seconds reader (responders' CreatedDate, prov's EventTime). */
static void test_resp__flag_word_and_epoch_ms(void **st)
{
	static const char *const on[] = { "true", "TRUE", "True", "yes", "YES", "1" };
	static const char *const off[] = { "false", "FALSE", "no", "No", "0" };
	static const char *const bad[] = { "", "ture", "y", "01", " true", "true ", "on", "2" };
	static const int64_t ms[] = { 1796601600500LL, 0, 0, 0, 0, 1000 };
	cJSON *a = cJSON_Parse("[1796601600.5, -1, 0, 1e300, \"1796601600\", 1]");
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(on) / sizeof(on[0]); i++)
		assert_int_equal(resp_flag_word(on[i]), 1);
	for (i = 0; i < sizeof(off) / sizeof(off[0]); i++)
		assert_int_equal(resp_flag_word(off[i]), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(resp_flag_word(bad[i]), -1);
	assert_int_equal(resp_flag_word(NULL), -1);
	/* each of a's values in ms: a number after 1970 in range, else 0 */
	for (i = 0; i < sizeof(ms) / sizeof(ms[0]); i++)
		assert_int_equal(resp_epoch_ms(cJSON_GetArrayItem(a, (int)i)), ms[i]);
	assert_int_equal(resp_epoch_ms(NULL), 0);
	cJSON_Delete(a);
}

/* The step array grows past its first 8 (buf_grow_array), keeping every line. */
static void test_resp__many_steps(void **st)
{
	struct resp_config cfg = { 0 };
	struct resp r;
	char name[16];
	int i;

	(void)st;
	resp_begin(&r, &cfg, "kms-guard", &test_ctx);
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		assert_int_equal(resp_step_begin(&r, name, "kms:DescribeKey", "arn:k", RESP_READ), i);
	}
	assert_int_equal(r.nsteps, 40);
	assert_true(r.capsteps >= 40);
	assert_string_equal(r.steps[0].step, "s0");
	assert_string_equal(r.steps[39].step, "s39");
	resp_cleanup(&r);
}

/* FIREBREAK_TAG_MIN_AGE_HOURS: how old a firebreak:* tag must be (runtime/prov.h). */
static void test_resp__config_tag_min_age(void **st)
{
	static const struct { const char *v; enum fb_err rc; int64_t ms; } cases[] = {
		{ NULL, FB_OK, 24LL * 3600000 }, { "", FB_OK, 24LL * 3600000 }, { "0", FB_OK, 0 },
		{ "1", FB_OK, 3600000 }, { "2160", FB_OK, 2160LL * 3600000 }, { "2161", FB_E_CONFIG, 0 },
		{ "-1", FB_E_CONFIG, 0 }, { "24h", FB_E_CONFIG, 0 }, { "a day", FB_E_CONFIG, 0 },
	};
	struct resp_config cfg;
	char err[128];
	size_t i;

	(void)st;
	set_env(NULL, NULL, NULL, NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].v)
			setenv("FIREBREAK_TAG_MIN_AGE_HOURS", cases[i].v, 1);
		else
			unsetenv("FIREBREAK_TAG_MIN_AGE_HOURS");
		err[0] = '\0';
		assert_int_equal(resp_config_from_env(&cfg, err, sizeof(err)), cases[i].rc);
		if (cases[i].rc == FB_OK) {
			assert_true(cfg.tag_min_age_ms == cases[i].ms);
			resp_config_cleanup(&cfg);
		} else {
			assert_non_null(strstr(err, "FIREBREAK_TAG_MIN_AGE_HOURS"));
		}
	}
	unsetenv("FIREBREAK_TAG_MIN_AGE_HOURS");
}

static void test_resp__glob_match(void **st)
{
	static const struct { const char *p, *s; int want; } cases[] = {
		{ "abc", "abc", 1 }, { "abc", "abd", 0 }, { "a*", "abc", 1 }, { "*", "", 1 },
		{ "", "", 1 }, { "", "a", 0 }, { "*c", "abc", 1 }, { "*b", "abc", 0 },
		{ "a*b*c", "axxbyyc", 1 }, { "a*b*c", "axxbyy", 0 }, { "**", "x", 1 },
		{ "arn:aws:iam::*:role/Ci*", "arn:aws:iam::123:role/CiDeploy", 1 },
		{ "arn:aws:iam::*:role/Ci", "arn:aws:iam::123:role/CiDeploy", 0 },
		{ "a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0 },
	};
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(resp_glob_match(cases[i].p, cases[i].s), cases[i].want);
	assert_int_equal(resp_glob_match(NULL, "a"), 0);
}

static void test_resp__trusted_assumed_role(void **st)
{
	char *pats[] = { "arn:aws:iam::111111111111:role/BreakGlass",
			 "arn:aws:iam::*:role/*Pipeline", "arn:aws:iam::222222222222:user/ops" };
	struct resp_config cfg = { .trusted = pats, .ntrusted = 3 };

	(void)st;
	assert_true(resp_is_trusted(&cfg,
		"arn:aws:sts::111111111111:assumed-role/BreakGlass/alice@example.com"));
	assert_false(resp_is_trusted(&cfg,
		"arn:aws:sts::333333333333:assumed-role/BreakGlass/alice"));
	assert_true(resp_is_trusted(&cfg, "arn:aws:sts::333333333333:assumed-role/IaCPipeline/s"));
	assert_true(resp_is_trusted(&cfg, "arn:aws:iam::222222222222:user/ops"));
	assert_false(resp_is_trusted(&cfg, "arn:aws:iam::222222222222:user/ops2"));
	/* A session name is not a role name. */
	assert_false(resp_is_trusted(&cfg,
		"arn:aws:sts::111111111111:assumed-role/Evil/BreakGlass"));
	assert_false(resp_is_trusted(&cfg, ""));
	assert_false(resp_is_trusted(&cfg, NULL));
	/* Other partitions keep their partition. */
	pats[0] = "arn:aws-cn:iam::111111111111:role/BreakGlass";
	assert_true(resp_is_trusted(&cfg, "arn:aws-cn:sts::111111111111:assumed-role/BreakGlass/x"));
	assert_false(resp_is_trusted(&cfg, "arn:aws:sts::111111111111:assumed-role/BreakGlass/x"));
}

static void test_resp__get_paths(void **st)
{
	cJSON *ev = cJSON_Parse(kEnvelope);
	cJSON *arr = cJSON_Parse("{\"resources\":[{\"ARN\":\"a0\"},{\"ARN\":\"a1\"}],\"n\":1}");

	(void)st;
	assert_string_equal(resp_get_str(ev, "detail-type"), "AWS API Call via CloudTrail");
	assert_string_equal(resp_get_str(ev, "detail.requestParameters.keyId"),
			    "1234abcd-12ab-34cd-56ef-1234567890ab");
	assert_null(resp_get_str(ev, "detail.requestParameters.keyId.x"));
	assert_null(resp_get_str(ev, "detail.nope"));
	assert_null(resp_get_str(ev, "detail"));          /* an object, not a string */
	assert_null(resp_get_str(ev, "detail..eventName"));
	assert_null(resp_get_str(ev, ""));
	assert_non_null(resp_get(ev, "detail"));
	assert_string_equal(resp_get_str(arr, "resources.1.ARN"), "a1");
	assert_null(resp_get_str(arr, "resources.2.ARN"));
	assert_null(resp_get_str(arr, "resources.-1.ARN"));
	assert_null(resp_get_str(arr, "n"));
	assert_null(resp_get_str(NULL, "n"));
	cJSON_Delete(ev);
	cJSON_Delete(arr);
}

static void test_resp__incident_from_event_id(void **st)
{
	struct resp_config cfg = { 0 };
	struct resp a, b;
	cJSON *ev = cJSON_Parse(kEnvelope);
	char want[20];

	(void)st;
	assert_int_equal(resp_begin(&a, &cfg, "kms-guard", &test_ctx), FB_OK);
	assert_int_equal(resp_trigger_from_event(&a, ev), FB_OK);
	/* A retry is a new invocation (new request id), same event id. */
	struct lr_context retry = test_ctx;
	retry.request_id = "req-2";
	assert_int_equal(resp_begin(&b, &cfg, "kms-guard", &retry), FB_OK);
	assert_int_equal(resp_trigger_from_event(&b, ev), FB_OK);
	assert_string_equal(a.incident_id, b.incident_id);
	/* printf 6a7e8feb-b491-4cf7-a9f1-bf3703467718 | sha256sum */
	snprintf(want, sizeof(want), "fb-%s", "ab5d5fa1bb36968a");
	assert_string_equal(a.incident_id, want);
	assert_int_equal(strlen(a.incident_id), 19);
	assert_string_equal(a.account, "111111111111");
	assert_string_equal(a.region, "us-east-1");
	assert_string_equal(resp_get_str(a.trigger, "actor_arn"),
			    "arn:aws:sts::111111111111:assumed-role/Admin/alice");
	assert_string_equal(resp_get_str(a.trigger, "source_ip"), "203.0.113.7");
	assert_string_equal(resp_get_str(a.trigger, "detail_type"), "AWS API Call via CloudTrail");
	assert_true(a.event_time_ms == (int64_t)1709287200 * 1000);
	resp_cleanup(&a);
	resp_cleanup(&b);
	cJSON_Delete(ev);
}

static void test_resp__manual_event_and_dry_run(void **st)
{
	struct resp_config cfg = { 0 };
	struct resp r;
	cJSON *ev = cJSON_Parse("{\"keyId\":\"k\",\"region\":\"eu-west-1\",\"dryRun\":true}");
	cJSON *bad = cJSON_Parse("{\"keyId\":\"k\",\"dryRun\":\"yes\"}");
	cJSON *badtype = cJSON_Parse("{\"source\":7,\"detail-type\":\"x\"}");
	char id1[80];

	(void)st;
	resp_begin(&r, &cfg, "kms-guard", &test_ctx);
	assert_int_equal(r.dry_run, 0);
	assert_int_equal(resp_trigger_from_event(&r, ev), FB_OK);
	assert_int_equal(r.dry_run, 1);
	assert_string_equal(resp_get_str(r.trigger, "source"), "manual");
	assert_string_equal(r.region, "eu-west-1");
	assert_int_equal(strncmp(r.incident_id, "fb-", 3), 0);
	snprintf(id1, sizeof(id1), "%s", r.incident_id);
	resp_cleanup(&r);
	/* Same manual event again -> same incident. */
	resp_begin(&r, &cfg, "kms-guard", &test_ctx);
	resp_trigger_from_event(&r, ev);
	assert_string_equal(r.incident_id, id1);
	assert_int_equal(resp_trigger_from_event(&r, bad), FB_E_INVALID);
	assert_int_equal(resp_trigger_from_event(&r, badtype), FB_E_INVALID);
	assert_int_equal(resp_trigger_from_event(&r, cJSON_GetObjectItem(ev, "keyId")), FB_E_INVALID);
	resp_cleanup(&r);
	/* The event cannot turn a configured dry run off. */
	cfg.dry_run = 1;
	cJSON_ReplaceItemInObject(ev, "dryRun", cJSON_CreateFalse());
	resp_begin(&r, &cfg, "kms-guard", &test_ctx);
	resp_trigger_from_event(&r, ev);
	assert_int_equal(r.dry_run, 1);
	resp_cleanup(&r);
	cJSON_Delete(ev);
	cJSON_Delete(bad);
	cJSON_Delete(badtype);
}

static void test_resp__steps_and_report(void **st)
{
	struct resp_config cfg = { 0 };
	struct resp r;
	struct aws_error e = { .http_status = 400, .code = "ThrottlingException",
			       .message = "Rate exceeded", .attempts = 3 };
	cJSON *rep, *acts;
	int i0, i1;

	(void)st;
	resp_begin(&r, &cfg, "kms-guard", &test_ctx);
	r.event_time_ms = r.received_ms - 1500;
	i0 = resp_step_begin(&r, "describe", "kms:DescribeKey", "arn:k", RESP_READ);
	resp_step_end(&r, i0, RESP_DONE, "Enabled", NULL);
	resp_restore_add(&r, cJSON_Parse("{\"api\":\"kms:ScheduleKeyDeletion\",\"args\":{}}"));
	i1 = resp_step_begin(&r, "cancel-deletion", "kms:CancelKeyDeletion", "arn:k", RESP_WRITE);
	assert_int_equal(resp_step_dry(&r, i1), 0);
	resp_step_end(&r, i1, RESP_DONE, "cancelled", NULL);
	resp_contained(&r);
	cJSON_AddStringToObject(r.extra, "prior_state", "Enabled");
	cJSON_AddStringToObject(r.extra, "verdict", "ignored: contract field wins");
	assert_false(resp_failed(&r));

	rep = resp_report_json(&r);
	assert_string_equal(resp_get_str(rep, "verdict"), "contained");
	assert_string_equal(resp_get_str(rep, "severity"), "P1");
	assert_string_equal(resp_get_str(rep, "prior_state"), "Enabled");
	assert_string_equal(resp_get_str(rep, "actions.1.status"), "done");
	assert_string_equal(resp_get_str(rep, "actions.1.api"), "kms:CancelKeyDeletion");
	assert_string_equal(resp_get_str(rep, "restore.0.api"), "kms:ScheduleKeyDeletion");
	assert_int_equal((int)cJSON_GetObjectItem(cJSON_GetObjectItem(rep, "timings"),
			 "event_to_received_ms")->valuedouble, 1500);
	assert_non_null(resp_get_str(rep, "timings.contained"));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(rep, "dry_run")));
	cJSON_Delete(rep);

	/* A failed required step: never "contained", even if a verdict says so. */
	resp_set_verdict(&r, "contained");
	i1 = resp_step_begin(&r, "enable", "kms:EnableKey", "arn:k", RESP_WRITE);
	resp_step_end(&r, i1, RESP_FAILED, NULL, &e);
	assert_true(resp_failed(&r));
	rep = resp_report_json(&r);
	assert_string_equal(resp_get_str(rep, "verdict"), "failed");
	acts = cJSON_GetObjectItem(rep, "actions");
	assert_string_equal(resp_get_str(acts, "2.status"), "failed");
	assert_non_null(strstr(resp_get_str(acts, "2.error"), "ThrottlingException"));
	assert_non_null(strstr(resp_get_str(acts, "2.error"), "3 attempts"));
	cJSON_Delete(rep);

	/* An optional failed step does not fail the invocation. */
	resp_step_optional(&r, i1);
	assert_false(resp_failed(&r));
	resp_cleanup(&r);
}

/* The runtime's warnings (resp_warn: an invalid event time, say) and a
 * responder's own extra.warnings are one list in the report: neither hides
 * the other (leak-rotate and task-quarantine keep their own list). */
static void test_resp__warnings_merge_with_the_responders_own(void **st)
{
	struct resp_config cfg = { 0 };
	struct resp r;
	cJSON *rep, *own;

	(void)st;
	resp_begin(&r, &cfg, "leak-rotate", &test_ctx);
	own = cJSON_AddArrayToObject(r.extra, "warnings");
	cJSON_AddItemToArray(own, cJSON_CreateString("responder's own"));
	resp_warn(&r, "runtime's %d", 1);
	rep = resp_report_json(&r);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(rep, "warnings")), 2);
	assert_string_equal(resp_get_str(rep, "warnings.0"), "runtime's 1");
	assert_string_equal(resp_get_str(rep, "warnings.1"), "responder's own");
	cJSON_Delete(rep);
	resp_cleanup(&r);
}

static void test_resp__dry_run_plans_writes(void **st)
{
	struct resp_config cfg = { .dry_run = 1 };
	struct resp r;
	cJSON *rep;
	int i;

	(void)st;
	resp_begin(&r, &cfg, "kms-guard", &test_ctx);
	i = resp_step_begin(&r, "describe", "kms:DescribeKey", "k", RESP_READ);
	assert_int_equal(resp_step_dry(&r, i), 0);
	resp_step_end(&r, i, RESP_DONE, NULL, NULL);
	i = resp_step_begin(&r, "enable", "kms:EnableKey", "k", RESP_WRITE);
	assert_int_equal(resp_step_dry(&r, i), 1);
	rep = resp_report_json(&r);
	assert_string_equal(resp_get_str(rep, "actions.1.status"), "planned");
	assert_string_equal(resp_get_str(rep, "verdict"), "planned (dry run)");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(rep, "dry_run")));
	cJSON_Delete(rep);
	resp_cleanup(&r);
}

static void test_resp__already_and_skip_verdicts(void **st)
{
	struct resp_config cfg = { 0 };
	struct resp r;
	cJSON *rep;
	int i;

	(void)st;
	resp_begin(&r, &cfg, "kms-guard", &test_ctx);
	i = resp_step_begin(&r, "enable", "kms:EnableKey", "k", RESP_WRITE);
	resp_step_end(&r, i, RESP_ALREADY, "already Enabled", NULL);
	rep = resp_report_json(&r);
	assert_string_equal(resp_get_str(rep, "verdict"), "already-contained");
	cJSON_Delete(rep);
	resp_skip(&r, "trusted actor '%s'", "arn:x");
	assert_true(r.skipped);
	rep = resp_report_json(&r);
	assert_string_equal(resp_get_str(rep, "verdict"), "skipped: trusted actor 'arn:x'");
	cJSON_Delete(rep);
	resp_cleanup(&r);
}

static void test_resp__fingerprint_hides_short_secrets(void **st)
{
	char fp[RESP_FP_LEN], hex[65];
	const char *key = "AKIAIOSFODNN7EXAMPLE";

	(void)st;
	resp_fingerprint(key, strlen(key), fp);
	sha256_hex(key, strlen(key), hex, 9);
	assert_int_equal(strncmp(fp, "AKIA\xe2\x80\xa6sha256:", 14), 0);
	assert_string_equal(fp + 14, hex);
	assert_null(strstr(fp, "IOSFODNN"));

	resp_fingerprint("hunter22", 8, fp);          /* 8..15: two characters */
	assert_int_equal(strncmp(fp, "hu\xe2\x80\xa6", 5), 0);
	assert_null(strstr(fp, "hun"));
	resp_fingerprint("abc1234", 7, fp);           /* < 8: none */
	assert_int_equal(strncmp(fp, "\xe2\x80\xa6sha256:", 10), 0);
	assert_null(strstr(fp, "abc"));
	resp_fingerprint("", 0, fp);
	assert_int_equal(strlen(fp), 3 + 7 + 8);
	resp_fingerprint(NULL, 5, fp);
	assert_int_equal(strlen(fp), 3 + 7 + 8);
	/* Non-printable leading bytes do not leak into a log line. */
	resp_fingerprint("\n\x01\xff" "abcdefghijklmnop", 19, fp);
	assert_int_equal(strncmp(fp, "???a", 4), 0);
}

static void test_resp__sns_subject_and_message_limits(void **st)
{
	struct resp_config cfg = { 0 };
	struct resp r;
	char subj[RESP_SNS_SUBJECT_MAX + 1];
	struct buf big;
	char *msg;
	cJSON *parsed;
	size_t i;

	(void)st;
	resp_begin(&r, &cfg, "kms-guard-with-a-rather-long-function-name-for-testing", &test_ctx);
	sns_subject(&r, "skipped: k\xc3\xa9y \n tagged firebreak:allow-deletion=true and more words "
		    "to overflow the limit", subj, sizeof(subj));
	assert_true(strlen(subj) <= 99);
	for (i = 0; subj[i]; i++)
		assert_true(subj[i] >= 0x20 && subj[i] <= 0x7e);

	/* 300 KB of multi-byte text: the message stays valid JSON under 256 KB. */
	buf_init(&big, 400 * 1024);
	assert_int_equal(buf_puts(&big, "{\"x\":\""), FB_OK);
	while (big.len < 300 * 1024)
		assert_int_equal(buf_puts(&big, "\xc3\xa9\"\\"), FB_OK);
	msg = sns_message(&r, big.data, big.len);
	assert_non_null(msg);
	assert_true(strlen(msg) <= RESP_SNS_MESSAGE_MAX);
	parsed = cJSON_Parse(msg);
	assert_non_null(parsed);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(parsed, "truncated")));
	assert_int_equal((size_t)cJSON_GetObjectItem(parsed, "report_bytes")->valuedouble, big.len);
	cJSON_Delete(parsed);
	cJSON_free(msg);
	/* A small report goes out as it is. */
	msg = sns_message(&r, "{\"a\":1}", 7);
	assert_string_equal(msg, "{\"a\":1}");
	free(msg);
	buf_cleanup(&big);
	resp_cleanup(&r);
}

static void test_resp__finish_publishes_and_errors(void **st)
{
	struct resp_config cfg = { .topic_arn = "arn:aws:sns:us-east-1:111111111111:fb" };
	struct aws_client base = { .region = "us-east-1" };
	struct lr_result out;
	struct resp r;
	cJSON *rep, *msg;
	int i;

	(void)st;
	stub_reset();
	memset(&out, 0, sizeof(out));
	buf_init(&out.body, LR_MAX_RESPONSE_BYTES);
	resp_begin(&r, &cfg, "kms-guard", &test_ctx);
	i = resp_step_begin(&r, "enable", "kms:EnableKey", "k", RESP_WRITE);
	resp_step_end(&r, i, RESP_DONE, NULL, NULL);
	assert_int_equal(resp_finish(&r, &base, &out), FB_OK);
	assert_int_equal(out.is_error, 0);
	assert_int_equal(stub.ncalls, 1);
	assert_string_equal(stub.ops[0], "sns:Publish");
	assert_string_equal(resp_get_str(stub.last_in, "TopicArn"), cfg.topic_arn);
	assert_true(strlen(resp_get_str(stub.last_in, "Subject")) <= 99);
	msg = cJSON_Parse(resp_get_str(stub.last_in, "Message"));
	assert_string_equal(resp_get_str(msg, "incident_id"), r.incident_id);
	assert_string_equal(resp_get_str(msg, "verdict"), "contained");
	cJSON_Delete(msg);
	rep = cJSON_Parse(out.body.data);
	assert_string_equal(resp_get_str(rep, "actions.1.api"), "sns:Publish");
	assert_string_equal(resp_get_str(rep, "actions.1.status"), "done");
	assert_non_null(resp_get_str(rep, "timings.contained"));
	cJSON_Delete(rep);
	resp_cleanup(&r);
	buf_cleanup(&out.body);
	free(out.error_message);

	/* A failed required step: a function error carrying the report. */
	memset(&out, 0, sizeof(out));
	buf_init(&out.body, LR_MAX_RESPONSE_BYTES);
	resp_begin(&r, &cfg, "kms-guard", &test_ctx);
	i = resp_step_begin(&r, "cancel-deletion", "kms:CancelKeyDeletion", "k", RESP_WRITE);
	resp_step_end(&r, i, RESP_FAILED, NULL, NULL);
	assert_int_equal(resp_finish(&r, &base, &out), FB_OK);
	assert_int_equal(out.is_error, 1);
	assert_string_equal(out.error_type, "Firebreak.ContainmentFailed");
	rep = cJSON_Parse(out.error_message);
	assert_string_equal(resp_get_str(rep, "verdict"), "failed");
	assert_string_equal(resp_get_str(rep, "actions.0.step"), "cancel-deletion");
	assert_null(resp_get_str(rep, "timings.contained"));
	cJSON_Delete(rep);
	resp_cleanup(&r);
	buf_cleanup(&out.body);
	free(out.error_message);

	/* A skip whose notification fails is an error: nothing else happened. */
	stub_reset();
	stub.rc = FB_E_AWS;
	memset(&out, 0, sizeof(out));
	buf_init(&out.body, LR_MAX_RESPONSE_BYTES);
	resp_begin(&r, &cfg, "kms-guard", &test_ctx);
	resp_skip(&r, "trusted actor");
	assert_int_equal(resp_finish(&r, &base, &out), FB_OK);
	assert_int_equal(out.is_error, 1);
	resp_cleanup(&r);
	buf_cleanup(&out.body);
	free(out.error_message);
	stub_reset();
}

static void test_resp__time_parse_and_format(void **st)
{
	/* expected values: date -u -d '2019-10-02T17:20:48.551Z' +%s%3N etc. */
	static const struct { const char *in; int64_t want; } cases[] = {
		{ "2019-10-02T17:20:48Z", 1570036848000LL },
		{ "2019-10-02T17:20:48.551+0000", 1570036848551LL },
		{ "2019-10-02T17:20:48.5Z", 1570036848500LL },
		{ "2019-10-02T19:20:48+02:00", 1570036848000LL },
		{ "2019-10-02T12:20:48-0500", 1570036848000LL },
		{ "Apr 12, 2021 18:58:30 PM", 0 }, { "", 0 }, { "2019-13-02T17:20:48Z", 0 },
		/* issue 16 item 11: out-of-range fields are refused, not
		 * normalised into another instant by timegm. */
		{ "2026-02-30T25:61:00Z", 0 }, { "2026-02-30T10:00:00Z", 0 },
		{ "2023-02-29T00:00:00Z", 0 }, { "2100-02-29T00:00:00Z", 0 },
		{ "2024-04-31T00:00:00Z", 0 }, { "2024-01-01T24:00:00Z", 0 },
		{ "2024-01-01T00:60:00Z", 0 }, { "2024-01-01T00:00:60Z", 0 },
		{ "2024-01-01T00:00:00", 0 }, { "2024-01-01T00:00:00Zjunk", 0 },
		{ "2024-01-01T00:00:00+15:00", 0 }, { "2024-01-01T00:00:00+01:7", 0 },
		{ "2024-01-01T00:00:00.Z", 0 }, { "2024-1-01T00:00:00Z", 0 },
		{ "+024-01-01T00:00:00Z", 0 }, { "2024-01-01 00:00:00Z", 0 },
		/* date -u -d '2024-02-29T23:59:59Z' +%s; '2000-02-29T00:00:00Z' */
		{ "2024-02-29T23:59:59Z", 1709251199000LL }, { "2000-02-29T00:00:00Z", 951782400000LL },
		{ "2024-01-01T00:00:00+14:00", 1704016800000LL },
	};
	char out[RESP_TIME_LEN];
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_true(resp_parse_time_ms(cases[i].in) == cases[i].want);
	assert_true(resp_parse_time_ms(NULL) == 0);
	resp_format_time_ms(1570036848551LL, out);
	assert_string_equal(out, "2019-10-02T17:20:48.551Z");
}

static void test_resp__invalid_event(void **st)
{
	struct lr_result out;

	(void)st;
	memset(&out, 0, sizeof(out));
	buf_init(&out.body, 1024);
	assert_int_equal(resp_invalid(&out, "missing '%s'\n", "keyId"), FB_OK);
	assert_int_equal(out.is_error, 1);
	assert_string_equal(out.error_type, "Firebreak.InvalidEvent");
	assert_string_equal(out.error_message, "invalid event: missing 'keyId' ");
	buf_cleanup(&out.body);
	free(out.error_message);
}

static void test_resp__client_for_accounts(void **st)
{
	struct resp_config cfg = { 0 };
	struct aws_client base = { .region = "us-east-1" }, *c;
	struct aws_error err;
	struct resp r;
	struct lr_context noarn = test_ctx;
	int owned;

	(void)st;
	stub_reset();
	resp_begin(&r, &cfg, "kms-guard", &test_ctx);
	/* Own account (from the function ARN, no STS call), same region. */
	assert_int_equal(acct_client_for(&r, &base, "111111111111", "us-east-1", &c, &owned, &err),
			 FB_OK);
	assert_ptr_equal(c, &base);
	assert_int_equal(owned, 0);
	assert_int_equal(stub.ncalls, 0);
	assert_string_equal(cfg.own_account, "111111111111");
	/* Own account, other region. */
	assert_int_equal(acct_client_for(&r, &base, "111111111111", "eu-west-1", &c, &owned, &err),
			 FB_OK);
	assert_int_equal(owned, 1);
	assert_string_equal(c->region, "eu-west-1");
	aws_client_free(c);
	/* Foreign account without a member role: refused. */
	assert_int_equal(acct_client_for(&r, &base, "222222222222", NULL, &c, &owned, &err),
			 FB_E_CONFIG);
	assert_null(c);
	assert_non_null(strstr(err.message, "FIREBREAK_MEMBER_ROLE"));
	/* With one: AssumeRole into arn:aws:iam::222222222222:role/<role>. */
	cfg.member_role = "FirebreakMember";
	assert_int_equal(acct_client_for(&r, &base, "222222222222", "eu-west-1", &c, &owned, &err),
			 FB_OK);
	assert_int_equal(owned, 1);
	assert_string_equal(stub.assumed, "arn:aws:iam::222222222222:role/FirebreakMember");
	assert_string_equal(c->role, "arn:aws:iam::222222222222:role/FirebreakMember");
	assert_string_equal(c->region, "eu-west-1");
	aws_client_free(c);
	cfg.member_role = NULL;
	free(cfg.own_account);
	cfg.own_account = NULL;
	resp_cleanup(&r);

	/* No function ARN: STS GetCallerIdentity, once. */
	noarn.function_arn = "";
	resp_begin(&r, &cfg, "kms-guard", &noarn);
	assert_int_equal(acct_client_for(&r, &base, "111111111111", NULL, &c, &owned, &err), FB_OK);
	assert_int_equal(acct_client_for(&r, &base, "111111111111", NULL, &c, &owned, &err), FB_OK);
	assert_int_equal(stub.ncalls, 1);
	assert_string_equal(stub.ops[0], "sts:GetCallerIdentity");
	assert_string_equal(cfg.own_account, "111111111111");
	assert_int_equal(owned, 0);
	resp_cleanup(&r);
	free(cfg.own_account);
	stub_reset();
}

/* ---- resp_parse_event ------------------------------------------------------------ */

/* Explicit lengths: several cases carry NUL bytes. */
struct pe_case {
	const char *name;
	const char *text;
	size_t len;         /* 0: strlen(text) */
	int ok;
	const char *why;    /* substring of the reason when refused */
};

#define PE(n, t, ok, why) { n, t, sizeof(t) - 1, ok, why }

static const struct pe_case pe_cases[] = {
	PE("object", "{\"a\":1}", 1, NULL),
	PE("whitespace around", " \t\r\n{\"a\":[1,2,{}]}\n ", 1, NULL),
	PE("two-byte utf-8", "{\"k\":\"caf\xc3\xa9\"}", 1, NULL),
	PE("three-byte utf-8", "{\"k\":\"\xe2\x82\xac \xe6\x97\xa5\xe6\x9c\xac\"}", 1, NULL),
	PE("four-byte utf-8 and max", "{\"k\":\"\xf0\x9f\x94\xa5\xf4\x8f\xbf\xbf\"}", 1, NULL),
	PE("utf-8 key", "{\"\xc3\xa9t\xc3\xa9\":true}", 1, NULL),
	PE("escaped backslash then u0000", "{\"k\":\"a\\\\u0000b\"}", 1, NULL),
	PE("escaped quote then u0000 text", "{\"k\":\"\\\"u0000\"}", 1, NULL),
	PE("other escapes", "{\"k\":\"\\u0041\\n\\t\\/\\ud83d\\udd25\"}", 1, NULL),
	PE("braces inside strings", "{\"k\":\"[[[[{{{{\"}", 1, NULL),
	PE("DEL is not a control char", "{\"k\":\"\x7f\"}", 1, NULL),
	PE("empty", "", 0, "empty"),
	PE("not json", "hello", 0, "not JSON"),
	PE("truncated", "{\"a\":", 0, "not JSON"),
	PE("array", "[1,2]", 0, "not a JSON object"),
	PE("string", "\"x\"", 0, "not a JSON object"),
	PE("null", "null", 0, "not a JSON object"),
	PE("trailing data", "{\"a\":1} {}", 0, "trailing"),
	PE("trailing garbage", "{\"a\":1}x", 0, "trailing"),
	PE("raw nul after object", "{\"a\":1}\0", 0, "control byte 0x00"),
	PE("raw nul in string", "{\"a\":\"x\0y\"}", 0, "control byte 0x00"),
	PE("raw newline in string", "{\"a\":\"x\ny\"}", 0, "control byte 0x0a"),
	PE("raw control outside string", "{\x01\"a\":1}", 0, "control byte 0x01"),
	PE("form feed as whitespace", "{\"a\":1}\f", 0, "control byte 0x0c"),
	PE("u0000 in value", "{\"a\":\"x\\u0000y\"}", 0, "\\u0000"),
	PE("u0000 in key", "{\"a\\u0000b\":1}", 0, "\\u0000"),
	PE("u0000 after escaped backslash", "{\"a\":\"\\\\\\u0000\"}", 0, "\\u0000"),
	PE("overlong slash", "{\"a\":\"\xc0\xaf\"}", 0, "UTF-8"),
	PE("overlong three-byte", "{\"a\":\"\xe0\x80\xaf\"}", 0, "UTF-8"),
	PE("overlong four-byte", "{\"a\":\"\xf0\x80\x80\xaf\"}", 0, "UTF-8"),
	PE("surrogate", "{\"a\":\"\xed\xa0\x80\"}", 0, "UTF-8"),
	PE("above U+10FFFF", "{\"a\":\"\xf4\x90\x80\x80\"}", 0, "UTF-8"),
	PE("F5 lead", "{\"a\":\"\xf5\x80\x80\x80\"}", 0, "UTF-8"),
	PE("stray continuation", "{\"a\":\"\x80\"}", 0, "UTF-8"),
	PE("truncated sequence", "{\"a\":\"\xe2\x82\"}", 0, "UTF-8"),
	PE("sequence cut at end", "{\"a\":1}\xe2\x82", 0, "UTF-8"),
	PE("latin-1 byte", "{\"a\":\"caf\xe9\"}", 0, "UTF-8"),
};

static void test_resp__parse_event_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(pe_cases) / sizeof(pe_cases[0]); i++) {
		const struct pe_case *c = &pe_cases[i];
		char why[128] = "unset";
		cJSON *out = (cJSON *)&why; /* must be reset to NULL on refusal */
		enum fb_err rc = resp_parse_event(c->text, c->len, RESP_MAX_EVENT_BYTES, &out,
						  why, sizeof(why));

		if (c->ok) {
			if (rc != FB_OK || !cJSON_IsObject(out))
				fail_msg("case \"%s\" refused: %s", c->name, why);
		} else {
			if (rc != FB_E_INVALID || out != NULL)
				fail_msg("case \"%s\" accepted", c->name);
			if (!strstr(why, c->why))
				fail_msg("case \"%s\": reason \"%s\" lacks \"%s\"", c->name, why, c->why);
		}
		cJSON_Delete(out == (cJSON *)&why ? NULL : out);
	}
}

/* The decoded values are what the event said: multibyte text survives. */
static void test_resp__parse_event_keeps_multibyte_values(void **state)
{
	const char text[] = "{\"k\":\"\xe2\x82\xac\\u00e9\"}";
	char why[64];
	cJSON *out = NULL;

	(void)state;
	assert_int_equal(resp_parse_event(text, sizeof(text) - 1, 100, &out, why, sizeof(why)),
			 FB_OK);
	assert_string_equal(resp_get_str(out, "k"), "\xe2\x82\xac\xc3\xa9");
	cJSON_Delete(out);
}

/* Depth: RESP_MAX_EVENT_DEPTH containers nest, one more is refused before
 * cJSON recurses; brackets inside strings do not count. */
static void test_resp__parse_event_depth(void **state)
{
	char text[4 * RESP_MAX_EVENT_DEPTH + 64], why[64];
	size_t n, d;
	cJSON *out = NULL;

	(void)state;
	for (d = RESP_MAX_EVENT_DEPTH; d <= RESP_MAX_EVENT_DEPTH + 1; d++) {
		/* {"a":[[...[ ]...]]} with d containers in all. */
		n = 0;
		memcpy(text, "{\"a\":", 5);
		n = 5;
		memset(text + n, '[', d - 1);
		n += d - 1;
		memset(text + n, ']', d - 1);
		n += d - 1;
		text[n++] = '}';
		out = NULL;
		if (d == RESP_MAX_EVENT_DEPTH) {
			assert_int_equal(resp_parse_event(text, n, sizeof(text), &out, why, sizeof(why)),
					 FB_OK);
			cJSON_Delete(out);
		} else {
			assert_int_equal(resp_parse_event(text, n, sizeof(text), &out, why, sizeof(why)),
					 FB_E_INVALID);
			assert_null(out);
			assert_non_null(strstr(why, "nesting"));
		}
	}
	/* 100,000 opening brackets: refused without recursing. */
	{
		size_t big = 100000;
		char *deep = malloc(big + 2);

		assert_non_null(deep);
		deep[0] = '{';
		memset(deep + 1, '[', big);
		deep[big + 1] = '\0';
		assert_int_equal(resp_parse_event(deep, big + 1, RESP_MAX_EVENT_BYTES, &out, why,
						  sizeof(why)), FB_E_INVALID);
		assert_non_null(strstr(why, "nesting"));
		free(deep);
	}
}

/* The size cap is checked before anything else, and the buffer need not be
 * NUL-terminated (parsing stops at len). */
static void test_resp__parse_event_size_and_bounds(void **state)
{
	char buf[16], why[64];
	cJSON *out = NULL;

	(void)state;
	assert_int_equal(resp_parse_event("{\"a\":1}", 7, 6, &out, why, sizeof(why)), FB_E_INVALID);
	assert_non_null(strstr(why, "over the 6 byte limit"));
	assert_int_equal(resp_parse_event("{\"a\":1}", 7, 7, &out, why, sizeof(why)), FB_OK);
	cJSON_Delete(out);
	memcpy(buf, "{\"a\":1}XXXXXXXXX", 16); /* no terminator after len */
	assert_int_equal(resp_parse_event(buf, 7, 7, &out, why, sizeof(why)), FB_OK);
	assert_int_equal(cJSON_GetObjectItem(out, "a")->valueint, 1);
	cJSON_Delete(out);
	assert_int_equal(resp_parse_event(NULL, 0, 7, &out, why, sizeof(why)), FB_E_INVALID);
	/* why may be omitted */
	assert_int_equal(resp_parse_event("[]", 2, 7, &out, NULL, 0), FB_E_INVALID);
}

static void test_resp__account_and_region_syntax(void **state)
{
	static const char *const good_regions[] = {
		"us-east-1", "us-gov-west-1", "cn-north-1", "ap-southeast-4", "eu-central-2", "il-central-1",
	};
	static const char *const bad_regions[] = {
		"", "us", "us-east", "US-EAST-1", "us-east-1.evil.example", "us-east-1/x", "us_east_1",
		"evil.example", "us-east-123", "-us-east-1", "us--1", "us-east-1 ", "u-east-1",
	};
	struct resp_config cfg = { 0 };
	struct aws_client base = { .region = "us-east-1" }, *c = NULL;
	struct aws_error err;
	struct resp r;
	int owned = 0;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good_regions) / sizeof(good_regions[0]); i++)
		if (!resp_region_name_ok(good_regions[i]))
			fail_msg("region '%s' refused", good_regions[i]);
	for (i = 0; i < sizeof(bad_regions) / sizeof(bad_regions[0]); i++)
		if (resp_region_name_ok(bad_regions[i]))
			fail_msg("region '%s' accepted", bad_regions[i]);
	assert_true(resp_account_id_ok("111111111111"));
	assert_false(resp_account_id_ok("11111111111"));
	assert_false(resp_account_id_ok("1111111111111"));
	assert_false(resp_account_id_ok("11111111111a"));
	assert_false(resp_account_id_ok("111111111111:role/x"));
	assert_false(resp_account_id_ok(NULL));

	/* acct_client_for refuses them before any call. */
	stub_reset();
	cfg.member_role = (char *)"member";
	cfg.own_account = (char *)"111111111111";
	assert_int_equal(resp_begin(&r, &cfg, "kms-guard", &test_ctx), FB_OK);
	assert_int_equal(acct_client_for(&r, &base, "222222222222:role/Admin", NULL, &c, &owned, &err),
			 FB_E_INVALID);
	assert_int_equal(acct_client_for(&r, &base, "111111111111", "evil.example", &c, &owned, &err),
			 FB_E_INVALID);
	assert_int_equal(stub.ncalls, 0);
	assert_int_equal(stub.nassume, 0);
	resp_cleanup(&r);
	stub_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resp__config_from_env),
		cmocka_unit_test(test_resp__flag_word_and_epoch_ms),
		cmocka_unit_test(test_resp__many_steps),
		cmocka_unit_test(test_resp__config_tag_min_age),
		cmocka_unit_test(test_resp__glob_match),
		cmocka_unit_test(test_resp__trusted_assumed_role),
		cmocka_unit_test(test_resp__get_paths),
		cmocka_unit_test(test_resp__incident_from_event_id),
		cmocka_unit_test(test_resp__manual_event_and_dry_run),
		cmocka_unit_test(test_resp__steps_and_report),
		cmocka_unit_test(test_resp__dry_run_plans_writes),
		cmocka_unit_test(test_resp__warnings_merge_with_the_responders_own),
		cmocka_unit_test(test_resp__already_and_skip_verdicts),
		cmocka_unit_test(test_resp__fingerprint_hides_short_secrets),
		cmocka_unit_test(test_resp__sns_subject_and_message_limits),
		cmocka_unit_test(test_resp__finish_publishes_and_errors),
		cmocka_unit_test(test_resp__time_parse_and_format),
		cmocka_unit_test(test_resp__invalid_event),
		cmocka_unit_test(test_resp__client_for_accounts),
		cmocka_unit_test(test_resp__parse_event_table),
		cmocka_unit_test(test_resp__parse_event_keeps_multibyte_values),
		cmocka_unit_test(test_resp__parse_event_depth),
		cmocka_unit_test(test_resp__parse_event_size_and_bounds),
		cmocka_unit_test(test_resp__account_and_region_syntax),
	};

	log_configure(fopen("/dev/null", "w"), 0, LOG_FATAL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
