/* What one task costs in the cf thread backend, next to the floor of the
 * primitive under it, measured side by side in one run:
 *
 *   (a) floor: a mutex + condition variable ping-pong between two threads
 *       (one round trip: hand the turn over and get it back);
 *   (b) cf_submit + cf_future_result of an empty task on an idle pool,
 *       one at a time (also one round trip: to a worker and back), with
 *       the default (sleep at once) and with idle_spin_us=50, where the
 *       worker polls for work and the caller for the result; the CPU
 *       time the spin burns (both threads, per round trip) is printed
 *       beside it;
 *   (c) cf_map over 1,000,000 empty tasks: the cost per task when the
 *       pool is kept busy, for several chunk sizes.
 *
 * Each figure is the median (and p90) over --rounds repetitions, in ns per
 * operation.  Targets of the issue are printed with each ratio.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cf.h"
#include "cli.h"
#include "stats.h"

#include "cf_measure.h"
#include "micro_util.h"
#include "primitives.h"


static cf_executor *new_pool(int workers, int spin_us)
{
	cf_options opts = { .max_workers = workers, .idle_spin_us = spin_us };
	cf_executor *ex;
	cf_status st = cf_executor_new("thread", &opts, &ex);

	if (st != CF_OK) {
		fprintf(stderr, "cf_overhead: cannot create a pool: %s\n", cf_strerror(st));
		exit(1);
	}
	return ex;
}

/* CPU time of the whole process (caller and workers), per round trip,
 * of each call of submit_result_ns: what a spin costs. */
static double cpu_samples[MICRO_MAX_ROUNDS];
static int ncpu_samples;

static double process_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double submit_result_ns(long iterations, int spin_us)
{
	cf_executor *ex = new_pool(1, spin_us);
	cf_future *f;

	/* Start the worker first so that thread creation is not measured. */
	cf_submit(ex, micro_empty_task, NULL, 0, &f);
	cf_future_result(f, CF_FOREVER, NULL, NULL);
	cf_future_release(f);

	double cpu = process_cpu_s(), start = pl_now();
	for (long i = 0; i < iterations; i++) {
		if (cf_submit(ex, micro_empty_task, NULL, 0, &f) != CF_OK ||
		    cf_future_result(f, CF_FOREVER, NULL, NULL) != CF_OK)
			micro_fail("submit+result failed");
		cf_future_release(f);
	}
	double elapsed = pl_now() - start;
	cpu = process_cpu_s() - cpu;
	if (ncpu_samples < MICRO_MAX_ROUNDS)
		cpu_samples[ncpu_samples++] = cpu * 1e9 / iterations;
	cf_executor_free(ex);
	return elapsed * 1e9 / iterations;
}

static long map_tasks = 1000000;

static double map_ns_per_task(size_t chunksize, int workers)
{
	cf_executor *ex = new_pool(workers, 0);
	double ns = micro_map_empty_ns(ex, map_tasks, chunksize);

	cf_executor_free(ex);
	return ns;
}

int main(int argc, char **argv)
{
	struct micro_args args = micro_parse(argc, argv, "cf_overhead",
		"cf thread backend: hand-off floor, submit+result, map of 1,000,000 empty tasks");
	long trips = args.quick ? 2000 : 20000;
	int workers = micro_cores();
	struct micro_stat floor, one, spin, spin_cpu, one_cpu;

	if (args.quick)
		map_tasks = 100000;
	MICRO_MEASURE(&floor, args.rounds, floor_condvar_round_trip_ns(trips));
	MICRO_MEASURE(&one, args.rounds, submit_result_ns(trips, 0));
	micro_summarize(&one_cpu, cpu_samples, ncpu_samples);
	ncpu_samples = 0;
	MICRO_MEASURE(&spin, args.rounds, submit_result_ns(trips, 50));
	micro_summarize(&spin_cpu, cpu_samples, ncpu_samples);

	micro_header(&args);
	micro_row(&args, "floor: mutex+condvar ping-pong round trip", &floor, NULL, 0, NULL);
	micro_row(&args, "cf submit+result, idle pool", &one, &floor, 1.2,
		  "target <= 1.2x the floor");
	micro_row(&args, "cf submit+result, idle pool: CPU time", &one_cpu, &floor, 0, NULL);
	micro_row(&args, "cf submit+result, idle_spin_us=50", &spin, &floor, 0.2,
		  "target <= 0.2x the floor");
	micro_row(&args, "cf submit+result, idle_spin_us=50: CPU time", &spin_cpu, &floor, 0, NULL);

	size_t chunks[] = { 1, 64, 1024 };
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		struct micro_stat m;
		char label[96];

		MICRO_MEASURE(&m, args.rounds, map_ns_per_task(chunks[i], workers));
		snprintf(label, sizeof(label), "cf map, %ld empty tasks, chunksize %zu, %d workers",
			 map_tasks, chunks[i], workers);
		micro_row_target(&args, label, &m, 500.0, "target <= 500 ns/task");
	}
	return 0;
}
