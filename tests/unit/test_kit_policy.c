/*
 * test_kit_policy: the kit's settings and policy pieces (kit.h, "settings,
 * network ranges, the not-a-trigger result") and kit_end, none of which
 * makes an AWS call: bounded integer settings, comma lists, CIDR ranges,
 * numbers in AWS answers, the unpublished skip result, a line the decision
 * ends. root-verify's own tests (test_root_verify.c) drive them through
 * its settings and verdicts; these pin the kit's contract for the next
 * responder.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit.h"
#include "resp.h"

static void test_kit_policy__env_int(void **st)
{
	char err[160] = "";
	int v = -1;

	(void)st;
	unsetenv("KIT_TEST_INT");
	assert_int_equal(kit_env_int("KIT_TEST_INT", 7, 1, 10, &v, err, sizeof(err)), FB_OK);
	assert_int_equal(v, 7);
	setenv("KIT_TEST_INT", "", 1);
	assert_int_equal(kit_env_int("KIT_TEST_INT", 7, 1, 10, &v, err, sizeof(err)), FB_OK);
	assert_int_equal(v, 7);
	setenv("KIT_TEST_INT", "10", 1);
	assert_int_equal(kit_env_int("KIT_TEST_INT", 7, 1, 10, &v, err, sizeof(err)), FB_OK);
	assert_int_equal(v, 10);
	static const char *bad[] = { "11", "0", "3x", "3 ", "x", "99999999999999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("KIT_TEST_INT", bad[i], 1);
		assert_int_equal(kit_env_int("KIT_TEST_INT", 7, 1, 10, &v, err, sizeof(err)), FB_E_CONFIG);
		assert_string_equal(err, "setting 'KIT_TEST_INT' must be an integer in 1..10");
	}
	unsetenv("KIT_TEST_INT");
}

/* The severity threshold three responders read (was written three times;
 * instance-quarantine's copy let "nan" through: every finding acted on). */
static void test_kit_policy__env_severity(void **st)
{
	char err[160] = "";
	double v = -1;

	(void)st;
	unsetenv("KIT_TEST_SEV");
	assert_int_equal(kit_env_severity("KIT_TEST_SEV", 7.0, &v, err, sizeof(err)), FB_OK);
	assert_true(v == 7.0);
	setenv("KIT_TEST_SEV", "", 1);
	assert_int_equal(kit_env_severity("KIT_TEST_SEV", 7.0, &v, err, sizeof(err)), FB_OK);
	assert_true(v == 7.0);
	setenv("KIT_TEST_SEV", "5.5", 1);
	assert_int_equal(kit_env_severity("KIT_TEST_SEV", 7.0, &v, err, sizeof(err)), FB_OK);
	assert_true(v == 5.5);
	setenv("KIT_TEST_SEV", "0", 1);
	assert_int_equal(kit_env_severity("KIT_TEST_SEV", 7.0, &v, err, sizeof(err)), FB_OK);
	assert_true(v == 0.0);
	static const char *bad[] = { "10.5", "-1", "3x", "x", "nan", "inf", "1e400" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("KIT_TEST_SEV", bad[i], 1);
		assert_int_equal(kit_env_severity("KIT_TEST_SEV", 7.0, &v, err, sizeof(err)), FB_E_CONFIG);
		assert_string_equal(err, "setting 'KIT_TEST_SEV' must be a number from 0 to 10");
	}
	unsetenv("KIT_TEST_SEV");
	/* the gate the threshold feeds */
	char why2[160] = "";
	assert_int_equal(kit_severity_below(6.9, 7.0, why2, sizeof(why2)), 1);
	assert_string_equal(why2, "severity 6.9 below FIREBREAK_MIN_SEVERITY 7.0");
	why2[0] = '\0';
	assert_int_equal(kit_severity_below(7.0, 7.0, why2, sizeof(why2)), 0);
	assert_string_equal(why2, "");
}

static enum kit_event envelope(const char *json, const char **src, const char **dt, char *why)
{
	cJSON *ev = cJSON_Parse(json);
	enum kit_event k = kit_event_envelope(ev, src, dt, why, 160);

