/*
 * cognito-lockdown: the "app client secret / tokens compromised" runbook for
 * a Cognito user pool (issue 23). The pure stages (stages.c, unit-tested in
 * tests/unit/test_cognito_lockdown.c without AWS); main.c runs them around
 * the kit's rounds. README.md has the decisions and the Safety section.
 *
 * Prefix cl_. The event names a pool, an app client and a scope; what is
 * written is decided from the pool's real state (ListUsers,
 * GetUserPoolMfaConfig, DescribeUserPoolClient, ListUserPoolClientSecrets)
 * and from firebreak's own progress markers in the evidence bucket, never
 * from anything a user of the pool can write.
 */
#ifndef FB_COGNITO_LOCKDOWN_H
#define FB_COGNITO_LOCKDOWN_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "fb_err.h"

#define CL_MAX_SCOPE_USERS 1000      /* manual {"users": [...]}: more is a list job, use "all" */
#define CL_USERNAME_MAX 128          /* Cognito Username: 1-128 characters */
#define CL_POOL_ID_MAX 55            /* UserPoolId: [\w-]+_[0-9a-zA-Z]+, 1-55 */
#define CL_CLIENT_ID_MAX 128         /* ClientId: [\w+]+, 1-128 */
/* Progress buckets: every user falls in one by a hash of its name (stable
 * whatever order ListUsers answers in, and whoever is added or removed);
 * a bucket whose users are all signed out gets a write-once marker, and a
 * later invocation of the same incident skips the buckets marked. */
#define CL_BUCKETS 64
/* Cognito's UserUpdate category (AdminUserGlobalSignOut) is 25 requests per
 * second by default, per account and Region, shared by every pool and by
 * the application's own admin calls: the setting stays below it. */
#define CL_RPS_QUOTA 25
#define CL_DEFAULT_RPS 10

enum cl_source { CL_SRC_ALARM, CL_SRC_MANUAL };

struct cl_event {
	cJSON *root;                 /* owned: the parsed event */
	enum cl_source source;
	char pool[CL_POOL_ID_MAX + 1];
	char client[CL_CLIENT_ID_MAX + 1];
	char region[32];             /* the pool id's own Region prefix */
	char account[16];            /* alarm envelope account; "" manual (the function's own) */
	char alarm[256];
	int all;                     /* scope "all" (the alarm's scope) */
	char **users;                /* owned: scope users, sorted, distinct (all == 0) */
	size_t nusers;
	char scope_key[24];          /* "all" or "u" + 16 hex digits of the sorted list's hash */
	char skip[240];              /* nothing to do, decided from the event alone (zero calls) */
};

/* Settings the alarm form needs (borrowed strings, "" / NULL unset). */
struct cl_settings {
	const char *alarm;           /* FIREBREAK_COGNITO_ALARM: the one alarm name that triggers */
	const char *pool;            /* FIREBREAK_COGNITO_USER_POOL_ID */
	const char *client;          /* FIREBREAK_COGNITO_CLIENT_ID */
};

/* Parses the trigger:
 *  - an EventBridge "CloudWatch Alarm State Change" (source aws.cloudwatch)
 *    whose detail.alarmName is exactly set->alarm: scope all, pool and
 *    client from the settings (an alarm carries no pool to trust; a metric
 *    dimension UserPool / UserPoolClient that names another pool or client
 *    than the settings is refused). Another alarm name, or a state other
 *    than ALARM: FB_OK with ev->skip. The alarm form without the pool and
 *    client settings: FB_E_CONFIG.
 *  - the manual form {"userPoolId", "clientId", "scope": "all" |
 *    {"users": [..]}, "dryRun": bool, "reason": str}; no other member.
 * FB_E_INVALID (or FB_E_CONFIG) with `why` for anything else: zero calls
 * follow. Caller cleans up with cl_event_cleanup (also after a failure). */
enum fb_err cl_parse(const char *event, size_t len, const struct cl_settings *set,
		     struct cl_event *ev, char *why, size_t whylen);
void cl_event_cleanup(struct cl_event *ev);

/* Identifier checks (Cognito's patterns, ASCII only). */
int cl_pool_id_ok(const char *s);     /* <region>_<alnum>, the region well-formed */
int cl_client_id_ok(const char *s);   /* [A-Za-z0-9_+], 1-128 */
/* 1..128 bytes of valid UTF-8, no control characters, no whitespace. */
int cl_username_ok(const char *s);

/* The progress bucket of a user (0..CL_BUCKETS-1): FNV-1a of the name. */
int cl_bucket_of(const char *username);

/* The sign-out plan: every user of the scope, grouped by bucket, the
 * buckets an earlier invocation marked done left out (counted), each
 * bucket's users in name order. Built from ListUsers' Users (each with a
 * Username; others are counted in .bad) or the scope's list.
 * Ownership: the plan owns its names (cl_plan_cleanup). */
