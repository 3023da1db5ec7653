/* Unit tests of iam-contain's pure stages (functions/iam-contain/stages.c):
 * parsing, who is contained, and the revert plan from CloudTrail history,
 * including the cases where an attacker would like to steer it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../functions/iam-contain/stages.c"

#define A "111111111111"
#define MAL "arn:aws:iam::" A ":user/mallory"
#define ALICE "arn:aws:iam::" A ":user/alice"
#define DOC_OLD "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}]}"
#define DOC_BAD "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"

static const struct ic_settings SET = { .min_severity = 4.0, .revoke_compute_roles = 1 };

static cJSON *J(const char *s)
{
	cJSON *j = cJSON_Parse(s);

	assert_non_null(j);
	return j;
}

/* A user identity block for actor (IAM user or assumed-role session ARN). */
static void identity(char *out, size_t n, const char *actor)
{
	if (strstr(actor, ":assumed-role/")) {
		char role[128];
		const char *r = strstr(actor, ":assumed-role/") + 14;

		snprintf(role, sizeof(role), "%.*s", (int)(strchr(r, '/') - r), r);
		snprintf(out, n, "{\"type\":\"AssumedRole\",\"arn\":\"%s\",\"accountId\":\"" A "\","
			 "\"sessionContext\":{\"sessionIssuer\":{\"type\":\"Role\",\"arn\":\"arn:aws:iam::" A ":role/%s\"}}}",
			 actor, role);
	} else {
		snprintf(out, n, "{\"type\":\"IAMUser\",\"arn\":\"%s\",\"accountId\":\"" A "\",\"userName\":\"x\"}", actor);
	}
}

/* An EventBridge aws.iam event; params/response are JSON text. */
static cJSON *ct_event(const char *name, const char *params, const char *response, const char *actor)
{
	static char buf[300000];
	char ui[1024];

	identity(ui, sizeof(ui), actor);
	snprintf(buf, sizeof(buf), "{\"source\":\"aws.iam\",\"detail-type\":\"AWS API Call via CloudTrail\","
		 "\"account\":\"" A "\",\"detail\":{\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"%s\","
		 "\"eventTime\":\"2026-12-07T01:00:00Z\",\"eventID\":\"trigger-1\",\"recipientAccountId\":\"" A "\","
		 "\"userIdentity\":%s,\"requestParameters\":%s,\"responseElements\":%s}}",
		 name, ui, params, response ? response : "null");
	return J(buf);
}

/* A LookupEvents Event for a record. */
static void add_history(cJSON *events, const char *name, const char *params, const char *response,
			const char *actor, const char *when)
{
	char rec[8192], ui[1024];
	cJSON *ev = cJSON_CreateObject();

	identity(ui, sizeof(ui), actor);
	snprintf(rec, sizeof(rec), "{\"eventName\":\"%s\",\"eventTime\":\"%s\",\"eventID\":\"h-%s-%s\","
		 "\"userIdentity\":%s,\"requestParameters\":%s,\"responseElements\":%s}",
		 name, when, name, when, ui, params, response ? response : "null");
	cJSON_AddStringToObject(ev, "CloudTrailEvent", rec);
	cJSON_AddStringToObject(ev, "EventName", name);
	cJSON_AddItemToArray(events, ev);
}

static enum ic_parsed parse(cJSON *ev, struct ic_event *e)
{
	char why[300];
	enum ic_parsed p = ic_parse(ev, &SET, e, why, sizeof(why));

	cJSON_Delete(ev);
	return p;
}

