/* Peers: the cf thread backend next to two other ways of handing tasks to
 * a pool in C, all with 2 workers, measured in the same rounds:
 *
 *   cf            our library: cf_submit + cf_future_result, and cf_map
 *   GThreadPool   GLib's pool: g_thread_pool_push, no futures
 *   OpenMP tasks  `#pragma omp task` in a parallel region
 *
 * Two figures for each:
 *
 *   (a) 1,000,000 empty tasks submitted and collected, ns per task, the
 *       clock running from the first submit to the last result on a pool
 *       whose workers are already started (unpinned: both workers busy).
 *       What "collected" means differs, because only cf has futures:
 *         cf submit   every future submitted, then each one's result
 *                     taken and the future released (Python's
 *                     [f.result() for f in [submit(...) ...]]);
 *         cf map      cf_map with chunksize 1, every result read;
 *         GThreadPool every item pushed, then the caller waits until a
 *                     counter the tasks increment says all have run (a
 *                     GThreadPool task has no result to hand back);
 *         OpenMP      every task created by one thread, then taskwait.
 *   (b) one task at a time on an idle pool: submit, wait for that task,
 *       repeat; ns per round trip, with the caller and both workers on
 *       one CPU (same-core) and with the caller on one and the workers on
 *       another (cross-core; placement.h).  For OpenMP the thread that
 *       spawns the task waits in taskwait and may run the task itself,
 *       while the other thread waits (spinning first, by libgomp's default
 *       policy) at a barrier and may take it: the share the other thread
 *       took is printed.  (A variant that made every task cross, the
 *       spawner polling a flag instead of taskwait, was tried and dropped:
 *       with both threads awake on 2 shared cores it measured the
 *       machine's load, from 1 us to 1 ms.)  GLib's and OpenMP's
 *       latencies are read against cf's; the mutex+condvar floor under
 *       all three is cf_overhead's (one measurement of it per report).
 *
 * Each round measures every figure once, in the order of the output, so
 * that a change in the machine's load hits all of them alike and a ratio
 * can be taken round by round.  Every JSON object carries a stable "key"
 * (peer.cf.tasks_1m_submit, peer.cf.latency.same_core, ...); --only
 * measures some of them (benchmarks/python/futures_peer.py takes cf's
 * figures that way, in its own rounds).
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
#include "placement.h"
#include "primitives.h"

#define WORKERS 2

/* ---- cf ------------------------------------------------------------------ */

static cf_executor *cf_pool(const struct micro_place *pl)
{
	cf_options opts = { .max_workers = WORKERS };

	/* Workers start on demand: micro_pool_new starts both, so that
	 * thread creation stays out of the clock. */
	return micro_pool_new("thread", &opts, pl);
}

static double cf_submit_all_ns(long tasks)
{
	cf_executor *ex = cf_pool(NULL);
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
	micro_pool_free(ex, NULL);
	return elapsed * 1e9 / tasks;
}

static double cf_map_ns(long tasks)
{
	cf_executor *ex = cf_pool(NULL);
	double ns = micro_map_empty_ns(ex, tasks, 1);

	micro_pool_free(ex, NULL);
	return ns;
}

