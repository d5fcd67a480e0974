/* cf_wait and cf_as_completed: the return_when modes, the done and
 * not-done sets, duplicates, timeouts, completion order.
 *
 * Suites: cf_wait, cf_as_completed.  Every test runs on every backend.
 */
#define _GNU_SOURCE
#include "cf_test_util.h"

#include <string.h>

/* Whether f is among the n futures of set. */
static bool in_set(cf_future *const *set, size_t n, const cf_future *f)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == f)
			return true;
	return false;
}

/* ---- cf_wait -------------------------------------------------------------- */

BACKEND_TEST(cf_wait, first_completed, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 3);
	cf_future *fs[3], *done[3], *not_done[3];
	size_t nd = 99, nn = 99;

	fs[0] = submit_sleep(ex, 2.0);
	fs[1] = submit_sleep(ex, 0.1);
	fs[2] = submit_sleep(ex, 2.0);
	double t0 = now_s();
	cr_assert_eq(cf_wait(fs, 3, BOUND, CF_FIRST_COMPLETED, done, &nd, not_done, &nn), CF_OK);
	double took = now_s() - t0;
	cr_expect_lt(took, 1.5, "FIRST_COMPLETED waited %.2f s for a 0.1 s task", took);
	cr_expect_eq(nd, 1);
	cr_expect_eq(nn, 2);
	cr_expect(in_set(done, nd, fs[1]), "the quick task is done");
	cr_expect(in_set(not_done, nn, fs[0]));
	cr_expect(in_set(not_done, nn, fs[2]));
	release_all(fs, 3);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_wait, first_completed_already_done, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 2);
	cf_future *fs[2];
	size_t nd, nn;

	fs[0] = submit_sleep(ex, 1.0);
	fs[1] = submit_square(ex, 3);
	cr_assert_eq(result_long(fs[1], BOUND), 9);
	double t0 = now_s();
	cr_assert_eq(cf_wait(fs, 2, BOUND, CF_FIRST_COMPLETED, NULL, &nd, NULL, &nn), CF_OK);
	cr_expect_lt(now_s() - t0, 0.5, "returns at once when one is done");
	cr_expect_eq(nd, 1);
	cr_expect_eq(nn, 1);
	release_all(fs, 2);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_wait, first_exception_with_failure, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 3);
	cf_future *fs[3], *done[3], *not_done[3];
	size_t nd = 99, nn = 99;

	fs[0] = submit_job(ex, 2.0, 1, 0);
	fs[1] = submit_job(ex, 0.2, 2, 17);     /* fails after 0.2 s */
	fs[2] = submit_job(ex, 0.0, 3, 0);      /* succeeds at once */
	double t0 = now_s();
	cr_assert_eq(cf_wait(fs, 3, BOUND, CF_FIRST_EXCEPTION, done, &nd, not_done, &nn), CF_OK);
	double took = now_s() - t0;
	cr_expect_lt(took, 1.5, "FIRST_EXCEPTION waited %.2f s for a failure at 0.2 s", took);
	cr_expect(in_set(done, nd, fs[1]), "the failed task is done");
	cr_expect(in_set(not_done, nn, fs[0]), "the long task is not");
	cr_expect_eq(nd + nn, 3);
	cr_expect_eq(cf_future_result(fs[1], 0, NULL, NULL), CF_TASK_FAILED);
	release_all(fs, 3);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_wait, first_exception_without_failure, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 3);
	cf_future *fs[3], *done[3];
	size_t nd = 99, nn = 99;

	for (int i = 0; i < 3; i++)
		fs[i] = submit_job(ex, 0.1 * (i + 1), i, 0);
	double t0 = now_s();
	cr_assert_eq(cf_wait(fs, 3, BOUND, CF_FIRST_EXCEPTION, done, &nd, NULL, &nn), CF_OK);
	double took = now_s() - t0;
	/* No failure: it waits for all, like ALL_COMPLETED. */
	cr_expect_geq(took, 0.25, "returned after %.2f s, before the last task", took);
	cr_expect_eq(nd, 3);
	cr_expect_eq(nn, 0);
	for (int i = 0; i < 3; i++)
		cr_expect(cf_future_done(fs[i]));
	release_all(fs, 3);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_wait, first_exception_ignores_cancelled, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	cf_future *blocker = submit_sleep(ex, 0.4);
	cf_future *fill[3], *fs[2];
	size_t nd, nn;

	for (int i = 0; i < 3; i++)
		fill[i] = submit_square(ex, i);
	fs[0] = blocker;
	fs[1] = submit_square(ex, 4);
	cr_assert(cf_future_cancel(fs[1]));
	double t0 = now_s();
	cr_assert_eq(cf_wait(fs, 2, BOUND, CF_FIRST_EXCEPTION, NULL, &nd, NULL, &nn), CF_OK);
	/* A cancelled future is done but raised nothing: wait for the rest. */
	cr_expect(cf_future_done(blocker), "returned after %.2f s, before the blocker ended",
		  now_s() - t0);
	cr_expect_eq(nd, 2);
	cr_expect_eq(nn, 0);
	release_all(fill, 3);
	release_all(fs, 2);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_wait, all_completed, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 3);
	cf_future *fs[5], *done[5], *not_done[5];
	size_t nd = 99, nn = 99;

	for (int i = 0; i < 5; i++)
		fs[i] = submit_job(ex, 0.05 * (5 - i), i, i == 2 ? 5 : 0);
	cr_assert_eq(cf_wait(fs, 5, BOUND, CF_ALL_COMPLETED, done, &nd, not_done, &nn), CF_OK);
	cr_expect_eq(nd, 5);
	cr_expect_eq(nn, 0);
	for (int i = 0; i < 5; i++) {
		cr_expect(cf_future_done(fs[i]));
		cr_expect(in_set(done, nd, fs[i]), "future %d missing from done", i);
	}
	release_all(fs, 5);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_wait, duplicates_counted_once, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 2);
	cf_future *a = submit_sleep(ex, 0.1);
	cf_future *b = submit_square(ex, 2);
	cf_future *fs[5] = { a, b, a, a, b };
	cf_future *done[5], *not_done[5];
	size_t nd = 99, nn = 99;

	cr_assert_eq(cf_wait(fs, 5, BOUND, CF_ALL_COMPLETED, done, &nd, not_done, &nn), CF_OK);
	cr_expect_eq(nd, 2, "a and b listed once each");
	cr_expect_eq(nn, 0);
	cr_expect(in_set(done, nd, a));
	cr_expect(in_set(done, nd, b));

	/* And in the not-done set. */
	cf_future *c = submit_sleep(ex, 2.0);
	cf_future *gs[3] = { c, c, a };
	cr_assert_eq(cf_wait(gs, 3, 0.05, CF_ALL_COMPLETED, done, &nd, not_done, &nn),
		     CF_TIMEOUT);
	cr_expect_eq(nd, 1);
	cr_expect_eq(nn, 1, "c listed once");
	cr_expect_eq(not_done[0], c);
	release_ok(a);
	release_ok(b);
	release_ok(c);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_wait, timeout_fills_the_sets, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 2);
	cf_future *fs[2], *done[2], *not_done[2];
	size_t nd = 99, nn = 99;

	fs[0] = submit_square(ex, 7);
	fs[1] = submit_sleep(ex, 2.0);
	cr_assert_eq(result_long(fs[0], BOUND), 49);
	double t0 = now_s();
	cr_assert_eq(cf_wait(fs, 2, 0.1, CF_ALL_COMPLETED, done, &nd, not_done, &nn), CF_TIMEOUT);
	double took = now_s() - t0;
	cr_expect_geq(took, 0.09, "gave up after %.3f s, before its bound", took);
	cr_expect_lt(took, 1.5, "the timeout came after %.2f s", took);
	cr_expect_eq(nd, 1);
	cr_expect_eq(nn, 1);
	cr_expect_eq(done[0], fs[0]);
	cr_expect_eq(not_done[0], fs[1]);

	/* FIRST_EXCEPTION and FIRST_COMPLETED time out the same way. */
	cr_expect_eq(cf_wait(&fs[1], 1, 0.05, CF_FIRST_EXCEPTION, NULL, &nd, NULL, &nn),
		     CF_TIMEOUT);
	cr_expect_eq(cf_wait(&fs[1], 1, 0.05, CF_FIRST_COMPLETED, NULL, &nd, NULL, &nn),
		     CF_TIMEOUT);
	cr_expect_eq(nd, 0);
	cr_expect_eq(nn, 1);
	cr_expect_eq(cf_wait(&fs[1], 1, 0, CF_FIRST_COMPLETED, NULL, NULL, NULL, NULL),
		     CF_TIMEOUT, "timeout 0 polls; the counts may be NULL");
	release_all(fs, 2);
	cf_executor_free(ex);
}

