/*
 * iam-contain: a compromised IAM principal is cut off and its IAM change
 * reverted within seconds (issue 18). README.md beside this file documents
 * triggers, actions, decisions and IAM; iam_contain.h declares the pure
 * stages this file sequences around the kit (runtime/kit.h):
 *
 *   ic_parse()          event -> the change, its actor (invalid / skip: no call)
 *   ic_actor_decide()   who is contained, how, or why not
 *   round 1 (reads, concurrently): the actor's keys and quarantine policy,
 *                       the target's current state (the restore entries and
 *                       "already" come from it)
 *   round 2 (writes):   contain the actor: keys Inactive + deny-all policy,
 *                       or the role's older sessions revoked (kit)
 *   history:            the target's CloudTrail (runtime/cloudtrail, ct_)
 *                       when the prior state must be learnt
 *   ic_revert_plan()    -> round 3: the write that undoes the change
 *   evidence            the event, the documents before and after, the
 *                       history read and the undo record, write-once in
 *                       the evidence bucket (runtime/evidence.h)
 */
#include "iam_contain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "akey.h"
#include "aws.h"
#include "buf.h"
#include "cloudtrail.h"
#include "evidence.h"
#include "fb_err.h"
#include "fn.h"
#include "kit.h"
#include "log.h"
#include "lr.h"
#include "resp.h"

#define IC_FUNCTION "iam-contain"
#define IC_DEADLINE_MARGIN_MS 300
#define IC_RESERVE_MS 1500       /* left for the revert and the report after the history read */
#define IC_HISTORY_PAGES 5       /* 250 events of the target */

struct ic_state {
	struct fn_base fn;
	struct ic_settings set;
	char self_arn[IC_ARN_LEN];
	int self_known;
};

static enum fb_err ic_settings(void *state, char *err, size_t errlen)
{
	return ic_settings_from_env(&((struct ic_state *)state)->set, err, errlen);
}

/* Who this function is (loop safety: its own IAM writes come back as
 * events). Asked once per container; sts:GetCallerIdentity needs no
 * permission. */
static const char *ic_self(struct ic_state *st, struct aws_error *err)
{
	cJSON *res = NULL;
	const char *a;

	if (st->self_known)
		return st->self_arn;
	memset(err, 0, sizeof(*err));
	if (aws_do(st->fn.aws, "sts", "GetCallerIdentity", NULL, &res, err) == FB_OK) {
		a = resp_get_str(res, "GetCallerIdentityResponse.GetCallerIdentityResult.Arn");
		if (!a)
			a = resp_get_str(res, "GetCallerIdentityResult.Arn");
		if (a && *a) {
			buf_copy_str(st->self_arn, sizeof(st->self_arn), a);
			st->self_known = 1;
		}
	}
	if (!st->self_known)
		log_warn("cannot learn own identity from sts:GetCallerIdentity: %s",
			 err->code[0] ? err->code : "no Arn in the answer");
	cJSON_Delete(res);
	return st->self_known ? st->self_arn : NULL;
}

/* ---- pages --------------------------------------------------------------------------- */

static const struct kit_paging pg_attached = KIT_IAM_PAGING("AttachedPolicies");
static const struct kit_paging pg_groups = KIT_IAM_PAGING("Groups");

/* The document of a Get*Policy answer (decoded, compact; caller frees). */
static char *out_doc(const struct kit_step *s, const char *path)
{
	const char *enc = kit_out(s) ? resp_get_str(kit_out(s), path) : NULL;

	return enc ? ic_doc_from_iam(enc) : NULL;
}

/* ---- one invocation --------------------------------------------------------------------- */

struct ic_run {
	struct ic_state *st;
	struct resp *r;
	struct kit *k;
	struct aws_client *c;       /* the event's account (kit_client) */
	struct ic_event *e;
	cJSON *docs;                /* r->extra["documents"] (borrowed) */
	struct evidence ev;
};

/* Round 1 handles for the actor and the target. */
struct ic_reads {
	struct kit_step *keys, *quarantine, *role;
	struct kit_step *cur, *attached, *groups, *login, *tkeys, *policy, *principal;
};

static void add_actor_reads(struct ic_run *u, struct kit_round *rd, enum ic_actor_action a,
			    struct ic_reads *h)
{
	const struct ic_event *e = u->e;

	if (a == IC_ACTOR_CONTAIN_USER) {
		h->keys = kit_add(rd, &(struct kit_spec){ .step = "list-actor-keys", .service = "iam",
			.op = "ListAccessKeys", .target = e->actor.arn, .kind = RESP_READ,
			.in = kit_obj("UserName", e->actor.name, KIT_END), .paging = &akey_pages, .client = u->c });
		h->quarantine = kit_add(rd, &(struct kit_spec){ .step = "read-quarantine-policy",
			.service = "iam", .op = "GetUserPolicy", .target = e->actor.arn, .kind = RESP_READ,
			.in = kit_obj("UserName", e->actor.name, "PolicyName", IC_QUARANTINE_POLICY, KIT_END),
			.absent = "NoSuchEntity", .client = u->c });
	} else if (a == IC_ACTOR_REVOKE_ROLE && e->src == IC_SRC_GUARDDUTY) {
		/* what assumes the role: the blast radius of revoking it */
		h->role = kit_add(rd, &(struct kit_spec){ .step = "read-actor-role", .service = "iam",
			.op = "GetRole", .target = e->actor.arn, .kind = RESP_READ,
			.in = kit_obj("RoleName", e->actor.name, KIT_END), .client = u->c });
	}
}

