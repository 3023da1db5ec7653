/* leak-rotate's pure stages (leak.h lists them): main.c makes the calls
 * and passes their answers (and the time) in. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarm.h"
#include "cloudtrail.h"
#include "kit.h"
#include "leak.h"
#include "resp.h"

/* ---- settings ---------------------------------------------------------------------------- */

void leak_settings_cleanup(struct leak_settings *s)
{
	slist_free(&s->watched);
	slist_free(&s->log_groups);
	slist_free(&s->ignore);
	free(s->alarm_name);
	free(s->own_log_group);
	memset(s, 0, sizeof(*s));
}

enum fb_err leak_settings_from_env(struct leak_settings *s, char *err, size_t errlen)
{
	const char *alarm = getenv("FIREBREAK_LEAK_ALARM_NAME");
	const char *fn = getenv("AWS_LAMBDA_FUNCTION_NAME");
	enum fb_err rc;
	int ttl_s = 300, lb_s = 900, poll = LEAK_POLL_MS_DEFAULT;

	memset(s, 0, sizeof(*s));
	rc = slist_env("FIREBREAK_WATCHED_SECRETS", NULL, &s->watched);
	if (rc == FB_OK)
		rc = slist_env("FIREBREAK_LEAK_LOG_GROUPS", NULL, &s->log_groups);
	if (rc == FB_OK)
		rc = slist_env("FIREBREAK_LEAK_IGNORE_FIELDS", LEAK_IGNORE_DEFAULT, &s->ignore);
	if (rc == FB_OK && alarm && *alarm && !(s->alarm_name = strdup(alarm)))
		rc = FB_E_NOMEM;
	if (rc == FB_OK && fn && *fn && !(s->own_log_group = buf_strdupf("/aws/lambda/%s", fn)))
		rc = FB_E_NOMEM;
	if (rc != FB_OK) {
		snprintf(err, errlen, "out of memory reading settings");
		return rc;
	}
	s->watch_tagged = kit_env_flag("FIREBREAK_WATCH_TAGGED", 1);
	rc = kit_env_int("FIREBREAK_SECRETS_TTL_SECONDS", 300, 0, 86400, &ttl_s, err, errlen);
	if (rc == FB_OK)
		rc = kit_env_int("FIREBREAK_LEAK_LOOKBACK_SECONDS", 900, 60, 86400, &lb_s, err, errlen);
	if (rc == FB_OK)
		rc = kit_env_int("FIREBREAK_ROTATION_POLL_MS", LEAK_POLL_MS_DEFAULT, 10, 5000, &poll, err, errlen);
	s->ttl_ms = (int64_t)ttl_s * 1000;
	s->lookback_ms = (int64_t)lb_s * 1000;
	s->poll_ms = poll;
	return rc;
}

struct leak_value {
	uint32_t secret;              /* index into leak_watch.secrets */
	int previous;                 /* from AWSPREVIOUS */
	char field[64];               /* JSON field, "" for a plain string */
};

/* ---- the watched set ----------------------------------------------------------------------- */

enum fb_err leak_watch_init(struct leak_watch *w)
{
	memset(w, 0, sizeof(*w));
	return leak_scanner_init(&w->sc);
}

void leak_watch_cleanup(struct leak_watch *w)
{
	size_t i;

	leak_scanner_cleanup(&w->sc);
	for (i = 0; w->secrets && i < w->nsecrets; i++) {
		free(w->secrets[i].arn);
		free(w->secrets[i].name);
	}
	free(w->secrets);
	free(w->values);
	memset(w, 0, sizeof(*w));
}

int leak_watch_has(const struct leak_watch *w, const char *arn)
{
	size_t i;

	for (i = 0; arn && i < w->nsecrets; i++)
		if (!strcmp(w->secrets[i].arn, arn))
			return 1;
	return 0;
}

