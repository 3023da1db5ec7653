#include "lr.h"

#include <ctype.h>
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/ssl.h>

#include "log.h"

/* ---- time ------------------------------------------------------------------ */

int64_t lr_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t lr_remaining_ms_at(const struct lr_context *ctx, int64_t now_ms)
{
	int64_t d = ctx->deadline_ms;

	/* Saturate instead of overflowing on absurd inputs. */
	if (now_ms < 0 && d > INT64_MAX + now_ms)
		return INT64_MAX;
	if (now_ms > 0 && d < INT64_MIN + now_ms)
		return INT64_MIN;
	return d - now_ms;
}

int64_t lr_remaining_ms(const struct lr_context *ctx)
{
	return lr_remaining_ms_at(ctx, lr_now_ms());
}

int lr_time_left(const struct lr_context *ctx, int64_t need_ms)
{
	return !ctx || !ctx->deadline_ms || lr_remaining_ms(ctx) >= need_ms;
}

/* ---- invocation headers (pure) ---------------------------------------------- */

void lr_headers_init(struct lr_headers *h)
{
	memset(h, 0, sizeof(*h));
}

void lr_headers_cleanup(struct lr_headers *h)
{
	free(h->request_id);
	free(h->function_arn);
	free(h->trace_id);
	free(h->client_context);
	free(h->cognito_identity);
	free(h->tenant_id);
	lr_headers_init(h);
}

static int is_hspace(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static enum fb_err set_owned(char **slot, const char *p, size_t n)
{
	char *s;

	if (n > LR_MAX_HEADER_VALUE)
		return FB_E_TOO_LARGE;
	s = malloc(n + 1);
	if (!s)
		return FB_E_NOMEM;
	memcpy(s, p, n);
	s[n] = '\0';
	free(*slot);
	*slot = s;
	return FB_OK;
}

/* Epoch milliseconds: digits only, no sign, no overflow. */
static enum fb_err parse_deadline(const char *p, size_t n, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (n == 0 || n > 19)
		return FB_E_PARSE;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return FB_E_PARSE;
		if (v > (INT64_MAX - (p[i] - '0')) / 10)
			return FB_E_PARSE;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return FB_OK;
}

enum fb_err lr_headers_parse_line(struct lr_headers *h, const char *line, size_t len)
{
	static const struct {
		const char *name;
		size_t off;
	} fields[] = {
		{ "Lambda-Runtime-Aws-Request-Id", offsetof(struct lr_headers, request_id) },
		{ "Lambda-Runtime-Invoked-Function-Arn", offsetof(struct lr_headers, function_arn) },
		{ "Lambda-Runtime-Trace-Id", offsetof(struct lr_headers, trace_id) },
		{ "Lambda-Runtime-Client-Context", offsetof(struct lr_headers, client_context) },
		{ "Lambda-Runtime-Cognito-Identity", offsetof(struct lr_headers, cognito_identity) },
		{ "Lambda-Runtime-Aws-Tenant-Id", offsetof(struct lr_headers, tenant_id) },
	};
	const char *colon, *v, *end;
	size_t name_len, i;

	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		/* A new response (e.g. after a retry): forget the old headers. */
		lr_headers_cleanup(h);
		return FB_OK;
	}
	colon = memchr(line, ':', len);
	if (!colon)
		return FB_OK; /* the blank line ending the headers, or junk */
	name_len = (size_t)(colon - line);
	while (name_len > 0 && is_hspace(line[name_len - 1]))
		name_len--;
	v = colon + 1;
	end = line + len;
	while (v < end && is_hspace(*v))
		v++;
	while (end > v && is_hspace(end[-1]))
		end--;

	if (name_len == strlen("Lambda-Runtime-Deadline-Ms") &&
	    strncasecmp(line, "Lambda-Runtime-Deadline-Ms", name_len) == 0) {
		h->deadline_ms = 0;
		return parse_deadline(v, (size_t)(end - v), &h->deadline_ms);
	}
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (name_len == strlen(fields[i].name) &&
		    strncasecmp(line, fields[i].name, name_len) == 0)
			return set_owned((char **)((char *)h + fields[i].off), v, (size_t)(end - v));
	}
	return FB_OK;
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

