/*
 * evidence: what a responder keeps of an incident, write-once, in the
 * function's own S3 bucket (issue 17: the evidence writer, shared).
 *
 * Layout: s3://<bucket>/incidents/<incident_id>/<name>. Every PutObject
 * carries If-None-Match: * (S3 conditional write: an object that exists is
 * never replaced; S3 answers 412 and writes nothing), SSE-KMS
 * (x-amz-server-side-encryption: aws:kms, the key FIREBREAK_EVIDENCE_KMS_KEY
 * or the bucket's), and its SHA-256 (x-amz-checksum-sha256, verified by S3
 * on receipt and compared with the one S3 answers).
 *
 * Attempts: a retry of the same incident never replaces what an earlier
 * invocation wrote. Attempt 1 writes incidents/<id>/<name>, attempt N >= 2
 * incidents/<id>/attempt-N/<name>. An attempt claims its number by being
 * the first to write that prefix's restore.json (the undo record as it
 * stands, evidence_claim): 412 (an earlier attempt's) or 409 (one being
 * written right now) moves on to N + 1, up to EVIDENCE_MAX_ATTEMPTS.
 * manifest.json is written last (evidence_finish): every object's key,
 * size and SHA-256, those of the earlier attempts read back from S3
 * (HeadObject, checksum mode) first; its presence means the attempt's set
 * is complete, so a set with a failed write gets no manifest.
 *
 * Object Lock: FIREBREAK_EVIDENCE_LOCK_DAYS = 0 (default): no retention
 * header; a bucket with a default retention rule (infra/template.yaml's
 * EvidenceBucket: GOVERNANCE, EvidenceRetentionDays) applies it to every
 * object by itself, and no call is made. 1..36500: every PutObject asks
 * for FIREBREAK_EVIDENCE_LOCK_MODE (GOVERNANCE, default, or COMPLIANCE)
 * until now + that many days, when the bucket has Object Lock: that is
 * read once per container with s3:GetObjectLockConfiguration (step
 * "evidence-lock-config", optional; S3 refuses retention headers on a
 * bucket without Object Lock, so an unreadable or absent configuration
 * means the objects are written without them and the report says so:
 * evidence matters more than its retention).
 *
 * Dry run: every write is "planned", nothing is sent (no object has an
 * undo: evidence is never deleted by firebreak, restore[] stays the
 * responder's).
 *
 * Ownership: struct evidence is caller-placed (evidence_init /
 * evidence_cleanup) and borrows the kit, the client (the function's own
 * account: the bucket is ours whatever account the incident is in), the
 * config and the context. Object data given to evidence_add is taken.
 *
 * Typical use (functions/task-quarantine/main.c):
 *     evidence_init(&ev, &kit, st->aws, &st->evcfg, ctx, "task_arn", task_arn);
 *     chk = evidence_check(&ev, read_round);          // joins a read round
 *     kit_run(read_round); evidence_checked(&ev, chk);
 *     ... containment ...
 *     if (evidence_begin(&ev, cJSON_GetArraySize(r->restore) > 0, out) &&
 *         evidence_claim(&ev, restore_text, len, out)) { // restore.json
 *             evidence_add_json(&ev, "task.json", task);
 *             evidence_add(&ev, "logs/api.log.gz", gz, gzlen, NULL);
 *             evidence_put(&ev);                        // concurrently
 *             evidence_finish(&ev, names, out);         // read-back, manifest
 *     }
 *     evidence_cleanup(&ev);
 */
#ifndef FB_EVIDENCE_H
#define FB_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "aws.h"
#include "fb_err.h"
#include "kit.h"
#include "lr.h"

#define EVIDENCE_MAX_OBJECTS 32
#define EVIDENCE_MAX_ATTEMPTS 32
#define EVIDENCE_MAX_EARLIER 64
#define EVIDENCE_MAX_LOCK_DAYS 36500
/* Below this much time left a write is not started ("failed: not started"). */
#define EVIDENCE_MIN_STEP_MS 300

/* Settings (owned strings), read once at init. */
struct evidence_config {
	char *bucket;          /* FIREBREAK_EVIDENCE_BUCKET; NULL: no evidence is kept */
	char *kms_key;         /* FIREBREAK_EVIDENCE_KMS_KEY; NULL: the bucket's default KMS key */
	char lock_mode[16];    /* FIREBREAK_EVIDENCE_LOCK_MODE: GOVERNANCE (default) or COMPLIANCE */
	int lock_days;         /* FIREBREAK_EVIDENCE_LOCK_DAYS: 0 (default) bucket default only */
	int lock_known;        /* cache for the container: 1 once the bucket was read */
	int lock_enabled;      /* the bucket has Object Lock (valid when lock_known) */
};
/* FB_E_CONFIG with err filled on a bad value (mode other than GOVERNANCE
 * or COMPLIANCE, days not 0..EVIDENCE_MAX_LOCK_DAYS). */
