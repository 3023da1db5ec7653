/*
 * test_kms: runtime/kms (kms_), the KMS tag call shapes kms-guard writes
 * and records the undo of: TagResource {KeyId, Tags: [{TagKey, TagValue}]},
 * UntagResource {KeyId, TagKeys: [key]}, and the restore[] entry that puts
 * the value before back (or removes a tag that was absent).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "kms.h"
#include "resp.h"

#define KEY "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"

static void assert_json(const cJSON *j, const char *want)
{
	char *txt = cJSON_PrintUnformatted(j);

	assert_non_null(txt);
	assert_string_equal(txt, want);
	cJSON_free(txt);
}

static void test_kms__tag_in_sets_or_removes_one_tag(void **st)
{
	cJSON *in;

	(void)st;
	in = kms_tag_in(KEY, "firebreak:incident", "fb-1");
	assert_json(in, "{\"KeyId\":\"" KEY "\",\"Tags\":[{\"TagKey\":\"firebreak:incident\",\"TagValue\":\"fb-1\"}]}");
	cJSON_Delete(in);
	in = kms_tag_in(KEY, "firebreak:exempt", NULL);
	assert_json(in, "{\"KeyId\":\"" KEY "\",\"TagKeys\":[\"firebreak:exempt\"]}");
	cJSON_Delete(in);
	/* an empty value is a value (TagResource with ""), not a removal */
	in = kms_tag_in(KEY, "firebreak:exempt", "");
	assert_string_equal(resp_get_str(in, "Tags.0.TagValue"), "");
	assert_null(resp_get(in, "TagKeys"));
	cJSON_Delete(in);
}

static void test_kms__tag_undo_puts_the_prior_value_back_or_removes(void **st)
{
	cJSON *u;

	(void)st;
	u = kms_tag_undo("tag-incident", KEY, "firebreak:incident", "fb-0");
	assert_json(u, "{\"step\":\"tag-incident\",\"api\":\"kms:TagResource\",\"args\":{\"KeyId\":\"" KEY
		    "\",\"Tags\":[{\"TagKey\":\"firebreak:incident\",\"TagValue\":\"fb-0\"}]}}");
	cJSON_Delete(u);
	/* absent before: the undo removes it; no step: a kit_spec.restore entry */
	u = kms_tag_undo(NULL, KEY, "firebreak:incident", NULL);
	assert_json(u, "{\"api\":\"kms:UntagResource\",\"args\":{\"KeyId\":\"" KEY
		    "\",\"TagKeys\":[\"firebreak:incident\"]}}");
	cJSON_Delete(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kms__tag_in_sets_or_removes_one_tag),
		cmocka_unit_test(test_kms__tag_undo_puts_the_prior_value_back_or_removes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
