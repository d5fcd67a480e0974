/* The thread backend: Python's ThreadPoolExecutor.
 *
 * One FIFO queue of futures, one mutex, one condition variable for idle
 * workers.  Workers start on demand: a submit starts a new thread only
 * when no worker is free to take the task, up to max_workers, so a pool
 * that never gets busy never grows (Python's _adjust_thread_count).
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct thread_pool {
	/* What every submit and every pop touches, together on the first
	 * cache lines. */
	pthread_mutex_t lock;
	struct cf_queue queue;
	atomic_size_t queued;           /* queue.count, for spinners to read
					 * without the lock */
	int idle;                       /* asleep on work_cond */
	int signalled;                  /* wake-ups sent, not yet taken */
	int spinning;                   /* polling the queue before sleeping */
	int nthreads;                   /* started, never decreases */
	int max_workers;
	bool shutdown;
	bool broken;
	size_t max_queued;

	/* Written by workers outside the lock on every task: on lines of
	 * their own, so that those writes do not slow the holder of the
	 * lock. */
	alignas(64) atomic_int busy;    /* running a task, result not yet out */
	alignas(64) atomic_size_t tasks_completed;

	alignas(64) pthread_cond_t work_cond;   /* idle workers wait here */
	pthread_cond_t space_cond;      /* submitters wait here when full */
	pthread_t *threads;             /* max_workers slots */

	pthread_mutex_t join_lock;      /* one joiner at a time */
	int joined;

	int idle_spin_us;
	int max_spinning;               /* spinners at once: half the CPUs */
	char name_prefix[11];           /* Linux thread names hold 15 bytes */
	int (*initializer)(const void *, size_t);
	struct cf_bytes initarg;        /* a copy, as the process backend makes */
};

/* The pool a worker thread belongs to: shutdown(wait) from inside its own
 * pool would join itself, so it is refused. */
static __thread struct thread_pool *current_pool;

struct worker_start {
	struct thread_pool *pool;
	int index;
};

static cf_future *pop_locked(struct thread_pool *p)
{
	cf_future *f = cf__queue_pop(&p->queue);

	atomic_store_explicit(&p->queued, p->queue.count, memory_order_relaxed);
	atomic_fetch_add_explicit(&p->busy, 1, memory_order_relaxed);
	if (p->max_queued)
		pthread_cond_signal(&p->space_cond);
	return f;
}

/* Detaches the whole queue (lock held); the caller disposes of it. */
static cf_future *take_all_locked(struct thread_pool *p)
{
	cf_future *list = cf__queue_take_all(&p->queue);

	atomic_store(&p->queued, 0);
	pthread_cond_broadcast(&p->space_cond);
	return list;
}

/* Polls for work for idle_spin_us before the worker sleeps: a task that
 * arrives meanwhile starts without a futex wake-up, at the price of CPU.
 * At most half the CPUs spin at once (at least one): one spinner is enough
 * to take the next task, and more would take the cores from the threads
 * that submit (measured on 2 cores: two spinners made a stream of submits
 * slower than none, one made it faster).
 * The lock is taken with trylock while spinning, because the submitter
 * still holds it for a moment after queueing, and blocking on it would
 * cost the very sleep and wake-up the spin is there to avoid.
 * Called and returns with the lock held. */
static void spin_for_work(struct thread_pool *p)
{
	double until = cf__now() + p->idle_spin_us / 1e6;

	p->spinning++;
	pthread_mutex_unlock(&p->lock);
	/* The queue is read after every step, the clock every 64 (see
	 * spin_until_done in future.c). */
	for (unsigned i = 1;; i++) {
		if (atomic_load_explicit(&p->queued, memory_order_relaxed) > 0 &&
		    pthread_mutex_trylock(&p->lock) == 0)
			break;
		cf__spin_step(i);
		if (i % 64 == 0 && cf__now() >= until) {
			pthread_mutex_lock(&p->lock);
			break;
		}
	}
	p->spinning--;
}

