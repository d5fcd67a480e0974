/* What the cf "mpi" backend costs, next to the MPI floor under it,
 * measured in the same rounds (issue 22, docs/distributed.md):
 *
 *   a) cf_submit + cf_future_result of an empty task with an 8-byte
 *      argument, one at a time, on an idle one-worker pool whose waits
 *      spin (idle_spin_us 1000), against an MPI ping-pong of the same
 *      message sizes with a spawned peer that polls the same way
 *      (mpi_floor.h); target: at most 1.5 times the round trip;
 *   b) cf_map of 10^6 empty tasks at chunksize 1024 on that pool, in ns
 *      per task; target: at most 1/20 of the round trip per task;
 *   c) pool start-up: cf_executor_new up to the first result, the
 *      worker's spawn included, next to MPI_Comm_spawn of the floor's
 *      peer up to its first answer;
 *   d) idle CPU: the CPU time of the caller's process and of the worker
 *      over 2 s of an idle pool, once its waits have stopped spinning and
 *      settled into their idle sleeps; target: at most 1 % of one CPU
 *      each (the "0 % after the spin", with room for the polls
 *      of the back-off).
 *
 * Each round measures every figure once, in the order of the output: the
 * floor's peer is spawned, pinged and stopped, then a pool is made,
 * measured and freed, so that neither runs while the other is measured.
 * The text output ends with every target, the figure's median over the
 * rounds with its 95 % interval (ratios taken round by round) and the
 * verdict that interval gives; --csv FILE writes the same as CSV
 * (docs/sample-report/mpi-overhead.csv is one).  Every figure is
 * unpinned: Open MPI's launcher places the spawned processes.
 *
 * Open MPI must be able to spawn: as root it wants
 * OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1, which this
 * program never sets itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cf.h"
#include "stats.h"

#include "cf_measure.h"
#include "cpu_time.h"
#include "micro_util.h"
#include "mpi_floor.h"
#include "verdict.h"

#define NAME "cf_mpi_overhead"
#define IDLE_SPIN_US 1000
#define CHUNKSIZE 1024
/* Longer than the spin, the back-off's climb to 1 ms sleeps (about 2 ms)
 * and the idle time after which a worker sleeps deeper
 * (CF_MPI_DEEP_IDLE_S in executors/src/mpi/proto.h, a fraction of this):
 * what follows is the idle state, not the way into it. */
#define IDLE_SETTLE_S 0.5

enum { F_SPAWN, F_STARTUP, F_TRIP, F_ONE, F_MAP, F_IDLE_CALLER, F_IDLE_WORKER, N_FIGURES };

/* How a figure is shown in the targets and the CSV: its samples (ns, or
 * CPU ns per second for the idle figures) times scale, in unit. */
struct shown {
	double scale;
	const char *unit;
};

static const struct shown shown[N_FIGURES] = {
	[F_SPAWN] = { 1e-6, "ms" },      [F_STARTUP] = { 1e-6, "ms" },
	[F_TRIP] = { 1e-3, "us" },       [F_ONE] = { 1e-3, "us" },
	[F_MAP] = { 1, "ns" },           [F_IDLE_CALLER] = { 1e-7, "%" },
	[F_IDLE_WORKER] = { 1e-7, "%" },
};

/* A line of the targets: figure a (over figure b for a ratio), with the
 * goal it must stay under (0: none, shown for reading). */
struct target {
	const char *key, *what;
	int a, b;               /* b < 0: figure a itself */
	double goal;
	const char *goal_text;
};

