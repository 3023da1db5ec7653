/*
 * kms-guard, pure stages: event -> items, CloudTrail history -> prior
 * state, tags -> decisions, request and report pieces. No I/O, no clock
 * (times come in as parameters): unit-tested in tests/unit/test_kms_guard.c,
 * fuzzed by tests/fuzz/fuzz_kms_guard.c. The handler that sequences them
 * around AWS calls is main.c; README.md documents the behaviour.
 */
#include "kms_guard.h"

#include <stdio.h>
#include <string.h>

#include "field.h"
#include "kit.h"
#include "log.h"

/* ---- small pure helpers ----------------------------------------------------- */

static int kg_is_trigger_name(const char *name)
{
	return !strcmp(name, "ScheduleKeyDeletion") || !strcmp(name, "DisableKey");
}

static int kg_is_tag_name(const char *name)
{
	return !strcmp(name, "TagResource") || !strcmp(name, "UntagResource");
}

int kg_is_tag_item(const struct kg_item *it)
{
	return kg_is_tag_name(it->event_name);
}

/* The firebreak:* keys a tag change touched, firebreak:incident left out
 * (kms-guard writes it itself on every containment: loop safety). */
static void kg_item_tags(const cJSON *rec, struct kg_item *it)
{
	cJSON *keys = cJSON_CreateArray();
	const cJSON *k;

	prov_record_firebreak_keys(rec, keys, 64);
	cJSON_ArrayForEach(k, keys) {
		const char *key = resp_get_str(k, "key"), *op = resp_get_str(k, "op");
		struct kg_tag_change *tc;

		if (!key || !strcmp(key, KG_TAG_INCIDENT) || strlen(key) >= sizeof(tc->key))
			continue;
		if (it->ntags >= KG_MAX_TAG_CHANGES) {
			snprintf(it->note, sizeof(it->note), "more than %d firebreak:* tags changed; "
				 "the first %d are handled", KG_MAX_TAG_CHANGES, KG_MAX_TAG_CHANGES);
			break;
		}
		tc = &it->tags[it->ntags++];
		buf_copy_str(tc->key, sizeof(tc->key), key);
		buf_copy_str(tc->value, sizeof(tc->value), resp_get_str(k, "value"));
		tc->unset = op && !strcmp(op, "unset");
	}
	cJSON_Delete(keys);
}

/* ---- parsing: CloudTrail record -> item ----------------------------------------- */

/* A key ARN names where the key lives; the event's Region (`said`, may be
 * NULL) that disagrees is noted, and the ARN's wins. */
static void kg_key_place(struct kg_item *it, const struct arn *ka, const char *said)
{
	if (said && strcmp(said, ka->region))
		snprintf(it->note, sizeof(it->note),
			 "region mismatch: the event says '%.31s', the key ARN says '%.31s'; "
			 "acting in the key ARN's region", said, ka->region);
	buf_copy_str(it->region, sizeof(it->region), ka->region);
	buf_copy_str(it->account, sizeof(it->account), ka->account);
}