/* The next task, or NULL when the worker should exit.  Lock held. */
static cf_future *next_task(struct thread_pool *p)
{
	bool spun = false;

	for (;;) {
		if (p->queue.head)
			return pop_locked(p);
		if (p->shutdown || p->broken)
			return NULL;
		if (p->idle_spin_us > 0 && !spun && p->spinning < p->max_spinning) {
			spin_for_work(p);
			spun = true;
			continue;
		}
		p->idle++;
		pthread_cond_wait(&p->work_cond, &p->lock);
		p->idle--;
		if (p->signalled > 0)
			p->signalled--;
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
		cf__task_init(&task, f->arg.data, f->arg.size);
		cf__task_run(&task, f->fn);
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
static void break_pool(struct thread_pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->broken = true;
	cf_future *list = take_all_locked(p);
	pthread_cond_broadcast(&p->work_cond);
	pthread_mutex_unlock(&p->lock);
	cf__abandon_list(list, CF_BROKEN);
}

static void *worker_main(void *arg)
{
	struct worker_start start = *(struct worker_start *)arg;
	struct thread_pool *p = start.pool;
	char name[32];

	free(arg);
	current_pool = p;
	snprintf(name, sizeof(name), "%s_%d", p->name_prefix, start.index);
	name[15] = '\0';
	pthread_setname_np(pthread_self(), name);
	if (p->initializer && p->initializer(p->initarg.data, p->initarg.size) != 0) {
		break_pool(p);
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

/* Starts one more worker (lock held).  0 or an errno value. */
static int start_worker_locked(struct thread_pool *p)
{
	struct worker_start *ws = malloc(sizeof(*ws));
	int err;

	if (!ws)
		return ENOMEM;
	ws->pool = p;
	ws->index = p->nthreads;
	err = pthread_create(&p->threads[p->nthreads], NULL, worker_main, ws);
	if (err) {
		free(ws);
		return err;
	}
	p->nthreads++;
	return 0;
}

static void push_locked(struct thread_pool *p, cf_future *f)
{
	cf__queue_push(&p->queue, f);
	atomic_store_explicit(&p->queued, p->queue.count, memory_order_relaxed);
}

/* Takes back a future just pushed, when no thread could be started. */
static cf_status unpush_locked(struct thread_pool *p, cf_future *f)
{
	cf__queue_remove(&p->queue, f);
	atomic_store(&p->queued, p->queue.count);
	return CF_SYSTEM;
}

/* Whether to wake a sleeping worker for a new task: not if a wake-up is
 * already on its way, which will find the task too (every redundant
 * signal is a futex system call).  Lock held; the caller signals after
 * unlocking, so that the worker does not wake only to block on the lock. */
static bool claim_wakeup_locked(struct thread_pool *p, size_t queued)
{
	if (p->idle > p->signalled && queued > (size_t)(p->spinning + p->signalled)) {
		p->signalled++;
		return true;
	}
	return false;
}

/* Starts a thread when more tasks wait than workers are free, up to
 * max_workers.  Lock held.  Fails only if no thread exists at all. */
static int grow_locked(struct thread_pool *p, size_t queued)
{
	/* nthreads first: once the pool is full, busy (which workers write
	 * on every task) is not read at all. */
	if (p->nthreads >= p->max_workers ||
	    queued <= (size_t)(p->nthreads - atomic_load(&p->busy)))
		return 0;
	if (start_worker_locked(p) != 0 && p->nthreads == 0)
		return -1;
	return 0;
}

/* Queues fs[0..n) in order; *accepted says how many went in. */
static cf_status pool_submit_many(cf_executor *ex, cf_future **fs, size_t n, size_t *accepted)
{
	struct thread_pool *p = ex->impl;
	cf_status st = CF_OK;
	size_t i = 0;
	int wakeups = 0;

	pthread_mutex_lock(&p->lock);
	while (i < n) {
		while (p->max_queued && atomic_load(&p->queued) >= p->max_queued &&
		       !p->shutdown && !p->broken)
			pthread_cond_wait(&p->space_cond, &p->lock);
		if (p->broken || p->shutdown) {
			st = p->broken ? CF_BROKEN : CF_SHUTDOWN;
			break;
		}
		cf__future_ref(fs[i]);  /* the queue's reference */
		push_locked(p, fs[i]);
		size_t queued = atomic_load(&p->queued);
		wakeups += claim_wakeup_locked(p, queued);
		if (grow_locked(p, queued) != 0) {
			st = unpush_locked(p, fs[i]);
			cf__future_unref(fs[i]);
			break;
		}
		i++;
	}
	pthread_mutex_unlock(&p->lock);
	while (wakeups-- > 0)
		pthread_cond_signal(&p->work_cond);
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
	cf_future *cancelled = NULL;

	if (wait && current_pool == p)
		return CF_INVALID_STATE;
	pthread_mutex_lock(&p->lock);
	p->shutdown = true;
	if (cancel_futures)
		cancelled = take_all_locked(p);
	pthread_cond_broadcast(&p->work_cond);
	pthread_cond_broadcast(&p->space_cond);
	pthread_mutex_unlock(&p->lock);
	cf__abandon_list(cancelled, CF_CANCELLED);
	if (!wait)
		return CF_OK;

	/* No thread can start any more, so nthreads is final. */
	pthread_mutex_lock(&p->join_lock);
	pthread_mutex_lock(&p->lock);
	int nthreads = p->nthreads;
	pthread_mutex_unlock(&p->lock);
	for (; p->joined < nthreads; p->joined++)
		pthread_join(p->threads[p->joined], NULL);
	pthread_mutex_unlock(&p->join_lock);
	return CF_OK;
}

static cf_status pool_create(cf_executor *ex, const cf_options *opts)
{
	struct thread_pool *p = calloc(1, sizeof(*p));
	int workers = opts->max_workers;

	if (workers == 0) {
		workers = cf__cpu_count() + 4;
		if (workers > 32)
			workers = 32;
	}
	if (!p)
		return CF_NOMEM;
	p->threads = calloc((size_t)workers, sizeof(*p->threads));
	if (!p->threads) {
		free(p);
		return CF_NOMEM;
	}
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(&p->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	pthread_mutex_init(&p->join_lock, NULL);
	pthread_cond_init(&p->work_cond, NULL);
	pthread_cond_init(&p->space_cond, NULL);
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

	pthread_mutex_lock(&p->lock);
	stats->threads_created = (size_t)p->nthreads;
	pthread_mutex_unlock(&p->lock);
	stats->tasks_completed = atomic_load(&p->tasks_completed);
}

const struct cf_backend cf__thread_backend = {
	.name = "thread",
	.create = pool_create,
	.submit = pool_submit,
	.submit_many = pool_submit_many,
	.shutdown = pool_shutdown,
	.destroy = pool_destroy,
	.stats = pool_stats,
};
