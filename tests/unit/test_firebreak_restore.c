/* Unit tests of functions/firebreak-restore/stages.c: the manual event, the
 * entry selection, the inverse call's input from an entry's botocore args,
 * and the precondition decisions, table-driven; including the entries that
 * must never be called (unsupported apis, evidence, args that are not the
 * call's) and the states someone else changed since. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "../../functions/firebreak-restore/stages.c"

static cJSON *J(const char *s)
{
	cJSON *j = cJSON_Parse(s);

	if (!j)
		fail_msg("bad test JSON: %s", s);
	return j;
}

static void test_fr__parse(void **st)
{
	static const struct {
		const char *ev;
		int ok;
	} cases[] = {
		{ "{\"incident_id\":\"fb-0123456789abcdef\"}", 1 },
		{ "{\"incident_id\":\"fb-0123456789abcdef\",\"apply\":true,\"steps\":[\"swap-groups\"],"
		  "\"account\":\"222222222222\",\"region\":\"eu-west-1\"}", 1 },
		{ "{\"incident_id\":\"fb-0123456789ABCDEF\"}", 0 },       /* not resp_set_incident's */
		{ "{\"incident_id\":\"fb-../../../../etc\"}", 0 },        /* never reaches an S3 key */
		{ "{\"incident_id\":\"fb-0123456789abcde\"}", 0 },
		{ "{\"incident_id\":42}", 0 },
		{ "{}", 0 },
		{ "{\"incident_id\":\"fb-0123456789abcdef\",\"apply\":\"true\"}", 0 },
		{ "{\"incident_id\":\"fb-0123456789abcdef\",\"steps\":[]}", 0 },
		{ "{\"incident_id\":\"fb-0123456789abcdef\",\"steps\":[1]}", 0 },
		{ "{\"incident_id\":\"fb-0123456789abcdef\",\"steps\":[\"a\\u0007\"]}", 0 },
		{ "{\"incident_id\":\"fb-0123456789abcdef\",\"bucket\":\"attacker\"}", 0 },
		{ "{\"incident_id\":\"fb-0123456789abcdef\",\"dryRun\":false}", 0 },
		{ "{\"incident_id\":\"fb-0123456789abcdef\",\"account\":\"1\"}", 0 },
		{ "{\"incident_id\":\"fb-0123456789abcdef\",\"region\":\"x\"}", 0 },
		{ "{\"source\":\"aws.guardduty\",\"detail-type\":\"GuardDuty Finding\",\"incident_id\":\"fb-0123456789abcdef\"}", 0 },
		{ "[]", 0 },
	};
	struct fr_req req;
	char why[200];
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *ev = J(cases[i].ev);
		int rc = fr_parse(ev, &req, why, sizeof(why));

		if ((rc == 0) != cases[i].ok)
			fail_msg("case %zu (%s): rc %d, why '%s'", i, cases[i].ev, rc, why);
		cJSON_Delete(ev);
	}
}

static void test_fr__selected(void **st)
{
	struct fr_req req;
	cJSON *ev = J("{\"incident_id\":\"fb-0123456789abcdef\",\"steps\":[\"swap-groups\",\"iam:UpdateAccessKey\"]}");
	cJSON *a = J("{\"step\":\"swap-groups\",\"api\":\"ec2:ModifyNetworkInterfaceAttribute\"}");
	cJSON *b = J("{\"api\":\"iam:UpdateAccessKey\"}");
	cJSON *c = J("{\"step\":\"create-quarantine-group\",\"api\":\"ec2:DeleteSecurityGroup\"}");

	(void)st;
	assert_int_equal(fr_parse(ev, &req, NULL, 0), 0);
	assert_true(fr_selected(&req, a));
	assert_true(fr_selected(&req, b));
	assert_false(fr_selected(&req, c));
	req.nsteps = 0;
	assert_true(fr_selected(&req, c));
	cJSON_Delete(ev);
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(c);
}

static void test_fr__kinds(void **st)
{
	cJSON *vol = J("{\"InstanceId\":\"i-1\",\"BlockDeviceMappings\":[]}");

	(void)st;
	assert_int_equal(fr_kind_of("ec2:ModifyNetworkInterfaceAttribute", NULL), FR_ENI_GROUPS);
	assert_int_equal(fr_kind_of("ec2:ModifyInstanceAttribute", NULL), FR_TERMINATION);
	assert_int_equal(fr_kind_of("ec2:ModifyInstanceAttribute", vol), FR_VOLUMES);
	assert_int_equal(fr_kind_of("ec2:DeleteSnapshot", NULL), FR_KEPT);
	assert_int_equal(fr_kind_of("ec2:UnlockSnapshot", NULL), FR_KEPT);
	/* not an inverse firebreak writes: never called */
	assert_int_equal(fr_kind_of("ec2:TerminateInstances", NULL), FR_UNSUPPORTED);
	assert_int_equal(fr_kind_of("iam:CreateAccessKey", NULL), FR_UNSUPPORTED);
	assert_int_equal(fr_kind_of("lambda:Invoke", NULL), FR_UNSUPPORTED);
	assert_int_equal(fr_kind_of(NULL, NULL), FR_UNSUPPORTED);
	cJSON_Delete(vol);
}

