/*
 * aws: clients, signing, retries and concurrency over the http seam; the
 * protocols' bytes are wire.c's (wire.h).
 *
 * Every call, single or not, goes through one loop (run_all): each call is
 * a small state machine READY -> IN FLIGHT -> (READY after a backoff | DONE)
 * driven by the transport's start()/wait(), so concurrency, retries and the
 * deadline are handled once.
 */
#include "aws.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "buf.h"
#include "endpoint.h"
#include "http.h"
#include "sigv4.h"
#include "utc.h"
#include "wire.h"

/* SDK standard mode retry quota (botocore retries/quota.py). */
#define QUOTA_MAX 500
#define QUOTA_RETRY_COST 5
#define QUOTA_TIMEOUT_COST 10
#define QUOTA_SUCCESS_REFUND 1

/* Temporary credentials are refreshed this long before they expire. */
#define ROLE_REFRESH_MS (5 * 60 * 1000)

/* Shared by a client and every client derived from it: the connections,
 * the deadline, retry settings. */
struct aws_shared {
	int refs;
	struct http_transport *t;
	int64_t deadline_ms;
	int max_attempts;
	int quota;
	uint64_t rng;
	endpoint_getenv_fn getenv_fn;
};

/* One set of credentials, owned; the secret and the token are wiped on
 * free (creds_clear). */
struct creds {
	char *akid, *secret, *token;
};

struct role_entry {
	char *arn;
	char *session;   /* the session name shows in the member's CloudTrail */
	struct creds cr;
	int64_t expires_ms;
	struct role_entry *next;
};

struct aws_client {
	struct aws_shared *sh;
	char region[32];
	char partition[16];
	struct creds cr;
	struct role_entry *roles;        /* AssumeRole cache, by role ARN */
};

/* ---- retry policy (pure) --------------------------------------------------- */

/* botocore retries/standard.py _THROTTLED_ERROR_CODES */
static const char *const throttle_codes[] = {
	"Throttling", "ThrottlingException", "ThrottledException",
	"RequestThrottledException", "TooManyRequestsException",
	"ProvisionedThroughputExceededException", "TransactionInProgressException",
	"RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException",
	"RequestThrottled", "SlowDown", "PriorRequestNotComplete",
	"EC2ThrottledException",
};

/* botocore _TRANSIENT_ERROR_CODES, plus the 5xx-class codes some services
 * send with a 400 (EC2 InternalError/Unavailable) and STS's
 * IDPCommunicationError, which botocore retries specially. */
static const char *const transient_codes[] = {
	"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
	"InternalError", "InternalFailure", "InternalServerError",
	"ServiceUnavailable", "ServiceUnavailableException", "Unavailable",
	"IDPCommunicationError",
};

static int in_list(const char *code, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; code && *code && i < n; i++)
		if (strcmp(code, list[i]) == 0)
			return 1;
	return 0;
}

int aws_is_throttle_code(const char *code)
{
	return in_list(code, throttle_codes, sizeof(throttle_codes) / sizeof(throttle_codes[0]));
}

enum aws_retry_class aws_retry_classify(long http_status, const char *code)
{
	if (aws_is_throttle_code(code) || http_status == 429)
		return AWS_RETRY_THROTTLE;
	if (in_list(code, transient_codes, sizeof(transient_codes) / sizeof(transient_codes[0])))
		return AWS_RETRY_TRANSIENT;
	if (http_status == 500 || http_status == 502 || http_status == 503 || http_status == 504)
		return AWS_RETRY_TRANSIENT;
	return AWS_RETRY_NO;
}

int64_t aws_jitter_ms(int64_t base, int64_t cap, int n, double r)
{
	int64_t span = base;
	int i;

	if (r < 0)
		r = 0;
	if (r >= 1)
		r = 0.999999;
	for (i = 1; i < n && span < cap; i++)
		span *= 2;
	if (span > cap)
		span = cap;
	return (int64_t)(r * (double)span);
}

int64_t aws_backoff_ms(int retry, int throttle, double r)
{
	return aws_jitter_ms(throttle ? AWS_BACKOFF_THROTTLE_BASE_MS : AWS_BACKOFF_BASE_MS,
			     AWS_BACKOFF_MAX_MS, retry, r);
}

