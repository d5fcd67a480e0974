/* The token bucket of token_bucket.h: arithmetic only, no lock. */
#define _GNU_SOURCE
#include "token_bucket.h"

#include <errno.h>
#include <math.h>
#include <time.h>

#include "stats.h"
#include "trace.h"

void pl_token_bucket_init(struct pl_token_bucket *b, double rate, long burst)
{
	b->rate = rate > 0 ? rate : 0;
	b->burst = burst >= 1 ? (double)burst : 1;
	b->tokens = b->burst;
	b->last = pl_now();
}

double pl_token_bucket_reserve(struct pl_token_bucket *b, double now)
{
	if (b->rate <= 0)
		return 0;
	/* Refill for the time since the last call, never beyond burst: a
	 * bucket left alone for a minute must not allow a minute's worth of
	 * requests at once. */
	if (now > b->last) {
		b->tokens = fmin(b->burst, b->tokens + (now - b->last) * b->rate);
		b->last = now;
	}
	b->tokens -= 1;
	return b->tokens >= 0 ? 0 : -b->tokens / b->rate;
}

void pl_sleep_s(double seconds)
{
	struct timespec ts;

	if (!(seconds > 0))
		return;
	uint64_t t0 = pl_trace_on() ? pl_trace_start() : 0;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	if (ts.tv_nsec > 999999999L)
		ts.tv_nsec = 999999999L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	if (t0)
		pl_trace_record(PL_TRACE_RATE_WAIT, -1, 0, t0, pl_trace_clock());
}
