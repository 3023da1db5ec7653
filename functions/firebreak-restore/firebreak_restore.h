/*
 * firebreak-restore: undo an incident's writes in one command (issue 24 s2).
 * The decisions, pure (stages.c, tests/unit/test_firebreak_restore.c);
 * main.c reads and writes through the kit.
 *
 * An entry of an incident's restore.json is the responders' restore[] item:
 * {"step": "<the write's report step>" (optional), "api": "<service>:<Op>",
 *  "args": {botocore's input for Op: what `aws <service> <op>
 *  --cli-input-json` takes}, ...notes}. The inverse call is `api` with
 * `args`; its precondition is this function's, by api (fr_kind_of): a read
 * of the entry's target now and fr_decide's classification. An api without
 * a precondition here is never called (FR_UNSUPPORTED: said in the report,
 * to be applied by hand).
 */
#ifndef FB_FIREBREAK_RESTORE_H
#define FB_FIREBREAK_RESTORE_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "fb_err.h"

#define FR_FUNCTION "firebreak-restore"
#define FR_MAX_STEPS 64
#define FR_MAX_ENTRIES 256
#define FR_MAX_ATTEMPTS 32          /* evidence.h EVIDENCE_MAX_ATTEMPTS */
#define FR_REVOKE_POLICY "AWSRevokeOlderSessions"   /* kit.h KIT_REVOKE_POLICY_NAME */
#define FR_QUARANTINE_POLICY "firebreak-quarantine" /* iam-contain's IC_QUARANTINE_POLICY */
#define FR_INCIDENT_TAG "firebreak:incident"        /* w3-rst1: kms-guard's KG_TAG_INCIDENT */

/* The manual event: {"incident_id": "fb-<16 hex>", "steps": [names],
 * "apply": bool, "account": "<12 digits>", "region": "<name>"}; only
 * incident_id is required. Strings borrowed from the event. */
struct fr_req {
	const char *incident_id;
	const char *steps[FR_MAX_STEPS];
	size_t nsteps;
	int apply;
	const char *account, *region;   /* NULL: the function's own */
};
/* 0, or -1 with why (bad or unknown member, wrong types, a malformed id). */
int fr_parse(const cJSON *ev, struct fr_req *req, char *why, size_t whylen);

/* Whether an entry is selected: no steps asked = all; else its "step" or
 * its "api" is one of them. */
int fr_selected(const struct fr_req *req, const cJSON *entry);

