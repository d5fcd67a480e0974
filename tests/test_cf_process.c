/* The process backend's own promises (issue 3), beyond the semantics every
 * backend shares (those run in the BACKEND_TEST suites):
 *
 * - a worker that dies (SIGKILL, exit, a crash) or speaks nonsense on its
 *   result pipe breaks the pool: the running and pending futures give CF_BROKEN
 *   within a bound, later submits fail at once, shutdown returns, and no
 *   zombie, file descriptor or helper thread is left behind;
 * - pools come and go without leaking descriptors or children;
 * - max_tasks_per_child, the initializer, large arguments and results,
 *   task errors and chunked map cross the process boundary exactly;
 * - a process pool can be created while other threads hold locks (workers
 *   are exec'd, not merely forked).
 *
 * Workers are this test program started again (see process/worker.c): the
 * task functions below run in them, so they share nothing with the test but
 * their argument and result bytes.  A few tasks misbehave on purpose by
 * writing to the worker's result pipe, which is file descriptor 4 in a
 * worker (WORKER_RESULTS_FD in process_pool.c; tasks come on 3).
 *
 * Criterion runs each test in a process of its own, with no child at the
 * start, so waitpid(-1, ..., WNOHANG) failing with ECHILD means that every
 * worker was reaped.
 *
 * Suite: cf_process.
 */
#define _GNU_SOURCE
#include "cf_test_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wire/wire.h"

#define WORKER_RESULTS_FD 4

/* Lifecycle loops shrink under sanitizers, where a worker's start-up is
 * many times slower; the counts of the issue hold in the normal build. */
#define LIFECYCLES (CF_TEST_SANITIZED ? 30 : 100)

/* ---- the test process: descriptors, children, threads ------------------- */

static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d, "opendir %s: %s", path, strerror(errno));
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int count_fds(void)
{
	return count_dir("/proc/self/fd");
}

static int count_threads(void)
{
	return count_dir("/proc/self/task");
}

/* The pids of this process's live children (worker processes are children
 * of the pool's manager thread): up to max of them. */
static int list_children(pid_t *out, int max)
{
	char path[320];
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/children", e->d_name);
		FILE *f = fopen(path, "r");
		long pid;
		if (!f)
			continue;
		while (fscanf(f, "%ld", &pid) == 1)
			if (n < max)
				out[n++] = (pid_t)pid;
		fclose(f);
	}
	closedir(d);
	return n;
}

/* Fails unless every child was reaped: no zombie, no live child. */
static void assert_no_children(const char *when)
{
	int status;
	pid_t pid = waitpid(-1, &status, WNOHANG);
	int err = errno;

	cr_assert_eq(pid, -1, "%s: waitpid found child %d (%s)", when, (int)pid,
		     pid == 0 ? "still running" : "a zombie");
	cr_assert_eq(err, ECHILD, "%s: waitpid: %s", when, strerror(err));
}

/* Polls until the process is gone or a zombie; true if it did. */
static bool wait_gone(pid_t pid, double bound)
{
	double end = now_s() + bound;
	char path[64], state = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	while (now_s() < end) {
		FILE *f = fopen(path, "r");
		if (!f)
			return true;
		/* "pid (comm) S ...": comm may hold spaces, so find the ')'. */
		char buf[512];
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		char *p = strrchr(buf, ')');
		state = p && p[1] ? p[2] : 0;
		if (state == 'Z' || state == 'X')
			return true;
		sleep_s(0.01);
	}
	return false;
}

static cf_executor *process_pool(int workers)
{
	return make_pool("process", workers);
}

static cf_executor *process_pool_opts(const cf_options *opts)
{
	return make_pool_opts("process", opts);
}

static cf_executor_stats stats_of(cf_executor *ex)
{
	cf_executor_stats s;

	cr_assert_eq(cf_executor_stats_get(ex, &s), CF_OK);
	return s;
}

/* Asserts that f gives `expect` within bound seconds. */
static void expect_status(cf_future *f, cf_status expect, double bound, const char *what)
{
	cf_status st = cf_future_result(f, bound, NULL, NULL);

	cr_expect_eq(st, expect, "%s: %s, expected %s", what, cf_strerror(st),
		     cf_strerror(expect));
}

/* ---- tasks (they run in worker processes) ------------------------------- */

/* What a worker can tell about itself. */
struct info {
	int64_t pid;
	int64_t tasks_here;     /* tasks this process ran, this one included */
	int64_t init_calls;     /* times the initializer ran in this process */
	int64_t init_value;     /* what the initializer stored */
	int64_t square;         /* the argument squared (0 without one) */
};

static int tasks_here;
static int init_calls;
static int64_t init_value;

static int info_task(cf_task *task)
{
	size_t size;
	const long *n = cf_task_arg(task, &size);
	struct info r = {
		.pid = getpid(),
		.tasks_here = ++tasks_here,
		.init_calls = init_calls,
		.init_value = init_value,
		.square = n && size == sizeof(*n) ? *n * *n : 0,
	};

	return cf_task_return(task, &r, sizeof(r));
}

static struct info result_info(cf_future *f)
{
	const void *data = NULL;
	size_t size = 0;
	struct info r;
	cf_status st = cf_future_result(f, BOUND, &data, &size);

	cr_assert_eq(st, CF_OK, "info_task: %s", cf_strerror(st));
	cr_assert_eq(size, sizeof(r));
	memcpy(&r, data, sizeof(r));
	return r;
}

/* Runs info_task once and gives its worker's pid. */
static pid_t worker_pid(cf_executor *ex)
{
	cf_future *f = submit_ok(ex, info_task, NULL, 0);
	pid_t pid = (pid_t)result_info(f).pid;

	release_ok(f);
	cr_assert_gt(pid, 0);
	cr_assert_neq(pid, getpid(), "the task ran in the test process");
	return pid;
}

/* Ways for a worker to die or misbehave in the middle of a task. */
enum misdeed {                  /* each after a sleep of 0.3 s */
	DIE_EXIT_3,             /* exit(3) */
	DIE_EXIT_0,             /* _exit(0): leaves "cleanly" mid-task */
	DIE_SEGV,               /* raise(SIGSEGV) */
	DIE_ABORT,              /* abort() */
	DIE_SIGKILL_SELF,       /* kill(getpid(), SIGKILL) */
	DIE_CLOSE_RESULTS,      /* close(4) and return: the result cannot go */
	/* Write to the result pipe, then sleep 5 s and return normally: the
	 * parent must act on the frame, not wait for the task. */
	SEND_GARBAGE,           /* 24 bytes of text */
	SEND_BAD_VERSION,
	SEND_BAD_TYPE,
	SEND_TOO_LONG,          /* a header whose length is over the limit */
	SEND_HELLO,             /* a well-formed frame out of place */
	SEND_INIT_FAILED,
	SEND_WRONG_ID,          /* a RESULT for a task it was not given */
	SEND_SHORT_FRAME,       /* a header that promises more than follows */
};

static const char *misdeed_name(enum misdeed m)
{
	static const char *const names[] = {
		"exit(3)", "_exit(0)", "SIGSEGV", "abort", "SIGKILL itself", "close results",
		"garbage", "bad version", "bad type", "too long", "HELLO", "INIT_FAILED",
		"wrong id", "short frame",
	};

	return names[m];
}

static void write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static int misbehave_task(cf_task *task)
{
	const int *m = cf_task_arg(task, NULL);
	unsigned char frame[CF_WIRE_HEADER_SIZE + 16];
	size_t len = CF_WIRE_HEADER_SIZE;
	long zero = 0;

	memset(frame, 0, sizeof(frame));
	/* Time for the test to queue more tasks behind this one. */
	sleep_s(0.3);
	switch ((enum misdeed)*m) {
	case DIE_EXIT_3:
		exit(3);
	case DIE_EXIT_0:
		_exit(0);
	case DIE_SEGV:
		raise(SIGSEGV);
		break;
	case DIE_ABORT:
		abort();
	case DIE_SIGKILL_SELF:
		kill(getpid(), SIGKILL);
		break;
	case DIE_CLOSE_RESULTS:
		close(WORKER_RESULTS_FD);
		return cf_task_return(task, &zero, sizeof(zero));
	case SEND_GARBAGE:
		memcpy(frame, "this is no frame, sorry!", CF_WIRE_HEADER_SIZE);
		break;
	case SEND_BAD_VERSION:
		cf_wire_put_header(frame, CF_WIRE_RESULT, 1, 0);
		frame[4] = 2;
		break;
	case SEND_BAD_TYPE:
		cf_wire_put_header(frame, 0x42, 1, 0);
		break;
	case SEND_TOO_LONG:
		cf_wire_put_header(frame, CF_WIRE_RESULT, 1, UINT32_MAX);
		break;
	case SEND_HELLO:
		cf_wire_put_header(frame, CF_WIRE_HELLO, 0, 4);
		memcpy(frame + CF_WIRE_HEADER_SIZE, &(uint32_t){ (uint32_t)getpid() }, 4);
		len += 4;
		break;
	case SEND_INIT_FAILED:
		cf_wire_put_header(frame, CF_WIRE_INIT_FAILED, 0, 4);
		len += 4;       /* code 0, no message */
		break;
	case SEND_WRONG_ID:
		cf_wire_put_header(frame, CF_WIRE_RESULT, UINT64_MAX - 1, 8);
		len += 8;
		break;
	case SEND_SHORT_FRAME:
		/* Promises a 1 MiB result, gives 10 bytes; the real result
		 * frame follows, then the worker waits for its next task. */
		cf_wire_put_header(frame, CF_WIRE_RESULT, 1, 1u << 20);
		len += 10;
		break;
	}
	write_all(WORKER_RESULTS_FD, frame, len);
	sleep_s(5.0);
	return cf_task_return(task, &zero, sizeof(zero));
}

