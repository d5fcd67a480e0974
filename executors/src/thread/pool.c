/* The thread backend: Python's ThreadPoolExecutor.
 *
 * This file is the threads' lifecycle: it starts them on demand, names
 * them, runs the initializer, breaks the pool when one fails, joins them
 * at shutdown and counts what they did.  How futures reach them, and how
 * an idle one sleeps and is woken, is the work queue's (work_queue.h),
 * whose lock also guards the few fields here marked so.
 *
 * Workers start on demand: a submit starts a new thread only when no
 * worker is free to take the task, up to max_workers, so a pool that
 * never gets busy never grows (Python's _adjust_thread_count).  Until the
 * pool has all its threads, and always when its queue is bounded, a
 * submit takes the lock; after that it takes none.
 */
#include "base/annotate.h"
#include "base/bytes.h"
#include "core/executor.h"
#include "core/future.h"
#include "core/task.h"
#include "platform/platform.h"
#include "thread/work_queue.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct thread_pool {
	struct cf_work_queue q;

	/* Read by every submit, written rarely: a line that stays shared. */
	alignas(64) atomic_int nthreads;        /* started, never decreases */
	bool starting;                  /* a submit is starting one more (lock) */
	int max_workers;

	/* Written by workers outside the lock on every task. */
	alignas(64) atomic_int busy;    /* popped a task, result not yet out */
	alignas(64) atomic_size_t tasks_completed;

	alignas(64) pthread_mutex_t join_lock;  /* one joiner at a time */
	int joined;
	struct worker_slot *threads;    /* max_workers slots */

	char name_prefix[CF_THREAD_NAME_MAX + 1];
	char why[96];                   /* why broken: written once, under the
					 * lock, before the queue is closed */
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

/* --- Workers --- */

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
	cf__wq_lock(&p->q);
	if (!p->why[0])
		snprintf(p->why, sizeof(p->why), "the initializer failed in worker %d: "
			 "initializer returned %d", index, rc);
	cf__wq_unlock(&p->q);
	cf__future_abandon_list(cf__wq_close(&p->q, CF_BROKEN, true), CF_BROKEN);
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
	cf__wq_lock(&p->q);
	for (cf_future *f; (f = cf__wq_next_locked(&p->q)) != NULL;) {
		/* Counted with the pop, under the same lock: should_grow_locked
		 * sees every task either queued or running. */
		atomic_fetch_add_explicit(&p->busy, 1, memory_order_relaxed);
		cf__wq_unlock(&p->q);
		run_task(p, f);
		cf__wq_lock(&p->q);
	}
	cf__wq_unlock(&p->q);
	return NULL;
}

/* --- Starting threads on demand --- */

/* Starts worker number n; 0 or an errno value.  Called without the lock:
 * creating a thread is slow next to a pop, and the workers already
 * running would wait that long on the lock for their next task. */
static int start_worker(struct thread_pool *p, int n)
{
	struct worker_slot *slot = &p->threads[n];

	slot->pool = p;
	slot->index = n;
	return pthread_create(&slot->thread, NULL, worker_main, slot);
}

/* Whether a submit should start a thread: more tasks wait than workers
 * are free, counting its own, and fewer than max_workers run.  One submit
 * starts a thread at a time (starting), so the threads' slots fill in
 * order. */
static bool should_grow_locked(struct thread_pool *p)
{
	int nthreads = atomic_load(&p->nthreads);

	return !p->starting && nthreads < p->max_workers &&
	       (long)cf__wq_queued(&p->q) + 1 > (long)nthreads - atomic_load(&p->busy);
}

/* Starts a thread for f, which is queued already, letting go of the lock
 * while the thread is created (start_worker says why).  Queued first, the
 * task is there when the thread starts.  Queued after, the thread went to
 * sleep on work_cond first, and the wake-up that followed put it on the
 * submitter's core, busy submitting, while another core idled: the first
 * tasks of a busy start began late.  Fails, taking f back, only if no
 * thread exists at all; then nothing else is queued either (submitters
 * wait for the first thread: first_thread_starting_locked). */
static int grow_locked(struct thread_pool *p, cf_future *f)
{
	int n = atomic_load(&p->nthreads);

	p->starting = true;
	cf__wq_unlock(&p->q);
	int err = start_worker(p, n);
	cf__wq_lock(&p->q);
	p->starting = false;
	if (n == 0)
		cf__wq_wake_submitters_locked(&p->q);
	if (!err) {
		atomic_store(&p->nthreads, n + 1);
		return 0;
	}
	if (n > 0)
		return 0;       /* the threads there are will run f */
	cf__wq_unpush_locked(&p->q, f);
	return -1;
}

/* Whether the first thread is being started: a submit waits for it, so
 * that if it fails, the queue holds nothing but its starter's task, which
 * is taken back. */
static bool first_thread_starting_locked(struct thread_pool *p)
{
	return p->starting && atomic_load(&p->nthreads) == 0;
}

/* --- Submitting --- */

/* The way of a submit while the pool may still start threads or bounds
 * its queue: it takes the lock.  Inside the gate; returns with f pushed,
 * or why not. */
