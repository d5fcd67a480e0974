/* CPU time of a whole process (all its threads), in ns, read from /proc
 * so that it works for processes that are not this one's children (the
 * MPI backend's workers are children of Open MPI's launcher). */
#ifndef PARLAB_MPI_CPU_TIME_H
#define PARLAB_MPI_CPU_TIME_H

#include <sys/types.h>

/* User + system ns of every thread of pid so far: the scheduler's own
 * count (/proc/PID/task/TID/schedstat, ns), or /proc/PID/stat's clock
 * ticks where schedstat is missing.  -1 when pid cannot be read. */
double cpu_ns_of(pid_t pid);

#endif
