/*
 * test_redeploy: runtime/redeploy (rdp_) — the pure stages (token, services
 * list, version stages, rollout state; moved here with their code from
 * test_leak_rotate.c) and the phases over the real kit and AWS layer with
 * a fake HTTP transport on a virtual clock (kit_fake.h, shared with test_kit.c):
 * a put whose value never reaches the report, its undo recorded before the
 * write, the wait, the redeploy and the rollout followed to the end or the
 * deadline.
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

#include "aws.h"
#include "http.h"
#include "kit.h"
#include "redeploy.h"
#include "resp.h"

#include "kit_fake.h"
#include "wipecheck.h"

#define SECRET "arn:aws:secretsmanager:us-east-1:111111111111:secret:app-client-AbCdEf"
#define VALUE "s3cr3t-client-value-0123456789abcdef"

static void fake_sleep(int64_t ms)
{
	F.now += ms;
}

static void rdp_up(struct rdp *d, struct world *w, int64_t deadline_ms)
{
	rdp_init(d, &w->k, 250, deadline_ms, NULL);
	d->sleep_ms = fake_sleep;
	d->list_name = "consumer services";
}

/* ---- pure stages -------------------------------------------------------------- */

static void test_redeploy__token_services_and_deployments(void **s)
{
	char a[37], b[37], dep[64];
	struct rdp_svc *sv = NULL;
	size_t nsv = 0, cap = 0;
	cJSON *warnings = cJSON_CreateArray(), *d;

	(void)s;
	rdp_token("fb-1", "arn:s", "v1", a);
	rdp_token("fb-1", "arn:s", "v1", b);
	assert_string_equal(a, b);               /* a retry sends the same token */
	assert_int_equal(strlen(a), 36);
	assert_int_equal(a[14], '5');
	rdp_token("fb-2", "arn:s", "v1", b);
	assert_string_not_equal(a, b);
	assert_int_equal(rdp_services_parse("prod/a, bad, /x, prod/b", 3, "arn:s", "firebreak:ecs-services", &sv,
					    &nsv, &cap, warnings), FB_OK);
	assert_int_equal(nsv, 2);
	assert_string_equal(sv[1].cluster, "prod");
	assert_string_equal(sv[1].service, "b");
	assert_string_equal(sv[1].target, "prod/b");
	assert_int_equal(sv[1].secret, 3);
	assert_int_equal(cJSON_GetArraySize(warnings), 2);
	assert_non_null(strstr(cJSON_GetArrayItem(warnings, 0)->valuestring,
			       "firebreak:ecs-services entry 'bad' is not cluster/service"));
	free(sv);
	d = cJSON_Parse("{\"services\":[{\"deployments\":[{\"id\":\"ecs-svc/1\",\"status\":\"PRIMARY\","
			"\"createdAt\":1700000100}]}]}");
	assert_true(rdp_deployed_since(d, 1700000000.0, dep, sizeof(dep)));
	assert_string_equal(dep, "ecs-svc/1");
	assert_false(rdp_deployed_since(d, 1700000200.0, dep, sizeof(dep)));
	assert_false(rdp_deployed_since(d, 0, dep, sizeof(dep)));
	cJSON_Delete(d);
	cJSON_Delete(warnings);
}

/* More than RDP_MAX_SERVICES entries: the first ones, and a warning. */
static void test_redeploy__services_capped(void **s)
{
	char list[2000] = "";
	struct rdp_svc *sv = NULL;
	size_t nsv = 0, cap = 0, i;
	cJSON *warnings = cJSON_CreateArray();

	(void)s;
	for (i = 0; i < RDP_MAX_SERVICES + 5; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "c/s%zu,", i);
	assert_int_equal(rdp_services_parse(list, 0, "arn:s", "x", &sv, &nsv, &cap, warnings), FB_OK);
	assert_int_equal(nsv, RDP_MAX_SERVICES);
	assert_int_equal(cJSON_GetArraySize(warnings), 1);
	free(sv);
	cJSON_Delete(warnings);
}

