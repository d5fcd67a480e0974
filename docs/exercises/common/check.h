/* The little test harness every exercise's checker uses.
 *
 * Each check runs in a child process of its own, with a time bound: a
 * check that crashes (a bad pointer in your code), deadlocks or fails an
 * assertion is reported by name, and the next check still runs.  What the
 * child printed (your debugging printf included) is shown under a failed
 * check.
 *
 *     static void seed_order(void)
 *     {
 *             CHECK(x == 3, "expected 3 results, got %d", x);
 *     }
 *
 *     int main(void)
 *     {
 *             check_begin("01-as-completed");
 *             check_run("the seed's three tasks finish in order 1, 2, 0", seed_order, 5);
 *             return check_end();
 *     }
 */
#ifndef EXERCISE_CHECK_H
#define EXERCISE_CHECK_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int check_total, check_failed;

/* Monotonic seconds. */
static inline double check_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline void check_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Ends the current check as failed, with a message.  The failed condition
 * is named by the function it is in rather than by its line, so that what
 * the docs quote of a checker's output stays true when the file changes. */
__attribute__((noreturn, format(printf, 3, 4)))
static void check_fail_at(const char *func, const char *expr, const char *fmt, ...)
{
	va_list ap;

	printf("    ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n    (check.c, %s(): %s)\n", func, expr);
	fflush(NULL);
	_exit(1);
}

#define CHECK(cond, ...) \
	do { \
		if (!(cond)) \
			check_fail_at(__func__, #cond, __VA_ARGS__); \
	} while (0)

/* CPU seconds, user and system, that this process has used so far: every
 * thread of it, and nothing of other checks, since each check runs in a
 * process of its own. */
static inline double check_cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* Seconds the calling thread has spent running plus ready to run (on a
 * run queue, waiting for a free core), or -1 where Linux does not say
 * (/proc/thread-self/schedstat).  A thread that loops never stops being
 * one or the other, so this stays near the wall time however loaded the
 * machine is, where its CPU time alone drops with its share of a core. */
static inline double check_thread_busy_seconds(void)
{
	unsigned long long on_cpu, on_queue;
	FILE *f = fopen("/proc/thread-self/schedstat", "r");
	int got = f ? fscanf(f, "%llu %llu", &on_cpu, &on_queue) : 0;

	if (f)
		fclose(f);
	return got == 2 ? (on_cpu + on_queue) / 1e9 : -1;
}

/* What a wait cost, measured around a call made by the checking thread. */
struct check_wait {
	double wall, cpu, busy;         /* busy: -1 when unknown */
};

static inline void check_wait_begin(struct check_wait *w)
{
	w->busy = check_thread_busy_seconds();
	w->cpu = check_cpu_seconds();
	w->wall = check_now();
}

static inline void check_wait_end(struct check_wait *w)
{
	double busy = check_thread_busy_seconds();

	w->wall = check_now() - w->wall;
	w->cpu = check_cpu_seconds() - w->cpu;
	w->busy = busy >= 0 && w->busy >= 0 ? busy - w->busy : -1;
}

/* The most a wait of `wall` seconds may cost, in CPU time (all threads)
 * and in time running or ready to run (the waiting thread).  A caller
 * asleep (on a condition variable, in cf_wait, in poll) costs a few
 * milliseconds of either however long it waits; a loop that keeps asking
 * "done yet?" is busy the whole wait, and uses about that much CPU on a
 * quiet machine.  50 ms plus a quarter of the wait lies far from both. */
static inline double check_wait_allowed(double wall)
{
	return 0.05 + 0.25 * wall;
}

static inline int check_waited_asleep(const struct check_wait *w)
{
	double most = check_wait_allowed(w->wall);

	return w->cpu <= most && w->busy <= most;
}

/* Fails the check when the wait measured in `w` was not spent asleep;
 * `how` names what sleeps instead. */
#define CHECK_WAITED_ASLEEP(w, how) \
	CHECK(check_waited_asleep(&(w)), \
	      "the caller waited %.2f s; meanwhile the process used %.3f s of CPU, and the " \
	      "caller\n    was running or ready to run for %.3f s (at most %.3f s allowed " \
	      "for either).\n    A caller asleep costs a few milliseconds; this much means " \
	      "a loop that keeps asking\n    \"done yet?\" (busy polling): it takes a core " \
	      "from the tasks and from the rest of\n    the machine.  Block in a call that " \
	      "sleeps until something happens:\n    %s", \
	      (w).wall, (w).cpu, (w).busy, check_wait_allowed((w).wall), (how))

static inline void check_begin(const char *name)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("checking exercise %s\n", name);
}

/* Runs fn() in a child process, at most `bound` seconds; shows what it
 * printed when it fails, or always when `show` is set. */
static inline void check_run_shown(const char *title, void (*fn)(void), double bound, int show)
{
	int fds[2];
	char *out = NULL;
	size_t len = 0, cap = 0;
	int status = 0;
	int timed_out = 0;

	check_total++;
	fflush(NULL);
	if (pipe(fds) != 0) {
		perror("pipe");
		exit(2);
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(2);
	}
	if (pid == 0) {
		setpgid(0, 0);
		close(fds[0]);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[1]);
		setvbuf(stdout, NULL, _IOLBF, 0);
		fn();
		fflush(NULL);
		_exit(0);
	}
	setpgid(pid, pid);
	close(fds[1]);

	double deadline = check_now() + bound;
	struct pollfd p = { fds[0], POLLIN, 0 };
	for (;;) {
		int ms = (int)((deadline - check_now()) * 1000);
		if (ms <= 0) {
			timed_out = 1;
			break;
		}
		int r = poll(&p, 1, ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			out = realloc(out, cap);
			if (!out)
				exit(2);
		}
		ssize_t n = read(fds[0], out + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (timed_out)
		kill(-pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(fds[0]);
	if (!out)
		out = calloc(1, 1);
	out[len] = '\0';

	if (!timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		printf("  ok    %s\n", title);
		if (show && len)
			fputs(out, stdout);
	} else {
		check_failed++;
		printf("  FAIL  %s\n", title);
		if (timed_out)
			printf("    still running after %.0f s: a deadlock, a lost wake-up, "
			       "or waiting for something that never ends?\n", bound);
		else if (WIFSIGNALED(status))
			printf("    crashed: signal %d (%s)\n", WTERMSIG(status),
			       strsignal(WTERMSIG(status)));
		if (len)
			fputs(out, stdout);
		if (len && out[len - 1] != '\n')
			putchar('\n');
	}
	free(out);
}

static inline void check_run(const char *title, void (*fn)(void), double bound)
{
	check_run_shown(title, fn, bound, 0);
}

/* The same, always showing what the check printed (a measurement). */
static inline void check_show(const char *title, void (*fn)(void), double bound)
{
	check_run_shown(title, fn, bound, 1);
}

static inline int check_end(void)
{
	if (check_failed == 0)
		printf("PASS: all %d checks\n", check_total);
	else
		printf("FAIL: %d of %d checks failed\n", check_failed, check_total);
	return check_failed == 0 ? 0 : 1;
}

#ifdef CF_H
/* A thread pool for a check (cf.h included before this header). */
static inline cf_executor *check_thread_pool(int workers)
{
	cf_options opts = { .max_workers = workers };
	cf_executor *ex = NULL;

	CHECK(cf_executor_new("thread", &opts, &ex) == CF_OK, "cannot create a thread pool");
	return ex;
}
#endif

#endif
