/*
 * fuzz_kms_guard: kms-guard's pure stages (functions/kms-guard/stages.c,
 * declared in kms_guard.h). The first byte picks the stage:
 *   0 the event text -> kg_parse (EventBridge CloudTrail call, alarm,
 *     manual form);
 *   1 a CloudTrail record (as LookupEvents' CloudTrailEvent string carries
 *     it) -> kg_item_from_record;
 *   2 a LookupEvents Events array -> kg_prior_from_history for a fixed key;
 *   3 a LookupEvents Events array -> kg_items_from_events (the alarm's
 *     items), at most KG_MAX_ITEMS of them.
 *   first byte >= 0xF8 (before the switch, so older inputs keep their
 *   stage): a LookupEvents Events array -> kg_tag_revert_plan for a fixed
 *   TagResource and UntagResource of firebreak:exempt, and prov_decide for
 *   that tag (runtime/prov.c): the reasons stay NUL-terminated, a SET plan
 *   has a value, and nothing is honoured from an incomplete read without a
 *   record.
 * Checks: every parsed item's strings are NUL-terminated in their fields.
 * FUZZ_SOURCES: functions/kms-guard/stages.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_common.h"
#include "../../functions/kms-guard/kms_guard.h"

static void check_item(const struct kg_item *it)
{
	if (!memchr(it->key_ref, '\0', sizeof(it->key_ref)) ||
	    !memchr(it->account, '\0', sizeof(it->account)) ||
	    !memchr(it->region, '\0', sizeof(it->region)) ||
	    !memchr(it->event_name, '\0', sizeof(it->event_name)) ||
	    !memchr(it->event_id, '\0', sizeof(it->event_id)) ||
	    !memchr(it->actor, '\0', sizeof(it->actor)) ||
	    !memchr(it->error_code, '\0', sizeof(it->error_code)) ||
	    !memchr(it->note, '\0', sizeof(it->note)))
		abort();
}

static void fuzz_tags(const char *s, size_t n)
{
	static const char *const tags_now = "[{\"TagKey\":\"firebreak:exempt\",\"TagValue\":\" True\"}]";
	cJSON *h = cJSON_ParseWithLength(s, n), *now = cJSON_Parse(tags_now);
	struct kg_item it;
	struct kg_tag_revert p;
	struct prov_query q;
	struct prov_decision d;
	int unset;

	memset(&it, 0, sizeof(it));
	snprintf(it.event_id, sizeof(it.event_id), "ev-1");
	it.event_ms = 1709287230000;
	it.ntags = 1;
	snprintf(it.tags[0].key, sizeof(it.tags[0].key), "firebreak:exempt");
	snprintf(it.tags[0].value, sizeof(it.tags[0].value), "true");
	for (unset = 0; unset < 2; unset++) {
		snprintf(it.event_name, sizeof(it.event_name), unset ? "UntagResource" : "TagResource");
		it.tags[0].unset = unset;
		kg_tag_revert_plan(h, unset, &it, 0, unset ? NULL : now, &p);
		if (!memchr(p.why, '\0', sizeof(p.why)) || !memchr(p.value, '\0', sizeof(p.value)))
			abort();
		if (p.action == KG_TAG_SET && !memchr(p.value, '\0', sizeof(p.value)))
			abort();
	}
	memset(&q, 0, sizeof(q));
	q.tag_key = "firebreak:exempt";
	q.tag_value = " True";
	q.trigger_ms = it.event_ms;
	q.trigger_event_id = "ev-1";
	q.trigger_actor = "arn:aws:iam::111111111111:user/mallory";
	q.min_age_ms = 86400000;
	prov_decide(h, &q, &d);   /* complete = 0 */
	if (!memchr(d.reason, '\0', sizeof(d.reason)) || (d.verdict == PROV_HONOURED && !d.set_ms))
		abort();
	cJSON_Delete(h);
	cJSON_Delete(now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct kg_settings set = { .alarm_name = "kms-key-changes", .lookback_s = 900 };
	struct kg_event ev;
	struct kg_item it;
	char why[512], src[512];
	cJSON *j;
	char *s;
	size_t n;

	if (size < 1 || size > RESP_MAX_EVENT_BYTES + 2)
		return 0;
	s = fuzz_strndup(data + 1, size - 1);
	n = size - 1;
	if (data[0] >= 0xF8) {
		fuzz_tags(s, n);
		free(s);
		return 0;
	}
	switch (data[0] % 4) {
	case 0: {
		enum fb_err rc;

		why[0] = '\0';
		rc = kg_parse(s, n, &set, &ev, why, sizeof(why));
		if (rc == FB_OK) {
			if (ev.kind != KG_ALARM)
				check_item(&ev.item);
			else if (ev.window_end_s < ev.window_start_s)
				abort(); /* the LookupEvents window must not be reversed */
			kg_event_cleanup(&ev);
		} else if ((rc == FB_E_INVALID && !why[0]) || ev.root) {
			abort(); /* an invalid event says why and keeps nothing */
		}
		break;
	}
	case 1:
		j = cJSON_ParseWithLength(s, n);
		memset(&it, 0, sizeof(it));
		if (kg_item_from_record(j, "111111111111", "us-east-1", &it, why, sizeof(why)) == FB_OK)
			check_item(&it);
		cJSON_Delete(j);
		break;
	case 2:
		j = cJSON_ParseWithLength(s, n);
		if (j) {
			memset(&it, 0, sizeof(it));
			snprintf(it.key_ref, sizeof(it.key_ref), "1234abcd-12ab-34cd-56ef-1234567890ab");
			snprintf(it.account, sizeof(it.account), "111111111111");
			snprintf(it.region, sizeof(it.region), "us-east-1");
			snprintf(it.event_id, sizeof(it.event_id), "ev-1");
			it.event_ms = 1709287230000;
			src[0] = '\0';
			(void)kg_prior_from_history(j, &it, src, sizeof(src));
			if (!memchr(src, '\0', sizeof(src)))
				abort();
			cJSON_Delete(j);
		}
		break;
	case 3: {
		static struct kg_item items[KG_MAX_ITEMS];
		struct resp_config trust;
		size_t ni = 0, k;

		memset(&trust, 0, sizeof(trust));
		j = cJSON_ParseWithLength(s, n);
		(void)kg_items_from_events(j, &trust, "us-east-1", items, KG_MAX_ITEMS, &ni);
		if (ni > KG_MAX_ITEMS)
			abort();
		for (k = 0; k < ni; k++)
			check_item(&items[k]);
		cJSON_Delete(j);
		break;
	}
	}
	free(s);
	return 0;
}
