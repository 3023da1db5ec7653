/*
 * fuzz_iam_contain: iam-contain's pure stages (functions/iam-contain/stages.c)
 * on hostile input. The first byte picks the stage:
 *   0 the event, through ic_event_read's own path: resp_parse_event -> ic_parse
 *     -> ic_actor_decide; an accepted event must name only what passes the
 *     IAM syntax checks (names, ARNs, keys, versions) and carry a document
 *     only when it is a JSON object within IC_MAX_DOC;
 *   1 a LookupEvents "Events" array (the history) for each change kind ->
 *     ic_revert_plan: a put-back document is a JSON object, a prior version
 *     a version id, and an undecided revert never names a prior document
 *     other than the deny-all trust policy;
 *   2 a trust policy -> ic_compute_services; IAM's URL-encoded document ->
 *     ic_doc_from_iam.
 * FUZZ_SOURCES: functions/iam-contain/stages.c
 */
#include <stdio.h>
#include <cjson/cJSON.h>
#include "fuzz_common.h"
#include "resp.h"
#include "../../functions/iam-contain/iam_contain.h"

static const struct ic_settings SET = { .min_severity = 4.0, .revoke_compute_roles = 1 };

static void check_event(const struct ic_event *e)
{
	if (!memchr(e->user, '\0', sizeof(e->user)) || !memchr(e->role, '\0', sizeof(e->role)) ||
	    !memchr(e->group, '\0', sizeof(e->group)) || !memchr(e->policy_arn, '\0', sizeof(e->policy_arn)))
		abort();
	if ((e->user[0] && !ic_name_ok(e->user)) || (e->role[0] && !ic_name_ok(e->role)) ||
	    (e->group[0] && !ic_name_ok(e->group)) || (e->policy_name[0] && !ic_name_ok(e->policy_name)))
		abort(); /* only IAM names reach AWS */
	if (e->doc_after) {
		cJSON *d = cJSON_Parse(e->doc_after);

		if (!cJSON_IsObject(d) || strlen(e->doc_after) > IC_MAX_DOC)
			abort();
		cJSON_Delete(d);
	}
	if (e->actor.kind == IC_P_USER || e->actor.kind == IC_P_ROLE) {
		if (!ic_name_ok(e->actor.name) || strncmp(e->actor.arn, "arn:", 4))
			abort();
	}
}

static void fuzz_event(const char *s, size_t n)
{
	struct ic_event e;
	struct ic_actor_decision d;
	char why[300];
	cJSON *ev = NULL;

	if (resp_parse_event(s, n, RESP_MAX_EVENT_BYTES, &ev, why, sizeof(why)) != FB_OK)
		return;
	if (ic_parse(ev, &SET, &e, why, sizeof(why)) == IC_ACT) {
		check_event(&e);
		ic_actor_decide(&e, NULL, "arn:aws:sts::111111111111:assumed-role/firebreak-iam-contain/x", &d);
	} else if (!why[0]) {
		abort(); /* a refusal says why */
	}
	ic_event_cleanup(&e);
	cJSON_Delete(ev);
}

static void fuzz_history(const cJSON *events, unsigned sel)
{
	static const char *const evs[] = {
		"{\"source\":\"aws.iam\",\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":{\"eventSource\":\"iam.amazonaws.com\","
		"\"eventName\":\"PutUserPolicy\",\"eventTime\":\"2026-12-07T01:00:00Z\",\"eventID\":\"t\",\"recipientAccountId\":\"111111111111\","
		"\"userIdentity\":{\"type\":\"IAMUser\",\"arn\":\"arn:aws:iam::111111111111:user/mallory\"},"
		"\"requestParameters\":{\"userName\":\"bob\",\"policyName\":\"p\",\"policyDocument\":\"{}\"}}}",
		"{\"source\":\"aws.iam\",\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":{\"eventSource\":\"iam.amazonaws.com\","
		"\"eventName\":\"SetDefaultPolicyVersion\",\"eventTime\":\"2026-12-07T01:00:00Z\",\"recipientAccountId\":\"111111111111\","
		"\"userIdentity\":{\"type\":\"IAMUser\",\"arn\":\"arn:aws:iam::111111111111:user/mallory\"},"
		"\"requestParameters\":{\"policyArn\":\"arn:aws:iam::111111111111:policy/ops\",\"versionId\":\"v3\"}}}",
		"{\"source\":\"aws.iam\",\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":{\"eventSource\":\"iam.amazonaws.com\","
		"\"eventName\":\"UpdateAssumeRolePolicy\",\"eventTime\":\"2026-12-07T01:00:00Z\",\"recipientAccountId\":\"111111111111\","
		"\"userIdentity\":{\"type\":\"IAMUser\",\"arn\":\"arn:aws:iam::111111111111:user/mallory\"},"
		"\"requestParameters\":{\"roleName\":\"app\",\"policyDocument\":\"{}\"}}}",
		"{\"source\":\"aws.iam\",\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":{\"eventSource\":\"iam.amazonaws.com\","
		"\"eventName\":\"DeleteRolePermissionsBoundary\",\"eventTime\":\"2026-12-07T01:00:00Z\",\"recipientAccountId\":\"111111111111\","
		"\"userIdentity\":{\"type\":\"IAMUser\",\"arn\":\"arn:aws:iam::111111111111:user/mallory\"},"
		"\"requestParameters\":{\"roleName\":\"app\"}}}",
	};
	struct ic_event e;
	struct ic_revert rv;
	char why[300];
	cJSON *ev = cJSON_Parse(evs[sel % 4]);

	if (!ev || ic_parse(ev, &SET, &e, why, sizeof(why)) != IC_ACT)
		abort();
	ic_revert_plan(&e, events, (int)(sel & 4), &rv);
	if (rv.prior_doc) {
		cJSON *d = cJSON_Parse(rv.prior_doc);

		if (!cJSON_IsObject(d))
			abort();
		cJSON_Delete(d);
		if (!rv.decided && strcmp(rv.prior_doc, IC_DENY_ALL_TRUST))
			abort(); /* an undecided revert puts back nothing it read */
	}
	if (rv.kind == IC_RV_SET_DEFAULT && (rv.prior_version[0] != 'v' || !rv.decided))
		abort();
	if (!memchr(rv.why, '\0', sizeof(rv.why)))
		abort();
	ic_revert_cleanup(&rv);
	ic_event_cleanup(&e);
	cJSON_Delete(ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *j;
	char *s, out[128], *d;
	size_t n;

	if (size < 1 || size > RESP_MAX_EVENT_BYTES + 2)
		return 0;
	s = fuzz_strndup(data + 1, size - 1);
	n = size - 1;
	switch (data[0] % 3) {
	case 0:
		fuzz_event(s, n);
		break;
	case 1:
		j = cJSON_ParseWithLength(s, n);
		if (j)
			fuzz_history(j, data[0] / 3);
		cJSON_Delete(j);
		break;
	default:
		(void)ic_compute_services(s, out, sizeof(out));
		d = ic_doc_from_iam(s);
		free(d);
		break;
	}
	free(s);
	return 0;
}
