/* Unit tests of runtime/lr.c's pure stages: invocation header parsing,
 * error bodies, the response size limit, deadline arithmetic. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "lr.h"

static void feed(struct lr_headers *h, const char *line)
{
	assert_int_equal(lr_headers_parse_line(h, line, strlen(line)), FB_OK);
}

static void test_lr__headers_all_fields(void **st)
{
	struct lr_headers h;
	struct lr_context ctx;

	(void)st;
	lr_headers_init(&h);
	feed(&h, "HTTP/1.1 200 OK\r\n");
	feed(&h, "Content-Type: application/json\r\n");
	feed(&h, "Lambda-Runtime-Aws-Request-Id: 8476a536-e9f4-11e8-9739-2dfe598c3fcd\r\n");
	feed(&h, "Lambda-Runtime-Deadline-Ms: 1542409706888\r\n");
	feed(&h, "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-2:123456789012:function:custom-runtime\r\n");
	feed(&h, "Lambda-Runtime-Trace-Id: Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1\r\n");
	feed(&h, "Lambda-Runtime-Client-Context: {\"custom\":{\"a\":\"b\"}}\r\n");
	feed(&h, "Lambda-Runtime-Cognito-Identity: {\"cognitoIdentityId\":\"x\"}\r\n");
	feed(&h, "Lambda-Runtime-Aws-Tenant-Id: tenant-7\r\n");
	feed(&h, "\r\n");
	lr_headers_to_context(&h, &ctx);
	assert_string_equal(ctx.request_id, "8476a536-e9f4-11e8-9739-2dfe598c3fcd");
	assert_true(ctx.deadline_ms == INT64_C(1542409706888));
	assert_string_equal(ctx.function_arn,
			    "arn:aws:lambda:us-east-2:123456789012:function:custom-runtime");
	assert_string_equal(ctx.trace_id,
			    "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1");
	assert_string_equal(ctx.client_context, "{\"custom\":{\"a\":\"b\"}}");
	assert_string_equal(ctx.cognito_identity, "{\"cognitoIdentityId\":\"x\"}");
	assert_string_equal(ctx.tenant_id, "tenant-7");
	lr_headers_cleanup(&h);
}

static void test_lr__headers_case_and_whitespace(void **st)
{
	struct lr_headers h;

	(void)st;
	lr_headers_init(&h);
	feed(&h, "lambda-runtime-aws-request-id:\t  abc-123 \t\r\n");
	feed(&h, "LAMBDA-RUNTIME-DEADLINE-MS:   42  \r\n");
	feed(&h, "lambda-RUNTIME-trace-ID :Root=1-a\n");
	assert_string_equal(h.request_id, "abc-123");
	assert_true(h.deadline_ms == 42);
	assert_string_equal(h.trace_id, "Root=1-a");
	lr_headers_cleanup(&h);
}

/* libcurl hands lines without a NUL; the parser must respect len. */
static void test_lr__headers_not_nul_terminated(void **st)
{
	struct lr_headers h;
	const char raw[] = "Lambda-Runtime-Aws-Request-Id: id-1\r\nGARBAGE";

	(void)st;
	lr_headers_init(&h);
	assert_int_equal(lr_headers_parse_line(&h, raw, strlen(raw) - strlen("GARBAGE")), FB_OK);
	assert_string_equal(h.request_id, "id-1");
	lr_headers_cleanup(&h);
}

static void test_lr__headers_missing_give_empty(void **st)
{
	struct lr_headers h;
	struct lr_context ctx;

	(void)st;
	lr_headers_init(&h);
	feed(&h, "Lambda-Runtime-Aws-Request-Id: only-this\r\n");
	feed(&h, "X-Other: Lambda-Runtime-Trace-Id: nope\r\n");
	lr_headers_to_context(&h, &ctx);
	assert_string_equal(ctx.request_id, "only-this");
	assert_true(ctx.deadline_ms == 0);
	assert_string_equal(ctx.function_arn, "");
	assert_string_equal(ctx.trace_id, "");
	assert_string_equal(ctx.client_context, "");
	assert_string_equal(ctx.cognito_identity, "");
	assert_string_equal(ctx.tenant_id, "");
	lr_headers_cleanup(&h);
}

/* A prefix of a known name, or a name with a suffix, is another header. */
static void test_lr__headers_names_match_exactly(void **st)
{
	struct lr_headers h;

	(void)st;
	lr_headers_init(&h);
	feed(&h, "Lambda-Runtime-Aws-Request: a\r\n");
	feed(&h, "Lambda-Runtime-Aws-Request-Id-X: b\r\n");
	assert_null(h.request_id);
	lr_headers_cleanup(&h);
}

