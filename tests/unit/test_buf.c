/* Unit tests of runtime/buf.c: the hard cap, printf, reset, detach. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "buf.h"
#include "http.h"
#include "wipecheck.h"

static void test_buf__append_and_nul(void **st)
{
	struct buf b;

	(void)st;
	buf_init(&b, 100);
	assert_null(b.data);
	assert_int_equal(buf_append(&b, "ab", 2), FB_OK);
	assert_int_equal(buf_puts(&b, "cd"), FB_OK);
	assert_int_equal(buf_putc(&b, 'e'), FB_OK);
	assert_int_equal(b.len, 5);
	assert_string_equal(b.data, "abcde");
	assert_int_equal(buf_append(&b, "", 0), FB_OK);
	assert_int_equal(b.len, 5);
	buf_cleanup(&b);
	assert_null(b.data);
}

/* Table: appends around the cap. */
static void test_buf__cap(void **st)
{
	static const struct {
		size_t max, first, second;
		enum fb_err want;
		size_t len_after;
	} cases[] = {
		{ 10, 5, 5, FB_OK, 10 },
		{ 10, 5, 6, FB_E_TOO_LARGE, 5 },
		{ 10, 10, 1, FB_E_TOO_LARGE, 10 },
		{ 0, 0, 1, FB_E_TOO_LARGE, 0 },
		{ 1000, 999, 1, FB_OK, 1000 },
	};
	char src[2048];
	struct buf b;
	size_t i;

	(void)st;
	memset(src, 'q', sizeof(src));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_init(&b, cases[i].max);
		assert_int_equal(buf_append(&b, src, cases[i].first), FB_OK);
		assert_int_equal(buf_append(&b, src, cases[i].second), cases[i].want);
		assert_int_equal(b.len, cases[i].len_after);
		if (b.data) {
			assert_int_equal(b.data[b.len], '\0');
			assert_true(b.cap <= cases[i].max + 1);
		}
		buf_cleanup(&b);
	}
}

/* SIZE_MAX-sized requests must fail cleanly, not wrap around. */
static void test_buf__no_overflow(void **st)
{
	struct buf b;

	(void)st;
	buf_init(&b, 16);
	assert_int_equal(buf_puts(&b, "abc"), FB_OK);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX), FB_E_TOO_LARGE);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX - 1), FB_E_TOO_LARGE);
	assert_string_equal(b.data, "abc");
	buf_cleanup(&b);
}

static void test_buf__printf(void **st)
{
	struct buf b;

	(void)st;
	buf_init(&b, 32);
	assert_int_equal(buf_printf(&b, "%s=%d", "n", 42), FB_OK);
	assert_int_equal(buf_printf(&b, ";%05.1f", 2.5), FB_OK);
	assert_string_equal(b.data, "n=42;002.5");
	assert_int_equal(b.len, strlen("n=42;002.5"));
	/* past the cap: refused, buffer unchanged */
	assert_int_equal(buf_printf(&b, "%030d", 1), FB_E_TOO_LARGE);
	assert_string_equal(b.data, "n=42;002.5");
	/* exactly to the cap: accepted */
	assert_int_equal(buf_printf(&b, "%022d", 7), FB_OK);
	assert_int_equal(b.len, 32);
	buf_cleanup(&b);
}

static void test_buf__printf_grows(void **st)
{
	struct buf b;
	size_t i;

	(void)st;
	buf_init(&b, 1 << 20);
	for (i = 0; i < 1000; i++)
		assert_int_equal(buf_printf(&b, "%04zu,", i), FB_OK);
	assert_int_equal(b.len, 5000);
	assert_memory_equal(b.data + 4995, "0999,", 5);
	buf_cleanup(&b);
}

static void test_buf__reset_keeps_allocation(void **st)
{
	struct buf b;
	char *before;

	(void)st;
	buf_init(&b, 100);
	assert_int_equal(buf_puts(&b, "hello"), FB_OK);
	before = b.data;
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_ptr_equal(b.data, before);
	assert_string_equal(b.data, "");
	assert_int_equal(buf_puts(&b, "x"), FB_OK);
	assert_string_equal(b.data, "x");
	buf_cleanup(&b);
}

