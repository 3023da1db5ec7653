#include "endpoint.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The services firebreak calls. fips_aws: "{svc}-fips" host in aws;
 * fips_gov: 1 = "{svc}-fips" in aws-us-gov, 0 = the plain host already is
 * the FIPS one there (botocore endpoints.json, fips-* variants). */
struct svc {
	const char *name;
	const char *env_id;
	int fips_gov_dash;
};

static const struct svc svcs[] = {
	{ "kms", "KMS", 1 },
	{ "secretsmanager", "SECRETS_MANAGER", 1 },
	{ "ecs", "ECS", 1 },
	{ "ec2", "EC2", 0 },
	{ "cloudtrail", "CLOUDTRAIL", 0 },
	{ "logs", "CLOUDWATCH_LOGS", 0 },
	{ "s3", "S3", 1 },
	{ "sns", "SNS", 0 },
	{ "iam", "IAM", 0 },
	{ "sts", "STS", 0 },
	{ "autoscaling", "AUTO_SCALING", 0 },  /* issue 20: DetachInstances */
	{ "s3control", "S3_CONTROL", 1 },      /* issue 19: account public access block */
	{ "wafv2", "WAFV2", 1 },              /* issue 19: wafv2-fips.{region} in aws and aws-us-gov */
	{ "dynamodb", "DYNAMODB", 1 },        /* issue 22 */
	{ "monitoring", "CLOUDWATCH", 1 },    /* issue 22: CloudWatch metrics */
	{ "cognito-idp", "COGNITO_IDENTITY_PROVIDER", 1 }, /* issue 23: cognito-idp-fips.{region} in both */
	{ "codeartifact", "CODEARTIFACT", 0 }, /* issue 23: no FIPS endpoint (endpoints.json) */
};

static const struct svc *svc_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(svcs) / sizeof(svcs[0]); i++)
		if (strcmp(svcs[i].name, name) == 0)
			return &svcs[i];
	return NULL;
}

const char *endpoint_service_env_id(const char *service)
{
	const struct svc *s = service ? svc_find(service) : NULL;

	return s ? s->env_id : NULL;
}

const char *endpoint_partition(const char *region)
{
	if (region && strncmp(region, "cn-", 3) == 0)
		return "aws-cn";
	if (region && strncmp(region, "us-gov-", 7) == 0)
		return "aws-us-gov";
	return "aws";
}

const char *endpoint_dns_suffix(const char *partition)
{
	return strcmp(partition, "aws-cn") == 0 ? "amazonaws.com.cn" : "amazonaws.com";
}

static int env_true(endpoint_getenv_fn g, const char *name)
{
	const char *v = g(name);

	return v && strcasecmp(v, "true") == 0;
}

static int region_ok(const char *region)
{
	size_t i, n = strlen(region);

	if (n == 0 || n >= 32)
		return 0;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)region[i]) || isdigit((unsigned char)region[i]) ||
		      region[i] == '-'))
			return 0;
	return 1;
}

/* A bucket can be a DNS label under the wildcard certificate. */
static int bucket_virtual_ok(const char *b)
{
	size_t i, n = strlen(b);

	if (n < 3 || n > 63 || b[0] == '-' || b[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)b[i]) || isdigit((unsigned char)b[i]) || b[i] == '-'))
			return 0;
	return 1;
}

/* 12 ASCII digits: an account id, the only thing s3control puts in a host. */
static int account_ok(const char *a)
{
	size_t i;

	if (!a || strlen(a) != 12)
		return 0;
	for (i = 0; i < 12; i++)
		if (!isdigit((unsigned char)a[i]))
			return 0;
	return 1;
}

static enum fb_err parse_override(const char *url, struct endpoint *ep, char *err, size_t errlen)
{
	const char *p, *host, *host_end, *port = NULL, *path;
	size_t hlen, plen;

	if (strncmp(url, "https://", 8) == 0) {
		snprintf(ep->scheme, sizeof(ep->scheme), "https");
		p = url + 8;
	} else if (strncmp(url, "http://", 7) == 0) {
		snprintf(ep->scheme, sizeof(ep->scheme), "http");
		p = url + 7;
	} else {
		snprintf(err, errlen, "endpoint url must start with http:// or https://");
		return FB_E_CONFIG;
	}
	host = p;
	if (*p == '[') {
		host_end = strchr(p, ']');
		if (!host_end) {
			snprintf(err, errlen, "cannot parse endpoint url host");
			return FB_E_CONFIG;
		}
		host_end++;
	} else {
		host_end = p + strcspn(p, ":/?#@");
	}
	if (*host_end == '@' || host_end == host) {
		snprintf(err, errlen, "endpoint url must have a host and no user info");
		return FB_E_CONFIG;
	}
	p = host_end;
	if (*p == ':') {
		port = ++p;
		while (isdigit((unsigned char)*p))
			p++;
		if (p == port || p - port > 5) {
			snprintf(err, errlen, "cannot parse endpoint url port");
			return FB_E_CONFIG;
		}
	}
	path = p;
	if (strpbrk(path, "?#@") || (*path && *path != '/')) {
		snprintf(err, errlen, "endpoint url must not have a query or fragment");
		return FB_E_CONFIG;
	}
	hlen = (size_t)(host_end - host);
	/* Default ports are left out of Host, as HTTP clients send it. */
	if (port && !((strcmp(ep->scheme, "https") == 0 && (size_t)(path - port) == 3 &&
		       strncmp(port, "443", 3) == 0) ||
		      (strcmp(ep->scheme, "http") == 0 && (size_t)(path - port) == 2 &&
		       strncmp(port, "80", 2) == 0)))
		hlen = (size_t)(path - host);
	if (hlen >= sizeof(ep->host)) {
		snprintf(err, errlen, "endpoint url host too long");
		return FB_E_CONFIG;
	}
	memcpy(ep->host, host, hlen);
	ep->host[hlen] = '\0';
	plen = strlen(path);
	while (plen && path[plen - 1] == '/')
		plen--;
	if (plen >= sizeof(ep->base_path)) {
		snprintf(err, errlen, "endpoint url path too long");
		return FB_E_CONFIG;
	}
	memcpy(ep->base_path, path, plen);
	ep->base_path[plen] = '\0';
	ep->overridden = 1;
	return FB_OK;
}

