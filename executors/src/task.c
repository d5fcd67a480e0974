/* Byte buffers, the task a function sees, and the small shared helpers
 * (status names, time). */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* data may lie in b itself (a task that returns part of the buffer
 * cf_task_result_buffer gave it): the bytes are copied out before b's
 * old buffer is freed, and through a copy when they go inline. */
int cf__bytes_set(struct cf_bytes *b, const void *data, size_t size)
{
	unsigned char small[CF_INLINE_BYTES];
	void *heap = NULL;

	if (size > CF_INLINE_BYTES) {
		heap = malloc(size);
		if (!heap)
			return CF_NOMEM;
		memcpy(heap, data, size);
	} else if (size) {
		memcpy(small, data, size);
	}
	cf__bytes_clear(b);
	if (heap)
		b->heap = heap;
	else if (size)
		memcpy(b->inline_buf, small, size);
	b->size = size;
	return CF_OK;
}

void cf__bytes_adopt(struct cf_bytes *b, void *data, size_t size)
{
	cf__bytes_clear(b);
	if (size > CF_INLINE_BYTES) {
		b->heap = data;
	} else {
		if (size)
			memcpy(b->inline_buf, data, size);
		free(data);
	}
	b->size = size;
}

void cf__bytes_move(struct cf_bytes *dst, struct cf_bytes *src)
{
	*dst = *src;
	src->size = 0;
}

void cf__bytes_clear(struct cf_bytes *b)
{
	if (b->size > CF_INLINE_BYTES)
		free(b->heap);
	b->size = 0;
}

void cf__task_init(struct cf_task *t, const void *arg, size_t arg_size)
{
	t->arg = arg;
	t->arg_size = arg_size;
	t->result.size = 0;
	t->error = NULL;
	t->slot = NULL;
	t->slot_size = 0;
	t->slot_filled = false;
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

int cf_task_return(cf_task *task, const void *data, size_t size)
{
	if (!task || (!data && size))
		return CF_INVALID_ARGUMENT;
	/* A map into an array: a result that fits its place goes there. */
	if (task->slot && size == task->slot_size) {
		memcpy(task->slot, data, size);
		cf__bytes_clear(&task->result);
		task->slot_filled = true;
		return CF_OK;
	}
	task->slot_filled = false;
	return cf__bytes_set(&task->result, data, size);
}

void *cf_task_result_buffer(cf_task *task, size_t size)
{
	if (!task)
		return NULL;
	if (task->slot && size == task->slot_size) {
		cf__bytes_clear(&task->result);
		task->slot_filled = true;
		return task->slot;
	}
	task->slot_filled = false;
	cf__bytes_clear(&task->result);
	void *buf = task->result.inline_buf;
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

const char *cf_strerror(cf_status status)
{
	switch (status) {
	case CF_OK: return "ok";
	case CF_TIMEOUT: return "timed out";
	case CF_CANCELLED: return "cancelled";
	case CF_SHUTDOWN: return "executor is shut down";
	case CF_BROKEN: return "executor is broken";
	case CF_TASK_FAILED: return "task failed";
	case CF_INVALID_STATE: return "invalid state";
	case CF_NOMEM: return "out of memory";
	case CF_INVALID_ARGUMENT: return "invalid argument";
	case CF_BUFFER_TOO_SMALL: return "buffer too small";
	case CF_END: return "no more results";
	case CF_UNKNOWN_BACKEND: return "unknown backend";
	case CF_SYSTEM: return "system error";
	}
	return "unknown status";
}

double cf__now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double cf__deadline(double timeout)
{
	return timeout < 0 ? -1.0 : cf__now() + timeout;
}

static pthread_condattr_t monotonic_attr;
static pthread_once_t monotonic_once = PTHREAD_ONCE_INIT;

static void monotonic_attr_init(void)
{
	pthread_condattr_init(&monotonic_attr);
	pthread_condattr_setclock(&monotonic_attr, CLOCK_MONOTONIC);
}

/* Deadlines are on the monotonic clock so that a change of the wall clock
 * neither shortens nor stretches a timeout. */
int cf__cond_init(pthread_cond_t *cond)
{
	pthread_once(&monotonic_once, monotonic_attr_init);
	return pthread_cond_init(cond, &monotonic_attr);
}

int cf__cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *lock, double deadline)
{
	struct timespec ts;

	if (deadline < 0)
		return pthread_cond_wait(cond, lock);
	if (deadline > 1e12)
		deadline = 1e12;
	ts.tv_sec = (time_t)deadline;
	ts.tv_nsec = (long)((deadline - (double)ts.tv_sec) * 1e9);
	if (ts.tv_nsec >= 1000000000L)
		ts.tv_nsec = 999999999L;
	return pthread_cond_timedwait(cond, lock, &ts);
}

int cf__cpu_count(void)
{
	cpu_set_t set;

	/* Respect an affinity mask (taskset, containers) like os.process_cpu_count. */
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		return CPU_COUNT(&set) > 0 ? CPU_COUNT(&set) : 1;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}