static double rng_next(struct aws_shared *sh)
{
	/* xorshift64*: jitter only needs to decorrelate clients. */
	uint64_t x = sh->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	sh->rng = x;
	return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

/* ---- clients ------------------------------------------------------------------ */

static void wipe_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

static void creds_clear(struct creds *k)
{
	free(k->akid);
	wipe_free(k->secret);
	wipe_free(k->token);
	memset(k, 0, sizeof(*k));
}

/* Copies of the three (an empty token is none), replacing what k held. */
static enum fb_err creds_set(struct creds *k, const char *akid, const char *secret,
			     const char *token)
{
	creds_clear(k);
	k->akid = strdup(akid);
	k->secret = strdup(secret);
	k->token = token && *token ? strdup(token) : NULL;
	if (!k->akid || !k->secret || (token && *token && !k->token))
		return FB_E_NOMEM;
	return FB_OK;
}

static void roles_free(struct role_entry *r)
{
	struct role_entry *n;

	for (; r; r = n) {
		n = r->next;
		free(r->arn);
		free(r->session);
		creds_clear(&r->cr);
		free(r);
	}
}

static void shared_release(struct aws_shared *sh)
{
	if (sh && --sh->refs == 0) {
		http_transport_free(sh->t);
		free(sh);
	}
}

void aws_client_free(struct aws_client *c)
{
	if (!c)
		return;
	creds_clear(&c->cr);
	roles_free(c->roles);
	shared_release(c->sh);
	free(c);
}

static enum fb_err set_region(struct aws_client *c, const char *region)
{
	if (!region || !*region || strlen(region) >= sizeof(c->region))
		return FB_E_CONFIG;
	buf_copy_str(c->region, sizeof(c->region), region);
	buf_copy_str(c->partition, sizeof(c->partition), endpoint_partition(region));
	return FB_OK;
}

static enum fb_err read_retry_env(struct aws_shared *sh, char *err, size_t errlen)
{
	const char *v = sh->getenv_fn("AWS_MAX_ATTEMPTS");
	const char *mode = sh->getenv_fn("AWS_RETRY_MODE");
	char *end;
	long n;

	sh->max_attempts = 3;
	if (v && *v) {
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno || *end || n < 1 || n > 20) {
			snprintf(err, errlen, "invalid AWS_MAX_ATTEMPTS '%.32s' (want 1..20)", v);
			return FB_E_CONFIG;
		}
		sh->max_attempts = (int)n;
	}
	/* adaptive adds client-side rate limiting in the SDKs; a Lambda
	 * invocation makes a handful of calls, so it behaves as standard. */
	if (mode && *mode && strcmp(mode, "standard") != 0 && strcmp(mode, "legacy") != 0 &&
	    strcmp(mode, "adaptive") != 0) {
		snprintf(err, errlen, "invalid AWS_RETRY_MODE '%.32s' (want standard, legacy or adaptive)",
			 mode);
		return FB_E_CONFIG;
	}
	return FB_OK;
}

