/*
 * Unit tests for net-block's pure stages (functions/net-block/stages.c,
 * declared in net_block.h): event parsing (CloudTrail, GuardDuty, manual),
 * the rule decision, the address refusals, the IP set merge and the
 * network ACL rule number. stages.c is compiled in (the Makefile links a
 * unit test with the runtime library only). The "must not be usable as a
 * weapon" cases of issue 19 are the ones named weapon_*.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../functions/net-block/stages.c"

static struct nb_settings S;

static int setup(void **st)
{
	char err[256];

	(void)st;
	return nb_settings_parse(&S, NULL, NULL, NULL, NULL, "198.51.100.0/24", err, sizeof(err)) == FB_OK ? 0 : -1;
}

static enum fb_err parse(const char *text, struct nb_event *ev, char *why)
{
	return nb_parse(text, strlen(text), ev, why, 256);
}

/* CloudTrail AuthorizeSecurityGroupIngress in its EventBridge envelope. */
#define CT_HEAD "{\"version\":\"0\",\"id\":\"eb-1\",\"detail-type\":\"AWS API Call via CloudTrail\"," \
	"\"source\":\"aws.ec2\",\"account\":\"111111111111\",\"time\":\"2024-03-01T10:00:30Z\"," \
	"\"region\":\"us-east-1\",\"resources\":[],\"detail\":"

static void test_net_block__parse_authorize(void **st)
{
	struct nb_event ev;
	char why[256] = "";
	const char *e = CT_HEAD "{\"eventName\":\"AuthorizeSecurityGroupIngress\",\"eventID\":\"ct-1\","
		"\"eventTime\":\"2024-03-01T10:00:00Z\",\"awsRegion\":\"us-east-1\","
		"\"recipientAccountId\":\"111111111111\",\"userIdentity\":{\"arn\":\"arn:aws:iam::111111111111:user/mallory\"},"
		"\"requestParameters\":{\"groupId\":\"sg-0123456789abcdef0\",\"ipPermissions\":{\"items\":[{\"ipProtocol\":\"tcp\","
		"\"fromPort\":22,\"toPort\":22,\"ipRanges\":{\"items\":[{\"cidrIp\":\"0.0.0.0/0\"}]}}]}},"
		"\"responseElements\":{\"_return\":true,\"securityGroupRuleSet\":{\"items\":["
		"{\"groupId\":\"sg-0123456789abcdef0\",\"securityGroupRuleId\":\"sgr-0aaaaaaaaaaaaaaa1\",\"isEgress\":false,"
		"\"ipProtocol\":\"tcp\",\"fromPort\":22,\"toPort\":22,\"cidrIpv4\":\"0.0.0.0/0\"},"
		"{\"groupId\":\"sg-0123456789abcdef0\",\"securityGroupRuleId\":\"sgr-0aaaaaaaaaaaaaaa2\",\"isEgress\":false,"
		"\"ipProtocol\":\"tcp\",\"fromPort\":22,\"toPort\":22,\"cidrIpv6\":\"::/0\"}]}}}}";

	(void)st;
	assert_int_equal(parse(e, &ev, why), FB_OK);
	assert_int_equal(ev.kind, NB_SG);
	assert_string_equal(ev.group_id, "sg-0123456789abcdef0");
	assert_int_equal(ev.nrules, 2);
	assert_string_equal(ev.rule_ids[0], "sgr-0aaaaaaaaaaaaaaa1");
	assert_string_equal(ev.rule_ids[1], "sgr-0aaaaaaaaaaaaaaa2");
	assert_string_equal(ev.actor, "arn:aws:iam::111111111111:user/mallory");
	assert_string_equal(ev.event_id, "ct-1");
	nb_event_cleanup(&ev);
}

