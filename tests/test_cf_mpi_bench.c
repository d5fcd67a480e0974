/* build/micro/cf_mpi_overhead (benchmarks/mpi/, issue 22): the MPI
 * backend's benchmark runs in its quick form, bounded, and its output has
 * the shape the docs and scripts/run-micro read: the text table ends with
 * every target, its estimate and a verdict; --csv writes one row per
 * figure and per target with every column; --json gives one record per
 * figure with a sample per round and no verdict; bad usage is one line
 * and status 2.  No figure is compared with a bound: the machine may be
 * loaded, and two rounds give no interval, so every verdict there is
 * "not determined".  Skipped where MPI is not built (mk/mpi_bench.mk).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"
#include "cf_test_util.h"

#define BENCH "micro/cf_mpi_overhead"
#define BENCH_BOUND 120.0       /* seconds, for each quick run */
#define CSV_COLUMNS 12
#define CSV_HEADER "kind,key,what,value,lo,hi,unit,text,goal,verdict,rounds,command\n"

static const char *const figure_keys[] = {
	"floor.mpi.spawn_first", "cf.mpi.startup", "floor.mpi.round_trip",
	"cf.mpi.submit_result", "cf.mpi.map.chunk1024", "cf.mpi.idle_cpu.caller",
	"cf.mpi.idle_cpu.worker", NULL,
};
static const char *const target_keys[] = {
	"ratio.submit_result_over_round_trip", "ratio.map_task_over_round_trip", "startup_ms",
	"ratio.startup_over_spawn", "idle_cpu_pct.caller", "idle_cpu_pct.worker", NULL,
};
/* The targets' lines in the text, in order: what starts each. */
static const char *const target_lines[] = {
	"  a) submit+result / ping-pong round trip", "  b) map, per task / ping-pong round trip",
	"  c) pool start-up to the first result, ms", "  c) pool start-up / spawn + first round trip",
	"  d) idle CPU, the caller's process", "  d) idle CPU, the worker", NULL,
};

/* The benchmark's path, or a skip when MPI is not built. */
static const char *bench_or_skip(void)
{
	const char *path = built(BENCH);

#ifndef PARLAB_HAVE_MPI
	cr_skip_test("MPI is not built: mk/mpi.mk builds the backend and its benchmark only "
		     "where pkg-config finds ompi-c, without SANITIZE");
#endif
	if (access(path, X_OK) != 0)
		cr_skip_test("MPI is not built (no %s): mk/mpi.mk builds the backend and its "
			     "benchmark only where pkg-config finds ompi-c, without SANITIZE", path);
	mpi_test_env();         /* loopback, as root, for this test's runs only */
	return path;
}

static void expect_ran(const struct run_result *r, const char *what)
{
	cr_assert_not(r->timed_out, "%s did not finish in %.0f s", what, BENCH_BOUND);
	cr_assert_eq(r->status, 0, "%s exited %d: %s", what, r->status, r->err);
}

static bool one_line(const char *s)
{
	const char *nl = strchr(s, '\n');

	return nl && nl > s && nl[1] == '\0';
}

/* The line of text that starts with prefix, or NULL. */
static const char *line_starting(const char *text, const char *prefix)
{
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			return p;
	return NULL;
}

/* A target's line: its estimate ("0.123 (no interval)" from two rounds)
 * and its verdict, which two rounds cannot give. */
static void check_target_line(const char *out, const char *prefix)
{
	const char *line = line_starting(out, prefix);
	char buf[256];
	double value;

	cr_assert_not_null(line, "no line '%s' in:\n%s", prefix, out);
	snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(line, "\n"), line);
	const char *rest = buf + strlen(prefix);
	rest += strcspn(rest, "0123456789");
	cr_assert_eq(sscanf(rest, "%lf", &value), 1, "no figure in '%s'", buf);
	cr_assert_geq(value, 0, "'%s'", buf);
	cr_assert_not_null(strstr(buf, "(no interval)"), "two rounds with an interval: '%s'", buf);
	size_t n = strlen(buf);
	bool judged = n > 15 && strcmp(buf + n - 15, " not determined") == 0;
	bool unjudged = n > 2 && strcmp(buf + n - 2, " -") == 0;
	cr_assert(judged || unjudged, "no verdict at the end of '%s'", buf);
}