enum fr_kind {
	FR_UNSUPPORTED,
	FR_KEPT,                  /* evidence (snapshots, their locks): never undone here */
	FR_ENI_GROUPS,            /* ec2:ModifyNetworkInterfaceAttribute {NetworkInterfaceId, Groups} */
	FR_DELETE_SG,             /* ec2:DeleteSecurityGroup {GroupId} | {GroupName} + vpc_id */
	FR_AUTH_EGRESS,           /* ec2:AuthorizeSecurityGroupEgress {GroupId, IpPermissions} */
	FR_REVOKE_INGRESS,        /* ec2:RevokeSecurityGroupIngress {GroupId, IpPermissions} */
	FR_REVOKE_EGRESS,         /* ec2:RevokeSecurityGroupEgress {GroupId, IpPermissions} */
	FR_TERMINATION,           /* ec2:ModifyInstanceAttribute {InstanceId, DisableApiTermination} */
	FR_START,                 /* ec2:StartInstances {InstanceIds: [one]} */
	FR_ASG_ATTACH,            /* autoscaling:AttachInstances {InstanceIds: [one], AutoScalingGroupName} */
	FR_PUT_ROLE_POLICY,       /* iam:PutRolePolicy {RoleName, PolicyName, PolicyDocument} */
	FR_DELETE_ROLE_POLICY,    /* iam:DeleteRolePolicy {RoleName, PolicyName} */
	FR_PUT_USER_POLICY,       /* iam:PutUserPolicy {UserName, PolicyName, PolicyDocument} */
	FR_DELETE_USER_POLICY,    /* iam:DeleteUserPolicy {UserName, PolicyName} */
	FR_ACCESS_KEY,            /* iam:UpdateAccessKey {UserName, AccessKeyId, Status} */
	FR_DETACH_USER_POLICY,    /* iam:DetachUserPolicy {UserName, PolicyArn} */
	FR_VOLUMES,               /* ec2:ModifyInstanceAttribute {InstanceId, BlockDeviceMappings} */
	FR_ATTACH_USER_POLICY,    /* iam:AttachUserPolicy {UserName, PolicyArn} (iam-contain's revert) */
	/* ---- w3-rst1: kms-guard, public-lock, net-block ---- */
	FR_BY_DESIGN,             /* never applied here, by design (a deletion, a public bucket...): said */
	FR_KMS_DISABLE,           /* kms:DisableKey {KeyId} (kms-guard's enable-key) */
	FR_KMS_TAG,               /* kms:TagResource {KeyId, Tags: [firebreak:incident]} */
	FR_KMS_UNTAG,             /* kms:UntagResource {KeyId, TagKeys: [firebreak:incident]} */
	FR_AUTH_INGRESS,          /* ec2:AuthorizeSecurityGroupIngress {GroupId, IpPermissions} (net-block) */
	FR_NACL_DELETE,           /* ec2:DeleteNetworkAclEntry {NetworkAclId, RuleNumber, Egress} (net-block) */
	/* ---- end w3-rst1 ---- */
	/* ---- data-breach and leak-rotate (w3-rst2) ---- */
	FR_DDB_PUT_POLICY,        /* dynamodb:PutResourcePolicy {ResourceArn, Policy}: the prior policy back */
	FR_DDB_DELETE_POLICY,     /* dynamodb:DeleteResourcePolicy {ResourceArn}: the table had none */
	FR_DDB_KEPT,              /* PITR off, the incident's backup deleted, Streams off: never here */
	FR_PUBLIC_KEY,            /* leak-rotate's deactivated key: its secret is public, never re-activated */
	FR_PUBLIC_VALUE,          /* a rotated secret's undo (secretsmanager): the old value is public */
	FR_PUBLIC_SESSION,        /* leak-rotate's other writes (a leaked session's revocation) */
	/* ---- codeartifact-lock (w3-rst3) ---- */
	FR_CA_PUT_DOMAIN_POLICY,  /* codeartifact:PutDomainPermissionsPolicy {domain, domainOwner, policyDocument} */
	FR_CA_DELETE_DOMAIN_POLICY,   /* codeartifact:DeleteDomainPermissionsPolicy {domain, domainOwner} */
	FR_CA_PUT_REPO_POLICY,    /* codeartifact:PutRepositoryPermissionsPolicy {..., repository, policyDocument} */
	FR_CA_DELETE_REPO_POLICY, /* codeartifact:DeleteRepositoryPermissionsPolicy {..., repository} */
	/* ---- end w3-rst3 ---- */
	FR_CG_OLD_SECRET,         /* w4-rst: cognito-idp:AddUserPoolClientSecret {UserPoolId, ClientId,
				   * ClientSecretId (the old one's id; its value is never recorded)}:
				   * never applied; "already" while it still exists, else refused */
};
/* By api; ec2:ModifyInstanceAttribute by the attribute its args name. */
enum fr_kind fr_kind_of(const char *api, const cJSON *args);
/* An entry's kind: fr_kind_of, except that an entry marked
 * "secret_public": true (leak-rotate's record: what it contained is a
 * leaked credential) is one of the FR_PUBLIC_* refusals whatever its api.
 * A mark can only make this function do less, never more: trusting it
 * from the record is safe. */
enum fr_kind fr_kind_of_entry(const cJSON *entry);

