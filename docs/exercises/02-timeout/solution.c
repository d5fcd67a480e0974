/* Exercise 2, a reference solution: one deadline for a batch of tasks.
 *
 * cf_wait(ALL_COMPLETED) with the timeout does the waiting: it returns when
 * every future is done or when the time is up, whichever comes first, so
 * the deadline covers the batch, not each future.  Then every future is
 * classified without waiting (timeout 0). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exercise.h"

size_t run_with_deadline(cf_executor *ex, const long *ms, size_t n, double timeout,
			 struct outcome *out)
{
	cf_future **futures = calloc(n + 1, sizeof(*futures));
	cf_future **live = calloc(n + 1, sizeof(*live));
	size_t n_live = 0, done = 0;

	if (!futures || !live) {
		free(futures);
		free(live);
		return 0;
	}
	memset(out, 0, n * sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		if (cf_submit(ex, nap_ms, &ms[i], sizeof(ms[i]), &futures[i]) == CF_OK) {
			live[n_live++] = futures[i];
		} else {
			futures[i] = NULL;
			out[i].state = OUTCOME_FAILED;
			strcpy(out[i].error, "not submitted");
		}
	}

	/* CF_OK or CF_TIMEOUT: either way the futures say where they are. */
	cf_wait(live, n_live, timeout, CF_ALL_COMPLETED, NULL, NULL, NULL, NULL);

	for (size_t i = 0; i < n; i++) {
		const void *data;
		const cf_error *error;

		if (!futures[i])
			continue;
		if (!cf_future_done(futures[i])) {
			/* Not started: cancelled.  Running: it goes on, and
			 * its result is dropped when we release it. */
			cf_future_cancel(futures[i]);
			out[i].state = OUTCOME_TIMED_OUT;
			continue;
		}
		cf_status st = cf_future_result(futures[i], 0, &data, NULL);
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
	free(live);
	return done;
}
