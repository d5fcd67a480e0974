/* squares with the executor library: the seed's
 *
 *     with ProcessPoolExecutor(max_workers=4) as executor:
 *         results = executor.map(square, range(10))
 *         print(list(results))
 *
 * `--executor thread|process` is the one word that changes the backend;
 * the task function below runs unchanged on both.  `--results` picks how
 * the results come back: one by one like Python's map (the default, this
 * file), or one of two tunings for tiny tasks, each in a file of its own
 * beside this one: a chunk at a time into the array (squares/array.c) or
 * one call per chunk (squares/batches.c).
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cf.h"
#include "cf_glue.h"
#include "cli.h"
#include "squares/tuned.h"
#include "squares_work.h"

/* The work per task (--work-us), the same for every item: set once in
 * every worker by the pool's initializer, like Python's initargs, so that
 * an item is only its number, as in the seed's range(10).  Atomic because
 * a thread pool's workers all set the one copy. */
static _Atomic long work_us;

static int set_work_us(const void *initarg, size_t size)
{
	long us;

	if (size != sizeof(us))
		return 1;
	memcpy(&us, initarg, sizeof(us));
	atomic_store_explicit(&work_us, us, memory_order_relaxed);
	return 0;
}

long work_per_task(void)
{
	return atomic_load_explicit(&work_us, memory_order_relaxed);
}

/* An argument travels as bytes, copied: a process can carry it. */
int square(cf_task *task)
{
	const int64_t *n = cf_task_arg(task, NULL);
	int64_t result = pl_square(*n, work_per_task());

	return cf_task_return(task, &result, sizeof(result));
}

static struct pl_choice_option choices[] = {
	/* The seed uses ProcessPoolExecutor here, so the default is process. */
	{ .name = "executor", .choices = pl_cf_backends, .value = "process",
	  .help = "the backend: the one word that changes" },
	SQUARES_RESULTS_OPTION,         /* --results: squares/tuned.h */
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

/* The seed's range(n), made into an array: cf_map and cf_map_into take
 * their items from one. */
int64_t *numbers_up_to(const struct pl_options *o)
{
	int64_t *numbers = malloc(((size_t)o->tasks + 1) * sizeof(*numbers));

	if (!numbers)
		pl_die(o, "out of memory for %ld numbers", o->tasks);
	for (long i = 0; i < o->tasks; i++)
		numbers[i] = i;
	return numbers;
}

/* The tutorial's way: list(executor.map(square, range(n))). */
static void collect_one_by_one(cf_executor *ex, const struct pl_options *o,
			       const cf_map_options *map_opts, int64_t *results)
{
	int64_t *numbers = numbers_up_to(o);
	cf_map_iter *results_it;
	cf_status st = cf_map(ex, square, numbers, sizeof(*numbers), (size_t)o->tasks, map_opts,
			      &results_it);

	for (long i = 0; st == CF_OK && i < o->tasks; i++) {
		const int64_t *square_of_i;
		st = cf_map_next(results_it, (const void **)&square_of_i, NULL);
		if (st == CF_OK)
			results[i] = *square_of_i;
	}
	cf_map_free(results_it);        /* the map reads numbers until here */
	free(numbers);
	if (st != CF_OK)
		pl_cf_die(o, ex, st, "map");
}

int main(int argc, char **argv)
{
	struct pl_options o;
	cf_executor *ex;

	pl_parse_args(argc, argv, &program, &o);
	pl_cf_use_backend_build(&o, argv);
	int64_t *results = pl_squares_begin(&o);
	cf_options opts = { .max_workers = (int)o.workers, .initializer = set_work_us,
			    .initarg = &o.work_us, .initarg_size = sizeof(o.work_us) };
	cf_status st = cf_executor_new(pl_choice(&o, "executor"), &opts, &ex);
	if (st != CF_OK)
		pl_cf_die(&o, NULL, st, "cannot create the executor");

	long chunksize = pl_int(&o, "chunksize");
	cf_map_options map_opts = { .timeout = CF_FOREVER,
				    .chunksize = chunksize ? (size_t)chunksize : CF_CHUNKSIZE_AUTO };
	const char *way = pl_choice(&o, "results");
	if (strcmp(way, "array") == 0)
		collect_into_array(ex, &o, &map_opts, results);
	else if (strcmp(way, "batches") == 0)
		collect_in_batches(ex, &o, &map_opts, results);
	else
		collect_one_by_one(ex, &o, &map_opts, results);

	pl_count_cf_workers(ex);
	cf_executor_free(ex);
	return pl_squares_finish(&o, results);
}
