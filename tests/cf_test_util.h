/* Helpers shared by the tests of the cf library (tests/test_cf_*.c).
 *
 * Every semantic test runs once per backend from one body: BACKEND_TEST
 * stamps out one Criterion test per backend, named after it, so adding a
 * backend is one line and a failure names its backend.  make_pool() skips
 * the test when the library does not know the backend yet.
 *
 * Task functions take their argument as bytes and never point into the
 * test's memory, so that they run unchanged on a process backend.  Timing
 * is coordinated with bounded sleeps given in the argument.  The few tests
 * that need a shared flag (gate_task) are thread-backend-only and say so.
 */
#ifndef PARLAB_CF_TEST_UTIL_H
#define PARLAB_CF_TEST_UTIL_H

#include <criterion/criterion.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "cf.h"
#include "cf_testing.h"

/* Sanitizers slow everything down: the big loops shrink under them. */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define CF_TEST_SANITIZED 1
#else
#define CF_TEST_SANITIZED 0
#endif

/* How long a wait that must succeed may take before the test fails: long
 * enough for a noisy 2-core machine, short enough to fail a deadlock. */
#define BOUND 20.0

/* ---- one test body per backend ------------------------------------------ */

/* BACKEND_TEST(suite, name, .timeout = 30) { ... uses `backend` ... }
 * defines the tests suite::name_thread, suite::name_process and
 * suite::name_mpi, which run the body with backend = "thread", "process"
 * and "mpi" (skipped where the test program lacks the MPI backend: a
 * sanitizer build, or no Open MPI).  A new backend is one more line. */
#define BACKEND_TEST(suite, test, ...)                                         \
	static void suite##_##test##_body(const char *backend);               \
	Test(suite, test##_thread, __VA_ARGS__) { suite##_##test##_body("thread"); }   \
	Test(suite, test##_process, __VA_ARGS__) { suite##_##test##_body("process"); } \
	Test(suite, test##_mpi, __VA_ARGS__) { suite##_##test##_body("mpi"); }         \
	static void suite##_##test##_body(const char *backend)

/* A new executor of the backend with `workers` workers (0: default);
 * skips the test if the backend does not exist.  For "mpi" it first pins
 * Open MPI to loopback and lets it run as root (mpi_test_env). */
cf_executor *make_pool(const char *backend, int workers);
cf_executor *make_pool_opts(const char *backend, const cf_options *opts);

/* The Open MPI settings every MPI test runs with, set in this process
 * (and so in what it starts) unless already set: loopback only, TCP,
 * and the two variables that let mpirun run as root. */
void mpi_test_env(void);

/* Workers the backend started so far (threads or processes). */
size_t workers_created(cf_executor *ex);

/* ---- time ---------------------------------------------------------------- */

double now_s(void);
void sleep_s(double seconds);

/* Polls until f runs (true) or is done or `bound` seconds pass (false). */
bool wait_running(cf_future *f, double bound);

/* Polls until *counter >= value or `bound` seconds pass. */
bool wait_counter(atomic_int *counter, int value, double bound);

/* ---- tasks ---------------------------------------------------------------- */

/* square_task: long n -> long n * n. */
int square_task(cf_task *task);

/* sleep_task: double seconds -> sleeps, returns the same double. */
int sleep_task(cf_task *task);

/* job_task: sleeps sleep_s, then fails with cf_task_fail(task, fail_code,
 * "bad %ld", value) when fail_code is nonzero, else returns value * value
 * as a long. */
struct job {
	double sleep_s;
	long value;
	int fail_code;
	int unused;     /* no padding: every byte sent is initialised */
};
int job_task(cf_task *task);

/* fail_task: cf_task_fail(task, code, "bad %d", x). */
struct fail_arg {
	int code;
	int x;
};
int fail_task(cf_task *task);

/* rc_task: int rc -> returns rc without a message. */
int rc_task(cf_task *task);

/* Submits and asserts CF_OK. */
cf_future *submit_ok(cf_executor *ex, cf_fn fn, const void *arg, size_t size);
cf_future *submit_sleep(cf_executor *ex, double seconds);
cf_future *submit_job(cf_executor *ex, double sleep_s, long value, int fail_code);
cf_future *submit_square(cf_executor *ex, long n);

/* The long result of f, asserting CF_OK within `timeout`. */
long result_long(cf_future *f, double timeout);

void release_ok(cf_future *f);
void release_all(cf_future **fs, size_t n);

/* ---- thread backend only --------------------------------------------------
 *
 * gate_task blocks until gate_open() (bounded: it gives up after 30 s and
 * fails), counting itself in gate_entered.  The flag lives in this
 * process's memory, so only the thread backend can see it. */
extern atomic_int gate_entered;
int gate_task(cf_task *task);
void gate_open(void);

#endif