/* waiting: pending -> current; gone -> failed (moved from test_leak_rotate) */
static void test_redeploy__wait_check(void **s)
{
	struct rdp_secret j;
	char detail[300];
	cJSON *d;

	(void)s;
	memset(&j, 0, sizeof(j));
	snprintf(j.old_version, sizeof(j.old_version), "v1");
	snprintf(j.version, sizeof(j.version), "v2");
	d = cJSON_Parse("{\"VersionIdsToStages\":{\"v1\":[\"AWSCURRENT\"],\"v2\":[\"AWSPENDING\"]}}");
	assert_int_equal(rdp_wait_check(d, &j, detail, sizeof(detail)), RDP_MORE);
	cJSON_Delete(d);
	d = cJSON_Parse("{\"LastRotatedDate\":1700000000.5,\"VersionIdsToStages\":{\"v1\":[\"AWSPREVIOUS\"],"
			"\"v2\":[\"AWSCURRENT\"]}}");
	assert_int_equal(rdp_wait_check(d, &j, detail, sizeof(detail)), RDP_DONE);
	assert_true(j.changed_at > 1700000000.0);
	cJSON_Delete(d);
	d = cJSON_Parse("{\"VersionIdsToStages\":{\"v1\":[\"AWSCURRENT\"]}}");
	assert_int_equal(rdp_wait_check(d, &j, detail, sizeof(detail)), RDP_FAIL);
	cJSON_Delete(d);
	/* a put is dated by LastChangedDate (PutSecretValue sets no LastRotatedDate) */
	j.put = 1;
	j.changed_at = 0;
	d = cJSON_Parse("{\"LastRotatedDate\":1600000000,\"LastChangedDate\":1700000300,"
			"\"VersionIdsToStages\":{\"v2\":[\"AWSCURRENT\"]}}");
	assert_int_equal(rdp_wait_check(d, &j, detail, sizeof(detail)), RDP_DONE);
	assert_true(j.changed_at == 1700000300.0);
	cJSON_Delete(d);
	/* someone stored another value after ours: not ours that is current */
	d = cJSON_Parse("{\"VersionIdsToStages\":{\"v2\":[\"AWSPREVIOUS\"],\"v3\":[\"AWSCURRENT\"]}}");
	assert_int_equal(rdp_wait_check(d, &j, detail, sizeof(detail)), RDP_FAIL);
	assert_non_null(strstr(detail, "another value was stored since (current version v3)"));
	cJSON_Delete(d);
}

static void test_redeploy__rollout_check(void **s)
{
	static const struct {
		const char *json;
		enum rdp_poll want;
	} cases[] = {
		/* ours in progress, the old one still running: the old value is in use */
		{ "{\"services\":[{\"deployments\":[{\"id\":\"d2\",\"status\":\"PRIMARY\",\"rolloutState\":"
		  "\"IN_PROGRESS\",\"runningCount\":1,\"desiredCount\":2},{\"id\":\"d1\",\"status\":\"ACTIVE\","
		  "\"runningCount\":2}]}]}", RDP_MORE },
		/* COMPLETED but an older deployment still drains */
		{ "{\"services\":[{\"deployments\":[{\"id\":\"d2\",\"status\":\"PRIMARY\",\"rolloutState\":"
		  "\"COMPLETED\",\"runningCount\":2,\"desiredCount\":2},{\"id\":\"d1\",\"status\":\"ACTIVE\"}]}]}",
		  RDP_MORE },
		{ "{\"services\":[{\"deployments\":[{\"id\":\"d2\",\"status\":\"PRIMARY\",\"rolloutState\":"
		  "\"COMPLETED\",\"runningCount\":2,\"desiredCount\":2}]}]}", RDP_DONE },
		/* no circuit breaker: no rolloutState, the counts say it */
		{ "{\"services\":[{\"deployments\":[{\"id\":\"d2\",\"status\":\"PRIMARY\",\"runningCount\":2,"
		  "\"desiredCount\":2}]}]}", RDP_DONE },
		{ "{\"services\":[{\"deployments\":[{\"id\":\"d2\",\"status\":\"PRIMARY\",\"runningCount\":1,"
		  "\"desiredCount\":2}]}]}", RDP_MORE },
		{ "{\"services\":[{\"deployments\":[{\"id\":\"d2\",\"status\":\"PRIMARY\",\"rolloutState\":"
		  "\"FAILED\",\"rolloutStateReason\":\"tasks failed to start\"},{\"id\":\"d1\",\"status\":"
		  "\"ACTIVE\"}]}]}", RDP_FAIL },
		/* someone deployed again: ours is no longer the one that runs */
		{ "{\"services\":[{\"deployments\":[{\"id\":\"d3\",\"status\":\"PRIMARY\"},{\"id\":\"d2\","
		  "\"status\":\"ACTIVE\"}]}]}", RDP_FAIL },
		{ "{\"services\":[],\"failures\":[{\"reason\":\"MISSING\"}]}", RDP_FAIL },
	};
	char detail[300];
	size_t i;

	(void)s;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *d = cJSON_Parse(cases[i].json);

		assert_non_null(d);
		assert_int_equal(rdp_rollout_check(d, "d2", detail, sizeof(detail)), cases[i].want);
		cJSON_Delete(d);
	}
}

