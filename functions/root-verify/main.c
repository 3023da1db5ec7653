/*
 * root-verify: verify every use of the root account within seconds and
 * escalate what is not explained (issue 5, ../../shared/RESPONDERS.md).
 * README.md beside this file documents triggers, IAM and settings.
 *
 * Root cannot be contained through an API, so the job is a fast, correct
 * verdict and a clear page. This file is the runbook over the pure stages
 * of stages.c (root_verify.h); the responder kit (runtime/kit.h) makes
 * and reports the AWS calls:
 *
 *   1. rv_classify() the event (invalid / skip: zero AWS calls)
 *   2. rv_regions_plan(): the Regions whose root history is read
 *   3. one round: iam:GetAccountSummary and the first Region's
 *      LookupEvents (Username=root over the window; a kit CloudTrail step:
 *      page 1 with the round, then the shared pager, runtime/cloudtrail.h:
 *      paced, throttle-aware, bounded by FIREBREAK_ROOT_MAX_PAGES /
 *      _MAX_EVENTS and the deadline); then each other Region in turn
 *   4. rv_decide() -> the report; resp_finish() publishes it
 *
 * The only write is the SNS notification that resp_finish() sends.
 */
#include "root_verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "cloudtrail.h"
#include "fb_err.h"
#include "fn.h"
#include "kit.h"
#include "lr.h"
#include "resp.h"

#define RV_FUNCTION "root-verify"
/* LookupEvents returns at most 50 events a page (CloudTrail API reference). */
#define RV_PAGE_SIZE 50
/* No LookupEvents attempt starts, and no backoff ends, when less than
 * this is left of the invocation: the report and the SNS publish still
 * need time. */
#define RV_RESERVE_MS 1500
#define RV_DEADLINE_MARGIN_MS 300

struct rv_state {
	struct fn_base fn;
	struct rv_config cfg;
};

static enum fb_err rv_settings(void *state, char *err, size_t errlen)
{
	struct rv_state *s = state;

	return rv_config_from_env(&s->cfg, &s->fn.cfg, err, errlen);
}

/* One Region's pages into the history (ct_query.on_page). */
struct rv_pages {
	struct rv_history *h;
	const struct rv_config *cfg;
	int capped;             /* stopped at FIREBREAK_ROOT_MAX_EVENTS with more to read */
};

static int rv_on_page(void *ctx, const cJSON *page)
{
	struct rv_pages *pg = ctx;
	const char *next = resp_get_str(page, "NextToken");

	rv_history_add_page(pg->h, &pg->cfg->policy, page, (size_t)pg->cfg->max_events);
	/* at the bound with more to read: stop (this Region's line says so) */
	pg->capped = pg->h->events >= (size_t)pg->cfg->max_events && next && *next;
	return pg->capped;
}

/* One Region's root history: Username=root over the window, through the
 * CloudTrail pager (paced, throttle-aware, bounded by
 * FIREBREAK_ROOT_MAX_PAGES, FIREBREAK_ROOT_MAX_EVENTS through rv_on_page,
 * and q's deadline). */
static struct kit_step *rv_lookup(struct kit_round *rd, const char *region, struct aws_client *c,
				  const struct ct_query *q)
{
	return kit_add(rd, &(struct kit_spec){ .step = "lookup-root-events", .service = "cloudtrail",
		.op = "LookupEvents", .target = region, .kind = RESP_READ, .client = c, .cloudtrail = q });
}

/* Ends one Region's read: its line and its place in the history. */
static void rv_region_done(struct kit_step *st, struct rv_history *h, const char *region,
			   const struct rv_pages *pg, const char *start_iso, const char *end_iso)
{
	const struct ct_result *res = kit_ct_result(st);
	char why[200] = "";

	if (!res) { /* not sent (out of memory): its line says so */
		regions_log_add(&h->reads, region, 0, 0, 0, 0, "not read");
		return;
	}
	/* a capped or page-bound read is never complete */
	if (pg->capped)
		snprintf(why, sizeof(why), "event bound FIREBREAK_ROOT_MAX_EVENTS=%d reached; more events exist",
			 pg->cfg->max_events);
	else if (res->stop == CT_STOP_PAGES)
		snprintf(why, sizeof(why), "page bound FIREBREAK_ROOT_MAX_PAGES=%d reached; more events exist",
			 pg->cfg->max_pages);
	else if (!res->complete)
		buf_copy_str(why, sizeof(why), res->why);
	regions_log_add(&h->reads, region, res->complete, res->pages, res->nevents, res->throttled, why);
	/* A bound is a choice, not a failure; a read that did not finish is. */
	int failed = !res->complete && (res->stop == CT_STOP_DEADLINE || res->stop == CT_STOP_ERROR ||
					res->stop == CT_STOP_NOMEM);
	kit_end(st, failed ? RESP_FAILED : RESP_DONE, failed ? &res->err : NULL,
		"%zu root events over %zu pages in %s from %s to %s%s%s%s", res->nevents, res->pages, region,
		start_iso, end_iso, res->throttled ? " (throttled, retried)" : "",
		res->complete ? "" : "; incomplete: ", why);
}

