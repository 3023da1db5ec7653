/*
 * leak-rotate: when a watched secret or an AWS access key shows up in a
 * log, rotate it and redeploy what uses it.
 *
 * Triggers (README.md): a CloudWatch Logs subscription delivery
 * {"awslogs":{"data":...}}, a "CloudWatch Alarm State Change" to ALARM for
 * the exposure alarm (FilterLogEvents over its window supplies the lines),
 * or the manual form {"logGroup","logStream","messages":[...]}.
 *
 * Pure stages live in awslogs.c (decode) and scan.c (match); this file is
 * the handler: load the watched values, scan, act, report.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <openssl/sha.h>

#include "aws.h"
#include "leak.h"
#include "log.h"
#include "lr.h"
#include "resp.h"

#define LK_FN "leak-rotate"
/* Kept back from the deadline for the report, SNS publish and response. */
#define LK_FINISH_RESERVE_MS 1500
/* Polling DescribeSecret while a rotation completes. */
#define LK_POLL_MS_DEFAULT 250
/* Independent calls per aws_call_run_all round. */
#define LK_BATCH 32
/* Bounds on what one invocation looks at and lists. */
#define LK_MAX_MESSAGES 20000u
#define LK_MAX_ALARM_PAGES 50
#define LK_MAX_ALARM_BYTES LEAK_MAX_INFLATED
#define LK_MAX_REPORT_HITS 100
#define LK_MAX_KEYS 50
#define LK_MAX_TOKENS 50
#define LK_MAX_SERVICES 20
#define LK_MAX_LIST_PAGES 20

/* ---- settings and state ------------------------------------------------------------ */

struct lk_list {
	char **v;
	size_t n;
};

struct lk_settings {
	struct lk_list watched;     /* FIREBREAK_WATCHED_SECRETS */
	int watch_tagged;           /* FIREBREAK_WATCH_TAGGED (default true) */
	int64_t ttl_ms;             /* FIREBREAK_SECRETS_TTL_SECONDS (300) */
	char *alarm_name;           /* FIREBREAK_LEAK_ALARM_NAME */
	struct lk_list log_groups;  /* FIREBREAK_LEAK_LOG_GROUPS */
	int64_t lookback_ms;        /* FIREBREAK_LEAK_LOOKBACK_SECONDS (900) */
	struct lk_list ignore;      /* FIREBREAK_LEAK_IGNORE_FIELDS */
	int64_t poll_ms;            /* FIREBREAK_ROTATION_POLL_MS (250) */
};

/* A watched secret as last loaded. */
struct lk_secret {
	char *arn, *name;           /* owned */
	char cur_version[80];
	char prev_version[80];
};

/* What a watched value is; its bytes live only in the automaton. */
struct lk_value {
	uint32_t secret;
	int previous;
	char field[64];
};

struct lk_state {
	struct resp_config cfg;
	struct lk_settings set;
	struct aws_client *aws;
	int64_t loaded_ms;          /* last complete load; 0 = load at next invoke */
	int64_t load_attempt_ms;
	struct leak_scanner sc;     /* watched values + detectors */
	struct lk_secret *secrets;
	size_t nsecrets;
	struct lk_value *values;
	size_t nvalues, capvalues;
	cJSON *load_errors;         /* array of strings from the last load */
};

/* One log line to scan (all borrowed, valid for the invocation). */
struct lk_msg {
	const char *group, *stream, *id;
	int64_t ts_ms;
	const char *text;
	size_t len;
};

/* A watched secret seen in this batch, and what happened to it. */
enum lk_job_state { JOB_NEW, JOB_FAILED, JOB_STOP, JOB_ROTATE, JOB_WAIT, JOB_CURRENT };

struct lk_job {
	uint32_t secret;
	size_t cur_hits, prev_hits;
	enum lk_job_state state;
	int exempt;
	char *services;             /* owned: the firebreak:ecs-services tag */
	char wait_version[80];
	char old_version[80];       /* AWSCURRENT when we decided */
	double rotated_at;          /* LastRotatedDate once current, epoch s */
	int rotate_idx, wait_idx, polls;
};

struct lk_key {
	char id[21];
	size_t hits;
	int near_secret;
	char account[16];
	char user[130];
	char status[16];
	int done;                   /* decided (skipped, failed, already, acted) */
};

struct lk_token {
	enum leak_kind kind;
	char fp[RESP_FP_LEN];
	size_t hits;
	long secret;                /* watched secret it belongs to, -1 */
};

struct lk_run {
	struct lk_state *st;
	const struct lr_context *ctx;
	struct resp r;
	cJSON *ev;                  /* owned */
	struct leak_batch batch;    /* owned (awslogs form) */
	cJSON *pages;               /* owned: FilterLogEvents answers (alarm form) */
	struct lk_msg *msgs;        /* owned array */
	size_t nmsgs, capmsgs, bytes;
	const char *group, *stream; /* for the report */
	cJSON *hits_json, *warnings; /* borrowed from r.extra */
	size_t hits_total;
	size_t *cur_hits, *prev_hits; /* per watched secret */
	struct lk_key keys[LK_MAX_KEYS];
	size_t nkeys;
	struct lk_token tokens[LK_MAX_TOKENS];
	size_t ntokens;
	struct lk_job *jobs;
	size_t njobs;
};

/* ---- small helpers ---------------------------------------------------------------------- */

static char *lk_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void lk_copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

