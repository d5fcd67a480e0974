/* cf_map_into and cf_map_batches: every result in the caller's array, in
 * input order; the first failure with its index; the timeout; on threads,
 * chunks that read and write the caller's arrays in place without
 * outliving the call; and cf_task_result_buffer, a result built in place.
 *
 * Suites: cf_map_into, cf_map_batches, cf_task.  Tests named *_thread exercise the thread backend
 * only (they share counters with the task); all others run on every
 * backend.
 */
#define _GNU_SOURCE
#include "cf_test_util.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* 16 bytes, a multiple of alignof(max_align_t): on threads a chunk of
 * these is read where the caller has it. */
struct pair {
	long value;
	long fail_code;         /* nonzero: the item fails with this code */
};

/* pair_task: value * value as a long, or a failure "bad VALUE"; checks the
 * alignment that cf.h promises a task's argument. */
static int pair_task(cf_task *task)
{
	const struct pair *p = cf_task_arg(task, NULL);

	if ((uintptr_t)p % alignof(max_align_t) != 0)
		return cf_task_fail(task, 7, "argument at %p is not aligned", (const void *)p);
	if (p->fail_code)
		return cf_task_fail(task, (int)p->fail_code, "bad %ld", p->value);
	long square = p->value * p->value;
	return cf_task_return(task, &square, sizeof(square));
}

/* cf_map_into and cf_map_batches take the same arguments. */
typedef cf_status (*map_call)(cf_executor *ex, cf_fn fn, const void *items, size_t item_size,
			      size_t count, void *results, size_t result_size,
			      const cf_map_options *opts, cf_error *error, size_t *error_index);

/* Maps long_fn over `count` longs (n -> n * n; 8-byte items, not 16:
 * copied unless aligned by their size) and pair_fn over `count` pairs
 * (value i + 1 -> its square; 16-byte items) and checks every result. */
static void check_map(const char *backend, map_call map, cf_fn long_fn, cf_fn pair_fn,
		      size_t count, size_t chunksize)
{
	cf_map_options opts = { .timeout = BOUND, .chunksize = chunksize };
	cf_executor *ex = make_pool(backend, 3);
	long *items = malloc(count * sizeof(*items) + 1);
	struct pair *pairs = malloc(count * sizeof(*pairs) + 1);
	long *results = malloc(count * sizeof(*results) + 1);
	cf_status st;

	cr_assert(items && pairs && results);
	for (size_t i = 0; i < count; i++) {
		items[i] = (long)i;
		pairs[i] = (struct pair){ .value = (long)i + 1 };
	}
	memset(results, 0xee, count * sizeof(*results));
	st = map(ex, long_fn, items, sizeof(*items), count, results, sizeof(*results), &opts,
		 NULL, NULL);
	cr_assert_eq(st, CF_OK, "chunksize %zu: %s", chunksize, cf_strerror(st));
	for (size_t i = 0; i < count; i++)
		cr_assert_eq(results[i], (long)(i * i), "chunksize %zu, item %zu", chunksize, i);

	memset(results, 0xee, count * sizeof(*results));
	st = map(ex, pair_fn, pairs, sizeof(*pairs), count, results, sizeof(*results), &opts,
		 NULL, NULL);
	cr_assert_eq(st, CF_OK, "pairs, chunksize %zu: %s", chunksize, cf_strerror(st));
	for (size_t i = 0; i < count; i++)
		cr_assert_eq(results[i], (long)((i + 1) * (i + 1)), "pairs, chunksize %zu, item %zu",
			     chunksize, i);
	cf_executor_free(ex);
	free(items);
	free(pairs);
	free(results);
	cr_expect_eq(cf_futures_alive(), 0);
}

static void check_squares(const char *backend, size_t count, size_t chunksize)
{
	check_map(backend, cf_map_into, square_task, pair_task, count, chunksize);
}

BACKEND_TEST(cf_map_into, chunksize_1, .timeout = 60)
{
	check_squares(backend, 100, 1);
}

BACKEND_TEST(cf_map_into, chunksize_7, .timeout = 60)
{
	check_squares(backend, 1000, 7);        /* the last chunk is short */
}

