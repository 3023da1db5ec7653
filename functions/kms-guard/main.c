/*
 * kms-guard: cancel an unauthorised KMS key deletion (or undo a DisableKey)
 * within seconds and restore the key's prior state. README.md next to this
 * file documents triggers, actions, IAM and settings; kms_guard.h declares
 * the pure stages (stages.c). This file is the runbook; the kit
 * (runtime/kit.h) makes the calls, the report lines and the undo entries:
 *
 *   kg_parse()                event -> items (one per key change)
 *   kg_handle_item()          round 1, concurrently: DescribeKey,
 *                             ListResourceTags and, when the prior state
 *                             will likely be needed, page 1 of the key's
 *                             CloudTrail history; decide (exemptions with
 *                             provenance, kg_prior_from_history()); then
 *                             write: CancelKeyDeletion, then EnableKey and
 *                             TagResource concurrently
 *   kg_handle_tag_item()      a firebreak:* tag change: put the tag back
 *   kg_alarm_items()          the alarm: LookupEvents -> kg_items_from_events()
 */
#include "kms_guard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence.h"
#include "fn.h"
#include "kit.h"
#include "kms.h"
#include "lr.h"
#include "prov.h"
#include "resp.h"
#include "sect.h"

#define KG_FUNCTION "kms-guard"
#define KG_DEADLINE_MARGIN_MS 500
#define KG_READ_RESERVE_MS (3 * KG_DEADLINE_MARGIN_MS)  /* CloudTrail reads leave time for the writes */
#define KG_MAX_PAGES 5           /* LookupEvents pages per query */
#define KG_PAGE_SIZE 50          /* LookupEvents MaxResults limit */
#define KG_DEFAULT_PENDING_DAYS 30

struct kg_state {
	struct fn_base fn;
	struct kg_settings set;
};

/* One invocation. */
struct kg_run {
	struct kg_state *st;
	struct resp *r;
	struct kit *k;          /* borrowed: the frame's */
	cJSON *sections;        /* borrowed: r->extra["keys"] */
};

/* ---- request and report pieces ---------------------------------------------------- */

/* The deletion window to schedule again on undo: the event's, else the
 * key's (DescribeKey KeyMetadata, borrowed), else KG_DEFAULT_PENDING_DAYS. */
static int kg_pending_days(const struct kg_item *it, const cJSON *meta)
{
	const cJSON *pd = resp_get(meta, "PendingDeletionWindowInDays");

	if (it->pending_days)
		return it->pending_days;
	/* fuzz: range-checked, an out-of-range double -> int conversion is UB */
	if (cJSON_IsNumber(pd) && pd->valuedouble >= 7 && pd->valuedouble <= 30)
		return (int)pd->valuedouble;
	return KG_DEFAULT_PENDING_DAYS;
}

/* The report's section for one key (the item's facts; outcome set later). */
static cJSON *kg_section_new(const struct kg_item *it)
{
	cJSON *sec = kit_obj("key", it->key_ref, KIT_END);

	if (!sec)
		return NULL;
	resp_json_set(sec, "key_arn", NULL);
	cJSON_AddStringToObject(sec, "account", it->account);
	cJSON_AddStringToObject(sec, "region", it->region);
	sect_event(sec, it->event_name, it->event_id, it->event_ms, it->actor);
	if (it->note[0])
		cJSON_AddStringToObject(sec, "note", it->note);
	return sec;
}

/* DescribeKey and ListResourceTags of `ref`, a step each (NULL: not asked). */
static void kg_read_key(struct kit_round *rd, struct aws_client *c, const char *ref,
			struct kit_step **desc, struct kit_step **tags)
{
	if (desc)
		*desc = kit_add(rd, &(struct kit_spec){ .step = "describe-key", .service = "kms",
			.op = "DescribeKey", .target = ref, .kind = RESP_READ,
			.in = kit_obj("KeyId", ref, KIT_END), .client = c });
	if (tags)
		*tags = kit_add(rd, &(struct kit_spec){ .step = "list-tags", .service = "kms",
			.op = "ListResourceTags", .target = ref, .kind = RESP_READ,
			.in = kit_obj("KeyId", ref, KIT_END), .client = c });
}

