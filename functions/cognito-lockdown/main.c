/*
 * cognito-lockdown: a Cognito app client's secret or its users' tokens are
 * compromised (issue 23), on the responder kit. README.md next to this file
 * has triggers, actions, decisions, Safety and IAM; cognito_lockdown.h
 * declares the pure stages (stages.c).
 *
 * The runbook:
 *   round 1 (reads, concurrent): GetUserPoolMfaConfig, DescribeUserPoolClient
 *            (token lifetimes; the client exists), ListUserPoolClientSecrets,
 *            ListUsers (scope "all", paged), the 64 progress markers of this
 *            incident (s3:HeadObject in the evidence bucket)
 *   round 2: the "added" markers of the listed client secrets
 *   decide:  MFA verdict (P1 when TOTP is not required), the sign-out plan
 *            (cl_plan_build: buckets an earlier invocation finished left
 *            out), the rotation (cl_rotation_plan)
 *   rotate:  AddUserPoolClientSecret, its marker; the consumers' secret and
 *            services (runtime/redeploy)
 *   sign out: AdminUserGlobalSignOut per user, rounds of at most
 *            FIREBREAK_COGNITO_SIGNOUT_RPS a second, a marker per finished
 *            bucket, until done or the deadline (the next invocation of the
 *            same incident continues)
 *   finish:  DeleteUserPoolClientSecret for the old secret once the
 *            consumers run with the new one; the report says what global
 *            sign-out does not do.
 */
#include "cognito_lockdown.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws.h"
#include "evidence.h"
#include "fb_err.h"
#include "fn.h"
#include "http.h"
#include "kit.h"
#include "lr.h"
#include "redeploy.h"
#include "resp.h"

#define CL_FUNCTION "cognito-lockdown"
#define CL_DEADLINE_MARGIN_MS 500
/* Kept back after the last sign-out round: the markers of the last
 * buckets, the old secret's deletion, the report. */
#define CL_RESERVE_MS 4000
#define CL_ROUND_MS 1000
#define CL_DEFAULT_ALARM "firebreak-cognito-token-abuse"
#define CL_DEFAULT_MAX_PAGES 2000        /* ListUsers: 60 a page, 120000 users */
#define CL_FAILED_NAMES 20               /* failed usernames named in the report */

struct cl_fn {
	struct fn_base fn;
	char *alarm, *pool, *client;
	char *secret_arn;                /* FIREBREAK_COGNITO_SECRET_ARN: the secret the consumers read */
	char *secret_key;                /* FIREBREAK_COGNITO_SECRET_KEY: its JSON member ("" whole string) */
	char *services;                  /* FIREBREAK_COGNITO_SERVICES: "cluster/service,..." reading it */
	int rps, max_pages, poll_ms;
};

/* One invocation. */
struct cl_run {
	struct cl_fn *st;
	struct resp *r;
	struct kit *k;
	const struct cl_event *ev;
	struct aws_client *c;            /* the pool's Region (borrowed: the default client or region_c) */
	struct aws_client *region_c;     /* owned: a client for the pool's Region when not the default's */
	char pool_arn[256];
	unsigned char done[CL_BUCKETS];  /* buckets marked done by an earlier invocation */
	int markers_read;                /* the markers could be read (bucket set, HEADs answered) */
	struct cl_rot_plan rot;
	char new_fp[RESP_FP_LEN];
	int added_now;                   /* a secret was added by this invocation */
	int stored_earlier;              /* the new secret's "stored" marker exists */
	struct rdp d;                    /* the consumers' secret and services */
	struct rdp_secret cs;            /* the consumers' secret */
	const cJSON *describe_secret;    /* DescribeSecret of it (borrowed from round 1) */
	const cJSON *secret_string;      /* GetSecretValue's SecretString (key mode; borrowed, wiped) */
};

static char *env_dup(const char *name, const char *def)
{
	const char *v = getenv(name);

	return strdup(v && *v ? v : def ? def : "");
}

static void cl_settings_cleanup(void *state)
{
	struct cl_fn *st = state;

	free(st->alarm);
	free(st->pool);
	free(st->client);
	free(st->secret_arn);
	free(st->secret_key);
	free(st->services);
}

/* The settings (fn_init: a failure is cleaned up by cl_settings_cleanup). */
static enum fb_err cl_settings(void *state, char *err, size_t errlen)
{
	struct cl_fn *st = state;
	enum fb_err rc;

	st->alarm = env_dup("FIREBREAK_COGNITO_ALARM", CL_DEFAULT_ALARM);
	st->pool = env_dup("FIREBREAK_COGNITO_USER_POOL_ID", NULL);
	st->client = env_dup("FIREBREAK_COGNITO_CLIENT_ID", NULL);
	st->secret_arn = env_dup("FIREBREAK_COGNITO_SECRET_ARN", NULL);
	st->secret_key = env_dup("FIREBREAK_COGNITO_SECRET_KEY", NULL);
	st->services = env_dup("FIREBREAK_COGNITO_SERVICES", NULL);
	if (!st->alarm || !st->pool || !st->client || !st->secret_arn || !st->secret_key || !st->services)
		return FB_E_NOMEM;
	rc = kit_env_int("FIREBREAK_COGNITO_SIGNOUT_RPS", CL_DEFAULT_RPS, 1, CL_RPS_QUOTA - 1, &st->rps, err, errlen);
	if (rc == FB_OK)
		rc = kit_env_int("FIREBREAK_COGNITO_MAX_PAGES", CL_DEFAULT_MAX_PAGES, 1, 20000, &st->max_pages, err,
				 errlen);
	if (rc == FB_OK)
		rc = kit_env_int("FIREBREAK_COGNITO_POLL_MS", 2000, 10, 60000, &st->poll_ms, err, errlen);
	if (rc == FB_OK && *st->secret_arn && strncmp(st->secret_arn, "arn:", 4)) {
		snprintf(err, errlen, "setting 'FIREBREAK_COGNITO_SECRET_ARN' must be a Secrets Manager secret ARN");
		rc = FB_E_CONFIG;
	}
	if (rc == FB_OK && *st->pool && !cl_pool_id_ok(st->pool)) {
		snprintf(err, errlen, "setting 'FIREBREAK_COGNITO_USER_POOL_ID' is not a user pool id");
		rc = FB_E_CONFIG;
	}
	if (rc == FB_OK && *st->client && !cl_client_id_ok(st->client)) {
		snprintf(err, errlen, "setting 'FIREBREAK_COGNITO_CLIENT_ID' is not an app client id");
		rc = FB_E_CONFIG;
	}
	return rc;
}

