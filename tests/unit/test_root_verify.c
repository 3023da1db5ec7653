/*
 * Unit tests of root-verify's pure stages: event classification, CIDR
 * checks, the account summary shapes, history paging, and the verdict
 * table (every reason alone and combined). The record parse (MFA casings,
 * failures, centralized root) is runtime/cloudtrail's ct_facts_parse now:
 * tests/unit/test_cloudtrail.c.
 *
 * functions/root-verify/stages.c (declared in root_verify.h) is compiled
 * in: the Makefile links a unit test with the runtime library only.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../functions/root-verify/stages.c"

/* ---- helpers ------------------------------------------------------------- */

static struct resp_config trusted_cfg;
static char *trusted_patterns[] = {"arn:aws:iam::999999999999:role/RootTasks"};

static void policy_init(struct rv_policy *p, const char *cidrs)
{
	char err[256];
	memset(p, 0, sizeof(*p));
	p->failed_threshold = 3;
	memset(&trusted_cfg, 0, sizeof(trusted_cfg));
	trusted_cfg.trusted = trusted_patterns;
	trusted_cfg.ntrusted = 1;
	p->resp = &trusted_cfg;
	assert_int_equal(rv_cidrs_parse(cidrs, p, err, sizeof(err)), FB_OK);
}

static void record_from(const char *json, struct ct_facts *r)
{
	cJSON *j = cJSON_Parse(json);
	assert_non_null(j);
	assert_int_equal(ct_facts_parse(j, r), FB_OK);
	cJSON_Delete(j);
}

/* A root record: type Root, event name, source IP, MFA (yes/no/NULL),
 * failed, extra userIdentity members (for centralized root). */
static void root_record(struct ct_facts *r, const char *name, const char *ip, const char *mfa,
			int failed, const char *identity_extra)
{
	char json[2048];
	int signin = strcmp(name, "ConsoleLogin") == 0;
	snprintf(json, sizeof(json),
		 "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"Root\","
		 "\"arn\":\"arn:aws:iam::111111111111:root\",\"accountId\":\"111111111111\"%s%s%s%s},"
		 "\"eventTime\":\"2024-05-01T10:00:00Z\",\"eventSource\":\"%s\",\"eventName\":\"%s\","
		 "\"sourceIPAddress\":\"%s\",\"eventID\":\"ev-%s\"%s%s%s%s}",
		 (!signin && mfa) ? ",\"sessionContext\":{\"attributes\":{\"mfaAuthenticated\":\"" : "",
		 (!signin && mfa) ? (strcmp(mfa, "yes") == 0 ? "true" : "false") : "",
		 (!signin && mfa) ? "\"}}" : "",
		 identity_extra ? identity_extra : "",
		 signin ? "signin.amazonaws.com" : "iam.amazonaws.com", name, ip, name,
		 signin ? ",\"responseElements\":{\"ConsoleLogin\":\"" : "",
		 signin ? (failed ? "Failure\"}" : "Success\"}") : "",
		 (signin && mfa) ? (strcmp(mfa, "yes") == 0 ? ",\"additionalEventData\":{\"MFAUsed\":\"Yes\"}"
							    : ",\"additionalEventData\":{\"MFAUsed\":\"No\"}") : "",
		 (!signin && failed) ? ",\"errorCode\":\"AccessDenied\"" : "");
	record_from(json, r);
}

static void facts_event(struct rv_facts *f, const struct rv_policy *p, enum rv_kind kind)
{
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->has_event = kind == RV_SIGNIN || kind == RV_API_CALL;
	f->policy = p;
	f->window_minutes = 60;
	rv_history_init(&f->hist, "");
	f->hist.queried = 1;
	f->hist.reads.complete = 1;
	f->acct.known = 1;
	f->acct.mfa_enabled = 1;
	f->acct.access_keys_present = 0;
}

/* The set of codes at level <= P3 (non-info), as "a,b,c" in reason order. */
static void codes(const struct vd_verdict *v, char *out, size_t n, int with_info)
{
	size_t l = 0;
	out[0] = '\0';
	for (size_t i = 0; i < v->nreasons; i++) {
		if (!with_info && v->reasons[i].level == VD_INFO)
			continue;
		l += (size_t)snprintf(out + l, n - l, "%s%s", l ? "," : "", v->reasons[i].code);
	}
}

static int has(const struct vd_verdict *v, const char *code)
{
	return vd_has(v, code);
}

/* ---- the verdict table -------------------------------------------------------- */

struct vcase {
	const char *name;
	enum rv_kind kind;
	const char *event;          /* event name */
	const char *ip;
	const char *mfa;            /* "yes", "no", NULL */
	int failed;
	const char *identity_extra; /* centralized root members */
	int keys_present, mfa_disabled;
	size_t hist_failed;
	const char *cidrs;
	const char *severity;
	const char *codes;          /* exact non-info codes, in order */
};

/* A root session from sts:AssumeRoot: sessionContext.assumedRoot "true"
 * (IAM User Guide, "Track privileged tasks in AWS CloudTrail"); the issuer
 * in sessionIssuer.arn when the record has one. */
#define TRUSTED_SESSION ",\"sessionContext\":{\"assumedRoot\":\"true\",\"sessionIssuer\":{\"type\":\"Role\",\"arn\":\"arn:aws:iam::999999999999:role/RootTasks\"},\"attributes\":{\"mfaAuthenticated\":\"false\"}}"
#define UNTRUSTED_SESSION ",\"sessionContext\":{\"assumedRoot\":\"true\",\"sessionIssuer\":{\"arn\":\"arn:aws:iam::888888888888:role/Other\"}}"
#define NO_ISSUER_SESSION ",\"sessionContext\":{\"assumedRoot\":\"true\",\"attributes\":{\"mfaAuthenticated\":\"false\"}}"
/* inScopeOf is CloudTrail's mark of credentials an AWS service issued for a
 * resource (e.g. a Lambda function), not of AssumeRoot: no centralized root. */
#define SERVICE_SCOPED ",\"inScopeOf\":{\"issuerType\":\"AWS::Lambda::Function\",\"credentialsIssuedTo\":\"arn:aws:iam::999999999999:role/RootTasks\"}"
#define ALLOWED "192.0.2.0/24,2001:db8::/32"

