/* The process backend: Python's ProcessPoolExecutor.
 *
 * Workers are the program itself, started afresh with posix_spawn (see
 * process_worker.c for why not a bare fork), each joined to the pool by
 * two pipes that carry frames of the wire format (wire.h): tasks down,
 * results up.  Pipes rather than one Unix socket because they are the
 * cheaper transport (a round trip costs about 2 us less here: no socket
 * buffer to allocate per message), and because a reader sleeping on a
 * pipe is woken by data only, where one sleeping on a socket is also
 * woken whenever the peer reads.  A write to a pipe whose reader is gone
 * raises SIGPIPE, which would kill the calling program: the pool keeps a
 * read end of each task pipe open itself, so that no task pipe ever loses
 * its last reader, and learns of a dead worker from its result pipe
 * instead (see "talking to a worker").
 *
 * One manager thread owns the workers: it hands queued futures to idle
 * workers, reads results, starts workers on demand and replaces those that
 * reached max_tasks_per_child.  Callers touch the queue under the pool's
 * mutex and wake the manager through an eventfd; a submit hands its task
 * straight to an idle worker, and a caller waiting for that one task
 * borrows the worker's result pipe from the manager and reads the result
 * itself (see "callers that read their own result" below).  A worker that
 * dies (EOF on its result pipe) breaks the pool, as in Python: its task and all
 * pending ones fail with CF_BROKEN, the other workers are killed and every
 * child is reaped before the manager returns.
 */
#define _GNU_SOURCE
#include "base/bytes.h"
#include "base/clock.h"
#include "base/fifo.h"
#include "core/executor.h"
#include "core/future.h"
#include "core/task.h"
#include "platform/platform.h"
#include "process/worker.h"
#include "wire/frame_io.h"

#include <stdatomic.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <link.h>
#include <sys/auxv.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* The worker's entry point runs as a constructor; this reference makes a
 * static link keep process_worker.o, which nothing else names. */
__attribute__((used)) static void (*const keep_worker_entry)(void) = cf__process_worker_entry;

/* A worker's descriptors: it reads tasks from the first, writes results
 * to the second (process_worker.c). */
#define WORKER_TASKS_FD 3
#define WORKER_RESULTS_FD 4

/* Tasks sent to a worker ahead of its results.  With one, a worker idles
 * from the moment it sends a result until the manager has read it and sent
 * the next task: two wake-ups per task.  With two, the next task is
 * already in its pipe (Python's ProcessPoolExecutor queues one extra
 * call for the same reason).  A task sent is RUNNING, as in Python.
 *
 * Only a map's tasks go ahead of a running one: they come as a stream of
 * like tasks, whose results are wanted in order anyway, whereas a task
 * from cf_submit could be stranded behind a long one while another worker
 * is free.  And only small ones: a frame that fits in the task pipe
 * (worker.ahead_max) never makes the manager wait on a worker busy
 * writing its own result, which would wait for the manager in turn. */
#define WORKER_DEPTH 2

struct worker {
	struct process_pool *pool;
	/* Under the pool's lock: */
	pid_t pid;              /* 0: free slot */
	bool ready;             /* may be given tasks */
	bool retiring;          /* sent EXIT after max_tasks_per_child */
	cf_future *tasks[WORKER_DEPTH]; /* sent, results not yet back */
	uint64_t ids[WORKER_DEPTH];
	int ntasks;
	int tasks_done;
	size_t ahead_max;               /* the largest task payload sent ahead */
	/* Whoever gave the worker its task writes the frame, holding
	 * send_lock; the manager takes it too before closing the
	 * descriptors, so none is closed under a writer. */
	pthread_mutex_t send_lock;
	int tasks_fd;                   /* the task pipe's write end, O_NONBLOCK */
	int tasks_kept_fd;              /* its read end, kept: see the top */
	int results_fd;                 /* the result pipe's read end */
	/* Whoever reads results_fd holds read_lock: the manager, or a caller
	 * that borrowed the worker (lent) to read its own result.  It guards
	 * the reader, partial_since and the closing of results_fd. */
	pthread_mutex_t read_lock;
	atomic_bool lent;
	struct cf_frame_reader reader;
	double partial_since;           /* last progress inside a frame */
};

/* A worker that stops in the middle of a frame for this long is treated
 * as broken: a real frame is written in one go, and the parent reads as
 * fast as it arrives, so only a hung or misbehaving worker stalls. */
#define FRAME_STALL_S 5.0

struct process_pool {
	pthread_mutex_t lock;           /* the queue, the flags, the workers */
	struct cf_fifo queue;
	bool shutdown;
	bool broken;
	uint64_t next_id;
	struct worker *workers;
	int max_workers;
	int wake_fd;                    /* eventfd: callers -> manager */
	int epoll_fd;                   /* the manager's: wake_fd, workers */
	atomic_bool must_break;         /* a borrower saw a dead or bad worker */
	/* Why the pool broke, for cf_executor_broken_reason (the first cause
	 * seen wins), and the worker it names, whose own exit status ends
	 * the sentence once it is reaped (ended: its pipe closed, so it is
	 * exiting; give it a moment before the kill). */
	char why[224];
	struct worker *culprit;
	bool culprit_ended;
	atomic_int borrowers;           /* callers inside the pool's code */
	pthread_cond_t borrowers_cond;  /* destroy waits for none */

	pthread_t manager;
	pthread_mutex_t join_lock;
	bool joined;

	int max_tasks_per_child;
	char exe[PATH_MAX];
	/* The program file as it was when the pool was made, kept open: when
	 * exe is replaced or deleted (make, an upgrade) a worker still starts
	 * the same program, through /proc/<pid>/fd/<exe_fd>. */
	int exe_fd;
	dev_t exe_dev;
	ino_t exe_ino;
	const char *exe_problem;        /* why no worker can start, or NULL */
	unsigned char *init_frame;      /* fnref + initarg, or NULL */
	size_t init_frame_len;