BACKEND_TEST(cf_map_into, chunksize_larger_than_count, .timeout = 60)
{
	check_squares(backend, 10, 1000);
}

BACKEND_TEST(cf_map_into, chunksize_auto, .timeout = 60)
{
	check_squares(backend, 100003, CF_CHUNKSIZE_AUTO);
}

BACKEND_TEST(cf_map_into, count_zero_runs_nothing, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 2);
	cf_map_options opts = { .timeout = BOUND, .chunksize = 4 };

	cr_expect_eq(cf_map_into(ex, square_task, NULL, sizeof(long), 0, NULL, sizeof(long),
				 &opts, NULL, NULL), CF_OK);
	cr_expect_eq(cf_map_into(ex, square_task, NULL, sizeof(long), 0, NULL, sizeof(long),
				 NULL, NULL, NULL), CF_OK);
	cr_expect_eq(workers_created(ex), 0, "nothing to run, no worker");
	cf_executor_free(ex);
}

BACKEND_TEST(cf_map_into, bad_arguments, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	long items[2] = { 1, 2 }, results[2];

	cr_expect_eq(cf_map_into(NULL, square_task, items, sizeof(long), 2, results, sizeof(long),
				 NULL, NULL, NULL), CF_INVALID_ARGUMENT, "no executor");
	cr_expect_eq(cf_map_into(ex, NULL, items, sizeof(long), 2, results, sizeof(long),
				 NULL, NULL, NULL), CF_INVALID_ARGUMENT, "no function");
	cr_expect_eq(cf_map_into(ex, square_task, items, sizeof(long), 2, NULL, sizeof(long),
				 NULL, NULL, NULL), CF_INVALID_ARGUMENT, "no array for the results");
	cr_expect_eq(cf_map_into(ex, square_task, items, sizeof(long), 2, results, 0,
				 NULL, NULL, NULL), CF_INVALID_ARGUMENT, "results of no size");
	cr_expect_eq(cf_map_into(ex, square_task, items, sizeof(long), SIZE_MAX / 4, results,
				 sizeof(long), NULL, NULL, NULL), CF_INVALID_ARGUMENT,
		     "an array larger than memory");
	cr_expect_eq(workers_created(ex), 0);
	cf_executor_free(ex);
}

/* 20 pairs of which items 5 and 12 fail: CF_TASK_FAILED at item 5, with
 * its error, and the results before it written. */
static void check_first_failure(const char *backend, size_t chunksize)
{
	struct pair items[20];
	long results[20];
	cf_map_options opts = { .timeout = BOUND, .chunksize = chunksize };
	cf_executor *ex = make_pool(backend, 3);
	cf_error error = { 0 };
	size_t index = 99;

	for (long i = 0; i < 20; i++)
		items[i] = (struct pair){ .value = i, .fail_code = (i == 5 || i == 12) ? 100 + i : 0 };
	memset(results, 0xee, sizeof(results));
	cf_status st = cf_map_into(ex, pair_task, items, sizeof(items[0]), 20, results,
				   sizeof(results[0]), &opts, &error, &index);
	cr_assert_eq(st, CF_TASK_FAILED, "chunksize %zu: %s", chunksize, cf_strerror(st));
	cr_expect_eq(index, 5, "chunksize %zu: failure reported at item %zu", chunksize, index);
	cr_expect_eq(error.code, 105);
	cr_expect_str_eq(error.message, "bad 5");
	for (long i = 0; i < 5; i++)
		cr_expect_eq(results[i], i * i, "chunksize %zu: item %ld before the failure",
			     chunksize, i);
	/* Without places for the error: the same status. */
	cr_expect_eq(cf_map_into(ex, pair_task, items, sizeof(items[0]), 20, results,
				 sizeof(results[0]), &opts, NULL, NULL), CF_TASK_FAILED);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), 0);
}

BACKEND_TEST(cf_map_into, first_failure_chunksize_1, .timeout = 30)
{
	check_first_failure(backend, 1);
}

BACKEND_TEST(cf_map_into, first_failure_mid_chunk_of_4, .timeout = 30)
{
	check_first_failure(backend, 4);        /* item 5 is the 2nd of chunk 1 */
}

