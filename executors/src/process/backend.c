/* The process backend's cf_backend interface (pool.h says how the pool
 * works): create, submit, shutdown, destroy, stats. */
#include "process/pool.h"

#include "base/bytes.h"
#include "core/executor.h"
#include "process/worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The worker's entry point runs as a constructor; this reference makes a
 * static link keep worker.o, which nothing else names. */
__attribute__((used)) static void (*const keep_worker_entry)(void) = cf__process_worker_entry;

/* Queues f, or hands it to an idle worker at once (*w, with *id and its
 * argument in *arg).  Lock held. */
static void accept_locked(struct process_pool *p, cf_future *f, struct worker **w, uint64_t *id,
			  struct cf_bytes *arg)
{
	cf__future_ref(f);      /* the pool's reference */
	if (!cf__future_streamed(f))
		cf__future_set_wait_help(f, p->wait_help);
	/* Straight to a worker only if it is idle: one with a task ahead
	 * already is served by the manager as results come. */
	*w = cf__proc_find_taker_locked(p, f);
	if (*w && (*w)->ntasks == 0 && cf__future_start(f))
		*id = cf__proc_assign_locked(p, *w, f, arg);
	else
		*w = NULL;
	if (!*w)
		cf__fifo_push(&p->queue, cf__future_link(f));
}

/* A task goes straight to an idle worker from the submitting thread, one
 * hop less than through the manager; otherwise it waits in the queue and
 * the manager starts a worker for it or hands it on when one frees up. */
static cf_status pool_submit(cf_executor *ex, cf_future *f)
{
	struct process_pool *p = ex->impl;
	struct worker *w = NULL;
	uint64_t id = 0;
	struct cf_bytes arg;
	cf_status st = CF_OK;

	pthread_mutex_lock(&p->lock);
	if (p->broken)
		st = CF_BROKEN;
	else if (p->shutdown)
		st = CF_SHUTDOWN;
	else
		accept_locked(p, f, &w, &id, &arg);
	pthread_mutex_unlock(&p->lock);
	if (st != CF_OK)
		return st;
	if (w)
		cf__proc_send_task(p, w, f, id, &arg);
	else
		cf__proc_wake_manager(p);
	return CF_OK;
}

static cf_status pool_shutdown(cf_executor *ex, bool wait, bool cancel_futures)
{
	struct process_pool *p = ex->impl;
	struct cf_link *cancelled = NULL;

	/* A done callback runs on the manager thread: waiting there for the
	 * manager to end would wait for itself. */
	if (wait && pthread_equal(pthread_self(), p->manager))
		return CF_INVALID_STATE;
	pthread_mutex_lock(&p->lock);
	p->shutdown = true;
	if (cancel_futures)
		cancelled = cf__fifo_take_all(&p->queue);
	pthread_mutex_unlock(&p->lock);
	cf__future_abandon_list(cancelled, CF_CANCELLED);
	cf__proc_wake_manager(p);
	if (!wait)
		return CF_OK;
	pthread_mutex_lock(&p->join_lock);
	if (!p->joined) {
		pthread_join(p->manager, NULL);
		p->joined = true;
	}
	pthread_mutex_unlock(&p->join_lock);
	return CF_OK;
}

/* ---- creating and freeing ---- */

static cf_status make_init_frame(struct process_pool *p, const cf_options *opts)
{
	struct cf_fnref ref;

	if (!opts->initializer)
		return CF_OK;
	if (cf__fnref_from_fn((void (*)(void))opts->initializer, &ref) != 0)
		return CF_INVALID_ARGUMENT;
	size_t head = cf_wire_fnref_size(&ref);
	size_t arg = opts->initarg ? opts->initarg_size : 0;
	p->init_frame = malloc(head + arg);
	if (!p->init_frame)
		return CF_NOMEM;
	cf_wire_put_fnref(p->init_frame, &ref);
	if (arg)
		memcpy(p->init_frame + head, opts->initarg, arg);
	p->init_frame_len = head + arg;
	return CF_OK;
}

/* The pool and its worker slots, nothing opened or initialised yet. */
static struct process_pool *pool_alloc(const cf_options *opts)
{
	struct process_pool *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->exe_fd = -1;
	p->wakeup.fd = -1;
	p->poller.fd = -1;
	p->max_workers = opts->max_workers ? opts->max_workers : cf__cpu_count();
	p->max_tasks_per_child = opts->max_tasks_per_child;
	p->wait_help = cf__proc_wait_help_index();
	p->workers = calloc((size_t)p->max_workers, sizeof(*p->workers));
	if (!p->workers) {
		free(p);
		return NULL;
	}
	return p;
}

