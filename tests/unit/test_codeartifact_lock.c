/*
 * codeartifact-lock stages (functions/codeartifact-lock/stages.c):
 * table-driven, no AWS. The "must not be usable as a weapon" cases: an
 * event naming an account root, the function's own role, the member role,
 * a trusted principal or a principal outside the domain's account is
 * reported only (ca_judge); "*" and wildcards are refused as principals
 * before any call; the merge never drops a statement, and an altered
 * statement carrying our Sid does not count as the lock.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "../../functions/codeartifact-lock/stages.c"

#define ACCT "111111111111"
#define OTHER "222222222222"
#define MALLORY "arn:aws:iam::" ACCT ":user/mallory"
#define CI_ROLE "arn:aws:iam::" ACCT ":role/ci-build"

static struct ca_settings settings(void)
{
	struct ca_settings s;

	memset(&s, 0, sizeof(s));
	snprintf(s.alarm, sizeof(s.alarm), "firebreak-codeartifact-tokens");
	snprintf(s.domain, sizeof(s.domain), "acme");
	snprintf(s.principal, sizeof(s.principal), "%s", CI_ROLE);
	s.min_severity = 4;
	return s;
}

static enum fb_err parse(const char *text, const struct ca_settings *s, struct ca_event *ev, char *why)
{
	return ca_parse(text, strlen(text), s, ev, why, 300);
}

static void test_ca__names(void **state)
{
	static const struct { const char *s; int dom, repo; } rows[] = {
		{ "acme", 1, 1 }, { "my-domain-2", 1, 1 }, { "ab", 1, 1 }, { "a", 0, 0 },
		{ "Acme", 0, 1 }, { "-acme", 0, 0 }, { "acme-", 0, 1 }, { "2acme", 0, 1 },
		{ "a_b", 0, 1 }, { "a.b", 0, 1 }, { "a b", 0, 0 }, { "a/b", 0, 0 }, { "a?x=1", 0, 0 },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1, 1 },  /* 50 */
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, 1 }, /* 51 */
		{ "", 0, 0 }, { "r\xc3\xa9", 0, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (ca_domain_ok(rows[i].s) != rows[i].dom)
			fail_msg("domain '%s': want %d", rows[i].s, rows[i].dom);
		if (ca_repo_ok(rows[i].s) != rows[i].repo)
			fail_msg("repo '%s': want %d", rows[i].s, rows[i].repo);
	}
	assert_false(ca_domain_ok(NULL));
}

static void test_ca__principals(void **state)
{
	static const struct { const char *arn; int ok; enum ca_pkind kind; const char *deny, *name; } rows[] = {
		{ MALLORY, 1, CA_P_USER, MALLORY, "mallory" },
		{ "arn:aws:iam::" ACCT ":user/dev/team/mallory", 1, CA_P_USER,
		  "arn:aws:iam::" ACCT ":user/dev/team/mallory", "mallory" },
		{ CI_ROLE, 1, CA_P_ROLE, CI_ROLE, "ci-build" },
		{ "arn:aws:sts::" ACCT ":assumed-role/ci-build/build-42", 1, CA_P_ROLE, CI_ROLE, "ci-build" },
		{ "arn:aws:iam::" ACCT ":root", 1, CA_P_ROOT, "arn:aws:iam::" ACCT ":root", "" },
		{ "arn:aws-cn:iam::" ACCT ":role/x", 1, CA_P_ROLE, "arn:aws-cn:iam::" ACCT ":role/x", "x" },
		{ "*", 0, 0, NULL, NULL },
		{ "arn:aws:iam::" ACCT ":user/*", 0, 0, NULL, NULL },
		{ "arn:aws:iam::" ACCT ":group/devs", 0, 0, NULL, NULL },
		{ "arn:aws:iam::1111:user/x", 0, 0, NULL, NULL },
		{ "arn:aws:iam:us-east-1:" ACCT ":user/x", 0, 0, NULL, NULL },
		{ "arn:evil:iam::" ACCT ":user/x", 0, 0, NULL, NULL },
		{ "arn:aws:iam::" ACCT ":user/", 0, 0, NULL, NULL },
		{ "arn:aws:iam::" ACCT ":user/a b", 0, 0, NULL, NULL },
		{ "arn:aws:sts::" ACCT ":assumed-role/ci-build", 0, 0, NULL, NULL },
		{ "arn:aws:sts::" ACCT ":federated-user/bob", 0, 0, NULL, NULL },
		{ "codeartifact.amazonaws.com", 0, 0, NULL, NULL },
		{ ACCT, 0, 0, NULL, NULL },
	};
	struct ca_principal p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc = ca_principal_parse(rows[i].arn, &p);

		if ((rc == 0) != rows[i].ok)
			fail_msg("'%s': want ok=%d", rows[i].arn, rows[i].ok);
		if (!rows[i].ok)
			continue;
		assert_int_equal(p.kind, rows[i].kind);
		assert_string_equal(p.deny_arn, rows[i].deny);
		assert_string_equal(p.name, rows[i].name);
		assert_string_equal(p.account, ACCT);
	}
	assert_int_equal(ca_principal_parse(NULL, &p), -1);
}

