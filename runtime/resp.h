/*
 * resp: the contract every responder keeps (../shared/RESPONDERS.md),
 * written once: settings, decisions before acting, the report, the finish.
 *
 * A responder's handler is, in outline:
 *
 *     struct resp r;
 *     resp_begin(&r, state->cfg, "kms-guard", ctx);         // report skeleton
 *     ...parse the event into r.trigger (resp_trigger_from_event) ...
 *     if (resp_is_trusted(&r.cfg, actor_arn)) resp_skip(&r, "trusted actor ...");
 *     int i = resp_step_begin(&r, "cancel-deletion", "kms:CancelKeyDeletion", key_arn, RESP_WRITE);
 *     if (resp_step_dry(&r, i)) ...skip the write (status already "planned")...
 *     ... aws_call_run ... resp_step_end(&r, i, RESP_DONE, "detail", NULL / &err);
 *     return resp_finish(&r, aws, out);   // SNS, log line, result or error
 *
 * Every string passed in is copied. Secret values must never be passed to
 * any resp_* function: pass resp_fingerprint() output instead.
 *
 * Beside resp (issue 17): the function's own account and the clients for
 * member accounts are acct.h's (acct_), split from here; the report's
 * outlets besides SNS (EventBridge, Security Hub) are outlet.h's, run
 * through resp.outlet. The EMF metrics line (resp_metrics_emf) and the
 * finding reference (resp_finding_ref) stay here: resp_finish and
 * resp_trigger_from_event call them, and outlet sits above resp (it
 * reads struct resp and runs kit steps), so moving them there would make
 * the two modules call each other.
 */
#ifndef FB_RESP_H
#define FB_RESP_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "aws.h"
#include "fb_err.h"
#include "lr.h"
#include "utc.h"

/* Settings shared by all responders, read from the environment once at
 * init (resp_config_from_env). Owned strings, freed by resp_config_cleanup. */
struct resp_config {
	int dry_run;                 /* FIREBREAK_DRY_RUN=true */
	char **trusted;              /* FIREBREAK_TRUSTED_PRINCIPALS, ARN patterns with '*' */
	size_t ntrusted;
	char *topic_arn;             /* FIREBREAK_TOPIC_ARN, NULL if unset */
	char *member_role;           /* FIREBREAK_MEMBER_ROLE, NULL if unset */
	char *own_account;           /* from the function ARN or sts:GetCallerIdentity; NULL until known */
	int64_t tag_min_age_ms;      /* FIREBREAK_TAG_MIN_AGE_HOURS (default 24, 0..2160): how
				      * long a firebreak:* tag must predate the triggering
				      * event to be honoured (runtime/prov.h) */
	char *caller_arn;            /* sts:GetCallerIdentity Arn; NULL until known (acct_caller_arn) */
	/* issue 24: where the report goes besides SNS (runtime/outlet.h). Each
	 * is off until its setting is given (infra/template.yaml gives them). */
	char *event_bus;             /* FIREBREAK_EVENT_BUS: bus name or ARN; NULL: no PutEvents */
	int sh_update;               /* FIREBREAK_SECURITYHUB_UPDATE=true: update the triggering finding */
	int sh_import;               /* FIREBREAK_SECURITYHUB_IMPORT=true: import each incident (ASFF) */
	int metrics;                 /* FIREBREAK_METRICS (default true): EMF lines on stdout */
	char metrics_ns[64];         /* FIREBREAK_METRICS_NAMESPACE (default "Firebreak") */
};

enum fb_err resp_config_from_env(struct resp_config *cfg, char *err, size_t errlen);
void resp_config_cleanup(struct resp_config *cfg);

enum resp_status { RESP_DONE, RESP_ALREADY, RESP_SKIPPED, RESP_PLANNED, RESP_FAILED };
enum resp_kind { RESP_READ, RESP_WRITE };
const char *resp_status_name(enum resp_status s); /* "done", "already", ... */

struct resp_step {
	char *step, *api, *target, *detail, *error;   /* owned */
	enum resp_kind kind;
	enum resp_status status;
	int required;        /* a failed required step makes the invocation an error */
	int ended;
	int64_t started_ms;  /* relative to the report's received time */
	int64_t elapsed_ms;
	int notify;          /* issue 24: a reporting step (EventBridge, Security Hub), never
			      * containment: left out of the verdict and the metrics' actions */
};

