/*
 * cognito-lockdown stages: the decisions, pure (no AWS), unit-tested in
 * tests/unit/test_cognito_lockdown.c. cognito_lockdown.h says what each one
 * decides.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cognito_lockdown.h"
#include "field.h"
#include "kit.h"
#include "resp.h"

int cl_pool_id_ok(const char *s)
{
	const char *us;
	char region[32];
	size_t n;

	if (!s)
		return 0;
	n = strlen(s);
	us = strchr(s, '_');
	if (n < 3 || n > CL_POOL_ID_MAX || !us || us == s || !us[1] || (size_t)(us - s) >= sizeof(region))
		return 0;
	memcpy(region, s, (size_t)(us - s));
	region[us - s] = 0;
	return resp_region_name_ok(region) && field_name_ok(us + 1, 1, n, "a-zA-Z0-9");
}

int cl_client_id_ok(const char *s)
{
	return field_name_ok(s, 1, CL_CLIENT_ID_MAX, "a-zA-Z0-9_+");
}

/* UTF-8 well-formed (no overlongs, no surrogates), no C0/C1 controls,
 * no ASCII whitespace: Cognito's [\p{L}\p{M}\p{S}\p{N}\p{P}]+ in spirit. */
int cl_username_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	if (!s)
		return 0;
	n = strlen(s);
	if (n < 1 || n > CL_USERNAME_MAX)
		return 0;
	while (*p) {
		unsigned c = *p;
		unsigned cp;
		int len, i;

		if (c < 0x80) {
			if (c <= 0x20 || c == 0x7f)
				return 0;
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return 0;
		}
		for (i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
			return 0;
		p += len;
	}
	return 1;
}

int cl_bucket_of(const char *username)
{
	uint32_t h = 2166136261u;
	const unsigned char *p = (const unsigned char *)username;

	for (; p && *p; p++) {
		h ^= *p;
		h *= 16777619u;
	}
	return (int)(h % CL_BUCKETS);
}

static uint64_t fnv64(uint64_t h, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		h ^= *p;
		h *= 1099511628211ull;
	}
	return h;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void cl_event_cleanup(struct cl_event *ev)
{
	size_t i;

	if (!ev)
		return;
	field_json_free(&ev->root);
	for (i = 0; i < ev->nusers; i++)
		free(ev->users[i]);
	free(ev->users);
	ev->users = NULL;
	ev->nusers = 0;
}

static enum fb_err set_ids(struct cl_event *ev, const char *pool, const char *client, char *why, size_t whylen)
{
	if (!cl_pool_id_ok(pool))
		return field_bad(why, whylen, "userPoolId must be <region>_<letters and digits> (at most 55 characters)");
	if (!cl_client_id_ok(client))
		return field_bad(why, whylen, "clientId must be 1-128 characters of A-Z a-z 0-9 _ +");
	snprintf(ev->pool, sizeof(ev->pool), "%s", pool);
	snprintf(ev->client, sizeof(ev->client), "%s", client);
	snprintf(ev->region, sizeof(ev->region), "%.*s", (int)(strchr(pool, '_') - pool), pool);
	return FB_OK;
}

/* scope: "all" or {"users": ["name", ...]} (1..CL_MAX_SCOPE_USERS valid
 * names; duplicates counted once). */
static enum fb_err parse_scope(const cJSON *scope, struct cl_event *ev, char *why, size_t whylen)
{
	const cJSON *users, *u, *m;
	uint64_t h = 1469598103934665603ull;
	size_t n, i, k;