static const struct target targets[] = {
	{ "ratio.submit_result_over_round_trip", "a) submit+result / ping-pong round trip",
	  F_ONE, F_TRIP, 1.5, "<= 1.5" },
	{ "ratio.map_task_over_round_trip", "b) map, per task / ping-pong round trip",
	  F_MAP, F_TRIP, 1.0 / 20, "<= 1/20" },
	{ "startup_ms", "c) pool start-up to the first result, ms", F_STARTUP, -1, 0, "-" },
	{ "ratio.startup_over_spawn", "c) pool start-up / spawn + first round trip",
	  F_STARTUP, F_SPAWN, 0, "-" },
	{ "idle_cpu_pct.caller", "d) idle CPU, the caller's process, % of a CPU",
	  F_IDLE_CALLER, -1, 1.0, "<= 1 %" },
	{ "idle_cpu_pct.worker", "d) idle CPU, the worker, % of a CPU", F_IDLE_WORKER, -1, 1.0,
	  "<= 1 %" },
};
#define N_TARGETS ((int)(sizeof(targets) / sizeof(targets[0])))

struct sizes {
	long trips;             /* round trips and submits per round */
	long tasks;             /* tasks of the map */
	double idle_s;          /* the idle window */
};

static struct micro_fig fig[N_FIGURES];

/* ---- the tasks ------------------------------------------------------------- */

static int empty_arg_task(cf_task *task)
{
	(void)task;
	return 0;
}

/* The worker's pid, to read its CPU time. */
static int pid_task(cf_task *task)
{
	long pid = (long)getpid();

	return cf_task_return(task, &pid, sizeof(pid));
}

/* ---- the cf side -------------------------------------------------------------- */

static cf_executor *pool_new(long *worker_pid)
{
	cf_options opts = { .max_workers = 1, .idle_spin_us = IDLE_SPIN_US };
	cf_executor *ex;
	cf_future *f;
	const void *data;
	size_t size;

	if (cf_executor_new("mpi", &opts, &ex) != CF_OK)
		micro_fail("cannot create an mpi pool");
	/* The pool spawns its worker at the first submit. */
	if (cf_submit(ex, pid_task, NULL, 0, &f) != CF_OK ||
	    cf_future_result(f, CF_FOREVER, &data, &size) != CF_OK || size != sizeof(long)) {
		fprintf(stderr, "%s: %s\n", NAME,
			cf_executor_broken_reason(ex) ? cf_executor_broken_reason(ex) : "no reason");
		micro_fail("the mpi pool's first task failed");
	}
	memcpy(worker_pid, data, sizeof(*worker_pid));
	cf_future_release(f);
	return ex;
}

static double submit_result_ns(cf_executor *ex, long trips)
{
	unsigned char arg[MPI_FLOOR_ARG_BYTES] = { 0 };
	cf_future *f;

	double start = pl_now();
	for (long i = 0; i < trips; i++) {
		if (cf_submit(ex, empty_arg_task, arg, sizeof(arg), &f) != CF_OK ||
		    cf_future_result(f, CF_FOREVER, NULL, NULL) != CF_OK)
			micro_fail("submit+result failed");
		cf_future_release(f);
	}
	return (pl_now() - start) * 1e9 / trips;
}

