/* Exercise 5: make an OpenMP loop scale by choosing the schedule. */
#ifndef EXERCISE_05_H
#define EXERCISE_05_H

/* One cell of the result, given by the checker.  Its cost grows with i:
 * cell(i) takes about 20 * i microseconds. */
double cell(long i);

/* Fills out[i] = cell(i) for every i in [0, n) with an OpenMP parallel
 * loop on exactly `threads` threads, so that every thread gets about the
 * same amount of WORK (not the same number of iterations). */
void fill(double *out, long n, int threads);

#endif
