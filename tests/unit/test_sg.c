/*
 * Unit tests for runtime/sg.{c,h}: EC2 security group inputs and answers.
 * The rule round trip moved here from test_task_quarantine.c with the code
 * (issue 17).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sg.h"

static cJSON *J(const char *s)
{
	cJSON *j = cJSON_Parse(s);

	assert_non_null(j);
	return j;
}

static void eq_json(const cJSON *got, const char *want)
{
	char *g = cJSON_PrintUnformatted(got);
	cJSON *w = J(want);
	char *ws = cJSON_PrintUnformatted(w);

	assert_string_equal(g, ws);
	cJSON_free(g);
	cJSON_free(ws);
	cJSON_Delete(w);
}

static void test_sg__egress_rules_round_trip(void **st)
{
	cJSON *ec2 = J("[{\"ipProtocol\":\"tcp\",\"fromPort\":\"5432\",\"toPort\":\"5432\","
		       "\"ipRanges\":[{\"cidrIp\":\"10.0.2.0/24\",\"description\":\"db\"}],"
		       "\"groups\":[{\"groupId\":\"sg-2\",\"userId\":\"111\"}],\"ipv6Ranges\":\"\"}]");
	cJSON *perms = sg_perms_from_ec2(ec2), *q, *p0;

	(void)st;
	assert_non_null(perms);
	p0 = cJSON_GetArrayItem(perms, 0);
	assert_int_equal(cJSON_GetObjectItem(p0, "FromPort")->valueint, 5432);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(p0, "IpRanges"), 0), "Description")->valuestring, "db");
	assert_null(cJSON_GetObjectItem(p0, "Ipv6Ranges"));
	/* The wire names the AWS layer encodes as IpPermissions.1.IpRanges.1.CidrIp,
	 * IpPermissions.1.Groups.1.GroupId, IpPermissions.1.ToPort (aws.h;
	 * 22-query-structured-botocore.py checks that encoding against botocore). */
	q = sg_perms_wire(perms);
	assert_non_null(q);
	p0 = cJSON_GetArrayItem(q, 0);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(p0, "IpRanges"), 0), "CidrIp")->valuestring, "10.0.2.0/24");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(p0, "Groups"), 0), "GroupId")->valuestring, "sg-2");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(p0, "Groups"), 0), "UserId")->valuestring, "111");
	assert_int_equal(cJSON_GetObjectItem(p0, "ToPort")->valueint, 5432);
	assert_null(cJSON_GetObjectItem(p0, "Ipv6Ranges"));
	cJSON_Delete(ec2);
	cJSON_Delete(perms);
	cJSON_Delete(q);
}

/* The revoke of a group's egress: its input in wire names, its undo in
 * botocore's; nothing to revoke is "already"; no group id cannot be built. */
static void test_sg__egress_revoke(void **st)
{
	cJSON *sg = J("{\"groupId\":\"sg-1\",\"ipPermissionsEgress\":[{\"ipProtocol\":\"-1\","
		      "\"ipRanges\":[{\"cidrIp\":\"0.0.0.0/0\"}]}]}");
	cJSON *in, *undo;

	(void)st;
	assert_int_equal(sg_egress_revoke(sg, "revoke-egress", &in, &undo), RESP_DONE);
	eq_json(in, "{\"GroupId\":\"sg-1\",\"IpPermissions\":[{\"IpProtocol\":\"-1\",\"IpRanges\":[{\"CidrIp\":\"0.0.0.0/0\"}]}]}");
	eq_json(undo, "{\"step\":\"revoke-egress\",\"api\":\"ec2:AuthorizeSecurityGroupEgress\",\"args\":"
		"{\"GroupId\":\"sg-1\",\"IpPermissions\":[{\"IpProtocol\":\"-1\",\"IpRanges\":[{\"CidrIp\":\"0.0.0.0/0\"}]}]}}");
	cJSON_Delete(in);
	cJSON_Delete(undo);
	assert_int_equal(sg_egress_revoke(sg, NULL, &in, &undo), RESP_DONE);
	assert_null(undo);
	cJSON_Delete(in);
	cJSON_Delete(sg);
	sg = J("{\"groupId\":\"sg-1\",\"ipPermissionsEgress\":\"\"}");
	assert_int_equal(sg_egress_revoke(sg, "x", &in, &undo), RESP_ALREADY);
	assert_null(in);
	cJSON_Delete(sg);
	sg = J("{\"ipPermissionsEgress\":[{\"ipProtocol\":\"-1\"}]}");
	assert_int_equal(sg_egress_revoke(sg, "x", &in, &undo), RESP_FAILED);
	cJSON_Delete(sg);
	sg = J("{\"groupId\":\"sg-1\",\"ipPermissionsEgress\":[{\"fromPort\":\"1\"}]}");
	assert_int_equal(sg_egress_revoke(sg, "x", &in, &undo), RESP_FAILED);
	cJSON_Delete(sg);
}