/* pattern_task: struct pattern -> `size` bytes of pattern_byte(i, seed). */
struct pattern {
	uint64_t size;
	uint64_t seed;
};

static unsigned char pattern_byte(uint64_t i, uint64_t seed)
{
	uint64_t h = (i + seed) * 0x9e3779b97f4a7c15ull;

	return (unsigned char)(h >> 56 ^ h >> 29);
}

static int pattern_task(cf_task *task)
{
	const struct pattern *p = cf_task_arg(task, NULL);
	unsigned char *buf = malloc(p->size ? p->size : 1);
	int rc;

	if (!buf)
		return cf_task_fail(task, 12, "no memory for %llu bytes",
				    (unsigned long long)p->size);
	for (uint64_t i = 0; i < p->size; i++)
		buf[i] = pattern_byte(i, p->seed);
	rc = cf_task_return(task, buf, p->size);
	free(buf);
	return rc;
}

/* check_task: an argument of pattern_byte(i, seed) bytes whose first 8
 * bytes hold the seed -> struct check. */
struct check {
	uint64_t size;
	uint64_t mismatches;
	uint64_t first_mismatch;
	uint64_t fnv;           /* FNV-1a of every byte */
	uint64_t aligned;       /* the argument is aligned for any type */
};

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static void fill_pattern(unsigned char *buf, size_t size, uint64_t seed)
{
	for (size_t i = 0; i < size; i++)
		buf[i] = pattern_byte(i, seed);
	if (size >= 8)
		memcpy(buf, &seed, 8);
}

static int check_task(cf_task *task)
{
	size_t size;
	const unsigned char *arg = cf_task_arg(task, &size);
	struct check r = { .size = size, .first_mismatch = UINT64_MAX };
	uint64_t seed = 0;

	if (size >= 8)
		memcpy(&seed, arg, 8);
	for (size_t i = 8; i < size; i++) {
		if (arg[i] != pattern_byte(i, seed)) {
			if (!r.mismatches)
				r.first_mismatch = i;
			r.mismatches++;
		}
	}
	r.fnv = size ? fnv1a(arg, size) : 0;
	r.aligned = ((uintptr_t)arg % alignof(max_align_t)) == 0;
	return cf_task_return(task, &r, sizeof(r));
}

/* echo_task: returns its argument. */
static int echo_task(cf_task *task)
{
	size_t size;
	const void *arg = cf_task_arg(task, &size);

	return cf_task_return(task, arg, size);
}

/* Failing in every way a task can, by number. */
static int error_task(cf_task *task)
{
	const int *which = cf_task_arg(task, NULL);
	char big[400];
	long zero = 0;

	memset(big, 'w', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	switch (*which) {
	case 0:
		return cf_task_fail(task, 42, "bad %d", 7);
	case 1:
		return cf_task_fail(task, -5, "négatif: %s", "ü\ttab\nnewline");
	case 2:
		return cf_task_fail(task, INT_MIN, "%s", "");
	case 3:
		return cf_task_fail(task, INT_MAX, "%.255s", big);      /* 255: the most */
	case 4:
		return cf_task_fail(task, 9, "%s", big);        /* cut to 255 */
	case 5:
		return cf_task_fail(task, 0, "code zero");      /* becomes -1 */
	case 6:
		return 17;                                      /* no message */
	case 7:
		return -3;
	case 8:
		/* Failed, then returned a result and 0: still failed. */
		cf_task_fail(task, 8, "failed first");
		cf_task_return(task, &zero, sizeof(zero));
		return 0;
	}
	return cf_task_fail(task, 1000, "no case %d", *which);
}
#define ERROR_CASES 9

/* var_task: long n -> n % 97 bytes of (n + j) & 0xff; fails with code 77
 * for a negative n, like an exception raised by one item of a map. */
static int var_task(cf_task *task)
{
	size_t size;
	const long *n = cf_task_arg(task, &size);
	unsigned char buf[97];

	if (!n || size != sizeof(*n))
		return cf_task_fail(task, 99, "var_task: argument of %zu bytes", size);
	if (*n < 0)
		return cf_task_fail(task, 77, "negative %ld", *n);
	size_t len = (size_t)(*n % 97);
	for (size_t j = 0; j < len; j++)
		buf[j] = (unsigned char)(*n + (long)j);
	return cf_task_return(task, buf, len);
}

/* alloc_task: long n -> mallocs and frees n blocks in the worker, returns
 * the sum of their first bytes (n * 7). */
static int alloc_task(cf_task *task)
{
	const long *n = cf_task_arg(task, NULL);
	long sum = 0;

	for (long i = 0; i < *n; i++) {
		unsigned char *p = malloc(16 + (size_t)(i % 4096));
		if (!p)
			return cf_task_fail(task, 12, "malloc");
		p[0] = 7;
		sum += p[0];
		free(p);
	}
	return cf_task_return(task, &sum, sizeof(sum));
}

/* env_task -> struct env: what a worker inherited. */
struct env {
	int64_t extra_fds;      /* open descriptors besides 0 to 4 */
	int64_t worker_env_set; /* CF_PROCESS_WORKER still in the environment */
	int64_t ppid;
};

static int env_task(cf_task *task)
{
	struct env r = { .ppid = getppid() };
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (!d)
		return cf_task_fail(task, 1, "opendir: %s", strerror(errno));
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		int fd = atoi(e->d_name);
		if (fd > WORKER_RESULTS_FD && fd != dirfd(d))
			r.extra_fds++;
	}
	closedir(d);
	r.worker_env_set = getenv("CF_PROCESS_WORKER") != NULL;
	return cf_task_return(task, &r, sizeof(r));
}

/* nested_task: long n -> n * n, computed by a process pool of its own. */
static int nested_task(cf_task *task)
{
	const long *n = cf_task_arg(task, NULL);
	cf_executor *ex = NULL;
	cf_options opts = { .max_workers = 1 };
	cf_future *f = NULL;
	const void *data;
	size_t size;
	long r;
	cf_status st = cf_executor_new("process", &opts, &ex);

	if (st != CF_OK)
		return cf_task_fail(task, 1, "cf_executor_new: %s", cf_strerror(st));
	st = cf_submit(ex, square_task, n, sizeof(*n), &f);
	if (st == CF_OK)
		st = cf_future_result(f, BOUND, &data, &size);
	if (st == CF_OK && size == sizeof(r))
		memcpy(&r, data, sizeof(r));
	if (f)
		cf_future_release(f);
	cf_executor_free(ex);
	if (st != CF_OK)
		return cf_task_fail(task, 2, "inner pool: %s", cf_strerror(st));
	return cf_task_return(task, &r, sizeof(r));
}

/* ---- initializers (they run in worker processes) ------------------------ */

/* Appends this worker's pid to the file named by initarg. */
static int record_init(const void *initarg, size_t size)
{
	char path[PATH_MAX], line[32];

	init_calls++;
	init_value = 4242;
	if (!initarg || size == 0 || size >= sizeof(path))
		return 90;
	memcpy(path, initarg, size);
	path[size] = '\0';
	int fd = open(path, O_WRONLY | O_APPEND);
	if (fd < 0)
		return 91;
	int n = snprintf(line, sizeof(line), "%d\n", (int)getpid());
	write_all(fd, line, (size_t)n);
	close(fd);
	return 0;
}

/* Stores the FNV-1a of its initarg (or 1 for none) as init_value. */
static int hash_init(const void *initarg, size_t size)
{
	init_calls++;
	init_value = initarg ? (int64_t)fnv1a(initarg, size) : 1;
	return 0;
}