/* The Regions' histories and the account's posture, into f: the first
 * Region's page 1 and iam:GetAccountSummary in one round, then the rest of
 * that Region and each other Region in turn. */
static enum fb_err rv_read(struct kit *k, struct rv_facts *f, const struct rv_config *cfg,
			   const char *account, const char *region, const char *root_arn, int64_t start_ms,
			   int64_t query_end_ms, int64_t final_ms, const char *start_iso, const char *end_iso)
{
	struct aws_error aerr;
	char regions[RV_MAX_REGIONS][32];
	struct rv_pages pg = { &f->hist, cfg, 0 };

	/* Act in the account the event came from (FIREBREAK_MEMBER_ROLE). */
	struct aws_client *cl = kit_client(k, *account ? account : NULL, region, NULL, &aerr);
	if (!cl) {
		int i = resp_step_begin(k->r, "client-for-account", "sts:AssumeRole", account, RESP_READ);
		resp_step_end(k->r, i, RESP_FAILED, "cannot act in the event's account", &aerr);
		return FB_OK;
	}
	size_t nreg = rv_regions_plan(cfg, aws_client_partition(cl), region, aws_client_region(k->aws),
				      regions, RV_MAX_REGIONS);
	struct ct_query q = { .attr_key = "Username", .attr_value = "root", .start_ms = start_ms,
		.end_ms = query_end_ms, .max_results = RV_PAGE_SIZE, .max_pages = cfg->max_pages,
		.account = account, .on_page = rv_on_page, .page_ctx = &pg };
	/* Each Region gets an equal share of the time left, so one throttled
	 * Region cannot starve the others (unused time carries over). */
	q.deadline_ms = final_ms && nreg ? lr_now_ms() + (final_ms - lr_now_ms()) / (int64_t)nreg : final_ms;

	struct kit_round *rd = kit_round_new(k);
	if (!rd)
		return FB_E_NOMEM;
	struct kit_step *look = rv_lookup(rd, regions[0], cl, &q);
	struct kit_step *sum = kit_add(rd, &(struct kit_spec){ .step = "account-summary", .service = "iam",
		.op = "GetAccountSummary", .target = root_arn, .kind = RESP_READ, .client = cl });
	kit_run(rd);
	if (kit_ok(sum) && rv_account_parse(kit_out(sum), &f->acct) == FB_OK)
		kit_detail(sum, "AccountMFAEnabled=%d AccountAccessKeysPresent=%d", f->acct.mfa_enabled,
			   f->acct.access_keys_present);
	else if (kit_ok(sum))
		kit_fail(sum, "SummaryMap lacks AccountMFAEnabled/AccountAccessKeysPresent");
	else
		kit_detail(sum, "cannot read the account summary");
	f->hist.queried = 1;
	rv_region_done(look, &f->hist, regions[0], &pg, start_iso, end_iso);

	for (size_t i = 1; i < nreg; i++) {
		int bound = f->hist.events >= (size_t)cfg->max_events;
		struct aws_client *rcl = bound ? NULL : kit_client(k, *account ? account : NULL, regions[i],
								    NULL, NULL);

		pg.capped = 0;
		q.deadline_ms = final_ms ? lr_now_ms() + (final_ms - lr_now_ms()) / (int64_t)(nreg - i) : 0;
		look = rv_lookup(rd, regions[i], rcl, &q);
		if (bound) {
			char why[120];
			snprintf(why, sizeof(why), "event bound FIREBREAK_ROOT_MAX_EVENTS=%d reached before this region",
				 cfg->max_events);
			regions_log_add(&f->hist.reads, regions[i], 0, 0, 0, 0, why);
			kit_end(look, RESP_DONE, NULL, "%s", why);
		} else if (!rcl) {
			regions_log_add(&f->hist.reads, regions[i], 0, 0, 0, 0, "no client for the region");
			kit_end(look, RESP_FAILED, NULL, "no client for the region");
		} else {
			kit_run(rd);
			rv_region_done(look, &f->hist, regions[i], &pg, start_iso, end_iso);
		}
	}
	kit_round_free(rd);
	return FB_OK;
}