enum fb_err aws_client_new_opts(struct aws_client **out, const struct aws_client_options *o,
				char *err, size_t errlen)
{
	struct aws_client *c = NULL;
	struct aws_shared *sh = NULL;
	struct aws_client_options none;
	const char *region, *akid, *secret, *token;
	char dummy[8];
	enum fb_err rc;

	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	*out = NULL;
	if (!o) {
		memset(&none, 0, sizeof(none));
		o = &none;
	}
	c = calloc(1, sizeof(*c));
	sh = calloc(1, sizeof(*sh));
	if (!c || !sh) {
		free(sh);
		rc = FB_E_NOMEM;
		goto out;
	}
	sh->refs = 1;
	c->sh = sh;
	sh->quota = QUOTA_MAX;
	sh->getenv_fn = o->getenv_fn ? o->getenv_fn : (endpoint_getenv_fn)getenv;
	sh->rng = o->jitter_seed ? o->jitter_seed
				 : ((uint64_t)http_now_ms() * 2654435761u) ^ ((uint64_t)getpid() << 32) ^ 1;
	/* The transport is taken over even if we fail below. */
	sh->t = o->transport;

	region = o->region;
	if (!region || !*region)
		region = sh->getenv_fn("AWS_REGION");
	if (!region || !*region)
		region = sh->getenv_fn("AWS_DEFAULT_REGION");
	if (set_region(c, region) != FB_OK) {
		snprintf(err, errlen, "no valid region: set AWS_REGION");
		rc = FB_E_CONFIG;
		goto out;
	}
	if (o->access_key) {
		akid = o->access_key;
		secret = o->secret_key;
		token = o->session_token;
	} else {
		akid = sh->getenv_fn("AWS_ACCESS_KEY_ID");
		secret = sh->getenv_fn("AWS_SECRET_ACCESS_KEY");
		token = sh->getenv_fn("AWS_SESSION_TOKEN");
	}
	if (!akid || !*akid || !secret || !*secret) {
		snprintf(err, errlen, "missing credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
		rc = FB_E_AUTH;
		goto out;
	}
	rc = creds_set(&c->cr, akid, secret, token);
	if (rc)
		goto out;
	rc = read_retry_env(sh, err, errlen);
	if (rc)
		goto out;
	/* Creating the curl transport does no network I/O (cold start). */
	if (!sh->t)
		rc = http_curl_new(&sh->t, err, errlen);
out:
	if (rc) {
		if (c && c->sh) {
			aws_client_free(c); /* frees the transport with the shared part */
		} else {
			free(c);
			http_transport_free(o->transport);
		}
		return rc;
	}
	*out = c;
	return FB_OK;
}

enum fb_err aws_client_new(struct aws_client **out, const char *region, char *err, size_t errlen)
{
	struct aws_client_options o;

	memset(&o, 0, sizeof(o));
	o.region = region;
	return aws_client_new_opts(out, &o, err, errlen);
}

static enum fb_err client_derive(struct aws_client *c, const char *region, const char *akid,
				 const char *secret, const char *token, struct aws_client **out)
{
	struct aws_client *d = calloc(1, sizeof(*d));
	enum fb_err rc;

	*out = NULL;
	if (!d)
		return FB_E_NOMEM;
	d->sh = c->sh;
	c->sh->refs++;
	rc = set_region(d, region);
	if (rc == FB_OK)
		rc = creds_set(&d->cr, akid, secret, token);
	if (rc) {
		aws_client_free(d);
		return rc;
	}
	*out = d;
	return FB_OK;
}

enum fb_err aws_client_for_region(struct aws_client *c, const char *region,
				  struct aws_client **out)
{
	return client_derive(c, region, c->cr.akid, c->cr.secret, c->cr.token, out);
}

void aws_client_set_deadline(struct aws_client *c, int64_t deadline_ms)
{
	c->sh->deadline_ms = deadline_ms;
}

const char *aws_client_region(const struct aws_client *c)
{
	return c->region;
}

const char *aws_client_partition(const struct aws_client *c)
{
	return c->partition;
}

int aws_client_max_attempts(const struct aws_client *c)
{
	return c->sh->max_attempts;
}

/* ---- one call's state machine ------------------------------------------------- */

enum cstate { CS_READY, CS_FLIGHT, CS_DONE };

#define MAX_HDRS 48

struct cstate_s {
	struct aws_call *call;
	struct aws_client *c;
	struct wire_req w;    /* method, path's tail, query, body, protocol headers (wire.h) */
	struct endpoint ep;
	enum cstate st;
	int64_t wake_ms;
	int quota_held;       /* retry quota taken for the last retry */
	int retry_throttle;   /* last failure class was throttling */
	char *url;
	char *path;           /* encoded path, as sent and signed */
	char payload_hash[65];
	char checksum_b64[48];
	const char *sent_sum; /* x-amz-checksum-sha256 as sent (checksum_b64 or the caller's) */
	char amz_date[17];
	struct buf auth;
	struct http_header hdrs[MAX_HDRS];
	size_t nhdrs;
	struct http_exchange x;
	char last_problem[400]; /* why the last attempt failed */
};

static void cs_cleanup(struct cstate_s *s)
{
	free(s->url);
	free(s->path);
	wire_cleanup(&s->w);
	buf_cleanup(&s->auth);
}

/* No CR/LF/control bytes (header injection); names are tokens. */
static int header_safe(const char *s, int name)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '\r' || ch == '\n' || ch == 0x7f)
			return 0;
		if (ch < 0x20 && (name || ch != '\t'))
			return 0;
		if (name && (ch == ':' || ch == ' '))
			return 0;
	}
	return 1;
}

/* Builds the parts that do not change between attempts: the request
 * (wire.h) sent to the endpoint (endpoint.h), and the payload's hash. */
