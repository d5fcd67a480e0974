/* The checker of exercise 1: runs collect_as_completed() for real on a
 * thread pool and checks the order, the time and the futures left. */
#define _GNU_SOURCE
#include <stdlib.h>

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
	check_run("no tasks: 0 results", nothing, 5);
	check_run("every future is released", releases, 5);
	check_run("a failed submit gives -1 and leaks nothing", after_shutdown, 5);
	return check_end();
}
