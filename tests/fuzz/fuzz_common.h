/*
 * fuzz_common: helpers shared by the libFuzzer targets in tests/fuzz/.
 *
 * Each fuzz_<target>.c defines LLVMFuzzerTestOneInput and may name the extra
 * sources it links beside the runtime sources on a line of its own:
 *     FUZZ_SOURCES: functions/<name>/stages.c
 * run.sh and replay.sh read that line. Without libFuzzer's runtime the
 * targets link with driver.c (a plain main that replays files).
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A NUL-terminated heap copy of the input, as the runtime loop hands events
 * to handlers (lr.c NUL-terminates the body). Caller frees. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Splits the input at the first occurrence of `sep` (a byte): the part
 * before goes to *a/alen, after to *b/blen. No separator: all in b. */
static inline void fuzz_split(const uint8_t *data, size_t size, uint8_t sep,
			      const uint8_t **a, size_t *alen, const uint8_t **b, size_t *blen)
{
	const uint8_t *p = size ? memchr(data, sep, size) : NULL;

	if (!p) {
		*a = data;
		*alen = 0;
		*b = data;
		*blen = size;
		return;
	}
	*a = data;
	*alen = (size_t)(p - data);
	*b = p + 1;
	*blen = size - *alen - 1;
}

#endif
