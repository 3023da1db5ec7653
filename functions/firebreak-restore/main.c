/*
 * firebreak-restore: undo an incident's writes in one command (issue 24).
 *
 * Manual only: {"incident_id": "fb-...", "steps": [...], "apply": false}.
 *   1. read-restore: s3:GetObject incidents/<id>/restore.json and each
 *      attempt-N/restore.json after it (runtime/evidence.h: the write-once
 *      undo record every attempt of the incident wrote first), in the
 *      function's own account; the first missing attempt ends the list.
 *   2. the entries, newest attempt first and each attempt's in reverse
 *      order (undo runs backwards), selected by "steps";
 *   3. check-N: one read per entry of the target as it is now, through the
 *      member role when "account" names another account (kit_client);
 *      fr_decide: apply / already / changed since (not touched) / skipped;
 *   4. restore-N: the inverse call, only with "apply": true (otherwise
 *      "planned"), one at a time in that order (an interface goes back to
 *      its groups before the quarantine group is deleted); its own undo in
 *      restore[] first.
 * The role allows exactly these reads and inverse calls (61-infra-iam
 * derives it from the literals below).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "akey.h"
#include "evidence.h"
#include "firebreak_restore.h"
#include "fn.h"
#include "http.h"
#include "kit.h"
#include "log.h"
#include "lr.h"
#include "resp.h"

#define FR_DEADLINE_MARGIN_MS 500

struct fr_entry {
	const cJSON *e;           /* borrowed from the attempts' documents */
	unsigned attempt;
	int index;
	enum fr_kind kind;
	struct kit_step *check;
	enum fr_decision d;
	char why[256];
	char step[160];
	const char *sg_id;        /* FR_DELETE_SG: the id the check found */
};

struct fr_run {
	struct kit k;
	struct resp r;
	struct fr_req req;
	struct aws_client *c;     /* where the entries act */
	cJSON *docs;              /* the attempts' restore.json documents */
	struct fr_entry ent[FR_MAX_ENTRIES];
	size_t n;
	const char *created[FR_MAX_ENTRIES * 2];
	size_t ncreated;
};

static cJSON *obj1(const char *k, const char *v)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, k, v ? v : "");
	return o;
}

static cJSON *list1(cJSON *o, const char *k, const char *v)
{
	cJSON_AddItemToArray(cJSON_AddArrayToObject(o, k), cJSON_CreateString(v ? v : ""));
	return o;
}

/* ---- 1: the undo record ------------------------------------------------------ */

static int read_attempts(struct fr_run *u, const char *bucket)
{
	unsigned a;

	u->docs = cJSON_CreateArray();
	for (a = 1; a <= FR_MAX_ATTEMPTS && u->docs; a++) {
		char key[256], prefix[160];
		struct kit_round *rd = kit_round_new(&u->k);
		struct kit_step *s;
		const char *body;
		cJSON *doc;

		snprintf(prefix, sizeof(prefix), "incidents/%s/", u->req.incident_id);
		if (a == 1)
			snprintf(key, sizeof(key), "%srestore.json", prefix);
		else
			snprintf(key, sizeof(key), "%sattempt-%u/restore.json", prefix, a);
		/* S3 answers a missing key 403 to a caller without s3:ListBucket
		 * (firebreak's roles have none): both end the list of attempts */
		s = kit_add(rd, &(struct kit_spec){ .step = "read-restore", .service = "s3", .op = "GetObject",
			.target = key, .kind = RESP_READ, .bucket = bucket, .key = key, .optional = a > 1,
			.absent = "NoSuchKey AccessDenied NotFound", .detail = "read" });
		kit_run(rd);
		if (kit_status(s) != RESP_DONE) {
			kit_round_free(rd);
			return a > 1 ? 0 : -1;
		}
		if (!kit_found(s)) {
			if (a == 1)
				kit_fail(s, "no restore.json for %s in %s (no write recorded, or not this "
					 "bucket's incident)", u->req.incident_id, bucket);
			else
				kit_detail(s, "no attempt %u: the record ends at attempt %u", a, a - 1);
			kit_round_free(rd);
			return a > 1 ? 0 : -1;
		}
		body = resp_get_str(kit_out(s), "Body");
		doc = body ? cJSON_Parse(body) : NULL;
		if (!cJSON_IsArray(doc)) {
			cJSON_Delete(doc);
			/* a record that cannot be read is never half-applied */
			kit_fail(s, "%s is not a JSON array: nothing is restored", key);
			kit_round_free(rd);
			if (a > 1)   /* the line above is optional: the invocation fails all the same */
				kit_decide(&u->k, &(struct kit_spec){ .step = "restore-record", .service = "s3",
					.op = "GetObject", .target = key, .kind = RESP_READ }, RESP_FAILED,
					"attempt %u's restore.json cannot be read: nothing is restored", a);
			return -1;
		}
		kit_detail(s, "attempt %u: %d entries", a, cJSON_GetArraySize(doc));
		cJSON_AddItemToArray(u->docs, doc);
		kit_round_free(rd);
	}
	return 0;
}

