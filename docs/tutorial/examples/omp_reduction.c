/* Three correct ways to sum in an OpenMP loop, timed: chapter 7.
 *
 * Every iteration adds its term to one shared sum.  `critical` lets one
 * thread at a time into the addition, `atomic` makes the addition one
 * indivisible instruction, `reduction(+:sum)` gives each thread a private
 * sum and adds the private sums once, at the end of the loop.  All three
 * are correct; they differ in how often the threads meet on the shared
 * sum: once per iteration for the first two, once per thread for the
 * reduction.
 *
 * Build and run from the top of the repository:
 *     cc -O2 -Wall -Wextra -fopenmp -o build/omp_reduction \
 *        docs/tutorial/examples/omp_reduction.c
 *     build/omp_reduction
 *
 * It prints each variant's sum and the median of five runs.  Exit
 * status: 0 when the three sums equal the serial one, 1 otherwise.
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#define ITERATIONS 1000000L
#define RUNS 5

/* A term the compiler cannot fold into a formula. */
static long term(long i)
{
	return (i * i) % 1000;
}

static long sum_critical(void)
{
	long sum = 0;

#pragma omp parallel for
	for (long i = 0; i < ITERATIONS; i++) {
		long t = term(i);
#pragma omp critical
		sum += t;
	}
	return sum;
}

static long sum_atomic(void)
{
	long sum = 0;

#pragma omp parallel for
	for (long i = 0; i < ITERATIONS; i++) {
		long t = term(i);
#pragma omp atomic
		sum += t;
	}
	return sum;
}

static long sum_reduction(void)
{
	long sum = 0;

#pragma omp parallel for reduction(+:sum)
	for (long i = 0; i < ITERATIONS; i++)
		sum += term(i);
	return sum;
}

static long sum_serial(void)
{
	long sum = 0;

	for (long i = 0; i < ITERATIONS; i++)
		sum += term(i);
	return sum;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Runs one variant RUNS times; returns the median time, *sum the sum. */
static double median_time(long (*variant)(void), long *sum)
{
	double times[RUNS];

	for (int r = 0; r < RUNS; r++) {
		double start = omp_get_wtime();

		*sum = variant();
		times[r] = omp_get_wtime() - start;
	}
	qsort(times, RUNS, sizeof(times[0]), by_value);
	return times[RUNS / 2];
}

int main(void)
{
	static const struct {
		const char *name;
		long (*run)(void);
	} variants[] = {
		{ "serial", sum_serial },
		{ "critical", sum_critical },
		{ "atomic", sum_atomic },
		{ "reduction", sum_reduction },
	};
	int threads = omp_get_max_threads();
	long expected = 0;
	int wrong = 0;

	printf("sum of (i*i) %% 1000 for i < %ld, %d thread%s, median of %d runs\n",
	       ITERATIONS, threads, threads == 1 ? "" : "s", RUNS);
	for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
		long sum;
		double t = median_time(variants[v].run, &sum);

		if (v == 0)
			expected = sum;
		printf("%-10s sum %ld  %8.4f s%s\n", variants[v].name, sum, t,
		       sum == expected ? "" : "  WRONG");
		wrong += sum != expected;
	}
	return wrong ? 1 : 0;
}
