/*
 * prov: may a firebreak:* tag on a resource be believed? (issue 16 item 8)
 *
 * A tag such as firebreak:exempt=true or firebreak:allow-deletion=true is
 * read after the attack, and whoever may call ScheduleKeyDeletion,
 * DeleteSecret or StopTask on a resource can usually also call TagResource
 * on it. So a responder honours a firebreak:* tag only when CloudTrail
 * (LookupEvents on the resource) shows that it predates the triggering
 * event by FIREBREAK_TAG_MIN_AGE_HOURS (resp_config.tag_min_age_ms, default
 * 24 h) and was not set by the event's actor. Otherwise the tag is ignored
 * (the responder acts as if it were absent: fail towards containment) and
 * the report says why.
 *
 * Two parts, as everywhere in firebreak:
 *   prov_decide()      the pure stage: the resource's CloudTrail events (a
 *                      LookupEvents "Events" array, as AWS returns it), the
 *                      tag key and the value read now, the trigger's time,
 *                      event id and actor, the minimum age, and whether the
 *                      history read was complete -> honoured or ignored,
 *                      with a reason for the report. No I/O, no clock.
 *   prov_history_read() the thin lookup: LookupEvents ResourceName=<arn>
 *                      from (trigger - min age - PROV_SLACK_MS) to now
 *                      through the shared pager (runtime/cloudtrail.h).
 *   prov_check()       both, plus the report fields (prov_report_json()).
 *
 * How a tag's history is read from CloudTrail. Any record whose
 * requestParameters holds "tags" (an array of {tagKey, tagValue} (KMS),
 * {key, value} (Secrets Manager, ECS) or {Key, Value}) sets those keys:
 * TagResource, and the create calls with tags (CreateKey, CreateSecret,
 * RunTask, ...). Any record whose requestParameters holds "tagKeys" removes
 * them (UntagResource). EC2's CreateTags / DeleteTags carry tagSet.items.
 * S3's PutBucketTagging carries the bucket's whole new tag set
 * (Tagging.TagSet.Tag): it sets the keys in it and removes every other
 * key; DeleteBucketTagging removes them all; a tag set that cannot be read
 * makes the history unverifiable. Failed calls (errorCode) changed nothing
 * and are skipped. The newest such event for the key (by EventTime; any time up to
 * now, after the trigger included) is the one that established the value
 * read now.
 *
 * Edge cases, each decided here (tests/unit/test_prov.c has one case each):
 *  - No value now (tag absent) -> nothing to honour: PROV_ABSENT.
 *  - Value not "true" where the caller asks for a true flag: the caller
 *    asks prov_value_true() first; prov_decide() judges any value.
 *  - No record of the key, complete read, window starting at least min age
 *    before the trigger -> the tag has not changed since before the window
 *    (CloudTrail keeps 90 days; an older tag leaves no record at all):
 *    honoured. The setter of such a tag cannot be known; the kms-guard
 *    TagResource trigger reverts an untrusted firebreak:* tag change within
 *    seconds and infra/policies deny it, so an attacker's tag does not live
 *    that long unnoticed.
 *  - ... but only when the history shows the triggering event itself (when
 *    it has a CloudTrail event id). CloudTrail delivers to LookupEvents
 *    minutes after the call and EventBridge may be faster: a TagResource a
 *    second before the ScheduleKeyDeletion may not be visible yet, and its
 *    absence would read as "older than 90 days". Not yet visible -> cannot
 *    verify: ignored.
 *  - The read failed, was throttled past the deadline, hit its page cap
 *    (a busy resource: every Decrypt of a key is an event), or a tag event's
 *    record could not be parsed -> cannot verify: ignored, and the reason
 *    names what was missing. Never honoured on partial history.
 *  - Set after the triggering event -> ignored (it is not what the resource
 *    carried when it was attacked).
 *  - Set by the same principal as the trigger's actor -> ignored, however
 *    old. "Same principal" compares the principal, not the session: an
 *    assumed-role session counts as its role (arn:...:sts::A:assumed-role/R/s
 *    == arn:...:iam::A:role/R, any session name), so another session of the
 *    same role is the same principal. Unknown setter or unknown actor (no
 *    userIdentity.arn) -> cannot tell: ignored.
 *  - Set by a trusted principal (FIREBREAK_TRUSTED_PRINCIPALS) before the
 *    trigger -> honoured even when younger than the minimum age: trusted
 *    principals are exactly who infra/policies allow to change firebreak:*
 *    tags (the IaC pipeline tagging a key for decommissioning).
 *  - Set less than min age before the trigger by anyone else -> ignored.
 *  - Removed and re-added: the clock starts at the re-add (the newest event
 *    wins). The newest event removed the key but the tag is there now, or
 *    the newest event set another value than the one read now -> CloudTrail
 *    has not caught up with a newer change: cannot verify, ignored. Two
 *    events in the same second that disagree -> ambiguous: ignored.
 *  - The resource was created less than min age before the trigger
 *    (created_ms, when the caller knows it) -> no tag on it can be older:
 *    ignored without looking further. (A creation time after the event is
 *    inconsistent and left out: the history decides.)
 *  - Values compare after trimming ASCII white space, ignoring case
 *    (" TRUE " set, "true" read now: the same value). Keys compare exactly
 *    (KMS, Secrets Manager and ECS tag keys are case-sensitive; a
 *    "Firebreak:Exempt" tag is simply not a firebreak tag).
 */
