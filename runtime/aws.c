/*
 * aws: protocols, signing, retries and concurrency over the http seam.
 *
 * Every call, single or not, goes through one loop (run_all): each call is
 * a small state machine READY -> IN FLIGHT -> (READY after a backoff | DONE)
 * driven by the transport's start()/wait(), so concurrency, retries and the
 * deadline are handled once.
 */
#include "aws.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "buf.h"
#include "endpoint.h"
#include "http.h"
#include "sigv4.h"
#include "utc.h"
#include "xml.h"

/* SDK standard mode retry quota (botocore retries/quota.py). */
#define QUOTA_MAX 500
#define QUOTA_RETRY_COST 5
#define QUOTA_TIMEOUT_COST 10
#define QUOTA_SUCCESS_REFUND 1

#define AWS_MAX_REQUEST_BYTES (8u * 1024u * 1024u)
/* Temporary credentials are refreshed this long before they expire. */
#define ROLE_REFRESH_MS (5 * 60 * 1000)

/* Shared by a client and every client derived from it: the connections,
 * the deadline, retry settings. */
struct aws_shared {
	int refs;
	struct http_transport *t;
	int64_t deadline_ms;
	int max_attempts;
	int quota;
	uint64_t rng;
	endpoint_getenv_fn getenv_fn;
};

struct role_entry {
	char *arn;
	char *session;   /* the session name shows in the member's CloudTrail */
	char *akid, *secret, *token;
	int64_t expires_ms;
	struct role_entry *next;
};

struct aws_client {
	struct aws_shared *sh;
	char region[32];
	char partition[16];
	char *akid, *secret, *token;     /* owned; secret wiped on free */
	struct role_entry *roles;        /* AssumeRole cache, by role ARN */
};

/* ---- protocols ----------------------------------------------------------- */

enum proto { P_JSON, P_QUERY, P_EC2, P_RESTXML, P_RESTJSON };

struct svc_proto {
	const char *service;
	enum proto proto;
	const char *target_or_version; /* X-Amz-Target prefix or query Version */
};

/* From botocore's service-2.json metadata (targetPrefix / apiVersion). */
static const struct svc_proto protos[] = {
	{ "kms", P_JSON, "TrentService" },
	{ "secretsmanager", P_JSON, "secretsmanager" },
	{ "ecs", P_JSON, "AmazonEC2ContainerServiceV20141113" },
	{ "cloudtrail", P_JSON, "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101" },
	{ "logs", P_JSON, "Logs_20140328" },
	{ "ec2", P_EC2, "2016-11-15" },
	{ "iam", P_QUERY, "2010-05-08" },
	{ "sts", P_QUERY, "2011-06-15" },
	{ "sns", P_QUERY, "2010-03-31" },
	{ "autoscaling", P_QUERY, "2011-01-01" },
	{ "s3", P_RESTXML, "2006-03-01" },
	{ "s3control", P_RESTXML, "2018-08-20" },
	{ "wafv2", P_JSON, "AWSWAF_20190729" },     /* issue 19: IP sets (awsJson 1.1) */
	/* issue 22: DynamoDB is awsJson 1.0 (metadata jsonVersion "1.0") */
	{ "dynamodb", P_JSON, "DynamoDB_20120810" },
	{ "monitoring", P_QUERY, "2010-08-01" }, /* issue 22: CloudWatch GetMetricStatistics */
	/* issue 23: Cognito user pools (botocore cognito-idp metadata: json 1.1) */
	{ "cognito-idp", P_JSON, "AWSCognitoIdentityProviderService" },
	{ "codeartifact", P_RESTJSON, "2018-09-22" }, /* issue 23: domain and repository policies */
};

/* rest-json operations (issue 23), from botocore's codeartifact
 * service-2.json: http method, requestUri (none of these has a path
 * label), the input members sent in the query string as {member,
 * locationName} pairs in the model's order; every other input member goes
 * into the JSON body. `body`: the input shape has body members, so botocore
 * sends "{}" when none is given (RestJSONSerializer._requires_empty_body);
 * without any, the body is empty and there is no Content-Type. */
struct rj_op {
	const char *service, *op, *method, *path;
	const char *const *query;  /* NULL-terminated member, locationName pairs */
	int body;
};

static const char *const rj_q_domain[] = { "domain", "domain", "domainOwner", "domain-owner", NULL };
static const char *const rj_q_repo[] = { "domain", "domain", "domainOwner", "domain-owner",
					 "repository", "repository", NULL };
static const char *const rj_q_list[] = { "domain", "domain", "domainOwner", "domain-owner",
					 "administratorAccount", "administrator-account",
					 "repositoryPrefix", "repository-prefix", "maxResults", "max-results",
					 "nextToken", "next-token", NULL };
static const char *const rj_q_delpol[] = { "domain", "domain", "domainOwner", "domain-owner",
					   "policyRevision", "policy-revision", NULL };
static const char *const rj_q_delrepopol[] = { "domain", "domain", "domainOwner", "domain-owner",
					       "repository", "repository", "policyRevision",
					       "policy-revision", NULL };

static const struct rj_op rj_ops[] = {
	{ "codeartifact", "DescribeDomain", "GET", "/v1/domain", rj_q_domain, 0 },
	{ "codeartifact", "GetDomainPermissionsPolicy", "GET", "/v1/domain/permissions/policy", rj_q_domain, 0 },
	{ "codeartifact", "PutDomainPermissionsPolicy", "PUT", "/v1/domain/permissions/policy", NULL, 1 },
	{ "codeartifact", "DeleteDomainPermissionsPolicy", "DELETE", "/v1/domain/permissions/policy",
	  rj_q_delpol, 0 },
	{ "codeartifact", "ListRepositoriesInDomain", "POST", "/v1/domain/repositories", rj_q_list, 0 },
	{ "codeartifact", "GetRepositoryPermissionsPolicy", "GET", "/v1/repository/permissions/policy",
	  rj_q_repo, 0 },
	{ "codeartifact", "PutRepositoryPermissionsPolicy", "PUT", "/v1/repository/permissions/policy",
	  rj_q_repo, 1 },
	{ "codeartifact", "DeleteRepositoryPermissionsPolicy", "DELETE", "/v1/repository/permissions/policies",
	  rj_q_delrepopol, 0 },
};

static const struct rj_op *rj_find(const char *service, const char *op)
{
	size_t i;

	for (i = 0; service && op && i < sizeof(rj_ops) / sizeof(rj_ops[0]); i++)
		if (strcmp(rj_ops[i].service, service) == 0 && strcmp(rj_ops[i].op, op) == 0)
			return &rj_ops[i];
	return NULL;
}

/* rest-xml operations besides PutObject/HeadObject (issue 19), from
 * botocore's s3 / s3control service-2.json: http method, requestUri (s3:
 * "/{Bucket}?<query>"; s3control: a fixed path, the account in the
 * x-amz-account-id header and the host), the payload member sent as the
 * XML body (its locationName is the root element, with the shape's
 * xmlNamespace), and Content-MD5 where botocore 1.29 adds it (S3's
 * PutPublicAccessBlock: httpChecksumRequired). */
struct rx_op {
	const char *service, *op, *method;
	const char *path;     /* s3control: the path; s3: NULL ("/{Bucket}") */
	const char *query;    /* s3 subresource: "policyStatus"; NULL none */
	const char *payload;  /* the input member sent as the body; NULL none */
	const char *xmlns;
	int md5;
};

#define S3_XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"
#define S3C_XMLNS "http://awss3control.amazonaws.com/doc/2018-08-20/"
#define S3C_PAB "/v20180820/configuration/publicAccessBlock"

static const struct rx_op rx_ops[] = {
	{ "s3", "GetBucketPolicyStatus", "GET", NULL, "policyStatus", NULL, NULL, 0 },
	{ "s3", "GetBucketAcl", "GET", NULL, "acl", NULL, NULL, 0 },
	{ "s3", "GetBucketTagging", "GET", NULL, "tagging", NULL, NULL, 0 },
	{ "s3", "GetPublicAccessBlock", "GET", NULL, "publicAccessBlock", NULL, NULL, 0 },
	{ "s3", "PutPublicAccessBlock", "PUT", NULL, "publicAccessBlock",
	  "PublicAccessBlockConfiguration", S3_XMLNS, 1 },
	{ "s3", "DeletePublicAccessBlock", "DELETE", NULL, "publicAccessBlock", NULL, NULL, 0 },
	/* runtime/evidence.c: does the bucket have Object Lock, with which default */
	{ "s3", "GetObjectLockConfiguration", "GET", NULL, "object-lock", NULL, NULL, 0 },
	{ "s3control", "GetPublicAccessBlock", "GET", S3C_PAB, NULL, NULL, NULL, 0 },
	{ "s3control", "PutPublicAccessBlock", "PUT", S3C_PAB, NULL,
	  "PublicAccessBlockConfiguration", S3C_XMLNS, 0 },
	{ "s3control", "DeletePublicAccessBlock", "DELETE", S3C_PAB, NULL, NULL, NULL, 0 },
};

static const struct rx_op *rx_find(const char *service, const char *op)
{
	size_t i;

	for (i = 0; service && op && i < sizeof(rx_ops) / sizeof(rx_ops[0]); i++)
		if (strcmp(rx_ops[i].service, service) == 0 && strcmp(rx_ops[i].op, op) == 0)
			return &rx_ops[i];
	return NULL;
}

