/* squares with the executor library: the seed's
 *
 *     with ProcessPoolExecutor(max_workers=4) as executor:
 *         results = executor.map(square, range(10))
 *         print(list(results))
 *
 * `--executor thread|process` is the one word that changes the backend;
 * the task function below runs unchanged on both.  `--results` picks how
 * the results come back: one by one like Python's map (the default), or
 * a chunk at a time into the array (docs/api.md, "map into an array").
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cf.h"
#include "cf_glue.h"
#include "cli.h"
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

static long work_per_task(void)
{
	return atomic_load_explicit(&work_us, memory_order_relaxed);
}

/* An argument travels as bytes, copied: a process can carry it. */
static int square(cf_task *task)
{
	const int64_t *n = cf_task_arg(task, NULL);
	int64_t result = pl_square(*n, work_per_task());

	return cf_task_return(task, &result, sizeof(result));
}

/* The same work over a whole chunk, for cf_map_batches over range(n): one
 * call per chunk, which gets the chunk's place instead of its numbers and
 * writes the results where the caller wants them. */
static int square_batch(cf_task *task)
{
	const cf_range *chunk = cf_task_arg(task, NULL);
	int64_t *result = cf_task_result_buffer(task, chunk->count * sizeof(*result));
	long us = work_per_task();

	if (!result)
		return cf_task_fail(task, 1, "out of memory for %zu results", chunk->count);
	for (size_t i = 0; i < chunk->count; i++)
		result[i] = pl_square((int64_t)(chunk->first + i), us);
	return 0;
}

static const char *const result_ways[] = { "iterator", "array", "batches", NULL };

static struct pl_choice_option choices[] = {
	/* The seed uses ProcessPoolExecutor here, so the default is process. */
	{ .name = "executor", .choices = pl_cf_backends, .value = "process",
	  .help = "the backend: the one word that changes" },
	{ .name = "results", .choices = result_ways, .value = "iterator",
	  .help = "how results come back: cf_map's iterator, one at a time (Python's "
		  "map); cf_map_into, a chunk at a time into the array (Pool.map); or "
		  "cf_map_batches, one call per chunk (a vectorised task)" },
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
			       const int64_t *numbers, const cf_map_options *map_opts,
			       int64_t *results)
{
	cf_map_iter *results_it;
	cf_status st = cf_map(ex, square, numbers, sizeof(*numbers), (size_t)o->tasks, map_opts,
			      &results_it);

	for (long i = 0; st == CF_OK && i < o->tasks; i++) {
		const int64_t *square_of_i;
		st = cf_map_next(results_it, (const void **)&square_of_i, NULL);
		if (st == CF_OK)
			results[i] = *square_of_i;
	}
	cf_map_free(results_it);
	if (st != CF_OK)
		pl_cf_die(o, ex, st, "map");
}

/* The seed's range(n), made into an array: cf_map and cf_map_into take
 * their items from one. */
static int64_t *numbers_up_to(const struct pl_options *o)
{
	int64_t *numbers = malloc(((size_t)o->tasks + 1) * sizeof(*numbers));

	if (!numbers)
		pl_die(o, "out of memory for %ld numbers", o->tasks);
	for (long i = 0; i < o->tasks; i++)
		numbers[i] = i;
	return numbers;
}

int main(int argc, char **argv)
{
	struct pl_options o;
	cf_executor *ex;
	cf_status st;

	pl_parse_args(argc, argv, &program, &o);
	int64_t *results = pl_squares_begin(&o);
	cf_options opts = { .max_workers = (int)o.workers, .initializer = set_work_us,
			    .initarg = &o.work_us, .initarg_size = sizeof(o.work_us) };
	st = cf_executor_new(pl_choice(&o, "executor"), &opts, &ex);
	if (st != CF_OK)
		pl_cf_die(&o, NULL, st, "cannot create the executor");

	long chunksize = pl_int(&o, "chunksize");
	cf_map_options map_opts = { .timeout = CF_FOREVER,
				    .chunksize = chunksize ? (size_t)chunksize : CF_CHUNKSIZE_AUTO };
	const char *way = pl_choice(&o, "results");
	int64_t *numbers = NULL;
	if (strcmp(way, "batches") == 0) {
		/* No items: each call gets its chunk of range(n). */
		st = cf_map_batches(ex, square_batch, NULL, 0, (size_t)o.tasks, results,
				    sizeof(*results), &map_opts, NULL, NULL);
		if (st != CF_OK)
			pl_cf_die(&o, ex, st, "map_batches");
	} else if (strcmp(way, "array") == 0) {
		numbers = numbers_up_to(&o);
		st = cf_map_into(ex, square, numbers, sizeof(*numbers), (size_t)o.tasks, results,
				 sizeof(*results), &map_opts, NULL, NULL);
		if (st != CF_OK)
			pl_cf_die(&o, ex, st, "map_into");
	} else {
		numbers = numbers_up_to(&o);
		collect_one_by_one(ex, &o, numbers, &map_opts, results);
	}

	pl_count_cf_workers(ex);
	cf_executor_free(ex);
	free(numbers);
	return pl_squares_finish(&o, results);
}