static void sleep_for(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* CPU ns per second of wall of the caller's process and of the worker
 * while the pool sits idle. */
static void idle_cpu(pid_t worker, double window_s, double *caller, double *work)
{
	double c0, w0, t0, c1, w1, t1;

	sleep_for(IDLE_SETTLE_S);
	c0 = cpu_ns_of(getpid());
	w0 = cpu_ns_of(worker);
	t0 = pl_now();
	sleep_for(window_s);
	c1 = cpu_ns_of(getpid());
	w1 = cpu_ns_of(worker);
	t1 = pl_now();
	if (c0 < 0 || w0 < 0 || c1 < 0 || w1 < 0)
		micro_fail("cannot read the CPU time of the caller or the worker (/proc)");
	*caller = (c1 - c0) / (t1 - t0);
	*work = (w1 - w0) / (t1 - t0);
}

/* ---- rounds ----------------------------------------------------------------------- */

/* A CPU time may be 0 (micro_fig_add takes only positive samples). */
static void add_cpu(struct micro_fig *f, double v)
{
	if (f->n == MICRO_MAX_ROUNDS || !(v >= 0))
		micro_fail("an idle CPU sample out of range");
	f->samples[f->n++] = v;
}

static void add(int i, double v)
{
	micro_fig_add(&fig[i], v);
}

static bool wanted(int i)
{
	return micro_fig_wanted(&fig[i]);
}

static void floor_round(const struct sizes *sz)
{
	if (!wanted(F_SPAWN) && !wanted(F_TRIP))
		return;
	double spawn = mpi_floor_spawn_ns(IDLE_SPIN_US);
	if (wanted(F_SPAWN))
		add(F_SPAWN, spawn);
	if (wanted(F_TRIP))
		add(F_TRIP, mpi_floor_round_trip_ns(sz->trips));
	mpi_floor_stop();
}

static void cf_round(const struct sizes *sz)
{
	long worker = 0;
	bool any = false;

	for (int i = F_STARTUP; i < N_FIGURES; i++)
		any = any || (i != F_TRIP && wanted(i));
	if (!any)
		return;
	double start = pl_now();
	cf_executor *ex = pool_new(&worker);
	if (wanted(F_STARTUP))
		add(F_STARTUP, (pl_now() - start) * 1e9);
	if (wanted(F_ONE))
		add(F_ONE, submit_result_ns(ex, sz->trips));
	if (wanted(F_MAP))
		add(F_MAP, micro_map_empty_ns(ex, sz->tasks, CHUNKSIZE));
	if (wanted(F_IDLE_CALLER) || wanted(F_IDLE_WORKER)) {
		double caller, work;

		idle_cpu((pid_t)worker, sz->idle_s, &caller, &work);
		if (wanted(F_IDLE_CALLER))
			add_cpu(&fig[F_IDLE_CALLER], caller);
		if (wanted(F_IDLE_WORKER))
			add_cpu(&fig[F_IDLE_WORKER], work);
	}
	cf_executor_free(ex);
	/* As the floor does: the next round's spawn after this job's end. */
	if (!wait_gone((pid_t)worker, MPI_FLOOR_END_BOUND_S))
		fprintf(stderr, "%s: the pool's worker (pid %ld) still runs %.0f s after "
			"cf_executor_free\n", NAME, worker, MPI_FLOOR_END_BOUND_S);
}

/* ---- figures and targets ------------------------------------------------------------ */

static void init_figures(const struct sizes *sz)
{
	char label[200];

	micro_fig_init(&fig[F_SPAWN], "floor.mpi.spawn_first",
		       "floor: MPI_Comm_spawn of 1 peer + its first round trip", NULL);
	micro_fig_init(&fig[F_STARTUP], "cf.mpi.startup",
		       "cf mpi: cf_executor_new + first result, 1 worker (spawn included)", NULL);
	fig[F_STARTUP].ref = &fig[F_SPAWN];
	snprintf(label, sizeof(label),
		 "floor: MPI ping-pong with a spawned peer, %d B there, %d B back, MPI_Improbe polling",
		 MPI_FLOOR_PING_BYTES, MPI_FLOOR_PONG_BYTES);
	micro_fig_init(&fig[F_TRIP], "floor.mpi.round_trip", label, NULL);
	snprintf(label, sizeof(label),
		 "cf mpi submit+result, idle 1-worker pool, %d-byte argument, idle_spin_us %d",
		 MPI_FLOOR_ARG_BYTES, IDLE_SPIN_US);
	micro_fig_init(&fig[F_ONE], "cf.mpi.submit_result", label, NULL);
	fig[F_ONE].ref = &fig[F_TRIP];
	snprintf(label, sizeof(label), "cf mpi map, %ld empty tasks, chunksize %d, 1 worker",
		 sz->tasks, CHUNKSIZE);
	micro_fig_init(&fig[F_MAP], "cf.mpi.map.chunk1024", label, NULL);
	fig[F_MAP].ref = &fig[F_TRIP];
	snprintf(fig[F_MAP].extra, sizeof(fig[F_MAP].extra),
		 "\"tasks\":%ld,\"workers\":1,\"chunksize\":%d", sz->tasks, CHUNKSIZE);
	/* Their samples are CPU ns per s of wall, which the report's table
	 * would show under "ns" if the name did not say it; the CSV and the
	 * targets show them in %. */
	snprintf(label, sizeof(label),
		 "idle CPU of the caller's process over %.1f s, CPU ns per s of wall", sz->idle_s);
	micro_fig_init(&fig[F_IDLE_CALLER], "cf.mpi.idle_cpu.caller", label, NULL);
	snprintf(label, sizeof(label), "idle CPU of the worker over %.1f s, CPU ns per s of wall",
		 sz->idle_s);
	micro_fig_init(&fig[F_IDLE_WORKER], "cf.mpi.idle_cpu.worker", label, NULL);
	for (int i = F_IDLE_CALLER; i <= F_IDLE_WORKER; i++)
		snprintf(fig[i].extra, sizeof(fig[i].extra),
			 "\"unit\":\"cpu_ns_per_s\",\"window_s\":%.3f", sz->idle_s);
}

/* The target's estimate in its unit; false when a figure it needs was
 * not measured (--only). */
static bool target_estimate(const struct target *t, struct estimate *e)
{
	const struct micro_fig *a = &fig[t->a];

	if (!wanted(t->a) || (t->b >= 0 && !wanted(t->b)))
		return false;
	if (t->b >= 0) {
		estimate_ratio(e, a->samples, fig[t->b].samples, a->n);
	} else {
		estimate_of(e, a->samples, a->n);
		*e = estimate_scaled(e, shown[t->a].scale);
	}
	return true;
}

static const char *target_verdict(const struct target *t, const struct estimate *e)
{
	return t->goal > 0 ? verdict_at_most(e, t->goal) : "-";
}

static void print_targets(void)
{
	char text[96];
	struct estimate e;

	printf(" targets: the median of the rounds with its 95 %% interval (ratios round by "
	       "round);\n a verdict only when the interval lies on one side of the goal\n");
	for (int i = 0; i < N_TARGETS; i++) {
		const struct target *t = &targets[i];

		if (!target_estimate(t, &e)) {
			printf("  %-46s %-30s %-8s %s\n", t->what, "not measured", t->goal_text, "-");
			continue;
		}
		estimate_text(text, sizeof(text), &e);
		printf("  %-46s %-30s %-8s %s\n", t->what, text, t->goal_text,
		       target_verdict(t, &e));
	}
}

/* ---- CSV --------------------------------------------------------------------------------- */

static void csv_text(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void csv_row(FILE *f, const char *kind, const char *key, const char *what,
		    const struct estimate *e, const char *unit, const char *goal,
		    const char *verdict, const char *command)
{
	char text[96];

	estimate_text(text, sizeof(text), e);
	fprintf(f, "%s,%s,", kind, key);
	csv_text(f, what);
	fprintf(f, ",%.6g,", e->value);
	if (e->has_interval)
		fprintf(f, "%.6g,%.6g", e->lo, e->hi);
	else
		fputc(',', f);
	fprintf(f, ",%s,", unit);
	csv_text(f, text);
	fprintf(f, ",%s,%s,%d,", goal, verdict, e->n);
	csv_text(f, command);
	fputc('\n', f);
}

/* Every figure in its unit, then every target, one row each. */
static void write_csv(const char *path, const char *command)
{
	FILE *f = fopen(path, "w");
	struct estimate e;

	if (!f)
		micro_fail("cannot open the --csv file");
	fprintf(f, "kind,key,what,value,lo,hi,unit,text,goal,verdict,rounds,command\n");
	for (int i = 0; i < N_FIGURES; i++) {
		if (!wanted(i))
			continue;
		estimate_of(&e, fig[i].samples, fig[i].n);
		e = estimate_scaled(&e, shown[i].scale);
		csv_row(f, "figure", fig[i].key, fig[i].name, &e, shown[i].unit, "", "", command);
	}
	for (int i = 0; i < N_TARGETS; i++) {
		const struct target *t = &targets[i];

		if (!target_estimate(t, &e))
			continue;
		csv_row(f, "target", t->key, t->what + 3, &e,
			t->b >= 0 ? "x" : shown[t->a].unit, t->goal > 0 ? t->goal_text : "",
			t->goal > 0 ? target_verdict(t, &e) : "", command);
	}
	if (fclose(f) != 0)
		micro_fail("cannot write the --csv file");
}

/* ---- the command line ------------------------------------------------------------------ */

static void usage(void)
{
	printf("usage: %s [--rounds N] [--quick] [--json] [--only KEYS] [--csv FILE]\n"
	       "cf mpi backend: submit+result and map against an MPI ping-pong, pool start-up,\n"
	       "idle CPU (issue 22)\n\n"
	       "  --rounds N  rounds, 1..%d (default 7): each round measures every figure\n"
	       "              once, in the same order; a 95 %% interval needs 6 rounds\n"
	       "  --quick     fewer iterations per round and a 0.2 s idle window (a smoke run)\n"
	       "  --json      one JSON object per figure on stdout, every round's sample\n"
	       "              (no targets: the analysis judges those)\n"
	       "  --only KEYS only the figures with these keys, separated by commas\n"
	       "  --csv FILE  also write every figure and target, with its interval and\n"
	       "              verdict, to FILE\n"
	       "  -h, --help  this text\n\n"
	       "Targets: submit+result <= 1.5 x the ping-pong round trip; map per task\n"
	       "<= 1/20 of it; idle CPU <= 1 %% of a CPU per process.  Run it without\n"
	       "mpirun: it spawns its peer and the pool's worker (as root Open MPI wants\n"
	       "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1).\n",
	       NAME, MICRO_MAX_ROUNDS);
}

static void bad_usage(const char *what)
{
	fprintf(stderr, "%s: error: %s (try --help)\n", NAME, what);
	exit(2);
}

/* Takes --csv FILE (or --csv=FILE) and --help out of argv; what is left
 * goes to micro_parse. */
static const char *take_own_options(int *argc, char **argv)
{
	const char *csv = NULL;
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage();
			exit(0);
		} else if (!strncmp(argv[i], "--csv=", 6)) {
			csv = argv[i] + 6;
		} else if (!strcmp(argv[i], "--csv")) {
			if (i + 1 >= *argc)
				bad_usage("--csv needs a file name");
			csv = argv[++i];
		} else {
			argv[out++] = argv[i];
			continue;
		}
		if (!*csv)
			bad_usage("--csv needs a file name");
	}
	*argc = out;
	argv[out] = NULL;
	return csv;
}

