/* squares with the executor library: the seed's
 *
 *     with ProcessPoolExecutor(max_workers=4) as executor:
 *         results = executor.map(square, range(10))
 *         print(list(results))
 *
 * `--executor thread|process` is the one word that changes the backend;
 * the task function below runs unchanged on both.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cf.h"
#include "cf_glue.h"
#include "cli.h"
#include "squares_work.h"

/* Arguments travel as bytes, copied: a process can carry them. */
struct square_arg {
	int64_t n;
	long work_us;
};

static int square(cf_task *task)
{
	const struct square_arg *arg = cf_task_arg(task, NULL);
	int64_t result = pl_square(arg->n, arg->work_us);

	return cf_task_return(task, &result, sizeof(result));
}

static const char *const result_ways[] = { "iterator", "array", NULL };

static struct pl_choice_option choices[] = {
	/* The seed uses ProcessPoolExecutor here, so the default is process. */
	{ .name = "executor", .choices = pl_cf_backends, .value = "process",
	  .help = "the backend: the one word that changes" },
	{ .name = "results", .choices = result_ways, .value = "iterator",
	  .help = "how results come back: cf_map's iterator, one at a time (Python's "
		  "map), or cf_map_into, a chunk at a time into the array (Pool.map)" },
	{ 0 },
};
static struct pl_int_option ints[] = {
	{ .name = "chunksize", .metavar = "N", .min = 0, .value = 1,
	  .help = "items per task message in map (like Python's); 0: 4 chunks per worker" },
	{ 0 },
};
static const struct pl_program program = {
	.name = "executors/squares",
	.summary = "n * n over range(N) with cf_map, on a thread or process pool",
	.workload = PL_SQUARES,
	.default_workers = 4,
	.choices = choices,
	.ints = ints,
};

/* The tutorial's way: list(executor.map(square, range(n))). */
static void collect_one_by_one(cf_executor *ex, const struct pl_options *o,
			       const struct square_arg *args, const cf_map_options *map_opts,
			       int64_t *results)
{
	cf_map_iter *results_it;
	cf_status st = cf_map(ex, square, args, sizeof(*args), (size_t)o->tasks, map_opts,
			      &results_it);

	for (long i = 0; st == CF_OK && i < o->tasks; i++) {
		const int64_t *square_of_i;
		st = cf_map_next(results_it, (const void **)&square_of_i, NULL);
		if (st == CF_OK)
			results[i] = *square_of_i;
	}
	if (st != CF_OK)
		pl_die(o, "map: %s", cf_strerror(st));
	cf_map_free(results_it);
}

int main(int argc, char **argv)
{
	struct pl_options o;
	cf_executor *ex;
	cf_status st;

	pl_parse_args(argc, argv, &program, &o);
	int64_t *results = pl_squares_begin(&o);
	struct square_arg *args = malloc(((size_t)o.tasks + 1) * sizeof(*args));
	if (!args)
		pl_die(&o, "out of memory for %ld arguments", o.tasks);
	for (long i = 0; i < o.tasks; i++)
		args[i] = (struct square_arg){ .n = i, .work_us = o.work_us };

	cf_options opts = { .max_workers = (int)o.workers };
	st = cf_executor_new(pl_choice(&o, "executor"), &opts, &ex);
	if (st != CF_OK)
		pl_die(&o, "cannot create the executor: %s", cf_strerror(st));

	long chunksize = pl_int(&o, "chunksize");
	cf_map_options map_opts = { .timeout = CF_FOREVER,
				    .chunksize = chunksize ? (size_t)chunksize : CF_CHUNKSIZE_AUTO };
	if (strcmp(pl_choice(&o, "results"), "array") == 0) {
		st = cf_map_into(ex, square, args, sizeof(*args), (size_t)o.tasks, results,
				 sizeof(*results), &map_opts, NULL, NULL);
		if (st != CF_OK)
			pl_die(&o, "map_into: %s", cf_strerror(st));
	} else {
		collect_one_by_one(ex, &o, args, &map_opts, results);
	}

	pl_count_cf_workers(ex);
	cf_executor_free(ex);
	free(args);
	return pl_squares_finish(&o, results);
}
