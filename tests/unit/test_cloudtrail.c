/*
 * test_cloudtrail: the LookupEvents pager over a fake CloudTrail on a
 * virtual clock.
 *
 * The fake transport answers LookupEvents like CloudTrail does: pages
 * chained by NextToken ("p2", "p3", ...), and, when `quota` is on, the
 * documented rate limit of 2 requests per second per account and Region
 * (a third request inside any 1000 ms answers 400 ThrottlingException).
 * A script can override answers one by one (errors, forced throttling).
 * The pager's clock is the fake's: sleeping moves virtual time, so backoff
 * and deadlines are checked exactly, without sleeping.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "cloudtrail.h"
#include "http.h"

#define T0_MS 1704067200000LL /* 2024-01-01T00:00:00Z */
#define MAXLOG 256

struct fake_answer {
	int64_t delay_ms;
	long status;        /* 0: not scripted, CloudTrail answers */
	const char *body;
};

struct flight {
	struct http_exchange *x;
	int64_t done_at;
	long status;
	char body[512];
};

struct fake {
	int64_t now;
	int pages;                      /* pages in the window */
	int events_per_page;
	int quota;                      /* model 2 req/s */
	struct fake_answer script[MAXLOG]; /* by request index */
	size_t nscript;
	int64_t at[MAXLOG];             /* when each request arrived */
	char body[MAXLOG][512];         /* each request's body */
	size_t nlog;
	int nthrottled;
	struct flight fl[16];
	size_t nfl;
};

static struct fake F;

static const char *THROTTLE =
	"{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}";

/* The page a request asks for: 1, or N from NextToken "pN". */
static int page_of(const char *body)
{
	const char *t = strstr(body, "\"NextToken\":\"p");

	return t ? atoi(t + strlen("\"NextToken\":\"p")) : 1;
}

static void cloudtrail_answer(struct fake *f, size_t idx, struct flight *fl)
{
	int page = page_of(f->body[idx]), n = 0;
	size_t i, len = 0;

	if (f->quota) {
		for (i = 0; i < idx; i++)
			if (f->at[i] > f->at[idx] - 1000)
				n++;
		if (n >= 2) {
			f->nthrottled++;
			fl->status = 400;
			snprintf(fl->body, sizeof(fl->body), "%s", THROTTLE);
			return;
		}
	}
	fl->status = 200;
	len += (size_t)snprintf(fl->body + len, sizeof(fl->body) - len, "{\"Events\":[");
	for (i = 0; i < (size_t)f->events_per_page; i++)
		len += (size_t)snprintf(fl->body + len, sizeof(fl->body) - len,
					"%s{\"EventId\":\"e%d-%zu\",\"CloudTrailEvent\":"
					"\"{\\\"eventName\\\":\\\"ConsoleLogin\\\"}\"}",
					i ? "," : "", page, i);
	if (page < f->pages)
		snprintf(fl->body + len, sizeof(fl->body) - len, "],\"NextToken\":\"p%d\"}", page + 1);
	else
		snprintf(fl->body + len, sizeof(fl->body) - len, "]}");
}

static enum fb_err fake_start(void *ctx, struct http_exchange *x)
{
	struct fake *f = ctx;
	size_t idx = f->nlog < MAXLOG ? f->nlog++ : MAXLOG - 1;
	struct flight *fl = &f->fl[f->nfl++];
	int64_t delay = 20;

	assert_true(f->nfl <= 16);
	f->at[idx] = f->now;
	snprintf(f->body[idx], sizeof(f->body[idx]), "%.*s", (int)x->req.body_len,
		 x->req.body ? (const char *)x->req.body : "");
	http_response_init(&x->resp, x->req.max_response);
	fl->x = x;
	if (idx < f->nscript && f->script[idx].status) {
		fl->status = f->script[idx].status;
		snprintf(fl->body, sizeof(fl->body), "%s", f->script[idx].body);
		delay = f->script[idx].delay_ms;
	} else {
		cloudtrail_answer(f, idx, fl);
	}
	fl->done_at = f->now + delay;
	return FB_OK;
}

static enum fb_err fake_wait(void *ctx, int64_t timeout_ms, struct http_exchange **done)
{
	struct fake *f = ctx;
	size_t i, best = 0;
	struct flight fl;

