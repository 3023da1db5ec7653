/*
 * leak-rotate's pure stages: awslogs decoding under caps, the Aho-Corasick
 * automaton (against a naive search as the oracle), the detectors, the
 * redacted excerpts, and the published awslogs samples (decoded payloads
 * compared with their .decoded.json twins, structure by structure).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../../functions/leak-rotate/awslogs.c"
#include "../../functions/leak-rotate/scan.c"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t)n + 1);
	if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		p = NULL;
	}
	if (p)
		p[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return p;
}

static void gz(const char *in, size_t n, int window_bits, struct buf *out)
{
	z_stream z;
	unsigned char chunk[16384];
	int zr;

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, window_bits, 9, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		zr = deflate(&z, Z_FINISH);
		assert_int_equal(buf_append(out, chunk, sizeof(chunk) - z.avail_out), FB_OK);
	} while (zr != Z_STREAM_END);
	deflateEnd(&z);
}

/* ---- base64 and inflate ---- */

static void test_leak_rotate__b64_roundtrip_and_rejects(void **s)
{
	struct buf b;

	(void)s;
	buf_init(&b, 1024);
	assert_int_equal(leak_b64_decode("aGVsbG8gd29ybGQ=", 16, &b), FB_OK);
	assert_int_equal(b.len, 11);
	assert_memory_equal(b.data, "hello world", 11);
	buf_reset(&b);
	assert_int_equal(leak_b64_decode("aGVsbG8", 7, &b), FB_OK); /* unpadded */
	assert_memory_equal(b.data, "hello", 5);
	buf_reset(&b);
	assert_int_equal(leak_b64_decode("aGVsb", 5, &b), FB_E_PARSE);      /* lone sextet */
	assert_int_equal(leak_b64_decode("aGV*bG8=", 8, &b), FB_E_PARSE);   /* bad char */
	assert_int_equal(leak_b64_decode("aG=sbG8=", 8, &b), FB_E_PARSE);   /* '=' inside */
	buf_cleanup(&b);
}

static void test_leak_rotate__inflate_gzip_and_zlib(void **s)
{
	const char *text = "{\"messageType\":\"DATA_MESSAGE\"}";
	struct buf c, out;
	char err[200];
	int wb[2] = { 15 + 16, 15 }, i;

	(void)s;
	for (i = 0; i < 2; i++) {
		buf_init(&c, 1 << 20);
		buf_init(&out, 1 << 20);
		gz(text, strlen(text), wb[i], &c);
		assert_int_equal(leak_inflate(c.data, c.len, 1 << 20, 250, 1 << 20, &out, err, sizeof(err)), FB_OK);
		assert_int_equal(out.len, strlen(text));
		assert_memory_equal(out.data, text, out.len);
		/* truncated stream */
		buf_reset(&out);
		assert_int_equal(leak_inflate(c.data, c.len - 5, 1 << 20, 250, 1 << 20, &out, err, sizeof(err)),
				 FB_E_PARSE);
		assert_non_null(strstr(err, "truncated"));
		buf_cleanup(&c);
		buf_cleanup(&out);
	}
	buf_init(&out, 1 << 20);
	assert_int_equal(leak_inflate("plain text, not gzip", 20, 1 << 20, 250, 1 << 20, &out, err,
				      sizeof(err)), FB_E_PARSE);
	buf_cleanup(&out);
}

static void test_leak_rotate__bomb_is_an_error_not_oom(void **s)
{
	size_t n = 64u << 20;
	char *zeros = calloc(1, n);
	struct buf c, out;
	char err[200];

	(void)s;
	assert_non_null(zeros);
	buf_init(&c, 1 << 22);
	gz(zeros, n, 15 + 16, &c);
	free(zeros);
	buf_init(&out, 64u << 20);
	/* the ratio stops it long before the size cap */
	assert_int_equal(leak_inflate(c.data, c.len, LEAK_MAX_INFLATED, LEAK_MAX_RATIO, LEAK_RATIO_FLOOR, &out,
				      err, sizeof(err)), FB_E_TOO_LARGE);
	assert_true(out.len <= LEAK_MAX_INFLATED);
	assert_non_null(strstr(err, "bomb"));
	/* the size cap alone stops it too */
	buf_reset(&out);
	assert_int_equal(leak_inflate(c.data, c.len, LEAK_MAX_INFLATED, 100000, LEAK_RATIO_FLOOR, &out, err,
				      sizeof(err)), FB_E_TOO_LARGE);
	assert_true(out.len <= LEAK_MAX_INFLATED);
	buf_cleanup(&c);
	buf_cleanup(&out);
}

