/*
 * leak: the pure stages of leak-rotate (no network, no clock).
 *
 *  scan.h     the scanner (scan.c) and the awslogs decoder (awslogs.c)
 *  stages.c   the handler's pure stages: settings, the watched set, the
 *             event form, matching every message against the watched set
 *             (findings), the decisions on each secret, the report parts
 *
 * main.c is the handler (init, AWS calls in rounds, the report's steps).
 * The unit tests, fuzz targets and the bench #include these .c files, so
 * everything here depends only on libc, zlib, OpenSSL's SHA-256, cJSON and
 * runtime/ (buf, resp_*: pure helpers only, never a call to AWS).
 * Prefix leak_ throughout.
 */
#ifndef LEAK_H
#define LEAK_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "buf.h"
#include "fb_err.h"
#include "prov.h"
#include "redeploy.h"
#include "resp.h"
#include "scan.h"
#include "slist.h"

/* ---- the handler's pure stages (stages.c) ------------------------------------------------- */

/* RDS-style secrets carry connection facts next to the password; a host
 * name in a log is not a leak. */
#define LEAK_IGNORE_DEFAULT "host,port,engine,dbname,username,dbInstanceIdentifier,dbClusterIdentifier"
#define LEAK_POLL_MS_DEFAULT 250

struct leak_settings {
	struct slist watched;         /* FIREBREAK_WATCHED_SECRETS */
	int watch_tagged;             /* FIREBREAK_WATCH_TAGGED (default true) */
	int64_t ttl_ms;               /* FIREBREAK_SECRETS_TTL_SECONDS (300) */
	char *alarm_name;             /* FIREBREAK_LEAK_ALARM_NAME, owned, NULL if unset */
	struct slist log_groups;      /* FIREBREAK_LEAK_LOG_GROUPS */
	int64_t lookback_ms;          /* FIREBREAK_LEAK_LOOKBACK_SECONDS (900) */
	struct slist ignore;          /* FIREBREAK_LEAK_IGNORE_FIELDS */
	int64_t poll_ms;              /* FIREBREAK_ROTATION_POLL_MS (250) */
	char *own_log_group;          /* "/aws/lambda/" + AWS_LAMBDA_FUNCTION_NAME, owned, NULL if unset */
};
/* Reads the environment; `err` says which setting is wrong. Free with
 * leak_settings_cleanup() whatever the result. */
enum fb_err leak_settings_from_env(struct leak_settings *s, char *err, size_t errlen);
void leak_settings_cleanup(struct leak_settings *s);

/* A watched secret as last loaded. */
struct leak_secret {
	char *arn, *name;             /* owned */
	char cur_version[80];
	char prev_version[80];
};

/* What a watched value is (stages.c); its bytes live only in the automaton. */
struct leak_value;

/* The watched set built by one load: owns the scanner (watched values +
 * detectors), the secrets and the value descriptions. */
struct leak_watch {
	struct leak_scanner sc;
	struct leak_secret *secrets;
	size_t nsecrets, capsecrets;
	struct leak_value *values;
	size_t nvalues, capvalues;
};
/* Zeroes `w` and starts its scanner. Free with leak_watch_cleanup() either way. */
enum fb_err leak_watch_init(struct leak_watch *w);
/* 1 when a secret with this ARN is in the set. */
int leak_watch_has(const struct leak_watch *w, const char *arn);
/* Adds a secret (strings copied; name and version may be NULL); *idx gets
 * its index for leak_watch_add_string(). */
enum fb_err leak_watch_add_secret(struct leak_watch *w, const char *arn, const char *name,
				  const char *cur_version, uint32_t *idx);
/* Adds every value of one SecretString (leak_secret_values(): whole string
 * or each top-level string field) except fields named in `ignore`
 * (case-insensitive). `*count` gets the number of values the string had.
 * The secret string is borrowed: its bytes go into the automaton only. */
enum fb_err leak_watch_add_string(struct leak_watch *w, uint32_t secret, int previous,
				  const char *secret_string, const struct slist *ignore,
				  size_t *count);