static cf_status submit_under_lock(struct thread_pool *p, cf_future *f)
{
	cf_status st;

	cf__wq_lock(&p->q);
	while (cf__wq_full_locked(&p->q) || first_thread_starting_locked(p))
		if (!cf__wq_wait_space_locked(&p->q))
			break;
	st = cf__wq_closed(&p->q);
	if (st == CF_OK) {
		bool grow = should_grow_locked(p);

		cf__wq_push(&p->q, f);
		if (grow && grow_locked(p, f) != 0)
			st = CF_SYSTEM;
	}
	cf__wq_unlock(&p->q);
	return st;
}

/* Whether a submit must take the lock: while the pool may still start
 * threads (nthreads only grows), or when its queue is bounded. */
static bool must_lock(struct thread_pool *p)
{
	return cf__wq_bounded(&p->q) || atomic_load(&p->nthreads) < p->max_workers;
}

static cf_status submit_one(struct thread_pool *p, cf_future *f)
{
	cf_status st = cf__wq_enter(&p->q);

	if (st != CF_OK)
		return st;
	st = submit_under_lock(p, f);
	cf__wq_leave(&p->q);
	return st;
}

/* Queues fs[0..n) in order, then wakes workers; *accepted says how many
 * went in.  Once the pool has all its threads, the rest go in as one
 * burst, without the lock. */
static cf_status pool_submit_many(cf_executor *ex, cf_future **fs, size_t n, size_t *accepted)
{
	struct thread_pool *p = ex->impl;
	cf_status st = CF_OK;
	size_t i = 0;

	while (i < n && must_lock(p) && (st = submit_one(p, fs[i])) == CF_OK)
		i++;
	if (st == CF_OK && i < n && (st = cf__wq_push_burst(&p->q, fs + i, n - i)) == CF_OK)
		i = n;
	if (i > 0)
		cf__wq_wake_workers(&p->q);
	*accepted = i;
	return st;
}

static cf_status pool_submit(cf_executor *ex, cf_future *f)
{
	size_t accepted;

	return pool_submit_many(ex, &f, 1, &accepted);
}

/* --- Shutdown, creation, the table --- */

static cf_status pool_shutdown(cf_executor *ex, bool wait, bool cancel_futures)
{
	struct thread_pool *p = ex->impl;

	if (wait && current_pool == p)
		return CF_INVALID_STATE;
	cf__future_abandon_list(cf__wq_close(&p->q, CF_SHUTDOWN, cancel_futures),
				CF_CANCELLED);
	if (!wait)
		return CF_OK;

	/* No thread can start any more, so nthreads is final. */
	pthread_mutex_lock(&p->join_lock);
	int nthreads = atomic_load(&p->nthreads);
	for (; p->joined < nthreads; p->joined++) {
		int rc = pthread_join(p->threads[p->joined].thread, NULL);

		/* Fails only for a thread not ours or joined already. */
		CF_DEBUG_ASSERT(rc == 0);
		(void)rc;
	}
	pthread_mutex_unlock(&p->join_lock);
	return CF_OK;
}

/* The default: as Python's, min(32, CPUs + 4). */
static int default_workers(void)
{
	int workers = cf__cpu_count() + 4;

	return workers > 32 ? 32 : workers;
}

/* Everything but the locks; CF_OK or CF_NOMEM, with nothing to free. */
static cf_status fill_pool(struct thread_pool *p, const cf_options *opts, int workers)
{
	memset(p, 0, sizeof(*p));
	p->threads = calloc((size_t)workers, sizeof(*p->threads));
	if (!p->threads)
		return CF_NOMEM;
	if (cf__bytes_set(&p->initarg, opts->initarg, opts->initarg ? opts->initarg_size : 0)) {
		free(p->threads);
		return CF_NOMEM;
	}
	atomic_init(&p->nthreads, 0);
	atomic_init(&p->busy, 0);
	atomic_init(&p->tasks_completed, 0);
	p->max_workers = workers;
	snprintf(p->name_prefix, sizeof(p->name_prefix), "%s",
		 opts->thread_name_prefix ? opts->thread_name_prefix : "cf");
	p->initializer = opts->initializer;
	return CF_OK;
}

/* 0 or the errno of the lock or condition variable that could not be
 * made (those made before it are destroyed). */
static int init_locks(struct thread_pool *p, const cf_options *opts)
{
	int rc = cf__wq_init(&p->q, opts->max_queued, opts->idle_spin_us);

	if (rc != 0)
		return rc;
	if ((rc = pthread_mutex_init(&p->join_lock, NULL)) != 0)
		cf__wq_destroy(&p->q);
	return rc;
}

static cf_status pool_create(cf_executor *ex, const cf_options *opts)
{
	/* Aligned for the lines its fields are laid out on (calloc promises
	 * 16 bytes only). */
	struct thread_pool *p = aligned_alloc(alignof(struct thread_pool), sizeof(*p));
	int workers = opts->max_workers ? opts->max_workers : default_workers();
	cf_status st;

	if (!p)
		return CF_NOMEM;
	if ((st = fill_pool(p, opts, workers)) != CF_OK) {
		free(p);
		return st;
	}
	if (init_locks(p, opts) != 0) {
		cf__bytes_clear(&p->initarg);
		free(p->threads);
		free(p);
		return CF_SYSTEM;
	}
	ex->impl = p;
	ex->max_workers = workers;
	return CF_OK;
}

static void pool_destroy(cf_executor *ex)
{
	struct thread_pool *p = ex->impl;

	cf__wq_destroy(&p->q);
	pthread_mutex_destroy(&p->join_lock);
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

	return cf__wq_closed(&p->q) == CF_BROKEN ? p->why : NULL;
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
