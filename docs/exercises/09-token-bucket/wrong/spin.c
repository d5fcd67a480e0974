/* A WRONG solution of exercise 9, kept to prove that the checker sees it.
 *
 * What is wrong: a thread that finds the bucket empty lets go of the lock
 * and tries again at once, until a token has dripped in.  The rate is
 * kept exactly, but every waiting thread spins: four threads waiting for
 * tokens at 200 per second keep every core of the machine busy doing
 * nothing.  The bucket knows when the next token is due: sleep until
 * then.
 * Caught by: 4 threads share one rate of 200/s, asleep
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "exercise.h"

struct bucket {
	pthread_mutex_t lock;
	double rate;
	double burst;
	double tokens;
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
	for (;;) {                      /* the mistake: nothing here sleeps */
		pthread_mutex_lock(&b->lock);
		double t = now();
		b->tokens += (t - b->last) * b->rate;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
		b->last = t;
		if (b->tokens >= 1) {
			b->tokens -= 1;
			pthread_mutex_unlock(&b->lock);
			return;
		}
		pthread_mutex_unlock(&b->lock);
	}
}
