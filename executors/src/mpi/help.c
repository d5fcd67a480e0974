/* Callers that do the manager's work (pool.h).
 *
 * A caller waiting for its task's result would otherwise spin while the
 * manager thread, spinning too, takes the result and then wakes it: on a
 * machine of two cores, three threads spinning for one round trip with a
 * worker, where an MPI ping-pong has two.  So a caller about to wait
 * polls the workers itself for as long as idle_spin_us allows, taking
 * mpi_lock only when it is free, then leaves the rest to the manager and
 * sleeps on its future.  The manager sleeps while a caller helps.
 *
 * The pool stays alive while a helper is inside it (helpers > 0):
 * destroy waits for them.
 */
#include "mpi/pool.h"

#include "base/clock.h"

/* Joins the pool's helpers if f is not done: an unfinished future of the
 * pool means the manager has not ended, so the pool is alive. */
static struct mpi_pool *join_helpers(cf_future *f)
{
	struct mpi_pool *p;

	cf__future_lock(f);
	p = cf__future_finished(f) ? NULL : cf__future_backend_data(f);
	if (p)
		atomic_fetch_add(&p->helpers, 1);
	cf__future_unlock(f);
	return p;
}

/* The manager, which polls every millisecond while a caller helps,
 * takes over without being woken. */
static void leave_helpers(struct mpi_pool *p)
{
	pthread_mutex_lock(&p->lock);
	if (atomic_fetch_sub(&p->helpers, 1) == 1)
		pthread_cond_broadcast(&p->helpers_cond);
	pthread_mutex_unlock(&p->lock);
}

static void help_wait(cf_future *f, double deadline)
{
	struct mpi_pool *p = join_helpers(f);
	struct cf_mpi_backoff spin = { 0 };

	if (!p)
		return;
	spin.spin_us = p->spin_us;
	cf__mpi_backoff_reset(&spin);
	for (unsigned i = 0; !cf__future_finished(f); i++) {
		bool moved = false;
		if (deadline >= 0 && cf__now() >= deadline)
			break;
		if (pthread_mutex_trylock(&p->mpi_lock) == 0) {
			moved = cf__mpi_progress(p);
			pthread_mutex_unlock(&p->mpi_lock);
		}
		if (moved)
			cf__mpi_backoff_reset(&spin);
		else if (cf__mpi_backoff_next(&spin) != 0)
			break;          /* the spin is over: sleep on f */
		else
			cf__spin_step(i);
	}
	leave_helpers(p);
}

static unsigned help_wait_index;
static pthread_once_t help_wait_once = PTHREAD_ONCE_INIT;

static void register_help_wait(void)
{
	help_wait_index = cf__wait_help_register(help_wait);
}

unsigned cf__mpi_wait_help_index(void)
{
	pthread_once(&help_wait_once, register_help_wait);
	return help_wait_index;
}

void cf__mpi_try_dispatch(struct mpi_pool *p)
{
	if (pthread_mutex_trylock(&p->mpi_lock) != 0)
		return;
	cf__mpi_dispatch(p);
	pthread_mutex_unlock(&p->mpi_lock);
}
