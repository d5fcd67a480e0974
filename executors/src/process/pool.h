/* The process backend's private header: the pool, its workers, and what
 * the files of process/ call in one another.
 *
 * The backend is Python's ProcessPoolExecutor.  Workers are the program
 * itself, started afresh with posix_spawn (worker.c says why not a bare
 * fork), each joined to the pool by two pipes that carry frames of the
 * wire format (wire/wire.h): tasks down, results up.  Pipes rather than
 * one Unix socket because they are the cheaper transport (no socket
 * buffer to allocate per message), and because a reader sleeping on a
 * pipe is woken by data only, where one sleeping on a socket is also
 * woken whenever the peer reads.  A write to a pipe whose reader is gone
 * raises SIGPIPE, which would kill the calling program: the pool keeps a
 * read end of each task pipe open itself, so that no task pipe ever loses
 * its last reader, and learns of a dead worker from its result pipe
 * instead.
 *
 * One manager thread owns the workers: it starts them on demand, hands
 * queued futures to idle ones, reads results, replaces workers that ran
 * max_tasks_per_child tasks, and breaks the pool when a worker dies or
 * misbehaves, as in Python: its task and all pending ones fail with
 * CF_BROKEN, the other workers are killed, and every child is reaped
 * before the manager returns.  Callers touch the queue under the pool's
 * lock and wake the manager through a wake-up object; a submit hands its
 * task straight to an idle worker, and a caller waiting for that one
 * task may read its result from the worker's pipe itself (direct_read.c).
 *
 * The files, each calling only those after it in this list:
 *   backend.c      the cf_backend interface: create, submit, shutdown...
 *   manager.c      the manager thread's loop, stall detection, breaking
 *   direct_read.c  a waiting caller borrows a worker to read its result
 *   spawn.c        starting and reaping workers, the program's file
 *   talk.c         frames to and from a worker
 *   state.c        the books: which worker holds what, which may take
 *                  a task, why the pool broke
 *   worker.c       the other side: the worker process
 *
 * Locks, outermost first; a thread holding one never takes one above it:
 *
 *   w->read_lock  ->  p->lock  ->  a future's lock (cf__future_lock)
 *   w->read_lock  ->  w->send_lock
 *
 * A reader holds read_lock across a read of the result pipe and takes
 * p->lock inside it to take the finished task off the worker; p->lock is
 * held while a queued future is started, which takes the future's lock;
 * reaping a worker holds read_lock while it takes send_lock to close the
 * descriptors.  send_lock and p->lock are never held together: a frame
 * is written after p->lock is let go.  join_lock is taken alone.  Names
 * ending in _locked want p->lock held.
 */
#ifndef CF_PROCESS_POOL_H
#define CF_PROCESS_POOL_H

#include "base/fifo.h"
#include "core/future.h"
#include "platform/platform.h"
#include "wire/frame_io.h"

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* 1: a caller waiting for a task it submitted reads the result from the
 * worker's pipe itself (direct_read.c); 0: every result goes through the
 * manager, which then wakes the caller. */
#ifndef CF_PROCESS_DIRECT_READ
#define CF_PROCESS_DIRECT_READ 1
#endif

/* Tasks sent to a worker ahead of its results.  With one, a worker idles
 * from the moment it sends a result until the manager has read it and
 * sent the next task: two wake-ups per task.  With two, the next task is
 * already in its pipe (Python's ProcessPoolExecutor queues one extra
 * call for the same reason).  A task sent is RUNNING, as in Python.
 *
 * Only a map's tasks go ahead of a running one: they come as a stream of
 * like tasks, whose results are wanted in order anyway, whereas a task
 * from cf_submit could be stranded behind a long one while another
 * worker is free.  And only small ones: a frame that fits in the task
 * pipe (worker.ahead_max) never makes the manager wait on a worker busy
 * writing its own result, which would wait for the manager in turn. */
#define WORKER_DEPTH 2

/* A worker that stops in the middle of a frame for this long is treated
 * as broken: a real frame is written in one go, and the parent reads as
 * fast as it arrives, so only a hung or misbehaving worker stalls. */
#define FRAME_STALL_S 5.0

/* A worker slot's life.  Every change is made under p->lock, by the
 * manager thread except READY -> RETIRING, which whoever reads the
 * worker's last allowed result makes (the manager or a caller reading
 * its own result).
 *
 *                      spawned                  ran max_tasks_per_child,
 *            FREE ----------------> READY ----------------------------+
 *             ^                       |        holds none: EXIT sent  |
 *             |                       | the pool broke, or            v
 *             |                       | shut down with nothing   RETIRING
 *             |                       | left                      |    |
 *             |                       v                           |    |
 *             +--- reaped ------- STOPPING <----------------------+    |
 *             |                                 (same causes)          |
 *             +--- reaped: its result pipe ended ----------------------+
 *
 * FREE      No process.  The manager may start one in the slot.
 * READY     A live worker that may be given tasks, up to WORKER_DEPTH
 *           (can_take says which).  Only a READY worker is borrowed.
 * RETIRING  Ran its max_tasks_per_child, holds no task and was sent EXIT.
 *           It keeps its slot until the manager reaps it on the end of
 *           its result pipe, so its replacement never runs beside it.
 * STOPPING  Takes no more tasks: the pool broke (the worker is killed)
 *           or finished (it is sent EXIT); the manager reaps it.
 */
enum worker_state {
	WORKER_FREE,
	WORKER_READY,
	WORKER_RETIRING,
	WORKER_STOPPING,
};

struct process_pool;

