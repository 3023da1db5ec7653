/*
 * kms-guard: cancel an unauthorised KMS key deletion (or undo a DisableKey)
 * within seconds and restore the key's prior state. README.md next to this
 * file documents triggers, actions, IAM and settings; kms_guard.h declares
 * the pure stages (stages.c) this file sequences around AWS calls:
 *
 *   kg_parse()                event -> items (one per key change)
 *   kg_handle_item()          round 1, concurrently: DescribeKey,
 *                             ListResourceTags and, when the prior state
 *                             must be learnt, CloudTrail LookupEvents;
 *                             decide (kg_prior_from_history()); then write:
 *                             CancelKeyDeletion, then EnableKey and
 *                             TagResource concurrently
 *   kg_alarm_items()          the alarm: LookupEvents -> kg_items_from_events()
 *
 * resp_* keeps the contract (../shared/RESPONDERS.md).
 */
#include "kms_guard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "buf.h"
#include "cloudtrail.h"
#include "fb_err.h"
#include "log.h"
#include "lr.h"
#include "prov.h"
#include "resp.h"

#define KG_FUNCTION "kms-guard"
#define KG_DEADLINE_MARGIN_MS 500
#define KG_MAX_PAGES 5           /* LookupEvents pages per query */

struct kg_state {
	struct resp_config cfg;
	struct kg_settings set;
	struct aws_client *aws;
	char self_arn[512];     /* sts:GetCallerIdentity, learnt at the first tag change */
	int self_known;
};

/* One invocation. */
struct kg_run {
	struct kg_state *st;
	struct resp *r;
	cJSON *sections;        /* borrowed: r->extra["keys"] */
	int nskipped, ncontained, nfailed;
	int nchanged;           /* keys where a containment write (cancel, enable) was made or planned */
	int nalready;           /* keys found already in their safe state */
};

/* ---- AWS reads ---------------------------------------------------------------------- */

/* A LookupEvents query through the shared pager (runtime/cloudtrail.h):
 * throttle-aware, paced per account and Region, retried within the
 * invocation's deadline, at most KG_MAX_PAGES pages (a busy key has many
 * events, and the newest ones decide). */
static void kg_ct_query(const struct kg_run *run, struct ct_query *q, const char *attr,
			const char *value, int64_t start_s, int64_t end_s, const char *account);

/* "N events" / "N events; incomplete: why" / the failure, for a step. */
static void kg_ct_step(struct resp *r, int idx, enum fb_err rc, const struct ct_result *res,
		       const char *what)
{
	char detail[600];

	snprintf(detail, sizeof(detail), "%s%s%zu events%s%s", what ? what : "", what ? ": " : "",
		 res->nevents, res->complete ? "" : "; incomplete: ", res->complete ? "" : res->why);
	resp_step_end(r, idx, rc == FB_OK ? RESP_DONE : RESP_FAILED, detail,
		      rc == FB_OK || !res->err.code[0] ? NULL : &res->err);
}

/* Who this function is, for recognising its own tag writes when they come
 * back as CloudTrail events (loop safety). Asked once per container; no
 * IAM permission is needed for sts:GetCallerIdentity. */
static const char *kg_self(struct kg_state *st)
{
	struct aws_error err;
	cJSON *res = NULL;
	const char *a;

	if (st->self_known)
		return st->self_arn;
	memset(&err, 0, sizeof(err));
	if (aws_do(st->aws, "sts", "GetCallerIdentity", NULL, &res, &err) == FB_OK) {
		a = resp_get_str(res, "GetCallerIdentityResponse.GetCallerIdentityResult.Arn");
		if (!a)
			a = resp_get_str(res, "GetCallerIdentityResult.Arn");
		buf_copy_str(st->self_arn, sizeof(st->self_arn), a);
		st->self_known = 1;
	} else {
		log_warn("cannot learn own identity from sts:GetCallerIdentity: %s",
			 err.code[0] ? err.code : "call failed");
	}
	cJSON_Delete(res);
	return st->self_arn;
}

/* The deadline for a CloudTrail read: the invocation's, less a margin for
 * the writes that follow. */
static int64_t kg_read_deadline(const struct kg_run *run)
{
	int64_t d = run->r->ctx ? run->r->ctx->deadline_ms : 0;

	return d > 0 ? d - 3 * KG_DEADLINE_MARGIN_MS : 0;
}

static void kg_ct_query(const struct kg_run *run, struct ct_query *q, const char *attr,
			const char *value, int64_t start_s, int64_t end_s, const char *account)
{
	memset(q, 0, sizeof(*q));
	q->attr_key = attr;
	q->attr_value = value;
	q->start_ms = start_s * 1000;
	q->end_ms = end_s * 1000;
	q->max_results = KG_PAGE_SIZE;
	q->max_pages = KG_MAX_PAGES;
	q->deadline_ms = kg_read_deadline(run);
	q->account = account && *account ? account : NULL;
	q->keep_events = 1;
}

