/* Output that cannot be written is a failed run (issue 20, "Faults").
 *
 * A workload program's stdout is its result.  When that result does not
 * arrive (a full disk, here /dev/full; a pipe whose reader is gone while
 * SIGPIPE is ignored) every program of every model must say so in one
 * line on stderr, naming the reason, and exit 1, never 0 (docs/cli.md,
 * "Exit status and errors").  With SIGPIPE at its default a program may
 * also be killed by it, as any Unix program is.
 *
 * support.c's run_program() captures stdout through a pipe it reads, so
 * these tests have a runner of their own that gives the program the
 * stdout under test, the SIGPIPE disposition under test, and a bound.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

/* Seconds one run may take: the slowest is a process pool or a folder
 * server starting under a sanitizer on a loaded machine, well below. */
#define RUN_BOUND 60

/* Every model's program of every workload, as the report names them:
 * the executors' two backends count as two models.  Sleeps are scaled to
 * milliseconds; the folders programs start their own server (no --api),
 * without latency. */
struct program {
	const char *prog;
	const char *args[5];
};

static const struct program programs[] = {
	{ "serial/sleep", { "--scale", "0.01" } },
	{ "serial/squares", { NULL } },
	{ "serial/folders", { "--scale", "0" } },
	{ "executors/sleep", { "--executor", "thread", "--scale", "0.01" } },
	{ "executors/squares", { "--executor", "thread" } },
	{ "executors/folders", { "--executor", "thread", "--scale", "0" } },
	{ "executors/sleep", { "--executor", "process", "--scale", "0.01" } },
	{ "executors/squares", { "--executor", "process" } },
	{ "executors/folders", { "--executor", "process", "--scale", "0" } },
	{ "raw_threads/sleep", { "--scale", "0.01" } },
	{ "raw_threads/squares", { NULL } },
	{ "raw_threads/folders", { "--scale", "0" } },
	{ "raw_processes/sleep", { "--scale", "0.01" } },
	{ "raw_processes/squares", { NULL } },
	{ "raw_processes/folders", { "--scale", "0" } },
	{ "openmp/sleep", { "--scale", "0.01" } },
	{ "openmp/squares", { NULL } },
	{ "openmp/folders", { "--scale", "0" } },
};
#define N_PROGRAMS (sizeof(programs) / sizeof(programs[0]))

/* Where the program's stdout goes. */
enum sink { TO_FULL_DISK, TO_CLOSED_PIPE };

struct outcome {
	int status;             /* exit status, or 128 + signal */
	bool timed_out;
	char err[8192];         /* stderr, NUL-terminated, cut if longer */
};

static double monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* stdout for the program: /dev/full, or the write end of a pipe whose
 * read end is already closed, so that the first write fails for sure. */
static int open_sink(enum sink sink)
{
	int p[2];

	if (sink == TO_FULL_DISK)
		return open("/dev/full", O_WRONLY | O_CLOEXEC);
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	close(p[0]);
	return p[1];
}

/* In the child: its own process group (so that a bound kills what it
 * started too), stdin from /dev/null, the given stdout and stderr, and
 * SIGPIPE ignored or at its default, whatever the test runner has. */
