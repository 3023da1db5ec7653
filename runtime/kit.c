/*
 * kit: steps, rounds, paging, clients and session revocation over aws.h
 * and resp.h. kit.h has the model and the checklist for a new responder.
 */
#include "kit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "http.h"
#include "acct.h"
#include "outlet.h"
#include "utc.h"

struct kit_step {
	struct kit_round *rd;
	int idx;                    /* report line */
	char *svc, *opname, *api, *already, *absent, *detail, *already_detail;
	char *bucket, *key;
	const void *body;
	size_t body_len;
	const struct aws_header *headers;
	size_t nheaders;
	enum resp_kind kind;
	cJSON *in;                  /* owned */
	cJSON *restore;             /* owned until recorded */
	struct aws_client *client;  /* borrowed */
	struct kit_paging paging;
	int paged;
	/* state */
	int ran;                    /* run, skipped, planned or failed: no call left to make */
	enum resp_status status;
	cJSON *out;                 /* owned: the last answer */
	cJSON *items;               /* owned: paged list members */
	int pages, complete, found;
	int64_t first_started_ms;
	struct aws_error err;
	/* CloudTrail steps (kit.h) */
	const struct kit_ct_ops *ct;  /* NULL: not one */
	struct ct_query q;          /* attr_key, attr_value, account: the copies below */
	char *q_key, *q_value, *q_account;
	int ct_defer, ct_no_error;
	int ct_state;               /* 0 not sent, 1 page 1 read (continuation pending), 2 finished */
	cJSON *ct_in;               /* owned: page 1's input */
	struct aws_call ct_call;    /* page 1, its answer owned */
	struct ct_result ct_res;
	enum fb_err ct_rc;
};

/* The CloudTrail step kind's two halves, reached through the step rather
 * than called by name from kit_run: tests/infra/iamderive.py follows
 * calls by name, and a responder's cloudtrail:LookupEvents must come from
 * its own step's .service/.op literals, not from every kit_run caller. */
struct kit_ct_ops {
	int (*start)(struct kit_step *s);
	enum fb_err (*finish)(struct kit_step *s);
};
static const struct kit_ct_ops ct_ops;

struct kit_round {
	struct kit *k;
	struct kit_step **steps;
	size_t n, cap;
};

/* ---- small helpers --------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* 1 when `code` is one of the space-separated words of `list`. */
static int code_in(const char *list, const char *code)
{
	size_t n = strlen(code);
	const char *p = list;

	if (!list || !n)
		return 0;
	while (*p) {
		size_t w;

		p += strspn(p, " ");
		w = strcspn(p, " ");
		if (w == n && !strncmp(p, code, n))
			return 1;
		p += w;
	}
	return 0;
}

enum fb_err kit_setup(struct resp_config *cfg, struct aws_client **aws, char *err, size_t errlen)
{
	enum fb_err rc = resp_config_from_env(cfg, err, errlen);

	if (rc == FB_OK && (rc = aws_client_new(aws, NULL, err, errlen)) != FB_OK)
		resp_config_cleanup(cfg);
	return rc;
}

void kit_init(struct kit *k, struct resp *r, struct aws_client *aws)
{
	memset(k, 0, sizeof(*k));
	k->r = r;
	k->aws = aws;
	k->now_ms = http_now_ms;
	/* issue 24: every report of a responder on the kit also goes where
	 * people look (EventBridge, Security Hub; runtime/outlet.h) */
	if (r && !r->outlet)
		r->outlet = outlet_publish;
}

struct kit_client_entry {
	struct kit_client_entry *next;
	char account[16], region[32];
	struct aws_client *c;
	int owned;
};

void kit_cleanup(struct kit *k)
{
	struct kit_client_entry *e = k->clients, *n;

	for (; e; e = n) {
		n = e->next;
		if (e->owned)
			aws_client_free(e->c);
		free(e);
	}
	k->clients = NULL;
}

cJSON *kit_undo_step(const char *step, const char *api, cJSON *args)
{
	cJSON *e = cJSON_CreateObject();

	if (!e || (step && !cJSON_AddStringToObject(e, "step", step)) ||
	    !cJSON_AddStringToObject(e, "api", api)) {
		cJSON_Delete(e);
		cJSON_Delete(args);
		return NULL;
	}
	if (!args)
		args = cJSON_CreateObject();
	if (!args || !cJSON_AddItemToObject(e, "args", args)) {
		cJSON_Delete(args);
		cJSON_Delete(e);
		return NULL;
	}
	return e;
}

cJSON *kit_undo(const char *api, cJSON *args)
{
	return kit_undo_step(NULL, api, args);
}

/* ---- steps and rounds ---------------------------------------------------------- */

struct kit_round *kit_round_new(struct kit *k)
{
	struct kit_round *rd = calloc(1, sizeof(*rd));

	if (rd)
		rd->k = k;
	return rd;
}

static void step_free(struct kit_step *s)
{
	if (!s)
		return;
	free(s->svc);
	free(s->opname);
	free(s->api);
	free(s->already);
	free(s->absent);
	free(s->detail);
	free(s->already_detail);
	free(s->bucket);
	free(s->key);
	cJSON_Delete(s->in);
	cJSON_Delete(s->restore);
	cJSON_Delete(s->out);
	cJSON_Delete(s->items);
	free(s->q_key);
	free(s->q_value);
	free(s->q_account);
	cJSON_Delete(s->ct_in);
	aws_call_cleanup(&s->ct_call);
	ct_result_cleanup(&s->ct_res);
	free(s);
}

struct kit_step *kit_add(struct kit_round *rd, const struct kit_spec *spec)
{
	struct kit_step *s = NULL, **g;
	char api[160];
	int idx;

	snprintf(api, sizeof(api), "%s:%s", spec->service ? spec->service : "?",
		 spec->op ? spec->op : "?");
	if (spec->api)
		snprintf(api, sizeof(api), "%s", spec->api);
	if (!rd)
		goto fail;
	/* a quiet step has no line; a quiet write would have no record, unless
	 * the caller keeps a summary line over a batch of them (.batched) */
	if (spec->quiet && spec->kind == RESP_WRITE && !spec->batched)
		goto fail;
	idx = spec->quiet ? -1
	      : spec->notify ? resp_step_begin_notify(rd->k->r, spec->step, api, spec->target)
	      : resp_step_begin(rd->k->r, spec->step, api, spec->target, spec->kind);
	if (spec->optional)
		resp_step_optional(rd->k->r, idx);
	s = calloc(1, sizeof(*s));
	if (!s || !spec->service || !spec->op)
		goto fail_line;
	s->rd = rd;
	s->idx = idx;
	s->kind = spec->kind;
	s->svc = strdup(spec->service);
	s->opname = strdup(spec->op);
	s->api = strdup(api);
	s->already = dup_or_null(spec->already);
	s->absent = dup_or_null(spec->absent);
	s->detail = dup_or_null(spec->detail);
	s->already_detail = dup_or_null(spec->already_detail);
	s->bucket = dup_or_null(spec->bucket);
	s->key = dup_or_null(spec->key);
	s->body = spec->body;
	s->body_len = spec->body_len;
	s->headers = spec->headers;
	s->nheaders = spec->nheaders;
	s->in = spec->in;
	s->restore = spec->restore;
	s->client = spec->client;
	s->found = 1;
	s->status = RESP_FAILED;
	if (spec->paging) {
		s->paging = *spec->paging;
		s->paged = 1;
		if (s->paging.max_pages <= 0)
			s->paging.max_pages = KIT_DEFAULT_PAGES;
		if (!s->paging.token)
			s->paging.token = s->paging.next;
	}
	if (spec->cloudtrail) {
		const struct ct_query *q = spec->cloudtrail;

		s->ct = &ct_ops;
		s->ct_defer = spec->ct_defer;
		s->ct_no_error = spec->ct_no_error;
		s->q = *q;
		s->q_key = dup_or_null(q->attr_key);
		s->q_value = dup_or_null(q->attr_value);
		s->q_account = dup_or_null(q->account);
		s->q.attr_key = s->q_key;
		s->q.attr_value = s->q_value;
		s->q.account = s->q_account;
		if ((q->attr_key && !s->q_key) || (q->attr_value && !s->q_value) ||
		    (q->account && !s->q_account))
			goto fail_owned;
		if (strcmp(spec->service, "cloudtrail") || strcmp(spec->op, "LookupEvents")) {
			step_free(s);
			resp_step_end(rd->k->r, idx, RESP_FAILED, "a cloudtrail step is cloudtrail:LookupEvents",
				      NULL);
			return NULL;
		}
	}
	s->items = cJSON_CreateArray();
	if (!s->svc || !s->opname || !s->api || !s->items ||
	    (spec->already && !s->already) || (spec->absent && !s->absent) ||
	    (spec->detail && !s->detail) || (spec->already_detail && !s->already_detail) ||
	    (spec->bucket && !s->bucket) || (spec->key && !s->key))
		goto fail_owned;
	g = buf_grow_array(rd->steps, rd->n, &rd->cap, sizeof(*g), 8);
	if (!g)
		goto fail_owned;
	rd->steps = g;
	rd->steps[rd->n++] = s;
	if (s->kind == RESP_WRITE && rd->k->r->dry_run && !spec->notify) {
		s->status = RESP_PLANNED;  /* resp_step_begin ended the line */
		s->ran = 1;
	}
	return s;

fail_owned:
	/* s owns in/restore now: step_free releases them */
	step_free(s);
	resp_step_end(rd->k->r, idx, RESP_FAILED, "cannot declare the step (out of memory)", NULL);
	return NULL;
fail_line:
	free(s);
	resp_step_end(rd->k->r, idx, RESP_FAILED, "cannot declare the step (out of memory)", NULL);
fail:
	cJSON_Delete(spec->in);
	cJSON_Delete(spec->restore);
	return NULL;
}

