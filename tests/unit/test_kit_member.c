/*
 * test_kit_member: the kit pieces leak-rotate's port added (kit.h block
 * "w4-kc-lr") and the undo record it keeps after its writes
 * (evidence_restore_after), over the real kit and AWS layer with the fake
 * transport (kit_fake.h): the member-account line in its three outcomes,
 * a decided line that a dry run does not turn into "planned", the quiet
 * result, the lenient flag, JSON timestamps; and leak-rotate's CloudWatch
 * Logs pieces of runtime/cwl (cwl_filter, cwl_delivery_trigger), here for
 * the fake transport.
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
#include "cwl.h"
#include "evidence.h"
#include "http.h"
#include "kit.h"
#include "resp.h"

#include "kit_fake.h"

#define ASSUMED "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAMEMBEREXAMPLE</AccessKeyId>" \
	"<SecretAccessKey>member-secret</SecretAccessKey><SessionToken>tok</SessionToken>" \
	"<Expiration>2026-12-07T01:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>"

static void test_kit_member__client_line(void **st)
{
	struct world w;
	const struct resp_step *l;

	(void)st;
	world_up(&w, 0);
	/* our own account (the function ARN's): no role, an optional skipped line */
	assert_ptr_equal(kit_member_client(&w.k, "111111111111", "assume-role", 1), w.aws);
	l = &w.r.steps[0];
	assert_int_equal(l->status, RESP_SKIPPED);
	assert_false(l->required);
	assert_string_equal(l->detail, "our own account: no role needed");
	/* another account without FIREBREAK_MEMBER_ROLE: failed, required when asked */
	assert_null(kit_member_client(&w.k, "222222222222", "assume-role", 1));
	l = &w.r.steps[1];
	assert_int_equal(l->status, RESP_FAILED);
	assert_true(l->required);
	assert_string_equal(l->api, "sts:AssumeRole");
	assert_string_equal(l->target, "arn:aws:iam::222222222222:role/");
	assert_string_equal(l->detail, "cannot act in account 222222222222: FIREBREAK_MEMBER_ROLE not set");
	assert_null(kit_member_client(&w.k, "333333333333", "assume-role", 0));
	assert_false(w.r.steps[2].required);
	assert_int_equal(sent("AssumeRole"), 0);
	world_down(&w);

	world_up(&w, 0);
	w.cfg.member_role = strdup("firebreak-member");
	route("AssumeRole", "222222222222", 200, ASSUMED, 5, 0);
	route("AssumeRole", NULL, 403, "<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message>"
	      "</Error></ErrorResponse>", 5, 0);
	assert_non_null(kit_member_client(&w.k, "222222222222", "assume-role", 1));
	l = line(&w, "assume-role");
	assert_int_equal(l->status, RESP_DONE);
	assert_string_equal(l->target, "arn:aws:iam::222222222222:role/firebreak-member");
	assert_string_equal(l->detail, "acting in account 222222222222");
	assert_null(kit_member_client(&w.k, "333333333333", "assume-role", 1));
	l = &w.r.steps[1];
	assert_int_equal(l->status, RESP_FAILED);
	assert_string_equal(l->detail, "cannot act in account 333333333333: no session");
	assert_non_null(strstr(l->error, "AccessDenied"));
	assert_int_equal(sent("AssumeRole"), 2);
	assert_non_null(last_of("AssumeRole"));
	world_down(&w);
}

static void test_kit_member__note_keeps_the_decision_under_dry_run(void **st)
{
	struct world w;

	(void)st;
	world_up(&w, 1);
	kit_note(&w.k, "deactivate-key", "iam:UpdateAccessKey", "AKIAIOSFODNN7EXAMPLE", RESP_WRITE, RESP_SKIPPED, 1,
		 "reported only: %s (%d)", "an id alone", 3);
	assert_int_equal(w.r.steps[0].status, RESP_SKIPPED);
	assert_false(w.r.steps[0].required);
	assert_string_equal(w.r.steps[0].detail, "reported only: an id alone (3)");
	kit_note(&w.k, "assume-role", "sts:AssumeRole", "222222222222", RESP_READ, RESP_FAILED, 0, "no role");
	assert_true(w.r.steps[1].required);
	assert_int_equal(F.nlog, 0);   /* no call */
	world_down(&w);
}

