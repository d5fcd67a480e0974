/* A map's chunks: several items carried by one task, and the reply that
 * brings their results back.  A chunk takes one of two forms, chosen when
 * it is made from what the backend is (struct cf_backend, shares_memory):
 *
 * LOCAL, for a backend whose tasks run in the caller's address space
 * (threads): struct cf_chunk_local, a plain structure that names the
 * function by pointer and may point into the caller's arrays.  It never
 * leaves the process.
 *
 * REMOTE, for every other backend (processes, and later other machines):
 * bytes that say everything explicitly, like the wire's frames (wire.h).
 * All integers are little-endian:
 *
 *   offset size  field
 *   0      4     magic "CFM1"
 *   4      1     version (1)
 *   5      1     kind (enum cf_chunk_kind)
 *   6      2     reserved, zero
 *   8      8     count: the items of the chunk
 *   16     8     item_size: bytes of each item (0: the items have none)
 *   24     8     result_size: bytes of each result; 0 for RECORDS, which
 *                may return any size
 *   32     8     first_index: the chunk's first item in the whole map
 *   40     ...   the function: a function reference (wire.h)
 *
 * then zeros up to a multiple of CF_CHUNK_ALIGN, then the items and
 * nothing after them: count of them, each item_size bytes followed by
 * zeros up to the stride, which is item_size rounded up to CF_CHUNK_ALIGN
 * for RECORDS and DENSE (a task sees its item aligned for any type) and
 * item_size itself for WHOLE (the function sees the items as the caller's
 * array holds them).  WHOLE with item_size 0 runs on a cf_range
 * {first_index, count} instead.
 *
 * Replies are encoded the same way whichever form the chunk had.
 *
 * RECORDS (cf_map): one record per item, in order, each
 *
 *   0      4     status: 0 a result, 1 the item failed
 *   4      4     reserved, zero
 *   8      8     length of the bytes that follow
 *   16     ...   the bytes, then zeros up to a multiple of CF_CHUNK_ALIGN
 *
 * so that every result lies aligned for any type.  A failed item's bytes
 * are its error as a wire ERROR payload (i32 code, then the message); it
 * is the last record.
 *
 * DENSE (cf_map_into) and WHOLE (cf_map_batches):
 *
 *   0      8     done: the items before the first failure (WHOLE: all
 *                of them or none)
 *   8      4     failed: 1 when item `done` (WHOLE: the chunk) failed
 *   12     4     length of the error at the end (0 unless failed)
 *   16     ...   done results of result_size bytes, back to back as they
 *                will lie in the caller's array; absent when the chunk
 *                wrote them there itself (LOCAL, in place)
 *   then the error, a wire ERROR payload
 *
 * Decoding never trusts the bytes: a bad magic, version, kind or reserved
 * field, a length the bytes do not hold, or a count whose reply could not
 * fit in a frame (CF_WIRE_MAX_PAYLOAD) is an error, never read past.
 */
#ifndef CF_MAP_CHUNK_H
#define CF_MAP_CHUNK_H

#include "cf.h"
#include "wire/le.h"
#include "wire/wire.h"

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define CF_CHUNK_ALIGN 16
#define CF_CHUNK_HEADER_SIZE 40
#define CF_CHUNK_RECORD_HEADER_SIZE 16
#define CF_CHUNK_DENSE_HEADER_SIZE 16

enum cf_chunk_kind {
	CF_CHUNK_RECORDS,       /* cf_map: a record per item, of any size */
	CF_CHUNK_DENSE,         /* cf_map_into: result_size bytes per item */
	CF_CHUNK_WHOLE,         /* cf_map_batches: fn once on all the items */
	CF_CHUNK_KIND_MAX = CF_CHUNK_WHOLE,
};

/* A chunk as its runner sees it, whichever form brought it. */
struct cf_chunk {
	enum cf_chunk_kind kind;
	cf_fn fn;               /* LOCAL only: REMOTE names it by reference */
	/* count items, item_stride bytes apart; NULL when item_size is 0 */
	const unsigned char *items;
	size_t item_size, item_stride, count;
	size_t result_size;
	size_t first_index;
	/* LOCAL only: where in the caller's array the chunk writes its
	 * results itself (DENSE, WHOLE); NULL: they go in the reply. */
	unsigned char *results;
};

/* The LOCAL form: the chunk, then its items when they were copied. */
struct cf_chunk_local {
	/* chunk.items is the caller's array, or NULL for the copy below */
	struct cf_chunk chunk;
	alignas(max_align_t) unsigned char items[];
};

/* The stride of a chunk's own copy of its items (see above). */
size_t cf__chunk_stride(enum cf_chunk_kind kind, size_t item_size);

/* ---- LOCAL ---- */

/* Bytes of the local form of c, with a copy of its items (read from
 * c->items, c->item_stride apart) when copy_items; 0 when too large. */
size_t cf__chunk_local_size(const struct cf_chunk *c, bool copy_items);
void cf__chunk_put_local(struct cf_chunk_local *out, const struct cf_chunk *c, bool copy_items);
/* The chunk a local form holds, its items found. */
void cf__chunk_get_local(const struct cf_chunk_local *in, struct cf_chunk *c);

/* ---- REMOTE ---- */

