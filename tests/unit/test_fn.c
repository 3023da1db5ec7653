/* Unit tests of runtime/fn.c: a responder's init (what is read, in which
 * order, what a failure leaves), its handler's opening and closing, the
 * manual form's incident key. No AWS call is made: init does no network,
 * a skipped event makes none, and a report with no topic or bus publishes
 * nowhere. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fn.h"

/* A responder's state, as functions/<name>/main.c declares it. */
struct probe {
	struct fn_base fn;
	char *own;                  /* made by the settings */
	int saw_cfg;                /* the settings ran after resp_config_from_env */
	int saw_evidence;           /* ... and before FIREBREAK_EVIDENCE_* */
};

static int settings_calls, cleanup_calls;
static const char *settings_fail;   /* err the settings give, NULL: none */

static enum fb_err probe_settings(void *state, char *err, size_t errlen)
{
	struct probe *p = state;

	settings_calls++;
	p->saw_cfg = p->fn.cfg.dry_run == 1 && p->fn.aws != NULL;
	p->saw_evidence = p->fn.evcfg.bucket != NULL;
	p->own = strdup("made");
	if (settings_fail) {
		snprintf(err, errlen, "%s", settings_fail);
		return FB_E_CONFIG;
	}
	return FB_OK;
}

static void probe_cleanup(void *state)
{
	cleanup_calls++;
	free(((struct probe *)state)->own);
}

static enum fb_err probe_handle(void *state, const char *event, size_t len, const struct lr_context *ctx,
				struct lr_result *out)
{
	(void)state, (void)event, (void)len, (void)ctx, (void)out;
	return FB_OK;
}

static const struct fn_responder probe_fn = { .function = "probe", .margin_ms = 250,
	.size = sizeof(struct probe), .settings = probe_settings, .cleanup = probe_cleanup,
	.handle = probe_handle };

static int env_up(void **st)
{
	(void)st;
	setenv("AWS_REGION", "eu-west-1", 1);
	setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
	setenv("FIREBREAK_DRY_RUN", "true", 1);
	unsetenv("FIREBREAK_TOPIC_ARN");
	unsetenv("FIREBREAK_EVENT_BUS");
	unsetenv("FIREBREAK_EVIDENCE_BUCKET");
	unsetenv("FIREBREAK_EVIDENCE_LOCK_MODE");
	unsetenv("FIREBREAK_TAG_MIN_AGE_HOURS");
	settings_calls = cleanup_calls = 0;
	settings_fail = NULL;
	return 0;
}

static void test_fn__init_fills_the_common_part_then_the_settings(void **st)
{
	struct probe *p = NULL;
	char err[256] = "";

	(void)st;
	setenv("FIREBREAK_EVIDENCE_BUCKET", "evidence-bucket", 1);
	assert_int_equal(fn_init(&probe_fn, (void **)&p, err, sizeof(err)), FB_OK);
	assert_non_null(p);
	assert_string_equal(p->fn.function, "probe");
	assert_int_equal(p->fn.margin_ms, 250);
	assert_int_equal(p->fn.cfg.dry_run, 1);
	assert_string_equal(aws_client_region(p->fn.aws), "eu-west-1");
	assert_string_equal(p->fn.evcfg.bucket, "evidence-bucket");
	assert_int_equal(settings_calls, 1);
	assert_true(p->saw_cfg);          /* the settings may read fn.cfg */
	assert_false(p->saw_evidence);    /* FIREBREAK_EVIDENCE_* comes after them */
	assert_int_equal(cleanup_calls, 0);
	fn_free(&probe_fn, p);
	assert_int_equal(cleanup_calls, 1);
}

/* The first bad setting stops init with its own message, whoever reads it;
 * what was made is freed (the settings' part too) and *state stays NULL. */
