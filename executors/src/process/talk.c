/* Frames to and from a worker (pool.h): tasks down its task pipe, results
 * and errors up its result pipe. */
#include "process/pool.h"

#include "base/bytes.h"
#include "base/clock.h"
#include "core/task.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cf__proc_send_frame(struct worker *w, uint8_t type, uint64_t id, const void *a, size_t alen,
			const void *b, size_t blen)
{
	int rc = -1;

	pthread_mutex_lock(&w->send_lock);
	if (w->tasks_fd >= 0 && cf__frame_write_pipe(w->tasks_fd, w->results_fd, type, id,
						      a, alen, b, blen) == CF_FRAME_OK)
		rc = 0;
	pthread_mutex_unlock(&w->send_lock);
	return rc;
}

/* A task function outside every loaded object cannot be named to a
 * worker: its future fails at once. */
static bool name_function(cf_future *f, struct cf_fnref *ref)
{
	if (cf__fnref_from_fn((void (*)(void))cf__future_fn(f), ref) == 0)
		return true;
	struct cf_task t;
	cf__task_init(&t, NULL, 0);
	cf_task_fail(&t, -1, "the task function is in no loaded object");
	cf__future_finish(f, &t);
	cf__task_clear(&t);
	return false;
}

/* A failed send needs no handling here: the worker is dead, and the
 * manager breaks the pool when it sees the end of the result pipe.  A
 * function that cannot be named fails f and takes it back off the
 * worker. */
void cf__proc_send_task(struct process_pool *p, struct worker *w, cf_future *f, uint64_t id,
			struct cf_bytes *arg)
{
	unsigned char head[2 + CF_WIRE_MAX_NAME + 8];
	struct cf_fnref ref;

	if (!name_function(f, &ref)) {
		cf__bytes_clear(arg);
		pthread_mutex_lock(&p->lock);
		cf__proc_unassign_locked(w, id);
		pthread_mutex_unlock(&p->lock);
		cf__future_unref(f);
		cf__proc_wake_manager(p);       /* the worker has room again */
		return;
	}
	cf_wire_put_fnref(head, &ref);
	/* Read before sending: once sent, the result may come back, be read
	 * by another thread and f be freed before the send returns. */
	bool borrowable = CF_PROCESS_DIRECT_READ && !cf__future_streamed(f);
	int rc = cf__proc_send_frame(w, CF_WIRE_TASK, id, head, cf_wire_fnref_size(&ref),
				     cf__bytes_data(arg), arg->size);
	cf__bytes_clear(arg);
	if (rc == 0 && borrowable)
		cf__proc_mark_borrowable(p, w, f, id);
}

void cf__proc_settle_worker(struct process_pool *p, struct worker *w)
{
	cf_future *next[WORKER_DEPTH], *f;
	uint64_t next_ids[WORKER_DEPTH];
	struct cf_bytes next_args[WORKER_DEPTH];
	int nnext = 0;

	pthread_mutex_lock(&p->lock);
	while (nnext < WORKER_DEPTH && (f = cf__proc_next_task_locked(p, w, NULL)) != NULL) {
		next[nnext] = f;
		next_ids[nnext] = cf__proc_assign_locked(p, w, f, &next_args[nnext]);
		nnext++;
	}
	bool retire = w->state == WORKER_READY && p->max_tasks_per_child && w->ntasks == 0 &&
		      w->tasks_done >= p->max_tasks_per_child;
	if (retire)
		w->state = WORKER_RETIRING;
	pthread_mutex_unlock(&p->lock);

	for (int i = 0; i < nnext; i++)
		cf__proc_send_task(p, w, next[i], next_ids[i], &next_args[i]);
	/* A worker that cannot be told to exit is dead: its pipe's end is
	 * what the manager waits for either way. */
	if (retire)
		cf__proc_send_frame(w, CF_WIRE_EXIT, 0, NULL, 0, NULL, 0);
	atomic_fetch_add(&p->tasks_completed, 1);
}

