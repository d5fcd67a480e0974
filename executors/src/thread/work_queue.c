/* The thread backend's work queue; work_queue.h states its invariants,
 * which the comments here refer to by number. */
#include "thread/work_queue.h"

#include "base/clock.h"
#include "core/future.h"
#include "platform/platform.h"

/* The sleepers' counters (invariant 2), whenever the lock is held. */
static void check_sleepers_locked(struct cf_work_queue *q)
{
	CF_DEBUG_ASSERT(atomic_load(&q->signalled) >= 0);
	CF_DEBUG_ASSERT(atomic_load(&q->signalled) <= atomic_load(&q->idle));
	CF_DEBUG_ASSERT(atomic_load(&q->spinning) >= 0);
	CF_DEBUG_ASSERT(atomic_load(&q->spinning) <= q->max_spinning);
	(void)q;
}

/* At most half the CPUs spin at once, and at least one: one spinner is
 * enough to take the next task, and more would take the cores from the
 * threads that submit, making a stream of submits slower than with none. */
static int spinners_for(int cpus)
{
	return cpus / 2 > 1 ? cpus / 2 : 1;
}

int cf__wq_init(struct cf_work_queue *q, size_t max_queued, int idle_spin_us)
{
	int rc;

	cf__mpsc_init(&q->queue);
	atomic_init(&q->shutdown, false);
	atomic_init(&q->broken, false);
	atomic_init(&q->pushed, 0);
	atomic_init(&q->submitting, 0);
	atomic_init(&q->popped, 0);
	atomic_init(&q->idle, 0);
	atomic_init(&q->signalled, 0);
	atomic_init(&q->spinning, 0);
	q->max_queued = max_queued;
	q->idle_spin_us = idle_spin_us;
	q->max_spinning = spinners_for(cf__cpu_count());
	if ((rc = cf__mutex_init_adaptive(&q->lock)) != 0)
		return rc;
	if ((rc = pthread_cond_init(&q->work_cond, NULL)) != 0)
		goto no_work_cond;
	if ((rc = pthread_cond_init(&q->space_cond, NULL)) != 0)
		goto no_space_cond;
	return 0;
no_space_cond:
	pthread_cond_destroy(&q->work_cond);
no_work_cond:
	pthread_mutex_destroy(&q->lock);
	return rc;
}

void cf__wq_destroy(struct cf_work_queue *q)
{
	/* Every worker has left, and every submit. */
	CF_DEBUG_ASSERT(cf__wq_queued(q) == 0);
	CF_DEBUG_ASSERT(atomic_load(&q->submitting) == 0);
	CF_DEBUG_ASSERT(atomic_load(&q->idle) == 0);
	CF_DEBUG_ASSERT(atomic_load(&q->signalled) == 0);
	CF_DEBUG_ASSERT(atomic_load(&q->spinning) == 0);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->work_cond);
	pthread_cond_destroy(&q->space_cond);
}

/* --- Submitters --- */

cf_status cf__wq_enter(struct cf_work_queue *q)
{
	cf_status st;

	atomic_fetch_add(&q->submitting, 1);
	st = cf__wq_closed(q);
	if (st != CF_OK)
		atomic_fetch_sub(&q->submitting, 1);
	return st;
}

void cf__wq_leave(struct cf_work_queue *q)
{
	CF_DEBUG_ASSERT(atomic_load(&q->submitting) > 0);
	atomic_fetch_sub(&q->submitting, 1);
}

/* The queue's reference to a future it takes.  f is not shared yet, so a
 * plain add will do: a locked one would drain the store buffer, full of
 * the new future's zeroing. */
static void take_queue_ref(cf_future *f)
{
	cf__future_ref_unshared(f);
}

void cf__wq_push(struct cf_work_queue *q, cf_future *f)
{
	CF_DEBUG_ASSERT(atomic_load(&q->submitting) > 0);
	take_queue_ref(f);
	atomic_fetch_add(&q->pushed, 1);        /* invariant 1: counted first */
	cf__mpsc_push(&q->queue, cf__future_link(f));
}

/* One pass through the gate, one count and one exchange for the whole
 * burst (a map's window), where futures pushed one by one would pay a
 * locked instruction for each of these. */
