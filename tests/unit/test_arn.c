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

#define TASK "arn:aws:ecs:us-east-1:111111111111:task/prod/0123456789abcdef0123456789abcdef"

static void test_arn__fields(void **st)
{
	char f[32];

	(void)st;
	assert_true(arn_field(TASK, 1, f, sizeof(f)));
	assert_string_equal(f, "aws");
	assert_true(arn_field(TASK, 3, f, sizeof(f)));
	assert_string_equal(f, "us-east-1");
	assert_true(arn_field(TASK, 4, f, sizeof(f)));
	assert_string_equal(f, "111111111111");
	/* empty, missing, too long, not an ARN: never a truncated field */
	assert_false(arn_field("arn:aws:s3:::bucket", 3, f, sizeof(f)));
	assert_false(arn_field("arn:aws:s3", 4, f, sizeof(f)));
	assert_false(arn_field(TASK, 3, f, 5));
	assert_false(arn_field("urn:aws:ecs:us-east-1:1:x", 3, f, sizeof(f)));
}

static void test_arn__strict_head_and_tail(void **st)
{
	(void)st;
	assert_string_equal(arn_rest(TASK, "ecs"), "task/prod/0123456789abcdef0123456789abcdef");
	assert_string_equal(arn_rest("arn:aws-us-gov:ecs:us-gov-west-1:111111111111:cluster/c", "ecs"), "cluster/c");
	assert_null(arn_rest(TASK, "ec2"));
	assert_null(arn_rest(TASK, "ec"));
	assert_null(arn_rest("arn:aws:ecs:us-east-1:11111111111:task/x", "ecs"));      /* 11 digits */
	assert_null(arn_rest("arn:aws:ecs:us-east-1:1111111111112:task/x", "ecs"));    /* 13 */
	assert_null(arn_rest("arn:AWS:ecs:us-east-1:111111111111:task/x", "ecs"));
	assert_null(arn_rest("arn:aws:ecs::111111111111:task/x", "ecs"));               /* no region */
	assert_null(arn_rest("arn:aws:ecs:evil.example:443:111111111111:task/x", "ecs"));
	assert_string_equal(arn_tail(TASK), "0123456789abcdef0123456789abcdef");
	assert_string_equal(arn_tail("no-slash"), "no-slash");
}

/* Moved from test_task_quarantine.c with the code (issue 17). */
static void test_arn__ecs_task_and_cluster_references(void **st)
{
	static const char *const good_task[] = {
		"0123456789abcdef0123456789abcdef",
		"arn:aws:ecs:us-east-1:111111111111:task/prod/0123456789abcdef0123456789abcdef",
		"arn:aws-us-gov:ecs:us-gov-west-1:111111111111:task/my_cluster-2/0123456789abcdef0123456789abcdef",
		"arn:aws:ecs:us-east-1:111111111111:task/0123456789abcdef0123456789abcdef",
		"arn:aws:ecs:us-east-1:111111111111:task/c5cba4eb-5dad-405e-96db-71ef8eefe6a8",
	};
	static const char *const bad_task[] = {
		"", "abc", "0123456789abcdef0123456789abcde", "0123456789abcdef0123456789abcdef0",
		"0123456789abcdef0123456789abcdeg", "https://evil.example/task", "../../../etc/passwd",
		"0123456789abcdef/../0123456789abcdef", "ecs.evil.example:443",
		"arn:aws:ecs:us-east-1:111111111111:task/prod/../0123456789abcdef0123456789abcdef",
		"arn:aws:ecs:us-east-1:111111111111:task/prod/0123456789abcdef0123456789abcdef/x",
		"arn:aws:ecs:us-east-1:11111111111:task/prod/0123456789abcdef0123456789abcdef",
		"arn:aws:ec2:us-east-1:111111111111:task/prod/0123456789abcdef0123456789abcdef",
		"arn:aws:ecs:us-east-1:111111111111:cluster/prod",
		"arn:aws:ecs:evil.example:111111111111:task/prod/0123456789abcdef0123456789abcdef",
		"arn:aws:ecs:us-east-1:111111111111:task/pr od/0123456789abcdef0123456789abcdef",
		"arn:aws:ecs:us-east-1:111111111111:task/prod/\r\nHost: evil",
		"c5cba4eb-5dad-405e-96db+71ef8eefe6a8",
	};
	static const char *const good_cluster[] = {
		"prod", "my_cluster-2", "arn:aws:ecs:us-east-1:111111111111:cluster/prod",
	};
	static const char *const bad_cluster[] = {
		"", "ecs.evil.example:443", "prod/..", "../prod", "https://evil.example", "pr od",
		"arn:aws:ecs:us-east-1:111111111111:cluster/", "arn:aws:ecs:us-east-1:111111111111:cluster/a/b",
		"arn:aws:ecs:us-east-1:111111111111:task/prod/0123456789abcdef0123456789abcdef",
	};
	char big[300];
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(good_task) / sizeof(good_task[0]); i++)
		if (!arn_ecs_task_ok(good_task[i]))
			fail_msg("task refused: %s", good_task[i]);
	for (i = 0; i < sizeof(bad_task) / sizeof(bad_task[0]); i++)
		if (arn_ecs_task_ok(bad_task[i]))
			fail_msg("task accepted: %s", bad_task[i]);
	for (i = 0; i < sizeof(good_cluster) / sizeof(good_cluster[0]); i++)
		if (!arn_ecs_cluster_ok(good_cluster[i]))
			fail_msg("cluster refused: %s", good_cluster[i]);
	for (i = 0; i < sizeof(bad_cluster) / sizeof(bad_cluster[0]); i++)
		if (arn_ecs_cluster_ok(bad_cluster[i]))
			fail_msg("cluster accepted: %s", bad_cluster[i]);
	memset(big, 'a', 255);
	big[255] = '\0';
	assert_true(arn_ecs_cluster_ok(big));
	big[255] = 'a';
	big[256] = '\0';
	assert_false(arn_ecs_cluster_ok(big));
	assert_false(arn_ecs_task_ok(NULL));
	assert_false(arn_ecs_cluster_ok(NULL));
}

/* The cluster a task ARN names; none for a task id or an old-format ARN. */
static void test_arn__ecs_task_cluster(void **st)
{
	char out[128];

	(void)st;
	assert_true(arn_ecs_task_cluster(TASK, out, sizeof(out)));
	assert_string_equal(out, "arn:aws:ecs:us-east-1:111111111111:cluster/prod");
	assert_false(arn_ecs_task_cluster("0123456789abcdef0123456789abcdef", out, sizeof(out)));
	assert_false(arn_ecs_task_cluster("arn:aws:ecs:us-east-1:111111111111:task/0123456789abcdef0123456789abcdef",
					  out, sizeof(out)));
	assert_false(arn_ecs_task_cluster(TASK, out, 20));
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
		cmocka_unit_test(test_arn__fields),
		cmocka_unit_test(test_arn__strict_head_and_tail),
		cmocka_unit_test(test_arn__ecs_task_and_cluster_references),
		cmocka_unit_test(test_arn__ecs_task_cluster),
		cmocka_unit_test(test_arn__account_of_an_arn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
