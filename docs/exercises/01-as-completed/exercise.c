/* Exercise 1: collect results with as_completed.
 *
 * This version works, but it reads the futures in SUBMISSION order, like
 *     for f in futures: f.result()
 * so order[] comes out as 0, 1, 2, ... whatever finishes first.  Make it
 * report the order in which the tasks complete, like
 *     for f in as_completed(futures): ...
 * Statement: docs/exercises/01-as-completed/README.md
 * Check it:  make exercise EX=1
 */
#include <stdlib.h>

#include "exercise.h"

long collect_as_completed(cf_executor *ex, const long *ms, size_t n, size_t *order)
{
	cf_future **futures = calloc(n + 1, sizeof(*futures));
	long collected = 0;

	if (!futures)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (cf_submit(ex, nap_ms, &ms[i], sizeof(ms[i]), &futures[i]) != CF_OK) {
			collected = -1;
			goto out;
		}
	}

	/* TODO: this loop waits for futures[0], then futures[1], ...
	 * Replace it with cf_as_completed_new / cf_as_completed_next, and
	 * find out which index each completed future has. */
	for (size_t i = 0; i < n; i++) {
		if (cf_future_result(futures[i], CF_FOREVER, NULL, NULL) != CF_OK) {
			collected = -1;
			goto out;
		}
		order[collected++] = i;
	}

out:
	for (size_t i = 0; i < n; i++)
		if (futures[i])
			cf_future_release(futures[i]);
	free(futures);
	return collected;
}