/* Builds the automaton; no adds after. */
enum fb_err leak_watch_build(struct leak_watch *w);
/* Wipes the automaton and frees everything. A half-built set is fine. */
void leak_watch_cleanup(struct leak_watch *w);

/* One log line to scan (all borrowed, valid for the invocation). */
struct leak_msg {
	const char *group, *stream, *id;
	int64_t ts_ms;
	const char *text;
	size_t len;
};
#define LEAK_MAX_MESSAGES 20000u
/* A growable array of leak_msg, capped at LEAK_MAX_MESSAGES. */
struct leak_msgs {
	struct leak_msg *v;           /* owned array; its strings borrowed */
	size_t n, cap, bytes;
};
/* Appends (text borrowed, must outlive the array; NULL names become "").
 * FB_E_TOO_LARGE past LEAK_MAX_MESSAGES. */
enum fb_err leak_msgs_add(struct leak_msgs *m, const char *group, const char *stream,
			  const char *id, int64_t ts_ms, const char *text);
void leak_msgs_cleanup(struct leak_msgs *m);

/* Which trigger an event is, decided and validated without any AWS call. */
enum leak_form {
	LEAK_FORM_INVALID,            /* `why` says what is wrong */
	LEAK_FORM_AWSLOGS,            /* *batch holds the DATA_MESSAGE */
	LEAK_FORM_ALARM,              /* our exposure alarm in ALARM */
	LEAK_FORM_MANUAL,             /* {"messages": [...]} */
	LEAK_FORM_IGNORE              /* well-formed, not ours: `why` says why */
};
/* `ev` is the event as resp_parse_event() returned it. For awslogs the
 * payload is decoded into *batch (which must be zeroed; the caller calls
 * leak_batch_cleanup() whatever the result): bad data is INVALID, a
 * CONTROL_MESSAGE or a batch from the function's own log group
 * (settings own_log_group: the report line names access key ids, so
 * scanning it would answer every report with another) is IGNORE. */
enum leak_form leak_classify(const cJSON *ev, const struct leak_settings *set,
			     struct leak_batch *batch, char *why, size_t whylen);

/* ---- findings: every message matched against the watched set -------------------------------- */

#define LEAK_MAX_REPORT_HITS 100
#define LEAK_KEY_CANDIDATES 8
#define LEAK_MAX_KEYS 50
#define LEAK_MAX_TOKENS 50

struct leak_key {
	char id[21];
	size_t hits;
	int near_secret;              /* a secret access key in the same event: a usable credential */
	/* The 40-character strings seen next to it (borrowed from the
	 * messages, valid for the invocation; never copied into a report):
	 * sts:GetCallerIdentity signed with each tells whether one is its
	 * secret. */
	const char *cand[LEAK_KEY_CANDIDATES];
	size_t ncand;
	int cand_overflow;            /* more distinct candidates than LEAK_KEY_CANDIDATES */
	int verified;                 /* 1 a candidate signed a call, 0 not tried or unknown */
	int refused;                  /* STS refused every candidate's signature: not its secret */
	char account[16];
	char user[130];
	char status[16];
	char last_used[40];           /* iam:GetAccessKeyLastUsed: date, "" never/unknown */
	char last_service[64], last_region[32];
	int done;                     /* decided (skipped, failed, already, acted) */
	char role[300];               /* ASIA, verified: the role whose sessions are revoked */
};

struct leak_token {
	enum leak_kind kind;
	char fp[RESP_FP_LEN];
	size_t hits;
	long secret;                  /* watched secret it lies inside, -1 */
};

struct leak_findings {
	cJSON *hits;                  /* owned: report entries, at most LEAK_MAX_REPORT_HITS */
	cJSON *warnings;              /* borrowed array (may be NULL): what was not looked at */
	size_t hits_total;
	size_t *cur_hits, *prev_hits; /* owned: per watched secret, AWSCURRENT / AWSPREVIOUS values */
	struct leak_key keys[LEAK_MAX_KEYS];
	size_t nkeys;
	struct leak_token tokens[LEAK_MAX_TOKENS];
	size_t ntokens;
	size_t cloudtrail_records;    /* messages that were CloudTrail records */
	size_t cloudtrail_ids;        /* key ids in their accessKeyId fields: not hits */
};
/* `warnings` is borrowed for the findings' life. Free with
 * leak_findings_cleanup() whatever the result. */