static int failing_init(const void *initarg, size_t size)
{
	(void)initarg;
	(void)size;
	return 5;
}

static int exiting_init(const void *initarg, size_t size)
{
	(void)initarg;
	(void)size;
	_exit(0);
}

/* ---- a worker that dies ------------------------------------------------- */

static atomic_int callbacks_run;
static atomic_int callbacks_broken;

static int count_broken(cf_future *f, void *arg)
{
	const void *data;
	size_t size;

	(void)arg;
	if (cf_future_result(f, 0, &data, &size) == CF_BROKEN)
		atomic_fetch_add(&callbacks_broken, 1);
	atomic_fetch_add(&callbacks_run, 1);
	return 0;
}

/* After a break: submits fail at once, shutdown returns, nothing left. */
static void check_broken_pool_ends_clean(cf_executor *ex, int fds_before, int threads_before)
{
	cf_future *f = (cf_future *)0x1;
	double t0 = now_s();
	long n = 3;
	cf_status st = cf_submit(ex, square_task, &n, sizeof(n), &f);

	cr_expect_eq(st, CF_BROKEN, "submit after the break: %s", cf_strerror(st));
	cr_expect_null(f);
	cr_expect_lt(now_s() - t0, 0.5, "a submit to a broken pool returns at once");

	/* map too: refused, or its first result says broken, at once. */
	long items[4] = { 1, 2, 3, 4 };
	cf_map_iter *it = NULL;
	t0 = now_s();
	st = cf_map(ex, square_task, items, sizeof(items[0]), 4, NULL, &it);
	if (st == CF_OK)
		st = cf_map_next(it, NULL, NULL);
	cr_expect_eq(st, CF_BROKEN, "map on a broken pool: %s", cf_strerror(st));
	cr_expect_lt(now_s() - t0, 0.5, "map on a broken pool returns at once");
	cf_map_free(it);

	t0 = now_s();
	cr_expect_eq(cf_shutdown(ex, true, false), CF_OK);
	cr_expect_lt(now_s() - t0, 5.0, "shutdown of a broken pool took %.2f s", now_s() - t0);
	cr_expect_eq(cf_shutdown(ex, true, true), CF_OK, "a second shutdown");
	cf_executor_free(ex);
	assert_no_children("after the broken pool");
	cr_expect_eq(count_fds(), fds_before, "descriptors before and after");
	cr_expect_eq(count_threads(), threads_before, "threads before and after");
	cr_expect_eq(cf_futures_alive(), 0);
}

Test(cf_process, sigkill_mid_task_breaks_pool, .timeout = 60)
{
	int fds = count_fds(), threads = count_threads();
	cf_executor *ex;
	cf_future *running, *pending[8];
	pid_t pid;

	assert_no_children("at the start");
	ex = process_pool(1);
	pid = worker_pid(ex);
	running = submit_sleep(ex, 5.0);
	for (int i = 0; i < 8; i++) {
		pending[i] = submit_sleep(ex, 5.0);
		cr_assert_eq(cf_future_add_done_callback(pending[i], count_broken, NULL), CF_OK);
	}
	cr_assert(wait_running(running, BOUND), "the long task never started");
	sleep_s(0.1);   /* let it reach the worker */
	cr_expect_not(cf_future_done(running));

	double t0 = now_s();
	cr_assert_eq(kill(pid, SIGKILL), 0);
	expect_status(running, CF_BROKEN, BOUND, "the running task");
	double took = now_s() - t0;
	cr_expect_lt(took, 2.0, "the running future broke after %.2f s", took);
	for (int i = 0; i < 8; i++)
		expect_status(pending[i], CF_BROKEN, BOUND, "a pending task");
	took = now_s() - t0;
	cr_expect_lt(took, 2.0, "every pending future broke after %.2f s", took);
	for (int i = 0; i < 8; i++) {
		const cf_error *error = (const cf_error *)0x1;
		cr_expect(cf_future_done(pending[i]));
		cr_expect_not(cf_future_cancelled(pending[i]));
		cr_expect_eq(cf_future_exception(pending[i], 0, &error), CF_BROKEN);
	}
	cr_expect(wait_counter(&callbacks_run, 8, BOUND), "callbacks of the broken futures");
	cr_expect_eq(atomic_load(&callbacks_broken), 8);
	release_ok(running);
	release_all(pending, 8);
	check_broken_pool_ends_clean(ex, fds, threads);
}

struct delayed_kill {
	pid_t pid;
	double delay;
};

static void *kill_later(void *arg)
{
	struct delayed_kill *k = arg;

	sleep_s(k->delay);
	kill(k->pid, SIGKILL);
	return NULL;
}

/* A worker killed while cf_shutdown(wait) waits for its task: shutdown
 * returns soon after, instead of waiting for a task that will never end. */
Test(cf_process, sigkill_during_shutdown, .timeout = 60)
{
	int fds = count_fds(), threads = count_threads();
	cf_executor *ex = process_pool(1);
	struct delayed_kill k = { .pid = worker_pid(ex), .delay = 0.5 };
	cf_future *running = submit_sleep(ex, 30.0);
	cf_future *pending = submit_sleep(ex, 30.0);
	pthread_t killer;

	cr_assert(wait_running(running, BOUND));
	cr_assert_eq(pthread_create(&killer, NULL, kill_later, &k), 0);
	double t0 = now_s();
	cr_expect_eq(cf_shutdown(ex, true, false), CF_OK);
	double took = now_s() - t0;
	pthread_join(killer, NULL);
	cr_expect_lt(took, 2.5, "shutdown returned %.2f s after it began (kill at 0.5 s)", took);
	expect_status(running, CF_BROKEN, 0, "the running task");
	expect_status(pending, CF_BROKEN, 0, "the pending task");
	release_ok(running);
	release_ok(pending);
	cf_executor_free(ex);
	assert_no_children("after the pool");
	cr_expect_eq(count_fds(), fds);
	cr_expect_eq(count_threads(), threads);
}

/* Killing one worker of several breaks the pool at once, including the
 * task another worker is running: nobody waits for it to end. */
Test(cf_process, sigkill_one_of_several_workers, .timeout = 60)
{
	int fds = count_fds(), threads = count_threads();
	cf_executor *ex = process_pool(3);
	cf_future *fs[3];
	pid_t kids[8];

	assert_no_children("at the start");
	for (int i = 0; i < 3; i++)
		fs[i] = submit_sleep(ex, 10.0);
	for (int i = 0; i < 3; i++)
		cr_assert(wait_running(fs[i], BOUND));
	/* All three running means all three workers exist. */
	cr_assert_eq(list_children(kids, 8), 3, "three workers");
	sleep_s(0.1);

	double t0 = now_s();
	cr_assert_eq(kill(kids[1], SIGKILL), 0);
	for (int i = 0; i < 3; i++)
		expect_status(fs[i], CF_BROKEN, BOUND, "a running task");
	double took = now_s() - t0;
	cr_expect_lt(took, 2.0, "the pool broke after %.2f s", took);
	release_all(fs, 3);
	check_broken_pool_ends_clean(ex, fds, threads);
	for (int i = 0; i < 3; i++)
		cr_expect(wait_gone(kids[i], 1.0), "worker %d still runs", (int)kids[i]);
}

/* What cf_executor_broken_reason must say after each misdeed, besides
 * naming worker 0 (NULL: nothing more is sure).  Under ASan a SIGSEGV
 * is caught and the worker exits 1 instead. */
static const char *misdeed_reason(enum misdeed m)
{
	switch (m) {
	case DIE_EXIT_3: return "ended: exited with status 3";
	case DIE_EXIT_0: return "ended: exited with status 0";
	case DIE_SEGV: return CF_TEST_SANITIZED ? "ended: " : "ended: killed by signal 11";
	case DIE_ABORT: return "ended: killed by signal 6";
	case DIE_SIGKILL_SELF: return "ended: killed by signal 9";
	case DIE_CLOSE_RESULTS: return "ended";
	case SEND_GARBAGE: case SEND_BAD_VERSION: case SEND_BAD_TYPE: case SEND_TOO_LONG:
		return "sent a corrupt frame: ";
	case SEND_HELLO: case SEND_WRONG_ID: return "sent an unexpected frame";
	case SEND_INIT_FAILED: return "the initializer failed in worker 0";
	case SEND_SHORT_FRAME: return NULL;
	}
	return NULL;
}

/* A task that kills its worker in one of several ways: the task and the
 * pending ones fail with CF_BROKEN within 2 s, the pool says why, and
 * everything is cleaned. */