/* Every entry, newest attempt first, each attempt's last write first. */
static void collect(struct fr_run *u)
{
	int a, i;

	for (a = cJSON_GetArraySize(u->docs) - 1; a >= 0; a--) {
		const cJSON *doc = cJSON_GetArrayItem(u->docs, a);

		for (i = cJSON_GetArraySize(doc) - 1; i >= 0 && u->n < FR_MAX_ENTRIES; i--) {
			const cJSON *e = cJSON_GetArrayItem(doc, i);
			struct fr_entry *x;
			const char *api = resp_get_str(e, "api");

			/* the groups the incident created, whichever entries are asked */
			if (api && !strcmp(api, "ec2:DeleteSecurityGroup") && u->ncreated + 1 < FR_MAX_ENTRIES * 2) {
				const char *v = resp_get_str(e, "args.GroupId");

				if (!v)
					v = resp_get_str(e, "args.GroupName");
				if (v)
					u->created[u->ncreated++] = v;
			}
			/* not an entry at all: said (when every entry is asked for), never called */
			if (!cJSON_IsObject(e) && u->req.nsteps)
				continue;
			if (cJSON_IsObject(e) && !fr_selected(&u->req, e))
				continue;
			x = &u->ent[u->n++];
			x->e = e;
			x->attempt = (unsigned)a + 1;
			x->index = i;
			x->kind = fr_kind_of_entry(e);
			snprintf(x->step, sizeof(x->step), "%s", resp_get_str(e, "step") ? resp_get_str(e, "step")
							: api ? api : "entry");
		}
	}
}

/* ---- 3: the checks ---------------------------------------------------------------- */

static const struct kit_paging pg_attached = KIT_IAM_PAGING("AttachedPolicies");

