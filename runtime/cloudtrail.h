/*
 * ct: the one CloudTrail LookupEvents pager every responder uses (issue 16
 * item 9).
 *
 * Why a pager of its own and not aws_call_run() in a loop: LookupEvents is
 * limited to 2 requests per second per account and Region ("This operation
 * has a rate limit of 2 transactions per second per account per Region" -
 * CloudTrail API reference, LookupEvents). A few concurrent responders
 * exhaust the SDK's 3 attempts within a second and then decide on partial
 * history. So here:
 *
 *  - every attempt is a single aws call (aws_call.max_attempts = 1): the
 *    pager owns the retry budget;
 *  - before each attempt it takes a slot from a process-wide limiter,
 *    CT_RATE_INTERVAL_MS apart per account+Region, so one invocation's own
 *    concurrent lookups never throttle each other;
 *  - a throttled attempt is retried until the query's deadline (not a fixed
 *    count), after a backoff of CT_BACKOFF_MIN_MS plus jitter, growing to
 *    CT_BACKOFF_MAX_MS; the backoff also holds back every other lookup on
 *    the same account+Region (they share the limiter). Other transient
 *    failures (5xx, network) get the client's AWS_MAX_ATTEMPTS per page;
 *    anything else stops at once;
 *  - it pages (NextToken) up to max_pages / max_events, and ct_result says
 *    whether the window was read completely and, if not, why.
 *
 * Three ways to use it:
 *   1. blocking:        ct_lookup(c, &q, &res)
 *   2. page 1 in a concurrent round with other reads:
 *        cJSON *in = ct_lookup_input(c, &q, &calls[k]);   fills calls[k]
 *        aws_call_run_all(c, calls, n);
 *        ct_lookup_continue(c, &q, in, &calls[k], &res);  retries/pages on
 *        cJSON_Delete(in); aws_call_cleanup(&calls[k]); ct_result_cleanup(&res);
 *   3. per-page callback (q.on_page) and/or collected events (q.keep_events).
 *
 * The pager does not parse each event's CloudTrailEvent string: callers'
 * pure stages take LookupEvents pages as AWS returns them (their unit tests
 * feed captured pages), so the one parse lives where the fields are read.
 * ct_event_detail() is the shared, bounded parse for callers that want it.
 *
 * Not thread-safe: the limiter is process-wide state for a Lambda handler,
 * which runs one invocation at a time per process.
 */
#ifndef FB_CLOUDTRAIL_H
#define FB_CLOUDTRAIL_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "aws.h"
#include "fb_err.h"

/* 2 requests per second per account and Region. */
#define CT_RATE_INTERVAL_MS 500
/* Throttled backoff: MIN + jitter * min(MIN * 2^(n-1), MAX - MIN). */
#define CT_BACKOFF_MIN_MS 500
#define CT_BACKOFF_MAX_MS 4000
/* Default page cap (q.max_pages 0). LookupEvents answers 50 events a page. */
#define CT_DEFAULT_MAX_PAGES 10
/* Throttled attempts per page when the query has no deadline (0). */
#define CT_NO_DEADLINE_THROTTLE_ATTEMPTS 8
/* NextToken copies are bounded (AWS tokens are well under this). */
#define CT_MAX_TOKEN 4096

/* Clock seam: tests pass a virtual clock; NULL = wall clock + nanosleep. */
struct ct_clock {
	int64_t (*now_ms)(void *ctx);          /* epoch ms */
	void (*sleep_ms)(void *ctx, int64_t ms);
	void *ctx;
};

/* One query. Zero it, fill it; every pointer is borrowed for the duration
 * of the ct_* call that takes it (and, with ct_lookup_input, until
 * ct_lookup_continue returns). */
struct ct_query {
	const char *attr_key;     /* LookupAttributes[0].AttributeKey ("Username",
				   * "ResourceName", "EventName", ...); NULL = none */
	const char *attr_value;   /* its AttributeValue */
	int64_t start_ms;         /* StartTime (epoch ms, sent as epoch seconds); 0 = omit */
	int64_t end_ms;           /* EndTime; 0 = omit */
	int max_results;          /* MaxResults 1..50; 0 = omit (AWS: 50) */
	int max_pages;            /* page cap; 0 = CT_DEFAULT_MAX_PAGES */
	size_t max_events;        /* stop paging once this many events were read
				   * (a full page may pass it); 0 = no bound */
	int64_t deadline_ms;      /* epoch ms: no attempt starts and no backoff ends
				   * after it; 0 = none (then the throttle budget is
				   * CT_NO_DEADLINE_THROTTLE_ATTEMPTS per page) */
	const char *account;      /* limiter key with the client's Region; NULL = "" */
	int keep_events;          /* 1: collect every event into res->events */
	/* Called with each page's answer (borrowed for the call). Return 0 to
	 * go on, nonzero to stop (res->stop CT_STOP_CALLER, not complete). */
	int (*on_page)(void *ctx, const cJSON *page);
	void *page_ctx;
	const struct ct_clock *clock; /* NULL = wall clock */
	uint64_t jitter_seed;     /* 0 = from the clock */
};

