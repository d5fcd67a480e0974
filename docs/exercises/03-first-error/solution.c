/* Exercise 3, a reference solution: stop at the first error.
 *
 * cf_wait(FIRST_EXCEPTION) returns when a task fails or when all are done.
 * Among the futures done at that moment, the failed one is the first
 * failure (more than one may have failed by then: any of them is a fair
 * answer, we take the first we meet).  Then everything not done is
 * cancelled; cancel only succeeds for tasks that have not started. */
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
		for (size_t i = 0; i < n; i++)
			if (!cf_future_done(futures[i]))
				cf_future_cancel(futures[i]);
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
