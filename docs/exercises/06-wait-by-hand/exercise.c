/* Exercise 6: wait(FIRST_EXCEPTION) by hand, with one mutex and one
 * condition variable.
 *
 * cf_wait() (chapter 3) lets a thread sleep until the first of many
 * futures fails, or all are done.  Build the same from scratch for the
 * hand-made futures of exercise.h.
 * Statement: docs/exercises/06-wait-by-hand/README.md
 * Check it:  make exercise EX=6
 */
#include <errno.h>
#include <stdlib.h>

#include "exercise.h"

int group_init(struct group *g, size_t n)
{
	g->n = n;
	g->n_done = 0;
	g->n_failed = 0;
	g->slots = calloc(n ? n : 1, sizeof(*g->slots));
	if (!g->slots)
		return ENOMEM;
	pthread_mutex_init(&g->lock, NULL);
	/* TODO: group_wait measures its timeout; which clock should the
	 * condition variable use for pthread_cond_timedwait? */
	pthread_cond_init(&g->changed, NULL);
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
	/* TODO: wake whoever waits. */
	pthread_mutex_unlock(&g->lock);
}

int group_wait(struct group *g, enum when when, double timeout, size_t *n_done)
{
	/* TODO: wait, under the lock, until the condition holds or the
	 * deadline passes. */
	(void)when;
	(void)timeout;
	if (n_done)
		*n_done = g->n_done;
	return ETIMEDOUT;
}