	*done = NULL;
	for (i = 1; i < f->nfl; i++)
		if (f->fl[i].done_at < f->fl[best].done_at)
			best = i;
	if (f->nfl == 0 || f->fl[best].done_at > f->now + timeout_ms) {
		f->now += timeout_ms;
		return FB_OK;
	}
	fl = f->fl[best];
	memmove(&f->fl[best], &f->fl[best + 1], (f->nfl - best - 1) * sizeof(fl));
	f->nfl--;
	if (fl.done_at > f->now)
		f->now = fl.done_at;
	fl.x->resp.rc = FB_OK;
	fl.x->resp.status = fl.status;
	buf_puts(&fl.x->resp.body, fl.body);
	*done = fl.x;
	return FB_OK;
}

static void fake_cancel(void *ctx, struct http_exchange *x)
{
	struct fake *f = ctx;
	size_t i;

	for (i = 0; i < f->nfl; i++)
		if (f->fl[i].x == x) {
			memmove(&f->fl[i], &f->fl[i + 1], (f->nfl - i - 1) * sizeof(f->fl[0]));
			f->nfl--;
			return;
		}
}

static int64_t fake_now(void *ctx)
{
	return ((struct fake *)ctx)->now;
}

static void fake_sleep(void *ctx, int64_t ms)
{
	assert_true(ms > 0);
	((struct fake *)ctx)->now += ms;
}

static void fake_destroy(void *ctx)
{
	(void)ctx;
}

static const struct ct_clock CLOCK = { fake_now, fake_sleep, &F };

static struct aws_client *client(int pages, int per_page, int quota)
{
	struct http_transport *t = calloc(1, sizeof(*t));
	struct aws_client_options o;
	struct aws_client *c = NULL;
	char err[200] = "";

	assert_non_null(t);
	memset(&F, 0, sizeof(F));
	F.now = T0_MS;
	F.pages = pages;
	F.events_per_page = per_page;
	F.quota = quota;
	t->ctx = &F;
	t->start = fake_start;
	t->wait = fake_wait;
	t->cancel = fake_cancel;
	t->now_ms = fake_now;
	t->destroy = fake_destroy;
	memset(&o, 0, sizeof(o));
	o.region = "us-east-1";
	o.access_key = "AKIDEXAMPLE";
	o.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	o.transport = t;
	o.jitter_seed = 7;
	if (aws_client_new_opts(&c, &o, err, sizeof(err)) != FB_OK)
		fail_msg("aws_client_new_opts: %s", err);
	ct_limiter_reset();
	return c;
}

static struct ct_query query(void)
{
	struct ct_query q;

	memset(&q, 0, sizeof(q));
	q.attr_key = "Username";
	q.attr_value = "root";
	q.start_ms = T0_MS - 3600000;
	q.end_ms = T0_MS;
	q.clock = &CLOCK;
	q.jitter_seed = 11;
	q.account = "111122223333";
	return q;
}

static void script_at(size_t idx, long status, const char *body)
{
	F.script[idx].status = status;
	F.script[idx].body = body;
	F.script[idx].delay_ms = 20;
	if (F.nscript <= idx)
		F.nscript = idx + 1;
}

/* ---- tests ---------------------------------------------------------------------- */

static void test_cloudtrail__input_shape(void **state)
{
	struct ct_query q = query();
	cJSON *in;
	char *txt;

	(void)state;
	q.start_ms = 1704067200999LL;
	q.end_ms = 1704067260001LL;
	q.max_results = 50;
	in = ct_input(&q, "tok/1");
	txt = cJSON_PrintUnformatted(in);
	/* start rounds down, end up: the asked window is inside the sent one */
	assert_string_equal(txt, "{\"LookupAttributes\":[{\"AttributeKey\":\"Username\","
			    "\"AttributeValue\":\"root\"}],\"StartTime\":1704067200,"
			    "\"EndTime\":1704067261,\"MaxResults\":50,\"NextToken\":\"tok/1\"}");
	free(txt);
	cJSON_Delete(in);
	q.attr_key = NULL;
	q.start_ms = q.end_ms = 0;
	q.max_results = 0;
	in = ct_input(&q, NULL);
	txt = cJSON_PrintUnformatted(in);
	assert_string_equal(txt, "{}");
	free(txt);
	cJSON_Delete(in);
}

static void test_cloudtrail__backoff_bounds(void **state)
{
	int n;

	(void)state;
	assert_int_equal(ct_backoff_ms(1, 0), CT_BACKOFF_MIN_MS);
	assert_true(ct_backoff_ms(1, 0.999) < 2 * CT_BACKOFF_MIN_MS);
	assert_true(ct_backoff_ms(2, 0.999) < 3 * CT_BACKOFF_MIN_MS);
	for (n = 1; n < 40; n++) {
		assert_true(ct_backoff_ms(n, 0.5) >= CT_BACKOFF_MIN_MS);
		assert_true(ct_backoff_ms(n, 1.5) <= CT_BACKOFF_MAX_MS);
	}
}

