/*
 * field: the checks every responder's parsing repeated in its stages.c
 * (issue 17): a refusal's wording into the caller's `why`, the syntax of an
 * AWS name (length and characters), the members of a manual event as a
 * table, a string setting, a set of ids kept in a fixed array.
 *
 * Pure: no AWS, no clock; the environment is read by field_env_str only.
 * Every string in and out is the caller's (borrowed for the call).
 */
#ifndef FB_FIELD_H
#define FB_FIELD_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "fb_err.h"

/* printf-style into why[whylen], cut to fit; why NULL or whylen 0: nothing. */
void field_why(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same, returning FB_E_INVALID: `return field_bad(why, n, "...");` is
 * the whole refusal of a malformed event. */
enum fb_err field_bad(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* 1 when s (NULL: 0) is lo..hi bytes long and every byte is in `chars`: a
 * set written as in a regular expression's brackets, "a-zA-Z0-9_.-" (a '-'
 * first or last is itself). Bytes past ASCII are never in it. AWS documents
 * most names as such a pattern (DynamoDB table names [a-zA-Z0-9_.-]{3,255}). */
int field_name_ok(const char *s, size_t lo, size_t hi, const char *chars);

/* ---- the members of a manual event, as a table ---------------------------
 *
 * Each row is one check of one member, made in table order; the first that
 * fails puts its `why` into the caller's why (the wording the tests pin
 * stays the responder's) and field_read returns -1. A member may have
 * several rows (its type checked with the others first, its syntax after:
 * the order a responder always refused in is kept). A row:
 *  - absent member (or null with FIELD_NULL): fails when FIELD_REQUIRED,
 *    else passes;
 *  - present: fails unless its type is one of the type flags (none: any);
 *  - a string with `dst`: copied whole into dst[cap] (a longer one fails:
 *    an id is never cut and then acted on); with `ok`: fails unless
 *    ok(value) (checked after the copy, on the copy when there is one).
 * The table ends with a row whose name is NULL ({0}). */
#define FIELD_STR      0x01u
#define FIELD_BOOL     0x02u
#define FIELD_ARRAY    0x04u
#define FIELD_REQUIRED 0x10u
#define FIELD_NULL     0x20u   /* null counts as absent */
struct field {
	const char *name;           /* the member; NULL ends the table */
	unsigned flags;
	const char *why;            /* the refusal when this row fails */
	int (*ok)(const char *);    /* strings: the value's syntax; NULL: any */
	char *dst;                  /* strings: where the value goes; NULL: kept in obj */
	size_t cap;
};
/* Rows: a check of the member's presence and type; one whose string goes
 * into the char array dst (whole) and is checked by ok (NULL: any); the end. */
#define FIELD_CHECK(name, flags, why) { (name), (flags), (why), NULL, NULL, 0 }
#define FIELD_INTO(name, flags, why, ok, dst) { (name), (flags), (why), (ok), (dst), sizeof(dst) }
#define FIELD_END { NULL, 0, NULL, NULL, NULL, 0 }
/* obj borrowed (not an object: every member absent). 0, or -1 with why. */
int field_read(const cJSON *obj, const struct field *rows, char *why, size_t whylen);

/* A parsed event's tree, released: *j deleted (NULL: nothing) and cleared,
 * so a second cleanup does nothing. j may be NULL. */
void field_json_free(cJSON **j);

/* One row on its own, the member required: 0 when obj's member `name` is a
 * string that fits dst[cap] whole (copied) and passes ok (NULL: any), else
 * -1 (the caller words the refusal: "alarm event without a usable
 * alarmName"). */
int field_str(const cJSON *obj, const char *name, int (*ok)(const char *), char *dst, size_t cap);

/* ---- settings -------------------------------------------------------------- */

/* The string setting `name`: unset or "" leaves dst as it was (a default);
 * else copied whole into dst[cap]; one of cap bytes or more is FB_E_CONFIG
 * with err "setting '<name>' is too long" (never cut: a cut alarm name or
 * ARN would name something else). */
enum fb_err field_env_str(const char *name, char *dst, size_t cap, char *err, size_t errlen);

/* ---- a set of ids in a fixed array ---------------------------------------- */

/* set is char[max][width] (passed as its first byte), n its count: adds s
 * unless an equal string is there. 1 added, 0 already there, -1 full
 * (*n == max), -2 s NULL or of width bytes or more (never cut). */
int field_set_add(char *set, size_t width, size_t *n, size_t max, const char *s);

/* A value an event may name more than once and must name the same each
 * time (the region of every record, the group of every rule): dst[cap]
 * empty takes v; 0 when set or equal; -1 when dst holds another value or v
 * is NULL or of cap bytes or more (dst unchanged). */
int field_same(char *dst, size_t cap, const char *v);

#endif
