/* Exercise 10: find the task size where the process pool starts to pay off.
 *
 * A process pool costs something per task (a message out, a message back,
 * a wake-up on each side) and gains from running on several cores.  For a
 * small task the cost wins, for a large one the cores do.  Measure where
 * the lines cross.
 * Statement: docs/exercises/10-process-payoff/README.md
 * Check it:  make exercise EX=10
 */
#include "exercise.h"

double time_pool(cf_executor *ex, long work_us, long tasks)
{
	/* TODO: an array of `tasks` longs, each work_us; cf_map with
	 * chunksize 1; read every result; time it all with CLOCK_MONOTONIC. */
	(void)ex;
	(void)work_us;
	(void)tasks;
	return 0.0;
}

long breakeven(const long *sizes, const double *serial_s, const double *pool_s, size_t n)
{
	/* TODO: the smallest size from which the pool is faster at every
	 * larger size, or -1. */
	(void)serial_s;
	(void)pool_s;
	return n > 0 ? sizes[0] : -1;
}