static void list_free(struct lk_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* "a, b,,c" -> {"a","b","c"} */
static enum fb_err list_parse(const char *s, struct lk_list *l)
{
	const char *p = s;

	memset(l, 0, sizeof(*l));
	while (p && *p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		const char *a = p;
		char **nv;

		while (n && (*a == ' ' || *a == '\t')) {
			a++;
			n--;
		}
		while (n && (a[n - 1] == ' ' || a[n - 1] == '\t'))
			n--;
		if (n) {
			nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
			if (!nv)
				return FB_E_NOMEM;
			l->v = nv;
			l->v[l->n] = strndup(a, n);
			if (!l->v[l->n])
				return FB_E_NOMEM;
			l->n++;
		}
		p = e ? e + 1 : NULL;
	}
	return FB_OK;
}

static int env_bool(const char *name, int dflt)
{
	const char *v = getenv(name);

	if (!v || !*v)
		return dflt;
	return !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes");
}

static enum fb_err env_int(const char *name, int64_t dflt, int64_t lo, int64_t hi, int64_t *out,
			   char *err, size_t errlen)
{
	const char *v = getenv(name);
	char *end;
	long long x;

	*out = dflt;
	if (!v || !*v)
		return FB_OK;
	errno = 0;
	x = strtoll(v, &end, 10);
	if (errno || *end || x < lo || x > hi) {
		snprintf(err, errlen, "setting '%s' must be an integer in %lld..%lld", name,
			 (long long)lo, (long long)hi);
		return FB_E_CONFIG;
	}
	*out = x;
	return FB_OK;
}

static void settings_cleanup(struct lk_settings *s)
{
	list_free(&s->watched);
	list_free(&s->log_groups);
	list_free(&s->ignore);
	free(s->alarm_name);
	memset(s, 0, sizeof(*s));
}

/* RDS-style secrets carry connection facts next to the password; a host
 * name in a log is not a leak. */
#define LK_IGNORE_DEFAULT "host,port,engine,dbname,username,dbInstanceIdentifier,dbClusterIdentifier"

static enum fb_err settings_from_env(struct lk_settings *s, char *err, size_t errlen)
{
	const char *ign = getenv("FIREBREAK_LEAK_IGNORE_FIELDS");
	enum fb_err rc;
	int64_t ttl_s = 300, lb_s = 900;

	memset(s, 0, sizeof(*s));
	rc = list_parse(getenv("FIREBREAK_WATCHED_SECRETS"), &s->watched);
	if (rc == FB_OK)
		rc = list_parse(getenv("FIREBREAK_LEAK_LOG_GROUPS"), &s->log_groups);
	if (rc == FB_OK)
		rc = list_parse(ign ? ign : LK_IGNORE_DEFAULT, &s->ignore);
	if (rc != FB_OK) {
		snprintf(err, errlen, "out of memory reading settings");
		return rc;
	}
	s->watch_tagged = env_bool("FIREBREAK_WATCH_TAGGED", 1);
	if (getenv("FIREBREAK_LEAK_ALARM_NAME") && *getenv("FIREBREAK_LEAK_ALARM_NAME"))
		s->alarm_name = lk_strdup(getenv("FIREBREAK_LEAK_ALARM_NAME"));
	rc = env_int("FIREBREAK_SECRETS_TTL_SECONDS", 300, 0, 86400, &ttl_s, err, errlen);
	if (rc == FB_OK)
		rc = env_int("FIREBREAK_LEAK_LOOKBACK_SECONDS", 900, 60, 86400, &lb_s, err, errlen);
	if (rc == FB_OK)
		rc = env_int("FIREBREAK_ROTATION_POLL_MS", LK_POLL_MS_DEFAULT, 10, 5000, &s->poll_ms,
			     err, errlen);
	s->ttl_ms = ttl_s * 1000;
	s->lookback_ms = lb_s * 1000;
	return rc;
}

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

/* A query answer field: out["<Op>Result"][field]. */
static const char *q_str(const cJSON *out, const char *op, const char *field)
{
	char path[160];
	const char *v;

	snprintf(path, sizeof(path), "%sResult.%s", op, field);
	v = resp_get_str(out, path);
	if (!v) {
		snprintf(path, sizeof(path), "%sResponse.%sResult.%s", op, op, field);
		v = resp_get_str(out, path);
	}
	return v;
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

static void warn(struct lk_run *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct lk_run *u, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (u->warnings)
		cJSON_AddItemToArray(u->warnings, cJSON_CreateString(msg));
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

/* ---- init ----------------------------------------------------------------------------------- */

static void state_values_free(struct lk_state *st)
{
	size_t i;

	leak_scanner_cleanup(&st->sc);
	for (i = 0; i < st->nsecrets; i++) {
		free(st->secrets[i].arn);
		free(st->secrets[i].name);
	}
	free(st->secrets);
	free(st->values);
	st->secrets = NULL;
	st->values = NULL;
	st->nsecrets = st->nvalues = st->capvalues = 0;
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
		rc = settings_from_env(&st->set, err, errlen);
	if (rc == FB_OK)
		rc = aws_client_new(&st->aws, NULL, err, errlen);
	if (rc == FB_OK) {
		/* until the first load: detectors only */
		rc = leak_scanner_init(&st->sc);
		if (rc == FB_OK)
			rc = leak_scanner_build(&st->sc);
		if (rc != FB_OK)
			snprintf(err, errlen, "cannot build the scanner: %s", fb_strerror(rc));
	}
	st->load_errors = cJSON_CreateArray();
	if (rc == FB_OK && !st->load_errors)
		rc = FB_E_NOMEM;
	if (rc != FB_OK) {
		state_values_free(st);
		settings_cleanup(&st->set);
		resp_config_cleanup(&st->cfg);
		aws_client_free(st->aws);
		cJSON_Delete(st->load_errors);
		free(st);
		return rc;
	}
	*state = st;
	return FB_OK;
}

/* ---- loading the watched values --------------------------------------------------------------- */

struct load_ctx {
	struct lk_state *st;
	struct leak_scanner *sc;
	struct lk_value **values;
	size_t *nvalues, *capvalues;
	uint32_t secret;
	int previous;
};

static int ignored_field(const struct lk_settings *s, const char *field)
{
	size_t i;

	for (i = 0; field && i < s->ignore.n; i++)
		if (!strcasecmp(field, s->ignore.v[i]))
			return 1;
	return 0;
}

static enum fb_err add_value(void *ud, const char *v, size_t n, const char *field)
{
	struct load_ctx *l = ud;
	struct lk_value *nv;
	enum fb_err rc;

	if (ignored_field(&l->st->set, field))
		return FB_OK;
	if (*l->nvalues == *l->capvalues) {
		size_t cap = *l->capvalues ? *l->capvalues * 2 : 32;

		nv = realloc(*l->values, cap * sizeof(*nv));
		if (!nv)
			return FB_E_NOMEM;
		*l->values = nv;
		*l->capvalues = cap;
	}
	rc = leak_scanner_add_value(l->sc, v, n, (uint32_t)*l->nvalues);
	if (rc != FB_OK)
		return rc;
	nv = &(*l->values)[*l->nvalues];
	memset(nv, 0, sizeof(*nv));
	nv->secret = l->secret;
	nv->previous = l->previous;
	lk_copy(nv->field, sizeof(nv->field), field ? field : "");
	(*l->nvalues)++;
	return FB_OK;
}

static int tag_is(const cJSON *tags, const char *key, const char *val)
{
	const cJSON *t;

	cJSON_ArrayForEach(t, tags) {
		const char *k = resp_get_str(t, "Key"), *v = resp_get_str(t, "Value");

		if (k && v && !strcmp(k, key) && !strcasecmp(v, val))
			return 1;
	}
	return 0;
}

static const char *tag_value(const cJSON *tags, const char *key)
{
	const cJSON *t;

	cJSON_ArrayForEach(t, tags) {
		const char *k = resp_get_str(t, "Key");

		if (k && !strcmp(k, key))
			return resp_get_str(t, "Value");
	}
	return NULL;
}

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

/* ListSecrets by tag firebreak:watch=true (both filters; the answer's tags
 * are checked again because the two filters match independently). */
static enum fb_err list_tagged(struct lk_state *st, struct lk_list *ids)
{
	char token[2048] = "";
	int page;

	for (page = 0; page < LK_MAX_LIST_PAGES; page++) {
		cJSON *in = cJSON_CreateObject(), *f, *fi, *out = NULL;
		const cJSON *s;
		struct aws_error err;
		const char *next;
		enum fb_err rc;

		if (!in)
			return FB_E_NOMEM;
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

			if (!arn || !tag_is(cJSON_GetObjectItemCaseSensitive(s, "Tags"), "firebreak:watch", "true"))
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
		lk_copy(token, sizeof(token), next);
		cJSON_Delete(out);
		if (!next || !*next)
			return FB_OK;
	}
	load_error(st, "secretsmanager:ListSecrets: more than %d pages; the rest is not watched",
		   LK_MAX_LIST_PAGES);
	return FB_OK;
}

/* Loads every watched secret's AWSCURRENT and AWSPREVIOUS values (all
 * GetSecretValue calls concurrently) into a fresh automaton. On any error
 * what could be loaded is used, and the next invoke loads again. */
static enum fb_err load_secrets(struct lk_state *st, int64_t now_ms)
{
	struct lk_list ids = { 0 };
	struct aws_call *calls = NULL;
	cJSON **ins = NULL;
	struct leak_scanner sc;
	struct lk_secret *secrets = NULL;
	struct lk_value *values = NULL;
	size_t nsecrets = 0, nvalues = 0, capvalues = 0, i, j, n;
	int errors = 0;
	enum fb_err rc;

	cJSON_Delete(st->load_errors);
	st->load_errors = cJSON_CreateArray();
	st->load_attempt_ms = now_ms;
	rc = leak_scanner_init(&sc);
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
	secrets = calloc(ids.n ? ids.n : 1, sizeof(*secrets));
	if (!calls || !ins || !secrets) {
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
		struct aws_call *cur = &calls[2 * i], *prev = &calls[2 * i + 1];
		const char *arn = resp_get_str(cur->out, "ARN");
		struct load_ctx l = { st, &sc, &values, &nvalues, &capvalues, 0, 0 };
		size_t count = 0;
		int dup = 0;

		if (cur->rc != FB_OK || !arn) {
			load_error(st, "cannot read watched secret '%s': %s %s", ids.v[i],
				   cur->err.code[0] ? cur->err.code : fb_strerror(cur->rc), cur->err.message);
			errors++;
			continue;
		}
		for (j = 0; j < nsecrets; j++)
			dup |= !strcmp(secrets[j].arn, arn);
		if (dup)
			continue;
		secrets[nsecrets].arn = strdup(arn);
		secrets[nsecrets].name = lk_strdup(resp_get_str(cur->out, "Name"));
		lk_copy(secrets[nsecrets].cur_version, sizeof(secrets[nsecrets].cur_version),
			resp_get_str(cur->out, "VersionId"));
		l.secret = (uint32_t)nsecrets;
		if (!resp_get_str(cur->out, "SecretString")) {
			load_error(st, "watched secret '%s' is binary: not scanned for", arn);
		} else {
			const char *v = resp_get_str(cur->out, "SecretString");

			rc = leak_secret_values(v, strlen(v), add_value, &l, &count);
			if (rc != FB_OK)
				goto out;
			if (!count)
				load_error(st, "watched secret '%s' has no value of %u+ characters to watch",
					   arn, LEAK_MIN_SECRET);
		}
		if (prev->rc == FB_OK && resp_get_str(prev->out, "SecretString")) {
			const char *v = resp_get_str(prev->out, "SecretString");

			l.previous = 1;
			lk_copy(secrets[nsecrets].prev_version, sizeof(secrets[nsecrets].prev_version),
				resp_get_str(prev->out, "VersionId"));
			rc = leak_secret_values(v, strlen(v), add_value, &l, &count);
			if (rc != FB_OK)
				goto out;
		} else if (prev->rc != FB_OK && !call_code(prev, "ResourceNotFoundException")) {
			load_error(st, "cannot read AWSPREVIOUS of '%s': %s", arn, prev->err.code);
		}
		nsecrets++;
	}
	rc = leak_scanner_build(&sc);
	if (rc != FB_OK) {
		load_error(st, "cannot build the scanner: %s", fb_strerror(rc));
		goto out;
	}
	/* swap in */
	state_values_free(st);
	st->sc = sc;
	memset(&sc, 0, sizeof(sc));
	st->secrets = secrets;
	st->nsecrets = nsecrets;
	st->values = values;
	st->nvalues = nvalues;
	st->capvalues = capvalues;
	secrets = NULL;
	values = NULL;
	nsecrets = 0;
	st->loaded_ms = errors ? 0 : now_ms;
	rc = errors ? FB_E_AWS : FB_OK;
out:
	for (i = 0; calls && i < n; i++) {
		leak_cjson_wipe(calls[i].out); /* SecretString */
		aws_call_cleanup(&calls[i]);
		cJSON_Delete(ins[i]);
	}
	free(calls);
	free(ins);
	for (i = 0; secrets && i < nsecrets; i++) {
		free(secrets[i].arn);
		free(secrets[i].name);
	}
	free(secrets);
	free(values);
	leak_scanner_cleanup(&sc);
	list_free(&ids);
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
			 st->nsecrets, st->nvalues);
		if (rc == FB_OK) {
			resp_step_end(&u->r, i, RESP_DONE, detail, NULL);
		} else {
			resp_step_end(&u->r, i, RESP_FAILED, detail, NULL);
			/* partial loads still scan; nothing loaded at all while
			 * secrets are configured means we cannot tell: an error */
			if (st->nsecrets)
				resp_step_optional(&u->r, i);
		}
	}
	w = cJSON_AddObjectToObject(u->r.extra, "watch");
	if (w) {
		char iso[RESP_TIME_LEN];

		cJSON_AddNumberToObject(w, "secrets", (double)st->nsecrets);
		cJSON_AddNumberToObject(w, "values", (double)st->nvalues);
		cJSON_AddNumberToObject(w, "automaton_states", (double)leak_ac_states(st->sc.ac));
		resp_format_time_ms(st->loaded_ms ? st->loaded_ms : st->load_attempt_ms, iso);
		cJSON_AddStringToObject(w, "loaded", (st->loaded_ms || st->load_attempt_ms) ? iso : "never");
		cJSON_AddItemToObject(w, "errors", cJSON_Duplicate(st->load_errors, 1));
	}
}

/* ---- event forms ------------------------------------------------------------------------------- */

static enum fb_err msg_add(struct lk_run *u, const char *group, const char *stream, const char *id,
			   int64_t ts, const char *text)
{
	struct lk_msg *m;

	if (u->nmsgs == u->capmsgs) {
		size_t cap = u->capmsgs ? u->capmsgs * 2 : 64;

		if (cap > LK_MAX_MESSAGES)
			cap = LK_MAX_MESSAGES;
		if (u->nmsgs >= cap)
			return FB_E_TOO_LARGE;
		m = realloc(u->msgs, cap * sizeof(*m));
		if (!m)
			return FB_E_NOMEM;
		u->msgs = m;
		u->capmsgs = cap;
	}
	m = &u->msgs[u->nmsgs++];
	m->group = group ? group : "";
	m->stream = stream ? stream : "";
	m->id = id ? id : "";
	m->ts_ms = ts;
	m->text = text;
	m->len = strlen(text);
	u->bytes += m->len;
	return FB_OK;
}

enum lk_form { FORM_INVALID, FORM_AWSLOGS, FORM_ALARM, FORM_MANUAL, FORM_IGNORE };

/* Decides the form and validates it without any AWS call. For awslogs the
 * payload is decoded into u->batch here (bad data is an invalid event). */
static enum lk_form classify(struct lk_run *u, char *why, size_t whylen)
{
	const cJSON *ev = u->ev, *aw, *data, *msgs, *m;
	const char *dtype, *src;

	if (!cJSON_IsObject(ev)) {
		snprintf(why, whylen, "event is not a JSON object");
		return FORM_INVALID;
	}
	aw = cJSON_GetObjectItemCaseSensitive(ev, "awslogs");
	if (aw) {
		struct buf json;
		enum fb_err rc;

		data = cJSON_GetObjectItemCaseSensitive(aw, "data");
		if (!cJSON_IsString(data) || !data->valuestring) {
			snprintf(why, whylen, "field 'awslogs.data' missing or not a string");
			return FORM_INVALID;
		}
		rc = leak_awslogs_decode(data->valuestring, strlen(data->valuestring), &json, why, whylen);
		if (rc != FB_OK)
			return FORM_INVALID;
		rc = leak_batch_parse(json.data, json.len, &u->batch, why, whylen);
		explicit_bzero(json.data, json.len);
		buf_cleanup(&json);
		if (rc != FB_OK)
			return FORM_INVALID;
		if (!strcmp(u->batch.message_type, "CONTROL_MESSAGE"))
			return FORM_IGNORE;
		if (strcmp(u->batch.message_type, "DATA_MESSAGE")) {
			snprintf(why, whylen, "unknown messageType in awslogs payload");
			return FORM_INVALID;
		}
		return FORM_AWSLOGS;
	}
	dtype = resp_get_str(ev, "detail-type");
	src = resp_get_str(ev, "source");
	if (dtype || src) {
		const char *name = resp_get_str(ev, "detail.alarmName");
		const char *state = resp_get_str(ev, "detail.state.value");

		if (!dtype || !src || strcmp(dtype, "CloudWatch Alarm State Change") ||
		    strcmp(src, "aws.cloudwatch")) {
			snprintf(why, whylen, "unsupported event: expected a CloudWatch Alarm State Change");
			return FORM_INVALID;
		}
		if (!name || !state) {
			snprintf(why, whylen, "alarm event lacks 'detail.alarmName' or 'detail.state.value'");
			return FORM_INVALID;
		}
		if (!u->st->set.alarm_name || strcmp(name, u->st->set.alarm_name)) {
			snprintf(why, whylen, "alarm '%.200s' is not FIREBREAK_LEAK_ALARM_NAME", name);
			return FORM_IGNORE;
		}
		if (strcmp(state, "ALARM")) {
			snprintf(why, whylen, "alarm state is %.20s, not ALARM", state);
			return FORM_IGNORE;
		}
		if (!u->st->set.log_groups.n) {
			snprintf(why, whylen, "FIREBREAK_LEAK_LOG_GROUPS is not set: no log group to read");
			return FORM_INVALID;
		}
		return FORM_ALARM;
	}
	msgs = cJSON_GetObjectItemCaseSensitive(ev, "messages");
	if (!msgs) {
		snprintf(why, whylen, "expected 'awslogs', an alarm event, or a manual 'messages' array");
		return FORM_INVALID;
	}
	if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) > (int)LK_MAX_MESSAGES) {
		snprintf(why, whylen, "field 'messages' must be an array of at most %u strings",
			 LK_MAX_MESSAGES);
		return FORM_INVALID;
	}
	cJSON_ArrayForEach(m, msgs) {
		if (!cJSON_IsString(m) || !m->valuestring) {
			snprintf(why, whylen, "field 'messages' must hold only strings");
			return FORM_INVALID;
		}
	}
	if ((cJSON_GetObjectItemCaseSensitive(ev, "logGroup") && !resp_get_str(ev, "logGroup")) ||
	    (cJSON_GetObjectItemCaseSensitive(ev, "logStream") && !resp_get_str(ev, "logStream"))) {
		snprintf(why, whylen, "fields 'logGroup' and 'logStream' must be strings");
		return FORM_INVALID;
	}
	/* Both name the source in the report (and the SNS message). */
	if ((resp_get_str(ev, "logGroup") && !leak_log_group_ok(resp_get_str(ev, "logGroup"))) ||
	    (resp_get_str(ev, "logStream") && !leak_log_stream_ok(resp_get_str(ev, "logStream")))) {
		snprintf(why, whylen, "fields 'logGroup' and 'logStream' must be CloudWatch Logs names");
		return FORM_INVALID;
	}
	return FORM_MANUAL;
}

