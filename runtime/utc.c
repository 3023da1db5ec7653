/*
 * utc: seconds since the epoch to civil UTC fields, by arithmetic alone
 * (see utc.h for why not gmtime_r).
 *
 * The date part is the days-to-civil algorithm from Howard Hinnant's
 * "chrono-Compatible Low-Level Date Algorithms": count in 400-year eras of
 * 146097 days, with years that start on March 1 so that the leap day is
 * the last day of its year and month lengths follow a 153-day pattern.
 */
#include "utc.h"

#include <stdio.h>
#include <string.h>

/* Floor division and the matching non-negative remainder: C's '/' rounds
 * toward zero, which would put instants before 1970 in the wrong day. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void utc_tm(int64_t secs, struct tm *out)
{
	int64_t days = floor_div(secs, 86400);
	int64_t sod = secs - days * 86400;	/* 0 .. 86399 */
	int64_t z = days + 719468;		/* days since 0000-03-01 */
	int64_t era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;		/* day of era, 0 .. 146096 */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100); /* from March 1 */
	int64_t mp = (5 * doy + 2) / 153;	/* month from March, 0 .. 11 */
	int64_t year = yoe + era * 400 + (mp >= 10);
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	memset(out, 0, sizeof(*out));
	out->tm_sec = (int)(sod % 60);
	out->tm_min = (int)(sod / 60 % 60);
	out->tm_hour = (int)(sod / 3600);
	out->tm_mday = (int)(doy - (153 * mp + 2) / 5 + 1);
	out->tm_mon = (int)(mp < 10 ? mp + 2 : mp - 10);
	out->tm_year = (int)(year - 1900);
	/* 1970-01-01 was a Thursday (4). */
	out->tm_wday = (int)(days - floor_div(days + 4, 7) * 7 + 4);
	/* January 1 is March-based day 306; March 1 is day 59 or 60. */
	out->tm_yday = (int)(mp >= 10 ? doy - 306 : doy + 59 + leap);
	out->tm_isdst = 0;
}

int64_t utc_days_from_civil(int64_t y, int m, int d)
{
	int64_t yy = y - (m <= 2);		/* years start on March 1 */
	int64_t era = floor_div(yy, 400);
	int64_t yoe = yy - era * 400;		/* 0 .. 399 */
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

void utc_format_ms(int64_t ms, char out[UTC_ISO_LEN])
{
	struct tm tm;
	size_t n;

	utc_tm(ms / 1000, &tm);
	if ((n = strftime(out, UTC_ISO_LEN, "%Y-%m-%dT%H:%M:%S", &tm)) == 0) {
		out[0] = '\0';
		return;
	}
	/* strftime has no milliseconds; append them. */
	snprintf(out + n, UTC_ISO_LEN - n, ".%03uZ", (unsigned)((ms % 1000 + 1000) % 1000));
}

void utc_format_s(int64_t ms, char out[UTC_ISO_LEN])
{
	struct tm tm;

	utc_tm(ms / 1000, &tm);
	if (strftime(out, UTC_ISO_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		out[0] = '\0';
}
