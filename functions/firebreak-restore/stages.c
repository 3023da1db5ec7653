/*
 * firebreak-restore: pure decisions (firebreak_restore.h).
 */
#include "firebreak_restore.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit.h"
#include "resp.h"

static void say(char *why, size_t n, const char *msg)
{
	if (why && n)
		snprintf(why, n, "%s", msg);
}

static int id_ok(const char *s)
{
	size_t i, n = s ? strlen(s) : 0;

	if (!n || n > 255)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

int fr_parse(const cJSON *ev, struct fr_req *req, char *why, size_t whylen)
{
	const cJSON *it, *st;
	size_t i;

	memset(req, 0, sizeof(*req));
	if (!cJSON_IsObject(ev)) {
		say(why, whylen, "event is not a JSON object");
		return -1;
	}
	/* Manual only: an EventBridge envelope is not a request to undo. */
	if (cJSON_HasObjectItem(ev, "source") || cJSON_HasObjectItem(ev, "detail-type")) {
		say(why, whylen, "firebreak-restore is manual only (an EventBridge event is not a request to undo)");
		return -1;
	}
	cJSON_ArrayForEach(it, ev) {
		if (strcmp(it->string, "incident_id") && strcmp(it->string, "steps") &&
		    strcmp(it->string, "apply") && strcmp(it->string, "account") &&
		    strcmp(it->string, "region")) {
			snprintf(why, whylen, "unknown field '%.40s' (incident_id, steps, apply, account, region)",
				 it->string);
			return -1;
		}
	}
	req->incident_id = resp_get_str(ev, "incident_id");
	/* "fb-" + 16 lowercase hex digits (resp_set_incident): nothing else
	 * reaches an S3 key */
	if (!req->incident_id || strlen(req->incident_id) != 19 || strncmp(req->incident_id, "fb-", 3)) {
		say(why, whylen, "field 'incident_id' must be \"fb-\" and 16 hex digits");
		return -1;
	}
	for (i = 3; i < 19; i++)
		if (!isxdigit((unsigned char)req->incident_id[i]) || isupper((unsigned char)req->incident_id[i])) {
			say(why, whylen, "field 'incident_id' must be \"fb-\" and 16 hex digits");
			return -1;
		}
	it = cJSON_GetObjectItemCaseSensitive(ev, "apply");
	if (it && !cJSON_IsBool(it)) {
		say(why, whylen, "field 'apply' must be true or false");
		return -1;
	}
	req->apply = cJSON_IsTrue(it);
	st = cJSON_GetObjectItemCaseSensitive(ev, "steps");
	if (st && !cJSON_IsArray(st)) {
		say(why, whylen, "field 'steps' must be an array of step names");
		return -1;
	}
	cJSON_ArrayForEach(it, st) {
		if (!cJSON_IsString(it) || !id_ok(it->valuestring) || strlen(it->valuestring) > 128) {
			say(why, whylen, "field 'steps' must hold step names (strings of 1 to 128 characters)");
			return -1;
		}
		if (req->nsteps == FR_MAX_STEPS) {
			say(why, whylen, "field 'steps' names more than 64 steps");
			return -1;
		}
		req->steps[req->nsteps++] = it->valuestring;
	}
	if (st && !req->nsteps) {
		say(why, whylen, "field 'steps' is empty (leave it out to restore every step)");
		return -1;
	}
	it = cJSON_GetObjectItemCaseSensitive(ev, "account");
	if (it && (!cJSON_IsString(it) || !resp_account_id_ok(it->valuestring))) {
		say(why, whylen, "field 'account' must be a 12-digit account id");
		return -1;
	}
	req->account = it ? it->valuestring : NULL;
	it = cJSON_GetObjectItemCaseSensitive(ev, "region");
	if (it && (!cJSON_IsString(it) || !resp_region_name_ok(it->valuestring))) {
		say(why, whylen, "field 'region' must be a Region name");
		return -1;
	}
	req->region = it ? it->valuestring : NULL;
	return 0;
}

int fr_selected(const struct fr_req *req, const cJSON *entry)
{
	const char *step = resp_get_str(entry, "step"), *api = resp_get_str(entry, "api");
	size_t i;

	if (!req->nsteps)
		return 1;
	for (i = 0; i < req->nsteps; i++)
		if ((step && !strcmp(step, req->steps[i])) || (api && !strcmp(api, req->steps[i])))
			return 1;
	return 0;
}

enum fr_kind fr_kind_of(const char *api, const cJSON *args)
{
	static const struct {
		const char *api;
		enum fr_kind k;
	} t[] = {
		{ "ec2:ModifyNetworkInterfaceAttribute", FR_ENI_GROUPS },
		{ "ec2:DeleteSecurityGroup", FR_DELETE_SG },
		{ "ec2:AuthorizeSecurityGroupEgress", FR_AUTH_EGRESS },
		{ "ec2:RevokeSecurityGroupIngress", FR_REVOKE_INGRESS },
		{ "ec2:RevokeSecurityGroupEgress", FR_REVOKE_EGRESS },
		{ "ec2:ModifyInstanceAttribute", FR_TERMINATION },
		{ "ec2:StartInstances", FR_START },
		{ "autoscaling:AttachInstances", FR_ASG_ATTACH },
		{ "iam:PutRolePolicy", FR_PUT_ROLE_POLICY },
		{ "iam:DeleteRolePolicy", FR_DELETE_ROLE_POLICY },
		{ "iam:PutUserPolicy", FR_PUT_USER_POLICY },
		{ "iam:DeleteUserPolicy", FR_DELETE_USER_POLICY },
		{ "iam:UpdateAccessKey", FR_ACCESS_KEY },
		{ "iam:DetachUserPolicy", FR_DETACH_USER_POLICY },
		{ "iam:AttachUserPolicy", FR_ATTACH_USER_POLICY },
		/* forensic evidence and its retention are never undone here */
		{ "ec2:DeleteSnapshot", FR_KEPT },
		{ "ec2:UnlockSnapshot", FR_KEPT },
		/* ---- data-breach (w3-rst2) ---- */
		{ "dynamodb:PutResourcePolicy", FR_DDB_PUT_POLICY },
		{ "dynamodb:DeleteResourcePolicy", FR_DDB_DELETE_POLICY },
		/* PITR off, the incident's backup deleted, Streams off: the
		 * breach's evidence and audit trail, never undone here */
		{ "dynamodb:UpdateContinuousBackups", FR_DDB_KEPT },
		{ "dynamodb:DeleteBackup", FR_DDB_KEPT },
		{ "dynamodb:UpdateTable", FR_DDB_KEPT },
		/* ---- codeartifact-lock (w3-rst3) ---- */
		{ "codeartifact:PutDomainPermissionsPolicy", FR_CA_PUT_DOMAIN_POLICY },
		{ "codeartifact:DeleteDomainPermissionsPolicy", FR_CA_DELETE_DOMAIN_POLICY },
		{ "codeartifact:PutRepositoryPermissionsPolicy", FR_CA_PUT_REPO_POLICY },
		{ "codeartifact:DeleteRepositoryPermissionsPolicy", FR_CA_DELETE_REPO_POLICY },
		/* ---- end w3-rst3 ---- */
		/* ---- leak-rotate (w3-rst2): a rotation's undo puts the leaked
		 * value back, whoever recorded it ---- */
		{ "secretsmanager:UpdateSecretVersionStage", FR_PUBLIC_VALUE },
		/* cognito-lockdown's old client secret (w4-rst) */
		{ "cognito-idp:AddUserPoolClientSecret", FR_CG_OLD_SECRET },
	};
	/* ---- w3-rst1: kms-guard, public-lock, net-block ---- */
	static const struct {
		const char *api;
		enum fr_kind k;
	} t2[] = {
		{ "kms:DisableKey", FR_KMS_DISABLE },
		{ "kms:TagResource", FR_KMS_TAG },
		{ "kms:UntagResource", FR_KMS_UNTAG },
		{ "ec2:AuthorizeSecurityGroupIngress", FR_AUTH_INGRESS },
		{ "ec2:DeleteNetworkAclEntry", FR_NACL_DELETE },
	};
	size_t i;

	if (fr_by_design(api, args))
		return FR_BY_DESIGN;
	for (i = 0; api && i < sizeof(t2) / sizeof(t2[0]); i++)
		if (!strcmp(api, t2[i].api))
			return t2[i].k;
	/* ---- end w3-rst1 ---- */
	for (i = 0; api && i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(api, t[i].api))
			return t[i].k == FR_TERMINATION && cJSON_HasObjectItem(args, "BlockDeviceMappings")
				       ? FR_VOLUMES : t[i].k;
	return FR_UNSUPPORTED;
}

enum fr_kind fr_kind_of_entry(const cJSON *entry)
{
	const char *api = resp_get_str(entry, "api");

	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(entry, "secret_public"))) {
		if (api && !strcmp(api, "iam:UpdateAccessKey"))
			return FR_PUBLIC_KEY;
		if (api && !strncmp(api, "secretsmanager:", 15))
			return FR_PUBLIC_VALUE;
		return FR_PUBLIC_SESSION;
	}
	return fr_kind_of(api, cJSON_GetObjectItemCaseSensitive(entry, "args"));
}