static const struct svc_proto *proto_find(const char *service)
{
	size_t i;

	for (i = 0; service && i < sizeof(protos) / sizeof(protos[0]); i++)
		if (strcmp(protos[i].service, service) == 0)
			return &protos[i];
	return NULL;
}

const char *aws_protocol(const char *service)
{
	const struct svc_proto *p = proto_find(service);

	if (!p)
		return NULL;
	switch (p->proto) {
	case P_JSON: return "json";
	case P_QUERY: return "query";
	case P_EC2: return "ec2";
	case P_RESTXML: return "rest-xml";
	case P_RESTJSON: return "rest-json";
	}
	return NULL;
}

/* ---- retry policy (pure) --------------------------------------------------- */

/* botocore retries/standard.py _THROTTLED_ERROR_CODES */
static const char *const throttle_codes[] = {
	"Throttling", "ThrottlingException", "ThrottledException",
	"RequestThrottledException", "TooManyRequestsException",
	"ProvisionedThroughputExceededException", "TransactionInProgressException",
	"RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException",
	"RequestThrottled", "SlowDown", "PriorRequestNotComplete",
	"EC2ThrottledException",
};

/* botocore _TRANSIENT_ERROR_CODES, plus the 5xx-class codes some services
 * send with a 400 (EC2 InternalError/Unavailable) and STS's
 * IDPCommunicationError, which botocore retries specially. */
static const char *const transient_codes[] = {
	"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
	"InternalError", "InternalFailure", "InternalServerError",
	"ServiceUnavailable", "ServiceUnavailableException", "Unavailable",
	"IDPCommunicationError",
};

static int in_list(const char *code, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; code && *code && i < n; i++)
		if (strcmp(code, list[i]) == 0)
			return 1;
	return 0;
}

int aws_is_throttle_code(const char *code)
{
	return in_list(code, throttle_codes, sizeof(throttle_codes) / sizeof(throttle_codes[0]));
}

enum aws_retry_class aws_retry_classify(long http_status, const char *code)
{
	if (aws_is_throttle_code(code) || http_status == 429)
		return AWS_RETRY_THROTTLE;
	if (in_list(code, transient_codes, sizeof(transient_codes) / sizeof(transient_codes[0])))
		return AWS_RETRY_TRANSIENT;
	if (http_status == 500 || http_status == 502 || http_status == 503 || http_status == 504)
		return AWS_RETRY_TRANSIENT;
	return AWS_RETRY_NO;
}

int64_t aws_backoff_ms(int retry, int throttle, double r)
{
	int64_t cap = throttle ? AWS_BACKOFF_THROTTLE_BASE_MS : AWS_BACKOFF_BASE_MS;
	int i;

	if (r < 0)
		r = 0;
	if (r >= 1)
		r = 0.999999;
	for (i = 1; i < retry && cap < AWS_BACKOFF_MAX_MS; i++)
		cap *= 2;
	if (cap > AWS_BACKOFF_MAX_MS)
		cap = AWS_BACKOFF_MAX_MS;
	return (int64_t)(r * (double)cap);
}

