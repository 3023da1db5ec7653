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

static const struct fn_responder probe_fn = { .function = "probe", .margin_ms = 250,
	.size = sizeof(struct probe), .settings = probe_settings, .cleanup = probe_cleanup };

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

/* ---- the invocation frame (fn_invoke) ------------------------------------------------ */

/* A responder's event, as its stages.c parses it. */
struct pev {
	cJSON *root;
	char skip[64];
	struct resp own_r;          /* a responder whose invocation holds its report and kit */
	struct kit own_k;
};

static int parse_calls, run_calls, free_calls;
static enum fb_err run_rc;
static int repoint, parse_answers, run_answers;
static struct fn_call seen;    /* what run was handed */

static enum fb_err probe_read(struct fn_call *c, const char *event, size_t len, char *why, size_t whylen)
{
	struct pev *e = c->ev;
	const char *skip;

	parse_calls++;
	if (repoint) {
		c->r = &e->own_r;
		c->k = &e->own_k;
	}
	if (parse_answers) {
		c->answered = 1;
		return kit_quiet_result(c->out, "probe", "ignored", "%s", "a control message");
	}
	if (resp_parse_event(event, len, RESP_MAX_EVENT_BYTES, &e->root, why, whylen) != FB_OK)
		return FB_E_INVALID;
	if (cJSON_GetObjectItemCaseSensitive(e->root, "bad")) {
		snprintf(why, whylen, "field 'bad' is not allowed");
		return FB_E_INVALID;
	}
	skip = resp_get_str(e->root, "skip");
	snprintf(e->skip, sizeof(e->skip), "%s", skip ? skip : "");
	return FB_OK;
}

static const char *probe_skip(const void *ev)
{
	return ((const struct pev *)ev)->skip;
}

static void probe_event_cleanup(struct pev *e)
{
	free_calls++;
	cJSON_Delete(e->root);
}
FN_EVENT_FREE(probe)

static enum fb_err probe_run(struct fn_call *c)
{
	run_calls++;
	seen = *c;
	cJSON_AddBoolToObject(c->r->extra, "ran", 1);
	resp_set_verdict(c->r, "decided");
	c->answered = run_answers;
	return run_rc;
}

static const struct fn_responder frame_fn = { .function = "probe", .margin_ms = 250,
	.size = sizeof(struct probe), .settings = probe_settings, .cleanup = probe_cleanup,
	.event_size = sizeof(struct pev), .event_root = offsetof(struct pev, root),
	.event_cleanup = probe_event_free, .parse = probe_read, .skip = probe_skip, .run = probe_run };

static int frame_up(void **st)
{
	env_up(st);
	parse_calls = run_calls = free_calls = 0;
	run_rc = FB_OK;
	repoint = parse_answers = run_answers = 0;
	memset(&seen, 0, sizeof(seen));
	return 0;
}

static struct probe *frame_state;    /* the process's state: made once, freed after the group */

static enum fb_err invoke(const char *event, struct lr_result *out)
{
	char err[256] = "";

	if (!frame_state)
		assert_int_equal(fn_init(&frame_fn, (void **)&frame_state, err, sizeof(err)), FB_OK);
	lr_result_init(out);
	return fn_invoke(&frame_fn, frame_state, event, strlen(event), &ctx, out);
}

static int frame_free(void **st)
{
	(void)st;
	fn_free(&frame_fn, frame_state);
	frame_state = NULL;
	return 0;
}

static const char *body(const struct lr_result *out)
{
	return out->body.data ? (const char *)out->body.data : "";
}

/* Bad input: the invalid result with the parser's words, nothing opened or
 * run, the event freed once. */
static void test_fn__invoke_an_invalid_event_is_refused_before_anything(void **st)
{
	static const struct {
		const char *event, *want;
	} c[] = {
		{ "{\"bad\":1}", "field 'bad' is not allowed" },
		{ "[1,2]", "" },
		{ "{\"dryRun\":\"false\"}", "envelope fields have the wrong types" },
	};
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct lr_result out;

		frame_up(NULL);
		assert_int_equal(invoke(c[i].event, &out), FB_OK);
		assert_true(out.is_error);
		assert_non_null(strstr(out.error_message, c[i].want));
		assert_int_equal(run_calls, 0);
		assert_int_equal(free_calls, 1);
		lr_result_cleanup(&out);
	}
}