/* Bytes of the remote form of c (its items read from c->items,
 * c->item_stride apart), its function named by ref; 0 when too large. */
size_t cf__chunk_remote_size(const struct cf_chunk *c, const struct cf_fnref *ref);
void cf__chunk_put_remote(unsigned char *out, const struct cf_chunk *c, const struct cf_fnref *ref);
/* Decodes a remote chunk of len bytes: *c with items pointing into in
 * and fn NULL, and the function's reference in *ref. */
enum cf_wire_error cf__chunk_get_remote(const unsigned char *in, size_t len, struct cf_chunk *c,
					struct cf_fnref *ref);

/* ---- RECORDS replies ---- */

/* n rounded up to CF_CHUNK_ALIGN. */
static inline size_t cf__chunk_padded(size_t n)
{
	return (n + CF_CHUNK_ALIGN - 1) & ~(size_t)(CF_CHUNK_ALIGN - 1);
}

/* Zeros from p + n up to p + cf__chunk_padded(n): no call into libc for
 * a record that needs none, such as an empty result. */
static inline void cf__chunk_zero_padding(unsigned char *p, size_t n)
{
	if (cf__chunk_padded(n) != n)
		memset(p + n, 0, cf__chunk_padded(n) - n);
}

/* Bytes of a record carrying `size` bytes of result.  A worker writes one
 * per item and the iterator reads one per item, so a result's record is
 * written and read inline; an error's record is not. */
static inline size_t cf__chunk_record_size(size_t size)
{
	if (size > SIZE_MAX / 2)
		return 0;
	return CF_CHUNK_RECORD_HEADER_SIZE + cf__chunk_padded(size);
}

static inline void cf__chunk_put_record(unsigned char *out, const void *bytes, size_t size)
{
	cf__le_put_u32(out, 0);
	cf__le_put_u32(out + 4, 0);
	cf__le_put_u64(out + 8, size);
	out += CF_CHUNK_RECORD_HEADER_SIZE;
	if (size)
		memcpy(out, bytes, size);
	cf__chunk_zero_padding(out, size);
}
/* Bytes of a record carrying an item's error. */
size_t cf__chunk_error_record_size(const cf_error *error);
void cf__chunk_put_error_record(unsigned char *out, const cf_error *error);

struct cf_chunk_record {
	bool failed;
	const unsigned char *bytes;     /* the result (NULL when empty) */
	size_t size;
	cf_error error;                 /* when failed */
	size_t next;                    /* where the next record begins */
};

/* The record at offset `at` of a reply of len bytes, checked in full:
 * the usual record (a result, well formed) is read inline below, this
 * reads every other one (an item's error, or a malformed reply). */
enum cf_wire_error cf__chunk_get_record_slow(const unsigned char *reply, size_t len, size_t at,
					     struct cf_chunk_record *rec);

static inline enum cf_wire_error cf__chunk_get_record(const unsigned char *reply, size_t len,
						      size_t at, struct cf_chunk_record *rec)
{
	const unsigned char *p = reply + at;
	size_t room;
	uint64_t size;

	if (at > len || len - at < CF_CHUNK_RECORD_HEADER_SIZE)
		return CF_WIRE_TRUNCATED;
	/* The bytes and their padding must fit: padded(size) <= room is
	 * size <= room rounded down, which cannot wrap. */
	room = (len - at - CF_CHUNK_RECORD_HEADER_SIZE) & ~(size_t)(CF_CHUNK_ALIGN - 1);
	size = cf__le_get_u64(p + 8);
	if (cf__le_get_u32(p) != 0 || cf__le_get_u32(p + 4) != 0 || size > room)
		return cf__chunk_get_record_slow(reply, len, at, rec);
	rec->failed = false;
	rec->size = (size_t)size;
	rec->bytes = size ? p + CF_CHUNK_RECORD_HEADER_SIZE : NULL;
	rec->next = at + CF_CHUNK_RECORD_HEADER_SIZE + cf__chunk_padded((size_t)size);
	return CF_WIRE_OK;
}

/* ---- DENSE and WHOLE replies ---- */

/* The most bytes a reply of `count` results may take: the runner writes
 * the results at CF_CHUNK_DENSE_HEADER_SIZE as they come, then the rest
 * with cf__chunk_put_dense.  0 when too large. */
size_t cf__chunk_dense_max_size(size_t count, size_t result_size, bool results_in_reply);
/* Writes the header, and the error (NULL: none) after the results;
 * returns the reply's length. */
size_t cf__chunk_put_dense(unsigned char *out, size_t done, size_t result_size,
			   bool results_in_reply, const cf_error *error);

struct cf_chunk_dense {
	size_t done;
	bool failed;
	const unsigned char *results;   /* done x result_size bytes, or NULL */
	cf_error error;                 /* when failed */
};

enum cf_wire_error cf__chunk_get_dense(const unsigned char *reply, size_t len, size_t result_size,
				       bool results_in_reply, struct cf_chunk_dense *d);

/* ---- running (chunk_run.c) ---- */

/* The task functions of the two forms: the user's function on each item
 * (or once on all of them, WHOLE), the reply left as the task's result.
 * A remote chunk that does not decode, or whose function is not in this
 * program, fails its task. */
int cf__chunk_run_local(cf_task *task);
int cf__chunk_run_remote(cf_task *task);

#endif
