/*
 * utc: the calendar fields of a UTC time, without the C library's time
 * zone machinery.
 *
 * POSIX has gmtime_r behave as if tzset() had run, and glibc does run it:
 * the first call in a process opens and parses /etc/localtime (or the file
 * $TZ names). Every firebreak function formats a UTC timestamp on its first
 * log line, so that read would sit on the cold-start path, for a zone no
 * UTC conversion needs. This is the proleptic Gregorian calendar, the same
 * fields gmtime_r gives (tests/unit/test_utc.c compares the two).
 */
#ifndef UTC_H
#define UTC_H

#include <stdint.h>
#include <time.h>

/* Fills *out for secs since 1970-01-01T00:00:00Z: tm_year .. tm_sec,
 * tm_wday, tm_yday; tm_isdst 0. Defined for every int64_t whose year fits
 * an int (roughly +-2^31 years; callers pass clock times). Pure, no I/O,
 * thread-safe. out: caller-owned. */
void utc_tm(int64_t secs, struct tm *out);

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d (m 1..12,
 * d 1..31, not checked against the month: callers validate), the inverse
 * of utc_tm's date part and what timegm computes without its time zone
 * read. Pure. */
int64_t utc_days_from_civil(int64_t y, int m, int d);

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" for ms since the epoch: the one timestamp
 * shape of log lines and reports (Lambda's managed runtimes log the same).
 * out: caller-owned, UTC_ISO_LEN bytes; empty string if it cannot be
 * formatted. */
#define UTC_ISO_LEN 32
void utc_format_ms(int64_t ms, char out[UTC_ISO_LEN]);
/* "YYYY-MM-DDTHH:MM:SSZ", whole seconds (ms / 1000, as gmtime_r of that
 * time_t): the shape CloudTrail and the AWS CLI's --start-time take. */
void utc_format_s(int64_t ms, char out[UTC_ISO_LEN]);

#endif
