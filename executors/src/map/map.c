/* map(): results in input order, with a bounded number of tasks in flight.
 *
 * Python's Executor.map submits every item at once; mapping ten million
 * items creates ten million futures before the first result.  Here the
 * iterator keeps a window of `max_in_flight` chunks submitted ahead and
 * tops it up as results are taken, so memory stays flat.
 *
 * With chunksize > 1 one task carries several items (a "batch"): the
 * batch runs the user's function on each and packs the results into one
 * buffer of records, which the iterator unpacks item by item.  This is
 * what makes map cheap on the process backend, and it helps threads too.
 *
 * cf_map_into takes the same road to a different end: each chunk packs
 * its results densely, result_size bytes apiece, and the caller copies
 * the chunk into its array with one memcpy instead of unpacking it item
 * by item.  On threads it goes further: a chunk reads its items and
 * writes its results in the caller's arrays, and cf_map_into does not
 * return while one of its chunks runs (docs/api.md, "map into an array").
 */
#include "base/clock.h"
#include "core/executor.h"
#include "core/future.h"
#include "core/task.h"
#include "wire/wire.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A batch's argument: this header, the module name, then (aligned) count
 * items of item_size bytes.
 * The function is named twice: by pointer, valid in the process that made
 * the batch, and by reference (wire.h), valid in a worker process that
 * runs the same program at other addresses. */
struct batch_header {
	alignas(max_align_t) cf_fn fn;
	int64_t pid;                    /* the process fn is valid in */
	uint64_t item_size;
	uint64_t item_stride;           /* item_size, padded to keep alignment */
	uint64_t count;
	uint64_t fn_offset;
	uint64_t module_len;
	uint64_t result_size;           /* cf_map_into: the size of every
					 * result; 0: cf_map's records */
	uint64_t whole_batch;           /* cf_map_batches: fn runs once on
					 * all the chunk's items */
	uint64_t first_index;           /* the chunk's first item in the map:
					 * a range chunk's argument */
	/* cf_map_into on threads: the chunk's items and results in the
	 * caller's arrays, valid in process `pid` only (NULL: the items
	 * follow the header and the results go back in the reply). */
	const unsigned char *items_in_place;
	unsigned char *results_in_place;
};

/* A batch's result: one record per item, each followed by its bytes padded
 * so the next record (and every result) stays aligned.  A failed item
 * ends the batch with a record that holds its cf_error. */
struct batch_record {
	alignas(max_align_t) uint32_t failed;
	uint64_t size;
};

/* A cf_map_into batch's result: this header, then the results of the
 * items before the first failure, result_size bytes each, back to back
 * as they will lie in the caller's array. */
struct dense_header {
	alignas(max_align_t) uint64_t done;     /* results that follow */
	uint32_t failed;                        /* item `done` failed: error */
	cf_error error;
};

#define RECORD_ALIGN alignof(max_align_t)

static size_t padded(size_t n)
{
	return (n + RECORD_ALIGN - 1) & ~(RECORD_ALIGN - 1);
}

static size_t batch_items_offset(size_t module_len)
{
	return padded(sizeof(struct batch_header) + module_len);
}

struct growbuf {
	unsigned char *data;
	size_t len, cap;
};

static int growbuf_append_record(struct growbuf *g, uint32_t failed, const void *bytes, size_t size)
{
	size_t need = g->len + sizeof(struct batch_record) + padded(size);

	if (need > g->cap) {
		size_t cap = g->cap ? g->cap : 256;
		while (cap < need)
			cap *= 2;
		unsigned char *data = realloc(g->data, cap);
		if (!data)
			return CF_NOMEM;
		g->data = data;
		g->cap = cap;
	}
	struct batch_record rec = { .failed = failed, .size = size };
	memcpy(g->data + g->len, &rec, sizeof(rec));
	if (size)
		memcpy(g->data + g->len + sizeof(rec), bytes, size);
	g->len = need;
	return CF_OK;
}

