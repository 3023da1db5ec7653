/*
 * leak-rotate: when a watched secret or an AWS access key shows up in a
 * log, rotate it and redeploy what uses it.
 *
 * Triggers (README.md): a CloudWatch Logs subscription delivery
 * {"awslogs":{"data":...}}, a "CloudWatch Alarm State Change" to ALARM for
 * the exposure alarm (FilterLogEvents over its window supplies the lines),
 * or the manual form {"logGroup","logStream","messages":[...]}.
 *
 * Pure stages live in awslogs.c (decode), scan.c (match) and stages.c
 * (settings, watched set, event form, findings, decisions, report parts);
 * this file is init, the handler and every AWS call, in rounds of
 * concurrent calls: load the watched values, scan, act, report.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws.h"
#include "leak.h"
#include "log.h"
#include "lr.h"
#include "resp.h"

#define LK_FN "leak-rotate"
/* Kept back from the deadline for the report, SNS publish and response. */
#define LK_FINISH_RESERVE_MS 1500
/* Independent calls per aws_call_run_all round. */
#define LK_BATCH 32
/* Bounds on what one invocation reads and lists. */
#define LK_MAX_ALARM_PAGES 50
#define LK_MAX_ALARM_BYTES LEAK_MAX_INFLATED
#define LK_MAX_LIST_PAGES 20

/* Process state, kept across invokes. */
struct lk_state {
	struct resp_config cfg;
	struct leak_settings set;
	struct aws_client *aws;
	int64_t loaded_ms;          /* last complete load; 0 = load at next invoke */
	int64_t load_attempt_ms;
	struct leak_watch watch;    /* watched values + detectors */
	cJSON *load_errors;         /* array of strings from the last load */
};

/* One invocation. */
struct lk_run {
	struct lk_state *st;        /* borrowed */
	const struct lr_context *ctx; /* borrowed */
	struct resp r;
	cJSON *ev;                  /* owned */
	struct leak_batch batch;    /* owned (awslogs form) */
	cJSON *pages;               /* owned: FilterLogEvents answers (alarm form) */
	struct leak_msgs msgs;      /* owned array; texts borrowed from ev/batch/pages */
	const char *group, *stream; /* for the report; watched values redacted */
	char group_buf[LEAK_NAME_MAX * 2 + 64], stream_buf[LEAK_NAME_MAX * 2 + 64];
	cJSON *warnings;            /* borrowed from r.extra */
	struct leak_findings f;     /* owned */
	struct leak_job *jobs;      /* owned */
	size_t njobs;
	/* Access keys of other accounts (RESPONDERS.md, cross-account): the
	 * client each key is acted on with (NULL: our own, st->aws; else one of
	 * member[], borrowed) and the member-role clients, one per account. */
	struct aws_client *key_client[LEAK_MAX_KEYS];
	int key_member[LEAK_MAX_KEYS];     /* 1: LEAK_KEY_MEMBER, client not yet made */
	struct aws_client *member[LEAK_MAX_KEYS]; /* owned when member_owned[i] */
	int member_owned[LEAK_MAX_KEYS];
	size_t nmember;
};

/* ---- small helpers ---------------------------------------------------------------------- */

static void call_init(struct aws_call *c, const char *svc, const char *op, const cJSON *in)
{
	memset(c, 0, sizeof(*c));
	c->service = svc;
	c->op = op;
	c->in = in;
}

/* Runs calls in rounds of LK_BATCH concurrent ones. */
static void run_all(struct lk_state *st, struct aws_call *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i += LK_BATCH)
		aws_call_run_all(st->aws, c + i, n - i < LK_BATCH ? n - i : LK_BATCH);
}