static cJSON *pool_in(const struct cl_event *ev, int with_client)
{
	cJSON *in = cJSON_CreateObject();

	if (!in)
		return NULL;
	cJSON_AddStringToObject(in, "UserPoolId", ev->pool);
	if (with_client)
		cJSON_AddStringToObject(in, "ClientId", ev->client);
	return in;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

static int64_t deadline_of(const struct cl_run *u)
{
	return u->r->ctx ? u->r->ctx->deadline_ms : 0;
}

/* ---- progress markers (the evidence bucket, write-once) -------------------------- */

static const struct aws_header marker_headers[] = {
	{ "x-amz-server-side-encryption", "aws:kms" },
	{ "If-None-Match", "*" },
};

/* A marker: an empty object whose key is the fact (write-once: 412 means
 * an earlier attempt wrote it, which is the same fact). Quiet and batched:
 * the caller's line says what was recorded. */
static struct kit_step *marker_put(struct kit_round *rd, struct cl_run *u, const char *key)
{
	if (!u->st->fn.evcfg.bucket || u->r->dry_run)
		return NULL;
	return kit_add(rd, &(struct kit_spec){ .quiet = 1, .batched = 1, .service = "s3", .op = "PutObject",
		.kind = RESP_WRITE, .bucket = u->st->fn.evcfg.bucket, .key = key, .body = "", .body_len = 0,
		.headers = marker_headers, .nheaders = sizeof(marker_headers) / sizeof(marker_headers[0]),
		.already = "PreconditionFailed ConditionalRequestConflict" });
}

static struct kit_step *marker_head(struct kit_round *rd, struct cl_run *u, const char *key)
{
	if (!u->st->fn.evcfg.bucket)
		return NULL;
	return kit_add(rd, &(struct kit_spec){ .quiet = 1, .service = "s3", .op = "HeadObject", .kind = RESP_READ,
		.bucket = u->st->fn.evcfg.bucket, .key = key });
}

/* HeadObject: 200 present; 404, or 403 without s3:ListBucket (which
 * firebreak is never given), absent; anything else unknown (-1): a marker
 * that cannot be read is taken as absent (the work is done again: global
 * sign-out twice is harmless, a skipped user is not). */
static int marker_present(const struct kit_step *s)
{
	long st;

	if (!s)
		return 0;
	if (kit_ok(s))
		return 1;
	st = kit_err(s)->http_status;
	return st == 404 || st == 403 ? 0 : -1;
}

/* ---- the client secret ------------------------------------------------------------ */

/* Overwrites a secret held in a cJSON string before the answer is freed. */
static void wipe_json_string(const cJSON *o, const char *member)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, member);

	if (cJSON_IsString(v) && v->valuestring) {
		volatile char *p = v->valuestring;

		while (*p)
			*p++ = 0;
	}
}

static void rotation_report(struct cl_run *u, const char *state)
{
	cJSON *o = cJSON_GetObjectItemCaseSensitive(u->r->extra, "rotation");

	if (!o)
		o = cJSON_AddObjectToObject(u->r->extra, "rotation");
	if (!o)
		return;
	cJSON_DeleteItemFromObjectCaseSensitive(o, "state");
	cJSON_AddStringToObject(o, "state", state);
}

/* The rotation settled by a decision, no call: the "add-client-secret"
 * line ends `st` with `why`; extra.rotation.state becomes `state` (NULL:
 * left as it is). */
static void rotation_settled(struct cl_run *u, enum resp_status st, const char *state, const char *why)
{
	kit_decide(u->k, &(struct kit_spec){ .step = "add-client-secret", .service = "cognito-idp",
		.op = "AddUserPoolClientSecret", .target = u->pool_arn, .kind = RESP_WRITE }, st, "%s", why);
	if (state)
		rotation_report(u, state);
}

/* Every string in a tree overwritten before it is freed (a secret's JSON). */
static void wipe_tree(cJSON *t)
{
	cJSON *c;

	if (!t)
		return;
	if (cJSON_IsString(t) && t->valuestring) {
		volatile char *p = t->valuestring;

		while (*p)
			*p++ = 0;
	}
	for (c = t->child; c; c = c->next)
		wipe_tree(c);
}

static void wipe_str(char *s)
{
	volatile char *p = s;

	while (p && *p)
		*p++ = 0;
}

/* The value the consumers' secret gets: the new client secret, or (key
 * mode) the secret's JSON with that one member replaced and the rest kept.
 * Caller wipes and frees; NULL with why set. */
static char *consumer_value(struct cl_run *u, const char *client_secret, char *why, size_t whylen)
{
	cJSON *doc;
	char *out;

	if (!*u->st->secret_key)
		return strdup(client_secret);
	if (!cJSON_IsString(u->secret_string)) {
		snprintf(why, whylen, "the secret's current value could not be read (SecretString)");
		return NULL;
	}
	doc = cJSON_Parse(u->secret_string->valuestring);
	if (!cJSON_IsObject(doc)) {
		wipe_tree(doc);
		cJSON_Delete(doc);
		snprintf(why, whylen, "the secret's value is not a JSON object: member '%.60s' cannot be set",
			 u->st->secret_key);
		return NULL;
	}
	wipe_tree(cJSON_GetObjectItemCaseSensitive(doc, u->st->secret_key));
	cJSON_DeleteItemFromObjectCaseSensitive(doc, u->st->secret_key);
	cJSON_AddStringToObject(doc, u->st->secret_key, client_secret);
	out = cJSON_PrintUnformatted(doc);
	wipe_tree(doc);
	cJSON_Delete(doc);
	if (!out)
		snprintf(why, whylen, "out of memory");
	return out;
}

