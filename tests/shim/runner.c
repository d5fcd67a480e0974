/* The runner for tests/test_*.c compiled against the Criterion shim
 * (tests/shim/criterion/): the test binary of `make test SANITIZE=thread`
 * and of the library tests under valgrind (scripts/memcheck).
 *
 * Each test runs in a forked child, in its own process group, with a time
 * bound; up to -j tests run at once.  A test passes when its child ran to
 * the end with no failed check, exited 0 (so a sanitizer's or valgrind's
 * error exit status fails it), and no program it started (nor the child
 * itself) wrote a sanitizer warning.  For that last part every child gets
 * its own directory for sanitizer logs: log_path= is appended to
 * TSAN_OPTIONS, ASAN_OPTIONS and UBSAN_OPTIONS, which every program the
 * test starts inherits, and the child points its own reports there too.
 * A report there fails the test even when the test ignores the exit
 * status of the program that wrote it.  Deadly-signal reports ("SEGV on
 * unknown address") are left to the test: some tests crash a program on
 * purpose.
 *
 * Usage: parlab-tests-shim [--filter GLOB] [-j N] [--timeout S]
 *                          [--timeout-scale F] [--list] [--verbose]
 * GLOB matches "suite/name" as Criterion's --filter does, with the same
 * extended patterns: @(a|b), !(a), *(a), +(a), ?(a).  It says how many
 * tests it runs, then every 20 s how many are done (as tests/progress.c
 * does for Criterion's runner).  The last line printed is "N passed, N
 * failed"; exit status 0 when nothing failed, 1 otherwise, 2 for a bad
 * command line. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Present only when a sanitizer runtime is linked in. */
extern void __sanitizer_set_report_path(const char *path) __attribute__((weak));

/* ---- registry ---------------------------------------------------------------- */

static struct cr_shim_test *registered;

void cr_shim_register(struct cr_shim_test *t)
{
	t->next = registered;
	registered = t;
}

/* One run: a test, or one parameter of a parameterized test. */
struct instance {
	struct cr_shim_test *test;
	void *param;            /* NULL for a plain test */
	long index;             /* -1 for a plain test */
	char name[256];         /* suite::name or suite::name[i] */
	char path[256];         /* suite/name, what --filter matches */
};

/* ---- inside the child: checks, skip, logs, redirection ------------------------ */

static int report_fd = 2;       /* the test's output file, kept when it redirects 1 and 2 */
static int verdict_fd = -1;     /* write end of the verdict pipe */
static pid_t test_pid;
static pthread_t test_thread;
static jmp_buf test_end;
static atomic_int failures;     /* checks may fail on any thread */
static const char *current_name = "";

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	/* One write per message, so that threads' messages do not interleave. */
	if (write(report_fd, buf, (size_t)n) < 0)
		return;
}

static void vsay_message(const char *fmt, va_list ap)
{
	char msg[4096];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* fmt starts with the space the macros paste in; see criterion.h. */
	if (msg[0] == ' ' && msg[1])
		say("  %s\n", msg + 1);
}

static void send_verdict(char v)
{
	if (verdict_fd >= 0 && write(verdict_fd, &v, 1) < 0)
		return;
}

/* Ends the test after a failed cr_assert.  On the test's own thread the
 * runner's code after the body (fini, verdict) still runs, as in Criterion;
 * on any other thread, or in a process the test forked, that is not
 * possible, so the process ends at once with the failure recorded. */
static void abort_test(void) __attribute__((noreturn));
static void abort_test(void)
{
	if (getpid() == test_pid && pthread_equal(pthread_self(), test_thread))
		longjmp(test_end, 1);
	if (getpid() == test_pid)
		send_verdict('F');
	_exit(1);
}

void cr_shim_fail(int kind, const char *file, int line, const char *expr, const char *fmt, ...)
{
	va_list ap;

	failures++;
	say("%s:%d: %s failed: %s\n", file, line, kind ? "assertion" : "expectation", expr);
	va_start(ap, fmt);
	vsay_message(fmt, ap);
	va_end(ap);
	if (kind)
		abort_test();
}

void cr_shim_fail_str(int kind, const char *file, int line, const char *expr,
		      const char *actual, const char *expected, const char *fmt, ...)
{
	va_list ap;

	failures++;
	say("%s:%d: %s failed: %s\n", file, line, kind ? "assertion" : "expectation", expr);
	va_start(ap, fmt);
	vsay_message(fmt, ap);
	va_end(ap);
	say("  left:  %s%s%s\n", actual ? "\"" : "", actual ? actual : "NULL", actual ? "\"" : "");
	if (expected)
		say("  right: \"%s\"\n", expected);
	if (kind)
		abort_test();
}

