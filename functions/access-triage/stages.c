/*
 * access-triage stages: pure decisions over the trigger and CloudTrail
 * events (no AWS). See access_triage.h.
 */
#include "access_triage.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "buf.h"
#include "cloudtrail.h"
#include "field.h"
#include "kit.h"
#include "resp.h"

void at_settings_default(struct at_settings *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->alarm_name, sizeof(s->alarm_name), "%s", "unauthorized-api-calls");
	s->window_minutes = 15;
	s->lookback_minutes = 15;
	s->max_pages = 20;
	s->max_principals = 20;
	s->burst_apis = 5;
	s->burst_services = 2;
	s->query_wait_s = 60;
	s->query_limit = 10000;
	s->poll_ms = 250;
}

/* arn:<partition>:wafv2:<region>:<account>:(regional|global)/ipset/<name>/<id> */
static int at_ipset_parse(struct at_settings *s, const char *arn)
{
	char f[5][64], rest[AT_NAME_LEN * 2];
	const char *p = arn, *c, *slash;
	size_t n;

	if (strlen(arn) >= sizeof(s->ipset_arn))
		return -1;
	for (int i = 0; i < 5; i++) {
		c = strchr(p, ':');
		if (!c || (size_t)(c - p) >= sizeof(f[0]))
			return -1;
		snprintf(f[i], sizeof(f[i]), "%.*s", (int)(c - p), p);
		p = c + 1;
	}
	snprintf(rest, sizeof(rest), "%s", p);
	if (strcmp(f[0], "arn") || strcmp(f[2], "wafv2") || !resp_region_name_ok(f[3]) || !resp_account_id_ok(f[4]))
		return -1;
	if (!strncmp(rest, "regional/ipset/", 15)) {
		snprintf(s->ipset_scope, sizeof(s->ipset_scope), "REGIONAL");
		p = rest + 15;
	} else if (!strncmp(rest, "global/ipset/", 13) && !strcmp(f[3], "us-east-1")) {
		snprintf(s->ipset_scope, sizeof(s->ipset_scope), "CLOUDFRONT");
		p = rest + 13;
	} else {
		return -1;
	}
	slash = strchr(p, '/');
	n = slash ? (size_t)(slash - p) : 0;
	if (!n || n > 128 || strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != n ||
	    !slash[1] || strlen(slash + 1) >= sizeof(s->ipset_id) ||
	    strspn(slash + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != strlen(slash + 1))
		return -1;
	snprintf(s->ipset_name, sizeof(s->ipset_name), "%.*s", (int)n, p);
	snprintf(s->ipset_id, sizeof(s->ipset_id), "%s", slash + 1);
	snprintf(s->ipset_region, sizeof(s->ipset_region), "%.31s", f[3]);
	snprintf(s->ipset_account, sizeof(s->ipset_account), "%.15s", f[4]);
	snprintf(s->ipset_arn, sizeof(s->ipset_arn), "%s", arn);
	return 0;
}

enum fb_err at_settings_from_env(struct at_settings *s, char *err, size_t errlen)
{
	const char *v;
	enum fb_err rc;

	at_settings_default(s);
	if ((rc = field_env_str("FIREBREAK_AT_ALARM_NAME", s->alarm_name, sizeof(s->alarm_name), err, errlen)) ||
	    (rc = field_env_str("FIREBREAK_AT_NOISY_PRINCIPALS", s->noisy, sizeof(s->noisy), err, errlen)))
		return rc;
	v = getenv("FIREBREAK_AT_TRUSTED_CIDRS");
	if (v && *v && (rc = kit_cidrs_parse(v, "FIREBREAK_AT_TRUSTED_CIDRS", s->trusted, AT_MAX_CIDRS, &s->ntrusted, err,
					    errlen)) != FB_OK)
		return rc;
	v = getenv("FIREBREAK_TRIAGE_CONTAIN");
	if (v && *v) {
		if (strcmp(v, "true") && strcmp(v, "false")) {
			snprintf(err, errlen, "setting 'FIREBREAK_TRIAGE_CONTAIN' must be 'true' or 'false'");
			return FB_E_CONFIG;
		}
		s->contain = !strcmp(v, "true");
	}
	v = getenv("FIREBREAK_AT_IPSET_ARN");
	if (v && *v && at_ipset_parse(s, v) != 0) {
		snprintf(err, errlen, "setting 'FIREBREAK_AT_IPSET_ARN' is not a WAFv2 IP set ARN "
			 "(arn:aws:wafv2:<region>:<account>:regional|global/ipset/<name>/<id>)");
		return FB_E_CONFIG;
	}
	v = getenv("FIREBREAK_AT_LOG_GROUP");
	if (v && *v) {
		/* a log group name: [.-_/#A-Za-z0-9]{1,512} (CloudWatch Logs) */
		if (strlen(v) >= sizeof(s->log_group) || strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
								   "0123456789._-/#") != strlen(v)) {
			snprintf(err, errlen, "setting 'FIREBREAK_AT_LOG_GROUP' is not a log group name");
			return FB_E_CONFIG;
		}
		snprintf(s->log_group, sizeof(s->log_group), "%s", v);
	}
	if ((rc = kit_env_int("FIREBREAK_AT_QUERY_WAIT_SECONDS", 60, 1, 840, &s->query_wait_s, err, errlen)) ||
	    (rc = kit_env_int("FIREBREAK_AT_QUERY_LIMIT", 10000, 1, 10000, &s->query_limit, err, errlen)) ||
	    (rc = kit_env_int("FIREBREAK_AT_POLL_MS", 250, 10, 5000, &s->poll_ms, err, errlen)))
		return rc;
	if ((rc = kit_env_int("FIREBREAK_AT_WINDOW_MINUTES", 15, 1, 1440, &s->window_minutes, err, errlen)) ||
	    (rc = kit_env_int("FIREBREAK_AT_LOOKBACK_MINUTES", 15, 0, 1440, &s->lookback_minutes, err, errlen)) ||
	    (rc = kit_env_int("FIREBREAK_AT_MAX_PAGES", 20, 1, 200, &s->max_pages, err, errlen)) ||
	    (rc = kit_env_int("FIREBREAK_AT_MAX_PRINCIPALS", 20, 1, 200, &s->max_principals, err, errlen)) ||
	    (rc = kit_env_int("FIREBREAK_AT_BURST_APIS", 5, 1, 1000, &s->burst_apis, err, errlen)) ||
	    (rc = kit_env_int("FIREBREAK_AT_BURST_SERVICES", 2, 1, 100, &s->burst_services, err, errlen)))
		return rc;
	return FB_OK;
}

