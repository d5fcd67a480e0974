/* Executors of the cf library: submit, the worker bound and its default,
 * workers started on demand and reused, the initializer, statistics, and
 * bad input that must give a status instead of aborting.
 *
 * Suites: cf_submit, cf_executor, cf_initializer, cf_badinput, cf_broken.
 * Plain Test()s named *_thread exercise the thread backend only (a shared
 * counter or flag, or thread names), those of cf_broken the process
 * backend only (a worker that dies or retires); all others run on every
 * backend.
 */
#define _GNU_SOURCE
#include "cf_test_util.h"

#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

/* ---- submit ---------------------------------------------------------------- */

BACKEND_TEST(cf_submit, results_of_many_tasks, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 4);
	cf_future *fs[200];

	for (long i = 0; i < 200; i++)
		fs[i] = submit_square(ex, i);
	for (long i = 0; i < 200; i++)
		cr_expect_eq(result_long(fs[i], BOUND), i * i, "task %ld", i);
	release_all(fs, 200);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), 0);
}

BACKEND_TEST(cf_submit, backend_name, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);

	cr_expect_str_eq(cf_executor_backend(ex), backend);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_submit, tasks_run_concurrently, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 4);
	cf_future *fs[4];

	/* The MPI backend spawns its workers at the first submit, which
	 * takes Open MPI a second or more: start them outside the clock. */
	if (strcmp(backend, "mpi") == 0) {
		cf_future *first = submit_square(ex, 2);
		cr_assert_eq(result_long(first, BOUND), 4);
		release_ok(first);
	}
	double t0 = now_s();

	for (int i = 0; i < 4; i++)
		fs[i] = submit_sleep(ex, 0.5);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(cf_future_result(fs[i], BOUND, NULL, NULL), CF_OK);
	double took = now_s() - t0;
	/* Serially it would take 2 s. */
	cr_expect_lt(took, 1.8, "4 sleeps of 0.5 s on 4 workers took %.2f s", took);
	release_all(fs, 4);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_submit, stats_count_completed_tasks, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 2);
	cf_executor_stats stats;
	cf_future *fs[10];

	cr_assert_eq(cf_executor_stats_get(ex, &stats), CF_OK);
	cr_expect_eq(stats.tasks_completed, 0);
	for (int i = 0; i < 10; i++)
		fs[i] = submit_square(ex, i);
	for (int i = 0; i < 10; i++)
		result_long(fs[i], BOUND);
	cf_shutdown(ex, true, false);
	cr_assert_eq(cf_executor_stats_get(ex, &stats), CF_OK);
	cr_expect_eq(stats.tasks_completed, 10);
	release_all(fs, 10);
	cf_executor_free(ex);
}

/* ---- the worker bound ------------------------------------------------------- */

static int cores(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	return (int)sysconf(_SC_NPROCESSORS_ONLN);
}

BACKEND_TEST(cf_executor, max_workers_default, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 0);
	int n = cores();
	int expected = strcmp(backend, "thread") == 0 ? (n + 4 < 32 ? n + 4 : 32) : n;

	cr_expect_eq(cf_executor_max_workers(ex), expected,
		     "%s backend: max_workers 0 gave %d, expected %d (%d cores)",
		     backend, cf_executor_max_workers(ex), expected, n);
	cf_executor_free(ex);

	/* NULL options are all defaults too. */
	ex = NULL;
	cr_assert_eq(cf_executor_new(backend, NULL, &ex), CF_OK);
	cr_expect_eq(cf_executor_max_workers(ex), expected);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_executor, max_workers_explicit, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 3);

	cr_expect_eq(cf_executor_max_workers(ex), 3);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_executor, workers_start_on_demand, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 8);

	cr_expect_eq(workers_created(ex), 0, "no worker before the first submit");
	cf_future *f = submit_square(ex, 3);
	cr_expect_eq(result_long(f, BOUND), 9);
	/* The MPI backend spawns all its workers in one MPI_Comm_spawn at
	 * the first submit, as mpi4py.futures does: spawning costs a
	 * round of Open MPI's launcher each time. */
	size_t expected = strcmp(backend, "mpi") == 0 ? 8 : 1;
	cr_expect_eq(workers_created(ex), expected, "one task needs %zu workers, not %zu",
		     expected, workers_created(ex));
	release_ok(f);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_executor, idle_worker_is_reused, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 8);

	for (long i = 0; i < 100; i++) {
		cf_future *f = submit_square(ex, i);
		cr_assert_eq(result_long(f, BOUND), i * i);
		release_ok(f);
	}
	size_t created = workers_created(ex);
	size_t expected = strcmp(backend, "mpi") == 0 ? 8 : 1;      /* all at once */
	cr_expect_eq(created, expected,
		     "100 tasks one after another started %zu workers instead of reusing %zu",
		     created, expected);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_executor, workers_bounded_by_max, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 3);
	cf_future *fs[12];

	for (int i = 0; i < 12; i++)
		fs[i] = submit_sleep(ex, 0.05);
	for (int i = 0; i < 12; i++)
		cr_assert_eq(cf_future_result(fs[i], BOUND, NULL, NULL), CF_OK);
	cr_expect_leq(workers_created(ex), 3);
	cr_expect_geq(workers_created(ex), 1);
	release_all(fs, 12);
	cf_executor_free(ex);
}