static double rng_next(struct aws_shared *sh)
{
	/* xorshift64*: jitter only needs to decorrelate clients. */
	uint64_t x = sh->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	sh->rng = x;
	return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

/* ---- error parsing (pure) ------------------------------------------------------ */

/* Truncating copy (the AWS strings are bounded by our fields). */
static void copy_str(char *dst, size_t dstlen, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (!dstlen)
		return;
	if (n >= dstlen)
		n = dstlen - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* "ns#Code:http://..." -> "Code" */
static void set_code(struct aws_error *err, const char *v)
{
	const char *h = strrchr(v, '#');
	size_t n;

	if (h)
		v = h + 1;
	n = strcspn(v, ":");
	if (n >= sizeof(err->code))
		n = sizeof(err->code) - 1;
	memcpy(err->code, v, n);
	err->code[n] = '\0';
}

static const cJSON *find_key(const cJSON *j, const char *key, int depth)
{
	const cJSON *c, *f;

	if (!j || depth > 8)
		return NULL;
	for (c = j->child; c; c = c->next) {
		if (c->string && strcmp(c->string, key) == 0 && cJSON_IsString(c))
			return c;
	}
	for (c = j->child; c; c = c->next) {
		if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
			f = find_key(c, key, depth + 1);
			if (f)
				return f;
		}
	}
	return NULL;
}

static const char *str_of(const cJSON *j, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

void aws_parse_error(const struct http_response *r, struct aws_error *err)
{
	const char *body = r->body.data ? r->body.data : "";
	size_t len = r->body.len, i = 0;
	char hv[256];
	cJSON *j = NULL;
	const cJSON *v;

	err->http_status = r->status;
	err->code[0] = err->message[0] = err->request_id[0] = '\0';
	if (http_response_header(r, "x-amzn-RequestId", hv, sizeof(hv)) ||
	    http_response_header(r, "x-amz-request-id", hv, sizeof(hv)))
		copy_str(err->request_id, sizeof(err->request_id), hv);
	if (http_response_header(r, "x-amzn-ErrorType", hv, sizeof(hv)) && hv[0])
		set_code(err, hv);

	while (i < len && isspace((unsigned char)body[i]))
		i++;
	if (i < len && body[i] == '{') {
		j = cJSON_ParseWithLength(body, len);
		if (j) {
			const char *t = str_of(j, "__type");

			if (!t)
				t = str_of(j, "code");
			if (!t)
				t = str_of(j, "Code");
			if (t && !err->code[0])
				set_code(err, t);
			if ((t = str_of(j, "message")) || (t = str_of(j, "Message")) ||
			    (t = str_of(j, "errorMessage")))
				copy_str(err->message, sizeof(err->message), t);
		}
	} else if (i < len && body[i] == '<') {
		xml_to_json(body, len, &j, NULL, 0, NULL, 0);
		if (j) {
			if (!err->code[0] && (v = find_key(j, "Code", 0)))
				set_code(err, v->valuestring);
			if ((v = find_key(j, "Message", 0)))
				copy_str(err->message, sizeof(err->message), v->valuestring);
			if (!err->request_id[0] &&
			    ((v = find_key(j, "RequestId", 0)) || (v = find_key(j, "RequestID", 0))))
				copy_str(err->request_id, sizeof(err->request_id), v->valuestring);
		}
	}
	cJSON_Delete(j);
	if (!err->message[0]) {
		if (err->code[0])
			copy_str(err->message, sizeof(err->message), err->code);
		else
			snprintf(err->message, sizeof(err->message), "http status %ld", r->status);
	}
}

/* ---- clients ------------------------------------------------------------------ */

static void wipe_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

static void roles_free(struct role_entry *r)
{
	while (r) {
		struct role_entry *n = r->next;

		free(r->arn);
		free(r->session);
		free(r->akid);
		wipe_free(r->secret);
		wipe_free(r->token);
		free(r);
		r = n;
	}
}

static void shared_release(struct aws_shared *sh)
{
	if (sh && --sh->refs == 0) {
		http_transport_free(sh->t);
		free(sh);
	}
}

void aws_client_free(struct aws_client *c)
{
	if (!c)
		return;
	free(c->akid);
	wipe_free(c->secret);
	wipe_free(c->token);
	roles_free(c->roles);
	shared_release(c->sh);
	free(c);
}

static enum fb_err set_creds(struct aws_client *c, const char *akid, const char *secret,
			     const char *token)
{
	c->akid = strdup(akid);
	c->secret = strdup(secret);
	c->token = token && *token ? strdup(token) : NULL;
	if (!c->akid || !c->secret || (token && *token && !c->token))
		return FB_E_NOMEM;
	return FB_OK;
}

static enum fb_err set_region(struct aws_client *c, const char *region)
{
	if (!region || !*region || strlen(region) >= sizeof(c->region))
		return FB_E_CONFIG;
	copy_str(c->region, sizeof(c->region), region);
	copy_str(c->partition, sizeof(c->partition), endpoint_partition(region));
	return FB_OK;
}

static enum fb_err read_retry_env(struct aws_shared *sh, char *err, size_t errlen)
{
	const char *v = sh->getenv_fn("AWS_MAX_ATTEMPTS");
	const char *mode = sh->getenv_fn("AWS_RETRY_MODE");
	char *end;
	long n;

	sh->max_attempts = 3;
	if (v && *v) {
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno || *end || n < 1 || n > 20) {
			snprintf(err, errlen, "invalid AWS_MAX_ATTEMPTS '%.32s' (want 1..20)", v);
			return FB_E_CONFIG;
		}
		sh->max_attempts = (int)n;
	}
	/* adaptive adds client-side rate limiting in the SDKs; a Lambda
	 * invocation makes a handful of calls, so it behaves as standard. */
	if (mode && *mode && strcmp(mode, "standard") != 0 && strcmp(mode, "legacy") != 0 &&
	    strcmp(mode, "adaptive") != 0) {
		snprintf(err, errlen, "invalid AWS_RETRY_MODE '%.32s' (want standard, legacy or adaptive)",
			 mode);
		return FB_E_CONFIG;
	}
	return FB_OK;
}

enum fb_err aws_client_new_opts(struct aws_client **out, const struct aws_client_options *o,
				char *err, size_t errlen)
{
	struct aws_client *c = NULL;
	struct aws_shared *sh = NULL;
	struct aws_client_options none;
	const char *region, *akid, *secret, *token;
	char dummy[8];
	enum fb_err rc;

	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	*out = NULL;
	if (!o) {
		memset(&none, 0, sizeof(none));
		o = &none;
	}
	c = calloc(1, sizeof(*c));
	sh = calloc(1, sizeof(*sh));
	if (!c || !sh) {
		free(sh);
		rc = FB_E_NOMEM;
		goto out;
	}
	sh->refs = 1;
	c->sh = sh;
	sh->quota = QUOTA_MAX;
	sh->getenv_fn = o->getenv_fn ? o->getenv_fn : (endpoint_getenv_fn)getenv;
	sh->rng = o->jitter_seed ? o->jitter_seed
				 : ((uint64_t)http_now_ms() * 2654435761u) ^ ((uint64_t)getpid() << 32) ^ 1;
	/* The transport is taken over even if we fail below. */
	sh->t = o->transport;

	region = o->region;
	if (!region || !*region)
		region = sh->getenv_fn("AWS_REGION");
	if (!region || !*region)
		region = sh->getenv_fn("AWS_DEFAULT_REGION");
	if (set_region(c, region) != FB_OK) {
		snprintf(err, errlen, "no valid region: set AWS_REGION");
		rc = FB_E_CONFIG;
		goto out;
	}
	if (o->access_key) {
		akid = o->access_key;
		secret = o->secret_key;
		token = o->session_token;
	} else {
		akid = sh->getenv_fn("AWS_ACCESS_KEY_ID");
		secret = sh->getenv_fn("AWS_SECRET_ACCESS_KEY");
		token = sh->getenv_fn("AWS_SESSION_TOKEN");
	}
	if (!akid || !*akid || !secret || !*secret) {
		snprintf(err, errlen, "missing credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
		rc = FB_E_AUTH;
		goto out;
	}
	rc = set_creds(c, akid, secret, token);
	if (rc)
		goto out;
	rc = read_retry_env(sh, err, errlen);
	if (rc)
		goto out;
	/* Creating the curl transport does no network I/O (cold start). */
	if (!sh->t)
		rc = http_curl_new(&sh->t, err, errlen);
out:
	if (rc) {
		if (c && c->sh) {
			aws_client_free(c); /* frees the transport with the shared part */
		} else {
			free(c);
			http_transport_free(o->transport);
		}
		return rc;
	}
	*out = c;
	return FB_OK;
}

enum fb_err aws_client_new(struct aws_client **out, const char *region, char *err, size_t errlen)
{
	struct aws_client_options o;

	memset(&o, 0, sizeof(o));
	o.region = region;
	return aws_client_new_opts(out, &o, err, errlen);
}

static enum fb_err client_derive(struct aws_client *c, const char *region, const char *akid,
				 const char *secret, const char *token, struct aws_client **out)
{
	struct aws_client *d = calloc(1, sizeof(*d));
	enum fb_err rc;

	*out = NULL;
	if (!d)
		return FB_E_NOMEM;
	d->sh = c->sh;
	c->sh->refs++;
	rc = set_region(d, region);
	if (rc == FB_OK)
		rc = set_creds(d, akid, secret, token);
	if (rc) {
		aws_client_free(d);
		return rc;
	}
	*out = d;
	return FB_OK;
}

enum fb_err aws_client_for_region(struct aws_client *c, const char *region,
				  struct aws_client **out)
{
	return client_derive(c, region, c->akid, c->secret, c->token, out);
}

void aws_client_set_deadline(struct aws_client *c, int64_t deadline_ms)
{
	c->sh->deadline_ms = deadline_ms;
}

const char *aws_client_region(const struct aws_client *c)
{
	return c->region;
}

const char *aws_client_partition(const struct aws_client *c)
{
	return c->partition;
}

int aws_client_max_attempts(const struct aws_client *c)
{
	return c->sh->max_attempts;
}

/* ---- one call's state machine ------------------------------------------------- */

enum cstate { CS_READY, CS_FLIGHT, CS_DONE };

#define MAX_HDRS 48

struct cstate_s {
	struct aws_call *call;
	struct aws_client *c;
	const struct svc_proto *proto;
	struct endpoint ep;
	enum cstate st;
	int64_t wake_ms;
	int quota_held;       /* retry quota taken for the last retry */
	int retry_throttle;   /* last failure class was throttling */
	char *url;
	char *path;           /* encoded path, as sent and signed */
	const char *method;   /* "POST"; s3: "PUT" (PutObject) or "HEAD" (HeadObject) */
	int s3_head;          /* s3 HeadObject: no body either way */
	const struct rx_op *rx; /* a generic rest-xml operation (rx_ops), else NULL */
	const struct rj_op *rj; /* a rest-json operation (rj_ops), else NULL */
	char *query;          /* rest-xml: the raw query ("policyStatus"), NULL none */
	char account[16];     /* s3control: x-amz-account-id */
	char md5_b64[32];     /* rx->md5: Content-MD5 of the body */
	struct buf body;      /* json/query body; s3 sends call->body */
	const void *payload;
	size_t payload_len;
	char payload_hash[65];
	char checksum_b64[48];
	const char *sent_sum; /* x-amz-checksum-sha256 as sent (checksum_b64 or the caller's) */
	char target[160];
	char amz_date[17];
	struct buf auth;
	struct http_header hdrs[MAX_HDRS];
	size_t nhdrs;
	struct http_exchange x;
	char last_problem[400]; /* why the last attempt failed */
};

static void cs_cleanup(struct cstate_s *s)
{
	free(s->url);
	free(s->path);
	free(s->query);
	buf_cleanup(&s->body);
	buf_cleanup(&s->auth);
}

/* application/x-www-form-urlencoded, byte for byte as botocore sends a
 * query-protocol body (urllib's urlencode: quote_plus with "-_.~" safe):
 * unreserved bytes as they are, a space as '+', everything else %XX with
 * uppercase hex. Real AWS hashes the bytes we send either way, but
 * emulators (moto, LocalStack) decode the form and re-encode it the
 * botocore way before checking the signature, so %20 for a space fails
 * there. The SigV4 canonical query (sigv4.c) still uses %20, as it must. */
static enum fb_err form_encode(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	enum fb_err rc = FB_OK;

	for (; !rc && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '_' || ch == '.' || ch == '~') {
			rc = buf_putc(b, (char)ch);
		} else if (ch == ' ') {
			rc = buf_putc(b, '+');
		} else {
			char esc[3] = { '%', hex[ch >> 4], hex[ch & 15] };

			rc = buf_append(b, esc, 3);
		}
	}
	return rc;
}

static enum fb_err query_append(struct buf *b, const char *k, const char *v)
{
	enum fb_err rc = FB_OK;

	if (b->len)
		rc = buf_putc(b, '&');
	if (!rc)
		rc = form_encode(b, k);
	if (!rc)
		rc = buf_putc(b, '=');
	if (!rc)
		rc = form_encode(b, v);
	return rc;
}

/* Query-protocol parameter names are bounded by what AWS accepts (the
 * longest real ones are well under 200 bytes); nesting past this depth is a
 * bug in the caller, not a request. */
#define QUERY_NAME_MAX 512
#define QUERY_DEPTH_MAX 16

/* One leaf value as botocore writes it: strings as they are, booleans
 * "true"/"false", integers without a fraction. NULL *v: nothing to send. */
static enum fb_err query_leaf(const cJSON *it, char num[64], const char **v)
{
	*v = NULL;
	if (cJSON_IsString(it)) {
		*v = it->valuestring;
	} else if (cJSON_IsBool(it)) {
		*v = cJSON_IsTrue(it) ? "true" : "false";
	} else if (cJSON_IsNumber(it)) {
		/* fuzz: range-checked first, (long long) of an out-of-range double is UB */
		if (it->valuedouble > -9.2e18 && it->valuedouble < 9.2e18 &&
		    it->valuedouble == (double)(long long)it->valuedouble)
			snprintf(num, 64, "%lld", (long long)it->valuedouble);
		else
			snprintf(num, 64, "%.17g", it->valuedouble);
		*v = num;
	} else if (!cJSON_IsNull(it)) {
		return FB_E_INVALID;
	}
	return FB_OK;
}

/* Structured input -> flat query parameters, as botocore's QuerySerializer
 * and EC2Serializer flatten it (botocore/serialize.py). Names are wire
 * names: the caller writes the member's locationName/queryName as the wire
 * wants it ("SecurityGroupId" for ModifyNetworkInterfaceAttribute's Groups,
 * "Filter" and "Value" for DescribeNetworkInterfaces' Filters). Rules:
 *  - object member "Name" under prefix P: P.Name (P empty at the top);
 *  - array: query protocol P.member.N, EC2 P.N (1-based); an empty array
 *    is "P=" in query and nothing in EC2, as botocore sends them;
 *  - map: an object whose only member is "entry", an array of objects:
 *    P.entry.N.<member> (the members are the map's key and value wire
 *    names: "key"/"value" by default, "Name"/"Value" for SNS
 *    MessageAttributes);
 *  - a name with dots at the top ("IpPermissions.1.IpProtocol") is used as
 *    it stands, so flat input keeps working. */
static enum fb_err query_flatten(struct buf *b, char *name, size_t len, const cJSON *v, int ec2,
				 int depth, char *err, size_t errlen)
{
	const cJSON *it;
	enum fb_err rc = FB_OK;
	size_t i = 0;

	if (depth > QUERY_DEPTH_MAX) {
		snprintf(err, errlen, "query parameter '%.64s' nests too deep", name);
		return FB_E_INVALID;
	}
	if (cJSON_IsObject(v)) {
		const cJSON *entry = v->child;
		int is_map = entry && !entry->next && entry->string &&
			     !strcmp(entry->string, "entry") && cJSON_IsArray(entry);

		for (it = v->child; !rc && it; it = it->next) {
			int n;

			if (!it->string)
				continue;
			n = len ? snprintf(name + len, QUERY_NAME_MAX - len, ".%s", it->string)
				: snprintf(name, QUERY_NAME_MAX, "%s", it->string);
			if (n < 0 || len + (size_t)n >= QUERY_NAME_MAX) {
				snprintf(err, errlen, "query parameter name too long");
				return FB_E_INVALID;
			}
			if (is_map) {
				/* entry.N, never entry.member.N: a map is not a list */
				i = 0;
				cJSON_ArrayForEach(entry, it) {
					int m = snprintf(name + len + (size_t)n, QUERY_NAME_MAX - len - (size_t)n,
							 ".%zu", ++i);

					if (m < 0 || len + (size_t)n + (size_t)m >= QUERY_NAME_MAX) {
						snprintf(err, errlen, "query parameter name too long");
						return FB_E_INVALID;
					}
					rc = query_flatten(b, name, len + (size_t)n + (size_t)m, entry, ec2,
							   depth + 1, err, errlen);
					if (rc)
						break;
				}
			} else {
				rc = query_flatten(b, name, len + (size_t)n, it, ec2, depth + 1, err, errlen);
			}
		}
		name[len] = '\0';
		return rc;
	}
	if (cJSON_IsArray(v)) {
		if (!v->child) {
			name[len] = '\0';
			return ec2 ? FB_OK : query_append(b, name, "");
		}
		cJSON_ArrayForEach(it, v) {
			int n = snprintf(name + len, QUERY_NAME_MAX - len, ec2 ? ".%zu" : ".member.%zu", ++i);

			if (n < 0 || len + (size_t)n >= QUERY_NAME_MAX) {
				snprintf(err, errlen, "query parameter name too long");
				return FB_E_INVALID;
			}
			rc = query_flatten(b, name, len + (size_t)n, it, ec2, depth + 1, err, errlen);
			if (rc)
				break;
		}
		name[len] = '\0';
		return rc;
	}
	{
		char num[64];
		const char *val;

		name[len] = '\0';
		if (query_leaf(v, num, &val) != FB_OK) {
			snprintf(err, errlen, "query parameter '%.64s' must be a string", name);
			return FB_E_INVALID;
		}
		return val ? query_append(b, name, val) : FB_OK;
	}
}

static enum fb_err build_query_body(struct cstate_s *s, char *err, size_t errlen)
{
	char name[QUERY_NAME_MAX];
	enum fb_err rc;

	rc = query_append(&s->body, "Action", s->call->op);
	if (!rc)
		rc = query_append(&s->body, "Version", s->proto->target_or_version);
	name[0] = '\0';
	if (!rc && s->call->in)
		rc = query_flatten(&s->body, name, 0, s->call->in, s->proto->proto == P_EC2, 0,
				   err, errlen);
	return rc;
}

/* ---- rest-xml bodies (issue 19) ----------------------------------------------- */

/* Text as ElementTree.tostring writes it: & < > escaped (and " in
 * attributes, which we only write as constants). */
static enum fb_err xml_text(struct buf *b, const char *t)
{
	enum fb_err rc = FB_OK;

	for (; !rc && *t; t++) {
		if (*t == '&')
			rc = buf_puts(b, "&amp;");
		else if (*t == '<')
			rc = buf_puts(b, "&lt;");
		else if (*t == '>')
			rc = buf_puts(b, "&gt;");
		else
			rc = buf_putc(b, *t);
	}
	return rc;
}

/* An element name is an XML name made of what model member names use. */
static int xml_name_ok(const char *n)
{
	if (!n || !*n || !(isalpha((unsigned char)*n) || *n == '_'))
		return 0;
	for (; *n; n++)
		if (!(isalnum((unsigned char)*n) || *n == '_' || *n == '-' || *n == '.'))
			return 0;
	return 1;
}

/* One member as botocore's RestXMLSerializer writes it (no declaration,
 * no white space): an object is <name>members in order</name>, an array
 * repeats <name> (a flattened list: a wrapped list is an object holding
 * the array under its member name), booleans true/false, numbers as the
 * query protocol writes them, null is left out. */
static enum fb_err xml_member(struct buf *b, const char *name, const cJSON *v, const char *xmlns,
			      int depth, char *err, size_t errlen)
{
	const cJSON *it;
	enum fb_err rc;

	if (depth > QUERY_DEPTH_MAX || !xml_name_ok(name)) {
		snprintf(err, errlen, "xml member '%.64s' is not a name or nests too deep", name ? name : "");
		return FB_E_INVALID;
	}
	if (cJSON_IsNull(v))
		return FB_OK;
	if (cJSON_IsArray(v)) {
		cJSON_ArrayForEach(it, v) {
			rc = xml_member(b, name, it, NULL, depth + 1, err, errlen);
			if (rc)
				return rc;
		}
		return FB_OK;
	}
	rc = xmlns ? buf_printf(b, "<%s xmlns=\"%s\">", name, xmlns) : buf_printf(b, "<%s>", name);
	if (rc)
		return rc;
	if (cJSON_IsObject(v)) {
		cJSON_ArrayForEach(it, v) {
			rc = xml_member(b, it->string, it, NULL, depth + 1, err, errlen);
			if (rc)
				return rc;
		}
	} else {
		char num[64];
		const char *val;

		if (query_leaf(v, num, &val) != FB_OK || !val) {
			snprintf(err, errlen, "xml member '%.64s' must be a scalar or an object", name);
			return FB_E_INVALID;
		}
		rc = xml_text(b, val);
		if (rc)
			return rc;
	}
	return buf_printf(b, "</%s>", name);
}

/* The s3control account: the input's AccountId, 12 digits. */
static int rx_account(const struct aws_call *call, char out[16])
{
	const cJSON *a = call->in ? cJSON_GetObjectItemCaseSensitive(call->in, "AccountId") : NULL;
	size_t i;

	if (!cJSON_IsString(a) || strlen(a->valuestring) != 12)
		return 0;
	for (i = 0; i < 12; i++)
		if (!isdigit((unsigned char)a->valuestring[i]))
			return 0;
	memcpy(out, a->valuestring, 13);
	return 1;
}

/* Path, query and body of a generic rest-xml operation. */
static enum fb_err rx_prepare(struct cstate_s *s, struct buf *p, char *err, size_t errlen)
{
	const struct aws_call *call = s->call;
	const struct rx_op *rx = s->rx;
	enum fb_err rc = FB_OK;

	if (rx->path) {
		rc = buf_puts(p, rx->path);
	} else {
		if (s->ep.s3_path_style) {
			rc = buf_putc(p, '/');
			if (!rc)
				rc = sigv4_uri_encode(p, call->bucket, strlen(call->bucket), 0);
		}
		if (!rc && (!p->len || p->data[p->len - 1] != '/') && !s->ep.s3_path_style)
			rc = buf_putc(p, '/');
	}
	if (!rc && rx->query && !(s->query = strdup(rx->query)))
		rc = FB_E_NOMEM;
	if (!rc && rx->payload) {
		const cJSON *v = call->in ? cJSON_GetObjectItemCaseSensitive(call->in, rx->payload) : NULL;

		if (!cJSON_IsObject(v)) {
			snprintf(err, errlen, "%.32s %.40s needs %.40s (an object)", call->service, call->op,
				 rx->payload);
			return FB_E_INVALID;
		}
		rc = xml_member(&s->body, rx->payload, v, rx->xmlns, 0, err, errlen);
	}
	if (!rc && rx->md5) {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int mdlen = 0;

		if (!EVP_Digest(s->body.data ? s->body.data : "", s->body.len, md, &mdlen, EVP_md5(), NULL))
			return FB_E_NOMEM;
		EVP_EncodeBlock((unsigned char *)s->md5_b64, md, (int)mdlen);
	}
	return rc;
}

/* rest-json (issue 23): the query string from the query members (values
 * percent-encoded as botocore's percent_encode, "-_.~" unreserved; numbers
 * and booleans as their text), the JSON body from the others. A query
 * member that is not a string, number or boolean is refused. */
static enum fb_err rj_prepare(struct cstate_s *s, struct buf *p, char *err, size_t errlen)
{
	const struct aws_call *call = s->call;
	const struct rj_op *rj = s->rj;
	cJSON *body = NULL;
	const cJSON *it;
	struct buf q;
	enum fb_err rc;
	size_t i;

	rc = buf_puts(p, rj->path);
	buf_init(&q, 4096);
	for (i = 0; !rc && rj->query && rj->query[i]; i += 2) {
		const cJSON *v = call->in ? cJSON_GetObjectItemCaseSensitive(call->in, rj->query[i]) : NULL;
		char num[64];
		const char *t;

		if (!v || cJSON_IsNull(v))
			continue;
		if (cJSON_IsString(v))
			t = v->valuestring;
		else if (cJSON_IsBool(v))
			t = cJSON_IsTrue(v) ? "true" : "false";
		else if (cJSON_IsNumber(v) && v->valuedouble == (double)(long long)v->valuedouble) {
			snprintf(num, sizeof(num), "%lld", (long long)v->valuedouble);
			t = num;
		} else {
			snprintf(err, errlen, "%.32s %.40s: '%.40s' must be a string or an integer", call->service,
				 call->op, rj->query[i]);
			rc = FB_E_INVALID;
			break;
		}
		if (q.len)
			rc = buf_putc(&q, '&');
		if (!rc)
			rc = buf_printf(&q, "%s=", rj->query[i + 1]);
		if (!rc)
			rc = sigv4_uri_encode(&q, t, strlen(t), 0);
	}
	if (!rc && q.len && !(s->query = buf_detach(&q, NULL)))
		rc = FB_E_NOMEM;
	buf_cleanup(&q);
	/* The body: every input member not in the query. */
	for (it = rc || !call->in ? NULL : call->in->child; it; it = it->next) {
		int in_query = 0;

		for (i = 0; rj->query && rj->query[i]; i += 2)
			if (it->string && strcmp(it->string, rj->query[i]) == 0)
				in_query = 1;
		if (in_query || cJSON_IsNull(it))
			continue;
		if (!rj->body) {
			snprintf(err, errlen, "%.32s %.40s has no member '%.40s'", call->service, call->op,
				 it->string ? it->string : "");
			rc = FB_E_INVALID;
			break;
		}
		if (!body && !(body = cJSON_CreateObject()))
			rc = FB_E_NOMEM;
		if (!rc && !cJSON_AddItemReferenceToObject(body, it->string, (cJSON *)it))
			rc = FB_E_NOMEM;
		if (rc)
			break;
	}
	if (!rc && body) {
		char *json = cJSON_PrintUnformatted(body);

		rc = json ? buf_puts(&s->body, json) : FB_E_NOMEM;
		buf_wipe_free(json); /* as the awsJson body: whatever a caller sends */
	} else if (!rc && rj->body) {
		rc = buf_puts(&s->body, "{}");
	}
	cJSON_Delete(body);
	return rc;
}

/* No CR/LF/control bytes (header injection); names are tokens. */
static int header_safe(const char *s, int name)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '\r' || ch == '\n' || ch == 0x7f)
			return 0;
		if (ch < 0x20 && (name || ch != '\t'))
			return 0;
		if (name && (ch == ':' || ch == ' '))
			return 0;
	}
	return 1;
}

