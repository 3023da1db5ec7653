/*
 * resp: the responder contract (../shared/RESPONDERS.md), see resp.h.
 *
 * Everything here except resp_finish() is pure (no network), so the unit
 * tests exercise it directly. The clients and own account are acct.c's.
 */
#include "resp.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include "buf.h"
#include "log.h"
#include "utc.h"

/* SNS Publish limits (API reference, Publish): Subject < 100 ASCII
 * characters without line breaks; Message up to 256 KB (262,144 bytes). */
#define RESP_SNS_SUBJECT_MAX 99
#define RESP_SNS_MESSAGE_MAX (256u * 1024u)
/* A report that outgrows this is a bug; cap it like every other buffer. */
#define RESP_REPORT_MAX (4u * 1024u * 1024u)

/* ---- small helpers ------------------------------------------------------- */

/* Own clock rather than lr_now_ms(): keeps this module linkable (and unit
 * testable) without the runtime loop. Same epoch-ms wall clock. */
static int64_t resp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *resp_strdup(const char *s)
{
	size_t n;
	char *p;

	if (!s)
		return NULL;
	n = strlen(s);
	p = malloc(n + 1);
	if (p)
		memcpy(p, s, n + 1);
	return p;
}

static char *resp_vfmt(const char *fmt, va_list ap)
{
	char tmp[1024];
	int n;

	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	if (n < 0)
		return NULL;
	return resp_strdup(tmp); /* longer text is cut at 1023 bytes on purpose */
}

static void resp_replace(char **dst, const char *src)
{
	free(*dst);
	*dst = resp_strdup(src);
}

/* Lowercase hex of SHA-256(p, n), cut to fit hex[nhex] (NUL included). */
static void sha256_hex(const void *p, size_t n, char *hex, size_t nhex)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	static const char digits[] = "0123456789abcdef";
	char full[2 * SHA256_DIGEST_LENGTH + 1];
	size_t i;

	SHA256(p, n, md);
	for (i = 0; i < SHA256_DIGEST_LENGTH; i++) {
		full[2 * i] = digits[md[i] >> 4];
		full[2 * i + 1] = digits[md[i] & 15];
	}
	full[2 * SHA256_DIGEST_LENGTH] = '\0';
	if (nhex == 0)
		return;
	if (nhex > sizeof(full))
		nhex = sizeof(full);
	memcpy(hex, full, nhex - 1);
	hex[nhex - 1] = '\0';
}

static int days_in_month(int y, int mo)
{
	static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return mo == 2 && leap ? 29 : dim[mo - 1];
}

/* Exactly n ASCII digits at s -> *v; 0 if not. */
static int digits(const char *s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		*v = *v * 10 + (s[i] - '0');
	}
	return 1;
}

/* "2019-11-21T23:17:17Z", "...17.123Z", "...17.394+0000", "...17+01:00"
 * -> epoch ms; 0 if it is not such a time. EventBridge and CloudTrail
 * write 'Z'; CloudWatch alarm events write "+0000". Strict: a field out of
 * its calendar range ("2026-02-30", "25:61") is refused, not normalised by
 * timegm into another instant, and so is anything after the zone. The
 * report flags a refused event time (resp_trigger_from_event). */
int64_t resp_parse_time_ms(const char *s)
{
	int y, mo, d, h, mi, sec, ms = 0, off_s = 0;
	const char *p;

	if (!s || strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
	    !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec))
		return 0;
	/* AWS smears leap seconds: ":60" never appears in its timestamps. */
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
	    mi > 59 || sec > 59)
		return 0;
	p = s + 19;
	if (*p == '.') {
		int n = 0;

		p++;
		while (isdigit((unsigned char)*p)) {
			if (n < 3) {
				ms = ms * 10 + (*p - '0');
				n++;
			}
			p++;
		}
		if (n == 0)
			return 0;
		while (n++ < 3)
			ms *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, oh, om;

		if (!digits(p + 1, 2, &oh))
			return 0;
		p += 3;
		if (*p == ':')
			p++;
		if (!digits(p, 2, &om))
			return 0;
		p += 2;
		/* Real offsets run from -12:00 to +14:00. */
		if (oh > 14 || om > 59)
			return 0;
		off_s = sign * (oh * 3600 + om * 60);
	} else {
		return 0;
	}
	if (*p)
		return 0;
	/* local = UTC + offset, so UTC = local - offset */
	return (utc_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off_s) * 1000 + ms;
}

void resp_format_time_ms(int64_t ms, char out[RESP_TIME_LEN])
{
	utc_format_ms(ms, out);
}

/* Length of the longest prefix of s[0..n) that is n bytes at most and does
 * not end inside a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t n)
{
	size_t i = n;

	while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
		i--;
	return i;
}

/* ---- config --------------------------------------------------------------- */

int resp_flag_word(const char *v)
{
	if (!v)
		return -1;
	if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes"))
		return 1;
	return !strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no") ? 0 : -1;
}

/* A setting's value copied into *out, NULL when unset or empty;
 * FB_E_NOMEM when it is set and cannot be copied. */
static enum fb_err env_dup(const char *name, char **out)
{
	const char *v = getenv(name);

	*out = (v && *v) ? resp_strdup(v) : NULL;
	return v && *v && !*out ? FB_E_NOMEM : FB_OK;
}

void resp_config_cleanup(struct resp_config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->ntrusted; i++)
		free(cfg->trusted[i]);
	free(cfg->trusted);
	{
		/* every owned string of the settings */
		char *owned[] = { cfg->topic_arn, cfg->member_role, cfg->own_account,
				  cfg->caller_arn, cfg->event_bus };

		for (i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
			free(owned[i]);
	}
	memset(cfg, 0, sizeof(*cfg));
}

enum fb_err resp_config_from_env(struct resp_config *cfg, char *err, size_t errlen)
{
	const char *tp = getenv("FIREBREAK_TRUSTED_PRINCIPALS");
	const char *dr = getenv("FIREBREAK_DRY_RUN");
	const char *ta = getenv("FIREBREAK_TAG_MIN_AGE_HOURS");
	enum fb_err rc = FB_E_NOMEM;