#define ALARM(name, st) \
	"{\"version\":\"0\",\"id\":\"a1\",\"detail-type\":\"CloudWatch Alarm State Change\"," \
	"\"source\":\"aws.cloudwatch\",\"account\":\"" ACCT "\",\"time\":\"2026-12-07T01:00:00Z\"," \
	"\"region\":\"us-east-1\",\"resources\":[],\"detail\":{\"alarmName\":\"" name "\"," \
	"\"state\":{\"value\":\"" st "\",\"timestamp\":\"2026-12-07T01:00:00.000+0000\"}}}"

static void test_ca__parse_alarm(void **state)
{
	struct ca_settings s = settings();
	struct ca_event ev;
	char why[300];

	(void)state;
	assert_int_equal(parse(ALARM("firebreak-codeartifact-tokens", "ALARM"), &s, &ev, why), FB_OK);
	assert_int_equal(ev.source, CA_SRC_ALARM);
	assert_string_equal(ev.skip, "");
	assert_string_equal(ev.domain, "acme");
	assert_string_equal(ev.principal, CI_ROLE);
	assert_true(ev.event_ms > 0);
	ca_event_cleanup(&ev);

	/* another alarm, a prefix of ours, OK state: understood, not ours */
	assert_int_equal(parse(ALARM("other", "ALARM"), &s, &ev, why), FB_OK);
	assert_non_null(strstr(ev.skip, "not FIREBREAK_CA_ALARM"));
	ca_event_cleanup(&ev);
	assert_int_equal(parse(ALARM("firebreak-codeartifact-tokens-x", "ALARM"), &s, &ev, why), FB_OK);
	assert_non_null(strstr(ev.skip, "not FIREBREAK_CA_ALARM"));
	ca_event_cleanup(&ev);
	assert_int_equal(parse(ALARM("firebreak-codeartifact-tokens", "OK"), &s, &ev, why), FB_OK);
	assert_non_null(strstr(ev.skip, "not ALARM"));
	ca_event_cleanup(&ev);

	/* no alarm configured: no alarm is ours */
	s.alarm[0] = 0;
	assert_int_equal(parse(ALARM("firebreak-codeartifact-tokens", "ALARM"), &s, &ev, why), FB_OK);
	assert_non_null(strstr(ev.skip, "unset"));
	ca_event_cleanup(&ev);

	/* our alarm but nothing says whom: a configuration error, zero calls */
	s = settings();
	s.principal[0] = 0;
	assert_int_equal(parse(ALARM("firebreak-codeartifact-tokens", "ALARM"), &s, &ev, why), FB_E_INVALID);
	assert_non_null(strstr(why, "FIREBREAK_CA_PRINCIPAL"));
	ca_event_cleanup(&ev);
}

