/*
 * test_akey: runtime/akey (akey_), the calls about one IAM access key
 * (moved from leak-rotate's key rounds): each operation's input in the
 * wire form over the real kit and AWS layer (kit_fake.h), the write's undo
 * recorded before it is sent, the undo entry with and without a member
 * account, a key's status in a ListAccessKeys answer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "akey.h"
#include "aws.h"
#include "http.h"
#include "kit.h"
#include "resp.h"

#include "kit_fake.h"

#define KEY "AKIAIOSFODNN7EXAMPLE"

static void test_akey__steps_send_each_operation(void **st)
{
	struct world w;
	struct kit_round *rd;
	struct kit_step *info, *used, *list, *off;

	(void)st;
	world_up(&w, 0);
	route("GetAccessKeyInfo", NULL, 200, "<GetAccessKeyInfoResponse><GetAccessKeyInfoResult>"
	      "<Account>111111111111</Account></GetAccessKeyInfoResult></GetAccessKeyInfoResponse>", 5, 0);
	route("GetAccessKeyLastUsed", NULL, 200, "<GetAccessKeyLastUsedResponse><GetAccessKeyLastUsedResult>"
	      "<UserName>billing-bot</UserName></GetAccessKeyLastUsedResult></GetAccessKeyLastUsedResponse>", 5, 0);
	route("ListAccessKeys", NULL, 200, "<ListAccessKeysResponse><ListAccessKeysResult><AccessKeyMetadata>"
	      "<member><AccessKeyId>AKIAOTHER0000EXAMPLE</AccessKeyId><Status>Inactive</Status></member>"
	      "<member><AccessKeyId>" KEY "</AccessKeyId><Status>Active</Status></member>"
	      "</AccessKeyMetadata></ListAccessKeysResult></ListAccessKeysResponse>", 5, 0);
	route("UpdateAccessKey", NULL, 200, "<UpdateAccessKeyResponse/>", 5, 0);
	rd = kit_round_new(&w.k);
	info = akey_add(rd, AKEY_INFO, "key-account", KEY, NULL, NULL, NULL);
	used = akey_add(rd, AKEY_LAST_USED, "key-owner", KEY, NULL, NULL, NULL);
	list = akey_add(rd, AKEY_LIST, "key-status", KEY, "billing-bot", NULL, NULL);
	off = akey_add(rd, AKEY_DEACTIVATE, "deactivate-key", KEY, "billing-bot", NULL,
		       akey_undo("deactivate-key", "billing-bot", KEY, "Active", NULL, NULL));
	assert_int_equal(kit_run(rd), FB_OK);
	assert_true(kit_ok(info) && kit_ok(used) && kit_ok(list) && kit_ok(off));
	assert_int_equal(sent("UpdateAccessKey"), 1);
	assert_non_null(strstr(last_of("GetAccessKeyInfo")->body, "AccessKeyId=" KEY));
	assert_non_null(strstr(last_of("GetAccessKeyLastUsed")->body, "AccessKeyId=" KEY));
	assert_non_null(strstr(last_of("ListAccessKeys")->body, "UserName=billing-bot"));
	assert_null(strstr(last_of("ListAccessKeys")->body, "AccessKeyId"));
	assert_non_null(strstr(last_of("UpdateAccessKey")->body, "UserName=billing-bot"));
	assert_non_null(strstr(last_of("UpdateAccessKey")->body, "Status=Inactive"));
	/* the write's undo was in restore[] before it was sent */
	assert_int_equal(last_of("UpdateAccessKey")->nrestore, 1);
	assert_string_equal(line(&w, "key-account")->api, "sts:GetAccessKeyInfo");
	assert_int_equal(line(&w, "key-account")->kind, RESP_READ);
	assert_string_equal(line(&w, "deactivate-key")->api, "iam:UpdateAccessKey");
	assert_int_equal(line(&w, "deactivate-key")->kind, RESP_WRITE);
	assert_string_equal(akey_status(kit_out(list), KEY), "Active");
	assert_string_equal(akey_status(kit_out(list), "AKIAOTHER0000EXAMPLE"), "Inactive");
	assert_null(akey_status(kit_out(list), "AKIANOTLISTEDEXAMPLE"));
	assert_null(akey_status(NULL, KEY));
	kit_round_free(rd);
	world_down(&w);
}

static void test_akey__undo_entry(void **st)
{
	cJSON *e = akey_undo("deactivate-key", "ci-deployer", KEY, "Active", NULL, NULL);
	char *txt;

	(void)st;
	assert_non_null(e);
	assert_string_equal(cJSON_GetObjectItem(e, "api")->valuestring, "iam:UpdateAccessKey");
	assert_string_equal(cJSON_GetObjectItem(e, "target")->valuestring, KEY);
	assert_string_equal(cJSON_GetObjectItem(e, "prior_status")->valuestring, "Active");
	assert_string_equal(cJSON_GetObjectItem(e, "command")->valuestring,
			    "aws iam update-access-key --user-name 'ci-deployer' --access-key-id " KEY
			    " --status Active");
	assert_null(cJSON_GetObjectItem(e, "account"));
	cJSON_Delete(e);
	e = akey_undo("deactivate-key", "ci-deployer", KEY, "Active", "222222222222",
		      "arn:aws:iam::222222222222:role/firebreak-member");
	txt = cJSON_PrintUnformatted(e);
	assert_non_null(strstr(txt, "\"account\":\"222222222222\",\"role\":\"arn:aws:iam::222222222222:role/"
				    "firebreak-member\""));
	cJSON_free(txt);
	cJSON_Delete(e);
}