	if (cJSON_IsString(scope) && strcmp(scope->valuestring, "all") == 0) {
		ev->all = 1;
		snprintf(ev->scope_key, sizeof(ev->scope_key), "all");
		return FB_OK;
	}
	if (!cJSON_IsObject(scope))
		return field_bad(why, whylen, "\"scope\" must be \"all\" or {\"users\": [\"<username>\", ...]}");
	cJSON_ArrayForEach(m, scope) {
		if (strcmp(m->string, "users"))
			return field_bad(why, whylen, "\"scope\" object takes only \"users\"");
	}
	users = cJSON_GetObjectItemCaseSensitive(scope, "users");
	if (!cJSON_IsArray(users) || cJSON_GetArraySize(users) < 1 ||
	    cJSON_GetArraySize(users) > CL_MAX_SCOPE_USERS)
		return field_bad(why, whylen, "\"scope.users\" must be an array of 1-1000 usernames (more: use \"all\")");
	n = (size_t)cJSON_GetArraySize(users);
	ev->users = calloc(n, sizeof(*ev->users));
	if (!ev->users)
		return FB_E_NOMEM;
	cJSON_ArrayForEach(u, users) {
		if (!cJSON_IsString(u) || !cl_username_ok(u->valuestring))
			return field_bad(why, whylen, "\"scope.users\": every username must be 1-128 characters of "
					 "UTF-8 without spaces or control characters");
		ev->users[ev->nusers] = strdup(u->valuestring);
		if (!ev->users[ev->nusers])
			return FB_E_NOMEM;
		ev->nusers++;
	}
	qsort(ev->users, ev->nusers, sizeof(*ev->users), cmp_str);
	for (i = 0, k = 0; i < ev->nusers; i++) {
		if (k && strcmp(ev->users[k - 1], ev->users[i]) == 0) {
			free(ev->users[i]);
			continue;
		}
		ev->users[k++] = ev->users[i];
	}
	ev->nusers = k;
	for (i = 0; i < ev->nusers; i++) {
		h = fnv64(h, ev->users[i]);
		h = fnv64(h, "\n");
	}
	snprintf(ev->scope_key, sizeof(ev->scope_key), "u%016llx", (unsigned long long)h);
	return FB_OK;
}

/* The alarm's metric dimensions, when it has them, must agree with the
 * settings: an alarm on another pool is a configuration error, not a
 * reason to lock this one down (nor that one: the pool is never taken
 * from the event). */
static enum fb_err alarm_dims(const cJSON *detail, const struct cl_event *ev, char *why, size_t whylen)
{
	const cJSON *metrics = resp_get(detail, "configuration.metrics"), *m;

	cJSON_ArrayForEach(m, metrics) {
		const char *pool = resp_get_str(m, "metricStat.metric.dimensions.UserPool");
		const char *client = resp_get_str(m, "metricStat.metric.dimensions.UserPoolClient");

		if ((pool && strcmp(pool, ev->pool)) || (client && strcmp(client, ev->client)))
			return field_bad(why, whylen, "the alarm's metric names another user pool or client than the "
					 "settings FIREBREAK_COGNITO_USER_POOL_ID / FIREBREAK_COGNITO_CLIENT_ID");
	}
	return FB_OK;
}

enum fb_err cl_parse(const char *event, size_t len, const struct cl_settings *set,
		     struct cl_event *ev, char *why, size_t whylen)
{
	static const char *const manual_keys[] = { "userPoolId", "clientId", "scope", "dryRun", "reason" };
	const cJSON *root, *m;
	const char *s, *dt, *src;
	enum kit_event kind;
	enum fb_err rc;

