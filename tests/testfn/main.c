/*
 * testfn: a Lambda function driven by its event, to exercise the runtime
 * (runtime/lr.c) through the emulator and the real AWS CLI.
 *
 *   {"action":"echo"}                              returns the event
 *   {"action":"error","type":T,"message":M}        returns a handler error
 *   {"action":"crash"}                             abort() mid-invoke
 *   {"action":"exit","code":N}                     exit(N) mid-invoke
 *   {"action":"sleep","ms":N}                      sleeps, returns {"slept_ms":N}
 *   {"action":"big","bytes":N}                     returns a JSON string of N bytes
 *   {"action":"context"}                           returns the invocation context
 *   {"action":"env","names":["A","B"]}             returns those variables
 *   {"action":"log","level":"DEBUG","message":M}   logs M, returns {"logged":true}
 *   {"action":"fail","code":"too_large"|"io"}      handler returns that fb_err, no result
 *
 * FIREBREAK_TESTFN_INIT_FAIL=1 makes init fail (POST /runtime/init/error).
 * Every invoke logs one INFO line naming the action, so log tails carry the
 * request id. Not a responder: never reads or prints credentials.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>

#include "buf.h"
#include "log.h"
#include "lr.h"

struct testfn_state {
	int64_t init_ms;
	unsigned invokes;
};

static enum fb_err testfn_init(void **state, char *err, size_t errlen)
{
	struct testfn_state *st;
	const char *fail = getenv("FIREBREAK_TESTFN_INIT_FAIL");

	log_info("testfn init");
	if (fail && strcmp(fail, "1") == 0) {
		snprintf(err, errlen, "init failed on purpose (FIREBREAK_TESTFN_INIT_FAIL=1)");
		return FB_E_CONFIG;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		snprintf(err, errlen, "out of memory");
		return FB_E_NOMEM;
	}
	st->init_ms = lr_now_ms();
	*state = st;
	return FB_OK;
}

/* Hands a cJSON tree to the result as its body. */
static enum fb_err reply_json(struct lr_result *out, const cJSON *obj)
{
	char *text = cJSON_PrintUnformatted(obj);
	enum fb_err rc;

	if (!text)
		return FB_E_NOMEM;
	rc = lr_result_ok(out, text, strlen(text));
	free(text);
	return rc;
}

static enum fb_err do_context(struct testfn_state *st, const struct lr_context *ctx,
			      struct lr_result *out)
{
	cJSON *o = cJSON_CreateObject();
	const char *trace_env = getenv("_X_AMZN_TRACE_ID");
	enum fb_err rc = FB_E_NOMEM;

	if (!o)
		return FB_E_NOMEM;
	if (!cJSON_AddStringToObject(o, "request_id", ctx->request_id) ||
	    !cJSON_AddStringToObject(o, "function_arn", ctx->function_arn) ||
	    !cJSON_AddNumberToObject(o, "deadline_ms", (double)ctx->deadline_ms) ||
	    !cJSON_AddNumberToObject(o, "remaining_ms", (double)lr_remaining_ms(ctx)) ||
	    !cJSON_AddStringToObject(o, "trace_id", ctx->trace_id) ||
	    !(trace_env ? cJSON_AddStringToObject(o, "trace_env", trace_env)
			: cJSON_AddNullToObject(o, "trace_env")) ||
	    !cJSON_AddStringToObject(o, "client_context", ctx->client_context) ||
	    !cJSON_AddStringToObject(o, "cognito_identity", ctx->cognito_identity) ||
	    !cJSON_AddStringToObject(o, "tenant_id", ctx->tenant_id) ||
	    !cJSON_AddNumberToObject(o, "invokes", st->invokes))
		goto out;
	rc = reply_json(out, o);
out:
	cJSON_Delete(o);
	return rc;
}

static enum fb_err do_env(const cJSON *ev, struct lr_result *out)
{
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(ev, "names"), *n;
	cJSON *o = cJSON_CreateObject();
	enum fb_err rc = FB_E_NOMEM;

