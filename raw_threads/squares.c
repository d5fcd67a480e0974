/* squares with raw POSIX threads: n * n over range(N), by hand.
 *
 * No pool: we create -j threads, give each a share of the indexes and join
 * them.  Every result has its own slot in one array and each index is
 * written by exactly one thread, so the results need no lock; the join is
 * what makes the slots visible to main.
 *
 * --partition static: thread t takes the contiguous slice
 *   [t*N/j, (t+1)*N/j).  No sharing at all, but a slow thread (or a slow
 *   core) cannot be helped by the others.
 * --partition dynamic: threads take chunks of --chunk indexes from a shared
 *   atomic counter until it passes N.  Balances uneven tasks, at the price
 *   of one atomic add per chunk on a cache line every thread writes.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "squares_work.h"
#include "stats.h"

static const char *const partitions[] = { "static", "dynamic", NULL };

static struct pl_choice_option choices[] = {
	{ .name = "partition", .choices = partitions, .value = "static",
	  .help = "how the indexes are shared out (contiguous slices, or "
		  "chunks from a shared counter)" },
	{ 0 }
};

static struct pl_int_option ints[] = {
	{ .name = "chunk", .metavar = "N", .min = 0, .value = 0,
	  .help = "indexes per grab with --partition dynamic, "
		  "0 for N / (8 x workers)" },
	{ 0 }
};

static const struct pl_program program = {
	.name = "raw_threads/squares",
	.summary = "squares n * n with pthread_create/pthread_join",
	.workload = PL_SQUARES,
	.default_workers = 4,
	.choices = choices,
	.ints = ints,
};

/* What all threads share: read-only, except the result slots and `next`. */
struct job {
	int64_t *results;
	long tasks;
	long workers;
	long work_us;
	long chunk;
	/* dynamic: first index not handed out yet.  On a cache line of its
	 * own, so that moving it does not evict the read-only fields above
	 * from every other core (false sharing). */
	_Alignas(64) atomic_long next;
};

struct worker {
	pthread_t thread;
	long id;
	struct job *job;
};

static void *run_slice(void *arg)
{
	struct worker *w = arg;
	struct job *job = w->job;
	long begin = job->tasks * w->id / job->workers;
	long end = job->tasks * (w->id + 1) / job->workers;

	for (long i = begin; i < end; i++)
		job->results[i] = pl_square(i, job->work_us);
	return NULL;
}

static void *run_chunks(void *arg)
{
	struct worker *w = arg;
	struct job *job = w->job;

	for (;;) {
		/* Relaxed is enough: the counter only hands out indexes; the
		 * results are published to main by pthread_join. */
		long begin = atomic_fetch_add_explicit(&job->next, job->chunk,
						       memory_order_relaxed);
		if (begin >= job->tasks)
			return NULL;
		long end = begin + job->chunk < job->tasks ?
			   begin + job->chunk : job->tasks;
		for (long i = begin; i < end; i++)
			job->results[i] = pl_square(i, job->work_us);
	}
}

int main(int argc, char **argv)
{
	struct pl_options opts;

	pl_parse_args(argc, argv, &program, &opts);

	bool dynamic = strcmp(pl_choice(&opts, "partition"), "dynamic") == 0;
	struct job job = {
		.results = pl_squares_begin(&opts),
		.tasks = opts.tasks,
		.workers = opts.workers,
		.work_us = opts.work_us,
		.chunk = pl_int(&opts, "chunk"),
	};
	/* Eight chunks per thread by default: few enough that the shared
	 * counter is touched rarely even for bare tasks, many enough that the
	 * last chunk leaves at most 1/8 of a share unbalanced.  A chunk never
	 * exceeds N, so begin + chunk cannot overflow. */
	if (job.chunk == 0)
		job.chunk = opts.tasks / (8 * opts.workers);
	if (job.chunk > opts.tasks)
		job.chunk = opts.tasks;
	if (job.chunk < 1)
		job.chunk = 1;
	atomic_init(&job.next, 0);

	struct worker *workers = calloc(opts.workers, sizeof(*workers));
	if (!workers)
		pl_die(&opts, "out of memory");

	for (long t = 0; t < opts.workers; t++) {
		workers[t].id = t;
		workers[t].job = &job;
		int err = pthread_create(&workers[t].thread, NULL,
					 dynamic ? run_chunks : run_slice,
					 &workers[t]);
		if (err)
			pl_die(&opts, "pthread_create: %s", strerror(err));
		pl_count_threads(1);
	}
	for (long t = 0; t < opts.workers; t++)
		pthread_join(workers[t].thread, NULL);

	free(workers);
	return pl_squares_finish(&opts, job.results);
}
