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

#include <stdio.h>
#include <strings.h>

#include "aws.h"
#include "cwl.h"
#include "http.h"
#include "kit.h"
#include "resp.h"

#include "kit_fake.h"

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
	(void)line;
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
		cmocka_unit_test(test_cwl__log_key_and_gzip),
		cmocka_unit_test(test_cwl__page_lines_and_cap),
		cmocka_unit_test(test_cwl__awslogs),
		cmocka_unit_test(test_cwl__filter_window),
		cmocka_unit_test(test_cwl__delivery_trigger),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