/* The target's current state: what the restore entry puts back and what
 * says the revert is already done. */
static void add_target_reads(struct ic_run *u, struct kit_round *rd, struct ic_reads *h)
{
	const struct ic_event *e = u->e;

	switch (e->op) {
	case IC_OP_PUT_USER_POLICY:
		h->cur = kit_add(rd, &(struct kit_spec){ .step = "read-target-policy", .service = "iam",
			.op = "GetUserPolicy", .target = e->user, .kind = RESP_READ,
			.in = kit_obj("UserName", e->user, "PolicyName", e->policy_name, KIT_END), .absent = "NoSuchEntity",
			.client = u->c });
		break;
	case IC_OP_PUT_ROLE_POLICY:
		h->cur = kit_add(rd, &(struct kit_spec){ .step = "read-target-policy", .service = "iam",
			.op = "GetRolePolicy", .target = e->role, .kind = RESP_READ,
			.in = kit_obj("RoleName", e->role, "PolicyName", e->policy_name, KIT_END), .absent = "NoSuchEntity",
			.client = u->c });
		break;
	case IC_OP_PUT_GROUP_POLICY:
		h->cur = kit_add(rd, &(struct kit_spec){ .step = "read-target-policy", .service = "iam",
			.op = "GetGroupPolicy", .target = e->group, .kind = RESP_READ,
			.in = kit_obj("GroupName", e->group, "PolicyName", e->policy_name, KIT_END), .absent = "NoSuchEntity",
			.client = u->c });
		break;
	case IC_OP_ATTACH_USER_POLICY:
		h->attached = kit_add(rd, &(struct kit_spec){ .step = "read-attached", .service = "iam",
			.op = "ListAttachedUserPolicies", .target = e->user, .kind = RESP_READ,
			.in = kit_obj("UserName", e->user, KIT_END), .paging = &pg_attached, .client = u->c });
		break;
	case IC_OP_ATTACH_ROLE_POLICY:
		h->attached = kit_add(rd, &(struct kit_spec){ .step = "read-attached", .service = "iam",
			.op = "ListAttachedRolePolicies", .target = e->role, .kind = RESP_READ,
			.in = kit_obj("RoleName", e->role, KIT_END), .paging = &pg_attached, .client = u->c });
		break;
	case IC_OP_ATTACH_GROUP_POLICY:
		h->attached = kit_add(rd, &(struct kit_spec){ .step = "read-attached", .service = "iam",
			.op = "ListAttachedGroupPolicies", .target = e->group, .kind = RESP_READ,
			.in = kit_obj("GroupName", e->group, KIT_END), .paging = &pg_attached, .client = u->c });
		break;
	case IC_OP_ADD_USER_TO_GROUP:
		h->groups = kit_add(rd, &(struct kit_spec){ .step = "read-user-groups", .service = "iam",
			.op = "ListGroupsForUser", .target = e->user, .kind = RESP_READ,
			.in = kit_obj("UserName", e->user, KIT_END), .paging = &pg_groups, .client = u->c });
		break;
	case IC_OP_CREATE_LOGIN_PROFILE:
	case IC_OP_UPDATE_LOGIN_PROFILE:
		h->login = kit_add(rd, &(struct kit_spec){ .step = "read-login-profile", .service = "iam",
			.op = "GetLoginProfile", .target = e->user, .kind = RESP_READ,
			.in = kit_obj("UserName", e->user, KIT_END), .absent = "NoSuchEntity", .client = u->c });
		break;
	case IC_OP_CREATE_ACCESS_KEY:
		if (!h->keys || strcmp(e->user, e->actor.name) || u->e->actor.kind != IC_P_USER)
			h->tkeys = kit_add(rd, &(struct kit_spec){ .step = "list-target-keys", .service = "iam",
				.op = "ListAccessKeys", .target = e->user, .kind = RESP_READ,
				.in = kit_obj("UserName", e->user, KIT_END), .paging = &akey_pages, .client = u->c });
		break;
	case IC_OP_CREATE_POLICY_VERSION:
	case IC_OP_SET_DEFAULT_POLICY_VERSION:
		h->policy = kit_add(rd, &(struct kit_spec){ .step = "read-policy", .service = "iam",
			.op = "GetPolicy", .target = e->policy_arn, .kind = RESP_READ,
			.in = kit_obj("PolicyArn", e->policy_arn, KIT_END), .client = u->c });
		break;
	case IC_OP_UPDATE_ASSUME_ROLE_POLICY:
	case IC_OP_DELETE_ROLE_PERMISSIONS_BOUNDARY:
		h->principal = kit_add(rd, &(struct kit_spec){ .step = "read-target-role", .service = "iam",
			.op = "GetRole", .target = e->role, .kind = RESP_READ,
			.in = kit_obj("RoleName", e->role, KIT_END), .client = u->c });
		break;
	case IC_OP_DELETE_USER_PERMISSIONS_BOUNDARY:
		h->principal = kit_add(rd, &(struct kit_spec){ .step = "read-target-user", .service = "iam",
			.op = "GetUser", .target = e->user, .kind = RESP_READ,
			.in = kit_obj("UserName", e->user, KIT_END), .client = u->c });
		break;
	case IC_OP_NONE:
		break;
	}
}

