/* The MPI backend's cf_backend interface (pool.h says how the pool
 * works): create, submit, shutdown, destroy, stats. */
#include "mpi/pool.h"

#include "base/clock.h"
#include "core/executor.h"
#include "mpi/runtime.h"
#include "platform/platform.h"
#include "wire/le.h"
#include "wire/wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How often a worker running a task says it lives, and how long a busy
 * worker may stay silent before it is taken for dead: a bound, not a
 * timeout on tasks (a long task beats all along).  CF_MPI_SILENCE_S
 * changes the bound (tests shorten it). */
#define BEAT_MS 1000
#define SILENCE_S 10.0

/* Lock held. */
static void wake_manager(struct mpi_pool *p)
{
	atomic_store(&p->woken, true);
	pthread_cond_signal(&p->wake);
}

static cf_status pool_submit(cf_executor *ex, cf_future *f)
{
	struct mpi_pool *p = ex->impl;
	cf_status st = CF_OK;

	pthread_mutex_lock(&p->lock);
	if (p->broken) {
		st = CF_BROKEN;
	} else if (p->shutdown) {
		st = CF_SHUTDOWN;
	} else {
		cf__future_ref(f);      /* the pool's reference */
		cf__future_set_backend_data(f, p);
		/* A caller waiting for its task polls the workers itself
		 * (help.c), not the future's flag; one reading a map's
		 * stream sleeps while the manager polls: either way two
		 * threads poll, the worker and one of the pool's side. */
		cf__future_set_spin(f, 0);
		if (!cf__future_streamed(f))
			cf__future_set_wait_help(f, p->wait_help);
		cf__fifo_push(&p->queue, cf__future_link(f));
		/* A manager that polls will see the task; only one asleep
		 * (nothing out for a while, or no worker yet) is woken. */
		if (p->sleeping)
			wake_manager(p);
	}
	pthread_mutex_unlock(&p->lock);
	if (st == CF_OK)
		cf__mpi_try_dispatch(p);
	return st;
}

static cf_status pool_shutdown(cf_executor *ex, bool wait, bool cancel_futures)
{
	struct mpi_pool *p = ex->impl;
	struct cf_link *cancelled = NULL;

	/* A done callback runs on the manager thread. */
	if (wait && pthread_equal(pthread_self(), p->manager))
		return CF_INVALID_STATE;
	pthread_mutex_lock(&p->lock);
	p->shutdown = true;
	if (cancel_futures)
		cancelled = cf__fifo_take_all(&p->queue);
	wake_manager(p);
	pthread_mutex_unlock(&p->lock);
	cf__future_abandon_list(cancelled, CF_CANCELLED);
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

/* START's body: spin, beat, and the initializer if there is one. */
static cf_status make_start_body(struct mpi_pool *p, const cf_options *opts)
{
	struct cf_fnref ref;
	size_t head = 0, arg = 0;

	if (opts->initializer) {
		if (cf__fnref_from_fn((void (*)(void))opts->initializer, &ref) != 0)
			return CF_INVALID_ARGUMENT;
		head = cf_wire_fnref_size(&ref);
		arg = opts->initarg ? opts->initarg_size : 0;
	}
	p->start_len = 9 + head + arg;
	p->start_body = malloc(p->start_len);
	if (!p->start_body)
		return CF_NOMEM;
	cf__le_put_u32(p->start_body, (uint32_t)opts->idle_spin_us);
	cf__le_put_u32(p->start_body + 4, p->beat_ms);
	p->start_body[8] = opts->initializer != NULL;
	if (opts->initializer)
		cf_wire_put_fnref(p->start_body + 9, &ref);
	if (arg)
		memcpy(p->start_body + 9 + head, opts->initarg, arg);
	return CF_OK;
}

static double silence_bound(void)
{
	const char *text = getenv("CF_MPI_SILENCE_S");
	double s = text ? strtod(text, NULL) : 0;

	return s > 0 ? s : SILENCE_S;
}

static struct mpi_pool *pool_alloc(const cf_options *opts)
{
	struct mpi_pool *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->max_workers = opts->max_workers;
	p->beat_ms = BEAT_MS;
	p->silence_s = silence_bound();
	/* The manager spins as long as the callers would, but only while no
	 * caller polls for it (help.c): a map's stream of chunks, which no
	 * caller helps with, needs it; one task at a time does not. */
	p->spin_us = p->backoff.spin_us = (unsigned)opts->idle_spin_us;
	p->wait_help = cf__mpi_wait_help_index();
	p->generation = cf__mpi_next_generation();
	cf__mpi_identity_self(&p->me, false);
	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&p->mpi_lock, NULL);
	pthread_mutex_init(&p->join_lock, NULL);
	cf__cond_init(&p->wake);
	cf__cond_init(&p->helpers_cond);
	return p;
}

/* Once no helper is inside the pool. */
static void pool_free(struct mpi_pool *p)
{
	pthread_mutex_lock(&p->lock);
	while (atomic_load(&p->helpers) > 0)
		pthread_cond_wait(&p->helpers_cond, &p->lock);
	pthread_mutex_unlock(&p->lock);
	pthread_cond_destroy(&p->helpers_cond);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->mpi_lock);
	pthread_mutex_destroy(&p->lock);
	pthread_mutex_destroy(&p->join_lock);
	free(p->start_body);
	free(p->workers);
	free(p);
}

/* The worker bound: the static ranks a pool would get, or the cores. */
static int default_workers(void)
{
	const char *size = getenv("OMPI_COMM_WORLD_SIZE");
	int ranks = size ? atoi(size) - 1 : 0;

	return ranks >= 1 ? ranks : cf__cpu_count();
}

static cf_status pool_create(cf_executor *ex, const cf_options *opts)
{
	char why[160];
	struct mpi_pool *p;

	if (cf__mpi_runtime_start(why, sizeof(why)) != 0) {
		fprintf(stderr, "cf mpi: %s\n", why);
		return CF_SYSTEM;
	}
	p = pool_alloc(opts);
	if (!p)
		return CF_NOMEM;
	if (p->max_workers == 0)
		p->max_workers = default_workers();
	cf_status st = make_start_body(p, opts);
	if (st == CF_OK && cf__exe_path(p->exe, sizeof(p->exe)) < 0)
		st = CF_SYSTEM;
	if (st == CF_OK) {
		cf__mpi_pool_began();
		if (pthread_create(&p->manager, NULL, cf__mpi_manager_main, p) != 0) {
			cf__mpi_pool_ended();
			st = CF_SYSTEM;
		}
	}
	if (st != CF_OK) {
		pool_free(p);
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
	struct mpi_pool *p = ex->impl;

	stats->helper_threads = 1;      /* the manager */
	stats->processes_created = atomic_load(&p->processes_created);
	stats->tasks_completed = atomic_load(&p->tasks_completed);
}

static const char *pool_broken_reason(cf_executor *ex)
{
	struct mpi_pool *p = ex->impl;

	pthread_mutex_lock(&p->lock);
	bool broken = p->broken;
	pthread_mutex_unlock(&p->lock);
	return broken ? p->why : NULL;
}

const struct cf_backend cf__mpi_backend = {
	.name = "mpi",
	.create = pool_create,
	.submit = pool_submit,
	.shutdown = pool_shutdown,
	.destroy = pool_destroy,
	.stats = pool_stats,
	.broken_reason = pool_broken_reason,
};
