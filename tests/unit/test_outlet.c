/* Unit tests of runtime/outlet.c's pure stages and the issue 24 pieces of
 * runtime/resp.c: the EventBridge detail (the report, or a summary within
 * the 256 KB entry limit), the workflow status per verdict, the ASFF finding
 * (botocore's required members, Security Hub's limits), the finding a
 * trigger names, the EMF document, and the verdict staying the responder's
 * when reporting lines are added. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "outlet.h"
#include "resp.h"

static struct resp_config cfg;

static void begin(struct resp *r)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.metrics = 1;
	strcpy(cfg.metrics_ns, "Firebreak/t");
	assert_int_equal(resp_begin(r, &cfg, "kms-guard", NULL), FB_OK);
	resp_set_resource(r, "arn:aws:kms:us-east-1:222222222222:key/k", "222222222222", "us-east-1");
}

static void test_outlet__detail_is_the_report_when_it_fits(void **st)
{
	struct resp r;
	const char *rep = "{\"incident_id\":\"fb-1\"}";
	char *d;

	(void)st;
	begin(&r);
	d = outlet_event_detail(&r, rep, strlen(rep), NULL);
	assert_string_equal(d, rep);
	free(d);
	resp_cleanup(&r);
}

static void test_outlet__summary_past_the_entry_limit(void **st)
{
	struct resp r;
	size_t n = OUTLET_ENTRY_MAX, i;
	char *big = malloc(n + 1), *d;
	cJSON *j;
	int idx;

	(void)st;
	begin(&r);
	for (i = 0; i < 120; i++) {
		idx = resp_step_begin(&r, "write-a-long-step-name", "kms:EnableKey", "t", RESP_WRITE);
		resp_step_end(&r, idx, i % 2 ? RESP_DONE : RESP_FAILED, "x", NULL);
	}
	memset(big, 'a', n);
	big[n] = '\0';
	/* exactly at the limit with Source + DetailType: the report itself */
	d = outlet_event_detail(&r, big, n - strlen(OUTLET_SOURCE) - strlen(OUTLET_DETAIL_TYPE), NULL);
	assert_int_equal(strlen(d), n - strlen(OUTLET_SOURCE) - strlen(OUTLET_DETAIL_TYPE)); /* fits: as is */
	free(d);
	/* one byte more: the summary */
	d = outlet_event_detail(&r, big, n - strlen(OUTLET_SOURCE) - strlen(OUTLET_DETAIL_TYPE) + 1, NULL);
	assert_non_null(d);
	assert_true(strlen(d) + strlen(OUTLET_SOURCE) + strlen(OUTLET_DETAIL_TYPE) <= OUTLET_ENTRY_MAX);
	j = cJSON_Parse(d);
	assert_non_null(j);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "truncated")));
	assert_int_equal((int)cJSON_GetObjectItem(j, "report_bytes")->valuedouble,
			 (int)(n - strlen(OUTLET_SOURCE) - strlen(OUTLET_DETAIL_TYPE) + 1));
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "actions_by_status"), "failed")->valueint, 60);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "failed_steps")), 50);
	assert_string_equal(cJSON_GetObjectItem(j, "verdict")->valuestring, "failed");
	cJSON_Delete(j);
	free(d);
	free(big);
	resp_cleanup(&r);
}

static void test_outlet__workflow_status(void **st)
{
	(void)st;
	assert_string_equal(outlet_workflow_status("contained"), "RESOLVED");
	assert_string_equal(outlet_workflow_status("already-contained"), "RESOLVED");
	assert_string_equal(outlet_workflow_status("failed"), "NOTIFIED");
	assert_string_equal(outlet_workflow_status("skipped: trusted actor"), "NOTIFIED");
	assert_string_equal(outlet_workflow_status("planned (dry run)"), "NOTIFIED");
	assert_string_equal(outlet_workflow_status("no action"), "NOTIFIED");
	assert_string_equal(outlet_workflow_status(NULL), "NOTIFIED");
}

