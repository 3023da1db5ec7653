/*
 * leak_scan_bench: leak-rotate's decode + scan throughput on a 1 MB
 * compressed CloudWatch Logs batch of realistic application logs with 100
 * watched values, next to zlib inflate alone on the same data.
 *
 *     build/native/tools/leak_scan_bench [runs]     (default 7)
 *
 * Prints one JSON object: MB/s of inflated payload (median of the runs)
 * for inflate alone, the scan alone, and the whole path (base64 -> inflate
 * -> JSON parse -> scan of every message). Run by `make bench`, not by
 * `make test` (speed is not a test assertion).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "../../functions/leak-rotate/awslogs.c"
#include "../../functions/leak-rotate/scan.c"

#define TARGET_COMPRESSED (1024u * 1024u)
#define NVALUES 100

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void rand_str(char *out, size_t n, const char *alpha)
{
	size_t i, k = strlen(alpha);

	for (i = 0; i < n; i++)
		out[i] = alpha[rnd() % k];
	out[n] = '\0';
}

static const char *paths[] = { "/api/orders", "/api/users", "/api/cart", "/health", "/api/search",
			       "/api/payments", "/static/app.js", "/api/inventory" };
static const char *levels[] = { "info", "info", "info", "debug", "warn", "error" };
static const char *msgs[] = { "request served", "cache miss", "db query", "upstream call",
			      "retrying request", "user session refreshed", "queue message consumed" };

/* The awslogs payload JSON with about `target_raw` bytes of log events. */
static void make_payload(struct buf *p, size_t target_raw, char values[NVALUES][33], size_t *planted)
{
	size_t i = 0;

	buf_reset(p);
	buf_puts(p, "{\"messageType\":\"DATA_MESSAGE\",\"owner\":\"111111111111\",\"logGroup\":\"/ecs/orders-api\","
		    "\"logStream\":\"orders-api/app/4b1c0d2e\",\"subscriptionFilters\":[\"firebreak\"],\"logEvents\":[");
	*planted = 0;
	while (p->len < target_raw) {
		char rid[17], user[9], line[600];
		int n;

		rand_str(rid, 16, "0123456789abcdef");
		rand_str(user, 8, "abcdefghijklmnopqrstuvwxyz");
		n = snprintf(line, sizeof(line),
			     "{\\\"level\\\":\\\"%s\\\",\\\"ts\\\":\\\"2026-01-01T00:%02u:%02u.%03uZ\\\",\\\"msg\\\":\\\"%s\\\","
			     "\\\"method\\\":\\\"GET\\\",\\\"path\\\":\\\"%s/%u\\\",\\\"status\\\":%u,\\\"duration_ms\\\":%u,"
			     "\\\"request_id\\\":\\\"%s\\\",\\\"user\\\":\\\"%s\\\",\\\"ip\\\":\\\"10.%u.%u.%u\\\"}",
			     levels[rnd() % 6], rnd() % 60, rnd() % 60, rnd() % 1000, msgs[rnd() % 7],
			     paths[rnd() % 8], rnd() % 100000, rnd() % 50 ? 200 : 500, rnd() % 900, rid, user,
			     rnd() % 256, rnd() % 256, rnd() % 256);
		if (rnd() % 5000 == 0) {
			/* now and then a leaked value */
			n += snprintf(line + n, sizeof(line) - (size_t)n, " password=%s", values[rnd() % NVALUES]);
			(*planted)++;
		}
		buf_printf(p, "%s{\"id\":\"%056zu\",\"timestamp\":%zu,\"message\":\"%s\"}", i ? "," : "", i,
			   (size_t)1767225600000u + i, line);
		i++;
	}
	buf_puts(p, "]}");
}

static void gzip_buf(const struct buf *in, struct buf *out)
{
	z_stream z;
	unsigned char chunk[65536];
	int zr;

	buf_reset(out);
	memset(&z, 0, sizeof(z));
	deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (Bytef *)in->data;
	z.avail_in = (uInt)in->len;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		zr = deflate(&z, Z_FINISH);
		buf_append(out, chunk, sizeof(chunk) - z.avail_out);
	} while (zr != Z_STREAM_END);
	deflateEnd(&z);
}

static void b64(const struct buf *in, struct buf *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	const unsigned char *s = (const unsigned char *)in->data;

	buf_reset(out);
	for (i = 0; i + 2 < in->len; i += 3) {
		char q[4] = { t[s[i] >> 2], t[((s[i] & 3) << 4) | (s[i + 1] >> 4)],
			      t[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)], t[s[i + 2] & 63] };
		buf_append(out, q, 4);
	}
	if (in->len - i == 1) {
		char q[4] = { t[s[i] >> 2], t[(s[i] & 3) << 4], '=', '=' };
		buf_append(out, q, 4);
	} else if (in->len - i == 2) {
		char q[4] = { t[s[i] >> 2], t[((s[i] & 3) << 4) | (s[i + 1] >> 4)], t[(s[i + 1] & 15) << 2], '=' };
		buf_append(out, q, 4);
	}
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), dcmp);
	return v[n / 2];
}

