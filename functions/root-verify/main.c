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

static enum fb_err rv_handle(void *state, const char *event, size_t len,
			     const struct lr_context *ctx, struct lr_result *out)
{
	cJSON *ev = NULL;
	struct rv_state *s = state;
	struct rv_trigger t;
	struct resp r;
	struct kit k;
	struct rv_facts *f = NULL;
	struct vd_verdict *v = NULL;
	int began = 0;
	enum fb_err rc;

	{
		/* Size, UTF-8, control bytes, "\u0000", depth, trailing data,
		 * object: the shared check, before any field is read. */
		char why[160];

		if (resp_parse_event(event, len, RESP_MAX_EVENT_BYTES, &ev, why, sizeof(why)) != FB_OK)
			return resp_invalid(out, "%s", why);
	}

	enum rv_class cls = rv_classify(ev, &s->cfg, &t);
	if (cls == RV_CLASS_INVALID) {
		rc = resp_invalid(out, "%s", t.why);
		goto out;
	}
	if (cls == RV_CLASS_SKIP) {
		/* not a trigger: a clear result, nothing published, zero AWS calls */
		rc = kit_skip_result(&s->fn.cfg, RV_FUNCTION, ev, ctx, t.why, out);
		goto out;
	}

	f = calloc(1, sizeof(*f));
	v = calloc(1, sizeof(*v));
	if (!f || !v) {
		rc = FB_E_NOMEM;
		goto out;
	}
	if (!kit_begin(&r, &(struct kit_handler){ RV_FUNCTION, &s->fn.cfg, s->fn.aws, RV_DEADLINE_MARGIN_MS },
		       ctx, ev, out, &rc))
		goto out;
	began = 1;
	kit_init(&k, &r, s->fn.aws);

	/* The window: the hour (or alarm period, or manual minutes) before. */
	int64_t end_ms = t.end_ms ? t.end_ms : lr_now_ms();
	int64_t start_ms = end_ms - (int64_t)t.window_minutes * 60000;
	/* A minute after the trigger so the trigger itself is inside. */
	int64_t query_end_ms = t.end_ms ? end_ms + 60000 : end_ms;
	char start_iso[UTC_ISO_LEN], end_iso[UTC_ISO_LEN], root_arn[128];
	utc_format_s(start_ms, start_iso);
	utc_format_s(query_end_ms, end_iso);

	/* copies: resp_set_resource() below replaces r.account / r.region */
	char account[32], region[32];
	buf_copy_str(account, sizeof(account), r.account && *r.account ? r.account
		: s->fn.cfg.own_account ? s->fn.cfg.own_account : "");
	buf_copy_str(region, sizeof(region), r.region && *r.region ? r.region : aws_client_region(s->fn.aws));
	snprintf(root_arn, sizeof(root_arn), "arn:%s:iam::%s:root", kit_partition(&k),
		 *account ? account : "unknown");
	resp_set_resource(&r, root_arn, *account ? account : NULL, region);

	f->kind = t.kind;
	f->has_event = t.kind == RV_SIGNIN || t.kind == RV_API_CALL;
	f->ev = t.ev;
	f->window_minutes = t.window_minutes;
	f->policy = &s->cfg.policy;
	rv_history_init(&f->hist, f->has_event ? t.ev.event_id : "");

	/* The pager's deadline: the report and the SNS publish still need
	 * time after the last page. */
	rc = rv_read(&k, f, &s->cfg, account, region, root_arn, start_ms, query_end_ms,
		     ctx->deadline_ms ? ctx->deadline_ms - RV_RESERVE_MS : 0, start_iso, end_iso);
	kit_cleanup(&k);
	if (rc != FB_OK)
		goto out;

	rv_decide(f, v);
	resp_set_severity(&r, v->severity);
	resp_set_verdict(&r, "%s", v->verdict);
	rv_report_extra(r.extra, &t, f, v, &s->cfg, account, start_iso, end_iso);
	rc = resp_finish(&r, s->fn.aws, out);

out:
	if (began)
		resp_cleanup(&r);
	free(f);
	free(v);
	cJSON_Delete(ev);
	return rc;
}

int main(void)
{
	return fn_main(&(struct fn_responder){ .function = RV_FUNCTION, .margin_ms = RV_DEADLINE_MARGIN_MS,
		.size = sizeof(struct rv_state), .settings = rv_settings, .handle = rv_handle, .no_evidence = 1 });
}
