/*
 * prov: firebreak:* tag provenance from CloudTrail. prov.h explains the
 * rule and every edge case; this file keeps to it. Everything above
 * "the lookup" is pure (unit-tested in tests/unit/test_prov.c).
 */
#include "prov.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "cloudtrail.h"

/* ---- tag values -------------------------------------------------------------- */

/* s without its ASCII white space at both ends: *start, length. */
static size_t prov_trim(const char *s, const char **start)
{
	size_t n;

	while (*s && isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	*start = s;
	return n;
}

int prov_value_eq(const char *a, const char *b)
{
	const char *sa, *sb;
	size_t na, nb;

	if (!a || !b)
		return !a && !b;
	na = prov_trim(a, &sa);
	nb = prov_trim(b, &sb);
	return na == nb && strncasecmp(sa, sb, na) == 0;
}

int prov_value_true(const char *v)
{
	return v && prov_value_eq(v, "true");
}

/* One Tags element's key and value, whatever the service's spelling. */
static const char *prov_pair(const cJSON *t, const char **val)
{
	static const char *const keys[] = { "TagKey", "Key", "key", "tagKey" };
	static const char *const vals[] = { "TagValue", "Value", "value", "tagValue" };
	size_t i;

	*val = NULL;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(t, keys[i]);

		if (cJSON_IsString(k)) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, vals[i]);

			*val = cJSON_IsString(v) ? v->valuestring : "";
			return k->valuestring;
		}
	}
	return NULL;
}

const char *prov_tag_value(const cJSON *tags, const char *key)
{
	const cJSON *t;

	if (!key)
		return NULL;
	cJSON_ArrayForEach(t, (cJSON_IsArray(tags) ? tags : NULL)) {
		const char *v, *k = prov_pair(t, &v);

		if (k && !strcmp(k, key))
			return v;
	}
	return NULL;
}

int prov_tag_true(const cJSON *tags, const char *key)
{
	return prov_value_true(prov_tag_value(tags, key));
}

/* ---- principals -------------------------------------------------------------------- */

int prov_principal(const char *arn, char *out, size_t n)
{
	const char *part, *acct, *role, *slash;
	int w;

	if (!arn || !*arn || n == 0)
		return 0;
	if (!strncmp(arn, "arn:", 4) && (acct = strstr(arn + 4, ":sts::")) &&
	    (role = strstr(acct + 6, ":assumed-role/")) && (slash = strchr(role + 14, '/'))) {
		part = arn + 4;
		w = snprintf(out, n, "arn:%.*s:iam::%.*s:role/%.*s", (int)(acct - part), part,
			     (int)(role - (acct + 6)), acct + 6, (int)(slash - (role + 14)), role + 14);
	} else {
		w = snprintf(out, n, "%s", arn);
	}
	return w > 0 && (size_t)w < n;
}

int prov_same_principal(const char *a, const char *b)
{
	char pa[600], pb[600];

	return prov_principal(a, pa, sizeof(pa)) && prov_principal(b, pb, sizeof(pb)) &&
	       !strcmp(pa, pb);
}

/* ---- one record's effect on a tag ---------------------------------------------- */

/* A member by its name or with the first letter lower-cased (S3's records
 * carry "Tagging" and, for the query string, an empty "tagging"). */
static const cJSON *prov_member(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	char alt[16];

	if (!v && strlen(name) < sizeof(alt)) {
		snprintf(alt, sizeof(alt), "%c%s", tolower((unsigned char)name[0]), name + 1);
		v = cJSON_GetObjectItemCaseSensitive(o, alt);
	}
	return v;
}

/* S3 bucket tagging: PutBucketTagging replaces the whole tag set (its
 * requestParameters.Tagging.TagSet.Tag, an object for one tag, an array
 * for several), so a key in the new set is set and a key left out is
 * removed; DeleteBucketTagging removes every key. A set that cannot be
 * read is PROV_OP_UNREADABLE: that record may have changed the key. */