enum ct_stop {
	CT_STOP_END = 0,   /* the last page had no NextToken: complete */
	CT_STOP_PAGES,     /* max_pages read, more exist */
	CT_STOP_EVENTS,    /* max_events read, more exist */
	CT_STOP_CALLER,    /* on_page asked to stop */
	CT_STOP_DEADLINE,  /* the deadline came first (throttled or slow) */
	CT_STOP_ERROR,     /* a page failed (non-retryable, or retries spent) */
	CT_STOP_NOMEM
};

/* What a lookup read. Caller-placed; ct_lookup / ct_lookup_continue fill
 * it (zeroing it first); release with ct_result_cleanup(). */
struct ct_result {
	int complete;        /* 1 only when stop == CT_STOP_END */
	enum ct_stop stop;
	size_t pages;        /* pages read successfully */
	size_t nevents;      /* events in those pages */
	int requests;        /* HTTP attempts made, every page and retry (page 1
			      * of a concurrent round counts) */
	int throttled;       /* attempts answered with throttling */
	int64_t waited_ms;   /* time spent pacing and backing off */
	cJSON *events;       /* keep_events: array of the Events, newest first as
			      * AWS returns them; owned, freed by ct_result_cleanup */
	struct aws_error err; /* the last failed attempt (code "" when none) */
	char why[300];       /* "" when complete; otherwise says why not, e.g.
			      * "page 3: ThrottlingException after 7 attempts,
			      * deadline reached" (never contains secrets) */
};

/* Blocking: reads the query's window up to its caps. Returns FB_OK when the
 * read ended without a failure (complete, or stopped at a cap or by the
 * caller: res->complete says which), else the failure (FB_E_AWS,
 * FB_E_TIMEOUT, FB_E_NOMEM, ...). res is always filled. */
enum fb_err ct_lookup(struct aws_client *c, const struct ct_query *q, struct ct_result *res);

/* Page 1 for a concurrent round: builds the LookupEvents input (returned;
 * caller cJSON_Delete()s it after ct_lookup_continue), fills `call`
 * (zeroed by the caller) with service, op, in (borrowing the returned
 * input) and max_attempts 1, and takes a limiter slot (may sleep until
 * the slot; never past q->deadline_ms). NULL on out of memory (call left
 * untouched). */
cJSON *ct_lookup_input(struct aws_client *c, const struct ct_query *q, struct aws_call *call);

/* After the round: `call` is page 1's finished call (borrowed, read only;
 * the caller still aws_call_cleanup()s it). Retries page 1 when it was
 * throttled or failed transiently, then reads the rest. `in` is what
 * ct_lookup_input returned (borrowed). Returns and fills as ct_lookup. */
enum fb_err ct_lookup_continue(struct aws_client *c, const struct ct_query *q, const cJSON *in,
			       const struct aws_call *call, struct ct_result *res);

void ct_result_cleanup(struct ct_result *res);

/* The input for one page (NextToken NULL for page 1). Caller frees. */
cJSON *ct_input(const struct ct_query *q, const char *next_token);

/* The backoff before throttled retry n (1 = first), jitter r in [0,1). */
int64_t ct_backoff_ms(int n, double r);

/* An event's CloudTrailEvent string parsed (bounded like an incoming
 * event: size, depth, UTF-8). Caller cJSON_Delete()s; NULL when absent or
 * invalid. */
cJSON *ct_event_detail(const cJSON *event);

/* "END", "PAGES", ... for logs and reports (static string). */
const char *ct_stop_name(enum ct_stop s);

/* Forgets the limiter's state (tests; a new process starts empty). */
void ct_limiter_reset(void);

/* ---- issue 17: one CloudTrail record ------------------------------------------ */

