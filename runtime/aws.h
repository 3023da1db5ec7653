/*
 * aws: the AWS API layer every responder calls (no SDK).
 *
 * One data model for every protocol: requests and responses are cJSON.
 *  - awsJson1_1 (kms, secretsmanager, ecs, cloudtrail, logs): `in` is the
 *    JSON body, `out` the parsed JSON answer.
 *  - query (ec2, iam, sts, sns, autoscaling): `in` is structured JSON with
 *    wire names, flattened here as botocore's serializers do (issue 17):
 *    {"IpPermissions": [{"IpProtocol": "-1"}]} is IpPermissions.1.IpProtocol
 *    for EC2 and X.member.1.Y for the other query services; a map is
 *    {"entry": [{"Name": k, "Value": v}]} -> X.entry.1.Name (runtime/
 *    README.md has the rules; flat "A.1.B" names still work). Action and
 *    Version are added here. The body is form-encoded byte for byte as
 *    botocore sends it (space as '+', "-_.~" unencoded; tests/integration/
 *    21-query-body-botocore.py), so emulators that re-encode before
 *    checking the signature accept it. The XML answer is turned into cJSON: text-only
 *    elements become strings, elements with children become objects, and
 *    list wrappers (children named "member" or "item") become arrays. The
 *    root element and the *Result wrapper are kept, e.g.
 *    out["GetAccountSummaryResult"]["SummaryMap"] for IAM, and
 *    out["securityGroupInfo"] for EC2 (EC2 has no Result wrapper).
 *    Query maps (<entry><key>K</key><value>V</value></entry>, IAM
 *    SummaryMap) become objects K -> V; all leaf values are strings
 *    (runtime/xml.h has the full rules).
 *  - rest-xml, generic (issue 19): S3 bucket subresources
 *    (GetBucketPolicyStatus, GetBucketAcl, GetBucketTagging,
 *    Get/Put/DeletePublicAccessBlock: call->bucket, `in` holds the payload
 *    member, e.g. {"PublicAccessBlockConfiguration": {...}}, sent as XML as
 *    botocore's RestXMLSerializer writes it, Content-MD5 where botocore adds
 *    it) and S3 Control (service "s3control": Get/Put/DeletePublicAccessBlock,
 *    in["AccountId"] (12 digits) -> x-amz-account-id and the host
 *    {AccountId}.s3-control.{region}, signed as "s3"). `out` is the XML
 *    answer through runtime/xml (root dropped: {"IsPublic": "true"}), {} for
 *    an empty body. The wire format is checked against botocore by
 *    tests/integration/24-restxml-botocore.py. Other operations are refused
 *    (FB_E_INVALID) before any request.
 *  - rest-xml (s3 PutObject and HeadObject): bucket/key/body/headers
 *    in; `out` holds the interesting response headers: {"ETag","VersionId",
 *    "ChecksumSHA256","ServerSideEncryption","SSEKMSKeyId"}, plus the
 *    object's "ContentLength" (number) for HeadObject. HeadObject sends no
 *    body (call->body is ignored); its 404 has no body to name it, so it
 *    ends FB_E_NOTFOUND with err.http_status 404 and code "NotFound".
 *    GetObjectLockConfiguration (bucket only, GET ?object-lock) answers
 *    the XML document as JSON without its root element:
 *    {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": ...}};
 *    a bucket without Object Lock is ObjectLockConfigurationNotFoundError.
 *    GetObject (issue 24, firebreak-restore: restore.json): GET, no body sent;
 *    `out` as HeadObject's plus "Body", the object's bytes as a string (an
 *    object with a NUL byte is refused: FB_E_PARSE, "not text").
 *  - rest-json (issue 23): CodeArtifact's domain and repository
 *    operations (DescribeDomain, Get/Put/DeleteDomainPermissionsPolicy,
 *    ListRepositoriesInDomain, Get/Put/DeleteRepositoryPermissionsPolicy).
 *    `in` holds the model's member names; those the model puts in the
 *    query string go there under their locationName ("domainOwner" ->
 *    domain-owner, percent-encoded as botocore does), the others are the
 *    JSON body (Content-Type application/json; "{}" when the operation
 *    has body members and none is given; no body otherwise). A member the
 *    operation does not have, or an operation not in the table, is
 *    refused (FB_E_INVALID) before any request. `out` is the JSON answer
 *    ({} for an empty one); errors come from x-amzn-ErrorType. Checked
 *    against botocore by tests/integration/26-restjson-botocore.py.
 *  - rest-json, issue 24: securityhub BatchUpdateFindings and
 *    BatchImportFindings (the whole input is the body); events (PutEvents)
 *    is awsJson 1.1 (target AWSEvents). Checked against botocore's
 *    serializers by tests/integration/68-report-publish.py.
 *
 * Where it is done (issue 17): this module is the client (credentials,
 * AssumeRole, regions, the shared connection pool), one call's state
 * machine, signing, retries and the curl multi loop; the bytes of each
 * protocol, request and answer, are runtime/wire.{c,h} (wire_), which aws.c
 * alone calls. The contract above is this header's.
 *
 * Signing: SigV4 (sigv4.h). Endpoints: AWS_ENDPOINT_URL_<SERVICE>, then
 * AWS_ENDPOINT_URL, then {service}.{region}.{partition dns suffix} (IAM
 * global, FIPS with AWS_USE_FIPS_ENDPOINT=true). Endpoints never come from
 * an event. Retries: SDK standard mode (AWS_MAX_ATTEMPTS, default 3),
 * exponential backoff with full jitter, never past the deadline.
 */