BACKEND_TEST(cf_map_into, first_failure_in_one_big_chunk, .timeout = 30)
{
	check_first_failure(backend, 1000);
}

/* bytes_of_index_task: long i -> i % 3 bytes; only i % 3 == 2 fits. */
static int bytes_of_index_task(cf_task *task)
{
	const long *i = cf_task_arg(task, NULL);
	static const char bytes[2] = { 'a', 'b' };

	return cf_task_return(task, bytes, (size_t)(*i % 3));
}

/* A result of another size than result_size fails its item: the array
 * has room for result_size bytes and no more. */
static void check_wrong_size(const char *backend, size_t chunksize)
{
	long items[6] = { 2, 5, 8, 3, 11, 14 };        /* item 3 returns 0 bytes */
	char results[6][2];
	cf_map_options opts = { .timeout = BOUND, .chunksize = chunksize };
	cf_executor *ex = make_pool(backend, 2);
	cf_error error = { 0 };
	size_t index = 99;

	cf_status st = cf_map_into(ex, bytes_of_index_task, items, sizeof(items[0]), 6, results,
				   2, &opts, &error, &index);
	cr_assert_eq(st, CF_TASK_FAILED, "chunksize %zu: %s", chunksize, cf_strerror(st));
	cr_expect_eq(index, 3, "chunksize %zu", chunksize);
	cr_expect_neq(error.code, 0);
	cr_expect(strstr(error.message, "result_size"), "message: %s", error.message);
	cr_expect_eq(memcmp(results[2], "ab", 2), 0);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), 0);
}

BACKEND_TEST(cf_map_into, wrong_result_size_fails_its_item, .timeout = 30)
{
	check_wrong_size(backend, 1);
	check_wrong_size(backend, 4);
}

/* The timeout counts from the call; a process pool's chunks run on in
 * their workers and write nothing of the caller's. */
Test(cf_map_into, timeout_from_the_call_process, .timeout = 60)
{
	cf_executor *ex = make_pool("process", 2);
	struct job items[4];
	long results[4];
	cf_map_options opts = { .timeout = 0.3, .chunksize = 2 };

	for (int i = 0; i < 4; i++)
		items[i] = (struct job){ .sleep_s = 1.5, .value = i };
	double t0 = now_s();
	cf_status st = cf_map_into(ex, job_task, items, sizeof(items[0]), 4, results,
				   sizeof(results[0]), &opts, NULL, NULL);
	double took = now_s() - t0;
	cr_expect_eq(st, CF_TIMEOUT, "%s", cf_strerror(st));
	cr_expect_geq(took, 0.25, "CF_TIMEOUT after %.2f s, before its 0.3 s", took);
	cr_expect_lt(took, 2.5, "CF_TIMEOUT only %.2f s after the call", took);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), 0);
}

/* Thread backend only: counts started and finished items in this
 * process, and where each item's argument lay. */
struct sleep_item {
	double sleep_s;
	long value;
};

static atomic_int started, finished, in_callers_array;
static const struct sleep_item *callers_items;
static size_t callers_count;

static int counted_sleep_task(cf_task *task)
{
	const struct sleep_item *it = cf_task_arg(task, NULL);

	atomic_fetch_add(&started, 1);
	if (it >= callers_items && it < callers_items + callers_count)
		atomic_fetch_add(&in_callers_array, 1);
	sleep_s(it->sleep_s);
	atomic_fetch_add(&finished, 1);
	return cf_task_return(task, &it->value, sizeof(it->value));
}

static void count_from_zero(const struct sleep_item *items, size_t count)
{
	atomic_store(&started, 0);
	atomic_store(&finished, 0);
	atomic_store(&in_callers_array, 0);
	callers_items = items;
	callers_count = count;
}

/* On threads a chunk reads the caller's items where they are (16-byte,
 * aligned items: no copy), and writes the results in place. */
