/*
 * test_aws: the AWS layer over a fake transport on a virtual clock.
 *
 * The fake records every request (method, url, headers, body, timeouts,
 * start time) and answers from a script (delay, transport rc, status,
 * headers, body). Time only moves inside the fake, so retry backoff and
 * deadlines are checked exactly, without sleeping and without timing
 * assertions on a real clock.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws.h"
#include "http.h"
#include "sigv4.h"
#include "wire.h"

/* ---- the fake transport ------------------------------------------------------ */

#define T0_MS 1704067200000LL /* 2024-01-01T00:00:00Z */
#define MAXLOG 64

struct fake_answer {
	int64_t delay_ms;
	enum fb_err rc;     /* transport failure when != FB_OK */
	int transient;
	long status;
	const char *headers; /* "Name: v\r\n..." */
	const char *body;
};

struct logged {
	char method[8];
	char url[1024];
	char headers[8192]; /* "name: value\n" */
	char body[8192];
	int64_t at_ms, timeout_ms, connect_timeout_ms;
};

struct flight {
	struct http_exchange *x;
	int64_t done_at;
	struct fake_answer a;
};

struct fake {
	int64_t now;
	struct fake_answer script[MAXLOG];
	size_t nscript, next;
	struct logged log[MAXLOG];
	size_t nlog;
	struct flight fl[MAXLOG];
	size_t nfl;
	int max_parallel;
};

static enum fb_err fake_start(void *ctx, struct http_exchange *x)
{
	struct fake *f = ctx;
	struct logged *l = &f->log[f->nlog < MAXLOG ? f->nlog : MAXLOG - 1];
	struct fake_answer a = { 0, FB_OK, 0, 200, "", "{}" };
	size_t i, n = 0;

	if (f->nlog < MAXLOG)
		f->nlog++;
	snprintf(l->method, sizeof(l->method), "%s", x->req.method);
	snprintf(l->url, sizeof(l->url), "%s", x->req.url);
	l->headers[0] = '\0';
	for (i = 0; i < x->req.nheaders; i++)
		n += (size_t)snprintf(l->headers + n, sizeof(l->headers) - n, "%s: %s\n",
				      x->req.headers[i].name, x->req.headers[i].value);
	snprintf(l->body, sizeof(l->body), "%.*s", (int)x->req.body_len,
		 x->req.body ? (const char *)x->req.body : "");
	l->at_ms = f->now;
	l->timeout_ms = x->req.timeout_ms;
	l->connect_timeout_ms = x->req.connect_timeout_ms;

	if (f->next < f->nscript)
		a = f->script[f->next++];
	http_response_init(&x->resp, x->req.max_response);
	f->fl[f->nfl].x = x;
	f->fl[f->nfl].a = a;
	if (a.delay_ms > x->req.timeout_ms) {
		/* what curl does when the timer fires first */
		f->fl[f->nfl].a.rc = FB_E_TIMEOUT;
		f->fl[f->nfl].a.transient = 1;
		f->fl[f->nfl].done_at = f->now + x->req.timeout_ms;
	} else {
		f->fl[f->nfl].done_at = f->now + a.delay_ms;
	}
	f->nfl++;
	if ((int)f->nfl > f->max_parallel)
		f->max_parallel = (int)f->nfl;
	return FB_OK;
}

static enum fb_err fake_wait(void *ctx, int64_t timeout_ms, struct http_exchange **done)
{
	struct fake *f = ctx;
	size_t i, best = 0;
	struct flight fl;

	*done = NULL;
	assert_true(timeout_ms >= 0);
	for (i = 1; i < f->nfl; i++)
		if (f->fl[i].done_at < f->fl[best].done_at)
			best = i;
	if (f->nfl == 0 || f->fl[best].done_at > f->now + timeout_ms) {
		f->now += timeout_ms;
		return FB_OK;
	}
	fl = f->fl[best];
	memmove(&f->fl[best], &f->fl[best + 1], (f->nfl - best - 1) * sizeof(fl));
	f->nfl--;
	if (fl.done_at > f->now)
		f->now = fl.done_at;
	fl.x->resp.rc = fl.a.rc;
	fl.x->resp.transient = fl.a.transient;
	if (fl.a.rc == FB_OK) {
		fl.x->resp.status = fl.a.status;
		buf_puts(&fl.x->resp.headers, fl.a.headers ? fl.a.headers : "");
		if (fl.a.body && buf_puts(&fl.x->resp.body, fl.a.body) != FB_OK)
			fl.x->resp.rc = FB_E_TOO_LARGE;
	} else {
		snprintf(fl.x->resp.errmsg, sizeof(fl.x->resp.errmsg), "fake transport error");
	}
	*done = fl.x;
	return FB_OK;
}

static void fake_cancel(void *ctx, struct http_exchange *x)
{
	struct fake *f = ctx;
	size_t i;

	for (i = 0; i < f->nfl; i++)
		if (f->fl[i].x == x) {
			memmove(&f->fl[i], &f->fl[i + 1], (f->nfl - i - 1) * sizeof(f->fl[0]));
			f->nfl--;
			return;
		}
}

static int64_t fake_now(void *ctx)
{
	return ((struct fake *)ctx)->now;
}

static void fake_destroy(void *ctx)
{
	(void)ctx; /* the test owns the fake */
}

/* ---- fixtures ------------------------------------------------------------------- */

static const char *const *env_now;

static const char *fake_getenv(const char *name)
{
	size_t n = strlen(name);
	const char *const *e;

	for (e = env_now; e && *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

static struct fake F;

static struct aws_client *client_env(const char *region, const char *token, const char *const *env)
{
	struct http_transport *t = calloc(1, sizeof(*t));
	struct aws_client_options o;
	struct aws_client *c = NULL;
	char err[200] = "";

	assert_non_null(t);
	memset(&F, 0, sizeof(F));
	F.now = T0_MS;
	t->ctx = &F;
	t->start = fake_start;
	t->wait = fake_wait;
	t->cancel = fake_cancel;
	t->now_ms = fake_now;
	t->destroy = fake_destroy;
	env_now = env;
	memset(&o, 0, sizeof(o));
	o.region = region;
	o.access_key = "AKIDEXAMPLE";
	o.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	o.session_token = token;
	o.transport = t;
	o.getenv_fn = fake_getenv;
	o.jitter_seed = 42;
	if (aws_client_new_opts(&c, &o, err, sizeof(err)) != FB_OK)
		fail_msg("aws_client_new_opts: %s", err);
	return c;
}

static struct aws_client *client(const char *region, const char *token)
{
	return client_env(region, token, NULL);
}

static void script(const struct fake_answer *a, size_t n)
{
	memcpy(F.script, a, n * sizeof(*a));
	F.nscript = n;
	F.next = 0;
}

/* Value of header `name` in a logged request ("" if absent). */
static const char *hdr(const struct logged *l, const char *name)
{
	static char v[2048];
	size_t n = strlen(name);
	const char *p = l->headers;

	while (*p) {
		const char *e = strchr(p, '\n');

		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			snprintf(v, sizeof(v), "%.*s", (int)(e - p - n - 2), p + n + 2);
			return v;
		}
		p = e + 1;
	}
	return "";
}

/* The SignedHeaders list of the Authorization header. */
static const char *signed_headers(const struct logged *l)
{
	static char v[512];
	const char *a = hdr(l, "Authorization"), *p = strstr(a, "SignedHeaders=");
	size_t n;

	if (!p)
		return "";
	p += strlen("SignedHeaders=");
	n = strcspn(p, ",");
	snprintf(v, sizeof(v), "%.*s", (int)n, p);
	return v;
}

static const char *scope(const struct logged *l)
{
	static char v[256];
	const char *a = hdr(l, "Authorization"), *p = strstr(a, "Credential=");
	size_t n;

	if (!p)
		return "";
	p += strlen("Credential=");
	n = strcspn(p, ",");
	snprintf(v, sizeof(v), "%.*s", (int)n, p);
	return v;
}

/* ---- request shapes ------------------------------------------------------------- */

static void test_aws__json_request_shape(void **state)
{
	struct aws_client *c = client("us-east-1", NULL);
	struct fake_answer a[] = {
		{ 3, FB_OK, 0, 200, "x-amzn-RequestId: req-1\r\n", "{\"KeyMetadata\":{\"KeyState\":\"Enabled\"}}" },
	};
	cJSON *in = cJSON_Parse("{\"KeyId\":\"alias/x\"}"), *out = NULL;
	struct aws_error err;
	const struct logged *l;

	(void)state;
	script(a, 1);
	assert_int_equal(aws_do(c, "kms", "DescribeKey", in, &out, &err), FB_OK);
	assert_int_equal(F.nlog, 1);
	l = &F.log[0];
	assert_string_equal(l->method, "POST");
	assert_string_equal(l->url, "https://kms.us-east-1.amazonaws.com/");
	assert_string_equal(hdr(l, "Host"), "kms.us-east-1.amazonaws.com");
	assert_string_equal(hdr(l, "X-Amz-Target"), "TrentService.DescribeKey");
	assert_string_equal(hdr(l, "Content-Type"), "application/x-amz-json-1.1");
	assert_string_equal(hdr(l, "X-Amz-Date"), "20240101T000000Z");
	assert_string_equal(l->body, "{\"KeyId\":\"alias/x\"}");
	assert_string_equal(scope(l), "AKIDEXAMPLE/20240101/us-east-1/kms/aws4_request");
	assert_string_equal(signed_headers(l), "content-type;host;x-amz-date;x-amz-target");
	assert_string_equal(hdr(l, "X-Amz-Security-Token"), "");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(out, "KeyMetadata"), "KeyState")->valuestring,
			    "Enabled");
	assert_int_equal(err.attempts, 1);
	assert_string_equal(err.request_id, "req-1");
	cJSON_Delete(in);
	cJSON_Delete(out);
	aws_client_free(c);
}