static void exec_child(char *const argv[], int out, int err, bool ignore_sigpipe)
{
	sigset_t none;
	int in = open("/dev/null", O_RDONLY);

	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, ignore_sigpipe ? SIG_IGN : SIG_DFL);
	if (in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(126);
	execv(argv[0], argv);
	dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Reads fd into o->err until end of file or the deadline. */
static bool read_stderr(int fd, struct outcome *o, double deadline)
{
	size_t len = 0;
	char discard[4096];

	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int ms = (int)((deadline - monotonic()) * 1000);
		ssize_t n;

		if (ms <= 0)
			return false;
		if (poll(&p, 1, ms) < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		if (len + 1 < sizeof(o->err))
			n = read(fd, o->err + len, sizeof(o->err) - 1 - len);
		else
			n = read(fd, discard, sizeof(discard));
		if (n == 0)
			return true;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		if (len + 1 < sizeof(o->err))
			len += (size_t)n;
		o->err[len] = '\0';
	}
}

/* Runs argv with stdout to `sink`, bounded by RUN_BOUND seconds. */
static void run(struct outcome *o, char *const argv[], enum sink sink, bool ignore_sigpipe)
{
	double deadline = monotonic() + RUN_BOUND;
	int err[2], out = open_sink(sink), wstatus = 0;
	pid_t pid, waited;
	bool finished;

	memset(o, 0, sizeof(*o));
	cr_assert_geq(out, 0, "cannot open the sink: %s", strerror(errno));
	cr_assert_eq(pipe2(err, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0)
		exec_child(argv, out, err[1], ignore_sigpipe);
	setpgid(pid, pid);      /* also here: no race with the child's own */
	close(out);
	close(err[1]);

	/* End of file on stderr: the program and all it started are gone,
	 * or have at least let go of our pipe. */
	finished = read_stderr(err[0], o, deadline);
	while (finished && (waited = waitpid(pid, &wstatus, WNOHANG)) <= 0) {
		if ((waited < 0 && errno != EINTR) || monotonic() > deadline) {
			finished = false;
			break;
		}
		usleep(1000);
	}
	if (!finished) {
		o->timed_out = true;
		kill(-pid, SIGKILL);
		waitpid(pid, &wstatus, 0);
	}
	close(err[0]);
	o->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
}

/* "executors/sleep --executor process" and its argv, with `extra`
 * (NULL-terminated, or NULL) after the program's own arguments. */
static void build_argv(const struct program *p, const char *const *extra, char *argv[16],
		       char name[128])
{
	int argc = 0;

	snprintf(name, 128, "%s", p->prog);
	argv[argc++] = (char *)built(p->prog);
	for (int i = 0; p->args[i]; i++) {
		argv[argc++] = (char *)p->args[i];
		if (strcmp(p->args[i], "--executor") == 0)
			snprintf(name, 128, "%s --executor %s", p->prog, p->args[i + 1]);
	}
	for (int i = 0; extra && extra[i]; i++)
		argv[argc++] = (char *)extra[i];
	argv[argc] = NULL;
}

/* Status 1 and exactly one line on stderr, "PROG: error: cannot write
 * output: REASON", REASON being strerror(expected_errno). */
static void expect_output_error(const char *name, const char *prog,
				const struct outcome *o, int expected_errno)
{
	char want[256];
	size_t len = strlen(o->err);

	snprintf(want, sizeof(want), "%s: error: cannot write output: %s\n", prog,
		 strerror(expected_errno));
	cr_expect(!o->timed_out, "%s: still running after %d s", name, RUN_BOUND);
	cr_expect_eq(o->status, 1, "%s: status %d, want 1 (output lost); stderr: %s",
		     name, o->status, o->err);
	cr_expect(len > 0 && strchr(o->err, '\n') == o->err + len - 1,
		  "%s: stderr is not one line: '%s'", name, o->err);
	cr_expect_str_eq(o->err, want, "%s: stderr '%s', want '%s'", name, o->err, want);
}

/* Every program, run with `extra`, its stdout to `sink`. */
static void expect_every_program_fails(const char *const *extra, enum sink sink,
				       bool ignore_sigpipe, int expected_errno)
{
	for (size_t i = 0; i < N_PROGRAMS; i++) {
		char *argv[16], name[128];
		struct outcome o;

		build_argv(&programs[i], extra, argv, name);
		run(&o, argv, sink, ignore_sigpipe);
		expect_output_error(name, programs[i].prog, &o, expected_errno);
	}
}

/* The tutorial's runs (every result printed) into a full disk. */
Test(faults_output, full_disk_fails_every_seed_run, .timeout = 600)
{
	expect_every_program_fails(NULL, TO_FULL_DISK, false, ENOSPC);
}

/* Sized runs print one summary line at the end instead: it must arrive
 * too.  (-n 3 for every workload; the generated folder list without bad
 * ids, so that no failed folder adds a line.) */
Test(faults_output, full_disk_fails_every_summary_line, .timeout = 600)
{
	static const char *const extra[] = { "-n", "3", NULL };
	static const char *const folders_extra[] = { "-n", "3", "--bad-percent", "0", NULL };

	for (size_t i = 0; i < N_PROGRAMS; i++) {
		char *argv[16], name[128];
		struct outcome o;

		build_argv(&programs[i], strstr(programs[i].prog, "folders") ? folders_extra : extra,
			   argv, name);
		run(&o, argv, TO_FULL_DISK, false);
		expect_output_error(name, programs[i].prog, &o, ENOSPC);
	}
}

/* The reader is gone and SIGPIPE ignored: every write fails with EPIPE,
 * which is no more a success than a full disk. */
Test(faults_output, closed_pipe_with_sigpipe_ignored_fails_every_run, .timeout = 600)
{
	expect_every_program_fails(NULL, TO_CLOSED_PIPE, true, EPIPE);
}

/* With SIGPIPE at its default, being killed by it is the normal Unix end
 * (and says enough); exiting 1 with the line is fine as well.  Status 0
 * is not: raw_processes/folders ignores SIGPIPE for its own pipes and
 * used to drop its output in silence. */
Test(faults_output, closed_pipe_with_sigpipe_default_is_never_success, .timeout = 600)
{
	for (size_t i = 0; i < N_PROGRAMS; i++) {
		char *argv[16], name[128];
		struct outcome o;

		build_argv(&programs[i], NULL, argv, name);
		run(&o, argv, TO_CLOSED_PIPE, false);
		cr_expect(!o.timed_out, "%s: still running after %d s", name, RUN_BOUND);
		if (o.status == 128 + SIGPIPE)
			continue;
		expect_output_error(name, programs[i].prog, &o, EPIPE);
	}
}

/* A long list fails in the middle of printing (stdio's first full
 * buffer), not at the final flush: that write is the one reported, and
 * the rest of the list is not even formatted. */
Test(faults_output, a_long_list_that_stops_half_way_fails, .timeout = 120)
{
	static const char *const extra[] = { "-n", "200000", "--print", NULL };
	char *argv[16], name[128];
	struct outcome o;

	build_argv(&programs[1], extra, argv, name);    /* serial/squares */
	run(&o, argv, TO_CLOSED_PIPE, true);
	expect_output_error(name, programs[1].prog, &o, EPIPE);
}

/* --help that cannot be written is no help: status 1, not 0. */
Test(faults_output, help_to_a_full_disk_fails, .timeout = 60)
{
	static const char *const extra[] = { "--help", NULL };
	char *argv[16], name[128];
	struct outcome o;

	build_argv(&programs[1], extra, argv, name);
	run(&o, argv, TO_FULL_DISK, false);
	expect_output_error(name, programs[1].prog, &o, ENOSPC);
}
