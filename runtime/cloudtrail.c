/*
 * ct: the CloudTrail LookupEvents pager (cloudtrail.h says why and how).
 */
#include "cloudtrail.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "http.h"
#include "resp.h"

/* ---- clock --------------------------------------------------------------------- */

static int64_t ct_wall_now(void *ctx)
{
	(void)ctx;
	return http_now_ms();
}

static void ct_wall_sleep(void *ctx, int64_t ms)
{
	struct timespec ts;

	(void)ctx;
	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0)
		; /* EINTR: sleep the rest */
}

static const struct ct_clock ct_wall_clock = { ct_wall_now, ct_wall_sleep, NULL };

static const struct ct_clock *ct_clock_of(const struct ct_query *q)
{
	return q->clock ? q->clock : &ct_wall_clock;
}

/* ---- the process-wide limiter -------------------------------------------------- */

/* One slot every CT_RATE_INTERVAL_MS per account+Region. A Lambda process
 * serves one account set and a handful of Regions; when the table is full
 * the slot longest in the past is reused (it no longer holds anyone back). */
#define CT_LIMIT_KEYS 32

struct ct_slot {
	char key[96];       /* account "/" region */
	int64_t next_ms;    /* the earliest start of the next request */
};

static struct ct_slot limiter[CT_LIMIT_KEYS];

void ct_limiter_reset(void)
{
	memset(limiter, 0, sizeof(limiter));
}

static struct ct_slot *ct_slot_for(struct aws_client *c, const struct ct_query *q)
{
	char key[96];
	size_t i, oldest = 0;

	snprintf(key, sizeof(key), "%.20s/%.40s", q->account ? q->account : "",
		 aws_client_region(c) ? aws_client_region(c) : "");
	for (i = 0; i < CT_LIMIT_KEYS; i++) {
		if (limiter[i].key[0] && !strcmp(limiter[i].key, key))
			return &limiter[i];
		if (!limiter[i].key[0] || limiter[i].next_ms < limiter[oldest].next_ms)
			oldest = i;
		if (!limiter[i].key[0])
			break;
	}
	if (i == CT_LIMIT_KEYS)
		i = oldest;
	buf_copy_str(limiter[i].key, sizeof(limiter[i].key), key);
	limiter[i].next_ms = 0;
	return &limiter[i];
}

/* Waits for the next slot. Returns 0 when the request may start, -1 when
 * the slot would start after the deadline (nothing waited then). */
static int ct_slot_take(struct ct_slot *sl, const struct ct_query *q, int64_t *waited)
{
	const struct ct_clock *ck = ct_clock_of(q);
	int64_t now = ck->now_ms(ck->ctx);
	int64_t at = sl->next_ms > now ? sl->next_ms : now;

	if (q->deadline_ms && at >= q->deadline_ms)
		return -1;
	if (at > now) {
		ck->sleep_ms(ck->ctx, at - now);
		*waited += at - now;
	}
	sl->next_ms = at + CT_RATE_INTERVAL_MS;
	return 0;
}

/* A throttle answer holds back every lookup on this account+Region. */
static void ct_slot_hold(struct ct_slot *sl, int64_t until_ms)
{
	if (sl->next_ms < until_ms)
		sl->next_ms = until_ms;
}

/* ---- pure parts ---------------------------------------------------------------- */

int64_t ct_backoff_ms(int n, double r)
{
	/* the floor, then full jitter over the rest (aws.h) */
	return CT_BACKOFF_MIN_MS +
	       aws_jitter_ms(CT_BACKOFF_MIN_MS, CT_BACKOFF_MAX_MS - CT_BACKOFF_MIN_MS, n, r);
}

