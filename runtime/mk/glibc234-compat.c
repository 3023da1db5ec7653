/*
 * glibc 2.34 compatibility for the arm64 packages (linked into every
 * packaged bootstrap by runtime/mk/arm64.mk, never into the native build).
 *
 * provided.al2023 ships glibc 2.34; we link against Debian 12's 2.36.
 * Debian's static libexpat.a was configured against 2.36, found
 * arc4random_buf() and calls it to salt its hash tables, which would make
 * every bootstrap need arc4random_buf@GLIBC_2.36 and fail to load on Lambda
 * ("version `GLIBC_2.36' not found"). A .symver alias cannot help: no older
 * version of the symbol exists. Defining it here makes the static link
 * resolve expat's call to this copy, so no versioned reference to glibc is
 * left. It draws from getrandom() (GLIBC_2.25, Linux 3.17), the same kernel
 * source glibc 2.36's arc4random_buf uses.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/random.h>

void arc4random_buf(void *p, size_t n);

void arc4random_buf(void *p, size_t n)
{
	unsigned char *out = p;

	while (n > 0) {
		ssize_t got = getrandom(out, n, 0);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			/* Like glibc's: arc4random_buf has no way to report failure,
			 * and a predictable hash salt must not be used silently. */
			abort();
		}
		out += got;
		n -= (size_t)got;
	}
}
