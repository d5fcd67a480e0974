/* cf_map: results in input order, the first failure, the timeout from the
 * call, chunks, and the bounded number of tasks in flight; and the remote
 * form of a chunk and of its replies (map/chunk.h), whose decoders must
 * refuse bytes that lie.
 *
 * Suites: cf_map, cf_chunk.  Tests named *_thread exercise the thread
 * backend only (they share a counter with the task); all others run on
 * every backend.
 */
#define _GNU_SOURCE
#include "cf_test_util.h"

#include "map/chunk.h"
#include "wire/le.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Gives the next result as a long, asserting CF_OK. */
static long next_long(cf_map_iter *it)
{
	const void *data = NULL;
	size_t size = 0;
	long v;
	cf_status st = cf_map_next(it, &data, &size);

	cr_assert_eq(st, CF_OK, "cf_map_next: %s", cf_strerror(st));
	cr_assert_eq(size, sizeof(long));
	memcpy(&v, data, sizeof(v));
	return v;
}

static cf_map_iter *map_ok(cf_executor *ex, cf_fn fn, const void *items, size_t item_size,
			   size_t count, const cf_map_options *opts)
{
	cf_map_iter *it = NULL;
	cf_status st = cf_map(ex, fn, items, item_size, count, opts, &it);

	cr_assert_eq(st, CF_OK, "cf_map: %s", cf_strerror(st));
	cr_assert_not_null(it);
	return it;
}

BACKEND_TEST(cf_map, results_in_input_order, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 4);
	struct job items[8];
	cf_map_iter *it;

	/* Later items finish first. */
	for (int i = 0; i < 8; i++)
		items[i] = (struct job){ .sleep_s = 0.03 * (8 - i), .value = i };
	it = map_ok(ex, job_task, items, sizeof(items[0]), 8, NULL);
	for (long i = 0; i < 8; i++)
		cr_expect_eq(next_long(it), i * i, "item %ld", i);
	cr_expect_eq(cf_map_next(it, NULL, NULL), CF_END);
	cr_expect_eq(cf_map_next(it, NULL, NULL), CF_END, "CF_END again");
	cf_map_free(it);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), 0);
}

BACKEND_TEST(cf_map, count_zero_ends_at_once, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 2);
	cf_map_options opts = { .timeout = CF_FOREVER, .chunksize = 4 };
	cf_map_iter *it;

	it = map_ok(ex, square_task, NULL, sizeof(long), 0, NULL);
	cr_expect_eq(cf_map_next(it, NULL, NULL), CF_END);
	cr_expect_eq(cf_map_next(it, NULL, NULL), CF_END);
	cf_map_free(it);
	it = map_ok(ex, square_task, NULL, sizeof(long), 0, &opts);
	cr_expect_eq(cf_map_next(it, NULL, NULL), CF_END);
	cf_map_free(it);
	cr_expect_eq(workers_created(ex), 0, "nothing to run, no worker");
	cf_executor_free(ex);
}

/* An item of bytes_task: returns `index % 23` bytes (possibly none), each
 * (index + j) & 0xff, so results of many sizes cross chunk records. */
static int bytes_task(cf_task *task)
{
	size_t size;
	const uint32_t *index = cf_task_arg(task, &size);
	unsigned char out[32];
	size_t n;

	if (!index || size != sizeof(*index))
		return cf_task_fail(task, 99, "argument of %zu bytes", size);
	n = *index % 23;
	for (size_t j = 0; j < n; j++)
		out[j] = (unsigned char)(*index + j);
	return cf_task_return(task, out, n);
}

static void check_bytes_map(const char *backend, size_t chunksize)
{
	enum { COUNT = 1003 };  /* chunks of 7 and 1000 end with a partial one */
	static uint32_t items[COUNT];
	cf_map_options opts = { .timeout = BOUND, .chunksize = chunksize };
	cf_executor *ex = make_pool(backend, 3);
	cf_map_iter *it;
	size_t bad = 0, first_bad = 0;

	for (uint32_t i = 0; i < COUNT; i++)
		items[i] = i;
	it = map_ok(ex, bytes_task, items, sizeof(items[0]), COUNT, &opts);
	for (uint32_t i = 0; i < COUNT; i++) {
		const unsigned char *data = NULL;
		size_t size = 99;
		cf_status st = cf_map_next(it, (const void **)&data, &size);
		bool ok = st == CF_OK && size == i % 23;

		for (size_t j = 0; ok && j < size; j++)
			ok = data[j] == (unsigned char)(i + j);
		if (!ok && bad++ == 0)
			first_bad = i;
		if (st != CF_OK)
			break;
	}
	cr_expect_eq(bad, 0, "chunksize %zu: %zu wrong results, the first at item %zu",
		     chunksize, bad, first_bad);
	cr_expect_eq(cf_map_next(it, NULL, NULL), CF_END);
	cf_map_free(it);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), 0);
}