static bool in_place(const struct batch_header *h)
{
	return h->results_in_place && h->pid == getpid();
}

/* A chunk's items (NULL when it has none) and function, checked; false
 * and a failed task when the batch is malformed or its function is not
 * in this program. */
static bool batch_items(cf_task *task, cf_fn *fn, const unsigned char **items)
{
	const struct batch_header *h = task->arg;
	size_t size = task->arg_size;

	if (size < sizeof(*h) || h->module_len > CF_WIRE_MAX_NAME ||
	    size < batch_items_offset(h->module_len) ||
	    h->item_stride < h->item_size ||
	    (h->whole_batch && h->item_stride != h->item_size) ||
	    (!in_place(h) && h->item_stride &&
	     h->count > (size - batch_items_offset(h->module_len)) / h->item_stride) ||
	    (h->result_size && h->count > (SIZE_MAX - sizeof(struct dense_header)) / h->result_size)) {
		cf_task_fail(task, -1, "map: malformed batch");
		return false;
	}
	*fn = h->fn;
	if (h->pid != getpid()) {
		struct cf_fnref ref = { (const char *)(h + 1), h->module_len, h->fn_offset };
		*fn = (cf_fn)cf__fnref_to_fn(&ref);
		if (!*fn) {
			cf_task_fail(task, -1, "map: the task function is not in this program");
			return false;
		}
	}
	if (in_place(h))
		*items = h->items_in_place;
	else
		*items = (const unsigned char *)h + batch_items_offset(h->module_len);
	return true;
}

/* cf_map's chunk: one record per item, each result as long as it is. */
static int run_batch_records(cf_task *task, const struct batch_header *h,
			     const unsigned char *items, cf_fn fn)
{
	struct growbuf out = { 0 };
	int rc = CF_OK;

	for (uint64_t i = 0; i < h->count && rc == CF_OK; i++) {
		struct cf_task item;

		cf__task_init(&item, items + i * h->item_stride, h->item_size);
		cf__task_run(&item, fn);
		if (item.error) {
			rc = growbuf_append_record(&out, 1, item.error, sizeof(*item.error));
			i = h->count;   /* the first failure ends the chunk */
		} else {
			rc = growbuf_append_record(&out, 0, cf__bytes_data(&item.result),
						   item.result.size);
		}
		cf__task_clear(&item);
	}
	if (rc != CF_OK) {
		free(out.data);
		return cf_task_fail(task, CF_NOMEM, "map: out of memory packing results");
	}
	cf__bytes_adopt(&task->result, out.data, out.len);
	return 0;
}

/* cf_map_into's items, one call each into its own slot.  Returns the
 * items done before the first failure, whose error goes to *error. */
static uint64_t run_items_into(const struct batch_header *h, const unsigned char *items,
			       cf_fn fn, unsigned char *slot, cf_error *error, uint32_t *failed)
{
	/* One task record for the whole chunk, reset field by field: this
	 * loop is all the library adds to each item's own work. */
	struct cf_task item;
	uint64_t done = 0;

	cf__task_init(&item, NULL, h->item_size);
	item.slot_size = h->result_size;
	for (; done < h->count; done++, slot += h->result_size) {
		item.arg = items ? items + done * h->item_stride : NULL;
		item.slot = slot;
		item.slot_filled = false;
		int rc = fn(&item);
		if (rc != 0 && !item.error)
			cf_task_fail(&item, rc, "task returned %d", rc);
		if (!item.error && !item.slot_filled)
			cf_task_fail(&item, -1, "map_into: the task returned %zu bytes, not result_size %llu",
				     item.result.size, (unsigned long long)h->result_size);
		if (item.error) {
			*error = *item.error;
			*failed = 1;
			break;
		}
	}
	cf__task_clear(&item);
	return done;
}

/* cf_map_batches' chunk: one call for all its items, whose result is all
 * their results.  A failure fails the whole chunk. */
