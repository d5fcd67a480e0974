/* cf_map: results one at a time, in input order (map.h). */
#include "map/map.h"

#include "base/clock.h"
#include "core/future.h"

#include <stddef.h>

cf_status cf_map(cf_executor *ex, cf_fn fn, const void *items, size_t item_size,
		 size_t count, const cf_map_options *opts, cf_map_iter **out)
{
	if (!out)
		return CF_INVALID_ARGUMENT;
	*out = NULL;
	return cf__map_start(ex, fn, items, item_size, count, NULL, opts, out);
}

/* The next item of a finished chunk's reply. */
static cf_status next_from_chunk(cf_map_iter *it, const void **data, size_t *size)
{
	struct cf_chunk_record rec;

	/* A worker's reply is checked like anything else read from a pipe. */
	if (cf__chunk_get_record(it->reply, it->reply_len, it->cursor, &rec) != CF_WIRE_OK)
		return cf__map_finish(it, CF_INVALID_STATE);
	if (rec.failed) {
		it->error = rec.error;
		it->error_index = it->next_consume * it->chunksize + it->item_in_chunk;
		return cf__map_finish(it, CF_TASK_FAILED);
	}
	*data = rec.bytes;
	*size = rec.size;
	it->cursor = rec.next;
	return CF_OK;
}

/* When results come fast, the reader waits for several at once: for the
 * chunk READ_AHEAD behind the one it needs, at most READ_AHEAD_S longer.
 * Woken for every result, the reader would take a core from a worker each
 * time on a machine with no core to spare.  Results count as fast while
 * the last wait ended within READ_AHEAD_S; a map of long tasks waits for
 * each result as it comes. */
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
		(void)cf__future_wait(cf__map_chunk_future(it, it->next_consume + ahead), bound);
	cf_status st = cf__future_wait(f, it->deadline);
	it->results_fast = cf__now() < start + READ_AHEAD_S;
	return st;
}

/* At a chunk's first item: lets go of the chunk before, submits more,
 * and waits for this one.  The rest of its items are in the same reply,
 * so they need none of this; the chunks already submitted are read even
 * when no more can be. */
static cf_status start_chunk(cf_map_iter *it)
{
	cf_future *f;
	cf_status st;

	cf__map_drop_held(it);
	if (it->next_consume == it->nchunks)
		return cf__map_finish(it, CF_END);
	st = cf__map_top_up(it);
	if (st != CF_OK && it->next_consume == it->next_submit)
		return cf__map_finish(it, st);
	f = cf__map_chunk_future(it, it->next_consume);
	st = wait_for_next(it, f);
	if (st == CF_TASK_FAILED) {
		it->error = *cf__future_error(f);
		it->error_index = it->next_consume * it->chunksize;
	}
	if (st != CF_OK)
		return cf__map_finish(it, st);
	if (it->chunksize > 1) {
		struct cf_bytes *reply = cf__future_payload(f);

		it->reply = cf__bytes_data(reply);
		it->reply_len = reply->size;
	}
	return CF_OK;
}

/* After an item was given: at its chunk's end, on to the next chunk,
 * keeping the future until the next call (the caller reads its result). */
static void item_given(cf_map_iter *it, cf_future *f)
{
	if (++it->item_in_chunk < cf__map_chunk_len(it, it->next_consume))
		return;
	it->held = f;
	it->next_consume++;
	it->item_in_chunk = 0;
	it->cursor = 0;
}

cf_status cf_map_next(cf_map_iter *it, const void **data, size_t *size)
{
	const void *d = NULL;
	size_t s = 0;
	cf_future *f;
	cf_status st;

	if (!it)
		return CF_INVALID_ARGUMENT;
	if (it->final != CF_OK)
		return it->final;
	if (it->item_in_chunk == 0 && (st = start_chunk(it)) != CF_OK)
		return st;
	f = cf__map_chunk_future(it, it->next_consume);
	if (it->chunksize == 1) {
		d = cf__bytes_data(cf__future_payload(f));
		s = cf__future_payload(f)->size;
	} else if ((st = next_from_chunk(it, &d, &s)) != CF_OK) {
		return st;
	}
	item_given(it, f);
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
