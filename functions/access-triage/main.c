/*
 * access-triage: an unauthorized-API-calls alarm becomes a verdict on who,
 * from where, and what succeeded (issue 21). README.md next to this file
 * documents triggers, decisions, Safety, IAM and settings; access_triage.h
 * declares the pure stages (stages.c) this file runs on the responder kit
 * (runtime/kit.h), as a runbook:
 *
 *   trigger   at_parse(): the alarm's state change to ALARM (or the manual
 *             {"window_minutes": N}) -> the window, lookback included
 *   read      every CloudTrail event of the window: LookupEvents through
 *             the kit's CloudTrail step (the ct_ pager: rate limit,
 *             throttle retries, page cap). LookupEvents cannot filter on
 *             errorCode or source IP, so the filtering is the stages'; a
 *             capped read is said in the report (incomplete)
 *   decide    at_add_events() groups denials by principal and source IP and
 *             joins the successful calls from the same pair; at_decide()
 *             gives each group P1/P2/P3 with its reason
 *   report    the groups (bounded), the manual containment invokes for P1
 *
 * Containment is not built (issue 21's containment is off by default): this
 * responder makes no write at all.
 */
#include "access_triage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "cloudtrail.h"
#include "fb_err.h"
#include "http.h"
#include "kit.h"
#include "lr.h"
#include "resp.h"

#define AT_FUNCTION "access-triage"
#define AT_DEADLINE_MARGIN_MS 500

struct at_state {
	struct resp_config cfg;
	struct at_settings set;
	struct aws_client *aws;
};

/* P1 groups: what a human invokes to contain them (containment is off).
 * Objects, not shell lines: the values come from CloudTrail records. */
static void at_manual_add(cJSON *arr, const char *function, cJSON *payload)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !payload) {
		cJSON_Delete(o);
		cJSON_Delete(payload);
		return;
	}
	cJSON_AddStringToObject(o, "function", function);
	cJSON_AddItemToObject(o, "payload", payload);
	cJSON_AddItemToArray(arr, o);
}

static void at_manual_invokes(struct resp *r, const struct at_triage *t, int max)
{
	cJSON *arr = NULL, *p;
	int n = 0;

	for (size_t i = 0; i < t->n && n < max; i++) {
		const struct at_group *g = &t->g[i];

		if (strcmp(g->sev, "P1") != 0)
			continue;
		if (!arr && !(arr = cJSON_AddArrayToObject(r->extra, "containment_manual")))
			return;
		n++;
		/* root is not iam-contain's to contain (root-verify's runbook) */
		if (strncmp(g->principal, "arn:", 4) == 0 && !g->root) {
			p = cJSON_CreateObject();
			cJSON_AddStringToObject(p, "principal", g->principal);
			cJSON_AddStringToObject(p, "reason", "access-triage P1");
			at_manual_add(arr, "iam-contain", p);
		}
		p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "ip", g->ip);
		at_manual_add(arr, "net-block", p);
	}
}