static void test_net_block__parse_modify(void **st)
{
	struct nb_event ev;
	char why[256] = "";
	const char *e = CT_HEAD "{\"eventName\":\"ModifySecurityGroupRules\",\"eventID\":\"ct-2\","
		"\"requestParameters\":{\"ModifySecurityGroupRulesRequest\":{\"GroupId\":\"sg-0123456789abcdef0\","
		"\"SecurityGroupRule\":{\"SecurityGroupRuleId\":\"sgr-0bbbbbbbbbbbbbbb1\",\"SecurityGroupRule\":"
		"{\"IpProtocol\":\"tcp\",\"FromPort\":3389,\"ToPort\":3389,\"CidrIpv4\":\"0.0.0.0/0\"},\"tag\":1}}},"
		"\"responseElements\":{\"ModifySecurityGroupRulesResponse\":{\"return\":true}}}}";

	(void)st;
	assert_int_equal(parse(e, &ev, why), FB_OK);
	assert_int_equal(ev.kind, NB_SG);
	assert_int_equal(ev.nrules, 1);
	assert_string_equal(ev.rule_ids[0], "sgr-0bbbbbbbbbbbbbbb1");
	nb_event_cleanup(&ev);
}

/* weapon: a record without rule ids must never become "revoke whatever
 * shares the port"; a failed call changed nothing. */
static void test_net_block__weapon_no_rule_ids_no_port_fallback(void **st)
{
	struct nb_event ev;
	char why[256] = "";

	(void)st;
	assert_int_equal(parse(CT_HEAD "{\"eventName\":\"AuthorizeSecurityGroupIngress\","
			       "\"requestParameters\":{\"groupId\":\"sg-0123456789abcdef0\"},"
			       "\"responseElements\":{\"_return\":true}}}", &ev, why), FB_OK);
	assert_int_equal(ev.kind, NB_SKIP);
	assert_non_null(strstr(ev.why, "nothing is revoked by port"));
	nb_event_cleanup(&ev);
	assert_int_equal(parse(CT_HEAD "{\"eventName\":\"AuthorizeSecurityGroupIngress\",\"errorCode\":"
			       "\"Client.UnauthorizedOperation\",\"requestParameters\":{\"groupId\":\"sg-0123456789abcdef0\"},"
			       "\"responseElements\":null}}", &ev, why), FB_OK);
	assert_int_equal(ev.kind, NB_SKIP);
	assert_non_null(strstr(ev.why, "the call failed"));
	nb_event_cleanup(&ev);
}

/* Bad input is refused before any call: ids, addresses, forms. */
static void test_net_block__refuses_bad_input(void **st)
{
	static const char *const bad[] = {
		"{\"groupId\":\"sg-0123456789abcdef0\",\"ruleIds\":[\"sgr-0123\"]}",
		"{\"groupId\":\"sg-0123456789abcdef0\",\"ruleIds\":[\"sgr-0123456789ABCDEF0\"]}",
		"{\"groupId\":\"sg-0123456789abcdef0\",\"ruleIds\":[\"sgr-0123456789abcdef0&GroupId=sg-x\"]}",
		"{\"groupId\":\"sg-012345678\",\"ruleIds\":[\"sgr-0123456789abcdef0\"]}",
		"{\"groupId\":\"sg-0123456789abcdef0\",\"ruleIds\":[]}",
		"{\"groupId\":\"sg-0123456789abcdef0\"}",
		"{\"ip\":\"203.0.113.300\"}",
		"{\"ip\":\"203.0.113.5/33\"}",
		"{\"ip\":\"\"}",
		"{\"ip\":5}",
		"{\"unblock\":\"not-an-ip\"}",
		"{\"ip\":\"203.0.113.5\",\"unblock\":\"203.0.113.5\"}",
		"{}",
		"{\"ip\":\"203.0.113.5\",\"account\":\"12\"}",
		"{\"source\":\"aws.s3\",\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":{}}",
		CT_HEAD "{\"eventName\":\"RevokeSecurityGroupIngress\"}}",
		CT_HEAD "{\"eventName\":\"AuthorizeSecurityGroupIngress\",\"responseElements\":{\"securityGroupRuleSet\":"
		"{\"items\":[{\"groupId\":\"sg-0123456789abcdef0\",\"securityGroupRuleId\":\"sgr-zz\"}]}}}}",
		CT_HEAD "{\"eventName\":\"AuthorizeSecurityGroupIngress\",\"responseElements\":{\"securityGroupRuleSet\":"
		"{\"items\":[{\"groupId\":\"sg-0123456789abcdef0\",\"securityGroupRuleId\":\"sgr-0aaaaaaaaaaaaaaa1\"},"
		"{\"groupId\":\"sg-0123456789abcdef1\",\"securityGroupRuleId\":\"sgr-0aaaaaaaaaaaaaaa2\"}]}}}}",
		CT_HEAD "{\"eventName\":\"AuthorizeSecurityGroupIngress\",\"responseElements\":{\"securityGroupRuleSet\":"
		"{\"items\":\"sgr-0aaaaaaaaaaaaaaa1\"}}}}",
		"not json",
	};
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct nb_event ev;
		char why[256] = "";

		if (parse(bad[i], &ev, why) != FB_E_INVALID)
			fail_msg("case %zu accepted: %s", i, bad[i]);
		assert_true(why[0] != '\0');
		nb_event_cleanup(&ev);
	}
}