	memset(ev, 0, sizeof(*ev));
	if (resp_parse_event(event, len, RESP_MAX_EVENT_BYTES, &ev->root, why, whylen) != FB_OK)
		return FB_E_INVALID;
	root = ev->root;
	kind = kit_event_envelope(root, &src, &dt, why, whylen);
	if (kind == KIT_EVENT_INVALID)
		return FB_E_INVALID;
	if (kind == KIT_EVENT_BRIDGE) {
		const cJSON *detail = cJSON_GetObjectItemCaseSensitive(root, "detail");
		const char *name, *state;

		if (strcmp(src, "aws.cloudwatch") || strcmp(dt, "CloudWatch Alarm State Change") ||
		    !cJSON_IsObject(detail))
			return field_bad(why, whylen, "unsupported event (expected a CloudWatch Alarm State Change or "
					 "the manual form)");
		ev->source = CL_SRC_ALARM;
		if (field_str(detail, "alarmName", NULL, ev->alarm, sizeof(ev->alarm)))
			return field_bad(why, whylen, "alarm event without a usable alarmName");
		if (field_str(root, "account", resp_account_id_ok, ev->account, sizeof(ev->account)))
			return field_bad(why, whylen, "alarm event without a 12-digit account");
		name = ev->alarm;
		if (!set || !set->alarm || !*set->alarm || strcmp(name, set->alarm)) {
			snprintf(ev->skip, sizeof(ev->skip), "alarm '%.100s' is not the one named by "
				 "FIREBREAK_COGNITO_ALARM", name);
			return FB_OK;
		}
		if (!set->pool || !*set->pool || !set->client || !*set->client) {
			field_why(why, whylen, "the alarm trigger needs the settings FIREBREAK_COGNITO_USER_POOL_ID "
				  "and FIREBREAK_COGNITO_CLIENT_ID");
			return FB_E_CONFIG;
		}
		rc = set_ids(ev, set->pool, set->client, why, whylen);
		if (rc != FB_OK) {
			if (why && whylen)
				snprintf(why, whylen, "settings: FIREBREAK_COGNITO_USER_POOL_ID / "
					 "FIREBREAK_COGNITO_CLIENT_ID are not a valid pool id / client id");
			return FB_E_CONFIG;
		}
		s = resp_get_str(root, "region");
		if (!s || strcmp(s, ev->region))
			return field_bad(why, whylen, "the alarm's region is not the user pool's");
		if (alarm_dims(detail, ev, why, whylen) != FB_OK)
			return FB_E_INVALID;
		state = resp_get_str(detail, "state.value");
		if (!state)
			return field_bad(why, whylen, "alarm event without state.value");
		ev->all = 1;
		snprintf(ev->scope_key, sizeof(ev->scope_key), "all");
		if (strcmp(state, "ALARM"))
			snprintf(ev->skip, sizeof(ev->skip), "alarm state is %.32s, not ALARM", state);
		return FB_OK;
	}
	ev->source = CL_SRC_MANUAL;
	cJSON_ArrayForEach(m, root) {
		size_t i, ok = 0;

		for (i = 0; i < sizeof(manual_keys) / sizeof(manual_keys[0]); i++)
			ok |= strcmp(m->string, manual_keys[i]) == 0;
		if (!ok) {
			if (why && whylen)
				snprintf(why, whylen, "unknown member \"%.40s\" (the manual form takes userPoolId, "
					 "clientId, scope, dryRun, reason)", m->string);
			return FB_E_INVALID;
		}
	}
	m = cJSON_GetObjectItemCaseSensitive(root, "dryRun");
	if (m && !cJSON_IsBool(m))
		return field_bad(why, whylen, "\"dryRun\" must be true or false");
	m = cJSON_GetObjectItemCaseSensitive(root, "reason");
	if (m && !cJSON_IsString(m))
		return field_bad(why, whylen, "\"reason\" must be a string");
	{
		const char *pool = resp_get_str(root, "userPoolId"), *client = resp_get_str(root, "clientId");

		if (!pool || !client)
			return field_bad(why, whylen, "expected a CloudWatch alarm event or {\"userPoolId\": \"...\", "
					 "\"clientId\": \"...\", \"scope\": \"all\" | {\"users\": [...]}}");
		rc = set_ids(ev, pool, client, why, whylen);
		if (rc != FB_OK)
			return rc;
	}
	m = cJSON_GetObjectItemCaseSensitive(root, "scope");
	if (!m)
		return field_bad(why, whylen, "\"scope\" is required: \"all\" or {\"users\": [...]} (no default: "
				 "signing out every user is said, not implied)");
	return parse_scope(m, ev, why, whylen);
}

/* ---- the plan ------------------------------------------------------------- */