static enum fb_err cs_prepare(struct cstate_s *s, char *err, size_t errlen)
{
	struct aws_call *call = s->call;
	struct wire_req *w = &s->w;
	const char *label;
	struct buf u, p;
	enum fb_err rc;

	buf_init(&s->auth, 4096);
	buf_init(&u, 8192);
	buf_init(&p, 8192);
	rc = wire_resolve(w, call, &label, err, errlen);
	if (!rc)
		rc = endpoint_resolve(call->service, s->c->region, label, s->c->sh->getenv_fn, &s->ep,
				      err, errlen);
	if (!rc)
		rc = buf_puts(&p, s->ep.base_path);
	if (!rc)
		rc = wire_build(w, call, s->ep.s3_path_style, &p, err, errlen);
	if (rc)
		goto out;
	sigv4_sha256_hex(w->payload ? w->payload : "", w->payload_len, s->payload_hash);
	rc = buf_printf(&u, "%s://%s%s%s%s", s->ep.scheme, s->ep.host, p.data ? p.data : "/",
			w->query ? "?" : "", w->query ? w->query : "");
	if (rc)
		goto out;
	s->url = buf_detach(&u, NULL);
	s->path = buf_detach(&p, NULL);
	if (!s->url || !s->path)
		rc = FB_E_NOMEM;
out:
	if (rc == FB_E_TOO_LARGE && !err[0])
		snprintf(err, errlen, "request larger than the limit");
	buf_cleanup(&u);
	buf_cleanup(&p);
	return rc;
}

static void add_hdr(struct cstate_s *s, const char *name, const char *value)
{
	if (s->nhdrs < MAX_HDRS) {
		s->hdrs[s->nhdrs].name = name;
		s->hdrs[s->nhdrs].value = value;
		s->nhdrs++;
	}
}

static void sha256_b64(const void *data, size_t len, char out[48])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256(data ? data : (const void *)"", len, md);
	EVP_EncodeBlock((unsigned char *)out, md, sizeof(md));
}

/* Headers for one attempt (x-amz-date changes) and the signature. */
static enum fb_err cs_sign(struct cstate_s *s, int64_t now_ms, char *err, size_t errlen)
{
	struct aws_call *call = s->call;
	const struct wire_req *w = &s->w;
	struct sigv4_header sh[MAX_HDRS];
	struct sigv4_request req;
	struct sigv4_params prm;
	time_t t = (time_t)(now_ms / 1000);
	struct tm tm;
	size_t i;
	enum fb_err rc;

