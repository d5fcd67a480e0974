/* libFuzzer target: a map's remote chunks and their replies
 * (executors/src/map/chunk.h), fed bytes nobody checked.  A worker decodes
 * a chunk the pool sent; the pool decodes the worker's reply.
 *
 * Input: one knob byte, then the bytes.  Each run reads them three ways,
 * each decoder given a heap copy of exactly the bytes it may read, so that
 * ASan catches a read one byte too far:
 *
 *  1. as a remote chunk (cf__chunk_get_remote): when it decodes, its items
 *     lie inside the bytes, its reply could fit in a frame, and encoding
 *     what was decoded gives the same bytes back (the format is canonical:
 *     fixed-width integers, zero padding, nothing after the items);
 *  2. as a cf_map reply, record after record (cf__chunk_get_record): each
 *     record lies inside the bytes and moves on, and encodes back to the
 *     same header and bytes;
 *  3. as a cf_map_into reply with the result size the knob picks, with
 *     and without the results in it (cf__chunk_get_dense): when it
 *     decodes, it encodes back to the same bytes.
 *
 * Any difference aborts, and libFuzzer keeps the input.  No decoder may
 * allocate: scripts/fuzz's -malloc_limit_mb stands guard anyway.
 *
 * Built with -DFUZZ_SEED_MAIN the file also has a main(DIR) that writes
 * seed inputs (chunks and replies made with the encoders, and truncated
 * ones) into DIR: make fuzz-seeds.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "map/chunk.h"
#include "wire/wire.h"

#define FUZZ_TARGET "chunk_decoder"
#include "fuzz_check.h"

/* ---- 1. a chunk --------------------------------------------------------- */

static void check_chunk(const uint8_t *data, size_t size)
{
	unsigned char *in = exact(data, size);
	struct cf_chunk c;
	struct cf_fnref ref;

	if (cf__chunk_get_remote(in, size, &c, &ref) == CF_WIRE_OK) {
		CHECK(c.kind <= CF_CHUNK_KIND_MAX && c.fn == NULL && c.results == NULL);
		CHECK((c.kind == CF_CHUNK_RECORDS) == (c.result_size == 0));
		CHECK(c.item_stride >= c.item_size);
		CHECK(ref.module_len <= CF_WIRE_MAX_NAME);
		CHECK(!memchr(ref.module, '\0', ref.module_len));
		CHECK((c.items == NULL) == (c.item_size == 0 || c.count == 0));
		if (c.items) {
			CHECK(c.items >= in && (size_t)(c.items - in) % CF_CHUNK_ALIGN == 0);
			CHECK(c.count <= (size - (size_t)(c.items - in)) / c.item_stride);
		}
		/* A reply the worker could build: bounded by a frame. */
		if (c.kind == CF_CHUNK_RECORDS)
			CHECK(c.count <= CF_WIRE_MAX_PAYLOAD / CF_CHUNK_RECORD_HEADER_SIZE);
		else
			CHECK(cf__chunk_dense_max_size(c.count, c.result_size, true) <=
			      CF_WIRE_MAX_PAYLOAD);

		CHECK(cf__chunk_remote_size(&c, &ref) == size);
		unsigned char *again = malloc(size);
		CHECK(again);
		cf__chunk_put_remote(again, &c, &ref);
		CHECK(memcmp(again, in, size) == 0);
		free(again);
	}
	free(in);
}

/* ---- 2. a cf_map reply -------------------------------------------------- */

static void check_records(const uint8_t *data, size_t size)
{
	unsigned char *in = exact(data, size);
	size_t at = 0;

	while (at < size) {
		struct cf_chunk_record rec;

		if (cf__chunk_get_record(in, size, at, &rec) != CF_WIRE_OK)
			break;
		CHECK(rec.next > at && rec.next <= size);
		CHECK(rec.next % CF_CHUNK_ALIGN == 0);
		CHECK((rec.bytes == NULL) == (rec.size == 0));
		if (rec.bytes)
			CHECK(rec.bytes == in + at + CF_CHUNK_RECORD_HEADER_SIZE &&
			      rec.size <= size - at - CF_CHUNK_RECORD_HEADER_SIZE);

		size_t len = rec.failed ? cf__chunk_error_record_size(&rec.error)
					: cf__chunk_record_size(rec.size);
		CHECK(len == rec.next - at);
		unsigned char *again = malloc(len);
		CHECK(again);
		if (rec.failed) {
			CHECK(strlen(rec.error.message) + 4 == rec.size);
			cf__chunk_put_error_record(again, &rec.error);
		} else {
			cf__chunk_put_record(again, rec.bytes, rec.size);
		}
		/* The header and the bytes; the padding after them is not read. */
		CHECK(memcmp(again, in + at, CF_CHUNK_RECORD_HEADER_SIZE + rec.size) == 0);
		free(again);
		at = rec.next;
	}
	free(in);
}

/* ---- 3. a cf_map_into reply --------------------------------------------- */