static void test_aws__json_targets_per_service(void **state)
{
	static const char *rows[][3] = {
		{ "secretsmanager", "GetSecretValue", "secretsmanager.GetSecretValue" },
		{ "ecs", "UpdateService", "AmazonEC2ContainerServiceV20141113.UpdateService" },
		{ "cloudtrail", "LookupEvents", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents" },
		{ "logs", "FilterLogEvents", "Logs_20140328.FilterLogEvents" },
		{ "kms", "CancelKeyDeletion", "TrentService.CancelKeyDeletion" },
		/* issue 19: botocore wafv2 metadata targetPrefix, jsonVersion 1.1 */
		{ "wafv2", "UpdateIPSet", "AWSWAF_20190729.UpdateIPSet" },
		/* issue 23: botocore cognito-idp metadata targetPrefix, jsonVersion 1.1 */
		{ "cognito-idp", "AdminUserGlobalSignOut", "AWSCognitoIdentityProviderService.AdminUserGlobalSignOut" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct aws_client *c = client("eu-west-1", NULL);
		struct aws_error err;
		cJSON *out = NULL;
		char host[128];

		assert_int_equal(aws_do(c, rows[i][0], rows[i][1], NULL, &out, &err), FB_OK);
		assert_string_equal(hdr(&F.log[0], "X-Amz-Target"), rows[i][2]);
		assert_string_equal(F.log[0].body, "{}");
		snprintf(host, sizeof(host), "%s.eu-west-1.amazonaws.com", rows[i][0]);
		assert_string_equal(hdr(&F.log[0], "Host"), host);
		assert_string_equal(wire_protocol(rows[i][0]), "json");
		cJSON_Delete(out);
		aws_client_free(c);
	}
}

/* issue 22: DynamoDB is awsJson 1.0 (botocore dynamodb metadata:
 * jsonVersion "1.0", targetPrefix DynamoDB_20120810); the other JSON
 * services keep 1.1. CloudWatch (monitoring) is query, apiVersion
 * 2010-08-01, lists as X.member.N. */
static void test_aws__dynamodb_json10_and_monitoring_query(void **state)
{
	struct aws_client *c = client("eu-west-1", NULL);
	struct fake_answer q[] = { { 0, FB_OK, 0, 200, "",
		"<GetMetricStatisticsResponse><GetMetricStatisticsResult><Datapoints><member><Sum>5.0</Sum>"
		"</member></Datapoints><Label>ConsumedReadCapacityUnits</Label></GetMetricStatisticsResult>"
		"</GetMetricStatisticsResponse>" } };
	cJSON *in = cJSON_Parse("{\"TableName\":\"orders\"}"), *out = NULL;
	struct aws_error err;

	(void)state;
	assert_int_equal(aws_do(c, "dynamodb", "DescribeTable", in, &out, &err), FB_OK);
	assert_string_equal(hdr(&F.log[0], "X-Amz-Target"), "DynamoDB_20120810.DescribeTable");
	assert_string_equal(hdr(&F.log[0], "Content-Type"), "application/x-amz-json-1.0");
	assert_string_equal(hdr(&F.log[0], "Host"), "dynamodb.eu-west-1.amazonaws.com");
	assert_string_equal(F.log[0].body, "{\"TableName\":\"orders\"}");
	assert_string_equal(wire_protocol("dynamodb"), "json");
	cJSON_Delete(in);
	cJSON_Delete(out);
	out = NULL;
	aws_client_free(c);

	c = client("eu-west-1", NULL);
	script(q, 1);
	in = cJSON_Parse("{\"Namespace\":\"AWS/DynamoDB\",\"MetricName\":\"ConsumedReadCapacityUnits\","
			 "\"Dimensions\":[{\"Name\":\"TableName\",\"Value\":\"orders\"}],"
			 "\"Statistics\":[\"Sum\"],\"Period\":3600}");
	assert_int_equal(aws_do(c, "monitoring", "GetMetricStatistics", in, &out, &err), FB_OK);
	assert_string_equal(hdr(&F.log[0], "Host"), "monitoring.eu-west-1.amazonaws.com");
	assert_string_equal(F.log[0].body,
			    "Action=GetMetricStatistics&Version=2010-08-01&Namespace=AWS%2FDynamoDB"
			    "&MetricName=ConsumedReadCapacityUnits&Dimensions.member.1.Name=TableName"
			    "&Dimensions.member.1.Value=orders&Statistics.member.1=Sum&Period=3600");
	assert_string_equal(wire_protocol("monitoring"), "query");
	cJSON_Delete(in);
	cJSON_Delete(out);
	aws_client_free(c);
}

/* issue 23: CodeArtifact is rest-json (botocore codeartifact metadata):
 * method and path per operation, the query members as ?name=value with
 * the model's locationNames, the rest as a JSON body; an empty body (no
 * Content-Type) when the input has no body members, "{}" when it has but
 * none is given; the answer is the JSON body; a rest-json operation we do
 * not know is refused before any request. Byte-compared with botocore by
 * tests/integration/26-restjson-botocore.py. */
static void test_aws__restjson_codeartifact(void **state)
{
	struct aws_client *c = client("eu-west-1", NULL);
	struct fake_answer a[] = {
		{ 0, FB_OK, 0, 200, "x-amzn-RequestId: rq-1\r\n",
		  "{\"policy\":{\"resourceArn\":\"arn:aws:codeartifact:eu-west-1:111111111111:domain/acme\","
		  "\"revision\":\"r1\",\"document\":\"{}\"}}" },
		{ 0, FB_OK, 0, 200, "", "{}" },
		{ 0, FB_OK, 0, 409, "x-amzn-ErrorType: ConflictException:http://internal.amazon.com/\r\n",
		  "{\"message\":\"revision mismatch\"}" },
	};
	cJSON *in, *out = NULL;
	struct aws_error err;

	(void)state;
	assert_string_equal(wire_protocol("codeartifact"), "rest-json");
	script(a, 3);
	in = cJSON_Parse("{\"domain\":\"acme\",\"domainOwner\":\"111111111111\"}");
	assert_int_equal(aws_do(c, "codeartifact", "GetDomainPermissionsPolicy", in, &out, &err), FB_OK);
	assert_string_equal(F.log[0].method, "GET");
	assert_string_equal(F.log[0].url, "https://codeartifact.eu-west-1.amazonaws.com/v1/domain/permissions/"
			    "policy?domain=acme&domain-owner=111111111111");
	assert_string_equal(F.log[0].body, "");
	assert_string_equal(hdr(&F.log[0], "Content-Type"), "");
	assert_string_equal(hdr(&F.log[0], "X-Amz-Target"), "");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(out, "policy"), "revision")->valuestring, "r1");
	assert_string_equal(err.request_id, "rq-1");
	cJSON_Delete(in);
	cJSON_Delete(out);
	out = NULL;

	in = cJSON_Parse("{\"domain\":\"acme\",\"domainOwner\":\"111111111111\",\"repository\":\"npm\","
			 "\"policyRevision\":\"r/1\",\"policyDocument\":\"{}\"}");
	assert_int_equal(aws_do(c, "codeartifact", "PutRepositoryPermissionsPolicy", in, &out, &err), FB_OK);
	assert_string_equal(F.log[1].method, "PUT");
	assert_string_equal(F.log[1].url, "https://codeartifact.eu-west-1.amazonaws.com/v1/repository/permissions/"
			    "policy?domain=acme&domain-owner=111111111111&repository=npm");
	assert_string_equal(F.log[1].body, "{\"policyRevision\":\"r/1\",\"policyDocument\":\"{}\"}");
	assert_string_equal(hdr(&F.log[1], "Content-Type"), "application/json");
	cJSON_Delete(out);
	out = NULL;

	/* a conflict is the service's error code, not retried */
	assert_int_equal(aws_do(c, "codeartifact", "PutRepositoryPermissionsPolicy", in, &out, &err), FB_E_AWS);
	assert_string_equal(err.code, "ConflictException");
	assert_int_equal(err.attempts, 1);
	assert_int_equal(F.nlog, 3);
	cJSON_Delete(in);

	/* unknown operation, a member the operation does not have, a query
	 * member of the wrong type: refused, nothing sent */
	in = cJSON_Parse("{\"domain\":\"acme\"}");
	assert_int_equal(aws_do(c, "codeartifact", "DeleteDomain", in, &out, &err), FB_E_INVALID);
	cJSON_Delete(in);
	in = cJSON_Parse("{\"domain\":\"acme\",\"extra\":1}");
	assert_int_equal(aws_do(c, "codeartifact", "GetDomainPermissionsPolicy", in, &out, &err), FB_E_INVALID);
	cJSON_Delete(in);
	in = cJSON_Parse("{\"domain\":[\"acme\"]}");
	assert_int_equal(aws_do(c, "codeartifact", "GetDomainPermissionsPolicy", in, &out, &err), FB_E_INVALID);
	cJSON_Delete(in);
	assert_int_equal(F.nlog, 3);
	aws_client_free(c);
}

static void test_aws__session_token_is_sent_and_signed(void **state)
{
	struct aws_client *c = client("us-east-1", "FQoGZXIvYXdzEXAMPLETOKEN");
	struct aws_error err;
	cJSON *out = NULL;

	(void)state;
	assert_int_equal(aws_do(c, "kms", "ListKeys", NULL, &out, &err), FB_OK);
	assert_string_equal(hdr(&F.log[0], "X-Amz-Security-Token"), "FQoGZXIvYXdzEXAMPLETOKEN");
	assert_string_equal(signed_headers(&F.log[0]),
			    "content-type;host;x-amz-date;x-amz-security-token;x-amz-target");
	cJSON_Delete(out);
	aws_client_free(c);
}

static void test_aws__query_request_shape_and_answer(void **state)
{
	struct aws_client *c = client("eu-west-1", NULL);
	struct fake_answer a[] = {
		{ 0, FB_OK, 0, 200, "",
		  "<GetAccountSummaryResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
		  "<GetAccountSummaryResult><SummaryMap>"
		  "<entry><key>AccessKeysPerUserQuota</key><value>2</value></entry>"
		  "<entry><key>Users</key><value>27</value></entry>"
		  "</SummaryMap></GetAccountSummaryResult>"
		  "<ResponseMetadata><RequestId>85cb9b90-ac28-11e4-a88d-97964EXAMPLE</RequestId></ResponseMetadata>"
		  "</GetAccountSummaryResponse>" },
	};
	struct aws_error err;
	cJSON *out = NULL;
	const cJSON *m;

	(void)state;
	script(a, 1);
	assert_int_equal(aws_do(c, "iam", "GetAccountSummary", NULL, &out, &err), FB_OK);
	assert_string_equal(F.log[0].url, "https://iam.amazonaws.com/");
	assert_string_equal(F.log[0].body, "Action=GetAccountSummary&Version=2010-05-08");
	assert_string_equal(hdr(&F.log[0], "Content-Type"),
			    "application/x-www-form-urlencoded; charset=utf-8");
	/* IAM is global: signed for us-east-1 whatever the client region */
	assert_string_equal(scope(&F.log[0]), "AKIDEXAMPLE/20240101/us-east-1/iam/aws4_request");
	m = cJSON_GetObjectItem(cJSON_GetObjectItem(out, "GetAccountSummaryResult"), "SummaryMap");
	assert_string_equal(cJSON_GetObjectItem(m, "Users")->valuestring, "27");
	cJSON_Delete(out);
	aws_client_free(c);
}

