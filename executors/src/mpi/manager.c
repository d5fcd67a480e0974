/* The MPI pool's manager thread (pool.h): the only thread of the pool
 * that calls MPI.  It waits for the first task, starts the workers,
 * then loops: take what workers sent, hand queued tasks to idle
 * workers, check that busy ones live, and wait with the back-off. */
#include "mpi/pool.h"

#include "base/clock.h"
#include "core/task.h"
#include "mpi/runtime.h"
#include "platform/platform.h"
#include "wire/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How often busy workers' pids and silence are checked. */
#define CHECK_EVERY_S 0.1
/* With no task out for this long, the manager sleeps until woken. */
#define MANAGER_IDLE_S 0.1
/* A worker that has not said READY after this long never will. */
#define START_BOUND_S 60.0

/* ---- results ---- */

/* Finishes w's task from a RESULT or ERROR; takes the message's body. */
static void complete(struct mpi_pool *p, struct mpi_worker *w, struct cf_mpi_msg *m)
{
	struct cf_task t;

	cf__task_init(&t, NULL, 0);
	if (m->tag == CF_MPI_RESULT) {
		cf__bytes_adopt(&t.result, m->body, m->len);
		m->body = NULL;
	} else {
		t.error = calloc(1, sizeof(*t.error));
		if (t.error && cf_wire_get_error(m->body, m->len, t.error) != CF_WIRE_OK) {
			t.error->code = -1;
			snprintf(t.error->message, sizeof(t.error->message),
				 "malformed error from a worker");
		}
	}
	cf_future *f = w->task;
	w->task = NULL;
	w->state = MW_IDLE;
	cf__future_finish(f, &t);
	cf__task_clear(&t);
	cf__future_unref(f);
	atomic_fetch_add(&p->tasks_completed, 1);
}

/* HELLO: the same program, or the pool cannot name functions to it. */
static void hello(struct mpi_pool *p, struct mpi_worker *w, struct cf_mpi_msg *m)
{
	int i = (int)(w - p->workers);

	if (!cf__mpi_identity_get(m->body, m->len, &w->who)) {
		cf__mpi_note_broken(p, "worker %d sent a malformed HELLO", i);
		return;
	}
	w->said_hello = true;
	w->same_host = strcmp(w->who.place, p->me.place) == 0;
	if (w->same_host)
		cf__mpi_local_worker_add((pid_t)w->who.pid);
	if (strcmp(w->who.build, p->me.build) != 0)
		cf__mpi_note_broken(p, "worker %d on host %s (pid %ld) runs another build of the "
				    "program: build ID %s, this one %s", i, w->who.host,
				    w->who.pid, w->who.build, p->me.build);
}

static void init_failed(struct mpi_pool *p, struct mpi_worker *w, struct cf_mpi_msg *m)
{
	cf_error e = { .code = -1 };

	if (cf_wire_get_error(m->body, m->len, &e) != CF_WIRE_OK)
		snprintf(e.message, sizeof(e.message), "(malformed error)");
	cf__mpi_note_broken(p, "the initializer failed in worker %d on host %s (pid %ld): %s",
			    (int)(w - p->workers), w->who.host, w->who.pid, e.message);
}

/* One message from w.  Late ones (a beat after the result, anything of
 * an earlier pool on a static rank) are dropped. */
static void take_message(struct mpi_pool *p, struct mpi_worker *w, struct cf_mpi_msg *m)
{
	bool ours = m->id == p->generation;
	bool its_task = w->state == MW_BUSY && m->id == w->task_id;

	w->last_heard = cf__now();
	if (m->tag == CF_MPI_HELLO && ours)
		hello(p, w, m);
	else if (m->tag == CF_MPI_READY && ours && w->state == MW_STARTING)
		w->state = MW_IDLE;
	else if (m->tag == CF_MPI_INIT_FAILED && ours)
		init_failed(p, w, m);
	else if ((m->tag == CF_MPI_RESULT || m->tag == CF_MPI_ERROR) && its_task)
		complete(p, w, m);
}