static void test_redeploy__restore_entry(void **s)
{
	cJSON *e = rdp_restore("rotate-secret", "arn:s", "v1", "tok", "restores the LEAKED value");

	(void)s;
	assert_string_equal(cJSON_GetObjectItem(e, "api")->valuestring, "secretsmanager:UpdateSecretVersionStage");
	assert_string_equal(cJSON_GetObjectItem(e, "prior_current_version")->valuestring, "v1");
	assert_string_equal(cJSON_GetObjectItem(e, "command")->valuestring,
			    "aws secretsmanager update-secret-version-stage --secret-id 'arn:s' --version-stage "
			    "AWSCURRENT --move-to-version-id v1 --remove-from-version-id tok  # restores the LEAKED value");
	cJSON_Delete(e);
}

/* ---- the phases ------------------------------------------------------------------ */

/* cognito-lockdown's use: put a value it has, wait, redeploy the consumers,
 * follow the rollout until no task runs the old value. */
static void test_redeploy__put_wait_redeploy_rollout(void **st)
{
	struct world w;
	struct rdp d;
	struct rdp_secret s, *v[1] = { &s };
	cJSON *rep;
	char *txt, fp[RESP_FP_LEN];

	(void)st;
	world_up(&w, 0);
	memset(&s, 0, sizeof(s));
	s.arn = SECRET;
	s.value = VALUE;
	s.services = "prod/api, prod/worker";
	s.state = RDP_WRITE;
	snprintf(s.old_version, sizeof(s.old_version), "v1");
	rdp_token("ev-1", SECRET, "v1", s.token);
	route("PutSecretValue", NULL, 200, "{\"ARN\":\"" SECRET "\",\"VersionId\":\"vnew\"}", 5, 0);
	route("DescribeSecret", NULL, 200, "{\"LastChangedDate\":1796601600.5,\"VersionIdsToStages\":"
	      "{\"vnew\":[\"AWSCURRENT\"],\"v1\":[\"AWSPREVIOUS\"]}}", 5, 0);
	/* before the redeploy: only the old deployment */
	route("DescribeServices", NULL, 200, "{\"services\":[{\"deployments\":[{\"id\":\"old\",\"status\":"
	      "\"PRIMARY\",\"createdAt\":1700000000}]}]}", 5, 2);
	route("UpdateService", "\"api\"", 200, "{\"service\":{\"deployments\":[{\"id\":\"dep-api\",\"status\":"
	      "\"PRIMARY\"},{\"id\":\"old\",\"status\":\"ACTIVE\"}]}}", 5, 0);
	route("UpdateService", "\"worker\"", 200, "{\"service\":{\"deployments\":[{\"id\":\"dep-wk\",\"status\":"
	      "\"PRIMARY\"},{\"id\":\"old\",\"status\":\"ACTIVE\"}]}}", 5, 0);
	/* first rollout poll: both in progress; then complete */
	route("DescribeServices", "\"api\"", 200, "{\"services\":[{\"deployments\":[{\"id\":\"dep-api\",\"status\":"
	      "\"PRIMARY\",\"rolloutState\":\"IN_PROGRESS\"},{\"id\":\"old\",\"status\":\"ACTIVE\"}]}]}", 5, 1);
	route("DescribeServices", "\"worker\"", 200, "{\"services\":[{\"deployments\":[{\"id\":\"dep-wk\",\"status\":"
	      "\"PRIMARY\",\"rolloutState\":\"IN_PROGRESS\"},{\"id\":\"old\",\"status\":\"ACTIVE\"}]}]}", 5, 1);
	route("DescribeServices", "\"api\"", 200, "{\"services\":[{\"deployments\":[{\"id\":\"dep-api\",\"status\":"
	      "\"PRIMARY\",\"rolloutState\":\"COMPLETED\",\"runningCount\":2,\"desiredCount\":2}]}]}", 5, 0);
	route("DescribeServices", "\"worker\"", 200, "{\"services\":[{\"deployments\":[{\"id\":\"dep-wk\",\"status\":"
	      "\"PRIMARY\",\"rolloutState\":\"COMPLETED\",\"runningCount\":1,\"desiredCount\":1}]}]}", 5, 0);
	rdp_up(&d, &w, T0_MS + 60000);
	rdp_put(&d, v, 1);
	assert_int_equal(s.state, RDP_WAIT);
	assert_string_equal(s.version, "vnew");
	/* the value went to Secrets Manager with our token, after its undo */
	assert_non_null(strstr(last_of("PutSecretValue")->body, VALUE));
	assert_non_null(strstr(last_of("PutSecretValue")->body, s.token));
	assert_int_equal(last_of("PutSecretValue")->nrestore, 1);
	rdp_wait(&d, v, 1);
	assert_int_equal(s.state, RDP_CURRENT);
	assert_true(s.changed_at == 1796601600.5);
	rdp_redeploy(&d, v, 1);
	assert_int_equal(sent("UpdateService"), 2);
	assert_non_null(strstr(last_of("UpdateService")->body, "\"forceNewDeployment\":true"));
	rdp_rollout(&d, v, 1);
	assert_int_equal(s.state, RDP_RUNNING);
	assert_int_equal(sent("DescribeServices"), 6);
	assert_int_equal(line(&w, "wait-rollout")->status, RESP_DONE);
	assert_int_equal(line(&w, "put-secret-value")->status, RESP_DONE);
	/* the report names the value by its fingerprint only */
	rep = resp_report_json(&w.r);
	txt = cJSON_PrintUnformatted(rep);
	assert_null(strstr(txt, VALUE));
	resp_fingerprint(VALUE, strlen(VALUE), fp);
	assert_non_null(strstr(txt, fp));
	assert_false(resp_failed(&w.r));
	free(txt);
	cJSON_Delete(rep);
	rdp_cleanup(&d);
	world_down(&w);
}

