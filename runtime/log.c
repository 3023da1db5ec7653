#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <cjson/cJSON.h>

#include "buf.h"
#include "utc.h"

/* A single log line is capped so a runaway message cannot exhaust memory;
 * CloudWatch Logs itself truncates events at 256 KB. */
#define LOG_LINE_MAX (256u * 1024u)

static struct {
	pthread_mutex_t mu;
	FILE *out;              /* borrowed; NULL means stdout */
	int json;
	enum log_level min;
	char request_id[128];
} g_log = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.out = NULL,
	.json = 0,
	.min = LOG_INFO,
	.request_id = "",
};

static const char *const level_names[] = {
	[LOG_TRACE] = "TRACE", [LOG_DEBUG] = "DEBUG", [LOG_INFO] = "INFO",
	[LOG_WARN] = "WARN", [LOG_ERROR] = "ERROR", [LOG_FATAL] = "FATAL",
};

static const char *level_name(enum log_level lvl)
{
	if ((unsigned)lvl > LOG_FATAL)
		return "INFO";
	return level_names[lvl];
}

/* Lambda's documented values are TRACE..FATAL; WARNING is accepted as an
 * alias because people type it. Unknown values keep the default. */
static int parse_level(const char *s, enum log_level *out)
{
	size_t i;

	for (i = 0; i <= LOG_FATAL; i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 1;
		}
	}
	if (strcasecmp(s, "WARNING") == 0) {
		*out = LOG_WARN;
		return 1;
	}
	return 0;
}

void log_init_from_env(void)
{
	const char *fmt = getenv("AWS_LAMBDA_LOG_FORMAT");
	const char *lvl = getenv("AWS_LAMBDA_LOG_LEVEL");
	enum log_level min = LOG_INFO;

	if (lvl && *lvl)
		parse_level(lvl, &min);
	pthread_mutex_lock(&g_log.mu);
	g_log.json = fmt && strcasecmp(fmt, "JSON") == 0;
	g_log.min = min;
	pthread_mutex_unlock(&g_log.mu);
}

void log_configure(FILE *out, int json, enum log_level min)
{
	pthread_mutex_lock(&g_log.mu);
	g_log.out = out;
	g_log.json = json != 0;
	g_log.min = min;
	pthread_mutex_unlock(&g_log.mu);
}

void log_set_request_id(const char *request_id)
{
	pthread_mutex_lock(&g_log.mu);
	if (request_id)
		snprintf(g_log.request_id, sizeof(g_log.request_id), "%s", request_id);
	else
		g_log.request_id[0] = '\0';
	pthread_mutex_unlock(&g_log.mu);
}

int log_enabled(enum log_level lvl)
{
	int on;

	pthread_mutex_lock(&g_log.mu);
	on = lvl >= g_log.min;
	pthread_mutex_unlock(&g_log.mu);
	return on;
}

/* Now, as ISO 8601 UTC with milliseconds. */
static void format_timestamp(char out[UTC_ISO_LEN])
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	utc_format_ms((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000L, out);
}

/* Writes one complete line; caller holds g_log.mu. */
static void emit_line(const char *line, size_t len)
{
	FILE *out = g_log.out ? g_log.out : stdout;

	fwrite(line, 1, len, out);
	fputc('\n', out);
	fflush(out);
}

/* Text mode keeps one log call on one line: CloudWatch splits events on
 * '\n', so embedded newlines become '\r' (what Lambda's Node runtime does). */
static void flatten_newlines(char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] == '\n')
			s[i] = '\r';
}

/* Caller holds g_log.mu. `msg` may be modified (newlines flattened). */
static void emit_message(enum log_level lvl, char *msg, size_t len)
{
	char ts[UTC_ISO_LEN];
	struct buf line;
	cJSON *obj = NULL;
	char *text = NULL;

	format_timestamp(ts);
	buf_init(&line, LOG_LINE_MAX + 512);
	if (g_log.json) {
		obj = cJSON_CreateObject();
		if (!obj || !cJSON_AddStringToObject(obj, "timestamp", ts) ||
		    !cJSON_AddStringToObject(obj, "level", level_name(lvl)) ||
		    !cJSON_AddStringToObject(obj, "message", msg))
			goto out;
		if (g_log.request_id[0] &&
		    !cJSON_AddStringToObject(obj, "requestId", g_log.request_id))
			goto out;
		text = cJSON_PrintUnformatted(obj);
		if (text)
			emit_line(text, strlen(text));
		goto out;
	}
	flatten_newlines(msg, len);
	if (buf_printf(&line, "%s\t%s\t%s\t", ts, g_log.request_id, level_name(lvl)) == FB_OK &&
	    buf_append(&line, msg, len) == FB_OK)
		emit_line(line.data, line.len);
out:
	free(text);
	cJSON_Delete(obj);
	buf_cleanup(&line);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;
	char small[1024];
	char *msg = small;
	int n;

	if (!log_enabled(lvl))
		return;
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(small)) {
		/* Long messages are truncated at LOG_LINE_MAX rather than dropped. */
		size_t want = (size_t)n < LOG_LINE_MAX ? (size_t)n : LOG_LINE_MAX;

		msg = malloc(want + 1);
		if (!msg) {
			msg = small;
			n = (int)sizeof(small) - 1;
		} else {
			va_start(ap, fmt);
			vsnprintf(msg, want + 1, fmt, ap);
			va_end(ap);
			n = (int)want;
		}
	}
	pthread_mutex_lock(&g_log.mu);
	emit_message(lvl, msg, (size_t)n);
	pthread_mutex_unlock(&g_log.mu);
	if (msg != small)
		free(msg);
}

/* JSON mode: level, requestId and timestamp are added unless the object
 * already carries them (the caller's fields win). Text mode: the object is
 * printed as given, on one line. Unparsable input is logged as a message. */
void log_json(enum log_level lvl, const char *json_object)
{
	cJSON *obj = NULL;
	char *text = NULL;
	char ts[UTC_ISO_LEN];

	if (!json_object || !log_enabled(lvl))
		return;
	obj = cJSON_Parse(json_object);
	if (!cJSON_IsObject(obj)) {
		cJSON_Delete(obj);
		log_msg(lvl, "%s", json_object);
		return;
	}
	pthread_mutex_lock(&g_log.mu);
	if (g_log.json) {
		format_timestamp(ts);
		if (!cJSON_HasObjectItem(obj, "timestamp"))
			cJSON_AddStringToObject(obj, "timestamp", ts);
		if (!cJSON_HasObjectItem(obj, "level"))
			cJSON_AddStringToObject(obj, "level", level_name(lvl));
		if (g_log.request_id[0] && !cJSON_HasObjectItem(obj, "requestId"))
			cJSON_AddStringToObject(obj, "requestId", g_log.request_id);
	}
	/* Re-printing unformatted guarantees one line even for pretty input. */
	text = cJSON_PrintUnformatted(obj);
	if (text)
		emit_line(text, strlen(text));
	pthread_mutex_unlock(&g_log.mu);
	free(text);
	cJSON_Delete(obj);
}

void log_always(const char *json_object)
{
	size_t len;

	if (!json_object)
		return;
	len = strlen(json_object);
	if (memchr(json_object, '\n', len))
		return; /* one line or none: a split line would be two broken events */
	pthread_mutex_lock(&g_log.mu);
	emit_line(json_object, len);
	pthread_mutex_unlock(&g_log.mu);
}
