/*
 * access-triage: an unauthorized-API-calls alarm becomes a verdict on who,
 * from where, and what succeeded (issue 21). README.md next to this file
 * documents triggers, decisions, Safety, IAM and settings; access_triage.h
 * declares the pure stages (stages.c) this file runs on the responder kit
 * (runtime/kit.h), as a runbook:
 *
 *   trigger   at_parse(): the alarm's state change to ALARM (or the manual
 *             {"window_minutes": N}) -> the window, lookback included
 *   read      CloudWatch Logs Insights on the trail's log group when
 *             FIREBREAK_AT_LOG_GROUP is set (the denied calls, then the
 *             successes from their source IPs; polled within the deadline,
 *             stopped when cut), else every CloudTrail event of the window
 *             through the kit's LookupEvents step (rate limit, throttle
 *             retries, page cap); a cut read is said (incomplete)
 *   group     at_add_denials()/at_add_successes(): by principal and source
 *             IP, and per source IP every success by any principal
 *   state     IAM: is a denied user's key already reported leaked
 *   decide    at_decide(): P1/P2/P3 per group with its reason
 *   contain   only with FIREBREAK_TRIAGE_CONTAIN=true: P1 roles' sessions
 *             revoked, P1 users' keys Inactive, the addresses to the WAF IP
 *             set; off, the report gives the manual invokes
 *   report    the groups and sources (bounded)
 */
#include "access_triage.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "akey.h"
#include "aws.h"
#include "cloudtrail.h"
#include "evidence.h"
#include "fb_err.h"
#include "fn.h"
#include "http.h"
#include "kit.h"
#include "lr.h"
#include "resp.h"

#define AT_FUNCTION "access-triage"
#define AT_DEADLINE_MARGIN_MS 500

/* fn.evcfg: FIREBREAK_EVIDENCE_BUCKET, the undo record (optional) */
FN_STATE(at_state, struct at_settings, at_settings_from_env)

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

static int at_manual_has(const cJSON *arr, const char *principal)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, arr) {
		const char *p = resp_get_str(m, "payload.principal");

		if (p && !strcmp(p, principal))
			return 1;
	}
	return 0;
}