/* ---- the published samples ---- */

static void compare_sample(const char *event_path, const char *decoded_path)
{
	char *ev = slurp(event_path, NULL), *want;
	size_t wlen;
	cJSON *evj, *wj, *gj;
	struct buf json;
	struct leak_batch b;
	char err[200];
	const char *data;

	if (!ev) {
		print_message("skipped (no %s)\n", event_path);
		return;
	}
	want = slurp(decoded_path, &wlen);
	assert_non_null(want);
	/* a BOM-less UTF-8 JSON file */
	evj = cJSON_Parse(ev);
	assert_non_null(evj);
	data = resp_get_str(evj, "awslogs.data");
	assert_non_null(data);
	assert_int_equal(leak_awslogs_decode(data, strlen(data), &json, err, sizeof(err)), FB_OK);
	gj = cJSON_ParseWithLength(json.data, json.len);
	wj = cJSON_ParseWithLength(want, wlen);
	assert_non_null(gj);
	assert_non_null(wj);
	assert_true(cJSON_Compare(gj, wj, 1));
	/* and our parse sees what the twin says */
	assert_int_equal(leak_batch_parse(json.data, json.len, &b, err, sizeof(err)), FB_OK);
	assert_string_equal(b.log_group, resp_get_str(wj, "logGroup"));
	assert_string_equal(b.log_stream, resp_get_str(wj, "logStream"));
	assert_int_equal(b.nevents, (size_t)cJSON_GetArraySize(cJSON_GetObjectItem(wj, "logEvents")));
	assert_string_equal(b.events[1].message, resp_get_str(wj, "logEvents.1.message"));
	assert_string_equal(b.events[1].id, resp_get_str(wj, "logEvents.1.id"));
	assert_true(b.events[1].timestamp_ms ==
		    (int64_t)cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(wj, "logEvents"), 1),
						 "timestamp")->valuedouble);
	leak_batch_cleanup(&b);
	cJSON_Delete(gj);
	cJSON_Delete(wj);
	cJSON_Delete(evj);
	buf_cleanup(&json);
	free(want);
	free(ev);
}

static void test_leak_rotate__published_samples_decode_to_twins(void **s)
{
	(void)s;
	compare_sample("../shared/reference-events/cloudwatch-logs-subscription.awslogs.json",
		       "../shared/reference-events/cloudwatch-logs-subscription.awslogs.decoded.json");
	/* zlib-wrapped (78da), as the README of the samples warns */
	compare_sample("../shared/reference-events/cloudwatch-logs-subscription-policy-level.awslogs.powertools.json",
		       "../shared/reference-events/cloudwatch-logs-subscription-policy-level.awslogs.powertools.decoded.json");
}

static void test_leak_rotate__batch_parse_rejects_bad_shapes(void **s)
{
	static const char *bad[] = {
		"[]", "{\"logEvents\":[]}",
		"{\"messageType\":\"DATA_MESSAGE\",\"logGroup\":\"g\",\"logStream\":\"s\"}",
		"{\"messageType\":\"DATA_MESSAGE\",\"logGroup\":\"g\",\"logStream\":\"s\",\"logEvents\":[{\"id\":\"1\",\"timestamp\":1}]}",
		"{\"messageType\":\"DATA_MESSAGE\",\"logGroup\":\"g\",\"logStream\":\"s\",\"logEvents\":[{\"id\":1,\"timestamp\":1,\"message\":\"m\"}]}",
		"{\"messageType\":\"DATA_MESSAGE\",",
	};
	struct leak_batch b;
	char err[200];
	size_t i;

	(void)s;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(leak_batch_parse(bad[i], strlen(bad[i]), &b, err, sizeof(err)), FB_E_PARSE);
	assert_int_equal(leak_batch_parse("{\"messageType\":\"CONTROL_MESSAGE\"}", 33, &b, err, sizeof(err)),
			 FB_OK);
	assert_string_equal(b.message_type, "CONTROL_MESSAGE");
	leak_batch_cleanup(&b);
}

