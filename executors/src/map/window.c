/* The window of chunks in flight (map.h): starting a map, making its
 * chunks, topping the window up as results are taken, and ending it. */
#include "map/map.h"

#include "base/clock.h"
#include "core/executor.h"
#include "core/future.h"

#include <stdint.h>
#include <stdlib.h>

/* ---- making a chunk ---- */

/* A lone item (chunksize 1): a plain future of fn, its argument copied. */
static cf_status make_item(cf_map_iter *it, size_t chunk, cf_future **out)
{
	const unsigned char *item = it->items ? it->items + chunk * it->item_size : NULL;
	cf_range range = { .first = chunk, .count = 1 };

	if (it->kind == CF_CHUNK_WHOLE && it->item_size == 0)
		return cf__future_new(it->fn, &range, sizeof(range), CF_FUTURE_STREAMED, out);
	return cf__future_new(it->fn, item, it->item_size, CF_FUTURE_STREAMED, out);
}

/* The chunk as the caller's arrays hold it. */
static void describe_chunk(const cf_map_iter *it, size_t chunk, struct cf_chunk *c)
{
	size_t first = chunk * it->chunksize;

	*c = (struct cf_chunk){
		.kind = it->kind,
		.fn = it->fn,
		.items = it->items && it->item_size ? it->items + first * it->item_size : NULL,
		.item_size = it->item_size,
		.item_stride = it->item_size,
		.count = cf__map_chunk_len(it, chunk),
		.result_size = it->result_size,
		.first_index = first,
		.results = it->results ? it->results + first * it->result_size : NULL,
	};
}

/* The bytes of a chunk's task: the LOCAL form, with a copy of the items
 * unless the chunk reads them in place, or the REMOTE one.  NULL when out
 * of memory. */
static void *encode_chunk(const cf_map_iter *it, const struct cf_chunk *c, size_t *size)
{
	bool copy = it->results == NULL;
	void *buf;

	*size = it->local ? cf__chunk_local_size(c, copy) : cf__chunk_remote_size(c, &it->fn_ref);
	buf = *size ? malloc(*size) : NULL;
	if (!buf)
		return NULL;
	if (it->local)
		cf__chunk_put_local(buf, c, copy);
	else
		cf__chunk_put_remote(buf, c, &it->fn_ref);
	return buf;
}

/* A future (not yet queued) for one chunk. */
static cf_status make_chunk(cf_map_iter *it, size_t chunk, cf_future **out)
{
	struct cf_chunk c;
	size_t size;
	void *buf;
	cf_status st;

	if (it->chunksize == 1)
		return make_item(it, chunk, out);
	describe_chunk(it, chunk, &c);
	buf = encode_chunk(it, &c, &size);
	if (!buf)
		return CF_NOMEM;
	st = cf__future_new(it->local ? cf__chunk_run_local : cf__chunk_run_remote, NULL, 0,
			    CF_FUTURE_STREAMED, out);
	if (st != CF_OK) {
		free(buf);
		return st;
	}
	/* The future takes the chunk as it is: a chunk of a large map is
	 * megabytes, and copying it again would cost the mapping thread as
	 * much as building it. */
	cf__bytes_adopt(cf__future_payload(*out), buf, size);
	return CF_OK;
}

/* ---- the window ---- */

/* Submits chunks[0..n), made for chunks first.., in one call into the
 * backend; those accepted join the ring, the others are dropped. */
static cf_status submit_burst(cf_map_iter *it, size_t first, size_t n)
{
	size_t accepted = 0;
	cf_status st = cf__submit_many(it->ex, it->burst, n, &accepted);

	for (size_t i = 0; i < n; i++) {
		if (i < accepted)
			it->ring[(first + i) % it->window] = it->burst[i];
		else
			cf__future_unref(it->burst[i]);
	}
	it->next_submit += accepted;
	return st;
}

/* Refills the window in bursts: only once half of it has been taken, and
 * with one call into the backend for the whole burst.  Submitting one
 * task per result taken would wake a sleeping worker for every task; a
 * burst wakes it once for many, and the oldest results are usually done
 * by the time they are asked for. */
cf_status cf__map_top_up(cf_map_iter *it)
{
	size_t first = it->next_submit, n = 0;
	cf_status st = CF_OK;

	if (it->submit_status != CF_OK)
		return it->submit_status;
	if (it->next_submit - it->next_consume > it->window / 2)
		return CF_OK;
	while (first + n < it->nchunks && first + n - it->next_consume < it->window) {
		st = make_chunk(it, first + n, &it->burst[n]);
		if (st != CF_OK)
			break;
		n++;
	}
	if (n) {
		cf_status sub = submit_burst(it, first, n);

		if (st == CF_OK)
			st = sub;
	}
	it->submit_status = st;
	return st;
}

void cf__map_drop_held(cf_map_iter *it)
{
	if (it->held) {
		cf_future_release(it->held);
		it->held = NULL;
	}
}