static enum prov_op prov_s3_op(const cJSON *rp, const char *name, const char *key,
			       char *val, size_t n)
{
	const cJSON *tagging, *set, *tag, *t;
	enum prov_op op = PROV_OP_UNSET;

	if (!strcmp(name, "DeleteBucketTagging"))
		return PROV_OP_UNSET;
	tagging = cJSON_IsObject(rp) ? prov_member(rp, "Tagging") : NULL;
	set = cJSON_IsObject(tagging) ? prov_member(tagging, "TagSet") : NULL;
	tag = cJSON_IsObject(set) ? prov_member(set, "Tag") : NULL;
	if (!cJSON_IsObject(tag) && !cJSON_IsArray(tag))
		return PROV_OP_UNREADABLE;
	for (t = cJSON_IsArray(tag) ? tag->child : tag; t; t = cJSON_IsArray(tag) ? t->next : NULL) {
		const char *k = resp_get_str(t, "Key"), *v = resp_get_str(t, "Value");

		if (!k)
			return PROV_OP_UNREADABLE;
		if (!strcmp(k, key)) {
			if (val && n)
				buf_copy_str(val, n, v ? v : "");
			op = PROV_OP_SET;
		}
	}
	return op;
}

enum prov_op prov_record_op(const cJSON *rec, const char *key, char *val, size_t n)
{
	const cJSON *rp = resp_get(rec, "requestParameters"), *el, *sp;
	const char *name = resp_get_str(rec, "eventName");
	enum prov_op op = PROV_OP_NONE;

	if (val && n)
		val[0] = '\0';
	if (resp_get_str(rec, "errorCode"))
		return PROV_OP_NONE; /* a failed call changed nothing */
	if (name && (!strcmp(name, "PutBucketTagging") || !strcmp(name, "DeleteBucketTagging")))
		return prov_s3_op(rp, name, key, val, n);
	if (!cJSON_IsObject(rp))
		return PROV_OP_NONE;
	cJSON_ArrayForEach(el, (cJSON_IsArray(resp_get(rp, "tags")) ? resp_get(rp, "tags") : NULL)) {
		const char *v, *k = prov_pair(el, &v);

		if (k && !strcmp(k, key)) {
			if (val && n)
				buf_copy_str(val, n, v);
			op = PROV_OP_SET; /* the last one in the request wins */
		}
	}
	cJSON_ArrayForEach(el, (cJSON_IsArray(resp_get(rp, "tagKeys")) ? resp_get(rp, "tagKeys") : NULL)) {
		if (cJSON_IsString(el) && !strcmp(el->valuestring, key))
			op = PROV_OP_UNSET;
	}
	/* EC2 (issue 20) writes its query lists as {"items": [...]}:
	 * CreateTags / DeleteTags carry tagSet.items [{key, value}], the
	 * launch calls tagSpecificationSet.items[].tags [{key, value}].
	 * Without these an instance's CreateTags leaves "no record" and an
	 * attacker's fresh firebreak:exempt would read as older than 90 days.
	 * DeleteTags removes the key (whatever value it names: a value that
	 * did not match removed nothing, and "removed" then only makes the
	 * tag unverifiable, never honoured). */
	cJSON_ArrayForEach(el, (cJSON_IsArray(resp_get(rp, "tagSet.items")) ? resp_get(rp, "tagSet.items") : NULL)) {
		const char *v, *k = prov_pair(el, &v);

		if (!k || strcmp(k, key))
			continue;
		if (name && !strcmp(name, "DeleteTags")) {
			op = PROV_OP_UNSET;
		} else {
			if (val && n)
				buf_copy_str(val, n, v);
			op = PROV_OP_SET;
		}
	}
	cJSON_ArrayForEach(sp, (cJSON_IsArray(resp_get(rp, "tagSpecificationSet.items")) ?
				resp_get(rp, "tagSpecificationSet.items") : NULL)) {
		cJSON_ArrayForEach(el, (cJSON_IsArray(resp_get(sp, "tags")) ? resp_get(sp, "tags") : NULL)) {
			const char *v, *k = prov_pair(el, &v);

			if (k && !strcmp(k, key)) {
				if (val && n)
					buf_copy_str(val, n, v);
				op = PROV_OP_SET;
			}
		}
	}
	return op;
}