	/* src/dt borrow from ev: compared before it goes */
	if (k == KIT_EVENT_BRIDGE) {
		assert_string_equal(*src, "aws.guardduty");
		assert_string_equal(*dt, "GuardDuty Finding");
	}
	cJSON_Delete(ev);
	return k;
}

static void test_kit_policy__event_envelope(void **st)
{
	const char *src = "x", *dt = "x";
	char why[160] = "";

	(void)st;
	assert_int_equal(envelope("{\"task\":\"t\"}", &src, &dt, why), KIT_EVENT_MANUAL);
	assert_null(src);
	assert_null(dt);
	assert_int_equal(envelope("{\"source\":\"aws.guardduty\",\"detail-type\":\"GuardDuty Finding\"}",
				  &src, &dt, why), KIT_EVENT_BRIDGE);
	assert_int_equal(envelope("[1]", &src, &dt, why), KIT_EVENT_INVALID);
	assert_string_equal(why, "event is not a JSON object");
	assert_int_equal(envelope("{\"source\":\"aws.guardduty\"}", &src, &dt, why), KIT_EVENT_INVALID);
	assert_string_equal(why, "fields 'source' and 'detail-type' must be strings");
	assert_int_equal(envelope("{\"source\":1,\"detail-type\":\"GuardDuty Finding\"}", &src, &dt, why),
			 KIT_EVENT_INVALID);
	assert_int_equal(envelope("{\"source\":null}", &src, &dt, why), KIT_EVENT_INVALID);
}

static void test_kit_policy__guardduty_finding(void **st)
{
	static const struct { const char *ev, *why; } bad[] = {
		{ "{}", "missing object 'detail'" },
		{ "{\"detail\":{\"severity\":\"8\"}}", "field 'detail.severity' must be a number" },
		{ "{\"detail\":{\"severity\":8,\"id\":1}}", "field 'detail.id' must be a string" },
		{ "{\"detail\":{\"severity\":8,\"type\":[]}}", "field 'detail.type' must be a string" },
		{ "{\"detail\":{\"severity\":8,\"resource\":\"x\"}}", "missing object 'detail.resource'" },
	};
	struct kit_gd_finding f;
	char why[160];

	(void)st;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *ev = cJSON_Parse(bad[i].ev);

		why[0] = '\0';
		assert_int_equal(kit_guardduty_finding(ev, &f, why, sizeof(why)), -1);
		assert_string_equal(why, bad[i].why);
		cJSON_Delete(ev);
	}
	cJSON *ev = cJSON_Parse("{\"detail\":{\"severity\":8.5,\"resource\":{\"resourceType\":\"Instance\"}}}");
	assert_int_equal(kit_guardduty_finding(ev, &f, why, sizeof(why)), 0);
	assert_true(f.severity == 8.5);
	assert_string_equal(f.id, "");
	assert_string_equal(f.type, "");
	assert_ptr_equal(f.resource, cJSON_GetObjectItem(f.detail, "resource"));
	cJSON_Delete(ev);
}

static void test_kit_policy__list_next(void **st)
{
	const char *p = " a ,, b\t,  ,ccc,";
	char item[4];

	(void)st;
	assert_int_equal(kit_list_next(&p, item, sizeof(item)), 1);
	assert_string_equal(item, "a");
	assert_int_equal(kit_list_next(&p, item, sizeof(item)), 1);
	assert_string_equal(item, "b");
	assert_int_equal(kit_list_next(&p, item, sizeof(item)), 1);
	assert_string_equal(item, "ccc");
	assert_int_equal(kit_list_next(&p, item, sizeof(item)), 0);
	assert_int_equal(kit_list_next(&p, item, sizeof(item)), 0);
	p = "abcd,e";
	assert_int_equal(kit_list_next(&p, item, sizeof(item)), -1);
	assert_string_equal(item, "abc");
	p = "";
	assert_int_equal(kit_list_next(&p, item, sizeof(item)), 0);
}

