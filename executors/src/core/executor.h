/* Executors and the table of operations every backend fills in.  Core
 * knows backends only through this table; executor.c is the one place
 * that names them. */
#ifndef CF_CORE_EXECUTOR_H
#define CF_CORE_EXECUTOR_H

#include "cf.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct cf_backend {
	const char *name;
	/* Tasks run in the caller's address space (threads), so a map may
	 * hand them pointers to the caller's items and result array. */
	bool shares_memory;
	cf_status (*create)(cf_executor *ex, const cf_options *opts);
	cf_status (*submit)(cf_executor *ex, cf_future *f);
	/* Optional: queue n futures at once (one lock, one wake-up for many).
	 * *accepted gets how many, in order, were queued. */
	cf_status (*submit_many)(cf_executor *ex, cf_future **fs, size_t n, size_t *accepted);
	cf_status (*shutdown)(cf_executor *ex, bool wait, bool cancel_futures);
	void (*destroy)(cf_executor *ex);
	void (*stats)(cf_executor *ex, cf_executor_stats *stats);
	/* Why the pool is broken, or NULL while it is not; the text never
	 * changes once the pool is broken. */
	const char *(*broken_reason)(cf_executor *ex);
};

/* An executor lives until cf_executor_free and every map iterator made
 * from it are done with it: an iterator submits as it is read, and may be
 * read after the caller freed the executor (it then gets CF_SHUTDOWN from
 * the shut-down backend, never freed memory). */
struct cf_executor {
	const struct cf_backend *backend;
	void *impl;
	atomic_int refs;                /* the caller's, one per live map */
	int max_workers;
	/* How long cf_future_result & co. poll a future of this executor
	 * before sleeping on its condition variable, in ns (0: never). */
	unsigned result_spin_ns;
};

/* Adds a backend kept outside libcf; called from its library's
 * constructor (at most a few). */
void cf__backend_register(const struct cf_backend *b);

void cf__executor_ref(cf_executor *ex);
/* Drops a reference; the last one destroys the (shut down) backend. */
void cf__executor_unref(cf_executor *ex);

/* Queues futures made by cf__future_new; the backend takes its own
 * references.  *accepted: how many, from the first, were queued. */
cf_status cf__submit_many(cf_executor *ex, cf_future **fs, size_t n, size_t *accepted);

#endif