static void test_fr__wire(void **st)
{
	static const struct {
		enum fr_kind k;
		const char *args, *want;   /* want NULL: refused */
	} cases[] = {
		{ FR_ENI_GROUPS, "{\"NetworkInterfaceId\":\"eni-1\",\"Groups\":[\"sg-1\",\"sg-2\"]}",
		  "{\"NetworkInterfaceId\":\"eni-1\",\"SecurityGroupId\":[\"sg-1\",\"sg-2\"]}" },
		{ FR_ENI_GROUPS, "{\"NetworkInterfaceId\":\"eni-1\",\"Groups\":\"sg-1\"}", NULL },
		{ FR_ENI_GROUPS, "{\"NetworkInterfaceId\":\"eni-1\",\"Groups\":[]}", NULL },
		{ FR_ENI_GROUPS, "{\"NetworkInterfaceId\":\"eni\\n1\",\"Groups\":[\"sg-1\"]}", NULL },
		{ FR_AUTH_EGRESS, "{\"GroupId\":\"sg-1\",\"IpPermissions\":[{\"IpProtocol\":\"tcp\",\"FromPort\":443,"
		  "\"ToPort\":443,\"UserIdGroupPairs\":[{\"GroupId\":\"sg-9\"}],\"Bogus\":1}]}",
		  "{\"GroupId\":\"sg-1\",\"IpPermissions\":[{\"IpProtocol\":\"tcp\",\"FromPort\":443,\"ToPort\":443,"
		  "\"Groups\":[{\"GroupId\":\"sg-9\"}]}]}" },
		{ FR_REVOKE_INGRESS, "{\"GroupId\":\"sg-1\",\"IpPermissions\":[]}", NULL },
		{ FR_TERMINATION, "{\"InstanceId\":\"i-1\",\"DisableApiTermination\":{\"Value\":false}}",
		  "{\"InstanceId\":\"i-1\",\"DisableApiTermination\":{\"Value\":false}}" },
		/* another attribute smuggled beside it: not this kind's call */
		{ FR_TERMINATION, "{\"InstanceId\":\"i-1\",\"DisableApiTermination\":{\"Value\":false},"
		  "\"UserData\":{\"Value\":\"x\"}}", NULL },
		{ FR_VOLUMES, "{\"InstanceId\":\"i-1\",\"BlockDeviceMappings\":[{\"DeviceName\":\"/dev/xvda\","
		  "\"Ebs\":{\"DeleteOnTermination\":true}}]}",
		  "{\"InstanceId\":\"i-1\",\"BlockDeviceMapping\":[{\"DeviceName\":\"/dev/xvda\","
		  "\"Ebs\":{\"DeleteOnTermination\":true}}]}" },
		{ FR_START, "{\"InstanceIds\":[\"i-1\"]}", "{\"InstanceId\":[\"i-1\"]}" },
		{ FR_START, "{\"InstanceIds\":[\"i-1\",\"i-2\"]}", NULL },   /* one target per entry */
		{ FR_ASG_ATTACH, "{\"InstanceIds\":[\"i-1\"],\"AutoScalingGroupName\":\"web\"}",
		  "{\"AutoScalingGroupName\":\"web\",\"InstanceIds\":[\"i-1\"]}" },
		{ FR_ACCESS_KEY, "{\"UserName\":\"u\",\"AccessKeyId\":\"AKIA1\",\"Status\":\"Active\"}",
		  "{\"UserName\":\"u\",\"AccessKeyId\":\"AKIA1\",\"Status\":\"Active\"}" },
		{ FR_ACCESS_KEY, "{\"UserName\":\"u\",\"AccessKeyId\":\"AKIA1\",\"Status\":\"Deleted\"}", NULL },
		{ FR_PUT_USER_POLICY, "{\"UserName\":\"u\",\"PolicyName\":\"p\",\"PolicyDocument\":\"{}\"}",
		  "{\"UserName\":\"u\",\"PolicyName\":\"p\",\"PolicyDocument\":\"{}\"}" },
		{ FR_PUT_ROLE_POLICY, "{\"UserName\":\"u\",\"PolicyName\":\"p\",\"PolicyDocument\":\"{}\"}", NULL },
		{ FR_DELETE_ROLE_POLICY, "{\"RoleName\":\"r\",\"PolicyName\":\"AWSRevokeOlderSessions\"}",
		  "{\"RoleName\":\"r\",\"PolicyName\":\"AWSRevokeOlderSessions\"}" },
		{ FR_UNSUPPORTED, "{}", NULL },
		{ FR_KEPT, "{\"SnapshotId\":\"snap-1\"}", NULL },
	};
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *a = J(cases[i].args), *got = fr_wire(cases[i].k, a, NULL, NULL, 0), *want;

		if (!cases[i].want) {
			if (got)
				fail_msg("case %zu: accepted %s", i, cases[i].args);
		} else {
			want = J(cases[i].want);
			if (!got || !cJSON_Compare(got, want, 1))
				fail_msg("case %zu: got %s", i, got ? cJSON_PrintUnformatted(got) : "NULL");
			cJSON_Delete(want);
		}
		cJSON_Delete(got);
		cJSON_Delete(a);
	}
}

static enum fr_decision decide(enum fr_kind k, const char *args, int found, const char *answer,
			       const char *const *created, size_t ncreated)
{
	cJSON *a = J(args), *ans = answer ? J(answer) : NULL;
	struct fr_state s = { found, ans, created, ncreated, NULL };
	char why[256];
	enum fr_decision d = fr_decide(k, a, &s, why, sizeof(why));

	assert_true(why[0] != '\0');
	cJSON_Delete(a);
	cJSON_Delete(ans);
	return d;
}

static void test_fr__decide_network(void **st)
{
	static const char *const created[] = { "sg-q", "firebreak-untrack" };
	const char *swap = "{\"NetworkInterfaceId\":\"eni-1\",\"Groups\":[\"sg-a\",\"sg-b\"]}";

	(void)st;
	/* still on the incident's quarantine group(s): apply */
	assert_int_equal(decide(FR_ENI_GROUPS, swap, 1, "{\"networkInterfaceSet\":[{\"groupSet\":[{\"groupId\":\"sg-q\"}]}]}",
				created, 2), FR_APPLY);
	assert_int_equal(decide(FR_ENI_GROUPS, swap, 1, "{\"networkInterfaceSet\":[{\"groupSet\":[{\"groupId\":\"sg-u\","
				"\"groupName\":\"firebreak-untrack\"},{\"groupId\":\"sg-q\"}]}]}", created, 2), FR_APPLY);
	/* its own groups again, in any order: already */
	assert_int_equal(decide(FR_ENI_GROUPS, swap, 1, "{\"networkInterfaceSet\":[{\"groupSet\":[{\"groupId\":\"sg-b\"},"
				"{\"groupId\":\"sg-a\"}]}]}", created, 2), FR_ALREADY);
	/* someone put it on another group, or added one: not touched */
	assert_int_equal(decide(FR_ENI_GROUPS, swap, 1, "{\"networkInterfaceSet\":[{\"groupSet\":[{\"groupId\":\"sg-x\"}]}]}",
				created, 2), FR_CHANGED);
	assert_int_equal(decide(FR_ENI_GROUPS, swap, 1, "{\"networkInterfaceSet\":[{\"groupSet\":[{\"groupId\":\"sg-q\"},"
				"{\"groupId\":\"sg-x\"}]}]}", created, 2), FR_CHANGED);
	/* a subset of its groups is not "already" */
	assert_int_equal(decide(FR_ENI_GROUPS, swap, 1, "{\"networkInterfaceSet\":[{\"groupSet\":[{\"groupId\":\"sg-a\"}]}]}",
				created, 2), FR_CHANGED);
	/* no record of created groups (a forged or partial record): nothing is "ours" */
	assert_int_equal(decide(FR_ENI_GROUPS, swap, 1, "{\"networkInterfaceSet\":[{\"groupSet\":[{\"groupId\":\"sg-q\"}]}]}",
				NULL, 0), FR_CHANGED);
	assert_int_equal(decide(FR_ENI_GROUPS, swap, 0, NULL, created, 2), FR_CHANGED);
	assert_int_equal(decide(FR_DELETE_SG, "{\"GroupId\":\"sg-q\"}", 0, NULL, NULL, 0), FR_ALREADY);
	assert_int_equal(decide(FR_DELETE_SG, "{\"GroupId\":\"sg-q\"}", 1, "{\"securityGroupInfo\":[{\"groupId\":\"sg-q\"}]}",
				NULL, 0), FR_APPLY);
	assert_int_equal(decide(FR_AUTH_EGRESS, "{\"GroupId\":\"sg-q\"}", 0, NULL, NULL, 0), FR_CHANGED);
	assert_int_equal(decide(FR_REVOKE_EGRESS, "{\"GroupId\":\"sg-q\"}", 0, NULL, NULL, 0), FR_ALREADY);
}

