/* The benchmark harness (scripts/report and its helpers).
 *
 * One smoke run (PROFILE=smoke: seconds) into a temporary directory, then
 * every promise of the report checked on what it wrote: every file there,
 * the CSV's columns and one row per benchmark cell, valid PNG and SVG
 * plots, an HTML page and a Markdown report that link only to files that
 * exist, a `latest` link, and scripts/compare on the run.  Bad PROFILE,
 * MODELS, WORKLOADS and JOBS values are refused with status 2 before
 * anything runs.  The code metrics scripts are checked on fixture files
 * with known counts (tests/fixtures/metrics/).  `make help` names every
 * target and variable the README uses and every .PHONY target.
 *
 * The smoke run needs hyperfine, gnuplot and jq (scripts/deps report); it
 * is skipped with a message when one is missing, and on sanitizer builds
 * (their programs are too slow for a timed run to mean anything).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.h"

#define REPORT_BOUND 150.0      /* seconds for the whole smoke run */

static bool exists_nonempty(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && st.st_size > 0;
}

static bool on_path(const char *tool)
{
	const char *path = getenv("PATH");
	char buf[4096];

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

static void make_tmpdir(char *dir, size_t size)
{
	snprintf(dir, size, "/tmp/parlab-harness-XXXXXX");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

/* Splits the fields of one CSV line (no quoting: no field holds a comma). */
static int csv_fields(const char *line, size_t len, char fields[][64], int max)
{
	int n = 0;
	size_t start = 0;

	for (size_t i = 0; i <= len && n < max; i++) {
		if (i == len || line[i] == ',') {
			size_t w = i - start < 63 ? i - start : 63;
			memcpy(fields[n], line + start, w);
			fields[n][w] = '\0';
			n++;
			start = i + 1;
		}
	}
	return n;
}

static const char *const columns =
	"suite,workload,model,jobs,tasks,work_us,scale,placement,statistic,value,ci_lo,ci_hi,unit,n,status,note";
#define NCOLUMNS 16

/* Every line of results.csv has the 16 columns; every cell of cells.tsv
 * (id suite workload model jobs tasks work_us scale status ...) has its
 * wall_s row (the placement of a whole program is "unpinned"), with a
 * value when it ran cleanly. */
static void check_csv(const char *run)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/results.csv", run);
	char *csv = read_whole_file(path, NULL);
	cr_assert_not_null(csv, "no results.csv");
	cr_assert(strncmp(csv, columns, strlen(columns)) == 0 && csv[strlen(columns)] == '\n',
		  "results.csv header is not '%s'", columns);

	char fields[20][64];
	int lines = 0;
	for (char *l = csv; *l; ) {
		char *end = strchr(l, '\n');
		size_t len = end ? (size_t)(end - l) : strlen(l);
		cr_assert_eq(csv_fields(l, len, fields, 20), NCOLUMNS, "results.csv line %d: not %d fields: %.*s",
			     lines + 1, NCOLUMNS, (int)len, l);
		lines++;
		l = end ? end + 1 : l + len;
	}
	cr_assert_gt(lines, 1, "results.csv has no data rows");

	snprintf(path, sizeof(path), "%s/cells.tsv", run);
	char *cells = read_whole_file(path, NULL);
	cr_assert_not_null(cells, "no cells.tsv");
	int ncells = 0;
	for (char *l = cells; *l; ) {
		char *end = strchr(l, '\n');
		if (end)
			*end = '\0';
		char *f[12] = { 0 }, *save = NULL;
		int n = 0;
		for (char *t = strtok_r(l, "\t", &save); t && n < 12; t = strtok_r(NULL, "\t", &save))
			f[n++] = t;
		cr_assert_geq(n, 9, "cells.tsv line %d is short", ncells + 1);
		char want[512];
		snprintf(want, sizeof(want), "\n%s,%s,%s,%s,%s,%s,%s,unpinned,wall_s,", f[1], f[2], f[3], f[4],
			 f[5], f[6], f[7]);
		char *row = strstr(csv, want);
		cr_assert_not_null(row, "no wall_s row for cell %s", f[0]);
		char *next = strstr(row + 1, want);
		cr_assert_null(next, "two wall_s rows for cell %s", f[0]);
		if (strcmp(f[8], "ok") == 0)
			cr_assert_neq(row[strlen(want)], ',', "cell %s ran but has no wall time", f[0]);
		ncells++;
		l = end ? end + 1 : l + strlen(l);
	}
	cr_assert_gt(ncells, 0, "cells.tsv is empty");
	free(cells);
	free(csv);
}

/* Every .png starts with the PNG signature, every .svg is an <svg> document. */
static void check_plots(const char *run)
{
	static const unsigned char png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	DIR *d = opendir(run);
	struct dirent *e;
	int png = 0, svg = 0;
	char path[1024];

	cr_assert_not_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		snprintf(path, sizeof(path), "%s/%s", run, e->d_name);
		if (n > 4 && strcmp(e->d_name + n - 4, ".png") == 0) {
			size_t len = 0;
			char *data = read_whole_file(path, &len);
			cr_assert(data && len > 8 && memcmp(data, png_sig, 8) == 0, "%s is not a PNG", path);
			free(data);
			png++;
		} else if (n > 4 && strcmp(e->d_name + n - 4, ".svg") == 0) {
			char *data = read_whole_file(path, NULL);
			cr_assert(data && strstr(data, "<svg") && strstr(data, "</svg>"), "%s is not an SVG", path);
			free(data);
			svg++;
		}
	}
	closedir(d);
	cr_assert_geq(png, 6, "only %d PNG plots", png);
	cr_assert_eq(png, svg, "%d PNG but %d SVG plots", png, svg);
}

