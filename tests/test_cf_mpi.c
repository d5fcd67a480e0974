/* The MPI backend's own contract (docs/distributed.md), beyond the
 * semantics every backend shares (BACKEND_TEST's _mpi variants):
 *
 *   - a 16 MiB result comes back whole;
 *   - a worker announcing another build breaks the pool, naming its host;
 *   - a worker killed with SIGKILL, or stopped so that it goes silent,
 *     gives CF_BROKEN to pending futures within a bound, later submits
 *     get CF_BROKEN at once, no worker is left behind, and the program
 *     still exits normally;
 *   - a hung task with cf_shutdown(wait=false) lets the program exit;
 *   - static mode: `mpirun -n 3 build/executors/squares --executor mpi`
 *     prints the seed's output, with ranks as workers and none spawned;
 *   - the programs: plain copies do not link libmpi, the mpi/ copies do,
 *     and a copy without its mpi/ sibling refuses --executor mpi with
 *     status 2 and one line.
 *
 * Every test skips where the test program lacks the backend.  Open MPI
 * is pinned to loopback and allowed to run as root by mpi_test_env(),
 * in this process and what it starts, nowhere else.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cf_test_util.h"
#include "support.h"

static void need_mpi(void)
{
	if (!cf_backend_available("mpi"))
		cr_skip_test("this test program has no MPI backend (no Open MPI, or a sanitizer "
			     "build)");
	mpi_test_env();
}

static int big_result_task(cf_task *task)
{
	size_t size = 16u << 20;
	unsigned char *out = cf_task_result_buffer(task, size);

	if (!out)
		return cf_task_fail(task, 1, "no memory for %zu bytes", size);
	for (size_t i = 0; i < size; i++)
		out[i] = (unsigned char)(i * 7 + 3);
	return 0;
}

Test(cf_mpi, result_of_16_mib, .timeout = 60)
{
	need_mpi();
	cf_executor *ex = make_pool("mpi", 1);
	cf_future *f = submit_ok(ex, big_result_task, NULL, 0);
	const unsigned char *data;
	size_t size = 0;

	cr_assert_eq(cf_future_result(f, BOUND, (const void **)&data, &size), CF_OK);
	cr_assert_eq(size, 16u << 20);
	size_t bad = 0;
	for (size_t i = 0; i < size; i++)
		bad += data[i] != (unsigned char)(i * 7 + 3);
	cr_expect_eq(bad, 0, "%zu bytes of the result differ", bad);
	release_ok(f);
	cf_executor_free(ex);
}

Test(cf_mpi, forged_build_id_breaks_the_pool, .timeout = 60)
{
	need_mpi();
	/* Read by the workers only (proto.c): they inherit it. */
	setenv("CF_MPI_TEST_FORGE_BUILD_ID", "0123456789abcdef", 1);
	cf_executor *ex = make_pool("mpi", 2);
	cf_future *f = submit_square(ex, 3);
	const void *data;
	char host[256] = "";

	cr_expect_eq(cf_future_result(f, BOUND, &data, NULL), CF_BROKEN);
	const char *why = cf_executor_broken_reason(ex);
	cr_assert_not_null(why);
	gethostname(host, sizeof(host) - 1);
	cr_expect(strstr(why, "another build") && strstr(why, "0123456789abcdef") &&
		  strstr(why, host), "reason: %s", why);
	release_ok(f);
	cf_future *later = NULL;
	cr_expect_eq(cf_submit(ex, square_task, &(long){ 2 }, sizeof(long), &later), CF_BROKEN);
	cf_executor_free(ex);
}

static int pid_task(cf_task *task)
{
	long pid = (long)getpid();

	return cf_task_return(task, &pid, sizeof(pid));
}

/* Field 4 of /proc/PID/stat (the parent), and the state (field 3);
 * false when the process is gone. */
static bool proc_stat(long pid, long *ppid, char *state)
{
	char path[64], buf[512] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *close = strrchr(buf, ')');
	return close && sscanf(close + 2, "%c %ld", state, ppid) == 2;
}

static bool is_worker(const char *pid)
{
	char path[300], cmd[512] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/cmdline", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	size_t len = fread(cmd, 1, sizeof(cmd) - 1, f);
	fclose(f);
	for (size_t i = 0; i < len; i++)
		if (cmd[i] == '\0')
			cmd[i] = ' ';
	return strstr(cmd, "--cf-mpi-worker") != NULL;
}