static const struct vcase vcases[] = {
	/* each reason alone */
	{"signin with MFA from allowed network", RV_SIGNIN, "ConsoleLogin", "192.0.2.10", "yes", 0, NULL, 0, 0, 0, ALLOWED, "P2", "root-used-with-mfa"},
	{"signin without MFA", RV_SIGNIN, "ConsoleLogin", "192.0.2.10", "no", 0, NULL, 0, 0, 0, ALLOWED, "P1", "signin-without-mfa,root-activity"},
	{"api call without MFA", RV_API_CALL, "ListUsers", "192.0.2.10", "no", 0, NULL, 0, 0, 0, ALLOWED, "P1", "api-call-without-mfa,root-activity"},
	{"access keys present", RV_SIGNIN, "ConsoleLogin", "192.0.2.10", "yes", 0, NULL, 1, 0, 0, ALLOWED, "P1", "root-used-with-mfa,root-access-keys-present"},
	{"root MFA not enabled", RV_SIGNIN, "ConsoleLogin", "192.0.2.10", "yes", 0, NULL, 0, 1, 0, ALLOWED, "P1", "root-used-with-mfa,root-mfa-not-enabled"},
	{"source IP outside allowed (v4)", RV_SIGNIN, "ConsoleLogin", "203.0.113.9", "yes", 0, NULL, 0, 0, 0, ALLOWED, "P1", "source-ip-not-allowed,root-used-with-mfa"},
	{"source IP outside allowed (v6)", RV_SIGNIN, "ConsoleLogin", "2001:db9::1", "yes", 0, NULL, 0, 0, 0, ALLOWED, "P1", "source-ip-not-allowed,root-used-with-mfa"},
	{"source IP inside allowed (v6)", RV_SIGNIN, "ConsoleLogin", "2001:db8::1", "yes", 0, NULL, 0, 0, 0, ALLOWED, "P2", "root-used-with-mfa"},
	{"no network restriction configured", RV_SIGNIN, "ConsoleLogin", "203.0.113.9", "yes", 0, NULL, 0, 0, 0, NULL, "P2", "root-used-with-mfa"},
	{"sensitive call with MFA", RV_API_CALL, "CreateAccessKey", "192.0.2.10", "yes", 0, NULL, 0, 0, 0, ALLOWED, "P1", "sensitive-call,root-used-with-mfa"},
	{"sensitive call StopLogging", RV_API_CALL, "StopLogging", "192.0.2.10", "yes", 0, NULL, 0, 0, 0, ALLOWED, "P1", "sensitive-call,root-used-with-mfa"},
	{"failed sensitive attempt", RV_API_CALL, "DeleteDetector", "192.0.2.10", "yes", 1, NULL, 0, 0, 0, ALLOWED, "P1", "sensitive-call,call-failed"},
	{"single failed signin", RV_SIGNIN, "ConsoleLogin", "192.0.2.10", "no", 1, NULL, 0, 0, 0, ALLOWED, "P3", "signin-failed"},
	{"failed signins reach threshold", RV_SIGNIN, "ConsoleLogin", "192.0.2.10", "no", 1, NULL, 0, 0, 2, ALLOWED, "P2", "signin-failed,repeated-failed-signins"},
	{"failed signins below threshold", RV_SIGNIN, "ConsoleLogin", "192.0.2.10", "no", 1, NULL, 0, 0, 1, ALLOWED, "P3", "signin-failed"},
	{"centralized root, trusted issuer", RV_API_CALL, "DeleteBucketPolicy", "198.51.100.1", NULL, 0, TRUSTED_SESSION, 0, 0, 0, ALLOWED, "P3", "centralized-root-trusted"},
	{"centralized root, untrusted issuer", RV_API_CALL, "ListUsers", "192.0.2.10", NULL, 0, UNTRUSTED_SESSION, 0, 0, 0, ALLOWED, "P1", "centralized-root-untrusted,root-activity"},
	{"centralized root, issuer not recorded", RV_API_CALL, "ListUsers", "192.0.2.10", NULL, 0, NO_ISSUER_SESSION, 0, 0, 0, ALLOWED, "P1", "centralized-root-untrusted,root-activity"},
	{"service-scoped credentials are not centralized root", RV_API_CALL, "ListUsers", "192.0.2.10", NULL, 0, SERVICE_SCOPED, 0, 0, 0, ALLOWED, "P2", "root-activity"},
	/* combined */
	{"trusted centralized but access keys present", RV_API_CALL, "DeleteBucketPolicy", "198.51.100.1", NULL, 0, TRUSTED_SESSION, 1, 0, 0, ALLOWED, "P1", "centralized-root-trusted,root-access-keys-present"},
	{"everything at once", RV_API_CALL, "CreateAccessKey", "203.0.113.9", "no", 0, NULL, 1, 1, 0, ALLOWED, "P1", "api-call-without-mfa,sensitive-call,source-ip-not-allowed,root-activity,root-access-keys-present,root-mfa-not-enabled"},
	{"no MFA and outside network", RV_SIGNIN, "ConsoleLogin", "203.0.113.9", "no", 0, NULL, 0, 0, 0, ALLOWED, "P1", "signin-without-mfa,source-ip-not-allowed,root-activity"},
	{"failed signin from outside + threshold", RV_SIGNIN, "ConsoleLogin", "203.0.113.9", "no", 1, NULL, 0, 0, 5, ALLOWED, "P1", "source-ip-not-allowed,signin-failed,repeated-failed-signins"},
	{"MFA use but MFA disabled and keys", RV_SIGNIN, "ConsoleLogin", "192.0.2.10", "yes", 0, NULL, 1, 1, 0, ALLOWED, "P1", "root-used-with-mfa,root-access-keys-present,root-mfa-not-enabled"},
};