/* Thread names "prefix_<i>" (thread backend: a thread's name). */
static int thread_name_task(cf_task *task)
{
	char name[32] = "";

	pthread_getname_np(pthread_self(), name, sizeof(name));
	return cf_task_return(task, name, strlen(name) + 1);
}

Test(cf_executor, thread_name_prefix_thread, .timeout = 30)
{
	cf_options opts = { .max_workers = 1, .thread_name_prefix = "pfx" };
	cf_executor *ex = make_pool_opts("thread", &opts);
	cf_future *f = submit_ok(ex, thread_name_task, NULL, 0);
	const void *name = NULL;

	cr_assert_eq(cf_future_result(f, BOUND, &name, NULL), CF_OK);
	cr_expect_str_eq((const char *)name, "pfx_0");
	release_ok(f);
	cf_executor_free(ex);

	ex = make_pool("thread", 1);
	f = submit_ok(ex, thread_name_task, NULL, 0);
	cr_assert_eq(cf_future_result(f, BOUND, &name, NULL), CF_OK);
	cr_expect_str_eq((const char *)name, "cf_0", "the default prefix is \"cf\"");
	release_ok(f);
	cf_executor_free(ex);
	/* Linux keeps 15 bytes: a prefix that fits with its number is whole,
	 * a longer one is cut and keeps the number. */
	static const char *const cases[][2] = {
		{ "SpecialPool", "SpecialPool_0" },
		{ "SpecialPoolName", "SpecialPoolNa_0" },
		{ "AVeryLongPrefixIndeed", "AVeryLongPref_0" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		opts.thread_name_prefix = cases[i][0];
		ex = make_pool_opts("thread", &opts);
		f = submit_ok(ex, thread_name_task, NULL, 0);
		cr_assert_eq(cf_future_result(f, BOUND, &name, NULL), CF_OK);
		cr_expect_str_eq((const char *)name, cases[i][1], "prefix %s", cases[i][0]);
		release_ok(f);
		cf_executor_free(ex);
	}
}

/* Makes every later pthread_create with default attributes fail, by
 * asking for a stack no address space holds (on = false undoes it): the
 * way to show what a submit does when its pool cannot start a thread. */
static void threads_cannot_start(bool on)
{
	static size_t normal;
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	if (!normal)
		cr_assert_eq(pthread_getattr_default_np(&attr), 0);
	if (!normal)
		cr_assert_eq(pthread_attr_getstacksize(&attr, &normal), 0);
	cr_assert_eq(pthread_attr_setstacksize(&attr, on ? (size_t)1 << 50 : normal), 0);
	cr_assert_eq(pthread_setattr_default_np(&attr), 0);
	pthread_attr_destroy(&attr);
}

/* No thread at all can start: the submit fails with CF_SYSTEM and keeps
 * nothing (the pool starts a thread after it queued the task, and takes
 * the task back); once threads can start again, the pool works. */
Test(cf_executor, submit_fails_when_no_thread_can_start_thread, .timeout = 30)
{
	size_t alive = cf_futures_alive();
	cf_executor *ex = make_pool("thread", 2);
	cf_future *f = (cf_future *)0x1;
	long n = 5;

	threads_cannot_start(true);
	cf_status st = cf_submit(ex, square_task, &n, sizeof(n), &f);
	threads_cannot_start(false);
	cr_expect_eq(st, CF_SYSTEM, "submit with no thread: %s", cf_strerror(st));
	cr_expect_null(f, "a failed submit gives no future");
	cr_expect_eq(workers_created(ex), 0);
	cr_expect_eq(cf_futures_alive(), alive, "the failed submit's future was freed");

	f = submit_square(ex, 7);
	cr_expect_eq(result_long(f, BOUND), 49, "the pool works once threads can start");
	cr_expect_eq(workers_created(ex), 1);
	release_ok(f);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), alive);
}

