/* Unit tests of instance-quarantine's pure stages (functions/instance-quarantine/stages.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "../../functions/instance-quarantine/stages.c"

static cJSON *J(const char *s)
{
	cJSON *j = cJSON_Parse(s);

	assert_non_null(j);
	return j;
}

#define GD(detail) "{\"source\":\"aws.guardduty\",\"detail-type\":\"GuardDuty Finding\",\"account\":\"222222222222\"," \
	"\"region\":\"eu-west-1\",\"detail\":" detail "}"
#define GD_INST(id, sev) GD("{\"id\":\"f1\",\"type\":\"CryptoCurrency:EC2/BitcoinTool.B!DNS\",\"severity\":" sev "," \
	"\"accountId\":\"111111111111\",\"region\":\"us-east-1\",\"resource\":{\"resourceType\":\"Instance\"," \
	"\"instanceDetails\":{\"instanceId\":\"" id "\"}}}")

static enum iq_parse parse(const char *ev, struct iq_target *t, char *why, size_t n)
{
	cJSON *j = J(ev);
	enum iq_parse p = iq_parse_event(j, 7.0, t, why, n);

	/* t->finding borrows j: not used after this */
	t->finding = NULL;
	cJSON_Delete(j);
	return p;
}

static void test_instance_quarantine__instance_ids(void **st)
{
	static const char *good[] = { "i-0123456789abcdef0", "i-99999999", "i-abcdef01" };
	static const char *bad[] = { "", "i-", "i-0123456789ABCDEF0", "i-0123456789abcdef", "i-0123456789abcdef01",
				     "i-../../evil", "i-0123456789abcdef0 ", "x-0123456789abcdef0", "i-9999999",
				     "arn:aws:ec2:us-east-1:111111111111:instance/i-0123456789abcdef0", "i-0123;rm" };
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(iq_instance_id_ok(good[i]));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(iq_instance_id_ok(bad[i]));
	assert_false(iq_instance_id_ok(NULL));
}

static void test_instance_quarantine__parses_every_form(void **st)
{
	struct iq_target t;
	char why[256];

	(void)st;
	assert_int_equal(parse("{\"instanceId\":\"i-0123456789abcdef0\",\"region\":\"eu-west-1\",\"dryRun\":true}",
			       &t, why, sizeof(why)), IQ_PARSE_OK);
	assert_string_equal(t.instance, "i-0123456789abcdef0");
	assert_string_equal(t.region, "eu-west-1");
	assert_string_equal(t.reason, "manual quarantine");
	assert_false(t.is_finding);
	/* the finding's account and region, not the envelope's (delegated admin) */
	assert_int_equal(parse(GD_INST("i-0123456789abcdef0", "8"), &t, why, sizeof(why)), IQ_PARSE_OK);
	assert_true(t.is_finding);
	assert_string_equal(t.account, "111111111111");
	assert_string_equal(t.region, "us-east-1");
	assert_string_equal(t.finding_type, "CryptoCurrency:EC2/BitcoinTool.B!DNS");
	/* below the minimum severity: skipped, not an error */
	assert_int_equal(parse(GD_INST("i-0123456789abcdef0", "5"), &t, why, sizeof(why)), IQ_PARSE_IGNORE);
	assert_non_null(strstr(why, "below"));
	/* Security Hub import of a GuardDuty finding */
	assert_int_equal(parse("{\"source\":\"aws.securityhub\",\"detail-type\":\"Security Hub Findings - Imported\","
			       "\"detail\":{\"findings\":[{\"ProductArn\":\"arn:aws:securityhub:us-east-1::product/aws/guardduty\","
			       "\"Id\":\"arn:aws:guardduty:us-east-1:111111111111:detector/d1/finding/f1\",\"AwsAccountId\":\"111111111111\",\"Types\":[\"TTPs/Impact/CryptoCurrency:EC2-BitcoinTool.B\"],"
			       "\"Severity\":{\"Product\":8,\"Normalized\":60},\"Resources\":[{\"Type\":\"AwsEc2Instance\","
			       "\"Id\":\"arn:aws:ec2:us-east-1:111111111111:instance/i-0123456789abcdef0\"}]}]}}",
			       &t, why, sizeof(why)), IQ_PARSE_OK);
	assert_true(t.from_securityhub);
	assert_string_equal(t.finding_id, "f1"); /* as the native finding's id: one incident */
	assert_string_equal(t.instance, "i-0123456789abcdef0");
	assert_string_equal(t.account, "111111111111");
	assert_true(t.severity == 8.0);
	assert_string_equal(t.finding_type, "CryptoCurrency:EC2-BitcoinTool.B");
	/* Normalized only: 0-100 scaled to GuardDuty's 0-10 */
	assert_int_equal(parse("{\"source\":\"aws.securityhub\",\"detail-type\":\"Security Hub Findings - Imported\","
			       "\"detail\":{\"findings\":[{\"ProductArn\":\"arn:aws:securityhub:us-east-1::product/aws/guardduty\","
			       "\"Severity\":{\"Normalized\":40},\"Resources\":[{\"Type\":\"AwsEc2Instance\","
			       "\"Id\":\"arn:aws:ec2:us-east-1:111111111111:instance/i-0123456789abcdef0\"}]}]}}",
			       &t, why, sizeof(why)), IQ_PARSE_IGNORE);
}