/* Takes everything that has come; true if anything had. */
static bool receive(struct mpi_pool *p)
{
	bool any = false;

	for (int i = 0; i < p->nworkers; i++) {
		struct mpi_worker *w = &p->workers[i];
		struct cf_mpi_msg m;
		int got;
		while (w->state != MW_GONE && (got = cf__mpi_take(w->comm, w->rank, &m)) == 1) {
			take_message(p, w, &m);
			free(m.body);
			any = true;
		}
	}
	return any;
}

/* ---- handing out tasks ---- */

/* The next queued future that was not cancelled, started; NULL if none. */
static cf_future *next_task(struct mpi_pool *p)
{
	cf_future *f = NULL;

	pthread_mutex_lock(&p->lock);
	while (!f && p->queue.head) {
		f = cf__future_of_link(cf__fifo_pop(&p->queue));
		if (!cf__future_start(f)) {
			cf__future_unref(f);    /* cancelled while queued */
			f = NULL;
		}
	}
	pthread_mutex_unlock(&p->lock);
	return f;
}

static void fail_now(cf_future *f, const char *message)
{
	struct cf_task t;

	cf__task_init(&t, NULL, 0);
	cf_task_fail(&t, -1, "%s", message);
	cf__future_finish(f, &t);
	cf__task_clear(&t);
	cf__future_unref(f);
}

static void send_task(struct mpi_pool *p, struct mpi_worker *w, cf_future *f)
{
	unsigned char head[2 + CF_WIRE_MAX_NAME + 8];
	struct cf_fnref ref;

	if (cf__fnref_from_fn((void (*)(void))cf__future_fn(f), &ref) != 0) {
		fail_now(f, "the task function is in no loaded object");
		return;
	}
	cf_wire_put_fnref(head, &ref);
	struct cf_bytes *arg = cf__future_payload(f);
	w->task = f;
	w->task_id = ((uint64_t)p->generation << 32) + ++p->next_id;
	w->state = MW_BUSY;
	w->last_heard = cf__now();
	if (cf__mpi_send(w->comm, w->rank, CF_MPI_TASK, w->task_id, head,
			 cf_wire_fnref_size(&ref), cf__bytes_data(arg), arg->size) != 0)
		cf__mpi_note_broken(p, "sending a task to worker %d on host %s failed",
				    (int)(w - p->workers), w->who.host);
	cf__bytes_clear(arg);   /* the result goes there */
}

bool cf__mpi_dispatch(struct mpi_pool *p)
{
	bool any = false;

	for (int i = 0; i < p->nworkers; i++) {
		struct mpi_worker *w = &p->workers[i];
		cf_future *f;
		if (w->state != MW_IDLE || !(f = next_task(p)))
			continue;
		send_task(p, w, f);
		any = true;
	}
	return any;
}

/* ---- liveness ---- */

static void check_worker(struct mpi_pool *p, struct mpi_worker *w, double now)
{
	int i = (int)(w - p->workers);
	double bound = w->state == MW_STARTING ? START_BOUND_S : p->silence_s;

	if (w->same_host && cf__pid_gone((pid_t)w->who.pid)) {
		p->worker_lost = true;
		w->state = MW_GONE;
		cf__mpi_note_broken(p, "worker %d (pid %ld on %s) ended", i, w->who.pid,
				    w->who.host);
	} else if (now - w->last_heard > bound) {
		p->worker_lost = true;
		w->lost = true;
		cf__mpi_note_broken(p, "worker %d on host %s (pid %ld) was silent for %.0f s",
				    i, w->said_hello ? w->who.host : "?", w->who.pid, bound);
	}
}

static void check_liveness(struct mpi_pool *p)
{
	double now = cf__now();

	if (now < p->next_check)
		return;
	p->next_check = now + CHECK_EVERY_S;
	for (int i = 0; i < p->nworkers; i++) {
		struct mpi_worker *w = &p->workers[i];
		if (w->state == MW_STARTING || w->state == MW_BUSY)
			check_worker(p, w, now);
	}
}

