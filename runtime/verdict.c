/*
 * verdict: coded, levelled reasons and the severity they give (verdict.h).
 */
#include "verdict.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void vd_add(struct vd_verdict *v, const char *code, enum vd_level lvl, const char *fmt, ...)
{
	char detail[sizeof(v->reasons[0].detail)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < v->nreasons; i++) {
		struct vd_reason *r = &v->reasons[i];

		if (strcmp(r->code, code) == 0) {
			size_t l = strlen(r->detail);

			snprintf(r->detail + l, sizeof(r->detail) - l, "; %s", detail);
			if (lvl < r->level)
				r->level = lvl;
			return;
		}
	}
	if (v->nreasons == VD_MAX_REASONS)
		return;
	struct vd_reason *r = &v->reasons[v->nreasons++];
	r->code = code;
	r->level = lvl;
	snprintf(r->detail, sizeof(r->detail), "%s", detail);
}

int vd_has(const struct vd_verdict *v, const char *code)
{
	for (size_t i = 0; i < v->nreasons; i++)
		if (strcmp(v->reasons[i].code, code) == 0)
			return 1;
	return 0;
}

const char *vd_level_name(enum vd_level l)
{
	static const char *const names[] = { [VD_P1] = "P1", [VD_P2] = "P2", [VD_P3] = "P3" };

	return l >= VD_P1 && l <= VD_P3 ? names[l] : "info";
}

enum vd_level vd_severity(struct vd_verdict *v)
{
	enum vd_level sev = VD_P3;

	for (size_t i = 0; i < v->nreasons; i++)
		if (v->reasons[i].level < sev)
			sev = v->reasons[i].level;
	snprintf(v->severity, sizeof(v->severity), "%s", vd_level_name(sev));
	return sev;
}

cJSON *vd_reasons_json(const struct vd_verdict *v)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a && i < v->nreasons; i++) {
		cJSON *r = cJSON_CreateObject();

		cJSON_AddStringToObject(r, "code", v->reasons[i].code);
		cJSON_AddStringToObject(r, "severity", vd_level_name(v->reasons[i].level));
		cJSON_AddStringToObject(r, "detail", v->reasons[i].detail);
		cJSON_AddItemToArray(a, r);
	}
	return a;
}
