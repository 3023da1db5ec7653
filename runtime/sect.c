/*
 * sect: per-item report sections and the verdict from them (sect.h).
 */
#include "sect.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int sect_outcome(cJSON *sec, int rc, const char *fmt, ...)
{
	char buf[600];

	RESP_FORMAT(buf, fmt);
	resp_json_set(sec, "outcome", buf);
	return rc;
}

int sect_count(const cJSON *sections, const char *word)
{
	const cJSON *sec;
	int n = 0;

	cJSON_ArrayForEach(sec, sections) {
		const char *o = resp_get_str(sec, "outcome");

		n += o && !strncmp(o, word, strlen(word));
	}
	return n;
}

void sect_event(cJSON *sec, const char *name, const char *id, int64_t ms, const char *actor)
{
	char iso[RESP_TIME_LEN];

	cJSON_AddStringToObject(sec, "event_name", name);
	resp_json_set(sec, "event_id", id && id[0] ? id : NULL);
	if (ms) {
		resp_format_time_ms(ms, iso);
		cJSON_AddStringToObject(sec, "event_time", iso);
	}
	resp_json_set(sec, "actor", actor && actor[0] ? actor : NULL);
}

void sect_lift(cJSON *to, const cJSON *sec, const char *const *names, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (resp_get(sec, names[k]))
			cJSON_AddItemToObject(to, names[k], cJSON_Duplicate(resp_get(sec, names[k]), 1));
}

const char *sect_already(int dry_run, int nchanged, int nalready)
{
	if (dry_run || nchanged > 0 || nalready == 0)
		return NULL;
	return "already-contained";
}

void sect_verdict(struct resp *r, const cJSON *sections, const char *noun, const char *array)
{
	/* contained, planned or already: an item held in its safe state */
	int nskipped = sect_count(sections, "skipped: "), nalready = sect_count(sections, "already: ");
	int nchanged = sect_count(sections, "contained: ");

	if (!resp_failed(r) && nskipped && !(nchanged + nalready + sect_count(sections, "planned "))) {
		const char *o = resp_get_str(cJSON_GetArrayItem(sections, 0), "outcome");

		if (nskipped == 1 && o && !strncmp(o, "skipped: ", 9))
			resp_skip(r, "%s", o + 9);
		else
			resp_skip(r, "all %d %s were skipped (see %s[])", nskipped, noun, array);
	}
	/* in a dry run nchanged counts no "planned" section: sect_already
	 * leaves a dry run's verdict to resp whatever the counts */
	if (!resp_failed(r) && sect_already(r->dry_run, nchanged, nalready))
		resp_set_verdict(r, "%s", sect_already(r->dry_run, nchanged, nalready));
}
