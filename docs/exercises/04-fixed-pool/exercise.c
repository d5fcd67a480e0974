/* Exercise 4: from a thread per task to a fixed pool.
 *
 * This version is the first thing everyone writes: one thread per task.
 * It is correct, and it creates n threads for n tasks; with n = 100 000 it
 * spends its time creating threads (or fails when the system refuses).
 * Rewrite it as a fixed pool: `workers` threads, created once, that take
 * the next index until there is none left.
 * Statement: docs/exercises/04-fixed-pool/README.md
 * Check it:  make exercise EX=4
 */
#include <pthread.h>
#include <stdlib.h>

#include "exercise.h"

struct one_task {
	pthread_t thread;
	long i;
	void (*fn)(long i, void *ctx);
	void *ctx;
};

static void *run_one(void *arg)
{
	struct one_task *t = arg;

	t->fn(t->i, t->ctx);
	return NULL;
}

int run_all(long n, int workers, void (*fn)(long i, void *ctx), void *ctx)
{
	struct one_task *tasks = calloc(n > 0 ? n : 1, sizeof(*tasks));
	long created = 0;
	int err = 0;

	(void)workers;          /* TODO: at most `workers` threads */
	if (!tasks)
		return 12;      /* ENOMEM */
	/* TODO: one thread per task.  Replace with `workers` threads that
	 * share a counter of the next index to run. */
	for (long i = 0; i < n; i++) {
		tasks[i] = (struct one_task){ .i = i, .fn = fn, .ctx = ctx };
		err = pthread_create(&tasks[i].thread, NULL, run_one, &tasks[i]);
		if (err)
			break;
		created++;
	}
	for (long i = 0; i < created; i++)
		pthread_join(tasks[i].thread, NULL);
	free(tasks);
	return err;
}
