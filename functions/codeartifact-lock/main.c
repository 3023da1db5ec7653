/*
 * codeartifact-lock: lock a principal out of a CodeArtifact domain (issue
 * 23), on the responder kit. README.md next to this file has triggers,
 * actions, decisions, Safety and IAM; codeartifact_lock.h declares the pure
 * stages (stages.c).
 *
 * The runbook:
 *   round 1 (reads, concurrent): DescribeDomain (whose domain it is, from
 *            AWS), GetDomainPermissionsPolicy (the policy and its revision)
 *   decide:  ca_judge: a root, a trusted principal, this function's own
 *            role or one outside the domain's account is reported only
 *   round 2: ListRepositoriesInDomain (paged by the kit)
 *   round 3: GetRepositoryPermissionsPolicy for every repository,
 *            concurrently; ca_policy_grants picks those that grant it
 *   rounds 4+: the Deny merged into the domain policy and every granting
 *            repository policy (ca_policy_merge; restore[] first: the prior
 *            document, or the delete when there was none), concurrently,
 *            each with the revision read; a ConflictException (someone
 *            changed the policy in between) re-reads that policy, merges
 *            again and retries, up to CA_ATTEMPTS, within the deadline
 *   then:    kit_revoke_sessions for a role; the token note.
 */
#include "codeartifact_lock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "evidence.h"
#include "fb_err.h"
#include "fn.h"
#include "http.h"
#include "kit.h"
#include "log.h"
#include "lr.h"
#include "resp.h"

#define CA_FUNCTION "codeartifact-lock"
#define CA_DEADLINE_MARGIN_MS 500
#define CA_ATTEMPTS 4
#define CA_MAX_REPOS 1000            /* 10 pages of 100: the rest is said, not silently dropped */
#define NOT_FOUND "ResourceNotFoundException"

FN_STATE(ca_fn, struct ca_settings, ca_settings_from_env)

/* One policy to lock: the domain's (repo NULL) or a repository's. */
struct ca_target {
	char *repo;                /* owned; NULL: the domain */
	char *doc;                 /* owned: the document as last read; NULL none */
	char rev[160];             /* its revision ("" none) */
	cJSON *restore;            /* owned until handed to the first write */
	enum resp_status st;
	int pending;               /* to (re)write in the next round */
	int reread;                /* conflict: read again before the next round */
	int attempts;
};

struct ca_run {
	struct ca_fn *st;
	struct resp *r;
	struct kit *k;
	const struct ca_event *ev;
	struct ca_principal p;
	struct aws_client *c;      /* the domain owner's client */
	const char *owner;         /* the domain's account (as asked, then as read) */
	char owner_read[16];       /* DescribeDomain's domain.owner */
	char domain_arn[256];
	struct ca_target *t;       /* t[0] the domain, then granting repositories */
	size_t nt;
	cJSON *repos;              /* borrowed: r->extra["repositories"] */
	const struct lr_context *ctx;   /* borrowed: the deadline (the undo record) */
};

/* A write line a decision settles without a call: skipped (not ours to
 * do) or failed (must not be done); under dry run too, where kit_decide
 * would leave a write "planned" that no run would make. */
static void settle(struct resp *r, const char *step, const char *api, const char *target,
		   enum resp_status st, const char *why)
{
	resp_step_end(r, resp_step_begin(r, step, api, target, RESP_WRITE), st, why, NULL);
}

/* The domain's (repo NULL) or a repository's identifying members. */
static cJSON *id_in(const struct ca_run *run, const char *repo)
{
	return kit_obj("domain", run->ev->domain, "domainOwner", run->owner, "repository", repo, KIT_END);
}

/* policy.document / policy.revision of a Get*PermissionsPolicy answer into
 * the target; 0, or -1 when the answer has no document. */
