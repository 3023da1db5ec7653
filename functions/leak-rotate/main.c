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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "akey.h"
#include "alarm.h"
#include "arn.h"
#include "aws.h"
#include "cwl.h"
#include "evidence.h"
#include "fn.h"
#include "kit.h"
#include "leak.h"
#include "log.h"
#include "lr.h"
#include "prov.h"
#include "redeploy.h"
#include "resp.h"

#define LK_FN "leak-rotate"
/* Kept back from the deadline for the report, SNS publish and response. */
#define LK_FINISH_RESERVE_MS 1500
/* Bounds on what one invocation reads and lists. */
#define LK_MAX_ALARM_PAGES 50
#define LK_MAX_ALARM_BYTES LEAK_MAX_INFLATED
#define LK_MAX_LIST_PAGES 20

/* Process state, kept across invokes. */
struct lk_state {
	struct fn_base fn;
	struct leak_settings set;
	int64_t loaded_ms;          /* last complete load; 0 = load at next invoke */
	int64_t load_attempt_ms;
	struct leak_watch watch;    /* watched values + detectors */
	cJSON *load_errors;         /* array of strings from the last load */
	cJSON *no_envelope;         /* {}: kit_begin's event for a subscription delivery */
};

/* One invocation. */
struct lk_run {
	struct lk_state *st;        /* borrowed */
	const struct lr_context *ctx; /* borrowed */
	struct resp r;
	struct kit kit;             /* every AWS call of the invocation */
	cJSON *ev;                  /* owned */
	struct leak_batch batch;    /* owned (awslogs form) */
	cJSON *pages;               /* owned: FilterLogEvents events (alarm form) */
	int alarm_idx, alarm_pages, alarm_capped; /* setup_alarm's line, pages read, a group cut short */
	struct leak_msgs msgs;      /* owned array; texts borrowed from ev/batch/pages */
	const char *group, *stream; /* for the report; watched values redacted */
	char group_buf[LEAK_NAME_MAX * 2 + 64], stream_buf[LEAK_NAME_MAX * 2 + 64];
	cJSON *warnings;            /* borrowed from r.extra */
	struct leak_findings f;     /* owned */
	struct leak_job *jobs;      /* owned */
	size_t njobs;
	/* Access keys of other accounts (RESPONDERS.md, cross-account): the
	 * client each key is acted on with (NULL: our own; else kit_client's,
	 * borrowed). */
	struct aws_client *key_client[LEAK_MAX_KEYS];
	int key_member[LEAK_MAX_KEYS];     /* 1: LEAK_KEY_MEMBER, client not yet made */
};

/* ---- init ----------------------------------------------------------------------------------- */

static void lk_settings_cleanup(void *state)
{
	struct lk_state *st = state;

	leak_watch_cleanup(&st->watch);
	leak_settings_cleanup(&st->set);
	cJSON_Delete(st->load_errors);
	cJSON_Delete(st->no_envelope);
}

/*
 * Init does no network: the watched values are loaded at the first invoke
 * (and again after the TTL), so a cold start stays fast, a Secrets Manager
 * error becomes part of an invocation's report instead of an init failure
 * Lambda would only retry, and the function still scans for keys and
 * tokens when loading fails.
 */
static enum fb_err lk_settings(void *state, char *err, size_t errlen)
{
	struct lk_state *st = state;
	enum fb_err rc = leak_settings_from_env(&st->set, err, errlen);

	if (rc == FB_OK) {
		/* until the first load: detectors only */
		rc = leak_watch_init(&st->watch);
		if (rc == FB_OK)
			rc = leak_watch_build(&st->watch);
		if (rc != FB_OK)
			snprintf(err, errlen, "cannot build the scanner: %s", fb_strerror(rc));
	}
	st->load_errors = cJSON_CreateArray();
	st->no_envelope = cJSON_CreateObject();
	if (rc == FB_OK && (!st->load_errors || !st->no_envelope))
		rc = FB_E_NOMEM;
	return rc;
}

/* ---- loading the watched values --------------------------------------------------------------- */

