/* Exercise 6: wait(FIRST_EXCEPTION) by hand, with one mutex and one
 * condition variable. */
#ifndef EXERCISE_06_H
#define EXERCISE_06_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

enum slot_state { SLOT_PENDING, SLOT_OK, SLOT_FAILED };

/* One hand-made future. */
struct slot {
	enum slot_state state;
	long value;
};

/* A group of n slots that worker threads complete, and that any number
 * of threads may wait on. */
struct group {
	pthread_mutex_t lock;
	pthread_cond_t changed;         /* signalled when a slot completes */
	size_t n;
	size_t n_done;                  /* slots OK or FAILED */
	size_t n_failed;                /* slots FAILED */
	struct slot *slots;
};

enum when { WHEN_FIRST_COMPLETED, WHEN_FIRST_EXCEPTION, WHEN_ALL_COMPLETED };

/* Sets up g with n pending slots.  Returns 0, or an error number. */
int group_init(struct group *g, size_t n);
void group_destroy(struct group *g);

/* Called by a worker when slot i has finished: records its outcome and
 * wakes whoever waits.  Each slot is completed once. */
void group_complete(struct group *g, size_t i, long value, bool failed);

/* Blocks until the condition holds:
 *   WHEN_FIRST_COMPLETED  at least one slot is done (OK or FAILED);
 *   WHEN_FIRST_EXCEPTION  at least one slot FAILED, or all are done;
 *   WHEN_ALL_COMPLETED    all slots are done;
 * or until `timeout` seconds have passed (a negative timeout: no bound).
 * Returns 0 when the condition holds, ETIMEDOUT when time ran out first.
 * Sets *n_done (if not NULL) to the number of done slots at that moment.
 * Any number of threads may wait at the same time.  No busy waiting. */
int group_wait(struct group *g, enum when when, double timeout, size_t *n_done);

#endif
