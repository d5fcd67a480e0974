/* scripts/fault-isolation, run for real into a temporary folder (about two
 * seconds): it crashes one worker of each model's squares program and
 * writes the table, and its stderr, which `make report` shows on the
 * terminal, holds only its own progress lines: none of bash's job notices
 * ("line 42: 12345 Segmentation fault ...") for the programs it crashed.
 *
 * Skipped on sanitizer builds: their runtimes catch the SIGSEGV and exit,
 * so there is no signal death for bash to report (and no table to check
 * against the plain build's).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

static char dir[64];

/* Runs after a failed check too: the run folder goes. */
static void remove_dir(void)
{
	struct run_result r;

	if (dir[0] && run_program(&r, 30, "/bin/rm", "-rf", dir, NULL) == 0)
		run_result_free(&r);
}

Test(fault_isolation, crashes_are_in_the_table_not_on_the_terminal, .fini = remove_dir,
     .timeout = 120)
{
	const char *build = getenv("PARLAB_BUILD");
	char path[128];
	struct run_result r;

	if (build && strncmp(build, "build-san", 9) == 0)
		cr_skip_test("sanitizer build: its runtime catches the SIGSEGV, bash sees no signal death");
	if (access(built("raw_threads/squares"), X_OK) != 0)
		cr_skip_test("%s is not built", built("raw_threads/squares"));
	snprintf(dir, sizeof(dir), "/tmp/parlab-faults-XXXXXX");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));

	cr_assert_eq(run_program(&r, 100, "scripts/fault-isolation", dir, NULL), 0);
	cr_assert(!r.timed_out, "scripts/fault-isolation did not end: %s", r.err);
	cr_assert_eq(r.status, 0, "status %d: %s", r.status, r.err);
	cr_assert_str_empty(r.out);
	/* Each stderr line is one of its own "fault     squares MODEL ... what
	 * happened" lines. */
	int progress = 0;
	for (char *l = r.err; *l; ) {
		char *end = strchr(l, '\n');
		size_t len = end ? (size_t)(end - l) : strlen(l);
		cr_assert(strncmp(l, "fault     squares ", 18) == 0, "a stray stderr line: %.*s",
			  (int)len, l);
		progress++;
		l = end ? end + 1 : l + len;
	}
	cr_assert_eq(progress, 5, "%d progress lines, not 5: %s", progress, r.err);
	cr_assert_null(strstr(r.err, "Segmentation fault"), "bash's notice reached stderr: %s", r.err);

	/* The table still records what happened: the thread-based programs
	 * die with the worker (the signal in the table). */
	snprintf(path, sizeof(path), "%s/tables/faults.tsv", dir);
	char *table = read_whole_file(path, NULL);
	cr_assert_not_null(table, "no %s", path);
	cr_assert(strstr(table, "\npthreads\t") && strstr(table, "signal SEGV"),
		  "faults.tsv does not record the SIGSEGV: %s", table);
	free(table);
	run_result_free(&r);
}
