/* The thread backend: Python's ThreadPoolExecutor.
 *
 * One FIFO queue of futures, one mutex, one condition variable for idle
 * workers.  Workers start on demand: a submit starts a new thread only
 * when no worker is free to take the task, up to max_workers, so a pool
 * that never gets busy never grows (Python's _adjust_thread_count).
 *
 * Once the pool has all its threads (and no max_queued bound), a submit
 * takes no lock: it pushes onto a lock-free queue (mpsc.c), a whole burst
 * of futures at once when a map submits several, and takes the mutex only
 * to wake a sleeping worker.  The workers pop under the mutex,
 * one at a time.  With
 * one mutex for both ends, a stream of submits waited on the workers'
 * pops (and on a worker preempted in the middle of one) for a third of
 * its time.  Counters that each side writes before it reads the other
 * side's keep the two in step (sequentially consistent atomics, Dekker's
 * pattern): `pushed` (less `popped`) against `idle`, so that no worker
 * sleeps while a task waits; and `submitting` against `shutdown` and
 * `broken`, so that no worker leaves while a submit that was let in is
 * still pushing.  Submits write `pushed` and workers `popped`, on lines
 * of their own, so neither side's count slows the other.
 */
#include "base/annotate.h"
#include "base/bytes.h"
#include "base/clock.h"
#include "base/mpsc.h"
#include "core/executor.h"
#include "core/future.h"
#include "core/task.h"
#include "platform/platform.h"

#include <assert.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct thread_pool {
	struct cf_mpsc queue;

	/* Read by every submit, written rarely: a line that stays shared. */
	alignas(64) atomic_bool shutdown;
	atomic_bool broken;
	atomic_int nthreads;            /* started, never decreases */
	bool starting;                  /* a submit is starting one more (lock) */
	int max_workers;
	size_t max_queued;

	/* Written by every submit, without the lock.  Each submit counts its
	 * future in `pushed` before it pushes it. */
	alignas(64) atomic_size_t pushed;
	alignas(64) atomic_int submitting;      /* submits let in, still pushing */

	/* The workers' side: popping is done under the lock. */
	alignas(64) pthread_mutex_t lock;       /* also guards what follows */
	atomic_size_t popped;           /* pushed - popped: queued() */

	/* Changed when a worker goes to sleep, wakes or spins; read by a
	 * submit to decide whether to wake one. */
	alignas(64) atomic_int idle;    /* asleep on work_cond */
	atomic_int signalled;           /* wake-ups sent, not yet taken */
	atomic_int spinning;            /* polling the queue before sleeping */

	/* Written by workers outside the lock on every task. */
	alignas(64) atomic_int busy;    /* running a task, result not yet out */
	alignas(64) atomic_size_t tasks_completed;

	alignas(64) pthread_cond_t work_cond;   /* idle workers wait here */
	pthread_cond_t space_cond;      /* submitters wait here when full */
	struct worker_slot *threads;    /* max_workers slots */

	pthread_mutex_t join_lock;      /* one joiner at a time */
	int joined;

	int idle_spin_us;
	int max_spinning;               /* spinners at once: half the CPUs */
	char name_prefix[CF_THREAD_NAME_MAX + 1];
	char why[96];                   /* why broken: written once, under the
					 * lock, before `broken` is set */
	int (*initializer)(const void *, size_t);
	alignas(max_align_t) struct cf_bytes initarg;  /* a copy, as the process
							 * backend makes */
};

/* The pool a worker thread belongs to: shutdown(wait) from inside its own
 * pool would join itself, so it is refused. */
static _Thread_local struct thread_pool *current_pool;

/* A worker's slot in the pool, and what it starts with.  In the pool
 * rather than malloc'ed for the thread: a thread's first malloc or free
 * sets up its own malloc arena (an mmap, two munmaps and an mprotect),
 * which would delay its first task. */
struct worker_slot {
	pthread_t thread;
	struct thread_pool *pool;
	int index;
};

/* Futures queued or on their way in.  popped first: pushed only grows,
 * so the difference never goes below zero. */
static size_t queued(struct thread_pool *p)
{
	size_t popped = atomic_load(&p->popped);

	return atomic_load(&p->pushed) - popped;
}

