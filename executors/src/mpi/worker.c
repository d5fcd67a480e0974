/* The worker side of the MPI backend: a spawned copy of the program or a
 * static rank (runtime.c starts both), serving tasks from the master.
 *
 * While a task runs, a second thread sends BEAT every beat_ms, so that
 * the master can tell a long task from a hung or vanished worker on
 * another host.  It looks at the running task on its own clock rather
 * than being told of each one: a signal per task woke it about three
 * times per task, each wake-up taking a core from the serving thread.
 * Both threads send on the same communicator, which MPI_THREAD_MULTIPLE
 * allows. */
#include "mpi/worker.h"

#include "base/clock.h"
#include "core/task.h"
#include "mpi/proto.h"
#include "wire/le.h"
#include "wire/wire.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int (*initializer_fn)(const void *, size_t);

struct server {
	MPI_Comm comm;
	int master;
	unsigned long generation;       /* of the pool served now */
	struct cf_mpi_backoff backoff;
	/* The heartbeat: the task running now (0: none), and the lock and
	 * condition the beat thread sleeps on, signalled only to end it. */
	_Atomic uint64_t beat_task;
	unsigned beat_ms;
	pthread_mutex_t beat_lock;
	pthread_cond_t beat_cond;
	bool beat_started, beat_quit;
	pthread_t beat_thread;
};

static void *beat_main(void *arg)
{
	struct server *s = arg;

	pthread_mutex_lock(&s->beat_lock);
	while (!s->beat_quit) {
		cf__cond_wait_until(&s->beat_cond, &s->beat_lock, cf__now() + s->beat_ms * 1e-3);
		uint64_t task = atomic_load(&s->beat_task);
		if (!task || s->beat_quit)
			continue;
		/* A beat for a task that just ended is dropped by the master. */
		pthread_mutex_unlock(&s->beat_lock);
		cf__mpi_send(s->comm, s->master, CF_MPI_BEAT, task, NULL, 0, NULL, 0);
		pthread_mutex_lock(&s->beat_lock);
	}
	pthread_mutex_unlock(&s->beat_lock);
	return NULL;
}

/* The serving thread alone calls this. */
static void beat_set(struct server *s, uint64_t task)
{
	if (!s->beat_started && task)
		s->beat_started = pthread_create(&s->beat_thread, NULL, beat_main, s) == 0;
	atomic_store(&s->beat_task, task);
}

static int send_error(struct server *s, int tag, uint64_t id, const cf_error *error)
{
	unsigned char buf[4 + CF_ERROR_MESSAGE_MAX];

	cf_wire_put_error(buf, error);
	return cf__mpi_send(s->comm, s->master, tag, id, buf, cf_wire_error_size(error), NULL, 0);
}

static int send_failure(struct server *s, int tag, uint64_t id, const char *message)
{
	cf_error error = { .code = -1 };

	snprintf(error.message, sizeof(error.message), "%s", message);
	return send_error(s, tag, id, &error);
}

static int run_task(struct server *s, struct cf_mpi_msg *m)
{
	size_t arg_len = 0;
	cf_fn fn = (cf_fn)cf__fnref_take(m->body, m->len, &arg_len);
	struct cf_task task;
	int rc;

	if (!fn)
		return send_failure(s, CF_MPI_ERROR, m->id,
				    "the task function is not in the worker's program");
	cf__task_init(&task, arg_len ? m->body : NULL, arg_len);
	beat_set(s, m->id);
	cf__task_run(&task, fn);
	beat_set(s, 0);
	if (task.error)
		rc = send_error(s, CF_MPI_ERROR, m->id, task.error);
	else
		rc = cf__mpi_send(s->comm, s->master, CF_MPI_RESULT, m->id,
				  cf__bytes_data(&task.result), task.result.size, NULL, 0);
	cf__task_clear(&task);
	return rc;
}

