/* The manager thread (pool.h): it starts workers for the queue, hands
 * queued futures to them, reads their results, notices a frame that
 * stalls, and breaks the pool when a worker dies or misbehaves. */
#include "process/pool.h"

#include "base/bytes.h"
#include "base/clock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

/* Starts a worker for each queued task that no idle worker can take,
 * like Python's _adjust_process_count.  -1 when no worker exists and
 * none can start. */
static int start_workers(struct process_pool *p)
{
	pthread_mutex_lock(&p->lock);
	size_t waiting = p->queue.count;
	int idle = cf__proc_count_ready_locked(p, true);
	int alive = cf__proc_count_ready_locked(p, false);
	pthread_mutex_unlock(&p->lock);

	for (; waiting > (size_t)idle && alive < p->max_workers; idle++, alive++) {
		pthread_mutex_lock(&p->lock);
		struct worker *w = cf__proc_free_slot_locked(p);
		pthread_mutex_unlock(&p->lock);
		if (!w)
			break;  /* slots held by retiring workers: wait for them */
		int err = cf__proc_spawn_worker(p, w);
		if (err && alive > 0)
			break;  /* the next round tries again */
		if (err) {
			cf__proc_note_broken(p, NULL, false, "cannot start a worker process: %s",
					     p->exe_problem ? p->exe_problem : strerror(err));
			return -1;
		}
	}
	return 0;
}

/* Starts the workers the queue needs, then hands queued tasks to idle
 * workers.  -1 when no worker exists and none can start. */
static int dispatch(struct process_pool *p)
{
	if (start_workers(p) != 0)
		return -1;
	for (;;) {
		struct worker *w = NULL;
		uint64_t id = 0;
		struct cf_bytes arg;

		pthread_mutex_lock(&p->lock);
		cf_future *f = cf__proc_next_task_locked(p, NULL, &w);
		if (f)
			id = cf__proc_assign_locked(p, w, f, &arg);
		pthread_mutex_unlock(&p->lock);
		if (!f)
			return 0;
		cf__proc_send_task(p, w, f, id, &arg);
	}
}

/* Handles what a worker sent, frame by frame, without ever waiting for
 * the rest of a frame.  A worker a caller has borrowed is left to it.
 * The frame is handled after read_lock is let go: completing a future
 * runs its callbacks, which may wait on another future of this worker.
 * -1 if the pool must break. */
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
		enum frame_outcome o = cf__proc_read_frame(p, w, false, &in);
		pthread_mutex_unlock(&w->read_lock);
		switch (o) {
		case FRAME_AGAIN:
			return 0;
		case FRAME_RETIRED:
			/* it left after max_tasks_per_child */
			cf__proc_reap_worker(p, w, false, 0);
			return 0;
		case FRAME_BAD:
			return -1;
		case FRAME_RESULT:
			cf__proc_settle_worker(p, w);
			cf__proc_complete(in.done, &in.h, in.payload);
			break;
		}
	}
}

/* ---- frames that stall ---- */

/* When w's unfinished frame began stalling, or -1.  A borrowed worker is
 * its borrower's to watch.  A slot without a worker is skipped without
 * its lock: its descriptors change on this thread only. */
static double stalling_since(struct worker *w)
{
	double since = -1;

	if (w->results_fd < 0 || pthread_mutex_trylock(&w->read_lock) != 0)
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
			cf__proc_note_broken(p, w, false, "worker %d (pid %ld) stopped in the middle "
					     "of a frame for %.0f s", i, (long)w->pid, FRAME_STALL_S);
			return true;
		}
	}
	return false;
}

/* ---- the loop ---- */

/* Breaks the pool for a failed system call of the manager's. */
static int manager_failed(struct process_pool *p, const char *call, int err)
{
	cf__proc_note_broken(p, NULL, false, "the pool's manager: %s: %s", call, strerror(err));
	return -1;
}