static void trigger_put(struct lk_run *u, const char *key, const char *val)
{
	cJSON_DeleteItemFromObjectCaseSensitive(u->r.trigger, key);
	cJSON_AddItemToObject(u->r.trigger, key, val ? cJSON_CreateString(val) : cJSON_CreateNull());
}

static enum fb_err setup_awslogs(struct lk_run *u)
{
	struct leak_batch *b = &u->batch;
	char key[1200], arn[700];
	const char *region = aws_client_region(u->st->aws);
	size_t i;
	enum fb_err rc;

	/* a retried delivery carries the same batch: same incident */
	snprintf(key, sizeof(key), "awslogs:%s:%.300s:%.300s:%.100s:%.100s:%zu", b->owner,
		 b->log_group, b->log_stream, b->nevents ? b->events[0].id : "",
		 b->nevents ? b->events[b->nevents - 1].id : "", b->nevents);
	resp_set_incident(&u->r, key);
	trigger_put(u, "event_id", key + 8);
	trigger_put(u, "source", "aws.logs");
	trigger_put(u, "detail_type", "CloudWatch Logs subscription");
	if (b->nevents) {
		char iso[RESP_TIME_LEN];

		resp_format_time_ms(b->events[0].timestamp_ms, iso);
		trigger_put(u, "event_time", iso);
		u->r.event_time_ms = b->events[0].timestamp_ms;
	}
	snprintf(arn, sizeof(arn), "arn:%s:logs:%s:%s:log-group:%s", aws_client_partition(u->st->aws),
		 region ? region : "", b->owner, b->log_group);
	resp_set_resource(&u->r, arn, *b->owner ? b->owner : NULL, region);
	u->group = b->log_group;
	u->stream = b->log_stream;
	for (i = 0; i < b->nevents; i++) {
		rc = msg_add(u, b->log_group, b->log_stream, b->events[i].id, b->events[i].timestamp_ms,
			     b->events[i].message);
		if (rc != FB_OK)
			return rc;
	}
	return FB_OK;
}

