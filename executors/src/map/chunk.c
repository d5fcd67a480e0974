/* Encoding and decoding of a map's chunks and their replies (chunk.h):
 * bytes in, bytes out, nothing run. */
#include "map/chunk.h"

#include "wire/le.h"

#include <string.h>

static const unsigned char magic[4] = { 'C', 'F', 'M', '1' };
#define CHUNK_VERSION 1

/* A result at a multiple of CF_CHUNK_ALIGN in a malloc'ed reply is
 * aligned for any type, as cf_map_next promises. */
_Static_assert(alignof(max_align_t) <= CF_CHUNK_ALIGN, "records keep results aligned");

/* The longest error a reply carries: a wire ERROR payload. */
#define MAX_ERROR_SIZE (4 + CF_ERROR_MESSAGE_MAX - 1)

/* a * b + c, or 0 when that passes limit (callers never mean 0). */
static size_t sum_of_product(size_t a, size_t b, size_t c, size_t limit)
{
	if (c > limit || (b && a > (limit - c) / b))
		return 0;
	return a * b + c;
}

size_t cf__chunk_stride(enum cf_chunk_kind kind, size_t item_size)
{
	return kind == CF_CHUNK_WHOLE ? item_size : cf__chunk_padded(item_size);
}

/* Copies c's count items, c->item_stride apart, to out at `stride`, the
 * padding between them zeroed. */
static void copy_items(unsigned char *out, size_t stride, const struct cf_chunk *c)
{
	if (!c->item_size || !c->count)
		return;
	if (stride == c->item_stride) {
		memcpy(out, c->items, c->count * stride);
		return;
	}
	for (size_t i = 0; i < c->count; i++, out += stride) {
		memcpy(out, c->items + i * c->item_stride, c->item_size);
		memset(out + c->item_size, 0, stride - c->item_size);
	}
}

/* ---- LOCAL ---- */

size_t cf__chunk_local_size(const struct cf_chunk *c, bool copy)
{
	if (c->item_size > SIZE_MAX / 2)
		return 0;
	if (!copy)
		return sizeof(struct cf_chunk_local);
	return sum_of_product(c->count, cf__chunk_stride(c->kind, c->item_size),
			      sizeof(struct cf_chunk_local), SIZE_MAX);
}

void cf__chunk_put_local(struct cf_chunk_local *out, const struct cf_chunk *c, bool copy)
{
	out->chunk = *c;
	if (!copy)
		return;
	out->chunk.items = NULL;
	out->chunk.item_stride = cf__chunk_stride(c->kind, c->item_size);
	copy_items(out->items, out->chunk.item_stride, c);
}

void cf__chunk_get_local(const struct cf_chunk_local *in, struct cf_chunk *c)
{
	*c = in->chunk;
	if (!c->items && c->item_size && c->count)
		c->items = in->items;
}

/* ---- REMOTE ---- */

static size_t remote_items_at(const struct cf_fnref *ref)
{
	return cf__chunk_padded(CF_CHUNK_HEADER_SIZE + cf_wire_fnref_size(ref));
}

size_t cf__chunk_remote_size(const struct cf_chunk *c, const struct cf_fnref *ref)
{
	if (c->item_size > SIZE_MAX / 2 || ref->module_len > CF_WIRE_MAX_NAME)
		return 0;
	return sum_of_product(c->count, cf__chunk_stride(c->kind, c->item_size),
			      remote_items_at(ref), SIZE_MAX);
}

void cf__chunk_put_remote(unsigned char *out, const struct cf_chunk *c, const struct cf_fnref *ref)
{
	size_t fn_end = CF_CHUNK_HEADER_SIZE + cf_wire_fnref_size(ref);
	size_t items_at = remote_items_at(ref);

	memcpy(out, magic, 4);
	out[4] = CHUNK_VERSION;
	out[5] = (unsigned char)c->kind;
	cf__le_put_u16(out + 6, 0);
	cf__le_put_u64(out + 8, c->count);
	cf__le_put_u64(out + 16, c->item_size);
	cf__le_put_u64(out + 24, c->result_size);
	cf__le_put_u64(out + 32, c->first_index);
	cf_wire_put_fnref(out + CF_CHUNK_HEADER_SIZE, ref);
	memset(out + fn_end, 0, items_at - fn_end);
	copy_items(out + items_at, cf__chunk_stride(c->kind, c->item_size), c);
}