	utc_tm((int64_t)t, &tm);
	strftime(s->amz_date, sizeof(s->amz_date), "%Y%m%dT%H%M%SZ", &tm);
	s->nhdrs = 0;
	add_hdr(s, "Host", s->ep.host);
	add_hdr(s, "X-Amz-Date", s->amz_date);
	if (w->proto == WIRE_RESTXML)
		add_hdr(s, "X-Amz-Content-SHA256", s->payload_hash);
	s->nhdrs += wire_headers(w, s->hdrs + s->nhdrs, MAX_HDRS - s->nhdrs);
	s->sent_sum = NULL;
	if (w->proto == WIRE_RESTXML) {
		int want_sum = 0, have_sum = 0;

		if (call->nheaders > MAX_HDRS - 8) {
			snprintf(err, errlen, "too many s3 headers");
			return FB_E_INVALID;
		}
		for (i = 0; i < call->nheaders; i++) {
			const struct aws_header *h = &call->headers[i];

			if (!h->name || !header_safe(h->name, 1) || (h->value && !header_safe(h->value, 0))) {
				snprintf(err, errlen, "invalid s3 header '%.64s'", h->name ? h->name : "");
				return FB_E_INVALID;
			}
			/* A checksum header without a value asks us to compute it. */
			if (strcasecmp(h->name, "x-amz-checksum-sha256") == 0 && (!h->value || !*h->value)) {
				want_sum = 1;
				continue;
			}
			if (strcasecmp(h->name, "x-amz-checksum-sha256") == 0) {
				have_sum = 1;
				if (!w->s3_head && !w->s3_get)
					s->sent_sum = h->value;
			}
			if (strcasecmp(h->name, "x-amz-sdk-checksum-algorithm") == 0 && h->value &&
			    strcasecmp(h->value, "SHA256") == 0 && !w->s3_head && !w->s3_get)
				want_sum = 1;
			if (strcasecmp(h->name, "host") == 0 || strcasecmp(h->name, "authorization") == 0 ||
			    strcasecmp(h->name, "x-amz-date") == 0 ||
			    strcasecmp(h->name, "x-amz-content-sha256") == 0 ||
			    strcasecmp(h->name, "x-amz-security-token") == 0)
				continue;
			add_hdr(s, h->name, h->value ? h->value : "");
		}
		if (want_sum && !have_sum && !w->s3_head && !w->s3_get) {
			sha256_b64(w->payload, w->payload_len, s->checksum_b64);
			add_hdr(s, "x-amz-checksum-sha256", s->checksum_b64);
			s->sent_sum = s->checksum_b64;
		}
	}
	if (s->c->cr.token)
		add_hdr(s, "X-Amz-Security-Token", s->c->cr.token);
	for (i = 0; i < s->nhdrs; i++) {
		sh[i].name = s->hdrs[i].name;
		sh[i].value = s->hdrs[i].value;
	}
	memset(&req, 0, sizeof(req));
	req.method = w->method;
	req.path = s->path;
	req.query = w->query ? w->query : "";
	req.headers = sh;
	req.nheaders = s->nhdrs;
	req.payload = w->payload;
	req.payload_len = w->payload_len;
	req.payload_hash = s->payload_hash;
	memset(&prm, 0, sizeof(prm));
	prm.access_key = s->c->cr.akid;
	prm.secret_key = s->c->cr.secret;
	prm.session_token = s->c->cr.token;
	prm.region = s->ep.signing_region;
	prm.service = s->ep.signing_name;
	prm.amz_date = s->amz_date;
	prm.normalize_path = w->proto != WIRE_RESTXML;
	prm.double_encode = w->proto != WIRE_RESTXML;
	buf_reset(&s->auth);
	rc = sigv4_authorization(&req, &prm, &s->auth);
	if (rc) {
		snprintf(err, errlen, "cannot sign request: %s", fb_strerror(rc));
		return rc;
	}
	add_hdr(s, "Authorization", s->auth.data);
	return FB_OK;
}

/* ---- the loop ------------------------------------------------------------------- */

static void finish_call(struct cstate_s *s, enum fb_err rc, int64_t now)
{
	struct aws_call *call = s->call;

	call->rc = rc;
	call->elapsed_ms = now - call->started_ms;
	s->st = CS_DONE;
}

/* "<what> (after N attempts)" into err.message when more than one attempt
 * was made, so every report says how hard we tried. */
static void set_message(struct aws_call *call, const char *what_in)
{
	char what[sizeof(call->err.message)];

	buf_copy_str(what, sizeof(what), what_in); /* what_in may be err.message */
	if (call->err.attempts > 1)
		snprintf(call->err.message, sizeof(call->err.message), "%.440s (after %d attempts)",
			 what, call->err.attempts);
	else
		snprintf(call->err.message, sizeof(call->err.message), "%s", what);
}

static void fail_timeout(struct cstate_s *s, int64_t now)
{
	char msg[480];
	int n = s->call->err.attempts;

	if (n == 0)
		snprintf(msg, sizeof(msg), "deadline reached before the first attempt");
	else
		snprintf(msg, sizeof(msg), "deadline reached after %d attempt%s: %.400s", n,
			 n == 1 ? "" : "s", s->last_problem[0] ? s->last_problem : "no answer");
	snprintf(s->call->err.message, sizeof(s->call->err.message), "%s", msg);
	finish_call(s, FB_E_TIMEOUT, now);
}

static int64_t deadline_left(const struct aws_shared *sh, int64_t now)
{
	if (!sh->deadline_ms)
		return INT64_MAX;
	return sh->deadline_ms - AWS_DEADLINE_MARGIN_MS - now;
}

