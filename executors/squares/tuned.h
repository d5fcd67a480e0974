/* executors/squares: what the seed's program (executors/squares.c) shares
 * with its two tuned ways of collecting the results, --results array
 * (array.c) and --results batches (batches.c), which live in files of
 * their own so that executors/squares.c reads as the seed's program.
 */
#ifndef PARLAB_EXECUTORS_SQUARES_TUNED_H
#define PARLAB_EXECUTORS_SQUARES_TUNED_H

#include <stdint.h>

#include "cf.h"
#include "cli.h"

/* --results, which executors/squares.c lists after --executor: defined
 * here, beside the two ways it adds to the seed's iterator. */
#define SQUARES_RESULTS_OPTION \
	{ .name = "results", .value = "iterator", \
	  .choices = (const char *const[]){ "iterator", "array", "batches", NULL }, \
	  .help = "how results come back: cf_map's iterator, one at a time (Python's " \
		  "map); cf_map_into, a chunk at a time into the array (Pool.map); or " \
		  "cf_map_batches, one call per chunk (a vectorised task)" }

/* From executors/squares.c: the task, the --work-us every worker's
 * initializer set, and the seed's range(n) as an array of numbers. */
int square(cf_task *task);
long work_per_task(void);
int64_t *numbers_up_to(const struct pl_options *o);

/* Each fills results[0..tasks) on ex, or says why not and exits 1. */
void collect_into_array(cf_executor *ex, const struct pl_options *o,
			const cf_map_options *map_opts, int64_t *results);
void collect_in_batches(cf_executor *ex, const struct pl_options *o,
			const cf_map_options *map_opts, int64_t *results);

#endif
