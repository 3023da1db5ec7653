/*
 * fuzz_codeartifact_lock: codeartifact-lock's pure stages
 * (functions/codeartifact-lock/stages.c, declared in codeartifact_lock.h).
 * The first byte picks the stage:
 *   0 the event text -> ca_parse (alarm, GuardDuty finding, manual form),
 *     with the alarm and a domain and principal configured;
 *   1 a permissions policy document -> ca_policy_merge and ca_policy_grants;
 *   2 a principal ARN -> ca_principal_parse, ca_sid, ca_judge.
 * Checks: a parsed event's domain is a valid domain name and its principal
 * parses (nothing else reaches a request); an invalid event says why; a
 * merged policy is a JSON object holding every statement it had (one more,
 * or the same number when ours was replaced), and merging it again is
 * "already" (idempotence); grants is -1, 0 or 1; a parsed principal's
 * account is 12 digits and its deny ARN parses to the same principal; a
 * root is never judged CA_LOCK.
 * FUZZ_SOURCES: functions/codeartifact-lock/stages.c
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_common.h"
#include "resp.h"
#include "../../functions/codeartifact-lock/codeartifact_lock.h"

static void fuzz_event(const char *s, size_t n)
{
	struct ca_settings set;
	struct ca_principal p;
	struct ca_event ev;
	char why[300];

	memset(&set, 0, sizeof(set));
	snprintf(set.alarm, sizeof(set.alarm), "firebreak-codeartifact-token-spike");
	snprintf(set.domain, sizeof(set.domain), "acme");
	snprintf(set.principal, sizeof(set.principal), "arn:aws:iam::111111111111:role/ci-build");
	set.min_severity = 4;
	why[0] = '\0';
	if (ca_parse(s, n, &set, &ev, why, sizeof(why)) != FB_OK) {
		if (!why[0])
			abort();
		ca_event_cleanup(&ev);
		return;
	}
	if (!ev.skip[0]) {
		if (!ca_domain_ok(ev.domain) || ca_principal_parse(ev.principal, &p))
			abort();
		if (ev.domain_owner[0] && !resp_account_id_ok(ev.domain_owner))
			abort();
	}
	if (!memchr(ev.skip, '\0', sizeof(ev.skip)))
		abort();
	ca_event_cleanup(&ev);
}

static int nstatements(const char *doc)
{
	cJSON *d = cJSON_Parse(doc);
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(d, "Statement");
	int n;

	if (!cJSON_IsObject(d))
		abort();
	n = cJSON_IsArray(st) ? cJSON_GetArraySize(st) : st ? 1 : 0;
	cJSON_Delete(d);
	return n;
}

static void fuzz_policy(const char *s, size_t n)
{
	static const char *const who = "arn:aws:iam::111111111111:user/mallory";
	struct ca_principal p;
	char *out = NULL, *again = NULL, why[500];
	enum ca_merge m;
	int g, before = -1;

	(void)n;
	m = ca_policy_merge(s, who, &out, why, sizeof(why));
	if (m == CA_MERGE_WRITE) {
		cJSON *d = cJSON_Parse(s);

		if (cJSON_IsObject(d))
			before = nstatements(s);
		cJSON_Delete(d);
		if (!out)
			abort();
		if (before >= 0 && nstatements(out) != before + 1 && nstatements(out) != before)
			abort();
		if (ca_policy_merge(out, who, &again, why, sizeof(why)) != CA_MERGE_ALREADY || again)
			abort();
	} else if (out) {
		abort();
	}
	free(out);
	if (ca_principal_parse(who, &p))
		abort();
	g = ca_policy_grants(s, &p, who, why, sizeof(why));
	if (g < -1 || g > 1)
		abort();
}

static void fuzz_principal(const char *s, size_t n)
{
	struct ca_principal p, q;
	char sid[CA_SID_LEN], why[600];
	size_t i;

	(void)n;
	if (ca_principal_parse(s, &p))
		return;
	if (!resp_account_id_ok(p.account) || ca_principal_parse(p.deny_arn, &q) || strcmp(q.deny_arn, p.deny_arn) ||
	    q.kind != p.kind)
		abort();
	ca_sid(p.deny_arn, sid);
	for (i = 0; sid[i]; i++)
		if (!isalnum((unsigned char)sid[i]))
			abort();
	if (p.kind == CA_P_ROOT &&
	    ca_judge(&p, s, p.account, "arn:aws:sts::111111111111:assumed-role/x/y", NULL, NULL, why,
		     sizeof(why)) == CA_LOCK)
		abort();
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
		fuzz_policy(s, size - 1);
		break;
	default:
		fuzz_principal(s, size - 1);
		break;
	}
	free(s);
	return 0;
}
