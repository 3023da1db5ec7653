/*
 * iam-contain's pure stages (iam_contain.h): parsing, who is contained,
 * and what undoes the change. No I/O, no clock.
 */
#include "iam_contain.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cloudtrail.h"
#include "kit.h"
#include "prov.h"

/* ---- settings -------------------------------------------------------------------- */

enum fb_err ic_settings_from_env(struct ic_settings *s, char *err, size_t errlen)
{
	const char *v;

	memset(s, 0, sizeof(*s));
	s->revoke_compute_roles = 1;
	if (kit_env_severity("FIREBREAK_MIN_SEVERITY", IC_DEFAULT_MIN_SEVERITY, &s->min_severity,
			     err, errlen) != FB_OK)
		return FB_E_CONFIG;
	v = getenv("FIREBREAK_IAM_REVOKE_COMPUTE_ROLES");
	if (v && *v) {
		if (!strcmp(v, "true"))
			s->revoke_compute_roles = 1;
		else if (!strcmp(v, "false"))
			s->revoke_compute_roles = 0;
		else {
			snprintf(err, errlen, "setting 'FIREBREAK_IAM_REVOKE_COMPUTE_ROLES' must be true or false");
			return FB_E_CONFIG;
		}
	}
	return FB_OK;
}

/* ---- names ------------------------------------------------------------------------- */

static const char *const op_names[] = {
	"", "PutUserPolicy", "PutRolePolicy", "PutGroupPolicy", "AttachUserPolicy",
	"AttachRolePolicy", "AttachGroupPolicy", "CreatePolicyVersion", "SetDefaultPolicyVersion",
	"UpdateAssumeRolePolicy", "CreateAccessKey", "CreateLoginProfile", "UpdateLoginProfile",
	"AddUserToGroup", "DeleteUserPermissionsBoundary", "DeleteRolePermissionsBoundary",
};

const char *ic_op_name(enum ic_op op)
{
	return (size_t)op < sizeof(op_names) / sizeof(op_names[0]) ? op_names[op] : "";
}

enum ic_op ic_op_from_name(const char *name)
{
	size_t i;

	if (!name || !*name)
		return IC_OP_NONE;
	for (i = 1; i < sizeof(op_names) / sizeof(op_names[0]); i++)
		if (!strcmp(name, op_names[i]))
			return (enum ic_op)i;
	return IC_OP_NONE;
}

int ic_name_ok(const char *s)
{
	size_t n = 0;

	if (!s)
		return 0;
	for (; s[n]; n++)
		if (!isalnum((unsigned char)s[n]) && !strchr("+=,.@_-", s[n]))
			return 0;
	return n >= 1 && n <= 128;
}

static int path_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("+=,.@_-/", s[i]))
			return 0;
	return 1;
}

static int account_ok(const char *s)
{
	return resp_account_id_ok(s);
}

static int key_ok(const char *s)
{
	size_t n = 0;

	if (!s)
		return 0;
	for (; s[n]; n++)
		if (!isupper((unsigned char)s[n]) && !isdigit((unsigned char)s[n]))
			return 0;
	return n >= 16 && n < IC_KEY_LEN;
}

static int version_ok(const char *s)
{
	size_t n;

	if (!s || s[0] != 'v' || s[1] < '1' || s[1] > '9')
		return 0;
	for (n = 2; s[n]; n++)
		if (!isdigit((unsigned char)s[n]))
			return 0;
	return n < 12;
}

/* arn:<partition>:iam::<account|aws>:policy/[path/]name */
static int policy_arn_ok(const char *s)
{
	const char *p, *slash;
	size_t plen;

	if (!s || strlen(s) >= IC_ARN_LEN || strncmp(s, "arn:", 4))
		return 0;
	p = strchr(s + 4, ':');
	if (!p || p == s + 4 || strncmp(p, ":iam::", 6))
		return 0;
	plen = (size_t)(p - (s + 4));
	if (plen >= 16 || !path_ok(s + 4, plen))
		return 0;
	p += 6;
	if (!strncmp(p, "aws:", 4))
		p += 4;
	else if (strlen(p) > 13 && p[12] == ':') {
		char acct[13];

		memcpy(acct, p, 12);
		acct[12] = '\0';
		if (!account_ok(acct))
			return 0;
		p += 13;
	} else
		return 0;
	if (strncmp(p, "policy/", 7))
		return 0;
	p += 7;
	slash = strrchr(p, '/');
	if (!path_ok(p, strlen(p)))
		return 0;
	return ic_name_ok(slash ? slash + 1 : p);
}

