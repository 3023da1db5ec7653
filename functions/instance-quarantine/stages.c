/*
 * instance-quarantine: the decisions, without I/O (instance_quarantine.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "field.h"
#include "instance_quarantine.h"
#include "kit.h"
#include "resp.h"
#include "sg.h"

/* String members are read with resp_get_str: every name here is a plain
 * key (no '.', which resp_get would take as a path step). */

/* Copy that refuses to truncate: 0 when src does not fit (or is NULL). */
static int copy(char *dst, size_t n, const char *src)
{
	size_t l;

	if (!src) {
		dst[0] = '\0';
		return 0;
	}
	l = strlen(src);
	if (l >= n) {
		dst[0] = '\0';
		return 0;
	}
	memcpy(dst, src, l + 1);
	return 1;
}

/* ---- settings ------------------------------------------------------------------- */

static enum fb_err env_bool(const char *name, int *out, char *err, size_t errlen)
{
	const char *v = getenv(name);

	if (!v || !*v)
		return FB_OK;
	if (!strcmp(v, "true"))
		*out = 1;
	else if (!strcmp(v, "false"))
		*out = 0;
	else {
		/* A typo must be seen at init, not silently read as either. */
		snprintf(err, errlen, "setting '%s' must be true or false", name);
		return FB_E_CONFIG;
	}
	return FB_OK;
}

/* Snapshot lock: days 1..36500 (LockSnapshot's LockDuration range), and
 * the mode. Governance is the default: a compliance lock cannot be lifted
 * by anyone (root included) until it expires, so it is opted into. */
static enum fb_err env_lock(struct iq_settings *s, char *err, size_t errlen)
{
	const char *d = getenv("FIREBREAK_SNAPSHOT_LOCK_DAYS"), *m = getenv("FIREBREAK_SNAPSHOT_LOCK_MODE");
	long n = 0;
	size_t i;

	snprintf(s->lock_mode, sizeof(s->lock_mode), "governance");
	if (d && *d) {
		for (i = 0; d[i]; i++)
			if (d[i] < '0' || d[i] > '9' || i >= 6)
				goto bad_days;
		n = strtol(d, NULL, 10);
		if (n > 36500)
			goto bad_days;
		s->lock_days = (int)n;
	}
	if (m && *m) {
		if (strcmp(m, "governance") && strcmp(m, "compliance")) {
			snprintf(err, errlen, "setting 'FIREBREAK_SNAPSHOT_LOCK_MODE' must be governance or compliance");
			return FB_E_CONFIG;
		}
		snprintf(s->lock_mode, sizeof(s->lock_mode), "%s", m);
	}
	return FB_OK;
bad_days:
	snprintf(err, errlen, "setting 'FIREBREAK_SNAPSHOT_LOCK_DAYS' must be a whole number of days, "
		 "0 (no lock) to 36500");
	return FB_E_CONFIG;
}

enum fb_err iq_settings_from_env(struct iq_settings *s, char *err, size_t errlen)
{
	enum fb_err rc;

	memset(s, 0, sizeof(*s));
	s->revoke_role = 1;
	rc = kit_env_severity("FIREBREAK_MIN_SEVERITY", IQ_DEFAULT_MIN_SEVERITY, &s->min_severity,
			      err, errlen);
	if (rc == FB_OK)
		rc = env_bool("FIREBREAK_STOP_AFTER_SNAPSHOT", &s->stop_after_snapshot, err, errlen);
	if (rc == FB_OK)
		rc = env_bool("FIREBREAK_REVOKE_INSTANCE_ROLE", &s->revoke_role, err, errlen);
	if (rc == FB_OK)
		rc = env_lock(s, err, errlen);
	return rc;
}

/* ---- the event -------------------------------------------------------------------- */