Test(cf_map_into, chunks_read_items_in_place_thread, .timeout = 30)
{
	cf_executor *ex = make_pool("thread", 2);
	static struct sleep_item items[64];
	long results[64];
	cf_map_options opts = { .timeout = BOUND, .chunksize = 8 };

	for (long i = 0; i < 64; i++)
		items[i] = (struct sleep_item){ .value = 3 * i };
	count_from_zero(items, 64);
	cr_assert_eq(cf_map_into(ex, counted_sleep_task, items, sizeof(items[0]), 64, results,
				 sizeof(results[0]), &opts, NULL, NULL), CF_OK);
	cr_expect_eq(atomic_load(&in_callers_array), 64, "%d of 64 items read in place",
		     atomic_load(&in_callers_array));
	for (long i = 0; i < 64; i++)
		cr_expect_eq(results[i], 3 * i);

	/* One item at a time is a plain future: its argument is copied. */
	opts.chunksize = 1;
	count_from_zero(items, 64);
	cr_assert_eq(cf_map_into(ex, counted_sleep_task, items, sizeof(items[0]), 8, results,
				 sizeof(results[0]), &opts, NULL, NULL), CF_OK);
	cr_expect_eq(atomic_load(&in_callers_array), 0);
	cf_executor_free(ex);
}

/* Thread backend only: how many result buffers lay in the caller's
 * result array, which the test names here. */
static atomic_int buffers_in_callers_array;
static const long *callers_results;

static int square_into_buffer_task(cf_task *task)
{
	size_t size;
	const long *n = cf_task_arg(task, &size);
	size_t count = size / sizeof(*n);
	long *out = cf_task_result_buffer(task, count * sizeof(*out));

	if (!out)
		return cf_task_fail(task, 9, "no result buffer");
	if (out >= callers_results && out + count <= callers_results + 64)
		atomic_fetch_add(&buffers_in_callers_array, 1);
	for (size_t i = 0; i < count; i++)
		out[i] = n[i] * n[i];
	return 0;
}

/* On threads a chunk's results are written where the caller wants them,
 * with no copy: cf_task_result_buffer hands out the caller's array, an
 * item's place in cf_map_into, a chunk's in cf_map_batches.  A lone item
 * (chunksize 1) is a plain future, whose result is copied. */
Test(cf_map_into, results_written_in_the_callers_array_thread, .timeout = 30)
{
	cf_executor *ex = make_pool("thread", 2);
	static long items[64], results[64];
	cf_map_options opts = { .timeout = BOUND, .chunksize = 8 };
	static const map_call maps[2] = { cf_map_into, cf_map_batches };
	static const int in_place[2] = { 64, 8 };

	for (long i = 0; i < 64; i++)
		items[i] = i - 7;
	callers_results = results;
	for (int m = 0; m < 2; m++) {
		for (size_t chunksize = 1; chunksize <= 8; chunksize += 7) {
			opts.chunksize = chunksize;
			memset(results, 0, sizeof(results));
			atomic_store(&buffers_in_callers_array, 0);
			cr_assert_eq(maps[m](ex, square_into_buffer_task, items, sizeof(items[0]), 64,
					     results, sizeof(results[0]), &opts, NULL, NULL), CF_OK);
			cr_expect_eq(atomic_load(&buffers_in_callers_array),
				     chunksize == 1 ? 0 : in_place[m],
				     "%s, chunksize %zu: %d buffers in the caller's array",
				     m ? "map_batches" : "map_into", chunksize,
				     atomic_load(&buffers_in_callers_array));
			for (long i = 0; i < 64; i++)
				cr_expect_eq(results[i], (i - 7) * (i - 7));
		}
	}
	cf_executor_free(ex);
}

/* A timeout while chunks run in place: cf_map_into returns only after the
 * running ones end (they use the caller's arrays), cancels the others,
 * and nothing writes into the results afterwards. */
