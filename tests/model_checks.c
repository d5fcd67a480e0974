/* Checks shared by the tests of every model (see model_checks.h). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_checks.h"

static const char *const jobs[] = { "1", "2", "3", "8" };
static const char *const sizes[] = { "0", "1", "7", "10000" };
#define NJOBS (sizeof(jobs) / sizeof(jobs[0]))
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

void run_with(struct run_result *r, double timeout, const char *prog,
	      const char *const *args, const char *const *extra)
{
	char *argv[32];
	int argc = 0;

	argv[argc++] = (char *)built(prog);
	for (; args && *args && argc < 30; args++)
		argv[argc++] = (char *)*args;
	for (; extra && *extra && argc < 31; extra++)
		argv[argc++] = (char *)*extra;
	argv[argc] = NULL;
	cr_assert_eq(run_argv(r, timeout, argv), 0, "cannot start %s", argv[0]);
	cr_assert(!r->timed_out, "%s timed out after %.0f s", argv[0], timeout);
}

static int compare_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *sorted_lines(const char *s)
{
	char *copy = strdup(s), *save = NULL, *line;
	size_t n = 0, cap = 16, len = 0;
	char **lines = malloc(cap * sizeof(*lines));

	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (n == cap)
			lines = realloc(lines, (cap *= 2) * sizeof(*lines));
		lines[n++] = line;
		len += strlen(line) + 1;
	}
	qsort(lines, n, sizeof(*lines), compare_lines);
	char *out = calloc(len + 1, 1), *end = out;
	for (size_t i = 0; i < n; i++)
		end += sprintf(end, "%s\n", lines[i]);
	free(lines);
	free(copy);
	return out;
}

/* Sleep tasks last 1 to 3 ms at --scale 0.001; 10000 of them at --scale 0. */
static const char *sleep_scale(const char *tasks)
{
	return strcmp(tasks, "10000") == 0 ? "0" : "0.001";
}

void assert_matches_serial(const char *prog, const char *const *extra)
{
	bool sleep = strstr(prog, "/sleep") != NULL;
	const char *ref = sleep ? "serial/sleep" : "serial/squares";

	for (size_t s = 0; s < NSIZES; s++) {
		const char *base[] = { "-n", sizes[s], "--print", "--scale",
				       sleep_scale(sizes[s]), NULL };
		struct run_result want, got;

		run_with(&want, 60, ref, base, NULL);
		cr_assert_eq(want.status, 0, "%s -n %s: %s", ref, sizes[s], want.err);
		char *want_out = sleep ? sorted_lines(want.out) : strdup(want.out);

		for (size_t j = 0; j < NJOBS; j++) {
			const char *args[] = { "-j", jobs[j], "-n", sizes[s], "--print",
					       "--scale", sleep_scale(sizes[s]), NULL };

			run_with(&got, 60, prog, args, extra);
			cr_assert_eq(got.status, 0, "%s -j %s -n %s: status %d: %s",
				     prog, jobs[j], sizes[s], got.status, got.err);
			char *got_out = sleep ? sorted_lines(got.out) : strdup(got.out);
			cr_assert_str_eq(got_out, want_out, "%s -j %s -n %s differs from %s",
					 prog, jobs[j], sizes[s], ref);
			free(got_out);
			run_result_free(&got);
		}
		free(want_out);
		run_result_free(&want);
	}
}

void assert_seed_squares(const char *prog, const char *const *extra)
{
	struct run_result r;

	run_with(&r, 30, prog, NULL, extra);
	cr_assert_eq(r.status, 0, "%s: %s", prog, r.err);
	cr_assert_str_eq(r.out, "[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]\n");
	run_result_free(&r);
}

/* Tasks of 0.6, 0.2 and 0.4 s on 3 workers: far enough apart that the
 * completion order is the seed's even on a loaded machine. */
void assert_seed_sleep(const char *prog, const char *const *extra)
{
	const char *args[] = { "--scale", "0.2", NULL };
	struct run_result r;

	run_with(&r, 30, prog, args, extra);
	cr_assert_eq(r.status, 0, "%s: %s", prog, r.err);
	cr_assert_str_eq(r.out, "Task 1 completed\nTask 2 completed\nTask 3 completed\n");
	run_result_free(&r);
}

long stats_field(const struct run_result *r, const char *key)
{
	char pattern[64];

	snprintf(pattern, sizeof(pattern), "\"%s\":", key);
	const char *end = strchr(r->err, '}');
	cr_assert(r->err[0] == '{' && end && strcmp(end, "}\n") == 0,
		  "stderr is not one JSON object line: %s", r->err);
	const char *at = strstr(r->err, pattern);
	cr_assert_not_null(at, "no %s in %s", key, r->err);
	return strtol(at + strlen(pattern), NULL, 10);
}

void assert_stats(const char *prog, const char *const *extra, const char *key,
		  long per_worker_extra)
{
	const char *const counts[] = { "1", "3" };

	for (int c = 0; c < 2; c++) {
		const char *args[] = { "-j", counts[c], "-n", "20", "--scale", "0",
				       "--work-us", "2000", "--stats", NULL };
		struct run_result r;

		run_with(&r, 30, prog, args, extra);
		cr_assert_eq(r.status, 0, "%s: %s", prog, r.err);
		long want = atol(counts[c]) + per_worker_extra;
		cr_assert_eq(stats_field(&r, key), want, "%s -j %s: %s is %ld, want %ld",
			     prog, counts[c], key, stats_field(&r, key), want);
		cr_assert_geq(stats_field(&r, "wall_s"), 0);
		run_result_free(&r);
	}
}

void assert_bad_options(const char *prog, const char *const *bad)
{
	while (*bad) {
		struct run_result r;

		run_with(&r, 30, prog, bad, NULL);
		cr_assert_eq(r.status, 2, "%s %s: status %d", prog, bad[0], r.status);
		cr_assert_str_empty(r.out);
		cr_assert(strstr(r.err, "error") && strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
			  "%s %s: not one error line: %s", prog, bad[0], r.err);
		run_result_free(&r);
		while (*bad)
			bad++;
		bad++;
	}
}

void assert_check_and_help(const char *prog, const char *const *extra, const char *model_option)
{
	const char *check[] = { "-j", "3", "-n", "1000", "--scale", "0", "--check", NULL };
	const char *help[] = { "--help", NULL };
	struct run_result r;

	run_with(&r, 30, prog, check, extra);
	cr_assert_eq(r.status, 0, "%s --check: %s", prog, r.err);
	cr_assert(strchr(r.out, '\n') == r.out + strlen(r.out) - 1,
		  "%s: not one summary line: %s", prog, r.out);
	run_result_free(&r);

	run_with(&r, 30, prog, help, NULL);
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.out, "usage:"), "%s --help: %s", prog, r.out);
	if (model_option)
		cr_assert(strstr(r.out, model_option), "%s --help lacks %s", prog, model_option);
	run_result_free(&r);
}