void at_event_cleanup(struct at_event *ev)
{
	field_json_free(&ev->root);
}

enum fb_err at_parse(const char *event, size_t len, const struct at_settings *set, int64_t now_ms,
		     struct at_event *ev, char *why, size_t whylen)
{
	const cJSON *src, *dt, *wm, *id;
	const char *name, *state, *ts;
	int64_t end;
	long minutes;

	memset(ev, 0, sizeof(*ev));
	if (resp_parse_event(event, len, RESP_MAX_EVENT_BYTES, &ev->root, why, whylen) != FB_OK)
		return FB_E_INVALID;
	src = cJSON_GetObjectItemCaseSensitive(ev->root, "source");
	dt = cJSON_GetObjectItemCaseSensitive(ev->root, "detail-type");
	id = cJSON_GetObjectItemCaseSensitive(ev->root, "id");
	if (cJSON_IsString(id) && strlen(id->valuestring) < sizeof(ev->event_id))
		snprintf(ev->event_id, sizeof(ev->event_id), "%s", id->valuestring);
	if (src || dt) {
		if (!cJSON_IsString(src) || !cJSON_IsString(dt))
			return field_bad(why, whylen, "'source' and 'detail-type' must be strings");
		if (strcmp(src->valuestring, "aws.cloudwatch") != 0 ||
		    strcmp(dt->valuestring, "CloudWatch Alarm State Change") != 0)
			return field_bad(why, whylen, "not a CloudWatch Alarm State Change event");
		if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(ev->root, "detail")))
			return field_bad(why, whylen, "'detail' must be an object");
		name = resp_get_str(ev->root, "detail.alarmName");
		state = resp_get_str(ev->root, "detail.state.value");
		if (!name || !*name || strlen(name) >= sizeof(ev->alarm))
			return field_bad(why, whylen, "'detail.alarmName' must be a non-empty string");
		if (!state)
			return field_bad(why, whylen, "'detail.state.value' must be a string");
		ev->kind = AT_ALARM;
		snprintf(ev->alarm, sizeof(ev->alarm), "%s", name);
		if (strcmp(name, set->alarm_name) != 0) {
			ev->kind = AT_SKIP;
			snprintf(ev->why, sizeof(ev->why), "alarm is not FIREBREAK_AT_ALARM_NAME ('%.200s')",
				 set->alarm_name);
			return FB_OK;
		}
		if (strcmp(state, "ALARM") != 0) {
			ev->kind = AT_SKIP;
			snprintf(ev->why, sizeof(ev->why), "alarm state is not ALARM");
			return FB_OK;
		}
		/* the window ends when the alarm fired: state.timestamp, else
		 * the envelope's time; never a time the event cannot give */
		ts = resp_get_str(ev->root, "detail.state.timestamp");
		end = ts ? resp_parse_time_ms(ts) : 0;
		if (end <= 0) {
			ts = resp_get_str(ev->root, "time");
			end = ts ? resp_parse_time_ms(ts) : 0;
		}
		if (end <= 0)
			return field_bad(why, whylen, "the alarm event has no valid 'detail.state.timestamp' or 'time'");
		minutes = set->window_minutes;
	} else {
		const cJSON *k;

		/* the manual form is exactly this: anything else is a mistake
		 * (or another responder's event) and is said, not ignored */
		cJSON_ArrayForEach(k, ev->root) {
			if (strcmp(k->string, "window_minutes") != 0 && strcmp(k->string, "dryRun") != 0)
				return field_bad(why, whylen, "the manual form is {\"window_minutes\": N} (and "
						 "\"dryRun\")");
		}
		wm = cJSON_GetObjectItemCaseSensitive(ev->root, "window_minutes");
		if (!wm) {
			minutes = set->window_minutes;
		} else if (!cJSON_IsNumber(wm) || kit_json_long(wm, &minutes) != 0 || (double)minutes != wm->valuedouble ||
			   minutes < 1 || minutes > 1440) {
			return field_bad(why, whylen, "'window_minutes' must be an integer in 1..1440");
		}
		ev->kind = AT_MANUAL;
		end = now_ms;
	}
	ev->end_ms = end;
	ev->start_ms = end - ((int64_t)minutes + set->lookback_minutes) * 60000;
	return FB_OK;
}