static void test_iam_contain__parses_each_event_name(void **st)
{
	static const struct {
		const char *name, *params, *response;
		enum ic_op op;
	} cases[] = {
		{ "PutUserPolicy", "{\"userName\":\"bob\",\"policyName\":\"p\",\"policyDocument\":\"" "{\\\"Statement\\\":[]}" "\"}", NULL, IC_OP_PUT_USER_POLICY },
		{ "PutRolePolicy", "{\"roleName\":\"app\",\"policyName\":\"p\",\"policyDocument\":\"{\\\"Statement\\\":[]}\"}", NULL, IC_OP_PUT_ROLE_POLICY },
		{ "PutGroupPolicy", "{\"groupName\":\"g\",\"policyName\":\"p\",\"policyDocument\":\"{\\\"Statement\\\":[]}\"}", NULL, IC_OP_PUT_GROUP_POLICY },
		{ "AttachUserPolicy", "{\"userName\":\"bob\",\"policyArn\":\"arn:aws:iam::aws:policy/AdministratorAccess\"}", NULL, IC_OP_ATTACH_USER_POLICY },
		{ "AttachRolePolicy", "{\"roleName\":\"app\",\"policyArn\":\"arn:aws:iam::" A ":policy/path/ops\"}", NULL, IC_OP_ATTACH_ROLE_POLICY },
		{ "AttachGroupPolicy", "{\"groupName\":\"g\",\"policyArn\":\"arn:aws:iam::aws:policy/AdministratorAccess\"}", NULL, IC_OP_ATTACH_GROUP_POLICY },
		{ "CreatePolicyVersion", "{\"policyArn\":\"arn:aws:iam::" A ":policy/ops\",\"setAsDefault\":true,\"policyDocument\":\"{\\\"Statement\\\":[]}\"}",
		  "{\"policyVersion\":{\"versionId\":\"v3\"}}", IC_OP_CREATE_POLICY_VERSION },
		{ "SetDefaultPolicyVersion", "{\"policyArn\":\"arn:aws:iam::" A ":policy/ops\",\"versionId\":\"v2\"}", NULL, IC_OP_SET_DEFAULT_POLICY_VERSION },
		{ "UpdateAssumeRolePolicy", "{\"roleName\":\"app\",\"policyDocument\":\"{\\\"Statement\\\":[]}\"}", NULL, IC_OP_UPDATE_ASSUME_ROLE_POLICY },
		{ "CreateAccessKey", "{\"userName\":\"bob\"}", "{\"accessKey\":{\"accessKeyId\":\"AKIABOBNEWKEY0000001\"}}", IC_OP_CREATE_ACCESS_KEY },
		{ "CreateLoginProfile", "{\"userName\":\"bob\"}", NULL, IC_OP_CREATE_LOGIN_PROFILE },
		{ "UpdateLoginProfile", "{}", NULL, IC_OP_UPDATE_LOGIN_PROFILE },
		{ "AddUserToGroup", "{\"userName\":\"bob\",\"groupName\":\"admin\"}", NULL, IC_OP_ADD_USER_TO_GROUP },
		{ "DeleteUserPermissionsBoundary", "{\"userName\":\"bob\"}", NULL, IC_OP_DELETE_USER_PERMISSIONS_BOUNDARY },
		{ "DeleteRolePermissionsBoundary", "{\"roleName\":\"app\"}", NULL, IC_OP_DELETE_ROLE_PERMISSIONS_BOUNDARY },
	};
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ic_event e;

		assert_int_equal(parse(ct_event(cases[i].name, cases[i].params, cases[i].response, MAL), &e), IC_ACT);
		assert_int_equal(e.op, cases[i].op);
		assert_string_equal(ic_op_name(e.op), cases[i].name);
		assert_int_equal(e.actor.kind, IC_P_USER);
		assert_string_equal(e.actor.name, "mallory");
		assert_string_equal(e.account, A);
		ic_event_cleanup(&e);
	}
	{
		/* UpdateLoginProfile without userName: the caller's own user */
		struct ic_event e;

		assert_int_equal(parse(ct_event("UpdateLoginProfile", "{}", NULL, MAL), &e), IC_ACT);
		assert_string_equal(e.user, "mallory");
		ic_event_cleanup(&e);
	}
}

