/* The fork model when the trouble comes from outside (issue 20), suite
 * "faults_fork":
 *
 * - The parent is killed, by SIGKILL or by the SIGTERM that timeout(1)
 *   and job schedulers send, to the parent only.  Every child it forked
 *   (workers, and folders' own server) must be gone within a bound, not
 *   left running its tasks under init.  Each program runs in its own
 *   process group; this test process is a child subreaper, so an orphan
 *   is handed to us instead of to init, and "we have no child left"
 *   proves that every one of them died.  The tasks are long (tens of
 *   seconds at least), so a child that merely finished would not pass.
 *
 * - SIGCHLD inherited as ignored (a shell or daemon can leave it so, and
 *   exec keeps it): with it the kernel reaps the children itself and
 *   waitpid fails with ECHILD.  Each program must still exit 0 and print
 *   what serial prints, with --check.
 *
 * Whatever fails, the programs' process groups are killed and reaped
 * before the test ends: a fork test must not leave workers that load
 * every later test.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "model_checks.h"

/* How long the children of a dead parent may take to die.  A child killed
 * by the kernel goes in milliseconds; the bound is for a loaded machine,
 * and the tasks below last far longer. */
#define DIE_BOUND_S 10.0
/* How long a program may take to fork all its workers. */
#define START_BOUND_S 30.0

#define MAX_KIDS 64

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Starts argv in a process group of its own, stdin from /dev/null, stdout
 * and stderr to out_fd and err_fd (or /dev/null when -1), with SIGCHLD
 * ignored when asked: exec keeps an ignored signal ignored. */
static pid_t start(char *const argv[], bool ignore_sigchld, int out_fd, int err_fd)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		setpgid(0, 0);
		if (ignore_sigchld)
			signal(SIGCHLD, SIG_IGN);
		dup2(devnull, STDIN_FILENO);
		dup2(out_fd >= 0 ? out_fd : devnull, STDOUT_FILENO);
		dup2(err_fd >= 0 ? err_fd : devnull, STDERR_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	setpgid(pid, pid);      /* also here: no race with the child's own call */
	return pid;
}

/* The parent pid in /proc/PID/stat, -1 when the process is gone.  The
 * name in parentheses may hold spaces and parentheses: skip to the last
 * ')'. */
static pid_t parent_of(pid_t pid, char *state)
{
	char path[64], buf[512];
	ssize_t n;
	int fd, ppid;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *end = strrchr(buf, ')');
	if (!end || sscanf(end + 1, " %c %d", state, &ppid) != 2)
		return -1;
	return ppid;
}

/* Every process whose parent is `parent`, zombies left out; at most max. */
static int children_of(pid_t parent, pid_t *kids, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d, "cannot read /proc");
	while ((e = readdir(d)) && n < max) {
		char state;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		pid_t pid = (pid_t)atol(e->d_name);
		if (parent_of(pid, &state) == parent && state != 'Z')
			kids[n++] = pid;
	}
	closedir(d);
	return n;
}

/* Reaps every child of ours (the program and, as we are a subreaper, its
 * orphans) until none is left; false if some are still alive at the
 * deadline.  *program_status gets the program's wait status. */
static bool reap_all(pid_t program, int *program_status, double deadline)
{
	for (;;) {
		int status;
		pid_t w = waitpid(-1, &status, WNOHANG);

		if (w == program)
			*program_status = status;
		if (w > 0)
			continue;
		if (w < 0 && errno == ECHILD)
			return true;
		if (now_s() > deadline)
			return false;
		nap_ms(10);
	}
}

/* Lists the live children of ours in buf ("pid (name), ..."). */
static void describe_survivors(char *buf, size_t cap)
{
	pid_t kids[MAX_KIDS];
	int n = children_of(getpid(), kids, MAX_KIDS);
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && len < cap; i++) {
		char path[64], name[64] = "?";
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/comm", (int)kids[i]);
		f = fopen(path, "r");
		if (f) {
			if (fgets(name, sizeof(name), f))
				name[strcspn(name, "\n")] = '\0';
			fclose(f);
		}
		len += snprintf(buf + len, cap - len, "%s%d (%s)", i ? ", " : "",
				(int)kids[i], name);
	}
}

/* Whatever happened, nothing of ours may live on: the program's group
 * (its workers and server are in it), then each survivor by pid, then
 * reap. */