static int take_policy(struct ca_target *t, const cJSON *out, int found)
{
	const char *doc = resp_get_str(out, "policy.document"), *rev = resp_get_str(out, "policy.revision");

	free(t->doc);
	t->doc = NULL;
	t->rev[0] = 0;
	if (!found)
		return 0;
	if (!doc)
		return -1;
	t->doc = strdup(doc);
	snprintf(t->rev, sizeof(t->rev), "%s", rev ? rev : "");
	return t->doc ? 0 : -1;
}

/* restore[]: put the prior document back, or delete the policy we made. */
static cJSON *restore_of(const struct ca_run *run, const struct ca_target *t)
{
	cJSON *args = id_in(run, t->repo);

	if (!args)
		return NULL;
	if (t->doc) {
		cJSON_AddStringToObject(args, "policyDocument", t->doc);
		return kit_undo(t->repo ? "codeartifact:PutRepositoryPermissionsPolicy"
					: "codeartifact:PutDomainPermissionsPolicy", args);
	}
	return kit_undo(t->repo ? "codeartifact:DeleteRepositoryPermissionsPolicy"
				: "codeartifact:DeleteDomainPermissionsPolicy", args);
}

static void target_name(const struct ca_run *run, const struct ca_target *t, char *out, size_t n)
{
	if (t->repo)
		snprintf(out, n, "%.180s/%s", run->domain_arn, t->repo);
	else
		snprintf(out, n, "%s", run->domain_arn);
}

/* The undo of the session revocation for the record (issue 24 s2, w4-rst),
 * as data-breach and access-triage record theirs: the role's
 * AWSRevokeOlderSessions as it is before this incident (put it back), or
 * none (delete ours). Read only when a bucket keeps the record and the
 * principal is a role; none when the revocation will write nothing (a
 * service-linked role; a policy already cutting at or after the incident:
 * kit_revoke_sessions says "already"), or when the policy cannot be read
 * (the revocation then writes nothing either). rec borrowed. */
static void record_revocation(struct ca_run *run, cJSON *rec)
{
	struct kit_round *rr;
	struct kit_step *s;
	const char *prior;
	char role[80];
	int64_t when = run->ev->event_ms > 0 ? run->ev->event_ms : run->r->received_ms;
	int sl = 0;
	cJSON *u;

	if (!run->st->fn.evcfg.bucket || run->p.kind != CA_P_ROLE ||
	    !kit_role_name(run->p.deny_arn, role, sizeof(role), &sl) || sl || !(rr = kit_round_new(run->k)))
		return;
	s = kit_add(rr, &(struct kit_spec){ .step = "read-undo-revocation", .service = "iam", .op = "GetRolePolicy",
		.target = run->p.deny_arn, .kind = RESP_READ, .optional = 1, .client = run->c,
		.in = kit_obj("RoleName", role, "PolicyName", KIT_REVOKE_POLICY_NAME, KIT_END),
		.absent = "NoSuchEntity" });
	kit_run(rr);
	u = kit_ok(s) ? kit_revoke_undo(role, kit_found(s) ? resp_get_str(kit_out(s), "PolicyDocument") : NULL) : NULL;
	prior = resp_get_str(u, "args.PolicyDocument");
	if (prior && kit_revocation_cut_ms(prior) >= when) {
		/* already revoked: nothing written, nothing to undo */
		cJSON_Delete(u);
		u = NULL;
	}
	/* the entry as kit_revoke_undo makes it, named by its step (the record
	 * firebreak-restore reads names it) */
	if (u)
		cJSON_AddItemToArray(rec, kit_undo_step("revoke-sessions", resp_get_str(u, "api"),
							cJSON_DetachItemFromObject(u, "args")));
	cJSON_Delete(u);
	kit_round_free(rr);
}

/* The write rounds: every pending target merged and written concurrently;
 * conflicts read again, merged again, written again. */
