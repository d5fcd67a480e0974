/* Timing and the --stats JSON line.
 *
 * Threads and processes created are counted by the program itself (the OS
 * keeps no such counter once they are gone): each model calls
 * pl_count_threads()/pl_count_processes() where it creates them, and the
 * executor programs add what the library reports.
 */
#ifndef PARLAB_STATS_H
#define PARLAB_STATS_H

#include <stdio.h>

/* Monotonic seconds. */
double pl_now(void);

/* Thread-safe and async-signal-safe counters. */
void pl_count_threads(long n);
void pl_count_processes(long n);

/* Prints one JSON line on `out`: wall (since `start`), user and sys seconds
 * and max RSS of this process and its waited-for children, threads and
 * processes created, voluntary and involuntary context switches. */
void pl_print_stats(FILE *out, const char *program, double start);

#endif
