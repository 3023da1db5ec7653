#include "http.h"

#include <curl/curl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Idle easy handles kept for reuse; each one keeps its TLS/DNS state warm
 * through the share, and connections live in the multi's cache. */
#define POOL_MAX 32

struct curl_ctx {
	CURLM *multi;
	CURLSH *share;
	CURL *idle[POOL_MAX];
	size_t nidle;
	const char *cainfo;
};

struct xfer {
	CURL *easy;
	struct curl_slist *hdrs;
	int too_large;
	char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;

/* lr_main calls curl_global_init too; the call is reference-counted, so a
 * client made without the runtime loop (tools, tests) is still safe. */
static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int64_t http_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *http_ca_bundle(void)
{
	static const char *const paths[] = {
		"/etc/pki/tls/certs/ca-bundle.crt",   /* Amazon Linux 2023 */
		"/etc/ssl/certs/ca-certificates.crt", /* Debian */
	};
	const char *env = getenv("SSL_CERT_FILE");
	size_t i;

	if (env && *env && access(env, R_OK) == 0)
		return env;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (access(paths[i], R_OK) == 0)
			return paths[i];
	return NULL;
}

void http_response_init(struct http_response *r, size_t max_body)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body, max_body ? max_body : HTTP_MAX_RESPONSE_BYTES);
	buf_init(&r->headers, HTTP_MAX_HEADER_BYTES);
}

void http_response_cleanup(struct http_response *r)
{
	buf_cleanup(&r->body);
	buf_cleanup(&r->headers);
}

int http_response_header(const struct http_response *r, const char *name,
			 char *out, size_t outlen)
{
	const char *p = r->headers.data, *end, *line_end, *v;
	size_t nlen = strlen(name), vlen;
	int found = 0;

	if (outlen)
		out[0] = '\0';
	if (!p)
		return 0;
	end = p + r->headers.len;
	for (; p < end; p = line_end + 1) {
		line_end = memchr(p, '\n', (size_t)(end - p));
		if (!line_end)
			line_end = end;
		if ((size_t)(line_end - p) <= nlen || p[nlen] != ':' ||
		    strncasecmp(p, name, nlen) != 0)
			continue;
		v = p + nlen + 1;
		while (v < line_end && (*v == ' ' || *v == '\t'))
			v++;
		vlen = (size_t)(line_end - v);
		while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
			vlen--;
		if (outlen) {
			if (vlen >= outlen)
				vlen = outlen - 1;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
		}
		found = 1;
	}
	return found;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct http_exchange *x = ud;
	struct xfer *t = x->impl;

	if (buf_append(&x->resp.body, p, size * n) != FB_OK) {
		t->too_large = 1;
		return 0; /* CURLE_WRITE_ERROR */
	}
	return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct http_exchange *x = ud;
	struct xfer *t = x->impl;
	size_t len = size * n;

	/* Keep only the final answer's headers (after 100 Continue etc.). */
	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0)
		buf_reset(&x->resp.headers);
	if (buf_append(&x->resp.headers, p, len) != FB_OK) {
		t->too_large = 1;
		return 0;
	}
	return len;
}

static int has_header(const struct http_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return 1;
	return 0;
}

static enum fb_err build_headers(const struct http_request *req, struct curl_slist **out)
{
	struct curl_slist *l = NULL, *nl;
	struct buf line;
	size_t i;
	enum fb_err rc = FB_OK;

	buf_init(&line, 16384);
	for (i = 0; i < req->nheaders && rc == FB_OK; i++) {
		buf_reset(&line);
		rc = buf_printf(&line, "%s: %s", req->headers[i].name, req->headers[i].value);
		if (rc)
			break;
		nl = curl_slist_append(l, line.data);
		if (!nl)
			rc = FB_E_NOMEM;
		else
			l = nl;
	}
	/* No 100-continue round trip, and no form content type curl would
	 * add by itself to a body we did not sign it for. */
	if (rc == FB_OK && !(nl = curl_slist_append(l, "Expect:")))
		rc = FB_E_NOMEM;
	else if (rc == FB_OK)
		l = nl;
	if (rc == FB_OK && !has_header(req, "Content-Type")) {
		nl = curl_slist_append(l, "Content-Type:");
		if (!nl)
			rc = FB_E_NOMEM;
		else
			l = nl;
	}
	buf_cleanup(&line);
	if (rc) {
		curl_slist_free_all(l);
		return rc;
	}
	*out = l;
	return FB_OK;
}

static long clamp_ms(int64_t ms)
{
	if (ms < 1)
		return 1;
	if (ms > LONG_MAX / 2)
		return LONG_MAX / 2;
	return (long)ms;
}

static enum fb_err curl_start(void *ctxp, struct http_exchange *x)
{
	struct curl_ctx *ctx = ctxp;
	struct xfer *t;
	CURL *e;
	enum fb_err rc;

	t = calloc(1, sizeof(*t));
	if (!t)
		return FB_E_NOMEM;
	http_response_init(&x->resp, x->req.max_response);
	x->impl = t;
	rc = build_headers(&x->req, &t->hdrs);
	if (rc)
		goto fail;
	if (ctx->nidle) {
		e = ctx->idle[--ctx->nidle];
		curl_easy_reset(e);
	} else {
		e = curl_easy_init();
	}
	if (!e) {
		rc = FB_E_NOMEM;
		goto fail;
	}
	t->easy = e;
	curl_easy_setopt(e, CURLOPT_URL, x->req.url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_SHARE, ctx->share);
	/* TLS verification is not configurable, on purpose. */
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ctx->cainfo)
		curl_easy_setopt(e, CURLOPT_CAINFO, ctx->cainfo);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, clamp_ms(x->req.connect_timeout_ms));
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, clamp_ms(x->req.timeout_ms));
	curl_easy_setopt(e, CURLOPT_USERAGENT, "firebreak/1.0");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->hdrs);
	if (strcmp(x->req.method, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(x->req.method, "HEAD") == 0) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->req.body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->req.body ? x->req.body : "");
		if (strcmp(x->req.method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, x->req.method);
	}
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	if (curl_multi_add_handle(ctx->multi, e) != CURLM_OK) {
		rc = FB_E_IO;
		goto fail;
	}
	return FB_OK;
