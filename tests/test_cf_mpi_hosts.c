/* Two hosts, for real, on one machine (issue 22): tests/netns/two-hosts
 * makes two network namespaces joined by a veth pair (198.18.0.1 and
 * 198.18.0.2), and mpirun, started in the first, reaches the second
 * through tests/netns/agent instead of ssh.  The MPI backend then runs
 * ranks on both hosts: where (tests/netns/where.c) says where each rank
 * is, squares and folders print what the serial model prints.
 *
 * Every test makes its own pair under a tag of its own (two tests may run
 * at once) and removes it in the suite's fini, which runs whether the
 * test passed or not (a set whose test was killed before it goes at the
 * next up: the test's pid is its owner); every command is bounded twice: by timeout(1)
 * inside the namespace, so that mpirun gets a TERM and takes its daemons
 * down, and by run_argv's SIGKILL after that.  Skipped, with the reason,
 * when namespaces cannot be made (not root, no ip netns) or MPI is not
 * built. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

#define TWO_HOSTS "tests/netns/two-hosts"
#define ADDR_A "198.18.0.1"
#define ADDR_B "198.18.0.2"
/* What timeout(1) gives a command inside a namespace, and the outer
 * bound, which leaves timeout's TERM and KILL (-k 5) time to act. */
#define INNER_S "60"
#define OUTER_S 80.0

static char tag[16];            /* this test's set; "" until up */

/* ---- two-hosts itself ---------------------------------------------------- */

/* Whether no namespace of set `t` exists. */
static bool set_gone(const char *t)
{
	char path[PATH_MAX];

	for (const char *h = "ab"; *h; h++) {
		snprintf(path, sizeof(path), "/run/netns/%s-%c", t, *h);
		if (access(path, F_OK) == 0)
			return false;
	}
	snprintf(path, sizeof(path), "/run/parlab-two-hosts/%s", t);
	return access(path, F_OK) != 0;
}

Test(cf_mpi_hosts, two_hosts_usage)
{
	static const char *const bad[][4] = {
		{ NULL }, { "bogus" }, { "up", "extra" }, { "exec", "a" }, { "run" },
		{ "--tag", "no/slash", "up" }, { "--owner", "x", "up" }, { "--nope", "up" },
	};
	struct run_result r;

	cr_assert_eq(run_program(&r, 10, TWO_HOSTS, "--help", NULL), 0);
	cr_expect_eq(r.status, 0);
	cr_expect(strstr(r.out, "usage: two-hosts"), "--help: %s", r.out);
	run_result_free(&r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *argv[6] = { TWO_HOSTS };
		for (int j = 0; j < 4 && bad[i][j]; j++)
			argv[j + 1] = bad[i][j];
		cr_assert_eq(run_argv(&r, 10, (char *const *)argv), 0);
		cr_expect_eq(r.status, 2, "two-hosts %s: status %d", bad[i][0] ? bad[i][0] : "",
			     r.status);
		cr_expect(strncmp(r.err, "two-hosts: error: ", 18) == 0 &&
			  strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
			  "one line 'two-hosts: error: ...' expected: %s", r.err);
		run_result_free(&r);
	}
}

/* run removes the set when CMD fails and when two-hosts gets a TERM (the
 * command sends it to its parent, two-hosts, which waits for it). */
Test(cf_mpi_hosts, two_hosts_run_cleans_up, .timeout = 60)
{
	char t[16];
	struct run_result r;

	snprintf(t, sizeof(t), "cfr%d", (int)(getpid() % 100000000));
	cr_assert_eq(run_program(&r, 30, TWO_HOSTS, "--tag", t, "run", "sh", "-c",
				 "test -e /run/netns/$TWO_HOSTS_TAG-b && exit 4", NULL), 0);
	if (r.status == 3)
		cr_skip_test("%s", r.err);
	cr_expect_eq(r.status, 4, "run: CMD's status expected: %d: %s", r.status, r.err);
	cr_expect(set_gone(t), "set %s left after a failing CMD", t);
	run_result_free(&r);
	cr_assert_eq(run_program(&r, 30, TWO_HOSTS, "--tag", t, "run", "sh", "-c",
				 "kill -TERM $PPID; sleep 20", NULL), 0);
	cr_expect_eq(r.status, 143, "run after TERM: status %d: %s", r.status, r.err);
	cr_expect(!r.timed_out, "run did not end at its TERM");
	cr_expect(set_gone(t), "set %s left after a TERM", t);
	run_result_free(&r);
	/* whatever happened above, nothing of this tag stays */
	if (run_program(&r, 30, TWO_HOSTS, "--tag", t, "down", NULL) == 0)
		run_result_free(&r);
}