static void marker_write(struct cl_run *u, const char *stage, const char *secret_id)
{
	char key[700];
	struct kit_round *m;
	struct kit_step *mk;

	if (!u->st->fn.evcfg.bucket || cl_secret_marker_key(u->r->incident_id, u->ev, stage, secret_id, key,
							 sizeof(key)))
		return;
	m = kit_round_new(u->k);
	mk = marker_put(m, u, key);
	if (mk) {
		kit_run(m);
		if (!kit_ok(mk))
			resp_warn(u->r, "the '%s' progress marker of client secret %s could not be written (%s): a "
				  "later invocation will not know it", stage, secret_id, kit_err(mk)->code);
	}
	kit_round_free(m);
}

/* The consumers get the new secret: PutSecretValue into their secret,
 * AWSCURRENT awaited, their ECS services redeployed (runtime/redeploy).
 * The rollout is followed after the sign-out (rotate_finish). */
static void consumers_update(struct cl_run *u, const char *secret_id, const char *client_secret)
{
	struct rdp_secret *v[1] = { &u->cs };
	struct kit_round *rd = NULL;
	struct kit_step *g;
	char why[300] = "", *value;

	if (*u->st->secret_key) {
		/* key mode: the other members of the consumers' secret are kept */
		cJSON *in = cJSON_CreateObject();

		if (in)
			cJSON_AddStringToObject(in, "SecretId", u->st->secret_arn);
		rd = kit_round_new(u->k);
		g = kit_add(rd, &(struct kit_spec){ .step = "read-consumer-value", .service = "secretsmanager",
			.op = "GetSecretValue", .target = u->st->secret_arn, .kind = RESP_READ, .in = in,
			.detail = "the other members are kept (the value is not shown)" });
		kit_run(rd);
		u->secret_string = resp_get(kit_out(g), "SecretString");
	}
	value = consumer_value(u, client_secret, why, sizeof(why));
	if (rd) {
		wipe_tree((cJSON *)kit_out(g));
		u->secret_string = NULL;
		kit_round_free(rd);
	}
	if (!value) {
		kit_decide(u->k, &(struct kit_spec){ .step = "put-secret-value", .service = "secretsmanager",
			.op = "PutSecretValue", .target = u->st->secret_arn, .kind = RESP_WRITE }, RESP_FAILED,
			"not stored: %s; the new client secret %s is not delivered (the next invocation deletes it "
			"and adds another)", why, secret_id);
		u->cs.state = RDP_FAILED;
		return;
	}
	u->cs.value = value;
	u->cs.state = RDP_WRITE;
	rdp_put(&u->d, v, 1);
	rdp_wait(&u->d, v, 1);
	u->cs.value = NULL;
	wipe_str(value);
	free(value);
	if (u->cs.state != RDP_CURRENT)
		return;
	marker_write(u, "stored", secret_id);
	rdp_redeploy(&u->d, v, 1);
}

static void rotate_add(struct cl_run *u)
{
	struct kit_round *rd = kit_round_new(u->k);
	struct kit_step *s;
	cJSON *undo = pool_in(u->ev, 1);
	const cJSON *d;
	const char *id, *val;

	if (undo)
		cJSON_AddStringToObject(undo, "ClientSecretId", "<the new ClientSecretId: rotation.new_secret_id "
					"in this report>");
	s = kit_add(rd, &(struct kit_spec){ .step = "add-client-secret", .service = "cognito-idp",
		.op = "AddUserPoolClientSecret", .target = u->pool_arn, .kind = RESP_WRITE, .in = pool_in(u->ev, 1),
		.restore = kit_undo("cognito-idp:DeleteUserPoolClientSecret", undo), .client = u->c });
	kit_run(rd);
	if (u->r->dry_run) {
		rotation_report(u, "planned");
		char plan[900];

		snprintf(plan, sizeof(plan), "dry run: the new client secret%s%s%s, then a redeploy of %s",
			 *u->st->secret_key ? " as member '" : "", u->st->secret_key, *u->st->secret_key ? "'" : "",
			 *u->st->services ? u->st->services : "no service (FIREBREAK_COGNITO_SERVICES is empty)");
		kit_decide(u->k, &(struct kit_spec){ .step = "put-secret-value", .service = "secretsmanager",
			.op = "PutSecretValue", .target = u->st->secret_arn, .kind = RESP_WRITE }, RESP_PLANNED, "%s",
			plan);
		/* kit_decide keeps "dry run: not written" on a planned line: say what */
		resp_step_detail(u->r, (int)u->r->nsteps - 1, plan);
		kit_round_free(rd);
		return;
	}
	d = resp_get(kit_out(s), "ClientSecretDescriptor");
	id = resp_get_str(d, "ClientSecretId");
	val = resp_get_str(d, "ClientSecretValue");
	if (kit_ok(s) && (!id || !val || !*val)) {
		kit_fail(s, "the answer has no ClientSecretDescriptor id and value");
	} else if (kit_ok(s)) {
		cJSON *o;

		resp_fingerprint(val, strlen(val), u->new_fp);
		kit_detail(s, "new secret %s (%s); the old one %s stays until the consumers use the new one", id,
			   u->new_fp, u->rot.old_id);
		snprintf(u->rot.new_id, sizeof(u->rot.new_id), "%s", id);
		u->added_now = 1;
		rotation_report(u, "added");
		o = cJSON_GetObjectItemCaseSensitive(u->r->extra, "rotation");
		cJSON_AddStringToObject(o, "new_secret_id", id);
		cJSON_AddStringToObject(o, "new_secret_fingerprint", u->new_fp);
		/* the marker that makes this secret ours for the next invocation */
		marker_write(u, "added", id);
		consumers_update(u, id, val);
		if (u->cs.state == RDP_CURRENT)
			rotation_report(u, "stored");
	}
	wipe_json_string(d, "ClientSecretValue");
	kit_round_free(rd);
}

/* An earlier invocation added and stored the new secret: the consumers'
 * secret changed then (LastChangedDate); redeploy what has no deployment
 * since (rdp_redeploy says "already" for the rest). */
