/*
 * test_http: the libcurl transport against a tiny loopback HTTP/1.1 server
 * in a thread (127.0.0.1, port 0): keep-alive reuse across exchanges, the
 * response cap, timeouts, transient errors; plus header lookup and the CA
 * bundle search order.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "http.h"
#include "wipecheck.h"

struct srv {
	int fd;
	int port;
	int accepted;
	int requests;
	pthread_t th;
};

static void reply(int c, const char *status, const char *body, size_t len)
{
	char h[256];
	int n = snprintf(h, sizeof(h), "HTTP/1.1 %s\r\nContent-Length: %zu\r\nx-amzn-RequestId:  r-1 \r\n\r\n",
			 status, len);

	send(c, h, (size_t)n, MSG_NOSIGNAL);
	if (len)
		send(c, body, len, MSG_NOSIGNAL);
}

/* Serves one connection until the peer closes; returns 0 to stop all. */
static int serve_conn(struct srv *s, int c)
{
	char req[8192];
	size_t have = 0;

	for (;;) {
		char *end, *cl;
		size_t body = 0, need;
		ssize_t r;

		while (!(end = memmem(req, have, "\r\n\r\n", 4))) {
			r = recv(c, req + have, sizeof(req) - have - 1, 0);
			if (r <= 0)
				return 1;
			have += (size_t)r;
			req[have] = '\0';
		}
		cl = strcasestr(req, "Content-Length:");
		if (cl && cl < end)
			body = (size_t)strtoul(cl + 15, NULL, 10);
		need = (size_t)(end - req) + 4 + body;
		while (have < need) {
			r = recv(c, req + have, sizeof(req) - have - 1, 0);
			if (r <= 0)
				return 1;
			have += (size_t)r;
		}
		s->requests++;
		if (strncmp(req, "GET /stop ", 10) == 0)
			return 0;
		if (strncmp(req, "POST /echo ", 11) == 0 || strncmp(req, "PUT /echo ", 10) == 0) {
			reply(c, "200 OK", end + 4, body);
		} else if (strncmp(req, "GET /big ", 9) == 0) {
			static char big[4000];

			memset(big, 'x', sizeof(big));
			reply(c, "200 OK", big, sizeof(big));
		} else if (strncmp(req, "GET /secret ", 12) == 0) {
			/* a GetSecretValue-like answer, large enough to arrive in
			 * several write callbacks and grow the body buffer */
			static char sec[200000];
			int k = snprintf(sec, sizeof(sec), "{\"SecretString\":\"%s\",\"pad\":\"", WIPECHECK_CANARY);

			memset(sec + k, 'p', sizeof(sec) - (size_t)k - 2);
			memcpy(sec + sizeof(sec) - 2, "\"}", 2);
			reply(c, "200 OK", sec, sizeof(sec));
		} else if (strncmp(req, "GET /slow ", 10) == 0) {
			usleep(400 * 1000);
			reply(c, "200 OK", "late", 4);
		} else if (strncmp(req, "GET /close ", 11) == 0) {
			return 1; /* no answer at all */
		} else {
			reply(c, "200 OK", "hello", 5);
		}
		memmove(req, req + need, have - need);
		have -= need;
	}
}

static void *srv_main(void *arg)
{
	struct srv *s = arg;

	for (;;) {
		int c = accept(s->fd, NULL, NULL), go;

		struct timeval tv = { 1, 0 };

		if (c < 0)
			return NULL;
		/* a failed test may leave the client's connection open */
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		s->accepted++;
		go = serve_conn(s, c);
		close(c);
		if (!go)
			return NULL;
	}
}

static struct srv S;

static int setup(void **state)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	(void)state;
	memset(&S, 0, sizeof(S));
	S.fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(S.fd, (struct sockaddr *)&a, sizeof(a)) || listen(S.fd, 8) ||
	    getsockname(S.fd, (struct sockaddr *)&a, &len))
		return -1;
	S.port = ntohs(a.sin_port);
	return pthread_create(&S.th, NULL, srv_main, &S);
}