/* A step settled by a decision, not by a call: no call is made and a
 * skipped or already step has nothing to undo. */
static void settle(struct kit_step *s, enum resp_status st, const char *why)
{
	s->ran = 1;
	s->status = st;
	if (st != RESP_FAILED) {
		cJSON_Delete(s->restore);
		s->restore = NULL;
	}
	resp_step_end(s->rd->k->r, s->idx, st, why, NULL);
}

void kit_skip(struct kit_step *s, const char *fmt, ...)
{
	char why[600];

	if (!s)
		return;
	RESP_FORMAT(why, fmt);
	settle(s, RESP_SKIPPED, why);
}

void kit_already(struct kit_step *s, const char *fmt, ...)
{
	char why[600];

	if (!s)
		return;
	RESP_FORMAT(why, fmt);
	settle(s, RESP_ALREADY, why);
}

void kit_decide(struct kit *k, const struct kit_spec *spec, enum resp_status st, const char *fmt, ...)
{
	struct kit_round *rd = kit_round_new(k);
	struct kit_step *s = kit_add(rd, spec);
	char why[600];

	if (s && !(spec->kind == RESP_WRITE && k->r->dry_run)) {
		RESP_FORMAT(why, fmt);
		settle(s, st, why);
	}
	kit_round_free(rd);
}

/* The part of an answer the responder reads: query answers keep their
 * <Op>Result wrapper (aws.h); the kit looks inside it. */
static const cJSON *answer_of(const struct kit_step *s)
{
	char wrap[160];
	const cJSON *w;

	if (!s->out)
		return NULL;
	snprintf(wrap, sizeof(wrap), "%sResult", s->opname);
	w = cJSON_GetObjectItemCaseSensitive(s->out, wrap);
	return cJSON_IsObject(w) ? w : s->out;
}

/* Sets the paging token in the step's input for the next page. */
static enum fb_err set_token(struct kit_step *s, const char *token)
{
	cJSON *v;

	if (!s->in && !(s->in = cJSON_CreateObject()))
		return FB_E_NOMEM;
	v = cJSON_CreateString(token);
	if (!v)
		return FB_E_NOMEM;
	if (cJSON_GetObjectItemCaseSensitive(s->in, s->paging.token))
		cJSON_ReplaceItemInObjectCaseSensitive(s->in, s->paging.token, v);
	else
		cJSON_AddItemToObject(s->in, s->paging.token, v);
	return FB_OK;
}

/* After a successful page: move its list members into s->items; returns
 * 1 when another page should be fetched. An empty list comes back from
 * XML as "" (no member elements): nothing to add. */
static int take_page(struct kit_step *s)
{
	/* no .items: the reader (.on_page) takes each page itself */
	cJSON *list = s->paging.items ? (cJSON *)resp_get(answer_of(s), s->paging.items) : NULL;
	const char *next = resp_get_str(answer_of(s), s->paging.next);
	const char *prev = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s->in, s->paging.token));
	const char *more;
	cJSON *it;

	s->pages++;
	while (cJSON_IsArray(list) && (it = cJSON_DetachItemFromArray(list, 0)))
		cJSON_AddItemToArray(s->items, it);
	if (cJSON_IsObject(list) && (it = cJSON_Duplicate(list, 1)))
		cJSON_AddItemToArray(s->items, it); /* not expected: a single member */
	if (s->paging.truncated) {
		more = resp_get_str(answer_of(s), s->paging.truncated);
		if (!more || strcmp(more, "true")) {
			const cJSON *b = resp_get(answer_of(s), s->paging.truncated);

			if (!cJSON_IsTrue(b))
				return 0;
		}
	}
	/* No token, or the same token again (CloudWatch Logs answers its last
	 * token at the end): the list is complete. */
	if (!next || !*next || (prev && !strcmp(prev, next)))
		return 0;
	return 1;
}

static void step_report(struct kit_step *s, const struct aws_call *c)
{
	struct resp *r = s->rd->k->r;
	char d[700];

	if (c->rc == FB_OK) {
		s->status = RESP_DONE;
		if (s->paged && !s->detail) {
			snprintf(d, sizeof(d), "%d item%s in %d page%s%s", cJSON_GetArraySize(s->items),
				 cJSON_GetArraySize(s->items) == 1 ? "" : "s", s->pages, s->pages == 1 ? "" : "s",
				 s->complete ? "" : " (incomplete: page cap reached)");
			resp_step_from_call(r, s->idx, c, d);
		} else if (s->paged && !s->complete) {
			snprintf(d, sizeof(d), "%s (incomplete: %d pages, the cap)", s->detail, s->pages);
			resp_step_from_call(r, s->idx, c, d);
		} else {
			resp_step_from_call(r, s->idx, c, s->detail);
		}
		return;
	}
	if (code_in(s->already, c->err.code)) {
		s->status = RESP_ALREADY;
		snprintf(d, sizeof(d), "already: %s", c->err.code);
		resp_step_end(r, s->idx, RESP_ALREADY, s->already_detail ? s->already_detail : d, NULL);
		return;
	}
	if (code_in(s->absent, c->err.code)) {
		s->status = RESP_DONE;
		s->found = 0;
		snprintf(d, sizeof(d), "not found (%s)", c->err.code);
		resp_step_end(r, s->idx, RESP_DONE, d, NULL);
		return;
	}
	s->status = RESP_FAILED;
	s->complete = 0;
	resp_step_from_call(r, s->idx, c, NULL);
}

static void call_fill(struct aws_call *c, const char *service, const char *op, struct kit_step *s)
{
	memset(c, 0, sizeof(*c));
	c->service = service;
	c->op = op;
	c->in = s->in;
	c->client = s->client;
	c->bucket = s->bucket;
	c->key = s->key;
	c->body = s->body;
	c->body_len = s->body_len;
	c->headers = s->headers;
	c->nheaders = s->nheaders;
}

enum fb_err kit_run(struct kit_round *rd)
{
	struct kit_step **live = NULL;
	struct aws_call *calls = NULL;
	enum fb_err first = FB_OK;
	size_t i, n;

