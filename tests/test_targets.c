/* scripts/targets: the table of issue 7's targets, built from fixture run
 * directories (tests/fixtures/targets/, README.md there says what each
 * holds) copied to a temporary folder, since the script writes its tables
 * beside its inputs.  Checked: each verdict (met, missed, not determined,
 * not measured with its reason, a skipped peer), that a missing figure is
 * never met, the three files written, and bad usage.  No timing: the
 * figures are made up.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "support.h"

#define FIELDS 7
#define MAX_ROWS 64

/* target, figure, compared_with, ratio, goal, verdict, command */
struct row {
	char f[FIELDS][1024];
};

struct table {
	struct row rows[MAX_ROWS];
	int n;
};

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			cap = (n + 4096 + 1) * 2;
			char *b = realloc(buf, cap);
			cr_assert_not_null(b);
			buf = b;
		}
		got = fread(buf + n, 1, 4096, f);
		n += got;
	} while (got > 0);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* Parses RFC 4180 CSV (quoted fields, "" for a quote) after the header. */
static void parse_csv(const char *text, struct table *t)
{
	const char *p = strchr(text, '\n');
	int field = 0;
	size_t len = 0;
	bool quoted = false;

	cr_assert_not_null(p, "targets.csv has no header line");
	cr_assert(strncmp(text, "target,figure,compared_with,ratio,goal,verdict,command\n",
			  (size_t)(p - text) + 1) == 0, "targets.csv header: %.*s", (int)(p - text), text);
	t->n = 0;
	t->rows[0].f[0][0] = '\0';
	for (p++; *p; p++) {
		struct row *r = &t->rows[t->n];
		if (quoted) {
			if (*p == '"' && p[1] == '"') {
				p++;
			} else if (*p == '"') {
				quoted = false;
				continue;
			}
			if (len < sizeof(r->f[0]) - 1)
				r->f[field][len++] = *p;
			r->f[field][len] = '\0';
		} else if (*p == '"') {
			quoted = true;
		} else if (*p == ',') {
			cr_assert_lt(++field, FIELDS, "row %d has too many fields", t->n + 1);
			len = 0;
			r->f[field][0] = '\0';
		} else if (*p == '\n') {
			cr_assert_eq(field, FIELDS - 1, "row %d has %d fields", t->n + 1, field + 1);
			cr_assert_lt(++t->n, MAX_ROWS);
			field = 0;
			len = 0;
			t->rows[t->n].f[0][0] = '\0';
		}
	}
	cr_assert_eq(field, 0, "targets.csv does not end with a newline");
}

/* Copies tests/fixtures/targets/NAME to a fresh temporary folder, runs
 * scripts/targets --quiet on it and reads targets.csv. */
static void run_targets(const char *name, char *dir, size_t size, struct table *t)
{
	struct run_result r;
	char src[256], path[512];

	snprintf(dir, size, "/tmp/parlab-targets-XXXXXX");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	snprintf(src, sizeof(src), "tests/fixtures/targets/%s/.", name);
	cr_assert_eq(run_program(&r, 20, "/bin/cp", "-R", src, dir, NULL), 0);
	cr_assert_eq(r.status, 0, "cp: %s", r.err);
	run_result_free(&r);

	cr_assert_eq(run_program(&r, 60, "scripts/targets", "--quiet", dir, NULL), 0);
	cr_assert(!r.timed_out, "scripts/targets did not finish");
	cr_assert_eq(r.status, 0, "scripts/targets %s: status %d: %s", name, r.status, r.err);
	cr_assert_str_empty(r.out, "--quiet printed: %s", r.out);
	run_result_free(&r);

	snprintf(path, sizeof(path), "%s/targets.csv", dir);
	char *csv = slurp(path);
	cr_assert_not_null(csv, "no %s", path);
	parse_csv(csv, t);
	free(csv);
	static const char *const written[] = { "targets.md", "tables/targets.tsv" };
	for (int i = 0; i < 2; i++) {
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, written[i]);
		cr_assert(stat(path, &st) == 0 && st.st_size > 0, "%s not written", path);
	}
}