static int call_code(const struct aws_call *c, const char *code)
{
	return c->rc != FB_OK && !strcmp(c->err.code, code);
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int64_t remaining_ms(const struct lk_run *u)
{
	return u->ctx->deadline_ms ? lr_remaining_ms(u->ctx) : INT64_MAX;
}

/* A step whose outcome is known without a call (already, skipped, failed). */
static int note(struct lk_run *u, const char *step, const char *api, const char *target,
		enum resp_kind kind, enum resp_status status, const char *detail, int required)
{
	int i = resp_step_begin(&u->r, step, api, target, kind);

	resp_step_end(&u->r, i, status, detail, NULL);
	if (!required)
		resp_step_optional(&u->r, i);
	return i;
}

static const char *secret_arn(const struct lk_run *u, const struct leak_job *j)
{
	return u->st->watch.secrets[j->secret].arn;
}

/* ---- init ----------------------------------------------------------------------------------- */

static void state_free(struct lk_state *st)
{
	leak_watch_cleanup(&st->watch);
	leak_settings_cleanup(&st->set);
	resp_config_cleanup(&st->cfg);
	aws_client_free(st->aws);
	cJSON_Delete(st->load_errors);
	free(st);
}

/*
 * Init does no network: the watched values are loaded at the first invoke
 * (and again after the TTL), so a cold start stays fast, a Secrets Manager
 * error becomes part of an invocation's report instead of an init failure
 * Lambda would only retry, and the function still scans for keys and
 * tokens when loading fails.
 */
static enum fb_err lk_init(void **state, char *err, size_t errlen)
{
	struct lk_state *st = calloc(1, sizeof(*st));
	enum fb_err rc;

	if (!st)
		return FB_E_NOMEM;
	rc = resp_config_from_env(&st->cfg, err, errlen);
	if (rc == FB_OK)
		rc = leak_settings_from_env(&st->set, err, errlen);
	if (rc == FB_OK)
		rc = aws_client_new(&st->aws, NULL, err, errlen);
	if (rc == FB_OK) {
		/* until the first load: detectors only */
		rc = leak_watch_init(&st->watch);
		if (rc == FB_OK)
			rc = leak_watch_build(&st->watch);
		if (rc != FB_OK)
			snprintf(err, errlen, "cannot build the scanner: %s", fb_strerror(rc));
	}
	st->load_errors = cJSON_CreateArray();
	if (rc == FB_OK && !st->load_errors)
		rc = FB_E_NOMEM;
	if (rc != FB_OK) {
		state_free(st);
		return rc;
	}
	*state = st;
	return FB_OK;
}

/* ---- loading the watched values --------------------------------------------------------------- */

static void load_error(struct lk_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void load_error(struct lk_state *st, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cJSON_AddItemToArray(st->load_errors, cJSON_CreateString(msg));
	log_warn("%s", msg);
}

static cJSON *list_tagged_input(const char *token)
{
	cJSON *in = cJSON_CreateObject(), *f, *fi;

	if (!in)
		return NULL;
	f = cJSON_AddArrayToObject(in, "Filters");
	fi = cJSON_CreateObject();
	cJSON_AddStringToObject(fi, "Key", "tag-key");
	cJSON_AddItemToObject(fi, "Values", cJSON_CreateStringArray((const char *[]){ "firebreak:watch" }, 1));
	cJSON_AddItemToArray(f, fi);
	fi = cJSON_CreateObject();
	cJSON_AddStringToObject(fi, "Key", "tag-value");
	cJSON_AddItemToObject(fi, "Values", cJSON_CreateStringArray((const char *[]){ "true" }, 1));
	cJSON_AddItemToArray(f, fi);
	cJSON_AddNumberToObject(in, "MaxResults", 100);
	if (token[0])
		cJSON_AddStringToObject(in, "NextToken", token);
	return in;
}

/* ListSecrets by tag firebreak:watch=true (both filters; the answer's tags
 * are checked again because the two filters match independently). */
static enum fb_err list_tagged(struct lk_state *st, struct leak_list *ids)
{
	char token[2048] = "";
	int page;

	for (page = 0; page < LK_MAX_LIST_PAGES; page++) {
		cJSON *in = list_tagged_input(token), *out = NULL;
		const cJSON *s;
		struct aws_error err;
		const char *next;
		enum fb_err rc;

		if (!in)
			return FB_E_NOMEM;
		memset(&err, 0, sizeof(err));
		rc = aws_do(st->aws, "secretsmanager", "ListSecrets", in, &out, &err);
		cJSON_Delete(in);
		if (rc != FB_OK) {
			load_error(st, "secretsmanager:ListSecrets by tag firebreak:watch failed: %s %s",
				   err.code, err.message);
			cJSON_Delete(out);
			return rc;
		}
		cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(out, "SecretList")) {
			const char *arn = resp_get_str(s, "ARN");
			char **nv;

			if (!arn || !prov_tag_true(cJSON_GetObjectItemCaseSensitive(s, "Tags"), LEAK_TAG_WATCH))
				continue;
			nv = realloc(ids->v, (ids->n + 1) * sizeof(*nv));
			if (!nv) {
				cJSON_Delete(out);
				return FB_E_NOMEM;
			}
			ids->v = nv;
			ids->v[ids->n++] = strdup(arn);
		}
		next = resp_get_str(out, "NextToken");
		snprintf(token, sizeof(token), "%s", next ? next : "");
		cJSON_Delete(out);
		if (!next || !*next)
			return FB_OK;
	}
	load_error(st, "secretsmanager:ListSecrets: more than %d pages; the rest is not watched",
		   LK_MAX_LIST_PAGES);
	return FB_OK;
}

/* Adds one secret's AWSCURRENT (and, when readable, AWSPREVIOUS) values
 * from its two GetSecretValue answers. FB_OK also when the secret is
 * skipped with a load error; other codes stop the load. */
static enum fb_err load_one(struct lk_state *st, struct leak_watch *w, const char *id,
			    const struct aws_call *cur, const struct aws_call *prev, int *errors)
{
	const char *arn = resp_get_str(cur->out, "ARN");
	const char *v = resp_get_str(cur->out, "SecretString");
	size_t count = 0;
	uint32_t idx;
	enum fb_err rc;

	if (cur->rc != FB_OK || !arn) {
		load_error(st, "cannot read watched secret '%s': %s %s", id,
			   cur->err.code[0] ? cur->err.code : fb_strerror(cur->rc), cur->err.message);
		(*errors)++;
		return FB_OK;
	}
	if (leak_watch_has(w, arn))
		return FB_OK;
	rc = leak_watch_add_secret(w, arn, resp_get_str(cur->out, "Name"),
				   resp_get_str(cur->out, "VersionId"), &idx);
	if (rc != FB_OK)
		return rc;
	if (!v) {
		load_error(st, "watched secret '%s' is binary: not scanned for", arn);
	} else {
		rc = leak_watch_add_string(w, idx, 0, v, &st->set.ignore, &count);
		if (rc != FB_OK)
			return rc;
		if (!count)
			load_error(st, "watched secret '%s' has no value of %u+ characters to watch",
				   arn, LEAK_MIN_SECRET);
	}
	v = resp_get_str(prev->out, "SecretString");
	if (prev->rc == FB_OK && v) {
		snprintf(w->secrets[idx].prev_version, sizeof(w->secrets[idx].prev_version), "%s",
			 resp_get_str(prev->out, "VersionId") ? resp_get_str(prev->out, "VersionId") : "");
		rc = leak_watch_add_string(w, idx, 1, v, &st->set.ignore, &count);
	} else if (prev->rc != FB_OK && !call_code(prev, "ResourceNotFoundException")) {
		load_error(st, "cannot read AWSPREVIOUS of '%s': %s", arn, prev->err.code);
	}
	return rc;
}

/* Loads every watched secret's AWSCURRENT and AWSPREVIOUS values (all
 * GetSecretValue calls concurrently) into a fresh automaton. On any error
 * what could be loaded is used, and the next invoke loads again. */
static enum fb_err load_secrets(struct lk_state *st, int64_t now_ms)
{
	struct leak_list ids = { 0 };
	struct aws_call *calls = NULL;
	cJSON **ins = NULL;
	struct leak_watch w;
	size_t i, n = 0;
	int errors = 0;
	enum fb_err rc;

	cJSON_Delete(st->load_errors);
	st->load_errors = cJSON_CreateArray();
	st->load_attempt_ms = now_ms;
	rc = leak_watch_init(&w);
	if (rc != FB_OK)
		goto out;
	for (i = 0; i < st->set.watched.n; i++) {
		char **nv = realloc(ids.v, (ids.n + 1) * sizeof(*nv));

		if (!nv) {
			rc = FB_E_NOMEM;
			goto out;
		}
		ids.v = nv;
		ids.v[ids.n++] = strdup(st->set.watched.v[i]);
	}
	if (st->set.watch_tagged && list_tagged(st, &ids) != FB_OK)
		errors++;
	n = ids.n * 2;
	calls = calloc(n ? n : 1, sizeof(*calls));
	ins = calloc(n ? n : 1, sizeof(*ins));
	if (!calls || !ins) {
		rc = FB_E_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		ins[i] = cJSON_CreateObject();
		if (!ins[i] || !ids.v[i / 2]) {
			rc = FB_E_NOMEM;
			goto out;
		}
		cJSON_AddStringToObject(ins[i], "SecretId", ids.v[i / 2]);
		cJSON_AddStringToObject(ins[i], "VersionStage", i % 2 ? "AWSPREVIOUS" : "AWSCURRENT");
		call_init(&calls[i], "secretsmanager", "GetSecretValue", ins[i]);
	}
	run_all(st, calls, n);
	for (i = 0; i < ids.n; i++) {
		rc = load_one(st, &w, ids.v[i], &calls[2 * i], &calls[2 * i + 1], &errors);
		if (rc != FB_OK)
			goto out;
	}
	rc = leak_watch_build(&w);
	if (rc != FB_OK) {
		load_error(st, "cannot build the scanner: %s", fb_strerror(rc));
		goto out;
	}
	/* swap in */
	leak_watch_cleanup(&st->watch);
	st->watch = w;
	memset(&w, 0, sizeof(w));
	st->loaded_ms = errors ? 0 : now_ms;
	rc = errors ? FB_E_AWS : FB_OK;
out:
	for (i = 0; calls && ins && i < n; i++) {
		leak_cjson_wipe(calls[i].out); /* SecretString */
		aws_call_cleanup(&calls[i]);
		cJSON_Delete(ins[i]);
	}
	free(calls);
	free(ins);
	leak_watch_cleanup(&w);
	leak_list_free(&ids);
	return rc;
}

static int want_secrets(const struct lk_state *st)
{
	return st->set.watched.n || st->set.watch_tagged;
}

/* Loads when never loaded, after the TTL, or after a failed load. */
static void ensure_loaded(struct lk_run *u)
{
	struct lk_state *st = u->st;
	int64_t now = lr_now_ms();
	char detail[200];
	cJSON *w;
	int i;

	if (want_secrets(st) && (!st->loaded_ms || now - st->loaded_ms >= st->set.ttl_ms)) {
		enum fb_err rc;

		i = resp_step_begin(&u->r, "load-watched-secrets", "secretsmanager:GetSecretValue", NULL,
				    RESP_READ);
		rc = load_secrets(st, now);
		snprintf(detail, sizeof(detail), "%zu secrets, %zu values (current and previous)",
			 st->watch.nsecrets, st->watch.nvalues);
		if (rc == FB_OK) {
			resp_step_end(&u->r, i, RESP_DONE, detail, NULL);
		} else {
			resp_step_end(&u->r, i, RESP_FAILED, detail, NULL);
			/* partial loads still scan; nothing loaded at all while
			 * secrets are configured means we cannot tell: an error */
			if (st->watch.nsecrets)
				resp_step_optional(&u->r, i);
		}
	}
	w = cJSON_AddObjectToObject(u->r.extra, "watch");
	if (w) {
		char iso[RESP_TIME_LEN];

		cJSON_AddNumberToObject(w, "secrets", (double)st->watch.nsecrets);
		cJSON_AddNumberToObject(w, "values", (double)st->watch.nvalues);
		cJSON_AddNumberToObject(w, "automaton_states", (double)leak_ac_states(st->watch.sc.ac));
		resp_format_time_ms(st->loaded_ms ? st->loaded_ms : st->load_attempt_ms, iso);
		cJSON_AddStringToObject(w, "loaded", (st->loaded_ms || st->load_attempt_ms) ? iso : "never");
		cJSON_AddItemToObject(w, "errors", cJSON_Duplicate(st->load_errors, 1));
	}
}

/* ---- event forms ------------------------------------------------------------------------------- */

static void trigger_put(struct lk_run *u, const char *key, const char *val)
{
	cJSON_DeleteItemFromObjectCaseSensitive(u->r.trigger, key);
	cJSON_AddItemToObject(u->r.trigger, key, val ? cJSON_CreateString(val) : cJSON_CreateNull());
}

static enum fb_err setup_awslogs(struct lk_run *u)
{
	struct leak_batch *b = &u->batch;
	char key[1200], shown[2400], arn[1200], id1[200], id2[200];
	const char *region = aws_client_region(u->st->aws);
	size_t i;
	enum fb_err rc;

	/* a retried delivery carries the same batch: same incident */
	snprintf(key, sizeof(key), "awslogs:%s:%.300s:%.300s:%.100s:%.100s:%zu", b->owner,
		 b->log_group, b->log_stream, b->nevents ? b->events[0].id : "",
		 b->nevents ? b->events[b->nevents - 1].id : "", b->nevents);
	resp_set_incident(&u->r, key);
	/* the names are the log writer's: shown with watched values redacted */
	leak_redact(&u->st->watch, b->log_group, u->group_buf, sizeof(u->group_buf));
	leak_redact(&u->st->watch, b->log_stream, u->stream_buf, sizeof(u->stream_buf));
	leak_redact(&u->st->watch, b->nevents ? b->events[0].id : "", id1, sizeof(id1));
	leak_redact(&u->st->watch, b->nevents ? b->events[b->nevents - 1].id : "", id2, sizeof(id2));
	snprintf(shown, sizeof(shown), "%s:%.300s:%.300s:%.100s:%.100s:%zu", b->owner, u->group_buf,
		 u->stream_buf, id1, id2, b->nevents);
	trigger_put(u, "event_id", shown);
	trigger_put(u, "source", "aws.logs");
	trigger_put(u, "detail_type", "CloudWatch Logs subscription");
	if (b->nevents) {
		char iso[RESP_TIME_LEN];

		resp_format_time_ms(b->events[0].timestamp_ms, iso);
		trigger_put(u, "event_time", iso);
		u->r.event_time_ms = b->events[0].timestamp_ms;
	}
	snprintf(arn, sizeof(arn), "arn:%s:logs:%s:%s:log-group:%s", aws_client_partition(u->st->aws),
		 region ? region : "", b->owner, u->group_buf);
	resp_set_resource(&u->r, arn, *b->owner ? b->owner : NULL, region);
	u->group = u->group_buf;
	u->stream = u->stream_buf;
	for (i = 0; i < b->nevents; i++) {
		rc = leak_msgs_add(&u->msgs, b->log_group, b->log_stream, b->events[i].id,
				   b->events[i].timestamp_ms, b->events[i].message);
		if (rc != FB_OK)
			return rc;
	}
	return FB_OK;
}

static enum fb_err setup_manual(struct lk_run *u)
{
	const cJSON *m;
	const char *g = resp_get_str(u->ev, "logGroup"), *s = resp_get_str(u->ev, "logStream");
	cJSON *ids;
	char id[32];
	int i = 0;
	enum fb_err rc;

	leak_redact(&u->st->watch, g ? g : "manual", u->group_buf, sizeof(u->group_buf));
	leak_redact(&u->st->watch, s ? s : "manual", u->stream_buf, sizeof(u->stream_buf));
	u->group = u->group_buf;
	u->stream = u->stream_buf;
	/* the ids must outlive this function: keep them in the event tree */
	ids = cJSON_AddArrayToObject(u->ev, "_lk_ids");
	if (!ids)
		return FB_E_NOMEM;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(u->ev, "messages")) {
		cJSON *idj;

		snprintf(id, sizeof(id), "manual-%d", i++);
		idj = cJSON_CreateString(id);
		if (!idj)
			return FB_E_NOMEM;
		cJSON_AddItemToArray(ids, idj);
		rc = leak_msgs_add(&u->msgs, g ? g : "manual", s ? s : "manual", idj->valuestring,
				   lr_now_ms(), m->valuestring);
		if (rc != FB_OK)
			return rc;
	}
	resp_set_resource(&u->r, NULL, NULL, aws_client_region(u->st->aws));
	return FB_OK;
}

