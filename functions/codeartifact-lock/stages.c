/*
 * codeartifact-lock stages: event parsing, who may be denied, the policy
 * merge, which repository policies grant the principal, the token wording.
 * Pure: no AWS, no clock (times are passed in).
 */
#include "codeartifact_lock.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/sha.h>

#include "alarm.h"
#include "arn.h"
#include "field.h"
#include "kit.h"

int ca_domain_ok(const char *s)
{
	return field_name_ok(s, 2, 50, "a-z0-9-") && islower((unsigned char)s[0]) && s[strlen(s) - 1] != '-';
}

int ca_repo_ok(const char *s)
{
	return field_name_ok(s, 2, 100, "a-zA-Z0-9._-") && isalnum((unsigned char)s[0]);
}

/* IAM names: [\w+=,.@-], path segments the same plus '/'. */
static int iam_name_ok(const char *s, size_t n, int path)
{
	size_t i;

	if (!n || n > 128 * (path ? 4 : 1))
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(isalnum(c) || strchr("_+=,.@-", c) || (path && c == '/')) || c > 0x7f || !c)
			return 0;
	}
	return 1;
}

static int account_ok(const char *s, size_t n)
{
	size_t i;

	if (n != 12)
		return 0;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

int ca_principal_parse(const char *arn, struct ca_principal *p)
{
	struct arn a;
	size_t rest;
	const char *res;

	if (!arn || !p || strlen(arn) >= CA_ARN_MAX)
		return -1;
	memset(p, 0, sizeof(*p));
	/* runtime/arn: the six fields; IAM and STS ARNs name no region */
	if (!arn_parse(arn, &a) || !arn_partition_ok(a.partition) || a.region[0] ||
	    !account_ok(a.account, strlen(a.account)))
		return -1;
	res = a.resource;
	snprintf(p->partition, sizeof(p->partition), "%s", a.partition);
	memcpy(p->account, a.account, 13);
	rest = strlen(res);
	if (!strcmp(a.service, "iam")) {
		const char *name;

		if (!strcmp(res, "root")) {
			p->kind = CA_P_ROOT;
		} else if (!strncmp(res, "user/", 5) || !strncmp(res, "role/", 5)) {
			p->kind = res[0] == 'u' ? CA_P_USER : CA_P_ROLE;
			if (!iam_name_ok(res + 5, rest - 5, 1) || res[rest - 1] == '/' || strstr(res, "//"))
				return -1;
			name = strrchr(res, '/') + 1;
			if (strlen(name) > 64u || !buf_copy_id(p->name, sizeof(p->name), name))
				return -1;
		} else {
			return -1;
		}
		snprintf(p->deny_arn, sizeof(p->deny_arn), "%s", arn);
		return 0;
	}
	if (!strcmp(a.service, "sts") && !strncmp(res, "assumed-role/", 13)) {
		const char *role = res + 13, *slash = strchr(role, '/');

		if (!slash || slash == role || (size_t)(slash - role) > 64 || !iam_name_ok(role, (size_t)(slash - role), 0) ||
		    !iam_name_ok(slash + 1, strlen(slash + 1), 0))
			return -1;
		p->kind = CA_P_ROLE;
		p->from_session = 1;
		memcpy(p->name, role, (size_t)(slash - role));
		snprintf(p->deny_arn, sizeof(p->deny_arn), "arn:%s:iam::%s:role/%s", p->partition, p->account,
			 p->name);
		return 0;
	}
	return -1;
}

/* The role name in a caller ARN (assumed-role session or role), "" else. */
static void caller_role(const char *arn, char out[256], char acct[16])
{
	struct ca_principal c;

	out[0] = acct[0] = 0;
	if (arn && !ca_principal_parse(arn, &c) && c.kind == CA_P_ROLE) {
		snprintf(out, 256, "%s", c.name);
		snprintf(acct, 16, "%s", c.account);
	}
}

enum ca_judgement ca_judge(const struct ca_principal *p, const char *named, const char *domain_account,
			   const char *self_arn, const char *member_role,
			   const struct resp_config *cfg, char *why, size_t whylen)
{
	char role[256], acct[16];

	/* Root first: whatever else is configured, an account root is never
	 * denied (it would cut every principal of that account). */
	if (p->kind == CA_P_ROOT) {
		snprintf(why, whylen, "%s is an account root: a Deny for it would lock every principal of "
			 "account %s out of the domain%s; reported only", p->deny_arn, p->account,
			 domain_account && !strcmp(domain_account, p->account) ? " (the domain owner)" : "");
		return CA_KEEP_OWNER_ROOT;
	}
	if (cfg && (resp_is_trusted(cfg, named) || resp_is_trusted(cfg, p->deny_arn))) {
		snprintf(why, whylen, "%s is a trusted principal (FIREBREAK_TRUSTED_PRINCIPALS): reported, "
			 "not denied", named);
		return CA_KEEP_TRUSTED;
	}
	caller_role(self_arn, role, acct);
	/* Without our own identity a role could be ours: denying it would
	 * lock this function out of the domain and revoke its own sessions. */
	if (p->kind == CA_P_ROLE && !role[0] && (!self_arn || !*self_arn)) {
		snprintf(why, whylen, "%s is a role and this function's own role is unknown (sts:GetCallerIdentity "
			 "failed): it could be ours; reported, not denied", p->deny_arn);
		return CA_KEEP_SELF;
	}
	if (p->kind == CA_P_ROLE && role[0] && !strcmp(role, p->name) && !strcmp(acct, p->account)) {
		snprintf(why, whylen, "%s is this function's own role: reported, not denied", p->deny_arn);
		return CA_KEEP_SELF;
	}
	if (p->kind == CA_P_ROLE && member_role && *member_role && !strcmp(member_role, p->name)) {
		snprintf(why, whylen, "%s is the member role firebreak acts through (FIREBREAK_MEMBER_ROLE): "
			 "reported, not denied", p->deny_arn);
		return CA_KEEP_SELF;
	}
	if (!domain_account || strcmp(domain_account, p->account)) {
		snprintf(why, whylen, "%s is outside the domain's account %s: its access comes from a grant "
			 "a human must review; reported, not denied", p->deny_arn,
			 domain_account ? domain_account : "(unknown)");
		return CA_KEEP_FOREIGN;
	}
	snprintf(why, whylen, "%s will be denied", p->deny_arn);
	return CA_LOCK;
}

void ca_sid(const char *deny_arn, char out[CA_SID_LEN])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	int i, n;

	SHA256((const unsigned char *)deny_arn, strlen(deny_arn), md);
	n = snprintf(out, CA_SID_LEN, "%s", CA_SID_PREFIX);
	for (i = 0; i < 8; i++)
		n += snprintf(out + n, CA_SID_LEN - (size_t)n, "%02x", md[i]);
}