/* ---- grouping ----------------------------------------------------------------- */

int at_is_denied(const char *code)
{
	size_t n, k = strlen("UnauthorizedOperation");

	if (!code || !*code)
		return 0;
	if (strncmp(code, "AccessDenied", strlen("AccessDenied")) == 0)
		return 1;
	n = strlen(code);
	return n >= k && strcmp(code + n - k, "UnauthorizedOperation") == 0;
}

static int at_read_name(const char *name)
{
	static const char *const pre[] = { "List", "Describe", "Get", "Head", "Lookup", "Search", "BatchGet" };

	for (size_t i = 0; name && i < sizeof(pre) / sizeof(pre[0]); i++)
		if (strncmp(name, pre[i], strlen(pre[i])) == 0)
			return 1;
	return 0;
}

int at_is_read(const char *name, const cJSON *read_only)
{
	/* CloudTrail's readOnly when given (a bool, or "true"/"false");
	 * unknown is a write: a write counted as a read could hide a P1 */
	if (cJSON_IsBool(read_only))
		return cJSON_IsTrue(read_only);
	if (cJSON_IsString(read_only))
		return strcmp(read_only->valuestring, "true") == 0;
	return at_read_name(name);
}

void at_triage_init(struct at_triage *t, int64_t start_ms, int64_t end_ms)
{
	memset(t, 0, sizeof(*t));
	t->start_ms = start_ms;
	t->end_ms = end_ms;
}

void at_triage_cleanup(struct at_triage *t)
{
	free(t->g);
	t->g = NULL;
	t->n = t->cap = 0;
	free(t->src);
	t->src = NULL;
	t->nsrc = t->srccap = 0;
}

static int at_real_ip(const char *ip);

const struct at_src *at_source(const struct at_triage *t, const char *ip)
{
	for (size_t i = 0; i < t->nsrc; i++)
		if (strcmp(t->src[i].ip, ip) == 0)
			return &t->src[i];
	return NULL;
}

/* The source entry of a success's IP: made when a denial came from it. */
static struct at_src *at_src_for(struct at_triage *t, const char *ip)
{
	struct at_src *s = (struct at_src *)at_source(t, ip);
	int denied = 0;

	if (s || !at_real_ip(ip))
		return s;
	for (size_t i = 0; i < t->n && !denied; i++)
		denied = strcmp(t->g[i].ip, ip) == 0;
	if (!denied)
		return NULL;
	s = buf_grow_array(t->src, t->nsrc, &t->srccap, sizeof(*s), 4);
	if (!s)
		return NULL;
	t->src = s;
	s = &t->src[t->nsrc++];
	memset(s, 0, sizeof(*s));
	snprintf(s->ip, sizeof(s->ip), "%s", ip);
	return s;
}

/* The fields of one event a decision reads. */
struct at_ev {
	char principal[AT_ARN_LEN];
	const char *ip, *code, *name, *source, *agent;
	const char *type, *account, *user, *key_id, *issuer;
	int root;
	int64_t ms;
	const cJSON *read_only;
};