static void check_misdeed_breaks_pool(enum misdeed m)
{
	int fds = count_fds(), threads = count_threads();
	cf_executor *ex = process_pool(1);
	cf_future *bad, *pending[4];
	int arg = m;

	assert_no_children("at the start");
	worker_pid(ex);         /* the worker is up: time only the break */
	double t0 = now_s();
	bad = submit_ok(ex, misbehave_task, &arg, sizeof(arg));
	for (int i = 0; i < 4; i++)
		pending[i] = submit_sleep(ex, 0.01);
	expect_status(bad, CF_BROKEN, BOUND, misdeed_name(m));
	double took = now_s() - t0;
	cr_expect_lt(took, 2.0, "%s: the pool broke after %.2f s", misdeed_name(m), took);
	for (int i = 0; i < 4; i++)
		expect_status(pending[i], CF_BROKEN, BOUND, misdeed_name(m));
	const char *why = cf_executor_broken_reason(ex), *want = misdeed_reason(m);
	cr_assert_not_null(why, "%s: a broken pool gives no reason", misdeed_name(m));
	cr_expect(strstr(why, "worker 0 (pid "), "%s: the reason names no worker: %s",
		  misdeed_name(m), why);
	cr_expect(!want || strstr(why, want), "%s: the reason is \"%s\", not \"...%s...\"",
		  misdeed_name(m), why, want);
	release_ok(bad);
	release_all(pending, 4);
	check_broken_pool_ends_clean(ex, fds, threads);
}

Test(cf_process, task_calling_exit_breaks_pool, .timeout = 60)
{
	check_misdeed_breaks_pool(DIE_EXIT_3);
}

Test(cf_process, task_calling_exit_0_breaks_pool, .timeout = 60)
{
	check_misdeed_breaks_pool(DIE_EXIT_0);
}

Test(cf_process, task_raising_sigsegv_breaks_pool, .timeout = 60)
{
	check_misdeed_breaks_pool(DIE_SEGV);
}

Test(cf_process, task_calling_abort_breaks_pool, .timeout = 60)
{
	check_misdeed_breaks_pool(DIE_ABORT);
}

Test(cf_process, task_killing_its_worker_breaks_pool, .timeout = 60)
{
	check_misdeed_breaks_pool(DIE_SIGKILL_SELF);
}

Test(cf_process, task_closing_its_result_pipe_breaks_pool, .timeout = 60)
{
	check_misdeed_breaks_pool(DIE_CLOSE_RESULTS);
}

/* ---- a worker that speaks nonsense -------------------------------------- */

Test(cf_process, garbage_frame_breaks_pool, .timeout = 60)
{
	check_misdeed_breaks_pool(SEND_GARBAGE);
}

Test(cf_process, bad_version_frame_breaks_pool, .timeout = 60)
{
	check_misdeed_breaks_pool(SEND_BAD_VERSION);
}

Test(cf_process, bad_type_frame_breaks_pool, .timeout = 60)
{
	check_misdeed_breaks_pool(SEND_BAD_TYPE);
}

Test(cf_process, too_long_frame_breaks_pool, .timeout = 60)
{
	check_misdeed_breaks_pool(SEND_TOO_LONG);
}

Test(cf_process, frame_out_of_place_breaks_pool, .timeout = 60)
{
	check_misdeed_breaks_pool(SEND_HELLO);
}

Test(cf_process, stray_init_failed_breaks_pool, .timeout = 60)
{
	check_misdeed_breaks_pool(SEND_INIT_FAILED);
}

Test(cf_process, result_with_wrong_id_breaks_pool, .timeout = 60)
{
	check_misdeed_breaks_pool(SEND_WRONG_ID);
}

/* A header whose length promises more than the worker sends, after which
 * the worker waits for its next task: the parent must not wait forever in
 * the middle of that frame.  If the pool has not broken within the bound,
 * the worker is killed so that the test ends (the EOF inside the frame
 * then breaks the pool) and the test fails. */
Test(cf_process, short_frame_breaks_pool, .timeout = 90)
{
	int fds = count_fds(), threads = count_threads();
	cf_executor *ex = process_pool(1);
	int arg = SEND_SHORT_FRAME;
	pid_t pid = worker_pid(ex);
	cf_future *bad = submit_ok(ex, misbehave_task, &arg, sizeof(arg));
	cf_future *next = submit_square(ex, 4);
	cf_status st = cf_future_result(bad, 20.0, NULL, NULL);

	cr_expect_eq(st, CF_BROKEN,
		     "a frame cut short by a live worker: %s after 20 s (the parent is "
		     "stuck reading the frame's promised payload)", cf_strerror(st));
	if (st == CF_TIMEOUT)
		kill(pid, SIGKILL);
	expect_status(bad, CF_BROKEN, BOUND, "the task");
	expect_status(next, CF_BROKEN, BOUND, "the pending task");
	release_ok(bad);
	release_ok(next);
	check_broken_pool_ends_clean(ex, fds, threads);
}

/* The pool's thread is the one that reads the frames of every worker: one
 * worker that stops in the middle of a frame must not stall the others. */
Test(cf_process, short_frame_does_not_stall_other_workers, .timeout = 90)
{
	cf_executor *ex = process_pool(2);
	int arg = SEND_SHORT_FRAME;
	pid_t kids[4];
	cf_future *bad = submit_ok(ex, misbehave_task, &arg, sizeof(arg));

	cr_assert(wait_running(bad, BOUND));
	sleep_s(1.0);           /* the bad frame is out; the manager read it */
	cf_future *other = submit_square(ex, 5);
	cf_status st = cf_future_result(other, 10.0, NULL, NULL);

	/* Either the pool broke (fine) or the other worker answered. */
	cr_expect(st == CF_OK || st == CF_BROKEN,
		  "a task on a healthy worker: %s after 10 s", cf_strerror(st));
	if (st == CF_TIMEOUT || cf_future_result(bad, 0, NULL, NULL) == CF_TIMEOUT) {
		int n = list_children(kids, 4);
		for (int i = 0; i < n; i++)
			kill(kids[i], SIGKILL);
	}
	cf_future_result(bad, BOUND, NULL, NULL);
	release_ok(bad);
	release_ok(other);
	cf_executor_free(ex);
	assert_no_children("at the end");
}

/* ---- lifecycles leak nothing -------------------------------------------- */

Test(cf_process, no_fd_growth_over_lifecycles, .timeout = 240)
{
	int fds = count_fds(), threads = count_threads();

	for (int i = 0; i < LIFECYCLES; i++) {
		int workers = i % 3 + 1;
		cf_executor *ex = process_pool(workers);
		cf_future *fs[3];

		for (int k = 0; k < workers; k++)
			fs[k] = submit_square(ex, i + k);
		for (int k = 0; k < workers; k++)
			cr_assert_eq(result_long(fs[k], BOUND), (long)(i + k) * (i + k));
		release_all(fs, (size_t)workers);
		cf_executor_free(ex);
		if (i == 0)
			cr_assert_eq(count_fds(), fds, "descriptors after the first pool");
	}
	cr_expect_eq(count_fds(), fds, "descriptors before and after %d pools", LIFECYCLES);
	cr_expect_eq(count_threads(), threads, "threads before and after");
	assert_no_children("after the pools");
}

Test(cf_process, no_zombies_over_lifecycles, .timeout = 240)
{
	assert_no_children("at the start");
	for (int i = 0; i < LIFECYCLES; i++) {
		cf_executor *ex = process_pool(2);
		cf_future *fs[4];

		for (int k = 0; k < 4; k++)
			fs[k] = submit_square(ex, k);
		for (int k = 0; k < 4; k++)
			cr_assert_eq(result_long(fs[k], BOUND), k * k);
		release_all(fs, 4);
		/* Alternate the ways a pool ends. */
		if (i % 2)
			cf_shutdown(ex, false, false);
		cf_executor_free(ex);
		assert_no_children("after a pool");
	}
}

/* Broken pools leak nothing either. */
Test(cf_process, no_leaks_over_broken_lifecycles, .timeout = 240)
{
	int fds = count_fds(), threads = count_threads();
	int n = LIFECYCLES / 4;

	for (int i = 0; i < n; i++) {
		cf_executor *ex = process_pool(2);
		int m = i % 2 ? DIE_EXIT_3 : SEND_GARBAGE;
		cf_future *bad = submit_ok(ex, misbehave_task, &m, sizeof(m));
		cf_future *other = submit_sleep(ex, 0.5);

		expect_status(bad, CF_BROKEN, BOUND, misdeed_name(m));
		cf_future_result(other, BOUND, NULL, NULL);
		release_ok(bad);
		release_ok(other);
		cf_executor_free(ex);
		assert_no_children("after a broken pool");
	}
	cr_expect_eq(count_fds(), fds, "descriptors before and after %d broken pools", n);
	cr_expect_eq(count_threads(), threads, "threads before and after");
}