/* ---- the automaton against a naive oracle ---- */

struct collect {
	size_t n;
	uint32_t tag[4096];
	size_t end[4096];
};

static int collect_cb(void *ud, uint32_t tag, size_t end, size_t len)
{
	struct collect *c = ud;

	(void)len;
	if (c->n < 4096) {
		c->tag[c->n] = tag;
		c->end[c->n] = end;
		c->n++;
	}
	return 0;
}

static unsigned rnd(unsigned *x)
{
	*x = *x * 1103515245u + 12345u;
	return (*x >> 16) & 0x7fff;
}

static void test_leak_rotate__automaton_matches_naive_search(void **s)
{
	unsigned seed = 42;
	int round;

	(void)s;
	for (round = 0; round < 50; round++) {
		char pats[40][12];
		size_t plen[40], npat = 5 + rnd(&seed) % 30, i, p, naive = 0;
		char text[3000];
		struct leak_ac *ac = leak_ac_new();
		struct collect got;

		/* a tiny alphabet makes overlaps and shared suffixes common */
		for (p = 0; p < npat; p++) {
			plen[p] = 1 + rnd(&seed) % 6;
			for (i = 0; i < plen[p]; i++)
				pats[p][i] = (char)('a' + rnd(&seed) % 3);
			assert_int_equal(leak_ac_add(ac, pats[p], plen[p], (uint32_t)p), FB_OK);
		}
		assert_int_equal(leak_ac_build(ac), FB_OK);
		for (i = 0; i < sizeof(text); i++)
			text[i] = (char)('a' + rnd(&seed) % 4);
		memset(&got, 0, sizeof(got));
		leak_ac_scan(ac, text, 600, collect_cb, &got);
		for (p = 0; p < npat; p++) {
			for (i = 0; i + plen[p] <= 600; i++) {
				if (memcmp(text + i, pats[p], plen[p]))
					continue;
				naive++;
				/* the automaton reported this very occurrence */
				{
					size_t k;
					int found = 0;

					for (k = 0; k < got.n && !found; k++)
						found = got.tag[k] == p && got.end[k] == i + plen[p];
					assert_true(found);
				}
			}
		}
		assert_int_equal(got.n, naive < 4096 ? naive : 4096);
		leak_ac_free(ac);
	}
}

/* ---- detectors and excerpts ---- */

static size_t scan_text(struct leak_scanner *sc, const char *t, struct leak_hit *h)
{
	return leak_scan(sc, t, strlen(t), h, LEAK_MAX_HITS_PER_MESSAGE);
}