static void test_root_verify__verdict_table(void **st)
{
	(void)st;
	for (size_t i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++) {
		const struct vcase *c = &vcases[i];
		struct rv_policy p;
		struct rv_facts f;
		struct vd_verdict v;
		char got[512];

		policy_init(&p, c->cidrs);
		facts_event(&f, &p, c->kind);
		root_record(&f.ev, c->event, c->ip, c->mfa, c->failed, c->identity_extra);
		f.acct.access_keys_present = c->keys_present;
		f.acct.mfa_enabled = !c->mfa_disabled;
		f.hist.failed_signins = c->hist_failed;
		rv_decide(&f, &v);
		codes(&v, got, sizeof(got), 0);
		if (strcmp(got, c->codes) != 0 || strcmp(v.severity, c->severity) != 0)
			fail_msg("case '%s': got %s [%s], want %s [%s]", c->name, v.severity, got,
				 c->severity, c->codes);
		/* the verdict names the leading reasons */
		if (strcmp(c->severity, "P3") == 0 && c->identity_extra)
			assert_string_equal(v.verdict,
					    "expected: centralized root access by arn:aws:iam::999999999999:role/RootTasks");
		else if (strcmp(c->severity, "P1") == 0)
			assert_true(strncmp(v.verdict, "escalate: ", 10) == 0);
		else if (strcmp(c->severity, "P2") == 0)
			assert_true(strncmp(v.verdict, "review: ", 8) == 0);
		/* info reasons: the unset CIDR list is said, never silently P2 */
		assert_int_equal(has(&v, "network-restriction-not-configured"), c->cidrs == NULL);
	}
}

/* Issue 16 item 9: every row of the verdict table again, with one Region of
 * the history unread. What was read still counts (never a lower severity:
 * P1 stays P1), "no action" is never concluded (at most P2), and the
 * verdict text is never the one a complete read gives. */
static void test_root_verify__incomplete_history_never_reads_complete(void **st)
{
	(void)st;
	for (size_t i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++) {
		const struct vcase *c = &vcases[i];
		struct rv_policy p;
		struct rv_facts f;
		struct vd_verdict full, part;

		policy_init(&p, c->cidrs);
		facts_event(&f, &p, c->kind);
		root_record(&f.ev, c->event, c->ip, c->mfa, c->failed, c->identity_extra);
		f.acct.access_keys_present = c->keys_present;
		f.acct.mfa_enabled = !c->mfa_disabled;
		f.hist.failed_signins = c->hist_failed;
		regions_log_add(&f.hist.reads, "us-east-1", 1, 1, 0, 0, NULL);
		assert_true(f.hist.reads.complete);
		rv_decide(&f, &full);
		regions_log_add(&f.hist.reads, "eu-west-1", 0, 0, 0, 4, "page 1: ThrottlingException after 4 attempts");
		assert_false(f.hist.reads.complete);
		rv_decide(&f, &part);
		if (full.severity[1] < part.severity[1] || part.severity[1] > '2')
			fail_msg("case '%s': complete %s, incomplete %s", c->name, full.severity, part.severity);
		if (!strcmp(full.verdict, part.verdict) || !strstr(part.verdict, "history incomplete: regions eu-west-1"))
			fail_msg("case '%s': '%s' / '%s'", c->name, full.verdict, part.verdict);
		assert_true(has(&part, "history-incomplete"));
		assert_non_null(strstr(f.hist.reads.incomplete_why, "eu-west-1 (page 1: ThrottlingException"));
	}

	/* nothing found and nothing complete: not "no action" */
	struct rv_policy p;
	struct rv_facts f;
	struct vd_verdict v;
	policy_init(&p, ALLOWED);
	facts_event(&f, &p, RV_MANUAL);
	regions_log_add(&f.hist.reads, "us-east-1", 1, 1, 0, 0, NULL);
	rv_decide(&f, &v);
	assert_string_equal(v.verdict, "no action: no-root-activity");
	regions_log_add(&f.hist.reads, "ap-south-1", 0, 0, 0, 0, "deadline reached");
	rv_decide(&f, &v);
	assert_string_equal(v.severity, "P2");
	assert_string_equal(v.verdict, "review: history incomplete: regions ap-south-1");
	/* history never queried (no client): incomplete too */
	facts_event(&f, &p, RV_MANUAL);
	f.hist.queried = f.hist.reads.complete = 0;
	rv_decide(&f, &v);
	assert_string_equal(v.verdict, "review: history incomplete");
}

static void test_root_verify__regions(void **st)
{
	(void)st;
	struct rv_config c;
	char err[200] = "", out[RV_MAX_REGIONS][32];
	size_t n;

	memset(&c, 0, sizeof(c));
	/* default: trigger's Region, the partition's sign-in Region, own Region */
	n = rv_regions_plan(&c, "aws", "eu-west-1", "us-east-2", out, RV_MAX_REGIONS);
	assert_int_equal(n, 3);
	assert_string_equal(out[0], "eu-west-1");
	assert_string_equal(out[1], "us-east-1");
	assert_string_equal(out[2], "us-east-2");
	n = rv_regions_plan(&c, "aws", "us-east-1", "us-east-1", out, RV_MAX_REGIONS);
	assert_int_equal(n, 1);
	n = rv_regions_plan(&c, "aws-cn", NULL, "cn-northwest-1", out, RV_MAX_REGIONS);
	assert_int_equal(n, 2);
	assert_string_equal(out[0], "cn-north-1");
	assert_string_equal(endpoint_global_region("aws-us-gov"), "us-gov-west-1");
	/* the setting replaces the default; the trigger's Region is always read */
	assert_int_equal(regions_parse(" us-west-2 ,eu-central-1,,us-west-2", "FIREBREAK_ROOT_REGIONS", c.regions,
				       RV_MAX_REGIONS, &c.nregions, err, sizeof(err)), FB_OK);
	assert_int_equal(c.nregions, 2);
	n = rv_regions_plan(&c, "aws", "ap-south-1", "us-east-1", out, RV_MAX_REGIONS);
	assert_int_equal(n, 3);
	assert_string_equal(out[0], "ap-south-1");
	assert_string_equal(out[1], "us-west-2");
	assert_string_equal(out[2], "eu-central-1");
	/* a crafted event Region is dropped, not read */
	n = rv_regions_plan(&c, "aws", "../x", "us-east-1", out, RV_MAX_REGIONS);
	assert_int_equal(n, 2);
	assert_int_equal(regions_parse("us-east-1,Evil Region", "FIREBREAK_ROOT_REGIONS", c.regions, RV_MAX_REGIONS,
				       &c.nregions, err, sizeof(err)), FB_E_CONFIG);
	assert_non_null(strstr(err, "'Evil Region' is not a region name"));
	assert_int_equal(regions_parse("", "FIREBREAK_ROOT_REGIONS", c.regions, RV_MAX_REGIONS, &c.nregions,
				       err, sizeof(err)), FB_OK);
	assert_int_equal(c.nregions, 0);
}

