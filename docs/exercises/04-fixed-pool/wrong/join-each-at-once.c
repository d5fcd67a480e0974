/* A WRONG solution of exercise 4, kept to prove that the checker sees it.
 *
 * What is wrong: it keeps to `workers` threads by joining each thread
 * right after creating it.  Never more than `workers` threads, each task
 * once, nothing leaked, and no parallelism at all: the tasks run one after
 * the other.  Start every worker first, and join them only when all are
 * running.
 * Caught by: the workers run in parallel, never more than 4 at once
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "exercise.h"

struct pool {
	atomic_long next;
	long n;
	void (*fn)(long i, void *ctx);
	void *ctx;
};

static void *worker(void *arg)
{
	struct pool *p = arg;
	long i;

	while ((i = atomic_fetch_add(&p->next, 1)) < p->n)
		p->fn(i, p->ctx);
	return NULL;
}

int run_all(long n, int workers, void (*fn)(long i, void *ctx), void *ctx)
{
	struct pool p = { .n = n, .fn = fn, .ctx = ctx };
	long count = workers < n ? workers : n;

	atomic_init(&p.next, 0);
	for (long k = 0; k < count; k++) {
		pthread_t t;
		int err = pthread_create(&t, NULL, worker, &p);

		if (err)
			return err;
		pthread_join(t, NULL);  /* the mistake: waits before starting the next */
	}
	return 0;
}