static void test_cloudtrail__pages_all_paced_and_complete(void **state)
{
	struct aws_client *c = client(4, 3, 1);
	struct ct_query q = query();
	struct ct_result res;
	size_t i;

	(void)state;
	memset(&res, 0, sizeof(res));
	q.keep_events = 1;
	assert_int_equal(ct_lookup(c, &q, &res), FB_OK);
	assert_true(res.complete);
	assert_int_equal(res.stop, CT_STOP_END);
	assert_int_equal(res.pages, 4);
	assert_int_equal(res.nevents, 12);
	assert_int_equal(cJSON_GetArraySize(res.events), 12);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(res.events, 11), "EventId")->valuestring,
			    "e4-2");
	assert_string_equal(res.why, "");
	/* paced: never throttled, requests at least 500 ms apart */
	assert_int_equal(res.throttled, 0);
	assert_int_equal(F.nthrottled, 0);
	assert_int_equal(res.requests, 4);
	assert_int_equal((int)F.nlog, 4);
	for (i = 1; i < F.nlog; i++)
		assert_true(F.at[i] - F.at[i - 1] >= CT_RATE_INTERVAL_MS);
	assert_null(strstr(F.body[0], "NextToken"));
	assert_non_null(strstr(F.body[1], "\"NextToken\":\"p2\""));
	assert_non_null(strstr(F.body[3], "\"NextToken\":\"p4\""));
	ct_result_cleanup(&res);
	aws_client_free(c);
}

static void test_cloudtrail__page_cap_is_not_complete(void **state)
{
	struct aws_client *c = client(5, 2, 0);
	struct ct_query q = query();
	struct ct_result res;

	(void)state;
	memset(&res, 0, sizeof(res));
	q.max_pages = 2;
	assert_int_equal(ct_lookup(c, &q, &res), FB_OK);
	assert_false(res.complete);
	assert_int_equal(res.stop, CT_STOP_PAGES);
	assert_int_equal(res.pages, 2);
	assert_non_null(strstr(res.why, "page cap 2"));
	ct_result_cleanup(&res);

	q.max_pages = 0;
	q.max_events = 5;
	assert_int_equal(ct_lookup(c, &q, &res), FB_OK);
	assert_false(res.complete);
	assert_int_equal(res.stop, CT_STOP_EVENTS);
	assert_int_equal(res.pages, 3);
	ct_result_cleanup(&res);
	aws_client_free(c);
}

/* Throttled five times in a row: past the SDK's 3 attempts, within the
 * deadline the pager keeps trying and reads everything. */
static void test_cloudtrail__throttle_budget_is_the_deadline(void **state)
{
	struct aws_client *c = client(2, 1, 0);
	struct ct_query q = query();
	struct ct_result res;
	size_t i;

	(void)state;
	memset(&res, 0, sizeof(res));
	for (i = 0; i < 5; i++)
		script_at(i, 400, THROTTLE);
	q.deadline_ms = T0_MS + 30000;
	assert_int_equal(ct_lookup(c, &q, &res), FB_OK);
	assert_true(res.complete);
	assert_int_equal(res.pages, 2);
	assert_int_equal(res.throttled, 5);
	assert_int_equal(res.requests, 7);
	for (i = 1; i <= 5; i++) /* each retry waited at least the backoff floor */
		assert_true(F.at[i] - F.at[i - 1] - 20 >= CT_BACKOFF_MIN_MS);
	assert_true(res.waited_ms >= 5 * CT_BACKOFF_MIN_MS);
	ct_result_cleanup(&res);
	aws_client_free(c);
}

static void test_cloudtrail__throttled_until_deadline_says_so(void **state)
{
	struct aws_client *c = client(2, 1, 0);
	struct ct_query q = query();
	struct ct_result res;
	size_t i;

	(void)state;
	memset(&res, 0, sizeof(res));
	for (i = 0; i < MAXLOG; i++)
		script_at(i, 400, THROTTLE);
	q.deadline_ms = T0_MS + 6000;
	assert_int_equal(ct_lookup(c, &q, &res), FB_E_TIMEOUT);
	assert_false(res.complete);
	assert_int_equal(res.stop, CT_STOP_DEADLINE);
	assert_int_equal(res.pages, 0);
	assert_true(res.requests > 3);
	assert_int_equal(res.requests, (int)F.nlog);
	assert_string_equal(res.err.code, "ThrottlingException");
	assert_non_null(strstr(res.why, "page 1: ThrottlingException"));
	assert_non_null(strstr(res.why, "deadline"));
	for (i = 0; i < F.nlog; i++)
		assert_true(F.at[i] < q.deadline_ms);
	assert_true(F.now <= q.deadline_ms);
	ct_result_cleanup(&res);

	/* without a deadline the throttle budget is still bounded */
	q.deadline_ms = 0;
	F.nlog = 0;
	assert_int_equal(ct_lookup(c, &q, &res), FB_E_AWS);
	assert_int_equal(res.stop, CT_STOP_ERROR);
	assert_int_equal(res.requests, CT_NO_DEADLINE_THROTTLE_ATTEMPTS);
	ct_result_cleanup(&res);
	aws_client_free(c);
}