	if (!rd)
		return FB_E_NOMEM;
	/* Restore entries first, in declaration order, before any call:
	 * "every write records its undo first" (RESPONDERS.md). A planned
	 * write's undo is part of the plan. */
	for (i = 0; i < rd->n; i++) {
		struct kit_step *s = rd->steps[i];

		/* to be sent, or planned: not settled by a decision (kit_fail) */
		if (s->kind == RESP_WRITE && s->restore && (!s->ran || s->status == RESP_PLANNED)) {
			resp_restore_add(rd->k->r, s->restore);
			s->restore = NULL;
		}
	}
	live = calloc(rd->n ? rd->n : 1, sizeof(*live));
	calls = calloc(rd->n ? rd->n : 1, sizeof(*calls));
	if (!live || !calls) {
		first = FB_E_NOMEM;
		for (i = 0; i < rd->n; i++)
			if (!rd->steps[i]->ran) {
				rd->steps[i]->ran = 1;
				resp_step_end(rd->k->r, rd->steps[i]->idx, RESP_FAILED, "not run: out of memory", NULL);
			}
		goto out;
	}
	for (n = 0, i = 0; i < rd->n; i++) {
		struct kit_step *s = rd->steps[i];

		if (s->ran)
			continue;
		/* CloudTrail page 1: the pager's limiter slot first */
		if (s->ct && !s->ct->start(s)) {
			s->ran = 1;
			resp_step_end(rd->k->r, s->idx, RESP_FAILED, "not run: out of memory", NULL);
			if (first == FB_OK && (s->idx < 0 || rd->k->r->steps[s->idx].required))
				first = FB_E_NOMEM;
			continue;
		}
		live[n++] = s;
	}
	/* Page after page: every step with another page goes into the next
	 * batch, so paged reads advance concurrently with one another. */
	while (n) {
		size_t m = 0;

		for (i = 0; i < n; i++) {
			if (live[i]->ct) {
				calls[i] = live[i]->ct_call; /* ct_lookup_input filled it */
				calls[i].client = live[i]->client;
			} else {
				call_fill(&calls[i], live[i]->svc, live[i]->opname, live[i]);
			}
		}
		aws_call_run_all(rd->k->aws, calls, n);
		for (i = 0; i < n; i++) {
			struct kit_step *s = live[i];
			struct aws_call *c = &calls[i];
			int more = 0;

			if (s->ct) {
				/* page 1 read: the pager takes over (now, or deferred) */
				s->ct_call = *c;
				c->out = NULL;
				s->ran = 1;
				s->ct_state = 1;
				if (!s->ct_defer)
					s->ct->finish(s);
				if (s->ct_state == 2 && s->status == RESP_FAILED && first == FB_OK &&
				    (s->idx < 0 || rd->k->r->steps[s->idx].required))
					first = s->ct_rc ? s->ct_rc : FB_E_AWS;
				continue;
			}
			if (!s->first_started_ms)
				s->first_started_ms = c->started_ms;
			cJSON_Delete(s->out);
			s->out = c->out;
			c->out = NULL;
			s->err = c->err;
			if (c->rc == FB_OK) {
				if (s->paged) {
					more = take_page(s);
					if (s->paging.on_page &&
					    !s->paging.on_page(s->paging.arg, answer_of(s), more))
						more = 0; /* the reader stopped: complete stays 0 */
					else if (more && s->pages >= s->paging.max_pages)
						more = 0; /* the cap: complete stays 0 */
					else if (!more)
						s->complete = 1;
					if (more) {
						const char *next = resp_get_str(answer_of(s), s->paging.next);

						if (set_token(s, next) != FB_OK) {
							c->rc = FB_E_NOMEM;
							more = 0;
						}
					}
				} else {
					s->complete = 1;
				}
			}
			if (more) {
				live[m++] = s;
				continue;
			}
			s->ran = 1;
			/* timings across pages: from the first page's start */
			if (s->first_started_ms && c->started_ms) {
				c->elapsed_ms += c->started_ms - s->first_started_ms;
				c->started_ms = s->first_started_ms;
			}
			step_report(s, c);
			if (s->status == RESP_FAILED && first == FB_OK &&
			    (s->idx < 0 || rd->k->r->steps[s->idx].required))
				first = c->rc ? c->rc : FB_E_AWS;
		}
		n = m;
	}
out:
	free(live);
	free(calls);
	return first;
}

void kit_round_free(struct kit_round *rd)
{
	size_t i;

	if (!rd)
		return;
	for (i = 0; i < rd->n; i++) {
		struct kit_step *s = rd->steps[i];

		if (!s->ran)
			resp_step_end(rd->k->r, s->idx, RESP_FAILED, "not run", NULL);
		else if (s->ct_state == 1) /* deferred, never continued */
			resp_step_from_call(rd->k->r, s->idx, &s->ct_call, "first page (not needed)");
		step_free(s);
	}
	free(rd->steps);
	free(rd);
}

enum resp_status kit_status(const struct kit_step *s)
{
	return s ? s->status : RESP_FAILED;
}

int kit_ok(const struct kit_step *s)
{
	return s && (s->status == RESP_DONE || s->status == RESP_ALREADY);
}

const cJSON *kit_out(const struct kit_step *s)
{
	return s && s->status != RESP_FAILED ? answer_of(s) : NULL;
}

const cJSON *kit_items(const struct kit_step *s)
{
	if (s && s->ct_state == 2 && s->ct_res.events)
		return s->ct_res.events;
	return s ? s->items : NULL;
}

int kit_complete(const struct kit_step *s)
{
	return s && s->complete;
}

int kit_pages(const struct kit_step *s)
{
	return s ? s->pages : 0;
}

cJSON *kit_take_items(struct kit_step *s)
{
	cJSON *items, *empty;

	if (!s || !(empty = cJSON_CreateArray()))
		return NULL;
	items = s->items;
	s->items = empty;
	return items;
}

int kit_found(const struct kit_step *s)
{
	return s ? s->found : 0;
}

const struct aws_error *kit_err(const struct kit_step *s)
{
	static const struct aws_error none;

	return s ? &s->err : &none;
}

int kit_index(const struct kit_step *s)
{
	return s ? s->idx : -1;
}

void kit_detail(struct kit_step *s, const char *fmt, ...)
{
	char d[700];

	if (!s)
		return;
	RESP_FORMAT(d, fmt);
	resp_step_detail(s->rd->k->r, s->idx, d);
}

void kit_fail(struct kit_step *s, const char *fmt, ...)
{
	char why[600];

	if (!s)
		return;
	RESP_FORMAT(why, fmt);
	settle(s, RESP_FAILED, why);
}

void kit_set_optional(struct kit_step *s)
{
	if (s)
		resp_step_optional(s->rd->k->r, s->idx);
}

/* ---- CloudTrail steps ------------------------------------------------------------ */

static int ct_step_start(struct kit_step *s)
{
	struct aws_client *c = s->client ? s->client : s->rd->k->aws;

	memset(&s->ct_call, 0, sizeof(s->ct_call));
	s->ct_in = ct_lookup_input(c, &s->q, &s->ct_call);
	return s->ct_in != NULL;
}

/* Retries page 1 when needed, reads on, ends the line (kit.h). */
static enum fb_err ct_step_finish(struct kit_step *s)
{
	struct aws_client *c = s->client ? s->client : s->rd->k->aws;
	const struct ct_result *res = &s->ct_res;
	char d[700];

	s->ct_rc = ct_lookup_continue(c, &s->q, s->ct_in, &s->ct_call, &s->ct_res);
	s->ct_state = 2;
	aws_call_cleanup(&s->ct_call);
	s->status = s->ct_rc == FB_OK ? RESP_DONE : RESP_FAILED;
	s->complete = res->complete;
	s->err = res->err;
	snprintf(d, sizeof(d), "%s%s%zu events%s%s", s->detail ? s->detail : "", s->detail ? ": " : "",
		 res->nevents, res->complete ? "" : "; incomplete: ", res->complete ? "" : res->why);
	resp_step_end(s->rd->k->r, s->idx, s->status, d,
		      s->ct_rc == FB_OK || !res->err.code[0] || s->ct_no_error ? NULL : &res->err);
	return s->ct_rc;
}

static const struct kit_ct_ops ct_ops = { ct_step_start, ct_step_finish };

enum fb_err kit_ct_continue(struct kit_step *s)
{
	if (!s || !s->ct || !s->ct_state)
		return FB_E_INVALID;
	if (s->ct_state == 1)
		return s->ct->finish(s);
	return s->ct_rc;
}

const struct ct_result *kit_ct_result(const struct kit_step *s)
{
	return s && s->ct && s->ct_state == 2 ? &s->ct_res : NULL;
}

enum fb_err kit_prov_history(struct kit *k, const struct kit_prov_read *pr, struct prov_history *h)
{
	static const struct ct_result none;
	struct kit_round *rd = kit_round_new(k);
	struct kit_step *s;
	struct ct_query q;
	enum fb_err rc;

	prov_history_query(&q, pr->arn, 0, pr->deadline_ms, pr->account);
	s = kit_add(rd, &(struct kit_spec){ .step = pr->step, .service = "cloudtrail", .op = "LookupEvents",
		.target = pr->arn, .kind = RESP_READ, .optional = 1, .cloudtrail = &q, .ct_no_error = 1,
		.client = pr->client });
	kit_run(rd);
	rc = kit_ct_continue(s);
	rc = prov_history_from_ct(h, 0, rc, kit_ct_result(s) ? kit_ct_result(s) : &none);
	kit_detail(s, "%d events%s%s", cJSON_GetArraySize(h->events),
		   h->complete ? (pr->complete_note ? pr->complete_note : "") : "; incomplete: ",
		   h->complete ? "" : h->why);
	kit_round_free(rd);
	return rc;
}

/* ---- own account, partition, clients ------------------------------------------- */

const char *kit_own_account(struct kit *k)
{
	return acct_own_account(k->r, k->aws);
}

const char *kit_caller_arn(struct kit *k)
{
	return acct_caller_arn(k->r, k->aws);
}

const char *kit_partition(const struct kit *k)
{
	return aws_client_partition(k->aws);
}

