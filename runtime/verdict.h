/*
 * verdict: a triage verdict as a list of coded reasons, each at a level
 * (P1..P3, or info), for a responder whose job is a verdict rather than a
 * containment (root-verify's; issue 17 moved its bookkeeping here). Prefix
 * vd_. Pure: no I/O, no clock.
 *
 * The bookkeeping is the same for every such responder: one reason per
 * code (the details of a code added twice are merged), the severity is the
 * worst level found, the report's reasons[] array. Which reasons, at which
 * level, in which words, and the verdict line, stay the responder's.
 */
#ifndef FB_VERDICT_H
#define FB_VERDICT_H

#include <stddef.h>
#include <cjson/cJSON.h>

#define VD_MAX_REASONS 24

/* P1 is the most urgent; info never sets the severity. */
enum vd_level { VD_P1 = 1, VD_P2 = 2, VD_P3 = 3, VD_INFO = 4 };

struct vd_reason {
	const char *code;           /* static */
	enum vd_level level;
	char detail[384];
};

/* Plain data: zero it to start. */
struct vd_verdict {
	char severity[4];           /* "P1".."P3", set by vd_severity */
	char verdict[512];          /* the responder's verdict line */
	struct vd_reason reasons[VD_MAX_REASONS];
	size_t nreasons;
};

/* Adds a reason (code borrowed for v's life: a literal). The same code
 * again appends its detail ("; ") and keeps the more urgent level; past
 * VD_MAX_REASONS codes a new one is dropped. */
void vd_add(struct vd_verdict *v, const char *code, enum vd_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int vd_has(const struct vd_verdict *v, const char *code);
/* "P1", "P2", "P3"; "info" for anything else (static). */
const char *vd_level_name(enum vd_level l);
/* The most urgent level among the reasons, P3 when none is more urgent
 * (info reasons do not count); also written to v->severity. */
enum vd_level vd_severity(struct vd_verdict *v);
/* [{"code", "severity", "detail"}] in the order the reasons were added;
 * caller cJSON_Delete()s (NULL when out of memory). */
cJSON *vd_reasons_json(const struct vd_verdict *v);

#endif
