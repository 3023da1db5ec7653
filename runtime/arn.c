/*
 * arn: ARNs and KMS key references (arn.h).
 */
#include "arn.h"

#include <ctype.h>
#include <stdio.h>
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

/* ---- issue 17, from task-quarantine ----------------------------------------------- */

int arn_field(const char *s, int idx, char *out, size_t outlen)
{
	const char *p = s, *e;
	int i;

	if (strncmp(s, "arn:", 4))
		return 0;
	for (i = 0; i < idx; i++) {
		p = strchr(p, ':');
		if (!p)
			return 0;
		p++;
	}
	e = strchr(p, ':');
	if (!e)
		e = p + strlen(p);
	if ((size_t)(e - p) >= outlen || e == p)
		return 0;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
	return 1;
}

/* Runs of `set` of length 1..max ending at ':'; returns past the ':'. */
static const char *arn_part(const char *p, const char *set, size_t max)
{
	size_t n = strspn(p, set);

	return n >= 1 && n <= max && p[n] == ':' ? p + n + 1 : NULL;
}

const char *arn_rest(const char *s, const char *service)
{
	size_t sl = strlen(service);
	const char *p;

	if (strncmp(s, "arn:", 4))
		return NULL;
	p = arn_part(s + 4, "abcdefghijklmnopqrstuvwxyz-", 16);
	if (!p || strncmp(p, service, sl) || p[sl] != ':')
		return NULL;
	p = arn_part(p + sl + 1, "abcdefghijklmnopqrstuvwxyz0123456789-", 32);
	if (!p || strspn(p, "0123456789") != 12 || p[12] != ':')
		return NULL;
	return p + 13;
}

const char *arn_tail(const char *s)
{
	const char *t = strrchr(s, '/');

	return t ? t + 1 : s;
}

/* ---- ECS references --------------------------------------------------------------- */

/* [A-Za-z0-9_-]{1,255}: an ECS cluster name. */
static int cluster_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n < 1 || n > 255)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

/* A task id: 32 hex digits; tasks of the old ARN format have UUIDs. */
static int task_id_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 32)
		return strspn(s, "0123456789abcdefABCDEF") == 32;
	if (n != 36)
		return 0;
	for (i = 0; i < n; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

int arn_ecs_task_ok(const char *s)
{
	const char *rest, *slash;

	if (!s)
		return 0;
	if (strncmp(s, "arn:", 4))
		return task_id_ok(s, strlen(s));
	rest = arn_rest(s, "ecs");
	if (!rest || strncmp(rest, "task/", 5))
		return 0;
	rest += 5;
	slash = strchr(rest, '/');
	if (!slash) /* the old format: task/<id> */
		return task_id_ok(rest, strlen(rest));
	return cluster_name_ok(rest, (size_t)(slash - rest)) && task_id_ok(slash + 1, strlen(slash + 1));
}

int arn_ecs_cluster_ok(const char *s)
{
	const char *rest;

	if (!s)
		return 0;
	if (strncmp(s, "arn:", 4))
		return cluster_name_ok(s, strlen(s));
	rest = arn_rest(s, "ecs");
	return rest && !strncmp(rest, "cluster/", 8) && cluster_name_ok(rest + 8, strlen(rest + 8));
}

int arn_ecs_task_cluster(const char *task, char *out, size_t outlen)
{
	const char *rest = arn_rest(task, "ecs"), *tp, *slash;
	int n;

	if (!rest || strncmp(rest, "task/", 5))
		return 0;
	tp = rest + 5;
	slash = strchr(tp, '/');
	if (!slash) /* old format task/<id>: the ARN names no cluster */
		return 0;
	/* "arn:<partition>:ecs:<region>:<account>:" + "cluster/<name>" */
	n = snprintf(out, outlen, "%.*scluster/%.*s", (int)(rest - task), task, (int)(slash - tp), tp);
	return n > 0 && (size_t)n < outlen;
}