static void test_aws__query_params_encoded(void **state)
{
	struct aws_client *c = client("us-west-2", NULL);
	cJSON *in = cJSON_Parse("{\"GroupId\":\"sg-1\",\"IpPermissions.1.IpProtocol\":\"-1\","
				"\"IpPermissions.1.IpRanges.1.CidrIp\":\"0.0.0.0/0\","
				"\"IpPermissions.1.FromPort\":22,\"DryRun\":false,"
				"\"Note\":\"a b&c=d~\"}");
	struct aws_error err;
	cJSON *out = NULL;

	struct fake_answer a[] = { { 0, FB_OK, 0, 200, "", "<R><return>true</return></R>" } };

	(void)state;
	script(a, 1);
	assert_int_equal(aws_do(c, "ec2", "RevokeSecurityGroupEgress", in, &out, &err), FB_OK);
	assert_string_equal(cJSON_GetObjectItem(out, "return")->valuestring, "true");
	assert_string_equal(F.log[0].url, "https://ec2.us-west-2.amazonaws.com/");
	assert_string_equal(F.log[0].body,
			    "Action=RevokeSecurityGroupEgress&Version=2016-11-15&GroupId=sg-1"
			    "&IpPermissions.1.IpProtocol=-1&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0%2F0"
			    "&IpPermissions.1.FromPort=22&DryRun=false&Note=a+b%26c%3Dd~");
	cJSON_Delete(out);
	cJSON_Delete(in);

	/* issue 17: a nested value is flattened as botocore does (A.b for a
	 * structure, .member.N for a query list, .entry.N for a map);
	 * nesting past the depth bound is refused before any request */
	in = cJSON_Parse("{\"A\":{\"b\":1},\"L\":[\"x\",\"y\"],\"E\":[],"
			 "\"M\":{\"entry\":[{\"Name\":\"k\",\"Value\":{\"DataType\":\"String\"}}]}}");
	script(a, 1);
	assert_int_equal(aws_do(c, "sns", "Publish", in, &out, &err), FB_OK);
	assert_string_equal(F.log[F.nlog - 1].body,
			    "Action=Publish&Version=2010-03-31&A.b=1&L.member.1=x&L.member.2=y&E="
			    "&M.entry.1.Name=k&M.entry.1.Value.DataType=String");
	cJSON_Delete(out);
	out = NULL;
	cJSON_Delete(in);
	in = cJSON_Parse("{\"A\":[[[[[[[[[[[[[[[[[[[\"deep\"]]]]]]]]]]]]]]]]]]]}");
	assert_int_equal(aws_do(c, "sns", "Publish", in, &out, &err), FB_E_INVALID);
	assert_null(out);
	cJSON_Delete(in);
	aws_client_free(c);
}