static void test_net_block__parse_manual(void **st)
{
	struct nb_event ev;
	char why[256] = "";

	(void)st;
	assert_int_equal(parse("{\"groupId\":\"sg-0123456789abcdef0\",\"ruleIds\":[\"sgr-0123456789abcdef0\","
			       "\"sgr-0123456789abcdef0\"],\"dryRun\":true}", &ev, why), FB_OK);
	assert_int_equal(ev.kind, NB_SG);
	assert_int_equal(ev.nrules, 1);
	assert_true(ev.manual);
	nb_event_cleanup(&ev);
	assert_int_equal(parse("{\"ip\":\"203.0.113.5\"}", &ev, why), FB_OK);
	assert_int_equal(ev.kind, NB_BLOCK);
	assert_string_equal(ev.ips[0], "203.0.113.5");
	nb_event_cleanup(&ev);
	assert_int_equal(parse("{\"unblock\":\"2001:db8::5/128\"}", &ev, why), FB_OK);
	assert_int_equal(ev.kind, NB_UNBLOCK);
	nb_event_cleanup(&ev);
}

#define GD_HEAD "{\"version\":\"0\",\"id\":\"eb-gd\",\"detail-type\":\"GuardDuty Finding\",\"source\":\"aws.guardduty\"," \
	"\"account\":\"111111111111\",\"time\":\"2024-03-01T10:00:30Z\",\"region\":\"us-east-1\",\"resources\":[],\"detail\":"

static void test_net_block__parse_guardduty(void **st)
{
	struct nb_event ev;
	char why[256] = "";

	(void)st;
	assert_int_equal(parse(GD_HEAD "{\"id\":\"f1\",\"type\":\"UnauthorizedAccess:EC2/SSHBruteForce\","
			       "\"resource\":{\"instanceDetails\":{\"instanceId\":\"i-0123456789abcdef0\",\"networkInterfaces\":"
			       "[{\"subnetId\":\"subnet-0123456789abcdef0\"}]}},\"service\":{\"resourceRole\":\"TARGET\","
			       "\"action\":{\"actionType\":\"NETWORK_CONNECTION\",\"networkConnectionAction\":{"
			       "\"connectionDirection\":\"INBOUND\",\"remoteIpDetails\":{\"ipAddressV4\":\"203.0.113.7\"}}}}}}",
			       &ev, why), FB_OK);
	assert_int_equal(ev.kind, NB_BLOCK);
	assert_int_equal(ev.nips, 1);
	assert_string_equal(ev.ips[0], "203.0.113.7");
	assert_string_equal(ev.subnet_id, "subnet-0123456789abcdef0");
	assert_string_equal(ev.event_id, "f1");
	nb_event_cleanup(&ev);
	assert_int_equal(parse(GD_HEAD "{\"id\":\"f2\",\"type\":\"Recon:EC2/PortProbeUnprotectedPort\","
			       "\"service\":{\"resourceRole\":\"TARGET\",\"action\":{\"actionType\":\"PORT_PROBE\","
			       "\"portProbeAction\":{\"portProbeDetails\":[{\"remoteIpDetails\":{\"ipAddressV4\":\"203.0.113.8\"}},"
			       "{\"remoteIpDetails\":{\"ipAddressV6\":\"2001:db8::8\"}}]}}}}}", &ev, why), FB_OK);
	assert_int_equal(ev.kind, NB_BLOCK);
	assert_int_equal(ev.nips, 2);
	assert_string_equal(ev.ips[1], "2001:db8::8");
	nb_event_cleanup(&ev);
}