static int at_ev_read(const cJSON *detail, struct at_ev *e)
{
	const char *arn = resp_get_str(detail, "userIdentity.arn");
	const char *type = resp_get_str(detail, "userIdentity.type");
	const char *acct = resp_get_str(detail, "userIdentity.accountId");
	const char *tm = resp_get_str(detail, "eventTime");

	memset(e, 0, sizeof(*e));
	e->ip = resp_get_str(detail, "sourceIPAddress");
	e->code = resp_get_str(detail, "errorCode");
	e->name = resp_get_str(detail, "eventName");
	e->source = resp_get_str(detail, "eventSource");
	e->agent = resp_get_str(detail, "userAgent");
	e->read_only = cJSON_GetObjectItemCaseSensitive(detail, "readOnly");
	e->root = type && strcmp(type, "Root") == 0;
	e->type = type;
	e->account = acct;
	e->user = resp_get_str(detail, "userIdentity.userName");
	e->key_id = resp_get_str(detail, "userIdentity.accessKeyId");
	e->issuer = resp_get_str(detail, "userIdentity.sessionContext.sessionIssuer.arn");
	e->ms = tm ? resp_parse_time_ms(tm) : 0;
	if (!e->name || !e->source || !e->ip || e->ms <= 0)
		return 0;
	if (arn && *arn && strlen(arn) < sizeof(e->principal))
		snprintf(e->principal, sizeof(e->principal), "%s", arn);
	else if (type && strlen(type) < 64)
		snprintf(e->principal, sizeof(e->principal), "%s:%.20s", type, acct ? acct : "");
	else
		return 0;
	if (strlen(e->ip) >= AT_IP_LEN)
		return 0;
	return 1;
}

static struct at_group *at_find(struct at_triage *t, const char *principal, const char *ip)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->g[i].principal, principal) == 0 && strcmp(t->g[i].ip, ip) == 0)
			return &t->g[i];
	return NULL;
}

static void at_api(const struct at_ev *e, char *out, size_t cap)
{
	char svc[64];
	const char *dot = strchr(e->source, '.');
	size_t n = dot ? (size_t)(dot - e->source) : strlen(e->source);

	snprintf(svc, sizeof(svc), "%.*s", (int)(n < sizeof(svc) ? n : sizeof(svc) - 1), e->source);
	snprintf(out, cap, "%.32s:%.60s", svc, e->name);
}

static void at_add_denial(struct at_group *g, const struct at_ev *e)
{
	char api[96], svc[64];
	char *colon;
	int i;

	if (!g->denied) {
		snprintf(g->type, sizeof(g->type), "%s", e->type && strlen(e->type) < sizeof(g->type) ? e->type : "");
		snprintf(g->account, sizeof(g->account), "%s",
			 e->account && strlen(e->account) < sizeof(g->account) ? e->account : "");
		if (e->user && strlen(e->user) < sizeof(g->user))
			snprintf(g->user, sizeof(g->user), "%s", e->user);
		if (e->issuer && strlen(e->issuer) < sizeof(g->role_arn) && strstr(e->issuer, ":role/"))
			snprintf(g->role_arn, sizeof(g->role_arn), "%s", e->issuer);
	}
	if (!g->key_id[0] && at_is_long_term_key(e->key_id))
		snprintf(g->key_id, sizeof(g->key_id), "%s", e->key_id);
	g->denied++;
	if (at_read_name(e->name))
		g->denied_reads++;
	if (!g->first_ms || e->ms < g->first_ms)
		g->first_ms = e->ms;
	if (e->ms > g->last_ms)
		g->last_ms = e->ms;
	at_api(e, api, sizeof(api));
	for (i = 0; i < g->napis && strcmp(g->apis[i], api) != 0; i++)
		;
	if (i == g->napis) {
		if (g->napis < AT_MAX_APIS)
			snprintf(g->apis[g->napis++], sizeof(g->apis[0]), "%s", api);
		else
			g->apis_more++;
	}
	colon = strchr(api, ':');
	snprintf(svc, sizeof(svc), "%.*s", colon && colon - api < 63 ? (int)(colon - api) : 0, api);
	for (i = 0; i < g->nservices && strcmp(g->services[i], svc) != 0; i++)
		;
	if (i == g->nservices && g->nservices < AT_MAX_APIS)
		snprintf(g->services[g->nservices++], sizeof(g->services[0]), "%s", svc);
	if (e->agent && g->nagents < AT_MAX_AGENTS) {
		for (i = 0; i < g->nagents && strncmp(g->agents[i], e->agent, AT_AGENT_LEN - 1) != 0; i++)
			;
		if (i == g->nagents)
			snprintf(g->agents[g->nagents++], AT_AGENT_LEN, "%s", e->agent);
	}
}

/* A success from a source IP with denials; `other`: by a principal never
 * denied from it. */
static void at_src_add(struct at_src *s, const struct at_ev *e, int rd, int other)
{
	struct at_call *c = NULL;
	int i;

	if (rd) {
		s->ok_reads++;
		if (s->nreads < AT_SRC_READS)
			c = &s->reads[s->nreads++];
	} else {
		s->ok_writes++;
		if (s->nwrites < AT_SRC_WRITES)
			c = &s->writes[s->nwrites++];
	}
	if (c) {
		snprintf(c->principal, sizeof(c->principal), "%s", e->principal);
		at_api(e, c->api, sizeof(c->api));
	}
	if (!other)
		return;
	s->other_ok++;
	for (i = 0; i < s->nothers && strcmp(s->others[i], e->principal) != 0; i++)
		;
	if (i < s->nothers)
		return;
	if (s->nothers < AT_SRC_OTHERS)
		snprintf(s->others[s->nothers++], sizeof(s->others[0]), "%s", e->principal);
	else
		s->others_more++;
}

