/*
 * cwl: CloudWatch Logs streams kept as evidence (cwl.h).
 */
#include "cwl.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "resp.h"

void cwl_init(struct cwl *c, struct kit *k, const struct lr_context *ctx, size_t max_bytes)
{
	memset(c, 0, sizeof(*c));
	c->k = k;
	c->ctx = ctx;
	c->max_bytes = max_bytes;
	c->rd = kit_round_new(k);
}

/* One page of a stream (kit_paging.on_page): appended within the byte
 * budget; another page only while time and the page limit allow (the
 * uploads need the time left). */
static int log_page(void *arg, const cJSON *page, int more)
{
	struct cwl_stream *x = arg;
	enum fb_err rc;

	x->pages++;
	rc = cwl_append_page(page, &x->log, &x->events);
	if (rc != FB_OK)
		x->stop_note = rc == FB_E_TOO_LARGE ? "truncated at FIREBREAK_LOG_MAX_BYTES" : "out of memory";
	else if (more && !lr_time_left(x->c->ctx, CWL_UPLOAD_RESERVE_MS))
		x->stop_note = "stopped early: invocation deadline";
	else if (more && x->pages >= CWL_MAX_PAGES)
		x->stop_note = "stopped early: page limit";
	return !x->stop_note;
}

int cwl_add(struct cwl *c, const char *name, const char *group, const char *stream)
{
	struct cwl_stream *s;
	cJSON *in;

	if (c->n == CWL_MAX_STREAMS)
		return 0;
	s = &c->s[c->n];
	s->c = c;
	buf_copy_str(s->name, sizeof(s->name), name);
	in = cJSON_CreateObject();
	cJSON_AddStringToObject(in, "logGroupName", group);
	cJSON_AddStringToObject(in, "logStreamName", stream);
	cJSON_AddBoolToObject(in, "startFromHead", 1);
	s->step = kit_add(c->rd, &(struct kit_spec){ .step = "fetch-logs", .service = "logs",
		.op = "GetLogEvents", .target = stream, .kind = RESP_READ, .optional = 1,
		.in = in, .absent = "ResourceNotFoundException",
		.paging = &(struct kit_paging){ .next = "nextForwardToken", .token = "nextToken",
			.max_pages = CWL_MAX_PAGES + 1, .on_page = log_page, .arg = s } });
	c->n++;
	return s->step != NULL;
}

void cwl_fetch(struct cwl *c, struct evidence *e)
{
	int idx[CWL_MAX_STREAMS];
	size_t i;

	for (i = 0; i < c->n; i++) {
		buf_init(&c->s[i].log, c->max_bytes / c->n);
		idx[i] = kit_index(c->s[i].step);
	}
	if (c->n && !lr_time_left(c->ctx, CWL_UPLOAD_RESERVE_MS))
		for (i = 0; i < c->n; i++)
			kit_skip(c->s[i].step, "stopped early: invocation deadline");
	kit_run(c->rd);
	for (i = 0; i < c->n; i++) {
		struct kit_step *ks = c->s[i].step;

		if (kit_ok(ks) && !kit_found(ks))
			kit_skip(ks, "log stream missing (never written, or expired)");
		else if (!kit_ok(ks) && kit_err(ks)->code[0])
			kit_detail(ks, "cannot fetch the log");
	}
	kit_round_free(c->rd);
	c->rd = NULL;
	for (i = 0; i < c->n; i++) {
		struct cwl_stream *s = &c->s[i];
		struct buf gz;
		char name[512], detail[200];

		buf_init(&gz, s->log.max + 1024 * 1024);
		if (s->pages && cwl_gzip(s->log.data ? s->log.data : "", s->log.len, &gz) == FB_OK &&
		    cwl_log_key("", s->name, name, sizeof(name))) {
			size_t len;
			char *data = buf_detach(&gz, &len);

			evidence_add(e, name, data, len, s->stop_note);
			snprintf(detail, sizeof(detail), "%zu events, %zu pages, %zu bytes%s%s", s->events,
				 s->pages, s->log.len, s->stop_note ? "; " : "", s->stop_note ? s->stop_note : "");
			resp_step_end(c->k->r, idx[i], RESP_DONE, detail, NULL);
		}
		buf_cleanup(&gz);
		buf_cleanup(&s->log);
	}
}

void cwl_cleanup(struct cwl *c)
{
	size_t i;

	kit_round_free(c->rd);
	for (i = 0; i < c->n; i++)
		buf_cleanup(&c->s[i].log);
	memset(c, 0, sizeof(*c));
}

