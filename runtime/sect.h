/*
 * sect: a report's per-item sections. A responder that acts on several
 * items in one invocation (kms-guard: the key changes of an alarm window)
 * reports each in an object of an extra[] array, whose "outcome" opens
 * with one word: "contained: ...", "already: ...", "planned ...",
 * "skipped: ...", "failed: ...". The invocation's verdict then follows
 * from those words, the same way for every such responder (sect_verdict).
 * Prefix sect_. No AWS, no clock: the report (resp.h) is all it touches.
 */
#ifndef FB_SECT_H
#define FB_SECT_H

#include <stdint.h>
#include <cjson/cJSON.h>
#include "resp.h"

/* sec["outcome"] = the formatted text (replacing one set earlier); returns
 * rc, so that `return sect_outcome(sec, -1, "failed: ...")` ends an item
 * handler with its result. */
int sect_outcome(cJSON *sec, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* How many sections' outcomes open with `word` ("skipped: "). */
int sect_count(const cJSON *sections, const char *word);

/* The facts of the event an item came from, appended to sec: event_name,
 * event_id (null when ""), event_time (ISO, left out when ms is 0), actor
 * (null when ""). Strings borrowed. */
void sect_event(cJSON *sec, const char *name, const char *id, int64_t ms, const char *actor);

/* One item: the members `names` (n of them) of its section copied to the
 * top of the report (to: r->extra) when the section has them. */
void sect_lift(cJSON *to, const cJSON *sec, const char *const *names, size_t n);

/* RESPONDERS.md: "the state already reached is `already`" and "a report
 * never says contained when it was not". resp derives "contained" from any
 * write step that is done, a bookkeeping write (an incident tag) included;
 * an invocation whose items made no containment write ("contained: ") and
 * found at least one already in its safe state ("already: ") contained
 * nothing: "already-contained". NULL leaves the verdict to resp
 * (contained / planned / failed / skipped); a dry run's always. Static
 * string. */
const char *sect_already(int dry_run, int nchanged, int nalready);

/* The verdict from the sections (extra[<array>], borrowed), unless a
 * required step failed: every item skipped -> resp_skip with the item's
 * own reason when there is one section, else "all <n> <noun> were skipped
 * (see <array>[])"; then sect_already. A dry run's planned sections count
 * as acted on (not skipped). */
void sect_verdict(struct resp *r, const cJSON *sections, const char *noun, const char *array);

#endif