cJSON *ca_deny_statement(const char *deny_arn)
{
	cJSON *st = cJSON_CreateObject(), *pr;
	char sid[CA_SID_LEN];

	if (!st)
		return NULL;
	ca_sid(deny_arn, sid);
	cJSON_AddStringToObject(st, "Sid", sid);
	cJSON_AddStringToObject(st, "Effect", "Deny");
	pr = cJSON_AddObjectToObject(st, "Principal");
	if (pr)
		cJSON_AddStringToObject(pr, "AWS", deny_arn);
	cJSON_AddStringToObject(st, "Action", "codeartifact:*");
	cJSON_AddStringToObject(st, "Resource", "*");
	if (!pr || !cJSON_GetObjectItemCaseSensitive(st, "Resource")) {
		cJSON_Delete(st);
		return NULL;
	}
	return st;
}

/* Statement as a one-element array when it was a single object; NULL when
 * it is neither (or absent: then *absent). */
static cJSON *statements(cJSON *doc, int *absent)
{
	cJSON *s = cJSON_GetObjectItemCaseSensitive(doc, "Statement");

	*absent = !s;
	if (cJSON_IsObject(s)) {
		cJSON *arr = cJSON_CreateArray();

		if (!arr)
			return NULL;
		cJSON_DetachItemViaPointer(doc, s);
		cJSON_AddItemToArray(arr, s);
		cJSON_AddItemToObject(doc, "Statement", arr);
		return arr;
	}
	return cJSON_IsArray(s) ? s : NULL;
}