static double ct_rng_next(uint64_t *s)
{
	/* xorshift64*: jitter only needs to decorrelate concurrent responders. */
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

cJSON *ct_input(const struct ct_query *q, const char *next_token)
{
	cJSON *in = cJSON_CreateObject();

	if (!in)
		return NULL;
	if (q->attr_key) {
		cJSON *attrs = cJSON_AddArrayToObject(in, "LookupAttributes");
		cJSON *attr = cJSON_CreateObject();

		if (!attrs || !attr || !cJSON_AddItemToArray(attrs, attr)) {
			cJSON_Delete(attr);
			goto fail;
		}
		if (!cJSON_AddStringToObject(attr, "AttributeKey", q->attr_key) ||
		    !cJSON_AddStringToObject(attr, "AttributeValue", q->attr_value ? q->attr_value : ""))
			goto fail;
	}
	/* awsJson1_1 timestamps are epoch seconds: the start rounds down and
	 * the end up, so the window asked for is inside the window sent. */
	if (q->start_ms && !cJSON_AddNumberToObject(in, "StartTime", (double)(q->start_ms / 1000)))
		goto fail;
	if (q->end_ms && !cJSON_AddNumberToObject(in, "EndTime", (double)((q->end_ms + 999) / 1000)))
		goto fail;
	if (q->max_results > 0 && !cJSON_AddNumberToObject(in, "MaxResults", q->max_results))
		goto fail;
	if (next_token && *next_token && !cJSON_AddStringToObject(in, "NextToken", next_token))
		goto fail;
	return in;
fail:
	cJSON_Delete(in);
	return NULL;
}

const char *ct_stop_name(enum ct_stop s)
{
	switch (s) {
	case CT_STOP_END: return "END";
	case CT_STOP_PAGES: return "PAGES";
	case CT_STOP_EVENTS: return "EVENTS";
	case CT_STOP_CALLER: return "CALLER";
	case CT_STOP_DEADLINE: return "DEADLINE";
	case CT_STOP_ERROR: return "ERROR";
	case CT_STOP_NOMEM: return "NOMEM";
	}
	return "?";
}

cJSON *ct_event_detail(const cJSON *event)
{
	const char *s = resp_get_str(event, "CloudTrailEvent");
	cJSON *out = NULL;
	char why[8];

	if (!s)
		return NULL;
	if (resp_parse_event(s, strlen(s), RESP_MAX_EVENT_BYTES, &out, why, sizeof(why)) != FB_OK)
		return NULL;
	return out;
}

void ct_result_cleanup(struct ct_result *res)
{
	if (!res)
		return;
	cJSON_Delete(res->events);
	res->events = NULL;
}

/* ---- the pager ----------------------------------------------------------------- */

struct ct_pager {
	struct aws_client *c;
	const struct ct_query *q;
	struct ct_result *res;
	struct ct_slot *slot;
	uint64_t rng;
	int max_pages;
};

static void ct_res_reset(struct ct_result *res)
{
	ct_result_cleanup(res);
	memset(res, 0, sizeof(*res));
}

/* Takes one page's answer. Returns 1 when paging goes on (*next set), 0
 * when it ended (res->stop set). */
static int ct_take_page(struct ct_pager *p, const cJSON *page, char *next, size_t nextlen)
{
	struct ct_result *res = p->res;
	const struct ct_query *q = p->q;
	const cJSON *evs = resp_get(page, "Events"), *e;
	const char *tok = resp_get_str(page, "NextToken");

	res->pages++;
	for (e = cJSON_IsArray(evs) ? evs->child : NULL; e; e = e->next) {
		res->nevents++;
		if (q->keep_events) {
			cJSON *d = cJSON_Duplicate(e, 1);

			if (!d || !cJSON_AddItemToArray(res->events, d)) {
				cJSON_Delete(d);
				res->stop = CT_STOP_NOMEM;
				snprintf(res->why, sizeof(res->why), "out of memory");
				return 0;
			}
		}
	}
	if (q->on_page && q->on_page(q->page_ctx, page)) {
		res->stop = CT_STOP_CALLER;
		snprintf(res->why, sizeof(res->why), "stopped by the caller after page %zu", res->pages);
		return 0;
	}
	if (!tok || !*tok) {
		res->stop = CT_STOP_END;
		res->complete = 1;
		return 0;
	}
	if (strlen(tok) >= nextlen) {
		res->stop = CT_STOP_ERROR;
		snprintf(res->why, sizeof(res->why), "page %zu: NextToken longer than %zu bytes",
			 res->pages, nextlen - 1);
		return 0;
	}
	if ((int)res->pages >= p->max_pages) {
		res->stop = CT_STOP_PAGES;
		snprintf(res->why, sizeof(res->why),
			 "page cap %d reached with %zu events; more events exist", p->max_pages,
			 res->nevents);
		return 0;
	}
	if (q->max_events && res->nevents >= q->max_events) {
		res->stop = CT_STOP_EVENTS;
		snprintf(res->why, sizeof(res->why),
			 "event cap %zu reached after %zu pages; more events exist", q->max_events,
			 res->pages);
		return 0;
	}
	buf_copy_str(next, nextlen, tok);
	return 1;
}

static void ct_note_failure(struct ct_result *res, enum ct_stop stop, int page, int attempts,
			 enum fb_err rc, const struct aws_error *err, const char *how)
{
	res->stop = stop;
	res->err = *err;
	snprintf(res->why, sizeof(res->why), "page %d: %.60s%s%.100s after %d attempt%s%s%s", page,
		 err->code[0] ? err->code : fb_strerror(rc), err->message[0] ? " " : "",
		 err->message, attempts, attempts == 1 ? "" : "s", how ? ", " : "", how ? how : "");
}

static enum aws_retry_class ct_classify(const struct aws_call *done)
{
	if (done->err.http_status)
		return aws_retry_classify(done->err.http_status, done->err.code);
	/* No HTTP answer: a reset or a timed-out attempt is worth another. */
	if (done->rc == FB_E_IO || done->rc == FB_E_TIMEOUT)
		return AWS_RETRY_TRANSIENT;
	return AWS_RETRY_NO;
}

/* Reads page `page` (input `in`), retrying as cloudtrail.h says. `first`,
 * when not NULL, is this page's first attempt, already made. Returns 1 with
 * the answer in *out (caller frees), or 0 with res->stop set. */
static int ct_read_page(struct ct_pager *p, int page, const cJSON *in, const struct aws_call *first,
		     cJSON **out)
{
	struct ct_result *res = p->res;
	const struct ct_query *q = p->q;
	const struct ct_clock *ck = ct_clock_of(q);
	struct aws_call call;
	struct aws_error last;
	enum fb_err last_rc = FB_OK;
	int attempts = 0, nthrottle = 0, ntransient = 0, max_transient, ok = 0;

	max_transient = aws_client_max_attempts(p->c);
	if (max_transient < 1)
		max_transient = 1;
	memset(&call, 0, sizeof(call));
	memset(&last, 0, sizeof(last));
	for (;;) {
		const struct aws_call *done;
		enum aws_retry_class cls;
		int64_t until;

		if (first && attempts == 0) {
			done = first;
		} else {
			aws_call_cleanup(&call);
			memset(&call, 0, sizeof(call));
			call.service = "cloudtrail";
			call.op = "LookupEvents";
			call.in = in;
			call.max_attempts = 1;
			if (ct_slot_take(p->slot, q, &res->waited_ms) != 0) {
				if (attempts == 0) {
					res->stop = CT_STOP_DEADLINE;
					snprintf(res->why, sizeof(res->why),
						 "page %d: deadline reached before it could be requested", page);
				} else {
					ct_note_failure(res, CT_STOP_DEADLINE, page, attempts, last_rc, &last,
						     "deadline reached");
				}
				break;
			}
			aws_call_run(p->c, &call);
			res->requests++;
			done = &call;
		}
		attempts++;
		if (done->rc == FB_OK) {
			*out = done == &call ? call.out : cJSON_Duplicate(done->out, 1);
			if (done == &call)
				call.out = NULL;
			if (!*out) {
				res->stop = CT_STOP_NOMEM;
				snprintf(res->why, sizeof(res->why), "out of memory");
				break;
			}
			ok = 1;
			break;
		}
		last = done->err;
		last_rc = done->rc;
		cls = ct_classify(done);
		if (cls == AWS_RETRY_THROTTLE) {
			res->throttled++;
			nthrottle++;
		} else if (cls == AWS_RETRY_TRANSIENT) {
			ntransient++;
		}
		if (cls == AWS_RETRY_NO || (cls == AWS_RETRY_TRANSIENT && ntransient >= max_transient) ||
		    (cls == AWS_RETRY_THROTTLE && !q->deadline_ms &&
		     nthrottle >= CT_NO_DEADLINE_THROTTLE_ATTEMPTS)) {
			ct_note_failure(res, CT_STOP_ERROR, page, attempts, last_rc, &last,
				     cls == AWS_RETRY_NO ? NULL : "retries spent");
			break;
		}
		until = ck->now_ms(ck->ctx) +
			ct_backoff_ms(cls == AWS_RETRY_THROTTLE ? nthrottle : ntransient, ct_rng_next(&p->rng));
		if (q->deadline_ms && until >= q->deadline_ms) {
			ct_note_failure(res, CT_STOP_DEADLINE, page, attempts, last_rc, &last,
				     "the next retry would start past the deadline");
			break;
		}
		/* The backoff holds this account+Region for every lookup. */
		ct_slot_hold(p->slot, until);
	}
	aws_call_cleanup(&call);
	return ok;
}

static enum fb_err ct_rc_of(const struct ct_result *res)
{
	switch (res->stop) {
	case CT_STOP_END:
	case CT_STOP_PAGES:
	case CT_STOP_EVENTS:
	case CT_STOP_CALLER:
		return FB_OK;
	case CT_STOP_DEADLINE:
		return FB_E_TIMEOUT;
	case CT_STOP_NOMEM:
		return FB_E_NOMEM;
	case CT_STOP_ERROR:
		break;
	}
	return FB_E_AWS;
}

static enum fb_err ct_run(struct aws_client *c, const struct ct_query *q, const cJSON *in1,
		       const struct aws_call *first, struct ct_result *res)
{
	struct ct_pager p;
	char next[CT_MAX_TOKEN];
	int page = 1;
	const struct ct_clock *ck = ct_clock_of(q);

	ct_res_reset(res);
	memset(&p, 0, sizeof(p));
	p.c = c;
	p.q = q;
	p.res = res;
	p.slot = ct_slot_for(c, q);
	p.rng = q->jitter_seed ? q->jitter_seed : (uint64_t)ck->now_ms(ck->ctx) * 2654435761u + 1;
	p.max_pages = q->max_pages > 0 ? q->max_pages : CT_DEFAULT_MAX_PAGES;
	if (q->keep_events && !(res->events = cJSON_CreateArray())) {
		res->stop = CT_STOP_NOMEM;
		snprintf(res->why, sizeof(res->why), "out of memory");
		return FB_E_NOMEM;
	}
	if (first) /* 0 when the round reached the deadline before trying */
		res->requests += first->err.attempts;
	next[0] = '\0';
	for (;;) {
		cJSON *in = page == 1 && in1 ? NULL : ct_input(q, page == 1 ? NULL : next);
		cJSON *out = NULL;
		int go;

		if (!in && !(page == 1 && in1)) {
			res->stop = CT_STOP_NOMEM;
			snprintf(res->why, sizeof(res->why), "out of memory");
			break;
		}
		go = ct_read_page(&p, page, in ? in : in1, page == 1 ? first : NULL, &out);
		cJSON_Delete(in);
		if (!go)
			break;
		go = ct_take_page(&p, out, next, sizeof(next));
		cJSON_Delete(out);
		if (!go)
			break;
		page++;
	}
	return ct_rc_of(res);
}

enum fb_err ct_lookup(struct aws_client *c, const struct ct_query *q, struct ct_result *res)
{
	return ct_run(c, q, NULL, NULL, res);
}

cJSON *ct_lookup_input(struct aws_client *c, const struct ct_query *q, struct aws_call *call)
{
	cJSON *in = ct_input(q, NULL);
	int64_t waited = 0;

	if (!in)
		return NULL;
	call->service = "cloudtrail";
	call->op = "LookupEvents";
	call->in = in;
	call->max_attempts = 1;
	/* Past the deadline the round still runs the call: aws.c's own
	 * deadline check ends it without an attempt. */
	(void)ct_slot_take(ct_slot_for(c, q), q, &waited);
	return in;
}

enum fb_err ct_lookup_continue(struct aws_client *c, const struct ct_query *q, const cJSON *in,
			       const struct aws_call *call, struct ct_result *res)
{
	return ct_run(c, q, in, call, res);
}

/* ---- issue 17: one CloudTrail record ------------------------------------------ */

static enum ct_mfa record_mfa(const cJSON *rec)
{
	const char *s = resp_get_str(rec, "additionalEventData.MFAUsed");

	if (s && !strcasecmp(s, "yes"))
		return CT_MFA_YES;
	if (s && !strcasecmp(s, "no"))
		return CT_MFA_NO;
	s = resp_get_str(rec, "userIdentity.sessionContext.attributes.mfaAuthenticated");
	if (s && !strcasecmp(s, "true"))
		return CT_MFA_YES;
	if (s && !strcasecmp(s, "false"))
		return CT_MFA_NO;
	return CT_MFA_UNKNOWN;
}

enum fb_err ct_record_parse(const cJSON *rec, struct ct_record *r)
{
	const struct { const char *path; const char **out; } f[] = {
		{ "eventName", &r->event_name }, { "eventSource", &r->event_source },
		{ "eventID", &r->event_id }, { "eventTime", &r->event_time },
		{ "awsRegion", &r->aws_region }, { "recipientAccountId", &r->recipient_account },
		{ "userIdentity.type", &r->identity_type }, { "userIdentity.arn", &r->actor_arn },
		{ "userIdentity.accountId", &r->actor_account }, { "sourceIPAddress", &r->source_ip },
		{ "userAgent", &r->user_agent }, { "errorCode", &r->error_code },
		{ "errorMessage", &r->error_message },
	};
	enum fb_err rc = cJSON_IsObject(rec) ? FB_OK : FB_E_INVALID;
	size_t i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (!resp_opt_str(rec, f[i].path, f[i].out)) {
			*f[i].out = NULL;
			rc = FB_E_INVALID;
		}
	if (r->error_code && !*r->error_code)
		r->error_code = NULL;
	if (r->error_message && !*r->error_message)
		r->error_message = NULL;
	r->time_ms = resp_parse_time_ms(r->event_time);
	r->mfa = record_mfa(rec);
	return rc;
}

/* ---- CloudTrail records ---------------------------------------------------------------- */

static int str_member(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) && v->valuestring;
}