BACKEND_TEST(cf_map, chunksize_1, .timeout = 60)
{
	check_bytes_map(backend, 1);
}

BACKEND_TEST(cf_map, chunksize_7, .timeout = 60)
{
	check_bytes_map(backend, 7);
}

BACKEND_TEST(cf_map, chunksize_1000, .timeout = 60)
{
	check_bytes_map(backend, 1000);
}

BACKEND_TEST(cf_map, chunksize_larger_than_count, .timeout = 60)
{
	check_bytes_map(backend, 5000);
}

/* CF_CHUNKSIZE_AUTO: every result right, and the items cut into 4 chunks
 * per worker (multiprocessing.Pool.map's rule), which the pool's count of
 * completed tasks shows: 1003 items on 3 workers are 12 chunks of 84. */
BACKEND_TEST(cf_map, chunksize_auto, .timeout = 60)
{
	check_bytes_map(backend, CF_CHUNKSIZE_AUTO);

	enum { COUNT = 1003 };
	static uint32_t items[COUNT];
	cf_map_options opts = { .timeout = BOUND, .chunksize = CF_CHUNKSIZE_AUTO };
	cf_executor *ex = make_pool(backend, 3);
	cf_executor_stats stats;
	size_t got = 0;

	cf_map_iter *it = map_ok(ex, bytes_task, items, sizeof(items[0]), COUNT, &opts);
	while (cf_map_next(it, NULL, NULL) == CF_OK)
		got++;
	cf_map_free(it);
	cr_expect_eq(got, COUNT);
	/* After the workers are gone: a worker counts its task just after
	 * the result is out. */
	cr_assert_eq(cf_shutdown(ex, true, false), CF_OK);
	cr_assert_eq(cf_executor_stats_get(ex, &stats), CF_OK);
	cr_expect_eq(stats.tasks_completed, 12, "%zu tasks for 1003 items on 3 workers",
		     stats.tasks_completed);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), 0);
}

/* Items of `count` jobs: failing ones at fail_at[] with code 100 + i. */
static void fill_jobs(struct job *items, size_t count, const size_t *fail_at, size_t nfail)
{
	for (size_t i = 0; i < count; i++)
		items[i] = (struct job){ .value = (long)i };
	for (size_t k = 0; k < nfail; k++)
		items[fail_at[k]].fail_code = 100 + (int)fail_at[k];
}

/* Maps over 20 jobs of which items 5 and 12 fail: 5 results, then item 5's
 * error, again and again. */
static void check_first_failure(const char *backend, size_t chunksize)
{
	struct job items[20];
	size_t fail_at[2] = { 5, 12 };
	cf_map_options opts = { .timeout = BOUND, .chunksize = chunksize };
	cf_executor *ex = make_pool(backend, 3);
	cf_map_iter *it;
	size_t index = 99;

	fill_jobs(items, 20, fail_at, 2);
	it = map_ok(ex, job_task, items, sizeof(items[0]), 20, &opts);
	cr_expect_null(cf_map_error(it, &index), "no error before a failure");
	for (long i = 0; i < 5; i++)
		cr_expect_eq(next_long(it), i * i, "item %ld", i);
	cr_assert_eq(cf_map_next(it, NULL, NULL), CF_TASK_FAILED, "chunksize %zu", chunksize);
	const cf_error *err = cf_map_error(it, &index);
	cr_assert_not_null(err);
	cr_expect_eq(index, 5, "chunksize %zu: failure reported at item %zu", chunksize, index);
	cr_expect_eq(err->code, 105);
	cr_expect_str_eq(err->message, "bad 5");
	for (int k = 0; k < 2; k++)
		cr_expect_eq(cf_map_next(it, NULL, NULL), CF_TASK_FAILED, "later calls repeat it");
	err = cf_map_error(it, &index);
	cr_assert_not_null(err);
	cr_expect_eq(index, 5);
	cr_expect_eq(cf_map_error(it, NULL), err, "index may be NULL");
	cf_map_free(it);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), 0);
}

BACKEND_TEST(cf_map, first_failure_stops, .timeout = 30)
{
	check_first_failure(backend, 1);
}

BACKEND_TEST(cf_map, first_failure_mid_chunk_of_3, .timeout = 30)
{
	check_first_failure(backend, 3);        /* item 5 is the last of chunk 1 */
}

BACKEND_TEST(cf_map, first_failure_mid_chunk_of_4, .timeout = 30)
{
	check_first_failure(backend, 4);        /* item 5 is the 2nd of chunk 1 */
}

