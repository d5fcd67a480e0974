/* The worker side of the process backend. */
#ifndef CF_PROCESS_WORKER_H
#define CF_PROCESS_WORKER_H

/* Serves tasks and exits when this process was started as a worker of a
 * process pool; returns at once otherwise.  Runs as a constructor, before
 * main(). */
void cf__process_worker_entry(void);

#endif