/* AKIA or ASIA and 16 of base32's [A-Z2-7]: 20 characters. */
static int record_key_id(const char *s, size_t len)
{
	size_t i;

	if (len != 20 || (strncmp(s, "AKIA", 4) && strncmp(s, "ASIA", 4)))
		return 0;
	for (i = 4; i < 20; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '2' && s[i] <= '7')))
			return 0;
	return 1;
}

/* Collects the key ids of every member named "accessKeyId"; 0 when a member
 * named secretAccessKey (any case) holds a value. */
static int ct_walk(const cJSON *j, char (*ids)[21], size_t max, size_t *nids, int depth)
{
	const cJSON *c;

	if (depth > 64)
		return 0;
	cJSON_ArrayForEach(c, j) {
		if (c->string && cJSON_IsString(c) && c->valuestring) {
			size_t len = strlen(c->valuestring);

			if (!strcasecmp(c->string, "secretAccessKey") && len >= 40)
				return 0;
			if (!strcmp(c->string, "accessKeyId") && record_key_id(c->valuestring, len) && *nids < max) {
				size_t k;
				int dup = 0;

				for (k = 0; k < *nids; k++)
					dup |= !strcmp(ids[k], c->valuestring);
				if (!dup)
					memcpy(ids[(*nids)++], c->valuestring, 21);
			}
		}
		if ((cJSON_IsObject(c) || cJSON_IsArray(c)) && !ct_walk(c, ids, max, nids, depth + 1))
			return 0;
	}
	return 1;
}

