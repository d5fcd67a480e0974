/* The client-side rate limit of the folders programs: one token bucket
 * shared by every worker of a run.
 *
 * A bucket holds at most `burst` tokens and gains `rate` tokens a second.
 * A request spends one.  This version *reserves*: pl_token_bucket_reserve()
 * always takes the token, letting the count go below zero, and says how
 * long the caller must wait until that token exists.  So the caller holds
 * the bucket's lock only for a few arithmetic operations and sleeps with
 * no lock held, and the waiting requests leave in the order they reserved.
 * Over any interval of T seconds at most burst + rate * T requests leave.
 *
 * The bucket itself takes no lock: how several workers share it is each
 * model's business and the point of comparing them (a pthread mutex, an
 * OpenMP critical section, a process-shared mutex in a shared mapping, or
 * one thread that paces everybody).
 */
#ifndef PARLAB_TOKEN_BUCKET_H
#define PARLAB_TOKEN_BUCKET_H

struct pl_token_bucket {
	double rate;            /* tokens per second; 0: no limit */
	double burst;           /* most tokens it holds, at least 1 */
	double tokens;          /* below 0 when requests have reserved ahead */
	double last;            /* pl_now() of the last refill */
};

/* A full bucket: `burst` requests may leave at once, then `rate` a
 * second.  rate 0 turns the limit off. */
void pl_token_bucket_init(struct pl_token_bucket *b, double rate, long burst);

/* Takes one token at time `now` (pl_now()) and returns the seconds to
 * wait before using it: 0 when one was there.  Not locked. */
double pl_token_bucket_reserve(struct pl_token_bucket *b, double now);

/* Sleeps `seconds` (nothing for 0 or less), resuming after signals: the
 * wait for a token, which --trace records as a rate-limit wait. */
void pl_sleep_s(double seconds);

#endif