static void test_aws__query_versions(void **state)
{
	static const char *rows[][3] = {
		{ "sts", "GetCallerIdentity", "Action=GetCallerIdentity&Version=2011-06-15" },
		{ "sns", "Publish", "Action=Publish&Version=2010-03-31" },
		{ "iam", "ListAccessKeys", "Action=ListAccessKeys&Version=2010-05-08" },
		{ "ec2", "DescribeSecurityGroups", "Action=DescribeSecurityGroups&Version=2016-11-15" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct aws_client *c = client("us-east-1", NULL);
		struct fake_answer a[] = { { 0, FB_OK, 0, 200, "", "<R><X>1</X></R>" } };
		struct aws_error err;
		cJSON *out = NULL;

		script(a, 1);
		assert_int_equal(aws_do(c, rows[i][0], rows[i][1], NULL, &out, &err), FB_OK);
		assert_string_equal(F.log[0].body, rows[i][2]);
		cJSON_Delete(out);
		aws_client_free(c);
	}
}

static void test_aws__s3_put_object_virtual_hosted(void **state)
{
	struct aws_client *c = client("eu-west-1", NULL);
	struct aws_header h[] = {
		{ "x-amz-server-side-encryption", "aws:kms" },
		{ "x-amz-server-side-encryption-aws-kms-key-id", "alias/evidence" },
		{ "x-amz-checksum-sha256", "" },
		{ "Content-Type", "application/json" },
	};
	struct fake_answer a[] = {
		{ 0, FB_OK, 0, 200,
		  "ETag: \"9b2cf535f27731c974343645a3985328\"\r\nx-amz-version-id: v1\r\n"
		  "x-amz-server-side-encryption: aws:kms\r\n"
		  /* S3 echoes the checksum it verified: base64(sha256(body)), from openssl */
		  "x-amz-checksum-sha256: noV0vHHncVJFTWyYEdVDvJ4R5RLMa3c/NhMERZlQoXc=\r\n"
		  "x-amz-request-id: s3req\r\n", "" },
	};
	const char *body = "{\"incident\":1}";
	struct aws_call call;
	char hex[65];
	const struct logged *l;

	(void)state;
	script(a, 1);
	memset(&call, 0, sizeof(call));
	call.service = "s3";
	call.op = "PutObject";
	call.bucket = "evidence-bucket";
	call.key = "incidents/2024/a b+c.json";
	call.body = body;
	call.body_len = strlen(body);
	call.headers = h;
	call.nheaders = 4;
	assert_int_equal(aws_call_run(c, &call), FB_OK);
	l = &F.log[0];
	assert_string_equal(l->method, "PUT");
	assert_string_equal(l->url,
			    "https://evidence-bucket.s3.eu-west-1.amazonaws.com/incidents/2024/a%20b%2Bc.json");
	sigv4_sha256_hex(body, strlen(body), hex);
	assert_string_equal(hdr(l, "X-Amz-Content-SHA256"), hex);
	/* base64(sha256("{\"incident\":1}")) computed with python hashlib */
	assert_int_equal(strlen(hdr(l, "x-amz-checksum-sha256")), 44);
	assert_string_equal(signed_headers(l),
			    "content-type;host;x-amz-checksum-sha256;x-amz-content-sha256;x-amz-date;"
			    "x-amz-server-side-encryption;x-amz-server-side-encryption-aws-kms-key-id");
	assert_string_equal(scope(l), "AKIDEXAMPLE/20240101/eu-west-1/s3/aws4_request");
	assert_string_equal(cJSON_GetObjectItem(call.out, "VersionId")->valuestring, "v1");
	assert_string_equal(cJSON_GetObjectItem(call.out, "ETag")->valuestring,
			    "\"9b2cf535f27731c974343645a3985328\"");
	assert_string_equal(cJSON_GetObjectItem(call.out, "ServerSideEncryption")->valuestring, "aws:kms");
	assert_string_equal(call.err.request_id, "s3req");
	aws_call_cleanup(&call);
	aws_client_free(c);
}

static void test_aws__s3_checksum_value(void **state)
{
	struct aws_client *c = client("us-east-1", NULL);
	struct aws_header h[] = { { "x-amz-sdk-checksum-algorithm", "SHA256" } };
	struct fake_answer a[] = {
		{ 0, FB_OK, 0, 200,
		  "ETag: \"5d41402abc4b2a76b9719d911017c592\"\r\n"
		  "x-amz-checksum-sha256: LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=\r\n", "" },
	};
	struct aws_call call;

	(void)state;
	script(a, 1);
	memset(&call, 0, sizeof(call));
	call.service = "s3";
	call.op = "PutObject";
	call.bucket = "b-1";
	call.key = "k";
	call.body = "hello";
	call.body_len = 5;
	call.headers = h;
	call.nheaders = 1;
	assert_int_equal(aws_call_run(c, &call), FB_OK);
	/* echo -n hello | openssl dgst -sha256 -binary | base64 */
	assert_string_equal(hdr(&F.log[0], "x-amz-checksum-sha256"),
			    "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=");
	aws_call_cleanup(&call);
	aws_client_free(c);
}

/* HeadObject: HEAD, no body, the empty payload's hash, signed as S3 (no
 * double encoding); a 404 (no body) is FB_E_NOTFOUND "NotFound". */
static void test_aws__s3_head_object(void **state)
{
	struct aws_client *c = client("us-east-1", NULL);
	struct fake_answer a[] = {
		{ 0, FB_OK, 0, 200,
		  "ETag: \"abc\"\r\nContent-Length: 1234\r\nx-amz-server-side-encryption: aws:kms\r\n"
		  "x-amz-request-id: headreq\r\n", "" },
		{ 0, FB_OK, 0, 404, "x-amz-request-id: miss\r\n", "" },
		{ 0, FB_OK, 0, 403, "", "" },
	};
	struct aws_call call;
	const struct logged *l;

	(void)state;
	script(a, 3);
	memset(&call, 0, sizeof(call));
	call.service = "s3";
	call.op = "HeadObject";
	call.bucket = "evidence-bucket";
	call.key = "incidents/fb-1/manifest.json";
	call.body = "ignored";
	call.body_len = 7;
	assert_int_equal(aws_call_run(c, &call), FB_OK);
	l = &F.log[0];
	assert_string_equal(l->method, "HEAD");
	assert_string_equal(l->url, "https://evidence-bucket.s3.us-east-1.amazonaws.com/incidents/fb-1/manifest.json");
	assert_string_equal(l->body, "");
	/* sha256 of the empty string */
	assert_string_equal(hdr(l, "X-Amz-Content-SHA256"),
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_string_equal(signed_headers(l), "host;x-amz-content-sha256;x-amz-date");
	assert_string_equal(scope(l), "AKIDEXAMPLE/20240101/us-east-1/s3/aws4_request");
	assert_int_equal(cJSON_GetObjectItem(call.out, "ContentLength")->valuedouble, 1234);
	assert_string_equal(cJSON_GetObjectItem(call.out, "ETag")->valuestring, "\"abc\"");
	assert_string_equal(cJSON_GetObjectItem(call.out, "ServerSideEncryption")->valuestring, "aws:kms");
	assert_string_equal(call.err.request_id, "headreq");
	aws_call_cleanup(&call);

	assert_int_equal(aws_call_run(c, &call), FB_E_NOTFOUND);
	assert_int_equal(call.err.http_status, 404);
	assert_string_equal(call.err.code, "NotFound");
	assert_string_equal(call.err.request_id, "miss");
	assert_int_equal(call.err.attempts, 1);
	assert_null(call.out);
	aws_call_cleanup(&call);

	/* other statuses stay AWS errors */
	assert_int_equal(aws_call_run(c, &call), FB_E_AWS);
	assert_int_equal(call.err.http_status, 403);
	assert_int_equal(F.nlog, 3);
	aws_call_cleanup(&call);

	call.key = NULL;
	assert_int_equal(aws_call_run(c, &call), FB_E_INVALID);
	assert_int_equal(F.nlog, 3);
	aws_call_cleanup(&call);
	aws_client_free(c);
}

static void test_aws__s3_path_style_with_override(void **state)
{
	static const char *const env[] = { "AWS_ENDPOINT_URL=http://127.0.0.1:9000", NULL };
	struct aws_client *c = client_env("us-east-1", NULL, env);
	struct aws_call call;
	struct aws_header bad[] = { { "x-amz-meta-x", "a\r\nInjected: 1" } };
	struct fake_answer a[] = { { 0, FB_OK, 0, 200, "ETag: \"e\"\r\n", "" } };

	(void)state;
	script(a, 1);
	memset(&call, 0, sizeof(call));
	call.service = "s3";
	call.op = "PutObject";
	call.bucket = "bkt";
	call.key = "a/b~c d";
	call.body = "x";
	call.body_len = 1;
	assert_int_equal(aws_call_run(c, &call), FB_OK);
	assert_string_equal(F.log[0].url, "http://127.0.0.1:9000/bkt/a/b~c%20d");
	assert_string_equal(hdr(&F.log[0], "Host"), "127.0.0.1:9000");
	aws_call_cleanup(&call);

	call.headers = bad;
	call.nheaders = 1;
	assert_int_equal(aws_call_run(c, &call), FB_E_INVALID);
	assert_int_equal(F.nlog, 1);
	aws_call_cleanup(&call);

	call.headers = NULL;
	call.nheaders = 0;
	call.op = "DeleteObject";   /* issue 24 made GetObject one of the supported operations */
	assert_int_equal(aws_call_run(c, &call), FB_E_INVALID);
	aws_call_cleanup(&call);
	aws_client_free(c);
}

static void test_aws__override_for_json_service(void **state)
{
	static const char *const env[] = {
		"AWS_ENDPOINT_URL=http://127.0.0.1:1",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=http://127.0.0.1:4566/",
		NULL,
	};
	struct aws_client *c = client_env("eu-west-1", NULL, env);
	struct aws_error err;
	cJSON *out = NULL;

	(void)state;
	assert_int_equal(aws_do(c, "secretsmanager", "ListSecrets", NULL, &out, &err), FB_OK);
	assert_string_equal(F.log[0].url, "http://127.0.0.1:4566/");
	cJSON_Delete(out);
	assert_int_equal(aws_do(c, "kms", "ListKeys", NULL, &out, &err), FB_OK);
	assert_string_equal(F.log[1].url, "http://127.0.0.1:1/");
	assert_string_equal(scope(&F.log[1]), "AKIDEXAMPLE/20240101/eu-west-1/kms/aws4_request");
	cJSON_Delete(out);
	aws_client_free(c);
}

/* ---- retries ---------------------------------------------------------------------- */

static const char *THROTTLE = "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}";

static void test_aws__throttled_twice_then_success(void **state)
{
	struct aws_client *c = client("us-east-1", NULL);
	struct fake_answer a[] = {
		{ 5, FB_OK, 0, 400, "", NULL },
		{ 5, FB_OK, 0, 400, "", NULL },
		{ 5, FB_OK, 0, 200, "", "{\"ok\":true}" },
	};
	struct aws_call call;

	(void)state;
	a[0].body = a[1].body = THROTTLE;
	script(a, 3);
	memset(&call, 0, sizeof(call));
	call.service = "kms";
	call.op = "DisableKey";
	assert_int_equal(aws_call_run(c, &call), FB_OK);
	assert_int_equal(call.err.attempts, 3);
	assert_int_equal(F.nlog, 3);
	/* full jitter: each wait within [0, base * 2^(n-1)) of the throttle base */
	assert_true(F.log[1].at_ms - F.log[0].at_ms - 5 < AWS_BACKOFF_THROTTLE_BASE_MS);
	assert_true(F.log[2].at_ms - F.log[1].at_ms - 5 < 2 * AWS_BACKOFF_THROTTLE_BASE_MS);
	assert_int_equal(call.elapsed_ms, F.now - T0_MS);
	assert_string_equal(call.err.code, "");
	aws_call_cleanup(&call);
	aws_client_free(c);
}

static void test_aws__three_failures_say_how_many_attempts(void **state)
{
	struct aws_client *c = client("us-east-1", NULL);
	struct fake_answer a[] = {
		{ 1, FB_OK, 0, 503, "", "" },
		{ 1, FB_OK, 0, 400, "", NULL },
		{ 1, FB_OK, 0, 400, "x-amzn-RequestId: last\r\n", NULL },
		{ 1, FB_OK, 0, 200, "", "{}" },
	};
	struct aws_call call;

	(void)state;
	a[1].body = a[2].body = THROTTLE;
	script(a, 4);
	memset(&call, 0, sizeof(call));
	call.service = "kms";
	call.op = "DisableKey";
	assert_int_equal(aws_call_run(c, &call), FB_E_AWS);
	assert_int_equal(call.err.attempts, 3);
	assert_int_equal(F.nlog, 3);
	assert_string_equal(call.err.code, "ThrottlingException");
	assert_string_equal(call.err.request_id, "last");
	assert_int_equal(call.err.http_status, 400);
	assert_non_null(strstr(call.err.message, "after 3 attempts"));
	assert_null(call.out);
	aws_call_cleanup(&call);
	aws_client_free(c);
}

static void test_aws__non_retryable_4xx_is_not_retried(void **state)
{
	struct aws_client *c = client("us-east-1", NULL);
	struct fake_answer a[] = {
		{ 1, FB_OK, 0, 400, "", "{\"__type\":\"AccessDeniedException\",\"Message\":\"no\"}" },
		{ 1, FB_OK, 0, 200, "", "{}" },
	};
	struct aws_error err;
	cJSON *out = NULL;

	(void)state;
	script(a, 2);
	assert_int_equal(aws_do(c, "kms", "ScheduleKeyDeletion", NULL, &out, &err), FB_E_AWS);
	assert_int_equal(err.attempts, 1);
	assert_int_equal(F.nlog, 1);
	assert_string_equal(err.code, "AccessDeniedException");
	assert_string_equal(err.message, "no");
	aws_client_free(c);
}

static void test_aws__network_errors(void **state)
{
	struct aws_client *c = client("us-east-1", NULL);
	struct fake_answer a[] = {
		{ 1, FB_E_IO, 1, 0, NULL, NULL },   /* reset: transient */
		{ 1, FB_OK, 0, 200, "", "{}" },
		{ 1, FB_E_IO, 0, 0, NULL, NULL },   /* certificate: not transient */
		{ 1, FB_OK, 0, 200, "", "{}" },
	};
	struct aws_error err;
	cJSON *out = NULL;

	(void)state;
	script(a, 4);
	assert_int_equal(aws_do(c, "ecs", "ListClusters", NULL, &out, &err), FB_OK);
	assert_int_equal(err.attempts, 2);
	cJSON_Delete(out);
	assert_int_equal(aws_do(c, "ecs", "ListClusters", NULL, &out, &err), FB_E_IO);
	assert_int_equal(err.attempts, 1);
	assert_int_equal(err.http_status, 0);
	assert_string_equal(err.message, "fake transport error");
	aws_client_free(c);
}

static void test_aws__response_too_large_is_not_retried(void **state)
{
	struct aws_client *c = client("us-east-1", NULL);
	struct fake_answer a[] = { { 1, FB_E_TOO_LARGE, 0, 0, NULL, NULL } };
	struct aws_error err;
	cJSON *out = NULL;

	(void)state;
	script(a, 1);
	assert_int_equal(aws_do(c, "logs", "FilterLogEvents", NULL, &out, &err), FB_E_TOO_LARGE);
	assert_int_equal(err.attempts, 1);
	aws_client_free(c);
}

static void test_aws__max_attempts_from_env(void **state)
{
	static const char *const env5[] = { "AWS_MAX_ATTEMPTS=5", "AWS_RETRY_MODE=adaptive", NULL };
	static const char *const bad[] = { "AWS_MAX_ATTEMPTS=three", NULL };
	static const char *const badmode[] = { "AWS_RETRY_MODE=turbo", NULL };
	struct aws_client *c = client_env("us-east-1", NULL, env5);
	struct fake_answer a[8];
	struct aws_client_options o;
	struct aws_client *d = NULL;
	struct aws_error err;
	cJSON *out = NULL;
	char msg[200];
	size_t i;

	(void)state;
	for (i = 0; i < 8; i++) {
		a[i] = (struct fake_answer){ 1, FB_OK, 0, 500, "", "" };
	}
	script(a, 8);
	assert_int_equal(aws_client_max_attempts(c), 5);
	assert_int_equal(aws_do(c, "kms", "ListKeys", NULL, &out, &err), FB_E_AWS);
	assert_int_equal(err.attempts, 5);
	assert_non_null(strstr(err.message, "after 5 attempts"));
	aws_client_free(c);

	memset(&o, 0, sizeof(o));
	o.region = "us-east-1";
	o.access_key = "A";
	o.secret_key = "B";
	o.getenv_fn = fake_getenv;
	env_now = bad;
	o.transport = calloc(1, sizeof(struct http_transport)); /* freed by the failing call */
	assert_int_equal(aws_client_new_opts(&d, &o, msg, sizeof(msg)), FB_E_CONFIG);
	assert_non_null(strstr(msg, "AWS_MAX_ATTEMPTS"));
	env_now = badmode;
	o.transport = calloc(1, sizeof(struct http_transport));
	assert_int_equal(aws_client_new_opts(&d, &o, msg, sizeof(msg)), FB_E_CONFIG);
	assert_null(d);
}

static void test_aws__default_max_attempts_is_three(void **state)
{
	struct aws_client *c = client("us-east-1", NULL);

	(void)state;
	assert_int_equal(aws_client_max_attempts(c), 3);
	aws_client_free(c);
}

/* ---- deadline ----------------------------------------------------------------------- */

static void test_aws__slow_answer_stops_at_deadline(void **state)
{
	struct aws_client *c = client("us-east-1", NULL);
	struct fake_answer a[] = { { 2000, FB_OK, 0, 200, "", "{}" }, { 2000, FB_OK, 0, 200, "", "{}" } };
	struct aws_error err;
	cJSON *out = NULL;
	int64_t deadline = T0_MS + 500;

	(void)state;
	script(a, 2);
	aws_client_set_deadline(c, deadline);
	assert_int_equal(aws_do(c, "kms", "DescribeKey", NULL, &out, &err), FB_E_TIMEOUT);
	assert_null(out);
	assert_int_equal(err.attempts, 1);
	assert_true(F.log[0].timeout_ms <= 500 - AWS_DEADLINE_MARGIN_MS);
	assert_true(F.log[0].connect_timeout_ms <= F.log[0].timeout_ms);
	assert_true(F.now <= deadline);
	assert_non_null(strstr(err.message, "deadline"));
	assert_non_null(strstr(err.message, "after 1 attempt"));
	aws_client_free(c);
}

static void test_aws__past_deadline_makes_no_attempt(void **state)
{
	struct aws_client *c = client("us-east-1", NULL);
	struct aws_error err;
	cJSON *out = NULL;

	(void)state;
	aws_client_set_deadline(c, T0_MS + 20);
	assert_int_equal(aws_do(c, "kms", "DescribeKey", NULL, &out, &err), FB_E_TIMEOUT);
	assert_int_equal(err.attempts, 0);
	assert_int_equal(F.nlog, 0);
	aws_client_free(c);
}

static void test_aws__backoff_never_crosses_deadline(void **state)
{
	static const char *const env[] = { "AWS_MAX_ATTEMPTS=10", NULL };
	uint64_t seed;

	(void)state;
	/* Whatever the jitter draws, no attempt is timed to end past the
	 * deadline and the call gives up before it. */
	for (seed = 1; seed <= 200; seed++) {
		struct aws_client *c = client_env("us-east-1", NULL, env);
		struct fake_answer a[10];
		struct aws_error err;
		cJSON *out = NULL;
		int64_t deadline = T0_MS + 900;
		enum fb_err rc;
		size_t i;

		for (i = 0; i < 10; i++)
			a[i] = (struct fake_answer){ 60, FB_OK, 0, 400, "", NULL };
		for (i = 0; i < 10; i++)
			a[i].body = THROTTLE;
		script(a, 10);
		aws_client_set_deadline(c, deadline);
		/* reseed through a fresh client: the seed is fixed at 42, so vary
		 * the start time instead */
		F.now = T0_MS + (int64_t)(seed % 7);
		rc = aws_do(c, "kms", "DescribeKey", NULL, &out, &err);
		assert_true(rc == FB_E_TIMEOUT || rc == FB_E_AWS);
		assert_true(F.now <= deadline - AWS_DEADLINE_MARGIN_MS);
		for (i = 0; i < F.nlog; i++)
			assert_true(F.log[i].at_ms + F.log[i].timeout_ms <= deadline - AWS_DEADLINE_MARGIN_MS);
		assert_int_equal(err.attempts, (int)F.nlog);
		if (rc == FB_E_TIMEOUT) {
			char want[32];

			snprintf(want, sizeof(want), "after %d attempt", err.attempts);
			assert_non_null(strstr(err.message, want));
			assert_string_equal(err.code, "ThrottlingException");
		}
		aws_client_free(c);
	}
}

/* ---- pure policy ---------------------------------------------------------------- */

static void test_aws__retry_classification(void **state)
{
	static const struct { long st; const char *code; enum aws_retry_class want; } rows[] = {
		{ 400, "ThrottlingException", AWS_RETRY_THROTTLE },
		{ 400, "Throttling", AWS_RETRY_THROTTLE },
		{ 503, "RequestLimitExceeded", AWS_RETRY_THROTTLE },
		{ 400, "TooManyRequestsException", AWS_RETRY_THROTTLE },
		{ 503, "SlowDown", AWS_RETRY_THROTTLE },
		{ 400, "EC2ThrottledException", AWS_RETRY_THROTTLE },
		{ 400, "LimitExceededException", AWS_RETRY_THROTTLE },
		{ 429, "", AWS_RETRY_THROTTLE },
		{ 400, "RequestTimeout", AWS_RETRY_TRANSIENT },
		{ 500, "InternalFailure", AWS_RETRY_TRANSIENT },
		{ 400, "InternalError", AWS_RETRY_TRANSIENT },
		{ 500, "", AWS_RETRY_TRANSIENT },
		{ 502, "", AWS_RETRY_TRANSIENT },
		{ 503, "", AWS_RETRY_TRANSIENT },
		{ 504, "", AWS_RETRY_TRANSIENT },
		{ 501, "", AWS_RETRY_NO },
		{ 400, "ValidationException", AWS_RETRY_NO },
		{ 403, "AccessDenied", AWS_RETRY_NO },
		{ 404, "NoSuchKey", AWS_RETRY_NO },
		/* S3 conditional writes (If-None-Match: *): the key exists, or a
		 * concurrent write won; a retry would only answer the same. */
		{ 412, "PreconditionFailed", AWS_RETRY_NO },
		{ 409, "ConditionalRequestConflict", AWS_RETRY_NO },
		{ 400, "KMSInvalidStateException", AWS_RETRY_NO },
		{ 400, "", AWS_RETRY_NO },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (aws_retry_classify(rows[i].st, rows[i].code) != rows[i].want)
			fail_msg("row %zu: %ld %s", i, rows[i].st, rows[i].code);
	assert_true(aws_is_throttle_code("ProvisionedThroughputExceededException"));
	assert_false(aws_is_throttle_code("throttling"));
	assert_false(aws_is_throttle_code(""));
	assert_false(aws_is_throttle_code(NULL));
}

static void test_aws__backoff_bounds(void **state)
{
	int i;

	(void)state;
	assert_int_equal(aws_backoff_ms(1, 0, 0.0), 0);
	assert_int_equal(aws_backoff_ms(1, 0, 0.5), AWS_BACKOFF_BASE_MS / 2);
	assert_int_equal(aws_backoff_ms(3, 0, 0.5), 2 * AWS_BACKOFF_BASE_MS);
	assert_int_equal(aws_backoff_ms(2, 1, 0.5), AWS_BACKOFF_THROTTLE_BASE_MS);
	for (i = 1; i < 40; i++) {
		assert_true(aws_backoff_ms(i, 1, 0.9999) < AWS_BACKOFF_MAX_MS);
		assert_true(aws_backoff_ms(i, 0, 0.9999) <= aws_backoff_ms(i + 1, 0, 0.9999));
		assert_true(aws_backoff_ms(i, 0, 1.5) < AWS_BACKOFF_MAX_MS);
	}
}

/* ---- concurrency -------------------------------------------------------------------- */

static void test_aws__run_all_is_concurrent(void **state)
{
	struct aws_client *c = client("us-east-1", NULL);
	struct fake_answer a[] = {
		{ 100, FB_OK, 0, 200, "", "{\"n\":1}" },
		{ 100, FB_OK, 0, 400, "", "{\"__type\":\"ValidationException\",\"message\":\"bad\"}" },
		{ 100, FB_OK, 0, 200, "", "{\"n\":3}" },
		{ 100, FB_OK, 0, 200, "", "{\"n\":4}" },
	};
	struct aws_call calls[4];
	size_t i;

	(void)state;
	script(a, 4);
	memset(calls, 0, sizeof(calls));
	for (i = 0; i < 4; i++) {
		calls[i].service = i % 2 ? "secretsmanager" : "kms";
		calls[i].op = "ListThings";
	}
	assert_int_equal(aws_call_run_all(c, calls, 4), FB_E_AWS);
	assert_int_equal(F.max_parallel, 4);
	assert_int_equal(F.now - T0_MS, 100); /* one latency, not four */
	assert_int_equal(calls[0].rc, FB_OK);
	assert_int_equal(calls[1].rc, FB_E_AWS);
	assert_string_equal(calls[1].err.code, "ValidationException");
	assert_int_equal(calls[2].rc, FB_OK);
	assert_int_equal(calls[3].rc, FB_OK);
	assert_int_equal(cJSON_GetObjectItem(calls[3].out, "n")->valueint, 4);
	for (i = 0; i < 4; i++)
		aws_call_cleanup(&calls[i]);
	aws_client_free(c);
}

static void test_aws__run_all_retries_one_without_holding_others(void **state)
{
	struct aws_client *c = client("us-east-1", NULL);
	struct fake_answer a[] = {
		{ 10, FB_OK, 0, 503, "", "" },  /* call 0, attempt 1 */
		{ 300, FB_OK, 0, 200, "", "{}" }, /* call 1 */
		{ 10, FB_OK, 0, 200, "", "{}" },  /* call 0, attempt 2 */
	};
	struct aws_call calls[2];

	(void)state;
	script(a, 3);
	memset(calls, 0, sizeof(calls));
	calls[0].service = calls[1].service = "ecs";
	calls[0].op = calls[1].op = "DescribeServices";
	assert_int_equal(aws_call_run_all(c, calls, 2), FB_OK);
	assert_int_equal(calls[0].err.attempts, 2);
	assert_int_equal(calls[1].err.attempts, 1);
	/* the retry started while call 1 was still in flight */
	assert_true(F.log[2].at_ms < T0_MS + 300);
	assert_true(calls[0].elapsed_ms < calls[1].elapsed_ms);
	aws_call_cleanup(&calls[0]);
	aws_call_cleanup(&calls[1]);
	aws_client_free(c);
}

/* ---- STS AssumeRole and clients -------------------------------------------------------- */

static const char *assume_answer(char *out, size_t n, const char *expiration)
{
	snprintf(out, n,
		 "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
		 "<AssumeRoleResult><AssumedRoleUser><Arn>arn:aws:sts::222222222222:assumed-role/fb/s</Arn>"
		 "<AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>"
		 "<Credentials><AccessKeyId>ASIATEMP</AccessKeyId><SecretAccessKey>tempsecret</SecretAccessKey>"
		 "<SessionToken>TEMPTOKEN</SessionToken><Expiration>%s</Expiration></Credentials>"
		 "</AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>"
		 "</AssumeRoleResponse>", expiration);
	return out;
}

static void test_aws__assume_role_and_cache(void **state)
{
	struct aws_client *c = client("eu-west-1", NULL), *r1 = NULL, *r2 = NULL, *r3 = NULL;
	char ans[2048], ans2[2048];
	struct fake_answer a[] = {
		{ 1, FB_OK, 0, 200, "", NULL },
		{ 1, FB_OK, 0, 200, "", "{}" },
		{ 1, FB_OK, 0, 200, "", NULL },
	};
	struct aws_error err;
	cJSON *out = NULL;

	(void)state;
	a[0].body = assume_answer(ans, sizeof(ans), "2024-01-01T01:00:00Z");
	a[2].body = assume_answer(ans2, sizeof(ans2), "2024-01-01T02:00:00.000Z");
	script(a, 3);
	assert_int_equal(aws_client_assume_role(c, "arn:aws:iam::222222222222:role/fb", "s1", &r1, &err),
			 FB_OK);
	assert_string_equal(F.log[0].body,
			    "Action=AssumeRole&Version=2011-06-15"
			    "&RoleArn=arn%3Aaws%3Aiam%3A%3A222222222222%3Arole%2Ffb&RoleSessionName=s1"
			    "&DurationSeconds=3600");
	assert_string_equal(F.log[0].url, "https://sts.eu-west-1.amazonaws.com/");
	assert_int_equal(aws_do(r1, "kms", "ListKeys", NULL, &out, &err), FB_OK);
	cJSON_Delete(out);
	assert_string_equal(scope(&F.log[1]), "ASIATEMP/20240101/eu-west-1/kms/aws4_request");
	assert_string_equal(hdr(&F.log[1], "X-Amz-Security-Token"), "TEMPTOKEN");
	assert_string_equal(aws_client_region(r1), "eu-west-1");

	/* warm: cached, no STS call */
	F.now += 30 * 60 * 1000;
	assert_int_equal(aws_client_assume_role(c, "arn:aws:iam::222222222222:role/fb", "s1", &r2, &err),
			 FB_OK);
	assert_int_equal(F.nlog, 2);
	/* within 5 minutes of expiry: assumed again */
	F.now = T0_MS + 56 * 60 * 1000;
	assert_int_equal(aws_client_assume_role(c, "arn:aws:iam::222222222222:role/fb", "s1", &r3, &err),
			 FB_OK);
	assert_int_equal(F.nlog, 3);
	/* another session name is another session (it names the caller in
	 * the member account's CloudTrail): not served from the cache */
	{
		struct aws_client *r4 = NULL;
		struct fake_answer b[] = { { 1, FB_OK, 0, 200, "", NULL } };

		b[0].body = ans2;
		script(b, 1);
		F.nlog = 3;
		assert_int_equal(aws_client_assume_role(c, "arn:aws:iam::222222222222:role/fb", "s2", &r4, &err),
				 FB_OK);
		assert_int_equal(F.nlog, 4);
		assert_non_null(strstr(F.log[3].body, "RoleSessionName=s2"));
		aws_client_free(r4);
		F.nlog = 3;
	}

	/* derived clients share the deadline with their base */
	aws_client_set_deadline(c, F.now - 1000);
	assert_int_equal(aws_do(r3, "kms", "ListKeys", NULL, &out, &err), FB_E_TIMEOUT);
	assert_int_equal(F.nlog, 3);

	{
		struct aws_client *bad = NULL;

		assert_int_equal(aws_client_assume_role(c, "not-an-arn", NULL, &bad, &err), FB_E_INVALID);
		assert_null(bad);
	}
	aws_client_free(r1);
	aws_client_free(r2);
	aws_client_free(r3);
	aws_client_free(c);
}

static void test_aws__client_from_env_and_regions(void **state)
{
	static const char *const noreg[] = { "AWS_ACCESS_KEY_ID=A", "AWS_SECRET_ACCESS_KEY=B", NULL };
	static const char *const nocreds[] = { "AWS_REGION=us-east-1", NULL };
	static const char *const full[] = { "AWS_DEFAULT_REGION=cn-north-1", "AWS_ACCESS_KEY_ID=A",
					    "AWS_SECRET_ACCESS_KEY=B", NULL };
	struct aws_client_options o;
	struct aws_client *c = NULL, *d = NULL;
	char msg[200];

	(void)state;
	memset(&o, 0, sizeof(o));
	o.getenv_fn = fake_getenv;
	env_now = noreg;
	assert_int_equal(aws_client_new_opts(&c, &o, msg, sizeof(msg)), FB_E_CONFIG);
	env_now = nocreds;
	assert_int_equal(aws_client_new_opts(&c, &o, msg, sizeof(msg)), FB_E_AUTH);
	assert_null(strstr(msg, "B"));
	env_now = full;
	assert_int_equal(aws_client_new_opts(&c, &o, msg, sizeof(msg)), FB_OK);
	assert_string_equal(aws_client_region(c), "cn-north-1");
	assert_string_equal(aws_client_partition(c), "aws-cn");
	assert_int_equal(aws_client_for_region(c, "us-gov-west-1", &d), FB_OK);
	assert_string_equal(aws_client_partition(d), "aws-us-gov");
	aws_client_free(c); /* d keeps the shared part alive */
	assert_string_equal(aws_client_region(d), "us-gov-west-1");
	aws_client_free(d);
}

static void test_aws__bad_calls(void **state)
{
	struct aws_client *c = client("us-east-1", NULL);
	struct aws_error err;
	cJSON *out = NULL, *arr = cJSON_CreateArray();

	(void)state;
	assert_int_equal(aws_do(c, "glacier", "ListVaults", NULL, &out, &err), FB_E_INVALID);
	assert_int_equal(aws_do(c, "kms", "", NULL, &out, &err), FB_E_INVALID);
	assert_int_equal(aws_do(c, "kms", "ListKeys", arr, &out, &err), FB_E_INVALID);
	assert_int_equal(F.nlog, 0);
	cJSON_Delete(arr);
	aws_client_free(c);
}

/* issue 24: securityhub is rest-json (method and path from the model, JSON
 * body, application/json), events awsJson 1.1; an operation not in the
 * table is refused before any request. */
static void test_aws__rest_json_securityhub_and_events(void **state)
{
	struct aws_client *c = client("eu-west-1", NULL);
	struct fake_answer a[] = {
		{ 0, FB_OK, 0, 200, "x-amzn-RequestId: shreq\r\n", "{\"ProcessedFindings\":[],\"UnprocessedFindings\":[]}" },
		{ 0, FB_OK, 0, 403, "x-amzn-ErrorType: AccessDeniedException:http://internal.amazon.com/\r\n",
		  "{\"Message\":\"no\"}" },
		{ 0, FB_OK, 0, 200, "", "{\"FailedEntryCount\":0,\"Entries\":[{\"EventId\":\"e1\"}]}" },
	};
	cJSON *in = cJSON_Parse("{\"FindingIdentifiers\":[{\"Id\":\"f\",\"ProductArn\":\"p\"}]}"), *out = NULL;
	struct aws_error err;

	(void)state;
	script(a, 3);
	assert_string_equal(wire_protocol("securityhub"), "rest-json");
	assert_string_equal(wire_protocol("events"), "json");
	assert_int_equal(aws_do(c, "securityhub", "BatchUpdateFindings", in, &out, &err), FB_OK);
	assert_string_equal(F.log[0].method, "PATCH");
	assert_string_equal(F.log[0].url, "https://securityhub.eu-west-1.amazonaws.com/findings/batchupdate");
	assert_string_equal(hdr(&F.log[0], "Content-Type"), "application/json");
	assert_true(strstr(F.log[0].headers, "X-Amz-Target") == NULL);
	assert_string_equal(F.log[0].body, "{\"FindingIdentifiers\":[{\"Id\":\"f\",\"ProductArn\":\"p\"}]}");
	assert_string_equal(scope(&F.log[0]), "AKIDEXAMPLE/20240101/eu-west-1/securityhub/aws4_request");
	assert_non_null(cJSON_GetObjectItem(out, "ProcessedFindings"));
	cJSON_Delete(out);
	out = NULL;
	assert_int_equal(aws_do(c, "securityhub", "BatchImportFindings", in, &out, &err), FB_E_AWS);
	assert_string_equal(F.log[1].method, "POST");
	assert_string_equal(F.log[1].url, "https://securityhub.eu-west-1.amazonaws.com/findings/import");
	assert_string_equal(err.code, "AccessDeniedException");
	assert_int_equal(aws_do(c, "events", "PutEvents", in, &out, &err), FB_OK);
	assert_string_equal(hdr(&F.log[2], "X-Amz-Target"), "AWSEvents.PutEvents");
	assert_string_equal(hdr(&F.log[2], "Host"), "events.eu-west-1.amazonaws.com");
	cJSON_Delete(out);
	out = NULL;
	/* not in the table: refused, nothing sent */
	assert_int_equal(aws_do(c, "securityhub", "DisableSecurityHub", NULL, &out, &err), FB_E_INVALID);
	assert_int_equal(F.nlog, 3);
	cJSON_Delete(in);
	aws_client_free(c);
}

/* issue 24: s3 GetObject (firebreak-restore reads restore.json): GET, no
 * body, the object's text in out.Body; a binary object is refused. */
static void test_aws__s3_get_object(void **state)
{
	struct aws_client *c = client("us-east-1", NULL);
	struct fake_answer a[] = {
		{ 0, FB_OK, 0, 200, "ETag: \"e\"\r\n", "[{\"api\":\"ec2:DeleteSecurityGroup\"}]" },
		{ 0, FB_OK, 0, 404, "", "<Error><Code>NoSuchKey</Code><Message>x</Message></Error>" },
	};
	struct aws_call call;

	(void)state;
	script(a, 2);
	memset(&call, 0, sizeof(call));
	call.service = "s3";
	call.op = "GetObject";
	call.bucket = "evidence-bucket";
	call.key = "incidents/fb-1/restore.json";
	call.body = "ignored";
	call.body_len = 7;
	assert_int_equal(aws_call_run(c, &call), FB_OK);
	assert_string_equal(F.log[0].method, "GET");
	assert_string_equal(F.log[0].body, "");
	assert_string_equal(cJSON_GetObjectItem(call.out, "Body")->valuestring, "[{\"api\":\"ec2:DeleteSecurityGroup\"}]");
	aws_call_cleanup(&call);
	assert_int_equal(aws_call_run(c, &call), FB_E_AWS);
	assert_string_equal(call.err.code, "NoSuchKey");
	aws_call_cleanup(&call);
	aws_client_free(c);
}

/* ---- loose ends (issue 3 audit) --------------------------------------------------- */

/* cJSON strings end at a NUL: a "\u0000" in an answer would cut the rest of
 * a log line off. It is read as U+FFFD (as leak-rotate's awslogs decoder
 * does), so the tail survives; an escaped backslash before "u0000" is text. */
static void test_aws__json_nul_escape_read_as_replacement(void **state)
{
	struct aws_client *c = client("us-east-1", NULL);
	struct fake_answer a[] = {
		{ 0, FB_OK, 0, 200, "x-amzn-RequestId: r1\r\n",
		  "{\"events\":[{\"timestamp\":1,\"message\":\"head\\u0000tail \\u0000\\u0000end\"},"
		  "{\"timestamp\":2,\"message\":\"lit \\\\u0000 text\"}],\"nextForwardToken\":\"f/1\"}" },
	};
	cJSON *out = NULL;
	struct aws_error err;
	const cJSON *ev;

	(void)state;
	script(a, 1);
	assert_int_equal(aws_do(c, "logs", "GetLogEvents", NULL, &out, &err), FB_OK);
	ev = cJSON_GetObjectItem(out, "events");
	assert_int_equal(cJSON_GetArraySize(ev), 2);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(ev, 0), "message")->valuestring,
			    "head\xEF\xBF\xBDtail \xEF\xBF\xBD\xEF\xBF\xBD" "end");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(ev, 1), "message")->valuestring,
			    "lit \\u0000 text");
	assert_string_equal(cJSON_GetObjectItem(out, "nextForwardToken")->valuestring, "f/1");
	cJSON_Delete(out);
	aws_client_free(c);
}