/* data-breach's Deny: its Sid (DB_DENY_SID, or it with a number when a
 * look-alike held the name), Deny dynamodb:* on aws:PrincipalArn patterns */
static int ddb_is_deny(const cJSON *st)
{
	const char *sid = resp_get_str(st, "Sid"), *p;
	size_t n = strlen(FR_DDB_DENY_SID);

	if (!sid || strncmp(sid, FR_DDB_DENY_SID, n))
		return 0;
	for (p = sid + n; *p; p++)
		if (!isdigit((unsigned char)*p))
			return 0;
	return resp_get_str(st, "Effect") && !strcmp(resp_get_str(st, "Effect"), "Deny") &&
	       resp_get_str(st, "Action") && !strcmp(resp_get_str(st, "Action"), "dynamodb:*") &&
	       cJSON_IsArray(resp_get(resp_get(st, "Condition.ArnLike"), "aws:PrincipalArn"));
}

/* The document without the statements is_deny picks, as a canonical
 * {every other member, "Statement": [...]}; *had counts those taken out.
 * NULL when doc is not a JSON object, or its Statement is neither an
 * object nor a list (or, with need_statement, absent). */
static cJSON *without_deny(const char *doc, int (*is_deny)(const cJSON *), int need_statement, int *had)
{
	cJSON *j = doc ? cJSON_Parse(doc) : NULL, *st, *keep, *out;
	const cJSON *v;
	int n = 0;

	if (had)
		*had = 0;
	st = cJSON_GetObjectItemCaseSensitive(j, "Statement");
	if (!cJSON_IsObject(j) || (st && !cJSON_IsObject(st) && !cJSON_IsArray(st)) || (!st && need_statement)) {
		cJSON_Delete(j);
		return NULL;
	}
	keep = cJSON_CreateArray();
	out = cJSON_CreateObject();
	if (cJSON_IsObject(st)) {
		if (is_deny(st))
			n++;
		else
			cJSON_AddItemToArray(keep, cJSON_Duplicate(st, 1));
	} else {
		cJSON_ArrayForEach(v, st) {
			if (is_deny(v))
				n++;
			else
				cJSON_AddItemToArray(keep, cJSON_Duplicate(v, 1));
		}
	}
	/* every other member as it is (Version, Id) */
	cJSON_ArrayForEach(v, j)
		if (strcmp(v->string, "Statement"))
			cJSON_AddItemToObject(out, v->string, cJSON_Duplicate(v, 1));
	cJSON_AddItemToObject(out, "Statement", keep);
	cJSON_Delete(j);
	if (had)
		*had = n;
	return out;
}

cJSON *fr_ddb_without_deny(const char *doc)
{
	return without_deny(doc, ddb_is_deny, 1, NULL);
}

/* ---- codeartifact-lock (w3-rst3) ---- */
/* ca_deny_statement's exact shape: any other member, or another value, is
 * not firebreak's (someone edited it: the policy changed since). */