/* An absolute path of a built program (mpirun runs it on both hosts, and
 * a rank's directory is not ours to assume), or NULL when it is absent. */
static const char *built_abs(const char *rel, char *buf)
{
	return realpath(built(rel), buf);
}

static void hosts_down(void)
{
	struct run_result r;

	if (!tag[0])
		return;
	if (run_program(&r, 30, TWO_HOSTS, "--tag", tag, "down", NULL) == 0) {
		cr_expect_eq(r.status, 0, "two-hosts down: %s", r.err);
		run_result_free(&r);
	}
	tag[0] = '\0';
}

/* Each test that makes hosts takes them down in its .fini, whether it
 * passed or not (a fini per test, not per suite: the Criterion shim that
 * runs the tests under TSan knows only the former). */

/* Makes this test's two hosts, or skips the test when it cannot. */
static void hosts_up(void)
{
	struct run_result r;

	/* pid-based: unique among the tests that run at once */
	snprintf(tag, sizeof(tag), "cfh%d", (int)(getpid() % 100000000));
	char owner[16];

	/* this process owns the set: if the runner is killed before the
	 * fini, the next up removes it */
	snprintf(owner, sizeof(owner), "%d", (int)getpid());
	cr_assert_eq(run_program(&r, 30, TWO_HOSTS, "--tag", tag, "--owner", owner, "up", NULL), 0);
	if (r.status == 3) {
		tag[0] = '\0';
		cr_skip_test("%s", r.err);
	}
	cr_assert_eq(r.status, 0, "two-hosts up: status %d: %s", r.status, r.err);
	run_result_free(&r);
}

/* Runs argv (NULL-terminated) in host ("a" or "b") with two-hosts' MPI
 * settings, bounded twice (see the top). */
static void in_host(struct run_result *r, const char *host, const char *const *argv)
{
	const char *full[48] = { TWO_HOSTS, "--tag", tag, "exec", host,
				 "timeout", "-k", "5", INNER_S };
	size_t n = 9;

	while (*argv && n < 47)
		full[n++] = *argv++;
	full[n] = NULL;
	cr_assert_eq(run_argv(r, OUTER_S, (char *const *)full), 0, "cannot run %s", TWO_HOSTS);
	cr_assert(!r->timed_out, "%s did not end within %.0f s:\n%s\n%s", full[9], OUTER_S,
		  r->out, r->err);
}

/* The hostfile two-hosts up wrote for this tag. */
static const char *hostfile(void)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "/run/parlab-two-hosts/%s/hostfile", tag);
	return path;
}

static void need_program(const char *rel, char *buf, const char *why)
{
	if (!built_abs(rel, buf))
		cr_skip_test("%s is not built: %s", built(rel), why);
}