enum fb_err evidence_config_from_env(struct evidence_config *c, char *err, size_t errlen);
void evidence_config_cleanup(struct evidence_config *c);

struct evidence_obj {
	char key[1024];
	char *data;            /* owned */
	size_t len;
	char sha_hex[65];
	char sha_b64[45];
	char note[128];        /* e.g. "truncated at the size cap" */
};
/* Takes data (malloc'd; NULL is an empty object) and computes its digests. */
void evidence_obj_set(struct evidence_obj *o, const char *key, char *data, size_t len);
void evidence_obj_cleanup(struct evidence_obj *o);

/* What s3:HeadObject on manifest.json says about earlier evidence. S3
 * answers 404 for a missing key only to a caller with s3:ListBucket; without
 * it (firebreak's policies grant none) a missing key is 403. So 403 is
 * "missing, or not ours to read": capture (PutObject fails loudly if writing
 * is refused too). Only a successful HeadObject means it is kept. */
enum evidence_manifest {
	EVIDENCE_MANIFEST_PRESENT,
	EVIDENCE_MANIFEST_MISSING,     /* 404 / FB_E_NOTFOUND */
	EVIDENCE_MANIFEST_UNREADABLE,  /* 403 */
	EVIDENCE_MANIFEST_UNKNOWN      /* throttled past retries, 5xx, timeout */
};
enum evidence_manifest evidence_manifest_state(enum fb_err rc, long http_status);

struct evidence {
	struct kit *k;                  /* borrowed: the report */
	struct aws_client *aws;         /* borrowed: the bucket's (own) account */
	struct evidence_config *cfg;    /* borrowed; its lock cache is updated */
	const struct lr_context *ctx;   /* borrowed: the deadline */
	const char *subject_name;       /* borrowed: manifest field naming the subject ("task_arn") */
	const char *subject;            /* borrowed: its value */
	char prefix[160];               /* incidents/<incident_id>/ */
	char aprefix[200];              /* this attempt's prefix */
	unsigned attempt;               /* 0 until claimed */
	int manifest_state;             /* 1 present, 0 missing, -1 unknown, until checked: 0 */
	char lock_until[32];            /* the retain-until date sent, "" when none */
	struct evidence_obj obj[EVIDENCE_MAX_OBJECTS];
	size_t nobj;
	size_t put_from;                /* first object not yet put */
	struct kit_step *lock_step;     /* evidence_check's Object Lock read, until checked */
};

void evidence_init(struct evidence *e, struct kit *k, struct aws_client *own, struct evidence_config *cfg,
		   const struct lr_context *ctx, const char *subject_name, const char *subject);
void evidence_cleanup(struct evidence *e);

/* Whether to write a set now; `wrote` says the invocation wrote something
 * (restore[] not empty). No bucket: one optional step "evidence"
 * (s3:PutObject) skipped "FIREBREAK_EVIDENCE_BUCKET not set", 0 (the
 * responder words its warning). Else adds bucket and prefix to `out`
 * (the report's extra.evidence); a complete first set (manifest present,
 * evidence_checked) and nothing new written: step "evidence" already,
 * state "already", 0. Else 1. */
int evidence_begin(struct evidence *e, int wrote, cJSON *out);
/* Adds the HeadObject of manifest.json (step "evidence-check", optional)
 * and, with FIREBREAK_EVIDENCE_LOCK_DAYS and the bucket not yet read, the
 * Object Lock read to `rd`: no dependent round of its own. NULL when no
 * bucket is configured. */
struct kit_step *evidence_check(struct evidence *e, struct kit_round *rd);
/* After rd ran: manifest_state and the line's wording. */
void evidence_checked(struct evidence *e, struct kit_step *check);

/* The prefix of attempt `attempt` (1-based) under `incident_prefix`; 0 when
 * it does not fit. */
int evidence_attempt_prefix(const char *incident_prefix, unsigned attempt, char *out, size_t outlen);

/* Claims the attempt: restore.json (`restore`, taken: the undo record as
 * text) written first, one "evidence-put" line named by the key finally
 * written. 1 when claimed (or planned under dry run): `out` gets attempt
 * and attempt_prefix; else state "incomplete" and 0. */