void cr_shim_skip(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say("skipped: %s\n", msg[0] == ' ' ? msg + 1 : msg);
	if (getpid() == test_pid)
		send_verdict('S');
	fflush(stdout);
	fflush(stderr);
	exit(0);
}

void cr_shim_log(const char *level, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say("[%s] %s: %s\n", level, current_name, msg);
}

static int redirected[3] = { -1, -1, -1 };

static void redirect(int fd)
{
	char path[] = "/tmp/parlab-shim-redirect-XXXXXX";
	int file;

	fflush(fd == 1 ? stdout : stderr);
	file = mkostemp(path, O_CLOEXEC);
	if (file < 0) {
		cr_shim_fail(1, __FILE__, __LINE__, "mkostemp", " %s", strerror(errno));
		return;
	}
	unlink(path);
	dup2(file, fd);
	redirected[fd] = file;
}

void cr_redirect_stdout(void)
{
	redirect(1);
}

void cr_redirect_stderr(void)
{
	redirect(2);
}

char *cr_shim_redirected(int fd)
{
	struct stat st;
	char *buf;
	ssize_t n;

	if (fd < 1 || fd > 2 || redirected[fd] < 0)
		return NULL;
	fflush(fd == 1 ? stdout : stderr);
	if (fstat(redirected[fd], &st) < 0 || !(buf = malloc((size_t)st.st_size + 1)))
		return NULL;
	n = pread(redirected[fd], buf, (size_t)st.st_size, 0);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* ---- the child ---------------------------------------------------------------- */

/* Sends every sanitizer report of this test, and of every program it
 * starts, to files in logdir. */
static void route_sanitizer_logs(const char *logdir)
{
	static const char *const vars[] = { "TSAN_OPTIONS", "ASAN_OPTIONS", "UBSAN_OPTIONS" };
	char prefix[512], value[4096];

	snprintf(prefix, sizeof(prefix), "%s/san", logdir);
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *old = getenv(vars[i]);
		snprintf(value, sizeof(value), "%s%slog_path=%s", old ? old : "",
			 old && *old ? ":" : "", prefix);
		setenv(vars[i], value, 1);
	}
	if (__sanitizer_set_report_path)
		__sanitizer_set_report_path(prefix);
}

static void run_child(const struct instance *in, int out_fd, int vfd, const char *logdir)
{
	int devnull = open("/dev/null", O_RDONLY);

	setpgid(0, 0);
	if (devnull >= 0) {
		dup2(devnull, 0);
		close(devnull);
	}
	dup2(out_fd, 1);
	dup2(out_fd, 2);
	report_fd = out_fd;     /* close-on-exec: programs the test starts do not get it */
	verdict_fd = vfd;
	test_pid = getpid();
	test_thread = pthread_self();
	current_name = in->name;
	route_sanitizer_logs(logdir);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (setjmp(test_end) == 0) {
		if (in->test->init)
			in->test->init();
		if (in->test->pfn)
			in->test->pfn(in->param);
		else
			in->test->fn();
	}
	if (in->test->fini)
		in->test->fini();
	fflush(stdout);
	fflush(stderr);
	send_verdict(failures ? 'F' : 'P');
	/* exit, not _exit: the sanitizers' and valgrind's checks at exit
	 * (leaks, TSan's summary) belong to this test. */
	exit(failures ? 1 : 0);
}

/* ---- the parent --------------------------------------------------------------- */

struct slot {
	pid_t pid;              /* 0: free */
	struct instance *in;
	int out_fd;             /* the child's stdout and stderr */
	int verdict_fd;         /* read end */
	char logdir[64];
	double start, deadline;
	bool timed_out;
};

static struct {
	const char *filter;
	int jobs;
	double timeout, scale;
	bool list, verbose;
} opt = { NULL, 2, 120.0, 1.0, false, false };

static int passed, failed, skipped;
static volatile sig_atomic_t interrupted;

#define PROGRESS_EVERY 20.0     /* seconds between progress lines */

static void on_interrupt(int sig)
{
	interrupted = sig;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: parlab-tests-shim [--filter GLOB] [-j N] [--timeout S] "
		   "[--timeout-scale F] [--list] [--verbose]\n"
		   "Runs tests/test_*.c built against tests/shim (each test in a child process with a\n"
		   "time bound).  GLOB matches suite/name.  --timeout is the bound of a test\n"
		   "without .timeout (default 120); --timeout-scale multiplies every bound (for\n"
		   "valgrind).  Last line: \"N passed, N failed\".\n");
}