/* How the key's whole CloudTrail history is read (kit_prov_history). */
static struct kit_prov_read kg_history(struct kg_run *run, struct aws_client *c, const char *step,
				       const char *arn, const struct kg_item *it, const char *complete_note)
{
	return (struct kit_prov_read){ .step = step, .arn = arn, .client = c,
		.account = it->account[0] ? it->account : NULL, .complete_note = complete_note,
		.deadline_ms = kit_read_deadline(run->k, KG_READ_RESERVE_MS) };
}

/* Exemption tags (firebreak:exempt, firebreak:allow-deletion) count only
 * when CloudTrail shows they predate the change (runtime/prov.h, kit.h
 * kit_exemption): each decision in the section ("exemption_tags"); returns
 * the tag that is honoured, or NULL (the caller acts as if there were none). */
static const char *kg_exemption(struct kg_run *run, struct aws_client *c, const struct kg_item *it,
				const char *arn, const cJSON *meta, const cJSON *tags, cJSON *sec,
				char *reason, size_t rn)
{
	static const char *const keys[] = { KG_TAG_EXEMPT, KG_TAG_ALLOW };
	struct kit_prov_read pr = kg_history(run, c, "tag-provenance", arn, it, " (complete)");
	struct prov_query q = { .trigger_ms = it->event_ms ? it->event_ms : run->r->received_ms,
		.trigger_event_id = strcmp(it->event_name, "manual") && it->event_id[0] ? it->event_id : NULL,
		.trigger_actor = it->actor, .created_ms = resp_epoch_ms(resp_get(meta, "CreationDate")) };

	return kit_exemption(run->k, &pr, &q, tags, keys, 2, sec, reason, rn);
}

/* Reverts one firebreak:* tag change as planned (its own round: one write,
 * its undo first: what the key holds now). Returns the step's status. */
static enum resp_status kg_revert_tag(struct kg_run *run, struct aws_client *c, const char *arn,
				      const struct kg_tag_change *tc, const struct kg_tag_revert *plan)
{
	int set = plan->action == KG_TAG_SET;
	struct kit_round *rd = kit_round_new(run->k);
	/* UntagResource unless a value goes back: each op a literal (tests/infra derives the IAM policy) */
	struct kit_spec ws = { .step = "revert-tag", .service = "kms", .op = "UntagResource", .target = arn,
		.kind = RESP_WRITE, .client = c,
		.optional = plan->action == KG_TAG_SUPERSEDED || plan->action == KG_TAG_UNKNOWN,
		.in = kms_tag_in(arn, tc->key, set ? plan->value : NULL), .detail = plan->why,
		.restore = kms_tag_undo(NULL, arn, tc->key, plan->present_now ? plan->now : NULL) };
	struct kit_step *w;
	enum resp_status st;

	if (set) {
		ws.service = "kms";
		ws.op = "TagResource";
	}
	w = kit_add(rd, &ws);
	if (plan->action == KG_TAG_ALREADY)
		kit_already(w, "%s", plan->why);
	else if (ws.optional)
		kit_skip(w, "%s", plan->why);
	else if (kit_run(rd) != FB_OK)
		kit_detail(w, "%s", plan->why);
	st = w ? kit_status(w) : RESP_FAILED;
	kit_round_free(rd);
	return st;
}

/* A TagResource/UntagResource of a firebreak:* key by someone untrusted
 * (kg_handle_item checked that): put the tag back as it was before
 * (kg_tag_revert_plan). Returns 0, or -1 when a required step failed. */
