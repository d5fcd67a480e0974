/* A WRONG solution of exercise 1, kept to prove that the checker sees it.
 *
 * What is wrong: it waits for all the tasks, then works the order out
 * afterwards by sorting the indexes by task size, on the theory that a
 * shorter task finishes first.  With a worker per task that happens to be
 * true; with fewer workers than tasks a short task waits in the queue and
 * can finish after a long one.  The order of completion is something to
 * observe (cf_as_completed_next hands over each future as it completes),
 * not to deduce.
 * Caught by: on 2 workers, a queued short task finishes after a long one
 */
#include <stdlib.h>

#include "exercise.h"

static const long *sizes;

static int by_size(const void *a, const void *b)
{
	long x = sizes[*(const size_t *)a], y = sizes[*(const size_t *)b];

	return (x > y) - (x < y);
}

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
	if (cf_wait(futures, n, CF_FOREVER, CF_ALL_COMPLETED, NULL, NULL, NULL, NULL) != CF_OK) {
		collected = -1;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	sizes = ms;
	qsort(order, n, sizeof(*order), by_size);
	collected = (long)n;

out:
	for (size_t i = 0; i < n; i++)
		if (futures[i])
			cf_future_release(futures[i]);
	free(futures);
	return collected;
}