BACKEND_TEST(cf_map, first_failure_in_one_big_chunk, .timeout = 30)
{
	check_first_failure(backend, 1000);
}

BACKEND_TEST(cf_map, failure_reported_in_input_order, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 4);
	struct job items[8];
	size_t fail_at[2] = { 3, 6 };
	cf_map_iter *it;
	size_t index = 99;

	fill_jobs(items, 8, fail_at, 2);
	items[3].sleep_s = 0.4;         /* item 6 fails first in time */
	it = map_ok(ex, job_task, items, sizeof(items[0]), 8, NULL);
	for (long i = 0; i < 3; i++)
		cr_expect_eq(next_long(it), i * i);
	cr_assert_eq(cf_map_next(it, NULL, NULL), CF_TASK_FAILED);
	const cf_error *err = cf_map_error(it, &index);
	cr_assert_not_null(err);
	cr_expect_eq(index, 3, "the first failure in input order, not in time");
	cr_expect_eq(err->code, 103);
	cf_map_free(it);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_map, timeout_from_the_call, .timeout = 60)
{
	cf_executor *ex = make_pool(backend, 2);
	struct job items[3];
	cf_map_options opts = { .timeout = 0.5 };
	cf_map_iter *it;

	for (int i = 0; i < 3; i++)
		items[i] = (struct job){ .sleep_s = 3.0, .value = i };
	double t0 = now_s();
	it = map_ok(ex, job_task, items, sizeof(items[0]), 3, &opts);
	sleep_s(0.4);   /* the caller is slow: the bound still counts from cf_map */
	cr_expect_eq(cf_map_next(it, NULL, NULL), CF_TIMEOUT);
	double took = now_s() - t0;
	cr_expect_geq(took, 0.45, "CF_TIMEOUT %.2f s after cf_map, before its 0.5 s", took);
	cr_expect_lt(took, 2.5, "CF_TIMEOUT only %.2f s after cf_map", took);
	cr_expect_eq(cf_map_next(it, NULL, NULL), CF_TIMEOUT, "later calls repeat it");
	cr_expect_null(cf_map_error(it, NULL));
	cf_map_free(it);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), 0);
}

BACKEND_TEST(cf_map, timeout_after_some_results, .timeout = 60)
{
	cf_executor *ex = make_pool(backend, 1);
	struct job items[10];
	cf_map_options opts = { .timeout = 0.7 };
	cf_map_iter *it;
	const void *data;
	size_t size;
	cf_status st;
	long got = 0;

	for (int i = 0; i < 10; i++)
		items[i] = (struct job){ .sleep_s = 0.2, .value = i };
	double t0 = now_s();
	it = map_ok(ex, job_task, items, sizeof(items[0]), 10, &opts);
	while ((st = cf_map_next(it, &data, &size)) == CF_OK) {
		long v;

		cr_assert_eq(size, sizeof(v));
		memcpy(&v, data, sizeof(v));
		cr_expect_eq(v, got * got, "result %ld", got);
		got++;
	}
	double took = now_s() - t0;
	cr_expect_eq(st, CF_TIMEOUT, "10 x 0.2 s on one worker cannot end within 0.7 s");
	cr_expect_lt(got, 10);
	cr_expect_geq(took, 0.65, "CF_TIMEOUT after %.2f s, before the 0.7 s bound", took);
	cr_expect_lt(took, 2.7, "CF_TIMEOUT only after %.2f s", took);
	cf_map_free(it);
	cf_executor_free(ex);
}

/* Maps `count` squares over `workers` workers and asserts that the number
 * of live futures never exceeds `limit` after any cf_map_next. */
static void check_bounded(const char *backend, int workers, size_t count,
			  const cf_map_options *opts, size_t limit)
{
	cf_executor *ex = make_pool(backend, workers);
	long *items = malloc(count * sizeof(*items));
	size_t base = cf_futures_alive(), peak = 0, wrong = 0;
	cf_map_iter *it;

	cr_assert_not_null(items);
	for (size_t i = 0; i < count; i++)
		items[i] = (long)(i % 1000);
	it = map_ok(ex, square_task, items, sizeof(*items), count, opts);
	for (size_t i = 0; i < count; i++) {
		const void *data;
		size_t size;
		long v;
		cf_status st = cf_map_next(it, &data, &size);

		cr_assert_eq(st, CF_OK, "item %zu: %s", i, cf_strerror(st));
		memcpy(&v, data, sizeof(v));
		wrong += v != items[i] * items[i];
		size_t alive = cf_futures_alive() - base;
		if (alive > peak)
			peak = alive;
	}
	cr_expect_eq(cf_map_next(it, NULL, NULL), CF_END);
	cr_expect_eq(wrong, 0, "%zu wrong results", wrong);
	cr_expect_leq(peak, limit, "%zu live futures at the peak, bound %zu", peak, limit);
	cf_map_free(it);
	cf_executor_free(ex);
	free(items);
	cr_expect_eq(cf_futures_alive(), base);
}