static void test_cloudtrail__errors(void **state)
{
	struct aws_client *c = client(3, 1, 0);
	struct ct_query q = query();
	struct ct_result res;

	(void)state;
	memset(&res, 0, sizeof(res));
	/* page 2 denied: not retried, pages read so far kept */
	script_at(1, 400, "{\"__type\":\"AccessDeniedException\",\"message\":\"no\"}");
	q.deadline_ms = T0_MS + 30000;
	assert_int_equal(ct_lookup(c, &q, &res), FB_E_AWS);
	assert_int_equal(res.stop, CT_STOP_ERROR);
	assert_int_equal(res.pages, 1);
	assert_int_equal(res.requests, 2);
	assert_string_equal(res.why, "page 2: AccessDeniedException no after 1 attempt");
	ct_result_cleanup(&res);

	/* 5xx: the client's AWS_MAX_ATTEMPTS (3) per page */
	F.nlog = 0;
	memset(F.script, 0, sizeof(F.script));
	script_at(0, 503, "");
	script_at(1, 503, "");
	script_at(2, 503, "");
	assert_int_equal(ct_lookup(c, &q, &res), FB_E_AWS);
	assert_int_equal(res.requests, 3);
	assert_non_null(strstr(res.why, "retries spent"));
	ct_result_cleanup(&res);
	aws_client_free(c);
}

/* Page 1 in a round with another read, as root-verify and kms-guard run
 * it: the round's call makes one attempt; continue retries and pages on. */
static void test_cloudtrail__concurrent_round_then_continue(void **state)
{
	struct aws_client *c = client(3, 2, 0);
	struct ct_query q = query();
	struct ct_result res;
	struct aws_call calls[2];
	cJSON *in;

	(void)state;
	memset(&res, 0, sizeof(res));
	memset(calls, 0, sizeof(calls));
	script_at(0, 400, THROTTLE); /* whichever of the two goes first */
	script_at(1, 400, THROTTLE);
	q.deadline_ms = T0_MS + 30000;
	q.keep_events = 1;
	in = ct_lookup_input(c, &q, &calls[0]);
	assert_non_null(in);
	assert_string_equal(calls[0].op, "LookupEvents");
	assert_int_equal(calls[0].max_attempts, 1);
	calls[1].service = "cloudtrail";
	calls[1].op = "LookupEvents";
	calls[1].in = in;
	calls[1].max_attempts = 1;
	aws_call_run_all(c, calls, 2);
	assert_int_equal((int)F.nlog, 2); /* one attempt each in the round */
	assert_int_equal(calls[0].rc, FB_E_AWS);
	assert_int_equal(ct_lookup_continue(c, &q, in, &calls[0], &res), FB_OK);
	assert_true(res.complete);
	assert_int_equal(res.pages, 3);
	assert_int_equal(res.nevents, 6);
	assert_int_equal(res.requests, 4); /* the round's attempt + 3 */
	assert_int_equal(res.throttled, 1);
	cJSON_Delete(in);
	aws_call_cleanup(&calls[0]);
	aws_call_cleanup(&calls[1]);
	ct_result_cleanup(&res);

	/* page 1 succeeded in the round: continue does not ask again */
	F.nlog = 0;
	F.nscript = 0;
	memset(calls, 0, sizeof(calls));
	in = ct_lookup_input(c, &q, &calls[0]);
	aws_call_run_all(c, calls, 1);
	assert_int_equal(ct_lookup_continue(c, &q, in, &calls[0], &res), FB_OK);
	assert_true(res.complete);
	assert_int_equal(res.requests, 3);
	assert_int_equal((int)F.nlog, 3);
	assert_null(strstr(F.body[0], "NextToken"));
	cJSON_Delete(in);
	aws_call_cleanup(&calls[0]);
	ct_result_cleanup(&res);
	aws_client_free(c);
}

