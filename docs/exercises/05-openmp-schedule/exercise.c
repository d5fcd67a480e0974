/* Exercise 5: make an OpenMP loop scale by choosing the schedule.
 *
 * This loop is correct, and it does not scale: cell(i) costs more as i
 * grows, and the default schedule gives each thread an equal block of
 * iterations, so the thread with the last block does most of the work
 * while the others wait at the end of the loop.
 * Statement: docs/exercises/05-openmp-schedule/README.md
 * Check it:  make exercise EX=5
 */
#include <omp.h>

#include "exercise.h"

void fill(double *out, long n, int threads)
{
	/* TODO: choose a schedule (and maybe a chunk size) for this loop. */
#pragma omp parallel for num_threads(threads)
	for (long i = 0; i < n; i++)
		out[i] = cell(i);
}
