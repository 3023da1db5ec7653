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
#include "../../functions/leak-rotate/stages.c"

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

/* Issue 16 item 1: the realistic places a key id sits without its secret.
 * Each is one key id hit with no secret access key near it, so it is
 * reported and never deactivated; the same id with a secret is a pair. */
static void test_leak_rotate__key_id_alone_forms(void **s)
{
	static const char *const benign[] = {
		/* a presigned URL (SigV4 query auth) */
		"GET https://b.s3.amazonaws.com/r.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
		"AKIAIOSFODNN7EXAMPLE%2F20261207%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261207T000000Z"
		"&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature="
		"fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024",
		/* the same URL unescaped */
		"url=https://b.s3.amazonaws.com/r.pdf?X-Amz-Credential=AKIAIOSFODNN7EXAMPLE/20261207/us-east-1/"
		"s3/aws4_request&X-Amz-Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024",
		/* a SigV4 Authorization header */
		"Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261207/us-east-1/s3/aws4_request, "
		"SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
		"Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024",
		/* an S3 server access log line (request id, host id: base64 with '=') */
		"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be awsexamplebucket1 "
		"[06/Feb/2026:00:00:38 +0000] 192.0.2.3 arn:aws:iam::111111111111:user/app 3E57427F3EXAMPLE "
		"REST.GET.VERSIONING - \"GET /awsexamplebucket1?versioning HTTP/1.1\" 200 - 113 - 7 - \"-\" "
		"\"S3Console/0.4\" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= "
		"SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader awsexamplebucket1.s3.us-west-1.amazonaws.com "
		"TLSV1.2 - AKIAIOSFODNN7EXAMPLE",
		/* a URL-encoded session token cut at its escapes, a Java path, a camel-case word */
		"X-Amz-Credential=ASIAIOSFODNN7EXAMPLE%2F20261207 X-Amz-Security-Token="
		"IQoJb3JpZ2luX2VjEJr%2F%2F%2F%2F%2F%2F%2F%2F%2F%2FwEaCXVzLWVhc3QtMSJHMEUCIQDExampleTokenValue0123456789ab%2B"
		"cdefGHIJklmnOPQRstuvWXyz0123456789ABCDefgh%3D",
		"AKIAIOSFODNN7EXAMPLE loaded com/amazonaws/services/s3/AmazonS3Client",
		"AKIAIOSFODNN7EXAMPLE ThisIsAVeryLongCamelCaseClassNameForTests",
		/* a base64 blob: a 40-character slice of it is not a key */
		"AKIAIOSFODNN7EXAMPLE data=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY==",
		"AKIAIOSFODNN7EXAMPLE sig=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY==",
	};
	static const char *const pairs[] = {
		"key=AKIAIOSFODNN7EXAMPLE secret=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"{\"AccessKey\":{\"UserName\":\"app\",\"AccessKeyId\":\"AKIAIOSFODNN7EXAMPLE\",\"Status\":\"Active\","
		"\"SecretAccessKey\":\"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"}}",
		"[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = "
		"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
		"export AWS_SECRET_ACCESS_KEY='wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE.",
	};
	struct leak_scanner sc;
	struct leak_hit h[LEAK_MAX_HITS_PER_MESSAGE];
	size_t i, k, n;

	(void)s;
	assert_int_equal(leak_scanner_init(&sc), FB_OK);
	assert_int_equal(leak_scanner_build(&sc), FB_OK);
	for (i = 0; i < sizeof(benign) / sizeof(benign[0]); i++) {
		int ids = 0;

		n = scan_text(&sc, benign[i], h);
		for (k = 0; k < n; k++) {
			ids += h[k].kind == LEAK_AWS_KEY_ID;
			if (h[k].kind == LEAK_AWS_KEY_ID && h[k].near_secret)
				fail_msg("benign form %zu paired a secret with its key id", i);
			if (h[k].kind == LEAK_AWS_SECRET)
				fail_msg("benign form %zu has a secret access key hit", i);
		}
		assert_int_equal(ids, 1);
	}
	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		int paired = 0;

		n = scan_text(&sc, pairs[i], h);
		for (k = 0; k < n; k++)
			paired |= h[k].kind == LEAK_AWS_KEY_ID && h[k].near_secret;
		if (!paired)
			fail_msg("key pair form %zu not paired", i);
	}
	/* two pairs in one event: each secret is a hit of its own (so each is
	 * redacted in every excerpt), and both lie in each key's window (each
	 * is tried as that key's secret) */
	{
		static const char two[] = "keys AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY and "
					  "AKIA6RVFFB77QAISEM2E q7Hx2Lm9Rt4Vb8Nw1Xc6Jh3Gd5Sa0Pe/Ky+UoIzA in env";
		struct buf ex;
		int secrets = 0;

		n = scan_text(&sc, two, h);
		for (k = 0; k < n; k++)
			secrets += h[k].kind == LEAK_AWS_SECRET;
		assert_int_equal(secrets, 2);
		for (k = 0; k < n; k++) {
			if (h[k].kind != LEAK_AWS_KEY_ID)
				continue;
			assert_true(h[k].near_secret);
			buf_init(&ex, 4096);
			assert_int_equal(leak_excerpt(two, strlen(two), h, n, k, &ex), FB_OK);
			assert_null(strstr(ex.data, "wJalrXUtnFEMI"));
			assert_null(strstr(ex.data, "q7Hx2Lm9Rt4Vb8"));
			buf_cleanup(&ex);
		}
	}
	/* the candidate rule itself */
	assert_true(leak_is_secret_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", 40, 0));
	assert_false(leak_is_secret_key("com/amazonaws/services/s3/AmazonS3Client", 40, 0));
	assert_false(leak_is_secret_key("da39a3ee5e6b4b0d3255bfef95601890afd80709", 40, 0));
	assert_false(leak_is_secret_key("x-wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", 42, 2));
	assert_false(leak_is_secret_key("%2wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", 42, 2));
	assert_false(leak_is_secret_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY_x", 42, 0));

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

/* ---- the handler's pure stages (stages.c) ---- */

/* {"awslogs":{"data":base64(gzip(payload))}} parsed as the handler parses it. */
static cJSON *awslogs_event(const char *payload)
{
	struct buf z, b64;
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	cJSON *ev, *aw;

	buf_init(&z, 1u << 20);
	buf_init(&b64, 1u << 22);
	gz(payload, strlen(payload), 31, &z);
	for (i = 0; i < z.len; i += 3) {
		const unsigned char *p = (const unsigned char *)z.data + i;
		unsigned v = (unsigned)p[0] << 16 | (i + 1 < z.len ? (unsigned)p[1] << 8 : 0) |
			     (i + 2 < z.len ? p[2] : 0);
		char q[4] = { tbl[v >> 18 & 63], tbl[v >> 12 & 63], i + 1 < z.len ? tbl[v >> 6 & 63] : '=',
			      i + 2 < z.len ? tbl[v & 63] : '=' };

		assert_int_equal(buf_append(&b64, q, 4), FB_OK);
	}
	assert_int_equal(buf_append(&b64, "", 1), FB_OK);
	ev = cJSON_CreateObject();
	aw = cJSON_AddObjectToObject(ev, "awslogs");
	cJSON_AddStringToObject(aw, "data", b64.data);
	buf_cleanup(&z);
	buf_cleanup(&b64);
	return ev;
}

static const char kBatch[] =
	"{\"messageType\":\"DATA_MESSAGE\",\"owner\":\"111111111111\",\"logGroup\":\"%s\","
	"\"logStream\":\"s/1\",\"subscriptionFilters\":[\"f\"],\"logEvents\":[{\"id\":\"e1\","
	"\"timestamp\":1700000000000,\"message\":\"key AKIAIOSFODNN7EXAMPLE here\"}]}";

static void test_leak_rotate__classify_forms(void **s)
{
	struct leak_settings set;
	struct leak_batch b;
	char why[400], payload[600];
	cJSON *ev;

	(void)s;
	memset(&set, 0, sizeof(set));
	set.alarm_name = (char *)"exposure";
	set.own_log_group = (char *)"/aws/lambda/leak-rotate";
	/* a delivery from any other group is scanned */
	snprintf(payload, sizeof(payload), kBatch, "/ecs/orders-api");
	ev = awslogs_event(payload);
	memset(&b, 0, sizeof(b));
	assert_int_equal(leak_classify(ev, &set, &b, why, sizeof(why)), LEAK_FORM_AWSLOGS);
	assert_int_equal(b.nevents, 1);
	leak_batch_cleanup(&b);
	cJSON_Delete(ev);
	/* the function's own log group is not: its report names key ids, and
	 * scanning it would answer each report with another (a loop) */
	snprintf(payload, sizeof(payload), kBatch, "/aws/lambda/leak-rotate");
	ev = awslogs_event(payload);
	memset(&b, 0, sizeof(b));
	assert_int_equal(leak_classify(ev, &set, &b, why, sizeof(why)), LEAK_FORM_IGNORE);
	assert_non_null(strstr(why, "own"));
	leak_batch_cleanup(&b);
	cJSON_Delete(ev);
	/* ...unless the function name is unknown */
	set.own_log_group = NULL;
	ev = awslogs_event(payload);
	memset(&b, 0, sizeof(b));
	assert_int_equal(leak_classify(ev, &set, &b, why, sizeof(why)), LEAK_FORM_AWSLOGS);
	leak_batch_cleanup(&b);
	cJSON_Delete(ev);
	/* alarm: ours in ALARM needs log groups; others are ignored */
	ev = cJSON_Parse("{\"source\":\"aws.cloudwatch\",\"detail-type\":\"CloudWatch Alarm State Change\","
			 "\"detail\":{\"alarmName\":\"exposure\",\"state\":{\"value\":\"ALARM\"}}}");
	memset(&b, 0, sizeof(b));
	assert_int_equal(leak_classify(ev, &set, &b, why, sizeof(why)), LEAK_FORM_INVALID);
	set.log_groups.n = 1;
	assert_int_equal(leak_classify(ev, &set, &b, why, sizeof(why)), LEAK_FORM_ALARM);
	set.alarm_name = (char *)"other";
	assert_int_equal(leak_classify(ev, &set, &b, why, sizeof(why)), LEAK_FORM_IGNORE);
	cJSON_Delete(ev);
	ev = cJSON_Parse("{\"messages\":[\"a\",1]}");
	assert_int_equal(leak_classify(ev, &set, &b, why, sizeof(why)), LEAK_FORM_INVALID);
	cJSON_Delete(ev);
	ev = cJSON_Parse("{\"logGroup\":\"/g\",\"messages\":[\"a\"]}");
	assert_int_equal(leak_classify(ev, &set, &b, why, sizeof(why)), LEAK_FORM_MANUAL);
	cJSON_Delete(ev);
}

static void test_leak_rotate__settings_name_own_log_group(void **s)
{
	struct leak_settings set;
	char err[200] = "";

	(void)s;
	setenv("AWS_LAMBDA_FUNCTION_NAME", "leak-rotate-prod", 1);
	setenv("FIREBREAK_WATCHED_SECRETS", " a, b ,,c", 1);
	assert_int_equal(leak_settings_from_env(&set, err, sizeof(err)), FB_OK);
	assert_string_equal(set.own_log_group, "/aws/lambda/leak-rotate-prod");
	assert_int_equal(set.watched.n, 3);
	assert_string_equal(set.watched.v[1], "b");
	assert_int_equal(set.ignore.n, 7); /* the RDS defaults */
	leak_settings_cleanup(&set);
	setenv("FIREBREAK_ROTATION_POLL_MS", "5", 1);
	assert_int_equal(leak_settings_from_env(&set, err, sizeof(err)), FB_E_CONFIG);
	assert_non_null(strstr(err, "FIREBREAK_ROTATION_POLL_MS"));
	leak_settings_cleanup(&set);
	unsetenv("FIREBREAK_ROTATION_POLL_MS");
	unsetenv("FIREBREAK_WATCHED_SECRETS");
	unsetenv("AWS_LAMBDA_FUNCTION_NAME");
	assert_int_equal(leak_settings_from_env(&set, err, sizeof(err)), FB_OK);
	assert_null(set.own_log_group);
	leak_settings_cleanup(&set);
}

/* The watched set and the scan: hits counted per secret and stage, one
 * report entry per hit with a fingerprint, never the value. */
static void test_leak_rotate__scan_messages_counts_and_redacts(void **s)
{
	static const char cur[] = "{\"username\":\"orders-service\",\"password\":\"Pa55-current-value-123\"}";
	static const char prev[] = "{\"username\":\"orders\",\"password\":\"Pa55-previous-value-99\"}";
	struct leak_watch w;
	struct leak_findings f;
	struct slist ign;
	struct leak_msgs m;
	size_t count;
	uint32_t idx;
	char *txt;
	cJSON *warnings = cJSON_CreateArray();

	(void)s;
	memset(&m, 0, sizeof(m));
	assert_int_equal(slist_parse(LEAK_IGNORE_DEFAULT, &ign), FB_OK);
	assert_int_equal(leak_watch_init(&w), FB_OK);
	assert_int_equal(leak_watch_add_secret(&w, "arn:aws:secretsmanager:us-east-1:111111111111:secret:db",
					       "db", "v2", &idx), FB_OK);
	assert_int_equal(leak_watch_add_string(&w, idx, 0, cur, &ign, &count), FB_OK);
	assert_int_equal(count, 2);          /* two fields of 8+ characters ... */
	assert_int_equal(w.nvalues, 1);      /* ... one of them ignored (username) */
	assert_int_equal(leak_watch_add_string(&w, idx, 1, prev, &ign, &count), FB_OK);
	assert_true(leak_watch_has(&w, "arn:aws:secretsmanager:us-east-1:111111111111:secret:db"));
	assert_int_equal(leak_watch_build(&w), FB_OK);
	assert_int_equal(leak_msgs_add(&m, "/g", "s", "e1", 1700000000000, "login ok user=orders"), FB_OK);
	assert_int_equal(leak_msgs_add(&m, "/g", "s", "e2", 1700000000001,
				       "pw=Pa55-current-value-123 and again Pa55-current-value-123"), FB_OK);
	assert_int_equal(leak_msgs_add(&m, "/g", "s", "e3", 1700000000002,
				       "old pw=Pa55-previous-value-99 key AKIAIOSFODNN7EXAMPLE"), FB_OK);
	assert_int_equal(leak_findings_init(&f, w.nsecrets, warnings), FB_OK);
	leak_scan_messages(&w, m.v, m.n, &f);
	assert_int_equal(f.cur_hits[0], 2);
	assert_int_equal(f.prev_hits[0], 1);
	assert_int_equal(f.nkeys, 1);
	assert_string_equal(f.keys[0].id, "AKIAIOSFODNN7EXAMPLE");
	assert_int_equal(f.hits_total, 4);
	assert_int_equal(cJSON_GetArraySize(f.hits), 4);
	txt = cJSON_PrintUnformatted(f.hits);
	assert_null(strstr(txt, "Pa55-current-value-123"));
	assert_null(strstr(txt, "Pa55-previous-value-99"));
	assert_non_null(strstr(txt, "\"event_id\":\"e2\""));
	assert_non_null(strstr(txt, "\"version\":\"AWSPREVIOUS\""));
	cJSON_free(txt);
	leak_findings_cleanup(&f);
	leak_msgs_cleanup(&m);
	leak_watch_cleanup(&w);
	slist_free(&ign);
	cJSON_Delete(warnings);
}

/* Issue 16 item 2: a CloudTrail record's own key ids are not leaks; the
 * rest of the record is scanned. The record is the published KMS
 * DisableKey sample (../shared/reference-events) with a real-shaped key id
 * put where CloudTrail writes one. */
static char *ct_record(const char *key_field_value, const char *extra_member)
{
	char *raw = slurp("../shared/reference-events/kms-disablekey.cloudtrail-record.json", NULL);
	cJSON *j, *ui;
	char *out;

	assert_non_null(raw);
	j = cJSON_Parse(raw);
	free(raw);
	assert_non_null(j);
	ui = cJSON_GetObjectItemCaseSensitive(j, "userIdentity");
	cJSON_ReplaceItemInObjectCaseSensitive(ui, "accessKeyId", cJSON_CreateString(key_field_value));
	if (extra_member)
		cJSON_AddItemToObject(cJSON_GetObjectItemCaseSensitive(j, "requestParameters"), "note",
				      cJSON_CreateString(extra_member));
	out = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return out;
}

static void test_leak_rotate__cloudtrail_records_are_not_leaks(void **s)
{
	static const char sk[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
	struct leak_watch w;
	struct leak_findings f;
	struct leak_msgs m;
	struct slist ign = { 0 };
	char ids[CT_TEXT_MAX_IDS][21], *rec[6], forged[600];
	size_t nids, count, i;
	uint32_t idx;

	(void)s;
	memset(&m, 0, sizeof(m));
	/* the caller's key, plus a secret-looking 40-char run next to it */
	rec[0] = ct_record("AKIAIOSFODNN7EXAMPLE", NULL);
	rec[1] = ct_record("AKIAIOSFODNN7EXAMPLE", sk);
	/* a watched value inside the record is still a leak */
	rec[2] = ct_record("AKIAIOSFODNN7EXAMPLE", "pw=Zq8kP2vW9xLm4Tr7nB5c");
	/* another key id with its secret elsewhere in the record: a real pair */
	rec[3] = ct_record("AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7OTHER22 wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
	/* the SDK's credentials object dressed as a record: not exempt */
	snprintf(forged, sizeof(forged),
		 "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\",\"accessKeyId\":"
		 "\"AKIAIOSFODNN7EXAMPLE\",\"secretAccessKey\":\"%s\"},\"eventTime\":\"2026-01-01T00:00:00Z\","
		 "\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"GetUser\",\"awsRegion\":\"us-east-1\","
		 "\"eventID\":\"e\"}", sk);
	rec[4] = strdup(forged);
	/* a line that merely starts like one is not a record */
	snprintf(forged, sizeof(forged), "%s trailing text AKIAIOSFODNN7EXAMPLE", rec[0]);
	rec[5] = strdup(forged);

	assert_int_equal(ct_record_text(rec[0], strlen(rec[0]), ids, CT_TEXT_MAX_IDS, &nids), 1);
	assert_int_equal(nids, 1);
	assert_string_equal(ids[0], "AKIAIOSFODNN7EXAMPLE");
	assert_int_equal(ct_record_text(rec[4], strlen(rec[4]), ids, CT_TEXT_MAX_IDS, &nids), 0);
	assert_int_equal(ct_record_text(rec[5], strlen(rec[5]), ids, CT_TEXT_MAX_IDS, &nids), 0);
	assert_int_equal(ct_record_text("{\"eventVersion\":\"1.0\"}", 22, ids, CT_TEXT_MAX_IDS, &nids), 0);

	assert_int_equal(leak_watch_init(&w), FB_OK);
	assert_int_equal(leak_watch_add_secret(&w, "arn:s", "s", "v1", &idx), FB_OK);
	assert_int_equal(leak_watch_add_string(&w, idx, 0, "Zq8kP2vW9xLm4Tr7nB5c", &ign, &count), FB_OK);
	assert_int_equal(leak_watch_build(&w), FB_OK);
	for (i = 0; i < 6; i++)
		assert_int_equal(leak_msgs_add(&m, "aws-cloudtrail-logs", "111111111111_CloudTrail_us-east-1",
					       "e", 1, rec[i]), FB_OK);
	assert_int_equal(leak_findings_init(&f, w.nsecrets, NULL), FB_OK);
	/* one record at a time: which keys each one yields */
	leak_scan_messages(&w, m.v, 2, &f);
	assert_int_equal(f.nkeys, 0);        /* the caller's key: audit trail, even with a 40-char run */
	assert_int_equal(f.hits_total, 0);
	assert_int_equal(f.cloudtrail_records, 2);
	leak_scan_messages(&w, m.v + 2, 1, &f);
	assert_int_equal(f.cur_hits[0], 1);  /* the watched value is found */
	assert_int_equal(f.nkeys, 0);
	leak_scan_messages(&w, m.v + 3, 1, &f);
	assert_int_equal(f.nkeys, 1);
	assert_string_equal(f.keys[0].id, "AKIAIOSFODNN7OTHER22");
	assert_true(f.keys[0].near_secret);
	leak_scan_messages(&w, m.v + 4, 2, &f);
	assert_int_equal(f.nkeys, 2);        /* forged and trailing-text lines: scanned as any line */
	assert_string_equal(f.keys[1].id, "AKIAIOSFODNN7EXAMPLE");
	assert_true(f.keys[1].near_secret);
	assert_int_equal(f.cloudtrail_records, 4);
	leak_findings_cleanup(&f);
	leak_msgs_cleanup(&m);
	leak_watch_cleanup(&w);
	for (i = 0; i < 6; i++)
		free(rec[i]);
}

static void test_leak_rotate__decide_secret(void **s)
{
	struct leak_job j;
	struct prov_query old_tags;
	char detail[300];
	cJSON *d;

	(void)s;
	memset(&j, 0, sizeof(j));
	memset(&old_tags, 0, sizeof(old_tags));
	old_tags.complete = 1;
	old_tags.trigger_ms = 1767225600000LL;
	old_tags.min_age_ms = 24LL * 3600 * 1000;
	j.cur_hits = 1;
	/* rotation configured, current value leaked: rotate */
	d = cJSON_Parse("{\"RotationEnabled\":true,\"RotationLambdaARN\":\"arn:aws:lambda:us-east-1:1:function:r\","
			"\"VersionIdsToStages\":{\"v1\":[\"AWSCURRENT\"]},\"Tags\":[{\"Key\":\"firebreak:ecs-services\","
			"\"Value\":\"prod/a,prod/b\"}]}");
	/* the tags count only through leak_tags_decide: here no CloudTrail
	 * record in a complete read, so they predate the history */
	leak_tags_decide(cJSON_GetObjectItemCaseSensitive(d, "Tags"), NULL, &old_tags, &j, NULL);
	assert_int_equal(leak_decide_secret(d, "v1", &j, detail, sizeof(detail)), LEAK_DECIDE_ROTATE);
	assert_string_equal(j.rs.old_version, "v1");
	assert_string_equal(j.services, "prod/a,prod/b");
	/* rotated since we loaded and the leaked version is gone: already */
	assert_int_equal(leak_decide_secret(d, "v0", &j, detail, sizeof(detail)), LEAK_DECIDE_ALREADY);
	assert_non_null(strstr(detail, "no longer valid"));
	cJSON_Delete(d);
	/* issue 16 item 3: the leaked value is AWSPREVIOUS, still valid: rotate
	 * again (this was "already" before) */
	d = cJSON_Parse("{\"RotationEnabled\":true,\"RotationLambdaARN\":\"x\",\"VersionIdsToStages\":"
			"{\"v1\":[\"AWSCURRENT\"],\"v0\":[\"AWSPREVIOUS\"],\"vold\":[]}}");
	snprintf(j.leaked_version, sizeof(j.leaked_version), "v0");
	assert_int_equal(leak_decide_secret(d, "v1", &j, detail, sizeof(detail)), LEAK_DECIDE_ROTATE);
	assert_non_null(strstr(detail, "AWSPREVIOUS"));
	/* a version with no stage left (deprecated) is dead: already */
	snprintf(j.leaked_version, sizeof(j.leaked_version), "vold");
	assert_int_equal(leak_decide_secret(d, "v1", &j, detail, sizeof(detail)), LEAK_DECIDE_ALREADY);
	/* our own token is a version: this incident rotated it already */
	snprintf(j.leaked_version, sizeof(j.leaked_version), "v0");
	snprintf(j.rs.token, sizeof(j.rs.token), "v1");
	assert_int_equal(leak_decide_secret(d, "v1", &j, detail, sizeof(detail)), LEAK_DECIDE_ALREADY);
	assert_non_null(strstr(detail, "earlier delivery"));
	/* ... but a token version left without a stage (a failed rotation)
	 * proves nothing: the leaked AWSPREVIOUS is still live */
	snprintf(j.rs.token, sizeof(j.rs.token), "vold");
	assert_int_equal(leak_decide_secret(d, "v1", &j, detail, sizeof(detail)), LEAK_DECIDE_ROTATE);
	/* an unnamed leaked version is taken as live */
	j.rs.token[0] = '\0';
	j.leaked_version[0] = '\0';
	j.cur_hits = 0;
	assert_int_equal(leak_decide_secret(d, "", &j, detail, sizeof(detail)), LEAK_DECIDE_ROTATE);
	j.cur_hits = 1;
	j.rs.token[0] = '\0';
	j.leaked_version[0] = '\0';
	cJSON_Delete(d);
	/* a custom label does not keep a value alive */
	d = cJSON_Parse("{\"RotationEnabled\":true,\"RotationLambdaARN\":\"x\",\"VersionIdsToStages\":"
			"{\"v1\":[\"AWSCURRENT\"],\"v0\":[\"blue\"]}}");
	snprintf(j.leaked_version, sizeof(j.leaked_version), "v0");
	assert_int_equal(leak_decide_secret(d, "v1", &j, detail, sizeof(detail)), LEAK_DECIDE_ALREADY);
	j.leaked_version[0] = '\0';
	cJSON_Delete(d);
	/* no rotation function: cannot rotate */
	d = cJSON_Parse("{\"RotationEnabled\":false,\"VersionIdsToStages\":{\"v1\":[\"AWSCURRENT\"]}}");
	assert_int_equal(leak_decide_secret(d, "v1", &j, detail, sizeof(detail)), LEAK_DECIDE_NO_ROTATION);
	assert_non_null(strstr(detail, "not configured"));
	cJSON_Delete(d);
	/* a pending version: wait for it, never a second rotation (a leaked
	 * previous value too: as before item 3) */
	d = cJSON_Parse("{\"RotationEnabled\":true,\"RotationLambdaARN\":\"x\",\"VersionIdsToStages\":"
			"{\"v1\":[\"AWSCURRENT\"],\"v0\":[\"AWSPREVIOUS\"],\"v2\":[\"AWSPENDING\"]}}");
	assert_int_equal(leak_decide_secret(d, "v1", &j, detail, sizeof(detail)), LEAK_DECIDE_IN_PROGRESS);
	assert_string_equal(j.rs.version, "v2");
	snprintf(j.leaked_version, sizeof(j.leaked_version), "v0");
	assert_int_equal(leak_decide_secret(d, "v1", &j, detail, sizeof(detail)), LEAK_DECIDE_IN_PROGRESS);
	j.leaked_version[0] = '\0';
	cJSON_Delete(d);
	/* exempt wins over everything */
	d = cJSON_Parse("{\"RotationEnabled\":true,\"RotationLambdaARN\":\"x\",\"VersionIdsToStages\":"
			"{\"v1\":[\"AWSCURRENT\"],\"v2\":[\"AWSPENDING\"]},\"Tags\":[{\"Key\":\"firebreak:exempt\","
			"\"Value\":\"TRUE\"}]}");
	leak_tags_decide(cJSON_GetObjectItemCaseSensitive(d, "Tags"), NULL, &old_tags, &j, NULL);
	assert_int_equal(leak_decide_secret(d, "v1", &j, detail, sizeof(detail)), LEAK_DECIDE_EXEMPT);
	assert_null(j.services);
	cJSON_Delete(d);
	free(j.services);
}

/* Names and ids come from the log's writer: a watched value in one of them
 * is redacted in the report entry too (fuzz_awslogs found the event id). */
/* RESPONDERS.md, cross-account: another account's key goes through the
 * member role, or, without one, is not deactivated (not contained). */
static void test_leak_rotate__key_route_by_account(void **state)
{
	static const struct {
		const char *key, *own, *role;
		enum leak_key_route want;
	} cases[] = {
		{ "111111111111", "111111111111", NULL, LEAK_KEY_OWN },
		{ "111111111111", "111111111111", "firebreak-member", LEAK_KEY_OWN },
		{ "999999999999", "111111111111", "firebreak-member", LEAK_KEY_MEMBER },
		{ "999999999999", "111111111111", NULL, LEAK_KEY_NO_ROLE },
		{ "999999999999", "111111111111", "", LEAK_KEY_NO_ROLE },
		/* own account unknown: the member role (in every account) or nothing */
		{ "111111111111", NULL, "firebreak-member", LEAK_KEY_MEMBER },
		{ "111111111111", NULL, NULL, LEAK_KEY_NO_ROLE },
		/* a prefix is not the same account */
		{ "11111111111", "111111111111", NULL, LEAK_KEY_NO_ROLE },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(leak_key_route(cases[i].key, cases[i].own, cases[i].role), cases[i].want);
}

static void test_leak_rotate__names_in_hits_are_redacted(void **s)
{
	static const char v[] = "hunter2-correct-horse-battery";
	struct leak_watch w;
	struct leak_findings f;
	struct leak_msgs m;
	char out[200], *txt;
	size_t count;
	uint32_t idx;

	(void)s;
	memset(&m, 0, sizeof(m));
	assert_int_equal(leak_watch_init(&w), FB_OK);
	assert_int_equal(leak_watch_add_secret(&w, "arn:s", NULL, "v1", &idx), FB_OK);
	assert_int_equal(leak_watch_add_string(&w, idx, 0, v, NULL, &count), FB_OK);
	assert_int_equal(leak_watch_build(&w), FB_OK);
	assert_int_equal(leak_redact(&w, "/ecs/plain-name", out, sizeof(out)), 0);
	assert_string_equal(out, "/ecs/plain-name");
	assert_int_equal(leak_redact(&w, "/app/hunter2-correct-horse-battery/x", out, sizeof(out)), 1);
	assert_null(strstr(out, v));
	assert_non_null(strstr(out, "/app/[watched-secret:"));
	assert_non_null(strstr(out, "]/x"));
	/* a short buffer never holds part of the value */
	assert_int_equal(leak_redact(&w, "ab-hunter2-correct-horse-battery", out, 8), 1);
	assert_int_equal(strlen(out), 7);
	assert_null(strstr(out, "hunter"));
	assert_int_equal(leak_msgs_add(&m, "/g-hunter2-correct-horse-battery", "s", "1hunter2-correct-horse-battery",
				       1, "x hunter2-correct-horse-battery y"), FB_OK);
	assert_int_equal(leak_findings_init(&f, w.nsecrets, NULL), FB_OK);
	leak_scan_messages(&w, m.v, m.n, &f);
	txt = cJSON_PrintUnformatted(f.hits);
	assert_int_equal(f.hits_total, 1);
	assert_null(strstr(txt, v));
	cJSON_free(txt);
	leak_findings_cleanup(&f);
	leak_msgs_cleanup(&m);
	leak_watch_cleanup(&w);
}

/* Issue 16 item 8: firebreak:exempt and firebreak:ecs-services count only
 * with provenance (a leak has no CloudTrail actor). */
static void test_leak_rotate__tags_need_provenance(void **s)
{
	static const char *const rec =
		"{\"eventName\":\"TagResource\",\"eventTime\":\"%s\",\"userIdentity\":{\"arn\":"
		"\"arn:aws:iam::111111111111:user/%s\"},\"requestParameters\":{\"secretId\":\"s\","
		"\"tags\":[{\"key\":\"%s\",\"value\":\"%s\"}]}}";
	static const struct {
		const char *when, *tag, *value, *now;
		int exempt, services, ignored;
	} cases[] = {
		/* set 10 min before the leak: ignored either way */
		{ "2025-12-31T23:50:00Z", "firebreak:exempt", "true", "true", 0, 0, 0 },
		{ "2025-12-31T23:50:00Z", "firebreak:ecs-services", "prod/x", "prod/x", 0, 0, 1 },
		/* 30 days before, by someone known: honoured */
		{ "2025-12-01T00:00:00Z", "firebreak:exempt", "true", " TRUE ", 1, 0, 0 },
		{ "2025-12-01T00:00:00Z", "firebreak:ecs-services", "prod/x", "prod/x", 0, 1, 0 },
		/* an old record of another value: CloudTrail has not caught up */
		{ "2025-12-01T00:00:00Z", "firebreak:ecs-services", "prod/y", "prod/x", 0, 0, 1 },
	};
	struct prov_query q;
	size_t i;

	(void)s;
	memset(&q, 0, sizeof(q));
	q.complete = 1;
	q.trigger_ms = 1767225600000LL; /* 2026-01-01T00:00:00Z */
	q.min_age_ms = 24LL * 3600 * 1000;
	q.trigger_actor = "(unknown)";
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct leak_job j;
		char txt[800];
		cJSON *ev = cJSON_CreateArray(), *e = cJSON_CreateObject(), *tags, *list = cJSON_CreateArray();

		snprintf(txt, sizeof(txt), rec, cases[i].when, "alice", cases[i].tag, cases[i].value);
		cJSON_AddStringToObject(e, "EventName", "TagResource");
		cJSON_AddNumberToObject(e, "EventTime", (double)resp_parse_time_ms(cases[i].when) / 1000.0);
		cJSON_AddStringToObject(e, "CloudTrailEvent", txt);
		cJSON_AddItemToArray(ev, e);
		snprintf(txt, sizeof(txt), "[{\"Key\":\"%s\",\"Value\":\"%s\"}]", cases[i].tag, cases[i].now);
		tags = cJSON_Parse(txt);
		memset(&j, 0, sizeof(j));
		assert_true(leak_tags_need_history(tags));
		leak_tags_decide(tags, ev, &q, &j, list);
		assert_int_equal(j.exempt, cases[i].exempt);
		assert_int_equal(j.services != NULL, cases[i].services);
		assert_int_equal(j.services_ignored != NULL, cases[i].ignored);
		assert_int_equal(cJSON_GetArraySize(list), 1);
		assert_string_equal(resp_get_str(list->child, "verdict"),
				    cases[i].exempt || cases[i].services ? "honoured" : "ignored");
		free(j.services);
		free(j.services_ignored);
		cJSON_Delete(ev);
		cJSON_Delete(tags);
		cJSON_Delete(list);
	}
}

/* Issue 18 item 4: the session token beside a temporary key id. */
static void test_leak_rotate__session_token_in_the_keys_event(void **s)
{
	char tok[300], line[600];
	struct leak_msgs m;
	const char *t;
	size_t n, i;

	(void)s;
	for (i = 0; i < 200; i++)
		tok[i] = "AbCd0123+/xyz"[i % 13];
	tok[200] = '\0';
	memset(&m, 0, sizeof(m));
	snprintf(line, sizeof(line), "AWS_ACCESS_KEY_ID=ASIAQ3EGRZ7DTEMP2AB4 AWS_SESSION_TOKEN=%s== next", tok);
	assert_int_equal(leak_msgs_add(&m, "g", "s", "1", 0, "no key here AbCd0123+/xyzAbCd0123+/xyz"), FB_OK);
	assert_int_equal(leak_msgs_add(&m, "g", "s", "2", 0, line), FB_OK);
	t = leak_session_token(&m, "ASIAQ3EGRZ7DTEMP2AB4", &n);
	/* the name before '=' is not part of it; two '=' of padding are */
	assert_non_null(t);
	assert_int_equal(n, 202);
	assert_memory_equal(t, tok, 200);
	/* too short, or another key's event: none */
	assert_null(leak_session_token(&m, "ASIAQ3EGRZ7DOTHER2AB", &n));
	leak_msgs_cleanup(&m);
	memset(&m, 0, sizeof(m));
	assert_int_equal(leak_msgs_add(&m, "g", "s", "1", 0, "ASIAQ3EGRZ7DTEMP2AB4 AbCd0123+/xyzAbCd0123+/xyz0123456789"), FB_OK);
	assert_null(leak_session_token(&m, "ASIAQ3EGRZ7DTEMP2AB4", &n));
	leak_msgs_cleanup(&m);
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
		cmocka_unit_test(test_leak_rotate__key_id_alone_forms),
		cmocka_unit_test(test_leak_rotate__excerpt_never_holds_a_value),
		cmocka_unit_test(test_leak_rotate__secret_values),
		cmocka_unit_test(test_leak_rotate__nul_escape_does_not_hide_a_secret),
		cmocka_unit_test(test_leak_rotate__batch_parse_rejects_hostile),
		cmocka_unit_test(test_leak_rotate__classify_forms),
		cmocka_unit_test(test_leak_rotate__settings_name_own_log_group),
		cmocka_unit_test(test_leak_rotate__scan_messages_counts_and_redacts),
		cmocka_unit_test(test_leak_rotate__cloudtrail_records_are_not_leaks),
		cmocka_unit_test(test_leak_rotate__decide_secret),
		cmocka_unit_test(test_leak_rotate__names_in_hits_are_redacted),
		cmocka_unit_test(test_leak_rotate__key_route_by_account),
		cmocka_unit_test(test_leak_rotate__tags_need_provenance),
		cmocka_unit_test(test_leak_rotate__session_token_in_the_keys_event),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