enum ca_merge ca_policy_merge(const char *doc, const char *deny_arn, char **out, char *why,
			      size_t whylen)
{
	cJSON *d, *mine, *it, *arr;
	char sid[CA_SID_LEN];
	int absent = 0, idx = 0;

	*out = NULL;
	mine = ca_deny_statement(deny_arn);
	if (!mine) {
		field_why(why, whylen, "out of memory");
		return CA_MERGE_BAD;
	}
	ca_sid(deny_arn, sid);
	if (!doc || !*doc) {
		d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "Version", "2012-10-17");
		arr = cJSON_AddArrayToObject(d, "Statement");
		if (!arr) {
			cJSON_Delete(mine);
			cJSON_Delete(d);
			field_why(why, whylen, "out of memory");
			return CA_MERGE_BAD;
		}
		cJSON_AddItemToArray(arr, mine);
		field_why(why, whylen, "no policy yet: the Deny is its only statement");
		goto write;
	}
	d = cJSON_Parse(doc);
	if (!cJSON_IsObject(d)) {
		cJSON_Delete(d);
		cJSON_Delete(mine);
		field_why(why, whylen, "the policy read is not a JSON object: not rewritten (a merge could lose "
			  "what it says)");
		return CA_MERGE_BAD;
	}
	arr = statements(d, &absent);
	if (!arr && absent) {
		arr = cJSON_AddArrayToObject(d, "Statement");
	} else if (!arr) {
		cJSON_Delete(d);
		cJSON_Delete(mine);
		field_why(why, whylen, "the policy's Statement is neither a list nor an object: not rewritten");
		return CA_MERGE_BAD;
	}
	if (!arr) {
		cJSON_Delete(d);
		cJSON_Delete(mine);
		field_why(why, whylen, "out of memory");
		return CA_MERGE_BAD;
	}
	cJSON_ArrayForEach(it, arr) {
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(it, "Sid");

		if (cJSON_IsString(s) && !strcmp(s->valuestring, sid)) {
			if (cJSON_Compare(it, mine, 1)) {
				cJSON_Delete(d);
				cJSON_Delete(mine);
				snprintf(why, whylen, "statement %s already denies %s", sid, deny_arn);
				return CA_MERGE_ALREADY;
			}
			/* Our Sid, another shape: someone edited it (a narrower
			 * action, an Allow): ours again, in its place. */
			cJSON_ReplaceItemInArray(arr, idx, mine);
			snprintf(why, whylen, "statement %s had been altered: replaced by the Deny; %d other "
				 "statement%s kept", sid, cJSON_GetArraySize(arr) - 1,
				 cJSON_GetArraySize(arr) == 2 ? "" : "s");
			goto write;
		}
		idx++;
	}
	snprintf(why, whylen, "Deny %s added; %d existing statement%s kept", sid, cJSON_GetArraySize(arr),
		 cJSON_GetArraySize(arr) == 1 ? "" : "s");
	cJSON_AddItemToArray(arr, mine);
	if (!cJSON_GetObjectItemCaseSensitive(d, "Version"))
		cJSON_AddStringToObject(d, "Version", "2012-10-17");
write:
	*out = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	if (!*out) {
		field_why(why, whylen, "out of memory");
		return CA_MERGE_BAD;
	}
	return CA_MERGE_WRITE;
}