enum fb_err kg_item_from_record(const cJSON *rec, const char *env_account,
				const char *env_region, struct kg_item *it,
				char *why, size_t wn)
{
	const char *key, *aws_region, *acct, *res_arn = NULL;
	struct ct_record c;
	const cJSON *res, *el, *days, *rp;
	struct arn ka = { .resource = NULL };   /* region "" unless a key ARN says */

	memset(it, 0, sizeof(*it));
	if (!cJSON_IsObject(rec))
		return field_bad(why, wn, "field 'detail' must be an object");
	if (ct_record_parse(rec, &c) != FB_OK)
		return field_bad(why, wn, "a CloudTrail field has the wrong type (want strings)");
	rp = cJSON_GetObjectItemCaseSensitive(rec, "requestParameters");
	if (rp && !cJSON_IsNull(rp) && !cJSON_IsObject(rp))
		return field_bad(why, wn, "field 'detail.requestParameters' must be an object");
	if (!resp_opt_str(rec, "requestParameters.keyId", &key))
		return field_bad(why, wn, "field 'detail.requestParameters.keyId' must be a string");
	if (!c.event_name)
		return field_bad(why, wn, "missing 'detail.eventName'");
	if (!kg_is_trigger_name(c.event_name) && !kg_is_tag_name(c.event_name))
		return field_bad(why, wn, "not a kms-guard trigger: eventName '%.64s' "
			 "(want ScheduleKeyDeletion, DisableKey, or a TagResource/UntagResource of a "
			 "firebreak:* tag)", c.event_name);
	buf_copy_str(it->event_name, sizeof(it->event_name), c.event_name);
	if (kg_is_tag_name(c.event_name)) {
		kg_item_tags(rec, it);
		if (it->ntags == 0)
			return field_bad(why, wn, "not a kms-guard trigger: %s changes no firebreak:* tag "
				 "(firebreak:incident is kms-guard's own)", c.event_name);
	}
	buf_copy_str(it->error_code, sizeof(it->error_code), c.error_code);
	buf_copy_str(it->event_id, sizeof(it->event_id), c.event_id);
	buf_copy_str(it->actor, sizeof(it->actor), c.actor_arn);
	it->event_ms = c.time_ms;
	days = resp_get(rec, "requestParameters.pendingWindowInDays");
	if (cJSON_IsNumber(days) && days->valuedouble >= 7 && days->valuedouble <= 30)
		it->pending_days = (int)days->valuedouble;

	res = cJSON_GetObjectItemCaseSensitive(rec, "resources");
	cJSON_ArrayForEach(el, (cJSON_IsArray(res) ? res : NULL)) {
		const char *a = resp_get_str(el, "ARN");

		if (a && arn_kms_ref_ok(a) && strstr(a, ":key/")) {
			res_arn = a;
			break;
		}
	}
	if (key && !arn_kms_ref_ok(key))
		return field_bad(why, wn, "field 'detail.requestParameters.keyId' is not a key id, alias or ARN");
	if (!key && !res_arn) {
		if (c.error_code)
			return FB_OK; /* a failed call: skipped before the key matters */
		return field_bad(why, wn, "missing 'detail.requestParameters.keyId'");
	}
	/* A full ARN says where the key lives; prefer it over a bare id.
	 * resources[].ARN is used when it names the same key. */
	if (key && arn_kms(key, &ka)) {
		buf_copy_str(it->key_ref, sizeof(it->key_ref), key);
	} else if (res_arn && (!key || !strcmp(arn_tail(res_arn), key))) {   /* a key ARN: key/<id> */
		buf_copy_str(it->key_ref, sizeof(it->key_ref), res_arn);
		arn_kms(res_arn, &ka);
	} else {
		buf_copy_str(it->key_ref, sizeof(it->key_ref), key);
	}
	aws_region = c.aws_region ? c.aws_region : env_region;
	acct = c.recipient_account ? c.recipient_account : env_account ? env_account : c.actor_account;
	if (ka.region[0]) {
		kg_key_place(it, &ka, aws_region);
	} else {
		buf_copy_str(it->region, sizeof(it->region), aws_region);
		buf_copy_str(it->account, sizeof(it->account), acct);
	}
	if ((it->region[0] && !arn_region_ok(it->region, NULL)))
		return field_bad(why, wn, "region '%.40s' is not a region name", it->region);
	return FB_OK;
}

/* ---- parsing: the event ------------------------------------------------------ */

void kg_event_cleanup(struct kg_event *ev)
{
	field_json_free(&ev->root);
}

static enum fb_err kg_parse_manual(struct kg_event *ev, char *why, size_t wn)
{
	struct kg_item *it = &ev->item;
	struct arn ka;