/* One round of FilterLogEvents: one page of each group still active. */
static void alarm_round(struct lk_run *u, int64_t start, int64_t end, char **tokens, int *done,
			size_t *active, int idx, size_t *pages, size_t *events)
{
	struct lk_state *st = u->st;
	struct aws_call calls[LK_BATCH];
	cJSON *ins[LK_BATCH];
	size_t map[LK_BATCH], n = 0, k, i;

	for (i = 0; i < st->set.log_groups.n && n < LK_BATCH; i++) {
		if (done[i])
			continue;
		ins[n] = cJSON_CreateObject();
		cJSON_AddStringToObject(ins[n], "logGroupName", st->set.log_groups.v[i]);
		cJSON_AddNumberToObject(ins[n], "startTime", (double)start);
		cJSON_AddNumberToObject(ins[n], "endTime", (double)end);
		if (tokens[i])
			cJSON_AddStringToObject(ins[n], "nextToken", tokens[i]);
		call_init(&calls[n], "logs", "FilterLogEvents", ins[n]);
		map[n++] = i;
	}
	aws_call_run_all(st->aws, calls, n);
	for (k = 0; k < n; k++) {
		const char *g = st->set.log_groups.v[map[k]], *next;
		const cJSON *e;

		cJSON_Delete(ins[k]);
		if (calls[k].rc != FB_OK) {
			leak_warn(u->warnings, "logs:FilterLogEvents on '%s' failed: %s %s", g,
				  calls[k].err.code, calls[k].err.message);
			resp_step_end(&u->r, idx, RESP_FAILED, "cannot read a watched log group", &calls[k].err);
			done[map[k]] = 1;
			(*active)--;
			aws_call_cleanup(&calls[k]);
			continue;
		}
		(*pages)++;
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(calls[k].out, "events")) {
			const char *msg = resp_get_str(e, "message");
			const cJSON *ts = cJSON_GetObjectItemCaseSensitive(e, "timestamp");

			if (!msg || u->msgs.bytes + strlen(msg) > LK_MAX_ALARM_BYTES)
				continue;
			if (leak_msgs_add(&u->msgs, g, resp_get_str(e, "logStreamName"), resp_get_str(e, "eventId"),
					  /* fuzz: range-checked, (int64_t) of an out-of-range double is UB */
					  (cJSON_IsNumber(ts) && ts->valuedouble > -9.2e18 &&
					   ts->valuedouble < 9.2e18) ? (int64_t)ts->valuedouble : 0,
					  msg) != FB_OK)
				break;
			(*events)++;
		}
		next = resp_get_str(calls[k].out, "nextToken");
		free(tokens[map[k]]);
		tokens[map[k]] = next && *next ? strdup(next) : NULL;
		if (!tokens[map[k]]) {
			done[map[k]] = 1;
			(*active)--;
		}
		/* the messages point into this answer: keep it */
		cJSON_AddItemToArray(u->pages, calls[k].out);
		calls[k].out = NULL;
		aws_call_cleanup(&calls[k]);
	}
}

/* FilterLogEvents over every configured group, all pages (bounded); the
 * groups are read concurrently, one page each per round. */
static void setup_alarm(struct lk_run *u)
{
	struct lk_state *st = u->st;
	size_t ng = st->set.log_groups.n, i, active = ng;
	char **tokens = calloc(ng, sizeof(char *));
	int *done = calloc(ng, sizeof(int));
	int64_t start, end;
	int page, idx;
	size_t pages = 0, events = 0;
	char detail[200];

	u->pages = cJSON_CreateArray();
	u->group = st->set.log_groups.v[0];
	u->stream = "";
	resp_set_resource(&u->r, resp_get_str(u->ev, "resources.0"), resp_get_str(u->ev, "account"),
			  resp_get_str(u->ev, "region"));
	leak_alarm_window(u->ev, u->r.event_time_ms, lr_now_ms(), st->set.lookback_ms, &start, &end);
	idx = resp_step_begin(&u->r, "read-alarm-window", "logs:FilterLogEvents", st->set.log_groups.v[0],
			      RESP_READ);
	if (!tokens || !done || !u->pages) {
		resp_step_end(&u->r, idx, RESP_FAILED, "out of memory", NULL);
		goto out;
	}
	for (page = 0; page < LK_MAX_ALARM_PAGES && active; page++)
		alarm_round(u, start, end, tokens, done, &active, idx, &pages, &events);
	if (active)
		leak_warn(u->warnings, "more than %d pages of log events in the alarm window: the rest was "
			  "not scanned", LK_MAX_ALARM_PAGES);
	if (!u->r.steps[idx].ended) {
		snprintf(detail, sizeof(detail), "%zu events in %zu pages from %zu log groups", events,
			 pages, ng);
		resp_step_end(&u->r, idx, RESP_DONE, detail, NULL);
	}
out:
	for (i = 0; tokens && i < ng; i++)
		free(tokens[i]);
	free(tokens);
	free(done);
}

/* ---- secrets: decide, rotate, wait, redeploy ----------------------------------------------------------- */

/* The secret's firebreak:exempt and firebreak:ecs-services count only with
 * provenance (leak_tags_decide): its CloudTrail history, read only when
 * one of them is there. The read is optional: without it the tags are
 * ignored (the secret is rotated, nothing redeployed), which is not a
 * failure of the containment. A leak has no CloudTrail actor (whoever
 * wrote the log line is not in CloudTrail), so the actor is a name no
 * setter can match: the minimum age, a known setter (or a trusted one)
 * and a complete read carry the decision (README "Safety"). */