/* One Principal value (a string) names p? */
static int names_principal(const char *v, const struct ca_principal *p, const char *named)
{
	char root[64];

	if (!strcmp(v, "*") || !strcmp(v, p->deny_arn) || (named && !strcmp(v, named)))
		return 1;
	snprintf(root, sizeof(root), "arn:%s:iam::%s:root", p->partition, p->account);
	return !strcmp(v, root) || !strcmp(v, p->account);
}

/* A Principal element names p: "*", {"AWS": s | [s...]}. Other keys
 * (Service, Federated) never name an IAM user or role. */
static int element_names(const cJSON *e, const struct ca_principal *p, const char *named)
{
	const cJSON *aws, *it;

	if (cJSON_IsString(e))
		return !strcmp(e->valuestring, "*");
	aws = cJSON_GetObjectItemCaseSensitive(e, "AWS");
	if (cJSON_IsString(aws))
		return names_principal(aws->valuestring, p, named);
	if (!cJSON_IsArray(aws))
		return 0;
	cJSON_ArrayForEach(it, aws)
		if (cJSON_IsString(it) && names_principal(it->valuestring, p, named))
			return 1;
	return 0;
}

int ca_policy_grants(const char *doc, const struct ca_principal *p, const char *named, char *why,
		     size_t whylen)
{
	cJSON *d, *arr, *it;
	int absent = 0, n = 0, hit = 0;

	if (!doc || !*doc) {
		field_why(why, whylen, "no policy");
		return 0;
	}
	d = cJSON_Parse(doc);
	if (!cJSON_IsObject(d)) {
		cJSON_Delete(d);
		field_why(why, whylen, "the policy is not a JSON object");
		return -1;
	}
	arr = statements(d, &absent);
	if (!arr) {
		cJSON_Delete(d);
		field_why(why, whylen, absent ? "no statements" : "Statement is neither a list nor an object");
		return absent ? 0 : -1;
	}
	cJSON_ArrayForEach(it, arr) {
		const char *eff = resp_get_str(it, "Effect"), *sid = resp_get_str(it, "Sid");
		const cJSON *pr = cJSON_GetObjectItemCaseSensitive(it, "Principal");
		const cJSON *np = cJSON_GetObjectItemCaseSensitive(it, "NotPrincipal");

		n++;
		if (!eff || strcmp(eff, "Allow"))
			continue;
		if ((pr && element_names(pr, p, named)) || (np && !pr && !element_names(np, p, named))) {
			const char *how = pr ? "Principal names it" : "NotPrincipal does not exclude it";

			if (sid)
				snprintf(why, whylen, "statement %.64s allows it (%s)", sid, how);
			else
				snprintf(why, whylen, "statement #%d allows it (%s)", n, how);
			hit = 1;
			break;
		}
	}
	cJSON_Delete(d);
	if (!hit)
		field_why(why, whylen, "no Allow names it");
	return hit;
}

int64_t ca_token_expiry_ms(int64_t contained_ms)
{
	return contained_ms + CA_TOKEN_MAX_MS;
}

void ca_token_note(int64_t contained_ms, int dry_run, char *out, size_t outlen)
{
	char t0[RESP_TIME_LEN], t1[RESP_TIME_LEN];

	resp_format_time_ms(contained_ms, t0);
	resp_format_time_ms(ca_token_expiry_ms(contained_ms), t1);
	snprintf(out, outlen, "CodeArtifact authorization tokens cannot be revoked one by one and live up "
		 "to 12 hours: the last one issued before containment (%s%s) expires by %s. Until then "
		 "only the Deny statements keep them out: do not remove them before %s.",
		 t0, dry_run ? ", if it were contained now" : "", t1, t1);
}