int prov_record_firebreak_keys(const cJSON *rec, cJSON *keys, int cap)
{
	const cJSON *rp = resp_get(rec, "requestParameters"), *el;
	int found = 0;

	if (!cJSON_IsObject(rp))
		return 0;
	cJSON_ArrayForEach(el, (cJSON_IsArray(resp_get(rp, "tags")) ? resp_get(rp, "tags") : NULL)) {
		const char *v, *k = prov_pair(el, &v);
		cJSON *o;

		if (!k || strncmp(k, "firebreak:", 10) || found >= cap)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "key", k);
		cJSON_AddStringToObject(o, "op", "set");
		cJSON_AddStringToObject(o, "value", v);
		cJSON_AddItemToArray(keys, o);
		found++;
	}
	cJSON_ArrayForEach(el, (cJSON_IsArray(resp_get(rp, "tagKeys")) ? resp_get(rp, "tagKeys") : NULL)) {
		cJSON *o;

		if (!cJSON_IsString(el) || strncmp(el->valuestring, "firebreak:", 10) || found >= cap)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "key", el->valuestring);
		cJSON_AddStringToObject(o, "op", "unset");
		cJSON_AddItemToArray(keys, o);
		found++;
	}
	/* EC2's CreateTags / DeleteTags: tagSet.items [{key, value}], as
	 * prov_record_op reads them (a DeleteTags item removes the key). */
	cJSON_ArrayForEach(el, (cJSON_IsArray(resp_get(rp, "tagSet.items")) ? resp_get(rp, "tagSet.items") : NULL)) {
		const char *v, *k = prov_pair(el, &v), *name = resp_get_str(rec, "eventName");
		int del = name && !strcmp(name, "DeleteTags");
		cJSON *o;

		if (!k || strncmp(k, "firebreak:", 10) || found >= cap)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "key", k);
		cJSON_AddStringToObject(o, "op", del ? "unset" : "set");
		if (!del)
			cJSON_AddStringToObject(o, "value", v ? v : "");
		cJSON_AddItemToArray(keys, o);
		found++;
	}
	return found;
}

/* ---- walking the history --------------------------------------------------------- */

/* An Events element's time in ms: EventTime (epoch seconds, a number as
 * LookupEvents answers), else the record's eventTime. 0 when unknown. */
static int64_t prov_event_ms(const cJSON *e, const cJSON *rec)
{
	int64_t ms = resp_epoch_ms(resp_get(e, "EventTime"));

	return ms ? ms : resp_parse_time_ms(resp_get_str(rec, "eventTime"));
}

/* Besides the newest change: whether the trigger was seen. */
struct prov_found {
	struct prov_change c;
	int trigger_seen;
};

static int prov_may_touch_tags(const char *name)
{
	return name && (strstr(name, "Tag") || !strncmp(name, "Create", 6) ||
			!strcmp(name, "RunTask") || !strcmp(name, "StartTask") ||
			!strcmp(name, "ReplicateKey") || !strncmp(name, "Update", 6));
}

/* The newest change of `key`, strictly before before_ms when it is not 0,
 * into f->c; f->trigger_seen when trigger_id is among the events. */
static void prov_find(const cJSON *events, const char *key, const char *trigger_id,
		      int64_t before_ms, struct prov_found *f)
{
	struct prov_change *c = &f->c;
	const cJSON *e;

	memset(f, 0, sizeof(*f));
	cJSON_ArrayForEach(e, (cJSON_IsArray(events) ? events : NULL)) {
		const char *ct = resp_get_str(e, "CloudTrailEvent"), *id = resp_get_str(e, "EventId");
		const char *name = resp_get_str(e, "EventName");
		char val[260], why[128];
		cJSON *rec = NULL;
		enum prov_op op;
		int64_t ms;

		if (trigger_id && id && !strcmp(id, trigger_id))
			f->trigger_seen = 1;
		if (!ct) {
			if (prov_may_touch_tags(name))
				c->unreadable = 1;
			continue;
		}
		/* The record quotes a caller's request: the same bounded parse as
		 * an incoming event. */
		if (resp_parse_event(ct, strlen(ct), RESP_MAX_EVENT_BYTES, &rec, why, sizeof(why)) != FB_OK) {
			if (prov_may_touch_tags(name))
				c->unreadable = 1;
			continue;
		}
		op = prov_record_op(rec, key, val, sizeof(val));
		ms = prov_event_ms(e, rec);
		if (op == PROV_OP_UNREADABLE) {
			c->unreadable = 1;
			op = PROV_OP_NONE;
		}
		if (op != PROV_OP_NONE && (!before_ms || ms < before_ms)) {
			if (c->op == PROV_OP_NONE || ms > c->ms) {
				int same_second = c->op != PROV_OP_NONE && ms / 1000 == c->ms / 1000;
				int agree = op == c->op && (op != PROV_OP_SET || prov_value_eq(val, c->value));

				c->ambiguous = same_second && !agree;
				c->op = op;
				c->ms = ms;
				buf_copy_str(c->value, sizeof(c->value), op == PROV_OP_SET ? val : "");
				buf_copy_str(c->setter, sizeof(c->setter), resp_get_str(rec, "userIdentity.arn"));
				buf_copy_str(c->event_id, sizeof(c->event_id), id);
			} else if (ms / 1000 == c->ms / 1000 &&
				   (op != c->op || (op == PROV_OP_SET && !prov_value_eq(val, c->value)))) {
				c->ambiguous = 1;
			}
		}
		cJSON_Delete(rec);
	}
}