	atomic_size_t processes_created;
	atomic_size_t tasks_completed;
};

/* Records why the pool must break, unless a cause is known already.
 * Lock held. */
static void note_broken_locked(struct process_pool *p, struct worker *w, bool ended,
			       const char *fmt, ...)
{
	va_list ap;

	if (p->why[0] || p->broken)
		return;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	p->culprit = w;
	p->culprit_ended = ended;
}

static int worker_index(const struct worker *w)
{
	return (int)(w - w->pool->workers);
}

static void wake_manager(struct process_pool *p)
{
	uint64_t one = 1;

	while (write(p->wake_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

/* ---- the queue (under p->lock) ---- */

static bool may_go_ahead(const struct worker *w, const cf_future *f)
{
	return cf__future_streamed(f) && w->ahead_max && cf__future_payload((cf_future *)f)->size <= w->ahead_max;
}

static bool can_take(const struct process_pool *p, const struct worker *w, const cf_future *f)
{
	int depth = may_go_ahead(w, f) ? WORKER_DEPTH : 1;

	return w->pid && w->ready && !w->retiring && w->ntasks < depth &&
	       (!p->max_tasks_per_child || w->tasks_done + w->ntasks < p->max_tasks_per_child);
}

/* A worker that can take f now (lock held): an idle one first, else one
 * with room for a task ahead; NULL if none. */
static struct worker *find_taker_locked(struct process_pool *p, const cf_future *f)
{
	struct worker *ahead = NULL;

	for (int i = 0; i < p->max_workers; i++) {
		struct worker *w = &p->workers[i];
		if (!can_take(p, w, f))
			continue;
		if (w->ntasks == 0)
			return w;
		if (!ahead)
			ahead = w;
	}
	return ahead;
}

/* Records f (RUNNING) as given to w and returns the frame id to send it
 * with.  Takes f's argument into *arg for the send: once sent, the future
 * has no use for it, and its place will hold the result.  The sender
 * holds the bytes, because the result may come back and f may be freed
 * before the send returns. */
static uint64_t assign_locked(struct process_pool *p, struct worker *w, cf_future *f,
			      struct cf_bytes *arg)
{
	uint64_t id = ++p->next_id;

	cf__bytes_move(arg, cf__future_payload(f));

	w->tasks[w->ntasks] = f;
	w->ids[w->ntasks] = id;
	w->ntasks++;
	return id;
}

/* Takes the task with this id off w; NULL if w has none such. */
static cf_future *unassign_locked(struct worker *w, uint64_t id)
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

static int count_workers_locked(struct process_pool *p, bool idle_only)
{
	int n = 0;

	for (int i = 0; i < p->max_workers; i++)
		if (p->workers[i].pid && !p->workers[i].retiring &&
		    (!idle_only || !p->workers[i].ntasks))
			n++;
	return n;
}

/* ---- talking to a worker ---- */

static int send_frame(struct worker *w, uint8_t type, uint64_t id, const void *a, size_t alen,
		      const void *b, size_t blen)
{
	pthread_mutex_lock(&w->send_lock);
	int rc = w->tasks_fd < 0 ? -1 : cf__frame_write_pipe(w->tasks_fd, w->results_fd, type, id,
							     a, alen, b, blen) ? -1 : 0;
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

/* Sends f, given to w with this id and the argument assign_locked took
 * (freed here).  A failed send needs no handling here: the worker is
 * dead, and the manager breaks the pool when it sees the end of the
 * result pipe.  A function that cannot be named fails f and takes it back off
 * the worker. */
static void send_task(struct process_pool *p, struct worker *w, cf_future *f, uint64_t id,
		      struct cf_bytes *arg)
{
	unsigned char head[2 + CF_WIRE_MAX_NAME + 8];
	struct cf_fnref ref;

	if (!name_function(f, &ref)) {
		cf__bytes_clear(arg);
		pthread_mutex_lock(&p->lock);
		unassign_locked(w, id);
		pthread_mutex_unlock(&p->lock);
		cf__future_unref(f);
		wake_manager(p);        /* the worker has room again */
		return;
	}
	cf_wire_put_fnref(head, &ref);
	/* Read before sending: once sent, the result may come back, be read
	 * by another thread and f be freed before send_frame returns. */
	bool borrowable = !cf__future_streamed(f);
	int rc = send_frame(w, CF_WIRE_TASK, id, head, cf_wire_fnref_size(&ref),
			    cf__bytes_data(arg), arg->size);
	cf__bytes_clear(arg);
	if (rc != 0 || !borrowable)
		return;
	/* Sent, and still on w (its result may already have been read, and f
	 * freed: f is compared, not read, until it is found on w, where the
	 * pool's reference keeps it alive): a caller may now wait for it on
	 * w's result pipe. */
	pthread_mutex_lock(&p->lock);
	for (int k = 0; k < w->ntasks; k++)
		if (w->tasks[k] == f && w->ids[k] == id)
			cf__future_set_backend_data(f, w);
	pthread_mutex_unlock(&p->lock);
}

/* ---- workers (manager thread only) ---- */

/* A new worker's two pipes, close-on-exec: tasks down, results up.  The
 * spawn gives tasks[0] and results[1] to the worker, the pool keeps the
 * rest.  The spawn's first dup2 overwrites WORKER_TASKS_FD, so results[1]
 * must not be that descriptor (possible only if another thread closed
 * low descriptors between the two pipe2 calls). */
static int open_pipes(int tasks[2], int results[2])
{
	int err = 0;

	if (pipe2(tasks, O_CLOEXEC) < 0)
		return errno;
	if (pipe2(results, O_CLOEXEC) < 0) {
		err = errno;
		goto close_tasks;
	}
	if (results[1] == WORKER_TASKS_FD) {
		int moved = fcntl(results[1], F_DUPFD_CLOEXEC, WORKER_RESULTS_FD + 1);
		err = errno;
		close(results[1]);
		results[1] = moved;
		if (moved < 0) {
			close(results[0]);
			goto close_tasks;
		}
	}
	if (fcntl(tasks[1], F_SETFL, O_NONBLOCK) == 0)
		return 0;
	err = errno;
	close(results[0]);
	close(results[1]);
close_tasks:
	close(tasks[0]);
	close(tasks[1]);
	return err;
}

/* The path that starts this program: its name while that still names the
 * same file, else the descriptor kept open on it, by way of this
 * process's /proc entry (the child's own descriptors are closed by then;
 * the parent's stay open). */
static const char *exe_to_start(struct process_pool *p, char *buf, size_t size)
{
	struct stat now;

	if (stat(p->exe, &now) == 0 && now.st_dev == p->exe_dev && now.st_ino == p->exe_ino)
		return p->exe;
	snprintf(buf, size, "/proc/%ld/fd/%d", (long)getpid(), p->exe_fd);
	return buf;
}

/* Starts the program again as a worker on these pipes; its pid in *pid. */
static int spawn_process(struct process_pool *p, const int tasks[2], const int results[2],
			 pid_t *pid)
{
	posix_spawn_file_actions_t actions;
	char spec[64];
	size_t nenv = 0;
	int err;

	while (environ[nenv])
		nenv++;
	char **env = malloc((nenv + 2) * sizeof(*env));
	if (!env)
		return ENOMEM;
	snprintf(spec, sizeof(spec), "CF_PROCESS_WORKER=%d:%d:%ld", WORKER_TASKS_FD,
		 WORKER_RESULTS_FD, (long)getpid());
	env[0] = spec;
	memcpy(env + 1, environ, (nenv + 1) * sizeof(*env));

	/* The worker gets its two pipe ends as fds 3 and 4 and nothing else
	 * the program had open beyond stdin, stdout and stderr. */
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, tasks[0], WORKER_TASKS_FD);
	posix_spawn_file_actions_adddup2(&actions, results[1], WORKER_RESULTS_FD);
	posix_spawn_file_actions_addclosefrom_np(&actions, WORKER_RESULTS_FD + 1);
	char *argv[] = { p->exe, NULL };
	char kept[64];
	err = posix_spawn(pid, exe_to_start(p, kept, sizeof(kept)), &actions, NULL, argv, env);
	posix_spawn_file_actions_destroy(&actions);
	free(env);
	return err;
}

/* A TASK frame at its largest, its argument aside: header, function name. */
#define TASK_FRAME_EXTRA (CF_WIRE_HEADER_SIZE + 2 + CF_WIRE_MAX_NAME + 8)

static int spawn_worker(struct process_pool *p, struct worker *w)
{
	int tasks[2], results[2], err;
	pid_t pid;

	if (p->exe_problem)
		return ENOEXEC;
	err = open_pipes(tasks, results);
	if (err)
		return err;
	err = spawn_process(p, tasks, results, &pid);
	close(results[1]);      /* the worker's alone: its end is the pool's EOF */
	if (err) {
		close(tasks[0]);
		close(tasks[1]);
		close(results[0]);
		return err;
	}
	atomic_fetch_add(&p->processes_created, 1);
	/* A task sent ahead must fit in the empty pipe (WORKER_DEPTH).  A
	 * pipe is 64 KiB unless the user's pipe limit made it smaller. */
	int pipe_size = fcntl(tasks[1], F_GETPIPE_SZ);
	w->tasks_fd = tasks[1];
	w->tasks_kept_fd = tasks[0];
	w->results_fd = results[0];
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = w };
	epoll_ctl(p->epoll_fd, EPOLL_CTL_ADD, w->results_fd, &ev);
	/* The INIT frame goes first, before any task can be sent.  If the
	 * worker died at once, the poll loop finds its result pipe closed. */
	if (p->init_frame)
		cf__frame_write_pipe(w->tasks_fd, w->results_fd, CF_WIRE_INIT, 0, p->init_frame,
				     p->init_frame_len, NULL, 0);
	pthread_mutex_lock(&p->lock);
	w->ahead_max = pipe_size > TASK_FRAME_EXTRA ? (size_t)pipe_size - TASK_FRAME_EXTRA : 0;
	w->pid = pid;
	w->ready = true;
	w->retiring = false;
	w->ntasks = 0;
	w->tasks_done = 0;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* Waits up to grace_s for pid to exit on its own; true if it did, with
 * its wait status in *status. */
static bool exited_within(pid_t pid, double grace_s, int *status)
{
	double end = cf__now() + grace_s;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return true;
		if ((r < 0 && errno != EINTR) || cf__now() >= end)
			return false;
		usleep(1000);
	}
}

/* Closes and reaps a worker that is no longer ready (its slot is kept
 * until then so that nobody reuses it).  With kill_it, it is first given
 * grace_s to exit by itself.  Returns its wait status (-1: unknown). */
static int reap_worker(struct process_pool *p, struct worker *w, bool kill_it, double grace_s)
{
	pid_t pid = w->pid;
	int status = -1;
	bool reaped = kill_it && grace_s > 0 && exited_within(pid, grace_s, &status);

	if (kill_it && !reaped)
		kill(pid, SIGKILL);     /* its result pipe hangs up: that frees a
					 * writer waiting for room in its task
					 * pipe and a borrower waiting on it */
	pthread_mutex_lock(&w->read_lock);
	epoll_ctl(p->epoll_fd, EPOLL_CTL_DEL, w->results_fd, NULL);
	pthread_mutex_lock(&w->send_lock);
	close(w->results_fd);
	close(w->tasks_fd);
	close(w->tasks_kept_fd);
	w->results_fd = w->tasks_fd = w->tasks_kept_fd = -1;
	pthread_mutex_unlock(&w->send_lock);
	cf__frame_reader_clear(&w->reader);
	pthread_mutex_unlock(&w->read_lock);
	while (!reaped && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&p->lock);
	w->pid = 0;
	pthread_mutex_unlock(&p->lock);
	return status;
}

/* Ends the reason with how the worker it names ended, once reaped.
 * Lock held. */
static void append_exit_status(struct process_pool *p, int status)
{
	size_t len = strlen(p->why);
	char *end = p->why + len;
	size_t room = sizeof(p->why) - len;

	if (status < 0)
		return;
	if (WIFSIGNALED(status))
		snprintf(end, room, ": killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status))
		snprintf(end, room, ": exited with status %d", WEXITSTATUS(status));
}

/* Breaks the pool: every future not yet done fails with CF_BROKEN, every
 * worker is killed and reaped. */
static void break_pool(struct process_pool *p)
{
	struct cf_link *running = NULL;  /* the workers' tasks, chained */

	/* The worker the reason names goes first, so that the reason is
	 * whole before anyone can see the pool broken: given a moment, a
	 * worker whose pipe closed tells by its exit status why it ended. */
	pthread_mutex_lock(&p->lock);
	struct worker *culprit = p->culprit && p->culprit->pid ? p->culprit : NULL;
	if (culprit)
		culprit->ready = false;
	pthread_mutex_unlock(&p->lock);
	if (culprit) {
		int status = reap_worker(p, culprit, true, p->culprit_ended ? 0.5 : 0);
		pthread_mutex_lock(&p->lock);
		if (p->culprit_ended)
			append_exit_status(p, status);
		pthread_mutex_unlock(&p->lock);
	}

	pthread_mutex_lock(&p->lock);
	if (!p->why[0])
		snprintf(p->why, sizeof(p->why), "the pool's manager thread failed");
	p->broken = true;
	struct cf_link *queued = cf__fifo_take_all(&p->queue);
	for (int i = 0; i < p->max_workers; i++) {
		struct worker *w = &p->workers[i];
		w->ready = false;
		for (int k = 0; k < w->ntasks; k++) {
			cf__future_set_backend_data(w->tasks[k], NULL);
			cf__future_link(w->tasks[k])->next = running;
			running = cf__future_link(w->tasks[k]);
		}
		w->ntasks = 0;
	}
	pthread_mutex_unlock(&p->lock);

	for (int i = 0; i < p->max_workers; i++)
		if (p->workers[i].pid)
			reap_worker(p, &p->workers[i], true, 0);
	cf__future_abandon_list(running, CF_BROKEN);
	cf__future_abandon_list(queued, CF_BROKEN);
}

/* Starts a worker for each queued task that no idle worker can take, like
 * Python's _adjust_process_count, then hands queued tasks to idle
 * workers.  Returns -1 when no worker exists and none can start. */
static int dispatch(struct process_pool *p)
{
	pthread_mutex_lock(&p->lock);
	size_t waiting = p->queue.count;
	int idle = count_workers_locked(p, true);
	int alive = count_workers_locked(p, false);
	pthread_mutex_unlock(&p->lock);

	for (; waiting > (size_t)idle && alive < p->max_workers; idle++, alive++) {
		struct worker *w = NULL;
		pthread_mutex_lock(&p->lock);
		for (int i = 0; i < p->max_workers && !w; i++)
			if (!p->workers[i].pid)
				w = &p->workers[i];
		pthread_mutex_unlock(&p->lock);
		if (!w)
			break;  /* slots held by retiring workers: wait for them */
		int err = spawn_worker(p, w);
		if (err) {
			if (alive > 0)
				break;
			/* No worker at all can start. */
			pthread_mutex_lock(&p->lock);
			note_broken_locked(p, NULL, false, "cannot start a worker process: %s",
					   p->exe_problem ? p->exe_problem : strerror(err));
			pthread_mutex_unlock(&p->lock);
			return -1;
		}
	}

	for (;;) {
		struct worker *w;
		cf_future *f = NULL;
		uint64_t id = 0;
		struct cf_bytes arg;

		pthread_mutex_lock(&p->lock);
		while (p->queue.head) {
			f = cf__future_of_link(p->queue.head);
			if (!(w = find_taker_locked(p, f))) {
				f = NULL;
				break;
			}
			cf__fifo_pop(&p->queue);
			if (cf__future_start(f)) {
				id = assign_locked(p, w, f, &arg);
				break;
			}
			cf__future_unref(f);    /* cancelled while queued */
		}
		pthread_mutex_unlock(&p->lock);
		if (!f)
			return 0;
		send_task(p, w, f, id, &arg);
	}
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

/* A worker finished a task: refill its pipeline from the queue at once,
 * or retire it after max_tasks_per_child. */
static void settle_worker(struct process_pool *p, struct worker *w)
{
	cf_future *next[WORKER_DEPTH];
	uint64_t next_ids[WORKER_DEPTH];
	struct cf_bytes next_args[WORKER_DEPTH];
	int nnext = 0;

	pthread_mutex_lock(&p->lock);
	cf_future *f;
	while (nnext < WORKER_DEPTH && p->queue.head &&
	       can_take(p, w, f = cf__future_of_link(p->queue.head))) {
		cf__fifo_pop(&p->queue);
		if (!cf__future_start(f)) {
			cf__future_unref(f);    /* cancelled while queued */
			continue;
		}
		next[nnext] = f;
		next_ids[nnext] = assign_locked(p, w, f, &next_args[nnext]);
		nnext++;
	}
	bool retire = p->max_tasks_per_child && w->ntasks == 0 &&
		      w->tasks_done >= p->max_tasks_per_child;
	if (retire) {
		w->retiring = true;
		w->ready = false;
	}
	pthread_mutex_unlock(&p->lock);

	for (int i = 0; i < nnext; i++)
		send_task(p, w, next[i], next_ids[i], &next_args[i]);
	if (retire)
		send_frame(w, CF_WIRE_EXIT, 0, NULL, 0, NULL, 0);
	atomic_fetch_add(&p->tasks_completed, 1);
}

/* Completes a future from its frame; touches nothing of the pool, so a
 * borrower may do it after letting go of the pool. */
static void complete(cf_future *done, const struct cf_wire_header *h, unsigned char *payload)
{
	struct cf_task t;

	fill_task(&t, h, payload);
	cf__future_finish(done, &t);
	cf__task_clear(&t);
	cf__future_unref(done);
}

/* One frame read from a worker, and what it means. */
enum frame_outcome {
	FRAME_RESULT,           /* in.done finished with in.h / in.payload */
	FRAME_AGAIN,            /* nothing whole yet */
	FRAME_RETIRED,          /* EOF of a worker that retired: reap it */
	FRAME_BAD,              /* died, spoke nonsense, or its init failed */
};

struct frame_in {
	cf_future *done;
	struct cf_wire_header h;
	unsigned char *payload;
};

/* Says why a frame from w breaks the pool (h: the frame, when whole). */
static void note_bad_frame(struct process_pool *p, struct worker *w, enum cf_frame_status st,
			   enum cf_wire_error wire_error, const struct cf_wire_header *h,
			   const unsigned char *payload)
{
	int i = worker_index(w), err = errno;
	long pid = (long)w->pid;
	cf_error e;

	pthread_mutex_lock(&p->lock);
	if (st == CF_FRAME_EOF)
		note_broken_locked(p, w, true, "worker %d (pid %ld) ended", i, pid);
	else if (st == CF_FRAME_CORRUPT && wire_error == CF_WIRE_OK)
		note_broken_locked(p, w, true, "worker %d (pid %ld) ended in the middle of a frame",
				   i, pid);
	else if (st == CF_FRAME_CORRUPT)
		note_broken_locked(p, w, false, "worker %d (pid %ld) sent a corrupt frame: %s", i,
				   pid, cf_wire_strerror(wire_error));
	else if (st == CF_FRAME_IO_ERROR)
		note_broken_locked(p, w, false, "reading from worker %d (pid %ld): %s", i, pid,
				   strerror(err));
	else if (st == CF_FRAME_NOMEM)
		note_broken_locked(p, w, false, "no memory for a frame from worker %d", i);
	else if (h && h->type == CF_WIRE_INIT_FAILED &&
		 cf_wire_get_error(payload, h->length, &e) == CF_WIRE_OK)
		note_broken_locked(p, w, false, "the initializer failed in worker %d (pid %ld): %s",
				   i, pid, e.message);
	else if (h)
		note_broken_locked(p, w, false, "worker %d (pid %ld) sent an unexpected frame "
				   "(type %d, id %llu)", i, pid, (int)h->type,
				   (unsigned long long)h->id);
	pthread_mutex_unlock(&p->lock);
}

/* Reads what w sent, up to one frame, without waiting (or, with
 * wait_for_start, waiting for a frame to begin).  read_lock held. */
static enum frame_outcome read_frame_locked(struct process_pool *p, struct worker *w,
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
		in->done = unassign_locked(w, in->h.id);
	/* Counted with the unassigning, in one critical section: in between,
	 * a submit would see a worker with no task and no task done, and
	 * give it one past max_tasks_per_child. */
	if (in->done)
		w->tasks_done++;
	bool retired = w->retiring && !w->ntasks;
	pthread_mutex_unlock(&p->lock);
	if (in->done)
		return FRAME_RESULT;
	if (st == CF_FRAME_EOF && retired) {
		return FRAME_RETIRED;
	}
	note_bad_frame(p, w, st, wire_error, st == CF_FRAME_OK ? &in->h : NULL, in->payload);
	if (st == CF_FRAME_OK)
		free(in->payload);
	return FRAME_BAD;
}

/* Handles what a worker sent, frame by frame, without ever waiting for
 * the rest of a frame.  A worker a caller has borrowed is left to it.
 * The frame is handled after read_lock is let go: completing a future
 * runs its callbacks, which may wait on another future of this worker.
 * Returns -1 if the pool must break. */
static int on_worker_readable(struct process_pool *p, struct worker *w)
{
	for (;;) {
		struct frame_in in;

		if (pthread_mutex_trylock(&w->read_lock) != 0)
			return 0;
		if (atomic_load(&w->lent)) {
			pthread_mutex_unlock(&w->read_lock);
			return 0;
		}
		enum frame_outcome o = read_frame_locked(p, w, false, &in);
		pthread_mutex_unlock(&w->read_lock);
		switch (o) {
		case FRAME_AGAIN:
			return 0;
		case FRAME_RETIRED:
			reap_worker(p, w, false, 0);  /* it left after max_tasks_per_child */
			return 0;
		case FRAME_BAD:
			return -1;
		case FRAME_RESULT:
			settle_worker(p, w);
			complete(in.done, &in.h, in.payload);
			break;
		}
	}
}

/* When w's unfinished frame began stalling, or -1.  A borrowed worker is
 * its borrower's to watch. */
static double stalling_since(struct worker *w)
{
	double since = -1;

	if (!w->pid || pthread_mutex_trylock(&w->read_lock) != 0)
		return -1;
	if (!atomic_load(&w->lent) && (w->reader.in_payload || w->reader.have > 0))
		since = w->partial_since;
	pthread_mutex_unlock(&w->read_lock);
	return since;
}

/* How long the manager may wait before a stalled frame must be noticed. */
static int stall_timeout_ms(struct process_pool *p)
{
	double now = cf__now(), first = -1;

	for (int i = 0; i < p->max_workers; i++) {
		double since = stalling_since(&p->workers[i]);
		if (since >= 0 && (first < 0 || since + FRAME_STALL_S < first))
			first = since + FRAME_STALL_S;
	}
	if (first < 0)
		return -1;
	return first <= now ? 0 : (int)((first - now) * 1000) + 1;
}

/* Whether a worker stalled in a frame (and says so in the reason). */
static bool stalled(struct process_pool *p)
{
	double now = cf__now();

	for (int i = 0; i < p->max_workers; i++) {
		struct worker *w = &p->workers[i];
		double since = stalling_since(w);
		if (since >= 0 && now - since >= FRAME_STALL_S) {
			pthread_mutex_lock(&p->lock);
			note_broken_locked(p, w, false, "worker %d (pid %ld) stopped in the "
					   "middle of a frame for %.0f s", i, (long)w->pid,
					   FRAME_STALL_S);
			pthread_mutex_unlock(&p->lock);
			return true;
		}
	}
	return false;
}

/* Breaks the pool for a failed system call of the manager's. */
static int manager_failed(struct process_pool *p, const char *call)
{
	int err = errno;

	pthread_mutex_lock(&p->lock);
	note_broken_locked(p, NULL, false, "the pool's manager: %s: %s", call, strerror(err));
	pthread_mutex_unlock(&p->lock);
	return -1;
}

/* Waits for events; returns -1 if the pool must break. */
static int wait_and_handle(struct process_pool *p)
{
	/* More ready descriptors than this wait for the next call. */
	struct epoll_event events[16];
	int n = epoll_wait(p->epoll_fd, events, 16, stall_timeout_ms(p));

	if (n < 0)
		return errno == EINTR ? 0 : manager_failed(p, "epoll_wait");
	if (stalled(p) || atomic_load(&p->must_break))
		return -1;
	for (int i = 0; i < n; i++) {
		struct worker *w = events[i].data.ptr;
		if (!w) {
			uint64_t count;
			if (read(p->wake_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
				return manager_failed(p, "read from its eventfd");
		} else if (on_worker_readable(p, w) != 0) {
			return -1;
		}
	}
	return 0;
}

/* True when shut down with nothing queued or running (lock taken). */
static bool finished(struct process_pool *p)
{
	pthread_mutex_lock(&p->lock);
	bool done = p->shutdown && p->queue.count == 0;
	for (int i = 0; done && i < p->max_workers; i++)
		if (p->workers[i].ntasks)
			done = false;
	if (done)
		for (int i = 0; i < p->max_workers; i++)
			p->workers[i].ready = false;
	pthread_mutex_unlock(&p->lock);
	return done;
}

static void stop_workers(struct process_pool *p)
{
	for (int i = 0; i < p->max_workers; i++) {
		struct worker *w = &p->workers[i];
		if (!w->pid)
			continue;
		send_frame(w, CF_WIRE_EXIT, 0, NULL, 0, NULL, 0);
		reap_worker(p, w, false, 0);
	}
}

static void *manager_main(void *arg)
{
	struct process_pool *p = arg;

	pthread_setname_np(pthread_self(), "cf_manager");
	for (;;) {
		if (dispatch(p) != 0)
			break;
		if (finished(p)) {
			stop_workers(p);
			return NULL;
		}
		if (wait_and_handle(p) != 0)
			break;
	}
	break_pool(p);
	return NULL;
}

/* ---- callers that read their own result ---- */

/* A caller waiting for a task it submitted would otherwise sleep until the
 * manager, itself woken by the worker's answer, wakes it: three wake-ups
 * per round trip where a pipe between two processes has two.  So the
 * caller borrows the worker: it takes the result pipe out of the
 * manager's epoll set, waits on it itself, reads the frame, hands it back
 * and completes the future.  Only a task that went to an idle worker on
 * its own is waited for this way; a map's tasks come back in a stream,
 * which the manager serves better.
 *
 * The pool stays alive while a borrower is inside it (borrowers > 0):
 * destroy waits for them. */

/* Joins the pool's borrowers if f is running on a worker that has its
 * task (backend_data is set once the frame is sent, and cleared when its
 * result is read: a caller never waits on a pipe for a task that is not
 * there, or for a result already taken); the worker, or NULL.  Under f's lock f cannot finish, and an
 * unfinished, assigned future means the pool is not destroyed yet. */
static struct worker *join_borrowers(cf_future *f)
{
	struct worker *w;

	cf__future_lock(f);
	w = cf__future_finished(f) ? NULL : cf__future_backend_data(f);
	if (w)
		atomic_fetch_add(&w->pool->borrowers, 1);
	cf__future_unlock(f);
	return w;
}

static void leave_borrowers(struct process_pool *p)
{
	pthread_mutex_lock(&p->lock);
	if (atomic_fetch_sub(&p->borrowers, 1) == 1)
		pthread_cond_broadcast(&p->borrowers_cond);
	pthread_mutex_unlock(&p->lock);
}

/* Waits until fd is readable, the deadline passes, or a frame begun on
 * it has stalled too long.  False on timeout. */
static bool wait_readable(struct worker *w, double deadline)
{
	for (;;) {
		double until = deadline;
		if (w->reader.in_payload || w->reader.have > 0) {
			double stall = w->partial_since + FRAME_STALL_S;
			if (until < 0 || stall < until)
				until = stall;
		}
		double now = cf__now();
		if (until >= 0 && now >= until)
			return false;
		/* poll takes an int of ms: a far deadline is waited in pieces. */
		double ms_left = (until - now) * 1000 + 1;
		int ms = until < 0 ? -1 : ms_left > 1e6 ? 1000000 : (int)ms_left;
		struct pollfd pfd = { .fd = w->results_fd, .events = POLLIN };
		int n = poll(&pfd, 1, ms);
		if (n > 0)
			return true;
		if (n < 0 && errno != EINTR)
			return true;    /* let the read say what is wrong */
	}
}

/* Borrows w to read one frame for a caller waiting on f. */
static enum frame_outcome borrow_and_read(struct process_pool *p, struct worker *w,
					  cf_future *f, double deadline, struct frame_in *in)
{
	enum frame_outcome o = FRAME_AGAIN;
	bool mine;

	pthread_mutex_lock(&p->lock);
	mine = !p->broken && w->pid && !atomic_load(&w->lent) &&
	       cf__future_backend_data(f) == w;
	if (mine)
		atomic_store(&w->lent, true);
	pthread_mutex_unlock(&p->lock);
	if (!mine)
		return FRAME_AGAIN;

	/* Waits for a read the manager may be in the middle of; that read
	 * may have been f's result, so f is asked again. */
	pthread_mutex_lock(&w->read_lock);
	if (w->results_fd >= 0 && cf__future_backend_data(f) == w) {
		epoll_ctl(p->epoll_fd, EPOLL_CTL_DEL, w->results_fd, NULL);
		/* Without a deadline the first read waits for the answer
		 * itself, one system call where a poll and a read are two;
		 * with one, it waits in poll first (the answer is rarely there
		 * yet, and a read that finds nothing is a call more).  Either
		 * way a frame begun but stalled is timed by wait_readable. */
		bool forever = deadline < 0;
		for (;;) {
			if (!forever && !wait_readable(w, deadline))
				break;
			o = read_frame_locked(p, w, forever, in);
			if (o != FRAME_AGAIN)
				break;
			if (forever && !wait_readable(w, deadline))
				break;          /* stalled in a frame */
		}
		/* Back to the manager: a frame still waiting in the pipe, or
		 * its end, wakes it as soon as the pipe is in its set again. */
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = w };
		epoll_ctl(p->epoll_fd, EPOLL_CTL_ADD, w->results_fd, &ev);
	}
	bool partial = w->reader.in_payload || w->reader.have > 0;
	atomic_store(&w->lent, false);
	pthread_mutex_unlock(&w->read_lock);

	/* The manager reaps and breaks; it must hear of what we saw, and of a
	 * half-read frame whose stall it now has to time. */
	if (o == FRAME_BAD)
		atomic_store(&p->must_break, true);
	if (o == FRAME_BAD || (o == FRAME_AGAIN && partial))
		wake_manager(p);
	return o;
}

/* A caller's help with the wait for a task sent straight to an idle
 * worker (the future's wait helper). */
static void help_wait(cf_future *f, double deadline);

/* The index help_wait has in core's table of wait helpers (0: none, when
 * the table is full: callers then wait for the manager). */
static unsigned help_wait_index;
static pthread_once_t help_wait_once = PTHREAD_ONCE_INIT;

static void register_help_wait(void)
{
	help_wait_index = cf__wait_help_register(help_wait);
}

static void help_wait(cf_future *f, double deadline)
{
	struct worker *w;

	while ((w = join_borrowers(f)) != NULL) {
		struct process_pool *p = w->pool;
		struct frame_in in;
		enum frame_outcome o = borrow_and_read(p, w, f, deadline, &in);

		if (o == FRAME_RESULT) {
			settle_worker(p, w);
			/* The manager ends a shut-down pool when it sees nothing
			 * left, which it only looks at when woken. */
			pthread_mutex_lock(&p->lock);
			bool shutting_down = p->shutdown;
			pthread_mutex_unlock(&p->lock);
			if (shutting_down)
				wake_manager(p);
		}
		leave_borrowers(p);
		if (o == FRAME_RESULT)
			complete(in.done, &in.h, in.payload);   /* f, or one ahead of it */
		else
			return;         /* timed out, or the manager takes over */
	}
}

/* ---- the backend interface ---- */

/* A task goes straight to an idle worker from the submitting thread, one
 * hop less than through the manager; otherwise it waits in the queue and
 * the manager starts a worker for it or hands it on when one frees up. */
static cf_status pool_submit(cf_executor *ex, cf_future *f)
{
	struct process_pool *p = ex->impl;
	struct worker *w = NULL;
	uint64_t id = 0;
	struct cf_bytes arg;
	cf_status st = CF_OK;

	pthread_mutex_lock(&p->lock);
	if (p->broken) {
		st = CF_BROKEN;
	} else if (p->shutdown) {
		st = CF_SHUTDOWN;
	} else {
		cf__future_ref(f);      /* the pool's reference */
		if (!cf__future_streamed(f))
			cf__future_set_wait_help(f, help_wait_index);
		/* Straight to a worker only if it is idle: one with a task
		 * ahead already is served by the manager as results come. */
		w = find_taker_locked(p, f);
		if (w && w->ntasks == 0 && cf__future_start(f))
			id = assign_locked(p, w, f, &arg);
		else
			w = NULL;
		if (!w)
			cf__fifo_push(&p->queue, cf__future_link(f));
	}
	pthread_mutex_unlock(&p->lock);
	if (st != CF_OK)
		return st;
	if (w)
		send_task(p, w, f, id, &arg);
	else
		wake_manager(p);
	return CF_OK;
}

static cf_status pool_shutdown(cf_executor *ex, bool wait, bool cancel_futures)
{
	struct process_pool *p = ex->impl;
	struct cf_link *cancelled = NULL;

	/* A done callback runs on the manager thread: waiting there for the
	 * manager to end would wait for itself. */
	if (wait && pthread_equal(pthread_self(), p->manager))
		return CF_INVALID_STATE;
	pthread_mutex_lock(&p->lock);
	p->shutdown = true;
	if (cancel_futures)
		cancelled = cf__fifo_take_all(&p->queue);
	pthread_mutex_unlock(&p->lock);
	cf__future_abandon_list(cancelled, CF_CANCELLED);
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
	pthread_mutex_lock(&p->lock);
	while (atomic_load(&p->borrowers) > 0)
		pthread_cond_wait(&p->borrowers_cond, &p->lock);
	pthread_mutex_unlock(&p->lock);
	if (p->wake_fd >= 0)
		close(p->wake_fd);
	if (p->epoll_fd >= 0)
		close(p->epoll_fd);
	if (p->exe_fd >= 0)
		close(p->exe_fd);
	pthread_cond_destroy(&p->borrowers_cond);
	pthread_mutex_destroy(&p->lock);
	pthread_mutex_destroy(&p->join_lock);
	free(p->init_frame);
	for (int i = 0; p->workers && i < p->max_workers; i++) {
		pthread_mutex_destroy(&p->workers[i].send_lock);
		pthread_mutex_destroy(&p->workers[i].read_lock);
	}
	free(p->workers);
	free(p);
}

/* Whether the main program has an ELF interpreter (is dynamic). */
static int has_interp(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_INTERP)
			*(bool *)data = true;
	return 1;       /* the main program comes first: stop there */
}

/* Names and opens the program file that workers will run.  A dynamic
 * program started through its loader ("ld.so PROGRAM") has the loader as
 * /proc/self/exe (and no AT_BASE, which the kernel sets only when it
 * loads an interpreter itself): restarting that would start the loader
 * with no program, so the pool says why no worker can start instead. */
static int open_exe(struct process_pool *p)
{
	bool dynamic = false;
	struct stat st;

	/* readlink, not "/proc/self/exe" itself: under valgrind the latter
	 * is valgrind, the former is the program. */
	ssize_t len = readlink("/proc/self/exe", p->exe, sizeof(p->exe) - 1);
	if (len <= 0)
		return -1;
	p->exe[len] = '\0';
	dl_iterate_phdr(has_interp, &dynamic);
	if (dynamic && getauxval(AT_BASE) == 0)
		p->exe_problem = "the program was started through the dynamic loader "
				 "(ld.so PROGRAM), and a worker would start the loader "
				 "alone: run the program directly";
	/* Deleted already, the name ends in " (deleted)": /proc/self/exe
	 * still opens the file itself. */
	p->exe_fd = open(p->exe, O_RDONLY | O_CLOEXEC);
	if (p->exe_fd < 0)
		p->exe_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (p->exe_fd < 0 || fstat(p->exe_fd, &st) != 0)
		return -1;
	p->exe_dev = st.st_dev;
	p->exe_ino = st.st_ino;
	return 0;
}

static cf_status pool_create(cf_executor *ex, const cf_options *opts)
{
	struct process_pool *p = calloc(1, sizeof(*p));
	cf_status st;

	if (!p)
		return CF_NOMEM;
	pthread_once(&help_wait_once, register_help_wait);
	p->exe_fd = -1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&p->join_lock, NULL);
	pthread_cond_init(&p->borrowers_cond, NULL);
	p->max_workers = opts->max_workers ? opts->max_workers : cf__cpu_count();
	p->max_tasks_per_child = opts->max_tasks_per_child;
	p->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	p->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (p->wake_fd >= 0 && p->epoll_fd >= 0) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
		if (epoll_ctl(p->epoll_fd, EPOLL_CTL_ADD, p->wake_fd, &ev) < 0) {
			close(p->epoll_fd);
			p->epoll_fd = -1;
		}
	}
	p->workers = calloc((size_t)p->max_workers, sizeof(*p->workers));
	for (int i = 0; p->workers && i < p->max_workers; i++) {
		pthread_mutex_init(&p->workers[i].send_lock, NULL);
		pthread_mutex_init(&p->workers[i].read_lock, NULL);
		p->workers[i].tasks_fd = -1;
		p->workers[i].tasks_kept_fd = -1;
		p->workers[i].results_fd = -1;
		p->workers[i].pool = p;
	}
	if (p->wake_fd < 0 || p->epoll_fd < 0 || !p->workers || open_exe(p) != 0) {
		int err = errno;
		st = p->workers ? CF_SYSTEM : CF_NOMEM;
		pool_free(p);
		errno = err;
		return st;
	}
	st = make_init_frame(p, opts);
	int err = st == CF_OK ? pthread_create(&p->manager, NULL, manager_main, p) : 0;
	if (err)
		st = CF_SYSTEM;
	if (st != CF_OK) {
		pool_free(p);
		errno = err;
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

static const char *pool_broken_reason(cf_executor *ex)
{
	struct process_pool *p = ex->impl;

	pthread_mutex_lock(&p->lock);
	bool broken = p->broken;
	pthread_mutex_unlock(&p->lock);
	return broken ? p->why : NULL;
}

const struct cf_backend cf__process_backend = {
	.name = "process",
	.create = pool_create,
	.submit = pool_submit,
	.shutdown = pool_shutdown,
	.destroy = pool_destroy,
	.stats = pool_stats,
	.broken_reason = pool_broken_reason,
};