static int kg_handle_tag_item(struct kg_run *run, const struct kg_item *it, cJSON *sec)
{
	struct resp *r = run->r;
	struct kit_round *rd;
	struct kit_step *d, *t;
	struct aws_client *c;
	struct prov_history h;
	struct kit_prov_read pr;
	struct kg_tag_revert plans[KG_MAX_TAG_CHANGES];
	const cJSON *meta, *tags;
	const char *arn, *manager;
	cJSON *list, *rec;
	int rc = 0, k, nwritten, n[RESP_FAILED + 1] = { 0 };   /* reverts by status */

	if (prov_is_self(it->actor, kit_caller_arn(run->k), run->st->fn.cfg.member_role))
		return sect_outcome(sec, 0, "skipped: kms-guard's own tag change (loop safety)");
	if (!(c = kit_client(run->k, it->account, it->region, "client", NULL)))
		return sect_outcome(sec, -1, "failed: no client for account '%s'", it->account);
	rd = kit_round_new(run->k);
	kg_read_key(rd, c, it->key_ref, &d, &t);
	kit_run(rd);
	meta = resp_get(kit_out(d), "KeyMetadata");
	arn = resp_get_str(meta, "Arn");
	manager = resp_get_str(meta, "KeyManager");
	if (!kit_ok(d) || !kit_ok(t) || !arn) {
		rc = sect_outcome(sec, -1, "failed: cannot read key '%s' or its tags", it->key_ref);
		goto out;
	}
	resp_json_set(sec, "key_arn", arn);
	if (manager && !strcmp(manager, "AWS")) {
		sect_outcome(sec, 0, "skipped: '%s' is an AWS managed key", arn);
		goto out;
	}
	tags = resp_get(kit_out(t), "Tags");
	/* The whole history: the value before the change may be old, and a
	 * change after it means the change was superseded. */
	pr = kg_history(run, c, "key-history", arn, it, "");
	kit_prov_history(run->k, &pr, &h);
	list = cJSON_AddArrayToObject(sec, "tag_changes");
	/* every revert planned first: their undo record before the first write */
	rec = cJSON_CreateArray();
	for (k = 0; k < it->ntags; k++) {
		kg_tag_revert_plan(h.events, h.complete, it, k, tags, &plans[k]);
		if (plans[k].action == KG_TAG_SET || plans[k].action == KG_TAG_REMOVE)
			cJSON_AddItemToArray(rec, kms_tag_undo("revert-tag", arn, it->tags[k].key,
							       plans[k].present_now ? plans[k].now : NULL));
	}
	evidence_undo_claim(run->k, run->st->fn.aws, &run->st->fn.evcfg, run->r->ctx, "key_arn", arn, rec, sec);
	for (k = 0; k < it->ntags; k++) {
		const struct kg_tag_change *tc = &it->tags[k];
		const struct kg_tag_revert plan = plans[k];

		cJSON_AddItemToArray(list, kit_obj("tag", tc->key, "change", tc->unset ? "removed" : "set",
			"value_set", tc->unset ? NULL : tc->value, "reason", plan.why,
			"action", plan.action == KG_TAG_ALREADY ? "already" : plan.action == KG_TAG_SET ? "put-back"
				  : plan.action == KG_TAG_REMOVE ? "removed" : "skipped", KIT_END));
		n[kg_revert_tag(run, c, arn, tc, &plan)]++;
	}
	prov_history_cleanup(&h);
	nwritten = n[RESP_DONE] + n[RESP_PLANNED];
	if (n[RESP_FAILED]) {
		rc = sect_outcome(sec, -1, "failed: a firebreak:* tag change on '%s' was not reverted", arn);
	} else if (r->dry_run && nwritten) {
		sect_outcome(sec, 0, "planned (dry run): see actions for '%s'", arn);
	} else if (nwritten) {
		resp_contained(r);
		sect_outcome(sec, 0, "contained: firebreak:* tag change on '%s' reverted", arn);
	} else if (n[RESP_ALREADY] && !n[RESP_SKIPPED]) {
		sect_outcome(sec, 0, "already: the firebreak:* tags of '%s' hold their prior state", arn);
	} else {
		sect_outcome(sec, 0, "skipped: %s", resp_get_str(list, "0.reason") ?
			resp_get_str(list, "0.reason") : "nothing to revert");
	}
out:
	kit_round_free(rd);
	return rc;
}

/* ---- one key change ---------------------------------------------------------------- */

/* The prior state (before the change): a DisableKey event says it (the key
 * was Enabled); so does a key Enabled now; else the key's CloudTrail
 * history (h: page 1 read in round 1, or NULL: read it now). */
static enum kg_prior kg_prior(struct kg_run *run, struct aws_client *c, const struct kg_item *it,
			      const char *arn, int cur_enabled, struct kit_step *h,
			      struct ct_query *hq, char *src, size_t n)
{
	struct kit_round *rd = NULL;
	const struct ct_result *res;
	enum kg_prior prior = KG_PRIOR_UNKNOWN;
	int have = 0;