int ic_principal_from_arn(const char *arn, struct ic_principal *p)
{
	const char *part, *acct, *res, *name;
	size_t plen, alen;

	memset(p, 0, sizeof(*p));
	if (!arn || strlen(arn) >= IC_ARN_LEN || strncmp(arn, "arn:", 4))
		return 0;
	part = arn + 4;
	acct = strchr(part, ':');
	if (!acct)
		return 0;
	plen = (size_t)(acct - part);
	if (plen == 0 || plen >= 16 || !path_ok(part, plen))
		return 0;
	if (!strncmp(acct, ":iam::", 6))
		acct += 6;
	else if (!strncmp(acct, ":sts::", 6))
		acct += 6;
	else
		return 0;
	res = strchr(acct, ':');
	if (!res)
		return 0;
	alen = (size_t)(res - acct);
	if (alen != 12)
		return 0;
	memcpy(p->account, acct, 12);
	p->account[12] = '\0';
	if (!account_ok(p->account))
		return 0;
	res++;
	if (!strncmp(acct - 5, "sts", 3)) {
		/* arn:P:sts::A:assumed-role/R/S: the role, path unknown */
		const char *r, *slash;

		if (strncmp(res, "assumed-role/", 13))
			return 0;
		r = res + 13;
		slash = strchr(r, '/');
		if (!slash || (size_t)(slash - r) >= IC_NAME_LEN || !slash[1])
			return 0;
		memcpy(p->name, r, (size_t)(slash - r));
		p->name[slash - r] = '\0';
		if (!ic_name_ok(p->name))
			return 0;
		p->kind = IC_P_ROLE;
		snprintf(p->arn, sizeof(p->arn), "arn:%.*s:iam::%s:role/%s", (int)plen, part, p->account, p->name);
		buf_copy_str(p->session_arn, sizeof(p->session_arn), arn);
		p->service_linked = !strncmp(p->name, "AWSServiceRoleFor", 17);
		return 1;
	}
	if (!strcmp(res, "root")) {
		p->kind = IC_P_ROOT;
		buf_copy_str(p->arn, sizeof(p->arn), arn);
		buf_copy_str(p->session_arn, sizeof(p->session_arn), arn);
		return 1;
	}
	if (!strncmp(res, "user/", 5))
		p->kind = IC_P_USER;
	else if (!strncmp(res, "role/", 5))
		p->kind = IC_P_ROLE;
	else
		return 0;
	name = strrchr(res, '/') + 1;
	if (!path_ok(res + 5, strlen(res + 5)) || !ic_name_ok(name) || strstr(res, "//"))
		return 0;
	buf_copy_str(p->name, sizeof(p->name), name);
	buf_copy_str(p->arn, sizeof(p->arn), arn);
	buf_copy_str(p->session_arn, sizeof(p->session_arn), arn);
	p->service_linked = p->kind == IC_P_ROLE && (!strncmp(res, "role/aws-service-role/", 22) ||
						      !strncmp(p->name, "AWSServiceRoleFor", 17));
	return 1;
}

int ic_principal_from_identity(const cJSON *ui, struct ic_principal *p)
{
	const char *type = resp_get_str(ui, "type"), *arn = resp_get_str(ui, "arn");
	const char *acct = resp_get_str(ui, "accountId");

	memset(p, 0, sizeof(*p));
	if (!type)
		return 0;
	if (!strcmp(type, "Root")) {
		p->kind = IC_P_ROOT;
		buf_copy_str(p->type, sizeof(p->type), type);
		buf_copy_str(p->arn, sizeof(p->arn), arn);
		buf_copy_str(p->session_arn, sizeof(p->session_arn), arn);
		if (acct && account_ok(acct))
			buf_copy_str(p->account, sizeof(p->account), acct);
		return 1;
	}
	if (!strcmp(type, "IAMUser")) {
		if (!ic_principal_from_arn(arn, p) || p->kind != IC_P_USER)
			return 0;
	} else if (!strcmp(type, "AssumedRole")) {
		const char *issuer = resp_get_str(ui, "sessionContext.sessionIssuer.arn");
		struct ic_principal s;

		if (!ic_principal_from_arn(arn, &s) || s.kind != IC_P_ROLE || !strstr(arn, ":assumed-role/"))
			return 0;
		if (issuer) {
			/* the issuer carries the role's path (SSO roles:
			 * aws-reserved/sso.amazonaws.com/); it must be the
			 * session's role, or the record is not consistent */
			if (!ic_principal_from_arn(issuer, p) || p->kind != IC_P_ROLE ||
			    strcmp(p->name, s.name) || strcmp(p->account, s.account))
				return 0;
			buf_copy_str(p->session_arn, sizeof(p->session_arn), arn);
		} else {
			*p = s;
		}
	} else {
		p->kind = IC_P_OTHER;
		buf_copy_str(p->type, sizeof(p->type), type);
		buf_copy_str(p->arn, sizeof(p->arn), arn);
		return 1;
	}
	buf_copy_str(p->type, sizeof(p->type), type);
	return 1;
}

/* ---- documents ----------------------------------------------------------------------- */

char *ic_doc_compact(const cJSON *member)
{
	cJSON *doc = NULL;
	char *out = NULL;

	if (cJSON_IsString(member)) {
		size_t n = strlen(member->valuestring);

		if (n == 0 || n > IC_MAX_DOC)
			return NULL;
		doc = cJSON_ParseWithLength(member->valuestring, n);
		if (!cJSON_IsObject(doc)) {
			cJSON_Delete(doc);
			return NULL;
		}
		out = cJSON_PrintUnformatted(doc);
		cJSON_Delete(doc);
	} else if (cJSON_IsObject(member)) {
		out = cJSON_PrintUnformatted(member);
	}
	if (out && strlen(out) > IC_MAX_DOC) {
		free(out);
		return NULL;
	}
	return out;
}

char *ic_doc_from_iam(const char *enc)
{
	char *dec, *out;
	cJSON *s;

	if (!enc || strlen(enc) > 3 * IC_MAX_DOC)
		return NULL;
	dec = strdup(enc);
	if (!dec)
		return NULL;
	kit_url_decode(dec);
	s = cJSON_CreateStringReference(dec);
	out = s ? ic_doc_compact(s) : NULL;
	cJSON_Delete(s);
	free(dec);
	return out;
}