static void test_iam_contain__rejects_bad_input(void **st)
{
	static const struct {
		const char *name, *params, *response;
	} bad[] = {
		{ "PutUserPolicy", "{\"userName\":\"bob\",\"policyName\":\"p\",\"policyDocument\":\"{not json\"}", NULL },
		{ "PutUserPolicy", "{\"userName\":\"bob\",\"policyName\":\"p\",\"policyDocument\":\"[1]\"}", NULL },
		{ "PutUserPolicy", "{\"userName\":\"bob/../alice\",\"policyName\":\"p\",\"policyDocument\":\"{}\"}", NULL },
		{ "AttachUserPolicy", "{\"userName\":\"bob\",\"policyArn\":\"arn:aws:s3:::bucket\"}", NULL },
		{ "AttachUserPolicy", "{\"userName\":\"bob\",\"policyArn\":\"arn:aws:iam::12:policy/x\"}", NULL },
		{ "AttachUserPolicy", "{\"userName\":\"bob\"}", NULL },
		{ "CreatePolicyVersion", "{\"policyArn\":\"arn:aws:iam::" A ":policy/ops\"}", "{\"policyVersion\":{\"versionId\":\"v0\"}}" },
		{ "SetDefaultPolicyVersion", "{\"policyArn\":\"arn:aws:iam::" A ":policy/ops\",\"versionId\":\"2\"}", NULL },
		{ "CreateAccessKey", "{\"userName\":\"bob\"}", "{\"accessKey\":{\"accessKeyId\":\"short\"}}" },
		{ "AddUserToGroup", "{\"userName\":\"bob\",\"groupName\":\"\"}", NULL },
	};
	struct ic_event e;
	static char big[140200], pad[140001];
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(ct_event(bad[i].name, bad[i].params, bad[i].response, MAL), &e), IC_INVALID);
		ic_event_cleanup(&e);
	}
	/* a document larger than any IAM accepts */
	memset(pad, 'a', sizeof(pad) - 1);
	snprintf(big, sizeof(big), "{\"userName\":\"bob\",\"policyName\":\"p\",\"policyDocument\":"
		 "\"{\\\"x\\\":\\\"%s\\\"}\"}", pad);
	assert_int_equal(parse(ct_event("PutUserPolicy", big, NULL, MAL), &e), IC_INVALID);
	ic_event_cleanup(&e);
	/* not IAM, not GuardDuty, not manual */
	assert_int_equal(parse(J("{\"source\":\"aws.kms\",\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":{}}"), &e),
			 IC_INVALID);
	/* an aws.iam event from another service's source */
	assert_int_equal(parse(J("{\"source\":\"aws.iam\",\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":"
				 "{\"eventSource\":\"kms.amazonaws.com\",\"eventName\":\"PutUserPolicy\"}}"), &e), IC_INVALID);
	/* an event name we do not revert, a failed call: skips */
	assert_int_equal(parse(ct_event("ListUsers", "{}", NULL, MAL), &e), IC_SKIP);
	{
		cJSON *ev = ct_event("AttachUserPolicy", "{\"userName\":\"bob\",\"policyArn\":\"arn:aws:iam::aws:policy/A\"}", NULL, MAL);

		cJSON_AddStringToObject(cJSON_GetObjectItem(ev, "detail"), "errorCode", "AccessDenied");
		assert_int_equal(parse(ev, &e), IC_SKIP);
	}
	/* manual: a principal that is not a user or role ARN, no reason */
	assert_int_equal(parse(J("{\"principal\":\"arn:aws:iam::" A ":group/admin\",\"reason\":\"r\"}"), &e), IC_INVALID);
	assert_int_equal(parse(J("{\"principal\":\"" MAL "\"}"), &e), IC_INVALID);
	assert_int_equal(parse(J("{\"principal\":\"arn:aws:iam::1111:user/x\",\"reason\":\"r\"}"), &e), IC_INVALID);
	/* an assumed-role session whose issuer is another role: inconsistent */
	assert_int_equal(parse(J("{\"source\":\"aws.iam\",\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":"
				 "{\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"AddUserToGroup\",\"recipientAccountId\":\"" A "\","
				 "\"userIdentity\":{\"type\":\"AssumedRole\",\"arn\":\"arn:aws:sts::" A ":assumed-role/a/s\","
				 "\"sessionContext\":{\"sessionIssuer\":{\"arn\":\"arn:aws:iam::" A ":role/b\"}}},"
				 "\"requestParameters\":{\"userName\":\"bob\",\"groupName\":\"g\"}}}"), &e), IC_INVALID);
}

