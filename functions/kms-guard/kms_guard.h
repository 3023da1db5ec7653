/*
 * kms-guard: the pure stages (stages.c) shared by the handler (main.c), the
 * unit tests and the fuzz target. Prefix kg_. Nothing declared here does
 * I/O or reads the clock: events, CloudTrail records and AWS answers come
 * in as cJSON, decisions and report pieces go out.
 */
#ifndef FB_KMS_GUARD_H
#define FB_KMS_GUARD_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "alarm.h"
#include "arn.h"
#include "fb_err.h"
#include "prov.h"
#include "resp.h"

#define KG_MAX_ITEMS 25          /* key changes handled per alarm */
#define KG_TAG_INCIDENT "firebreak:incident"
#define KG_TAG_ALLOW "firebreak:allow-deletion"
#define KG_TAG_EXEMPT "firebreak:exempt"

#define KG_MAX_TAG_CHANGES 8     /* firebreak:* keys handled per tag-change event */

enum kg_kind { KG_CALL, KG_MANUAL, KG_ALARM };
enum kg_prior { KG_PRIOR_UNKNOWN, KG_PRIOR_ENABLED, KG_PRIOR_DISABLED };

/* One firebreak:* tag key a TagResource / UntagResource changed. */
struct kg_tag_change {
	char key[129];                  /* tag keys: 1..128 characters */
	char value[257];                /* TagResource: the value set (0..256) */
	int unset;                      /* UntagResource */
};

/* One key change to contain: from an EventBridge CloudTrail record, a
 * LookupEvents record, or the manual form. Plain data, no pointers. */
struct kg_item {
	char key_ref[ARN_KMS_REF_MAX + 1];   /* what DescribeKey is called with */
	char account[16];
	char region[32];
	char event_name[32];            /* ScheduleKeyDeletion, DisableKey, manual */
	char event_id[128];
	char actor[512];                /* userIdentity.arn, "" if none */
	char error_code[128];           /* detail.errorCode, "" if the call succeeded */
	char note[320];                 /* e.g. the region mismatch */
	int64_t event_ms;
	int pending_days;               /* requestParameters.pendingWindowInDays, 0 if none */
	/* TagResource / UntagResource: the firebreak:* keys it changed
	 * (firebreak:incident, kms-guard's own bookkeeping, is not one). */
	struct kg_tag_change tags[KG_MAX_TAG_CHANGES];
	int ntags;
};

struct kg_event {
	cJSON *root;                    /* owned; freed by kg_event_cleanup() */
	enum kg_kind kind;
	struct kg_item item;            /* KG_CALL, KG_MANUAL */
	int64_t window_start_s;         /* KG_ALARM: LookupEvents window */
	int64_t window_end_s;
	char alarm_arn[512];
};

struct kg_settings {
	char alarm_name[256];           /* FIREBREAK_KMS_ALARM_NAME */
	int64_t lookback_s;             /* FIREBREAK_KMS_ALARM_LOOKBACK_SECONDS */
};

/* ---- event parsing ---------------------------------------------------------- */

/* The trigger event (text, len) -> ev. FB_E_INVALID with a lowercase reason
 * in why when it is malformed or not a kms-guard trigger; ev then owns
 * nothing. On FB_OK the caller frees with kg_event_cleanup(). */
enum fb_err kg_parse(const char *text, size_t len, const struct kg_settings *set,
		     struct kg_event *ev, char *why, size_t wn);
void kg_event_cleanup(struct kg_event *ev);

/* One CloudTrail record (an EventBridge `detail`, or a parsed LookupEvents
 * CloudTrailEvent; borrowed) -> it. env_account / env_region (borrowed,
 * may be NULL) are the envelope's. FB_OK for a failed call without a key
 * (it->error_code set, it->key_ref ""). */
enum fb_err kg_item_from_record(const cJSON *rec, const char *env_account,
				const char *env_region, struct kg_item *it,
				char *why, size_t wn);

/* The alarm's items from the LookupEvents records it found (`found`: Events
 * elements, newest first; borrowed): oldest first, one item per key for the
 * untrusted successful changes (the earliest decides), and each failed or
 * trusted change as its own (skipped) item. At most `cap` items. `trust`
 * (borrowed) says who is trusted. Returns how many records were ignored
 * because they could not be parsed. */
size_t kg_items_from_events(const cJSON *found, const struct resp_config *trust,
			    const char *env_region, struct kg_item *items, size_t cap,
			    size_t *nitems);

/* ---- decisions ---------------------------------------------------------------- */

/* The key's state before the change, from its LookupEvents history
 * (`events`, newest first; borrowed). src (n bytes) says how it was
 * decided. KG_PRIOR_UNKNOWN when nothing decides. */
enum kg_prior kg_prior_from_history(const cJSON *events, const struct kg_item *it,
				    char *src, size_t n);

/* 1 for TagResource / UntagResource items (a change of a firebreak:* tag). */
int kg_is_tag_item(const struct kg_item *it);

/* How to revert one firebreak:* tag change (it->tags[k]). */
enum kg_tag_action {
	KG_TAG_ALREADY,     /* the key already holds the state before the change */
	KG_TAG_REMOVE,      /* UntagResource the key */
	KG_TAG_SET,         /* TagResource key = value */
	KG_TAG_SUPERSEDED,  /* changed again since: that change is judged on its own */
	KG_TAG_UNKNOWN      /* the value before cannot be known: nothing written */
};
struct kg_tag_revert {
	enum kg_tag_action action;
	char value[257];    /* KG_TAG_SET: the value to put back */
	char now[257];      /* the value read now ("" when absent) */
	int present_now;
	char why[600];      /* for the report */
};
/* The pure stage: the key's history (LookupEvents Events, borrowed;
 * complete says whether it was read completely), the change, and the tags
 * read now (ListResourceTags Tags, borrowed) -> what to write. A TagResource
 * is undone by putting back the value CloudTrail shows before it, or by
 * removing the key when there is none (fail towards containment: an
 * exemption that cannot be shown to predate the change is not kept; the
 * restore entry holds the value). An UntagResource is undone by putting
 * back the value before it; when that is older than the history, nothing is
 * written and the report says so. A key changed again since the event is
 * left to that change's own event. */
void kg_tag_revert_plan(const cJSON *history, int complete, const struct kg_item *it, int k,
			const cJSON *tags_now, struct kg_tag_revert *out);

#endif