static int ca_is_deny(const cJSON *st)
{
	const char *sid = resp_get_str(st, "Sid"), *p;
	const cJSON *m;
	size_t n = strlen(FR_CA_DENY_SID), nh = 0, nm = 0;

	if (!sid || strncmp(sid, FR_CA_DENY_SID, n))
		return 0;
	for (p = sid + n; *p; p++, nh++)
		if (!isdigit((unsigned char)*p) && !(*p >= 'a' && *p <= 'f'))
			return 0;
	cJSON_ArrayForEach(m, st)
		nm++;
	return nh == 16 && nm == 5 && resp_get_str(st, "Effect") && !strcmp(resp_get_str(st, "Effect"), "Deny") &&
	       resp_get_str(st, "Action") && !strcmp(resp_get_str(st, "Action"), "codeartifact:*") &&
	       resp_get_str(st, "Resource") && !strcmp(resp_get_str(st, "Resource"), "*") &&
	       cJSON_IsObject(resp_get(st, "Principal")) && cJSON_GetArraySize(resp_get(st, "Principal")) == 1 &&
	       resp_get_str(st, "Principal.AWS");
}

cJSON *fr_ca_without_deny(const char *doc, int *had)
{
	return without_deny(doc, ca_is_deny, 0, had);
}
/* ---- end w3-rst3 ---- */

const char *fr_decision_name(enum fr_decision d)
{
	switch (d) {
	case FR_APPLY: return "apply";
	case FR_ALREADY: return "already";
	case FR_CHANGED: return "changed";
	case FR_SKIP: return "skipped";
	case FR_REFUSED: return "refused";
	}
	return "?";
}

static const char *arg_str(const cJSON *args, const char *name)
{
	const char *v = resp_get_str(args, name);

	return id_ok(v) ? v : NULL;
}

static int copy_str(cJSON *dst, const cJSON *args, const char *from, const char *to)
{
	const char *v = arg_str(args, from);

	return v && cJSON_AddStringToObject(dst, to, v) != NULL;
}

/* IpPermissions, botocore -> wire: UserIdGroupPairs is "Groups" on the
 * wire (runtime/README.md); the other members keep their names. */
static cJSON *perms_wire(const cJSON *perms)
{
	const cJSON *p, *m;
	cJSON *out = cJSON_CreateArray();

	if (!cJSON_IsArray(perms) || !cJSON_GetArraySize(perms) || cJSON_GetArraySize(perms) > 100) {
		cJSON_Delete(out);
		return NULL;
	}
	cJSON_ArrayForEach(p, perms) {
		cJSON *w = cJSON_CreateObject();

		if (!cJSON_IsObject(p)) {
			cJSON_Delete(w);
			cJSON_Delete(out);
			return NULL;
		}
		cJSON_ArrayForEach(m, p) {
			const char *name = !strcmp(m->string, "UserIdGroupPairs") ? "Groups" : m->string;

			if (strcmp(m->string, "IpProtocol") && strcmp(m->string, "FromPort") &&
			    strcmp(m->string, "ToPort") && strcmp(m->string, "IpRanges") &&
			    strcmp(m->string, "Ipv6Ranges") && strcmp(m->string, "PrefixListIds") &&
			    strcmp(m->string, "UserIdGroupPairs"))
				continue;   /* botocore's IpPermission has no other member */
			cJSON_AddItemToObject(w, name, cJSON_Duplicate(m, 1));
		}
		cJSON_AddItemToArray(out, w);
	}
	return out;
}

static cJSON *one_id_list(const cJSON *args, const char *name, const char **id)
{
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(args, name);
	cJSON *out;

	/* one instance per entry: what the responders write */
	if (!cJSON_IsArray(l) || cJSON_GetArraySize(l) != 1 || !cJSON_IsString(l->child) ||
	    !id_ok(l->child->valuestring))
		return NULL;
	*id = l->child->valuestring;
	out = cJSON_CreateArray();
	cJSON_AddItemToArray(out, cJSON_CreateString(*id));
	return out;
}

int fr_checked(enum fr_kind k)
{
	switch (k) {
	case FR_UNSUPPORTED:
	case FR_KEPT:
	case FR_DDB_KEPT:
	case FR_PUBLIC_KEY:
	case FR_PUBLIC_VALUE:
	case FR_PUBLIC_SESSION:
	case FR_BY_DESIGN:
		return 0;
	default:   /* the one list of them: a new kind is checked, and without a read in
		    * main.c's check_add its entries are skipped, never applied */
		return 1;
	}
}