static void test_iam_contain__actor_decisions(void **st)
{
	struct resp_config cfg;
	struct ic_actor_decision d;
	struct ic_event e;
	char *trusted[] = { "arn:aws:iam::" A ":role/pipeline" };

	(void)st;
	memset(&cfg, 0, sizeof(cfg));
	cfg.trusted = trusted;
	cfg.ntrusted = 1;
	/* a user: contained */
	assert_int_equal(parse(ct_event("AddUserToGroup", "{\"userName\":\"bob\",\"groupName\":\"g\"}", NULL, MAL), &e), IC_ACT);
	assert_int_equal(ic_actor_decide(&e, &cfg, "arn:aws:sts::" A ":assumed-role/firebreak-iam/fn", &d), IC_ACTOR_CONTAIN_USER);
	/* an assumed role (SSO path kept from the issuer): revoked */
	assert_int_equal(parse(J("{\"source\":\"aws.iam\",\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":"
				 "{\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"AddUserToGroup\",\"recipientAccountId\":\"" A "\","
				 "\"userIdentity\":{\"type\":\"AssumedRole\",\"arn\":\"arn:aws:sts::" A ":assumed-role/AWSReservedSSO_Admin_1/u@x\","
				 "\"sessionContext\":{\"sessionIssuer\":{\"arn\":\"arn:aws:iam::" A ":role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_1\"}}},"
				 "\"requestParameters\":{\"userName\":\"bob\",\"groupName\":\"g\"}}}"), &e), IC_ACT);
	assert_string_equal(e.actor.arn, "arn:aws:iam::" A ":role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_1");
	assert_int_equal(ic_actor_decide(&e, &cfg, "", &d), IC_ACTOR_REVOKE_ROLE);
	/* trusted: reported, not acted on (any session of the role) */
	assert_int_equal(parse(ct_event("AddUserToGroup", "{\"userName\":\"bob\",\"groupName\":\"g\"}", NULL,
					"arn:aws:sts::" A ":assumed-role/pipeline/build-42"), &e), IC_ACT);
	assert_int_equal(ic_actor_decide(&e, &cfg, "", &d), IC_ACTOR_TRUSTED);
	/* firebreak's own role: nothing (loop safety), another session included */
	assert_int_equal(parse(ct_event("PutRolePolicy", "{\"roleName\":\"x\",\"policyName\":\"AWSRevokeOlderSessions\","
					"\"policyDocument\":\"{\\\"Statement\\\":[]}\"}", NULL,
					"arn:aws:sts::" A ":assumed-role/firebreak-iam/other"), &e), IC_ACT);
	assert_int_equal(ic_actor_decide(&e, &cfg, "arn:aws:sts::" A ":assumed-role/firebreak-iam/fn", &d), IC_ACTOR_SELF);
	ic_event_cleanup(&e);
	/* the member role by name */
	cfg.member_role = "firebreak-member";
	assert_int_equal(parse(ct_event("AddUserToGroup", "{\"userName\":\"bob\",\"groupName\":\"g\"}", NULL,
					"arn:aws:sts::" A ":assumed-role/firebreak-member/s"), &e), IC_ACT);
	assert_int_equal(ic_actor_decide(&e, &cfg, "", &d), IC_ACTOR_SELF);
	cfg.member_role = NULL;
	/* service-linked roles and root: reported only */
	assert_int_equal(parse(ct_event("AddUserToGroup", "{\"userName\":\"bob\",\"groupName\":\"g\"}", NULL,
					"arn:aws:sts::" A ":assumed-role/AWSServiceRoleForSupport/s"), &e), IC_ACT);
	assert_int_equal(ic_actor_decide(&e, &cfg, "", &d), IC_ACTOR_REPORT);
	assert_int_equal(parse(J("{\"source\":\"aws.iam\",\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":"
				 "{\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"AddUserToGroup\",\"recipientAccountId\":\"" A "\","
				 "\"userIdentity\":{\"type\":\"Root\",\"arn\":\"arn:aws:iam::" A ":root\",\"accountId\":\"" A "\"},"
				 "\"requestParameters\":{\"userName\":\"bob\",\"groupName\":\"g\"}}}"), &e), IC_ACT);
	assert_int_equal(ic_actor_decide(&e, &cfg, "", &d), IC_ACTOR_REPORT);
	/* an actor of another account than the change: not contained here */
	assert_int_equal(parse(ct_event("AddUserToGroup", "{\"userName\":\"bob\",\"groupName\":\"g\"}", NULL,
					"arn:aws:iam::222222222222:user/eve"), &e), IC_ACT);
	assert_int_equal(ic_actor_decide(&e, &cfg, "", &d), IC_ACTOR_REPORT);
	/* an AWS service acting: reported */
	assert_int_equal(parse(J("{\"source\":\"aws.iam\",\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":"
				 "{\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"AddUserToGroup\",\"recipientAccountId\":\"" A "\","
				 "\"userIdentity\":{\"type\":\"AWSService\",\"invokedBy\":\"sso.amazonaws.com\"},"
				 "\"requestParameters\":{\"userName\":\"bob\",\"groupName\":\"g\"}}}"), &e), IC_ACT);
	assert_int_equal(ic_actor_decide(&e, &cfg, "", &d), IC_ACTOR_REPORT);
}