/* The next queued future, or NULL when none is queued.  A push half done
 * (counted in queued, not yet linked) is waited for: it is a few
 * instructions away, unless its thread was preempted.  Lock held. */
static cf_future *pop_locked(struct thread_pool *p)
{
	struct cf_link *l;

	for (unsigned i = 1; !(l = cf__mpsc_pop(&p->queue)); i++) {
		if (queued(p) == 0)
			return NULL;
		pthread_mutex_unlock(&p->lock);
		cf__spin_step(i);
		pthread_mutex_lock(&p->lock);
	}
	atomic_store(&p->popped, atomic_load(&p->popped) + 1);  /* lock held */
	atomic_fetch_add_explicit(&p->busy, 1, memory_order_relaxed);
	if (p->max_queued)
		pthread_cond_signal(&p->space_cond);
	return cf__future_of_link(l);
}

/* Waits until no submit is between its check of the flags and the end of
 * its push: after that, with shutdown or broken set, nothing more comes. */
static void wait_for_submits(struct thread_pool *p)
{
	for (unsigned i = 1; atomic_load(&p->submitting) > 0; i++)
		cf__spin_step(i);
}

/* Detaches the whole queue (lock held, shutdown or broken set, submits
 * drained); the caller disposes of it. */
static struct cf_link *take_all_locked(struct thread_pool *p)
{
	struct cf_link *head = NULL, **tail = &head;

	for (cf_future *f; (f = pop_locked(p)) != NULL;) {
		atomic_fetch_sub_explicit(&p->busy, 1, memory_order_relaxed);
		*tail = cf__future_link(f);
		(*tail)->next = NULL;
		tail = &(*tail)->next;
	}
	pthread_cond_broadcast(&p->space_cond);
	return head;
}

/* Sets shutdown or broken, then waits out the submits that did not see
 * it; with take, detaches what is queued.  The lock is not held while
 * waiting: a submit that was let in may need it to finish. */
static struct cf_link *close_pool(struct thread_pool *p, atomic_bool *flag, bool take)
{
	struct cf_link *list = NULL;

	pthread_mutex_lock(&p->lock);
	atomic_store(flag, true);
	pthread_cond_broadcast(&p->space_cond);
	pthread_mutex_unlock(&p->lock);
	wait_for_submits(p);
	pthread_mutex_lock(&p->lock);
	if (take)
		list = take_all_locked(p);
	pthread_cond_broadcast(&p->work_cond);
	pthread_mutex_unlock(&p->lock);
	return list;
}

/* Whether a worker may leave: the pool is closing and nothing is queued
 * or on its way.  Lock held. */
static bool closing_and_drained(struct thread_pool *p)
{
	if (!atomic_load(&p->shutdown) && !atomic_load(&p->broken))
		return false;
	if (atomic_load(&p->submitting) > 0) {
		pthread_mutex_unlock(&p->lock);
		wait_for_submits(p);
		pthread_mutex_lock(&p->lock);
	}
	return queued(p) == 0;
}

/* Polls for work for idle_spin_us before the worker sleeps: a task that
 * arrives meanwhile starts without a futex wake-up, at the price of CPU.
 * At most half the CPUs spin at once (at least one): one spinner is enough
 * to take the next task, and more would take the cores from the threads
 * that submit (measured on 2 cores: two spinners made a stream of submits
 * slower than none, one made it faster).
 * The lock is taken with trylock while spinning, because another worker
 * (popping) or a submit that wakes one holds it for a moment, and
 * blocking on it would cost the very sleep and wake-up the spin is there
 * to avoid.
 * Called and returns with the lock held. */
static void spin_for_work(struct thread_pool *p)
{
	double until = cf__now() + p->idle_spin_us / 1e6;

	atomic_fetch_add(&p->spinning, 1);
	pthread_mutex_unlock(&p->lock);
	/* The queue is read after every step, the clock every 64 (see
	 * spin_until_done in future.c). */
	for (unsigned i = 1;; i++) {
		if ((queued(p) > 0 ||
		     atomic_load_explicit(&p->shutdown, memory_order_relaxed)) &&
		    pthread_mutex_trylock(&p->lock) == 0)
			break;
		cf__spin_step(i);
		if (i % 64 == 0 && cf__now() >= until) {
			pthread_mutex_lock(&p->lock);
			break;
		}
	}
	atomic_fetch_sub(&p->spinning, 1);
}