struct aws_client *kit_client(struct kit *k, const char *account, const char *region,
			      const char *step, struct aws_error *err)
{
	struct kit_client_entry *e;
	struct aws_error local;
	struct aws_client *c = NULL;
	int owned = 0;
	enum fb_err rc;

	if (!err)
		err = &local;
	memset(err, 0, sizeof(*err));
	account = account ? account : "";
	region = region ? region : "";
	for (e = k->clients; e; e = e->next)
		if (!strcmp(e->account, account) && !strcmp(e->region, region))
			return e->c;
	rc = acct_client_for(k->r, k->aws, *account ? account : NULL, *region ? region : NULL,
			     &c, &owned, err);
	if (rc == FB_OK && (strlen(account) >= sizeof(e->account) || strlen(region) >= sizeof(e->region)))
		rc = FB_E_INVALID; /* acct_client_for checked the syntax: not reached */
	if (rc == FB_OK) {
		e = calloc(1, sizeof(*e));
		if (e) {
			snprintf(e->account, sizeof(e->account), "%s", account);
			snprintf(e->region, sizeof(e->region), "%s", region);
			e->c = c;
			e->owned = owned;
			e->next = k->clients;
			k->clients = e;
			return c;
		}
		rc = FB_E_NOMEM;
	}
	if (owned)
		aws_client_free(c);
	if (!err->message[0])
		snprintf(err->message, sizeof(err->message), "%s", fb_strerror(rc));
	if (step) {
		int i = resp_step_begin(k->r, step, "sts:AssumeRole", *account ? account : "(own account)",
					RESP_READ);

		resp_step_end(k->r, i, RESP_FAILED, err->message, err);
	}
	return NULL;
}

/* ---- session revocation ---------------------------------------------------------- */

int kit_role_name(const char *arn, char *out, size_t outlen, int *service_linked)
{
	const char *f[6], *p = arn, *name;
	char acct[13];
	size_t n, i;

	*service_linked = 0;
	if (!arn || strlen(arn) > 2048)
		return 0;
	/* arn:partition:iam::account:role/[path/]name: six fields */
	for (i = 0; i < 6; i++) {
		f[i] = p;
		if (i < 5 && !(p = strchr(p, ':')))
			return 0;
		p++;
	}
	if (strncmp(f[0], "arn:", 4) || f[2] + 4 != f[3] || strncmp(f[2], "iam:", 4) ||
	    f[3] + 1 != f[4] || f[5] - f[4] != 13)
		return 0;
	memcpy(acct, f[4], 12);
	acct[12] = '\0';
	if (!resp_account_id_ok(acct) || strncmp(f[5], "role/", 5))
		return 0;
	name = strrchr(f[5], '/') + 1;
	n = strlen(name);
	/* IAM role names: [\w+=,.@-]{1,64} */
	if (!n || n > 64 || n >= outlen || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
						      "0123456789_+=,.@-") != n)
		return 0;
	*service_linked = !strncmp(f[5], "role/aws-service-role/", 22);
	memcpy(out, name, n + 1);
	return 1;
}

void kit_url_decode(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '%' && s[1] && s[2] && strchr("0123456789abcdefABCDEF", s[1]) &&
		    strchr("0123456789abcdefABCDEF", s[2])) {
			char hex[3] = { s[1], s[2], 0 };

			*w++ = (char)strtol(hex, NULL, 16);
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/* "*" or ["*"] */
static int is_star(const cJSON *v)
{
	if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 1)
		v = v->child;
	return cJSON_IsString(v) && !strcmp(v->valuestring, "*");
}

/* The statement's cut, 0 when it is not exactly a revocation statement:
 * Effect Deny, Action "*", Resource "*", Condition {DateLessThan:
 * {aws:TokenIssueTime: T}} and nothing else but a Sid. */
static int64_t statement_cut(const cJSON *st)
{
	const cJSON *m, *cond, *dlt, *t;
	int64_t ms;

	if (!cJSON_IsObject(st))
		return 0;
	cJSON_ArrayForEach(m, st)
		if (!m->string || (strcmp(m->string, "Sid") && strcmp(m->string, "Effect") &&
				   strcmp(m->string, "Action") && strcmp(m->string, "Resource") &&
				   strcmp(m->string, "Condition")))
			return 0;
	if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "Effect")) ?
		   cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "Effect")) : "", "Deny") ||
	    !is_star(cJSON_GetObjectItemCaseSensitive(st, "Action")) ||
	    !is_star(cJSON_GetObjectItemCaseSensitive(st, "Resource")))
		return 0;
	cond = cJSON_GetObjectItemCaseSensitive(st, "Condition");
	if (!cJSON_IsObject(cond) || cJSON_GetArraySize(cond) != 1)
		return 0;
	dlt = cJSON_GetObjectItemCaseSensitive(cond, "DateLessThan");
	if (!cJSON_IsObject(dlt) || cJSON_GetArraySize(dlt) != 1 || !dlt->child->string ||
	    strcasecmp(dlt->child->string, "aws:TokenIssueTime"))
		return 0;
	t = dlt->child;
	if (cJSON_IsArray(t) && cJSON_GetArraySize(t) == 1)
		t = t->child;
	if (!cJSON_IsString(t))
		return 0;
	ms = resp_parse_time_ms(t->valuestring);
	return ms > 0 ? ms : 0;
}

int64_t kit_revocation_cut_ms(const char *doc)
{
	cJSON *j = doc ? cJSON_Parse(doc) : NULL;
	const cJSON *sts, *st;
	int64_t best = 0;

	sts = cJSON_GetObjectItemCaseSensitive(j, "Statement");
	if (cJSON_IsObject(sts)) {
		best = statement_cut(sts);
	} else if (cJSON_IsArray(sts)) {
		cJSON_ArrayForEach(st, sts) {
			int64_t c = statement_cut(st);

			if (c > best)
				best = c;
		}
	}
	cJSON_Delete(j);
	return best;
}

char *kit_revocation_policy(int64_t cut_ms)
{
	char t[RESP_TIME_LEN], *out;
	static const char fmt[] =
		"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"*\","
		"\"Resource\":\"*\",\"Condition\":{\"DateLessThan\":{\"aws:TokenIssueTime\":\"%s\"}}}]}";
	size_t n;

	resp_format_time_ms(cut_ms, t);
	n = sizeof(fmt) + strlen(t);
	out = malloc(n);
	if (out)
		snprintf(out, n, fmt, t);
	return out;
}

static cJSON *role_policy_in(const char *role, const char *doc)
{
	cJSON *in = cJSON_CreateObject();

	if (!in || !cJSON_AddStringToObject(in, "RoleName", role) ||
	    !cJSON_AddStringToObject(in, "PolicyName", KIT_REVOKE_POLICY_NAME) ||
	    (doc && !cJSON_AddStringToObject(in, "PolicyDocument", doc))) {
		cJSON_Delete(in);
		return NULL;
	}
	return in;
}

enum resp_status kit_revoke_sessions(struct kit *k, const struct kit_revoke *rv)
{
	const char *step = rv->step ? rv->step : "revoke-sessions";
	char role[80], t[RESP_TIME_LEN], *prior = NULL, *doc = NULL;
	struct kit_round *rd = NULL;
	struct kit_step *rs, *ws;
	enum resp_status st = RESP_FAILED;
	int64_t now = k->now_ms(), want = rv->not_before_ms, have = 0;
	int slr = 0, i;
	cJSON *undo;

	if (!kit_role_name(rv->role_arn, role, sizeof(role), &slr) || slr) {
		i = resp_step_begin(k->r, step, "iam:PutRolePolicy", rv->role_arn, RESP_WRITE);
		if (rv->optional)
			resp_step_optional(k->r, i);
		st = slr ? RESP_SKIPPED : RESP_FAILED;
		resp_step_end(k->r, i, st, slr ? "a service-linked role: AWS does not allow revoking its sessions"
				  : "not a role ARN: no session revoked", NULL);
		return st;
	}
	if (want > now || want <= 0)
		want = now; /* a revocation can only cover sessions issued so far */

	/* Round 1: the policy as it is. */
	rd = kit_round_new(k);
	rs = kit_add(rd, &(struct kit_spec){ .step = "read-revocation-policy", .service = "iam",
		.op = "GetRolePolicy", .target = rv->role_arn, .kind = RESP_READ,
		.in = role_policy_in(role, NULL), .absent = "NoSuchEntity", .optional = rv->optional,
		.client = rv->client });
	kit_run(rd);
	if (!kit_ok(rs)) {
		i = resp_step_begin(k->r, step, "iam:PutRolePolicy", rv->role_arn, RESP_WRITE);
		if (rv->optional)
			resp_step_optional(k->r, i);
		/* failed under dry run too: this write would not be made */
		resp_step_end(k->r, i, RESP_FAILED, "not written: the existing " KIT_REVOKE_POLICY_NAME
			      " policy cannot be read, so its undo cannot be recorded", NULL);
		st = RESP_FAILED;
		goto out;
	}
	if (kit_found(rs)) {
		const char *d = resp_get_str(kit_out(rs), "PolicyDocument");

		prior = d ? strdup(d) : NULL;
		if (prior) {
			kit_url_decode(prior);
			have = kit_revocation_cut_ms(prior);
		}
		if (have) {
			resp_format_time_ms(have, t);
			kit_detail(rs, KIT_REVOKE_POLICY_NAME " denies sessions issued before %s", t);
		} else {
			kit_detail(rs, KIT_REVOKE_POLICY_NAME " exists without a revocation statement");
		}
	} else {
		kit_detail(rs, "no " KIT_REVOKE_POLICY_NAME " policy yet");
	}