/* weapon: a finding where our instance is the actor names its victim;
 * blocking it protects nothing and could be steered. Samples are skipped. */
static void test_net_block__weapon_outbound_finding_not_blocked(void **st)
{
	static const char *const cases[] = {
		GD_HEAD "{\"id\":\"f3\",\"type\":\"UnauthorizedAccess:EC2/SSHBruteForce\",\"service\":{\"resourceRole\":"
		"\"ACTOR\",\"action\":{\"actionType\":\"NETWORK_CONNECTION\",\"networkConnectionAction\":{"
		"\"connectionDirection\":\"OUTBOUND\",\"remoteIpDetails\":{\"ipAddressV4\":\"203.0.113.9\"}}}}}}",
		GD_HEAD "{\"id\":\"f4\",\"type\":\"UnauthorizedAccess:EC2/SSHBruteForce\",\"service\":{\"resourceRole\":"
		"\"ACTOR\",\"action\":{\"actionType\":\"NETWORK_CONNECTION\",\"networkConnectionAction\":{"
		"\"connectionDirection\":\"INBOUND\",\"remoteIpDetails\":{\"ipAddressV4\":\"203.0.113.9\"}}}}}}",
		GD_HEAD "{\"id\":\"f5\",\"type\":\"UnauthorizedAccess:EC2/SSHBruteForce\",\"service\":{\"resourceRole\":"
		"\"TARGET\",\"additionalInfo\":{\"sample\":true},\"action\":{\"actionType\":\"NETWORK_CONNECTION\","
		"\"networkConnectionAction\":{\"connectionDirection\":\"INBOUND\",\"remoteIpDetails\":{\"ipAddressV4\":"
		"\"203.0.113.9\"}}}}}}",
		GD_HEAD "{\"id\":\"f6\",\"type\":\"Recon:IAMUser/TorIPCaller\",\"service\":{\"action\":{\"actionType\":"
		"\"AWS_API_CALL\"}}}}",
	};
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nb_event ev;
		char why[256] = "";

		assert_int_equal(parse(cases[i], &ev, why), FB_OK);
		if (ev.kind != NB_SKIP)
			fail_msg("case %zu not skipped", i);
		nb_event_cleanup(&ev);
	}
}

/* A rule as EC2's XML answer gives it (all leaves strings). */
static cJSON *rule(const char *gid, const char *egress, const char *proto, const char *from, const char *to,
		   const char *v4, const char *v6)
{
	cJSON *r = cJSON_CreateObject();

	cJSON_AddStringToObject(r, "securityGroupRuleId", "sgr-0aaaaaaaaaaaaaaa1");
	cJSON_AddStringToObject(r, "groupId", gid);
	cJSON_AddStringToObject(r, "groupOwnerId", "111111111111");
	cJSON_AddStringToObject(r, "isEgress", egress);
	cJSON_AddStringToObject(r, "ipProtocol", proto);
	cJSON_AddStringToObject(r, "fromPort", from);
	cJSON_AddStringToObject(r, "toPort", to);
	if (v4)
		cJSON_AddStringToObject(r, "cidrIpv4", v4);
	if (v6)
		cJSON_AddStringToObject(r, "cidrIpv6", v6);
	return r;
}