/* One pass: denials (pass 0) make groups; successes (pass 1) join the
 * group of the same principal and source IP. */
static enum fb_err at_pass(struct at_triage *t, const cJSON *events, int pass)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, events) {
		cJSON *d = ct_event_detail(it);
		struct at_ev e;
		struct at_group *g;

		if (!d || !at_ev_read(d, &e)) {
			if (pass == 0)
				t->unreadable++;
			cJSON_Delete(d);
			continue;
		}
		if ((t->start_ms && e.ms < t->start_ms) || (t->end_ms && e.ms > t->end_ms)) {
			cJSON_Delete(d);
			continue;
		}
		if (pass == 0)
			t->events++;
		if (pass == 0 && at_is_denied(e.code)) {
			t->denied++;
			g = at_find(t, e.principal, e.ip);
			if (!g && t->n >= AT_MAX_GROUPS) {
				t->groups_dropped++;
			} else {
				if (!g) {
					g = buf_grow_array(t->g, t->n, &t->cap, sizeof(*g), 8);
					if (!g) {
						cJSON_Delete(d);
						return FB_E_NOMEM;
					}
					t->g = g;
					g = &t->g[t->n++];
					memset(g, 0, sizeof(*g));
					snprintf(g->principal, sizeof(g->principal), "%s", e.principal);
					snprintf(g->ip, sizeof(g->ip), "%s", e.ip);
					g->root = e.root;
				}
				at_add_denial(g, &e);
			}
		} else if (pass == 1 && (!e.code || !*e.code)) {
			int rd = at_is_read(e.name, e.read_only);
			struct at_src *src = at_src_for(t, e.ip);

			g = at_find(t, e.principal, e.ip);
			if (g && rd) {
				g->ok_reads++;
			} else if (g) {
				g->ok_writes++;
				if (g->nwrites < 8)
					at_api(&e, g->writes[g->nwrites++], sizeof(g->writes[0]));
			}
			if (src)
				at_src_add(src, &e, rd, g == NULL);
		}
		cJSON_Delete(d);
	}
	return FB_OK;
}

static const cJSON *at_events_of(const cJSON *events)
{
	if (cJSON_IsObject(events))
		events = cJSON_GetObjectItemCaseSensitive(events, "Events");
	return cJSON_IsArray(events) ? events : NULL;
}

enum fb_err at_add_denials(struct at_triage *t, const cJSON *events)
{
	events = at_events_of(events);
	return events ? at_pass(t, events, 0) : FB_OK;
}

void at_add_successes(struct at_triage *t, const cJSON *events)
{
	events = at_events_of(events);
	if (events)
		(void)at_pass(t, events, 1);
}

enum fb_err at_add_events(struct at_triage *t, const cJSON *events)
{
	enum fb_err rc = at_add_denials(t, events);

	if (rc == FB_OK)
		at_add_successes(t, events);
	return rc;
}

/* ---- CloudWatch Logs Insights ------------------------------------------------- */

/* The fields the stages read, then the record itself: the explicit fields
 * make the query's intent readable in the console's query history. */
#define AT_QUERY_FIELDS "fields @timestamp, @message"

char *at_query_denied(int limit)
{
	char *q = malloc(512);

	if (q)
		snprintf(q, 512,
			 AT_QUERY_FIELDS " | filter errorCode like /UnauthorizedOperation$/ or errorCode like /^AccessDenied/"
			 " | sort @timestamp desc | limit %d", limit);
	return q;
}

/* A sourceIPAddress that is an IP address (not "AWS Internal", not a
 * service name), in the form it has in the record. */
static int at_real_ip(const char *ip)
{
	struct kit_cidr c;

	return ip && *ip && !strchr(ip, '/') && kit_cidr_parse(ip, &c) == 0;
}

char *at_query_successes(const struct at_triage *t, int limit, size_t *nips, size_t *left)
{
	size_t cap = 256 + AT_QUERY_MAX_IPS * (AT_IP_LEN + 4), len;
	char *q = malloc(cap);

	*nips = *left = 0;
	if (!q)
		return NULL;
	len = (size_t)snprintf(q, cap, AT_QUERY_FIELDS " | filter not ispresent(errorCode) and sourceIPAddress in [");
	for (size_t i = 0; i < t->n; i++) {
		const char *ip = t->g[i].ip;
		int seen = 0;

		if (!at_real_ip(ip))
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(t->g[j].ip, ip) == 0;
		if (seen)
			continue;
		if (*nips >= AT_QUERY_MAX_IPS) {
			(*left)++;
			continue;
		}
		/* an IP address is digits, hex, '.', ':' only: safe in quotes */
		len += (size_t)snprintf(q + len, cap - len, "%s\"%s\"", *nips ? ", " : "", ip);
		(*nips)++;
	}
	if (!*nips) {
		free(q);
		return NULL;
	}
	snprintf(q + len, cap - len, "] | sort @timestamp desc | limit %d", limit);
	return q;
}