/* One invocation as the frame holds it: the event, its class and the
 * verdict's inputs. */
struct rv_call {
	cJSON *root;                /* owned: the event */
	enum rv_class cls;
	struct rv_trigger t;
	struct rv_facts f;
	struct vd_verdict v;
};

/* Size, UTF-8, control bytes, "\u0000", depth, trailing data, object: the
 * shared check, before any field is read; then the trigger's class. */
static enum fb_err rv_event_read(struct fn_call *c, const char *event, size_t len, char *why, size_t whylen)
{
	struct rv_call *e = c->ev;
	char pwhy[160];

	if (resp_parse_event(event, len, RESP_MAX_EVENT_BYTES, &e->root, pwhy, sizeof(pwhy)) != FB_OK) {
		snprintf(why, whylen, "%s", pwhy);
		return FB_E_INVALID;
	}
	e->cls = rv_classify(e->root, &((struct rv_state *)c->st)->cfg, &e->t);
	snprintf(why, whylen, "%s", e->t.why);
	return e->cls == RV_CLASS_INVALID ? FB_E_INVALID : FB_OK;
}

/* not a trigger: a clear result, nothing published, zero AWS calls */
static const char *rv_skip(const void *ev)
{
	const struct rv_call *e = ev;

	return e->cls == RV_CLASS_SKIP ? e->t.why : NULL;
}

static void rv_event_free(void *ev)
{
	cJSON_Delete(((struct rv_call *)ev)->root);
}

static enum fb_err rv_run(struct fn_call *c)
{
	struct rv_call *e = c->ev;
	struct rv_state *s = c->st;
	enum fb_err rc;

	/* The window: the hour (or alarm period, or manual minutes) before. */
	int64_t end_ms = e->t.end_ms ? e->t.end_ms : lr_now_ms();
	int64_t start_ms = end_ms - (int64_t)e->t.window_minutes * 60000;
	/* A minute after the trigger so the trigger itself is inside. */
	int64_t query_end_ms = e->t.end_ms ? end_ms + 60000 : end_ms;
	char start_iso[UTC_ISO_LEN], end_iso[UTC_ISO_LEN], root_arn[128];
	utc_format_s(start_ms, start_iso);
	utc_format_s(query_end_ms, end_iso);

	/* copies: resp_set_resource() below replaces r->account / r->region */
	char account[32], region[32];
	buf_copy_str(account, sizeof(account), c->r->account && *c->r->account ? c->r->account
		: s->fn.cfg.own_account ? s->fn.cfg.own_account : "");
	buf_copy_str(region, sizeof(region), c->r->region && *c->r->region ? c->r->region
		: aws_client_region(s->fn.aws));
	snprintf(root_arn, sizeof(root_arn), "arn:%s:iam::%s:root", kit_partition(c->k),
		 *account ? account : "unknown");
	resp_set_resource(c->r, root_arn, *account ? account : NULL, region);

	e->f.kind = e->t.kind;
	e->f.has_event = e->t.kind == RV_SIGNIN || e->t.kind == RV_API_CALL;
	e->f.ev = e->t.ev;
	e->f.window_minutes = e->t.window_minutes;
	e->f.policy = &s->cfg.policy;
	rv_history_init(&e->f.hist, e->f.has_event ? e->t.ev.event_id : "");

	/* The pager's deadline: the report and the SNS publish still need
	 * time after the last page. */
	rc = rv_read(c->k, &e->f, &s->cfg, account, region, root_arn, start_ms, query_end_ms,
		     c->ctx->deadline_ms ? c->ctx->deadline_ms - RV_RESERVE_MS : 0, start_iso, end_iso);
	if (rc != FB_OK)
		return rc;

	rv_decide(&e->f, &e->v);
	resp_set_severity(c->r, e->v.severity);
	resp_set_verdict(c->r, "%s", e->v.verdict);
	rv_report_extra(c->r->extra, &e->t, &e->f, &e->v, &s->cfg, account, start_iso, end_iso);
	return FB_OK;
}

int main(void)
{
	return fn_main(&(struct fn_responder){ .function = RV_FUNCTION, .margin_ms = RV_DEADLINE_MARGIN_MS,
		.size = sizeof(struct rv_state), .settings = rv_settings, .no_evidence = 1,
		.event_size = sizeof(struct rv_call), .event_root = offsetof(struct rv_call, root),
		.event_cleanup = rv_event_free, .parse = rv_event_read, .skip = rv_skip, .run = rv_run });
}