/* {KeyId, Tags: [{TagKey, TagValue}]} / {KeyId, TagKeys: [key]}. */
static cJSON *kg_tag_in(const char *arn, const char *key, const char *value)
{
	cJSON *in = kg_key_json(arn);

	if (!in)
		return NULL;
	if (value) {
		cJSON *ts = cJSON_AddArrayToObject(in, "Tags"), *t = cJSON_CreateObject();

		cJSON_AddStringToObject(t, "TagKey", key);
		cJSON_AddStringToObject(t, "TagValue", value);
		cJSON_AddItemToArray(ts, t);
	} else {
		cJSON_AddItemToArray(cJSON_AddArrayToObject(in, "TagKeys"), cJSON_CreateString(key));
	}
	return in;
}

/* Exemption tags (firebreak:exempt, firebreak:allow-deletion) count only
 * when CloudTrail shows they predate the change (runtime/prov.h). Reads the
 * key's history when one of them is "true", records each decision in the
 * section ("exemption_tags") and returns the tag that is honoured, or NULL
 * (the caller acts as if there were none). */
static const char *kg_exemption(struct kg_run *run, struct aws_client *c, const struct kg_item *it,
				const char *arn, const cJSON *meta, const cJSON *tags, cJSON *sec,
				char *reason, size_t rn)
{
	static const char *const keys[] = { KG_TAG_EXEMPT, KG_TAG_ALLOW };
	struct resp *r = run->r;
	struct prov_history h;
	struct prov_query q;
	struct prov_decision d;
	const char *honoured = NULL;
	const cJSON *cd = resp_get(meta, "CreationDate");
	cJSON *list;
	char detail[400];
	enum fb_err hrc;
	size_t i;
	int idx;

	if (!prov_tag_true(tags, KG_TAG_EXEMPT) && !prov_tag_true(tags, KG_TAG_ALLOW))
		return NULL;
	memset(&q, 0, sizeof(q));
	q.trigger_ms = it->event_ms ? it->event_ms : r->received_ms;
	q.trigger_event_id = strcmp(it->event_name, "manual") && it->event_id[0] ? it->event_id : NULL;
	q.trigger_actor = it->actor;
	q.min_age_ms = run->st->cfg.tag_min_age_ms;
	q.trust = &run->st->cfg;
	/* range-checked: an out-of-range double -> int64 conversion is UB */
	if (cJSON_IsNumber(cd) && cd->valuedouble > 0 && cd->valuedouble < 9.2e12)
		q.created_ms = (int64_t)(cd->valuedouble * 1000.0);
	idx = resp_step_begin(r, "tag-provenance", "cloudtrail:LookupEvents", arn, RESP_READ);
	/* Without the history the tags are ignored (fail towards containment):
	 * not a failure of the containment itself. */
	resp_step_optional(r, idx);
	/* All of the history (not just the minimum age): an older tag's setter
	 * is then known and compared with the actor too. */
	hrc = prov_history_read(c, arn, 0, kg_read_deadline(run), it->account[0] ? it->account : NULL, &h);
	prov_query_from_history(&q, &h);
	snprintf(detail, sizeof(detail), "%d events%s%s",
		 h.events ? cJSON_GetArraySize(h.events) : 0, h.complete ? " (complete)" : "; incomplete: ",
		 h.complete ? "" : h.why);
	resp_step_end(r, idx, hrc == FB_OK ? RESP_DONE : RESP_FAILED, detail, NULL);
	list = cJSON_AddArrayToObject(sec, "exemption_tags");
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = prov_tag_value(tags, keys[i]);

		if (!prov_value_true(v))
			continue;
		q.tag_key = keys[i];
		q.tag_value = v;
		prov_decide(h.events, &q, &d);
		cJSON_AddItemToArray(list, prov_report_json(keys[i], v, &d));
		if (d.verdict == PROV_HONOURED && !honoured) {
			honoured = keys[i];
			buf_copy_str(reason, rn, d.reason);
		}
	}
	prov_history_cleanup(&h);
	return honoured;
}

/* A TagResource/UntagResource of a firebreak:* key by someone untrusted:
 * put the tag back as it was before (kg_tag_revert_plan). Returns 0, or -1
 * when a required step failed. */