static struct kit_step *check_add(struct fr_run *u, struct kit_round *rd, struct fr_entry *x)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(x->e, "args");
	char name[200];
	cJSON *in;
	const char *v;

	snprintf(name, sizeof(name), "check:%s", x->step);
	switch (x->kind) {
	case FR_ENI_GROUPS:
		v = resp_get_str(a, "NetworkInterfaceId");
		return kit_add(rd, &(struct kit_spec){ .step = name, .service = "ec2",
			.op = "DescribeNetworkInterfaces", .target = v, .kind = RESP_READ, .client = u->c,
			.in = list1(cJSON_CreateObject(), "NetworkInterfaceId", v),
			.absent = "InvalidNetworkInterfaceID.NotFound InvalidNetworkInterfaceID.Malformed" });
	case FR_DELETE_SG:
	case FR_AUTH_EGRESS:
	case FR_REVOKE_INGRESS:
	case FR_REVOKE_EGRESS:
		v = resp_get_str(a, "GroupId");
		if (v) {
			in = list1(cJSON_CreateObject(), "GroupId", v);
		} else {
			/* instance-quarantine names a group it created by name and VPC */
			cJSON *f = cJSON_CreateArray(), *o;

			v = resp_get_str(a, "GroupName");
			in = cJSON_CreateObject();
			o = list1(obj1("Name", "group-name"), "Value", v);
			cJSON_AddItemToArray(f, o);
			if (resp_get_str(x->e, "vpc_id"))
				cJSON_AddItemToArray(f, list1(obj1("Name", "vpc-id"), "Value",
							      resp_get_str(x->e, "vpc_id")));
			cJSON_AddItemToObject(in, "Filter", f);
		}
		return kit_add(rd, &(struct kit_spec){ .step = name, .service = "ec2",
			.op = "DescribeSecurityGroups", .target = v, .kind = RESP_READ, .client = u->c, .in = in,
			.absent = "InvalidGroup.NotFound InvalidGroupId.Malformed" });
	case FR_TERMINATION:
	case FR_VOLUMES:
		v = resp_get_str(a, "InstanceId");
		in = obj1("InstanceId", v);
		cJSON_AddStringToObject(in, "Attribute", x->kind == FR_VOLUMES ? "blockDeviceMapping"
									 : "disableApiTermination");
		return kit_add(rd, &(struct kit_spec){ .step = name, .service = "ec2",
			.op = "DescribeInstanceAttribute", .target = v, .kind = RESP_READ, .client = u->c,
			.in = in, .absent = "InvalidInstanceID.NotFound InvalidInstanceID.Malformed" });
	case FR_START:
		v = cJSON_IsString(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(a, "InstanceIds"), 0))
			? cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(a, "InstanceIds"), 0)->valuestring : "";
		return kit_add(rd, &(struct kit_spec){ .step = name, .service = "ec2", .op = "DescribeInstances",
			.target = v, .kind = RESP_READ, .client = u->c,
			.in = list1(cJSON_CreateObject(), "InstanceId", v),
			.absent = "InvalidInstanceID.NotFound InvalidInstanceID.Malformed" });
	case FR_ASG_ATTACH:
		v = cJSON_IsString(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(a, "InstanceIds"), 0))
			? cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(a, "InstanceIds"), 0)->valuestring : "";
		return kit_add(rd, &(struct kit_spec){ .step = name, .service = "autoscaling",
			.op = "DescribeAutoScalingInstances", .target = v, .kind = RESP_READ, .client = u->c,
			.in = list1(cJSON_CreateObject(), "InstanceIds", v) });
	case FR_PUT_ROLE_POLICY:
	case FR_DELETE_ROLE_POLICY:
		v = resp_get_str(a, "RoleName");
		in = obj1("RoleName", v);
		cJSON_AddStringToObject(in, "PolicyName", resp_get_str(a, "PolicyName") ? resp_get_str(a, "PolicyName") : "");
		return kit_add(rd, &(struct kit_spec){ .step = name, .service = "iam", .op = "GetRolePolicy",
			.target = v, .kind = RESP_READ, .client = u->c, .in = in, .absent = "NoSuchEntity" });
	case FR_PUT_USER_POLICY:
	case FR_DELETE_USER_POLICY:
		v = resp_get_str(a, "UserName");
		in = obj1("UserName", v);
		cJSON_AddStringToObject(in, "PolicyName", resp_get_str(a, "PolicyName") ? resp_get_str(a, "PolicyName") : "");
		return kit_add(rd, &(struct kit_spec){ .step = name, .service = "iam", .op = "GetUserPolicy",
			.target = v, .kind = RESP_READ, .client = u->c, .in = in, .absent = "NoSuchEntity" });
	case FR_ACCESS_KEY:
		v = resp_get_str(a, "UserName");
		return kit_add(rd, &(struct kit_spec){ .step = name, .service = "iam", .op = "ListAccessKeys",
			.target = v, .kind = RESP_READ, .client = u->c, .in = obj1("UserName", v),
			.paging = &akey_pages, .absent = "NoSuchEntity" });
	case FR_DETACH_USER_POLICY:
	case FR_ATTACH_USER_POLICY:
		v = resp_get_str(a, "UserName");
		return kit_add(rd, &(struct kit_spec){ .step = name, .service = "iam",
			.op = "ListAttachedUserPolicies", .target = v, .kind = RESP_READ, .client = u->c,
			.in = obj1("UserName", v), .paging = &pg_attached, .absent = "NoSuchEntity" });
	/* ---- w3-rst1: kms-guard, net-block ---- */
	case FR_KMS_DISABLE:
		v = resp_get_str(a, "KeyId");
		return kit_add(rd, &(struct kit_spec){ .step = name, .service = "kms", .op = "DescribeKey",
			.target = v, .kind = RESP_READ, .client = u->c, .in = obj1("KeyId", v),
			.absent = "NotFoundException" });
	case FR_KMS_TAG:
	case FR_KMS_UNTAG:
		v = resp_get_str(a, "KeyId");
		return kit_add(rd, &(struct kit_spec){ .step = name, .service = "kms", .op = "ListResourceTags",
			.target = v, .kind = RESP_READ, .client = u->c, .in = obj1("KeyId", v),
			.absent = "NotFoundException" });
	case FR_AUTH_INGRESS:
		v = resp_get_str(a, "GroupId");
		return kit_add(rd, &(struct kit_spec){ .step = name, .service = "ec2",
			.op = "DescribeSecurityGroups", .target = v, .kind = RESP_READ, .client = u->c,
			.in = list1(cJSON_CreateObject(), "GroupId", v),
			.absent = "InvalidGroup.NotFound InvalidGroupId.Malformed" });
	case FR_NACL_DELETE:
		v = resp_get_str(a, "NetworkAclId");
		return kit_add(rd, &(struct kit_spec){ .step = name, .service = "ec2", .op = "DescribeNetworkAcls",
			.target = v, .kind = RESP_READ, .client = u->c,
			.in = list1(cJSON_CreateObject(), "NetworkAclId", v),
			.absent = "InvalidNetworkAclID.NotFound InvalidNetworkAclId.Malformed" });
	/* ---- end w3-rst1 ---- */
	case FR_DDB_PUT_POLICY:
	case FR_DDB_DELETE_POLICY:
		v = resp_get_str(a, "ResourceArn");
		return kit_add(rd, &(struct kit_spec){ .step = name, .service = "dynamodb", .op = "GetResourcePolicy",
			.target = v, .kind = RESP_READ, .client = u->c, .in = obj1("ResourceArn", v),
			.absent = "PolicyNotFoundException ResourceNotFoundException" });
	/* ---- codeartifact-lock (w3-rst3) ---- */
	case FR_CA_PUT_DOMAIN_POLICY:
	case FR_CA_DELETE_DOMAIN_POLICY:
	case FR_CA_PUT_REPO_POLICY:
	case FR_CA_DELETE_REPO_POLICY: {
		int repo = x->kind == FR_CA_PUT_REPO_POLICY || x->kind == FR_CA_DELETE_REPO_POLICY;
		cJSON *cin = obj1("domain", resp_get_str(a, "domain"));

		cJSON_AddStringToObject(cin, "domainOwner", resp_get_str(a, "domainOwner"));
		if (repo)
			cJSON_AddStringToObject(cin, "repository", resp_get_str(a, "repository"));
		if (repo)
			return kit_add(rd, &(struct kit_spec){ .step = name, .service = "codeartifact",
				.op = "GetRepositoryPermissionsPolicy", .target = resp_get_str(a, "repository"),
				.kind = RESP_READ, .client = u->c, .in = cin, .absent = "ResourceNotFoundException" });
		return kit_add(rd, &(struct kit_spec){ .step = name, .service = "codeartifact",
			.op = "GetDomainPermissionsPolicy", .target = resp_get_str(a, "domain"),
			.kind = RESP_READ, .client = u->c, .in = cin, .absent = "ResourceNotFoundException" });
	}
	/* ---- end w3-rst3 ---- */
	case FR_CG_OLD_SECRET:   /* w4-rst: cognito-lockdown's old client secret, by its id */
		v = resp_get_str(a, "ClientSecretId");
		in = obj1("UserPoolId", resp_get_str(a, "UserPoolId"));
		cJSON_AddStringToObject(in, "ClientId", resp_get_str(a, "ClientId"));
		return kit_add(rd, &(struct kit_spec){ .step = name, .service = "cognito-idp",
			.op = "ListUserPoolClientSecrets", .target = v, .kind = RESP_READ, .client = u->c, .in = in });
	default:   /* not fr_checked */
		break;
	}
	return NULL;
}