static void test_root_verify__account_posture_overrides_everything(void **st)
{
	(void)st;
	struct rv_policy p;
	struct rv_facts f;
	struct vd_verdict v;
	policy_init(&p, ALLOWED);
	for (int keys = 0; keys <= 1; keys++) {
		for (int mfa = 0; mfa <= 1; mfa++) {
			facts_event(&f, &p, RV_SIGNIN);
			root_record(&f.ev, "ConsoleLogin", "192.0.2.1", "yes", 0, NULL);
			f.acct.access_keys_present = keys;
			f.acct.mfa_enabled = mfa;
			rv_decide(&f, &v);
			assert_string_equal(v.severity, (keys || !mfa) ? "P1" : "P2");
			assert_int_equal(has(&v, "root-access-keys-present"), keys);
			assert_int_equal(has(&v, "root-mfa-not-enabled"), !mfa);
		}
	}
	/* an unknown summary is said, not assumed fine */
	facts_event(&f, &p, RV_SIGNIN);
	root_record(&f.ev, "ConsoleLogin", "192.0.2.1", "yes", 0, NULL);
	f.acct.known = 0;
	rv_decide(&f, &v);
	assert_true(has(&v, "account-summary-unavailable"));
}

static void test_root_verify__history_reasons(void **st)
{
	(void)st;
	struct rv_policy p;
	struct rv_facts f;
	struct vd_verdict v;
	struct ct_facts r;
	char got[512];
	policy_init(&p, ALLOWED);

	/* alarm, nothing found: P2 (the lookup lags the alarm) */
	facts_event(&f, &p, RV_ALARM);
	rv_decide(&f, &v);
	assert_string_equal(v.severity, "P2");
	assert_true(has(&v, "alarm-without-events"));

	/* manual, nothing found: P3 */
	facts_event(&f, &p, RV_MANUAL);
	rv_decide(&f, &v);
	assert_string_equal(v.severity, "P3");
	assert_true(has(&v, "no-root-activity"));
	assert_true(strncmp(v.verdict, "no action: ", 11) == 0);

	/* manual, history with a no-MFA sign-in from outside and a sensitive call */
	facts_event(&f, &p, RV_MANUAL);
	root_record(&r, "ConsoleLogin", "203.0.113.7", "no", 0, NULL);
	rv_history_add(&f.hist, &p, &r);
	root_record(&r, "StopLogging", "192.0.2.3", "yes", 0, NULL);
	rv_history_add(&f.hist, &p, &r);
	rv_decide(&f, &v);
	codes(&v, got, sizeof(got), 0);
	assert_string_equal(got, "signin-without-mfa,sensitive-call,source-ip-not-allowed,root-activity");
	assert_string_equal(v.severity, "P1");

	/* history of trusted centralized sessions only: expected */
	facts_event(&f, &p, RV_MANUAL);
	root_record(&r, "DeleteBucketPolicy", "198.51.100.1", NULL, 0, TRUSTED_SESSION);
	rv_history_add(&f.hist, &p, &r);
	rv_decide(&f, &v);
	assert_string_equal(v.severity, "P3");
	assert_true(has(&v, "centralized-root-trusted"));

	/* failed sign-ins in history reach the threshold; the trigger seen in
	 * the history is not counted twice */
	facts_event(&f, &p, RV_SIGNIN);
	root_record(&f.ev, "ConsoleLogin", "192.0.2.1", "no", 1, NULL);
	rv_history_init(&f.hist, f.ev.event_id);
	f.hist.queried = f.hist.reads.complete = 1;
	rv_history_add(&f.hist, &p, &f.ev);
	root_record(&r, "ConsoleLogin", "192.0.2.1", "no", 1, NULL);
	snprintf(r.event_id, sizeof(r.event_id), "other");
	rv_history_add(&f.hist, &p, &r);
	rv_decide(&f, &v);
	assert_false(has(&v, "repeated-failed-signins")); /* 2 < 3 */
	snprintf(r.event_id, sizeof(r.event_id), "third");
	rv_history_add(&f.hist, &p, &r);
	rv_decide(&f, &v);
	assert_true(has(&v, "repeated-failed-signins"));
	assert_string_equal(v.severity, "P2");

	/* incomplete history is said */
	facts_event(&f, &p, RV_MANUAL);
	f.hist.reads.complete = 0;
	snprintf(f.hist.reads.incomplete_why, sizeof(f.hist.reads.incomplete_why), "page bound reached");
	rv_decide(&f, &v);
	assert_true(has(&v, "history-incomplete"));
}

static void test_root_verify__next_steps(void **st)
{
	(void)st;
	struct rv_policy p;
	struct rv_facts f;
	struct vd_verdict v;
	policy_init(&p, ALLOWED);
	facts_event(&f, &p, RV_SIGNIN);
	root_record(&f.ev, "ConsoleLogin", "203.0.113.9", "no", 0, NULL);
	f.acct.access_keys_present = 1;
	rv_decide(&f, &v);
	cJSON *steps = rv_next_steps(&v, "111111111111", "2024-05-01T09:00:00Z", "2024-05-01T10:01:00Z");
	assert_non_null(steps);
	assert_true(cJSON_GetArraySize(steps) >= 4);
	char *txt = cJSON_PrintUnformatted(steps);
	assert_non_null(strstr(txt, "access keys"));
	assert_non_null(strstr(txt, "MFA"));
	assert_non_null(strstr(txt, "lookup-events"));
	cJSON_free(txt);
	cJSON_Delete(steps);
}

/* ---- record parsing -------------------------------------------------------------- */

/* The sts:AssumeRoot record as the IAM User Guide publishes it ("Track
 * privileged tasks in AWS CloudTrail"), in an EventBridge envelope. */