#ifndef FB_AWS_H
#define FB_AWS_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "fb_err.h"

struct aws_client; /* opaque: credentials, region, connection pool, deadline */

struct aws_error {
	long http_status;       /* 0 when no HTTP answer was received */
	char code[128];         /* e.g. "ThrottlingException", "" if none */
	char message[512];      /* never contains request secrets */
	char request_id[128];
	int attempts;           /* how many attempts were made */
};

struct aws_header {
	const char *name;   /* borrowed */
	const char *value;  /* borrowed */
};

/* One API call. Zero it, fill the inputs, run it, read the outputs, then
 * aws_call_cleanup(). Inputs are borrowed for the duration of the run. */
struct aws_call {
	/* in */
	const char *service;    /* endpoint/signing name: "kms", "ec2", "s3", ... */
	const char *op;         /* operation name as in the service model: "DescribeKey" */
	const cJSON *in;        /* json body, or flat query params; NULL = {} */
	const char *bucket;     /* s3 only */
	const char *key;        /* s3 only: object key, not yet URL-encoded */
	const void *body;       /* s3 only */
	size_t body_len;
	/* s3 only: extra headers, x-amz-* and the conditional ones
	 * (If-None-Match: * makes a PutObject write-once: S3 answers 412
	 * PreconditionFailed when the key exists, 409 ConditionalRequestConflict
	 * under a concurrent write; neither is retried). */
	const struct aws_header *headers;
	size_t nheaders;
	/* Attempts for this call; 0 = the client's (AWS_MAX_ATTEMPTS). The
	 * CloudTrail pager (cloudtrail.h) sets 1: it owns that retry budget,
	 * pacing each attempt. */
	int max_attempts;
	/* issue 17: the client this call is made with (borrowed; another
	 * account or region), NULL = the client passed to aws_call_run_all.
	 * It must share that client's connection pool (made from it by
	 * aws_client_for_region or aws_client_assume_role), else the call
	 * fails with FB_E_INVALID: one round waits on one transport. */
	struct aws_client *client;
	/* out */
	enum fb_err rc;
	cJSON *out;             /* owned by the call; freed by aws_call_cleanup */
	struct aws_error err;   /* on success: attempts and request_id set, code "" */
	int64_t started_ms;     /* epoch ms when the first attempt started */
	int64_t elapsed_ms;     /* across all attempts */
};

