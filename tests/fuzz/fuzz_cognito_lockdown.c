/*
 * fuzz_cognito_lockdown: cognito-lockdown's pure stages (functions/
 * cognito-lockdown/stages.c, declared in cognito_lockdown.h). The first byte
 * picks the stage:
 *   0 the event text -> cl_parse (CloudWatch alarm via EventBridge, manual);
 *   1 a ListUsers Users array -> cl_plan_build, the rounds (cl_round_size);
 *   2 GetUserPoolMfaConfig / DescribeUserPoolClient / ListUserPoolClientSecrets
 *     answers -> cl_mfa_verdict, cl_token_lifetimes + cl_signout_note,
 *     cl_rotation_plan.
 * Checks: a parsed event names a valid pool and client and only valid
 * usernames (nothing else reaches a request), an invalid event says why;
 * every planned name is a valid username, the plan never holds a name
 * twice, rounds never exceed the rate; a rotation that adds or resumes
 * names valid secret ids, a refusal says why; the note always says what
 * global sign-out does not end.
 * FUZZ_SOURCES: functions/cognito-lockdown/stages.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_common.h"
#include "resp.h"
#include "../../functions/cognito-lockdown/cognito_lockdown.h"

static const struct cl_settings SET = { "firebreak-cognito-token-abuse", "us-east-1_Tr4d1ngP1",
					"3n4cl1ent1d7rad1ng00000000" };

static void fuzz_event(const char *s, size_t n)
{
	struct cl_event ev;
	char why[300];
	enum fb_err rc;
	size_t i;

	why[0] = '\0';
	rc = cl_parse(s, n, &SET, &ev, why, sizeof(why));
	if (rc != FB_OK) {
		if (!why[0])
			abort();
		cl_event_cleanup(&ev);
		return;
	}
	if (!ev.skip[0]) {
		if (!cl_pool_id_ok(ev.pool) || !cl_client_id_ok(ev.client) || !ev.scope_key[0])
			abort();
		if (!ev.all && (ev.nusers < 1 || ev.nusers > CL_MAX_SCOPE_USERS))
			abort();
		for (i = 0; i < ev.nusers; i++)
			if (!cl_username_ok(ev.users[i]) || (i && strcmp(ev.users[i - 1], ev.users[i]) >= 0))
				abort();
	}
	if (!memchr(ev.skip, '\0', sizeof(ev.skip)))
		abort();
	cl_event_cleanup(&ev);
}

static void fuzz_users(const char *s, size_t n)
{
	cJSON *j = cJSON_ParseWithLength(s, n);
	unsigned char done[CL_BUCKETS];
	struct cl_plan p;
	size_t i, next, k, sum = 0;

	for (i = 0; i < CL_BUCKETS; i++)
		done[i] = (unsigned char)((n >> (i % 8)) & 1);
	if (cl_plan_build(j, NULL, 0, done, &p) == FB_OK) {
		for (i = 0; i < p.n; i++) {
			if (!cl_username_ok(p.names[i]) || done[p.bucket[i]] || p.bucket[i] != cl_bucket_of(p.names[i]))
				abort();
			if (i && p.bucket[i - 1] == p.bucket[i] && strcmp(p.names[i - 1], p.names[i]) >= 0)
				abort();
		}
		for (i = 0; i < CL_BUCKETS; i++)
			sum += p.per_bucket[i];
		if (sum != p.n)
			abort();
		for (next = 0; (k = cl_round_size(&p, next, 7)) > 0; next += k)
			if (k > 7)
				abort();
		if (next != p.n)
			abort();
		cl_plan_cleanup(&p);
	}
	cJSON_Delete(j);
}

static void fuzz_answers(const char *s, size_t n)
{
	cJSON *j = cJSON_ParseWithLength(s, n);
	struct cl_lifetimes lt;
	struct cl_rot_plan rp;
	unsigned char added[2] = { (unsigned char)(n & 1), (unsigned char)((n >> 1) & 1) };
	char why[300], note[900];
	int64_t last;

	(void)cl_mfa_verdict(j, why, sizeof(why));
	(void)cl_token_lifetimes(j, &lt);
	cl_signout_note(&lt, 1796000000000, &last, note, sizeof(note));
	if (!strstr(note, "stay valid until they expire"))
		abort();
	cl_rotation_plan(resp_get(j, "ClientSecrets"), added, &rp);
	if ((rp.what == CL_ROT_ADD && !rp.old_id[0]) || (rp.what == CL_ROT_RESUME && (!rp.old_id[0] || !rp.new_id[0])))
		abort();
	if ((rp.what == CL_ROT_REFUSE || rp.what == CL_ROT_BAD) && !rp.why[0])
		abort();
	cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1 || size > RESP_MAX_EVENT_BYTES + 2)
		return 0;
	s = fuzz_strndup(data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		fuzz_event(s, size - 1);
		break;
	case 1:
		fuzz_users(s, size - 1);
		break;
	default:
		fuzz_answers(s, size - 1);
		break;
	}
	free(s);
	return 0;
}