/* One thread runs, a second cannot start: the submit succeeds and the
 * running thread takes the task when it is free. */
Test(cf_executor, submit_succeeds_when_a_second_thread_cannot_start_thread, .timeout = 30)
{
	cf_executor *ex = make_pool("thread", 2);
	cf_future *busy = submit_sleep(ex, 0.2);

	threads_cannot_start(true);
	cf_future *f = submit_square(ex, 6);
	threads_cannot_start(false);
	cr_expect_eq(result_long(f, BOUND), 36);
	cr_expect_eq(cf_future_result(busy, BOUND, NULL, NULL), CF_OK);
	cr_expect_eq(workers_created(ex), 1, "the second thread did not start");
	release_ok(f);
	release_ok(busy);
	cf_executor_free(ex);
}

/* ---- the initializer -------------------------------------------------------- */

static int failing_init(const void *arg, size_t size)
{
	(void)arg;
	(void)size;
	return 1;
}

BACKEND_TEST(cf_initializer, failure_breaks_the_pool, .timeout = 30)
{
	cf_options opts = { .max_workers = 1, .initializer = failing_init };
	cf_executor *ex = make_pool_opts(backend, &opts);
	cf_future *fs[4] = { NULL };
	int pending = 0;

	/* Each submit either fails at once (the pool already broke) or gives
	 * a future that fails with CF_BROKEN. */
	for (int i = 0; i < 4; i++) {
		long n = i;
		cf_status st = cf_submit(ex, square_task, &n, sizeof(n), &fs[i]);
		if (st == CF_OK) {
			pending++;
		} else {
			cr_expect_eq(st, CF_BROKEN, "submit %d: %s", i, cf_strerror(st));
			cr_expect_null(fs[i]);
		}
	}
	cr_assert_gt(pending, 0, "the first submit must be accepted");
	for (int i = 0; i < 4; i++) {
		if (!fs[i])
			continue;
		cr_expect_eq(cf_future_result(fs[i], BOUND, NULL, NULL), CF_BROKEN,
			     "future %d", i);
		cr_expect(cf_future_done(fs[i]));
	}

	cf_future *late = (cf_future *)&opts;
	long n = 5;
	cr_expect_eq(cf_submit(ex, square_task, &n, sizeof(n), &late), CF_BROKEN,
		     "a submit to a broken pool fails");
	cr_expect_null(late);

	for (int i = 0; i < 4; i++)
		if (fs[i])
			release_ok(fs[i]);
	cr_expect_eq(cf_shutdown(ex, true, false), CF_OK, "a broken pool shuts down");
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), 0);
}

BACKEND_TEST(cf_initializer, failure_with_several_workers, .timeout = 30)
{
	cf_options opts = { .max_workers = 4, .initializer = failing_init };
	cf_executor *ex = make_pool_opts(backend, &opts);
	cf_future *fs[20] = { NULL };

	for (int i = 0; i < 20; i++) {
		double s = 0.01;
		cf_status st = cf_submit(ex, sleep_task, &s, sizeof(s), &fs[i]);
		cr_expect(st == CF_OK || st == CF_BROKEN, "submit %d: %s", i, cf_strerror(st));
	}
	for (int i = 0; i < 20; i++) {
		if (!fs[i])
			continue;
		cr_expect_eq(cf_future_result(fs[i], BOUND, NULL, NULL), CF_BROKEN,
			     "future %d", i);
		release_ok(fs[i]);
	}
	cf_executor_free(ex);
}

