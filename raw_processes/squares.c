/* squares with raw processes: fork, a shared mapping, waitpid.
 *
 * -j children each compute a contiguous slice [k*N/j, (k+1)*N/j) and die.
 * The results come back through one mmap(MAP_SHARED | MAP_ANONYMOUS)
 * array that every child inherits and writes in place, already in input
 * order.  Pipes would copy each of up to 10^8 results twice through the
 * kernel, 64 KiB at a time, and the parent would have to poll j pipes at
 * once so that no child blocks on a full one; the mapping costs one memcpy.
 *
 * A child's exit status says whether its slice is complete.  A child that
 * crashes is reported with its signal; the parent still waits for every
 * other child (no zombies) and then exits 1 without printing results.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child_status.h"
#include "cli.h"
#include "squares_work.h"
#include "stats.h"

static const struct pl_program program = {
	.name = "raw_processes/squares",
	.summary = "squares n * n in forked children, results in a shared mapping",
	.workload = PL_SQUARES,
	.default_workers = 4,
};

/* Who each worker is, for waitpid and the messages.  A static table
 * rather than malloc: a child leaves with _exit and would otherwise carry
 * a heap block it can never free. */
static pid_t pids[PL_MAX_WORKERS];

/* Test hook: PARLAB_TEST_CRASH_WORKER=K makes worker K (counting from 0)
 * kill itself with SIGKILL right after its first task, so the tests can
 * crash a child mid-run deterministically.  Unset in normal use. */
static long crash_worker(void)
{
	const char *k = getenv("PARLAB_TEST_CRASH_WORKER");

	return k && *k ? strtol(k, NULL, 10) : -1;
}

/* The hook itself, called by every child before its slice so that the
 * production loop below has no test in it: worker K does the first item
 * of its slice and dies (with an empty slice it does not). */
static void test_crash_after_first_task(const struct pl_options *opts, long id, int64_t *shared)
{
	long first = opts->tasks * id / opts->workers;

	if (id == crash_worker() && first < opts->tasks * (id + 1) / opts->workers) {
		shared[first] = pl_square(first, opts->work_us);
		raise(SIGKILL);
	}
}

static void run_slice(const struct pl_options *opts, long id, int64_t *shared)
{
	long begin = opts->tasks * id / opts->workers;
	long end = opts->tasks * (id + 1) / opts->workers;

	for (long i = begin; i < end; i++)
		shared[i] = pl_square(i, opts->work_us);
	/* _exit, not exit: the child must not flush the stdio buffers or run
	 * the atexit handlers it inherited from the parent. */
	_exit(0);
}

/* Waits for each child in turn, whatever became of the others, and reports
 * every one that did not exit 0.  Returns how many failed. */
static long reap(const struct pl_options *opts, long n)
{
	long failed = 0;

	for (long k = 0; k < n; k++) {
		int status;

		if (waitpid(pids[k], &status, 0) < 0)
			pl_die(opts, "waitpid: %s", strerror(errno));
		if (pl_report_child(opts, k, pids[k], status))
			failed++;
	}
	return failed;
}

int main(int argc, char **argv)
{
	struct pl_options opts;

	pl_parse_args(argc, argv, &program, &opts);
	/* Whoever started us may have left SIGCHLD ignored (some shells and
	 * daemons do, and exec keeps it): the kernel then reaps our children
	 * itself and every waitpid below fails with ECHILD.  Take the default
	 * back before the first fork. */
	signal(SIGCHLD, SIG_DFL);
	pl_children_die_with_parent(&opts);

	size_t bytes = (opts.tasks ? opts.tasks : 1) * sizeof(int64_t);
	int64_t *shared = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		pl_die(&opts, "out of memory");

	long started = 0;
	int fork_err = 0;
	for (; started < opts.workers; started++) {
		pid_t pid = fork();

		if (pid < 0) {
			fork_err = errno;
			break;
		}
		if (pid == 0) {
			test_crash_after_first_task(&opts, started, shared);
			run_slice(&opts, started, shared);
		}
		pids[started] = pid;
		pl_count_processes(1);
	}

	long failed = reap(&opts, started);
	if (fork_err)
		pl_die(&opts, "fork: %s", strerror(fork_err));
	if (failed)
		pl_die(&opts, "%ld of %ld workers failed, no results", failed,
		       opts.workers);

	int64_t *results = pl_squares_begin(&opts);
	if (opts.tasks)
		memcpy(results, shared, opts.tasks * sizeof(int64_t));
	munmap(shared, bytes);
	return pl_squares_finish(&opts, results);
}