/* The futures of the window, plus the one whose result was just given,
 * plus one per worker that may still hold a finished task. */
#define SLACK(workers) ((size_t)(workers) + 2)

BACKEND_TEST(cf_map, bounded_in_flight_million, .timeout = 240)
{
	cf_map_options opts = { .timeout = CF_FOREVER, .max_in_flight = 16 };
	/* A task a message costs the MPI backend a round trip through Open
	 * MPI (tens of us): a tenth of the items shows the same bound. */
	bool slow = CF_TEST_SANITIZED || strcmp(backend, "mpi") == 0;
	size_t count = slow ? 100 * 1000 : 1000 * 1000;

	check_bounded(backend, 2, count, &opts, opts.max_in_flight + SLACK(2));
}

BACKEND_TEST(cf_map, bounded_in_flight_chunks, .timeout = 120)
{
	cf_map_options opts = { .timeout = CF_FOREVER, .chunksize = 100, .max_in_flight = 4 };

	check_bounded(backend, 2, 100 * 1000, &opts, opts.max_in_flight + SLACK(2));
}

/* cf.h: max_in_flight 0 means "about 512 items, at least 4 chunks per
 * worker". */
static size_t default_window(size_t workers, size_t chunksize)
{
	size_t per_items = 512 / chunksize;

	return 4 * workers > per_items ? 4 * workers : per_items;
}

BACKEND_TEST(cf_map, default_in_flight_bounded, .timeout = 120)
{
	check_bounded(backend, 2, 10 * 1000, NULL, default_window(2, 1) + SLACK(2));
}

BACKEND_TEST(cf_map, default_in_flight_bounded_chunks, .timeout = 120)
{
	cf_map_options opts = { .timeout = CF_FOREVER, .chunksize = 100 };

	check_bounded(backend, 2, 10 * 1000, &opts, default_window(2, 100) + SLACK(2));
}

/* 1 when the task got no argument (NULL, size 0). */
static int no_arg_task(cf_task *task)
{
	size_t size = 1;
	long r = cf_task_arg(task, &size) == NULL && size == 0;

	return cf_task_return(task, &r, sizeof(r));
}

BACKEND_TEST(cf_map, no_item_bytes, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 2);
	cf_map_options opts = { .timeout = BOUND, .chunksize = 3 };

	/* item_size 0 and no items: every task gets no argument. */
	for (int pass = 0; pass < 2; pass++) {
		cf_map_iter *it = map_ok(ex, no_arg_task, NULL, 0, 5, pass ? &opts : NULL);

		for (int i = 0; i < 5; i++)
			cr_expect_eq(next_long(it), 1, "pass %d, item %d", pass, i);
		cr_expect_eq(cf_map_next(it, NULL, NULL), CF_END);
		cf_map_free(it);
	}
	cf_executor_free(ex);
}

/* Whether its argument is aligned for any type (cf.h: cf_task_arg). */
static int aligned_task(cf_task *task)
{
	const void *arg = cf_task_arg(task, NULL);
	long r = (uintptr_t)arg % alignof(max_align_t) == 0;

	return cf_task_return(task, &r, sizeof(r));
}

BACKEND_TEST(cf_map, chunked_arguments_aligned, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 2);
	cf_map_options opts = { .timeout = BOUND, .chunksize = 7 };
	int items[20] = { 0 };
	cf_map_iter *it = map_ok(ex, aligned_task, items, sizeof(items[0]), 20, &opts);
	int misaligned = 0;

	for (int i = 0; i < 20; i++)
		misaligned += next_long(it) == 0;
	cr_expect_eq(misaligned, 0, "%d of 20 items of 4 bytes in chunks of 7 saw an argument "
		     "not aligned for any type", misaligned);
	cf_map_free(it);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_map, free_early_leaks_nothing, .timeout = 60)
{
	cf_executor *ex = make_pool(backend, 2);
	cf_map_options opts = { .timeout = BOUND, .chunksize = 1, .max_in_flight = 8 };
	long items[100];
	cf_map_iter *it;

	for (int i = 0; i < 100; i++)
		items[i] = i;
	it = map_ok(ex, square_task, items, sizeof(items[0]), 100, &opts);
	cr_expect_eq(next_long(it), 0);
	cr_expect_eq(next_long(it), 1);
	cf_map_free(it);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), 0);
}

/* Thread backend only: counts started and finished tasks in this process. */
static atomic_int started, finished;

