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

/* The loop. Returns a process exit code; only main() may exit. */
int lr_main(lr_init_fn init, lr_handler_fn handler);

#endif