static void secret_tags(struct lk_run *u, struct leak_job *j, const cJSON *describe)
{
	const cJSON *tags = cJSON_GetObjectItemCaseSensitive(describe, "Tags");
	const cJSON *cd = cJSON_GetObjectItemCaseSensitive(describe, "CreatedDate");
	const char *arn = secret_arn(u, j);
	struct prov_history h;
	struct prov_query q;
	char acct[13], detail[400];
	enum fb_err rc;
	int idx;

	memset(&h, 0, sizeof(h));
	memset(&q, 0, sizeof(q));
	if (!leak_tags_need_history(tags)) {
		leak_tags_decide(tags, NULL, &q, j, NULL);
		return;
	}
	q.trigger_ms = u->r.event_time_ms ? u->r.event_time_ms : u->r.received_ms;
	q.trigger_actor = "(unknown: whoever wrote the log line)";
	q.min_age_ms = u->st->cfg.tag_min_age_ms;
	q.trust = &u->st->cfg;
	/* range-checked: an out-of-range double -> int64 conversion is UB */
	if (cJSON_IsNumber(cd) && cd->valuedouble > 0 && cd->valuedouble < 9.2e12)
		q.created_ms = (int64_t)(cd->valuedouble * 1000.0);
	idx = resp_step_begin(&u->r, "tag-provenance", "cloudtrail:LookupEvents", arn, RESP_READ);
	resp_step_optional(&u->r, idx);
	rc = prov_history_read(u->st->aws, arn, 0,
			       u->ctx->deadline_ms ? u->ctx->deadline_ms - LK_FINISH_RESERVE_MS : 0,
			       leak_account_from_arn(arn, acct) ? acct : NULL, &h);
	prov_query_from_history(&q, &h);
	snprintf(detail, sizeof(detail), "%d events%s%s", h.events ? cJSON_GetArraySize(h.events) : 0,
		 h.complete ? " (complete)" : "; incomplete: ", h.complete ? "" : h.why);
	resp_step_end(&u->r, idx, rc == FB_OK ? RESP_DONE : RESP_FAILED, detail, NULL);
	leak_tags_decide(tags, h.events, &q, j, cJSON_AddArrayToObject(j->report, "tags"));
	prov_history_cleanup(&h);
}

/* Round 1: DescribeSecret for every job, then decide each. */
static void secrets_decide(struct lk_run *u)
{
	struct aws_call *c = calloc(u->njobs, sizeof(*c));
	cJSON **ins = calloc(u->njobs, sizeof(*ins));
	size_t i;

	if (!c || !ins)
		goto out;
	for (i = 0; i < u->njobs; i++) {
		ins[i] = cJSON_CreateObject();
		cJSON_AddStringToObject(ins[i], "SecretId", secret_arn(u, &u->jobs[i]));
		call_init(&c[i], "secretsmanager", "DescribeSecret", ins[i]);
	}
	run_all(u->st, c, u->njobs);
	for (i = 0; i < u->njobs; i++) {
		struct leak_job *j = &u->jobs[i];
		const struct leak_secret *s = &u->st->watch.secrets[j->secret];
		int idx = resp_step_begin(&u->r, "describe-secret", "secretsmanager:DescribeSecret", s->arn,
					  RESP_READ);
		char detail[300];

		resp_step_from_call(&u->r, idx, &c[i], NULL);
		if (c[i].rc != FB_OK) {
			j->state = LEAK_JOB_FAILED;
			continue;
		}
		/* the token names the version that leaked, not the current one: a
		 * retry after our rotation sees the same token and rotates nothing */
		buf_copy_str(j->leaked_version, sizeof(j->leaked_version),
			     j->cur_hits ? s->cur_version : s->prev_version);
		leak_rotation_token(u->r.incident_id, s->arn, j->leaked_version, j->token);
		secret_tags(u, j, c[i].out);
		switch (leak_decide_secret(c[i].out, s->cur_version, j, detail, sizeof(detail))) {
		case LEAK_DECIDE_EXEMPT:
			note(u, "rotate-secret", "secretsmanager:RotateSecret", s->arn, RESP_WRITE,
			     RESP_SKIPPED, detail, 0);
			j->state = LEAK_JOB_STOP;
			break;
		case LEAK_DECIDE_IN_PROGRESS:
			j->rotate_idx = note(u, "rotate-secret", "secretsmanager:RotateSecret", s->arn,
					     RESP_WRITE, RESP_ALREADY, detail, 1);
			j->state = u->r.dry_run ? LEAK_JOB_STOP : LEAK_JOB_WAIT;
			break;
		case LEAK_DECIDE_ALREADY:
			note(u, "rotate-secret", "secretsmanager:RotateSecret", s->arn, RESP_WRITE, RESP_ALREADY,
			     detail, 1);
			j->state = LEAK_JOB_CURRENT;
			break;
		case LEAK_DECIDE_NO_ROTATION:
			note(u, "rotate-secret", "secretsmanager:RotateSecret", s->arn, RESP_WRITE, RESP_FAILED,
			     detail, 1);
			j->state = LEAK_JOB_FAILED;
			break;
		case LEAK_DECIDE_ROTATE:
			buf_copy_str(j->why, sizeof(j->why), detail);
			j->state = LEAK_JOB_ROTATE;
			break;
		}
	}
out:
	for (i = 0; c && ins && i < u->njobs; i++) {
		aws_call_cleanup(&c[i]);
		cJSON_Delete(ins[i]);
	}
	free(c);
	free(ins);
}

/* The RotateSecret answer of one job. */
static void rotate_outcome(struct lk_run *u, struct leak_job *j, const struct aws_call *c)
{
	const char *vid = resp_get_str(c->out, "VersionId");
	char detail[700];

	if (c->rc == FB_OK) {
		if (vid)
			snprintf(j->wait_version, sizeof(j->wait_version), "%s", vid);
		snprintf(detail, sizeof(detail), "rotation started: new version %s%s%s", j->wait_version,
			 j->why[0] ? "; " : "", j->why);
		resp_step_from_call(&u->r, j->rotate_idx, c, detail);
		j->state = LEAK_JOB_WAIT;
	} else if (call_code(c, "ResourceExistsException")) {
		/* our token's version exists: an earlier try of this incident
		 * started the rotation */
		resp_step_from_call(&u->r, j->rotate_idx, c, NULL);
		snprintf(detail, sizeof(detail),
			 "rotation already started by an earlier delivery (version %s)", j->wait_version);
		resp_step_end(&u->r, j->rotate_idx, RESP_ALREADY, detail, NULL);
		j->state = LEAK_JOB_WAIT;
	} else if (call_code(c, "InvalidRequestException") &&
		   strstr(c->err.message, "previous rotation isn't complete")) {
		/* started by someone else between our describe and rotate */
		resp_step_from_call(&u->r, j->rotate_idx, c, NULL);
		resp_step_end(&u->r, j->rotate_idx, RESP_ALREADY, "rotation already in progress: waiting for it",
			      NULL);
		j->wait_version[0] = '\0'; /* learn it from DescribeSecret */
		j->state = LEAK_JOB_WAIT;
	} else {
		resp_step_from_call(&u->r, j->rotate_idx, c, "rotation not started");
		j->state = LEAK_JOB_FAILED;
	}
}

/* Round 2: RotateSecret for every job that needs it, concurrently. */
static void secrets_rotate(struct lk_run *u)
{
	struct aws_call *c = calloc(u->njobs, sizeof(*c));
	cJSON **ins = calloc(u->njobs, sizeof(*ins));
	size_t *map = calloc(u->njobs, sizeof(size_t));
	size_t i, n = 0;

	if (!c || !ins || !map)
		goto out;
	for (i = 0; i < u->njobs; i++) {
		struct leak_job *j = &u->jobs[i];
		const char *arn = secret_arn(u, j);

		if (j->state != LEAK_JOB_ROTATE)
			continue;
		j->rotate_idx = resp_step_begin(&u->r, "rotate-secret", "secretsmanager:RotateSecret", arn,
						RESP_WRITE);
		if (resp_step_dry(&u->r, j->rotate_idx)) {
			j->state = LEAK_JOB_STOP;
			continue;
		}
		resp_restore_add(&u->r, leak_rotation_restore(arn, j->old_version, j->token));
		ins[n] = cJSON_CreateObject();
		cJSON_AddStringToObject(ins[n], "SecretId", arn);
		cJSON_AddStringToObject(ins[n], "ClientRequestToken", j->token);
		call_init(&c[n], "secretsmanager", "RotateSecret", ins[n]);
		snprintf(j->wait_version, sizeof(j->wait_version), "%s", j->token);
		map[n++] = i;
	}
	run_all(u->st, c, n);
	for (i = 0; i < n; i++)
		rotate_outcome(u, &u->jobs[map[i]], &c[i]);
out:
	for (i = 0; c && ins && i < n; i++) {
		aws_call_cleanup(&c[i]);
		cJSON_Delete(ins[i]);
	}
	free(c);
	free(ins);
	free(map);
}

