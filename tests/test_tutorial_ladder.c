/* The broken-then-fixed examples of tutorial chapters 5 to 8
 * (docs/tutorial/examples/): each builds warning-free, each broken
 * variant fails in the way its chapter shows, and each fix succeeds.
 *
 * Every run is bounded twice: the examples end their own hangs (an
 * alarm, a timed wait) and say so, and run_program kills what outlives
 * its bound.  Timing figures (omp_reduction, false_sharing) are not
 * checked: they depend on the machine and its load; their output format
 * and their sums are.
 *
 * Runs from the top of the repository (make test does), with the build
 * tree in PARLAB_BUILD.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

/* A scratch directory for one test's binaries. */
struct scratch {
	char dir[64];
	char path[1100];
};

static void scratch_make(struct scratch *s)
{
	snprintf(s->dir, sizeof(s->dir), "/tmp/parlab-ladder-XXXXXX");
	cr_assert(mkdtemp(s->dir), "cannot make a scratch directory");
}

static void scratch_remove(struct scratch *s)
{
	struct run_result r;

	run_program(&r, 20, "/bin/rm", "-rf", s->dir, NULL);
	run_result_free(&r);
}

/* Builds docs/tutorial/examples/NAME.c as the chapter says, with
 * -Werror added: an example that warns fails here.  Returns the path of
 * the binary (in s). */
static const char *build_example(struct scratch *s, const char *name, const char *flags)
{
	char cmd[2048];
	struct run_result r;

	snprintf(cmd, sizeof(cmd),
		 "${CC:-cc} -O2 -g -Wall -Wextra -Werror %s -o %s/%s "
		 "docs/tutorial/examples/%s.c", flags, s->dir, name, name);
	run_program(&r, 60, "/bin/sh", "-c", cmd, NULL);
	cr_assert_eq(r.status, 0, "%s:\n%s%s", cmd, r.out, r.err);
	run_result_free(&r);
	snprintf(s->path, sizeof(s->path), "%s/%s", s->dir, name);
	return s->path;
}

/* Runs the example with one argument; a run that needed the outer bound
 * fails the test: the example must end its own hang. */
static void run_variant(struct run_result *r, const char *path, const char *variant,
			double timeout_s)
{
	cr_assert_eq(run_program(r, timeout_s, path, variant, NULL), 0, "cannot run %s", path);
	cr_assert(!r->timed_out, "%s %s did not end by itself within %.0f s:\n%s%s",
		  path, variant, timeout_s, r->out, r->err);
}

static bool sanitizer_build(void)
{
	const char *build = getenv("PARLAB_BUILD");

	return build && strncmp(build, "build-san", 9) == 0;
}

Test(tutorial_ladder, counter_race_loses_increments_until_atomic_or_mutex, .timeout = 120)
{
	struct scratch s;
	struct run_result r;
	const char *prog;
	int lossy = 0;

	scratch_make(&s);
	prog = build_example(&s, "counter_race", "-pthread");

	/* A race shows only when the threads interleave.  gcc's three
	 * instructions lose updates whenever a thread is preempted between
	 * them, so nearly every run loses some; clang fuses them into one
	 * add to memory, which loses updates only while both threads run at
	 * the same instant, rarer on a busy machine.  A run takes a few
	 * tens of milliseconds: the broken variant gets up to 100 of them. */
	for (int attempt = 0; attempt < 100 && !lossy; attempt++) {
		run_variant(&r, prog, "plain", 30);
		cr_assert(r.status == 0 || r.status == 1, "%s%s", r.out, r.err);
		if (r.status == 1) {
			cr_assert(strstr(r.out, "increments lost"), "%s", r.out);
			lossy = 1;
		}
		run_result_free(&r);
	}
	cr_assert(lossy, "counter_race plain lost no increment in 100 runs");

	const char *fixes[] = { "atomic", "mutex" };
	for (int f = 0; f < 2; f++) {
		run_variant(&r, prog, fixes[f], 30);
		cr_assert_eq(r.status, 0, "%s: %s%s", fixes[f], r.out, r.err);
		cr_assert(strstr(r.out, "counter = 20000000, expected 20000000"), "%s", r.out);
		run_result_free(&r);
	}
	cr_assert_eq(run_program(&r, 10, prog, "sometimes", NULL), 0);
	cr_assert_eq(r.status, 2, "a bad argument must exit 2: %s", r.err);
	run_result_free(&r);
	scratch_remove(&s);
}