	if (field_read(ev->root, (const struct field[]){
		FIELD_CHECK("keyId", FIELD_REQUIRED, "missing 'keyId' (manual form: {\"keyId\": \"<id, alias or "
			    "ARN>\", \"region\": \"<region>\"})"),
		FIELD_INTO("keyId", FIELD_STR, "field 'keyId' must be a key id, alias or ARN string", arn_kms_ref_ok,
			   it->key_ref),
		FIELD_INTO("region", FIELD_STR, "field 'region' must be a region name string", resp_region_name_ok,
			   it->region),
		FIELD_END }, why, wn))
		return FB_E_INVALID;
	ev->kind = KG_MANUAL;
	buf_copy_str(it->event_name, sizeof(it->event_name), "manual");
	if (arn_kms(it->key_ref, &ka))
		kg_key_place(it, &ka, it->region[0] ? it->region : NULL);
	return FB_OK;
}

/* The parsed event (ev->root) -> what it asks for; FB_E_INVALID with why. */
static enum fb_err kg_classify(struct kg_event *ev, const struct kg_settings *set, char *why, size_t wn)
{
	const char *source, *dtype, *acct, *region;
	const cJSON *detail;

	/* 'account' and 'region', when not null, are an account id and a
	 * region name after kit_envelope_check */
	if (kit_envelope_check(ev->root, why, wn) != 0)
		return FB_E_INVALID;
	acct = resp_get_str(ev->root, "account");
	region = resp_get_str(ev->root, "region");
	if (!resp_opt_str(ev->root, "source", &source) || !resp_opt_str(ev->root, "detail-type", &dtype))
		return field_bad(why, wn, "fields 'source' and 'detail-type' must be strings");
	if (!source && !dtype)
		return kg_parse_manual(ev, why, wn);
	if (!source || !dtype)
		return field_bad(why, wn, "an EventBridge event needs both 'source' and 'detail-type'");
	detail = cJSON_GetObjectItemCaseSensitive(ev->root, "detail");
	if (!strcmp(source, "aws.kms") && !strcmp(dtype, "AWS API Call via CloudTrail")) {
		ev->kind = KG_CALL;
		return kg_item_from_record(detail, acct, region, &ev->item, why, wn);
	}
	if (!strcmp(source, "aws.cloudwatch") && !strcmp(dtype, "CloudWatch Alarm State Change")) {
		struct alarm_change a;

		if (alarm_parse(detail, &a) != FB_OK)
			return field_bad(why, wn, "alarm event needs string 'detail.alarmName' and "
				      "'detail.state.value'");
		if (strcmp(a.name, set->alarm_name))
			return field_bad(why, wn, "not a kms-guard trigger: alarm '%.128s' is not '%.128s' "
				      "(FIREBREAK_KMS_ALARM_NAME)", a.name, set->alarm_name);
		if (strcmp(a.state, "ALARM"))
			return field_bad(why, wn, "not a kms-guard trigger: alarm state '%.32s' (only ALARM is)",
				      a.state);
		ev->kind = KG_ALARM;
		buf_copy_str(ev->alarm_arn, sizeof(ev->alarm_arn), resp_get_str(ev->root, "resources.0"));
		alarm_lookup_window(&a, resp_parse_time_ms(resp_get_str(ev->root, "time")),
				    set->lookback_s, &ev->window_start_s, &ev->window_end_s);
		if (ev->window_end_s <= 60)
			return field_bad(why, wn, "alarm event has no usable 'time' or 'detail.state.timestamp'");
		return FB_OK;
	}
	/* Not errors in AWS, but nothing kms-guard can contain: the KMS CMK
	 * Deletion event and the DeleteKey service event both mean the key
	 * is already gone. An error result makes a mis-routed rule visible
	 * (Lambda Errors metric, DLQ) instead of silently succeeding. */
	if (!strcmp(source, "aws.kms"))
		return field_bad(why, wn, "not a kms-guard trigger: source 'aws.kms' detail-type '%.64s'%s",
			      dtype, strcmp(dtype, "AWS API Call via CloudTrail") ?
			      " (a completed deletion cannot be cancelled)" : "");
	return field_bad(why, wn, "not a kms-guard trigger: source '%.64s' detail-type '%.64s'", source, dtype);
}