int ct_record_key_ids(const cJSON *rec, char (*ids)[21], size_t max, size_t *nids)
{
	const char *ev = resp_get_str(rec, "eventSource");
	size_t evn = ev ? strlen(ev) : 0;
	int ok;

	*nids = 0;
	ok = cJSON_IsObject(rec) &&
	     str_member(rec, "eventVersion") && !strncmp(resp_get_str(rec, "eventVersion"), "1.", 2) &&
	     cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(rec, "userIdentity")) &&
	     evn > 14 && !strcmp(ev + evn - 14, ".amazonaws.com") &&
	     str_member(rec, "eventName") && str_member(rec, "eventTime") && str_member(rec, "eventID") &&
	     str_member(rec, "awsRegion") && ct_walk(rec, ids, max, nids, 0);
	if (!ok)
		*nids = 0;
	return ok;
}

/* ---- w4-kc-rv: one record's facts, copied (root, sign-in, sts:AssumeRoot) ---- */

static int ct_truthy(const cJSON *v)
{
	if (cJSON_IsTrue(v))
		return 1;
	return cJSON_IsString(v) && strcasecmp(v->valuestring, "true") == 0;
}

/* Centralized root access (sts:AssumeRoot). What AWS documents, in the IAM
 * User Guide page "Track privileged tasks in AWS CloudTrail"
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/cloudtrail-track-privileged-tasks.html),
 * is the AssumeRoot call's own record, in the calling (management or
 * delegated administrator) account:
 *   eventSource "sts.amazonaws.com", eventName "AssumeRoot";
 *   userIdentity: the caller (type "AssumedRole", arn the session ARN,
 *     sessionContext.sessionIssuer.arn the role ARN), with
 *     sessionContext.assumedRoot "true" (a string);
 *   requestParameters.targetPrincipal: the member account id;
 *   requestParameters.taskPolicyArn.arn: the root-task policy
 *     ("arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy");
 *   responseElements.credentials.accessKeyId: the root session's key.
 * That record names who got root where, so it alone decides "trusted".
 *
 * For the root session's own records in the member account (type "Root")
 * the page shows no sample; the only marker taken is the same
 * sessionContext.assumedRoot "true". Its issuer is taken from
 * sessionContext.sessionIssuer.arn when that is recorded (not confirmed by
 * a published sample); otherwise the issuer is unknown and the session is
 * not "expected". userIdentity.inScopeOf is NOT a marker: CloudTrail uses
 * it for credentials an AWS service issued in the scope of a resource
 * (sourceArn, sourceAccount, issuerType, credentialsIssuedTo; e.g. a
 * Lambda function's), not for AssumeRoot. */