static const char *assume_root_event(const char *role, const char *error_code)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf),
		 "{\"version\":\"0\",\"id\":\"e-ar\",\"detail-type\":\"AWS API Call via CloudTrail\",\"source\":\"aws.sts\","
		 "\"account\":\"999999999999\",\"time\":\"2024-10-25T20:52:11Z\",\"region\":\"us-west-2\",\"resources\":[],"
		 "\"detail\":{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"AssumedRole\","
		 "\"principalId\":\"AIDACKCEVSQ6C2EXAMPLE:JohnRole1\",\"arn\":\"arn:aws:sts::999999999999:assumed-role/%s/JohnRole1\","
		 "\"accountId\":\"999999999999\",\"accessKeyId\":\"ASIAIOSFODNN7EXAMPLE\",\"sessionContext\":{\"sessionIssuer\":"
		 "{\"type\":\"Role\",\"principalId\":\"AIDACKCEVSQ6C2EXAMPLE\",\"arn\":\"arn:aws:iam::999999999999:role/%s\","
		 "\"accountId\":\"999999999999\",\"userName\":\"Admin2\"},\"webIdFederationData\":{},\"attributes\":"
		 "{\"creationDate\":\"2024-10-25T20:45:28Z\",\"mfaAuthenticated\":\"false\"},\"assumedRoot\":\"true\"}},"
		 "\"eventTime\":\"2024-10-25T20:52:11Z\",\"eventSource\":\"sts.amazonaws.com\",\"eventName\":\"AssumeRoot\","
		 "\"awsRegion\":\"us-west-2\",\"sourceIPAddress\":\"192.0.2.1\",\"requestParameters\":{\"targetPrincipal\":"
		 "\"222222222222\",\"taskPolicyArn\":{\"arn\":\"arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy\"}}%s%s%s,"
		 "\"eventID\":\"ev-assume-root\",\"eventType\":\"AwsApiCall\",\"recipientAccountId\":\"999999999999\"}}",
		 role, role, error_code ? ",\"errorCode\":\"" : "", error_code ? error_code : "", error_code ? "\"" : "");
	return buf;
}

static void test_root_verify__assume_root_call(void **st)
{
	static const struct {
		const char *role, *error;
		const char *severity, *code, *verdict_prefix;
	} cases[] = {
		{ "RootTasks", NULL, "P3", "centralized-root-trusted", "expected: centralized root access by arn:aws:iam::999999999999:role/RootTasks" },
		{ "Other", NULL, "P1", "centralized-root-untrusted", "escalate: centralized-root-untrusted" },
		{ "Other", "AccessDenied", "P1", "centralized-root-untrusted", "escalate: centralized-root-untrusted" },
	};
	struct rv_config cfg;
	struct rv_trigger t;
	struct rv_facts f;
	struct vd_verdict v;

	(void)st;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *ev = cJSON_Parse(assume_root_event(cases[i].role, cases[i].error));

		assert_non_null(ev);
		memset(&cfg, 0, sizeof(cfg));
		cfg.lookback_minutes = 60;
		policy_init(&cfg.policy, ALLOWED);
		assert_int_equal(rv_classify(ev, &cfg, &t), RV_CLASS_RUN);
		assert_int_equal(t.kind, RV_API_CALL);
		assert_true(t.ev.assume_root);
		assert_false(t.ev.is_root);
		assert_true(t.ev.centralized);
		assert_string_equal(t.ev.target_principal, "222222222222");
		assert_string_equal(t.ev.task_policy_arn, "arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy");
		facts_event(&f, &cfg.policy, t.kind);
		f.ev = t.ev;
		f.acct.mfa_enabled = 1;
		rv_decide(&f, &v);
		if (strcmp(v.severity, cases[i].severity) != 0 || !has(&v, cases[i].code) ||
		    strncmp(v.verdict, cases[i].verdict_prefix, strlen(cases[i].verdict_prefix)) != 0)
			fail_msg("case %zu: got %s '%s'", i, v.severity, v.verdict);
		/* the caller's MFA and network are not root's */
		assert_false(has(&v, "api-call-without-mfa"));
		assert_false(has(&v, "root-activity"));
		cJSON_Delete(ev);
	}
}

/* ---- CIDRs -------------------------------------------------------------------- */

static void test_root_verify__cidrs(void **st)
{
	(void)st;
	struct rv_policy p;
	char err[256];
	memset(&p, 0, sizeof(p));
	assert_int_equal(rv_cidrs_parse("10.0.0.0/8,0.0.0.0/0x", &p, err, sizeof(err)), FB_E_CONFIG);
	assert_non_null(strstr(err, "0.0.0.0/0x"));
	assert_int_equal(rv_cidrs_parse("10.0.0.0/33", &p, err, sizeof(err)), FB_E_CONFIG);
	assert_int_equal(rv_cidrs_parse("fe80::/129", &p, err, sizeof(err)), FB_E_CONFIG);
	assert_int_equal(rv_cidrs_parse("not-an-ip/8", &p, err, sizeof(err)), FB_E_CONFIG);
	assert_int_equal(rv_cidrs_parse("10.0.0.0/", &p, err, sizeof(err)), FB_E_CONFIG);

	assert_int_equal(rv_cidrs_parse(" 10.0.0.0/8 , 192.0.2.7, 2001:db8:abcd::/48,172.16.0.0/12", &p, err, sizeof(err)), FB_OK);
	assert_int_equal(p.ncidrs, 4);
	assert_true(p.cidrs_configured);
	assert_int_equal(kit_ip_in(p.cidrs, p.ncidrs, "10.200.1.1"), KIT_IP_IN);
	assert_int_equal(kit_ip_in(p.cidrs, p.ncidrs, "11.0.0.1"), KIT_IP_OUT);
	assert_int_equal(kit_ip_in(p.cidrs, p.ncidrs, "192.0.2.7"), KIT_IP_IN);
	assert_int_equal(kit_ip_in(p.cidrs, p.ncidrs, "192.0.2.8"), KIT_IP_OUT);
	assert_int_equal(kit_ip_in(p.cidrs, p.ncidrs, "172.31.255.255"), KIT_IP_IN);
	assert_int_equal(kit_ip_in(p.cidrs, p.ncidrs, "172.32.0.0"), KIT_IP_OUT);
	assert_int_equal(kit_ip_in(p.cidrs, p.ncidrs, "2001:db8:abcd:12::1"), KIT_IP_IN);
	assert_int_equal(kit_ip_in(p.cidrs, p.ncidrs, "2001:db8:abce::1"), KIT_IP_OUT);
	assert_int_equal(kit_ip_in(p.cidrs, p.ncidrs, "::ffff:10.1.2.3"), KIT_IP_IN);
	assert_int_equal(kit_ip_in(p.cidrs, p.ncidrs, "AWS Internal"), KIT_IP_NOT_AN_IP);
	assert_int_equal(kit_ip_in(p.cidrs, p.ncidrs, "s3.amazonaws.com"), KIT_IP_NOT_AN_IP);
	assert_int_equal(kit_ip_in(p.cidrs, p.ncidrs, ""), KIT_IP_NOT_AN_IP);

	assert_int_equal(rv_cidrs_parse("", &p, err, sizeof(err)), FB_OK);
	assert_false(p.cidrs_configured);
	assert_int_equal(rv_cidrs_parse(" , ", &p, err, sizeof(err)), FB_OK);
	assert_false(p.cidrs_configured);
}