static void test_net_block__rule_decide(void **st)
{
	static const struct {
		const char *gid, *egress, *proto, *from, *to, *v4, *v6;
		enum nb_rule_verdict want;
	} rows[] = {
		{ "sg-0123456789abcdef0", "false", "tcp", "22", "22", "0.0.0.0/0", NULL, NB_RULE_REVOKE },
		{ "sg-0123456789abcdef0", "false", "tcp", "22", "22", NULL, "::/0", NB_RULE_REVOKE },
		{ "sg-0123456789abcdef0", "false", "tcp", "22", "22", NULL, "0:0::0/0", NB_RULE_REVOKE },
		{ "sg-0123456789abcdef0", "false", "-1", "-1", "-1", "0.0.0.0/0", NULL, NB_RULE_REVOKE },
		{ "sg-0123456789abcdef0", "false", "tcp", "0", "65535", "0.0.0.0/0", NULL, NB_RULE_REVOKE },
		{ "sg-0123456789abcdef0", "false", "tcp", "80", "443", "0.0.0.0/0", NULL, NB_RULE_REVOKE },
		{ "sg-0123456789abcdef0", "false", "udp", "53", "53", "0.0.0.0/0", NULL, NB_RULE_REVOKE },
		{ "sg-0123456789abcdef0", "false", "50", "-1", "-1", "0.0.0.0/0", NULL, NB_RULE_REVOKE },
		/* allowed ports (default 80, 443) */
		{ "sg-0123456789abcdef0", "false", "tcp", "443", "443", "0.0.0.0/0", NULL, NB_RULE_KEEP },
		{ "sg-0123456789abcdef0", "false", "tcp", "80", "80", NULL, "::/0", NB_RULE_KEEP },
		{ "sg-0123456789abcdef0", "false", "icmp", "8", "-1", "0.0.0.0/0", NULL, NB_RULE_KEEP },
		/* weapon: restricted rules, other groups, egress are never revoked */
		{ "sg-0123456789abcdef0", "false", "tcp", "22", "22", "10.0.0.0/8", NULL, NB_RULE_KEEP },
		{ "sg-0123456789abcdef0", "false", "tcp", "22", "22", "0.0.0.0/1", NULL, NB_RULE_KEEP },
		{ "sg-0123456789abcdef0", "false", "tcp", "22", "22", "203.0.113.0/24", NULL, NB_RULE_KEEP },
		{ "sg-0123456789abcdef0", "false", "tcp", "22", "22", NULL, NULL, NB_RULE_KEEP },
		{ "sg-0fffffffffffffff0", "false", "tcp", "22", "22", "0.0.0.0/0", NULL, NB_RULE_KEEP },
		{ "sg-0123456789abcdef0", "true", "tcp", "22", "22", "0.0.0.0/0", NULL, NB_RULE_KEEP },
		{ "sg-0123456789abcdef0", "false", "tcp", "x", "22", "0.0.0.0/0", NULL, NB_RULE_KEEP },
	};
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cJSON *r = rule(rows[i].gid, rows[i].egress, rows[i].proto, rows[i].from, rows[i].to, rows[i].v4,
				rows[i].v6);
		char why[256] = "";
		enum nb_rule_verdict v = nb_rule_decide(r, "sg-0123456789abcdef0", &S, why, sizeof(why));

		if (v != rows[i].want)
			fail_msg("row %zu: got %d (%s)", i, v, why);
		assert_true(why[0] != '\0');
		cJSON_Delete(r);
	}
}

static void test_net_block__allowed_ports_setting(void **st)
{
	struct nb_settings s;
	char err[256], why[256];
	cJSON *r = rule("sg-0123456789abcdef0", "false", "tcp", "8000", "8080", "0.0.0.0/0", NULL);

	(void)st;
	assert_int_equal(nb_settings_parse(&s, "443, 8000-8080", NULL, NULL, NULL, NULL, err, sizeof(err)), FB_OK);
	assert_int_equal(nb_rule_decide(r, "sg-0123456789abcdef0", &s, why, sizeof(why)), NB_RULE_KEEP);
	assert_int_equal(nb_settings_parse(&s, "443,8000-8079", NULL, NULL, NULL, NULL, err, sizeof(err)), FB_OK);
	assert_int_equal(nb_rule_decide(r, "sg-0123456789abcdef0", &s, why, sizeof(why)), NB_RULE_REVOKE);
	assert_non_null(strstr(why, "8080"));
	assert_int_equal(nb_settings_parse(&s, "", NULL, NULL, NULL, NULL, err, sizeof(err)), FB_OK);
	assert_int_equal(s.nallowed, 0);
	assert_int_equal(nb_settings_parse(&s, "22x", NULL, NULL, NULL, NULL, err, sizeof(err)), FB_E_CONFIG);
	assert_int_equal(nb_settings_parse(&s, "70000", NULL, NULL, NULL, NULL, err, sizeof(err)), FB_E_CONFIG);
	assert_int_equal(nb_settings_parse(&s, "90-80", NULL, NULL, NULL, NULL, err, sizeof(err)), FB_E_CONFIG);
	cJSON_Delete(r);
}