static void test_leak_rotate__detectors(void **s)
{
	struct leak_scanner sc;
	struct leak_hit h[LEAK_MAX_HITS_PER_MESSAGE];
	size_t n;

	(void)s;
	assert_int_equal(leak_scanner_init(&sc), FB_OK);
	assert_int_equal(leak_scanner_add_value(&sc, "Zq8kP2vW9xLm4Tr7nB5c", 20, 0), FB_OK);
	assert_int_equal(leak_scanner_add_value(&sc, "short", 5, 1), FB_OK); /* ignored */
	assert_int_equal(leak_scanner_build(&sc), FB_OK);
	assert_int_equal(sc.nvalues, 1);

	n = scan_text(&sc, "key=AKIAIOSFODNN7EXAMPLE secret=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", h);
	assert_int_equal(n, 2);
	assert_int_equal(h[0].kind, LEAK_AWS_KEY_ID);
	assert_int_equal(h[0].off, 4);
	assert_true(h[0].near_secret);
	assert_int_equal(h[1].kind, LEAK_AWS_SECRET);
	/* not a key id: too short, inside a word, an IAM user id */
	assert_int_equal(scan_text(&sc, "AKIAIOSFODNN7EXAMPL", h), 0);
	assert_int_equal(scan_text(&sc, "XAKIAIOSFODNN7EXAMPLE", h), 0);
	assert_int_equal(scan_text(&sc, "AIDAIOSFODNN7EXAMPLE", h), 0);
	assert_int_equal(scan_text(&sc, "ASIAIOSFODNN7EXAMPLE", h), 1);
	/* a hex digest near a key id is not a secret key */
	n = scan_text(&sc, "AKIAIOSFODNN7EXAMPLE da39a3ee5e6b4b0d3255bfef95601890afd80709", h);
	assert_int_equal(n, 1);
	assert_false(h[0].near_secret);

	assert_int_equal(scan_text(&sc, "t=ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8 x", h), 1);
	assert_int_equal(h[0].kind, LEAK_GITHUB);
	assert_int_equal(h[0].len, 40);
	assert_int_equal(scan_text(&sc, "ghp_short", h), 0);
	assert_int_equal(scan_text(&sc, "xoxb-1234567890-abcdefghij", h), 1);
	assert_int_equal(h[0].kind, LEAK_SLACK);
	assert_int_equal(scan_text(&sc, "sk_live_51HfakeFAKEfake0000", h), 1);
	assert_int_equal(h[0].kind, LEAK_STRIPE);
	assert_int_equal(scan_text(&sc, "sk_test_51HfakeFAKEfake0000", h), 0);
	n = scan_text(&sc, "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fw x", h);
	assert_int_equal(n, 1); /* the payload's own eyJ is not a second token */
	assert_int_equal(h[0].kind, LEAK_JWT);
	assert_int_equal(scan_text(&sc, "eyJhbGciOiJIUzI1NiJ9 alone", h), 0);
	n = scan_text(&sc, "k=-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNz\n-----END OPENSSH PRIVATE KEY----- tail", h);
	assert_int_equal(n, 1);
	assert_int_equal(h[0].kind, LEAK_PEM);
	assert_int_equal(h[0].off + h[0].len, strlen("k=-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNz\n-----END OPENSSH PRIVATE KEY-----"));
	assert_int_equal(scan_text(&sc, "-----BEGIN CERTIFICATE-----", h), 0);

	n = scan_text(&sc, "pw=Zq8kP2vW9xLm4Tr7nB5c;pw2=Zq8kP2vW9xLm4Tr7nB5c", h);
	assert_int_equal(n, 2);
	assert_int_equal(h[0].kind, LEAK_SECRET);
	assert_int_equal(h[0].value, 0);
	assert_int_equal(h[1].off, 28);
	leak_scanner_cleanup(&sc);
}

static void test_leak_rotate__excerpt_never_holds_a_value(void **s)
{
	struct leak_scanner sc;
	struct leak_hit h[LEAK_MAX_HITS_PER_MESSAGE];
	struct buf ex;
	char msg[600];
	size_t n, i;

	(void)s;
	assert_int_equal(leak_scanner_init(&sc), FB_OK);
	assert_int_equal(leak_scanner_add_value(&sc, "Zq8kP2vW9xLm4Tr7nB5c", 20, 0), FB_OK);
	assert_int_equal(leak_scanner_add_value(&sc, "orders_app_user", 15, 1), FB_OK);
	assert_int_equal(leak_scanner_build(&sc), FB_OK);
	snprintf(msg, sizeof(msg), "%s postgres://orders_app_user:Zq8kP2vW9xLm4Tr7nB5c@db key "
		 "AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n\x01\xc3\xa9 end %s",
		 "....................................................", "tail.........................................");
	n = scan_text(&sc, msg, h);
	assert_int_equal(n, 4);
	for (i = 0; i < n; i++) {
		buf_init(&ex, 4096);
		assert_int_equal(leak_excerpt(msg, strlen(msg), h, n, i, &ex), FB_OK);
		assert_null(strstr(ex.data, "Zq8kP2vW9xLm4Tr7nB5c"));
		assert_null(strstr(ex.data, "orders_app_user"));
		assert_null(strstr(ex.data, "wJalrXUtnFEMI"));
		assert_null(strstr(ex.data, "AKIAIOSFODNN7EXAMPLE"));
		assert_non_null(strstr(ex.data, "sha256:"));
		/* bounded: context + fingerprints of what lies in the window */
		assert_true(ex.len < 2 * LEAK_EXCERPT_CONTEXT + 4 * 64);
		buf_cleanup(&ex);
	}
	leak_scanner_cleanup(&sc);
}