const char *endpoint_global_region(const char *partition)
{
	if (partition && strcmp(partition, "aws-cn") == 0)
		return "cn-north-1";
	if (partition && strcmp(partition, "aws-us-gov") == 0)
		return "us-gov-west-1";
	return "us-east-1";
}

enum fb_err endpoint_resolve(const char *service, const char *region,
			     const char *bucket, endpoint_getenv_fn getenv_fn,
			     struct endpoint *out, char *err, size_t errlen)
{
	const struct svc *s;
	const char *part, *dns, *url = NULL;
	char name[64];
	int fips, n = 0;
	char dummy[8];

	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	memset(out, 0, sizeof(*out));
	if (!getenv_fn)
		getenv_fn = (endpoint_getenv_fn)getenv;
	if (!service || !(s = svc_find(service))) {
		snprintf(err, errlen, "unknown service '%s'", service ? service : "");
		return FB_E_INVALID;
	}
	if (!region || !region_ok(region)) {
		snprintf(err, errlen, "invalid region '%s'", region ? region : "");
		return FB_E_CONFIG;
	}
	part = endpoint_partition(region);
	dns = endpoint_dns_suffix(part);
	/* S3 Control signs as "s3" (botocore: signingName). */
	snprintf(out->signing_name, sizeof(out->signing_name), "%s",
		 strcmp(s->name, "s3control") == 0 ? "s3" : s->name);
	snprintf(out->signing_region, sizeof(out->signing_region), "%s",
		 strcmp(s->name, "iam") == 0 ? endpoint_global_region(part) : region);

	if (!env_true(getenv_fn, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) {
		snprintf(name, sizeof(name), "AWS_ENDPOINT_URL_%s", s->env_id);
		url = getenv_fn(name);
		if (!url || !*url)
			url = getenv_fn("AWS_ENDPOINT_URL");
	}
	if (url && *url) {
		enum fb_err rc = parse_override(url, out, err, errlen);

		if (rc)
			return rc;
		out->s3_path_style = strcmp(s->name, "s3") == 0;
		return FB_OK;
	}

	snprintf(out->scheme, sizeof(out->scheme), "https");
	fips = env_true(getenv_fn, "AWS_USE_FIPS_ENDPOINT");
	if (fips && strcmp(part, "aws-cn") == 0) {
		snprintf(err, errlen, "no fips endpoint for '%s' in partition aws-cn", s->name);
		return FB_E_CONFIG;
	}
	if (strcmp(s->name, "iam") == 0) {
		if (strcmp(part, "aws-cn") == 0)
			n = snprintf(out->host, sizeof(out->host), "iam.cn-north-1.%s", dns);
		else if (strcmp(part, "aws-us-gov") == 0)
			n = snprintf(out->host, sizeof(out->host), "iam.us-gov.%s", dns);
		else
			n = snprintf(out->host, sizeof(out->host), "%s.%s",
				     fips ? "iam-fips" : "iam", dns);
	} else if (strcmp(s->name, "s3") == 0) {
		const char *s3 = fips ? "s3-fips" : "s3";

		if (bucket && *bucket && bucket_virtual_ok(bucket))
			n = snprintf(out->host, sizeof(out->host), "%s.%s.%s.%s",
				     bucket, s3, region, dns);
		else {
			n = snprintf(out->host, sizeof(out->host), "%s.%s.%s", s3, region, dns);
			out->s3_path_style = 1;
		}
	} else if (strcmp(s->name, "s3control") == 0) {
		/* {AccountId}.s3-control.{region}: the model's hostPrefix. The
		 * account id must be 12 digits (nothing else reaches a host). */
		const char *sc = fips ? "s3-control-fips" : "s3-control";

		if (!account_ok(bucket)) {
			snprintf(err, errlen, "s3control needs a 12-digit account id");
			return FB_E_INVALID;
		}
		n = snprintf(out->host, sizeof(out->host), "%s.%s.%s.%s", bucket, sc, region, dns);
	} else if (fips && strcmp(s->name, "codeartifact") == 0) {
		/* botocore's endpoints.json lists no FIPS variant: refuse
		 * rather than downgrade silently (as aws-cn above) */
		snprintf(err, errlen, "no fips endpoint for '%s'", s->name);
		return FB_E_CONFIG;
	} else {
		int dash = fips && (strcmp(part, "aws") == 0 || s->fips_gov_dash);

		n = snprintf(out->host, sizeof(out->host), "%s%s.%s.%s",
			     s->name, dash ? "-fips" : "", region, dns);
	}
	if (n < 0 || (size_t)n >= sizeof(out->host)) {
		snprintf(err, errlen, "endpoint host too long");
		return FB_E_INVALID;
	}
	return FB_OK;
}