/* A pool never used starts no worker and leaves nothing behind. */
Test(cf_process, unused_pool_starts_no_worker, .timeout = 30)
{
	int fds = count_fds(), threads = count_threads();
	cf_executor *ex = process_pool(4);
	pid_t kids[4];

	sleep_s(0.1);
	cr_expect_eq(list_children(kids, 4), 0);
	cr_expect_eq(stats_of(ex).processes_created, 0);
	cf_executor_free(ex);
	cr_expect_eq(count_fds(), fds);
	cr_expect_eq(count_threads(), threads);
	assert_no_children("after the pool");
}

/* ---- what a worker is --------------------------------------------------- */

Test(cf_process, workers_inherit_only_their_pipes, .timeout = 30)
{
	cf_executor *ex = process_pool(1);
	cf_future *f = submit_ok(ex, env_task, NULL, 0);
	const void *data;
	size_t size;
	struct env r;

	cr_assert_eq(cf_future_result(f, BOUND, &data, &size), CF_OK);
	cr_assert_eq(size, sizeof(r));
	memcpy(&r, data, sizeof(r));
	cr_expect_eq(r.extra_fds, 0, "a worker holds %lld descriptors besides 0-4",
		     (long long)r.extra_fds);
	cr_expect_eq(r.worker_env_set, 0, "CF_PROCESS_WORKER left in the task's environment");
	cr_expect_eq(r.ppid, getpid(), "the worker is a child of the pool's process");
	release_ok(f);
	cf_executor_free(ex);
}

/* A task may use a process pool itself. */
Test(cf_process, task_can_run_a_process_pool, .timeout = 60)
{
	cf_executor *ex = process_pool(1);
	long n = 12;
	cf_future *f = submit_ok(ex, nested_task, &n, sizeof(n));
	const cf_error *error = NULL;

	cr_assert_eq(cf_future_exception(f, BOUND, &error), CF_OK);
	cr_assert_null(error, "nested pool: %s", error ? error->message : "");
	cr_expect_eq(result_long(f, 0), 144);
	release_ok(f);
	cf_executor_free(ex);
	assert_no_children("after the pools");
}

/* A worker dies with the process that created it, even when that process
 * dies without shutting its pool down. */
Test(cf_process, workers_die_with_their_parent, .timeout = 60)
{
	int fds[2];
	pid_t child, worker = 0;
	int status;

	cr_assert_eq(pipe(fds), 0);
	child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) {
		/* No Criterion calls in here: plain exit codes. */
		cf_options opts = { .max_workers = 1 };
		cf_executor *ex;
		cf_future *f;
		const void *data;
		size_t size;
		double s = 30.0;
		struct info r;

		close(fds[0]);
		if (cf_executor_new("process", &opts, &ex) != CF_OK ||
		    cf_submit(ex, info_task, NULL, 0, &f) != CF_OK ||
		    cf_future_result(f, BOUND, &data, &size) != CF_OK || size != sizeof(r))
			_exit(10);
		memcpy(&r, data, sizeof(r));
		pid_t pid = (pid_t)r.pid;
		if (cf_submit(ex, sleep_task, &s, sizeof(s), &f) != CF_OK)
			_exit(11);
		sleep_s(0.2);
		if (write(fds[1], &pid, sizeof(pid)) != sizeof(pid))
			_exit(12);
		_exit(0);       /* with a busy worker, without shutdown */
	}
	close(fds[1]);
	cr_expect_eq(read(fds[0], &worker, sizeof(worker)), (ssize_t)sizeof(worker));
	close(fds[0]);
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
	cr_assert_gt(worker, 0);
	bool gone = wait_gone(worker, 10.0);
	if (!gone)
		kill(worker, SIGKILL);
	cr_expect(gone, "worker %d outlived its parent", (int)worker);
	assert_no_children("at the end");
}

/* ---- max_tasks_per_child ------------------------------------------------ */

Test(cf_process, max_tasks_per_child_1_over_200_tasks, .timeout = 240)
{
	cf_options opts = { .max_workers = 2, .max_tasks_per_child = 1 };
	cf_executor *ex = process_pool_opts(&opts);
	enum { N = 200 };
	cf_future *fs[N];
	int64_t pids[N];

	for (long i = 0; i < N; i++)
		fs[i] = submit_ok(ex, info_task, &i, sizeof(i));
	for (long i = 0; i < N; i++) {
		struct info r = result_info(fs[i]);

		cr_expect_eq(r.square, i * i, "task %ld", i);
		cr_expect_eq(r.tasks_here, 1, "task %ld was task %lld of its worker", i,
			     (long long)r.tasks_here);
		cr_expect_neq(r.pid, getpid());
		pids[i] = r.pid;
	}
	for (int i = 0; i < N; i++)
		for (int k = 0; k < i; k++)
			cr_expect_neq(pids[i], pids[k], "tasks %d and %d share pid %lld", k, i,
				      (long long)pids[i]);
	release_all(fs, N);
	cr_expect_eq(cf_shutdown(ex, true, false), CF_OK);
	cf_executor_stats s = stats_of(ex);
	cr_expect_geq(s.processes_created, N, "%zu processes for %d tasks", s.processes_created, N);
	cr_expect_eq(s.tasks_completed, N);
	cf_executor_free(ex);
	assert_no_children("after the pool");
}

/* One worker, three tasks each: the pid changes exactly every three. */
Test(cf_process, max_tasks_per_child_3_replaces_in_order, .timeout = 120)
{
	cf_options opts = { .max_workers = 1, .max_tasks_per_child = 3 };
	cf_executor *ex = process_pool_opts(&opts);
	enum { N = 30 };
	cf_future *fs[N];
	struct info r[N];

	for (long i = 0; i < N; i++)
		fs[i] = submit_ok(ex, info_task, &i, sizeof(i));
	for (int i = 0; i < N; i++) {
		r[i] = result_info(fs[i]);
		cr_expect_eq(r[i].square, (int64_t)i * i);
		cr_expect_eq(r[i].tasks_here, i % 3 + 1, "task %d", i);
		if (i % 3)
			cr_expect_eq(r[i].pid, r[i - 1].pid, "task %d moved worker", i);
		else if (i)
			cr_expect_neq(r[i].pid, r[i - 1].pid, "task %d kept a used-up worker", i);
	}
	release_all(fs, N);
	cr_expect_eq(cf_shutdown(ex, true, false), CF_OK);
	cr_expect_eq(stats_of(ex).processes_created, N / 3, "%d tasks, 3 per worker", N);
	cf_executor_free(ex);
	assert_no_children("after the pool");
}

/* ---- sizes -------------------------------------------------------------- */

Test(cf_process, result_of_16_mib, .timeout = 120)
{
	cf_executor *ex = process_pool(2);
	struct pattern p = { .size = 16u << 20, .seed = 0x1234567 };
	cf_future *f = submit_ok(ex, pattern_task, &p, sizeof(p));
	const unsigned char *data = NULL;
	size_t size = 0;

	cr_assert_eq(cf_future_result(f, BOUND * 3, (const void **)&data, &size), CF_OK);
	cr_assert_eq(size, p.size);
	size_t bad = 0, first = SIZE_MAX;
	for (size_t i = 0; i < size; i++) {
		if (data[i] != pattern_byte(i, p.seed)) {
			if (!bad++)
				first = i;
		}
	}
	cr_expect_eq(bad, 0, "%zu bytes differ, the first at %zu", bad, first);
	release_ok(f);
	cf_executor_free(ex);
}

Test(cf_process, argument_of_16_mib, .timeout = 120)
{
	cf_executor *ex = process_pool(2);
	size_t n = (16u << 20) + 3;
	unsigned char *arg = malloc(n);
	struct check r;

	cr_assert_not_null(arg);
	fill_pattern(arg, n, 99);
	uint64_t fnv = fnv1a(arg, n);
	cf_future *f = submit_ok(ex, check_task, arg, n);
	/* The argument was copied: the caller may reuse its memory. */
	memset(arg, 0, n);
	free(arg);
	cr_assert_eq(cf_future_result_into(f, BOUND * 3, &r, sizeof(r), NULL), CF_OK);
	cr_expect_eq(r.size, n);
	cr_expect_eq(r.mismatches, 0, "%llu bytes differ, the first at %llu",
		     (unsigned long long)r.mismatches, (unsigned long long)r.first_mismatch);
	cr_expect_eq(r.fnv, fnv);
	cr_expect(r.aligned, "the argument is not aligned for any type");
	release_ok(f);
	cf_executor_free(ex);
}

/* widen_task: an argument of n bytes -> WIDE_RESULT bytes, byte i being
 * arg[i % n]: a result far larger than a pipe holds. */
#define WIDE_RESULT (1u << 20)

