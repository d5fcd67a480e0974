/* Helpers shared by the tests of the cf library: see cf_test_util.h. */
#define _GNU_SOURCE
#include "cf_test_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void mpi_test_env(void)
{
	setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 0);
	setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 0);
	setenv("OMPI_MCA_btl_tcp_if_include", "lo", 0);
	setenv("OMPI_MCA_oob_tcp_if_include", "lo", 0);
	setenv("OMPI_MCA_pml", "ob1", 0);
	setenv("OMPI_MCA_btl", "self,tcp", 0);
}

cf_executor *make_pool_opts(const char *backend, const cf_options *opts)
{
	cf_executor *ex = NULL;

	if (strcmp(backend, "mpi") == 0)
		mpi_test_env();
	cf_status st = cf_executor_new(backend, opts, &ex);

	if (st == CF_UNKNOWN_BACKEND)
		cr_skip_test("backend \"%s\" is not available", backend);
	cr_assert_eq(st, CF_OK, "cf_executor_new(%s): %s", backend, cf_strerror(st));
	cr_assert_not_null(ex);
	return ex;
}

cf_executor *make_pool(const char *backend, int workers)
{
	cf_options opts = { .max_workers = workers };

	return make_pool_opts(backend, &opts);
}

size_t workers_created(cf_executor *ex)
{
	cf_executor_stats stats;

	cr_assert_eq(cf_executor_stats_get(ex, &stats), CF_OK);
	return stats.threads_created + stats.processes_created;
}

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void sleep_s(double seconds)
{
	struct timespec ts;

	if (seconds <= 0)
		return;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

bool wait_running(cf_future *f, double bound)
{
	double end = now_s() + bound;

	while (now_s() < end) {
		if (cf_future_running(f))
			return true;
		if (cf_future_done(f))
			return false;
		sleep_s(0.001);
	}
	return false;
}

bool wait_counter(atomic_int *counter, int value, double bound)
{
	double end = now_s() + bound;

	while (atomic_load(counter) < value) {
		if (now_s() > end)
			return false;
		sleep_s(0.001);
	}
	return true;
}

/* ---- tasks ---------------------------------------------------------------- */

int square_task(cf_task *task)
{
	size_t size;
	const long *n = cf_task_arg(task, &size);
	long r;

	if (!n || size != sizeof(*n))
		return cf_task_fail(task, 99, "square_task: argument of %zu bytes", size);
	r = *n * *n;
	return cf_task_return(task, &r, sizeof(r));
}

int sleep_task(cf_task *task)
{
	size_t size;
	const double *s = cf_task_arg(task, &size);

	if (!s || size != sizeof(*s))
		return cf_task_fail(task, 99, "sleep_task: argument of %zu bytes", size);
	sleep_s(*s);
	return cf_task_return(task, s, sizeof(*s));
}

int job_task(cf_task *task)
{
	size_t size;
	const struct job *j = cf_task_arg(task, &size);
	long r;

	if (!j || size != sizeof(*j))
		return cf_task_fail(task, 99, "job_task: argument of %zu bytes", size);
	sleep_s(j->sleep_s);
	if (j->fail_code)
		return cf_task_fail(task, j->fail_code, "bad %ld", j->value);
	r = j->value * j->value;
	return cf_task_return(task, &r, sizeof(r));
}

int fail_task(cf_task *task)
{
	const struct fail_arg *a = cf_task_arg(task, NULL);

	return cf_task_fail(task, a->code, "bad %d", a->x);
}

int rc_task(cf_task *task)
{
	const int *rc = cf_task_arg(task, NULL);

	return *rc;
}

cf_future *submit_ok(cf_executor *ex, cf_fn fn, const void *arg, size_t size)
{
	cf_future *f = NULL;
	cf_status st = cf_submit(ex, fn, arg, size, &f);

	cr_assert_eq(st, CF_OK, "cf_submit: %s", cf_strerror(st));
	cr_assert_not_null(f);
	return f;
}

cf_future *submit_sleep(cf_executor *ex, double seconds)
{
	return submit_ok(ex, sleep_task, &seconds, sizeof(seconds));
}

cf_future *submit_job(cf_executor *ex, double sleep_s, long value, int fail_code)
{
	struct job j = { .sleep_s = sleep_s, .value = value, .fail_code = fail_code };

	return submit_ok(ex, job_task, &j, sizeof(j));
}

cf_future *submit_square(cf_executor *ex, long n)
{
	return submit_ok(ex, square_task, &n, sizeof(n));
}

long result_long(cf_future *f, double timeout)
{
	const void *data = NULL;
	size_t size = 0;
	long v;
	cf_status st = cf_future_result(f, timeout, &data, &size);

	cr_assert_eq(st, CF_OK, "cf_future_result: %s", cf_strerror(st));
	cr_assert_eq(size, sizeof(long));
	cr_assert_not_null(data);
	memcpy(&v, data, sizeof(v));
	return v;
}

void release_ok(cf_future *f)
{
	cr_assert_eq(cf_future_release(f), CF_OK);
}

void release_all(cf_future **fs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		release_ok(fs[i]);
}

/* ---- thread backend only -------------------------------------------------- */

atomic_int gate_entered;
static atomic_int gate_is_open;

int gate_task(cf_task *task)
{
	double end = now_s() + 30.0;

	atomic_fetch_add(&gate_entered, 1);
	while (!atomic_load(&gate_is_open)) {
		if (now_s() > end)
			return cf_task_fail(task, 98, "gate never opened");
		sleep_s(0.001);
	}
	return 0;
}

void gate_open(void)
{
	atomic_store(&gate_is_open, 1);
}