/* ---- containment ----------------------------------------------------------------------- */

/* Keys Inactive (never deleted) and the deny-all inline policy. Returns
 * the number of writes made or planned. */
static int contain_user(struct ic_run *u, struct ic_reads *h)
{
	const struct ic_event *e = u->e;
	struct kit_round *rd = kit_round_new(u->k);
	struct kit_step *put;
	const cJSON *key;
	char *prior = NULL;
	int writes = 0;

	if (kit_ok(h->keys)) {
		if (!kit_complete(h->keys))
			kit_fail(h->keys, "more keys than the page cap: some keys may stay Active");
		cJSON_ArrayForEach(key, kit_items(h->keys)) {
			const char *id = resp_get_str(key, "AccessKeyId");

			if (id)
				writes += kit_status(akey_deactivate(rd, "deactivate-key", e->actor.name, id,
								     resp_get_str(key, "Status"), u->c)) != RESP_ALREADY;
		}
	}
	put = kit_add(rd, &(struct kit_spec){ .step = "quarantine-policy", .service = "iam", .op = "PutUserPolicy",
		.target = e->actor.arn, .kind = RESP_WRITE,
		.in = kit_obj("UserName", e->actor.name, "PolicyName", IC_QUARANTINE_POLICY, "PolicyDocument",
			  IC_DENY_ALL_POLICY, KIT_END),
		.restore = NULL, .detail = "deny-all inline policy " IC_QUARANTINE_POLICY, .client = u->c });
	if (!kit_ok(h->quarantine)) {
		/* its undo cannot be recorded: no write */
		kit_skip(put, "the prior %s policy could not be read", IC_QUARANTINE_POLICY);
	} else if (kit_found(h->quarantine) && (prior = out_doc(h->quarantine, "PolicyDocument")) &&
		   ic_doc_same(prior, IC_DENY_ALL_POLICY)) {
		kit_already(put, "deny-all policy already in place");
	} else {
		/* the kit takes spec.restore at kit_add; the undo depends on the
		 * read, so it is recorded here, before the round runs */
		resp_restore_add(u->r, kit_found(h->quarantine) && prior
			? kit_undo_step("quarantine-policy", "iam:PutUserPolicy",
				kit_obj("UserName", e->actor.name, "PolicyName", IC_QUARANTINE_POLICY, "PolicyDocument", prior,
					KIT_END))
			: kit_undo_step("quarantine-policy", "iam:DeleteUserPolicy",
				kit_obj("UserName", e->actor.name, "PolicyName", IC_QUARANTINE_POLICY, KIT_END)));
		writes++;
	}
	free(prior);
	kit_run(rd);
	/* IAM's inline-policy quota (2,048 characters per user) can be full:
	 * the attacker may have filled it. AWS's managed AWSDenyAll does the
	 * same without using that quota. */
	if (kit_status(put) == RESP_FAILED && !strcmp(kit_err(put)->code, "LimitExceeded")) {
		char arn[96];
		struct kit_round *r2 = kit_round_new(u->k);

		kit_set_optional(put);
		snprintf(arn, sizeof(arn), IC_DENY_ALL_ARN_FMT, e->partition);
		kit_add(r2, &(struct kit_spec){ .step = "quarantine-managed-policy", .service = "iam",
			.op = "AttachUserPolicy", .target = e->actor.arn, .kind = RESP_WRITE,
			.in = kit_obj("UserName", e->actor.name, "PolicyArn", arn, KIT_END),
			.restore = kit_undo_step("quarantine-managed-policy", "iam:DetachUserPolicy",
				kit_obj("UserName", e->actor.name, "PolicyArn", arn, KIT_END)),
			.detail = "inline quota full (LimitExceeded): AWSDenyAll attached instead", .client = u->c });
		kit_run(r2);
		kit_round_free(r2);
	}
	kit_round_free(rd);
	return writes;
}

/* A role: its sessions issued before now end (kit). A role that compute
 * (EC2, ECS tasks, Lambda) assumes is revoked only for a credential
 * exfiltration finding, and the setting can turn that off. */