static void kill_leftovers(pid_t program)
{
	pid_t kids[MAX_KIDS];
	int status, n;

	kill(-program, SIGKILL);
	n = children_of(getpid(), kids, MAX_KIDS);
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	reap_all(program, &status, now_s() + DIE_BOUND_S);
}

static void make_argv(char **argv, int cap, const char *prog, const char *const *args)
{
	int argc = 0;

	argv[argc++] = (char *)built(prog);
	for (; args && *args && argc < cap - 1; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
}

/* Runs prog with args until it has `kids` children, sends sig to it alone,
 * and asserts that it died of sig and that every process it forked died
 * within DIE_BOUND_S. */
static void assert_children_die_with_parent(const char *prog, const char *const *args,
					    int kids, int sig)
{
	char *argv[32], survivors[1024];
	pid_t found[MAX_KIDS];
	int status = 0, n = 0;

	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	make_argv(argv, 32, prog, args);
	pid_t pid = start(argv, false, -1, -1);

	double deadline = now_s() + START_BOUND_S;
	while ((n = children_of(pid, found, MAX_KIDS)) < kids && now_s() < deadline) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;  /* ended before its workers were all there */
		nap_ms(20);
	}
	if (n < kids) {
		kill_leftovers(pid);
		cr_assert_fail("%s: %d of %d children after %.0f s (wait status %d)", prog, n,
			kids, START_BOUND_S, status);
	}
	/* Let them get into their tasks: a child that was still inside fork()
	 * when its parent died is the other case, and that one is covered
	 * too, but it is not the one this test is about. */
	nap_ms(300);

	cr_assert_eq(kill(pid, sig), 0);
	bool all_gone = reap_all(pid, &status, now_s() + DIE_BOUND_S);
	describe_survivors(survivors, sizeof(survivors));
	kill_leftovers(pid);

	cr_assert(all_gone, "%s killed by signal %d: still alive %.0f s later: %s", prog, sig,
		  DIE_BOUND_S, survivors);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == sig,
		  "%s: wait status %d, not killed by signal %d", prog, status, sig);
}

/* 333,334 tasks of 200 us each per child: a minute or more of work. */
static const char *const long_squares[] = { "-j", "3", "-n", "1000000", "--work-us", "200", NULL };
/* Tasks of 60, 20 and 40 s. */
static const char *const long_sleep[] = { "-j", "3", "-n", "6", "--scale", "20", NULL };
/* A fast server of its own, but one request every 50 s: the second and
 * third workers wait for their token that long. */
static const char *const long_folders[] = { "-j", "3", "-n", "30", "--scale", "0.01",
					    "--rate", "0.02", NULL };

Test(faults_fork, squares_children_die_with_a_sigkilled_parent, .timeout = 120)
{
	assert_children_die_with_parent("raw_processes/squares", long_squares, 3, SIGKILL);
}

Test(faults_fork, squares_children_die_with_a_sigtermed_parent, .timeout = 120)
{
	assert_children_die_with_parent("raw_processes/squares", long_squares, 3, SIGTERM);
}

Test(faults_fork, sleep_children_die_with_a_sigkilled_parent, .timeout = 120)
{
	assert_children_die_with_parent("raw_processes/sleep", long_sleep, 3, SIGKILL);
}

Test(faults_fork, sleep_children_die_with_a_sigtermed_parent, .timeout = 120)
{
	assert_children_die_with_parent("raw_processes/sleep", long_sleep, 3, SIGTERM);
}

/* Three workers and the server the program started. */
Test(faults_fork, folders_children_die_with_a_sigkilled_parent, .timeout = 120)
{
	assert_children_die_with_parent("raw_processes/folders", long_folders, 4, SIGKILL);
}

Test(faults_fork, folders_children_die_with_a_sigtermed_parent, .timeout = 120)
{
	assert_children_die_with_parent("raw_processes/folders", long_folders, 4, SIGTERM);
}

/* --- SIGCHLD inherited as ignored ---------------------------------------- */

/* All of fd (a file), from the start. */
static char *slurp(int fd)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	ssize_t n;

	lseek(fd, 0, SEEK_SET);
	while (buf && (n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (len + 1 == cap)
			buf = realloc(buf, cap *= 2);
	}
	cr_assert_not_null(buf);
	buf[len] = '\0';
	return buf;
}