static enum fb_err setup_manual(struct lk_run *u)
{
	const cJSON *m;
	const char *g = resp_get_str(u->ev, "logGroup"), *s = resp_get_str(u->ev, "logStream");
	char id[32];
	int i = 0;
	enum fb_err rc;

	u->group = g ? g : "manual";
	u->stream = s ? s : "manual";
	/* the ids must outlive this function: keep them in the event tree */
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(u->ev, "messages")) {
		cJSON *ids = cJSON_GetObjectItemCaseSensitive(u->ev, "_lk_ids");

		if (!ids)
			ids = cJSON_AddArrayToObject(u->ev, "_lk_ids");
		snprintf(id, sizeof(id), "manual-%d", i++);
		cJSON_AddItemToArray(ids, cJSON_CreateString(id));
		rc = msg_add(u, u->group, u->stream,
			     cJSON_GetArrayItem(ids, cJSON_GetArraySize(ids) - 1)->valuestring,
			     lr_now_ms(), m->valuestring);
		if (rc != FB_OK)
			return rc;
	}
	resp_set_resource(&u->r, NULL, NULL, aws_client_region(u->st->aws));
	return FB_OK;
}

/* The alarm's window: the lookback before the alarm, or from the first
 * datapoint the alarm evaluated (reasonData.startDate) if earlier. */
static void alarm_window(struct lk_run *u, int64_t *start, int64_t *end)
{
	const char *rd = resp_get_str(u->ev, "detail.state.reasonData");
	const char *ts = resp_get_str(u->ev, "detail.state.timestamp");
	int64_t t = u->r.event_time_ms;

	if (!t && ts)
		t = resp_parse_time_ms(ts);
	if (!t)
		t = lr_now_ms();
	*end = t + 60000;
	*start = t - u->st->set.lookback_ms;
	if (rd) {
		cJSON *j = cJSON_Parse(rd);
		const char *sd = resp_get_str(j, "startDate");
		int64_t s = sd ? resp_parse_time_ms(sd) : 0;

		if (s && s - 60000 < *start)
			*start = s - 60000;
		cJSON_Delete(j);
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
	alarm_window(u, &start, &end);
	idx = resp_step_begin(&u->r, "read-alarm-window", "logs:FilterLogEvents", st->set.log_groups.v[0],
			      RESP_READ);
	if (!tokens || !done || !u->pages) {
		resp_step_end(&u->r, idx, RESP_FAILED, "out of memory", NULL);
		goto out;
	}
	for (page = 0; page < LK_MAX_ALARM_PAGES && active; page++) {
		struct aws_call calls[LK_BATCH];
		cJSON *ins[LK_BATCH];
		size_t map[LK_BATCH], n = 0, k;

		for (i = 0; i < ng && n < LK_BATCH; i++) {
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
				warn(u, "logs:FilterLogEvents on '%s' failed: %s %s", g, calls[k].err.code,
				     calls[k].err.message);
				resp_step_end(&u->r, idx, RESP_FAILED, "cannot read a watched log group",
					      &calls[k].err);
				done[map[k]] = 1;
				active--;
				aws_call_cleanup(&calls[k]);
				continue;
			}
			pages++;
			cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(calls[k].out, "events")) {
				const char *msg = resp_get_str(e, "message");
				const cJSON *ts = cJSON_GetObjectItemCaseSensitive(e, "timestamp");

				if (!msg || u->bytes + strlen(msg) > LK_MAX_ALARM_BYTES)
					continue;
				if (msg_add(u, g, resp_get_str(e, "logStreamName"), resp_get_str(e, "eventId"),
					    /* fuzz: range-checked, (int64_t) of an out-of-range double is UB */
					    (cJSON_IsNumber(ts) && ts->valuedouble > -9.2e18 &&
					     ts->valuedouble < 9.2e18) ? (int64_t)ts->valuedouble : 0,
					    msg) != FB_OK)
					break;
				events++;
			}
			next = resp_get_str(calls[k].out, "nextToken");
			free(tokens[map[k]]);
			tokens[map[k]] = next && *next ? strdup(next) : NULL;
			if (!tokens[map[k]]) {
				done[map[k]] = 1;
				active--;
			}
			/* the messages point into this answer: keep it */
			cJSON_AddItemToArray(u->pages, calls[k].out);
			calls[k].out = NULL;
			aws_call_cleanup(&calls[k]);
		}
	}
	if (active)
		warn(u, "more than %d pages of log events in the alarm window: the rest was not scanned",
		     LK_MAX_ALARM_PAGES);
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

/* ---- scanning ------------------------------------------------------------------------------------ */

static struct lk_key *key_slot(struct lk_run *u, const char *id)
{
	size_t i;

	for (i = 0; i < u->nkeys; i++)
		if (!strcmp(u->keys[i].id, id))
			return &u->keys[i];
	if (u->nkeys == LK_MAX_KEYS)
		return NULL;
	memset(&u->keys[u->nkeys], 0, sizeof(u->keys[0]));
	lk_copy(u->keys[u->nkeys].id, sizeof(u->keys[0].id), id);
	return &u->keys[u->nkeys++];
}

static struct lk_token *token_slot(struct lk_run *u, enum leak_kind k, const char *fp)
{
	size_t i;

	for (i = 0; i < u->ntokens; i++)
		if (u->tokens[i].kind == k && !strcmp(u->tokens[i].fp, fp))
			return &u->tokens[i];
	if (u->ntokens == LK_MAX_TOKENS)
		return NULL;
	memset(&u->tokens[u->ntokens], 0, sizeof(u->tokens[0]));
	u->tokens[u->ntokens].kind = k;
	u->tokens[u->ntokens].secret = -1;
	lk_copy(u->tokens[u->ntokens].fp, sizeof(u->tokens[0].fp), fp);
	return &u->tokens[u->ntokens++];
}

/* The watched secret a hit lies inside, -1. */
static long inside_secret(const struct lk_state *st, const struct leak_hit *hits, size_t n,
			  const struct leak_hit *h)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (hits[i].kind == LEAK_SECRET && h->off >= hits[i].off &&
		    h->off + h->len <= hits[i].off + hits[i].len)
			return (long)st->values[hits[i].value].secret;
	return -1;
}