static void contain_role(struct ic_run *u, struct ic_reads *h)
{
	const struct ic_event *e = u->e;
	char svcs[128] = "", *trust = NULL;

	if (h->role && kit_ok(h->role)) {
		trust = out_doc(h->role, "Role.AssumeRolePolicyDocument");
		if (ic_compute_services(trust, svcs, sizeof(svcs)) > 0) {
			cJSON_AddStringToObject(u->r->extra, "blast_radius", svcs);
			if (!e->exfiltration || !u->st->set.revoke_compute_roles) {
				int i = resp_step_begin(u->r, "revoke-sessions", "iam:PutRolePolicy", e->actor.arn, RESP_WRITE);

				if (!resp_step_dry(u->r, i))
					resp_step_end(u->r, i, RESP_SKIPPED, !e->exfiltration
						? "role assumed by compute services; revoked only for credential exfiltration"
						: "role assumed by compute services; FIREBREAK_IAM_REVOKE_COMPUTE_ROLES=false", NULL);
				else
					resp_step_detail(u->r, i, "would be skipped: compute role");
				free(trust);
				return;
			}
		}
	}
	free(trust);
	kit_revoke_sessions(u->k, &(struct kit_revoke){ .role_arn = e->actor.arn,
		.not_before_ms = e->event_ms ? e->event_ms : u->r->received_ms, .client = u->c });
}

/* ---- the revert ---------------------------------------------------------------------------- */

static const char *kind_of(const struct ic_event *e, const char **key, const char **name)
{
	switch (e->op) {
	case IC_OP_PUT_USER_POLICY: case IC_OP_ATTACH_USER_POLICY: case IC_OP_DELETE_USER_PERMISSIONS_BOUNDARY:
		*key = "UserName";
		*name = e->user;
		return "User";
	case IC_OP_PUT_ROLE_POLICY: case IC_OP_ATTACH_ROLE_POLICY: case IC_OP_DELETE_ROLE_PERMISSIONS_BOUNDARY:
	case IC_OP_UPDATE_ASSUME_ROLE_POLICY:
		*key = "RoleName";
		*name = e->role;
		return "Role";
	default:
		*key = "GroupName";
		*name = e->group;
		return "Group";
	}
}

static void add_doc(struct ic_run *u, const char *which, const char *doc)
{
	cJSON *d = doc ? cJSON_Parse(doc) : NULL;

	if (d)
		cJSON_AddItemToObject(u->docs, which, d);
}

/* Inline policy writes: one literal call site per kind (IAM derivation). */
static struct kit_step *inline_put(struct ic_run *u, struct kit_round *rd, const char *doc, cJSON *restore)
{
	const struct ic_event *e = u->e;
	const char *key, *name, *kind = kind_of(e, &key, &name);
	struct kit_spec sp = { .step = "revert", .target = name, .kind = RESP_WRITE, .restore = restore,
			       .in = kit_obj(key, name, "PolicyName", e->policy_name, "PolicyDocument", doc, KIT_END),
			       .detail = "prior document put back", .client = u->c };

	if (*kind == 'U') {
		sp.service = "iam";
		sp.op = "PutUserPolicy";
	} else if (*kind == 'R') {
		sp.service = "iam";
		sp.op = "PutRolePolicy";
	} else {
		sp.service = "iam";
		sp.op = "PutGroupPolicy";
	}
	return kit_add(rd, &sp);
}

static struct kit_step *inline_delete(struct ic_run *u, struct kit_round *rd, cJSON *restore)
{
	const struct ic_event *e = u->e;
	const char *key, *name, *kind = kind_of(e, &key, &name);
	struct kit_spec sp = { .step = "revert", .target = name, .kind = RESP_WRITE, .restore = restore,
			       .in = kit_obj(key, name, "PolicyName", e->policy_name, KIT_END), .absent = "NoSuchEntity",
			       .detail = "inline policy deleted", .client = u->c };

	if (*kind == 'U') {
		sp.service = "iam";
		sp.op = "DeleteUserPolicy";
	} else if (*kind == 'R') {
		sp.service = "iam";
		sp.op = "DeleteRolePolicy";
	} else {
		sp.service = "iam";
		sp.op = "DeleteGroupPolicy";
	}
	return kit_add(rd, &sp);
}

static cJSON *undo_put(const struct ic_event *e, const char *doc)
{
	const char *key, *name, *kind = kind_of(e, &key, &name);
	char api[40];

	snprintf(api, sizeof(api), "iam:Put%sPolicy", kind);
	return kit_undo_step("revert", api, kit_obj(key, name, "PolicyName", e->policy_name, "PolicyDocument", doc,
						   KIT_END));
}

static cJSON *undo_delete(const struct ic_event *e)
{
	const char *key, *name, *kind = kind_of(e, &key, &name);
	char api[40];

	snprintf(api, sizeof(api), "iam:Delete%sPolicy", kind);
	return kit_undo_step("revert", api, kit_obj(key, name, "PolicyName", e->policy_name, KIT_END));
}

static int items_have(const cJSON *items, const char *member, const char *value)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, items) {
		const char *v = resp_get_str(it, member);

		if (v && !strcmp(v, value))
			return 1;
	}
	return 0;
}