static int teardown(void **state)
{
	(void)state;
	shutdown(S.fd, SHUT_RDWR);
	close(S.fd);
	pthread_join(S.th, NULL);
	return 0;
}

/* One exchange, start to finish; returns the exchange's resp (caller cleans). */
static void exchange(struct http_transport *t, const char *method, const char *path,
		     const char *body, int64_t timeout_ms, size_t max, struct http_exchange *x)
{
	static char url[256];
	static const struct http_header h[] = { { "Host", "127.0.0.1" }, { "X-Test", "1" } };
	struct http_exchange *done = NULL;
	int i;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", S.port, path);
	memset(x, 0, sizeof(*x));
	x->req.method = method;
	x->req.url = url;
	x->req.headers = h;
	x->req.nheaders = 2;
	x->req.body = body;
	x->req.body_len = body ? strlen(body) : 0;
	x->req.timeout_ms = timeout_ms;
	x->req.connect_timeout_ms = timeout_ms;
	x->req.max_response = max;
	assert_int_equal(t->start(t->ctx, x), FB_OK);
	for (i = 0; i < 100 && !done; i++)
		assert_int_equal(t->wait(t->ctx, 100, &done), FB_OK);
	assert_ptr_equal(done, x);
}

static void test_http__keepalive_reuses_one_connection(void **state)
{
	struct http_transport *t = NULL;
	struct http_exchange x;
	char v[64];
	int i;

	(void)state;
	assert_int_equal(http_curl_new(&t, NULL, 0), FB_OK);
	for (i = 0; i < 3; i++) {
		exchange(t, "GET", "/ok", NULL, 2000, 0, &x);
		assert_int_equal(x.resp.rc, FB_OK);
		assert_int_equal(x.resp.status, 200);
		assert_string_equal(x.resp.body.data, "hello");
		assert_true(http_response_header(&x.resp, "X-AMZN-REQUESTID", v, sizeof(v)));
		assert_string_equal(v, "r-1");
		http_response_cleanup(&x.resp);
	}
	exchange(t, "POST", "/echo", "{\"a\":1}", 2000, 0, &x);
	assert_string_equal(x.resp.body.data, "{\"a\":1}");
	http_response_cleanup(&x.resp);
	exchange(t, "PUT", "/echo", "put-body", 2000, 0, &x);
	assert_string_equal(x.resp.body.data, "put-body");
	http_response_cleanup(&x.resp);
	assert_int_equal(S.accepted, 1);
	assert_int_equal(S.requests, 5);
	http_transport_free(t);
}

/* Issue 16 item 4: a response body that held a secret is wiped before its
 * memory is freed, through curl's write callback and every growth. */
static void test_http__secret_body_wiped_before_free(void **state)
{
	struct http_transport *t = NULL;
	struct http_exchange x;

	(void)state;
	wipecheck_self_test();
	assert_int_equal(http_curl_new(&t, NULL, 0), FB_OK);
	wipecheck_arm();
	exchange(t, "GET", "/secret", NULL, 5000, 0, &x);
	assert_int_equal(x.resp.rc, FB_OK);
	assert_int_equal(x.resp.body.len, 200000);
	assert_non_null(strstr(x.resp.body.data, WIPECHECK_CANARY));
	http_response_cleanup(&x.resp);
	wipecheck_assert_clean();
	http_transport_free(t);
}