static void test_kit_member__quiet_result_flag_and_time(void **st)
{
	struct lr_result out;
	cJSON *o;

	(void)st;
	lr_result_init(&out);
	assert_int_equal(kit_quiet_result(&out, "leak-rotate", "no leak", "%d events: no leak", 3), FB_OK);
	assert_false(out.is_error);
	o = cJSON_ParseWithLength(out.body.data, out.body.len);
	assert_string_equal(cJSON_GetObjectItem(o, "function")->valuestring, "leak-rotate");
	assert_string_equal(cJSON_GetObjectItem(o, "result")->valuestring, "no leak");
	assert_string_equal(cJSON_GetObjectItem(o, "detail")->valuestring, "3 events: no leak");
	assert_int_equal(cJSON_GetArraySize(o), 3);
	cJSON_Delete(o);
	lr_result_cleanup(&out);

	unsetenv("KIT_FLAG_TEST");
	assert_int_equal(kit_env_flag("KIT_FLAG_TEST", 1), 1);
	assert_int_equal(kit_env_flag("KIT_FLAG_TEST", 0), 0);
	setenv("KIT_FLAG_TEST", "", 1);
	assert_int_equal(kit_env_flag("KIT_FLAG_TEST", 1), 1);
	setenv("KIT_FLAG_TEST", "YES", 1);
	assert_int_equal(kit_env_flag("KIT_FLAG_TEST", 0), 1);
	setenv("KIT_FLAG_TEST", "1", 1);
	assert_int_equal(kit_env_flag("KIT_FLAG_TEST", 0), 1);
	/* lenient: anything else is off, never an error */
	setenv("KIT_FLAG_TEST", "false", 1);
	assert_int_equal(kit_env_flag("KIT_FLAG_TEST", 1), 0);
	setenv("KIT_FLAG_TEST", "ture", 1);
	assert_int_equal(kit_env_flag("KIT_FLAG_TEST", 1), 0);
	unsetenv("KIT_FLAG_TEST");

	o = cJSON_CreateArray();
	kit_warn_to(o, "%s %d", "line", 1);
	kit_warn_to(NULL, "dropped");
	kit_warn_to(o, "%0700d", 7);
	assert_int_equal(cJSON_GetArraySize(o), 2);
	assert_string_equal(cJSON_GetArrayItem(o, 0)->valuestring, "line 1");
	assert_int_equal(strlen(cJSON_GetArrayItem(o, 1)->valuestring), 599);
	cJSON_Delete(o);

	o = cJSON_Parse("[1796601600.5, 0, -5, 1e300, \"1796601600\"]");
	assert_int_equal(resp_epoch_ms(cJSON_GetArrayItem(o, 0)), 1796601600500LL);
	assert_int_equal(resp_epoch_ms(cJSON_GetArrayItem(o, 1)), 0);
	assert_int_equal(resp_epoch_ms(cJSON_GetArrayItem(o, 2)), 0);
	assert_int_equal(resp_epoch_ms(cJSON_GetArrayItem(o, 3)), 0);
	assert_int_equal(resp_epoch_ms(cJSON_GetArrayItem(o, 4)), 0);
	assert_int_equal(resp_epoch_ms(NULL), 0);
	cJSON_Delete(o);
}

/* The undo record kept after the writes: nothing without a bucket (the
 * caller says so), under dry run or with no write; else restore.json with
 * every entry marked secret_public unless it says otherwise. */
static void test_kit_member__restore_after_the_writes(void **st)
{
	struct evidence_config cfg;
	struct world w;
	const struct logged *put = NULL;
	size_t i;

	(void)st;
	memset(&cfg, 0, sizeof(cfg));
	world_up(&w, 0);
	assert_int_equal(evidence_restore_after(&w.k, w.aws, &cfg, &ctx, "log_group", "/g", 1), 1); /* no write */
	resp_restore_add(&w.r, kit_undo("iam:UpdateAccessKey", kit_obj("AccessKeyId", "AKIAIOSFODNN7EXAMPLE",
										KIT_END)));
	assert_int_equal(evidence_restore_after(&w.k, w.aws, &cfg, &ctx, "log_group", "/g", 1), 0); /* no bucket */
	assert_int_equal(F.nlog, 0);
	cfg.bucket = strdup("evidence-bucket");
	resp_restore_add(&w.r, cJSON_Parse("{\"api\":\"x:Y\",\"secret_public\":false}"));
	route("", NULL, 200, "", 5, 0);
	assert_int_equal(evidence_restore_after(&w.k, w.aws, &cfg, &ctx, "log_group", "/g", 1), 1);
	for (i = 0; i < F.nlog; i++)
		if (strstr(F.log[i].url, "restore.json") && F.log[i].body[0])
			put = &F.log[i];
	assert_non_null(put);
	assert_non_null(strstr(put->body, "\"secret_public\":\ttrue"));
	assert_non_null(strstr(put->body, "\"secret_public\":\tfalse"));
	assert_non_null(cJSON_GetObjectItem(w.r.extra, "evidence"));
	world_down(&w);
	/* dry run: nothing sent */
	world_up(&w, 1);
	resp_restore_add(&w.r, kit_undo("iam:UpdateAccessKey", NULL));
	assert_int_equal(evidence_restore_after(&w.k, w.aws, &cfg, &ctx, "log_group", "/g", 1), 1);
	assert_int_equal(F.nlog, 0);
	world_down(&w);
	evidence_config_cleanup(&cfg);
}

/* kit_finish: resp_finish with the client's deadline moved to the
 * invocation's less 100 ms. */