/* The entry's state read, for fr_decide. */
static void check_state(struct fr_run *u, struct fr_entry *x, struct fr_state *st)
{
	memset(st, 0, sizeof(*st));
	st->found = kit_found(x->check);
	st->answer = kit_out(x->check);
	if (x->kind == FR_ACCESS_KEY || x->kind == FR_DETACH_USER_POLICY || x->kind == FR_ATTACH_USER_POLICY)
		st->answer = kit_items(x->check);
	st->created = u->created;
	st->ncreated = u->ncreated;
	st->incident_id = u->req.incident_id;
	if (x->kind == FR_DELETE_SG)
		x->sg_id = resp_get_str(cJSON_GetArrayItem(resp_get(kit_out(x->check), "securityGroupInfo"), 0),
					"groupId");
}

/* ---- 4: the inverse calls ---------------------------------------------------------- */

/* The inverse calls, one row an fr_kind (issue 17: a table, not a switch).
 * A row: the kind, the call (service and operation: literal pairs that
 * tests/infra/iamderive.py reads as this function's operations, so the
 * role is derived from this table), the input member that names the
 * target (its first item when a list), and how the input is completed
 * from the check's answer: `rev_from` (a path in the check's answer) sent
 * as `rev_to`, the revision the check read, so that a change between the
 * check and the write is refused by the service, not overwritten. The
 * rest of the input is fr_wire's (stages.c). `absent`/`already`: the
 * kit's error codes that mean "already as the undo leaves it". `redo`:
 * this write's own undo for restore[] when the entry's args say it
 * (redo_of); the policies and the interface's groups are taken from the
 * state the check read instead (redo_from_state). */
struct fr_inverse {
	enum fr_kind kind;
	const char *service, *op;
	const char *target;               /* the input member naming the target */
	const char *rev_from, *rev_to;    /* NULL: no revision */
	const char *absent, *already;
	const char *detail;
	const char *redo;                 /* the undo of this write (restore[]), as an api; NULL: a note */
};