/* Every job still waiting fails: the deadline is near. */
static void wait_give_up(struct lk_run *u)
{
	char detail[300];
	size_t i;

	for (i = 0; i < u->njobs; i++) {
		if (u->jobs[i].state != LEAK_JOB_WAIT)
			continue;
		snprintf(detail, sizeof(detail),
			 "version %s not AWSCURRENT before the invocation deadline (%d polls); "
			 "services not redeployed", u->jobs[i].wait_version, u->jobs[i].polls);
		resp_step_end(&u->r, u->jobs[i].wait_idx, RESP_FAILED, detail, NULL);
		u->jobs[i].state = LEAK_JOB_FAILED;
	}
}

/* Round 3: poll DescribeSecret (all waiting secrets at once) until each new
 * version is AWSCURRENT, bounded by the deadline. */
static void secrets_wait(struct lk_run *u)
{
	size_t i, waiting = 0;
	struct aws_call *c = calloc(u->njobs, sizeof(*c));
	cJSON **ins = calloc(u->njobs, sizeof(*ins));
	size_t *map = calloc(u->njobs, sizeof(size_t));
	char detail[300];

	if (!c || !ins || !map)
		goto out;
	for (i = 0; i < u->njobs; i++) {
		if (u->jobs[i].state != LEAK_JOB_WAIT)
			continue;
		u->jobs[i].wait_idx = resp_step_begin(&u->r, "wait-current", "secretsmanager:DescribeSecret",
						      secret_arn(u, &u->jobs[i]), RESP_READ);
		waiting++;
	}
	while (waiting) {
		size_t n = 0;

		if (remaining_ms(u) < LK_FINISH_RESERVE_MS + u->st->set.poll_ms + 200) {
			wait_give_up(u);
			break;
		}
		for (i = 0; i < u->njobs; i++) {
			if (u->jobs[i].state != LEAK_JOB_WAIT)
				continue;
			ins[n] = cJSON_CreateObject();
			cJSON_AddStringToObject(ins[n], "SecretId", secret_arn(u, &u->jobs[i]));
			call_init(&c[n], "secretsmanager", "DescribeSecret", ins[n]);
			map[n++] = i;
		}
		run_all(u->st, c, n);
		for (i = 0; i < n; i++) {
			struct leak_job *j = &u->jobs[map[i]];
			enum leak_wait w;

			j->polls++;
			if (c[i].rc != FB_OK) {
				if (aws_is_throttle_code(c[i].err.code))
					continue;
				resp_step_from_call(&u->r, j->wait_idx, &c[i], "cannot follow the rotation");
				j->state = LEAK_JOB_FAILED;
				waiting--;
				continue;
			}
			w = leak_wait_check(c[i].out, j, detail, sizeof(detail));
			if (w == LEAK_WAIT_MORE)
				continue;
			resp_step_end(&u->r, j->wait_idx, w == LEAK_WAIT_CURRENT ? RESP_DONE : RESP_FAILED,
				      detail, NULL);
			j->state = w == LEAK_WAIT_CURRENT ? LEAK_JOB_CURRENT : LEAK_JOB_FAILED;
			waiting--;
		}
		for (i = 0; i < n; i++) {
			aws_call_cleanup(&c[i]);
			cJSON_Delete(ins[i]);
		}
		if (waiting)
			sleep_ms(u->st->set.poll_ms);
	}
out:
	free(c);
	free(ins);
	free(map);
}

/* Round 4a: which services already got a deployment after the rotation
 * (an earlier delivery of this incident redeployed them). */
static void redeploy_check(struct lk_run *u, struct leak_svc *sv, size_t nsv, struct aws_call *c,
			   cJSON **ins)
{
	size_t i;

	for (i = 0; i < nsv; i++) {
		ins[i] = cJSON_CreateObject();
		cJSON_AddStringToObject(ins[i], "cluster", sv[i].cluster);
		cJSON_AddItemToObject(ins[i], "services", cJSON_CreateStringArray((const char *[]){ sv[i].service }, 1));
		call_init(&c[i], "ecs", "DescribeServices", ins[i]);
	}
	run_all(u->st, c, nsv);
	for (i = 0; i < nsv; i++) {
		char dep[128], detail[200];

		if (leak_deployed_since(c[i].out, u->jobs[sv[i].job].rotated_at, dep, sizeof(dep))) {
			snprintf(detail, sizeof(detail),
				 "deployment %s started after the rotation: already redeployed", dep);
			note(u, "redeploy", "ecs:UpdateService", sv[i].target, RESP_WRITE, RESP_ALREADY,
			     detail, 1);
			sv[i].need = 0;
		}
		aws_call_cleanup(&c[i]);
		cJSON_Delete(ins[i]);
		ins[i] = NULL;
	}
}

/* Round 4: every service named in the tag of a rotated secret gets a new
 * deployment, unless it already has one since the rotation. */
static void secrets_redeploy(struct lk_run *u)
{
	struct leak_svc *sv = NULL;
	struct aws_call *c = NULL;
	cJSON **ins = NULL;
	size_t nsv = 0, cap = 0, i, n;

	for (i = 0; i < u->njobs; i++) {
		struct leak_job *j = &u->jobs[i];

		if (j->state == LEAK_JOB_CURRENT && j->services_ignored) {
			char detail[PROV_REASON_LEN + 700];

			snprintf(detail, sizeof(detail), "nothing redeployed: firebreak:ecs-services '%.500s' "
				 "ignored (%s); redeploy the services that use this secret by hand",
				 j->services_ignored, j->services_why);
			note(u, "redeploy", "ecs:UpdateService", secret_arn(u, j), RESP_WRITE, RESP_SKIPPED,
			     detail, 0);
		}
	}
	for (i = 0; i < u->njobs; i++)
		if (u->jobs[i].state == LEAK_JOB_CURRENT && !u->jobs[i].services_ignored &&
		    leak_services_parse(u->jobs[i].services, i, secret_arn(u, &u->jobs[i]), &sv, &nsv, &cap,
					u->warnings) != FB_OK)
			break;
	if (!nsv)
		goto out;
	c = calloc(nsv, sizeof(*c));
	ins = calloc(nsv, sizeof(*ins));
	if (!c || !ins)
		goto out;
	redeploy_check(u, sv, nsv, c, ins);
	/* the redeploys, concurrently */
	for (i = 0, n = 0; i < nsv; i++) {
		int k;

		if (!sv[i].need)
			continue;
		k = resp_step_begin(&u->r, "redeploy", "ecs:UpdateService", sv[i].target, RESP_WRITE);
		if (resp_step_dry(&u->r, k)) {
			sv[i].need = 0;
			continue;
		}
		sv[i].need = k + 1;
		ins[n] = cJSON_CreateObject();
		cJSON_AddStringToObject(ins[n], "cluster", sv[i].cluster);
		cJSON_AddStringToObject(ins[n], "service", sv[i].service);
		cJSON_AddBoolToObject(ins[n], "forceNewDeployment", 1);
		call_init(&c[n], "ecs", "UpdateService", ins[n]);
		n++;
	}
	run_all(u->st, c, n);
	for (i = 0, n = 0; i < nsv; i++) {
		char detail[300];
		const char *dep;

		if (!sv[i].need)
			continue;
		dep = leak_primary_deployment(c[n].out);
		snprintf(detail, sizeof(detail), "new deployment %s", dep ? dep : "?");
		resp_step_from_call(&u->r, sv[i].need - 1, &c[n], c[n].rc == FB_OK ? detail : "not redeployed");
		aws_call_cleanup(&c[n]);
		cJSON_Delete(ins[n]);
		ins[n] = NULL;
		n++;
	}
out:
	free(c);
	free(ins);
	free(sv);
}

static void act_secrets(struct lk_run *u)
{
	const struct leak_watch *w = &u->st->watch;
	const struct leak_findings *f = &u->f;
	size_t i, n = 0;
	cJSON *arr = cJSON_AddArrayToObject(u->r.extra, "secrets");

	for (i = 0; i < w->nsecrets; i++)
		n += (f->cur_hits[i] || f->prev_hits[i]);
	if (!n)
		return;
	u->jobs = calloc(n, sizeof(*u->jobs));
	if (!u->jobs)
		return;
	for (i = 0; i < w->nsecrets; i++) {
		cJSON *o;

		if (!f->cur_hits[i] && !f->prev_hits[i])
			continue;
		u->jobs[u->njobs].secret = (uint32_t)i;
		u->jobs[u->njobs].cur_hits = f->cur_hits[i];
		u->jobs[u->njobs].prev_hits = f->prev_hits[i];
		u->njobs++;
		o = cJSON_CreateObject();
		u->jobs[u->njobs - 1].report = o;
		cJSON_AddStringToObject(o, "arn", w->secrets[i].arn);
		cJSON_AddStringToObject(o, "name", w->secrets[i].name ? w->secrets[i].name : "");
		cJSON_AddNumberToObject(o, "hits_current", (double)f->cur_hits[i]);
		cJSON_AddNumberToObject(o, "hits_previous", (double)f->prev_hits[i]);
		cJSON_AddItemToArray(arr, o);
	}
	secrets_decide(u);
	secrets_rotate(u);
	secrets_wait(u);
	secrets_redeploy(u);
}