static int widen_task(cf_task *task)
{
	size_t n;
	const unsigned char *arg = cf_task_arg(task, &n);
	unsigned char *out = cf_task_result_buffer(task, WIDE_RESULT);

	if (!out || n == 0)
		return cf_task_fail(task, 1, "no result buffer, or no argument");
	for (size_t i = 0; i < WIDE_RESULT; i++)
		out[i] = arg[i % n];
	return cf_task_return(task, out, WIDE_RESULT);
}

/* A map's small tasks go to a worker ahead of its running one, into its
 * task pipe; the worker meanwhile writes a result of 1 MiB, which waits
 * for the pool to read it.  If a task sent ahead did not fit in the pipe,
 * the pool would wait for room in the task pipe while the worker waits
 * for room in the result pipe: a deadlock, which the map's timeout turns
 * into a failure.  Items just under the largest that goes ahead on a
 * 64 KiB pipe (65536 - 4130 bytes: process_pool.c, TASK_FRAME_EXTRA), and
 * items larger than the pipe, which must wait for the worker to be idle. */
Test(cf_process, map_sends_ahead_only_what_fits_the_pipe, .timeout = 120)
{
	static const size_t item_sizes[] = { 65536 - 4130, 100000 };
	enum { ITEMS = 6 };
	cf_executor *ex = process_pool(1);

	for (size_t k = 0; k < sizeof(item_sizes) / sizeof(item_sizes[0]); k++) {
		size_t item_size = item_sizes[k];
		unsigned char *items = malloc(item_size * ITEMS);
		cf_map_options mopts = { .timeout = BOUND * 2 };
		cf_map_iter *it = NULL;
		const unsigned char *data;
		size_t size, got = 0;
		cf_status st;

		cr_assert_not_null(items);
		for (size_t i = 0; i < item_size * ITEMS; i++)
			items[i] = pattern_byte(i, k);
		cr_assert_eq(cf_map(ex, widen_task, items, item_size, ITEMS, &mopts, &it), CF_OK);
		while ((st = cf_map_next(it, (const void **)&data, &size)) == CF_OK) {
			const unsigned char *item = items + got * item_size;
			cr_assert_eq(size, WIDE_RESULT);
			cr_expect(data[0] == item[0] && data[item_size] == item[0] &&
				  data[WIDE_RESULT - 1] == item[(WIDE_RESULT - 1) % item_size],
				  "item %zu of %zu bytes: wrong result", got, item_size);
			got++;
		}
		cr_expect_eq(st, CF_END, "items of %zu bytes: %s after %zu results", item_size,
			     cf_strerror(st), got);
		cf_map_free(it);
		free(items);
	}
	cf_executor_free(ex);
}

/* Sleeps 0.3 s, long enough for the pool to fill the task pipe, then
 * leaves the worker without a word. */
static int slow_exiting_init(const void *initarg, size_t size)
{
	(void)initarg;
	(void)size;
	sleep_s(0.3);
	_exit(0);
}

/* The pool writes a task of 8 MiB to a worker that never reads it: the
 * writer waits for room in the task pipe, whose reader the pool holds
 * itself (so that a write never raises SIGPIPE), until the worker's
 * result pipe hangs up.  Without that watch, the write, and the pool,
 * would wait forever. */
Test(cf_process, writer_to_a_dying_worker_gives_up, .timeout = 60)
{
	int fds = count_fds(), threads = count_threads();
	cf_options opts = { .max_workers = 1, .initializer = slow_exiting_init };
	cf_executor *ex = process_pool_opts(&opts);
	size_t n = 8u << 20;
	unsigned char *arg = calloc(1, n);
	double t0 = now_s();

	cr_assert_not_null(arg);
	cf_future *f = submit_ok(ex, check_task, arg, n);
	free(arg);
	expect_status(f, CF_BROKEN, BOUND, "a task whose worker died before reading it");
	double took = now_s() - t0;
	cr_expect_lt(took, 5.0, "the pool broke after %.2f s", took);
	release_ok(f);
	check_broken_pool_ends_clean(ex, fds, threads);
}

/* Sizes around the inline buffer, a page, a pipe's buffer (64 KiB) and a
 * socket's, both ways, several at once on two workers. */
Test(cf_process, echo_of_many_sizes, .timeout = 120)
{
	static const size_t sizes[] = { 0, 1, 7, 47, 48, 49, 64, 4095, 4096, 65535, 65536,
					212991, 212993, 1000003, (4u << 20) + 1 };
	enum { N = sizeof(sizes) / sizeof(sizes[0]) };
	cf_executor *ex = process_pool(2);
	cf_future *fs[N], *cs[N];
	unsigned char *bufs[N];

	for (size_t i = 0; i < N; i++) {
		bufs[i] = malloc(sizes[i] + 1);
		cr_assert_not_null(bufs[i]);
		fill_pattern(bufs[i], sizes[i], i + 1);
		fs[i] = submit_ok(ex, echo_task, sizes[i] ? bufs[i] : NULL, sizes[i]);
		cs[i] = submit_ok(ex, check_task, sizes[i] ? bufs[i] : NULL, sizes[i]);
	}
	for (size_t i = 0; i < N; i++) {
		const void *data;
		size_t size = 12345;
		struct check r;

		cr_assert_eq(cf_future_result(fs[i], BOUND, &data, &size), CF_OK);
		cr_expect_eq(size, sizes[i], "echo of %zu bytes gave %zu", sizes[i], size);
		if (size == sizes[i] && size)
			cr_expect_eq(memcmp(data, bufs[i], size), 0, "echo of %zu bytes", size);
		cr_assert_eq(cf_future_result_into(cs[i], BOUND, &r, sizeof(r), NULL), CF_OK);
		cr_expect_eq(r.size, sizes[i]);
		cr_expect_eq(r.mismatches, 0, "argument of %zu bytes", sizes[i]);
		if (sizes[i])
			cr_expect(r.aligned, "argument of %zu bytes not aligned", sizes[i]);
		free(bufs[i]);
	}
	release_all(fs, N);
	release_all(cs, N);
	cf_executor_free(ex);
}

/* ---- task errors -------------------------------------------------------- */

/* Runs error case `which` on ex: its status and error. */
static cf_status run_error_case(cf_executor *ex, int which, cf_error *out)
{
	cf_future *f = submit_ok(ex, error_task, &which, sizeof(which));
	const cf_error *error = NULL;
	cf_status st = cf_future_result(f, BOUND, NULL, NULL);

	memset(out, 0, sizeof(*out));
	cr_assert_eq(cf_future_exception(f, BOUND, &error), CF_OK);
	if (error)
		*out = *error;
	release_ok(f);
	return st;
}

Test(cf_process, task_error_crosses_exactly, .timeout = 30)
{
	cf_executor *ex = process_pool(2);
	cf_error e;

	cr_assert_eq(run_error_case(ex, 0, &e), CF_TASK_FAILED);
	cr_expect_eq(e.code, 42);
	cr_expect_str_eq(e.message, "bad 7");

	struct fail_arg a = { .code = 13, .x = -8 };
	cf_future *f = submit_ok(ex, fail_task, &a, sizeof(a));
	const cf_error *error = NULL;
	cr_assert_eq(cf_future_result(f, BOUND, NULL, NULL), CF_TASK_FAILED);
	cr_assert_eq(cf_future_exception(f, BOUND, &error), CF_OK);
	cr_assert_not_null(error);
	cr_expect_eq(error->code, 13);
	cr_expect_str_eq(error->message, "bad -8");
	release_ok(f);

	/* The pool is not broken by a failed task. */
	f = submit_square(ex, 9);
	cr_expect_eq(result_long(f, BOUND), 81);
	release_ok(f);
	cf_executor_free(ex);
}

/* Every way of failing gives the same code, message and status on both
 * backends. */
Test(cf_process, task_errors_match_thread_backend, .timeout = 60)
{
	cf_executor *threads = make_pool("thread", 2);
	cf_executor *procs = process_pool(2);

	for (int which = 0; which < ERROR_CASES; which++) {
		cf_error et, ep;
		cf_status st = run_error_case(threads, which, &et);
		cf_status sp = run_error_case(procs, which, &ep);

		cr_expect_eq(st, CF_TASK_FAILED, "case %d on threads", which);
		cr_expect_eq(sp, st, "case %d: %s on processes", which, cf_strerror(sp));
		cr_expect_neq(ep.code, 0, "case %d: a failure has a nonzero code", which);
		cr_expect_eq(ep.code, et.code, "case %d: code %d, threads gave %d", which,
			     ep.code, et.code);
		cr_expect_str_eq(ep.message, et.message, "case %d", which);
	}
	cf_error e;
	run_error_case(procs, 3, &e);
	cr_expect_eq(strlen(e.message), CF_ERROR_MESSAGE_MAX - 1, "the longest message");
	cr_expect_eq(e.code, INT_MAX);
	run_error_case(procs, 2, &e);
	cr_expect_eq(e.code, INT_MIN);
	run_error_case(procs, 5, &e);
	cr_expect_eq(e.code, -1);
	cf_executor_free(threads);
	cf_executor_free(procs);
}

