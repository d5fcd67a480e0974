/* What every libFuzzer target here shares: a check that aborts (libFuzzer
 * keeps the input as a crash) naming the target and the line, and exact
 * heap copies, so that a read one byte past the input is an ASan report. */
#ifndef PARLAB_FUZZ_CHECK_H
#define PARLAB_FUZZ_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* FUZZ_TARGET is the target's name, defined before this header. */
#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, FUZZ_TARGET ": check failed at %s:%d: %s\n", \
				__FILE__, __LINE__, #cond);                  \
			abort();                                             \
		}                                                            \
	} while (0)

/* A heap copy of exactly len bytes (the caller frees it). */
static inline unsigned char *exact(const uint8_t *p, size_t len)
{
	unsigned char *c = malloc(len ? len : 1);

	CHECK(c);
	if (len)
		memcpy(c, p, len);
	return c;
}

#endif