static int kg_handle_tag_item(struct kg_run *run, const struct kg_item *it, cJSON *sec)
{
	struct resp *r = run->r;
	struct aws_client *c = NULL;
	struct aws_call calls[2];
	struct aws_error aerr;
	struct prov_history h;
	cJSON *din = NULL, *tin = NULL, *list;
	const cJSON *meta, *tags;
	const char *arn, *manager;
	char detail[700];
	enum fb_err hrc;
	int owned = 0, rc = 0, i, idx_d, idx_t, idx_h, k, nwritten = 0, nalready = 0, nleft = 0;

	memset(calls, 0, sizeof(calls));
	memset(&h, 0, sizeof(h));
	if (it->error_code[0]) {
		kg_section_outcome(sec, "skipped: the call failed (errorCode %s); nothing changed in AWS",
				   it->error_code);
		run->nskipped++;
		return 0;
	}
	if (resp_is_trusted(&run->st->cfg, it->actor)) {
		kg_section_outcome(sec, "skipped: trusted actor '%s' (FIREBREAK_TRUSTED_PRINCIPALS) changed "
				   "a firebreak:* tag; reported, not reverted", it->actor);
		run->nskipped++;
		return 0;
	}
	if (kg_is_self(it->actor, kg_self(run->st), run->st->cfg.member_role)) {
		kg_section_outcome(sec, "skipped: kms-guard's own tag change (loop safety)");
		run->nskipped++;
		return 0;
	}
	memset(&aerr, 0, sizeof(aerr));
	if (resp_client_for(r, run->st->aws, it->account[0] ? it->account : NULL,
			    it->region[0] ? it->region : NULL, &c, &owned, &aerr) != FB_OK) {
		i = resp_step_begin(r, "client", "sts:AssumeRole", it->account, RESP_READ);
		resp_step_end(r, i, RESP_FAILED, aerr.message[0] ? aerr.message :
			      "cannot get a client for the key's account", &aerr);
		kg_section_outcome(sec, "failed: no client for account '%s'", it->account);
		run->nfailed++;
		return -1;
	}
	din = kg_key_json(it->key_ref);
	tin = kg_key_json(it->key_ref);
	calls[0].service = "kms";
	calls[0].op = "DescribeKey";
	calls[0].in = din;
	calls[1].service = "kms";
	calls[1].op = "ListResourceTags";
	calls[1].in = tin;
	idx_d = resp_step_begin(r, "describe-key", "kms:DescribeKey", it->key_ref, RESP_READ);
	idx_t = resp_step_begin(r, "list-tags", "kms:ListResourceTags", it->key_ref, RESP_READ);
	aws_call_run_all(c, calls, 2);
	resp_step_from_call(r, idx_d, &calls[0], NULL);
	resp_step_from_call(r, idx_t, &calls[1], NULL);
	meta = resp_get(calls[0].out, "KeyMetadata");
	arn = resp_get_str(meta, "Arn");
	manager = resp_get_str(meta, "KeyManager");
	if (calls[0].rc != FB_OK || calls[1].rc != FB_OK || !arn) {
		kg_section_outcome(sec, "failed: cannot read key '%s' or its tags", it->key_ref);
		run->nfailed++;
		rc = -1;
		goto out;
	}
	kg_set(sec, "key_arn", arn);
	if (manager && !strcmp(manager, "AWS")) {
		kg_section_outcome(sec, "skipped: '%s' is an AWS managed key", arn);
		run->nskipped++;
		goto out;
	}
	tags = resp_get(calls[1].out, "Tags");
	/* The whole history (no start): the value before the change may be
	 * old, and a change after it means the change was superseded. */
	idx_h = resp_step_begin(r, "key-history", "cloudtrail:LookupEvents", arn, RESP_READ);
	resp_step_optional(r, idx_h);
	hrc = prov_history_read(c, arn, 0, kg_read_deadline(run), it->account[0] ? it->account : NULL, &h);
	snprintf(detail, sizeof(detail), "%d events%s%s", h.events ? cJSON_GetArraySize(h.events) : 0,
		 h.complete ? "" : "; incomplete: ", h.complete ? "" : h.why);
	resp_step_end(r, idx_h, hrc == FB_OK ? RESP_DONE : RESP_FAILED, detail, NULL);

	list = cJSON_AddArrayToObject(sec, "tag_changes");
	for (k = 0; k < it->ntags; k++) {
		const struct kg_tag_change *tc = &it->tags[k];
		struct kg_tag_revert plan;
		cJSON *o = cJSON_CreateObject(), *undo;
		int set;

		kg_tag_revert_plan(h.events, h.complete, it, k, tags, &plan);
		cJSON_AddStringToObject(o, "tag", tc->key);
		cJSON_AddStringToObject(o, "change", tc->unset ? "removed" : "set");
		if (!tc->unset)
			cJSON_AddStringToObject(o, "value_set", tc->value);
		cJSON_AddStringToObject(o, "reason", plan.why);
		cJSON_AddItemToArray(list, o);
		set = plan.action == KG_TAG_SET;
		i = resp_step_begin(r, "revert-tag", set ? "kms:TagResource" : "kms:UntagResource", arn,
				    RESP_WRITE);
		if (plan.action == KG_TAG_ALREADY) {
			resp_step_end(r, i, RESP_ALREADY, plan.why, NULL);
			cJSON_AddStringToObject(o, "action", "already");
			nalready++;
			continue;
		}
		if (plan.action == KG_TAG_SUPERSEDED || plan.action == KG_TAG_UNKNOWN) {
			resp_step_optional(r, i);
			resp_step_end(r, i, RESP_SKIPPED, plan.why, NULL);
			cJSON_AddStringToObject(o, "action", "skipped");
			nleft++;
			continue;
		}
		cJSON_AddStringToObject(o, "action", set ? "put-back" : "removed");
		/* The undo first: what the key holds now. */
		undo = plan.present_now ? kg_tag_in(arn, tc->key, plan.now) : kg_tag_in(arn, tc->key, NULL);
		kg_restore(r, plan.present_now ? "kms:TagResource" : "kms:UntagResource", undo);
		if (!resp_step_dry(r, i)) {
			struct aws_call wc;
			cJSON *win = kg_tag_in(arn, tc->key, set ? plan.value : NULL);

			memset(&wc, 0, sizeof(wc));
			if (set) {
				wc.service = "kms";
				wc.op = "TagResource";
			} else {
				wc.service = "kms";
				wc.op = "UntagResource";
			}
			wc.in = win;
			aws_call_run(c, &wc);
			resp_step_from_call(r, i, &wc, plan.why);
			wc.in = NULL;
			aws_call_cleanup(&wc);
			cJSON_Delete(win);
			if (r->steps[i].status == RESP_FAILED) {
				rc = -1;
				continue;
			}
		}
		nwritten++;
	}
	if (rc) {
		kg_section_outcome(sec, "failed: a firebreak:* tag change on '%s' was not reverted", arn);
		run->nfailed++;
	} else if (r->dry_run && nwritten) {
		kg_section_outcome(sec, "planned (dry run): see actions for '%s'", arn);
		run->nchanged++;
		run->ncontained++;
	} else if (nwritten) {
		resp_contained(r);
		kg_section_outcome(sec, "contained: firebreak:* tag change on '%s' reverted", arn);
		run->nchanged++;
		run->ncontained++;
	} else if (nalready && !nleft) {
		kg_section_outcome(sec, "already: the firebreak:* tags of '%s' hold their prior state", arn);
		run->nalready++;
		run->ncontained++;
	} else {
		kg_section_outcome(sec, "skipped: %s", resp_get_str(list, "0.reason") ?
				   resp_get_str(list, "0.reason") : "nothing to revert");
		run->nskipped++;
	}
out:
	for (k = 0; k < 2; k++) {
		calls[k].in = NULL;
		aws_call_cleanup(&calls[k]);
	}
	cJSON_Delete(din);
	cJSON_Delete(tin);
	prov_history_cleanup(&h);
	if (owned)
		aws_client_free(c);
	return rc;
}

