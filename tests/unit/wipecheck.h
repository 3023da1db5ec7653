/*
 * wipecheck: catches a secret that reaches the allocator unwiped (issue 16
 * item 4). The test binaries that include this are linked with
 * -Wl,--wrap=free -Wl,--wrap=realloc (Makefile), so every free() and
 * realloc() made by runtime/ code and the test itself passes here first;
 * libcurl, OpenSSL and cJSON are shared libraries and are not wrapped (what
 * they do with their own copies is outside this check).
 *
 * While armed, a block still holding WIPECHECK_CANARY anywhere in its
 * usable size (malloc_usable_size) when it is freed, or when it is handed
 * to realloc (which may move it and free the old copy as it is), counts
 * as a leak. test_*__wipecheck_self_test proves the hook is live: an
 * unwiped free must be seen, or every other wipe test would pass vacuously.
 * Include once per test program, after <cmocka.h>.
 */
#ifndef WIPECHECK_H
#define WIPECHECK_H

#include <malloc.h>
#include <string.h>

#define WIPECHECK_CANARY "wipecheck-CANARY-7f3a9c1e-do-not-leak"

void __real_free(void *p);
void *__real_realloc(void *p, size_t n);
void __wrap_free(void *p);
void *__wrap_realloc(void *p, size_t n);

/* volatile: the compiler knows free() as a builtin that touches no user
 * data, and would otherwise move these stores and loads across the calls */
static volatile int wipecheck_armed;
static volatile size_t wipecheck_frees, wipecheck_reallocs;

static int wipecheck_holds(void *p)
{
	if (!wipecheck_armed || !p)
		return 0;
	return memmem(p, malloc_usable_size(p), WIPECHECK_CANARY, sizeof(WIPECHECK_CANARY) - 1) != NULL;
}

void __wrap_free(void *p)
{
	if (wipecheck_holds(p))
		wipecheck_frees++;
	__real_free(p);
}

void *__wrap_realloc(void *p, size_t n)
{
	if (wipecheck_holds(p))
		wipecheck_reallocs++;
	return __real_realloc(p, n);
}

static void wipecheck_arm(void)
{
	wipecheck_frees = wipecheck_reallocs = 0;
	wipecheck_armed = 1;
}

/* Disarms; fails the test when a canary reached free() or realloc(). */
static void wipecheck_assert_clean(void)
{
	wipecheck_armed = 0;
	if (wipecheck_frees || wipecheck_reallocs)
		fail_msg("secret bytes reached the allocator unwiped: %zu free(), %zu realloc()",
			 (size_t)wipecheck_frees, (size_t)wipecheck_reallocs);
}

/* The hook itself: an unwiped free is seen. */
static void wipecheck_self_test(void)
{
	char *p = malloc(128);

	assert_non_null(p);
	memcpy(p + 40, WIPECHECK_CANARY, sizeof(WIPECHECK_CANARY));
	/* the compiler may drop a store into a block that is freed next: make
	 * the block's contents observable, as they are to the allocator */
	__asm__ __volatile__("" : : "r"(p) : "memory");
	wipecheck_arm();
	free(p);
	wipecheck_armed = 0;
	assert_int_equal(wipecheck_frees, 1);
	wipecheck_frees = 0;
}

#endif
