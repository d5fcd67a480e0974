/* The checker of exercise 4: run_all() with counted thread creation
 * (pthread_create is wrapped at link time: see `flags`). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "check.h"
#include "exercise.h"

int __real_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);

static atomic_long creates;
static long fail_at = -1;       /* the creation that fails (0-based), -1: none */

/* Threads created and not yet ended: every thread starts in alive_thread,
 * which counts it down when its own start routine returns, just before
 * the thread ends (and so before a pthread_join of it can return). */
static atomic_long alive;

struct start {
	void *(*fn)(void *);
	void *arg;
};

static void *alive_thread(void *arg)
{
	struct start s = *(struct start *)arg;

	free(arg);
	void *ret = s.fn(s.arg);
	atomic_fetch_sub(&alive, 1);
	return ret;
}

int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
	long k = atomic_fetch_add(&creates, 1);
	struct start *s;
	int err;

	if (k == fail_at)
		return EAGAIN;
	s = malloc(sizeof(*s));
	if (!s)
		return EAGAIN;
	*s = (struct start){ fn, arg };
	atomic_fetch_add(&alive, 1);
	err = __real_pthread_create(t, a, alive_thread, s);
	if (err) {
		atomic_fetch_sub(&alive, 1);
		free(s);
	}
	return err;
}

/* What the tasks record. */
static atomic_int *calls;
static atomic_int running, peak;

static void count(long i, void *ctx)
{
	(void)ctx;
	atomic_fetch_add(&calls[i], 1);
}

static void nap(long i, void *ctx)
{
	long ms = ctx ? *(long *)ctx : 100;
	int now = atomic_fetch_add(&running, 1) + 1;
	int p = atomic_load(&peak);

	while (now > p && !atomic_compare_exchange_weak(&peak, &p, now))
		;
	atomic_fetch_add(&calls[i], 1);
	check_sleep_ms(ms);
	atomic_fetch_sub(&running, 1);
}

static void setup(long n)
{
	calls = calloc(n > 0 ? n : 1, sizeof(*calls));
	CHECK(calls, "out of memory");
}

static void each_once(void)
{
	setup(1000);
	int rc = run_all(1000, 4, count, NULL);
	CHECK(rc == 0, "returned %d", rc);
	for (long i = 0; i < 1000; i++)
		CHECK(calls[i] == 1, "fn(%ld) was called %d times, expected once", i, (int)calls[i]);
}

static void few_threads(void)
{
	setup(1000);
	run_all(1000, 4, count, NULL);
	long n = atomic_load(&creates);
	CHECK(n <= 4, "1000 tasks on 4 workers created %ld threads; a pool creates at most 4", n);
	CHECK(n >= 1, "no thread was created: the work must run on the pool's threads");
}

static void in_parallel(void)
{
	long ms = 100;

	setup(8);
	double start = check_now();
	run_all(8, 4, nap, &ms);
	double took = check_now() - start;
	CHECK(atomic_load(&peak) <= 4, "%d tasks ran at once on 4 workers", (int)atomic_load(&peak));
	CHECK(atomic_load(&peak) >= 3, "at most %d task(s) ran at once: the 4 workers must run "
	      "in parallel", (int)atomic_load(&peak));
	CHECK(took < 0.45, "8 tasks of 100 ms on 4 workers took %.2f s, expected about 0.2 s", took);
}

static void small_n(void)
{
	long ms = 10;

	setup(2);
	CHECK(run_all(2, 8, nap, &ms) == 0, "run_all failed");
	CHECK(calls[0] == 1 && calls[1] == 1, "each task must run once");
	CHECK(atomic_load(&creates) <= 8, "created %ld threads", atomic_load(&creates));
	setup(1);
	CHECK(run_all(0, 4, count, NULL) == 0, "no tasks: must return 0");
}

static void many_tiny(void)
{
	enum { N = 200000 };

	setup(N);
	double start = check_now();
	CHECK(run_all(N, 2, count, NULL) == 0, "run_all failed");
	double took = check_now() - start;
	for (long i = 0; i < N; i++)
		CHECK(calls[i] == 1, "fn(%ld) was called %d times, expected once", i, (int)calls[i]);
	CHECK(took < 1.0, "200 000 tiny tasks took %.2f s; a pool needs well under a second", took);
}

static void creation_fails(void)
{
	setup(100);
	fail_at = 2;            /* the third pthread_create fails */
	int rc = run_all(100, 4, count, NULL);
	CHECK(rc == EAGAIN, "pthread_create failed with EAGAIN, but run_all returned %d", rc);
}

/* On the failure path the threads already started still run tasks; the
 * function may return only once they have ended. */
static void failure_joins(void)
{
	long ms = 50;

	setup(40);
	fail_at = 2;            /* 2 threads run, the third cannot be made */
	int rc = run_all(40, 4, nap, &ms);
	long left = atomic_load(&alive), running_now = atomic_load(&running);

	CHECK(left == 0 && running_now == 0,
	      "the third pthread_create failed and run_all returned, but %ld of the threads "
	      "it had\n    started were still alive, %ld of them in the middle of a call to "
	      "fn.  They go on\n    using fn, ctx and the function's own memory after it has "
	      "returned (a crash, or\n    worse, wrong results).  On the failure path too, "
	      "join every thread already\n    started before returning",
	      left, running_now);
	CHECK(rc == EAGAIN, "pthread_create failed with EAGAIN, but run_all returned %d", rc);
}

int main(void)
{
	check_begin("04-fixed-pool");
	check_run("1000 tasks: each fn(i) runs exactly once", each_once, 10);
	check_run("1000 tasks on 4 workers create at most 4 threads", few_threads, 10);
	check_run("the workers run in parallel, never more than 4 at once", in_parallel, 10);
	check_run("fewer tasks than workers, and no tasks", small_n, 10);
	check_run("200 000 tiny tasks on 2 workers in under a second", many_tiny, 20);
	check_run("a failed pthread_create is reported (and nothing hangs)", creation_fails, 10);
	check_run("after a failed pthread_create, the threads started are joined",
		  failure_joins, 10);
	return check_end();
}