static void lock_all(struct ca_run *run)
{
	int attempt;
	size_t i;

	for (attempt = 1; attempt <= CA_ATTEMPTS; attempt++) {
		struct kit_round *rd = kit_round_new(run->k);
		struct kit_step **ws = calloc(run->nt ? run->nt : 1, sizeof(*ws));
		cJSON *rec = attempt == 1 ? cJSON_CreateArray() : NULL;
		size_t nre = 0;

		if (!rd || !ws) {
			kit_round_free(rd);
			free(ws);
			cJSON_Delete(rec);
			resp_set_verdict(run->r, "failed: out of memory");
			return;
		}
		for (i = 0; i < run->nt; i++) {
			struct ca_target *t = &run->t[i];
			char why[400], target[300];
			char *merged = NULL;
			enum ca_merge m;
			cJSON *in;

			if (!t->pending)
				continue;
			t->pending = 0;
			t->attempts++;
			target_name(run, t, target, sizeof(target));
			m = ca_policy_merge(t->doc, run->p.deny_arn, &merged, why, sizeof(why));
			if (m == CA_MERGE_BAD) {
				/* A policy we cannot merge without losing part of
				 * it is not rewritten. Failed under dry run too. */
				char d[460];

				snprintf(d, sizeof(d), "not written: %s", why);
				settle(run->r, t->repo ? "lock-repository" : "lock-domain",
				       t->repo ? "codeartifact:PutRepositoryPermissionsPolicy"
					       : "codeartifact:PutDomainPermissionsPolicy", target, RESP_FAILED, d);
				t->st = RESP_FAILED;
				continue;
			}
			in = id_in(run, t->repo);
			if (in && m == CA_MERGE_WRITE) {
				if (t->rev[0])
					cJSON_AddStringToObject(in, "policyRevision", t->rev);
				cJSON_AddStringToObject(in, "policyDocument", merged);
			}
			free(merged);
			if (t->repo)
				ws[i] = kit_add(rd, &(struct kit_spec){ .step = "lock-repository",
					.service = "codeartifact", .op = "PutRepositoryPermissionsPolicy",
					.target = target, .kind = RESP_WRITE, .in = in, .restore = t->restore,
					.client = run->c, .detail = why });
			else
				ws[i] = kit_add(rd, &(struct kit_spec){ .step = "lock-domain",
					.service = "codeartifact", .op = "PutDomainPermissionsPolicy",
					.target = target, .kind = RESP_WRITE, .in = in, .restore = t->restore,
					.client = run->c, .detail = why });
			if (rec && m == CA_MERGE_WRITE && t->restore) {
				cJSON *e = cJSON_Duplicate(t->restore, 1);

				if (e)
					cJSON_AddStringToObject(e, "step", t->repo ? "lock-repository" : "lock-domain");
				cJSON_AddItemToArray(rec, e);
			}
			t->restore = NULL;  /* recorded once, from the first read */
			if (m == CA_MERGE_ALREADY)
				kit_already(ws[i], "%s", why);
		}
		/* The undo record (issue 24) of the first round's writes, before
		 * they run: one claim for the domain and its repositories (one
		 * incident attempt). Never holds the lock back
		 * (evidence_undo_record). A retry after a conflict puts back the
		 * same prior document (the first read's), so it is not claimed again.
		 * The session revocation after the lock is in the same record. */
		if (rec)
			record_revocation(run, rec);
		evidence_undo_claim(run->k, run->st->fn.aws, &run->st->fn.evcfg, run->ctx, "domain_arn",
				    run->domain_arn, rec, run->r->extra);
		kit_run(rd);
		for (i = 0; i < run->nt; i++) {
			struct ca_target *t = &run->t[i];

			if (!ws[i])
				continue;
			t->st = kit_status(ws[i]);
			if (t->st == RESP_FAILED && !strcmp(kit_err(ws[i])->code, "ConflictException") &&
			    attempt < CA_ATTEMPTS) {
				kit_set_optional(ws[i]);
				kit_detail(ws[i], "attempt %d: the policy changed since it was read (revision "
					   "conflict): read again, merge again", attempt);
				t->reread = 1;
				nre++;
			}
		}
		kit_round_free(rd);
		free(ws);
		if (!nre)
			return;

		/* Conflicts: the policies as they are now. */
		rd = kit_round_new(run->k);
		ws = calloc(run->nt, sizeof(*ws));
		if (!rd || !ws) {
			kit_round_free(rd);
			free(ws);
			resp_set_verdict(run->r, "failed: out of memory");
			return;
		}
		for (i = 0; i < run->nt; i++) {
			struct ca_target *t = &run->t[i];
			char target[300];

			if (!t->reread)
				continue;
			target_name(run, t, target, sizeof(target));
			if (t->repo)
				ws[i] = kit_add(rd, &(struct kit_spec){ .step = "reread-repository-policy",
					.service = "codeartifact", .op = "GetRepositoryPermissionsPolicy",
					.target = target, .kind = RESP_READ, .in = id_in(run, t->repo),
					.client = run->c, .absent = NOT_FOUND });
			else
				ws[i] = kit_add(rd, &(struct kit_spec){ .step = "reread-domain-policy",
					.service = "codeartifact", .op = "GetDomainPermissionsPolicy",
					.target = target, .kind = RESP_READ, .in = id_in(run, NULL),
					.client = run->c, .absent = NOT_FOUND });
		}
		kit_run(rd);
		for (i = 0; i < run->nt; i++) {
			struct ca_target *t = &run->t[i];

			if (!t->reread)
				continue;
			t->reread = 0;
			if (!kit_ok(ws[i]) || take_policy(t, kit_out(ws[i]), kit_found(ws[i]))) {
				if (kit_ok(ws[i]))
					kit_fail(ws[i], "the answer has no policy.document");
				t->st = RESP_FAILED;
				continue;
			}
			kit_detail(ws[i], "%s", t->doc ? "revision read again" : "no policy now");
			t->pending = 1;
		}
		kit_round_free(rd);
		free(ws);
	}
}