static void test_iam_contain__guardduty_findings(void **st)
{
	struct ic_event e;
	char ev[2048];
	struct ic_actor_decision d;

	(void)st;
#define GD(type, ut, sev) \
	(snprintf(ev, sizeof(ev), "{\"source\":\"aws.guardduty\",\"detail-type\":\"GuardDuty Finding\",\"account\":\"" A "\"," \
		  "\"region\":\"us-east-1\",\"detail\":{\"id\":\"f\",\"type\":\"%s\",\"severity\":%s,\"accountId\":\"" A "\"," \
		  "\"resource\":{\"resourceType\":\"AccessKey\",\"accessKeyDetails\":{\"userName\":\"app\",\"userType\":\"%s\"," \
		  "\"accessKeyId\":\"ASIAEXAMPLE000000001\"}}}}", type, sev, ut), J(ev))
	assert_int_equal(parse(GD("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", "AssumedRole", "8"), &e), IC_ACT);
	assert_int_equal(e.src, IC_SRC_GUARDDUTY);
	assert_true(e.exfiltration);
	assert_int_equal(e.actor.kind, IC_P_ROLE);
	assert_string_equal(e.actor.arn, "arn:aws:iam::" A ":role/app");
	assert_int_equal(ic_actor_decide(&e, NULL, "", &d), IC_ACTOR_REVOKE_ROLE);
	assert_int_equal(parse(GD("UnauthorizedAccess:IAMUser/MaliciousIPCaller", "IAMUser", "5"), &e), IC_ACT);
	assert_false(e.exfiltration);
	assert_int_equal(e.actor.kind, IC_P_USER);
	assert_int_equal(parse(GD("UnauthorizedAccess:IAMUser/MaliciousIPCaller", "IAMUser", "2"), &e), IC_SKIP);
	assert_int_equal(parse(GD("UnauthorizedAccess:IAMUser/MaliciousIPCaller", "Root", "8"), &e), IC_ACT);
	assert_int_equal(ic_actor_decide(&e, NULL, "", &d), IC_ACTOR_REPORT);
	assert_int_equal(parse(GD("x", "IAMUser", "\"8\""), &e), IC_INVALID);
#undef GD
	assert_int_equal(parse(J("{\"source\":\"aws.guardduty\",\"detail-type\":\"GuardDuty Finding\",\"detail\":{\"type\":\"t\","
				 "\"severity\":8,\"resource\":{\"resourceType\":\"Instance\"}}}"), &e), IC_SKIP);
}

static void test_iam_contain__compute_services(void **st)
{
	char out[128];

	(void)st;
	assert_int_equal(ic_compute_services("{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":"
					     "[\"ec2.amazonaws.com\",\"lambda.amazonaws.com\"]},\"Action\":\"sts:AssumeRole\"}]}",
					     out, sizeof(out)), 2);
	assert_string_equal(out, "ec2.amazonaws.com,lambda.amazonaws.com");
	assert_int_equal(ic_compute_services("{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"Service\":"
					     "\"ecs-tasks.amazonaws.com\"}}}", out, sizeof(out)), 1);
	assert_int_equal(ic_compute_services("{\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":{\"Service\":"
					     "\"ec2.amazonaws.com\"}},{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"}}]}",
					     out, sizeof(out)), 0);
	assert_int_equal(ic_compute_services("not json", out, sizeof(out)), 0);
}

/* The revert for a PutUserPolicy of DOC_BAD over bob's "s3", given a history. */
static void put_user_revert(cJSON *hist, int complete, struct ic_revert *rv, struct ic_event *e)
{
	assert_int_equal(parse(ct_event("PutUserPolicy", "{\"userName\":\"bob\",\"policyName\":\"s3\",\"policyDocument\":"
					"\"{\\\"Statement\\\":[{\\\"Effect\\\":\\\"Allow\\\",\\\"Action\\\":\\\"*\\\"}]}\"}", NULL, MAL), e),
			 IC_ACT);
	ic_revert_plan(e, hist, complete, rv);
}

static cJSON *put_params(const char *user, const char *policy, const char *doc)
{
	cJSON *p = cJSON_CreateObject();

	cJSON_AddStringToObject(p, "userName", user);
	cJSON_AddStringToObject(p, "policyName", policy);
	cJSON_AddStringToObject(p, "policyDocument", doc);
	return p;
}

static void hist_put(cJSON *h, const char *user, const char *policy, const char *doc, const char *actor, const char *when)
{
	cJSON *p = put_params(user, policy, doc);
	char *txt = cJSON_PrintUnformatted(p);

	add_history(h, "PutUserPolicy", txt, NULL, actor, when);
	free(txt);
	cJSON_Delete(p);
}

