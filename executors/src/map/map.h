/* What the map files share, private to executors/src/map.
 *
 * Python's Executor.map submits every item at once; mapping ten million
 * items creates ten million futures before the first result.  Here the
 * iterator keeps a window of `window` chunks submitted ahead and tops it
 * up as results are taken, so memory stays flat (window.c).  A chunk is
 * one future: a lone item when chunksize is 1, else several items that one
 * task runs and whose results come back in one reply (chunk.h), which is
 * what makes a map cheap on the process backend, and helps threads too.
 *
 * cf_map reads the results one at a time (iter.c); cf_map_into and
 * cf_map_batches read a whole chunk at a time into the caller's array
 * (into.c), where on threads the chunks may even have written them
 * themselves.
 */
#ifndef CF_MAP_MAP_H
#define CF_MAP_MAP_H

#include "cf.h"
#include "map/chunk.h"
#include "wire/wire.h"

#include <stdbool.h>
#include <stddef.h>

struct cf_map_iter {
	cf_executor *ex;
	cf_fn fn;
	const unsigned char *items;
	size_t item_size, count;
	enum cf_chunk_kind kind;
	size_t result_size;     /* DENSE and WHOLE; 0 for RECORDS */
	/* The caller's result array when chunks read their items and write
	 * their results where the caller has them (into.c decides); NULL
	 * otherwise. */
	unsigned char *results;
	/* The backend's tasks run in this process: chunks take the LOCAL
	 * form, else the REMOTE one, which names fn by fn_ref. */
	bool local;
	struct cf_fnref fn_ref;
	size_t chunksize, nchunks, window;
	double deadline;

	cf_future **ring;       /* chunk c lives in ring[c % window] */
	cf_future **burst;      /* futures being submitted together */
	size_t next_submit;     /* next chunk to submit */
	size_t next_consume;    /* chunk being read */
	size_t item_in_chunk;   /* items of that chunk already given */
	const unsigned char *reply;     /* that chunk's reply (chunksize > 1) */
	size_t reply_len;
	size_t cursor;          /* where the next record of the reply is */
	cf_future *held;        /* future whose result was given last */
	bool results_fast;      /* the last wait was short: iter.c */

	/* Why the last submit failed (CF_SHUTDOWN once the executor was
	 * shut down or freed): given when the reader reaches a chunk that
	 * could not be submitted, after the results of those that were. */
	cf_status submit_status;
	cf_status final;        /* CF_OK while iterating */
	cf_error error;
	size_t error_index;
};

/* What cf_map_into and cf_map_batches ask of cf__map_start (NULL: cf_map). */
struct cf_map_dense {
	size_t result_size;
	/* The caller's array, when chunks may write their results there
	 * themselves (and read their items in place); NULL: in replies. */
	void *results_in_place;
	bool whole_batch;
};

/* ---- the window (window.c) ---- */

/* An iterator with its first chunks submitted. */
cf_status cf__map_start(cf_executor *ex, cf_fn fn, const void *items, size_t item_size,
			size_t count, const struct cf_map_dense *dense,
			const cf_map_options *opts, cf_map_iter **out);
/* Submits more chunks when half the window has been taken; the status of
 * the last submit that failed, else CF_OK. */
cf_status cf__map_top_up(cf_map_iter *it);
/* Ends the iteration with status (given by every later call): what has
 * not started is cancelled, the rest left to finish on its own. */
cf_status cf__map_finish(cf_map_iter *it, cf_status status);
/* Lets go of the future whose result the caller was given last. */
void cf__map_drop_held(cf_map_iter *it);
/* After a failure or a timeout of chunks that run in place: cancels what
 * has not started and waits for the rest, which use the caller's arrays. */
void cf__map_wait_for_running_chunks(cf_map_iter *it);

static inline size_t cf__map_chunk_len(const cf_map_iter *it, size_t chunk)
{
	size_t left = it->count - chunk * it->chunksize;

	return left < it->chunksize ? left : it->chunksize;
}

static inline cf_future *cf__map_chunk_future(const cf_map_iter *it, size_t chunk)
{
	return it->ring[chunk % it->window];
}

#endif