static int hexrun(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int iq_instance_id_ok(const char *s)
{
	size_t n;

	if (!s || strncmp(s, "i-", 2))
		return 0;
	n = strlen(s + 2);
	return (n == 8 || n == 17) && hexrun(s + 2, n);
}

int iq_credential_finding(const char *type)
{
	if (!type)
		return 0;
	return strstr(type, "InstanceCredentialExfiltration") != NULL ||
	       strstr(type, "MetadataDNSRebind") != NULL ||
	       !strncmp(type, "CredentialAccess:", 17);
}

static enum iq_parse bad(char *why, size_t whylen, const char *msg)
{
	snprintf(why, whylen, "%s", msg);
	return IQ_PARSE_INVALID;
}

static enum iq_parse ignore(char *why, size_t whylen, const char *msg)
{
	snprintf(why, whylen, "%s", msg);
	return IQ_PARSE_IGNORE;
}

static enum iq_parse parse_manual(const cJSON *ev, struct iq_target *t, char *why, size_t whylen)
{
	const char *r = resp_get_str(ev, "reason");

	if (field_read(ev, (const struct field[]){
		FIELD_CHECK("instanceId", FIELD_STR | FIELD_REQUIRED, "missing string field 'instanceId'"),
		FIELD_CHECK("region", FIELD_STR, "field 'region' must be a string"),
		FIELD_CHECK("reason", FIELD_STR | FIELD_NULL, "field 'reason' must be a string"),
		FIELD_CHECK("dryRun", FIELD_BOOL, "field 'dryRun' must be a boolean"),
		FIELD_INTO("instanceId", FIELD_STR, "field 'instanceId' is not an EC2 instance id (i- and 8 or 17 hex "
			   "digits)", iq_instance_id_ok, t->instance),
		FIELD_INTO("region", FIELD_STR, "field 'region' is not a region name", resp_region_name_ok, t->region),
		FIELD_END }, why, whylen))
		return IQ_PARSE_INVALID;
	/* A long reason is cut, not refused: it is prose for the report. */
	snprintf(t->reason, sizeof(t->reason), "%s", r && *r ? r : "manual quarantine");
	return IQ_PARSE_OK;
}

/* Fields both finding forms share, after they are found. */
static enum iq_parse finding_common(struct iq_target *t, const char *instance, const char *account,
				    const char *region, double min_sev, char *why, size_t whylen)
{
	if (!copy(t->instance, sizeof(t->instance), instance) || !iq_instance_id_ok(t->instance))
		return bad(why, whylen, "the finding's instance id is not an EC2 instance id (i- and 8 or 17 hex digits)");
	if (account && (!copy(t->account, sizeof(t->account), account) || !resp_account_id_ok(t->account)))
		return bad(why, whylen, "the finding's account is not a 12-digit account id");
	if (region && (!copy(t->region, sizeof(t->region), region) || !resp_region_name_ok(t->region)))
		return bad(why, whylen, "the finding's region is not a region name");
	kit_gd_reason(t->reason, sizeof(t->reason), t->finding_type, t->severity);
	return kit_severity_below(t->severity, min_sev, why, whylen) ? IQ_PARSE_IGNORE : IQ_PARSE_OK;
}

static enum iq_parse parse_guardduty(const cJSON *ev, double min_sev, struct iq_target *t,
				     char *why, size_t whylen)
{
	struct kit_gd_finding gd;
	const char *inst;
	int about;

	if (kit_guardduty_finding(ev, &gd, why, whylen))
		return IQ_PARSE_INVALID;
	t->severity = gd.severity;
	t->is_finding = 1;
	t->finding = gd.detail;
	snprintf(t->finding_id, sizeof(t->finding_id), "%s", gd.id);
	snprintf(t->finding_type, sizeof(t->finding_type), "%s", gd.type);
	about = kit_gd_instance(&gd, &inst, why, whylen);
	if (about)
		return about > 0 ? IQ_PARSE_IGNORE : IQ_PARSE_INVALID;
	/* The finding's account and region are the instance's: in a delegated
	 * administrator setup the envelope's are the administrator's. */
	return finding_common(t, inst, kit_event_account(ev), kit_event_region(ev), min_sev, why, whylen);
}

/* "arn:<partition>:ec2:<region>:<account>:instance/<id>" -> pointers into
 * the parts (copied to the outs). 0 when it is not one. */
static int instance_arn(const char *arn, char *region, size_t rn, char *account, size_t an,
			char *id, size_t idn)
{
	const char *p[6], *s = arn;
	size_t i;

	if (!arn || strncmp(arn, "arn:", 4))
		return 0;
	p[0] = s;
	for (i = 1; i < 6; i++) {
		s = strchr(s, ':');
		if (!s)
			return 0;
		p[i] = ++s;
	}
	if (strncmp(p[2], "ec2:", 4) || strncmp(p[5], "instance/", 9))
		return 0;
	if ((size_t)(p[4] - p[3]) > rn || (size_t)(p[5] - p[4]) > an)
		return 0;
	memcpy(region, p[3], (size_t)(p[4] - p[3] - 1));
	region[p[4] - p[3] - 1] = '\0';
	memcpy(account, p[4], (size_t)(p[5] - p[4] - 1));
	account[p[5] - p[4] - 1] = '\0';
	return copy(id, idn, p[5] + 9);
}

static enum iq_parse parse_securityhub(const cJSON *ev, double min_sev, struct iq_target *t,
				       char *why, size_t whylen)
{
	const cJSON *fs = resp_get(ev, "detail.findings"), *f, *res, *r, *sev;
	const char *prod, *type;
	char region[40], account[20], id[40];

	if (!cJSON_IsArray(fs) || !cJSON_GetArraySize(fs))
		return bad(why, whylen, "missing array 'detail.findings'");
	/* One finding per event is what Security Hub sends for a GuardDuty
	 * import; the first GuardDuty finding about an instance is the one. */
	cJSON_ArrayForEach(f, fs) {
		if (!cJSON_IsObject(f))
			return bad(why, whylen, "'detail.findings' holds a non-object");
		prod = resp_get_str(f, "ProductArn");
		if (!prod || strlen(prod) < 22 || strcmp(prod + strlen(prod) - 22, ":product/aws/guardduty"))
			continue;
		res = cJSON_GetObjectItemCaseSensitive(f, "Resources");
		cJSON_ArrayForEach(r, res) {
			type = resp_get_str(r, "Type");
			if (!type || strcmp(type, "AwsEc2Instance"))
				continue;
			if (!instance_arn(resp_get_str(r, "Id"), region, sizeof(region), account, sizeof(account),
					  id, sizeof(id)))
				return bad(why, whylen, "the finding's AwsEc2Instance Id is not an EC2 instance ARN");
			t->is_finding = 1;
			t->from_securityhub = 1;
			t->finding = f;
			/* GuardDuty's ASFF Id is ".../finding/<GuardDuty finding id>":
			 * the id alone, so that the native and the Security Hub
			 * delivery of one finding are one incident. */
			{
				const char *fid = resp_get_str(f, "Id") ? resp_get_str(f, "Id") : "";
				const char *tail = strstr(fid, "/finding/");

				snprintf(t->finding_id, sizeof(t->finding_id), "%s", tail ? tail + 9 : fid);
			}
			/* ASFF keeps GuardDuty's type after the last '/' of
			 * Types[0], its own '/' written '-'
			 * ("TTPs/.../UnauthorizedAccess:EC2-SSHBruteForce"). */
			{
				const cJSON *types = cJSON_GetObjectItemCaseSensitive(f, "Types");
				const cJSON *t0 = cJSON_GetArrayItem(types, 0);
				const char *s = cJSON_IsString(t0) ? strrchr(t0->valuestring, '/') : NULL;

				snprintf(t->finding_type, sizeof(t->finding_type), "%s", s ? s + 1 : "");
			}
			/* Severity.Product is GuardDuty's own 0-10 scale (the
			 * setting's); Normalized is 0-100. */
			sev = resp_get(f, "Severity.Product");
			if (cJSON_IsNumber(sev))
				t->severity = sev->valuedouble;
			else if (cJSON_IsNumber((sev = resp_get(f, "Severity.Normalized"))))
				t->severity = sev->valuedouble / 10.0;
			else
				return bad(why, whylen, "the finding has no numeric Severity.Product or Severity.Normalized");
			if (resp_get_str(f, "AwsAccountId") && strcmp(resp_get_str(f, "AwsAccountId"), account))
				return bad(why, whylen, "the finding's AwsAccountId and its instance ARN's account differ");
			return finding_common(t, id, account, region, min_sev, why, whylen);
		}
	}
	return ignore(why, whylen, "no GuardDuty finding about an EC2 instance (AwsEc2Instance) in the event");
}

enum iq_parse iq_parse_event(const cJSON *ev, double min_sev, struct iq_target *t,
			     char *why, size_t whylen)
{
	const char *src, *dt;
	enum kit_event kind;

	memset(t, 0, sizeof(*t));
	kind = kit_event_envelope(ev, &src, &dt, why, whylen);
	if (kind != KIT_EVENT_BRIDGE)
		return kind == KIT_EVENT_MANUAL ? parse_manual(ev, t, why, whylen) : IQ_PARSE_INVALID;
	if (!strcmp(src, "aws.guardduty") && !strcmp(dt, "GuardDuty Finding"))
		return parse_guardduty(ev, min_sev, t, why, whylen);
	if (!strcmp(src, "aws.securityhub") && !strcmp(dt, "Security Hub Findings - Imported"))
		return parse_securityhub(ev, min_sev, t, why, whylen);
	return bad(why, whylen, "not a GuardDuty Finding or Security Hub Findings - Imported event");
}

/* ---- the instance ------------------------------------------------------------------ */

enum fb_err iq_instance_from_json(const cJSON *out, struct iq_instance *in)
{
	const cJSON *res = cJSON_GetArrayItem(sg_list(out, "reservationSet"), 0);
	const cJSON *i = cJSON_GetArrayItem(sg_list(res, "instancesSet"), 0), *e, *g, *b;
	const char *s;

	memset(in, 0, sizeof(*in));
	if (!cJSON_IsObject(i))
		return FB_E_NOTFOUND;
	in->json = i;
	if (!copy(in->id, sizeof(in->id), resp_get_str(i, "instanceId")))
		return FB_E_PARSE;
	copy(in->state, sizeof(in->state), resp_get_str(i, "instanceState.name"));
	copy(in->vpc, sizeof(in->vpc), resp_get_str(i, "vpcId"));
	copy(in->profile_arn, sizeof(in->profile_arn), resp_get_str(i, "iamInstanceProfile.arn"));
	copy(in->launch_time, sizeof(in->launch_time), resp_get_str(i, "launchTime"));
	in->tags = sg_list(i, "tagSet");
	cJSON_ArrayForEach(e, sg_list(i, "networkInterfaceSet")) {
		struct sg_eni *n;

		if (in->neni == IQ_MAX_ENIS)
			return FB_E_TOO_LARGE;
		n = &in->eni[in->neni++];
		if (!copy(n->id, IQ_ID_LEN, resp_get_str(e, "networkInterfaceId")) ||
		    !copy(n->vpc, IQ_ID_LEN, resp_get_str(e, "vpcId")))
			return FB_E_PARSE;
		cJSON_ArrayForEach(g, sg_list(e, "groupSet")) {
			if (n->ngroups == SG_MAX_GROUPS)
				return FB_E_TOO_LARGE;
			if (!copy(n->groups[n->ngroups], IQ_ID_LEN, resp_get_str(g, "groupId")))
				return FB_E_PARSE;
			copy(n->group_names[n->ngroups], sizeof(n->group_names[0]), resp_get_str(g, "groupName"));
			n->ngroups++;
		}
	}
	cJSON_ArrayForEach(b, sg_list(i, "blockDeviceMapping")) {
		struct iq_volume *v;

		if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(b, "ebs")))
			continue; /* instance store: nothing to snapshot or keep */
		if (in->nvol == IQ_MAX_VOLUMES)
			return FB_E_TOO_LARGE;
		v = &in->vol[in->nvol++];
		s = resp_get_str(b, "ebs.deleteOnTermination");
		v->delete_on_termination = s && !strcmp(s, "true");
		if (!copy(v->device, sizeof(v->device), resp_get_str(b, "deviceName")) ||
		    !copy(v->volume, sizeof(v->volume), resp_get_str(b, "ebs.volumeId")))
			return FB_E_PARSE;
	}
	return FB_OK;
}