static void test_lr__headers_status_line_resets(void **st)
{
	struct lr_headers h;

	(void)st;
	lr_headers_init(&h);
	feed(&h, "Lambda-Runtime-Aws-Request-Id: first\r\n");
	feed(&h, "Lambda-Runtime-Trace-Id: t1\r\n");
	feed(&h, "HTTP/1.1 200 OK\r\n");
	feed(&h, "Lambda-Runtime-Aws-Request-Id: second\r\n");
	assert_string_equal(h.request_id, "second");
	assert_null(h.trace_id);
	lr_headers_cleanup(&h);
}

static void test_lr__headers_bad_deadline(void **st)
{
	static const char *const bad[] = {
		"Lambda-Runtime-Deadline-Ms: -5\r\n",
		"Lambda-Runtime-Deadline-Ms: 12abc\r\n",
		"Lambda-Runtime-Deadline-Ms: \r\n",
		"Lambda-Runtime-Deadline-Ms: 99999999999999999999\r\n",
		"Lambda-Runtime-Deadline-Ms: 1.5\r\n",
	};
	struct lr_headers h;
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		lr_headers_init(&h);
		assert_int_equal(lr_headers_parse_line(&h, bad[i], strlen(bad[i])), FB_E_PARSE);
		assert_true(h.deadline_ms == 0);
		lr_headers_cleanup(&h);
	}
}

static void test_lr__headers_value_cap(void **st)
{
	struct lr_headers h;
	size_t n = strlen("Lambda-Runtime-Client-Context: ") + LR_MAX_HEADER_VALUE + 1;
	char *line = malloc(n + 1);

	(void)st;
	assert_non_null(line);
	memcpy(line, "Lambda-Runtime-Client-Context: ", strlen("Lambda-Runtime-Client-Context: "));
	memset(line + strlen("Lambda-Runtime-Client-Context: "), 'x', LR_MAX_HEADER_VALUE + 1);
	line[n] = '\0';
	lr_headers_init(&h);
	assert_int_equal(lr_headers_parse_line(&h, line, n), FB_E_TOO_LARGE);
	assert_null(h.client_context);
	lr_headers_cleanup(&h);
	free(line);
}

/* Checks `json` is {"errorMessage":msg,"errorType":type,"stackTrace":[]}. */
static void assert_error_body(const char *json, size_t len, const char *type, const char *msg)
{
	cJSON *o = cJSON_ParseWithLength(json, len);

	assert_non_null(o);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "errorType")),
			    type);
	if (msg)
		assert_string_equal(
			cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "errorMessage")), msg);
	assert_true(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(o, "stackTrace")));
	assert_int_equal(cJSON_GetArraySize(o), 3);
	cJSON_Delete(o);
}

static void test_lr__error_json_escapes(void **st)
{
	static const char msg[] = "quote \" backslash \\ newline \n tab \t ctl \x01 utf8 \xc3\xa9";
	struct buf b;

	(void)st;
	buf_init(&b, 1 << 20);
	assert_int_equal(lr_error_json("Firebreak.Invalid", msg, &b), FB_OK);
	assert_null(memchr(b.data, '\n', b.len));
	assert_error_body(b.data, b.len, "Firebreak.Invalid", msg);
	buf_cleanup(&b);
}

static void test_lr__error_type_sanitized(void **st)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "Plain.Type", "Plain.Type" },
		{ "has space", "has_space" },
		{ "new\r\nline", "new__line" },
		{ "caf\xc3\xa9", "caf__" },
		{ "tab\there\x7f", "tab_here_" },
		{ "", LR_ERR_HANDLER },
		{ NULL, LR_ERR_HANDLER },
	};
	char out[128];
	struct buf b;
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		lr_error_type_sanitize(cases[i].in, out, sizeof(out));
		assert_string_equal(out, cases[i].want);
		buf_init(&b, 4096);
		assert_int_equal(lr_error_json(cases[i].in, "m", &b), FB_OK);
		assert_error_body(b.data, b.len, cases[i].want, "m");
		buf_cleanup(&b);
	}
}

static void test_lr__error_type_truncated_to_buffer(void **st)
{
	char out[8];

	(void)st;
	lr_error_type_sanitize("0123456789", out, sizeof(out));
	assert_string_equal(out, "0123456");
}

