/*
 * fuzz_public_lock: public-lock's pure stages (functions/public-lock/
 * stages.c, declared in public_lock.h). The first byte picks the stage:
 *   0 the event text -> pl_parse (CloudTrail via EventBridge, Security Hub
 *     findings, manual forms);
 *   1 an S3 answer as the AWS layer turns it into cJSON (JSON here) ->
 *     pl_block_from_json, pl_acl_public, pl_exposure over what they read;
 *   2 a LookupEvents Events array -> prov_decide for firebreak:public-ok
 *     (runtime/prov.c reads S3's PutBucketTagging / DeleteBucketTagging).
 * Checks: every bucket parsed is a valid bucket name (nothing else reaches a
 * request), the account is 12 digits or empty, an invalid event says why and
 * keeps nothing; an unreadable ACL is -1, never a count; the lock input
 * never turns a setting off; nothing is honoured from an incomplete read.
 * FUZZ_SOURCES: functions/public-lock/stages.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_common.h"
#include "prov.h"
#include "../../functions/public-lock/public_lock.h"

static void fuzz_event(const char *s, size_t n)
{
	struct pl_event ev;
	char why[300];
	enum fb_err rc;
	size_t i;

	why[0] = '\0';
	rc = pl_parse(s, n, &ev, why, sizeof(why));
	if (rc != FB_OK) {
		if (!why[0] || ev.root)
			abort();
		return;
	}
	if (ev.nbuckets > PL_MAX_BUCKETS || (ev.account[0] && strlen(ev.account) != 12))
		abort();
	for (i = 0; i < ev.nbuckets; i++)
		if (!pl_bucket_name_ok(ev.buckets[i]))
			abort();
	if (!memchr(ev.skip, '\0', sizeof(ev.skip)) || !memchr(ev.actor, '\0', sizeof(ev.actor)))
		abort();
	pl_event_cleanup(&ev);
}

static void fuzz_state(const char *s, size_t n)
{
	cJSON *j = cJSON_ParseWithLength(s, n), *in;
	struct pl_state st;
	char names[300], why[300];
	int k;

	memset(&st, 0, sizeof(st));
	if (pl_block_from_json(j, &st.bucket)) {
		cJSON *back = pl_block_json(&st.bucket);

		for (k = 0; k < PL_NSETTINGS; k++)
			if (!cJSON_IsBool(cJSON_GetObjectItem(back, pl_setting_names[k])))
				abort();
		cJSON_Delete(back);
	}
	k = pl_acl_public(j, names, sizeof(names));
	if (k < -1 || !memchr(names, '\0', sizeof(names)))
		abort();
	st.acl_public = k > 0;
	st.policy_public = n & 1;
	pl_exposure(&st, why, sizeof(why));
	in = pl_lock_input(NULL);
	for (k = 0; k < PL_NSETTINGS; k++)
		if (!cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(in, "PublicAccessBlockConfiguration"),
						      pl_setting_names[k])))
			abort();
	cJSON_Delete(in);
	cJSON_Delete(j);
}

static void fuzz_history(const char *s, size_t n)
{
	cJSON *h = cJSON_ParseWithLength(s, n);
	struct prov_query q;
	struct prov_decision d;

	memset(&q, 0, sizeof(q));
	q.tag_key = PL_TAG_PUBLIC_OK;
	q.tag_value = "true";
	q.trigger_ms = 1709287230000;
	q.trigger_event_id = "ev-1";
	q.trigger_actor = "arn:aws:iam::111111111111:user/mallory";
	q.min_age_ms = 86400000;
	prov_decide(h, &q, &d);  /* complete = 0 */
	if (!memchr(d.reason, '\0', sizeof(d.reason)) || (d.verdict == PROV_HONOURED && !d.set_ms))
		abort();
	cJSON_Delete(h);
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
		fuzz_state(s, size - 1);
		break;
	default:
		fuzz_history(s, size - 1);
		break;
	}
	free(s);
	return 0;
}