static int counted_sleep_task(cf_task *task)
{
	const double *s = cf_task_arg(task, NULL);

	atomic_fetch_add(&started, 1);
	sleep_s(*s);
	atomic_fetch_add(&finished, 1);
	return 0;
}

/* cf.h: cf_map_free "cancels what has not started"; tasks already running
 * finish on their own, without the iterator. */
Test(cf_map, free_cancels_what_has_not_started_thread, .timeout = 30)
{
	cf_executor *ex = make_pool("thread", 2);
	cf_map_options opts = { .timeout = 0.1 };
	/* Both workers busy before the map times out: were the timeout to
	 * come first (a thread slow to start on a loaded machine), the map
	 * would cancel the second task before it ran. */
	double items[8] = { 2, 2, 2, 2, 2, 2, 2, 2 };
	cf_map_iter *it = map_ok(ex, counted_sleep_task, items, sizeof(items[0]), 8, &opts);

	cr_assert(wait_counter(&started, 2, BOUND), "two workers, two tasks running");
	cr_assert_eq(cf_map_next(it, NULL, NULL), CF_TIMEOUT);
	cf_map_free(it);
	int running = atomic_load(&started);
	cf_executor_free(ex);   /* waits for the running ones */
	cr_expect_eq(atomic_load(&started), running,
		     "%d tasks started after cf_map_free, which must cancel them",
		     atomic_load(&started) - running);
	cr_expect_eq(atomic_load(&finished), running, "the running tasks ran to their end");
	cr_expect_lt(running, 8);
	cr_expect_eq(cf_futures_alive(), 0);
}

/* A map's burst of futures larger than max_queued, on a pool whose
 * workers are all started and asleep: the submit that finds the queue
 * full must wake them first, or it waits for room that no one makes.
 * The thread backend only: the process backend has no max_queued. */
Test(cf_map, burst_larger_than_max_queued_wakes_sleeping_workers, .timeout = 30)
{
	cf_options opts = { .max_workers = 2, .max_queued = 2 };
	cf_map_options mopts = { .timeout = BOUND, .max_in_flight = 64 };
	cf_executor *ex = make_pool_opts("thread", &opts);
	long items[200];
	cf_future *warm[2];

	for (int i = 0; i < 2; i++)
		cr_assert_eq(cf_submit(ex, square_task, &(long){ i }, sizeof(long), &warm[i]), CF_OK);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(cf_future_result(warm[i], BOUND, NULL, NULL), CF_OK);
		cf_future_release(warm[i]);
	}
	usleep(50 * 1000);      /* both workers go to sleep */
	for (long i = 0; i < 200; i++)
		items[i] = i;
	cf_map_iter *it = map_ok(ex, square_task, items, sizeof(items[0]), 200, &mopts);
	for (long i = 0; i < 200; i++)
		cr_assert_eq(next_long(it), i * i);
	cr_expect_eq(cf_map_next(it, NULL, NULL), CF_END);
	cf_map_free(it);
	cf_executor_free(ex);
}

/* A reader that gets results fast waits for several at once (map/iter.c,
 * wait_for_next), but never holds a finished result back for long: here
 * ten results of 0.2 ms (fast: the reader starts to read ahead), then one
 * of 50 ms with long ones behind it. */
BACKEND_TEST(cf_map, read_ahead_never_holds_a_result_back, .timeout = 60)
{
	cf_executor *ex = make_pool(backend, 2);
	struct job items[40];
	cf_map_options opts = { .timeout = BOUND };

	for (int i = 0; i < 40; i++)
		items[i] = (struct job){ .sleep_s = i < 10 ? 0.0002 : (i == 10 ? 0.05 : 1.0), .value = i };
	cf_map_iter *it = map_ok(ex, job_task, items, sizeof(items[0]), 40, &opts);
	for (long i = 0; i < 10; i++)
		cr_assert_eq(next_long(it), i * i);
	double t0 = now_s();
	cr_assert_eq(next_long(it), 100);
	double took = now_s() - t0;
	cr_expect_lt(took, 0.8, "item 10 (50 ms) came %.3f s after the call: held back behind "
		     "the 1 s items", took);
	cf_map_free(it);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), 0);
}

/* ---- the remote chunk and its replies (map/chunk.h) ---------------------- */

struct encoded {
	unsigned char *bytes;
	size_t len;
};

/* The remote form of a chunk of `count` items of 4 bytes (item i is
 * 10 * i + 1), the chunk's first item being item 40 of its map. */
