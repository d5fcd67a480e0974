/* Exercise 9, a reference solution: a token bucket, shared by threads.
 *
 * The bucket refills lazily: no timer thread; whoever takes a token first
 * adds the tokens earned since the last look (rate x elapsed, capped at
 * `burst`).  A taker that finds less than one token does not wait for
 * "a token" in a loop; it RESERVES one: the count may go negative, and
 * -tokens / rate is exactly how long until its token exists.  It sleeps
 * that long without the lock, so sleepers never block each other, and
 * reservations are granted in the order they were made.  Time comes from
 * CLOCK_MONOTONIC, which never jumps. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "exercise.h"

struct bucket {
	pthread_mutex_t lock;
	double rate;
	double burst;
	double tokens;          /* may go below 0: tokens promised to sleepers */
	double last;            /* when tokens was last brought up to date */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct bucket *bucket_new(double rate, double burst)
{
	struct bucket *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	pthread_mutex_init(&b->lock, NULL);
	b->rate = rate;
	b->burst = burst;
	b->tokens = burst;
	b->last = now();
	return b;
}

void bucket_free(struct bucket *b)
{
	pthread_mutex_destroy(&b->lock);
	free(b);
}

void bucket_take(struct bucket *b)
{
	pthread_mutex_lock(&b->lock);
	double t = now();
	b->tokens += (t - b->last) * b->rate;
	if (b->tokens > b->burst)
		b->tokens = b->burst;
	b->last = t;
	b->tokens -= 1;
	double wait = b->tokens < 0 ? -b->tokens / b->rate : 0;
	pthread_mutex_unlock(&b->lock);

	if (wait > 0) {
		struct timespec ts = { (time_t)wait, (long)((wait - (time_t)wait) * 1e9) };
		while (nanosleep(&ts, &ts) != 0)
			;
	}
}