	memset(cfg, 0, sizeof(*cfg));
	/* Anything other than a clear yes/no is a configuration error: a typo
	 * must not silently turn a dry run into a live one. */
	if (dr && *dr && resp_flag_word(dr) < 0) {
		snprintf(err, errlen, "cannot parse 'FIREBREAK_DRY_RUN' (want true or false)");
		return FB_E_CONFIG;
	}
	cfg->dry_run = resp_flag_word(dr) == 1;
	/* The minimum age of a firebreak:* tag (runtime/prov.h). 0..2160 h:
	 * CloudTrail keeps 90 days, so a longer age could never be shown. */
	cfg->tag_min_age_ms = 24LL * 3600 * 1000;
	if (ta && *ta) {
		char *end;
		long h = strtol(ta, &end, 10);

		if (*end || end == ta || h < 0 || h > 2160) {
			snprintf(err, errlen, "cannot parse 'FIREBREAK_TAG_MIN_AGE_HOURS' (want 0..2160)");
			return FB_E_CONFIG;
		}
		cfg->tag_min_age_ms = (int64_t)h * 3600 * 1000;
	}
	if (tp) {
		const char *p = tp;

		while (*p) {
			const char *start, *end;
			char **grown;

			while (*p == ',' || isspace((unsigned char)*p))
				p++;
			start = p;
			while (*p && *p != ',')
				p++;
			end = p;
			while (end > start && isspace((unsigned char)end[-1]))
				end--;
			if (end == start)
				continue;
			grown = realloc(cfg->trusted, (cfg->ntrusted + 1) * sizeof(*grown));
			if (!grown)
				goto fail;
			cfg->trusted = grown;
			cfg->trusted[cfg->ntrusted] = strndup(start, (size_t)(end - start));
			if (!cfg->trusted[cfg->ntrusted])
				goto fail;
			cfg->ntrusted++;
		}
	}
	/* issue 24: report outlets (runtime/outlet.h) */
	{
		static const char *const flags[] = { "FIREBREAK_SECURITYHUB_UPDATE",
						     "FIREBREAK_SECURITYHUB_IMPORT", "FIREBREAK_METRICS" };
		int *dst[] = { &cfg->sh_update, &cfg->sh_import, &cfg->metrics };
		const char *ns = getenv("FIREBREAK_METRICS_NAMESPACE");
		size_t i;

		cfg->metrics = 1;
		for (i = 0; i < 3; i++) {
			const char *v = getenv(flags[i]);
			int f = resp_flag_word(v);

			if (!v || !*v)
				continue;
			if (f < 0) {
				snprintf(err, errlen, "cannot parse '%s' (want true or false)", flags[i]);
				return FB_E_CONFIG;
			}
			*dst[i] = f;
		}
		snprintf(cfg->metrics_ns, sizeof(cfg->metrics_ns), "Firebreak");
		if (ns && *ns) {
			if (strlen(ns) >= sizeof(cfg->metrics_ns)) {
				snprintf(err, errlen, "'FIREBREAK_METRICS_NAMESPACE' is longer than %zu characters",
					 sizeof(cfg->metrics_ns) - 1);
				return FB_E_CONFIG;
			}
			snprintf(cfg->metrics_ns, sizeof(cfg->metrics_ns), "%s", ns);
		}
	}
	if (env_dup("FIREBREAK_EVENT_BUS", &cfg->event_bus) ||
	    env_dup("FIREBREAK_TOPIC_ARN", &cfg->topic_arn) ||
	    env_dup("FIREBREAK_MEMBER_ROLE", &cfg->member_role))
		goto fail;
	return FB_OK;
fail:
	snprintf(err, errlen, "cannot read settings: %s", fb_strerror(rc));
	resp_config_cleanup(cfg);
	return rc;
}

/* ---- trust ------------------------------------------------------------------ */

/* Iterative glob with '*' only (no '?', no classes): backtracks to the last
 * star, so it is O(len(p) * len(s)) worst case and never recurses. */
