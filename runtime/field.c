/*
 * field: refusals, name syntax, manual-event members as a table, string
 * settings, sets of ids (field.h).
 */
#include "field.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static void field_vwhy(char *why, size_t whylen, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void field_vwhy(char *why, size_t whylen, const char *fmt, va_list ap)
{
	if (why && whylen)
		vsnprintf(why, whylen, fmt, ap);
}

void field_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	field_vwhy(why, whylen, fmt, ap);
	va_end(ap);
}

enum fb_err field_bad(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	field_vwhy(why, whylen, fmt, ap);
	va_end(ap);
	return FB_E_INVALID;
}

/* c in the bracket set `chars` ("a-z0-9_.-"): a byte, or a range a-b. */
static int in_set(unsigned char c, const char *chars)
{
	const unsigned char *p = (const unsigned char *)chars;

	for (; *p; p++) {
		if (p[1] == '-' && p[2]) {
			if (c >= p[0] && c <= p[2])
				return 1;
			p += 2;
		} else if (c == *p) {
			return 1;
		}
	}
	return 0;
}

int field_name_ok(const char *s, size_t lo, size_t hi, const char *chars)
{
	size_t n;

	if (!s)
		return 0;
	n = strlen(s);
	if (n < lo || n > hi)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s > 0x7f || !in_set((unsigned char)*s, chars))
			return 0;
	return 1;
}

/* One row against its member m (NULL when absent): 1 passes. */
static int row_ok(const struct field *f, const cJSON *m)
{
	unsigned types = f->flags & (FIELD_STR | FIELD_BOOL | FIELD_ARRAY);
	const char *v;

	if (m && (f->flags & FIELD_NULL) && cJSON_IsNull(m))
		m = NULL;
	if (!m)
		return !(f->flags & FIELD_REQUIRED);
	if (types && !((types & FIELD_STR) && cJSON_IsString(m)) && !((types & FIELD_BOOL) && cJSON_IsBool(m)) &&
	    !((types & FIELD_ARRAY) && cJSON_IsArray(m)))
		return 0;
	if (!cJSON_IsString(m))
		return 1;
	v = m->valuestring;
	if (f->dst) {
		if (!buf_copy_id(f->dst, f->cap, v))
			return 0;
		v = f->dst;
	}
	return !f->ok || f->ok(v);
}

int field_read(const cJSON *obj, const struct field *rows, char *why, size_t whylen)
{
	const struct field *f;

	for (f = rows; f->name; f++) {
		const cJSON *m = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, f->name) : NULL;

		if (!row_ok(f, m)) {
			field_why(why, whylen, "%s", f->why);
			return -1;
		}
	}
	return 0;
}

void field_json_free(cJSON **j)
{
	if (!j)
		return;
	cJSON_Delete(*j);
	*j = NULL;
}

int field_str(const cJSON *obj, const char *name, int (*ok)(const char *), char *dst, size_t cap)
{
	const struct field row[] = { { name, FIELD_STR | FIELD_REQUIRED, "", ok, dst, cap }, FIELD_END };

	return field_read(obj, row, NULL, 0);
}

enum fb_err field_env_str(const char *name, char *dst, size_t cap, char *err, size_t errlen)
{
	const char *v = getenv(name);

	if (!v || !*v)
		return FB_OK;
	if (strlen(v) >= cap) {
		field_why(err, errlen, "setting '%s' is too long", name);
		return FB_E_CONFIG;
	}
	memcpy(dst, v, strlen(v) + 1);
	return FB_OK;
}

int field_set_add(char *set, size_t width, size_t *n, size_t max, const char *s)
{
	size_t i;

	if (!s || strlen(s) >= width)
		return -2;
	for (i = 0; i < *n; i++)
		if (!strcmp(set + i * width, s))
			return 0;
	if (*n >= max)
		return -1;
	memcpy(set + (*n)++ * width, s, strlen(s) + 1);
	return 1;
}

int field_same(char *dst, size_t cap, const char *v)
{
	if (!v || strlen(v) >= cap)
		return -1;
	if (!dst[0]) {
		memcpy(dst, v, strlen(v) + 1);
		return 0;
	}
	return strcmp(dst, v) ? -1 : 0;
}
