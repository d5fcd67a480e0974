/* sleep with raw POSIX threads: the seed's task(n) on a pool built by hand.
 *
 * -j threads pull task indexes from a counter and append each finished
 * message to a completion log; main waits on a condition variable and
 * collects the log as it grows, so lines print the moment a task ends, in
 * completion order.  One mutex guards the counter and the log: a worker
 * takes it once per task, to hand in its last result and take the next
 * index in the same critical section.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sleep_work.h"
#include "stats.h"

static const struct pl_program program = {
	.name = "raw_threads/sleep",
	.summary = "sleep tasks on a fixed set of pthreads, results in completion order",
	.workload = PL_SLEEP,
	.default_workers = 3,
};

struct board {
	pthread_mutex_t lock;
	pthread_cond_t progress;        /* signalled when `done` grows */
	const struct pl_options *opts;
	long next;                      /* next task index to hand out */
	long done;                      /* entries in log */
	char (*log)[PL_SLEEP_MSG_MAX];  /* messages in completion order */
};

static void *worker(void *arg)
{
	struct board *b = arg;
	char msg[PL_SLEEP_MSG_MAX];

	pthread_mutex_lock(&b->lock);
	while (b->next < b->opts->tasks) {
		long i = b->next++;

		/* Never sleep holding the lock. */
		pthread_mutex_unlock(&b->lock);
		pl_sleep_task(i, b->opts->scale, b->opts->work_us, msg);
		pthread_mutex_lock(&b->lock);

		memcpy(b->log[b->done++], msg, sizeof(msg));
		pthread_cond_signal(&b->progress);
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

int main(int argc, char **argv)
{
	struct pl_options opts;
	struct pl_sleep_results results;

	pl_parse_args(argc, argv, &program, &opts);
	pl_sleep_begin(&results, &opts);

	struct board b = {
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.progress = PTHREAD_COND_INITIALIZER,
		.opts = &opts,
		.log = calloc(opts.tasks ? opts.tasks : 1, sizeof(*b.log)),
	};
	pthread_t *threads = calloc(opts.workers, sizeof(*threads));
	if (!b.log || !threads)
		pl_die(&opts, "out of memory");

	for (long t = 0; t < opts.workers; t++) {
		int err = pthread_create(&threads[t], NULL, worker, &b);
		if (err)
			pl_die(&opts, "pthread_create: %s", strerror(err));
		pl_count_threads(1);
	}

	/* Entries below `done` never change again, so main reads them (and
	 * prints) without holding the lock; workers are never kept waiting
	 * on the terminal. */
	for (long seen = 0; seen < opts.tasks;) {
		pthread_mutex_lock(&b.lock);
		while (b.done == seen)
			pthread_cond_wait(&b.progress, &b.lock);
		long done = b.done;
		pthread_mutex_unlock(&b.lock);

		while (seen < done)
			pl_sleep_collect(&results, b.log[seen++]);
	}

	for (long t = 0; t < opts.workers; t++)
		pthread_join(threads[t], NULL);
	free(threads);
	free(b.log);
	return pl_sleep_finish(&results);
}