static void report_hit(struct lk_run *u, const struct lk_msg *m, const struct leak_hit *hits,
		       size_t n, size_t which)
{
	const struct lk_state *st = u->st;
	const struct leak_hit *h = &hits[which];
	char fp[RESP_FP_LEN], iso[RESP_TIME_LEN];
	struct buf ex;
	cJSON *o;

	u->hits_total++;
	if (cJSON_GetArraySize(u->hits_json) >= LK_MAX_REPORT_HITS)
		return;
	o = cJSON_CreateObject();
	if (!o)
		return;
	resp_fingerprint(m->text + h->off, h->len, fp);
	cJSON_AddStringToObject(o, "kind", leak_kind_name(h->kind));
	cJSON_AddStringToObject(o, "fingerprint", fp);
	if (h->kind == LEAK_SECRET) {
		const struct lk_value *v = &st->values[h->value];

		cJSON_AddStringToObject(o, "secret", st->secrets[v->secret].arn);
		cJSON_AddStringToObject(o, "version", v->previous ? "AWSPREVIOUS" : "AWSCURRENT");
		if (v->field[0])
			cJSON_AddStringToObject(o, "field", v->field);
	}
	if (h->kind == LEAK_AWS_KEY_ID) {
		char id[21];

		lk_copy(id, sizeof(id), "");
		memcpy(id, m->text + h->off, 20);
		id[20] = '\0';
		cJSON_AddStringToObject(o, "access_key_id", id);
		cJSON_AddBoolToObject(o, "secret_key_nearby", h->near_secret);
	}
	cJSON_AddStringToObject(o, "log_group", m->group);
	cJSON_AddStringToObject(o, "log_stream", m->stream);
	cJSON_AddStringToObject(o, "event_id", m->id);
	resp_format_time_ms(m->ts_ms, iso);
	cJSON_AddStringToObject(o, "time", m->ts_ms ? iso : "");
	buf_init(&ex, 4096);
	if (leak_excerpt(m->text, m->len, hits, n, which, &ex) == FB_OK)
		cJSON_AddStringToObject(o, "excerpt", ex.data ? ex.data : "");
	buf_cleanup(&ex);
	cJSON_AddItemToArray(u->hits_json, o);
}

static void scan_all(struct lk_run *u)
{
	struct lk_state *st = u->st;
	struct leak_hit hits[LEAK_MAX_HITS_PER_MESSAGE];
	size_t i, j;

	u->cur_hits = calloc(st->nsecrets ? st->nsecrets : 1, sizeof(size_t));
	u->prev_hits = calloc(st->nsecrets ? st->nsecrets : 1, sizeof(size_t));
	if (!u->cur_hits || !u->prev_hits)
		return;
	for (i = 0; i < u->nmsgs; i++) {
		const struct lk_msg *m = &u->msgs[i];
		size_t n = leak_scan(&st->sc, m->text, m->len, hits, LEAK_MAX_HITS_PER_MESSAGE);

		if (n == LEAK_MAX_HITS_PER_MESSAGE)
			warn(u, "event '%s' has %u+ hits: the rest of it was not looked at", m->id,
			     LEAK_MAX_HITS_PER_MESSAGE);
		for (j = 0; j < n; j++) {
			const struct leak_hit *h = &hits[j];
			char fp[RESP_FP_LEN];

			report_hit(u, m, hits, n, j);
			if (h->kind == LEAK_SECRET) {
				const struct lk_value *v = &st->values[h->value];

				if (v->previous)
					u->prev_hits[v->secret]++;
				else
					u->cur_hits[v->secret]++;
			} else if (h->kind == LEAK_AWS_KEY_ID) {
				char id[21];
				struct lk_key *k;

				memcpy(id, m->text + h->off, 20);
				id[20] = '\0';
				k = key_slot(u, id);
				if (!k) {
					warn(u, "more than %d access key ids: the rest is reported only",
					     LK_MAX_KEYS);
					continue;
				}
				k->hits++;
				k->near_secret |= h->near_secret;
			} else if (h->kind != LEAK_AWS_SECRET) {
				struct lk_token *t;

				resp_fingerprint(m->text + h->off, h->len, fp);
				t = token_slot(u, h->kind, fp);
				if (t) {
					t->hits++;
					if (t->secret < 0)
						t->secret = inside_secret(st, hits, n, h);
				}
			}
		}
	}
}

/* ---- secrets: rotate, wait, redeploy ----------------------------------------------------------------- */

/* A ClientRequestToken (32-64 chars, UUID form) from the incident, the
 * secret and the version being replaced: a retried invoke sends the same
 * token, so Secrets Manager does not create a second version. */
static void rotation_token(const char *incident, const char *arn, const char *old_version,
			   char out[37])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	static const char hex[] = "0123456789abcdef";
	char seed[3000];
	size_t i, k = 0;
	int n = snprintf(seed, sizeof(seed), "%s|%s|%s", incident, arn, old_version);

	SHA256((const unsigned char *)seed, n < 0 ? 0 : (size_t)n < sizeof(seed) ? (size_t)n : sizeof(seed) - 1, md);
	md[6] = (unsigned char)((md[6] & 0x0f) | 0x50); /* name-based UUID shape (v5-like) */
	md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[k++] = '-';
		out[k++] = hex[md[i] >> 4];
		out[k++] = hex[md[i] & 15];
	}
	out[k] = '\0';
}

/* VersionIdsToStages: the version holding `stage`, and whether a pending
 * version exists that is not current. */
static const char *version_with(const cJSON *v2s, const char *stage, const char *unless)
{
	const cJSON *v, *s;

	cJSON_ArrayForEach(v, v2s) {
		int has = 0, hasnot = 0;

		cJSON_ArrayForEach(s, v) {
			if (cJSON_IsString(s) && !strcmp(s->valuestring, stage))
				has = 1;
			if (unless && cJSON_IsString(s) && !strcmp(s->valuestring, unless))
				hasnot = 1;
		}
		if (has && !hasnot)
			return v->string;
	}
	return NULL;
}

static int version_has(const cJSON *v2s, const char *vid, const char *stage)
{
	const cJSON *s;

	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(v2s, vid))
		if (cJSON_IsString(s) && !strcmp(s->valuestring, stage))
			return 1;
	return 0;
}

static const char *secret_arn(const struct lk_run *u, const struct lk_job *j)
{
	return u->st->secrets[j->secret].arn;
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
		struct lk_job *j = &u->jobs[i];
		const struct lk_secret *s = &u->st->secrets[j->secret];
		const cJSON *v2s = cJSON_GetObjectItemCaseSensitive(c[i].out, "VersionIdsToStages");
		const cJSON *tags = cJSON_GetObjectItemCaseSensitive(c[i].out, "Tags");
		const char *cur, *pending, *svc;
		const cJSON *rd = cJSON_GetObjectItemCaseSensitive(c[i].out, "LastRotatedDate");
		int idx = resp_step_begin(&u->r, "describe-secret", "secretsmanager:DescribeSecret", s->arn,
					  RESP_READ);
		char detail[300];

		resp_step_from_call(&u->r, idx, &c[i], NULL);
		if (c[i].rc != FB_OK) {
			j->state = JOB_FAILED;
			continue;
		}
		svc = tag_value(tags, "firebreak:ecs-services");
		j->services = lk_strdup(svc);
		j->exempt = tag_is(tags, "firebreak:exempt", "true");
		j->rotated_at = cJSON_IsNumber(rd) ? rd->valuedouble : 0;
		cur = version_with(v2s, "AWSCURRENT", NULL);
		pending = version_with(v2s, "AWSPENDING", "AWSCURRENT");
		lk_copy(j->old_version, sizeof(j->old_version), cur);
		if (j->exempt) {
			note(u, "rotate-secret", "secretsmanager:RotateSecret", s->arn, RESP_WRITE,
			     RESP_SKIPPED, "exempt: secret tagged firebreak:exempt=true (leak reported, not rotated)", 0);
			j->state = JOB_STOP;
			continue;
		}
		if (pending) {
			/* a rotation is under way: wait for it, never start a second */
			snprintf(detail, sizeof(detail),
				 "rotation already in progress (version %s is AWSPENDING): waiting for it", pending);
			j->rotate_idx = note(u, "rotate-secret", "secretsmanager:RotateSecret", s->arn,
					     RESP_WRITE, RESP_ALREADY, detail, 1);
			lk_copy(j->wait_version, sizeof(j->wait_version), pending);
			j->state = u->r.dry_run ? JOB_STOP : JOB_WAIT;
			continue;
		}
		if (!j->cur_hits || (cur && strcmp(cur, s->cur_version))) {
			/* only old values leaked, or it was rotated since we loaded */
			snprintf(detail, sizeof(detail),
				 "leaked value is no longer AWSCURRENT (current version %s): already rotated",
				 cur ? cur : "?");
			note(u, "rotate-secret", "secretsmanager:RotateSecret", s->arn, RESP_WRITE, RESP_ALREADY,
			     detail, 1);
			j->state = JOB_CURRENT;
			continue;
		}
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c[i].out, "RotationEnabled")) ||
		    !resp_get_str(c[i].out, "RotationLambdaARN")) {
			note(u, "rotate-secret", "secretsmanager:RotateSecret", s->arn, RESP_WRITE, RESP_FAILED,
			     "rotation is not configured for this secret (no rotation function): "
			     "cannot rotate here; rotate it by hand and redeploy its users", 1);
			j->state = JOB_FAILED;
			continue;
		}
		j->state = JOB_ROTATE;
	}