/* gzip (RFC 1952) of (p, n) into out, capped by out->max. */
enum fb_err cwl_gzip(const void *p, size_t n, struct buf *out)
{
	z_stream zs;
	unsigned char chunk[16384];
	enum fb_err rc = FB_OK;
	int zr;

	memset(&zs, 0, sizeof(zs));
	/* windowBits 15 + 16: zlib writes a gzip header and trailer. */
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return FB_E_NOMEM;
	zs.next_in = (unsigned char *)(uintptr_t)p;
	zs.avail_in = (uInt)n;
	if ((size_t)zs.avail_in != n) {
		rc = FB_E_TOO_LARGE;
		goto out;
	}
	do {
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		zr = deflate(&zs, Z_FINISH);
		if (zr == Z_STREAM_ERROR) {
			rc = FB_E_IO;
			goto out;
		}
		rc = buf_append(out, chunk, sizeof(chunk) - zs.avail_out);
		if (rc != FB_OK)
			goto out;
	} while (zr != Z_STREAM_END);
	/* An empty log still gives a valid gzip member; buf_append of 0
	 * bytes may leave data NULL. */
	if (!out->data)
		rc = buf_append(out, "", 0);
out:
	deflateEnd(&zs);
	return rc;
}

/* One GetLogEvents page's events appended as JSON lines
 * {"timestamp","ingestionTime","message"} (the message kept exactly).
 * FB_E_TOO_LARGE when the cap was reached: what fit is kept. */
enum fb_err cwl_append_page(const cJSON *page, struct buf *log, size_t *nevents)
{
	const cJSON *ev;

	cJSON_ArrayForEach(ev, cJSON_GetObjectItemCaseSensitive(page, "events")) {
		cJSON *line = cJSON_CreateObject();
		const cJSON *ts = cJSON_GetObjectItemCaseSensitive(ev, "timestamp");
		const cJSON *ing = cJSON_GetObjectItemCaseSensitive(ev, "ingestionTime");
		const char *msg = resp_get_str(ev, "message");
		char *txt;
		size_t before = log->len;
		enum fb_err rc;

		if (!line)
			return FB_E_NOMEM;
		if (cJSON_IsNumber(ts))
			cJSON_AddNumberToObject(line, "timestamp", ts->valuedouble);
		if (cJSON_IsNumber(ing))
			cJSON_AddNumberToObject(line, "ingestionTime", ing->valuedouble);
		cJSON_AddStringToObject(line, "message", msg ? msg : "");
		txt = cJSON_PrintUnformatted(line);
		cJSON_Delete(line);
		if (!txt)
			return FB_E_NOMEM;
		rc = buf_puts(log, txt);
		if (rc == FB_OK)
			rc = buf_putc(log, '\n');
		cJSON_free(txt);
		if (rc != FB_OK) {
			/* Keep whole lines only. */
			log->len = before;
			if (log->data)
				log->data[before] = '\0';
			return rc;
		}
		(*nevents)++;
	}
	return FB_OK;
}

int cwl_log_key(const char *prefix, const char *name, char *out, size_t outlen)
{
	char safe[256];
	size_t i;
	int n;

	for (i = 0; i < sizeof(safe) - 1 && name[i]; i++) {
		unsigned char ch = (unsigned char)name[i];

		safe[i] = (isalnum(ch) || ch == '.' || ch == '_' || ch == '-') ? (char)ch : '_';
	}
	safe[i] = '\0';
	if (!i || !strcmp(safe, ".") || !strcmp(safe, ".."))
		return 0;
	n = snprintf(out, outlen, "%slogs/%s.log.gz", prefix, safe);
	return n > 0 && (size_t)n < outlen;
}


/* ---- the awslogs log driver ------------------------------------------------------------ */

int cwl_awslogs_stream(const char *prefix, const char *container, const char *task_id,
		       const char *runtime_id, char *out, size_t outlen)
{
	int n;

	if (prefix && *prefix)
		n = snprintf(out, outlen, "%s/%s/%s", prefix, container, task_id);
	else if (runtime_id && *runtime_id)
		n = snprintf(out, outlen, "%s", runtime_id);
	else
		return 0;
	return n > 0 && (size_t)n < outlen;
}