int resp_glob_match(const char *p, const char *s)
{
	const char *star = NULL, *mark = NULL;

	if (!p || !s)
		return 0;
	while (*s) {
		if (*p == '*') {
			star = p++;
			mark = s;
		} else if (*p == *s) {
			p++;
			s++;
		} else if (star) {
			p = star + 1;
			s = ++mark;
		} else {
			return 0;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* arn:<part>:sts::<acct>:assumed-role/<Role>/<session>
 *   -> arn:<part>:iam::<acct>:role/<Role>. 0 if not an assumed-role ARN. */
static int assumed_role_to_role(const char *arn, char *out, size_t outlen)
{
	const char *part, *acct, *role, *slash;
	int n;

	if (strncmp(arn, "arn:", 4))
		return 0;
	part = arn + 4;
	acct = strstr(part, ":sts::");
	if (!acct)
		return 0;
	role = strstr(acct + 6, ":assumed-role/");
	if (!role)
		return 0;
	slash = strchr(role + 14, '/');
	if (!slash)
		return 0;
	n = snprintf(out, outlen, "arn:%.*s:iam::%.*s:role/%.*s", (int)(acct - part), part,
		     (int)(role - (acct + 6)), acct + 6, (int)(slash - (role + 14)), role + 14);
	return n > 0 && (size_t)n < outlen;
}

int resp_is_trusted(const struct resp_config *cfg, const char *arn)
{
	char role[512];
	int has_role;
	size_t i;

	if (!cfg || !arn || !*arn)
		return 0;
	has_role = assumed_role_to_role(arn, role, sizeof(role));
	for (i = 0; i < cfg->ntrusted; i++) {
		if (resp_glob_match(cfg->trusted[i], arn))
			return 1;
		/* The session ARN drops the role's path; a pattern for a role
		 * with a path ("role/ci/Deployer") still matches when written
		 * with a star: "role" + "/" + "*Deployer". */
		if (has_role && resp_glob_match(cfg->trusted[i], role))
			return 1;
	}
	return 0;
}

/* ---- the report skeleton --------------------------------------------------- */

const char *resp_status_name(enum resp_status s)
{
	switch (s) {
	case RESP_DONE: return "done";
	case RESP_ALREADY: return "already";
	case RESP_SKIPPED: return "skipped";
	case RESP_PLANNED: return "planned";
	case RESP_FAILED: return "failed";
	}
	return "unknown";
}

enum fb_err resp_begin(struct resp *r, struct resp_config *cfg, const char *function,
		       const struct lr_context *ctx)
{
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	r->ctx = ctx;
	r->dry_run = cfg ? cfg->dry_run : 0;
	snprintf(r->function, sizeof(r->function), "%s", function ? function : "");
	snprintf(r->severity, sizeof(r->severity), "P1");
	r->received_ms = resp_now_ms();
	r->trigger = cJSON_CreateObject();
	r->restore = cJSON_CreateArray();
	r->extra = cJSON_CreateObject();
	r->warnings = cJSON_CreateArray();
	if (!r->trigger || !r->restore || !r->extra || !r->warnings) {
		resp_cleanup(r);
		return FB_E_NOMEM;
	}
	/* Until the event says otherwise, the incident is this invocation. */
	if (ctx && ctx->request_id && *ctx->request_id)
		resp_set_incident(r, ctx->request_id);
	return FB_OK;
}

/* A step's owned strings (struct resp_step). */
static void step_clear(struct resp_step *s)
{
	free(s->step);
	free(s->api);
	free(s->target);
	free(s->detail);
	free(s->error);
}

void resp_cleanup(struct resp *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nsteps; i++)
		step_clear(&r->steps[i]);
	free(r->steps);
	cJSON_Delete(r->trigger);
	cJSON_Delete(r->restore);
	cJSON_Delete(r->extra);
	cJSON_Delete(r->warnings);
	free(r->resource);
	free(r->account);
	free(r->region);
	free(r->verdict);
	cJSON_Delete(r->finding_ref);
	memset(r, 0, sizeof(*r));
}

void resp_set_incident(struct resp *r, const char *event_id)
{
	char hex[17];

	if (!event_id)
		return;
	sha256_hex(event_id, strlen(event_id), hex, sizeof(hex));
	snprintf(r->incident_id, sizeof(r->incident_id), "fb-%s", hex);
}

static void trigger_set(struct resp *r, const char *key, const char *val)
{
	resp_json_set(r->trigger, key, val);
}

/* A field that, when present, must be a string. */
static int opt_str(const cJSON *ev, const char *path, const char **out)
{
	const cJSON *it = resp_get(ev, path);

	*out = NULL;
	if (!it || cJSON_IsNull(it))
		return 1;
	if (!cJSON_IsString(it) || !it->valuestring)
		return 0;
	*out = it->valuestring;
	return 1;
}

enum fb_err resp_trigger_from_event(struct resp *r, const cJSON *ev)
{
	const char *id, *source, *dtype, *time_s, *account, *region, *actor, *ip, *etime;
	const cJSON *dry;

	if (!cJSON_IsObject(ev))
		return FB_E_INVALID;
	if (!opt_str(ev, "id", &id) || !opt_str(ev, "source", &source) ||
	    !opt_str(ev, "detail-type", &dtype) || !opt_str(ev, "time", &time_s) ||
	    !opt_str(ev, "account", &account) || !opt_str(ev, "region", &region) ||
	    !opt_str(ev, "detail.userIdentity.arn", &actor) ||
	    !opt_str(ev, "detail.sourceIPAddress", &ip) || !opt_str(ev, "detail.eventTime", &etime))
		return FB_E_INVALID;
	dry = cJSON_GetObjectItemCaseSensitive(ev, "dryRun");
	if (dry && !cJSON_IsBool(dry))
		return FB_E_INVALID;
	/* The event can turn a dry run on, never off: FIREBREAK_DRY_RUN wins. */
	if (cJSON_IsTrue(dry))
		r->dry_run = 1;

	if (source && dtype) {
		trigger_set(r, "event_id", id);
		trigger_set(r, "source", source);
		trigger_set(r, "detail_type", dtype);
		trigger_set(r, "event_time", time_s ? time_s : etime);
		trigger_set(r, "actor_arn", actor);
		trigger_set(r, "source_ip", ip);
		r->event_time_ms = resp_parse_time_ms(time_s ? time_s : etime);
		/* An impossible time ("2026-02-30T25:61:00Z") is said, never
		 * silently swapped for another: the envelope's time is
		 * EventBridge's, detail.eventTime CloudTrail's, and either
		 * failing means the event was not written by them as is. */
		if ((time_s && !resp_parse_time_ms(time_s)) || (etime && !resp_parse_time_ms(etime))) {
			const char *bad = time_s && !resp_parse_time_ms(time_s) ? time_s : etime;

			cJSON_AddBoolToObject(r->trigger, "event_time_valid", 0);
			resp_warn(r, "event time '%.40s' is not a valid timestamp: timings and "
				  "history windows count from the moment the event was received", bad);
		}
	} else {
		/* Manual form: no envelope. Who invoked it is Lambda's business
		 * (CloudTrail Invoke data events), not the event's. */
		trigger_set(r, "event_id", id);
		trigger_set(r, "source", "manual");
		trigger_set(r, "detail_type", "manual invocation");
		trigger_set(r, "event_time", NULL);
		trigger_set(r, "actor_arn", NULL);
		trigger_set(r, "source_ip", NULL);
	}
	if (account || region)
		resp_set_resource(r, NULL, account, region);
	cJSON_Delete(r->finding_ref);
	r->finding_ref = resp_finding_ref(ev);

	if (id && *id) {
		resp_set_incident(r, id);
	} else {
		/* No event id (manual form): the same event text gives the same
		 * incident, so a retried manual invoke shares it. */
		char *txt = cJSON_PrintUnformatted(ev);

		if (!txt)
			return FB_E_NOMEM;
		resp_set_incident(r, txt);
		cJSON_free(txt);
	}
	return FB_OK;
}

void resp_set_resource(struct resp *r, const char *arn, const char *account, const char *region)
{
	if (arn)
		resp_replace(&r->resource, arn);
	if (account)
		resp_replace(&r->account, account);
	if (region)
		resp_replace(&r->region, region);
}

void resp_set_severity(struct resp *r, const char *sev)
{
	if (sev)
		snprintf(r->severity, sizeof(r->severity), "%s", sev);
}

void resp_set_verdict(struct resp *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	free(r->verdict);
	r->verdict = resp_vfmt(fmt, ap);
	va_end(ap);
}

void resp_skip(struct resp *r, const char *fmt, ...)
{
	char why[900];

	RESP_FORMAT(why, fmt);
	r->skipped = 1;
	resp_set_verdict(r, "skipped: %s", why);
}

void resp_warn(struct resp *r, const char *fmt, ...)
{
	char msg[900];

	RESP_FORMAT(msg, fmt);
	if (r->warnings)
		cJSON_AddItemToArray(r->warnings, cJSON_CreateString(msg));
}

/* ---- steps --------------------------------------------------------------- */

static int step_add(struct resp *r, const char *step, const char *api, const char *target,
		    enum resp_kind kind)
{
	struct resp_step *s;

	s = buf_grow_array(r->steps, r->nsteps, &r->capsteps, sizeof(*s), 8);
	if (!s)
		return -1;
	r->steps = s;
	s = &r->steps[r->nsteps];
	memset(s, 0, sizeof(*s));
	s->step = resp_strdup(step ? step : "");
	s->api = resp_strdup(api ? api : "");
	s->target = resp_strdup(target);
	s->kind = kind;
	s->status = RESP_FAILED; /* until ended: a crash mid-step never reads "done" */
	s->required = 1;
	s->started_ms = resp_now_ms() - r->received_ms;
	return (int)r->nsteps++;
}

int resp_step_begin(struct resp *r, const char *step, const char *api, const char *target,
		    enum resp_kind kind)
{
	int i = step_add(r, step, api, target, kind);

	if (i >= 0 && kind == RESP_WRITE && r->dry_run) {
		r->steps[i].status = RESP_PLANNED;
		r->steps[i].ended = 1;
		resp_replace(&r->steps[i].detail, "dry run: not written");
	}
	return i;
}

int resp_step_begin_notify(struct resp *r, const char *step, const char *api, const char *target)
{
	int i = step_add(r, step, api, target, RESP_WRITE);

	if (i >= 0) {
		r->steps[i].notify = 1;
		r->steps[i].required = 0;
	}
	return i;
}

int resp_step_dry(const struct resp *r, int idx)
{
	if (idx < 0 || (size_t)idx >= r->nsteps)
		return r->dry_run; /* unknown step: refuse to write under dry run */
	return r->steps[idx].kind == RESP_WRITE && r->dry_run;
}

static void step_error(struct resp_step *s, const struct aws_error *aerr, enum fb_err rc)
{
	char msg[900];

	if (aerr && (aerr->code[0] || aerr->message[0] || aerr->http_status)) {
		snprintf(msg, sizeof(msg), "%s%s%s (http %ld, %d attempt%s)",
			 aerr->code[0] ? aerr->code : fb_strerror(rc),
			 aerr->message[0] ? ": " : "", aerr->message, aerr->http_status,
			 aerr->attempts, aerr->attempts == 1 ? "" : "s");
		resp_replace(&s->error, msg);
	} else if (rc != FB_OK) {
		resp_replace(&s->error, fb_strerror(rc));
	}
}

void resp_step_end(struct resp *r, int idx, enum resp_status st, const char *detail,
		   const struct aws_error *aerr)
{
	struct resp_step *s;

	if (idx < 0 || (size_t)idx >= r->nsteps)
		return;
	s = &r->steps[idx];
	s->status = st;
	s->ended = 1;
	s->elapsed_ms = resp_now_ms() - r->received_ms - s->started_ms;
	if (detail)
		resp_replace(&s->detail, detail);
	if (aerr)
		step_error(s, aerr, st == RESP_FAILED ? FB_E_AWS : FB_OK);
}

void resp_step_detail(struct resp *r, int idx, const char *detail)
{
	if (idx >= 0 && (size_t)idx < r->nsteps && detail)
		resp_replace(&r->steps[idx].detail, detail);
}

void resp_step_optional(struct resp *r, int idx)
{
	if (idx >= 0 && (size_t)idx < r->nsteps)
		r->steps[idx].required = 0;
}

void resp_step_from_call(struct resp *r, int idx, const struct aws_call *call, const char *detail)
{
	struct resp_step *s;

	if (idx < 0 || (size_t)idx >= r->nsteps)
		return;
	s = &r->steps[idx];
	s->ended = 1;
	s->status = call->rc == FB_OK ? RESP_DONE : RESP_FAILED;
	if (call->started_ms) {
		s->started_ms = call->started_ms - r->received_ms;
		s->elapsed_ms = call->elapsed_ms;
	} else {
		s->elapsed_ms = resp_now_ms() - r->received_ms - s->started_ms;
	}
	if (detail)
		resp_replace(&s->detail, detail);
	if (call->rc != FB_OK)
		step_error(s, &call->err, call->rc);
}

int resp_failed(const struct resp *r)
{
	size_t i;

	for (i = 0; i < r->nsteps; i++)
		if (r->steps[i].required && r->steps[i].status == RESP_FAILED)
			return 1;
	return 0;
}

void resp_restore_add(struct resp *r, cJSON *entry)
{
	if (!entry)
		return;
	if (!cJSON_AddItemToArray(r->restore, entry))
		cJSON_Delete(entry);
}

void resp_contained(struct resp *r)
{
	if (!r->contained_ms)
		r->contained_ms = resp_now_ms();
}

/* ---- the report document --------------------------------------------------- */

static cJSON *str_or_null(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* The verdict the report carries: never "contained" when a required step
 * failed; derived from the steps when the responder set none. */
static const char *derive_verdict(const struct resp *r)
{
	int writes = 0, done = 0, already = 0, planned = 0;
	size_t i;

	if (resp_failed(r))
		return "failed";
	if (r->verdict)
		return r->verdict;
	for (i = 0; i < r->nsteps; i++) {
		if (r->steps[i].kind != RESP_WRITE || !strcmp(r->steps[i].api, "sns:Publish") ||
		    r->steps[i].notify)
			continue;
		writes++;
		done += r->steps[i].status == RESP_DONE;
		already += r->steps[i].status == RESP_ALREADY;
		planned += r->steps[i].status == RESP_PLANNED;
	}
	if (planned)
		return "planned (dry run)";
	if (done)
		return "contained";
	if (writes && already == writes)
		return "already-contained";
	return "no action";
}

static cJSON *step_json(const struct resp_step *s)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "step", s->step ? s->step : "");
	cJSON_AddStringToObject(o, "api", s->api ? s->api : "");
	cJSON_AddItemToObject(o, "target", str_or_null(s->target));
	cJSON_AddStringToObject(o, "status", s->ended ? resp_status_name(s->status) : "failed");
	cJSON_AddItemToObject(o, "detail",
			      str_or_null(s->ended ? s->detail : "step did not finish"));
	cJSON_AddItemToObject(o, "error", str_or_null(s->error));
	cJSON_AddBoolToObject(o, "required", s->required);
	cJSON_AddNumberToObject(o, "started_ms", (double)s->started_ms);
	cJSON_AddNumberToObject(o, "elapsed_ms", (double)s->elapsed_ms);
	return o;
}

static cJSON *time_or_null(int64_t ms)
{
	char iso[RESP_TIME_LEN];

	if (!ms)
		return cJSON_CreateNull();
	resp_format_time_ms(ms, iso);
	return cJSON_CreateString(iso);
}

static cJSON *delta_or_null(int64_t from, int64_t to)
{
	return (from && to) ? cJSON_CreateNumber((double)(to - from)) : cJSON_CreateNull();
}

cJSON *resp_report_json(const struct resp *r)
{
	cJSON *o = cJSON_CreateObject(), *actions, *t, *it;
	size_t i;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "incident_id", r->incident_id);
	cJSON_AddStringToObject(o, "function", r->function);
	cJSON_AddItemToObject(o, "trigger", r->trigger ? cJSON_Duplicate(r->trigger, 1)
						      : cJSON_CreateObject());
	cJSON_AddItemToObject(o, "resource", str_or_null(r->resource));
	cJSON_AddItemToObject(o, "account", str_or_null(r->account));
	cJSON_AddItemToObject(o, "region", str_or_null(r->region));
	cJSON_AddStringToObject(o, "severity", r->severity);
	cJSON_AddStringToObject(o, "verdict", derive_verdict(r));
	cJSON_AddBoolToObject(o, "dry_run", r->dry_run);
	actions = cJSON_AddArrayToObject(o, "actions");
	for (i = 0; actions && i < r->nsteps; i++)
		cJSON_AddItemToArray(actions, step_json(&r->steps[i]));
	cJSON_AddItemToObject(o, "restore", r->restore ? cJSON_Duplicate(r->restore, 1)
						      : cJSON_CreateArray());
	t = cJSON_AddObjectToObject(o, "timings");
	if (t) {
		cJSON_AddItemToObject(t, "event_time", time_or_null(r->event_time_ms));
		cJSON_AddItemToObject(t, "received", time_or_null(r->received_ms));
		cJSON_AddItemToObject(t, "contained", time_or_null(r->contained_ms));
		cJSON_AddItemToObject(t, "event_to_received_ms",
				      delta_or_null(r->event_time_ms, r->received_ms));
		cJSON_AddItemToObject(t, "received_to_contained_ms",
				      delta_or_null(r->received_ms, r->contained_ms));
		cJSON_AddItemToObject(t, "event_to_contained_ms",
				      delta_or_null(r->event_time_ms, r->contained_ms));
	}
	if (cJSON_GetArraySize(r->warnings) > 0) {
		/* A responder that keeps its own extra.warnings list (always
		 * present in its report) loses none of it to the contract's:
		 * the two are one list, the runtime's first. */
		cJSON *w = cJSON_Duplicate(r->warnings, 1);
		const cJSON *own = cJSON_GetObjectItemCaseSensitive(r->extra, "warnings");

		own = cJSON_IsArray(own) ? own : NULL;
		cJSON_ArrayForEach(it, own) {
			cJSON_AddItemToArray(w, cJSON_Duplicate(it, 1));
		}
		cJSON_AddItemToObject(o, "warnings", w);
	}
	/* Function-specific fields join the top level; the contract's own
	 * fields win on a name clash. */
	cJSON_ArrayForEach(it, r->extra) {
		if (it->string && !cJSON_HasObjectItem(o, it->string))
			cJSON_AddItemToObject(o, it->string, cJSON_Duplicate(it, 1));
	}
	return o;
}