/* The pool's own locks: 0, or an errno with none of them made. */
static int init_locks(struct process_pool *p)
{
	int err = pthread_mutex_init(&p->lock, NULL);

	if (err)
		return err;
	err = pthread_mutex_init(&p->join_lock, NULL);
	if (err)
		goto destroy_lock;
	err = pthread_cond_init(&p->borrowers_cond, NULL);
	if (err)
		goto destroy_join_lock;
	p->locks_made = true;
	return 0;
destroy_join_lock:
	pthread_mutex_destroy(&p->join_lock);
destroy_lock:
	pthread_mutex_destroy(&p->lock);
	return err;
}

/* A FREE slot: 0, or an errno with none of its locks made. */
static int init_worker(struct process_pool *p, struct worker *w)
{
	int err = pthread_mutex_init(&w->send_lock, NULL);

	if (err)
		return err;
	err = pthread_mutex_init(&w->read_lock, NULL);
	if (err) {
		pthread_mutex_destroy(&w->send_lock);
		return err;
	}
	w->pool = p;
	w->state = WORKER_FREE;
	w->tasks_fd = w->tasks_kept_fd = w->results_fd = -1;
	return 0;
}

static int init_workers(struct process_pool *p)
{
	for (; p->workers_made < p->max_workers; p->workers_made++) {
		int err = init_worker(p, &p->workers[p->workers_made]);
		if (err)
			return err;
	}
	return 0;
}

/* The manager's poller, watching the wake-up callers send it. */
static int open_channels(struct process_pool *p)
{
	int err = cf__wakeup_open(&p->wakeup);

	if (!err)
		err = cf__poller_open(&p->poller);
	if (!err)
		err = cf__poller_add(&p->poller, cf__wakeup_fd(&p->wakeup), NULL);
	return err;
}

/* Frees what pool_create made of the pool, all or part, once no
 * borrower is inside it. */
static void pool_free(struct process_pool *p)
{
	if (p->locks_made) {
		pthread_mutex_lock(&p->lock);
		while (atomic_load(&p->borrowers) > 0)
			pthread_cond_wait(&p->borrowers_cond, &p->lock);
		pthread_mutex_unlock(&p->lock);
		pthread_cond_destroy(&p->borrowers_cond);
		pthread_mutex_destroy(&p->lock);
		pthread_mutex_destroy(&p->join_lock);
	}
	cf__wakeup_close(&p->wakeup);
	cf__poller_close(&p->poller);
	if (p->exe_fd >= 0)
		close(p->exe_fd);
	free(p->init_frame);
	for (int i = 0; i < p->workers_made; i++) {
		pthread_mutex_destroy(&p->workers[i].send_lock);
		pthread_mutex_destroy(&p->workers[i].read_lock);
	}
	free(p->workers);
	free(p);
}

/* Everything but the manager: 0, or an errno (CF_SYSTEM). */
static int pool_open(struct process_pool *p)
{
	int err = init_locks(p);

	if (!err)
		err = init_workers(p);
	if (!err)
		err = open_channels(p);
	if (!err && cf__proc_open_exe(p) != 0)
		err = errno;
	return err;
}

static cf_status pool_create(cf_executor *ex, const cf_options *opts)
{
	struct process_pool *p = pool_alloc(opts);
	cf_status st;

	if (!p)
		return CF_NOMEM;
	int err = pool_open(p);
	st = err ? CF_SYSTEM : make_init_frame(p, opts);
	if (st == CF_OK) {
		err = pthread_create(&p->manager, NULL, cf__proc_manager_main, p);
		st = err ? CF_SYSTEM : CF_OK;
	}
	if (st != CF_OK) {
		pool_free(p);
		errno = err;
		return st;
	}
	ex->impl = p;
	ex->max_workers = p->max_workers;
	return CF_OK;
}

static void pool_destroy(cf_executor *ex)
{
	pool_free(ex->impl);
}

static void pool_stats(cf_executor *ex, cf_executor_stats *stats)
{
	struct process_pool *p = ex->impl;

	stats->helper_threads = 1;      /* the manager */
	stats->processes_created = atomic_load(&p->processes_created);
	stats->tasks_completed = atomic_load(&p->tasks_completed);
}

static const char *pool_broken_reason(cf_executor *ex)
{
	struct process_pool *p = ex->impl;

	pthread_mutex_lock(&p->lock);
	bool broken = p->broken;
	pthread_mutex_unlock(&p->lock);
	return broken ? p->why : NULL;
}

const struct cf_backend cf__process_backend = {
	.name = "process",
	.create = pool_create,
	.submit = pool_submit,
	.shutdown = pool_shutdown,
	.destroy = pool_destroy,
	.stats = pool_stats,
	.broken_reason = pool_broken_reason,
};