void cwl_awslogs(const cJSON *lc, const char *container, const char *task_id,
		 const char *runtime_id, const char *default_region, struct cwl_awslogs *out)
{
	const char *drv = lc ? resp_get_str(lc, "logDriver") : NULL, *grp, *reg;
	const cJSON *opt;

	out->state = CWL_LOG_NONE;
	if (!drv)
		return;
	buf_copy_str(out->driver, sizeof(out->driver), drv);
	if (strcmp(drv, "awslogs")) {
		out->state = CWL_LOG_OTHER_DRIVER;
		return;
	}
	opt = cJSON_GetObjectItemCaseSensitive(lc, "options");
	grp = resp_get_str(opt, "awslogs-group");
	reg = resp_get_str(opt, "awslogs-region");
	/* never a cut name: the wrong log would be kept */
	if (!grp || strlen(grp) >= sizeof(out->group) ||
	    !cwl_awslogs_stream(resp_get_str(opt, "awslogs-stream-prefix"), container, task_id, runtime_id,
				out->stream, sizeof(out->stream))) {
		out->state = CWL_LOG_UNKNOWN_STREAM;
		return;
	}
	buf_copy_str(out->group, sizeof(out->group), grp);
	buf_copy_str(out->region, sizeof(out->region), reg ? reg : default_region);
	out->state = CWL_LOG_AWSLOGS;
}

/* ---- w4-kc-tq: a container's log, kept and reported ---------------------------- */

int cwl_add_log(struct cwl *c, const char *name, const struct cwl_awslogs *log, char *key, size_t keylen)
{
	const char *d;

	if (log->state == CWL_LOG_AWSLOGS) {
		cwl_add(c, name, log->group, log->stream);
		return cwl_log_key("", name, key, keylen);
	}
	if (log->state == CWL_LOG_NONE)
		d = "no log configuration: nothing to fetch";
	else if (log->state == CWL_LOG_OTHER_DRIVER)
		d = "log driver is not awslogs: fetch from that destination by hand";
	else
		d = "awslogs stream name unknown (no awslogs-group or prefix)";
	kit_decide(c->k, &(struct kit_spec){ .step = "fetch-logs", .service = "logs", .op = "GetLogEvents",
		.target = name, .kind = RESP_READ, .optional = 1 }, RESP_SKIPPED, "%s", d);
	return 0;
}

cJSON *cwl_awslogs_json(const struct cwl_awslogs *log)
{
	int aw = log->state == CWL_LOG_AWSLOGS;

	return kit_obj("driver", log->driver[0] ? log->driver : "none", "group", aw ? log->group : NULL,
		       "stream", aw ? log->stream : NULL, KIT_END);
}

/* ---- w4-kc-lr: the events of a time window (logs:FilterLogEvents) -------------------- */

enum fb_err cwl_filter(struct kit *k, char *const *groups, size_t n, int64_t start_ms, int64_t end_ms,
		       int max_pages, void (*fn)(void *arg, size_t i, struct kit_step *s), void *arg)
{
	const struct kit_paging pg = { .items = "events", .next = "nextToken", .max_pages = max_pages };
	struct kit_step **st = calloc(n + 1, sizeof(*st));
	struct kit_round *rd = st ? kit_round_new(k) : NULL;
	size_t i;

	if (!rd) {
		free(st);
		return FB_E_NOMEM;
	}
	for (i = 0; i < n; i++) {
		cJSON *in = cJSON_CreateObject();

		cJSON_AddStringToObject(in, "logGroupName", groups[i]);
		cJSON_AddNumberToObject(in, "startTime", (double)start_ms);
		cJSON_AddNumberToObject(in, "endTime", (double)end_ms);
		st[i] = kit_add(rd, &(struct kit_spec){ .quiet = 1, .service = "logs", .op = "FilterLogEvents",
			.kind = RESP_READ, .in = in, .paging = &pg });
	}
	kit_run(rd);
	for (i = 0; i < n; i++)
		fn(arg, i, st[i]);
	kit_round_free(rd);
	free(st);
	return FB_OK;
}

void cwl_delivery_trigger(struct resp *r, const char *partition, const char *region, const char *owner,
			  const char *group, const char *event_id, const int64_t *first_ms)
{
	char arn[1400];

	resp_json_set(r->trigger, "event_id", event_id);
	resp_json_set(r->trigger, "source", "aws.logs");
	resp_json_set(r->trigger, "detail_type", "CloudWatch Logs subscription");
	if (first_ms) {
		char iso[RESP_TIME_LEN];

		resp_format_time_ms(*first_ms, iso);
		resp_json_set(r->trigger, "event_time", iso);
		r->event_time_ms = *first_ms;
	}
	snprintf(arn, sizeof(arn), "arn:%s:logs:%s:%s:log-group:%s", partition, region ? region : "", owner, group);
	resp_set_resource(r, arn, *owner ? owner : NULL, region);
}