/* ---- finish ------------------------------------------------------------------ */

/* SNS Subject: ASCII, no control characters, under 100 characters. */
static void sns_subject(const struct resp *r, const char *verdict, char *out, size_t outlen)
{
	char raw[256];
	size_t i, n = outlen - 1 < RESP_SNS_SUBJECT_MAX ? outlen - 1 : RESP_SNS_SUBJECT_MAX;

	snprintf(raw, sizeof(raw), "[firebreak %s] %s %s: %s", r->severity, r->function,
		 r->incident_id, verdict);
	for (i = 0; i < n && raw[i]; i++) {
		unsigned char c = (unsigned char)raw[i];

		out[i] = (c < 0x20 || c > 0x7e) ? '?' : (char)c;
	}
	out[i] = '\0';
}

/* The SNS message: the report, or, past 256 KB, a valid-JSON summary with
 * the report's head (cut at a UTF-8 boundary) so nothing is silently lost. */
static char *sns_message(const struct resp *r, const char *text, size_t len)
{
	size_t keep = RESP_SNS_MESSAGE_MAX - 8192;
	char *msg = NULL;

	if (len <= RESP_SNS_MESSAGE_MAX)
		return resp_strdup(text);
	while (keep > 1024) {
		cJSON *o = cJSON_CreateObject();
		char *head;

		if (!o)
			return NULL;
		head = strndup(text, utf8_cut(text, keep));
		cJSON_AddStringToObject(o, "incident_id", r->incident_id);
		cJSON_AddStringToObject(o, "function", r->function);
		cJSON_AddStringToObject(o, "severity", r->severity);
		cJSON_AddStringToObject(o, "verdict", derive_verdict(r));
		cJSON_AddItemToObject(o, "resource", str_or_null(r->resource));
		cJSON_AddBoolToObject(o, "truncated", 1);
		cJSON_AddNumberToObject(o, "report_bytes", (double)len);
		cJSON_AddStringToObject(o, "report_head", head ? head : "");
		free(head);
		msg = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		if (!msg)
			return NULL;
		if (strlen(msg) <= RESP_SNS_MESSAGE_MAX)
			return msg;
		cJSON_free(msg);
		msg = NULL;
		keep /= 2; /* escaping grew it: try a shorter head */
	}
	return NULL;
}

