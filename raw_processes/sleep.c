/* sleep with raw processes: fork, one pipe, waitpid.
 *
 * -j children pull task indexes from a counter in a shared page and write
 * one fixed-size record per finished task into a single pipe they all
 * share.  A record is smaller than PIPE_BUF, so each write is atomic and
 * records of different children never interleave.  The parent reads the
 * records as they arrive, which is completion order, until end of file:
 * that comes when the last write end closes, i.e. when every child has
 * exited or died.  Then it reaps them all and reports any that crashed.
 */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child_status.h"
#include "cli.h"
#include "sleep_work.h"
#include "stats.h"

static_assert(PL_SLEEP_MSG_MAX <= PIPE_BUF, "a record must be written atomically");
/* Only a lock-free atomic works between processes: a lock the compiler
 * adds behind our back would live in each process's private memory. */
static_assert(ATOMIC_LONG_LOCK_FREE == 2, "the shared counter needs a lock-free atomic");

static const struct pl_program program = {
	.name = "raw_processes/sleep",
	.summary = "sleep tasks in forked children, results through a pipe in completion order",
	.workload = PL_SLEEP,
	.default_workers = 3,
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

/* One task: run it, send its record to the parent. */
static void run_task(const struct pl_options *opts, long i, int out)
{
	char msg[PL_SLEEP_MSG_MAX] = "";     /* every byte goes down the pipe */

	pl_sleep_task(i, opts->scale, opts->work_us, msg);
	if (write(out, msg, sizeof(msg)) != sizeof(msg))
		_exit(1);
}

/* A child: takes task numbers from the shared counter until none is left. */
static void run_tasks(const struct pl_options *opts, atomic_long *next, int out)
{
	long i;

	while ((i = atomic_fetch_add(next, 1)) < opts->tasks)
		run_task(opts, i, out);
	/* _exit, not exit: the child must not flush the stdio buffers or run
	 * the atexit handlers it inherited from the parent. */
	_exit(0);
}

/* The hook itself (crash_worker), called by every child before run_tasks
 * so that its loop has no test in it: worker K takes and runs one task,
 * then dies (finding no task left, it does not). */
static void test_crash_after_first_task(const struct pl_options *opts, long id,
					atomic_long *next, int out)
{
	if (id != crash_worker())
		return;
	long i = atomic_fetch_add(next, 1);
	if (i < opts->tasks) {
		run_task(opts, i, out);
		raise(SIGKILL);
	}
}

/* Reads one whole record; returns 0 at end of file. */
static int read_record(const struct pl_options *opts, int fd, char *rec, size_t size)
{
	size_t got = 0;

	while (got < size) {
		ssize_t n = read(fd, rec + got, size - got);

		if (n == 0 && got == 0)
			return 0;
		if (n == 0)
			pl_die(opts, "pipe: truncated record");
		if (n < 0 && errno != EINTR)
			pl_die(opts, "read: %s", strerror(errno));
		if (n > 0)
			got += n;
	}
	return 1;
}

/* Waits for each child in turn and reports every one that did not exit 0.
 * Returns how many failed. */
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
	struct pl_sleep_results results;
	int fds[2];

	pl_parse_args(argc, argv, &program, &opts);
	/* Whoever started us may have left SIGCHLD ignored (some shells and
	 * daemons do, and exec keeps it): the kernel then reaps our children
	 * itself and every waitpid below fails with ECHILD.  Take the default
	 * back before the first fork. */
	signal(SIGCHLD, SIG_DFL);
	pl_children_die_with_parent(&opts);
	pl_sleep_begin(&results, &opts);

	atomic_long *next = mmap(NULL, sizeof(*next), PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (next == MAP_FAILED)
		pl_die(&opts, "out of memory");
	atomic_init(next, 0);
	if (pipe(fds) < 0)
		pl_die(&opts, "pipe: %s", strerror(errno));

	long started = 0;
	int fork_err = 0;
	for (; started < opts.workers; started++) {
		pid_t pid = fork();

		if (pid < 0) {
			fork_err = errno;
			break;
		}
		if (pid == 0) {
			close(fds[0]);
			test_crash_after_first_task(&opts, started, next, fds[1]);
			run_tasks(&opts, next, fds[1]);
		}
		pids[started] = pid;
		pl_count_processes(1);
	}
	/* Our own write end must go, or end of file never comes. */
	close(fds[1]);

	char msg[PL_SLEEP_MSG_MAX];
	while (read_record(&opts, fds[0], msg, sizeof(msg)))
		pl_sleep_collect(&results, msg);
	close(fds[0]);

	long failed = reap(&opts, started);
	munmap(next, sizeof(*next));
	if (fork_err)
		pl_die(&opts, "fork: %s", strerror(fork_err));
	if (failed)
		pl_die(&opts, "%ld of %ld workers failed, %ld of %ld tasks done",
		       failed, opts.workers, results.count, opts.tasks);
	return pl_sleep_finish(&results);
}
