/* Peers: the cf thread backend next to two other ways of handing tasks to
 * a pool in C, all with 2 workers, measured side by side in one run:
 *
 *   cf            our library: cf_submit + cf_future_result, and cf_map
 *   GThreadPool   GLib's pool: g_thread_pool_push, no futures
 *   OpenMP tasks  `#pragma omp task` in a parallel/single region
 *
 * Two figures for each:
 *
 *   (a) 1,000,000 empty tasks submitted and collected, ns per task, the
 *       clock running from the first submit to the last result on a pool
 *       whose workers are already started.  What "collected" means
 *       differs, because only cf has futures:
 *         cf submit   every future submitted, then each one's result
 *                     taken and the future released (Python's
 *                     [f.result() for f in [submit(...) ...]]);
 *         cf map      cf_map with chunksize 1, every result read;
 *         GThreadPool every item pushed, then the caller waits until a
 *                     counter the tasks increment says all have run (a
 *                     GThreadPool task has no result to hand back);
 *         OpenMP      every task created by one thread, then taskwait.
 *   (b) one task at a time on an idle pool: submit, wait for that task,
 *       repeat; ns per round trip.  For OpenMP the thread that spawns the
 *       task waits in taskwait and may run the task itself, while the
 *       other thread waits (spinning first, by libgomp's default policy)
 *       at the end of the single region and may take it: the share the
 *       other thread took is printed.  (A variant that made every task
 *       cross, the spawner polling a flag instead of taskwait, was tried
 *       and dropped: with both threads awake on 2 shared cores it measured
 *       the machine's load, from 1 us to 1 ms.)  The mutex+condvar
 *       ping-pong of lib/primitives is the floor for reference.
 *
 * Then the ratios of issue 7's target 1: cf / GThreadPool (<= 1.0) and
 * cf / OpenMP task (<= 5.0).
 *
 * Rounds are interleaved (round 1 of every peer, then round 2, ...) so
 * that a change in the machine's load hits all of them alike.  Every JSON
 * object carries a stable "key" (peer.cf.tasks_1m_submit, ...).
 */
#define _GNU_SOURCE
#include <glib.h>
#include <omp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cf.h"
#include "stats.h"

#include "cf_measure.h"
#include "micro_util.h"
#include "primitives.h"

#define WORKERS 2

/* ---- cf ------------------------------------------------------------------ */

static cf_executor *cf_pool(void)
{
	cf_options opts = { .max_workers = WORKERS };
	cf_executor *ex;
	cf_status st = cf_executor_new("thread", &opts, &ex);

	if (st != CF_OK) {
		fprintf(stderr, "peers: cannot create a cf pool: %s\n", cf_strerror(st));
		exit(1);
	}
	/* Workers start on demand: two tasks at once start both, so that
	 * thread creation stays out of the clock. */
	cf_future *f[WORKERS];
	for (int i = 0; i < WORKERS; i++)
		if (cf_submit(ex, micro_empty_task, NULL, 0, &f[i]) != CF_OK)
			micro_fail("cf warm-up submit failed");
	for (int i = 0; i < WORKERS; i++) {
		cf_future_result(f[i], CF_FOREVER, NULL, NULL);
		cf_future_release(f[i]);
	}
	return ex;
}

static double cf_submit_all_ns(long tasks)
{
	cf_executor *ex = cf_pool();
	cf_future **fs = malloc((size_t)tasks * sizeof(*fs));

	if (!fs)
		micro_fail("out of memory for the futures");
	double start = pl_now();
	for (long i = 0; i < tasks; i++)
		if (cf_submit(ex, micro_empty_task, NULL, 0, &fs[i]) != CF_OK)
			micro_fail("cf_submit failed");
	for (long i = 0; i < tasks; i++) {
		if (cf_future_result(fs[i], CF_FOREVER, NULL, NULL) != CF_OK)
			micro_fail("a cf task failed");
		cf_future_release(fs[i]);
	}
	double elapsed = pl_now() - start;
	free(fs);
	cf_executor_free(ex);
	return elapsed * 1e9 / tasks;
}

static double cf_map_ns(long tasks)
{
	cf_executor *ex = cf_pool();
	double ns = micro_map_empty_ns(ex, tasks, 1);

	cf_executor_free(ex);
	return ns;
}

