/* Faults of the report harness itself (issue 20): scripts/report stopped
 * half-way, and two reports started at once.
 *
 * A stopped run must stop: exit 128 + the signal at once, having killed
 * the step it was running with everything that step started (hyperfine,
 * the program, its workers, the folder servers), say that it was
 * interrupted, leave its folder marked INCOMPLETE and move no latest
 * link.  Each run is started in a process group of its own, as a shell
 * starts `make report`, and stopped as a terminal's Ctrl-C stops it
 * (SIGINT to the group), as `kill` does (SIGTERM to the group), and as
 * make or a CI runner does (SIGTERM to the script alone).  What it left
 * running is found by a token in the environment every process of the
 * run inherits.
 *
 * Two runs started in the same second must get two folders.  The clock
 * and the machine's pace are pinned with two commands put first on PATH:
 * `date` gives both runs the same second, and `mkdir` under the runs'
 * directory takes 2 s, as long as a loaded machine can take between
 * testing a name and creating it.
 *
 * The runs are smoke runs (PROFILE=smoke) into a temporary directory;
 * they need hyperfine, gnuplot and jq and are skipped without them.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

#define FIRST_CELL_BOUND 300.0  /* s from the start to the first cell (micro-benchmarks first) */
#define STOP_BOUND 40.0         /* s from the signal to the exit */
#define LEFTOVER_BOUND 10.0     /* s for what was killed to be gone */
#define TWO_RUNS_BOUND 600.0    /* s for two smoke runs side by side */

struct report_run {
	pid_t pid;
	char log[128];
	char token[64];
	int status;             /* exit status, or 128 + signal */
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool on_path(const char *tool)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (!path)
		return false;
	char *copy = strdup(path), *save = NULL;
	bool found = false;
	for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		snprintf(buf, sizeof(buf), "%s/%s", d, tool);
		found = access(buf, X_OK) == 0;
	}
	free(copy);
	return found;
}

/* The report runs the OpenMP and GLib peers too; under TSan, whose
 * runtime cannot see libgomp's and GLib's hand-offs (mk/sanitize.mk),
 * those would report races that are not there.  ASan still runs these. */