Test(cf_map_into, timeout_waits_for_chunks_in_place_thread, .timeout = 60)
{
	cf_executor *ex = make_pool("thread", 2);
	static struct sleep_item items[12];
	long results[12];
	cf_map_options opts = { .timeout = 0.1, .chunksize = 2 };

	for (long i = 0; i < 12; i++)
		items[i] = (struct sleep_item){ .sleep_s = 0.3, .value = i };
	memset(results, 0xee, sizeof(results));
	count_from_zero(items, 12);
	cf_status st = cf_map_into(ex, counted_sleep_task, items, sizeof(items[0]), 12, results,
				   sizeof(results[0]), &opts, NULL, NULL);
	cr_expect_eq(st, CF_TIMEOUT, "%s", cf_strerror(st));
	int at_return = atomic_load(&finished);
	cr_expect_eq(atomic_load(&started), at_return, "an item still ran at the return");
	cr_expect_geq(at_return, 2, "the two chunks running at the deadline ran to their end");
	long snapshot[12];
	memcpy(snapshot, results, sizeof(results));
	sleep_s(0.8);
	cr_expect_eq(atomic_load(&started), at_return, "%d items started after the return",
		     atomic_load(&started) - at_return);
	cr_expect_eq(memcmp(snapshot, results, sizeof(results)), 0,
		     "the results changed after cf_map_into returned");
	cr_expect_lt(at_return, 12, "the chunks not started were cancelled");
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), 0);
}

BACKEND_TEST(cf_map_into, after_shutdown, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 2);
	long items[8] = { 0 }, results[8];
	cf_map_options opts = { .chunksize = 4 };

	cr_assert_eq(cf_shutdown(ex, true, false), CF_OK);
	cr_expect_eq(cf_map_into(ex, square_task, items, sizeof(items[0]), 8, results,
				 sizeof(results[0]), &opts, NULL, NULL), CF_SHUTDOWN);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), 0);
}

/* ---- cf_map_batches ------------------------------------------------------- */

/* pair_batch_task: pair_task over a whole chunk, written in place; the
 * first failing pair fails the chunk. */
static int pair_batch_task(cf_task *task)
{
	size_t size;
	const struct pair *p = cf_task_arg(task, &size);
	size_t count = size / sizeof(*p);

	if (size % sizeof(*p) != 0)
		return cf_task_fail(task, 8, "%zu bytes is not a whole number of pairs", size);
	long *out = cf_task_result_buffer(task, count * sizeof(*out));
	if (!out)
		return cf_task_fail(task, 9, "no result buffer");
	for (size_t i = 0; i < count; i++) {
		if (p[i].fail_code)
			return cf_task_fail(task, (int)p[i].fail_code, "bad %ld", p[i].value);
		out[i] = p[i].value * p[i].value;
	}
	return 0;
}

/* square_batch_task: longs -> their squares, returned with
 * cf_task_return (a copy), so both ways of returning are exercised. */
static int square_batch_task(cf_task *task)
{
	size_t size;
	const long *n = cf_task_arg(task, &size);
	size_t count = size / sizeof(*n);
	long *out = malloc(count * sizeof(*out) + 1);

	if (!out)
		return cf_task_fail(task, 9, "out of memory");
	for (size_t i = 0; i < count; i++)
		out[i] = n[i] * n[i];
	int rc = cf_task_return(task, out, count * sizeof(*out));
	free(out);
	return rc;
}

static void check_batches(const char *backend, size_t count, size_t chunksize)
{
	check_map(backend, cf_map_batches, square_batch_task, pair_batch_task, count, chunksize);
}

BACKEND_TEST(cf_map_batches, chunksize_1, .timeout = 60)
{
	check_batches(backend, 50, 1);
}

BACKEND_TEST(cf_map_batches, chunksize_7, .timeout = 60)
{
	check_batches(backend, 1000, 7);
}

BACKEND_TEST(cf_map_batches, chunksize_auto, .timeout = 60)
{
	check_batches(backend, 100003, CF_CHUNKSIZE_AUTO);
}

/* The call for a chunk sees exactly that chunk's items, and is made once
 * per chunk (the thread backend counts its calls). */
static atomic_int batch_calls;

static int counted_batch_task(cf_task *task)
{
	atomic_fetch_add(&batch_calls, 1);
	return square_batch_task(task);
}

Test(cf_map_batches, one_call_per_chunk_thread, .timeout = 30)
{
	cf_executor *ex = make_pool("thread", 2);
	long items[100], results[100];
	cf_map_options opts = { .timeout = BOUND, .chunksize = 30 };

	for (long i = 0; i < 100; i++)
		items[i] = i - 50;
	atomic_store(&batch_calls, 0);
	cr_assert_eq(cf_map_batches(ex, counted_batch_task, items, sizeof(items[0]), 100, results,
				    sizeof(results[0]), &opts, NULL, NULL), CF_OK);
	cr_expect_eq(atomic_load(&batch_calls), 4, "100 items in chunks of 30: %d calls",
		     atomic_load(&batch_calls));
	for (long i = 0; i < 100; i++)
		cr_expect_eq(results[i], (i - 50) * (i - 50));
	cf_executor_free(ex);
}