static void start_attempt(struct cstate_s *s, int64_t now)
{
	struct aws_shared *sh = s->c->sh;
	struct aws_call *call = s->call;
	int64_t left = deadline_left(sh, now);
	char err[256] = "";
	enum fb_err rc;

	/* Too little time for even a connect: stop instead of starting an
	 * attempt doomed to be cut off. */
	if (left < 10) {
		fail_timeout(s, now);
		return;
	}
	rc = cs_sign(s, now, err, sizeof(err));
	if (rc) {
		buf_copy_str(call->err.message, sizeof(call->err.message), err);
		finish_call(s, rc, now);
		return;
	}
	memset(&s->x, 0, sizeof(s->x));
	s->x.req.method = s->w.method;
	s->x.req.url = s->url;
	s->x.req.headers = s->hdrs;
	s->x.req.nheaders = s->nhdrs;
	s->x.req.body = s->w.payload;
	s->x.req.body_len = s->w.payload_len;
	s->x.req.timeout_ms = left < AWS_ATTEMPT_TIMEOUT_MS ? left : AWS_ATTEMPT_TIMEOUT_MS;
	s->x.req.connect_timeout_ms = left < AWS_CONNECT_TIMEOUT_MS ? left : AWS_CONNECT_TIMEOUT_MS;
	s->x.user = s;
	call->err.attempts++;
	rc = sh->t->start(sh->t->ctx, &s->x);
	if (rc) {
		buf_copy_str(call->err.message, sizeof(call->err.message), "cannot start http request");
		finish_call(s, rc, now);
		return;
	}
	s->st = CS_FLIGHT;
}
/* Decides what an answered (or failed) attempt means. */
static void on_done(struct cstate_s *s, int64_t now)
{
	struct aws_shared *sh = s->c->sh;
	struct aws_call *call = s->call;
	struct http_response *r = &s->x.resp;
	enum aws_retry_class cls = AWS_RETRY_NO;
	int timeout_err = 0;
	int64_t delay;

	s->st = CS_READY;
	call->err.http_status = r->status;
	if (r->rc == FB_OK && r->status >= 200 && r->status < 300) {
		enum fb_err rc;

		call->err.code[0] = '\0';
		rc = wire_answer(&s->w, r, s->sent_sum, call);
		if (rc != FB_E_AWS) {
			call->err.code[0] = '\0';
			if (rc == FB_OK) {
				call->err.message[0] = '\0';
				sh->quota += s->quota_held ? s->quota_held : QUOTA_SUCCESS_REFUND;
				if (sh->quota > QUOTA_MAX)
					sh->quota = QUOTA_MAX;
			}
			finish_call(s, rc, now);
			goto out;
		}
		/* A 2xx that is not S3's confirmation (wire_answer): retried
		 * like a 5xx, as botocore does with S3's 200-with-error. */
		snprintf(s->last_problem, sizeof(s->last_problem), "%.120s: %.270s", call->err.code,
			 call->err.message);
		cls = aws_retry_classify(500, call->err.code);
	} else if (r->rc == FB_OK) {
		wire_parse_error(r, &call->err);
		/* A HEAD error has no body to name it: S3's answer is the status. */
		if (s->w.s3_head && !call->err.code[0])
			wire_s3_head_error(r, call->bucket, s->ep.signing_region, &call->err);
		snprintf(s->last_problem, sizeof(s->last_problem), "%.120s%s%.270s",
			 call->err.code, call->err.code[0] ? ": " : "", call->err.message);
		cls = aws_retry_classify(r->status, call->err.code);
	} else {
		call->err.code[0] = '\0';
		call->err.request_id[0] = '\0';
		snprintf(s->last_problem, sizeof(s->last_problem), "%.300s",
			 r->errmsg[0] ? r->errmsg : fb_strerror(r->rc));
		timeout_err = r->rc == FB_E_TIMEOUT;
		if (r->transient)
			cls = AWS_RETRY_TRANSIENT;
		if (r->rc == FB_E_TOO_LARGE) {
			set_message(call, s->last_problem);
			finish_call(s, FB_E_TOO_LARGE, now);
			goto out;
		}
	}
	/* The attempt was cut off by the deadline itself. */
	if (timeout_err && deadline_left(sh, now) < 10) {
		fail_timeout(s, now);
		goto out;
	}
	if (cls == AWS_RETRY_NO ||
	    call->err.attempts >= (call->max_attempts > 0 ? call->max_attempts : sh->max_attempts) ||
	    sh->quota < (timeout_err ? QUOTA_TIMEOUT_COST : QUOTA_RETRY_COST)) {
		set_message(call, s->last_problem[0] && r->rc != FB_OK ? s->last_problem
								     : call->err.message);
		finish_call(s, r->rc != FB_OK ? r->rc
				: (s->w.s3_head && r->status == 404) ? FB_E_NOTFOUND : FB_E_AWS, now);
		goto out;
	}
	delay = aws_backoff_ms(call->err.attempts, cls == AWS_RETRY_THROTTLE, rng_next(sh));
	if (deadline_left(sh, now + delay) < 10) {
		fail_timeout(s, now);
		goto out;
	}
	s->quota_held = timeout_err ? QUOTA_TIMEOUT_COST : QUOTA_RETRY_COST;
	sh->quota -= s->quota_held;
	s->wake_ms = now + delay;
out:
	http_response_cleanup(r);
}