/* ---- access keys: deactivate ----------------------------------------------------------------------------- */

static const char *own_account(struct lk_run *u)
{
	struct resp_config *cfg = &u->st->cfg;
	cJSON *out = NULL;
	struct aws_error err;
	char acct[13];

	if (cfg->own_account)
		return cfg->own_account;
	if (leak_account_from_arn(u->ctx->function_arn, acct)) {
		cfg->own_account = strdup(acct);
		return cfg->own_account;
	}
	memset(&err, 0, sizeof(err));
	if (aws_do(u->st->aws, "sts", "GetCallerIdentity", NULL, &out, &err) == FB_OK &&
	    leak_query_str(out, "GetCallerIdentity", "Account"))
		cfg->own_account = strdup(leak_query_str(out, "GetCallerIdentity", "Account"));
	cJSON_Delete(out);
	return cfg->own_account;
}

/* One round of a query call per undecided key whose client is `cl` (NULL:
 * our own), concurrently. */
static void key_round_on(struct lk_run *u, struct aws_client *cl, const char *svc, const char *op,
			 const char *step,
			 void (*then)(struct lk_run *, struct leak_key *, struct aws_call *, int))
{
	struct aws_call c[LEAK_MAX_KEYS];
	cJSON *ins[LEAK_MAX_KEYS];
	size_t map[LEAK_MAX_KEYS], n = 0, i;
	int idx[LEAK_MAX_KEYS], write = !strcmp(op, "UpdateAccessKey");
	char api[64];

	snprintf(api, sizeof(api), "%s:%s", svc, op);
	for (i = 0; i < u->f.nkeys; i++) {
		struct leak_key *k = &u->f.keys[i];

		if (k->done || u->key_client[i] != cl || u->key_member[i])
			continue;
		ins[n] = cJSON_CreateObject();
		if (strcmp(op, "ListAccessKeys"))
			cJSON_AddStringToObject(ins[n], "AccessKeyId", k->id);
		if (!strcmp(op, "ListAccessKeys") || write)
			cJSON_AddStringToObject(ins[n], "UserName", k->user);
		if (write)
			cJSON_AddStringToObject(ins[n], "Status", "Inactive");
		idx[n] = resp_step_begin(&u->r, step, api, k->id, write ? RESP_WRITE : RESP_READ);
		call_init(&c[n], svc, op, ins[n]);
		map[n++] = i;
	}
	if (n)
		aws_call_run_all(cl ? cl : u->st->aws, c, n);
	for (i = 0; i < n; i++) {
		then(u, &u->f.keys[map[i]], &c[i], idx[i]);
		aws_call_cleanup(&c[i]);
		cJSON_Delete(ins[i]);
	}
}

/* The round on every client: ours, then each member account's. */
static void key_round(struct lk_run *u, const char *svc, const char *op, const char *step,
		      void (*then)(struct lk_run *, struct leak_key *, struct aws_call *, int))
{
	size_t m;

	key_round_on(u, NULL, svc, op, step, then);
	for (m = 0; m < u->nmember; m++)
		key_round_on(u, u->member[m], svc, op, step, then);
}

/*
 * A key id without a secret access key in the same log event is not a
 * usable credential (README "Access keys"): ids sit in presigned URLs,
 * SigV4 headers and access logs, and anyone who can write a log line can
 * write one. Such a key is reported (P2) with its account, owner and last
 * use, and never written to: its reads are optional steps (a failed read
 * makes the report poorer, not the containment incomplete) and its
 * deactivate-key step is skipped.
 */
static int report_only(const struct leak_key *k)
{
	return !leak_key_usable(k);
}

static void report_only_done(struct lk_run *u, struct leak_key *k, const char *why)
{
	char detail[400];

	snprintf(detail, sizeof(detail),
		 "reported only, not deactivated: %s; the key id appeared without a secret access key "
		 "in the same log event, and an id alone is not a usable credential", why);
	note(u, "deactivate-key", "iam:UpdateAccessKey", k->id, RESP_WRITE, RESP_SKIPPED, detail, 0);
	k->done = 1;
}

/* 1 when an earlier key of k's account already has its "assume-role"
 * failure for a missing member role. */
static int no_role_noted(const struct lk_run *u, const struct leak_key *k)
{
	const struct leak_key *o;

	for (o = u->f.keys; o < k; o++)
		if (o->done && !report_only(o) && !strcmp(o->account, k->account))
			return 1;
	return 0;
}

/* A read step of a key: optional when the key is only reported. */
static void key_step_end(struct lk_run *u, struct leak_key *k, int idx, const struct aws_call *c,
			 const char *detail)
{
	resp_step_from_call(&u->r, idx, c, detail);
	if (report_only(k))
		resp_step_optional(&u->r, idx);
}

static void after_info(struct lk_run *u, struct leak_key *k, struct aws_call *c, int idx)
{
	const char *acct = leak_query_str(c->out, "GetAccessKeyInfo", "Account");
	const char *own = own_account(u);
	char detail[200];

	if (c->rc != FB_OK || !acct) {
		key_step_end(u, k, idx, c, "cannot learn the key's account");
		if (report_only(k))
			report_only_done(u, k, "its account could not be read");
		k->done = 1;
		return;
	}
	snprintf(k->account, sizeof(k->account), "%s", acct);
	snprintf(detail, sizeof(detail), "account %s", acct);
	key_step_end(u, k, idx, c, detail);
	switch (leak_key_route(acct, own, u->st->cfg.member_role)) {
	case LEAK_KEY_OWN:
		break;
	case LEAK_KEY_MEMBER:
		u->key_member[k - u->f.keys] = 1;
		break;
	case LEAK_KEY_NO_ROLE:
		if (report_only(k)) {
			snprintf(detail, sizeof(detail), "key of account %s (not ours), FIREBREAK_MEMBER_ROLE "
				 "not set: its owner and last use are not read", acct);
			report_only_done(u, k, detail);
			break;
		}
		/* The key stays active: not contained. Like every responder
		 * that cannot reach another account (task-quarantine), the way
		 * there is a failed required step (one per account), so the
		 * invocation is an error and the failure queue sees it; the
		 * write is skipped. */
		if (!no_role_noted(u, k)) {
			snprintf(detail, sizeof(detail),
				 "key of account %s (not ours) and FIREBREAK_MEMBER_ROLE not set: cannot act there",
				 acct);
			note(u, "assume-role", "sts:AssumeRole", acct, RESP_READ, RESP_FAILED, detail, 1);
		}
		snprintf(detail, sizeof(detail),
			 "skipped: no member role; the key stays active: deactivate it in account %s", acct);
		note(u, "deactivate-key", "iam:UpdateAccessKey", k->id, RESP_WRITE, RESP_SKIPPED, detail, 0);
		k->done = 1;
		break;
	}
}

/* One member-role client per other account whose keys leaked (the
 * credentials are cached in st->aws by role ARN across invokes). A failed
 * AssumeRole is a failed required step: those keys get no other call. */
