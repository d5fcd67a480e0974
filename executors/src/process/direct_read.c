/* Callers that read their own result (pool.h), with
 * CF_PROCESS_DIRECT_READ on.
 *
 * A caller waiting for a task it submitted would otherwise sleep until
 * the manager, itself woken by the worker's answer, wakes it: three
 * wake-ups per round trip where a pipe between two processes has two.
 * So the caller borrows the worker: it takes the result pipe out of the
 * manager's poller, waits on it itself, reads the frame, hands the pipe
 * back and completes the future.  Only a task that went to an idle
 * worker on its own is waited for this way; a map's tasks come back in a
 * stream, which the manager serves better.
 *
 * The pool stays alive while a borrower is inside it (borrowers > 0):
 * destroy waits for them.
 */
#include "process/pool.h"

#include "base/clock.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

#if CF_PROCESS_DIRECT_READ

/* Joins the pool's borrowers if f is running on a worker that has its
 * task (backend_data is set once the frame is sent, and cleared when its
 * result is read: a caller never waits on a pipe for a task that is not
 * there, or for a result already taken); the worker, or NULL.  Under f's
 * lock f cannot finish, and an unfinished, assigned future means the
 * pool is not destroyed yet. */
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

static bool partial_frame(const struct worker *w)
{
	return w->reader.in_payload || w->reader.have > 0;
}

/* Waits until the result pipe is readable, the deadline passes, or a
 * frame begun on it has stalled too long.  False on timeout. */
static bool wait_readable(struct worker *w, double deadline)
{
	for (;;) {
		double until = deadline;
		if (partial_frame(w)) {
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
		if (n > 0 || (n < 0 && errno != EINTR))
			return true;    /* an error: let the read say what is wrong */
	}
}

/* Lends w to the caller of f if f is still on it and nobody else reads
 * it; true if lent. */
static bool lend(struct process_pool *p, struct worker *w, cf_future *f)
{
	pthread_mutex_lock(&p->lock);
	bool mine = !p->broken && w->state == WORKER_READY && !atomic_load(&w->lent) &&
		    cf__future_backend_data(f) == w;
	if (mine)
		atomic_store(&w->lent, true);
	pthread_mutex_unlock(&p->lock);
	return mine;
}

/* Reads until a frame is whole, the deadline passes, or a frame stalls.
 * Without a deadline the first read waits for the answer itself, one
 * system call where a poll and a read are two; with one, it waits in
 * poll first (the answer is rarely there yet, and a read that finds
 * nothing is a call more).  read_lock held. */
static enum frame_outcome read_lent(struct process_pool *p, struct worker *w, double deadline,
				    struct frame_in *in)
{
	bool forever = deadline < 0;
	enum frame_outcome o = FRAME_AGAIN;

	for (;;) {
		if (!forever && !wait_readable(w, deadline))
			return o;
		o = cf__proc_read_frame(p, w, forever, in);
		if (o != FRAME_AGAIN)
			return o;
		if (forever && !wait_readable(w, deadline))
			return o;       /* stalled in a frame */
	}
}

/* Hands w's result pipe back to the manager's poller: a frame still
 * waiting in the pipe, or its end, wakes the manager as soon as it is
 * there again.  A pipe the poller refuses would never be read again: the
 * pool must break instead (false).  read_lock held. */
static bool give_back(struct process_pool *p, struct worker *w)
{
	int err = cf__poller_add(&p->poller, w->results_fd, w);

	if (err == 0)
		return true;
	cf__proc_note_broken(p, w, false, "worker %d (pid %ld) could not be watched again: %s",
			     cf__proc_worker_index(w), (long)w->pid, strerror(err));
	return false;
}

/* Borrows w to read one frame for a caller waiting on f. */
static enum frame_outcome borrow_and_read(struct process_pool *p, struct worker *w,
					  cf_future *f, double deadline, struct frame_in *in)
{
	enum frame_outcome o = FRAME_AGAIN;
	bool lost = false;

	if (!lend(p, w, f))
		return FRAME_AGAIN;
	/* Waits for a read the manager may be in the middle of; that read
	 * may have been f's result, so f is asked again.  A pipe that cannot
	 * be taken out of the poller is left to the manager. */
	pthread_mutex_lock(&w->read_lock);
	if (w->results_fd >= 0 && cf__future_backend_data(f) == w &&
	    cf__poller_remove(&p->poller, w->results_fd) == 0) {
		o = read_lent(p, w, deadline, in);
		lost = !give_back(p, w);
	}
	bool partial = partial_frame(w);
	atomic_store(&w->lent, false);
	pthread_mutex_unlock(&w->read_lock);

	/* The manager reaps and breaks; it must hear of what we saw, and of a
	 * half-read frame whose stall it now has to time.  A result read
	 * before the pipe was lost is still the caller's. */
	if (o == FRAME_BAD || lost)
		atomic_store(&p->must_break, true);
	if (o == FRAME_BAD || lost || (o == FRAME_AGAIN && partial))
		cf__proc_wake_manager(p);
	return o;
}

/* A caller's help with the wait for a task sent straight to an idle
 * worker (the future's wait helper). */
static void help_wait(cf_future *f, double deadline)
{
	struct worker *w;

	while ((w = join_borrowers(f)) != NULL) {
		struct process_pool *p = w->pool;
		struct frame_in in;
		enum frame_outcome o = borrow_and_read(p, w, f, deadline, &in);

		if (o == FRAME_RESULT) {
			cf__proc_settle_worker(p, w);
			/* The manager ends a shut-down pool when it sees nothing
			 * left, which it only looks at when woken. */
			pthread_mutex_lock(&p->lock);
			bool shutting_down = p->shutdown;
			pthread_mutex_unlock(&p->lock);
			if (shutting_down)
				cf__proc_wake_manager(p);
		}
		leave_borrowers(p);
		if (o != FRAME_RESULT)
			return;         /* timed out, or the manager takes over */
		cf__proc_complete(in.done, &in.h, in.payload);  /* f, or one ahead of it */
	}
}

static unsigned help_wait_index;
static pthread_once_t help_wait_once = PTHREAD_ONCE_INIT;

static void register_help_wait(void)
{
	help_wait_index = cf__wait_help_register(help_wait);
}

/* 0 when core's table of helpers is full: callers then wait for the
 * manager. */
unsigned cf__proc_wait_help_index(void)
{
	pthread_once(&help_wait_once, register_help_wait);
	return help_wait_index;
}

#else

unsigned cf__proc_wait_help_index(void)
{
	return 0;
}

#endif