static void test_fn__a_bad_setting_fails_init_with_its_message(void **st)
{
	static const struct {
		const char *name, *value, *settings_err, *want;
		int settings_ran, cleaned;
	} c[] = {
		{ "FIREBREAK_TAG_MIN_AGE_HOURS", "soon", NULL, "FIREBREAK_TAG_MIN_AGE_HOURS", 0, 0 },
		{ NULL, NULL, "setting 'FIREBREAK_PROBE' must be on or off", "setting 'FIREBREAK_PROBE' must be on or off",
		  1, 1 },
		{ "FIREBREAK_EVIDENCE_LOCK_MODE", "NONE", NULL,
		  "setting 'FIREBREAK_EVIDENCE_LOCK_MODE' must be GOVERNANCE or COMPLIANCE", 1, 1 },
	};
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		void *state = (void *)&c;
		char err[256] = "";

		env_up(NULL);
		if (c[i].name)
			setenv(c[i].name, c[i].value, 1);
		settings_fail = c[i].settings_err;
		assert_int_equal(fn_init(&probe_fn, &state, err, sizeof(err)), FB_E_CONFIG);
		assert_null(state);
		assert_non_null(strstr(err, c[i].want));
		assert_int_equal(settings_calls, c[i].settings_ran);
		assert_int_equal(cleanup_calls, c[i].cleaned);
		if (c[i].name)
			unsetenv(c[i].name);
	}
}

/* root-verify keeps no evidence: FIREBREAK_EVIDENCE_* is not read at all
 * (a value meant for the others cannot stop it). */
static void test_fn__no_evidence_reads_none(void **st)
{
	struct fn_responder fn = probe_fn;
	struct probe *p = NULL;
	char err[256] = "";

	(void)st;
	fn.no_evidence = 1;
	setenv("FIREBREAK_EVIDENCE_LOCK_MODE", "NONE", 1);
	setenv("FIREBREAK_EVIDENCE_BUCKET", "evidence-bucket", 1);
	assert_int_equal(fn_init(&fn, (void **)&p, err, sizeof(err)), FB_OK);
	assert_null(p->fn.evcfg.bucket);
	fn_free(&fn, p);
	/* without settings or cleanup: the common part alone */
	fn.settings = NULL;
	fn.cleanup = NULL;
	fn.size = sizeof(struct fn_base);
	assert_int_equal(fn_init(&fn, (void **)&p, err, sizeof(err)), FB_OK);
	fn_free(&fn, p);
	assert_int_equal(settings_calls, 1);
}

static void test_fn__a_state_without_the_base_is_refused(void **st)
{
	struct fn_responder fn = probe_fn;
	void *state = (void *)&fn;
	char err[256] = "";

	(void)st;
	fn.size = sizeof(struct fn_base) - 1;
	assert_int_equal(fn_init(&fn, &state, err, sizeof(err)), FB_E_INVALID);
	assert_null(state);
	assert_non_null(strstr(err, "struct fn_base"));
	assert_int_equal(settings_calls, 0);
}

static const struct lr_context ctx = { .request_id = "req-1", .deadline_ms = 0, .function_arn =
	"arn:aws:lambda:eu-west-1:111122223333:function:probe" };

/* Not a trigger: the skipped result, no report begun, nothing to finish. */
static void test_fn__open_a_skip_is_the_skipped_result(void **st)
{
	struct probe *p = NULL;
	struct resp r;
	struct kit k;
	struct lr_result out;
	char err[256] = "";
	enum fb_err rc = FB_E_IO;
	cJSON *ev = cJSON_Parse("{\"source\":\"aws.cloudwatch\",\"detail-type\":\"CloudWatch Alarm State Change\"}");

	(void)st;
	assert_int_equal(fn_init(&probe_fn, (void **)&p, err, sizeof(err)), FB_OK);
	lr_result_init(&out);
	assert_int_equal(fn_open(&r, &k, p, &ctx, ev, "alarm state is not ALARM", &out, &rc), 0);
	assert_int_equal(rc, FB_OK);
	assert_false(out.is_error);
	assert_non_null(strstr((const char *)out.body.data, "skipped: alarm state is not ALARM"));
	assert_non_null(strstr((const char *)out.body.data, "\"function\":\"probe\""));
	lr_result_cleanup(&out);
	/* "" is no skip: the report begins */
	lr_result_init(&out);
	assert_int_equal(fn_open(&r, &k, p, &ctx, ev, "", &out, &rc), 1);
	assert_ptr_equal(k.r, &r);
	assert_ptr_equal(k.aws, p->fn.aws);
	assert_string_equal(r.function, "probe");
	assert_int_equal(fn_finish(&k, &out), FB_OK);
	assert_false(out.is_error);
	assert_non_null(strstr((const char *)out.body.data, "\"function\":\"probe\""));
	lr_result_cleanup(&out);
	cJSON_Delete(ev);
	fn_free(&probe_fn, p);
}

