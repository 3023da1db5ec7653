/*
 * endpoint: where a service call goes and how it is signed. Pure: the
 * environment is read through a lookup function, so the whole table is
 * unit-testable (tests/unit/test_endpoint.c).
 *
 * Order (AWS SDKs and tools reference guide, "Service-specific endpoints"):
 *  1. AWS_ENDPOINT_URL_<SERVICE_ID> (serviceId upper-cased, spaces -> '_':
 *     KMS, SECRETS_MANAGER, ECS, EC2, CLOUDTRAIL, CLOUDWATCH_LOGS, S3, SNS,
 *     IAM, STS), then AWS_ENDPOINT_URL; both ignored when
 *     AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true;
 *  2. otherwise {service}.{region}.{dns suffix} of the region's partition:
 *     aws (amazonaws.com), aws-cn (cn-*, amazonaws.com.cn), aws-us-gov
 *     (us-gov-*, amazonaws.com). IAM is global (iam.amazonaws.com signed
 *     for us-east-1; iam.cn-north-1.amazonaws.com.cn; iam.us-gov.amazonaws.com
 *     signed for us-gov-west-1). STS is regional.
 *  3. AWS_USE_FIPS_ENDPOINT=true picks the FIPS host as botocore's
 *     endpoints.json lists it ({service}-fips.{region}... in aws; in
 *     aws-us-gov some services are FIPS on their plain host); aws-cn has
 *     none, which is an FB_E_CONFIG error rather than a silent downgrade.
 * S3 Control (s3control, issue 19) is {AccountId}.s3-control.{region}.{dns}
 * signed as "s3"; its endpoint_resolve takes the account id where S3 takes
 * the bucket (12 digits, else FB_E_INVALID). With an override URL the
 * account is not put in the host (botocore does, which a local emulator's
 * 127.0.0.1 cannot resolve): the x-amz-account-id header still names it.
 * S3 is virtual-hosted (bucket.s3.{region}.amazonaws.com) except when the
 * endpoint is overridden (local emulators) or the bucket name has a dot
 * (the wildcard certificate would not match): then path-style.
 */
#ifndef FB_ENDPOINT_H
#define FB_ENDPOINT_H

#include <stddef.h>
#include "fb_err.h"

/* Returns the value of an environment variable or NULL (getenv fits). */
typedef const char *(*endpoint_getenv_fn)(const char *name);

struct endpoint {
	char scheme[8];           /* "https" or "http" (overrides only) */
	char host[256];           /* Host header value; ":port" when non-default */
	char base_path[256];      /* path prefix of an override URL, "" or "/x" */
	char signing_region[32];
	char signing_name[32];
	int overridden;           /* came from AWS_ENDPOINT_URL[_<SERVICE>] */
	int s3_path_style;        /* s3: bucket goes in the path */
};

/* "aws", "aws-cn" or "aws-us-gov" for a region name. */
const char *endpoint_partition(const char *region);
/* "amazonaws.com" or "amazonaws.com.cn". */
const char *endpoint_dns_suffix(const char *partition);
/* "SECRETS_MANAGER" for "secretsmanager"; NULL for an unknown service. */
const char *endpoint_service_env_id(const char *service);
/* The partition's global-service Region (partition NULL: "aws"): IAM is
 * signed for it, and CloudTrail records console sign-ins and other global
 * service events there: us-east-1, cn-north-1 or us-gov-west-1. */
const char *endpoint_global_region(const char *partition);

/* Resolves `service` ("kms", "s3", ...) in `region`. For s3, `bucket` (may
 * be NULL) decides virtual-hosted vs path-style and joins the host; for
 * s3control it is the account id (required).
 * `getenv_fn` NULL means getenv. err gets a message on failure. */
enum fb_err endpoint_resolve(const char *service, const char *region,
			     const char *bucket, endpoint_getenv_fn getenv_fn,
			     struct endpoint *out, char *err, size_t errlen);

#endif