/* A failing call fails its chunk: the error and the chunk's first item;
 * the chunks before it are written. */
BACKEND_TEST(cf_map_batches, failure_names_the_chunk, .timeout = 30)
{
	struct pair items[20];
	long results[20];
	cf_map_options opts = { .timeout = BOUND, .chunksize = 4 };
	cf_executor *ex = make_pool(backend, 2);
	cf_error error = { 0 };
	size_t index = 99;

	for (long i = 0; i < 20; i++)
		items[i] = (struct pair){ .value = i, .fail_code = (i == 9 || i == 17) ? 100 + i : 0 };
	memset(results, 0xee, sizeof(results));
	cf_status st = cf_map_batches(ex, pair_batch_task, items, sizeof(items[0]), 20, results,
				      sizeof(results[0]), &opts, &error, &index);
	cr_assert_eq(st, CF_TASK_FAILED, "%s", cf_strerror(st));
	cr_expect_eq(index, 8, "the failing chunk starts at item 8, not %zu", index);
	cr_expect_eq(error.code, 109);
	cr_expect_str_eq(error.message, "bad 9");
	for (long i = 0; i < 8; i++)
		cr_expect_eq(results[i], i * i, "item %ld of an earlier chunk", i);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), 0);
}

/* first_square_task: one long, the square of the chunk's first, whatever
 * the chunk's length. */
static int first_square_task(cf_task *task)
{
	const long *n = cf_task_arg(task, NULL);
	long square = n[0] * n[0];

	return cf_task_return(task, &square, sizeof(square));
}

/* A call whose result is not items x result_size bytes fails its chunk. */
BACKEND_TEST(cf_map_batches, wrong_result_size_fails_the_chunk, .timeout = 30)
{
	long items[10] = { 0 }, results[10];
	cf_map_options opts = { .timeout = BOUND, .chunksize = 5 };
	cf_executor *ex = make_pool(backend, 2);
	cf_error error = { 0 };
	size_t index = 99;

	/* One long for a chunk of five. */
	cf_status st = cf_map_batches(ex, first_square_task, items, sizeof(items[0]), 10, results,
				      sizeof(results[0]), &opts, &error, &index);
	cr_assert_eq(st, CF_TASK_FAILED, "%s", cf_strerror(st));
	cr_expect_eq(index, 0);
	cr_expect(strstr(error.message, "result_size"), "message: %s", error.message);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), 0);
}

BACKEND_TEST(cf_map_batches, bad_arguments, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	long items[2] = { 1, 2 }, results[2];

	cr_expect_eq(cf_map_batches(ex, square_batch_task, items, sizeof(long), 2, NULL,
				    sizeof(long), NULL, NULL, NULL), CF_INVALID_ARGUMENT);
	cr_expect_eq(cf_map_batches(ex, square_batch_task, items, sizeof(long), 2, results, 0,
				    NULL, NULL, NULL), CF_INVALID_ARGUMENT);
	cr_expect_eq(cf_map_batches(NULL, square_batch_task, items, sizeof(long), 2, results,
				    sizeof(long), NULL, NULL, NULL), CF_INVALID_ARGUMENT);
	cf_executor_free(ex);
}

/* ---- cf_task_result_buffer ------------------------------------------------ */

/* fill_task: size_t n -> n bytes, byte i = i & 0xff, written in place. */
static int fill_task(cf_task *task)
{
	const size_t *n = cf_task_arg(task, NULL);
	unsigned char *buf = cf_task_result_buffer(task, *n);

	if (!buf)
		return cf_task_fail(task, 1, "no buffer of %zu bytes", *n);
	if ((uintptr_t)buf % alignof(max_align_t) != 0)
		return cf_task_fail(task, 2, "buffer at %p is not aligned", (void *)buf);
	for (size_t i = 0; i < *n; i++)
		buf[i] = (unsigned char)i;
	return 0;
}