enum fb_err leak_findings_init(struct leak_findings *f, size_t nsecrets, cJSON *warnings);
void leak_findings_cleanup(struct leak_findings *f);
/* One pass over every message: report entries (fingerprints and redacted
 * excerpts, never a value), hit counts per watched secret, access key ids,
 * token fingerprints (and the watched secret each lies inside).
 * CloudTrail records (delivered to a log group by a trail) name the key of
 * every call (userIdentity.accessKeyId), the key a call acted on
 * (requestParameters.accessKeyId: a human re-activating a key) and the
 * session keys it handed out (responseElements.credentials.accessKeyId).
 * None of those is a leak: in a message that is one whole record
 * (ct_record_text, runtime/cloudtrail.h) its accessKeyId members' key ids
 * are not hits. Only those ids are exempt: the rest of the record is
 * scanned as any log line, so a line forged to look like a record hides no
 * secret value, token or key pair (README "Audit logs"). */
void leak_scan_messages(const struct leak_watch *w, const struct leak_msg *msgs, size_t n,
			struct leak_findings *f);

/* Copies the NUL-terminated `s` (a log group, stream or event id: text the
 * log's writer chose) into `out` with every watched value in it replaced
 * by "[watched-secret:<fingerprint>]", so a value cannot reach the report
 * through a name either. Truncates to outlen - 1 bytes. Returns 1 when
 * something was replaced. */
int leak_redact(const struct leak_watch *w, const char *s, char *out, size_t outlen);

/* ---- decisions --------------------------------------------------------------------------------- */

/* A watched secret seen in this batch, and what happened to it. */
struct leak_job {
	uint32_t secret;
	size_t cur_hits;              /* AWSCURRENT values seen (else only AWSPREVIOUS ones) */
	struct rdp_secret rs;         /* its rotation and redeploy (runtime/redeploy) */
	int exempt;                   /* firebreak:exempt=true, honoured (leak_tags_decide) */
	char *services;               /* owned: the firebreak:ecs-services tag, when honoured */
	char *services_ignored;       /* owned: its value when present but not honoured */
	char exempt_why[PROV_REASON_LEN];   /* provenance of firebreak:exempt ("" absent) */
	char services_why[PROV_REASON_LEN]; /* provenance of firebreak:ecs-services */
	cJSON *report;                /* borrowed: the job's entry in the report's secrets[] */
	cJSON *tags;                  /* owned: DescribeSecret's Tags */
	int64_t created_ms;           /* DescribeSecret's CreatedDate, 0 unknown */
	int tags_read;                /* leak_tags_decide ran on the secret's history */
	char leaked_version[80];      /* the version whose value leaked (AWSCURRENT's if both) */
};

enum leak_decision {
	LEAK_DECIDE_ROTATE,           /* RotateSecret now */
	LEAK_DECIDE_EXEMPT,           /* tagged firebreak:exempt=true: report only */
	LEAK_DECIDE_IN_PROGRESS,      /* an AWSPENDING version exists: wait for it (j->rs.version) */
	LEAK_DECIDE_ALREADY,          /* the leaked version is dead, or this incident rotated it */
	LEAK_DECIDE_NO_ROTATION       /* rotation not configured: cannot rotate here */
};
/* Decides one secret from its DescribeSecret answer. The caller sets
 * j->leaked_version (the version whose value leaked; `loaded_version` when
 * empty), j->rs.token (rdp_token of it: a retried invoke sends the same
 * token, so Secrets Manager does not create a second version) and the tag
 * decisions (leak_tags_decide: j->exempt, j->exempt_why). Fills
 * rs.changed_at, rs.old_version and, in progress, rs.version; `detail`
 * gets the report text. In this order: an honoured exemption first (an exempt
 * secret is never touched); a rotation under way (wait for it, never a
 * second RotateSecret); a version named j->rs.token (this incident rotated it
 * already: a retry rotates nothing); the leaked version holding none of
 * AWSCURRENT, AWSPREVIOUS, AWSPENDING (dead: already); rotation not
 * configured; else rotate. A leaked AWSPREVIOUS is rotated again: it stays
 * valid until the next rotation. */