struct named {
	const char *name;
	int bucket;
};

static int cmp_named(const void *a, const void *b)
{
	const struct named *x = a, *y = b;

	if (x->bucket != y->bucket)
		return x->bucket - y->bucket;
	return strcmp(x->name, y->name);
}

void cl_plan_cleanup(struct cl_plan *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; p->names && i < p->n; i++)
		free(p->names[i]);
	free(p->names);
	free(p->bucket);
	memset(p, 0, sizeof(*p));
}

enum fb_err cl_plan_build(const cJSON *users, char *const *names, size_t n,
			  const unsigned char done[CL_BUCKETS], struct cl_plan *p)
{
	struct named *v;
	const cJSON *u;
	size_t cap = names ? n : (size_t)cJSON_GetArraySize(users), k = 0, i;

	memset(p, 0, sizeof(*p));
	v = calloc(cap ? cap : 1, sizeof(*v));
	if (!v)
		return FB_E_NOMEM;
	if (names) {
		for (i = 0; i < n; i++)
			v[k++] = (struct named){ names[i], cl_bucket_of(names[i]) };
	} else {
		cJSON_ArrayForEach(u, users) {
			const char *name = resp_get_str(u, "Username");

			if (k == cap)
				break;
			if (!name || !cl_username_ok(name)) {
				p->bad++;
				continue;
			}
			v[k++] = (struct named){ name, cl_bucket_of(name) };
		}
	}
	qsort(v, k, sizeof(*v), cmp_named);
	p->names = calloc(k ? k : 1, sizeof(*p->names));
	p->bucket = calloc(k ? k : 1, sizeof(*p->bucket));
	if (!p->names || !p->bucket) {
		free(v);
		cl_plan_cleanup(p);
		return FB_E_NOMEM;
	}
	for (i = 0; i < k; i++) {
		/* ListUsers never repeats a name; a list that does counts once */
		if (i && v[i].bucket == v[i - 1].bucket && strcmp(v[i].name, v[i - 1].name) == 0)
			continue;
		if (done && done[v[i].bucket]) {
			p->earlier++;
			continue;
		}
		p->names[p->n] = strdup(v[i].name);
		if (!p->names[p->n]) {
			free(v);
			cl_plan_cleanup(p);
			return FB_E_NOMEM;
		}
		p->bucket[p->n] = v[i].bucket;
		p->per_bucket[v[i].bucket]++;
		p->n++;
	}
	free(v);
	return FB_OK;
}

size_t cl_round_size(const struct cl_plan *p, size_t next, int rps)
{
	size_t left;

	if (!p || next >= p->n || rps < 1)
		return 0;
	left = p->n - next;
	return left < (size_t)rps ? left : (size_t)rps;
}

int cl_time_for_round(int64_t now_ms, int64_t deadline_ms, int64_t round_ms, int64_t reserve_ms)
{
	if (deadline_ms <= 0)
		return 1;
	return now_ms + round_ms + reserve_ms <= deadline_ms;
}

static int key_prefix(const char *incident, const struct cl_event *ev, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "incidents/%s/cognito-lockdown/%s/%s/%s/", incident, ev->pool, ev->client,
			 ev->scope_key);

	return n > 0 && (size_t)n < outlen ? n : -1;
}

int cl_marker_key(const char *incident, const struct cl_event *ev, int bucket, char *out, size_t outlen)
{
	int n = key_prefix(incident, ev, out, outlen), m;

	if (n < 0 || bucket < 0 || bucket >= CL_BUCKETS)
		return -1;
	m = snprintf(out + n, outlen - (size_t)n, "signout-%02d.done", bucket);
	return m > 0 && (size_t)m < outlen - (size_t)n ? 0 : -1;
}