static void test_kit_policy__cidrs(void **st)
{
	struct kit_cidr c[3];
	size_t n = 99;
	char err[200];

	(void)st;
	assert_int_equal(kit_cidrs_parse(NULL, "S", c, 3, &n, err, sizeof(err)), FB_OK);
	assert_int_equal(n, 0);
	assert_int_equal(kit_cidrs_parse(" 10.0.0.0/8 , 192.0.2.7,2001:db8::/32", "S", c, 3, &n, err, sizeof(err)),
			 FB_OK);
	assert_int_equal(n, 3);
	assert_int_equal(kit_ip_in(c, n, "10.200.0.1"), KIT_IP_IN);
	assert_int_equal(kit_ip_in(c, n, "192.0.2.7"), KIT_IP_IN);
	assert_int_equal(kit_ip_in(c, n, "192.0.2.8"), KIT_IP_OUT);
	assert_int_equal(kit_ip_in(c, n, "::ffff:10.1.2.3"), KIT_IP_IN);  /* IPv4-mapped */
	assert_int_equal(kit_ip_in(c, n, "2001:db8:1::1"), KIT_IP_IN);
	assert_int_equal(kit_ip_in(c, n, "2001:db9::1"), KIT_IP_OUT);
	assert_int_equal(kit_ip_in(c, n, "AWS Internal"), KIT_IP_NOT_AN_IP);
	assert_int_equal(kit_ip_in(c, n, ""), KIT_IP_NOT_AN_IP);
	assert_int_equal(kit_ip_in(c, n, NULL), KIT_IP_NOT_AN_IP);
	assert_int_equal(kit_cidrs_parse("10.0.0.0/33", "S", c, 3, &n, err, sizeof(err)), FB_E_CONFIG);
	assert_string_equal(err, "cannot parse 'S' item '10.0.0.0/33'");
	assert_int_equal(kit_cidrs_parse("1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4", "S", c, 3, &n, err, sizeof(err)),
			 FB_E_CONFIG);
	assert_string_equal(err, "'S' has more than 3 items");
	assert_int_equal(kit_cidrs_parse("1111111111111111111111111111111111111111111111111111111111111111111111111111111.0/8",
					 "S", c, 3, &n, err, sizeof(err)), FB_E_CONFIG);
	assert_string_equal(err, "cannot parse 'S': item too long");
	assert_int_equal(kit_cidr_parse("10.0.0.0/", &c[0]), -1);
	assert_int_equal(kit_cidr_parse("fe80::/128", &c[0]), 0);
	assert_int_equal(kit_cidr_parse("fe80::/129", &c[0]), -1);
}