	/* Round 2: the decision, then the write. */
	kit_round_free(rd);
	rd = kit_round_new(k);
	doc = kit_revocation_policy(now);
	if (prior)
		undo = kit_undo("iam:PutRolePolicy", role_policy_in(role, prior));
	else
		undo = kit_undo("iam:DeleteRolePolicy", role_policy_in(role, NULL));
	resp_format_time_ms(now, t);
	{
		char detail[160];

		snprintf(detail, sizeof(detail), "sessions issued before %s denied", t);
		ws = kit_add(rd, &(struct kit_spec){ .step = step, .service = "iam", .op = "PutRolePolicy",
			.target = rv->role_arn, .kind = RESP_WRITE, .optional = rv->optional,
			.in = doc ? role_policy_in(role, doc) : NULL, .restore = undo, .detail = detail,
			.client = rv->client });
	}
	if (have && have >= want) {
		resp_format_time_ms(have, t);
		kit_already(ws, "sessions issued before %s already denied", t);
		st = RESP_ALREADY;
		goto out;
	}
	if (!doc) {
		kit_fail(ws, "out of memory");
		goto out;
	}
	kit_run(rd);
	st = kit_status(ws);
out:
	kit_round_free(rd);
	free(prior);
	free(doc);
	return st;
}

/* ---- settings, network ranges, the not-a-trigger result ---------------------
 * (includes kept with the section they serve: the rest of the file does
 * not need them) */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>

#include "log.h"

/* A number setting in lo..hi: 1 with *out set (left alone when unset or
 * ""), 0 when it is set and not such a number. An integer is decimal and
 * fits a long (strtol's ERANGE refused); a real is anything strtod reads
 * in full but NaN and the infinities. */
static int kit_env_number(const char *name, int integer, double lo, double hi, double *out)
{
	const char *s = getenv(name);
	char *end = NULL;
	double d;

	if (!s || !*s)
		return 1;
	errno = 0;
	d = integer ? (double)strtol(s, &end, 10) : strtod(s, &end);
	if ((integer && errno) || end == s || *end != '\0' || !isfinite(d) || d < lo || d > hi)
		return 0;
	*out = d;
	return 1;
}

enum fb_err kit_env_int(const char *name, int def, int lo, int hi, int *out,
			char *err, size_t errlen)
{
	double d = def;

	*out = def;
	if (!kit_env_number(name, 1, lo, hi, &d)) {
		snprintf(err, errlen, "setting '%s' must be an integer in %d..%d", name, lo, hi);
		return FB_E_CONFIG;
	}
	*out = (int)d;
	return FB_OK;
}

enum fb_err kit_env_severity(const char *name, double def, double *out,
			     char *err, size_t errlen)
{
	*out = def;
	if (!kit_env_number(name, 0, 0, 10, out)) {
		snprintf(err, errlen, "setting '%s' must be a number from 0 to 10", name);
		return FB_E_CONFIG;
	}
	return FB_OK;
}

int kit_list_next(const char **p, char *item, size_t cap)
{
	while (**p) {
		const char *s = *p, *e = s + strcspn(s, ",");
		size_t n;

		*p = *e ? e + 1 : e;
		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (e == s)
			continue;
		n = (size_t)(e - s);
		if (n >= cap) {
			snprintf(item, cap, "%.*s", (int)(cap - 1), s);
			return -1;
		}
		memcpy(item, s, n);
		item[n] = '\0';
		return 1;
	}
	return 0;
}

/* IPv4 octets are decimal without leading zeros: "010" is 8 to some
 * parsers (inet_aton, octal) and 10 to others, so it is refused rather than
 * guessed (glibc's inet_pton refuses it too; this does not rely on that).
 * `host` is an address; only its dotted part (after the last ':') counts. */
static int octets_ok(const char *host)
{
	const char *p = strrchr(host, ':');

	p = p ? p + 1 : host;
	if (!strchr(p, '.'))
		return 1;
	for (; *p; p++)
		if (*p == '0' && isdigit((unsigned char)p[1]) && (p == host || p[-1] == '.' || p[-1] == ':'))
			return 0;
	return 1;
}

int kit_cidr_parse(const char *s, struct kit_cidr *out)
{
	char host[64];
	const char *slash;
	size_t hl;

	if (!s || !out)
		return -1;
	memset(out, 0, sizeof(*out));
	slash = strchr(s, '/');
	hl = slash ? (size_t)(slash - s) : strlen(s);
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (!octets_ok(host))
		return -1;
	if (inet_pton(AF_INET, host, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, host, out->addr) == 1)
		out->family = AF_INET6;
	else
		return -1;
	out->prefix = out->family == AF_INET ? 32 : 128;
	if (slash) {
		const char *p = slash + 1;
		size_t nd = strspn(p, "0123456789");
		int n = 0;

		/* 1..3 digits, no leading zero ("/08" is not "/8" everywhere) */
		if (nd == 0 || nd > 3 || p[nd] != '\0' || (p[0] == '0' && nd > 1))
			return -1;
		for (; *p; p++)
			n = n * 10 + (*p - '0');
		if (n > out->prefix)
			return -1;
		out->prefix = n;
	}
	return 0;
}

enum fb_err kit_cidrs_parse(const char *list, const char *setting, struct kit_cidr *out,
			    size_t cap, size_t *n, char *err, size_t errlen)
{
	char item[80];
	int got;

	*n = 0;
	while (list && (got = kit_list_next(&list, item, sizeof(item))) != 0) {
		if (got < 0) {
			snprintf(err, errlen, "cannot parse '%s': item too long", setting);
			return FB_E_CONFIG;
		}
		if (*n == cap) {
			snprintf(err, errlen, "'%s' has more than %zu items", setting, cap);
			return FB_E_CONFIG;
		}
		if (kit_cidr_parse(item, &out[*n]) != 0) {
			snprintf(err, errlen, "cannot parse '%s' item '%s'", setting, item);
			return FB_E_CONFIG;
		}
		(*n)++;
	}
	return FB_OK;
}

static int prefix_match(const unsigned char *a, const unsigned char *net, int prefix)
{
	int full = prefix / 8, rest = prefix % 8;
	unsigned char mask;

	if (memcmp(a, net, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xFFu << (8 - rest));
	return (a[full] & mask) == (net[full] & mask);
}

int kit_cidr_contains(const struct kit_cidr *range, const struct kit_cidr *a)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (!range || !a)
		return 0;
	if (range->family == a->family)
		return a->prefix >= range->prefix && prefix_match(a->addr, range->addr, range->prefix);
	/* an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is its IPv4 address */
	return range->family == AF_INET && a->family == AF_INET6 && !memcmp(a->addr, mapped, 12) &&
	       a->prefix - 96 >= range->prefix && prefix_match(a->addr + 12, range->addr, range->prefix);
}

enum kit_ip kit_ip_in(const struct kit_cidr *ranges, size_t n, const char *ip)
{
	struct kit_cidr a;

	if (!ip || strchr(ip, '/') || kit_cidr_parse(ip, &a) != 0)
		return KIT_IP_NOT_AN_IP;
	for (size_t i = 0; i < n; i++)
		if (kit_cidr_contains(&ranges[i], &a))
			return KIT_IP_IN;
	return KIT_IP_OUT;
}

int kit_json_long(const cJSON *v, long *out)
{
	/* range-checked: an out-of-range double -> long conversion is UB */
	if (cJSON_IsNumber(v)) {
		if (!(v->valuedouble > -9.2e18 && v->valuedouble < 9.2e18))
			return -1;
		*out = (long)v->valuedouble;
		return 0;
	}
	if (cJSON_IsString(v) && v->valuestring[0]) {
		char *end = NULL;
		long n;

		errno = 0;
		n = strtol(v->valuestring, &end, 10);
		if (errno || *end != '\0')
			return -1;
		*out = n;
		return 0;
	}
	return -1;
}