enum fb_err leak_watch_add_secret(struct leak_watch *w, const char *arn, const char *name,
				  const char *cur_version, uint32_t *idx)
{
	struct leak_secret *s;

	if (!arn)
		return FB_E_INVALID;
	s = kit_slot(&w->secrets, w->nsecrets, &w->capsecrets, sizeof(*s), 8);
	if (!s)
		return FB_E_NOMEM;
	s->arn = strdup(arn);
	s->name = name ? strdup(name) : NULL;
	if (!s->arn || (name && !s->name)) {
		free(s->arn);
		free(s->name);
		return FB_E_NOMEM;
	}
	buf_copy_str(s->cur_version, sizeof(s->cur_version), cur_version);
	*idx = (uint32_t)w->nsecrets++;
	return FB_OK;
}

struct add_ctx {
	struct leak_watch *w;
	const struct slist *ignore;
	uint32_t secret;
	int previous;
};

static enum fb_err add_value(void *ud, const char *v, size_t n, const char *field)
{
	struct add_ctx *a = ud;
	struct leak_watch *w = a->w;
	struct leak_value *nv;
	enum fb_err rc;

	if (slist_has_nocase(a->ignore, field))
		return FB_OK;
	nv = kit_slot(&w->values, w->nvalues, &w->capvalues, sizeof(*nv), 32);
	if (!nv)
		return FB_E_NOMEM;
	rc = leak_scanner_add_value(&w->sc, v, n, (uint32_t)w->nvalues);
	if (rc != FB_OK)
		return rc;
	nv->secret = a->secret;
	nv->previous = a->previous;
	buf_copy_str(nv->field, sizeof(nv->field), field);
	w->nvalues++;
	return FB_OK;
}

enum fb_err leak_watch_add_string(struct leak_watch *w, uint32_t secret, int previous,
				  const char *secret_string, const struct slist *ignore,
				  size_t *count)
{
	struct add_ctx a = { w, ignore, secret, previous };

	*count = 0;
	if (!secret_string || secret >= w->nsecrets)
		return FB_E_INVALID;
	return leak_secret_values(secret_string, strlen(secret_string), add_value, &a, count);
}

enum fb_err leak_watch_build(struct leak_watch *w)
{
	return leak_scanner_build(&w->sc);
}

/* ---- messages and the event form ------------------------------------------------------------------ */

enum fb_err leak_msgs_add(struct leak_msgs *ms, const char *group, const char *stream,
			  const char *id, int64_t ts_ms, const char *text)
{
	struct leak_msg *m;

	if (ms->n >= LEAK_MAX_MESSAGES)
		return FB_E_TOO_LARGE;
	m = kit_slot(&ms->v, ms->n, &ms->cap, sizeof(*m), 64);
	if (!m)
		return FB_E_NOMEM;
	ms->n++;
	m->group = group ? group : "";
	m->stream = stream ? stream : "";
	m->id = id ? id : "";
	m->ts_ms = ts_ms;
	m->text = text ? text : "";
	m->len = strlen(m->text);
	ms->bytes += m->len;
	return FB_OK;
}

void leak_msgs_cleanup(struct leak_msgs *m)
{
	free(m->v);
	memset(m, 0, sizeof(*m));
}

static enum leak_form classify_awslogs(const cJSON *aw, const struct leak_settings *set,
				       struct leak_batch *batch, char *why, size_t whylen)
{
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(aw, "data");
	struct buf json;
	enum fb_err rc;

