/* The floors: what each primitive under a model costs by itself.  The
 * report quotes every model's per-task overhead as a multiple of the
 * floor under it (pthreads: thread create+join; fork: fork+wait; openmp:
 * the parallel region's fork-join or an empty task).  The two floors under
 * the pools, the mutex+condvar and the pipe round trips, are measured by
 * cf_overhead and cf_process_overhead, in the same rounds as the pool
 * figures they bound: a report has one measurement of each.
 *
 * Every ping-pong is measured with both ends on one CPU and on two
 * (placement.h); creation, OpenMP and the timer run unpinned.  All of them
 * are measured round by round, each figure once per round in the order of
 * the table below, so that a change in the machine's load falls on every
 * figure of a round alike.
 *
 * OpenMP reads OMP_WAIT_POLICY once, when the runtime starts, so each
 * policy is measured in a fresh copy of this program (--omp-probe), one
 * per round.
 */
#define _GNU_SOURCE
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "micro_util.h"
#include "placement.h"
#include "primitives.h"
#include "stats.h"

static volatile long sink;

/* An empty region the compiler cannot drop: each thread touches sink. */
static double omp_fork_join_ns(long iterations, int threads)
{
	double start = pl_now();

	for (long i = 0; i < iterations; i++) {
#pragma omp parallel num_threads(threads)
		{
			__asm__ __volatile__("" ::: "memory");
		}
	}
	return (pl_now() - start) * 1e9 / iterations;
}

static double omp_task_ns(long tasks, int threads)
{
	double start = pl_now();

#pragma omp parallel num_threads(threads)
#pragma omp single
	for (long i = 0; i < tasks; i++) {
#pragma omp task firstprivate(i)
		sink = i;       /* a body with an effect: not deleted */
	}
	return (pl_now() - start) * 1e9 / tasks;
}

/* --omp-probe ITERATIONS THREADS ROUNDS: prints each round's fork-join ns,
 * on one line, under whatever OMP_WAIT_POLICY this process was started
 * with. */
static int omp_probe(char **argv)
{
	long iterations = atol(argv[2]);
	int threads = atoi(argv[3]), rounds = atoi(argv[4]);

	if (iterations < 1 || threads < 1 || rounds < 1 || rounds > MICRO_MAX_ROUNDS)
		return 2;
	for (int r = 0; r < rounds; r++)
		printf("%s%.1f", r ? " " : "", omp_fork_join_ns(iterations, threads));
	printf("\n");
	return 0;
}

/* Runs this program again with OMP_WAIT_POLICY=policy for one round; its
 * figure, or -1 if the probe failed. */
static double omp_under_policy(const char *policy, long iterations, int threads)
{
	char cmd[512], exe[256];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	double ns;

	if (n <= 0)
		return -1;
	exe[n] = '\0';
	snprintf(cmd, sizeof(cmd), "OMP_WAIT_POLICY=%s '%s' --omp-probe %ld %d 1", policy, exe,
		 iterations, threads);
	fflush(stdout);         /* else the child's copy of the buffer is ours too */
	FILE *f = popen(cmd, "r");
	if (!f)
		return -1;
	int got = fscanf(f, "%lf", &ns);
	int status = pclose(f);
	return got == 1 && WIFEXITED(status) && WEXITSTATUS(status) == 0 && ns > 0 ? ns : -1;
}

enum {
	CACHE_SAME, CACHE_CROSS, FUTEX_SAME, FUTEX_CROSS, THREAD, FORK, OMP_ACTIVE, OMP_PASSIVE, OMP_DEFAULT, OMP_TASK,
	SLEEP_1MS, SLEEP_2MS, SLEEP_3MS, SLEEP_100US, N_FIGURES
};

static struct micro_fig fig[N_FIGURES];

/* Iterations per round of each figure, full run (a quick run does a
 * tenth): a round stays short, a few hundred ms in all. */
static const long full_iterations[N_FIGURES] = {
	[CACHE_SAME] = 20000, [CACHE_CROSS] = 20000,
	[FUTEX_SAME] = 2000, [FUTEX_CROSS] = 2000,
	[THREAD] = 200, [FORK] = 20, [OMP_ACTIVE] = 500, [OMP_PASSIVE] = 500,
	[OMP_DEFAULT] = 500, [OMP_TASK] = 20000,
	[SLEEP_1MS] = 10, [SLEEP_2MS] = 10, [SLEEP_3MS] = 10, [SLEEP_100US] = 50,
};