/* ---- security groups ----------------------------------------------------------------- */

static int perms_empty(const cJSON *perms)
{
	return !cJSON_IsArray(perms) || !cJSON_GetArraySize(perms);
}

/* One direction allows all protocols to 0.0.0.0/0 and to ::/0. */
static int perms_open(const cJSON *perms)
{
	const cJSON *p, *r;
	int v4 = 0, v6 = 0;

	cJSON_ArrayForEach(p, (cJSON_IsArray(perms) ? perms : NULL)) {
		const char *proto = resp_get_str(p, "ipProtocol");

		if (!proto || strcmp(proto, "-1"))
			continue;
		cJSON_ArrayForEach(r, sg_list(p, "ipRanges"))
			if (resp_get_str(r, "cidrIp") && !strcmp(resp_get_str(r, "cidrIp"), "0.0.0.0/0"))
				v4 = 1;
		cJSON_ArrayForEach(r, sg_list(p, "ipv6Ranges"))
			if (resp_get_str(r, "cidrIpv6") && !strcmp(resp_get_str(r, "cidrIpv6"), "::/0"))
				v6 = 1;
	}
	return v4 && v6;
}

int iq_group_is_empty(const cJSON *sg)
{
	return cJSON_IsObject(sg) &&
	       perms_empty(cJSON_GetObjectItemCaseSensitive(sg, "ipPermissions")) &&
	       perms_empty(cJSON_GetObjectItemCaseSensitive(sg, "ipPermissionsEgress"));
}