cJSON *fr_wire(enum fr_kind k, const cJSON *args, const char *sg_id, char *why, size_t whylen)
{
	cJSON *in = cJSON_CreateObject(), *l;
	const cJSON *g, *v;
	const char *id;
	int ok = 1;

	if (!in)
		return NULL;
	if (!cJSON_IsObject(args))
		goto bad;
	switch (k) {
	case FR_ENI_GROUPS:
		ok = copy_str(in, args, "NetworkInterfaceId", "NetworkInterfaceId");
		g = cJSON_GetObjectItemCaseSensitive(args, "Groups");
		if (!ok || !cJSON_IsArray(g) || !cJSON_GetArraySize(g) || cJSON_GetArraySize(g) > 16)
			goto bad;
		l = cJSON_AddArrayToObject(in, "SecurityGroupId");
		cJSON_ArrayForEach(v, g) {
			if (!cJSON_IsString(v) || !id_ok(v->valuestring))
				goto bad;
			cJSON_AddItemToArray(l, cJSON_CreateString(v->valuestring));
		}
		break;
	case FR_DELETE_SG:
		if (!id_ok(sg_id))
			goto bad;
		cJSON_AddStringToObject(in, "GroupId", sg_id);
		break;
	case FR_AUTH_EGRESS:
	case FR_REVOKE_INGRESS:
	case FR_REVOKE_EGRESS:
	case FR_AUTH_INGRESS:   /* w3-rst1: net-block's revoked rule */
		l = perms_wire(cJSON_GetObjectItemCaseSensitive(args, "IpPermissions"));
		if (!copy_str(in, args, "GroupId", "GroupId") || !l) {
			cJSON_Delete(l);
			goto bad;
		}
		cJSON_AddItemToObject(in, "IpPermissions", l);
		break;
	case FR_TERMINATION:
		v = resp_get(args, "DisableApiTermination.Value");
		if (!copy_str(in, args, "InstanceId", "InstanceId") || !cJSON_IsBool(v) ||
		    cJSON_GetArraySize(args) != 2)
			goto bad;   /* only the termination flag: other attributes are not this kind's */
		cJSON_AddBoolToObject(cJSON_AddObjectToObject(in, "DisableApiTermination"), "Value",
				      cJSON_IsTrue(v));
		break;
	case FR_START:
		l = one_id_list(args, "InstanceIds", &id);
		if (!l)
			goto bad;
		cJSON_AddItemToObject(in, "InstanceId", l);   /* EC2 query: InstanceId.N */
		break;
	case FR_ASG_ATTACH:
		l = one_id_list(args, "InstanceIds", &id);
		if (!l || !copy_str(in, args, "AutoScalingGroupName", "AutoScalingGroupName")) {
			cJSON_Delete(l);
			goto bad;
		}
		cJSON_AddItemToObject(in, "InstanceIds", l);
		break;
	case FR_PUT_ROLE_POLICY:
	case FR_PUT_USER_POLICY:
		v = cJSON_GetObjectItemCaseSensitive(args, "PolicyDocument");
		if (!copy_str(in, args, k == FR_PUT_ROLE_POLICY ? "RoleName" : "UserName",
			      k == FR_PUT_ROLE_POLICY ? "RoleName" : "UserName") ||
		    !copy_str(in, args, "PolicyName", "PolicyName") || !cJSON_IsString(v) ||
		    strlen(v->valuestring) > 20480)
			goto bad;
		cJSON_AddStringToObject(in, "PolicyDocument", v->valuestring);
		break;
	case FR_DELETE_ROLE_POLICY:
	case FR_DELETE_USER_POLICY:
		if (!copy_str(in, args, k == FR_DELETE_ROLE_POLICY ? "RoleName" : "UserName",
			      k == FR_DELETE_ROLE_POLICY ? "RoleName" : "UserName") ||
		    !copy_str(in, args, "PolicyName", "PolicyName"))
			goto bad;
		break;
	case FR_ACCESS_KEY:
		id = arg_str(args, "Status");
		if (!copy_str(in, args, "UserName", "UserName") ||
		    !copy_str(in, args, "AccessKeyId", "AccessKeyId") || !id ||
		    (strcmp(id, "Active") && strcmp(id, "Inactive")))
			goto bad;
		cJSON_AddStringToObject(in, "Status", id);
		break;
	case FR_DETACH_USER_POLICY:
	case FR_ATTACH_USER_POLICY:
		if (!copy_str(in, args, "UserName", "UserName") || !copy_str(in, args, "PolicyArn", "PolicyArn"))
			goto bad;
		break;
	case FR_VOLUMES:
		g = cJSON_GetObjectItemCaseSensitive(args, "BlockDeviceMappings");
		if (!copy_str(in, args, "InstanceId", "InstanceId") || !cJSON_IsArray(g) || !cJSON_GetArraySize(g) ||
		    cJSON_GetArraySize(g) > 32 || cJSON_GetArraySize(args) != 2)
			goto bad;
		/* wire: blockDeviceMapping's capitalised locationName; members as botocore's */
		l = cJSON_AddArrayToObject(in, "BlockDeviceMapping");
		cJSON_ArrayForEach(v, g) {
			const cJSON *dot = resp_get(v, "Ebs.DeleteOnTermination");
			cJSON *m;

			if (!arg_str(v, "DeviceName") || !cJSON_IsBool(dot))
				goto bad;
			m = cJSON_CreateObject();
			cJSON_AddStringToObject(m, "DeviceName", arg_str(v, "DeviceName"));
			cJSON_AddBoolToObject(cJSON_AddObjectToObject(m, "Ebs"), "DeleteOnTermination", cJSON_IsTrue(dot));
			cJSON_AddItemToArray(l, m);
		}
		break;
	/* ---- w3-rst1 ---- */
	case FR_KMS_DISABLE:
		if (!copy_str(in, args, "KeyId", "KeyId"))
			goto bad;
		break;
	case FR_KMS_TAG:
		v = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(args, "Tags"), 0);
		if (!copy_str(in, args, "KeyId", "KeyId") || cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(args, "Tags")) != 1 ||
		    !arg_str(v, "TagKey") || strcmp(arg_str(v, "TagKey"), FR_INCIDENT_TAG) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(v, "TagValue")))
			goto bad;
		l = cJSON_AddArrayToObject(in, "Tags");
		cJSON_AddItemToArray(l, cJSON_Duplicate(v, 1));
		break;
	case FR_KMS_UNTAG:
		g = cJSON_GetObjectItemCaseSensitive(args, "TagKeys");
		if (!copy_str(in, args, "KeyId", "KeyId") || cJSON_GetArraySize(g) != 1 || !cJSON_IsString(g->child) ||
		    strcmp(g->child->valuestring, FR_INCIDENT_TAG))
			goto bad;
		cJSON_AddItemToObject(in, "TagKeys", cJSON_Duplicate(g, 1));
		break;
	case FR_NACL_DELETE:
		v = cJSON_GetObjectItemCaseSensitive(args, "RuleNumber");
		g = cJSON_GetObjectItemCaseSensitive(args, "Egress");
		if (!copy_str(in, args, "NetworkAclId", "NetworkAclId") || !cJSON_IsNumber(v) || v->valueint < 1 ||
		    v->valueint > 32766 || !cJSON_IsBool(g))
			goto bad;
		cJSON_AddNumberToObject(in, "RuleNumber", v->valueint);
		cJSON_AddBoolToObject(in, "Egress", cJSON_IsTrue(g));
		break;
	/* ---- end w3-rst1 ---- */
	case FR_DDB_PUT_POLICY:
		v = cJSON_GetObjectItemCaseSensitive(args, "Policy");
		if (!copy_str(in, args, "ResourceArn", "ResourceArn") || !cJSON_IsString(v) ||
		    strlen(v->valuestring) > 20480)
			goto bad;
		cJSON_AddStringToObject(in, "Policy", v->valuestring);
		break;
	case FR_DDB_DELETE_POLICY:
		if (!copy_str(in, args, "ResourceArn", "ResourceArn"))
			goto bad;
		break;
	/* ---- codeartifact-lock (w3-rst3) ---- */
	case FR_CA_PUT_DOMAIN_POLICY:
	case FR_CA_DELETE_DOMAIN_POLICY:
	case FR_CA_PUT_REPO_POLICY:
	case FR_CA_DELETE_REPO_POLICY: {
		int repo = k == FR_CA_PUT_REPO_POLICY || k == FR_CA_DELETE_REPO_POLICY;
		int put = k == FR_CA_PUT_DOMAIN_POLICY || k == FR_CA_PUT_REPO_POLICY;

		v = cJSON_GetObjectItemCaseSensitive(args, "policyDocument");
		if (!copy_str(in, args, "domain", "domain") || !copy_str(in, args, "domainOwner", "domainOwner") ||
		    (repo && !copy_str(in, args, "repository", "repository")) ||
		    (put && (!cJSON_IsString(v) || strlen(v->valuestring) > 5120)))
			goto bad;
		if (put)
			cJSON_AddStringToObject(in, "policyDocument", v->valuestring);
		break;
	}
	/* ---- end w3-rst3 ---- */
	case FR_CG_OLD_SECRET:   /* the check's input only: never called */
		if (!copy_str(in, args, "UserPoolId", "UserPoolId") || !copy_str(in, args, "ClientId", "ClientId") ||
		    !arg_str(args, "ClientSecretId"))
			goto bad;
		break;
	default:   /* not fr_checked: no input */
		goto bad;
	}
	return in;