enum at_qstatus at_query_status(const char *status)
{
	if (!status)
		return AT_Q_BAD;
	if (!strcmp(status, "Scheduled") || !strcmp(status, "Running") || !strcmp(status, "Unknown"))
		return AT_Q_RUNNING;
	if (!strcmp(status, "Complete"))
		return AT_Q_COMPLETE;
	if (!strcmp(status, "Failed") || !strcmp(status, "Timeout") || !strcmp(status, "Cancelled"))
		return AT_Q_ENDED;
	return AT_Q_BAD;
}

cJSON *at_insights_events(const cJSON *results)
{
	cJSON *arr = cJSON_CreateArray();
	const cJSON *row, *cell;

	if (!arr)
		return NULL;
	cJSON_ArrayForEach(row, results) {
		cJSON_ArrayForEach(cell, row) {
			const char *f = resp_get_str(cell, "field"), *v = resp_get_str(cell, "value");
			cJSON *o;

			if (!f || !v || strcmp(f, "@message") != 0)
				continue;
			o = cJSON_CreateObject();
			if (!o || !cJSON_AddStringToObject(o, "CloudTrailEvent", v)) {
				cJSON_Delete(o);
				cJSON_Delete(arr);
				return NULL;
			}
			cJSON_AddItemToArray(arr, o);
			break;
		}
	}
	return arr;
}

/* ---- verdict ------------------------------------------------------------------- */

static int at_noisy(const struct at_settings *set, const char *principal)
{
	const char *p = set->noisy;
	char pat[AT_ARN_LEN];
	int r;

	while ((r = kit_list_next(&p, pat, sizeof(pat))) != 0)
		if (r > 0 && resp_glob_match(pat, principal))
			return 1;
	return 0;
}

static int at_rank(const char *sev)
{
	return sev[0] ? sev[1] - '0' : 9;
}

static int at_cmp(const void *a, const void *b)
{
	const struct at_group *x = a, *y = b;
	int d = at_rank(x->sev) - at_rank(y->sev);

	if (d)
		return d;
	if (x->denied != y->denied)
		return y->denied - x->denied;
	d = strcmp(x->principal, y->principal);
	return d ? d : strcmp(x->ip, y->ip);
}

const char *at_decide(struct at_triage *t, const struct at_settings *set)
{
	for (size_t i = 0; i < t->nsrc; i++)
		t->src[i].trusted = kit_ip_in(set->trusted, set->ntrusted, t->src[i].ip) == KIT_IP_IN;
	for (size_t i = 0; i < t->n; i++) {
		struct at_group *g = &t->g[i];
		const struct at_src *src = at_source(t, g->ip);
		int burst = g->denied_reads >= set->burst_apis && g->napis >= set->burst_apis &&
			    g->nservices >= set->burst_services;

		/* P1 first: a noisy-pattern match never downgrades a principal
		 * that succeeded at writing from the source it was denied
		 * from (the pattern is a name, and a name can be chosen) */
		if (g->ok_writes > 0) {
			snprintf(g->sev, sizeof(g->sev), "P1");
			snprintf(g->reason, sizeof(g->reason),
				 "%d denied and %d successful write(s) from the same source (first: %s)", g->denied,
				 g->ok_writes, g->writes[0]);
		} else if (g->root) {
			snprintf(g->sev, sizeof(g->sev), "P1");
			snprintf(g->reason, sizeof(g->reason), "root credentials denied %d time(s)", g->denied);
		} else if (g->leaked) {
			snprintf(g->sev, sizeof(g->sev), "P1");
			snprintf(g->reason, sizeof(g->reason), "%d denied; access key already reported leaked (%s)",
				 g->denied, g->leaked_why);
		} else if (src && src->other_ok > 0 && !src->trusted) {
			/* someone else's credentials work from where this
			 * principal was denied: the attacker holds more than
			 * the denied key */
			snprintf(g->sev, sizeof(g->sev), "P1");
			snprintf(g->reason, sizeof(g->reason),
				 "%d denied; another principal succeeded from the same source (%.200s: %d call(s))",
				 g->denied, src->others[0], src->other_ok);
		} else if (at_noisy(set, g->principal)) {
			snprintf(g->sev, sizeof(g->sev), "P3");
			snprintf(g->reason, sizeof(g->reason),
				 "known noisy principal (FIREBREAK_AT_NOISY_PRINCIPALS), no successful write");
		} else if (burst) {
			snprintf(g->sev, sizeof(g->sev), "P2");
			snprintf(g->reason, sizeof(g->reason),
				 "enumeration burst: %d distinct denied APIs across %d services, no successful write",
				 g->napis + g->apis_more, g->nservices);
		} else {
			snprintf(g->sev, sizeof(g->sev), "P3");
			snprintf(g->reason, sizeof(g->reason), "%d denial(s) over %d API(s), no successful write",
				 g->denied, g->napis + g->apis_more);
		}
	}
	if (t->n > 1)
		qsort(t->g, t->n, sizeof(t->g[0]), at_cmp);
	return t->n ? t->g[0].sev : "";
}