	if (!cJSON_IsString(data) || !data->valuestring) {
		snprintf(why, whylen, "field 'awslogs.data' missing or not a string");
		return LEAK_FORM_INVALID;
	}
	rc = leak_awslogs_decode(data->valuestring, strlen(data->valuestring), &json, why, whylen);
	if (rc != FB_OK)
		return LEAK_FORM_INVALID;
	rc = leak_batch_parse(json.data, json.len, batch, why, whylen);
	explicit_bzero(json.data, json.len);
	buf_cleanup(&json);
	if (rc != FB_OK)
		return LEAK_FORM_INVALID;
	if (!strcmp(batch->message_type, "CONTROL_MESSAGE")) {
		snprintf(why, whylen, "CloudWatch Logs CONTROL_MESSAGE: nothing to scan");
		return LEAK_FORM_IGNORE;
	}
	if (strcmp(batch->message_type, "DATA_MESSAGE")) {
		snprintf(why, whylen, "unknown messageType in awslogs payload");
		return LEAK_FORM_INVALID;
	}
	if (set->own_log_group && !strcmp(batch->log_group, set->own_log_group)) {
		snprintf(why, whylen, "log group '%.200s' is this function's own: not scanned "
			 "(its reports name access key ids)", batch->log_group);
		return LEAK_FORM_IGNORE;
	}
	return LEAK_FORM_AWSLOGS;
}

static enum leak_form classify_alarm(const cJSON *ev, const struct leak_settings *set, char *why,
				     size_t whylen)
{
	struct alarm_change al;

	if (alarm_event(ev, &al, why, whylen) != FB_OK)
		return LEAK_FORM_INVALID;
	if (!set->alarm_name || strcmp(al.name, set->alarm_name)) {
		snprintf(why, whylen, "alarm '%.200s' is not FIREBREAK_LEAK_ALARM_NAME", al.name);
		return LEAK_FORM_IGNORE;
	}
	if (strcmp(al.state, "ALARM")) {
		snprintf(why, whylen, "alarm state is %.20s, not ALARM", al.state);
		return LEAK_FORM_IGNORE;
	}
	if (!set->log_groups.n) {
		snprintf(why, whylen, "FIREBREAK_LEAK_LOG_GROUPS is not set: no log group to read");
		return LEAK_FORM_INVALID;
	}
	return LEAK_FORM_ALARM;
}

static enum leak_form classify_manual(const cJSON *ev, const cJSON *msgs, char *why, size_t whylen)
{
	const cJSON *m;

	if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) > (int)LEAK_MAX_MESSAGES) {
		snprintf(why, whylen, "field 'messages' must be an array of at most %u strings",
			 LEAK_MAX_MESSAGES);
		return LEAK_FORM_INVALID;
	}
	cJSON_ArrayForEach(m, msgs) {
		if (!cJSON_IsString(m) || !m->valuestring) {
			snprintf(why, whylen, "field 'messages' must hold only strings");
			return LEAK_FORM_INVALID;
		}
	}
	if ((cJSON_GetObjectItemCaseSensitive(ev, "logGroup") && !resp_get_str(ev, "logGroup")) ||
	    (cJSON_GetObjectItemCaseSensitive(ev, "logStream") && !resp_get_str(ev, "logStream"))) {
		snprintf(why, whylen, "fields 'logGroup' and 'logStream' must be strings");
		return LEAK_FORM_INVALID;
	}
	/* Both name the source in the report (and the SNS message). */
	if ((resp_get_str(ev, "logGroup") && !leak_log_group_ok(resp_get_str(ev, "logGroup"))) ||
	    (resp_get_str(ev, "logStream") && !leak_log_stream_ok(resp_get_str(ev, "logStream")))) {
		snprintf(why, whylen, "fields 'logGroup' and 'logStream' must be CloudWatch Logs names");
		return LEAK_FORM_INVALID;
	}
	return LEAK_FORM_MANUAL;
}

enum leak_form leak_classify(const cJSON *ev, const struct leak_settings *set,
			     struct leak_batch *batch, char *why, size_t whylen)
{
	const cJSON *aw, *msgs;

	if (!cJSON_IsObject(ev)) {
		snprintf(why, whylen, "event is not a JSON object");
		return LEAK_FORM_INVALID;
	}
	aw = cJSON_GetObjectItemCaseSensitive(ev, "awslogs");
	if (aw)
		return classify_awslogs(aw, set, batch, why, whylen);
	if (resp_get_str(ev, "detail-type") || resp_get_str(ev, "source"))
		return classify_alarm(ev, set, why, whylen);
	msgs = cJSON_GetObjectItemCaseSensitive(ev, "messages");
	if (!msgs) {
		snprintf(why, whylen, "expected 'awslogs', an alarm event, or a manual 'messages' array");
		return LEAK_FORM_INVALID;
	}
	return classify_manual(ev, msgs, why, whylen);
}

