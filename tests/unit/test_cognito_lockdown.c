/*
 * cognito-lockdown stages (functions/cognito-lockdown/stages.c): table-driven,
 * no AWS. The "must not be usable as a weapon" cases: the pool and client of
 * an alarm come from the settings, never the event (an alarm naming another
 * pool is refused); a manual event without an explicit scope is refused; a
 * username that is not one never reaches a call; the sign-out plan reads the
 * pool's list and firebreak's own markers only; a client secret an attacker
 * added is never taken for ours (two secrets, no marker: nothing written).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include "../../functions/cognito-lockdown/stages.c"

#define POOL "us-east-1_Tr4d1ngP1"
#define CLIENT "3n4cl1ent1d7rad1ng00000000"

static const struct cl_settings SET = { "firebreak-cognito-token-abuse", POOL, CLIENT };

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static void test_cl__alarm_sample(void **state)
{
	char *text = slurp("events/cognito-lockdown/alarm-token-abuse.json"), why[300] = "";
	struct cl_event ev;

	(void)state;
	assert_non_null(text);
	assert_int_equal(cl_parse(text, strlen(text), &SET, &ev, why, sizeof(why)), FB_OK);
	assert_int_equal(ev.source, CL_SRC_ALARM);
	assert_string_equal(ev.pool, POOL);
	assert_string_equal(ev.client, CLIENT);
	assert_string_equal(ev.region, "us-east-1");
	assert_string_equal(ev.account, "123456789012");
	assert_int_equal(ev.all, 1);
	assert_string_equal(ev.skip, "");
	cl_event_cleanup(&ev);
	/* the same alarm, not the one the setting names: nothing to do */
	{
		struct cl_settings other = SET;

		other.alarm = "firebreak-cognito-other";
		assert_int_equal(cl_parse(text, strlen(text), &other, &ev, why, sizeof(why)), FB_OK);
		assert_non_null(strstr(ev.skip, "FIREBREAK_COGNITO_ALARM"));
		assert_string_equal(ev.pool, "");
		cl_event_cleanup(&ev);
	}
	/* the alarm's metric names the pool: another pool in the settings is a refusal */
	{
		struct cl_settings other = SET;

		other.pool = "us-east-1_Other1";
		assert_int_equal(cl_parse(text, strlen(text), &other, &ev, why, sizeof(why)), FB_E_INVALID);
		assert_non_null(strstr(why, "another user pool"));
		cl_event_cleanup(&ev);
		other = SET;
		other.client = NULL;
		assert_int_equal(cl_parse(text, strlen(text), &other, &ev, why, sizeof(why)), FB_E_CONFIG);
		cl_event_cleanup(&ev);
	}
	free(text);
}

#define ALARM(name, state, region, dims) \
	"{\"source\":\"aws.cloudwatch\",\"detail-type\":\"CloudWatch Alarm State Change\"," \
	"\"account\":\"123456789012\",\"region\":\"" region "\",\"time\":\"2026-12-07T01:00:00Z\"," \
	"\"detail\":{\"alarmName\":\"" name "\",\"state\":{\"value\":\"" state "\"}," \
	"\"configuration\":{\"metrics\":[{\"metricStat\":{\"metric\":{\"namespace\":\"AWS/Cognito\"," \
	"\"name\":\"SignInSuccesses\",\"dimensions\":" dims "}}}]}}}"
#define AN "firebreak-cognito-token-abuse"

