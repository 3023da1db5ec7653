/*
 * test_wire: the protocols' bytes (runtime/wire.h) without a client: the
 * tables, the request a call becomes, the headers each protocol adds, and
 * the answers (errors of every protocol, S3's body-less HEAD errors, S3's
 * confirmation). test_aws runs the same code through the client and the
 * fake transport; tests/integration/21, 22, 24, 26 compare these bytes
 * with botocore's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http.h"
#include "wire.h"

/* ---- the request --------------------------------------------------------------- */

/* resolve + build, the way aws.c does (base path "" as for a default endpoint). */
static enum fb_err build(struct wire_req *w, struct aws_call *call, int path_style, char **path,
			 const char **label, char *err, size_t errlen)
{
	struct buf p;
	enum fb_err rc;

	memset(w, 0, sizeof(*w));
	buf_init(&p, 8192);
	err[0] = '\0';
	rc = wire_resolve(w, call, label, err, errlen);
	if (!rc)
		rc = wire_build(w, call, path_style, &p, err, errlen);
	*path = rc ? NULL : buf_detach(&p, NULL);
	buf_cleanup(&p);
	return rc;
}

static const char *hdr(const struct http_header *h, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(h[i].name, name) == 0)
			return h[i].value;
	return NULL;
}

static void test_wire__protocols(void **state)
{
	(void)state;
	assert_string_equal(wire_protocol("kms"), "json");
	assert_string_equal(wire_protocol("ec2"), "ec2");
	assert_string_equal(wire_protocol("iam"), "query");
	assert_string_equal(wire_protocol("s3control"), "rest-xml");
	assert_string_equal(wire_protocol("codeartifact"), "rest-json");
	assert_null(wire_protocol("lambda"));
	assert_null(wire_protocol(NULL));
}

static void test_wire__json_request(void **state)
{
	cJSON *in = cJSON_Parse("{\"KeyId\":\"k\"}");
	struct aws_call call = { .service = "kms", .op = "DescribeKey", .in = in };
	struct http_header h[8];
	struct wire_req w;
	const char *label;
	char err[200], *path;
	size_t n;

	(void)state;
	assert_int_equal(build(&w, &call, 0, &path, &label, err, sizeof(err)), FB_OK);
	assert_null(label);
	assert_string_equal(path, "/");
	assert_string_equal(w.method, "POST");
	assert_null(w.query);
	assert_int_equal(w.payload_len, strlen("{\"KeyId\":\"k\"}"));
	assert_memory_equal(w.payload, "{\"KeyId\":\"k\"}", w.payload_len);
	n = wire_headers(&w, h, 8);
	assert_int_equal(n, 2);
	assert_string_equal(hdr(h, n, "Content-Type"), "application/x-amz-json-1.1");
	assert_string_equal(hdr(h, n, "X-Amz-Target"), "TrentService.DescribeKey");
	/* max bounds what is written */
	assert_int_equal(wire_headers(&w, h, 1), 1);
	free(path);
	wire_cleanup(&w);
	cJSON_Delete(in);
}

static void test_wire__query_request_flattened(void **state)
{
	cJSON *in = cJSON_Parse("{\"GroupId\":\"sg-1\",\"IpPermissions\":[{\"IpProtocol\":\"-1\","
				"\"IpRanges\":[{\"CidrIp\":\"0.0.0.0/0\"}]}],\"DryRun\":false}");
	struct aws_call call = { .service = "ec2", .op = "RevokeSecurityGroupIngress", .in = in };
	struct http_header h[8];
	struct wire_req w;
	const char *label;
	char err[200], *path;

	(void)state;
	assert_int_equal(build(&w, &call, 0, &path, &label, err, sizeof(err)), FB_OK);
	assert_string_equal(w.body.data, "Action=RevokeSecurityGroupIngress&Version=2016-11-15&GroupId=sg-1"
			    "&IpPermissions.1.IpProtocol=-1&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0%2F0"
			    "&DryRun=false");
	assert_int_equal(wire_headers(&w, h, 8), 1);
	assert_string_equal(h[0].value, "application/x-www-form-urlencoded; charset=utf-8");
	free(path);
	wire_cleanup(&w);
	cJSON_Delete(in);

	/* query protocol (IAM): lists are member.N, an empty list is "P=" */
	in = cJSON_Parse("{\"Names\":[\"a b\",\"c\"],\"Empty\":[]}");
	call = (struct aws_call){ .service = "iam", .op = "X", .in = in };
	assert_int_equal(build(&w, &call, 0, &path, &label, err, sizeof(err)), FB_OK);
	assert_string_equal(w.body.data, "Action=X&Version=2010-05-08&Names.member.1=a+b&Names.member.2=c&Empty=");
	free(path);
	wire_cleanup(&w);
	cJSON_Delete(in);
}