struct worker {
	struct process_pool *pool;
	/* Under the pool's lock: */
	enum worker_state state;
	cf_future *tasks[WORKER_DEPTH]; /* sent, results not yet back */
	uint64_t ids[WORKER_DEPTH];
	int ntasks;
	int tasks_done;
	size_t ahead_max;               /* the largest task payload sent ahead */
	/* The process while not FREE; written by the manager alone. */
	pid_t pid;
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

struct process_pool {
	pthread_mutex_t lock;           /* the queue, the flags, the workers */
	struct cf_fifo queue;
	bool shutdown;
	bool broken;
	uint64_t next_id;
	struct worker *workers;
	int max_workers;
	int workers_made;               /* slots whose locks exist */
	struct cf_wakeup wakeup;        /* callers -> manager */
	struct cf_poller poller;        /* the manager's: wakeup, workers */
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
	bool locks_made;                /* lock, join_lock, borrowers_cond */

	pthread_t manager;
	pthread_mutex_t join_lock;
	bool joined;

	int max_tasks_per_child;
	unsigned wait_help;             /* core's index of direct_read.c's helper */
	char exe[PATH_MAX];
	/* The program file as it was when the pool was made, kept open: when
	 * exe is replaced or deleted (make, an upgrade) a worker still starts
	 * the same program, through the descriptor (cf__fd_path). */
	int exe_fd;
	dev_t exe_dev;
	ino_t exe_ino;
	const char *exe_problem;        /* why no worker can start, or NULL */
	unsigned char *init_frame;      /* fnref + initarg, or NULL */
	size_t init_frame_len;

	atomic_size_t processes_created;
	atomic_size_t tasks_completed;
};

/* ---- state.c ---- */

/* Records why the pool must break, unless a cause is known already;
 * takes the lock. */
void cf__proc_note_broken(struct process_pool *p, struct worker *w, bool ended,
			  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int cf__proc_worker_index(const struct worker *w);
void cf__proc_wake_manager(struct process_pool *p);
bool cf__proc_can_take_locked(const struct process_pool *p, const struct worker *w,
			      const cf_future *f);
/* A worker that can take f now: an idle one first, else one with room
 * for a task ahead; NULL if none. */
struct worker *cf__proc_find_taker_locked(struct process_pool *p, const cf_future *f);
/* Takes the queue's first future for w (any worker that can take it,
 * when w is NULL; it is put in *taker), skipping those cancelled while
 * queued, and starts it; NULL when the first cannot be taken now. */
cf_future *cf__proc_next_task_locked(struct process_pool *p, struct worker *w,
				     struct worker **taker);
/* Records f (RUNNING) as given to w, moves its argument to *arg for the
 * send, and returns the frame id to send it with. */
uint64_t cf__proc_assign_locked(struct process_pool *p, struct worker *w, cf_future *f,
				struct cf_bytes *arg);
/* Takes the task with this id off w; NULL if w has none such. */
cf_future *cf__proc_unassign_locked(struct worker *w, uint64_t id);
/* Says that f, sent to w with id, may be waited for on w's result pipe
 * if it is still there (f is compared, not read, until found on w). */
void cf__proc_mark_borrowable(struct process_pool *p, struct worker *w, cf_future *f,
			      uint64_t id);
/* READY workers (those idle only, with idle_only). */
int cf__proc_count_ready_locked(struct process_pool *p, bool idle_only);
struct worker *cf__proc_free_slot_locked(struct process_pool *p);
/* Stops every worker taking tasks (READY and RETIRING become STOPPING). */
void cf__proc_stop_all_locked(struct process_pool *p);
/* The worker's state, under the lock. */
enum worker_state cf__proc_state_of(struct process_pool *p, struct worker *w);

/* ---- talk.c ---- */

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

/* Writes a frame to w's task pipe under its send_lock: 0, or -1 once the
 * worker is gone (the end of its result pipe tells the manager why). */
int cf__proc_send_frame(struct worker *w, uint8_t type, uint64_t id, const void *a, size_t alen,
			const void *b, size_t blen);
/* Sends f, given to w with this id and the argument cf__proc_assign_locked
 * took (freed here). */
void cf__proc_send_task(struct process_pool *p, struct worker *w, cf_future *f, uint64_t id,
			struct cf_bytes *arg);
/* A worker finished a task: refills its pipeline from the queue at once,
 * or retires it after max_tasks_per_child. */
void cf__proc_settle_worker(struct process_pool *p, struct worker *w);
/* Completes a future from its frame and drops the pool's reference;
 * touches nothing of the pool. */
void cf__proc_complete(cf_future *done, const struct cf_wire_header *h, unsigned char *payload);
/* Reads what w sent, up to one frame, without waiting (or, with
 * wait_for_start, waiting for a frame to begin).  read_lock held. */
enum frame_outcome cf__proc_read_frame(struct process_pool *p, struct worker *w,
				       bool wait_for_start, struct frame_in *in);

/* ---- spawn.c ---- */

/* Names and opens the program file that workers will run: 0 or -1
 * (errno). */
int cf__proc_open_exe(struct process_pool *p);
/* Starts a worker in the FREE slot w, which becomes READY: 0 or an
 * errno.  Manager thread only. */
int cf__proc_spawn_worker(struct process_pool *p, struct worker *w);
/* Closes and reaps a RETIRING or STOPPING worker, which becomes FREE.
 * With kill_it, it is first given grace_s to exit by itself, then
 * killed.  Its wait status, or -1 when unknown.  Manager thread only. */
int cf__proc_reap_worker(struct process_pool *p, struct worker *w, bool kill_it,
			 double grace_s);

/* ---- direct_read.c ---- */

/* The pool's wait helper in core's table, for futures a caller may wait
 * for on a worker's pipe; 0 (none) with CF_PROCESS_DIRECT_READ off, or
 * when the table is full. */
unsigned cf__proc_wait_help_index(void);

/* ---- manager.c ---- */

void *cf__proc_manager_main(void *pool);

#endif