/* Fails unless it got the bytes of init_bytes, so that a wrong initarg
 * shows on every backend as a broken pool. */
static const char init_bytes[] = "initarg";

static int checking_init(const void *arg, size_t size)
{
	return size == sizeof(init_bytes) && arg && memcmp(arg, init_bytes, size) == 0 ? 0 : 1;
}

BACKEND_TEST(cf_initializer, gets_a_copy_of_initarg, .timeout = 30)
{
	char initarg[sizeof(init_bytes)];
	cf_options opts = { .max_workers = 2, .initializer = checking_init,
			    .initarg = initarg, .initarg_size = sizeof(initarg) };
	cf_executor *ex;
	cf_future *fs[4];

	memcpy(initarg, init_bytes, sizeof(initarg));
	ex = make_pool_opts(backend, &opts);
	memset(initarg, 0, sizeof(initarg));    /* the caller reuses its memory */
	for (int i = 0; i < 4; i++)
		fs[i] = submit_job(ex, 0.1, i, 0);
	for (int i = 0; i < 4; i++)
		cr_expect_eq(result_long(fs[i], BOUND), (long)i * i,
			     "the initializer saw other bytes than cf_executor_new was given");
	release_all(fs, 4);
	cf_executor_free(ex);
}

/* Counts its calls (thread backend: the count is in this process). */
static atomic_int init_calls;

static int counting_init(const void *arg, size_t size)
{
	atomic_fetch_add(&init_calls, 1);
	return checking_init(arg, size);
}

Test(cf_initializer, runs_once_per_worker_thread, .timeout = 30)
{
	cf_options opts = { .max_workers = 4, .initializer = counting_init,
			    .initarg = init_bytes, .initarg_size = sizeof(init_bytes) };
	cf_executor *ex = make_pool_opts("thread", &opts);
	cf_future *fs[40];

	/* Enough concurrent sleeps to start every worker, then more. */
	for (int i = 0; i < 40; i++)
		fs[i] = submit_sleep(ex, i < 8 ? 0.2 : 0.0);
	for (int i = 0; i < 40; i++)
		cr_assert_eq(cf_future_result(fs[i], BOUND, NULL, NULL), CF_OK);
	size_t threads = workers_created(ex);
	cf_executor_free(ex);
	cr_expect_eq(threads, 4, "8 sleeping tasks on 4 workers start all 4");
	cr_expect_eq((size_t)atomic_load(&init_calls), threads,
		     "%d initializer calls for %zu threads", atomic_load(&init_calls), threads);
	release_all(fs, 40);
}

/* ---- bad input never aborts -------------------------------------------------- */

static int noop_cb(cf_future *f, void *arg)
{
	(void)f;
	(void)arg;
	return 0;
}

Test(cf_badinput, executor_new, .timeout = 30)
{
	cf_executor *ex = (cf_executor *)&ex;
	cf_options neg = { .max_workers = -1 };

	cr_expect_eq(cf_executor_new(NULL, NULL, &ex), CF_INVALID_ARGUMENT);
	cr_expect_eq(cf_executor_new("thread", NULL, NULL), CF_INVALID_ARGUMENT);
	ex = (cf_executor *)&ex;
	cr_expect_eq(cf_executor_new("nope", NULL, &ex), CF_UNKNOWN_BACKEND);
	cr_expect_null(ex, "*out is NULL on failure");
	cr_expect_eq(cf_executor_new("", NULL, &ex), CF_UNKNOWN_BACKEND);
	ex = (cf_executor *)&ex;
	cr_expect_eq(cf_executor_new("thread", &neg, &ex), CF_INVALID_ARGUMENT);
	cr_expect_null(ex);
	neg = (cf_options){ .idle_spin_us = -5 };
	cr_expect_eq(cf_executor_new("thread", &neg, &ex), CF_INVALID_ARGUMENT);
	neg = (cf_options){ .idle_spin_us = CF_MAX_IDLE_SPIN_US + 1 };
	cr_expect_eq(cf_executor_new("thread", &neg, &ex), CF_INVALID_ARGUMENT);
	neg = (cf_options){ .max_tasks_per_child = -1 };
	cr_expect_eq(cf_executor_new("thread", &neg, &ex), CF_INVALID_ARGUMENT);
}