/* Every local link of `file` (HTML src=/href=, or Markdown ](...)) names a
 * file that exists beside it. */
static void check_links(const char *run, const char *file, const char *const *openers)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", run, file);
	char *text = read_whole_file(path, NULL);
	cr_assert_not_null(text, "no %s", file);
	int links = 0;

	for (const char *const *op = openers; *op; op++) {
		const char *close = strcmp(*op, "](") == 0 ? ")" : "\"";
		for (char *p = strstr(text, *op); p; p = strstr(p + 1, *op)) {
			char *target = p + strlen(*op);
			size_t len = strcspn(target, close);
			if (len == 0 || target[0] == '#' || strncmp(target, "http", 4) == 0 ||
			    strncmp(target, "mailto:", 7) == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%.*s", run, (int)len, target);
			cr_assert(access(path, R_OK) == 0, "%s links to %.*s, which does not exist",
				  file, (int)len, target);
			links++;
		}
	}
	cr_assert_gt(links, 5, "%s links to only %d files", file, links);
	free(text);
}

Test(harness, smoke_report_is_complete, .timeout = 200)
{
	const char *build = getenv("PARLAB_BUILD");
	if (build && strncmp(build, "build-san", 9) == 0)
		cr_skip_test("sanitizer build: the timed smoke report runs on the plain build only");
	for (const char *const *t = (const char *const[]){ "hyperfine", "gnuplot", "jq", NULL }; *t; t++)
		if (!on_path(*t))
			cr_skip_test("%s is missing (scripts/deps report installs it)", *t);

	char out[64], run[256], path[512];
	struct run_result r;
	make_tmpdir(out, sizeof(out));
	cr_assert_eq(run_program(&r, REPORT_BOUND, "scripts/report", "--profile", "smoke",
				 "--out", out, NULL), 0);
	cr_assert(!r.timed_out, "the smoke report took more than %.0f s", REPORT_BOUND);
	cr_assert_eq(r.status, 0, "scripts/report: status %d\n%s", r.status, r.err);
	cr_assert(strstr(r.err, "[1/"), "no progress lines: %s", r.err);
	cr_assert(strstr(r.err, "left)"), "no estimate of the time left: %s", r.err);
	/* One duration: the terminal's is the report's and machine.txt's. */
	char *took = strstr(r.err, "report written in ");
	cr_assert_not_null(took, "no closing line: %s", r.err);
	char duration[64] = "";
	cr_assert_eq(sscanf(took, "report written in %63[^:]", duration), 1);
	run_result_free(&r);

	/* A smoke run is partial: it gets latest-smoke, never latest. */
	snprintf(path, sizeof(path), "%s/latest", out);
	char target[256];
	cr_assert_lt(readlink(path, target, sizeof(target) - 1), 0, "a smoke run made %s", path);
	snprintf(run, sizeof(run), "%s/latest-smoke", out);
	ssize_t n = readlink(run, target, sizeof(target) - 1);
	cr_assert_gt(n, 0, "no %s link", run);

	static const char *const files[] = {
		"index.html", "report.md", "results.csv", "rounds.csv", "machine.txt", "commands.txt",
		"cells.tsv", "micro.jsonl", "targets.md", "targets.csv", "timing.tsv",
		"wall_squares.png", "wall_squares.svg", "speedup_squares.png", "speedup_squares.svg",
		"wall_sleep.png", "speedup_sleep.png", "granularity.png", "granularity.svg",
		"overhead.png", "overhead.svg", "memory.png", "created.png",
		/* section 9: every traced run, drawn, and what its caption quotes */
		"timelines.csv", "traces/status.tsv", "traces/sleep-seed.json", "traces/sleep-seed.txt",
		"timeline-sleep-seed.png", "timeline-squares-openmp-dynamic.svg", "timeline-chunks-64.png",
		"timeline-folders-pthreads.png", NULL
	};
	for (const char *const *f = files; *f; f++) {
		snprintf(path, sizeof(path), "%s/%s", run, *f);
		cr_assert(exists_nonempty(path), "%s is missing or empty", path);
	}
	/* Every timeline ran and passed scripts/timeline --check. */
	snprintf(path, sizeof(path), "%s/traces/status.tsv", run);
	char *status = read_whole_file(path, NULL);
	cr_assert_not_null(status, "cannot read %s", path);
	int shots = 0;
	for (char *line = strtok(status, "\n"); line; line = strtok(NULL, "\n"), shots++) {
		char *tab = strchr(line, '\t');
		cr_assert(tab && strncmp(tab, "\t0\t", 3) == 0, "a timeline failed: %s", line);
	}
	cr_assert_geq(shots, 10, "only %d timelines in %s", shots, path);
	free(status);

	snprintf(path, sizeof(path), "%s/raw", run);
	DIR *raw = opendir(path);
	cr_assert_not_null(raw, "no raw/ directory");
	int json = 0;
	for (struct dirent *e; (e = readdir(raw)) != NULL; )
		json += strstr(e->d_name, ".json") != NULL;
	closedir(raw);
	cr_assert_gt(json, 0, "no hyperfine JSON in raw/");

	snprintf(path, sizeof(path), "%s/machine.txt", run);
	char *machine = read_whole_file(path, NULL);
	cr_assert(machine && strstr(machine, "cpu:") && strstr(machine, "cores:") &&
		  strstr(machine, "kernel:") && strstr(machine, "compiler:"), "machine.txt incomplete");
	char said[96];
	snprintf(said, sizeof(said), "run took:      %s ", duration);
	cr_assert(strstr(machine, said), "machine.txt does not say the run took %s", duration);
	free(machine);
	snprintf(path, sizeof(path), "%s/report.md", run);
	char *md = read_whole_file(path, NULL);
	snprintf(said, sizeof(said), "the run took %s.", duration);
	cr_assert(md && strstr(md, said), "report.md does not say the run took %s", duration);
	/* No fixed verdicts from a run whose figures are all not determined:
	 * smoke's 2 rounds give no interval. */
	char *suited = strstr(md, "\n| Suited work |");
	cr_assert_not_null(suited, "no 'Suited work' row in section 8");
	char *eol = strchr(suited + 1, '\n');
	cr_assert(eol && memmem(suited, (size_t)(eol - suited), "not determined", 14),
		  "'Suited work' concluded from a smoke run: %.*s", (int)(eol - suited), suited);
	cr_assert_null(strstr(md, "| **met** |"), "a target met from a smoke run");
	cr_assert_null(strstr(md, " ? "), "a '?' in the report");
	free(md);
	snprintf(path, sizeof(path), "%s/commands.txt", run);
	char *commands = read_whole_file(path, NULL);
	cr_assert(commands && strstr(commands, "hyperfine") && strstr(commands, "--stats"),
		  "commands.txt does not hold the commands");
	free(commands);

	check_csv(run);
	/* The folders suite, when its programs are built: timed rows with
	 * their bound, one accounting run per model, and the plot. */
	if (access("build/serial/folders", X_OK) == 0 &&
	    access("build/workloads/folder-api-server", X_OK) == 0) {
		snprintf(path, sizeof(path), "%s/results.csv", run);
		char *csv = read_whole_file(path, NULL);
		cr_assert_not_null(csv);
		cr_assert(strstr(csv, "\nfolders,folders,serial,1,"), "no folders rows in results.csv");
		cr_assert(strstr(csv, ",bound_s,"), "no folders bound in results.csv");
		cr_assert(strstr(csv, "\nfolders-account,folders,serial,1,") &&
			  strstr(csv, ",bad_ids_surfaced,"), "no folders accounting rows in results.csv");
		free(csv);
		snprintf(path, sizeof(path), "%s/folders_bound.png", run);
		cr_assert(exists_nonempty(path), "no folders_bound.png");
	}
	check_plots(run);
	check_links(run, "index.html", (const char *const[]){ "src=\"", "href=\"", NULL });
	check_links(run, "report.md", (const char *const[]){ "](", NULL });

	/* Comparing a run with itself: every figure the same. */
	cr_assert_eq(run_program(&r, 30, "scripts/compare", run, run, NULL), 0);
	cr_assert_eq(r.status, 0, "scripts/compare: %s", r.err);
	cr_assert(strstr(r.out, " 0 better, 0 worse") && strstr(r.out, " 0 verdicts contradict"),
		  "a run differs from itself: %s", r.out);
	run_result_free(&r);

	remove_tree(out);
}