static const struct fr_inverse fr_inverses[] = {
	{ FR_ENI_GROUPS, "ec2", "ModifyNetworkInterfaceAttribute", "NetworkInterfaceId", NULL, NULL, NULL, NULL,
	  "the interface's own groups are back", NULL },
	{ FR_DELETE_SG, "ec2", "DeleteSecurityGroup", "GroupId", NULL, NULL, "InvalidGroup.NotFound", NULL,
	  "the quarantine group is deleted", NULL },
	{ FR_AUTH_EGRESS, "ec2", "AuthorizeSecurityGroupEgress", "GroupId", NULL, NULL, NULL,
	  "InvalidPermission.Duplicate", "egress rules are back", "ec2:RevokeSecurityGroupEgress" },
	{ FR_REVOKE_INGRESS, "ec2", "RevokeSecurityGroupIngress", "GroupId", NULL, NULL, NULL,
	  "InvalidPermission.NotFound", "ingress rules revoked", "ec2:AuthorizeSecurityGroupIngress" },
	{ FR_REVOKE_EGRESS, "ec2", "RevokeSecurityGroupEgress", "GroupId", NULL, NULL, NULL,
	  "InvalidPermission.NotFound", "egress rules revoked", "ec2:AuthorizeSecurityGroupEgress" },
	{ FR_TERMINATION, "ec2", "ModifyInstanceAttribute", "InstanceId", NULL, NULL, NULL, NULL,
	  "termination protection as it was", "ec2:ModifyInstanceAttribute" },
	{ FR_VOLUMES, "ec2", "ModifyInstanceAttribute", "InstanceId", NULL, NULL, NULL, NULL,
	  "volumes deleted on termination as they were", NULL },
	{ FR_START, "ec2", "StartInstances", "InstanceId", NULL, NULL, NULL, NULL, "started", "ec2:StopInstances" },
	{ FR_ASG_ATTACH, "autoscaling", "AttachInstances", "AutoScalingGroupName", NULL, NULL, NULL, NULL,
	  "back in its group (AttachInstances raises the desired capacity by one)", "autoscaling:DetachInstances" },
	{ FR_PUT_ROLE_POLICY, "iam", "PutRolePolicy", "RoleName", NULL, NULL, NULL, NULL,
	  "the prior policy is back", NULL },
	{ FR_DELETE_ROLE_POLICY, "iam", "DeleteRolePolicy", "RoleName", NULL, NULL, "NoSuchEntity", NULL,
	  "firebreak's policy is deleted", NULL },
	{ FR_PUT_USER_POLICY, "iam", "PutUserPolicy", "UserName", NULL, NULL, NULL, NULL,
	  "the prior policy is back", NULL },
	{ FR_DELETE_USER_POLICY, "iam", "DeleteUserPolicy", "UserName", NULL, NULL, "NoSuchEntity", NULL,
	  "firebreak's policy is deleted", NULL },
	{ FR_ACCESS_KEY, "iam", "UpdateAccessKey", "AccessKeyId", NULL, NULL, NULL, NULL, "Active again",
	  "iam:UpdateAccessKey" },
	{ FR_DETACH_USER_POLICY, "iam", "DetachUserPolicy", "PolicyArn", NULL, NULL, "NoSuchEntity", NULL,
	  "detached", "iam:AttachUserPolicy" },
	{ FR_ATTACH_USER_POLICY, "iam", "AttachUserPolicy", "PolicyArn", NULL, NULL, NULL, NULL,
	  "attached again", "iam:DetachUserPolicy" },
	/* ---- w3-rst1: kms-guard, net-block ---- */
	{ FR_KMS_DISABLE, "kms", "DisableKey", "KeyId", NULL, NULL, NULL, NULL, "the key is Disabled again",
	  "kms:EnableKey" },
	{ FR_KMS_TAG, "kms", "TagResource", "KeyId", NULL, NULL, NULL, NULL,
	  "the incident tag names the earlier incident again", NULL },
	{ FR_KMS_UNTAG, "kms", "UntagResource", "KeyId", NULL, NULL, NULL, NULL, "the incident tag is removed", NULL },
	{ FR_AUTH_INGRESS, "ec2", "AuthorizeSecurityGroupIngress", "GroupId", NULL, NULL, NULL,
	  "InvalidPermission.Duplicate", "the revoked rule is back (a new rule id)", "ec2:RevokeSecurityGroupIngress" },
	{ FR_NACL_DELETE, "ec2", "DeleteNetworkAclEntry", "NetworkAclId", NULL, NULL, NULL,
	  "InvalidNetworkAclEntry.NotFound", "firebreak's deny entry is deleted", NULL },
	/* ---- data-breach (w3-rst2): DynamoDB refuses a stale RevisionId ---- */
	{ FR_DDB_PUT_POLICY, "dynamodb", "PutResourcePolicy", "ResourceArn", "RevisionId", "ExpectedRevisionId",
	  NULL, NULL, "the table's prior resource policy is back", NULL },
	{ FR_DDB_DELETE_POLICY, "dynamodb", "DeleteResourcePolicy", "ResourceArn", "RevisionId",
	  "ExpectedRevisionId", "PolicyNotFoundException", NULL,
	  "the table's resource policy (firebreak's Deny only) is deleted", NULL },
	/* ---- codeartifact-lock (w3-rst3): CodeArtifact refuses a stale policyRevision ---- */
	{ FR_CA_PUT_DOMAIN_POLICY, "codeartifact", "PutDomainPermissionsPolicy", "domain", "policy.revision",
	  "policyRevision", NULL, NULL, "the prior permissions policy is back", NULL },
	{ FR_CA_PUT_REPO_POLICY, "codeartifact", "PutRepositoryPermissionsPolicy", "repository", "policy.revision",
	  "policyRevision", NULL, NULL, "the prior permissions policy is back", NULL },
	{ FR_CA_DELETE_DOMAIN_POLICY, "codeartifact", "DeleteDomainPermissionsPolicy", "domain", "policy.revision",
	  "policyRevision", NULL, NULL, "the permissions policy (firebreak's Deny only) is deleted", NULL },
	{ FR_CA_DELETE_REPO_POLICY, "codeartifact", "DeleteRepositoryPermissionsPolicy", "repository",
	  "policy.revision", "policyRevision", NULL, NULL,
	  "the permissions policy (firebreak's Deny only) is deleted", NULL },
	/* no row: never called (evidence kept, refused by design, unsupported) */
};

static const struct fr_inverse *inverse_of(enum fr_kind k)
{
	size_t i;

	for (i = 0; i < sizeof(fr_inverses) / sizeof(fr_inverses[0]); i++)
		if (fr_inverses[i].kind == k)
			return &fr_inverses[i];
	return NULL;
}

/* The undo of an undo (restore[] of this run): the containment as it was
 * when checked, where the entry says enough to write it; else a note. */
static cJSON *redo_of(const struct fr_entry *x, const cJSON *args)
{
	const struct fr_inverse *t = inverse_of(x->kind);
	cJSON *a = cJSON_Duplicate(args, 1);
	char step[200];

	snprintf(step, sizeof(step), "restore:%s", x->step);
	/* the state the containment left, where the args are the restored one */
	if (x->kind == FR_ACCESS_KEY)
		cJSON_ReplaceItemInObjectCaseSensitive(a, "Status", cJSON_CreateString("Inactive"));
	if (x->kind == FR_TERMINATION) {
		cJSON_ReplaceItemInObjectCaseSensitive(a, "DisableApiTermination", cJSON_CreateObject());
		cJSON_AddBoolToObject(cJSON_GetObjectItemCaseSensitive(a, "DisableApiTermination"), "Value", 1);
	}
	if (x->kind == FR_ASG_ATTACH)
		cJSON_AddBoolToObject(a, "ShouldDecrementDesiredCapacity", 0);
	if (t && t->redo)
		return kit_undo_step(step, t->redo, a);
	cJSON_Delete(a);
	a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "note", "the containment this undid: re-run the incident's responder "
				"(the incident's report has its event)");
	return kit_undo_step(step, "lambda:Invoke", a);
}