/* The command line as run, for the CSV. */
static void command_line(char *buf, size_t size, int argc, char **argv)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < argc && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? " " : "", argv[i]);
}

int main(int argc, char **argv)
{
	char command[1024];

	if (mpi_floor_is_peer(argc, argv))
		return mpi_floor_peer_main(argc > 2 ? atoi(argv[2]) : IDLE_SPIN_US);
	command_line(command, sizeof(command), argc, argv);
	const char *csv = take_own_options(&argc, argv);
	struct micro_args args = micro_parse(argc, argv, NAME,
		"cf mpi backend: ping-pong floor, submit+result, map, start-up, idle CPU");
	struct sizes sz = { args.quick ? 200 : 2000, args.quick ? 20000 : 1000000,
			    args.quick ? 0.2 : 2.0 };

	init_figures(&sz);
	micro_select(&args, fig, N_FIGURES);
	mpi_floor_init();
	for (int r = 0; r < args.rounds; r++) {
		floor_round(&sz);
		cf_round(&sz);
	}
	micro_emit(&args, NAME, fig, N_FIGURES);
	if (!args.json) {
		printf(" (the idle CPU figures are CPU ns per second of wall)\n");
		print_targets();
		if (fflush(stdout) != 0 || ferror(stdout))
			micro_fail("cannot write the targets to standard output");
	}
	if (csv)
		write_csv(csv, command);
	mpi_floor_finalize();
	return 0;
}