bad:
	cJSON_Delete(in);
	say(why, whylen, "the entry's args are not the inverse call's input (botocore names, one target)");
	return NULL;
}

int fr_same_doc(const char *a, const char *b)
{
	char *da, *db;
	cJSON *ja, *jb;
	int same;

	if (!a || !b)
		return 0;
	da = strdup(a);
	db = strdup(b);
	if (!da || !db) {
		free(da);
		free(db);
		return 0;
	}
	kit_url_decode(da);
	kit_url_decode(db);
	ja = cJSON_Parse(da);
	jb = cJSON_Parse(db);
	same = ja && jb && cJSON_Compare(ja, jb, 1);
	cJSON_Delete(ja);
	cJSON_Delete(jb);
	free(da);
	free(db);
	return same;
}

int fr_firebreak_policy(const char *name, const char *doc)
{
	char *d;
	int yes = 0;

	if (!name || !doc)
		return 0;
	d = strdup(doc);
	if (!d)
		return 0;
	kit_url_decode(d);
	if (!strcmp(name, FR_REVOKE_POLICY)) {
		/* exactly what kit_revoke_sessions writes (its document for its
		 * own cut, JSON-equal): a statement added since, or a
		 * revocation written another way (the console's), is someone
		 * else's change (w4-rst) */
		int64_t cut = kit_revocation_cut_ms(d);
		char *ours = cut > 0 ? kit_revocation_policy(cut) : NULL;

		yes = ours && fr_same_doc(d, ours);
		free(ours);
	}
	else if (!strcmp(name, FR_QUARANTINE_POLICY)) {
		/* iam-contain's deny-all: one Deny * on * statement */
		cJSON *j = cJSON_Parse(d), *st;

		st = j ? cJSON_GetObjectItemCaseSensitive(j, "Statement") : NULL;
		if (cJSON_IsArray(st) && cJSON_GetArraySize(st) == 1)
			st = st->child;
		yes = cJSON_IsObject(st) && !strcmp(resp_get_str(st, "Effect") ? resp_get_str(st, "Effect") : "", "Deny") &&
		      resp_get_str(st, "Action") && !strcmp(resp_get_str(st, "Action"), "*") &&
		      resp_get_str(st, "Resource") && !strcmp(resp_get_str(st, "Resource"), "*");
		cJSON_Delete(j);
	}
	free(d);
	return yes;
}

static int created(const struct fr_state *s, const char *id, const char *name)
{
	size_t i;

	for (i = 0; i < s->ncreated; i++)
		if ((id && !strcmp(s->created[i], id)) || (name && !strcmp(s->created[i], name)))
			return 1;
	return 0;
}

/* An EC2 list answer's first item: kit_out(...)[name][0]. */
static const cJSON *first(const cJSON *answer, const char *name)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(answer, name), 0);
}

#define DECIDE(d, ...)                                 \
	do {                                           \
		snprintf(why, whylen, __VA_ARGS__);    \
		return (d);                            \
	} while (0)