static uint64_t run_whole_batch(const struct batch_header *h, const unsigned char *items,
				cf_fn fn, unsigned char *slot, cf_error *error, uint32_t *failed)
{
	struct cf_task batch;
	/* No items at all: the chunk's place is its argument (a range). */
	cf_range range = { .first = h->first_index, .count = h->count };

	if (h->item_size == 0)
		cf__task_init(&batch, &range, sizeof(range));
	else
		cf__task_init(&batch, h->count ? items : NULL, h->count * h->item_size);
	batch.slot = slot;
	batch.slot_size = h->count * h->result_size;
	int rc = fn(&batch);
	if (rc != 0 && !batch.error)
		cf_task_fail(&batch, rc, "task returned %d", rc);
	if (!batch.error && !batch.slot_filled)
		cf_task_fail(&batch, -1, "map_batches: the task returned %zu bytes, not %llu items of result_size %llu",
			     batch.result.size, (unsigned long long)h->count,
			     (unsigned long long)h->result_size);
	if (batch.error) {
		*error = *batch.error;
		*failed = 1;
	}
	cf__task_clear(&batch);
	return *failed ? 0 : h->count;
}

/* A dense chunk (cf_map_into, cf_map_batches): results back to back,
 * result_size bytes each, after a dense_header in the reply, or in the
 * caller's array when the chunk runs in place (the reply is then the
 * header alone).  A result of another size fails: the array has room for
 * result_size bytes and no more. */
static int run_batch_dense(cf_task *task, const struct batch_header *h,
			   const unsigned char *items, cf_fn fn)
{
	size_t size = sizeof(struct dense_header) + (in_place(h) ? 0 : h->count * h->result_size);
	unsigned char *out = malloc(size);

	if (!out)
		return cf_task_fail(task, CF_NOMEM, "map: out of memory for a chunk's results");
	struct dense_header *d = (struct dense_header *)out;
	unsigned char *slot = in_place(h) ? h->results_in_place : out + sizeof(*d);

	d->failed = 0;
	if (h->whole_batch)
		d->done = run_whole_batch(h, items, fn, slot, &d->error, &d->failed);
	else
		d->done = run_items_into(h, items, fn, slot, &d->error, &d->failed);
	cf__bytes_adopt(&task->result, out,
			in_place(h) ? sizeof(*d) : sizeof(*d) + d->done * h->result_size);
	return 0;
}

/* The task that runs a chunk: the user's function once per item, or once
 * for the whole chunk (cf_map_batches). */
static int run_batch(cf_task *task)
{
	const struct batch_header *h = task->arg;
	cf_fn fn;
	const unsigned char *items;

	if (!batch_items(task, &fn, &items))
		return -1;
	if (h->result_size)
		return run_batch_dense(task, h, items, fn);
	return run_batch_records(task, h, items, fn);
}

struct cf_map_iter {
	cf_executor *ex;
	cf_fn fn;
	const unsigned char *items;
	size_t item_size, count;
	size_t result_size;     /* cf_map_into, cf_map_batches; 0 for cf_map */
	unsigned char *results; /* their array, when chunks run in place */
	bool whole_batch;       /* cf_map_batches */
	size_t chunksize, nchunks, window;
	double deadline;

	cf_future **ring;       /* chunk c lives in ring[c % window] */
	cf_future **burst;      /* futures being submitted together */
	size_t next_submit;     /* next chunk to submit */
	size_t next_consume;    /* chunk being read */
	size_t item_in_chunk;   /* items of that chunk already given */
	size_t cursor;          /* byte offset in a batch's result */
	cf_future *held;        /* future whose result was given last */
	bool results_fast;      /* the last wait was short: wait_for_next */

	/* Why the last submit failed (CF_SHUTDOWN once the executor was
	 * shut down or freed): given when the reader reaches a chunk that
	 * could not be submitted, after the results of those that were. */
	cf_status submit_status;
	cf_status final;        /* CF_OK while iterating */
	cf_error error;
	size_t error_index;
};