static int any_write_reached(const struct resp *r)
{
	size_t i;

	for (i = 0; i < r->nsteps; i++)
		if (r->steps[i].kind == RESP_WRITE && !r->steps[i].notify &&
		    (r->steps[i].status == RESP_DONE || r->steps[i].status == RESP_ALREADY))
			return 1;
	return 0;
}

static enum fb_err report_text(const struct resp *r, char **text, size_t *len)
{
	cJSON *rep = resp_report_json(r);

	*text = rep ? cJSON_PrintUnformatted(rep) : NULL;
	cJSON_Delete(rep);
	if (!*text)
		return FB_E_NOMEM;
	*len = strlen(*text);
	if (*len > RESP_REPORT_MAX) {
		cJSON_free(*text);
		*text = NULL;
		return FB_E_TOO_LARGE;
	}
	return FB_OK;
}

static void publish(struct resp *r, struct aws_client *aws)
{
	char subject[RESP_SNS_SUBJECT_MAX + 1];
	char *text = NULL, *msg = NULL;
	cJSON *in = NULL, *res = NULL;
	struct aws_error err;
	size_t len;
	int idx, required = !any_write_reached(r);

	if (!r->cfg || !r->cfg->topic_arn) {
		idx = step_add(r, "notify", "sns:Publish", NULL, RESP_WRITE);
		resp_step_end(r, idx, RESP_SKIPPED, "FIREBREAK_TOPIC_ARN not set", NULL);
		resp_step_optional(r, idx);
		return;
	}
	/* The message is the report as it stands before this step: it cannot
	 * carry the outcome of its own publication (the log line and result do). */
	memset(&err, 0, sizeof(err));
	if (report_text(r, &text, &len) != FB_OK)
		goto out;
	msg = sns_message(r, text, len);
	idx = step_add(r, "notify", "sns:Publish", r->cfg->topic_arn, RESP_WRITE);
	if (!required)
		resp_step_optional(r, idx);
	sns_subject(r, derive_verdict(r), subject, sizeof(subject));
	in = cJSON_CreateObject();
	if (!msg || !in || !cJSON_AddStringToObject(in, "TopicArn", r->cfg->topic_arn) ||
	    !cJSON_AddStringToObject(in, "Subject", subject) ||
	    !cJSON_AddStringToObject(in, "Message", msg)) {
		resp_step_end(r, idx, RESP_FAILED, "cannot build the message", NULL);
		goto out;
	}
	if (!aws) {
		resp_step_end(r, idx, RESP_FAILED, "no aws client", NULL);
		goto out;
	}
	if (aws_do(aws, "sns", "Publish", in, &res, &err) == FB_OK) {
		const char *mid = resp_get_str(res, "PublishResponse.PublishResult.MessageId");

		if (!mid)
			mid = resp_get_str(res, "PublishResult.MessageId");
		resp_step_end(r, idx, RESP_DONE, mid ? mid : "published", NULL);
	} else {
		resp_step_end(r, idx, RESP_FAILED, "report not published", &err);
	}
out:
	cJSON_Delete(in);
	cJSON_Delete(res);
	cJSON_free(text);
	if (msg)
		free(msg);
}