static void test_wire__rest_requests(void **state)
{
	cJSON *in = cJSON_Parse("{\"domain\":\"d\",\"domainOwner\":\"111111111111\",\"policyDocument\":\"{}\"}");
	struct aws_call call = { .service = "codeartifact", .op = "PutDomainPermissionsPolicy", .in = in };
	struct http_header h[8];
	struct wire_req w;
	const char *label;
	char err[200], *path;
	size_t n;

	(void)state;
	/* PutDomainPermissionsPolicy has no query member: everything is the body */
	assert_int_equal(build(&w, &call, 0, &path, &label, err, sizeof(err)), FB_OK);
	assert_string_equal(w.method, "PUT");
	assert_string_equal(path, "/v1/domain/permissions/policy");
	assert_null(w.query);
	assert_string_equal(w.body.data, "{\"domain\":\"d\",\"domainOwner\":\"111111111111\",\"policyDocument\":\"{}\"}");
	n = wire_headers(&w, h, 8);
	assert_int_equal(n, 1);
	assert_string_equal(hdr(h, n, "Content-Type"), "application/json");
	free(path);
	wire_cleanup(&w);
	cJSON_Delete(in);

	/* GetDomainPermissionsPolicy: query members only, no body, no Content-Type */
	in = cJSON_Parse("{\"domain\":\"my domain\",\"domainOwner\":\"111111111111\"}");
	call = (struct aws_call){ .service = "codeartifact", .op = "GetDomainPermissionsPolicy", .in = in };
	assert_int_equal(build(&w, &call, 0, &path, &label, err, sizeof(err)), FB_OK);
	assert_string_equal(w.method, "GET");
	assert_string_equal(w.query, "domain=my%20domain&domain-owner=111111111111");
	assert_int_equal(w.payload_len, 0);
	assert_int_equal(wire_headers(&w, h, 8), 0);
	free(path);
	wire_cleanup(&w);
	cJSON_Delete(in);

	/* s3control: the account is the label (host) and a header */
	in = cJSON_Parse("{\"AccountId\":\"222222222222\"}");
	call = (struct aws_call){ .service = "s3control", .op = "GetPublicAccessBlock", .in = in };
	assert_int_equal(build(&w, &call, 0, &path, &label, err, sizeof(err)), FB_OK);
	assert_string_equal(label, "222222222222");
	assert_string_equal(path, "/v20180820/configuration/publicAccessBlock");
	n = wire_headers(&w, h, 8);
	assert_string_equal(hdr(h, n, "x-amz-account-id"), "222222222222");
	free(path);
	wire_cleanup(&w);
	cJSON_Delete(in);

	/* s3 object, path style: /bucket/key, the caller's bytes */
	call = (struct aws_call){ .service = "s3", .op = "PutObject", .bucket = "b", .key = "a b/c",
				  .body = "xyz", .body_len = 3 };
	assert_int_equal(build(&w, &call, 1, &path, &label, err, sizeof(err)), FB_OK);
	assert_string_equal(label, "b");
	assert_string_equal(path, "/b/a%20b/c");
	assert_string_equal(w.method, "PUT");
	assert_int_equal(w.payload_len, 3);
	free(path);
	wire_cleanup(&w);
}

