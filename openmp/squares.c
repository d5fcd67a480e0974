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
 *   tasks    no worksharing loop: one thread of the team walks range(N) and
 *            creates one explicit task per item (per --chunk items), which
 *            any thread of the team runs; the barrier at the end of the
 *            region waits for them all.  The model of a task pool, written
 *            with pragmas: what cf's thread backend is compared with.
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

static const char *const schedules[] = { "static", "dynamic", "guided", "tasks", NULL };

static struct pl_choice_option choices[] = {
	{ .name = "schedule", .choices = schedules, .value = "static",
	  .help = "how the loop is split among the team (tasks: one "
		  "explicit task per item)" },
	{ 0 }
};

static struct pl_int_option ints[] = {
	{ .name = "chunk", .metavar = "N", .min = 0, .value = 0,
	  .help = "iterations per chunk, 0 for the runtime's default "
		  "(tasks: items per task, 0 for 1)" },
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

/* --schedule tasks: the thread that wins `single` creates the tasks, the
 * whole team (the creator too, once it is done) runs them.  Each task gets
 * its range by value (firstprivate), so the loop may move on at once. */
static void run_tasks(const struct pl_options *opts, int64_t *results, long chunk)
{
	long per_task = chunk > 0 ? chunk : 1;

#pragma omp parallel
	{
#pragma omp master
		pl_count_threads(omp_get_num_threads() - 1);

#pragma omp single
		for (long first = 0; first < opts->tasks; first += per_task) {
			long end = opts->tasks - first > per_task ? first + per_task : opts->tasks;

#pragma omp task firstprivate(first, end)
			for (long i = first; i < end; i++)
				results[i] = pl_square(i, opts->work_us);
		}
	}
}

int main(int argc, char **argv)
{
	struct pl_options opts;

	pl_parse_args(argc, argv, &program, &opts);
	int64_t *results = pl_squares_begin(&opts);

	long chunk = pl_int(&opts, "chunk");
	omp_set_num_threads(opts.workers);
	if (strcmp(pl_choice(&opts, "schedule"), "tasks") == 0) {
		run_tasks(&opts, results, chunk);
		return pl_squares_finish(&opts, results);
	}

	/* A chunk below 1 means "the runtime's default" to OpenMP. */
	omp_set_schedule(schedule_kind(pl_choice(&opts, "schedule")),
			 chunk < INT_MAX ? (int)chunk : INT_MAX);

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