/* ---- cf_as_completed ------------------------------------------------------- */

/* Takes the next future from it, asserting CF_OK, and gives its index in
 * fs (or -1). */
static int next_index(cf_as_completed *it, cf_future *const *fs, int n)
{
	cf_future *f = NULL;
	cf_status st = cf_as_completed_next(it, &f);

	cr_assert_eq(st, CF_OK, "cf_as_completed_next: %s", cf_strerror(st));
	for (int i = 0; i < n; i++)
		if (fs[i] == f)
			return i;
	return -1;
}

BACKEND_TEST(cf_as_completed, order_of_completion, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 3);
	/* The tutorial's 3, 1 and 2 seconds, scaled to 0.6/0.2/0.4 s: gaps
	 * of 0.2 s keep the order on a noisy machine. */
	double secs[3] = { 0.6, 0.2, 0.4 };
	cf_future *fs[3], *f;
	cf_as_completed *it = NULL;

	/* All three workers up first: a process worker of a sanitized
	 * program takes up to a second to start, and one started late would
	 * finish its task late (failed once so under ASan on a loaded CI). */
	for (int i = 0; i < 3; i++)
		fs[i] = submit_sleep(ex, 0.3);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(cf_future_result(fs[i], BOUND, NULL, NULL), CF_OK);
	release_all(fs, 3);
	cr_assert_eq(workers_created(ex), 3u);

	for (int i = 0; i < 3; i++)
		fs[i] = submit_sleep(ex, secs[i]);
	cr_assert_eq(cf_as_completed_new(fs, 3, BOUND, &it), CF_OK);
	cr_expect_eq(next_index(it, fs, 3), 1);
	cr_expect_eq(next_index(it, fs, 3), 2);
	cr_expect_eq(next_index(it, fs, 3), 0);
	cr_expect_eq(cf_as_completed_next(it, &f), CF_END);
	cr_expect_eq(cf_as_completed_next(it, &f), CF_END, "CF_END again");
	cf_as_completed_free(it);
	release_all(fs, 3);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_as_completed, done_futures_first, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 3);
	cf_future *fs[4];
	cf_as_completed *it = NULL;

	fs[0] = submit_sleep(ex, 0.5);
	fs[1] = submit_square(ex, 1);
	fs[2] = submit_sleep(ex, 0.3);
	fs[3] = submit_square(ex, 3);
	cr_assert_eq(result_long(fs[1], BOUND), 1);
	cr_assert_eq(result_long(fs[3], BOUND), 9);
	cr_assert_eq(cf_as_completed_new(fs, 4, BOUND, &it), CF_OK);
	int a = next_index(it, fs, 4), b = next_index(it, fs, 4);
	cr_expect((a == 1 && b == 3) || (a == 3 && b == 1),
		  "the two done futures come first, got %d then %d", a, b);
	cr_expect_eq(next_index(it, fs, 4), 2);
	cr_expect_eq(next_index(it, fs, 4), 0);
	cf_as_completed_free(it);
	release_all(fs, 4);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_as_completed, duplicates_given_once, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 2);
	cf_future *a = submit_sleep(ex, 0.1);
	cf_future *b = submit_square(ex, 2);
	cf_future *fs[4] = { a, b, a, b };
	cf_future *f, *seen[2];
	cf_as_completed *it = NULL;

	cr_assert_eq(cf_as_completed_new(fs, 4, BOUND, &it), CF_OK);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(cf_as_completed_next(it, &seen[i]), CF_OK);
	cr_expect_neq(seen[0], seen[1]);
	cr_expect(in_set(seen, 2, a));
	cr_expect(in_set(seen, 2, b));
	cr_expect_eq(cf_as_completed_next(it, &f), CF_END, "each future once");
	cf_as_completed_free(it);
	release_ok(a);
	release_ok(b);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_as_completed, timeout, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 2);
	cf_future *fs[2], *f = NULL;
	cf_as_completed *it = NULL;

	fs[0] = submit_square(ex, 5);
	fs[1] = submit_sleep(ex, 2.0);
	cr_assert_eq(result_long(fs[0], BOUND), 25);
	double t0 = now_s();
	cr_assert_eq(cf_as_completed_new(fs, 2, 0.5, &it), CF_OK);
	cr_expect_eq(next_index(it, fs, 2), 0, "the done one is given");
	sleep_s(0.3);
	/* The bound is from cf_as_completed_new, for the whole iteration. */
	cr_expect_eq(cf_as_completed_next(it, &f), CF_TIMEOUT);
	double took = now_s() - t0;
	cr_expect_geq(took, 0.45, "timed out after %.2f s, before the 0.5 s bound", took);
	cr_expect_lt(took, 1.8, "timed out only after %.2f s", took);
	cr_expect_eq(cf_as_completed_next(it, &f), CF_TIMEOUT, "and stays timed out");
	cf_as_completed_free(it);
	release_all(fs, 2);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_as_completed, release_right_after_given, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 4);
	cf_future *fs[8], *f;
	cf_as_completed *it = NULL;
	int given = 0;

	for (int i = 0; i < 8; i++)
		fs[i] = submit_job(ex, 0.02 * (i % 4), i, 0);
	cr_assert_eq(cf_as_completed_new(fs, 8, BOUND, &it), CF_OK);
	while (cf_as_completed_next(it, &f) == CF_OK) {
		cr_expect(cf_future_done(f));
		release_ok(f);          /* the iterator keeps its own reference */
		given++;
	}
	cr_expect_eq(given, 8);
	cf_as_completed_free(it);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), 0, "every future freed");
}

