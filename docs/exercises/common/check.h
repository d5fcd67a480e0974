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

/* Ends the current check as failed, with a message. */
__attribute__((noreturn, format(printf, 3, 4)))
static void check_fail_at(int line, const char *expr, const char *fmt, ...)
{
	va_list ap;

	printf("    ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n    (check.c line %d: %s)\n", line, expr);
	fflush(NULL);
	_exit(1);
}

#define CHECK(cond, ...) \
	do { \
		if (!(cond)) \
			check_fail_at(__LINE__, #cond, __VA_ARGS__); \
	} while (0)

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