#define GD(sev, svc, utype, uname, extra) \
	"{\"version\":\"0\",\"id\":\"g1\",\"detail-type\":\"GuardDuty Finding\",\"source\":\"aws.guardduty\"," \
	"\"account\":\"" ACCT "\",\"time\":\"2026-12-07T01:00:00Z\",\"region\":\"us-east-1\",\"resources\":[]," \
	"\"detail\":{\"schemaVersion\":\"2.0\",\"accountId\":\"" ACCT "\",\"region\":\"us-east-1\"," \
	"\"partition\":\"aws\",\"id\":\"f-1\",\"type\":\"UnauthorizedAccess:IAMUser/TorIPCaller\"," \
	"\"severity\":" sev ",\"updatedAt\":\"2026-12-07T01:00:00.000Z\"," \
	"\"resource\":{\"resourceType\":\"AccessKey\",\"accessKeyDetails\":{\"userType\":\"" utype "\"," \
	"\"userName\":\"" uname "\",\"accessKeyId\":\"AKIAEXAMPLE\"}}," \
	"\"service\":{\"action\":{\"actionType\":\"AWS_API_CALL\",\"awsApiCallAction\":{" \
	"\"serviceName\":\"" svc "\",\"api\":\"GetAuthorizationToken\"" extra "}}}}}"

static void test_ca__parse_guardduty(void **state)
{
	struct ca_settings s = settings();
	struct ca_event ev;
	char why[300];

	(void)state;
	assert_int_equal(parse(GD("5", "codeartifact.amazonaws.com", "IAMUser", "mallory", ""), &s, &ev, why), FB_OK);
	assert_int_equal(ev.source, CA_SRC_GUARDDUTY);
	assert_string_equal(ev.skip, "");
	assert_string_equal(ev.principal, MALLORY);
	assert_string_equal(ev.domain, "acme");  /* the setting: the finding names none */
	assert_string_equal(ev.finding_id, "f-1");
	assert_string_equal(ev.domain_owner, ACCT);   /* the principal's account */
	ca_event_cleanup(&ev);

	assert_int_equal(parse(GD("8", "codeartifact.amazonaws.com", "AssumedRole", "ci-build",
				  ",\"affectedResources\":{\"AWS::CodeArtifact::Domain\":\"supply\"}"), &s, &ev, why),
			 FB_OK);
	assert_string_equal(ev.principal, CI_ROLE);
	assert_string_equal(ev.domain, "supply");
	ca_event_cleanup(&ev);

	/* another service's activity, or below the threshold: not ours */
	assert_int_equal(parse(GD("8", "s3.amazonaws.com", "IAMUser", "mallory", ""), &s, &ev, why), FB_OK);
	assert_non_null(strstr(ev.skip, "not about CodeArtifact"));
	ca_event_cleanup(&ev);
	assert_int_equal(parse(GD("2", "codeartifact.amazonaws.com", "IAMUser", "mallory", ""), &s, &ev, why), FB_OK);
	assert_non_null(strstr(ev.skip, "below"));
	ca_event_cleanup(&ev);

	/* a crafted domain or user name is refused before any call */
	assert_int_equal(parse(GD("8", "codeartifact.amazonaws.com", "IAMUser", "mallory",
				  ",\"affectedResources\":{\"AWS::CodeArtifact::Domain\":\"x?domain-owner=1\"}"),
			       &s, &ev, why), FB_E_INVALID);
	ca_event_cleanup(&ev);
	assert_int_equal(parse(GD("8", "codeartifact.amazonaws.com", "IAMUser", "*", ""), &s, &ev, why),
			 FB_E_INVALID);
	ca_event_cleanup(&ev);
	assert_int_equal(parse(GD("8", "codeartifact.amazonaws.com", "FederatedUser", "bob", ""), &s, &ev, why),
			 FB_E_INVALID);
	ca_event_cleanup(&ev);
	s.domain[0] = 0;
	assert_int_equal(parse(GD("8", "codeartifact.amazonaws.com", "IAMUser", "mallory", ""), &s, &ev, why),
			 FB_E_INVALID);
	assert_non_null(strstr(why, "no CodeArtifact domain"));
	ca_event_cleanup(&ev);
}