struct kit_round;
struct kit_step;

struct resp {
	struct resp_config *cfg;     /* borrowed */
	const struct lr_context *ctx; /* borrowed */
	int dry_run;                 /* cfg->dry_run or the event's "dryRun": true */
	char function[64];
	char incident_id[80];        /* "fb-" + stable hash of the trigger event id */
	cJSON *trigger;              /* {event_id, source, detail_type, event_time, actor_arn, source_ip} */
	char *resource, *account, *region;
	char severity[4];            /* "P1", "P2", "P3" */
	char *verdict;               /* "contained", "already-contained", "skipped: <why>", "failed", ... */
	struct resp_step *steps;
	size_t nsteps, capsteps;
	cJSON *restore;              /* array: what a human runs to undo each write */
	cJSON *extra;                /* object: function-specific report fields */
	cJSON *warnings;             /* array of strings (resp_warn); in the report when not empty */
	int64_t event_time_ms;       /* 0 if unknown */
	int64_t received_ms;
	int64_t contained_ms;        /* 0 until resp_contained() */
	int skipped;                 /* resp_skip() was called */
	/* issue 24 (runtime/outlet.h). outlet: run by resp_finish before SNS
	 * (kit_init sets it); finding_hook: run by the outlet when the incident
	 * came from a finding (kit_finding sets it); finding_ref: {"Id",
	 * "ProductArn"} of the triggering finding in Security Hub, read from the
	 * event by resp_trigger_from_event (owned), NULL when none. */
	void (*outlet)(struct resp *r, struct aws_client *aws);
	struct kit_step *(*finding_hook)(struct kit_round *rd, struct resp *r);
	cJSON *finding_ref;
};

/* Starts a report; cfg and ctx are borrowed for the report's life. */
enum fb_err resp_begin(struct resp *r, struct resp_config *cfg, const char *function,
		       const struct lr_context *ctx);
void resp_cleanup(struct resp *r);

/* Fills trigger/account/region/event time/incident id from an EventBridge
 * envelope (id, source, detail-type, time, account, region,
 * detail.userIdentity.arn, detail.sourceIPAddress) or, for a manual event,
 * from the given fallbacks. Also honours "dryRun": true in manual events.
 * An event time ("time", detail.eventTime) that is present but not a valid
 * timestamp (resp_parse_time_ms) is not replaced by anything: it stays as
 * sent in trigger.event_time, timings count from receipt, and the report
 * says so in "warnings" and trigger.event_time_valid: false. */