static void resume_stored(struct cl_run *u)
{
	struct rdp_secret *v[1] = { &u->cs };
	const cJSON *t = resp_get(u->describe_secret, "LastChangedDate");

	u->cs.state = RDP_CURRENT;
	u->cs.put = 1;
	u->cs.changed_at = cJSON_IsNumber(t) ? t->valuedouble : 0;
	if (u->cs.changed_at <= 0) {
		kit_decide(u->k, &(struct kit_spec){ .step = "redeploy", .service = "ecs", .op = "UpdateService",
			.target = u->st->secret_arn, .kind = RESP_WRITE }, RESP_FAILED,
			"the consumers' secret has no LastChangedDate: cannot tell which deployments have the new value");
		u->cs.state = RDP_FAILED;
		return;
	}
	rdp_redeploy(&u->d, v, 1);
}

/* An earlier invocation added a secret (ours: its marker) but never stored
 * it: its value, shown once, is lost and nobody uses it. It goes, and a new
 * one is added and stored now. */
static void rotate_redo(struct cl_run *u)
{
	struct kit_round *rd = kit_round_new(u->k);
	struct kit_step *s;
	cJSON *in = pool_in(u->ev, 1);

	if (in)
		cJSON_AddStringToObject(in, "ClientSecretId", u->rot.new_id);
	s = kit_add(rd, &(struct kit_spec){ .step = "delete-undelivered-secret", .service = "cognito-idp",
		.op = "DeleteUserPoolClientSecret", .target = u->pool_arn, .kind = RESP_WRITE, .in = in,
		.client = u->c, .absent = "ResourceNotFoundException",
		.detail = "added by an earlier invocation and never stored: no one has its value" });
	kit_run(rd);
	if (kit_ok(s) && !u->r->dry_run) {
		u->rot.new_id[0] = 0;
		u->rot.what = CL_ROT_ADD;
		kit_round_free(rd);
		rotate_add(u);
		return;
	}
	kit_round_free(rd);
}

/* The old secret goes once the consumers run with the new one. Its undo:
 * AddUserPoolClientSecret with the old value, which the consumers' secret
 * keeps as its previous version. */
static void rotate_delete_old(struct cl_run *u, int ready)
{
	struct kit_round *rd;
	struct kit_step *s;
	cJSON *in, *undo;

	if (!ready) {
		/* The runbook is not finished while the old secret lives: an error
		 * result, so Lambda's retry of this incident comes back for it. */
		kit_decide(u->k, &(struct kit_spec){ .step = "delete-old-client-secret", .service = "cognito-idp",
			.op = "DeleteUserPoolClientSecret", .target = u->pool_arn, .kind = RESP_WRITE }, RESP_FAILED,
			"old secret %s kept: the consumers do not run with the new one yet (%s); a retry of this "
			"incident deletes it once they do", u->rot.old_id,
			u->cs.state == RDP_FAILED ? "storing or rolling out the new one failed: see the lines above" :
			"their rollout is not finished");
		return;
	}
	rd = kit_round_new(u->k);
	in = pool_in(u->ev, 1);
	if (in)
		cJSON_AddStringToObject(in, "ClientSecretId", u->rot.old_id);
	undo = pool_in(u->ev, 1);
	if (undo)
		cJSON_AddStringToObject(undo, "ClientSecret", "<the old value: the previous version "
					"(AWSPREVIOUS) of the consumers' secret>");
	s = kit_add(rd, &(struct kit_spec){ .step = "delete-old-client-secret", .service = "cognito-idp",
		.op = "DeleteUserPoolClientSecret", .target = u->pool_arn, .kind = RESP_WRITE, .in = in,
		.restore = kit_undo("cognito-idp:AddUserPoolClientSecret", undo), .client = u->c,
		.absent = "ResourceNotFoundException" });
	kit_run(rd);
	if (kit_ok(s)) {
		kit_detail(s, "old secret %s %s", u->rot.old_id, kit_found(s) ? "deleted" : "already gone");
		rotation_report(u, "rotated");
	}
	kit_round_free(rd);
}

/* ---- the undo record (issue 24 s2, w4-rst) ------------------------------------------ */

/* restore.json of the incident's next attempt, claimed BEFORE the first
 * write (runtime/evidence.h evidence_undo_record) with what this
 * invocation is about to do, so that firebreak-restore's report says
 * exactly what happened to each. None of it is ever applied there, by
 * design (its README): the new secret's deletion would break the
 * consumers and put the possibly leaked one back, the old secret's value
 * is never recorded (and re-adding it would make the incident worse),
 * AWSCURRENT moved back puts the old value back in use, and a global
 * sign-out has no inverse. A failed claim never holds the lockdown back
 * (the entries of the writes are in restore[] too). No lr_context: the
 * kit's deadline bounds the claim. */
static void record_undo(struct cl_run *u)
{
	int adds = u->rot.what == CL_ROT_ADD || (u->rot.what == CL_ROT_RESUME && !u->stored_earlier);
	int old_goes = (adds || u->rot.what == CL_ROT_RESUME) && u->rot.old_id[0];
	cJSON *rec = cJSON_CreateArray(), *a, *e;

	if (!rec)
		return;
	if (adds) {
		e = kit_undo_step("add-client-secret", "cognito-idp:DeleteUserPoolClientSecret", pool_in(u->ev, 1));
		cJSON_AddStringToObject(e, "note", "the new secret's id is the report's rotation.new_secret_id (not "
					"known before it is added)");
		cJSON_AddItemToArray(rec, e);
		a = cJSON_CreateObject();
		cJSON_AddStringToObject(a, "SecretId", u->st->secret_arn);
		cJSON_AddStringToObject(a, "VersionStage", "AWSCURRENT");
		cJSON_AddStringToObject(a, "MoveToVersionId", u->cs.old_version);
		cJSON_AddItemToArray(rec, kit_undo_step("put-secret-value", "secretsmanager:UpdateSecretVersionStage", a));
	}
	/* no inverse: the entry names the write itself */
	a = pool_in(u->ev, 0);
	cJSON_AddStringToObject(a, "Scope", u->ev->all ? "all" : "users");
	e = kit_undo_step("sign-out", "cognito-idp:AdminUserGlobalSignOut", a);
	cJSON_AddStringToObject(e, "note", "no inverse: the refresh tokens revoked stay revoked; users sign in again");
	cJSON_AddItemToArray(rec, e);
	if (old_goes) {
		/* the old secret's id; its value is never recorded anywhere */
		a = pool_in(u->ev, 1);
		cJSON_AddStringToObject(a, "ClientSecretId", u->rot.old_id);
		cJSON_AddItemToArray(rec, kit_undo_step("delete-old-client-secret", "cognito-idp:AddUserPoolClientSecret",
							a));
	}
	evidence_undo_record(u->k, u->st->fn.aws, &u->st->fn.evcfg, NULL, "user_pool", u->pool_arn, rec,
			     cJSON_AddObjectToObject(u->r->extra, "undo_record"));
	cJSON_Delete(rec);
}

