/* A WRONG solution of exercise 5, kept to prove that the checker sees it.
 *
 * What is wrong: a `critical` section around the work, "to be safe".  The
 * dynamic schedule spreads the cells evenly over the threads, so every
 * thread gets its fair share of the work, but only one of them may be
 * inside the critical section at a time: the threads take turns and the
 * loop is no faster than a serial one.  Each iteration writes only its
 * own out[i]; there is nothing to protect.
 * Caught by: 4 threads compute cells at the same time, not in turns
 */
#include <omp.h>

#include "exercise.h"

void fill(double *out, long n, int threads)
{
#pragma omp parallel for num_threads(threads) schedule(dynamic, 4)
	for (long i = 0; i < n; i++) {
#pragma omp critical
		out[i] = cell(i);
	}
}
