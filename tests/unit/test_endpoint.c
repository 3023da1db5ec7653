/*
 * test_endpoint: endpoint resolution table. Expected hosts come from
 * botocore's endpoints.json (partitions, IAM global, fips variants) and the
 * SDK reference guide's service-specific endpoint identifiers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "endpoint.h"

/* A fake environment: "NAME=value" strings, NULL-terminated. */
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

struct row {
	const char *service, *region, *bucket;
	const char *env[4];
	enum fb_err rc;
	const char *scheme, *host, *base_path, *signing_region;
	int path_style;
};

static const struct row rows[] = {
	{ "kms", "us-east-1", NULL, { NULL }, FB_OK, "https", "kms.us-east-1.amazonaws.com", "", "us-east-1", 0 },
	{ "secretsmanager", "eu-west-1", NULL, { NULL }, FB_OK, "https", "secretsmanager.eu-west-1.amazonaws.com", "", "eu-west-1", 0 },
	{ "logs", "ap-southeast-2", NULL, { NULL }, FB_OK, "https", "logs.ap-southeast-2.amazonaws.com", "", "ap-southeast-2", 0 },
	{ "ecs", "cn-north-1", NULL, { NULL }, FB_OK, "https", "ecs.cn-north-1.amazonaws.com.cn", "", "cn-north-1", 0 },
	{ "sts", "us-gov-west-1", NULL, { NULL }, FB_OK, "https", "sts.us-gov-west-1.amazonaws.com", "", "us-gov-west-1", 0 },
	{ "sts", "eu-central-1", NULL, { NULL }, FB_OK, "https", "sts.eu-central-1.amazonaws.com", "", "eu-central-1", 0 },
	/* IAM is global per partition */
	{ "iam", "eu-west-1", NULL, { NULL }, FB_OK, "https", "iam.amazonaws.com", "", "us-east-1", 0 },
	{ "iam", "cn-northwest-1", NULL, { NULL }, FB_OK, "https", "iam.cn-north-1.amazonaws.com.cn", "", "cn-north-1", 0 },
	{ "iam", "us-gov-east-1", NULL, { NULL }, FB_OK, "https", "iam.us-gov.amazonaws.com", "", "us-gov-west-1", 0 },
	/* FIPS */
	{ "kms", "us-east-2", NULL, { "AWS_USE_FIPS_ENDPOINT=true", NULL }, FB_OK, "https", "kms-fips.us-east-2.amazonaws.com", "", "us-east-2", 0 },
	{ "ec2", "us-west-2", NULL, { "AWS_USE_FIPS_ENDPOINT=TRUE", NULL }, FB_OK, "https", "ec2-fips.us-west-2.amazonaws.com", "", "us-west-2", 0 },
	{ "iam", "us-west-2", NULL, { "AWS_USE_FIPS_ENDPOINT=true", NULL }, FB_OK, "https", "iam-fips.amazonaws.com", "", "us-east-1", 0 },
	{ "kms", "us-gov-west-1", NULL, { "AWS_USE_FIPS_ENDPOINT=true", NULL }, FB_OK, "https", "kms-fips.us-gov-west-1.amazonaws.com", "", "us-gov-west-1", 0 },
	{ "sts", "us-gov-west-1", NULL, { "AWS_USE_FIPS_ENDPOINT=true", NULL }, FB_OK, "https", "sts.us-gov-west-1.amazonaws.com", "", "us-gov-west-1", 0 },
	{ "logs", "us-gov-east-1", NULL, { "AWS_USE_FIPS_ENDPOINT=true", NULL }, FB_OK, "https", "logs.us-gov-east-1.amazonaws.com", "", "us-gov-east-1", 0 },
	{ "kms", "us-east-1", NULL, { "AWS_USE_FIPS_ENDPOINT=false", NULL }, FB_OK, "https", "kms.us-east-1.amazonaws.com", "", "us-east-1", 0 },
	{ "kms", "cn-north-1", NULL, { "AWS_USE_FIPS_ENDPOINT=true", NULL }, FB_E_CONFIG, NULL, NULL, NULL, NULL, 0 },
	/* issue 23: CodeArtifact (endpointPrefix and signing name codeartifact; no FIPS variant) */
	{ "codeartifact", "eu-west-1", NULL, { NULL }, FB_OK, "https", "codeartifact.eu-west-1.amazonaws.com", "", "eu-west-1", 0 },
	{ "codeartifact", "us-east-1", NULL, { "AWS_ENDPOINT_URL_CODEARTIFACT=http://127.0.0.1:9", NULL }, FB_OK, "http", "127.0.0.1:9", "", "us-east-1", 0 },
	{ "codeartifact", "us-east-1", NULL, { "AWS_USE_FIPS_ENDPOINT=true", NULL }, FB_E_CONFIG, NULL, NULL, NULL, NULL, 0 },
	/* issue 19: WAFv2 (endpointPrefix and signing name wafv2; CLOUDFRONT scope lives in us-east-1) */
	{ "wafv2", "eu-west-1", NULL, { NULL }, FB_OK, "https", "wafv2.eu-west-1.amazonaws.com", "", "eu-west-1", 0 },
	{ "wafv2", "us-east-1", NULL, { "AWS_USE_FIPS_ENDPOINT=true", NULL }, FB_OK, "https", "wafv2-fips.us-east-1.amazonaws.com", "", "us-east-1", 0 },
	{ "wafv2", "us-gov-west-1", NULL, { "AWS_USE_FIPS_ENDPOINT=true", NULL }, FB_OK, "https", "wafv2-fips.us-gov-west-1.amazonaws.com", "", "us-gov-west-1", 0 },
	{ "wafv2", "us-east-1", NULL, { "AWS_ENDPOINT_URL_WAFV2=http://127.0.0.1:7", NULL }, FB_OK, "http", "127.0.0.1:7", "", "us-east-1", 0 },
	/* issue 23: Cognito user pools (botocore endpoints.json: cognito-idp-fips in aws and aws-us-gov) */
	{ "cognito-idp", "eu-west-1", NULL, { NULL }, FB_OK, "https", "cognito-idp.eu-west-1.amazonaws.com", "", "eu-west-1", 0 },
	{ "cognito-idp", "us-east-2", NULL, { "AWS_USE_FIPS_ENDPOINT=true", NULL }, FB_OK, "https", "cognito-idp-fips.us-east-2.amazonaws.com", "", "us-east-2", 0 },
	{ "cognito-idp", "us-gov-west-1", NULL, { "AWS_USE_FIPS_ENDPOINT=true", NULL }, FB_OK, "https", "cognito-idp-fips.us-gov-west-1.amazonaws.com", "", "us-gov-west-1", 0 },
	{ "cognito-idp", "us-east-1", NULL, { "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=http://127.0.0.1:9", NULL }, FB_OK, "http", "127.0.0.1:9", "", "us-east-1", 0 },
	/* S3: virtual-hosted unless overridden or not a DNS label */
	{ "s3", "eu-west-1", "my-bucket", { NULL }, FB_OK, "https", "my-bucket.s3.eu-west-1.amazonaws.com", "", "eu-west-1", 0 },
	{ "s3", "us-east-1", "my.dotted.bucket", { NULL }, FB_OK, "https", "s3.us-east-1.amazonaws.com", "", "us-east-1", 1 },
	{ "s3", "cn-north-1", "logs", { NULL }, FB_OK, "https", "logs.s3.cn-north-1.amazonaws.com.cn", "", "cn-north-1", 0 },
	{ "s3", "us-east-1", "b1-x", { "AWS_USE_FIPS_ENDPOINT=true", NULL }, FB_OK, "https", "b1-x.s3-fips.us-east-1.amazonaws.com", "", "us-east-1", 0 },
	{ "s3", "us-east-1", "bucket", { "AWS_ENDPOINT_URL=http://127.0.0.1:4566", NULL }, FB_OK, "http", "127.0.0.1:4566", "", "us-east-1", 1 },
	/* overrides: service-specific wins, then global, ignore flag */
	{ "kms", "us-east-1", NULL, { "AWS_ENDPOINT_URL=http://127.0.0.1:1", "AWS_ENDPOINT_URL_KMS=http://localhost:2/", NULL }, FB_OK, "http", "localhost:2", "", "us-east-1", 0 },
	{ "secretsmanager", "us-east-1", NULL, { "AWS_ENDPOINT_URL_SECRETS_MANAGER=https://sm.example:8443/base/", NULL }, FB_OK, "https", "sm.example:8443", "/base", "us-east-1", 0 },
	{ "logs", "us-east-1", NULL, { "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=http://[::1]:9000", NULL }, FB_OK, "http", "[::1]:9000", "", "us-east-1", 0 },
	{ "logs", "us-east-1", NULL, { "AWS_ENDPOINT_URL_LOGS=http://wrong:1", NULL }, FB_OK, "https", "logs.us-east-1.amazonaws.com", "", "us-east-1", 0 },
	{ "ec2", "us-east-1", NULL, { "AWS_ENDPOINT_URL=https://e.example:443", NULL }, FB_OK, "https", "e.example", "", "us-east-1", 0 },
	{ "iam", "eu-west-1", NULL, { "AWS_ENDPOINT_URL_IAM=http://127.0.0.1:5000", NULL }, FB_OK, "http", "127.0.0.1:5000", "", "us-east-1", 0 },
	{ "kms", "us-east-1", NULL, { "AWS_ENDPOINT_URL=http://127.0.0.1:1", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true", NULL }, FB_OK, "https", "kms.us-east-1.amazonaws.com", "", "us-east-1", 0 },
	/* refusals */
	{ "kms", "us-east-1", NULL, { "AWS_ENDPOINT_URL=ftp://x", NULL }, FB_E_CONFIG, NULL, NULL, NULL, NULL, 0 },
	{ "kms", "us-east-1", NULL, { "AWS_ENDPOINT_URL=http://user@evil", NULL }, FB_E_CONFIG, NULL, NULL, NULL, NULL, 0 },
	{ "kms", "us-east-1", NULL, { "AWS_ENDPOINT_URL=http://h/p?q=1", NULL }, FB_E_CONFIG, NULL, NULL, NULL, NULL, 0 },
	{ "kms", "US-EAST-1", NULL, { NULL }, FB_E_CONFIG, NULL, NULL, NULL, NULL, 0 },
	{ "kms", "us-east-1.evil.com/", NULL, { NULL }, FB_E_CONFIG, NULL, NULL, NULL, NULL, 0 },
	{ "glacier", "us-east-1", NULL, { NULL }, FB_E_INVALID, NULL, NULL, NULL, NULL, 0 },
};

static void test_endpoint__table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct endpoint ep;
		char err[200] = "";
		enum fb_err rc;

		env_now = r->env;
		rc = endpoint_resolve(r->service, r->region, r->bucket, fake_getenv, &ep, err, sizeof(err));
		if (rc != r->rc || (rc == FB_OK && (strcmp(ep.host, r->host) || strcmp(ep.scheme, r->scheme) ||
						     strcmp(ep.base_path, r->base_path) ||
						     strcmp(ep.signing_region, r->signing_region) ||
						     ep.s3_path_style != r->path_style)))
			fail_msg("row %zu (%s %s): rc %d host '%s' scheme '%s' base '%s' sreg '%s' path %d err '%s'",
				 i, r->service, r->region, rc, rc ? "" : ep.host, rc ? "" : ep.scheme,
				 rc ? "" : ep.base_path, rc ? "" : ep.signing_region,
				 rc ? 0 : ep.s3_path_style, err);
		if (rc)
			assert_true(err[0] != '\0');
	}
}