/* The new value passes through cJSON (the request object, its printed
 * body) and the AWS layer: every block that held it is wiped before it is
 * freed (lr_main installs buf_wipe_cjson for every function). */
static void test_redeploy__put_value_wiped_before_free(void **st)
{
	struct world w;
	struct rdp d;
	struct rdp_secret s, *v[1] = { &s };

	(void)st;
	wipecheck_self_test();
	buf_wipe_cjson();
	world_up(&w, 0);
	memset(&s, 0, sizeof(s));
	s.arn = SECRET;
	s.value = WIPECHECK_CANARY;
	s.state = RDP_WRITE;
	snprintf(s.old_version, sizeof(s.old_version), "v1");
	rdp_token("ev-1", SECRET, "v1", s.token);
	route("PutSecretValue", NULL, 200, "{\"ARN\":\"" SECRET "\",\"VersionId\":\"vnew\"}", 5, 0);
	rdp_up(&d, &w, T0_MS + 60000);
	wipecheck_arm();
	rdp_put(&d, v, 1);
	rdp_cleanup(&d);
	world_down(&w);
	wipecheck_assert_clean();
	assert_non_null(strstr(last_of("PutSecretValue")->body, WIPECHECK_CANARY));
	assert_int_equal(s.state, RDP_WAIT);
}

/* A rollout that does not finish before the deadline: failed, the secret
 * is not RUNNING (the caller keeps the old credential). */