static void test_wire__bad_requests(void **state)
{
	cJSON *arr = cJSON_Parse("[1]"), *obj = cJSON_Parse("{\"X\":{\"y\":1}}");
	cJSON *deep = cJSON_CreateObject(), *at = deep;
	int d;

	for (d = 0; d < 20; d++)
		at = cJSON_AddObjectToObject(at, "A");
	struct {
		struct aws_call call;
		const char *msg;
	} rows[] = {
		{ { .service = "kms" }, "call has no service or operation" },
		{ { .service = "lambda", .op = "Invoke" }, "unknown service 'lambda'" },
		{ { .service = "kms", .op = "X", .in = arr }, "call input must be a json object" },
		{ { .service = "s3control", .op = "GetPublicAccessBlock" },
		  "s3control GetPublicAccessBlock needs AccountId (12 digits)" },
		{ { .service = "s3control", .op = "Nope" }, "unsupported s3control operation 'Nope'" },
		{ { .service = "s3", .op = "GetBucketAcl" }, "s3 GetBucketAcl needs a bucket" },
		{ { .service = "codeartifact", .op = "Nope" }, "unsupported codeartifact operation 'Nope'" },
		{ { .service = "s3", .op = "DeleteObject", .bucket = "b", .key = "k" },
		  "unsupported s3 operation 'DeleteObject'" },
		{ { .service = "s3", .op = "PutObject", .bucket = "b" }, "s3 PutObject needs a bucket and a key" },
		{ { .service = "codeartifact", .op = "DescribeDomain", .in = obj },
		  "codeartifact DescribeDomain has no member 'X'" },
		{ { .service = "iam", .op = "X", .in = deep },
		  "query parameter 'A.A.A.A.A.A.A.A.A.A.A.A.A.A.A.A.A' nests too deep" },
	};
	struct wire_req w;
	const char *label;
	char err[200], *path;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum fb_err rc = build(&w, &rows[i].call, 0, &path, &label, err, sizeof(err));

		if (rc != FB_E_INVALID || strcmp(err, rows[i].msg))
			fail_msg("row %zu: rc %d '%s'", i, rc, err);
		assert_null(path);
		wire_cleanup(&w);
	}
	cJSON_Delete(arr);
	cJSON_Delete(deep);
	cJSON_Delete(obj);
}

/* ---- the answer ------------------------------------------------------------------ */

struct err_row {
	long status;
	const char *headers, *body;
	const char *code, *message, *request_id;
};

static const struct err_row err_rows[] = {
	/* awsJson1_1, namespace before '#' */
	{ 400, "x-amzn-RequestId: 1111\r\n",
	  "{\"__type\":\"com.amazonaws.kms#NotFoundException\",\"message\":\"Key 'arn:aws:kms:us-east-1:111111111111:key/x' does not exist\"}",
	  "NotFoundException", "Key 'arn:aws:kms:us-east-1:111111111111:key/x' does not exist", "1111" },
	{ 400, "x-amzn-RequestId: 2222\r\n",
	  "{\"__type\":\"ResourceNotFoundException\",\"Message\":\"Secrets Manager can't find the specified secret.\"}",
	  "ResourceNotFoundException", "Secrets Manager can't find the specified secret.", "2222" },
	{ 400, "x-amzn-ErrorType: ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/\r\n",
	  "{\"message\":\"Rate exceeded\"}", "ThrottlingException", "Rate exceeded", "" },
	{ 400, "", "{\"__type\":\"KMSInvalidStateException\"}", "KMSInvalidStateException",
	  "KMSInvalidStateException", "" },
	/* query */
	{ 403, "",
	  "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
	  "<Code>AccessDenied</Code><Message>User: arn:aws:iam::111111111111:user/x is not authorized to perform: sts:AssumeRole</Message>"
	  "</Error><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>",
	  "AccessDenied", "User: arn:aws:iam::111111111111:user/x is not authorized to perform: sts:AssumeRole",
	  "c6104cbe-af31-11e0-8154-cbc7ccf896c7" },
	{ 400, "",
	  "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
	  "<RequestId>r9</RequestId></ErrorResponse>",
	  "Throttling", "Rate exceeded", "r9" },
	/* ec2 */
	{ 400, "",
	  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>InvalidPermission.NotFound</Code>"
	  "<Message>The specified rule does not exist in this security group.</Message></Error></Errors>"
	  "<RequestID>e9bb8b1f-2d4c-4e8b-a5a6-EXAMPLE</RequestID></Response>",
	  "InvalidPermission.NotFound", "The specified rule does not exist in this security group.",
	  "e9bb8b1f-2d4c-4e8b-a5a6-EXAMPLE" },
	/* s3 */
	{ 403, "x-amz-request-id: 4442587FB7D0A2F9\r\n",
	  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message>"
	  "<RequestId>4442587FB7D0A2F9</RequestId><HostId>abc</HostId></Error>",
	  "AccessDenied", "Access Denied", "4442587FB7D0A2F9" },
	/* nothing to parse */
	{ 503, "", "", "", "http status 503", "" },
	{ 502, "", "<html>bad gateway</html>", "", "http status 502", "" },
	{ 500, "", "{not json", "", "http status 500", "" },
};

