/* The workloads written with the cf library: build/executors/squares and
 * build/executors/sleep, on both backends.  Same checks as every other
 * model (model_checks.h), plus the one word that changes. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model_checks.h"
#include "support.h"
#include "cf_test_util.h"

static const char *const on_threads[] = { "--executor", "thread", NULL };
static const char *const on_processes[] = { "--executor", "process", NULL };
static const char *const on_processes_chunked[] = { "--executor", "process", "--chunksize", "64",
						    NULL };
static const char *const on_threads_chunked[] = { "--executor", "thread", "--chunksize", "7",
						  NULL };
/* --chunksize 0: CF_CHUNKSIZE_AUTO, four chunks per worker. */
static const char *const on_threads_auto[] = { "--executor", "thread", "--chunksize", "0", NULL };
static const char *const on_processes_auto[] = { "--executor", "process", "--chunksize", "0",
						  NULL };
/* --results array: cf_map_into, the results written a chunk at a time;
 * --results batches: cf_map_batches, one call per chunk. */
static const char *const on_threads_batches[] = { "--executor", "thread", "--chunksize", "0",
						  "--results", "batches", NULL };
static const char *const on_processes_batches[] = { "--executor", "process", "--chunksize", "3",
						    "--results", "batches", NULL };
static const char *const on_threads_array[] = { "--executor", "thread", "--chunksize", "0",
						"--results", "array", NULL };
static const char *const on_threads_array_1[] = { "--executor", "thread", "--results", "array",
						  NULL };
static const char *const on_processes_array[] = { "--executor", "process", "--chunksize", "5",
						  "--results", "array", NULL };

Test(executors, squares_matches_serial_on_threads, .timeout = 180)
{
	assert_matches_serial("executors/squares", on_threads);
	assert_matches_serial("executors/squares", on_threads_chunked);
	assert_matches_serial("executors/squares", on_threads_auto);
	assert_matches_serial("executors/squares", on_threads_array);
	assert_matches_serial("executors/squares", on_threads_array_1);
	assert_matches_serial("executors/squares", on_threads_batches);
}

Test(executors, squares_matches_serial_on_processes, .timeout = 180)
{
	assert_matches_serial("executors/squares", on_processes);
	assert_matches_serial("executors/squares", on_processes_chunked);
	assert_matches_serial("executors/squares", on_processes_auto);
	assert_matches_serial("executors/squares", on_processes_array);
	assert_matches_serial("executors/squares", on_processes_batches);
}

/* The MPI backend (docs/distributed.md): spawn mode, each --results
 * way, and the seeds; skipped where the programs have no mpi/ copy. */
static const char *const on_mpi[] = { "--executor", "mpi", NULL };
static const char *const on_mpi_chunked[] = { "--executor", "mpi", "--chunksize", "0", NULL };
static const char *const on_mpi_array[] = { "--executor", "mpi", "--chunksize", "5",
					    "--results", "array", NULL };
static const char *const on_mpi_batches[] = { "--executor", "mpi", "--chunksize", "3",
					      "--results", "batches", NULL };

Test(executors, workloads_match_serial_on_mpi, .timeout = 180)
{
	if (access(built("executors/mpi/squares"), X_OK) != 0)
		cr_skip_test("no build/executors/mpi/ (no Open MPI, or a sanitizer build)");
	mpi_test_env();
	assert_matches_serial("executors/squares", on_mpi);
	assert_matches_serial("executors/squares", on_mpi_chunked);
	assert_matches_serial("executors/squares", on_mpi_array);
	assert_matches_serial("executors/squares", on_mpi_batches);
	assert_matches_serial("executors/sleep", on_mpi);
	assert_seed_squares("executors/squares", on_mpi);
	assert_seed_sleep("executors/sleep", on_mpi);
}

Test(executors, sleep_matches_serial, .timeout = 180)
{
	assert_matches_serial("executors/sleep", on_threads);
	assert_matches_serial("executors/sleep", on_processes);
}

/* The seed: squares on ProcessPoolExecutor(max_workers=4) by default,
 * sleep on ThreadPoolExecutor(max_workers=3); either word works. */
Test(executors, seed, .timeout = 60)
{
	assert_seed_squares("executors/squares", NULL);
	assert_seed_squares("executors/squares", on_threads);
	assert_seed_sleep("executors/sleep", NULL);
	assert_seed_sleep("executors/sleep", on_processes);
}