enum fr_decision fr_decide(enum fr_kind k, const cJSON *args, const struct fr_state *s,
			   char *why, size_t whylen)
{
	const cJSON *a = s->answer, *it, *g;
	const char *v, *want;
	size_t n = 0, mine = 0, same = 0;

	switch (k) {
	case FR_UNSUPPORTED:
		DECIDE(FR_SKIP, "no precondition check for this call here: apply it by hand if it is still right");
	case FR_KEPT:
		DECIDE(FR_SKIP, "evidence is kept: firebreak-restore never deletes or unlocks it (by hand, "
		       "after the investigation)");
	/* ---- w3-rst1: kms-guard, public-lock, net-block ---- */
	case FR_BY_DESIGN:
		DECIDE(FR_REFUSED, "not restored by design (fr_by_design says why): it stays contained");
	case FR_KMS_DISABLE:
		v = resp_get_str(a, "KeyMetadata.KeyState");
		if (!s->found || !v)
			DECIDE(FR_CHANGED, "the key is gone");
		if (!strcmp(v, "Disabled"))
			DECIDE(FR_ALREADY, "the key is Disabled");
		if (!strcmp(v, "Enabled"))
			DECIDE(FR_APPLY, "the key is still Enabled as the containment left it");
		DECIDE(FR_CHANGED, "the key is %s now: not touched", v);
	case FR_KMS_TAG:
	case FR_KMS_UNTAG:
		/* only the incident tag, and only while it still names this incident */
		v = NULL;
		if (!s->found)
			DECIDE(FR_CHANGED, "the key is gone");
		cJSON_ArrayForEach(it, resp_get(a, "Tags"))
			if (resp_get_str(it, "TagKey") && !strcmp(resp_get_str(it, "TagKey"), FR_INCIDENT_TAG))
				v = resp_get_str(it, "TagValue");
		want = k == FR_KMS_TAG ? resp_get_str(cJSON_GetArrayItem(resp_get(args, "Tags"), 0), "TagValue") : NULL;
		if ((!v && !want) || (v && want && !strcmp(v, want)))
			DECIDE(FR_ALREADY, "the key's %s tag is already as it was", FR_INCIDENT_TAG);
		if (v && s->incident_id && !strcmp(v, s->incident_id))
			DECIDE(FR_APPLY, "the key's %s tag still names this incident", FR_INCIDENT_TAG);
		DECIDE(FR_CHANGED, "the key's %s tag names another incident now: not touched", FR_INCIDENT_TAG);
	case FR_AUTH_INGRESS:
		if (!s->found || !first(a, "securityGroupInfo"))
			DECIDE(FR_CHANGED, "the group is gone");
		DECIDE(FR_APPLY, "the group is there (a rule already present answers as already)");
	case FR_NACL_DELETE: {
		const cJSON *rn = cJSON_GetObjectItemCaseSensitive(args, "RuleNumber");
		char num[16];

		if (!s->found || !first(a, "networkAclSet"))
			DECIDE(FR_ALREADY, "the network ACL is gone");
		snprintf(num, sizeof(num), "%d", cJSON_IsNumber(rn) ? rn->valueint : -1);
		cJSON_ArrayForEach(it, resp_get(first(a, "networkAclSet"), "entrySet")) {
			if (!resp_get_str(it, "ruleNumber") || strcmp(resp_get_str(it, "ruleNumber"), num) ||
			    !resp_get_str(it, "egress") ||
			    strcmp(resp_get_str(it, "egress"), cJSON_IsTrue(resp_get(args, "Egress")) ? "true" : "false"))
				continue;
			v = resp_get_str(it, "ruleAction");
			if (v && !strcmp(v, "deny"))
				DECIDE(FR_APPLY, "rule %s is still a deny", num);
			DECIDE(FR_CHANGED, "rule %s is not a deny now: not touched", num);
		}
		DECIDE(FR_ALREADY, "rule %s is gone", num);
	}
	/* ---- end w3-rst1 ---- */
	case FR_ENI_GROUPS: {
		const cJSON *want_g = cJSON_GetObjectItemCaseSensitive(args, "Groups");
		const cJSON *eni = first(a, "networkInterfaceSet");

		if (!s->found || !eni)
			DECIDE(FR_CHANGED, "the interface is gone");
		cJSON_ArrayForEach(g, resp_get(eni, "groupSet")) {
			v = resp_get_str(g, "groupId");
			n++;
			mine += created(s, v, resp_get_str(g, "groupName"));
			cJSON_ArrayForEach(it, want_g)
				same += cJSON_IsString(it) && v && !strcmp(it->valuestring, v);
		}
		if (n && same == n && n == (size_t)cJSON_GetArraySize(want_g))
			DECIDE(FR_ALREADY, "the interface has its own groups again");
		if (n && mine == n)
			DECIDE(FR_APPLY, "the interface is still on the quarantine group only");
		DECIDE(FR_CHANGED, "the interface's groups were changed since (not only this incident's "
		       "quarantine group): not touched");
	}
	case FR_DELETE_SG:
		if (!s->found || !first(a, "securityGroupInfo"))
			DECIDE(FR_ALREADY, "the group is gone");
		DECIDE(FR_APPLY, "the group this incident created is still there");
	case FR_AUTH_EGRESS:
		if (!s->found || !first(a, "securityGroupInfo"))
			DECIDE(FR_CHANGED, "the group is gone");
		DECIDE(FR_APPLY, "the group is there (rules already present answer as already)");
	case FR_REVOKE_INGRESS:
	case FR_REVOKE_EGRESS:
		if (!s->found || !first(a, "securityGroupInfo"))
			DECIDE(FR_ALREADY, "the group is gone");
		DECIDE(FR_APPLY, "the group is there (rules already gone answer as already)");
	case FR_TERMINATION: {
		const cJSON *want_v = resp_get(args, "DisableApiTermination.Value");

		v = resp_get_str(a, "disableApiTermination.value");
		if (!s->found || !v)
			DECIDE(FR_CHANGED, "the instance is gone");
		if (!strcmp(v, cJSON_IsTrue(want_v) ? "true" : "false"))
			DECIDE(FR_ALREADY, "termination protection is already %s", v);
		if (!strcmp(v, "true") && cJSON_IsFalse(want_v))
			DECIDE(FR_APPLY, "termination protection is still on");
		DECIDE(FR_CHANGED, "termination protection was changed since");
	}
	case FR_START: {
		const cJSON *inst = first(first(a, "reservationSet"), "instancesSet");

		v = resp_get_str(inst, "instanceState.name");
		if (!s->found || !v)
			DECIDE(FR_CHANGED, "the instance is gone");
		if (!strcmp(v, "running") || !strcmp(v, "pending"))
			DECIDE(FR_ALREADY, "the instance is %s", v);
		if (!strcmp(v, "stopped"))
			DECIDE(FR_APPLY, "the instance is still stopped");
		DECIDE(FR_CHANGED, "the instance is %s", v);
	}
	case FR_ASG_ATTACH:
		want = resp_get_str(args, "AutoScalingGroupName");
		v = resp_get_str(first(a, "AutoScalingInstances"), "AutoScalingGroupName");
		if (!v)
			DECIDE(FR_APPLY, "the instance is in no Auto Scaling group");
		if (want && !strcmp(v, want))
			DECIDE(FR_ALREADY, "the instance is in %s", v);
		DECIDE(FR_CHANGED, "the instance is in another group (%s) now", v);
	case FR_PUT_ROLE_POLICY:
	case FR_PUT_USER_POLICY: {
		const char *name = resp_get_str(args, "PolicyName");

		v = resp_get_str(a, "PolicyDocument");
		if (!s->found || !v)
			DECIDE(FR_APPLY, "the policy is not there");
		if (fr_same_doc(v, resp_get_str(args, "PolicyDocument")))
			DECIDE(FR_ALREADY, "the policy is already the one to put back");
		if (fr_firebreak_policy(name, v))
			DECIDE(FR_APPLY, "the policy is still firebreak's");
		DECIDE(FR_CHANGED, "the policy was changed since by someone else: not touched");
	}
	case FR_DELETE_ROLE_POLICY:
	case FR_DELETE_USER_POLICY:
		v = resp_get_str(a, "PolicyDocument");
		if (!s->found || !v)
			DECIDE(FR_ALREADY, "the policy is gone");
		if (fr_firebreak_policy(resp_get_str(args, "PolicyName"), v))
			DECIDE(FR_APPLY, "the policy is still firebreak's");
		DECIDE(FR_CHANGED, "the policy is not firebreak's any more (changed since): not touched");
	case FR_ACCESS_KEY:
		want = resp_get_str(args, "AccessKeyId");
		cJSON_ArrayForEach(it, a) {
			if (want && resp_get_str(it, "AccessKeyId") && !strcmp(resp_get_str(it, "AccessKeyId"), want)) {
				v = resp_get_str(it, "Status");
				if (v && resp_get_str(args, "Status") && !strcmp(v, resp_get_str(args, "Status")))
					DECIDE(FR_ALREADY, "the key is already %s", v);
				if (v && !strcmp(v, "Inactive"))
					DECIDE(FR_APPLY, "the key is still Inactive");
				DECIDE(FR_CHANGED, "the key's status was changed since");
			}
		}
		DECIDE(FR_CHANGED, "the key is gone");
	case FR_DETACH_USER_POLICY:
	case FR_ATTACH_USER_POLICY:
		want = resp_get_str(args, "PolicyArn");
		if (!s->found)
			DECIDE(FR_CHANGED, "the user is gone");
		cJSON_ArrayForEach(it, a) {
			if (want && resp_get_str(it, "PolicyArn") && !strcmp(resp_get_str(it, "PolicyArn"), want)) {
				if (k == FR_ATTACH_USER_POLICY)
					DECIDE(FR_ALREADY, "the policy is attached");
				DECIDE(FR_APPLY, "the policy is still attached");
			}
		}
		if (k == FR_ATTACH_USER_POLICY)
			DECIDE(FR_APPLY, "the policy is still detached");
		DECIDE(FR_ALREADY, "the policy is not attached");
	case FR_DDB_KEPT:
		DECIDE(FR_SKIP, "evidence is kept: point-in-time recovery, the incident's backup and Streams "
		       "are the breach's record; turn them off or delete the backup by hand after the "
		       "investigation");
	case FR_PUBLIC_KEY:
		DECIDE(FR_REFUSED, "needs a human: the key's secret is public (re-activating it would make the "
		       "incident worse): the key stays Inactive; give its user a new key");
	case FR_PUBLIC_VALUE:
		DECIDE(FR_REFUSED, "no undo: the old value is public (moving AWSCURRENT back would put the leaked "
		       "value back in use); fix a broken rotation forward, by hand");
	case FR_PUBLIC_SESSION:
		DECIDE(FR_REFUSED, "needs a human: the credentials this contained are public (undoing it would "
		       "make them usable again)");
	/* ---- codeartifact-lock (w3-rst3) ---- */
	case FR_CA_PUT_DOMAIN_POLICY:
	case FR_CA_DELETE_DOMAIN_POLICY:
	case FR_CA_PUT_REPO_POLICY:
	case FR_CA_DELETE_REPO_POLICY: {
		/* as codeartifact-lock left it: exactly the prior document (or
		 * none) plus its Deny, nothing else; the write carries the
		 * revision read here, so a change between this read and the
		 * write is refused by CodeArtifact (ConflictException) */
		int put = k == FR_CA_PUT_DOMAIN_POLICY || k == FR_CA_PUT_REPO_POLICY;
		const char *cur = resp_get_str(a, "policy.document"), *prior = resp_get_str(args, "policyDocument");
		cJSON *now, *was = NULL;
		int eq, had = 0, had_prior = 0;

		if (!s->found || !cur) {
			if (!put)
				DECIDE(FR_ALREADY, "there is no permissions policy");
			DECIDE(FR_CHANGED, "the permissions policy was deleted since: not touched");
		}
		if (!resp_get_str(a, "policy.revision"))
			DECIDE(FR_CHANGED, "the policy was read without its revision: not touched");
		if (put && fr_same_doc(cur, prior))
			DECIDE(FR_ALREADY, "the permissions policy is already the prior one");
		now = fr_ca_without_deny(cur, &had);
		if (put)
			was = fr_ca_without_deny(prior, &had_prior);
		else
			was = cJSON_Parse("{\"Statement\": []}");
		/* "Version" is the merge's when there was no policy */
		if (now && !put)
			cJSON_DeleteItemFromObjectCaseSensitive(now, "Version");
		/* prior plus one Deny: the Deny must be there (had > had_prior) */
		eq = now && was && had > had_prior && cJSON_Compare(now, was, 1);
		cJSON_Delete(now);
		cJSON_Delete(was);
		if (eq)
			DECIDE(FR_APPLY, put ? "the policy is still the prior one with firebreak's Deny added"
					     : "the policy is still firebreak's Deny only");
		DECIDE(FR_CHANGED, "the permissions policy was changed since (other than firebreak's Deny): "
		       "not touched");
	}
	/* ---- end w3-rst3 ---- */
	case FR_CG_OLD_SECRET:
		/* cognito-lockdown's old client secret: never re-added (its
		 * value is not recorded, and it may be the leaked one); what
		 * happened to it is said */
		want = resp_get_str(args, "ClientSecretId");
		cJSON_ArrayForEach(it, resp_get(a, "ClientSecrets"))
			if (want && resp_get_str(it, "ClientSecretId") && !strcmp(resp_get_str(it, "ClientSecretId"), want))
				DECIDE(FR_ALREADY, "the old secret %.60s still exists: the rotation stopped before deleting "
				       "it (nothing to put back; it is still valid: a retry of the incident finishes it)", want);
		DECIDE(FR_REFUSED, "not restored by design: the old secret is deleted; not restorable (its value is "
		       "never recorded, and re-adding a possibly leaked secret would make the incident worse): the "
		       "consumers run with the new one");
	case FR_DDB_PUT_POLICY:
	case FR_DDB_DELETE_POLICY: {
		/* as the containment left it: the prior document (or none) plus
		 * data-breach's Deny, nothing else; the call carries the
		 * RevisionId read here, so a change between this read and the
		 * write is refused by DynamoDB */
		const char *cur = resp_get_str(a, "Policy");
		cJSON *now, *was = NULL;
		int eq;

		if (!s->found || !cur) {
			if (k == FR_DDB_DELETE_POLICY)
				DECIDE(FR_ALREADY, "the table has no resource policy");
			DECIDE(FR_CHANGED, "the table's resource policy was deleted since: not touched");
		}
		if (!resp_get_str(a, "RevisionId"))
			DECIDE(FR_CHANGED, "the policy was read without its RevisionId: not touched");
		if (k == FR_DDB_PUT_POLICY && fr_same_doc(cur, resp_get_str(args, "Policy")))
			DECIDE(FR_ALREADY, "the table's policy is already the prior one");
		now = fr_ddb_without_deny(cur);
		if (k == FR_DDB_PUT_POLICY)
			was = fr_ddb_without_deny(resp_get_str(args, "Policy"));
		else
			was = cJSON_Parse("{\"Statement\": []}");
		/* "Version" is added by the merge when the table had none */
		if (now && k == FR_DDB_DELETE_POLICY)
			cJSON_DeleteItemFromObjectCaseSensitive(now, "Version");
		eq = now && was && cJSON_Compare(now, was, 1);
		cJSON_Delete(now);
		cJSON_Delete(was);
		if (eq)
			DECIDE(FR_APPLY, "the policy is still the prior one with firebreak's Deny added");
		DECIDE(FR_CHANGED, "the table's policy was changed since (other than firebreak's Deny): not touched");
	}
	case FR_VOLUMES: {
		/* each device named: as the undo wants (already), still kept
		 * (DeleteOnTermination false, as the containment left it), or other */
		const cJSON *want_m = cJSON_GetObjectItemCaseSensitive(args, "BlockDeviceMappings");
		size_t nwant = 0, nsame = 0, nkept = 0;

		if (!s->found)
			DECIDE(FR_CHANGED, "the instance is gone");
		cJSON_ArrayForEach(it, want_m) {
			const char *dev = resp_get_str(it, "DeviceName");
			int wantv = cJSON_IsTrue(resp_get(it, "Ebs.DeleteOnTermination"));

			nwant++;
			cJSON_ArrayForEach(g, resp_get(a, "blockDeviceMapping")) {
				const char *d = resp_get_str(g, "deviceName"), *dv = resp_get_str(g, "ebs.deleteOnTermination");

				if (dev && d && dv && !strcmp(dev, d)) {
					nsame += !strcmp(dv, wantv ? "true" : "false");
					nkept += !strcmp(dv, "false");
				}
			}
		}
		if (nwant && nsame == nwant)
			DECIDE(FR_ALREADY, "the volumes' DeleteOnTermination is already as it was");
		if (nwant && nkept == nwant)
			DECIDE(FR_APPLY, "the volumes are still kept on termination");
		DECIDE(FR_CHANGED, "the volumes' settings were changed since");
	}
	}
	DECIDE(FR_SKIP, "unknown");
}

