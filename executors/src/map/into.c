/* cf_map_into and cf_map_batches: every result in the caller's array
 * (map.h).  Each chunk's results come back densely, result_size bytes
 * apiece, and go into the array with one memcpy instead of item by item.
 * On threads a chunk goes further: it reads its items and writes its
 * results where the caller has them, and cf_map_into does not return while
 * one of its chunks runs (docs/api.md, "map into an array"). */
#include "map/map.h"

#include "core/executor.h"
#include "core/future.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The alignment any type of `size` bytes can need: the largest power of
 * two that divides the size (a type's alignment divides its size), at
 * most that of max_align_t. */
static size_t natural_alignment(size_t size)
{
	size_t a = size & -size;

	return a && a < alignof(max_align_t) ? a : alignof(max_align_t);
}

/* Whether the chunks may read the items and write the results where the
 * caller has them: only where tasks share the caller's memory, only for
 * chunks (a lone item is a plain future, its argument copied), and only
 * when the caller's items and results are aligned for any type of their
 * size, as a task's argument and result buffer always are. */
static bool can_run_in_place(cf_executor *ex, const void *items, size_t item_size,
			     const void *results, size_t result_size, const cf_map_options *opts)
{
	return ex && ex->backend->shares_memory && opts && opts->chunksize > 1 &&
	       (uintptr_t)items % natural_alignment(item_size) == 0 &&
	       (uintptr_t)results % natural_alignment(result_size) == 0;
}

static cf_status wrong_size(cf_map_iter *it, size_t index, size_t size)
{
	it->error.code = -1;
	snprintf(it->error.message, sizeof(it->error.message),
		 "%s: the task returned %zu bytes, not result_size %zu",
		 it->kind == CF_CHUNK_WHOLE ? "map_batches" : "map_into", size, it->result_size);
	it->error_index = index;
	return CF_TASK_FAILED;
}

/* A chunk's reply: its results into dest (unless already there), and the
 * failure it ends with, if any. */
static cf_status copy_reply(cf_map_iter *it, struct cf_bytes *reply, unsigned char *dest,
			    size_t first, size_t n)
{
	bool in_reply = it->results == NULL;
	struct cf_chunk_dense d;

	if (cf__chunk_get_dense(cf__bytes_data(reply), reply->size,
				it->result_size, in_reply, &d) != CF_WIRE_OK ||
	    d.done > n || (!d.failed && d.done != n))
		return CF_INVALID_STATE;
	if (d.results)
		memcpy(dest, d.results, d.done * it->result_size);
	if (d.failed) {
		it->error = d.error;
		it->error_index = first + d.done;
		return CF_TASK_FAILED;
	}
	return CF_OK;
}

/* Copies one finished chunk's results into the caller's array: a lone
 * item's result after checking its size, a chunk's from its reply. */
static cf_status copy_chunk(cf_map_iter *it, cf_future *f, unsigned char *results)
{
	size_t first = it->next_consume * it->chunksize;
	unsigned char *dest = results + first * it->result_size;
	struct cf_bytes *payload = cf__future_payload(f);

	if (it->chunksize > 1)
		return copy_reply(it, payload, dest, first, cf__map_chunk_len(it, it->next_consume));
	if (payload->size != it->result_size)
		return wrong_size(it, first, payload->size);
	memcpy(dest, cf__bytes_data(payload), it->result_size);
	return CF_OK;
}

/* Every chunk in order, each copied into the caller's array as it
 * finishes (or already there, in place). */
static cf_status read_chunks(cf_map_iter *it, unsigned char *results)
{
	cf_status st = CF_OK;

	while (st == CF_OK && it->next_consume < it->nchunks) {
		cf_future *f = cf__map_chunk_future(it, it->next_consume);

		st = cf__future_wait(f, it->deadline);
		if (st == CF_TASK_FAILED) {
			it->error = *cf__future_error(f);
			it->error_index = it->next_consume * it->chunksize;
		} else if (st == CF_OK) {
			st = copy_chunk(it, f, results);
		}
		if (st != CF_OK)
			break;
		cf_future_release(f);
		it->next_consume++;
		st = cf__map_top_up(it);
	}
	return st;
}

static cf_status map_into(cf_executor *ex, cf_fn fn, const void *items, size_t item_size,
			  size_t count, void *results, size_t result_size, bool whole_batch,
			  const cf_map_options *opts, cf_error *error, size_t *error_index)
{
	struct cf_map_dense dense = { .result_size = result_size, .whole_batch = whole_batch };
	cf_map_iter *it = NULL;
	cf_status st;

	if (!result_size || (!results && count) || (count && count > SIZE_MAX / result_size))
		return CF_INVALID_ARGUMENT;
	if (can_run_in_place(ex, items, item_size, results, result_size, opts))
		dense.results_in_place = results;
	st = cf__map_start(ex, fn, items, item_size, count, &dense, opts, &it);
	if (st != CF_OK)
		return st;
	st = read_chunks(it, results);
	if (st == CF_TASK_FAILED) {
		if (error)
			*error = it->error;
		if (error_index)
			*error_index = it->error_index;
	}
	if (it->results)
		cf__map_wait_for_running_chunks(it);
	cf_map_free(it);
	return st;
}

cf_status cf_map_into(cf_executor *ex, cf_fn fn, const void *items, size_t item_size,
		      size_t count, void *results, size_t result_size,
		      const cf_map_options *opts, cf_error *error, size_t *error_index)
{
	return map_into(ex, fn, items, item_size, count, results, result_size, false, opts,
			error, error_index);
}

cf_status cf_map_batches(cf_executor *ex, cf_fn fn, const void *items, size_t item_size,
			 size_t count, void *results, size_t result_size,
			 const cf_map_options *opts, cf_error *error, size_t *error_index)
{
	return map_into(ex, fn, items, item_size, count, results, result_size, true, opts,
			error, error_index);
}