static void assert_refused(const char *opt, const char *value, const char *says)
{
	char out[64];
	struct run_result r;

	make_tmpdir(out, sizeof(out));
	cr_assert_eq(run_program(&r, 30, "scripts/report", opt, value, "--out", out, NULL), 0);
	cr_assert(!r.timed_out);
	cr_assert_eq(r.status, 2, "%s '%s': status %d, stderr %s", opt, value, r.status, r.err);
	cr_assert(strstr(r.err, says), "%s '%s': message does not name %s: %s", opt, value, says, r.err);
	cr_assert_eq(count_lines(r.err, ""), 0);
	cr_assert(strchr(r.err, '\n') == r.err + strlen(r.err) - 1, "more than one line: %s", r.err);
	cr_assert_str_empty(r.out, "something ran: %s", r.out);
	/* Nothing was written: the output directory is still empty. */
	DIR *d = opendir(out);
	int entries = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL; )
		entries += e->d_name[0] != '.';
	closedir(d);
	cr_assert_eq(entries, 0, "%s '%s' was refused but wrote a report", opt, value);
	run_result_free(&r);
	remove_tree(out);
}

Test(harness, bad_values_refused_before_anything_runs, .timeout = 60)
{
	assert_refused("--profile", "bogus", "PROFILE");
	assert_refused("--profile", "../quick", "PROFILE");
	assert_refused("--models", "openmp,nope", "MODELS");
	assert_refused("--workloads", "squares,cubes", "WORKLOADS");
	assert_refused("--jobs", "0", "JOBS");
	assert_refused("--jobs", "2,x", "JOBS");
	assert_refused("--jobs", "99999", "JOBS");
}

