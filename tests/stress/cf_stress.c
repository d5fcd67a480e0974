/* Stress of the cf library on one backend (issue 8, "Stress").
 *
 *   build/stress/cf_stress thread|process [tiny|small|full]
 *
 * The size comes from the second argument, else from STRESS_SCALE
 * (small|full|tiny), else small.  full is the sizes, small is
 * for CI (under 2 minutes for both backends on 2 cores), tiny is for
 * valgrind (make memcheck).
 *
 * Checks, each printed with its figures:
 *   - N tasks with every result checked, none lost or duplicated
 *     (thread: cf_submit in windows; process: cf_map with chunksize);
 *   - 8 threads submitting while another calls cf_shutdown: every submit
 *     gives CF_OK or CF_SHUTDOWN, every CF_OK future completes or is
 *     cancelled;
 *   - random cancellation of half the futures while they run;
 *   - repeated create/shutdown of pools;
 *   - as_completed and cf_wait over many futures;
 *   - no growth of descriptors, threads or child processes, nor of live
 *     futures, measured before and after.
 * Every wait is bounded and an alarm() ends the program if it hangs.
 * Last line: "N passed, N failed"; exit 0 only if none failed.
 */
#define _GNU_SOURCE
#include "cf.h"
#include "cf_testing.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BOUND 60.0              /* seconds any single wait may take */

static const char *backend;
static int passed, failed;

struct sizes {
	const char *name;
	long tasks;             /* tasks through the backend */
	int shutdown_rounds;    /* rounds of 8 submitters vs. shutdown */
	long per_submitter;     /* submits per submitter per round, at most */
	long cancel_tasks;      /* futures per cancellation round */
	int cancel_rounds;
	int pools;              /* create/shutdown cycles */
	long waited;            /* futures for as_completed and cf_wait */
	unsigned alarm_s;       /* the whole program's bound */
};

static struct sizes sz;