const char *ca_arn_account(const char *resource_arn, char acct[16])
{
	static const char *const parts[] = { "arn:aws:codeartifact:", "arn:aws-cn:codeartifact:",
					     "arn:aws-us-gov:codeartifact:" };
	const char *c = NULL;
	size_t i;

	acct[0] = 0;
	for (i = 0; resource_arn && i < sizeof(parts) / sizeof(parts[0]); i++)
		if (!strncmp(resource_arn, parts[i], strlen(parts[i])))
			c = resource_arn + strlen(parts[i]);
	c = c ? strchr(c, ':') : NULL;    /* past the region */
	if (!c || !account_ok(c + 1, strlen(c + 1) >= 12 ? 12 : 0) || strncmp(c + 13, ":domain/", 8))
		return NULL;
	memcpy(acct, c + 1, 12);
	acct[12] = 0;
	return acct;
}

/* ---- settings and the event ------------------------------------------------ */

enum fb_err ca_settings_from_env(struct ca_settings *s, char *err, size_t errlen)
{
	struct ca_principal p;

	memset(s, 0, sizeof(*s));
	if (field_env_str("FIREBREAK_CA_ALARM", s->alarm, sizeof(s->alarm), err, errlen) ||
	    field_env_str("FIREBREAK_CA_DOMAIN", s->domain, sizeof(s->domain), err, errlen) ||
	    field_env_str("FIREBREAK_CA_DOMAIN_OWNER", s->domain_owner, sizeof(s->domain_owner), err, errlen) ||
	    field_env_str("FIREBREAK_CA_PRINCIPAL", s->principal, sizeof(s->principal), err, errlen))
		return FB_E_CONFIG;
	if (s->domain[0] && !ca_domain_ok(s->domain)) {
		snprintf(err, errlen, "setting 'FIREBREAK_CA_DOMAIN' is not a CodeArtifact domain name");
		return FB_E_CONFIG;
	}
	if (s->domain_owner[0] && !resp_account_id_ok(s->domain_owner)) {
		snprintf(err, errlen, "setting 'FIREBREAK_CA_DOMAIN_OWNER' must be a 12-digit account id");
		return FB_E_CONFIG;
	}
	if (s->principal[0] && ca_principal_parse(s->principal, &p)) {
		snprintf(err, errlen, "setting 'FIREBREAK_CA_PRINCIPAL' must be an IAM user, role or "
			 "assumed-role ARN");
		return FB_E_CONFIG;
	}
	return kit_env_severity("FIREBREAK_MIN_SEVERITY", CA_DEFAULT_MIN_SEVERITY, &s->min_severity, err,
				errlen);
}

static enum fb_err set_principal(struct ca_event *ev, const char *arn, const char *what, char *why,
				 size_t whylen)
{
	struct ca_principal p;

	if (!arn || ca_principal_parse(arn, &p))
		return field_bad(why, whylen, "%s must be an IAM user, role, root or assumed-role ARN", what);
	snprintf(ev->principal, sizeof(ev->principal), "%s", arn);
	return FB_OK;
}

