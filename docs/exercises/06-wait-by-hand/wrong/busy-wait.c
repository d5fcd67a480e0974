/* A WRONG solution of exercise 6, kept to prove that the checker sees it.
 *
 * What is wrong: it waits by taking the lock, testing the condition and
 * letting go, over and over, never sleeping.  Every answer is right and
 * on time, but a waiting thread burns a whole core (and fights the
 * completers for the lock).  The condition variable is there so that a
 * waiter can sleep until a completer says something changed.
 * Caught by: no busy waiting
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


static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int group_wait(struct group *g, enum when when, double timeout, size_t *n_done)
{
	double deadline = now() + timeout;
	int rc;

	for (;;) {                      /* the mistake: nothing here sleeps */
		pthread_mutex_lock(&g->lock);
		if (holds(g, when)) {
			rc = 0;
			break;
		}
		if (timeout >= 0 && now() >= deadline) {
			rc = ETIMEDOUT;
			break;
		}
		pthread_mutex_unlock(&g->lock);
	}
	if (n_done)
		*n_done = g->n_done;
	pthread_mutex_unlock(&g->lock);
	return rc;
}