int evidence_claim(struct evidence *e, char *restore, size_t len, cJSON *out);
/* Queues an object of this attempt (data taken; note may be NULL). 0 when
 * full or data is NULL. */
int evidence_add(struct evidence *e, const char *name, char *data, size_t len, const char *note);
void evidence_add_json(struct evidence *e, const char *name, const cJSON *j);
/* Writes the objects queued since the last put, concurrently, one
 * "evidence-put" line each. */
void evidence_put(struct evidence *e);

/* manifest.json of this attempt. mi fields not set by evidence_finish. */
struct evidence_manifest_info {
	const char *incident_id, *subject_name, *subject, *bucket, *prefix, *written_by; /* borrowed */
	int64_t written_ms;
	unsigned attempt;
	const cJSON *earlier;   /* borrowed, may be NULL: [{key, size, sha256, attempt}] */
	int earlier_complete;
};
cJSON *evidence_manifest_json(const struct evidence_manifest_info *mi, const struct evidence_obj *objs, size_t n);

/* Reads back the earlier attempts' objects (`names`, NULL-terminated,
 * relative to an attempt's prefix: what an earlier attempt may have
 * written), writes the manifest unless a required step failed, and
 * fills `out` (the report's extra.evidence) with attempt, objects,
 * earlier_objects, manifest, state ("kept", "planned", "incomplete"), and
 * object_lock when retention was asked for. */
void evidence_finish(struct evidence *e, const char *const *names, cJSON *out);

/* issue 24: the undo record alone, for a responder that keeps no other
 * evidence (kms-guard, public-lock, net-block): restore.json of the next
 * attempt of the incident, claimed with `entries` (borrowed: the undo
 * entries of the writes about to be made) BEFORE the first of them, so
 * firebreak-restore can undo them. One call per claim (a responder acting
 * on several targets claims once per target: each its own attempt).
 * No bucket configured: nothing is sent and `out` (the report's
 * extra.undo_record) says "not kept"; a failed claim: its "evidence-put"
 * line is failed but optional (the containment is never held back by the
 * record: the undo is still in the report's restore[]), a warning says so.
 * 1 when claimed (or planned under dry run), else 0. */
int evidence_undo_record(struct kit *k, struct aws_client *own, struct evidence_config *cfg,
			 const struct lr_context *ctx, const char *subject_name, const char *subject,
			 const cJSON *entries, cJSON *out);

/* S3's base64 SHA-256 -> 64 lowercase hex digits; 0 when not one. */
int evidence_sha256_b64_to_hex(const char *b64, char hex[65]);
void evidence_sha256(const void *p, size_t n, char hex[65], char b64[45]);

/* ---- w4-kc-tq: the opening of a set ------------------------------------------------ */

/* evidence_begin (`wrote` as there), then evidence_claim with `restore`
 * (borrowed: the report's restore[] as it stands, printed for
 * restore.json). 1 when the attempt is claimed (or planned), else 0 (no
 * bucket, a complete set already, or the claim failed: `out` says which). */
int evidence_open(struct evidence *e, int wrote, const cJSON *restore, cJSON *out);

/* ---- w4-kc-lr: the undo record after the writes ------------------------------------ */

/* restore.json of this incident's attempt, written AFTER the writes
 * (evidence_begin, evidence_claim, evidence_put, evidence_finish with the
 * manifest), holding a copy of the report's restore[] as sent; with
 * mark_secret every entry without a "secret_public" member gets
 * "secret_public": true (its undo would bring a leaked credential back:
 * firebreak-restore refuses such an entry). The report's extra.evidence
 * says how it went. Nothing is done under dry run or with restore[] empty
 * (1), nor without a bucket in cfg (0: the caller says that no record is
 * kept). For a responder whose writes must not wait for the record
 * (leak-rotate: the containment comes first). */
int evidence_restore_after(struct kit *k, struct aws_client *own, struct evidence_config *cfg,
			   const struct lr_context *ctx, const char *subject_name, const char *subject,
			   int mark_secret);

/* ---- w4-kc-kg: the claim as the responders make it ---------------------------------- */

/* evidence_undo_record for `entries` (taken, freed) when it holds any, its
 * outcome in parent["undo_record"] (an object added); nothing sent and no
 * member when it is empty (nothing will be written: nothing to undo).
 * Returns evidence_undo_record's result, 0 when empty. kms-guard's;
 * access-triage and codeartifact-lock wrap the claim the same way. */
int evidence_undo_claim(struct kit *k, struct aws_client *own, struct evidence_config *cfg,
			const struct lr_context *ctx, const char *subject_name, const char *subject,
			cJSON *entries, cJSON *parent);

#endif