int iq_group_is_open(const cJSON *sg)
{
	return cJSON_IsObject(sg) &&
	       perms_open(cJSON_GetObjectItemCaseSensitive(sg, "ipPermissions")) &&
	       perms_open(cJSON_GetObjectItemCaseSensitive(sg, "ipPermissionsEgress"));
}

void iq_vpc_groups_pick(const cJSON *items, struct iq_vpc_groups *g)
{
	const cJSON *sg;

	g->quarantine = g->untrack = IQ_GRP_ABSENT;
	g->quarantine_id[0] = g->untrack_id[0] = '\0';
	cJSON_ArrayForEach(sg, (cJSON_IsArray(items) ? items : NULL)) {
		const char *name = resp_get_str(sg, "groupName"), *vpc = resp_get_str(sg, "vpcId"), *id = resp_get_str(sg, "groupId");

		if (!name || !vpc || !id || strcmp(vpc, g->vpc))
			continue;
		/* A name is all anyone needs to make a group look like ours,
		 * so the rules decide: a quarantine group with any rule is not
		 * one (and is never "fixed": it may be shared by others). */
		if (!strcmp(name, IQ_SG_QUARANTINE)) {
			g->quarantine = iq_group_is_empty(sg) ? IQ_GRP_OK : IQ_GRP_UNFIT;
			copy(g->quarantine_id, sizeof(g->quarantine_id), id);
		} else if (!strcmp(name, IQ_SG_UNTRACK)) {
			g->untrack = iq_group_is_open(sg) ? IQ_GRP_OK : IQ_GRP_UNFIT;
			copy(g->untrack_id, sizeof(g->untrack_id), id);
		}
	}
}