static void member_clients(struct lk_run *u)
{
	size_t i, j;

	for (i = 0; i < u->f.nkeys; i++) {
		struct leak_key *k = &u->f.keys[i];
		struct aws_client *cl = NULL;
		struct aws_error err;
		char role[300], detail[400];
		int owned = 0, idx, needed = 0;
		enum fb_err rc;

		if (!u->key_member[i] || k->done)
			continue;
		/* required only when a usable credential of that account leaked */
		for (j = i; j < u->f.nkeys; j++)
			needed |= u->key_member[j] && !u->f.keys[j].done && !report_only(&u->f.keys[j]) &&
				  !strcmp(u->f.keys[j].account, k->account);
		snprintf(role, sizeof(role), "arn:%s:iam::%s:role/%s", aws_client_partition(u->st->aws),
			 k->account, u->st->cfg.member_role);
		idx = resp_step_begin(&u->r, "assume-role", "sts:AssumeRole", role, RESP_READ);
		memset(&err, 0, sizeof(err));
		rc = resp_client_for(&u->r, u->st->aws, k->account, NULL, &cl, &owned, &err);
		if (rc == FB_OK && cl == u->st->aws) {
			/* resp_client_for learned only now that it is our account */
			resp_step_end(&u->r, idx, RESP_SKIPPED, "our own account: no role needed", NULL);
			resp_step_optional(&u->r, idx);
			cl = NULL;
		} else if (rc == FB_OK && u->nmember < LEAK_MAX_KEYS) {
			snprintf(detail, sizeof(detail), "acting in account %s", k->account);
			resp_step_end(&u->r, idx, RESP_DONE, detail, NULL);
			u->member[u->nmember] = cl;
			u->member_owned[u->nmember++] = owned;
		} else {
			if (rc == FB_OK && owned)
				aws_client_free(cl);
			snprintf(detail, sizeof(detail), "cannot act in account %s: %s", k->account,
				 rc == FB_E_CONFIG ? "FIREBREAK_MEMBER_ROLE not set" : "no session");
			resp_step_end(&u->r, idx, RESP_FAILED, detail, &err);
			if (!needed)
				resp_step_optional(&u->r, idx);
			cl = NULL;
		}
		/* every key of this account: this client, or nothing */
		for (j = i; j < u->f.nkeys; j++) {
			struct leak_key *o = &u->f.keys[j];

			if (!u->key_member[j] || o->done || strcmp(o->account, k->account))
				continue;
			u->key_member[j] = 0;
			u->key_client[j] = cl;
			if (!cl && rc != FB_OK && report_only(o)) {
				snprintf(detail, sizeof(detail), "no session in account %s: its owner and last use "
					 "are not read", o->account);
				report_only_done(u, o, detail);
			} else if (!cl && rc != FB_OK) {
				snprintf(detail, sizeof(detail),
					 "not deactivated: no session in account %s; the key stays active", o->account);
				note(u, "deactivate-key", "iam:UpdateAccessKey", o->id, RESP_WRITE, RESP_SKIPPED,
				     detail, 0);
				o->done = 1;
			}
		}
	}
}

/* One sts:GetCallerIdentity signed with (id, candidate). */
static enum fb_err verify_one(struct lk_run *u, const struct leak_key *k, const char *cand,
			      struct aws_error *e, char *arn, size_t arnlen)
{
	struct aws_client_options o;
	struct aws_client *cl = NULL;
	cJSON *out = NULL;
	char sk[41], err[200];
	enum fb_err rc;

	memcpy(sk, cand, 40);
	sk[40] = '\0';
	memset(&o, 0, sizeof(o));
	o.access_key = k->id;
	o.secret_key = sk;
	rc = aws_client_new_opts(&cl, &o, err, sizeof(err));
	explicit_bzero(sk, sizeof(sk));
	if (rc != FB_OK) {
		snprintf(e->message, sizeof(e->message), "%s", err);
		return rc;
	}
	if (u->ctx->deadline_ms)
		aws_client_set_deadline(cl, u->ctx->deadline_ms - LK_FINISH_RESERVE_MS);
	rc = aws_do(cl, "sts", "GetCallerIdentity", NULL, &out, e);
	if (rc == FB_OK)
		buf_copy_str(arn, arnlen, leak_query_str(out, "GetCallerIdentity", "Arn"));
	cJSON_Delete(out);
	aws_client_free(cl); /* wipes its copy of the secret */
	return rc;
}

/*
 * Is the 40-character string next to a key id its secret? An
 * sts:GetCallerIdentity signed with the pair answers it: STS serves it to
 * any valid key without a permission. Anyone who can write a log line can
 * write any user's key id next to 40 random characters; a refused
 * signature (SignatureDoesNotMatch) proves the string is not the secret,
 * so the key is only reported (RESPONDERS.md: nothing an attacker can
 * write may switch off what we protect). Every distinct candidate is tried
 * (at most LEAK_KEY_CANDIDATES): a fake one written beside a real leak
 * hides nothing. An answer that proves nothing (throttling, a network
 * error, the key unknown or inactive: InvalidClientTokenId) leaves the
 * key usable, and the steps below decide as before. The call shows in
 * CloudTrail under the leaked key, from this function's address: the step
 * says so.
 */
static void verify_keys(struct lk_run *u)
{
	size_t i, c;

	for (i = 0; i < u->f.nkeys; i++) {
		struct leak_key *k = &u->f.keys[i];
		struct aws_error e;
		char arn[300] = "", detail[600];
		size_t refused = 0;
		enum fb_err rc = FB_OK;
		int idx;

		if (k->done || !k->near_secret || strncmp(k->id, "AKIA", 4) || !k->ncand)
			continue;
		idx = resp_step_begin(&u->r, "verify-key", "sts:GetCallerIdentity", k->id, RESP_READ);
		for (c = 0; c < k->ncand; c++) {
			memset(&e, 0, sizeof(e));
			rc = verify_one(u, k, k->cand[c], &e, arn, sizeof(arn));
			if (rc == FB_OK || strcmp(e.code, "SignatureDoesNotMatch"))
				break;
			refused++;
		}
		if (rc == FB_OK) {
			k->verified = 1;
			snprintf(detail, sizeof(detail), "usable: STS accepted a call signed with the secret "
				 "access key seen next to it (caller %s; the call shows in CloudTrail under this key)",
				 arn[0] ? arn : "?");
			resp_step_end(&u->r, idx, RESP_DONE, detail, NULL);
		} else if (refused == k->ncand) {
			k->refused = 1;
			snprintf(detail, sizeof(detail), "not its secret: STS refused the signature of each of "
				 "the %zu 40-character strings seen next to it%s", k->ncand,
				 k->cand_overflow ? " (more were seen: not tried)" : "");
			resp_step_end(&u->r, idx, RESP_DONE, detail, NULL);
			resp_step_optional(&u->r, idx);
		} else {
			snprintf(detail, sizeof(detail), "not verified (%s %.200s): treated as a usable credential",
				 e.code[0] ? e.code : fb_strerror(rc), e.message);
			resp_step_end(&u->r, idx, RESP_FAILED, detail, NULL);
			resp_step_optional(&u->r, idx);
		}
	}
}

static void after_last_used(struct lk_run *u, struct leak_key *k, struct aws_call *c, int idx)
{
	const char *user = leak_query_str(c->out, "GetAccessKeyLastUsed", "UserName");
	const char *when = leak_query_str(c->out, "GetAccessKeyLastUsed", "AccessKeyLastUsed.LastUsedDate");
	const char *svc = leak_query_str(c->out, "GetAccessKeyLastUsed", "AccessKeyLastUsed.ServiceName");
	const char *reg = leak_query_str(c->out, "GetAccessKeyLastUsed", "AccessKeyLastUsed.Region");
	char detail[300];

	if (c->rc != FB_OK || !user || !*user) {
		key_step_end(u, k, idx, c, "cannot find the key's user");
		if (report_only(k))
			report_only_done(u, k, "its owner could not be read");
		k->done = 1;
		return;
	}
	buf_copy_str(k->user, sizeof(k->user), user);
	buf_copy_str(k->last_used, sizeof(k->last_used), when);
	buf_copy_str(k->last_service, sizeof(k->last_service), svc);
	buf_copy_str(k->last_region, sizeof(k->last_region), reg);
	snprintf(detail, sizeof(detail), "owned by IAM user %s; last used %s%s%s%s%s", user,
		 when && *when ? when : "never (or not recorded)", svc && *svc ? " by " : "",
		 svc && *svc ? svc : "", reg && *reg ? " in " : "", reg && *reg ? reg : "");
	key_step_end(u, k, idx, c, detail);
	if (report_only(k)) {
		snprintf(detail, sizeof(detail), "owned by IAM user %s", user);
		report_only_done(u, k, detail);
	}
}

static void after_list(struct lk_run *u, struct leak_key *k, struct aws_call *c, int idx)
{
	const cJSON *m;

	resp_step_from_call(&u->r, idx, c, NULL);
	if (c->rc != FB_OK) {
		k->done = 1;
		return;
	}
	cJSON_ArrayForEach(m, resp_get(c->out, "ListAccessKeysResult.AccessKeyMetadata")) {
		const char *id = resp_get_str(m, "AccessKeyId");

		if (id && !strcmp(id, k->id))
			snprintf(k->status, sizeof(k->status), "%s",
				 resp_get_str(m, "Status") ? resp_get_str(m, "Status") : "");
	}
	if (!k->status[0]) {
		resp_step_end(&u->r, idx, RESP_FAILED, "key not listed for its user", NULL);
		k->done = 1;
		return;
	}
	resp_step_end(&u->r, idx, RESP_DONE, k->status, NULL);
	if (!strcmp(k->status, "Inactive")) {
		note(u, "deactivate-key", "iam:UpdateAccessKey", k->id, RESP_WRITE, RESP_ALREADY,
		     "key is already Inactive", 1);
		k->done = 1;
		return;
	}
	if (u->r.dry_run) {
		resp_step_begin(&u->r, "deactivate-key", "iam:UpdateAccessKey", k->id, RESP_WRITE);
		k->done = 1;
		return;
	}
	{
		cJSON *restore = leak_key_restore(k);
		size_t i = (size_t)(k - u->f.keys);

		/* a member account's key is restored there, through the member role */
		if (restore && u->key_client[i]) {
			char role[300];

			snprintf(role, sizeof(role), "arn:%s:iam::%s:role/%s",
				 aws_client_partition(u->st->aws), k->account, u->st->cfg.member_role);
			cJSON_AddStringToObject(restore, "account", k->account);
			cJSON_AddStringToObject(restore, "role", role);
		}
		resp_restore_add(&u->r, restore);
	}
}

