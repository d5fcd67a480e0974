/* What one task costs in the cf process backend, next to the floor of the
 * primitive under it, measured side by side in one run:
 *
 *   floor: a ping-pong round trip between two processes over a pair of
 *          pipes (one byte there, one byte back);
 *   cf_submit + cf_future_result of an empty task, one at a time, on an
 *          idle one-worker process pool (target: within 1.5x the floor);
 *   cf_map of empty tasks with chunksize 1, 64 and 1024 (target: with
 *          chunksize >= 64, at most 1/20 of the floor per task);
 *   pool start-up and shutdown with 2 and 8 workers (each running one
 *          task, so that every worker really starts) next to fork+waitpid
 *          of as many children.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cf.h"
#include "stats.h"

#include "cf_measure.h"
#include "micro_util.h"
#include "primitives.h"

static cf_executor *new_pool(int workers)
{
	cf_options opts = { .max_workers = workers };
	cf_executor *ex;

	if (cf_executor_new("process", &opts, &ex) != CF_OK)
		micro_fail("cannot create a process pool");
	return ex;
}

static void run_one(cf_executor *ex)
{
	cf_future *f;

	if (cf_submit(ex, micro_empty_task, NULL, 0, &f) != CF_OK ||
	    cf_future_result(f, CF_FOREVER, NULL, NULL) != CF_OK)
		micro_fail("submit+result failed");
	cf_future_release(f);
}

static double submit_result_ns(long iterations)
{
	cf_executor *ex = new_pool(1);

	run_one(ex);    /* the worker is started outside the measurement */
	double start = pl_now();
	for (long i = 0; i < iterations; i++)
		run_one(ex);
	double elapsed = pl_now() - start;
	cf_executor_free(ex);
	return elapsed * 1e9 / iterations;
}

static double map_ns_per_task(long tasks, size_t chunksize, int workers)
{
	cf_executor *ex = new_pool(workers);

	run_one(ex);    /* a worker is up before the clock starts */
	double ns = micro_map_empty_ns(ex, tasks, chunksize);
	cf_executor_free(ex);
	return ns;
}

/* Start-up and shutdown of a pool whose every worker ran one task. */
static double pool_lifecycle_ns(int workers)
{
	double start = pl_now();
	cf_executor *ex = new_pool(workers);
	cf_map_iter *it;
	cf_map_options opts = { .timeout = CF_FOREVER, .max_in_flight = (size_t)workers };

	/* Submitting all at once makes the pool start every worker. */
	if (cf_map(ex, micro_empty_task, NULL, 0, (size_t)workers, &opts, &it) != CF_OK)
		micro_fail("cf_map failed");
	while (cf_map_next(it, NULL, NULL) == CF_OK)
		;
	cf_map_free(it);
	cf_executor_free(ex);
	return (pl_now() - start) * 1e9;
}

int main(int argc, char **argv)
{
	struct micro_args args = micro_parse(argc, argv, "cf_process_overhead",
		"cf process backend: pipe floor, submit+result, map with chunksize, pool start-up");
	long trips = args.quick ? 500 : 5000;
	long bulk = args.quick ? 100000 : 1000000;
	long single = args.quick ? 2000 : 20000;
	int workers = micro_cores();
	struct micro_stat floor, one;
	char label[128];

	MICRO_MEASURE(&floor, args.rounds, floor_pipe_round_trip_ns(trips));
	MICRO_MEASURE(&one, args.rounds, submit_result_ns(trips));
	micro_header(&args);
	micro_row(&args, "floor: pipe ping-pong round trip between 2 processes", &floor,
		  NULL, 0, NULL);
	micro_row(&args, "cf process submit+result, idle 1-worker pool", &one, &floor, 1.5,
		  "target <= 1.5x the floor");

	size_t chunks[] = { 1, 64, 1024 };
	for (size_t i = 0; i < 3; i++) {
		struct micro_stat m;
		long n = chunks[i] == 1 ? single : bulk;

		MICRO_MEASURE(&m, args.rounds, map_ns_per_task(n, chunks[i], workers));
		snprintf(label, sizeof(label), "cf process map, %ld empty tasks, chunksize %zu", n,
			 chunks[i]);
		micro_row(&args, label, &m, &floor, chunks[i] >= 64 ? 0.05 : 0,
			  "target <= 1/20 of the floor");
	}

	int sizes[] = { 2, 8 };
	for (size_t i = 0; i < 2; i++) {
		struct micro_stat pool, forks;

		MICRO_MEASURE(&forks, args.rounds, sizes[i] * floor_fork_wait_ns(sizes[i]));
		MICRO_MEASURE(&pool, args.rounds, pool_lifecycle_ns(sizes[i]));
		snprintf(label, sizeof(label), "fork+waitpid of %d children, one after another", sizes[i]);
		micro_row(&args, label, &forks, NULL, 0, NULL);
		snprintf(label, sizeof(label), "process pool of %d: start, 1 task each, shutdown",
			 sizes[i]);
		micro_row(&args, label, &pool, &forks, 0, NULL);
	}
	return 0;
}
