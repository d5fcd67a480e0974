/* False sharing, measured: chapter 7.
 *
 * Each thread of an OpenMP team adds 1 to its own counter, many times.
 * No two threads touch the same counter, so there is no race and no
 * lock; the only question is where the counters sit.  `adjacent`: in one
 * array of longs, all on one cache line.  `padded`: each on a cache line
 * of its own.  A core writes a whole cache line, not a variable: when two
 * cores write to one line, it travels back and forth between their caches
 * on every write, although they never share a value.
 *
 * The program runs both layouts alternately, several times, and prints
 * the median of each and their ratio.  The ratio depends on the machine
 * (cores, caches, how they are connected, other work running).
 *
 * Build and run from the top of the repository:
 *     cc -O2 -Wall -Wextra -fopenmp -o build/false_sharing \
 *        docs/tutorial/examples/false_sharing.c
 *     build/false_sharing
 *
 * Exit status: 0 when the counts are right, 1 otherwise.
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_THREADS 8
#define INCREMENTS 50000000L
#define RUNS 7
#define CACHE_LINE 64

/* Eight longs: 64 bytes, one cache line, shared by every thread. */
static _Alignas(CACHE_LINE) long adjacent[MAX_THREADS];

/* One counter per cache line: the rest of each line is padding. */
struct padded_counter {
	_Alignas(CACHE_LINE) long value;
};
static struct padded_counter padded[MAX_THREADS];

/* Each thread counts on its own counter.  volatile makes every increment
 * a load and a store in memory, as the update of a shared structure in a
 * real program is; without it the compiler keeps the count in a register
 * and writes it once, and nothing is shared long enough to see. */
static double count_on(volatile long *(*counter_of)(int))
{
	double start = omp_get_wtime();

#pragma omp parallel
	{
		volatile long *mine = counter_of(omp_get_thread_num());

		for (long i = 0; i < INCREMENTS; i++)
			(*mine)++;
	}
	return omp_get_wtime() - start;
}

static volatile long *adjacent_counter(int thread)
{
	return &adjacent[thread];
}

static volatile long *padded_counter(int thread)
{
	return &padded[thread].value;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *times)
{
	qsort(times, RUNS, sizeof(times[0]), by_value);
	return times[RUNS / 2];
}

int main(void)
{
	int threads = omp_get_max_threads();
	double adjacent_s[RUNS], padded_s[RUNS];
	long wrong = 0;

	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	omp_set_num_threads(threads);

	/* Alternate the two layouts, so that whatever else the machine is
	 * doing weighs on both alike. */
	for (int r = 0; r < RUNS; r++) {
		for (int t = 0; t < threads; t++)
			adjacent[t] = padded[t].value = 0;
		adjacent_s[r] = count_on(adjacent_counter);
		padded_s[r] = count_on(padded_counter);
		for (int t = 0; t < threads; t++)
			wrong += (adjacent[t] != INCREMENTS) + (padded[t].value != INCREMENTS);
	}

	double a = median(adjacent_s), p = median(padded_s);

	printf("%d thread%s, %ld increments each, median of %d runs\n",
	       threads, threads == 1 ? "" : "s", INCREMENTS, RUNS);
	printf("adjacent counters (one cache line): %.3f s\n", a);
	printf("padded counters (a line each):      %.3f s\n", p);
	printf("adjacent / padded: %.1f\n", a / p);
	return wrong ? 1 : 0;
}