int ic_doc_same(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* ---- the compute services a trust policy names --------------------------------------- */

static void add_service(const char *svc, char *out, size_t n, int *count)
{
	static const char *const compute[] = { "ec2.amazonaws.com", "ecs-tasks.amazonaws.com",
					       "lambda.amazonaws.com" };
	size_t i;

	for (i = 0; i < sizeof(compute) / sizeof(compute[0]); i++) {
		if (strcmp(svc, compute[i]) || strstr(out, compute[i]))
			continue;
		if (strlen(out) + strlen(svc) + 2 < n) {
			size_t at = strlen(out);

			snprintf(out + at, n - at, "%s%s", at ? "," : "", svc);
		}
		(*count)++;
	}
}

int ic_compute_services(const char *trust_doc, char *out, size_t n)
{
	cJSON *doc, *st;
	const cJSON *one;
	int count = 0, i, nst;

	if (n)
		out[0] = '\0';
	if (!trust_doc || !(doc = cJSON_Parse(trust_doc)))
		return 0;
	st = cJSON_GetObjectItemCaseSensitive(doc, "Statement");
	nst = cJSON_IsArray(st) ? cJSON_GetArraySize(st) : cJSON_IsObject(st) ? 1 : 0;
	for (i = 0; i < nst; i++) {
		const cJSON *svc;
		const char *eff;

		one = cJSON_IsArray(st) ? cJSON_GetArrayItem(st, i) : st;
		eff = resp_get_str(one, "Effect");
		if (!cJSON_IsObject(one) || !eff || strcmp(eff, "Allow"))
			continue;
		svc = resp_get(one, "Principal.Service");
		if (cJSON_IsString(svc)) {
			add_service(svc->valuestring, out, n, &count);
		} else if (cJSON_IsArray(svc)) {
			const cJSON *s;

			cJSON_ArrayForEach(s, svc)
				if (cJSON_IsString(s))
					add_service(s->valuestring, out, n, &count);
		}
	}
	cJSON_Delete(doc);
	return count;
}

/* ---- parsing ---------------------------------------------------------------------------- */

/* A parse outcome with its reason (printf-style into why[wn]). */
static enum ic_parsed say(enum ic_parsed p, char *why, size_t wn, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static enum ic_parsed say(enum ic_parsed p, char *why, size_t wn, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, wn, fmt, ap);
	va_end(ap);
	return p;
}

void ic_event_cleanup(struct ic_event *e)
{
	if (e) {
		free(e->doc_after);
		e->doc_after = NULL;   /* a second cleanup does nothing */
	}
}

static const char *req(const cJSON *d, const char *m)
{
	const cJSON *rp = resp_get(d, "requestParameters");

	return rp ? resp_get_str(rp, m) : NULL;
}

/* Copies a required member of requestParameters that passes ok; 0 and why
 * ("requestParameters.<m> is <bad>", or "missing") on failure. */
static int need(const cJSON *d, const char *m, int (*ok)(const char *), const char *bad, char *out, size_t n,
		char *why, size_t wn)
{
	const char *v = req(d, m);

	if (!ok(v)) {
		snprintf(why, wn, "requestParameters.%s is %s", m, v ? bad : "missing");
		return 0;
	}
	buf_copy_str(out, n, v);
	return 1;
}

static int need_name(const cJSON *d, const char *m, char *out, size_t n, char *why, size_t wn)
{
	return need(d, m, ic_name_ok, "not an IAM name", out, n, why, wn);
}

static int need_policy_arn(const cJSON *d, char *out, size_t n, char *why, size_t wn)
{
	return need(d, "policyArn", policy_arn_ok, "not a policy ARN", out, n, why, wn);
}

/* The user, role or group a Put*Policy / Attach*Policy names. */
static int need_holder(const cJSON *d, struct ic_event *e, int user, int role, char *why, size_t wn)
{
	return need_name(d, user ? "userName" : role ? "roleName" : "groupName",
			 user ? e->user : role ? e->role : e->group, IC_NAME_LEN, why, wn);
}

/* The change's target. */
static enum ic_parsed parse_target(const cJSON *d, struct ic_event *e, char *why, size_t wn)
{
	const cJSON *doc;
	const char *v;

	switch (e->op) {
	case IC_OP_PUT_USER_POLICY:
	case IC_OP_PUT_ROLE_POLICY:
	case IC_OP_PUT_GROUP_POLICY:
		if (!need_holder(d, e, e->op == IC_OP_PUT_USER_POLICY, e->op == IC_OP_PUT_ROLE_POLICY, why, wn) ||
		    !need_name(d, "policyName", e->policy_name, sizeof(e->policy_name), why, wn))
			return IC_INVALID;
		break;
	case IC_OP_ATTACH_USER_POLICY:
	case IC_OP_ATTACH_ROLE_POLICY:
	case IC_OP_ATTACH_GROUP_POLICY:
		if (!need_holder(d, e, e->op == IC_OP_ATTACH_USER_POLICY, e->op == IC_OP_ATTACH_ROLE_POLICY, why, wn) ||
		    !need_policy_arn(d, e->policy_arn, sizeof(e->policy_arn), why, wn))
			return IC_INVALID;
		break;
	case IC_OP_CREATE_POLICY_VERSION: {
		const cJSON *sd = resp_get(d, "requestParameters.setAsDefault");

		if (!need_policy_arn(d, e->policy_arn, sizeof(e->policy_arn), why, wn))
			return IC_INVALID;
		e->set_as_default = cJSON_IsTrue(sd) || (cJSON_IsString(sd) && !strcmp(sd->valuestring, "true"));
		v = resp_get_str(d, "responseElements.policyVersion.versionId");
		if (!version_ok(v))
			return say(IC_INVALID, why, wn, "responseElements.policyVersion.versionId is %s", v ? "not a version id" : "missing");
		buf_copy_str(e->version_id, sizeof(e->version_id), v);
		break;
	}
	case IC_OP_SET_DEFAULT_POLICY_VERSION:
		if (!need_policy_arn(d, e->policy_arn, sizeof(e->policy_arn), why, wn))
			return IC_INVALID;
		if (!need(d, "versionId", version_ok, "not a version id", e->version_id, sizeof(e->version_id), why, wn))
			return IC_INVALID;
		e->set_as_default = 1;
		break;
	case IC_OP_UPDATE_ASSUME_ROLE_POLICY:
	case IC_OP_DELETE_ROLE_PERMISSIONS_BOUNDARY:
		if (!need_name(d, "roleName", e->role, sizeof(e->role), why, wn))
			return IC_INVALID;
		break;
	case IC_OP_CREATE_ACCESS_KEY:
	case IC_OP_CREATE_LOGIN_PROFILE:
	case IC_OP_UPDATE_LOGIN_PROFILE:
		/* userName is optional: without it the call is on the caller's own user */
		v = req(d, "userName");
		if (v && !ic_name_ok(v))
			return say(IC_INVALID, why, wn, "requestParameters.userName is not an IAM name");
		if (v)
			buf_copy_str(e->user, sizeof(e->user), v);
		else if (e->actor.kind == IC_P_USER)
			buf_copy_str(e->user, sizeof(e->user), e->actor.name);
		else {
			snprintf(why, wn, "no requestParameters.userName and the caller is not an IAM user");
			return IC_INVALID;
		}
		if (e->op == IC_OP_CREATE_ACCESS_KEY) {
			v = resp_get_str(d, "responseElements.accessKey.accessKeyId");
			if (!key_ok(v))
				return say(IC_INVALID, why, wn, "responseElements.accessKey.accessKeyId is %s",
					   v ? "not an access key id" : "missing");
			buf_copy_str(e->new_key, sizeof(e->new_key), v);
		}
		break;
	case IC_OP_ADD_USER_TO_GROUP:
		if (!need_name(d, "userName", e->user, sizeof(e->user), why, wn) ||
		    !need_name(d, "groupName", e->group, sizeof(e->group), why, wn))
			return IC_INVALID;
		break;
	case IC_OP_DELETE_USER_PERMISSIONS_BOUNDARY:
		if (!need_name(d, "userName", e->user, sizeof(e->user), why, wn))
			return IC_INVALID;
		break;
	case IC_OP_NONE:
		return IC_SKIP;
	}
	doc = resp_get(d, "requestParameters.policyDocument");
	if (doc) {
		e->doc_after = ic_doc_compact(doc);
		if (!e->doc_after)
			return say(IC_INVALID, why, wn, "requestParameters.policyDocument is not a JSON policy "
				   "document of at most %d bytes", IC_MAX_DOC);
	}
	return IC_ACT;
}

/* Where and when, for both triggers: the account (the detail's member
 * `acct_m`, else the envelope's), the event id (`id_m`, left out when it
 * does not fit) and time (`time_m`). */
static enum ic_parsed event_where(struct ic_event *e, const cJSON *ev, const cJSON *d, const char *acct_m,
				  const char *id_m, const char *time_m, char *why, size_t wn)
{
	const char *acct = resp_get_str(d, acct_m), *id = resp_get_str(d, id_m), *t = resp_get_str(d, time_m);

	if (!acct)
		acct = resp_get_str(ev, "account");
	if (!acct || !account_ok(acct))
		return say(IC_INVALID, why, wn, "no account id in detail.%s or account", acct_m);
	buf_copy_str(e->account, sizeof(e->account), acct);
	if (id && strlen(id) < sizeof(e->event_id))
		buf_copy_str(e->event_id, sizeof(e->event_id), id);
	e->event_ms = t ? resp_parse_time_ms(t) : 0;
	return IC_ACT;
}

static enum ic_parsed parse_cloudtrail(const cJSON *ev, struct ic_event *e, char *why, size_t wn)
{
	const cJSON *d = resp_get(ev, "detail");
	const char *src = resp_get_str(d, "eventSource"), *name = resp_get_str(d, "eventName");
	const char *ak = resp_get_str(d, "userIdentity.accessKeyId");
	const cJSON *ui = resp_get(d, "userIdentity");

	if (!cJSON_IsObject(d) || !src || strcmp(src, "iam.amazonaws.com"))
		return say(IC_INVALID, why, wn, "detail.eventSource is not iam.amazonaws.com");
	if (!name)
		return say(IC_INVALID, why, wn, "detail.eventName is missing");
	buf_copy_str(e->event_name, sizeof(e->event_name), name);
	e->op = ic_op_from_name(name);
	if (e->op == IC_OP_NONE)
		return say(IC_SKIP, why, wn, "eventName %.60s is not an IAM change iam-contain reverts", name);
	if (resp_get(d, "errorCode"))
		return say(IC_SKIP, why, wn, "the call failed (%.80s): nothing changed",
			   resp_get_str(d, "errorCode") ? resp_get_str(d, "errorCode") : "errorCode");
	if (event_where(e, ev, d, "recipientAccountId", "eventID", "eventTime", why, wn) != IC_ACT)
		return IC_INVALID;
	if (!ic_principal_from_identity(ui, &e->actor))
		return say(IC_INVALID, why, wn, "detail.userIdentity does not name a principal (type %.40s)",
			   resp_get_str(ui, "type") ? resp_get_str(ui, "type") : "missing");
	if (ak && key_ok(ak))
		buf_copy_str(e->access_key, sizeof(e->access_key), ak);
	return parse_target(d, e, why, wn);
}

static enum ic_parsed parse_guardduty(const cJSON *ev, const struct ic_settings *set, struct ic_event *e,
				      char *why, size_t wn)
{
	const cJSON *d = resp_get(ev, "detail"), *sev = resp_get(d, "severity");
	const char *type = resp_get_str(d, "type"), *rt = resp_get_str(d, "resource.resourceType");
	const char *ut = resp_get_str(d, "resource.accessKeyDetails.userType");
	const char *un = resp_get_str(d, "resource.accessKeyDetails.userName");
	const char *ak = resp_get_str(d, "resource.accessKeyDetails.accessKeyId");
	const char *part = "aws", *reg = resp_get_str(ev, "region");
	char arn[IC_ARN_LEN];

	if (!cJSON_IsObject(d) || !type)
		return say(IC_INVALID, why, wn, "detail.type is missing");
	buf_copy_str(e->event_name, sizeof(e->event_name), type);
	if (!rt || strcmp(rt, "AccessKey"))
		return say(IC_SKIP, why, wn, "finding resourceType %.40s is not AccessKey", rt ? rt : "missing");
	if (!cJSON_IsNumber(sev) || !isfinite(sev->valuedouble))
		return say(IC_INVALID, why, wn, "detail.severity is not a number");
	e->severity = sev->valuedouble;
	if (kit_severity_below(e->severity, set->min_severity, why, wn))
		return IC_SKIP;
	if (event_where(e, ev, d, "accountId", "id", "updatedAt", why, wn) != IC_ACT)
		return IC_INVALID;
	e->exfiltration = strstr(type, "CredentialExfiltration") != NULL;
	if (reg && !strncmp(reg, "cn-", 3))
		part = "aws-cn";
	else if (reg && !strncmp(reg, "us-gov-", 7))
		part = "aws-us-gov";
	if (ak && key_ok(ak))
		buf_copy_str(e->access_key, sizeof(e->access_key), ak);
	if (ut && !strcmp(ut, "Root")) {
		e->actor.kind = IC_P_ROOT;
		snprintf(e->actor.arn, sizeof(e->actor.arn), "arn:%s:iam::%s:root", part, e->account);
		buf_copy_str(e->actor.account, sizeof(e->actor.account), e->account);
		buf_copy_str(e->actor.type, sizeof(e->actor.type), ut);
		return IC_ACT;
	}
	if (!ut || (strcmp(ut, "IAMUser") && strcmp(ut, "AssumedRole"))) {
		e->actor.kind = IC_P_OTHER;
		buf_copy_str(e->actor.type, sizeof(e->actor.type), ut ? ut : "");
		return IC_ACT;
	}
	if (!ic_name_ok(un))
		return say(IC_INVALID, why, wn, "resource.accessKeyDetails.userName is %s", un ? "not an IAM name" : "missing");
	snprintf(arn, sizeof(arn), "arn:%s:iam::%s:%s/%s", part, e->account,
		 !strcmp(ut, "IAMUser") ? "user" : "role", un);
	if (!ic_principal_from_arn(arn, &e->actor))
		return IC_INVALID;
	e->actor.session_arn[0] = '\0';
	buf_copy_str(e->actor.type, sizeof(e->actor.type), ut);
	return IC_ACT;
}

static enum ic_parsed parse_manual(const cJSON *ev, struct ic_event *e, char *why, size_t wn)
{
	const char *p = resp_get_str(ev, "principal"), *reason = resp_get_str(ev, "reason");

	e->src = IC_SRC_MANUAL;
	buf_copy_str(e->event_name, sizeof(e->event_name), "manual");
	if (!p || !ic_principal_from_arn(p, &e->actor) ||
	    (e->actor.kind != IC_P_USER && e->actor.kind != IC_P_ROLE))
		return say(IC_INVALID, why, wn, "\"principal\" must be an IAM user or role ARN");
	if (!reason || !*reason)
		return say(IC_INVALID, why, wn, "\"reason\" is required");
	buf_copy_str(e->reason, sizeof(e->reason), reason);
	buf_copy_str(e->account, sizeof(e->account), e->actor.account);
	return IC_ACT;
}

enum ic_parsed ic_parse(const cJSON *ev, const struct ic_settings *set, struct ic_event *e,
			char *why, size_t whylen)
{
	const char *src = resp_get_str(ev, "source"), *dt = resp_get_str(ev, "detail-type");
	enum ic_parsed p;

	memset(e, 0, sizeof(*e));
	why[0] = '\0';
	if (!cJSON_IsObject(ev))
		return say(IC_INVALID, why, whylen, "event is not a JSON object");
	if (!src && !dt && resp_get(ev, "principal"))
		p = parse_manual(ev, e, why, whylen);
	else if (src && !strcmp(src, "aws.iam")) {
		e->src = IC_SRC_CLOUDTRAIL;
		if (!dt || strcmp(dt, "AWS API Call via CloudTrail"))
			return say(IC_INVALID, why, whylen, "detail-type is not \"AWS API Call via CloudTrail\"");
		p = parse_cloudtrail(ev, e, why, whylen);
	} else if (src && !strcmp(src, "aws.guardduty")) {
		e->src = IC_SRC_GUARDDUTY;
		if (!dt || strcmp(dt, "GuardDuty Finding"))
			return say(IC_INVALID, why, whylen, "detail-type is not \"GuardDuty Finding\"");
		p = parse_guardduty(ev, set, e, why, whylen);
	} else {
		snprintf(why, whylen, "not an aws.iam CloudTrail event, a GuardDuty finding or the manual form");
		return IC_INVALID;
	}
	if (p == IC_ACT) {
		const char *a = e->actor.arn[0] ? e->actor.arn : "";

		if (!strncmp(a, "arn:", 4)) {
			const char *c = strchr(a + 4, ':');

			if (c && (size_t)(c - (a + 4)) < sizeof(e->partition))
				snprintf(e->partition, sizeof(e->partition), "%.*s", (int)(c - (a + 4)), a + 4);
		}
		if (!e->partition[0])
			buf_copy_str(e->partition, sizeof(e->partition), "aws");
	}
	return p;
}

/* ---- who is contained ------------------------------------------------------------------ */

static const char *last_segment(const char *s)
{
	const char *slash = s ? strrchr(s, '/') : NULL;

	return slash ? slash + 1 : s;
}

enum ic_actor_action ic_actor_decide(const struct ic_event *e, const struct resp_config *cfg,
				     const char *self_arn, struct ic_actor_decision *d)
{
	const struct ic_principal *a = &e->actor;
	const char *sess = a->session_arn[0] ? a->session_arn : a->arn;

	memset(d, 0, sizeof(*d));
	/* firebreak's own writes come back as events: nothing at all */
	if (self_arn && *self_arn && a->arn[0] &&
	    (prov_same_principal(sess, self_arn) || prov_same_principal(a->arn, self_arn))) {
		snprintf(d->why, sizeof(d->why), "the actor is firebreak itself (%s)", self_arn);
		return d->action = IC_ACTOR_SELF;
	}
	if (cfg && cfg->member_role && *cfg->member_role && a->kind == IC_P_ROLE &&
	    !strcmp(a->name, last_segment(cfg->member_role))) {
		snprintf(d->why, sizeof(d->why), "the actor is firebreak's member role %s", a->name);
		return d->action = IC_ACTOR_SELF;
	}
	if (cfg && a->arn[0] && (resp_is_trusted(cfg, sess) || resp_is_trusted(cfg, a->arn))) {
		snprintf(d->why, sizeof(d->why), "trusted principal %.240s (FIREBREAK_TRUSTED_PRINCIPALS)", a->arn);
		return d->action = IC_ACTOR_TRUSTED;
	}
	switch (a->kind) {
	case IC_P_ROOT:
		snprintf(d->why, sizeof(d->why), "root cannot be contained through an API: page a human");
		return d->action = IC_ACTOR_REPORT;
	case IC_P_NONE:
	case IC_P_OTHER:
		snprintf(d->why, sizeof(d->why), "the actor (type %s) is not an IAM user or role", a->type[0] ? a->type : "unknown");
		return d->action = IC_ACTOR_REPORT;
	case IC_P_USER:
	case IC_P_ROLE:
		break;
	}
	if (a->account[0] && e->account[0] && strcmp(a->account, e->account)) {
		snprintf(d->why, sizeof(d->why), "the actor belongs to account %s, not %s where the change is",
			 a->account, e->account);
		return d->action = IC_ACTOR_REPORT;
	}
	if (a->service_linked) {
		snprintf(d->why, sizeof(d->why), "service-linked role %s: AWS does not let anyone revoke it", a->name);
		return d->action = IC_ACTOR_REPORT;
	}
	if (a->kind == IC_P_USER) {
		snprintf(d->why, sizeof(d->why), "user %s: access keys Inactive, deny-all policy %s", a->name,
			 IC_QUARANTINE_POLICY);
		return d->action = IC_ACTOR_CONTAIN_USER;
	}
	snprintf(d->why, sizeof(d->why), "role %s: sessions issued before now revoked", a->name);
	return d->action = IC_ACTOR_REVOKE_ROLE;
}

/* ---- what undoes the change ------------------------------------------------------------- */

void ic_revert_cleanup(struct ic_revert *rv)
{
	if (!rv)
		return;
	free(rv->prior_doc);
	rv->prior_doc = NULL;
}

int ic_needs_history(const struct ic_event *e)
{
	switch (e->op) {
	case IC_OP_PUT_USER_POLICY:
	case IC_OP_PUT_ROLE_POLICY:
	case IC_OP_PUT_GROUP_POLICY:
	case IC_OP_UPDATE_ASSUME_ROLE_POLICY:
	case IC_OP_SET_DEFAULT_POLICY_VERSION:
	case IC_OP_DELETE_USER_PERMISSIONS_BOUNDARY:
	case IC_OP_DELETE_ROLE_PERMISSIONS_BOUNDARY:
		return 1;
	case IC_OP_CREATE_POLICY_VERSION:
		return e->set_as_default;
	default:
		return 0;
	}
}

const char *ic_history_resource(const struct ic_event *e)
{
	switch (e->op) {
	case IC_OP_PUT_USER_POLICY:
	case IC_OP_DELETE_USER_PERMISSIONS_BOUNDARY:
		return e->user;
	case IC_OP_PUT_ROLE_POLICY:
	case IC_OP_UPDATE_ASSUME_ROLE_POLICY:
	case IC_OP_DELETE_ROLE_PERMISSIONS_BOUNDARY:
		return e->role;
	case IC_OP_PUT_GROUP_POLICY:
		return e->group;
	case IC_OP_CREATE_POLICY_VERSION:
	case IC_OP_SET_DEFAULT_POLICY_VERSION:
		return e->policy_arn;
	default:
		return NULL;
	}
}

enum hist_effect { H_NONE, H_SET, H_ABSENT };

/* What one CloudTrail record did to the state the revert restores. val gets
 * a document (malloc'd, *doc) or a short value. */
static enum hist_effect record_effect(const struct ic_event *e, const cJSON *rec, char **doc,
				      char *val, size_t vn)
{
	const char *name = resp_get_str(rec, "eventName");
	const char *ukey, *target;
	char create[32], del[32], put[32], delp[32];

	*doc = NULL;
	val[0] = '\0';
	if (!name || resp_get(rec, "errorCode"))
		return H_NONE;
	switch (e->op) {
	case IC_OP_PUT_USER_POLICY:
	case IC_OP_PUT_ROLE_POLICY:
	case IC_OP_PUT_GROUP_POLICY: {
		const char *kind = e->op == IC_OP_PUT_USER_POLICY ? "User" : e->op == IC_OP_PUT_ROLE_POLICY ? "Role" : "Group";

		ukey = e->op == IC_OP_PUT_USER_POLICY ? "userName" : e->op == IC_OP_PUT_ROLE_POLICY ? "roleName" : "groupName";
		target = e->op == IC_OP_PUT_USER_POLICY ? e->user : e->op == IC_OP_PUT_ROLE_POLICY ? e->role : e->group;
		snprintf(create, sizeof(create), "Create%s", kind);
		snprintf(del, sizeof(del), "Delete%s", kind);
		snprintf(put, sizeof(put), "Put%sPolicy", kind);
		snprintf(delp, sizeof(delp), "Delete%sPolicy", kind);
		if (!req(rec, ukey) || strcmp(req(rec, ukey), target))
			return H_NONE;
		if (!strcmp(name, create) || !strcmp(name, del))
			return H_ABSENT;
		if (!req(rec, "policyName") || strcmp(req(rec, "policyName"), e->policy_name))
			return H_NONE;
		if (!strcmp(name, delp))
			return H_ABSENT;
		if (!strcmp(name, put)) {
			*doc = ic_doc_compact(resp_get(rec, "requestParameters.policyDocument"));
			return *doc ? H_SET : H_NONE;
		}
		return H_NONE;
	}
	case IC_OP_UPDATE_ASSUME_ROLE_POLICY:
		if (!req(rec, "roleName") || strcmp(req(rec, "roleName"), e->role))
			return H_NONE;
		if (!strcmp(name, "UpdateAssumeRolePolicy"))
			*doc = ic_doc_compact(resp_get(rec, "requestParameters.policyDocument"));
		else if (!strcmp(name, "CreateRole"))
			*doc = ic_doc_compact(resp_get(rec, "requestParameters.assumeRolePolicyDocument"));
		return *doc ? H_SET : H_NONE;
	case IC_OP_CREATE_POLICY_VERSION:
	case IC_OP_SET_DEFAULT_POLICY_VERSION: {
		const char *v = NULL;

		if (!strcmp(name, "CreatePolicy")) {
			const char *arn = resp_get_str(rec, "responseElements.policy.arn");

			if (!arn || strcmp(arn, e->policy_arn))
				return H_NONE;
			v = resp_get_str(rec, "responseElements.policy.defaultVersionId");
			if (!v)
				v = "v1";
		} else if (req(rec, "policyArn") && !strcmp(req(rec, "policyArn"), e->policy_arn)) {
			if (!strcmp(name, "SetDefaultPolicyVersion"))
				v = req(rec, "versionId");
			else if (!strcmp(name, "CreatePolicyVersion")) {
				const cJSON *sd = resp_get(rec, "requestParameters.setAsDefault");

				if (cJSON_IsTrue(sd) || (cJSON_IsString(sd) && !strcmp(sd->valuestring, "true")))
					v = resp_get_str(rec, "responseElements.policyVersion.versionId");
			}
		}
		if (!version_ok(v))
			return H_NONE;
		buf_copy_str(val, vn, v);
		return H_SET;
	}
	case IC_OP_DELETE_USER_PERMISSIONS_BOUNDARY:
	case IC_OP_DELETE_ROLE_PERMISSIONS_BOUNDARY: {
		const char *kind = e->op == IC_OP_DELETE_USER_PERMISSIONS_BOUNDARY ? "User" : "Role";
		const char *v;

		ukey = *kind == 'U' ? "userName" : "roleName";
		target = *kind == 'U' ? e->user : e->role;
		if (!req(rec, ukey) || strcmp(req(rec, ukey), target))
			return H_NONE;
		snprintf(create, sizeof(create), "Create%s", kind);
		snprintf(put, sizeof(put), "Put%sPermissionsBoundary", kind);
		snprintf(delp, sizeof(delp), "Delete%sPermissionsBoundary", kind);
		if (!strcmp(name, delp))
			return H_ABSENT;
		if (strcmp(name, create) && strcmp(name, put))
			return H_NONE;
		v = req(rec, "permissionsBoundary");
		if (!v)
			return !strcmp(name, create) ? H_ABSENT : H_NONE;
		if (!policy_arn_ok(v))
			return H_NONE;
		buf_copy_str(val, vn, v);
		return H_SET;
	}
	default:
		return H_NONE;
	}
}

/* The record's time: the parsed CloudTrailEvent's eventTime, else the
 * LookupEvents EventTime (epoch seconds). */
static int64_t record_ms(const cJSON *ev, const cJSON *rec)
{
	const char *t = resp_get_str(rec, "eventTime");
	const cJSON *et = resp_get(ev, "EventTime");

	if (t)
		return resp_parse_time_ms(t);
	if (cJSON_IsNumber(et) && et->valuedouble > 0 && et->valuedouble < 9.2e9)
		return (int64_t)et->valuedouble * 1000;
	return 0;
}

struct prior {
	enum hist_effect eff;
	char *doc;
	char val[IC_ARN_LEN];
	char by[IC_ARN_LEN];
	int64_t ms;
	int ambiguous;       /* two changes in the newest second disagree */
	int same_second;     /* a change in the trigger's own second (order unknown) */
	int created;         /* the resource's creation is in the history */
};

static void prior_from_history(const struct ic_event *e, const cJSON *events, struct prior *p)
{
	const cJSON *ev;
	int64_t trig_s = e->event_ms / 1000;

	memset(p, 0, sizeof(*p));
	cJSON_ArrayForEach(ev, events) {
		cJSON *rec = ct_event_detail(ev);
		char *doc = NULL, val[IC_ARN_LEN];
		const char *id, *by;
		enum hist_effect eff;
		int64_t ms;

		if (!rec)
			continue;
		id = resp_get_str(rec, "eventID");
		if (id && e->event_id[0] && !strcmp(id, e->event_id)) {
			cJSON_Delete(rec);
			continue;
		}
		eff = record_effect(e, rec, &doc, val, sizeof(val));
		ms = record_ms(ev, rec);
		by = resp_get_str(rec, "userIdentity.arn");
		if (eff != H_NONE && ms > 0 && (!e->event_ms || ms / 1000 <= trig_s)) {
			const char *name = resp_get_str(rec, "eventName");

			if (name && !strncmp(name, "Create", 6) && strcmp(name, "CreatePolicyVersion"))
				p->created = 1;
			if (e->event_ms && ms / 1000 == trig_s) {
				p->same_second = 1;
			} else if (!p->eff || ms > p->ms) {
				free(p->doc);
				p->eff = eff;
				p->doc = doc;
				doc = NULL;
				buf_copy_str(p->val, sizeof(p->val), val);
				buf_copy_str(p->by, sizeof(p->by), by ? by : "");
				p->ms = ms;
				p->ambiguous = 0;
			} else if (ms / 1000 == p->ms / 1000 &&
				   (eff != p->eff || strcmp(val, p->val) || (doc && p->doc && strcmp(doc, p->doc)))) {
				p->ambiguous = 1;
			}
		}
		free(doc);
		cJSON_Delete(rec);
	}
}

/* The revert's kind and its reason (printf-style into rv->why). */
static void rv_set(struct ic_revert *rv, enum ic_revert_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void rv_set(struct ic_revert *rv, enum ic_revert_kind kind, const char *fmt, ...)
{
	va_list ap;

	rv->kind = kind;
	va_start(ap, fmt);
	vsnprintf(rv->why, sizeof(rv->why), fmt, ap);
	va_end(ap);
}

void ic_revert_plan(const struct ic_event *e, const cJSON *events, int complete, struct ic_revert *rv)
{
	struct prior p;
	const char *undecided = NULL;
	const char *by_actor;

	memset(rv, 0, sizeof(*rv));
	rv->decided = 1;         /* the cases that end here need no history */
	switch (e->op) {
	case IC_OP_NONE:
		rv_set(rv, IC_RV_NONE, "no change to revert (%s)",
		       e->src == IC_SRC_MANUAL ? "manual containment" : "finding");
		return;
	case IC_OP_ATTACH_USER_POLICY:
	case IC_OP_ATTACH_ROLE_POLICY:
	case IC_OP_ATTACH_GROUP_POLICY:
		rv_set(rv, IC_RV_DETACH, "detach %.380s", e->policy_arn);
		return;
	case IC_OP_ADD_USER_TO_GROUP:
		rv_set(rv, IC_RV_REMOVE_FROM_GROUP, "remove %s from group %s", e->user, e->group);
		return;
	case IC_OP_CREATE_ACCESS_KEY:
		rv_set(rv, IC_RV_KEY_INACTIVE, "the key made for %s set Inactive (kept, not deleted)", e->user);
		return;
	case IC_OP_CREATE_LOGIN_PROFILE:
		rv_set(rv, IC_RV_DELETE_LOGIN, "console password made for %s deleted", e->user);
		return;
	case IC_OP_UPDATE_LOGIN_PROFILE:
		rv->decided = 0;
		rv_set(rv, IC_RV_DELETE_LOGIN, "the prior console password of %s cannot be restored: "
		       "console access removed until a human resets it", e->user);
		return;
	case IC_OP_CREATE_POLICY_VERSION:
		if (!e->set_as_default) {
			rv_set(rv, IC_RV_NONE, "version %s was not made default: nothing in force to revert "
			       "(the version is kept as evidence)", e->version_id);
			return;
		}
		break;
	default:
		break;
	}
	prior_from_history(e, events, &p);
	by_actor = p.eff && p.by[0] && (e->actor.session_arn[0] || e->actor.arn[0]) &&
		   prov_same_principal(p.by, e->actor.session_arn[0] ? e->actor.session_arn : e->actor.arn)
		? p.by : NULL;
	if (p.same_second)
		undecided = "another change of it in the same second as the event (order unknown)";
	else if (p.ambiguous)
		undecided = "two changes of it in one second disagree";
	else if (by_actor)
		undecided = "the prior state was set by the same principal (it may itself be the escalation)";
	else if (!p.eff && !complete)
		undecided = "the target's CloudTrail history could not be read completely";
	else if (!p.eff)
		undecided = "no record of its prior state in CloudTrail's 90 days";
	if (p.eff)
		buf_copy_str(rv->prior_by, sizeof(rv->prior_by), p.by);
	rv->decided = undecided == NULL;
	switch (e->op) {
	case IC_OP_PUT_USER_POLICY:
	case IC_OP_PUT_ROLE_POLICY:
	case IC_OP_PUT_GROUP_POLICY:
		if (!undecided && p.eff == H_SET) {
			rv->prior_doc = p.doc;
			p.doc = NULL;
			rv_set(rv, IC_RV_PUT_INLINE, "policy %s put back to the document set before", e->policy_name);
		} else {
			rv_set(rv, IC_RV_DELETE_INLINE, "policy %s deleted: %s", e->policy_name,
			       undecided ? undecided : "it did not exist before");
		}
		break;
	case IC_OP_UPDATE_ASSUME_ROLE_POLICY:
		if (!undecided) {
			rv->prior_doc = p.doc;
			p.doc = NULL;
			rv_set(rv, IC_RV_TRUST, "trust policy of %s put back to the document set before", e->role);
		} else {
			rv->prior_doc = strdup(IC_DENY_ALL_TRUST);
			rv_set(rv, IC_RV_TRUST, "trust policy of %s set to deny all: %s", e->role, undecided);
		}
		break;
	case IC_OP_CREATE_POLICY_VERSION:
	case IC_OP_SET_DEFAULT_POLICY_VERSION:
		if (!undecided && !strcmp(p.val, e->version_id)) {
			rv_set(rv, IC_RV_NONE, "%s was already the default before the event", e->version_id);
		} else if (!undecided) {
			buf_copy_str(rv->prior_version, sizeof(rv->prior_version), p.val);
			rv_set(rv, IC_RV_SET_DEFAULT, "default version back to %.15s (the default before); %s kept as "
			       "evidence", p.val, e->version_id);
		} else {
			rv_set(rv, IC_RV_UNDECIDED, "the default version before %s cannot be decided: %s",
			       e->version_id, undecided);
		}
		break;
	case IC_OP_DELETE_USER_PERMISSIONS_BOUNDARY:
	case IC_OP_DELETE_ROLE_PERMISSIONS_BOUNDARY:
		if (!undecided && p.eff == H_SET) {
			buf_copy_str(rv->prior_arn, sizeof(rv->prior_arn), p.val);
			rv_set(rv, IC_RV_PUT_BOUNDARY, "permissions boundary %.350s put back", p.val);
		} else if (!undecided) {
			rv_set(rv, IC_RV_NONE, "there was no permissions boundary before");
		} else {
			rv_set(rv, IC_RV_UNDECIDED, "the boundary before cannot be decided: %s", undecided);
		}
		break;
	default:
		rv->kind = IC_RV_NONE;
		break;
	}
	free(p.doc);
}
