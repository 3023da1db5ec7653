/*
 * buf: one growable byte buffer with a hard cap (curl dynbuf.c style).
 *
 * Appends past `max` fail with FB_E_TOO_LARGE instead of growing without
 * bound, so hostile input cannot exhaust memory. `data` is always
 * NUL-terminated when non-NULL (the NUL is not counted in `len`).
 *
 * Bodies that hold secrets pass through here, so the bytes are wiped
 * (explicit_bzero) before memory is freed: buf_cleanup() and growth
 * (never realloc) wipe the whole allocation, buf_reset() the bytes in use.
 * buf_detach() hands the bytes over: the caller wipes them if they matter.
 */
#ifndef FB_BUF_H
#define FB_BUF_H

#include <stddef.h>
#include "fb_err.h"

struct buf {
	char *data;   /* owned; NULL until the first append */
	size_t len;
	size_t cap;
	size_t max;   /* hard cap on len */
};

void buf_init(struct buf *b, size_t max);
enum fb_err buf_append(struct buf *b, const void *p, size_t n);
enum fb_err buf_puts(struct buf *b, const char *s);
enum fb_err buf_putc(struct buf *b, char c);
enum fb_err buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Empties the buffer (wiping what it held), keeps the allocation. */
void buf_reset(struct buf *b);
/* Hands the data to the caller (caller frees with free()); the buffer is
 * left empty. Never NULL on success: an empty buffer gives "". */
char *buf_detach(struct buf *b, size_t *len);
void buf_cleanup(struct buf *b);

/* For fixed-size char arrays (report fields, ids), not struct buf: copies
 * src (NULL = "") into dst[n], truncating, always NUL-terminated when n > 0.
 * Where a cut identifier must not be acted on, check strlen first. */
void buf_copy_str(char *dst, size_t n, const char *src);
/* The same for identifiers that must never be cut (the caller treats a cut
 * one as invalid rather than act on the wrong thing): src (NULL = "")
 * whole into dst[n], or "" and 0 when it does not fit; 1 when copied. */
int buf_copy_id(char *dst, size_t n, const char *src);

/* Appends printf-style text to the NUL-terminated string in dst[n], cut to
 * fit (a list in a fixed report field: "a, b, c"). Returns the new length
 * (n - 1 once full). dst[0] must be a string (at least ""). */
size_t buf_catf(char *dst, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * The wiping allocator, for memory a library allocates and may fill with a
 * secret (a SecretString in a request, a SecretAccessKey in an answer):
 * buf_wipe_free wipes the whole block (malloc_usable_size: the caller need
 * not know its size) before freeing it; buf_wipe_realloc grows by malloc +
 * copy + wipe, never by realloc (a moved block would be freed unwiped).
 * buf_wipe_cjson() makes cJSON allocate through them, for the process
 * (lr_main calls it first; tests may too): every cJSON_Delete and cJSON_free
 * then wipes. p may be NULL.
 */
void buf_wipe_free(void *p);
void *buf_wipe_realloc(void *p, size_t n);
void buf_wipe_cjson(void);

/* ---- w4-kc-lr: a growable array -------------------------------------------------- */

/* Room for element n of the array v (capacity *cap, elements of sz bytes,
 * `first` elements at the first growth, doubling after): v itself when
 * n < *cap, else the grown array (*cap updated; the caller stores it), or
 * NULL when out of memory (v untouched, still the caller's). Plain
 * realloc: not for secret bytes (buf_wipe_realloc). */
void *buf_grow_array(void *v, size_t n, size_t *cap, size_t sz, size_t first);

/* A formatted copy on the heap (caller frees), NULL when out of memory
 * or the format fails. */
char *buf_strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Wipes every string in a cJSON tree (explicit_bzero) before it is freed:
 * a parsed secret or log text. j (a node and its siblings) may be NULL.
 * Moved from leak-rotate (leak_cjson_wipe) for runtime/cloudtrail. */
struct cJSON;
void buf_cjson_wipe(struct cJSON *j);

#endif