out:
	for (i = 0; c && ins && i < u->njobs; i++) {
		aws_call_cleanup(&c[i]);
		cJSON_Delete(ins[i]);
	}
	free(c);
	free(ins);
}

/* Round 2: RotateSecret for every job that needs it, concurrently. */
static void secrets_rotate(struct lk_run *u)
{
	struct aws_call *c = calloc(u->njobs, sizeof(*c));
	cJSON **ins = calloc(u->njobs, sizeof(*ins));
	char token[37];
	size_t i, n = 0;
	size_t *map = calloc(u->njobs, sizeof(size_t));

	if (!c || !ins || !map)
		goto out;
	for (i = 0; i < u->njobs; i++) {
		struct lk_job *j = &u->jobs[i];
		const char *arn = secret_arn(u, j);
		cJSON *restore;

		if (j->state != JOB_ROTATE)
			continue;
		j->rotate_idx = resp_step_begin(&u->r, "rotate-secret", "secretsmanager:RotateSecret", arn,
						RESP_WRITE);
		if (resp_step_dry(&u->r, j->rotate_idx)) {
			j->state = JOB_STOP;
			continue;
		}
		rotation_token(u->r.incident_id, arn, j->old_version, token);
		/* undo (prior state first): move AWSCURRENT back — only if the
		 * new value breaks something; the old one is leaked */
		restore = cJSON_CreateObject();
		cJSON_AddStringToObject(restore, "step", "rotate-secret");
		cJSON_AddStringToObject(restore, "api", "secretsmanager:UpdateSecretVersionStage");
		cJSON_AddStringToObject(restore, "target", arn);
		cJSON_AddStringToObject(restore, "prior_current_version", j->old_version);
		{
			char cmd[1200];

			snprintf(cmd, sizeof(cmd),
				 "aws secretsmanager update-secret-version-stage --secret-id '%s' "
				 "--version-stage AWSCURRENT --move-to-version-id %s --remove-from-version-id %s"
				 "  # restores the LEAKED value: only to recover from a broken rotation",
				 arn, j->old_version, token);
			cJSON_AddStringToObject(restore, "command", cmd);
		}
		resp_restore_add(&u->r, restore);
		ins[n] = cJSON_CreateObject();
		cJSON_AddStringToObject(ins[n], "SecretId", arn);
		cJSON_AddStringToObject(ins[n], "ClientRequestToken", token);
		call_init(&c[n], "secretsmanager", "RotateSecret", ins[n]);
		lk_copy(j->wait_version, sizeof(j->wait_version), token);
		map[n++] = i;
	}
	run_all(u->st, c, n);
	for (i = 0; i < n; i++) {
		struct lk_job *j = &u->jobs[map[i]];
		const char *vid = resp_get_str(c[i].out, "VersionId");
		char detail[300];

		if (c[i].rc == FB_OK) {
			if (vid)
				lk_copy(j->wait_version, sizeof(j->wait_version), vid);
			snprintf(detail, sizeof(detail), "rotation started: new version %s", j->wait_version);
			resp_step_from_call(&u->r, j->rotate_idx, &c[i], detail);
			j->state = JOB_WAIT;
		} else if (call_code(&c[i], "ResourceExistsException")) {
			/* our token's version exists: an earlier try of this
			 * incident started the rotation */
			resp_step_from_call(&u->r, j->rotate_idx, &c[i], NULL);
			snprintf(detail, sizeof(detail),
				 "rotation already started by an earlier delivery (version %s)", j->wait_version);
			resp_step_end(&u->r, j->rotate_idx, RESP_ALREADY, detail, NULL);
			j->state = JOB_WAIT;
		} else if (call_code(&c[i], "InvalidRequestException") &&
			   strstr(c[i].err.message, "previous rotation isn't complete")) {
			/* started by someone else between our describe and rotate */
			resp_step_from_call(&u->r, j->rotate_idx, &c[i], NULL);
			resp_step_end(&u->r, j->rotate_idx, RESP_ALREADY,
				      "rotation already in progress: waiting for it", NULL);
			j->wait_version[0] = '\0'; /* learn it from DescribeSecret */
			j->state = JOB_WAIT;
		} else {
			resp_step_from_call(&u->r, j->rotate_idx, &c[i], "rotation not started");
			j->state = JOB_FAILED;
		}
	}
out:
	for (i = 0; c && ins && i < n; i++) {
		aws_call_cleanup(&c[i]);
		cJSON_Delete(ins[i]);
	}
	free(c);
	free(ins);
	free(map);
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
		if (u->jobs[i].state != JOB_WAIT)
			continue;
		u->jobs[i].wait_idx = resp_step_begin(&u->r, "wait-current", "secretsmanager:DescribeSecret",
						      secret_arn(u, &u->jobs[i]), RESP_READ);
		waiting++;
	}
	while (waiting) {
		size_t n = 0;

		if (remaining_ms(u) < LK_FINISH_RESERVE_MS + u->st->set.poll_ms + 200) {
			for (i = 0; i < u->njobs; i++) {
				if (u->jobs[i].state != JOB_WAIT)
					continue;
				snprintf(detail, sizeof(detail),
					 "version %s not AWSCURRENT before the invocation deadline (%d polls); "
					 "services not redeployed", u->jobs[i].wait_version, u->jobs[i].polls);
				resp_step_end(&u->r, u->jobs[i].wait_idx, RESP_FAILED, detail, NULL);
				u->jobs[i].state = JOB_FAILED;
			}
			break;
		}
		for (i = 0; i < u->njobs; i++) {
			if (u->jobs[i].state != JOB_WAIT)
				continue;
			ins[n] = cJSON_CreateObject();
			cJSON_AddStringToObject(ins[n], "SecretId", secret_arn(u, &u->jobs[i]));
			call_init(&c[n], "secretsmanager", "DescribeSecret", ins[n]);
			map[n++] = i;
		}
		run_all(u->st, c, n);
		for (i = 0; i < n; i++) {
			struct lk_job *j = &u->jobs[map[i]];
			const cJSON *v2s = cJSON_GetObjectItemCaseSensitive(c[i].out, "VersionIdsToStages");
			const cJSON *rd = cJSON_GetObjectItemCaseSensitive(c[i].out, "LastRotatedDate");

			j->polls++;
			if (c[i].rc != FB_OK) {
				if (aws_is_throttle_code(c[i].err.code))
					continue;
				resp_step_from_call(&u->r, j->wait_idx, &c[i], "cannot follow the rotation");
				j->state = JOB_FAILED;
				waiting--;
				continue;
			}
			if (!j->wait_version[0]) {
				const char *p = version_with(v2s, "AWSPENDING", "AWSCURRENT");

				if (p)
					lk_copy(j->wait_version, sizeof(j->wait_version), p);
			}
			if (j->wait_version[0] && version_has(v2s, j->wait_version, "AWSCURRENT")) {
				j->rotated_at = cJSON_IsNumber(rd) ? rd->valuedouble : 0;
				snprintf(detail, sizeof(detail), "version %s is AWSCURRENT (%d polls)",
					 j->wait_version, j->polls);
				resp_step_end(&u->r, j->wait_idx, RESP_DONE, detail, NULL);
				j->state = JOB_CURRENT;
				waiting--;
			} else if (j->wait_version[0] && !version_has(v2s, j->wait_version, "AWSPENDING")) {
				snprintf(detail, sizeof(detail),
					 "rotation failed: version %s is neither AWSPENDING nor AWSCURRENT "
					 "(see the rotation function's logs)", j->wait_version);
				resp_step_end(&u->r, j->wait_idx, RESP_FAILED, detail, NULL);
				j->state = JOB_FAILED;
				waiting--;
			} else if (!j->wait_version[0] && version_with(v2s, "AWSCURRENT", NULL) &&
				   strcmp(version_with(v2s, "AWSCURRENT", NULL), j->old_version)) {
				/* the other rotation finished before we saw its version */
				j->rotated_at = cJSON_IsNumber(rd) ? rd->valuedouble : 0;
				resp_step_end(&u->r, j->wait_idx, RESP_DONE, "a new version is AWSCURRENT", NULL);
				j->state = JOB_CURRENT;
				waiting--;
			}
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

struct lk_svc {
	size_t job;
	char cluster[256], service[256];
	char target[520];
	int need;
};

/* Round 4: every service named in the tag of a rotated secret gets a new
 * deployment, unless its primary deployment already started after the
 * rotation (an earlier delivery of this incident redeployed it). */
static void secrets_redeploy(struct lk_run *u)
{
	struct lk_svc *sv = NULL;
	struct aws_call *c = NULL;
	cJSON **ins = NULL;
	size_t nsv = 0, cap = 0, i, n;
	int idx;

	for (i = 0; i < u->njobs; i++) {
		struct lk_job *j = &u->jobs[i];
		struct lk_list l;
		size_t k;

		if (j->state != JOB_CURRENT)
			continue;
		if (!j->services || !*j->services) {
			warn(u, "secret '%s' has no firebreak:ecs-services tag: nothing to redeploy",
			     secret_arn(u, j));
			continue;
		}
		if (list_parse(j->services, &l) != FB_OK)
			continue;
		for (k = 0; k < l.n && k < LK_MAX_SERVICES; k++) {
			const char *slash = strrchr(l.v[k], '/');
			struct lk_svc *ns;

			if (!slash || slash == l.v[k] || !slash[1]) {
				warn(u, "secret '%s': firebreak:ecs-services entry '%.100s' is not cluster/service",
				     secret_arn(u, j), l.v[k]);
				continue;
			}
			if (nsv == cap) {
				cap = cap ? cap * 2 : 8;
				ns = realloc(sv, cap * sizeof(*ns));
				if (!ns)
					break;
				sv = ns;
			}
			ns = &sv[nsv++];
			memset(ns, 0, sizeof(*ns));
			ns->job = i;
			snprintf(ns->cluster, sizeof(ns->cluster), "%.*s", (int)(slash - l.v[k]), l.v[k]);
			lk_copy(ns->service, sizeof(ns->service), slash + 1);
			snprintf(ns->target, sizeof(ns->target), "%s/%s", ns->cluster, ns->service);
			ns->need = 1;
		}
		if (l.n > LK_MAX_SERVICES)
			warn(u, "secret '%s': more than %d services tagged; the rest not redeployed",
			     secret_arn(u, j), LK_MAX_SERVICES);
		list_free(&l);
	}
	if (!nsv)
		goto out;
	c = calloc(nsv, sizeof(*c));
	ins = calloc(nsv, sizeof(*ins));
	if (!c || !ins)
		goto out;
	/* already redeployed since the rotation? */
	for (i = 0; i < nsv; i++) {
		ins[i] = cJSON_CreateObject();
		cJSON_AddStringToObject(ins[i], "cluster", sv[i].cluster);
		cJSON_AddItemToObject(ins[i], "services", cJSON_CreateStringArray((const char *[]){ sv[i].service }, 1));
		call_init(&c[i], "ecs", "DescribeServices", ins[i]);
	}
	run_all(u->st, c, nsv);
	for (i = 0; i < nsv; i++) {
		const cJSON *d;
		double rotated = u->jobs[sv[i].job].rotated_at;

		cJSON_ArrayForEach(d, resp_get(c[i].out, "services.0.deployments")) {
			const cJSON *ca = cJSON_GetObjectItemCaseSensitive(d, "createdAt");
			const char *status = resp_get_str(d, "status");

			if (status && !strcmp(status, "PRIMARY") && rotated > 0 && cJSON_IsNumber(ca) &&
			    ca->valuedouble >= rotated) {
				char detail[200];

				snprintf(detail, sizeof(detail),
					 "deployment %s started after the rotation: already redeployed",
					 resp_get_str(d, "id") ? resp_get_str(d, "id") : "?");
				note(u, "redeploy", "ecs:UpdateService", sv[i].target, RESP_WRITE, RESP_ALREADY,
				     detail, 1);
				sv[i].need = 0;
			}
		}
		aws_call_cleanup(&c[i]);
		cJSON_Delete(ins[i]);
		ins[i] = NULL;
	}
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
		sv[i].need = k + 1; /* step index + 1 */
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
		const cJSON *d;
		const char *dep = NULL;

		if (!sv[i].need)
			continue;
		idx = sv[i].need - 1;
		cJSON_ArrayForEach(d, resp_get(c[n].out, "service.deployments")) {
			const char *status = resp_get_str(d, "status");

			if (!dep && status && !strcmp(status, "PRIMARY"))
				dep = resp_get_str(d, "id");
		}
		snprintf(detail, sizeof(detail), "new deployment %s", dep ? dep : "?");
		resp_step_from_call(&u->r, idx, &c[n], c[n].rc == FB_OK ? detail : "not redeployed");
		aws_call_cleanup(&c[n]);
		cJSON_Delete(ins[n]);
		ins[n] = NULL;
		n++;
	}
out:
	free(c);
	free(ins);
	free(sv);
	(void)idx;
}

static void act_secrets(struct lk_run *u)
{
	struct lk_state *st = u->st;
	size_t i, n = 0;
	cJSON *arr = cJSON_AddArrayToObject(u->r.extra, "secrets");

	for (i = 0; i < st->nsecrets; i++)
		n += (u->cur_hits[i] || u->prev_hits[i]);
	if (!n)
		return;
	u->jobs = calloc(n, sizeof(*u->jobs));
	if (!u->jobs)
		return;
	for (i = 0; i < st->nsecrets; i++) {
		cJSON *o;

		if (!u->cur_hits[i] && !u->prev_hits[i])
			continue;
		u->jobs[u->njobs].secret = (uint32_t)i;
		u->jobs[u->njobs].cur_hits = u->cur_hits[i];
		u->jobs[u->njobs].prev_hits = u->prev_hits[i];
		u->njobs++;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "arn", st->secrets[i].arn);
		cJSON_AddStringToObject(o, "name", st->secrets[i].name ? st->secrets[i].name : "");
		cJSON_AddNumberToObject(o, "hits_current", (double)u->cur_hits[i]);
		cJSON_AddNumberToObject(o, "hits_previous", (double)u->prev_hits[i]);
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
	const char *arn = u->ctx->function_arn;
	cJSON *out = NULL;
	struct aws_error err;

	if (cfg->own_account)
		return cfg->own_account;
	/* arn:aws:lambda:region:ACCOUNT:function:name */
	if (arn && !strncmp(arn, "arn:", 4)) {
		const char *p = arn;
		int f;

		for (f = 0; f < 4 && p; f++) {
			p = strchr(p, ':');
			p = p ? p + 1 : NULL;
		}
		if (p && strcspn(p, ":") == 12 && p[12] == ':') {
			cfg->own_account = strndup(p, 12);
			return cfg->own_account;
		}
	}
	memset(&err, 0, sizeof(err));
	if (aws_do(u->st->aws, "sts", "GetCallerIdentity", NULL, &out, &err) == FB_OK &&
	    q_str(out, "GetCallerIdentity", "Account"))
		cfg->own_account = strdup(q_str(out, "GetCallerIdentity", "Account"));
	cJSON_Delete(out);
	return cfg->own_account;
}

/* One round of a query call per undecided key, concurrently. */
static void key_round(struct lk_run *u, const char *svc, const char *op, const char *step,
		      void (*then)(struct lk_run *, struct lk_key *, struct aws_call *, int))
{
	struct aws_call c[LK_MAX_KEYS];
	cJSON *ins[LK_MAX_KEYS];
	size_t map[LK_MAX_KEYS], n = 0, i;
	int idx[LK_MAX_KEYS], write = !strcmp(op, "UpdateAccessKey");
	char api[64];

	snprintf(api, sizeof(api), "%s:%s", svc, op);
	for (i = 0; i < u->nkeys; i++) {
		struct lk_key *k = &u->keys[i];

		if (k->done)
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
		aws_call_run_all(u->st->aws, c, n);
	for (i = 0; i < n; i++) {
		then(u, &u->keys[map[i]], &c[i], idx[i]);
		aws_call_cleanup(&c[i]);
		cJSON_Delete(ins[i]);
	}
}

static void after_info(struct lk_run *u, struct lk_key *k, struct aws_call *c, int idx)
{
	const char *acct = q_str(c->out, "GetAccessKeyInfo", "Account");
	const char *own = own_account(u);
	char detail[200];

	if (c->rc != FB_OK || !acct) {
		resp_step_from_call(&u->r, idx, c, "cannot learn the key's account");
		k->done = 1;
		return;
	}
	lk_copy(k->account, sizeof(k->account), acct);
	snprintf(detail, sizeof(detail), "account %s", acct);
	resp_step_from_call(&u->r, idx, c, detail);
	if (!own || strcmp(acct, own)) {
		snprintf(detail, sizeof(detail),
			 "key of account %s (not ours): reported only; tell that account's owner", acct);
		note(u, "deactivate-key", "iam:UpdateAccessKey", k->id, RESP_WRITE, RESP_SKIPPED, detail, 0);
		k->done = 1;
	}
}

static void after_last_used(struct lk_run *u, struct lk_key *k, struct aws_call *c, int idx)
{
	const char *user = q_str(c->out, "GetAccessKeyLastUsed", "UserName");
	char detail[200];

	if (c->rc != FB_OK || !user || !*user) {
		resp_step_from_call(&u->r, idx, c, "cannot find the key's user");
		k->done = 1;
		return;
	}
	lk_copy(k->user, sizeof(k->user), user);
	snprintf(detail, sizeof(detail), "owned by IAM user %s", user);
	resp_step_from_call(&u->r, idx, c, detail);
}

static void after_list(struct lk_run *u, struct lk_key *k, struct aws_call *c, int idx)
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
			lk_copy(k->status, sizeof(k->status), resp_get_str(m, "Status"));
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
		cJSON *restore = cJSON_CreateObject();
		char cmd[400];

		cJSON_AddStringToObject(restore, "step", "deactivate-key");
		cJSON_AddStringToObject(restore, "api", "iam:UpdateAccessKey");
		cJSON_AddStringToObject(restore, "target", k->id);
		cJSON_AddStringToObject(restore, "prior_status", k->status);
		snprintf(cmd, sizeof(cmd),
			 "aws iam update-access-key --user-name '%s' --access-key-id %s --status Active",
			 k->user, k->id);
		cJSON_AddStringToObject(restore, "command", cmd);
		resp_restore_add(&u->r, restore);
	}
}

