/*
 * test_xml: AWS XML answers into cJSON (runtime/xml.h rules), on bodies
 * shaped like the real ones (IAM, EC2, STS, S3 errors).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xml.h"

/*
 * Issue 16 item 4: expat is a shared library, so --wrap (wipecheck.h)
 * cannot see its frees. This program interposes free() and realloc()
 * themselves (the executable's definitions come first in symbol lookup, for
 * libexpat.so and libcjson.so too) and counts blocks that still hold the
 * canary. Not under ASan, whose own interceptors these would replace.
 */
/* gcc says __SANITIZE_ADDRESS__, clang __has_feature(address_sanitizer) */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XML_UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define XML_UNDER_ASAN 1
#endif
#if !defined(XML_UNDER_ASAN)
#define XML_WIPECHECK 1
#include <dlfcn.h>
#include <malloc.h>

#define CANARY "wipecheck-CANARY-7f3a9c1e-do-not-leak"
static volatile int wc_armed, wc_resolving;
static volatile size_t wc_leaks;
static void (*next_free)(void *);
static void *(*next_realloc)(void *, size_t);

static void wc_resolve(void)
{
	if (next_free || wc_resolving)
		return;
	wc_resolving = 1; /* dlsym may free: those few blocks are not checked */
	*(void **)&next_free = dlsym(RTLD_NEXT, "free");
	*(void **)&next_realloc = dlsym(RTLD_NEXT, "realloc");
	wc_resolving = 0;
}

static void wc_check(void *p)
{
	if (wc_armed && p && memmem(p, malloc_usable_size(p), CANARY, sizeof(CANARY) - 1))
		wc_leaks++;
}

void free(void *p)
{
	wc_resolve();
	if (!next_free)
		return; /* while resolving: leak rather than recurse */
	wc_check(p);
	next_free(p);
}

void *realloc(void *p, size_t n)
{
	wc_resolve();
	wc_check(p);
	return next_realloc(p, n);
}
#endif

static cJSON *parse_ok(const char *xml, char *root, size_t rootlen)
{
	cJSON *j = NULL;
	char err[200];
	enum fb_err rc = xml_to_json(xml, strlen(xml), &j, root, rootlen, err, sizeof(err));

	if (rc != FB_OK)
		fprintf(stderr, "xml_to_json: %s\n", err);
	assert_int_equal(rc, FB_OK);
	assert_non_null(j);
	return j;
}

static const char *sget(const cJSON *j, const char *path)
{
	/* "a.b.0.c": objects by key, arrays by index */
	char buf[256], *save = NULL, *tok;
	const cJSON *cur = j;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && cur; tok = strtok_r(NULL, ".", &save)) {
		if (cJSON_IsArray(cur))
			cur = cJSON_GetArrayItem(cur, (int)strtol(tok, NULL, 10));
		else
			cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
	}
	return cJSON_IsString(cur) ? cur->valuestring : NULL;
}

static const cJSON *jget(const cJSON *j, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(j, key);
}

static void test_xml__iam_members_and_map(void **state)
{
	const char *x =
		"<?xml version=\"1.0\"?>\n"
		"<GetAccountSummaryResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n"
		"  <GetAccountSummaryResult>\n"
		"    <SummaryMap>\n"
		"      <entry><key>Users</key><value>5</value></entry>\n"
		"      <entry><key>AccessKeysPerUserQuota</key><value>2</value></entry>\n"
		"    </SummaryMap>\n"
		"  </GetAccountSummaryResult>\n"
		"  <ResponseMetadata><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ResponseMetadata>\n"
		"</GetAccountSummaryResponse>";
	char root[64];
	cJSON *j = parse_ok(x, root, sizeof(root));

	(void)state;
	assert_string_equal(root, "GetAccountSummaryResponse");
	assert_string_equal(sget(j, "GetAccountSummaryResult.SummaryMap.Users"), "5");
	assert_string_equal(sget(j, "GetAccountSummaryResult.SummaryMap.AccessKeysPerUserQuota"), "2");
	assert_string_equal(sget(j, "ResponseMetadata.RequestId"), "7a62c49f-347e-4fc4-9331-6e8eEXAMPLE");
	cJSON_Delete(j);
}