static void test_iam_contain__inline_policy_prior_state(void **st)
{
	struct ic_revert rv;
	struct ic_event e;
	cJSON *h;

	(void)st;
	/* the newest earlier document of that user and policy, by another principal */
	h = cJSON_CreateArray();
	hist_put(h, "bob", "s3", DOC_BAD, ALICE, "2026-11-01T00:00:00Z");
	hist_put(h, "bob", "s3", DOC_OLD, ALICE, "2026-12-01T00:00:00Z");
	hist_put(h, "bob", "other", DOC_BAD, ALICE, "2026-12-02T00:00:00Z");
	hist_put(h, "carol", "s3", DOC_BAD, ALICE, "2026-12-03T00:00:00Z");
	hist_put(h, "bob", "s3", DOC_BAD, ALICE, "2026-12-08T00:00:00Z"); /* after the event */
	put_user_revert(h, 1, &rv, &e);
	assert_int_equal(rv.kind, IC_RV_PUT_INLINE);
	assert_true(rv.decided);
	assert_string_equal(rv.prior_doc, DOC_OLD);
	assert_string_equal(rv.prior_by, ALICE);
	ic_revert_cleanup(&rv);
	ic_event_cleanup(&e);
	/* deleted since: it did not exist before the event */
	add_history(h, "DeleteUserPolicy", "{\"userName\":\"bob\",\"policyName\":\"s3\"}", NULL, ALICE, "2026-12-05T00:00:00Z");
	put_user_revert(h, 1, &rv, &e);
	assert_int_equal(rv.kind, IC_RV_DELETE_INLINE);
	assert_true(rv.decided);
	ic_revert_cleanup(&rv);
	ic_event_cleanup(&e);
	/* a failed earlier call changed nothing */
	cJSON_Delete(h);
	h = cJSON_CreateArray();
	hist_put(h, "bob", "s3", DOC_OLD, ALICE, "2026-12-01T00:00:00Z");
	add_history(h, "DeleteUserPolicy", "{\"userName\":\"bob\",\"policyName\":\"s3\"}", NULL, ALICE, "2026-12-05T00:00:00Z");
	{
		cJSON *last = cJSON_GetArrayItem(h, 1), *rec = J(cJSON_GetObjectItem(last, "CloudTrailEvent")->valuestring);
		char *txt;

		cJSON_AddStringToObject(rec, "errorCode", "AccessDenied");
		txt = cJSON_PrintUnformatted(rec);
		cJSON_ReplaceItemInObject(last, "CloudTrailEvent", cJSON_CreateString(txt));
		free(txt);
		cJSON_Delete(rec);
	}
	put_user_revert(h, 1, &rv, &e);
	assert_int_equal(rv.kind, IC_RV_PUT_INLINE);
	ic_revert_cleanup(&rv);
	ic_event_cleanup(&e);
	cJSON_Delete(h);
}

/* Must not be usable as a weapon: a prior state the attacker wrote is not
 * put back, nor one that cannot be ordered; no record -> the safe state. */
static void test_iam_contain__prior_state_an_attacker_could_plant(void **st)
{
	struct ic_revert rv;
	struct ic_event e;
	cJSON *h = cJSON_CreateArray();

	(void)st;
	/* set earlier by the same principal (another session of it) */
	hist_put(h, "bob", "s3", DOC_OLD, ALICE, "2026-11-01T00:00:00Z");
	hist_put(h, "bob", "s3", DOC_BAD, MAL, "2026-12-01T00:00:00Z");
	put_user_revert(h, 1, &rv, &e);
	assert_int_equal(rv.kind, IC_RV_DELETE_INLINE);
	assert_false(rv.decided);
	assert_non_null(strstr(rv.why, "same principal"));
	ic_revert_cleanup(&rv);
	ic_event_cleanup(&e);
	cJSON_Delete(h);
	/* in the event's own second: order unknown */
	h = cJSON_CreateArray();
	hist_put(h, "bob", "s3", DOC_OLD, ALICE, "2026-12-07T01:00:00Z");
	put_user_revert(h, 1, &rv, &e);
	assert_int_equal(rv.kind, IC_RV_DELETE_INLINE);
	assert_false(rv.decided);
	ic_revert_cleanup(&rv);
	ic_event_cleanup(&e);
	cJSON_Delete(h);
	/* two disagreeing changes in the newest second */
	h = cJSON_CreateArray();
	hist_put(h, "bob", "s3", DOC_OLD, ALICE, "2026-12-01T00:00:00Z");
	hist_put(h, "bob", "s3", DOC_BAD, ALICE, "2026-12-01T00:00:00Z");
	put_user_revert(h, 1, &rv, &e);
	assert_false(rv.decided);
	assert_int_equal(rv.kind, IC_RV_DELETE_INLINE);
	ic_revert_cleanup(&rv);
	ic_event_cleanup(&e);
	cJSON_Delete(h);
	/* no record at all, complete or not: safe state, undecided */
	h = cJSON_CreateArray();
	put_user_revert(h, 1, &rv, &e);
	assert_int_equal(rv.kind, IC_RV_DELETE_INLINE);
	assert_false(rv.decided);
	ic_revert_cleanup(&rv);
	ic_event_cleanup(&e);
	put_user_revert(NULL, 0, &rv, &e);
	assert_false(rv.decided);
	assert_non_null(strstr(rv.why, "completely"));
	ic_revert_cleanup(&rv);
	ic_event_cleanup(&e);
	cJSON_Delete(h);
}