/* Several lookups in one process share the limiter: against the 2 req/s
 * quota, none is throttled. Without pacing, SDK retries would be. */
static void test_cloudtrail__lookups_share_the_limiter(void **state)
{
	struct aws_client *c = client(3, 1, 1);
	struct ct_query q = query();
	struct ct_result res;
	int k;

	(void)state;
	memset(&res, 0, sizeof(res));
	q.deadline_ms = T0_MS + 60000;
	for (k = 0; k < 4; k++) {
		assert_int_equal(ct_lookup(c, &q, &res), FB_OK);
		assert_true(res.complete);
		ct_result_cleanup(&res);
	}
	assert_int_equal(F.nthrottled, 0);
	assert_int_equal((int)F.nlog, 12);

	/* another account is another quota: no wait */
	{
		int64_t before = F.now;

		F.quota = 0; /* the fake has one quota; the limiter keys by account */
		q.account = "444455556666";
		q.max_pages = 1;
		assert_int_equal(ct_lookup(c, &q, &res), FB_OK);
		assert_true(F.now - before < CT_RATE_INTERVAL_MS);
		ct_result_cleanup(&res);
	}
	aws_client_free(c);
}

static int stop_after_one(void *ctx, const cJSON *page)
{
	(*(int *)ctx)++;
	return cJSON_GetArraySize(cJSON_GetObjectItem(page, "Events")) > 0;
}

static void test_cloudtrail__on_page_and_detail(void **state)
{
	struct aws_client *c = client(3, 2, 0);
	struct ct_query q = query();
	struct ct_result res;
	int n = 0;
	cJSON *d;

	(void)state;
	memset(&res, 0, sizeof(res));
	q.on_page = stop_after_one;
	q.page_ctx = &n;
	q.keep_events = 1;
	assert_int_equal(ct_lookup(c, &q, &res), FB_OK);
	assert_int_equal(n, 1);
	assert_false(res.complete);
	assert_int_equal(res.stop, CT_STOP_CALLER);
	d = ct_event_detail(cJSON_GetArrayItem(res.events, 0));
	assert_non_null(d);
	assert_string_equal(cJSON_GetObjectItem(d, "eventName")->valuestring, "ConsoleLogin");
	cJSON_Delete(d);
	assert_null(ct_event_detail(NULL));
	assert_string_equal(ct_stop_name(CT_STOP_DEADLINE), "DEADLINE");
	ct_result_cleanup(&res);
	aws_client_free(c);
}

/* The same five throttled answers: the SDK budget (3 attempts, what every
 * responder used before the pager) gives up; the pager reads the window. */
static void test_cloudtrail__sdk_budget_gives_up_where_the_pager_reads(void **state)
{
	struct aws_client *c = client(1, 1, 0);
	struct ct_query q = query();
	struct ct_result res;
	struct aws_call call;
	cJSON *in = ct_input(&q, NULL);
	size_t i;

	(void)state;
	for (i = 0; i < 5; i++)
		script_at(i, 400, THROTTLE);
	memset(&call, 0, sizeof(call));
	call.service = "cloudtrail";
	call.op = "LookupEvents";
	call.in = in;
	assert_int_equal(aws_call_run(c, &call), FB_E_AWS);
	assert_int_equal(call.err.attempts, 3);
	aws_call_cleanup(&call);
	cJSON_Delete(in);

	F.nlog = 0;
	memset(&res, 0, sizeof(res));
	q.deadline_ms = F.now + 30000;
	assert_int_equal(ct_lookup(c, &q, &res), FB_OK);
	assert_true(res.complete);
	assert_int_equal(res.throttled, 5);
	ct_result_cleanup(&res);
	aws_client_free(c);
}

/* One record's fields (root-verify, kms-guard): borrowed strings, a field
 * of another type refused but the rest still read, "" errors are none. */