enum leak_decision leak_decide_secret(const cJSON *describe, const char *loaded_version,
				      struct leak_job *j, char *detail, size_t dlen);

/* Where an access key is acted on, from the account sts:GetAccessKeyInfo
 * gave (`key_account`), the function's own account (NULL when unknown) and
 * FIREBREAK_MEMBER_ROLE (NULL or "" when unset). RESPONDERS.md: another
 * account is acted on through AssumeRole into the member role; without one
 * nothing is done there, which leaves the key active: not contained. An
 * unknown own account with a member role goes through the role too (it
 * exists in every account, ours included), as acct_client_for() does. */
enum leak_key_route {
	LEAK_KEY_OWN,                 /* our account: the function's own client */
	LEAK_KEY_MEMBER,              /* another account: through the member role */
	LEAK_KEY_NO_ROLE              /* another account, no member role: not deactivated */
};
enum leak_key_route leak_key_route(const char *key_account, const char *own_account,
				   const char *member_role);

/* ---- report parts --------------------------------------------------------------------------------- */

/* Tags as DescribeSecret/ListSecrets give them ([{Key, Value}]). */
#define LEAK_TAG_WATCH "firebreak:watch"
#define LEAK_TAG_EXEMPT "firebreak:exempt"
#define LEAK_TAG_SERVICES "firebreak:ecs-services"
/*
 * Which firebreak:* tags of a secret count (issue 16 item 8; README
 * "Safety"). Whoever may read a secret and leak it may often also tag it,
 * so both tags that change what leak-rotate does are believed only with
 * provenance (prov_decide: older than the minimum age before the leak, a
 * known setter, or a trusted one):
 *  - firebreak:exempt=true (value compared with prov_value_true): honoured
 *    -> not rotated; ignored -> rotated as if absent, and the report says why.
 *  - firebreak:ecs-services: honoured -> those services are redeployed after
 *    the rotation; ignored -> the rotation still happens, nothing is
 *    redeployed (an attacker's list must not make us restart, and re-pull
 *    the images of, services of its choosing) and the report names the
 *    listed services for a human.
 * leak_tags_need_history: 1 when tags hold either (a history read is due).
 * leak_tags_decide: `events` the secret's LookupEvents Events (borrowed),
 * `base` the query without tag_key/tag_value; fills j->exempt, services,
 * services_ignored, exempt_why, services_why; appends one prov_report_json
 * entry per tag to `list` (may be NULL).
 */
int leak_tags_need_history(const cJSON *tags);
void leak_tags_decide(const cJSON *tags, const cJSON *events, const struct prov_query *base,
		      struct leak_job *j, cJSON *list);

/* A usable credential: its id next to a secret access key that STS did not
 * refuse (near_secret and not refused). The only keys ever deactivated. */
int leak_key_usable(const struct leak_key *k);
/* A temporary (ASIA) key's session token in the first log event that
 * names `key_id`: the longest run of base64 characters [A-Za-z0-9+/] (and
 * up to two '=' of padding) of
 * LEAK_TOKEN_MIN..LEAK_TOKEN_MAX bytes there (STS session tokens are a few
 * hundred to a few thousand such characters; a 40-character secret is
 * far shorter). Borrowed from the message, *len its length; NULL when
 * there is none. */
#define LEAK_TOKEN_MIN 100
#define LEAK_TOKEN_MAX 4096
const char *leak_session_token(const struct leak_msgs *m, const char *key_id, size_t *len);
/* The report's access_keys[] and tokens[] (caller owns). */
cJSON *leak_keys_json(const struct leak_key *keys, size_t n);
cJSON *leak_tokens_json(const struct leak_token *t, size_t n, const struct leak_watch *w);

#endif