/* A HEAD error has no body: the code comes from the status, and the retry
 * class follows it (5xx retried, 4xx not). */
static void test_aws__s3_head_errors_named_from_status(void **state)
{
	static const struct {
		long status;
		const char *headers;
		const char *code;
		const char *in_message;
		int attempts;
		enum fb_err rc;
	} cases[] = {
		{ 403, "", "AccessDenied", "Forbidden", 1, FB_E_AWS },
		{ 404, "", "NotFound", "Not Found", 1, FB_E_NOTFOUND },
		{ 301, "x-amz-bucket-region: eu-west-1\r\n", "PermanentRedirect", "eu-west-1", 1, FB_E_AWS },
		{ 400, "x-amz-bucket-region: eu-west-1\r\n", "BadRequest", "eu-west-1", 1, FB_E_AWS },
		{ 307, "", "TemporaryRedirect", "Temporary Redirect", 1, FB_E_AWS },
		{ 412, "", "PreconditionFailed", "Precondition Failed", 1, FB_E_AWS },
		{ 500, "", "InternalError", "Internal Server Error", 3, FB_E_AWS },
		{ 503, "", "SlowDown", "Service Unavailable", 3, FB_E_AWS },
		{ 418, "", "418", "http status 418", 1, FB_E_AWS },
	};
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct aws_client *c = client("us-east-1", NULL);
		struct fake_answer a[3];
		struct aws_call call;

		for (k = 0; k < 3; k++) {
			memset(&a[k], 0, sizeof(a[k]));
			a[k].status = cases[i].status;
			a[k].headers = cases[i].headers;
			a[k].body = "";
		}
		script(a, 3);
		memset(&call, 0, sizeof(call));
		call.service = "s3";
		call.op = "HeadObject";
		call.bucket = "evidence-bucket";
		call.key = "k";
		assert_int_equal(aws_call_run(c, &call), cases[i].rc);
		assert_int_equal(call.err.http_status, cases[i].status);
		assert_string_equal(call.err.code, cases[i].code);
		if (!strstr(call.err.message, cases[i].in_message))
			fail_msg("status %ld: message '%s' lacks '%s'", cases[i].status, call.err.message,
				 cases[i].in_message);
		assert_int_equal(call.err.attempts, cases[i].attempts);
		aws_call_cleanup(&call);
		aws_client_free(c);
	}
}

