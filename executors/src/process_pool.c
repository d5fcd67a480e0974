/* The process backend: Python's ProcessPoolExecutor.
 *
 * Workers are the program itself, started afresh with posix_spawn (see
 * process_worker.c for why not a bare fork), each joined to the pool by
 * one Unix stream socket that carries frames of the wire format (wire.h).
 * A socket rather than a pipe pair because it is one descriptor per
 * worker in both directions and because send(MSG_NOSIGNAL) turns a dead
 * worker into an error instead of a SIGPIPE that would kill the caller.
 *
 * One manager thread owns the workers: it hands queued futures to idle
 * workers, reads results, starts workers on demand and replaces those that
 * reached max_tasks_per_child.  Callers only touch the queue, under the
 * pool's mutex, and wake the manager through an eventfd.  A worker that
 * dies (EOF on its socket) breaks the pool, as in Python: its task and all
 * pending ones fail with CF_BROKEN, the other workers are killed and every
 * child is reaped before the manager returns.
 */
#define _GNU_SOURCE
#include "frame_io.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* The worker's entry point runs as a constructor; this reference makes a
 * static link keep process_worker.o, which nothing else names. */
__attribute__((used)) static void (*const keep_worker_entry)(void) = cf__process_worker_entry;

#define WORKER_FD 3

struct worker {
	pid_t pid;              /* 0: free slot */
	int fd;
	cf_future *task;        /* running, or NULL when idle */
	uint64_t task_id;
	int tasks_done;
	bool retiring;          /* sent EXIT after max_tasks_per_child */
};

struct process_pool {
	pthread_mutex_t lock;           /* the queue and the flags */
	cf_future *head, *tail;
	size_t queued;
	bool shutdown;
	bool broken;
	int wake_fd;                    /* eventfd: callers -> manager */

	pthread_t manager;
	pthread_mutex_t join_lock;
	bool joined;

	/* Owned by the manager thread alone. */
	struct worker *workers;
	int max_workers;
	int max_tasks_per_child;
	uint64_t next_id;
	char exe[PATH_MAX];
	unsigned char *init_frame;      /* fnref + initarg, or NULL */
	size_t init_frame_len;

	atomic_size_t processes_created;
	atomic_size_t tasks_completed;
};

