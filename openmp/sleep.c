/* sleep with OpenMP tasks: one thread makes the tasks, the team runs them.
 *
 * Inside a parallel region of -j threads, `single` lets one thread create
 * a task per index; the others (and then that thread too) pick tasks up as
 * they become free, like workers of a pool.  Each task hands its message
 * to the collector the moment it finishes, under a named critical section,
 * so lines print live and in completion order.  The region's closing
 * barrier waits for every task: that is the whole join.
 */
#include <omp.h>

#include "cli.h"
#include "sleep_work.h"
#include "stats.h"

static const struct pl_program program = {
	.name = "openmp/sleep",
	.summary = "sleep tasks as #pragma omp task, results in completion order",
	.workload = PL_SLEEP,
	.default_workers = 3,
};

int main(int argc, char **argv)
{
	struct pl_options opts;
	struct pl_sleep_results results;

	pl_parse_args(argc, argv, &program, &opts);
	pl_sleep_begin(&results, &opts);
	omp_set_num_threads(opts.workers);

#pragma omp parallel
#pragma omp single
	{
		/* The runtime creates the team; all but this thread are new. */
		pl_count_threads(omp_get_num_threads() - 1);

		for (long i = 0; i < opts.tasks; i++) {
#pragma omp task firstprivate(i) shared(opts, results)
			{
				char msg[PL_SLEEP_MSG_MAX];

				/* The message is used below, so the body
				 * stays even when it neither sleeps nor spins. */
				pl_sleep_task(i, opts.scale, opts.work_us, msg);
#pragma omp critical(collect)
				pl_sleep_collect(&results, msg);
			}
		}
	}

	return pl_sleep_finish(&results);
}
