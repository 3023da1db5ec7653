/* Unit tests of task-quarantine's pure stages (functions/task-quarantine/stages.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "../../functions/task-quarantine/stages.c"
#include "ecs.h"
#include "evidence.h"
#include "sg.h"

static cJSON *J(const char *s)
{
	cJSON *j = cJSON_Parse(s);

	assert_non_null(j);
	return j;
}

static void test_task_quarantine__parses_manual_and_finding(void **st)
{
	struct tq_target t;
	char why[256];
	cJSON *ev = J("{\"cluster\":\"prod\",\"task\":\"0123456789abcdef0123456789abcdef\",\"reason\":\"r\"}");

	(void)st;
	assert_int_equal(tq_parse_event(ev, 7.0, &t, why, sizeof(why)), TQ_PARSE_OK);
	assert_string_equal(t.cluster, "prod");
	assert_string_equal(t.task, "0123456789abcdef0123456789abcdef");
	assert_false(t.is_finding);
	cJSON_Delete(ev);
	ev = J("{\"source\":\"aws.guardduty\",\"detail-type\":\"GuardDuty Finding\",\"detail\":{\"id\":\"f1\","
	       "\"type\":\"Execution:Runtime/NewBinaryExecuted\",\"severity\":8.5,\"resource\":{\"resourceType\":\"ECSCluster\","
	       "\"ecsClusterDetails\":{\"arn\":\"arn:aws:ecs:us-east-1:111111111111:cluster/prod\",\"taskDetails\":"
	       "{\"arn\":\"arn:aws:ecs:us-east-1:111111111111:task/prod/ffffffffffffffffffffffffffffffff\"}}}}}");
	assert_int_equal(tq_parse_event(ev, 7.0, &t, why, sizeof(why)), TQ_PARSE_OK);
	assert_true(t.is_finding);
	assert_string_equal(t.task, "arn:aws:ecs:us-east-1:111111111111:task/prod/ffffffffffffffffffffffffffffffff");
	assert_int_equal(tq_parse_event(ev, 9.0, &t, why, sizeof(why)), TQ_PARSE_IGNORE);
	cJSON_Delete(ev);
}

static void test_task_quarantine__rejects_malformed(void **st)
{
	static const char *bad[] = {
		"{\"cluster\":\"prod\"}", "{\"cluster\":1,\"task\":\"a\"}", "{\"cluster\":\"p\",\"task\":\"a b\"}",
		"{\"cluster\":\"p\",\"task\":\"0123456789abcdef0123456789abcdef\",\"dryRun\":\"yes\"}", "[1]",
		"{\"cluster\":\"prod\",\"task\":\"https://evil.example/task\"}",
		"{\"cluster\":\"ecs.evil.example:443\",\"task\":\"0123456789abcdef0123456789abcdef\"}",
		"{\"source\":\"aws.guardduty\",\"detail-type\":\"GuardDuty Finding\",\"detail\":{\"severity\":8,"
		"\"resource\":{\"resourceType\":\"ECSCluster\",\"ecsClusterDetails\":{\"arn\":\"prod\",\"taskDetails\":"
		"{\"arn\":\"arn:aws:ecs:us-east-1:111111111111:task/prod/../../x\"}}}}}",
		"{\"source\":\"aws.kms\",\"detail-type\":\"GuardDuty Finding\",\"detail\":{}}",
		"{\"source\":\"aws.guardduty\",\"detail-type\":\"GuardDuty Finding\",\"detail\":{\"severity\":\"8\"}}",
		"{\"source\":\"aws.guardduty\",\"detail-type\":\"GuardDuty Finding\",\"detail\":{\"severity\":8,"
		"\"resource\":{\"resourceType\":\"ECSCluster\",\"ecsClusterDetails\":{\"taskDetails\":{}}}}}",
	};
	struct tq_target t;
	char why[256];
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *ev = J(bad[i]);

		assert_int_equal(tq_parse_event(ev, 7.0, &t, why, sizeof(why)), TQ_PARSE_INVALID);
		cJSON_Delete(ev);
	}
}

static void test_task_quarantine__eni_and_replacement(void **st)
{
	cJSON *out = J("{\"networkInterfaceSet\":[{\"networkInterfaceId\":\"eni-1\",\"vpcId\":\"vpc-1\","
		       "\"requesterManaged\":\"true\",\"groupSet\":[{\"groupId\":\"sg-q\",\"groupName\":\"firebreak-quarantine-fb-1\"}]}]}");
	cJSON *svc = J("{\"status\":\"ACTIVE\",\"desiredCount\":2,\"taskDefinition\":\"td:3\"}");
	struct sg_eni e;

	(void)st;
	assert_int_equal(sg_eni_from_json(out, &e), FB_OK);
	assert_true(e.requester_managed);
	assert_true(sg_all_prefixed(&e, TQ_SG_PREFIX));
	assert_true(tq_will_replace(svc, "td:3"));
	assert_false(tq_will_replace(svc, "td:4"));
	cJSON_Delete(out);
	out = J("{\"networkInterfaceSet\":\"\"}");
	assert_int_equal(sg_eni_from_json(out, &e), FB_E_NOTFOUND);
	cJSON_Delete(out);
	cJSON_Delete(svc);
}

static void test_task_quarantine__log_stream_and_gzip(void **st)
{
	char hex[65], b64[45];

	(void)st;
	/* the stream name, the log key and the gzip moved to runtime/cwl
	 * (tests/unit/test_cwl.c) */
	evidence_sha256("abc", 3, hex, b64);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_string_equal(b64, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
}