/* ---- sign-out --------------------------------------------------------------------- */

struct so_count {
	size_t now, absent, failed, left, rounds, markers;
	int stopped;                     /* the deadline stopped it */
	char first_err[128];
	cJSON *failed_names;             /* borrowed from the report */
};

static void signout(struct cl_run *u, const struct cl_plan *p, int list_complete, const char *list_why)
{
	struct resp *r = u->r;
	struct so_count c;
	size_t remaining[CL_BUCKETS], next = 0, i;
	unsigned char bfail[CL_BUCKETS] = { 0 };
	int pending[CL_BUCKETS], npending = 0, idx;
	char detail[700], keys[CL_BUCKETS][700];
	cJSON *o = cJSON_AddObjectToObject(r->extra, "signout");

	memset(&c, 0, sizeof(c));
	memcpy(remaining, p->per_bucket, sizeof(remaining));
	idx = resp_step_begin(r, "sign-out", "cognito-idp:AdminUserGlobalSignOut", u->pool_arn, RESP_WRITE);
	if (o) {
		cJSON_AddStringToObject(o, "scope", u->ev->all ? "all" : "users");
		cJSON_AddNumberToObject(o, "in_scope", (double)(p->n + p->earlier));
		cJSON_AddNumberToObject(o, "earlier", (double)p->earlier);
		cJSON_AddNumberToObject(o, "rps", u->st->rps);
		c.failed_names = cJSON_AddArrayToObject(o, "failed_users");
	}
	if (r->dry_run) {
		size_t rounds = (p->n + (size_t)u->st->rps - 1) / (size_t)u->st->rps;

		snprintf(detail, sizeof(detail), "dry run: %zu users in %zu rounds of at most %d a second "
			 "(about %zu s)%s; %zu signed out by an earlier invocation", p->n, rounds, u->st->rps, rounds,
			 list_complete ? "" : " (the user list was incomplete)", p->earlier);
		resp_step_detail(r, idx, detail);
		if (o)
			cJSON_AddNumberToObject(o, "left", (double)p->n);
		return;
	}
	while (next < p->n || npending) {
		struct kit_round *rd;
		struct kit_step **s, *mk[CL_BUCKETS];
		size_t n = 0;
		int64_t t0 = u->k->now_ms();
		int nm = npending, j;

		if (next < p->n && !cl_time_for_round(t0, deadline_of(u), 2 * CL_ROUND_MS, CL_RESERVE_MS)) {
			c.stopped = 1;
			if (!npending)
				break;
		}
		if (!c.stopped)
			n = cl_round_size(p, next, u->st->rps);
		rd = kit_round_new(u->k);
		s = calloc(n ? n : 1, sizeof(*s));
		if (!rd || !s) {
			kit_round_free(rd);
			free(s);
			break;
		}
		for (i = 0; i < n; i++) {
			cJSON *in = pool_in(u->ev, 0);

			if (in)
				cJSON_AddStringToObject(in, "Username", p->names[next + i]);
			s[i] = kit_add(rd, &(struct kit_spec){ .quiet = 1, .batched = 1, .service = "cognito-idp",
				.op = "AdminUserGlobalSignOut", .kind = RESP_WRITE, .in = in, .client = u->c,
				.absent = "UserNotFoundException" });
		}
		/* the buckets the last round finished, recorded alongside */
		for (j = 0; j < nm; j++)
			mk[j] = marker_put(rd, u, keys[pending[j]]);
		npending = 0;
		kit_run(rd);
		for (j = 0; j < nm; j++)
			c.markers += kit_ok(mk[j]) ? 1 : 0;
		for (i = 0; i < n; i++) {
			int b = p->bucket[next + i];

			if (kit_ok(s[i]) && kit_found(s[i])) {
				c.now++;
			} else if (kit_ok(s[i])) {
				c.absent++;
			} else {
				c.failed++;
				bfail[b] = 1;
				if (!c.first_err[0])
					snprintf(c.first_err, sizeof(c.first_err), "%s", kit_err(s[i])->code[0] ?
						 kit_err(s[i])->code : "no answer");
				if (c.failed_names && cJSON_GetArraySize(c.failed_names) < CL_FAILED_NAMES)
					cJSON_AddItemToArray(c.failed_names, cJSON_CreateString(p->names[next + i]));
			}
			if (--remaining[b] == 0 && !bfail[b] && u->st->fn.evcfg.bucket &&
			    cl_marker_key(r->incident_id, u->ev, b, keys[b], sizeof(keys[b])) == 0)
				pending[npending++] = b;
		}
		kit_round_free(rd);
		free(s);
		next += n;
		if (n)
			c.rounds++;
		/* At most rps calls in any one second: the next round is sent a
		 * second after this one's last call was (sending ends by the
		 * round's end), so no one-second window holds two rounds. */
		if (n && next < p->n)
			sleep_ms(CL_ROUND_MS);
	}
	c.left = p->n - next;
	if (o) {
		cJSON_AddNumberToObject(o, "signed_out_now", (double)c.now);
		cJSON_AddNumberToObject(o, "not_found", (double)c.absent);
		cJSON_AddNumberToObject(o, "failed", (double)c.failed);
		cJSON_AddNumberToObject(o, "left", (double)c.left);
		cJSON_AddNumberToObject(o, "rounds", (double)c.rounds);
		cJSON_AddNumberToObject(o, "buckets_recorded", (double)c.markers);
		cJSON_AddBoolToObject(o, "list_complete", list_complete);
		cJSON_AddBoolToObject(o, "resumable", u->st->fn.evcfg.bucket != NULL);
	}
	snprintf(detail, sizeof(detail), "%zu signed out now, %zu earlier, %zu not found, %zu failed%s%s, %zu left%s; "
		 "%zu rounds of at most %d a second; refresh tokens revoked, access and ID tokens live until "
		 "they expire (tokens)%s%s", c.now, p->earlier, c.absent, c.failed, c.failed ? ": " : "", c.first_err,
		 c.left, c.stopped ? " (deadline: the next invocation of this incident continues)" : "", c.rounds,
		 u->st->rps, list_complete ? "" : "; ", list_complete ? "" : list_why);
	if (c.failed || c.left || !list_complete)
		resp_step_end(r, idx, RESP_FAILED, detail, NULL);
	else if (!c.now && !c.absent && p->earlier)
		resp_step_end(r, idx, RESP_ALREADY, detail, NULL);
	else
		resp_step_end(r, idx, RESP_DONE, detail, NULL);
}

