/* Exercise 9: a token-bucket rate limit shared by threads.
 *
 * The seed tutorial "rate-limits" its API calls with
 *
 *     time.sleep(0.1)  # rate limit
 *
 * in every thread, before each call.  That is what this file does.  It
 * is not a rate limit: five threads that each sleep 0.1 s still call five
 * times at once, the rate grows with the number of threads, and a bucket
 * that should let a burst through delays even the first call.
 * Statement: docs/exercises/09-token-bucket/README.md
 * Check it:  make exercise EX=9
 */
#include <stdlib.h>
#include <time.h>

#include "exercise.h"

struct bucket {
	double rate;
	double burst;
	/* TODO: what the threads must share: tokens, when they were last
	 * counted, and a lock. */
};

struct bucket *bucket_new(double rate, double burst)
{
	struct bucket *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->rate = rate;
	b->burst = burst;
	return b;
}

void bucket_free(struct bucket *b)
{
	free(b);
}

void bucket_take(struct bucket *b)
{
	/* TODO: a real token bucket.  This is the tutorial's sleep. */
	(void)b;
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	nanosleep(&ts, NULL);
}