static void test_buf__detach(void **st)
{
	struct buf b;
	size_t len = 99;
	char *p;

	(void)st;
	buf_init(&b, 100);
	assert_int_equal(buf_puts(&b, "owned"), FB_OK);
	p = buf_detach(&b, &len);
	assert_non_null(p);
	assert_string_equal(p, "owned");
	assert_int_equal(len, 5);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	/* the buffer is reusable after detach, with the same cap */
	assert_int_equal(buf_puts(&b, "again"), FB_OK);
	assert_string_equal(b.data, "again");
	buf_cleanup(&b);
	free(p);
}

static void test_buf__detach_empty_gives_empty_string(void **st)
{
	struct buf b;
	size_t len = 99;
	char *p;

	(void)st;
	buf_init(&b, 10);
	p = buf_detach(&b, &len);
	assert_non_null(p);
	assert_string_equal(p, "");
	assert_int_equal(len, 0);
	free(p);
	p = buf_detach(&b, NULL);
	assert_non_null(p);
	free(p);
}

/* Fixed-size fields: truncated and terminated, NULL read as "". */
static void test_buf__copy_str_truncates_and_terminates(void **state)
{
	char d[5];

	(void)state;
	memset(d, 'x', sizeof(d));
	buf_copy_str(d, sizeof(d), "abcdefgh");
	assert_string_equal(d, "abcd");
	buf_copy_str(d, sizeof(d), "ab");
	assert_string_equal(d, "ab");
	buf_copy_str(d, sizeof(d), NULL);
	assert_string_equal(d, "");
}

/* ---- issue 16 item 4: secret bytes never reach the allocator unwiped ---- */

static void test_buf__wipecheck_self_test(void **st)
{
	(void)st;
	wipecheck_self_test();
}

/* A body that grows through many doublings, then is freed. */
static void test_buf__grown_and_freed_buffers_are_wiped(void **st)
{
	struct buf b;
	char chunk[700];
	int i;

	(void)st;
	memset(chunk, 'x', sizeof(chunk));
	wipecheck_arm();
	buf_init(&b, 1u << 20);
	assert_int_equal(buf_puts(&b, "{\"SecretString\":\"" WIPECHECK_CANARY "\"}"), FB_OK);
	for (i = 0; i < 200; i++)   /* 64 B -> 256 KiB: a dozen moves */
		assert_int_equal(buf_append(&b, chunk, sizeof(chunk)), FB_OK);
	buf_cleanup(&b);
	/* printf growth too */
	buf_init(&b, 1u << 20);
	assert_int_equal(buf_printf(&b, "%s %0500d", WIPECHECK_CANARY, 7), FB_OK);
	assert_int_equal(buf_printf(&b, "%05000d", 7), FB_OK);
	buf_cleanup(&b);
	wipecheck_assert_clean();
}

/* Reset keeps the allocation but not what it held. */
static void test_buf__reset_wipes_what_it_held(void **st)
{
	struct buf b;

	(void)st;
	wipecheck_arm();
	buf_init(&b, 4096);
	assert_int_equal(buf_puts(&b, "password=" WIPECHECK_CANARY), FB_OK);
	buf_reset(&b);
	assert_null(memmem(b.data, b.cap, WIPECHECK_CANARY, sizeof(WIPECHECK_CANARY) - 1));
	assert_int_equal(buf_puts(&b, "short"), FB_OK);
	buf_cleanup(&b);
	wipecheck_assert_clean();
}

/* An HTTP response as the transport fills it (headers and body, chunk by
 * chunk, as curl's write callback does), then cleaned up. */
static void test_buf__http_response_is_wiped(void **st)
{
	struct http_response r;
	static const char body[] = "{\"ARN\":\"arn:aws:secretsmanager:us-east-1:111111111111:secret:db\","
				   "\"SecretString\":\"" WIPECHECK_CANARY "\",\"VersionId\":\"v1\"}";
	size_t i;

	(void)st;
	wipecheck_arm();
	http_response_init(&r, 0);
	assert_int_equal(buf_puts(&r.headers, "x-amzn-RequestId: r\r\n"), FB_OK);
	for (i = 0; i < sizeof(body) - 1; i += 7)
		assert_int_equal(buf_append(&r.body, body + i, sizeof(body) - 1 - i < 7 ? sizeof(body) - 1 - i : 7),
				 FB_OK);
	assert_non_null(strstr(r.body.data, WIPECHECK_CANARY));
	http_response_cleanup(&r);
	wipecheck_assert_clean();
}