Test(harness, scripts_have_help, .timeout = 60)
{
	static const char *const scripts[] = {
		"scripts/report", "scripts/plan", "scripts/run-cells", "scripts/run-micro",
		"scripts/derive", "scripts/plot", "scripts/compose",
		"scripts/render-md", "scripts/render-html", "scripts/machine-info",
		"scripts/fault-isolation", "scripts/targets", "scripts/compare",
		"scripts/noisy-neighbour",
		"benchmarks/metrics/strip", "benchmarks/metrics/loc", "benchmarks/metrics/calls",
		"benchmarks/metrics/complexity", "benchmarks/metrics/collect", NULL
	};
	struct run_result r;

	for (const char *const *s = scripts; *s; s++) {
		cr_assert_eq(run_program(&r, 20, *s, "--help", NULL), 0, "cannot run %s", *s);
		cr_assert_eq(r.status, 0, "%s --help: status %d", *s, r.status);
		cr_assert(strlen(r.out) > 40, "%s --help says too little: %s", *s, r.out);
		run_result_free(&r);
	}
}

/* One number of a metrics script's output line "N FILE" (or "S M FILE"). */
static long metric(const char *script, const char *arg, const char *file, int field)
{
	struct run_result r;
	char path[256];
	long v[2] = { -1, -1 };

	snprintf(path, sizeof(path), "tests/fixtures/metrics/%s", file);
	if (arg)
		cr_assert_eq(run_program(&r, 20, script, arg, path, NULL), 0);
	else
		cr_assert_eq(run_program(&r, 20, script, path, NULL), 0);
	cr_assert_eq(r.status, 0, "%s %s: %s", script, path, r.err);
	cr_assert_geq(sscanf(r.out, "%ld %ld", &v[0], &v[1]), 1, "%s: %s", script, r.out);
	run_result_free(&r);
	return v[field];
}

