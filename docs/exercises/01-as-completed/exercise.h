/* Exercise 1: collect results with as_completed. */
#ifndef EXERCISE_01_H
#define EXERCISE_01_H

#include <stddef.h>

#include "cf.h"

/* The task the checker gives you: sleeps *(const long *)arg milliseconds
 * and returns that same long as its result. */
int nap_ms(cf_task *task);

/* Submits one nap_ms task per entry of ms[0..n) to ex, then collects the
 * results in the order the tasks COMPLETE: order[k] is the index i of the
 * k-th task to finish.  Returns the number of results collected (n), or -1
 * if submitting or collecting failed.  Every future it obtained is
 * released before it returns, whatever happened. */
long collect_as_completed(cf_executor *ex, const long *ms, size_t n, size_t *order);

#endif
