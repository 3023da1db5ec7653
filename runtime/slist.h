/*
 * slist: a list of owned strings, as settings give them ("a, b,,c": a
 * comma list, items trimmed, empty ones dropped; kit_list_next splits).
 * Prefix slist_. Issue 17: leak-rotate's leak_list, moved here for every
 * responder whose settings name several things (secrets, log groups,
 * fields).
 *
 * Ownership: struct slist is caller-placed (zeroed, or filled by
 * slist_parse / slist_env) and owns its strings; slist_free releases them
 * whatever an earlier call returned.
 */
#ifndef FB_SLIST_H
#define FB_SLIST_H

#include <stddef.h>
#include "fb_err.h"

struct slist {
	char **v;
	size_t n;
};

/* Appends a copy of s. */
enum fb_err slist_add(struct slist *l, const char *s);
void slist_free(struct slist *l);
/* "a, b,,c" -> {"a","b","c"}; NULL or "" -> empty. l is zeroed first; on
 * error it holds what was parsed. */
enum fb_err slist_parse(const char *s, struct slist *l);
/* slist_parse of the environment's `name`; `dflt` (may be NULL) when the
 * variable is unset (set to "": an empty list). */
enum fb_err slist_env(const char *name, const char *dflt, struct slist *l);
/* 1 when s (may be NULL) is in the list, compared without regard to ASCII
 * case. */
int slist_has_nocase(const struct slist *l, const char *s);

#endif
