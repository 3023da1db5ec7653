/*
 * arn: reading Amazon Resource Names (arn.h).
 */
#include "arn.h"

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