static double cf_latency_ns(long trips)
{
	cf_executor *ex = cf_pool();
	cf_future *f;

	double start = pl_now();
	for (long i = 0; i < trips; i++) {
		if (cf_submit(ex, micro_empty_task, NULL, 0, &f) != CF_OK ||
		    cf_future_result(f, CF_FOREVER, NULL, NULL) != CF_OK)
			micro_fail("cf submit+result failed");
		cf_future_release(f);
	}
	double elapsed = pl_now() - start;
	cf_executor_free(ex);
	return elapsed * 1e9 / trips;
}

/* ---- GThreadPool --------------------------------------------------------- */

/* GThreadPool hands a task nothing back, so the tasks count themselves
 * and the one that reaches `target` wakes the caller. */
struct glib_run {
	atomic_long done;
	atomic_long target;
	GMutex lock;
	GCond all_done;
};

static void glib_task(gpointer item, gpointer user_data)
{
	struct glib_run *run = user_data;

	(void)item;
	if (atomic_fetch_add(&run->done, 1) + 1 == atomic_load(&run->target)) {
		/* Under the lock: the caller checks the count under it, so
		 * the wake-up cannot fall between its check and its wait. */
		g_mutex_lock(&run->lock);
		g_cond_signal(&run->all_done);
		g_mutex_unlock(&run->lock);
	}
}

static void glib_wait(struct glib_run *run)
{
	g_mutex_lock(&run->lock);
	while (atomic_load(&run->done) < atomic_load(&run->target))
		g_cond_wait(&run->all_done, &run->lock);
	g_mutex_unlock(&run->lock);
}

/* g_thread_pool_push refuses NULL items: push 1, 2, 3, ... */
static void glib_push(GThreadPool *pool, long i)
{
	GError *error = NULL;

	if (!g_thread_pool_push(pool, GSIZE_TO_POINTER((gsize)i + 1), &error)) {
		fprintf(stderr, "peers: g_thread_pool_push: %s\n", error ? error->message : "?");
		exit(1);
	}
}

/* An exclusive pool starts its WORKERS threads at once and keeps them,
 * like a started cf pool; the warm-up makes sure both have run. */
static GThreadPool *glib_pool(struct glib_run *run)
{
	GError *error = NULL;
	GThreadPool *pool;

	atomic_init(&run->done, 0);
	atomic_init(&run->target, WORKERS);
	g_mutex_init(&run->lock);
	g_cond_init(&run->all_done);
	pool = g_thread_pool_new(glib_task, run, WORKERS, TRUE, &error);
	if (!pool) {
		fprintf(stderr, "peers: g_thread_pool_new: %s\n", error ? error->message : "?");
		exit(1);
	}
	for (long i = 0; i < WORKERS; i++)
		glib_push(pool, i);
	glib_wait(run);
	return pool;
}

static void glib_pool_free(GThreadPool *pool, struct glib_run *run)
{
	g_thread_pool_free(pool, FALSE, TRUE);
	g_mutex_clear(&run->lock);
	g_cond_clear(&run->all_done);
}

static double glib_tasks_ns(long tasks)
{
	struct glib_run run;
	GThreadPool *pool = glib_pool(&run);

	double start = pl_now();
	atomic_store(&run.target, atomic_load(&run.done) + tasks);
	for (long i = 0; i < tasks; i++)
		glib_push(pool, i);
	glib_wait(&run);
	double elapsed = pl_now() - start;
	glib_pool_free(pool, &run);
	return elapsed * 1e9 / tasks;
}

static double glib_latency_ns(long trips)
{
	struct glib_run run;
	GThreadPool *pool = glib_pool(&run);

	double start = pl_now();
	for (long i = 0; i < trips; i++) {
		atomic_fetch_add(&run.target, 1);
		glib_push(pool, i);
		glib_wait(&run);
	}
	double elapsed = pl_now() - start;
	glib_pool_free(pool, &run);
	return elapsed * 1e9 / trips;
}

/* ---- OpenMP tasks -------------------------------------------------------- */

/* The task body: nothing, behind a compiler barrier, so the task cannot
 * be proved empty and dropped (objdump -d shows a GOMP_task call per
 * task in omp_tasks_ns). */
