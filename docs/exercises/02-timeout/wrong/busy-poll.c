/* A WRONG solution of exercise 2, kept to prove that the checker sees it.
 *
 * What is wrong: it waits by asking every future "done yet?" and reading
 * the clock, over and over, until all are done or the deadline passes.
 * The outcomes come out right, but the caller burns a whole core until
 * the deadline.  cf_wait(CF_ALL_COMPLETED) with the time left as its
 * timeout sleeps until the last task ends or the time is up.
 * Caught by: the caller sleeps until the deadline (no busy polling)
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exercise.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool all_done(cf_future **futures, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (futures[i] && !cf_future_done(futures[i]))
			return false;
	return true;
}

static void classify(cf_future *f, struct outcome *out)
{
	const void *data;
	const cf_error *error;

	if (!cf_future_done(f)) {
		cf_future_cancel(f);
		out->state = OUTCOME_TIMED_OUT;
		return;
	}
	cf_status st = cf_future_result(f, 0, &data, NULL);
	if (st == CF_OK) {
		out->state = OUTCOME_DONE;
		out->value = *(const long *)data;
	} else if (st == CF_TASK_FAILED && cf_future_exception(f, 0, &error) == CF_OK && error) {
		out->state = OUTCOME_FAILED;
		snprintf(out->error, sizeof(out->error), "%s", error->message);
	} else {
		out->state = OUTCOME_FAILED;
		snprintf(out->error, sizeof(out->error), "%s", cf_strerror(st));
	}
}

size_t run_with_deadline(cf_executor *ex, const long *ms, size_t n, double timeout,
			 struct outcome *out)
{
	cf_future **futures = calloc(n + 1, sizeof(*futures));
	double deadline = now() + timeout;
	size_t done = 0;

	if (!futures)
		return 0;
	memset(out, 0, n * sizeof(*out));
	for (size_t i = 0; i < n; i++)
		if (cf_submit(ex, nap_ms, &ms[i], sizeof(ms[i]), &futures[i]) != CF_OK)
			futures[i] = NULL;

	while (!all_done(futures, n) && now() < deadline)
		;       /* the mistake: nothing here sleeps */

	for (size_t i = 0; i < n; i++) {
		if (!futures[i]) {
			out[i].state = OUTCOME_FAILED;
			strcpy(out[i].error, "not submitted");
			continue;
		}
		classify(futures[i], &out[i]);
		if (out[i].state == OUTCOME_DONE)
			done++;
		cf_future_release(futures[i]);
	}
	free(futures);
	return done;
}
