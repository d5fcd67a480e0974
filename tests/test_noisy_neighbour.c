/* scripts/noisy-neighbour: the CPU hog for checking the report on a busy
 * machine.  Checked for real, on whichever hog the machine has (stress-ng
 * or the busy loop): `start` leaves a process that is pinned to the CPU it
 * names (its Cpus_allowed_list) and burns CPU time, refuses a second
 * start, and `stop` ends it and removes the pidfile; `run` ends its hog
 * however the command ends (status 0, 1, 7, a SIGTERM, SIGINT or SIGHUP
 * to the script, and a SIGKILL, after which the kernel kills the hog) and
 * exits with the command's status; bad usage is one line and status 2.
 *
 * Every test uses its own pidfile in a temporary folder, every wait is
 * bounded, and a hog that a failed check left behind is killed in .fini.
 * A hog lives a second or two per test, on one CPU.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

#define NN "scripts/noisy-neighbour"

static char dir[64], pidfile[128];
static pid_t hog;               /* killed by done() if a check failed */

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };
	nanosleep(&ts, NULL);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/parlab-noisy-XXXXXX");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	snprintf(pidfile, sizeof(pidfile), "%s/hog.pid", dir);
	hog = 0;
}

/* Field `field` (1-based, as in proc(5)) of /proc/PID/stat, counted after
 * the command name, which may hold spaces; -1 when the process is gone. */
static long long stat_field(pid_t pid, int field)
{
	char path[64], buf[1024];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	p += 2;                 /* field 3, the state */
	for (int i = 3; i < field && p; i++) {
		p = strchr(p, ' ');
		p = p ? p + 1 : NULL;
	}
	return p ? (field == 3 ? (long long)*p : atoll(p)) : -1;
}

/* Runs and has not exited: a zombie nobody reaps burns nothing. */
static bool alive(pid_t pid)
{
	long long state = stat_field(pid, 3);
	return state > 0 && state != 'Z' && state != 'X';
}

static void done(void)
{
	/* Only a live group leader: a gone hog's pid may be someone else's. */
	if (hog > 0 && alive(hog) && stat_field(hog, 5) == hog)
		kill(-hog, SIGKILL);
	unlink(pidfile);
	rmdir(dir);
}

/* Waits up to `bound` seconds for pid to be gone. */
static bool gone_within(pid_t pid, double bound)
{
	for (double t = 0; t < bound && alive(pid); t += 0.05)
		sleep_s(0.05);
	return !alive(pid);
}

/* utime + stime, in clock ticks, of every process in process group pgid
 * (stress-ng burns in a child; the busy loop in the leader itself). */
static long long group_ticks(pid_t pgid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	long long sum = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)) != NULL) {
		pid_t pid = (pid_t)atoi(e->d_name);
		if (pid > 0 && stat_field(pid, 5) == pgid) {
			long long u = stat_field(pid, 14), s = stat_field(pid, 15);
			if (u >= 0 && s >= 0)
				sum += u + s;
		}
	}
	closedir(d);
	return sum;
}

static int last_allowed_cpu(void)
{
	cpu_set_t set;
	int last = -1;

	cr_assert_eq(sched_getaffinity(0, sizeof(set), &set), 0);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			last = c;
	return last;
}

static void cpus_allowed(pid_t pid, char out[256])
{
	char path[64], line[256];
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	cr_assert_not_null(f = fopen(path, "r"), "no %s", path);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Cpus_allowed_list: %255s", out) == 1)
			break;
	fclose(f);
}

static int lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The hog's pid from run's first stderr line, "noisy-neighbour: hog pid P on CPU N (...)". */
static pid_t hog_of_run(const struct run_result *r)
{
	const char *p = strstr(r->err, "hog pid ");
	int pid = 0;

	cr_assert(p && sscanf(p, "hog pid %d", &pid) == 1 && pid > 1, "no hog pid in: %s", r->err);
	return pid;
}