Test(tutorial_ladder, stale_flag_spins_until_alarm_unless_atomic, .timeout = 60)
{
	struct scratch s;
	struct run_result r;
	const char *prog;

	scratch_make(&s);
	prog = build_example(&s, "stale_flag", "-pthread");

	/* gcc -O2 hoists the read (the worker spins); clang -O2 deletes the
	 * loop (the worker does not wait): the chapter shows both. */
	run_variant(&r, prog, "plain", 15);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "main: 1 s later the worker is still spinning: it never saw "
			 "ready = true\n") ||
		  strstr(r.out, "main: the worker did not wait: it read the answer before it "
			 "was written\n"), "%s", r.out);
	run_result_free(&r);

	run_variant(&r, prog, "atomic", 15);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_str_eq(r.out,
			 "main: answer = 42, now ready = true\n"
			 "worker: past the wait, answer = 42\n"
			 "main: the worker finished\n");
	run_result_free(&r);
	scratch_remove(&s);
}

Test(tutorial_ladder, wait_if_takes_a_missing_item_while_waits_again, .timeout = 60)
{
	struct scratch s;
	struct run_result r;
	const char *prog;

	scratch_make(&s);
	prog = build_example(&s, "wait_if", "-pthread");

	run_variant(&r, prog, "if", 15);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert_str_eq(r.out,
			 "producer: put an item, wakes every waiter\n"
			 "consumer: took an item, 0 left\n"
			 "consumer: woke and took an item that is not there: items = -1\n"
			 "producer: put an item, wakes every waiter\n"
			 "items left: 0\n");
	run_result_free(&r);

	/* Under load the second consumer may wake late or twice: check what
	 * must hold, not the exact interleaving. */
	run_variant(&r, prog, "while", 15);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_eq(count_lines(r.out, "consumer: took an item, 0 left"), 2, "%s", r.out);
	cr_assert(!strstr(r.out, "not there"), "%s", r.out);
	cr_assert(strstr(r.out, "items left: 0\n"), "%s", r.out);
	run_result_free(&r);
	scratch_remove(&s);
}

Test(tutorial_ladder, signal_one_leaves_waiters_asleep_broadcast_wakes_all, .timeout = 60)
{
	struct scratch s;
	struct run_result r;
	const char *prog;

	scratch_make(&s);
	prog = build_example(&s, "signal_one", "-pthread");

	run_variant(&r, prog, "signal", 15);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "main opens it with pthread_cond_signal\n"), "%s", r.out);
	/* POSIX says "at least one"; glibc wakes exactly one. */
	cr_assert(strstr(r.out, "after 1 s, 1 of 3 workers passed; 2 still asleep at an open gate\n"),
		  "%s", r.out);
	run_result_free(&r);

	run_variant(&r, prog, "broadcast", 15);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_str_eq(r.out,
			 "3 workers wait at the gate; main opens it with pthread_cond_broadcast\n"
			 "3 of 3 workers passed\n");
	run_result_free(&r);
	scratch_remove(&s);
}

Test(tutorial_ladder, pipe_eof_never_comes_while_the_parent_keeps_its_write_end, .timeout = 60)
{
	struct scratch s;
	struct run_result r;
	const char *prog;

	scratch_make(&s);
	prog = build_example(&s, "pipe_eof", "");

	run_variant(&r, prog, "keep", 15);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	/* The children's lines come in any order, but all of them come. */
	for (int c = 0; c < 3; c++) {
		char line[32];

		snprintf(line, sizeof(line), "child %d done", c);
		cr_assert_eq(count_lines(r.out, line), 1, "%s", r.out);
	}
	cr_assert_eq(count_lines(r.out, "parent: no end of file after 2 s: the pipe still has "
				 "a writer, the parent itself"), 1, "%s", r.out);
	cr_assert_eq(count_lines(r.out, "parent: reaped 3 children"), 1, "%s", r.out);
	run_result_free(&r);

	run_variant(&r, prog, "close", 15);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_eq(count_lines(r.out, "parent: end of file"), 1, "%s", r.out);
	cr_assert_eq(count_lines(r.out, "parent: reaped 3 children"), 1, "%s", r.out);
	run_result_free(&r);
	scratch_remove(&s);
}