/* ---- one key change ---------------------------------------------------------------- */

/* Handles one key change. Returns 0 normally, -1 when a required step failed. */
static int kg_handle_item(struct kg_run *run, const struct kg_item *it)
{
	struct resp *r = run->r;
	struct aws_client *c = NULL;
	struct aws_call calls[3], wcalls[2];
	struct aws_error aerr;
	cJSON *sec = kg_section_new(it), *din = NULL, *tin = NULL, *hin = NULL;
	struct ct_query hq;
	struct ct_result hres;
	cJSON *win[2] = { NULL, NULL };
	const cJSON *meta, *tags;
	const char *state, *arn, *manager, *mrtype, *incident_tag;
	char prior_src[600] = "", detail[700], prov_reason[PROV_REASON_LEN];
	const char *exempt_by;
	enum kg_prior prior = KG_PRIOR_UNKNOWN;
	int owned = 0, rc = 0, i, idx_d, idx_t, idx_h = -1, pending, have_hist = 0;
	int cur_enabled, nw = 0, widx[2], hist_early;
	int64_t hist_end = it->event_ms ? it->event_ms / 1000 + 1 : 0;
	size_t k;

	memset(calls, 0, sizeof(calls));
	memset(wcalls, 0, sizeof(wcalls));
	memset(&hres, 0, sizeof(hres));
	kg_ct_query(run, &hq, "ResourceName", it->key_ref, 0, hist_end, it->account);
	if (!sec)
		return -1;
	cJSON_AddItemToArray(run->sections, sec);
	if (kg_is_tag_item(it))
		return kg_handle_tag_item(run, it, sec);

	/* Decisions that need no AWS call. */
	if (it->error_code[0]) {
		kg_section_outcome(sec, "skipped: the call failed (errorCode %s); nothing changed in AWS",
				   it->error_code);
		run->nskipped++;
		return 0;
	}
	if (resp_is_trusted(&run->st->cfg, it->actor)) {
		kg_section_outcome(sec, "skipped: trusted actor '%s' (FIREBREAK_TRUSTED_PRINCIPALS); "
				   "reported, not reverted", it->actor);
		run->nskipped++;
		return 0;
	}

	memset(&aerr, 0, sizeof(aerr));
	if (resp_client_for(r, run->st->aws, it->account[0] ? it->account : NULL,
			    it->region[0] ? it->region : NULL, &c, &owned, &aerr) != FB_OK) {
		i = resp_step_begin(r, "client", "sts:AssumeRole", it->account, RESP_READ);
		resp_step_end(r, i, RESP_FAILED, aerr.message[0] ? aerr.message :
			      "cannot get a client for the key's account", &aerr);
		kg_section_outcome(sec, "failed: no client for account '%s'", it->account);
		run->nfailed++;
		return -1;
	}

	/* Round 1, concurrently: DescribeKey, ListResourceTags and, for a
	 * deletion whose prior state matters, the key's CloudTrail history. */
	din = kg_key_json(it->key_ref);
	calls[0].service = "kms";
	calls[0].op = "DescribeKey";
	calls[0].in = din;
	idx_d = resp_step_begin(r, "describe-key", "kms:DescribeKey", it->key_ref, RESP_READ);
	/* ListResourceTags takes a key id or key ARN, not an alias. */
	int tags_now = strncmp(it->key_ref, "alias/", 6) && !strstr(it->key_ref, ":alias/");
	tin = kg_key_json(it->key_ref);
	calls[1].service = "kms";
	calls[1].op = "ListResourceTags";
	calls[1].in = tin;
	/* A deletion by key ARN: the history will most likely be needed, so
	 * its first page joins this round (one dependent round trip less). */
	hist_early = tags_now && strcmp(it->event_name, "DisableKey") &&
		     kg_kms_arn(it->key_ref, NULL, 0, NULL, 0) && strstr(it->key_ref, ":key/");
	if (tags_now) {
		idx_t = resp_step_begin(r, "list-tags", "kms:ListResourceTags", it->key_ref, RESP_READ);
		if (hist_early) {
			/* Page 1 joins the round; the pager retries it and reads on
			 * (ct_lookup_continue) when the history is needed. */
			hin = ct_lookup_input(c, &hq, &calls[2]);
			if (hin) {
				idx_h = resp_step_begin(r, "key-history", "cloudtrail:LookupEvents",
							it->key_ref, RESP_READ);
				resp_step_optional(r, idx_h);
			} else {
				hist_early = 0;
			}
		}
		aws_call_run_all(c, calls, hist_early ? 3 : 2);
	} else {
		aws_call_run(c, &calls[0]);
		idx_t = -1;
	}
	resp_step_from_call(r, idx_d, &calls[0], NULL);
	if (calls[0].rc != FB_OK) {
		kg_section_outcome(sec, "failed: cannot describe key '%s'", it->key_ref);
		run->nfailed++;
		rc = -1;
		goto out;
	}
	meta = resp_get(calls[0].out, "KeyMetadata");
	state = resp_get_str(meta, "KeyState");
	arn = resp_get_str(meta, "Arn");
	manager = resp_get_str(meta, "KeyManager");
	mrtype = resp_get_str(meta, "MultiRegionConfiguration.MultiRegionKeyType");
	if (!state || !arn) {
		resp_step_end(r, idx_d, RESP_FAILED, "DescribeKey answer lacks KeyState or Arn", NULL);
		kg_section_outcome(sec, "failed: cannot describe key '%s'", it->key_ref);
		run->nfailed++;
		rc = -1;
		goto out;
	}
	snprintf(detail, sizeof(detail), "KeyState %s, KeyManager %s%s%s", state,
		 manager ? manager : "?", mrtype ? ", multi-Region " : "", mrtype ? mrtype : "");
	resp_step_end(r, idx_d, RESP_DONE, detail, NULL);
	kg_set(sec, "key_arn", arn);
	kg_set(sec, "key_state", state);
	kg_set(sec, "key_manager", manager);
	if (mrtype)
		kg_set(sec, "multi_region_key_type", mrtype);
	if (idx_t < 0) {
		cJSON_Delete(tin);
		tin = kg_key_json(arn);
		calls[1].in = tin;
		idx_t = resp_step_begin(r, "list-tags", "kms:ListResourceTags", arn, RESP_READ);
		aws_call_run(c, &calls[1]);
	}
	resp_step_from_call(r, idx_t, &calls[1], NULL);

	if (manager && !strcmp(manager, "AWS")) {
		resp_step_optional(r, idx_t); /* its tags do not matter */
		kg_section_outcome(sec, "skipped: '%s' is an AWS managed key (KeyManager AWS); "
				   "AWS manages its lifecycle", arn);
		run->nskipped++;
		goto out;
	}
	if (calls[1].rc != FB_OK) {
		kg_section_outcome(sec, "failed: cannot read the tags of '%s' (exemptions unknown)", arn);
		run->nfailed++;
		rc = -1;
		goto out;
	}
	tags = resp_get(calls[1].out, "Tags");
	/* An exemption counts only when CloudTrail shows it predates the change
	 * and was not set by its actor (runtime/prov.h); otherwise it is
	 * ignored, said in exemption_tags[], and the key is contained. */
	exempt_by = kg_exemption(run, c, it, arn, meta, tags, sec, prov_reason, sizeof(prov_reason));
	if (exempt_by && !strcmp(exempt_by, KG_TAG_EXEMPT)) {
		kg_section_outcome(sec, "skipped: key tagged %s=true (%s)", KG_TAG_EXEMPT, prov_reason);
		run->nskipped++;
		goto out;
	}
	if (exempt_by) {
		kg_section_outcome(sec, "skipped: key tagged %s=true (deletion allowed; notified; %s)",
				   KG_TAG_ALLOW, prov_reason);
		run->nskipped++;
		goto out;
	}
	pending = !strcmp(state, "PendingDeletion") || !strcmp(state, "PendingReplicaDeletion");
	if (!pending && strcmp(state, "Enabled") && strcmp(state, "Disabled")) {
		kg_section_outcome(sec, "skipped: key state %s is not one kms-guard acts on", state);
		run->nskipped++;
		goto out;
	}

	/* Prior state: a DisableKey event says it (the key was Enabled); else
	 * the key's CloudTrail history, when the key is not already Enabled. */
	cur_enabled = !strcmp(state, "Enabled");
	if (!strcmp(it->event_name, "DisableKey")) {
		prior = KG_PRIOR_ENABLED;
		snprintf(prior_src, sizeof(prior_src), "event:DisableKey");
	} else if (cur_enabled) {
		prior = KG_PRIOR_ENABLED;
		snprintf(prior_src, sizeof(prior_src), "current:Enabled (no deletion pending)");
	} else {
		enum fb_err hrc;

		if (idx_h < 0) {
			idx_h = resp_step_begin(r, "key-history", "cloudtrail:LookupEvents", arn,
						RESP_READ);
			/* History is evidence, not a requirement: without it the
			 * safe default applies. */
			resp_step_optional(r, idx_h);
		}
		if (hist_early) {
			hrc = ct_lookup_continue(c, &hq, hin, &calls[2], &hres);
		} else {
			hq.attr_value = arn;
			hrc = ct_lookup(c, &hq, &hres);
		}
		kg_ct_step(r, idx_h, hrc, &hres, hrc == FB_OK ? NULL : "history unavailable");
		if (hrc == FB_OK) {
			have_hist = 1;
			prior = kg_prior_from_history(hres.events, it, prior_src, sizeof(prior_src));
		}
		if (prior == KG_PRIOR_UNKNOWN) {
			/* See README "Prior state": an Enabled key in use leaves
			 * Encrypt/Decrypt events; none in 90 days of history most
			 * likely means a key disabled long ago. Enabling a key its
			 * owner disabled could make things worse; leaving it
			 * Disabled loses nothing (deletion is cancelled). */
			prior = KG_PRIOR_DISABLED;
			snprintf(prior_src, sizeof(prior_src), "default:Disabled (%s; not re-enabling a "
				 "key that may have been disabled on purpose)",
				 have_hist ? "no state change or key use in CloudTrail history before the event"
					   : "CloudTrail history unavailable");
		}
	}
	kg_set(sec, "prior_state", kg_prior_name(prior));
	kg_set(sec, "prior_state_source", prior_src);

	/* Write 1: cancel the deletion. */
	i = resp_step_begin(r, "cancel-deletion", "kms:CancelKeyDeletion", arn, RESP_WRITE);
	if (!pending) {
		snprintf(detail, sizeof(detail), "no deletion pending (KeyState %s)", state);
		resp_step_end(r, i, RESP_ALREADY, detail, NULL);
	} else {
		const cJSON *pd = resp_get(meta, "PendingDeletionWindowInDays");
		cJSON *args = kg_key_json(arn);
		int days = it->pending_days ? it->pending_days :
			   /* fuzz: range-checked, an out-of-range double -> int conversion is UB */
			   (cJSON_IsNumber(pd) && pd->valuedouble >= 7 && pd->valuedouble <= 30)
			   ? (int)pd->valuedouble : KG_DEFAULT_PENDING_DAYS;

		cJSON_AddNumberToObject(args, "PendingWindowInDays", days);
		kg_restore(r, "kms:ScheduleKeyDeletion", args);
		if (!resp_step_dry(r, i)) {
			struct aws_call cc;
			cJSON *cin = kg_key_json(arn);

			memset(&cc, 0, sizeof(cc));
			cc.service = "kms";
			cc.op = "CancelKeyDeletion";
			cc.in = cin;
			aws_call_run(c, &cc);
			snprintf(detail, sizeof(detail), "deletion cancelled (was %s); KMS leaves the key "
				 "Disabled", state);
			resp_step_from_call(r, i, &cc, cc.rc == FB_OK ? detail : "deletion still pending");
			aws_call_cleanup(&cc);
			cJSON_Delete(cin);
			if (r->steps[i].status == RESP_FAILED) {
				kg_section_outcome(sec, "failed: deletion of '%s' still pending", arn);
				run->nfailed++;
				rc = -1;
				goto out;
			}
		}
		cur_enabled = 0; /* a cancelled key is Disabled */
	}

	/* Writes 2 and 3, concurrently: enable (when it was Enabled) and tag. */
	i = resp_step_begin(r, "enable-key", "kms:EnableKey", arn, RESP_WRITE);
	if (prior != KG_PRIOR_ENABLED || cur_enabled) {
		resp_step_end(r, i, RESP_ALREADY, cur_enabled ? "key is Enabled" :
			      "key stays Disabled (prior state Disabled)", NULL);
	} else {
		kg_restore(r, "kms:DisableKey", kg_key_json(arn));
		if (!resp_step_dry(r, i)) {
			win[0] = kg_key_json(arn);
			wcalls[nw].service = "kms";
			wcalls[nw].op = "EnableKey";
			wcalls[nw].in = win[0];
			widx[nw++] = i;
		}
	}
	incident_tag = kg_tag(tags, KG_TAG_INCIDENT);
	i = resp_step_begin(r, "tag-incident", "kms:TagResource", arn, RESP_WRITE);
	resp_step_optional(r, i); /* the key is safe without the tag */
	if (incident_tag && !strcmp(incident_tag, r->incident_id)) {
		resp_step_end(r, i, RESP_ALREADY, "tag " KG_TAG_INCIDENT " present", NULL);
	} else {
		cJSON *undo = kg_key_json(arn);

		if (incident_tag) {
			cJSON *ts = cJSON_AddArrayToObject(undo, "Tags"), *t = cJSON_CreateObject();

			cJSON_AddStringToObject(t, "TagKey", KG_TAG_INCIDENT);
			cJSON_AddStringToObject(t, "TagValue", incident_tag);
			cJSON_AddItemToArray(ts, t);
			kg_restore(r, "kms:TagResource", undo);
		} else {
			cJSON *keys = cJSON_AddArrayToObject(undo, "TagKeys");

			cJSON_AddItemToArray(keys, cJSON_CreateString(KG_TAG_INCIDENT));
			kg_restore(r, "kms:UntagResource", undo);
		}
		if (!resp_step_dry(r, i)) {
			cJSON *ts, *t;

			win[1] = kg_key_json(arn);
			ts = cJSON_AddArrayToObject(win[1], "Tags");
			t = cJSON_CreateObject();
			cJSON_AddStringToObject(t, "TagKey", KG_TAG_INCIDENT);
			cJSON_AddStringToObject(t, "TagValue", r->incident_id);
			cJSON_AddItemToArray(ts, t);
			wcalls[nw].service = "kms";
			wcalls[nw].op = "TagResource";
			wcalls[nw].in = win[1];
			widx[nw++] = i;
		}
	}
	if (nw)
		aws_call_run_all(c, wcalls, (size_t)nw);
	for (k = 0; k < (size_t)nw; k++) {
		int en = !strcmp(wcalls[k].op, "EnableKey");

		resp_step_from_call(r, widx[k], &wcalls[k],
				    wcalls[k].rc != FB_OK ? NULL :
				    en ? "key Enabled again (prior state Enabled)" :
				    "tagged " KG_TAG_INCIDENT);
		if (en && wcalls[k].rc != FB_OK) {
			kg_section_outcome(sec, "failed: '%s' is still Disabled", arn);
			run->nfailed++;
			rc = -1;
			goto out;
		}
	}
	if (r->dry_run) {
		kg_section_outcome(sec, "planned (dry run): see actions for '%s'", arn);
		run->nchanged += pending || (prior == KG_PRIOR_ENABLED && !cur_enabled);
	} else if (!pending && (prior != KG_PRIOR_ENABLED || cur_enabled)) {
		/* Nothing to contain: a tag written now is bookkeeping, not containment. */
		kg_section_outcome(sec, "already: '%s' needs no change%s", arn, nw ?
				   " (tagged " KG_TAG_INCIDENT " now)" : "");
		run->nalready++;
	} else {
		resp_contained(r);
		kg_section_outcome(sec, "contained: '%s'", arn);
		run->nchanged++;
	}
	run->ncontained++;
out:
	for (k = 0; k < 2; k++) {
		wcalls[k].in = NULL;
		aws_call_cleanup(&wcalls[k]);
		cJSON_Delete(win[k]);
	}
	/* Page 1 read in the round but the history was not needed. */
	if (idx_h >= 0 && !r->steps[idx_h].ended)
		resp_step_from_call(r, idx_h, &calls[2], "first page (not needed)");
	for (k = 0; k < 3; k++) {
		calls[k].in = NULL;
		aws_call_cleanup(&calls[k]);
	}
	cJSON_Delete(din);
	cJSON_Delete(tin);
	cJSON_Delete(hin);
	ct_result_cleanup(&hres);
	if (owned)
		aws_client_free(c);
	return rc;
}

