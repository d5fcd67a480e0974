/* The workloads written by hand: raw_threads, raw_processes and openmp.
 *
 * Every program must print what build/serial/<workload> prints, for any
 * worker and task count (squares in input order, sleep as the same set of
 * lines in completion order), reproduce the seed, count what it created in
 * --stats, refuse bad options with status 2, and (processes) report and
 * reap a child that dies mid-run.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "support.h"

static const char *const jobs[] = { "1", "2", "3", "8" };
static const char *const sizes[] = { "0", "1", "7", "10000" };
#define NJOBS (sizeof(jobs) / sizeof(jobs[0]))
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

/* Runs `prog` with the NULL-terminated `args` and then `extra` (may be
 * NULL); asserts that it finished in time. */
static void run_with(struct run_result *r, double timeout, const char *prog,
		     const char *const *args, const char *const *extra)
{
	char *argv[32];
	int argc = 0;

	argv[argc++] = (char *)built(prog);
	for (; args && *args; args++)
		argv[argc++] = (char *)*args;
	for (; extra && *extra; extra++)
		argv[argc++] = (char *)*extra;
	argv[argc] = NULL;
	cr_assert_eq(run_argv(r, timeout, argv), 0, "cannot start %s", argv[0]);
	cr_assert(!r->timed_out, "%s timed out", argv[0]);
}

static int compare_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of s, sorted, joined again: completion order thrown away. */
static char *sorted_lines(const char *s)
{
	char *copy = strdup(s), *save = NULL, *line;
	size_t n = 0, cap = 16, len = 0;
	char **lines = malloc(cap * sizeof(*lines));

	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (n == cap)
			lines = realloc(lines, (cap *= 2) * sizeof(*lines));
		lines[n++] = line;
		len += strlen(line) + 1;
	}
	qsort(lines, n, sizeof(*lines), compare_lines);
	char *out = calloc(len + 1, 1), *end = out;
	for (size_t i = 0; i < n; i++)
		end += sprintf(end, "%s\n", lines[i]);
	free(lines);
	free(copy);
	return out;
}

/* Sleep tasks last 1 to 3 ms at --scale 0.001; 10000 of them at --scale 0. */
static const char *sleep_scale(const char *tasks)
{
	return strcmp(tasks, "10000") == 0 ? "0" : "0.001";
}

/* prog (e.g. "raw_threads/squares") against build/serial/squares for every
 * -j and -n above, with `extra` options added. */
static void assert_matches_serial(const char *prog, const char *const *extra)
{
	bool sleep = strstr(prog, "/sleep") != NULL;
	const char *ref = sleep ? "serial/sleep" : "serial/squares";

	for (size_t s = 0; s < NSIZES; s++) {
		const char *base[] = { "-n", sizes[s], "--print", "--scale",
				       sleep_scale(sizes[s]), NULL };
		struct run_result want, got;

		run_with(&want, 60, ref, base, NULL);
		cr_assert_eq(want.status, 0, "%s -n %s: %s", ref, sizes[s], want.err);
		char *want_out = sleep ? sorted_lines(want.out) : strdup(want.out);

		for (size_t j = 0; j < NJOBS; j++) {
			const char *args[] = { "-j", jobs[j], "-n", sizes[s], "--print",
					       "--scale", sleep_scale(sizes[s]), NULL };

			run_with(&got, 60, prog, args, extra);
			cr_assert_eq(got.status, 0, "%s -j %s -n %s: status %d: %s",
				     prog, jobs[j], sizes[s], got.status, got.err);
			char *got_out = sleep ? sorted_lines(got.out) : strdup(got.out);
			cr_assert_str_eq(got_out, want_out, "%s -j %s -n %s differs from %s",
					 prog, jobs[j], sizes[s], ref);
			free(got_out);
			run_result_free(&got);
		}
		free(want_out);
		run_result_free(&want);
	}
}

static void assert_seed_squares(const char *prog)
{
	struct run_result r;

	run_with(&r, 30, prog, NULL, NULL);
	cr_assert_eq(r.status, 0, "%s: %s", prog, r.err);
	cr_assert_str_eq(r.out, "[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]\n");
	run_result_free(&r);
}

/* Tasks of 0.6, 0.2 and 0.4 s on 3 workers: far enough apart that the
 * completion order is the seed's even on a loaded machine. */
static void assert_seed_sleep(const char *prog)
{
	const char *args[] = { "--scale", "0.2", NULL };
	struct run_result r;

	run_with(&r, 30, prog, args, NULL);
	cr_assert_eq(r.status, 0, "%s: %s", prog, r.err);
	cr_assert_str_eq(r.out, "Task 1 completed\nTask 2 completed\nTask 3 completed\n");
	run_result_free(&r);
}