/* Not ours: skipped (well formed) or refused (malformed), never acted on. */
static void test_instance_quarantine__not_ec2_or_malformed(void **st)
{
	static const char *ignored[] = {
		GD("{\"severity\":8,\"resource\":{\"resourceType\":\"AccessKey\",\"instanceDetails\":"
		   "{\"instanceId\":\"i-0123456789abcdef0\"}}}"),
		GD("{\"severity\":8,\"resource\":{\"resourceType\":\"ECSCluster\"}}"),
		/* Security Hub: another product's finding about an instance */
		"{\"source\":\"aws.securityhub\",\"detail-type\":\"Security Hub Findings - Imported\",\"detail\":{\"findings\":"
		"[{\"ProductArn\":\"arn:aws:securityhub:us-east-1::product/aws/inspector\",\"Severity\":{\"Product\":9},"
		"\"Resources\":[{\"Type\":\"AwsEc2Instance\",\"Id\":\"arn:aws:ec2:us-east-1:111111111111:instance/i-0123456789abcdef0\"}]}]}}",
		/* a product ARN that only contains the GuardDuty suffix in the middle */
		"{\"source\":\"aws.securityhub\",\"detail-type\":\"Security Hub Findings - Imported\",\"detail\":{\"findings\":"
		"[{\"ProductArn\":\"arn:aws:securityhub:us-east-1::product/aws/guardduty/x\",\"Severity\":{\"Product\":9},"
		"\"Resources\":[{\"Type\":\"AwsEc2Instance\",\"Id\":\"arn:aws:ec2:us-east-1:111111111111:instance/i-0123456789abcdef0\"}]}]}}",
	};
	static const char *invalid[] = {
		"{}", "{\"instanceId\":7}", "{\"instanceId\":\"i-0123456789abcdef0\",\"region\":\"us-east-1/../x\"}",
		"{\"instanceId\":\"i-0123456789abcdef0\",\"dryRun\":\"true\"}",
		"{\"instanceId\":\"i-0123456789abcdef0\",\"region\":\"https://evil.example\"}",
		"{\"instanceId\":\"https://evil.example/i-0123456789abcdef0\"}",
		GD_INST("i-0123;rm -rf", "8"), GD_INST("i-../../x", "8"),
		GD("{\"severity\":\"8\",\"resource\":{\"resourceType\":\"Instance\"}}"),
		GD("{\"severity\":8,\"resource\":{\"resourceType\":\"Instance\"}}"),
		GD("{\"severity\":8,\"accountId\":\"evil\",\"resource\":{\"resourceType\":\"Instance\",\"instanceDetails\":"
		   "{\"instanceId\":\"i-0123456789abcdef0\"}}}"),
		GD("{\"severity\":8,\"region\":\"evil.example:443\",\"resource\":{\"resourceType\":\"Instance\",\"instanceDetails\":"
		   "{\"instanceId\":\"i-0123456789abcdef0\"}}}"),
		"{\"source\":\"aws.guardduty\",\"detail-type\":\"Something else\",\"detail\":{}}",
		"{\"source\":\"aws.kms\",\"detail-type\":\"GuardDuty Finding\",\"detail\":{}}",
		/* ASFF: the instance ARN's account must be the finding's */
		"{\"source\":\"aws.securityhub\",\"detail-type\":\"Security Hub Findings - Imported\",\"detail\":{\"findings\":"
		"[{\"ProductArn\":\"arn:aws:securityhub:us-east-1::product/aws/guardduty\",\"AwsAccountId\":\"111111111111\","
		"\"Severity\":{\"Product\":9},\"Resources\":[{\"Type\":\"AwsEc2Instance\","
		"\"Id\":\"arn:aws:ec2:us-east-1:333333333333:instance/i-0123456789abcdef0\"}]}]}}",
		"{\"source\":\"aws.securityhub\",\"detail-type\":\"Security Hub Findings - Imported\",\"detail\":{\"findings\":"
		"[{\"ProductArn\":\"arn:aws:securityhub:us-east-1::product/aws/guardduty\",\"Severity\":{\"Product\":9},"
		"\"Resources\":[{\"Type\":\"AwsEc2Instance\",\"Id\":\"i-0123456789abcdef0\"}]}]}}",
		"{\"source\":\"aws.securityhub\",\"detail-type\":\"Security Hub Findings - Imported\",\"detail\":{\"findings\":[]}}",
	};
	struct iq_target t;
	char why[256];
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		assert_int_equal(parse(ignored[i], &t, why, sizeof(why)), IQ_PARSE_IGNORE);
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		why[0] = '\0';
		if (parse(invalid[i], &t, why, sizeof(why)) != IQ_PARSE_INVALID)
			fail_msg("not refused: %s", invalid[i]);
		assert_true(why[0] != '\0');
	}
}