static size_t chunk_len(const cf_map_iter *it, size_t chunk)
{
	size_t first = chunk * it->chunksize;
	size_t left = it->count - first;
	return left < it->chunksize ? left : it->chunksize;
}

/* A future (not yet queued) for one chunk: the item itself when chunksize
 * is 1, else a batch. */
static cf_status make_chunk(cf_map_iter *it, size_t chunk, cf_future **out)
{
	const unsigned char *first = it->items ? it->items + chunk * it->chunksize * it->item_size : NULL;
	size_t n = chunk_len(it, chunk);

	if (it->chunksize == 1) {
		cf_range range = { .first = chunk, .count = 1 };
		bool as_range = it->whole_batch && it->item_size == 0;
		return as_range ? cf__future_new(it->fn, &range, sizeof(range), CF_FUTURE_STREAMED, out)
				: cf__future_new(it->fn, first, it->item_size, CF_FUTURE_STREAMED, out);
	}

	struct cf_fnref ref;
	if (cf__fnref_from_fn((void (*)(void))it->fn, &ref) != 0)
		ref = (struct cf_fnref){ "", 0, 0 };
	size_t items_at = batch_items_offset(ref.module_len);
	/* A batch function sees its items as the caller's array has them. */
	bool contiguous = it->results || it->whole_batch;
	size_t stride = contiguous ? it->item_size : padded(it->item_size);
	size_t size = items_at + (it->results ? 0 : n * stride);
	/* calloc: the padding goes on the wire too, and must not carry
	 * whatever the heap held before. */
	struct batch_header *h = calloc(1, size);
	if (!h)
		return CF_NOMEM;
	h->fn = it->fn;
	h->pid = getpid();
	h->fn_offset = ref.offset;
	h->module_len = ref.module_len;
	memcpy(h + 1, ref.module, ref.module_len);
	h->item_size = it->item_size;
	h->item_stride = stride;
	h->count = n;
	h->result_size = it->result_size;
	h->whole_batch = it->whole_batch;
	h->first_index = chunk * it->chunksize;
	if (it->results) {
		h->items_in_place = first;
		h->results_in_place = it->results + chunk * it->chunksize * it->result_size;
	}
	for (size_t i = 0; !it->results && it->item_size && i < n; i++)
		memcpy((unsigned char *)h + items_at + i * stride, first + i * it->item_size,
		       it->item_size);
	/* The future takes the batch as it is: a chunk of a large map is
	 * megabytes, and copying it again cost the mapping thread as much
	 * as building it. */
	cf_status st = cf__future_new(run_batch, NULL, 0, CF_FUTURE_STREAMED, out);
	if (st != CF_OK) {
		free(h);
		return st;
	}
	cf__bytes_adopt(cf__future_payload(*out), h, size);
	return CF_OK;
}

/* Refills the window in bursts: only once half of it has been taken, and
 * with one call into the backend for the whole burst.  Submitting one
 * task per result taken would wake a sleeping worker for every task; a
 * burst wakes it once for many, and the oldest results are usually done
 * by the time they are asked for. */
static cf_status top_up(cf_map_iter *it)
{
	size_t first = it->next_submit, n = 0, accepted = 0;
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
		cf_status sub = cf__submit_many(it->ex, it->burst, n, &accepted);
		if (st == CF_OK)
			st = sub;
	}
	for (size_t i = 0; i < n; i++) {
		if (i < accepted)
			it->ring[(first + i) % it->window] = it->burst[i];
		else
			cf__future_unref(it->burst[i]);
	}
	it->next_submit += accepted;
	it->submit_status = st;
	return st;
}

static void drop_held(cf_map_iter *it)
{
	if (it->held) {
		cf_future_release(it->held);
		it->held = NULL;
	}
}