static void test_wire__error_parsing_per_protocol(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(err_rows) / sizeof(err_rows[0]); i++) {
		const struct err_row *r = &err_rows[i];
		struct http_response resp;
		struct aws_error e;

		http_response_init(&resp, 0);
		resp.status = r->status;
		buf_puts(&resp.headers, r->headers);
		buf_puts(&resp.body, r->body);
		memset(&e, 0, sizeof(e));
		wire_parse_error(&resp, &e);
		if (e.http_status != r->status || strcmp(e.code, r->code) || strcmp(e.message, r->message) ||
		    strcmp(e.request_id, r->request_id))
			fail_msg("row %zu: got %ld '%s' '%s' '%s'", i, e.http_status, e.code, e.message,
				 e.request_id);
		http_response_cleanup(&resp);
	}
}

static void test_wire__s3_head_error(void **state)
{
	struct http_response r;
	struct aws_error e;

	(void)state;
	http_response_init(&r, 0);
	r.status = 404;
	memset(&e, 0, sizeof(e));
	wire_s3_head_error(&r, "b", "us-east-1", &e);
	assert_string_equal(e.code, "NotFound");
	assert_string_equal(e.message, "Not Found");
	http_response_cleanup(&r);

	http_response_init(&r, 0);
	r.status = 301;
	buf_puts(&r.headers, "x-amz-bucket-region: eu-west-1\r\n");
	wire_s3_head_error(&r, "b", "us-east-1", &e);
	assert_string_equal(e.code, "PermanentRedirect");
	assert_string_equal(e.message, "Moved Permanently: bucket 'b' is in region 'eu-west-1', not 'us-east-1'");
	http_response_cleanup(&r);

	http_response_init(&r, 0);
	r.status = 418;
	wire_s3_head_error(&r, "b", "us-east-1", &e);
	assert_string_equal(e.code, "418");
	assert_string_equal(e.message, "http status 418");
	http_response_cleanup(&r);
}

static void test_wire__answers(void **state)
{
	struct aws_call call = { .service = "s3", .op = "PutObject", .bucket = "b", .key = "k",
				 .body = "x", .body_len = 1 };
	struct http_response r;
	struct wire_req w;
	const char *label;
	char err[200], *path;

	(void)state;
	assert_int_equal(build(&w, &call, 0, &path, &label, err, sizeof(err)), FB_OK);
	free(path);
	/* a 200 without the checksum echo is not S3's confirmation */
	http_response_init(&r, 0);
	r.status = 200;
	buf_puts(&r.headers, "ETag: \"e\"\r\nx-amz-request-id: R1\r\n");
	assert_int_equal(wire_answer(&w, &r, "c2hh", &call), FB_E_AWS);
	assert_string_equal(call.err.code, "IncompleteAnswer");
	assert_string_equal(call.err.request_id, "R1");
	assert_int_equal(wire_answer(&w, &r, NULL, &call), FB_OK);
	assert_string_equal(cJSON_GetObjectItem(call.out, "ETag")->valuestring, "\"e\"");
	cJSON_Delete(call.out);
	call.out = NULL;
	http_response_cleanup(&r);
	wire_cleanup(&w);

	/* JSON: a "\u0000" escape is read as U+FFFD, the request id from the header */
	call = (struct aws_call){ .service = "logs", .op = "X" };
	assert_int_equal(build(&w, &call, 0, &path, &label, err, sizeof(err)), FB_OK);
	free(path);
	http_response_init(&r, 0);
	r.status = 200;
	buf_puts(&r.headers, "x-amzn-RequestId: J1\r\n");
	buf_puts(&r.body, "{\"m\":\"a\\u0000b\"}");
	assert_int_equal(wire_answer(&w, &r, NULL, &call), FB_OK);
	assert_string_equal(cJSON_GetObjectItem(call.out, "m")->valuestring, "a\xef\xbf\xbd" "b");
	assert_string_equal(call.err.request_id, "J1");
	cJSON_Delete(call.out);
	http_response_cleanup(&r);
	wire_cleanup(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire__protocols),
		cmocka_unit_test(test_wire__json_request),
		cmocka_unit_test(test_wire__query_request_flattened),
		cmocka_unit_test(test_wire__rest_requests),
		cmocka_unit_test(test_wire__bad_requests),
		cmocka_unit_test(test_wire__error_parsing_per_protocol),
		cmocka_unit_test(test_wire__s3_head_error),
		cmocka_unit_test(test_wire__answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