static const char *items_status(const cJSON *items, const char *id)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, items) {
		const char *v = resp_get_str(it, "AccessKeyId");

		if (v && !strcmp(v, id))
			return resp_get_str(it, "Status");
	}
	return NULL;
}

/* The state read in round 1 must be there to record the undo. */
static int need_read(struct kit_step *w, const struct kit_step *read)
{
	if (kit_ok(read))
		return 1;
	kit_skip(w, "the current state could not be read: its undo cannot be recorded");
	return 0;
}

static void revert(struct ic_run *u, struct ic_reads *h, const struct ic_revert *rv)
{
	const struct ic_event *e = u->e;
	struct kit_round *rd = kit_round_new(u->k);
	struct kit_step *w = NULL;
	char *cur = NULL;
	const char *key, *name;

	kind_of(e, &key, &name);
	switch (rv->kind) {
	case IC_RV_NONE:
	case IC_RV_UNDECIDED:
		break;
	case IC_RV_PUT_INLINE:
	case IC_RV_DELETE_INLINE:
		cur = kit_ok(h->cur) && kit_found(h->cur) ? out_doc(h->cur, "PolicyDocument") : NULL;
		add_doc(u, "after", cur ? cur : e->doc_after);
		add_doc(u, "before", rv->prior_doc);
		if (rv->kind == IC_RV_PUT_INLINE) {
			w = inline_put(u, rd, rv->prior_doc, cur ? undo_put(e, cur) : undo_delete(e));
			if (need_read(w, h->cur) && cur && ic_doc_same(cur, rv->prior_doc))
				kit_already(w, "the prior document is in place");
		} else {
			w = inline_delete(u, rd, cur ? undo_put(e, cur) : NULL);
			if (need_read(w, h->cur) && !kit_found(h->cur))
				kit_already(w, "the policy is not there");
		}
		break;
	case IC_RV_DETACH: {
		struct kit_spec sp = { .step = "revert", .target = name, .kind = RESP_WRITE,
				       .in = kit_obj(key, name, "PolicyArn", e->policy_arn, KIT_END), .absent = "NoSuchEntity",
				       .detail = "policy detached", .client = u->c };
		char api[40];

		snprintf(api, sizeof(api), "iam:Attach%sPolicy", *key == 'U' ? "User" : *key == 'R' ? "Role" : "Group");
		sp.restore = kit_undo_step("revert", api, kit_obj(key, name, "PolicyArn", e->policy_arn, KIT_END));
		/* one literal pair per call site (tests/infra/iamderive.py) */
		if (*key == 'U') {
			sp.service = "iam";
			sp.op = "DetachUserPolicy";
		} else if (*key == 'R') {
			sp.service = "iam";
			sp.op = "DetachRolePolicy";
		} else {
			sp.service = "iam";
			sp.op = "DetachGroupPolicy";
		}
		w = kit_add(rd, &sp);
		if (need_read(w, h->attached) && kit_complete(h->attached) &&
		    !items_have(kit_items(h->attached), "PolicyArn", e->policy_arn))
			kit_already(w, "the policy is not attached");
		break;
	}
	case IC_RV_REMOVE_FROM_GROUP:
		w = kit_add(rd, &(struct kit_spec){ .step = "revert", .service = "iam", .op = "RemoveUserFromGroup",
			.target = e->user, .kind = RESP_WRITE,
			.in = kit_obj("GroupName", e->group, "UserName", e->user, KIT_END),
			.restore = kit_undo_step("revert", "iam:AddUserToGroup",
				kit_obj("GroupName", e->group, "UserName", e->user, KIT_END)),
			.absent = "NoSuchEntity", .detail = "user removed from the group", .client = u->c });
		if (need_read(w, h->groups) && kit_complete(h->groups) &&
		    !items_have(kit_items(h->groups), "GroupName", e->group))
			kit_already(w, "the user is not in the group");
		break;
	case IC_RV_KEY_INACTIVE: {
		const struct kit_step *ks = h->tkeys ? h->tkeys : h->keys;
		const char *stt;

		w = kit_add(rd, &(struct kit_spec){ .step = "revert", .service = "iam", .op = "UpdateAccessKey",
			.target = e->new_key, .kind = RESP_WRITE,
			.in = kit_obj("UserName", e->user, "AccessKeyId", e->new_key, "Status", "Inactive", KIT_END),
			.restore = kit_undo_step("revert", "iam:UpdateAccessKey",
				kit_obj("UserName", e->user, "AccessKeyId", e->new_key, "Status", "Active", KIT_END)),
			.absent = "NoSuchEntity", .detail = "the new key set Inactive (kept as evidence)", .client = u->c });
		stt = kit_ok(ks) ? items_status(kit_items(ks), e->new_key) : NULL;
		if (h->tkeys && !need_read(w, h->tkeys))
			break;
		if (!h->tkeys && kit_ok(h->keys))
			kit_already(w, "the actor's own key: set Inactive with the actor's keys");
		else if (stt && !strcmp(stt, "Inactive"))
			kit_already(w, "already Inactive");
		else if (kit_ok(ks) && kit_complete(ks) && !stt)
			kit_already(w, "the key is not there any more");
		break;
	}
	case IC_RV_DELETE_LOGIN:
		w = kit_add(rd, &(struct kit_spec){ .step = "revert", .service = "iam", .op = "DeleteLoginProfile",
			.target = e->user, .kind = RESP_WRITE, .in = kit_obj("UserName", e->user, KIT_END),
			.restore = kit_undo_step("revert", "iam:CreateLoginProfile",
				kit_obj("UserName", e->user, "Password", "<a new password, set by a human>",
				    "PasswordResetRequired", "true", KIT_END)),
			.absent = "NoSuchEntity", .detail = "console password removed", .client = u->c });
		if (need_read(w, h->login) && !kit_found(h->login))
			kit_already(w, "no console password");
		break;
	case IC_RV_SET_DEFAULT: {
		const char *cv = kit_ok(h->policy) ? resp_get_str(kit_out(h->policy), "Policy.DefaultVersionId") : NULL;

		w = kit_add(rd, &(struct kit_spec){ .step = "revert", .service = "iam", .op = "SetDefaultPolicyVersion",
			.target = e->policy_arn, .kind = RESP_WRITE,
			.in = kit_obj("PolicyArn", e->policy_arn, "VersionId", rv->prior_version, KIT_END),
			.restore = kit_undo_step("revert", "iam:SetDefaultPolicyVersion",
				kit_obj("PolicyArn", e->policy_arn, "VersionId", cv ? cv : e->version_id, KIT_END)),
			.detail = rv->why, .client = u->c });
		if (need_read(w, h->policy) && cv && !strcmp(cv, rv->prior_version))
			kit_already(w, "%s is the default", cv);
		break;
	}
	case IC_RV_TRUST:
		cur = kit_ok(h->principal) ? out_doc(h->principal, "Role.AssumeRolePolicyDocument") : NULL;
		add_doc(u, "after", cur ? cur : e->doc_after);
		add_doc(u, "before", rv->prior_doc);
		w = kit_add(rd, &(struct kit_spec){ .step = "revert", .service = "iam", .op = "UpdateAssumeRolePolicy",
			.target = e->role, .kind = RESP_WRITE,
			.in = kit_obj("RoleName", e->role, "PolicyDocument", rv->prior_doc, KIT_END),
			.restore = cur ? kit_undo_step("revert", "iam:UpdateAssumeRolePolicy",
				kit_obj("RoleName", e->role, "PolicyDocument", cur, KIT_END)) : NULL,
			.detail = rv->decided ? "trust policy put back" : "trust policy set to deny all", .client = u->c });
		if (!cur)
			kit_skip(w, "the current trust policy could not be read: its undo cannot be recorded");
		else if (ic_doc_same(cur, rv->prior_doc))
			kit_already(w, "the prior trust policy is in place");
		break;
	case IC_RV_PUT_BOUNDARY: {
		const char *cb = kit_ok(h->principal) ? resp_get_str(kit_out(h->principal),
			*key == 'U' ? "User.PermissionsBoundary.PermissionsBoundaryArn"
				    : "Role.PermissionsBoundary.PermissionsBoundaryArn") : NULL;
		struct kit_spec sp = { .step = "revert", .target = name, .kind = RESP_WRITE,
				       .in = kit_obj(key, name, "PermissionsBoundary", rv->prior_arn, KIT_END),
				       .detail = rv->why, .client = u->c };

		if (*key == 'U') {
			sp.service = "iam";
			sp.op = "PutUserPermissionsBoundary";
			sp.restore = kit_undo_step("revert", "iam:DeleteUserPermissionsBoundary", kit_obj(key, name, KIT_END));
		} else {
			sp.service = "iam";
			sp.op = "PutRolePermissionsBoundary";
			sp.restore = kit_undo_step("revert", "iam:DeleteRolePermissionsBoundary", kit_obj(key, name, KIT_END));
		}
		w = kit_add(rd, &sp);
		if (need_read(w, h->principal) && cb && !strcmp(cb, rv->prior_arn))
			kit_already(w, "the boundary is in place");
		break;
	}
	}
	kit_run(rd);
	if (w && kit_status(w) == RESP_FAILED && !strcmp(kit_err(w)->code, "LimitExceeded"))
		kit_detail(w, "IAM's inline policy size quota (LimitExceeded): the prior document does not fit; "
			   "the change stays, a human must act");
	free(cur);
	kit_round_free(rd);
}