Test(cf_mpi_bench, text_ends_with_every_target, .timeout = BENCH_BOUND + 10)
{
	const char *bench = bench_or_skip();
	char csv[] = "/tmp/parlab-mpi-bench-XXXXXX";
	struct run_result r;
	int fd = mkstemp(csv);

	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(run_program(&r, BENCH_BOUND, bench, "--quick", "--rounds", "2", "--csv", csv,
				 NULL), 0, "cannot start %s", bench);
	expect_ran(&r, bench);
	cr_assert_not_null(line_starting(r.out, "cf_mpi_overhead: 2 rounds"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "ping-pong"), "%s", r.out);
	for (const char *const *t = target_lines; *t; t++)
		check_target_line(r.out, *t);
	run_result_free(&r);

	char *text = read_whole_file(csv, NULL);
	unlink(csv);
	cr_assert_not_null(text, "no --csv file");
	cr_assert_eq(strncmp(text, CSV_HEADER, strlen(CSV_HEADER)), 0, "CSV header: %.120s", text);
	for (const char *const *k = figure_keys; *k; k++) {
		char row[96];
		snprintf(row, sizeof(row), "\nfigure,%s,", *k);
		cr_assert_not_null(strstr(text, row), "no CSV row for %s:\n%s", *k, text);
	}
	for (const char *const *k = target_keys; *k; k++) {
		char row[96];
		snprintf(row, sizeof(row), "\ntarget,%s,", *k);
		cr_assert_not_null(strstr(text, row), "no CSV row for %s:\n%s", *k, text);
	}
	free(text);
}

/* Every row of the CSV has every column: commas outside quotes. */
Test(cf_mpi_bench, csv_rows_have_every_column, .timeout = BENCH_BOUND + 10)
{
	const char *bench = bench_or_skip();
	char csv[] = "/tmp/parlab-mpi-bench-XXXXXX";
	struct run_result r;
	int fd = mkstemp(csv), rows = 0;

	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(run_program(&r, BENCH_BOUND, bench, "--quick", "--rounds", "1", "--only",
				 "floor.mpi.round_trip,cf.mpi.submit_result", "--csv", csv, NULL), 0);
	expect_ran(&r, bench);
	run_result_free(&r);
	char *text = read_whole_file(csv, NULL);
	unlink(csv);
	cr_assert_not_null(text);
	for (char *line = text; *line; rows++) {
		int commas = 0;
		bool quoted = false;
		char *end = strchr(line, '\n');

		cr_assert_not_null(end, "the last row has no newline");
		for (char *p = line; p < end; p++) {
			if (*p == '"')
				quoted = !quoted;
			else if (*p == ',' && !quoted)
				commas++;
		}
		cr_assert_eq(commas, CSV_COLUMNS - 1, "%d columns in '%.*s'", commas + 1,
			     (int)(end - line), line);
		line = end + 1;
	}
	/* The header, two figures, and the one target they make. */
	cr_assert_eq(rows, 4, "%d rows:\n%s", rows, text);
	free(text);
}

Test(cf_mpi_bench, json_gives_every_figure, .timeout = BENCH_BOUND + 10)
{
	const char *bench = bench_or_skip();
	struct run_result r;
	int found = 0;

	cr_assert_eq(run_program(&r, BENCH_BOUND, bench, "--quick", "--rounds", "1", "--json", NULL),
		     0);
	expect_ran(&r, bench);
	char *copy = strdup(r.out), *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct json_object *o = json_tokener_parse(line), *v;

		cr_assert_not_null(o, "not a JSON line: %s", line);
		cr_assert(json_object_object_get_ex(o, "key", &v), "no key: %s", line);
		const char *key = json_object_get_string(v);
		bool known = false;
		for (const char *const *k = figure_keys; *k; k++)
			known = known || strcmp(*k, key) == 0;
		cr_assert(known, "unknown key %s", key);
		cr_assert(json_object_object_get_ex(o, "samples_ns", &v) &&
			  json_object_array_length(v) == 1, "%s: not one sample", key);
		cr_assert_not(json_object_object_get_ex(o, "verdict", &v), "%s judges", key);
		json_object_put(o);
		found++;
	}
	free(copy);
	cr_assert_eq(found, 7, "%d records:\n%s", found, r.out);
	run_result_free(&r);
}

Test(cf_mpi_bench, refuses_bad_usage, .timeout = 30)
{
	const char *bench = bench_or_skip();
	struct run_result r;

	cr_assert_eq(run_program(&r, 20, bench, "--help", NULL), 0);
	cr_assert_eq(r.status, 0);
	cr_assert_not_null(strstr(r.out, "--csv FILE"), "%s", r.out);
	run_result_free(&r);
	for (const char *const *bad = (const char *const[]){ "--rounds=0", "--csv", "--nonesuch",
							   NULL }; *bad; bad++) {
		cr_assert_eq(run_program(&r, 20, bench, *bad, NULL), 0);
		cr_assert_eq(r.status, 2, "%s: status %d", *bad, r.status);
		cr_assert(one_line(r.err), "%s: not one line: %s", *bad, r.err);
		cr_assert_str_empty(r.out, "%s", r.out);
		run_result_free(&r);
	}
}
