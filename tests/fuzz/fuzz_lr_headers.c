/*
 * fuzz_lr_headers: the Runtime API side of runtime/lr.c that reads bytes the
 * runtime service sends: header lines of GET /invocation/next (request id,
 * Deadline-Ms, ARN, trace id, client context...), then what the loop would
 * post back: the error JSON and the sanitized error type.
 * Input: header lines separated by '\n' (each fed with its "\r\n" or "\n"
 * as libcurl would), then after a NUL byte an error type, then after
 * another NUL an error message.
 * Checks: the context view never has NULL strings, the sanitized type is
 * header-safe ASCII, the error body is valid JSON.
 */
#include <stdio.h>
#include <cjson/cJSON.h>
#include "fuzz_common.h"
#include "lr.h"

static void check_str(const char *s)
{
	if (!s)
		abort();
	(void)strlen(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lr_headers h;
	struct lr_context ctx;
	const uint8_t *hdrs, *rest, *type, *msg;
	size_t hl, rl, tl, ml, i, start;
	char *type_s, *msg_s, clean[128];
	struct buf out;
	struct lr_result res;
	struct lr_post post;

	fuzz_split(data, size, 0, &hdrs, &hl, &rest, &rl);
	if (hl == 0) { /* no NUL: all of it is header lines */
		hdrs = data;
		hl = size;
		rest = NULL;
		rl = 0;
	}
	lr_headers_init(&h);
	for (start = 0, i = 0; i < hl; i++) {
		if (hdrs[i] == '\n' || i + 1 == hl) {
			size_t n = i + 1 - start;
			char *line = malloc(n ? n : 1); /* exact size: ASan sees overreads */

			if (!line)
				abort();
			memcpy(line, hdrs + start, n);
			(void)lr_headers_parse_line(&h, line, n);
			free(line);
			start = i + 1;
		}
	}
	lr_headers_to_context(&h, &ctx);
	check_str(ctx.request_id);
	check_str(ctx.function_arn);
	check_str(ctx.trace_id);
	check_str(ctx.client_context);
	check_str(ctx.cognito_identity);
	check_str(ctx.tenant_id);
	(void)lr_remaining_ms_at(&ctx, 0);
	(void)lr_remaining_ms_at(&ctx, INT64_MAX);
	(void)lr_remaining_ms_at(&ctx, INT64_MIN);
	lr_headers_cleanup(&h);

	if (!rest)
		return 0;
	fuzz_split(rest, rl, 0, &type, &tl, &msg, &ml);
	type_s = fuzz_strndup(type, tl);
	msg_s = fuzz_strndup(msg, ml);

	lr_error_type_sanitize(type_s, clean, sizeof(clean));
	for (i = 0; clean[i]; i++)
		if ((unsigned char)clean[i] < 0x21 || (unsigned char)clean[i] > 0x7e)
			abort();
	if (i == 0)
		abort(); /* empty types become Runtime.HandlerError */

	buf_init(&out, LR_MAX_RESPONSE_BYTES + 4096);
	if (lr_error_json(type_s, msg_s, &out) == FB_OK) {
		cJSON *j = cJSON_ParseWithLength(out.data, out.len);

		if (!j)
			abort(); /* the runtime would post invalid JSON */
		cJSON_Delete(j);
	}
	buf_cleanup(&out);

	/* the post decision for an error result carrying these */
	lr_result_init(&res);
	if (lr_result_error(&res, type_s, msg_s) == FB_OK &&
	    lr_post_prepare(FB_OK, &res, &post) == FB_OK) {
		if (!post.is_error)
			abort();
		lr_post_cleanup(&post);
	}
	lr_result_cleanup(&res);
	free(type_s);
	free(msg_s);
	return 0;
}