static void after_update(struct lk_run *u, struct leak_key *k, struct aws_call *c, int idx)
{
	resp_step_from_call(&u->r, idx, c, c->rc == FB_OK ? "key set Inactive (not deleted)" : NULL);
	k->done = 1;
}

static void act_keys(struct lk_run *u)
{
	size_t i;

	for (i = 0; i < u->f.nkeys; i++) {
		struct leak_key *k = &u->f.keys[i];

		if (!strncmp(k->id, "ASIA", 4) && report_only(k)) {
			report_only_done(u, k, "temporary (STS) key id");
		} else if (!strncmp(k->id, "ASIA", 4)) {
			note(u, "deactivate-key", "iam:UpdateAccessKey", k->id, RESP_WRITE, RESP_SKIPPED,
			     "temporary (STS) credentials cannot be deactivated: revoke the role's active "
			     "sessions (iam:PutRolePolicy with aws:TokenIssueTime) by hand", 0);
			k->done = 1;
		}
	}
	verify_keys(u);
	key_round(u, "sts", "GetAccessKeyInfo", "key-account", after_info);
	member_clients(u);
	key_round(u, "iam", "GetAccessKeyLastUsed", "key-owner", after_last_used);
	key_round(u, "iam", "ListAccessKeys", "key-status", after_list);
	key_round(u, "iam", "UpdateAccessKey", "deactivate-key", after_update);
	cJSON_AddItemToObject(u->r.extra, "access_keys", leak_keys_json(u->f.keys, u->f.nkeys));
}

/* ---- the handler ------------------------------------------------------------------------------------------------ */

static void run_cleanup(struct lk_run *u)
{
	size_t i;

	resp_cleanup(&u->r);
	leak_batch_cleanup(&u->batch);
	if (u->pages) {
		leak_cjson_wipe(u->pages);
		cJSON_Delete(u->pages);
	}
	if (u->ev) {
		leak_cjson_wipe(u->ev);
		cJSON_Delete(u->ev);
	}
	for (i = 0; u->jobs && i < u->njobs; i++) {
		free(u->jobs[i].services);
		free(u->jobs[i].services_ignored);
	}
	free(u->jobs);
	for (i = 0; i < u->nmember; i++)
		if (u->member_owned[i])
			aws_client_free(u->member[i]);
	leak_msgs_cleanup(&u->msgs);
	leak_findings_cleanup(&u->f);
	explicit_bzero(u, sizeof(*u));
	free(u);
}

/* A result that is not an incident: control messages, other alarms, no leak. */
static enum fb_err quiet_result(struct lr_result *out, const char *result, const char *why)
{
	cJSON *o = leak_quiet_json(LK_FN, result, why);
	char *txt = o ? cJSON_PrintUnformatted(o) : NULL;
	enum fb_err rc;

	cJSON_Delete(o);
	if (!txt)
		return FB_E_NOMEM;
	log_info("%s: %s", result, why);
	rc = lr_result_ok(out, txt, strlen(txt));
	cJSON_free(txt);
	return rc;
}

/* The invocation once the event is known to be ours: report, messages,
 * scan, act, finish. */
static enum fb_err lk_respond(struct lk_run *u, enum leak_form form, struct lr_result *out)
{
	struct lk_state *st = u->st;
	const struct lr_context *ctx = u->ctx;
	enum fb_err rc = FB_OK;

	if (ctx->deadline_ms)
		aws_client_set_deadline(st->aws, ctx->deadline_ms - LK_FINISH_RESERVE_MS);
	u->warnings = cJSON_AddArrayToObject(u->r.extra, "warnings");
	resp_set_severity(&u->r, "P1");
	/* first the watched values: the names shown in the report are
	 * checked against them too */
	ensure_loaded(u);
	if (form == LEAK_FORM_AWSLOGS)
		rc = setup_awslogs(u);
	else if (form == LEAK_FORM_MANUAL)
		rc = setup_manual(u);
	else
		setup_alarm(u);
	if (rc != FB_OK)
		leak_warn(u->warnings, "more than %u log events: the rest was not scanned", LEAK_MAX_MESSAGES);
	rc = leak_findings_init(&u->f, st->watch.nsecrets, u->warnings);
	if (rc != FB_OK)
		return rc;
	leak_scan_messages(&st->watch, u->msgs.v, u->msgs.n, &u->f);
	cJSON_AddItemToObject(u->r.extra, "source", leak_source_json(form, u->group, u->stream, &u->msgs));
	if (u->f.cloudtrail_ids)
		leak_warn(u->warnings, "%zu CloudTrail records: the %zu access key ids in their accessKeyId "
			  "fields are the audit trail, not leaks (not acted on)", u->f.cloudtrail_records,
			  u->f.cloudtrail_ids);
	cJSON_AddNumberToObject(u->r.extra, "hits_total", (double)u->f.hits_total);
	cJSON_AddItemToObject(u->r.extra, "hits", u->f.hits);
	u->f.hits = NULL;
	if (!u->f.hits_total && !resp_failed(&u->r)) {
		/* the common case for a subscription: nothing leaked, nothing to
		 * publish (one log line, a small result) */
		char detail[200];

		snprintf(detail, sizeof(detail), "%zu events, %zu bytes scanned, %zu watched values: no leak",
			 u->msgs.n, u->msgs.bytes, st->watch.nvalues);
		return quiet_result(out, "no leak", detail);
	}
	act_secrets(u);
	act_keys(u);
	cJSON_AddItemToObject(u->r.extra, "tokens", leak_tokens_json(u->f.tokens, u->f.ntokens, &st->watch));
	if (!u->njobs && !leak_usable_keys(u->f.keys, u->f.nkeys)) {
		/* nothing usable leaked: key ids alone and tokens are reported */
		resp_set_severity(&u->r, u->f.ntokens || u->f.nkeys ? "P2" : "P3");
		if (u->f.nkeys)
			resp_set_verdict(&u->r, "reported: access key ids without a secret access key, "
					 "nothing written");
	}
	if (ctx->deadline_ms)
		aws_client_set_deadline(st->aws, ctx->deadline_ms - 100);
	return resp_finish(&u->r, st->aws, out);
}

static enum fb_err lk_handle(void *state, const char *event, size_t len,
			     const struct lr_context *ctx, struct lr_result *out)
{
	struct lk_state *st = state;
	struct lk_run *u;
	char why[400] = "";
	enum leak_form form;
	enum fb_err rc;

	u = calloc(1, sizeof(*u));
	if (!u)
		return FB_E_NOMEM;
	u->st = st;
	u->ctx = ctx;
	/* Size, UTF-8, control bytes, "\u0000", depth, trailing data, object:
	 * the shared check. (The awslogs payload inside gets the same, with
	 * "\u0000" in log text read as U+FFFD: see leak_batch_parse.) */
	if (resp_parse_event(event, len, RESP_MAX_EVENT_BYTES, &u->ev, why, sizeof(why)) != FB_OK) {
		run_cleanup(u);
		return resp_invalid(out, "%s", why);
	}
	form = leak_classify(u->ev, &st->set, &u->batch, why, sizeof(why));
	if (form == LEAK_FORM_INVALID) {
		run_cleanup(u);
		return resp_invalid(out, "%s", why);
	}
	if (form == LEAK_FORM_IGNORE) {
		int control = u->batch.message_type && !strcmp(u->batch.message_type, "CONTROL_MESSAGE");

		rc = quiet_result(out, control ? "control message" : "ignored", why);
		run_cleanup(u);
		return rc;
	}
	rc = resp_begin(&u->r, &st->cfg, LK_FN, ctx);
	if (rc == FB_OK && form != LEAK_FORM_AWSLOGS && resp_trigger_from_event(&u->r, u->ev) != FB_OK) {
		run_cleanup(u);
		return resp_invalid(out, "malformed envelope fields (or 'dryRun' not a boolean)");
	}
	if (rc == FB_OK)
		rc = lk_respond(u, form, out);
	run_cleanup(u);
	return rc;
}

int main(void)
{
	return lr_main(lk_init, lk_handle);
}