static void test_ca__parse_manual(void **state)
{
	static const struct { const char *ev; enum fb_err rc; const char *why; } rows[] = {
		{ "{\"domain\":\"acme\",\"principal\":\"" MALLORY "\"}", FB_OK, NULL },
		{ "{\"domain\":\"acme\",\"principal\":\"" MALLORY "\",\"domainOwner\":\"" OTHER "\",\"dryRun\":true}",
		  FB_OK, NULL },
		{ "{\"domain\":\"acme\"}", FB_E_INVALID, "expected" },
		{ "{\"domain\":\"ACME\",\"principal\":\"" MALLORY "\"}", FB_E_INVALID, "domain" },
		{ "{\"domain\":7,\"principal\":\"" MALLORY "\"}", FB_E_INVALID, "domain" },
		{ "{\"domain\":\"acme\",\"principal\":\"*\"}", FB_E_INVALID, "principal" },
		{ "{\"domain\":\"acme\",\"principal\":[\"" MALLORY "\"]}", FB_E_INVALID, "principal" },
		{ "{\"domain\":\"acme\",\"principal\":\"" MALLORY "\",\"domainOwner\":\"1\"}", FB_E_INVALID,
		  "domainOwner" },
		{ "{\"domain\":\"acme\",\"principal\":\"" MALLORY "\",\"dryRun\":\"yes\"}", FB_E_INVALID, "dryRun" },
		{ "{\"source\":\"aws.s3\",\"detail-type\":\"Object Created\",\"detail\":{}}", FB_E_INVALID,
		  "unsupported" },
		{ "[1]", FB_E_INVALID, NULL },
		{ "{\"domain\":\"acme\",", FB_E_INVALID, NULL },
	};
	struct ca_settings s = settings();
	struct ca_event ev;
	char why[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		why[0] = 0;
		if (parse(rows[i].ev, &s, &ev, why) != rows[i].rc)
			fail_msg("row %zu: want %d (%s)", i, rows[i].rc, why);
		if (rows[i].why && !strstr(why, rows[i].why))
			fail_msg("row %zu: why '%s' lacks '%s'", i, why, rows[i].why);
		if (rows[i].rc == FB_OK) {
			assert_int_equal(ev.source, CA_SRC_MANUAL);
			assert_string_equal(ev.principal, MALLORY);
		}
		ca_event_cleanup(&ev);
	}
	assert_int_equal(parse(rows[1].ev, &s, &ev, why), FB_OK);
	assert_string_equal(ev.domain_owner, OTHER);
	ca_event_cleanup(&ev);
}

static void test_ca__judge(void **state)
{
	char *trusted[] = { "arn:aws:iam::" ACCT ":role/break-glass*" };
	struct resp_config cfg;
	static const struct { const char *arn; const char *self; enum ca_judgement want; } rows[] = {
		{ MALLORY, "arn:aws:sts::" ACCT ":assumed-role/fb-ca-role/fn", CA_LOCK },
		{ CI_ROLE, "arn:aws:sts::" ACCT ":assumed-role/fb-ca-role/fn", CA_LOCK },
		{ "arn:aws:sts::" ACCT ":assumed-role/ci-build/s", "arn:aws:sts::" ACCT ":assumed-role/fb-ca-role/fn", CA_LOCK },
		/* our own identity unknown: a role could be ours; a user cannot */
		{ CI_ROLE, "", CA_KEEP_SELF },
		{ MALLORY, "", CA_LOCK },
		/* the domain owner's root, and any other account's root */
		{ "arn:aws:iam::" ACCT ":root", "", CA_KEEP_OWNER_ROOT },
		{ "arn:aws:iam::" OTHER ":root", "", CA_KEEP_OWNER_ROOT },
		{ "arn:aws:iam::" ACCT ":role/break-glass-admin", "arn:aws:sts::" ACCT ":assumed-role/fb-ca-role/fn", CA_KEEP_TRUSTED },
		/* the function's own role, named as role or as session */
		{ "arn:aws:iam::" ACCT ":role/fb-ca-role", "arn:aws:sts::" ACCT ":assumed-role/fb-ca-role/fn",
		  CA_KEEP_SELF },
		{ "arn:aws:sts::" ACCT ":assumed-role/fb-ca-role/other", "arn:aws:sts::" ACCT ":assumed-role/fb-ca-role/fn",
		  CA_KEEP_SELF },
		/* the member role firebreak acts through */
		{ "arn:aws:iam::" ACCT ":role/firebreak-member", "arn:aws:sts::" ACCT ":assumed-role/fb-ca-role/fn", CA_KEEP_SELF },
		/* outside the domain's account */
		{ "arn:aws:iam::" OTHER ":user/partner-ci", "", CA_KEEP_FOREIGN },
		{ "arn:aws:iam::" OTHER ":role/fb-ca-role", "arn:aws:sts::" ACCT ":assumed-role/fb-ca-role/fn",
		  CA_KEEP_FOREIGN },
	};
	struct ca_principal p;
	char why[400];
	size_t i;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.trusted = trusted;
	cfg.ntrusted = 1;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum ca_judgement j;

		assert_int_equal(ca_principal_parse(rows[i].arn, &p), 0);
		j = ca_judge(&p, rows[i].arn, ACCT, rows[i].self, "firebreak-member", &cfg, why, sizeof(why));
		if (j != rows[i].want)
			fail_msg("'%s': got %d want %d (%s)", rows[i].arn, j, rows[i].want, why);
	}
	/* the domain's account unknown: nobody is denied */
	assert_int_equal(ca_principal_parse(MALLORY, &p), 0);
	assert_int_equal(ca_judge(&p, MALLORY, NULL, "", NULL, &cfg, why, sizeof(why)), CA_KEEP_FOREIGN);
}