static enum fb_err parse_alarm(const cJSON *root, const struct ca_settings *set, struct ca_event *ev,
			       char *why, size_t whylen)
{
	const cJSON *detail = cJSON_GetObjectItemCaseSensitive(root, "detail");
	struct alarm_change a;
	const char *name, *state, *t;

	ev->source = CA_SRC_ALARM;
	if (!cJSON_IsObject(detail))
		return field_bad(why, whylen, "alarm event without an object 'detail'");
	/* runtime/alarm: the fields every alarm-triggered responder reads */
	if (alarm_parse(detail, &a) != FB_OK)
		return field_bad(why, whylen, "alarm event without a string alarmName and state.value");
	name = a.name;
	state = a.state;
	if (!buf_copy_id(ev->alarm, sizeof(ev->alarm), name))
		return field_bad(why, whylen, "alarm event without a usable alarmName");
	ev->event_ms = a.changed_ms;
	if (ev->event_ms <= 0) {
		t = resp_get_str(root, "time");
		ev->event_ms = t ? resp_parse_time_ms(t) : 0;
	}
	if (ev->event_ms < 0)
		ev->event_ms = 0;
	/* The alarm names nothing: which domain and whom are settings. An
	 * alarm whose name is not the setting is not ours. */
	if (!set->alarm[0] || strcmp(name, set->alarm)) {
		snprintf(ev->skip, sizeof(ev->skip), "alarm '%.80s' is not FIREBREAK_CA_ALARM%s", name,
			 set->alarm[0] ? "" : " (unset)");
		return FB_OK;
	}
	if (strcmp(state, "ALARM")) {
		snprintf(ev->skip, sizeof(ev->skip), "alarm state is %.32s, not ALARM", state);
		return FB_OK;
	}
	if (!set->domain[0] || !set->principal[0])
		return field_bad(why, whylen, "the alarm trigger needs FIREBREAK_CA_DOMAIN and FIREBREAK_CA_PRINCIPAL");
	snprintf(ev->domain, sizeof(ev->domain), "%s", set->domain);
	snprintf(ev->domain_owner, sizeof(ev->domain_owner), "%s", set->domain_owner);
	return set_principal(ev, set->principal, "FIREBREAK_CA_PRINCIPAL", why, whylen);
}

static enum fb_err parse_finding(const cJSON *root, const struct ca_settings *set, struct ca_event *ev,
				 char *why, size_t whylen)
{
	struct kit_gd_finding f;
	const cJSON *call, *ak;
	const char *svc, *acct, *utype, *uname, *dom, *t;
	char arn[CA_ARN_MAX];

	ev->source = CA_SRC_GUARDDUTY;
	if (kit_guardduty_finding(root, &f, why, whylen))
		return FB_E_INVALID;
	ev->severity = f.severity;
	snprintf(ev->finding_id, sizeof(ev->finding_id), "%.127s", f.id);
	snprintf(ev->finding_type, sizeof(ev->finding_type), "%.127s", f.type);
	t = resp_get_str(f.detail, "updatedAt");
	ev->event_ms = t ? resp_parse_time_ms(t) : 0;
	if (ev->event_ms < 0)
		ev->event_ms = 0;
	call = resp_get(f.detail, "service.action.awsApiCallAction");
	svc = resp_get_str(call, "serviceName");
	if (!svc || strcmp(svc, "codeartifact.amazonaws.com")) {
		snprintf(ev->skip, sizeof(ev->skip), "the finding is not about CodeArtifact activity "
			 "(awsApiCallAction.serviceName %.64s)", svc ? svc : "absent");
		return FB_OK;
	}
	if (kit_severity_below(f.severity, set->min_severity, ev->skip, sizeof(ev->skip)))
		return FB_OK;
	ak = resp_get(f.resource, "accessKeyDetails");
	acct = resp_get_str(f.detail, "accountId");
	utype = resp_get_str(ak, "userType");
	uname = resp_get_str(ak, "userName");
	if (!acct || !resp_account_id_ok(acct) || !utype || !uname)
		return field_bad(why, whylen, "the finding names no principal (detail.accountId, "
				 "resource.accessKeyDetails.userType and userName)");
	if (!strcmp(utype, "IAMUser"))
		snprintf(arn, sizeof(arn), "arn:%s:iam::%s:user/%.200s",
			 resp_get_str(f.detail, "partition") ? resp_get_str(f.detail, "partition") : "aws", acct, uname);
	else if (!strcmp(utype, "AssumedRole"))
		snprintf(arn, sizeof(arn), "arn:%s:iam::%s:role/%.200s",
			 resp_get_str(f.detail, "partition") ? resp_get_str(f.detail, "partition") : "aws", acct, uname);
	else if (!strcmp(utype, "Root"))
		snprintf(arn, sizeof(arn), "arn:%s:iam::%s:root",
			 resp_get_str(f.detail, "partition") ? resp_get_str(f.detail, "partition") : "aws", acct);
	else {
		snprintf(why, whylen, "the finding's principal type '%.32s' is not a user, role or root", utype);
		return FB_E_INVALID;
	}
	if (set_principal(ev, arn, "the finding's principal", why, whylen))
		return FB_E_INVALID;
	dom = resp_get_str(call, "affectedResources.AWS::CodeArtifact::Domain");
	if (!dom)
		dom = set->domain[0] ? set->domain : NULL;
	if (!dom)
		return field_bad(why, whylen, "the finding names no CodeArtifact domain and FIREBREAK_CA_DOMAIN is "
				 "unset");
	if (!ca_domain_ok(dom))
		return field_bad(why, whylen, "the finding's domain is not a CodeArtifact domain name");
	snprintf(ev->domain, sizeof(ev->domain), "%s", dom);
	/* The domain's account: the setting, else the principal's own (a
	 * principal outside the domain's account is reported only anyway). */
	snprintf(ev->domain_owner, sizeof(ev->domain_owner), "%s", set->domain_owner[0] ? set->domain_owner : acct);
	return FB_OK;
}