static void check_dense(const uint8_t *data, size_t size, size_t result_size, bool in_reply)
{
	unsigned char *in = exact(data, size);
	struct cf_chunk_dense d;

	if (cf__chunk_get_dense(in, size, result_size, in_reply, &d) == CF_WIRE_OK) {
		size_t results = in_reply ? d.done * result_size : 0;

		CHECK(results <= size - CF_CHUNK_DENSE_HEADER_SIZE);
		CHECK((d.results != NULL) == (results > 0));
		if (d.results)
			CHECK(d.results == in + CF_CHUNK_DENSE_HEADER_SIZE);

		size_t max = cf__chunk_dense_max_size(in_reply ? d.done : 0, result_size, in_reply);
		CHECK(max >= size);
		unsigned char *again = malloc(max);
		CHECK(again);
		if (results)
			memcpy(again + CF_CHUNK_DENSE_HEADER_SIZE, d.results, results);
		CHECK(cf__chunk_put_dense(again, d.done, result_size, in_reply,
					  d.failed ? &d.error : NULL) == size);
		CHECK(memcmp(again, in, size) == 0);
		free(again);
	}
	free(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t knob;

	if (size == 0)
		return 0;
	knob = data[0];
	data++;
	size--;

	check_chunk(data, size);
	check_records(data, size);
	check_dense(data, size, 1 + knob % 16, true);
	check_dense(data, size, 1 + knob % 16, false);
	return 0;
}

#ifdef FUZZ_SEED_MAIN
/* ---- the seed corpus, made with the encoders ---------------------------- */

static const char *seed_dir;
static int seed_count;

/* Writes knob + the first len bytes of p as the next seed file. */
static void save(const char *what, uint8_t knob, const void *p, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/seed-%02d-%s", seed_dir, ++seed_count, what);
	f = fopen(path, "wb");
	if (!f || fwrite(&knob, 1, 1, f) != 1 || fwrite(p, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* A chunk of `count` items of item_size bytes each (byte j of item i is
 * i + j), saved whole and cut short. */
static void chunk(const char *what, enum cf_chunk_kind kind, size_t item_size, size_t count,
		  size_t result_size, const char *module)
{
	static unsigned char items[1024];
	struct cf_fnref ref = { module, strlen(module), 0x1234 };
	struct cf_chunk c = {
		.kind = kind, .items = item_size ? items : NULL, .item_size = item_size,
		.item_stride = item_size, .count = count, .result_size = result_size,
		.first_index = 100,
	};
	char name[64];

	CHECK(item_size * count <= sizeof(items));
	for (size_t i = 0; i < item_size * count; i++)
		items[i] = (unsigned char)(i / (item_size ? item_size : 1) + i % item_size);
	size_t len = cf__chunk_remote_size(&c, &ref);
	unsigned char *out = malloc(len);
	CHECK(out);
	cf__chunk_put_remote(out, &c, &ref);
	save(what, (uint8_t)result_size, out, len);
	snprintf(name, sizeof(name), "%s-truncated", what);
	save(name, (uint8_t)result_size, out, len - 1);
	free(out);
}

static void records(void)
{
	cf_error error = { .code = 22 };
	unsigned char out[512];
	size_t len = 0;

	snprintf(error.message, sizeof(error.message), "ValueError: n must not be negative");
	cf__chunk_put_record(out, "\x31\x00\x00\x00\x00\x00\x00\x00", 8);
	len += cf__chunk_record_size(8);
	cf__chunk_put_record(out + len, NULL, 0);
	len += cf__chunk_record_size(0);
	cf__chunk_put_record(out + len, "seventeen bytes!!", 17);
	len += cf__chunk_record_size(17);
	cf__chunk_put_error_record(out + len, &error);
	len += cf__chunk_error_record_size(&error);
	save("records", 0, out, len);
	save("records-truncated", 0, out, len - 5);
}

static void dense(void)
{
	cf_error error = { .code = 7 };
	unsigned char out[512];
	size_t len;

	snprintf(error.message, sizeof(error.message), "item 3 failed");
	for (int i = 0; i < 3 * 8; i++)
		out[CF_CHUNK_DENSE_HEADER_SIZE + i] = (unsigned char)i;
	len = cf__chunk_put_dense(out, 3, 8, true, NULL);
	save("dense", 7, out, len);
	len = cf__chunk_put_dense(out, 3, 8, true, &error);
	save("dense-failed", 7, out, len);
	len = cf__chunk_put_dense(out, 12, 8, false, NULL);
	save("dense-in-place", 7, out, len);
	len = cf__chunk_put_dense(out, 0, 8, false, &error);
	save("whole-failed", 7, out, len);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	seed_dir = argv[1];
	chunk("records-chunk", CF_CHUNK_RECORDS, 8, 5, 0, "");
	chunk("records-chunk-odd-items", CF_CHUNK_RECORDS, 3, 7, 0, "libcf.so.0");
	chunk("records-chunk-no-items", CF_CHUNK_RECORDS, 0, 9, 0, "");
	chunk("dense-chunk", CF_CHUNK_DENSE, 16, 4, 8, "");
	chunk("whole-chunk", CF_CHUNK_WHOLE, 3, 7, 4, "libcf.so.0");
	chunk("range-chunk", CF_CHUNK_WHOLE, 0, 64, 8, "");
	records();
	dense();
	printf("%d seed inputs in %s\n", seed_count, seed_dir);
	return 0;
}
#endif