enum fb_err resp_trigger_from_event(struct resp *r, const cJSON *event);
/* Sets incident_id from any stable event id (retries share it). */
void resp_set_incident(struct resp *r, const char *event_id);
void resp_set_resource(struct resp *r, const char *arn, const char *account, const char *region);
void resp_set_severity(struct resp *r, const char *sev);
void resp_set_verdict(struct resp *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The whole invocation is a skip (trusted actor, failed call, exempt tag):
 * the verdict says why; the report still goes out. */
void resp_skip(struct resp *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Something the reader of the report must know that is neither a step nor
 * the verdict (an event field that could not be used as it stood, a
 * mismatch resolved one way): appended to the report's "warnings" array. */
void resp_warn(struct resp *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Trusted-principal match: `arn` against FIREBREAK_TRUSTED_PRINCIPALS
 * patterns, '*' matching any run of characters. Assumed-role session ARNs
 * (arn:aws:sts::123:assumed-role/Role/session) also match a pattern for
 * the role ARN (arn:aws:iam::123:role/Role). */
int resp_is_trusted(const struct resp_config *cfg, const char *arn);
int resp_glob_match(const char *pattern, const char *s);

/* Steps. resp_step_begin returns an index for resp_step_end. For a
 * RESP_WRITE step under dry run, the step is ended at once as "planned"
 * and resp_step_dry() returns 1: the caller must not write. */
int resp_step_begin(struct resp *r, const char *step, const char *api,
		    const char *target, enum resp_kind kind);
int resp_step_dry(const struct resp *r, int idx);
/* Ends a step. `aerr` (may be NULL) adds the AWS error code/message and
 * attempts to `error`. Steps are required by default. */
void resp_step_end(struct resp *r, int idx, enum resp_status st,
		   const char *detail, const struct aws_error *aerr);
void resp_step_optional(struct resp *r, int idx);
/* issue 17: replaces a step's detail, status and timings unchanged. */
void resp_step_detail(struct resp *r, int idx, const char *detail);
/* Ends a step from a finished aws_call: done on success, failed with its
 * error otherwise, timings from the call. */
void resp_step_from_call(struct resp *r, int idx, const struct aws_call *call,
			 const char *detail);
int resp_failed(const struct resp *r);   /* any required step failed */
/* issue 24: a reporting line (step.notify = 1): a write that is not
 * containment, begun "failed" until ended, NOT planned under dry run (a
 * notification is sent under dry run as SNS is). Optional. */
int resp_step_begin_notify(struct resp *r, const char *step, const char *api, const char *target);
/* The verdict the report carries now (borrowed until the next change). */
const char *resp_verdict(const struct resp *r);
/* issue 24: the CloudWatch Embedded Metric Format document of the report
 * (caller deletes): namespace cfg->metrics_ns ("Firebreak"), dimension sets
 * [["Function"], []] (per function and all together), metrics Incidents
 * (1), ContainmentFailed (1 when a required step failed), Actions<Status>
 * (the report's actions by status, reporting lines left out),
 * NotificationsFailed, and TimeToContain (ms, event time -- or receipt when
 * the event time is unknown -- to containment; only when contained). Also
 * incident_id, verdict, dry_run as properties (searchable in Logs Insights,
 * not metrics). now_ms: the _aws.Timestamp. */
cJSON *resp_metrics_emf(const struct resp *r, int64_t now_ms);
/* The Security Hub identity of the finding behind an event (ev borrowed):
 * a "GuardDuty Finding" (detail.arn, product
 * arn:<partition>:securityhub:<region>::product/aws/guardduty) or a "Security
 * Hub Findings - Imported" event (its first finding's Id and ProductArn);
 * {"Id", "ProductArn"} (caller deletes) or NULL when the event is neither or
 * the values do not look like one (an Id over 512 characters, an ARN that is
 * not of the service). */
cJSON *resp_finding_ref(const cJSON *ev);

/* Adds a restore entry (takes ownership of `entry`), recorded before the
 * write it undoes. */
void resp_restore_add(struct resp *r, cJSON *entry);
/* Marks the moment containment was reached. */
void resp_contained(struct resp *r);

/* The report document (caller cJSON_Delete()s). */
cJSON *resp_report_json(const struct resp *r);

/* Finish: publishes the report to SNS (FIREBREAK_TOPIC_ARN, a step of its
 * own, not required for containment unless nothing else happened), logs
 * it as one line, and sets `out`: a success carrying the report, or, when
 * a required step failed, an error of type "Firebreak.ContainmentFailed"
 * whose errorMessage is the report. Returns FB_OK when `out` was set.
 * The report is published under dry run too (it says "dry_run": true):
 * a notification is not a change to the resource. The SNS message is the
 * report as it stood before publishing (the "notify" step's own outcome is
 * in the logged line and the result); past 256 KB it is a JSON summary with
 * "truncated": true and the report's head. The verdict never says
 * "contained" when a required step failed. */
enum fb_err resp_finish(struct resp *r, struct aws_client *aws, struct lr_result *out);

/* An invalid event: a clear error result, no AWS calls, nothing published.
 * errorType "Firebreak.InvalidEvent", message "invalid event: <why>". */
enum fb_err resp_invalid(struct lr_result *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Secret fingerprint: leading characters and a SHA-256 prefix, e.g.
 * "AKIA…sha256:3f2a9c1b". Four leading characters for secrets of 16 bytes
 * or more, two for 8..15, none below 8 (a short secret must not be mostly
 * revealed); non-printable leading bytes show as '?'. out must hold
 * RESP_FP_LEN bytes. */
#define RESP_FP_LEN 40
void resp_fingerprint(const char *secret, size_t len, char out[RESP_FP_LEN]);

/* The function's own account and the clients for other accounts are
 * acct.h's (acct_own_account, acct_caller_arn, acct_client_for). */

/* Event helpers: typed, bounds-checked access by dotted path
 * ("detail.requestParameters.keyId"). Return NULL when absent or not of
 * the type. */
const char *resp_get_str(const cJSON *root, const char *path);
const cJSON *resp_get(const cJSON *root, const char *path);

/* Added for kms-guard (time windows, report text): ISO-8601 with 'Z',
 * "+0000" or "+hh:mm" and optional fraction -> epoch ms (0 if it cannot be
 * parsed); and epoch ms -> "YYYY-MM-DDTHH:MM:SS.mmmZ". */
#define RESP_TIME_LEN UTC_ISO_LEN
int64_t resp_parse_time_ms(const char *iso);
void resp_format_time_ms(int64_t ms, char out[RESP_TIME_LEN]);

/* The one way a responder parses its trigger event. Refuses, with a
 * lowercase reason in `why` and FB_E_INVALID: more than max_bytes, bytes
 * that are not valid UTF-8, raw NUL or other control bytes outside string
 * escapes, a "\u0000" escape in any string or key (C strings would be cut
 * short there), nesting deeper than RESP_MAX_EVENT_DEPTH, trailing data, and
 * anything but a JSON object. Caller frees *out with cJSON_Delete(). */
#define RESP_MAX_EVENT_DEPTH 64
enum fb_err resp_parse_event(const char *event, size_t len, size_t max_bytes,
			     cJSON **out, char *why, size_t whylen);

/* Added with resp_parse_event: syntax checks for event fields that end up
 * in AWS requests. An account id is exactly 12 ASCII digits. A region name
 * is two lowercase letters, one or more "-word" parts and "-" + 1..2 digits
 * (us-east-1, us-gov-west-1, ap-southeast-4), at most 31 characters.
 * acct_client_for() refuses an account that is not an account id and a
 * region that is not a region name with FB_E_INVALID. */
int resp_account_id_ok(const char *s);
int resp_region_name_ok(const char *s);

/* Largest event a responder accepts before parsing (bytes). */
#define RESP_MAX_EVENT_BYTES (1024u * 1024u)

/* ---- issue 17: a report field set again ------------------------------------ */

/* obj[key] = val (copied), or null when val is NULL, replacing what obj
 * held under key (a section's outcome, a value read later). */
void resp_json_set(cJSON *obj, const char *key, const char *val);

/* ---- issue 17: an optional string field ------------------------------------- */

/* The field at `path` (resp_get) when present must be a string: 1 with
 * *out the string (borrowed from root) or NULL when absent or null; 0 when
 * it has another type. */
int resp_opt_str(const cJSON *root, const char *path, const char **out);

/* ---- issue 17: one formatting pattern for the printf-style wrappers ------- */

/* Inside a function declared `(..., const char *fmt, ...)`: formats its own
 * arguments after fmt into the char array buf (sizeof(buf), cut to fit;
 * never longer). The wrappers (resp_skip, resp_warn, kit_skip, kit_already,
 * kit_fail) then hand one string on. Needs <stdarg.h> and <stdio.h>. */
#define RESP_FORMAT(buf, fmt) do { \
		va_list resp_ap_; \
		va_start(resp_ap_, fmt); \
		vsnprintf((buf), sizeof(buf), (fmt), resp_ap_); \
		va_end(resp_ap_); \
	} while (0)

/* ---- w5-adopt-2: a flag's word, an epoch-seconds number ------------------ */

/* A setting's flag word: "true", "yes" (any case) or "1" -> 1; "false",
 * "no" (any case) or "0" -> 0; anything else (NULL and "" too) -> -1.
 * The one reader of resp_config_from_env's flags (where -1 is a
 * configuration error) and kit_env_flag (where it counts as off). */
int resp_flag_word(const char *v);

/* An AWS JSON-protocol timestamp (epoch seconds, a number: CreatedDate,
 * EventTime) in ms; 0 when v is not a number or not a time after 1970
 * (range-checked: an out-of-range double -> int64 conversion is UB).
 * The one reader: responders (CreatedDate, CreationDate) and runtime/prov's
 * EventTime. */
int64_t resp_epoch_ms(const cJSON *v);

#endif