/* The alarm: every ScheduleKeyDeletion/DisableKey in the window, one item
 * per key (kg_items_from_events decides which). Returns -1 when a lookup
 * failed (its step is failed and required). */
static int kg_alarm_items(struct kg_run *run, const struct kg_event *ev, struct kg_item *items,
			  size_t *nitems)
{
	static const char *const names[] = { "ScheduleKeyDeletion", "DisableKey" };
	struct resp *r = run->r;
	cJSON *found = cJSON_CreateArray();
	struct ct_query q;
	struct ct_result res;
	enum fb_err rc;
	char what[64];
	size_t n;
	int idx, out = 0;

	*nitems = 0;
	if (!found)
		return -1;
	for (n = 0; n < 2; n++) {
		const cJSON *e;

		memset(&res, 0, sizeof(res));
		kg_ct_query(run, &q, "EventName", names[n], ev->window_start_s, ev->window_end_s,
			    run->st->cfg.own_account);
		idx = resp_step_begin(r, "lookup-events", "cloudtrail:LookupEvents", names[n], RESP_READ);
		rc = ct_lookup(run->st->aws, &q, &res);
		snprintf(what, sizeof(what), "EventName=%s", names[n]);
		kg_ct_step(r, idx, rc, &res, what);
		if (rc != FB_OK)
			out = -1;
		for (e = res.events ? res.events->child : NULL; e; e = e->next)
			cJSON_AddItemToArray(found, cJSON_Duplicate(e, 1));
		ct_result_cleanup(&res);
	}
	kg_items_from_events(found, &run->st->cfg, resp_get_str(ev->root, "region"), items,
			     KG_MAX_ITEMS, nitems);
	cJSON_Delete(found);
	return out;
}