void lr_headers_to_context(const struct lr_headers *h, struct lr_context *ctx)
{
	ctx->request_id = or_empty(h->request_id);
	ctx->deadline_ms = h->deadline_ms;
	ctx->function_arn = or_empty(h->function_arn);
	ctx->trace_id = or_empty(h->trace_id);
	ctx->client_context = or_empty(h->client_context);
	ctx->cognito_identity = or_empty(h->cognito_identity);
	ctx->tenant_id = or_empty(h->tenant_id);
}

/* ---- results and error bodies (pure) ------------------------------------------ */

void lr_error_type_sanitize(const char *type, char *out, size_t outlen)
{
	size_t i, n = 0;

	if (outlen == 0)
		return;
	if (!type || !*type)
		type = LR_ERR_HANDLER;
	for (i = 0; type[i] && n + 1 < outlen; i++) {
		unsigned char c = (unsigned char)type[i];

		out[n++] = (c >= 0x21 && c <= 0x7e) ? (char)c : '_';
	}
	out[n] = '\0';
}

/* Length of the longest prefix of s[0..n) that does not end inside a UTF-8
 * sequence, so a cut message stays valid UTF-8. */
static size_t utf8_floor(const char *s, size_t n)
{
	size_t i = n;

	while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
		i--;
	return i;
}

static enum fb_err error_json_once(const char *type, const char *message, size_t mlen,
				   struct buf *out)
{
	char safe_type[128];
	cJSON *obj = NULL;
	char *msg = NULL, *text = NULL;
	enum fb_err rc = FB_E_NOMEM;

	lr_error_type_sanitize(type, safe_type, sizeof(safe_type));
	msg = malloc(mlen + 1);
	if (!msg)
		goto out;
	memcpy(msg, message, mlen);
	msg[mlen] = '\0';
	obj = cJSON_CreateObject();
	if (!obj || !cJSON_AddStringToObject(obj, "errorMessage", msg) ||
	    !cJSON_AddStringToObject(obj, "errorType", safe_type) ||
	    !cJSON_AddArrayToObject(obj, "stackTrace"))
		goto out;
	text = cJSON_PrintUnformatted(obj);
	if (!text)
		goto out;
	rc = buf_puts(out, text);
out:
	free(text);
	free(msg);
	cJSON_Delete(obj);
	return rc;
}

enum fb_err lr_error_json(const char *type, const char *message, struct buf *out)
{
	static const char mark[] = " ...[truncated]";
	size_t mlen, start = out->len;
	enum fb_err rc;
	char *cut;

	if (!message)
		message = "";
	mlen = strlen(message);
	/* Escaping can grow a message up to 6x (\u00XX), so try as is first. */
	rc = error_json_once(type, message, mlen, out);
	if (rc == FB_OK && out->len - start <= LR_MAX_RESPONSE_BYTES)
		return FB_OK;
	if (rc != FB_OK && rc != FB_E_TOO_LARGE)
		return rc;
	out->len = start;
	if (out->data)
		out->data[start] = '\0';
	/* Worst case 6 bytes of JSON per message byte keeps us under the limit. */
	mlen = (LR_MAX_RESPONSE_BYTES - 512) / 6;
	if (mlen > strlen(message))
		mlen = strlen(message);
	mlen = utf8_floor(message, mlen);
	cut = malloc(mlen + sizeof(mark));
	if (!cut)
		return FB_E_NOMEM;
	memcpy(cut, message, mlen);
	memcpy(cut + mlen, mark, sizeof(mark));
	rc = error_json_once(type, cut, mlen + sizeof(mark) - 1, out);
	free(cut);
	return rc;
}

