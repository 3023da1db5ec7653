/*
 * awslogs: the CloudWatch Logs subscription payload, decoded under caps.
 *
 * CloudWatch Logs delivers {"awslogs":{"data":"<base64 of gzip>"}}
 * (SubscriptionFilters docs); some published fixtures are zlib-wrapped,
 * so inflateInit2 gets 15+32 (automatic gzip/zlib header detection).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "leak.h"
#include "resp.h"

static int b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

enum fb_err leak_b64_decode(const char *s, size_t n, struct buf *out)
{
	unsigned char chunk[3 * 1024];
	size_t i, pad = 0, k = 0;
	uint32_t acc = 0;
	int nacc = 0;
	enum fb_err rc;

	/* '=' only at the very end, at most two */
	while (n > 0 && s[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	if (pad && (n + pad) % 4)
		return FB_E_PARSE;
	if (n % 4 == 1)
		return FB_E_PARSE; /* no whole byte in a lone sextet: truncated */
	for (i = 0; i < n; i++) {
		int v = b64_val((unsigned char)s[i]);

		if (v < 0)
			return FB_E_PARSE;
		acc = (acc << 6) | (uint32_t)v;
		if (++nacc == 4) {
			chunk[k++] = (unsigned char)(acc >> 16);
			chunk[k++] = (unsigned char)(acc >> 8);
			chunk[k++] = (unsigned char)acc;
			acc = 0;
			nacc = 0;
			if (k == sizeof(chunk)) {
				rc = buf_append(out, chunk, k);
				if (rc != FB_OK)
					return rc;
				k = 0;
			}
		}
	}
	if (nacc == 2) {
		chunk[k++] = (unsigned char)(acc >> 4);
	} else if (nacc == 3) {
		chunk[k++] = (unsigned char)(acc >> 10);
		chunk[k++] = (unsigned char)(acc >> 2);
	}
	return k ? buf_append(out, chunk, k) : FB_OK;
}

enum fb_err leak_inflate(const void *in, size_t n, size_t max_out, unsigned max_ratio,
			 size_t ratio_floor, struct buf *out, char *err, size_t errlen)
{
	unsigned char chunk[64 * 1024];
	z_stream z;
	enum fb_err rc = FB_E_PARSE;
	int zr;

	if (n == 0) {
		snprintf(err, errlen, "empty compressed data");
		return FB_E_PARSE;
	}
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 32) != Z_OK) {
		snprintf(err, errlen, "cannot start zlib");
		return FB_E_NOMEM;
	}
	/* Feed in slices so avail_in (uInt) never overflows on big inputs. */
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = n > UINT32_MAX ? UINT32_MAX : (uInt)n;
	for (;;) {
		size_t got;

		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
			snprintf(err, errlen, "not gzip or zlib data, or corrupt (%s)",
				 z.msg ? z.msg : "zlib error");
			goto out;
		}
		got = sizeof(chunk) - z.avail_out;
		if (out->len + got > max_out) {
			snprintf(err, errlen, "inflated data larger than %zu bytes (decompression bomb?)",
				 max_out);
			rc = FB_E_TOO_LARGE;
			goto out;
		}
		if (got && (rc = buf_append(out, chunk, got)) != FB_OK) {
			snprintf(err, errlen, "cannot hold inflated data");
			goto out;
		}
		rc = FB_E_PARSE;
		if (out->len > ratio_floor && out->len / (z.total_in ? z.total_in : 1) > max_ratio) {
			snprintf(err, errlen, "compression ratio above %u:1 (decompression bomb?)",
				 max_ratio);
			rc = FB_E_TOO_LARGE;
			goto out;
		}
		if (zr == Z_STREAM_END)
			break;
		if (zr == Z_BUF_ERROR && got == 0) {
			/* no progress with all input consumed: the stream stops early */
			snprintf(err, errlen, "truncated compressed data");
			goto out;
		}
	}
	if (z.total_in != n) {
		snprintf(err, errlen, "trailing bytes after the compressed stream");
		goto out;
	}
	rc = FB_OK;