/* Round 2 and 3: the repositories, and which of their policies grant the
 * principal. Adds a target per granting repository. */
static void select_repositories(struct ca_run *run)
{
	struct kit_round *rd = kit_round_new(run->k);
	struct kit_step *ls, **gs = NULL;
	const cJSON *items, *it;
	cJSON *in = id_in(run, NULL);
	size_t n = 0, i;
	int complete;

	if (in)
		cJSON_AddNumberToObject(in, "maxResults", 100);
	ls = kit_add(rd, &(struct kit_spec){ .step = "list-repositories", .service = "codeartifact",
		.op = "ListRepositoriesInDomain", .target = run->domain_arn, .kind = RESP_READ, .in = in,
		.client = run->c, .paging = &(struct kit_paging){ .items = "repositories", .next = "nextToken",
			.max_pages = CA_MAX_REPOS / 100 } });
	kit_run(rd);
	if (!kit_ok(ls)) {
		kit_round_free(rd);
		return;                 /* required: the invocation fails */
	}
	items = kit_items(ls);
	complete = kit_complete(ls);
	kit_detail(ls, "%d repositor%s", cJSON_GetArraySize(items), cJSON_GetArraySize(items) == 1 ? "y" : "ies");
	if (!complete)
		kit_fail(ls, "more than %d repositories: the rest were not checked", CA_MAX_REPOS);

	{
		struct kit_round *gr = kit_round_new(run->k);
		const char **names = calloc((size_t)cJSON_GetArraySize(items) + 1, sizeof(*names));

		gs = calloc((size_t)cJSON_GetArraySize(items) + 1, sizeof(*gs));
		if (!gr || !gs || !names) {
			kit_round_free(gr);
			free(gs);
			free(names);
			kit_round_free(rd);
			resp_set_verdict(run->r, "failed: out of memory");
			return;
		}
		cJSON_ArrayForEach(it, items) {
			const char *name = resp_get_str(it, "name");
			char target[300];

			if (!name || !ca_repo_ok(name)) {
				resp_warn(run->r, "a repository summary without a valid name was passed over");
				continue;
			}
			snprintf(target, sizeof(target), "%.180s/%s", run->domain_arn, name);
			names[n] = name;
			gs[n++] = kit_add(gr, &(struct kit_spec){ .step = "read-repository-policy",
				.service = "codeartifact", .op = "GetRepositoryPermissionsPolicy", .target = target,
				.kind = RESP_READ, .in = id_in(run, name), .client = run->c, .absent = NOT_FOUND });
		}
		kit_run(gr);
		for (i = 0; i < n; i++) {
			const char *doc = kit_found(gs[i]) ? resp_get_str(kit_out(gs[i]), "policy.document") : NULL;
			cJSON *o = cJSON_CreateObject();
			char why[300];
			int g;

			if (o) {
				cJSON_AddStringToObject(o, "name", names[i]);
				cJSON_AddItemToArray(run->repos, o);
			}
			if (!kit_ok(gs[i])) {
				cJSON_AddStringToObject(o, "outcome", "failed: its policy could not be read");
				continue;
			}
			if (kit_found(gs[i]) && !doc) {
				kit_fail(gs[i], "the answer has no policy.document");
				cJSON_AddStringToObject(o, "outcome", "failed: unreadable answer");
				continue;
			}
			g = ca_policy_grants(doc, &run->p, run->ev->principal, why, sizeof(why));
			kit_detail(gs[i], "%s", !kit_found(gs[i]) ? "no repository policy" : why);
			if (g < 0) {
				/* It may grant: it cannot be merged either; a human looks. */
				kit_fail(gs[i], "%s: cannot tell whether it grants the principal", why);
				cJSON_AddStringToObject(o, "outcome", "failed: unreadable policy");
				continue;
			}
			cJSON_AddStringToObject(o, "grants", g ? why : "no");
			if (!g)
				continue;
			{
				struct ca_target *grown = realloc(run->t, (run->nt + 1) * sizeof(*grown));
				struct ca_target *t;

				if (!grown) {
					kit_fail(gs[i], "out of memory");
					continue;
				}
				run->t = grown;
				t = &run->t[run->nt++];
				memset(t, 0, sizeof(*t));
				t->repo = strdup(names[i]);
				t->pending = 1;
				if (!t->repo || take_policy(t, kit_out(gs[i]), 1)) {
					run->nt--;
					free(t->repo);
					free(t->doc);
					kit_fail(gs[i], "out of memory");
					continue;
				}
				t->restore = restore_of(run, t);
			}
		}
		kit_round_free(gr);
		free(gs);
		free(names);
	}
	kit_round_free(rd);
}