static void load_error(struct lk_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void load_error(struct lk_state *st, const char *fmt, ...)
{
	char msg[600];

	RESP_FORMAT(msg, fmt);
	kit_warn_to(st->load_errors, "%s", msg);
	log_warn("%s", msg);
}

/* The secrets tagged firebreak:watch=true (runtime/redeploy: ListSecrets
 * by tag, the answer's tags checked again), their ARNs appended to ids. */
static enum fb_err list_tagged(struct lk_run *u, cJSON *ids)
{
	struct aws_error e;
	int complete = 0;
	enum fb_err rc = rdp_tagged(&u->kit, LEAK_TAG_WATCH, "true", LK_MAX_LIST_PAGES, ids, &complete, &e);

	if (rc == FB_E_AWS)
		load_error(u->st, "secretsmanager:ListSecrets by tag firebreak:watch failed: %s %s", e.code, e.message);
	else if (rc == FB_OK && !complete)
		load_error(u->st, "secretsmanager:ListSecrets: more than %d pages; the rest is not watched",
			   LK_MAX_LIST_PAGES);
	return rc;
}

/* One load of the watched values (load_secrets). */
struct lk_load {
	struct lk_state *st;
	const cJSON *ids;
	struct leak_watch w;
	int errors;
};

/* Adds one secret's AWSCURRENT (and, when readable, AWSPREVIOUS) values
 * from its two GetSecretValue answers (rdp_values wipes them after). FB_OK
 * also when the secret is skipped with a load error; other codes stop the
 * load. */
static enum fb_err load_one(void *arg, size_t i, struct kit_step *cur_s, struct kit_step *prev_s)
{
	struct lk_load *l = arg;
	struct lk_state *st = l->st;
	struct leak_watch *w = &l->w;
	const cJSON *cur = kit_out(cur_s), *prev = kit_out(prev_s);
	const char *arn = resp_get_str(cur, "ARN");
	const char *v = resp_get_str(cur, "SecretString");
	size_t count = 0;
	uint32_t idx;
	enum fb_err rc;

	if (!arn) {
		load_error(st, "cannot read watched secret '%s': %s %s", cJSON_GetArrayItem(l->ids, (int)i)->valuestring,
			   kit_err(cur_s)->code[0] ? kit_err(cur_s)->code : fb_strerror(FB_E_AWS), kit_err(cur_s)->message);
		l->errors++;
		return FB_OK;
	}
	if (leak_watch_has(w, arn))
		return FB_OK;
	rc = leak_watch_add_secret(w, arn, resp_get_str(cur, "Name"), resp_get_str(cur, "VersionId"), &idx);
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
	v = resp_get_str(prev, "SecretString");
	if (v) {
		buf_copy_str(w->secrets[idx].prev_version, sizeof(w->secrets[idx].prev_version),
			     resp_get_str(prev, "VersionId"));
		return leak_watch_add_string(w, idx, 1, v, &st->set.ignore, &count);
	}
	if (!prev && strcmp(kit_err(prev_s)->code, "ResourceNotFoundException"))
		load_error(st, "cannot read AWSPREVIOUS of '%s': %s", arn, kit_err(prev_s)->code);
	return FB_OK;
}

/* Loads every watched secret's AWSCURRENT and AWSPREVIOUS values (all
 * GetSecretValue calls in one round: runtime/redeploy) into a fresh
 * automaton. On any error what could be loaded is used, and the next
 * invoke loads again. */
static enum fb_err load_secrets(struct lk_run *u, int64_t now_ms)
{
	struct lk_state *st = u->st;
	/* the configured ids, then the tagged secrets' ARNs */
	cJSON *ids = st->set.watched.n ? cJSON_CreateStringArray((const char *const *)st->set.watched.v,
								 (int)st->set.watched.n) : cJSON_CreateArray();
	struct lk_load l = { .st = st, .ids = ids };
	enum fb_err rc;

	cJSON_Delete(st->load_errors);
	st->load_errors = cJSON_CreateArray();
	st->load_attempt_ms = now_ms;
	rc = ids ? leak_watch_init(&l.w) : FB_E_NOMEM;
	if (rc != FB_OK)
		goto out;
	if (st->set.watch_tagged && list_tagged(u, ids) != FB_OK)
		l.errors++;
	rc = rdp_values(&u->kit, ids, load_one, &l);
	if (rc != FB_OK)
		goto out;
	rc = leak_watch_build(&l.w);
	if (rc != FB_OK) {
		load_error(st, "cannot build the scanner: %s", fb_strerror(rc));
		goto out;
	}
	/* swap in */
	leak_watch_cleanup(&st->watch);
	st->watch = l.w;
	memset(&l.w, 0, sizeof(l.w));
	st->loaded_ms = l.errors ? 0 : now_ms;
	rc = l.errors ? FB_E_AWS : FB_OK;
out:
	leak_watch_cleanup(&l.w);
	cJSON_Delete(ids);
	return rc;
}

/* Loads when never loaded, after the TTL, or after a failed load. */
static void ensure_loaded(struct lk_run *u)
{
	struct lk_state *st = u->st;
	int64_t now = lr_now_ms();
	char detail[200];
	cJSON *w;
	int i;

	if ((st->set.watched.n || st->set.watch_tagged) && (!st->loaded_ms || now - st->loaded_ms >= st->set.ttl_ms)) {
		enum fb_err rc;

		i = resp_step_begin(&u->r, "load-watched-secrets", "secretsmanager:GetSecretValue", NULL,
				    RESP_READ);
		rc = load_secrets(u, now);
		snprintf(detail, sizeof(detail), "%zu secrets, %zu values (current and previous)",
			 st->watch.nsecrets, st->watch.nvalues);
		resp_step_end(&u->r, i, rc == FB_OK ? RESP_DONE : RESP_FAILED, detail, NULL);
		/* partial loads still scan; nothing loaded at all while
		 * secrets are configured means we cannot tell: an error */
		if (rc != FB_OK && st->watch.nsecrets)
			resp_step_optional(&u->r, i);
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

static enum fb_err setup_awslogs(struct lk_run *u)
{
	struct leak_batch *b = &u->batch;
	char key[1200], shown[2400], id1[200], id2[200];
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
	cwl_delivery_trigger(&u->r, aws_client_partition(u->st->fn.aws), aws_client_region(u->st->fn.aws), b->owner,
			     u->group_buf, shown, b->nevents ? &b->events[0].timestamp_ms : NULL);
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
	resp_set_resource(&u->r, NULL, NULL, aws_client_region(u->st->fn.aws));
	return FB_OK;
}

/* One group's read of the alarm window (cwl_filter): its events join the
 * messages (kit_take_items: u->pages keeps them, the messages point into
 * them). */
static void alarm_group(void *arg, size_t i, struct kit_step *s)
{
	struct lk_run *u = arg;
	const char *g = u->st->set.log_groups.v[i];
	cJSON *events = kit_take_items(s);
	const cJSON *e;

	if (!kit_ok(s)) {
		kit_warn_to(u->warnings, "logs:FilterLogEvents on '%s' failed: %s %s", g, kit_err(s)->code,
			    kit_err(s)->message);
		resp_step_end(&u->r, u->alarm_idx, RESP_FAILED, "cannot read a watched log group", kit_err(s));
	}
	u->alarm_pages += kit_pages(s);
	u->alarm_capped |= kit_ok(s) && !kit_complete(s);
	cJSON_AddItemToArray(u->pages, events);
	for (e = events ? events->child : NULL; e; e = e->next) {
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
	}
}

/* FilterLogEvents over every configured group, all pages (bounded); the
 * groups are read concurrently (runtime/cwl: one paged step each). */
static void setup_alarm(struct lk_run *u)
{
	struct lk_state *st = u->st;
	int64_t start, end;
	struct alarm_change al;
	char detail[200];

	u->pages = cJSON_CreateArray();
	u->group = st->set.log_groups.v[0];
	u->stream = "";
	/* the account and region are the envelope's already (kit_begin) */
	resp_set_resource(&u->r, resp_get_str(u->ev, "resources.0"), NULL, NULL);
	alarm_parse(cJSON_GetObjectItemCaseSensitive(u->ev, "detail"), &al); /* fields 0 when absent */
	alarm_log_window(&al, u->r.event_time_ms, lr_now_ms(), st->set.lookback_ms, &start, &end);
	u->alarm_idx = resp_step_begin(&u->r, "read-alarm-window", "logs:FilterLogEvents",
				       st->set.log_groups.v[0], RESP_READ);
	if (!u->pages || cwl_filter(&u->kit, st->set.log_groups.v, st->set.log_groups.n, start, end,
				    LK_MAX_ALARM_PAGES, alarm_group, u) != FB_OK) {
		resp_step_end(&u->r, u->alarm_idx, RESP_FAILED, "out of memory", NULL);
		return;
	}
	if (u->alarm_capped)
		kit_warn_to(u->warnings, "more than %d pages of log events in the alarm window: the rest was "
			    "not scanned", LK_MAX_ALARM_PAGES);
	if (!u->r.steps[u->alarm_idx].ended) {
		/* the alarm's events are the run's only messages */
		snprintf(detail, sizeof(detail), "%zu events in %d pages from %zu log groups", u->msgs.n,
			 u->alarm_pages, st->set.log_groups.n);
		resp_step_end(&u->r, u->alarm_idx, RESP_DONE, detail, NULL);
	}
}

/* ---- secrets: decide, rotate, wait, redeploy ----------------------------------------------------------- */

/* The secret's firebreak:exempt and firebreak:ecs-services count only with
 * provenance (leak_tags_decide): its CloudTrail history, read only when
 * one of them is there, and only when it decides something: before the
 * rotation for firebreak:exempt=true, after it (while nothing else waits
 * on it) for firebreak:ecs-services alone, so that a tag which only
 * chooses the redeploys never delays the rotation. The read is optional:
 * without it the tags are
 * ignored (the secret is rotated, nothing redeployed), which is not a
 * failure of the containment. A leak has no CloudTrail actor (whoever
 * wrote the log line is not in CloudTrail), so the actor is a name no
 * setter can match: the minimum age, a known setter (or a trusted one)
 * and a complete read carry the decision (README "Safety"). */
static void secret_tags(struct lk_run *u, struct leak_job *j)
{
	const char *arn = j->rs.arn;
	struct prov_history h = { 0 };
	struct prov_query q = { 0 };
	struct arn a;

	j->tags_read = 1;
	q.trigger_ms = u->r.event_time_ms ? u->r.event_time_ms : u->r.received_ms;
	q.trigger_actor = "(unknown: whoever wrote the log line)";
	q.min_age_ms = u->st->fn.cfg.tag_min_age_ms;
	q.trust = &u->st->fn.cfg;
	q.created_ms = j->created_ms;
	kit_prov_history(&u->kit, &(struct kit_prov_read){ .step = "tag-provenance", .arn = arn,
		.account = arn_parse(arn, &a) && resp_account_id_ok(a.account) ? a.account : NULL,
		.deadline_ms = kit_read_deadline(&u->kit, LK_FINISH_RESERVE_MS),
		.complete_note = " (complete)" }, &h);
	prov_query_from_history(&q, &h);
	leak_tags_decide(j->tags, h.events, &q, j, cJSON_AddArrayToObject(j->report, "tags"));
	prov_history_cleanup(&h);
}

/* A decision's rotate-secret line and what comes next (rotate: the write). */
static const struct {
	enum resp_status status;
	enum rdp_state next;
} lk_decided[] = {
	[LEAK_DECIDE_EXEMPT] = { RESP_SKIPPED, RDP_STOP },
	[LEAK_DECIDE_IN_PROGRESS] = { RESP_ALREADY, RDP_WAIT },     /* wait for it */
	[LEAK_DECIDE_ALREADY] = { RESP_ALREADY, RDP_CURRENT },      /* the redeploy check still runs */
	[LEAK_DECIDE_NO_ROTATION] = { RESP_FAILED, RDP_FAILED },
};

/* Round 1: DescribeSecret for every job, then decide each. */
static void secrets_decide(struct lk_run *u)
{
	struct kit_round *rd = kit_round_new(&u->kit);
	struct kit_step **d = calloc(u->njobs + 1, sizeof(*d));
	size_t i;

	for (i = 0; d && i < u->njobs; i++)
		d[i] = kit_add(rd, &(struct kit_spec){ .step = "describe-secret", .service = "secretsmanager",
			.op = "DescribeSecret", .target = u->jobs[i].rs.arn, .kind = RESP_READ,
			.in = kit_obj("SecretId", u->jobs[i].rs.arn, KIT_END) });
	kit_run(rd);
	for (i = 0; i < u->njobs; i++) {
		struct leak_job *j = &u->jobs[i];
		const struct leak_secret *s = &u->st->watch.secrets[j->secret];
		char detail[300 + PROV_REASON_LEN];
		enum leak_decision dec;

		if (!d || !kit_ok(d[i])) {
			j->rs.state = RDP_FAILED;
			continue;
		}
		/* the token names the version that leaked, not the current one: a
		 * retry after our rotation sees the same token and rotates nothing */
		buf_copy_str(j->leaked_version, sizeof(j->leaked_version),
			     j->cur_hits ? s->cur_version : s->prev_version);
		rdp_token(u->r.incident_id, s->arn, j->leaked_version, j->rs.token);
		j->tags = cJSON_Duplicate(resp_get(kit_out(d[i]), "Tags"), 1);
		j->created_ms = resp_epoch_ms(resp_get(kit_out(d[i]), "CreatedDate"));
		if (prov_tag_true(j->tags, LEAK_TAG_EXEMPT))
			secret_tags(u, j);
		dec = leak_decide_secret(kit_out(d[i]), s->cur_version, j, detail, sizeof(detail));
		if (dec == LEAK_DECIDE_ROTATE) {
			buf_copy_str(j->rs.why, sizeof(j->rs.why), detail);
			j->rs.state = RDP_WRITE;
			continue;
		}
		/* decided without a call: the line says why (an exemption's is optional) */
		kit_note(&u->kit, "rotate-secret", "secretsmanager:RotateSecret", s->arn, RESP_WRITE,
			 lk_decided[dec].status, dec == LEAK_DECIDE_EXEMPT, "%s", detail);
		j->rs.state = dec == LEAK_DECIDE_IN_PROGRESS && u->r.dry_run ? RDP_STOP : lk_decided[dec].next;
	}
	kit_round_free(rd);
	free(d);
}

/* Rounds 2-4 (runtime/redeploy): RotateSecret for every job that needs it
 * (its undo recorded first), the wait until each new version is
 * AWSCURRENT (bounded by the deadline), then every service named in the
 * (honoured) tag of a rotated secret gets a new deployment, unless it
 * already has one since the rotation. */
static void secrets_rotate_redeploy(struct lk_run *u)
{
	struct rdp_secret **v = calloc(u->njobs + 1, sizeof(*v));
	struct rdp d;
	size_t i;

	if (!v)
		return;
	for (i = 0; i < u->njobs; i++)
		v[i] = &u->jobs[i].rs;
	rdp_init(&d, &u->kit, u->st->set.poll_ms, kit_read_deadline(&u->kit, LK_FINISH_RESERVE_MS),
		 u->warnings);
	d.list_name = LEAK_TAG_SERVICES;
	/* move AWSCURRENT back only if the new value breaks something */
	d.undo_note = "restores the LEAKED value: only to recover from a broken rotation";
	rdp_rotate(&d, v, u->njobs);
	rdp_wait(&d, v, u->njobs);
	for (i = 0; i < u->njobs; i++) {
		struct leak_job *j = &u->jobs[i];

		if (j->rs.state != RDP_CURRENT)
			continue;
		if (!j->tags_read && leak_tags_need_history(j->tags))
			secret_tags(u, j);
		if (j->services_ignored)
			kit_note(&u->kit, "redeploy", "ecs:UpdateService", j->rs.arn, RESP_WRITE, RESP_SKIPPED, 1,
				 "nothing redeployed: firebreak:ecs-services '%.500s' ignored (%s); redeploy the "
				 "services that use this secret by hand", j->services_ignored, j->services_why);
		else if (!j->services || !*j->services)
			kit_warn_to(u->warnings, "secret '%s' has no firebreak:ecs-services tag: nothing to redeploy",
				    j->rs.arn);
		j->rs.services = j->services_ignored ? NULL : j->services;
	}
	rdp_redeploy(&d, v, u->njobs);
	rdp_cleanup(&d);
	free(v);
}

static void act_secrets(struct lk_run *u)
{
	const struct leak_watch *w = &u->st->watch;
	const struct leak_findings *f = &u->f;
	size_t i;
	cJSON *arr = cJSON_AddArrayToObject(u->r.extra, "secrets");

	u->jobs = w->nsecrets ? calloc(w->nsecrets, sizeof(*u->jobs)) : NULL;
	for (i = 0; u->jobs && i < w->nsecrets; i++) {
		struct leak_job *j = &u->jobs[u->njobs];
		cJSON *o;

		if (!f->cur_hits[i] && !f->prev_hits[i])
			continue;
		u->njobs++;
		j->secret = (uint32_t)i;
		j->rs.arn = w->secrets[i].arn;
		j->cur_hits = f->cur_hits[i];
		j->report = o = kit_obj("arn", w->secrets[i].arn, "name", w->secrets[i].name ? w->secrets[i].name : "",
				       KIT_END);
		cJSON_AddNumberToObject(o, "hits_current", (double)f->cur_hits[i]);
		cJSON_AddNumberToObject(o, "hits_previous", (double)f->prev_hits[i]);
		cJSON_AddItemToArray(arr, o);
	}
	if (!u->njobs)
		return;
	secrets_decide(u);
	secrets_rotate_redeploy(u);
}

/* ---- access keys: deactivate ----------------------------------------------------------------------------- */

/* What a key round asks of each undecided key: the step's name, the call
 * (runtime/akey) and what to do with its answer. */
struct key_op {
	const char *step;
	enum akey_op op;
	void (*then)(struct lk_run *, struct leak_key *, struct kit_step *);
};

/* The undo of deactivating k: set it Active again; a member account's key
 * there, through the member role. */
static cJSON *key_undo(struct lk_run *u, const struct leak_key *k)
{
	char role[300];

	kit_member_role_arn(&u->kit, k->account, role, sizeof(role));
	return akey_undo("deactivate-key", k->user, k->id, k->status,
			 u->key_client[k - u->f.keys] ? k->account : NULL, role);
}

/* One round of a call per undecided key, each on its account's client,
 * concurrently; then each answer in key order. A key whose member client
 * is not made yet (member_clients) waits. */
static void key_round(struct lk_run *u, const struct key_op *o)
{
	struct kit_round *rd = kit_round_new(&u->kit);
	struct kit_step *s[LEAK_MAX_KEYS] = { 0 };
	size_t i;

	for (i = 0; i < u->f.nkeys; i++) {
		struct leak_key *k = &u->f.keys[i];

		if (!k->done && !u->key_member[i])
			s[i] = akey_add(rd, o->op, o->step, k->id, k->user, u->key_client[i],
				      o->op == AKEY_DEACTIVATE ? key_undo(u, k) : NULL);
	}
	kit_run(rd);
	for (i = 0; i < u->f.nkeys; i++)
		if (s[i])
			o->then(u, &u->f.keys[i], s[i]);
	kit_round_free(rd);
}

/*
 * A key id without a secret access key in the same log event is not a
 * usable credential (README "Access keys"): ids sit in presigned URLs,
 * SigV4 headers and access logs, and anyone who can write a log line can
 * write one. Such a key (!leak_key_usable) is reported (P2) with its
 * account, owner and last use, and never written to: its reads are
 * optional steps (a failed read makes the report poorer, not the
 * containment incomplete) and its deactivate-key step is skipped.
 */
static void report_only_done(struct lk_run *u, struct leak_key *k, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void report_only_done(struct lk_run *u, struct leak_key *k, const char *fmt, ...)
{
	char why[300];

	RESP_FORMAT(why, fmt);
	kit_note(&u->kit, "deactivate-key", "iam:UpdateAccessKey", k->id, RESP_WRITE, RESP_SKIPPED, 1,
		 "reported only, not deactivated: %s; the key id appeared without a secret access key "
		 "in the same log event, and an id alone is not a usable credential", why);
	k->done = 1;
}

/* 1 when an earlier key of k's account already has its "assume-role"
 * failure for a missing member role. */
static int no_role_noted(const struct lk_run *u, const struct leak_key *k)
{
	const struct leak_key *o;

	for (o = u->f.keys; o < k; o++)
		if (o->done && leak_key_usable(o) && !strcmp(o->account, k->account))
			return 1;
	return 0;
}

/* A read that did not give what the key's decision needs: the key is
 * settled (reported only, when it is). */
static void key_unread(struct lk_run *u, struct leak_key *k, struct kit_step *s, const char *detail,
		       const char *why)
{
	kit_detail(s, "%s", detail);
	if (!leak_key_usable(k)) {
		kit_set_optional(s);
		report_only_done(u, k, "%s", why);
	}
	k->done = 1;
}

static void after_info(struct lk_run *u, struct leak_key *k, struct kit_step *s)
{
	const char *acct = resp_get_str(kit_out(s), "Account");

	if (!acct) {
		key_unread(u, k, s, "cannot learn the key's account", "its account could not be read");
		return;
	}
	buf_copy_str(k->account, sizeof(k->account), acct);
	kit_detail(s, "account %s", acct);
	if (!leak_key_usable(k))
		kit_set_optional(s);
	switch (leak_key_route(acct, kit_own_account(&u->kit), u->st->fn.cfg.member_role)) {
	case LEAK_KEY_OWN:
		break;
	case LEAK_KEY_MEMBER:
		u->key_member[k - u->f.keys] = 1;
		break;
	case LEAK_KEY_NO_ROLE:
		if (!leak_key_usable(k)) {
			report_only_done(u, k, "key of account %s (not ours), FIREBREAK_MEMBER_ROLE not set: its "
					 "owner and last use are not read", acct);
			break;
		}
		/* The key stays active: not contained. Like every responder
		 * that cannot reach another account (task-quarantine), the way
		 * there is a failed required step (one per account), so the
		 * invocation is an error and the failure queue sees it; the
		 * write is skipped. */
		if (!no_role_noted(u, k))
			kit_note(&u->kit, "assume-role", "sts:AssumeRole", acct, RESP_READ, RESP_FAILED, 0,
				 "key of account %s (not ours) and FIREBREAK_MEMBER_ROLE not set: cannot act there",
				 acct);
		kit_note(&u->kit, "deactivate-key", "iam:UpdateAccessKey", k->id, RESP_WRITE, RESP_SKIPPED, 1,
			 "skipped: no member role; the key stays active: deactivate it in account %s", acct);
		k->done = 1;
		break;
	}
}

/* One member-role client per other account whose keys leaked (kit_client:
 * the credentials are cached by role ARN across invokes), for every key of
 * that account, or, without one, their outcome. A failed AssumeRole is a
 * failed step, required when a usable credential of that account leaked:
 * those keys get no other call. */
static void member_clients(struct lk_run *u)
{
	size_t i, j;

	for (i = 0; i < u->f.nkeys; i++) {
		const char *acct = u->f.keys[i].account;
		struct aws_client *cl;
		int needed = 0;

		if (!u->key_member[i] || u->f.keys[i].done)
			continue;
		for (j = i; j < u->f.nkeys; j++)
			needed |= u->key_member[j] && !u->f.keys[j].done && leak_key_usable(&u->f.keys[j]) &&
				  !strcmp(u->f.keys[j].account, acct);
		cl = kit_member_client(&u->kit, acct, "assume-role", needed);
		for (j = i; j < u->f.nkeys; j++) {
			struct leak_key *o = &u->f.keys[j];

			if (!u->key_member[j] || o->done || strcmp(o->account, acct))
				continue;
			u->key_member[j] = 0;
			u->key_client[j] = cl == u->kit.aws ? NULL : cl;
			if (cl)
				continue;
			if (!leak_key_usable(o))
				report_only_done(u, o, "no session in account %s: its owner and last use are not read",
						 o->account);
			else
				kit_note(&u->kit, "deactivate-key", "iam:UpdateAccessKey", o->id, RESP_WRITE, RESP_SKIPPED,
					 1, "not deactivated: no session in account %s; the key stays active", o->account);
			o->done = 1;
		}
	}
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
	size_t i;

	for (i = 0; i < u->f.nkeys; i++) {
		struct leak_key *k = &u->f.keys[i];
		struct aws_error e;
		char arn[300] = "", detail[600];
		size_t refused = 0, tlen = 0;
		enum fb_err rc = FB_OK;
		int idx;
		const char *token = NULL;

		if (!strncmp(k->id, "ASIA", 4) && !k->done && k->near_secret)
			token = leak_session_token(&u->msgs, k->id, &tlen);
		if (k->done || !k->near_secret || (strncmp(k->id, "AKIA", 4) && !token) || !k->ncand)
			continue;
		idx = resp_step_begin(&u->r, "verify-key", "sts:GetCallerIdentity", k->id, RESP_READ);
		rc = akey_verify_any(k->id, k->cand, k->ncand, token, tlen,
				     kit_read_deadline(&u->kit, LK_FINISH_RESERVE_MS), arn, sizeof(arn), &e, &refused);
		if (rc == FB_OK) {
			k->verified = 1;
			/* an assumed-role session: its role (prov_principal) */
			if (token && (!prov_principal(arn, k->role, sizeof(k->role)) || !strstr(k->role, ":role/")))
				k->role[0] = '\0';
			snprintf(detail, sizeof(detail), "usable: STS accepted a call signed with the secret "
				 "access key%s seen next to it (caller %s; the call shows in CloudTrail under this key)",
				 token ? " and session token" : "", arn[0] ? arn : "?");
		} else if (refused == k->ncand) {
			k->refused = 1;
			snprintf(detail, sizeof(detail), "not its secret: STS refused the signature of each of "
				 "the %zu 40-character strings seen next to it%s", k->ncand,
				 k->cand_overflow ? " (more were seen: not tried)" : "");
		} else {
			snprintf(detail, sizeof(detail), "not verified (%s %.200s): %s",
				 e.code[0] ? e.code : fb_strerror(rc), e.message,
				 token ? "the role's sessions are not revoked on an unverified credential"
				       : "treated as a usable credential");
		}
		/* a refused or unverified key is reported, not a failure of the containment */
		resp_step_end(&u->r, idx, rc == FB_OK || k->refused ? RESP_DONE : RESP_FAILED, detail, NULL);
		if (rc != FB_OK)
			resp_step_optional(&u->r, idx);
	}
}

static void after_last_used(struct lk_run *u, struct leak_key *k, struct kit_step *s)
{
	const cJSON *o = kit_out(s);
	const char *user = resp_get_str(o, "UserName");
	const char *when = resp_get_str(o, "AccessKeyLastUsed.LastUsedDate");
	const char *svc = resp_get_str(o, "AccessKeyLastUsed.ServiceName");
	const char *reg = resp_get_str(o, "AccessKeyLastUsed.Region");

	if (!user || !*user) {
		key_unread(u, k, s, "cannot find the key's user", "its owner could not be read");
		return;
	}
	buf_copy_str(k->user, sizeof(k->user), user);
	buf_copy_str(k->last_used, sizeof(k->last_used), when);
	buf_copy_str(k->last_service, sizeof(k->last_service), svc);
	buf_copy_str(k->last_region, sizeof(k->last_region), reg);
	kit_detail(s, "owned by IAM user %s; last used %s%s%s%s%s", user,
		   when && *when ? when : "never (or not recorded)", svc && *svc ? " by " : "",
		   svc && *svc ? svc : "", reg && *reg ? " in " : "", reg && *reg ? reg : "");
	if (!leak_key_usable(k)) {
		kit_set_optional(s);
		report_only_done(u, k, "owned by IAM user %s", user);
	}
}

static void after_update(struct lk_run *u, struct leak_key *k, struct kit_step *s)
{
	(void)u;
	if (kit_ok(s))
		kit_detail(s, "key set Inactive (not deleted)");
	k->done = 1;
}

static const struct key_op lk_key_account = { "key-account", AKEY_INFO, after_info };
static const struct key_op lk_key_owner = { "key-owner", AKEY_LAST_USED, after_last_used };
static const struct key_op lk_deactivate = { "deactivate-key", AKEY_DEACTIVATE, after_update };

static void after_list(struct lk_run *u, struct leak_key *k, struct kit_step *s)
{
	if (!kit_ok(s)) {
		k->done = 1;
		return;
	}
	buf_copy_str(k->status, sizeof(k->status), akey_status(kit_out(s), k->id));
	if (!k->status[0]) {
		kit_fail(s, "key not listed for its user");
		k->done = 1;
		return;
	}
	kit_detail(s, "%s", k->status);
	if (!strcmp(k->status, "Inactive")) {
		kit_note(&u->kit, "deactivate-key", "iam:UpdateAccessKey", k->id, RESP_WRITE, RESP_ALREADY, 0,
			 "key is already Inactive");
		k->done = 1;
	} else if (u->r.dry_run) {
		/* planned here, with its undo, where a real run decides it */
		struct kit_round *rd = kit_round_new(&u->kit);

		akey_add(rd, AKEY_DEACTIVATE, "deactivate-key", k->id, k->user, u->key_client[k - u->f.keys],
			 key_undo(u, k));
		kit_run(rd);
		kit_round_free(rd);
		k->done = 1;
	}
}

static const struct key_op lk_key_status = { "key-status", AKEY_LIST, after_list };

/*
 * A temporary (ASIA) key: nothing to deactivate; its role's older
 * sessions are revoked (kit_revoke_sessions: AWSRevokeOlderSessions), but
 * only when STS accepted a call signed with the id, secret and session
 * token seen together (verify_keys): a revocation cuts every session of
 * the role, every task and function that uses it until it refreshes its
 * credentials, so a line anyone can write (an id and 40 characters) must
 * not trigger it. Without a token in the event, or unverified: the old
 * "by hand" line (README "Access keys").
 */
static void revoke_role(struct lk_run *u, struct leak_key *k)
{
	struct aws_client *cl;
	struct arn a;

	k->done = 1;
	if (!k->role[0] || !arn_parse(k->role, &a) || !resp_account_id_ok(a.account)) {
		kit_note(&u->kit, "revoke-sessions", "iam:PutRolePolicy", k->id, RESP_WRITE, RESP_SKIPPED, 1, "%s",
			 k->refused ? "not revoked: STS refused the secret access key seen next to it"
				    : "not revoked: the credential could not be verified; revoke the role's active "
				      "sessions (iam:PutRolePolicy with aws:TokenIssueTime) by hand if it is live");
		return;
	}
	buf_copy_str(k->account, sizeof(k->account), a.account);
	cl = kit_client(&u->kit, a.account, NULL, "assume-role", NULL);
	if (cl)
		kit_revoke_sessions(&u->kit, &(struct kit_revoke){ .role_arn = k->role,
			.not_before_ms = u->r.received_ms, .client = cl });
}

static void act_keys(struct lk_run *u)
{
	size_t i, tlen;

	for (i = 0; i < u->f.nkeys; i++) {
		struct leak_key *k = &u->f.keys[i];

		if (!strncmp(k->id, "ASIA", 4) && !leak_key_usable(k)) {
			report_only_done(u, k, "temporary (STS) key id");
		} else if (!strncmp(k->id, "ASIA", 4) && !leak_session_token(&u->msgs, k->id, &tlen)) {
			kit_note(&u->kit, "deactivate-key", "iam:UpdateAccessKey", k->id, RESP_WRITE, RESP_SKIPPED, 1,
				 "temporary (STS) credentials cannot be deactivated: revoke the role's active "
				 "sessions (iam:PutRolePolicy with aws:TokenIssueTime) by hand");
			k->done = 1;
		}
	}
	verify_keys(u);
	for (i = 0; i < u->f.nkeys; i++)
		if (!strncmp(u->f.keys[i].id, "ASIA", 4) && !u->f.keys[i].done)
			revoke_role(u, &u->f.keys[i]);
	key_round(u, &lk_key_account);
	member_clients(u);
	key_round(u, &lk_key_owner);
	key_round(u, &lk_key_status);
	key_round(u, &lk_deactivate);
	cJSON_AddItemToObject(u->r.extra, "access_keys", leak_keys_json(u->f.keys, u->f.nkeys));
}

/* ---- the undo record ------------------------------------------------------------------------------------------- */

/*
 * restore.json in the evidence bucket (runtime/evidence: write-once,
 * SHA-256 manifest), after the writes, so that it holds every write's
 * undo as sent (each was in restore[] before its write: the report keeps
 * them if this fails). Every entry is marked "secret_public": what it
 * contained is a leaked credential, so firebreak-restore refuses it (a key
 * re-activated, AWSCURRENT moved back to the leaked value, a leaked
 * session's revocation lifted would each make the incident worse): the
 * record is for the auditor and for a human recovering from a broken
 * rotation. A failed write never undoes nor holds back a containment
 * (it is already done): the report says the record is incomplete. No
 * bucket: as before, and a warning that no undo record is kept.
 */
static void keep_record(struct lk_run *u)
{
	if (!evidence_restore_after(&u->kit, u->st->fn.aws, &u->st->fn.evcfg, u->ctx, "log_group",
				    u->group ? u->group : "manual", 1))
		kit_warn_to(u->warnings, "no evidence bucket configured (FIREBREAK_EVIDENCE_BUCKET): no undo "
			    "record is kept, restore[] is only in this report");
}

/* ---- the handler ------------------------------------------------------------------------------------------------ */

static void run_cleanup(struct lk_run *u)
{
	size_t i;

	resp_cleanup(&u->r);
	leak_batch_cleanup(&u->batch);
	buf_cjson_wipe(u->pages);   /* log text */
	cJSON_Delete(u->pages);
	buf_cjson_wipe(u->ev);
	cJSON_Delete(u->ev);
	kit_cleanup(&u->kit);
	for (i = 0; u->jobs && i < u->njobs; i++) {
		free(u->jobs[i].services);
		free(u->jobs[i].services_ignored);
		cJSON_Delete(u->jobs[i].tags);
	}
	free(u->jobs);
	leak_msgs_cleanup(&u->msgs);
	leak_findings_cleanup(&u->f);
	explicit_bzero(u, sizeof(*u));
	free(u);
}

static const char *const lk_form_name[] = {
	[LEAK_FORM_INVALID] = "invalid", [LEAK_FORM_AWSLOGS] = "awslogs", [LEAK_FORM_ALARM] = "alarm",
	[LEAK_FORM_MANUAL] = "manual", [LEAK_FORM_IGNORE] = "ignored",
};

/* The invocation once the event is known to be ours: report, messages,
 * scan, act, finish. */
static enum fb_err lk_respond(struct lk_run *u, enum leak_form form, struct lr_result *out)
{
	struct lk_state *st = u->st;
	const struct lr_context *ctx = u->ctx;
	size_t i, usable = 0;
	cJSON *src;
	enum fb_err rc = FB_OK;

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
		kit_warn_to(u->warnings, "more than %u log events: the rest was not scanned", LEAK_MAX_MESSAGES);
	rc = leak_findings_init(&u->f, st->watch.nsecrets, u->warnings);
	if (rc != FB_OK)
		return rc;
	leak_scan_messages(&st->watch, u->msgs.v, u->msgs.n, &u->f);
	src = cJSON_AddObjectToObject(u->r.extra, "source");
	kit_add_strs(src, "form", lk_form_name[form], "log_group", u->group ? u->group : "",
		     "log_stream", u->stream ? u->stream : "", KIT_END);
	cJSON_AddNumberToObject(src, "events", (double)u->msgs.n);
	cJSON_AddNumberToObject(src, "bytes", (double)u->msgs.bytes);
	if (u->f.cloudtrail_ids)
		kit_warn_to(u->warnings, "%zu CloudTrail records: the %zu access key ids in their accessKeyId "
			    "fields are the audit trail, not leaks (not acted on)", u->f.cloudtrail_records,
			    u->f.cloudtrail_ids);
	cJSON_AddNumberToObject(u->r.extra, "hits_total", (double)u->f.hits_total);
	cJSON_AddItemToObject(u->r.extra, "hits", u->f.hits);
	u->f.hits = NULL;
	if (!u->f.hits_total && !resp_failed(&u->r)) {
		/* the common case for a subscription: nothing leaked, nothing to
		 * publish (one log line, a small result) */
		return kit_quiet_result(out, LK_FN, "no leak", "%zu events, %zu bytes scanned, %zu watched "
					"values: no leak", u->msgs.n, u->msgs.bytes, st->watch.nvalues);
	}
	act_secrets(u);
	act_keys(u);
	cJSON_AddItemToObject(u->r.extra, "tokens", leak_tokens_json(u->f.tokens, u->f.ntokens, &st->watch));
	for (i = 0; i < u->f.nkeys; i++)
		usable += leak_key_usable(&u->f.keys[i]) != 0;
	if (!u->njobs && !usable) {
		/* nothing usable leaked: key ids alone and tokens are reported */
		resp_set_severity(&u->r, u->f.ntokens || u->f.nkeys ? "P2" : "P3");
		if (u->f.nkeys)
			resp_set_verdict(&u->r, "reported: access key ids without a secret access key, "
					 "nothing written");
	}
	keep_record(u);
	return kit_finish(&u->r, st->fn.aws, ctx, out);
}

/* One invocation as the frame holds it: the envelope, the run (its
 * report and kit are the run's) and the event's form. */
struct lk_call {
	const cJSON *root;          /* borrowed: u->ev, or st->no_envelope for a subscription delivery */
	struct lk_run *u;           /* owned: run_cleanup */
	enum leak_form form;
};

/* Size, UTF-8, control bytes, "\u0000", depth, trailing data, object: the
 * shared check. (The awslogs payload inside gets the same, with "\u0000" in
 * log text read as U+FFFD: see leak_batch_parse.) Then the event's form;
 * one to ignore is answered here (a quiet result, nothing opened). */
static enum fb_err lk_event_read(struct fn_call *c, const char *event, size_t len, char *why, size_t whylen)
{
	struct lk_call *e = c->ev;
	struct lk_state *st = c->st;
	struct lk_run *u;
	char lwhy[400] = "";

	u = e->u = calloc(1, sizeof(*u));
	if (!u)
		return FB_E_NOMEM;
	u->st = st;
	u->ctx = c->ctx;
	c->r = &u->r;
	c->k = &u->kit;
	e->form = resp_parse_event(event, len, RESP_MAX_EVENT_BYTES, &u->ev, lwhy, sizeof(lwhy)) == FB_OK
		? leak_classify(u->ev, &st->set, &u->batch, lwhy, sizeof(lwhy)) : LEAK_FORM_INVALID;
	snprintf(why, whylen, "%s", lwhy);
	if (e->form == LEAK_FORM_INVALID)
		return FB_E_INVALID;
	if (e->form == LEAK_FORM_IGNORE) {
		c->answered = 1;
		return kit_quiet_result(c->out, LK_FN, u->batch.message_type && !strcmp(u->batch.message_type,
					"CONTROL_MESSAGE") ? "control message" : "ignored", "%s", lwhy);
	}
	/* a subscription delivery has no envelope: its trigger is set from
	 * the batch (setup_awslogs), so the opening reads an empty one */
	e->root = e->form == LEAK_FORM_AWSLOGS ? st->no_envelope : u->ev;
	return FB_OK;
}

static void lk_event_free(void *ev)
{
	struct lk_call *e = ev;

	if (e->u)
		run_cleanup(e->u);
}

/* lk_respond answers itself: a quiet result when nothing leaked, else
 * kit_finish. */
static enum fb_err lk_run(struct fn_call *c)
{
	struct lk_call *e = c->ev;

	c->answered = 1;
	return lk_respond(e->u, e->form, c->out);
}

int main(void)
{
	return fn_main(&(struct fn_responder){ .function = LK_FN, .margin_ms = LK_FINISH_RESERVE_MS,
		.size = sizeof(struct lk_state), .settings = lk_settings, .cleanup = lk_settings_cleanup,
		.event_size = sizeof(struct lk_call), .event_root = offsetof(struct lk_call, root),
		.event_cleanup = lk_event_free, .parse = lk_event_read, .run = lk_run });
}
