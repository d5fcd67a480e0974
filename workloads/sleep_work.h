/* The sleep workload: the seed's task(n), which sleeps n seconds and
 * returns "Task n completed".  Task i sleeps 3, 1, 2, 3, 1, 2, ... seconds
 * times --scale, then spins --work-us.  Results are reported in completion
 * order, so --check compares them as a multiset.
 */
#ifndef PARLAB_SLEEP_WORK_H
#define PARLAB_SLEEP_WORK_H

#include <stddef.h>
#include <stdint.h>
#include "cli.h"

/* Longest message a sleep task returns, terminating NUL included. */
#define PL_SLEEP_MSG_MAX 32

/* Seconds task `index` sleeps before scaling: the seed's 3, 1, 2, ... */
long pl_sleep_seconds(long index);

/* The task body: sleeps, spins, writes "Task N completed" into out
 * (at least PL_SLEEP_MSG_MAX bytes). */
void pl_sleep_task(long index, double scale, long work_us, char *out);

/* Collects results in completion order.  pl_sleep_collect() prints the
 * line at once when printing (so a student sees them arrive) and keeps it
 * for --check; the first line that cannot be written is reported on
 * stderr at once, no more are printed, and pl_sleep_finish() returns 1.
 * Called from one thread at a time. */
struct pl_sleep_results {
	const struct pl_options *opts;
	char (*messages)[PL_SLEEP_MSG_MAX];     /* kept only for --check */
	long count;
	uint64_t checksum;      /* sum of per-message hashes: order-free */
};

void pl_sleep_begin(struct pl_sleep_results *r, const struct pl_options *o);
void pl_sleep_collect(struct pl_sleep_results *r, const char *message);
/* Summary or nothing, --check, --stats; frees; returns the exit status
 * (0, or 1 when --check fails or some output could not be written). */
int pl_sleep_finish(struct pl_sleep_results *r);

#endif