BACKEND_TEST(cf_badinput, negative_max_workers, .timeout = 30)
{
	cf_options opts = { .max_workers = -3 };
	cf_executor *ex = NULL;
	cf_status st = cf_executor_new(backend, &opts, &ex);

	if (st == CF_UNKNOWN_BACKEND)
		cr_skip_test("backend \"%s\" is not available", backend);
	cr_expect_eq(st, CF_INVALID_ARGUMENT);
	cr_expect_null(ex);
}

Test(cf_badinput, null_executor, .timeout = 30)
{
	cf_future *f = (cf_future *)&f;
	cf_executor_stats stats;
	cf_map_iter *it = (cf_map_iter *)&it;
	long items[2] = { 1, 2 };

	cr_expect_eq(cf_submit(NULL, square_task, items, sizeof(long), &f), CF_INVALID_ARGUMENT);
	cr_expect_null(f);
	cr_expect_eq(cf_shutdown(NULL, true, true), CF_INVALID_ARGUMENT);
	cr_expect_eq(cf_executor_stats_get(NULL, &stats), CF_INVALID_ARGUMENT);
	cr_expect_str_eq(cf_executor_backend(NULL), "");
	cr_expect_eq(cf_executor_max_workers(NULL), 0);
	cf_executor_free(NULL);
	cr_expect_eq(cf_map(NULL, square_task, items, sizeof(long), 2, NULL, &it),
		     CF_INVALID_ARGUMENT);
	cr_expect_null(it);
}

BACKEND_TEST(cf_badinput, submit_and_map_arguments, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	cf_future *f = (cf_future *)&f;
	cf_map_iter *it = (cf_map_iter *)&it;
	long items[2] = { 1, 2 };

	cr_expect_eq(cf_submit(ex, NULL, items, sizeof(long), &f), CF_INVALID_ARGUMENT);
	cr_expect_null(f);
	f = (cf_future *)&f;
	cr_expect_eq(cf_submit(ex, square_task, NULL, sizeof(long), &f), CF_INVALID_ARGUMENT,
		     "NULL argument bytes with a nonzero size");
	cr_expect_null(f);
	cr_expect_eq(cf_submit(ex, square_task, items, sizeof(long), NULL), CF_INVALID_ARGUMENT);
	cr_expect_eq(cf_executor_stats_get(ex, NULL), CF_INVALID_ARGUMENT);

	cr_expect_eq(cf_map(ex, NULL, items, sizeof(long), 2, NULL, &it), CF_INVALID_ARGUMENT);
	cr_expect_null(it);
	cr_expect_eq(cf_map(ex, square_task, items, sizeof(long), 2, NULL, NULL),
		     CF_INVALID_ARGUMENT);
	it = (cf_map_iter *)&it;
	cr_expect_eq(cf_map(ex, square_task, NULL, sizeof(long), 2, NULL, &it),
		     CF_INVALID_ARGUMENT, "NULL items with a nonzero count");
	cr_expect_null(it);
	cr_expect_eq(cf_map(ex, square_task, items, (size_t)-1 / 2, 4, NULL, &it),
		     CF_INVALID_ARGUMENT, "count * item_size overflows");

	/* Nothing leaked, and the pool still works. */
	f = submit_square(ex, 2);
	cr_expect_eq(result_long(f, BOUND), 4);
	release_ok(f);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), 0);
}

Test(cf_badinput, null_future, .timeout = 30)
{
	const void *data = (const void *)1;
	const cf_error *err = (const cf_error *)1;
	char buf[8];
	size_t size = 0;

	cr_expect(!cf_future_cancel(NULL));
	cr_expect(!cf_future_cancelled(NULL));
	cr_expect(!cf_future_running(NULL));
	cr_expect(!cf_future_done(NULL));
	cr_expect_eq(cf_future_result(NULL, 0, &data, NULL), CF_INVALID_ARGUMENT);
	cr_expect_eq(cf_future_result(NULL, CF_FOREVER, NULL, NULL), CF_INVALID_ARGUMENT,
		     "never waits on NULL");
	cr_expect_eq(cf_future_result_into(NULL, 0, buf, sizeof(buf), &size), CF_INVALID_ARGUMENT);
	cr_expect_eq(cf_future_exception(NULL, 0, &err), CF_INVALID_ARGUMENT);
	cr_expect_eq(cf_future_add_done_callback(NULL, noop_cb, NULL), CF_INVALID_ARGUMENT);
	cr_expect_eq(cf_future_release(NULL), CF_INVALID_ARGUMENT);
}