fail:
	if (t->easy)
		curl_easy_cleanup(t->easy);
	curl_slist_free_all(t->hdrs);
	free(t);
	x->impl = NULL;
	http_response_cleanup(&x->resp);
	return rc;
}

/* Detaches the easy handle and keeps it for the next exchange. */
static void release(struct curl_ctx *ctx, struct http_exchange *x)
{
	struct xfer *t = x->impl;

	if (!t)
		return;
	curl_multi_remove_handle(ctx->multi, t->easy);
	if (ctx->nidle < POOL_MAX)
		ctx->idle[ctx->nidle++] = t->easy;
	else
		curl_easy_cleanup(t->easy);
	curl_slist_free_all(t->hdrs);
	free(t);
	x->impl = NULL;
}

static int is_transient(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_OPERATION_TIMEDOUT:
		return 1;
	default:
		return 0;
	}
}

static void finish(struct curl_ctx *ctx, struct http_exchange *x, CURLcode cc)
{
	struct xfer *t = x->impl;
	long status = 0;

	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
	x->resp.status = status;
	if (cc == CURLE_OK) {
		x->resp.rc = FB_OK;
	} else if (t->too_large) {
		x->resp.rc = FB_E_TOO_LARGE;
		snprintf(x->resp.errmsg, sizeof(x->resp.errmsg), "response larger than %zu bytes",
			 x->resp.body.max);
	} else {
		x->resp.rc = cc == CURLE_OPERATION_TIMEDOUT ? FB_E_TIMEOUT : FB_E_IO;
		x->resp.transient = is_transient(cc);
		snprintf(x->resp.errmsg, sizeof(x->resp.errmsg), "%s",
			 t->errbuf[0] ? t->errbuf : curl_easy_strerror(cc));
	}
	release(ctx, x);
}

static enum fb_err curl_wait(void *ctxp, int64_t timeout_ms, struct http_exchange **done)
{
	struct curl_ctx *ctx = ctxp;
	int64_t until = http_now_ms() + (timeout_ms > 0 ? timeout_ms : 0), left;
	int running, q;
	CURLMsg *m;

	*done = NULL;
	for (;;) {
		if (curl_multi_perform(ctx->multi, &running) != CURLM_OK)
			return FB_E_IO;
		while ((m = curl_multi_info_read(ctx->multi, &q))) {
			struct http_exchange *x = NULL;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			if (!x)
				continue;
			finish(ctx, x, m->data.result);
			*done = x;
			return FB_OK;
		}
		left = until - http_now_ms();
		if (left <= 0)
			return FB_OK;
		/* With no transfer running curl_multi_poll sleeps the whole
		 * timeout, which is what a retry backoff wants. */
		if (curl_multi_poll(ctx->multi, NULL, 0, (int)(left > INT_MAX ? INT_MAX : left),
				    NULL) != CURLM_OK)
			return FB_E_IO;
	}
}

static void curl_cancel(void *ctxp, struct http_exchange *x)
{
	release(ctxp, x);
}

static int64_t curl_now(void *ctxp)
{
	(void)ctxp;
	return http_now_ms();
}

static void curl_destroy(void *ctxp)
{
	struct curl_ctx *ctx = ctxp;
	size_t i;

	if (!ctx)
		return;
	for (i = 0; i < ctx->nidle; i++)
		curl_easy_cleanup(ctx->idle[i]);
	if (ctx->multi)
		curl_multi_cleanup(ctx->multi);
	if (ctx->share)
		curl_share_cleanup(ctx->share);
	free(ctx);
}

enum fb_err http_curl_new(struct http_transport **out, char *err, size_t errlen)
{
	struct curl_ctx *ctx = NULL;
	struct http_transport *t = NULL;

	*out = NULL;
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK) {
		if (err && errlen)
			snprintf(err, errlen, "cannot initialise libcurl: %s",
				 curl_easy_strerror(global_rc));
		return FB_E_IO;
	}
	ctx = calloc(1, sizeof(*ctx));
	t = calloc(1, sizeof(*t));
	if (!ctx || !t)
		goto nomem;
	ctx->multi = curl_multi_init();
	ctx->share = curl_share_init();
	if (!ctx->multi || !ctx->share)
		goto nomem;
	curl_share_setopt(ctx->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(ctx->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	ctx->cainfo = http_ca_bundle();
	t->ctx = ctx;
	t->start = curl_start;
	t->wait = curl_wait;
	t->cancel = curl_cancel;
	t->now_ms = curl_now;
	t->destroy = curl_destroy;
	*out = t;
	return FB_OK;
nomem:
	curl_destroy(ctx);
	free(t);
	if (err && errlen)
		snprintf(err, errlen, "out of memory creating the http transport");
	return FB_E_NOMEM;
}

void http_transport_free(struct http_transport *t)
{
	if (!t)
		return;
	if (t->destroy)
		t->destroy(t->ctx);
	free(t);
}
