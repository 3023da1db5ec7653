/*
 * iam-contain: the pure stages (stages.c) main.c sequences around the kit.
 * No I/O here: every function takes what was read and returns a decision,
 * so tests/unit/test_iam_contain.c drives them table by table.
 *
 *   ic_settings_from_env()  FIREBREAK_MIN_SEVERITY, FIREBREAK_IAM_REVOKE_COMPUTE_ROLES
 *   ic_parse()              event -> struct ic_event (invalid / skip / act)
 *   ic_actor_decide()       who is contained, how, or why not
 *   ic_revert_plan()        the change -> the write that undoes it, with the
 *                           prior state from the target's CloudTrail history
 *   ic_compute_services()   the compute services a trust policy names
 */
#ifndef FB_IAM_CONTAIN_H
#define FB_IAM_CONTAIN_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "fb_err.h"
#include "resp.h"

#define IC_NAME_LEN 132      /* IAM user/role/group/policy names: 1..128 */
#define IC_ARN_LEN 600       /* ARNs we accept (IAM's own limit is 2048; ours is tighter) */
#define IC_KEY_LEN 132       /* access key ids: 16..128 */
#define IC_MAX_DOC 131072    /* a policy document larger than this is not a real one */
#define IC_QUARANTINE_POLICY "firebreak-quarantine"
#define IC_DENY_ALL_ARN_FMT "arn:%.15s:iam::aws:policy/AWSDenyAll"
#define IC_DEFAULT_MIN_SEVERITY 4.0

struct ic_settings {
	double min_severity;          /* FIREBREAK_MIN_SEVERITY (GuardDuty), default 4.0 */
	int revoke_compute_roles;     /* FIREBREAK_IAM_REVOKE_COMPUTE_ROLES, default true */
};
enum fb_err ic_settings_from_env(struct ic_settings *s, char *err, size_t errlen);

enum ic_source { IC_SRC_CLOUDTRAIL, IC_SRC_GUARDDUTY, IC_SRC_MANUAL };

enum ic_op {
	IC_OP_NONE = 0,
	IC_OP_PUT_USER_POLICY, IC_OP_PUT_ROLE_POLICY, IC_OP_PUT_GROUP_POLICY,
	IC_OP_ATTACH_USER_POLICY, IC_OP_ATTACH_ROLE_POLICY, IC_OP_ATTACH_GROUP_POLICY,
	IC_OP_CREATE_POLICY_VERSION, IC_OP_SET_DEFAULT_POLICY_VERSION,
	IC_OP_UPDATE_ASSUME_ROLE_POLICY, IC_OP_CREATE_ACCESS_KEY,
	IC_OP_CREATE_LOGIN_PROFILE, IC_OP_UPDATE_LOGIN_PROFILE, IC_OP_ADD_USER_TO_GROUP,
	IC_OP_DELETE_USER_PERMISSIONS_BOUNDARY, IC_OP_DELETE_ROLE_PERMISSIONS_BOUNDARY
};
/* The CloudTrail eventName of an op ("PutUserPolicy"), "" for IC_OP_NONE. */
const char *ic_op_name(enum ic_op op);
enum ic_op ic_op_from_name(const char *name);

enum ic_pkind { IC_P_NONE = 0, IC_P_USER, IC_P_ROLE, IC_P_ROOT, IC_P_OTHER };

/* A principal as firebreak acts on it: a user (by name) or a role (its ARN,
 * path included when the event carried it). */
struct ic_principal {
	enum ic_pkind kind;
	char arn[IC_ARN_LEN];       /* user or role ARN (not the session) */
	char session_arn[IC_ARN_LEN]; /* userIdentity.arn as sent ("" when none) */
	char name[IC_NAME_LEN];     /* user or role name */
	char account[16];
	char type[32];              /* userIdentity.type as sent */
	int service_linked;         /* role path aws-service-role/ */
};

struct ic_event {
	enum ic_source src;
	enum ic_op op;
	char event_name[64];        /* CloudTrail eventName, finding type, "manual" */
	char event_id[128];         /* CloudTrail eventID or finding id; "" none */
	int64_t event_ms;           /* detail.eventTime / finding updatedAt; 0 unknown */
	char account[16];           /* where the change (or finding) is */
	char partition[16];
	struct ic_principal actor;  /* who to contain */
	char access_key[IC_KEY_LEN]; /* the key the actor used / the finding's key */
	/* the change's target (CloudTrail requestParameters) */
	char user[IC_NAME_LEN], role[IC_NAME_LEN], group[IC_NAME_LEN], policy_name[IC_NAME_LEN];
	char policy_arn[IC_ARN_LEN];
	char version_id[16];        /* CreatePolicyVersion: the new one (responseElements) */
	int set_as_default;
	char new_key[IC_KEY_LEN];   /* CreateAccessKey: the key made (responseElements) */
	char *doc_after;            /* owned: the document the change wrote, compact JSON; NULL none */
	/* GuardDuty */
	double severity;
	int exfiltration;           /* finding type is credential exfiltration */
	char reason[256];           /* manual: "reason" */
};
void ic_event_cleanup(struct ic_event *e);

enum ic_parsed { IC_INVALID, IC_SKIP, IC_ACT };
/* Parses an EventBridge envelope (aws.iam CloudTrail call, aws.guardduty
 * finding) or the manual form. IC_INVALID / IC_SKIP fill `why`. e is
 * zeroed first; release with ic_event_cleanup in every case. */
