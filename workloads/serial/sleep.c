/* sleep, serial: the reference answer and the speedup baseline.
 *
 * The seed's task(n) for n in 3, 1, 2, ... one after another.  Nothing
 * overlaps, so the results come in submission order (Task 3, 1, 2) and the
 * run takes the sum of the sleeps; the other models overlap the waits.
 */
#include "cli.h"
#include "sleep_work.h"

static const struct pl_program program = {
	.name = "serial/sleep",
	.summary = "Runs the sleep tasks (3, 1, 2, ... seconds) one after another, "
		   "the reference every model is compared with.\n-j is checked and "
		   "then ignored: the loop is one worker.",
	.workload = PL_SLEEP,
	.default_workers = 1,
};

int main(int argc, char **argv)
{
	struct pl_options opts;
	struct pl_sleep_results results;
	char message[PL_SLEEP_MSG_MAX];

	pl_parse_args(argc, argv, &program, &opts);
	pl_sleep_begin(&results, &opts);

	for (long i = 0; i < opts.tasks; i++) {
		pl_sleep_task(i, opts.scale, opts.work_us, message);
		pl_sleep_collect(&results, message);
	}

	return pl_sleep_finish(&results);
}
