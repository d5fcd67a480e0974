/* Many tasks from many threads: every result right, nothing leaked, and
 * cancel, callbacks and waits racing with completion.
 *
 * Suite: cf_stress.  Every test runs on every backend.
 */
#define _GNU_SOURCE
#include "cf_test_util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SUBMITTERS 4

struct submitter {
	cf_executor *ex;
	long first, count;      /* this thread's range of inputs */
	size_t submit_errors, wrong;
	cf_status first_error;
};

/* Submits its whole range, then collects every result. */
static void *submitter_main(void *arg)
{
	struct submitter *s = arg;
	cf_future **fs = calloc((size_t)s->count, sizeof(*fs));

	if (!fs) {
		s->submit_errors = (size_t)s->count;
		return NULL;
	}
	for (long i = 0; i < s->count; i++) {
		long n = s->first + i;
		cf_status st = cf_submit(s->ex, square_task, &n, sizeof(n), &fs[i]);

		if (st != CF_OK) {
			if (s->submit_errors++ == 0)
				s->first_error = st;
			fs[i] = NULL;
		}
	}
	for (long i = 0; i < s->count; i++) {
		long n = s->first + i, v = 0;
		size_t size = 0;

		if (!fs[i])
			continue;
		if (cf_future_result_into(fs[i], BOUND, &v, sizeof(v), &size) != CF_OK ||
		    size != sizeof(v) || v != n * n)
			s->wrong++;
		cf_future_release(fs[i]);
	}
	free(fs);
	return NULL;
}

BACKEND_TEST(cf_stress, many_tasks_from_four_threads, .timeout = 300)
{
	long per_thread = (CF_TEST_SANITIZED ? 20 * 1000 : 100 * 1000) / SUBMITTERS;
	size_t base = cf_futures_alive();
	cf_executor *ex = make_pool(backend, 4);
	struct submitter s[SUBMITTERS];
	pthread_t t[SUBMITTERS];

	for (int i = 0; i < SUBMITTERS; i++) {
		s[i] = (struct submitter){ .ex = ex, .first = i * per_thread, .count = per_thread };
		cr_assert_eq(pthread_create(&t[i], NULL, submitter_main, &s[i]), 0);
	}
	for (int i = 0; i < SUBMITTERS; i++) {
		pthread_join(t[i], NULL);
		cr_expect_eq(s[i].submit_errors, 0, "submitter %d: %zu submits failed, first: %s",
			     i, s[i].submit_errors, cf_strerror(s[i].first_error));
		cr_expect_eq(s[i].wrong, 0, "submitter %d: %zu wrong results", i, s[i].wrong);
	}
	cf_executor_stats stats;
	cr_assert_eq(cf_executor_stats_get(ex, &stats), CF_OK);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), base, "%zu futures leaked", cf_futures_alive() - base);
}

/* Cancel racing with the start of each task: every future ends either
 * cancelled (and cancel said true) or with its right result. */
BACKEND_TEST(cf_stress, cancel_races_start, .timeout = 120)
{
	enum { N = CF_TEST_SANITIZED ? 2000 : 20000 };
	cf_executor *ex = make_pool(backend, 2);
	cf_future **fs = calloc(N, sizeof(*fs));
	bool *said = calloc(N, sizeof(*said));
	size_t bad = 0, ncancelled = 0;

	cr_assert(fs && said);
	for (long i = 0; i < N; i++) {
		fs[i] = submit_square(ex, i);
		if (i % 2)
			said[i] = cf_future_cancel(fs[i]);
	}
	for (long i = 0; i < N; i++) {
		const void *data;
		size_t size;
		long v;
		cf_status st = cf_future_result(fs[i], BOUND, &data, &size);

		if (st == CF_CANCELLED) {
			bad += !said[i];
			ncancelled++;
		} else if (st == CF_OK) {
			memcpy(&v, data, sizeof(v));
			bad += said[i] || size != sizeof(v) || v != i * i;
		} else {
			bad++;
		}
		release_ok(fs[i]);
	}
	cr_expect_eq(bad, 0, "%zu futures disagree with their cancel", bad);
	cr_expect_gt(ncancelled, 0, "no cancel ever won");
	cf_executor_free(ex);
	free(fs);
	free(said);
	cr_expect_eq(cf_futures_alive(), 0);
}

static int count_cb(cf_future *f, void *arg)
{
	(void)f;
	atomic_fetch_add((atomic_int *)arg, 1);
	return 0;
}

/* Callbacks added while tasks complete: each runs exactly once. */
BACKEND_TEST(cf_stress, callbacks_race_completion, .timeout = 120)
{
	enum { N = CF_TEST_SANITIZED ? 2000 : 20000 };
	cf_executor *ex = make_pool(backend, 3);
	cf_future **fs = calloc(N, sizeof(*fs));
	atomic_int calls = 0;

	cr_assert_not_null(fs);
	for (long i = 0; i < N; i++) {
		fs[i] = submit_square(ex, i);
		cr_assert_eq(cf_future_add_done_callback(fs[i], count_cb, &calls), CF_OK);
	}
	for (long i = 0; i < N; i++)
		cr_assert_eq(cf_future_result(fs[i], BOUND, NULL, NULL), CF_OK);
	cf_executor_free(ex);   /* every completing thread is done */
	cr_expect_eq(atomic_load(&calls), N, "%d callbacks ran for %d futures",
		     atomic_load(&calls), N);
	release_all(fs, N);
	free(fs);
}

struct waiter_arg {
	cf_future **fs;
	size_t n;
	size_t given;
	cf_status wait_status;
};

static void *as_completed_thread(void *arg)
{
	struct waiter_arg *w = arg;
	cf_as_completed *it = NULL;
	cf_future *f;

	if (cf_as_completed_new(w->fs, w->n, BOUND, &it) != CF_OK)
		return NULL;
	while (cf_as_completed_next(it, &f) == CF_OK)
		w->given++;
	cf_as_completed_free(it);
	return NULL;
}

static void *wait_thread(void *arg)
{
	struct waiter_arg *w = arg;
	size_t nd = 0, nn = 0;

	w->wait_status = cf_wait(w->fs, w->n, BOUND, CF_ALL_COMPLETED, NULL, &nd, NULL, &nn);
	w->given = nd;
	return NULL;
}

/* Several threads wait on the same futures while they complete. */
BACKEND_TEST(cf_stress, waiters_race_completion, .timeout = 120)
{
	enum { N = 2000, WAITERS = 4 };
	cf_executor *ex = make_pool(backend, 3);
	cf_future **fs = calloc(N, sizeof(*fs));
	struct waiter_arg w[WAITERS];
	pthread_t t[WAITERS];

	cr_assert_not_null(fs);
	for (long i = 0; i < N; i++)
		fs[i] = submit_job(ex, i % 100 == 0 ? 0.01 : 0, i, 0);
	for (int k = 0; k < WAITERS; k++) {
		w[k] = (struct waiter_arg){ .fs = fs, .n = N };
		cr_assert_eq(pthread_create(&t[k], NULL, k % 2 ? wait_thread : as_completed_thread,
					    &w[k]), 0);
	}
	for (int k = 0; k < WAITERS; k++) {
		pthread_join(t[k], NULL);
		cr_expect_eq(w[k].given, N, "waiter %d saw %zu of %d", k, w[k].given, N);
		if (k % 2)
			cr_expect_eq(w[k].wait_status, CF_OK);
	}
	release_all(fs, N);
	cf_executor_free(ex);
	free(fs);
	cr_expect_eq(cf_futures_alive(), 0);
}