bool cf__mpi_progress(struct mpi_pool *p)
{
	bool moved = receive(p);

	moved |= cf__mpi_dispatch(p);
	check_liveness(p);
	return moved;
}

/* ---- the loop ---- */

static bool outstanding(struct mpi_pool *p)
{
	for (int i = 0; i < p->nworkers; i++)
		if (p->workers[i].state == MW_STARTING || p->workers[i].state == MW_BUSY)
			return true;
	return false;
}

/* Polls hot for idle_spin_us after the last progress, then after sleeps
 * of 10 us doubling to 1 ms; while a caller polls for it (help.c), every
 * millisecond only, since a third thread polling on two cores slows the
 * round trip it waits for.  With no task out for MANAGER_IDLE_S it sleeps
 * until a submit wakes it; until then submits do not wake it (a wake-up
 * per task cost a caller polling hot a core's share per task). */
static void idle_wait(struct mpi_pool *p, bool busy)
{
	double pause = cf__mpi_backoff_next(&p->backoff);
	bool idle = !busy && cf__now() - p->backoff.spin_until > MANAGER_IDLE_S;

	if (atomic_load(&p->helpers) > 0)
		pause = CF_MPI_SLEEP_MAX_S;
	else if (pause == 0) {
		cf__spin_step(0);
		return;
	}
	pthread_mutex_lock(&p->lock);
	if (!atomic_exchange(&p->woken, false)) {
		p->sleeping = idle;
		cf__cond_wait_until(&p->wake, &p->lock, cf__now() + (idle ? 1.0 : pause));
		p->sleeping = false;
	}
	pthread_mutex_unlock(&p->lock);
}

/* Waits for the first task (workers start on demand); false when the
 * pool was shut down first. */
static bool await_first_task(struct mpi_pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->sleeping = true;
	while (!p->queue.head && !p->shutdown)
		pthread_cond_wait(&p->wake, &p->lock);
	p->sleeping = false;
	bool go = p->queue.head != NULL;
	pthread_mutex_unlock(&p->lock);
	return go;
}

/* mpi_lock held. */
static bool finished(struct mpi_pool *p)
{
	pthread_mutex_lock(&p->lock);
	bool done = p->broken || (p->shutdown && !p->queue.head);
	pthread_mutex_unlock(&p->lock);
	return done && (p->broken || !outstanding(p));
}

/* Every future a worker still holds fails with the pool. */
static void abandon_running(struct mpi_pool *p)
{
	for (int i = 0; i < p->nworkers; i++) {
		struct mpi_worker *w = &p->workers[i];
		if (w->task) {
			cf__future_abandon(w->task, CF_BROKEN);
			cf__future_unref(w->task);
			w->task = NULL;
		}
	}
}

static void run(struct mpi_pool *p)
{
	cf__mpi_backoff_reset(&p->backoff);
	for (;;) {
		pthread_mutex_lock(&p->mpi_lock);
		bool done = finished(p);
		bool moved = !done && cf__mpi_progress(p);
		bool busy = outstanding(p);
		pthread_mutex_unlock(&p->mpi_lock);
		if (done)
			return;
		if (moved)
			cf__mpi_backoff_reset(&p->backoff);
		else
			idle_wait(p, busy);
	}
}

static bool start(struct mpi_pool *p)
{
	pthread_mutex_lock(&p->mpi_lock);
	bool started = cf__mpi_start_workers(p) == 0;
	pthread_mutex_unlock(&p->mpi_lock);
	return started;
}

static void finish(struct mpi_pool *p)
{
	pthread_mutex_lock(&p->mpi_lock);
	abandon_running(p);
	if (p->worker_lost)
		cf__mpi_drop_workers(p);
	else if (p->started)
		cf__mpi_stop_workers(p);
	pthread_mutex_unlock(&p->mpi_lock);
}

void *cf__mpi_manager_main(void *pool)
{
	struct mpi_pool *p = pool;

	cf__thread_set_name("cf_mpi");
	if (await_first_task(p) && start(p))
		run(p);
	finish(p);
	cf__mpi_pool_ended();
	return NULL;
}