Test(noisy_neighbour, start_pins_burns_and_stop_ends_it, .init = setup, .fini = done, .timeout = 90)
{
	struct run_result r;
	int pid = 0, cpu = -1;
	char where[256], want[32];

	cr_assert_eq(run_program(&r, 30, NN, "start", "--pidfile", pidfile, NULL), 0);
	cr_assert_eq(r.status, 0, "start: status %d: %s", r.status, r.err);
	cr_assert_eq(sscanf(r.out, "started: pid %d on CPU %d", &pid, &cpu), 2, "start said: %s", r.out);
	hog = pid;
	run_result_free(&r);

	/* The default CPU is the last one this process may use; the hog is
	 * pinned there, leads its own process group and burns CPU. */
	cr_assert_eq(cpu, last_allowed_cpu(), "start chose CPU %d", cpu);
	cr_assert(alive(hog), "pid %d is not running", pid);
	cr_assert_eq(stat_field(hog, 5), hog, "the hog does not lead its own process group");
	cpus_allowed(hog, where);
	snprintf(want, sizeof(want), "%d", cpu);
	cr_assert_str_eq(where, want, "the hog may run on CPUs %s, not just %d", where, cpu);
	long long t0 = group_ticks(hog), used = 0, enough = sysconf(_SC_CLK_TCK) / 5;
	for (double t = 0; t < 15 && used < enough; t += 0.1) {
		sleep_s(0.1);
		used = group_ticks(hog) - t0;
	}
	cr_assert_geq(used, enough, "the hog used only %lld ticks of CPU in 15 s", used);

	/* A second start is refused while it runs. */
	cr_assert_eq(run_program(&r, 30, NN, "start", "--pidfile", pidfile, NULL), 0);
	cr_assert_eq(r.status, 1, "a second start: status %d: %s", r.status, r.out);
	cr_assert(strstr(r.err, "already runs") && lines(r.err) == 1, "a second start said: %s", r.err);
	run_result_free(&r);
	cr_assert(alive(hog));

	cr_assert_eq(run_program(&r, 30, NN, "status", "--pidfile", pidfile, NULL), 0);
	snprintf(want, sizeof(want), "pid %d on CPU %d", pid, cpu);
	cr_assert(r.status == 0 && strstr(r.out, want), "status: %d %s", r.status, r.out);
	run_result_free(&r);

	/* stop returns once it is gone, and removes the pidfile. */
	cr_assert_eq(run_program(&r, 30, NN, "stop", "--pidfile", pidfile, NULL), 0);
	cr_assert_eq(r.status, 0, "stop: status %d: %s", r.status, r.err);
	cr_assert(strstr(r.out, "stopped"), "stop said: %s", r.out);
	run_result_free(&r);
	cr_assert(!alive(hog), "pid %d still runs after stop", pid);
	cr_assert_neq(access(pidfile, F_OK), 0, "stop left %s", pidfile);

	cr_assert_eq(run_program(&r, 30, NN, "status", "--pidfile", pidfile, NULL), 0);
	cr_assert_eq(r.status, 1, "status with no hog: %d %s", r.status, r.out);
	run_result_free(&r);
	cr_assert_eq(run_program(&r, 30, NN, "stop", "--pidfile", pidfile, NULL), 0);
	cr_assert(r.status == 0 && strstr(r.out, "no hog"), "stop with no hog: %d %s", r.status, r.out);
	run_result_free(&r);
}

/* run --cpu 0 -- CMD: while CMD runs, the pidfile names a hog pinned to
 * CPU 0; afterwards it is gone and so is the pidfile. */
static void run_ends_hog(const char *cmd, int want_status, const char *want_out)
{
	struct run_result r;

	cr_assert_eq(run_program(&r, 30, NN, "run", "--cpu", "0", "--pidfile", pidfile, "--",
				 "/bin/sh", "-c", cmd, pidfile, NULL), 0);
	cr_assert(!r.timed_out, "run did not end: %s", r.err);
	hog = hog_of_run(&r);
	cr_assert_eq(r.status, want_status, "run -- %s: status %d, not %d: %s", cmd, r.status,
		     want_status, r.err);
	if (want_out)
		cr_assert(strstr(r.out, want_out), "run -- %s printed: %s", cmd, r.out);
	cr_assert(!alive(hog), "the hog (pid %d) outlived run -- %s", (int)hog, cmd);
	cr_assert_neq(access(pidfile, F_OK), 0, "run -- %s left %s", cmd, pidfile);
	run_result_free(&r);
}