/* A message bigger than the payload limit still yields a postable body. */
static void test_lr__error_json_huge_message_is_cut(void **st)
{
	size_t n = LR_MAX_RESPONSE_BYTES + 10;
	char *msg = malloc(n + 1);
	struct buf b;
	cJSON *o;
	const char *got;

	(void)st;
	assert_non_null(msg);
	memset(msg, 'r', n);
	/* an "é" straddling the cut point must not be split */
	for (size_t i = 0; i + 1 < n; i += 2) {
		msg[i] = '\xc3';
		msg[i + 1] = '\xa9';
	}
	msg[n] = '\0';
	buf_init(&b, 2 * LR_MAX_RESPONSE_BYTES);
	assert_int_equal(lr_error_json("Big", msg, &b), FB_OK);
	assert_true(b.len <= LR_MAX_RESPONSE_BYTES);
	o = cJSON_ParseWithLength(b.data, b.len);
	assert_non_null(o);
	got = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "errorMessage"));
	assert_non_null(got);
	assert_non_null(strstr(got, "[truncated]"));
	assert_true(strncmp(got, "\xc3\xa9\xc3\xa9", 4) == 0);
	/* the kept prefix ends on a whole character */
	assert_true((strstr(got, " ...[truncated]") - got) % 2 == 0);
	cJSON_Delete(o);
	buf_cleanup(&b);
	free(msg);
}

static void test_lr__post_success_passes_body(void **st)
{
	struct lr_result r;
	struct lr_post p;

	(void)st;
	lr_result_init(&r);
	assert_int_equal(lr_result_ok(&r, "{\"ok\":true}", 11), FB_OK);
	assert_int_equal(lr_post_prepare(FB_OK, &r, &p), FB_OK);
	assert_false(p.is_error);
	assert_int_equal(p.len, 11);
	assert_memory_equal(p.data, "{\"ok\":true}", 11);
	lr_post_cleanup(&p);
	lr_result_cleanup(&r);
}

/* Table: body size around the limit -> response or ResponseSizeTooLarge. */
static void test_lr__post_size_limit(void **st)
{
	static const struct {
		size_t len;
		int is_error;
	} cases[] = {
		{ 0, 0 },
		{ LR_MAX_RESPONSE_BYTES - 1, 0 },
		{ LR_MAX_RESPONSE_BYTES, 0 },
		{ LR_MAX_RESPONSE_BYTES + 1, 1 },
		{ LR_MAX_RESPONSE_BYTES * 2, 1 },
	};
	char *big = malloc(LR_MAX_RESPONSE_BYTES * 2);
	struct lr_result r;
	struct lr_post p;
	size_t i;

	(void)st;
	assert_non_null(big);
	memset(big, 'x', LR_MAX_RESPONSE_BYTES * 2);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		lr_result_init(&r);
		assert_int_equal(lr_result_ok(&r, big, cases[i].len), FB_OK);
		assert_int_equal(lr_post_prepare(FB_OK, &r, &p), FB_OK);
		assert_int_equal(p.is_error, cases[i].is_error);
		if (cases[i].is_error) {
			assert_string_equal(p.error_type, LR_ERR_RESPONSE_TOO_LARGE);
			assert_error_body(p.data, p.len, LR_ERR_RESPONSE_TOO_LARGE, NULL);
		} else {
			assert_int_equal(p.len, cases[i].len);
		}
		lr_post_cleanup(&p);
		lr_result_cleanup(&r);
	}
	free(big);
}

static void test_lr__post_handler_too_large_rc(void **st)
{
	struct lr_result r;
	struct lr_post p;

	(void)st;
	lr_result_init(&r);
	assert_int_equal(lr_post_prepare(FB_E_TOO_LARGE, &r, &p), FB_OK);
	assert_true(p.is_error);
	assert_string_equal(p.error_type, LR_ERR_RESPONSE_TOO_LARGE);
	lr_post_cleanup(&p);
	lr_result_cleanup(&r);
}

static void test_lr__post_handler_failure_without_result(void **st)
{
	struct lr_result r;
	struct lr_post p;

	(void)st;
	lr_result_init(&r);
	assert_int_equal(lr_post_prepare(FB_E_IO, &r, &p), FB_OK);
	assert_true(p.is_error);
	assert_string_equal(p.error_type, LR_ERR_HANDLER);
	assert_error_body(p.data, p.len, LR_ERR_HANDLER, "handler failed: i/o error");
	lr_post_cleanup(&p);
	lr_result_cleanup(&r);
}

/* An explicit error result wins over the return code, and its type is
 * made header-safe. */
static void test_lr__post_error_result(void **st)
{
	struct lr_result r;
	struct lr_post p;

	(void)st;
	lr_result_init(&r);
	assert_int_equal(lr_result_error(&r, "Bad Type\xc3\xa9", "went \"wrong\""), FB_OK);
	assert_int_equal(lr_post_prepare(FB_E_IO, &r, &p), FB_OK);
	assert_true(p.is_error);
	assert_string_equal(p.error_type, "Bad_Type__");
	assert_error_body(p.data, p.len, "Bad_Type__", "went \"wrong\"");
	lr_post_cleanup(&p);
	lr_result_cleanup(&r);
}