/* Whether the reply to a chunk of `count` items can fit in a frame: a
 * worker must not be made to build one that cannot. */
static bool reply_fits(enum cf_chunk_kind kind, uint64_t count, uint64_t result_size)
{
	if (kind == CF_CHUNK_RECORDS)
		return count <= CF_WIRE_MAX_PAYLOAD / CF_CHUNK_RECORD_HEADER_SIZE;
	return result_size <= CF_WIRE_MAX_PAYLOAD &&
	       count <= (CF_WIRE_MAX_PAYLOAD - CF_CHUNK_DENSE_HEADER_SIZE - MAX_ERROR_SIZE) / result_size;
}

/* The fixed fields of a remote chunk into *c. */
static enum cf_wire_error get_remote_header(const unsigned char *in, size_t len, struct cf_chunk *c)
{
	uint64_t count, item_size, result_size, first_index;
	enum cf_chunk_kind kind;

	if (len < CF_CHUNK_HEADER_SIZE)
		return CF_WIRE_TRUNCATED;
	if (memcmp(in, magic, 4) != 0)
		return CF_WIRE_BAD_MAGIC;
	if (in[4] != CHUNK_VERSION)
		return CF_WIRE_BAD_VERSION;
	if (in[5] > CF_CHUNK_KIND_MAX || cf__le_get_u16(in + 6) != 0)
		return CF_WIRE_BAD_FIELD;
	kind = (enum cf_chunk_kind)in[5];
	count = cf__le_get_u64(in + 8);
	item_size = cf__le_get_u64(in + 16);
	result_size = cf__le_get_u64(in + 24);
	first_index = cf__le_get_u64(in + 32);
	if ((kind == CF_CHUNK_RECORDS) != (result_size == 0) || first_index > SIZE_MAX)
		return CF_WIRE_BAD_FIELD;
	if (item_size > CF_WIRE_MAX_PAYLOAD || !reply_fits(kind, count, result_size))
		return CF_WIRE_TOO_LONG;
	*c = (struct cf_chunk){
		.kind = kind,
		.item_size = (size_t)item_size,
		.item_stride = cf__chunk_stride(kind, (size_t)item_size),
		.count = (size_t)count,
		.result_size = (size_t)result_size,
		.first_index = (size_t)first_index,
	};
	return CF_WIRE_OK;
}

/* The items of a remote chunk whose function reference ends at fn_end:
 * exactly count of them after the padding, which must be zeros. */
static enum cf_wire_error get_remote_items(const unsigned char *in, size_t len, size_t fn_end,
					   struct cf_chunk *c)
{
	size_t items_at = cf__chunk_padded(fn_end), avail;

	if (items_at > len)
		return CF_WIRE_TRUNCATED;
	for (size_t i = fn_end; i < items_at; i++)
		if (in[i] != 0)
			return CF_WIRE_BAD_FIELD;
	avail = len - items_at;
	if (c->item_size && c->count > avail / c->item_stride)
		return CF_WIRE_TRUNCATED;
	if (avail != (c->item_size ? c->count * c->item_stride : 0))
		return CF_WIRE_BAD_FIELD;       /* bytes after the items */
	c->items = avail ? in + items_at : NULL;
	return CF_WIRE_OK;
}

enum cf_wire_error cf__chunk_get_remote(const unsigned char *in, size_t len, struct cf_chunk *c,
					struct cf_fnref *ref)
{
	const unsigned char *rest;
	size_t rest_len;
	enum cf_wire_error e = get_remote_header(in, len, c);

	if (e != CF_WIRE_OK)
		return e;
	e = cf_wire_get_fnref(in + CF_CHUNK_HEADER_SIZE, len - CF_CHUNK_HEADER_SIZE, ref, &rest,
			      &rest_len);
	if (e != CF_WIRE_OK)
		return e;
	return get_remote_items(in, len, len - rest_len, c);
}

/* ---- RECORDS replies ---- */

static void put_record_header(unsigned char *out, uint32_t status, size_t size)
{
	cf__le_put_u32(out, status);
	cf__le_put_u32(out + 4, 0);
	cf__le_put_u64(out + 8, size);
}