/* ---- IAM account summary shapes --------------------------------------------------- */

static void test_root_verify__account_summary_shapes(void **st)
{
	(void)st;
	static const char *shapes[] = {
		/* repeated <entry> as an array */
		"{\"GetAccountSummaryResult\":{\"SummaryMap\":{\"entry\":[{\"key\":\"Users\",\"value\":\"3\"},{\"key\":\"AccountMFAEnabled\",\"value\":\"0\"},{\"key\":\"AccountAccessKeysPresent\",\"value\":\"1\"}]}}}",
		/* repeated <entry> as duplicate object keys */
		"{\"GetAccountSummaryResult\":{\"SummaryMap\":{\"entry\":{\"key\":\"AccountMFAEnabled\",\"value\":\"0\"},\"entry\":{\"key\":\"AccountAccessKeysPresent\",\"value\":\"1\"}}}}",
		/* an array map */
		"{\"GetAccountSummaryResult\":{\"SummaryMap\":[{\"key\":\"AccountMFAEnabled\",\"value\":0},{\"key\":\"AccountAccessKeysPresent\",\"value\":1}]}}",
		/* flattened */
		"{\"GetAccountSummaryResponse\":{\"GetAccountSummaryResult\":{\"SummaryMap\":{\"AccountMFAEnabled\":\"0\",\"AccountAccessKeysPresent\":\"1\"}}}}",
	};
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		struct rv_account a;
		cJSON *j = cJSON_Parse(shapes[i]);
		assert_non_null(j);
		assert_int_equal(rv_account_parse(j, &a), FB_OK);
		assert_true(a.known);
		assert_false(a.mfa_enabled);
		assert_true(a.access_keys_present);
		cJSON_Delete(j);
	}
	struct rv_account a;
	cJSON *j = cJSON_Parse("{\"GetAccountSummaryResult\":{\"SummaryMap\":{\"entry\":[{\"key\":\"Users\",\"value\":\"3\"}]}}}");
	assert_int_equal(rv_account_parse(j, &a), FB_E_PARSE);
	assert_false(a.known);
	cJSON_Delete(j);
}

/* ---- classification --------------------------------------------------------------- */

static void cfg_init(struct rv_config *c, const char *alarm)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->alarm_name, sizeof(c->alarm_name), "%s", alarm);
	c->lookback_minutes = 60;
	c->max_pages = 20;
	c->max_events = 1000;
	policy_init(&c->policy, NULL);
}

static enum rv_class classify_text(const struct rv_config *c, const char *txt, struct rv_trigger *t)
{
	cJSON *j = cJSON_Parse(txt);
	enum rv_class k = rv_classify(j, c, t);
	cJSON_Delete(j);
	return k;
}

static void test_root_verify__classify(void **st)
{
	(void)st;
	struct rv_config c;
	struct rv_trigger t;
	cfg_init(&c, "root-account-usage");

	static const char *invalid[] = {
		"[]", "\"x\"", "42", "{}", "{\"foo\":1}",
		"{\"window_minutes\":0}", "{\"window_minutes\":1441}", "{\"window_minutes\":1.5}",
		"{\"window_minutes\":\"60\"}", "{\"window_minutes\":60,\"dryRun\":\"yes\"}",
		"{\"source\":\"aws.signin\",\"detail-type\":\"AWS Console Sign In via CloudTrail\"}",
		"{\"source\":\"aws.signin\",\"detail-type\":\"AWS Console Sign In via CloudTrail\",\"detail\":[]}",
		"{\"source\":\"aws.signin\",\"detail-type\":\"AWS Console Sign In via CloudTrail\",\"detail\":{\"eventName\":\"ConsoleLogin\"}}",
		"{\"source\":\"aws.signin\",\"detail-type\":\"AWS Console Sign In via CloudTrail\",\"detail\":{\"userIdentity\":{\"type\":5},\"eventName\":\"ConsoleLogin\"}}",
		"{\"source\":\"aws.signin\",\"detail-type\":\"AWS Console Sign In via CloudTrail\",\"detail\":{\"userIdentity\":{\"type\":\"Root\"}}}",
		"{\"source\":\"aws.kms\",\"detail-type\":\"KMS CMK Deletion\",\"detail\":{}}",
		"{\"source\":1,\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":{}}",
		"{\"source\":\"aws.cloudwatch\",\"detail-type\":\"CloudWatch Alarm State Change\",\"detail\":{\"alarmName\":\"root-account-usage\"}}",
	};
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		if (classify_text(&c, invalid[i], &t) != RV_CLASS_INVALID)
			fail_msg("not invalid: %s", invalid[i]);
		assert_true(t.why[0] != '\0');
	}

	assert_int_equal(classify_text(&c, "{\"window_minutes\":60}", &t), RV_CLASS_RUN);
	assert_int_equal(t.kind, RV_MANUAL);
	assert_int_equal(t.window_minutes, 60);
	assert_int_equal(classify_text(&c, "{\"window_minutes\":1440,\"dryRun\":true}", &t), RV_CLASS_RUN);
	assert_int_equal(t.window_minutes, 1440);

	/* not root: a clear skip */
	assert_int_equal(classify_text(&c, "{\"source\":\"aws.signin\",\"detail-type\":\"AWS Console Sign In via CloudTrail\","
				       "\"detail\":{\"userIdentity\":{\"type\":\"IAMUser\"},\"eventName\":\"ConsoleLogin\"}}", &t),
			 RV_CLASS_SKIP);
	assert_non_null(strstr(t.why, "IAMUser"));

	/* alarms */
	assert_int_equal(classify_text(&c, "{\"source\":\"aws.cloudwatch\",\"detail-type\":\"CloudWatch Alarm State Change\","
				       "\"detail\":{\"alarmName\":\"other\",\"state\":{\"value\":\"ALARM\"}}}", &t), RV_CLASS_SKIP);
	assert_int_equal(classify_text(&c, "{\"source\":\"aws.cloudwatch\",\"detail-type\":\"CloudWatch Alarm State Change\","
				       "\"detail\":{\"alarmName\":\"root-account-usage\",\"state\":{\"value\":\"OK\"}}}", &t), RV_CLASS_SKIP);
	assert_int_equal(classify_text(&c, "{\"source\":\"aws.cloudwatch\",\"detail-type\":\"CloudWatch Alarm State Change\","
				       "\"detail\":{\"alarmName\":\"root-account-usage\",\"state\":{\"value\":\"ALARM\","
				       "\"timestamp\":\"2024-05-01T10:00:00.000+0000\",\"reason\":\"Threshold Crossed: 2 out of the last 3 datapoints\","
				       "\"reasonData\":\"{\\\"period\\\":300}\"}}}", &t), RV_CLASS_RUN);
	assert_int_equal(t.kind, RV_ALARM);
	assert_int_equal(t.window_minutes, 15);
	assert_true(t.end_ms == 1714557600000LL);
}