/* Sleeps on work_cond unless a task is queued: idle is raised before
 * queued is read, and a submit raises queued before it reads idle, so one
 * of the two sees the other.  Lock held. */
static void sleep_for_work(struct thread_pool *p)
{
	bool slept = false;

	atomic_fetch_add(&p->idle, 1);
	if (queued(p) == 0 && !atomic_load(&p->shutdown) &&
	    !atomic_load(&p->broken)) {
		pthread_cond_wait(&p->work_cond, &p->lock);
		slept = true;
	}
	atomic_fetch_sub(&p->idle, 1);
	if (slept && atomic_load(&p->signalled) > 0)
		atomic_fetch_sub(&p->signalled, 1);
}

/* The next task, or NULL when the worker should exit.  Lock held. */
static cf_future *next_task(struct thread_pool *p)
{
	bool spun = false;

	for (;;) {
		cf_future *f = pop_locked(p);
		if (f)
			return f;
		if (closing_and_drained(p))
			return NULL;
		if (queued(p) > 0)
			continue;
		if (p->idle_spin_us > 0 && !spun && atomic_load(&p->spinning) < p->max_spinning) {
			spin_for_work(p);
			spun = true;
			continue;
		}
		sleep_for_work(p);
		spun = false;
	}
}

static void run_task(struct thread_pool *p, cf_future *f)
{
	struct cf_task task;

	/* The worker counts as free before the result is out: a caller that
	 * saw the result and submits again finds this worker, not a reason to
	 * start another thread. */
	if (cf__future_start(f)) {
		struct cf_bytes *arg = cf__future_payload(f);

		cf__task_init(&task, cf__bytes_data(arg), arg->size);
		cf__task_run(&task, cf__future_fn(f));
		atomic_fetch_sub_explicit(&p->busy, 1, memory_order_release);
		cf__future_finish(f, &task);
		cf__task_clear(&task);
		atomic_fetch_add_explicit(&p->tasks_completed, 1, memory_order_relaxed);
	} else {
		atomic_fetch_sub_explicit(&p->busy, 1, memory_order_release);
	}
	cf__future_unref(f);
}

/* A failed initializer breaks the pool, as in Python: whatever is queued
 * fails with CF_BROKEN and so will every later submit. */
static void break_pool(struct thread_pool *p, int index, int rc)
{
	pthread_mutex_lock(&p->lock);
	if (!p->why[0])
		snprintf(p->why, sizeof(p->why), "the initializer failed in worker %d: "
			 "initializer returned %d", index, rc);
	pthread_mutex_unlock(&p->lock);
	cf__future_abandon_list(close_pool(p, &p->broken, true), CF_BROKEN);
}

/* "prefix_N" in the bytes a thread's name may have: when it does not fit, the
 * prefix is cut (at a character boundary) and the number kept, since the
 * number is what tells the workers apart. */
static void name_worker(const struct thread_pool *p, int index)
{
	char suffix[16], name[32];
	int room = CF_THREAD_NAME_MAX - snprintf(suffix, sizeof(suffix), "_%d", index);
	int keep = (int)strlen(p->name_prefix);

	if (keep > room) {
		keep = room > 0 ? room : 0;
		while (keep > 0 && ((unsigned char)p->name_prefix[keep] & 0xC0) == 0x80)
			keep--;
	}
	snprintf(name, sizeof(name), "%.*s%s", keep, p->name_prefix, suffix);
	cf__thread_set_name(name);
}