/* Ends the iteration: what has not started is cancelled, the rest is
 * left to finish on its own and dropped. */
static cf_status finish(cf_map_iter *it, cf_status status)
{
	drop_held(it);
	for (size_t c = it->next_consume; c < it->next_submit; c++) {
		cf_future *f = it->ring[c % it->window];
		cf_future_cancel(f);
		cf_future_release(f);
	}
	it->next_consume = it->next_submit;
	it->final = status;
	return status;
}

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

/* The alignment any type of `size` bytes can need: the largest power of
 * two that divides the size (a type's alignment divides its size), at
 * most that of max_align_t. */
static size_t natural_alignment(size_t size)
{
	size_t a = size & -size;

	return a && a < RECORD_ALIGN ? a : RECORD_ALIGN;
}

/* Whether cf_map_into's chunks may read the items and write the results
 * where the caller has them: only on threads, only for chunks (a lone
 * item is a plain future, its argument copied), and only when the
 * caller's items and results are aligned for any type of their size, as
 * a task's argument and result buffer always are. */
static bool can_run_in_place(cf_executor *ex, const void *items, size_t item_size,
			     const void *results, size_t result_size, const cf_map_options *opts)
{
	return ex && ex->backend->shares_memory && opts && opts->chunksize > 1 &&
	       (uintptr_t)items % natural_alignment(item_size) == 0 &&
	       (uintptr_t)results % natural_alignment(result_size) == 0;
}

/* After a failure or a timeout: a chunk that runs in place still reads the
 * caller's items and writes its results, so cf_map_into cannot return
 * before it ends.  What has not started is cancelled instead. */
static void wait_for_running_chunks(cf_map_iter *it)
{
	size_t c;

	/* All the cancels first: a worker that ends a chunk while we wait
	 * must not find the next one still queued. */
	for (c = it->next_consume; c < it->next_submit; c++)
		cf_future_cancel(it->ring[c % it->window]);
	for (c = it->next_consume; c < it->next_submit; c++)
		(void)cf__future_wait(it->ring[c % it->window], -1);
}

/* What cf_map_into and cf_map_batches ask of map_start (NULL for cf_map). */
struct dense_map {
	size_t result_size;
	void *results_in_place; /* NULL: results come back in replies */
	bool whole_batch;
};

/* An iterator with its first chunks submitted. */
static cf_status map_start(cf_executor *ex, cf_fn fn, const void *items, size_t item_size,
			   size_t count, const struct dense_map *dense,
			   const cf_map_options *opts, cf_map_iter **out)
{
	cf_map_iter *it;

	if (!ex || !fn || (!items && count && item_size))
		return CF_INVALID_ARGUMENT;
	if (count && item_size && count > SIZE_MAX / item_size)
		return CF_INVALID_ARGUMENT;
	it = calloc(1, sizeof(*it));
	if (!it)
		return CF_NOMEM;
	it->ex = ex;
	cf__executor_ref(ex);
	it->fn = fn;
	it->items = items;
	it->item_size = item_size;
	it->count = count;
	if (dense) {
		it->result_size = dense->result_size;
		it->results = dense->results_in_place;
		it->whole_batch = dense->whole_batch;
	}
	it->deadline = cf__deadline(opts ? opts->timeout : CF_FOREVER);
	it->chunksize = chosen_chunksize(ex, opts, count);
	it->nchunks = count / it->chunksize + (count % it->chunksize != 0);
	it->window = opts && opts->max_in_flight ? opts->max_in_flight
						 : default_window(ex, it->chunksize);
	it->ring = calloc(it->window, sizeof(*it->ring));
	it->burst = calloc(it->window, sizeof(*it->burst));
	if (!it->ring || !it->burst) {
		cf_map_free(it);
		return CF_NOMEM;
	}
	cf_status st = top_up(it);
	if (st != CF_OK) {
		if (it->results)
			wait_for_running_chunks(it);
		cf_map_free(it);
		return st;
	}
	*out = it;
	return CF_OK;
}