static void test_akey__verify_refuses_before_any_call(void **st)
{
	struct aws_error e;
	char arn[64] = "x", tok[AKEY_TOKEN_MAX + 2];
	size_t refused = 7;

	(void)st;
	/* no candidate: nothing tried, nothing refused */
	assert_int_equal(akey_verify_any(KEY, NULL, 0, NULL, 0, 0, arn, sizeof(arn), &e, &refused), FB_OK);
	assert_int_equal(refused, 0);
	/* a token longer than any STS session token is not copied */
	memset(tok, 'A', sizeof(tok));
	assert_int_equal(akey_verify(KEY, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", tok, sizeof(tok), 0, arn,
				     sizeof(arn), &e), FB_E_INVALID);
}

/* w5-adopt-1: the containments' key write (iam-contain, access-triage):
 * the input, the undo in the form firebreak-restore reads recorded before
 * the send, the report line, "already" with nothing sent for an Inactive
 * key; every key of the user read through akey_pages. */
static void test_akey__deactivate_as_the_containments_record_it(void **st)
{
	struct world w;
	struct kit_round *rd;
	struct kit_step *list, *on, *off;
	char *txt;

	(void)st;
	world_up(&w, 0);
	route("ListAccessKeys", "Marker=", 200, "<ListAccessKeysResponse><ListAccessKeysResult><AccessKeyMetadata>"
	      "<member><AccessKeyId>AKIAOTHER0000EXAMPLE</AccessKeyId><Status>Inactive</Status></member>"
	      "</AccessKeyMetadata><IsTruncated>false</IsTruncated></ListAccessKeysResult></ListAccessKeysResponse>",
	      5, 0);
	route("ListAccessKeys", NULL, 200, "<ListAccessKeysResponse><ListAccessKeysResult><AccessKeyMetadata>"
	      "<member><AccessKeyId>" KEY "</AccessKeyId><Status>Active</Status></member>"
	      "</AccessKeyMetadata><IsTruncated>true</IsTruncated><Marker>m2</Marker></ListAccessKeysResult>"
	      "</ListAccessKeysResponse>", 5, 0);
	route("UpdateAccessKey", NULL, 200, "<UpdateAccessKeyResponse/>", 5, 0);
	rd = kit_round_new(&w.k);
	list = kit_add(rd, &(struct kit_spec){ .step = "list-keys", .service = "iam", .op = "ListAccessKeys",
		.target = "mallory", .kind = RESP_READ, .in = kit_obj("UserName", "mallory", KIT_END),
		.paging = &akey_pages });
	assert_int_equal(kit_run(rd), FB_OK);
	assert_int_equal(cJSON_GetArraySize(kit_items(list)), 2);
	assert_true(kit_complete(list));
	kit_round_free(rd);

	rd = kit_round_new(&w.k);
	on = akey_deactivate(rd, "deactivate-key", "mallory", KEY, "Active", NULL);
	off = akey_deactivate(rd, "deactivate-key", "mallory", "AKIAOTHER0000EXAMPLE", "Inactive", NULL);
	assert_int_equal(kit_status(off), RESP_ALREADY);
	assert_int_equal(kit_run(rd), FB_OK);
	assert_int_equal(kit_status(on), RESP_DONE);
	assert_int_equal(sent("UpdateAccessKey"), 1);
	assert_non_null(strstr(last_of("UpdateAccessKey")->body, "UserName=mallory"));
	assert_non_null(strstr(last_of("UpdateAccessKey")->body, "AccessKeyId=" KEY));
	assert_non_null(strstr(last_of("UpdateAccessKey")->body, "Status=Inactive"));
	assert_int_equal(last_of("UpdateAccessKey")->nrestore, 1);
	assert_string_equal(w.r.steps[w.r.nsteps - 2].detail, "Inactive (kept, not deleted)");
	assert_string_equal(w.r.steps[w.r.nsteps - 1].detail, "already Inactive");
	assert_int_equal(cJSON_GetArraySize(w.r.restore), 1);
	txt = cJSON_PrintUnformatted(cJSON_GetArrayItem(w.r.restore, 0));
	assert_string_equal(txt, "{\"step\":\"deactivate-key\",\"api\":\"iam:UpdateAccessKey\",\"args\":"
			    "{\"UserName\":\"mallory\",\"AccessKeyId\":\"" KEY "\",\"Status\":\"Active\"}}");
	cJSON_free(txt);
	kit_round_free(rd);
	world_down(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_akey__steps_send_each_operation),
		cmocka_unit_test(test_akey__undo_entry),
		cmocka_unit_test(test_akey__verify_refuses_before_any_call),
		cmocka_unit_test(test_akey__deactivate_as_the_containments_record_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