#define OMP_EMPTY_BODY() __asm__ __volatile__("" ::: "memory")

/* libgomp's threads spin for a while after a region (OMP_WAIT_POLICY's
 * default) before they sleep; a short pause lets them settle so that
 * they do not take CPU from the next peer measured. */
static void omp_settle(void)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };

	nanosleep(&pause, NULL);
}

static void omp_warm(void)
{
#pragma omp parallel num_threads(WORKERS)
	OMP_EMPTY_BODY();
}

static double omp_tasks_ns(long tasks)
{
	double elapsed = 0;

	omp_warm();
#pragma omp parallel num_threads(WORKERS)
#pragma omp single
	{
		double start = pl_now();
		for (long i = 0; i < tasks; i++) {
#pragma omp task
			OMP_EMPTY_BODY();
		}
#pragma omp taskwait
		elapsed = pl_now() - start;
	}
	omp_settle();
	return elapsed * 1e9 / tasks;
}

static atomic_long omp_handed_off;     /* latency tasks run by the other thread */

static double omp_latency_ns(long trips)
{
	double elapsed = 0;

	omp_warm();
#pragma omp parallel num_threads(WORKERS)
#pragma omp single
	{
		int spawner = omp_get_thread_num();
		double start = pl_now();
		for (long i = 0; i < trips; i++) {
#pragma omp task
			{
				if (omp_get_thread_num() != spawner)
					atomic_fetch_add_explicit(&omp_handed_off, 1,
								  memory_order_relaxed);
			}
#pragma omp taskwait
		}
		elapsed = pl_now() - start;
	}
	omp_settle();
	return elapsed * 1e9 / trips;
}

/* ---- main ---------------------------------------------------------------- */

enum {
	CF_SUBMIT, CF_MAP, GLIB_TASKS, OMP_TASKS,
	FLOOR, CF_LAT, GLIB_LAT, OMP_LAT, N_FIGURES
};

static const struct {
	const char *key;
	const char *label;
	const char *short_label;        /* for "x <short_label>" in ratios */
} fig[N_FIGURES] = {
	[CF_SUBMIT] = { "peer.cf.tasks_1m_submit", "tasks: cf submit all, then result+release each",
			"cf submit" },
	[CF_MAP] = { "peer.cf.tasks_1m_map", "tasks: cf_map, chunksize 1", "cf map" },
	[GLIB_TASKS] = { "peer.glib.tasks_1m", "tasks: GThreadPool push all, wait for a count of all",
			 "GThreadPool" },
	[OMP_TASKS] = { "peer.omp.tasks_1m", "tasks: OpenMP task each from one thread, then taskwait",
			"OpenMP task" },
	[FLOOR] = { "peer.floor.condvar", "latency: floor: mutex+condvar ping-pong round trip",
		    "condvar floor" },
	[CF_LAT] = { "peer.cf.latency", "latency: cf submit + result", "cf" },
	[GLIB_LAT] = { "peer.glib.latency", "latency: GThreadPool push + wait on a condvar",
		       "GThreadPool" },
	[OMP_LAT] = { "peer.omp.latency", "latency: OpenMP task + taskwait", "OpenMP task" },
};

/* Issue 7's target 1, for both ways cf collects; the latencies' ratios
 * for reading, without a target (cf_overhead has target 2). */
static const struct {
	const char *key;
	int cf, peer;
	double target;
	const char *target_text;
} ratios[] = {
	{ "peer.ratio.submit_glib", CF_SUBMIT, GLIB_TASKS, 1.0, "target <= 1.0" },
	{ "peer.ratio.submit_omp", CF_SUBMIT, OMP_TASKS, 5.0, "target <= 5.0" },
	{ "peer.ratio.map_glib", CF_MAP, GLIB_TASKS, 1.0, "target <= 1.0" },
	{ "peer.ratio.map_omp", CF_MAP, OMP_TASKS, 5.0, "target <= 5.0" },
	{ "peer.ratio.latency_glib", CF_LAT, GLIB_LAT, 0, NULL },
	{ "peer.ratio.latency_omp", CF_LAT, OMP_LAT, 0, NULL },
};