/* ---- w3-rst1: kms-guard, public-lock, net-block ---------------------------------------------- */

const char *fr_by_design(const char *api, const cJSON *args)
{
	const cJSON *l;

	if (!api)
		return NULL;
	if (!strcmp(api, "kms:ScheduleKeyDeletion"))
		return "a key deletion is never scheduled again here (it destroys the key's data when the window "
		       "ends; the deletion was the incident): schedule it by hand if it was legitimate";
	if (!strcmp(api, "s3:PutPublicAccessBlock") || !strcmp(api, "s3:DeletePublicAccessBlock") ||
	    !strcmp(api, "s3control:PutPublicAccessBlock") || !strcmp(api, "s3control:DeletePublicAccessBlock"))
		return "a bucket's (or account's) Block Public Access is never lifted here (it would make data "
		       "public again): lift it by hand, with public-lock's exemption tag, if the exposure is intended";
	if (!strcmp(api, "lambda:Invoke net-block"))   /* net-block's IP set entries: its manual form */
		return "the WAF IP set is shared by every incident (another may block the same address): "
		       "unblock it by hand with net-block's manual form (restore[] has the invoke)";
	/* ---- cognito-lockdown (w4-rst) ---- */
	if (!strcmp(api, "cognito-idp:DeleteUserPoolClientSecret"))
		return "the new client secret is what the consumers were given: deleting it breaks them and, while "
		       "the old one exists, puts the application back on the possibly leaked secret; delete it by "
		       "hand only once nothing uses it";
	if (!strcmp(api, "cognito-idp:AdminUserGlobalSignOut"))
		return "a global sign-out has no inverse (the refresh tokens revoked stay revoked): the users sign in "
		       "again";
	if (!strcmp(api, "ec2:CreateNetworkAclEntry"))
		return "a deny entry is put back by net-block (its block form picks a free rule number), "
		       "not here";
	/* kms-guard's revert-tag: the undo would put back an attacker's firebreak:* tag change */
	if (!strcmp(api, "kms:TagResource")) {
		l = cJSON_GetObjectItemCaseSensitive(args, "Tags");
		if (cJSON_GetArraySize(l) != 1 || !resp_get_str(l->child, "TagKey") ||
		    strcmp(resp_get_str(l->child, "TagKey"), FR_INCIDENT_TAG))
			return "a firebreak:* tag kms-guard reverted is never put back here (it would restore an "
			       "untrusted change of a control): by hand";
	}
	if (!strcmp(api, "kms:UntagResource")) {
		l = cJSON_GetObjectItemCaseSensitive(args, "TagKeys");
		if (cJSON_GetArraySize(l) != 1 || !cJSON_IsString(l->child) ||
		    strcmp(l->child->valuestring, FR_INCIDENT_TAG))
			return "a firebreak:* tag kms-guard reverted is never removed here (it would restore an "
			       "untrusted change of a control): by hand";
	}
	return NULL;
}
