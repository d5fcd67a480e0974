/* executors/squares --results array: cf_map_into writes item i's result
 * to results[i], a chunk at a time, and returns when all are there, like
 * multiprocessing.Pool.map returning a list.  No iterator to read: on
 * threads a chunk reads its items and writes its results in place, so the
 * one reading thread is no longer the bottleneck for tiny tasks
 * (docs/api.md, "map into an array").
 */
#include <stdlib.h>

#include "cf_glue.h"
#include "tuned.h"

void collect_into_array(cf_executor *ex, const struct pl_options *o,
			const cf_map_options *map_opts, int64_t *results)
{
	int64_t *numbers = numbers_up_to(o);
	cf_status st = cf_map_into(ex, square, numbers, sizeof(*numbers), (size_t)o->tasks,
				   results, sizeof(*results), map_opts, NULL, NULL);

	free(numbers);
	if (st != CF_OK)
		pl_cf_die(o, ex, st, "map_into");
}