static void test_root_verify__time_parse(void **st)
{
	/* issue 17: root-verify's own strptime/timegm parser (rv_parse_time)
	 * gave way to the runtime's strict one; the same inputs, the same
	 * values (0 is the runtime's "cannot parse") */
	(void)st;
	assert_true(resp_parse_time_ms("2022-11-10T16:24:34Z") == 1668097474000LL);
	assert_true(resp_parse_time_ms("2019-10-02T17:04:40.989+0000") == 1570035880989LL);
	assert_true(resp_parse_time_ms("2019-10-02T19:04:40.9+02:00") == 1570035880900LL);
	assert_true(resp_parse_time_ms("2019-10-02") == 0);
	assert_true(resp_parse_time_ms("2019-10-02T17:04:40Zjunk") == 0);
	assert_true(resp_parse_time_ms(NULL) == 0);
}

/* An impossible time is not a time: the window is not moved to the date
 * timegm() would normalise it to (2024-02-30 -> Mar 1), it falls back to the
 * next time the event carries, as resp_trigger_from_event's warning
 * says ("history windows count from the moment the event was received"). */
static void test_root_verify__impossible_time_is_not_normalised(void **st)
{
	struct rv_config c;
	struct rv_trigger t;
	(void)st;
	cfg_init(&c, "root-account-usage");
	assert_int_equal(classify_text(&c, "{\"source\":\"aws.cloudwatch\",\"detail-type\":\"CloudWatch Alarm State Change\","
				       "\"time\":\"2024-05-01T10:05:00Z\",\"detail\":{\"alarmName\":\"root-account-usage\","
				       "\"state\":{\"value\":\"ALARM\",\"timestamp\":\"2024-02-30T10:00:00.000+0000\"}}}", &t),
			 RV_CLASS_RUN);
	assert_true(t.end_ms == 1714557900000LL);
	assert_int_equal(classify_text(&c, "{\"source\":\"aws.signin\",\"detail-type\":\"AWS Console Sign In via CloudTrail\","
				       "\"detail\":{\"userIdentity\":{\"type\":\"Root\"},\"eventName\":\"ConsoleLogin\","
				       "\"eventTime\":\"2024-02-30T25:61:00Z\"}}", &t), RV_CLASS_RUN);
	assert_true(t.end_ms == 0);
	assert_true(t.ev.time_ms == 0);
}

/* ---- published samples (when ../shared exists) -------------------------------------- */

static char *read_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	struct buf b;
	char chunk[4096];
	size_t n;
	buf_init(&b, 1u << 20);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (buf_append(&b, chunk, n) != FB_OK)
			break;
	fclose(fp);
	return buf_detach(&b, NULL);
}

static int sample_record(const char *file, struct ct_facts *r)
{
	char path[512];
	snprintf(path, sizeof(path), "../shared/reference-events/%s", file);
	char *txt = read_file(path);
	if (!txt)
		return 0;
	cJSON *j = cJSON_Parse(txt);
	free(txt);
	assert_non_null(j);
	const cJSON *rec = cJSON_GetObjectItemCaseSensitive(j, "detail");
	assert_int_equal(ct_facts_parse(rec ? rec : j, r), FB_OK);
	cJSON_Delete(j);
	return 1;
}

static void test_root_verify__published_samples(void **st)
{
	(void)st;
	static const struct {
		const char *file;
		enum rv_kind kind;
		const char *severity;
		const char *must_have;
	} cases[] = {
		{"root-console-signin-no-mfa.eventbridge.json", RV_SIGNIN, "P1", "signin-without-mfa"},
		{"root-console-signin-no-mfa.cloudtrail-record.json", RV_SIGNIN, "P1", "signin-without-mfa"},
		{"root-console-signin-with-mfa.cloudtrail-record.json", RV_SIGNIN, "P2", "root-used-with-mfa"},
		{"root-console-signin-failure.cloudtrail-record.json", RV_SIGNIN, "P3", "signin-failed"},
		{"root-api-call-s3-createbucket.eventbridge.json", RV_API_CALL, "P1", "api-call-without-mfa"},
		{"root-api-call-enable-mfa-device.cloudtrail-record.json", RV_API_CALL, "P1", "sensitive-call"},
		{"root-password-updated.cloudtrail-record.json", RV_SIGNIN, "P1", "sensitive-call"},
	};
	size_t seen = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rv_policy p;
		struct rv_facts f;
		struct vd_verdict v;
		policy_init(&p, "192.0.2.0/24,0.0.0.0/32,100.100.100.0/24");
		facts_event(&f, &p, cases[i].kind);
		if (!sample_record(cases[i].file, &f.ev))
			continue;
		seen++;
		rv_decide(&f, &v);
		if (strcmp(v.severity, cases[i].severity) != 0 || !has(&v, cases[i].must_have))
			fail_msg("%s: got %s %s", cases[i].file, v.severity, v.verdict);
	}
	if (!seen)
		print_message("../shared/reference-events not found: samples skipped\n");

	/* the alarm samples: the evaluation period is five minutes */
	static const char *alarms[] = {"cloudwatch-alarm-state-change-single-metric.eventbridge.json",
				       "cloudwatch-alarm-state-change-metric-math.eventbridge.json"};
	for (size_t i = 0; i < 2; i++) {
		char path[512];
		snprintf(path, sizeof(path), "../shared/reference-events/%s", alarms[i]);
		char *txt = read_file(path);
		if (!txt)
			continue;
		cJSON *j = cJSON_Parse(txt);
		free(txt);
		struct rv_config c;
		struct rv_trigger t;
		cfg_init(&c, resp_get_str(j, "detail.alarmName"));
		assert_int_equal(rv_classify(j, &c, &t), RV_CLASS_RUN);
		assert_int_equal(t.window_minutes, 5);
		cfg_init(&c, "root-account-usage");
		assert_int_equal(rv_classify(j, &c, &t), RV_CLASS_SKIP);
		cJSON_Delete(j);
	}
}