/* The fields every responder reads from a CloudTrail record (an
 * EventBridge "AWS API Call via CloudTrail" detail, or a parsed
 * CloudTrailEvent; CloudTrail User Guide, "CloudTrail record contents"). */
enum ct_mfa { CT_MFA_UNKNOWN, CT_MFA_YES, CT_MFA_NO };
struct ct_record {
	/* borrowed from the record; NULL when absent, null or not a string */
	const char *event_name, *event_source, *event_id, *event_time;
	const char *aws_region, *recipient_account;
	const char *identity_type, *actor_arn, *actor_account;  /* userIdentity.type/.arn/.accountId */
	const char *source_ip, *user_agent;                     /* sourceIPAddress, userAgent */
	const char *error_code, *error_message;                 /* NULL also when "" (the call succeeded) */
	int64_t time_ms;        /* eventTime; 0 when absent or not a time */
	/* additionalEventData.MFAUsed ("Yes"/"No", any casing: sign-ins), else
	 * userIdentity.sessionContext.attributes.mfaAuthenticated ("true"/"false") */
	enum ct_mfa mfa;
};

/* rec (borrowed) -> r. FB_E_INVALID when rec is not an object, or one of
 * the fields above is present with another type than string (or null): a
 * record CloudTrail did not write as is. The fields that are strings are
 * filled either way, so a reader that tolerates such a record can. */
enum fb_err ct_record_parse(const cJSON *rec, struct ct_record *r);

/* A record CloudTrail wrote (delivered to a log group by a trail, say):
 * 1 when `rec` is an object shaped like one (eventVersion "1.x", a
 * userIdentity object, eventSource "*.amazonaws.com", eventName, eventTime,
 * eventID and awsRegion strings) and no member named secretAccessKey (any
 * case) holds a value of 40+ characters (CloudTrail never records one, so
 * such a document is not an audit record); ids[] then gets the distinct
 * access key ids (AKIA/ASIA + 16 of [A-Z2-7]) of its members named
 * accessKeyId, at most max. Else 0 and *nids 0. Issue 17: leak-rotate's,
 * where those ids are the audit trail of a call, not leaks. */
int ct_record_key_ids(const cJSON *rec, char (*ids)[21], size_t max, size_t *nids);

/* ---- w4-kc-rv: one record's facts, copied (root, sign-in, sts:AssumeRoot) ---- */

/* The facts of one CloudTrail record as fixed copies that outlive the JSON
 * (an EventBridge detail kept for the report, a LookupEvents page freed
 * page by page): ct_record's strings, the outcome, and who holds root.
 * Plain data. Issue 17: root-verify's record parse, moved. */
struct ct_facts {
	char identity_type[32];
	char event_name[128];
	char event_source[128];
	char event_id[128];
	char event_time[40];
	char source_ip[64];
	char user_agent[256];
	char actor_arn[256];
	char error[192];            /* errorCode/errorMessage, "" if none */
	int is_root;                /* userIdentity.type Root */
	int is_signin_source;       /* eventSource signin.amazonaws.com */
	int is_console_login;       /* eventName ConsoleLogin */
	int failed;                 /* ConsoleLogin Failure, or errorCode/errorMessage */
	enum ct_mfa mfa;
	int centralized;            /* a root session from sts:AssumeRoot, or the AssumeRoot call */
	int assume_root;            /* the record is the sts:AssumeRoot call itself */
	char issuer_arn[512];       /* who called AssumeRoot, "" if not recorded */
	char target_principal[64];  /* AssumeRoot: requestParameters.targetPrincipal */
	char task_policy_arn[256];  /* AssumeRoot: requestParameters.taskPolicyArn.arn */
	int64_t time_ms;            /* 0 if unparsable */
};

/* rec (borrowed: an EventBridge `detail`, or a parsed CloudTrailEvent) ->
 * f. A field of another type reads as absent. FB_E_INVALID when it has no
 * userIdentity.type or eventName. */
enum fb_err ct_facts_parse(const cJSON *rec, struct ct_facts *f);
/* One event of a LookupEvents page (borrowed) -> f: its CloudTrailEvent
 * (ct_event_detail, bounded) through ct_facts_parse, FB_OK; when that is
 * missing, too big, not JSON or not a record, FB_E_PARSE with f zeroed but
 * for the lookup's own EventName and EventId (the event can still be
 * counted by name). */
enum fb_err ct_event_facts(const cJSON *event, struct ct_facts *f);

#endif