void lr_result_init(struct lr_result *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body, LR_MAX_RESULT_BYTES);
}

void lr_result_cleanup(struct lr_result *r)
{
	buf_cleanup(&r->body);
	free(r->error_message);
	r->error_message = NULL;
	r->is_error = 0;
	r->error_type[0] = '\0';
}

enum fb_err lr_result_ok(struct lr_result *r, const char *json, size_t len)
{
	buf_reset(&r->body);
	r->is_error = 0;
	return buf_append(&r->body, json, len);
}

enum fb_err lr_result_error(struct lr_result *r, const char *type, const char *message)
{
	char *m = strdup(message ? message : "");

	if (!m)
		return FB_E_NOMEM;
	free(r->error_message);
	r->error_message = m;
	r->is_error = 1;
	snprintf(r->error_type, sizeof(r->error_type), "%s", type ? type : "");
	buf_reset(&r->body);
	return FB_OK;
}

static enum fb_err post_error(struct lr_post *p, const char *type, const char *message)
{
	enum fb_err rc;

	p->is_error = 1;
	lr_error_type_sanitize(type, p->error_type, sizeof(p->error_type));
	buf_reset(&p->err_body);
	rc = lr_error_json(p->error_type, message, &p->err_body);
	if (rc != FB_OK)
		return rc;
	p->data = p->err_body.data;
	p->len = p->err_body.len;
	return FB_OK;
}

enum fb_err lr_post_prepare(enum fb_err handler_rc, const struct lr_result *r, struct lr_post *p)
{
	char msg[160];

	memset(p, 0, sizeof(*p));
	/* lr_error_json keeps the error body under the limit; allow framing. */
	buf_init(&p->err_body, LR_MAX_RESPONSE_BYTES + 1024);
	if (r->is_error)
		return post_error(p, r->error_type, r->error_message);
	if (handler_rc == FB_E_TOO_LARGE || r->body.len > LR_MAX_RESPONSE_BYTES) {
		snprintf(msg, sizeof(msg),
			 "response payload size exceeded maximum allowed payload size (%u bytes)",
			 LR_MAX_RESPONSE_BYTES);
		return post_error(p, LR_ERR_RESPONSE_TOO_LARGE, msg);
	}
	if (handler_rc != FB_OK) {
		snprintf(msg, sizeof(msg), "handler failed: %s", fb_strerror(handler_rc));
		return post_error(p, LR_ERR_HANDLER, msg);
	}
	p->data = r->body.data ? r->body.data : "";
	p->len = r->body.len;
	return FB_OK;
}

void lr_post_cleanup(struct lr_post *p)
{
	buf_cleanup(&p->err_body);
	p->data = NULL;
	p->len = 0;
}

/* ---- the Runtime API client (I/O) ----------------------------------------------- */

/* The Runtime API is on the same host; a connect that takes longer than
 * this means it is not there. */
#define LR_CONNECT_TIMEOUT_MS 1000L

struct lr_client {
	CURL *curl;                 /* the one reused handle (and connection) */
	char base[320];             /* "http://host:port/2018-06-01/runtime" */
	struct curl_slist *post_headers;
	struct lr_headers headers;  /* from the last /next */
	struct buf event;           /* body of the last /next */
	int event_too_large;
	char curl_err[CURL_ERROR_SIZE];
};

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct lr_client *c = ud;
	enum fb_err rc = lr_headers_parse_line(&c->headers, p, size * n);

	if (rc != FB_OK)
		log_warn("cannot parse runtime api header: %s", fb_strerror(rc));
	return size * n;
}

/* Past the cap the body is drained and dropped, keeping the connection
 * usable; the invocation then gets an error result. */
static size_t on_event_body(char *p, size_t size, size_t n, void *ud)
{
	struct lr_client *c = ud;

	if (!c->event_too_large && buf_append(&c->event, p, size * n) != FB_OK)
		c->event_too_large = 1;
	return size * n;
}