Test(cf_mpi_hosts, where_ranks_land_on_both_hosts, .timeout = 120, .fini = hosts_down)
{
	char where[PATH_MAX];
	struct run_result r;

	need_program("tests/netns/where", where, "MPI is not built (HAVE_MPI)");
	hosts_up();
	const char *argv[] = { "mpirun", "-n", "4", "--hostfile", hostfile(), where, NULL };
	in_host(&r, "a", argv);
	cr_assert_eq(r.status, 0, "mpirun where: status %d\n%s\n%s", r.status, r.out, r.err);
	/* Two slots a host: ranks 0 and 1 on a, 2 and 3 on b. */
	int on_a = 0, on_b = 0, lines = 0;
	for (const char *p = r.out; (p = strstr(p, "rank ")); p++, lines++) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[256];

		snprintf(line, sizeof(line), "%.*s", (int)len, p);
		on_a += strstr(line, " " ADDR_A) != NULL;
		on_b += strstr(line, " " ADDR_B) != NULL;
	}
	cr_expect_eq(lines, 4, "4 ranks expected:\n%s", r.out);
	cr_expect_eq(on_a, 2, "2 ranks on host a (" ADDR_A ") expected:\n%s", r.out);
	cr_expect_eq(on_b, 2, "2 ranks on host b (" ADDR_B ") expected:\n%s", r.out);
	run_result_free(&r);
}

/* The serial model's output for the same arguments, run on the machine
 * itself (squares needs no network). */