static void test_iam_contain__policy_versions(void **st)
{
	struct ic_revert rv;
	struct ic_event e;
	cJSON *h = cJSON_CreateArray();

	(void)st;
#define CPV(def) ct_event("CreatePolicyVersion", "{\"policyArn\":\"arn:aws:iam::" A ":policy/ops\",\"setAsDefault\":" def "," \
			  "\"policyDocument\":\"{\\\"Statement\\\":[]}\"}", "{\"policyVersion\":{\"versionId\":\"v5\"}}", MAL)
	/* not made default: nothing in force to revert */
	assert_int_equal(parse(CPV("false"), &e), IC_ACT);
	ic_revert_plan(&e, NULL, 0, &rv);
	assert_int_equal(rv.kind, IC_RV_NONE);
	ic_event_cleanup(&e);
	/* the default before, not the previous number (v4 was made but never default) */
	add_history(h, "CreatePolicy", "{\"policyName\":\"ops\"}", "{\"policy\":{\"arn\":\"arn:aws:iam::" A ":policy/ops\",\"defaultVersionId\":\"v1\"}}",
		    ALICE, "2026-10-01T00:00:00Z");
	add_history(h, "SetDefaultPolicyVersion", "{\"policyArn\":\"arn:aws:iam::" A ":policy/ops\",\"versionId\":\"v2\"}", NULL,
		    ALICE, "2026-11-01T00:00:00Z");
	add_history(h, "CreatePolicyVersion", "{\"policyArn\":\"arn:aws:iam::" A ":policy/ops\",\"setAsDefault\":false}",
		    "{\"policyVersion\":{\"versionId\":\"v4\"}}", ALICE, "2026-11-05T00:00:00Z");
	assert_int_equal(parse(CPV("true"), &e), IC_ACT);
	ic_revert_plan(&e, h, 1, &rv);
	assert_int_equal(rv.kind, IC_RV_SET_DEFAULT);
	assert_string_equal(rv.prior_version, "v2");
	ic_revert_cleanup(&rv);
	/* an older version the attacker made default before is not "the default before" */
	add_history(h, "SetDefaultPolicyVersion", "{\"policyArn\":\"arn:aws:iam::" A ":policy/ops\",\"versionId\":\"v3\"}", NULL,
		    MAL, "2026-12-06T00:00:00Z");
	ic_revert_plan(&e, h, 1, &rv);
	assert_int_equal(rv.kind, IC_RV_UNDECIDED);
	ic_revert_cleanup(&rv);
	ic_event_cleanup(&e);
	/* no history: undecided, nothing written to the policy */
	assert_int_equal(parse(ct_event("SetDefaultPolicyVersion", "{\"policyArn\":\"arn:aws:iam::" A ":policy/ops\",\"versionId\":\"v3\"}",
					NULL, MAL), &e), IC_ACT);
	ic_revert_plan(&e, NULL, 1, &rv);
	assert_int_equal(rv.kind, IC_RV_UNDECIDED);
	ic_event_cleanup(&e);
	cJSON_Delete(h);
#undef CPV
}