enum fb_err kg_parse(const char *text, size_t len, const struct kg_settings *set,
		     struct kg_event *ev, char *why, size_t wn)
{
	memset(ev, 0, sizeof(*ev));
	/* Size, UTF-8, control bytes, "\u0000", depth, trailing data, object:
	 * the shared check every responder makes before reading a field. */
	if (resp_parse_event(text, len, RESP_MAX_EVENT_BYTES, &ev->root, why, wn) != FB_OK)
		return FB_E_INVALID;
	if (kg_classify(ev, set, why, wn) == FB_OK)
		return FB_OK;
	kg_event_cleanup(ev);
	return FB_E_INVALID;
}

/* ---- decision: the prior state from CloudTrail history ---------------------------- */

static int kg_is_key_use(const char *name)
{
	static const char *const uses[] = {
		"Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
		"GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "Sign", "Verify",
		"GenerateMac", "VerifyMac", "DeriveSharedSecret",
	};
	size_t i;

	for (i = 0; i < sizeof(uses) / sizeof(uses[0]); i++)
		if (!strcmp(name, uses[i]))
			return 1;
	return 0;
}

static void kg_source(char *src, size_t n, const char *name, int64_t ms, const char *why)
{
	char iso[RESP_TIME_LEN];

	resp_format_time_ms(ms, iso);
	snprintf(src, n, "cloudtrail:%s@%s%s", name, iso, why);
}

/* Walks back from the triggering change (its event id, else its time; for
 * a manual invoke, the newest successful ScheduleKeyDeletion/DisableKey)
 * to the newest event that shows the state before it:
 *  - EnableKey, CreateKey, or a successful use of the key -> Enabled
 *    (only an Enabled key can encrypt/decrypt);
 *  - CancelKeyDeletion -> Disabled (KMS leaves a cancelled key Disabled);
 *  - DisableKey by the same actor as the trigger -> part of the incident,
 *    so Enabled before it; by anyone else -> Disabled;
 *  - failed calls and unrelated events are ignored.
 * Returns KG_PRIOR_UNKNOWN when nothing decides; src says why. */