/* The evidence set: the undo record (restore.json), the triggering event,
 * the documents before and after and the history the revert decided from.
 * Policy documents are not secrets; CloudTrail records no key secret or
 * password, so nothing here is one. */
static void keep_evidence(struct ic_run *u, const cJSON *event, const cJSON *history)
{
	static const char *const names[] = { "restore.json", "event.json", "documents.json", "history.json",
					      "report-change.json", "manifest.json", NULL };
	cJSON *out = cJSON_AddObjectToObject(u->r->extra, "evidence");

	/* Under dry run restore[] holds the plan's undo, not a write. */
	if (!evidence_open(&u->ev, !u->r->dry_run && cJSON_GetArraySize(u->r->restore) > 0, u->r->restore, out)) {
		if (!u->st->fn.evcfg.bucket)
			resp_warn(u->r, "no evidence bucket configured: the documents are only in this report");
		return;
	}
	evidence_add_json(&u->ev, "event.json", event);
	evidence_add_json(&u->ev, "documents.json", u->docs);
	if (history)
		evidence_add_json(&u->ev, "history.json", history);
	evidence_add_json(&u->ev, "report-change.json", cJSON_GetObjectItemCaseSensitive(u->r->extra, "change"));
	evidence_put(&u->ev);
	evidence_finish(&u->ev, names, out);
}