/* START: say who we are, run the initializer, say whether it worked. */
static int start_pool(struct server *s, struct cf_mpi_msg *m)
{
	struct cf_mpi_identity me;
	unsigned char hello[4 + 6 + sizeof(me.host) + sizeof(me.build) + sizeof(me.place)];

	if (m->len < 9)
		return -1;
	s->generation = m->id;
	s->backoff.spin_us = cf__le_get_u32(m->body);
	s->beat_ms = cf__le_get_u32(m->body + 4);
	cf__mpi_identity_self(&me, true);
	size_t n = cf__mpi_identity_put(&me, hello, sizeof(hello));
	if (cf__mpi_send(s->comm, s->master, CF_MPI_HELLO, s->generation, hello, n, NULL, 0))
		return -1;
	if (m->body[8]) {
		size_t arg_len = 0;
		memmove(m->body, m->body + 9, m->len - 9);
		initializer_fn init = (initializer_fn)cf__fnref_take(m->body, m->len - 9, &arg_len);
		if (!init)
			return send_failure(s, CF_MPI_INIT_FAILED, s->generation,
					    "the initializer is not in the worker's program");
		int rc = init(arg_len ? m->body : NULL, arg_len);
		if (rc != 0) {
			char message[64];
			snprintf(message, sizeof(message), "initializer returned %d", rc);
			return send_failure(s, CF_MPI_INIT_FAILED, s->generation, message);
		}
	}
	return cf__mpi_send(s->comm, s->master, CF_MPI_READY, s->generation, NULL, 0, NULL, 0);
}

/* The next message from the master, polled with the back-off. */
static int next_message(struct server *s, struct cf_mpi_msg *m)
{
	cf__mpi_backoff_reset(&s->backoff);
	for (unsigned i = 0;; i++) {
		int got = cf__mpi_take(s->comm, s->master, m);
		if (got)
			return got;
		double pause = cf__mpi_backoff_next(&s->backoff);
		if (pause == 0) {
			cf__spin_step(i);
			continue;
		}
		struct timespec ts = { 0, (long)(pause * 1e9) };
		nanosleep(&ts, NULL);
	}
}

/* One message: 0 to go on, 1 when told to go, -1 on a failure. */
static int handle(struct server *s, struct cf_mpi_msg *m, bool stay)
{
	switch (m->tag) {
	case CF_MPI_START:
		return start_pool(s, m) ? -1 : 0;
	case CF_MPI_TASK:
		return run_task(s, m) ? -1 : 0;
	case CF_MPI_EXIT:
		if (cf__mpi_send(s->comm, s->master, CF_MPI_BYE, m->id, NULL, 0, NULL, 0))
			return -1;
		return stay ? 0 : 1;
	case CF_MPI_QUIT:
		return 1;
	case CF_MPI_ABANDON:
		return 2;
	default:
		return -1;
	}
}

static void server_end(struct server *s)
{
	if (s->beat_started) {
		pthread_mutex_lock(&s->beat_lock);
		s->beat_quit = true;
		pthread_cond_signal(&s->beat_cond);
		pthread_mutex_unlock(&s->beat_lock);
		pthread_join(s->beat_thread, NULL);
	}
	pthread_cond_destroy(&s->beat_cond);
	pthread_mutex_destroy(&s->beat_lock);
}

int cf__mpi_serve(MPI_Comm comm, int master, bool stay)
{
	static struct server s;
	struct cf_mpi_msg m;
	int rc = 0;

	s.comm = comm;
	s.master = master;
	s.beat_ms = 1000;
	s.backoff.deep = true;
	pthread_mutex_init(&s.beat_lock, NULL);
	cf__cond_init(&s.beat_cond);
	while (rc == 0) {
		if (next_message(&s, &m) < 0) {
			rc = -1;
			break;
		}
		rc = handle(&s, &m, stay);
		free(m.body);
	}
	server_end(&s);
	return rc == 1 ? 0 : rc == 2 ? 2 : 1;
}