/* The inputs both isolating responders send, in EC2's wire names. */
static void test_sg__inputs(void **st)
{
	const char *tags[] = { "Name", "q-1", "firebreak:incident", "fb-1", NULL };
	cJSON *in;

	(void)st;
	in = sg_create_in("q-1", "d", "vpc-1", tags);
	eq_json(in, "{\"GroupName\":\"q-1\",\"GroupDescription\":\"d\",\"VpcId\":\"vpc-1\",\"TagSpecification\":"
		"[{\"ResourceType\":\"security-group\",\"Tag\":[{\"Key\":\"Name\",\"Value\":\"q-1\"},"
		"{\"Key\":\"firebreak:incident\",\"Value\":\"fb-1\"}]}]}");
	cJSON_Delete(in);
	in = sg_swap_in("eni-1", "sg-q");
	eq_json(in, "{\"NetworkInterfaceId\":\"eni-1\",\"SecurityGroupId\":[\"sg-q\"]}");
	cJSON_Delete(in);
	in = sg_swap_undo(NULL, "eni-1", J("[\"sg-1\",\"sg-2\"]"));
	eq_json(in, "{\"api\":\"ec2:ModifyNetworkInterfaceAttribute\",\"args\":{\"NetworkInterfaceId\":\"eni-1\","
		"\"Groups\":[\"sg-1\",\"sg-2\"]}}");
	cJSON_Delete(in);
	in = sg_ids("GroupId", "sg-1");
	sg_filter(in, "group-name", "q-1");
	cJSON_AddItemToArray(sg_filter(in, "vpc-id", NULL), cJSON_CreateString("vpc-1"));
	eq_json(in, "{\"GroupId\":[\"sg-1\"],\"Filter\":[{\"Name\":\"group-name\",\"Value\":[\"q-1\"]},"
		"{\"Name\":\"vpc-id\",\"Value\":[\"vpc-1\"]}]}");
	assert_null(sg_list(in, "GroupIdx"));
	assert_non_null(sg_list(in, "GroupId"));
	cJSON_Delete(in);
	in = J("{\"groupSet\":\"\"}");
	assert_null(sg_list(in, "groupSet"));
	cJSON_Delete(in);
}

/* DescribeNetworkInterfaces -> the interface; without id or VPC it is
 * not one to act on; a group without id is left out. */
