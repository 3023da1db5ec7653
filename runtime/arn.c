/*
 * arn: reading Amazon Resource Names (arn.h).
 */
#include "arn.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

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
