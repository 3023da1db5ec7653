/*
 * Unit tests for runtime/cwl.{c,h}: CloudWatch Logs streams kept as
 * evidence. The log key and gzip cases moved here from
 * test_task_quarantine.c with the code (issue 17).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cwl.h"

static void test_cwl__log_key_and_gzip(void **st)
{
	char s[128];
	struct buf gz;
	unsigned char back[64];
	uLongf n = sizeof(back);
	z_stream zs;

	(void)st;
	assert_false(cwl_log_key("incidents/x/", "..", s, sizeof(s)));
	assert_false(cwl_log_key("incidents/x/", "", s, sizeof(s)));
	assert_true(cwl_log_key("incidents/x/", "api/../w eb", s, sizeof(s)));
	assert_string_equal(s, "incidents/x/logs/api_.._w_eb.log.gz");
	buf_init(&gz, 4096);
	assert_int_equal(cwl_gzip("hello evidence", 14, &gz), FB_OK);
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
	zs.next_in = (unsigned char *)gz.data;
	zs.avail_in = (uInt)gz.len;
	zs.next_out = back;
	zs.avail_out = (uInt)n;
	assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
	assert_int_equal(zs.total_out, 14);
	assert_memory_equal(back, "hello evidence", 14);
	inflateEnd(&zs);
	buf_cleanup(&gz);
}

/* A page's events as JSON lines, the message exactly; at the cap only
 * whole lines are kept. */
static void test_cwl__page_lines_and_cap(void **st)
{
	cJSON *page = cJSON_Parse("{\"events\":[{\"timestamp\":1,\"ingestionTime\":2,\"message\":\"a \\\"b\\\"\"},"
				  "{\"timestamp\":3,\"message\":\"second line\"}]}");
	struct buf log;
	size_t n = 0;

	(void)st;
	buf_init(&log, 4096);
	assert_int_equal(cwl_append_page(page, &log, &n), FB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(log.data, "{\"timestamp\":1,\"ingestionTime\":2,\"message\":\"a \\\"b\\\"\"}\n"
				      "{\"timestamp\":3,\"message\":\"second line\"}\n");
	buf_cleanup(&log);
	buf_init(&log, 60);
	n = 0;
	assert_int_equal(cwl_append_page(page, &log, &n), FB_E_TOO_LARGE);
	assert_int_equal(n, 1);
	assert_int_equal(log.len, strlen(log.data));
	assert_int_equal(log.data[log.len - 1], '\n');
	buf_cleanup(&log);
	cJSON_Delete(page);
}

/* Where the awslogs driver writes a container (moved with the code from
 * test_task_quarantine.c), from a container definition's logConfiguration. */
static void test_cwl__awslogs(void **st)
{
	char s[128];
	struct cwl_awslogs l;
	cJSON *lc = cJSON_Parse("{\"logDriver\":\"awslogs\",\"options\":{\"awslogs-group\":\"/ecs/api\","
				"\"awslogs-stream-prefix\":\"ecs\"}}");

	(void)st;
	assert_true(cwl_awslogs_stream("ecs", "api", "t1", "rid", s, sizeof(s)));
	assert_string_equal(s, "ecs/api/t1");
	assert_true(cwl_awslogs_stream("", "api", "t1", "rid", s, sizeof(s)));
	assert_string_equal(s, "rid");
	assert_false(cwl_awslogs_stream(NULL, "api", "t1", "", s, sizeof(s)));
	cwl_awslogs(lc, "api", "t1", "rid", "us-east-1", &l);
	assert_int_equal(l.state, CWL_LOG_AWSLOGS);
	assert_string_equal(l.group, "/ecs/api");
	assert_string_equal(l.stream, "ecs/api/t1");
	assert_string_equal(l.region, "us-east-1");
	cJSON_Delete(lc);
	lc = cJSON_Parse("{\"logDriver\":\"awslogs\",\"options\":{\"awslogs-stream-prefix\":\"ecs\"}}");
	cwl_awslogs(lc, "api", "t1", "rid", "us-east-1", &l);
	assert_int_equal(l.state, CWL_LOG_UNKNOWN_STREAM);
	cJSON_Delete(lc);
	lc = cJSON_Parse("{\"logDriver\":\"splunk\"}");
	cwl_awslogs(lc, "api", "t1", "rid", "us-east-1", &l);
	assert_int_equal(l.state, CWL_LOG_OTHER_DRIVER);
	assert_string_equal(l.driver, "splunk");
	cJSON_Delete(lc);
	cwl_awslogs(NULL, "api", "t1", "rid", "us-east-1", &l);
	assert_int_equal(l.state, CWL_LOG_NONE);
}

/* A container's log in a fetch and in the report (moved with the code
 * from task-quarantine, issue 17): an awslogs stream is declared and
 * named for the manifest; any other is a skipped optional line saying why. */
static void test_cwl__add_log_and_report(void **st)
{
	struct resp_config cfg = {0};
	struct lr_context ctx = {0};
	struct resp r;
	struct kit k;
	struct cwl c;
	struct cwl_awslogs aw = { .state = CWL_LOG_AWSLOGS, .driver = "awslogs", .group = "/ecs/api",
				  .stream = "ecs/api/t1" }, other = { .state = CWL_LOG_OTHER_DRIVER, .driver = "splunk" };
	char key[64] = "x";
	cJSON *j;
	char *txt;

	(void)st;
	assert_int_equal(resp_begin(&r, &cfg, "test", &ctx), FB_OK);
	kit_init(&k, &r, NULL);
	cwl_init(&c, &k, &ctx, 1024);
	assert_false(cwl_add_log(&c, "side", &other, key, sizeof(key)));
	assert_int_equal(r.nsteps, 1);
	assert_int_equal(r.steps[0].status, RESP_SKIPPED);
	assert_false(r.steps[0].required);
	assert_string_equal(r.steps[0].detail, "log driver is not awslogs: fetch from that destination by hand");
	other.state = CWL_LOG_NONE;
	assert_false(cwl_add_log(&c, "side", &other, key, sizeof(key)));
	assert_string_equal(r.steps[1].detail, "no log configuration: nothing to fetch");
	assert_true(cwl_add_log(&c, "api", &aw, key, sizeof(key)));
	assert_string_equal(key, "logs/api.log.gz");
	assert_int_equal(c.n, 1);
	assert_string_equal(r.steps[2].target, "ecs/api/t1");
	cwl_cleanup(&c);
	kit_cleanup(&k);
	resp_cleanup(&r);
	j = cwl_awslogs_json(&aw);
	txt = cJSON_PrintUnformatted(j);
	assert_string_equal(txt, "{\"driver\":\"awslogs\",\"group\":\"/ecs/api\",\"stream\":\"ecs/api/t1\"}");
	cJSON_free(txt);
	cJSON_Delete(j);
	aw.state = CWL_LOG_UNKNOWN_STREAM;
	aw.driver[0] = '\0';
	j = cwl_awslogs_json(&aw);
	txt = cJSON_PrintUnformatted(j);
	assert_string_equal(txt, "{\"driver\":\"none\"}");
	cJSON_free(txt);
	cJSON_Delete(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cwl__log_key_and_gzip),
		cmocka_unit_test(test_cwl__page_lines_and_cap),
		cmocka_unit_test(test_cwl__awslogs),
		cmocka_unit_test(test_cwl__add_log_and_report),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