static void test_instance_quarantine__credential_findings(void **st)
{
	(void)st;
	assert_true(iq_credential_finding("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"));
	assert_true(iq_credential_finding("UnauthorizedAccess:EC2/MetadataDNSRebind"));
	assert_true(iq_credential_finding("CredentialAccess:Runtime/MemoryDumpCreated"));
	assert_false(iq_credential_finding("CryptoCurrency:EC2/BitcoinTool.B!DNS"));
	assert_false(iq_credential_finding("Recon:EC2/PortProbeUnprotectedPort"));
	assert_false(iq_credential_finding(NULL));
}

#define INSTANCE_OUT \
	"{\"reservationSet\":[{\"instancesSet\":[{\"instanceId\":\"i-0123456789abcdef0\"," \
	"\"instanceState\":{\"name\":\"running\"},\"vpcId\":\"vpc-1\",\"launchTime\":\"2026-01-01T00:00:00.000Z\"," \
	"\"iamInstanceProfile\":{\"arn\":\"arn:aws:iam::111111111111:instance-profile/web\"}," \
	"\"tagSet\":[{\"key\":\"Name\",\"value\":\"web\"}]," \
	"\"networkInterfaceSet\":[{\"networkInterfaceId\":\"eni-1\",\"vpcId\":\"vpc-1\",\"groupSet\":[" \
	"{\"groupId\":\"sg-a\",\"groupName\":\"web\"},{\"groupId\":\"sg-b\",\"groupName\":\"ssh\"}]}," \
	"{\"networkInterfaceId\":\"eni-2\",\"vpcId\":\"vpc-2\",\"groupSet\":[{\"groupId\":\"sg-c\"}]}]," \
	"\"blockDeviceMapping\":[{\"deviceName\":\"/dev/xvda\",\"ebs\":{\"volumeId\":\"vol-1\",\"deleteOnTermination\":\"true\"}}," \
	"{\"deviceName\":\"/dev/xvdb\",\"ebs\":{\"volumeId\":\"vol-2\",\"deleteOnTermination\":\"false\"}}," \
	"{\"deviceName\":\"/dev/sdc\",\"virtualName\":\"ephemeral0\"}]}]}]}"

