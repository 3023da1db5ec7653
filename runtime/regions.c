/*
 * regions: lists of Region names (regions.h).
 */
#include "regions.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "kit.h"
#include "resp.h"

void regions_add(char out[][REGIONS_NAME_LEN], size_t *n, size_t cap, const char *r)
{
	if (!r || !resp_region_name_ok(r) || strlen(r) >= REGIONS_NAME_LEN)
		return;
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(out[i], r))
			return;
	if (*n < cap)
		buf_copy_str(out[(*n)++], REGIONS_NAME_LEN, r);
}

enum fb_err regions_parse(const char *list, const char *setting, char out[][REGIONS_NAME_LEN],
			  size_t cap, size_t *n, char *err, size_t errlen)
{
	char item[64];
	int got;

	*n = 0;
	while (list && (got = kit_list_next(&list, item, sizeof(item))) != 0) {
		size_t before = *n;

		if (got < 0) {
			snprintf(err, errlen, "setting '%s': item too long", setting);
			return FB_E_CONFIG;
		}
		if (!resp_region_name_ok(item)) {
			snprintf(err, errlen, "setting '%s': '%s' is not a region name", setting, item);
			return FB_E_CONFIG;
		}
		regions_add(out, n, cap, item);
		if (*n == before && before == cap) {
			snprintf(err, errlen, "setting '%s': more than %zu regions", setting, cap);
			return FB_E_CONFIG;
		}
	}
	return FB_OK;
}

void regions_log_add(struct regions_log *l, const char *region, int complete, size_t pages,
		     size_t events, int throttled, const char *why)
{
	if (l->nregions < REGIONS_LOG_MAX) {
		struct regions_read *r = &l->regions[l->nregions++];
		memset(r, 0, sizeof(*r));
		buf_copy_str(r->region, sizeof(r->region), region);
		r->complete = complete;
		r->pages = pages;
		r->events = events;
		r->throttled = throttled;
		buf_copy_str(r->why, sizeof(r->why), complete ? "" : why && *why ? why : "not read");
	}
	l->complete = l->nregions > 0;
	l->incomplete_why[0] = '\0';
	for (size_t i = 0; i < l->nregions; i++) {
		const struct regions_read *r = &l->regions[i];
		if (r->complete)
			continue;
		l->complete = 0;
		buf_catf(l->incomplete_why, sizeof(l->incomplete_why), "%s%s (%s)",
			 l->incomplete_why[0] ? "; " : "regions not fully read: ", r->region, r->why);
	}
}

void regions_log_json(const struct regions_log *l, cJSON *o)
{
	cJSON *rr = cJSON_AddArrayToObject(o, "regions");
	cJSON *rd = cJSON_AddArrayToObject(o, "regions_read");
	cJSON *rf = cJSON_AddArrayToObject(o, "regions_incomplete");

	for (size_t i = 0; i < l->nregions; i++) {
		const struct regions_read *g = &l->regions[i];
		cJSON *x = cJSON_CreateObject();
		if (x && cJSON_AddItemToArray(rr, x)) {
			cJSON_AddStringToObject(x, "region", g->region);
			cJSON_AddBoolToObject(x, "complete", g->complete);
			cJSON_AddNumberToObject(x, "pages", (double)g->pages);
			cJSON_AddNumberToObject(x, "events", (double)g->events);
			cJSON_AddNumberToObject(x, "throttled", (double)g->throttled);
			if (!g->complete)
				cJSON_AddStringToObject(x, "why", g->why);
		} else {
			cJSON_Delete(x);
		}
		cJSON_AddItemToArray(g->complete ? rd : rf, cJSON_CreateString(g->region));
	}
}
