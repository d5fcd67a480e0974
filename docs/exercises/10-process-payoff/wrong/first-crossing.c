/* A WRONG solution of exercise 10, kept to prove that the checker sees it.
 *
 * What is wrong: breakeven returns the first size at which the pool is
 * faster, walking up from the smallest.  A measurement is noisy: one
 * lucky point among slower ones (a quiet moment of the machine) is then
 * reported as the break-even, although the pool is slower at the next
 * sizes.  The answer is the size from which the pool is faster at that
 * size AND every larger one: walk down from the largest instead.
 * Caught by: breakeven on sweeps with known answers
 */
#include <stdlib.h>
#include <time.h>

#include "exercise.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double time_pool(cf_executor *ex, long work_us, long tasks)
{
	long *items = malloc(((size_t)tasks + 1) * sizeof(*items));
	cf_map_options opts = { .timeout = CF_FOREVER, .chunksize = 1 };
	cf_map_iter *it;
	cf_status st;

	if (!items)
		return -1;
	for (long i = 0; i < tasks; i++)
		items[i] = work_us;
	double start = now();
	st = cf_map(ex, spin_task, items, sizeof(*items), (size_t)tasks, &opts, &it);
	for (long i = 0; st == CF_OK && i < tasks; i++)
		st = cf_map_next(it, NULL, NULL);
	double took = now() - start;
	if (st == CF_OK)
		cf_map_free(it);
	free(items);
	return st == CF_OK ? took : -1;
}

long breakeven(const long *sizes, const double *serial_s, const double *pool_s, size_t n)
{
	/* The mistake: the first faster point, whatever comes after it. */
	for (size_t k = 0; k < n; k++)
		if (pool_s[k] < serial_s[k])
			return sizes[k];
	return -1;
}