enum kg_prior kg_prior_from_history(const cJSON *events, const struct kg_item *it,
				    char *src, size_t n)
{
	const char *trig_id = it->event_id[0] ? it->event_id : NULL;
	const char *trig_actor = it->actor;
	int64_t trig_ms = it->event_ms;
	int manual = !strcmp(it->event_name, "manual"), seen = 0;
	enum kg_prior prior = KG_PRIOR_UNKNOWN;
	char manual_actor[512] = "";
	const cJSON *e;

	/* Is the trigger in the list? Then everything after it is older. */
	if (trig_id) {
		cJSON_ArrayForEach(e, events) {
			if (resp_get_str(e, "EventId") && !strcmp(resp_get_str(e, "EventId"), trig_id))
				seen = 1;
		}
	}
	src[0] = '\0';
	cJSON_ArrayForEach(e, events) {
		const char *name = resp_get_str(e, "EventName"), *id = resp_get_str(e, "EventId");
		const char *ct = resp_get_str(e, "CloudTrailEvent"), *actor = NULL;
		const cJSON *t = resp_get(e, "EventTime");
		/* fuzz (tests/fuzz/regressions/kms_guard): an out-of-range double -> int64
		 * conversion is undefined behaviour; such a time becomes 0 */
		int64_t ms = (cJSON_IsNumber(t) && t->valuedouble > -9.2e15 && t->valuedouble < 9.2e15)
			     ? (int64_t)(t->valuedouble * 1000.0) : 0;
		cJSON *rec = NULL;
		int failed = 0;

		if (!name)
			continue;
		if (trig_id && seen) {
			if (id && !strcmp(id, trig_id)) {
				seen = 2; /* from here on: before the trigger */
				continue;
			}
			if (seen != 2)
				continue;
		} else if (!manual && trig_ms && ms >= trig_ms) {
			continue;
		}
		if (ct) {
			rec = cJSON_ParseWithLength(ct, strlen(ct));
			failed = resp_get_str(rec, "errorCode") != NULL;
			actor = resp_get_str(rec, "userIdentity.arn");
		}
		if (failed) {
			/* a failed call changed nothing */
		} else if (manual && !trig_ms) {
			/* The newest successful change is the one being reverted. */
			if (kg_is_trigger_name(name)) {
				trig_ms = ms ? ms : 1;
				buf_copy_str(manual_actor, sizeof(manual_actor), actor);
				trig_actor = manual_actor;
				if (!strcmp(name, "DisableKey")) {
					kg_source(src, n, name, ms, " (the change being reverted: "
						  "the key was Enabled before it)");
					prior = KG_PRIOR_ENABLED;
				}
			}
		} else if (!strcmp(name, "EnableKey") || !strcmp(name, "CreateKey") || kg_is_key_use(name)) {
			kg_source(src, n, name, ms, kg_is_key_use(name) ? " (key in use)" : "");
			prior = KG_PRIOR_ENABLED;
		} else if (!strcmp(name, "CancelKeyDeletion")) {
			kg_source(src, n, name, ms, " (a cancelled key is Disabled)");
			prior = KG_PRIOR_DISABLED;
		} else if (!strcmp(name, "DisableKey")) {
			int same = actor && trig_actor && trig_actor[0] && !strcmp(actor, trig_actor);

			kg_source(src, n, name, ms, same ? " by the same actor (part of the incident: "
				  "Enabled before it)" : " (disabled by someone else before the incident)");
			prior = same ? KG_PRIOR_ENABLED : KG_PRIOR_DISABLED;
		}
		cJSON_Delete(rec);
		if (prior != KG_PRIOR_UNKNOWN)
			return prior;
	}
	return KG_PRIOR_UNKNOWN;
}

