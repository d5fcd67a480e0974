/* --trace FILE: which worker ran which task, and when (docs/timeline.md).
 *
 * The shared work functions (pl_square, pl_sleep_task, the folder
 * lookup) record their own events, so a model's file shows its model and
 * nothing of the tracing; a program only turns it on (pl_parse_args does,
 * for --trace FILE or PARLAB_TRACE=FILE) and the record is written as
 * Chrome Trace Event JSON when the program exits.
 *
 * Recording must not change what it measures: every worker, thread or
 * process, writes into blocks of its own in one shared mapping, taking a
 * new block with one atomic add per PL_TRACE_BLOCK_EVENTS events; no lock,
 * no system call, no allocation per event.  A process started afresh (a
 * process pool's worker) finds the mapping through the environment the
 * first time it records.  Events that find the mapping full are counted,
 * and the count is reported, never dropped silently.
 */
#ifndef PARLAB_TRACE_H
#define PARLAB_TRACE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct pl_options;

/* Events a worker takes room for at a time. */
#define PL_TRACE_BLOCK_EVENTS 1024

enum pl_trace_kind {
	PL_TRACE_TASK,          /* one task (task = its index) */
	PL_TRACE_LOOKUP,        /* folders: one id's lookup (task = the id) */
	PL_TRACE_FETCH,         /* folders: one HTTP request, inside a lookup */
	PL_TRACE_CACHE_WAIT,    /* folders: waiting for another's fetch */
	PL_TRACE_RATE_WAIT,     /* folders: waiting for a rate-limit token */
	PL_TRACE_RETRY,         /* folders: the back-off before a retry */
	PL_TRACE_KINDS
};

/* 0 until known, then 1 when this process traces, -1 when it does not.
 * Atomic: any thread may be the first to ask (a process pool's worker,
 * a client shared by threads); the acquire pairs with the release that
 * publishes the mapping. */
extern _Atomic int pl__trace_state;

/* Whether this run traces: a load and a compare when it does not. */
bool pl__trace_check(void);
static inline bool pl_trace_on(void)
{
	int state = atomic_load_explicit(&pl__trace_state, memory_order_acquire);

	return state > 0 || (state == 0 && pl__trace_check());
}

/* Whether this process is known not to trace: one load and one compare,
 * and no call, for the hot path of a work function (pl_square), which
 * then asks pl_trace_on() out of line when it is not known. */
static inline bool pl_trace_known_off(void)
{
	return atomic_load_explicit(&pl__trace_state, memory_order_relaxed) < 0;
}

/* Nanoseconds on the clock every worker of the run shares. */
uint64_t pl_trace_clock(void);

/* pl_trace_clock() at the start of a task; the calling worker takes its
 * row now if it has none, so that rows are numbered in the order the
 * workers started their first task. */
uint64_t pl_trace_start(void);

/* One event of the calling thread's worker, from t0 to t1 (pl_trace_clock
 * values); task is the task's index (or the id, for a lookup), detail a
 * small number the kind gives a meaning to (an HTTP status, an attempt). */
void pl_trace_record(enum pl_trace_kind kind, long task, long detail, uint64_t t0,
		     uint64_t t1);

/* A wait that only a model's own code sees (raw_threads' cache wait):
 * t0 = pl_trace_mark() before it, pl_trace_since(kind, task, t0) after.
 * Both cost a load and a compare when tracing is off. */
static inline uint64_t pl_trace_mark(void)
{
	return pl_trace_on() ? pl_trace_start() : 0;
}
static inline void pl_trace_since(enum pl_trace_kind kind, long task, uint64_t t0)
{
	if (t0)
		pl_trace_record(kind, task, 0, t0, pl_trace_clock());
}

/* Called by pl_parse_args: starts the trace of this run into path.  Exits
 * 2 with a message when path cannot be opened for writing. */
void pl_trace_begin(const char *path, const struct pl_options *opts, int argc, char **argv);

/* Called by the workloads' finish functions once the run's work is done
 * (before --check, whose serial recomputation is not the run): writes the
 * trace and stops recording.  0, or 1 after saying on stderr why the
 * file could not be written.  A program that exits another way (a fatal
 * error) still gets its trace, written at exit. */
int pl_trace_end(void);

#endif