/* ---- findings ------------------------------------------------------------------------------------- */

enum fb_err leak_findings_init(struct leak_findings *f, size_t nsecrets, cJSON *warnings)
{
	memset(f, 0, sizeof(*f));
	f->warnings = warnings;
	f->hits = cJSON_CreateArray();
	f->cur_hits = calloc(nsecrets ? nsecrets : 1, sizeof(size_t));
	f->prev_hits = calloc(nsecrets ? nsecrets : 1, sizeof(size_t));
	return f->hits && f->cur_hits && f->prev_hits ? FB_OK : FB_E_NOMEM;
}

void leak_findings_cleanup(struct leak_findings *f)
{
	cJSON_Delete(f->hits);
	free(f->cur_hits);
	free(f->prev_hits);
	memset(f, 0, sizeof(*f));
}

static struct leak_key *key_slot(struct leak_findings *f, const char *id)
{
	size_t i;

	for (i = 0; i < f->nkeys; i++)
		if (!strcmp(f->keys[i].id, id))
			return &f->keys[i];
	if (f->nkeys == LEAK_MAX_KEYS)
		return NULL;
	memset(&f->keys[f->nkeys], 0, sizeof(f->keys[0]));
	buf_copy_str(f->keys[f->nkeys].id, sizeof(f->keys[0].id), id);
	return &f->keys[f->nkeys++];
}

static struct leak_token *token_slot(struct leak_findings *f, enum leak_kind k, const char *fp)
{
	size_t i;

	for (i = 0; i < f->ntokens; i++)
		if (f->tokens[i].kind == k && !strcmp(f->tokens[i].fp, fp))
			return &f->tokens[i];
	if (f->ntokens == LEAK_MAX_TOKENS)
		return NULL;
	memset(&f->tokens[f->ntokens], 0, sizeof(f->tokens[0]));
	f->tokens[f->ntokens].kind = k;
	f->tokens[f->ntokens].secret = -1;
	buf_copy_str(f->tokens[f->ntokens].fp, sizeof(f->tokens[0].fp), fp);
	return &f->tokens[f->ntokens++];
}

/* The watched secret a hit lies inside, -1. */
static long inside_secret(const struct leak_watch *w, const struct leak_hit *hits, size_t n,
			  const struct leak_hit *h)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (hits[i].kind == LEAK_SECRET && h->off >= hits[i].off &&
		    h->off + h->len <= hits[i].off + hits[i].len)
			return (long)w->values[hits[i].value].secret;
	return -1;
}

int leak_redact(const struct leak_watch *w, const char *s, char *out, size_t outlen)
{
	struct leak_hit hits[LEAK_MAX_HITS_PER_MESSAGE];
	size_t n = strlen(s), nh, i, at = 0, k = 0;
	int changed = 0;

	if (!outlen)
		return 0;
	nh = w->sc.ac ? leak_scan(&w->sc, s, n, hits, LEAK_MAX_HITS_PER_MESSAGE) : 0;
	for (i = 0; i <= nh && k + 1 < outlen; i++) {
		size_t end = i < nh ? hits[i].off : n, len;

		if (i < nh && hits[i].kind != LEAK_SECRET)
			continue;
		if (end > at) {       /* the text before this hit (hits may overlap) */
			len = end - at < outlen - 1 - k ? end - at : outlen - 1 - k;
			memcpy(out + k, s + at, len);
			k += len;
		}
		if (i < nh) {
			char fp[RESP_FP_LEN], tag[RESP_FP_LEN + 24];
			int t;

			resp_fingerprint(s + hits[i].off, hits[i].len, fp);
			t = snprintf(tag, sizeof(tag), "[watched-secret:%s]", fp);
			len = t < 0 ? 0 : (size_t)t < outlen - 1 - k ? (size_t)t : outlen - 1 - k;
			memcpy(out + k, tag, len);
			k += len;
			if (hits[i].off + hits[i].len > at)
				at = hits[i].off + hits[i].len;
			changed = 1;
		}
	}
	out[k] = '\0';
	return changed;
}