int iq_eni_isolated(const struct sg_eni *e, const char *qid)
{
	return qid && *qid && e->ngroups == 1 && !strcmp(e->groups[0], qid);
}

cJSON *iq_dot_mappings(const struct iq_instance *in, int value)
{
	cJSON *arr = NULL;
	size_t i;

	for (i = 0; i < in->nvol; i++) {
		cJSON *m, *ebs;

		if (!in->vol[i].delete_on_termination)
			continue;
		if (!arr && !(arr = cJSON_CreateArray()))
			return NULL;
		m = cJSON_CreateObject();
		cJSON_AddItemToArray(arr, m);
		cJSON_AddStringToObject(m, "DeviceName", in->vol[i].device);
		ebs = cJSON_AddObjectToObject(m, "Ebs");
		cJSON_AddBoolToObject(ebs, "DeleteOnTermination", value);
	}
	return arr;
}

size_t iq_snapshots_covered(const struct iq_instance *in, const cJSON *snapshots)
{
	size_t i, n = 0;
	const cJSON *s;

	for (i = 0; i < in->nvol; i++) {
		cJSON_ArrayForEach(s, (cJSON_IsArray(snapshots) ? snapshots : NULL)) {
			const char *v = resp_get_str(s, "volumeId"), *st = resp_get_str(s, "state");

			/* An error snapshot is not evidence: take another. */
			if (v && !strcmp(v, in->vol[i].volume) && (!st || strcmp(st, "error"))) {
				n++;
				break;
			}
		}
	}
	return n;
}
