/* Exercise 3: stop at the first error. */
#ifndef EXERCISE_03_H
#define EXERCISE_03_H

#include <stddef.h>

#include "cf.h"

/* One item of work: the task sleeps `ms` milliseconds, then fails with
 * "item V is negative" when value < 0, else returns value * 2 (a long). */
struct item {
	long value;
	long ms;
};

/* The task the checker gives you; its argument is one struct item. */
int check_item(cf_task *task);

/* Runs check_item on every item on ex.
 * All succeed: results[i] gets item i's result; returns 0.
 * One fails: returns -1 AS SOON AS the first failure is known, with
 * *failed_index set to the failed item's index and its message copied
 * into error[0..cap).  "First" is first in time, not in the array.  The
 * tasks that have not started are cancelled; the ones still running are
 * left to finish (their results are dropped).
 * Every future is released before returning, on every path. */
int run_until_first_error(cf_executor *ex, const struct item *items, size_t n, long *results,
			  size_t *failed_index, char *error, size_t cap);

#endif