/* The value of "key": in the one JSON line on stderr. */
static long stats_field(const struct run_result *r, const char *key)
{
	char pattern[64];

	snprintf(pattern, sizeof(pattern), "\"%s\":", key);
	const char *end = strchr(r->err, '}');
	cr_assert(r->err[0] == '{' && end && strcmp(end, "}\n") == 0,
		  "stderr is not one JSON object line: %s", r->err);
	const char *at = strstr(r->err, pattern);
	cr_assert_not_null(at, "no %s in %s", key, r->err);
	return strtol(at + strlen(pattern), NULL, 10);
}

/* --stats with -j 1 and -j 3: the threads or processes the model made. */
static void assert_stats(const char *prog, const char *key, long per_worker_extra)
{
	const char *const counts[] = { "1", "3" };

	for (int c = 0; c < 2; c++) {
		const char *args[] = { "-j", counts[c], "-n", "20", "--scale", "0",
				       "--stats", NULL };
		struct run_result r;

		run_with(&r, 30, prog, args, NULL);
		cr_assert_eq(r.status, 0, "%s: %s", prog, r.err);
		long want = atol(counts[c]) + per_worker_extra;
		cr_assert_eq(stats_field(&r, key), want, "%s -j %s: %s is %ld, want %ld",
			     prog, counts[c], key, stats_field(&r, key), want);
		cr_assert_geq(stats_field(&r, "wall_s"), 0);
		run_result_free(&r);
	}
}

/* Each of `bad` (NULL-separated argument lists, ending with two NULLs)
 * must exit 2 with one line on stderr and nothing on stdout. */
static void assert_bad_options(const char *prog, const char *const *bad)
{
	while (*bad) {
		struct run_result r;

		run_with(&r, 30, prog, bad, NULL);
		cr_assert_eq(r.status, 2, "%s %s: status %d", prog, bad[0], r.status);
		cr_assert_str_empty(r.out);
		cr_assert(strstr(r.err, "error") && strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
			  "%s %s: not one error line: %s", prog, bad[0], r.err);
		run_result_free(&r);
		while (*bad)
			bad++;
		bad++;
	}
}

static void assert_check_and_help(const char *prog, const char *model_option)
{
	const char *check[] = { "-j", "3", "-n", "1000", "--scale", "0", "--check", NULL };
	const char *help[] = { "--help", NULL };
	struct run_result r;

	run_with(&r, 30, prog, check, NULL);
	cr_assert_eq(r.status, 0, "%s --check: %s", prog, r.err);
	cr_assert(strchr(r.out, '\n') == r.out + strlen(r.out) - 1,
		  "%s: not one summary line: %s", prog, r.out);
	run_result_free(&r);

	run_with(&r, 30, prog, help, NULL);
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.out, "usage:"), "%s --help: %s", prog, r.out);
	if (model_option)
		cr_assert(strstr(r.out, model_option), "%s --help lacks %s", prog, model_option);
	run_result_free(&r);
}

/* --- raw_threads --------------------------------------------------------- */

Test(raw_threads, squares_static_matches_serial, .timeout = 120)
{
	const char *extra[] = { "--partition", "static", NULL };
	assert_matches_serial("raw_threads/squares", extra);
}

Test(raw_threads, squares_dynamic_matches_serial, .timeout = 120)
{
	const char *automatic[] = { "--partition", "dynamic", NULL };
	const char *by3[] = { "--partition", "dynamic", "--chunk", "3", NULL };
	const char *huge[] = { "--partition", "dynamic", "--chunk", "99999999999", NULL };
	assert_matches_serial("raw_threads/squares", automatic);
	assert_matches_serial("raw_threads/squares", by3);
	assert_matches_serial("raw_threads/squares", huge);
}

Test(raw_threads, sleep_matches_serial, .timeout = 120)
{
	assert_matches_serial("raw_threads/sleep", NULL);
}

Test(raw_threads, seed, .timeout = 60)
{
	assert_seed_squares("raw_threads/squares");
	assert_seed_sleep("raw_threads/sleep");
}

Test(raw_threads, stats_count_threads, .timeout = 60)
{
	assert_stats("raw_threads/squares", "threads_created", 0);
	assert_stats("raw_threads/sleep", "threads_created", 0);
}

Test(raw_threads, bad_options_exit_2, .timeout = 60)
{
	const char *const bad[] = {
		"--partition", "bogus", NULL,
		"--partition", NULL,
		"--chunk", "-1", NULL,
		"--chunk", "x", NULL,
		"-j", "0", NULL,
		"-n", "-1", NULL,
		"--schedule", "static", NULL,
		NULL, NULL
	};
	assert_bad_options("raw_threads/squares", bad);
	assert_bad_options("raw_threads/sleep", bad);
}

Test(raw_threads, check_and_help, .timeout = 60)
{
	assert_check_and_help("raw_threads/squares", "--partition");
	assert_check_and_help("raw_threads/sleep", NULL);
}

/* --- raw_processes ------------------------------------------------------- */

Test(raw_processes, squares_matches_serial, .timeout = 120)
{
	assert_matches_serial("raw_processes/squares", NULL);
}

Test(raw_processes, sleep_matches_serial, .timeout = 120)
{
	assert_matches_serial("raw_processes/sleep", NULL);
}