/* ---- paging summary ------------------------------------------------------------------- */

static void test_root_verify__history_pages(void **st)
{
	(void)st;
	struct rv_policy p;
	struct rv_history h;
	policy_init(&p, NULL);
	rv_history_init(&h, "");
	size_t total = 0;
	for (int page = 0; page < 3; page++) {
		cJSON *pg = cJSON_CreateObject();
		cJSON *evs = cJSON_AddArrayToObject(pg, "Events");
		for (int i = 0; i < 50; i++) {
			char rec[512];
			snprintf(rec, sizeof(rec),
				 "{\"userIdentity\":{\"type\":\"Root\"},\"eventName\":\"%s\",\"eventID\":\"e%d-%d\","
				 "\"sourceIPAddress\":\"192.0.2.%d\",\"additionalEventData\":{\"MFAUsed\":\"%s\"},"
				 "\"responseElements\":{\"ConsoleLogin\":\"%s\"}}",
				 i % 2 ? "ConsoleLogin" : "ListBuckets", page, i, i % 5, i % 3 ? "Yes" : "No",
				 i % 7 == 1 ? "Failure" : "Success");
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "EventName", "x");
			cJSON_AddStringToObject(e, "CloudTrailEvent", rec);
			cJSON_AddItemToArray(evs, e);
		}
		/* one event with a broken CloudTrailEvent still counts */
		cJSON *bad = cJSON_CreateObject();
		cJSON_AddStringToObject(bad, "EventName", "GetAccountSummary");
		cJSON_AddStringToObject(bad, "CloudTrailEvent", "{not json");
		cJSON_AddItemToArray(evs, bad);
		total += rv_history_add_page(&h, &p, pg, 1000);
		cJSON_Delete(pg);
	}
	assert_int_equal(total, 153);
	assert_int_equal(h.events, 153);
	assert_int_equal(h.pages, 3);
	assert_int_equal(h.unparsed, 3);
	assert_int_equal(h.nnames, 3);
	assert_int_equal(h.nips, 5);
	/* odd i are ConsoleLogin: 25 per page; failures where i%7==1 and i odd */
	size_t fails = 0, logins_no_mfa = 0;
	for (int i = 0; i < 50; i++) {
		if (i % 2 && i % 7 == 1)
			fails++;
		else if (i % 2 && i % 3 == 0)
			logins_no_mfa++;
	}
	assert_int_equal(h.failed_signins, 3 * fails);
	assert_int_equal(h.signins_no_mfa, 3 * logins_no_mfa);

	/* the event bound stops summarizing but pages still count */
	rv_history_init(&h, "");
	cJSON *pg = cJSON_Parse("{\"Events\":[{\"EventName\":\"A\"},{\"EventName\":\"B\"},{\"EventName\":\"C\"}]}");
	assert_int_equal(rv_history_add_page(&h, &p, pg, 2), 3);
	assert_int_equal(h.events, 2);
	cJSON_Delete(pg);
}

/* The envelope's account and region reach the role ARN and the endpoint:
 * crafted values are invalid events. */
static void test_root_verify__classify_refuses_crafted_account_region(void **st)
{
	static const struct { const char *txt; int ok; } cases[] = {
		{ "{\"window_minutes\":5,\"account\":\"111111111111\",\"region\":\"eu-west-1\"}", 1 },
		{ "{\"window_minutes\":5,\"account\":\"111111111111:role/Admin\"}", 0 },
		{ "{\"window_minutes\":5,\"account\":\"1111\"}", 0 },
		{ "{\"window_minutes\":5,\"account\":111111111111}", 0 },
		{ "{\"window_minutes\":5,\"region\":\"evil.example\"}", 0 },
		{ "{\"window_minutes\":5,\"region\":\"us-east-1.evil.example:443\"}", 0 },
		{ "{\"window_minutes\":5,\"region\":[\"us-east-1\"]}", 0 },
		{ "{\"source\":\"aws.signin\",\"detail-type\":\"AWS Console Sign In via CloudTrail\","
		  "\"account\":\"../../x\",\"detail\":{\"eventName\":\"ConsoleLogin\","
		  "\"userIdentity\":{\"type\":\"Root\"}}}", 0 },
	};
	struct rv_config c;
	struct rv_trigger t;
	size_t i;

	(void)st;
	cfg_init(&c, "root-account-usage");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum rv_class k = classify_text(&c, cases[i].txt, &t);

		if (cases[i].ok ? k != RV_CLASS_RUN : k != RV_CLASS_INVALID)
			fail_msg("case %zu: class %d (%s)", i, (int)k, t.why);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_verify__verdict_table),
		cmocka_unit_test(test_root_verify__incomplete_history_never_reads_complete),
		cmocka_unit_test(test_root_verify__regions),
		cmocka_unit_test(test_root_verify__account_posture_overrides_everything),
		cmocka_unit_test(test_root_verify__history_reasons),
		cmocka_unit_test(test_root_verify__next_steps),
		cmocka_unit_test(test_root_verify__assume_root_call),
		cmocka_unit_test(test_root_verify__cidrs),
		cmocka_unit_test(test_root_verify__account_summary_shapes),
		cmocka_unit_test(test_root_verify__classify),
		cmocka_unit_test(test_root_verify__time_parse),
		cmocka_unit_test(test_root_verify__impossible_time_is_not_normalised),
		cmocka_unit_test(test_root_verify__published_samples),
		cmocka_unit_test(test_root_verify__history_pages),
		cmocka_unit_test(test_root_verify__classify_refuses_crafted_account_region),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