	if (!strcmp(it->event_name, "DisableKey")) {
		snprintf(src, n, "event:DisableKey");
		return KG_PRIOR_ENABLED;
	}
	if (cur_enabled) {
		snprintf(src, n, "current:Enabled (no deletion pending)");
		return KG_PRIOR_ENABLED;
	}
	if (!h) {
		/* History is evidence, not a requirement: without it the safe
		 * default applies. */
		rd = kit_round_new(run->k);
		hq->attr_value = arn;
		h = kit_add(rd, &(struct kit_spec){ .step = "key-history", .service = "cloudtrail",
			.op = "LookupEvents", .target = arn, .kind = RESP_READ, .optional = 1,
			.cloudtrail = hq, .client = c });
		kit_run(rd);
	}
	have = kit_ct_continue(h) == FB_OK;
	res = kit_ct_result(h);
	if (have && res)
		prior = kg_prior_from_history(res->events, it, src, n);
	else
		kit_detail(h, "history unavailable: %zu events; incomplete: %s", res ? res->nevents : 0,
			   res ? res->why : "");
	kit_round_free(rd);
	if (prior == KG_PRIOR_UNKNOWN) {
		/* See README "Prior state": an Enabled key in use leaves
		 * Encrypt/Decrypt events; none in 90 days of history most likely
		 * means a key disabled long ago. Enabling a key its owner
		 * disabled could make things worse; leaving it Disabled loses
		 * nothing (deletion is cancelled). */
		prior = KG_PRIOR_DISABLED;
		snprintf(src, n, "default:Disabled (%s; not re-enabling a key that may have been disabled "
			 "on purpose)", have ? "no state change or key use in CloudTrail history before the event"
			 : "CloudTrail history unavailable");
	}
	return prior;
}

