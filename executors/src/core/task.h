/* What a running task sees (cf_task in cf.h): the same on every backend. */
#ifndef CF_CORE_TASK_H
#define CF_CORE_TASK_H

#include "base/bytes.h"
#include "cf.h"

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>

struct cf_task {
	const void *arg;
	size_t arg_size;
	alignas(max_align_t) struct cf_bytes result;
	cf_error *error;        /* set by cf_task_fail, malloc'ed */
	/* cf_map_into: where a result of exactly slot_size bytes goes, with
	 * no copy in between (NULL: into `result`); slot_filled says it went
	 * there. */
	void *slot;
	size_t slot_size;
	bool slot_filled;
};

void cf__task_init(struct cf_task *t, const void *arg, size_t arg_size);
/* Runs fn; on return the task holds the result or the error (whose code
 * is nonzero exactly when the task failed). */
void cf__task_run(struct cf_task *t, cf_fn fn);
void cf__task_clear(struct cf_task *t);

#endif