Test(tutorial_ladder, omp_reduction_sums_agree_and_are_timed, .timeout = 120)
{
	struct scratch s;
	struct run_result r;
	const char *prog;

	scratch_make(&s);
	prog = build_example(&s, "omp_reduction", "-fopenmp");
	cr_assert_eq(run_program(&r, 90, prog, NULL), 0);
	cr_assert(!r.timed_out, "omp_reduction did not finish in 90 s");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(!strstr(r.out, "WRONG"), "%s", r.out);
	const char *variants[] = { "serial", "critical", "atomic", "reduction" };
	for (int v = 0; v < 4; v++) {
		char head[64];

		snprintf(head, sizeof(head), "\n%-10s sum 461500000 ", variants[v]);
		cr_assert(strstr(r.out, head), "no line for %s:\n%s", variants[v], r.out);
	}
	run_result_free(&r);
	scratch_remove(&s);
}

Test(tutorial_ladder, false_sharing_prints_both_medians_and_the_ratio, .timeout = 120)
{
	struct scratch s;
	struct run_result r;
	const char *prog;
	double a, p, ratio;

	scratch_make(&s);
	prog = build_example(&s, "false_sharing", "-fopenmp");
	cr_assert_eq(run_program(&r, 90, prog, NULL), 0);
	cr_assert(!r.timed_out, "false_sharing did not finish in 90 s");
	cr_assert_eq(r.status, 0, "the counts were wrong:\n%s%s", r.out, r.err);

	const char *adj = strstr(r.out, "adjacent counters (one cache line): ");
	const char *pad = strstr(r.out, "padded counters (a line each):      ");
	const char *rat = strstr(r.out, "adjacent / padded: ");
	cr_assert(adj && pad && rat, "%s", r.out);
	cr_assert_eq(sscanf(adj, "adjacent counters (one cache line): %lf s", &a), 1, "%s", r.out);
	cr_assert_eq(sscanf(pad, "padded counters (a line each): %lf s", &p), 1, "%s", r.out);
	cr_assert_eq(sscanf(rat, "adjacent / padded: %lf", &ratio), 1, "%s", r.out);
	cr_assert(a > 0 && p > 0, "%s", r.out);
	/* The ratio printed is the ratio of the two medians printed (which
	 * are rounded to 1 ms). */
	cr_assert(ratio > 0.75 * a / p && ratio < 1.25 * a / p, "%s", r.out);
	run_result_free(&r);
	scratch_remove(&s);
}

/* The line "WHO   N requests for D distinct ids, K asked more than
 * once..." of racy_cache.py's output: false when it is missing. */
static bool server_line(const char *out, const char *who, int *requests, int *distinct,
			int *twice)
{
	const char *line = strstr(out, who);

	return line && sscanf(line + strlen(who),
			      " %d requests for %d distinct ids, %d asked more than once",
			      requests, distinct, twice) == 3;
}

Test(tutorial_ladder, racy_cache_python_asks_twice_c_once, .timeout = 180)
{
	const char *build = getenv("PARLAB_BUILD");
	struct run_result r;

	if (sanitizer_build())
		cr_skip_test("sanitizer build: the chapter runs the plain build's programs");
	if (system("command -v python3 >/dev/null 2>&1") != 0)
		cr_skip_test("python3 missing (scripts/deps test installs it)");

	cr_assert_eq(run_program(&r, 150, "docs/tutorial/examples/racy_cache.py",
				 "--build", build ? build : "build", NULL), 0);
	cr_assert(!r.timed_out, "racy_cache.py did not finish in 150 s:\n%s%s", r.out, r.err);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "10 ids, 7 distinct, 5 threads, 100 ms per answer\n"), "%s", r.out);

	/* 1234 is entries 0 and 3: both start in the first five, both miss. */
	int requests, distinct, twice;
	cr_assert(server_line(r.out, "python, the seed's cache", &requests, &distinct, &twice),
		  "%s", r.out);
	cr_assert_eq(distinct, 7, "%s", r.out);
	cr_assert_gt(requests, 7, "%s", r.out);
	cr_assert_geq(twice, 1, "%s", r.out);
	cr_assert(strstr(r.out, "id 1234: "), "%s", r.out);

	const char *models[] = { "executors", "raw_threads", "raw_processes", "openmp" };
	for (int m = 0; m < 4; m++) {
		char who[64];

		snprintf(who, sizeof(who), "C, %s ", models[m]);
		cr_assert(server_line(r.out, who, &requests, &distinct, &twice),
			  "no line for %s:\n%s", models[m], r.out);
		cr_assert(requests == 7 && distinct == 7 && twice == 0,
			  "%s must ask for each id once:\n%s", models[m], r.out);
	}
	run_result_free(&r);
}
