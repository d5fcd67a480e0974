/* --trace FILE in every model (docs/timeline.md).
 *
 * A traced run of each model's squares and sleep must give one task
 * record per task, no two overlapping on one worker's row, every task
 * inside the run's span, and JSON that a JSON parser reads: all of which
 * `scripts/timeline --check` verifies, and these tests ask it.  They also
 * check what the checker cannot know: that the traced run printed the
 * same result as an untraced one, that rows are as many as the workers
 * that ran tasks, that the shared memory is gone afterwards, and that
 * PARLAB_TRACE does what --trace does.
 *
 * Runs from the top of the repository, with the build tree in
 * PARLAB_BUILD.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

#define RUN_BOUND 120.0

struct traced_program {
	const char *rel;
	const char *extra;      /* one more argument, or NULL */
	const char *extra_value;
};

static const struct traced_program programs[] = {
	{ "serial/squares", NULL, NULL },
	{ "executors/squares", "--executor", "thread" },
	{ "executors/squares", "--executor", "process" },
	{ "raw_threads/squares", NULL, NULL },
	{ "raw_processes/squares", NULL, NULL },
	{ "openmp/squares", NULL, NULL },
	{ "serial/sleep", NULL, NULL },
	{ "executors/sleep", "--executor", "thread" },
	{ "executors/sleep", "--executor", "process" },
	{ "raw_threads/sleep", NULL, NULL },
	{ "raw_processes/sleep", NULL, NULL },
	{ "openmp/sleep", NULL, NULL },
};

static char scratch[] = "/tmp/parlab-trace-test-XXXXXX";

static void make_scratch(void)
{
	cr_assert(mkdtemp(scratch), "cannot make a scratch directory");
}

static void drop_scratch(void)
{
	remove_tree(scratch);
}

/* The checker's verdict on path: its one line, and its status. */
static int check_trace(const char *path, char *line, size_t size)
{
	struct run_result r;

	cr_assert_eq(run_program(&r, RUN_BOUND, "scripts/timeline", "--check", path, NULL), 0);
	snprintf(line, size, "%s%s", r.out, r.err);
	int status = r.timed_out ? -1 : r.status;
	run_result_free(&r);
	return status;
}

/* Runs prog (argv[0] = its path) and returns its stdout (malloc'ed). */
static char *run_ok(char *const argv[])
{
	struct run_result r;

	cr_assert_eq(run_argv(&r, RUN_BOUND, argv), 0, "cannot run %s", argv[0]);
	cr_assert(!r.timed_out, "%s timed out", argv[0]);
	cr_assert_eq(r.status, 0, "%s exited %d: %s", argv[0], r.status, r.err);
	char *out = r.out;
	r.out = NULL;
	run_result_free(&r);
	return out;
}

static bool is_sleep(const char *rel)
{
	return strstr(rel, "/sleep") != NULL;
}

static void trace_one(const struct traced_program *p)
{
	char path[256], line[512], tasks[16];
	const char *n = is_sleep(p->rel) ? "12" : "2000";
	char *plain_argv[12] = { (char *)built(p->rel), "-n", (char *)n, "-j", "3" };
	char *traced_argv[14];
	int argc = 5;

	snprintf(path, sizeof(path), "%s/trace.json", scratch);
	if (is_sleep(p->rel)) {
		plain_argv[argc++] = "--scale";
		plain_argv[argc++] = "0.002";
	}
	if (p->extra) {
		plain_argv[argc++] = (char *)p->extra;
		plain_argv[argc++] = (char *)p->extra_value;
	}
	memcpy(traced_argv, plain_argv, sizeof(plain_argv));
	traced_argv[argc] = "--trace";
	traced_argv[argc + 1] = path;
	traced_argv[argc + 2] = NULL;

	char *plain = run_ok(plain_argv);
	char *traced = run_ok(traced_argv);
	/* The summary ends with the wall time, which differs: compare up to
	 * it (the checksum covers every result). */
	char *cut = strstr(plain, ", wall");
	cr_assert(cut, "no summary: %s", plain);
	cr_expect_eq(strncmp(plain, traced, (size_t)(cut - plain)), 0,
		     "%s: traced run printed\n%s\nplain run printed\n%s", p->rel, traced, plain);

	cr_assert_eq(check_trace(path, line, sizeof(line)), 0, "%s: %s", p->rel, line);
	snprintf(tasks, sizeof(tasks), "ok: %s tasks", n);
	cr_expect(strstr(line, tasks), "%s: expected %s, the checker says: %s", p->rel, tasks, line);
	free(plain);
	free(traced);
}

Test(trace, every_model_records_every_task, .init = make_scratch, .fini = drop_scratch,
     .timeout = 600)
{
	for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++)
		trace_one(&programs[i]);
}

/* The rows are the workers that ran tasks: three threads of a pool of
 * three, each with a sleep of its own, give rows 1 to 3 and nothing else;
 * the shared memory is removed at exit. */
Test(trace, rows_are_the_workers, .init = make_scratch, .fini = drop_scratch, .timeout = 120)
{
	char path[256];
	size_t len;

	snprintf(path, sizeof(path), "%s/t.json", scratch);
	free(run_ok((char *[]){ (char *)built("executors/sleep"), "--scale", "0.01",
				"--trace", path, NULL }));
	char *json = read_whole_file(path, &len);
	cr_assert(json, "no trace written");
	cr_expect(strstr(json, "\"name\":\"worker 3\""), "no third worker:\n%s", json);
	cr_expect(!strstr(json, "\"name\":\"worker 4\""), "a fourth worker:\n%s", json);
	cr_expect(strstr(json, "\"workers\":3"), "otherData:\n%s", json);
	cr_expect(strstr(json, "\"dropped\":0"), "events dropped:\n%s", json);
	free(json);

	/* Other tests may be tracing right now: only a mapping whose program
	 * (its pid is in the name) has exited is left behind. */
	DIR *d = opendir("/dev/shm");
	for (struct dirent *e; d && (e = readdir(d));) {
		long pid;

		if (sscanf(e->d_name, "parlab-trace-%ld-", &pid) == 1)
			cr_expect(kill((pid_t)pid, 0) == 0, "left behind: /dev/shm/%s", e->d_name);
	}
	if (d)
		closedir(d);
}

/* PARLAB_TRACE=FILE traces a run that has no --trace. */
Test(trace, environment_turns_it_on, .init = make_scratch, .fini = drop_scratch, .timeout = 120)
{
	char path[256], line[512];

	snprintf(path, sizeof(path), "%s/env.json", scratch);
	cr_assert_eq(setenv("PARLAB_TRACE", path, 1), 0);
	free(run_ok((char *[]){ (char *)built("raw_threads/squares"), "-n", "50", NULL }));
	unsetenv("PARLAB_TRACE");
	cr_assert_eq(check_trace(path, line, sizeof(line)), 0, "%s", line);
	cr_expect(strstr(line, "ok: 50 tasks"), "%s", line);
}
