/* A WRONG solution of exercise 3, kept to prove that the checker sees it.
 *
 * What is wrong: after the first failure it calls
 * cf_shutdown(ex, false, true) to get rid of the tasks that have not
 * started.  That does cancel them, but the executor is not this
 * function's to shut down: the caller made it and may share it with the
 * rest of the program.  Shutting it down cancels everybody's pending
 * tasks, not only this call's, and makes every later cf_submit fail.
 * Cancel your own futures instead, one by one, with cf_future_cancel.
 * Caught by: only the call's own futures are cancelled: the executor goes on
 */
#include <stdio.h>
#include <stdlib.h>

#include "exercise.h"

int run_until_first_error(cf_executor *ex, const struct item *items, size_t n, long *results,
			  size_t *failed_index, char *error, size_t cap)
{
	cf_future **futures = calloc(n + 1, sizeof(*futures));
	int rc = 0;

	if (!futures)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (cf_submit(ex, check_item, &items[i], sizeof(items[i]), &futures[i]) != CF_OK) {
			*failed_index = i;
			snprintf(error, cap, "cannot submit");
			rc = -1;
			goto out;
		}

	cf_wait(futures, n, CF_FOREVER, CF_FIRST_EXCEPTION, NULL, NULL, NULL, NULL);

	for (size_t i = 0; i < n && rc == 0; i++) {
		const cf_error *e;

		if (cf_future_done(futures[i]) &&
		    cf_future_exception(futures[i], 0, &e) == CF_OK && e) {
			*failed_index = i;
			snprintf(error, cap, "%s", e->message);
			rc = -1;
		}
	}
	if (rc != 0) {
		cf_shutdown(ex, false, true);   /* the mistake: not ours to stop */
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const void *data;

		if (cf_future_result(futures[i], 0, &data, NULL) != CF_OK) {
			*failed_index = i;
			snprintf(error, cap, "no result");
			rc = -1;
			goto out;
		}
		results[i] = *(const long *)data;
	}

out:
	for (size_t i = 0; i < n; i++)
		if (futures[i])
			cf_future_release(futures[i]);
	free(futures);
	return rc;
}