cJSON *at_report(const struct at_triage *t, int max, cJSON **more)
{
	cJSON *arr = cJSON_CreateArray();
	char tm[RESP_TIME_LEN];

	*more = NULL;
	if (!arr)
		return NULL;
	for (size_t i = 0; i < t->n; i++) {
		const struct at_group *g = &t->g[i];
		cJSON *o, *a;

		if ((int)i >= max) {
			/* beyond max: counts per severity, so the report stays
			 * within SNS's limit however many principals there are */
			if (!*more)
				*more = cJSON_CreateObject();
			if (*more) {
				cJSON *c = cJSON_GetObjectItemCaseSensitive(*more, g->sev);
				if (c)
					cJSON_SetNumberValue(c, c->valuedouble + 1);
				else
					cJSON_AddNumberToObject(*more, g->sev, 1);
			}
			continue;
		}
		o = kit_obj("principal", g->principal, "source_ip", g->ip, "severity", g->sev, "reason", g->reason,
			    KIT_END);
		if (!o)
			break;
		cJSON_AddItemToArray(arr, o);
		cJSON_AddNumberToObject(o, "denied", g->denied);
		a = cJSON_AddArrayToObject(o, "denied_apis");
		for (int k = 0; k < g->napis && k < 10; k++)
			cJSON_AddItemToArray(a, cJSON_CreateString(g->apis[k]));
		cJSON_AddNumberToObject(o, "distinct_apis", g->napis + g->apis_more);
		a = cJSON_AddArrayToObject(o, "services");
		for (int k = 0; k < g->nservices && k < 10; k++)
			cJSON_AddItemToArray(a, cJSON_CreateString(g->services[k]));
		resp_format_time_ms(g->first_ms, tm);
		cJSON_AddStringToObject(o, "first_seen", tm);
		resp_format_time_ms(g->last_ms, tm);
		cJSON_AddStringToObject(o, "last_seen", tm);
		a = cJSON_AddArrayToObject(o, "user_agents");
		for (int k = 0; k < g->nagents; k++)
			cJSON_AddItemToArray(a, cJSON_CreateString(g->agents[k]));
		if (g->key_id[0]) {
			/* the console's form: enough to tell keys apart */
			char masked[32];

			snprintf(masked, sizeof(masked), "AKIA...%s", g->key_id + 16);
			cJSON_AddStringToObject(o, "access_key", masked);
		}
		if (g->leaked)
			cJSON_AddStringToObject(o, "leaked_key", g->leaked_why);
		cJSON_AddNumberToObject(o, "successful_writes", g->ok_writes);
		cJSON_AddNumberToObject(o, "successful_reads", g->ok_reads);
		a = cJSON_AddArrayToObject(o, "write_apis");
		for (int k = 0; k < g->nwrites; k++)
			cJSON_AddItemToArray(a, cJSON_CreateString(g->writes[k]));
	}
	return arr;
}

static void at_calls_add(cJSON *arr, const struct at_call *c, int n, int write)
{
	for (int k = 0; k < n; k++) {
		cJSON *o = cJSON_CreateObject();

		if (!o)
			return;
		cJSON_AddStringToObject(o, "principal", c[k].principal);
		cJSON_AddStringToObject(o, "api", c[k].api);
		cJSON_AddBoolToObject(o, "write", write);
		cJSON_AddItemToArray(arr, o);
	}
}

cJSON *at_report_sources(const struct at_triage *t, int max)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; arr && i < t->nsrc && (int)i < max; i++) {
		const struct at_src *s = &t->src[i];
		cJSON *o = cJSON_CreateObject(), *a;

		if (!o)
			break;
		cJSON_AddItemToArray(arr, o);
		cJSON_AddStringToObject(o, "ip", s->ip);
		if (s->trusted)
			cJSON_AddBoolToObject(o, "trusted", 1);
		cJSON_AddNumberToObject(o, "successful_writes", s->ok_writes);
		cJSON_AddNumberToObject(o, "successful_reads", s->ok_reads);
		/* writes first: what the attacker may have changed */
		a = cJSON_AddArrayToObject(o, "calls");
		at_calls_add(a, s->writes, s->nwrites, 1);
		at_calls_add(a, s->reads, s->nreads, 0);
		a = cJSON_AddArrayToObject(o, "other_principals");
		for (int k = 0; k < s->nothers; k++)
			cJSON_AddItemToArray(a, cJSON_CreateString(s->others[k]));
		if (s->others_more)
			cJSON_AddNumberToObject(o, "other_principals_more", s->others_more);
	}
	return arr;
}