cf_status cf__wq_push_burst(struct cf_work_queue *q, cf_future **fs, size_t n)
{
	cf_status st = cf__wq_enter(q);

	if (st != CF_OK)
		return st;
	/* Linked among themselves first, where no one else sees them. */
	for (size_t i = 0; i < n; i++) {
		take_queue_ref(fs[i]);
		CF_HAPPENS_BEFORE(fs[i]);
		cf__future_link(fs[i])->next = i + 1 < n ? cf__future_link(fs[i + 1]) : NULL;
	}
	atomic_fetch_add(&q->pushed, n);
	cf__mpsc_push_chain(&q->queue, cf__future_link(fs[0]), cf__future_link(fs[n - 1]));
	cf__wq_leave(q);
	return CF_OK;
}

/* Whether to wake one more sleeping worker for the queued futures: not
 * if a wake-up already on its way, or a spinning worker, will take them
 * (invariant 2).  Claims the wake-up; the caller signals. */
static bool claim_wakeup_locked(struct cf_work_queue *q)
{
	int signalled = atomic_load(&q->signalled);

	if (atomic_load(&q->idle) > signalled &&
	    cf__wq_queued(q) > (size_t)(atomic_load(&q->spinning) + signalled)) {
		atomic_fetch_add(&q->signalled, 1);
		check_sleepers_locked(q);
		return true;
	}
	return false;
}

/* The signals go after the unlock, so that a woken worker does not only
 * block again on the lock; the worker was waiting on work_cond before
 * the lock was let go, so none is lost. */
void cf__wq_wake_workers(struct cf_work_queue *q)
{
	int wakeups = 0;

	if (atomic_load(&q->idle) <= atomic_load(&q->signalled))
		return;
	cf__wq_lock(q);
	while (claim_wakeup_locked(q))
		wakeups++;
	cf__wq_unlock(q);
	while (wakeups-- > 0)
		pthread_cond_signal(&q->work_cond);
}

bool cf__wq_full_locked(struct cf_work_queue *q)
{
	return q->max_queued && cf__wq_queued(q) >= q->max_queued;
}

bool cf__wq_wait_space_locked(struct cf_work_queue *q)
{
	if (cf__wq_closed(q) != CF_OK)
		return false;
	while (claim_wakeup_locked(q))
		pthread_cond_signal(&q->work_cond);
	pthread_cond_wait(&q->space_cond, &q->lock);
	return true;
}

void cf__wq_wake_submitters_locked(struct cf_work_queue *q)
{
	pthread_cond_broadcast(&q->space_cond);
}

/* --- Workers --- */

/* The next queued future, or NULL when none is queued.  A push half done
 * (counted, not yet linked: invariant 1) is waited for, with the lock let
 * go meanwhile, in case its thread was preempted. */
static cf_future *pop_locked(struct cf_work_queue *q)
{
	struct cf_link *l;

	for (unsigned i = 1; !(l = cf__mpsc_pop(&q->queue)); i++) {
		if (cf__wq_queued(q) == 0)
			return NULL;
		cf__wq_unlock(q);
		cf__spin_step(i);
		cf__wq_lock(q);
	}
	CF_DEBUG_ASSERT(cf__wq_queued(q) > 0);
	atomic_store(&q->popped, atomic_load(&q->popped) + 1);  /* lock held */
	if (q->max_queued)
		pthread_cond_signal(&q->space_cond);
	return cf__future_of_link(l);
}

void cf__wq_unpush_locked(struct cf_work_queue *q, cf_future *f)
{
	cf_future *back = pop_locked(q);

	CF_DEBUG_ASSERT(back == f);
	(void)back;
	cf__future_unref(f);    /* the queue's reference; the caller's remains */
}

/* Waits until no submit is between the gate and the end of its push. */
static void wait_for_submits(struct cf_work_queue *q)
{
	for (unsigned i = 1; atomic_load(&q->submitting) > 0; i++)
		cf__spin_step(i);
}

/* Whether a worker may leave: the queue is closed and, once the submits
 * let in are done, empty (invariant 3). */
static bool closing_and_drained_locked(struct cf_work_queue *q)
{
	if (cf__wq_closed(q) == CF_OK)
		return false;
	if (atomic_load(&q->submitting) > 0) {
		cf__wq_unlock(q);
		wait_for_submits(q);
		cf__wq_lock(q);
	}
	return cf__wq_queued(q) == 0;
}

