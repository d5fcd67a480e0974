/* The squares workload (see squares_work.h): the seed's square(n).
 *
 * Results come back in input order (like executor.map), so the checksum
 * is order-sensitive: a model that puts a right value in the wrong slot
 * gets a different checksum.
 */
#define _GNU_SOURCE
#include "squares_work.h"
#include "trace.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "spin.h"
#include "stats.h"

/* Out of line, so that an untraced square costs one load and one
 * compare more than its work: the granularity sweep times squares of a
 * few nanoseconds. */
__attribute__((noinline, cold)) static int64_t square_maybe_traced(int64_t n, long work_us)
{
	uint64_t t0;

	if (!pl_trace_on()) {
		pl_spin_us(work_us);
		return n * n;
	}
	t0 = pl_trace_start();
	pl_spin_us(work_us);
	pl_trace_record(PL_TRACE_TASK, (long)n, 0, t0, pl_trace_clock());
	return n * n;
}

int64_t pl_square(int64_t n, long work_us)
{
	if (__builtin_expect(!pl_trace_known_off(), 0))
		return square_maybe_traced(n, work_us);
	pl_spin_us(work_us);
	return n * n;
}

int64_t *pl_squares_begin(const struct pl_options *opts)
{
	int64_t *results = calloc(opts->tasks > 0 ? (size_t)opts->tasks : 1,
				  sizeof(*results));

	if (!results)
		pl_die(opts, "out of memory for %ld results", opts->tasks);
	return results;
}

/* 64-bit FNV-1a over the values' bytes, least significant first, so that
 * the checksum is the same on every machine. */
static uint64_t checksum(const int64_t *v, long n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (long i = 0; i < n; i++) {
		uint64_t x = (uint64_t)v[i];

		for (int byte = 0; byte < 8; byte++) {
			h ^= (x >> (8 * byte)) & 0xff;
			h *= 0x100000001b3ULL;
		}
	}
	return h;
}

/* Python's print(list(...)): "[0, 1, 4]", and "[]" for none.  Stops at
 * the first write that fails: the rest would go nowhere either. */
static void print_list(const int64_t *v, long n)
{
	if (pl_printf("[") < 0)
		return;
	for (long i = 0; i < n; i++)
		if (pl_printf("%s%" PRId64, i ? ", " : "", v[i]) < 0)
			return;
	pl_puts("]");
}

/* Names the first slot that differs from the serial answer. */
static int check_results(const struct pl_options *opts, const int64_t *v)
{
	for (long i = 0; i < opts->tasks; i++) {
		int64_t want = pl_square(i, 0);

		if (v[i] != want) {
			fprintf(stderr, "%s: check failed: result %ld is %" PRId64
				", expected %" PRId64 "\n",
				opts->program->name, i, v[i], want);
			return 1;
		}
	}
	return 0;
}

int pl_squares_finish(const struct pl_options *opts, int64_t *results)
{
	int status;

	if (opts->print)
		print_list(results, opts->tasks);
	else
		pl_printf("%s: %ld results, checksum 0x%016llx, wall %.3f s\n",
			  opts->program->name, opts->tasks,
			  (unsigned long long)checksum(results, opts->tasks),
			  pl_now() - opts->start);
	/* Results that did not arrive were not delivered: status 1. */
	status = pl_output_flush(opts);
	/* Before the check, so that the figures are the run's, not the
	 * checker's. */
	if (opts->stats)
		pl_print_stats(stderr, opts->program->name, opts->start);
	if (pl_trace_end() != 0)
		status = 1;
	if (opts->check && check_results(opts, results) != 0)
		status = 1;
	free(results);
	return status;
}
