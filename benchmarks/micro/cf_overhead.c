/* What one task costs in the cf thread backend, next to the floor of the
 * primitive under it, measured in the same rounds:
 *
 *   (a) floor: a mutex + condition variable ping-pong between two threads
 *       (one round trip: hand the turn over and get it back);
 *   (b) cf_submit + cf_future_result of an empty task on an idle
 *       one-worker pool, one at a time (also one round trip: to the worker
 *       and back), with the default (sleep at once) and with
 *       idle_spin_us=50, where the worker polls for work and the caller
 *       for the result; beside each, the CPU time both threads burn per
 *       round trip;
 *   (c) cf_map over 1,000,000 empty tasks: the cost per task when the
 *       pool is kept busy, for several chunk sizes (unpinned).
 *
 * (a) and (b) are measured with both ends on one CPU and with the caller
 * and the worker on two (placement.h): a hand-off costs several times more
 * across cores, and a floor bounds the library's figure only at the same
 * placement.  Each round measures every figure once, in the order of the
 * output; ns per operation.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cf.h"
#include "stats.h"

#include "cf_measure.h"
#include "micro_util.h"
#include "placement.h"
#include "primitives.h"

/* Per placement: the floor, then cf with and without the spin, each with
 * its CPU time. */
enum { FLOOR, ONE, ONE_CPU, SPIN, SPIN_CPU, PER_PLACE };
enum { SAME, CROSS, N_PLACES };
#define N_CHUNKS 3
#define N_FIGURES (N_PLACES * PER_PLACE + N_CHUNKS)

static const size_t chunks[N_CHUNKS] = { 1, 64, 1024 };
static struct micro_fig fig[N_FIGURES];

static double process_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ns per round trip of submit+result on an idle one-worker pool placed at
 * pl; the CPU time of the whole process (caller and worker) per round trip
 * in *cpu_ns: what a spin costs. */
static double submit_result_ns(long iterations, int spin_us, const struct micro_place *pl,
			       double *cpu_ns)
{
	cf_options opts = { .max_workers = 1, .idle_spin_us = spin_us };
	cf_executor *ex = micro_pool_new("thread", &opts, pl);

	double cpu = process_cpu_s(), start = pl_now();
	for (long i = 0; i < iterations; i++)
		micro_submit_result(ex);
	double elapsed = pl_now() - start;
	*cpu_ns = (process_cpu_s() - cpu) * 1e9 / iterations;
	micro_pool_free(ex, pl);
	return elapsed * 1e9 / iterations;
}

static double map_ns_per_task(long tasks, size_t chunksize, int workers)
{
	cf_options opts = { .max_workers = workers };
	cf_executor *ex = micro_pool_new("thread", &opts, NULL);
	double ns = micro_map_empty_ns(ex, tasks, chunksize);

	micro_pool_free(ex, NULL);
	return ns;
}

static void init_figures(const struct micro_place *places, long map_tasks, int workers)
{
	for (int p = 0; p < N_PLACES; p++) {
		struct micro_fig *f = &fig[p * PER_PLACE];
		const struct micro_place *pl = &places[p];

		micro_fig_init(&f[FLOOR], "floor.condvar",
			       "floor: mutex+condvar ping-pong round trip", pl);
		micro_fig_init(&f[ONE], "cf.thread.submit_result",
			       "cf submit+result, idle 1-worker pool", pl);
		micro_fig_init(&f[ONE_CPU], "cf.thread.submit_result_cpu",
			       "cf submit+result, idle 1-worker pool: CPU time per round trip", pl);
		micro_fig_init(&f[SPIN], "cf.thread.submit_result_spin50",
			       "cf submit+result, idle_spin_us=50", pl);
		micro_fig_init(&f[SPIN_CPU], "cf.thread.submit_result_spin50_cpu",
			       "cf submit+result, idle_spin_us=50: CPU time per round trip", pl);
		for (int i = ONE; i < PER_PLACE; i++)
			f[i].ref = &f[FLOOR];
	}
	for (int c = 0; c < N_CHUNKS; c++) {
		char key[64], label[128];

		snprintf(key, sizeof(key), "cf.thread.map.chunk%zu", chunks[c]);
		snprintf(label, sizeof(label), "cf map, %ld empty tasks, chunksize %zu, %d workers",
			 map_tasks, chunks[c], workers);
		micro_fig_init(&fig[N_PLACES * PER_PLACE + c], key, label, NULL);
		snprintf(fig[N_PLACES * PER_PLACE + c].extra, sizeof(fig[0].extra),
			 "\"tasks\":%ld,\"workers\":%d,\"chunksize\":%zu", map_tasks, workers,
			 chunks[c]);
	}
}

/* One round: every figure once, in the order of fig[]. */
static void round_once(const struct micro_place *places, long trips, long map_tasks, int workers)
{
	for (int p = 0; p < N_PLACES; p++) {
		struct micro_fig *f = &fig[p * PER_PLACE];
		const struct micro_place *pl = &places[p];
		double ns, cpu;

		if (micro_fig_wanted(&f[FLOOR]))
			micro_fig_add(&f[FLOOR], floor_condvar_round_trip_ns(trips, pl));
		if (micro_fig_wanted(&f[ONE]) || micro_fig_wanted(&f[ONE_CPU])) {
			ns = submit_result_ns(trips, 0, pl, &cpu);
			if (micro_fig_wanted(&f[ONE]))
				micro_fig_add(&f[ONE], ns);
			if (micro_fig_wanted(&f[ONE_CPU]))
				micro_fig_add(&f[ONE_CPU], cpu);
		}
		if (micro_fig_wanted(&f[SPIN]) || micro_fig_wanted(&f[SPIN_CPU])) {
			ns = submit_result_ns(trips, 50, pl, &cpu);
			if (micro_fig_wanted(&f[SPIN]))
				micro_fig_add(&f[SPIN], ns);
			if (micro_fig_wanted(&f[SPIN_CPU]))
				micro_fig_add(&f[SPIN_CPU], cpu);
		}
	}
	for (int c = 0; c < N_CHUNKS; c++) {
		struct micro_fig *f = &fig[N_PLACES * PER_PLACE + c];

		if (micro_fig_wanted(f))
			micro_fig_add(f, map_ns_per_task(map_tasks, chunks[c], workers));
	}
}

int main(int argc, char **argv)
{
	struct micro_args args = micro_parse(argc, argv, "cf_overhead",
		"cf thread backend: hand-off floor, submit+result, map of 1,000,000 empty tasks");
	long trips = args.quick ? 200 : 2000;
	long map_tasks = args.quick ? 20000 : 1000000;
	int workers = micro_cores();
	struct micro_place places[N_PLACES];

	micro_places(&places[SAME], &places[CROSS]);
	init_figures(places, map_tasks, workers);
	micro_select(&args, fig, N_FIGURES);
	for (int r = 0; r < args.rounds; r++)
		round_once(places, trips, map_tasks, workers);
	micro_emit(&args, "cf_overhead", fig, N_FIGURES);
	return 0;
}
