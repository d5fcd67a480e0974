/* The checker of exercise 2: run_with_deadline() on a real thread pool,
 * with tasks that finish, fail, and outlast the deadline. */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdlib.h>

#include "cf_testing.h"
#include "exercise.h"
#include "check.h"

static atomic_long started;

int nap_ms(cf_task *task)
{
	const long *ms = cf_task_arg(task, NULL);

	atomic_fetch_add(&started, 1);
	if (*ms < 0)
		return cf_task_fail(task, 22, "cannot sleep %ld ms", *ms);
	check_sleep_ms(*ms);
	return cf_task_return(task, ms, sizeof(*ms));
}

static const char *name(enum outcome_state s)
{
	switch (s) {
	case OUTCOME_DONE: return "DONE";
	case OUTCOME_FAILED: return "FAILED";
	case OUTCOME_TIMED_OUT: return "TIMED_OUT";
	default: return "NONE (not filled in)";
	}
}

static void mixed(void)
{
	const long ms[] = { 50, 1000, 60, -1, 1500 };
	const enum outcome_state want[] = { OUTCOME_DONE, OUTCOME_TIMED_OUT, OUTCOME_DONE,
					    OUTCOME_FAILED, OUTCOME_TIMED_OUT };
	struct outcome out[5];
	cf_executor *ex = check_thread_pool(5);
	double start = check_now();
	size_t done = run_with_deadline(ex, ms, 5, 0.4, out);
	double took = check_now() - start;

	for (int i = 0; i < 5; i++)
		CHECK(out[i].state == want[i], "task %d (%ld ms): %s, expected %s", i, ms[i],
		      name(out[i].state), name(want[i]));
	CHECK(out[0].value == 50 && out[2].value == 60, "values %ld and %ld, expected 50 and 60",
	      out[0].value, out[2].value);
	CHECK(strcmp(out[3].error, "cannot sleep -1 ms") == 0,
	      "the failed task's message is \"%s\", expected \"cannot sleep -1 ms\"", out[3].error);
	CHECK(done == 2, "returned %zu, expected 2 (tasks done in time)", done);
	CHECK(took < 0.7, "returned after %.2f s; the deadline was 0.4 s", took);
	CHECK(took > 0.35, "returned after %.2f s, before the deadline (0.4 s), although "
	      "two tasks were still running", took);
	cf_executor_free(ex);
}

static void one_deadline(void)
{
	enum { N = 6 };
	long ms[N];
	struct outcome out[N];
	cf_executor *ex = check_thread_pool(N);

	for (int i = 0; i < N; i++)
		ms[i] = 800;
	double start = check_now();
	run_with_deadline(ex, ms, N, 0.2, out);
	double took = check_now() - start;
	CHECK(took < 0.5, "six tasks of 0.8 s, deadline 0.2 s, but it took %.2f s: is the "
	      "timeout applied to each future instead of to the whole batch?", took);
	for (int i = 0; i < N; i++)
		CHECK(out[i].state == OUTCOME_TIMED_OUT, "task %d: %s, expected TIMED_OUT", i,
		      name(out[i].state));
	cf_executor_free(ex);
}

static void cancels(void)
{
	const long ms[] = { 100, 600, 600, 600 };
	struct outcome out[4];
	cf_executor *ex = check_thread_pool(1);

	run_with_deadline(ex, ms, 4, 0.3, out);
	CHECK(out[0].state == OUTCOME_DONE, "task 0: %s, expected DONE", name(out[0].state));
	for (int i = 1; i < 4; i++)
		CHECK(out[i].state == OUTCOME_TIMED_OUT, "task %d: %s, expected TIMED_OUT", i,
		      name(out[i].state));
	cf_executor_free(ex);   /* waits for the task that was running */
	long n = atomic_load(&started);
	CHECK(n == 2, "%ld tasks ran on the one worker; only 2 had started by the deadline: "
	      "cancel the ones that had not", n);
}

static void early(void)
{
	const long ms[] = { 10, 20, 30 };
	struct outcome out[3];
	cf_executor *ex = check_thread_pool(3);
	double start = check_now();
	size_t done = run_with_deadline(ex, ms, 3, 5.0, out);
	double took = check_now() - start;

	CHECK(done == 3, "returned %zu, expected 3", done);
	CHECK(took < 0.5, "every task was done after 30 ms, but it returned after %.2f s: "
	      "do not wait for the deadline when there is nothing left to wait for", took);
	cf_executor_free(ex);
}

/* The caller sleeps until the deadline: two tasks outlast it. */
static void asleep(void)
{
	const long ms[] = { 1500, 1500, 100 };
	struct outcome out[3];
	cf_executor *ex = check_thread_pool(3);
	struct check_wait w;

	check_wait_begin(&w);
	run_with_deadline(ex, ms, 3, 0.6, out);
	check_wait_end(&w);
	CHECK_WAITED_ASLEEP(w, "cf_wait with the time left as its timeout.");
	cf_executor_free(ex);
}

static void releases(void)
{
	const long ms[] = { 10, 500, -5 };
	struct outcome out[3];
	cf_executor *ex = check_thread_pool(2);

	run_with_deadline(ex, ms, 3, 0.1, out);
	cf_executor_free(ex);
	CHECK(cf_futures_alive() == 0, "%zu futures still alive: release every future",
	      cf_futures_alive());
}

int main(void)
{
	check_begin("02-timeout");
	check_run("done, failed and timed-out tasks in one batch, deadline 0.4 s", mixed, 10);
	check_run("one deadline for the batch, not one per future", one_deadline, 10);
	check_run("tasks that had not started are cancelled", cancels, 10);
	check_run("returns as soon as everything is done", early, 10);
	check_run("the caller sleeps until the deadline (no busy polling)", asleep, 10);
	check_run("every future is released", releases, 10);
	return check_end();
}