/* A report entry: where, what kind, a fingerprint and a redacted excerpt. */
static void report_hit(struct leak_findings *f, const struct leak_watch *w, const struct leak_msg *m,
		       const struct leak_hit *hits, size_t n, size_t which)
{
	const struct leak_hit *h = &hits[which];
	char fp[RESP_FP_LEN], iso[RESP_TIME_LEN], name[LEAK_NAME_MAX * 2 + 64];
	struct buf ex;
	cJSON *o;

	f->hits_total++;
	if (cJSON_GetArraySize(f->hits) >= LEAK_MAX_REPORT_HITS)
		return;
	o = cJSON_CreateObject();
	if (!o)
		return;
	resp_fingerprint(m->text + h->off, h->len, fp);
	kit_add_strs(o, "kind", leak_kind_name(h->kind), "fingerprint", fp, KIT_END);
	if (h->kind == LEAK_SECRET) {
		const struct leak_value *v = &w->values[h->value];

		kit_add_strs(o, "secret", w->secrets[v->secret].arn, "version",
			     v->previous ? "AWSPREVIOUS" : "AWSCURRENT", "field", v->field[0] ? v->field : NULL, KIT_END);
	}
	if (h->kind == LEAK_AWS_KEY_ID) {
		char id[21];

		memcpy(id, m->text + h->off, 20);
		id[20] = '\0';
		cJSON_AddStringToObject(o, "access_key_id", id);
		cJSON_AddBoolToObject(o, "secret_key_nearby", h->near_secret);
	}
	leak_redact(w, m->group, name, sizeof(name));
	cJSON_AddStringToObject(o, "log_group", name);
	leak_redact(w, m->stream, name, sizeof(name));
	cJSON_AddStringToObject(o, "log_stream", name);
	leak_redact(w, m->id, name, sizeof(name));
	cJSON_AddStringToObject(o, "event_id", name);
	resp_format_time_ms(m->ts_ms, iso);
	cJSON_AddStringToObject(o, "time", m->ts_ms ? iso : "");
	buf_init(&ex, 4096);
	if (leak_excerpt(m->text, m->len, hits, n, which, &ex) == FB_OK)
		cJSON_AddStringToObject(o, "excerpt", ex.data ? ex.data : "");
	buf_cleanup(&ex);
	cJSON_AddItemToArray(f->hits, o);
}

/* The secret access key candidates around key id hit h (leak_scan made a
 * LEAK_AWS_SECRET hit for each one in its window), each distinct string
 * once. */
static void add_candidates(struct leak_key *k, const struct leak_msg *m, const struct leak_hit *hits,
			   size_t n, const struct leak_hit *h)
{
	size_t from = h->off > LEAK_KEY_SECRET_WINDOW ? h->off - LEAK_KEY_SECRET_WINDOW : 0;
	size_t to = h->off + h->len + LEAK_KEY_SECRET_WINDOW, i, j;

	for (i = 0; i < n; i++) {
		const char *c = m->text + hits[i].off;
		int seen = 0;

		if (hits[i].kind != LEAK_AWS_SECRET || hits[i].off < from || hits[i].off >= to)
			continue;
		for (j = 0; j < k->ncand; j++)
			seen |= !memcmp(k->cand[j], c, 40);
		if (!seen && k->ncand < LEAK_KEY_CANDIDATES)
			k->cand[k->ncand++] = c;
		else if (!seen)
			k->cand_overflow = 1;
	}
}