/* Builds the parts that do not change between attempts. */
static enum fb_err cs_prepare(struct cstate_s *s, char *err, size_t errlen)
{
	struct aws_call *call = s->call;
	struct buf u, p;
	enum fb_err rc;
	char *json;

	buf_init(&s->body, AWS_MAX_REQUEST_BYTES);
	buf_init(&s->auth, 4096);
	buf_init(&u, 8192);
	buf_init(&p, 8192);
	if (!call->service || !call->op || !*call->op) {
		snprintf(err, errlen, "call has no service or operation");
		rc = FB_E_INVALID;
		goto out;
	}
	s->proto = proto_find(call->service);
	if (!s->proto) {
		snprintf(err, errlen, "unknown service '%.32s'", call->service);
		rc = FB_E_INVALID;
		goto out;
	}
	if (call->in && !cJSON_IsObject(call->in)) {
		snprintf(err, errlen, "call input must be a json object");
		rc = FB_E_INVALID;
		goto out;
	}
	if (s->proto->proto == P_RESTXML) {
		s->rx = rx_find(call->service, call->op);
		if (strcmp(call->service, "s3control") == 0 && (!s->rx || !rx_account(call, s->account))) {
			snprintf(err, errlen, s->rx ? "s3control %.40s needs AccountId (12 digits)"
						    : "unsupported s3control operation '%.40s'", call->op);
			rc = FB_E_INVALID;
			goto out;
		}
		if (s->rx && !s->rx->path && (!call->bucket || !*call->bucket)) {
			snprintf(err, errlen, "s3 %.40s needs a bucket", call->op);
			rc = FB_E_INVALID;
			goto out;
		}
	}
	if (s->proto->proto == P_RESTJSON && !(s->rj = rj_find(call->service, call->op))) {
		snprintf(err, errlen, "unsupported %.32s operation '%.40s'", call->service, call->op);
		rc = FB_E_INVALID;
		goto out;
	}
	rc = endpoint_resolve(call->service, s->c->region,
			      s->proto->proto != P_RESTXML ? NULL
			      : strcmp(call->service, "s3control") == 0 ? s->account : call->bucket,
			      s->c->sh->getenv_fn, &s->ep, err, errlen);
	if (rc)
		goto out;