/* Handles one key change. Returns 0 normally, -1 when a required step failed. */
static int kg_handle_item(struct kg_run *run, const struct kg_item *it)
{
	struct resp *r = run->r;
	struct kit_round *rd = NULL, *tr = NULL, *wr = NULL, *wr2 = NULL;
	struct kit_step *d, *t = NULL, *h = NULL, *cx, *en, *tg;
	struct aws_client *c;
	/* at most KG_MAX_PAGES pages: a busy key has many events, and the newest ones decide */
	struct ct_query hq = { .attr_key = "ResourceName", .attr_value = it->key_ref,
		.end_ms = it->event_ms ? (it->event_ms / 1000 + 1) * 1000 : 0, .max_results = KG_PAGE_SIZE,
		.max_pages = KG_MAX_PAGES, .deadline_ms = kit_read_deadline(run->k, KG_READ_RESERVE_MS),
		.account = it->account[0] ? it->account : NULL, .keep_events = 1 };
	cJSON *sec = kg_section_new(it), *undo, *rec;
	const cJSON *meta, *tags;
	const char *state, *arn, *manager, *mrtype, *incident_tag, *exempt_by;
	char prior_src[600] = "", detail[700], prov_reason[PROV_REASON_LEN];
	enum kg_prior prior;
	int rc = 0, pending, cur_enabled, tags_now, tag_now, enable_now;

	if (!sec)
		return -1;
	cJSON_AddItemToArray(run->sections, sec);
	/* Decisions that need no AWS call. */
	if (it->error_code[0])
		return sect_outcome(sec, 0, "skipped: the call failed (errorCode %s); nothing "
				  "changed in AWS", it->error_code);
	if (resp_is_trusted(&run->st->fn.cfg, it->actor))
		return sect_outcome(sec, 0, "skipped: trusted actor '%s' "
				  "(FIREBREAK_TRUSTED_PRINCIPALS)%s; reported, not reverted", it->actor,
				  kg_is_tag_item(it) ? " changed a firebreak:* tag" : "");
	if (kg_is_tag_item(it))
		return kg_handle_tag_item(run, it, sec);
	if (!(c = kit_client(run->k, it->account, it->region, "client", NULL)))
		return sect_outcome(sec, -1, "failed: no client for account '%s'", it->account);

	/* Round 1, concurrently: DescribeKey, ListResourceTags (it takes a key
	 * id or key ARN, not an alias) and, for a deletion by key ARN, page 1
	 * of the key's history: it will most likely be needed (one dependent
	 * round trip less); the pager reads on only if it is. */
	tags_now = strncmp(it->key_ref, "alias/", 6) && !strstr(it->key_ref, ":alias/");
	rd = kit_round_new(run->k);
	kg_read_key(rd, c, it->key_ref, &d, tags_now ? &t : NULL);
	if (tags_now && strcmp(it->event_name, "DisableKey") && arn_kms(it->key_ref, &(struct arn){ 0 }) &&
	    strstr(it->key_ref, ":key/"))
		h = kit_add(rd, &(struct kit_spec){ .step = "key-history", .service = "cloudtrail",
			.op = "LookupEvents", .target = it->key_ref, .kind = RESP_READ, .optional = 1,
			.cloudtrail = &hq, .ct_defer = 1, .client = c });
	kit_run(rd);
	meta = resp_get(kit_out(d), "KeyMetadata");
	state = resp_get_str(meta, "KeyState");
	arn = resp_get_str(meta, "Arn");
	manager = resp_get_str(meta, "KeyManager");
	mrtype = resp_get_str(meta, "MultiRegionConfiguration.MultiRegionKeyType");
	if (!kit_ok(d) || !state || !arn) {
		if (kit_ok(d))
			kit_fail(d, "DescribeKey answer lacks KeyState or Arn");
		rc = sect_outcome(sec, -1, "failed: cannot describe key '%s'", it->key_ref);
		goto out;
	}
	kit_detail(d, "KeyState %s, KeyManager %s%s%s", state, manager ? manager : "?",
		   mrtype ? ", multi-Region " : "", mrtype ? mrtype : "");
	resp_json_set(sec, "key_arn", arn);
	resp_json_set(sec, "key_state", state);
	resp_json_set(sec, "key_manager", manager);
	if (mrtype)
		resp_json_set(sec, "multi_region_key_type", mrtype);
	if (!tags_now) {
		tr = kit_round_new(run->k);
		kg_read_key(tr, c, arn, NULL, &t);
		kit_run(tr);
	}
	if (manager && !strcmp(manager, "AWS")) {
		kit_set_optional(t); /* its tags do not matter */
		sect_outcome(sec, 0, "skipped: '%s' is an AWS managed key (KeyManager AWS); AWS manages its "
			"lifecycle", arn);
		goto out;
	}
	if (!kit_ok(t)) {
		rc = sect_outcome(sec, -1, "failed: cannot read the tags of '%s' (exemptions unknown)", arn);
		goto out;
	}
	tags = resp_get(kit_out(t), "Tags");
	/* An exemption counts only when CloudTrail shows it predates the change
	 * and was not set by its actor (runtime/prov.h); otherwise it is
	 * ignored, said in exemption_tags[], and the key is contained. */
	exempt_by = kg_exemption(run, c, it, arn, meta, tags, sec, prov_reason, sizeof(prov_reason));
	if (exempt_by) {
		sect_outcome(sec, 0, "skipped: key tagged %s=true (%s%s)", exempt_by,
			     strcmp(exempt_by, KG_TAG_EXEMPT) ? "deletion allowed; notified; " : "", prov_reason);
		goto out;
	}
	pending = !strcmp(state, "PendingDeletion") || !strcmp(state, "PendingReplicaDeletion");
	if (!pending && strcmp(state, "Enabled") && strcmp(state, "Disabled")) {
		sect_outcome(sec, 0, "skipped: key state %s is not one kms-guard acts on", state);
		goto out;
	}
	cur_enabled = !strcmp(state, "Enabled");
	prior = kg_prior(run, c, it, arn, cur_enabled, h, &hq, prior_src, sizeof(prior_src));
	/* kg_prior() always decides: never unknown */
	resp_json_set(sec, "prior_state", prior == KG_PRIOR_ENABLED ? "Enabled" : "Disabled");
	resp_json_set(sec, "prior_state_source", prior_src);

	/* Write 1: cancel the deletion; the undo schedules it again. */
	undo = kit_obj("KeyId", arn, KIT_END);
	cJSON_AddNumberToObject(undo, "PendingWindowInDays", kg_pending_days(it, meta));
	incident_tag = prov_tag_value(tags, KG_TAG_INCIDENT);
	tag_now = !incident_tag || strcmp(incident_tag, r->incident_id);
	enable_now = prior == KG_PRIOR_ENABLED && (pending || !cur_enabled);
	/* the undo record of the writes below, before the first (write order) */
	rec = cJSON_CreateArray();
	if (pending)
		cJSON_AddItemToArray(rec, kit_undo_step("cancel-deletion", "kms:ScheduleKeyDeletion",
							cJSON_Duplicate(undo, 1)));
	if (enable_now)
		cJSON_AddItemToArray(rec, kit_undo_step("enable-key", "kms:DisableKey",
							kit_obj("KeyId", arn, KIT_END)));
	if (tag_now)
		cJSON_AddItemToArray(rec, kms_tag_undo("tag-incident", arn, KG_TAG_INCIDENT, incident_tag));
	evidence_undo_claim(run->k, run->st->fn.aws, &run->st->fn.evcfg, run->r->ctx, "key_arn", arn, rec, sec);
	snprintf(detail, sizeof(detail), "deletion cancelled (was %s); KMS leaves the key Disabled", state);
	wr = kit_round_new(run->k);
	cx = kit_add(wr, &(struct kit_spec){ .step = "cancel-deletion", .service = "kms",
		.op = "CancelKeyDeletion", .target = arn, .kind = RESP_WRITE,
		.in = kit_obj("KeyId", arn, KIT_END),
		.restore = kit_undo("kms:ScheduleKeyDeletion", undo), .detail = detail, .client = c });
	if (!pending) {
		kit_already(cx, "no deletion pending (KeyState %s)", state);
	} else {
		if (kit_run(wr) != FB_OK) {
			kit_detail(cx, "deletion still pending");
			rc = sect_outcome(sec, -1, "failed: deletion of '%s' still pending", arn);
			goto out;
		}
		cur_enabled = 0; /* a cancelled key is Disabled */
	}

	/* Writes 2 and 3, concurrently: enable (when it was Enabled) and tag. */
	wr2 = kit_round_new(run->k);
	en = kit_add(wr2, &(struct kit_spec){ .step = "enable-key", .service = "kms", .op = "EnableKey",
		.target = arn, .kind = RESP_WRITE, .in = kit_obj("KeyId", arn, KIT_END), .client = c,
		.restore = kit_undo("kms:DisableKey", kit_obj("KeyId", arn, KIT_END)),
		.detail = "key Enabled again (prior state Enabled)" });
	if (prior != KG_PRIOR_ENABLED || cur_enabled)
		kit_already(en, "%s", cur_enabled ? "key is Enabled" : "key stays Disabled (prior state Disabled)");
	/* optional: the key is safe without the tag */
	tg = kit_add(wr2, &(struct kit_spec){ .step = "tag-incident", .service = "kms", .op = "TagResource",
		.target = arn, .kind = RESP_WRITE, .optional = 1, .client = c,
		.in = kms_tag_in(arn, KG_TAG_INCIDENT, r->incident_id),
		.restore = kms_tag_undo(NULL, arn, KG_TAG_INCIDENT, incident_tag),
		.detail = "tagged " KG_TAG_INCIDENT });
	if (!tag_now)
		kit_already(tg, "tag " KG_TAG_INCIDENT " present");
	kit_run(wr2);
	if (kit_status(en) == RESP_FAILED) {
		rc = sect_outcome(sec, -1, "failed: '%s' is still Disabled", arn);
		goto out;
	}
	if (r->dry_run) {
		sect_outcome(sec, 0, "planned (dry run): see actions for '%s'", arn);
	} else if (!pending && (prior != KG_PRIOR_ENABLED || cur_enabled)) {
		/* Nothing to contain: a tag written now is bookkeeping, not containment. */
		sect_outcome(sec, 0, "already: '%s' needs no change%s", arn,
			   tag_now ? " (tagged " KG_TAG_INCIDENT " now)" : "");
	} else {
		resp_contained(r);
		sect_outcome(sec, 0, "contained: '%s'", arn);
	}
out:
	kit_round_free(wr2);
	kit_round_free(wr);
	kit_round_free(tr);
	kit_round_free(rd); /* page 1 of a history not needed: "first page (not needed)" */
	return rc;
}

