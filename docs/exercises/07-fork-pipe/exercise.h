/* Exercise 7: results from forked children through a pipe, and a crash. */
#ifndef EXERCISE_07_H
#define EXERCISE_07_H

/* Computes results[i] = work(i) for every i in [0, n) in `workers` forked
 * child processes (never more children than items).  Child k computes
 * the items i with i % workers == k and sends one record (i, value) per
 * item up ONE pipe shared by all children; the parent reads records as
 * they come and sets done[i] = 1 for each.  A child may crash (work()
 * may kill it); the others must still deliver everything they computed.
 * Returns the number of children that failed (killed by a signal, or an
 * exit status other than 0), after every child has been reaped. */
int run_forked(long n, int workers, long (*work)(long i), long *results, unsigned char *done);

#endif
