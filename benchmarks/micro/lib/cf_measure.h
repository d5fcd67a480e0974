/* Measurements of the cf library that several micro-benchmarks share. */
#ifndef PARLAB_CF_MEASURE_H
#define PARLAB_CF_MEASURE_H

#include <stddef.h>

#include "cf.h"
#include "placement.h"

/* A task that does nothing: what is left is the library's own cost. */
int micro_empty_task(cf_task *task);

/* ns per task of cf_map over `tasks` empty tasks on ex (the clock runs
 * from cf_map to the last result); exits 1 if a result is lost. */
double micro_map_empty_ns(cf_executor *ex, long tasks, size_t chunksize);

/* A pool of the backend ("thread" or "process") whose every worker has
 * started and run a task, so that no start-up is measured.  Placed (pl
 * not NULL): the workers run on pl->there and the caller on pl->here, and
 * both are read back; the process pool's manager thread stays with the
 * caller.  Exits 1 on any failure. */
cf_executor *micro_pool_new(const char *backend, const cf_options *opts,
			    const struct micro_place *pl);

/* Frees ex and gives the caller its start mask back. */
void micro_pool_free(cf_executor *ex, const struct micro_place *pl);

/* One cf_submit + cf_future_result of an empty task; exits 1 on failure. */
void micro_submit_result(cf_executor *ex);

#endif