enum kit_event kit_event_envelope(const cJSON *ev, const char **src, const char **dt,
				  char *why, size_t whylen)
{
	const cJSON *s, *d;

	*src = *dt = NULL;
	if (!cJSON_IsObject(ev)) {
		snprintf(why, whylen, "event is not a JSON object");
		return KIT_EVENT_INVALID;
	}
	s = cJSON_GetObjectItemCaseSensitive(ev, "source");
	d = cJSON_GetObjectItemCaseSensitive(ev, "detail-type");
	if (!s && !d)
		return KIT_EVENT_MANUAL;
	if (!cJSON_IsString(s) || !cJSON_IsString(d)) {
		snprintf(why, whylen, "fields 'source' and 'detail-type' must be strings");
		return KIT_EVENT_INVALID;
	}
	*src = s->valuestring;
	*dt = d->valuestring;
	return KIT_EVENT_BRIDGE;
}

static int gd_bad(char *why, size_t whylen, const char *msg)
{
	snprintf(why, whylen, "%s", msg);
	return -1;
}

int kit_guardduty_finding(const cJSON *ev, struct kit_gd_finding *f, char *why, size_t whylen)
{
	const cJSON *it;

	memset(f, 0, sizeof(*f));
	f->detail = cJSON_GetObjectItemCaseSensitive(ev, "detail");
	if (!cJSON_IsObject(f->detail))
		return gd_bad(why, whylen, "missing object 'detail'");
	it = cJSON_GetObjectItemCaseSensitive(f->detail, "severity");
	if (!cJSON_IsNumber(it))
		return gd_bad(why, whylen, "field 'detail.severity' must be a number");
	f->severity = it->valuedouble;
	it = cJSON_GetObjectItemCaseSensitive(f->detail, "id");
	if (it && !cJSON_IsString(it))
		return gd_bad(why, whylen, "field 'detail.id' must be a string");
	f->id = it ? it->valuestring : "";
	it = cJSON_GetObjectItemCaseSensitive(f->detail, "type");
	if (it && !cJSON_IsString(it))
		return gd_bad(why, whylen, "field 'detail.type' must be a string");
	f->type = it ? it->valuestring : "";
	f->resource = cJSON_GetObjectItemCaseSensitive(f->detail, "resource");
	if (!cJSON_IsObject(f->resource))
		return gd_bad(why, whylen, "missing object 'detail.resource'");
	return 0;
}

int kit_severity_below(double severity, double min, char *why, size_t whylen)
{
	if (!(severity < min))
		return 0;
	snprintf(why, whylen, "severity %.1f below FIREBREAK_MIN_SEVERITY %.1f", severity, min);
	return 1;
}

cJSON *kit_finding(struct resp *r, const char *id, const char *type, double severity,
		 const char *resource)
{
	cJSON *f;

	if (id[0]) {
		char key[800];

		snprintf(key, sizeof(key), "guardduty:%s:%s", id, resource);
		resp_set_incident(r, key);
	}
	/* issue 24: the finding is updated with the outcome (outlet.h) */
	r->finding_hook = outlet_finding_update;
	f = cJSON_AddObjectToObject(r->extra, "finding");
	cJSON_AddStringToObject(f, "id", id);
	cJSON_AddStringToObject(f, "type", type);
	cJSON_AddNumberToObject(f, "severity", severity);
	return f;
}