const char *resp_verdict(const struct resp *r)
{
	return derive_verdict(r);
}

cJSON *resp_metrics_emf(const struct resp *r, int64_t now_ms)
{
	static const char *const names[] = { "ActionsDone", "ActionsAlready", "ActionsSkipped",
					     "ActionsPlanned", "ActionsFailed" };
	int counts[5] = { 0 }, notify_failed = 0;
	cJSON *o = cJSON_CreateObject(), *aws, *cwm, *d, *dims, *ms, *m;
	int64_t from = r->event_time_ms ? r->event_time_ms : r->received_ms;
	size_t i;

	if (!o)
		return NULL;
	for (i = 0; i < r->nsteps; i++) {
		const struct resp_step *s = &r->steps[i];
		enum resp_status st = s->ended ? s->status : RESP_FAILED;

		if (s->notify) {
			notify_failed += st == RESP_FAILED;
			continue;
		}
		if ((int)st >= 0 && (int)st < 5)
			counts[st]++;
	}
	aws = cJSON_AddObjectToObject(o, "_aws");
	cJSON_AddNumberToObject(aws, "Timestamp", (double)now_ms);
	cwm = cJSON_AddArrayToObject(aws, "CloudWatchMetrics");
	d = cJSON_CreateObject();
	cJSON_AddItemToArray(cwm, d);
	cJSON_AddStringToObject(d, "Namespace", r->cfg && r->cfg->metrics_ns[0] ? r->cfg->metrics_ns
										  : "Firebreak");
	dims = cJSON_AddArrayToObject(d, "Dimensions");
	{
		const char *fn[] = { "Function" };

		cJSON_AddItemToArray(dims, cJSON_CreateStringArray(fn, 1));
		cJSON_AddItemToArray(dims, cJSON_CreateArray());
	}
	ms = cJSON_AddArrayToObject(d, "Metrics");
#define EMF_METRIC(name, unit)                                          \
	do {                                                            \
		m = cJSON_CreateObject();                               \
		cJSON_AddStringToObject(m, "Name", name);               \
		cJSON_AddStringToObject(m, "Unit", unit);               \
		cJSON_AddItemToArray(ms, m);                            \
	} while (0)
	EMF_METRIC("Incidents", "Count");
	EMF_METRIC("ContainmentFailed", "Count");
	EMF_METRIC("NotificationsFailed", "Count");
	for (i = 0; i < 5; i++)
		EMF_METRIC(names[i], "Count");
	if (r->contained_ms && !r->dry_run)
		EMF_METRIC("TimeToContain", "Milliseconds");
#undef EMF_METRIC
	cJSON_AddStringToObject(o, "Function", r->function);
	cJSON_AddNumberToObject(o, "Incidents", 1);
	cJSON_AddNumberToObject(o, "ContainmentFailed", resp_failed(r) ? 1 : 0);
	cJSON_AddNumberToObject(o, "NotificationsFailed", notify_failed);
	for (i = 0; i < 5; i++)
		cJSON_AddNumberToObject(o, names[i], counts[i]);
	if (r->contained_ms && !r->dry_run)
		cJSON_AddNumberToObject(o, "TimeToContain",
					(double)(r->contained_ms > from ? r->contained_ms - from : 0));
	cJSON_AddStringToObject(o, "incident_id", r->incident_id);
	cJSON_AddStringToObject(o, "verdict", derive_verdict(r));
	cJSON_AddBoolToObject(o, "dry_run", r->dry_run);
	return o;
}

