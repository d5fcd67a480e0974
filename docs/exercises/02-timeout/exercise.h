/* Exercise 2: a deadline for a batch of tasks. */
#ifndef EXERCISE_02_H
#define EXERCISE_02_H

#include <stddef.h>

#include "cf.h"

/* The task the checker gives you: sleeps *(const long *)arg milliseconds
 * and returns that long; fails with "cannot sleep N ms" when it is
 * negative. */
int nap_ms(cf_task *task);

enum outcome_state {
	OUTCOME_NONE = 0,       /* not filled in */
	OUTCOME_DONE,           /* finished in time: `value` holds its result */
	OUTCOME_FAILED,         /* failed in time: `error` holds its message */
	OUTCOME_TIMED_OUT,      /* not finished when the deadline passed */
};

struct outcome {
	enum outcome_state state;
	long value;
	char error[CF_ERROR_MESSAGE_MAX];
};

/* Submits nap_ms(ms[i]) for every i to ex and waits at most `timeout`
 * seconds IN ALL, counted from the call, then fills out[i] for every i.
 * Tasks that have not started by then are cancelled; tasks still running
 * are left to finish on their own (their results are dropped).  Returns
 * as soon as every task is done or the deadline passes, whichever comes
 * first, and the number of DONE outcomes.  Releases every future. */
size_t run_with_deadline(cf_executor *ex, const long *ms, size_t n, double timeout,
			 struct outcome *out);

#endif
