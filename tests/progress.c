/* `make test`'s progress lines.  Criterion prints only failures until its
 * Synthesis line, so a full run (about 500 tests, several minutes) used to
 * be silent for minutes.  With this file in the test binary it says, on
 * stderr where Criterion writes, how many tests there are at the start and
 * then, at the first test end after every 20 s:
 *
 *   [----] 120 of 505 tests done (0 failed), 1 min 40 s
 *
 * Report hooks run in Criterion's runner process, before its POST_ALL
 * report, so the Synthesis line stays the last line.  The shim runner of
 * the TSan and valgrind builds (tests/shim/runner.c) prints the same lines
 * itself; against the shim this file is empty. */
#include <criterion/criterion.h>

#ifndef PARLAB_SHIM_CRITERION_H
#include <criterion/hooks.h>
#include <criterion/internal/ordered-set.h>
#include <criterion/parameterized.h>
#include <criterion/stats.h>
#include <stdio.h>
#include <time.h>

#define PROGRESS_EVERY 20.0     /* seconds */

static size_t total, finished, failed;
static double start, last;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The runs Criterion will make: the tests --filter left enabled, a
 * parameterized test once per parameter (asked of its generator, as
 * Criterion's runner does). */
ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	FOREACH_SET(struct criterion_suite_set *s, set->suites) {
		if ((s->suite.data && s->suite.data->disabled) || !s->tests)
			continue;
		FOREACH_SET(struct criterion_test *t, s->tests) {
			if (t->data->disabled)
				continue;
			if (t->data->kind_ == CR_TEST_PARAMETERIZED && t->data->param_) {
				struct criterion_test_params p = t->data->param_();
				total += p.length;
				if (p.cleanup)
					p.cleanup(&p);
			} else {
				total++;
			}
		}
	}
	start = last = now();
	fprintf(stderr, "[----] %zu tests to run; a progress line every %.0f s\n", total,
		PROGRESS_EVERY);
}

ReportHook(POST_TEST)(struct criterion_test_stats *stats)
{
	double t = now();

	finished++;
	failed += stats->test_status == CR_STATUS_FAILED || stats->crashed || stats->timed_out;
	if (t - last < PROGRESS_EVERY)
		return;
	last = t;
	int s = (int)(t - start);
	if (s >= 60)
		fprintf(stderr, "[----] %zu of %zu tests done (%zu failed), %d min %d s\n", finished,
			total, failed, s / 60, s % 60);
	else
		fprintf(stderr, "[----] %zu of %zu tests done (%zu failed), %d s\n", finished, total,
			failed, s);
}
#endif