static enum fb_err parse_manual(const cJSON *root, struct ca_event *ev, char *why, size_t whylen)
{
	static const char form[] = "expected a CloudWatch alarm, a GuardDuty finding or {\"domain\": \"...\", "
				   "\"principal\": \"<ARN>\"}";

	ev->source = CA_SRC_MANUAL;
	if (field_read(root, (const struct field[]){
		FIELD_CHECK("domain", FIELD_REQUIRED, form), FIELD_CHECK("principal", FIELD_REQUIRED, form),
		FIELD_INTO("domain", FIELD_STR, "\"domain\" must be a CodeArtifact domain name (2-50 of a-z 0-9 -, "
			   "starting with a letter)", ca_domain_ok, ev->domain),
		FIELD_CHECK("principal", FIELD_STR, "\"principal\" must be a string (an IAM user, role or assumed-role ARN)"),
		FIELD_INTO("domainOwner", FIELD_STR, "\"domainOwner\" must be a 12-digit account id", resp_account_id_ok,
			   ev->domain_owner),
		FIELD_CHECK("dryRun", FIELD_BOOL, "\"dryRun\" must be a boolean"), FIELD_END }, why, whylen))
		return FB_E_INVALID;
	return set_principal(ev, resp_get_str(root, "principal"), "\"principal\"", why, whylen);
}

enum fb_err ca_parse(const char *event, size_t len, const struct ca_settings *set,
		     struct ca_event *ev, char *why, size_t whylen)
{
	const char *src = NULL, *dt = NULL;
	enum kit_event kind;
	enum fb_err rc;

	memset(ev, 0, sizeof(*ev));
	if (resp_parse_event(event, len, RESP_MAX_EVENT_BYTES, &ev->root, why, whylen) != FB_OK)
		return FB_E_INVALID;
	kind = kit_event_envelope(ev->root, &src, &dt, why, whylen);
	if (kind == KIT_EVENT_INVALID)
		return FB_E_INVALID;
	if (kind == KIT_EVENT_MANUAL)
		return parse_manual(ev->root, ev, why, whylen);
	if (!strcmp(src, "aws.cloudwatch") && !strcmp(dt, "CloudWatch Alarm State Change"))
		rc = parse_alarm(ev->root, set, ev, why, whylen);
	else if (!strcmp(src, "aws.guardduty") && !strcmp(dt, "GuardDuty Finding"))
		rc = parse_finding(ev->root, set, ev, why, whylen);
	else {
		snprintf(why, whylen, "unsupported event (%.40s / %.60s): expected a CloudWatch Alarm State "
			 "Change, a GuardDuty Finding or the manual form", src, dt);
		return FB_E_INVALID;
	}
	return rc;
}

void ca_event_cleanup(struct ca_event *ev)
{
	if (ev)
		field_json_free(&ev->root);
}