static void test_http__cap_timeout_and_transient(void **state)
{
	struct http_transport *t = NULL;
	struct http_exchange x;
	struct http_exchange *done = NULL;

	(void)state;
	assert_int_equal(http_curl_new(&t, NULL, 0), FB_OK);
	exchange(t, "GET", "/big", NULL, 2000, 1000, &x);
	assert_int_equal(x.resp.rc, FB_E_TOO_LARGE);
	assert_int_equal(x.resp.transient, 0);
	http_response_cleanup(&x.resp);

	exchange(t, "GET", "/slow", NULL, 100, 0, &x);
	assert_int_equal(x.resp.rc, FB_E_TIMEOUT);
	assert_int_equal(x.resp.transient, 1);
	http_response_cleanup(&x.resp);

	exchange(t, "GET", "/close", NULL, 2000, 0, &x);
	assert_int_equal(x.resp.rc, FB_E_IO);
	assert_int_equal(x.resp.transient, 1);
	assert_true(x.resp.errmsg[0] != '\0');
	http_response_cleanup(&x.resp);

	/* nothing in flight: wait just sleeps and returns nothing */
	assert_int_equal(t->wait(t->ctx, 10, &done), FB_OK);
	assert_null(done);
	http_transport_free(t);
}

static void test_http__connect_refused_is_transient(void **state)
{
	struct http_transport *t = NULL;
	struct http_exchange x;
	struct http_exchange *done = NULL;
	static const struct http_header h[] = { { "Host", "127.0.0.1:1" } };
	int i;

	(void)state;
	assert_int_equal(http_curl_new(&t, NULL, 0), FB_OK);
	memset(&x, 0, sizeof(x));
	x.req.method = "GET";
	x.req.url = "http://127.0.0.1:1/";
	x.req.headers = h;
	x.req.nheaders = 1;
	x.req.timeout_ms = 2000;
	x.req.connect_timeout_ms = 2000;
	assert_int_equal(t->start(t->ctx, &x), FB_OK);
	for (i = 0; i < 50 && !done; i++)
		assert_int_equal(t->wait(t->ctx, 100, &done), FB_OK);
	assert_ptr_equal(done, &x);
	assert_int_equal(x.resp.rc, FB_E_IO);
	assert_int_equal(x.resp.transient, 1);
	http_response_cleanup(&x.resp);
	http_transport_free(t);
}

static void test_http__header_lookup(void **state)
{
	struct http_response r;
	char v[8];

	(void)state;
	http_response_init(&r, 0);
	buf_puts(&r.headers, "HTTP/1.1 200 OK\r\nETag: \"abc\"\r\nx-amz-version-id:v1\r\n"
			     "X-Long: 0123456789\r\nx-amz-version-id-other: no\r\n\r\n");
	assert_true(http_response_header(&r, "etag", v, sizeof(v)));
	assert_string_equal(v, "\"abc\"");
	assert_true(http_response_header(&r, "x-amz-version-id", v, sizeof(v)));
	assert_string_equal(v, "v1");
	assert_true(http_response_header(&r, "x-long", v, sizeof(v)));
	assert_string_equal(v, "0123456"); /* truncated to fit */
	assert_false(http_response_header(&r, "x-amz", v, sizeof(v)));
	assert_false(http_response_header(&r, "missing", v, sizeof(v)));
	http_response_cleanup(&r);
}

static void test_http__ca_bundle_order(void **state)
{
	char tmpl[] = "/tmp/fb-ca-XXXXXX";
	int fd = mkstemp(tmpl);
	const char *p;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	setenv("SSL_CERT_FILE", tmpl, 1);
	assert_string_equal(http_ca_bundle(), tmpl);
	setenv("SSL_CERT_FILE", "/nonexistent/ca.pem", 1);
	p = http_ca_bundle();
	if (access("/etc/pki/tls/certs/ca-bundle.crt", R_OK) == 0)
		assert_string_equal(p, "/etc/pki/tls/certs/ca-bundle.crt");
	else if (access("/etc/ssl/certs/ca-certificates.crt", R_OK) == 0)
		assert_string_equal(p, "/etc/ssl/certs/ca-certificates.crt");
	else
		assert_null(p);
	unsetenv("SSL_CERT_FILE");
	unlink(tmpl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_http__keepalive_reuses_one_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http__cap_timeout_and_transient, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http__secret_body_wiped_before_free, setup, teardown),
		cmocka_unit_test(test_http__connect_refused_is_transient),
		cmocka_unit_test(test_http__header_lookup),
		cmocka_unit_test(test_http__ca_bundle_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
