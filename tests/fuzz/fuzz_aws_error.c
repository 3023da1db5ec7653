/*
 * fuzz_aws_error: wire_parse_error() over any protocol's error answer (JSON
 * __type/code, query/EC2/S3 XML) with hostile headers. Input layout:
 * "<header lines>\0<body>"; the first byte picks the HTTP status.
 * Checks: every output string is NUL-terminated within its field and
 * printable as a C string.
 */
#include <stdio.h>
#include "fuzz_common.h"
#include "aws.h"
#include "wire.h"
#include "buf.h"
#include "http.h"

static void check_field(const char *f, size_t n)
{
	if (!memchr(f, '\0', n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 400, 403, 404, 409, 429, 500, 502, 503, 200, 0 };
	struct http_response r;
	struct aws_error err;
	const uint8_t *h, *b;
	size_t hl, bl;

	if (size < 1)
		return 0;
	http_response_init(&r, 1u << 20);
	r.status = statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))];
	fuzz_split(data + 1, size - 1, 0, &h, &hl, &b, &bl);
	if (hl && buf_append(&r.headers, h, hl) != FB_OK)
		goto out;
	if (bl && buf_append(&r.body, b, bl) != FB_OK)
		goto out;
	memset(&err, 'x', sizeof(err));
	wire_parse_error(&r, &err);
	check_field(err.code, sizeof(err.code));
	check_field(err.message, sizeof(err.message));
	check_field(err.request_id, sizeof(err.request_id));
	if (err.http_status != r.status)
		abort();
	/* the retry decision must accept whatever code came out */
	(void)aws_retry_classify(err.http_status, err.code);
	(void)aws_is_throttle_code(err.code);
out:
	http_response_cleanup(&r);
	return 0;
}