Test(harness, metrics_match_the_fixtures, .timeout = 60)
{
	char *expected = read_whole_file("tests/fixtures/metrics/expected.csv", NULL);
	char fields[8][64];
	bool pmccabe = on_path("pmccabe");
	int rows = 0;

	cr_assert_not_null(expected);
	for (char *l = strchr(expected, '\n') + 1; *l; ) {
		char *end = strchr(l, '\n');
		size_t len = end ? (size_t)(end - l) : strlen(l);
		cr_assert_eq(csv_fields(l, len, fields, 8), 6);
		const char *file = fields[0], *model = fields[1];
		cr_expect_eq(metric("benchmarks/metrics/loc", NULL, file, 0), atol(fields[2]),
			     "lines of %s", file);
		cr_expect_eq(metric("benchmarks/metrics/calls", model, file, 0), atol(fields[3]),
			     "%s calls in %s", model, file);
		if (pmccabe) {
			cr_expect_eq(metric("benchmarks/metrics/complexity", NULL, file, 0), atol(fields[4]),
				     "complexity sum of %s", file);
			cr_expect_eq(metric("benchmarks/metrics/complexity", NULL, file, 1), atol(fields[5]),
				     "largest complexity in %s", file);
		}
		rows++;
		l = end ? end + 1 : l + len;
	}
	cr_assert_geq(rows, 3);
	free(expected);

	struct run_result r;
	cr_assert_eq(run_program(&r, 20, "benchmarks/metrics/calls", "nosuchmodel",
				 "tests/fixtures/metrics/empty_sample.c", NULL), 0);
	cr_assert_eq(r.status, 2, "an unknown model must be refused");
	run_result_free(&r);
}

/* Does `make help` list target NAME ("  make NAME" ending the word)? */
static bool help_lists_target(const char *help, const char *name)
{
	char needle[96];
	size_t n = (size_t)snprintf(needle, sizeof(needle), "\n  make %s", name);

	for (const char *p = strstr(help, needle); p; p = strstr(p + 1, needle))
		if (p[n] == ' ' || p[n] == '\n')
			return true;
	return false;
}

/* The README's make commands: every "make WORD" that starts a line (code
 * blocks) or an inline code span, and the VARIABLE= words that follow it
 * up to the end of the line or the span. */