static size_t scan_batch(const struct leak_scanner *sc, const struct leak_batch *b)
{
	static struct leak_hit hits[LEAK_MAX_HITS_PER_MESSAGE];
	size_t i, total = 0;

	for (i = 0; i < b->nevents; i++)
		total += leak_scan(sc, b->events[i].message, b->events[i].message_len, hits,
				   LEAK_MAX_HITS_PER_MESSAGE);
	return total;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 7, r;
	char values[NVALUES][33], err[256];
	struct buf payload, gz, enc, out;
	struct leak_scanner sc;
	struct leak_batch batch;
	size_t planted = 0, target = 8u * 1024u * 1024u, hits = 0, nevents = 0, i;
	double *t_inf, *t_scan, *t_all, mb;

	if (runs < 1 || runs > 101)
		runs = 7;
	for (i = 0; i < NVALUES; i++)
		rand_str(values[i], 32, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
	buf_init(&payload, 512u << 20);
	buf_init(&gz, 64u << 20);
	buf_init(&enc, 128u << 20);
	buf_init(&out, 512u << 20);
	/* size the batch so the gzip is ~1 MB */
	for (i = 0; i < 3; i++) {
		rng = 0x9e3779b97f4a7c15ull;
		make_payload(&payload, target, values, &planted);
		gzip_buf(&payload, &gz);
		target = (size_t)((double)target * TARGET_COMPRESSED / (double)gz.len);
	}
	b64(&gz, &enc);
	leak_scanner_init(&sc);
	for (i = 0; i < NVALUES; i++)
		leak_scanner_add_value(&sc, values[i], 32, (uint32_t)i);
	if (leak_scanner_build(&sc) != FB_OK) {
		fprintf(stderr, "cannot build the scanner\n");
		return 1;
	}
	t_inf = calloc((size_t)runs, sizeof(double));
	t_scan = calloc((size_t)runs, sizeof(double));
	t_all = calloc((size_t)runs, sizeof(double));
	if (!t_inf || !t_scan || !t_all)
		return 1;
	for (r = 0; r < runs; r++) {
		struct buf raw;
		double t0;

		/* zlib inflate alone (same caps and loop as the function) */
		buf_reset(&out);
		t0 = now_s();
		if (leak_inflate(gz.data, gz.len, 512u << 20, 100000, 0, &out, err, sizeof(err)) != FB_OK) {
			fprintf(stderr, "inflate: %s\n", err);
			return 1;
		}
		t_inf[r] = now_s() - t0;
		/* the whole path: base64, inflate, parse, scan */
		buf_reset(&out);
		buf_init(&raw, enc.len);
		t0 = now_s();
		leak_b64_decode(enc.data, enc.len, &raw);
		if (leak_inflate(raw.data, raw.len, 512u << 20, 100000, 0, &out, err, sizeof(err)) != FB_OK ||
		    leak_batch_parse(out.data, out.len, &batch, err, sizeof(err)) != FB_OK) {
			fprintf(stderr, "decode: %s\n", err);
			return 1;
		}
		{
			double t1 = now_s();

			hits = scan_batch(&sc, &batch);
			t_scan[r] = now_s() - t1;
		}
		t_all[r] = now_s() - t0;
		nevents = batch.nevents;
		leak_batch_cleanup(&batch);
		buf_cleanup(&raw);
	}
	mb = (double)out.len / (1024.0 * 1024.0);
	{
		double inf = median(t_inf, runs), sc_ = median(t_scan, runs), all = median(t_all, runs);

		printf("{\"bench\":\"leak_scan\",\"compressed_bytes\":%zu,\"base64_bytes\":%zu,\"inflated_bytes\":%zu,"
		       "\"events\":%zu,\"watched_values\":%d,\"automaton_states\":%zu,\"planted\":%zu,\"hits\":%zu,"
		       "\"runs\":%d,\"inflate_only_mb_s\":%.1f,\"scan_only_mb_s\":%.1f,\"decode_scan_mb_s\":%.1f,"
		       "\"inflate_ms\":%.3f,\"scan_ms\":%.3f,\"decode_scan_ms\":%.3f,\"scan_vs_inflate_pct\":%.1f}\n",
		       gz.len, enc.len, out.len, nevents, NVALUES, leak_ac_states(sc.ac), planted, hits, runs,
		       mb / inf, mb / sc_, mb / all, inf * 1e3, sc_ * 1e3, all * 1e3, 100.0 * sc_ / inf);
	}
	leak_scanner_cleanup(&sc);
	buf_cleanup(&payload);
	buf_cleanup(&gz);
	buf_cleanup(&enc);
	buf_cleanup(&out);
	free(t_inf);
	free(t_scan);
	free(t_all);
	return 0;
}