/* Builds a client from the environment (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION /
 * AWS_DEFAULT_REGION). `region` NULL means the environment's. Caller frees
 * with aws_client_free(). */
enum fb_err aws_client_new(struct aws_client **out, const char *region,
			   char *err, size_t errlen);
void aws_client_free(struct aws_client *c);

/* A client for the same credentials in another region (shares the
 * connection pool). Caller frees. */
enum fb_err aws_client_for_region(struct aws_client *c, const char *region,
				  struct aws_client **out);

/* STS AssumeRole into role_arn; the returned client uses the temporary
 * credentials (cached in `c` by role ARN until 5 minutes before expiry, so
 * a warm invoke does not assume again). Caller frees the returned client. */
enum fb_err aws_client_assume_role(struct aws_client *c, const char *role_arn,
				   const char *session_name,
				   struct aws_client **out, struct aws_error *err);

/* Every call made through `c` (and clients derived from it) stops at this
 * epoch-ms deadline: timeouts come from the time remaining. 0 = none. */
void aws_client_set_deadline(struct aws_client *c, int64_t deadline_ms);

const char *aws_client_region(const struct aws_client *c);
/* "aws", "aws-cn" or "aws-us-gov", from the region. */
const char *aws_client_partition(const struct aws_client *c);

/* Runs one call (with retries). Returns call->rc. */
enum fb_err aws_call_run(struct aws_client *c, struct aws_call *call);
/* Runs independent calls concurrently (curl multi) and waits for all.
 * Returns FB_OK when every call succeeded, else the first failure's rc;
 * each call's own rc/err says what happened to it. */
enum fb_err aws_call_run_all(struct aws_client *c, struct aws_call *calls, size_t n);
void aws_call_cleanup(struct aws_call *call);

/* Convenience for the common case: one JSON/query call, returns owned
 * output in *out (caller cJSON_Delete()s) and the error in *err. */
enum fb_err aws_do(struct aws_client *c, const char *service, const char *op,
		   const cJSON *in, cJSON **out, struct aws_error *err);

/* "ThrottlingException", "Throttling", ... -> 1 */
int aws_is_throttle_code(const char *code);

/* ---- additions (issue 3): options, and the pure stages, for tests and
 * tools. Everything above is the interface responders use. ---------- */

struct http_transport;

/* Explicit construction. Every field may be NULL/0 = "from the
 * environment / the default". */
struct aws_client_options {
	const char *region;          /* NULL: AWS_REGION, then AWS_DEFAULT_REGION */
	const char *access_key;      /* NULL: AWS_ACCESS_KEY_ID (and the two below from env) */
	const char *secret_key;
	const char *session_token;
	/* NULL: libcurl. Otherwise the client takes ownership (frees it with
	 * http_transport_free when the last client sharing it goes). */
	struct http_transport *transport;
	/* Environment lookup for endpoints and retry settings; NULL: getenv. */
	const char *(*getenv_fn)(const char *name);
	uint64_t jitter_seed;        /* 0: seeded from the clock */
};
enum fb_err aws_client_new_opts(struct aws_client **out, const struct aws_client_options *o,
				char *err, size_t errlen);

/* Settings read at client creation: AWS_MAX_ATTEMPTS (default 3) and
 * AWS_RETRY_MODE (standard|legacy|adaptive, all behave as standard). */
int aws_client_max_attempts(const struct aws_client *c);

/* Which protocol a service speaks: wire_protocol() (wire.h). */

/* Retry classes of SDK standard mode. */
enum aws_retry_class { AWS_RETRY_NO = 0, AWS_RETRY_TRANSIENT, AWS_RETRY_THROTTLE };
/* From an HTTP answer's status and parsed error code. */
enum aws_retry_class aws_retry_classify(long http_status, const char *code);