static void count_hit(struct leak_findings *f, const struct leak_watch *w, const struct leak_msg *m,
		      const struct leak_hit *hits, size_t n, const struct leak_hit *h)
{
	char fp[RESP_FP_LEN];

	if (h->kind == LEAK_SECRET) {
		const struct leak_value *v = &w->values[h->value];

		if (v->previous)
			f->prev_hits[v->secret]++;
		else
			f->cur_hits[v->secret]++;
	} else if (h->kind == LEAK_AWS_KEY_ID) {
		char id[21];
		struct leak_key *k;

		memcpy(id, m->text + h->off, 20);
		id[20] = '\0';
		k = key_slot(f, id);
		if (!k) {
			kit_warn_to(f->warnings, "more than %d access key ids: the rest is reported only",
				    LEAK_MAX_KEYS);
			return;
		}
		k->hits++;
		k->near_secret |= h->near_secret;
		if (h->near_secret)
			add_candidates(k, m, hits, n, h);
	} else if (h->kind != LEAK_AWS_SECRET) {
		struct leak_token *t;

		resp_fingerprint(m->text + h->off, h->len, fp);
		t = token_slot(f, h->kind, fp);
		if (t) {
			t->hits++;
			if (t->secret < 0)
				t->secret = inside_secret(w, hits, n, h);
		}
	}
}

void leak_scan_messages(const struct leak_watch *w, const struct leak_msg *msgs, size_t n,
			struct leak_findings *f)
{
	struct leak_hit hits[LEAK_MAX_HITS_PER_MESSAGE];
	char skip[CT_TEXT_MAX_IDS][21];
	size_t i, j;

	for (i = 0; i < n; i++) {
		const struct leak_msg *m = &msgs[i];
		size_t nskip = 0, nh;

		if (ct_record_text(m->text, m->len, skip, CT_TEXT_MAX_IDS, &nskip)) {
			f->cloudtrail_records++;
			f->cloudtrail_ids += nskip;
		}
		nh = leak_scan_skip(&w->sc, m->text, m->len, hits, LEAK_MAX_HITS_PER_MESSAGE, skip, nskip);

		if (nh == LEAK_MAX_HITS_PER_MESSAGE)
			kit_warn_to(f->warnings, "event '%s' has %u+ hits: the rest of it was not looked at",
				    m->id, LEAK_MAX_HITS_PER_MESSAGE);
		for (j = 0; j < nh; j++) {
			report_hit(f, w, m, hits, nh, j);
			count_hit(f, w, m, hits, nh, &hits[j]);
		}
	}
}

/* ---- decisions ------------------------------------------------------------------------------------- */

/* The stages that keep a version's value valid: AWSCURRENT is served,
 * AWSPREVIOUS is what rotations keep working until the next one
 * (alternating users, API-key rotators with two live keys), AWSPENDING is
 * being set. A version with none of them is deprecated: dead. */
static const char *live_stage(const cJSON *v2s, const char *vid)
{
	static const char *const live[] = { "AWSCURRENT", "AWSPREVIOUS", "AWSPENDING" };
	size_t i;

	for (i = 0; vid && *vid && i < sizeof(live) / sizeof(live[0]); i++)
		if (rdp_version_has(v2s, vid, live[i]))
			return live[i];
	return NULL;
}

enum leak_decision leak_decide_secret(const cJSON *describe, const char *loaded_version,
				      struct leak_job *j, char *detail, size_t dlen)
{
	const cJSON *v2s = cJSON_GetObjectItemCaseSensitive(describe, "VersionIdsToStages");
	const cJSON *rd = cJSON_GetObjectItemCaseSensitive(describe, "LastRotatedDate");
	const char *cur = rdp_version_with(v2s, "AWSCURRENT", NULL);
	const char *pending = rdp_version_with(v2s, "AWSPENDING", "AWSCURRENT");
	const char *leaked = j->leaked_version[0] ? j->leaked_version : loaded_version;
	const char *stage;