static void test_instance_quarantine__instance_from_answer(void **st)
{
	struct iq_instance *in = calloc(1, sizeof(*in));
	cJSON *out = J(INSTANCE_OUT), *m;
	char *s;

	(void)st;
	assert_int_equal(iq_instance_from_json(out, in), FB_OK);
	assert_string_equal(in->id, "i-0123456789abcdef0");
	assert_string_equal(in->state, "running");
	assert_string_equal(in->profile_arn, "arn:aws:iam::111111111111:instance-profile/web");
	assert_int_equal(in->neni, 2);
	assert_int_equal(in->eni[0].ngroups, 2);
	assert_string_equal(in->eni[0].groups[1], "sg-b");
	assert_string_equal(in->eni[1].vpc, "vpc-2");
	assert_int_equal(in->nvol, 2); /* the instance-store mapping is not a volume */
	assert_true(in->vol[0].delete_on_termination);
	assert_false(in->vol[1].delete_on_termination);
	/* only the volumes deleted on termination are changed, and back */
	m = iq_dot_mappings(in, 0);
	s = cJSON_PrintUnformatted(m);
	assert_string_equal(s, "[{\"DeviceName\":\"/dev/xvda\",\"Ebs\":{\"DeleteOnTermination\":false}}]");
	free(s);
	cJSON_Delete(m);
	m = iq_dot_mappings(in, 1);
	s = cJSON_PrintUnformatted(m);
	assert_string_equal(s, "[{\"DeviceName\":\"/dev/xvda\",\"Ebs\":{\"DeleteOnTermination\":true}}]");
	free(s);
	cJSON_Delete(m);
	in->vol[0].delete_on_termination = 0;
	assert_null(iq_dot_mappings(in, 0));
	cJSON_Delete(out);
	/* empty answer; an interface without a VPC */
	out = J("{\"reservationSet\":\"\"}");
	assert_int_equal(iq_instance_from_json(out, in), FB_E_NOTFOUND);
	cJSON_Delete(out);
	out = J("{\"reservationSet\":[{\"instancesSet\":[{\"instanceId\":\"i-0123456789abcdef0\","
		"\"networkInterfaceSet\":[{\"networkInterfaceId\":\"eni-1\"}]}]}]}");
	assert_int_equal(iq_instance_from_json(out, in), FB_E_PARSE);
	cJSON_Delete(out);
	free(in);
}

#define OPEN_PERMS "[{\"ipProtocol\":\"-1\",\"ipRanges\":[{\"cidrIp\":\"0.0.0.0/0\"}],\"ipv6Ranges\":[{\"cidrIpv6\":\"::/0\"}]}]"