int at_is_long_term_key(const char *id)
{
	if (!id || strlen(id) != 20 || strncmp(id, "AKIA", 4) != 0)
		return 0;
	return strspn(id + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == 16;
}

int at_key_leaked(const cJSON *attached, const cJSON *keys, const char *key_id, char *why, size_t whylen)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, attached) {
		const char *arn = resp_get_str(it, "PolicyArn");
		const char *pol = arn ? strstr(arn, ":iam::aws:policy/") : NULL;

		/* arn:<partition>:iam::aws:policy/[path/]AWSCompromisedKeyQuarantine[V2|V3] */
		if (!pol || strncmp(arn, "arn:", 4) != 0 || strchr(arn + 4, ':') != pol)
			continue;
		pol = strrchr(pol, '/') + 1;
		if (strncmp(pol, "AWSCompromisedKeyQuarantine", strlen("AWSCompromisedKeyQuarantine")) == 0) {
			snprintf(why, whylen, "AWS reported it exposed: %.60s attached to the user", pol);
			return 1;
		}
	}
	cJSON_ArrayForEach(it, keys) {
		const char *id = resp_get_str(it, "AccessKeyId"), *st = resp_get_str(it, "Status");

		if (key_id && id && st && !strcmp(id, key_id) && !strcmp(st, "Inactive")) {
			snprintf(why, whylen, "the key has been deactivated since (Inactive)");
			return 1;
		}
	}
	return 0;
}

/* Ranges never put in a WAF IP set from a record (at_block_ip). */
static const char *const at_not_global[] = {
	"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
	"192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/3",
	"::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8",
};

int at_block_ip(const struct at_settings *set, const char *ip, char *out, size_t outlen, char *why, size_t whylen)
{
	struct kit_cidr c, r[sizeof(at_not_global) / sizeof(at_not_global[0])];
	size_t n = 0;

	if (!at_real_ip(ip) || kit_cidr_parse(ip, &c) != 0) {
		snprintf(why, whylen, "'%.64s' is not an IP address", ip ? ip : "");
		return 0;
	}
	if (kit_ip_in(set->trusted, set->ntrusted, ip) == KIT_IP_IN) {
		snprintf(why, whylen, "%.64s is in FIREBREAK_AT_TRUSTED_CIDRS: never blocked", ip);
		return 0;
	}
	for (size_t i = 0; i < sizeof(at_not_global) / sizeof(at_not_global[0]); i++)
		if (kit_cidr_parse(at_not_global[i], &r[n]) == 0)
			n++;
	if (kit_ip_in(r, n, ip) == KIT_IP_IN) {
		snprintf(why, whylen, "%.64s is not a public address (a WAF IP set would not see it)", ip);
		return 0;
	}
	/* a host route, written from the parsed address: the canonical text */
	if (c.family == AF_INET) {
		snprintf(out, outlen, "%u.%u.%u.%u/32", c.addr[0], c.addr[1], c.addr[2], c.addr[3]);
	} else {
		char txt[INET6_ADDRSTRLEN];

		if (!inet_ntop(AF_INET6, c.addr, txt, sizeof(txt))) {
			snprintf(why, whylen, "'%.64s' is not an IP address", ip);
			return 0;
		}
		snprintf(out, outlen, "%s/128", txt);
	}
	return 1;
}

#define AT_IPSET_MAX 10000

int at_ipset_merge(const cJSON *addresses, const char *const *routes, size_t n, cJSON **out)
{
	const cJSON *a;
	int changed = 0, count;

	*out = cJSON_IsArray(addresses) ? cJSON_Duplicate(addresses, 1) : cJSON_CreateArray();
	if (!*out)
		return -1;
	count = cJSON_GetArraySize(*out);
	for (size_t i = 0; i < n; i++) {
		int have = 0;

		cJSON_ArrayForEach(a, *out)
			have |= cJSON_IsString(a) && !strcasecmp(a->valuestring, routes[i]);
		if (have)
			continue;
		if (count >= AT_IPSET_MAX) {
			cJSON_Delete(*out);
			*out = NULL;
			return -1;
		}
		cJSON_AddItemToArray(*out, cJSON_CreateString(routes[i]));
		count++;
		changed = 1;
	}
	return changed;
}

int at_caller_role(const char *caller_arn, char *out, size_t outlen)
{
	const char *p = caller_arn ? strstr(caller_arn, ":assumed-role/") : NULL, *e;

	if (!p || strncmp(caller_arn, "arn:", 4) != 0)
		return 0;
	p += strlen(":assumed-role/");
	e = strchr(p, '/');
	if (!e || e == p || (size_t)(e - p) >= outlen)
		return 0;
	snprintf(out, outlen, "%.*s", (int)(e - p), p);
	return 1;
}
