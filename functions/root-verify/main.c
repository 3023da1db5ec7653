/*
 * root-verify: verify every use of the root account within seconds and
 * escalate what is not explained (issue 5, ../../shared/RESPONDERS.md).
 * README.md beside this file documents triggers, IAM and settings.
 *
 * Root cannot be contained through an API, so the job is a fast, correct
 * verdict and a clear page. This file sequences the pure stages of
 * stages.c (root_verify.h) around the AWS calls:
 *
 *   1. rv_classify() the event (invalid / skip: zero AWS calls)
 *   2. rv_regions_plan(): the Regions whose root history is read
 *   3. one round, concurrently: LookupEvents page 1 in the first Region
 *      (Username=root over the window) and iam:GetAccountSummary; then the
 *      rest of that Region and every other Region through the shared pager
 *      (runtime/cloudtrail.h: paced, throttle-aware, bounded by
 *      FIREBREAK_ROOT_MAX_PAGES / _MAX_EVENTS and the deadline)
 *   4. rv_decide() -> the report; resp_finish() publishes it
 *
 * The only write is the SNS notification that resp_finish() sends.
 */
#include "root_verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "aws.h"
#include "cloudtrail.h"
#include "fb_err.h"
#include "kit.h"
#include "log.h"
#include "lr.h"
#include "resp.h"

#define RV_FUNCTION "root-verify"
/* No LookupEvents attempt starts, and no backoff ends, when less than
 * this is left of the invocation: the report and the SNS publish still
 * need time. */
#define RV_RESERVE_MS 1500
#define RV_DEADLINE_MARGIN_MS 300

struct rv_state {
	struct aws_client *aws;
	struct resp_config resp;
	struct rv_config cfg;
};

static enum fb_err rv_init(void **state, char *err, size_t errlen)
{
	struct rv_state *s = calloc(1, sizeof(*s));
	enum fb_err rc = s ? resp_config_from_env(&s->resp, err, errlen) : FB_E_NOMEM;

	if (rc == FB_OK && (rc = rv_config_from_env(&s->cfg, &s->resp, err, errlen)) == FB_OK)
		rc = aws_client_new(&s->aws, NULL, err, errlen);
	if (rc == FB_OK) {
		*state = s;
		return FB_OK;
	}
	if (s)
		resp_config_cleanup(&s->resp);
	free(s);
	return rc;
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
	if (pg->h->events >= (size_t)pg->cfg->max_events && next && *next) {
		pg->capped = 1;
		return 1;
	}
	return 0;
}

/* Ends one Region's lookup: its step and its line in the history. */
static void rv_region_done(struct resp *r, int idx, struct rv_history *h, const char *region,
			   const struct rv_config *cfg, const struct ct_result *res,
			   const struct rv_pages *pg, const char *start_iso, const char *end_iso)
{
	char why[200], d[480];

	if (res->complete)
		why[0] = '\0';
	else if (pg->capped)
		snprintf(why, sizeof(why), "event bound FIREBREAK_ROOT_MAX_EVENTS=%d reached; more events exist",
			 cfg->max_events);
	else if (res->stop == CT_STOP_PAGES)
		snprintf(why, sizeof(why), "page bound FIREBREAK_ROOT_MAX_PAGES=%d reached; more events exist",
			 cfg->max_pages);
	else
		buf_copy_str(why, sizeof(why), res->why);
	rv_history_region(h, region, res->complete, res->pages, res->nevents, res->throttled, why);
	snprintf(d, sizeof(d), "%zu root events over %zu pages in %s from %s to %s%s%s%s", res->nevents,
		 res->pages, region, start_iso, end_iso, res->throttled ? " (throttled, retried)" : "",
		 res->complete ? "" : "; incomplete: ", why);
	/* A bound is a choice, not a failure; a read that did not finish is. */
	int failed = !res->complete && (res->stop == CT_STOP_DEADLINE || res->stop == CT_STOP_ERROR ||
					res->stop == CT_STOP_NOMEM);
	resp_step_end(r, idx, failed ? RESP_FAILED : RESP_DONE, d, failed ? &res->err : NULL);
}