/* The target's CloudTrail history (IAM events are recorded in us-east-1:
 * the client's Region is the function's, which the infra puts there). */
static cJSON *read_history(struct ic_run *u, int *complete)
{
	const char *res = ic_history_resource(u->e);
	struct ct_query q;
	struct ct_result out;
	cJSON *events;
	char detail[420];
	enum fb_err rc;
	int i;

	*complete = 0;
	memset(&q, 0, sizeof(q));
	memset(&out, 0, sizeof(out));
	q.attr_key = "ResourceName";
	q.attr_value = res;
	q.max_pages = IC_HISTORY_PAGES;
	q.keep_events = 1;
	q.account = u->e->account;
	q.deadline_ms = kit_read_deadline(u->k, IC_RESERVE_MS);
	i = resp_step_begin(u->r, "read-history", "cloudtrail:LookupEvents", res, RESP_READ);
	/* without it the revert falls back to the safe state: not a failure
	 * of the containment */
	resp_step_optional(u->r, i);
	rc = ct_lookup(u->c, &q, &out);
	snprintf(detail, sizeof(detail), "%zu events%s%s", out.nevents, out.complete ? " (complete)" : "; incomplete: ",
		 out.complete ? "" : out.why);
	resp_step_end(u->r, i, rc == FB_OK ? RESP_DONE : RESP_FAILED, detail, rc == FB_OK ? NULL : &out.err);
	*complete = out.complete;
	events = out.events;
	out.events = NULL;
	ct_result_cleanup(&out);
	return events;
}

/* One invocation as the frame holds it: the event, the actor decision
 * the loop-safety check made before any report. */
struct ic_call {
	cJSON *root;                     /* owned: the event */
	struct ic_event e;
	const char *self;                /* firebreak's own ARN ("" manual); NULL: unknown */
	struct aws_error aerr;           /* why self is unknown */
	struct ic_actor_decision ad;
	char skip[300];                  /* not a trigger, or an actor whose change is reported only */
};

/* The strict parse and the fields; then loop safety, which needs to know
 * who firebreak is (sts:GetCallerIdentity, once per container): its own
 * changes and a trusted actor's are reported, not reverted. Manual
 * invocations name their principal and are not events firebreak's writes
 * cause. */
static enum fb_err ic_event_read(struct fn_call *c, const char *event, size_t len, char *why, size_t whylen)
{
	struct ic_call *ic = c->ev;
	struct ic_state *st = c->st;
	enum ic_parsed p;

	if (resp_parse_event(event, len, RESP_MAX_EVENT_BYTES, &ic->root, ic->skip, sizeof(ic->skip)) != FB_OK)
		p = IC_INVALID;
	else
		p = ic_parse(ic->root, &st->set, &ic->e, ic->skip, sizeof(ic->skip));
	if (p == IC_INVALID) {
		snprintf(why, whylen, "%s", ic->skip);
		return FB_E_INVALID;
	}
	if (p == IC_SKIP)
		return FB_OK;
	ic->skip[0] = '\0';
	aws_client_set_deadline(st->fn.aws, c->ctx->deadline_ms ? c->ctx->deadline_ms - IC_DEADLINE_MARGIN_MS : 0);
	ic->self = ic->e.src == IC_SRC_MANUAL ? "" : ic_self(st, &ic->aerr);
	if (ic->self)
		ic_actor_decide(&ic->e, &st->fn.cfg, ic->self, &ic->ad);
	if (ic->self && (ic->ad.action == IC_ACTOR_SELF || ic->ad.action == IC_ACTOR_TRUSTED))
		snprintf(ic->skip, sizeof(ic->skip), "%.250s: the change is reported, not reverted", ic->ad.why);
	return FB_OK;
}

static const char *ic_skip(const void *ev)
{
	return ((const struct ic_call *)ev)->skip;
}

static void ic_event_free(void *ev)
{
	struct ic_call *ic = ev;

	ic_event_cleanup(&ic->e);
	cJSON_Delete(ic->root);
}

static enum fb_err ic_run(struct fn_call *c)
{
	struct ic_call *ic = c->ev;
	struct ic_state *st = c->st;
	struct ic_event *e = &ic->e;
	struct ic_revert rv;
	struct ic_reads h;
	struct ic_run u;
	struct kit_round *rd = NULL;
	struct kit_step *chk;
	struct aws_error aerr;
	cJSON *events = NULL, *change;
	int complete = 0;