static struct encoded encode_chunk(enum cf_chunk_kind kind, size_t count, size_t result_size,
				   const struct cf_fnref *ref)
{
	static uint32_t items[64];
	struct cf_chunk c = {
		.kind = kind,
		.items = (const unsigned char *)items,
		.item_size = sizeof(items[0]),
		.item_stride = sizeof(items[0]),
		.count = count,
		.result_size = result_size,
		.first_index = 40,
	};
	struct encoded e = { .len = cf__chunk_remote_size(&c, ref) };

	cr_assert_leq(count, 64);
	for (uint32_t i = 0; i < 64; i++)
		items[i] = 10 * i + 1;
	cr_assert_gt(e.len, 0);
	e.bytes = malloc(e.len);
	cr_assert_not_null(e.bytes);
	cf__chunk_put_remote(e.bytes, &c, ref);
	return e;
}

/* Decodes len bytes from a heap copy of exactly that many, so that a read
 * past them is an ASan report.  Only the status comes back: the decoded
 * chunk points into the copy. */
static enum cf_wire_error decode_exact(const unsigned char *p, size_t len)
{
	unsigned char *copy = malloc(len ? len : 1);
	struct cf_chunk c;
	struct cf_fnref ref;
	enum cf_wire_error e;

	cr_assert_not_null(copy);
	if (len)
		memcpy(copy, p, len);
	e = cf__chunk_get_remote(copy, len, &c, &ref);
	free(copy);
	return e;
}

static const struct cf_fnref some_ref = { "libsome.so.1", 12, 0x1234 };

Test(cf_chunk, remote_round_trip)
{
	static const enum cf_chunk_kind kinds[3] = { CF_CHUNK_RECORDS, CF_CHUNK_DENSE,
						     CF_CHUNK_WHOLE };

	for (int k = 0; k < 3; k++) {
		size_t result_size = kinds[k] == CF_CHUNK_RECORDS ? 0 : 8;
		struct encoded e = encode_chunk(kinds[k], 5, result_size, &some_ref);
		struct cf_chunk c;
		struct cf_fnref ref;

		cr_assert_eq(cf__chunk_get_remote(e.bytes, e.len, &c, &ref), CF_WIRE_OK, "kind %d", k);
		cr_expect_eq(c.kind, kinds[k]);
		cr_expect_eq(c.count, 5);
		cr_expect_eq(c.item_size, 4);
		cr_expect_eq(c.item_stride, kinds[k] == CF_CHUNK_WHOLE ? 4 : 16,
			     "kind %d: stride %zu", k, c.item_stride);
		cr_expect_eq(c.result_size, result_size);
		cr_expect_eq(c.first_index, 40);
		cr_expect_null(c.fn, "a remote chunk names its function by reference");
		cr_expect_eq(ref.module_len, some_ref.module_len);
		cr_expect_eq(memcmp(ref.module, some_ref.module, ref.module_len), 0);
		cr_expect_eq(ref.offset, some_ref.offset);
		cr_assert_not_null(c.items);
		cr_expect_eq((size_t)(c.items - e.bytes) % CF_CHUNK_ALIGN, 0, "items aligned");
		for (uint32_t i = 0; i < 5; i++) {
			uint32_t v;

			memcpy(&v, c.items + i * c.item_stride, sizeof(v));
			cr_expect_eq(v, 10 * i + 1, "kind %d, item %u", k, i);
		}
		free(e.bytes);
	}
}

Test(cf_chunk, truncated_remote_chunk_refused)
{
	struct encoded e = encode_chunk(CF_CHUNK_RECORDS, 3, 0, &some_ref);

	cr_expect_eq(decode_exact(e.bytes, e.len), CF_WIRE_OK);
	for (size_t len = 0; len < e.len; len++)
		cr_expect_neq(decode_exact(e.bytes, len), CF_WIRE_OK, "cut to %zu of %zu bytes",
			      len, e.len);
	free(e.bytes);
}

/* One field of a valid chunk changed: a little-endian value of `width`
 * bytes at `offset`. */
struct lie {
	const char *what;
	size_t offset;
	int width;
	uint64_t value;
	enum cf_wire_error want;        /* CF_WIRE_OK: any error will do */
};

