/*
 * fuzz_awslogs: leak-rotate's decoder of CloudWatch Logs subscription
 * deliveries (functions/leak-rotate/awslogs.c: base64 -> streaming inflate
 * under caps -> JSON batch) and its scanner (scan.c) over the messages, the
 * attacker's own log lines. The first byte picks the entry point:
 *   0 awslogs.data text -> leak_awslogs_decode -> batch -> scan;
 *   1 gzip/zlib bytes   -> leak_inflate (bomb caps) -> batch -> scan;
 *   2 payload JSON      -> leak_batch_parse -> scan;
 *   3 a secret string   -> leak_secret_values (JSON object or plain).
 * Each batch is also scanned the handler's way (stages.c: the watched set
 * built by leak_watch_*, messages by leak_msgs_add, leak_scan_messages).
 * Checks: inflated output within its cap, every event's message within the
 * document, hits sorted and inside the message, excerpts and the report's
 * hit entries never contain a watched value.
 * FUZZ_SOURCES: functions/leak-rotate/awslogs.c functions/leak-rotate/scan.c functions/leak-rotate/stages.c
 */
#include <stdio.h>
#include <cjson/cJSON.h>
#include "fuzz_common.h"
#include "resp.h"
#include "../../functions/leak-rotate/leak.h"

static const char kWatched[] = "hunter2-correct-horse-battery";

/* The watched set as load_secrets builds it: one secret, one plain value. */
static const struct leak_watch *watch(void)
{
	static struct leak_watch w;
	static int ready;
	size_t count;
	uint32_t idx;

	if (!ready) {
		if (leak_watch_init(&w) != FB_OK ||
		    leak_watch_add_secret(&w, "arn:aws:secretsmanager:us-east-1:111111111111:secret:w",
					  "w", "v1", &idx) != FB_OK ||
		    leak_watch_add_string(&w, idx, 0, kWatched, NULL, &count) != FB_OK || count != 1 ||
		    leak_watch_build(&w) != FB_OK)
			abort();
		ready = 1;
	}
	return &w;
}

static const struct leak_scanner *scanner(void)
{
	return &watch()->sc;
}

/* The handler's pass over the batch: the report entries must not hold the value. */
static void scan_like_handler(const struct leak_batch *b)
{
	struct leak_msgs m;
	struct leak_findings f;
	cJSON *warnings = cJSON_CreateArray();
	char *txt;
	size_t i;

	memset(&m, 0, sizeof(m));
	for (i = 0; i < b->nevents; i++)
		if (leak_msgs_add(&m, b->log_group, b->events[i].stream, b->events[i].id,
				  b->events[i].timestamp_ms, b->events[i].message) != FB_OK)
			break;
	if (leak_findings_init(&f, watch()->nsecrets, warnings) == FB_OK) {
		leak_scan_messages(watch(), m.v, m.n, &f);
		if (f.nkeys > LEAK_MAX_KEYS || f.ntokens > LEAK_MAX_TOKENS ||
		    cJSON_GetArraySize(f.hits) > LEAK_MAX_REPORT_HITS)
			abort();
		txt = cJSON_PrintUnformatted(f.hits);
		if (txt && strstr(txt, kWatched))
			abort(); /* a watched value leaked into the report */
		cJSON_free(txt);
	}
	leak_findings_cleanup(&f);
	leak_msgs_cleanup(&m);
	cJSON_Delete(warnings);
}

static void scan_batch(const struct leak_batch *b)
{
	struct leak_hit hits[LEAK_MAX_HITS_PER_MESSAGE];
	size_t i, k, nh;

	if (b->nevents > LEAK_MAX_EVENTS)
		abort();
	for (i = 0; i < b->nevents; i++) {
		const struct leak_event *e = &b->events[i];

		if (!e->message || !e->id || !e->stream)
			abort();
		nh = leak_scan(scanner(), e->message, e->message_len, hits, LEAK_MAX_HITS_PER_MESSAGE);
		if (nh > LEAK_MAX_HITS_PER_MESSAGE)
			abort();
		for (k = 0; k < nh; k++) {
			struct buf ex;

			if (hits[k].off + hits[k].len > e->message_len)
				abort();
			if (k && hits[k].off < hits[k - 1].off)
				abort();
			buf_init(&ex, 1u << 16);
			if (leak_excerpt(e->message, e->message_len, hits, nh, k, &ex) == FB_OK &&
			    ex.data && memmem(ex.data, ex.len, kWatched, sizeof(kWatched) - 1))
				abort(); /* a watched value leaked into the report */
			buf_cleanup(&ex);
		}
	}
}

static void batch(const char *json, size_t len)
{
	struct leak_batch b;
	char err[256];

	memset(&b, 0, sizeof(b));
	if (leak_batch_parse(json, len, &b, err, sizeof(err)) == FB_OK) {
		scan_batch(&b);
		scan_like_handler(&b);
	}
	leak_batch_cleanup(&b);
}

static enum fb_err count_cb(void *ud, const char *v, size_t n, const char *field)
{
	(void)field;
	if (n < LEAK_MIN_SECRET || !v)
		abort();
	(*(size_t *)ud)++;
	return FB_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out;
	char err[256];
	size_t count = 0, seen = 0;

	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		memset(&out, 0, sizeof(out));
		if (leak_awslogs_decode((const char *)data + 1, size - 1, &out, err, sizeof(err)) == FB_OK) {
			if (out.len > LEAK_MAX_INFLATED)
				abort();
			batch(out.data ? out.data : "", out.len);
		}
		buf_cleanup(&out);
		break;
	case 1:
		buf_init(&out, LEAK_MAX_INFLATED);
		if (leak_inflate(data + 1, size - 1, LEAK_MAX_INFLATED, LEAK_MAX_RATIO,
				 LEAK_RATIO_FLOOR, &out, err, sizeof(err)) == FB_OK) {
			if (out.len > LEAK_MAX_INFLATED)
				abort();
			batch(out.data ? out.data : "", out.len);
		}
		buf_cleanup(&out);
		break;
	case 2: {
		char *s = fuzz_strndup(data + 1, size - 1);

		batch(s, size - 1);
		free(s);
		break;
	}
	case 3: {
		char *s = fuzz_strndup(data + 1, size - 1);

		if (leak_secret_values(s, size - 1, count_cb, &seen, &count) == FB_OK && count != seen)
			abort();
		free(s);
		break;
	}
	}
	return 0;
}
