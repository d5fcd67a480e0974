/* Measurements of the cf library that several micro-benchmarks share. */
#ifndef PARLAB_CF_MEASURE_H
#define PARLAB_CF_MEASURE_H

#include <stddef.h>

#include "cf.h"

/* A task that does nothing: what is left is the library's own cost. */
int micro_empty_task(cf_task *task);

/* ns per task of cf_map over `tasks` empty tasks on ex (the clock runs
 * from cf_map to the last result); exits 1 if a result is lost. */
double micro_map_empty_ns(cf_executor *ex, long tasks, size_t chunksize);

#endif