static void test_kit_member__finish(void **st)
{
	struct lr_context c = ctx;
	struct lr_result out;
	struct world w;

	(void)st;
	world_up(&w, 0);
	c.deadline_ms = T0_MS + 5000;
	lr_result_init(&out);
	assert_int_equal(kit_finish(&w.r, w.aws, &c, &out), FB_OK);
	assert_false(out.is_error);
	assert_non_null(strstr(out.body.data, "\"function\":\"kit-test\""));
	lr_result_cleanup(&out);
	world_down(&w);
}

/* w4-kc-lr: cwl_filter, the events of a window from several groups: one
 * paged read each, concurrently, handed back in group order. */
struct filter_seen {
	size_t n;
	int ok[2], pages[2], complete[2], events[2];
};

static void filter_cb(void *arg, size_t i, struct kit_step *s)
{
	struct filter_seen *f = arg;
	cJSON *ev = kit_take_items(s);

	f->ok[i] = kit_ok(s);
	f->pages[i] = kit_pages(s);
	f->complete[i] = kit_complete(s);
	f->events[i] = cJSON_GetArraySize(ev);
	f->n++;
	cJSON_Delete(ev);
}

static void test_cwl__filter_window(void **st)
{
	char *const groups[] = { (char *)"/ecs/a", (char *)"/ecs/b" };
	struct filter_seen f = { 0 };
	struct world w;

	(void)st;
	world_up(&w, 0);
	route("FilterLogEvents", "\"nextToken\":\"p2\"", 200, "{\"events\":[{\"message\":\"3\"}]}", 5, 0);
	route("FilterLogEvents", "/ecs/a", 200, "{\"events\":[{\"message\":\"1\"},{\"message\":\"2\"}],"
	      "\"nextToken\":\"p2\"}", 5, 0);
	route("FilterLogEvents", "/ecs/b", 400, "{\"__type\":\"ResourceNotFoundException\"}", 5, 0);
	assert_int_equal(cwl_filter(&w.k, groups, 2, 1000, 2000, 5, filter_cb, &f), FB_OK);
	assert_int_equal(f.n, 2);
	assert_int_equal(F.max_parallel, 2);
	assert_non_null(strstr(F.log[0].body, "\"startTime\":1000"));
	assert_non_null(strstr(F.log[0].body, "\"endTime\":2000"));
	assert_true(f.ok[0] && f.complete[0]);
	assert_int_equal(f.pages[0], 2);
	assert_int_equal(f.events[0], 3);
	assert_false(f.ok[1]);
	assert_int_equal(sent("FilterLogEvents"), 3);
	assert_non_null(last_of("FilterLogEvents"));
	/* quiet reads: the caller words the line */
	assert_int_equal(w.r.nsteps, 0);
	world_down(&w);
}

/* w4-kc-lr: a subscription delivery's trigger and resource (no envelope). */
static void test_cwl__delivery_trigger(void **st)
{
	struct world w;
	int64_t t = 1796601600000LL;

	(void)st;
	world_up(&w, 0);
	cwl_delivery_trigger(&w.r, "aws", "eu-west-1", "111111111111", "/ecs/api", "111111111111:/ecs/api:s:e1:e2:2",
			     &t);
	assert_string_equal(cJSON_GetObjectItem(w.r.trigger, "event_id")->valuestring, "111111111111:/ecs/api:s:e1:e2:2");
	assert_string_equal(cJSON_GetObjectItem(w.r.trigger, "source")->valuestring, "aws.logs");
	assert_string_equal(cJSON_GetObjectItem(w.r.trigger, "detail_type")->valuestring, "CloudWatch Logs subscription");
	assert_string_equal(cJSON_GetObjectItem(w.r.trigger, "event_time")->valuestring, "2026-12-07T00:00:00.000Z");
	assert_int_equal(w.r.event_time_ms, t);
	assert_string_equal(w.r.resource, "arn:aws:logs:eu-west-1:111111111111:log-group:/ecs/api");
	assert_string_equal(w.r.account, "111111111111");
	assert_string_equal(w.r.region, "eu-west-1");
	world_down(&w);
	world_up(&w, 0);
	cwl_delivery_trigger(&w.r, "aws", NULL, "", "/g", "x", NULL);
	assert_int_equal(w.r.event_time_ms, 0);
	assert_string_equal(w.r.resource, "arn:aws:logs:::log-group:/g");
	assert_null(w.r.account);
	world_down(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kit_member__client_line),
		cmocka_unit_test(test_kit_member__note_keeps_the_decision_under_dry_run),
		cmocka_unit_test(test_kit_member__quiet_result_flag_and_time),
		cmocka_unit_test(test_kit_member__restore_after_the_writes),
		cmocka_unit_test(test_kit_member__finish),
		cmocka_unit_test(test_cwl__filter_window),
		cmocka_unit_test(test_cwl__delivery_trigger),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