static void test_kit_policy__json_long(void **st)
{
	cJSON *j = cJSON_Parse("[1, \"42\", \"-3\", 1e300, \"4x\", \"\", true, 2.9]");
	long v = 0;

	(void)st;
	assert_int_equal(kit_json_long(cJSON_GetArrayItem(j, 0), &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(kit_json_long(cJSON_GetArrayItem(j, 1), &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(kit_json_long(cJSON_GetArrayItem(j, 2), &v), 0);
	assert_int_equal(v, -3);
	assert_int_equal(kit_json_long(cJSON_GetArrayItem(j, 3), &v), -1);
	assert_int_equal(kit_json_long(cJSON_GetArrayItem(j, 4), &v), -1);
	assert_int_equal(kit_json_long(cJSON_GetArrayItem(j, 5), &v), -1);
	assert_int_equal(kit_json_long(cJSON_GetArrayItem(j, 6), &v), -1);
	assert_int_equal(kit_json_long(cJSON_GetArrayItem(j, 7), &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(kit_json_long(NULL, &v), -1);
	cJSON_Delete(j);
}

static void collect(void *ctx, const char *key, const cJSON *v)
{
	char *out = ctx;
	size_t l = strlen(out);

	snprintf(out + l, 256 - l, "%s=%s;", key, cJSON_IsString(v) ? v->valuestring : "#");
}

/* Every shape the XML layer gives a query map, entries in document order. */
static void test_kit_policy__map_each(void **st)
{
	static const char *shapes[][2] = {
		{ "{\"entry\":[{\"key\":\"A\",\"value\":\"1\"},{\"key\":\"B\",\"value\":\"0\"}]}", "A=1;B=0;" },
		{ "[{\"key\":\"A\",\"value\":\"1\"},{\"key\":\"B\",\"value\":\"0\"}]", "A=1;B=0;" },
		{ "{\"entry\":{\"key\":\"A\",\"value\":\"1\"}}", "A=1;" },
		{ "{\"A\":\"1\",\"B\":2}", "A=1;B=#;" },
		{ "{\"entry\":[{\"key\":5,\"value\":\"1\"}]}", "" },
		{ "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"key\":\"deep\",\"value\":\"1\"}}}}}}", "" },
		{ "\"SummaryMap\"", "" },
	};
	(void)st;
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		char got[256] = "";
		cJSON *j = cJSON_Parse(shapes[i][0]);

		assert_non_null(j);
		kit_map_each(j, collect, got);
		assert_string_equal(got, shapes[i][1]);
		cJSON_Delete(j);
	}
	kit_map_each(NULL, collect, NULL);
}

/* One entry by name, in any of those shapes; the last of a repeated name. */
static void test_kit_policy__map_get(void **st)
{
	cJSON *j = cJSON_Parse("{\"entry\":[{\"key\":\"A\",\"value\":\"1\"},{\"key\":\"B\",\"value\":\"0\"},"
			       "{\"key\":\"A\",\"value\":\"3\"}]}");
	cJSON *f = cJSON_Parse("{\"AccountMFAEnabled\":1}");

	(void)st;
	assert_string_equal(kit_map_get(j, "A")->valuestring, "3");
	assert_string_equal(kit_map_get(j, "B")->valuestring, "0");
	assert_null(kit_map_get(j, "C"));
	assert_null(kit_map_get(NULL, "A"));
	assert_int_equal(kit_map_get(f, "AccountMFAEnabled")->valueint, 1);
	cJSON_Delete(j);
	cJSON_Delete(f);
}

static const cJSON *action(const cJSON *rep, int i)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(rep, "actions"), i);
}

/* Before the run: the line ends as the decision says and nothing is sent
 * (the kit has no client: a call would crash); a write so ended leaves no
 * undo. After a settle, the same step's line can be ended again. */
static void test_kit_policy__end_before_the_run(void **st)
{
	struct resp_config cfg;
	struct lr_context ctx;
	struct resp r;
	struct kit k;
	struct aws_error e;

	(void)st;
	memset(&cfg, 0, sizeof(cfg));
	memset(&ctx, 0, sizeof(ctx));
	memset(&e, 0, sizeof(e));
	snprintf(e.message, sizeof(e.message), "connection reset");
	assert_int_equal(resp_begin(&r, &cfg, "test", &ctx), FB_OK);
	kit_init(&k, &r, NULL);
	struct kit_round *rd = kit_round_new(&k);
	struct kit_step *rs = kit_add(rd, &(struct kit_spec){ .step = "read", .service = "cloudtrail",
		.op = "LookupEvents", .target = "us-west-2", .kind = RESP_READ });
	struct kit_step *ws = kit_add(rd, &(struct kit_spec){ .step = "write", .service = "kms",
		.op = "EnableKey", .target = "k", .kind = RESP_WRITE,
		.restore = kit_undo("kms:DisableKey", NULL) });
	struct kit_step *fs = kit_add(rd, &(struct kit_spec){ .step = "fail", .service = "kms",
		.op = "DescribeKey", .target = "k", .kind = RESP_READ });
	kit_end(rs, RESP_DONE, NULL, "bound reached before this %s", "region");
	kit_end(ws, RESP_DONE, NULL, "not needed");
	kit_end(fs, RESP_FAILED, &e, "no client");
	assert_int_equal(kit_run(rd), FB_OK);
	kit_round_free(rd);
	kit_cleanup(&k);

	cJSON *rep = resp_report_json(&r);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(action(rep, 0), "status")), "done");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(action(rep, 0), "detail")),
			    "bound reached before this region");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(action(rep, 1), "status")), "done");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(action(rep, 2), "status")), "failed");
	/* an error without a code still shows (the message, with the cause) */
	assert_non_null(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(action(rep, 2), "error")),
			       "connection reset"));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(rep, "restore")), 0);
	assert_int_equal(resp_failed(&r), 1);
	cJSON_Delete(rep);
	resp_cleanup(&r);
}