static void after_update(struct lk_run *u, struct lk_key *k, struct aws_call *c, int idx)
{
	resp_step_from_call(&u->r, idx, c, c->rc == FB_OK ? "key set Inactive (not deleted)" : NULL);
	k->done = 1;
}

static void act_keys(struct lk_run *u)
{
	cJSON *arr = cJSON_AddArrayToObject(u->r.extra, "access_keys");
	size_t i;

	for (i = 0; i < u->nkeys; i++) {
		struct lk_key *k = &u->keys[i];

		if (!strncmp(k->id, "ASIA", 4)) {
			note(u, "deactivate-key", "iam:UpdateAccessKey", k->id, RESP_WRITE, RESP_SKIPPED,
			     "temporary (STS) credentials cannot be deactivated: revoke the role's active "
			     "sessions (iam:PutRolePolicy with aws:TokenIssueTime) by hand", 0);
			k->done = 1;
		}
	}
	key_round(u, "sts", "GetAccessKeyInfo", "key-account", after_info);
	key_round(u, "iam", "GetAccessKeyLastUsed", "key-owner", after_last_used);
	key_round(u, "iam", "ListAccessKeys", "key-status", after_list);
	key_round(u, "iam", "UpdateAccessKey", "deactivate-key", after_update);
	for (i = 0; i < u->nkeys; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "access_key_id", u->keys[i].id);
		cJSON_AddNumberToObject(o, "hits", (double)u->keys[i].hits);
		cJSON_AddBoolToObject(o, "secret_key_nearby", u->keys[i].near_secret);
		cJSON_AddStringToObject(o, "account", u->keys[i].account);
		cJSON_AddStringToObject(o, "user", u->keys[i].user);
		cJSON_AddItemToArray(arr, o);
	}
}