/* A 200 to HeadObject without an ETag is not S3's answer: not success. */
static void test_aws__s3_head_needs_etag(void **state)
{
	struct aws_client *c = client("us-east-1", NULL);
	struct fake_answer a[] = {
		{ 0, FB_OK, 0, 200, "Content-Length: 12\r\n", "" },
		{ 0, FB_OK, 0, 200, "Content-Length: 12\r\n", "" },
		{ 0, FB_OK, 0, 200, "Content-Length: 12\r\n", "" },
	};
	struct aws_call call;

	(void)state;
	script(a, 3);
	memset(&call, 0, sizeof(call));
	call.service = "s3";
	call.op = "HeadObject";
	call.bucket = "b";
	call.key = "k";
	assert_int_equal(aws_call_run(c, &call), FB_E_AWS);
	assert_string_equal(call.err.code, AWS_CODE_INCOMPLETE_ANSWER);
	assert_non_null(strstr(call.err.message, "ETag"));
	assert_null(call.out);
	aws_call_cleanup(&call);
	aws_client_free(c);
}

static enum fb_err put_hello(struct aws_client *c, struct aws_call *call, const char *sum)
{
	static struct aws_header h[1];

	h[0].name = "x-amz-checksum-sha256";
	h[0].value = sum;
	memset(call, 0, sizeof(*call));
	call->service = "s3";
	call->op = "PutObject";
	call->bucket = "b";
	call->key = "k";
	call->body = "hello";
	call->body_len = 5;
	call->headers = h;
	call->nheaders = sum ? 1 : 0;
	return aws_call_run(c, call);
}