static void ct_centralized_from(const cJSON *rec, struct ct_facts *r)
{
	const cJSON *ui = cJSON_GetObjectItemCaseSensitive(rec, "userIdentity");
	const char *issuer = resp_get_str(ui, "sessionContext.sessionIssuer.arn");

	if (r->assume_root) {
		r->centralized = 1;
		/* the caller: its role when it is a role session (the pattern
		 * form FIREBREAK_TRUSTED_PRINCIPALS uses), else its own ARN */
		buf_copy_str(r->issuer_arn, sizeof(r->issuer_arn), issuer && *issuer ? issuer : r->actor_arn);
		buf_copy_str(r->target_principal, sizeof(r->target_principal),
			resp_get_str(rec, "requestParameters.targetPrincipal"));
		buf_copy_str(r->task_policy_arn, sizeof(r->task_policy_arn),
			resp_get_str(rec, "requestParameters.taskPolicyArn.arn"));
		return;
	}
	r->centralized = r->is_root && ct_truthy(resp_get(ui, "sessionContext.assumedRoot"));
	if (r->centralized && issuer)
		buf_copy_str(r->issuer_arn, sizeof(r->issuer_arn), issuer);
}

enum fb_err ct_facts_parse(const cJSON *rec, struct ct_facts *r)
{
	struct ct_record c;

