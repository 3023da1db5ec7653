/*
 * lr: the Lambda Runtime API client (the loop every function runs).
 *
 * Runtime API: GET /2018-06-01/runtime/invocation/next -> handler ->
 * POST .../invocation/{id}/response or .../{id}/error. Init failure ->
 * POST /2018-06-01/runtime/init/error and exit.
 *
 * A function's main.c is:
 *     int main(void) { return lr_main(my_init, my_handler); }
 */
#ifndef FB_LR_H
#define FB_LR_H

#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "fb_err.h"

/* Lambda's response payload limit for synchronous invokes. */
#define LR_MAX_RESPONSE_BYTES (6u * 1024u * 1024u)

/* Per-invocation context. All strings borrowed, valid until the handler
 * returns; absent headers give "" (never NULL). */
struct lr_context {
	const char *request_id;
	int64_t deadline_ms;          /* epoch ms (Lambda-Runtime-Deadline-Ms) */
	const char *function_arn;     /* Lambda-Runtime-Invoked-Function-Arn */
	const char *trace_id;         /* Lambda-Runtime-Trace-Id */
	const char *client_context;   /* Lambda-Runtime-Client-Context */
	const char *cognito_identity; /* Lambda-Runtime-Cognito-Identity */
	const char *tenant_id;        /* Lambda-Runtime-Aws-Tenant-Id */
};

/* Milliseconds left before the deadline at `now_ms` (may be negative). */
int64_t lr_remaining_ms_at(const struct lr_context *ctx, int64_t now_ms);
/* Same, against the wall clock. */
int64_t lr_remaining_ms(const struct lr_context *ctx);
/* 1 when a step that needs need_ms may still start: no deadline (ctx NULL,
 * or deadline_ms 0) or at least need_ms left; else 0 (the caller reports the
 * step "not started" rather than let it eat the time the report needs). */
int lr_time_left(const struct lr_context *ctx, int64_t need_ms);
/* Wall clock, epoch ms. */
int64_t lr_now_ms(void);

/* What a handler produces: a response body, or an error. */
struct lr_result {
	struct buf body;        /* response JSON (is_error == 0) */
	int is_error;
	char error_type[128];   /* ASCII, e.g. "Firebreak.Invalid" */
	char *error_message;    /* owned; may hold a whole report */
};

/* Sets the result to a success carrying a copy of (json, len). */
enum fb_err lr_result_ok(struct lr_result *r, const char *json, size_t len);
/* Sets the result to an error; type and message are copied. */
enum fb_err lr_result_error(struct lr_result *r, const char *type, const char *message);

/* Called once at cold start; *state is handed to every invoke.
 * Return non-FB_OK with `err` filled to report an init error. */
typedef enum fb_err (*lr_init_fn)(void **state, char *err, size_t errlen);
/* Called per invoke. event is NUL-terminated (len excludes the NUL).
 * Fill `out`; the return value is only for unexpected failures (then the
 * runtime reports errorType "Runtime.HandlerError" if out is not set). */
typedef enum fb_err (*lr_handler_fn)(void *state, const char *event, size_t len,
				     const struct lr_context *ctx, struct lr_result *out);

/* ---- pure stages, exposed for unit tests (added by the lr.c author) ---- */

/* Largest event the loop accepts: the 6 MB synchronous payload limit plus
 * slack for framing. A larger body becomes an error result for that invoke. */
#define LR_MAX_EVENT_BYTES (LR_MAX_RESPONSE_BYTES + 64u * 1024u)
/* A handler may build a body past the limit (it is checked before posting,
 * where it turns into an error result), but not without bound. */
#define LR_MAX_RESULT_BYTES (2u * LR_MAX_RESPONSE_BYTES)
/* Cap on one invocation header value (client context is <= 3583 bytes). */
#define LR_MAX_HEADER_VALUE 16384u

/* Error types the runtime itself reports (ASCII, Lambda's naming). */
#define LR_ERR_HANDLER "Runtime.HandlerError"
#define LR_ERR_RESPONSE_TOO_LARGE "Function.ResponseSizeTooLarge"
#define LR_ERR_EVENT_TOO_LARGE "Runtime.EventTooLarge"
#define LR_ERR_INIT "Runtime.InitError"

/* The invocation headers of one GET /next response. Strings are owned
 * (NULL when the header was absent); free with lr_headers_cleanup(). */
struct lr_headers {
	char *request_id;
	int64_t deadline_ms;   /* 0 when absent or unparsable */
	char *function_arn;
	char *trace_id;
	char *client_context;
	char *cognito_identity;
	char *tenant_id;
};

void lr_headers_init(struct lr_headers *h);
void lr_headers_cleanup(struct lr_headers *h);
/* Feeds one raw header line as libcurl hands it over ("Name: value\r\n",
 * not NUL-terminated). Names match case-insensitively, values are trimmed
 * of spaces and tabs; unknown headers are ignored; a status line
 * ("HTTP/...") starts a new response and clears what was seen. Returns
 * FB_E_PARSE for a bad Deadline-Ms, FB_E_TOO_LARGE past
 * LR_MAX_HEADER_VALUE, FB_E_NOMEM. */
enum fb_err lr_headers_parse_line(struct lr_headers *h, const char *line, size_t len);
/* Fills a borrowed view of `h` (valid while h lives); absent gives "". */
void lr_headers_to_context(const struct lr_headers *h, struct lr_context *ctx);

/* Copies `type` into out[outlen] keeping printable ASCII (0x21..0x7e) and
 * turning anything else into '_', so it is safe as an HTTP header value.
 * An empty or NULL type gives LR_ERR_HANDLER. */
void lr_error_type_sanitize(const char *type, char *out, size_t outlen);
/* Appends {"errorMessage","errorType","stackTrace":[]} to `out`; the type
 * is sanitized as above; a message that would push the body past
 * LR_MAX_RESPONSE_BYTES is cut (on a UTF-8 boundary) and marked. */
enum fb_err lr_error_json(const char *type, const char *message, struct buf *out);

/* Result handling: lr_result_init before the handler, lr_result_cleanup
 * after. */
void lr_result_init(struct lr_result *r);
void lr_result_cleanup(struct lr_result *r);

/* What the loop posts for one invocation, decided without I/O. */
struct lr_post {
	int is_error;                /* POST .../error instead of .../response */
	char error_type[128];        /* sanitized; the Function-Error-Type header */
	const char *data;            /* the body: borrowed from the result (valid
	                                while it lives) or pointing into err_body */
	size_t len;
	struct buf err_body;         /* owned; free with lr_post_cleanup() */
};
/* Decides the post from the handler's return code and result: a failed
 * return without an error result gives LR_ERR_HANDLER; FB_E_TOO_LARGE or a
 * body over LR_MAX_RESPONSE_BYTES gives LR_ERR_RESPONSE_TOO_LARGE.
 * Returns FB_E_NOMEM only. */
enum fb_err lr_post_prepare(enum fb_err handler_rc, const struct lr_result *r, struct lr_post *p);
void lr_post_cleanup(struct lr_post *p);

/* The loop. Returns a process exit code; only main() may exit. */
int lr_main(lr_init_fn init, lr_handler_fn handler);

#endif
