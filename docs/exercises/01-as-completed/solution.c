/* Exercise 1, a reference solution: collect results with as_completed. */
#include <stdlib.h>

#include "exercise.h"

long collect_as_completed(cf_executor *ex, const long *ms, size_t n, size_t *order)
{
	cf_future **futures = calloc(n + 1, sizeof(*futures));
	cf_as_completed *it = NULL;
	cf_future *f;
	cf_status st;
	long collected = 0;

	if (!futures)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (cf_submit(ex, nap_ms, &ms[i], sizeof(ms[i]), &futures[i]) != CF_OK) {
			collected = -1;
			goto out;
		}
	}

	st = cf_as_completed_new(futures, n, CF_FOREVER, &it);
	while (st == CF_OK && (st = cf_as_completed_next(it, &f)) == CF_OK) {
		/* The iterator gives the future itself; its index is where we
		 * stored it.  (A map from future to index, as the seed's
		 * future_to_id dict, would avoid the scan for large n.) */
		size_t i = 0;
		while (futures[i] != f)
			i++;
		if (cf_future_result(f, 0, NULL, NULL) != CF_OK)
			break;
		order[collected++] = i;
	}
	if (st != CF_END)
		collected = -1;

out:
	cf_as_completed_free(it);
	for (size_t i = 0; i < n; i++)
		if (futures[i])
			cf_future_release(futures[i]);
	free(futures);
	return collected;
}
