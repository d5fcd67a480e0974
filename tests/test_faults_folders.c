/* The folder workload at the edges of its own resources (issue 20,
 * "Faults"): each fault is a limit of the client, the server or the
 * machine, and each test checks that the programs name it and survive it.
 *
 * - A client out of descriptors says so ("Too many open files", the
 *   client's), instead of "Couldn't connect to server".
 * - A server out of descriptors waits for a connection to close instead
 *   of spinning on accept(), and serves every client in the end.
 * - A folders program killed while its server starts leaves no port file
 *   behind, and starts its server with /tmp read-only.
 * - Out of memory, the programs name themselves, not "parlab".
 *
 * Limits are set in a child before exec (setrlimit, or the shell's ulimit,
 * which is the same call).  Every wait has a bound; the one figure
 * asserted, the server's CPU time, has a bound far from both sides.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

#define SERVER "workloads/folder-api-server"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs argv under `ulimit LIMIT` (e.g. "-n 16"): a shell sets it with
 * setrlimit and execs the program, whose status is the run's. */
static void run_limited(struct run_result *r, double timeout_s, const char *limit,
			const char *const *argv)
{
	char script[128];
	char *args[32];
	int n = 0;

	snprintf(script, sizeof(script), "ulimit %s && exec \"$0\" \"$@\"", limit);
	args[n++] = "/bin/sh";
	args[n++] = "-c";
	args[n++] = script;
	for (int i = 0; argv[i]; i++)
		args[n++] = (char *)argv[i];
	args[n] = NULL;
	cr_assert_eq(run_argv(r, timeout_s, args), 0, "cannot run %s", argv[0]);
	cr_assert(!r->timed_out, "%s under ulimit %s did not finish in %.0f s",
		  argv[0], limit, timeout_s);
}

/* Does every line of s that holds `any` also hold `all`?  And how many
 * lines hold `any`? */
static int lines_with(const char *s, const char *any, const char *all, bool *every)
{
	int count = 0;

	*every = true;
	while (s && *s) {
		const char *end = strchrnul(s, '\n');
		char line[1024];

		snprintf(line, sizeof(line), "%.*s", (int)(end - s), s);
		if (strstr(line, any)) {
			count++;
			if (!strstr(line, all))
				*every = false;
		}
		s = *end ? end + 1 : end;
	}
	return count;
}

/* --- 1. the client's own descriptor limit ---------------------------- */

/* Eight workers under 16 descriptors: some of them cannot open a socket.
 * The failures must say that it is the client's limit, not a server that
 * does not answer (it is up: the other workers got their folders). */
Test(faults_folders, client_names_its_own_descriptor_limit, .timeout = 120)
{
	const char *argv[] = { built("executors/folders"), "-j", "8", NULL };
	struct run_result r;
	bool every;
	int failed;

	run_limited(&r, 100, "-n 16", argv);
	failed = lines_with(r.err, "folder_", "Too many open files", &every);
	cr_log_info("ulimit -n 16, -j 8: %d of 10 failed; stderr:\n%s", failed, r.err);
	cr_assert_eq(r.status, failed ? 1 : 0, "status %d", r.status);
	cr_assert_gt(failed, 0, "no failure under ulimit -n 16: the test has no teeth");
	cr_expect(every, "a failure does not say 'Too many open files':\n%s", r.err);
	lines_with(r.err, "folder_", "client", &every);
	cr_expect(every, "a failure does not say it is the client's:\n%s", r.err);
	cr_expect(!strstr(r.err, "Couldn't connect to server"),
		  "the server is blamed for the client's limit:\n%s", r.err);
	cr_expect(!strstr(r.err, "circuit breaker"),
		  "the client's own limit opened the breaker:\n%s", r.err);
	run_result_free(&r);
}

/* --- 2. the server's descriptor limit ---------------------------------- */

#define CLIENTS 20

struct limited_server {
	pid_t pid;
	int port;
	char dir[64];
};

