/* The checker of exercise 9: threads share one bucket; every grant is
 * timestamped, and the checker looks at bursts, rates, every window, and
 * the CPU the waiting cost. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "check.h"
#include "exercise.h"

#define MAX_GRANTS 4096

static double grants[MAX_GRANTS];
static atomic_int n_grants;

struct taker {
	struct bucket *b;
	int count;
};

/* Microseconds the taking threads were running or ready to run, in all. */
static atomic_long busy_us;

static void *take_some(void *arg)
{
	struct taker *t = arg;
	struct check_wait w;

	check_wait_begin(&w);
	for (int k = 0; k < t->count; k++) {
		bucket_take(t->b);
		int i = atomic_fetch_add(&n_grants, 1);
		if (i < MAX_GRANTS)
			grants[i] = check_now();
	}
	check_wait_end(&w);
	atomic_fetch_add(&busy_us, (long)(w.busy * 1e6));
	return NULL;
}

/* `threads` threads take `each` tokens each; returns the elapsed time. */
static double run(struct bucket *b, int threads, int each)
{
	pthread_t t[64];
	struct taker tk = { b, each };
	double t0 = check_now();

	atomic_store(&n_grants, 0);
	for (int k = 0; k < threads; k++)
		pthread_create(&t[k], NULL, take_some, &tk);
	for (int k = 0; k < threads; k++)
		pthread_join(t[k], NULL);
	return check_now() - t0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void burst_at_once(void)
{
	struct bucket *b = bucket_new(10, 5);

	CHECK(b, "bucket_new failed");
	double took = run(b, 5, 1);
	CHECK(took < 0.05, "a full bucket of 5 tokens: 5 threads should get one each at once, "
	      "but it took %.3f s", took);
	bucket_free(b);
}

static void steady_rate(void)
{
	struct bucket *b = bucket_new(200, 1);
	double cpu0 = check_cpu_seconds();
	double took = run(b, 4, 15);            /* 60 tokens: 1 at once, 59 at 200/s */
	double cpu = check_cpu_seconds() - cpu0;
	double busy = atomic_load(&busy_us) / 1e6 / 4;

	CHECK(took > 0.25, "60 tokens at 200 per second (burst 1) came in %.3f s; a rate "
	      "limit shared by 4 threads needs about 0.3 s", took);
	CHECK(took < 0.45, "60 tokens at 200 per second (burst 1) took %.3f s; expected about "
	      "0.3 s (is the rate per thread instead of per bucket, or a fixed sleep?)", took);
	/* Asleep, a thread costs a few milliseconds however long it waits;
	 * spinning, it is running or ready to run all the time, however
	 * loaded the machine (see check_thread_busy_seconds). */
	CHECK(cpu < 0.1 && busy <= check_wait_allowed(took),
	      "the 4 threads waited %.3f s for their tokens; they used %.3f s of CPU, and each "
	      "was\n    running or ready to run for %.3f s on average (at most 0.1 s of CPU "
	      "and %.3f s\n    each allowed).  A thread that waits for a token must sleep "
	      "until it is due (the\n    bucket can compute when), not spin asking for one",
	      took, cpu, busy, check_wait_allowed(took));
	bucket_free(b);
}

static void every_window(void)
{
	const double rate = 100, burst = 5, window = 0.1;
	struct bucket *b = bucket_new(rate, burst);

	run(b, 8, 10);                          /* 80 tokens */
	int n = atomic_load(&n_grants);
	qsort(grants, n, sizeof(grants[0]), cmp);
	int allowed = (int)(burst + rate * window) + 2;  /* + timing jitter */
	for (int i = 0, j = 0; i < n; i++) {
		while (grants[i] - grants[j] > window)
			j++;
		CHECK(i - j + 1 <= allowed, "%d tokens were granted within %.0f ms; a bucket of "
		      "rate %.0f/s and burst %.0f allows at most %d", i - j + 1, window * 1000,
		      rate, burst, allowed);
	}
	bucket_free(b);
}

static void no_hoarding(void)
{
	struct bucket *b = bucket_new(100, 3);

	check_sleep_ms(300);                    /* idle: the bucket must not grow past 3 */
	atomic_store(&n_grants, 0);
	struct taker tk = { b, 6 };
	double t0 = check_now();
	take_some(&tk);
	CHECK(grants[2] - t0 < 0.02, "the first 3 tokens (a full bucket) should come at once; "
	      "the third came after %.3f s", grants[2] - t0);
	CHECK(grants[3] - t0 > 0.006, "after an idle spell, a bucket of burst 3 holds 3 tokens, "
	      "not more: the fourth came after only %.4f s.\n    Tokens earned while "
	      "nobody asked must be capped at `burst` when they are added,\n    or an idle "
	      "bucket lets through the very burst it exists to prevent", grants[3] - t0);
	CHECK(grants[5] - t0 > 0.025, "tokens 4 to 6 must come at 100/s (about 30 ms), "
	      "they came within %.4f s", grants[5] - t0);
	bucket_free(b);
}

static void fast_and_fine(void)
{
	struct bucket *b = bucket_new(5000, 1);
	double took = run(b, 4, 250);           /* 1000 tokens at 5000/s: 0.2 s */

	CHECK(took > 0.17 && took < 0.4, "1000 tokens at 5000/s took %.3f s, expected about "
	      "0.2 s: a wait must be as precise as 0.2 ms, not a fixed sleep", took);
	bucket_free(b);
}

int main(void)
{
	check_begin("09-token-bucket");
	check_run("a full bucket lets a burst through at once", burst_at_once, 5);
	check_run("4 threads share one rate of 200/s, asleep", steady_rate, 10);
	check_run("no 100 ms window gets more than burst + rate x 0.1 s tokens",
		  every_window, 10);
	check_run("an idle bucket holds at most `burst` tokens", no_hoarding, 5);
	check_run("a high rate (5000/s) is kept precisely", fast_and_fine, 2);
	return check_end();
}
