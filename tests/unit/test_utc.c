/* Unit tests of runtime/utc.c: every field against glibc's gmtime_r, the
 * oracle utc_tm replaces, over leap-year rules, era edges, pre-1970 instants
 * and a pseudo-random sweep. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <time.h>

#include "utc.h"

/* Compares all fields gmtime_r fills (but tm_gmtoff/tm_zone, which utc_tm
 * does not promise); the failure message names the instant. */
static void check(int64_t secs)
{
	time_t t = (time_t)secs;
	struct tm want, got;
	char what[160];

	assert_non_null(gmtime_r(&t, &want));
	utc_tm(secs, &got);
	snprintf(what, sizeof(what),
		 "%lld: want %d-%d-%d %d:%d:%d wday %d yday %d, got %d-%d-%d %d:%d:%d wday %d yday %d",
		 (long long)secs, want.tm_year, want.tm_mon, want.tm_mday, want.tm_hour,
		 want.tm_min, want.tm_sec, want.tm_wday, want.tm_yday, got.tm_year, got.tm_mon,
		 got.tm_mday, got.tm_hour, got.tm_min, got.tm_sec, got.tm_wday, got.tm_yday);
	if (want.tm_year != got.tm_year || want.tm_mon != got.tm_mon ||
	    want.tm_mday != got.tm_mday || want.tm_hour != got.tm_hour ||
	    want.tm_min != got.tm_min || want.tm_sec != got.tm_sec ||
	    want.tm_wday != got.tm_wday || want.tm_yday != got.tm_yday || got.tm_isdst != 0)
		fail_msg("%s", what);
}

static void test_utc__known_instants(void **st)
{
	struct tm tm;

	(void)st;
	utc_tm(0, &tm);
	assert_int_equal(tm.tm_year, 70);
	assert_int_equal(tm.tm_mon, 0);
	assert_int_equal(tm.tm_mday, 1);
	assert_int_equal(tm.tm_wday, 4);
	/* 2000-02-29T12:34:56Z: a leap day of a year divisible by 400. */
	utc_tm(951827696, &tm);
	assert_int_equal(tm.tm_year, 100);
	assert_int_equal(tm.tm_mon, 1);
	assert_int_equal(tm.tm_mday, 29);
	assert_int_equal(tm.tm_hour, 12);
	assert_int_equal(tm.tm_min, 34);
	assert_int_equal(tm.tm_sec, 56);
	assert_int_equal(tm.tm_yday, 59);
}

/* Every day from 1600 to 2500 at three times of day: all month ends, leap
 * days, and the century years that are not leap years (1700, 1800, 1900,
 * 2100, 2200, 2300) against the oracle. */
static void test_utc__every_day_1600_to_2500(void **st)
{
	const int64_t from = -11676096000LL;	/* 1600-01-01 */
	const int64_t to = 16725225600LL;	/* 2500-01-01 */
	int64_t d;

	(void)st;
	for (d = from; d <= to; d += 86400) {
		check(d);
		check(d + 43199);
		check(d + 86399);
	}
}

static void test_utc__around_the_epoch(void **st)
{
	int64_t s;

	(void)st;
	for (s = -200000; s <= 200000; s += 997)
		check(s);
	check(-1);
	check(1);
	check(2147483647LL);	/* the 32-bit time_t edge */
	check(2147483648LL);
	check(-2147483648LL);
	check(-2147483649LL);
}

static void test_utc__random_sweep(void **st)
{
	uint64_t x = 0x9E3779B97F4A7C15ULL;
	int i;

	(void)st;
	/* +-3e12 s is about +-95,000 years, well inside gmtime_r's range. */
	for (i = 0; i < 200000; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		check((int64_t)(x >> 1) % 3000000000000LL);
	}
}

/* The report/log shape, against strftime over gmtime_r plus the
 * milliseconds, and the sub-second digits kept as they are. */
/* utc_days_from_civil is utc_tm's inverse and agrees with glibc's timegm
 * for every day from 1600 to 2500. */
static void test_utc__days_from_civil(void **st)
{
	const int64_t from = -11676096000LL;	/* 1600-01-01 */
	const int64_t to = 16725225600LL;	/* 2500-01-01 */
	int64_t d;

	(void)st;
	for (d = from; d <= to; d += 86400) {
		struct tm tm;
		time_t t;

		utc_tm(d, &tm);
		if (utc_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday) * 86400 != d)
			fail_msg("%lld: days_from_civil(%d-%d-%d) wrong", (long long)d,
				 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
		tm.tm_isdst = 0;
		t = timegm(&tm);
		if ((int64_t)t != d)
			fail_msg("%lld: timegm disagrees (%lld)", (long long)d, (long long)t);
	}
	assert_int_equal(utc_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(utc_days_from_civil(2000, 3, 1), 11017);
}

static void test_utc__format_ms(void **st)
{
	const int64_t cases[] = { 0, 999, 1000, 1570036848551LL, 951827696007LL, 4102444799999LL };
	char got[UTC_ISO_LEN], want[UTC_ISO_LEN];
	size_t i, n;

	(void)st;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		time_t t = (time_t)(cases[i] / 1000);
		struct tm tm;

		assert_non_null(gmtime_r(&t, &tm));
		n = strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(want + n, sizeof(want) - n, ".%03dZ", (int)(cases[i] % 1000));
		utc_format_ms(cases[i], got);
		assert_string_equal(got, want);
	}
	utc_format_ms(1570036848551LL, got);
	assert_string_equal(got, "2019-10-02T17:20:48.551Z");
}

/* Whole seconds (root-verify's window and its CLI line): gmtime_r's fields. */
static void test_utc__format_s(void **st)
{
	static const int64_t cases[] = { 0, 999, 1570036848551LL, 1796601599999LL, 951782400000LL,
					 4102444800000LL };
	char got[UTC_ISO_LEN], want[UTC_ISO_LEN];
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		time_t t = (time_t)(cases[i] / 1000);
		struct tm tm;

		assert_non_null(gmtime_r(&t, &tm));
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
		utc_format_s(cases[i], got);
		assert_string_equal(got, want);
	}
	utc_format_s(1570036848551LL, got);
	assert_string_equal(got, "2019-10-02T17:20:48Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utc__known_instants),
		cmocka_unit_test(test_utc__every_day_1600_to_2500),
		cmocka_unit_test(test_utc__around_the_epoch),
		cmocka_unit_test(test_utc__random_sweep),
		cmocka_unit_test(test_utc__days_from_civil),
		cmocka_unit_test(test_utc__format_ms),
		cmocka_unit_test(test_utc__format_s),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