	rc = buf_puts(&p, s->ep.base_path);
	switch (s->proto->proto) {
	case P_JSON:
		if (!rc)
			rc = buf_putc(&p, '/');
		json = call->in ? cJSON_PrintUnformatted(call->in) : strdup("{}");
		if (!json) {
			rc = FB_E_NOMEM;
			goto out;
		}
		if (!rc)
			rc = buf_puts(&s->body, json);
		buf_wipe_free(json); /* a PutSecretValue's SecretString */
		if (!rc && snprintf(s->target, sizeof(s->target), "%s.%s",
				    s->proto->target_or_version, call->op) >= (int)sizeof(s->target))
			rc = FB_E_INVALID;
		break;
	case P_QUERY:
	case P_EC2:
		if (!rc)
			rc = buf_putc(&p, '/');
		if (!rc)
			rc = build_query_body(s, err, errlen);
		break;
	case P_RESTJSON:
		if (!rc)
			rc = rj_prepare(s, &p, err, errlen);
		break;
	case P_RESTXML:
		if (s->rx) {
			if (!rc)
				rc = rx_prepare(s, &p, err, errlen);
			break;
		}
		s->s3_head = strcmp(call->op, "HeadObject") == 0;
		if (strcmp(call->op, "PutObject") != 0 && !s->s3_head) {
			snprintf(err, errlen, "unsupported s3 operation '%.32s'", call->op);
			rc = FB_E_INVALID;
			goto out;
		}
		if (!call->bucket || !*call->bucket || !call->key || !*call->key) {
			snprintf(err, errlen, "s3 %s needs a bucket and a key", call->op);
			rc = FB_E_INVALID;
			goto out;
		}
		if (!rc && s->ep.s3_path_style) {
			rc = buf_putc(&p, '/');
			if (!rc)
				rc = sigv4_uri_encode(&p, call->bucket, strlen(call->bucket), 0);
		}
		if (!rc)
			rc = buf_putc(&p, '/');
		if (!rc)
			rc = sigv4_uri_encode(&p, call->key, strlen(call->key), 1);
		break;
	}
	if (rc)
		goto out;
	s->method = "POST";
	if (s->rj) {
		s->method = s->rj->method;
		s->payload = s->body.data ? s->body.data : "";
		s->payload_len = s->body.len;
	} else if (s->rx) {
		s->method = s->rx->method;
		s->payload = s->body.data ? s->body.data : "";
		s->payload_len = s->body.len;
	} else if (s->proto->proto == P_RESTXML && s->s3_head) {
		/* HEAD sends no body, whatever the caller left in the call. */
		s->method = "HEAD";
		s->payload = "";
		s->payload_len = 0;
	} else if (s->proto->proto == P_RESTXML) {
		s->method = "PUT";
		s->payload = call->body;
		s->payload_len = call->body_len;
	} else {
		s->payload = s->body.data ? s->body.data : "";
		s->payload_len = s->body.len;
	}
	sigv4_sha256_hex(s->payload ? s->payload : "", s->payload_len, s->payload_hash);
	rc = buf_printf(&u, "%s://%s%s%s%s", s->ep.scheme, s->ep.host, p.data ? p.data : "/",
			s->query ? "?" : "", s->query ? s->query : "");
	if (rc)
		goto out;
	s->url = buf_detach(&u, NULL);
	s->path = buf_detach(&p, NULL);
	if (!s->url || !s->path)
		rc = FB_E_NOMEM;
out:
	if (rc == FB_E_TOO_LARGE && !err[0])
		snprintf(err, errlen, "request larger than the limit");
	buf_cleanup(&u);
	buf_cleanup(&p);
	return rc;
}

static void add_hdr(struct cstate_s *s, const char *name, const char *value)
{
	if (s->nhdrs < MAX_HDRS) {
		s->hdrs[s->nhdrs].name = name;
		s->hdrs[s->nhdrs].value = value;
		s->nhdrs++;
	}
}

static void sha256_b64(const void *data, size_t len, char out[48])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256(data ? data : (const void *)"", len, md);
	EVP_EncodeBlock((unsigned char *)out, md, sizeof(md));
}

/* Headers for one attempt (x-amz-date changes) and the signature. */
static enum fb_err cs_sign(struct cstate_s *s, int64_t now_ms, char *err, size_t errlen)
{
	struct aws_call *call = s->call;
	struct sigv4_header sh[MAX_HDRS];
	struct sigv4_request req;
	struct sigv4_params prm;
	time_t t = (time_t)(now_ms / 1000);
	struct tm tm;
	size_t i;
	enum fb_err rc;

