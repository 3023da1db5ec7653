/*
 * arn: ARNs and KMS key references (arn.h).
 */
#include "arn.h"

#include <ctype.h>
#include <string.h>

#include "resp.h"

/* Copies the n bytes at s into out[cap]; 0 when they do not fit. */
static int field(char *out, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return 0;
	memcpy(out, s, n);
	out[n] = '\0';
	return 1;
}

int arn_parse(const char *s, struct arn *a)
{
	char *const dst[4] = { a->partition, a->service, a->region, a->account };
	const size_t cap[4] = { sizeof(a->partition), sizeof(a->service), sizeof(a->region),
				sizeof(a->account) };
	const char *p, *colon;
	int i;

	memset(a, 0, sizeof(*a));
	if (!s || strncmp(s, "arn:", 4))
		return 0;
	p = s + 4;
	for (i = 0; i < 4; i++, p = colon + 1)
		if (!(colon = strchr(p, ':')) || !field(dst[i], cap[i], p, (size_t)(colon - p))) {
			memset(a, 0, sizeof(*a));
			return 0;
		}
	a->resource = p;
	return 1;
}

int arn_partition_ok(const char *partition)
{
	return partition && (!strcmp(partition, "aws") || !strcmp(partition, "aws-cn") ||
			     !strcmp(partition, "aws-us-gov"));
}

int arn_region_ok(const char *region, const char *partition)
{
	int cn, gov;

	if (!region || !resp_region_name_ok(region))
		return 0;
	if (!partition)
		return 1;
	cn = !strncmp(region, "cn-", 3);
	gov = !strncmp(region, "us-gov-", 7);
	if (!strcmp(partition, "aws-cn"))
		return cn;
	if (!strcmp(partition, "aws-us-gov"))
		return gov;
	return !cn && !gov;
}

static int hex_run(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int key_id_ok(const char *s)
{
	static const size_t groups[] = { 8, 4, 4, 4, 12 };
	size_t g, at = 0;

	if (strlen(s) != 36)
		return 0;
	if (!strncmp(s, "mrk-", 4))
		return hex_run(s + 4, 32);
	for (g = 0; g < 5; g++) {
		if (!hex_run(s + at, groups[g]))
			return 0;
		at += groups[g];
		if (g < 4 && s[at++] != '-')
			return 0;
	}
	return 1;
}

/* "alias/" + name; "alias/" alone or a name past 256 characters is not one. */
static int alias_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n <= 6 || n > ARN_KMS_ALIAS_MAX || strncmp(s, "alias/", 6))
		return 0;
	for (i = 6; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '/' && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

static int kms_arn_ok(const char *s)
{
	struct arn a;
	size_t i;

	if (!arn_parse(s, &a) || strchr(a.resource, ':') || !arn_partition_ok(a.partition) ||
	    strcmp(a.service, "kms") || !arn_region_ok(a.region, a.partition) || strlen(a.account) != 12)
		return 0;
	for (i = 0; i < 12; i++)
		if (!isdigit((unsigned char)a.account[i]))
			return 0;
	if (!strncmp(a.resource, "key/", 4))
		return key_id_ok(a.resource + 4);
	return alias_ok(a.resource);
}

int arn_kms_ref_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > ARN_KMS_REF_MAX)
		return 0;
	if (!strncmp(s, "arn:", 4))
		return kms_arn_ok(s);
	if (!strncmp(s, "alias/", 6))
		return alias_ok(s);
	return key_id_ok(s);
}

int arn_kms(const char *s, struct arn *a)
{
	if (!arn_parse(s, a) || strcmp(a->service, "kms") || !a->region[0] || !a->account[0] ||
	    (strncmp(a->resource, "key/", 4) && strncmp(a->resource, "alias/", 6))) {
		memset(a, 0, sizeof(*a));
		return 0;
	}
	return 1;
}