/* ---- the runbook ------------------------------------------------------------------- */

static void respond(struct cl_run *u)
{
	const struct cl_event *ev = u->ev;
	struct resp *r = u->r;
	struct kit_round *rd, *rd2 = NULL;
	struct kit_step *s_mfa, *s_cli, *s_sec, *s_users = NULL, *heads[CL_BUCKETS], *sheads[2] = { NULL, NULL };
	struct kit_step *stored[2] = { NULL, NULL }, *s_cs = NULL;
	struct cl_plan plan;
	struct cl_lifetimes lt;
	enum cl_mfa mfa;
	const char *account;
	char why[400], key[700], note[900];
	unsigned char added[2] = { 0, 0 };
	int64_t last_ms;
	int b, unread = 0, list_complete = 1;
	cJSON *o;
	static const struct kit_paging users_paging = { .items = "Users", .next = "PaginationToken" };
	struct kit_paging up = users_paging;

	memset(&plan, 0, sizeof(plan));
	/* One account: the pool's, where its consumers' secret and services
	 * are too (README: deploy it in the application's account). */
	account = kit_own_account(u->k);
	if (ev->account[0] && account && strcmp(ev->account, account)) {
		resp_skip(r, "the alarm is in account %s: cognito-lockdown acts in its own account %s only (deploy "
			  "it in the account of the pool)", ev->account, account);
		return;
	}
	if (!account && ev->account[0])
		account = ev->account;
	if (strcmp(aws_client_region(u->st->fn.aws), ev->region) == 0) {
		u->c = u->st->fn.aws;
	} else if (aws_client_for_region(u->st->fn.aws, ev->region, &u->region_c) == FB_OK) {
		u->c = u->region_c;
	} else {
		kit_decide(u->k, &(struct kit_spec){ .step = "region-client", .service = "cognito-idp",
			.op = "DescribeUserPoolClient", .target = ev->pool, .kind = RESP_READ }, RESP_FAILED,
			"no client for the pool's Region %s", ev->region);
		return;
	}
	snprintf(u->pool_arn, sizeof(u->pool_arn), "arn:%.16s:cognito-idp:%.31s:%.12s:userpool/%.55s", kit_partition(u->k),
		 ev->region, account ? account : "", ev->pool);
	resp_set_resource(r, u->pool_arn, account, ev->region);
	cJSON_AddStringToObject(r->extra, "user_pool_id", ev->pool);
	cJSON_AddStringToObject(r->extra, "client_id", ev->client);

	/* Round 1: the pool's state and this incident's progress. */
	rd = kit_round_new(u->k);
	s_mfa = kit_add(rd, &(struct kit_spec){ .step = "read-mfa", .service = "cognito-idp",
		.op = "GetUserPoolMfaConfig", .target = u->pool_arn, .kind = RESP_READ, .optional = 1,
		.in = pool_in(ev, 0), .client = u->c });
	s_cli = kit_add(rd, &(struct kit_spec){ .step = "read-client", .service = "cognito-idp",
		.op = "DescribeUserPoolClient", .target = u->pool_arn, .kind = RESP_READ, .in = pool_in(ev, 1),
		.client = u->c, .absent = "ResourceNotFoundException" });
	s_sec = kit_add(rd, &(struct kit_spec){ .step = "list-client-secrets", .service = "cognito-idp",
		.op = "ListUserPoolClientSecrets", .target = u->pool_arn, .kind = RESP_READ, .in = pool_in(ev, 1),
		.client = u->c, .absent = "ResourceNotFoundException" });
	if (ev->all) {
		cJSON *in = pool_in(ev, 0);
		cJSON *attrs = cJSON_CreateArray();

		/* only the names: no attribute (email, phone) is read */
		if (in && attrs) {
			cJSON_AddItemToArray(attrs, cJSON_CreateString("sub"));
			cJSON_AddItemToObject(in, "AttributesToGet", attrs);
			cJSON_AddNumberToObject(in, "Limit", 60);
		} else {
			cJSON_Delete(attrs);
		}
		up.max_pages = u->st->max_pages;
		s_users = kit_add(rd, &(struct kit_spec){ .step = "list-users", .service = "cognito-idp",
			.op = "ListUsers", .target = u->pool_arn, .kind = RESP_READ, .in = in, .client = u->c,
			.paging = &up });
	}
	if (*u->st->secret_arn) {
		cJSON *in = cJSON_CreateObject();

		if (in)
			cJSON_AddStringToObject(in, "SecretId", u->st->secret_arn);
		s_cs = kit_add(rd, &(struct kit_spec){ .step = "read-consumer-secret", .service = "secretsmanager",
			.op = "DescribeSecret", .target = u->st->secret_arn, .kind = RESP_READ, .in = in });
	}
	for (b = 0; b < CL_BUCKETS; b++)
		heads[b] = cl_marker_key(r->incident_id, ev, b, key, sizeof(key)) == 0 ? marker_head(rd, u, key) : NULL;
	kit_run(rd);
	rdp_init(&u->d, u->k, u->st->poll_ms, deadline_of(u) > 0 ? deadline_of(u) - CL_RESERVE_MS / 2 : 0,
		 r->warnings);
	u->d.list_name = "FIREBREAK_COGNITO_SERVICES";
	u->cs.arn = u->st->secret_arn;
	u->cs.services = u->st->services;
	u->cs.state = RDP_NEW;
	if (kit_ok(s_cs)) {
		const char *cur = rdp_version_with(resp_get(kit_out(s_cs), "VersionIdsToStages"), "AWSCURRENT", NULL);

		u->describe_secret = kit_out(s_cs);
		snprintf(u->cs.old_version, sizeof(u->cs.old_version), "%s", cur ? cur : "");
		rdp_token(r->incident_id, u->st->secret_arn, u->cs.old_version, u->cs.token);
		kit_detail(s_cs, "AWSCURRENT %s", cur ? cur : "(none)");
	}

	if (!kit_ok(s_cli) || !kit_found(s_cli)) {
		if (kit_ok(s_cli))
			kit_fail(s_cli, "no app client %s in user pool %s", ev->client, ev->pool);
		resp_set_verdict(r, "failed: the app client could not be read: nothing done");
		goto out;
	}
	/* MFA: P1 when TOTP is not required (or cannot be told). */
	mfa = kit_ok(s_mfa) ? cl_mfa_verdict(kit_out(s_mfa), why, sizeof(why)) : CL_MFA_UNKNOWN;
	if (!kit_ok(s_mfa))
		snprintf(why, sizeof(why), "the MFA configuration could not be read");
	kit_detail(s_mfa, "%s", why);
	o = cJSON_AddObjectToObject(r->extra, "mfa");
	if (o) {
		cJSON_AddStringToObject(o, "enforced", mfa == CL_MFA_ENFORCED ? "yes" : mfa == CL_MFA_NOT_ENFORCED ?
					"no" : "unknown");
		cJSON_AddStringToObject(o, "why", why);
	}
	resp_set_severity(r, mfa == CL_MFA_ENFORCED ? "P2" : "P1");
	if (mfa != CL_MFA_ENFORCED)
		resp_warn(r, "P1: %s; require TOTP (MfaConfiguration ON, software token MFA enabled)", why);
	/* Tokens: what global sign-out leaves alive, and until when. */
	cl_token_lifetimes(kit_out(s_cli), &lt);
	cl_signout_note(&lt, u->k->now_ms(), &last_ms, note, sizeof(note));
	o = cJSON_AddObjectToObject(r->extra, "tokens");
	if (o) {
		char t[RESP_TIME_LEN];

		cJSON_AddNumberToObject(o, "access_token_validity_s", (double)lt.access_s);
		cJSON_AddNumberToObject(o, "id_token_validity_s", (double)lt.id_s);
		if (last_ms) {
			resp_format_time_ms(last_ms, t);
			cJSON_AddStringToObject(o, "last_valid_until", t);
		}
		cJSON_AddStringToObject(o, "not_revoked", note);
	}
	kit_detail(s_cli, "access tokens %ld s, ID tokens %ld s", lt.access_s, lt.id_s);

	/* The progress of this incident. */
	if (u->st->fn.evcfg.bucket) {
		for (b = 0; b < CL_BUCKETS; b++) {
			int m = marker_present(heads[b]);

			u->done[b] = m == 1;
			unread += m < 0;
		}
		if (unread)
			resp_warn(r, "%d progress markers could not be read: those users are signed out again", unread);
	}

	/* Round 2: which listed secret is ours (its "added" marker). */
	if (kit_ok(s_sec) && kit_found(s_sec) && u->st->fn.evcfg.bucket) {
		const cJSON *sc;
		int i = 0;

		rd2 = kit_round_new(u->k);
		cJSON_ArrayForEach(sc, resp_get(kit_out(s_sec), "ClientSecrets")) {
			const char *id = resp_get_str(sc, "ClientSecretId");

			if (i < 2 && id && cl_secret_marker_key(r->incident_id, ev, "added", id, key, sizeof(key)) == 0)
				sheads[i] = marker_head(rd2, u, key);
			if (i < 2 && id && cl_secret_marker_key(r->incident_id, ev, "stored", id, key, sizeof(key)) == 0)
				stored[i] = marker_head(rd2, u, key);
			i++;
		}
		kit_run(rd2);
		added[0] = marker_present(sheads[0]) == 1;
		added[1] = marker_present(sheads[1]) == 1;
	}

	/* Rotate first: the new secret reaches the consumers while the users
	 * are signed out. */
	if (!kit_ok(s_sec) || !kit_found(s_sec)) {
		record_undo(u);   /* w4-rst: the sign-out only */
		rotation_settled(u, RESP_FAILED, NULL, "not rotated: the client's secrets could not be listed");
	} else {
		cl_rotation_plan(resp_get(kit_out(s_sec), "ClientSecrets"), added, &u->rot);
		if (u->rot.what == CL_ROT_RESUME)
			u->stored_earlier = marker_present(stored[added[0] ? 0 : 1]) == 1;
		/* Never add a secret nobody receives: its value is shown once. */
		if ((u->rot.what == CL_ROT_ADD || u->rot.what == CL_ROT_RESUME) && (!*u->st->secret_arn || !kit_ok(s_cs))) {
			u->rot.what = CL_ROT_REFUSE;
			snprintf(u->rot.why, sizeof(u->rot.why), "%s", !*u->st->secret_arn ?
				 "not rotated: no consumer secret is named (FIREBREAK_COGNITO_SECRET_ARN): a new client "
				 "secret nobody receives would be lost, and the old one cannot go while the app uses it" :
				 "not rotated: the consumers' secret could not be read");
		}
		record_undo(u);   /* w4-rst: before the first write */
		kit_detail(s_sec, "%d secret%s", cJSON_GetArraySize(resp_get(kit_out(s_sec), "ClientSecrets")),
			   cJSON_GetArraySize(resp_get(kit_out(s_sec), "ClientSecrets")) == 1 ? "" : "s");
		o = cJSON_AddObjectToObject(r->extra, "rotation");
		if (o && u->rot.old_id[0])
			cJSON_AddStringToObject(o, "old_secret_id", u->rot.old_id);
		if (o && u->rot.new_id[0])
			cJSON_AddStringToObject(o, "new_secret_id", u->rot.new_id);
		switch (u->rot.what) {
		case CL_ROT_ADD:
			rotate_add(u);
			break;
		case CL_ROT_RESUME:
			if (!u->stored_earlier) {
				rotate_redo(u);
				break;
			}
			snprintf(why, sizeof(why), "secret %s was added and stored by an earlier invocation of "
				 "this incident", u->rot.new_id);
			rotation_settled(u, RESP_ALREADY, "stored", why);
			resume_stored(u);
			break;
		case CL_ROT_DONE:
			rotation_settled(u, RESP_ALREADY, "rotated", u->rot.why);
			break;
		case CL_ROT_NO_SECRET:
			rotation_settled(u, RESP_SKIPPED, "no-secret", u->rot.why);
			break;
		case CL_ROT_REFUSE:
		case CL_ROT_BAD:
			rotation_settled(u, RESP_FAILED, "refused", u->rot.why);
			break;
		}
	}

	/* Sign out everyone in scope. */
	if (ev->all && !kit_ok(s_users)) {
		list_complete = 0;
		cl_plan_build(NULL, NULL, 0, u->done, &plan);
		signout(u, &plan, 0, "the users could not be listed: none signed out");
	} else {
		list_complete = ev->all ? kit_complete(s_users) : 1;
		if (cl_plan_build(ev->all ? kit_items(s_users) : NULL, ev->all ? NULL : ev->users,
				  ev->all ? 0 : ev->nusers, u->done, &plan) != FB_OK) {
			resp_set_verdict(r, "failed: out of memory planning the sign-out");
			goto out;
		}
		if (plan.bad)
			resp_warn(r, "%zu listed users had no usable Username and were not signed out", plan.bad);
		snprintf(why, sizeof(why), "the user list stopped at FIREBREAK_COGNITO_MAX_PAGES (%d pages): the "
			 "users not listed are not signed out", u->st->max_pages);
		signout(u, &plan, list_complete, why);
	}

	/* The old secret, once the consumers run with the new one. */
	if (!r->dry_run && (u->rot.what == CL_ROT_RESUME || (u->rot.what == CL_ROT_ADD && u->added_now))) {
		struct rdp_secret *v[1] = { &u->cs };

		if (u->cs.state == RDP_CURRENT)
			rdp_rollout(&u->d, v, 1);
		rotate_delete_old(u, u->cs.state == RDP_RUNNING);
	} else if (r->dry_run && u->rot.what == CL_ROT_ADD) {
		kit_decide(u->k, &(struct kit_spec){ .step = "delete-old-client-secret", .service = "cognito-idp",
			.op = "DeleteUserPoolClientSecret", .target = u->pool_arn, .kind = RESP_WRITE }, RESP_PLANNED,
			"old secret %s, once the consumers run with the new one", u->rot.old_id);
	}

	if (r->dry_run)
		resp_set_verdict(r, "dry run: lockdown planned (MFA %s)", mfa == CL_MFA_ENFORCED ? "enforced" :
				 "NOT enforced: P1");
	else if (resp_failed(r))
		resp_set_verdict(r, "failed: the lockdown is incomplete (see steps; a retry of this incident "
				 "continues)");
	else
		/* no time in the verdict: the same lockdown reads the same
		 * (tokens.last_valid_until has when the last token dies) */
		resp_set_verdict(r, "locked down: users signed out%s; access and ID tokens live until they "
				 "expire (tokens.last_valid_until)%s",
				 u->rot.what == CL_ROT_NO_SECRET ? "" : ", client secret rotated",
				 mfa == CL_MFA_ENFORCED ? "" : "; MFA NOT enforced (P1)");
	if (!r->dry_run && !resp_failed(r))
		resp_contained(r);
out:
	rdp_cleanup(&u->d);
	cl_plan_cleanup(&plan);
	kit_round_free(rd2);
	kit_round_free(rd);
}