static void test_xml__member_lists_become_arrays(void **state)
{
	const char *x =
		"<ListAccessKeysResponse><ListAccessKeysResult>"
		"<AccessKeyMetadata>"
		"<member><UserName>bob</UserName><AccessKeyId>AKIA1</AccessKeyId><Status>Active</Status></member>"
		"<member><UserName>bob</UserName><AccessKeyId>AKIA2</AccessKeyId><Status>Inactive</Status></member>"
		"</AccessKeyMetadata>"
		"<IsTruncated>false</IsTruncated>"
		"</ListAccessKeysResult></ListAccessKeysResponse>";
	cJSON *j = parse_ok(x, NULL, 0);
	const cJSON *l = jget(jget(j, "ListAccessKeysResult"), "AccessKeyMetadata");

	(void)state;
	assert_true(cJSON_IsArray(l));
	assert_int_equal(cJSON_GetArraySize(l), 2);
	assert_string_equal(sget(j, "ListAccessKeysResult.AccessKeyMetadata.1.Status"), "Inactive");
	assert_string_equal(sget(j, "ListAccessKeysResult.IsTruncated"), "false");
	cJSON_Delete(j);
}

static void test_xml__single_member_is_still_an_array(void **state)
{
	const char *x = "<R><Result><Names><member>only</member></Names></Result></R>";
	cJSON *j = parse_ok(x, NULL, 0);
	const cJSON *l = jget(jget(j, "Result"), "Names");

	(void)state;
	assert_true(cJSON_IsArray(l));
	assert_int_equal(cJSON_GetArraySize(l), 1);
	assert_string_equal(cJSON_GetArrayItem(l, 0)->valuestring, "only");
	cJSON_Delete(j);
}

static void test_xml__ec2_items_nested(void **state)
{
	const char *x =
		"<DescribeSecurityGroupsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\n"
		"  <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>\n"
		"  <securityGroupInfo>\n"
		"    <item>\n"
		"      <ownerId>123456789012</ownerId>\n"
		"      <groupId>sg-1a2b3c4d</groupId>\n"
		"      <ipPermissionsEgress>\n"
		"        <item><ipProtocol>-1</ipProtocol>\n"
		"          <groups/>\n"
		"          <ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges>\n"
		"        </item>\n"
		"      </ipPermissionsEgress>\n"
		"      <tagSet></tagSet>\n"
		"    </item>\n"
		"  </securityGroupInfo>\n"
		"</DescribeSecurityGroupsResponse>";
	cJSON *j = parse_ok(x, NULL, 0);
	const cJSON *groups;

	(void)state;
	assert_true(cJSON_IsArray(jget(j, "securityGroupInfo")));
	assert_string_equal(sget(j, "securityGroupInfo.0.groupId"), "sg-1a2b3c4d");
	assert_string_equal(sget(j, "securityGroupInfo.0.ipPermissionsEgress.0.ipRanges.0.cidrIp"),
			    "0.0.0.0/0");
	/* empty elements are "" and iterate as nothing */
	assert_string_equal(sget(j, "securityGroupInfo.0.tagSet"), "");
	groups = jget(cJSON_GetArrayItem(jget(cJSON_GetArrayItem(jget(j, "securityGroupInfo"), 0),
					      "ipPermissionsEgress"), 0), "groups");
	assert_true(cJSON_IsString(groups));
	assert_int_equal(cJSON_GetArraySize(groups), 0);
	cJSON_Delete(j);
}

static void test_xml__repeated_names_become_arrays(void **state)
{
	/* EC2 errors and S3 flattened lists repeat a name without a wrapper. */
	const char *x = "<Response><Errors><Error><Code>A</Code></Error><Error><Code>B</Code></Error>"
			"</Errors><RequestID>r1</RequestID></Response>";
	cJSON *j = parse_ok(x, NULL, 0);

	(void)state;
	assert_true(cJSON_IsArray(jget(jget(j, "Errors"), "Error")));
	assert_string_equal(sget(j, "Errors.Error.1.Code"), "B");
	assert_string_equal(sget(j, "RequestID"), "r1");
	cJSON_Delete(j);
}

static void test_xml__text_entities_and_whitespace(void **state)
{
	const char *x = "<E><Message>a &amp; b &lt;c&gt; &#233;</Message>\n  <Empty/>\n</E>";
	cJSON *j = parse_ok(x, NULL, 0);

	(void)state;
	assert_string_equal(sget(j, "Message"), "a & b <c> \xc3\xa9");
	assert_string_equal(sget(j, "Empty"), "");
	cJSON_Delete(j);
}