enum fb_err aws_call_run_all(struct aws_client *c, struct aws_call *calls, size_t n)
{
	struct http_transport *t = c->sh->t;
	struct cstate_s *st;
	size_t i, pending = 0;
	enum fb_err first = FB_OK;
	int64_t now;

	st = calloc(n ? n : 1, sizeof(*st));
	if (!st)
		return FB_E_NOMEM;
	now = t->now_ms(t->ctx);
	for (i = 0; i < n; i++) {
		struct aws_call *call = &calls[i];
		char err[256] = "";
		enum fb_err rc;

		cJSON_Delete(call->out);
		call->out = NULL;
		memset(&call->err, 0, sizeof(call->err));
		call->rc = FB_OK;
		call->started_ms = now;
		call->elapsed_ms = 0;
		st[i].call = call;
		st[i].c = call->client ? call->client : c;
		st[i].wake_ms = now;
		if (st[i].c->sh != c->sh) {
			snprintf(err, sizeof(err), "the call's client does not share the round's connection pool");
			rc = FB_E_INVALID;
		} else {
			rc = cs_prepare(&st[i], err, sizeof(err));
		}
		if (rc) {
			buf_copy_str(call->err.message, sizeof(call->err.message), err);
			finish_call(&st[i], rc, now);
		} else {
			pending++;
		}
	}
	while (pending) {
		struct http_exchange *done = NULL;
		int64_t next_wake = INT64_MAX, timeout;
		int inflight = 0;
		enum fb_err rc;

		now = t->now_ms(t->ctx);
		for (i = 0; i < n; i++) {
			if (st[i].st == CS_READY && st[i].wake_ms <= now) {
				start_attempt(&st[i], now);
				if (st[i].st == CS_DONE)
					pending--;
			}
			if (st[i].st == CS_FLIGHT)
				inflight = 1;
			else if (st[i].st == CS_READY && st[i].wake_ms < next_wake)
				next_wake = st[i].wake_ms;
		}
		if (!pending)
			break;
		timeout = next_wake == INT64_MAX ? 1000 : next_wake - now;
		if (inflight && timeout > 1000)
			timeout = 1000;
		if (timeout < 0)
			timeout = 0;
		rc = t->wait(t->ctx, timeout, &done);
		now = t->now_ms(t->ctx);
		if (rc) {
			/* The transport itself broke: end everything in flight. */
			for (i = 0; i < n; i++) {
				if (st[i].st == CS_DONE)
					continue;
				if (st[i].st == CS_FLIGHT) {
					t->cancel(t->ctx, &st[i].x);
					http_response_cleanup(&st[i].x.resp);
				}
				buf_copy_str(st[i].call->err.message, sizeof(st[i].call->err.message),
					 "http transport failed");
				finish_call(&st[i], rc, now);
				pending--;
			}
			break;
		}
		if (done) {
			struct cstate_s *s = done->user;

			on_done(s, now);
			if (s->st == CS_DONE)
				pending--;
		}
	}
	for (i = 0; i < n; i++) {
		if (calls[i].rc && first == FB_OK)
			first = calls[i].rc;
		cs_cleanup(&st[i]);
	}
	free(st);
	return first;
}

enum fb_err aws_call_run(struct aws_client *c, struct aws_call *call)
{
	enum fb_err rc = aws_call_run_all(c, call, 1);

	if (rc == FB_E_NOMEM && call->rc == FB_OK)
		call->rc = rc;
	return call->rc;
}

void aws_call_cleanup(struct aws_call *call)
{
	if (!call)
		return;
	cJSON_Delete(call->out);
	call->out = NULL;
}