	if (!o)
		return FB_E_NOMEM;
	cJSON_ArrayForEach(n, names) {
		const char *v;

		if (!cJSON_IsString(n))
			continue;
		v = getenv(n->valuestring);
		if (!(v ? cJSON_AddStringToObject(o, n->valuestring, v)
			: cJSON_AddNullToObject(o, n->valuestring)))
			goto out;
	}
	rc = reply_json(out, o);
out:
	cJSON_Delete(o);
	return rc;
}

/* A JSON string of exactly `bytes` bytes ("aaa...a" with its quotes). */
static enum fb_err do_big(const cJSON *ev, struct lr_result *out)
{
	double want = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ev, "bytes"));
	size_t n, i;
	enum fb_err rc;

	if (!(want >= 2 && want <= (double)LR_MAX_RESULT_BYTES))
		return lr_result_error(out, "TestFn.InvalidEvent", "'bytes' must be 2..12582912");
	n = (size_t)want;
	buf_reset(&out->body);
	rc = buf_putc(&out->body, '"');
	for (i = 0; rc == FB_OK && i < n - 2; i++)
		rc = buf_putc(&out->body, 'a');
	if (rc == FB_OK)
		rc = buf_putc(&out->body, '"');
	return rc;
}

static enum fb_err do_sleep(const cJSON *ev, struct lr_result *out)
{
	double ms = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ev, "ms"));
	struct timespec ts;
	char body[64];

	if (!(ms >= 0 && ms <= 900000))
		return lr_result_error(out, "TestFn.InvalidEvent", "'ms' must be 0..900000");
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)((int64_t)ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0)
		;
	snprintf(body, sizeof(body), "{\"slept_ms\":%lld}", (long long)ms);
	return lr_result_ok(out, body, strlen(body));
}

static enum log_level level_from(const char *s)
{
	static const char *const names[] = { "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL" };
	size_t i;

	for (i = 0; s && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return (enum log_level)i;
	return LOG_INFO;
}

static enum fb_err testfn_handler(void *state, const char *event, size_t len,
				  const struct lr_context *ctx, struct lr_result *out)
{
	struct testfn_state *st = state;
	cJSON *ev = cJSON_ParseWithLength(event, len);
	const char *action = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "action"));
	enum fb_err rc = FB_OK;

	st->invokes++;
	if (!cJSON_IsObject(ev) || !action) {
		rc = lr_result_error(out, "TestFn.InvalidEvent", "event must be an object with 'action'");
		goto out;
	}
	log_info("testfn action '%s'", action);
	if (strcmp(action, "echo") == 0) {
		rc = lr_result_ok(out, event, len);
	} else if (strcmp(action, "error") == 0) {
		const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "type"));
		const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "message"));

		rc = lr_result_error(out, t ? t : "TestFn.Error", m ? m : "requested error");
	} else if (strcmp(action, "crash") == 0) {
		log_error("testfn crashing on purpose");
		abort();
	} else if (strcmp(action, "exit") == 0) {
		int code = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ev, "code"));

		log_error("testfn exiting on purpose with %d", code);
		exit(code);
	} else if (strcmp(action, "sleep") == 0) {
		rc = do_sleep(ev, out);
	} else if (strcmp(action, "big") == 0) {
		rc = do_big(ev, out);
	} else if (strcmp(action, "context") == 0) {
		rc = do_context(st, ctx, out);
	} else if (strcmp(action, "env") == 0) {
		rc = do_env(ev, out);
	} else if (strcmp(action, "log") == 0) {
		const char *lv = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "level"));
		const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "message"));

		log_msg(level_from(lv), "%s", m ? m : "");
		rc = lr_result_ok(out, "{\"logged\":true}", strlen("{\"logged\":true}"));
	} else if (strcmp(action, "fail") == 0) {
		const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "code"));

		rc = code && strcmp(code, "too_large") == 0 ? FB_E_TOO_LARGE : FB_E_IO;
	} else {
		rc = lr_result_error(out, "TestFn.UnknownAction", "unknown 'action'");
	}
out:
	cJSON_Delete(ev);
	return rc;
}

int main(void)
{
	return lr_main(testfn_init, testfn_handler);
}
