/* A WRONG solution of exercise 3, kept to prove that the checker sees it.
 *
 * What is wrong: it watches for the first failure by asking every future
 * "done yet?" in a loop that never sleeps.  It finds the right failure,
 * at the right time, but burns a whole core until then.
 * cf_wait(CF_FIRST_EXCEPTION) sleeps until a task fails or all are done.
 * Caught by: the caller sleeps until the first failure (no busy polling)
 */
#include <stdio.h>
#include <stdlib.h>

#include "exercise.h"

/* The index of a failed future among those done, n if none; sets
 * *all_done. */
static size_t look(cf_future **futures, size_t n, int *all_done)
{
	*all_done = 1;
	for (size_t i = 0; i < n; i++) {
		const cf_error *e;

		if (!cf_future_done(futures[i])) {
			*all_done = 0;
			continue;
		}
		if (cf_future_exception(futures[i], 0, &e) == CF_OK && e)
			return i;
	}
	return n;
}

int run_until_first_error(cf_executor *ex, const struct item *items, size_t n, long *results,
			  size_t *failed_index, char *error, size_t cap)
{
	cf_future **futures = calloc(n + 1, sizeof(*futures));
	size_t bad = n;
	int all_done = 0, rc = 0;

	if (!futures)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (cf_submit(ex, check_item, &items[i], sizeof(items[i]), &futures[i]) != CF_OK) {
			*failed_index = i;
			snprintf(error, cap, "cannot submit");
			rc = -1;
			goto out;
		}

	while (bad == n && !all_done)
		bad = look(futures, n, &all_done);      /* the mistake: no sleep */

	if (bad < n) {
		const cf_error *e;

		cf_future_exception(futures[bad], 0, &e);
		*failed_index = bad;
		snprintf(error, cap, "%s", e->message);
		for (size_t i = 0; i < n; i++)
			if (!cf_future_done(futures[i]))
				cf_future_cancel(futures[i]);
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const void *data;

		cf_future_result(futures[i], 0, &data, NULL);
		results[i] = *(const long *)data;
	}

out:
	for (size_t i = 0; i < n; i++)
		if (futures[i])
			cf_future_release(futures[i]);
	free(futures);
	return rc;
}