int cl_secret_marker_key(const char *incident, const struct cl_event *ev, const char *stage,
			 const char *secret_id, char *out, size_t outlen)
{
	int n = key_prefix(incident, ev, out, outlen), m;
	const char *p;

	if (n < 0 || !secret_id || !*secret_id)
		return -1;
	/* the id is Cognito's ([\w-]+); anything else never becomes a key */
	for (p = secret_id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || *p == '-'))
			return -1;
	m = snprintf(out + n, outlen - (size_t)n, "secret-%s-%s", stage, secret_id);
	return m > 0 && (size_t)m < outlen - (size_t)n ? 0 : -1;
}

/* ---- MFA ------------------------------------------------------------------ */

enum cl_mfa cl_mfa_verdict(const cJSON *mfa, char *why, size_t whylen)
{
	const char *conf = resp_get_str(mfa, "MfaConfiguration");
	const cJSON *totp = resp_get(mfa, "SoftwareTokenMfaConfiguration.Enabled");
	int sms = resp_get(mfa, "SmsMfaConfiguration") != NULL;

	if (!conf) {
		field_why(why, whylen, "the answer has no MfaConfiguration");
		return CL_MFA_UNKNOWN;
	}
	if (strcmp(conf, "ON")) {
		if (why && whylen)
			snprintf(why, whylen, "MFA is %s, not required (MfaConfiguration ON): a stolen password "
				 "alone signs in", strcmp(conf, "OPTIONAL") == 0 ? "optional" : "off");
		return CL_MFA_NOT_ENFORCED;
	}
	if (!cJSON_IsTrue(totp)) {
		if (why && whylen)
			snprintf(why, whylen, "MFA is required but software tokens (TOTP) are not enabled%s",
				 sms ? ": SMS codes only" : "");
		return CL_MFA_NOT_ENFORCED;
	}
	field_why(why, whylen, "MFA required, software tokens (TOTP) enabled");
	return CL_MFA_ENFORCED;
}

/* ---- token lifetimes -------------------------------------------------------- */

static long unit_s(const char *unit, const char *def)
{
	const char *u = unit ? unit : def;

	if (strcmp(u, "seconds") == 0)
		return 1;
	if (strcmp(u, "minutes") == 0)
		return 60;
	if (strcmp(u, "hours") == 0)
		return 3600;
	if (strcmp(u, "days") == 0)
		return 86400;
	return -1;
}

static long lifetime(const cJSON *c, const char *member, const char *unit_member, const char *def_unit,
		     long def_s)
{
	long v, u;
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(c, member);
	const char *unit = resp_get_str(resp_get(c, "TokenValidityUnits"), unit_member);

	if (!x)
		return def_s;
	if (kit_json_long(x, &v) != 0 || v < 0)
		return -1;
	u = unit_s(unit, def_unit);
	if (u < 0)
		return -1;
	return v * u;
}

int cl_token_lifetimes(const cJSON *describe_client, struct cl_lifetimes *out)
{
	const cJSON *c = resp_get(describe_client, "UserPoolClient");

	out->access_s = out->id_s = out->refresh_s = -1;
	if (!cJSON_IsObject(c))
		return -1;
	/* Cognito: AccessTokenValidity / IdTokenValidity default to 60
	 * minutes, in hours unless TokenValidityUnits says otherwise;
	 * RefreshTokenValidity 30 days, in days. */
	out->access_s = lifetime(c, "AccessTokenValidity", "AccessToken", "hours", 3600);
	out->id_s = lifetime(c, "IdTokenValidity", "IdToken", "hours", 3600);
	out->refresh_s = lifetime(c, "RefreshTokenValidity", "RefreshToken", "days", 30 * 86400L);
	return out->access_s < 0 || out->id_s < 0 ? -1 : 0;
}

static void human(long s, char *out, size_t outlen)
{
	if (s % 86400 == 0 && s >= 86400)
		snprintf(out, outlen, "%ld day%s", s / 86400, s == 86400 ? "" : "s");
	else if (s % 3600 == 0 && s >= 3600)
		snprintf(out, outlen, "%ld hour%s", s / 3600, s == 3600 ? "" : "s");
	else if (s % 60 == 0 && s >= 60)
		snprintf(out, outlen, "%ld minute%s", s / 60, s == 60 ? "" : "s");
	else
		snprintf(out, outlen, "%ld second%s", s, s == 1 ? "" : "s");
}