static void test_cl__parse_rows(void **state)
{
	static const struct { const char *ev; enum fb_err rc; int all; size_t nusers; const char *skip; } rows[] = {
		{ ALARM(AN, "ALARM", "us-east-1", "{}"), FB_OK, 1, 0, "" },
		{ ALARM(AN, "OK", "us-east-1", "{}"), FB_OK, 1, 0, "not ALARM" },
		{ ALARM("firebreak-cognito-token-abuse-2", "ALARM", "us-east-1", "{}"), FB_OK, 0, 0, "FIREBREAK_COGNITO_ALARM" },
		{ ALARM(AN, "ALARM", "eu-west-1", "{}"), FB_E_INVALID, 0, 0, NULL },
		{ ALARM(AN, "ALARM", "us-east-1", "{\"UserPool\":\"us-east-1_Attacker1\"}"), FB_E_INVALID, 0, 0, NULL },
		{ ALARM(AN, "ALARM", "us-east-1", "{\"UserPool\":\"" POOL "\",\"UserPoolClient\":\"x\"}"), FB_E_INVALID, 0, 0, NULL },
		{ ALARM(AN, "ALARM", "us-east-1", "{\"UserPool\":\"" POOL "\"}"), FB_OK, 1, 0, "" },
		{ "{\"userPoolId\":\"" POOL "\",\"clientId\":\"" CLIENT "\",\"scope\":\"all\"}", FB_OK, 1, 0, "" },
		{ "{\"userPoolId\":\"" POOL "\",\"clientId\":\"" CLIENT "\",\"scope\":\"all\",\"dryRun\":true}", FB_OK, 1, 0, "" },
		{ "{\"userPoolId\":\"" POOL "\",\"clientId\":\"" CLIENT "\",\"scope\":{\"users\":[\"b\",\"a\",\"b\"]}}", FB_OK, 0, 2, "" },
		{ "{\"userPoolId\":\"" POOL "\",\"clientId\":\"" CLIENT "\",\"scope\":{\"users\":[\"j\\u00f6rg\"]}}", FB_OK, 0, 1, "" },
		/* no scope: signing everyone out is said, never implied */
		{ "{\"userPoolId\":\"" POOL "\",\"clientId\":\"" CLIENT "\"}", FB_E_INVALID, 0, 0, NULL },
		{ "{\"userPoolId\":\"" POOL "\",\"clientId\":\"" CLIENT "\",\"scope\":\"everyone\"}", FB_E_INVALID, 0, 0, NULL },
		{ "{\"userPoolId\":\"" POOL "\",\"clientId\":\"" CLIENT "\",\"scope\":{\"users\":[]}}", FB_E_INVALID, 0, 0, NULL },
		{ "{\"userPoolId\":\"" POOL "\",\"clientId\":\"" CLIENT "\",\"scope\":{\"users\":[\"a b\"]}}", FB_E_INVALID, 0, 0, NULL },
		{ "{\"userPoolId\":\"" POOL "\",\"clientId\":\"" CLIENT "\",\"scope\":{\"users\":[\"a\\nb\"]}}", FB_E_INVALID, 0, 0, NULL },
		{ "{\"userPoolId\":\"" POOL "\",\"clientId\":\"" CLIENT "\",\"scope\":{\"users\":[\"\"]}}", FB_E_INVALID, 0, 0, NULL },
		{ "{\"userPoolId\":\"" POOL "\",\"clientId\":\"" CLIENT "\",\"scope\":{\"users\":[7]}}", FB_E_INVALID, 0, 0, NULL },
		{ "{\"userPoolId\":\"" POOL "\",\"clientId\":\"" CLIENT "\",\"scope\":{\"users\":[\"a\"],\"all\":1}}", FB_E_INVALID, 0, 0, NULL },
		{ "{\"userPoolId\":\"" POOL "\",\"clientId\":\"" CLIENT "\",\"scope\":\"all\",\"dryRun\":\"yes\"}", FB_E_INVALID, 0, 0, NULL },
		{ "{\"userPoolId\":\"" POOL "\",\"clientId\":\"" CLIENT "\",\"scope\":\"all\",\"extra\":1}", FB_E_INVALID, 0, 0, NULL },
		{ "{\"userPoolId\":\"us-east-1_Tr4d/../x\",\"clientId\":\"" CLIENT "\",\"scope\":\"all\"}", FB_E_INVALID, 0, 0, NULL },
		{ "{\"userPoolId\":\"nowhere_abc\",\"clientId\":\"" CLIENT "\",\"scope\":\"all\"}", FB_E_INVALID, 0, 0, NULL },
		{ "{\"userPoolId\":\"" POOL "\",\"clientId\":\"a/b\",\"scope\":\"all\"}", FB_E_INVALID, 0, 0, NULL },
		{ "{\"userPoolId\":7,\"clientId\":\"" CLIENT "\",\"scope\":\"all\"}", FB_E_INVALID, 0, 0, NULL },
		{ "{\"source\":\"aws.guardduty\",\"detail-type\":\"GuardDuty Finding\",\"detail\":{}}", FB_E_INVALID, 0, 0, NULL },
		{ "{\"source\":\"aws.cloudwatch\"}", FB_E_INVALID, 0, 0, NULL },
		{ "[1]", FB_E_INVALID, 0, 0, NULL },
		{ "{}", FB_E_INVALID, 0, 0, NULL },
		{ "not json", FB_E_INVALID, 0, 0, NULL },
		{ "{\"userPoolId\":\"" POOL "\",\"clientId\":\"" CLIENT "\",\"scope\":\"all\"} {}", FB_E_INVALID, 0, 0, NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct cl_event ev;
		char why[300] = "";
		enum fb_err rc = cl_parse(rows[i].ev, strlen(rows[i].ev), &SET, &ev, why, sizeof(why));

		if (rc != rows[i].rc)
			fail_msg("row %zu: rc %d, want %d (%s)", i, rc, rows[i].rc, why);
		if (rc == FB_OK) {
			assert_int_equal(ev.all, rows[i].all);
			assert_int_equal(ev.nusers, rows[i].nusers);
			if (rows[i].skip[0])
				assert_non_null(strstr(ev.skip, rows[i].skip));
			else
				assert_string_equal(ev.skip, "");
		} else {
			assert_true(why[0] != 0);
		}
		cl_event_cleanup(&ev);
	}
}

static void test_cl__scope_key(void **state)
{
	const char *a = "{\"userPoolId\":\"" POOL "\",\"clientId\":\"" CLIENT "\",\"scope\":{\"users\":[\"b\",\"a\"]}}";
	const char *b = "{\"userPoolId\":\"" POOL "\",\"clientId\":\"" CLIENT "\",\"scope\":{\"users\":[\"a\",\"b\",\"a\"]}}";
	const char *c = "{\"userPoolId\":\"" POOL "\",\"clientId\":\"" CLIENT "\",\"scope\":{\"users\":[\"a\"]}}";
	struct cl_event e1, e2, e3;
	char why[200], k[600];

	(void)state;
	assert_int_equal(cl_parse(a, strlen(a), &SET, &e1, why, sizeof(why)), FB_OK);
	assert_int_equal(cl_parse(b, strlen(b), &SET, &e2, why, sizeof(why)), FB_OK);
	assert_int_equal(cl_parse(c, strlen(c), &SET, &e3, why, sizeof(why)), FB_OK);
	/* the same users in any order and repetition are the same scope */
	assert_string_equal(e1.scope_key, e2.scope_key);
	assert_string_not_equal(e1.scope_key, e3.scope_key);
	assert_string_equal(e1.users[0], "a");
	assert_int_equal(cl_marker_key("fb-1", &e1, 7, k, sizeof(k)), 0);
	assert_true(strncmp(k, "incidents/fb-1/cognito-lockdown/" POOL "/" CLIENT "/u", 60) == 0);
	assert_non_null(strstr(k, "/signout-07.done"));
	assert_int_equal(cl_marker_key("fb-1", &e1, CL_BUCKETS, k, sizeof(k)), -1);
	assert_int_equal(cl_secret_marker_key("fb-1", &e1, "added", "abc-123_X", k, sizeof(k)), 0);
	assert_non_null(strstr(k, "/secret-added-abc-123_X"));
	assert_int_equal(cl_secret_marker_key("fb-1", &e1, "added", "../x", k, sizeof(k)), -1);
	assert_int_equal(cl_secret_marker_key("fb-1", &e1, "added", "", k, sizeof(k)), -1);
	cl_event_cleanup(&e1);
	cl_event_cleanup(&e2);
	cl_event_cleanup(&e3);
}

static void test_cl__usernames(void **state)
{
	char long_name[200];

	(void)state;
	assert_true(cl_username_ok("alice"));
	assert_true(cl_username_ok("bob@example.com"));
	assert_true(cl_username_ok("j\xc3\xb6rg"));
	assert_false(cl_username_ok(""));
	assert_false(cl_username_ok("a b"));
	assert_false(cl_username_ok("a\tb"));
	assert_false(cl_username_ok("a\x7f"));
	assert_false(cl_username_ok("\xc0\xaf"));        /* overlong '/' */
	assert_false(cl_username_ok("\xed\xa0\x80"));    /* surrogate */
	assert_false(cl_username_ok("\xc2\x85"));        /* C1 control (NEL) */
	assert_false(cl_username_ok("\xe2\x82"));        /* cut short */
	memset(long_name, 'a', 128);
	long_name[128] = 0;
	assert_true(cl_username_ok(long_name));
	long_name[128] = 'a';
	long_name[129] = 0;
	assert_false(cl_username_ok(long_name));
	assert_true(cl_pool_id_ok("eu-west-1_AbC123"));
	assert_false(cl_pool_id_ok("eu-west-1_"));
	assert_false(cl_pool_id_ok("_abc"));
	assert_false(cl_pool_id_ok("eu-west-1_a-b"));
	assert_true(cl_client_id_ok("abc+_9"));
	assert_false(cl_client_id_ok("abc-9"));
}

static cJSON *user_list(int n, const char *extra)
{
	cJSON *a = cJSON_CreateArray();
	char name[32];
	int i;

	for (i = 0; i < n; i++) {
		cJSON *u = cJSON_CreateObject();

		snprintf(name, sizeof(name), "user%03d", i);
		cJSON_AddStringToObject(u, "Username", name);
		cJSON_AddStringToObject(u, "UserStatus", "CONFIRMED");
		cJSON_AddItemToArray(a, u);
	}
	if (extra)
		cJSON_AddItemToArray(a, cJSON_Parse(extra));
	return a;
}

static void test_cl__plan_and_resume(void **state)
{
	cJSON *users = user_list(200, "{\"Username\":\"bad name\"}");
	unsigned char done[CL_BUCKETS] = { 0 };
	struct cl_plan p, q;
	size_t i, sum = 0, next, n, rounds = 0;
	int b;

	(void)state;
	cJSON_AddItemToArray(users, cJSON_Parse("{\"UserStatus\":\"CONFIRMED\"}"));
	assert_int_equal(cl_plan_build(users, NULL, 0, done, &p), FB_OK);
	assert_int_equal(p.n, 200);
	assert_int_equal(p.bad, 2);
	assert_int_equal(p.earlier, 0);
	for (i = 1; i < p.n; i++) {
		/* bucket by bucket, names in order inside a bucket */
		assert_true(p.bucket[i - 1] < p.bucket[i] ||
			    (p.bucket[i - 1] == p.bucket[i] && strcmp(p.names[i - 1], p.names[i]) < 0));
		assert_int_equal(p.bucket[i], cl_bucket_of(p.names[i]));
	}
	for (b = 0; b < CL_BUCKETS; b++)
		sum += p.per_bucket[b];
	assert_int_equal(sum, 200);
	/* rounds of at most rps */
	for (next = 0; (n = cl_round_size(&p, next, 24)) > 0; next += n) {
		assert_true(n <= 24);
		rounds++;
	}
	assert_int_equal(rounds, 9); /* 8 x 24 + 8 */
	assert_int_equal(cl_round_size(&p, 0, 0), 0);

	/* a second invocation: the first half of the buckets marked done */
	for (b = 0; b < CL_BUCKETS / 2; b++)
		done[b] = 1;
	assert_int_equal(cl_plan_build(users, NULL, 0, done, &q), FB_OK);
	assert_int_equal(q.n + q.earlier, 200);
	assert_true(q.earlier > 0 && q.n > 0);
	for (i = 0; i < q.n; i++)
		assert_true(q.bucket[i] >= CL_BUCKETS / 2);
	/* the same users whatever order ListUsers answers in */
	{
		cJSON *rev = cJSON_CreateArray();
		struct cl_plan r;
		int k;

		for (k = cJSON_GetArraySize(users) - 1; k >= 0; k--)
			cJSON_AddItemToArray(rev, cJSON_Duplicate(cJSON_GetArrayItem(users, k), 1));
		assert_int_equal(cl_plan_build(rev, NULL, 0, done, &r), FB_OK);
		assert_int_equal(r.n, q.n);
		for (i = 0; i < r.n; i++)
			assert_string_equal(r.names[i], q.names[i]);
		cl_plan_cleanup(&r);
		cJSON_Delete(rev);
	}
	/* every bucket done: nothing left */
	memset(done, 1, sizeof(done));
	cl_plan_cleanup(&q);
	assert_int_equal(cl_plan_build(users, NULL, 0, done, &q), FB_OK);
	assert_int_equal(q.n, 0);
	assert_int_equal(q.earlier, 200);
	cl_plan_cleanup(&q);
	cl_plan_cleanup(&p);
	cJSON_Delete(users);

	/* the scope's list */
	{
		char *names[] = { "zed", "amy" };

		memset(done, 0, sizeof(done));
		assert_int_equal(cl_plan_build(NULL, names, 2, done, &p), FB_OK);
		assert_int_equal(p.n, 2);
		cl_plan_cleanup(&p);
	}
	/* the deadline */
	assert_true(cl_time_for_round(1000, 0, 1000, 3000));
	assert_true(cl_time_for_round(1000, 5000, 1000, 3000));
	assert_false(cl_time_for_round(1001, 5000, 1000, 3000));
}

static void test_cl__mfa(void **state)
{
	static const struct { const char *json; enum cl_mfa want; const char *why; } rows[] = {
		{ "{\"MfaConfiguration\":\"ON\",\"SoftwareTokenMfaConfiguration\":{\"Enabled\":true}}", CL_MFA_ENFORCED, "TOTP" },
		{ "{\"MfaConfiguration\":\"ON\",\"SoftwareTokenMfaConfiguration\":{\"Enabled\":false},"
		  "\"SmsMfaConfiguration\":{\"SmsAuthenticationMessage\":\"{####}\"}}", CL_MFA_NOT_ENFORCED, "SMS codes only" },
		{ "{\"MfaConfiguration\":\"ON\"}", CL_MFA_NOT_ENFORCED, "software tokens" },
		{ "{\"MfaConfiguration\":\"OPTIONAL\",\"SoftwareTokenMfaConfiguration\":{\"Enabled\":true}}", CL_MFA_NOT_ENFORCED, "optional" },
		{ "{\"MfaConfiguration\":\"OFF\"}", CL_MFA_NOT_ENFORCED, "off" },
		{ "{\"MfaConfiguration\":\"ON\",\"SoftwareTokenMfaConfiguration\":{\"Enabled\":\"true\"}}", CL_MFA_NOT_ENFORCED, "" },
		{ "{}", CL_MFA_UNKNOWN, "no MfaConfiguration" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cJSON *j = cJSON_Parse(rows[i].json);
		char why[300] = "";

		assert_int_equal(cl_mfa_verdict(j, why, sizeof(why)), rows[i].want);
		assert_non_null(strstr(why, rows[i].why));
		cJSON_Delete(j);
	}
	assert_int_equal(cl_mfa_verdict(NULL, NULL, 0), CL_MFA_UNKNOWN);
}

static void test_cl__token_note(void **state)
{
	cJSON *c = cJSON_Parse("{\"UserPoolClient\":{\"AccessTokenValidity\":30,\"IdTokenValidity\":2,"
			       "\"RefreshTokenValidity\":10,\"TokenValidityUnits\":{\"AccessToken\":\"minutes\","
			       "\"IdToken\":\"hours\",\"RefreshToken\":\"days\"}}}");
	struct cl_lifetimes lt;
	int64_t t0 = resp_parse_time_ms("2026-12-07T05:00:00Z"), last;
	char note[700];

	(void)state;
	assert_int_equal(cl_token_lifetimes(c, &lt), 0);
	assert_int_equal(lt.access_s, 1800);
	assert_int_equal(lt.id_s, 7200);
	assert_int_equal(lt.refresh_s, 864000);
	cl_signout_note(&lt, t0, &last, note, sizeof(note));
	/* the longer of the two lifetimes tells when the last one dies */
	assert_true(last == resp_parse_time_ms("2026-12-07T07:00:00Z"));
	assert_non_null(strstr(note, "access and ID tokens already issued stay valid until they expire"));
	assert_non_null(strstr(note, "access 30 minutes, ID 2 hours"));
	assert_non_null(strstr(note, "2026-12-07T07:00:00"));
	assert_non_null(strstr(note, "revokes refresh tokens only"));
	cJSON_Delete(c);
	/* Cognito's defaults when the client says nothing: 60 minutes */
	c = cJSON_Parse("{\"UserPoolClient\":{\"ClientId\":\"x\"}}");
	assert_int_equal(cl_token_lifetimes(c, &lt), 0);
	assert_int_equal(lt.access_s, 3600);
	assert_int_equal(lt.id_s, 3600);
	/* units default to hours: 24 without units is a day */
	cJSON_Delete(c);
	c = cJSON_Parse("{\"UserPoolClient\":{\"AccessTokenValidity\":24}}");
	assert_int_equal(cl_token_lifetimes(c, &lt), 0);
	assert_int_equal(lt.access_s, 86400);
	cl_signout_note(&lt, t0, &last, note, sizeof(note));
	assert_non_null(strstr(note, "access 1 day, ID 1 hour"));
	cJSON_Delete(c);
	c = cJSON_Parse("{\"UserPoolClient\":{\"AccessTokenValidity\":5,\"TokenValidityUnits\":{\"AccessToken\":\"weeks\"}}}");
	assert_int_equal(cl_token_lifetimes(c, &lt), -1);
	cJSON_Delete(c);
	assert_int_equal(cl_token_lifetimes(NULL, &lt), -1);
	cl_signout_note(&lt, t0, &last, note, sizeof(note));
	assert_true(last == 0);
	assert_non_null(strstr(note, "stay valid until they expire"));
}

static void test_cl__rotation(void **state)
{
	static const struct { const char *list; unsigned char added[2]; enum cl_rotation want; const char *old_id, *new_id; } rows[] = {
		{ "[]", { 0, 0 }, CL_ROT_NO_SECRET, "", "" },
		{ "[{\"ClientSecretId\":\"s1\"}]", { 0, 0 }, CL_ROT_ADD, "s1", "" },
		{ "[{\"ClientSecretId\":\"s2\"}]", { 1, 0 }, CL_ROT_DONE, "", "s2" },
		{ "[{\"ClientSecretId\":\"s1\"},{\"ClientSecretId\":\"s2\"}]", { 0, 1 }, CL_ROT_RESUME, "s1", "s2" },
		{ "[{\"ClientSecretId\":\"s2\"},{\"ClientSecretId\":\"s1\"}]", { 1, 0 }, CL_ROT_RESUME, "s1", "s2" },
		/* two secrets and neither ours: an attacker's added one is never stored nor the other deleted */
		{ "[{\"ClientSecretId\":\"s1\"},{\"ClientSecretId\":\"evil\"}]", { 0, 0 }, CL_ROT_REFUSE, "", "" },
		{ "[{\"ClientSecretId\":\"s1\"},{\"ClientSecretId\":\"s2\"}]", { 1, 1 }, CL_ROT_REFUSE, "", "" },
		{ "[{\"ClientSecretId\":\"a/b\"}]", { 0, 0 }, CL_ROT_BAD, "", "" },
		{ "[{\"ClientSecretId\":\"a\"},{\"ClientSecretId\":\"b\"},{\"ClientSecretId\":\"c\"}]", { 0, 0 }, CL_ROT_BAD, "", "" },
		{ "{}", { 0, 0 }, CL_ROT_BAD, "", "" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cJSON *l = cJSON_Parse(rows[i].list);
		struct cl_rot_plan p;

		cl_rotation_plan(l, rows[i].added, &p);
		if (p.what != rows[i].want)
			fail_msg("row %zu: %d, want %d", i, p.what, rows[i].want);
		assert_string_equal(p.old_id, rows[i].old_id);
		assert_string_equal(p.new_id, rows[i].new_id);
		if (p.what == CL_ROT_REFUSE || p.what == CL_ROT_BAD || p.what == CL_ROT_NO_SECRET)
			assert_true(p.why[0] != 0);
		cJSON_Delete(l);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cl__alarm_sample),
		cmocka_unit_test(test_cl__parse_rows),
		cmocka_unit_test(test_cl__scope_key),
		cmocka_unit_test(test_cl__usernames),
		cmocka_unit_test(test_cl__plan_and_resume),
		cmocka_unit_test(test_cl__mfa),
		cmocka_unit_test(test_cl__token_note),
		cmocka_unit_test(test_cl__rotation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