static void bad_usage(const char *fmt, const char *arg) __attribute__((noreturn));
static void bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "parlab-tests-shim: error: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (--help for usage)\n");
	exit(2);
}

static double positive(const char *what, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 1e6)
		bad_usage(what, s);
	return v;
}

/* The value of an option given as "--opt V", "--opt=V" or "-jV". */
static const char *value_of(int argc, char **argv, int *i, const char *name)
{
	size_t len = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, len) != 0)
		return NULL;
	if (a[len] == '=' || (a[len] && name[1] != '-'))
		return a + len + (a[len] == '=');
	if (a[len])
		return NULL;
	if (*i + 1 >= argc)
		bad_usage("%s needs a value", name);
	return argv[++*i];
}

static void parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *v;

		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			exit(0);
		} else if (!strcmp(argv[i], "--list") || !strcmp(argv[i], "-l")) {
			opt.list = true;
		} else if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v")) {
			opt.verbose = true;
		} else if ((v = value_of(argc, argv, &i, "--filter"))) {
			opt.filter = v;
		} else if ((v = value_of(argc, argv, &i, "--timeout-scale"))) {
			opt.scale = positive("--timeout-scale '%s' must be a positive number", v);
		} else if ((v = value_of(argc, argv, &i, "--timeout"))) {
			opt.timeout = positive("--timeout '%s' must be a positive number of seconds", v);
		} else if ((v = value_of(argc, argv, &i, "--jobs")) || (v = value_of(argc, argv, &i, "-j"))) {
			double j = positive("-j '%s' must be a whole number from 1 to 64", v);
			if (j != (int)j || j > 64)
				bad_usage("-j '%s' must be a whole number from 1 to 64", v);
			opt.jobs = (int)j;
		} else {
			bad_usage("unknown argument '%s'", argv[i]);
		}
	}
}

static int by_name(const void *a, const void *b)
{
	const struct instance *x = a, *y = b;
	int c = strcmp(x->test->suite, y->test->suite);

	if (!c)
		c = strcmp(x->test->name, y->test->name);
	return c ? c : (x->index > y->index) - (x->index < y->index);
}

static void add(struct instance **all, size_t *n, size_t *cap, struct cr_shim_test *t,
		void *param, long index)
{
	struct instance *in;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		*all = realloc(*all, *cap * sizeof(**all));
		if (!*all) {
			perror("parlab-tests-shim");
			exit(2);
		}
	}
	in = &(*all)[(*n)++];
	in->test = t;
	in->param = param;
	in->index = index;
	if (index < 0)
		snprintf(in->name, sizeof(in->name), "%s::%s", t->suite, t->name);
	else
		snprintf(in->name, sizeof(in->name), "%s::%s[%ld]", t->suite, t->name, index);
	snprintf(in->path, sizeof(in->path), "%s/%s", t->suite, t->name);
}

/* Every run the filter selects, sorted as Criterion sorts them. */
static struct instance *collect(size_t *count)
{
	struct instance *all = NULL;
	size_t n = 0, cap = 0;

	for (struct cr_shim_test *t = registered; t; t = t->next) {
		char path[256];

		snprintf(path, sizeof(path), "%s/%s", t->suite, t->name);
		if (opt.filter && fnmatch(opt.filter, path, FNM_EXTMATCH) != 0)
			continue;
		if (!t->params) {
			add(&all, &n, &cap, t, NULL, -1);
			continue;
		}
		struct criterion_test_params p = t->params();
		for (size_t i = 0; i < p.length; i++)
			add(&all, &n, &cap, t, (char *)p.params + i * p.size, (long)i);
	}
	if (n)
		qsort(all, n, sizeof(*all), by_name);
	*count = n;
	return all;
}

static int open_output(void)
{
	char path[] = "/tmp/parlab-shim-out-XXXXXX";
	int fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0)
		return fd;
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