/* Round by round, every peer in each round. */
static void measure(int rounds, long tasks, long trips, struct micro_stat *s)
{
	static double samples[N_FIGURES][MICRO_MAX_ROUNDS];

	for (int r = 0; r < rounds; r++) {
		samples[CF_SUBMIT][r] = cf_submit_all_ns(tasks);
		samples[CF_MAP][r] = cf_map_ns(tasks);
		samples[GLIB_TASKS][r] = glib_tasks_ns(tasks);
		samples[OMP_TASKS][r] = omp_tasks_ns(tasks);
		samples[FLOOR][r] = floor_condvar_round_trip_ns(trips);
		samples[CF_LAT][r] = cf_latency_ns(trips);
		samples[GLIB_LAT][r] = glib_latency_ns(trips);
		samples[OMP_LAT][r] = omp_latency_ns(trips);
	}
	for (int i = 0; i < N_FIGURES; i++)
		micro_summarize(&s[i], samples[i], rounds);
}

/* Figure i, with its ratio to figure ref (or none: ref < 0). */
static void row(const struct micro_args *args, const struct micro_stat *s, int i, int ref,
		const char *extra)
{
	struct micro_ref r;

	if (ref >= 0)
		r = (struct micro_ref){ fig[ref].key, fig[ref].short_label, &s[ref] };
	micro_row_keyed(args, fig[i].key, fig[i].label, &s[i], ref >= 0 ? &r : NULL, 0, NULL,
			extra);
}

static void print_figures(const struct micro_args *args, const struct micro_stat *s,
			  long tasks, long trips)
{
	char extra[96];

	if (!args->json)
		printf(" %ld empty tasks submitted and collected, %d workers, ns per task:\n",
		       tasks, WORKERS);
	snprintf(extra, sizeof(extra), "\"tasks\":%ld,\"workers\":%d", tasks, WORKERS);
	for (int i = CF_SUBMIT; i <= OMP_TASKS; i++)
		row(args, s, i, -1, extra);

	if (!args->json)
		printf(" one task at a time on an idle pool, %d workers, ns per round trip:\n",
		       WORKERS);
	snprintf(extra, sizeof(extra), "\"trips\":%ld,\"workers\":%d", trips, WORKERS);
	row(args, s, FLOOR, -1, extra);
	row(args, s, CF_LAT, FLOOR, extra);
	row(args, s, GLIB_LAT, FLOOR, extra);

	double share = (double)atomic_load(&omp_handed_off) / ((double)trips * s[OMP_LAT].rounds);
	snprintf(extra, sizeof(extra), "\"trips\":%ld,\"workers\":%d,\"handed_off_share\":%.3f",
		 trips, WORKERS, share);
	row(args, s, OMP_LAT, FLOOR, extra);
	if (!args->json)
		printf("    (the other thread ran %.1f %% of these; the spawner ran the rest"
		       " itself in taskwait)\n", 100 * share);
}

static void print_ratios(const struct micro_args *args, const struct micro_stat *s)
{
	if (!args->json)
		printf(" ratios (cf's figure, then cf / the peer):\n");
	for (size_t i = 0; i < sizeof(ratios) / sizeof(ratios[0]); i++) {
		int cf = ratios[i].cf, peer = ratios[i].peer;
		struct micro_ref r = { fig[peer].key, fig[peer].short_label, &s[peer] };
		char name[112];

		if (cf == CF_LAT)
			snprintf(name, sizeof(name), "ratio: cf latency / %s latency",
				 fig[peer].short_label);
		else
			snprintf(name, sizeof(name), "ratio: %s / %s", fig[cf].short_label,
				 fig[peer].short_label);
		micro_row_keyed(args, ratios[i].key, name, &s[cf], &r, ratios[i].target,
				ratios[i].target_text, NULL);
	}
}

int main(int argc, char **argv)
{
	struct micro_args args = micro_parse(argc, argv, "peers",
		"cf next to GLib's GThreadPool and OpenMP tasks, 2 workers each: empty tasks\n"
		"submitted and collected, and one task's submit-to-completion latency");
	long tasks = args.quick ? 20000 : 1000000;
	long trips = args.quick ? 1000 : 20000;
	struct micro_stat s[N_FIGURES];

	measure(args.rounds, tasks, trips, s);
	micro_header(&args);
	print_figures(&args, s, tasks, trips);
	print_ratios(&args, s);
	return 0;
}