static enum fb_err cl_event_read(struct fn_call *c, const char *event, size_t len, char *why, size_t whylen)
{
	struct cl_fn *st = c->st;
	struct cl_settings set = { st->alarm, st->pool, st->client };

	return cl_parse(event, len, &set, c->ev, why, whylen);
}

static const char *cl_skip(const void *ev)
{
	return ((const struct cl_event *)ev)->skip;
}

FN_EVENT_FREE(cl)

static enum fb_err cl_run(struct fn_call *c)
{
	struct cl_event *ev = c->ev;
	struct cl_run u;

	if (ev->source == CL_SRC_MANUAL)
		fn_manual_incident(c->r, ev->root, "manual:%s:%s:%s", ev->pool, ev->client, ev->scope_key);
	resp_set_severity(c->r, "P1");
	if (ev->alarm[0])
		cJSON_AddStringToObject(c->r->extra, "alarm", ev->alarm);
	if (resp_get_str(ev->root, "reason")) {
		char reason[201];

		snprintf(reason, sizeof(reason), "%s", resp_get_str(ev->root, "reason"));
		cJSON_AddStringToObject(c->r->extra, "reason", reason);
	}
	u = (struct cl_run){ .st = c->st, .r = c->r, .k = c->k, .ev = ev };
	respond(&u);
	aws_client_free(u.region_c);
	return FB_OK;
}

int main(void)
{
	return fn_main(&(struct fn_responder){ .function = CL_FUNCTION, .margin_ms = CL_DEADLINE_MARGIN_MS,
		.size = sizeof(struct cl_fn), .settings = cl_settings, .cleanup = cl_settings_cleanup,
		FN_EVENT(struct cl_event, cl), .skip = cl_skip, .run = cl_run });
}