static void run_cleanup(struct ca_run *run)
{
	size_t i;

	for (i = 0; i < run->nt; i++) {
		free(run->t[i].repo);
		free(run->t[i].doc);
		cJSON_Delete(run->t[i].restore);
	}
	free(run->t);
	run->t = NULL;
	run->nt = 0;
}

static void ca_lock(struct ca_run *run)
{
	struct resp *r = run->r;
	struct kit_round *rd;
	struct kit_step *s_dom, *s_pol;
	const char *owner, *arn;
	char why[600], acct[16], note[600];
	enum ca_judgement j;
	size_t i;
	int nrepo = 0, nfail = 0, ndone = 0, denied;

	rd = kit_round_new(run->k);
	s_dom = kit_add(rd, &(struct kit_spec){ .step = "read-domain", .service = "codeartifact",
		.op = "DescribeDomain", .target = run->domain_arn, .kind = RESP_READ, .in = id_in(run, NULL),
		.client = run->c });
	s_pol = kit_add(rd, &(struct kit_spec){ .step = "read-domain-policy", .service = "codeartifact",
		.op = "GetDomainPermissionsPolicy", .target = run->domain_arn, .kind = RESP_READ,
		.in = id_in(run, NULL), .client = run->c, .absent = NOT_FOUND });
	kit_run(rd);
	owner = resp_get_str(kit_out(s_dom), "domain.owner");
	arn = resp_get_str(kit_out(s_dom), "domain.arn");
	if (kit_ok(s_dom) && (!owner || !resp_account_id_ok(owner) || !arn || !ca_arn_account(arn, acct) ||
			      strcmp(acct, owner)))
		kit_fail(s_dom, "the answer has no domain owner and ARN that agree");
	if (!kit_ok(s_dom) || !kit_ok(s_pol)) {
		resp_set_verdict(r, "failed: the domain or its policy could not be read: nothing changed");
		kit_round_free(rd);
		return;
	}
	kit_detail(s_dom, "owner %s, status %s", owner,
		   resp_get_str(kit_out(s_dom), "domain.status") ? resp_get_str(kit_out(s_dom), "domain.status") : "?");
	snprintf(run->domain_arn, sizeof(run->domain_arn), "%s", arn);
	snprintf(run->owner_read, sizeof(run->owner_read), "%s", owner);
	owner = run->owner_read;   /* the answer goes with the round */
	resp_set_resource(r, run->domain_arn, owner, NULL);
	cJSON_AddStringToObject(r->extra, "domain_owner", owner);

	run->t = calloc(1, sizeof(*run->t));
	if (!run->t) {
		kit_round_free(rd);
		resp_set_verdict(r, "failed: out of memory");
		return;
	}
	run->nt = 1;
	if (take_policy(&run->t[0], kit_out(s_pol), kit_found(s_pol))) {
		kit_fail(s_pol, "the answer has no policy.document");
		kit_round_free(rd);
		resp_set_verdict(r, "failed: unreadable domain policy: nothing changed");
		return;
	}
	kit_detail(s_pol, "%s", run->t[0].doc ? "policy read" : "no domain policy");
	kit_round_free(rd);

	/* Who it is, from the domain as read (its owner), never the event's word. */
	j = ca_judge(&run->p, run->ev->principal, owner, kit_caller_arn(run->k), run->st->fn.cfg.member_role,
		     &run->st->fn.cfg, why, sizeof(why));
	cJSON_AddStringToObject(r->extra, "judgement", why);
	if (j != CA_LOCK) {
		settle(r, "lock-domain", "codeartifact:PutDomainPermissionsPolicy", run->domain_arn, RESP_SKIPPED, why);
		resp_warn(r, "%s", why);
		resp_set_severity(r, "P2");
		resp_skip(r, "%s", why);
		return;
	}
	run->t[0].pending = 1;
	run->t[0].restore = restore_of(run, &run->t[0]);

	run->repos = cJSON_AddArrayToObject(r->extra, "repositories");
	select_repositories(run);
	lock_all(run);

	for (i = 0; i < run->nt; i++) {
		nrepo += run->t[i].repo != NULL;
		nfail += run->t[i].st == RESP_FAILED;
		ndone += run->t[i].st == RESP_DONE;
	}
	if (ndone)
		resp_contained(r);

	/* Role sessions: every one issued before the incident ends. */
	if (run->p.kind == CA_P_ROLE)
		kit_revoke_sessions(run->k, &(struct kit_revoke){ .role_arn = run->p.deny_arn,
			.not_before_ms = run->ev->event_ms > 0 ? run->ev->event_ms : r->received_ms,
			.client = run->c });
	else
		settle(r, "revoke-sessions", "iam:PutRolePolicy", run->p.deny_arn, RESP_SKIPPED,
		       "an IAM user has no sessions to revoke; its access keys are iam-contain's (deactivating "
		       "them cuts every other use of the user): the Deny stops its CodeArtifact use");

	/* The tokens: "by" is an upper bound (a replay counts from now). */
	denied = run->t[0].st == RESP_DONE || run->t[0].st == RESP_ALREADY || run->t[0].st == RESP_PLANNED;
	if (denied)
		ca_token_note(run->k->now_ms(), r->dry_run, note, sizeof(note));
	else
		snprintf(note, sizeof(note), "NOT contained on the domain: CodeArtifact authorization tokens cannot "
			 "be revoked one by one and stay valid up to 12 hours after issue; without the Deny they keep "
			 "working");
	{
		cJSON *tok = cJSON_AddObjectToObject(r->extra, "tokens");
		char exp[RESP_TIME_LEN];

		resp_format_time_ms(ca_token_expiry_ms(run->k->now_ms()), exp);
		if (tok) {
			cJSON_AddStringToObject(tok, "note", note);
			if (denied)
				cJSON_AddStringToObject(tok, "last_expiry_by", exp);
		}
	}
	resp_warn(r, "%s", note);
	if (!resp_failed(r) && !nfail) {
		if (r->dry_run)
			resp_set_verdict(r, "dry run: Deny planned on the domain and %d repositor%s", nrepo,
					 nrepo == 1 ? "y" : "ies");
		else if (run->t[0].st == RESP_ALREADY) {
			int any = 0;

			for (i = 1; i < run->nt; i++)
				any |= run->t[i].st == RESP_DONE;
			resp_set_verdict(r, any ? "contained (domain already denied; %d repositor%s locked)"
						: "already-contained", nrepo, nrepo == 1 ? "y" : "ies");
		} else
			resp_set_verdict(r, "contained: %s denied on the domain and %d repositor%s",
					 run->p.deny_arn, nrepo, nrepo == 1 ? "y" : "ies");
	}
}