struct cl_plan {
	char **names;                /* owned: the users to sign out now, bucket by bucket */
	int *bucket;                 /* owned: each name's bucket */
	size_t n;
	size_t earlier;              /* users in buckets marked done by an earlier invocation */
	size_t bad;                  /* list entries without a usable Username (not signed out) */
	size_t per_bucket[CL_BUCKETS]; /* users of each bucket in names */
};
/* users: ListUsers' items (array of {"Username": ...}) when names is NULL,
 * else names[n] (the scope's). done[b] is 1 for a bucket marked done. */
enum fb_err cl_plan_build(const cJSON *users, char *const *names, size_t n,
			  const unsigned char done[CL_BUCKETS], struct cl_plan *p);
void cl_plan_cleanup(struct cl_plan *p);

/* Rounds within the request-rate quota: the users [next, next + n) of the
 * plan go out together, at most `rps` per round; main sends the next round
 * a second after this one ended, so no one-second window holds two rounds.
 * Returns the count for this round (0: done). */
size_t cl_round_size(const struct cl_plan *p, size_t next, int rps);
/* 1 when another round may start at now_ms: the deadline (0: none) leaves
 * at least reserve_ms after a round of round_ms. */
int cl_time_for_round(int64_t now_ms, int64_t deadline_ms, int64_t round_ms, int64_t reserve_ms);

/* The marker key of a bucket for an incident:
 * "<prefix>incidents/<incident>/cognito-lockdown/<pool>/<client>/<scope>/signout-<b>.done". */
int cl_marker_key(const char *incident, const struct cl_event *ev, int bucket, char *out, size_t outlen);
/* The marker of a rotation stage for a ClientSecretId ("added", "stored"). */
int cl_secret_marker_key(const char *incident, const struct cl_event *ev, const char *stage,
			 const char *secret_id, char *out, size_t outlen);

/* MFA: GetUserPoolMfaConfig's answer. Enforced means MfaConfiguration ON
 * and SoftwareTokenMfaConfiguration.Enabled true (TOTP required); OPTIONAL,
 * OFF, or ON with SMS alone is not. */
enum cl_mfa { CL_MFA_UNKNOWN = -1, CL_MFA_NOT_ENFORCED = 0, CL_MFA_ENFORCED = 1 };
enum cl_mfa cl_mfa_verdict(const cJSON *mfa_config, char *why, size_t whylen);

/* Token lifetimes of an app client: DescribeUserPoolClient's UserPoolClient
 * (AccessTokenValidity / IdTokenValidity / RefreshTokenValidity with
 * TokenValidityUnits; Cognito's defaults when absent: 60 minutes for access
 * and ID tokens, 30 days for refresh tokens, units hours / hours / days).
 * Seconds, -1 when the answer lacks UserPoolClient. */
struct cl_lifetimes {
	long access_s, id_s, refresh_s;
};
int cl_token_lifetimes(const cJSON *describe_client, struct cl_lifetimes *out);

/* What global sign-out does not do, in plain words, with the time the last
 * access / ID token issued before `signout_ms` dies (signout + the longer
 * of the two lifetimes). out gets the sentence; *last_ms the time. */
void cl_signout_note(const struct cl_lifetimes *lt, int64_t signout_ms, int64_t *last_ms,
		     char *out, size_t outlen);

/* The client secret rotation, decided from ListUserPoolClientSecrets'
 * ClientSecrets (id and create date each; Cognito keeps at most two) and
 * the markers firebreak wrote for this incident (added[i] is 1 when
 * ClientSecrets[i] has our "added" marker):
 *  - CL_ROT_NO_SECRET: no secret (a public client): nothing to rotate;
 *  - CL_ROT_ADD: one secret, none of ours: add a new one (old_id set);
 *  - CL_ROT_RESUME: two secrets, one ours (new_id) and the other (old_id):
 *    store / redeploy / delete where the last invocation stopped;
 *  - CL_ROT_DONE: one secret and it is ours (new_id): rotated already;
 *  - CL_ROT_REFUSE: two secrets, none ours (or both): firebreak cannot
 *    tell which one the consumers use nor add a third; nothing is written
 *    (why says so). An attacker's added secret is never taken for ours. */
enum cl_rotation { CL_ROT_NO_SECRET, CL_ROT_ADD, CL_ROT_RESUME, CL_ROT_DONE, CL_ROT_REFUSE, CL_ROT_BAD };
struct cl_rot_plan {
	enum cl_rotation what;
	char old_id[80], new_id[80];
	char why[240];
};
void cl_rotation_plan(const cJSON *client_secrets, const unsigned char *added, struct cl_rot_plan *p);

/* The tag that names the Secrets Manager secret the client's consumers
 * read, on the user pool (firebreak:cognito-secret.<clientId>), honoured
 * under the provenance rule (runtime/prov.h) in main.c. */
#define CL_SECRET_TAG_PREFIX "firebreak:cognito-secret."

#endif