Test(cf_chunk, lying_remote_chunk_refused)
{
	static const struct lie lies[] = {
		{ "magic", 0, 1, 'X', CF_WIRE_BAD_MAGIC },
		{ "version", 4, 1, 2, CF_WIRE_BAD_VERSION },
		{ "kind past the last", 5, 1, CF_CHUNK_KIND_MAX + 1, CF_WIRE_BAD_FIELD },
		{ "reserved", 6, 2, 1, CF_WIRE_BAD_FIELD },
		{ "one item more than it holds", 8, 8, 4, CF_WIRE_TRUNCATED },
		{ "one item fewer than it holds", 8, 8, 2, CF_WIRE_BAD_FIELD },
		{ "a count whose reply cannot fit a frame", 8, 8, (uint64_t)1 << 40,
		  CF_WIRE_TOO_LONG },
		{ "items larger than it holds", 16, 8, 20, CF_WIRE_TRUNCATED },
		{ "items larger than a frame", 16, 8, (uint64_t)1 << 40, CF_WIRE_TOO_LONG },
		{ "a result size for cf_map's records", 24, 8, 8, CF_WIRE_BAD_FIELD },
		{ "a function name over the limit", 40, 2, 0xffff, CF_WIRE_BAD_FIELD },
		{ "a function name longer than it is", 40, 2, 200, CF_WIRE_OK },
		{ "a function name shorter than it is", 40, 2, 3, CF_WIRE_OK },
		{ "padding that is not zero", 40 + 2 + 12 + 8, 1, 0xaa, CF_WIRE_BAD_FIELD },
	};

	for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		const struct lie *l = &lies[i];
		struct encoded e = encode_chunk(CF_CHUNK_RECORDS, 3, 0, &some_ref);
		enum cf_wire_error got;

		for (int b = 0; b < l->width; b++)
			e.bytes[l->offset + b] = (unsigned char)(l->value >> (8 * b));
		got = decode_exact(e.bytes, e.len);
		if (l->want == CF_WIRE_OK)
			cr_expect_neq(got, CF_WIRE_OK, "%s: decoded", l->what);
		else
			cr_expect_eq(got, l->want, "%s: %s, not %s", l->what, cf_wire_strerror(got),
				     cf_wire_strerror(l->want));
		free(e.bytes);
	}

	/* A byte after the items, and a dense chunk without a result size. */
	struct encoded e = encode_chunk(CF_CHUNK_DENSE, 3, 8, &some_ref);
	unsigned char *longer = calloc(1, e.len + 1);

	memcpy(longer, e.bytes, e.len);
	cr_expect_eq(decode_exact(longer, e.len + 1), CF_WIRE_BAD_FIELD, "a byte after the items");
	cf__le_put_u64(e.bytes + 24, 0);
	cr_expect_eq(decode_exact(e.bytes, e.len), CF_WIRE_BAD_FIELD, "dense, result size 0");
	free(longer);
	free(e.bytes);
}

Test(cf_chunk, records_reply_refused_when_it_lies)
{
	cf_error error = { .code = 42 };
	unsigned char reply[256];
	struct cf_chunk_record rec;
	size_t first = cf__chunk_record_size(5), len;

	snprintf(error.message, sizeof(error.message), "bad item");
	cr_assert_leq(first + cf__chunk_error_record_size(&error), sizeof(reply));
	cf__chunk_put_record(reply, "hello", 5);
	cf__chunk_put_error_record(reply + first, &error);
	len = first + cf__chunk_error_record_size(&error);

	cr_assert_eq(cf__chunk_get_record(reply, len, 0, &rec), CF_WIRE_OK);
	cr_expect(!rec.failed && rec.size == 5 && memcmp(rec.bytes, "hello", 5) == 0);
	cr_expect_eq(rec.next, first);
	cr_expect_eq((size_t)(rec.bytes - reply) % CF_CHUNK_ALIGN, 0, "a result stays aligned");
	cr_assert_eq(cf__chunk_get_record(reply, len, rec.next, &rec), CF_WIRE_OK);
	cr_expect(rec.failed && rec.error.code == 42);
	cr_expect_str_eq(rec.error.message, "bad item");
	cr_expect_eq(rec.next, len);
	cr_expect_eq(cf__chunk_get_record(reply, len, len, &rec), CF_WIRE_TRUNCATED, "no more");

	for (size_t cut = first; cut < len; cut++)
		cr_expect_neq(cf__chunk_get_record(reply, cut, first, &rec), CF_WIRE_OK,
			      "the error record cut to %zu bytes", cut - first);
	reply[0] = 2;
	cr_expect_eq(cf__chunk_get_record(reply, len, 0, &rec), CF_WIRE_BAD_FIELD, "status 2");
	reply[0] = 0;
	cf__le_put_u64(reply + 8, len);
	cr_expect_eq(cf__chunk_get_record(reply, len, 0, &rec), CF_WIRE_TRUNCATED,
		     "longer than the reply");
	cf__le_put_u64(reply + 8, UINT64_MAX);
	cr_expect_eq(cf__chunk_get_record(reply, len, 0, &rec), CF_WIRE_TRUNCATED,
		     "a length that wraps");
}

