/* A WRONG solution of exercise 6, kept to prove that the checker sees it.
 *
 * What is wrong: it tests the condition with `if` instead of `while`
 * around pthread_cond_wait.  A wake-up only means "something changed,
 * look again": here every completion wakes every waiter (a broadcast),
 * so a thread waiting for ALL_COMPLETED wakes at the first completion and,
 * not looking again, returns while two slots are still pending.  Spurious
 * wake-ups, which POSIX allows, would do the same.  Wait in a loop that
 * tests the condition each time.
 * Caught by: ALL_COMPLETED waits for all, failures included (0.3 s)
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "exercise.h"

int group_init(struct group *g, size_t n)
{
	pthread_condattr_t attr;

	g->n = n;
	g->n_done = 0;
	g->n_failed = 0;
	g->slots = calloc(n ? n : 1, sizeof(*g->slots));
	if (!g->slots)
		return ENOMEM;
	pthread_mutex_init(&g->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&g->changed, &attr);
	pthread_condattr_destroy(&attr);
	return 0;
}

void group_destroy(struct group *g)
{
	pthread_cond_destroy(&g->changed);
	pthread_mutex_destroy(&g->lock);
	free(g->slots);
}

void group_complete(struct group *g, size_t i, long value, bool failed)
{
	pthread_mutex_lock(&g->lock);
	g->slots[i].value = value;
	g->slots[i].state = failed ? SLOT_FAILED : SLOT_OK;
	g->n_done++;
	if (failed)
		g->n_failed++;
	pthread_cond_broadcast(&g->changed);
	pthread_mutex_unlock(&g->lock);
}

static bool holds(const struct group *g, enum when when)
{
	switch (when) {
	case WHEN_FIRST_COMPLETED:
		return g->n_done > 0 || g->n == 0;
	case WHEN_FIRST_EXCEPTION:
		return g->n_failed > 0 || g->n_done == g->n;
	case WHEN_ALL_COMPLETED:
	default:
		return g->n_done == g->n;
	}
}


int group_wait(struct group *g, enum when when, double timeout, size_t *n_done)
{
	struct timespec deadline;
	int rc = 0;

	if (timeout >= 0) {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += (time_t)timeout;
		deadline.tv_nsec += (long)((timeout - (double)(time_t)timeout) * 1e9);
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&g->lock);
	if (!holds(g, when)) {          /* the mistake: `if`, not `while` */
		if (timeout < 0)
			pthread_cond_wait(&g->changed, &g->lock);
		else
			rc = pthread_cond_timedwait(&g->changed, &g->lock, &deadline);
	}
	if (n_done)
		*n_done = g->n_done;
	pthread_mutex_unlock(&g->lock);
	return rc;
}
