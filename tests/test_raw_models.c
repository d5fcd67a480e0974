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

#include "model_checks.h"

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
	assert_seed_squares("raw_threads/squares", NULL);
	assert_seed_sleep("raw_threads/sleep", NULL);
}

Test(raw_threads, stats_count_threads, .timeout = 60)
{
	assert_stats("raw_threads/squares", NULL, "threads_created", 0);
	assert_stats("raw_threads/sleep", NULL, "threads_created", 0);
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
	assert_check_and_help("raw_threads/squares", NULL, "--partition");
	assert_check_and_help("raw_threads/sleep", NULL, NULL);
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
	assert_seed_squares("raw_processes/squares", NULL);
	assert_seed_sleep("raw_processes/sleep", NULL);
}

Test(raw_processes, stats_count_processes, .timeout = 60)
{
	assert_stats("raw_processes/squares", NULL, "processes_created", 0);
	assert_stats("raw_processes/sleep", NULL, "processes_created", 0);
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
	assert_check_and_help("raw_processes/squares", NULL, NULL);
	assert_check_and_help("raw_processes/sleep", NULL, NULL);
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

/* --schedule tasks: one explicit task per item (or per --chunk items),
 * created by one thread; any order of execution, the same list. */
Test(raw_openmp, squares_tasks_match_serial, .timeout = 180)
{
	const char *one[] = { "--schedule", "tasks", NULL };
	const char *by3[] = { "--schedule", "tasks", "--chunk", "3", NULL };
	const char *huge[] = { "--schedule", "tasks", "--chunk", "99999999999", NULL };

	assert_matches_serial("openmp/squares", one);
	assert_matches_serial("openmp/squares", by3);
	assert_matches_serial("openmp/squares", huge);
	assert_seed_squares("openmp/squares", one);
	assert_stats("openmp/squares", one, "threads_created", -1);
}

Test(raw_openmp, sleep_matches_serial, .timeout = 120)
{
	assert_matches_serial("openmp/sleep", NULL);
}

Test(raw_openmp, seed, .timeout = 60)
{
	assert_seed_squares("openmp/squares", NULL);
	assert_seed_sleep("openmp/sleep", NULL);
}

/* The team has -j threads; the master existed before, the rest are new. */
Test(raw_openmp, stats_count_team, .timeout = 60)
{
	assert_stats("openmp/squares", NULL, "threads_created", -1);
	assert_stats("openmp/sleep", NULL, "threads_created", -1);
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
	assert_check_and_help("openmp/squares", NULL, "--schedule");
	assert_check_and_help("openmp/sleep", NULL, NULL);
}
