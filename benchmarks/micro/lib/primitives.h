/* The floors: what the primitives under each model cost by themselves,
 * measured the same way wherever a benchmark needs one.  Each returns ns
 * per operation over `iterations` operations.  A ping-pong runs its two
 * ends where pl says (placement.h; NULL: unpinned) and leaves the caller
 * on its start mask again. */
#ifndef PARLAB_PRIMITIVES_H
#define PARLAB_PRIMITIVES_H

#include "placement.h"

/* A mutex + condition variable ping-pong between two threads: one round
 * trip = the turn handed over and back. */
double floor_condvar_round_trip_ns(long iterations, const struct micro_place *pl);

/* A raw futex ping-pong between two threads (no mutex): one round trip. */
double floor_futex_round_trip_ns(long iterations, const struct micro_place *pl);

/* An atomic flag bounced between two spinning threads: the cost of moving
 * one cache line between cores and back.  A waiting end yields its CPU
 * after 1024 polls, which only matters when both share one core. */
double floor_cache_line_round_trip_ns(long iterations, const struct micro_place *pl);

/* One byte over a pipe to another process and one byte back. */
double floor_pipe_round_trip_ns(long iterations, const struct micro_place *pl);

/* pthread_create + pthread_join of a thread that does nothing. */
double floor_thread_create_join_ns(long iterations);

/* fork + _exit + waitpid of a child that does nothing. */
double floor_fork_wait_ns(long iterations);

/* How long nanosleep(us) really takes, in ns (timer slack shows here). */
double floor_nanosleep_ns(long us, long iterations);

#endif