static void test_outlet__asff_required_members_and_limits(void **st)
{
	/* botocore 1.29 AwsSecurityFinding.required */
	static const char *const req[] = { "SchemaVersion", "Id", "ProductArn", "GeneratorId",
					   "AwsAccountId", "CreatedAt", "UpdatedAt", "Title",
					   "Description", "Resources" };
	struct resp r;
	char longv[3000];
	cJSON *f, *res;
	size_t i;

	(void)st;
	begin(&r);
	memset(longv, 'v', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	resp_set_verdict(&r, "%s", longv);
	f = outlet_asff(&r, "111111111111", "us-east-1", "aws", 1700000000000LL);
	for (i = 0; i < sizeof(req) / sizeof(req[0]); i++)
		assert_non_null(cJSON_GetObjectItem(f, req[i]));
	assert_string_equal(cJSON_GetObjectItem(f, "ProductArn")->valuestring,
			    "arn:aws:securityhub:us-east-1:111111111111:product/111111111111/default");
	assert_string_equal(cJSON_GetObjectItem(f, "AwsAccountId")->valuestring, "111111111111");
	assert_true(strlen(cJSON_GetObjectItem(f, "Title")->valuestring) <= 256);
	assert_true(strlen(cJSON_GetObjectItem(f, "Description")->valuestring) <= 1024);
	assert_string_equal(cJSON_GetObjectItem(f, "UpdatedAt")->valuestring, "2023-11-14T22:13:20.000Z");
	res = cJSON_GetArrayItem(cJSON_GetObjectItem(f, "Resources"), 0);
	assert_string_equal(cJSON_GetObjectItem(res, "Id")->valuestring,
			    "arn:aws:kms:us-east-1:222222222222:key/k");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(f, "Severity"), "Label")->valuestring,
			    "CRITICAL");   /* P1 */
	cJSON_Delete(f);
	resp_cleanup(&r);
}

static cJSON *parse(const char *s)
{
	cJSON *j = cJSON_Parse(s);

	assert_non_null(j);
	return j;
}

static void test_outlet__finding_ref_from_the_trigger(void **st)
{
	cJSON *ev, *ref;

	(void)st;
	ev = parse("{\"source\":\"aws.guardduty\",\"detail-type\":\"GuardDuty Finding\",\"detail\":"
		   "{\"arn\":\"arn:aws-us-gov:guardduty:us-gov-west-1:111111111111:detector/d/finding/f\"}}");
	ref = resp_finding_ref(ev);
	assert_string_equal(cJSON_GetObjectItem(ref, "Id")->valuestring,
			    "arn:aws-us-gov:guardduty:us-gov-west-1:111111111111:detector/d/finding/f");
	assert_string_equal(cJSON_GetObjectItem(ref, "ProductArn")->valuestring,
			    "arn:aws-us-gov:securityhub:us-gov-west-1::product/aws/guardduty");
	cJSON_Delete(ref);
	cJSON_Delete(ev);
	ev = parse("{\"source\":\"aws.securityhub\",\"detail-type\":\"Security Hub Findings - Imported\","
		   "\"detail\":{\"findings\":[{\"Id\":\"x/1\",\"ProductArn\":"
		   "\"arn:aws:securityhub:us-east-1::product/aws/securityhub\"}]}}");
	ref = resp_finding_ref(ev);
	assert_string_equal(cJSON_GetObjectItem(ref, "Id")->valuestring, "x/1");
	cJSON_Delete(ref);
	cJSON_Delete(ev);
	/* not a finding, a forged ARN, a product that is not Security Hub's */
	ev = parse("{\"source\":\"aws.kms\",\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":{}}");
	assert_null(resp_finding_ref(ev));
	cJSON_Delete(ev);
	ev = parse("{\"source\":\"aws.guardduty\",\"detail-type\":\"GuardDuty Finding\",\"detail\":"
		   "{\"arn\":\"arn:aws:iam::111111111111:role/x\"}}");
	assert_null(resp_finding_ref(ev));
	cJSON_Delete(ev);
	ev = parse("{\"source\":\"aws.securityhub\",\"detail-type\":\"Security Hub Findings - Imported\","
		   "\"detail\":{\"findings\":[{\"Id\":\"x\",\"ProductArn\":\"arn:aws:s3:::b\"}]}}");
	assert_null(resp_finding_ref(ev));
	cJSON_Delete(ev);
	ev = parse("{\"detail\":{}}");   /* manual */
	assert_null(resp_finding_ref(ev));
	cJSON_Delete(ev);
}