/* Runs argv with SIGCHLD ignored, bounded; its stdout and stderr. */
static int run_ignoring_sigchld(char *const argv[], char **out, char **err)
{
	FILE *o = tmpfile(), *e = tmpfile();
	int status = 0;

	cr_assert(o && e, "tmpfile: %s", strerror(errno));
	pid_t pid = start(argv, true, fileno(o), fileno(e));
	double deadline = now_s() + 60;
	pid_t w;

	while ((w = waitpid(pid, &status, WNOHANG)) == 0 && now_s() < deadline)
		nap_ms(10);
	kill(-pid, SIGKILL);    /* its group: nothing of it may outlive the test */
	if (w == 0)
		waitpid(pid, &status, 0);
	*out = slurp(fileno(o));
	*err = slurp(fileno(e));
	fclose(o);
	fclose(e);
	cr_assert_neq(w, 0, "%s did not finish in 60 s with SIGCHLD ignored: %s", argv[0], *err);
	return status;
}

/* The test's own setup: a program started this way sees SIGCHLD (17,
 * bit 16 of the mask) ignored, or the tests below prove nothing. */
Test(faults_fork, setup_really_ignores_sigchld, .timeout = 60)
{
	char *argv[] = { "/bin/cat", "/proc/self/status", NULL }, *out, *err;
	unsigned long long mask = 0;

	cr_assert_eq(run_ignoring_sigchld(argv, &out, &err), 0, "%s", err);
	const char *at = strstr(out, "\nSigIgn:");
	cr_assert_not_null(at, "%s", out);
	mask = strtoull(at + strlen("\nSigIgn:"), NULL, 16);
	cr_assert(mask & (1ULL << (SIGCHLD - 1)), "SIGCHLD not ignored: %s", at);
	free(out);
	free(err);
}

/* prog with args (and --check) under an ignored SIGCHLD: exit 0, and the
 * output serial gives for the same args; sorted when order is completion
 * order. */
static void assert_survives_ignored_sigchld(const char *prog, const char *serial,
					    const char *const *args, bool sort)
{
	char *argv[32], *out, *err;
	const char *with_check[32];
	struct run_result want;
	int k = 0;

	for (; args && args[k] && k < 30; k++)
		with_check[k] = args[k];
	with_check[k++] = "--check";
	with_check[k] = NULL;
	make_argv(argv, 32, prog, with_check);

	int status = run_ignoring_sigchld(argv, &out, &err);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "%s with SIGCHLD ignored: wait status %d: %s", prog, status, err);

	run_with(&want, 60, serial, args, NULL);
	cr_assert_eq(want.status, 0, "%s: %s", serial, want.err);
	char *got_out = sort ? sorted_lines(out) : strdup(out);
	char *want_out = sort ? sorted_lines(want.out) : strdup(want.out);
	cr_assert_str_eq(got_out, want_out, "%s with SIGCHLD ignored differs from %s", prog,
			 serial);
	free(got_out);
	free(want_out);
	free(out);
	free(err);
	run_result_free(&want);
}

Test(faults_fork, squares_survives_an_ignored_sigchld, .timeout = 120)
{
	const char *seed[] = { NULL };
	const char *many[] = { "-j", "3", "-n", "10000", "--print", NULL };

	assert_survives_ignored_sigchld("raw_processes/squares", "serial/squares", seed, false);
	assert_survives_ignored_sigchld("raw_processes/squares", "serial/squares", many, false);
}

Test(faults_fork, sleep_survives_an_ignored_sigchld, .timeout = 120)
{
	const char *args[] = { "-j", "3", "-n", "9", "--scale", "0.01", "--print", NULL };

	assert_survives_ignored_sigchld("raw_processes/sleep", "serial/sleep", args, true);
}

/* With its own server, which is a child too. */
Test(faults_fork, folders_survives_an_ignored_sigchld, .timeout = 120)
{
	const char *seed[] = { "--scale", "0.01", NULL };
	const char *many[] = { "-j", "3", "-n", "40", "--scale", "0.01", "--bad-percent", "0",
			       "--print", NULL };

	assert_survives_ignored_sigchld("raw_processes/folders", "serial/folders", seed, false);
	assert_survives_ignored_sigchld("raw_processes/folders", "serial/folders", many, false);
}
