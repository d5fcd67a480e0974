/* Exercise 9: a token-bucket rate limit shared by threads. */
#ifndef EXERCISE_09_H
#define EXERCISE_09_H

struct bucket;

/* A bucket that holds at most `burst` tokens (>= 1), starts full, and
 * gains `rate` tokens per second (> 0).  NULL when out of memory. */
struct bucket *bucket_new(double rate, double burst);
void bucket_free(struct bucket *b);

/* Takes one token, waiting (asleep, not spinning) until there is one.
 * Thread-safe: any number of threads share one bucket, and together they
 * never get more than `burst` tokens at once plus `rate` per second. */
void bucket_take(struct bucket *b);

#endif