static int nstatements(const char *doc)
{
	cJSON *d = cJSON_Parse(doc);
	int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(d, "Statement"));

	cJSON_Delete(d);
	return n;
}

#define ALLOW_ALL "{\"Sid\":\"ReadAll\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::" ACCT \
	":root\"},\"Action\":[\"codeartifact:ReadFromRepository\",\"codeartifact:GetAuthorizationToken\"]," \
	"\"Resource\":\"*\",\"Condition\":{\"StringEquals\":{\"aws:PrincipalOrgID\":\"o-abc\"}}}"

static void test_ca__merge(void **state)
{
	const char *prior = "{\"Version\":\"2012-10-17\",\"Statement\":[" ALLOW_ALL ",{\"Effect\":\"Deny\","
			    "\"Principal\":\"*\",\"Action\":\"codeartifact:DeleteDomain\",\"Resource\":\"*\"}]}";
	char *out = NULL, *out2 = NULL, why[300], sid[CA_SID_LEN], sid2[CA_SID_LEN];
	cJSON *d, *prior_j, *st;
	int i;

	(void)state;
	ca_sid(MALLORY, sid);
	ca_sid(CI_ROLE, sid2);
	assert_string_not_equal(sid, sid2);
	assert_int_equal(strlen(sid), strlen(CA_SID_PREFIX) + 16);
	for (i = 0; sid[i]; i++)
		assert_true(isalnum((unsigned char)sid[i]));   /* IAM: Sid is [A-Za-z0-9] */

	/* every existing statement kept, in order, byte for byte; ours last */
	assert_int_equal(ca_policy_merge(prior, MALLORY, &out, why, sizeof(why)), CA_MERGE_WRITE);
	assert_int_equal(nstatements(out), 3);
	d = cJSON_Parse(out);
	prior_j = cJSON_Parse(prior);
	for (i = 0; i < 2; i++)
		assert_true(cJSON_Compare(cJSON_GetArrayItem(cJSON_GetObjectItem(d, "Statement"), i),
					  cJSON_GetArrayItem(cJSON_GetObjectItem(prior_j, "Statement"), i), 1));
	st = cJSON_GetArrayItem(cJSON_GetObjectItem(d, "Statement"), 2);
	assert_string_equal(resp_get_str(st, "Sid"), sid);
	assert_string_equal(resp_get_str(st, "Effect"), "Deny");
	assert_string_equal(resp_get_str(st, "Principal.AWS"), MALLORY);
	assert_string_equal(resp_get_str(st, "Action"), "codeartifact:*");
	assert_string_equal(resp_get_str(d, "Version"), "2012-10-17");
	cJSON_Delete(d);
	cJSON_Delete(prior_j);

	/* idempotent: merging again is "already", nothing to write */
	assert_int_equal(ca_policy_merge(out, MALLORY, &out2, why, sizeof(why)), CA_MERGE_ALREADY);
	assert_null(out2);
	assert_non_null(strstr(why, "already"));
	/* a second principal adds a second statement, the first stays */
	assert_int_equal(ca_policy_merge(out, CI_ROLE, &out2, why, sizeof(why)), CA_MERGE_WRITE);
	assert_int_equal(nstatements(out2), 4);
	free(out2);
	out2 = NULL;

	/* our Sid, narrowed by someone (an Allow, or one action): not the
	 * lock; replaced in place, the others kept */
	{
		char altered[1024];

		snprintf(altered, sizeof(altered), "{\"Version\":\"2012-10-17\",\"Statement\":[" ALLOW_ALL ","
			 "{\"Sid\":\"%s\",\"Effect\":\"Deny\",\"Principal\":{\"AWS\":\"%s\"},\"Action\":"
			 "\"codeartifact:DeleteDomain\",\"Resource\":\"*\"}]}", sid, MALLORY);
		assert_int_equal(ca_policy_merge(altered, MALLORY, &out2, why, sizeof(why)), CA_MERGE_WRITE);
		assert_int_equal(nstatements(out2), 2);
		assert_non_null(strstr(why, "altered"));
		d = cJSON_Parse(out2);
		assert_string_equal(resp_get_str(cJSON_GetArrayItem(cJSON_GetObjectItem(d, "Statement"), 1), "Action"),
				    "codeartifact:*");
		cJSON_Delete(d);
		free(out2);
		out2 = NULL;
	}
	free(out);
	out = NULL;

	/* no policy yet; a single-object Statement; no Statement */
	assert_int_equal(ca_policy_merge(NULL, MALLORY, &out, why, sizeof(why)), CA_MERGE_WRITE);
	assert_int_equal(nstatements(out), 1);
	free(out);
	assert_int_equal(ca_policy_merge("{\"Version\":\"2012-10-17\",\"Statement\":" ALLOW_ALL "}", MALLORY, &out,
					 why, sizeof(why)), CA_MERGE_WRITE);
	assert_int_equal(nstatements(out), 2);
	assert_non_null(strstr(out, "\"Sid\":\"ReadAll\""));
	free(out);
	assert_int_equal(ca_policy_merge("{\"Version\":\"2012-10-17\"}", MALLORY, &out, why, sizeof(why)),
			 CA_MERGE_WRITE);
	assert_int_equal(nstatements(out), 1);
	free(out);

	/* what cannot be merged without losing something is not written */
	assert_int_equal(ca_policy_merge("not json", MALLORY, &out, why, sizeof(why)), CA_MERGE_BAD);
	assert_null(out);
	assert_int_equal(ca_policy_merge("[1,2]", MALLORY, &out, why, sizeof(why)), CA_MERGE_BAD);
	assert_int_equal(ca_policy_merge("{\"Statement\":\"x\"}", MALLORY, &out, why, sizeof(why)), CA_MERGE_BAD);
	assert_null(out);
}

