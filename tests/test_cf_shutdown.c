/* cf_shutdown: with and without wait and cancel_futures while tasks are
 * queued, submit after shutdown, shutdown twice, and back-pressure
 * (max_queued) that shutdown must wake.
 *
 * Suite: cf_shutdown.  Tests named *_thread exercise the thread backend
 * only (a task that blocks on a flag of this process); all others run on
 * every backend.
 */
#define _GNU_SOURCE
#include "cf_test_util.h"

#include <pthread.h>
#include <string.h>

#define QUEUED 5

BACKEND_TEST(cf_shutdown, wait_runs_queued_tasks, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	cf_future *blocker = submit_sleep(ex, 0.3);
	cf_future *fs[QUEUED];

	for (int i = 0; i < QUEUED; i++)
		fs[i] = submit_square(ex, i);
	cr_assert_eq(cf_shutdown(ex, true, false), CF_OK);
	/* Everything ran before shutdown(wait) returned. */
	cr_expect(cf_future_done(blocker));
	cr_expect_eq(cf_future_result(blocker, 0, NULL, NULL), CF_OK);
	for (int i = 0; i < QUEUED; i++) {
		cr_expect(cf_future_done(fs[i]), "task %d not run by shutdown(wait)", i);
		cr_expect_eq(result_long(fs[i], 0), (long)i * i);
	}
	release_ok(blocker);
	release_all(fs, QUEUED);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), 0);
}

BACKEND_TEST(cf_shutdown, cancel_futures_cancels_queued, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	cf_future *running = submit_job(ex, 0.5, 3, 0);
	cf_future *fs[QUEUED];
	int cancelled = 0;

	cr_assert(wait_running(running, BOUND), "the first task never ran");
	for (int i = 0; i < QUEUED; i++)
		fs[i] = submit_square(ex, i);
	cr_assert_eq(cf_shutdown(ex, true, true), CF_OK);
	cr_expect_eq(result_long(running, 0), 9, "the running task finishes");
	for (int i = 0; i < QUEUED; i++) {
		cf_status st = cf_future_result(fs[i], 0, NULL, NULL);

		/* A backend may have handed one task to its worker ahead. */
		cr_expect(st == CF_CANCELLED || (i == 0 && st == CF_OK),
			  "queued task %d: %s", i, cf_strerror(st));
		if (st == CF_CANCELLED) {
			cr_expect(cf_future_cancelled(fs[i]));
			cancelled++;
		}
	}
	cr_expect_geq(cancelled, QUEUED - 1);
	release_ok(running);
	release_all(fs, QUEUED);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), 0);
}

BACKEND_TEST(cf_shutdown, no_wait_returns_fast, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	cf_future *running = submit_job(ex, 1.0, 4, 0);
	cf_future *queued;

	cr_assert(wait_running(running, BOUND));
	queued = submit_square(ex, 5);
	double t0 = now_s();
	cr_assert_eq(cf_shutdown(ex, false, false), CF_OK);
	double took = now_s() - t0;
	cr_expect_lt(took, 0.5, "shutdown(wait=false) took %.2f s", took);
	cr_expect(!cf_future_done(running), "it did not wait for the running task");
	/* Without cancel_futures the queued task still runs. */
	cr_expect_eq(result_long(running, BOUND), 16);
	cr_expect_eq(result_long(queued, BOUND), 25);
	release_ok(running);
	release_ok(queued);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_shutdown, no_wait_with_cancel, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	cf_future *running = submit_job(ex, 1.0, 4, 0);
	cf_future *fs[QUEUED];

	cr_assert(wait_running(running, BOUND));
	for (int i = 0; i < QUEUED; i++)
		fs[i] = submit_square(ex, i);
	double t0 = now_s();
	cr_assert_eq(cf_shutdown(ex, false, true), CF_OK);
	cr_expect_lt(now_s() - t0, 0.5);
	/* The queued tasks are cancelled by the time shutdown returns. */
	for (int i = 1; i < QUEUED; i++)
		cr_expect(cf_future_cancelled(fs[i]), "queued task %d", i);
	cr_expect_eq(result_long(running, BOUND), 16);
	release_ok(running);
	release_all(fs, QUEUED);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_shutdown, submit_after_shutdown, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 2);
	cf_future *f = submit_square(ex, 2);
	long n = 3;

	cr_assert_eq(cf_shutdown(ex, true, false), CF_OK);
	cf_future *late = f;    /* not NULL: the call must clear it */
	cr_expect_eq(cf_submit(ex, square_task, &n, sizeof(n), &late), CF_SHUTDOWN);
	cr_expect_null(late, "*out is NULL after CF_SHUTDOWN");

	cf_map_iter *it = NULL;
	cf_status st = cf_map(ex, square_task, &n, sizeof(n), 1, NULL, &it);
	if (st == CF_OK) {
		/* The error may come with the first result instead. */
		cr_expect_eq(cf_map_next(it, NULL, NULL), CF_SHUTDOWN);
		cf_map_free(it);
	} else {
		cr_expect_eq(st, CF_SHUTDOWN);
		cr_expect_null(it);
	}
	cr_expect_eq(result_long(f, 0), 4);
	release_ok(f);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), 0);
}