	utc_tm((int64_t)t, &tm);
	strftime(s->amz_date, sizeof(s->amz_date), "%Y%m%dT%H%M%SZ", &tm);
	s->nhdrs = 0;
	add_hdr(s, "Host", s->ep.host);
	add_hdr(s, "X-Amz-Date", s->amz_date);
	switch (s->proto->proto) {
	case P_JSON:
		/* botocore metadata jsonVersion: "1.0" for dynamodb only (issue 22) */
		add_hdr(s, "Content-Type", strcmp(s->proto->service, "dynamodb") == 0
					   ? "application/x-amz-json-1.0" : "application/x-amz-json-1.1");
		add_hdr(s, "X-Amz-Target", s->target);
		break;
	case P_QUERY:
	case P_EC2:
		add_hdr(s, "Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
		break;
	case P_RESTJSON:
		/* botocore: application/json when there is a body at all */
		if (s->payload_len)
			add_hdr(s, "Content-Type", "application/json");
		break;
	case P_RESTXML: {
		int want_sum = 0, have_sum = 0;

		s->sent_sum = NULL;
		add_hdr(s, "X-Amz-Content-SHA256", s->payload_hash);
		if (s->rx && s->rx->md5)
			add_hdr(s, "Content-MD5", s->md5_b64);
		if (s->rx && s->rx->path)
			add_hdr(s, "x-amz-account-id", s->account);
		if (call->nheaders > MAX_HDRS - 8) {
			snprintf(err, errlen, "too many s3 headers");
			return FB_E_INVALID;
		}
		for (i = 0; i < call->nheaders; i++) {
			const struct aws_header *h = &call->headers[i];

			if (!h->name || !header_safe(h->name, 1) || (h->value && !header_safe(h->value, 0))) {
				snprintf(err, errlen, "invalid s3 header '%.64s'", h->name ? h->name : "");
				return FB_E_INVALID;
			}
			/* A checksum header without a value asks us to compute it. */
			if (strcasecmp(h->name, "x-amz-checksum-sha256") == 0 && (!h->value || !*h->value)) {
				want_sum = 1;
				continue;
			}
			if (strcasecmp(h->name, "x-amz-checksum-sha256") == 0) {
				have_sum = 1;
				if (!s->s3_head)
					s->sent_sum = h->value;
			}
			if (strcasecmp(h->name, "x-amz-sdk-checksum-algorithm") == 0 && h->value &&
			    strcasecmp(h->value, "SHA256") == 0 && !s->s3_head)
				want_sum = 1;
			if (strcasecmp(h->name, "host") == 0 || strcasecmp(h->name, "authorization") == 0 ||
			    strcasecmp(h->name, "x-amz-date") == 0 ||
			    strcasecmp(h->name, "x-amz-content-sha256") == 0 ||
			    strcasecmp(h->name, "x-amz-security-token") == 0)
				continue;
			add_hdr(s, h->name, h->value ? h->value : "");
		}
		if (want_sum && !have_sum && !s->s3_head) {
			sha256_b64(s->payload, s->payload_len, s->checksum_b64);
			add_hdr(s, "x-amz-checksum-sha256", s->checksum_b64);
			s->sent_sum = s->checksum_b64;
		}
		break;
	}
	}
	if (s->c->token)
		add_hdr(s, "X-Amz-Security-Token", s->c->token);
	for (i = 0; i < s->nhdrs; i++) {
		sh[i].name = s->hdrs[i].name;
		sh[i].value = s->hdrs[i].value;
	}
	memset(&req, 0, sizeof(req));
	req.method = s->method;
	req.path = s->path;
	req.query = s->query ? s->query : "";
	req.headers = sh;
	req.nheaders = s->nhdrs;
	req.payload = s->payload;
	req.payload_len = s->payload_len;
	req.payload_hash = s->payload_hash;
	memset(&prm, 0, sizeof(prm));
	prm.access_key = s->c->akid;
	prm.secret_key = s->c->secret;
	prm.session_token = s->c->token;
	prm.region = s->ep.signing_region;
	prm.service = s->ep.signing_name;
	prm.amz_date = s->amz_date;
	prm.normalize_path = s->proto->proto != P_RESTXML;
	prm.double_encode = s->proto->proto != P_RESTXML;
	buf_reset(&s->auth);
	rc = sigv4_authorization(&req, &prm, &s->auth);
	if (rc) {
		snprintf(err, errlen, "cannot sign request: %s", fb_strerror(rc));
		return rc;
	}
	add_hdr(s, "Authorization", s->auth.data);
	return FB_OK;
}

/* ---- the loop ------------------------------------------------------------------- */

static void finish_call(struct cstate_s *s, enum fb_err rc, int64_t now)
{
	struct aws_call *call = s->call;

	call->rc = rc;
	call->elapsed_ms = now - call->started_ms;
	s->st = CS_DONE;
}

/* "<what> (after N attempts)" into err.message when more than one attempt
 * was made, so every report says how hard we tried. */
static void set_message(struct aws_call *call, const char *what_in)
{
	char what[sizeof(call->err.message)];

	copy_str(what, sizeof(what), what_in); /* what_in may be err.message */
	if (call->err.attempts > 1)
		snprintf(call->err.message, sizeof(call->err.message), "%.440s (after %d attempts)",
			 what, call->err.attempts);
	else
		snprintf(call->err.message, sizeof(call->err.message), "%s", what);
}

static void fail_timeout(struct cstate_s *s, int64_t now)
{
	char msg[480];
	int n = s->call->err.attempts;

	if (n == 0)
		snprintf(msg, sizeof(msg), "deadline reached before the first attempt");
	else
		snprintf(msg, sizeof(msg), "deadline reached after %d attempt%s: %.400s", n,
			 n == 1 ? "" : "s", s->last_problem[0] ? s->last_problem : "no answer");
	snprintf(s->call->err.message, sizeof(s->call->err.message), "%s", msg);
	finish_call(s, FB_E_TIMEOUT, now);
}

static int64_t deadline_left(const struct aws_shared *sh, int64_t now)
{
	if (!sh->deadline_ms)
		return INT64_MAX;
	return sh->deadline_ms - AWS_DEADLINE_MARGIN_MS - now;
}

static void start_attempt(struct cstate_s *s, int64_t now)
{
	struct aws_shared *sh = s->c->sh;
	struct aws_call *call = s->call;
	int64_t left = deadline_left(sh, now);
	char err[256] = "";
	enum fb_err rc;

	/* Too little time for even a connect: stop instead of starting an
	 * attempt doomed to be cut off. */
	if (left < 10) {
		fail_timeout(s, now);
		return;
	}
	rc = cs_sign(s, now, err, sizeof(err));
	if (rc) {
		copy_str(call->err.message, sizeof(call->err.message), err);
		finish_call(s, rc, now);
		return;
	}
	memset(&s->x, 0, sizeof(s->x));
	s->x.req.method = s->method;
	s->x.req.url = s->url;
	s->x.req.headers = s->hdrs;
	s->x.req.nheaders = s->nhdrs;
	s->x.req.body = s->payload;
	s->x.req.body_len = s->payload_len;
	s->x.req.timeout_ms = left < AWS_ATTEMPT_TIMEOUT_MS ? left : AWS_ATTEMPT_TIMEOUT_MS;
	s->x.req.connect_timeout_ms = left < AWS_CONNECT_TIMEOUT_MS ? left : AWS_CONNECT_TIMEOUT_MS;
	s->x.user = s;
	call->err.attempts++;
	rc = sh->t->start(sh->t->ctx, &s->x);
	if (rc) {
		copy_str(call->err.message, sizeof(call->err.message), "cannot start http request");
		finish_call(s, rc, now);
		return;
	}
	s->st = CS_FLIGHT;
}

/* Rewrites every "\u0000" escape in a JSON text to "\ufffd" in place (same
 * length): cJSON would end the string at the NUL and lose its tail (aws.h).
 * A backslash starts an escape; the escaped character is skipped whole, so
 * "\\u0000" (an escaped backslash, then text) is left alone. */
static void json_nul_to_fffd(char *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i++) {
		if (p[i] != '\\')
			continue;
		if (p[i + 1] == 'u' && i + 5 < n && memcmp(p + i + 2, "0000", 4) == 0)
			memcpy(p + i + 2, "fffd", 4);
		i++; /* the escaped character */
	}
}

/* A 2xx from S3 counts only when it is S3's confirmation (aws.h): an ETag,
 * the checksum echoed as sent, no <Error> document. FB_E_AWS with
 * call->err filled otherwise. */
static enum fb_err s3_check_answer(struct cstate_s *s, const struct http_response *r)
{
	struct aws_call *call = s->call;
	char v[512];

