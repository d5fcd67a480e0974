/* The sleep workload (see sleep_work.h): the seed's task(n).
 *
 * Completion order is the point of this workload, so nothing here depends
 * on it: the checksum is a sum of per-message hashes and --check compares
 * the messages as a multiset.
 */
#define _GNU_SOURCE
#include "sleep_work.h"
#include "trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spin.h"
#include "stats.h"

long pl_sleep_seconds(long index)
{
	static const long seed[] = { 3, 1, 2 };

	return seed[(index % 3 + 3) % 3];
}

/* nanosleep() returns early when a signal arrives (a profiler, a child
 * exiting); go on sleeping for what is left so the task lasts as long as
 * it says. */
static void sleep_for(double seconds)
{
	struct timespec left, rest;

	if (!(seconds > 0))
		return;
	left.tv_sec = (time_t)seconds;
	left.tv_nsec = (long)((seconds - (double)left.tv_sec) * 1e9);
	if (left.tv_nsec > 999999999L)
		left.tv_nsec = 999999999L;
	while (nanosleep(&left, &rest) == -1 && errno == EINTR)
		left = rest;
}

void pl_sleep_task(long index, double scale, long work_us, char *out)
{
	long seconds = pl_sleep_seconds(index);
	uint64_t t0 = pl_trace_on() ? pl_trace_start() : 0;

	sleep_for((double)seconds * scale);
	pl_spin_us(work_us);
	snprintf(out, PL_SLEEP_MSG_MAX, "Task %ld completed", seconds);
	if (t0)
		pl_trace_record(PL_TRACE_TASK, index, 0, t0, pl_trace_clock());
}

/* 64-bit FNV-1a of a string. */
static uint64_t hash_message(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

void pl_sleep_begin(struct pl_sleep_results *r, const struct pl_options *o)
{
	*r = (struct pl_sleep_results) { .opts = o };
	if (!o->check)
		return;
	r->messages = calloc(o->tasks > 0 ? (size_t)o->tasks : 1, PL_SLEEP_MSG_MAX);
	if (!r->messages)
		pl_die(o, "out of memory for %ld results", o->tasks);
}

void pl_sleep_collect(struct pl_sleep_results *r, const char *message)
{
	char msg[PL_SLEEP_MSG_MAX];

	snprintf(msg, sizeof(msg), "%s", message);
	if (r->opts->print) {
		/* At once, even into a pipe: the order of arrival is the lesson. */
		pl_puts(msg);
		/* The first line that cannot be written is reported now, the
		 * later ones are not even tried, and pl_sleep_finish() makes
		 * the status 1.  Not exit(1) here: this may be a worker thread
		 * (OpenMP), and the model's threads, processes and pool must
		 * still be joined and shut down by the model itself. */
		pl_output_flush(r->opts);
	}
	r->checksum += hash_message(msg);
	/* Surplus results are counted, not stored: --check reports them. */
	if (r->messages && r->count < r->opts->tasks)
		memcpy(r->messages[r->count], msg, sizeof(msg));
	r->count++;
}

static int compare_messages(const void *a, const void *b)
{
	return strcmp(a, b);
}

static long count_equal(char (*m)[PL_SLEEP_MSG_MAX], long n, const char *s)
{
	long count = 0;

	for (long i = 0; i < n; i++)
		count += strcmp(m[i], s) == 0;
	return count;
}

/* Sorts what came and what should have come, and names the first message
 * whose number of occurrences differs.  Returns 0 when they are equal. */
static int check_messages(struct pl_sleep_results *r)
{
	const struct pl_options *o = r->opts;
	char (*want)[PL_SLEEP_MSG_MAX];
	char (*got)[PL_SLEEP_MSG_MAX] = r->messages;
	long n = o->tasks;
	int status = 0;

	if (r->count != n) {
		fprintf(stderr, "%s: check failed: %ld results, expected %ld\n",
			o->program->name, r->count, n);
		return 1;
	}
	want = calloc(n > 0 ? (size_t)n : 1, PL_SLEEP_MSG_MAX);
	if (!want)
		pl_die(o, "out of memory for --check");
	for (long i = 0; i < n; i++)
		snprintf(want[i], PL_SLEEP_MSG_MAX, "Task %ld completed",
			 pl_sleep_seconds(i));
	qsort(got, (size_t)n, PL_SLEEP_MSG_MAX, compare_messages);
	qsort(want, (size_t)n, PL_SLEEP_MSG_MAX, compare_messages);
	for (long i = 0; i < n; i++) {
		int cmp = strcmp(got[i], want[i]);
		const char *first;

		if (cmp == 0)
			continue;
		first = cmp < 0 ? got[i] : want[i];
		fprintf(stderr, "%s: check failed: \"%s\" came %ld times, expected %ld\n",
			o->program->name, first, count_equal(got, n, first),
			count_equal(want, n, first));
		status = 1;
		break;
	}
	free(want);
	return status;
}

int pl_sleep_finish(struct pl_sleep_results *r)
{
	const struct pl_options *o = r->opts;
	int status;

	if (!o->print)
		pl_printf("%s: %ld results, checksum 0x%016llx, wall %.3f s\n",
			  o->program->name, r->count, (unsigned long long)r->checksum,
			  pl_now() - o->start);
	status = pl_output_flush(o);
	/* Before the check, so that the figures are the run's, not the
	 * checker's. */
	if (o->stats)
		pl_print_stats(stderr, o->program->name, o->start);
	if (pl_trace_end() != 0)
		status = 1;
	if (o->check && check_messages(r) != 0)
		status = 1;
	free(r->messages);
	r->messages = NULL;
	return status;
}
