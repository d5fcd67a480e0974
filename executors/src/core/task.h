/* What a running task sees (cf_task in cf.h): the same on every backend. */
#ifndef CF_CORE_TASK_H
#define CF_CORE_TASK_H

#include "base/bytes.h"
#include "cf.h"

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>

/* Somewhere else a result may go instead of the task's own buffer: a map
 * into an array puts each result straight into the caller's array.  Whoever
 * runs the task keeps the place and points the task at it; core only
 * writes a result of the place's size there and says whether it did. */
struct cf_result_place {
	void *at;               /* a result of exactly `size` bytes goes here */
	size_t size;
	bool filled;            /* set by every cf_task_return and
				 * cf_task_result_buffer: whether the last
				 * result went to `at` (else: into the task) */
};

struct cf_task {
	const void *arg;
	size_t arg_size;
	alignas(max_align_t) struct cf_bytes result;
	cf_error *error;        /* set by cf_task_fail, malloc'ed */
	struct cf_result_place *place;  /* NULL: results go into `result` */
};

/* A task with no result and no place of its own for one. */
void cf__task_init(struct cf_task *t, const void *arg, size_t arg_size);
/* Runs fn; on return the task holds the result or the error (whose code
 * is nonzero exactly when the task failed). */
void cf__task_run(struct cf_task *t, cf_fn fn);
void cf__task_clear(struct cf_task *t);

#endif