static void test_ca__grants(void **state)
{
	static const struct { const char *doc; int want; } rows[] = {
		{ "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"codeartifact:*\"}]}", 1 },
		{ "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"}}]}", 1 },
		{ "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" MALLORY "\"}}}", 1 },
		{ "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"arn:aws:iam::" OTHER ":root\","
		  "\"arn:aws:iam::" ACCT ":root\"]}}]}", 1 },
		{ "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" ACCT "\"}}]}", 1 },
		/* conditions are not evaluated: a conditional grant counts */
		{ "{\"Statement\":[" ALLOW_ALL "]}", 1 },
		{ "{\"Statement\":[{\"Effect\":\"Allow\",\"NotPrincipal\":{\"AWS\":\"arn:aws:iam::" ACCT ":user/bob\"}}]}",
		  1 },
		{ "{\"Statement\":[{\"Effect\":\"Allow\",\"NotPrincipal\":{\"AWS\":\"" MALLORY "\"}}]}", 0 },
		{ "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::" ACCT ":user/bob\"}}]}", 0 },
		{ "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::" OTHER ":root\"}}]}", 0 },
		{ "{\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":\"*\"}]}", 0 },
		{ "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"codeartifact.amazonaws.com\"}}]}", 0 },
		{ "{\"Statement\":[]}", 0 },
		{ "", 0 },
		{ "not json", -1 },
		{ "{\"Statement\":5}", -1 },
	};
	struct ca_principal p;
	char why[300];
	size_t i;

	(void)state;
	assert_int_equal(ca_principal_parse(MALLORY, &p), 0);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int g = ca_policy_grants(rows[i].doc, &p, MALLORY, why, sizeof(why));

		if (g != rows[i].want)
			fail_msg("row %zu: got %d want %d (%s)", i, g, rows[i].want, why);
	}
	/* a session named by the event: the role's grants count */
	assert_int_equal(ca_principal_parse("arn:aws:sts::" ACCT ":assumed-role/ci-build/s1", &p), 0);
	assert_int_equal(ca_policy_grants("{\"Statement\":[{\"Sid\":\"CI\",\"Effect\":\"Allow\",\"Principal\":"
					  "{\"AWS\":\"" CI_ROLE "\"}}]}", &p, NULL, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "CI"));
}

