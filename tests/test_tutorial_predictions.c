/* The "predict, then run" examples of tutorial chapters 1 to 4
 * (docs/tutorial/examples/ch1_*.c .. ch4_*): each builds warning-free as
 * its chapter builds it, and prints what the chapter's folded answer says.
 *
 * Times are not checked (the machine may be loaded); the facts the
 * answers teach are: which tasks are cancelled, what map gives before
 * its error, where a forked child hangs, and that Python's process pool
 * refuses to cancel a call it has queued for its processes.
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

struct scratch {
	char dir[64];
	char path[1100];
};

static bool sanitizer_build(void)
{
	const char *build = getenv("PARLAB_BUILD");

	return build && strncmp(build, "build-san", 9) == 0;
}

/* Builds docs/tutorial/examples/NAME.c into a fresh scratch directory, as
 * the chapter does, with -Werror added; with_cf links the library. */
static const char *build_example(struct scratch *s, const char *name, bool with_cf)
{
	char cmd[2048];
	struct run_result r;

	snprintf(s->dir, sizeof(s->dir), "/tmp/parlab-predict-XXXXXX");
	cr_assert(mkdtemp(s->dir), "cannot make a scratch directory");
	snprintf(cmd, sizeof(cmd),
		 "${CC:-cc} -O2 -Wall -Wextra -Werror %s -o %s/%s docs/tutorial/examples/%s.c %s "
		 "-pthread", with_cf ? "-Iexecutors/include" : "", s->dir, name, name,
		 with_cf ? built("libcf.a") : "");
	run_program(&r, 60, "/bin/sh", "-c", cmd, NULL);
	cr_assert_eq(r.status, 0, "%s:\n%s%s", cmd, r.out, r.err);
	run_result_free(&r);
	snprintf(s->path, sizeof(s->path), "%s/%s", s->dir, name);
	return s->path;
}

static void scratch_remove(struct scratch *s)
{
	struct run_result r;

	run_program(&r, 20, "/bin/rm", "-rf", s->dir, NULL);
	run_result_free(&r);
}

static bool python3_found(void)
{
	return system("command -v python3 >/dev/null 2>&1") == 0;
}

Test(tutorial_predictions, ch1_shutdown_cancels_the_three_queued_tasks, .timeout = 90)
{
	struct scratch s;
	struct run_result r;

	if (sanitizer_build())
		cr_skip_test("sanitizer build: the examples link the plain library");
	const char *path = build_example(&s, "ch1_shutdown", true);
	for (const char *const *backend = (const char *const[]){ "thread", "process", NULL };
	     *backend; backend++) {
		run_program(&r, 30, path, *backend, NULL);
		cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
		cr_assert(strncmp(r.out, "shutdown returned after ", 24) == 0, "%s", r.out);
		cr_assert(strstr(r.out, "\ntask 1: finished\ntask 2: finished\ntask 3: cancelled\n"
				 "task 4: cancelled\ntask 5: cancelled\n"),
			  "%s: %s", *backend, r.out);
		run_result_free(&r);
	}
	scratch_remove(&s);
}

Test(tutorial_predictions, ch2_map_gives_the_results_before_the_failure, .timeout = 90)
{
	struct scratch s;
	struct run_result r;

	if (sanitizer_build())
		cr_skip_test("sanitizer build: the examples link the plain library");
	const char *path = build_example(&s, "ch2_map_error", true);
	run_program(&r, 30, path, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_str_eq(r.out, "got 0\ngot 1\ngot 4\ngot 9\n"
			 "map: task failed at item 4: 4 is unlucky\n"
			 "next call: task failed\n");
	run_result_free(&r);
	scratch_remove(&s);
}

Test(tutorial_predictions, ch4_cf_cancels_the_third_task_on_both_backends, .timeout = 90)
{
	struct scratch s;
	struct run_result r;
	char want[128];

	if (sanitizer_build())
		cr_skip_test("sanitizer build: the examples link the plain library");
	const char *path = build_example(&s, "ch4_cancel", true);
	for (const char *const *backend = (const char *const[]){ "thread", "process", NULL };
	     *backend; backend++) {
		run_program(&r, 30, path, *backend, NULL);
		cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
		snprintf(want, sizeof(want), "%s: cancel the third: cancelled\n", *backend);
		cr_assert(strstr(r.out, want), "%s", r.out);
		snprintf(want, sizeof(want), " no\n%s: cancel", *backend);
		cr_assert(strstr(r.out, want), "the third task must not be running: %s", r.out);
		run_result_free(&r);
	}
	run_program(&r, 30, path, "nonesuch", NULL);
	cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
	run_result_free(&r);
	scratch_remove(&s);
}

/* Python's ProcessPoolExecutor marks a call running when it enters the
 * queue that feeds its processes, so the third of three calls on two
 * workers cannot be cancelled; its ThreadPoolExecutor leaves it pending.
 * The Python side waits 50 ms for its manager thread: on a loaded machine
 * that thread may come later, so one run in three must show it. */
Test(tutorial_predictions, ch4_python_process_pool_cannot_cancel_the_third, .timeout = 120)
{
	struct run_result r;
	bool refused = false;

	if (!python3_found())
		cr_skip_test("python3 is missing");
	run_program(&r, 30, "/usr/bin/env", "python3", "docs/tutorial/examples/ch4_cancel.py",
		    "thread", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_str_eq(r.out, "thread: running: True True False\n"
			 "thread: cancel the third: True\n");
	run_result_free(&r);
	for (int i = 0; i < 3 && !refused; i++) {
		run_program(&r, 30, "/usr/bin/env", "python3",
			    "docs/tutorial/examples/ch4_cancel.py", "process", NULL);
		cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
		refused = strcmp(r.out, "process: running: True True True\n"
				 "process: cancel the third: False\n") == 0;
		run_result_free(&r);
	}
	cr_assert(refused, "Python's process pool cancelled the third call in three runs");
}

Test(tutorial_predictions, ch4_fork_child_hangs_only_on_the_programs_mutex, .timeout = 60)
{
	struct scratch s;
	struct run_result r;
	int hung = -1;

	const char *path = build_example(&s, "ch4_fork_locks", false);
	run_program(&r, 30, path, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "  hung in malloc             0\n"), "%s", r.out);
	cr_assert(strstr(r.out, "  hung in fprintf            0\n"), "%s", r.out);
	const char *at = strstr(r.out, "  hung in pthread_mutex_lock ");
	cr_assert(at && sscanf(at, "  hung in pthread_mutex_lock %d", &hung) == 1, "%s", r.out);
	/* The busy thread holds the mutex nearly all the time. */
	cr_assert_gt(hung, 0, "no child hung on the mutex: %s", r.out);
	run_result_free(&r);
	scratch_remove(&s);
}