static char *serial_output(const char *prog, const char *const *args)
{
	const char *argv[16] = { built(prog) };
	size_t n = 1;
	struct run_result r;

	while (*args && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	cr_assert_eq(run_argv(&r, 60, (char *const *)argv), 0);
	cr_assert_eq(r.status, 0, "%s: status %d: %s", argv[0], r.status, r.err);
	char *out = r.out;
	r.out = NULL;
	run_result_free(&r);
	return out;
}

/* ---- who ran in host b --------------------------------------------------
 *
 * The output alone cannot show that a worker ran on the second host: a
 * pool whose workers all stayed on a prints the same.  So a thread looks
 * while the program runs: every 10 ms it lists the processes in host b's
 * network namespace whose executable ends in `exe`.  The pid namespace is
 * shared, so /proc shows them all. */
struct ns_watch {
	char exe[64];                   /* "/executors/mpi/squares" */
	ino_t net_ns;                   /* host b's network namespace */
	atomic_bool stop;
	int seen;                       /* distinct pids seen (up to 64) */
	pid_t pids[64];
	double kill_after_s;            /* > 0: SIGKILL the first one seen, this late */
	double first_seen;
	pid_t killed;
	pthread_t thread;
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool in_watched_ns(struct ns_watch *w, const char *pid)
{
	char path[64], target[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%s/ns/net", pid);
	if (stat(path, &st) != 0 || st.st_ino != w->net_ns)
		return false;
	snprintf(path, sizeof(path), "/proc/%s/exe", pid);
	ssize_t len = readlink(path, target, sizeof(target) - 1);
	if (len <= 0)
		return false;
	target[len] = '\0';
	size_t want = strlen(w->exe);
	return (size_t)len >= want && strcmp(target + len - want, w->exe) == 0;
}

static void note_pid(struct ns_watch *w, pid_t pid)
{
	for (int i = 0; i < w->seen; i++)
		if (w->pids[i] == pid)
			return;
	if (w->seen == 0)
		w->first_seen = mono_s();
	if (w->seen < 64)
		w->pids[w->seen++] = pid;
}

/* The fault tests' worker death: the first process seen, once it has run
 * for kill_after_s (it is a process this test started, through mpirun). */
static void maybe_kill(struct ns_watch *w)
{
	if (w->kill_after_s <= 0 || w->killed || w->seen == 0 ||
	    mono_s() - w->first_seen < w->kill_after_s)
		return;
	if (kill(w->pids[0], SIGKILL) == 0)
		w->killed = w->pids[0];
}

static void *watch_loop(void *arg)
{
	struct ns_watch *w = arg;

	while (!atomic_load(&w->stop)) {
		DIR *proc = opendir("/proc");
		struct dirent *e;

		while (proc && (e = readdir(proc)))
			if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && in_watched_ns(w, e->d_name))
				note_pid(w, (pid_t)atoi(e->d_name));
		if (proc)
			closedir(proc);
		maybe_kill(w);
		usleep(10000);
	}
	return NULL;
}

/* The inode of host's ("a", "b") network namespace. */
static ino_t ns_inode(const char *host)
{
	char ns[PATH_MAX];
	struct stat st;

	snprintf(ns, sizeof(ns), "/run/netns/%s-%s", tag, host);
	cr_assert_eq(stat(ns, &st), 0, "no namespace %s", ns);
	return st.st_ino;
}

static void watch_start_killing(struct ns_watch *w, const char *exe, double kill_after_s)
{
	memset(w, 0, sizeof(*w));
	snprintf(w->exe, sizeof(w->exe), "%s", exe);
	w->net_ns = ns_inode("b");
	w->kill_after_s = kill_after_s;
	cr_assert_eq(pthread_create(&w->thread, NULL, watch_loop, w), 0);
}

static void watch_start(struct ns_watch *w, const char *exe)
{
	watch_start_killing(w, exe, 0);
}

/* Processes in host's network namespace, whatever they run. */
static int processes_in(const char *host)
{
	ino_t want = ns_inode(host);
	DIR *proc = opendir("/proc");
	struct dirent *e;
	int n = 0;

	while (proc && (e = readdir(proc))) {
		char path[300];       /* "/proc/" + a d_name + "/ns/net" */
		struct stat st;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", e->d_name);
		n += stat(path, &st) == 0 && st.st_ino == want;
	}
	if (proc)
		closedir(proc);
	return n;
}

/* Whether both hosts are empty within `bound` seconds (a killed job's
 * processes take a moment to be reaped). */
static bool hosts_empty(double bound)
{
	double end = mono_s() + bound;

	while (processes_in("a") + processes_in("b") > 0) {
		if (mono_s() > end)
			return false;
		usleep(50000);
	}
	return true;
}

/* Stops the watch; returns how many such processes ran in host b. */
static int watch_stop(struct ns_watch *w)
{
	atomic_store(&w->stop, true);
	pthread_join(w->thread, NULL);
	return w->seen;
}

/* mpirun -n N --hostfile H squares --executor mpi ARGS... EXTRA... in
 * host a prints what serial squares ARGS... prints, and at least one of
 * its processes ran in host b (a worker: rank 0 is on a). */
static void squares_on_hosts(const char *ranks, const char *const *args,
			     const char *const *extra)
{
	char squares[PATH_MAX];
	const char *argv[24] = { "mpirun", "-n", ranks, "--hostfile", hostfile(),
				 squares, "--executor", "mpi" };
	size_t n = 8;
	struct run_result r;
	struct ns_watch w;

	/* the plain program: given --executor mpi, it execs executors/mpi/ */
	need_program("executors/squares", squares, "the build is incomplete");
	char *want = serial_output("serial/squares", args);
	for (const char *const *a = args; *a && n < 23; a++)
		argv[n++] = *a;
	for (const char *const *a = extra; *a && n < 23; a++)
		argv[n++] = *a;
	argv[n] = NULL;
	watch_start(&w, "/executors/mpi/squares");
	in_host(&r, "a", argv);
	int on_b = watch_stop(&w);
	cr_expect_eq(r.status, 0, "mpirun -n %s squares: status %d\n%s", ranks, r.status, r.err);
	cr_expect_str_eq(r.out, want, "mpirun -n %s squares --executor mpi differs from serial\n"
			 "stderr:\n%s", ranks, r.err);
	cr_expect(on_b > 0, "mpirun -n %s squares: no squares process ran in host b", ranks);
	free(want);
	run_result_free(&r);
}

static const char *const seed_args[] = { NULL };
/* long enough (0.2 s of spin) for the watch to see the workers */
static const char *const many_args[] = { "-n", "2000", "--work-us", "100", "--print", NULL };
static const char *const no_extra[] = { NULL };
static const char *const chunked[] = { "--chunksize", "16", NULL };

/* Static mode: rank 0 runs main on a, ranks 1 (on a) and 2 (on b) serve;
 * with -n 4, two of them on b. */
Test(cf_mpi_hosts, squares_static_across_hosts, .timeout = 150, .fini = hosts_down)
{
	char probe[PATH_MAX];

	need_program("executors/mpi/squares", probe, "the MPI backend is not built");
	hosts_up();
	squares_on_hosts("3", seed_args, no_extra);
	squares_on_hosts("4", many_args, chunked);
}

/* Spawn mode under mpirun: one rank on a, its workers spawned into the
 * hostfile's slots (and beyond), so on a and on b. */
Test(cf_mpi_hosts, squares_spawn_across_hosts, .timeout = 150, .fini = hosts_down)
{
	char probe[PATH_MAX];

	need_program("executors/mpi/squares", probe, "the MPI backend is not built");
	hosts_up();
	squares_on_hosts("1", many_args, no_extra);
}

/* ---- a worker dies on host b ---------------------------------------------
 *
 * What Open MPI 4.1.4 does then (docs/distributed.md, "Faults"): under
 * mpirun, the death of any process of the job, a static rank or a spawned
 * worker, ends the whole job, the program's rank 0 included, with
 * SIGKILL's status.  The test holds the part that matters across hosts:
 * the job ends within a bound and nothing is left in either host. */
static const char *const slow_args[] = { "-n", "400", "--work-us", "50000", NULL };

static void kill_a_worker_on_b(const char *ranks)
{
	char squares[PATH_MAX];
	const char *argv[16] = { "mpirun", "-n", ranks, "--hostfile", hostfile(), squares,
				 "--executor", "mpi", "-j", "3" };
	size_t n = 10;
	struct run_result r;
	struct ns_watch w;

	need_program("executors/squares", squares, "the build is incomplete");
	for (const char *const *a = slow_args; *a; a++)
		argv[n++] = *a;
	argv[n] = NULL;
	watch_start_killing(&w, "/executors/mpi/squares", 0.5);
	in_host(&r, "a", argv);
	watch_stop(&w);
	cr_assert(w.killed > 0, "no squares process ran in host b to be killed");
	cr_expect_neq(r.status, 0, "mpirun -n %s: a worker on b was killed, yet status 0", ranks);
	cr_expect(hosts_empty(10), "processes were left in the hosts after mpirun -n %s ended",
		  ranks);
	run_result_free(&r);
}

Test(cf_mpi_hosts, static_rank_killed_on_b_ends_the_job, .timeout = 150, .fini = hosts_down)
{
	char probe[PATH_MAX];

	need_program("executors/mpi/squares", probe, "the MPI backend is not built");
	hosts_up();
	kill_a_worker_on_b("3");
}

Test(cf_mpi_hosts, spawned_worker_killed_on_b_ends_the_job, .timeout = 150, .fini = hosts_down)
{
	char probe[PATH_MAX];

	need_program("executors/mpi/squares", probe, "the MPI backend is not built");
	hosts_up();
	kill_a_worker_on_b("1");
}

/* ---- folders: the server on a, workers on a and b ------------------------ */

struct ns_server {
	pid_t pid;
	int port;
};

/* Reads the port line the server writes to fd once it listens. */
static int read_port(int fd, double timeout_s)
{
	char buf[32] = "";
	size_t len = 0;
	struct pollfd p = { fd, POLLIN, 0 };

	while (len < sizeof(buf) - 1 && !strchr(buf, '\n')) {
		if (poll(&p, 1, (int)(timeout_s * 1000)) <= 0)
			return -1;
		ssize_t got = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (got <= 0)
			return -1;
		len += (size_t)got;
		buf[len] = '\0';
	}
	return atoi(buf);
}

/* The folder API server in host a, listening on ADDR_A (--allow-remote:
 * host b reaches it over the veth pair).  two-hosts exec, the agent, ip
 * netns exec and nsenter all exec, so the child's pid is the server's.
 * It dies with this test (PR_SET_PDEATHSIG), and down kills it too. */
static void server_start_in_a(struct ns_server *s)
{
	char server[PATH_MAX];
	int fds[2];

	need_program("workloads/folder-api-server", server, "the build is incomplete");
	cr_assert_eq(pipe(fds), 0);
	s->pid = fork();
	cr_assert(s->pid >= 0);
	if (s->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fds[1], 3);
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);  /* its --allow-remote warning, every run */
		execl(TWO_HOSTS, TWO_HOSTS, "--tag", tag, "exec", "a", server, "--bind", ADDR_A,
		      "--allow-remote", "--port", "0", "--port-fd", "3", "--latency-ms", "5",
		      (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	s->port = read_port(fds[0], 15);
	close(fds[0]);
	cr_assert(s->port > 0, "the folder server did not start in host a");
}

static void server_stop_in_a(struct ns_server *s)
{
	int status;

	kill(s->pid, SIGTERM);
	for (int i = 0; i < 50 && waitpid(s->pid, &status, WNOHANG) == 0; i++)
		usleep(100000);
	if (waitpid(s->pid, &status, WNOHANG) == 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, &status, 0);
	}
}

/* The "checksum 0x..." word of a summary line, or the whole text. */
static char *checksum_of(const char *out)
{
	const char *c = strstr(out, "checksum ");
	size_t len = c ? strcspn(c, ",\n") : strlen(out);

	return strndup(c ? c : out, len);
}

/* Lines "PROG: folder_N_name: ..." in a program's stderr. */
static int count_failures(const char *err)
{
	int n = 0;

	for (const char *p = err; (p = strstr(p, "_name: folder ")); p++)
		n++;
	return n;
}

/* folders ARGS against the server in a: serial in a, then the MPI
 * backend with ranks on a and b; same JSON (or summary checksum), same
 * failures on stderr, same status. */
static void folders_on_hosts(const char *url, const char *const *args, int want_status)
{
	char serial[PATH_MAX], folders[PATH_MAX];
	const char *sargv[16] = { serial, "--api", url };
	const char *margv[24] = { "mpirun", "-n", "3", "--hostfile", hostfile(), folders,
				  "--executor", "mpi", "--api", url };
	size_t ns = 3, nm = 10;
	struct run_result rs, rm;

	need_program("serial/folders", serial, "the build is incomplete");
	need_program("executors/folders", folders, "the build is incomplete");
	for (const char *const *a = args; *a; a++) {
		sargv[ns++] = *a;
		margv[nm++] = *a;
	}
	sargv[ns] = margv[nm] = NULL;
	in_host(&rs, "a", sargv);
	cr_assert_eq(rs.status, want_status, "serial folders: status %d: %s", rs.status, rs.err);
	struct ns_watch w;
	watch_start(&w, "/executors/mpi/folders");
	in_host(&rm, "a", margv);
	cr_expect(watch_stop(&w) > 0, "mpirun folders: no folders process ran in host b");
	cr_expect_eq(rm.status, want_status, "mpirun folders: status %d: %s", rm.status, rm.err);
	char *want = checksum_of(rs.out), *got = checksum_of(rm.out);
	cr_expect_str_eq(got, want, "folders --executor mpi across hosts differs from serial:\n"
			 "%s\nserial:\n%s\nstderr:\n%s", rm.out, rs.out, rm.err);
	/* stderr: one line per failed entry in both (Open MPI may add its own) */
	cr_expect_eq(count_failures(rm.err), count_failures(rs.err),
		     "failure lines differ:\n%s\nserial:\n%s", rm.err, rs.err);
	free(want);
	free(got);
	run_result_free(&rs);
	run_result_free(&rm);
}

static const char *const folders_seed[] = { NULL };
/* Generated ids with failures (404s, 403s): every failure reported. */
static const char *const folders_many[] = { "-n", "60", NULL };

Test(cf_mpi_hosts, folders_server_on_a_workers_on_both, .timeout = 200, .fini = hosts_down)
{
	char probe[PATH_MAX];
	char url[64];
	struct ns_server s;

	need_program("executors/mpi/folders", probe, "the MPI backend is not built");
	hosts_up();
	server_start_in_a(&s);
	snprintf(url, sizeof(url), "http://" ADDR_A ":%d", s.port);
	folders_on_hosts(url, folders_seed, 0);
	folders_on_hosts(url, folders_many, 1);
	server_stop_in_a(&s);
}