static size_t on_discard(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

static void client_cleanup(struct lr_client *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->post_headers);
	lr_headers_cleanup(&c->headers);
	buf_cleanup(&c->event);
}

static enum fb_err client_init(struct lr_client *c, const char *api, char *err, size_t errlen)
{
	struct curl_slist *l;

	memset(c, 0, sizeof(*c));
	lr_headers_init(&c->headers);
	buf_init(&c->event, LR_MAX_EVENT_BYTES);
	if (!api || !*api) {
		snprintf(err, errlen, "environment variable 'AWS_LAMBDA_RUNTIME_API' is not set");
		return FB_E_CONFIG;
	}
	if ((size_t)snprintf(c->base, sizeof(c->base), "http://%s/2018-06-01/runtime", api) >=
	    sizeof(c->base)) {
		snprintf(err, errlen, "environment variable 'AWS_LAMBDA_RUNTIME_API' is too long");
		return FB_E_CONFIG;
	}
	c->curl = curl_easy_init();
	if (!c->curl) {
		snprintf(err, errlen, "cannot create curl handle");
		return FB_E_NOMEM;
	}
	/* "Expect:" removes curl's 100-continue round trip on larger POSTs. */
	l = curl_slist_append(NULL, "Expect:");
	if (l)
		c->post_headers = curl_slist_append(l, "Content-Type: application/json");
	if (!l || !c->post_headers) {
		curl_slist_free_all(l);
		c->post_headers = NULL;
		snprintf(err, errlen, "out of memory");
		return FB_E_NOMEM;
	}
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, LR_CONNECT_TIMEOUT_MS);
	/* Runtime API: /next blocks for as long as the sandbox waits for work,
	 * across freezes, so there is deliberately no CURLOPT_TIMEOUT. */
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, 0L);
	curl_easy_setopt(c->curl, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	/* The Runtime API is local: never route it through an HTTP(S)_PROXY. */
	curl_easy_setopt(c->curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->curl_err);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, c);
	return FB_OK;
}

/* Runs the prepared transfer; on a transport failure over a reused
 * connection (which the peer may have closed meanwhile) tries once more. */
static enum fb_err client_perform(struct lr_client *c, const char *what, int is_next,
				  long *status)
{
	CURLcode cc = CURLE_OK;
	long connects = 0;
	int attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		if (is_next) {
			lr_headers_cleanup(&c->headers);
			buf_reset(&c->event);
			c->event_too_large = 0;
		}
		c->curl_err[0] = '\0';
		cc = curl_easy_perform(c->curl);
		if (cc == CURLE_OK)
			break;
		curl_easy_getinfo(c->curl, CURLINFO_NUM_CONNECTS, &connects);
		log_warn("runtime api '%s' failed: %s", what,
			 c->curl_err[0] ? c->curl_err : curl_easy_strerror(cc));
		if (connects != 0)
			return FB_E_IO; /* a fresh connection failed: do not retry */
	}
	if (cc != CURLE_OK)
		return FB_E_IO;
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
	return FB_OK;
}

/* GET /invocation/next into c->headers and c->event. */
static enum fb_err client_next(struct lr_client *c, long *status)
{
	char url[400];

	snprintf(url, sizeof(url), "%s/invocation/next", c->base);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_event_body);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
	return client_perform(c, "invocation/next", 1, status);
}

/* POST a body to base + path. The error type header is sent when non-NULL;
 * callers pass it sanitized. */
