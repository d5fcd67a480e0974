/* Where the two ends of a ping-pong run.  A hand-off between two threads
 * or processes costs about 2 us on this kind of VM when both ends share a
 * core and 10 to 50 us across cores, so a figure measured wherever the
 * scheduler put its ends moved tenfold between runs.  Every latency figure
 * is therefore measured twice, both ends on one CPU and the two ends on two
 * CPUs, and every pin is read back: a figure never states a placement it
 * did not have (a wrong one exits 1 with a message).
 *
 * The CPUs are the first two of the mask the process started with, never
 * CPU 0 and 1 as such: under taskset or in a container those may not be
 * ours.  The end that keeps the clock (the caller) is "here", the other
 * end (the partner thread, the child, the pool's workers) "there". */
#ifndef PARLAB_PLACEMENT_H
#define PARLAB_PLACEMENT_H

#include <pthread.h>
#include <stddef.h>
#include <sys/types.h>

enum micro_where { MICRO_UNPINNED, MICRO_SAME_CORE, MICRO_CROSS_CORE };

struct micro_place {
	enum micro_where where;
	int here;               /* the caller's CPU */
	int there;              /* the other end's; == here on one core */
	const char *skipped;    /* why this placement cannot be had, or NULL */
};

/* Saves the mask the process runs with now (call before any pin; the
 * micro-benchmarks' micro_parse does) and gives the two placements; cross
 * is skipped when the mask holds one CPU. */
void micro_places(struct micro_place *same, struct micro_place *cross);

/* How many CPUs the saved mask holds. */
int micro_start_cpus(void);

/* "same-core", "cross-core", "unpinned": the JSON "placement". */
const char *micro_where_name(enum micro_where where);

/* "1", "1,3" or "" (unpinned): here first. */
void micro_place_cpus(const struct micro_place *pl, char *buf, size_t size);

/* Whether pl pins anything (NULL: no). */
int micro_pinned(const struct micro_place *pl);

/* Pins the calling thread to cpu, reads the mask back and checks that
 * the thread now runs there; exits 1 if any of it fails. */
void micro_pin_self(int cpu);

/* The calling thread back on the mask the process started with. */
void micro_unpin_self(void);

/* Pins thread or process id (all of a process's threads) to cpu and
 * reads it back; what names it in the message of a failure. */
void micro_pin_task(pid_t id, int cpu, const char *what);

/* Exits 1 unless the thread (id a tid) may run on cpu and nowhere else. */
void micro_expect_task(pid_t id, int cpu, const char *what);
void micro_expect_thread(pthread_t thread, int cpu, const char *what);

/* Threads of this process (/proc/self/task) or its live children (by
 * their parent pid: this kernel may lack /proc/PID/task/TID/children). */
#define MICRO_MAX_TASKS 64
struct micro_tasks {
	int n;
	pid_t id[MICRO_MAX_TASKS];
};
void micro_threads(struct micro_tasks *t);
void micro_children(struct micro_tasks *t);

/* The ids in now that are not in before: what a pool has just started. */
void micro_tasks_new(struct micro_tasks *fresh, const struct micro_tasks *before,
		     const struct micro_tasks *now);

#endif