static int readme_make_words(const char *readme, char words[][48], int max)
{
	int n = 0;

	for (const char *p = strstr(readme, "make "); p && n < max; p = strstr(p + 1, "make ")) {
		const char *q = p;
		while (q > readme && (q[-1] == ' ' || q[-1] == '\t'))
			q--;
		if (!(q == readme || q[-1] == '\n' || (q == p && q[-1] == '`')))
			continue;
		bool span = q == p && p > readme && p[-1] == '`';
		const char *end = p + 5;
		while (*end && *end != '\n' && !(span && *end == '`'))
			end++;
		for (const char *w = p + 5; w < end && n < max; ) {
			while (w < end && *w == ' ')
				w++;
			const char *e = w;
			while (e < end && *e != ' ' && *e != '`')
				e++;
			if (e == w || *w == '#')
				break;  /* a comment ends the command */
			size_t len = (size_t)(e - w);
			const char *eq = memchr(w, '=', len);
			if (eq && isupper((unsigned char)*w))
				len = (size_t)(eq - w) + 1;     /* "PROFILE=" */
			else if (w != p + 5 || !islower((unsigned char)*w))
				break;  /* only the first word can be a target */
			snprintf(words[n++], sizeof(words[0]), "%.*s", (int)(len < 47 ? len : 47), w);
			w = e;
		}
	}
	return n;
}

Test(harness, make_help_names_every_target, .timeout = 60)
{
	struct run_result r;

	/* Not the MAKEFLAGS of a `make test` around us (its jobserver). */
	cr_assert_eq(run_program(&r, 50, "/usr/bin/env", "-u", "MAKEFLAGS", "-u", "MFLAGS",
				 "-u", "MAKELEVEL", "make", "-s", "--no-print-directory", "help",
				 NULL), 0);
	cr_assert(!r.timed_out, "make help did not finish");
	cr_assert_eq(r.status, 0, "make help: status %d: %s", r.status, r.err);
	char *help = r.out;
	cr_assert(strstr(help, "Usage: make") && strstr(help, "\nNow: CC="),
		  "make help says too little: %s", help);

	char *readme = read_whole_file("README.md", NULL);
	cr_assert_not_null(readme, "no README.md");
	char words[256][48];
	int n = readme_make_words(readme, words, 256), targets = 0;
	for (int i = 0; i < n; i++) {
		if (strchr(words[i], '=')) {
			cr_expect(strstr(help, words[i]), "README uses make ... %s, make help does not name it",
				  words[i]);
		} else {
			targets++;
			cr_expect(help_lists_target(help, words[i]),
				  "README uses make %s, make help does not list it", words[i]);
		}
	}
	cr_assert_geq(targets, 5, "found only %d make targets in README.md", targets);
	free(readme);

	/* Every .PHONY target of the Makefile and mk/ (but `all`, which is
	 * plain `make`, and the deps steps the others run). */
	glob_t g;
	cr_assert_eq(glob("mk/*.mk", 0, NULL, &g), 0, "no mk/*.mk");
	for (size_t f = 0; f <= g.gl_pathc; f++) {
		const char *file = f == 0 ? "Makefile" : g.gl_pathv[f - 1];
		char *text = read_whole_file(file, NULL);
		cr_assert_not_null(text, "cannot read %s", file);
		for (char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
			if (strncmp(l, ".PHONY:", 7) != 0)
				continue;
			char *eol = strchr(l, '\n');
			char line[512];
			snprintf(line, sizeof(line), "%.*s", (int)(eol ? eol - l : (long)strlen(l)) - 7, l + 7);
			char *save = NULL;
			for (char *t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
				if (strcmp(t, "all") == 0 || strncmp(t, "deps", 4) == 0)
					continue;
				cr_expect(help_lists_target(help, t), "%s: .PHONY target %s is not in make help",
					  file, t);
			}
		}
		free(text);
	}
	globfree(&g);
	run_result_free(&r);
}