/* Waits for events; -1 if the pool must break. */
static int wait_and_handle(struct process_pool *p)
{
	void *ready[CF_POLLER_MAX_EVENTS];
	int n = cf__poller_wait(&p->poller, ready, CF_POLLER_MAX_EVENTS, stall_timeout_ms(p));

	if (n < 0)
		return errno == EINTR ? 0 : manager_failed(p, "waiting for its workers", errno);
	if (stalled(p) || atomic_load(&p->must_break))
		return -1;
	for (int i = 0; i < n; i++) {
		struct worker *w = ready[i];
		int err = w ? 0 : cf__wakeup_drain(&p->wakeup);

		if (err)
			return manager_failed(p, "reading its wake-up", err);
		if (w && on_worker_readable(p, w) != 0)
			return -1;
	}
	return 0;
}

/* True when shut down with nothing queued or running; the workers then
 * stop taking tasks. */
static bool finished(struct process_pool *p)
{
	pthread_mutex_lock(&p->lock);
	bool done = p->shutdown && p->queue.count == 0;
	for (int i = 0; done && i < p->max_workers; i++)
		if (p->workers[i].ntasks)
			done = false;
	if (done)
		cf__proc_stop_all_locked(p);
	pthread_mutex_unlock(&p->lock);
	return done;
}

/* A worker that cannot be told to exit is dead, or sees its task pipe
 * end when the reaping closes it: either way it is reaped. */
static void stop_workers(struct process_pool *p)
{
	for (int i = 0; i < p->max_workers; i++) {
		struct worker *w = &p->workers[i];
		if (cf__proc_state_of(p, w) == WORKER_FREE)
			continue;
		cf__proc_send_frame(w, CF_WIRE_EXIT, 0, NULL, 0, NULL, 0);
		cf__proc_reap_worker(p, w, false, 0);
	}
}

/* ---- breaking the pool ---- */

/* Ends the reason with how the worker it names ended, once reaped.
 * Lock held. */
static void append_exit_status_locked(struct process_pool *p, int status)
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

/* The worker the reason names goes first, so that the reason is whole
 * before anyone can see the pool broken: given a moment, a worker whose
 * pipe closed tells by its exit status why it ended. */
static void reap_culprit(struct process_pool *p)
{
	pthread_mutex_lock(&p->lock);
	struct worker *culprit = p->culprit;
	bool ended = p->culprit_ended;
	if (culprit && culprit->state != WORKER_FREE)
		culprit->state = WORKER_STOPPING;
	else
		culprit = NULL;
	pthread_mutex_unlock(&p->lock);
	if (!culprit)
		return;
	int status = cf__proc_reap_worker(p, culprit, true, ended ? 0.5 : 0);
	pthread_mutex_lock(&p->lock);
	if (ended)
		append_exit_status_locked(p, status);
	pthread_mutex_unlock(&p->lock);
}

/* Marks the pool broken and stops every worker; the futures the workers
 * held, chained by their links.  Lock held. */
static struct cf_link *take_running_locked(struct process_pool *p)
{
	struct cf_link *running = NULL;

	if (!p->why[0])
		snprintf(p->why, sizeof(p->why), "the pool's manager thread failed");
	p->broken = true;
	cf__proc_stop_all_locked(p);
	for (int i = 0; i < p->max_workers; i++) {
		struct worker *w = &p->workers[i];
		for (int k = 0; k < w->ntasks; k++) {
			cf__future_set_backend_data(w->tasks[k], NULL);
			cf__future_link(w->tasks[k])->next = running;
			running = cf__future_link(w->tasks[k]);
		}
		w->ntasks = 0;
	}
	return running;
}

/* Breaks the pool: every future not yet done fails with CF_BROKEN, every
 * worker is killed and reaped. */
static void break_pool(struct process_pool *p)
{
	reap_culprit(p);
	pthread_mutex_lock(&p->lock);
	struct cf_link *running = take_running_locked(p);
	struct cf_link *queued = cf__fifo_take_all(&p->queue);
	pthread_mutex_unlock(&p->lock);

	for (int i = 0; i < p->max_workers; i++)
		if (cf__proc_state_of(p, &p->workers[i]) != WORKER_FREE)
			cf__proc_reap_worker(p, &p->workers[i], true, 0);
	cf__future_abandon_list(running, CF_BROKEN);
	cf__future_abandon_list(queued, CF_BROKEN);
}

void *cf__proc_manager_main(void *pool)
{
	struct process_pool *p = pool;

	cf__thread_set_name("cf_manager");
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
