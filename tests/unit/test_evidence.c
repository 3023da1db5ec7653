/*
 * test_evidence: runtime/evidence's undo-record claim as the responders
 * make it (evidence_undo_claim, block w4-kc-kg): nothing for no entries,
 * "not kept" without a bucket, "planned" under dry run. Over the real AWS
 * layer and the fake transport of kit_fake.h (no request is expected).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "evidence.h"
#include "http.h"
#include "kit.h"
#include "resp.h"

#include "kit_fake.h"

#define KEY "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"

static cJSON *one_entry(void)
{
	cJSON *rec = cJSON_CreateArray();

	cJSON_AddItemToArray(rec, kit_undo_step("enable-key", "kms:DisableKey", kit_obj("KeyId", KEY, KIT_END)));
	return rec;
}

static void test_evidence__undo_claim(void **st)
{
	struct evidence_config cfg = { 0 };
	char bucket[] = "evidence-bucket";
	struct world w;
	cJSON *sec = cJSON_CreateObject();

	(void)st;
	world_up(&w, 0);
	/* no entries: nothing to undo, nothing said, the array freed */
	assert_int_equal(evidence_undo_claim(&w.k, w.aws, &cfg, &ctx, "key_arn", KEY, cJSON_CreateArray(), sec), 0);
	assert_null(cJSON_GetObjectItem(sec, "undo_record"));
	/* no bucket: "not kept", no call */
	assert_int_equal(evidence_undo_claim(&w.k, w.aws, &cfg, &ctx, "key_arn", KEY, one_entry(), sec), 0);
	assert_string_equal(resp_get_str(sec, "undo_record.state"), "not kept");
	assert_int_equal(F.nlog, 0);
	assert_int_equal(w.r.nsteps, 0);
	world_down(&w);
	cJSON_Delete(sec);

	/* dry run: the claim is planned, one evidence-put line, no call */
	sec = cJSON_CreateObject();
	cfg.bucket = bucket;
	world_up(&w, 1);
	route("", NULL, 500, "<Error><Code>InternalError</Code></Error>", 0, 0);   /* S3: any call fails */
	assert_int_equal(evidence_undo_claim(&w.k, w.aws, &cfg, &ctx, "key_arn", KEY, one_entry(), sec), 1);
	assert_string_equal(resp_get_str(sec, "undo_record.state"), "planned");
	assert_string_equal(resp_get_str(sec, "undo_record.bucket"), bucket);
	assert_non_null(strstr(resp_get_str(sec, "undo_record.key"), "restore.json"));
	assert_int_equal(F.nlog, 0);
	assert_int_equal(sent(""), 0);
	assert_null(last_of(""));
	assert_int_equal(w.r.nsteps, 1);
	assert_int_equal(line(&w, "evidence-put")->status, RESP_PLANNED);
	world_down(&w);
	cJSON_Delete(sec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evidence__undo_claim),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