BACKEND_TEST(cf_badinput, null_callback, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	cf_future *f = submit_square(ex, 2);

	cr_expect_eq(cf_future_add_done_callback(f, NULL, NULL), CF_INVALID_ARGUMENT);
	cr_expect_eq(result_long(f, BOUND), 4);
	cr_expect_eq(cf_future_add_done_callback(f, NULL, NULL), CF_INVALID_ARGUMENT);
	release_ok(f);
	cf_executor_free(ex);
}

Test(cf_badinput, null_iterators, .timeout = 30)
{
	cf_future *f = NULL;
	cf_future *fs[2] = { NULL, NULL };
	cf_as_completed *ac = (cf_as_completed *)&ac;
	const void *data;
	size_t size, index = 77, n_done = 5, n_not_done = 5;

	cr_expect_eq(cf_map_next(NULL, &data, &size), CF_INVALID_ARGUMENT);
	cr_expect_null(cf_map_error(NULL, &index));
	cf_map_free(NULL);

	cr_expect_eq(cf_as_completed_new(NULL, 2, 1.0, &ac), CF_INVALID_ARGUMENT);
	cr_expect_eq(cf_as_completed_new(fs, 2, 1.0, NULL), CF_INVALID_ARGUMENT);
	cr_expect_eq(cf_as_completed_new(fs, 2, 1.0, &ac), CF_INVALID_ARGUMENT,
		     "NULL futures in the array");
	cr_expect_eq(cf_as_completed_next(NULL, &f), CF_INVALID_ARGUMENT);
	cf_as_completed_free(NULL);

	cr_expect_eq(cf_wait(NULL, 2, 1.0, CF_ALL_COMPLETED, NULL, &n_done, NULL, &n_not_done),
		     CF_INVALID_ARGUMENT);
	cr_expect_eq(cf_wait(fs, 2, 1.0, CF_ALL_COMPLETED, NULL, &n_done, NULL, &n_not_done),
		     CF_INVALID_ARGUMENT, "NULL futures in the array");

	/* Nothing to wait for: at once. */
	cr_expect_eq(cf_wait(NULL, 0, CF_FOREVER, CF_ALL_COMPLETED, NULL, &n_done, NULL,
			     &n_not_done), CF_OK);
	cr_expect_eq(n_done, 0);
	cr_expect_eq(n_not_done, 0);
	cr_assert_eq(cf_as_completed_new(NULL, 0, CF_FOREVER, &ac), CF_OK);
	cr_expect_eq(cf_as_completed_next(ac, &f), CF_END);
	cf_as_completed_free(ac);
}

BACKEND_TEST(cf_badinput, iterator_arguments, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	cf_future *f = submit_square(ex, 2);
	cf_as_completed *ac = NULL;
	size_t n_done, n_not_done;

	cr_expect_eq(cf_wait(&f, 1, 1.0, (cf_return_when)7, NULL, &n_done, NULL, &n_not_done),
		     CF_INVALID_ARGUMENT, "an unknown return_when");
	cr_expect_eq(cf_wait(&f, 1, 1.0, (cf_return_when)-1, NULL, &n_done, NULL, &n_not_done),
		     CF_INVALID_ARGUMENT, "an unknown return_when");
	cr_assert_eq(cf_as_completed_new(&f, 1, BOUND, &ac), CF_OK);
	cr_expect_eq(cf_as_completed_next(ac, NULL), CF_INVALID_ARGUMENT);
	cf_as_completed_free(ac);
	cr_expect_eq(result_long(f, BOUND), 4);
	release_ok(f);
	cf_executor_free(ex);
}

Test(cf_badinput, task_functions_with_null, .timeout = 30)
{
	size_t size = 5;

	cr_expect_null(cf_task_arg(NULL, &size));
	cr_expect_eq(size, 0);
	cr_expect_null(cf_task_arg(NULL, NULL));
	cr_expect_neq(cf_task_return(NULL, "x", 1), 0);
	cr_expect_eq(cf_task_fail(NULL, 0, "x"), -1, "the code is still nonzero");
	cr_expect_eq(cf_task_fail(NULL, 9, "x"), 9);
}

