/* The process pool's books (pool.h): which worker holds which task,
 * which may take one, and why the pool broke.  Nothing here talks to a
 * worker or waits. */
#include "process/pool.h"

#include "base/annotate.h"
#include "base/bytes.h"

#include <stdio.h>

static void note_broken_v(struct process_pool *p, struct worker *w, bool ended,
			  const char *fmt, va_list ap)
{
	if (p->why[0] || p->broken)
		return;
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	p->culprit = w;
	p->culprit_ended = ended;
}

void cf__proc_note_broken(struct process_pool *p, struct worker *w, bool ended,
			  const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&p->lock);
	va_start(ap, fmt);
	note_broken_v(p, w, ended, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&p->lock);
}

int cf__proc_worker_index(const struct worker *w)
{
	return (int)(w - w->pool->workers);
}

/* A wake-up fails only if its descriptor is not one, which pool_create
 * made sure of; a wake-up already pending is as good as a new one. */
void cf__proc_wake_manager(struct process_pool *p)
{
	int err = cf__wakeup_signal(&p->wakeup);

	CF_DEBUG_ASSERT(err == 0);
	(void)err;
}

static bool may_go_ahead(const struct worker *w, const cf_future *f)
{
	return cf__future_streamed(f) && w->ahead_max &&
	       cf__future_payload((cf_future *)f)->size <= w->ahead_max;
}

bool cf__proc_can_take_locked(const struct process_pool *p, const struct worker *w,
			      const cf_future *f)
{
	int depth = may_go_ahead(w, f) ? WORKER_DEPTH : 1;

	return w->state == WORKER_READY && w->ntasks < depth &&
	       (!p->max_tasks_per_child || w->tasks_done + w->ntasks < p->max_tasks_per_child);
}

struct worker *cf__proc_find_taker_locked(struct process_pool *p, const cf_future *f)
{
	struct worker *ahead = NULL;

	for (int i = 0; i < p->max_workers; i++) {
		struct worker *w = &p->workers[i];
		if (!cf__proc_can_take_locked(p, w, f))
			continue;
		if (w->ntasks == 0)
			return w;
		if (!ahead)
			ahead = w;
	}
	return ahead;
}

cf_future *cf__proc_next_task_locked(struct process_pool *p, struct worker *w,
				     struct worker **taker)
{
	while (p->queue.head) {
		cf_future *f = cf__future_of_link(p->queue.head);
		struct worker *t = w;

		if (!w)
			t = cf__proc_find_taker_locked(p, f);
		else if (!cf__proc_can_take_locked(p, w, f))
			t = NULL;
		if (!t)
			return NULL;
		cf__fifo_pop(&p->queue);
		if (cf__future_start(f)) {
			if (taker)
				*taker = t;
			return f;
		}
		cf__future_unref(f);    /* cancelled while queued */
	}
	return NULL;
}

/* Once sent, the future has no use for its argument, and its place will
 * hold the result.  The sender holds the bytes, because the result may
 * come back and f be freed before the send returns. */
uint64_t cf__proc_assign_locked(struct process_pool *p, struct worker *w, cf_future *f,
				struct cf_bytes *arg)
{
	uint64_t id = ++p->next_id;

	CF_DEBUG_ASSERT(w->state == WORKER_READY && w->ntasks < WORKER_DEPTH);
	cf__bytes_move(arg, cf__future_payload(f));
	w->tasks[w->ntasks] = f;
	w->ids[w->ntasks] = id;
	w->ntasks++;
	return id;
}

cf_future *cf__proc_unassign_locked(struct worker *w, uint64_t id)
{
	for (int k = 0; k < w->ntasks; k++) {
		if (w->ids[k] != id)
			continue;
		cf_future *f = w->tasks[k];
		cf__future_set_backend_data(f, NULL);
		for (; k + 1 < w->ntasks; k++) {
			w->tasks[k] = w->tasks[k + 1];
			w->ids[k] = w->ids[k + 1];
		}
		w->ntasks--;
		return f;
	}
	return NULL;
}

/* Sent, and still on w (its result may already have been read, and f
 * freed: f is compared, not read, until it is found on w, where the
 * pool's reference keeps it alive). */
void cf__proc_mark_borrowable(struct process_pool *p, struct worker *w, cf_future *f,
			      uint64_t id)
{
	pthread_mutex_lock(&p->lock);
	for (int k = 0; k < w->ntasks; k++)
		if (w->tasks[k] == f && w->ids[k] == id)
			cf__future_set_backend_data(f, w);
	pthread_mutex_unlock(&p->lock);
}

int cf__proc_count_ready_locked(struct process_pool *p, bool idle_only)
{
	int n = 0;

	for (int i = 0; i < p->max_workers; i++) {
		const struct worker *w = &p->workers[i];
		if (w->state == WORKER_READY && (!idle_only || !w->ntasks))
			n++;
	}
	return n;
}

struct worker *cf__proc_free_slot_locked(struct process_pool *p)
{
	for (int i = 0; i < p->max_workers; i++)
		if (p->workers[i].state == WORKER_FREE)
			return &p->workers[i];
	return NULL;
}

void cf__proc_stop_all_locked(struct process_pool *p)
{
	for (int i = 0; i < p->max_workers; i++)
		if (p->workers[i].state != WORKER_FREE)
			p->workers[i].state = WORKER_STOPPING;
}

enum worker_state cf__proc_state_of(struct process_pool *p, struct worker *w)
{
	pthread_mutex_lock(&p->lock);
	enum worker_state state = w->state;
	pthread_mutex_unlock(&p->lock);
	return state;
}
