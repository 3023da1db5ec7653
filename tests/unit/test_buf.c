/* Unit tests of runtime/buf.c: the hard cap, printf, reset, detach. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf__append_and_nul),
		cmocka_unit_test(test_buf__cap),
		cmocka_unit_test(test_buf__no_overflow),
		cmocka_unit_test(test_buf__printf),
		cmocka_unit_test(test_buf__printf_grows),
		cmocka_unit_test(test_buf__reset_keeps_allocation),
		cmocka_unit_test(test_buf__detach),
		cmocka_unit_test(test_buf__detach_empty_gives_empty_string),
		cmocka_unit_test(test_buf__copy_str_truncates_and_terminates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
