/* The squares workload: the seed's square(n) = n * n over range(N), with
 * --work-us of CPU work per task.  Results are reported in input order.
 */
#ifndef PARLAB_SQUARES_WORK_H
#define PARLAB_SQUARES_WORK_H

#include <stdint.h>
#include "cli.h"

/* The task body. */
int64_t pl_square(int64_t n, long work_us);

/* An array for opts->tasks results (zeroed); exits 1 when out of memory. */
int64_t *pl_squares_begin(const struct pl_options *opts);

/* Prints the list ("[0, 1, 4]") or the summary line
 * "PROGRAM: N results, checksum 0x..., wall S s", runs --check and --stats,
 * frees results; returns the exit status (0, or 1 when --check fails or
 * the output could not be written). */
int pl_squares_finish(const struct pl_options *opts, int64_t *results);

#endif