static void test_lr__result_error_then_ok(void **st)
{
	struct lr_result r;

	(void)st;
	lr_result_init(&r);
	assert_int_equal(lr_result_error(&r, "T", "m1"), FB_OK);
	assert_int_equal(lr_result_error(&r, "T2", NULL), FB_OK);
	assert_string_equal(r.error_type, "T2");
	assert_string_equal(r.error_message, "");
	assert_int_equal(lr_result_ok(&r, "1", 1), FB_OK);
	assert_false(r.is_error);
	assert_string_equal(r.body.data, "1");
	lr_result_cleanup(&r);
}

static void test_lr__remaining_ms_at(void **st)
{
	static const struct {
		int64_t deadline, now, want;
	} cases[] = {
		{ INT64_C(1542409706888), INT64_C(1542409703888), 3000 },
		{ INT64_C(1542409706888), INT64_C(1542409706888), 0 },
		{ INT64_C(1542409706888), INT64_C(1542409707000), -112 },
		{ 0, INT64_C(1700000000000), -INT64_C(1700000000000) },
		{ INT64_MAX, -1, INT64_MAX },
		{ INT64_MIN, 1, INT64_MIN },
	};
	struct lr_context ctx;
	size_t i;

	(void)st;
	memset(&ctx, 0, sizeof(ctx));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ctx.deadline_ms = cases[i].deadline;
		assert_true(lr_remaining_ms_at(&ctx, cases[i].now) == cases[i].want);
	}
}

/* lr_remaining_ms agrees with lr_now_ms (no fixed clock values). */
static void test_lr__remaining_ms_wall_clock(void **st)
{
	struct lr_context ctx;
	int64_t before, left, after;

	(void)st;
	memset(&ctx, 0, sizeof(ctx));
	before = lr_now_ms();
	ctx.deadline_ms = before + 60000;
	left = lr_remaining_ms(&ctx);
	after = lr_now_ms();
	assert_true(left <= 60000);
	assert_true(left >= 60000 - (after - before));
	assert_true(before > INT64_C(1600000000000)); /* epoch ms, not seconds */
}

/* lr_time_left: a step may start when the invocation has no deadline or
 * enough time left, and not when the deadline is nearly spent
 * (task-quarantine then reports the step failed "not started"; evidence
 * and cwl stop before the next upload). */
static void test_lr__time_left_unless_the_deadline_is_near(void **st)
{
	struct lr_context ctx = { 0 };

	(void)st;
	assert_true(lr_time_left(NULL, 300));
	assert_true(lr_time_left(&ctx, 300));           /* no deadline */
	ctx.deadline_ms = lr_now_ms() + 60000;
	assert_true(lr_time_left(&ctx, 300));
	assert_false(lr_time_left(&ctx, 120000));
	ctx.deadline_ms = lr_now_ms() + 100;
	assert_false(lr_time_left(&ctx, 300));
	ctx.deadline_ms = lr_now_ms() - 1000;            /* already past */
	assert_false(lr_time_left(&ctx, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lr__headers_all_fields),
		cmocka_unit_test(test_lr__headers_case_and_whitespace),
		cmocka_unit_test(test_lr__headers_not_nul_terminated),
		cmocka_unit_test(test_lr__headers_missing_give_empty),
		cmocka_unit_test(test_lr__headers_names_match_exactly),
		cmocka_unit_test(test_lr__headers_status_line_resets),
		cmocka_unit_test(test_lr__headers_bad_deadline),
		cmocka_unit_test(test_lr__headers_value_cap),
		cmocka_unit_test(test_lr__error_json_escapes),
		cmocka_unit_test(test_lr__error_type_sanitized),
		cmocka_unit_test(test_lr__error_type_truncated_to_buffer),
		cmocka_unit_test(test_lr__error_json_huge_message_is_cut),
		cmocka_unit_test(test_lr__post_success_passes_body),
		cmocka_unit_test(test_lr__post_size_limit),
		cmocka_unit_test(test_lr__post_handler_too_large_rc),
		cmocka_unit_test(test_lr__post_handler_failure_without_result),
		cmocka_unit_test(test_lr__post_error_result),
		cmocka_unit_test(test_lr__result_error_then_ok),
		cmocka_unit_test(test_lr__remaining_ms_at),
		cmocka_unit_test(test_lr__remaining_ms_wall_clock),
		cmocka_unit_test(test_lr__time_left_unless_the_deadline_is_near),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