/* A wrongly typed envelope: the invalid result (kit_begin's), nothing begun. */
static void test_fn__open_refuses_a_wrongly_typed_envelope(void **st)
{
	struct probe *p = NULL;
	struct resp r;
	struct kit k;
	struct lr_result out;
	char err[256] = "";
	enum fb_err rc = FB_E_IO;
	cJSON *ev = cJSON_Parse("{\"dryRun\":\"false\"}");

	(void)st;
	assert_int_equal(fn_init(&probe_fn, (void **)&p, err, sizeof(err)), FB_OK);
	lr_result_init(&out);
	assert_int_equal(fn_open(&r, &k, p, &ctx, ev, NULL, &out, &rc), 0);
	assert_true(out.is_error);
	assert_non_null(strstr(out.error_message, "envelope fields have the wrong types"));
	lr_result_cleanup(&out);
	cJSON_Delete(ev);
	fn_free(&probe_fn, p);
}

/* The manual form keys its incident by the request; an event id wins. */
static void test_fn__manual_incident(void **st)
{
	struct probe *p = NULL;
	struct resp r, same, other;
	char err[256] = "", before[sizeof(r.incident_id)];
	cJSON *manual = cJSON_Parse("{\"table\":\"orders\"}"), *with_id = cJSON_Parse("{\"id\":\"e-1\"}");

	(void)st;
	assert_int_equal(fn_init(&probe_fn, (void **)&p, err, sizeof(err)), FB_OK);
	assert_int_equal(resp_begin(&r, &p->fn.cfg, "probe", &ctx), FB_OK);
	assert_int_equal(resp_begin(&same, &p->fn.cfg, "probe", &ctx), FB_OK);
	assert_int_equal(resp_begin(&other, &p->fn.cfg, "probe", &ctx), FB_OK);
	snprintf(before, sizeof(before), "%s", r.incident_id);
	fn_manual_incident(&r, with_id, "manual:%s", "orders");
	assert_string_equal(r.incident_id, before);
	fn_manual_incident(&r, manual, "manual:%s:%s", "111122223333", "orders");
	resp_set_incident(&same, "manual:111122223333:orders");
	assert_string_equal(r.incident_id, same.incident_id);
	fn_manual_incident(&other, manual, "manual:%s:%s", "111122223333", "customers");
	assert_string_not_equal(r.incident_id, other.incident_id);
	resp_cleanup(&r);
	resp_cleanup(&same);
	resp_cleanup(&other);
	cJSON_Delete(manual);
	cJSON_Delete(with_id);
	fn_free(&probe_fn, p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_fn__init_fills_the_common_part_then_the_settings, env_up),
		cmocka_unit_test_setup(test_fn__a_bad_setting_fails_init_with_its_message, env_up),
		cmocka_unit_test_setup(test_fn__no_evidence_reads_none, env_up),
		cmocka_unit_test_setup(test_fn__a_state_without_the_base_is_refused, env_up),
		cmocka_unit_test_setup(test_fn__open_a_skip_is_the_skipped_result, env_up),
		cmocka_unit_test_setup(test_fn__open_refuses_a_wrongly_typed_envelope, env_up),
		cmocka_unit_test_setup(test_fn__manual_incident, env_up),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