/* issue 17: an identifier is copied whole or not at all. */
static void test_buf__copy_id(void **st)
{
	char d[6];

	(void)st;
	assert_int_equal(buf_copy_id(d, sizeof(d), "eni-1"), 1);
	assert_string_equal(d, "eni-1");
	assert_int_equal(buf_copy_id(d, sizeof(d), "eni-12"), 0);
	assert_string_equal(d, "");
	assert_int_equal(buf_copy_id(d, sizeof(d), NULL), 1);
	assert_string_equal(d, "");
	assert_int_equal(buf_copy_id(d, 0, "x"), 0);
}

/* buf_catf: a list in a fixed field, cut to fit, never past it. */
static void test_buf__catf_appends_and_cuts(void **st)
{
	char s[12] = "";

	(void)st;
	assert_int_equal(buf_catf(s, sizeof(s), "%s", "ab"), 2);
	assert_int_equal(buf_catf(s, sizeof(s), ", %d", 7), 5);
	assert_string_equal(s, "ab, 7");
	assert_int_equal(buf_catf(s, sizeof(s), ", %s", "cdefghij"), 11);
	assert_string_equal(s, "ab, 7, cdef");
	assert_int_equal(buf_catf(s, sizeof(s), "more"), 11);   /* full: unchanged */
	assert_string_equal(s, "ab, 7, cdef");
	assert_int_equal(buf_catf(s, 0, "x"), 0);
}

/* w4-kc-lr: the growable array (from leak-rotate's grow) and the wipe of a
 * cJSON tree's strings (from leak-rotate's leak_cjson_wipe). */
static void test_buf__grow_array_and_cjson_wipe(void **st)
{
	size_t cap = 0, n;
	int *v = NULL, *nv;
	cJSON *j;
	char *s1, *s2, *s3;

	(void)st;
	for (n = 0; n < 20; n++) {
		nv = buf_grow_array(v, n, &cap, sizeof(*v), 4);
		assert_non_null(nv);
		v = nv;
		v[n] = (int)n;
	}
	assert_int_equal(cap, 32);   /* 4, 8, 16, 32 */
	assert_ptr_equal(buf_grow_array(v, 20, &cap, sizeof(*v), 4), v);   /* room: no growth */
	assert_int_equal(v[19], 19);
	free(v);
	j = cJSON_Parse("{\"a\":\"secret-one\",\"b\":[{\"c\":\"secret-two\"}],\"d\":\"secret-3\"}");
	s1 = cJSON_GetObjectItem(j, "a")->valuestring;
	s2 = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "b"), 0), "c")->valuestring;
	s3 = cJSON_GetObjectItem(j, "d")->valuestring;
	buf_cjson_wipe(j);
	assert_int_equal(s1[0], 0);
	assert_int_equal(s2[0], 0);
	assert_int_equal(s3[0], 0);
	assert_int_equal(s1[9], 0);
	cJSON_Delete(j);
	buf_cjson_wipe(NULL);
	s1 = buf_strdupf("/aws/lambda/%s-%d", "leak-rotate", 2);
	assert_string_equal(s1, "/aws/lambda/leak-rotate-2");
	free(s1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf__copy_id),
		cmocka_unit_test(test_buf__append_and_nul),
		cmocka_unit_test(test_buf__cap),
		cmocka_unit_test(test_buf__no_overflow),
		cmocka_unit_test(test_buf__printf),
		cmocka_unit_test(test_buf__printf_grows),
		cmocka_unit_test(test_buf__reset_keeps_allocation),
		cmocka_unit_test(test_buf__detach),
		cmocka_unit_test(test_buf__detach_empty_gives_empty_string),
		cmocka_unit_test(test_buf__copy_str_truncates_and_terminates),
		cmocka_unit_test(test_buf__wipecheck_self_test),
		cmocka_unit_test(test_buf__grown_and_freed_buffers_are_wiped),
		cmocka_unit_test(test_buf__reset_wipes_what_it_held),
		cmocka_unit_test(test_buf__http_response_is_wiped),
		cmocka_unit_test(test_buf__catf_appends_and_cuts),
		cmocka_unit_test(test_buf__grow_array_and_cjson_wipe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