BACKEND_TEST(cf_shutdown, submit_after_no_wait_shutdown, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	cf_future *f = submit_sleep(ex, 0.3);
	cf_future *late = f;
	long n = 3;

	cr_assert_eq(cf_shutdown(ex, false, false), CF_OK);
	cr_expect_eq(cf_submit(ex, square_task, &n, sizeof(n), &late), CF_SHUTDOWN);
	cr_expect_null(late);
	cr_expect_eq(cf_future_result(f, BOUND, NULL, NULL), CF_OK);
	release_ok(f);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_shutdown, twice_is_fine, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 2);
	cf_future *f = submit_sleep(ex, 0.2);

	cr_expect_eq(cf_shutdown(ex, false, false), CF_OK);
	cr_expect_eq(cf_shutdown(ex, true, false), CF_OK, "then wait");
	cr_expect(cf_future_done(f));
	cr_expect_eq(cf_shutdown(ex, true, true), CF_OK);
	cr_expect_eq(cf_shutdown(ex, false, false), CF_OK);
	release_ok(f);
	cf_executor_free(ex);   /* shuts down once more */
}

BACKEND_TEST(cf_shutdown, unused_pool, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 4);

	cr_expect_eq(cf_shutdown(ex, true, true), CF_OK);
	cr_expect_eq(workers_created(ex), 0);
	cf_executor_free(ex);
	ex = make_pool(backend, 4);
	cf_executor_free(ex);   /* free without shutdown */
}

struct shutdown_thread_arg {
	cf_executor *ex;
	bool wait;
	cf_status status;
};

static void *shutdown_thread(void *arg)
{
	struct shutdown_thread_arg *a = arg;

	a->status = cf_shutdown(a->ex, a->wait, false);
	return NULL;
}