static enum fb_err client_post(struct lr_client *c, const char *path, const char *error_type,
			       const char *data, size_t len, long *status)
{
	char url[600], hdr[200];
	struct curl_slist *extra = NULL, *headers = c->post_headers;
	enum fb_err rc;

	snprintf(url, sizeof(url), "%s%s", c->base, path);
	if (error_type) {
		snprintf(hdr, sizeof(hdr), "Lambda-Runtime-Function-Error-Type: %s", error_type);
		extra = curl_slist_append(NULL, hdr);
		if (!extra)
			return FB_E_NOMEM;
		/* Chain our fixed list behind the one extra header for this call. */
		extra->next = c->post_headers;
		headers = extra;
	}
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
	/* POSTFIELDS + POSTFIELDSIZE_LARGE: an explicit Content-Length, no
	 * chunked encoding, and curl does not copy the body. */
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, data);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_discard);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, NULL);
	rc = client_perform(c, path, 0, status);
	if (extra) {
		extra->next = NULL;
		curl_slist_free_all(extra);
	}
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	return rc;
}

/* The Runtime API answers 202 to posts. 500 means the runtime must exit
 * (its state is unrecoverable); 4xx is logged and the loop goes on. */
static enum fb_err check_post_status(const char *what, long status)
{
	if (status == 202 || status == 200)
		return FB_OK;
	if (status >= 500) {
		log_error("runtime api answered %ld to '%s': exiting", status, what);
		return FB_E_HTTP;
	}
	log_error("runtime api answered %ld to '%s'", status, what);
	return FB_OK;
}

static int post_init_error(struct lr_client *c, enum fb_err rc, const char *msg)
{
	struct buf body;
	long status = 0;
	char type[128];

	lr_error_type_sanitize(LR_ERR_INIT, type, sizeof(type));
	buf_init(&body, LR_MAX_RESPONSE_BYTES + 1024);
	log_error("init failed: %s", msg[0] ? msg : fb_strerror(rc));
	if (lr_error_json(type, msg[0] ? msg : fb_strerror(rc), &body) == FB_OK &&
	    client_post(c, "/init/error", type, body.data, body.len, &status) == FB_OK)
		check_post_status("init/error", status);
	buf_cleanup(&body);
	return 1;
}

/* _X_AMZN_TRACE_ID must describe this invocation only: set it from the
 * header, or remove a value left from the previous invoke. */
static void set_trace_env(const char *trace_id)
{
	if (trace_id && *trace_id)
		setenv("_X_AMZN_TRACE_ID", trace_id, 1);
	else
		unsetenv("_X_AMZN_TRACE_ID");
}

/* One invocation: handler, then the post. Returns FB_OK to continue the
 * loop, anything else to end the process. */
static enum fb_err run_one(struct lr_client *c, lr_handler_fn handler, void *state)
{
	struct lr_context ctx;
	struct lr_result result;
	struct lr_post post;
	enum fb_err hrc = FB_OK, rc;
	char path[300];
	long status = 0;

	lr_headers_to_context(&c->headers, &ctx);
	lr_result_init(&result);
	if (c->event_too_large) {
		lr_result_error(&result, LR_ERR_EVENT_TOO_LARGE,
				"event payload exceeds the runtime's limit");
	} else {
		hrc = handler(state, c->event.data ? c->event.data : "", c->event.len, &ctx,
			      &result);
	}
	rc = lr_post_prepare(hrc, &result, &post);
	if (rc != FB_OK) {
		log_error("cannot build the invocation result: %s", fb_strerror(rc));
		goto out;
	}
	if (post.is_error)
		log_warn("invocation ended with error type '%s'", post.error_type);
	snprintf(path, sizeof(path), "/invocation/%s/%s", ctx.request_id,
		 post.is_error ? "error" : "response");
	rc = client_post(c, path, post.is_error ? post.error_type : NULL, post.data, post.len,
			 &status);
	if (rc == FB_OK)
		rc = check_post_status(path, status);
out:
	lr_post_cleanup(&post);
	lr_result_cleanup(&result);
	return rc;
}