/* The server under ulimit -n nofile, its port through --port-file in a
 * fresh directory, its stderr in dir/err.  It dies with this process. */
static void start_limited_server(struct limited_server *s, rlim_t nofile, const char *latency)
{
	char port_path[128], err_path[128];
	double deadline;
	pid_t parent = getpid();

	snprintf(s->dir, sizeof(s->dir), "/tmp/parlab-faults-folders-XXXXXX");
	cr_assert(mkdtemp(s->dir));
	snprintf(port_path, sizeof(port_path), "%s/port", s->dir);
	snprintf(err_path, sizeof(err_path), "%s/err", s->dir);
	s->pid = fork();
	cr_assert_geq(s->pid, 0);
	if (s->pid == 0) {
		struct rlimit rl = { nofile, nofile };
		int null = open("/dev/null", O_RDWR);
		int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		dup2(null, 0);
		dup2(null, 1);
		dup2(err, 2);
		close_range(3, ~0U, 0);
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			_exit(126);
		execl(built(SERVER), SERVER, "--port", "0", "--port-file", port_path,
		      "--latency-ms", latency, (char *)NULL);
		_exit(127);
	}
	deadline = now_s() + 20;
	for (;;) {
		FILE *f = fopen(port_path, "r");
		int status;

		if (f) {
			int ok = fscanf(f, "%d", &s->port);

			fclose(f);
			if (ok == 1)
				return;
		}
		cr_assert_eq(waitpid(s->pid, &status, WNOHANG), 0,
			     "the server under ulimit -n %ld exited at start", (long)nofile);
		cr_assert_lt(now_s(), deadline, "the server did not listen within 20 s");
		usleep(5000);
	}
}