/* Security Hub's ARN shapes, loosely: arn:<partition>:<service>:... */
static int arn_of(const char *s, const char *service)
{
	const char *p;
	size_t n = strlen(service);

	if (!s || strncmp(s, "arn:", 4) != 0 || strlen(s) > 512)
		return 0;
	p = strchr(s + 4, ':');
	return p && strncmp(p + 1, service, n) == 0 && p[1 + n] == ':';
}

cJSON *resp_finding_ref(const cJSON *ev)
{
	const char *src = resp_get_str(ev, "source"), *dt = resp_get_str(ev, "detail-type");
	const char *id = NULL, *product = NULL;
	char prod[256];
	cJSON *o;

	if (!src || !dt)
		return NULL;
	if (!strcmp(src, "aws.guardduty") && !strcmp(dt, "GuardDuty Finding")) {
		/* arn:<partition>:guardduty:<region>:<account>:detector/<d>/finding/<f> */
		const char *arn = resp_get_str(ev, "detail.arn");
		char part[16], region[32];

		if (!arn_of(arn, "guardduty") || !strstr(arn, "/finding/") ||
		    sscanf(arn, "arn:%15[^:]:guardduty:%31[^:]:", part, region) != 2)
			return NULL;
		snprintf(prod, sizeof(prod), "arn:%s:securityhub:%s::product/aws/guardduty", part, region);
		id = arn;
		product = prod;
	} else if (!strcmp(src, "aws.securityhub") && !strcmp(dt, "Security Hub Findings - Imported")) {
		const cJSON *f = cJSON_GetArrayItem(resp_get(ev, "detail.findings"), 0);

		id = resp_get_str(f, "Id");
		product = resp_get_str(f, "ProductArn");
		if (!id || !*id || strlen(id) > 512 || !arn_of(product, "securityhub") ||
		    !strstr(product, ":product/"))
			return NULL;
	} else {
		return NULL;
	}
	o = cJSON_CreateObject();
	if (o && (!cJSON_AddStringToObject(o, "Id", id) ||
		  !cJSON_AddStringToObject(o, "ProductArn", product))) {
		cJSON_Delete(o);
		o = NULL;
	}
	return o;
}

enum fb_err resp_finish(struct resp *r, struct aws_client *aws, struct lr_result *out)
{
	char *text = NULL;
	size_t len = 0;
	enum fb_err rc;

	if (resp_failed(r) == 0 && !r->contained_ms && any_write_reached(r) && !r->skipped)
		resp_contained(r);
	/* issue 24: EventBridge, Security Hub (optional reporting steps, kit) */
	if (r->outlet && aws)
		r->outlet(r, aws);
	publish(r, aws);
	rc = report_text(r, &text, &len);
	if (rc != FB_OK) {
		lr_result_error(out, "Firebreak.ReportFailed", fb_strerror(rc));
		return rc;
	}
	log_json(resp_failed(r) ? LOG_ERROR : LOG_INFO, text);
	if (r->cfg && r->cfg->metrics) {
		cJSON *emf = resp_metrics_emf(r, resp_now_ms());
		char *etxt = emf ? cJSON_PrintUnformatted(emf) : NULL;

		/* EMF: CloudWatch turns this log line into metrics (no API call) */
		if (etxt)
			log_always(etxt);
		cJSON_free(etxt);
		cJSON_Delete(emf);
	}
	if (resp_failed(r))
		rc = lr_result_error(out, "Firebreak.ContainmentFailed", text);
	else
		rc = lr_result_ok(out, text, len);
	cJSON_free(text);
	return rc;
}

enum fb_err resp_invalid(struct lr_result *out, const char *fmt, ...)
{
	char why[900], msg[1024];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* The reason may quote event text: keep the message one printable line. */
	for (i = 0; why[i]; i++)
		if ((unsigned char)why[i] < 0x20)
			why[i] = ' ';
	snprintf(msg, sizeof(msg), "invalid event: %s", why);
	log_msg(LOG_WARN, "%s", msg);
	return lr_result_error(out, "Firebreak.InvalidEvent", msg);
}

/* ---- fingerprint ------------------------------------------------------------- */

/* How many leading characters a fingerprint shows: four for secrets of 16+
 * bytes (AKIA… key ids, tokens), two for 8..15, none below 8 — a short
 * secret must not be mostly revealed by its prefix. The SHA-256 prefix of a
 * very short secret can still be brute-forced offline; fingerprints are for
 * telling secrets apart, not for hiding weak ones. */
static size_t fp_shown(size_t len)
{
	if (len >= 16)
		return 4;
	if (len >= 8)
		return 2;
	return 0;
}

void resp_fingerprint(const char *secret, size_t len, char out[RESP_FP_LEN])
{
	char hex[9];
	char head[5];
	size_t i, shown;

	if (!secret)
		len = 0;
	shown = fp_shown(len);
	for (i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)secret[i];

		head[i] = (c < 0x21 || c > 0x7e) ? '?' : (char)c;
	}
	head[shown] = '\0';
	sha256_hex(secret ? secret : "", len, hex, sizeof(hex));
	snprintf(out, RESP_FP_LEN, "%s\xe2\x80\xa6sha256:%s", head, hex);
}

/* ---- event helpers ---------------------------------------------------------------- */

/* Dotted path; a segment of digits indexes an array ("resources.0.ARN").
 * '-' is an ordinary key character ("detail-type"). */
const cJSON *resp_get(const cJSON *root, const char *path)
{
	const cJSON *cur = root;
	const char *p = path;
	char seg[256];

	if (!root || !path)
		return NULL;
	while (cur && *p) {
		size_t n = strcspn(p, ".");

		if (n == 0 || n >= sizeof(seg))
			return NULL;
		memcpy(seg, p, n);
		seg[n] = '\0';
		if (cJSON_IsObject(cur)) {
			cur = cJSON_GetObjectItemCaseSensitive(cur, seg);
		} else if (cJSON_IsArray(cur)) {
			char *end;
			long idx;

			if (!isdigit((unsigned char)seg[0]))
				return NULL;
			idx = strtol(seg, &end, 10);
			if (*end || idx < 0 || idx > 1000000)
				return NULL;
			cur = cJSON_GetArrayItem(cur, (int)idx);
		} else {
			return NULL;
		}
		p += n;
		if (*p == '.')
			p++;
	}
	return cur;
}