/* DynamoDB resource policies (data-breach, w3-rst2): the document without
 * the statements of data-breach's Deny shape (Sid DB_DENY_SID + optional
 * digits, Effect Deny, Action dynamodb:*, ArnLike aws:PrincipalArn), as a
 * canonical {"Version"?, "Statement": [...]} (caller deletes); NULL when
 * `doc` is not a policy document. */
#define FR_DDB_DENY_SID "FirebreakDataBreachDeny"   /* data_breach.h DB_DENY_SID */
cJSON *fr_ddb_without_deny(const char *doc);

/* ---- codeartifact-lock (w3-rst3) ---- */
/* The document without codeartifact-lock's Deny statements (Sid
 * FR_CA_DENY_SID + 16 lowercase hex digits, Effect Deny, Principal.AWS one
 * ARN, Action codeartifact:*, Resource *, nothing else), as a canonical
 * {"Version"?, "Statement": [...]} (caller deletes); NULL when `doc` is not
 * a policy document. *had counts the statements taken out (may be NULL). */
#define FR_CA_DENY_SID "FirebreakCodeArtifactLock"   /* codeartifact_lock.h CA_SID_PREFIX */
cJSON *fr_ca_without_deny(const char *doc, int *had);
/* ---- end w3-rst3 ---- */

/* 1 when an entry of this kind is checked (a read of its target, then
 * fr_decide); 0 for the kinds decided without a read: evidence kept,
 * refused by design, unsupported. */
int fr_checked(enum fr_kind k);

/* The entry's args as the kit's input (wire names, aws.h): EC2's
 * ModifyNetworkInterfaceAttribute Groups -> SecurityGroupId, an
 * IpPermission's UserIdGroupPairs -> Groups; a DeleteSecurityGroup by name
 * takes the id resolved (`sg_id`). Only the members the kind uses are
 * copied, each checked for type (an id is a string of at most 255
 * characters without control characters). NULL with why when the args are
 * not the kind's. */
cJSON *fr_wire(enum fr_kind k, const cJSON *args, const char *sg_id, char *why, size_t whylen);

enum fr_decision {
	FR_APPLY,         /* the state is still as the containment left it */
	FR_ALREADY,       /* the state is already as the undo would leave it */
	FR_CHANGED,       /* changed since by someone else (or gone): not touched */
	FR_SKIP,          /* kept by policy (evidence) or unsupported: not touched */
	FR_REFUSED,       /* w3-rst1: not restored by design (FR_BY_DESIGN): stays contained */
};
const char *fr_decision_name(enum fr_decision d);

/* What the precondition read found: `found` 0 when the read answered "not
 * there" (the kind's absent codes), `answer` the kit's answer (borrowed),
 * `created` the groups this incident created (ids and names, from its
 * DeleteSecurityGroup entries: an interface on nothing but those is as the
 * containment left it). */
struct fr_state {
	int found;
	const cJSON *answer;        /* FR_DDB_*: GetResourcePolicy's {Policy, RevisionId};
				     * FR_CA_*: Get*PermissionsPolicy's {policy: {document, revision}} */
	const char *const *created;
	size_t ncreated;
	const char *incident_id;   /* w3-rst1: the incident undone (its firebreak:incident tag) */
	/* FR_CG_OLD_SECRET: ListUserPoolClientSecrets' {ClientSecrets: [...]} */
};
enum fr_decision fr_decide(enum fr_kind k, const cJSON *args, const struct fr_state *s,
			   char *why, size_t whylen);

/* w3-rst1: why an api is never applied here (FR_BY_DESIGN), NULL when it is
 * not one of those; static string. */
const char *fr_by_design(const char *api, const cJSON *args);

/* IAM answers a policy document URL-encoded: 1 when a (decoded) and b are
 * the same JSON. */
int fr_same_doc(const char *a, const char *b);
/* 1 when a policy is one firebreak writes: the revocation
 * (AWSRevokeOlderSessions, exactly kit_revocation_policy's document for
 * its cut: nothing added since) or the deny-all quarantine policy
 * (firebreak-quarantine). */
int fr_firebreak_policy(const char *name, const char *doc);

#endif
