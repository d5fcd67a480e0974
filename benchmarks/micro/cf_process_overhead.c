/* What one task costs in the cf process backend, next to the floor of the
 * primitive under it, measured in the same rounds:
 *
 *   floor: a ping-pong round trip between two processes over a pair of
 *          pipes (one byte there, one byte back);
 *   cf_submit + cf_future_result of an empty task, one at a time, on an
 *          idle one-worker process pool;
 *   cf_map of empty tasks with chunksize 1, 64 and 1024, next to the
 *          floor per task (unpinned);
 *   pool start-up and shutdown with 2 and 8 workers (each running one
 *          task, so that every worker really starts) next to fork+waitpid
 *          of as many children (unpinned).
 *
 * The floor and submit+result are measured with both ends on one CPU and
 * with the caller (and the pool's manager thread) on one CPU and the
 * worker process on another (placement.h).  Each round measures every
 * figure once, in the order of the output; ns per operation.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "cf.h"
#include "stats.h"

#include "cf_measure.h"
#include "micro_util.h"
#include "placement.h"
#include "primitives.h"

enum { SAME, CROSS, N_PLACES };
enum { FLOOR, ONE, PER_PLACE };
#define N_CHUNKS 3
#define N_SIZES 2
#define MAPS (N_PLACES * PER_PLACE)
#define LIFECYCLES (MAPS + N_CHUNKS)
#define N_FIGURES (LIFECYCLES + 2 * N_SIZES)

static const size_t chunks[N_CHUNKS] = { 1, 64, 1024 };
static const int sizes[N_SIZES] = { 2, 8 };
static struct micro_fig fig[N_FIGURES];

static double submit_result_ns(long iterations, const struct micro_place *pl)
{
	cf_options opts = { .max_workers = 1 };
	cf_executor *ex = micro_pool_new("process", &opts, pl);

	double start = pl_now();
	for (long i = 0; i < iterations; i++)
		micro_submit_result(ex);
	double elapsed = pl_now() - start;
	micro_pool_free(ex, pl);
	return elapsed * 1e9 / iterations;
}

static double map_ns_per_task(long tasks, size_t chunksize, int workers)
{
	cf_options opts = { .max_workers = workers };
	cf_executor *ex = micro_pool_new("process", &opts, NULL);
	double ns = micro_map_empty_ns(ex, tasks, chunksize);

	micro_pool_free(ex, NULL);
	return ns;
}

/* Start-up and shutdown of a pool whose every worker ran one task. */
static double pool_lifecycle_ns(int workers)
{
	double start = pl_now();
	cf_options opts = { .max_workers = workers };
	cf_executor *ex;
	cf_map_iter *it;
	cf_map_options mopts = { .timeout = CF_FOREVER, .max_in_flight = (size_t)workers };

	if (cf_executor_new("process", &opts, &ex) != CF_OK)
		micro_fail("cannot create a process pool");
	/* Submitting all at once makes the pool start every worker. */
	if (cf_map(ex, micro_empty_task, NULL, 0, (size_t)workers, &mopts, &it) != CF_OK)
		micro_fail("cf_map failed");
	while (cf_map_next(it, NULL, NULL) == CF_OK)
		;
	cf_map_free(it);
	cf_executor_free(ex);
	return (pl_now() - start) * 1e9;
}

/* Map with chunksize 1 sends a frame per task, so it gets fewer tasks. */
static long map_tasks(size_t chunksize, bool quick)
{
	if (chunksize == 1)
		return quick ? 500 : 5000;
	return quick ? 20000 : 1000000;
}

static void init_figures(const struct micro_place *places, int workers, bool quick)
{
	char key[64], label[128];

	for (int p = 0; p < N_PLACES; p++) {
		struct micro_fig *f = &fig[p * PER_PLACE];

		micro_fig_init(&f[FLOOR], "floor.pipe",
			       "floor: pipe ping-pong round trip between 2 processes", &places[p]);
		micro_fig_init(&f[ONE], "cf.process.submit_result",
			       "cf process submit+result, idle 1-worker pool", &places[p]);
		f[ONE].ref = &f[FLOOR];
	}
	for (int c = 0; c < N_CHUNKS; c++) {
		long n = map_tasks(chunks[c], quick);

		snprintf(key, sizeof(key), "cf.process.map.chunk%zu", chunks[c]);
		snprintf(label, sizeof(label), "cf process map, %ld empty tasks, chunksize %zu, %d workers",
			 n, chunks[c], workers);
		micro_fig_init(&fig[MAPS + c], key, label, NULL);
		snprintf(fig[MAPS + c].extra, sizeof(fig[0].extra),
			 "\"tasks\":%ld,\"workers\":%d,\"chunksize\":%zu", n, workers, chunks[c]);
	}
	for (int s = 0; s < N_SIZES; s++) {
		struct micro_fig *f = &fig[LIFECYCLES + 2 * s];

		snprintf(key, sizeof(key), "floor.fork_wait_children_%d", sizes[s]);
		snprintf(label, sizeof(label), "fork+waitpid of %d children, one after another",
			 sizes[s]);
		micro_fig_init(&f[0], key, label, NULL);
		snprintf(key, sizeof(key), "cf.process.pool_lifecycle_%d", sizes[s]);
		snprintf(label, sizeof(label), "process pool of %d: start, 1 task each, shutdown",
			 sizes[s]);
		micro_fig_init(&f[1], key, label, NULL);
		f[1].ref = &f[0];
	}
}

static void add_if_wanted(struct micro_fig *f, double (*fn)(long, const struct micro_place *),
			  long n, const struct micro_place *pl)
{
	if (micro_fig_wanted(f))
		micro_fig_add(f, fn(n, pl));
}

/* One round: every figure once, in the order of fig[]. */
static void round_once(const struct micro_place *places, long trips, int workers, bool quick)
{
	for (int p = 0; p < N_PLACES; p++) {
		struct micro_fig *f = &fig[p * PER_PLACE];

		add_if_wanted(&f[FLOOR], floor_pipe_round_trip_ns, trips, &places[p]);
		add_if_wanted(&f[ONE], submit_result_ns, trips, &places[p]);
	}
	for (int c = 0; c < N_CHUNKS; c++)
		if (micro_fig_wanted(&fig[MAPS + c]))
			micro_fig_add(&fig[MAPS + c],
				      map_ns_per_task(map_tasks(chunks[c], quick), chunks[c], workers));
	for (int s = 0; s < N_SIZES; s++) {
		struct micro_fig *f = &fig[LIFECYCLES + 2 * s];

		if (micro_fig_wanted(&f[0]))
			micro_fig_add(&f[0], sizes[s] * floor_fork_wait_ns(sizes[s]));
		if (micro_fig_wanted(&f[1]))
			micro_fig_add(&f[1], pool_lifecycle_ns(sizes[s]));
	}
}

int main(int argc, char **argv)
{
	struct micro_args args = micro_parse(argc, argv, "cf_process_overhead",
		"cf process backend: pipe floor, submit+result, map with chunksize, pool start-up");
	long trips = args.quick ? 200 : 2000;
	int workers = micro_cores();
	struct micro_place places[N_PLACES];

	micro_places(&places[SAME], &places[CROSS]);
	init_figures(places, workers, args.quick);
	micro_select(&args, fig, N_FIGURES);
	for (int r = 0; r < args.rounds; r++)
		round_once(places, trips, workers, args.quick);
	micro_emit(&args, "cf_process_overhead", fig, N_FIGURES);
	return 0;
}
