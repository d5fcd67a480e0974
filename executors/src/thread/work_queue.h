/* The thread backend's work queue: how futures go from submitters to
 * workers, and how a worker with nothing to do sleeps and is woken.
 * pool.c starts and joins the threads; this is the protocol between them.
 *
 * A submit pushes onto a lock-free queue (base/mpsc.h), a whole burst of
 * futures with one exchange when a map submits several, and takes the
 * lock only to wake a sleeping worker: submits do not wait on the
 * workers' pops, nor on a worker preempted in the middle of one.  The
 * workers pop one at a time under the lock, which also makes them the
 * queue's single consumer.
 *
 * One mutex, `lock`, guards the workers' side (popping, and the decision
 * to sleep) and the pool's thread bookkeeping; two condition variables go
 * with it: idle workers sleep on `work_cond`, and submitters wait on
 * `space_cond` for room in a bounded queue (or for the pool's first
 * thread to start).  A name ending in _locked means the caller holds the
 * lock.
 *
 * Invariants.  Each pairing below is Dekker's pattern: each side writes
 * its own counter, then reads the other's, with sequentially consistent
 * atomics, so at least one of the two sees the other.
 *
 *  1. Counted, then linked.  A submit raises `pushed` before it links the
 *     future in; a worker raises `popped` (under the lock) after it took
 *     one out.  So pushed - popped (cf__wq_queued) never goes below zero,
 *     counts every future queued or on its way in, and a pop that finds
 *     nothing while the count is positive is a push half done: the worker
 *     waits for the link, which is a few instructions away.
 *
 *  2. No worker sleeps while a task waits.  A worker raises `idle`, then
 *     reads the count, and sleeps only if it is zero, in one critical
 *     section; a submit raises `pushed`, then reads `idle`, and if a
 *     sleeper has no wake-up meant for it yet, takes the lock and sends
 *     one.  Either the worker sees the task, or the submit sees the
 *     worker, and by the time the submit holds the lock the worker is
 *     waiting on work_cond, so the signal reaches it.
 *     `signalled` counts wake-ups sent and not yet taken, and `spinning`
 *     the workers polling the count before they sleep: a submit wakes a
 *     sleeper only for tasks these will not take, since every redundant
 *     signal is a futex system call.  All three change under the lock
 *     only, and 0 <= signalled <= idle whenever the lock is free: a
 *     wake-up is claimed only for a sleeper that has none, and a sleeper
 *     that wakes takes one back.  At most max_spinning workers spin.
 *
 *  3. No worker leaves while an admitted submit still pushes.  A submit
 *     raises `submitting`, then reads `shutdown` and `broken` (the gate:
 *     cf__wq_enter); closing sets one of them, then waits until
 *     `submitting` is zero.  Either the submit sees the flag and backs
 *     out, or closing waits for its push to end.  Every push happens
 *     inside the gate.  After the wait nothing more comes, so the queue's
 *     contents are final: cf__wq_close may take them all, and a worker
 *     that finds the pool closing and the count at zero may leave.
 *
 * With -DCF_DEBUG these are checked (CF_DEBUG_ASSERT) where they must
 * hold.
 *
 * Lock order: the queue's lock before a future's (core/future.h).
 */
#ifndef CF_THREAD_WORK_QUEUE_H
#define CF_THREAD_WORK_QUEUE_H

#include "base/annotate.h"
#include "base/link.h"
#include "base/mpsc.h"
#include "cf.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* Fields are laid out by who writes them, each group on cache lines of
 * its own, so that one side's writes do not slow the other's reads. */
struct cf_work_queue {
	struct cf_mpsc queue;

	/* Read by every submit, written once: lines that stay shared. */
	alignas(64) atomic_bool shutdown;
	atomic_bool broken;
	size_t max_queued;              /* 0: unbounded */

	/* Written by every submit, without the lock. */
	alignas(64) atomic_size_t pushed;
	alignas(64) atomic_int submitting;      /* submits let in, still pushing */

	/* The workers' side. */
	alignas(64) pthread_mutex_t lock;
	atomic_size_t popped;           /* written under the lock */

	/* Changed when a worker goes to sleep, wakes or spins; read by a
	 * submit to decide whether to wake one. */
	alignas(64) atomic_int idle;    /* asleep on work_cond */
	atomic_int signalled;           /* wake-ups sent, not yet taken */
	atomic_int spinning;            /* polling the queue before sleeping */