Test(executors, default_backends_are_the_seeds, .timeout = 30)
{
	const char *help[] = { "--help", NULL };
	struct run_result r;

	run_with(&r, 10, "executors/squares", help, NULL);
	cr_assert(strstr(r.out, "(default: process)"), "squares: %s", r.out);
	run_result_free(&r);
	run_with(&r, 10, "executors/sleep", help, NULL);
	cr_assert(strstr(r.out, "(default: thread)"), "sleep: %s", r.out);
	run_result_free(&r);
}

/* Workers start on demand: tasks of 2 ms of CPU on -j N give N workers. */
Test(executors, stats_count_workers, .timeout = 60)
{
	assert_stats("executors/squares", on_threads, "threads_created", 0);
	assert_stats("executors/sleep", on_threads, "threads_created", 0);
	/* The process pool's manager thread is the one thread it creates. */
	assert_stats("executors/squares", on_processes, "processes_created", 0);
	assert_stats("executors/sleep", on_processes, "processes_created", 0);
}

Test(executors, bad_options_exit_2, .timeout = 60)
{
	const char *const bad[] = {
		"--executor", "fiber", NULL,
		"--executor", NULL,
		"--chunksize", "-3", NULL,
		"--chunksize", "auto", NULL,
		"--results", "list", NULL,
		"--results", NULL,
		"-j", "0", NULL,
		"-j", "99999999999999999999", NULL,
		"-n", "-1", NULL,
		"-n", "10x", NULL,
		"--work-us", "-5", NULL,
		"--scale", "nan", NULL,
		"--partition", "static", NULL,
		"positional", NULL,
		NULL, NULL
	};
	const char *const bad_sleep[] = {
		"--executor", "fiber", NULL,
		"--chunksize", "4", NULL,
		"--results", "array", NULL,
		"-j", "0", NULL,
		NULL, NULL
	};
	assert_bad_options("executors/squares", bad);
	assert_bad_options("executors/sleep", bad_sleep);
}

Test(executors, check_and_help, .timeout = 60)
{
	assert_check_and_help("executors/squares", on_threads, "--executor");
	assert_check_and_help("executors/squares", on_processes, "--chunksize");
	assert_check_and_help("executors/sleep", on_threads, "--executor");
	assert_check_and_help("executors/sleep", on_processes, NULL);
}

/* Every way of --results gives the seed's output, on the seed's backend. */
Test(executors, squares_seed_by_every_results_way, .timeout = 90)
{
	static const char *const ways[] = { "iterator", "array", "batches" };

	for (size_t w = 0; w < sizeof(ways) / sizeof(ways[0]); w++) {
		const char *const results[] = { "--results", ways[w], NULL };

		assert_seed_squares("executors/squares", results);
	}
}

/* benchmarks/metrics/loc FILE: the line count the report sets side by side. */
static long loc_of(const char *file)
{
	struct run_result r;

	cr_assert_eq(run_program(&r, 30, "benchmarks/metrics/loc", file, NULL), 0,
		     "cannot run benchmarks/metrics/loc (run from the top of the repository)");
	cr_assert_eq(r.status, 0, "loc %s: status %d: %s", file, r.status, r.err);
	char *end;
	long n = strtol(r.out, &end, 10);
	cr_assert(end != r.out && n > 0, "loc %s printed: %s", file, r.out);
	run_result_free(&r);
	return n;
}

/* executors/squares.c is the seed's program, the one the report's line
 * counts and the tutorial set beside the other models' squares.c; the
 * tuned --results ways live in executors/squares/ (issue 19).  Back in
 * the file, they made the executor read as the most code of all models,
 * the opposite of what it is for: it must not outgrow raw pthreads. */
Test(executors, squares_file_is_the_seed_program, .timeout = 60)
{
	long executor = loc_of("executors/squares.c");
	long threads = loc_of("raw_threads/squares.c");

	cr_expect_leq(executor, threads, "executors/squares.c has %ld lines of code, "
		      "raw_threads/squares.c %ld: keep tuning in executors/squares/",
		      executor, threads);

	char *text = read_whole_file("executors/squares.c", NULL);
	cr_assert(text, "cannot read executors/squares.c");
	cr_expect(strstr(text, "cf_map("), "the seed's map is not in executors/squares.c");
	cr_expect(!strstr(text, "cf_map_into(") && !strstr(text, "cf_map_batches("),
		  "a tuned --results way is back in executors/squares.c");
	free(text);
}