size_t cf__chunk_error_record_size(const cf_error *error)
{
	return cf__chunk_record_size(cf_wire_error_size(error));
}

void cf__chunk_put_error_record(unsigned char *out, const cf_error *error)
{
	size_t size = cf_wire_error_size(error);

	put_record_header(out, 1, size);
	out += CF_CHUNK_RECORD_HEADER_SIZE;
	cf_wire_put_error(out, error);
	cf__chunk_zero_padding(out, size);
}

enum cf_wire_error cf__chunk_get_record_slow(const unsigned char *reply, size_t len, size_t at,
					     struct cf_chunk_record *rec)
{
	const unsigned char *p = reply + at;
	uint32_t status;
	uint64_t size;
	size_t room;

	if (at > len || len - at < CF_CHUNK_RECORD_HEADER_SIZE)
		return CF_WIRE_TRUNCATED;
	status = cf__le_get_u32(p);
	size = cf__le_get_u64(p + 8);
	if (status > 1 || cf__le_get_u32(p + 4) != 0)
		return CF_WIRE_BAD_FIELD;
	/* The bytes and their padding must fit: cf__chunk_padded(size) <= room is
	 * size <= room rounded down, which cannot wrap. */
	room = len - at - CF_CHUNK_RECORD_HEADER_SIZE;
	if (size > (room & ~(size_t)(CF_CHUNK_ALIGN - 1)))
		return CF_WIRE_TRUNCATED;
	rec->failed = status == 1;
	rec->size = (size_t)size;
	rec->bytes = size ? p + CF_CHUNK_RECORD_HEADER_SIZE : NULL;
	rec->next = at + CF_CHUNK_RECORD_HEADER_SIZE + cf__chunk_padded(rec->size);
	if (rec->failed)
		return cf_wire_get_error(p + CF_CHUNK_RECORD_HEADER_SIZE, rec->size, &rec->error);
	return CF_WIRE_OK;
}

/* ---- DENSE and WHOLE replies ---- */

size_t cf__chunk_dense_max_size(size_t count, size_t result_size, bool results_in_reply)
{
	return sum_of_product(results_in_reply ? count : 0, result_size,
			      CF_CHUNK_DENSE_HEADER_SIZE + MAX_ERROR_SIZE, SIZE_MAX);
}

size_t cf__chunk_put_dense(unsigned char *out, size_t done, size_t result_size,
			   bool results_in_reply, const cf_error *error)
{
	size_t error_at = CF_CHUNK_DENSE_HEADER_SIZE + (results_in_reply ? done * result_size : 0);
	size_t error_size = error ? cf_wire_error_size(error) : 0;

	cf__le_put_u64(out, done);
	cf__le_put_u32(out + 8, error != NULL);
	cf__le_put_u32(out + 12, (uint32_t)error_size);
	if (error)
		cf_wire_put_error(out + error_at, error);
	return error_at + error_size;
}

enum cf_wire_error cf__chunk_get_dense(const unsigned char *reply, size_t len, size_t result_size,
				       bool results_in_reply, struct cf_chunk_dense *d)
{
	uint64_t done;
	uint32_t failed, error_size;
	size_t rest, results = 0;

	if (len < CF_CHUNK_DENSE_HEADER_SIZE)
		return CF_WIRE_TRUNCATED;
	done = cf__le_get_u64(reply);
	failed = cf__le_get_u32(reply + 8);
	error_size = cf__le_get_u32(reply + 12);
	if (failed > 1 || (failed != 0) != (error_size != 0) || !result_size)
		return CF_WIRE_BAD_FIELD;
	rest = len - CF_CHUNK_DENSE_HEADER_SIZE;
	if (results_in_reply) {
		if (done > rest / result_size)
			return CF_WIRE_TRUNCATED;
		results = (size_t)done * result_size;
	}
	if (rest - results != error_size)
		return rest - results < error_size ? CF_WIRE_TRUNCATED : CF_WIRE_BAD_FIELD;
	d->done = done > SIZE_MAX ? SIZE_MAX : (size_t)done;
	d->failed = failed;
	d->results = results ? reply + CF_CHUNK_DENSE_HEADER_SIZE : NULL;
	if (failed)
		return cf_wire_get_error(reply + CF_CHUNK_DENSE_HEADER_SIZE + results, error_size,
					 &d->error);
	return CF_WIRE_OK;
}