Test(raw_processes, seed, .timeout = 60)
{
	assert_seed_squares("raw_processes/squares");
	assert_seed_sleep("raw_processes/sleep");
}

Test(raw_processes, stats_count_processes, .timeout = 60)
{
	assert_stats("raw_processes/squares", "processes_created", 0);
	assert_stats("raw_processes/sleep", "processes_created", 0);
}

Test(raw_processes, bad_options_exit_2, .timeout = 60)
{
	const char *const bad[] = {
		"-j", "0", NULL,
		"-j", "many", NULL,
		"-n", "-1", NULL,
		"--scale", "-1", NULL,
		"--partition", "static", NULL,
		NULL, NULL
	};
	assert_bad_options("raw_processes/squares", bad);
	assert_bad_options("raw_processes/sleep", bad);
}

Test(raw_processes, check_and_help, .timeout = 60)
{
	assert_check_and_help("raw_processes/squares", NULL);
	assert_check_and_help("raw_processes/sleep", NULL);
}

/* PARLAB_TEST_CRASH_WORKER=K makes worker K SIGKILL itself after its first
 * task.  The test process becomes a child subreaper: any child the program
 * left behind (a zombie, or one still running) would be handed to us when
 * the program exits, so "we have no children" proves every one was reaped. */
static void assert_crash_reported(const char *prog, const char *const *args,
				  const char *worker)
{
	struct run_result r;
	char expect[128];
	int status;

	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	setenv("PARLAB_TEST_CRASH_WORKER", worker, 1);
	run_with(&r, 30, prog, args, NULL);
	unsetenv("PARLAB_TEST_CRASH_WORKER");

	cr_assert_eq(r.status, 1, "%s: status %d, stderr: %s", prog, r.status, r.err);
	snprintf(expect, sizeof(expect), "%s: worker %s (pid ", prog, worker);
	cr_assert(strstr(r.err, expect), "%s: no report of worker %s: %s", prog, worker, r.err);
	cr_assert(strstr(r.err, "killed by signal 9"), "%s: signal not named: %s", prog, r.err);
	if (strstr(prog, "squares"))
		cr_assert_str_empty(r.out, "%s printed results with a hole", prog);
	cr_assert_eq(waitpid(-1, &status, WNOHANG), -1, "%s left a child behind", prog);
	cr_assert_eq(errno, ECHILD);
	run_result_free(&r);
}

Test(raw_processes, squares_crashed_child_reported_and_reaped, .timeout = 60)
{
	const char *args[] = { "-j", "4", "-n", "2000", "--work-us", "100", NULL };
	struct run_result r;

	assert_crash_reported("raw_processes/squares", args, "1");
	/* The same run without the hook succeeds. */
	run_with(&r, 30, "raw_processes/squares", args, NULL);
	cr_assert_eq(r.status, 0, "without the hook: %s", r.err);
	run_result_free(&r);
}

Test(raw_processes, sleep_crashed_child_reported_and_reaped, .timeout = 60)
{
	const char *args[] = { "-j", "3", "-n", "12", "--scale", "0.01", "--print", NULL };

	assert_crash_reported("raw_processes/sleep", args, "0");
	assert_crash_reported("raw_processes/sleep", args, "2");
}

/* --- openmp -------------------------------------------------------------- */

Test(raw_openmp, squares_schedules_match_serial, .timeout = 180)
{
	static const char *const schedules[] = { "static", "dynamic", "guided" };

	for (int s = 0; s < 3; s++) {
		const char *dflt[] = { "--schedule", schedules[s], NULL };
		const char *by3[] = { "--schedule", schedules[s], "--chunk", "3", NULL };
		assert_matches_serial("openmp/squares", dflt);
		assert_matches_serial("openmp/squares", by3);
	}
}

Test(raw_openmp, sleep_matches_serial, .timeout = 120)
{
	assert_matches_serial("openmp/sleep", NULL);
}

Test(raw_openmp, seed, .timeout = 60)
{
	assert_seed_squares("openmp/squares");
	assert_seed_sleep("openmp/sleep");
}

/* The team has -j threads; the master existed before, the rest are new. */
Test(raw_openmp, stats_count_team, .timeout = 60)
{
	assert_stats("openmp/squares", "threads_created", -1);
	assert_stats("openmp/sleep", "threads_created", -1);
}

Test(raw_openmp, bad_options_exit_2, .timeout = 60)
{
	const char *const bad[] = {
		"--schedule", "nope", NULL,
		"--schedule", "auto", NULL,
		"--chunk", "-1", NULL,
		"-j", "0", NULL,
		"--partition", "static", NULL,
		NULL, NULL
	};
	assert_bad_options("openmp/squares", bad);
	assert_bad_options("openmp/sleep", bad);
}

Test(raw_openmp, check_and_help, .timeout = 60)
{
	assert_check_and_help("openmp/squares", "--schedule");
	assert_check_and_help("openmp/sleep", NULL);
}