/* Not a trigger (.skip's reason): the skipped result, no run. */
static void test_fn__invoke_a_skip_is_the_skipped_result(void **st)
{
	struct lr_result out;

	(void)st;
	assert_int_equal(invoke("{\"skip\":\"not our alarm\"}", &out), FB_OK);
	assert_false(out.is_error);
	assert_non_null(strstr(body(&out), "skipped: not our alarm"));
	assert_int_equal(parse_calls, 1);
	assert_int_equal(run_calls, 0);
	assert_int_equal(free_calls, 1);
	lr_result_cleanup(&out);
}

/* A trigger: run gets the state, the event, an open report and kit; the
 * report it wrote is finished into the result. */
static void test_fn__invoke_runs_the_decisions_and_finishes_the_report(void **st)
{
	struct lr_result out;

	(void)st;
	assert_int_equal(invoke("{\"id\":\"e-1\",\"skip\":\"\"}", &out), FB_OK);
	assert_false(out.is_error);
	assert_int_equal(run_calls, 1);
	assert_non_null(seen.st);
	assert_non_null(seen.ev);
	assert_ptr_equal(seen.ctx, &ctx);
	assert_ptr_equal(seen.k->r, seen.r);
	assert_ptr_equal(seen.k->aws, ((struct fn_base *)seen.st)->aws);
	assert_non_null(strstr(body(&out), "\"ran\":true"));
	assert_non_null(strstr(body(&out), "\"verdict\":\"decided\""));
	assert_non_null(strstr(body(&out), "\"function\":\"probe\""));
	assert_int_equal(free_calls, 1);
	lr_result_cleanup(&out);
}

/* The report and kit where .parse points them (a responder's own
 * invocation struct). */
static void test_fn__invoke_uses_the_report_parse_points_to(void **st)
{
	struct lr_result out;

	(void)st;
	repoint = 1;
	assert_int_equal(invoke("{\"id\":\"e-2\"}", &out), FB_OK);
	assert_int_equal(run_calls, 1);
	assert_ptr_equal(seen.r, &((struct pev *)seen.ev)->own_r);
	assert_ptr_equal(seen.k, &((struct pev *)seen.ev)->own_k);
	assert_non_null(strstr(body(&out), "\"verdict\":\"decided\""));
	lr_result_cleanup(&out);
}

/* A run that fails (out of memory) publishes nothing and returns its error;
 * one that answered itself keeps its own result. */
static void test_fn__invoke_a_failed_or_answered_run_is_not_finished(void **st)
{
	struct lr_result out;

	(void)st;
	run_rc = FB_E_NOMEM;
	assert_int_equal(invoke("{\"id\":\"e-3\"}", &out), FB_E_NOMEM);
	assert_int_equal(run_calls, 1);
	assert_null(out.body.data);
	assert_false(out.is_error);
	assert_int_equal(free_calls, 1);
	lr_result_cleanup(&out);

	frame_up(NULL);
	run_answers = 1;
	assert_int_equal(invoke("{\"id\":\"e-4\"}", &out), FB_OK);
	assert_int_equal(run_calls, 1);
	assert_null(out.body.data);    /* the frame did not finish it: run said it answered */
	lr_result_cleanup(&out);

	frame_up(NULL);
	parse_answers = 1;
	assert_int_equal(invoke("{\"id\":\"e-5\"}", &out), FB_OK);
	assert_int_equal(run_calls, 0);
	assert_non_null(strstr(body(&out), "a control message"));
	assert_int_equal(free_calls, 1);
	lr_result_cleanup(&out);
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
		cmocka_unit_test_setup(test_fn__invoke_an_invalid_event_is_refused_before_anything, frame_up),
		cmocka_unit_test_setup(test_fn__invoke_a_skip_is_the_skipped_result, frame_up),
		cmocka_unit_test_setup(test_fn__invoke_runs_the_decisions_and_finishes_the_report, frame_up),
		cmocka_unit_test_setup(test_fn__invoke_uses_the_report_parse_points_to, frame_up),
		cmocka_unit_test_setup(test_fn__invoke_a_failed_or_answered_run_is_not_finished, frame_up),
	};

	return cmocka_run_group_tests(tests, NULL, frame_free);
}
