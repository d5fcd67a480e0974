/* The floors, all in one run: what each primitive under a model costs by
 * itself.  The report quotes every model's per-task overhead as a
 * multiple of the floor under it (thread-pool: condvar hand-off;
 * process-pool: pipe round trip; pthreads: thread create+join; fork:
 * fork+wait; openmp: the parallel region's fork-join).
 *
 * OpenMP reads OMP_WAIT_POLICY once, when the runtime starts, so each
 * policy is measured in a fresh copy of this program (--omp-probe).
 */
#define _GNU_SOURCE
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "micro_util.h"
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

/* --omp-probe ITERATIONS THREADS ROUNDS: prints the median fork-join ns
 * under whatever OMP_WAIT_POLICY this process was started with. */
static int omp_probe(char **argv)
{
	long iterations = atol(argv[2]);
	int threads = atoi(argv[3]), rounds = atoi(argv[4]);
	struct micro_stat s;

	if (iterations < 1 || threads < 1 || rounds < 1 || rounds > MICRO_MAX_ROUNDS)
		return 2;
	MICRO_MEASURE(&s, rounds, omp_fork_join_ns(iterations, threads));
	printf("%.1f %.1f %.1f\n", s.median, s.p90, s.min);
	return 0;
}

/* Runs this program again with OMP_WAIT_POLICY=policy and reads its
 * figures. */
static int omp_under_policy(const char *policy, long iterations, int threads, int rounds,
			    struct micro_stat *s)
{
	char cmd[512], exe[256];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return -1;
	exe[n] = '\0';
	snprintf(cmd, sizeof(cmd), "OMP_WAIT_POLICY=%s '%s' --omp-probe %ld %d %d", policy, exe,
		 iterations, threads, rounds);
	FILE *f = popen(cmd, "r");
	if (!f)
		return -1;
	int got = fscanf(f, "%lf %lf %lf", &s->median, &s->p90, &s->min);
	int status = pclose(f);
	s->rounds = rounds;
	return got == 3 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "--omp-probe") == 0)
		return omp_probe(argv);

	struct micro_args args = micro_parse(argc, argv, "floors",
		"the floors: hand-offs, round trips, creation, OpenMP fork-join, timer slack");
	long k = args.quick ? 1 : 10;
	int cores = micro_cores();
	struct micro_stat s;
	char label[128];

	micro_header(&args);
#define ROW(label_text, expr) do {                                      \
		MICRO_MEASURE(&s, args.rounds, (expr));                 \
		micro_row(&args, (label_text), &s, NULL, 0, NULL);      \
	} while (0)

	ROW("floor: cache-line ping-pong round trip (2 spinning threads)",
	    floor_cache_line_round_trip_ns(20000 * k));
	ROW("floor: mutex+condvar hand-off round trip", floor_condvar_round_trip_ns(2000 * k));
	ROW("floor: futex ping-pong round trip", floor_futex_round_trip_ns(2000 * k));
	ROW("floor: pipe round trip between 2 processes", floor_pipe_round_trip_ns(2000 * k));
	ROW("floor: pthread_create+join of an empty thread", floor_thread_create_join_ns(200 * k));
	ROW("floor: fork+_exit+waitpid of a small process", floor_fork_wait_ns(20 * k));

	static const char *const policies[] = { "active", "passive" };
	for (int i = 0; i < 2; i++) {
		snprintf(label, sizeof(label),
			 "floor: OpenMP parallel fork-join, %d threads, OMP_WAIT_POLICY=%s", cores,
			 policies[i]);
		if (omp_under_policy(policies[i], 500 * k, cores, args.rounds, &s) == 0)
			micro_row(&args, label, &s, NULL, 0, NULL);
		else
			fprintf(stderr, "floors: the OpenMP probe under %s failed\n", policies[i]);
	}
	snprintf(label, sizeof(label), "floor: OpenMP parallel fork-join, %d threads, default policy",
		 cores);
	ROW(label, omp_fork_join_ns(500 * k, cores));
	snprintf(label, sizeof(label), "floor: OpenMP empty task, %d threads", cores);
	ROW(label, omp_task_ns(20000 * k, cores));

	/* 1, 2 and 3 ms: the sleep workload's tasks at --scale 0.001, whose
	 * overshoot grows with the length on some machines. */
	ROW("timer: real duration of nanosleep(1 ms)", floor_nanosleep_ns(1000, 5 * k));
	ROW("timer: real duration of nanosleep(2 ms)", floor_nanosleep_ns(2000, 5 * k));
	ROW("timer: real duration of nanosleep(3 ms)", floor_nanosleep_ns(3000, 5 * k));
	ROW("timer: real duration of nanosleep(100 us)", floor_nanosleep_ns(100, 20 * k));
	return 0;
}