#ifndef FB_PROV_H
#define FB_PROV_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "aws.h"
#include "cloudtrail.h"
#include "fb_err.h"
#include "resp.h"

#define PROV_DEFAULT_MIN_AGE_HOURS 24
#define PROV_MAX_MIN_AGE_HOURS 2160          /* 90 days: CloudTrail's history */
/* The history window starts this long before (trigger - min age), so a tag
 * set just before the window's edge is seen rather than inferred. */
#define PROV_SLACK_MS (3600LL * 1000)
#define PROV_MAX_PAGES 10                    /* 500 events per resource */
#define PROV_REASON_LEN 512

/* ---- tag values: the one comparison every function uses ----------------- */

/* 1 when `v` is "true" in any case with optional ASCII white space around
 * it ("true", "True", " TRUE\t"); 0 for NULL and anything else ("yes", "1",
 * "truex"). Exemptions fail closed: a value a human meant as true but wrote
 * otherwise means firebreak acts. */
int prov_value_true(const char *v);
/* 1 when a and b are the same tag value: equal after trimming ASCII white
 * space, ignoring ASCII case. NULL equals only NULL. */
int prov_value_eq(const char *a, const char *b);
/* The value of tag `key` (compared exactly) in a Tags array of any AWS
 * shape: {TagKey, TagValue} (KMS ListResourceTags), {Key, Value} (Secrets
 * Manager, EC2, S3), {key, value} (ECS). Borrowed from `tags`; NULL when
 * absent or `tags` is not an array. */
const char *prov_tag_value(const cJSON *tags, const char *key);
/* prov_value_true(prov_tag_value(tags, key)). */
int prov_tag_true(const cJSON *tags, const char *key);

/* ---- principals ----------------------------------------------------------------- */

/* The principal behind an ARN: an assumed-role session
 * arn:P:sts::A:assumed-role/R/S -> arn:P:iam::A:role/R; anything else is
 * itself. 0 when `arn` is NULL/empty or does not fit. */
int prov_principal(const char *arn, char *out, size_t n);
/* 1 when both ARNs are known and name the same principal. */
int prov_same_principal(const char *a, const char *b);

/* ---- one record's effect on a tag --------------------------------------------- */

enum prov_op { PROV_OP_NONE, PROV_OP_SET, PROV_OP_UNSET, PROV_OP_UNREADABLE };

/* What the CloudTrail record `rec` (a parsed CloudTrailEvent; borrowed) did
 * to tag `key`: set it (value copied to val, n bytes), removed it, or
 * nothing (also for failed calls). S3's PutBucketTagging replaces the whole
 * set (requestParameters.Tagging.TagSet.Tag, object or array): a key in it
 * is set, a key left out removed; DeleteBucketTagging removes every key;
 * PROV_OP_UNREADABLE when such a record's tag set cannot be read (it may
 * have changed the key: the history cannot prove the tag). The history
 * walkers (prov_decide, prov_last_change, prov_value_before) never return
 * PROV_OP_UNREADABLE: they count it as an unreadable record. */
