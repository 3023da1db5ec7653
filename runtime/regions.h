/*
 * regions: a list of AWS Region names read in turn, and how each read went
 * (a responder that reads the same history in several Regions:
 * root-verify's FIREBREAK_ROOT_REGIONS, its reading plan and its
 * "complete only when every Region was read"; issue 17 moved them here).
 * Prefix regions_. Pure: no I/O. A name is kept only when
 * resp_region_name_ok says it is one (a crafted name must never reach an
 * endpoint), each once, in order.
 */
#ifndef FB_REGIONS_H
#define FB_REGIONS_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "fb_err.h"

#define REGIONS_NAME_LEN 32

/* Adds `r` (borrowed, may be NULL) to out[*n] unless it is there already,
 * is not a Region name, or the list is full (cap). */
void regions_add(char out[][REGIONS_NAME_LEN], size_t *n, size_t cap, const char *r);

/* A comma list of Region names from the setting named `setting` (for
 * messages) into out[cap]; spaces around items ignored, empty items and
 * duplicates dropped; *n counts them. NULL or "" = none. FB_E_CONFIG with
 * a message ("setting '<setting>': '<item>' is not a region name", "...:
 * more than <cap> regions", "...: item too long") otherwise. */
enum fb_err regions_parse(const char *list, const char *setting, char out[][REGIONS_NAME_LEN],
			  size_t cap, size_t *n, char *err, size_t errlen);

/* ---- how each Region's read went ------------------------------------------ */

#define REGIONS_LOG_MAX 32

struct regions_read {
	char region[REGIONS_NAME_LEN];
	int complete;               /* every page of the window was read */
	size_t pages, events;
	int throttled;              /* throttled answers on the way */
	char why[200];              /* "" when complete */
};

/* The Regions of one read, in reading order. Plain data: zero it to start. */
struct regions_log {
	int complete;               /* every recorded Region complete (0 while none is) */
	char incomplete_why[400];   /* "" when complete */
	struct regions_read regions[REGIONS_LOG_MAX];
	size_t nregions;
};

/* Records how `region` was read (why: "" or NULL when complete; borrowed,
 * copied; "not read" when an incomplete read gives none), and recomputes
 * l->complete and l->incomplete_why ("regions not fully read: r1 (why);
 * ..."). Call once per planned Region, also for a Region that could not be
 * read. Past REGIONS_LOG_MAX Regions nothing more is recorded. */
void regions_log_add(struct regions_log *l, const char *region, int complete, size_t pages,
		     size_t events, int throttled, const char *why);
/* The report's view of l, added to o (borrowed): "regions" [{region,
 * complete, pages, events, throttled, why when incomplete}], then the names
 * in "regions_read" and "regions_incomplete". */
void regions_log_json(const struct regions_log *l, cJSON *o);

#endif
