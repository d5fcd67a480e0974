/* Exercise 4: from a thread per task to a fixed pool. */
#ifndef EXERCISE_04_H
#define EXERCISE_04_H

/* Calls fn(i, ctx) once for every i in [0, n), on at most `workers`
 * threads in all, and returns when every call has returned.  fn may be
 * called from several threads at once.  Returns 0, or the error number
 * pthread_create gave when it could not create a thread (then it still
 * waits for the threads it did create before returning). */
int run_all(long n, int workers, void (*fn)(long i, void *ctx), void *ctx);

#endif