static enum fb_err rv_handle(void *state, const char *event, size_t len,
			     const struct lr_context *ctx, struct lr_result *out)
{
	struct rv_state *s = state;
	struct rv_trigger t;
	struct resp r;
	struct aws_client *cl = NULL;
	int owned = 0;
	cJSON *ev = NULL, *lookup_in = NULL;
	struct aws_call calls[2];
	struct rv_facts *f = NULL;
	struct rv_verdict *v = NULL;
	int began = 0;
	enum fb_err rc;

	memset(calls, 0, sizeof(calls));
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
		rc = kit_skip_result(&s->resp, RV_FUNCTION, ev, ctx, t.why, out);
		goto out;
	}

	aws_client_set_deadline(s->aws, ctx->deadline_ms ? ctx->deadline_ms - RV_DEADLINE_MARGIN_MS : 0);
	f = calloc(1, sizeof(*f));
	v = calloc(1, sizeof(*v));
	if (!f || !v) {
		rc = FB_E_NOMEM;
		goto out;
	}
	if ((rc = resp_begin(&r, &s->resp, RV_FUNCTION, ctx)) != FB_OK)
		goto out;
	began = 1;
	resp_trigger_from_event(&r, ev);

	/* The window: the hour (or alarm period, or manual minutes) before. */
	int64_t end_ms = t.end_ms ? t.end_ms : lr_now_ms();
	int64_t start_ms = end_ms - (int64_t)t.window_minutes * 60000;
	/* A minute after the trigger so the trigger itself is inside. */
	int64_t query_end_ms = t.end_ms ? end_ms + 60000 : end_ms;
	char start_iso[32], end_iso[32], root_arn[128];
	rv_iso(start_ms, start_iso, sizeof(start_iso));
	rv_iso(query_end_ms, end_iso, sizeof(end_iso));

	/* copies: resp_set_resource() below replaces r.account / r.region */
	char account[32], region[32];
	buf_copy_str(account, sizeof(account), r.account && *r.account ? r.account
		: s->resp.own_account ? s->resp.own_account : "");
	buf_copy_str(region, sizeof(region), r.region && *r.region ? r.region : aws_client_region(s->aws));
	snprintf(root_arn, sizeof(root_arn), "arn:%s:iam::%s:root", aws_client_partition(s->aws),
		 *account ? account : "unknown");
	resp_set_resource(&r, root_arn, *account ? account : NULL, region);

	f->kind = t.kind;
	f->has_event = t.kind == RV_SIGNIN || t.kind == RV_API_CALL;
	f->ev = t.ev;
	f->window_minutes = t.window_minutes;
	f->policy = &s->cfg.policy;
	rv_history_init(&f->hist, f->has_event ? t.ev.event_id : "");

	/* Act in the account the event came from (FIREBREAK_MEMBER_ROLE). */
	struct aws_error aerr;
	memset(&aerr, 0, sizeof(aerr));
	rc = resp_client_for(&r, s->aws, *account ? account : NULL, region, &cl, &owned, &aerr);
	if (rc != FB_OK) {
		int i = resp_step_begin(&r, "client-for-account", "sts:AssumeRole", account, RESP_READ);
		resp_step_end(&r, i, RESP_FAILED, "cannot act in the event's account", &aerr);
		cl = NULL;
	}

	if (cl) {
		char regions[RV_MAX_REGIONS][32];
		size_t nreg = rv_regions_plan(&s->cfg, aws_client_partition(cl), region,
					      aws_client_region(s->aws), regions, RV_MAX_REGIONS);
		/* The pager's deadline: the report and the SNS publish still
		 * need time after the last page. */
		int64_t final_ms = ctx->deadline_ms ? ctx->deadline_ms - RV_RESERVE_MS : 0;
		struct ct_query q;
		struct ct_result res;
		struct rv_pages pg = { &f->hist, &s->cfg, 0 };

		memset(&q, 0, sizeof(q));
		memset(&res, 0, sizeof(res));
		q.attr_key = "Username";
		q.attr_value = "root";
		q.start_ms = start_ms;
		q.end_ms = query_end_ms;
		q.max_results = RV_PAGE_SIZE;
		q.max_pages = s->cfg.max_pages;
		q.account = account;
		q.on_page = rv_on_page;
		q.page_ctx = &pg;
		/* Each Region gets an equal share of the time left, so one
		 * throttled Region cannot starve the others (unused time
		 * carries over to the next). */
		q.deadline_ms = final_ms && nreg ? lr_now_ms() + (final_ms - lr_now_ms()) / (int64_t)nreg : final_ms;

		/* Round 1: the first Region's first page and the account
		 * summary are independent. */
		int il = resp_step_begin(&r, "lookup-root-events", "cloudtrail:LookupEvents", regions[0], RESP_READ);
		int ia = resp_step_begin(&r, "account-summary", "iam:GetAccountSummary", root_arn, RESP_READ);
		lookup_in = ct_lookup_input(cl, &q, &calls[0]);
		if (!lookup_in) {
			rc = FB_E_NOMEM;
			goto out;
		}
		calls[1].service = "iam";
		calls[1].op = "GetAccountSummary";
		aws_call_run_all(cl, calls, 2);

		if (calls[1].rc == FB_OK && rv_account_parse(calls[1].out, &f->acct) == FB_OK) {
			char d[96];
			snprintf(d, sizeof(d), "AccountMFAEnabled=%d AccountAccessKeysPresent=%d",
				 f->acct.mfa_enabled, f->acct.access_keys_present);
			resp_step_from_call(&r, ia, &calls[1], d);
		} else if (calls[1].rc == FB_OK) {
			resp_step_end(&r, ia, RESP_FAILED, "SummaryMap lacks AccountMFAEnabled/AccountAccessKeysPresent", NULL);
		} else {
			resp_step_from_call(&r, ia, &calls[1], "cannot read the account summary");
		}

		f->hist.queried = 1;
		ct_lookup_continue(cl, &q, lookup_in, &calls[0], &res);
		rv_region_done(&r, il, &f->hist, regions[0], &s->cfg, &res, &pg, start_iso, end_iso);
		ct_result_cleanup(&res);

		for (size_t i = 1; i < nreg; i++) {
			struct aws_client *rcl = NULL;
			int ir = resp_step_begin(&r, "lookup-root-events", "cloudtrail:LookupEvents", regions[i],
						 RESP_READ);

			pg.capped = 0;
			if (f->hist.events >= (size_t)s->cfg.max_events) {
				char why[120];
				snprintf(why, sizeof(why), "event bound FIREBREAK_ROOT_MAX_EVENTS=%d reached before this region",
					 s->cfg.max_events);
				rv_history_region(&f->hist, regions[i], 0, 0, 0, 0, why);
				resp_step_end(&r, ir, RESP_DONE, why, NULL);
				continue;
			}
			if (aws_client_for_region(cl, regions[i], &rcl) != FB_OK) {
				rv_history_region(&f->hist, regions[i], 0, 0, 0, 0, "no client for the region");
				resp_step_end(&r, ir, RESP_FAILED, "no client for the region", NULL);
				continue;
			}
			q.deadline_ms = final_ms ? lr_now_ms() + (final_ms - lr_now_ms()) / (int64_t)(nreg - i) : 0;
			ct_lookup(rcl, &q, &res);
			rv_region_done(&r, ir, &f->hist, regions[i], &s->cfg, &res, &pg, start_iso, end_iso);
			ct_result_cleanup(&res);
			aws_client_free(rcl);
		}
	}

	rv_decide(f, v);
	resp_set_severity(&r, v->severity);
	resp_set_verdict(&r, "%s", v->verdict);
	rv_report_extra(r.extra, &t, f, v, &s->cfg, account, start_iso, end_iso);
	rc = resp_finish(&r, s->aws, out);

out:
	for (size_t i = 0; i < 2; i++)
		aws_call_cleanup(&calls[i]);
	if (owned)
		aws_client_free(cl);
	cJSON_Delete(lookup_in);
	if (began)
		resp_cleanup(&r);
	free(f);
	free(v);
	cJSON_Delete(ev);
	return rc;
}

int main(void) { return lr_main(rv_init, rv_handle); }