static void test_ca__tokens(void **state)
{
	char note[600];
	int64_t t0 = resp_parse_time_ms("2026-12-07T05:00:00.000Z");

	(void)state;
	assert_true(t0 > 0);
	assert_int_equal(ca_token_expiry_ms(t0) - t0, 12LL * 3600 * 1000);
	ca_token_note(t0, 0, note, sizeof(note));
	assert_non_null(strstr(note, "cannot be revoked"));
	assert_non_null(strstr(note, "12 hours"));
	assert_non_null(strstr(note, "2026-12-07T05:00:00"));
	assert_non_null(strstr(note, "expires by 2026-12-07T17:00:00"));
	ca_token_note(t0, 1, note, sizeof(note));
	assert_non_null(strstr(note, "if it were contained now"));
}

static void test_ca__domain_arn(void **state)
{
	char a[16];

	(void)state;
	assert_non_null(ca_arn_account("arn:aws:codeartifact:us-east-1:" ACCT ":domain/acme", a));
	assert_string_equal(a, ACCT);
	assert_null(ca_arn_account("arn:aws:codeartifact:us-east-1:" ACCT ":repository/acme/r", a));
	assert_null(ca_arn_account("arn:aws:s3:::" ACCT ":domain/acme", a));
	assert_null(ca_arn_account("arn:aws:codeartifact:us-east-1:1234:domain/acme", a));
	assert_null(ca_arn_account(NULL, a));
}

static void test_ca__settings(void **state)
{
	struct ca_settings s;
	char err[300];

	(void)state;
	setenv("FIREBREAK_CA_DOMAIN", "acme", 1);
	setenv("FIREBREAK_CA_PRINCIPAL", CI_ROLE, 1);
	assert_int_equal(ca_settings_from_env(&s, err, sizeof(err)), FB_OK);
	assert_string_equal(s.domain, "acme");
	assert_true(s.min_severity == CA_DEFAULT_MIN_SEVERITY);
	setenv("FIREBREAK_CA_PRINCIPAL", "*", 1);
	assert_int_equal(ca_settings_from_env(&s, err, sizeof(err)), FB_E_CONFIG);
	setenv("FIREBREAK_CA_PRINCIPAL", CI_ROLE, 1);
	setenv("FIREBREAK_CA_DOMAIN_OWNER", "12", 1);
	assert_int_equal(ca_settings_from_env(&s, err, sizeof(err)), FB_E_CONFIG);
	unsetenv("FIREBREAK_CA_DOMAIN_OWNER");
	setenv("FIREBREAK_CA_DOMAIN", "Bad Domain", 1);
	assert_int_equal(ca_settings_from_env(&s, err, sizeof(err)), FB_E_CONFIG);
	unsetenv("FIREBREAK_CA_DOMAIN");
	unsetenv("FIREBREAK_CA_PRINCIPAL");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ca__names),
		cmocka_unit_test(test_ca__principals),
		cmocka_unit_test(test_ca__parse_alarm),
		cmocka_unit_test(test_ca__parse_guardduty),
		cmocka_unit_test(test_ca__parse_manual),
		cmocka_unit_test(test_ca__judge),
		cmocka_unit_test(test_ca__merge),
		cmocka_unit_test(test_ca__grants),
		cmocka_unit_test(test_ca__tokens),
		cmocka_unit_test(test_ca__domain_arn),
		cmocka_unit_test(test_ca__settings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
