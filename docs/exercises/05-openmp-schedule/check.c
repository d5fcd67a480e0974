/* The checker of exercise 5: fill() on 2 and 4 threads; every cell
 * records which thread computed it, and the checker adds up the work
 * each thread did.
 *
 * A cell WAITS for its cost instead of computing it: waiting threads do
 * not compete for cores, so the result is the same on a 2-core machine
 * running 4 threads, or on a machine busy with other programs, as on an
 * idle one with a core per thread.  The lesson about schedules is the
 * same for computing cells when every thread has its own core. */
#define _GNU_SOURCE
#include <math.h>
#include <omp.h>
#include <stdlib.h>

#include "check.h"
#include "exercise.h"

#define N 200
#define US_PER_I 20
#define MAX_THREADS 64

/* Each thread writes only its own slot. */
static long work_us[MAX_THREADS];       /* the cost of the cells it computed */
static double cell_s[MAX_THREADS];      /* the time they took, measured */
static int wrong_thread;

/* Who ran each cell, and when: the schedule PARLAB_TRACE=FILE draws.
 * Each cell's slot is written by the one thread that computed it. */
static struct { int thread; double start, end; } ran[N];
static double loop_start, loop_end;

double cell(long i)
{
	int t = omp_get_thread_num();
	double start = check_now();
	struct timespec ts = { 0, US_PER_I * i * 1000L };

	nanosleep(&ts, NULL);
	if (t < 0 || t >= MAX_THREADS) {
		wrong_thread = 1;
	} else {
		work_us[t] += US_PER_I * i;
		cell_s[t] += check_now() - start;
	}
	if (i >= 0 && i < N) {
		ran[i].thread = t;
		ran[i].start = start;
		ran[i].end = check_now();
	}
	return sqrt((double)i);
}

/* PARLAB_TRACE=FILE: the 4-thread run's schedule as a parlab trace
 * (docs/timeline.md), for scripts/timeline FILE to draw.  OpenMP's
 * thread 0 is the thread that called fill(): the trace's "main". */
static void write_schedule(int threads)
{
	const char *path = getenv("PARLAB_TRACE");
	FILE *f;

	if (!path || !*path)
		return;
	f = fopen(path, "w");
	CHECK(f, "PARLAB_TRACE=%s: cannot write it: %s", path, strerror(errno));
	fprintf(f, "{\"traceEvents\":[\n");
	for (int t = 0; t < threads; t++)
		fprintf(f, "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,\"tid\":%d,\"ts\":0,"
			"\"args\":{\"name\":\"%s %d\"}},\n", t, t ? "worker" : "main", t);
	for (long i = 0; i < N; i++)
		fprintf(f, "{\"ph\":\"X\",\"cat\":\"task\",\"name\":\"task %ld\",\"pid\":1,"
			"\"tid\":%d,\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"task\":%ld}}%s\n",
			i, ran[i].thread, (ran[i].start - loop_start) * 1e6,
			(ran[i].end - ran[i].start) * 1e6, i, i + 1 < N ? "," : "");
	fprintf(f, "],\"otherData\":{\"parlab_trace\":1,\"model\":\"openmp\","
		"\"workload\":\"exercise 5\",\"program\":\"exercise 5 fill()\","
		"\"args\":\"%d threads, cell(i) waits %d*i us\",\"workers\":%d,"
		"\"clock\":\"CLOCK_MONOTONIC\",\"span_us\":%.3f}}\n",
		threads, US_PER_I, threads - 1, (loop_end - loop_start) * 1e6);
	CHECK(fclose(f) == 0, "PARLAB_TRACE=%s: cannot write it", path);
	printf("    the schedule is in %s: scripts/timeline %s draws it\n", path, path);
}

/* How many cells were running at once, on average, during fill(): the
 * time all cells took together over the time the loop took.  Cells that
 * take turns can never exceed 1, however loaded the machine. */
static double overlap(double loop_s)
{
	double cells = 0;

	for (int t = 0; t < MAX_THREADS; t++)
		cells += cell_s[t];
	return cells / loop_s;
}

static void run(int threads, double *imbalance, int *used)
{
	double *out = calloc(N, sizeof(*out));
	long total = 0, most = 0;

	CHECK(out, "out of memory");
	loop_start = check_now();
	fill(out, N, threads);
	loop_end = check_now();
	CHECK(!wrong_thread, "cell() ran on a thread outside the team");
	for (long i = 0; i < N; i++)
		CHECK(out[i] == sqrt((double)i), "out[%ld] = %g, expected cell(%ld) = %g", i,
		      out[i], i, sqrt((double)i));
	*used = 0;
	for (int t = 0; t < MAX_THREADS; t++) {
		total += work_us[t];
		if (work_us[t] > most)
			most = work_us[t];
		if (work_us[t] > 0)
			(*used)++;
	}
	CHECK(total == (long)US_PER_I * N * (N - 1) / 2, "the cells were not each computed once");
	*imbalance = (double)most / ((double)total / threads);
	free(out);
}

static void correct(void)
{
	double imbalance;
	int used;

	run(2, &imbalance, &used);
}

static void team(void)
{
	double imbalance;
	int used;

	run(4, &imbalance, &used);
	CHECK(used == 4, "asked for 4 threads, %d of them did any work", used);
}

static void together(void)
{
	double imbalance, start = check_now();
	int used;

	run(4, &imbalance, &used);
	double loop_s = check_now() - start, at_once = overlap(loop_s);
	CHECK(at_once >= 1.5,
	      "on 4 threads the loop took %.3f s for %.3f s of cells: %.2f cells at a time on "
	      "average.\n    The threads took turns instead of working together; a "
	      "`critical` section or an\n    `ordered` region around cell() does that.  "
	      "Each iteration writes only its own\n    out[i]: there is nothing to protect, "
	      "so keep the work outside any such region",
	      loop_s, at_once * loop_s, at_once);
	printf("    %.2f cells ran at once on average\n", at_once);
}

static void balanced(int threads, double limit)
{
	double imbalance;
	int used;

	run(threads, &imbalance, &used);
	CHECK(used == threads, "asked for %d threads, %d of them did any work", threads, used);
	if (threads == 4)       /* drawn whether it passes or not */
		write_schedule(threads);
	CHECK(imbalance <= limit,
	      "on %d threads, the busiest thread did %.2f times its fair share of the work "
	      "(at most %.2f allowed): the others wait for it at the end of the loop",
	      threads, imbalance, limit);
	printf("    the busiest thread did %.2f times its fair share\n", imbalance);
}

static void balanced_2(void) { balanced(2, 1.25); }
static void balanced_4(void) { balanced(4, 1.35); }

int main(void)
{
	check_begin("05-openmp-schedule");
	check_run("every cell is computed, once, with the right value", correct, 20);
	check_run("the loop runs on the 4 threads asked for", team, 20);
	check_show("4 threads compute cells at the same time, not in turns", together, 20);
	check_show("2 threads share the work evenly", balanced_2, 20);
	check_show("4 threads share the work evenly", balanced_4, 20);
	return check_end();
}