static void test_redeploy__rollout_deadline(void **st)
{
	struct world w;
	struct rdp d;
	struct rdp_secret s, *v[1] = { &s };

	(void)st;
	world_up(&w, 0);
	memset(&s, 0, sizeof(s));
	s.arn = SECRET;
	s.services = "prod/api";
	s.state = RDP_CURRENT;
	s.changed_at = 1796601600.0;
	route("DescribeServices", NULL, 200, "{\"services\":[{\"deployments\":[{\"id\":\"old\",\"status\":"
	      "\"PRIMARY\",\"createdAt\":1700000000}]}]}", 5, 1);
	route("UpdateService", NULL, 200, "{\"service\":{\"deployments\":[{\"id\":\"dep-api\",\"status\":"
	      "\"PRIMARY\"}]}}", 5, 0);
	route("DescribeServices", NULL, 200, "{\"services\":[{\"deployments\":[{\"id\":\"dep-api\",\"status\":"
	      "\"PRIMARY\",\"rolloutState\":\"IN_PROGRESS\"},{\"id\":\"old\",\"status\":\"ACTIVE\"}]}]}", 5, 0);
	rdp_up(&d, &w, T0_MS + 5000);
	rdp_redeploy(&d, v, 1);
	rdp_rollout(&d, v, 1);
	assert_int_equal(s.state, RDP_FAILED);
	assert_int_equal(line(&w, "wait-rollout")->status, RESP_FAILED);
	assert_true(F.now <= T0_MS + 5000);
	assert_true(resp_failed(&w.r));
	rdp_cleanup(&d);
	world_down(&w);
}

/* Dry run: the put is planned with its undo, nothing is written. */
static void test_redeploy__dry_run_plans_the_put(void **st)
{
	struct world w;
	struct rdp d;
	struct rdp_secret s, *v[1] = { &s };

	(void)st;
	world_up(&w, 1);
	memset(&s, 0, sizeof(s));
	s.arn = SECRET;
	s.value = VALUE;
	s.state = RDP_WRITE;
	rdp_up(&d, &w, 0);
	rdp_put(&d, v, 1);
	assert_int_equal(sent("PutSecretValue"), 0);
	assert_int_equal(s.state, RDP_STOP);
	assert_int_equal(line(&w, "put-secret-value")->status, RESP_PLANNED);
	assert_int_equal(cJSON_GetArraySize(w.r.restore), 1);
	rdp_cleanup(&d);
	world_down(&w);
}

/* A redeploy an earlier delivery made already is not repeated. */
static void test_redeploy__already_redeployed(void **st)
{
	struct world w;
	struct rdp d;
	struct rdp_secret s, *v[1] = { &s };

	(void)st;
	world_up(&w, 0);
	memset(&s, 0, sizeof(s));
	s.arn = SECRET;
	s.services = "prod/api";
	s.state = RDP_CURRENT;
	s.changed_at = 1796601600.0;
	route("DescribeServices", NULL, 200, "{\"services\":[{\"deployments\":[{\"id\":\"dep-1\",\"status\":"
	      "\"PRIMARY\",\"createdAt\":1796601601,\"rolloutState\":\"COMPLETED\"}]}]}", 5, 0);
	rdp_up(&d, &w, 0);
	rdp_redeploy(&d, v, 1);
	assert_int_equal(sent("UpdateService"), 0);
	assert_int_equal(line(&w, "redeploy")->status, RESP_ALREADY);
	rdp_rollout(&d, v, 1);
	assert_int_equal(s.state, RDP_RUNNING);
	rdp_cleanup(&d);
	world_down(&w);
}

/* ListSecrets by tag: every page, and only secrets whose own tag holds
 * the value (the two filters match independently). */
static void test_redeploy__tagged(void **st)
{
	struct world w;
	struct aws_error e;
	cJSON *arns = cJSON_CreateArray();
	int complete = 0;

	(void)st;
	world_up(&w, 0);
	route("ListSecrets", "\"NextToken\"", 200, "{\"SecretList\":[{\"ARN\":\"arn:b\",\"Tags\":[{\"Key\":"
	      "\"app-client\",\"Value\":\"pool-1\"}]}]}", 5, 0);
	route("ListSecrets", NULL, 200, "{\"SecretList\":[{\"ARN\":\"arn:a\",\"Tags\":[{\"Key\":\"app-client\","
	      "\"Value\":\"pool-1\"}]},{\"ARN\":\"arn:x\",\"Tags\":[{\"Key\":\"app-client\",\"Value\":\"other\"},"
	      "{\"Key\":\"other\",\"Value\":\"pool-1\"}]}],\"NextToken\":\"t2\"}", 5, 0);
	assert_int_equal(rdp_tagged(&w.k, "app-client", "pool-1", 5, arns, &complete, &e), FB_OK);
	assert_true(complete);
	assert_int_equal(sent("ListSecrets"), 2);
	assert_int_equal(cJSON_GetArraySize(arns), 2);
	assert_string_equal(cJSON_GetArrayItem(arns, 0)->valuestring, "arn:a");
	assert_string_equal(cJSON_GetArrayItem(arns, 1)->valuestring, "arn:b");
	/* no report line: the caller words the outcome */
	assert_int_equal(w.r.nsteps, 0);
	cJSON_Delete(arns);
	world_down(&w);
}