/* Stops it; its CPU time over its whole life, in seconds. */
static double stop_limited_server(struct limited_server *s, char *err, size_t cap)
{
	char path[128];
	struct rusage ru;
	int status;
	FILE *f;
	size_t n = 0;

	kill(s->pid, SIGTERM);
	for (double deadline = now_s() + 10; waitpid(s->pid, &status, WNOHANG) == 0;) {
		if (now_s() > deadline) {
			kill(s->pid, SIGKILL);
			break;
		}
		usleep(5000);
	}
	/* Reaped above or here (then this fails with ECHILD); the test's
	 * process has no other child, so the children's total is its. */
	waitpid(s->pid, &status, 0);
	getrusage(RUSAGE_CHILDREN, &ru);
	snprintf(path, sizeof(path), "%s/err", s->dir);
	f = fopen(path, "r");
	if (f) {
		n = fread(err, 1, cap - 1, f);
		fclose(f);
	}
	err[n] = '\0';
	unlink(path);
	snprintf(path, sizeof(path), "%s/port", s->dir);
	unlink(path);
	rmdir(s->dir);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int newlines(const char *s)
{
	int n = 0;

	while ((s = strchr(s, '\n')) != NULL)
		n++, s++;
	return n;
}

/* CLIENTS connections at once, each one request with Connection: close,
 * read to the end.  Returns how many got a 200 before the deadline. */
static int serve_clients(int port, double timeout_s)
{
	struct pollfd p[CLIENTS];
	char reply[CLIENTS][16];
	size_t got[CLIENTS] = { 0 };
	int ok = 0, open_fds = 0;
	double deadline = now_s() + timeout_s;

	for (int i = 0; i < CLIENTS; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
		char req[128];
		int len = snprintf(req, sizeof(req), "GET /v3/folders/%d HTTP/1.1\r\nHost: x\r\n"
				   "Connection: close\r\n\r\n", 1000 + i);

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		p[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		p[i].events = POLLIN;
		cr_assert_geq(p[i].fd, 0);
		/* The kernel completes the handshake from the backlog: connect
		 * and send succeed whether the server accepted or not. */
		cr_assert_eq(connect(p[i].fd, (struct sockaddr *)&a, sizeof(a)), 0, "connect: %s",
			     strerror(errno));
		cr_assert_eq(write(p[i].fd, req, (size_t)len), len);
		open_fds++;
	}
	while (open_fds > 0 && now_s() < deadline) {
		if (poll(p, CLIENTS, 100) <= 0)
			continue;
		for (int i = 0; i < CLIENTS; i++) {
			char buf[4096];
			ssize_t n;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n > 0 && got[i] < sizeof(reply[i]) - 1) {
				size_t take = (size_t)n < sizeof(reply[i]) - 1 - got[i]
					      ? (size_t)n : sizeof(reply[i]) - 1 - got[i];

				memcpy(reply[i] + got[i], buf, take);
				got[i] += take;
			}
			if (n <= 0) {
				reply[i][got[i]] = '\0';
				ok += strncmp(reply[i], "HTTP/1.1 200", 12) == 0;
				close(p[i].fd);
				p[i].fd = -1;
				open_fds--;
			}
		}
	}
	for (int i = 0; i < CLIENTS; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	return ok;
}

/* Ten descriptors leave the server room for four or five connections;
 * twenty clients wait for a second each.  While it is at its limit the
 * server must sleep, not retry accept() in a loop (libmicrohttpd's own
 * loop burnt a whole core: 4.0 s of CPU in 4 s), and it must serve all
 * twenty in the end, a few at a time. */
Test(faults_folders, server_waits_at_its_descriptor_limit, .timeout = 120)
{
	struct limited_server s;
	char err[4096];
	double t0, wall, cpu;
	int ok;

	start_limited_server(&s, 10, "1000");
	t0 = now_s();
	ok = serve_clients(s.port, 60);
	wall = now_s() - t0;
	cpu = stop_limited_server(&s, err, sizeof(err));
	cr_log_info("ulimit -n 10, %d clients of 1 s each: %d served in %.1f s; the server "
		    "used %.3f s of CPU; its stderr:\n%s", CLIENTS, ok, wall, cpu, err);
	cr_expect_eq(ok, CLIENTS, "%d of %d clients served", ok, CLIENTS);
	/* Four rounds or more at the limit, each a second: a server that
	 * spins burns most of that even on a loaded machine; one that waits
	 * uses a few milliseconds.  The bound is a tenth of the time. */
	cr_expect_lt(cpu, 0.1 * wall + 0.1, "the server used %.2f s of CPU in %.1f s at its "
		     "descriptor limit: it spins", cpu, wall);
	cr_expect_lt(newlines(err), 5, "the server's stderr is a flood:\n%.500s", err);
}

/* --- 3. port files --------------------------------------------------- */

/* Names in dir starting with prefix, as one string "a b c " (static). */
static const char *names_in(const char *dir, const char *prefix)
{
	static char buf[8192];
	size_t len = 0;
	DIR *d = opendir(dir);
	struct dirent *e;

	buf[0] = '\0';
	if (!d)
		return buf;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 ||
		    !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		/* ThreadSanitizer's runtime makes this file in TMPDIR while a
		 * program starts and removes it moments later: a program
		 * killed in between leaves it, whatever its own code does. */
		if (!strncmp(e->d_name, "tsan.rodata.", strlen("tsan.rodata.")))
			continue;
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s ", e->d_name);
		if (len >= sizeof(buf) - 64)
			break;
	}
	closedir(d);
	return buf;
}

/* How many of the names in now are not in before. */
static int new_names(const char *before, const char *now, char *list, size_t cap)
{
	char name[300];
	int count = 0, off;

	list[0] = '\0';
	while (sscanf(now, "%299s%n", name, &off) == 1) {
		char word[302];

		snprintf(word, sizeof(word), "%s ", name);
		if (!strstr(before, word)) {
			count++;
			strncat(list, word, cap - strlen(list) - 1);
		}
		now += off;
	}
	return count;
}

/* A program killed while it starts its server (20 tries, SIGTERM and
 * SIGINT, at moments spread over the start) leaves no port file, in
 * TMPDIR or in /tmp.  Other test files never make parlab-folder-port-*
 * names; a name that a concurrent run makes and removes in a moment is
 * not counted: only those still there half a second later are. */
Test(faults_folders, no_port_file_left_when_killed_during_start, .timeout = 180)
{
	char tmpdir[] = "/tmp/parlab-faults-tmpdir-XXXXXX";
	char before[8192], list[2048];
	int leaked_tmp, killed = 0;

	cr_assert(mkdtemp(tmpdir));
	/* This test's own process: the programs inherit it. */
	setenv("TMPDIR", tmpdir, 1);
	snprintf(before, sizeof(before), "%s", names_in("/tmp", "parlab-folder-port-"));
	for (int i = 0; i < 20; i++) {
		int sig = i % 2 ? SIGINT : SIGTERM, status;
		pid_t pid = fork();

		cr_assert_geq(pid, 0);
		if (pid == 0) {
			int null = open("/dev/null", O_RDWR);

			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
			execl(built("executors/folders"), "folders", (char *)NULL);
			_exit(127);
		}
		/* 0 to 38 ms: from before the server is forked to after it
		 * listens (a start takes a few to a few tens of ms). */
		usleep((useconds_t)(i * 2000));
		kill(pid, sig);
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		killed += WIFSIGNALED(status);
	}
	usleep(500000);
	leaked_tmp = new_names(before, names_in("/tmp", "parlab-folder-port-"), list, sizeof(list));
	cr_log_info("20 starts interrupted, %d of them killed before the end", killed);
	cr_expect_eq(leaked_tmp, 0, "%d port files left in /tmp: %s", leaked_tmp, list);
	cr_expect_str_eq(names_in(tmpdir, ""), "", "files left in TMPDIR %s", tmpdir);
	cr_expect_gt(killed, 0, "every run ended before its signal: no start was interrupted");
	/* Tidy what the old code would leave, so that a failure stays one. */
	for (const char *p = list; *p;) {
		char name[300], path[400];
		int off;

		if (sscanf(p, "%299s%n", name, &off) != 1)
			break;
		snprintf(path, sizeof(path), "/tmp/%s", name);
		unlink(path);
		p += off;
	}
	rmdir(tmpdir);
}

/* With /tmp read-only (a private mount namespace: unshare, as root or in
 * a user namespace) and TMPDIR set to a writable directory, a folders
 * program still starts its own server, and leaves nothing in TMPDIR. */
Test(faults_folders, starts_its_server_with_tmp_read_only, .timeout = 120)
{
	char tmpdir[512], script[1200];
	struct run_result r;

	cr_assert_eq(run_program(&r, 20, "/usr/bin/unshare", "-rm", "sh", "-c",
				 "mount -t tmpfs -o ro tmpfs /tmp", NULL), 0);
	bool can = r.status == 0;

	run_result_free(&r);
	if (!can)
		cr_skip_test("no private mount namespace here (unshare -rm): cannot make /tmp "
			     "read-only for one program");
	/* Outside /tmp, or the read-only mount would hide it (and the
	 * programs: a build tree under /tmp cannot take this test). */
	char *build = realpath(built("."), NULL);

	cr_assert(build, "no build tree %s", built("."));
	if (strncmp(build, "/tmp/", 5) == 0) {
		free(build);
		cr_skip_test("the build tree is under /tmp, which this test mounts over");
	}
	snprintf(tmpdir, sizeof(tmpdir), "%s/faults-tmpdir-XXXXXX", build);
	free(build);
	cr_assert(mkdtemp(tmpdir), "mkdtemp %s: %s", tmpdir, strerror(errno));
	snprintf(script, sizeof(script), "mount -t tmpfs -o ro tmpfs /tmp && "
		 "TMPDIR='%s' exec \"$0\"", tmpdir);
	cr_assert_eq(run_program(&r, 100, "/usr/bin/unshare", "-rm", "sh", "-c", script,
				 built("executors/folders"), NULL), 0);
	cr_expect_eq(r.status, 0, "status %d with /tmp read-only: %s", r.status, r.err);
	cr_expect(strstr(r.out, "\"folder_0_name\""), "%s", r.out);
	cr_expect_str_eq(names_in(tmpdir, ""), "", "files left in TMPDIR");
	run_result_free(&r);
	rmdir(tmpdir);
}

/* --- 4. out of memory: the program's own name --------------------------- */

/* 100 MB of address space cannot hold 2,000,000 ids and their maps: the
 * message must name the program, as every other message does.  (Not
 * under a sanitizer: its runtime reserves terabytes of address space and
 * cannot start under ulimit -v at all.) */
Test(faults_folders, out_of_memory_names_the_program, .timeout = 120)
{
	static const char *const progs[] = { "serial/folders", "executors/folders" };

	if (SANITIZED)
		cr_skip_test("a sanitizer's runtime does not start under ulimit -v");
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		const char *argv[] = { built(progs[i]), "-n", "2000000", "--api",
				       "http://127.0.0.1:1", NULL };
		char prefix[64];
		struct run_result r;

		run_limited(&r, 100, "-v 100000", argv);
		snprintf(prefix, sizeof(prefix), "%s: ", progs[i]);
		cr_expect_eq(r.status, 1, "%s: status %d", progs[i], r.status);
		cr_expect(strncmp(r.err, prefix, strlen(prefix)) == 0,
			  "%s under ulimit -v does not name itself: %s", progs[i], r.err);
		cr_expect(!strstr(r.err, "parlab:"), "%s says 'parlab:': %s", progs[i], r.err);
		run_result_free(&r);
	}
}

