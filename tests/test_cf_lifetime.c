/* What outlives what: a map iterator read after its executor was freed,
 * and as_completed letting go of the futures it has given (CPython's
 * test_free_reference_yielded_future, bpo-14406). */
#include "cf_test_util.h"

#include <string.h>

/* A map read past its window after cf_executor_free: the results already
 * submitted are given, then CF_SHUTDOWN, and nothing touches the freed
 * executor (ASan and TSan reported a heap-use-after-free here). */
BACKEND_TEST(cf_lifetime, map_read_after_executor_free, .timeout = 60)
{
	enum { ITEMS = 200 };
	cf_executor *ex = make_pool(backend, 2);
	cf_map_options opts = { .timeout = BOUND, .max_in_flight = 8 };
	long items[ITEMS];
	cf_map_iter *it;
	const void *data;
	size_t size, given = 0;
	cf_status st;

	for (long i = 0; i < ITEMS; i++)
		items[i] = i;
	cr_assert_eq(cf_map(ex, square_task, items, sizeof(long), ITEMS, &opts, &it), CF_OK);
	for (; given < 2; given++) {
		cr_assert_eq(cf_map_next(it, &data, &size), CF_OK);
		cr_assert_eq(*(const long *)data, (long)(given * given));
	}
	cf_executor_free(ex);
	while ((st = cf_map_next(it, &data, &size)) == CF_OK) {
		cr_assert_eq(*(const long *)data, (long)(given * given), "item %zu", given);
		given++;
	}
	cr_expect_eq(st, CF_SHUTDOWN, "after the submitted results: %s", cf_strerror(st));
	cr_expect_lt(given, (size_t)ITEMS, "items past the window cannot run");
	cr_expect_eq(cf_map_next(it, &data, &size), CF_SHUTDOWN, "the end is given again");
	cf_map_free(it);
}

/* big_task: size_t n -> n bytes of 0xab. */
static int big_task(cf_task *task)
{
	size_t n;

	memcpy(&n, cf_task_arg(task, NULL), sizeof(n));
	void *buf = cf_task_result_buffer(task, n);
	if (!buf)
		return cf_task_fail(task, 1, "no memory for %zu bytes", n);
	memset(buf, 0xab, n);
	return 0;
}

/* The caller releases each future once read; the iterator must then hold
 * only what it has not given (and the one it gave last), not every
 * megabyte result until it is freed. */
BACKEND_TEST(cf_lifetime, as_completed_lets_go_of_given_futures, .timeout = 60)
{
	enum { N = 16, SLACK = 4 };
	cf_executor *ex = make_pool(backend, 2);
	size_t big = 1 << 20, base = cf_futures_alive();
	cf_future *fs[N], *f;
	cf_as_completed *it;

	for (int i = 0; i < N; i++)
		cr_assert_eq(cf_submit(ex, big_task, &big, sizeof(big), &fs[i]), CF_OK);
	cr_assert_eq(cf_as_completed_new(fs, N, BOUND, &it), CF_OK);
	for (int given = 0; given < N; given++) {
		const void *data;
		size_t size;

		cr_assert_eq(cf_as_completed_next(it, &f), CF_OK);
		cr_assert_eq(cf_future_result(f, BOUND, &data, &size), CF_OK);
		cr_assert_eq(size, big);
		cr_assert_eq(((const unsigned char *)data)[size - 1], 0xab);
		release_ok(f);
		/* Alive: those not given yet, f until the next call, and a
		 * few the pool has finished but not yet let go of (SLACK). */
		cr_expect_leq(cf_futures_alive() - base, (size_t)(N - given + SLACK),
			      "after %d given, %zu futures alive", given + 1,
			      cf_futures_alive() - base);
	}
	cr_assert_eq(cf_as_completed_next(it, &f), CF_END);
	double end = now_s() + BOUND;
	while (cf_futures_alive() > base && now_s() < end)
		sleep_s(0.001);
	cr_expect_eq(cf_futures_alive(), base, "every future freed before the iterator");
	cf_as_completed_free(it);
	cf_executor_free(ex);
}