/* Evidence integrity: a PutObject 200 counts only when it carries an ETag
 * and, when we sent x-amz-checksum-sha256, echoes the same value; else it
 * is retried (the PUT is idempotent) and ends as an AWS error. */
static void test_aws__s3_put_needs_confirmation(void **state)
{
#define HELLO_SUM "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="
	static const struct {
		const char *sent;     /* NULL: no checksum header; "": computed */
		const char *headers;  /* the 200's headers (every attempt) */
		const char *body;
		enum fb_err rc;
		const char *code;
		const char *in_message;
	} cases[] = {
		{ "", "ETag: \"e\"\r\nx-amz-checksum-sha256: " HELLO_SUM "\r\n", "", FB_OK, "", "" },
		{ HELLO_SUM, "ETag: \"e\"\r\nx-amz-checksum-sha256: " HELLO_SUM "\r\n", "", FB_OK, "", "" },
		{ NULL, "ETag: \"e\"\r\n", "", FB_OK, "", "" },
		/* the fake's malformed fault: garbage, no headers */
		{ "", "Content-Type: text/xml\r\n", "<Response><Unclosed><x>garbage</Response", FB_E_AWS,
		  AWS_CODE_INCOMPLETE_ANSWER, "ETag" },
		{ NULL, "", "", FB_E_AWS, AWS_CODE_INCOMPLETE_ANSWER, "ETag" },
		{ "", "ETag: \"e\"\r\n", "", FB_E_AWS, AWS_CODE_INCOMPLETE_ANSWER, "x-amz-checksum-sha256" },
		{ HELLO_SUM, "ETag: \"e\"\r\nx-amz-checksum-sha256: AAAA\r\n", "", FB_E_AWS,
		  AWS_CODE_CHECKSUM_MISMATCH, "AAAA" },
		/* S3 can answer 200 with an error document */
		{ NULL, "ETag: \"e\"\r\n",
		  "<?xml version=\"1.0\"?><Error><Code>InternalError</Code><Message>We encountered an internal "
		  "error.</Message><RequestId>r9</RequestId></Error>", FB_E_AWS, "InternalError", "internal" },
	};
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct aws_client *c = client("us-east-1", NULL);
		struct fake_answer a[3];
		struct aws_call call;

		for (k = 0; k < 3; k++) {
			memset(&a[k], 0, sizeof(a[k]));
			a[k].status = 200;
			a[k].headers = cases[i].headers;
			a[k].body = cases[i].body;
		}
		script(a, 3);
		assert_int_equal(put_hello(c, &call, cases[i].sent), cases[i].rc);
		assert_string_equal(call.err.code, cases[i].code);
		if (!strstr(call.err.message, cases[i].in_message))
			fail_msg("case %zu: message '%s' lacks '%s'", i, call.err.message, cases[i].in_message);
		if (cases[i].rc == FB_OK) {
			assert_int_equal(call.err.attempts, 1);
			assert_string_equal(cJSON_GetObjectItem(call.out, "ETag")->valuestring, "\"e\"");
		} else {
			assert_int_equal(call.err.http_status, 200);
			assert_int_equal(call.err.attempts, 3);
			assert_non_null(strstr(call.err.message, "after 3 attempts"));
			assert_null(call.out);
		}
		aws_call_cleanup(&call);
		aws_client_free(c);
	}
#undef HELLO_SUM
}

/* ---- rest-xml bucket subresources and S3 Control (issue 19) ------------------ */

/* The wire format is botocore 1.29's (tests/integration/24-restxml-botocore.py
 * compares byte for byte); these pin the shape without Python. */