/* ---- the handler --------------------------------------------------------------- */

static enum fb_err kg_init(void **state, char *err, size_t errlen)
{
	struct kg_state *st = calloc(1, sizeof(*st));
	enum fb_err rc;

	if (!st)
		return FB_E_NOMEM;
	rc = resp_config_from_env(&st->cfg, err, errlen);
	if (rc != FB_OK)
		goto fail;
	rc = kg_settings_from_env(&st->set, err, errlen);
	if (rc != FB_OK)
		goto fail;
	rc = aws_client_new(&st->aws, NULL, err, errlen);
	if (rc != FB_OK)
		goto fail;
	*state = st;
	return FB_OK;
fail:
	resp_config_cleanup(&st->cfg);
	free(st);
	return rc;
}

static enum fb_err kg_handle(void *state, const char *event, size_t len,
			     const struct lr_context *ctx, struct lr_result *out)
{
	struct kg_state *st = state;
	struct kg_event ev;
	struct kg_run run;
	struct resp r;
	struct kg_item *items = NULL;
	size_t nitems = 0, k;
	char why[512];
	enum fb_err rc;

	if (ctx->deadline_ms > 0)
		aws_client_set_deadline(st->aws, ctx->deadline_ms - KG_DEADLINE_MARGIN_MS);
	if (kg_parse(event, len, &st->set, &ev, why, sizeof(why)) != FB_OK)
		return resp_invalid(out, "%s", why);
	rc = resp_begin(&r, &st->cfg, KG_FUNCTION, ctx);
	if (rc != FB_OK) {
		kg_event_cleanup(&ev);
		return rc;
	}
	if (resp_trigger_from_event(&r, ev.root) != FB_OK) {
		resp_cleanup(&r);
		kg_event_cleanup(&ev);
		return resp_invalid(out, "envelope fields have the wrong types (or 'dryRun' is not a boolean)");
	}
	/* An untrusted change of a firebreak:* tag is an attempt to switch a
	 * control off, not yet a loss: P2. Key deletion and disabling: P1. */
	resp_set_severity(&r, ev.kind == KG_CALL && kg_is_tag_item(&ev.item) ? "P2" : "P1");
	memset(&run, 0, sizeof(run));
	run.st = st;
	run.r = &r;
	run.sections = cJSON_AddArrayToObject(r.extra, "keys");

	if (ev.kind == KG_ALARM) {
		char a[RESP_TIME_LEN], b[RESP_TIME_LEN];
		cJSON *w = cJSON_AddObjectToObject(r.extra, "alarm_window");

		resp_format_time_ms(ev.window_start_s * 1000, a);
		resp_format_time_ms(ev.window_end_s * 1000, b);
		cJSON_AddStringToObject(w, "start", a);
		cJSON_AddStringToObject(w, "end", b);
		if (ev.alarm_arn[0])
			resp_set_resource(&r, ev.alarm_arn, NULL, NULL);
		items = calloc(KG_MAX_ITEMS, sizeof(*items));
		if (!items) {
			rc = FB_E_NOMEM;
			goto done;
		}
		kg_alarm_items(&run, &ev, items, &nitems);
		for (k = 0; k < nitems; k++)
			kg_handle_item(&run, &items[k]);
		if (!resp_failed(&r) && nitems == 0)
			resp_set_verdict(&r, "no action: no ScheduleKeyDeletion or DisableKey in the "
					 "alarm window");
	} else {
		struct kg_item *it = &ev.item;

		resp_set_resource(&r, it->key_ref[0] ? it->key_ref : NULL,
				  it->account[0] ? it->account : NULL, it->region[0] ? it->region : NULL);
		kg_handle_item(&run, it);
		/* One key: its decision fields at the top level too. */
		cJSON *sec = cJSON_GetArrayItem(run.sections, 0);
		const char *ps = resp_get_str(sec, "prior_state");

		if (resp_get_str(sec, "key_arn"))
			resp_set_resource(&r, resp_get_str(sec, "key_arn"), NULL, NULL);
		if (ps) {
			cJSON_AddStringToObject(r.extra, "prior_state", ps);
			cJSON_AddStringToObject(r.extra, "prior_state_source",
						resp_get_str(sec, "prior_state_source"));
		}
		if (it->note[0])
			cJSON_AddStringToObject(r.extra, "note", it->note);
		if (resp_get(sec, "exemption_tags"))
			cJSON_AddItemToObject(r.extra, "exemption_tags",
					      cJSON_Duplicate(resp_get(sec, "exemption_tags"), 1));
		if (resp_get(sec, "tag_changes"))
			cJSON_AddItemToObject(r.extra, "tag_changes",
					      cJSON_Duplicate(resp_get(sec, "tag_changes"), 1));
	}
	if (!resp_failed(&r) && run.nskipped && !run.ncontained) {
		const char *o = resp_get_str(cJSON_GetArrayItem(run.sections, 0), "outcome");

		if (run.nskipped == 1 && o && !strncmp(o, "skipped: ", 9))
			resp_skip(&r, "%s", o + 9);
		else
			resp_skip(&r, "all %d key changes were skipped (see keys[])", run.nskipped);
	}
	if (!resp_failed(&r) && kg_verdict(r.dry_run, run.nchanged, run.nalready))
		resp_set_verdict(&r, "%s", kg_verdict(r.dry_run, run.nchanged, run.nalready));
	rc = resp_finish(&r, st->aws, out);
done:
	free(items);
	resp_cleanup(&r);
	kg_event_cleanup(&ev);
	return rc;
}

int main(void) { return lr_main(kg_init, kg_handle); }
