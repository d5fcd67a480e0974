/* The task a function sees (cf_task in cf.h): the same on every backend. */
#include "core/task.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cf__task_init(struct cf_task *t, const void *arg, size_t arg_size)
{
	t->arg = arg;
	t->arg_size = arg_size;
	t->result.size = 0;
	t->error = NULL;
	t->place = NULL;
}

void cf__task_run(struct cf_task *t, cf_fn fn)
{
	int rc = fn(t);

	/* A task that returned nonzero without calling cf_task_fail still
	 * failed; one that called cf_task_fail and then returned 0 did too. */
	if (rc != 0 && !t->error)
		cf_task_fail(t, rc, "task returned %d", rc);
}

void cf__task_clear(struct cf_task *t)
{
	cf__bytes_clear(&t->result);
	free(t->error);
	t->error = NULL;
}

const void *cf_task_arg(const cf_task *task, size_t *size)
{
	if (!task) {
		if (size)
			*size = 0;
		return NULL;
	}
	if (size)
		*size = task->arg_size;
	return task->arg_size ? task->arg : NULL;
}

/* Where a result of `size` bytes goes: the task's place, if it has one
 * of that size; NULL: into the task's own buffer.  Data, not a callback:
 * this runs once per item of cf_map_into, whose items may cost a few ns. */
static void *claim_place(cf_task *task, size_t size)
{
	struct cf_result_place *p = task->place;

	if (!p)
		return NULL;
	p->filled = size == p->size;
	return p->filled ? p->at : NULL;
}

int cf_task_return(cf_task *task, const void *data, size_t size)
{
	void *place;

	if (!task || (!data && size))
		return CF_INVALID_ARGUMENT;
	place = claim_place(task, size);
	if (place) {
		memcpy(place, data, size);
		cf__bytes_clear(&task->result);
		return CF_OK;
	}
	return cf__bytes_set(&task->result, data, size);
}

void *cf_task_result_buffer(cf_task *task, size_t size)
{
	void *place, *buf;

	if (!task)
		return NULL;
	place = claim_place(task, size);
	cf__bytes_clear(&task->result);
	if (place)
		return place;
	buf = task->result.inline_buf;
	if (size > CF_INLINE_BYTES) {
		if (!(buf = malloc(size)))
			return NULL;
		task->result.heap = buf;
	}
	task->result.size = size;
	return buf;
}

int cf_task_fail(cf_task *task, int code, const char *format, ...)
{
	va_list ap;

	if (code == 0)
		code = -1;
	if (!task)
		return code;
	if (!task->error) {
		task->error = malloc(sizeof(*task->error));
		if (!task->error)
			return code;    /* the code alone still says it failed */
	}
	task->error->code = code;
	task->error->message[0] = '\0';
	if (format) {
		va_start(ap, format);
		vsnprintf(task->error->message, sizeof(task->error->message), format, ap);
		va_end(ap);
	}
	return code;
}