static void test_kit_policy__finding(void **st)
{
	struct resp_config cfg;
	struct lr_context ctx;
	struct resp r, r2;

	(void)st;
	memset(&cfg, 0, sizeof(cfg));
	memset(&ctx, 0, sizeof(ctx));
	assert_int_equal(resp_begin(&r, &cfg, "test", &ctx), FB_OK);
	assert_int_equal(resp_begin(&r2, &cfg, "test", &ctx), FB_OK);
	cJSON *f = kit_finding(&r, "f-1", "Backdoor:EC2/C&CActivity.B", 8.0, "i-0123");
	assert_non_null(f);
	assert_ptr_equal(f, cJSON_GetObjectItem(r.extra, "finding"));
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(f, "id")), "f-1");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(f, "type")), "Backdoor:EC2/C&CActivity.B");
	assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(f, "severity")) == 8.0);
	/* the same finding id and resource: the same incident, whatever the run */
	kit_finding(&r2, "f-1", "x", 5.0, "i-0123");
	assert_string_equal(r.incident_id, r2.incident_id);
	resp_cleanup(&r2);
	/* no id: the incident stays the run's own */
	assert_int_equal(resp_begin(&r2, &cfg, "test", &ctx), FB_OK);
	char before[sizeof(r2.incident_id)];
	snprintf(before, sizeof(before), "%s", r2.incident_id);
	kit_finding(&r2, "", "x", 5.0, "i-0123");
	assert_string_equal(r2.incident_id, before);
	/* another finding: another incident */
	kit_finding(&r2, "f-2", "x", 5.0, "i-0123");
	assert_string_not_equal(r2.incident_id, before);
	assert_string_not_equal(r2.incident_id, r.incident_id);
	resp_cleanup(&r2);
	resp_cleanup(&r);
}

static void test_kit_policy__skip_result_is_a_p3_report_not_published(void **st)
{
	struct resp_config cfg;
	struct lr_context ctx;
	struct lr_result out;
	cJSON *ev = cJSON_Parse("{\"id\":\"e-1\",\"source\":\"aws.cloudwatch\",\"detail-type\":\"x\","
				"\"account\":\"111122223333\",\"region\":\"us-east-1\",\"detail\":{}}");

	(void)st;
	memset(&cfg, 0, sizeof(cfg));
	memset(&ctx, 0, sizeof(ctx));
	lr_result_init(&out);
	/* a topic is configured: the skip result still publishes nothing (no
	 * client is passed, there is nothing to publish with) */
	cfg.topic_arn = (char *)"arn:aws:sns:us-east-1:111122223333:t";
	assert_int_equal(kit_skip_result(&cfg, "fn", ev, &ctx, "not ours", &out), FB_OK);
	assert_int_equal(out.is_error, 0);
	cJSON *rep = cJSON_ParseWithLength((const char *)out.body.data, out.body.len);
	assert_non_null(rep);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(rep, "verdict")), "skipped: not ours");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(rep, "severity")), "P3");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(rep, "function")), "fn");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(rep, "actions")), 0);
	cJSON_Delete(rep);
	cJSON_Delete(ev);
	lr_result_cleanup(&out);
}

/* kit_cidr_parse is the one CIDR parser (root-verify, net-block): where
 * the two parsers differed, the stricter answer, one row each. */