static void test_task_quarantine__manifest_state_403_is_missing(void **st)
{
	(void)st;
	assert_int_equal(evidence_manifest_state(FB_OK, 200), EVIDENCE_MANIFEST_PRESENT);
	assert_int_equal(evidence_manifest_state(FB_E_NOTFOUND, 404), EVIDENCE_MANIFEST_MISSING);
	assert_int_equal(evidence_manifest_state(FB_E_AWS, 404), EVIDENCE_MANIFEST_MISSING);
	/* S3 without s3:ListBucket: a missing key is 403 */
	assert_int_equal(evidence_manifest_state(FB_E_AWS, 403), EVIDENCE_MANIFEST_UNREADABLE);
	assert_int_equal(evidence_manifest_state(FB_E_AWS, 503), EVIDENCE_MANIFEST_UNKNOWN);
	assert_int_equal(evidence_manifest_state(FB_E_AWS, 0), EVIDENCE_MANIFEST_UNKNOWN);
}

/* issue 16 item 5: shared (or unknown) groups are revoked only with the opt-in. */
static void test_task_quarantine__shared_groups_need_the_opt_in(void **st)
{
	(void)st;
	assert_int_equal(tq_share_decide(1, 0, 0), TQ_SHARE_ALONE);
	assert_int_equal(tq_share_decide(1, 0, 1), TQ_SHARE_ALONE);
	assert_int_equal(tq_share_decide(1, 3, 0), TQ_SHARE_REFUSED);
	assert_int_equal(tq_share_decide(1, 3, 1), TQ_SHARE_ALLOWED);
	/* the sharing read failed: fail safe, counted as shared */
	assert_int_equal(tq_share_decide(0, 0, 0), TQ_SHARE_UNKNOWN_REFUSED);
	assert_int_equal(tq_share_decide(0, 0, 1), TQ_SHARE_ALLOWED);
}

static void test_task_quarantine__allow_shared_setting(void **st)
{
	struct tq_settings s;
	char err[200];

	(void)st;
	unsetenv("FIREBREAK_ALLOW_SHARED_SG_REVOKE");
	assert_int_equal(tq_settings_from_env(&s, err, sizeof(err)), FB_OK);
	assert_int_equal(s.allow_shared_revoke, 0);
	setenv("FIREBREAK_ALLOW_SHARED_SG_REVOKE", "true", 1);
	assert_int_equal(tq_settings_from_env(&s, err, sizeof(err)), FB_OK);
	assert_int_equal(s.allow_shared_revoke, 1);
	setenv("FIREBREAK_ALLOW_SHARED_SG_REVOKE", "false", 1);
	assert_int_equal(tq_settings_from_env(&s, err, sizeof(err)), FB_OK);
	assert_int_equal(s.allow_shared_revoke, 0);
	/* a typo is an error, never a silent yes (or a silent no) */
	setenv("FIREBREAK_ALLOW_SHARED_SG_REVOKE", "TRUE ", 1);
	assert_int_equal(tq_settings_from_env(&s, err, sizeof(err)), FB_E_CONFIG);
	assert_non_null(strstr(err, "FIREBREAK_ALLOW_SHARED_SG_REVOKE"));
	unsetenv("FIREBREAK_ALLOW_SHARED_SG_REVOKE");
}