static void test_cloudtrail__record_fields(void **st)
{
	struct ct_record r;
	cJSON *rec = cJSON_Parse("{\"eventName\":\"DisableKey\",\"eventSource\":\"kms.amazonaws.com\","
		"\"eventID\":\"e-1\",\"eventTime\":\"2024-03-01T10:00:30Z\",\"awsRegion\":\"eu-west-1\","
		"\"recipientAccountId\":\"111111111111\",\"userIdentity\":{\"type\":\"AssumedRole\","
		"\"arn\":\"arn:aws:sts::111111111111:assumed-role/Dev/alice\",\"accountId\":\"222222222222\","
		"\"sessionContext\":{\"attributes\":{\"mfaAuthenticated\":\"TRUE\"}}},"
		"\"sourceIPAddress\":\"203.0.113.5\",\"userAgent\":\"aws-cli\",\"errorCode\":\"\"}");

	(void)st;
	assert_int_equal(ct_record_parse(rec, &r), FB_OK);
	assert_string_equal(r.event_name, "DisableKey");
	assert_string_equal(r.event_source, "kms.amazonaws.com");
	assert_string_equal(r.event_id, "e-1");
	assert_true(r.time_ms == 1709287230000LL);
	assert_string_equal(r.aws_region, "eu-west-1");
	assert_string_equal(r.recipient_account, "111111111111");
	assert_string_equal(r.identity_type, "AssumedRole");
	assert_string_equal(r.actor_arn, "arn:aws:sts::111111111111:assumed-role/Dev/alice");
	assert_string_equal(r.actor_account, "222222222222");
	assert_string_equal(r.source_ip, "203.0.113.5");
	assert_string_equal(r.user_agent, "aws-cli");
	assert_null(r.error_code);          /* "": the call succeeded */
	assert_null(r.error_message);
	assert_int_equal(r.mfa, CT_MFA_YES);
	cJSON_Delete(rec);
	/* a sign-in's MFAUsed decides first; a wrongly typed field is refused */
	rec = cJSON_Parse("{\"eventName\":\"ConsoleLogin\",\"additionalEventData\":{\"MFAUsed\":\"No\"},"
			  "\"userIdentity\":{\"type\":\"Root\",\"arn\":7},\"errorMessage\":\"Failed\"}");
	assert_int_equal(ct_record_parse(rec, &r), FB_E_INVALID);
	assert_null(r.actor_arn);
	assert_string_equal(r.event_name, "ConsoleLogin");
	assert_string_equal(r.identity_type, "Root");
	assert_string_equal(r.error_message, "Failed");
	assert_int_equal(r.mfa, CT_MFA_NO);
	assert_true(r.time_ms == 0);
	cJSON_Delete(rec);
	rec = cJSON_Parse("[1]");
	assert_int_equal(ct_record_parse(rec, &r), FB_E_INVALID);
	assert_int_equal(ct_record_parse(NULL, &r), FB_E_INVALID);
	assert_int_equal(r.mfa, CT_MFA_UNKNOWN);
	cJSON_Delete(rec);
}

/* ct_record_key_ids: a record's shape, its accessKeyId members (distinct,
 * AKIA/ASIA only), and a secretAccessKey value that makes it no record. */