/* A pointer that names no function in any loaded object cannot be sent:
 * the task fails, the pool lives on (the thread backend would crash).
 * Tried with no worker yet, with an idle worker, and queued behind a
 * running task. */
static void expect_not_code_fails(cf_future *f)
{
	const cf_error *error = NULL;

	cr_expect_eq(cf_future_result(f, BOUND, NULL, NULL), CF_TASK_FAILED);
	cr_assert_eq(cf_future_exception(f, BOUND, &error), CF_OK);
	cr_assert_not_null(error);
	cr_expect_neq(error->code, 0);
	cr_expect_gt(strlen(error->message), 0);
	release_ok(f);
}

Test(cf_process, task_function_outside_the_program_fails_the_task, .timeout = 30)
{
	cf_executor *ex = process_pool(1);
	void *not_code = malloc(64);
	cf_future *f, *slow, *after;

	cr_assert_not_null(not_code);
	memset(not_code, 0xc3, 64);
	expect_not_code_fails(submit_ok(ex, (cf_fn)not_code, NULL, 0));
	f = submit_square(ex, 6);
	cr_expect_eq(result_long(f, BOUND), 36);
	release_ok(f);
	/* Now a worker is idle. */
	expect_not_code_fails(submit_ok(ex, (cf_fn)not_code, NULL, 0));
	/* Queued behind a running task, with a task behind it. */
	slow = submit_sleep(ex, 0.3);
	f = submit_ok(ex, (cf_fn)not_code, NULL, 0);
	after = submit_square(ex, 7);
	expect_status(slow, CF_OK, BOUND, "the task before");
	expect_not_code_fails(f);
	cr_expect_eq(result_long(after, BOUND), 49, "the task after");
	release_ok(slow);
	release_ok(after);
	cf_executor_free(ex);
	free(not_code);
}

/* ---- map with chunks ---------------------------------------------------- */

struct map_result {
	size_t count;
	unsigned char *bytes;   /* every result, each prefixed by its size */
	size_t len;
};

static void collect_map(cf_executor *ex, const long *items, size_t n, size_t chunksize,
			struct map_result *out)
{
	cf_map_options mopts = { .timeout = 120.0, .chunksize = chunksize };
	cf_map_iter *it = NULL;
	const void *data;
	size_t size;
	cf_status st;

	cr_assert_eq(cf_map(ex, var_task, items, sizeof(*items), n, &mopts, &it), CF_OK);
	out->count = 0;
	out->len = 0;
	out->bytes = malloc(n * (sizeof(size_t) + 97));
	cr_assert_not_null(out->bytes);
	while ((st = cf_map_next(it, &data, &size)) == CF_OK) {
		cr_assert_lt(out->count, n, "more results than items");
		cr_assert_leq(size, 96);
		memcpy(out->bytes + out->len, &size, sizeof(size));
		out->len += sizeof(size);
		if (size)
			memcpy(out->bytes + out->len, data, size);
		out->len += size;
		out->count++;
	}
	cr_expect_eq(st, CF_END, "chunksize %zu: %s after %zu results", chunksize,
		     cf_strerror(st), out->count);
	cf_map_free(it);
}

Test(cf_process, chunked_map_equals_unchunked, .timeout = 240)
{
	static const size_t chunksizes[] = { 7, 64, 1000, 3333, 20000 };
	size_t n = CF_TEST_SANITIZED ? 3000 : 10000;
	long *items = malloc(n * sizeof(*items));
	cf_executor *ex = process_pool(2);
	struct map_result plain, chunked;

	cr_assert_not_null(items);
	for (size_t i = 0; i < n; i++)
		items[i] = (long)(i * 31 + 5);
	collect_map(ex, items, n, 1, &plain);
	cr_assert_eq(plain.count, n);
	/* The unchunked results are right, item by item. */
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		size_t size;
		memcpy(&size, plain.bytes + off, sizeof(size));
		off += sizeof(size);
		cr_assert_eq(size, (size_t)(items[i] % 97), "item %zu", i);
		for (size_t j = 0; j < size; j++)
			cr_assert_eq(plain.bytes[off + j], (unsigned char)(items[i] + (long)j),
				     "item %zu byte %zu", i, j);
		off += size;
	}
	for (size_t c = 0; c < sizeof(chunksizes) / sizeof(chunksizes[0]); c++) {
		collect_map(ex, items, n, chunksizes[c], &chunked);
		cr_expect_eq(chunked.count, n, "chunksize %zu", chunksizes[c]);
		cr_expect_eq(chunked.len, plain.len, "chunksize %zu", chunksizes[c]);
		if (chunked.len == plain.len)
			cr_expect_eq(memcmp(chunked.bytes, plain.bytes, plain.len), 0,
				     "chunksize %zu differs from chunksize 1", chunksizes[c]);
		free(chunked.bytes);
	}
	free(plain.bytes);
	free(items);
	cf_executor_free(ex);
}

/* The first failure, at the same index and with the same error whatever
 * the chunk size. */
Test(cf_process, chunked_map_reports_the_failed_item, .timeout = 120)
{
	static const size_t chunksizes[] = { 1, 7, 64, 1000 };
	size_t n = 6000, bad = 5003;
	long *items = malloc(n * sizeof(*items));
	cf_executor *ex = process_pool(2);

	cr_assert_not_null(items);
	for (size_t i = 0; i < n; i++)
		items[i] = (long)i;
	items[bad] = -1;
	items[bad + 10] = -2;   /* a later failure is not the one reported */
	for (size_t c = 0; c < sizeof(chunksizes) / sizeof(chunksizes[0]); c++) {
		cf_map_options mopts = { .timeout = 120.0, .chunksize = chunksizes[c] };
		cf_map_iter *it = NULL;
		size_t got = 0, index = 0;
		cf_status st;

		cr_assert_eq(cf_map(ex, var_task, items, sizeof(*items), n, &mopts, &it), CF_OK);
		while ((st = cf_map_next(it, NULL, NULL)) == CF_OK)
			got++;
		cr_expect_eq(st, CF_TASK_FAILED, "chunksize %zu: %s", chunksizes[c],
			     cf_strerror(st));
		cr_expect_eq(got, bad, "chunksize %zu: %zu results before the failure",
			     chunksizes[c], got);
		const cf_error *e = cf_map_error(it, &index);
		cr_assert_not_null(e);
		cr_expect_eq(index, bad, "chunksize %zu", chunksizes[c]);
		cr_expect_eq(e->code, 77);
		cr_expect_str_eq(e->message, "negative -1");
		cf_map_free(it);
	}
	free(items);
	cf_executor_free(ex);
}

/* ---- created while other threads hold locks ----------------------------- */

static pthread_mutex_t hog_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int hogs_stop;
static atomic_int hogs_started;

/* Thread backend: holds a mutex and the allocator's locks as much as it
 * can until told to stop (bounded at 60 s). */
static int hog_task(cf_task *task)
{
	double end = now_s() + 60.0;
	unsigned seed = (unsigned)(uintptr_t)task;
	long rounds = 0;

	atomic_fetch_add(&hogs_started, 1);
	while (!atomic_load(&hogs_stop) && now_s() < end) {
		pthread_mutex_lock(&hog_lock);
		for (int i = 0; i < 64; i++) {
			size_t n = 16 + rand_r(&seed) % 65536;
			char *p = malloc(n);
			if (p) {
				p[0] = p[n - 1] = 1;
				snprintf(p, n, "%d", i);
			}
			free(p);
		}
		pthread_mutex_unlock(&hog_lock);
		rounds++;
	}
	return cf_task_return(task, &rounds, sizeof(rounds));
}