/* Polls for work for idle_spin_us before the worker sleeps: a task that
 * arrives meanwhile starts without a futex wake-up, at the price of CPU.
 * The lock is tried, not waited for, while spinning: another worker
 * (popping) or a submit that wakes one holds it for a moment, and
 * blocking on it would cost the very sleep and wake-up the spin is there
 * to avoid.  The queue is read after every step, the clock every 64 (see
 * spin_until_done in core/future_wait.c).  Returns with the lock held. */
static void spin_for_work_locked(struct cf_work_queue *q)
{
	double until = cf__now() + q->idle_spin_us / 1e6;

	atomic_fetch_add(&q->spinning, 1);
	check_sleepers_locked(q);
	cf__wq_unlock(q);
	for (unsigned i = 1;; i++) {
		if ((cf__wq_queued(q) > 0 ||
		     atomic_load_explicit(&q->shutdown, memory_order_relaxed)) &&
		    pthread_mutex_trylock(&q->lock) == 0)
			break;
		cf__spin_step(i);
		if (i % 64 == 0 && cf__now() >= until) {
			cf__wq_lock(q);
			break;
		}
	}
	atomic_fetch_sub(&q->spinning, 1);
}

/* Sleeps on work_cond unless a future is queued or the queue is closing
 * (invariant 2: idle is raised before the count is read). */
static void sleep_for_work_locked(struct cf_work_queue *q)
{
	bool slept = false;

	atomic_fetch_add(&q->idle, 1);
	if (cf__wq_queued(q) == 0 && cf__wq_closed(q) == CF_OK) {
		pthread_cond_wait(&q->work_cond, &q->lock);
		slept = true;
	}
	atomic_fetch_sub(&q->idle, 1);
	/* A wake-up, or a spurious return, or close's broadcast: each takes
	 * back one claimed wake-up, if any is left. */
	if (slept && atomic_load(&q->signalled) > 0)
		atomic_fetch_sub(&q->signalled, 1);
	check_sleepers_locked(q);
}

/* Whether a worker that found the queue empty should poll it first. */
static bool may_spin_locked(struct cf_work_queue *q)
{
	return q->idle_spin_us > 0 && atomic_load(&q->spinning) < q->max_spinning;
}

cf_future *cf__wq_next_locked(struct cf_work_queue *q)
{
	bool spun = false;

	for (;;) {
		cf_future *f = pop_locked(q);
		if (f)
			return f;
		if (closing_and_drained_locked(q))
			return NULL;
		if (cf__wq_queued(q) > 0)
			continue;
		if (!spun && may_spin_locked(q)) {
			spin_for_work_locked(q);
			spun = true;
			continue;
		}
		sleep_for_work_locked(q);
		spun = false;
	}
}

/* --- Closing --- */

/* Detaches the whole queue, closed and with no submit let in. */
static struct cf_link *take_all_locked(struct cf_work_queue *q)
{
	struct cf_link *head = NULL, **tail = &head;

	for (cf_future *f; (f = pop_locked(q)) != NULL;) {
		*tail = cf__future_link(f);
		(*tail)->next = NULL;
		tail = &(*tail)->next;
	}
	CF_DEBUG_ASSERT(cf__wq_queued(q) == 0);
	pthread_cond_broadcast(&q->space_cond);
	return head;
}

/* The lock is let go while the submits are waited out: one that was let
 * in may need it to finish (a bounded queue's submit waits on space_cond,
 * woken here to find the queue closed). */
struct cf_link *cf__wq_close(struct cf_work_queue *q, cf_status why, bool take)
{
	struct cf_link *list = NULL;

	CF_DEBUG_ASSERT(why == CF_SHUTDOWN || why == CF_BROKEN);
	cf__wq_lock(q);
	atomic_store(why == CF_BROKEN ? &q->broken : &q->shutdown, true);
	pthread_cond_broadcast(&q->space_cond);
	cf__wq_unlock(q);
	wait_for_submits(q);
	cf__wq_lock(q);
	if (take)
		list = take_all_locked(q);
	pthread_cond_broadcast(&q->work_cond);
	cf__wq_unlock(q);
	return list;
}