cf_status cf_map(cf_executor *ex, cf_fn fn, const void *items, size_t item_size,
		 size_t count, const cf_map_options *opts, cf_map_iter **out)
{
	if (!out)
		return CF_INVALID_ARGUMENT;
	*out = NULL;
	return map_start(ex, fn, items, item_size, count, NULL, opts, out);
}

/* The next item of a finished batch; moves to the next chunk at its end. */
static cf_status next_from_batch(cf_map_iter *it, cf_future *f, const void **data, size_t *size)
{
	const unsigned char *base = cf__bytes_data(cf__future_payload(f));
	struct batch_record rec;

	if (it->cursor + sizeof(rec) > cf__future_payload(f)->size)
		return finish(it, CF_INVALID_STATE);    /* cannot happen: be safe */
	memcpy(&rec, base + it->cursor, sizeof(rec));
	const unsigned char *bytes = base + it->cursor + sizeof(rec);
	if (rec.failed) {
		memcpy(&it->error, bytes, sizeof(it->error));
		it->error_index = it->next_consume * it->chunksize + it->item_in_chunk;
		return finish(it, CF_TASK_FAILED);
	}
	*data = rec.size ? bytes : NULL;
	*size = rec.size;
	it->cursor += sizeof(rec) + padded(rec.size);
	return CF_OK;
}

/* When results come fast, the reader waits for several at once: for the
 * chunk READ_AHEAD behind the one it needs, at most READ_AHEAD_S longer.
 * Woken for every result, the reader took a core from a worker each time
 * on a machine with no core to spare (2 cores, 2 workers: 10,000 context
 * switches for 100,000 tasks of 1 us).  Results count as fast while the
 * last wait ended within READ_AHEAD_S; a map of long tasks waits for each
 * result as it comes. */
#define READ_AHEAD 16
#define READ_AHEAD_S 0.001

static cf_status wait_for_next(cf_map_iter *it, cf_future *f)
{
	size_t ahead = it->next_submit - it->next_consume - 1;

	if (cf__future_finished(f))
		return cf__future_wait(f, it->deadline);
	if (ahead > READ_AHEAD)
		ahead = READ_AHEAD;
	double start = cf__now();
	double bound = start + READ_AHEAD_S;
	if (it->deadline >= 0 && it->deadline < bound)
		bound = it->deadline;
	if (it->results_fast && ahead > 0)
		(void)cf__future_wait(it->ring[(it->next_consume + ahead) % it->window], bound);
	cf_status st = cf__future_wait(f, it->deadline);
	it->results_fast = cf__now() < start + READ_AHEAD_S;
	return st;
}

cf_status cf_map_next(cf_map_iter *it, const void **data, size_t *size)
{
	const void *d = NULL;
	size_t s = 0;
	cf_status st;

	if (!it)
		return CF_INVALID_ARGUMENT;
	if (it->final != CF_OK)
		return it->final;
	drop_held(it);
	if (it->next_consume == it->nchunks)
		return finish(it, CF_END);
	/* Chunks already submitted are read even when no more can be. */
	st = top_up(it);
	if (st != CF_OK && it->next_consume == it->next_submit)
		return finish(it, st);

	cf_future *f = it->ring[it->next_consume % it->window];
	/* A batch is waited for once, at its first item: the rest of its
	 * items are already in its result. */
	st = it->item_in_chunk > 0 ? CF_OK : wait_for_next(it, f);
	if (st == CF_TASK_FAILED) {
		it->error = *cf__future_error(f);
		it->error_index = it->next_consume * it->chunksize;
		return finish(it, st);
	}
	if (st != CF_OK)
		return finish(it, st);
	if (it->chunksize == 1) {
		d = cf__bytes_data(cf__future_payload(f));
		s = cf__future_payload(f)->size;
	} else if ((st = next_from_batch(it, f, &d, &s)) != CF_OK) {
		return st;
	}
	if (++it->item_in_chunk == chunk_len(it, it->next_consume)) {
		/* Keep the future until the next call: the caller reads d. */
		it->held = f;
		it->next_consume++;
		it->item_in_chunk = 0;
		it->cursor = 0;
	}
	if (data)
		*data = d;
	if (size)
		*size = s;
	return CF_OK;
}

