/*
 * log: the one logger. Lines go to stdout (line-buffered, set by lr_main).
 *
 * AWS_LAMBDA_LOG_FORMAT=JSON gives one JSON object per line with
 * "timestamp", "level", "message", "requestId"; otherwise text lines
 * "<ts>\t<request id>\t<LEVEL>\t<message>". AWS_LAMBDA_LOG_LEVEL
 * (TRACE, DEBUG, INFO, WARN, ERROR, FATAL) filters; default INFO.
 *
 * Never pass a secret value to a log call: use resp_fingerprint().
 */
#ifndef FB_LOG_H
#define FB_LOG_H

#include <stdio.h>

enum log_level { LOG_TRACE, LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_FATAL };

/* Reads AWS_LAMBDA_LOG_FORMAT / AWS_LAMBDA_LOG_LEVEL. Safe to call again. */
void log_init_from_env(void);
/* Explicit configuration (tests). `out` is borrowed; NULL means stdout. */
void log_configure(FILE *out, int json, enum log_level min);
/* The request id stamped on every line; copied. NULL clears it. */
void log_set_request_id(const char *request_id);
int log_enabled(enum log_level lvl);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Emits `json_object` (a complete JSON object text) as one line, adding
 * nothing in text mode and merging level/requestId in JSON mode. */
void log_json(enum log_level lvl, const char *json_object);
/* issue 24: `json_object` (one line of JSON, borrowed) exactly as given,
 * whatever the level and format: CloudWatch Embedded Metric Format lines,
 * which CloudWatch reads as metrics only when they are the whole log event.
 * A text with a newline is not written. */
void log_always(const char *json_object);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