static void *worker_main(void *arg)
{
	const struct worker_slot *slot = arg;
	struct thread_pool *p = slot->pool;

	current_pool = p;
	name_worker(p, slot->index);
	int rc = p->initializer ? p->initializer(cf__bytes_data(&p->initarg), p->initarg.size) : 0;
	if (rc != 0) {
		break_pool(p, slot->index, rc);
		return NULL;
	}
	pthread_mutex_lock(&p->lock);
	for (cf_future *f; (f = next_task(p)) != NULL;) {
		pthread_mutex_unlock(&p->lock);
		run_task(p, f);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Starts worker number n; 0 or an errno value.  Called without the lock:
 * creating a thread takes tens of microseconds, and the workers already
 * running would wait that long on the lock for their next task. */
static int start_worker(struct thread_pool *p, int n)
{
	struct worker_slot *slot = &p->threads[n];

	slot->pool = p;
	slot->index = n;
	return pthread_create(&slot->thread, NULL, worker_main, slot);
}

/* Whether to wake a sleeping worker for the queued tasks: not if a
 * wake-up is already on its way, which will find the task too (every
 * redundant signal is a futex system call).  Lock held; the caller
 * signals after unlocking, so that the worker does not wake only to block
 * on the lock. */
static bool claim_wakeup_locked(struct thread_pool *p)
{
	int signalled = atomic_load(&p->signalled);

	if (atomic_load(&p->idle) > signalled &&
	    queued(p) > (size_t)(atomic_load(&p->spinning) + signalled)) {
		atomic_fetch_add(&p->signalled, 1);
		return true;
	}
	return false;
}

/* Wakes as many sleeping workers as the queued tasks need.  The lock is
 * taken only when a worker sleeps that no wake-up is meant for yet. */
static void wake_workers(struct thread_pool *p)
{
	int wakeups = 0;

	if (atomic_load(&p->idle) <= atomic_load(&p->signalled))
		return;
	pthread_mutex_lock(&p->lock);
	while (claim_wakeup_locked(p))
		wakeups++;
	pthread_mutex_unlock(&p->lock);
	while (wakeups-- > 0)
		pthread_cond_signal(&p->work_cond);
}

/* The queue's reference to a future it takes.  f is not shared yet (its
 * submit has not returned), so a plain add will do: a locked one drains
 * the store buffer full of the new future's zeroing. */
static void take_queue_ref(cf_future *f)
{
	cf__future_ref_unshared(f);
}

/* Counted first, then linked: a worker that sees the count but cannot pop
 * yet waits for the link (pop_locked). */
static void push(struct thread_pool *p, cf_future *f)
{
	take_queue_ref(f);
	atomic_fetch_add(&p->pushed, 1);
	cf__mpsc_push(&p->queue, cf__future_link(f));
}

/* Whether a submit should start a thread: more tasks wait than workers
 * are free, counting its own, and fewer than max_workers run.  One submit
 * starts a thread at a time (starting), so the threads' slots fill in
 * order.  Lock held. */
static bool should_grow_locked(struct thread_pool *p)
{
	int nthreads = atomic_load(&p->nthreads);

	return !p->starting && nthreads < p->max_workers &&
	       (long)queued(p) + 1 > (long)nthreads - atomic_load(&p->busy);
}

/* Takes back f, just pushed, when no thread exists to run it: then
 * nothing else is queued either (see submit_locked).  Lock held. */
static void unpush_locked(struct thread_pool *p, cf_future *f)
{
	cf_future *back = pop_locked(p);

	(void)back;
	assert(back == f);
	atomic_fetch_sub_explicit(&p->busy, 1, memory_order_relaxed);
	cf__future_unref(f);    /* the queue's reference; the caller's remains */
}

/* Starts a thread for f, which is queued already, letting go of the lock
 * while the thread is created (start_worker says why).  Queued first, the
 * task is there when the thread starts.  Queued after, the thread went to
 * sleep on work_cond first, and the wake-up that followed put it on the
 * submitter's core, busy submitting, while the other core idled: at -j 8
 * the first tasks began up to 1 ms late (perf trace).  Fails, taking f
 * back, only if no thread exists at all.  Called and returns with the
 * lock held. */
static int grow_locked(struct thread_pool *p, cf_future *f)
{
	int n = atomic_load(&p->nthreads);

	p->starting = true;
	pthread_mutex_unlock(&p->lock);
	int err = start_worker(p, n);
	pthread_mutex_lock(&p->lock);
	p->starting = false;
	if (n == 0)
		pthread_cond_broadcast(&p->space_cond);
	if (!err) {
		atomic_store(&p->nthreads, n + 1);
		return 0;
	}
	if (n > 0)
		return 0;       /* the threads there are will run f */
	unpush_locked(p, f);
	return -1;
}

/* Whether the first thread is being started: a submit waits for it, so
 * that if it fails, the queue holds nothing but its starter's task, which
 * is taken back.  Lock held. */
static bool first_thread_starting(struct thread_pool *p)
{
	return p->starting && atomic_load(&p->nthreads) == 0;
}

/* The way of a submit while the pool may still start threads or bounds
 * its queue: under the lock.  Returns with f pushed, or why not. */
static cf_status submit_locked(struct thread_pool *p, cf_future *f)
{
	cf_status st = CF_OK;

	pthread_mutex_lock(&p->lock);
	while ((p->max_queued && queued(p) >= p->max_queued) || first_thread_starting(p)) {
		if (atomic_load(&p->shutdown) || atomic_load(&p->broken))
			break;
		/* The queue may be full of this very burst (submit_many), whose
		 * workers are woken only once it is all in: wake them now, or
		 * no one makes room. */
		while (claim_wakeup_locked(p))
			pthread_cond_signal(&p->work_cond);
		pthread_cond_wait(&p->space_cond, &p->lock);
	}
	if (atomic_load(&p->broken))
		st = CF_BROKEN;
	else if (atomic_load(&p->shutdown))
		st = CF_SHUTDOWN;
	if (st == CF_OK) {
		bool grow = should_grow_locked(p);
		push(p, f);
		if (grow && grow_locked(p, f) != 0)
			st = CF_SYSTEM;
	}
	pthread_mutex_unlock(&p->lock);
	return st;
}

/* Whether a submit must take the lock: while the pool may still start
 * threads (nthreads only grows), or when its queue is bounded. */
static bool must_lock(struct thread_pool *p)
{
	return p->max_queued || atomic_load(&p->nthreads) < p->max_workers;
}

/* Queues f under the lock; `submitting` lets shutdown and break_pool wait
 * for a submit that saw neither flag. */
static cf_status submit_one(struct thread_pool *p, cf_future *f)
{
	cf_status st;

	atomic_fetch_add(&p->submitting, 1);
	if (atomic_load(&p->broken))
		st = CF_BROKEN;
	else if (atomic_load(&p->shutdown))
		st = CF_SHUTDOWN;
	else
		st = submit_locked(p, f);
	atomic_fetch_sub(&p->submitting, 1);
	return st;
}

/* Queues fs[0..n) without the lock, all or none: one pass through the
 * `submitting` gate, one count and one exchange for the whole burst (a
 * map's window), where each future alone paid four locked instructions. */
static cf_status push_burst(struct thread_pool *p, cf_future **fs, size_t n)
{
	cf_status st = CF_OK;

	atomic_fetch_add(&p->submitting, 1);
	if (atomic_load(&p->broken)) {
		st = CF_BROKEN;
	} else if (atomic_load(&p->shutdown)) {
		st = CF_SHUTDOWN;
	} else {
		/* Linked among themselves first, where no one else sees them. */
		for (size_t i = 0; i < n; i++) {
			take_queue_ref(fs[i]);
			CF_HAPPENS_BEFORE(fs[i]);
			cf__future_link(fs[i])->next = i + 1 < n ? cf__future_link(fs[i + 1]) : NULL;
		}
		atomic_fetch_add(&p->pushed, n);
		cf__mpsc_push_chain(&p->queue, cf__future_link(fs[0]), cf__future_link(fs[n - 1]));
	}
	atomic_fetch_sub(&p->submitting, 1);
	return st;
}

/* Queues fs[0..n) in order, then wakes workers; *accepted says how many
 * went in. */
static cf_status pool_submit_many(cf_executor *ex, cf_future **fs, size_t n, size_t *accepted)
{
	struct thread_pool *p = ex->impl;
	cf_status st = CF_OK;
	size_t i = 0;

	while (i < n && must_lock(p) && (st = submit_one(p, fs[i])) == CF_OK)
		i++;
	if (st == CF_OK && i < n && (st = push_burst(p, fs + i, n - i)) == CF_OK)
		i = n;
	if (i > 0)
		wake_workers(p);
	*accepted = i;
	return st;
}

static cf_status pool_submit(cf_executor *ex, cf_future *f)
{
	size_t accepted;

	return pool_submit_many(ex, &f, 1, &accepted);
}

static cf_status pool_shutdown(cf_executor *ex, bool wait, bool cancel_futures)
{
	struct thread_pool *p = ex->impl;

	if (wait && current_pool == p)
		return CF_INVALID_STATE;
	cf__future_abandon_list(close_pool(p, &p->shutdown, cancel_futures), CF_CANCELLED);
	if (!wait)
		return CF_OK;

	/* No thread can start any more, so nthreads is final. */
	pthread_mutex_lock(&p->join_lock);
	int nthreads = atomic_load(&p->nthreads);
	for (; p->joined < nthreads; p->joined++)
		pthread_join(p->threads[p->joined].thread, NULL);
	pthread_mutex_unlock(&p->join_lock);
	return CF_OK;
}

/* 0, or the error of the first lock or condition variable that could not
 * be made (those made before it are destroyed). */
static int init_locks(struct thread_pool *p)
{
	int rc = cf__mutex_init_adaptive(&p->lock);

	if (rc != 0)
		return rc;
	if ((rc = pthread_mutex_init(&p->join_lock, NULL)) != 0)
		goto no_join_lock;
	if ((rc = pthread_cond_init(&p->work_cond, NULL)) != 0)
		goto no_work_cond;
	if ((rc = pthread_cond_init(&p->space_cond, NULL)) != 0)
		goto no_space_cond;
	return 0;
no_space_cond:
	pthread_cond_destroy(&p->work_cond);
no_work_cond:
	pthread_mutex_destroy(&p->join_lock);
no_join_lock:
	pthread_mutex_destroy(&p->lock);
	return rc;
}

static cf_status pool_create(cf_executor *ex, const cf_options *opts)
{
	/* Aligned for the lines its fields are laid out on (calloc promises
	 * 16 bytes only). */
	struct thread_pool *p = aligned_alloc(alignof(struct thread_pool), sizeof(*p));
	int workers = opts->max_workers;

	if (workers == 0) {
		workers = cf__cpu_count() + 4;
		if (workers > 32)
			workers = 32;
	}
	if (!p)
		return CF_NOMEM;
	memset(p, 0, sizeof(*p));
	cf__mpsc_init(&p->queue);
	p->threads = calloc((size_t)workers, sizeof(*p->threads));
	if (!p->threads) {
		free(p);
		return CF_NOMEM;
	}
	if (init_locks(p) != 0) {
		free(p->threads);
		free(p);
		return CF_SYSTEM;
	}
	p->max_workers = workers;
	p->max_queued = opts->max_queued;
	p->idle_spin_us = opts->idle_spin_us;
	p->max_spinning = cf__cpu_count() / 2 > 1 ? cf__cpu_count() / 2 : 1;
	snprintf(p->name_prefix, sizeof(p->name_prefix), "%s",
		 opts->thread_name_prefix ? opts->thread_name_prefix : "cf");
	p->initializer = opts->initializer;
	if (cf__bytes_set(&p->initarg, opts->initarg, opts->initarg ? opts->initarg_size : 0)) {
		free(p->threads);
		free(p);
		return CF_NOMEM;
	}
	ex->impl = p;
	ex->max_workers = workers;
	return CF_OK;
}

static void pool_destroy(cf_executor *ex)
{
	struct thread_pool *p = ex->impl;

	pthread_mutex_destroy(&p->lock);
	pthread_mutex_destroy(&p->join_lock);
	pthread_cond_destroy(&p->work_cond);
	pthread_cond_destroy(&p->space_cond);
	cf__bytes_clear(&p->initarg);
	free(p->threads);
	free(p);
}

static void pool_stats(cf_executor *ex, cf_executor_stats *stats)
{
	struct thread_pool *p = ex->impl;

	stats->threads_created = (size_t)atomic_load(&p->nthreads);
	stats->tasks_completed = atomic_load(&p->tasks_completed);
}

static const char *pool_broken_reason(cf_executor *ex)
{
	struct thread_pool *p = ex->impl;

	return atomic_load(&p->broken) ? p->why : NULL;
}

const struct cf_backend cf__thread_backend = {
	.name = "thread",
	.shares_memory = true,
	.create = pool_create,
	.submit = pool_submit,
	.submit_many = pool_submit_many,
	.shutdown = pool_shutdown,
	.destroy = pool_destroy,
	.stats = pool_stats,
	.broken_reason = pool_broken_reason,
};
