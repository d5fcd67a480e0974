/* The executor interface: picks a backend by name and forwards to its
 * small table of operations, so that new backends (processes, remote
 * workers) slot in without touching callers. */
#include "core/executor.h"

#include "core/future.h"
#include "platform/platform.h"

#include <stdlib.h>
#include <string.h>

extern const struct cf_backend cf__thread_backend;
extern const struct cf_backend cf__process_backend;

static const struct cf_backend *const backends[] = {
	&cf__thread_backend,
	&cf__process_backend,
};

/* Backends that live outside libcf (the MPI one, whose library links
 * libmpi) register themselves from a constructor of their own library,
 * before main runs and before any other thread exists: no lock. */
#define MAX_EXTRA_BACKENDS 4
static const struct cf_backend *extra_backends[MAX_EXTRA_BACKENDS];
static size_t extra_count;

void cf__backend_register(const struct cf_backend *b)
{
	if (extra_count < MAX_EXTRA_BACKENDS)
		extra_backends[extra_count++] = b;
}

static const struct cf_backend *find_backend(const char *name)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	for (size_t i = 0; i < extra_count; i++)
		if (strcmp(extra_backends[i]->name, name) == 0)
			return extra_backends[i];
	return NULL;
}

bool cf_backend_available(const char *backend)
{
	return backend && find_backend(backend) != NULL;
}

cf_status cf_executor_new(const char *backend, const cf_options *opts, cf_executor **out)
{
	static const cf_options defaults;
	const struct cf_backend *b;
	cf_executor *ex;

	if (!backend || !out)
		return CF_INVALID_ARGUMENT;
	*out = NULL;
	b = find_backend(backend);
	if (!b)
		return CF_UNKNOWN_BACKEND;
	if (!opts)
		opts = &defaults;
	if (opts->max_workers < 0 || opts->max_tasks_per_child < 0 ||
	    opts->idle_spin_us < 0 || opts->idle_spin_us > CF_MAX_IDLE_SPIN_US)
		return CF_INVALID_ARGUMENT;
	ex = calloc(1, sizeof(*ex));
	if (!ex)
		return CF_NOMEM;
	ex->backend = b;
	atomic_init(&ex->refs, 1);
	/* The same setting makes idle workers poll for work and waiting
	 * callers poll for results: a hand-off then costs no sleep on
	 * either side.  A backend may choose its own. */
	ex->result_spin_ns = (unsigned)opts->idle_spin_us * 1000u;
	cf_status st = b->create(ex, opts);
	if (st != CF_OK) {
		free(ex);
		return st;
	}
	*out = ex;
	return CF_OK;
}

const char *cf_executor_backend(const cf_executor *ex)
{
	return ex ? ex->backend->name : "";
}

int cf_executor_max_workers(const cf_executor *ex)
{
	return ex ? ex->max_workers : 0;
}

cf_status cf_submit(cf_executor *ex, cf_fn fn, const void *arg, size_t arg_size, cf_future **out)
{
	cf_future *f;
	cf_status st;

	if (out)
		*out = NULL;
	if (!ex || !fn || !out || (!arg && arg_size))
		return CF_INVALID_ARGUMENT;
	st = cf__future_new(fn, arg, arg_size, 0, &f);
	if (st != CF_OK)
		return st;
	cf__future_set_spin(f, ex->result_spin_ns);
	st = ex->backend->submit(ex, f);
	if (st != CF_OK) {
		cf__future_unref(f);
		return st;
	}
	*out = f;
	return CF_OK;
}

cf_status cf__submit_many(cf_executor *ex, cf_future **fs, size_t n, size_t *accepted)
{
	cf_status st = CF_OK;

	for (size_t i = 0; i < n; i++)
		cf__future_set_spin(fs[i], ex->result_spin_ns);
	if (ex->backend->submit_many)
		return ex->backend->submit_many(ex, fs, n, accepted);
	*accepted = 0;
	while (*accepted < n && (st = ex->backend->submit(ex, fs[*accepted])) == CF_OK)
		(*accepted)++;
	return st;
}

cf_status cf_shutdown(cf_executor *ex, bool wait, bool cancel_futures)
{
	if (!ex)
		return CF_INVALID_ARGUMENT;
	return ex->backend->shutdown(ex, wait, cancel_futures);
}

void cf__executor_ref(cf_executor *ex)
{
	atomic_fetch_add_explicit(&ex->refs, 1, memory_order_relaxed);
}

void cf__executor_unref(cf_executor *ex)
{
	if (atomic_fetch_sub_explicit(&ex->refs, 1, memory_order_acq_rel) != 1)
		return;
	ex->backend->destroy(ex);
	free(ex);
}

void cf_executor_free(cf_executor *ex)
{
	if (!ex)
		return;
	/* From one of its own threads (a worker, a callback on the process
	 * pool's manager) the pool cannot wait for itself: freeing it under
	 * its running threads would crash them, so nothing is done. */
	if (ex->backend->shutdown(ex, true, false) == CF_INVALID_STATE)
		return;
	cf__executor_unref(ex);
}

const char *cf_executor_broken_reason(cf_executor *ex)
{
	return ex ? ex->backend->broken_reason(ex) : NULL;
}

cf_status cf_executor_stats_get(cf_executor *ex, cf_executor_stats *stats)
{
	if (!ex || !stats)
		return CF_INVALID_ARGUMENT;
	memset(stats, 0, sizeof(*stats));
	ex->backend->stats(ex, stats);
	return CF_OK;
}