static bool start(struct slot *s, struct instance *in)
{
	int vp[2];

	memset(s, 0, sizeof(*s));
	s->in = in;
	snprintf(s->logdir, sizeof(s->logdir), "/tmp/parlab-shim-san-XXXXXX");
	s->out_fd = open_output();
	if (s->out_fd < 0 || !mkdtemp(s->logdir) || pipe2(vp, O_CLOEXEC) < 0) {
		fprintf(stderr, "parlab-tests-shim: error: cannot set up %s: %s\n", in->name,
			strerror(errno));
		return false;
	}
	fflush(stdout);
	fflush(stderr);
	s->start = now();
	s->deadline = s->start + (in->test->timeout > 0 ? in->test->timeout : opt.timeout) * opt.scale;
	s->pid = fork();
	if (s->pid < 0) {
		fprintf(stderr, "parlab-tests-shim: error: fork: %s\n", strerror(errno));
		return false;
	}
	if (s->pid == 0) {
		close(vp[0]);
		run_child(in, s->out_fd, vp[1], s->logdir);
	}
	close(vp[1]);
	s->verdict_fd = vp[0];
	setpgid(s->pid, s->pid);        /* also here: no race with the child's own call */
	return true;
}

static char *slurp_fd(int fd)
{
	struct stat st;
	char *buf;
	ssize_t n;

	if (fstat(fd, &st) < 0 || !(buf = malloc((size_t)st.st_size + 1)))
		return NULL;
	n = pread(fd, buf, (size_t)st.st_size, 0);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* Is this sanitizer log a finding?  Deadly-signal reports are not: the
 * tests that crash a program on purpose check its status themselves. */
static bool is_finding(const char *log)
{
	static const char *const marks[] = {
		"WARNING: ThreadSanitizer:", "ERROR: AddressSanitizer:",
		"ERROR: LeakSanitizer:", ": runtime error:",
	};

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		for (const char *p = strstr(log, marks[i]); p; p = strstr(p + 1, marks[i])) {
			const char *eol = strchr(p, '\n');
			const char *unknown = strstr(p, " on unknown address");
			if (!unknown || (eol && unknown > eol))
				return true;
		}
	return false;
}

/* Reads and removes the child's sanitizer logs; returns how many hold a
 * finding, and appends them all to *text. */
static int sanitizer_logs(const char *dir, char **text)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int findings = 0;

	while (d && (e = readdir(d))) {
		char path[512];
		int fd;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			char *log = slurp_fd(fd);
			close(fd);
			if (log) {
				findings += is_finding(log);
				size_t old = *text ? strlen(*text) : 0;
				char *t = realloc(*text, old + strlen(path) + strlen(log) + 16);
				if (t) {
					sprintf(t + old, "--- %s\n%s", path, log);
					*text = t;
				}
				free(log);
			}
		}
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	return findings;
}

static void print_indented(const char *text)
{
	while (text && *text) {
		const char *eol = strchr(text, '\n');
		int len = eol ? (int)(eol - text) : (int)strlen(text);
		printf("    | %.*s\n", len, text);
		text += len + (eol != NULL);
	}
}

/* The child is gone: decide and print. */
static void finish(struct slot *s, int wstatus)
{
	char verdict = 0, why[256] = "";
	char *out = slurp_fd(s->out_fd), *logs = NULL;
	int findings = sanitizer_logs(s->logdir, &logs);
	double took = now() - s->start;
	const char *tag;

	if (read(s->verdict_fd, &verdict, 1) != 1)
		verdict = 0;
	close(s->verdict_fd);
	close(s->out_fd);

	if (s->timed_out)
		snprintf(why, sizeof(why), "timed out after %.0f s",
			 (s->in->test->timeout > 0 ? s->in->test->timeout : opt.timeout) * opt.scale);
	else if (WIFSIGNALED(wstatus))
		snprintf(why, sizeof(why), "killed by signal %d (%s)", WTERMSIG(wstatus),
			 strsignal(WTERMSIG(wstatus)));
	else if (findings)
		snprintf(why, sizeof(why), "%d sanitizer report%s", findings, findings > 1 ? "s" : "");
	else if (verdict == 'F')
		snprintf(why, sizeof(why), "failed checks");
	else if (WEXITSTATUS(wstatus) != 0)
		snprintf(why, sizeof(why), "exit status %d (a sanitizer's or valgrind's error status?)",
			 WEXITSTATUS(wstatus));
	else if (verdict != 'P' && verdict != 'S')
		snprintf(why, sizeof(why), "the test ended its process before its end");

	if (why[0]) {
		failed++;
		tag = "FAIL";
	} else if (verdict == 'S') {
		skipped++;
		tag = "SKIP";
	} else {
		passed++;
		tag = "PASS";
	}
	if (why[0] || verdict == 'S' || opt.verbose) {
		printf("[%s] %s (%.2f s)%s%s\n", tag, s->in->name, took, why[0] ? ": " : "", why);
		const char *skip = out && !why[0] && !opt.verbose ? strstr(out, "skipped: ") : NULL;
		if (why[0] || opt.verbose)
			print_indented(out);
		else if (skip)
			printf("    | %.*s\n", (int)strcspn(skip, "\n"), skip);
		if (logs && (why[0] || opt.verbose))
			print_indented(logs);
	}
	fflush(stdout);
	free(out);
	free(logs);
	s->pid = 0;
}

