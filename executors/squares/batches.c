/* executors/squares --results batches: cf_map_batches over range(n), one
 * call per chunk, which loops over its chunk itself the way a static
 * partition does; the library does nothing per item, and no array of
 * numbers is made (docs/api.md, "map into an array").
 */
#include "cf_glue.h"
#include "squares_work.h"
#include "tuned.h"

/* The work of square() over a whole chunk: the call gets the chunk's
 * place instead of its numbers and writes the results where the caller
 * wants them. */
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

void collect_in_batches(cf_executor *ex, const struct pl_options *o,
			const cf_map_options *map_opts, int64_t *results)
{
	/* No items: each call gets its chunk of range(n). */
	cf_status st = cf_map_batches(ex, square_batch, NULL, 0, (size_t)o->tasks, results,
				      sizeof(*results), map_opts, NULL, NULL);

	if (st != CF_OK)
		pl_cf_die(o, ex, st, "map_batches");
}