static void test_fr__decide_instance(void **st)
{
	const char *prot = "{\"InstanceId\":\"i-1\",\"DisableApiTermination\":{\"Value\":false}}";
	const char *vol = "{\"InstanceId\":\"i-1\",\"BlockDeviceMappings\":[{\"DeviceName\":\"/dev/xvda\","
			  "\"Ebs\":{\"DeleteOnTermination\":true}}]}";
	const char *att = "{\"InstanceIds\":[\"i-1\"],\"AutoScalingGroupName\":\"web\"}";

	(void)st;
	assert_int_equal(decide(FR_TERMINATION, prot, 1, "{\"disableApiTermination\":{\"value\":\"true\"}}", NULL, 0), FR_APPLY);
	assert_int_equal(decide(FR_TERMINATION, prot, 1, "{\"disableApiTermination\":{\"value\":\"false\"}}", NULL, 0), FR_ALREADY);
	assert_int_equal(decide(FR_TERMINATION, prot, 0, NULL, NULL, 0), FR_CHANGED);
	assert_int_equal(decide(FR_VOLUMES, vol, 1, "{\"blockDeviceMapping\":[{\"deviceName\":\"/dev/xvda\",\"ebs\":"
				"{\"deleteOnTermination\":\"false\"}}]}", NULL, 0), FR_APPLY);
	assert_int_equal(decide(FR_VOLUMES, vol, 1, "{\"blockDeviceMapping\":[{\"deviceName\":\"/dev/xvda\",\"ebs\":"
				"{\"deleteOnTermination\":\"true\"}}]}", NULL, 0), FR_ALREADY);
	assert_int_equal(decide(FR_VOLUMES, vol, 1, "{\"blockDeviceMapping\":[]}", NULL, 0), FR_CHANGED);
	assert_int_equal(decide(FR_START, "{\"InstanceIds\":[\"i-1\"]}", 1, "{\"reservationSet\":[{\"instancesSet\":"
				"[{\"instanceState\":{\"name\":\"stopped\"}}]}]}", NULL, 0), FR_APPLY);
	assert_int_equal(decide(FR_START, "{\"InstanceIds\":[\"i-1\"]}", 1, "{\"reservationSet\":[{\"instancesSet\":"
				"[{\"instanceState\":{\"name\":\"running\"}}]}]}", NULL, 0), FR_ALREADY);
	assert_int_equal(decide(FR_START, "{\"InstanceIds\":[\"i-1\"]}", 1, "{\"reservationSet\":[{\"instancesSet\":"
				"[{\"instanceState\":{\"name\":\"terminated\"}}]}]}", NULL, 0), FR_CHANGED);
	assert_int_equal(decide(FR_ASG_ATTACH, att, 1, "{\"AutoScalingInstances\":[]}", NULL, 0), FR_APPLY);
	assert_int_equal(decide(FR_ASG_ATTACH, att, 1, "{\"AutoScalingInstances\":[{\"AutoScalingGroupName\":\"web\"}]}",
				NULL, 0), FR_ALREADY);
	assert_int_equal(decide(FR_ASG_ATTACH, att, 1, "{\"AutoScalingInstances\":[{\"AutoScalingGroupName\":\"other\"}]}",
				NULL, 0), FR_CHANGED);
	assert_int_equal(decide(FR_KEPT, "{\"SnapshotId\":\"snap-1\"}", 1, NULL, NULL, 0), FR_SKIP);
	assert_int_equal(decide(FR_UNSUPPORTED, "{}", 1, NULL, NULL, 0), FR_SKIP);
}