BACKEND_TEST(cf_shutdown, concurrent_shutdowns, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 2);
	cf_future *fs[4];
	pthread_t t[4];
	struct shutdown_thread_arg a[4];

	for (int i = 0; i < 4; i++)
		fs[i] = submit_sleep(ex, 0.2);
	for (int i = 0; i < 4; i++) {
		a[i] = (struct shutdown_thread_arg){ .ex = ex, .wait = i % 2 == 0 };
		cr_assert_eq(pthread_create(&t[i], NULL, shutdown_thread, &a[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		cr_expect_eq(a[i].status, CF_OK, "shutdown %d", i);
	}
	for (int i = 0; i < 4; i++)
		cr_expect_eq(cf_future_result(fs[i], BOUND, NULL, NULL), CF_OK);
	release_all(fs, 4);
	cf_executor_free(ex);
}

/* Counts the cancelled futures it sees (callbacks run in this process on
 * every backend, so a pointer to the test's counter is fine). */
static int count_cancelled_cb(cf_future *f, void *arg)
{
	if (cf_future_cancelled(f))
		atomic_fetch_add((atomic_int *)arg, 1);
	return 0;
}

BACKEND_TEST(cf_shutdown, callbacks_of_cancelled_run, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	cf_future *running = submit_sleep(ex, 0.3);
	cf_future *fs[QUEUED];
	atomic_int calls = 0;
	int cancelled = 0;

	cr_assert(wait_running(running, BOUND));
	for (int i = 0; i < QUEUED; i++) {
		fs[i] = submit_square(ex, i);
		cr_assert_eq(cf_future_add_done_callback(fs[i], count_cancelled_cb, &calls), CF_OK);
	}
	cr_assert_eq(cf_shutdown(ex, true, true), CF_OK);
	for (int i = 0; i < QUEUED; i++)
		cancelled += cf_future_cancelled(fs[i]);
	cr_expect_eq(atomic_load(&calls), cancelled,
		     "%d cancelled by shutdown, %d callbacks ran", cancelled, atomic_load(&calls));
	release_ok(running);
	release_all(fs, QUEUED);
	cf_executor_free(ex);
}

/* ---- thread backend only: a task that blocks until gate_open() ---------- */

/* Shutdown from inside a worker of the same pool would join itself: it
 * must be refused, not deadlock.  The executor pointer is in this
 * process's memory, hence thread backend only. */
static cf_executor *own_pool;

static int shutdown_own_pool_task(cf_task *task)
{
	long st = cf_shutdown(own_pool, true, false);

	return cf_task_return(task, &st, sizeof(st));
}

Test(cf_shutdown, from_own_worker_is_refused_thread, .timeout = 30)
{
	own_pool = make_pool("thread", 1);
	cf_future *f = submit_ok(own_pool, shutdown_own_pool_task, NULL, 0);

	cr_expect_eq(result_long(f, BOUND), CF_INVALID_STATE);
	release_ok(f);
	cf_executor_free(own_pool);
}

struct submitter {
	cf_executor *ex;
	atomic_int returned;
	cf_status status;
	cf_future *f;
};

static void *submit_thread(void *arg)
{
	struct submitter *s = arg;
	long n = 9;

	s->f = (cf_future *)s;  /* must be overwritten */
	s->status = cf_submit(s->ex, square_task, &n, sizeof(n), &s->f);
	atomic_store(&s->returned, 1);
	return NULL;
}

/* One worker blocked in gate_task and max_queued tasks waiting: the queue
 * is full. */
static cf_executor *full_pool(cf_future **gate, cf_future **queued, size_t max_queued)
{
	cf_options opts = { .max_workers = 1, .max_queued = max_queued };
	cf_executor *ex = make_pool_opts("thread", &opts);

	*gate = submit_ok(ex, gate_task, NULL, 0);
	cr_assert(wait_counter(&gate_entered, 1, BOUND), "the gate task never ran");
	for (size_t i = 0; i < max_queued; i++)
		queued[i] = submit_square(ex, (long)i);
	return ex;
}

Test(cf_shutdown, backpressure_waits_thread, .timeout = 30)
{
	cf_future *gate, *queued[2];
	cf_executor *ex = full_pool(&gate, queued, 2);
	struct submitter s = { .ex = ex };
	pthread_t t;

	cr_assert_eq(pthread_create(&t, NULL, submit_thread, &s), 0);
	sleep_s(0.3);
	cr_expect_eq(atomic_load(&s.returned), 0, "submit did not wait for room in a full queue");
	gate_open();            /* the worker takes the next task: room */
	pthread_join(t, NULL);
	cr_expect_eq(s.status, CF_OK);
	cr_assert_not_null(s.f);
	cr_expect_eq(result_long(s.f, BOUND), 81);
	cr_expect_eq(cf_future_result(gate, BOUND, NULL, NULL), CF_OK);
	for (int i = 0; i < 2; i++)
		cr_expect_eq(result_long(queued[i], BOUND), (long)i * i);
	release_ok(s.f);
	release_ok(gate);
	release_all(queued, 2);
	cf_executor_free(ex);
}

Test(cf_shutdown, backpressure_woken_by_shutdown_thread, .timeout = 30)
{
	cf_future *gate, *queued[2];
	cf_executor *ex = full_pool(&gate, queued, 2);
	struct submitter s = { .ex = ex };
	pthread_t t;

	cr_assert_eq(pthread_create(&t, NULL, submit_thread, &s), 0);
	sleep_s(0.3);
	cr_expect_eq(atomic_load(&s.returned), 0, "submit did not wait for room in a full queue");
	cr_assert_eq(cf_shutdown(ex, false, false), CF_OK);
	cr_expect(wait_counter(&s.returned, 1, 5.0), "shutdown did not wake the waiting submit");
	pthread_join(t, NULL);
	cr_expect_eq(s.status, CF_SHUTDOWN);
	cr_expect_null(s.f);
	gate_open();
	cr_expect_eq(cf_future_result(gate, BOUND, NULL, NULL), CF_OK);
	for (int i = 0; i < 2; i++)
		cr_expect_eq(result_long(queued[i], BOUND), (long)i * i,
			     "queued before shutdown, so it runs");
	release_ok(gate);
	release_all(queued, 2);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), 0);
}

Test(cf_shutdown, backpressure_woken_by_cancel_thread, .timeout = 30)
{
	cf_future *gate, *queued[2];
	cf_executor *ex = full_pool(&gate, queued, 2);
	struct submitter s = { .ex = ex };
	pthread_t t;

	cr_assert_eq(pthread_create(&t, NULL, submit_thread, &s), 0);
	sleep_s(0.3);
	cr_assert_eq(cf_shutdown(ex, false, true), CF_OK);
	cr_expect(wait_counter(&s.returned, 1, 5.0), "shutdown did not wake the waiting submit");
	pthread_join(t, NULL);
	cr_expect_eq(s.status, CF_SHUTDOWN);
	cr_expect_null(s.f);
	for (int i = 0; i < 2; i++)
		cr_expect(cf_future_cancelled(queued[i]));
	gate_open();
	cr_expect_eq(cf_future_result(gate, BOUND, NULL, NULL), CF_OK);
	release_ok(gate);
	release_all(queued, 2);
	cf_executor_free(ex);
}
