/*
 * Unit tests for runtime/arn.{c,h}: ARN fields, partitions and their
 * regions. The KMS key reference table (every KeyId form, accepted and
 * crafted) is test_kms_guard__key_reference_forms, through arn_kms_ref_ok.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "arn.h"
#include "resp.h"

static void test_arn__parse_fields(void **st)
{
	struct arn a;
	char long_service[100];

	(void)st;
	assert_true(arn_parse("arn:aws:iam::111111111111:role/path/Name", &a));
	assert_string_equal(a.partition, "aws");
	assert_string_equal(a.service, "iam");
	assert_string_equal(a.region, "");
	assert_string_equal(a.account, "111111111111");
	assert_string_equal(a.resource, "role/path/Name");
	assert_true(arn_parse("arn:aws:s3:::bucket", &a));
	assert_string_equal(a.account, "");
	assert_string_equal(a.resource, "bucket");
	/* the resource keeps its own ':' */
	assert_true(arn_parse("arn:aws:logs:us-east-1:111111111111:log-group:/x:*", &a));
	assert_string_equal(a.resource, "log-group:/x:*");
	assert_false(arn_parse(NULL, &a));
	assert_false(arn_parse("", &a));
	assert_false(arn_parse("arn:aws:kms:us-east-1", &a));
	assert_false(arn_parse("ARN:aws:kms:us-east-1:1:key/x", &a));
	assert_false(arn_parse("urn:aws:kms:us-east-1:1:key/x", &a));
	/* a field that does not fit is refused, not cut */
	assert_false(arn_parse("arn:aws:kms:us-east-1:1111111111112222:key/x", &a));
	assert_string_equal(a.partition, "");
	memset(long_service, 's', 80);
	snprintf(long_service + 80, 20, ":r:1:x");
	{
		char s[140];

		snprintf(s, sizeof(s), "arn:aws:%s", long_service);
		assert_false(arn_parse(s, &a));
	}
}

static void test_arn__partitions_and_regions(void **st)
{
	(void)st;
	assert_true(arn_partition_ok("aws"));
	assert_true(arn_partition_ok("aws-cn"));
	assert_true(arn_partition_ok("aws-us-gov"));
	assert_false(arn_partition_ok("aws-iso"));
	assert_false(arn_partition_ok("evil"));
	assert_false(arn_partition_ok(NULL));
	assert_true(arn_region_ok("us-east-1", "aws"));
	assert_true(arn_region_ok("ap-southeast-4", "aws"));
	assert_true(arn_region_ok("cn-north-1", "aws-cn"));
	assert_true(arn_region_ok("us-gov-west-1", "aws-us-gov"));
	assert_true(arn_region_ok("cn-north-1", NULL));
	assert_false(arn_region_ok("cn-north-1", "aws"));
	assert_false(arn_region_ok("us-east-1", "aws-cn"));
	assert_false(arn_region_ok("us-gov-west-1", "aws"));
	assert_false(arn_region_ok("us-east-1", "aws-us-gov"));
	assert_false(arn_region_ok("US-EAST-1", NULL));
	assert_false(arn_region_ok("us-east", NULL));
	assert_false(arn_region_ok("us-east-1.evil.example", NULL));
	assert_false(arn_region_ok("", NULL));
	assert_false(arn_region_ok(NULL, NULL));
}

static void test_arn__kms_arn(void **st)
{
	struct arn a;

	(void)st;
	assert_true(arn_kms("arn:aws:kms:eu-west-1:111111111111:alias/x", &a));
	assert_string_equal(a.region, "eu-west-1");
	assert_string_equal(a.account, "111111111111");
	assert_false(arn_kms("arn:aws:kms:eu-west-1::key/x", &a));        /* no account */
	assert_string_equal(a.region, "");
	assert_false(arn_kms("arn:aws:kms:eu-west-1:1:grant/x", &a));
	assert_false(arn_kms("arn:aws:kmsx:eu-west-1:1:key/x", &a));
	assert_true(arn_kms_ref_ok("arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"));
	assert_false(arn_kms_ref_ok("arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab:x"));
	assert_false(arn_kms_ref_ok(NULL));
}

/* The account leak-rotate reads out of a function's or a role's ARN
 * (leak_account_from_arn's assertions, moved here with the code). */
static void test_arn__account_of_an_arn(void **st)
{
	struct arn a;

	(void)st;
	assert_true(arn_parse("arn:aws:lambda:us-east-1:123456789012:function:f", &a) &&
		    resp_account_id_ok(a.account));
	assert_string_equal(a.account, "123456789012");
	assert_false(arn_parse("arn:aws:lambda:us-east-1:12345678901x:function:f", &a) &&
		     resp_account_id_ok(a.account));
	assert_false(arn_parse(NULL, &a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arn__parse_fields),
		cmocka_unit_test(test_arn__partitions_and_regions),
		cmocka_unit_test(test_arn__kms_arn),
		cmocka_unit_test(test_arn__account_of_an_arn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