static double cf_latency_ns(long trips, const struct micro_place *pl)
{
	cf_executor *ex = cf_pool(pl);

	double start = pl_now();
	for (long i = 0; i < trips; i++)
		micro_submit_result(ex);
	double elapsed = pl_now() - start;
	micro_pool_free(ex, pl);
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

/* An exclusive pool starts its WORKERS threads at once, in the calling
 * thread, and keeps them, like a started cf pool; the warm-up makes sure
 * both have run.  Threads inherit their creator's mask: placed, the pool
 * is created while the caller sits on pl->there, then the caller moves
 * to pl->here and the new threads' masks are read back. */
static GThreadPool *glib_pool(struct glib_run *run, const struct micro_place *pl)
{
	struct micro_tasks before, now, fresh;
	GError *error = NULL;
	GThreadPool *pool;

	atomic_init(&run->done, 0);
	atomic_init(&run->target, WORKERS);
	g_mutex_init(&run->lock);
	g_cond_init(&run->all_done);
	micro_threads(&before);
	if (micro_pinned(pl))
		micro_pin_self(pl->there);
	pool = g_thread_pool_new(glib_task, run, WORKERS, TRUE, &error);
	if (!pool) {
		fprintf(stderr, "peers: g_thread_pool_new: %s\n", error ? error->message : "?");
		exit(1);
	}
	for (long i = 0; i < WORKERS; i++)
		glib_push(pool, i);
	glib_wait(run);
	if (!micro_pinned(pl))
		return pool;
	micro_pin_self(pl->here);
	micro_threads(&now);
	micro_tasks_new(&fresh, &before, &now);
	if (fresh.n != WORKERS)
		micro_fail("placement: GThreadPool did not start exactly its 2 threads");
	for (int i = 0; i < fresh.n; i++)
		micro_expect_task(fresh.id[i], pl->there, "a GThreadPool thread");
	return pool;
}

static void glib_pool_free(GThreadPool *pool, struct glib_run *run, const struct micro_place *pl)
{
	g_thread_pool_free(pool, FALSE, TRUE);
	g_mutex_clear(&run->lock);
	g_cond_clear(&run->all_done);
	if (micro_pinned(pl))
		micro_unpin_self();
}

static double glib_tasks_ns(long tasks)
{
	struct glib_run run;
	GThreadPool *pool = glib_pool(&run, NULL);

	double start = pl_now();
	atomic_store(&run.target, atomic_load(&run.done) + tasks);
	for (long i = 0; i < tasks; i++)
		glib_push(pool, i);
	glib_wait(&run);
	double elapsed = pl_now() - start;
	glib_pool_free(pool, &run, NULL);
	return elapsed * 1e9 / tasks;
}

static double glib_latency_ns(long trips, const struct micro_place *pl)
{
	struct glib_run run;
	GThreadPool *pool = glib_pool(&run, pl);

	double start = pl_now();
	for (long i = 0; i < trips; i++) {
		atomic_fetch_add(&run.target, 1);
		glib_push(pool, i);
		glib_wait(&run);
	}
	double elapsed = pl_now() - start;
	glib_pool_free(pool, &run, pl);
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

/* One task at a time from thread 0 (the caller, on pl->here) while
 * thread 1 (on pl->there) waits at the barrier, where it may take the
 * task; *handed_off counts those it took.  Each thread of the team pins
 * itself inside the region (libgomp keeps its threads from one region to
 * the next, created by the first region, unpinned) and unpins itself at
 * the end. */
static double omp_latency_ns(long trips, const struct micro_place *pl, long *handed_off)
{
	atomic_long others = 0;
	double elapsed = 0;

	omp_warm();
#pragma omp parallel num_threads(WORKERS)
	{
		int me = omp_get_thread_num();

		if (omp_get_num_threads() != WORKERS)
			micro_fail("OpenMP gave fewer threads than asked for");
		if (micro_pinned(pl))
			micro_pin_self(me == 0 ? pl->here : pl->there);
#pragma omp barrier
		if (me == 0) {
			double start = pl_now();
			for (long i = 0; i < trips; i++) {
#pragma omp task shared(others)
				{
					if (omp_get_thread_num() != 0)
						atomic_fetch_add_explicit(&others, 1,
									  memory_order_relaxed);
				}
#pragma omp taskwait
			}
			elapsed = pl_now() - start;
		}
#pragma omp barrier
		if (micro_pinned(pl))
			micro_unpin_self();
	}
	omp_settle();
	*handed_off += atomic_load(&others);
	return elapsed * 1e9 / trips;
}

/* ---- main ---------------------------------------------------------------- */

enum { CF_SUBMIT, CF_MAP, GLIB_TASKS, OMP_TASKS, N_TASKS };
enum { CF_LAT, GLIB_LAT, OMP_LAT, PER_PLACE };
enum { SAME, CROSS, N_PLACES };
#define LATENCY(p, i) (N_TASKS + (p) * PER_PLACE + (i))
#define N_FIGURES (N_TASKS + N_PLACES * PER_PLACE)

static struct micro_fig fig[N_FIGURES];
static long omp_handed_off[N_PLACES];   /* latency tasks run by the other thread */

static const struct {
	const char *key;
	const char *label;
} tasks_fig[N_TASKS] = {
	[CF_SUBMIT] = { "peer.cf.tasks_1m_submit", "tasks: cf submit all, then result+release each" },
	[CF_MAP] = { "peer.cf.tasks_1m_map", "tasks: cf_map, chunksize 1" },
	[GLIB_TASKS] = { "peer.glib.tasks_1m", "tasks: GThreadPool push all, wait for a count of all" },
	[OMP_TASKS] = { "peer.omp.tasks_1m", "tasks: OpenMP task each from one thread, then taskwait" },
}, latency_fig[PER_PLACE] = {
	[CF_LAT] = { "peer.cf.latency", "latency: cf submit + result" },
	[GLIB_LAT] = { "peer.glib.latency", "latency: GThreadPool push + wait on a condvar" },
	[OMP_LAT] = { "peer.omp.latency", "latency: OpenMP task + taskwait" },
};

static void init_figures(const struct micro_place *places, long tasks, long trips)
{
	static char heads[N_PLACES + 1][128];

	snprintf(heads[0], sizeof(heads[0]), "%ld empty tasks submitted and collected, %d workers, "
		 "ns per task:", tasks, WORKERS);
	for (int i = 0; i < N_TASKS; i++) {
		micro_fig_init(&fig[i], tasks_fig[i].key, tasks_fig[i].label, NULL);
		snprintf(fig[i].extra, sizeof(fig[i].extra), "\"tasks\":%ld,\"workers\":%d", tasks,
			 WORKERS);
	}
	fig[CF_SUBMIT].section = heads[0];
	for (int p = 0; p < N_PLACES; p++) {
		snprintf(heads[p + 1], sizeof(heads[p + 1]), "one task at a time on an idle pool, "
			 "%d workers, %s, ns per round trip:", WORKERS,
			 micro_where_name(places[p].where));
		for (int i = 0; i < PER_PLACE; i++) {
			struct micro_fig *f = &fig[LATENCY(p, i)];

			micro_fig_init(f, latency_fig[i].key, latency_fig[i].label, &places[p]);
			snprintf(f->extra, sizeof(f->extra), "\"trips\":%ld,\"workers\":%d", trips,
				 WORKERS);
			/* The condvar floor under them is cf_overhead's, measured
			 * in the rounds of the report's overhead group: one
			 * measurement of it per report.  Here the peers are read
			 * against cf. */
			if (i != CF_LAT)
				f->ref = &fig[LATENCY(p, CF_LAT)];
		}
		fig[LATENCY(p, CF_LAT)].section = heads[p + 1];
	}
}

/* One round: every figure once, in the order of fig[]. */
static void round_once(const struct micro_place *places, long tasks, long trips)
{
	double (*const task_fn[N_TASKS])(long) = {
		[CF_SUBMIT] = cf_submit_all_ns, [CF_MAP] = cf_map_ns,
		[GLIB_TASKS] = glib_tasks_ns, [OMP_TASKS] = omp_tasks_ns,
	};

	for (int i = 0; i < N_TASKS; i++)
		if (micro_fig_wanted(&fig[i]))
			micro_fig_add(&fig[i], task_fn[i](tasks));
	for (int p = 0; p < N_PLACES; p++) {
		const struct micro_place *pl = &places[p];
		struct micro_fig *f = &fig[LATENCY(p, 0)];

		if (micro_fig_wanted(&f[CF_LAT]))
			micro_fig_add(&f[CF_LAT], cf_latency_ns(trips, pl));
		if (micro_fig_wanted(&f[GLIB_LAT]))
			micro_fig_add(&f[GLIB_LAT], glib_latency_ns(trips, pl));
		if (micro_fig_wanted(&f[OMP_LAT]))
			micro_fig_add(&f[OMP_LAT], omp_latency_ns(trips, pl, &omp_handed_off[p]));
	}
}

/* The share of OpenMP's latency tasks that the other thread ran: the
 * rest ran in the spawner, inside taskwait, with no hand-off at all. */
static void note_handed_off(long trips)
{
	for (int p = 0; p < N_PLACES; p++) {
		struct micro_fig *f = &fig[LATENCY(p, OMP_LAT)];
		size_t len = strlen(f->extra);

		if (f->n > 0)
			snprintf(f->extra + len, sizeof(f->extra) - len, ",\"handed_off_share\":%.3f",
				 (double)omp_handed_off[p] / ((double)trips * f->n));
	}
}

/* Text only: cf's per-task figures over the peers', round by round. */
static void print_ratios(const struct micro_args *args, long trips)
{
	static const int cf[] = { CF_SUBMIT, CF_MAP }, peer[] = { GLIB_TASKS, OMP_TASKS };

	if (args->json)
		return;
	printf(" cf per task over the peer's, median of the per-round ratios (below 1: cf is "
	       "cheaper):\n");
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++) {
			double r = micro_paired_ratio(&fig[cf[i]], &fig[peer[j]]);

			if (r > 0)
				printf("  %-46s / %-24s %8.3g\n", fig[cf[i]].key, fig[peer[j]].key, r);
		}
	for (int p = 0; p < N_PLACES; p++) {
		const struct micro_fig *f = &fig[LATENCY(p, OMP_LAT)];

		if (f->n > 0)
			printf("  %s: the other thread ran %.1f %% of the OpenMP latency tasks\n",
			       micro_where_name(f->where),
			       100.0 * omp_handed_off[p] / ((double)trips * f->n));
	}
}

int main(int argc, char **argv)
{
	struct micro_args args = micro_parse(argc, argv, "peers",
		"cf next to GLib's GThreadPool and OpenMP tasks, 2 workers each: empty tasks\n"
		"submitted and collected, and one task's submit-to-completion latency");
	long tasks = args.quick ? 20000 : 1000000;
	long trips = args.quick ? 200 : 2000;
	struct micro_place places[N_PLACES];

	/* A freed pool's threads would wait as "unused" threads for the next
	 * pool, which would take them with whatever mask they had: each pool
	 * gets threads of its own instead. */
	g_thread_pool_set_max_unused_threads(0);
	micro_places(&places[SAME], &places[CROSS]);
	init_figures(places, tasks, trips);
	micro_select(&args, fig, N_FIGURES);
	for (int r = 0; r < args.rounds; r++)
		round_once(places, tasks, trips);
	note_handed_off(trips);
	micro_emit(&args, "peers", fig, N_FIGURES);
	print_ratios(&args, trips);
	return 0;
}
