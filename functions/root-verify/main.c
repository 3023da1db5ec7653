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
 *   2. one round, concurrently: LookupEvents page 1 (Username=root over the
 *      window) and iam:GetAccountSummary
 *   3. LookupEvents pages 2.. in order (each needs the previous NextToken),
 *      bounded by FIREBREAK_ROOT_MAX_PAGES / _MAX_EVENTS and the deadline
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
#include "fb_err.h"
#include "log.h"
#include "lr.h"
#include "resp.h"

#define RV_FUNCTION "root-verify"
/* Stop starting new pages when less than this is left of the invocation:
 * the report and the SNS publish still need time. */
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
	enum fb_err rc;
	if (!s)
		return FB_E_NOMEM;
	if ((rc = resp_config_from_env(&s->resp, err, errlen)) != FB_OK)
		goto fail;
	if ((rc = rv_config_from_env(&s->cfg, &s->resp, err, errlen)) != FB_OK)
		goto fail;
	if ((rc = aws_client_new(&s->aws, NULL, err, errlen)) != FB_OK)
		goto fail;
	*state = s;
	return FB_OK;
fail:
	resp_config_cleanup(&s->resp);
	free(s);
	return rc;
}

/* A non-trigger: a clear result, nothing published, zero AWS calls. */
static enum fb_err rv_skip_result(struct rv_state *s, const cJSON *ev, const char *why,
				  const struct lr_context *ctx, struct lr_result *out)
{
	struct resp r;
	enum fb_err rc = resp_begin(&r, &s->resp, RV_FUNCTION, ctx);
	if (rc != FB_OK)
		return rc;
	resp_trigger_from_event(&r, ev);
	resp_set_severity(&r, "P3");
	resp_skip(&r, "%s", why);
	cJSON *rep = resp_report_json(&r);
	char *txt = rep ? cJSON_PrintUnformatted(rep) : NULL;
	if (txt) {
		log_json(LOG_INFO, txt);
		rc = lr_result_ok(out, txt, strlen(txt));
	} else {
		rc = FB_E_NOMEM;
	}
	free(txt);
	cJSON_Delete(rep);
	resp_cleanup(&r);
	return rc;
}

/* Reads the remaining LookupEvents pages after the first. */
static void rv_lookup_rest(struct rv_state *s, struct aws_client *cl, const cJSON *first_in,
			   const char *next_token, const struct lr_context *ctx,
			   struct rv_history *h, struct aws_error *last_err, int *failed)
{
	char token[4096];
	buf_copy_str(token, sizeof(token), next_token);
	while (token[0]) {
		if (h->pages >= (size_t)s->cfg.max_pages) {
			snprintf(h->incomplete_why, sizeof(h->incomplete_why),
				 "page bound FIREBREAK_ROOT_MAX_PAGES=%d reached; more events exist",
				 s->cfg.max_pages);
			return;
		}
		if (h->events >= (size_t)s->cfg.max_events) {
			snprintf(h->incomplete_why, sizeof(h->incomplete_why),
				 "event bound FIREBREAK_ROOT_MAX_EVENTS=%d reached; more events exist",
				 s->cfg.max_events);
			return;
		}
		if (lr_remaining_ms(ctx) < RV_RESERVE_MS) {
			snprintf(h->incomplete_why, sizeof(h->incomplete_why),
				 "stopped paging before the invocation deadline");
			return;
		}
		cJSON *in = cJSON_Duplicate(first_in, 1);
		cJSON *page = NULL;
		if (!in) {
			*failed = 1;
			snprintf(h->incomplete_why, sizeof(h->incomplete_why), "out of memory");
			return;
		}
		cJSON_AddStringToObject(in, "NextToken", token);
		enum fb_err rc = aws_do(cl, "cloudtrail", "LookupEvents", in, &page, last_err);
		cJSON_Delete(in);
		if (rc != FB_OK) {
			*failed = 1;
			snprintf(h->incomplete_why, sizeof(h->incomplete_why),
				 "LookupEvents page %zu failed: %.40s %.80s", h->pages + 1,
				 last_err->code[0] ? last_err->code : fb_strerror(rc), last_err->message);
			cJSON_Delete(page);
			return;
		}
		rv_history_add_page(h, &s->cfg.policy, page, (size_t)s->cfg.max_events);
		buf_copy_str(token, sizeof(token), resp_get_str(page, "NextToken"));
		cJSON_Delete(page);
	}
	h->complete = 1;
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
		rc = rv_skip_result(s, ev, t.why, ctx, out);
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
		lookup_in = rv_lookup_in(start_ms, query_end_ms);
		if (!lookup_in) {
			rc = FB_E_NOMEM;
			goto out;
		}

		/* The first page and the account summary are independent. */
		int il = resp_step_begin(&r, "lookup-root-events", "cloudtrail:LookupEvents", root_arn, RESP_READ);
		int ia = resp_step_begin(&r, "account-summary", "iam:GetAccountSummary", root_arn, RESP_READ);
		calls[0].service = "cloudtrail";
		calls[0].op = "LookupEvents";
		calls[0].in = lookup_in;
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
		int lookup_failed = 0;
		struct aws_error perr;
		memset(&perr, 0, sizeof(perr));
		if (calls[0].rc == FB_OK) {
			rv_history_add_page(&f->hist, &s->cfg.policy, calls[0].out, (size_t)s->cfg.max_events);
			rv_lookup_rest(s, cl, lookup_in, resp_get_str(calls[0].out, "NextToken"), ctx,
				       &f->hist, &perr, &lookup_failed);
		} else {
			lookup_failed = 1;
			perr = calls[0].err;
			snprintf(f->hist.incomplete_why, sizeof(f->hist.incomplete_why),
				 "LookupEvents page 1 failed: %.40s %.80s",
				 perr.code[0] ? perr.code : fb_strerror(calls[0].rc), perr.message);
		}
		char d[400];
		snprintf(d, sizeof(d), "%zu root events over %zu pages from %s to %s%s%s", f->hist.events,
			 f->hist.pages, start_iso, end_iso, f->hist.complete ? "" : "; incomplete: ",
			 f->hist.complete ? "" : f->hist.incomplete_why);
		resp_step_end(&r, il, lookup_failed ? RESP_FAILED : RESP_DONE, d, lookup_failed ? &perr : NULL);
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
