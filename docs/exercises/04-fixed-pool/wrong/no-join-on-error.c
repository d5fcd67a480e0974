/* A WRONG solution of exercise 4, kept to prove that the checker sees it.
 *
 * What is wrong: when pthread_create fails it returns the error at once,
 * without joining the threads it had already started.  Those threads are
 * still taking indexes from a counter that lives in run_all's stack frame,
 * which no longer exists once it returns, and still calling fn for a
 * caller that believes the work is over.  Every path out of a function
 * that started threads must join them (or hand them to someone who will).
 * Caught by: after a failed pthread_create, the threads started are joined
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
	pthread_t *threads;

	if (count < 1)
		return 0;
	atomic_init(&p.next, 0);
	threads = calloc(count, sizeof(*threads));
	if (!threads)
		return 12;      /* ENOMEM */
	for (long created = 0; created < count; created++) {
		int err = pthread_create(&threads[created], NULL, worker, &p);
		if (err) {
			free(threads);
			return err;     /* the mistake: the threads made so far run on */
		}
	}
	for (long t = 0; t < count; t++)
		pthread_join(threads[t], NULL);
	free(threads);
	return 0;
}