struct vals {
	int n;
	char got[8][64];
};

static enum fb_err val_cb(void *ud, const char *v, size_t n, const char *field)
{
	struct vals *x = ud;

	(void)field;
	snprintf(x->got[x->n++], 64, "%.*s", (int)n, v);
	return FB_OK;
}

static void test_leak_rotate__secret_values(void **s)
{
	const char *js = "{\"username\":\"admin_user\",\"password\":\"p4ssw0rd-long\",\"port\":5432,\"pin\":\"1234\"}";
	struct vals v;
	size_t count;

	(void)s;
	memset(&v, 0, sizeof(v));
	assert_int_equal(leak_secret_values(js, strlen(js), val_cb, &v, &count), FB_OK);
	assert_int_equal(count, 2);
	assert_string_equal(v.got[0], "admin_user");
	assert_string_equal(v.got[1], "p4ssw0rd-long");
	memset(&v, 0, sizeof(v));
	assert_int_equal(leak_secret_values("plain-secret-value", 18, val_cb, &v, &count), FB_OK);
	assert_int_equal(count, 1);
	assert_string_equal(v.got[0], "plain-secret-value");
	memset(&v, 0, sizeof(v));
	assert_int_equal(leak_secret_values("short", 5, val_cb, &v, &count), FB_OK);
	assert_int_equal(count, 0);
}

/* A "\u0000" in log text must not hide what follows it: the message is
 * read with U+FFFD in its place and scanned whole. "\\u0000" (an escaped
 * backslash) stays text. */
static void test_leak_rotate__nul_escape_does_not_hide_a_secret(void **s)
{
	static const char json[] =
		"{\"messageType\":\"DATA_MESSAGE\",\"owner\":\"111111111111\",\"logGroup\":\"/ecs/x\","
		"\"logStream\":\"x/app/1\",\"logEvents\":["
		"{\"id\":\"1\",\"timestamp\":1,\"message\":\"ok\\u0000password=Zq8kP2vW9xLm4Tr7nB5c\"},"
		"{\"id\":\"2\",\"timestamp\":2,\"message\":\"path C:\\\\u0000 Zq8kP2vW9xLm4Tr7nB5c\"}]}";
	struct leak_scanner sc;
	struct leak_hit h[LEAK_MAX_HITS_PER_MESSAGE];
	struct leak_batch b;
	char err[200];
	size_t n, i;
	int found;

	(void)s;
	assert_int_equal(leak_batch_parse(json, sizeof(json) - 1, &b, err, sizeof(err)), FB_OK);
	assert_int_equal(b.nevents, 2);
	assert_int_equal(b.events[0].message_len, strlen("ok\xef\xbf\xbdpassword=Zq8kP2vW9xLm4Tr7nB5c"));
	assert_string_equal(b.events[0].message, "ok\xef\xbf\xbdpassword=Zq8kP2vW9xLm4Tr7nB5c");
	assert_string_equal(b.events[1].message, "path C:\\u0000 Zq8kP2vW9xLm4Tr7nB5c");
	assert_int_equal(leak_scanner_init(&sc), FB_OK);
	assert_int_equal(leak_scanner_add_value(&sc, "Zq8kP2vW9xLm4Tr7nB5c", 20, 0), FB_OK);
	assert_int_equal(leak_scanner_build(&sc), FB_OK);
	for (i = 0; i < b.nevents; i++) {
		n = leak_scan(&sc, b.events[i].message, b.events[i].message_len, h,
			      LEAK_MAX_HITS_PER_MESSAGE);
		found = 0;
		while (n--)
			found |= h[n].kind == LEAK_SECRET;
		if (!found)
			fail_msg("event %zu: watched value after the escape not found", i);
	}
	leak_scanner_cleanup(&sc);
	leak_batch_cleanup(&b);
	/* the caller's buffer is not rewritten (the copy is) */
	assert_non_null(strstr(json, "ok\\u0000password"));
}