static void test_iam_contain__trust_boundary_and_the_rest(void **st)
{
	struct ic_revert rv;
	struct ic_event e;
	cJSON *h = cJSON_CreateArray();

	(void)st;
	add_history(h, "CreateRole", "{\"roleName\":\"app\",\"assumeRolePolicyDocument\":\"" "{\\\"Statement\\\":[1]}" "\"}", NULL,
		    ALICE, "2026-10-01T00:00:00Z");
	assert_int_equal(parse(ct_event("UpdateAssumeRolePolicy", "{\"roleName\":\"app\",\"policyDocument\":\"{\\\"Statement\\\":[2]}\"}",
					NULL, MAL), &e), IC_ACT);
	ic_revert_plan(&e, h, 1, &rv);
	assert_int_equal(rv.kind, IC_RV_TRUST);
	assert_true(rv.decided);
	assert_string_equal(rv.prior_doc, "{\"Statement\":[1]}");
	ic_revert_cleanup(&rv);
	/* unknown: deny-all trust (the safe state) */
	ic_revert_plan(&e, NULL, 1, &rv);
	assert_int_equal(rv.kind, IC_RV_TRUST);
	assert_false(rv.decided);
	assert_string_equal(rv.prior_doc, IC_DENY_ALL_TRUST);
	ic_revert_cleanup(&rv);
	ic_event_cleanup(&e);
	/* boundary put back from the user's creation */
	add_history(h, "CreateUser", "{\"userName\":\"bob\",\"permissionsBoundary\":\"arn:aws:iam::" A ":policy/boundary\"}", NULL,
		    ALICE, "2026-10-01T00:00:00Z");
	assert_int_equal(parse(ct_event("DeleteUserPermissionsBoundary", "{\"userName\":\"bob\"}", NULL, MAL), &e), IC_ACT);
	ic_revert_plan(&e, h, 1, &rv);
	assert_int_equal(rv.kind, IC_RV_PUT_BOUNDARY);
	assert_string_equal(rv.prior_arn, "arn:aws:iam::" A ":policy/boundary");
	ic_revert_cleanup(&rv);
	ic_event_cleanup(&e);
	cJSON_Delete(h);
	/* the writes that need no history */
	assert_int_equal(parse(ct_event("AttachRolePolicy", "{\"roleName\":\"app\",\"policyArn\":\"arn:aws:iam::aws:policy/A\"}", NULL, MAL), &e), IC_ACT);
	ic_revert_plan(&e, NULL, 0, &rv);
	assert_int_equal(rv.kind, IC_RV_DETACH);
	assert_false(ic_needs_history(&e));
	assert_int_equal(parse(ct_event("CreateAccessKey", "{\"userName\":\"bob\"}", "{\"accessKey\":{\"accessKeyId\":\"AKIABOBNEWKEY0000001\"}}", MAL), &e), IC_ACT);
	ic_revert_plan(&e, NULL, 0, &rv);
	assert_int_equal(rv.kind, IC_RV_KEY_INACTIVE);
	assert_string_equal(e.new_key, "AKIABOBNEWKEY0000001");
	assert_int_equal(parse(ct_event("UpdateLoginProfile", "{\"userName\":\"bob\"}", NULL, MAL), &e), IC_ACT);
	ic_revert_plan(&e, NULL, 0, &rv);
	assert_int_equal(rv.kind, IC_RV_DELETE_LOGIN);
	assert_false(rv.decided);
}

static void test_iam_contain__documents(void **st)
{
	char *d;

	(void)st;
	d = ic_doc_from_iam("%7B%22Version%22%3A%20%222012-10-17%22%2C%20%22Statement%22%3A%20%5B%5D%7D");
	assert_string_equal(d, "{\"Version\":\"2012-10-17\",\"Statement\":[]}");
	free(d);
	assert_null(ic_doc_from_iam("%7Bnot"));
	assert_null(ic_doc_from_iam("%"));
	assert_true(ic_doc_same("{}", "{}"));
	assert_false(ic_doc_same(NULL, "{}"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iam_contain__parses_each_event_name),
		cmocka_unit_test(test_iam_contain__rejects_bad_input),
		cmocka_unit_test(test_iam_contain__actor_decisions),
		cmocka_unit_test(test_iam_contain__guardduty_findings),
		cmocka_unit_test(test_iam_contain__compute_services),
		cmocka_unit_test(test_iam_contain__inline_policy_prior_state),
		cmocka_unit_test(test_iam_contain__prior_state_an_attacker_could_plant),
		cmocka_unit_test(test_iam_contain__policy_versions),
		cmocka_unit_test(test_iam_contain__trust_boundary_and_the_rest),
		cmocka_unit_test(test_iam_contain__documents),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