/* "3 h 12 min", "45 s": a span for the report. */
static void prov_span(int64_t ms, char *out, size_t n)
{
	int64_t s = ms < 0 ? -ms / 1000 : ms / 1000;

	if (s >= 86400)
		snprintf(out, n, "%lld d %lld h", (long long)(s / 86400), (long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(out, n, "%lld h %lld min", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(out, n, "%lld min", (long long)(s / 60));
	else
		snprintf(out, n, "%lld s", (long long)s);
}

static enum prov_verdict prov_set(struct prov_decision *d, enum prov_verdict v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum prov_verdict prov_set(struct prov_decision *d, enum prov_verdict v, const char *fmt, ...)
{
	va_list ap;
	int w;

	d->verdict = v;
	w = snprintf(d->reason, sizeof(d->reason), "%s: ", prov_verdict_name(v));
	if (w < 0 || (size_t)w >= sizeof(d->reason))
		return v;
	va_start(ap, fmt);
	vsnprintf(d->reason + w, sizeof(d->reason) - (size_t)w, fmt, ap);
	va_end(ap);
	return v;
}

enum prov_verdict prov_decide(const cJSON *events, const struct prov_query *q,
			      struct prov_decision *d)
{
	struct prov_found f;
	char iso[RESP_TIME_LEN], span[64], min_age[64];
	int64_t age_ms;

	memset(d, 0, sizeof(*d));
	if (!q->tag_key || !q->tag_value)
		return prov_set(d, PROV_ABSENT, "no tag '%s'", q->tag_key ? q->tag_key : "?");
	prov_span(q->min_age_ms, min_age, sizeof(min_age));
	/* A creation time after the event is not this resource's history (a
	 * clock or a test world): only the CloudTrail record decides then. */
	if (q->created_ms && q->trigger_ms && q->created_ms <= q->trigger_ms &&
	    q->created_ms > q->trigger_ms - q->min_age_ms) {
		prov_span(q->trigger_ms - q->created_ms, span, sizeof(span));
		return prov_set(d, PROV_IGNORED, "the resource was created %s before the event, "
				"less than the minimum tag age (%s): no tag on it can be that old",
				span, min_age);
	}
	prov_find(events, q->tag_key, q->trigger_event_id, 0, &f);
	if (f.c.unreadable)
		return prov_set(d, PROV_IGNORED, "cannot verify: a CloudTrail record of the resource "
				"could not be read");
	if (f.c.op == PROV_OP_NONE) {
		/* No record of the tag: it is older than the history read, if the
		 * read was complete, covered the minimum age, and CloudTrail has
		 * caught up with the trigger itself. */
		if (!q->complete)
			return prov_set(d, PROV_IGNORED, "cannot verify: CloudTrail history incomplete (%s)",
					q->why_incomplete && *q->why_incomplete ? q->why_incomplete
										: "not read");
		if (q->since_ms && q->trigger_ms && q->since_ms > q->trigger_ms - q->min_age_ms) {
			resp_format_time_ms(q->since_ms, iso);
			return prov_set(d, PROV_IGNORED, "cannot verify: history read only since %s, "
					"less than the minimum tag age (%s) before the event%s%s%s", iso,
					min_age, q->why_incomplete && *q->why_incomplete ? " (" : "",
					q->why_incomplete ? q->why_incomplete : "",
					q->why_incomplete && *q->why_incomplete ? ")" : "");
		}
		if (q->trigger_event_id && *q->trigger_event_id && !f.trigger_seen)
			return prov_set(d, PROV_IGNORED, "cannot verify: CloudTrail does not show the "
					"triggering event '%s' yet (delivery lag), so a tag change just "
					"before it may be missing too; a later run, once CloudTrail has it, "
					"can verify the tag", q->trigger_event_id);
		if (q->since_ms) {
			resp_format_time_ms(q->since_ms, iso);
			return prov_set(d, PROV_HONOURED, "no change to the tag in CloudTrail since %s "
					"(complete read): it predates the event by more than %s",
					iso, min_age);
		}
		return prov_set(d, PROV_HONOURED, "no record in CloudTrail's 90-day history (complete "
				"read): it predates the event by more than %s", min_age);
	}
	buf_copy_str(d->setter, sizeof(d->setter), f.c.setter);
	d->set_ms = f.c.ms;
	resp_format_time_ms(f.c.ms, iso);
	if (f.c.ambiguous)
		return prov_set(d, PROV_IGNORED, "cannot verify: disagreeing changes to the tag in the "
				"same second (%s)", iso);
	if (f.c.op == PROV_OP_UNSET)
		return prov_set(d, PROV_IGNORED, "cannot verify: CloudTrail's newest change removed the "
				"tag (%s by '%s') but it is present now", iso,
				f.c.setter[0] ? f.c.setter : "unknown");
	if (!prov_value_eq(f.c.value, q->tag_value))
		return prov_set(d, PROV_IGNORED, "cannot verify: CloudTrail's newest change set another "
				"value (at %s) than the one read now", iso);
	if (!f.c.ms || !q->trigger_ms)
		return prov_set(d, PROV_IGNORED, "cannot verify: the time of the tag change or of the "
				"event is unknown");
	age_ms = q->trigger_ms - f.c.ms;
	prov_span(age_ms, span, sizeof(span));
	if (age_ms < 0)
		return prov_set(d, PROV_IGNORED, "set %s after the event (at %s by '%s')", span, iso,
				f.c.setter[0] ? f.c.setter : "unknown");
	if (!f.c.setter[0])
		return prov_set(d, PROV_IGNORED, "cannot verify: CloudTrail does not say who set it "
				"(at %s)", iso);
	if (!q->trigger_actor || !*q->trigger_actor)
		return prov_set(d, PROV_IGNORED, "cannot verify: the event's actor is unknown, so it "
				"cannot be told apart from the setter '%s'", f.c.setter);
	if (prov_same_principal(f.c.setter, q->trigger_actor))
		return prov_set(d, PROV_IGNORED, "set by the event's own actor ('%s' at %s, %s before "
				"the event)", f.c.setter, iso, span);
	if (resp_is_trusted(q->trust, f.c.setter))
		return prov_set(d, PROV_HONOURED, "set by trusted principal '%s' at %s, %s before the "
				"event", f.c.setter, iso, span);
	if (age_ms < q->min_age_ms)
		return prov_set(d, PROV_IGNORED, "set by '%s' at %s, only %s before the event "
				"(minimum %s)", f.c.setter, iso, span, min_age);
	return prov_set(d, PROV_HONOURED, "set by '%s' at %s, %s before the event", f.c.setter, iso, span);
}

const char *prov_verdict_name(enum prov_verdict v)
{
	switch (v) {
	case PROV_ABSENT: return "absent";
	case PROV_HONOURED: return "honoured";
	case PROV_IGNORED: return "ignored";
	}
	return "unknown";
}

cJSON *prov_report_json(const char *tag_key, const char *tag_value, const struct prov_decision *d)
{
	cJSON *o = cJSON_CreateObject();
	char iso[RESP_TIME_LEN];

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "tag", tag_key ? tag_key : "");
	cJSON_AddItemToObject(o, "value", tag_value ? cJSON_CreateString(tag_value) : cJSON_CreateNull());
	cJSON_AddStringToObject(o, "verdict", prov_verdict_name(d->verdict));
	cJSON_AddStringToObject(o, "reason", d->reason);
	cJSON_AddItemToObject(o, "set_by", d->setter[0] ? cJSON_CreateString(d->setter) : cJSON_CreateNull());
	if (d->set_ms) {
		resp_format_time_ms(d->set_ms, iso);
		cJSON_AddStringToObject(o, "set_at", iso);
	} else {
		cJSON_AddItemToObject(o, "set_at", cJSON_CreateNull());
	}
	return o;
}

enum prov_op prov_value_before(const cJSON *events, const char *key,
			       const char *before_event_id, int64_t before_ms,
			       char *val, size_t n, char *setter, size_t sn)
{
	struct prov_found f;
	const cJSON *e;

	if (val && n)
		val[0] = '\0';
	if (setter && sn)
		setter[0] = '\0';
	/* The bound: the event's own time when it is in the list. */
	cJSON_ArrayForEach(e, (cJSON_IsArray(events) ? events : NULL)) {
		const char *id = resp_get_str(e, "EventId");

		if (before_event_id && id && !strcmp(id, before_event_id)) {
			const cJSON *t = resp_get(e, "EventTime");

			if (cJSON_IsNumber(t) && t->valuedouble > 0 && t->valuedouble < 9.2e12)
				before_ms = (int64_t)(t->valuedouble * 1000.0);
			break;
		}
	}
	if (!before_ms)
		return PROV_OP_NONE;
	prov_find(events, key, NULL, before_ms, &f);
	if (f.c.unreadable || f.c.ambiguous)
		return PROV_OP_NONE;
	if (f.c.op == PROV_OP_NONE)
		return PROV_OP_NONE;
	if (f.c.op == PROV_OP_SET && val && n)
		buf_copy_str(val, n, f.c.value);
	if (setter && sn)
		buf_copy_str(setter, sn, f.c.setter);
	return f.c.op;
}

enum prov_op prov_last_change(const cJSON *events, const char *key, int64_t before_ms,
			      struct prov_change *c)
{
	struct prov_found f;

	prov_find(events, key, NULL, before_ms, &f);
	*c = f.c;
	return c->op;
}

int64_t prov_window_start(int64_t trigger_ms, int64_t min_age_ms)
{
	int64_t s = trigger_ms - min_age_ms - PROV_SLACK_MS;

	return s > 0 ? s : 1;
}

void prov_query_from_history(struct prov_query *q, const struct prov_history *h)
{
	q->complete = h->complete || h->covered_since_ms;
	q->since_ms = h->complete ? h->since_ms : h->covered_since_ms;
	q->why_incomplete = h->why;
}

/* ---- the lookup ------------------------------------------------------------------ */

void prov_history_cleanup(struct prov_history *h)
{
	if (!h)
		return;
	cJSON_Delete(h->events);
	memset(h, 0, sizeof(*h));
}

/* After a read stopped at the page cap: pages come newest first and whole,
 * so everything after the oldest event's second was read. */
static void prov_history_coverage(struct prov_history *h)
{
	const cJSON *e;
	int64_t oldest = 0;

	cJSON_ArrayForEach(e, h->events) {
		const cJSON *t = resp_get(e, "EventTime");

		if (cJSON_IsNumber(t) && t->valuedouble > 0 && t->valuedouble < 9.2e12 &&
		    (!oldest || (int64_t)(t->valuedouble * 1000.0) < oldest))
			oldest = (int64_t)(t->valuedouble * 1000.0);
	}
	h->covered_since_ms = oldest ? oldest / 1000 * 1000 + 1000 : 0;
}

/* Through the shared pager (runtime/cloudtrail.h): throttle-aware, paced
 * per account and Region, retried within the deadline. */
const char *prov_honoured(const cJSON *events, struct prov_query *q, const cJSON *tags,
			  const char *const *keys, size_t nkeys, cJSON *list, char *reason, size_t rn)
{
	struct prov_decision d;
	const char *honoured = NULL;
	size_t i;

	for (i = 0; i < nkeys; i++) {
		const char *v = prov_tag_value(tags, keys[i]);

		if (!prov_value_true(v))
			continue;
		q->tag_key = keys[i];
		q->tag_value = v;
		prov_decide(events, q, &d);
		if (list)
			cJSON_AddItemToArray(list, prov_report_json(keys[i], v, &d));
		if (d.verdict == PROV_HONOURED && !honoured) {
			honoured = keys[i];
			buf_copy_str(reason, rn, d.reason);
		}
	}
	return honoured;
}

void prov_history_query(struct ct_query *q, const char *resource_arn, int64_t since_ms,
			int64_t deadline_ms, const char *account)
{
	*q = (struct ct_query){ .attr_key = "ResourceName", .attr_value = resource_arn,
		.start_ms = since_ms, .max_pages = PROV_MAX_PAGES, .deadline_ms = deadline_ms,
		.account = account, .keep_events = 1 };
}

/* h from the lookup; `events` is taken (NULL: none read). */
static enum fb_err prov_history_take(struct prov_history *h, int64_t since_ms, enum fb_err rc,
				     const struct ct_result *res, cJSON *events)
{
	memset(h, 0, sizeof(*h));
	h->since_ms = since_ms;
	h->events = events;
	h->complete = res->complete;
	h->requests = res->requests;
	buf_copy_str(h->why, sizeof(h->why), res->why);
	if (!h->events)
		h->events = cJSON_CreateArray();
	/* Stopped at the page cap, not by a failure: complete for the span read. */
	if (rc == FB_OK && !res->complete && (res->stop == CT_STOP_PAGES || res->stop == CT_STOP_EVENTS))
		prov_history_coverage(h);
	if (rc != FB_OK && !h->why[0])
		snprintf(h->why, sizeof(h->why), "%s", fb_strerror(rc));
	return rc;
}

enum fb_err prov_history_from_ct(struct prov_history *h, int64_t since_ms, enum fb_err rc,
				 const struct ct_result *res)
{
	return prov_history_take(h, since_ms, rc, res, res->events ? cJSON_Duplicate(res->events, 1) : NULL);
}

enum fb_err prov_history_read(struct aws_client *c, const char *resource_arn, int64_t since_ms,
			      int64_t deadline_ms, const char *account, struct prov_history *h)
{
	struct ct_query q;
	struct ct_result res;
	enum fb_err rc;
	cJSON *events;

	memset(&res, 0, sizeof(res));   /* ct_lookup releases what res held first */
	prov_history_query(&q, resource_arn, since_ms, deadline_ms, account);
	rc = ct_lookup(c, &q, &res);
	events = res.events;         /* taken over */
	res.events = NULL;
	rc = prov_history_take(h, since_ms, rc, &res, events);
	ct_result_cleanup(&res);
	return rc;
}

/* ---- w4-kc-lr: one tag judged, its report entry kept ------------------------------- */

enum prov_verdict prov_decide_tag(const cJSON *events, const struct prov_query *base, const char *key,
				  const char *value, char *why, size_t wn, cJSON *list)
{
	struct prov_query q = *base;
	struct prov_decision d;

	q.tag_key = key;
	q.tag_value = value;
	prov_decide(events, &q, &d);
	if (list)
		cJSON_AddItemToArray(list, prov_report_json(key, value, &d));
	buf_copy_str(why, wn, d.reason);
	return d.verdict;
}

/* ---- w4-kc-kg: a responder's own writes (kms-guard's kg_is_self, moved) ---------- */

int prov_is_self(const char *actor, const char *self_arn, const char *member_role)
{
	char role[600], want[300];
	const char *sess;

	if (!actor || !*actor)
		return 0;
	if (self_arn && *self_arn && prov_same_principal(actor, self_arn))
		return 1;
	if (!member_role || !*member_role || !prov_principal(actor, role, sizeof(role)))
		return 0;
	/* arn:P:iam::A:role/<member_role>, from a session named firebreak-... */
	snprintf(want, sizeof(want), ":role/%s", member_role);
	sess = strrchr(actor, '/');
	return strstr(actor, ":assumed-role/") && strlen(role) > strlen(want) &&
	       !strcmp(role + strlen(role) - strlen(want), want) &&
	       sess && !strncmp(sess + 1, "firebreak-", 10);
}