BACKEND_TEST(cf_as_completed, release_all_before_iterating, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 2);
	cf_future *fs[4], *f;
	cf_as_completed *it = NULL;
	int given = 0;

	for (int i = 0; i < 4; i++)
		fs[i] = submit_job(ex, 0.05, i, 0);
	cr_assert_eq(cf_as_completed_new(fs, 4, BOUND, &it), CF_OK);
	release_all(fs, 4);
	while (cf_as_completed_next(it, &f) == CF_OK) {
		cr_expect(cf_future_done(f));
		given++;
	}
	cr_expect_eq(given, 4);
	cf_as_completed_free(it);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), 0);
}

BACKEND_TEST(cf_as_completed, free_before_the_end, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 2);
	cf_future *fs[3];
	cf_as_completed *it = NULL;

	fs[0] = submit_square(ex, 1);
	fs[1] = submit_sleep(ex, 0.3);
	fs[2] = submit_sleep(ex, 0.3);
	cr_assert_eq(cf_as_completed_new(fs, 3, BOUND, &it), CF_OK);
	next_index(it, fs, 3);
	cf_as_completed_free(it);       /* two futures still pending */
	for (int i = 0; i < 3; i++)
		cr_expect_eq(cf_future_result(fs[i], BOUND, NULL, NULL), CF_OK);
	release_all(fs, 3);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), 0);
}