static void wake_manager(struct process_pool *p)
{
	uint64_t one = 1;

	while (write(p->wake_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

/* ---- the queue (callers and manager, under p->lock) ---- */

static void push_locked(struct process_pool *p, cf_future *f)
{
	if (p->tail)
		p->tail->next = f;
	else
		p->head = f;
	p->tail = f;
	p->queued++;
}

static cf_future *pop_locked(struct process_pool *p)
{
	cf_future *f = p->head;

	if (!f)
		return NULL;
	p->head = f->next;
	if (!p->head)
		p->tail = NULL;
	f->next = NULL;
	p->queued--;
	return f;
}

static cf_future *take_all_locked(struct process_pool *p)
{
	cf_future *list = p->head;

	p->head = p->tail = NULL;
	p->queued = 0;
	return list;
}

static void abandon_list(cf_future *list, cf_status outcome)
{
	while (list) {
		cf_future *next = list->next;
		list->next = NULL;
		if (outcome == CF_CANCELLED)
			cf_future_cancel(list);
		else
			cf__future_abandon(list, outcome);
		cf__future_unref(list);
		list = next;
	}
}

/* ---- workers (manager thread only) ---- */

static int spawn_worker(struct process_pool *p, struct worker *w)
{
	posix_spawn_file_actions_t actions;
	char spec[64];
	int sv[2], err;
	size_t nenv = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return errno;
	while (environ[nenv])
		nenv++;
	char **env = malloc((nenv + 2) * sizeof(*env));
	if (!env) {
		close(sv[0]);
		close(sv[1]);
		return ENOMEM;
	}
	snprintf(spec, sizeof(spec), "CF_PROCESS_WORKER=%d:%ld", WORKER_FD, (long)getpid());
	env[0] = spec;
	memcpy(env + 1, environ, (nenv + 1) * sizeof(*env));

	/* The worker gets its end of the socket as fd 3 and nothing else the
	 * program had open beyond stdin, stdout and stderr. */
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, sv[1], WORKER_FD);
	posix_spawn_file_actions_addclosefrom_np(&actions, WORKER_FD + 1);
	char *argv[] = { p->exe, NULL };
	err = posix_spawn(&w->pid, p->exe, &actions, NULL, argv, env);
	posix_spawn_file_actions_destroy(&actions);
	free(env);
	close(sv[1]);
	if (err) {
		close(sv[0]);
		w->pid = 0;
		return err;
	}
	w->fd = sv[0];
	w->task = NULL;
	w->tasks_done = 0;
	w->retiring = false;
	atomic_fetch_add(&p->processes_created, 1);
	if (p->init_frame &&
	    cf__frame_write(w->fd, CF_WIRE_INIT, 0, p->init_frame, p->init_frame_len, NULL, 0))
		return EPIPE;   /* it died at once: found by the poll loop */
	return 0;
}

/* Closes and reaps one worker; returns its wait status. */
static int reap_worker(struct worker *w, bool kill_it)
{
	int status = 0;

	if (kill_it)
		kill(w->pid, SIGKILL);
	close(w->fd);
	while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
		;
	w->pid = 0;
	w->fd = -1;
	return status;
}

static int count_workers(struct process_pool *p, bool idle_only)
{
	int n = 0;

	for (int i = 0; i < p->max_workers; i++)
		if (p->workers[i].pid && !p->workers[i].retiring &&
		    (!idle_only || !p->workers[i].task))
			n++;
	return n;
}

static struct worker *free_slot(struct process_pool *p)
{
	for (int i = 0; i < p->max_workers; i++)
		if (!p->workers[i].pid)
			return &p->workers[i];
	return NULL;
}

/* Breaks the pool: every future not yet done fails with CF_BROKEN, every
 * worker is killed and reaped. */
static void break_pool(struct process_pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->broken = true;
	cf_future *list = take_all_locked(p);
	pthread_mutex_unlock(&p->lock);
	abandon_list(list, CF_BROKEN);
	for (int i = 0; i < p->max_workers; i++) {
		struct worker *w = &p->workers[i];
		if (!w->pid)
			continue;
		if (w->task) {
			cf__future_abandon(w->task, CF_BROKEN);
			cf__future_unref(w->task);
			w->task = NULL;
		}
		reap_worker(w, true);
	}
}

static int send_task(struct process_pool *p, struct worker *w, cf_future *f)
{
	struct cf_fnref ref;
	unsigned char head[2 + CF_WIRE_MAX_NAME + 8];

	if (cf__fnref_from_fn((void (*)(void))f->fn, &ref) != 0) {
		struct cf_task t;
		cf__task_init(&t, NULL, 0);
		cf_task_fail(&t, -1, "the task function is in no loaded object");
		cf__future_finish(f, &t);
		cf__task_clear(&t);
		cf__future_unref(f);
		return 0;
	}
	cf_wire_put_fnref(head, &ref);
	w->task = f;
	w->task_id = ++p->next_id;
	return cf__frame_write(w->fd, CF_WIRE_TASK, w->task_id, head, cf_wire_fnref_size(&ref),
			       f->arg.data, f->arg.size) == CF_FRAME_OK ? 0 : -1;
}

/* Starts a worker for each queued task that no idle worker can take, like
 * Python's _adjust_process_count: workers appear on demand.  Returns -1
 * when no worker exists and none can start. */
static int start_missing_workers(struct process_pool *p)
{
	pthread_mutex_lock(&p->lock);
	size_t waiting = p->queued;
	pthread_mutex_unlock(&p->lock);

	int idle = count_workers(p, true);
	while (waiting > (size_t)idle && count_workers(p, false) < p->max_workers) {
		struct worker *w = free_slot(p);
		if (!w)
			break;
		if (spawn_worker(p, w) != 0) {
			if (w->pid == 0 && count_workers(p, false) == 0)
				return -1;
			break;
		}
		idle++;
	}
	return 0;
}

/* Starts missing workers, then gives queued tasks to idle workers.
 * Returns -1 if the pool broke. */
static int dispatch(struct process_pool *p)
{
	if (start_missing_workers(p) != 0)
		return -1;
	for (int i = 0; i < p->max_workers; i++) {
		struct worker *w = &p->workers[i];
		cf_future *f = NULL;

		if (!w->pid || w->task || w->retiring)
			continue;
		pthread_mutex_lock(&p->lock);
		while ((f = pop_locked(p)) && !cf__future_start(f))
			cf__future_unref(f);    /* cancelled while queued */
		pthread_mutex_unlock(&p->lock);
		if (!f)
			break;
		if (send_task(p, w, f) != 0)
			return -1;
	}
	return 0;
}

static void finish_from_frame(struct worker *w, const struct cf_wire_header *h,
			      unsigned char *payload)
{
	struct cf_task t;

	cf__task_init(&t, NULL, 0);
	if (h->type == CF_WIRE_RESULT) {
		/* Adopt the payload as the result: no copy of large results. */
		t.result.data = h->length ? payload : t.result.inline_buf;
		t.result.size = h->length;
		if (!h->length)
			free(payload);
	} else {
		t.error = malloc(sizeof(*t.error));
		if (!t.error || cf_wire_get_error(payload, h->length, t.error) != CF_WIRE_OK) {
			if (!t.error)
				t.error = calloc(1, sizeof(*t.error));
			if (t.error) {
				t.error->code = -1;
				snprintf(t.error->message, sizeof(t.error->message),
					 "malformed error from a worker");
			}
		}
		free(payload);
	}
	cf__future_finish(w->task, &t);
	cf__task_clear(&t);
	cf__future_unref(w->task);
	w->task = NULL;
	w->tasks_done++;
}

/* Handles what a worker sent.  Returns -1 if the pool must break. */
static int on_worker_readable(struct process_pool *p, struct worker *w)
{
	struct cf_wire_header h;
	unsigned char *payload;
	enum cf_wire_error wire_error;
	enum cf_frame_status st = cf__frame_read(w->fd, &h, &payload, &wire_error);

	if (st == CF_FRAME_EOF && w->retiring && !w->task) {
		reap_worker(w, false);  /* it left after max_tasks_per_child */
		return 0;
	}
	if (st != CF_FRAME_OK)
		return -1;              /* died, or spoke nonsense */
	if ((h.type == CF_WIRE_RESULT || h.type == CF_WIRE_ERROR) && w->task && h.id == w->task_id) {
		finish_from_frame(w, &h, payload);
		atomic_fetch_add(&p->tasks_completed, 1);
		if (p->max_tasks_per_child && w->tasks_done >= p->max_tasks_per_child) {
			w->retiring = true;
			cf__frame_write(w->fd, CF_WIRE_EXIT, 0, NULL, 0, NULL, 0);
		}
		return 0;
	}
	free(payload);
	return -1;                      /* INIT_FAILED, or a frame out of place */
}

static bool all_idle(struct process_pool *p)
{
	for (int i = 0; i < p->max_workers; i++)
		if (p->workers[i].pid && p->workers[i].task)
			return false;
	return true;
}

/* Waits for events; returns -1 if the pool must break. */
static int wait_and_handle(struct process_pool *p)
{
	struct pollfd fds[1 + p->max_workers];
	struct worker *owner[1 + p->max_workers];
	int n = 0;

	fds[n++] = (struct pollfd){ .fd = p->wake_fd, .events = POLLIN };
	for (int i = 0; i < p->max_workers; i++) {
		if (!p->workers[i].pid)
			continue;
		owner[n] = &p->workers[i];
		fds[n++] = (struct pollfd){ .fd = p->workers[i].fd, .events = POLLIN };
	}
	if (poll(fds, (nfds_t)n, -1) < 0)
		return errno == EINTR ? 0 : -1;
	if (fds[0].revents) {
		uint64_t count;
		if (read(p->wake_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
			return -1;
	}
	for (int i = 1; i < n; i++)
		if (fds[i].revents && on_worker_readable(p, owner[i]) != 0)
			return -1;
	return 0;
}

static void stop_workers(struct process_pool *p)
{
	for (int i = 0; i < p->max_workers; i++) {
		struct worker *w = &p->workers[i];
		if (!w->pid)
			continue;
		cf__frame_write(w->fd, CF_WIRE_EXIT, 0, NULL, 0, NULL, 0);
		reap_worker(w, false);
	}
}

static void *manager_main(void *arg)
{
	struct process_pool *p = arg;

	pthread_setname_np(pthread_self(), "cf_manager");
	for (;;) {
		if (dispatch(p) != 0)
			break;
		pthread_mutex_lock(&p->lock);
		bool done = p->shutdown && p->queued == 0;
		pthread_mutex_unlock(&p->lock);
		if (done && all_idle(p)) {
			stop_workers(p);
			return NULL;
		}
		if (wait_and_handle(p) != 0)
			break;
	}
	break_pool(p);
	return NULL;
}

/* ---- the backend interface ---- */

static cf_status pool_submit(cf_executor *ex, cf_future *f)
{
	struct process_pool *p = ex->impl;
	cf_status st = CF_OK;

	pthread_mutex_lock(&p->lock);
	if (p->broken)
		st = CF_BROKEN;
	else if (p->shutdown)
		st = CF_SHUTDOWN;
	else {
		cf__future_ref(f);
		push_locked(p, f);
	}
	pthread_mutex_unlock(&p->lock);
	if (st == CF_OK)
		wake_manager(p);
	return st;
}

static cf_status pool_shutdown(cf_executor *ex, bool wait, bool cancel_futures)
{
	struct process_pool *p = ex->impl;
	cf_future *cancelled = NULL;

	pthread_mutex_lock(&p->lock);
	p->shutdown = true;
	if (cancel_futures)
		cancelled = take_all_locked(p);
	pthread_mutex_unlock(&p->lock);
	abandon_list(cancelled, CF_CANCELLED);
	wake_manager(p);
	if (!wait)
		return CF_OK;
	pthread_mutex_lock(&p->join_lock);
	if (!p->joined) {
		pthread_join(p->manager, NULL);
		p->joined = true;
	}
	pthread_mutex_unlock(&p->join_lock);
	return CF_OK;
}

static cf_status make_init_frame(struct process_pool *p, const cf_options *opts)
{
	struct cf_fnref ref;

	if (!opts->initializer)
		return CF_OK;
	if (cf__fnref_from_fn((void (*)(void))opts->initializer, &ref) != 0)
		return CF_INVALID_ARGUMENT;
	size_t head = cf_wire_fnref_size(&ref);
	size_t arg = opts->initarg ? opts->initarg_size : 0;
	p->init_frame = malloc(head + arg);
	if (!p->init_frame)
		return CF_NOMEM;
	cf_wire_put_fnref(p->init_frame, &ref);
	if (arg)
		memcpy(p->init_frame + head, opts->initarg, arg);
	p->init_frame_len = head + arg;
	return CF_OK;
}

static void pool_free(struct process_pool *p)
{
	if (p->wake_fd >= 0)
		close(p->wake_fd);
	pthread_mutex_destroy(&p->lock);
	pthread_mutex_destroy(&p->join_lock);
	free(p->init_frame);
	free(p->workers);
	free(p);
}

static cf_status pool_create(cf_executor *ex, const cf_options *opts)
{
	struct process_pool *p = calloc(1, sizeof(*p));
	cf_status st;

	if (!p)
		return CF_NOMEM;
	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&p->join_lock, NULL);
	p->max_workers = opts->max_workers ? opts->max_workers : cf__cpu_count();
	p->max_tasks_per_child = opts->max_tasks_per_child;
	p->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	p->workers = calloc((size_t)p->max_workers, sizeof(*p->workers));
	/* readlink, not "/proc/self/exe" itself: under valgrind the latter
	 * is valgrind, the former is the program. */
	ssize_t len = readlink("/proc/self/exe", p->exe, sizeof(p->exe) - 1);
	if (p->wake_fd < 0 || !p->workers || len <= 0) {
		st = p->workers ? CF_SYSTEM : CF_NOMEM;
		pool_free(p);
		return st;
	}
	p->exe[len] = '\0';
	st = make_init_frame(p, opts);
	if (st == CF_OK && pthread_create(&p->manager, NULL, manager_main, p) != 0)
		st = CF_SYSTEM;
	if (st != CF_OK) {
		pool_free(p);
		return st;
	}
	ex->impl = p;
	ex->max_workers = p->max_workers;
	return CF_OK;
}

static void pool_destroy(cf_executor *ex)
{
	pool_free(ex->impl);
}

static void pool_stats(cf_executor *ex, cf_executor_stats *stats)
{
	struct process_pool *p = ex->impl;

	stats->helper_threads = 1;      /* the manager */
	stats->processes_created = atomic_load(&p->processes_created);
	stats->tasks_completed = atomic_load(&p->tasks_completed);
}

const struct cf_backend cf__process_backend = {
	.name = "process",
	.create = pool_create,
	.submit = pool_submit,
	.shutdown = pool_shutdown,
	.destroy = pool_destroy,
	.stats = pool_stats,
};