/* The inverse call of an entry decided "apply": its row, the input
 * completed (in and undo taken). NULL for a kind without a row. */
static struct kit_step *write_add(struct fr_run *u, struct kit_round *rd, struct fr_entry *x, cJSON *in,
				  cJSON *undo)
{
	const struct fr_inverse *t = inverse_of(x->kind);
	const cJSON *tv;
	char name[200];

	if (!t) {   /* never: fr_decide applies only kinds with a row */
		cJSON_Delete(in);
		cJSON_Delete(undo);
		return NULL;
	}
	snprintf(name, sizeof(name), "restore:%s", x->step);
	if (t->rev_from) {
		const char *rev = resp_get_str(kit_out(x->check), t->rev_from);

		cJSON_AddStringToObject(in, t->rev_to, rev ? rev : "");
	}
	tv = cJSON_GetObjectItemCaseSensitive(in, t->target);
	if (cJSON_IsArray(tv))   /* StartInstances: InstanceId.N, one instance */
		tv = cJSON_GetArrayItem(tv, 0);
	return kit_add(rd, &(struct kit_spec){ .step = name, .service = t->service, .op = t->op, .kind = RESP_WRITE,
		.in = in, .restore = undo, .client = u->c, .target = cJSON_IsString(tv) ? tv->valuestring : NULL,
		.absent = t->absent, .already = t->already, .detail = t->detail });
}

/* The containment as the check read it, where the entry's kind says it
 * better than redo_of: the interface's groups now, the policy now. */
static cJSON *redo_from_state(const struct fr_entry *x, const cJSON *args)
{
	const cJSON *ans = kit_out(x->check), *g;
	char step[200];
	cJSON *a;

	snprintf(step, sizeof(step), "restore:%s", x->step);
	if (x->kind == FR_ENI_GROUPS) {
		const cJSON *eni = cJSON_GetArrayItem(resp_get(ans, "networkInterfaceSet"), 0);
		cJSON *l;

		a = obj1("NetworkInterfaceId", resp_get_str(args, "NetworkInterfaceId"));
		l = cJSON_AddArrayToObject(a, "Groups");
		cJSON_ArrayForEach(g, resp_get(eni, "groupSet"))
			if (resp_get_str(g, "groupId"))
				cJSON_AddItemToArray(l, cJSON_CreateString(resp_get_str(g, "groupId")));
		return kit_undo_step(step, "ec2:ModifyNetworkInterfaceAttribute", a);
	}
	if (x->kind == FR_PUT_ROLE_POLICY || x->kind == FR_DELETE_ROLE_POLICY ||
	    x->kind == FR_PUT_USER_POLICY || x->kind == FR_DELETE_USER_POLICY) {
		int role = x->kind == FR_PUT_ROLE_POLICY || x->kind == FR_DELETE_ROLE_POLICY;
		const char *who = role ? "RoleName" : "UserName";
		const char *doc = kit_found(x->check) ? resp_get_str(ans, "PolicyDocument") : NULL;

		a = obj1(who, resp_get_str(args, who));
		cJSON_AddStringToObject(a, "PolicyName", resp_get_str(args, "PolicyName"));
		if (doc) {
			char *d = strdup(doc);

			if (d) {
				kit_url_decode(d);
				cJSON_AddStringToObject(a, "PolicyDocument", d);
				free(d);
			}
			return kit_undo_step(step, role ? "iam:PutRolePolicy" : "iam:PutUserPolicy", a);
		}
		return kit_undo_step(step, role ? "iam:DeleteRolePolicy" : "iam:DeleteUserPolicy", a);
	}
	if ((x->kind == FR_DDB_PUT_POLICY || x->kind == FR_DDB_DELETE_POLICY) && resp_get_str(ans, "Policy")) {
		/* the table's policy with firebreak's Deny, as checked */
		a = obj1("ResourceArn", resp_get_str(args, "ResourceArn"));
		cJSON_AddStringToObject(a, "Policy", resp_get_str(ans, "Policy"));
		return kit_undo_step(step, "dynamodb:PutResourcePolicy", a);
	}
	/* ---- codeartifact-lock (w3-rst3): the policy with firebreak's Deny, as checked ---- */
	if ((x->kind == FR_CA_PUT_DOMAIN_POLICY || x->kind == FR_CA_DELETE_DOMAIN_POLICY ||
	     x->kind == FR_CA_PUT_REPO_POLICY || x->kind == FR_CA_DELETE_REPO_POLICY) &&
	    resp_get_str(ans, "policy.document")) {
		int repo = x->kind == FR_CA_PUT_REPO_POLICY || x->kind == FR_CA_DELETE_REPO_POLICY;

		a = obj1("domain", resp_get_str(args, "domain"));
		cJSON_AddStringToObject(a, "domainOwner", resp_get_str(args, "domainOwner"));
		if (repo)
			cJSON_AddStringToObject(a, "repository", resp_get_str(args, "repository"));
		cJSON_AddStringToObject(a, "policyDocument", resp_get_str(ans, "policy.document"));
		return kit_undo_step(step, repo ? "codeartifact:PutRepositoryPermissionsPolicy"
						: "codeartifact:PutDomainPermissionsPolicy", a);
	}
	return redo_of(x, args);
}