static void at_triage_run(struct kit *k, struct at_state *st, struct resp *r, const struct at_event *ev)
{
	struct kit_round *rd = kit_round_new(k);
	struct kit_step *s;
	const struct ct_result *cr;
	struct ct_query q;
	struct at_triage t;
	cJSON *groups, *more = NULL, *win;
	const char *worst;
	char a[RESP_TIME_LEN], b[RESP_TIME_LEN];

	if (!rd)
		return;
	memset(&q, 0, sizeof(q));
	q.start_ms = ev->start_ms;
	q.end_ms = ev->end_ms;
	q.max_pages = st->set.max_pages;
	q.keep_events = 1;
	q.account = st->cfg.own_account;
	s = kit_add(rd, &(struct kit_spec){ .step = "lookup-events", .service = "cloudtrail",
		.op = "LookupEvents", .target = "window", .kind = RESP_READ, .cloudtrail = &q,
		.detail = "every event of the window" });
	kit_run(rd);
	resp_format_time_ms(ev->start_ms, a);
	resp_format_time_ms(ev->end_ms, b);
	win = cJSON_AddObjectToObject(r->extra, "window");
	cJSON_AddStringToObject(win, "start", a);
	cJSON_AddStringToObject(win, "end", b);
	cr = kit_ct_result(s);
	if (!kit_ok(s) || !cr) {
		resp_set_verdict(r, "failed: the window's CloudTrail events could not be read");
		kit_round_free(rd);
		return;
	}
	cJSON_AddNumberToObject(win, "pages", (double)cr->pages);
	cJSON_AddNumberToObject(win, "events", (double)cr->nevents);
	cJSON_AddBoolToObject(r->extra, "complete", cr->complete);
	if (!cr->complete) {
		/* a capped read is still a verdict, on what was read: said */
		cJSON_AddStringToObject(win, "incomplete", cr->why[0] ? cr->why : ct_stop_name(cr->stop));
		resp_warn(r, "incomplete: the window was not read in full (%s); the verdict covers %zu events",
			  cr->why[0] ? cr->why : ct_stop_name(cr->stop), cr->nevents);
	}
	at_triage_init(&t, ev->start_ms, ev->end_ms);
	if (at_add_events(&t, kit_items(s)) != FB_OK) {
		resp_set_verdict(r, "failed: out of memory");
		at_triage_cleanup(&t);
		kit_round_free(rd);
		return;
	}
	worst = at_decide(&t, &st->set);
	cJSON_AddNumberToObject(r->extra, "denied_calls", (double)t.denied);
	if (t.unreadable)
		cJSON_AddNumberToObject(r->extra, "unreadable_events", (double)t.unreadable);
	if (t.groups_dropped)
		cJSON_AddNumberToObject(r->extra, "denials_not_grouped", (double)t.groups_dropped);
	groups = at_report(&t, st->set.max_principals, &more);
	if (groups)
		cJSON_AddItemToObject(r->extra, "principals", groups);
	if (more)
		cJSON_AddItemToObject(r->extra, "principals_more", more);
	at_manual_invokes(r, &t, st->set.max_principals);
	if (!t.n) {
		resp_set_severity(r, "P3");
		resp_set_verdict(r, "no denied call in the window%s", cr->complete ? "" : " (read incomplete)");
	} else {
		resp_set_severity(r, worst);
		resp_set_verdict(r, "%s: %s (%s, %s)%s", worst, t.g[0].reason, t.g[0].principal, t.g[0].ip,
				 cr->complete ? "" : " (read incomplete)");
	}
	at_triage_cleanup(&t);
	kit_round_free(rd);
}

/* ---- the handler --------------------------------------------------------------- */

static enum fb_err at_init(void **state, char *err, size_t errlen)
{
	struct at_state *st = calloc(1, sizeof(*st));
	enum fb_err rc = st ? at_settings_from_env(&st->set, err, errlen) : FB_E_NOMEM;

	if (rc == FB_OK)
		rc = kit_setup(&st->cfg, &st->aws, err, errlen);
	if (rc != FB_OK) {
		free(st);
		return rc;
	}
	*state = st;
	return FB_OK;
}

static enum fb_err at_handle(void *state, const char *event, size_t len, const struct lr_context *ctx,
			     struct lr_result *out)
{
	struct at_state *st = state;
	struct at_event ev;
	struct resp r;
	struct kit k;
	char why[512];
	enum fb_err rc;

	if (ctx->deadline_ms > 0)
		aws_client_set_deadline(st->aws, ctx->deadline_ms - AT_DEADLINE_MARGIN_MS);
	if (at_parse(event, len, &st->set, http_now_ms(), &ev, why, sizeof(why)) != FB_OK) {
		at_event_cleanup(&ev);
		return resp_invalid(out, "%s", why);
	}
	rc = resp_begin(&r, &st->cfg, AT_FUNCTION, ctx);
	if (rc != FB_OK) {
		at_event_cleanup(&ev);
		return rc;
	}
	if (resp_trigger_from_event(&r, ev.root) != FB_OK) {
		resp_cleanup(&r);
		at_event_cleanup(&ev);
		return resp_invalid(out, "envelope fields have the wrong types (or 'dryRun' is not a boolean)");
	}
	if (ev.event_id[0])
		resp_set_incident(&r, ev.event_id);
	kit_init(&k, &r, st->aws);
	if (ev.alarm[0])
		cJSON_AddStringToObject(r.extra, "alarm", ev.alarm);
	if (ev.kind == AT_SKIP)
		resp_skip(&r, "%s", ev.why);
	else
		at_triage_run(&k, st, &r, &ev);
	rc = resp_finish(&r, st->aws, out);
	kit_cleanup(&k);
	resp_cleanup(&r);
	at_event_cleanup(&ev);
	return rc;
}

int main(void) { return lr_main(at_init, at_handle); }