/* The task's outcome from a RESULT or ERROR frame; takes the payload. */
static void fill_task(struct cf_task *t, const struct cf_wire_header *h, unsigned char *payload)
{
	cf__task_init(t, NULL, 0);
	if (h->type == CF_WIRE_RESULT) {
		/* Adopt the payload as the result: no copy of large results. */
		cf__bytes_adopt(&t->result, payload, h->length);
		return;
	}
	t->error = calloc(1, sizeof(*t->error));
	if (t->error && cf_wire_get_error(payload, h->length, t->error) != CF_WIRE_OK) {
		t->error->code = -1;
		snprintf(t->error->message, sizeof(t->error->message),
			 "malformed error from a worker");
	}
	free(payload);
}

void cf__proc_complete(cf_future *done, const struct cf_wire_header *h, unsigned char *payload)
{
	struct cf_task t;

	fill_task(&t, h, payload);
	cf__future_finish(done, &t);
	cf__task_clear(&t);
	cf__future_unref(done);
}

/* Says why a frame from w breaks the pool (h: the frame, when whole). */
static void note_bad_frame(struct process_pool *p, struct worker *w, enum cf_frame_status st,
			   enum cf_wire_error wire_error, const struct cf_wire_header *h,
			   const unsigned char *payload)
{
	int i = cf__proc_worker_index(w), err = errno;
	long pid = (long)w->pid;
	cf_error e;

	if (st == CF_FRAME_EOF)
		cf__proc_note_broken(p, w, true, "worker %d (pid %ld) ended", i, pid);
	else if (st == CF_FRAME_CORRUPT && wire_error == CF_WIRE_OK)
		cf__proc_note_broken(p, w, true, "worker %d (pid %ld) ended in the middle of a frame",
				     i, pid);
	else if (st == CF_FRAME_CORRUPT)
		cf__proc_note_broken(p, w, false, "worker %d (pid %ld) sent a corrupt frame: %s",
				     i, pid, cf_wire_strerror(wire_error));
	else if (st == CF_FRAME_IO_ERROR)
		cf__proc_note_broken(p, w, false, "reading from worker %d (pid %ld): %s", i, pid,
				     strerror(err));
	else if (st == CF_FRAME_NOMEM)
		cf__proc_note_broken(p, w, false, "no memory for a frame from worker %d", i);
	else if (h && h->type == CF_WIRE_INIT_FAILED &&
		 cf_wire_get_error(payload, h->length, &e) == CF_WIRE_OK)
		cf__proc_note_broken(p, w, false, "the initializer failed in worker %d (pid %ld): %s",
				     i, pid, e.message);
	else if (h)
		cf__proc_note_broken(p, w, false, "worker %d (pid %ld) sent an unexpected frame "
				     "(type %d, id %llu)", i, pid, (int)h->type,
				     (unsigned long long)h->id);
}

enum frame_outcome cf__proc_read_frame(struct process_pool *p, struct worker *w,
				       bool wait_for_start, struct frame_in *in)
{
	enum cf_wire_error wire_error;
	enum cf_frame_status st;

	if (w->results_fd < 0)
		return FRAME_BAD;
	st = cf__frame_read_some(w->results_fd, &w->reader, wait_for_start, &in->h, &in->payload,
				 &wire_error);
	if (st == CF_FRAME_AGAIN) {
		w->partial_since = cf__now();
		return FRAME_AGAIN;
	}
	in->done = NULL;
	pthread_mutex_lock(&p->lock);
	if (st == CF_FRAME_OK && (in->h.type == CF_WIRE_RESULT || in->h.type == CF_WIRE_ERROR))
		in->done = cf__proc_unassign_locked(w, in->h.id);
	/* Counted with the unassigning, in one critical section: in between,
	 * a submit would see a worker with no task and no task done, and
	 * give it one past max_tasks_per_child. */
	if (in->done)
		w->tasks_done++;
	bool retired = w->state == WORKER_RETIRING && !w->ntasks;
	pthread_mutex_unlock(&p->lock);
	if (in->done)
		return FRAME_RESULT;
	if (st == CF_FRAME_EOF && retired)
		return FRAME_RETIRED;
	note_bad_frame(p, w, st, wire_error, st == CF_FRAME_OK ? &in->h : NULL, in->payload);
	if (st == CF_FRAME_OK)
		free(in->payload);
	return FRAME_BAD;
}