/* w4-kc-lr: the values of a set of secrets, every read in one round, each
 * secret's pair handed to the caller in order. */
struct values_seen {
	size_t calls;
	char cur[2][64], prev[2][64];
};

static enum fb_err values_cb(void *arg, size_t i, struct kit_step *cur, struct kit_step *prev)
{
	struct values_seen *v = arg;

	v->calls++;
	buf_copy_str(v->cur[i], sizeof(v->cur[i]), resp_get_str(kit_out(cur), "SecretString"));
	buf_copy_str(v->prev[i], sizeof(v->prev[i]), kit_out(prev) ? resp_get_str(kit_out(prev), "SecretString")
								  : kit_err(prev)->code);
	return i == 0 ? FB_OK : FB_E_NOMEM;
}

static void test_redeploy__values_read_in_one_round(void **s)
{
	const char *const names[] = { "db", "api", "never-seen" };
	cJSON *ids = cJSON_CreateStringArray(names, 3);
	struct values_seen v = { 0 };
	struct world w;

	(void)s;
	world_up(&w, 0);
	route("GetSecretValue", "\"SecretId\":\"db\",\"VersionStage\":\"AWSCURRENT\"", 200,
	      "{\"ARN\":\"arn:db\",\"SecretString\":\"db-current-value\"}", 5, 0);
	route("GetSecretValue", "\"SecretId\":\"db\",\"VersionStage\":\"AWSPREVIOUS\"", 200,
	      "{\"ARN\":\"arn:db\",\"SecretString\":\"db-previous-value\"}", 5, 0);
	route("GetSecretValue", "\"SecretId\":\"api\",\"VersionStage\":\"AWSCURRENT\"", 200,
	      "{\"ARN\":\"arn:api\",\"SecretString\":\"api-current-value\"}", 5, 0);
	route("GetSecretValue", "\"SecretId\":\"api\"", 400,
	      "{\"__type\":\"ResourceNotFoundException\",\"message\":\"no AWSPREVIOUS\"}", 5, 0);
	route("GetSecretValue", NULL, 200, "{\"ARN\":\"arn:x\",\"SecretString\":\"x-value\"}", 5, 0);
	/* the callback's error stops the callbacks, and is returned */
	assert_int_equal(rdp_values(&w.k, ids, values_cb, &v), FB_E_NOMEM);
	cJSON_Delete(ids);
	assert_int_equal(sent("GetSecretValue"), 6);
	assert_int_equal(F.max_parallel, 6);
	assert_int_equal(v.calls, 2);
	assert_string_equal(v.cur[0], "db-current-value");
	assert_string_equal(v.prev[0], "db-previous-value");
	assert_string_equal(v.cur[1], "api-current-value");
	assert_string_equal(v.prev[1], "ResourceNotFoundException");
	/* quiet reads: no report line of their own */
	assert_int_equal(w.r.nsteps, 0);
	world_down(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redeploy__token_services_and_deployments),
		cmocka_unit_test(test_redeploy__services_capped),
		cmocka_unit_test(test_redeploy__wait_check),
		cmocka_unit_test(test_redeploy__rollout_check),
		cmocka_unit_test(test_redeploy__restore_entry),
		cmocka_unit_test(test_redeploy__put_wait_redeploy_rollout),
		cmocka_unit_test(test_redeploy__rollout_deadline),
		cmocka_unit_test(test_redeploy__dry_run_plans_the_put),
		cmocka_unit_test(test_redeploy__already_redeployed),
		cmocka_unit_test(test_redeploy__tagged),
		cmocka_unit_test(test_redeploy__put_value_wiped_before_free),
		cmocka_unit_test(test_redeploy__values_read_in_one_round),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