	j->rs.changed_at = cJSON_IsNumber(rd) ? rd->valuedouble : 0;
	buf_copy_str(j->rs.old_version, sizeof(j->rs.old_version), cur);
	if (j->exempt) {
		snprintf(detail, dlen, "exempt: secret tagged firebreak:exempt=true (leak reported, not "
			 "rotated; tag honoured: %s)", j->exempt_why);
		return LEAK_DECIDE_EXEMPT;
	}
	if (pending) {
		/* a rotation is under way: wait for it, never start a second */
		snprintf(detail, dlen,
			 "rotation already in progress (version %s is AWSPENDING): waiting for it", pending);
		buf_copy_str(j->rs.version, sizeof(j->rs.version), pending);
		return LEAK_DECIDE_IN_PROGRESS;
	}
	if (j->rs.token[0] && (rdp_version_has(v2s, j->rs.token, "AWSCURRENT") ||
			    rdp_version_has(v2s, j->rs.token, "AWSPREVIOUS"))) {
		/* our ClientRequestToken is a version that completed: an earlier
		 * delivery of this incident already rotated the leaked version
		 * away (a token version left without a stage is a failed
		 * rotation: decided below, and the wait reports it) */
		snprintf(detail, dlen, "rotated by an earlier delivery of this incident (version %s is %s)",
			 j->rs.token, rdp_version_has(v2s, j->rs.token, "AWSCURRENT") ? "AWSCURRENT" : "AWSPREVIOUS");
		return LEAK_DECIDE_ALREADY;
	}
	/* a leaked version we cannot name is taken as live: an extra rotation
	 * is cheaper than a live credential called dead */
	stage = leaked && *leaked ? live_stage(v2s, leaked) : j->cur_hits ? "AWSCURRENT" : "AWSPREVIOUS";
	if (!stage) {
		snprintf(detail, dlen, "leaked version %s is neither AWSCURRENT, AWSPREVIOUS nor AWSPENDING "
			 "(current version %s): no longer valid, already rotated", leaked && *leaked ? leaked : "?",
			 cur ? cur : "?");
		return LEAK_DECIDE_ALREADY;
	}
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(describe, "RotationEnabled")) ||
	    !resp_get_str(describe, "RotationLambdaARN")) {
		snprintf(detail, dlen, "rotation is not configured for this secret (no rotation function): "
			 "cannot rotate here; rotate it by hand and redeploy its users");
		return LEAK_DECIDE_NO_ROTATION;
	}
	if (strcmp(stage, "AWSCURRENT"))
		snprintf(detail, dlen, "leaked version %s is %s: still valid until the next rotation "
			 "(alternating users, API keys that keep the previous one), so rotating again "
			 "drops it", leaked && *leaked ? leaked : "?", stage);
	else
		detail[0] = '\0';
	if (j->exempt_why[0]) {
		size_t n = strlen(detail);

		snprintf(detail + n, dlen - n, "%sfirebreak:exempt=true ignored: %s", n ? "; " : "",
			 j->exempt_why);
	}
	return LEAK_DECIDE_ROTATE;
}

/* ---- report parts ----------------------------------------------------------------------------------- */

int leak_tags_need_history(const cJSON *tags)
{
	return prov_tag_true(tags, LEAK_TAG_EXEMPT) || prov_tag_value(tags, LEAK_TAG_SERVICES) != NULL;
}

void leak_tags_decide(const cJSON *tags, const cJSON *events, const struct prov_query *base,
		      struct leak_job *j, cJSON *list)
{
	const char *ex = prov_tag_value(tags, LEAK_TAG_EXEMPT);
	const char *svc = prov_tag_value(tags, LEAK_TAG_SERVICES);

	j->exempt = 0;
	j->exempt_why[0] = j->services_why[0] = '\0';
	free(j->services);
	free(j->services_ignored);
	j->services = j->services_ignored = NULL;
	if (prov_value_true(ex))
		j->exempt = prov_decide_tag(events, base, LEAK_TAG_EXEMPT, ex, j->exempt_why,
					    sizeof(j->exempt_why), list) == PROV_HONOURED;
	if (!svc)
		return;
	if (prov_decide_tag(events, base, LEAK_TAG_SERVICES, svc, j->services_why, sizeof(j->services_why),
			    list) == PROV_HONOURED)
		j->services = strdup(svc);
	else
		j->services_ignored = strdup(svc);
}