	if (r->body.len) {
		struct aws_error e;

		memset(&e, 0, sizeof(e));
		aws_parse_error(r, &e);
		if (e.code[0]) {
			copy_str(call->err.code, sizeof(call->err.code), e.code);
			snprintf(call->err.message, sizeof(call->err.message),
				 "s3 answered %s with status %ld and an error document: %.400s", call->op,
				 r->status, e.message);
			return FB_E_AWS;
		}
	}
	if (!http_response_header(r, "ETag", v, sizeof(v)) || !v[0]) {
		copy_str(call->err.code, sizeof(call->err.code), AWS_CODE_INCOMPLETE_ANSWER);
		snprintf(call->err.message, sizeof(call->err.message),
			 "s3 answered %s with status %ld but no ETag: not a confirmation", call->op,
			 r->status);
		return FB_E_AWS;
	}
	if (!s->sent_sum)
		return FB_OK;
	if (!http_response_header(r, "x-amz-checksum-sha256", v, sizeof(v)) || !v[0]) {
		copy_str(call->err.code, sizeof(call->err.code), AWS_CODE_INCOMPLETE_ANSWER);
		snprintf(call->err.message, sizeof(call->err.message),
			 "s3 answered %s without x-amz-checksum-sha256 (sent '%.64s'): the stored "
			 "object's checksum is not confirmed", call->op, s->sent_sum);
		return FB_E_AWS;
	}
	if (strcmp(v, s->sent_sum) != 0) {
		copy_str(call->err.code, sizeof(call->err.code), AWS_CODE_CHECKSUM_MISMATCH);
		snprintf(call->err.message, sizeof(call->err.message),
			 "s3 answered %s with x-amz-checksum-sha256 '%.64s', sent '%.64s'", call->op, v,
			 s->sent_sum);
		return FB_E_AWS;
	}
	return FB_OK;
}

static enum fb_err parse_success(struct cstate_s *s)
{
	struct http_response *r = &s->x.resp;
	struct aws_call *call = s->call;
	char err[200];
	enum fb_err rc = FB_OK;

	switch (s->proto->proto) {
	case P_JSON:
	case P_RESTJSON:
		if (r->body.len == 0) {
			call->out = cJSON_CreateObject();
		} else {
			json_nul_to_fffd(r->body.data, r->body.len);
			call->out = cJSON_ParseWithLength(r->body.data, r->body.len);
		}
		if (!call->out) {
			copy_str(call->err.message, sizeof(call->err.message), "cannot parse json answer");
			rc = FB_E_PARSE;
		}
		break;
	case P_QUERY:
	case P_EC2:
		rc = xml_to_json(r->body.data ? r->body.data : "", r->body.len, &call->out, NULL, 0,
				 err, sizeof(err));
		if (rc)
			snprintf(call->err.message, sizeof(call->err.message), "cannot parse xml answer: %s", err);
		break;
	case P_RESTXML: {
		static const char *const map[][2] = {
			{ "ETag", "ETag" },
			{ "x-amz-version-id", "VersionId" },
			{ "x-amz-checksum-sha256", "ChecksumSHA256" },
			{ "x-amz-server-side-encryption", "ServerSideEncryption" },
			{ "x-amz-server-side-encryption-aws-kms-key-id", "SSEKMSKeyId" },
		};
		char v[512];
		size_t i;

		if (s->rx) {
			/* The answer is the XML payload, as the query protocol's
			 * (xml.h); no body (Put/Delete) is {}. */
			if (!r->body.len) {
				call->out = cJSON_CreateObject();
				rc = call->out ? FB_OK : FB_E_NOMEM;
			} else {
				rc = xml_to_json(r->body.data, r->body.len, &call->out, NULL, 0, err, sizeof(err));
				if (rc)
					snprintf(call->err.message, sizeof(call->err.message),
						 "cannot parse xml answer: %s", err);
				else if (!cJSON_IsObject(call->out)) {
					/* <PolicyStatus/>: an element with nothing in it */
					cJSON_Delete(call->out);
					call->out = cJSON_CreateObject();
					rc = call->out ? FB_OK : FB_E_NOMEM;
				}
			}
			break;
		}
		rc = s3_check_answer(s, r);
		if (rc) {
			http_response_header(r, "x-amz-request-id", call->err.request_id,
					     sizeof(call->err.request_id));
			return rc;
		}
		call->out = cJSON_CreateObject();
		if (!call->out)
			return FB_E_NOMEM;
		for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
			if (http_response_header(r, map[i][0], v, sizeof(v)))
				cJSON_AddStringToObject(call->out, map[i][1], v);
		/* HeadObject: the object's size (a HEAD answer has no body, its
		 * Content-Length is the object's). */
		if (s->s3_head && http_response_header(r, "Content-Length", v, sizeof(v))) {
			char *end = NULL;
			unsigned long long n = strtoull(v, &end, 10);

			if (end != v && !*end)
				cJSON_AddNumberToObject(call->out, "ContentLength", (double)n);
		}
		break;
	}
	}
	if (rc == FB_OK &&
	    !http_response_header(r, s->proto->proto == P_RESTXML ? "x-amz-request-id"
								  : "x-amzn-RequestId",
				  call->err.request_id, sizeof(call->err.request_id))) {
		/* query answers carry it in the body (EC2: requestId) */
		const cJSON *v = find_key(call->out, "RequestId", 0);

		if (!v)
			v = find_key(call->out, "requestId", 0);
		if (v)
			copy_str(call->err.request_id, sizeof(call->err.request_id), v->valuestring);
	}
	return rc;
}

/* Names a body-less S3 HEAD error from its status (aws.h). */
static void s3_head_error(struct cstate_s *s, const struct http_response *r)
{
	static const struct {
		long status;
		const char *code, *reason;
	} names[] = {
		{ 301, "PermanentRedirect", "Moved Permanently" },
		{ 307, "TemporaryRedirect", "Temporary Redirect" },
		{ 400, "BadRequest", "Bad Request" },
		{ 403, "AccessDenied", "Forbidden (access denied; also a missing key without s3:ListBucket)" },
		{ 404, "NotFound", "Not Found" },
		{ 405, "MethodNotAllowed", "Method Not Allowed" },
		{ 408, "RequestTimeout", "Request Timeout" },
		{ 409, "Conflict", "Conflict" },
		{ 412, "PreconditionFailed", "Precondition Failed" },
		{ 500, "InternalError", "Internal Server Error" },
		{ 501, "NotImplemented", "Not Implemented" },
		{ 503, "SlowDown", "Service Unavailable (slow down)" },
	};
	struct aws_error *err = &s->call->err;
	const char *reason = NULL;
	char region[64];
	size_t i;

	snprintf(err->code, sizeof(err->code), "%ld", r->status);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].status == r->status) {
			copy_str(err->code, sizeof(err->code), names[i].code);
			reason = names[i].reason;
		}
	if (reason)
		copy_str(err->message, sizeof(err->message), reason);
	else
		snprintf(err->message, sizeof(err->message), "http status %ld", r->status);
	/* A wrong-region answer names the bucket's region (S3 sends it on
	 * 301 and 400 HEAD answers). */
	if (http_response_header(r, "x-amz-bucket-region", region, sizeof(region)) && region[0] &&
	    strcmp(region, s->ep.signing_region) != 0)
		snprintf(err->message, sizeof(err->message),
			 "%.40s: bucket '%.63s' is in region '%.63s', not '%.31s'",
			 reason ? reason : "wrong region", s->call->bucket, region, s->ep.signing_region);
}

/* Decides what an answered (or failed) attempt means. */
static void on_done(struct cstate_s *s, int64_t now)
{
	struct aws_shared *sh = s->c->sh;
	struct aws_call *call = s->call;
	struct http_response *r = &s->x.resp;
	enum aws_retry_class cls = AWS_RETRY_NO;
	int timeout_err = 0;
	int64_t delay;

	s->st = CS_READY;
	call->err.http_status = r->status;
	if (r->rc == FB_OK && r->status >= 200 && r->status < 300) {
		enum fb_err rc;

		call->err.code[0] = '\0';
		rc = parse_success(s);
		if (rc != FB_E_AWS) {
			call->err.code[0] = '\0';
			if (rc == FB_OK) {
				call->err.message[0] = '\0';
				sh->quota += s->quota_held ? s->quota_held : QUOTA_SUCCESS_REFUND;
				if (sh->quota > QUOTA_MAX)
					sh->quota = QUOTA_MAX;
			}
			finish_call(s, rc, now);
			goto out;
		}
		/* A 2xx that is not S3's confirmation (s3_check_answer): retried
		 * like a 5xx, as botocore does with S3's 200-with-error. */
		snprintf(s->last_problem, sizeof(s->last_problem), "%.120s: %.270s", call->err.code,
			 call->err.message);
		cls = aws_retry_classify(500, call->err.code);
	} else if (r->rc == FB_OK) {
		aws_parse_error(r, &call->err);
		/* A HEAD error has no body to name it: S3's answer is the status. */
		if (s->s3_head && !call->err.code[0])
			s3_head_error(s, r);
		snprintf(s->last_problem, sizeof(s->last_problem), "%.120s%s%.270s",
			 call->err.code, call->err.code[0] ? ": " : "", call->err.message);
		cls = aws_retry_classify(r->status, call->err.code);
	} else {
		call->err.code[0] = '\0';
		call->err.request_id[0] = '\0';
		snprintf(s->last_problem, sizeof(s->last_problem), "%.300s",
			 r->errmsg[0] ? r->errmsg : fb_strerror(r->rc));
		timeout_err = r->rc == FB_E_TIMEOUT;
		if (r->transient)
			cls = AWS_RETRY_TRANSIENT;
		if (r->rc == FB_E_TOO_LARGE) {
			set_message(call, s->last_problem);
			finish_call(s, FB_E_TOO_LARGE, now);
			goto out;
		}
	}
	/* The attempt was cut off by the deadline itself. */
	if (timeout_err && deadline_left(sh, now) < 10) {
		fail_timeout(s, now);
		goto out;
	}
	if (cls == AWS_RETRY_NO ||
	    call->err.attempts >= (call->max_attempts > 0 ? call->max_attempts : sh->max_attempts) ||
	    sh->quota < (timeout_err ? QUOTA_TIMEOUT_COST : QUOTA_RETRY_COST)) {
		set_message(call, s->last_problem[0] && r->rc != FB_OK ? s->last_problem
								     : call->err.message);
		finish_call(s, r->rc != FB_OK ? r->rc
				: (s->s3_head && r->status == 404) ? FB_E_NOTFOUND : FB_E_AWS, now);
		goto out;
	}
	delay = aws_backoff_ms(call->err.attempts, cls == AWS_RETRY_THROTTLE, rng_next(sh));
	if (deadline_left(sh, now + delay) < 10) {
		fail_timeout(s, now);
		goto out;
	}
	s->quota_held = timeout_err ? QUOTA_TIMEOUT_COST : QUOTA_RETRY_COST;
	sh->quota -= s->quota_held;
	s->wake_ms = now + delay;
out:
	http_response_cleanup(r);
}