static void at_manual_invokes(struct resp *r, const struct at_triage *t, int max, int contain, int block)
{
	const struct at_src *src;
	cJSON *arr = NULL, *p;
	int n = 0;

	for (size_t i = 0; i < t->n && n < max; i++) {
		const struct at_group *g = &t->g[i];

		if (strcmp(g->sev, "P1") != 0)
			continue;
		if (!arr && !(arr = cJSON_AddArrayToObject(r->extra, "containment_manual")))
			return;
		n++;
		/* root is not iam-contain's to contain (root-verify's runbook);
		 * with containment on, this function contains the P1 principal
		 * and blocks its address itself */
		if (!contain && strncmp(g->principal, "arn:", 4) == 0 && !g->root && !at_manual_has(arr, g->principal)) {
			p = cJSON_CreateObject();
			cJSON_AddStringToObject(p, "principal", g->principal);
			cJSON_AddStringToObject(p, "reason", "access-triage P1");
			at_manual_add(arr, "iam-contain", p);
		}
		if (!block) {
			p = cJSON_CreateObject();
			cJSON_AddStringToObject(p, "ip", g->ip);
			at_manual_add(arr, "net-block", p);
		}
		/* the other principals that succeeded from that source: their
		 * credentials work from the attacker's address. Manual only
		 * (never contained automatically: a shared address is not
		 * proof, README "Decisions") */
		src = at_source(t, g->ip);
		for (int k = 0; src && !src->trusted && k < src->nothers; k++) {
			if (strncmp(src->others[k], "arn:", 4) != 0 || at_manual_has(arr, src->others[k]))
				continue;
			p = cJSON_CreateObject();
			cJSON_AddStringToObject(p, "principal", src->others[k]);
			cJSON_AddStringToObject(p, "reason", "access-triage P1: succeeded from a source with denials");
			at_manual_add(arr, "iam-contain", p);
		}
	}
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* An IAM user whose long-term key was denied: what IAM says of it. */
#define AT_MAX_USERS 10
struct at_user {
	char name[128];
	char arn[AT_ARN_LEN];
	struct kit_step *att, *keys;  /* borrowed from at_run.users_rd */
};

/* One invocation's reads and their outcome. */
struct at_run {
	struct kit *k;
	struct at_state *st;
	struct resp *r;
	const struct at_event *ev;
	const struct lr_context *ctx;
	struct at_triage t;
	int complete;                 /* every read covered the window */
	char why[256];                /* the first reason it did not */
	cJSON *win;                   /* r->extra.window */
	struct at_user users[AT_MAX_USERS];
	size_t nusers;
	struct kit_round *users_rd;   /* owned: the users' reads, kept for containment */
};

static void at_incomplete(struct at_run *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void at_incomplete(struct at_run *u, const char *fmt, ...)
{
	va_list ap;

	if (!u->complete)
		return;
	u->complete = 0;
	va_start(ap, fmt);
	vsnprintf(u->why, sizeof(u->why), fmt, ap);
	va_end(ap);
}

/* The LookupEvents read: every event of the window, page-capped. 0, or -1
 * when it failed outright (the verdict is then "failed"). */
static int at_read_lookup(struct at_run *u)
{
	struct kit_round *rd = kit_round_new(u->k);
	struct kit_step *s;
	const struct ct_result *cr;
	struct ct_query q;
	int rc = 0;

	if (!rd)
		return -1;
	memset(&q, 0, sizeof(q));
	q.start_ms = u->ev->start_ms;
	q.end_ms = u->ev->end_ms;
	q.max_pages = u->st->set.max_pages;
	q.keep_events = 1;
	q.account = u->st->fn.cfg.own_account;
	s = kit_add(rd, &(struct kit_spec){ .step = "lookup-events", .service = "cloudtrail",
		.op = "LookupEvents", .target = "window", .kind = RESP_READ, .cloudtrail = &q,
		.detail = "every event of the window" });
	kit_run(rd);
	cr = kit_ct_result(s);
	cJSON_AddStringToObject(u->win, "source", "cloudtrail:LookupEvents");
	if (!kit_ok(s) || !cr) {
		kit_round_free(rd);
		return -1;
	}
	cJSON_AddNumberToObject(u->win, "pages", (double)cr->pages);
	cJSON_AddNumberToObject(u->win, "events", (double)cr->nevents);
	if (!cr->complete)
		at_incomplete(u, "%s", cr->why[0] ? cr->why : ct_stop_name(cr->stop));
	if (at_add_events(&u->t, kit_items(s)) != FB_OK)
		rc = -1;
	kit_round_free(rd);
	return rc;
}

/* Time left for polling a query: the setting's budget from its start,
 * and never into the last seconds the report needs. */
#define AT_FINISH_RESERVE_MS 2500

static int64_t at_poll_until(const struct at_run *u, int64_t started)
{
	int64_t until = started + (int64_t)u->st->set.query_wait_s * 1000;

	if (u->ctx->deadline_ms > 0 && u->ctx->deadline_ms - AT_FINISH_RESERVE_MS < until)
		until = u->ctx->deadline_ms - AT_FINISH_RESERVE_MS;
	return until;
}

/* One Insights query over the window: StartQuery, GetQueryResults polled
 * (250 ms doubling to 2 s) until Complete, an end status, or the time
 * budget (then StopQuery: a query left running keeps costing and counts
 * against the account's 30 concurrent queries). *events: the records read
 * (also partial ones). Returns 1 complete, 0 incomplete (said through
 * at_incomplete), -1 when StartQuery failed (nothing read), -2 when its
 * results could not be read (nothing read; said). */
static int at_insights(struct at_run *u, const char *what, const char *query, cJSON **events)
{
	struct at_settings *set = &u->st->set;
	struct kit_round *rd = kit_round_new(u->k);
	struct kit_step *s, *g;
	cJSON *in = cJSON_CreateObject(), *rows = NULL;
	char step[64], *qid = NULL, detail[200], stbuf[32];
	int64_t started = http_now_ms(), interval = set->poll_ms, until;
	int idx, ret = 0, polls = 0, failed = 0;
	enum at_qstatus qs = AT_Q_BAD;
	const char *status = NULL;

	*events = NULL;
	if (!rd || !in) {
		kit_round_free(rd);
		cJSON_Delete(in);
		return -1;
	}
	cJSON_AddStringToObject(in, "logGroupName", set->log_group);
	/* Insights takes seconds: floor the start, ceil the end (the stages
	 * drop records outside the window to the millisecond) */
	cJSON_AddNumberToObject(in, "startTime", (double)(u->ev->start_ms / 1000));
	cJSON_AddNumberToObject(in, "endTime", (double)((u->ev->end_ms + 999) / 1000));
	cJSON_AddStringToObject(in, "queryString", query);
	cJSON_AddNumberToObject(in, "limit", set->query_limit);
	snprintf(step, sizeof(step), "start-query-%s", what);
	s = kit_add(rd, &(struct kit_spec){ .step = step, .service = "logs", .op = "StartQuery",
		.target = set->log_group, .kind = RESP_READ, .in = in, .optional = 1,
		.detail = query });
	kit_run(rd);
	if (!kit_ok(s) || !resp_get_str(kit_out(s), "queryId")) {
		kit_round_free(rd);
		return -1;
	}
	qid = strdup(resp_get_str(kit_out(s), "queryId"));
	kit_round_free(rd);
	if (!qid)
		return -1;
	snprintf(step, sizeof(step), "query-results-%s", what);
	idx = resp_step_begin(u->r, step, "logs:GetQueryResults", set->log_group, RESP_READ);
	until = at_poll_until(u, started);
	for (;;) {
		rd = kit_round_new(u->k);
		g = kit_add(rd, &(struct kit_spec){ .quiet = 1, .service = "logs", .op = "GetQueryResults",
			.kind = RESP_READ, .in = kit_obj("queryId", qid, KIT_END) });
		kit_run(rd);
		polls++;
		if (!kit_ok(g)) {
			resp_step_end(u->r, idx, RESP_FAILED, "the query's results could not be read", kit_err(g));
			resp_step_optional(u->r, idx);
			at_incomplete(u, "the %s query's results could not be read", what);
			kit_round_free(rd);
			failed = 1;
			break;
		}
		status = resp_get_str(kit_out(g), "status");
		qs = at_query_status(status);
		/* kept past the round (the answer is freed with it) */
		snprintf(stbuf, sizeof(stbuf), "%.30s", status ? status : "");
		status = status ? stbuf : NULL;
		cJSON_Delete(rows);
		rows = cJSON_Duplicate(resp_get(kit_out(g), "results"), 1);
		kit_round_free(rd);
		if (qs == AT_Q_RUNNING && http_now_ms() + interval < until) {
			sleep_ms(interval);
			interval = interval * 2 > 2000 ? 2000 : interval * 2;
			continue;
		}
		break;
	}
	*events = at_insights_events(rows);
	if (failed) {
		/* said above */
	} else if (qs == AT_Q_COMPLETE) {
		int n = cJSON_GetArraySize(rows);

		ret = 1;
		snprintf(detail, sizeof(detail), "Complete: %d record(s), %d poll(s)", n, polls);
		if (n >= set->query_limit) {
			/* the newest query_limit rows: older ones were not read */
			at_incomplete(u, "the %s query returned FIREBREAK_AT_QUERY_LIMIT (%d) rows: older ones not read",
				      what, set->query_limit);
			ret = 0;
		}
		resp_step_end(u->r, idx, RESP_DONE, detail, NULL);
	}
	if (!failed && qs == AT_Q_RUNNING) {
		/* the budget ran out: stop it, keep what it returned */
		rd = kit_round_new(u->k);
		snprintf(step, sizeof(step), "stop-query-%s", what);
		s = kit_add(rd, &(struct kit_spec){ .step = step, .service = "logs", .op = "StopQuery",
			.target = qid, .kind = RESP_READ, .in = kit_obj("queryId", qid, KIT_END), .optional = 1,
			.absent = "InvalidParameterException",
			.detail = "stopped: the deadline cut it" });
		kit_run(rd);
		kit_round_free(rd);
		snprintf(detail, sizeof(detail), "still %s after %d poll(s): %d partial record(s)", status, polls,
			 *events ? cJSON_GetArraySize(*events) : 0);
		resp_step_end(u->r, idx, RESP_DONE, detail, NULL);
		at_incomplete(u, "the %s query did not finish within the time left (stopped; partial results)", what);
	} else if (!failed && qs != AT_Q_COMPLETE) {
		snprintf(detail, sizeof(detail), "query ended %s: %d partial record(s)", status ? status : "(no status)",
			 *events ? cJSON_GetArraySize(*events) : 0);
		resp_step_end(u->r, idx, qs == AT_Q_ENDED ? RESP_DONE : RESP_FAILED, detail, NULL);
		resp_step_optional(u->r, idx);
		at_incomplete(u, "the %s query ended %s (partial results)", what, status ? status : "without a status");
	}
	cJSON_Delete(rows);
	free(qid);
	return failed ? -2 : ret;
}

/* The Insights read: the denied calls, then the successes from their
 * source IPs. 0, or -1 when the first StartQuery failed (the caller falls
 * back to LookupEvents). */
static int at_read_insights(struct at_run *u)
{
	cJSON *den = NULL, *ok = NULL;
	char *q = at_query_denied(u->st->set.query_limit);
	size_t nips = 0, left = 0;
	int r;

	if (!q)
		return -1;
	r = at_insights(u, "denied", q, &den);
	free(q);
	if (r < 0) {
		/* nothing read: LookupEvents still can */
		cJSON_Delete(den);
		return -1;
	}
	cJSON_AddStringToObject(u->win, "source", "logs:StartQuery");
	cJSON_AddStringToObject(u->win, "log_group", u->st->set.log_group);
	cJSON_AddNumberToObject(u->win, "denied_records", den ? cJSON_GetArraySize(den) : 0);
	if (!den || at_add_denials(&u->t, den) != FB_OK) {
		cJSON_Delete(den);
		return -2;
	}
	cJSON_Delete(den);
	q = at_query_successes(&u->t, u->st->set.query_limit, &nips, &left);
	if (left)
		at_incomplete(u, "successes read for %zu source IPs, %zu more not queried", nips, left);
	if (q) {
		r = at_insights(u, "successes", q, &ok);
		free(q);
		if (r == -1)
			at_incomplete(u, "the successes query could not be started");
		cJSON_AddNumberToObject(u->win, "success_records", ok ? cJSON_GetArraySize(ok) : 0);
		at_add_successes(&u->t, ok);
		cJSON_Delete(ok);
	}
	return 0;
}

static const struct kit_paging pg_attached = KIT_IAM_PAGING("AttachedPolicies");

/* "Already reported leaked": for each IAM user of the own account with
 * denials, IAM's state: the managed policies attached to it and its keys'
 * status (at_key_leaked: the quarantine policy, or the denied long-term
 * key Inactive since). Optional reads: a
 * user that cannot be read is only not proven leaked (said). */
static void at_leak_check(struct at_run *u)
{
	const char *own = kit_own_account(u->k);
	size_t i, j, skipped = 0;

	u->users_rd = kit_round_new(u->k);
	if (!u->users_rd || !own)
		return;
	for (i = 0; i < u->t.n; i++) {
		struct at_group *g = &u->t.g[i];
		struct at_user *us;

		/* every IAM user of this account with denials: its keys are
		 * also what containment deactivates (a console session's
		 * user has no AKIA key in the record, and still has keys) */
		if (strcmp(g->type, "IAMUser") != 0 || !g->user[0] || strcmp(g->account, own) != 0)
			continue;
		for (j = 0; j < u->nusers && strcmp(u->users[j].name, g->user) != 0; j++)
			;
		if (j < u->nusers)
			continue;
		if (u->nusers == AT_MAX_USERS) {
			skipped++;
			continue;
		}
		us = &u->users[u->nusers++];
		snprintf(us->name, sizeof(us->name), "%s", g->user);
		snprintf(us->arn, sizeof(us->arn), "%s", g->principal);
		us->att = kit_add(u->users_rd, &(struct kit_spec){ .step = "read-attached-policies", .service = "iam",
			.op = "ListAttachedUserPolicies", .target = us->arn, .kind = RESP_READ,
			.in = kit_obj("UserName", us->name, KIT_END), .optional = 1, .paging = &pg_attached });
		us->keys = kit_add(u->users_rd, &(struct kit_spec){ .step = "read-access-keys", .service = "iam",
			.op = "ListAccessKeys", .target = us->arn, .kind = RESP_READ,
			.in = kit_obj("UserName", us->name, KIT_END), .optional = 1, .paging = &akey_pages });
	}
	if (skipped)
		resp_warn(u->r, "leaked-key state read for %d IAM users, %zu more not read", AT_MAX_USERS, skipped);
	if (!u->nusers)
		return;
	kit_run(u->users_rd);
	for (i = 0; i < u->t.n; i++) {
		struct at_group *g = &u->t.g[i];

		for (j = 0; j < u->nusers; j++) {
			if (strcmp(u->users[j].name, g->user) != 0 || strcmp(g->type, "IAMUser") != 0 ||
			    strcmp(g->account, own) != 0)
				continue;
			g->leaked = at_key_leaked(kit_ok(u->users[j].att) ? kit_items(u->users[j].att) : NULL,
						  kit_ok(u->users[j].keys) ? kit_items(u->users[j].keys) : NULL, g->key_id,
						  g->leaked_why, sizeof(g->leaked_why));
			if (!kit_ok(u->users[j].att) || !kit_ok(u->users[j].keys))
				resp_warn(u->r, "%s: whether its key is already reported leaked could not be read all",
					  u->users[j].arn);
		}
	}
}

/* ---- containment (FIREBREAK_TRIAGE_CONTAIN=true; P1 principals only) ---- */

/* A line for a principal or address the containment leaves alone, and
 * why: skipped (a rule says never), or failed (it should have been
 * contained and could not be: the invocation is then an error). */
#define at_contain_line(u, st, step, target, ...) kit_note((u)->k, step, "none", target, RESP_READ, st, 0, __VA_ARGS__)
#define at_contain_skip(u, ...) at_contain_line((u), RESP_SKIPPED, __VA_ARGS__)

/* An IAM user: every Active key Inactive (kept, not deleted), as
 * iam-contain does; the keys from at_leak_check's read. */
static void at_contain_user(struct at_run *u, struct kit_round *rd, const struct at_group *g)
{
	const struct at_user *us = NULL;
	const cJSON *key;

	for (size_t j = 0; j < u->nusers; j++)
		if (!strcmp(u->users[j].name, g->user))
			us = &u->users[j];
	if (!us || !kit_ok(us->keys)) {
		at_contain_line(u, RESP_FAILED, "deactivate-key", g->principal,
				"its access keys could not be read: nothing written");
		return;
	}
	if (!kit_complete(us->keys))
		resp_warn(u->r, "%s: more keys than the page cap: some may stay Active", g->principal);
	cJSON_ArrayForEach(key, kit_items(us->keys)) {
		const char *id = resp_get_str(key, "AccessKeyId");

		if (id)
			akey_deactivate(rd, "deactivate-key", g->user, id, resp_get_str(key, "Status"), NULL);
	}
}

/* kit_ipset_update's decision: the attacker routes of the set's family. */
struct at_block {
	const char *routes[AT_MAX_GROUPS];
	char buf[AT_MAX_GROUPS][AT_IP_LEN + 8];
	size_t n;
};

static int at_ipset_change(const cJSON *set, void *arg, cJSON **out, char *why, size_t whylen)
{
	struct at_block *b = arg;
	const char *ver = resp_get_str(set, "IPAddressVersion");
	int v6 = ver && !strcmp(ver, "IPV6");
	const char *mine[AT_MAX_GROUPS];
	size_t n = 0;
	int c;

	for (size_t i = 0; i < b->n; i++)
		if ((strchr(b->routes[i], ':') != NULL) == v6)
			mine[n++] = b->routes[i];
	if (!n) {
		snprintf(why, whylen, "no attacker address of the set's IP version (%s)", v6 ? "IPV6" : "IPV4");
		return 0;
	}
	c = at_ipset_merge(resp_get(set, "Addresses"), mine, n, out);
	if (c < 0)
		snprintf(why, whylen, "the IP set would exceed WAF's 10,000 addresses");
	else if (!c)
		snprintf(why, whylen, "already in the IP set");
	return c;
}

/* ---- issue 24 s2 (w3-rst4): the undo record of the containment ----
 * restore.json of the incident's next attempt when FIREBREAK_EVIDENCE_BUCKET
 * is set, claimed BEFORE the first write (runtime/evidence.h
 * evidence_undo_record), so firebreak-restore can undo it: the keys'
 * round (kit_round_undo_plan), each role's revocation (its prior
 * AWSRevokeOlderSessions read here first, as kit_revoke_sessions records
 * it: put the prior back, else delete the policy) and the IP set's
 * (net-block's unblock form, which firebreak-restore refuses: the set is
 * shared). The prior is read only when a bucket is set (no extra line
 * otherwise). A role whose policy cannot be read gets no entry (its
 * revocation then writes nothing either). Never holds the containment
 * back: the undo is still in restore[]. rd, roles, b borrowed. */
static void at_undo_record(struct at_run *u, struct kit_round *rd, const char *const *roles, size_t nroles,
			   const struct at_block *b)
{
	cJSON *plan = kit_round_undo_plan(rd);
	struct kit_step *rs[AT_MAX_GROUPS] = { NULL };
	char role[AT_MAX_GROUPS][80];
	struct kit_round *rr = NULL;
	size_t i;
	int sl;

	if (!plan)
		return;
	if (u->st->fn.evcfg.bucket && nroles && (rr = kit_round_new(u->k)) != NULL) {
		for (i = 0; i < nroles; i++) {
			if (!kit_role_name(roles[i], role[i], sizeof(role[i]), &sl) || sl)
				continue;
			rs[i] = kit_add(rr, &(struct kit_spec){ .step = "read-undo-revocation", .service = "iam",
				.op = "GetRolePolicy", .target = roles[i], .kind = RESP_READ, .optional = 1,
				.in = kit_obj("RoleName", role[i], "PolicyName", KIT_REVOKE_POLICY_NAME, KIT_END),
				.absent = "NoSuchEntity" });
		}
		kit_run(rr);
	}
	for (i = 0; rr && i < nroles; i++)
		if (rs[i] && kit_ok(rs[i]))
			cJSON_AddItemToArray(plan, kit_revoke_undo(role[i], kit_found(rs[i]) ?
				resp_get_str(kit_out(rs[i]), "PolicyDocument") : NULL));
	kit_round_free(rr);
	if (b) {
		cJSON *undo = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(undo, "unblock");

		for (i = 0; list && i < b->n; i++)
			cJSON_AddItemToArray(list, cJSON_CreateString(b->routes[i]));
		cJSON_AddItemToArray(plan, kit_undo("lambda:Invoke net-block", undo));
	}
	evidence_undo_claim(u->k, u->st->fn.aws, &u->st->fn.evcfg, u->ctx, "alarm",
			    u->ev->alarm[0] ? u->ev->alarm : AT_FUNCTION, plan, u->r->extra);
}

static void at_contain(struct at_run *u)
{
	struct at_settings *set = &u->st->set;
	const char *own = kit_own_account(u->k), *caller = kit_caller_arn(u->k);
	struct kit_round *rd = kit_round_new(u->k);
	struct at_block *b = calloc(1, sizeof(*b));
	char own_role[128] = "", name[128], why[200];
	int64_t now = u->k->now_ms ? u->k->now_ms() : http_now_ms();
	const char *revoke[AT_MAX_GROUPS];
	size_t i, j, nrev = 0;
	int ipset;

	if (!rd || !b) {
		resp_set_verdict(u->r, "failed: out of memory");
		kit_round_free(rd);
		free(b);
		return;
	}
	(void)at_caller_role(caller, own_role, sizeof(own_role));
	for (i = 0; i < u->t.n; i++) {
		const struct at_group *g = &u->t.g[i];
		int dup = 0, sl;

		if (strcmp(g->sev, "P1") != 0)
			continue;
		for (j = 0; j < i && !dup; j++)
			dup = !strcmp(u->t.g[j].principal, g->principal);
		if (dup)
			continue;
		if (g->root)
			at_contain_skip(u, "contain", g->principal, "root: root-verify's runbook, not contained here");
		else if (!caller || !caller[0])
			/* it could be this function's own identity: never
			 * contained blind (an error result, so it is seen) */
			kit_note(u->k, "contain", "sts:GetCallerIdentity", g->principal, RESP_READ, RESP_FAILED, 0,
				 "the function's own identity is unknown: not contained");
		else if (!own || strcmp(g->account, own) != 0)
			at_contain_skip(u, "contain", g->principal, "another account (%s): contained only in the "
					"function's own account", g->account);
		else if (resp_is_trusted(&u->st->fn.cfg, g->principal) ||
			 (g->role_arn[0] && resp_is_trusted(&u->st->fn.cfg, g->role_arn)))
			at_contain_skip(u, "contain", g->principal, "trusted (FIREBREAK_TRUSTED_PRINCIPALS): never contained");
		else if ((caller && caller[0] && !strcmp(caller, g->principal)) ||
			 (own_role[0] && g->role_arn[0] && kit_role_name(g->role_arn, name, sizeof(name), &sl) &&
			  !strcmp(name, own_role)))
			at_contain_skip(u, "contain", g->principal, "the function's own role: never contained");
		else if (!strcmp(g->type, "AssumedRole") && g->role_arn[0]) {
			/* sessions issued before now end (after the undo record) */
			for (j = 0; j < nrev && strcmp(revoke[j], g->role_arn); j++)
				;
			if (j == nrev)
				revoke[nrev++] = g->role_arn;
		} else if (!strcmp(g->type, "IAMUser") && g->user[0])
			at_contain_user(u, rd, g);
		else
			at_contain_skip(u, "contain", g->principal, "identity type '%s': not contained here",
					g->type[0] ? g->type : "unknown");
	}
	/* the attacker addresses, to net-block's WAF IP set */
	for (i = 0; i < u->t.n; i++) {
		const struct at_group *g = &u->t.g[i];
		int dup = 0;

		if (strcmp(g->sev, "P1") != 0)
			continue;
		for (j = 0; j < i && !dup; j++)
			dup = !strcmp(u->t.g[j].sev, "P1") && !strcmp(u->t.g[j].ip, g->ip);
		if (dup)
			continue;
		if (!at_block_ip(set, g->ip, b->buf[b->n], sizeof(b->buf[0]), why, sizeof(why))) {
			at_contain_skip(u, "block-ip", g->ip, "%s", why);
			continue;
		}
		b->routes[b->n] = b->buf[b->n];
		b->n++;
	}
	/* ---- issue 24 s2 (w3-rst4): the undo record, before the first write ---- */
	ipset = b->n && set->ipset_arn[0] && own && !strcmp(set->ipset_account, own);
	at_undo_record(u, rd, revoke, nrev, ipset ? b : NULL);
	/* ---- end w3-rst4 ---- */
	for (i = 0; i < nrev; i++)
		kit_revoke_sessions(u->k, &(struct kit_revoke){ .role_arn = revoke[i], .not_before_ms = now });
	kit_run(rd);
	kit_round_free(rd);
	if (b->n && !set->ipset_arn[0]) {
		at_contain_skip(u, "block-ip", "FIREBREAK_AT_IPSET_ARN",
				"no IP set configured: net-block's invoke is in containment_manual");
	} else if (b->n && (!own || strcmp(set->ipset_account, own) != 0)) {
		/* another account's IP set is net-block's (its member role):
		 * this function holds no cross-account role */
		at_contain_skip(u, "block-ip", set->ipset_arn, "the IP set is in another account: net-block's invoke is "
				"in containment_manual");
	} else if (b->n) {
		struct aws_client *wc = NULL, *rc = NULL;
		cJSON *undo = cJSON_CreateObject(), *list = cJSON_CreateArray();

		/* the IP set's Region (CLOUDFRONT sets live in us-east-1) */
		if (!strcmp(set->ipset_region, aws_client_region(u->st->fn.aws)))
			wc = u->st->fn.aws;
		else if (aws_client_for_region(u->st->fn.aws, set->ipset_region, &rc) == FB_OK)
			wc = rc;
		else
			at_contain_skip(u, "block-ip", set->ipset_arn, "no client for %s", set->ipset_region);

		for (i = 0; list && i < b->n; i++)
			cJSON_AddItemToArray(list, cJSON_CreateString(b->routes[i]));
		cJSON_AddItemToObject(undo, "unblock", list);
		if (wc)
			kit_ipset_update(u->k, &(struct kit_ipset){ .name = set->ipset_name, .id = set->ipset_id,
				.scope = set->ipset_scope, .target = set->ipset_arn, .change = at_ipset_change, .arg = b,
				.client = wc, .restore = kit_undo("lambda:Invoke net-block", undo),
				.step = "ipset-add", .detail = "attacker addresses added to the IP set" });
		else
			cJSON_Delete(undo);
		aws_client_free(rc);
	}
	free(b);
}

static void at_triage_run(struct kit *k, struct at_state *st, struct resp *r, const struct at_event *ev,
			  const struct lr_context *ctx)
{
	struct at_run u = { .k = k, .st = st, .r = r, .ev = ev, .ctx = ctx, .complete = 1 };
	cJSON *groups, *more = NULL;
	const char *worst;
	int rc = -1;

	u.win = kit_window(r->extra, "window", ev->start_ms, ev->end_ms);
	at_triage_init(&u.t, ev->start_ms, ev->end_ms);
	if (st->set.log_group[0]) {
		rc = at_read_insights(&u);
		if (rc == -1) {
			/* the log group could not be queried (missing, no
			 * permission, quota): LookupEvents still reads the window */
			resp_warn(r, "CloudWatch Logs Insights on %s could not be read: read with LookupEvents instead",
				  st->set.log_group);
			at_triage_cleanup(&u.t);
			at_triage_init(&u.t, ev->start_ms, ev->end_ms);
			u.complete = 1;
			u.why[0] = '\0';
		}
	}
	if (rc == -1)
		rc = at_read_lookup(&u);
	if (rc != 0) {
		resp_set_verdict(r, "failed: the window's CloudTrail events could not be read");
		at_triage_cleanup(&u.t);
		kit_round_free(u.users_rd);
		return;
	}
	cJSON_AddBoolToObject(r->extra, "complete", u.complete);
	if (!u.complete) {
		/* a cut read is still a verdict, on what was read: said */
		cJSON_AddStringToObject(u.win, "incomplete", u.why);
		resp_warn(r, "incomplete: the window was not read in full (%s)", u.why);
	}
	at_leak_check(&u);
	worst = at_decide(&u.t, &st->set);
	cJSON_AddNumberToObject(r->extra, "denied_calls", (double)u.t.denied);
	if (u.t.unreadable)
		cJSON_AddNumberToObject(r->extra, "unreadable_events", (double)u.t.unreadable);
	if (u.t.groups_dropped)
		cJSON_AddNumberToObject(r->extra, "denials_not_grouped", (double)u.t.groups_dropped);
	groups = at_report(&u.t, st->set.max_principals, &more);
	if (groups)
		cJSON_AddItemToObject(r->extra, "principals", groups);
	if (more)
		cJSON_AddItemToObject(r->extra, "principals_more", more);
	if (u.t.nsrc)
		cJSON_AddItemToObject(r->extra, "sources", at_report_sources(&u.t, st->set.max_principals));
	at_manual_invokes(r, &u.t, st->set.max_principals, st->set.contain,
			  st->set.contain && st->set.ipset_arn[0] && st->set.ipset_account[0] &&
			  kit_own_account(k) && !strcmp(st->set.ipset_account, kit_own_account(k)));
	cJSON_AddBoolToObject(r->extra, "containment", st->set.contain);
	if (!u.t.n) {
		resp_set_severity(r, "P3");
		resp_set_verdict(r, "no denied call in the window%s", u.complete ? "" : " (read incomplete)");
	} else {
		resp_set_severity(r, worst);
		resp_set_verdict(r, "%s: %s (%s, %s)%s", worst, u.t.g[0].reason, u.t.g[0].principal, u.t.g[0].ip,
				 u.complete ? "" : " (read incomplete)");
		if (st->set.contain && !strcmp(worst, "P1")) {
			at_contain(&u);
			resp_set_verdict(r, "%s: %s (%s, %s)%s; %s", worst, u.t.g[0].reason, u.t.g[0].principal,
					 u.t.g[0].ip, u.complete ? "" : " (read incomplete)",
					 resp_failed(r) ? "containment failed in part" :
					 r->dry_run ? "containment planned (dry run)" : "contained");
		}
	}
	at_triage_cleanup(&u.t);
	kit_round_free(u.users_rd);
}

/* ---- the handler --------------------------------------------------------------- */

FN_EVENT_READER(at, at_parse(event, len, &((struct at_state *)c->st)->set, http_now_ms(), c->ev,
			     why, whylen))

/* AT_SKIP: another alarm, or a state other than ALARM: nothing happened,
 * nothing is read or published */
static const char *at_skip(const void *ev)
{
	const struct at_event *e = ev;

	return e->kind == AT_SKIP ? e->why : NULL;
}

static enum fb_err at_run(struct fn_call *c)
{
	struct at_event *ev = c->ev;

	if (ev->event_id[0])
		resp_set_incident(c->r, ev->event_id);
	if (ev->alarm[0])
		cJSON_AddStringToObject(c->r->extra, "alarm", ev->alarm);
	at_triage_run(c->k, c->st, c->r, ev, c->ctx);
	return FB_OK;
}

int main(void)
{
	return fn_main(&(struct fn_responder){ .function = AT_FUNCTION, .margin_ms = AT_DEADLINE_MARGIN_MS,
		.size = sizeof(struct at_state), .settings = at_state_settings, FN_EVENT(struct at_event, at),
		.skip = at_skip, .run = at_run });
}