enum leak_key_route leak_key_route(const char *key_account, const char *own_account,
				   const char *member_role)
{
	int role = member_role && *member_role;

	if (own_account && key_account && !strcmp(key_account, own_account))
		return LEAK_KEY_OWN;
	return role ? LEAK_KEY_MEMBER : LEAK_KEY_NO_ROLE;
}

cJSON *leak_keys_json(const struct leak_key *keys, size_t n)
{
	cJSON *arr = cJSON_CreateArray();
	size_t i;

	for (i = 0; arr && i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "access_key_id", keys[i].id);
		cJSON_AddNumberToObject(o, "hits", (double)keys[i].hits);
		cJSON_AddBoolToObject(o, "secret_key_nearby", keys[i].near_secret);
		kit_add_strs(o, "account", keys[i].account, "user", keys[i].user, "last_used", keys[i].last_used,
			     "last_used_service", keys[i].last_service, "last_used_region", keys[i].last_region, KIT_END);
		cJSON_AddItemToObject(o, "secret_key_verified", keys[i].verified ? cJSON_CreateTrue()
				      : keys[i].refused ? cJSON_CreateFalse() : cJSON_CreateNull());
		if (keys[i].role[0])
			cJSON_AddStringToObject(o, "role", keys[i].role);
		cJSON_AddStringToObject(o, "action", keys[i].role[0]
					? "temporary credential (key id, secret access key and session token in one "
					  "event, verified): revoke the role's older sessions"
					: leak_key_usable(&keys[i])
					? "usable credential (key id and secret access key in one event): deactivate"
					: keys[i].refused
					? "reported only: the 40-character string next to it is not its secret (STS refused it)"
					: "reported only: key id without a secret access key");
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

const char *leak_session_token(const struct leak_msgs *m, const char *key_id, size_t *len)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, at, n, pad, best_n = 0;
	const char *best = NULL;

	for (i = 0; i < m->n && !best; i++) {
		const struct leak_msg *g = &m->v[i];

		if (!g->text || !memmem(g->text, g->len, key_id, strlen(key_id)))
			continue;
		for (at = 0; at < g->len; at += n ? n : 1) {
			for (n = 0; at + n < g->len && g->text[at + n] && strchr(b64, g->text[at + n]); n++)
				;
			/* '=' only as padding at the end ("TOKEN=Fwo..." is a name, then the token) */
			for (pad = 0; n && pad < 2 && at + n < g->len && g->text[at + n] == '='; pad++)
				n++;
			if (n >= LEAK_TOKEN_MIN && n <= LEAK_TOKEN_MAX && n > best_n) {
				best = g->text + at;
				best_n = n;
			}
		}
	}
	*len = best_n;
	return best;
}

int leak_key_usable(const struct leak_key *k)
{
	return k->near_secret && !k->refused;
}

cJSON *leak_tokens_json(const struct leak_token *t, size_t n, const struct leak_watch *w)
{
	cJSON *arr = cJSON_CreateArray();
	size_t i;

	for (i = 0; arr && i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		int watched = t[i].secret >= 0 && (size_t)t[i].secret < w->nsecrets;

		kit_add_strs(o, "kind", leak_kind_name(t[i].kind), "fingerprint", t[i].fp, KIT_END);
		cJSON_AddNumberToObject(o, "hits", (double)t[i].hits);
		cJSON_AddItemToObject(o, "watched_secret", watched ? cJSON_CreateString(w->secrets[t[i].secret].arn)
				      : cJSON_CreateNull());
		cJSON_AddStringToObject(o, "action", watched ? "rotated with its watched secret"
					: "reported only: not a watched secret; revoke it at its issuer");
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}