enum fb_err aws_call_run_all(struct aws_client *c, struct aws_call *calls, size_t n)
{
	struct http_transport *t = c->sh->t;
	struct cstate_s *st;
	size_t i, pending = 0;
	enum fb_err first = FB_OK;
	int64_t now;

	st = calloc(n ? n : 1, sizeof(*st));
	if (!st)
		return FB_E_NOMEM;
	now = t->now_ms(t->ctx);
	for (i = 0; i < n; i++) {
		struct aws_call *call = &calls[i];
		char err[256] = "";
		enum fb_err rc;

		cJSON_Delete(call->out);
		call->out = NULL;
		memset(&call->err, 0, sizeof(call->err));
		call->rc = FB_OK;
		call->started_ms = now;
		call->elapsed_ms = 0;
		st[i].call = call;
		st[i].c = call->client ? call->client : c;
		st[i].wake_ms = now;
		if (st[i].c->sh != c->sh) {
			snprintf(err, sizeof(err), "the call's client does not share the round's connection pool");
			rc = FB_E_INVALID;
		} else {
			rc = cs_prepare(&st[i], err, sizeof(err));
		}
		if (rc) {
			copy_str(call->err.message, sizeof(call->err.message), err);
			finish_call(&st[i], rc, now);
		} else {
			pending++;
		}
	}
	while (pending) {
		struct http_exchange *done = NULL;
		int64_t next_wake = INT64_MAX, timeout;
		int inflight = 0;
		enum fb_err rc;

		now = t->now_ms(t->ctx);
		for (i = 0; i < n; i++) {
			if (st[i].st == CS_READY && st[i].wake_ms <= now) {
				start_attempt(&st[i], now);
				if (st[i].st == CS_DONE)
					pending--;
			}
			if (st[i].st == CS_FLIGHT)
				inflight = 1;
			else if (st[i].st == CS_READY && st[i].wake_ms < next_wake)
				next_wake = st[i].wake_ms;
		}
		if (!pending)
			break;
		timeout = next_wake == INT64_MAX ? 1000 : next_wake - now;
		if (inflight && timeout > 1000)
			timeout = 1000;
		if (timeout < 0)
			timeout = 0;
		rc = t->wait(t->ctx, timeout, &done);
		now = t->now_ms(t->ctx);
		if (rc) {
			/* The transport itself broke: end everything in flight. */
			for (i = 0; i < n; i++) {
				if (st[i].st == CS_DONE)
					continue;
				if (st[i].st == CS_FLIGHT) {
					t->cancel(t->ctx, &st[i].x);
					http_response_cleanup(&st[i].x.resp);
				}
				copy_str(st[i].call->err.message, sizeof(st[i].call->err.message),
					 "http transport failed");
				finish_call(&st[i], rc, now);
				pending--;
			}
			break;
		}
		if (done) {
			struct cstate_s *s = done->user;

			on_done(s, now);
			if (s->st == CS_DONE)
				pending--;
		}
	}
	for (i = 0; i < n; i++) {
		if (calls[i].rc && first == FB_OK)
			first = calls[i].rc;
		cs_cleanup(&st[i]);
	}
	free(st);
	return first;
}

enum fb_err aws_call_run(struct aws_client *c, struct aws_call *call)
{
	enum fb_err rc = aws_call_run_all(c, call, 1);

	if (rc == FB_E_NOMEM && call->rc == FB_OK)
		call->rc = rc;
	return call->rc;
}

void aws_call_cleanup(struct aws_call *call)
{
	if (!call)
		return;
	cJSON_Delete(call->out);
	call->out = NULL;
}

enum fb_err aws_do(struct aws_client *c, const char *service, const char *op,
		   const cJSON *in, cJSON **out, struct aws_error *err)
{
	struct aws_call call;
	enum fb_err rc;

	memset(&call, 0, sizeof(call));
	call.service = service;
	call.op = op;
	call.in = in;
	rc = aws_call_run(c, &call);
	if (out) {
		*out = call.out;
		call.out = NULL;
	}
	if (err)
		*err = call.err;
	aws_call_cleanup(&call);
	return rc;
}

/* ---- STS AssumeRole --------------------------------------------------------------- */

/* "2024-05-01T12:00:00Z" or with fractional seconds -> epoch ms; -1 if bad. */
static int64_t parse_iso8601(const char *s)
{
	struct tm tm;
	const char *p;

	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return -1;
	if (*p == '.')
		while (isdigit((unsigned char)*++p))
			;
	if (*p != 'Z' && *p != '\0')
		return -1;
	return (int64_t)timegm(&tm) * 1000;
}

static int session_name_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 2 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || strchr("_+=,.@-", s[i])))
			return 0;
	return 1;
}

enum fb_err aws_client_assume_role(struct aws_client *c, const char *role_arn,
				   const char *session_name,
				   struct aws_client **out, struct aws_error *err)
{
	struct aws_error local;
	struct role_entry *e;
	cJSON *in = NULL, *res = NULL;
	const cJSON *cr;
	const char *akid, *secret, *token, *exp;
	int64_t now = c->sh->t->now_ms(c->sh->t->ctx), expires;
	enum fb_err rc;

	if (!err)
		err = &local;
	memset(err, 0, sizeof(*err));
	*out = NULL;
	if (!session_name || !*session_name)
		session_name = "firebreak";
	if (!role_arn || strncmp(role_arn, "arn:", 4) != 0 || strlen(role_arn) > 2048 ||
	    !session_name_ok(session_name)) {
		snprintf(err->message, sizeof(err->message), "invalid role arn or session name");
		return FB_E_INVALID;
	}
	for (e = c->roles; e; e = e->next)
		if (strcmp(e->arn, role_arn) == 0 && strcmp(e->session, session_name) == 0 &&
		    now < e->expires_ms - ROLE_REFRESH_MS)
			return client_derive(c, c->region, e->akid, e->secret, e->token, out);

	in = cJSON_CreateObject();
	if (!in || !cJSON_AddStringToObject(in, "RoleArn", role_arn) ||
	    !cJSON_AddStringToObject(in, "RoleSessionName", session_name) ||
	    !cJSON_AddStringToObject(in, "DurationSeconds", "3600")) {
		rc = FB_E_NOMEM;
		goto out;
	}
	rc = aws_do(c, "sts", "AssumeRole", in, &res, err);
	if (rc)
		goto out;
	cr = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(res, "AssumeRoleResult"), "Credentials");
	akid = str_of(cr, "AccessKeyId");
	secret = str_of(cr, "SecretAccessKey");
	token = str_of(cr, "SessionToken");
	exp = str_of(cr, "Expiration");
	expires = exp ? parse_iso8601(exp) : -1;
	if (!akid || !*akid || !secret || !*secret || !token || expires < 0) {
		snprintf(err->message, sizeof(err->message), "cannot parse sts AssumeRole answer");
		rc = FB_E_PARSE;
		goto out;
	}
	for (e = c->roles; e && (strcmp(e->arn, role_arn) != 0 || strcmp(e->session, session_name) != 0);
	     e = e->next)
		;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e || !(e->arn = strdup(role_arn)) || !(e->session = strdup(session_name))) {
			if (e)
				free(e->arn);
			free(e);
			rc = FB_E_NOMEM;
			goto out;
		}
		e->next = c->roles;
		c->roles = e;
	}
	free(e->akid);
	wipe_free(e->secret);
	wipe_free(e->token);
	e->akid = strdup(akid);
	e->secret = strdup(secret);
	e->token = strdup(token);
	e->expires_ms = expires;
	if (!e->akid || !e->secret || !e->token) {
		e->expires_ms = 0;
		rc = FB_E_NOMEM;
		goto out;
	}
	rc = client_derive(c, c->region, e->akid, e->secret, e->token, out);
out:
	if (res) {
		/* The answer holds the secret: wipe it before freeing. */
		cJSON *s = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(res, "AssumeRoleResult"), "Credentials"),
			"SecretAccessKey");
		if (cJSON_IsString(s))
			OPENSSL_cleanse(s->valuestring, strlen(s->valuestring));
	}
	cJSON_Delete(res);
	cJSON_Delete(in);
	return rc;
}
