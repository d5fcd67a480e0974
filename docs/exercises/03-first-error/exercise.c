/* Exercise 3: stop at the first error.
 *
 * This version reads the results in submission order and stops at the
 * first failure IT MEETS, which is not the first to happen: a slow task
 * early in the array hides a fast failure behind it.  And it never
 * cancels the work that is now pointless.  Make it behave like
 *     done, not_done = wait(futures, return_when=FIRST_EXCEPTION)
 *     for f in not_done: f.cancel()
 * Statement: docs/exercises/03-first-error/README.md
 * Check it:  make exercise EX=3
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

	/* TODO: wait for the first failure in time (cf_wait with
	 * CF_FIRST_EXCEPTION), then cancel what has not started. */
	for (size_t i = 0; i < n; i++) {
		const void *data;
		cf_status st = cf_future_result(futures[i], CF_FOREVER, &data, NULL);

		if (st == CF_OK) {
			results[i] = *(const long *)data;
			continue;
		}
		const cf_error *e = NULL;
		cf_future_exception(futures[i], 0, &e);
		*failed_index = i;
		snprintf(error, cap, "%s", e ? e->message : cf_strerror(st));
		rc = -1;
		break;
	}

out:
	for (size_t i = 0; i < n; i++)
		if (futures[i])
			cf_future_release(futures[i]);
	free(futures);
	return rc;
}