void cl_signout_note(const struct cl_lifetimes *lt, int64_t signout_ms, int64_t *last_ms,
		     char *out, size_t outlen)
{
	char when[RESP_TIME_LEN], a[32], i[32];

	if (!lt || lt->access_s < 0 || lt->id_s < 0) {
		*last_ms = 0;
		snprintf(out, outlen, "global sign-out revokes refresh tokens only: access and ID tokens already "
			 "issued stay valid until they expire (the app client's token lifetimes could not be "
			 "read: up to 1 day, Cognito's maximum)");
		return;
	}
	*last_ms = signout_ms + 1000LL * (lt->access_s > lt->id_s ? lt->access_s : lt->id_s);
	resp_format_time_ms(*last_ms, when);
	human(lt->access_s, a, sizeof(a));
	human(lt->id_s, i, sizeof(i));
	snprintf(out, outlen, "global sign-out revokes refresh tokens only: access and ID tokens already issued "
		 "stay valid until they expire (access %s, ID %s for this app client), so an API that checks "
		 "the JWT signature alone accepts them until %s; rotating the client secret does not end "
		 "them either (they are signed with the pool's keys, which AWS manages and no one can rotate)",
		 a, i, when);
}

/* ---- the client secret rotation --------------------------------------------- */

static int secret_id_ok(const char *s)
{
	size_t n;

	if (!s)
		return 0;
	n = strlen(s);
	if (n < 1 || n >= 80)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '-'))
			return 0;
	return 1;
}

void cl_rotation_plan(const cJSON *secrets, const unsigned char *added, struct cl_rot_plan *p)
{
	const cJSON *s;
	const char *ids[2] = { NULL, NULL };
	int n = 0, ours = 0, which = -1;

	memset(p, 0, sizeof(*p));
	if (!cJSON_IsArray(secrets)) {
		p->what = CL_ROT_BAD;
		snprintf(p->why, sizeof(p->why), "the answer has no ClientSecrets list");
		return;
	}
	cJSON_ArrayForEach(s, secrets) {
		const char *id = resp_get_str(s, "ClientSecretId");

		if (!secret_id_ok(id) || n == 2) {
			p->what = CL_ROT_BAD;
			snprintf(p->why, sizeof(p->why), n == 2 ? "more than two client secrets listed (Cognito "
				 "keeps two at most): not rotated" : "a ClientSecretId that is not one: not rotated");
			return;
		}
		if (added && added[n]) {
			ours++;
			which = n;
		}
		ids[n++] = id;
	}
	if (n == 0) {
		p->what = CL_ROT_NO_SECRET;
		snprintf(p->why, sizeof(p->why), "the app client has no secret (a public client): nothing to rotate");
	} else if (n == 1 && ours == 0) {
		p->what = CL_ROT_ADD;
		snprintf(p->old_id, sizeof(p->old_id), "%s", ids[0]);
	} else if (n == 1) {
		p->what = CL_ROT_DONE;
		snprintf(p->new_id, sizeof(p->new_id), "%s", ids[0]);
		snprintf(p->why, sizeof(p->why), "rotated by an earlier invocation: only the new secret is left");
	} else if (ours == 1) {
		p->what = CL_ROT_RESUME;
		snprintf(p->new_id, sizeof(p->new_id), "%s", ids[which]);
		snprintf(p->old_id, sizeof(p->old_id), "%s", ids[1 - which]);
	} else {
		p->what = CL_ROT_REFUSE;
		snprintf(p->why, sizeof(p->why), "the client already has two secrets (Cognito's maximum)%s: which "
			 "one the consumers use is unknown, so none is added, stored or deleted: rotate by hand",
			 ours ? " both marked ours" : " and neither was added by firebreak for this incident");
	}
}
