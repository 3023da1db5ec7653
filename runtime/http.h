/*
 * http: the transport seam under the AWS layer.
 *
 * A transport is a small struct of function pointers (STYLE.md "I/O behind
 * a seam"): the real one is libcurl multi with a pool of easy handles, one
 * shared connection cache, TLS session and DNS sharing (CURLSH); unit tests
 * substitute a fake that answers from a script on a virtual clock.
 *
 * The interface is asynchronous so concurrent calls and single calls share
 * one code path: start() queues an exchange, wait() drives transfers until
 * one finishes or the timeout passes (with nothing in flight it simply
 * sleeps, which is how retry backoff waits). Single-threaded; a transport
 * and its exchanges belong to one thread.
 */
#ifndef FB_HTTP_H
#define FB_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "fb_err.h"

/* AWS answers firebreak reads are small; 16 MB bounds a hostile or broken
 * peer (responses over it fail with FB_E_TOO_LARGE). */
#define HTTP_MAX_RESPONSE_BYTES (16u * 1024u * 1024u)
#define HTTP_MAX_HEADER_BYTES (64u * 1024u)

struct http_header {
	const char *name;
	const char *value;
};

struct http_request {
	const char *method;       /* "GET", "POST", "PUT" */
	const char *url;          /* absolute, already encoded */
	const struct http_header *headers; /* sent as given (Host included) */
	size_t nheaders;
	const void *body;         /* may be NULL when body_len == 0 */
	size_t body_len;
	int64_t connect_timeout_ms; /* > 0 */
	int64_t timeout_ms;       /* > 0: whole exchange */
	size_t max_response;      /* body cap; 0 = HTTP_MAX_RESPONSE_BYTES */
};

struct http_response {
	enum fb_err rc;           /* FB_OK when an HTTP answer was received */
	int transient;            /* rc != FB_OK and worth retrying (connect, reset, partial read) */
	long status;
	struct buf body;
	struct buf headers;       /* raw header lines of the final answer */
	char errmsg[256];         /* transport error text, no secrets */
};

/* One request in flight. The caller owns it and everything req points at
 * until the exchange is returned by wait() or cancelled. */
struct http_exchange {
	struct http_request req;
	struct http_response resp;
	void *user;               /* caller's tag */
	void *impl;               /* transport private */
};

struct http_transport {
	void *ctx;
	/* Queues x (req filled, resp zeroed). */
	enum fb_err (*start)(void *ctx, struct http_exchange *x);
	/* Drives transfers for at most timeout_ms (>= 0). *done is a finished
	 * exchange (resp filled), or NULL when the time passed first. */
	enum fb_err (*wait)(void *ctx, int64_t timeout_ms, struct http_exchange **done);
	/* Aborts an unfinished exchange; it is not returned by wait(). */
	void (*cancel)(void *ctx, struct http_exchange *x);
	/* Epoch milliseconds (the fake one is virtual). */
	int64_t (*now_ms)(void *ctx);
	void (*destroy)(void *ctx);
};

/* The real transport (libcurl). Caller destroys with t->destroy(t->ctx)
 * then free(t), or http_transport_free(). Does no network I/O. */
enum fb_err http_curl_new(struct http_transport **out, char *err, size_t errlen);
void http_transport_free(struct http_transport *t);

/* The CA bundle to verify TLS with: SSL_CERT_FILE, then Amazon Linux's
 * /etc/pki/tls/certs/ca-bundle.crt, then Debian's
 * /etc/ssl/certs/ca-certificates.crt; NULL if none exists (then libcurl's
 * built-in default, if any, is used). Returned string is static or from
 * the environment. */
const char *http_ca_bundle(void);

void http_response_init(struct http_response *r, size_t max_body);
void http_response_cleanup(struct http_response *r);
/* Value of the last header `name` (case-insensitive) in r->headers, copied
 * trimmed into out; returns 1 if found. */
int http_response_header(const struct http_response *r, const char *name,
			 char *out, size_t outlen);

/* Wall clock in epoch ms (CLOCK_REALTIME, like Lambda's deadline). */
int64_t http_now_ms(void);

#endif