/* A request id goes into a URL path: refuse anything but a plain token. */
static int request_id_ok(const char *id)
{
	size_t i;

	if (!id || !*id || strlen(id) > 200)
		return 0;
	for (i = 0; id[i]; i++)
		if (!isalnum((unsigned char)id[i]) && id[i] != '-' && id[i] != '_' && id[i] != '.')
			return 0;
	return 1;
}

/* The handler state lives as long as the process (Lambda never asks a
 * runtime to tear down). Keeping it in a global makes it "still reachable"
 * for LeakSanitizer and valgrind at exit instead of a false leak, so the
 * sanitizer and valgrind runs (tests/integration/81, 82) can demand zero
 * definite leaks. volatile: a write-only static would be optimised away. */
static void *volatile lr_state_keep;

int lr_main(lr_init_fn init, lr_handler_fn handler)
{
	struct lr_client c;
	void *state = NULL;
	char err[1024] = "";
	enum fb_err rc;
	long status;
	int exit_code = 1;

	/* A peer closing a socket must be an error return, not a dead process. */
	signal(SIGPIPE, SIG_IGN);
	/* Lambda ships stdout to CloudWatch line by line; a crash must not
	 * lose lines sitting in a full buffer. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Buffers that may hold secrets grow by malloc + copy + wipe + free,
	 * never realloc (runtime/buf.c). With glibc's defaults a large block
	 * is a fresh mmap given back to the kernel on free, so every invoke
	 * would fault its pages in again (about 2 ms per MB here, against
	 * 0.15 ms with the memory kept). A Lambda process is long-lived and
	 * alone in its sandbox: keep freed memory for the next invoke. */
	mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
	log_init_from_env();
	/* cJSON holds request and answer values (a SecretString, a session's
	 * SecretAccessKey): its blocks are wiped when freed. */
	buf_wipe_cjson();
	/* OpenSSL first, without reading openssl.cnf: the packaged libcurl is
	 * built not to load it (runtime/mk/package.sh), and this makes every
	 * build behave the same (Debian's libcurl would read and parse
	 * /usr/lib/ssl/openssl.cnf on the cold-start path). OpenSSL runs each
	 * init step once, so curl's own OPENSSL_init_ssl below loads no config.
	 * Error strings stay loaded: TLS failures must log readable reasons. */
	if (!OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, NULL)) {
		log_error("cannot initialise OpenSSL");
		return 1;
	}
	/* Once per process: curl_global_init also initialises OpenSSL
	 * (CURL_GLOBAL_SSL), so later HTTPS clients pay nothing at invoke. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("cannot initialise libcurl");
		return 1;
	}
	rc = client_init(&c, getenv("AWS_LAMBDA_RUNTIME_API"), err, sizeof(err));
	if (rc != FB_OK) {
		log_error("cannot start the runtime: %s", err);
		goto out;
	}
	err[0] = '\0';
	if (init) {
		rc = init(&state, err, sizeof(err));
		if (rc != FB_OK) {
			exit_code = post_init_error(&c, rc, err);
			goto out;
		}
	}
	lr_state_keep = state;
	for (;;) {
		status = 0;
		rc = client_next(&c, &status);
		if (rc != FB_OK) {
			log_error("cannot reach the runtime api: exiting");
			goto out;
		}
		if (status != 200) {
			/* 500 (and anything unexpected) from /next: the Runtime API
			 * says this runtime is done. */
			log_error("runtime api answered %ld to 'invocation/next': exiting", status);
			goto out;
		}
		if (!request_id_ok(c.headers.request_id)) {
			log_error("runtime api sent no usable 'Lambda-Runtime-Aws-Request-Id': exiting");
			goto out;
		}
		set_trace_env(c.headers.trace_id);
		log_set_request_id(c.headers.request_id);
		rc = run_one(&c, handler, state);
		log_set_request_id(NULL);
		if (rc != FB_OK)
			goto out;
	}
out:
	client_cleanup(&c);
	curl_global_cleanup();
	return exit_code;
}