FN_EVENT_READER(ca, ca_parse(event, len, &((struct ca_fn *)c->st)->set, c->ev, why, whylen))

static const char *ca_skip(const void *ev)
{
	return ((const struct ca_event *)ev)->skip;
}

static enum fb_err ca_run(struct fn_call *c)
{
	struct ca_fn *st = c->st;
	struct ca_event *ev = c->ev;
	struct ca_run run;
	struct aws_error aerr;
	const char *own;

	run = (struct ca_run){ .st = st, .r = c->r, .k = c->k, .ev = ev, .ctx = c->ctx };
	resp_set_severity(c->r, "P1");
	ca_principal_parse(ev->principal, &run.p);   /* checked by ca_parse */
	cJSON_AddStringToObject(c->r->extra, "principal", ev->principal);
	if (run.p.from_session)
		cJSON_AddStringToObject(c->r->extra, "denied_as", run.p.deny_arn);
	cJSON_AddStringToObject(c->r->extra, "domain", ev->domain);
	if (ev->source == CA_SRC_GUARDDUTY)
		kit_finding(c->r, ev->finding_id, ev->finding_type, ev->severity, ev->principal);
	if (ev->alarm[0])
		cJSON_AddStringToObject(c->r->extra, "alarm", ev->alarm);

	own = kit_own_account(c->k);
	run.owner = ev->domain_owner[0] ? ev->domain_owner : own;
	if (!run.owner) {
		resp_set_verdict(c->r, "failed: the domain's account is not known (domainOwner, "
			 "FIREBREAK_CA_DOMAIN_OWNER or the function's own)");
		settle(c->r, "lock-domain", "codeartifact:PutDomainPermissionsPolicy", ev->domain, RESP_FAILED,
		       "the domain's account is not known");
		goto finish;
	}
	snprintf(run.domain_arn, sizeof(run.domain_arn), "arn:%s:codeartifact:%s:%s:domain/%s",
		 kit_partition(c->k), aws_client_region(st->fn.aws), run.owner, ev->domain);
	resp_set_resource(c->r, run.domain_arn, run.owner, NULL);
	memset(&aerr, 0, sizeof(aerr));
	/* A domain in a member account: through the member role. */
	run.c = kit_client(c->k, own && !strcmp(own, run.owner) ? NULL : run.owner, NULL, "assume-member-role",
			   &aerr);
	if (!run.c)
		goto finish;
	ca_lock(&run);
finish:
	run_cleanup(&run);
	return FB_OK;
}

int main(void)
{
	return fn_main(&(struct fn_responder){ .function = CA_FUNCTION, .margin_ms = CA_DEADLINE_MARGIN_MS,
		.size = sizeof(struct ca_fn), .settings = ca_fn_settings, FN_EVENT(struct ca_event, ca),
		.skip = ca_skip, .run = ca_run });
}