Test(noisy_neighbour, run_ends_its_hog_and_keeps_the_status, .init = setup, .fini = done, .timeout = 90)
{
	run_ends_hog("grep Cpus_allowed_list /proc/$(cat \"$0\")/status", 0, "Cpus_allowed_list:\t0\n");
	run_ends_hog("true", 0, NULL);
	run_ends_hog("false", 1, NULL);
	run_ends_hog("exit 7", 7, NULL);
}

static bool ignored_here(int sig)
{
	struct sigaction sa;
	return sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN;
}

/* The command signals the script (its parent) and then sleeps: the script
 * forwards the signal to it, stops the hog and dies of the same signal. */
Test(noisy_neighbour, run_ends_its_hog_on_a_signal, .init = setup, .fini = done, .timeout = 90)
{
	static const struct { const char *name; int sig; } sigs[] = {
		{ "TERM", SIGTERM }, { "INT", SIGINT }, { "HUP", SIGHUP },
	};
	char cmd[128];

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		/* A signal ignored here is ignored by the script too (bash cannot
		 * trap what it inherits ignored): nothing to check then. */
		if (ignored_here(sigs[i].sig))
			continue;
		snprintf(cmd, sizeof(cmd), "kill -%s $PPID; exec sleep 30", sigs[i].name);
		run_ends_hog(cmd, 128 + sigs[i].sig, NULL);
	}
}

/* SIGKILL cannot be trapped: the kernel ends the hog (its parent-death
 * signal).  The command closes its output so that the pipes close with
 * the script. */
Test(noisy_neighbour, run_hog_dies_with_a_killed_script, .init = setup, .fini = done, .timeout = 90)
{
	struct run_result r;

	cr_assert_eq(run_program(&r, 30, NN, "run", "--pidfile", pidfile, "--", "/bin/sh", "-c",
				 "kill -KILL $PPID; exec sleep 2 >/dev/null 2>&1", NULL), 0);
	hog = hog_of_run(&r);
	cr_assert_eq(r.status, 128 + SIGKILL, "status %d: %s", r.status, r.err);
	cr_assert(gone_within(hog, 10), "the hog (pid %d) outlived a SIGKILLed run", (int)hog);
	run_result_free(&r);
}

Test(noisy_neighbour, bad_usage_is_one_line_and_status_2, .init = setup, .fini = done, .timeout = 60)
{
	static const char *const cases[][5] = {
		{ NULL }, { "bogus", NULL }, { "start", "--bogus", NULL }, { "start", "--cpu", NULL },
		{ "start", "--cpu", "x", NULL }, { "start", "--cpu", "100000", NULL },
		{ "stop", "--cpu", "0", NULL }, { "status", "extra", NULL }, { "run", NULL },
		{ "run", "--bogus", "--", "true", NULL },
	};
	struct run_result r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[8] = { NN };
		int n = 1;
		for (const char *const *a = cases[i]; *a; a++)
			argv[n++] = (char *)*a;
		argv[n] = NULL;
		cr_assert_eq(run_argv(&r, 20, argv), 0);
		cr_assert_eq(r.status, 2, "%s %s: status %d", NN, cases[i][0] ? cases[i][0] : "", r.status);
		cr_assert(lines(r.err) == 1 && strstr(r.err, "error:"), "case %zu said: %s", i, r.err);
		cr_assert_str_empty(r.out, "case %zu printed: %s", i, r.out);
		run_result_free(&r);
	}
	cr_assert_neq(access(pidfile, F_OK), 0, "a refused command wrote the pidfile");
}
