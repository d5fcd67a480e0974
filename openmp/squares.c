/* squares with OpenMP: the loop of the serial program plus one pragma.
 *
 * `parallel for` splits range(N) over a team of -j threads and joins them
 * at the end of the loop; schedule(runtime) takes the policy set with
 * omp_set_schedule, so --schedule and --chunk choose it without a rebuild:
 *   static   equal contiguous blocks (or chunks of --chunk dealt round
 *            robin): raw_threads' --partition static
 *   dynamic  threads take chunks of --chunk (default 1) as they finish:
 *            raw_threads' --partition dynamic
 *   guided   like dynamic, with chunks shrinking from N / threads down to
 *            --chunk: few grabs early, good balance at the end
 * Each result goes to its own slot and is printed or summed later, so even
 * with --work-us 0 the compiler cannot delete the loop body.
 */
#include <limits.h>
#include <omp.h>
#include <stdint.h>
#include <string.h>

#include "cli.h"
#include "squares_work.h"
#include "stats.h"

static const char *const schedules[] = { "static", "dynamic", "guided", NULL };

static struct pl_choice_option choices[] = {
	{ .name = "schedule", .choices = schedules, .value = "static",
	  .help = "how the loop is split among the team" },
	{ 0 }
};

static struct pl_int_option ints[] = {
	{ .name = "chunk", .metavar = "N", .min = 0, .value = 0,
	  .help = "iterations per chunk, 0 for the runtime's default" },
	{ 0 }
};

static const struct pl_program program = {
	.name = "openmp/squares",
	.summary = "squares n * n with #pragma omp parallel for",
	.workload = PL_SQUARES,
	.default_workers = 4,
	.choices = choices,
	.ints = ints,
};

static omp_sched_t schedule_kind(const char *name)
{
	if (strcmp(name, "dynamic") == 0)
		return omp_sched_dynamic;
	if (strcmp(name, "guided") == 0)
		return omp_sched_guided;
	return omp_sched_static;
}

int main(int argc, char **argv)
{
	struct pl_options opts;

	pl_parse_args(argc, argv, &program, &opts);
	int64_t *results = pl_squares_begin(&opts);

	/* A chunk below 1 means "the runtime's default" to OpenMP. */
	long chunk = pl_int(&opts, "chunk");
	omp_set_schedule(schedule_kind(pl_choice(&opts, "schedule")),
			 chunk < INT_MAX ? (int)chunk : INT_MAX);
	omp_set_num_threads(opts.workers);

#pragma omp parallel
	{
		/* The runtime creates the team; all but the master are new. */
#pragma omp master
		pl_count_threads(omp_get_num_threads() - 1);

#pragma omp for schedule(runtime)
		for (long i = 0; i < opts.tasks; i++)
			results[i] = pl_square(i, opts.work_us);
	}

	return pl_squares_finish(&opts, results);
}