static void test_fr__decide_identity(void **st)
{
	const char *revoke = "{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":[{\\\"Effect\\\":\\\"Deny\\\","
			     "\\\"Action\\\":\\\"*\\\",\\\"Resource\\\":\\\"*\\\",\\\"Condition\\\":{\\\"DateLessThan\\\":"
			     "{\\\"aws:TokenIssueTime\\\":\\\"2026-12-07T04:00:00.000Z\\\"}}}]}";
	char ans[1024], args[1024];

	(void)st;
	/* firebreak's revocation, then the prior document back or the policy deleted */
	snprintf(ans, sizeof(ans), "{\"PolicyDocument\":\"%s\"}", revoke);
	assert_int_equal(decide(FR_DELETE_ROLE_POLICY, "{\"RoleName\":\"r\",\"PolicyName\":\"AWSRevokeOlderSessions\"}",
				1, ans, NULL, 0), FR_APPLY);
	assert_int_equal(decide(FR_DELETE_ROLE_POLICY, "{\"RoleName\":\"r\",\"PolicyName\":\"AWSRevokeOlderSessions\"}",
				0, NULL, NULL, 0), FR_ALREADY);
	/* the same name with someone else's document: not firebreak's, not deleted */
	assert_int_equal(decide(FR_DELETE_ROLE_POLICY, "{\"RoleName\":\"r\",\"PolicyName\":\"AWSRevokeOlderSessions\"}",
				1, "{\"PolicyDocument\":\"{\\\"Statement\\\":[{\\\"Effect\\\":\\\"Allow\\\"}]}\"}", NULL, 0),
			 FR_CHANGED);
	/* w4-rst: firebreak's revocation with a statement added since, or the
	 * same cut written another way (the console's lists): someone else's */
	assert_int_equal(decide(FR_DELETE_ROLE_POLICY, "{\"RoleName\":\"r\",\"PolicyName\":\"AWSRevokeOlderSessions\"}", 1,
				"{\"PolicyDocument\":\"{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":[{\\\"Effect\\\":"
				"\\\"Deny\\\",\\\"Action\\\":\\\"*\\\",\\\"Resource\\\":\\\"*\\\",\\\"Condition\\\":"
				"{\\\"DateLessThan\\\":{\\\"aws:TokenIssueTime\\\":\\\"2026-12-07T04:00:00.000Z\\\"}}},"
				"{\\\"Effect\\\":\\\"Deny\\\",\\\"Action\\\":\\\"s3:*\\\",\\\"Resource\\\":\\\"*\\\"}]}\"}",
				NULL, 0), FR_CHANGED);
	assert_int_equal(decide(FR_DELETE_ROLE_POLICY, "{\"RoleName\":\"r\",\"PolicyName\":\"AWSRevokeOlderSessions\"}", 1,
				"{\"PolicyDocument\":\"{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":[{\\\"Effect\\\":"
				"\\\"Deny\\\",\\\"Action\\\":[\\\"*\\\"],\\\"Resource\\\":[\\\"*\\\"],\\\"Condition\\\":"
				"{\\\"DateLessThan\\\":{\\\"aws:TokenIssueTime\\\":\\\"2026-12-07T04:00:00.000Z\\\"}}}]}\"}",
				NULL, 0), FR_CHANGED);
	/* a policy of another name is never firebreak's */
	assert_int_equal(decide(FR_DELETE_USER_POLICY, "{\"UserName\":\"u\",\"PolicyName\":\"admin\"}", 1, ans, NULL, 0),
			 FR_CHANGED);
	assert_int_equal(decide(FR_DELETE_USER_POLICY, "{\"UserName\":\"u\",\"PolicyName\":\"firebreak-quarantine\"}", 1,
				"{\"PolicyDocument\":\"%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect"
				"%22%3A%22Deny%22%2C%22Action%22%3A%22*%22%2C%22Resource%22%3A%22*%22%7D%5D%7D\"}", NULL, 0),
			 FR_APPLY);
	snprintf(args, sizeof(args), "{\"RoleName\":\"r\",\"PolicyName\":\"AWSRevokeOlderSessions\",\"PolicyDocument\":"
		 "\"{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":[]}\"}");
	assert_int_equal(decide(FR_PUT_ROLE_POLICY, args, 1, ans, NULL, 0), FR_APPLY);
	assert_int_equal(decide(FR_PUT_ROLE_POLICY, args, 1,
				"{\"PolicyDocument\":\"%7B%22Statement%22%3A%5B%5D%2C%22Version%22%3A%222012-10-17%22%7D\"}",
				NULL, 0), FR_ALREADY);
	assert_int_equal(decide(FR_PUT_ROLE_POLICY, args, 0, NULL, NULL, 0), FR_APPLY);
	assert_int_equal(decide(FR_ACCESS_KEY, "{\"UserName\":\"u\",\"AccessKeyId\":\"AKIA1\",\"Status\":\"Active\"}", 1,
				"[{\"AccessKeyId\":\"AKIA1\",\"Status\":\"Inactive\"}]", NULL, 0), FR_APPLY);
	assert_int_equal(decide(FR_ACCESS_KEY, "{\"UserName\":\"u\",\"AccessKeyId\":\"AKIA1\",\"Status\":\"Active\"}", 1,
				"[{\"AccessKeyId\":\"AKIA1\",\"Status\":\"Active\"}]", NULL, 0), FR_ALREADY);
	assert_int_equal(decide(FR_ACCESS_KEY, "{\"UserName\":\"u\",\"AccessKeyId\":\"AKIA1\",\"Status\":\"Active\"}", 1,
				"[{\"AccessKeyId\":\"AKIA2\",\"Status\":\"Inactive\"}]", NULL, 0), FR_CHANGED);
	assert_int_equal(decide(FR_DETACH_USER_POLICY, "{\"UserName\":\"u\",\"PolicyArn\":\"arn:p\"}", 1,
				"[{\"PolicyArn\":\"arn:p\"}]", NULL, 0), FR_APPLY);
	assert_int_equal(decide(FR_DETACH_USER_POLICY, "{\"UserName\":\"u\",\"PolicyArn\":\"arn:p\"}", 1, "[]", NULL, 0),
			 FR_ALREADY);
	assert_int_equal(decide(FR_ATTACH_USER_POLICY, "{\"UserName\":\"u\",\"PolicyArn\":\"arn:p\"}", 1, "[]", NULL, 0),
			 FR_APPLY);
	assert_int_equal(decide(FR_ATTACH_USER_POLICY, "{\"UserName\":\"u\",\"PolicyArn\":\"arn:p\"}", 0, NULL, NULL, 0),
			 FR_CHANGED);
}

/* ---- w3-rst1: kms-guard, public-lock, net-block ---- */

/* Parsed JSON kept until J_tmp(NULL) frees them all. */
static cJSON *J_tmp(const char *s)
{
	static cJSON *kept[16];
	static size_t n;

	if (!s) {
		while (n)
			cJSON_Delete(kept[--n]);
		return NULL;
	}
	assert_true(n < 16);
	kept[n] = J(s);
	return kept[n++];
}

static enum fr_decision decide_inc(enum fr_kind k, const char *args, int found, const char *answer)
{
	cJSON *a = J(args), *ans = answer ? J(answer) : NULL;
	struct fr_state s = { found, ans, NULL, 0, "fb-0123456789abcdef" };
	char why[256];
	enum fr_decision d = fr_decide(k, a, &s, why, sizeof(why));

	assert_true(why[0] != '\0');
	cJSON_Delete(a);
	cJSON_Delete(ans);
	return d;
}

static void test_fr__by_design(void **st)
{
	cJSON *inc = J("{\"KeyId\":\"k\",\"TagKeys\":[\"firebreak:incident\"]}");
	cJSON *ex = J("{\"KeyId\":\"k\",\"TagKeys\":[\"firebreak:exempt\"]}");
	cJSON *put_ex = J("{\"KeyId\":\"k\",\"Tags\":[{\"TagKey\":\"firebreak:exempt\",\"TagValue\":\"true\"}]}");
	cJSON *two = J("{\"KeyId\":\"k\",\"TagKeys\":[\"firebreak:incident\",\"firebreak:exempt\"]}");

	(void)st;
	/* never re-done here: a deletion, a public bucket, a shared IP set, an attacker's tag */
	assert_int_equal(fr_kind_of("kms:ScheduleKeyDeletion", NULL), FR_BY_DESIGN);
	assert_int_equal(fr_kind_of("s3:PutPublicAccessBlock", NULL), FR_BY_DESIGN);
	assert_int_equal(fr_kind_of("s3:DeletePublicAccessBlock", NULL), FR_BY_DESIGN);
	assert_int_equal(fr_kind_of("s3control:PutPublicAccessBlock", NULL), FR_BY_DESIGN);
	assert_int_equal(fr_kind_of("s3control:DeletePublicAccessBlock", NULL), FR_BY_DESIGN);
	assert_int_equal(fr_kind_of("lambda:Invoke net-block", NULL), FR_BY_DESIGN);
	assert_int_equal(fr_kind_of("ec2:CreateNetworkAclEntry", NULL), FR_BY_DESIGN);
	assert_int_equal(fr_kind_of("kms:UntagResource", ex), FR_BY_DESIGN);
	assert_int_equal(fr_kind_of("kms:UntagResource", two), FR_BY_DESIGN);
	assert_int_equal(fr_kind_of("kms:TagResource", put_ex), FR_BY_DESIGN);
	assert_int_equal(fr_kind_of("kms:TagResource", NULL), FR_BY_DESIGN);
	assert_non_null(fr_by_design("kms:ScheduleKeyDeletion", NULL));
	assert_null(fr_by_design("kms:DisableKey", NULL));
	assert_int_equal(decide_inc(FR_BY_DESIGN, "{}", 1, NULL), FR_REFUSED);
	assert_string_equal(fr_decision_name(FR_REFUSED), "refused");
	/* what is applied, with its own precondition */
	assert_int_equal(fr_kind_of("kms:UntagResource", inc), FR_KMS_UNTAG);
	assert_int_equal(fr_kind_of("kms:DisableKey", NULL), FR_KMS_DISABLE);
	assert_int_equal(fr_kind_of("ec2:AuthorizeSecurityGroupIngress", NULL), FR_AUTH_INGRESS);
	assert_int_equal(fr_kind_of("ec2:DeleteNetworkAclEntry", NULL), FR_NACL_DELETE);
	/* EnableKey (an undo of an undo) is not an inverse here */
	assert_int_equal(fr_kind_of("kms:EnableKey", NULL), FR_UNSUPPORTED);
	cJSON_Delete(inc);
	cJSON_Delete(ex);
	cJSON_Delete(put_ex);
	cJSON_Delete(two);
}

static void test_fr__decide_kms_net(void **st)
{
	const char *key = "{\"KeyId\":\"k\"}";
	const char *untag = "{\"KeyId\":\"k\",\"TagKeys\":[\"firebreak:incident\"]}";
	const char *retag = "{\"KeyId\":\"k\",\"Tags\":[{\"TagKey\":\"firebreak:incident\",\"TagValue\":\"fb-1111111111111111\"}]}";
	const char *mine = "{\"Tags\":[{\"TagKey\":\"firebreak:incident\",\"TagValue\":\"fb-0123456789abcdef\"}]}";
	const char *other = "{\"Tags\":[{\"TagKey\":\"firebreak:incident\",\"TagValue\":\"fb-2222222222222222\"}]}";
	const char *acl = "{\"NetworkAclId\":\"acl-1\",\"RuleNumber\":32000,\"Egress\":false}";
	char why[200];
	cJSON *w;

	(void)st;
	assert_int_equal(decide_inc(FR_KMS_DISABLE, key, 1, "{\"KeyMetadata\":{\"KeyState\":\"Enabled\"}}"), FR_APPLY);
	assert_int_equal(decide_inc(FR_KMS_DISABLE, key, 1, "{\"KeyMetadata\":{\"KeyState\":\"Disabled\"}}"), FR_ALREADY);
	assert_int_equal(decide_inc(FR_KMS_DISABLE, key, 1, "{\"KeyMetadata\":{\"KeyState\":\"PendingDeletion\"}}"),
			 FR_CHANGED);
	assert_int_equal(decide_inc(FR_KMS_DISABLE, key, 0, NULL), FR_CHANGED);
	/* the incident tag: only while it names this incident */
	assert_int_equal(decide_inc(FR_KMS_UNTAG, untag, 1, mine), FR_APPLY);
	assert_int_equal(decide_inc(FR_KMS_UNTAG, untag, 1, "{\"Tags\":[]}"), FR_ALREADY);
	assert_int_equal(decide_inc(FR_KMS_UNTAG, untag, 1, other), FR_CHANGED);
	assert_int_equal(decide_inc(FR_KMS_TAG, retag, 1, mine), FR_APPLY);
	assert_int_equal(decide_inc(FR_KMS_TAG, retag, 1, "{\"Tags\":[{\"TagKey\":\"firebreak:incident\","
				    "\"TagValue\":\"fb-1111111111111111\"}]}"), FR_ALREADY);
	assert_int_equal(decide_inc(FR_KMS_TAG, retag, 1, other), FR_CHANGED);
	assert_int_equal(decide_inc(FR_AUTH_INGRESS, "{\"GroupId\":\"sg-1\"}", 1,
				    "{\"securityGroupInfo\":[{\"groupId\":\"sg-1\"}]}"), FR_APPLY);
	assert_int_equal(decide_inc(FR_AUTH_INGRESS, "{\"GroupId\":\"sg-1\"}", 0, NULL), FR_CHANGED);
	/* firebreak's deny entry: still a deny -> apply; an allow there now -> changed; gone -> already */
	assert_int_equal(decide_inc(FR_NACL_DELETE, acl, 1, "{\"networkAclSet\":[{\"entrySet\":[{\"ruleNumber\":\"32000\","
				    "\"egress\":\"false\",\"ruleAction\":\"deny\"}]}]}"), FR_APPLY);
	assert_int_equal(decide_inc(FR_NACL_DELETE, acl, 1, "{\"networkAclSet\":[{\"entrySet\":[{\"ruleNumber\":\"32000\","
				    "\"egress\":\"false\",\"ruleAction\":\"allow\"}]}]}"), FR_CHANGED);
	assert_int_equal(decide_inc(FR_NACL_DELETE, acl, 1, "{\"networkAclSet\":[{\"entrySet\":[{\"ruleNumber\":\"32000\","
				    "\"egress\":\"true\",\"ruleAction\":\"deny\"}]}]}"), FR_ALREADY);
	assert_int_equal(decide_inc(FR_NACL_DELETE, acl, 0, NULL), FR_ALREADY);
	/* wire: args that are not the call's input never reach a call */
	w = fr_wire(FR_KMS_UNTAG, J_tmp(untag), NULL, why, sizeof(why));
	assert_non_null(w);
	cJSON_Delete(w);
	assert_null(fr_wire(FR_KMS_DISABLE, J_tmp("{\"KeyId\":7}"), NULL, why, sizeof(why)));
	assert_null(fr_wire(FR_NACL_DELETE, J_tmp("{\"NetworkAclId\":\"acl-1\",\"RuleNumber\":0,\"Egress\":false}"), NULL,
			    why, sizeof(why)));
	assert_null(fr_wire(FR_BY_DESIGN, J_tmp("{}"), NULL, why, sizeof(why)));
	J_tmp(NULL);
}

/* ---- data-breach and leak-rotate (w3-rst2) ---------------------------------------------- */

#define DDB_PRIOR "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"AppReads\",\"Effect\":\"Allow\"," \
		  "\"Action\":\"dynamodb:GetItem\"}]}"
#define DDB_DENY(sid) "{\"Sid\":\"" sid "\",\"Effect\":\"Deny\",\"Principal\":{\"AWS\":\"*\"}," \
		  "\"Action\":\"dynamodb:*\",\"Resource\":[\"t\",\"t/index/*\"]," \
		  "\"Condition\":{\"ArnLike\":{\"aws:PrincipalArn\":[\"arn:r\"]}}}"
#define DDB_CONTAINED "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"AppReads\",\"Effect\":\"Allow\"," \
		  "\"Action\":\"dynamodb:GetItem\"}," DDB_DENY("FirebreakDataBreachDeny") "]}"

/* a resource-policy entry (prior NULL: the DeleteResourcePolicy form) against the policy now */
static enum fr_decision ddb(const char *prior, int found, const char *now, const char *rev)
{
	cJSON *a = cJSON_CreateObject(), *ans = cJSON_CreateObject();
	struct fr_state s = { found, ans, NULL, 0, NULL };
	char why[256] = "";
	enum fr_decision d;

	cJSON_AddStringToObject(a, "ResourceArn", "t");
	if (prior)
		cJSON_AddStringToObject(a, "Policy", prior);
	if (now)
		cJSON_AddStringToObject(ans, "Policy", now);
	if (rev)
		cJSON_AddStringToObject(ans, "RevisionId", rev);
	d = fr_decide(prior ? FR_DDB_PUT_POLICY : FR_DDB_DELETE_POLICY, a, &s, why, sizeof(why));
	assert_true(why[0] != '\0');
	cJSON_Delete(a);
	cJSON_Delete(ans);
	return d;
}

static void test_fr__data_breach(void **st)
{
	cJSON *e, *in;
	char *w;

	(void)st;
	assert_int_equal(fr_kind_of("dynamodb:PutResourcePolicy", NULL), FR_DDB_PUT_POLICY);
	assert_int_equal(fr_kind_of("dynamodb:DeleteResourcePolicy", NULL), FR_DDB_DELETE_POLICY);
	/* PITR off, the backup deleted, Streams off: evidence, never applied */
	assert_int_equal(fr_kind_of("dynamodb:UpdateContinuousBackups", NULL), FR_DDB_KEPT);
	assert_int_equal(fr_kind_of("dynamodb:DeleteBackup", NULL), FR_DDB_KEPT);
	assert_int_equal(fr_kind_of("dynamodb:UpdateTable", NULL), FR_DDB_KEPT);
	assert_int_equal(ddb(NULL, 0, NULL, NULL) == FR_ALREADY, 1);
	/* the prior policy + firebreak's Deny: put back; the prior itself: already */
	assert_int_equal(ddb(DDB_PRIOR, 1, DDB_CONTAINED, "r1"), FR_APPLY);
	assert_int_equal(ddb(DDB_PRIOR, 1, DDB_PRIOR, "r2"), FR_ALREADY);
	/* a Deny renumbered past a look-alike is still ours */
	assert_int_equal(ddb(DDB_PRIOR, 1, "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"AppReads\","
			     "\"Effect\":\"Allow\",\"Action\":\"dynamodb:GetItem\"}," DDB_DENY("FirebreakDataBreachDeny2")
			     "]}", "r1"), FR_APPLY);
	/* someone's statement since, the policy deleted, no revision, a look-alike Sid: not touched */
	assert_int_equal(ddb(DDB_PRIOR, 1, "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"AppReads\","
			     "\"Effect\":\"Allow\",\"Action\":\"dynamodb:GetItem\"},{\"Sid\":\"Human\"}," DDB_DENY(
			     "FirebreakDataBreachDeny") "]}", "r3"), FR_CHANGED);
	assert_int_equal(ddb(DDB_PRIOR, 0, NULL, NULL), FR_CHANGED);
	assert_int_equal(ddb(DDB_PRIOR, 1, DDB_CONTAINED, NULL), FR_CHANGED);
	assert_int_equal(ddb(DDB_PRIOR, 1, "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"AppReads\","
			     "\"Effect\":\"Allow\",\"Action\":\"dynamodb:GetItem\"}," DDB_DENY("FirebreakDataBreachDenyX")
			     "]}", "r1"), FR_CHANGED);
	/* no prior policy: only firebreak's Deny left -> delete; absent -> already */
	assert_int_equal(ddb(NULL, 1, "{\"Version\":\"2012-10-17\",\"Statement\":[" DDB_DENY("FirebreakDataBreachDeny")
			     "]}", "r1"), FR_APPLY);
	assert_int_equal(ddb(NULL, 1, "{\"Statement\":" DDB_DENY("FirebreakDataBreachDeny") "}", "r1"), FR_APPLY);
	assert_int_equal(ddb(NULL, 1, DDB_CONTAINED, "r1"), FR_CHANGED);
	assert_null(fr_ddb_without_deny("[1]"));
	assert_null(fr_ddb_without_deny("{\"Statement\":3}"));
	/* the inverse call's input: ResourceArn (+ Policy), nothing else from the entry */
	e = J("{\"ResourceArn\":\"t\",\"Policy\":\"{}\",\"ExpectedRevisionId\":\"forged\",\"x\":1}");
	in = fr_wire(FR_DDB_PUT_POLICY, e, NULL, NULL, 0);
	w = cJSON_PrintUnformatted(in);
	cJSON_Delete(in);
	assert_string_equal(w, "{\"ResourceArn\":\"t\",\"Policy\":\"{}\"}");
	free(w);
	assert_null(fr_wire(FR_DDB_KEPT, e, NULL, NULL, 0));
	cJSON_DeleteItemFromObjectCaseSensitive(e, "ResourceArn");
	assert_null(fr_wire(FR_DDB_DELETE_POLICY, e, NULL, NULL, 0));
	cJSON_Delete(e);
}

static void test_fr__leak_rotate_refused(void **st)
{
	static const char *const ents[] = {
		"{\"step\":\"deactivate-key\",\"api\":\"iam:UpdateAccessKey\",\"secret_public\":true,"
		"\"args\":{\"UserName\":\"u\",\"AccessKeyId\":\"AKIA1\",\"Status\":\"Active\"}}",
		"{\"step\":\"rotate-secret\",\"api\":\"secretsmanager:UpdateSecretVersionStage\",\"secret_public\":true}",
		"{\"api\":\"iam:DeleteRolePolicy\",\"secret_public\":true,"
		"\"args\":{\"RoleName\":\"r\",\"PolicyName\":\"AWSRevokeOlderSessions\"}}",
		/* unmarked: a rotation's undo is refused all the same; iam-contain's key is not */
		"{\"step\":\"put-secret-value\",\"api\":\"secretsmanager:UpdateSecretVersionStage\"}",
		"{\"api\":\"iam:UpdateAccessKey\",\"secret_public\":false,"
		"\"args\":{\"UserName\":\"u\",\"AccessKeyId\":\"AKIA1\",\"Status\":\"Active\"}}",
	};
	static const enum fr_kind want[] = { FR_PUBLIC_KEY, FR_PUBLIC_VALUE, FR_PUBLIC_SESSION, FR_PUBLIC_VALUE,
					     FR_ACCESS_KEY };
	struct fr_state s = { 1, NULL, NULL, 0, NULL };
	char why[256];
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
		cJSON *e = J(ents[i]);
		enum fr_kind k = fr_kind_of_entry(e);

		assert_int_equal(k, want[i]);
		if (k != FR_ACCESS_KEY) {
			/* never a call: no input, a refusal that says why */
			assert_null(fr_wire(k, cJSON_GetObjectItemCaseSensitive(e, "args"), NULL, NULL, 0));
			assert_int_equal(fr_decide(k, NULL, &s, why, sizeof(why)), FR_REFUSED);
			assert_true(strstr(why, k == FR_PUBLIC_VALUE ? "no undo: the old value is public"
								       : "needs a human") != NULL);
		}
		cJSON_Delete(e);
	}
	fr_decide(FR_PUBLIC_KEY, NULL, &s, why, sizeof(why));
	assert_true(strncmp(why, "needs a human: the key's secret is public", 41) == 0);
}
/* ---- end data-breach and leak-rotate (w3-rst2) ------------------------------------------- */

/* ---- codeartifact-lock (w3-rst3) ---------------------------------------------------------- */

#define CA_PRIOR "{\"Version\":\"2012-10-17\",\"Statement\":{\"Sid\":\"OrgRead\",\"Effect\":\"Allow\"," \
		 "\"Principal\":\"*\",\"Action\":\"codeartifact:ReadFromRepository\",\"Resource\":\"*\"}}"
#define CA_DENY(sid, act) "{\"Sid\":\"" sid "\",\"Effect\":\"Deny\",\"Principal\":{\"AWS\":" \
		 "\"arn:aws:iam::111111111111:user/mallory\"},\"Action\":\"" act "\",\"Resource\":\"*\"}"
#define CA_SID "FirebreakCodeArtifactLock0123456789abcdef"
#define CA_ORG "{\"Sid\":\"OrgRead\",\"Effect\":\"Allow\",\"Principal\":\"*\"," \
		 "\"Action\":\"codeartifact:ReadFromRepository\",\"Resource\":\"*\"}"
/* ca_policy_merge's result: the single statement became a list, the Deny appended */
#define CA_CONTAINED "{\"Version\":\"2012-10-17\",\"Statement\":[" CA_ORG "," CA_DENY(CA_SID, "codeartifact:*") "]}"

/* a domain (repo 0) or repository policy entry (prior NULL: the delete form) against the policy now */
static enum fr_decision ca(int repo, const char *prior, int found, const char *now, const char *rev)
{
	cJSON *a = cJSON_CreateObject(), *ans = cJSON_CreateObject(), *pol = cJSON_AddObjectToObject(ans, "policy");
	struct fr_state s = { found, ans, NULL, 0, NULL };
	char why[256] = "";
	enum fr_decision d;

	cJSON_AddStringToObject(a, "domain", "acme");
	cJSON_AddStringToObject(a, "domainOwner", "111111111111");
	if (repo)
		cJSON_AddStringToObject(a, "repository", "npm-store");
	if (prior)
		cJSON_AddStringToObject(a, "policyDocument", prior);
	if (now)
		cJSON_AddStringToObject(pol, "document", now);
	if (rev)
		cJSON_AddStringToObject(pol, "revision", rev);
	d = fr_decide(prior ? (repo ? FR_CA_PUT_REPO_POLICY : FR_CA_PUT_DOMAIN_POLICY)
			    : (repo ? FR_CA_DELETE_REPO_POLICY : FR_CA_DELETE_DOMAIN_POLICY), a, &s, why, sizeof(why));
	assert_true(why[0] != '\0');
	cJSON_Delete(a);
	cJSON_Delete(ans);
	return d;
}

static void test_fr__codeartifact_lock(void **st)
{
	cJSON *e, *in;
	char why[200];
	int repo, had;

	(void)st;
	assert_int_equal(fr_kind_of("codeartifact:PutDomainPermissionsPolicy", NULL), FR_CA_PUT_DOMAIN_POLICY);
	assert_int_equal(fr_kind_of("codeartifact:DeleteDomainPermissionsPolicy", NULL), FR_CA_DELETE_DOMAIN_POLICY);
	assert_int_equal(fr_kind_of("codeartifact:PutRepositoryPermissionsPolicy", NULL), FR_CA_PUT_REPO_POLICY);
	assert_int_equal(fr_kind_of("codeartifact:DeleteRepositoryPermissionsPolicy", NULL), FR_CA_DELETE_REPO_POLICY);
	assert_int_equal(fr_kind_of("codeartifact:DeleteDomain", NULL), FR_UNSUPPORTED);
	for (repo = 0; repo < 2; repo++) {
		/* exactly the prior + firebreak's Deny: put back; the prior itself: already */
		assert_int_equal(ca(repo, CA_PRIOR, 1, CA_CONTAINED, "r1"), FR_APPLY);
		assert_int_equal(ca(repo, CA_PRIOR, 1, CA_PRIOR, "r2"), FR_ALREADY);
		/* someone's statement since; our Deny edited (narrower action); a look-alike Sid;
		 * the Deny gone; the policy deleted; no revision: changed since, not touched */
		assert_int_equal(ca(repo, CA_PRIOR, 1, "{\"Version\":\"2012-10-17\",\"Statement\":[" CA_ORG
				    ",{\"Sid\":\"Human\",\"Effect\":\"Allow\"}," CA_DENY(CA_SID, "codeartifact:*") "]}",
				    "r3"), FR_CHANGED);
		assert_int_equal(ca(repo, CA_PRIOR, 1, "{\"Version\":\"2012-10-17\",\"Statement\":[" CA_ORG ","
				    CA_DENY(CA_SID, "codeartifact:PublishPackageVersion") "]}", "r3"), FR_CHANGED);
		assert_int_equal(ca(repo, CA_PRIOR, 1, "{\"Version\":\"2012-10-17\",\"Statement\":[" CA_ORG ","
				    CA_DENY("FirebreakCodeArtifactLockX123456789abcdef", "codeartifact:*") "]}", "r3"),
				 FR_CHANGED);
		assert_int_equal(ca(repo, CA_PRIOR, 1, "{\"Version\":\"2012-10-17\",\"Statement\":[" CA_ORG "]}", "r3"),
				 FR_CHANGED);
		assert_int_equal(ca(repo, CA_PRIOR, 0, NULL, NULL), FR_CHANGED);
		assert_int_equal(ca(repo, CA_PRIOR, 1, CA_CONTAINED, NULL), FR_CHANGED);
		/* a policy it created: deleted only while it is firebreak's Deny alone */
		assert_int_equal(ca(repo, NULL, 1, "{\"Version\":\"2012-10-17\",\"Statement\":["
				    CA_DENY(CA_SID, "codeartifact:*") "]}", "r1"), FR_APPLY);
		assert_int_equal(ca(repo, NULL, 1, CA_CONTAINED, "r1"), FR_CHANGED);
		assert_int_equal(ca(repo, NULL, 0, NULL, NULL), FR_ALREADY);
	}
	/* the Deny's exact shape only: an extra member is someone's edit */
	assert_null(fr_ca_without_deny("[1]", NULL));
	assert_null(fr_ca_without_deny("{\"Statement\":3}", NULL));
	e = fr_ca_without_deny("{\"Statement\":[{\"Sid\":\"" CA_SID "\",\"Effect\":\"Deny\",\"Principal\":{\"AWS\":"
			       "\"arn:x\"},\"Action\":\"codeartifact:*\",\"Resource\":\"*\",\"Condition\":{}}]}", &had);
	assert_int_equal(had, 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(e, "Statement")), 1);
	cJSON_Delete(e);
	/* the inverse call's input: domain, domainOwner (+ repository, policyDocument), nothing else */
	e = cJSON_Parse("{\"domain\":\"acme\",\"domainOwner\":\"111111111111\",\"repository\":\"r\","
			"\"policyDocument\":\"{}\",\"administratorAccount\":\"x\"}");
	in = fr_wire(FR_CA_PUT_REPO_POLICY, e, NULL, why, sizeof(why));
	assert_non_null(in);
	assert_int_equal(cJSON_GetArraySize(in), 4);
	assert_null(cJSON_GetObjectItemCaseSensitive(in, "administratorAccount"));
	cJSON_Delete(in);
	in = fr_wire(FR_CA_DELETE_DOMAIN_POLICY, e, NULL, why, sizeof(why));
	assert_int_equal(cJSON_GetArraySize(in), 2);
	cJSON_Delete(in);
	cJSON_DeleteItemFromObjectCaseSensitive(e, "repository");
	assert_null(fr_wire(FR_CA_PUT_REPO_POLICY, e, NULL, why, sizeof(why)));
	cJSON_Delete(e);
}
/* ---- end codeartifact-lock (w3-rst3) ------------------------------------------------------ */

/* ---- w4-rst: cognito-lockdown's entries: none applied, what happened said ---- */
static void test_fr__cognito_lockdown(void **st)
{
	const char *old = "{\"UserPoolId\":\"us-east-1_P\",\"ClientId\":\"c1\",\"ClientSecretId\":\"old-1\"}";
	char why[256];
	cJSON *a = J(old), *w;

	(void)st;
	assert_int_equal(fr_kind_of("cognito-idp:AddUserPoolClientSecret", a), FR_CG_OLD_SECRET);
	assert_int_equal(fr_kind_of("cognito-idp:DeleteUserPoolClientSecret", a), FR_BY_DESIGN);
	assert_int_equal(fr_kind_of("cognito-idp:AdminUserGlobalSignOut", NULL), FR_BY_DESIGN);
	/* the check's input only; an entry without the old id is not one */
	w = fr_wire(FR_CG_OLD_SECRET, a, NULL, why, sizeof(why));
	assert_non_null(w);
	assert_string_equal(resp_get_str(w, "ClientId"), "c1");
	cJSON_Delete(w);
	cJSON_Delete(a);
	a = J("{\"UserPoolId\":\"us-east-1_P\",\"ClientId\":\"c1\"}");
	assert_null(fr_wire(FR_CG_OLD_SECRET, a, NULL, why, sizeof(why)));
	cJSON_Delete(a);
	/* still there: already (the rotation stopped before its deletion); gone: refused */
	assert_int_equal(decide(FR_CG_OLD_SECRET, old, 1, "{\"ClientSecrets\":[{\"ClientSecretId\":\"new-2\"},"
				"{\"ClientSecretId\":\"old-1\"}]}", NULL, 0), FR_ALREADY);
	assert_int_equal(decide(FR_CG_OLD_SECRET, old, 1, "{\"ClientSecrets\":[{\"ClientSecretId\":\"new-2\"}]}",
				NULL, 0), FR_REFUSED);
	a = J(old);
	assert_int_equal(fr_decide(FR_CG_OLD_SECRET, a, &(struct fr_state){ 1, NULL, NULL, 0, NULL }, why, sizeof(why)),
			 FR_REFUSED);
	assert_non_null(strstr(why, "the old secret is deleted; not restorable"));
	cJSON_Delete(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fr__parse),
		cmocka_unit_test(test_fr__selected),
		cmocka_unit_test(test_fr__kinds),
		cmocka_unit_test(test_fr__wire),
		cmocka_unit_test(test_fr__decide_network),
		cmocka_unit_test(test_fr__decide_instance),
		cmocka_unit_test(test_fr__decide_identity),
		cmocka_unit_test(test_fr__by_design),       /* w3-rst1 */
		cmocka_unit_test(test_fr__decide_kms_net),  /* w3-rst1 */
		cmocka_unit_test(test_fr__data_breach),          /* w3-rst2 */
		cmocka_unit_test(test_fr__leak_rotate_refused),  /* w3-rst2 */
		cmocka_unit_test(test_fr__codeartifact_lock),    /* w3-rst3 */
		cmocka_unit_test(test_fr__cognito_lockdown),     /* w4-rst */
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