static void test_instance_quarantine__group_fitness(void **st)
{
	cJSON *sgs = J("["
		/* vpc-1: a fit quarantine group and a fit untrack group */
		"{\"groupId\":\"sg-q1\",\"groupName\":\"firebreak-quarantine\",\"vpcId\":\"vpc-1\",\"ipPermissions\":\"\",\"ipPermissionsEgress\":\"\"},"
		"{\"groupId\":\"sg-u1\",\"groupName\":\"firebreak-untrack\",\"vpcId\":\"vpc-1\",\"ipPermissions\":" OPEN_PERMS ",\"ipPermissionsEgress\":" OPEN_PERMS "},"
		/* vpc-2: a quarantine group someone gave a rule; an untrack group without IPv6 */
		"{\"groupId\":\"sg-q2\",\"groupName\":\"firebreak-quarantine\",\"vpcId\":\"vpc-2\",\"ipPermissions\":\"\","
		"\"ipPermissionsEgress\":[{\"ipProtocol\":\"-1\",\"ipRanges\":[{\"cidrIp\":\"0.0.0.0/0\"}]}]},"
		"{\"groupId\":\"sg-u2\",\"groupName\":\"firebreak-untrack\",\"vpcId\":\"vpc-2\",\"ipPermissions\":"
		"[{\"ipProtocol\":\"-1\",\"ipRanges\":[{\"cidrIp\":\"0.0.0.0/0\"}]}],\"ipPermissionsEgress\":" OPEN_PERMS "},"
		/* an untrack group open on TCP only is not all traffic */
		"{\"groupId\":\"sg-u3\",\"groupName\":\"firebreak-untrack\",\"vpcId\":\"vpc-3\",\"ipPermissions\":"
		"[{\"ipProtocol\":\"tcp\",\"fromPort\":\"0\",\"toPort\":\"65535\",\"ipRanges\":[{\"cidrIp\":\"0.0.0.0/0\"}],\"ipv6Ranges\":[{\"cidrIpv6\":\"::/0\"}]}],"
		"\"ipPermissionsEgress\":" OPEN_PERMS "}]");
	struct iq_vpc_groups g;

	(void)st;
	memset(&g, 0, sizeof(g));
	strcpy(g.vpc, "vpc-1");
	iq_vpc_groups_pick(sgs, &g);
	assert_int_equal(g.quarantine, IQ_GRP_OK);
	assert_string_equal(g.quarantine_id, "sg-q1");
	assert_int_equal(g.untrack, IQ_GRP_OK);
	assert_string_equal(g.untrack_id, "sg-u1");
	strcpy(g.vpc, "vpc-2");
	iq_vpc_groups_pick(sgs, &g);
	assert_int_equal(g.quarantine, IQ_GRP_UNFIT);
	assert_int_equal(g.untrack, IQ_GRP_UNFIT);
	strcpy(g.vpc, "vpc-3");
	iq_vpc_groups_pick(sgs, &g);
	assert_int_equal(g.quarantine, IQ_GRP_ABSENT);
	assert_int_equal(g.untrack, IQ_GRP_UNFIT);
	strcpy(g.vpc, "vpc-9");
	iq_vpc_groups_pick(sgs, &g);
	assert_int_equal(g.quarantine, IQ_GRP_ABSENT);
	assert_int_equal(g.untrack, IQ_GRP_ABSENT);
	cJSON_Delete(sgs);
}

static void test_instance_quarantine__isolated_and_snapshots(void **st)
{
	struct iq_instance *in = calloc(1, sizeof(*in));
	cJSON *snaps;

	(void)st;
	in->neni = 1;
	strcpy(in->eni[0].groups[0], "sg-q1");
	in->eni[0].ngroups = 1;
	assert_true(iq_eni_isolated(&in->eni[0], "sg-q1"));
	assert_false(iq_eni_isolated(&in->eni[0], "sg-other"));
	assert_false(iq_eni_isolated(&in->eni[0], NULL));
	/* the quarantine group plus another: not isolated (the other group's rules apply) */
	strcpy(in->eni[0].groups[1], "sg-web");
	in->eni[0].ngroups = 2;
	assert_false(iq_eni_isolated(&in->eni[0], "sg-q1"));
	in->nvol = 2;
	strcpy(in->vol[0].volume, "vol-1");
	strcpy(in->vol[1].volume, "vol-2");
	snaps = J("[{\"snapshotId\":\"snap-1\",\"volumeId\":\"vol-1\",\"state\":\"completed\"},"
		  "{\"snapshotId\":\"snap-2\",\"volumeId\":\"vol-2\",\"state\":\"error\"}]");
	assert_int_equal(iq_snapshots_covered(in, snaps), 1);
	cJSON_Delete(snaps);
	assert_int_equal(iq_snapshots_covered(in, NULL), 0);
	free(in);
}

