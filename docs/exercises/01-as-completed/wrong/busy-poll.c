/* A WRONG solution of exercise 1, kept to prove that the checker sees it.
 *
 * What is wrong: it finds the order by asking every future "done yet?" in
 * a loop that never sleeps.  The order comes out right, but the caller
 * burns a whole core for as long as the tasks run: a core the tasks (or
 * the rest of the machine) could use, and on a loaded machine the loop
 * itself is what delays the answer.  cf_as_completed_next sleeps until a
 * future completes.
 * Caught by: the caller sleeps while it waits (no busy polling)
 */
#include <stdbool.h>
#include <stdlib.h>

#include "exercise.h"

long collect_as_completed(cf_executor *ex, const long *ms, size_t n, size_t *order)
{
	cf_future **futures = calloc(n + 1, sizeof(*futures));
	bool *seen = calloc(n + 1, sizeof(*seen));
	long collected = 0;

	if (!futures || !seen) {
		free(futures);
		free(seen);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (cf_submit(ex, nap_ms, &ms[i], sizeof(ms[i]), &futures[i]) != CF_OK) {
			collected = -1;
			goto out;
		}
	}
	while ((size_t)collected < n) {
		for (size_t i = 0; i < n; i++) {
			if (!seen[i] && cf_future_done(futures[i])) {
				seen[i] = true;
				order[collected++] = i;
			}
		}
	}

out:
	for (size_t i = 0; i < n; i++)
		if (futures[i])
			cf_future_release(futures[i]);
	free(futures);
	free(seen);
	return collected;
}