static int return_null_data_task(cf_task *task)
{
	/* NULL data with a size: refused, not a crash. */
	int rc = cf_task_return(task, NULL, 4);
	long r = rc != 0;

	return cf_task_return(task, &r, sizeof(r));
}

BACKEND_TEST(cf_badinput, task_return_null_data, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	cf_future *f = submit_ok(ex, return_null_data_task, NULL, 0);

	cr_expect_eq(result_long(f, BOUND), 1, "cf_task_return(NULL, 4) must fail");
	release_ok(f);
	cf_executor_free(ex);
}

Test(cf_badinput, strerror_names_every_status, .timeout = 30)
{
	for (int s = CF_OK; s <= CF_SYSTEM; s++) {
		const char *name = cf_strerror((cf_status)s);

		cr_assert_not_null(name, "status %d", s);
		cr_expect_gt(strlen(name), 0, "status %d has an empty name", s);
		for (int t = CF_OK; t < s; t++)
			cr_expect_str_neq(name, cf_strerror((cf_status)t),
					  "statuses %d and %d share a name", t, s);
	}
	const char *unknown[] = { cf_strerror((cf_status)(CF_SYSTEM + 1)),
				  cf_strerror((cf_status)999), cf_strerror((cf_status)-1) };
	for (int i = 0; i < 3; i++) {
		cr_assert_not_null(unknown[i]);
		cr_expect_gt(strlen(unknown[i]), 0);
	}
}

/* cf_future_result gives size 0 with any status but CF_OK; result_into
 * must not give back an undefined size for a NULL future (run under
 * valgrind to see the uninitialised read if the value happens to be 0). */
Test(cf_badinput, result_into_null_future_size, .timeout = 30)
{
	char buf[8];
	size_t size = 12345;

	cr_expect_eq(cf_future_result_into(NULL, 0, buf, sizeof(buf), &size), CF_INVALID_ARGUMENT);
	cr_expect(size == 0 || size == 12345,
		  "*size is %zu after CF_INVALID_ARGUMENT: an uninitialised value", size);
}

/* ---- where tasks run -------------------------------------------------------- */

static int getpid_task(cf_task *task)
{
	long pid = (long)getpid();

	return cf_task_return(task, &pid, sizeof(pid));
}

BACKEND_TEST(cf_submit, runs_in_the_backends_workers, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 2);
	cf_future *f = submit_ok(ex, getpid_task, NULL, 0);
	long pid = result_long(f, BOUND);

	if (strcmp(backend, "thread") != 0)
		cr_expect_neq(pid, (long)getpid(),
			      "a %s backend runs tasks in another process", backend);
	else
		cr_expect_eq(pid, (long)getpid(), "a thread backend runs tasks in this process");
	release_ok(f);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_submit, idle_spin_option, .timeout = 30)
{
	cf_options opts = { .max_workers = 2, .idle_spin_us = 200 };
	cf_executor *ex = make_pool_opts(backend, &opts);

	for (long i = 0; i < 200; i++) {
		cf_future *f = submit_square(ex, i);
		cr_assert_eq(result_long(f, BOUND), i * i);
		release_ok(f);
	}
	cf_executor_free(ex);
}

/* A caller that spins for its result still honours its timeout: the spin
 * (here 1 s) is cut at the deadline, not the other way round. */
BACKEND_TEST(cf_submit, spin_honours_timeout, .timeout = 30)
{
	cf_options opts = { .max_workers = 1, .idle_spin_us = CF_MAX_IDLE_SPIN_US };
	cf_executor *ex = make_pool_opts(backend, &opts);
	double s = 2.0;
	cf_future *f = submit_ok(ex, sleep_task, &s, sizeof(s));
	double start = now_s();

	cr_expect_eq(cf_future_result(f, 0.05, NULL, NULL), CF_TIMEOUT);
	cr_expect_lt(now_s() - start, 0.9, "the 1 s spin ran past the 0.05 s timeout");
	cr_expect_eq(cf_future_result(f, BOUND, NULL, NULL), CF_OK);
	release_ok(f);
	cf_executor_free(ex);
}