static void remove_dir(const char *dir)
{
	struct run_result r;

	if (run_program(&r, 20, "/bin/rm", "-rf", dir, NULL) == 0)
		run_result_free(&r);
}

/* The one row whose target starts with `target` and whose figure and
 * compared-with columns hold `figure` and `compared` (NULL: any). */
static const struct row *find(const struct table *t, const char *target,
			      const char *figure, const char *compared)
{
	const struct row *found = NULL;

	for (int i = 0; i < t->n; i++) {
		const struct row *r = &t->rows[i];
		if (strncmp(r->f[0], target, strlen(target)) != 0)
			continue;
		if (figure && !strstr(r->f[1], figure))
			continue;
		if (compared && !strstr(r->f[2], compared))
			continue;
		cr_assert_null(found, "two rows match %s / %s / %s", target, figure, compared);
		found = r;
	}
	cr_assert_not_null(found, "no row %s / %s / %s", target, figure ? figure : "*",
			   compared ? compared : "*");
	return found;
}

static void expect_verdict(const struct row *r, const char *verdict)
{
	cr_expect(strncmp(r->f[5], verdict, strlen(verdict)) == 0,
		  "%s | %s | %s: verdict '%s', expected '%s...'", r->f[0], r->f[1], r->f[2],
		  r->f[5], verdict);
}

Test(targets, met_missed_skipped_and_missing_rows, .timeout = 90)
{
	char dir[64];
	static struct table t;

	run_targets("mixed", dir, sizeof(dir), &t);
	cr_expect_eq(t.n, 15, "rows: %d", t.n);

	/* 1: peers measured, one goal met and one missed per variant. */
	expect_verdict(find(&t, "1.", "cf_submit", "GThreadPool"), "met");
	expect_verdict(find(&t, "1.", "cf_submit", "OpenMP task"), "missed");
	expect_verdict(find(&t, "1.", "cf_map", "GThreadPool"), "met");
	const struct row *r = find(&t, "1.", "cf_map", "OpenMP task");
	expect_verdict(r, "missed");
	cr_expect_str_eq(r->f[3], "15", "300 / 20 ns");
	cr_expect(strstr(r->f[6], "micro/peers"), "command: %s", r->f[6]);

	/* 2: the spin's CPU cost is shown when the record has it. */
	r = find(&t, "2. submit + result, idle pool", NULL, NULL);
	expect_verdict(r, "met");
	cr_expect_str_eq(r->f[3], "1.1");
	r = find(&t, "2. submit + result with a bounded idle spin", NULL, NULL);
	expect_verdict(r, "missed");
	cr_expect(strstr(r->f[1], "idle_spin_us=50") && strstr(r->f[1], "9000 ns of CPU"),
		  "figure: %s", r->f[1]);

	/* 3: cf_process_overhead did not run: not measured, and why. */
	r = find(&t, "3. process backend, one task", NULL, NULL);
	expect_verdict(r, "not measured");
	cr_expect(strstr(r->f[5], "cf_process_overhead"), "why: %s", r->f[5]);
	cr_expect_str_empty(r->f[3], "a missing figure has no ratio: %s", r->f[3]);
	expect_verdict(find(&t, "3. process backend, map", NULL, NULL), "not measured");

	/* 4: an exact ratio, and a lower bound that already misses. */
	r = find(&t, "4.", NULL, "OpenMP tasks");
	expect_verdict(r, "missed");
	cr_expect_str_eq(r->f[3], "3");
	cr_expect(strstr(r->f[1], "thread-pool: "), "one task per item: %s", r->f[1]);
	r = find(&t, "4.", NULL, "pthreads");
	expect_verdict(r, "missed");
	cr_expect(strncmp(r->f[3], "≥", strlen("≥")) == 0, "ratio: %s", r->f[3]);
	cr_expect(strstr(r->f[2], "≤ 0.01 µs"), "compared with: %s", r->f[2]);
	cr_expect(strstr(r->f[1], "thread-pool-batches: "),
		  "a static partition is compared with the map of batches: %s", r->f[1]);

	/* 5: the CPython peer was skipped: its reason is shown. */
	r = find(&t, "5.", "cf_submit", NULL);
	expect_verdict(r, "not measured");
	cr_expect(strstr(r->f[5], "python3 not found"), "why: %s", r->f[5]);
	expect_verdict(find(&t, "5.", "cf_map", NULL), "not measured");

	/* 6: one row per worker count; a timed-out cell is not measured. */
	r = find(&t, "6.", "-j 2", NULL);
	expect_verdict(r, "met");
	cr_expect(strstr(r->f[2], "60.0 µs"), "the measured overshoot: %s", r->f[2]);
	expect_verdict(find(&t, "6.", "-j 4", NULL), "missed");
	r = find(&t, "6.", "-j 8", NULL);
	expect_verdict(r, "not measured");
	cr_expect(strstr(r->f[5], "timeout"), "why: %s", r->f[5]);

	remove_dir(dir);
}