BACKEND_TEST(cf_as_completed, gives_cancelled_and_failed, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	cf_future *blocker = submit_sleep(ex, 0.3);
	cf_future *fill[3], *fs[3], *f;
	cf_as_completed *it = NULL;
	int given = 0;

	for (int i = 0; i < 3; i++)
		fill[i] = submit_square(ex, i);
	fs[0] = blocker;
	fs[1] = submit_job(ex, 0, 1, 4);
	fs[2] = submit_square(ex, 2);
	cr_assert(cf_future_cancel(fs[2]));
	cr_assert_eq(cf_as_completed_new(fs, 3, BOUND, &it), CF_OK);
	cr_expect_eq(next_index(it, fs, 3), 2, "the cancelled future is done first");
	while (cf_as_completed_next(it, &f) == CF_OK)
		given++;
	cr_expect_eq(given, 2);
	cr_expect_eq(cf_future_result(fs[1], 0, NULL, NULL), CF_TASK_FAILED);
	cf_as_completed_free(it);
	release_all(fill, 3);
	release_all(fs, 3);
	cf_executor_free(ex);
}

/* CF_FOREVER (any negative timeout) waits without bound, like Python's
 * None; the test's own .timeout bounds it. */
BACKEND_TEST(cf_wait, forever_timeouts, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 2);
	cf_future *fs[3], *f;
	cf_as_completed *it = NULL;
	size_t nd, nn;
	int given = 0;

	for (int i = 0; i < 3; i++)
		fs[i] = submit_job(ex, 0.05 * i, i, 0);
	cr_expect_eq(cf_wait(fs, 3, CF_FOREVER, CF_FIRST_COMPLETED, NULL, &nd, NULL, &nn), CF_OK);
	cr_expect_geq(nd, 1);
	cr_assert_eq(cf_as_completed_new(fs, 3, -5.0, &it), CF_OK);
	while (cf_as_completed_next(it, &f) == CF_OK)
		given++;
	cr_expect_eq(given, 3);
	cf_as_completed_free(it);
	cr_expect_eq(cf_wait(fs, 3, CF_FOREVER, CF_ALL_COMPLETED, NULL, &nd, NULL, &nn), CF_OK);
	cr_expect_eq(nd, 3);
	cr_expect_eq(result_long(fs[2], CF_FOREVER), 4);
	release_all(fs, 3);
	cf_executor_free(ex);
}