static void entry_report(cJSON *list, const struct fr_entry *x)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "attempt", x->attempt);
	cJSON_AddNumberToObject(o, "index", x->index);
	cJSON_AddStringToObject(o, "step", x->step);
	cJSON_AddStringToObject(o, "api", resp_get_str(x->e, "api") ? resp_get_str(x->e, "api") : "");
	cJSON_AddStringToObject(o, "decision", fr_decision_name(x->d));
	cJSON_AddStringToObject(o, "why", x->why);
	cJSON_AddItemToArray(list, o);
}

static void fr_run_entries(struct fr_run *u)
{
	struct kit_round *rd = kit_round_new(&u->k);
	cJSON *list = cJSON_AddArrayToObject(cJSON_GetObjectItemCaseSensitive(u->r.extra, "restored"),
					     "entries");
	size_t i, napply = 0, nalready = 0, nchanged = 0, nskip = 0, ndone = 0, nkept = 0, nrefused = 0, npublic = 0;

	/* args that are not the inverse call's input never reach a call */
	for (i = 0; i < u->n; i++) {
		struct fr_entry *x = &u->ent[i];
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(x->e, "args");
		char why[200];
		cJSON *probe;

		x->d = FR_APPLY;
		if (x->kind == FR_BY_DESIGN) {   /* w3-rst1: refused, whatever the state */
			x->d = FR_REFUSED;
			snprintf(x->why, sizeof(x->why), "not restored by design: %s",
				 fr_by_design(resp_get_str(x->e, "api"), a));
			continue;
		}
		if (!fr_checked(x->kind)) {
			x->d = fr_decide(x->kind, a, &(struct fr_state){ 0 }, x->why, sizeof(x->why));
			continue;
		}
		probe = fr_wire(x->kind, a, "sg-00000000", why, sizeof(why));
		if (!probe || (x->kind == FR_DELETE_SG && !resp_get_str(a, "GroupId") && !resp_get_str(a, "GroupName"))) {
			x->d = FR_SKIP;
			snprintf(x->why, sizeof(x->why), "%s", why);
		}
		cJSON_Delete(probe);
		if (x->d == FR_APPLY)
			x->check = check_add(u, rd, x);
		if (x->d == FR_APPLY && !x->check) {   /* no read: never applied unchecked */
			x->d = FR_SKIP;
			snprintf(x->why, sizeof(x->why), "no check for this entry: not touched");
		}
	}
	kit_run(rd);
	for (i = 0; i < u->n; i++) {
		struct fr_entry *x = &u->ent[i];
		struct fr_state st;

		if (!x->check)
			continue;
		if (!kit_ok(x->check)) {
			x->d = FR_SKIP;
			snprintf(x->why, sizeof(x->why), "the state could not be read (%.80s): not touched",
				 kit_err(x->check)->code);
			continue;
		}
		check_state(u, x, &st);
		x->d = fr_decide(x->kind, cJSON_GetObjectItemCaseSensitive(x->e, "args"), &st, x->why,
				 sizeof(x->why));
		kit_detail(x->check, "%s: %s", fr_decision_name(x->d), x->why);
	}
	/* the inverse calls, one at a time, in undo order */
	for (i = 0; i < u->n; i++) {
		struct fr_entry *x = &u->ent[i];
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(x->e, "args");
		struct kit_round *w;
		struct kit_step *s;
		cJSON *in;
		char why[200];

		napply += x->d == FR_APPLY;
		nalready += x->d == FR_ALREADY;
		nchanged += x->d == FR_CHANGED;
		nkept += x->d == FR_SKIP && (x->kind == FR_KEPT || x->kind == FR_DDB_KEPT);
		nskip += x->d == FR_SKIP && x->kind != FR_KEPT && x->kind != FR_DDB_KEPT;
		nrefused += x->d == FR_REFUSED;
		/* w3-rst2: a leaked credential's containment (leak-rotate) */
		npublic += x->d == FR_REFUSED && (x->kind == FR_PUBLIC_KEY || x->kind == FR_PUBLIC_VALUE ||
						  x->kind == FR_PUBLIC_SESSION);
		if (x->d != FR_APPLY) {
			entry_report(list, x);
			continue;
		}
		in = fr_wire(x->kind, a, x->sg_id, why, sizeof(why));
		w = kit_round_new(&u->k);
		s = write_add(u, w, x, in, redo_from_state(x, a));
		kit_run(w);
		if (kit_status(s) == RESP_DONE || kit_status(s) == RESP_ALREADY || kit_status(s) == RESP_PLANNED)
			ndone += kit_status(s) != RESP_PLANNED;
		if (x->kind == FR_DELETE_SG && kit_status(s) == RESP_FAILED &&
		    !strcmp(kit_err(s)->code, "DependencyViolation")) {
			/* another quarantined interface still uses it: kept, said */
			kit_set_optional(s);
			x->d = FR_CHANGED;
			snprintf(x->why, sizeof(x->why), "the group is still in use (DependencyViolation): kept");
			nchanged++;
			napply--;
		}
		entry_report(list, x);
		kit_round_free(w);
	}
	kit_round_free(rd);
	/* evidence kept by policy does not make a restoration partial */
	if (u->r.dry_run)
		resp_set_verdict(&u->r, "planned (apply is false): %zu to restore, %zu already restored, %zu changed "
				 "since (not touched), %zu skipped, %zu evidence kept", napply, nalready, nchanged, nskip,
				 nkept);
	else
		resp_set_verdict(&u->r, "%s: %zu restored, %zu already restored, %zu changed since (not touched), "
				 "%zu skipped, %zu evidence kept", nchanged || nskip ? "partly restored" : "restored",
				 ndone, nalready, nchanged, nskip, nkept);
	if (nrefused) {   /* w3-rst1: said apart, the containment they keep is deliberate */
		char v[600];

		snprintf(v, sizeof(v), "%s, %zu not restored by design (stay contained)", resp_verdict(&u->r), nrefused);
		resp_set_verdict(&u->r, "%s", v);
		resp_warn(&u->r, "%zu entries are not restored by design (a key deletion, a public bucket, a shared "
			  "IP set...): they stay contained; restored.entries says why and how to do it by hand", nrefused);
	}
	if (nrefused)   /* w3-rst2 */
		cJSON_AddNumberToObject(cJSON_GetObjectItemCaseSensitive(u->r.extra, "restored"), "refused",
					(double)nrefused);
	if (npublic)    /* w3-rst2 */
		resp_warn(&u->r, "needs a human: %zu entries undo the containment of a leaked credential (its "
			  "secret is public) and are refused by design: restored.entries says which", npublic);
	if (nchanged || nskip)
		resp_warn(&u->r, "%zu entries were not restored (changed since, kept or unsupported): "
			  "restored.entries says which and why", nchanged + nskip);
}