/* --- 5. memory: the executor program against the others ------------------ */

/* max_rss_kb of the --stats line in err; -1 if there is none. */
static long max_rss_kb(const char *err)
{
	const char *at = strstr(err, "\"max_rss_kb\":");

	return at ? strtol(at + strlen("\"max_rss_kb\":"), NULL, 10) : -1;
}

static long peak_kb(const char *prog)
{
	struct run_result r;
	long kb;

	cr_assert_eq(run_program(&r, 200, built(prog), "-n", "100000", "--scale", "0",
				 "--stats", NULL), 0);
	cr_assert(!r.timed_out, "%s -n 100000 did not finish in 200 s", prog);
	cr_assert_leq(r.status, 1, "%s: status %d: %.300s", prog, r.status, r.err);
	kb = max_rss_kb(r.err);
	cr_assert_gt(kb, 0, "%s printed no max_rss_kb: %.300s", prog, r.err);
	run_result_free(&r);
	return kb;
}

/* 100,000 ids (70,000 distinct) against our own server without latency:
 * the lookups are submitted far faster than five workers do them, so
 * nearly all are pending at once, each carrying its argument.  Every
 * model keeps an answer per distinct id; the executor program keeps a
 * future too, which costs about half as much again as serial's peak,
 * not twice it (each argument used to carry a 512-byte URL field: 2.0 to
 * 2.2 times serial's peak; 1.45 now).  Not under a sanitizer, whose
 * runtime's own memory would swamp the figures. */
Test(faults_folders, executor_peak_memory_near_the_other_models, .timeout = 420)
{
	long serial, executor;

	if (SANITIZED)
		cr_skip_test("a sanitizer's runtime changes the peak memory of both");
	serial = peak_kb("serial/folders");
	executor = peak_kb("executors/folders");
	cr_log_info("-n 100000 --scale 0: peak RSS serial %ld KB, executors/folders %ld KB "
		    "(%.2f times)", serial, executor, (double)executor / (double)serial);
	cr_expect_lt(executor, serial * 7 / 4, "executors/folders peaks at %ld KB, %.2f times "
		     "serial's %ld KB", executor, (double)executor / (double)serial, serial);
}