Test(cf_process, created_while_a_thread_pool_is_busy, .timeout = 180)
{
	cf_executor *threads = make_pool("thread", 3);
	cf_future *hogs[3];
	int rounds = CF_TEST_SANITIZED ? 5 : 15;

	for (int i = 0; i < 3; i++)
		hogs[i] = submit_ok(threads, hog_task, NULL, 0);
	cr_assert(wait_counter(&hogs_started, 3, BOUND));
	for (int r = 0; r < rounds; r++) {
		cf_executor *procs = process_pool(2);
		long items[50];
		cf_map_iter *it = NULL;
		cf_map_options mopts = { .timeout = BOUND, .chunksize = (size_t)(r % 3) * 5 };

		for (int i = 0; i < 50; i++)
			items[i] = i + r;
		cr_assert_eq(cf_map(procs, square_task, items, sizeof(long), 50, &mopts, &it),
			     CF_OK);
		for (int i = 0; i < 50; i++) {
			const void *data;
			size_t size;
			long v;
			cf_status st = cf_map_next(it, &data, &size);

			cr_assert_eq(st, CF_OK, "round %d item %d: %s", r, i, cf_strerror(st));
			memcpy(&v, data, sizeof(v));
			cr_assert_eq(v, items[i] * items[i]);
		}
		cf_map_free(it);
		long n = 2000;
		cf_future *f = submit_ok(procs, alloc_task, &n, sizeof(n));
		cr_assert_eq(result_long(f, BOUND), 7 * n, "round %d", r);
		release_ok(f);
		cf_executor_free(procs);
	}
	atomic_store(&hogs_stop, 1);
	for (int i = 0; i < 3; i++) {
		long v = result_long(hogs[i], BOUND);
		cr_expect_gt(v, 0, "a hog never ran");
	}
	release_all(hogs, 3);
	cf_executor_free(threads);
	assert_no_children("at the end");
}

/* ---- the initializer ---------------------------------------------------- */

static char *temp_file(void)
{
	char *path = strdup("/tmp/cf_process_init_XXXXXX");
	int fd;

	cr_assert_not_null(path);
	fd = mkstemp(path);
	cr_assert_geq(fd, 0, "mkstemp: %s", strerror(errno));
	close(fd);
	return path;
}

/* The pids the initializer recorded, one per line. */
static int read_pids(const char *path, pid_t *pids, int max)
{
	FILE *f = fopen(path, "r");
	int n = 0;
	long pid;

	cr_assert_not_null(f);
	while (fscanf(f, "%ld", &pid) == 1) {
		cr_assert_lt(n, max, "more initializer runs than expected");
		pids[n++] = (pid_t)pid;
	}
	fclose(f);
	return n;
}

Test(cf_process, initializer_runs_once_in_each_worker, .timeout = 120)
{
	char *path = temp_file();
	cf_options opts = { .max_workers = 3, .initializer = record_init,
			    .initarg = path, .initarg_size = strlen(path) };
	cf_executor *ex = process_pool_opts(&opts);
	enum { N = 30 };
	cf_future *fs[N];
	struct info r[N];
	pid_t pids[64];

	for (long i = 0; i < N; i++)
		fs[i] = submit_ok(ex, info_task, &i, sizeof(i));
	for (int i = 0; i < N; i++) {
		r[i] = result_info(fs[i]);
		cr_expect_eq(r[i].init_calls, 1, "task %d: the initializer ran %lld times", i,
			     (long long)r[i].init_calls);
		cr_expect_eq(r[i].init_value, 4242, "task %d: what the initializer set", i);
		cr_expect_eq(r[i].square, (int64_t)i * i);
	}
	release_all(fs, N);
	cr_expect_eq(cf_shutdown(ex, true, false), CF_OK);
	size_t created = stats_of(ex).processes_created;
	cf_executor_free(ex);

	int n = read_pids(path, pids, 64);
	cr_expect_eq((size_t)n, created, "%d initializer runs for %zu workers", n, created);
	for (int i = 0; i < n; i++) {
		cr_expect_neq(pids[i], getpid(), "the initializer ran in the test process");
		for (int k = 0; k < i; k++)
			cr_expect_neq(pids[i], pids[k], "the initializer ran twice in %d",
				      (int)pids[i]);
	}
	/* Every task ran in a worker whose initializer ran. */
	for (int i = 0; i < N; i++) {
		bool found = false;
		for (int k = 0; k < n; k++)
			found |= pids[k] == r[i].pid;
		cr_expect(found, "task %d ran in %lld, which was not initialized", i,
			  (long long)r[i].pid);
	}
	cr_expect_eq(init_calls, 0, "the initializer ran in the test process");
	unlink(path);
	free(path);
}

/* Replacement workers are initialized too. */
Test(cf_process, initializer_runs_in_replacement_workers, .timeout = 120)
{
	char *path = temp_file();
	cf_options opts = { .max_workers = 2, .max_tasks_per_child = 2,
			    .initializer = record_init, .initarg = path,
			    .initarg_size = strlen(path) };
	cf_executor *ex = process_pool_opts(&opts);
	enum { N = 20 };
	cf_future *fs[N];
	pid_t pids[64];

	for (long i = 0; i < N; i++)
		fs[i] = submit_ok(ex, info_task, &i, sizeof(i));
	for (int i = 0; i < N; i++) {
		struct info r = result_info(fs[i]);
		cr_expect_eq(r.init_calls, 1, "task %d", i);
		cr_expect_eq(r.init_value, 4242, "task %d", i);
		cr_expect_leq(r.tasks_here, 2, "task %d", i);
	}
	release_all(fs, N);
	cr_expect_eq(cf_shutdown(ex, true, false), CF_OK);
	size_t created = stats_of(ex).processes_created;
	cf_executor_free(ex);
	cr_expect_geq(created, N / 2);
	cr_expect_eq((size_t)read_pids(path, pids, 64), created);
	unlink(path);
	free(path);
}

Test(cf_process, initializer_gets_its_initarg_bytes, .timeout = 60)
{
	/* More than a pipe holds: the INIT frame goes in pieces. */
	size_t size = (1u << 20) + 3;
	unsigned char *initarg = malloc(size);

	cr_assert_not_null(initarg);
	fill_pattern(initarg, size, 5);
	cf_options opts = { .max_workers = 1, .initializer = hash_init,
			    .initarg = initarg, .initarg_size = size };
	cf_executor *ex = process_pool_opts(&opts);
	int64_t expect = (int64_t)fnv1a(initarg, size);

	/* The initarg was copied at creation. */
	memset(initarg, 0, size);
	free(initarg);
	cf_future *f = submit_ok(ex, info_task, NULL, 0);
	struct info r = result_info(f);
	cr_expect_eq(r.init_calls, 1);
	cr_expect_eq(r.init_value, expect, "the initarg bytes changed on the way");
	release_ok(f);
	cf_executor_free(ex);

	/* No initarg: the initializer gets NULL. */
	cf_options none = { .max_workers = 1, .initializer = hash_init };
	ex = process_pool_opts(&none);
	f = submit_ok(ex, info_task, NULL, 0);
	r = result_info(f);
	cr_expect_eq(r.init_value, 1, "an initializer without initarg");
	release_ok(f);
	cf_executor_free(ex);
}

static void check_initializer_breaks_pool(int (*init)(const void *, size_t))
{
	int fds = count_fds(), threads = count_threads();
	cf_options opts = { .max_workers = 2, .initializer = init };
	cf_executor *ex = process_pool_opts(&opts);
	cf_future *fs[6];
	double t0 = now_s();

	for (long i = 0; i < 6; i++)
		fs[i] = submit_square(ex, i);
	for (int i = 0; i < 6; i++)
		expect_status(fs[i], CF_BROKEN, BOUND, "a task after a failed initializer");
	double took = now_s() - t0;
	cr_expect_lt(took, 5.0, "the pool broke after %.2f s", took);
	release_all(fs, 6);
	check_broken_pool_ends_clean(ex, fds, threads);
}

Test(cf_process, failing_initializer_breaks_pool, .timeout = 60)
{
	check_initializer_breaks_pool(failing_init);
}

Test(cf_process, initializer_that_exits_breaks_pool, .timeout = 60)
{
	check_initializer_breaks_pool(exiting_init);
}

/* An initializer that is no function of the program cannot reach a
 * worker: refused at creation, or the pool breaks at its first use; never
 * a crash or a hang. */
Test(cf_process, initializer_outside_the_program_is_refused, .timeout = 30)
{
	void *not_code = malloc(16);
	cf_options opts = { .max_workers = 1,
			    .initializer = (int (*)(const void *, size_t))not_code };
	cf_executor *ex = NULL;
	cf_status st;

	cr_assert_not_null(not_code);
	st = cf_executor_new("process", &opts, &ex);
	if (st == CF_OK) {
		cf_future *f = NULL;
		long n = 2;
		st = cf_submit(ex, square_task, &n, sizeof(n), &f);
		if (st == CF_OK) {
			expect_status(f, CF_BROKEN, BOUND, "a task after a bad initializer");
			release_ok(f);
		} else {
			cr_expect_eq(st, CF_BROKEN);
		}
		cf_executor_free(ex);
	} else {
		cr_expect_eq(st, CF_INVALID_ARGUMENT, "%s", cf_strerror(st));
		cr_expect_null(ex);
	}
	free(not_code);
	assert_no_children("at the end");
}