static void test_instance_quarantine__settings(void **st)
{
	struct iq_settings s;
	char err[200];

	(void)st;
	unsetenv("FIREBREAK_MIN_SEVERITY");
	unsetenv("FIREBREAK_STOP_AFTER_SNAPSHOT");
	unsetenv("FIREBREAK_REVOKE_INSTANCE_ROLE");
	assert_int_equal(iq_settings_from_env(&s, err, sizeof(err)), FB_OK);
	assert_true(s.min_severity == 7.0);
	assert_false(s.stop_after_snapshot);
	assert_true(s.revoke_role);
	setenv("FIREBREAK_STOP_AFTER_SNAPSHOT", "yes", 1);
	assert_int_equal(iq_settings_from_env(&s, err, sizeof(err)), FB_E_CONFIG);
	setenv("FIREBREAK_STOP_AFTER_SNAPSHOT", "true", 1);
	setenv("FIREBREAK_MIN_SEVERITY", "11", 1);
	assert_int_equal(iq_settings_from_env(&s, err, sizeof(err)), FB_E_CONFIG);
	setenv("FIREBREAK_MIN_SEVERITY", "4.5", 1);
	assert_int_equal(iq_settings_from_env(&s, err, sizeof(err)), FB_OK);
	assert_true(s.stop_after_snapshot);
	assert_true(s.min_severity == 4.5);
	unsetenv("FIREBREAK_MIN_SEVERITY");
	unsetenv("FIREBREAK_STOP_AFTER_SNAPSHOT");
}

/* issue 20: snapshot lock, off by default; a typo is an init error */
static void test_instance_quarantine__lock_settings(void **st)
{
	static const char *const bad_days[] = { "-1", "30d", "36501", " 30", "1e3", "9999999" };
	struct iq_settings s;
	char err[200];
	size_t i;

	(void)st;
	unsetenv("FIREBREAK_SNAPSHOT_LOCK_DAYS");
	unsetenv("FIREBREAK_SNAPSHOT_LOCK_MODE");
	assert_int_equal(iq_settings_from_env(&s, err, sizeof(err)), FB_OK);
	assert_int_equal(s.lock_days, 0);
	assert_string_equal(s.lock_mode, "governance");
	setenv("FIREBREAK_SNAPSHOT_LOCK_DAYS", "36500", 1);
	setenv("FIREBREAK_SNAPSHOT_LOCK_MODE", "compliance", 1);
	assert_int_equal(iq_settings_from_env(&s, err, sizeof(err)), FB_OK);
	assert_int_equal(s.lock_days, 36500);
	assert_string_equal(s.lock_mode, "compliance");
	setenv("FIREBREAK_SNAPSHOT_LOCK_MODE", "Compliance", 1);
	assert_int_equal(iq_settings_from_env(&s, err, sizeof(err)), FB_E_CONFIG);
	unsetenv("FIREBREAK_SNAPSHOT_LOCK_MODE");
	for (i = 0; i < sizeof(bad_days) / sizeof(bad_days[0]); i++) {
		setenv("FIREBREAK_SNAPSHOT_LOCK_DAYS", bad_days[i], 1);
		assert_int_equal(iq_settings_from_env(&s, err, sizeof(err)), FB_E_CONFIG);
	}
	unsetenv("FIREBREAK_SNAPSHOT_LOCK_DAYS");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_instance_quarantine__instance_ids),
		cmocka_unit_test(test_instance_quarantine__lock_settings),
		cmocka_unit_test(test_instance_quarantine__parses_every_form),
		cmocka_unit_test(test_instance_quarantine__not_ec2_or_malformed),
		cmocka_unit_test(test_instance_quarantine__credential_findings),
		cmocka_unit_test(test_instance_quarantine__instance_from_answer),
		cmocka_unit_test(test_instance_quarantine__group_fitness),
		cmocka_unit_test(test_instance_quarantine__isolated_and_snapshots),
		cmocka_unit_test(test_instance_quarantine__settings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