enum ic_parsed ic_parse(const cJSON *ev, const struct ic_settings *set, struct ic_event *e,
			char *why, size_t whylen);

/* userIdentity -> principal. 0 when it names no principal we understand
 * (kind IC_P_OTHER / IC_P_ROOT are still filled and return 1). */
int ic_principal_from_identity(const cJSON *ui, struct ic_principal *p);
/* A user or role ARN (manual form) -> principal; 0 when it does not parse. */
int ic_principal_from_arn(const char *arn, struct ic_principal *p);
/* IAM name syntax: [A-Za-z0-9+=,.@_-]{1,128}. */
int ic_name_ok(const char *s);

enum ic_actor_action {
	IC_ACTOR_CONTAIN_USER,   /* keys Inactive + deny-all inline policy */
	IC_ACTOR_REVOKE_ROLE,    /* revoke sessions issued before now */
	IC_ACTOR_REPORT,         /* not contained, reported (root, service-linked, unknown, foreign) */
	IC_ACTOR_TRUSTED,        /* a trusted principal: the whole event is reported, not acted on */
	IC_ACTOR_SELF            /* firebreak itself: loop safety, nothing at all */
};
struct ic_actor_decision {
	enum ic_actor_action action;
	char why[300];
};
/* self_arn: this function's identity (sts:GetCallerIdentity, may be ""),
 * member_role: FIREBREAK_MEMBER_ROLE (may be NULL). */
enum ic_actor_action ic_actor_decide(const struct ic_event *e, const struct resp_config *cfg,
				     const char *self_arn, struct ic_actor_decision *d);

/* The compute services a role's trust policy (JSON text) lets assume it:
 * "ec2.amazonaws.com,ecs-tasks.amazonaws.com,lambda.amazonaws.com" (at most
 * n bytes), "" when none. Returns how many. */
int ic_compute_services(const char *trust_doc, char *out, size_t n);

enum ic_revert_kind {
	IC_RV_NONE,              /* nothing to undo (reported; e.g. a version not made default) */
	IC_RV_DELETE_INLINE,     /* Delete{User,Role,Group}Policy */
	IC_RV_PUT_INLINE,        /* Put{User,Role,Group}Policy prior */
	IC_RV_DETACH,            /* Detach{User,Role,Group}Policy */
	IC_RV_SET_DEFAULT,       /* SetDefaultPolicyVersion prior */
	IC_RV_TRUST,             /* UpdateAssumeRolePolicy prior (or deny-all when undecided) */
	IC_RV_KEY_INACTIVE,      /* UpdateAccessKey Inactive */
	IC_RV_REMOVE_FROM_GROUP, /* RemoveUserFromGroup */
	IC_RV_DELETE_LOGIN,      /* DeleteLoginProfile */
	IC_RV_PUT_BOUNDARY,      /* Put{User,Role}PermissionsBoundary prior */
	IC_RV_UNDECIDED          /* no safe write exists: page, write nothing */
};
struct ic_revert {
	enum ic_revert_kind kind;
	int decided;             /* 0: the prior state is unknown; the write is the safe state */
	char *prior_doc;         /* owned: IC_RV_PUT_INLINE / IC_RV_TRUST */
	char prior_version[16];  /* IC_RV_SET_DEFAULT */
	char prior_arn[IC_ARN_LEN]; /* IC_RV_PUT_BOUNDARY */
	char prior_by[IC_ARN_LEN];  /* who set the prior state ("" unknown) */
	char why[400];
};
void ic_revert_cleanup(struct ic_revert *rv);

/* The deny-all trust policy the undecided trust revert writes. */
#define IC_DENY_ALL_TRUST \
	"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":{\"AWS\":\"*\"}," \
	"\"Action\":\"sts:AssumeRole\"}]}"
/* The deny-all inline policy of a contained user. */
#define IC_DENY_ALL_POLICY \
	"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"FirebreakQuarantine\",\"Effect\":\"Deny\"," \
	"\"Action\":\"*\",\"Resource\":\"*\"}]}"

/* 1 when the change needs the target's CloudTrail history to be undone. */
int ic_needs_history(const struct ic_event *e);
/* The LookupEvents ResourceName of the target's history: the user, role or
 * group name, or the policy ARN. NULL when none. */
const char *ic_history_resource(const struct ic_event *e);
/* The revert of e. `events` is the target's LookupEvents Events (any
 * order; may be NULL when the change needs no history), `complete` whether
 * that read covered everything. Fills rv (zeroed first). */
void ic_revert_plan(const struct ic_event *e, const cJSON *events, int complete,
		    struct ic_revert *rv);

/* The policy document text of a CloudTrail requestParameters member (a
 * JSON string as CloudTrail records it, or an object), compact; NULL when
 * absent, not a JSON object or larger than IC_MAX_DOC. Caller frees. */
char *ic_doc_compact(const cJSON *member);
/* A document as IAM answers it (URL-encoded JSON, RFC 3986) decoded and
 * compacted; NULL when it is not JSON. Caller frees. */
char *ic_doc_from_iam(const char *encoded);
/* 1 when both documents are the same JSON (compact text compared). */
int ic_doc_same(const char *a, const char *b);

#endif