/* The alarm: every ScheduleKeyDeletion/DisableKey in the window, one item
 * per key (kg_items_from_events decides which). A lookup that failed is a
 * failed, required step. */
static void kg_alarm_items(struct kg_run *run, const struct kg_event *ev, struct kg_item *items,
			   size_t *nitems)
{
	static const char *const names[] = { "ScheduleKeyDeletion", "DisableKey" };
	const char *own = run->st->fn.cfg.own_account;
	struct ct_query q = { .attr_key = "EventName", .start_ms = ev->window_start_s * 1000,
		.end_ms = ev->window_end_s * 1000, .max_results = KG_PAGE_SIZE, .max_pages = KG_MAX_PAGES,
		.deadline_ms = kit_read_deadline(run->k, KG_READ_RESERVE_MS),
		.account = own && *own ? own : NULL, .keep_events = 1 };
	cJSON *found = kit_ct_each(run->k, "lookup-events", &q, names, 2, NULL);

	kg_items_from_events(found, &run->st->fn.cfg, resp_get_str(ev->root, "region"), items,
			     KG_MAX_ITEMS, nitems);
	cJSON_Delete(found);
}

/* ---- the handler --------------------------------------------------------------- */

/* Settings from the environment (read once, at init). FB_E_CONFIG with a
 * message in err when a value cannot be used. */