/* Hostile payload shapes: resp_parse_event's checks and CloudWatch names. */
static void test_leak_rotate__batch_parse_rejects_hostile(void **s)
{
#define LK_HEAD(owner, group, stream) \
	"{\"messageType\":\"DATA_MESSAGE\",\"owner\":\"" owner "\",\"logGroup\":\"" group "\"," \
	"\"logStream\":\"" stream "\",\"logEvents\":[{\"id\":\"1\",\"timestamp\":1,\"message\":\"m"
	static const char *bad[] = {
		LK_HEAD("111111111111", "/ecs/x", "s") "\x01\"}]}",        /* raw control byte */
		LK_HEAD("111111111111", "/ecs/x", "s") "\xc0\xaf\"}]}",    /* overlong UTF-8 */
		LK_HEAD("111111111111", "/ecs/x", "s") "\"}]} {}",         /* trailing data */
		LK_HEAD("11111111111x", "/ecs/x", "s") "\"}]}",
		LK_HEAD("111111111111", "/ecs/x y", "s") "\"}]}",
		LK_HEAD("111111111111", "https://evil.example/x", "s") "\"}]}",
		LK_HEAD("111111111111", "/ecs/x", "a:b") "\"}]}",
		LK_HEAD("111111111111", "/ecs/x", "a*") "\"}]}",
		LK_HEAD("111111111111", "", "s") "\"}]}",
		LK_HEAD("111111111111", "/ecs/\\u0000x", "s") "\"}]}",     /* becomes U+FFFD: not a name */
	};
	static const char good[] = LK_HEAD("111111111111", "/aws/lambda/f#1_a-b.c", "2026/01/01/[$LATEST]a") "\"}]}";
#undef LK_HEAD
	struct leak_batch b;
	char err[200], deep[300];
	size_t i;

	(void)s;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (leak_batch_parse(bad[i], strlen(bad[i]), &b, err, sizeof(err)) != FB_E_PARSE)
			fail_msg("case %zu accepted", i);
	assert_int_equal(leak_batch_parse(good, sizeof(good) - 1, &b, err, sizeof(err)), FB_OK);
	leak_batch_cleanup(&b);
	memset(deep, '[', sizeof(deep));
	assert_int_equal(leak_batch_parse(deep, sizeof(deep), &b, err, sizeof(err)), FB_E_PARSE);
	assert_non_null(strstr(err, "nesting"));
	/* names: lengths and characters */
	{
		char name[LEAK_NAME_MAX + 2];

		memset(name, 'a', LEAK_NAME_MAX);
		name[LEAK_NAME_MAX] = '\0';
		assert_true(leak_log_group_ok(name));
		assert_true(leak_log_stream_ok(name));
		name[LEAK_NAME_MAX] = 'a';
		name[LEAK_NAME_MAX + 1] = '\0';
		assert_false(leak_log_group_ok(name));
		assert_false(leak_log_stream_ok(name));
		assert_false(leak_log_group_ok(""));
		assert_false(leak_log_stream_ok(""));
		assert_false(leak_log_stream_ok("a\nb"));
		assert_true(leak_log_stream_ok("orders-api/app/4b1c0d2e [x] \xc3\xa9"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leak_rotate__b64_roundtrip_and_rejects),
		cmocka_unit_test(test_leak_rotate__inflate_gzip_and_zlib),
		cmocka_unit_test(test_leak_rotate__bomb_is_an_error_not_oom),
		cmocka_unit_test(test_leak_rotate__published_samples_decode_to_twins),
		cmocka_unit_test(test_leak_rotate__batch_parse_rejects_bad_shapes),
		cmocka_unit_test(test_leak_rotate__automaton_matches_naive_search),
		cmocka_unit_test(test_leak_rotate__detectors),
		cmocka_unit_test(test_leak_rotate__excerpt_never_holds_a_value),
		cmocka_unit_test(test_leak_rotate__secret_values),
		cmocka_unit_test(test_leak_rotate__nul_escape_does_not_hide_a_secret),
		cmocka_unit_test(test_leak_rotate__batch_parse_rejects_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