static void test_sg__eni_from_json(void **st)
{
	struct sg_eni e;
	cJSON *out = J("{\"networkInterfaceSet\":[{\"networkInterfaceId\":\"eni-1\",\"vpcId\":\"vpc-1\","
		       "\"subnetId\":\"subnet-1\",\"groupSet\":[{\"groupId\":\"sg-1\",\"groupName\":\"web\"},"
		       "{\"groupName\":\"no id\"},{\"groupId\":\"sg-2\"}]}]}");

	(void)st;
	assert_int_equal(sg_eni_from_json(out, &e), FB_OK);
	assert_string_equal(e.subnet, "subnet-1");
	assert_false(e.requester_managed);
	assert_int_equal(e.ngroups, 2);
	assert_string_equal(e.groups[1], "sg-2");
	assert_string_equal(e.group_names[0], "web");
	assert_string_equal(e.group_names[1], "");
	cJSON_Delete(out);
	out = J("{\"networkInterfaceSet\":[{\"networkInterfaceId\":\"eni-1\"}]}");
	assert_int_equal(sg_eni_from_json(out, &e), FB_E_PARSE);
	cJSON_Delete(out);
}

/* Who else carries the task's groups (moved with the code from
 * task-quarantine, issue 17): its own interface is left out, the others
 * in on-call words with the shared groups only; the prefix test of an
 * already isolated interface. */
static void test_sg__sharers_and_prefix(void **st)
{
	struct sg_eni e = { .id = "eni-own", .groups = { "sg-1", "sg-2" },
			    .group_names = { "firebreak-quarantine-a", "web" }, .ngroups = 2 };
	cJSON *ifs = J("[{\"networkInterfaceId\":\"eni-own\"},"
		       "{\"networkInterfaceId\":\"eni-9\",\"interfaceType\":\"interface\",\"requesterId\":\"ecs\","
		       "\"attachment\":{\"instanceId\":\"i-1\"},\"tagSet\":[{\"key\":\"aws:ecs:serviceName\","
		       "\"value\":\"api\"},{\"key\":\"aws:ecs:clusterName\",\"value\":\"prod\"},"
		       "{\"key\":\"x\"}],\"groupSet\":[{\"groupId\":\"sg-2\"},{\"groupId\":\"sg-7\"}]},"
		       "{\"description\":\"no id\"},{\"networkInterfaceId\":\"eni-8\",\"groupSet\":\"\"}]");
	cJSON *got = sg_sharers(ifs, &e);

	(void)st;
	eq_json(got, "[{\"network_interface_id\":\"eni-9\",\"description\":\"\",\"interface_type\":\"interface\","
		"\"requester_id\":\"ecs\",\"instance_id\":\"i-1\",\"ecs_service\":\"api\",\"ecs_cluster\":\"prod\","
		"\"shared_groups\":[\"sg-2\"]},{\"network_interface_id\":\"eni-8\",\"description\":\"\","
		"\"interface_type\":\"\",\"shared_groups\":[]}]");
	cJSON_Delete(got);
	cJSON_Delete(ifs);
	got = sg_eni_groups(&e);
	eq_json(got, "[\"sg-1\",\"sg-2\"]");
	cJSON_Delete(got);
	assert_false(sg_all_prefixed(&e, "firebreak-quarantine-"));
	snprintf(e.group_names[1], sizeof(e.group_names[1]), "firebreak-quarantine-b");
	assert_true(sg_all_prefixed(&e, "firebreak-quarantine-"));
	got = cJSON_CreateObject();
	e.requester_managed = 1;
	snprintf(e.vpc, sizeof(e.vpc), "vpc-1");
	sg_eni_report(&e, got);
	eq_json(got, "{\"vpc_id\":\"vpc-1\",\"requester_managed\":true,\"security_groups\":["
		"{\"group_id\":\"sg-1\",\"group_name\":\"firebreak-quarantine-a\"},"
		"{\"group_id\":\"sg-2\",\"group_name\":\"firebreak-quarantine-b\"}]}");
	cJSON_Delete(got);
	e.ngroups = 0;
	assert_false(sg_all_prefixed(&e, "firebreak-quarantine-"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sg__egress_rules_round_trip),
		cmocka_unit_test(test_sg__egress_revoke),
		cmocka_unit_test(test_sg__inputs),
		cmocka_unit_test(test_sg__eni_from_json),
		cmocka_unit_test(test_sg__sharers_and_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