static void test_net_block__ipset_arn_setting(void **st)
{
	struct nb_settings s;
	char err[256];

	(void)st;
	assert_int_equal(nb_settings_parse(&s, NULL, "arn:aws:wafv2:eu-west-1:111111111111:regional/ipset/"
					   "blocked-ips/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111", NULL, NULL, NULL,
					   err, sizeof(err)), FB_OK);
	assert_string_equal(s.ipset_scope, "REGIONAL");
	assert_string_equal(s.ipset_name, "blocked-ips");
	assert_string_equal(s.ipset_id, "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111");
	assert_string_equal(s.ipset_region, "eu-west-1");
	assert_int_equal(nb_settings_parse(&s, NULL, "arn:aws:wafv2:us-east-1:111111111111:global/ipset/cf/id1",
					   NULL, NULL, NULL, err, sizeof(err)), FB_OK);
	assert_string_equal(s.ipset_scope, "CLOUDFRONT");
	assert_int_equal(nb_settings_parse(&s, NULL, "arn:aws:wafv2:eu-west-1:111111111111:global/ipset/cf/id1",
					   NULL, NULL, NULL, err, sizeof(err)), FB_E_CONFIG);
	assert_int_equal(nb_settings_parse(&s, NULL, "arn:aws:wafv2:eu-west-1:111111111111:regional/webacl/x/y",
					   NULL, NULL, NULL, err, sizeof(err)), FB_E_CONFIG);
	assert_int_equal(nb_settings_parse(&s, NULL, NULL, "yes", NULL, NULL, err, sizeof(err)), FB_E_CONFIG);
	assert_int_equal(nb_settings_parse(&s, NULL, NULL, "true", "100-120", NULL, err, sizeof(err)), FB_OK);
	assert_int_equal(s.nacl_min, 100);
	assert_int_equal(s.nacl_max, 120);
	assert_int_equal(nb_settings_parse(&s, NULL, NULL, NULL, "0-10", NULL, err, sizeof(err)), FB_E_CONFIG);
	assert_int_equal(nb_settings_parse(&s, NULL, NULL, NULL, NULL, "10.0.0.0/33", err, sizeof(err)), FB_E_CONFIG);
}

/* weapon: addresses whose blocking would cut the account's own traffic. */
static void test_net_block__weapon_ip_refusals(void **st)
{
	static const struct { const char *ip; int ok; const char *canon; } rows[] = {
		{ "203.0.113.5", 1, "203.0.113.5/32" },
		{ "203.0.113.5/32", 1, "203.0.113.5/32" },
		{ "2001:DB8:0:0::5", 1, "2001:db8::5/128" },
		{ "2001:db8::5/128", 1, "2001:db8::5/128" },
		{ "10.1.2.3", 0, NULL }, { "172.16.0.1", 0, NULL }, { "172.31.255.255", 0, NULL },
		{ "192.168.1.1", 0, NULL }, { "127.0.0.1", 0, NULL }, { "169.254.169.254", 0, NULL },
		{ "100.64.0.1", 0, NULL }, { "0.0.0.0", 0, NULL }, { "255.255.255.255", 0, NULL },
		{ "224.0.0.1", 0, NULL }, { "::1", 0, NULL }, { "::", 0, NULL }, { "fe80::1", 0, NULL },
		{ "fd00::1", 0, NULL }, { "::ffff:10.0.0.1", 0, NULL }, { "::ffff:203.0.113.5", 0, NULL },
		{ "ff02::1", 0, NULL },
		{ "198.51.100.20", 0, NULL },           /* FIREBREAK_NB_NEVER_BLOCK (setup) */
		{ "203.0.113.0/24", 0, NULL },          /* a range */
		{ "0.0.0.0/0", 0, NULL },
		{ "1.2.3", 0, NULL },
		{ "172.32.0.1", 1, "172.32.0.1/32" },   /* just outside 172.16/12 */
	};
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char canon[NB_IP_LEN], why[256] = "";
		int ok = nb_ip_parse(rows[i].ip, &S, canon, sizeof(canon), why, sizeof(why));

		if (ok != rows[i].ok)
			fail_msg("row %zu (%s): got %d (%s)", i, rows[i].ip, ok, why);
		if (ok)
			assert_string_equal(canon, rows[i].canon);
		else
			assert_true(why[0] != '\0');
	}
}