/* Live workers of this test process: spawned by the orted that this
 * process started (Open MPI's launcher, the workers' parent), so that
 * workers of tests running beside it do not count. */
static int my_workers_alive(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)) != NULL) {
		long ppid = 0, gppid = 0;
		char state = '?', pstate = '?';
		if (e->d_name[0] < '0' || e->d_name[0] > '9' || !is_worker(e->d_name))
			continue;
		if (proc_stat(atol(e->d_name), &ppid, &state) && state != 'Z' &&
		    proc_stat(ppid, &gppid, &pstate) && gppid == (long)getpid())
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

static bool pid_gone(long pid)
{
	long ppid;
	char state;

	return !proc_stat(pid, &ppid, &state) || state == 'Z';
}

/* A pool of two with a long task on the worker whose pid comes back
 * first; fault(pid) hurts it; the long task must fail with CF_BROKEN
 * within bound seconds. */
static void check_fault(void (*fault)(pid_t), double bound, const char *expect)
{
	cf_executor *ex = make_pool("mpi", 2);
	cf_future *who = submit_ok(ex, pid_task, NULL, 0);
	pid_t pid = (pid_t)result_long(who, BOUND);
	release_ok(who);
	cf_future *longs[2] = { submit_sleep(ex, 60), submit_sleep(ex, 60) };
	cr_assert(wait_running(longs[0], BOUND) && wait_running(longs[1], BOUND));

	double start = now_s();
	fault(pid);
	const void *data;
	for (int i = 0; i < 2; i++)
		cr_expect_eq(cf_future_result(longs[i], bound + 10, &data, NULL), CF_BROKEN);
	double took = now_s() - start;
	cr_expect_lt(took, bound + 5, "CF_BROKEN came %.1f s after the fault", took);
	const char *why = cf_executor_broken_reason(ex);
	cr_expect(why && strstr(why, expect), "reason: %s", why ? why : "(none)");
	cf_future *later = NULL;
	cr_expect_eq(cf_submit(ex, square_task, &(long){ 2 }, sizeof(long), &later), CF_BROKEN);
	release_all(longs, 2);
	cf_executor_free(ex);
	/* Open MPI ends the job's other workers after the first died; the
	 * pool kills those on this host when one went silent. */
	double end = now_s() + BOUND;
	while (my_workers_alive() > 0 && now_s() < end)
		sleep_s(0.1);
	cr_expect_eq(my_workers_alive(), 0, "workers left behind");
}

static void kill_it(pid_t pid)
{
	kill(pid, SIGKILL);
}

static void stop_it(pid_t pid)
{
	kill(pid, SIGSTOP);
}

Test(cf_mpi, killed_worker_breaks_the_pool, .timeout = 90)
{
	need_mpi();
	check_fault(kill_it, 2.0, "ended");
}

Test(cf_mpi, silent_worker_breaks_the_pool, .timeout = 90)
{
	need_mpi();
	setenv("CF_MPI_SILENCE_S", "2", 1);
	check_fault(stop_it, 2.0 + 1.0, "silent");
}

/* The child: a pool of one worker, whose pid goes to fd, with a task
 * that never ends, shut down without waiting, then exit(0). */
static void hung_task_child(int fd)
{
	cf_options opts = { .max_workers = 1 };
	cf_executor *ex = NULL;
	cf_future *f = NULL, *who = NULL;
	double forever = 3600;
	const void *pid;

	if (cf_executor_new("mpi", &opts, &ex) != CF_OK ||
	    cf_submit(ex, pid_task, NULL, 0, &who) != CF_OK ||
	    cf_future_result(who, BOUND, &pid, NULL) != CF_OK ||
	    write(fd, pid, sizeof(long)) != sizeof(long) ||
	    cf_submit(ex, sleep_task, &forever, sizeof(forever), &f) != CF_OK)
		_exit(3);
	if (!wait_running(f, BOUND))
		_exit(4);
	cf_shutdown(ex, false, false);
	exit(0);
}

Test(cf_mpi, hung_task_lets_the_program_exit, .timeout = 90)
{
	int fds[2];
	long worker = 0;

	need_mpi();
	cr_assert_eq(pipe(fds), 0);
	pid_t child = fork();
	cr_assert_geq(child, 0);
	if (child == 0)
		hung_task_child(fds[1]);
	close(fds[1]);
	int status = -1;
	double end = now_s() + 30;
	pid_t got = 0;
	while ((got = waitpid(child, &status, WNOHANG)) == 0 && now_s() < end)
		sleep_s(0.05);
	if (got == 0) {
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
		cr_assert_fail("the program did not exit within 30 s of main's end");
	}
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
	cr_assert_eq(read(fds[0], &worker, sizeof(worker)), (ssize_t)sizeof(worker));
	close(fds[0]);
	end = now_s() + BOUND;
	while (!pid_gone(worker) && now_s() < end)
		sleep_s(0.1);
	cr_expect(pid_gone(worker), "the hung worker (pid %ld) was left behind", worker);
}

/* ---- the programs ---- */

static void mpirun_env(void)
{
	need_mpi();
	if (access("/usr/bin/mpirun", X_OK) != 0)
		cr_skip_test("no mpirun (scripts/deps test installs openmpi-bin)");
}

Test(cf_mpi, static_mode_prints_the_seed, .timeout = 90)
{
	struct run_result want, got;

	mpirun_env();
	cr_assert_eq(run_program(&want, 30, built("serial/squares"), NULL), 0);
	cr_assert_eq(run_program(&got, 60, "/usr/bin/mpirun", "--oversubscribe", "-n", "3",
				 built("executors/squares"), "--executor", "mpi", "--stats", NULL),
		     0);
	cr_expect_eq(got.status, 0, "status %d: %s", got.status, got.err);
	cr_expect(strncmp(got.out, want.out, strlen(want.out)) == 0, "got:\n%s\nwant:\n%s",
		  got.out, want.out);
	/* The ranks serve: nothing is spawned. */
	cr_expect(strstr(got.err, "\"processes_created\":0,") ||
		  strstr(got.out, "\"processes_created\":0,"), "--stats:\n%s%s", got.out, got.err);
	run_result_free(&want);
	run_result_free(&got);
}

Test(cf_mpi, bad_static_switch_is_a_usage_error, .timeout = 60)
{
	struct run_result r;

	mpirun_env();
	setenv("CF_MPI_STATIC", "maybe", 1);
	cr_assert_eq(run_program(&r, 60, "/usr/bin/mpirun", "-n", "2", "--oversubscribe",
				 built("executors/squares"), "--executor", "mpi", NULL), 0);
	unsetenv("CF_MPI_STATIC");
	cr_expect_neq(r.status, 0);
	cr_expect(strstr(r.err, "CF_MPI_STATIC must be 0"), "%s", r.err);
	run_result_free(&r);
}

/* ldd's view: whether the program loads libmpi. */
static bool links_libmpi(const char *prog)
{
	struct run_result r;

	cr_assert_eq(run_program(&r, 30, "/usr/bin/ldd", built(prog), NULL), 0);
	bool has = strstr(r.out, "libmpi.so") != NULL;
	run_result_free(&r);
	return has;
}

Test(cf_mpi, only_the_mpi_copies_link_libmpi, .timeout = 60)
{
	need_mpi();
	const char *names[] = { "squares", "sleep", "folders" };

	for (size_t i = 0; i < 3; i++) {
		char plain[64], mpi[64];
		snprintf(plain, sizeof(plain), "executors/%s", names[i]);
		snprintf(mpi, sizeof(mpi), "executors/mpi/%s", names[i]);
		cr_expect(!links_libmpi(plain), "%s links libmpi", plain);
		cr_expect(links_libmpi(mpi), "%s does not link libmpi", mpi);
	}
}

Test(cf_mpi, copy_without_mpi_build_refuses, .timeout = 60)
{
	char dir[] = "/tmp/parlab-mpi-XXXXXX", copy[128], cmd[400];
	struct run_result r;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(copy, sizeof(copy), "%s/squares", dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", built("executors/squares"), copy);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(run_program(&r, 30, copy, "--executor", "mpi", NULL), 0);
	cr_expect_eq(r.status, 2, "status %d", r.status);
	cr_expect(strstr(r.err, "no MPI backend") && strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
		  "%s", r.err);
	cr_expect_eq(r.out[0], '\0');
	run_result_free(&r);
	remove_tree(dir);
}

Test(cf_mpi, backend_available, .timeout = 30)
{
	cr_expect(cf_backend_available("thread"));
	cr_expect(cf_backend_available("process"));
	cr_expect(!cf_backend_available("nope"));
	cr_expect(!cf_backend_available(NULL));
#ifdef PARLAB_HAVE_MPI
	cr_expect(cf_backend_available("mpi"), "built with Open MPI, yet no mpi backend");
#else
	cr_expect(!cf_backend_available("mpi"));
#endif
}