	alignas(64) pthread_cond_t work_cond;   /* idle workers wait here */
	pthread_cond_t space_cond;      /* submitters wait here */
	int idle_spin_us;               /* how long a worker polls; 0: never */
	int max_spinning;               /* workers polling at once */
};

/* An empty, open queue; 0 or the errno of the lock or condition variable
 * that could not be made (nothing is left to destroy then). */
int cf__wq_init(struct cf_work_queue *q, size_t max_queued, int idle_spin_us);
/* Once no thread uses q any more. */
void cf__wq_destroy(struct cf_work_queue *q);

static inline void cf__wq_lock(struct cf_work_queue *q)
{
	int rc = pthread_mutex_lock(&q->lock);

	CF_DEBUG_ASSERT(rc == 0);
	(void)rc;
}

static inline void cf__wq_unlock(struct cf_work_queue *q)
{
	int rc = pthread_mutex_unlock(&q->lock);

	CF_DEBUG_ASSERT(rc == 0);
	(void)rc;
}

/* Futures queued or on their way in (invariant 1).  popped is read first:
 * pushed only grows, so the difference cannot come out negative. */
static inline size_t cf__wq_queued(struct cf_work_queue *q)
{
	size_t popped = atomic_load(&q->popped);
	size_t pushed = atomic_load(&q->pushed);

	CF_DEBUG_ASSERT(pushed >= popped);
	return pushed - popped;
}

static inline bool cf__wq_bounded(const struct cf_work_queue *q)
{
	return q->max_queued != 0;
}

/* Why the queue refuses futures: CF_BROKEN, CF_SHUTDOWN, or CF_OK while
 * it is open.  Broken wins, as it is the more useful thing to tell. */
static inline cf_status cf__wq_closed(struct cf_work_queue *q)
{
	if (atomic_load(&q->broken))
		return CF_BROKEN;
	if (atomic_load(&q->shutdown))
		return CF_SHUTDOWN;
	return CF_OK;
}

/* --- Submitters (invariant 3: the gate) --- */

/* Lets a submit in unless the queue is closed; CF_OK, after which the
 * caller pushes and then calls cf__wq_leave, or the refusal. */
cf_status cf__wq_enter(struct cf_work_queue *q);
void cf__wq_leave(struct cf_work_queue *q);

/* Queues f, taking the queue's reference to it; inside the gate.  f is
 * not shared yet (its submit has not returned). */
void cf__wq_push(struct cf_work_queue *q, cf_future *f);
/* Queues fs[0..n), n >= 1, all or none, through the gate once: CF_OK or
 * the refusal.  Takes the queue's reference to each. */
cf_status cf__wq_push_burst(struct cf_work_queue *q, cf_future **fs, size_t n);
/* After pushing: wakes as many sleeping workers as the queued futures
 * need (invariant 2).  Takes the lock only when one must be woken. */
void cf__wq_wake_workers(struct cf_work_queue *q);

/* Whether a bounded queue is full. */
bool cf__wq_full_locked(struct cf_work_queue *q);
/* Waits once on space_cond, after waking the workers that the futures
 * already queued need (they may be this very submit's burst, and only
 * they can make room).  False, without waiting, once the queue is closed.
 * The caller waits again while it has reason to. */
bool cf__wq_wait_space_locked(struct cf_work_queue *q);
/* Wakes the submitters on space_cond: what they wait for changed. */
void cf__wq_wake_submitters_locked(struct cf_work_queue *q);
/* Takes back f, the last future pushed, when no worker will ever run it;
 * drops the queue's reference. */
void cf__wq_unpush_locked(struct cf_work_queue *q, cf_future *f);

/* --- Workers --- */

/* The next future to run, with the queue's reference, or NULL when the
 * worker should leave (the queue is closed and drained).  Polls and
 * sleeps as long as it has to; the lock may be let go meanwhile. */
cf_future *cf__wq_next_locked(struct cf_work_queue *q);

/* --- Closing (invariant 3) --- */

/* Closes the queue for good, why being CF_SHUTDOWN or CF_BROKEN, and
 * waits out the submits let in before.  With take, returns what is
 * queued as a list linked by the futures' links, each holding the queue's
 * reference; the caller disposes of it.  Wakes every waiter.  Without the
 * lock. */
struct cf_link *cf__wq_close(struct cf_work_queue *q, cf_status why, bool take);

#endif