static void test_net_block__ipset_merge(void **st)
{
	cJSON *now = cJSON_Parse("[\"192.0.2.44/32\",\"2001:DB8::5/128\",\"198.51.100.0/24\"]"), *out = NULL;

	(void)st;
	/* new: every existing entry kept, in order, then the address */
	assert_int_equal(nb_ipset_merge(now, "203.0.113.5/32", 0, &out), 1);
	assert_int_equal(cJSON_GetArraySize(out), 4);
	assert_string_equal(cJSON_GetArrayItem(out, 0)->valuestring, "192.0.2.44/32");
	assert_string_equal(cJSON_GetArrayItem(out, 2)->valuestring, "198.51.100.0/24");
	assert_string_equal(cJSON_GetArrayItem(out, 3)->valuestring, "203.0.113.5/32");
	cJSON_Delete(out);
	/* present in another spelling: already */
	assert_int_equal(nb_ipset_merge(now, "2001:db8::5/128", 0, &out), 0);
	cJSON_Delete(out);
	/* unblock removes only that host, never the /24 that contains others */
	assert_int_equal(nb_ipset_merge(now, "2001:db8::5/128", 1, &out), 1);
	assert_int_equal(cJSON_GetArraySize(out), 2);
	cJSON_Delete(out);
	assert_int_equal(nb_ipset_merge(now, "198.51.100.7/32", 1, &out), 0);
	assert_int_equal(cJSON_GetArraySize(out), 3);
	cJSON_Delete(out);
	cJSON_Delete(now);
}

static void test_net_block__nacl_pick(void **st)
{
	cJSON *acl = cJSON_Parse("{\"networkAclId\":\"acl-0123456789abcdef0\",\"entrySet\":["
				 "{\"ruleNumber\":\"1\",\"protocol\":\"-1\",\"ruleAction\":\"deny\",\"egress\":\"false\",\"cidrBlock\":\"192.0.2.1/32\"},"
				 "{\"ruleNumber\":\"2\",\"protocol\":\"-1\",\"ruleAction\":\"deny\",\"egress\":\"true\",\"cidrBlock\":\"203.0.113.5/32\"},"
				 "{\"ruleNumber\":\"3\",\"protocol\":\"6\",\"ruleAction\":\"deny\",\"egress\":\"false\",\"cidrBlock\":\"203.0.113.5/32\"},"
				 "{\"ruleNumber\":\"100\",\"protocol\":\"-1\",\"ruleAction\":\"allow\",\"egress\":\"false\",\"cidrBlock\":\"0.0.0.0/0\"},"
				 "{\"ruleNumber\":\"32767\",\"protocol\":\"-1\",\"ruleAction\":\"deny\",\"egress\":\"false\",\"cidrBlock\":\"0.0.0.0/0\"}]}");
	int existing;

	(void)st;
	assert_int_equal(nb_nacl_pick(acl, "203.0.113.5/32", 1, 99, &existing), 2);
	assert_int_equal(existing, 0);
	assert_int_equal(nb_nacl_pick(acl, "192.0.2.1/32", 1, 99, &existing), 1);
	assert_int_equal(existing, 1);
	assert_int_equal(nb_nacl_pick(acl, "203.0.113.5/32", 1, 1, &existing), -1);
	cJSON_Delete(acl);
}