static void report_tokens(struct lk_run *u)
{
	cJSON *arr = cJSON_AddArrayToObject(u->r.extra, "tokens");
	size_t i;

	for (i = 0; i < u->ntokens; i++) {
		const struct lk_token *t = &u->tokens[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "kind", leak_kind_name(t->kind));
		cJSON_AddStringToObject(o, "fingerprint", t->fp);
		cJSON_AddNumberToObject(o, "hits", (double)t->hits);
		if (t->secret >= 0) {
			cJSON_AddStringToObject(o, "watched_secret", u->st->secrets[t->secret].arn);
			cJSON_AddStringToObject(o, "action", "rotated with its watched secret");
		} else {
			cJSON_AddNullToObject(o, "watched_secret");
			cJSON_AddStringToObject(o, "action",
						"reported only: not a watched secret; revoke it at its issuer");
		}
		cJSON_AddItemToArray(arr, o);
	}
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
	for (i = 0; u->jobs && i < u->njobs; i++)
		free(u->jobs[i].services);
	free(u->jobs);
	free(u->msgs);
	free(u->cur_hits);
	free(u->prev_hits);
	explicit_bzero(u, sizeof(*u));
	free(u);
}

/* A result that is not an incident: control messages, other alarms. */
static enum fb_err quiet_result(struct lr_result *out, const char *result, const char *why)
{
	cJSON *o = cJSON_CreateObject();
	char *txt;
	enum fb_err rc;

	if (!o)
		return FB_E_NOMEM;
	cJSON_AddStringToObject(o, "function", LK_FN);
	cJSON_AddStringToObject(o, "result", result);
	cJSON_AddStringToObject(o, "detail", why);
	txt = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!txt)
		return FB_E_NOMEM;
	log_info("%s: %s", result, why);
	rc = lr_result_ok(out, txt, strlen(txt));
	cJSON_free(txt);
	return rc;
}

static enum fb_err lk_handle(void *state, const char *event, size_t len,
			     const struct lr_context *ctx, struct lr_result *out)
{
	struct lk_state *st = state;
	struct lk_run *u;
	char why[400] = "";
	enum lk_form form;
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
	form = classify(u, why, sizeof(why));
	if (form == FORM_INVALID) {
		run_cleanup(u);
		return resp_invalid(out, "%s", why);
	}
	if (form == FORM_IGNORE) {
		rc = quiet_result(out, u->batch.message_type ? "control message" : "ignored",
				  u->batch.message_type ? "CloudWatch Logs CONTROL_MESSAGE: nothing to scan" : why);
		run_cleanup(u);
		return rc;
	}
	rc = resp_begin(&u->r, &st->cfg, LK_FN, ctx);
	if (rc != FB_OK) {
		run_cleanup(u);
		return rc;
	}
	if (form != FORM_AWSLOGS && resp_trigger_from_event(&u->r, u->ev) != FB_OK) {
		run_cleanup(u);
		return resp_invalid(out, "malformed envelope fields (or 'dryRun' not a boolean)");
	}
	if (ctx->deadline_ms)
		aws_client_set_deadline(st->aws, ctx->deadline_ms - LK_FINISH_RESERVE_MS);
	u->warnings = cJSON_AddArrayToObject(u->r.extra, "warnings");
	u->hits_json = cJSON_CreateArray();
	resp_set_severity(&u->r, "P1");
	if (form == FORM_AWSLOGS)
		rc = setup_awslogs(u);
	else if (form == FORM_MANUAL)
		rc = setup_manual(u);
	else
		setup_alarm(u);
	if (rc != FB_OK)
		warn(u, "more than %u log events: the rest was not scanned", LK_MAX_MESSAGES);
	ensure_loaded(u);
	scan_all(u);
	{
		cJSON *src = cJSON_AddObjectToObject(u->r.extra, "source");

		cJSON_AddStringToObject(src, "form", form == FORM_AWSLOGS ? "awslogs" :
					form == FORM_ALARM ? "alarm" : "manual");
		cJSON_AddStringToObject(src, "log_group", u->group ? u->group : "");
		cJSON_AddStringToObject(src, "log_stream", u->stream ? u->stream : "");
		cJSON_AddNumberToObject(src, "events", (double)u->nmsgs);
		cJSON_AddNumberToObject(src, "bytes", (double)u->bytes);
	}
	cJSON_AddNumberToObject(u->r.extra, "hits_total", (double)u->hits_total);
	cJSON_AddItemToObject(u->r.extra, "hits", u->hits_json);
	if (!u->hits_total && !resp_failed(&u->r)) {
		/* the common case for a subscription: nothing leaked, nothing to
		 * publish (one log line, a small result) */
		char detail[200];

		snprintf(detail, sizeof(detail), "%zu events, %zu bytes scanned, %zu watched values: no leak",
			 u->nmsgs, u->bytes, st->nvalues);
		rc = quiet_result(out, "no leak", detail);
		run_cleanup(u);
		return rc;
	}
	act_secrets(u);
	act_keys(u);
	report_tokens(u);
	if (!u->njobs && !u->nkeys)
		resp_set_severity(&u->r, u->ntokens ? "P2" : "P3");
	if (ctx->deadline_ms)
		aws_client_set_deadline(st->aws, ctx->deadline_ms - 100);
	rc = resp_finish(&u->r, st->aws, out);
	run_cleanup(u);
	return rc;
}

int main(void)
{
	return lr_main(lk_init, lk_handle);
}