/* "[----] 120 of 492 tests done (0 failed), 1 min 40 s" */
static void progress(size_t n, double elapsed)
{
	int s = (int)elapsed;

	if (s >= 60)
		printf("[----] %d of %zu tests done (%d failed), %d min %d s\n", passed + failed + skipped,
		       n, failed, s / 60, s % 60);
	else
		printf("[----] %d of %zu tests done (%d failed), %d s\n", passed + failed + skipped, n,
		       failed, s);
	fflush(stdout);
}

static void run_all(struct instance *all, size_t n)
{
	struct slot slots[64] = { 0 };
	size_t next = 0;
	int running = 0;
	double started = now(), last = started;

	while (next < n || running > 0) {
		/* Interrupted: the running tests, in their own process groups,
		 * would outlive the runner; they go first. */
		if (interrupted) {
			for (int i = 0; i < opt.jobs; i++)
				if (slots[i].pid)
					kill(-slots[i].pid, SIGKILL);
			next = n;
		}
		for (int i = 0; i < opt.jobs && next < n; i++) {
			if (slots[i].pid)
				continue;
			struct instance *in = &all[next++];
			if (in->test->disabled) {
				skipped++;
				printf("[SKIP] %s: disabled\n", in->name);
				continue;
			}
			if (!start(&slots[i], in)) {
				failed++;
				printf("[FAIL] %s: could not start\n", in->name);
				continue;
			}
			running++;
		}
		/* Reap what ended; kill what ran out of time.  Polling every few
		 * milliseconds keeps this simple and costs nothing next to a test. */
		for (int i = 0; i < opt.jobs; i++) {
			int wstatus;
			pid_t r;

			if (!slots[i].pid)
				continue;
			r = waitpid(slots[i].pid, &wstatus, WNOHANG);
			if (r == 0 && now() > slots[i].deadline && !slots[i].timed_out) {
				slots[i].timed_out = true;
				kill(-slots[i].pid, SIGKILL);
				kill(slots[i].pid, SIGKILL);
				r = waitpid(slots[i].pid, &wstatus, 0);
			}
			if (r == slots[i].pid) {
				finish(&slots[i], wstatus);
				running--;
			}
		}
		if (now() - last >= PROGRESS_EVERY && (next < n || running > 0)) {
			last = now();
			progress(n, last - started);
		}
		nanosleep(&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL);
	}
}

static void *nothing(void *arg)
{
	return arg;
}

/* ThreadSanitizer starts a helper thread of its own at the first
 * pthread_create, and again in a child forked before that happened; a
 * child whose parent had not started it ends up with two, one of which
 * appears in the middle of the test and breaks the tests that count this
 * process's threads.  Starting (and joining) one thread here first makes
 * every child start with its helper already counted.  Harmless elsewhere. */
static void settle_sanitizer_threads(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, nothing, NULL) == 0)
		pthread_join(t, NULL);
}

int main(int argc, char **argv)
{
	struct instance *all;
	size_t n;
	double t0 = now();

	parse_args(argc, argv);
	all = collect(&n);
	if (opt.list) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", all[i].name);
		return 0;
	}
	if (!n && opt.filter)
		fprintf(stderr, "parlab-tests-shim: warning: no test matches '%s'\n", opt.filter);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_interrupt);
	signal(SIGTERM, on_interrupt);
	settle_sanitizer_threads();
	printf("[----] %zu tests to run; a progress line every %.0f s\n", n, PROGRESS_EVERY);
	fflush(stdout);
	run_all(all, n);
	printf("Synthesis: %zu tests, %d skipped, %.1f s, -j %d\n", n, skipped, now() - t0, opt.jobs);
	if (interrupted)
		printf("interrupted by signal %d: the tests not run yet are not counted\n",
		       (int)interrupted);
	printf("%d passed, %d failed\n", passed, failed);
	free(all);
	return failed || interrupted ? 1 : 0;
}
