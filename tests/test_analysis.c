/* The report's analysis (scripts/parlab/, Python) is tested by Python's
 * own unittest on fixtures (tests/analysis/test_*.py: the interval of a
 * known pair series, a noisy series that must come out not determined,
 * a granularity curve that dips at its largest size, a verdict whose
 * figure is not determined, ...).  This runs them inside the Criterion
 * suite, so that `make test` runs them and counts them: one Criterion
 * test per Python test module, its failures quoted.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

static void run_module(const char *module)
{
	struct run_result r;

	/* unittest prints its report on stderr and exits 1 on any failure. */
	cr_assert_eq(run_program(&r, 120, "/usr/bin/env", "PYTHONPATH=scripts:tests/analysis",
				 "python3", "-m", "unittest", "-q", module, NULL), 0,
		     "cannot run python3");
	cr_assert(!r.timed_out, "%s took more than 120 s", module);
	cr_assert_eq(r.status, 0, "%s failed:\n%s%s", module, r.out, r.err);
	cr_assert(strstr(r.err, "\nOK") || strncmp(r.err, "OK", 2) == 0 || strstr(r.err, "OK ("),
		  "%s: no OK from unittest:\n%s", module, r.err);
	run_result_free(&r);
}

/* Every tests/analysis/test_*.py must be run by one Test below: a module
 * added without its Test would silently never run. */
Test(analysis, every_module_has_a_test, .timeout = 30)
{
	static const char *const known[] = {
		"test_stats.py", "test_granularity.py", "test_derive.py", "test_targets.py",
		"test_verdicts.py", "test_plots.py", "test_docfigures.py", "test_timeline.py",
		"test_timelines.py", "test_tracecost.py", NULL
	};
	DIR *d = opendir("tests/analysis");
	struct dirent *e;

	cr_assert_not_null(d, "no tests/analysis");
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "test_", 5) != 0 || !strstr(e->d_name, ".py"))
			continue;
		bool found = false;
		for (const char *const *k = known; *k && !found; k++)
			found = strcmp(*k, e->d_name) == 0;
		cr_expect(found, "tests/analysis/%s has no Test in tests/test_analysis.c", e->d_name);
	}
	closedir(d);
}

Test(analysis, stats, .timeout = 130) { run_module("test_stats"); }
Test(analysis, granularity, .timeout = 130) { run_module("test_granularity"); }
Test(analysis, derive, .timeout = 130) { run_module("test_derive"); }
Test(analysis, targets, .timeout = 130) { run_module("test_targets"); }
Test(analysis, verdicts, .timeout = 130) { run_module("test_verdicts"); }
Test(analysis, plots, .timeout = 130) { run_module("test_plots"); }
Test(analysis, docfigures, .timeout = 130) { run_module("test_docfigures"); }
Test(analysis, timeline, .timeout = 130) { run_module("test_timeline"); }
Test(analysis, timelines, .timeout = 130) { run_module("test_timelines"); }
Test(analysis, tracecost, .timeout = 130) { run_module("test_tracecost"); }

/* The analysis scripts keep the command-line contract: --help says what
 * they do, bad usage is one line on stderr and exit status 2. */
Test(analysis, scripts_refuse_bad_usage_in_one_line, .timeout = 60)
{
	static const char *const scripts[] = {
		"scripts/derive", "scripts/compose", "scripts/targets", "scripts/compare",
		"scripts/run-cells", "scripts/run-micro", "scripts/plot", "scripts/doc-figures",
		"scripts/sample-report", "scripts/timeline", "scripts/trace-cost",
		"scripts/run-timelines", NULL
	};
	struct run_result r;

	for (const char *const *s = scripts; *s; s++) {
		cr_assert_eq(run_program(&r, 20, *s, "/nonexistent/run", "--no-such-option", NULL), 0);
		cr_assert_eq(r.status, 2, "%s: status %d, stderr %s", *s, r.status, r.err);
		cr_assert(strlen(r.err) > 0 && strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
			  "%s: not one line: %s", *s, r.err);
		cr_assert(strstr(r.err, "error"), "%s: %s", *s, r.err);
		run_result_free(&r);
		cr_assert_eq(run_program(&r, 20, *s, "--help", NULL), 0);
		cr_assert_eq(r.status, 0, "%s --help: status %d", *s, r.status);
		cr_assert_gt(strlen(r.out), 100, "%s --help says too little", *s);
		run_result_free(&r);
	}
	/* A directory that is not a run. */
	cr_assert_eq(run_program(&r, 20, "scripts/derive", "/tmp", NULL), 0);
	cr_assert_eq(r.status, 2, "derive /tmp: %d %s", r.status, r.err);
	run_result_free(&r);
}

/* A write that fails (here: /dev/full, a full disk) is an error with one
 * line on stderr, never figures that silently went nowhere: the analysis
 * scripts and the micro-benchmarks alike. */
Test(analysis, a_failed_write_is_an_error, .timeout = 90)
{
	static const char *const cmds[] = {
		"scripts/targets \"$1\" >/dev/full",
		"scripts/compare \"$1\" \"$1\" >/dev/full",
		"scripts/timeline tests/fixtures/trace/seed_sleep.json >/dev/full",
		"\"${PARLAB_BUILD:-build}\"/micro/floors --quick --rounds 1 --json --only floor.fork_wait >/dev/full",
		NULL
	};
	char dir[] = "/tmp/parlab-analysis-XXXXXX", run[64];
	struct run_result r;

	/* scripts/targets writes its tables beside the run: on a copy. */
	cr_assert_not_null(mkdtemp(dir));
	snprintf(run, sizeof(run), "%s/run", dir);
	cr_assert_eq(run_program(&r, 30, "/bin/cp", "-r", "docs/sample-report", run, NULL), 0);
	cr_assert_eq(r.status, 0, "cp: %s", r.err);
	run_result_free(&r);
	for (const char *const *c = cmds; *c; c++) {
		cr_assert_eq(run_program(&r, 40, "/bin/sh", "-c", *c, "sh", run, NULL), 0);
		cr_expect(!r.timed_out, "%s: timed out", *c);
		cr_expect_neq(r.status, 0, "%s: status 0 on a failed write", *c);
		cr_expect(strstr(r.err, "write") && strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
			  "%s: not one line naming the write: %s", *c, r.err);
		run_result_free(&r);
	}
	cr_assert_eq(run_program(&r, 30, "/bin/rm", "-rf", dir, NULL), 0);
	run_result_free(&r);
}