/* issue 16 item 7: the task ARN's cluster wins. */
static void test_task_quarantine__cluster_from_the_task_arn(void **st)
{
	static const char *task = "arn:aws:ecs:us-east-1:111111111111:task/prod/0123456789abcdef0123456789abcdef";
	char out[512];

	(void)st;
	assert_int_equal(tq_cluster_resolve("prod", task, out, sizeof(out)), 0);
	assert_string_equal(out, "prod");
	assert_int_equal(tq_cluster_resolve("arn:aws:ecs:us-east-1:111111111111:cluster/prod", task, out, sizeof(out)), 0);
	assert_string_equal(out, "arn:aws:ecs:us-east-1:111111111111:cluster/prod");
	assert_int_equal(tq_cluster_resolve("staging", task, out, sizeof(out)), 1);
	assert_string_equal(out, "arn:aws:ecs:us-east-1:111111111111:cluster/prod");
	assert_int_equal(tq_cluster_resolve("prodx", task, out, sizeof(out)), 1);
	assert_int_equal(tq_cluster_resolve("pro", task, out, sizeof(out)), 1);
	/* same name, another account or region: not the same cluster */
	assert_int_equal(tq_cluster_resolve("arn:aws:ecs:us-east-1:222222222222:cluster/prod", task, out, sizeof(out)), 1);
	assert_string_equal(out, "arn:aws:ecs:us-east-1:111111111111:cluster/prod");
	assert_int_equal(tq_cluster_resolve("arn:aws:ecs:eu-west-1:111111111111:cluster/prod", task, out, sizeof(out)), 1);
	/* a task id or an old-format ARN names no cluster: the event's stands */
	assert_int_equal(tq_cluster_resolve("staging", "0123456789abcdef0123456789abcdef", out, sizeof(out)), 0);
	assert_string_equal(out, "staging");
	assert_int_equal(tq_cluster_resolve("staging", "arn:aws:ecs:us-east-1:111111111111:task/0123456789abcdef0123456789abcdef",
					    out, sizeof(out)), 0);
	assert_string_equal(out, "staging");
}

/* issue 16 item 6: per-attempt prefixes, manifests listing every attempt. */
static void test_task_quarantine__evidence_attempts(void **st)
{
	struct evidence_manifest_info mi;
	struct evidence_obj o;
	char out[200], hex[65], b64[45];
	cJSON *earlier, *m, *objs;

	(void)st;
	assert_int_equal(evidence_attempt_prefix("incidents/fb-1/", 1, out, sizeof(out)), 1);
	assert_string_equal(out, "incidents/fb-1/");
	assert_int_equal(evidence_attempt_prefix("incidents/fb-1/", 2, out, sizeof(out)), 1);
	assert_string_equal(out, "incidents/fb-1/attempt-2/");
	assert_int_equal(evidence_attempt_prefix("incidents/fb-1/", 0, out, sizeof(out)), 0);
	assert_int_equal(evidence_attempt_prefix("incidents/fb-1/", 12, out, 20), 0);

	evidence_sha256("abc", 3, hex, b64);
	assert_int_equal(evidence_sha256_b64_to_hex(b64, out), 1);
	assert_string_equal(out, hex);
	assert_int_equal(evidence_sha256_b64_to_hex(NULL, out), 0);
	assert_int_equal(evidence_sha256_b64_to_hex("AAAA", out), 0);
	assert_int_equal(evidence_sha256_b64_to_hex("ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa!=", out), 0);

	memset(&o, 0, sizeof(o));
	evidence_obj_set(&o, "incidents/fb-1/attempt-2/restore.json", strdup("[]"), 2);
	earlier = J("[{\"key\":\"incidents/fb-1/restore.json\",\"size\":9,\"sha256\":\"ab\",\"attempt\":1}]");
	memset(&mi, 0, sizeof(mi));
	mi.incident_id = "fb-1";
	mi.subject_name = "task_arn";
	mi.subject = "t";
	mi.bucket = "b";
	mi.prefix = "incidents/fb-1/";
	mi.written_by = "fn";
	mi.attempt = 2;
	mi.earlier = earlier;
	m = evidence_manifest_json(&mi, &o, 1);
	assert_non_null(m);
	assert_int_equal(cJSON_GetObjectItem(m, "attempt")->valueint, 2);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(m, "earlier_complete")));
	objs = cJSON_GetObjectItem(m, "objects");
	assert_int_equal(cJSON_GetArraySize(objs), 2);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(objs, 0), "key")->valuestring,
			    "incidents/fb-1/restore.json");
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(objs, 0), "attempt")->valueint, 1);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(objs, 1), "key")->valuestring,
			    "incidents/fb-1/attempt-2/restore.json");
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(objs, 1), "attempt")->valueint, 2);
	cJSON_Delete(m);
	cJSON_Delete(earlier);
	evidence_obj_cleanup(&o);
}

