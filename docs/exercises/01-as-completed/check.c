/* The checker of exercise 1: runs collect_as_completed() for real on a
 * thread pool and checks the order, the time, the CPU the waiting cost
 * and the futures left. */
#define _GNU_SOURCE
#include <stdlib.h>

#include "cf_testing.h"
#include "exercise.h"
#include "check.h"

int nap_ms(cf_task *task)
{
	const long *ms = cf_task_arg(task, NULL);

	check_sleep_ms(*ms);
	return cf_task_return(task, ms, sizeof(*ms));
}

static void seed(void)
{
	const long ms[] = { 300, 100, 200 };
	size_t order[3] = { 9, 9, 9 };
	cf_executor *ex = check_thread_pool(3);
	double start = check_now();
	long got = collect_as_completed(ex, ms, 3, order);
	double took = check_now() - start;

	CHECK(got == 3, "returned %ld, expected 3", got);
	CHECK(order[0] == 1 && order[1] == 2 && order[2] == 0,
	      "order is %zu, %zu, %zu; the 100 ms task (index 1) finishes first, then "
	      "the 200 ms one (2), then the 300 ms one (0): expected 1, 2, 0",
	      order[0], order[1], order[2]);
	CHECK(took < 0.5, "took %.2f s: the three tasks should overlap (about 0.3 s)", took);
	cf_executor_free(ex);
}

static void many(void)
{
	enum { N = 12 };
	long ms[N];
	size_t order[N];
	cf_executor *ex = check_thread_pool(N);

	/* Distinct durations 25 ms apart, in a scrambled order. */
	for (int i = 0; i < N; i++)
		ms[i] = 30 + 25L * ((i * 5) % N);
	long got = collect_as_completed(ex, ms, N, order);
	CHECK(got == N, "returned %ld, expected %d", got, N);
	for (int k = 1; k < N; k++)
		CHECK(ms[order[k - 1]] < ms[order[k]],
		      "position %d: task %zu (%ld ms) is reported after task %zu (%ld ms)",
		      k, order[k], ms[order[k]], order[k - 1], ms[order[k - 1]]);
	cf_executor_free(ex);
}

/* On 2 workers the order of completion is not the order of the sizes: a
 * short task that waits in the queue can finish after a long one.  An
 * order worked out afterwards from the sizes (sorting by ms) gets this
 * wrong; only watching the futures complete gets it right. */
static void queued(void)
{
	/* Worker A runs task 0 (ends at 300 ms); worker B runs 1, 2, 3 (end
	 * at 60, 120, 180 ms), then 4, which ends at 180 + 250 = 430 ms. */
	const long ms[] = { 300, 60, 60, 60, 250 };
	const size_t want[] = { 1, 2, 3, 0, 4 };
	size_t order[5] = { 9, 9, 9, 9, 9 };
	cf_executor *ex = check_thread_pool(2);
	long got = collect_as_completed(ex, ms, 5, order);

	CHECK(got == 5, "returned %ld, expected 5", got);
	for (int k = 0; k < 5; k++)
		CHECK(order[k] == want[k],
		      "order is %zu, %zu, %zu, %zu, %zu; expected 1, 2, 3, 0, 4.\n"
		      "    On 2 workers task 4 (250 ms) waits in the queue until 180 ms and ends "
		      "at 430 ms,\n    after task 0 (300 ms): the order of completion depends on "
		      "the pool, not only on\n    the sizes.  Record each future as "
		      "cf_as_completed_next hands it to you; do not\n    work the order out "
		      "afterwards", order[0], order[1], order[2], order[3], order[4]);
	cf_executor_free(ex);
}

/* The caller sleeps while the tasks run. */
static void asleep(void)
{
	const long ms[] = { 600, 200, 400 };
	size_t order[3];
	cf_executor *ex = check_thread_pool(3);
	struct check_wait w;

	check_wait_begin(&w);
	long got = collect_as_completed(ex, ms, 3, order);
	check_wait_end(&w);
	CHECK(got == 3, "returned %ld, expected 3", got);
	CHECK_WAITED_ASLEEP(w, "cf_as_completed_next (or cf_wait with "
			    "CF_FIRST_COMPLETED).");
	cf_executor_free(ex);
}

static void nothing(void)
{
	size_t order[1];
	cf_executor *ex = check_thread_pool(2);
	long got = collect_as_completed(ex, NULL, 0, order);

	CHECK(got == 0, "no tasks: returned %ld, expected 0", got);
	cf_executor_free(ex);
}

static void releases(void)
{
	const long ms[] = { 20, 10, 30, 5 };
	size_t order[4];
	cf_executor *ex = check_thread_pool(2);

	CHECK(collect_as_completed(ex, ms, 4, order) == 4, "expected 4 results");
	cf_executor_free(ex);
	CHECK(cf_futures_alive() == 0, "%zu futures are still alive after the call: "
	      "release every future you got from cf_submit", cf_futures_alive());
}

static void after_shutdown(void)
{
	const long ms[] = { 10, 10 };
	size_t order[2];
	cf_executor *ex = check_thread_pool(2);

	cf_shutdown(ex, true, false);
	long got = collect_as_completed(ex, ms, 2, order);
	CHECK(got == -1, "on a shut-down executor cf_submit fails; expected -1, got %ld", got);
	cf_executor_free(ex);
	CHECK(cf_futures_alive() == 0, "%zu futures still alive", cf_futures_alive());
}

int main(void)
{
	check_begin("01-as-completed");
	check_run("the seed: tasks of 300, 100, 200 ms complete in the order 1, 2, 0", seed, 10);
	check_run("12 tasks are reported in the order they finish", many, 10);
	check_run("on 2 workers, a queued short task finishes after a long one", queued, 10);
	check_run("the caller sleeps while it waits (no busy polling)", asleep, 10);
	check_run("no tasks: 0 results", nothing, 5);
	check_run("every future is released", releases, 5);
	check_run("a failed submit gives -1 and leaks nothing", after_shutdown, 5);
	return check_end();
}