struct spin_waiter {
	cf_future *f;
	cf_status st;
};

static void *wait_result(void *arg)
{
	struct spin_waiter *w = arg;

	w->st = cf_future_result(w->f, BOUND, NULL, NULL);
	return NULL;
}

/* A future cancelled while a caller spins on it ends the spin: the flag
 * the spinner reads is set for every way of becoming done. */
BACKEND_TEST(cf_submit, spin_sees_cancel, .timeout = 30)
{
	cf_options opts = { .max_workers = 1, .idle_spin_us = CF_MAX_IDLE_SPIN_US };
	cf_executor *ex = make_pool_opts(backend, &opts);
	double s = 1.0;
	cf_future *blocker = submit_ok(ex, sleep_task, &s, sizeof(s));
	cf_future *queued = submit_square(ex, 7);
	struct spin_waiter w = { queued, CF_OK };
	pthread_t t;

	cr_assert_eq(pthread_create(&t, NULL, wait_result, &w), 0);
	usleep(20000);
	bool cancelled = cf_future_cancel(queued);
	pthread_join(t, NULL);
	cr_expect_eq(w.st, cancelled ? CF_CANCELLED : CF_OK);
	cr_expect_eq(cf_future_result(blocker, BOUND, NULL, NULL), CF_OK);
	release_ok(queued);
	release_ok(blocker);
	cf_executor_free(ex);
}

/* ---- process backend only: workers that die or retire ---------------------- */

static int die_task(cf_task *task)
{
	(void)task;
	_exit(3);
}

Test(cf_broken, worker_death_breaks_pool_process, .timeout = 60)
{
	cf_executor *ex = make_pool("process", 2);
	cf_future *ok = submit_square(ex, 3);
	cf_future *dies, *pending[4];
	int broken = 0;

	cr_assert_eq(result_long(ok, BOUND), 9);
	dies = submit_ok(ex, die_task, NULL, 0);
	for (int i = 0; i < 4; i++) {
		/* The pool may break before or after each submit. */
		double s = 0.5;
		cf_status st = cf_submit(ex, sleep_task, &s, sizeof(s), &pending[i]);

		cr_expect(st == CF_OK || st == CF_BROKEN, "submit %d: %s", i, cf_strerror(st));
		broken += st == CF_BROKEN;
	}
	cr_expect_eq(cf_future_result(dies, BOUND, NULL, NULL), CF_BROKEN,
		     "the task whose worker died fails with CF_BROKEN");
	for (int i = 0; i < 4; i++) {
		if (!pending[i])
			continue;
		cf_status st = cf_future_result(pending[i], BOUND, NULL, NULL);

		/* One may have been running on the other worker. */
		cr_expect(st == CF_BROKEN || st == CF_OK, "pending %d: %s", i, cf_strerror(st));
		broken += st == CF_BROKEN;
		release_ok(pending[i]);
	}
	cr_expect_geq(broken, 3);
	cf_future *late = ok;
	long n = 2;
	cr_expect_eq(cf_submit(ex, square_task, &n, sizeof(n), &late), CF_BROKEN);
	cr_expect_null(late);
	cr_expect_eq(result_long(ok, 0), 9, "a finished result is kept");
	release_ok(ok);
	release_ok(dies);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), 0);
}

Test(cf_broken, max_tasks_per_child_process, .timeout = 60)
{
	cf_options opts = { .max_workers = 1, .max_tasks_per_child = 2 };
	cf_executor *ex = make_pool_opts("process", &opts);
	long pids[6];

	for (long i = 0; i < 6; i++) {
		cf_future *f = submit_ok(ex, getpid_task, NULL, 0);
		pids[i] = result_long(f, BOUND);
		release_ok(f);
	}
	for (int i = 0; i < 6; i += 2) {
		cr_expect_eq(pids[i], pids[i + 1], "tasks %d and %d share a worker", i, i + 1);
		if (i)
			cr_expect_neq(pids[i], pids[i - 1], "a worker retires after 2 tasks");
	}
	cr_expect_eq(workers_created(ex), 3);
	cf_executor_free(ex);
}