static void test_net_block__restore_args(void **st)
{
	cJSON *r = rule("sg-0123456789abcdef0", "false", "tcp", "22", "22", "0.0.0.0/0", NULL), *a, *j;
	char *s;

	(void)st;
	cJSON_AddStringToObject(r, "description", "ssh from anywhere");
	cJSON_AddItemToObject(r, "tagSet", cJSON_Parse("[{\"key\":\"Name\",\"value\":\"ssh\"}]"));
	a = nb_rule_restore_args(r);
	s = cJSON_PrintUnformatted(a);
	assert_string_equal(s, "{\"GroupId\":\"sg-0123456789abcdef0\",\"IpPermissions\":[{\"IpProtocol\":\"tcp\","
			    "\"FromPort\":22,\"ToPort\":22,\"IpRanges\":[{\"CidrIp\":\"0.0.0.0/0\",\"Description\":"
			    "\"ssh from anywhere\"}]}],\"TagSpecifications\":[{\"ResourceType\":\"security-group-rule\","
			    "\"Tags\":[{\"Key\":\"Name\",\"Value\":\"ssh\"}]}]}");
	free(s);
	j = nb_rule_json(r);
	assert_int_equal(cJSON_GetObjectItem(j, "FromPort")->valueint, 22);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "IsEgress")));
	cJSON_Delete(j);
	cJSON_Delete(a);
	cJSON_Delete(r);
}

/* net-block parses with kit_cidr_parse (the stricter rules; each row was
 * accepted, or differently encoded, by its own parser before). */
static void test_net_block__addresses_use_the_kit_parser(void **st)
{
	static const char *refused[] = {
		"203.0.113.5/032",          /* leading zero in the prefix */
		"2001:db8::5/0128",
		"203.0.113.5/08",
		NULL,                       /* no address */
	};
	struct nb_settings s2;
	struct nb_event ev;
	char why[256], err[256], canon[NB_IP_LEN];
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		why[0] = '\0';
		if (nb_ip_parse(refused[i], &S, canon, sizeof(canon), why, sizeof(why)))
			fail_msg("row %zu (%s): accepted as %s", i, refused[i] ? refused[i] : "NULL", canon);
		assert_true(why[0] != '\0');
	}
	/* the event's address list: the same parser */
	assert_int_equal(parse("{\"ip\":\"203.0.113.5/032\"}", &ev, why), FB_E_INVALID);
	nb_event_cleanup(&ev);
	/* the never-block list keeps the kit's family encoding, and an
	 * IPv4-mapped form of a protected address is protected too */
	assert_int_equal(nb_settings_parse(&s2, NULL, NULL, NULL, NULL, "198.51.100.0/24, 2001:db8:9::/48", err,
					   sizeof(err)), FB_OK);
	assert_int_equal(s2.never[0].family, AF_INET);
	assert_int_equal(s2.never[1].family, AF_INET6);
	assert_int_equal(nb_ip_parse("::ffff:198.51.100.7", &s2, canon, sizeof(canon), why, sizeof(why)), 0);
	assert_int_equal(nb_settings_parse(&s2, NULL, NULL, NULL, NULL, "198.51.100.0/024", err, sizeof(err)),
			 FB_E_CONFIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_net_block__parse_authorize),
		cmocka_unit_test(test_net_block__parse_modify),
		cmocka_unit_test(test_net_block__weapon_no_rule_ids_no_port_fallback),
		cmocka_unit_test(test_net_block__refuses_bad_input),
		cmocka_unit_test(test_net_block__parse_manual),
		cmocka_unit_test(test_net_block__parse_guardduty),
		cmocka_unit_test(test_net_block__weapon_outbound_finding_not_blocked),
		cmocka_unit_test(test_net_block__rule_decide),
		cmocka_unit_test(test_net_block__allowed_ports_setting),
		cmocka_unit_test(test_net_block__ipset_arn_setting),
		cmocka_unit_test(test_net_block__weapon_ip_refusals),
		cmocka_unit_test(test_net_block__addresses_use_the_kit_parser),
		cmocka_unit_test(test_net_block__ipset_merge),
		cmocka_unit_test(test_net_block__nacl_pick),
		cmocka_unit_test(test_net_block__restore_args),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