static void check(bool ok, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void check(bool ok, const char *what, const char *fmt, ...)
{
	va_list ap;

	printf("%s %s [%s]: ", ok ? "PASS" : "FAIL", what, backend);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (ok)
		passed++;
	else
		failed++;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_alarm(int sig)
{
	static const char msg[] = "FAIL cf_stress: time bound passed (deadlock?)\n";

	(void)sig;
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing more to do */
	}
	_exit(1);
}

/* ---- resources -------------------------------------------------------- */

static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

struct resources {
	int fds, threads;
	bool children;          /* some child exists (waitpid != ECHILD) */
	size_t futures;
};

static struct resources resources_now(void)
{
	struct resources r;
	int status;

	r.fds = count_dir("/proc/self/fd") - 1;        /* minus opendir's own */
	r.threads = count_dir("/proc/self/task");
	errno = 0;
	r.children = !(waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD);
	r.futures = cf_futures_alive();
	return r;
}

static void check_resources(const char *after, const struct resources *before)
{
	struct resources r = resources_now();
	char what[128];

	snprintf(what, sizeof(what), "no growth after %s", after);
	check(r.fds <= before->fds && r.threads <= before->threads && !r.children &&
	      r.futures <= before->futures, what,
	      "fds %d -> %d, threads %d -> %d, children %s, live futures %zu -> %zu",
	      before->fds, r.fds, before->threads, r.threads,
	      r.children ? "left (waitpid did not give ECHILD)" : "none (ECHILD)",
	      before->futures, r.futures);
}

/* ---- tasks (functions of the program: they run on both backends) ------- */

struct pair {
	int64_t n, sq;
};

/* int64 n -> {n, n * n}: the result names its input, so that a result
 * given twice or to the wrong future is seen. */
static int square_task(cf_task *task)
{
	size_t size = 0;
	const int64_t *n = cf_task_arg(task, &size);
	struct pair p;

	if (size != sizeof(*n))
		return cf_task_fail(task, 1, "bad argument size %zu", size);
	p.n = *n;
	p.sq = *n * *n;
	return cf_task_return(task, &p, sizeof(p));
}

struct nap {
	int64_t n;
	int64_t ns;     /* how long to sleep */
};

static int nap_task(cf_task *task)
{
	const struct nap *a = cf_task_arg(task, NULL);
	struct timespec ts = { 0, (long)a->ns };
	struct pair p = { a->n, a->n * a->n };

	nanosleep(&ts, NULL);
	return cf_task_return(task, &p, sizeof(p));
}

static bool pair_ok(cf_future *f, int64_t n, cf_status *st_out)
{
	struct pair p;
	size_t size = 0;
	cf_status st = cf_future_result_into(f, BOUND, &p, sizeof(p), &size);

	if (st_out)
		*st_out = st;
	return st == CF_OK && size == sizeof(p) && p.n == n && p.sq == n * n;
}

static cf_executor *new_pool(int workers)
{
	cf_options o = { 0 };
	cf_executor *ex = NULL;
	cf_status st;

	o.max_workers = workers;
	st = cf_executor_new(backend, &o, &ex);
	if (st != CF_OK) {
		check(false, "cf_executor_new", "%s", cf_strerror(st));
		return NULL;
	}
	return ex;
}

/* ---- 1. many tasks ------------------------------------------------------ */

static void many_tasks(void)
{
	long n = sz.tasks, wrong = 0, dup = 0, errors = 0, seen_count = 0;
	unsigned char *seen = calloc((size_t)n, 1);
	cf_executor *ex = new_pool(0);
	double t0 = now_s();
	const char *how;

	if (!ex || !seen) {
		check(false, "many tasks", "setup failed");
		free(seen);
		cf_executor_free(ex);
		return;
	}
	if (strcmp(backend, "process") == 0) {
		/* One frame per task would take minutes for a million: map
		 * with chunksize, the way the process backend is meant for
		 * small tasks. */
		int64_t *items = malloc((size_t)n * sizeof(*items));
		cf_map_options mo = { .timeout = CF_FOREVER, .chunksize = 1000 };
		cf_map_iter *it = NULL;
		long i = 0;
		cf_status st;

		how = "cf_map, chunksize 1000";
		for (long k = 0; items && k < n; k++)
			items[k] = k;
		st = items ? cf_map(ex, square_task, items, sizeof(*items), (size_t)n, &mo, &it)
			   : CF_NOMEM;
		if (st != CF_OK) {
			errors++;
		} else {
			const void *data;
			size_t size;

			while ((st = cf_map_next(it, &data, &size)) == CF_OK) {
				struct pair p;

				if (size != sizeof(p)) {
					wrong++;
					i++;
					continue;
				}
				memcpy(&p, data, sizeof(p));
				if (p.n != i || p.sq != p.n * p.n || p.n < 0 || p.n >= n) {
					wrong++;
				} else if (seen[p.n]++) {
					dup++;
				} else {
					seen_count++;
				}
				i++;
			}
			if (st != CF_END)
				errors++;
			cf_map_free(it);
		}
		free(items);
	} else {
		enum { WINDOW = 4096 };
		cf_future *fs[WINDOW];

		how = "cf_submit, 4096 in flight";
		for (long base = 0; base < n; base += WINDOW) {
			long m = n - base < WINDOW ? n - base : WINDOW;

			for (long k = 0; k < m; k++) {
				int64_t v = base + k;

				if (cf_submit(ex, square_task, &v, sizeof(v), &fs[k]) != CF_OK) {
					fs[k] = NULL;
					errors++;
				}
			}
			for (long k = 0; k < m; k++) {
				struct pair p;
				size_t size = 0;

				if (!fs[k])
					continue;
				if (cf_future_result_into(fs[k], BOUND, &p, sizeof(p), &size) != CF_OK ||
				    size != sizeof(p)) {
					errors++;
				} else if (p.n != base + k || p.sq != p.n * p.n) {
					wrong++;
				} else if (seen[p.n]++) {
					dup++;
				} else {
					seen_count++;
				}
				cf_future_release(fs[k]);
			}
		}
	}
	cf_executor_stats stats = { 0 };
	size_t workers;

	cf_executor_stats_get(ex, &stats);
	workers = strcmp(backend, "process") == 0 ? stats.processes_created : stats.threads_created;
	cf_executor_free(ex);
	free(seen);
	check(seen_count == n && wrong == 0 && dup == 0 && errors == 0 && workers > 0,
	      "many tasks", "%ld tasks (%s) on %zu workers: %ld right, %ld wrong, "
	      "%ld duplicated, %ld errors, %ld lost, %.2f s", n, how, workers, seen_count,
	      wrong, dup, errors, n - seen_count - wrong, now_s() - t0);
}

/* ---- 2. submit from 8 threads while another shuts down ------------------ */

#define SUBMITTERS 8

struct submitter {
	pthread_t tid;
	cf_executor *ex;
	long max, id;
	atomic_long *total;
	long ok, shut, other, after_shutdown_ok;
	long completed, cancelled, bad;
};

static void *submitter_main(void *arg)
{
	struct submitter *s = arg;
	cf_future **fs = calloc((size_t)s->max, sizeof(*fs));
	int64_t *vals = calloc((size_t)s->max, sizeof(*vals));
	long nf = 0;
	bool saw_shutdown = false;

	if (!fs || !vals) {
		s->bad++;
		free(fs);
		free(vals);
		return NULL;
	}
	for (long i = 0; i < s->max; i++) {
		int64_t v = s->id * 1000000000L + i;
		cf_future *f = NULL;
		cf_status st = cf_submit(s->ex, square_task, &v, sizeof(v), &f);

		atomic_fetch_add(s->total, 1);
		if (st == CF_OK) {
			s->ok++;
			if (saw_shutdown)
				s->after_shutdown_ok++;
			fs[nf] = f;
			vals[nf++] = v;
		} else if (st == CF_SHUTDOWN) {
			s->shut++;
			saw_shutdown = true;
			if (s->shut >= 8)       /* it stays shut: a few more tries */
				break;
		} else {
			s->other++;
		}
	}
	for (long k = 0; k < nf; k++) {
		cf_status st;

		if (pair_ok(fs[k], vals[k], &st))
			s->completed++;
		else if (st == CF_CANCELLED)
			s->cancelled++;
		else
			s->bad++;
		cf_future_release(fs[k]);
	}
	free(fs);
	free(vals);
	return NULL;
}

static void submit_vs_shutdown(void)
{
	long ok = 0, shut = 0, other = 0, late = 0, completed = 0, cancelled = 0, bad = 0;
	long sd_errors = 0;
	double t0 = now_s();

	for (int r = 0; r < sz.shutdown_rounds; r++) {
		cf_executor *ex = new_pool(4);
		struct submitter s[SUBMITTERS];
		atomic_long total = 0;
		long trigger = (long)(r % 4 + 1) * sz.per_submitter * SUBMITTERS / 8;
		cf_status st;

		if (!ex)
			return;
		memset(s, 0, sizeof(s));
		for (int i = 0; i < SUBMITTERS; i++) {
			s[i].ex = ex;
			s[i].max = sz.per_submitter;
			s[i].id = i;
			s[i].total = &total;
			pthread_create(&s[i].tid, NULL, submitter_main, &s[i]);
		}
		/* The shutdown thread is this one: it waits until some work
		 * is in, then shuts down (modes vary by round). */
		/* trigger is at most half of all submits, and nobody stops
		 * before the shutdown: it is always reached. */
		while (atomic_load(&total) < trigger)
			sched_yield();
		st = cf_shutdown(ex, r % 2 == 0, r % 3 != 2);
		if (st != CF_OK)
			sd_errors++;
		for (int i = 0; i < SUBMITTERS; i++) {
			pthread_join(s[i].tid, NULL);
			ok += s[i].ok;
			shut += s[i].shut;
			other += s[i].other;
			late += s[i].after_shutdown_ok;
			completed += s[i].completed;
			cancelled += s[i].cancelled;
			bad += s[i].bad;
		}
		cf_executor_free(ex);
	}
	check(other == 0 && late == 0 && bad == 0 && sd_errors == 0 && completed + cancelled == ok,
	      "submit from 8 threads vs. shutdown",
	      "%d rounds: %ld submits CF_OK (%ld completed right, %ld cancelled, %ld other), "
	      "%ld CF_SHUTDOWN, %ld other statuses, %ld CF_OK after a CF_SHUTDOWN, "
	      "%ld shutdown errors, %.2f s", sz.shutdown_rounds, ok, completed, cancelled,
	      bad, shut, other, late, sd_errors, now_s() - t0);
}

/* ---- 3. random cancellation of half the futures while they run --------- */

static void random_cancel(void)
{
	long n = sz.cancel_tasks, asked = 0, cancelled = 0, refused = 0, right = 0, bad = 0;
	long ran_anyway = 0;
	cf_future **fs = calloc((size_t)n, sizeof(*fs));
	bool *want = calloc((size_t)n, sizeof(*want));
	bool *got = calloc((size_t)n, sizeof(*got));
	long *perm = calloc((size_t)n, sizeof(*perm));
	unsigned seed = 12345;
	double t0 = now_s();

	if (!fs || !want || !got || !perm) {
		check(false, "random cancellation", "out of memory");
		goto out;
	}
	for (int r = 0; r < sz.cancel_rounds; r++) {
		cf_executor *ex = new_pool(4);

		if (!ex)
			goto out;
		for (long i = 0; i < n; i++) {
			struct nap a = { i, 20000 + (int64_t)(rand_r(&seed) % 80000) };

			if (cf_submit(ex, nap_task, &a, sizeof(a), &fs[i]) != CF_OK) {
				fs[i] = NULL;
				bad++;
			}
			want[i] = false;
			perm[i] = i;
		}
		/* A random half, in random order, while the pool works. */
		for (long i = n - 1; i > 0; i--) {
			long j = (long)(rand_r(&seed) % (unsigned)(i + 1)), t = perm[i];

			perm[i] = perm[j];
			perm[j] = t;
		}
		for (long k = 0; k < n / 2; k++) {
			long i = perm[k];

			if (!fs[i])
				continue;
			want[i] = true;
			asked++;
			got[i] = cf_future_cancel(fs[i]);
			if (got[i])
				cancelled++;
			else
				refused++;
		}
		for (long i = 0; i < n; i++) {
			cf_status st;

			if (!fs[i])
				continue;
			if (want[i] && got[i]) {
				/* Cancelled: must say so and stay so. */
				st = cf_future_result(fs[i], BOUND, NULL, NULL);
				if (st != CF_CANCELLED || !cf_future_cancelled(fs[i]) ||
				    !cf_future_done(fs[i]))
					bad++;
			} else if (pair_ok(fs[i], i, &st)) {
				right++;
				if (want[i])
					ran_anyway++;
				if (cf_future_cancelled(fs[i]) || cf_future_cancel(fs[i]))
					bad++;  /* a finished future cannot be cancelled */
			} else {
				bad++;
			}
			cf_future_release(fs[i]);
		}
		cf_executor_free(ex);
	}
	check(bad == 0 && cancelled + right == n * sz.cancel_rounds &&
	      cancelled + refused == asked,
	      "random cancellation of half",
	      "%d rounds of %ld tasks (naps of 20-100 us): %ld cancels asked, "
	      "%ld took (CF_CANCELLED), %ld refused (already running: ran to a right result), "
	      "%ld right results, %ld bad, %.2f s", sz.cancel_rounds, n, asked, cancelled,
	      ran_anyway, right, bad, now_s() - t0);
	(void)refused;
out:
	free(fs);
	free(want);
	free(got);
	free(perm);
}

/* ---- 4. repeated create/shutdown of pools ------------------------------- */

static void pool_churn(void)
{
	long bad = 0, tasks = 0;
	double t0 = now_s();

	for (int p = 0; p < sz.pools; p++) {
		cf_executor *ex = new_pool(2);
		cf_future *fs[4];

		if (!ex)
			return;
		/* Some pools get work, some none, and the shutdown mode
		 * varies: every path through create and shutdown. */
		int m = p % 5;

		for (int k = 0; k < m && k < 4; k++) {
			int64_t v = p * 10 + k;

			if (cf_submit(ex, square_task, &v, sizeof(v), &fs[k]) != CF_OK) {
				fs[k] = NULL;
				bad++;
			}
		}
		if (p % 3 == 0)
			cf_shutdown(ex, p % 2 == 0, false);
		for (int k = 0; k < m && k < 4; k++) {
			if (!fs[k])
				continue;
			tasks++;
			if (!pair_ok(fs[k], p * 10 + k, NULL))
				bad++;
			cf_future_release(fs[k]);
		}
		cf_executor_free(ex);
	}
	check(bad == 0, "create/shutdown of pools", "%d pools, %ld tasks, %ld bad, %.2f s",
	      sz.pools, tasks, bad, now_s() - t0);
}

/* ---- 5. as_completed and cf_wait over many futures ----------------------- */

static void many_waits(void)
{
	long n = sz.waited, dup = 0, wrong = 0, got = 0, errors = 0;
	cf_future **fs = calloc((size_t)n, sizeof(*fs));
	cf_future **done = calloc((size_t)n, sizeof(*done));
	cf_future **not_done = calloc((size_t)n, sizeof(*not_done));
	unsigned char *seen = calloc((size_t)n, 1);
	cf_executor *ex = new_pool(0);
	cf_as_completed *it = NULL;
	size_t n_done = 0, n_not_done = 0;
	cf_status st;
	double t0 = now_s();

	if (!fs || !done || !not_done || !seen || !ex) {
		check(false, "as_completed and wait", "setup failed");
		goto out;
	}
	for (long i = 0; i < n; i++) {
		int64_t v = i;

		if (cf_submit(ex, square_task, &v, sizeof(v), &fs[i]) != CF_OK) {
			fs[i] = NULL;
			errors++;
		}
	}
	if (errors)
		goto report;
	/* as_completed while most are still pending. */
	st = cf_as_completed_new(fs, (size_t)n, BOUND * 4, &it);
	if (st != CF_OK) {
		errors++;
	} else {
		cf_future *f;

		while ((st = cf_as_completed_next(it, &f)) == CF_OK) {
			struct pair p;
			size_t size = 0;

			if (cf_future_result_into(f, 0, &p, sizeof(p), &size) != CF_OK ||
			    size != sizeof(p) || p.n < 0 || p.n >= n || p.sq != p.n * p.n ||
			    fs[p.n] != f) {
				wrong++;
				continue;
			}
			if (seen[p.n]++)
				dup++;
			else
				got++;
		}
		if (st != CF_END)
			errors++;
		cf_as_completed_free(it);
	}
	/* cf_wait over the same set: all are done now. */
	st = cf_wait(fs, (size_t)n, BOUND, CF_ALL_COMPLETED, done, &n_done, not_done, &n_not_done);
	if (st != CF_OK || n_done != (size_t)n || n_not_done != 0)
		errors++;
report:
	check(got == n && dup == 0 && wrong == 0 && errors == 0, "as_completed over many",
	      "%ld futures: %ld given once, %ld duplicated, %ld wrong, %ld errors, %.2f s",
	      n, got, dup, wrong, errors, now_s() - t0);
	for (long i = 0; i < n; i++)
		if (fs[i])
			cf_future_release(fs[i]);

	/* cf_wait over a fresh set still running: FIRST_COMPLETED, then
	 * ALL_COMPLETED, then every result checked. */
	{
		long werr = 0, right = 0;
		size_t first_done = 0;
		double t1 = now_s();

		for (long i = 0; i < n; i++) {
			int64_t v = i;

			if (cf_submit(ex, square_task, &v, sizeof(v), &fs[i]) != CF_OK) {
				fs[i] = NULL;
				werr++;
			}
		}
		if (!werr) {
			st = cf_wait(fs, (size_t)n, BOUND, CF_FIRST_COMPLETED, done, &n_done,
				     not_done, &n_not_done);
			first_done = n_done;
			if (st != CF_OK || n_done < 1 || n_done + n_not_done != (size_t)n)
				werr++;
			st = cf_wait(fs, (size_t)n, BOUND * 4, CF_ALL_COMPLETED, done, &n_done,
				     not_done, &n_not_done);
			if (st != CF_OK || n_done != (size_t)n || n_not_done != 0)
				werr++;
		}
		for (long i = 0; i < n; i++) {
			if (!fs[i])
				continue;
			if (pair_ok(fs[i], i, NULL))
				right++;
			cf_future_release(fs[i]);
			fs[i] = NULL;
		}
		check(werr == 0 && right == n, "cf_wait over many",
		      "%ld futures: FIRST_COMPLETED gave %zu done, ALL_COMPLETED gave %zu done "
		      "and %zu not done, %ld results right, %ld errors, %.2f s",
		      n, first_done, n_done, n_not_done, right, werr, now_s() - t1);
	}
out:
	cf_executor_free(ex);
	free(fs);
	free(done);
	free(not_done);
	free(seen);
}

/* ---- main ---------------------------------------------------------------- */

int main(int argc, char **argv)
{
	const char *scale = argc > 2 ? argv[2] : getenv("STRESS_SCALE");
	bool proc;
	struct resources before;
	double t0 = now_s();

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2 || (strcmp(argv[1], "thread") && strcmp(argv[1], "process"))) {
		fprintf(stderr, "usage: %s thread|process [tiny|small|full]\n", argv[0]);
		return 2;
	}
	backend = argv[1];
	proc = strcmp(backend, "process") == 0;
	if (!scale || !*scale)
		scale = "small";
	if (strcmp(scale, "full") == 0) {
		sz = (struct sizes){ "full", 1000000, 20, 20000, 2000, 10,
				     1000, 100000, 900 };
	} else if (strcmp(scale, "small") == 0) {
		sz = (struct sizes){ "small", 100000, 8, 5000, 1000, 4,
				     proc ? 50 : 200, 20000, 110 };
	} else if (strcmp(scale, "tiny") == 0) {
		sz = (struct sizes){ "tiny", 2000, 2, 200, 100, 1,
				     proc ? 4 : 10, 500, 1800 };
	} else {
		fprintf(stderr, "%s: unknown scale '%s' (tiny, small or full)\n", argv[0], scale);
		return 2;
	}
	if (getenv("STRESS_ALARM"))
		sz.alarm_s = (unsigned)atoi(getenv("STRESS_ALARM"));
	signal(SIGALRM, on_alarm);
	alarm(sz.alarm_s);
	printf("cf_stress: backend %s, scale %s, bound %u s\n", backend, sz.name, sz.alarm_s);

	before = resources_now();
	many_tasks();
	check_resources("many tasks", &before);
	submit_vs_shutdown();
	check_resources("submit vs. shutdown", &before);
	random_cancel();
	check_resources("random cancellation", &before);
	pool_churn();
	check_resources("pool churn", &before);
	many_waits();
	check_resources("as_completed and wait", &before);

	printf("cf_stress %s %s: %.2f s\n", backend, sz.name, now_s() - t0);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
