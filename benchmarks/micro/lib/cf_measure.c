#define _GNU_SOURCE
#include "cf_measure.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>

#include "micro_util.h"
#include "stats.h"

int micro_empty_task(cf_task *task)
{
	(void)task;
	return 0;
}

double micro_map_empty_ns(cf_executor *ex, long tasks, size_t chunksize)
{
	cf_map_options opts = { .timeout = CF_FOREVER, .chunksize = chunksize };
	cf_map_iter *it;
	long got = 0;

	double start = pl_now();
	if (cf_map(ex, micro_empty_task, NULL, 0, (size_t)tasks, &opts, &it) != CF_OK)
		micro_fail("cf_map failed");
	while (cf_map_next(it, NULL, NULL) == CF_OK)
		got++;
	cf_map_free(it);
	double elapsed = pl_now() - start;
	if (got != tasks)
		micro_fail("cf_map lost results");
	return elapsed * 1e9 / tasks;
}

void micro_submit_result(cf_executor *ex)
{
	cf_future *f;

	if (cf_submit(ex, micro_empty_task, NULL, 0, &f) != CF_OK ||
	    cf_future_result(f, CF_FOREVER, NULL, NULL) != CF_OK)
		micro_fail("submit+result failed");
	cf_future_release(f);
}

/* ---- pools with their workers started (and placed) ----------------------- */

struct rendezvous {
	atomic_int arrived;
	int expected;
};

/* Waits, a second at most, until every worker holds one: then each task
 * had a worker of its own, and the pool has started all of them.  It
 * yields while waiting, since the others may share its CPU. */
static int rendezvous_task(cf_task *task)
{
	struct rendezvous *const *rv = cf_task_arg(task, NULL);
	double until = pl_now() + 1.0;

	atomic_fetch_add(&(*rv)->arrived, 1);
	while (atomic_load(&(*rv)->arrived) < (*rv)->expected && pl_now() < until)
		sched_yield();
	return 0;
}

/* Runs `workers` tasks at once: a thread pool starts a worker per task
 * that finds none free, a process pool one per queued task. */
static void start_workers(cf_executor *ex, int workers, bool thread)
{
	struct rendezvous rv = { 0, workers }, *p = &rv;
	cf_future *f[MICRO_MAX_TASKS];

	if (workers > MICRO_MAX_TASKS)
		micro_fail("too many workers to start");
	for (int i = 0; i < workers; i++)
		if (thread ? cf_submit(ex, rendezvous_task, &p, sizeof(p), &f[i]) != CF_OK
			   : cf_submit(ex, micro_empty_task, NULL, 0, &f[i]) != CF_OK)
			micro_fail("cf_submit failed while starting the workers");
	for (int i = 0; i < workers; i++) {
		if (cf_future_result(f[i], CF_FOREVER, NULL, NULL) != CF_OK)
			micro_fail("a task failed while starting the workers");
		cf_future_release(f[i]);
	}
}

static void expect_count(const struct micro_tasks *t, int n, const char *what)
{
	char msg[128];

	if (t->n == n)
		return;
	snprintf(msg, sizeof(msg), "placement: the pool started %d %s, not %d", t->n, what, n);
	micro_fail(msg);
}

/* Threads inherit their creator's mask, and a thread pool creates its
 * workers in the submitting thread: created while the caller sits on
 * pl->there, they are there; then the caller moves to pl->here. */
static cf_executor *thread_pool(const cf_options *opts, const struct micro_place *pl)
{
	struct micro_tasks before, now, fresh;
	cf_executor *ex;

	micro_threads(&before);
	if (pl)
		micro_pin_self(pl->there);
	if (cf_executor_new("thread", opts, &ex) != CF_OK)
		micro_fail("cannot create a thread pool");
	start_workers(ex, cf_executor_max_workers(ex), true);
	if (!pl)
		return ex;
	micro_pin_self(pl->here);
	micro_threads(&now);
	micro_tasks_new(&fresh, &before, &now);
	expect_count(&fresh, cf_executor_max_workers(ex), "worker threads");
	for (int i = 0; i < fresh.n; i++)
		micro_expect_task(fresh.id[i], pl->there, "a cf worker thread");
	return ex;
}

/* The manager thread is created with the pool, so it inherits the
 * caller's CPU; the worker processes are spawned by the manager and
 * inherit it too, so they are moved to pl->there by their pid. */
static cf_executor *process_pool(const cf_options *opts, const struct micro_place *pl)
{
	struct micro_tasks before, now, fresh, children;
	cf_executor *ex;
	int workers;

	if (pl)
		micro_pin_self(pl->here);
	micro_threads(&before);
	if (cf_executor_new("process", opts, &ex) != CF_OK)
		micro_fail("cannot create a process pool");
	workers = cf_executor_max_workers(ex);
	start_workers(ex, workers, false);
	if (!pl)
		return ex;
	micro_children(&children);
	expect_count(&children, workers, "worker processes");
	for (int i = 0; i < children.n; i++)
		micro_pin_task(children.id[i], pl->there, "a cf worker process");
	micro_threads(&now);
	micro_tasks_new(&fresh, &before, &now);
	for (int i = 0; i < fresh.n; i++)
		micro_expect_task(fresh.id[i], pl->here, "the process pool's manager thread");
	/* A task each, so that every worker has woken on its new CPU. */
	start_workers(ex, workers, false);
	return ex;
}

cf_executor *micro_pool_new(const char *backend, const cf_options *opts,
			    const struct micro_place *pl)
{
	if (!micro_pinned(pl))
		pl = NULL;
	return backend[0] == 't' ? thread_pool(opts, pl) : process_pool(opts, pl);
}

void micro_pool_free(cf_executor *ex, const struct micro_place *pl)
{
	cf_executor_free(ex);
	if (micro_pinned(pl))
		micro_unpin_self();
}