/* Target 4 when the sweep only bounds the sizes: an upper bound under the
 * goal is met, a ratio that may lie on either side is not determined. */
Test(targets, granularity_bounds, .timeout = 60)
{
	char dir[64];
	static struct table t;

	run_targets("bounds", dir, sizeof(dir), &t);
	const struct row *r = find(&t, "4.", NULL, "OpenMP tasks");
	expect_verdict(r, "met");
	cr_expect(strncmp(r->f[3], "≤", strlen("≤")) == 0, "ratio: %s", r->f[3]);
	expect_verdict(find(&t, "4.", NULL, "pthreads"), "not determined");
	remove_dir(dir);
}

/* Target 4 when both models reach 50 % at every size of the sweep: no
 * ratio, met, and the efficiencies at the smallest size say by how much. */
Test(targets, granularity_tied_at_the_smallest_size, .timeout = 60)
{
	char dir[64];
	static struct table t;

	run_targets("tied", dir, sizeof(dir), &t);
	const struct row *r = find(&t, "4.", NULL, "pthreads");
	expect_verdict(r, "met");
	cr_expect_str_empty(r->f[3], "no ratio can be measured: %s", r->f[3]);
	cr_expect(strstr(r->f[5], "cannot tell them apart") && strstr(r->f[5], "0.5312") &&
		  strstr(r->f[5], "0.6105"), "verdict: %s", r->f[5]);
	/* One model at its smallest size and the other above it: not tied. */
	r = find(&t, "4.", NULL, "OpenMP tasks");
	expect_verdict(r, "missed");
	remove_dir(dir);
}

/* A run that measured nothing: every target says not measured, none met. */
Test(targets, nothing_measured_is_never_met, .timeout = 60)
{
	char dir[64];
	static struct table t;

	run_targets("empty", dir, sizeof(dir), &t);
	cr_expect_eq(t.n, 13, "rows: %d", t.n);
	for (int i = 0; i < t.n; i++)
		expect_verdict(&t.rows[i], "not measured");
	remove_dir(dir);
}

Test(targets, usage, .timeout = 30)
{
	struct run_result r;

	cr_assert_eq(run_program(&r, 20, "scripts/targets", "--help", NULL), 0);
	cr_expect_eq(r.status, 0);
	cr_expect(strstr(r.out, "RUNDIR"), "--help: %s", r.out);
	run_result_free(&r);
	cr_assert_eq(run_program(&r, 20, "scripts/targets", NULL), 0);
	cr_expect_eq(r.status, 2, "no RUNDIR: status %d", r.status);
	run_result_free(&r);
	cr_assert_eq(run_program(&r, 20, "scripts/targets", "/nonexistent/run", NULL), 0);
	cr_expect_eq(r.status, 2, "a missing RUNDIR: status %d", r.status);
	cr_expect(strchr(r.err, '\n') == r.err + strlen(r.err) - 1, "one line: %s", r.err);
	run_result_free(&r);
}