enum fb_err aws_do(struct aws_client *c, const char *service, const char *op,
		   const cJSON *in, cJSON **out, struct aws_error *err)
{
	struct aws_call call;
	enum fb_err rc;

	memset(&call, 0, sizeof(call));
	call.service = service;
	call.op = op;
	call.in = in;
	rc = aws_call_run(c, &call);
	if (out) {
		*out = call.out;
		call.out = NULL;
	}
	if (err)
		*err = call.err;
	aws_call_cleanup(&call);
	return rc;
}

/* ---- STS AssumeRole --------------------------------------------------------------- */

static const char *str_of(const cJSON *j, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* "2024-05-01T12:00:00Z" or with fractional seconds -> epoch ms; -1 if bad. */
static int64_t parse_iso8601(const char *s)
{
	struct tm tm;
	const char *p;

	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return -1;
	if (*p == '.')
		while (isdigit((unsigned char)*++p))
			;
	if (*p != 'Z' && *p != '\0')
		return -1;
	return (int64_t)timegm(&tm) * 1000;
}

static int session_name_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 2 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || strchr("_+=,.@-", s[i])))
			return 0;
	return 1;
}

enum fb_err aws_client_assume_role(struct aws_client *c, const char *role_arn,
				   const char *session_name,
				   struct aws_client **out, struct aws_error *err)
{
	struct aws_error local;
	struct role_entry *e;
	cJSON *in = NULL, *res = NULL;
	const cJSON *cr;
	const char *akid, *secret, *token, *exp;
	int64_t now = c->sh->t->now_ms(c->sh->t->ctx), expires;
	enum fb_err rc;

	if (!err)
		err = &local;
	memset(err, 0, sizeof(*err));
	*out = NULL;
	if (!session_name || !*session_name)
		session_name = "firebreak";
	if (!role_arn || strncmp(role_arn, "arn:", 4) != 0 || strlen(role_arn) > 2048 ||
	    !session_name_ok(session_name)) {
		snprintf(err->message, sizeof(err->message), "invalid role arn or session name");
		return FB_E_INVALID;
	}
	for (e = c->roles; e; e = e->next)
		if (strcmp(e->arn, role_arn) == 0 && strcmp(e->session, session_name) == 0 &&
		    now < e->expires_ms - ROLE_REFRESH_MS)
			return client_derive(c, c->region, e->cr.akid, e->cr.secret, e->cr.token, out);

	in = cJSON_CreateObject();
	if (!in || !cJSON_AddStringToObject(in, "RoleArn", role_arn) ||
	    !cJSON_AddStringToObject(in, "RoleSessionName", session_name) ||
	    !cJSON_AddStringToObject(in, "DurationSeconds", "3600")) {
		rc = FB_E_NOMEM;
		goto out;
	}
	rc = aws_do(c, "sts", "AssumeRole", in, &res, err);
	if (rc)
		goto out;
	cr = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(res, "AssumeRoleResult"), "Credentials");
	akid = str_of(cr, "AccessKeyId");
	secret = str_of(cr, "SecretAccessKey");
	token = str_of(cr, "SessionToken");
	exp = str_of(cr, "Expiration");
	expires = exp ? parse_iso8601(exp) : -1;
	if (!akid || !*akid || !secret || !*secret || !token || expires < 0) {
		snprintf(err->message, sizeof(err->message), "cannot parse sts AssumeRole answer");
		rc = FB_E_PARSE;
		goto out;
	}
	for (e = c->roles; e && (strcmp(e->arn, role_arn) != 0 || strcmp(e->session, session_name) != 0);
	     e = e->next)
		;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e || !(e->arn = strdup(role_arn)) || !(e->session = strdup(session_name))) {
			if (e)
				free(e->arn);
			free(e);
			rc = FB_E_NOMEM;
			goto out;
		}
		e->next = c->roles;
		c->roles = e;
	}
	e->expires_ms = expires;
	rc = creds_set(&e->cr, akid, secret, token);
	if (rc) {
		e->expires_ms = 0;
		goto out;
	}
	rc = client_derive(c, c->region, e->cr.akid, e->cr.secret, e->cr.token, out);
out:
	if (res) {
		/* The answer holds the secret: wipe it before freeing. */
		cJSON *s = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(res, "AssumeRoleResult"), "Credentials"),
			"SecretAccessKey");
		if (cJSON_IsString(s))
			OPENSSL_cleanse(s->valuestring, strlen(s->valuestring));
	}
	cJSON_Delete(res);
	cJSON_Delete(in);
	return rc;
}