const char *resp_get_str(const cJSON *root, const char *path)
{
	const cJSON *it = resp_get(root, path);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* ---- event parsing ------------------------------------------------------------ */

static void why_set(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void why_set(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (!why || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* Length of the well-formed UTF-8 sequence starting at s[0] (s[0] >= 0x80),
 * or 0: stray continuation bytes, overlong forms (C0, C1, E0 80..9F,
 * F0 80..8F), UTF-16 surrogates (ED A0..BF) and code points above U+10FFFF
 * (F4 90.., F5..FF) are all refused (RFC 3629, Table 3-7 of Unicode). */
static size_t utf8_seq_len(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t n, k;

	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4;
	else
		return 0;
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (avail < n || s[1] < lo || s[1] > hi)
		return 0;
	for (k = 2; k < n; k++)
		if ((s[k] & 0xC0) != 0x80)
			return 0;
	return n;
}

/* The pre-pass: everything cJSON would accept but we must not. It tracks
 * only "inside a string", "after a backslash" and the container depth; the
 * JSON grammar itself is cJSON's job. On input cJSON rejects anyway the
 * state may drift, which is harmless: both passes must accept. */
static enum fb_err event_prescan(const unsigned char *s, size_t len, char *why, size_t whylen)
{
	size_t i = 0;
	int in_str = 0;
	unsigned depth = 0;

	while (i < len) {
		unsigned char c = s[i];

		if (c >= 0x80) {
			size_t n = utf8_seq_len(s + i, len - i);

			if (n == 0) {
				why_set(why, whylen, "invalid UTF-8 at byte %zu", i);
				return FB_E_INVALID;
			}
			i += n;
			continue;
		}
		/* JSON allows no raw control characters in strings and only
		 * tab/LF/CR as whitespace; NUL would also cut C strings. */
		if (c < 0x20 && (in_str || (c != '\t' && c != '\n' && c != '\r'))) {
			why_set(why, whylen, "raw control byte 0x%02x at byte %zu", c, i);
			return FB_E_INVALID;
		}
		if (in_str) {
			if (c == '"') {
				in_str = 0;
			} else if (c == '\\') {
				/* Consume the escaped character here so "\\" and
				 * "\"" cannot be mistaken for the start of another
				 * escape or the end of the string. */
				if (i + 1 < len && s[i + 1] == 'u' && i + 5 < len &&
				    s[i + 2] == '0' && s[i + 3] == '0' && s[i + 4] == '0' &&
				    s[i + 5] == '0') {
					why_set(why, whylen, "\\u0000 escape at byte %zu", i);
					return FB_E_INVALID;
				}
				if (i + 1 < len && s[i + 1] >= 0x20 && s[i + 1] < 0x80) {
					i += 2;
					continue;
				}
				/* A control or non-ASCII byte after '\': let the
				 * checks above see it (cJSON refuses the escape). */
			}
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			if (++depth > RESP_MAX_EVENT_DEPTH) {
				why_set(why, whylen, "nesting deeper than %d", RESP_MAX_EVENT_DEPTH);
				return FB_E_INVALID;
			}
		} else if ((c == '}' || c == ']') && depth > 0) {
			depth--;
		}
		i++;
	}
	return FB_OK;
}

enum fb_err resp_parse_event(const char *event, size_t len, size_t max_bytes,
			     cJSON **out, char *why, size_t whylen)
{
	const char *end = NULL;
	cJSON *root;
	enum fb_err rc;

	if (why && whylen)
		why[0] = '\0';
	if (!out)
		return FB_E_INVALID;
	*out = NULL;
	if (!event || len == 0) {
		why_set(why, whylen, "empty event");
		return FB_E_INVALID;
	}
	if (len > max_bytes) {
		why_set(why, whylen, "event is %zu bytes, over the %zu byte limit", len, max_bytes);
		return FB_E_INVALID;
	}
	rc = event_prescan((const unsigned char *)event, len, why, whylen);
	if (rc != FB_OK)
		return rc;
	/* Bounded by len, not by a terminator: the caller's buffer need not
	 * be NUL-terminated. Trailing data is checked by hand below. */
	root = cJSON_ParseWithLengthOpts(event, len, &end, 0);
	if (!root) {
		why_set(why, whylen, "not JSON");
		return FB_E_INVALID;
	}
	while (end && end < event + len &&
	       (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
		end++;
	if (!end || end != event + len) {
		cJSON_Delete(root);
		why_set(why, whylen, "trailing data after the JSON value");
		return FB_E_INVALID;
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		why_set(why, whylen, "not a JSON object");
		return FB_E_INVALID;
	}
	*out = root;
	return FB_OK;
}

int resp_account_id_ok(const char *s)
{
	return s && strlen(s) == 12 && strspn(s, "0123456789") == 12;
}

int resp_region_name_ok(const char *s)
{
	size_t i, n, words = 0, digits = 0;

	if (!s)
		return 0;
	n = strlen(s);
	if (n < 4 || n > 31 || !islower((unsigned char)s[0]) || !islower((unsigned char)s[1]) ||
	    s[2] != '-')
		return 0;
	i = 2;
	while (i < n && s[i] == '-') {
		size_t start = ++i;

		while (i < n && s[i] >= 'a' && s[i] <= 'z')
			i++;
		if (i == start)
			break; /* the final "-digits" */
		words++;
	}
	while (i < n && s[i] >= '0' && s[i] <= '9') {
		i++;
		digits++;
	}
	return i == n && words > 0 && digits > 0 && digits <= 2;
}

/* ---- issue 17: an optional string field ------------------------------------- */

int resp_opt_str(const cJSON *root, const char *path, const char **out)
{
	return opt_str(root, path, out);
}

/* ---- issue 17: a report field set again ------------------------------------ */

void resp_json_set(cJSON *obj, const char *key, const char *val)
{
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	if (val)
		cJSON_AddStringToObject(obj, key, val);
	else
		cJSON_AddNullToObject(obj, key);
}

/* ---- w5-adopt-2: a flag's word, an epoch-seconds number ------------------ */

int64_t resp_epoch_ms(const cJSON *v)
{
	return cJSON_IsNumber(v) && v->valuedouble > 0 && v->valuedouble < 9.2e12
	       ? (int64_t)(v->valuedouble * 1000.0) : 0;
}