enum prov_op prov_record_op(const cJSON *rec, const char *key, char *val, size_t n);

/* The firebreak:* keys (prefix "firebreak:") a record set or removed, in
 * request order: appended to `keys` (an array of {key, op: "set"|"unset",
 * value}), at most `cap`. Returns how many were found. For a tag-change
 * trigger. */
int prov_record_firebreak_keys(const cJSON *rec, cJSON *keys, int cap);

/* ---- the decision -------------------------------------------------------------- */

struct prov_query {
	const char *tag_key;          /* "firebreak:exempt" */
	const char *tag_value;        /* the value read now; NULL: the tag is absent */
	int64_t trigger_ms;           /* when the triggering change happened (its
				       * eventTime); manual invocations: the time of
				       * the invocation */
	const char *trigger_event_id; /* the trigger's CloudTrail eventID, NULL when
				       * it is not a CloudTrail record */
	const char *trigger_actor;    /* its userIdentity.arn, NULL/"" unknown */
	int64_t min_age_ms;           /* resp_config.tag_min_age_ms */
	int64_t created_ms;           /* the resource's creation time, 0 unknown */
	const struct resp_config *trust; /* trusted principals; may be NULL */
	/* The history read: complete for [since_ms, now] (since_ms 0: all of
	 * CloudTrail's 90 days), or not, and why. */
	int complete;
	int64_t since_ms;
	const char *why_incomplete;   /* may be NULL */
};

enum prov_verdict {
	PROV_ABSENT = 0,    /* no such tag: nothing to honour */
	PROV_HONOURED,
	PROV_IGNORED
};

struct prov_decision {
	enum prov_verdict verdict;
	char reason[PROV_REASON_LEN];  /* for the report, e.g. "ignored: set by the
					* event's actor ... 3 min before the event" */
	char setter[512];              /* who set it, "" when not in the history */
	int64_t set_ms;                /* when, 0 when not in the history */
};

/* The pure stage (see the edge cases above). `events` is a LookupEvents
 * "Events" array for the resource (any order; borrowed). Fills d; returns
 * d->verdict. */
enum prov_verdict prov_decide(const cJSON *events, const struct prov_query *q,
			      struct prov_decision *d);

/* Several "true" flags on one resource (firebreak:exempt,
 * firebreak:allow-deletion, ...): each of `keys` whose value in `tags` is
 * true (prov_value_true) is judged with q (its trigger and history fields
 * set by the caller; tag_key and tag_value are set here) and its report
 * entry (prov_report_json) appended to `list` (may be NULL). Returns the
 * first honoured key, in the order of `keys` (borrowed from it), with its
 * reason copied to reason (rn bytes); NULL when none is honoured. */
const char *prov_honoured(const cJSON *events, struct prov_query *q, const cJSON *tags,
			  const char *const *keys, size_t nkeys, cJSON *list, char *reason, size_t rn);

/* "honoured", "ignored", "absent" (static). */
const char *prov_verdict_name(enum prov_verdict v);

/* The report's entry for one tag: {tag, value, verdict, reason, set_by,
 * set_at}. Caller cJSON_Delete()s (or adds it to the report). */
cJSON *prov_report_json(const char *tag_key, const char *tag_value,
			const struct prov_decision *d);

/* One change of a tag in a resource's history. */
struct prov_change {
	enum prov_op op;
	char value[260];              /* PROV_OP_SET: the value set */
	char setter[512];             /* userIdentity.arn, "" unknown */
	char event_id[128];
	int64_t ms;
	int ambiguous;                /* another change in the same second disagrees */
	int unreadable;               /* a record that may change tags could not be parsed */
};

/* The newest change of tag `key` in `events` (borrowed, any order) strictly
 * before before_ms (0: any time). Fills c; returns c->op (PROV_OP_NONE when
 * there is none). */
enum prov_op prov_last_change(const cJSON *events, const char *key, int64_t before_ms,
			      struct prov_change *c);

