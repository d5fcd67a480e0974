/* Exercise 10: find the task size where the process pool starts to pay off. */
#ifndef EXERCISE_10_H
#define EXERCISE_10_H

#include <stddef.h>

#include "cf.h"

/* The task the checker gives you: its argument is one long, a number of
 * microseconds of CPU work (the calibrated spin of workloads/spin.h); it
 * does that work and returns a uint64_t. */
int spin_task(cf_task *task);

/* Runs `tasks` spin_task tasks of `work_us` microseconds each on ex (a
 * process pool whose workers are already started), one task per item
 * (chunksize 1, Python's default), waits for every result, and returns
 * the wall time this took, in seconds.  Returns a negative value if
 * anything failed. */
double time_pool(cf_executor *ex, long work_us, long tasks);

/* Given a sweep over task sizes sizes[0] < sizes[1] < ... < sizes[n-1]
 * (microseconds) with the measured times of the plain loop, serial_s[k],
 * and of the pool, pool_s[k], for the same work: returns the smallest size
 * from which the pool is faster (strictly) at that size AND every larger
 * size of the sweep, or -1 if it is not faster at the largest. */
long breakeven(const long *sizes, const double *serial_s, const double *pool_s, size_t n);

#endif