const cf_error *cf_map_error(const cf_map_iter *it, size_t *index)
{
	if (!it || it->final != CF_TASK_FAILED)
		return NULL;
	if (index)
		*index = it->error_index;
	return &it->error;
}

/* Copies one finished chunk's results into the caller's array: a batch's
 * dense results with one memcpy, a lone item's result after checking its
 * size. */
static cf_status copy_chunk(cf_map_iter *it, cf_future *f, unsigned char *results)
{
	size_t first = it->next_consume * it->chunksize;
	size_t n = chunk_len(it, it->next_consume);
	unsigned char *dest = results + first * it->result_size;

	if (it->chunksize == 1) {
		if (cf__future_payload(f)->size != it->result_size) {
			it->error.code = -1;
			snprintf(it->error.message, sizeof(it->error.message),
				 "%s: the task returned %zu bytes, not result_size %zu",
				 it->whole_batch ? "map_batches" : "map_into", cf__future_payload(f)->size,
				 it->result_size);
			it->error_index = first;
			return CF_TASK_FAILED;
		}
		memcpy(dest, cf__bytes_data(cf__future_payload(f)), it->result_size);
		return CF_OK;
	}

	struct dense_header d;
	if (cf__future_payload(f)->size < sizeof(d))
		return CF_INVALID_STATE;        /* cannot happen: be safe */
	memcpy(&d, cf__bytes_data(cf__future_payload(f)), sizeof(d));
	size_t copied = it->results ? 0 : d.done;   /* in place: already there */
	if (d.done > n || cf__future_payload(f)->size != sizeof(d) + copied * it->result_size ||
	    (!d.failed && d.done != n))
		return CF_INVALID_STATE;
	memcpy(dest, (const unsigned char *)cf__bytes_data(cf__future_payload(f)) + sizeof(d),
	       copied * it->result_size);
	if (d.failed) {
		it->error = d.error;
		it->error.message[sizeof(it->error.message) - 1] = '\0';
		it->error_index = first + d.done;
		return CF_TASK_FAILED;
	}
	return CF_OK;
}

/* cf_map_into and cf_map_batches: chunks in order, each copied into the
 * caller's array as it finishes (or already there, in place). */
static cf_status map_into(cf_executor *ex, cf_fn fn, const void *items, size_t item_size,
			  size_t count, void *results, size_t result_size, bool whole_batch,
			  const cf_map_options *opts, cf_error *error, size_t *error_index)
{
	cf_map_iter *it = NULL;
	cf_status st;

	if (!result_size || (!results && count) || (count && count > SIZE_MAX / result_size))
		return CF_INVALID_ARGUMENT;
	struct dense_map dense = { .result_size = result_size, .whole_batch = whole_batch };
	if (can_run_in_place(ex, items, item_size, results, result_size, opts))
		dense.results_in_place = results;
	st = map_start(ex, fn, items, item_size, count, &dense, opts, &it);
	while (st == CF_OK && it->next_consume < it->nchunks) {
		cf_future *f = it->ring[it->next_consume % it->window];

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
		st = top_up(it);
	}
	if (st == CF_TASK_FAILED) {
		if (error)
			*error = it->error;
		if (error_index)
			*error_index = it->error_index;
	}
	if (it && it->results)
		wait_for_running_chunks(it);
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

void cf_map_free(cf_map_iter *it)
{
	if (!it)
		return;
	if (it->ring)
		finish(it, CF_END);
	free(it->ring);
	free(it->burst);
	cf__executor_unref(it->ex);
	free(it);
}