void kg_tag_revert_plan(const cJSON *history, int complete, const struct kg_item *it, int k,
			const cJSON *tags_now, struct kg_tag_revert *out)
{
	const struct kg_tag_change *tc = &it->tags[k];
	const char *now = prov_tag_value(tags_now, tc->key);
	struct prov_change last;
	char before[260], setter[512], iso[RESP_TIME_LEN];
	enum prov_op op;

	memset(out, 0, sizeof(*out));
	out->present_now = now != NULL;
	buf_copy_str(out->now, sizeof(out->now), now);
	/* Changed again since the event? Then that change has its own event
	 * (and its own judgement); undoing this one now would clobber it. */
	if (prov_last_change(history, tc->key, 0, &last) != PROV_OP_NONE && it->event_ms &&
	    last.ms > it->event_ms && strcmp(last.event_id, it->event_id)) {
		resp_format_time_ms(last.ms, iso);
		out->action = KG_TAG_SUPERSEDED;
		snprintf(out->why, sizeof(out->why), "'%s' changed again at %s by '%.200s': left to "
			 "that change", tc->key, iso, last.setter[0] ? last.setter : "unknown");
		return;
	}
	op = prov_value_before(history, tc->key, it->event_id, it->event_ms, before, sizeof(before),
			       setter, sizeof(setter));
	if (!tc->unset && now && !prov_value_eq(now, tc->value)) {
		out->action = KG_TAG_SUPERSEDED;
		snprintf(out->why, sizeof(out->why), "'%s' no longer holds the value the event "
			 "set: changed since, left to that change", tc->key);
		return;
	}
	if (tc->unset && op == PROV_OP_SET && now && strcmp(now, before)) {
		out->action = KG_TAG_SUPERSEDED;
		snprintf(out->why, sizeof(out->why), "'%s' was set again since the event: left to "
			 "that change", tc->key);
		return;
	}
	/* TagResource or UntagResource: the value before the event goes back */
	if (op == PROV_OP_SET) {
		out->action = now && !strcmp(now, before) ? KG_TAG_ALREADY : KG_TAG_SET;
		buf_copy_str(out->value, sizeof(out->value), before);
		snprintf(out->why, sizeof(out->why), "'%s' put back to the value set before the "
			 "event by '%.200s'", tc->key, setter[0] ? setter : "unknown");
		return;
	}
	if (!tc->unset) {
		out->action = now ? KG_TAG_REMOVE : KG_TAG_ALREADY;
		snprintf(out->why, sizeof(out->why), "'%s' removed: %s", tc->key,
			 op == PROV_OP_UNSET ? "it was absent before the event" :
			 complete ? "no earlier value in CloudTrail's history (an exemption that cannot be "
				    "shown to predate the change is not kept; restore[] holds the value)" :
				    "CloudTrail history incomplete, no earlier value found (an exemption "
				    "that cannot be shown to predate the change is not kept; restore[] "
				    "holds the value)");
		return;
	}
	/* UntagResource */
	if (op == PROV_OP_UNSET) {
		out->action = now ? KG_TAG_SUPERSEDED : KG_TAG_ALREADY;
		snprintf(out->why, sizeof(out->why), "'%s' was already absent before the event", tc->key);
		return;
	}
	out->action = now ? KG_TAG_SUPERSEDED : KG_TAG_UNKNOWN;
	snprintf(out->why, sizeof(out->why), "'%s': %s", tc->key, now ?
		 "set again since the event: left to that change" :
		 "its value before the event is not in CloudTrail's history (older than 90 days, or "
		 "not read): not restored; put it back by hand if it was meant");
}

/* ---- the alarm's items ------------------------------------------------------------ */

size_t kg_items_from_events(const cJSON *found, const struct resp_config *trust,
			    const char *env_region, struct kg_item *items, size_t cap,
			    size_t *nitems)
{
	size_t ignored = 0;
	int i;

	*nitems = 0;
	/* LookupEvents lists newest first; handle changes oldest first. */
	for (i = cJSON_GetArraySize(found) - 1; i >= 0; i--) {
		const cJSON *e = cJSON_GetArrayItem(found, i);
		const char *ct = resp_get_str(e, "CloudTrailEvent");
		const char *eid = resp_get_str(e, "EventId") ? resp_get_str(e, "EventId") : "?";
		cJSON *rec = NULL;
		struct kg_item it;
		char why[256];
		size_t j;

		/* The record quotes the caller's request: same checks as an event. */
		if (ct && resp_parse_event(ct, strlen(ct), RESP_MAX_EVENT_BYTES, &rec, why,
					   sizeof(why)) != FB_OK)
			log_warn("CloudTrail event '%s': %s", eid, why);
		if (kg_item_from_record(rec, NULL, env_region, &it, why, sizeof(why)) != FB_OK) {
			log_warn("ignoring CloudTrail event '%s': %s", eid, why);
			cJSON_Delete(rec);
			ignored++;
			continue;
		}
		cJSON_Delete(rec);
		/* Failed or trusted changes get their own (skipped) section. */
		if (it.error_code[0] || resp_is_trusted(trust, it.actor)) {
			if (*nitems < cap)
				items[(*nitems)++] = it;
			continue;
		}
		for (j = 0; j < *nitems; j++)
			if (!items[j].error_code[0] && !resp_is_trusted(trust, items[j].actor) &&
			    !strcmp(items[j].key_ref, it.key_ref))
				break;
		if (j < *nitems)
			continue; /* this key is already handled from an earlier change */
		if (*nitems < cap)
			items[(*nitems)++] = it;
		else
			log_warn("more than %zu key changes in the alarm window; the rest are not handled",
				 cap);
	}
	return ignored;
}