/* ---- the handler ------------------------------------------------------------------------- */

/* One invocation as the frame holds it: the event and the run (its report
 * and kit are the run's). */
struct fr_call {
	cJSON *root;              /* owned: the event */
	struct fr_run u;
};

static enum fb_err fr_event_read(struct fn_call *c, const char *event, size_t len, char *why, size_t whylen)
{
	struct fr_call *e = c->ev;
	char pwhy[300];

	c->r = &e->u.r;
	c->k = &e->u.k;
	if (resp_parse_event(event, len, RESP_MAX_EVENT_BYTES, &e->root, pwhy, sizeof(pwhy)) != FB_OK ||
	    fr_parse(e->root, &e->u.req, pwhy, sizeof(pwhy))) {
		snprintf(why, whylen, "%s", pwhy);
		return FB_E_INVALID;
	}
	return FB_OK;
}

static void fr_event_free(void *ev)
{
	struct fr_call *e = ev;

	cJSON_Delete(e->u.docs);
	cJSON_Delete(e->root);
}

static enum fb_err fr_run(struct fn_call *c)
{
	struct fn_base *st = c->st;    /* evcfg: where the undo records are */
	struct fr_run *u = &((struct fr_call *)c->ev)->u;
	cJSON *x;

	/* the report is the restored incident's: one id for both */
	snprintf(u->r.incident_id, sizeof(u->r.incident_id), "%s", u->req.incident_id);
	resp_set_severity(&u->r, "P3");
	if (!u->req.apply)
		u->r.dry_run = 1;   /* apply: false is a dry run: reads, checks, every call planned */
	x = cJSON_AddObjectToObject(u->r.extra, "restored");
	cJSON_AddBoolToObject(x, "apply", u->req.apply);
	if (!st->evcfg.bucket) {
		kit_decide(&u->k, &(struct kit_spec){ .step = "read-restore", .service = "s3", .op = "GetObject",
			.kind = RESP_READ }, RESP_FAILED, "FIREBREAK_EVIDENCE_BUCKET not set: no restore.json to read");
		goto finish;
	}
	cJSON_AddStringToObject(x, "bucket", st->evcfg.bucket);
	/* where the entries act, first: an account it cannot reach reads nothing */
	u->c = st->aws;
	if (u->req.account || u->req.region) {
		u->c = kit_client(&u->k, u->req.account, u->req.region, "client-for-account", NULL);
		if (!u->c)
			goto finish;
		resp_set_resource(&u->r, NULL, u->req.account, u->req.region);
	}
	if (read_attempts(u, st->evcfg.bucket) != 0)
		goto finish;
	cJSON_AddNumberToObject(x, "attempts", cJSON_GetArraySize(u->docs));
	collect(u);
	if (!u->n) {
		resp_set_verdict(&u->r, "nothing to restore (%s)", u->req.nsteps ? "no entry of the steps asked"
										 : "restore.json is empty");
		goto finish;
	}
	fr_run_entries(u);
finish:
	return FB_OK;
}

int main(void)
{
	return fn_main(&(struct fn_responder){ .function = FR_FUNCTION, .margin_ms = FR_DEADLINE_MARGIN_MS,
		.size = sizeof(struct fn_base), .event_size = sizeof(struct fr_call),
		.event_root = offsetof(struct fr_call, root), .event_cleanup = fr_event_free,
		.parse = fr_event_read, .run = fr_run });
}