	resp_set_severity(c->r, "P1");
	if (!ic->self) {
		/* without it, no write (an error result; Lambda retries the event) */
		int i = resp_step_begin(c->r, "own-identity", "sts:GetCallerIdentity", NULL, RESP_READ);

		resp_step_end(c->r, i, RESP_FAILED, "cannot tell firebreak's own changes apart: nothing written",
			      &ic->aerr);
		resp_set_verdict(c->r, "failed");
		return FB_OK;
	}
	memset(&rv, 0, sizeof(rv));
	memset(&h, 0, sizeof(h));
	resp_set_resource(c->r, e->actor.arn[0] ? e->actor.arn : e->account, e->account, NULL);
	memset(&u, 0, sizeof(u));
	memset(&aerr, 0, sizeof(aerr));
	/* the bucket is the function's own account's, whatever the incident's */
	evidence_init(&u.ev, c->k, st->fn.aws, &st->fn.evcfg, c->ctx, "principal", e->actor.arn);
	u.st = st;
	u.r = c->r;
	u.k = c->k;
	u.e = e;
	change = cJSON_AddObjectToObject(c->r->extra, "change");
	cJSON_AddStringToObject(change, "event", e->event_name);
	cJSON_AddStringToObject(change, "actor", e->actor.session_arn[0] ? e->actor.session_arn : e->actor.arn);
	cJSON_AddStringToObject(change, "actor_decision", ic->ad.why);
	if (e->src == IC_SRC_MANUAL)
		cJSON_AddStringToObject(change, "reason", e->reason);
	u.docs = cJSON_AddObjectToObject(c->r->extra, "documents");
	u.c = kit_client(c->k, e->account, NULL, "client-for-account", &aerr);
	if (!u.c) {
		resp_set_verdict(c->r, "failed: cannot act in account %s", e->account);
		goto finish;
	}
	/* round 1: reads */
	rd = kit_round_new(c->k);
	add_actor_reads(&u, rd, ic->ad.action, &h);
	add_target_reads(&u, rd, &h);
	chk = evidence_check(&u.ev, rd);
	kit_run(rd);
	evidence_checked(&u.ev, chk);
	/* round 2: contain the actor, so it cannot redo the change while it
	 * is reverted */
	if (ic->ad.action == IC_ACTOR_CONTAIN_USER)
		contain_user(&u, &h);
	else if (ic->ad.action == IC_ACTOR_REVOKE_ROLE)
		contain_role(&u, &h);
	else
		resp_warn(c->r, "actor not contained: %s", ic->ad.why);
	/* the history, then round 3: the revert */
	if (ic_needs_history(e))
		events = read_history(&u, &complete);
	ic_revert_plan(e, events, complete, &rv);
	cJSON_AddStringToObject(change, "revert", rv.why);
	cJSON_AddBoolToObject(change, "prior_state_decided", rv.decided);
	if (rv.prior_by[0])
		cJSON_AddStringToObject(change, "prior_state_set_by", rv.prior_by);
	revert(&u, &h, &rv);
	if (rv.kind == IC_RV_UNDECIDED) {
		int i = resp_step_begin(c->r, "revert", "iam:-", ic_history_resource(e), RESP_WRITE);

		if (!resp_step_dry(c->r, i))
			resp_step_end(c->r, i, RESP_SKIPPED, rv.why, NULL);
		resp_warn(c->r, "prior state undecided, a human must decide: %s", rv.why);
	} else if (!rv.decided) {
		resp_warn(c->r, "prior state undecided, safe state written: %s", rv.why);
	}
	/* contained once the actor is cut off and the change reverted; the
	 * evidence comes after (it must not delay containment) */
	if (!resp_failed(c->r) && !c->r->dry_run)
		resp_contained(c->r);
	keep_evidence(&u, ic->root, events);
	if (resp_failed(c->r))
		resp_set_verdict(c->r, "failed");
	else if (c->r->dry_run)
		resp_set_verdict(c->r, "planned");
	else {
		if (ic->ad.action == IC_ACTOR_REPORT)
			resp_set_verdict(c->r, "reverted; actor not contained (%s)", ic->ad.why);
		else
			resp_set_verdict(c->r, "%s", rv.decided ? "contained" : "contained; prior state undecided (safe state)");
	}
finish:
	kit_round_free(rd);
	evidence_cleanup(&u.ev);
	cJSON_Delete(events);
	ic_revert_cleanup(&rv);
	return FB_OK;
}

int main(void)
{
	return fn_main(&(struct fn_responder){ .function = IC_FUNCTION, .margin_ms = IC_DEADLINE_MARGIN_MS,
		.size = sizeof(struct ic_state), .settings = ic_settings, .event_size = sizeof(struct ic_call),
		.event_root = offsetof(struct ic_call, root), .event_cleanup = ic_event_free,
		.parse = ic_event_read, .skip = ic_skip, .run = ic_run });
}