static void test_endpoint__partitions_and_ids(void **state)
{
	(void)state;
	assert_string_equal(endpoint_partition("us-east-1"), "aws");
	assert_string_equal(endpoint_partition("cn-northwest-1"), "aws-cn");
	assert_string_equal(endpoint_partition("us-gov-west-1"), "aws-us-gov");
	assert_string_equal(endpoint_dns_suffix("aws-cn"), "amazonaws.com.cn");
	assert_string_equal(endpoint_dns_suffix("aws-us-gov"), "amazonaws.com");
	assert_string_equal(endpoint_service_env_id("logs"), "CLOUDWATCH_LOGS");
	assert_string_equal(endpoint_service_env_id("secretsmanager"), "SECRETS_MANAGER");
	assert_string_equal(endpoint_service_env_id("cloudtrail"), "CLOUDTRAIL");
	assert_string_equal(endpoint_service_env_id("wafv2"), "WAFV2");
	assert_null(endpoint_service_env_id("nope"));
}

/* The global-service Region of each partition (IAM's signing Region, and
 * where CloudTrail records console sign-ins: root-verify reads it). */
static void test_endpoint__global_region(void **st)
{
	(void)st;
	assert_string_equal(endpoint_global_region("aws"), "us-east-1");
	assert_string_equal(endpoint_global_region("aws-cn"), "cn-north-1");
	assert_string_equal(endpoint_global_region("aws-us-gov"), "us-gov-west-1");
	assert_string_equal(endpoint_global_region(NULL), "us-east-1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoint__table),
		cmocka_unit_test(test_endpoint__partitions_and_ids),
		cmocka_unit_test(test_endpoint__global_region),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
