/* Exercise 5, a reference solution: a dynamic schedule.
 *
 * With schedule(dynamic, 4) a thread takes 4 iterations at a time from a
 * shared counter whenever it is free, so expensive iterations are spread
 * over whoever is available, and a thread slowed down by anything else
 * on the machine simply takes fewer.  A chunk of 4 keeps the number of
 * grabs (one atomic operation each) small next to cells that cost up to a
 * millisecond.  schedule(static, 1) (round robin) balances this
 * particular cost curve too, but only because it is smooth, and it
 * cannot react to a busy core; schedule(guided) works as well. */
#include <omp.h>

#include "exercise.h"

void fill(double *out, long n, int threads)
{
#pragma omp parallel for num_threads(threads) schedule(dynamic, 4)
	for (long i = 0; i < n; i++)
		out[i] = cell(i);
}