enum fb_err kit_skip_result(struct resp_config *cfg, const char *function, const cJSON *ev,
			    const struct lr_context *ctx, const char *why, struct lr_result *out)
{
	struct resp r;
	cJSON *rep;
	char *txt;
	enum fb_err rc = resp_begin(&r, cfg, function, ctx);

	if (rc != FB_OK)
		return rc;
	resp_trigger_from_event(&r, ev);
	resp_set_severity(&r, "P3");
	resp_skip(&r, "%s", why);
	rep = resp_report_json(&r);
	txt = rep ? cJSON_PrintUnformatted(rep) : NULL;
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

void kit_end(struct kit_step *s, enum resp_status st, const struct aws_error *err, const char *fmt, ...)
{
	char d[700];

	if (!s)
		return;
	RESP_FORMAT(d, fmt);
	if (!s->ran && st != RESP_FAILED) {
		cJSON_Delete(s->restore); /* not made: nothing to undo */
		s->restore = NULL;
	}
	s->ran = 1;
	s->status = st;
	resp_step_end(s->rd->k->r, s->idx, st, d, err);
}

static void map_walk(const cJSON *node, void (*fn)(void *, const char *, const cJSON *), void *ctx,
		     int depth)
{
	const cJSON *c;

	if (!node || depth > 4)
		return;
	if (cJSON_IsObject(node)) {
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(node, "key");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(node, "value");

		if (k && v) {
			if (cJSON_IsString(k))
				fn(ctx, k->valuestring, v);
			return;
		}
	}
	for (c = node->child; c; c = c->next) {
		if (cJSON_IsObject(c) || cJSON_IsArray(c))
			map_walk(c, fn, ctx, depth + 1);
		else if (c->string)
			fn(ctx, c->string, c);
	}
}

void kit_map_each(const cJSON *map, void (*fn)(void *ctx, const char *key, const cJSON *value),
		  void *ctx)
{
	map_walk(map, fn, ctx, 0);
}

/* ---- issue 19: WAFv2 IP set read-modify-write (kit.h) ------------------------- */

static cJSON *ipset_id_in(const struct kit_ipset *u)
{
	cJSON *in = cJSON_CreateObject();

	if (!in)
		return NULL;
	cJSON_AddStringToObject(in, "Name", u->name ? u->name : "");
	cJSON_AddStringToObject(in, "Scope", u->scope ? u->scope : "");
	cJSON_AddStringToObject(in, "Id", u->id ? u->id : "");
	return in;
}

enum resp_status kit_ipset_update(struct kit *k, const struct kit_ipset *u)
{
	const char *rstep = u->read_step ? u->read_step : "read-ipset";
	const char *wstep = u->step ? u->step : "update-ipset";
	int max = u->max_attempts > 0 ? u->max_attempts : KIT_IPSET_ATTEMPTS, attempt;
	cJSON *restore = u->restore;
	enum resp_status st = RESP_FAILED;

	for (attempt = 1; attempt <= max; attempt++) {
		struct kit_round *rd = kit_round_new(k), *wr = NULL;
		struct kit_step *rs, *ws;
		const cJSON *set, *addrs;
		const char *token, *desc;
		cJSON *in = NULL, *list = NULL;
		char why[400] = "";
		int c, i;

		rs = kit_add(rd, &(struct kit_spec){ .step = rstep, .service = "wafv2", .op = "GetIPSet",
			.target = u->target, .kind = RESP_READ, .in = ipset_id_in(u), .optional = u->optional,
			.client = u->client });
		kit_run(rd);
		set = resp_get(kit_out(rs), "IPSet");
		addrs = resp_get(set, "Addresses");
		token = resp_get_str(kit_out(rs), "LockToken");
		if (kit_ok(rs) && (!cJSON_IsArray(addrs) || !token || !*token))
			kit_fail(rs, "the answer has no IPSet.Addresses or LockToken");
		if (!kit_ok(rs)) {
			i = resp_step_begin(k->r, wstep, "wafv2:UpdateIPSet", u->target, RESP_WRITE);
			if (u->optional)
				resp_step_optional(k->r, i);
			/* failed under dry run too: this write would not be made */
			resp_step_end(k->r, i, RESP_FAILED, "not written: the IP set cannot be read (its "
				      "addresses and lock token are unknown)", NULL);
			kit_round_free(rd);
			st = RESP_FAILED;
			break;
		}
		kit_detail(rs, "%d addresses (%s)", cJSON_GetArraySize(addrs),
			   resp_get_str(set, "IPAddressVersion") ? resp_get_str(set, "IPAddressVersion") : "?");
		c = u->change(set, u->arg, &list, why, sizeof(why));
		in = ipset_id_in(u);
		if (in && c > 0) {
			desc = resp_get_str(set, "Description");
			/* UpdateIPSet replaces the whole set: an omitted Description
			 * would be cleared */
			if (desc && *desc)
				cJSON_AddStringToObject(in, "Description", desc);
			cJSON_AddItemToObject(in, "Addresses", list);
			list = NULL;
			cJSON_AddStringToObject(in, "LockToken", token);
		}
		cJSON_Delete(list);
		wr = kit_round_new(k);
		ws = kit_add(wr, &(struct kit_spec){ .step = wstep, .service = "wafv2", .op = "UpdateIPSet",
			.target = u->target, .kind = RESP_WRITE, .in = in, .restore = restore,
			.detail = u->detail, .optional = u->optional, .client = u->client });
		restore = NULL;    /* recorded once, before the first attempt */
		kit_round_free(rd);
		if (c == 0) {
			kit_already(ws, "%s", why[0] ? why : "no change needed");
			st = RESP_ALREADY;
		} else if (c < 0 || !in) {
			kit_fail(ws, "%s", why[0] ? why : "out of memory");
			st = RESP_FAILED;
		} else {
			kit_run(wr);
			st = kit_status(ws);
			if (st == RESP_FAILED && !strcmp(kit_err(ws)->code, "WAFOptimisticLockException") &&
			    attempt < max) {
				kit_set_optional(ws);
				kit_detail(ws, "attempt %d: lock token stale (the set changed meanwhile): read "
					   "again", attempt);
				kit_round_free(wr);
				continue;
			}
		}
		kit_round_free(wr);
		break;
	}
	cJSON_Delete(restore);
	return st;
}

/* ---- issue 17: the handler's opening --------------------------------------------- */

int kit_begin(struct resp *r, const struct kit_handler *h, const struct lr_context *ctx,
	      const cJSON *ev, struct lr_result *out, enum fb_err *rc)
{
	int64_t deadline_ms = ctx ? ctx->deadline_ms : 0;

	aws_client_set_deadline(h->aws, deadline_ms > 0 ? deadline_ms - h->margin_ms : 0);
	*rc = resp_begin(r, h->cfg, h->function, ctx);
	if (*rc != FB_OK)
		return 0;
	if (resp_trigger_from_event(r, ev) == FB_OK)
		return 1;
	resp_cleanup(r);
	*rc = resp_invalid(out, "envelope fields have the wrong types (or 'dryRun' is not a boolean)");
	return 0;
}

/* ---- issue 17: a tag inherited from several resources ------------------------------ */

int kit_prov_sources(struct kit *k, const struct prov_query *q, const struct kit_tag_source *src,
		     size_t n, const struct kit_prov_read *read, cJSON *list, char *why, size_t whylen)
{
	int honoured = n > 0;
	size_t i;

	why[0] = '\0';
	for (i = 0; i < n && honoured; i++) {
		struct kit_prov_read pr = *read;
		struct prov_query sq = *q;
		struct prov_history h;
		struct prov_decision d;
		cJSON *e;

		pr.arn = src[i].arn;
		kit_prov_history(k, &pr, &h);
		prov_query_from_history(&sq, &h);
		prov_decide(h.events, &sq, &d);
		e = prov_report_json(q->tag_key, q->tag_value, &d);
		cJSON_AddStringToObject(e, "source", src[i].what);
		cJSON_AddStringToObject(e, "resource", src[i].arn);
		cJSON_AddItemToArray(list, e);
		if (d.verdict != PROV_HONOURED) {
			honoured = 0;
			snprintf(why, whylen, "%s (%s)", d.reason, src[i].what);
		} else if (!why[0]) {
			snprintf(why, whylen, "%s", d.reason);
		}
		prov_history_cleanup(&h);
	}
	return honoured;
}

/* ---- issue 17: what a GuardDuty finding is about ----------------------------------- */

int kit_gd_ecs_task(const struct kit_gd_finding *f, const char **cluster, const char **task,
		    char *why, size_t whylen)
{
	const char *rtype = resp_get_str(f->resource, "resourceType");
	const cJSON *ecs = cJSON_GetObjectItemCaseSensitive(f->resource, "ecsClusterDetails"), *td;

	if (ecs && !cJSON_IsObject(ecs))
		return gd_bad(why, whylen, "field 'detail.resource.ecsClusterDetails' must be an object");
	td = ecs ? cJSON_GetObjectItemCaseSensitive(ecs, "taskDetails") : NULL;
	if (td && !cJSON_IsObject(td))
		return gd_bad(why, whylen, "field 'detail.resource.ecsClusterDetails.taskDetails' must be an object");
	if (!td || (rtype && strcmp(rtype, "ECSCluster"))) {
		snprintf(why, whylen, "finding is not about an ECS task (resourceType '%.40s')", rtype ? rtype : "");
		return 1;
	}
	*task = resp_get_str(td, "arn");
	*cluster = resp_get_str(ecs, "arn") ? resp_get_str(ecs, "arn") : resp_get_str(ecs, "name");
	if (!*task || !*cluster)
		return gd_bad(why, whylen, "missing field 'ecsClusterDetails.arn' or 'taskDetails.arn'");
	return 0;
}

int kit_gd_instance(const struct kit_gd_finding *f, const char **instance, char *why, size_t whylen)
{
	const char *rtype = resp_get_str(f->resource, "resourceType");
	const cJSON *det;

	if (!rtype || strcmp(rtype, "Instance")) {
		snprintf(why, whylen, "finding is not about an EC2 instance (resourceType '%.40s')", rtype ? rtype : "");
		return 1;
	}
	det = cJSON_GetObjectItemCaseSensitive(f->resource, "instanceDetails");
	if (!cJSON_IsObject(det))
		return gd_bad(why, whylen, "missing object 'detail.resource.instanceDetails'");
	*instance = resp_get_str(det, "instanceId");
	if (!*instance)
		return gd_bad(why, whylen, "missing string 'detail.resource.instanceDetails.instanceId'");
	return 0;
}

void kit_gd_reason(char *out, size_t outlen, const char *type, double severity)
{
	snprintf(out, outlen, "GuardDuty %s severity %.1f", type[0] ? type : "finding", severity);
}

/* ---- issue 17: a two-valued setting ------------------------------------------------ */

enum fb_err kit_env_choice(const char *name, const char *off, const char *on, int *out,
			   char *err, size_t errlen)
{
	const char *v = getenv(name);

	*out = v && *v && strcmp(v, off);
	if (*out && strcmp(v, on)) {
		snprintf(err, errlen, "setting '%s' must be %s or %s", name, off, on);
		return FB_E_CONFIG;
	}
	return FB_OK;
}

/* ---- issue 17: small inputs, a refused write's undo ------------------------------- */

/* "<k>": "<v>" pairs from ap up to KIT_END onto o, a null value left
 * out: 0 when one could not be added (out of memory; the rest are not). */
static int kit_strs_v(cJSON *o, const char *k1, va_list ap)
{
	const char *k, *v;

	for (k = k1; k; k = va_arg(ap, const char *)) {
		v = va_arg(ap, const char *);
		if (v && !cJSON_AddStringToObject(o, k, v))
			return 0;
	}
	return 1;
}

cJSON *kit_obj(const char *k1, ...)
{
	cJSON *o = cJSON_CreateObject();
	va_list ap;

	va_start(ap, k1);
	if (o && !kit_strs_v(o, k1, ap)) {
		cJSON_Delete(o);
		o = NULL;
	}
	va_end(ap);
	return o;
}

void kit_undo_drop(struct kit *k)
{
	int n = cJSON_GetArraySize(k->r->restore);

	if (n > 0)
		cJSON_DeleteItemFromArray(k->r->restore, n - 1);
}

/* ---- issue 17: where an event happened --------------------------------------------- */

const char *kit_event_account(const cJSON *ev)
{
	const char *s = resp_get_str(ev, "detail.accountId");

	return s ? s : resp_get_str(ev, "account");
}

const char *kit_event_region(const cJSON *ev)
{
	const char *s = resp_get_str(ev, "detail.region");

	return s ? s : resp_get_str(ev, "region");
}

int kit_envelope_check(const cJSON *ev, char *why, size_t whylen)
{
	const cJSON *dry = cJSON_GetObjectItemCaseSensitive(ev, "dryRun");
	const cJSON *acct = cJSON_GetObjectItemCaseSensitive(ev, "account");
	const cJSON *reg = cJSON_GetObjectItemCaseSensitive(ev, "region");

	if (dry && !cJSON_IsBool(dry))
		return gd_bad(why, whylen, "field 'dryRun' must be a boolean");
	if (acct && !cJSON_IsNull(acct) && !(cJSON_IsString(acct) && resp_account_id_ok(acct->valuestring)))
		return gd_bad(why, whylen, "field 'account' must be a 12-digit account id");
	if (reg && !cJSON_IsNull(reg) && !(cJSON_IsString(reg) && resp_region_name_ok(reg->valuestring)))
		return gd_bad(why, whylen, "field 'region' must be a region name");
	return 0;
}

struct map_find {
	const char *key;
	const cJSON *found;
};

static void map_find_entry(void *ctx, const char *key, const cJSON *value)
{
	struct map_find *m = ctx;

	if (!strcmp(key, m->key))
		m->found = value;
}

const cJSON *kit_map_get(const cJSON *map, const char *key)
{
	struct map_find m = { key, NULL };

	kit_map_each(map, map_find_entry, &m);
	return m.found;
}

/* ---- issue 17: borrowed credentials -------------------------------------------- */

enum fb_err kit_caller_with(const struct aws_client_options *creds, int64_t deadline_ms, char *arn,
			    size_t arnlen, struct aws_error *e)
{
	struct aws_client *cl = NULL;
	cJSON *out = NULL;
	char err[200];
	const char *a;
	enum fb_err rc = aws_client_new_opts(&cl, creds, err, sizeof(err));

	arn[0] = '\0';
	if (rc != FB_OK) {
		snprintf(e->message, sizeof(e->message), "%s", err);
		return rc;
	}
	if (deadline_ms)
		aws_client_set_deadline(cl, deadline_ms);
	rc = aws_do(cl, "sts", "GetCallerIdentity", NULL, &out, e);
	/* a query answer: <Op>Result, or the whole <Op>Response */
	a = resp_get_str(out, "GetCallerIdentityResult.Arn");
	if (!a)
		a = resp_get_str(out, "GetCallerIdentityResponse.GetCallerIdentityResult.Arn");
	if (rc == FB_OK)
		buf_copy_str(arn, arnlen, a);
	cJSON_Delete(out);
	aws_client_free(cl); /* wipes its copy of the secret */
	return rc;
}

/* ---- issue 24 s2 (w3-rst2) ------------------------------------------------------------------ */

cJSON *kit_round_undo_plan(const struct kit_round *rd)
{
	cJSON *out = cJSON_CreateArray();
	size_t i;

	for (i = 0; out && rd && i < rd->n; i++) {
		const struct kit_step *s = rd->steps[i];

		/* kit_run's condition for recording an undo */
		if (s->kind == RESP_WRITE && s->restore && (!s->ran || s->status == RESP_PLANNED))
			cJSON_AddItemToArray(out, cJSON_Duplicate(s->restore, 1));
	}
	return out;
}

/* ---- w4-dinit: a revocation's undo, planned before it runs ------------------------ */

cJSON *kit_revoke_undo(const char *role, const char *prior)
{
	char *doc = prior ? strdup(prior) : NULL;
	cJSON *undo;

	if (prior && !doc)
		return NULL;
	if (doc)
		kit_url_decode(doc);
	undo = kit_undo(doc ? "iam:PutRolePolicy" : "iam:DeleteRolePolicy", role_policy_in(role, doc));
	free(doc);
	return undo;
}

/* ---- w4-kc-lr: a lenient flag, a member-account line, a quiet result ------------- */

int kit_env_flag(const char *name, int dflt)
{
	const char *v = getenv(name);

	return !v || !*v ? dflt : resp_flag_word(v) == 1;
}

void kit_member_role_arn(const struct kit *k, const char *account, char *out, size_t n)
{
	const char *role = k->r->cfg && k->r->cfg->member_role ? k->r->cfg->member_role : "";

	snprintf(out, n, "arn:%s:iam::%s:role/%s", kit_partition(k), account, role);
}

struct aws_client *kit_member_client(struct kit *k, const char *account, const char *step, int required)
{
	struct aws_client *cl;
	struct aws_error err;
	char role[300], detail[400];
	int i;

	kit_member_role_arn(k, account, role, sizeof(role));
	i = resp_step_begin(k->r, step, "sts:AssumeRole", role, RESP_READ);
	cl = kit_client(k, account, NULL, NULL, &err);
	if (cl == k->aws) {
		/* acct_client_for learned only now that it is our account */
		resp_step_end(k->r, i, RESP_SKIPPED, "our own account: no role needed", NULL);
		resp_step_optional(k->r, i);
	} else if (cl) {
		snprintf(detail, sizeof(detail), "acting in account %s", account);
		resp_step_end(k->r, i, RESP_DONE, detail, NULL);
	} else {
		snprintf(detail, sizeof(detail), "cannot act in account %s: %s", account,
			 k->r->cfg && k->r->cfg->member_role && *k->r->cfg->member_role
			 ? "no session" : "FIREBREAK_MEMBER_ROLE not set");
		resp_step_end(k->r, i, RESP_FAILED, detail, &err);
		if (!required)
			resp_step_optional(k->r, i);
	}
	return cl;
}

void kit_note(struct kit *k, const char *step, const char *api, const char *target, enum resp_kind kind,
	      enum resp_status st, int optional, const char *fmt, ...)
{
	char detail[1400];
	int i = resp_step_begin(k->r, step, api, target, kind);

	RESP_FORMAT(detail, fmt);
	resp_step_end(k->r, i, st, detail, NULL);
	if (optional)
		resp_step_optional(k->r, i);
}

void kit_warn_to(cJSON *warnings, const char *fmt, ...)
{
	char msg[600];

	RESP_FORMAT(msg, fmt);
	if (warnings)
		cJSON_AddItemToArray(warnings, cJSON_CreateString(msg));
}

enum fb_err kit_finish(struct resp *r, struct aws_client *aws, const struct lr_context *ctx,
		       struct lr_result *out)
{
	if (ctx && ctx->deadline_ms)
		aws_client_set_deadline(aws, ctx->deadline_ms - 100);
	return resp_finish(r, aws, out);
}

enum fb_err kit_quiet_result(struct lr_result *out, const char *function, const char *result,
			     const char *fmt, ...)
{
	cJSON *o = cJSON_CreateObject();
	char *txt, detail[600];
	enum fb_err rc;

	RESP_FORMAT(detail, fmt);
	cJSON_AddStringToObject(o, "function", function);
	cJSON_AddStringToObject(o, "result", result);
	cJSON_AddStringToObject(o, "detail", detail);
	txt = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	if (!txt)
		return FB_E_NOMEM;
	log_info("%s: %s", result, detail);
	rc = lr_result_ok(out, txt, strlen(txt));
	cJSON_free(txt);
	return rc;
}

/* ---- w4-kc-kg: a read's deadline, exemptions with provenance, events by name ----- */

int64_t kit_read_deadline(const struct kit *k, int64_t reserve_ms)
{
	int64_t d = k->r && k->r->ctx ? k->r->ctx->deadline_ms : 0;

	return d > 0 ? d - reserve_ms : 0;
}

const char *kit_exemption(struct kit *k, const struct kit_prov_read *read, const struct prov_query *q,
			  const cJSON *tags, const char *const *keys, size_t n, cJSON *out,
			  char *reason, size_t rn)
{
	struct prov_query qq = *q;
	struct prov_history h;
	const char *honoured;
	size_t i;

	for (i = 0; i < n && !prov_tag_true(tags, keys[i]); i++)
		;
	if (i == n)
		return NULL;
	qq.min_age_ms = k->r->cfg->tag_min_age_ms;
	qq.trust = k->r->cfg;
	kit_prov_history(k, read, &h);
	prov_query_from_history(&qq, &h);
	honoured = prov_honoured(h.events, &qq, tags, keys, n, cJSON_AddArrayToObject(out, "exemption_tags"),
				 reason, rn);
	prov_history_cleanup(&h);
	return honoured;
}

cJSON *kit_ct_each(struct kit *k, const char *step, const struct ct_query *q,
		   const char *const *names, size_t n, enum fb_err *rc)
{
	cJSON *found = cJSON_CreateArray();
	const cJSON *e;
	size_t i;

	if (rc)
		*rc = found ? FB_OK : FB_E_NOMEM;
	for (i = 0; found && i < n; i++) {
		struct kit_round *rd = kit_round_new(k);
		struct ct_query qi = *q;
		struct kit_step *s;
		enum fb_err one;
		char what[160];

		qi.attr_value = names[i];
		snprintf(what, sizeof(what), "%s=%s", q->attr_key ? q->attr_key : "", names[i]);
		s = kit_add(rd, &(struct kit_spec){ .step = step, .service = "cloudtrail", .op = "LookupEvents",
			.target = names[i], .kind = RESP_READ, .cloudtrail = &qi, .detail = what });
		one = kit_run(rd);
		if (one != FB_OK && rc && *rc == FB_OK)
			*rc = one;
		cJSON_ArrayForEach(e, kit_items(s)) {
			cJSON_AddItemToArray(found, cJSON_Duplicate(e, 1));
		}
		kit_round_free(rd);
	}
	return found;
}

cJSON *kit_window(cJSON *to, const char *name, int64_t start_ms, int64_t end_ms)
{
	char a[RESP_TIME_LEN], b[RESP_TIME_LEN];
	cJSON *w;

	resp_format_time_ms(start_ms, a);
	resp_format_time_ms(end_ms, b);
	w = kit_obj("start", a, "end", b, KIT_END);
	if (w && !cJSON_AddItemToObject(to, name, w)) {
		cJSON_Delete(w);
		return NULL;
	}
	return w;
}

/* ---- w5-cut-b: string members onto an object, a zeroed array slot ----------------- */

void kit_add_strs(cJSON *o, const char *k1, ...)
{
	va_list ap;

	if (!o)
		return;
	va_start(ap, k1);
	kit_strs_v(o, k1, ap);
	va_end(ap);
}

void *kit_slot(void *arrp, size_t n, size_t *cap, size_t sz, size_t first)
{
	void *v;

	/* arrp is a T **: its pointer read and stored as bytes, whatever T is */
	memcpy(&v, arrp, sizeof(v));
	v = buf_grow_array(v, n, cap, sz, first);
	if (!v)
		return NULL;
	memcpy(arrp, &v, sizeof(v));
	return memset((char *)v + n * sz, 0, sz);
}
