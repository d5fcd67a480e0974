/* Other processes seen through /proc, which works for processes that are
 * not this one's children (the MPI backend's workers and the floor's peer
 * are children of Open MPI's launcher): their CPU time, and their end. */
#ifndef PARLAB_MPI_CPU_TIME_H
#define PARLAB_MPI_CPU_TIME_H

#include <stdbool.h>
#include <sys/types.h>

/* User + system ns of every thread of pid so far: the scheduler's own
 * count (/proc/PID/task/TID/schedstat, ns), or /proc/PID/stat's clock
 * ticks where schedstat is missing.  -1 when pid cannot be read. */
double cpu_ns_of(pid_t pid);

/* Waits until pid has ended (gone, or a zombie its parent has yet to
 * reap), at most bound_s seconds; false if it is still running then. */
bool wait_gone(pid_t pid, double bound_s);

#endif