static enum fb_err kg_settings(void *state, char *err, size_t errlen)
{
	struct kg_settings *set = &((struct kg_state *)state)->set;
	const char *name = getenv("FIREBREAK_KMS_ALARM_NAME");
	int lb;
	enum fb_err rc = kit_env_int("FIREBREAK_KMS_ALARM_LOOKBACK_SECONDS", 900, 0, 86400, &lb, err, errlen);

	buf_copy_str(set->alarm_name, sizeof(set->alarm_name), name && *name ? name : "kms-key-changes");
	set->lookback_s = lb;
	return rc;
}

FN_EVENT_READER(kg, kg_parse(event, len, &((struct kg_state *)c->st)->set, c->ev, why, whylen))

static enum fb_err kg_run(struct fn_call *c)
{
	struct kg_event *ev = c->ev;
	struct kg_run run;
	struct kg_item *items = NULL;
	size_t nitems = 0, k;
	enum fb_err rc = FB_OK;

	/* An untrusted change of a firebreak:* tag is an attempt to switch a
	 * control off, not yet a loss: P2. Key deletion and disabling: P1. */
	resp_set_severity(c->r, ev->kind == KG_CALL && kg_is_tag_item(&ev->item) ? "P2" : "P1");
	run = (struct kg_run){ .st = c->st, .r = c->r, .k = c->k,
			      .sections = cJSON_AddArrayToObject(c->r->extra, "keys") };

	if (ev->kind == KG_ALARM) {
		kit_window(c->r->extra, "alarm_window", ev->window_start_s * 1000, ev->window_end_s * 1000);
		if (ev->alarm_arn[0])
			resp_set_resource(c->r, ev->alarm_arn, NULL, NULL);
		items = calloc(KG_MAX_ITEMS, sizeof(*items));
		if (!items) {
			rc = FB_E_NOMEM;
			goto done;
		}
		kg_alarm_items(&run, ev, items, &nitems);
		for (k = 0; k < nitems; k++)
			kg_handle_item(&run, &items[k]);
		if (!resp_failed(c->r) && nitems == 0)
			resp_set_verdict(c->r, "no action: no ScheduleKeyDeletion or DisableKey in the "
					 "alarm window");
	} else {
		struct kg_item *it = &ev->item;

		resp_set_resource(c->r, it->key_ref[0] ? it->key_ref : NULL,
				  it->account[0] ? it->account : NULL, it->region[0] ? it->region : NULL);
		kg_handle_item(&run, it);
		/* One key: its decision fields at the top level too. */
		static const char *const top[] = { "prior_state", "prior_state_source", "note",
						   "exemption_tags", "tag_changes" };
		cJSON *sec = cJSON_GetArrayItem(run.sections, 0);

		if (resp_get_str(sec, "key_arn"))
			resp_set_resource(c->r, resp_get_str(sec, "key_arn"), NULL, NULL);
		sect_lift(c->r->extra, sec, top, sizeof(top) / sizeof(top[0]));
	}
	sect_verdict(c->r, run.sections, "key changes", "keys");
done:
	free(items);
	return rc;
}

int main(void)
{
	return fn_main(&(struct fn_responder){ .function = KG_FUNCTION, .margin_ms = KG_DEADLINE_MARGIN_MS,
		.size = sizeof(struct kg_state), .settings = kg_settings, FN_EVENT(struct kg_event, kg),
		.run = kg_run });
}