/* A result built in place, small (inline) or large, reaches the future. */
BACKEND_TEST(cf_task, result_buffer_reaches_the_future, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 2);
	static const size_t sizes[] = { 0, 1, 16, 17, 100000 };

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		cf_future *f = submit_ok(ex, fill_task, &sizes[k], sizeof(sizes[k]));
		const unsigned char *data;
		size_t size = 99;

		cr_assert_eq(cf_future_result(f, BOUND, (const void **)&data, &size), CF_OK,
			     "%zu bytes", sizes[k]);
		cr_expect_eq(size, sizes[k]);
		for (size_t i = 0; i < size; i++)
			cr_assert_eq(data[i], (unsigned char)i, "%zu bytes: byte %zu", sizes[k], i);
		cf_future_release(f);
	}
	cr_expect_null(cf_task_result_buffer(NULL, 4));
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), 0);
}

/* ---- maps over no items --------------------------------------------------- */

/* range_squares_task: a cf_range -> the squares of its indexes. */
static int range_squares_task(cf_task *task)
{
	size_t size;
	const cf_range *r = cf_task_arg(task, &size);

	if (size != sizeof(*r))
		return cf_task_fail(task, 5, "argument of %zu bytes, not a cf_range", size);
	long *out = cf_task_result_buffer(task, r->count * sizeof(*out));
	if (!out)
		return cf_task_fail(task, 9, "no result buffer");
	for (size_t i = 0; i < r->count; i++)
		out[i] = (long)((r->first + i) * (r->first + i));
	return 0;
}

/* cf_map_batches with no items maps over range(count): each call gets its
 * chunk's place, and no array of indexes is needed. */
static void check_range(const char *backend, size_t count, size_t chunksize)
{
	cf_map_options opts = { .timeout = BOUND, .chunksize = chunksize };
	cf_executor *ex = make_pool(backend, 3);
	long *results = malloc(count * sizeof(*results) + 1);

	cr_assert_not_null(results);
	memset(results, 0xee, count * sizeof(*results));
	cf_status st = cf_map_batches(ex, range_squares_task, NULL, 0, count, results,
				      sizeof(*results), &opts, NULL, NULL);
	cr_assert_eq(st, CF_OK, "chunksize %zu: %s", chunksize, cf_strerror(st));
	for (size_t i = 0; i < count; i++)
		cr_assert_eq(results[i], (long)(i * i), "chunksize %zu, index %zu", chunksize, i);
	cf_executor_free(ex);
	free(results);
	cr_expect_eq(cf_futures_alive(), 0);
}

BACKEND_TEST(cf_map_batches, over_a_range, .timeout = 60)
{
	check_range(backend, 40, 1);
	check_range(backend, 1000, 7);
	check_range(backend, 100003, CF_CHUNKSIZE_AUTO);
}

/* seven_task: no argument -> 7, for maps over no items. */
static int seven_task(cf_task *task)
{
	long seven = 7;
	size_t size;

	if (cf_task_arg(task, &size) != NULL || size != 0)
		return cf_task_fail(task, 5, "an argument of %zu bytes", size);
	return cf_task_return(task, &seven, sizeof(seven));
}

/* cf_map_into with no items: every task gets no argument, chunked or not,
 * in place or not. */
BACKEND_TEST(cf_map_into, no_items, .timeout = 30)
{
	static const size_t chunksizes[] = { 1, 4, CF_CHUNKSIZE_AUTO };
	cf_executor *ex = make_pool(backend, 2);
	long results[50];

	for (size_t c = 0; c < 3; c++) {
		cf_map_options opts = { .timeout = BOUND, .chunksize = chunksizes[c] };

		memset(results, 0, sizeof(results));
		cf_status st = cf_map_into(ex, seven_task, NULL, 0, 50, results, sizeof(results[0]),
					   &opts, NULL, NULL);
		cr_assert_eq(st, CF_OK, "chunksize %zu: %s", chunksizes[c], cf_strerror(st));
		for (int i = 0; i < 50; i++)
			cr_assert_eq(results[i], 7, "chunksize %zu, item %d", chunksizes[c], i);
	}
	cf_executor_free(ex);
}