/* Full-jitter backoff before retry number `retry` (1 = first retry), with
 * r in [0,1): r * min(base * 2^(retry-1), AWS_BACKOFF_MAX_MS), base
 * AWS_BACKOFF_BASE_MS (AWS_BACKOFF_THROTTLE_BASE_MS for throttling). The
 * SDKs use a 1 s base and a 20 s cap; a Lambda invocation is short, so we
 * scale down (Java SDK v2 standard mode uses these same 100/500 ms bases)
 * and cap at 5 s; the deadline bounds it further. */
#define AWS_BACKOFF_BASE_MS 100
#define AWS_BACKOFF_THROTTLE_BASE_MS 500
#define AWS_BACKOFF_MAX_MS 5000
int64_t aws_backoff_ms(int retry, int throttle, double r);
/* Full jitter in general: r * min(base * 2^(n-1), cap), r in [0,1)
 * (clamped), n >= 1. aws_backoff_ms is this with the bases above; the
 * CloudTrail pager's backoff (cloudtrail.h ct_backoff_ms) is a floor plus
 * this. */
int64_t aws_jitter_ms(int64_t base, int64_t cap, int n, double r);

/* Kept free before the deadline: no attempt is started or timed to end
 * later than deadline - AWS_DEADLINE_MARGIN_MS. */
#define AWS_DEADLINE_MARGIN_MS 50
/* Connect timeout cap, and per-attempt timeout when no deadline is set. */
#define AWS_CONNECT_TIMEOUT_MS 5000
#define AWS_ATTEMPT_TIMEOUT_MS 30000

/* Error answers of every protocol are read by wire_parse_error() (wire.h):
 * err.code, err.message and err.request_id as AWS sent them. */

/* ---- additions (issue 3 audit) ------------------------------------------ */

/* JSON answers: cJSON strings end at a NUL, so a "\u0000" escape in an
 * answer (a log line, a secret) would silently cut the string there. Every
 * "\u0000" is read as "\ufffd" (U+FFFD, the replacement character) before
 * parsing, as leak-rotate's awslogs decoder does: the rest of the string
 * survives and the replacement shows where the NUL was. */

/* S3 answers are checked before a 2xx counts as success:
 *  - PutObject and HeadObject: the answer carries an ETag;
 *  - PutObject sent with x-amz-checksum-sha256 (ours or the caller's): the
 *    answer echoes x-amz-checksum-sha256 with the same value (S3 does when
 *    it verified and stored that checksum);
 *  - a 200 whose body is an S3 <Error> document is that error.
 * Otherwise the call ends FB_E_AWS with err.http_status 200 and one of the
 * codes below (or the <Error>'s code), after retries: a PutObject is
 * idempotent and a broken answer is treated like a 5xx (transient). */
#define AWS_CODE_INCOMPLETE_ANSWER "IncompleteAnswer"  /* ETag or checksum echo missing */
#define AWS_CODE_CHECKSUM_MISMATCH "ChecksumMismatch"  /* echoed checksum differs */

/* S3 HeadObject errors have no body; the code comes from the status (AWS
 * docs: "it returns a generic 404 Not Found or 403 Forbidden code"):
 * 301 PermanentRedirect, 307 TemporaryRedirect, 400 BadRequest (both with
 * the bucket's region in the message when x-amz-bucket-region says it),
 * 403 AccessDenied (also what a missing key gives without s3:ListBucket),
 * 404 NotFound (FB_E_NOTFOUND), 405 MethodNotAllowed, 408 RequestTimeout,
 * 409 Conflict, 412 PreconditionFailed, 500 InternalError, 501
 * NotImplemented, 503 SlowDown (S3's throttling answer), any other status
 * its number as botocore does ("418"). Retries follow aws_retry_classify. */

#endif
