/* Exercise 4, a reference solution: a fixed pool of threads.
 *
 * `workers` threads (never more than there are tasks) take the next
 * index from a shared counter until it passes n.  The counter is the
 * only shared state; an atomic add hands out each index exactly once, so
 * no lock is needed.  A worker that gets a long task simply takes fewer
 * indexes: the load balances itself (the dynamic split of chapter 5). */
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
	pthread_t *threads;
	long created = 0;
	int err = 0;

	if (count < 1)
		return 0;
	atomic_init(&p.next, 0);
	threads = calloc(count, sizeof(*threads));
	if (!threads)
		return 12;      /* ENOMEM */
	for (; created < count; created++) {
		err = pthread_create(&threads[created], NULL, worker, &p);
		if (err)
			break;
	}
	/* With fewer threads than asked for, the ones that exist still
	 * finish every task; we report the error all the same. */
	for (long t = 0; t < created; t++)
		pthread_join(threads[t], NULL);
	free(threads);
	return err;
}
