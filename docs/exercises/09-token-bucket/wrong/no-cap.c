/* A WRONG solution of exercise 9, kept to prove that the checker sees it.
 *
 * What is wrong: it adds the tokens earned since the last call without
 * capping them at `burst`.  While the bucket is busy nothing shows, but
 * after an idle spell it has saved up tokens for all the time it sat
 * unused (30 of them after 0.3 s at 100/s), and lets that many requests
 * through at once: the burst the limit exists to prevent.  A bucket
 * holds at most `burst` tokens, however long it waits.
 * Caught by: an idle bucket holds at most `burst` tokens
 */
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
	b->tokens += (t - b->last) * b->rate;   /* the mistake: no cap at burst */
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
