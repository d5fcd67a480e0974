/* Byte buffers that keep small contents inline (base/bytes.h). */
#include "base/bytes.h"

#include <stdlib.h>
#include <string.h>

/* data may lie in b itself (a task that returns part of the buffer
 * cf_task_result_buffer gave it): the bytes are copied out before b's
 * old buffer is freed, and through a copy when they go inline. */
int cf__bytes_set(struct cf_bytes *b, const void *data, size_t size)
{
	unsigned char small[CF_INLINE_BYTES];
	void *heap = NULL;

	if (size > CF_INLINE_BYTES) {
		heap = malloc(size);
		if (!heap)
			return CF_NOMEM;
		memcpy(heap, data, size);
	} else if (size) {
		memcpy(small, data, size);
	}
	cf__bytes_clear(b);
	if (heap)
		b->heap = heap;
	else if (size)
		memcpy(b->inline_buf, small, size);
	b->size = size;
	return CF_OK;
}

void cf__bytes_adopt(struct cf_bytes *b, void *data, size_t size)
{
	cf__bytes_clear(b);
	if (size > CF_INLINE_BYTES) {
		b->heap = data;
	} else {
		if (size)
			memcpy(b->inline_buf, data, size);
		free(data);
	}
	b->size = size;
}

void cf__bytes_move(struct cf_bytes *dst, struct cf_bytes *src)
{
	*dst = *src;
	src->size = 0;
}

void cf__bytes_clear(struct cf_bytes *b)
{
	if (b->size > CF_INLINE_BYTES)
		free(b->heap);
	b->size = 0;
}