static void init_figures(const struct micro_place *same, const struct micro_place *cross,
			 int cores)
{
	static const struct {
		int fig;
		const char *key, *label;
	} pairs[] = {
		{ CACHE_SAME, "floor.cache_line",
		  "floor: cache-line ping-pong round trip (2 spinning threads)" },
		{ FUTEX_SAME, "floor.futex", "floor: futex ping-pong round trip" },
	};
	char label[160];

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		micro_fig_init(&fig[pairs[i].fig], pairs[i].key, pairs[i].label, same);
		micro_fig_init(&fig[pairs[i].fig + 1], pairs[i].key, pairs[i].label, cross);
		fig[pairs[i].fig + 1].ref = &fig[pairs[i].fig];
	}
	micro_fig_init(&fig[THREAD], "floor.thread_create_join",
		       "floor: pthread_create+join of an empty thread", NULL);
	micro_fig_init(&fig[FORK], "floor.fork_wait",
		       "floor: fork+_exit+waitpid of a small process", NULL);
	snprintf(label, sizeof(label),
		 "floor: OpenMP parallel fork-join, %d threads, OMP_WAIT_POLICY=active", cores);
	micro_fig_init(&fig[OMP_ACTIVE], "floor.omp_fork_join.active", label, NULL);
	snprintf(label, sizeof(label),
		 "floor: OpenMP parallel fork-join, %d threads, OMP_WAIT_POLICY=passive", cores);
	micro_fig_init(&fig[OMP_PASSIVE], "floor.omp_fork_join.passive", label, NULL);
	snprintf(label, sizeof(label), "floor: OpenMP parallel fork-join, %d threads, default policy",
		 cores);
	micro_fig_init(&fig[OMP_DEFAULT], "floor.omp_fork_join.default", label, NULL);
	snprintf(label, sizeof(label), "floor: OpenMP empty task, %d threads", cores);
	micro_fig_init(&fig[OMP_TASK], "floor.omp_task", label, NULL);
	/* 1, 2 and 3 ms: the sleep workload's tasks at --scale 0.001, whose
	 * overshoot grows with the length on some machines. */
	micro_fig_init(&fig[SLEEP_1MS], "timer.nanosleep_1ms",
		       "timer: real duration of nanosleep(1 ms)", NULL);
	micro_fig_init(&fig[SLEEP_2MS], "timer.nanosleep_2ms",
		       "timer: real duration of nanosleep(2 ms)", NULL);
	micro_fig_init(&fig[SLEEP_3MS], "timer.nanosleep_3ms",
		       "timer: real duration of nanosleep(3 ms)", NULL);
	micro_fig_init(&fig[SLEEP_100US], "timer.nanosleep_100us",
		       "timer: real duration of nanosleep(100 us)", NULL);
}

/* An OpenMP probe that failed leaves its figure without this round's
 * sample: the figure is dropped rather than printed with fewer samples
 * than its group's rounds. */
static void probe_sample(struct micro_fig *f, const char *policy, long iterations, int cores)
{
	double ns = omp_under_policy(policy, iterations, cores);

	if (ns > 0) {
		micro_fig_add(f, ns);
		return;
	}
	fprintf(stderr, "floors: the OpenMP probe under OMP_WAIT_POLICY=%s failed\n", policy);
	f->skipped = "the OpenMP probe (a fresh copy of this program) failed";
}

/* One sample of figure i. */
static double measure(int i, const struct micro_place *same, const struct micro_place *cross,
		      long n, int cores)
{
	/* The ping-pongs come first, in pairs: same-core at even places. */
	const struct micro_place *pl = i % 2 == 0 ? same : cross;

	switch (i) {
	case CACHE_SAME: case CACHE_CROSS:
		return floor_cache_line_round_trip_ns(n, pl);
	case FUTEX_SAME: case FUTEX_CROSS:
		return floor_futex_round_trip_ns(n, pl);
	case THREAD:
		return floor_thread_create_join_ns(n);
	case FORK:
		return floor_fork_wait_ns(n);
	case OMP_DEFAULT:
		return omp_fork_join_ns(n, cores);
	case OMP_TASK:
		return omp_task_ns(n, cores);
	case SLEEP_1MS:
		return floor_nanosleep_ns(1000, n);
	case SLEEP_2MS:
		return floor_nanosleep_ns(2000, n);
	case SLEEP_3MS:
		return floor_nanosleep_ns(3000, n);
	case SLEEP_100US:
		return floor_nanosleep_ns(100, n);
	}
	micro_fail("no such figure");
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "--omp-probe") == 0)
		return omp_probe(argv);

	struct micro_args args = micro_parse(argc, argv, "floors",
		"the floors: hand-offs, round trips, creation, OpenMP fork-join, timer slack");
	int cores = micro_cores();
	struct micro_place same, cross;

	micro_places(&same, &cross);
	init_figures(&same, &cross, cores);
	micro_select(&args, fig, N_FIGURES);
	for (int r = 0; r < args.rounds; r++) {
		for (int i = 0; i < N_FIGURES; i++) {
			long n = full_iterations[i] / (args.quick ? 10 : 1);

			if (!micro_fig_wanted(&fig[i]))
				continue;
			n = n > 0 ? n : 1;
			if (i == OMP_ACTIVE || i == OMP_PASSIVE)
				probe_sample(&fig[i], i == OMP_ACTIVE ? "active" : "passive", n,
					     cores);
			else
				micro_fig_add(&fig[i], measure(i, &same, &cross, n, cores));
		}
	}
	micro_emit(&args, "floors", fig, N_FIGURES);
	return 0;
}