static void test_aws__s3_subresource_get(void **state)
{
	struct aws_client *c = client("us-east-1", NULL);
	struct fake_answer a[] = {
		{ 0, FB_OK, 0, 200, "x-amz-request-id: r1\r\n",
		  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PolicyStatus xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		  "<IsPublic>true</IsPublic></PolicyStatus>" },
		{ 0, FB_OK, 0, 404, "x-amz-request-id: r2\r\n",
		  "<Error><Code>NoSuchPublicAccessBlockConfiguration</Code><Message>none</Message></Error>" },
		{ 0, FB_OK, 0, 200, "",
		  "<AccessControlPolicy><Owner><ID>o</ID></Owner><AccessControlList>"
		  "<Grant><Grantee><ID>o</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>"
		  "<Grant><Grantee><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee>"
		  "<Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>" },
	};
	struct aws_call call;
	const struct logged *l;
	const cJSON *g;

	(void)state;
	script(a, 3);
	memset(&call, 0, sizeof(call));
	call.service = "s3";
	call.op = "GetBucketPolicyStatus";
	call.bucket = "my-bucket";
	assert_int_equal(aws_call_run(c, &call), FB_OK);
	l = &F.log[0];
	assert_string_equal(l->method, "GET");
	assert_string_equal(l->url, "https://my-bucket.s3.us-east-1.amazonaws.com/?policyStatus");
	assert_string_equal(l->body, "");
	assert_string_equal(signed_headers(l), "host;x-amz-content-sha256;x-amz-date");
	assert_string_equal(scope(l), "AKIDEXAMPLE/20240101/us-east-1/s3/aws4_request");
	assert_string_equal(cJSON_GetObjectItem(call.out, "IsPublic")->valuestring, "true");
	assert_string_equal(call.err.request_id, "r1");
	aws_call_cleanup(&call);

	call.op = "GetPublicAccessBlock";
	assert_int_equal(aws_call_run(c, &call), FB_E_AWS);
	assert_string_equal(F.log[1].url, "https://my-bucket.s3.us-east-1.amazonaws.com/?publicAccessBlock");
	assert_string_equal(call.err.code, "NoSuchPublicAccessBlockConfiguration");
	assert_int_equal(call.err.http_status, 404);
	assert_int_equal(call.err.attempts, 1);
	aws_call_cleanup(&call);

	call.op = "GetBucketAcl";
	assert_int_equal(aws_call_run(c, &call), FB_OK);
	assert_string_equal(F.log[2].url, "https://my-bucket.s3.us-east-1.amazonaws.com/?acl");
	g = cJSON_GetObjectItem(cJSON_GetObjectItem(call.out, "AccessControlList"), "Grant");
	assert_true(cJSON_IsArray(g));
	assert_int_equal(cJSON_GetArraySize(g), 2);
	aws_call_cleanup(&call);

	/* a bucket is required; unknown operations stay refused */
	call.bucket = NULL;
	assert_int_equal(aws_call_run(c, &call), FB_E_INVALID);
	call.bucket = "my-bucket";
	call.op = "GetBucketPolicy";
	assert_int_equal(aws_call_run(c, &call), FB_E_INVALID);
	assert_int_equal(F.nlog, 3);
	aws_client_free(c);
}

static void test_aws__s3_put_public_access_block(void **state)
{
	static const char *const env[] = { "AWS_ENDPOINT_URL=http://127.0.0.1:9000", NULL };
	struct aws_client *c = client_env("us-east-1", NULL, env);
	struct fake_answer a[] = { { 0, FB_OK, 0, 200, "", "" }, { 0, FB_OK, 0, 204, "", "" } };
	cJSON *in = cJSON_Parse("{\"PublicAccessBlockConfiguration\": {\"BlockPublicAcls\": true,"
				"\"IgnorePublicAcls\": true, \"BlockPublicPolicy\": true,"
				"\"RestrictPublicBuckets\": false}}");
	struct aws_call call;
	const struct logged *l;

	(void)state;
	script(a, 2);
	memset(&call, 0, sizeof(call));
	call.service = "s3";
	call.op = "PutPublicAccessBlock";
	call.bucket = "my-bucket";
	call.in = in;
	assert_int_equal(aws_call_run(c, &call), FB_OK);
	l = &F.log[0];
	assert_string_equal(l->method, "PUT");
	assert_string_equal(l->url, "http://127.0.0.1:9000/my-bucket?publicAccessBlock");
	assert_string_equal(l->body,
			    "<PublicAccessBlockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
			    "<BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls>"
			    "<BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>false"
			    "</RestrictPublicBuckets></PublicAccessBlockConfiguration>");
	/* botocore 1.29 sends this Content-MD5 for this body */
	assert_string_equal(hdr(l, "Content-MD5"), "YiSYQh0+RrLTBl+F8LkpmQ==");
	assert_string_equal(hdr(l, "X-Amz-Content-SHA256"),
			    "f23bf00a26f6fa8e74cc3b293188084362b0c694469f65ae01269fc3885702ac");
	assert_string_equal(signed_headers(l), "content-md5;host;x-amz-content-sha256;x-amz-date");
	assert_true(cJSON_IsObject(call.out));
	aws_call_cleanup(&call);

	call.op = "DeletePublicAccessBlock";
	call.in = NULL;
	assert_int_equal(aws_call_run(c, &call), FB_OK);
	assert_string_equal(F.log[1].method, "DELETE");
	assert_string_equal(F.log[1].url, "http://127.0.0.1:9000/my-bucket?publicAccessBlock");
	aws_call_cleanup(&call);

	/* Put without its payload: refused before any request */
	call.op = "PutPublicAccessBlock";
	assert_int_equal(aws_call_run(c, &call), FB_E_INVALID);
	assert_int_equal(F.nlog, 2);
	cJSON_Delete(in);
	aws_client_free(c);
}

static void test_aws__s3control_public_access_block(void **state)
{
	struct aws_client *c = client("eu-west-1", NULL);
	struct fake_answer a[] = {
		{ 0, FB_OK, 0, 200, "", "" },
		{ 0, FB_OK, 0, 200, "",
		  "<PublicAccessBlockConfiguration><BlockPublicAcls>true"
		  "</BlockPublicAcls></PublicAccessBlockConfiguration>" },
	};
	cJSON *in = cJSON_Parse("{\"AccountId\": \"123456789012\", \"PublicAccessBlockConfiguration\":"
				" {\"BlockPublicAcls\": true, \"IgnorePublicAcls\": true,"
				" \"BlockPublicPolicy\": true, \"RestrictPublicBuckets\": true}}");
	cJSON *bad = cJSON_Parse("{\"AccountId\": \"12345678901x.evil.example\"}");
	struct aws_call call;
	const struct logged *l;

	(void)state;
	script(a, 2);
	memset(&call, 0, sizeof(call));
	call.service = "s3control";
	call.op = "PutPublicAccessBlock";
	call.in = in;
	assert_int_equal(aws_call_run(c, &call), FB_OK);
	l = &F.log[0];
	assert_string_equal(l->method, "PUT");
	assert_string_equal(l->url,
			    "https://123456789012.s3-control.eu-west-1.amazonaws.com/v20180820/configuration/publicAccessBlock");
	assert_string_equal(hdr(l, "x-amz-account-id"), "123456789012");
	assert_string_equal(hdr(l, "Content-MD5"), "");
	assert_string_equal(signed_headers(l), "host;x-amz-account-id;x-amz-content-sha256;x-amz-date");
	assert_string_equal(scope(l), "AKIDEXAMPLE/20240101/eu-west-1/s3/aws4_request");
	assert_non_null(strstr(l->body, "<PublicAccessBlockConfiguration xmlns=\"http://awss3control.amazonaws.com/doc/2018-08-20/\">"));
	assert_null(strstr(l->body, "AccountId"));
	aws_call_cleanup(&call);

	call.op = "GetPublicAccessBlock";
	assert_int_equal(aws_call_run(c, &call), FB_OK);
	assert_string_equal(F.log[1].method, "GET");
	/* the payload is the document: its root is dropped (xml.h) */
	assert_string_equal(cJSON_GetObjectItem(call.out, "BlockPublicAcls")->valuestring, "true");
	aws_call_cleanup(&call);

	/* an account id that is not 12 digits never reaches a host */
	call.in = bad;
	assert_int_equal(aws_call_run(c, &call), FB_E_INVALID);
	call.in = NULL;
	assert_int_equal(aws_call_run(c, &call), FB_E_INVALID);
	call.in = in;
	call.op = "ListAccessPoints";
	assert_int_equal(aws_call_run(c, &call), FB_E_INVALID);
	assert_int_equal(F.nlog, 2);
	cJSON_Delete(in);
	cJSON_Delete(bad);
	aws_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aws__json_request_shape),
		cmocka_unit_test(test_aws__json_targets_per_service),
		cmocka_unit_test(test_aws__dynamodb_json10_and_monitoring_query),
		cmocka_unit_test(test_aws__restjson_codeartifact),
		cmocka_unit_test(test_aws__session_token_is_sent_and_signed),
		cmocka_unit_test(test_aws__query_request_shape_and_answer),
		cmocka_unit_test(test_aws__query_params_encoded),
		cmocka_unit_test(test_aws__query_versions),
		cmocka_unit_test(test_aws__s3_put_object_virtual_hosted),
		cmocka_unit_test(test_aws__s3_checksum_value),
		cmocka_unit_test(test_aws__s3_path_style_with_override),
		cmocka_unit_test(test_aws__s3_head_object),
		cmocka_unit_test(test_aws__override_for_json_service),
		cmocka_unit_test(test_aws__throttled_twice_then_success),
		cmocka_unit_test(test_aws__three_failures_say_how_many_attempts),
		cmocka_unit_test(test_aws__non_retryable_4xx_is_not_retried),
		cmocka_unit_test(test_aws__network_errors),
		cmocka_unit_test(test_aws__response_too_large_is_not_retried),
		cmocka_unit_test(test_aws__max_attempts_from_env),
		cmocka_unit_test(test_aws__default_max_attempts_is_three),
		cmocka_unit_test(test_aws__slow_answer_stops_at_deadline),
		cmocka_unit_test(test_aws__past_deadline_makes_no_attempt),
		cmocka_unit_test(test_aws__backoff_never_crosses_deadline),
		cmocka_unit_test(test_aws__retry_classification),
		cmocka_unit_test(test_aws__backoff_bounds),
		cmocka_unit_test(test_aws__run_all_is_concurrent),
		cmocka_unit_test(test_aws__run_all_retries_one_without_holding_others),
		cmocka_unit_test(test_aws__assume_role_and_cache),
		cmocka_unit_test(test_aws__client_from_env_and_regions),
		cmocka_unit_test(test_aws__bad_calls),
		cmocka_unit_test(test_aws__json_nul_escape_read_as_replacement),
		cmocka_unit_test(test_aws__s3_head_errors_named_from_status),
		cmocka_unit_test(test_aws__s3_head_needs_etag),
		cmocka_unit_test(test_aws__s3_put_needs_confirmation),
		cmocka_unit_test(test_aws__s3_subresource_get),
		cmocka_unit_test(test_aws__s3_put_public_access_block),
		cmocka_unit_test(test_aws__s3control_public_access_block),
		cmocka_unit_test(test_aws__rest_json_securityhub_and_events),
		cmocka_unit_test(test_aws__s3_get_object),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