cf_status cf__map_finish(cf_map_iter *it, cf_status status)
{
	cf__map_drop_held(it);
	for (size_t c = it->next_consume; c < it->next_submit; c++) {
		cf_future *f = cf__map_chunk_future(it, c);

		cf_future_cancel(f);
		cf_future_release(f);
	}
	it->next_consume = it->next_submit;
	it->final = status;
	return status;
}

void cf__map_wait_for_running_chunks(cf_map_iter *it)
{
	size_t c;

	/* All the cancels first: a worker that ends a chunk while we wait
	 * must not find the next one still queued. */
	for (c = it->next_consume; c < it->next_submit; c++)
		cf_future_cancel(cf__map_chunk_future(it, c));
	for (c = it->next_consume; c < it->next_submit; c++)
		(void)cf__future_wait(cf__map_chunk_future(it, c), -1);
}

/* ---- starting and freeing ---- */

/* Enough chunks ahead that workers rarely wait for the mapper (about 512
 * items, measured with build/micro/cf_overhead: fewer makes every task
 * pay a wake-up), and at least 4 per worker. */
static size_t default_window(cf_executor *ex, size_t chunksize)
{
	size_t per_workers = 4 * (size_t)cf_executor_max_workers(ex);
	size_t per_items = 512 / chunksize;

	return per_workers > per_items ? per_workers : per_items;
}

/* The chunk size asked for: 1 unless more, CF_CHUNKSIZE_AUTO made into
 * 4 chunks per worker. */
static size_t chosen_chunksize(cf_executor *ex, const cf_map_options *opts, size_t count)
{
	if (!opts || opts->chunksize <= 1)
		return 1;
	if (opts->chunksize != CF_CHUNKSIZE_AUTO)
		return opts->chunksize;
	size_t parts = 4 * (size_t)cf_executor_max_workers(ex);
	size_t size = count / parts + (count % parts != 0);
	return size > 1 ? size : 1;
}

/* How the chunks of a map over ex run: in this process (LOCAL), or
 * elsewhere, which needs fn named by reference (REMOTE).  A function in no
 * loaded object gets an empty name, which no worker finds: its chunks
 * fail there with a message that says so. */
static void choose_form(cf_map_iter *it)
{
	it->local = it->ex->backend->shares_memory;
	if (!it->local && cf__fnref_from_fn((void (*)(void))it->fn, &it->fn_ref) != 0)
		it->fn_ref = (struct cf_fnref){ "", 0, 0 };
}

static void set_dense(cf_map_iter *it, const struct cf_map_dense *dense)
{
	it->kind = CF_CHUNK_RECORDS;
	if (!dense)
		return;
	it->kind = dense->whole_batch ? CF_CHUNK_WHOLE : CF_CHUNK_DENSE;
	it->result_size = dense->result_size;
	it->results = dense->results_in_place;
}

/* A new iterator with nothing submitted; NULL when out of memory. */
static cf_map_iter *new_iter(cf_executor *ex, cf_fn fn, const void *items, size_t item_size,
			     size_t count, const struct cf_map_dense *dense,
			     const cf_map_options *opts)
{
	cf_map_iter *it = calloc(1, sizeof(*it));

	if (!it)
		return NULL;
	it->ex = ex;
	cf__executor_ref(ex);
	it->fn = fn;
	it->items = items;
	it->item_size = item_size;
	it->count = count;
	set_dense(it, dense);
	choose_form(it);
	it->deadline = cf__deadline(opts ? opts->timeout : CF_FOREVER);
	it->chunksize = chosen_chunksize(ex, opts, count);
	it->nchunks = count / it->chunksize + (count % it->chunksize != 0);
	it->window = opts && opts->max_in_flight ? opts->max_in_flight
						 : default_window(ex, it->chunksize);
	it->ring = calloc(it->window, sizeof(*it->ring));
	it->burst = calloc(it->window, sizeof(*it->burst));
	if (!it->ring || !it->burst) {
		cf_map_free(it);
		return NULL;
	}
	return it;
}

cf_status cf__map_start(cf_executor *ex, cf_fn fn, const void *items, size_t item_size,
			size_t count, const struct cf_map_dense *dense,
			const cf_map_options *opts, cf_map_iter **out)
{
	cf_map_iter *it;
	cf_status st;

	if (!ex || !fn || (!items && count && item_size))
		return CF_INVALID_ARGUMENT;
	if (count && item_size && count > SIZE_MAX / item_size)
		return CF_INVALID_ARGUMENT;
	it = new_iter(ex, fn, items, item_size, count, dense, opts);
	if (!it)
		return CF_NOMEM;
	st = cf__map_top_up(it);
	if (st != CF_OK) {
		if (it->results)
			cf__map_wait_for_running_chunks(it);
		cf_map_free(it);
		return st;
	}
	*out = it;
	return CF_OK;
}

void cf_map_free(cf_map_iter *it)
{
	if (!it)
		return;
	if (it->ring)
		cf__map_finish(it, CF_END);
	free(it->ring);
	free(it->burst);
	cf__executor_unref(it->ex);
	free(it);
}
