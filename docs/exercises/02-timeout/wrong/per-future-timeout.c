/* A WRONG solution of exercise 2, kept to prove that the checker sees it.
 *
 * What is wrong: it gives EACH future the whole timeout
 * (cf_future_result(f, timeout)), one after the other, so n tasks that
 * all outlast it keep the caller waiting n times the timeout.  The
 * deadline is for the batch: compute it once, and wait for what is left
 * of it (cf_wait with CF_ALL_COMPLETED does exactly that).
 * Caught by: one deadline for the batch, not one per future
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

	if (!futures)
		return 0;
	memset(out, 0, n * sizeof(*out));
	for (size_t i = 0; i < n; i++)
		if (cf_submit(ex, nap_ms, &ms[i], sizeof(ms[i]), &futures[i]) != CF_OK)
			futures[i] = NULL;

	for (size_t i = 0; i < n; i++) {
		const void *data;
		const cf_error *error;

		if (!futures[i]) {
			out[i].state = OUTCOME_FAILED;
			strcpy(out[i].error, "not submitted");
			continue;
		}
		cf_status st = cf_future_result(futures[i], timeout, &data, NULL);
		if (st == CF_OK) {
			out[i].state = OUTCOME_DONE;
			out[i].value = *(const long *)data;
			done++;
		} else if (st == CF_TIMEOUT) {
			cf_future_cancel(futures[i]);
			out[i].state = OUTCOME_TIMED_OUT;
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