static void test_cloudtrail__record_key_ids(void **state)
{
	static const char rec[] = "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\","
		"\"accessKeyId\":\"AKIAIOSFODNN7EXAMPLE\"},\"eventSource\":\"iam.amazonaws.com\","
		"\"eventName\":\"UpdateAccessKey\",\"eventTime\":\"2026-12-07T00:00:00Z\",\"eventID\":\"e-1\","
		"\"awsRegion\":\"us-east-1\",\"requestParameters\":{\"accessKeyId\":\"AKIAI44QH2DHBEXAMPLE\"},"
		"\"responseElements\":{\"credentials\":{\"accessKeyId\":\"AKIAIOSFODNN7EXAMPLE\"}},"
		"\"x\":{\"accessKeyId\":\"not-a-key-id-at-all!\"}}";
	char ids[4][21];
	size_t n = 9;
	cJSON *j = cJSON_Parse(rec), *k;

	(void)state;
	assert_int_equal(ct_record_key_ids(j, ids, 4, &n), 1);
	assert_int_equal(n, 2);
	assert_string_equal(ids[0], "AKIAIOSFODNN7EXAMPLE");
	assert_string_equal(ids[1], "AKIAI44QH2DHBEXAMPLE");
	assert_int_equal(ct_record_key_ids(j, ids, 1, &n), 1);
	assert_int_equal(n, 1);
	/* CloudTrail never records a secret access key */
	k = cJSON_GetObjectItem(j, "requestParameters");
	cJSON_AddStringToObject(k, "SecretAccessKey", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
	assert_int_equal(ct_record_key_ids(j, ids, 4, &n), 0);
	assert_int_equal(n, 0);
	cJSON_Delete(j);
	/* not the shape: eventSource not an AWS service, eventVersion 2 */
	j = cJSON_Parse("{\"eventVersion\":\"1.08\",\"userIdentity\":{},\"eventSource\":\"evil.example.com\","
			"\"eventName\":\"a\",\"eventTime\":\"t\",\"eventID\":\"i\",\"awsRegion\":\"r\"}");
	assert_int_equal(ct_record_key_ids(j, ids, 4, &n), 0);
	cJSON_Delete(j);
	j = cJSON_Parse("{\"eventVersion\":\"2.0\",\"userIdentity\":{},\"eventSource\":\"s3.amazonaws.com\","
			"\"eventName\":\"a\",\"eventTime\":\"t\",\"eventID\":\"i\",\"awsRegion\":\"r\"}");
	assert_int_equal(ct_record_key_ids(j, ids, 4, &n), 0);
	cJSON_Delete(j);
	assert_int_equal(ct_record_key_ids(NULL, ids, 4, &n), 0);
}

/* ---- w4-kc-rv: ct_facts_parse (moved with the code from test_root_verify) ---- */

static void record_from(const char *json, struct ct_facts *r)
{
	cJSON *j = cJSON_Parse(json);
	assert_non_null(j);
	assert_int_equal(ct_facts_parse(j, r), FB_OK);
	cJSON_Delete(j);
}

static void test_cloudtrail__facts_mfa_casings(void **st)
{
	(void)st;
	static const struct { const char *json; enum ct_mfa want; } cases[] = {
		{"{\"userIdentity\":{\"type\":\"Root\"},\"eventName\":\"ConsoleLogin\",\"additionalEventData\":{\"MFAUsed\":\"YES\"}}", CT_MFA_YES},
		{"{\"userIdentity\":{\"type\":\"Root\"},\"eventName\":\"ConsoleLogin\",\"additionalEventData\":{\"MFAUsed\":\"Yes\"}}", CT_MFA_YES},
		{"{\"userIdentity\":{\"type\":\"Root\"},\"eventName\":\"ConsoleLogin\",\"additionalEventData\":{\"MFAUsed\":\"yes\"}}", CT_MFA_YES},
		{"{\"userIdentity\":{\"type\":\"Root\"},\"eventName\":\"ConsoleLogin\",\"additionalEventData\":{\"MFAUsed\":\"No\"}}", CT_MFA_NO},
		{"{\"userIdentity\":{\"type\":\"Root\"},\"eventName\":\"ConsoleLogin\",\"additionalEventData\":{\"MFAUsed\":\"NO\"}}", CT_MFA_NO},
		{"{\"userIdentity\":{\"type\":\"Root\",\"sessionContext\":{\"attributes\":{\"mfaAuthenticated\":\"true\"}}},\"eventName\":\"X\"}", CT_MFA_YES},
		{"{\"userIdentity\":{\"type\":\"Root\",\"sessionContext\":{\"attributes\":{\"mfaAuthenticated\":\"false\"}}},\"eventName\":\"X\"}", CT_MFA_NO},
		{"{\"userIdentity\":{\"type\":\"Root\"},\"eventName\":\"PasswordUpdated\"}", CT_MFA_UNKNOWN},
		{"{\"userIdentity\":{\"type\":\"Root\"},\"eventName\":\"ConsoleLogin\",\"additionalEventData\":{\"MFAUsed\":7}}", CT_MFA_UNKNOWN},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ct_facts r;
		record_from(cases[i].json, &r);
		if (r.mfa != cases[i].want)
			fail_msg("case %zu: mfa %d, want %d", i, r.mfa, cases[i].want);
	}
}

static void test_cloudtrail__facts_failure_and_centralized(void **st)
{
	(void)st;
	struct ct_facts r;
	record_from("{\"userIdentity\":{\"type\":\"Root\"},\"eventName\":\"ConsoleLogin\","
		    "\"errorMessage\":\"Failed authentication\",\"responseElements\":{\"ConsoleLogin\":\"Failure\"}}", &r);
	assert_true(r.failed);
	assert_true(r.is_console_login);
	assert_string_equal(r.error, "Failed authentication");
	record_from("{\"userIdentity\":{\"type\":\"Root\"},\"eventName\":\"CreateBucket\",\"errorCode\":\"AccessDenied\"}", &r);
	assert_true(r.failed);
	record_from("{\"userIdentity\":{\"type\":\"Root\"},\"eventName\":\"ConsoleLogin\",\"responseElements\":{\"ConsoleLogin\":\"Success\"}}", &r);
	assert_false(r.failed);
	assert_false(r.centralized);
	/* plain root API call: empty sessionIssuer, not centralized */
	record_from("{\"userIdentity\":{\"type\":\"Root\",\"sessionContext\":{\"sessionIssuer\":{},\"attributes\":{\"mfaAuthenticated\":\"false\"}}},\"eventName\":\"X\"}", &r);
	assert_false(r.centralized);
	/* assumedRoot without an issuer: centralized, issuer unknown (never trusted) */
	record_from("{\"userIdentity\":{\"type\":\"Root\",\"arn\":\"arn:aws-us-gov:iam::222222222222:root\","
		    "\"sessionContext\":{\"assumedRoot\":\"true\"}},\"eventName\":\"X\"}", &r);
	assert_true(r.centralized);
	assert_string_equal(r.issuer_arn, "");
	/* inScopeOf (service-scoped credentials) or assumedRoot "false": not centralized */
	record_from("{\"userIdentity\":{\"type\":\"Root\",\"inScopeOf\":{\"sourceArn\":\"arn:aws:lambda:us-east-1:222222222222:function:f\","
		    "\"issuerType\":\"AWS::Lambda::Function\",\"credentialsIssuedTo\":\"arn:aws:iam::222222222222:role/r\"}},\"eventName\":\"X\"}", &r);
	assert_false(r.centralized);
	assert_string_equal(r.issuer_arn, "");
	record_from("{\"userIdentity\":{\"type\":\"Root\",\"sessionContext\":{\"assumedRoot\":\"false\"}},\"eventName\":\"X\"}", &r);
	assert_false(r.centralized);
	/* non-root */
	record_from("{\"userIdentity\":{\"type\":\"IAMUser\"},\"eventName\":\"ConsoleLogin\"}", &r);
	assert_false(r.is_root);
}

/* A LookupEvents event: its CloudTrailEvent when it parses, else the
 * lookup's own name and id (the event is still counted by name). */
static void test_cloudtrail__event_facts(void **st)
{
	static const char *const bad[] = {
		"{\"EventName\":\"GetAccountSummary\",\"EventId\":\"e1\",\"CloudTrailEvent\":\"{not json\"}",
		"{\"EventName\":\"GetAccountSummary\",\"EventId\":\"e1\"}",
		"{\"EventName\":\"GetAccountSummary\",\"EventId\":\"e1\",\"CloudTrailEvent\":\"{\\\"eventName\\\":\\\"X\\\"}\"}",
	};
	struct ct_facts f;
	cJSON *e;

	(void)st;
	e = cJSON_Parse("{\"EventName\":\"lookup-name\",\"EventId\":\"lookup-id\",\"CloudTrailEvent\":"
			"\"{\\\"userIdentity\\\":{\\\"type\\\":\\\"Root\\\"},\\\"eventName\\\":\\\"ConsoleLogin\\\","
			"\\\"eventID\\\":\\\"rec-id\\\",\\\"sourceIPAddress\\\":\\\"192.0.2.1\\\"}\"}");
	assert_non_null(e);
	assert_int_equal(ct_event_facts(e, &f), FB_OK);
	assert_true(f.is_root);
	assert_string_equal(f.event_name, "ConsoleLogin");
	assert_string_equal(f.event_id, "rec-id");
	assert_string_equal(f.source_ip, "192.0.2.1");
	cJSON_Delete(e);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e = cJSON_Parse(bad[i]);
		assert_non_null(e);
		memset(&f, 0x5a, sizeof(f));
		assert_int_equal(ct_event_facts(e, &f), FB_E_PARSE);
		assert_string_equal(f.event_name, "GetAccountSummary");
		assert_string_equal(f.event_id, "e1");
		assert_false(f.is_root);
		assert_string_equal(f.source_ip, "");
		cJSON_Delete(e);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cloudtrail__input_shape),
		cmocka_unit_test(test_cloudtrail__backoff_bounds),
		cmocka_unit_test(test_cloudtrail__pages_all_paced_and_complete),
		cmocka_unit_test(test_cloudtrail__page_cap_is_not_complete),
		cmocka_unit_test(test_cloudtrail__throttle_budget_is_the_deadline),
		cmocka_unit_test(test_cloudtrail__throttled_until_deadline_says_so),
		cmocka_unit_test(test_cloudtrail__errors),
		cmocka_unit_test(test_cloudtrail__concurrent_round_then_continue),
		cmocka_unit_test(test_cloudtrail__lookups_share_the_limiter),
		cmocka_unit_test(test_cloudtrail__on_page_and_detail),
		cmocka_unit_test(test_cloudtrail__sdk_budget_gives_up_where_the_pager_reads),
		cmocka_unit_test(test_cloudtrail__record_fields),
		cmocka_unit_test(test_cloudtrail__record_key_ids),
		cmocka_unit_test(test_cloudtrail__facts_mfa_casings),
		cmocka_unit_test(test_cloudtrail__facts_failure_and_centralized),
		cmocka_unit_test(test_cloudtrail__event_facts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