static void test_kit_policy__cidr_parse_the_one_strict_parser(void **st)
{
	struct kit_cidr c, a;
	char ranges[] = "203.0.113.0/24";
	struct kit_cidr set[1];
	size_t n;
	char err[200];

	(void)st;
	/* 1. NULL: refused (net-block's parser did; the kit's read through it) */
	assert_int_equal(kit_cidr_parse(NULL, &c), -1);
	assert_int_equal(kit_cidr_parse("10.0.0.0/8", NULL), -1);
	/* 2. leading zeros: a prefix is "0" or starts 1-9 ("/0008" passed the
	 * kit's, "/08" and "/032" passed both); an IPv4 octet never does */
	assert_int_equal(kit_cidr_parse("10.0.0.0/0008", &c), -1);
	assert_int_equal(kit_cidr_parse("10.0.0.0/08", &c), -1);
	assert_int_equal(kit_cidr_parse("192.0.2.7/032", &c), -1);
	assert_int_equal(kit_cidr_parse("2001:db8::/032", &c), -1);
	assert_int_equal(kit_cidr_parse("010.0.0.1", &c), -1);
	assert_int_equal(kit_cidr_parse("::ffff:010.0.0.1", &c), -1);
	assert_int_equal(kit_cidr_parse("0.0.0.0/0", &c), 0);
	assert_int_equal(c.prefix, 0);
	assert_int_equal(kit_cidr_parse("2001:0db8::1", &c), 0);   /* IPv6 groups may */
	assert_int_equal(kit_cidrs_parse("10.0.0.0/08", "S", set, 1, &n, err, sizeof(err)), FB_E_CONFIG);
	/* 3. IPv4-mapped IPv6: parsed as written; inside the IPv4 ranges its
	 * IPv4 address is in (net-block's containment said no, kit_ip_in yes) */
	assert_int_equal(kit_cidr_parse("::ffff:203.0.113.5", &a), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(a.prefix, 128);
	assert_int_equal(kit_cidr_parse(ranges, &c), 0);
	assert_int_equal(kit_cidr_contains(&c, &a), 1);
	assert_int_equal(kit_cidr_parse("::ffff:198.51.100.5", &a), 0);
	assert_int_equal(kit_cidr_contains(&c, &a), 0);
	assert_int_equal(kit_cidr_parse("::ffff:0:0/96", &c), 0);  /* a mapped range is IPv6 */
	assert_int_equal(kit_cidr_parse("203.0.113.5", &a), 0);
	assert_int_equal(kit_cidr_contains(&c, &a), 0);
	/* 4. a bare address is a host route */
	assert_int_equal(kit_cidr_parse("203.0.113.5", &c), 0);
	assert_int_equal(c.prefix, 32);
	assert_int_equal(kit_cidr_parse("2001:db8::5", &c), 0);
	assert_int_equal(c.prefix, 128);
	assert_int_equal(kit_cidr_parse("203.0.113.0/24", &c), 0);
	assert_int_equal(kit_cidr_contains(&c, &a), 1);
	assert_int_equal(kit_cidr_contains(&a, &c), 0);            /* a /24 is not inside a host */
	assert_int_equal(kit_cidr_parse("203.0.113.5/", &c), -1);
	/* 5. the family is AF_INET / AF_INET6 (net-block's said 4 / 6) */
	assert_int_equal(kit_cidr_parse("192.0.2.1", &c), 0);
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(kit_cidr_parse("::1", &c), 0);
	assert_int_equal(c.family, AF_INET6);
	/* kit_ip_in is the same rules: an address, not a range */
	assert_int_equal(kit_cidr_parse("192.0.2.0/24", &set[0]), 0);
	assert_int_equal(kit_ip_in(set, 1, "192.0.2.0/24"), KIT_IP_NOT_AN_IP);
	assert_int_equal(kit_ip_in(set, 1, "192.0.2.9"), KIT_IP_IN);
}

/* issue 17: GuardDuty's resource shapes, shared by task-quarantine and
 * instance-quarantine: about it, about something else (skip), malformed. */
static void test_kit_policy__guardduty_resources(void **state)
{
	static const char *const ecs =
		"{\"detail\":{\"severity\":8,\"type\":\"T\",\"resource\":{\"resourceType\":\"ECSCluster\","
		"\"ecsClusterDetails\":{\"name\":\"prod\",\"taskDetails\":{\"arn\":\"arn:aws:ecs:us-east-1:111111111111:task/prod/x\"}}}}}";
	struct kit_gd_finding f;
	const char *cluster, *task, *inst;
	char why[200], reason[64];
	cJSON *ev = cJSON_Parse(ecs);

	(void)state;
	assert_int_equal(kit_guardduty_finding(ev, &f, why, sizeof(why)), 0);
	assert_int_equal(kit_gd_ecs_task(&f, &cluster, &task, why, sizeof(why)), 0);
	assert_string_equal(cluster, "prod");
	assert_string_equal(task, "arn:aws:ecs:us-east-1:111111111111:task/prod/x");
	assert_int_equal(kit_gd_instance(&f, &inst, why, sizeof(why)), 1);
	assert_string_equal(why, "finding is not about an EC2 instance (resourceType 'ECSCluster')");
	kit_gd_reason(reason, sizeof(reason), f.type, f.severity);
	assert_string_equal(reason, "GuardDuty T severity 8.0");
	kit_gd_reason(reason, sizeof(reason), "", 7.25);
	assert_string_equal(reason, "GuardDuty finding severity 7.2");
	cJSON_Delete(ev);
	ev = cJSON_Parse("{\"detail\":{\"severity\":8,\"resource\":{\"resourceType\":\"Instance\","
			 "\"instanceDetails\":{\"instanceId\":\"i-0123456789abcdef0\"}}}}");
	assert_int_equal(kit_guardduty_finding(ev, &f, why, sizeof(why)), 0);
	assert_int_equal(kit_gd_instance(&f, &inst, why, sizeof(why)), 0);
	assert_string_equal(inst, "i-0123456789abcdef0");
	assert_int_equal(kit_gd_ecs_task(&f, &cluster, &task, why, sizeof(why)), 1);
	assert_string_equal(why, "finding is not about an ECS task (resourceType 'Instance')");
	cJSON_Delete(ev);
	ev = cJSON_Parse("{\"detail\":{\"severity\":8,\"resource\":{\"resourceType\":\"ECSCluster\","
			 "\"ecsClusterDetails\":{\"taskDetails\":\"x\"}}}}");
	assert_int_equal(kit_guardduty_finding(ev, &f, why, sizeof(why)), 0);
	assert_int_equal(kit_gd_ecs_task(&f, &cluster, &task, why, sizeof(why)), -1);
	cJSON_Delete(ev);
	ev = cJSON_Parse("{\"detail\":{\"severity\":8,\"resource\":{\"resourceType\":\"ECSCluster\","
			 "\"ecsClusterDetails\":{\"taskDetails\":{}}}}}");
	assert_int_equal(kit_guardduty_finding(ev, &f, why, sizeof(why)), 0);
	assert_int_equal(kit_gd_ecs_task(&f, &cluster, &task, why, sizeof(why)), -1);
	cJSON_Delete(ev);
	ev = cJSON_Parse("{\"detail\":{\"severity\":8,\"resource\":{\"resourceType\":\"Instance\"}}}");
	assert_int_equal(kit_guardduty_finding(ev, &f, why, sizeof(why)), 0);
	assert_int_equal(kit_gd_instance(&f, &inst, why, sizeof(why)), -1);
	cJSON_Delete(ev);
}

/* issue 17: a two-valued setting: off when unset, a typo refused. */
static void test_kit_policy__env_choice(void **state)
{
	char err[200];
	int v = 7;

	(void)state;
	unsetenv("FB_TEST_CHOICE");
	assert_int_equal(kit_env_choice("FB_TEST_CHOICE", "false", "true", &v, err, sizeof(err)), FB_OK);
	assert_int_equal(v, 0);
	setenv("FB_TEST_CHOICE", "true", 1);
	assert_int_equal(kit_env_choice("FB_TEST_CHOICE", "false", "true", &v, err, sizeof(err)), FB_OK);
	assert_int_equal(v, 1);
	setenv("FB_TEST_CHOICE", "false", 1);
	assert_int_equal(kit_env_choice("FB_TEST_CHOICE", "false", "true", &v, err, sizeof(err)), FB_OK);
	assert_int_equal(v, 0);
	setenv("FB_TEST_CHOICE", "", 1);
	assert_int_equal(kit_env_choice("FB_TEST_CHOICE", "false", "true", &v, err, sizeof(err)), FB_OK);
	assert_int_equal(v, 0);
	setenv("FB_TEST_CHOICE", "True", 1);
	assert_int_equal(kit_env_choice("FB_TEST_CHOICE", "false", "true", &v, err, sizeof(err)), FB_E_CONFIG);
	assert_string_equal(err, "setting 'FB_TEST_CHOICE' must be false or true");
	unsetenv("FB_TEST_CHOICE");
}

/* issue 17: kit_obj's string members (a NULL value left out). */
static void test_kit_policy__obj(void **state)
{
	cJSON *o = kit_obj("cluster", "prod", "skip", KIT_END, "task", "t-1", KIT_END);
	char *txt = cJSON_PrintUnformatted(o);

	(void)state;
	assert_string_equal(txt, "{\"cluster\":\"prod\",\"task\":\"t-1\"}");
	cJSON_free(txt);
	cJSON_Delete(o);
	o = kit_obj(KIT_END);
	assert_int_equal(cJSON_GetArraySize(o), 0);
	cJSON_Delete(o);
}

/* issue 17: a finding's own account and region win over the envelope's. */
static void test_kit_policy__event_where(void **state)
{
	cJSON *ev = cJSON_Parse("{\"account\":\"999999999999\",\"region\":\"us-east-1\","
				"\"detail\":{\"accountId\":\"111111111111\",\"region\":\"eu-west-1\"}}");

	(void)state;
	assert_string_equal(kit_event_account(ev), "111111111111");
	assert_string_equal(kit_event_region(ev), "eu-west-1");
	cJSON_Delete(ev);
	ev = cJSON_Parse("{\"account\":\"999999999999\",\"region\":\"us-east-1\",\"detail\":{}}");
	assert_string_equal(kit_event_account(ev), "999999999999");
	assert_string_equal(kit_event_region(ev), "us-east-1");
	cJSON_Delete(ev);
	ev = cJSON_Parse("{}");
	assert_null(kit_event_account(ev));
	assert_null(kit_event_region(ev));
	cJSON_Delete(ev);
}

/* The steering envelope fields (root-verify, kms-guard): refused before
 * anything else is read. */
static void test_kit_policy__envelope_check(void **st)
{
	static const struct { const char *ev, *why; } rows[] = {
		{ "{}", NULL },
		{ "{\"dryRun\":true,\"account\":\"111111111111\",\"region\":\"us-gov-west-1\"}", NULL },
		{ "{\"account\":null,\"region\":null}", NULL },
		{ "{\"dryRun\":\"false\"}", "field 'dryRun' must be a boolean" },
		{ "{\"dryRun\":0}", "field 'dryRun' must be a boolean" },
		{ "{\"account\":\"111111111111:role/Admin\"}", "field 'account' must be a 12-digit account id" },
		{ "{\"account\":111111111111}", "field 'account' must be a 12-digit account id" },
		{ "{\"region\":\"us-east-1.evil.example:443\"}", "field 'region' must be a region name" },
		{ "{\"region\":[\"us-east-1\"]}", "field 'region' must be a region name" },
	};
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cJSON *ev = cJSON_Parse(rows[i].ev);
		char why[120] = "";
		int rc = kit_envelope_check(ev, why, sizeof(why));

		if (rows[i].why) {
			assert_int_equal(rc, -1);
			assert_string_equal(why, rows[i].why);
		} else if (rc != 0) {
			fail_msg("row %zu refused: %s", i, why);
		}
		cJSON_Delete(ev);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kit_policy__event_where),
		cmocka_unit_test(test_kit_policy__obj),
		cmocka_unit_test(test_kit_policy__env_choice),
		cmocka_unit_test(test_kit_policy__guardduty_resources),
		cmocka_unit_test(test_kit_policy__env_int),
		cmocka_unit_test(test_kit_policy__env_severity),
		cmocka_unit_test(test_kit_policy__event_envelope),
		cmocka_unit_test(test_kit_policy__guardduty_finding),
		cmocka_unit_test(test_kit_policy__list_next),
		cmocka_unit_test(test_kit_policy__cidrs),
		cmocka_unit_test(test_kit_policy__cidr_parse_the_one_strict_parser),
		cmocka_unit_test(test_kit_policy__envelope_check),
		cmocka_unit_test(test_kit_policy__json_long),
		cmocka_unit_test(test_kit_policy__map_each),
		cmocka_unit_test(test_kit_policy__map_get),
		cmocka_unit_test(test_kit_policy__end_before_the_run),
		cmocka_unit_test(test_kit_policy__finding),
		cmocka_unit_test(test_kit_policy__skip_result_is_a_p3_report_not_published),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
