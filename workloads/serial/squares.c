/* squares, serial: the reference answer and the speedup baseline.
 *
 * The seed's
 *	print(list(executor.map(square, range(10))))
 * without an executor: one loop, one result after another.  Every other
 * model's squares.c is this file plus what its way of running costs.
 */
#include "cli.h"
#include "squares_work.h"

static const struct pl_program program = {
	.name = "serial/squares",
	.summary = "Squares 0..N-1 in a plain loop, the reference every model is "
		   "compared with.\n-j is checked and then ignored: the loop is one worker.",
	.workload = PL_SQUARES,
	.default_workers = 1,
};

int main(int argc, char **argv)
{
	struct pl_options opts;
	int64_t *results;

	pl_parse_args(argc, argv, &program, &opts);
	results = pl_squares_begin(&opts);

	for (long i = 0; i < opts.tasks; i++)
		results[i] = pl_square(i, opts.work_us);

	return pl_squares_finish(&opts, results);
}