static void need_report_tools(void)
{
	const char *build = getenv("PARLAB_BUILD");

	if (build && strstr(build, "san-thread"))
		cr_skip_test("ThreadSanitizer build: the report runs the OpenMP and GLib peers, "
			     "which it cannot see");
	for (const char *const *t = (const char *const[]){ "hyperfine", "gnuplot", "jq", "setsid", NULL };
	     *t; t++)
		if (!on_path(*t))
			cr_skip_test("%s is missing (scripts/deps report installs it)", *t);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void make_tmpdir(char *dir, size_t size)
{
	snprintf(dir, size, "/tmp/parlab-faults-report-XXXXXX");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

/* Starts scripts/report ARGS in a process group of its own, stdout and
 * stderr to `log`, with PARLAB_FAULTS_TOKEN=token in its environment and
 * `path_first` (if any) first on PATH. */
static void start_report(struct report_run *run, const char *log, const char *token,
			 const char *path_first, char *const args[])
{
	char *argv[32] = { "scripts/report" };
	int argc = 1;

	while (args[argc - 1] && argc < 31) {
		argv[argc] = args[argc - 1];
		argc++;
	}
	argv[argc] = NULL;
	snprintf(run->log, sizeof(run->log), "%s", log);
	snprintf(run->token, sizeof(run->token), "%s", token);
	run->pid = fork();
	cr_assert_geq(run->pid, 0, "fork: %s", strerror(errno));
	if (run->pid == 0) {
		setpgid(0, 0);
		int in = open("/dev/null", O_RDONLY);
		int out = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (in < 0 || out < 0)
			_exit(127);
		dup2(in, 0);
		dup2(out, 1);
		dup2(out, 2);
		/* As a shell starts a command: every stop signal at its default. */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setenv("PARLAB_FAULTS_TOKEN", token, 1);
		if (path_first) {
			char path[8192];
			snprintf(path, sizeof(path), "%s:%s", path_first, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
			setenv("PATH", path, 1);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	setpgid(run->pid, run->pid);
}

/* Waits up to `bound` s for the run to end; kills its group if not.
 * Returns whether it ended by itself. */
static bool wait_report(struct report_run *run, double bound)
{
	double deadline = now() + bound;
	int ws = 0;
	pid_t got;

	while ((got = waitpid(run->pid, &ws, WNOHANG)) == 0 && now() < deadline)
		usleep(20000);
	if (got != run->pid) {
		kill(-run->pid, SIGKILL);
		waitpid(run->pid, &ws, 0);
		run->status = -1;
		return false;
	}
	run->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	return true;
}

/* Waits up to `bound` s for `text` in the run's log. */
static bool log_says(const struct report_run *run, const char *text, double bound)
{
	double deadline = now() + bound;

	do {
		char *log = read_whole_file(run->log, NULL);
		bool found = log && strstr(log, text);
		free(log);
		if (found)
			return true;
		if (waitpid(run->pid, NULL, WNOHANG) == run->pid)
			return false;   /* ended (and reaped: the caller fails) */
		usleep(100000);
	} while (now() < deadline);
	return false;
}

/* The processes whose environment holds the run's token (ours: a
 * process of another user cannot be read, and is not the run's). */
static int leftovers(const char *token, char *which, size_t size)
{
	char needle[128], path[320];
	snprintf(needle, sizeof(needle), "PARLAB_FAULTS_TOKEN=%s", token);
	DIR *proc = opendir("/proc");
	int n = 0;

	which[0] = '\0';
	cr_assert_not_null(proc);
	for (struct dirent *e; (e = readdir(proc)) != NULL; ) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/environ", e->d_name);
		size_t len = 0;
		char *buf = read_whole_file(path, &len);
		if (!buf)
			continue;       /* gone, or not ours */
		/* The whole variable: "NAME=token" between two NULs. */
		bool theirs = false;
		for (char *v = buf; v < buf + len; v += strlen(v) + 1)
			theirs |= strcmp(v, needle) == 0;
		free(buf);
		if (!theirs)
			continue;
		n++;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		char *cmd = read_whole_file(path, NULL);
		size_t used = strlen(which);
		snprintf(which + used, size - used, " [%s] %s;", e->d_name, cmd ? cmd : "?");
		free(cmd);
	}
	closedir(proc);
	return n;
}

static void assert_nothing_left(const char *token)
{
	char which[4096];
	double deadline = now() + LEFTOVER_BOUND;
	int n;

	while ((n = leftovers(token, which, sizeof(which))) > 0 && now() < deadline)
		usleep(100000);
	cr_assert_eq(n, 0, "%d process(es) of the stopped run still running after %.0f s:%s", n,
		     LEFTOVER_BOUND, which);
}

/* The run's folder, from its line "...; writing DIR/". */
static bool run_folder(const char *log, char *dir, size_t size)
{
	const char *w = log ? strstr(log, "; writing ") : NULL;
	if (!w)
		return false;
	w += strlen("; writing ");
	size_t len = strcspn(w, "\n");
	if (len > 0 && w[len - 1] == '/')
		len--;
	snprintf(dir, size, "%.*s", (int)len, w);
	return len > 0;
}

/* Does the link out/name resolve to the run folder `dir`? */
static bool link_points_at(const char *out, const char *name, const char *dir)
{
	char link[1024], target[PATH_MAX];
	snprintf(link, sizeof(link), "%s/%s", out, name);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	const char *base = strrchr(dir, '/');
	return strcmp(target, base ? base + 1 : dir) == 0;
}

/* Starts a smoke run, stops it with `sig` (to its process group, or to
 * the script alone) once its first cell has started, and checks that it
 * stopped as it should. */
static void stop_a_run(int sig, bool whole_group, int expected_status)
{
	char out[64], log[128], token[64], dir[512], path[1024];
	struct report_run run;

	need_report_tools();
	make_tmpdir(out, sizeof(out));
	snprintf(log, sizeof(log), "%s.log", out);
	snprintf(token, sizeof(token), "%d-%ld-%d", getpid(), (long)time(NULL), sig);
	start_report(&run, log, token, NULL,
		     (char *const[]){ "--profile", "smoke", "--out", out, NULL });

	/* scripts/run-cells' first progress line comes just before the
	 * first cell; half a second later a program is running. */
	bool started = log_says(&run, "[1/", FIRST_CELL_BOUND);
	if (!started) {
		wait_report(&run, 1);
		char *text = read_whole_file(log, NULL);
		cr_assert_fail("no cell started within %.0f s:\n%s", FIRST_CELL_BOUND, text ? text : "");
	}
	usleep(500000);
	double sent = now();
	cr_assert_eq(whole_group ? kill(-run.pid, sig) : kill(run.pid, sig), 0);
	bool ended = wait_report(&run, STOP_BOUND + 60);
	double took = now() - sent;
	char *text = read_whole_file(log, NULL);

	cr_assert(ended, "still running %.0f s after %s:\n%s", STOP_BOUND + 60, strsignal(sig), text);
	cr_assert_eq(run.status, expected_status, "status %d after %s, not %d:\n%s", run.status,
		     strsignal(sig), expected_status, text);
	cr_assert_leq(took, STOP_BOUND, "took %.1f s to stop after %s", took, strsignal(sig));
	cr_assert(strstr(text, "scripts/report: interrupted by SIG"), "it does not say it was interrupted:\n%s",
		  text);
	cr_assert_null(strstr(text, "report written"), "an interrupted run says 'report written':\n%s", text);
	assert_nothing_left(token);

	cr_assert(run_folder(text, dir, sizeof(dir)), "no 'writing DIR/' line:\n%s", text);
	snprintf(path, sizeof(path), "%s/INCOMPLETE", dir);
	char *why = read_whole_file(path, NULL);
	cr_assert_not_null(why, "the stopped run's folder has no INCOMPLETE file");
	cr_assert(strstr(why, "interrupted by SIG") && strstr(why, "measurements: incomplete"),
		  "INCOMPLETE says: %s", why);
	free(why);
	cr_assert(!link_points_at(out, "latest", dir), "reports/latest points at the stopped run");
	cr_assert(!link_points_at(out, "latest-smoke", dir), "reports/latest-smoke points at the stopped run");

	/* Nor can its half of a report be redone as if it were whole. */
	struct run_result r;
	cr_assert_eq(run_program(&r, 60, "scripts/report", "--analyse", dir, NULL), 0);
	cr_assert_eq(r.status, 2, "--analyse of a stopped run: status %d: %s", r.status, r.err);
	cr_assert(strstr(r.err, "incomplete"), "--analyse does not say why: %s", r.err);
	run_result_free(&r);

	free(text);
	unlink(log);
	remove_tree(out);
}

Test(faults_report, ctrl_c_stops_the_run_and_moves_no_link, .timeout = 480)
{
	stop_a_run(SIGINT, true, 128 + SIGINT);
}

Test(faults_report, sigterm_to_the_group_stops_the_run, .timeout = 480)
{
	stop_a_run(SIGTERM, true, 128 + SIGTERM);
}

/* make, a CI runner's timeout, `kill PID`: the signal reaches the script
 * only; the cell and the cells' runner must not run on without it. */
Test(faults_report, sigterm_to_the_script_alone_stops_its_steps, .timeout = 480)
{
	stop_a_run(SIGTERM, false, 128 + SIGTERM);
}

/* Each cell of the run once in cells.tsv, and once (its wall_s row) in
 * results.csv: rows of the other run would be there twice. */
static void assert_own_rows(const char *dir)
{
	char path[1024];

	snprintf(path, sizeof(path), "%.900s/cells.tsv", dir);
	char *cells = read_whole_file(path, NULL);
	snprintf(path, sizeof(path), "%.900s/results.csv", dir);
	char *csv = read_whole_file(path, NULL);
	cr_assert(cells && csv, "%s: no cells.tsv or results.csv", dir);
	char *all = malloc(strlen(cells) + 2);      /* "\n" + cells: every line starts after a newline */
	sprintf(all, "\n%s", cells);
	int ncells = 0, rows = 0;
	for (char *l = cells; *l; ) {
		char *end = strchr(l, '\n');
		size_t len = end ? (size_t)(end - l) : strlen(l);
		char id[256], *f[9] = { 0 }, line[1024], *save = NULL;
		int n = 0;
		snprintf(line, sizeof(line), "%.*s", (int)len, l);
		for (char *t = strtok_r(line, "\t", &save); t && n < 9; t = strtok_r(NULL, "\t", &save))
			f[n++] = t;
		cr_assert_geq(n, 9, "%s/cells.tsv: short line", dir);
		snprintf(id, sizeof(id), "\n%s\t", f[0]);
		char *once = strstr(all, id);
		cr_assert(once && !strstr(once + 1, id), "%s: cell %s twice in cells.tsv", dir, f[0]);
		cr_assert_str_eq(f[8], "ok", "%s: cell %s is %s", dir, f[0], f[8]);
		char want[512];
		snprintf(want, sizeof(want), "\n%s,%s,%s,%s,%s,%s,%s,unpinned,wall_s,", f[1], f[2], f[3], f[4],
			 f[5], f[6], f[7]);
		char *row = strstr(csv, want);
		cr_assert_not_null(row, "%s: no wall_s row for cell %s", dir, f[0]);
		cr_assert_null(strstr(row + 1, want), "%s: two wall_s rows for cell %s", dir, f[0]);
		ncells++;
		l = end ? end + 1 : l + len;
	}
	for (char *p = strstr(csv, ",unpinned,wall_s,"); p; p = strstr(p + 1, ",unpinned,wall_s,"))
		rows++;
	cr_assert_gt(ncells, 0, "%s: cells.tsv is empty", dir);
	cr_assert_eq(rows, ncells, "%s: %d wall_s rows for %d cells", dir, rows, ncells);
	free(all);
	free(cells);
	free(csv);
}

Test(faults_report, two_runs_in_one_second_get_two_folders, .timeout = 720)
{
	const char *build = getenv("PARLAB_BUILD");
	if (build && strstr(build, "san"))
		cr_skip_test("sanitizer build: two timed runs side by side run on the plain build only");
	need_report_tools();

	char out[64], bin[128], path[1024], shim[2048];
	make_tmpdir(out, sizeof(out));
	snprintf(bin, sizeof(bin), "%s/bin", out);
	cr_assert_eq(mkdir(bin, 0755), 0);
	char runs[128];
	snprintf(runs, sizeof(runs), "%s/reports", out);
	/* Each shim runs the real command: the one after the shims on PATH. */
	snprintf(path, sizeof(path), "%s/date", bin);
	snprintf(shim, sizeof(shim),
		 "#!/bin/sh\n"
		 "# The same second for both runs' folder names.\n"
		 "[ \"$*\" = +%%Y%%m%%d-%%H%%M%%S ] && { echo 20200101-120000; exit 0; }\n"
		 "PATH=${PATH#%s:} exec date \"$@\"\n", bin);
	write_file(path, shim, 0755);
	snprintf(path, sizeof(path), "%s/mkdir", bin);
	snprintf(shim, sizeof(shim),
		 "#!/bin/sh\n"
		 "# Slow under the runs' directory, as a loaded machine is.\n"
		 "for a; do case $a in %s/*) sleep 2 ;; esac; done\n"
		 "PATH=${PATH#%s:} exec mkdir \"$@\"\n", runs, bin);
	write_file(path, shim, 0755);

	/* Small runs: serial and one model, the folder lookup among them
	 * (its servers write port files in the run's folder). */
	struct report_run run[2];
	char log[2][128], token[2][64];
	for (int i = 0; i < 2; i++) {
		snprintf(log[i], sizeof(log[i]), "%s/run%d.log", out, i);
		snprintf(token[i], sizeof(token[i]), "%d-two-%d", getpid(), i);
	}
	for (int i = 0; i < 2; i++)
		start_report(&run[i], log[i], token[i], bin,
			     (char *const[]){ "--profile", "smoke", "--out", runs, "--models", "serial,pthreads",
					      "--workloads", "squares,folders", "--jobs", "1,2", NULL });
	char dir[2][512];
	for (int i = 0; i < 2; i++) {
		bool ended = wait_report(&run[i], TWO_RUNS_BOUND);
		char *text = read_whole_file(log[i], NULL);
		cr_assert(ended, "run %d did not end within %.0f s:\n%s", i, TWO_RUNS_BOUND, text);
		cr_assert_eq(run[i].status, 0, "run %d: status %d:\n%s", i, run[i].status, text);
		cr_assert(run_folder(text, dir[i], sizeof(dir[i])), "run %d: no 'writing DIR/' line:\n%s", i, text);
		cr_assert(strstr(dir[i], "20200101-120000-smoke"), "run %d: the date shim was not used: %s", i,
			  dir[i]);
		free(text);
	}
	cr_assert_str_neq(dir[0], dir[1], "both runs wrote into %s", dir[0]);
	for (int i = 0; i < 2; i++) {
		assert_own_rows(dir[i]);
		snprintf(path, sizeof(path), "%.900s/INCOMPLETE", dir[i]);
		cr_assert_neq(access(path, F_OK), 0, "a finished run keeps %s", path);
	}
	cr_assert(link_points_at(runs, "latest-smoke", dir[0]) || link_points_at(runs, "latest-smoke", dir[1]),
		  "latest-smoke points at neither run");
	remove_tree(out);
}