	memset(r, 0, sizeof(*r));
	ct_record_parse(rec, &c);   /* a field of another type reads as absent */
	if (!c.identity_type || !c.event_name)
		return FB_E_INVALID;
	buf_copy_str(r->identity_type, sizeof(r->identity_type), c.identity_type);
	buf_copy_str(r->event_name, sizeof(r->event_name), c.event_name);
	buf_copy_str(r->event_source, sizeof(r->event_source), c.event_source);
	buf_copy_str(r->event_id, sizeof(r->event_id), c.event_id);
	buf_copy_str(r->event_time, sizeof(r->event_time), c.event_time);
	buf_copy_str(r->source_ip, sizeof(r->source_ip), c.source_ip);
	buf_copy_str(r->user_agent, sizeof(r->user_agent), c.user_agent);
	buf_copy_str(r->actor_arn, sizeof(r->actor_arn), c.actor_arn);
	r->is_root = strcmp(c.identity_type, "Root") == 0;
	r->assume_root = !r->is_root && strcmp(c.event_name, "AssumeRoot") == 0 &&
			 (!r->event_source[0] || strcmp(r->event_source, "sts.amazonaws.com") == 0);
	r->is_signin_source = strcmp(r->event_source, "signin.amazonaws.com") == 0;
	r->is_console_login = strcmp(c.event_name, "ConsoleLogin") == 0;

	const char *login = resp_get_str(rec, "responseElements.ConsoleLogin");
	if (login && strcasecmp(login, "Failure") == 0)
		r->failed = 1;
	if (c.error_code || c.error_message) {
		r->failed = 1;
		snprintf(r->error, sizeof(r->error), "%s%s%s", c.error_code ? c.error_code : "",
			 c.error_code && c.error_message ? ": " : "", c.error_message ? c.error_message : "");
	}
	r->mfa = c.mfa;
	if (r->is_root || r->assume_root)
		ct_centralized_from(rec, r);
	r->time_ms = c.time_ms;
	return FB_OK;
}

enum fb_err ct_event_facts(const cJSON *event, struct ct_facts *f)
{
	cJSON *rec = ct_event_detail(event);
	enum fb_err rc = rec && ct_facts_parse(rec, f) == FB_OK ? FB_OK : FB_E_PARSE;

	cJSON_Delete(rec);
	if (rc != FB_OK) {
		memset(f, 0, sizeof(*f));
		buf_copy_str(f->event_name, sizeof(f->event_name), resp_get_str(event, "EventName"));
		buf_copy_str(f->event_id, sizeof(f->event_id), resp_get_str(event, "EventId"));
	}
	return rc;
}
