/* The future's structure and state machine, private to future.c (its life
 * and state) and future_wait.c (waiting on it, and the public API that
 * reads it).  Everything else goes through core/future.h.
 *
 * States, each changed under the future's lock:
 *
 *   PENDING   queued; cf_future_cancel may still stop it.
 *   RUNNING   a worker took it (cf__future_start); it can no longer be
 *             cancelled.
 *   FINISHED  done with an outcome: CF_OK (the payload is the result),
 *             CF_TASK_FAILED (error is set), CF_BROKEN or CF_SHUTDOWN
 *             (abandoned: it never ran or its worker was lost).
 *   CANCELLED done without running.
 *
 * PENDING -> RUNNING -> FINISHED, PENDING -> CANCELLED, and PENDING ->
 * FINISHED when abandoned.  Once done nothing changes, so a thread that
 * saw `finished` set (acquire) reads the state, outcome, payload and error
 * without the lock.
 */
#ifndef CF_CORE_FUTURE_IMPL_H
#define CF_CORE_FUTURE_IMPL_H

#include "core/alive.h"
#include "core/future.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

enum cf_future_state {
	CF_STATE_PENDING,
	CF_STATE_RUNNING,
	CF_STATE_CANCELLED,
	CF_STATE_FINISHED,
};

struct cf_callback {
	cf_done_fn fn;
	void *arg;
	struct cf_callback *next;
};

/* A future has no mutex or condition variable of its own: it borrows one
 * of a fixed table of them (a stripe), chosen by its address.  A pthread
 * mutex and condvar are 88 bytes to initialise and destroy per task, and
 * a million live futures would carry 88 MB of them.
 *
 * Its size is the cost of a submit: a million queued futures are a
 * million fresh allocations, page faults and cache lines, so fields are
 * packed into 96 bytes (a 112-byte malloc chunk; docs/api.md has the
 * measurement): small enums as bytes, and one buffer for the argument and
 * then the result. */
struct cf_future {
	struct cf_link link;             /* the backend's queue: first member */
	unsigned magic;
	atomic_int refs;                 /* the caller's and the executor's */
	/* First the task's argument, then its result: nothing reads the
	 * argument once the task has run (the process pool takes it away
	 * when it sends the task; cf__future_finish frees what is left). */
	alignas(max_align_t) struct cf_bytes payload;
	int waiting;                     /* threads in cf_future_result & co. */
	unsigned spin_ns;                /* the executor's result spin */
	unsigned char state;             /* enum cf_future_state */
	unsigned char outcome;           /* cf_status, once FINISHED */
	atomic_bool caller_released;
	atomic_bool finished;            /* done: for readers without the lock */
	unsigned char flags;             /* CF_FUTURE_STREAMED */
	unsigned char wait_help;         /* index of a wait helper, 0: none */

	cf_fn fn;
	cf_error *error;
	struct cf_callback *callbacks;
	struct cf_waiter_link *waiters;
	_Atomic(void *) backend_data;    /* free for the backend's use */
};

/* 256 stripes: with a handful of threads touching futures at once, two
 * of them rarely meet on one.  Each has the condition variable on which
 * callers of cf_future_result wait for any future of the stripe; a caller
 * woken for another future of its stripe finds its own not done and
 * sleeps again.  Aligned to a cache line so that neighbours do not share
 * one. */
#define CF_STRIPE_BITS 8

struct cf_stripe {
	pthread_mutex_t lock;
	pthread_cond_t done_cond;
} __attribute__((aligned(64)));

extern struct cf_stripe cf__stripes[1u << CF_STRIPE_BITS];

/* Fibonacci hashing of the address: futures allocated one after another
 * land on different stripes. */
static inline struct cf_stripe *cf__stripe_of(const cf_future *f)
{
	uint64_t h = (uint64_t)((uintptr_t)f >> 4) * 0x9e3779b97f4a7c15ull;

	return &cf__stripes[h >> (64 - CF_STRIPE_BITS)];
}

/* What a caller is told about a done future.  Read under its lock, or
 * without it once `finished` was seen set. */
static inline cf_status cf__outcome_of(const cf_future *f)
{
	return f->state == CF_STATE_CANCELLED ? CF_CANCELLED : (cf_status)f->outcome;
}

static inline bool cf__is_done(const cf_future *f)
{
	return f->state == CF_STATE_CANCELLED || f->state == CF_STATE_FINISHED;
}

/* The helper registered under index i (future.c), or NULL. */
cf_wait_help_fn cf__wait_help_of(unsigned i);

#endif
