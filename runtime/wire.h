/*
 * wire: the bytes of an AWS request from a call's JSON input, and the
 * answer's bytes back into JSON (issue 17: split from aws.c, which keeps the
 * clients, the call state machine, signing, retries and the multi loop).
 *
 * What each protocol sends and answers is described in aws.h (the calling
 * contract); this module is where it is done, as pure functions over a
 * struct aws_call and a struct http_response, no I/O:
 *  - the protocol tables: which protocol a service speaks (botocore's
 *    service metadata), the rest-json and generic rest-xml operations
 *    (method, path, query members, payload);
 *  - the request: wire_resolve() (which protocol and operation, checked
 *    before any endpoint is resolved), then wire_build() (path, query,
 *    body, method, X-Amz-Target, Content-MD5) and wire_headers() (the
 *    protocol's own headers); byte for byte as botocore's serializers
 *    (tests/integration/21, 22, 24, 26 compare them);
 *  - the answer: wire_answer() (a 2xx into JSON, S3's confirmation checks),
 *    wire_parse_error() (any protocol's error document),
 *    wire_s3_head_error() (a body-less S3 HEAD error named from its status).
 *
 * aws.c is the only caller besides the tests and the fuzz targets. wire
 * reads aws.h's data types (struct aws_call, struct aws_error) and calls
 * no aws_* function: the dependency goes one way.
 */
#ifndef FB_WIRE_H
#define FB_WIRE_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "aws.h"
#include "buf.h"
#include "fb_err.h"
#include "http.h"

/* The largest body built here (JSON, query, XML); an S3 object is the
 * caller's bytes, sent as they are. */
#define WIRE_MAX_REQUEST_BYTES (8u * 1024u * 1024u)

enum wire_proto { WIRE_JSON, WIRE_QUERY, WIRE_EC2, WIRE_RESTXML, WIRE_RESTJSON };

struct wire_rx; /* a generic rest-xml operation (wire.c's table) */
struct wire_rj; /* a rest-json operation (wire.c's table) */

/* One request in the making. Zeroed, then wire_resolve, wire_build; freed
 * by wire_cleanup (also after a failed resolve or build). */
struct wire_req {
	/* wire_resolve */
	enum wire_proto proto;
	const char *version;    /* X-Amz-Target prefix or query Version (static) */
	const char *json_type;  /* awsJson: its Content-Type (static) */
	const struct wire_rx *rx; /* a generic rest-xml operation, else NULL */
	const struct wire_rj *rj; /* a rest-json operation, else NULL */
	char account[16];       /* s3control: x-amz-account-id */
	/* wire_build */
	int s3_head;            /* s3 HeadObject: no body either way */
	int s3_get;             /* s3 GetObject (issue 24): no body sent, out.Body */
	const char *method;     /* "POST", the table's, or S3's PUT/HEAD/GET */
	char *query;            /* raw query string as sent and signed, NULL none (owned) */
	struct buf body;        /* json/query/rest bodies; S3 objects send call->body */
	const void *payload;    /* what is sent: body.data or call->body (borrowed) */
	size_t payload_len;
	char target[160];       /* awsJson: X-Amz-Target */
	char md5_b64[32];       /* Content-MD5 where botocore adds it */
};

/* "json", "query", "ec2" (query with EC2's XML), "rest-xml", "rest-json";
 * NULL when the service is not one firebreak knows. */
const char *wire_protocol(const char *service);

/* Checks the call (service and operation known, input an object, S3's
 * bucket, S3 Control's AccountId) and picks its protocol and operation.
 * *label: what the endpoint's host is made from (the bucket, the s3control
 * account) or NULL (endpoint.h). FB_E_INVALID with err set otherwise. */
enum fb_err wire_resolve(struct wire_req *w, const struct aws_call *call, const char **label,
			 char *err, size_t errlen);

/* Appends the operation's path to `path` (which holds the endpoint's base
 * path) and builds query, body, method and target. `s3_path_style`: the
 * bucket goes into the path, not the host (endpoint.h). */
enum fb_err wire_build(struct wire_req *w, const struct aws_call *call, int s3_path_style,
		       struct buf *path, char *err, size_t errlen);

/* The protocol's headers besides Host, X-Amz-Date, S3's payload hash and
 * the caller's S3 headers (aws.c): Content-Type, X-Amz-Target, Content-MD5,
 * x-amz-account-id, in the order sent. Writes at most `max` into h (the
 * values borrowed from w) and returns how many. */
size_t wire_headers(const struct wire_req *w, struct http_header *h, size_t max);

/* A 2xx answer into call->out (owned by the call), call->err.request_id
 * from the answer. S3 object answers are checked first (aws.h): `sent_sum`
 * is the x-amz-checksum-sha256 sent, NULL none. Returns FB_OK, FB_E_PARSE /
 * FB_E_NOMEM with err.message set, or FB_E_AWS (not S3's confirmation: err
 * code and message set; aws.c retries it like a 5xx). The body may be
 * rewritten in place (JSON "\u0000", aws.h). */
enum fb_err wire_answer(const struct wire_req *w, struct http_response *r, const char *sent_sum,
			struct aws_call *call);

/* Fills err (http_status, code, message, request_id) from an HTTP error
 * answer of any protocol: JSON __type/code (namespace before '#' and
 * anything after ':' stripped) and message/Message, x-amzn-ErrorType;
 * query <ErrorResponse><Error><Code>, EC2 <Response><Errors><Error><Code>,
 * S3 <Error><Code>; request id from x-amzn-RequestId, x-amz-request-id or
 * the RequestId/RequestID element. Never fails: unknown bodies leave code
 * "" and message "http status N". */
void wire_parse_error(const struct http_response *r, struct aws_error *err);

/* Names a body-less S3 HEAD error from its status (aws.h lists them); a
 * wrong-region answer names the bucket's region when S3 sends it and it is
 * not `region`. */
void wire_s3_head_error(const struct http_response *r, const char *bucket, const char *region,
			struct aws_error *err);

void wire_cleanup(struct wire_req *w);

#endif
