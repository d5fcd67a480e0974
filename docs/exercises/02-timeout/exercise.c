/* Exercise 2: a deadline for a batch of tasks.
 *
 * This version waits for every task with no bound at all, like
 *     [f.result() for f in futures]
 * so one task that hangs holds everything up.  Make the whole batch
 * respect ONE deadline, like
 *     done, not_done = wait(futures, timeout=timeout)
 * Statement: docs/exercises/02-timeout/README.md
 * Check it:  make exercise EX=2
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exercise.h"

size_t run_with_deadline(cf_executor *ex, const long *ms, size_t n, double timeout,
			 struct outcome *out)
{
	cf_future **futures = calloc(n + 1, sizeof(*futures));
	size_t done = 0;

	(void)timeout;          /* TODO: use it */
	if (!futures)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (cf_submit(ex, nap_ms, &ms[i], sizeof(ms[i]), &futures[i]) != CF_OK)
			futures[i] = NULL;

	for (size_t i = 0; i < n; i++) {
		const void *data;
		const cf_error *error;

		memset(&out[i], 0, sizeof(out[i]));
		if (!futures[i]) {
			out[i].state = OUTCOME_FAILED;
			strcpy(out[i].error, "not submitted");
			continue;
		}
		/* TODO: CF_FOREVER waits as long as the task takes.  One
		 * deadline for the whole batch, not one per future; tasks
		 * not done by then are TIMED_OUT, and those not started are
		 * cancelled. */
		cf_status st = cf_future_result(futures[i], CF_FOREVER, &data, NULL);
		if (st == CF_OK) {
			out[i].state = OUTCOME_DONE;
			out[i].value = *(const long *)data;
			done++;
		} else if (st == CF_TASK_FAILED &&
			   cf_future_exception(futures[i], 0, &error) == CF_OK && error) {
			out[i].state = OUTCOME_FAILED;
			snprintf(out[i].error, sizeof(out[i].error), "%s", error->message);
		} else {
			out[i].state = OUTCOME_FAILED;
			snprintf(out[i].error, sizeof(out[i].error), "%s", cf_strerror(st));
		}
	}

	for (size_t i = 0; i < n; i++)
		if (futures[i])
			cf_future_release(futures[i]);
	free(futures);
	return done;
}