/* Issue 16 item 8: the exempt tag compares as prov_value_true; the task
 * role (override first) is the actor; the tag's sources are the task, its
 * service (new-format ARN from the task's) and its task definition. */
static void test_task_quarantine__exempt_tag_and_its_sources(void **st)
{
	cJSON *t = J("{\"taskArn\":\"arn:aws:ecs:eu-west-1:123456789012:task/prod/0123456789abcdef0123456789abcdef\","
		     "\"clusterArn\":\"arn:aws:ecs:eu-west-1:123456789012:cluster/prod\",\"group\":\"service:api\","
		     "\"taskDefinitionArn\":\"arn:aws:ecs:eu-west-1:123456789012:task-definition/api:3\","
		     "\"tags\":[{\"key\":\"firebreak:exempt\",\"value\":\" TRUE\\t\"}]}");
	cJSON *td = J("{\"taskRoleArn\":\"arn:aws:iam::123456789012:role/td-role\"}");
	struct ecs_task task;
	char value[260];
	struct kit_tag_source src[KIT_MAX_TAG_SOURCES];
	static const char *const values[][2] = { { "yes", "0" }, { "1", "0" }, { "truex", "0" }, { "True", "1" } };
	size_t i;

	(void)st;
	assert_int_equal(ecs_task_from_json(t, &task), FB_OK);
	assert_true(tq_exempt(t, value, sizeof(value)));
	assert_string_equal(value, " TRUE\t");
	assert_string_equal(task.task_role, "");
	ecs_task_apply_taskdef(&task, td, "eu-west-1");
	assert_string_equal(task.task_role, "arn:aws:iam::123456789012:role/td-role");
	assert_int_equal(ecs_tag_sources(&task, src), 3);
	assert_string_equal(src[0].arn, task.arn);
	assert_string_equal(src[1].arn, "arn:aws:ecs:eu-west-1:123456789012:service/prod/api");
	assert_string_equal(src[1].what, "service");
	assert_string_equal(src[2].arn, "arn:aws:ecs:eu-west-1:123456789012:task-definition/api:3");
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		cJSON *v = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(t, "tags"), 0), "value");

		cJSON_SetValuestring(v, values[i][0]);
		assert_int_equal(tq_exempt(t, value, sizeof(value)), values[i][1][0] == '1');
	}
	/* a RunTask override wins over the task definition's role; a
	 * standalone task (no service) has two sources */
	cJSON_DeleteItemFromObject(t, "group");
	cJSON_AddItemToObject(t, "overrides", J("{\"taskRoleArn\":\"arn:aws:iam::123456789012:role/override\"}"));
	assert_int_equal(ecs_task_from_json(t, &task), FB_OK);
	ecs_task_apply_taskdef(&task, td, "eu-west-1");
	assert_string_equal(task.task_role, "arn:aws:iam::123456789012:role/override");
	assert_int_equal(ecs_tag_sources(&task, src), 2);
	assert_string_equal(src[1].what, "task definition");
	cJSON_Delete(t);
	cJSON_Delete(td);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_task_quarantine__parses_manual_and_finding),
		cmocka_unit_test(test_task_quarantine__rejects_malformed),
		cmocka_unit_test(test_task_quarantine__eni_and_replacement),
		cmocka_unit_test(test_task_quarantine__log_stream_and_gzip),
		cmocka_unit_test(test_task_quarantine__manifest_state_403_is_missing),
		cmocka_unit_test(test_task_quarantine__shared_groups_need_the_opt_in),
		cmocka_unit_test(test_task_quarantine__allow_shared_setting),
		cmocka_unit_test(test_task_quarantine__cluster_from_the_task_arn),
		cmocka_unit_test(test_task_quarantine__evidence_attempts),
		cmocka_unit_test(test_task_quarantine__exempt_tag_and_its_sources),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
