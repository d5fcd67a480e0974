/* The checker of exercise 10: time_pool() against a real process pool
 * (the executor's own counters say how many tasks really ran there),
 * breakeven() on sweeps with known answers, then your sweep on this
 * machine, printed. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "exercise.h"
#include "spin.h"

int spin_task(cf_task *task)
{
	const long *us = cf_task_arg(task, NULL);
	uint64_t r = pl_spin_us(*us);

	return cf_task_return(task, &r, sizeof(r));
}

static cf_executor *process_pool(int workers)
{
	cf_options opts = { .max_workers = workers };
	cf_executor *ex;
	cf_future *f[8];
	long zero = 0;

	CHECK(cf_executor_new("process", &opts, &ex) == CF_OK, "cannot create a process pool");
	/* Start every worker now, so that no measurement pays for it. */
	for (int i = 0; i < workers; i++)
		cf_submit(ex, spin_task, &zero, sizeof(zero), &f[i]);
	for (int i = 0; i < workers; i++) {
		cf_future_result(f[i], CF_FOREVER, NULL, NULL);
		cf_future_release(f[i]);
	}
	return ex;
}

static size_t completed(cf_executor *ex)
{
	cf_executor_stats s;

	CHECK(cf_executor_stats_get(ex, &s) == CF_OK, "no stats");
	return s.tasks_completed;
}

static void runs_the_tasks(void)
{
	cf_executor *ex = process_pool(2);
	size_t before = completed(ex);
	double t = time_pool(ex, 2000, 40);
	size_t ran = completed(ex) - before;

	/* The pool counts a task just after its future completes. */
	for (int k = 0; k < 100 && ran < 40; k++) {
		check_sleep_ms(10);
		ran = completed(ex) - before;
	}

	CHECK(t > 0, "time_pool returned %g", t);
	CHECK(ran == 40, "time_pool(ex, 2000, 40) ran %zu tasks on the pool, expected 40", ran);
	/* 40 x 2 ms of CPU on 2 workers cannot take less than 40 ms. */
	CHECK(t >= 0.035, "40 tasks of 2 ms on 2 workers need at least 40 ms of wall time; "
	      "time_pool measured %.4f s: does it wait for every result?", t);
	cf_executor_free(ex);
}

static void waits_for_results(void)
{
	cf_executor *ex = process_pool(2);
	double t = time_pool(ex, 50000, 4);

	CHECK(t >= 0.09, "4 tasks of 50 ms on 2 workers take at least 0.1 s; time_pool "
	      "measured %.4f s.\n    Submitting only queues a task: the work, the trip to a "
	      "worker process and back\n    come later.  Stop the clock after the last "
	      "result, not after the last submit", t);
	CHECK(t < 2.0, "4 tasks of 50 ms took %.2f s", t);
	cf_executor_free(ex);
}

static void synthetic(void)
{
	const long sizes[] = { 1, 3, 10, 30, 100, 300 };
	const double serial[] = { 1, 1, 1, 1, 1, 1 };
	const double crossing[] = { 9, 5, 2, 0.8, 0.6, 0.55 };
	const double blip[] = { 9, 0.9, 2, 1.2, 0.6, 0.5 };
	const double never[] = { 9, 5, 3, 2, 1.5, 1.1 };
	const double late[] = { 9, 0.5, 0.5, 0.5, 0.5, 1.0 };
	const double always[] = { 0.9, 0.8, 0.7, 0.6, 0.6, 0.5 };
	const double tie[] = { 9, 5, 2, 1, 0.6, 0.5 };

	CHECK(breakeven(sizes, serial, crossing, 6) == 30, "a clean crossing at 30 µs: got %ld",
	      breakeven(sizes, serial, crossing, 6));
	CHECK(breakeven(sizes, serial, blip, 6) == 100, "faster at 3 µs by noise, slower at 10 "
	      "and 30, faster from 100 on: the answer is 100, got %ld",
	      breakeven(sizes, serial, blip, 6));
	CHECK(breakeven(sizes, serial, never, 6) == -1, "never faster: expected -1, got %ld",
	      breakeven(sizes, serial, never, 6));
	CHECK(breakeven(sizes, serial, late, 6) == -1, "slower at the largest size: expected "
	      "-1, got %ld", breakeven(sizes, serial, late, 6));
	CHECK(breakeven(sizes, serial, always, 6) == 1, "faster everywhere: expected 1, got %ld",
	      breakeven(sizes, serial, always, 6));
	CHECK(breakeven(sizes, serial, tie, 6) == 100, "as fast is not faster: expected 100, "
	      "got %ld", breakeven(sizes, serial, tie, 6));
	CHECK(breakeven(sizes, serial, crossing, 0) == -1, "an empty sweep: expected -1");
}

static void your_machine(void)
{
	const long sizes[] = { 1, 3, 10, 30, 100, 300, 1000 };
	enum { N = sizeof(sizes) / sizeof(sizes[0]) };
	const long total_us = 30000;            /* the same work at every point */
	double serial[N], pool[N];
	cf_executor *ex = process_pool(2);

	printf("    task size   tasks   serial (s)   process pool, 2 workers (s)\n");
	for (int k = 0; k < N; k++) {
		long tasks = total_us / sizes[k];
		double t0 = check_now();
		for (long i = 0; i < tasks; i++)
			pl_spin_us(sizes[k]);
		serial[k] = check_now() - t0;
		pool[k] = time_pool(ex, sizes[k], tasks);
		CHECK(pool[k] > 0, "time_pool failed at %ld µs", sizes[k]);
		printf("    %6ld µs  %6ld   %10.4f   %10.4f\n", sizes[k], tasks, serial[k], pool[k]);
	}
	long b = breakeven(sizes, serial, pool, N);
	if (b > 0)
		printf("    the process pool pays off from %ld µs per task on this machine\n", b);
	else
		printf("    the process pool does not pay off at any size of this sweep on this "
		       "machine\n");
	CHECK(b != 1, "a task of 1 µs costs the process pool far more than 1 µs to send and "
	      "receive; a break-even at 1 µs means the measurement is wrong");
	cf_executor_free(ex);
}

int main(void)
{
	/* Calibrate once, and give the rate to the workers too: a process
	 * pool's workers are fresh programs that would calibrate again. */
	char rate[32];
	snprintf(rate, sizeof(rate), "%.3f", pl_spin_per_us());
	setenv("PARLAB_SPIN_PER_US", rate, 1);

	check_begin("10-process-payoff");
	check_run("time_pool runs every task on the pool and times them all", runs_the_tasks, 20);
	check_run("time_pool waits for the results", waits_for_results, 20);
	check_run("breakeven on sweeps with known answers", synthetic, 5);
	check_show("your sweep on this machine", your_machine, 60);
	return check_end();
}