Test(cf_chunk, dense_reply_refused_when_it_lies)
{
	cf_error error = { .code = 7 };
	size_t max = cf__chunk_dense_max_size(4, 8, true);
	unsigned char *reply = calloc(1, max);
	struct cf_chunk_dense d;
	size_t len;

	cr_assert_not_null(reply);
	snprintf(error.message, sizeof(error.message), "item 3 failed");
	for (long i = 0; i < 3; i++)
		memcpy(reply + CF_CHUNK_DENSE_HEADER_SIZE + 8 * i, &i, sizeof(i));
	len = cf__chunk_put_dense(reply, 3, 8, true, &error);
	cr_assert_leq(len, max);
	cr_assert_eq(cf__chunk_get_dense(reply, len, 8, true, &d), CF_WIRE_OK);
	cr_expect(d.done == 3 && d.failed && d.error.code == 7);
	cr_expect_str_eq(d.error.message, "item 3 failed");
	cr_expect_eq(memcmp(d.results, reply + CF_CHUNK_DENSE_HEADER_SIZE, 24), 0);

	for (size_t cut = 0; cut < len; cut++)
		cr_expect_neq(cf__chunk_get_dense(reply, cut, 8, true, &d), CF_WIRE_OK,
			      "cut to %zu of %zu bytes", cut, len);
	cr_expect_neq(cf__chunk_get_dense(reply, len, 8, false, &d), CF_WIRE_OK,
		      "results where none were expected");
	cf__le_put_u64(reply, 4);
	cr_expect_neq(cf__chunk_get_dense(reply, len, 8, true, &d), CF_WIRE_OK, "one result more");
	cf__le_put_u64(reply, UINT64_MAX);
	cr_expect_eq(cf__chunk_get_dense(reply, len, 8, true, &d), CF_WIRE_TRUNCATED,
		     "a count that wraps");
	cf__le_put_u64(reply, 3);
	cf__le_put_u32(reply + 8, 0);
	cr_expect_eq(cf__chunk_get_dense(reply, len, 8, true, &d), CF_WIRE_BAD_FIELD,
		     "an error in a reply that did not fail");
	free(reply);
}

/* The task of a remote chunk, submitted as any task with the bytes as its
 * argument: on threads it runs in place, on processes in a worker, and a
 * chunk cut short or naming a function nowhere fails its task, not the
 * worker. */
BACKEND_TEST(cf_map, remote_chunk_task_checks_its_chunk, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	long items[3] = { 2, 3, 4 };
	struct cf_chunk c = {
		.kind = CF_CHUNK_RECORDS,
		.items = (const unsigned char *)items,
		.item_size = sizeof(items[0]),
		.item_stride = sizeof(items[0]),
		.count = 3,
	};
	struct cf_fnref ref, nowhere = { "no-such-object.so", 17, 0x40 };
	const cf_error *error;
	const unsigned char *reply;
	size_t len, at = 0;

	cr_assert_eq(cf__fnref_from_fn((void (*)(void))square_task, &ref), 0);
	size_t size = cf__chunk_remote_size(&c, &ref);
	unsigned char *bytes = malloc(size);
	cr_assert_not_null(bytes);
	cf__chunk_put_remote(bytes, &c, &ref);

	cf_future *f = submit_ok(ex, cf__chunk_run_remote, bytes, size);
	cr_assert_eq(cf_future_result(f, BOUND, (const void **)&reply, &len), CF_OK);
	for (int i = 0; i < 3; i++) {
		struct cf_chunk_record rec;
		long v;

		cr_assert_eq(cf__chunk_get_record(reply, len, at, &rec), CF_WIRE_OK, "record %d", i);
		cr_assert(!rec.failed && rec.size == sizeof(v));
		memcpy(&v, rec.bytes, sizeof(v));
		cr_expect_eq(v, items[i] * items[i]);
		at = rec.next;
	}
	cr_expect_eq(at, len, "nothing after the records");
	release_ok(f);

	f = submit_ok(ex, cf__chunk_run_remote, bytes, size - 3);
	cr_assert_eq(cf_future_exception(f, BOUND, &error), CF_OK);
	cr_assert_not_null(error, "a chunk cut short ran");
	cr_expect(strstr(error->message, "malformed chunk") != NULL, "%s", error->message);
	release_ok(f);

	size = cf__chunk_remote_size(&c, &nowhere);
	free(bytes);
	bytes = malloc(size);
	cr_assert_not_null(bytes);
	cf__chunk_put_remote(bytes, &c, &nowhere);
	f = submit_ok(ex, cf__chunk_run_remote, bytes, size);
	cr_assert_eq(cf_future_exception(f, BOUND, &error), CF_OK);
	cr_assert_not_null(error, "a chunk of a function nowhere ran");
	cr_expect(strstr(error->message, "not in this program") != NULL, "%s", error->message);
	release_ok(f);

	f = submit_square(ex, 5);
	cr_expect_eq(result_long(f, BOUND), 25, "the worker lives on");
	release_ok(f);
	free(bytes);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), 0);
}
