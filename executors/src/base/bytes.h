/* A byte buffer that is inline when small: where its bytes are follows
 * from its size, so it needs no pointer to them and takes 24 bytes (a
 * future carries one, for a million tasks at once). */
#ifndef CF_BASE_BYTES_H
#define CF_BASE_BYTES_H

#include "cf.h"

#include <stddef.h>

/* Arguments and results this small live inside the future or task, which
 * saves two allocations per task on the hot path. */
#define CF_INLINE_BYTES 16

/* A member of this type is declared alignas(max_align_t), which puts
 * inline_buf, at offset 0, where malloc would put it: a task may build a
 * result of any type there. */
struct cf_bytes {
	union {
		unsigned char inline_buf[CF_INLINE_BYTES];      /* size <= CF_INLINE_BYTES */
		void *heap;                                     /* larger: malloc'ed */
	};
	size_t size;
};

/* The bytes, or NULL when there are none. */
static inline void *cf__bytes_data(struct cf_bytes *b)
{
	if (b->size == 0)
		return NULL;
	return b->size <= CF_INLINE_BYTES ? (void *)b->inline_buf : b->heap;
}

/* A copy of data (which may lie in b itself); CF_OK or CF_NOMEM. */
int cf__bytes_set(struct cf_bytes *b, const void *data, size_t size);
/* Takes a malloc'ed buffer: kept as it is when large (b frees it), copied
 * inline and freed when small. */
void cf__bytes_adopt(struct cf_bytes *b, void *data, size_t size);
/* Moves src into dst (dst must be empty), leaving src empty. */
void cf__bytes_move(struct cf_bytes *dst, struct cf_bytes *src);
void cf__bytes_clear(struct cf_bytes *b);

#endif