out:
	inflateEnd(&z);
	return rc;
}

static int is_str(const cJSON *j)
{
	return cJSON_IsString(j) && j->valuestring;
}

int leak_log_group_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n >= 1 && n <= LEAK_NAME_MAX &&
	       strspn(s, "._-/#ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == n;
}

int leak_log_stream_ok(const char *s)
{
	size_t i, n = s ? strlen(s) : 0;

	if (n < 1 || n > LEAK_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] == ':' || s[i] == '*' || (unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/* Whether `s` holds a "\u0000" escape: a backslash that starts an escape
 * (an escaped backslash "\\" is skipped whole, so "\\u0000" is text). With
 * `fix`, each one is rewritten in place to "\ufffd" (same length). */
static int nul_escapes(char *s, const char *ro, size_t n, int fix)
{
	const char *p = s ? s : ro;
	size_t i;
	int found = 0;

	for (i = 0; i + 1 < n; i++) {
		if (p[i] != '\\')
			continue;
		if (p[i + 1] == 'u' && i + 5 < n && !memcmp(p + i + 2, "0000", 4)) {
			found = 1;
			if (!fix)
				return 1;
			memcpy(s + i + 2, "fffd", 4);
		}
		i++; /* the escaped character */
	}
	return found;
}

/* resp_parse_event over the payload, "\u0000" read as "\ufffd" (leak.h). */
static enum fb_err batch_doc(const char *json, size_t len, cJSON **doc, char *err, size_t errlen)
{
	char why[160];
	char *copy = NULL;
	enum fb_err rc;

	if (json && nul_escapes(NULL, json, len, 0)) {
		copy = malloc(len ? len : 1);
		if (!copy) {
			snprintf(err, errlen, "out of memory");
			return FB_E_NOMEM;
		}
		memcpy(copy, json, len);
		nul_escapes(copy, NULL, len, 1);
		json = copy;
	}
	rc = resp_parse_event(json, len, LEAK_MAX_INFLATED, doc, why, sizeof(why));
	if (copy) {
		/* log text may hold the very secrets we look for */
		explicit_bzero(copy, len);
		free(copy);
	}
	if (rc != FB_OK)
		snprintf(err, errlen, "decoded payload is not a JSON object (%s)", why);
	return rc == FB_OK ? FB_OK : FB_E_PARSE;
}

enum fb_err leak_batch_parse(const char *json, size_t len, struct leak_batch *b,
			     char *err, size_t errlen)
{
	const cJSON *mt, *grp, *str, *own, *evs, *e;
	size_t i = 0, n;
	enum fb_err rc;

	memset(b, 0, sizeof(*b));
	rc = batch_doc(json, len, &b->doc, err, errlen);
	if (rc == FB_E_NOMEM)
		return rc;
	if (rc != FB_OK)
		goto bad;
	mt = cJSON_GetObjectItemCaseSensitive(b->doc, "messageType");
	grp = cJSON_GetObjectItemCaseSensitive(b->doc, "logGroup");
	str = cJSON_GetObjectItemCaseSensitive(b->doc, "logStream");
	own = cJSON_GetObjectItemCaseSensitive(b->doc, "owner");
	evs = cJSON_GetObjectItemCaseSensitive(b->doc, "logEvents");
	if (!is_str(mt)) {
		snprintf(err, errlen, "decoded payload field 'messageType' missing or not a string");
		goto bad;
	}
	b->message_type = mt->valuestring;
	b->owner = is_str(own) ? own->valuestring : "";
	b->log_group = is_str(grp) ? grp->valuestring : "";
	b->log_stream = is_str(str) ? str->valuestring : "";
	if (!strcmp(b->message_type, "CONTROL_MESSAGE"))
		return FB_OK; /* nothing else is promised in a control message */
	if (!is_str(grp) || !is_str(str)) {
		snprintf(err, errlen, "decoded payload field 'logGroup' or 'logStream' missing");
		goto bad;
	}
	/* They name the resource in the report and the incident: only what
	 * CloudWatch Logs itself would deliver. */
	if (!resp_account_id_ok(b->owner)) {
		snprintf(err, errlen, "decoded payload field 'owner' is not an account id");
		goto bad;
	}
	if (!leak_log_group_ok(b->log_group) || !leak_log_stream_ok(b->log_stream)) {
		snprintf(err, errlen, "decoded payload field 'logGroup' or 'logStream' is not a "
			 "CloudWatch Logs name");
		goto bad;
	}
	if (!cJSON_IsArray(evs)) {
		snprintf(err, errlen, "decoded payload field 'logEvents' missing or not an array");
		goto bad;
	}
	n = (size_t)cJSON_GetArraySize(evs);
	if (n > LEAK_MAX_EVENTS) {
		snprintf(err, errlen, "more than %u log events in one batch", LEAK_MAX_EVENTS);
		goto bad;
	}
	b->events = calloc(n ? n : 1, sizeof(*b->events));
	if (!b->events) {
		snprintf(err, errlen, "out of memory");
		leak_batch_cleanup(b);
		return FB_E_NOMEM;
	}
	cJSON_ArrayForEach(e, evs) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
		const cJSON *ts = cJSON_GetObjectItemCaseSensitive(e, "timestamp");
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");

		if (!cJSON_IsObject(e) || !is_str(msg) || !cJSON_IsNumber(ts) ||
		    (id && !is_str(id))) {
			snprintf(err, errlen, "log event %zu lacks a string 'message' or numeric 'timestamp'",
				 i);
			goto bad;
		}
		b->events[i].id = id ? id->valuestring : "";
		/* fuzz (tests/fuzz/regressions/awslogs): converting a double outside
		 * int64 is undefined behaviour; such a timestamp becomes 0 */
		b->events[i].timestamp_ms = (ts->valuedouble > -9.2e18 && ts->valuedouble < 9.2e18)
						   ? (int64_t)ts->valuedouble : 0;
		b->events[i].message = msg->valuestring;
		b->events[i].message_len = strlen(msg->valuestring);
		b->events[i].stream = b->log_stream;
		i++;
	}
	b->nevents = i;
	return FB_OK;
bad:
	leak_batch_cleanup(b);
	return FB_E_PARSE;
}

void leak_batch_cleanup(struct leak_batch *b)
{
	if (!b)
		return;
	if (b->doc) {
		/* log text may hold the very secrets we look for */
		buf_cjson_wipe(b->doc);
		cJSON_Delete(b->doc);
	}
	free(b->events);
	memset(b, 0, sizeof(*b));
}

enum fb_err leak_awslogs_decode(const char *b64, size_t n, struct buf *json,
				char *err, size_t errlen)
{
	struct buf raw;
	enum fb_err rc;

	/* base64 is 4/3 of its bytes; the event itself is capped upstream */
	buf_init(&raw, n / 4 * 3 + 3);
	buf_init(json, LEAK_MAX_INFLATED);
	rc = leak_b64_decode(b64, n, &raw);
	if (rc != FB_OK) {
		snprintf(err, errlen, "awslogs.data is not valid base64 (truncated?)");
		goto out;
	}
	rc = leak_inflate(raw.data, raw.len, LEAK_MAX_INFLATED, LEAK_MAX_RATIO, LEAK_RATIO_FLOOR,
			  json, err, errlen);
out:
	if (raw.data)
		explicit_bzero(raw.data, raw.len);
	buf_cleanup(&raw);
	if (rc != FB_OK) {
		if (json->data)
			explicit_bzero(json->data, json->len);
		buf_cleanup(json);
	}
	return rc;
}