static void test_xml__leaf_root_is_string(void **state)
{
	char root[16];
	cJSON *j = parse_ok("<Code>NoSuchKey</Code>", root, sizeof(root));

	(void)state;
	assert_true(cJSON_IsString(j));
	assert_string_equal(j->valuestring, "NoSuchKey");
	assert_string_equal(root, "Code");
	cJSON_Delete(j);
}

static void test_xml__refuses_bad_input(void **state)
{
	static const char *bad[] = {
		"",
		"not xml",
		"<a><b></a>",
		"<a>unterminated",
		"<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *j = (cJSON *)1;
		char err[200] = "";

		assert_int_equal(xml_to_json(bad[i], strlen(bad[i]), &j, NULL, 0, err, sizeof(err)),
				 FB_E_PARSE);
		assert_null(j);
		assert_true(err[0] != '\0');
	}
}

static void test_xml__depth_is_capped(void **state)
{
	char x[4096];
	size_t n = 0;
	int i;
	cJSON *j = NULL;

	(void)state;
	for (i = 0; i < XML_MAX_DEPTH + 5; i++)
		n += (size_t)snprintf(x + n, sizeof(x) - n, "<a>");
	for (i = 0; i < XML_MAX_DEPTH + 5; i++)
		n += (size_t)snprintf(x + n, sizeof(x) - n, "</a>");
	assert_int_equal(xml_to_json(x, n, &j, NULL, 0, NULL, 0), FB_E_TOO_LARGE);
	assert_null(j);
}

/* Wipes every string of a tree: what aws.c's callers do with credentials. */
static void wipe_strings(cJSON *j)
{
	for (; j; j = j->next) {
		if (j->valuestring)
			memset(j->valuestring, 0, strlen(j->valuestring));
		wipe_strings(j->child);
	}
}

/* An AssumeRole answer (session credentials) leaves no copy in memory
 * handed back to the allocator: not in expat's buffers, not in the text
 * nodes. The caller wipes the cJSON it gets. */
static void test_xml__secret_text_wiped_before_free(void **state)
{
#ifdef XML_WIPECHECK
	char *p, *xml;
	size_t n = 64 * 1024;
	cJSON *j = NULL;
	char err[200];
	int k;

	(void)state;
	/* the hook is live: an unwiped block is seen */
	p = malloc(100);
	assert_non_null(p);
	memcpy(p + 10, CANARY, sizeof(CANARY));
	__asm__ __volatile__("" : : "r"(p) : "memory");
	wc_armed = 1;
	free(p);
	wc_armed = 0;
	assert_int_equal(wc_leaks, 1);
	wc_leaks = 0;

	xml = malloc(n);
	assert_non_null(xml);
	k = snprintf(xml, n, "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
		     "<AssumeRoleResult><Credentials><AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>"
		     "<SecretAccessKey>%s</SecretAccessKey><SessionToken>%s", CANARY, CANARY);
	/* a long token: expat's buffers and the text node grow */
	while ((size_t)k < n - 200)
		xml[k++] = 'T';
	snprintf(xml + k, n - (size_t)k, "</SessionToken><Expiration>2026-12-07T01:00:00Z</Expiration>"
		 "</Credentials></AssumeRoleResult></AssumeRoleResponse>");
	wc_armed = 1;
	assert_int_equal(xml_to_json(xml, strlen(xml), &j, NULL, 0, err, sizeof(err)), FB_OK);
	assert_non_null(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(
		cJSON_GetObjectItem(j, "AssumeRoleResult"), "Credentials"), "SecretAccessKey")), CANARY));
	wipe_strings(j);
	cJSON_Delete(j);
	wc_armed = 0;
	free(xml);
	assert_int_equal(wc_leaks, 0);
#else
	(void)state;
	skip();
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xml__iam_members_and_map),
		cmocka_unit_test(test_xml__member_lists_become_arrays),
		cmocka_unit_test(test_xml__single_member_is_still_an_array),
		cmocka_unit_test(test_xml__ec2_items_nested),
		cmocka_unit_test(test_xml__repeated_names_become_arrays),
		cmocka_unit_test(test_xml__text_entities_and_whitespace),
		cmocka_unit_test(test_xml__leaf_root_is_string),
		cmocka_unit_test(test_xml__refuses_bad_input),
		cmocka_unit_test(test_xml__depth_is_capped),
		cmocka_unit_test(test_xml__secret_text_wiped_before_free),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