/* The value tag `key` had just before the event `before_event_id` (its
 * EventTime, when it is in the list) or else before before_ms, from the
 * resource's history (borrowed). PROV_OP_SET with val (n bytes) filled,
 * PROV_OP_UNSET when its newest change before then removed it, and
 * PROV_OP_NONE when the history holds no change of it before then (the
 * tag was absent, or set before the history read: the caller cannot tell)
 * or cannot say (unreadable record, disagreeing changes in one second).
 * *setter (sn bytes, may be NULL) is who made that change. For reverting a
 * tag change. */
enum prov_op prov_value_before(const cJSON *events, const char *key,
			       const char *before_event_id, int64_t before_ms,
			       char *val, size_t n, char *setter, size_t sn);

/* ---- the lookup ------------------------------------------------------------------ */

struct prov_history {
	cJSON *events;        /* owned: LookupEvents Events, newest first */
	int complete;
	int64_t since_ms;     /* the StartTime asked for (0: all of the 90 days) */
	int64_t covered_since_ms; /* not complete but stopped at the page cap: the
				   * read is complete from this time (the oldest
				   * event's second + 1 s) to now; else 0 */
	char why[320];        /* why not complete ("" when complete) */
	int requests;         /* LookupEvents requests made */
};

/* LookupEvents ResourceName=<resource_arn> from since_ms (0: all of
 * CloudTrail's 90 days, which lets prov_decide name the setter of an older
 * tag) to now through
 * the shared pager (throttle-aware, paged up to PROV_MAX_PAGES, bounded by
 * deadline_ms, epoch ms, 0 = none; account keys the rate limiter, may be
 * NULL). h is filled in every case (events possibly partial, complete 0 and
 * why set on failure); release with prov_history_cleanup(). Returns FB_OK
 * when the read ended without a failure (h->complete says whether it was
 * complete), else the error. */
enum fb_err prov_history_read(struct aws_client *c, const char *resource_arn, int64_t since_ms,
			      int64_t deadline_ms, const char *account, struct prov_history *h);
void prov_history_cleanup(struct prov_history *h);
/* prov_history_read in two halves, for a read that runs as a kit step
 * (kit.h .cloudtrail) or joins a round: the query it makes (q zeroed and
 * filled; q borrows resource_arn and account), and h from what the lookup
 * returned (rc, res: borrowed; the events are copied). */
void prov_history_query(struct ct_query *q, const char *resource_arn, int64_t since_ms,
			int64_t deadline_ms, const char *account);
enum fb_err prov_history_from_ct(struct prov_history *h, int64_t since_ms, enum fb_err rc,
				 const struct ct_result *res);

/* The window start prov_history_read should use for a trigger at
 * trigger_ms: trigger - min age - PROV_SLACK_MS (never before 1970). */
int64_t prov_window_start(int64_t trigger_ms, int64_t min_age_ms);

/* Fills q's history fields (complete, since_ms, why_incomplete) from h
 * (borrowed; q then borrows h->why). A read stopped at the page cap still
 * covers [covered_since_ms, now] completely: newest first, every page whole. */
void prov_query_from_history(struct prov_query *q, const struct prov_history *h);

/* ---- w4-kc-lr: one tag judged, its report entry kept ------------------------------- */

/* prov_decide of the tag key=value (base: the query without tag_key and
 * tag_value, copied), its report entry (prov_report_json) appended to
 * `list` (may be NULL) and its reason copied to why (wn bytes). Returns the
 * verdict. For a tag that is judged even when not "true" (leak-rotate's
 * firebreak:ecs-services list) or whose reason is reported either way. */
enum prov_verdict prov_decide_tag(const cJSON *events, const struct prov_query *base, const char *key,
				  const char *value, char *why, size_t wn, cJSON *list);

/* ---- w4-kc-kg: a responder's own writes ------------------------------------------ */

/* A responder's own writes come back as CloudTrail events (loop safety): 1
 * when `actor` is this function (the principal of self_arn, from
 * sts:GetCallerIdentity; may be NULL/"" when unknown) or a session of the
 * member role `member_role` that a responder opened (resp_client_for names
 * them "firebreak-..."). A chosen session name alone never counts: the
 * role must be the member role. Moved from kms-guard (issue 17). */
int prov_is_self(const char *actor, const char *self_arn, const char *member_role);

#endif
