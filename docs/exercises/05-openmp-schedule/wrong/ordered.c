/* A WRONG solution of exercise 5, kept to prove that the checker sees it.
 *
 * What is wrong: round robin with the whole body `ordered`, so that the
 * cells are computed "in order".  schedule(static, 1) deals the
 * iterations out evenly, but an `ordered` region runs iteration i only
 * after iteration i - 1 has left it: with all the work inside, the threads
 * wait for each other and the loop runs one cell at a time.  The results
 * land in out[i] whatever the order they are computed in; only output
 * that must come out in sequence (printing) belongs in `ordered`.
 * Caught by: 4 threads compute cells at the same time, not in turns
 */
#include <omp.h>

#include "exercise.h"

void fill(double *out, long n, int threads)
{
#pragma omp parallel for num_threads(threads) schedule(static, 1) ordered
	for (long i = 0; i < n; i++) {
#pragma omp ordered
		out[i] = cell(i);
	}
}
