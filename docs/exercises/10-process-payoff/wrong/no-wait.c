/* A WRONG solution of exercise 10, kept to prove that the checker sees it.
 *
 * What is wrong: time_pool stops the clock when every task has been
 * submitted, not when every result is back.  Submitting only puts a task
 * in a queue; the work, the trip to a worker process and back and the
 * waiting all happen later.  It measures the cost of queueing (and the
 * results are collected after the clock has stopped), so the pool looks
 * faster than it is.  Stop the clock after the last result.
 * Caught by: time_pool waits for the results
 */
#include <stdlib.h>
#include <time.h>

#include "exercise.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double time_pool(cf_executor *ex, long work_us, long tasks)
{
	cf_future **futures = calloc((size_t)tasks + 1, sizeof(*futures));
	int ok = futures != NULL;

	if (!ok)
		return -1;
	double start = now();
	for (long i = 0; i < tasks && ok; i++)
		ok = cf_submit(ex, spin_task, &work_us, sizeof(work_us), &futures[i]) == CF_OK;
	double took = now() - start;    /* the mistake: nothing has run yet */

	for (long i = 0; i < tasks; i++) {
		if (futures[i]) {
			ok = ok && cf_future_result(futures[i], CF_FOREVER, NULL, NULL) == CF_OK;
			cf_future_release(futures[i]);
		}
	}
	free(futures);
	return ok ? took : -1;
}

long breakeven(const long *sizes, const double *serial_s, const double *pool_s, size_t n)
{
	long answer = -1;

	for (size_t k = n; k-- > 0;) {
		if (!(pool_s[k] < serial_s[k]))
			break;
		answer = sizes[k];
	}
	return answer;
}