static void test_outlet__reporting_lines_never_make_a_verdict(void **st)
{
	struct resp r;
	int idx;
	cJSON *emf;

	(void)st;
	begin(&r);
	/* nothing contained; the report went out: still "no action" */
	idx = resp_step_begin_notify(&r, "publish-event", "events:PutEvents", "default");
	resp_step_end(&r, idx, RESP_DONE, "ok", NULL);
	assert_string_equal(resp_verdict(&r), "no action");
	idx = resp_step_begin_notify(&r, "import-finding", "securityhub:BatchImportFindings", "x");
	resp_step_end(&r, idx, RESP_FAILED, "refused", NULL);
	assert_int_equal(resp_failed(&r), 0);   /* optional */
	emf = resp_metrics_emf(&r, 1700000000000LL);
	assert_int_equal(cJSON_GetObjectItem(emf, "NotificationsFailed")->valueint, 1);
	assert_int_equal(cJSON_GetObjectItem(emf, "ActionsDone")->valueint, 0);
	assert_int_equal(cJSON_GetObjectItem(emf, "ActionsFailed")->valueint, 0);
	cJSON_Delete(emf);
	resp_cleanup(&r);
	/* under dry run a reporting line is not planned */
	begin(&r);
	r.dry_run = 1;
	idx = resp_step_begin_notify(&r, "publish-event", "events:PutEvents", "default");
	assert_int_equal(r.steps[idx].ended, 0);
	resp_step_end(&r, idx, RESP_DONE, "ok", NULL);
	assert_string_equal(resp_verdict(&r), "no action");
	resp_cleanup(&r);
}

static void test_outlet__emf_document(void **st)
{
	struct resp r;
	int idx;
	cJSON *emf, *d, *m, *it;
	int names = 0, ttc = 0;

	(void)st;
	begin(&r);
	r.event_time_ms = r.received_ms - 5000;
	idx = resp_step_begin(&r, "enable-key", "kms:EnableKey", "k", RESP_WRITE);
	resp_step_end(&r, idx, RESP_DONE, "ok", NULL);
	idx = resp_step_begin(&r, "tag", "kms:TagResource", "k", RESP_WRITE);
	resp_step_optional(&r, idx);
	resp_step_end(&r, idx, RESP_FAILED, "no", NULL);
	resp_contained(&r);
	emf = resp_metrics_emf(&r, 1700000000000LL);
	assert_int_equal((long long)cJSON_GetObjectItem(cJSON_GetObjectItem(emf, "_aws"), "Timestamp")->valuedouble,
			 1700000000000LL);
	d = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(emf, "_aws"), "CloudWatchMetrics"), 0);
	assert_string_equal(cJSON_GetObjectItem(d, "Namespace")->valuestring, "Firebreak/t");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(d, "Dimensions")), 2);
	m = cJSON_GetObjectItem(d, "Metrics");
	/* every metric declared has its value at the top level (EMF's rule) */
	cJSON_ArrayForEach(it, m) {
		const char *n = cJSON_GetObjectItem(it, "Name")->valuestring;

		assert_true(cJSON_IsNumber(cJSON_GetObjectItem(emf, n)));
		names++;
		ttc += !strcmp(n, "TimeToContain");
	}
	assert_int_equal(names, 9);
	assert_int_equal(ttc, 1);
	assert_true(cJSON_GetObjectItem(emf, "TimeToContain")->valuedouble >= 5000);
	assert_int_equal(cJSON_GetObjectItem(emf, "ActionsDone")->valueint, 1);
	assert_int_equal(cJSON_GetObjectItem(emf, "ActionsFailed")->valueint, 1);
	assert_int_equal(cJSON_GetObjectItem(emf, "ContainmentFailed")->valueint, 0);
	assert_string_equal(cJSON_GetObjectItem(emf, "Function")->valuestring, "kms-guard");
	cJSON_Delete(emf);
	resp_cleanup(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outlet__detail_is_the_report_when_it_fits),
		cmocka_unit_test(test_outlet__summary_past_the_entry_limit),
		cmocka_unit_test(test_outlet__workflow_status),
		cmocka_unit_test(test_outlet__asff_required_members_and_limits),
		cmocka_unit_test(test_outlet__finding_ref_from_the_trigger),
		cmocka_unit_test(test_outlet__reporting_lines_never_make_a_verdict),
		cmocka_unit_test(test_outlet__emf_document),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
