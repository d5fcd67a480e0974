/* What the parts of the library share and callers never see. */
#ifndef CF_INTERNAL_H
#define CF_INTERNAL_H

#include "cf.h"

#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>

/* Happens-before edges made with C11 atomics, told to helgrind, which
 * sees only pthread primitives (TSan understands atomics and needs no
 * help).  Outside valgrind each is a handful of instructions that do
 * nothing.  BEFORE goes before the release, AFTER after the acquire. */
#if defined(__has_include)
#if __has_include(<valgrind/helgrind.h>)
#include <valgrind/helgrind.h>
#define CF_HAPPENS_BEFORE(addr) ANNOTATE_HAPPENS_BEFORE(addr)
#define CF_HAPPENS_AFTER(addr) ANNOTATE_HAPPENS_AFTER(addr)
#endif
#endif
#ifndef CF_HAPPENS_BEFORE
#define CF_HAPPENS_BEFORE(addr) ((void)(addr))
#define CF_HAPPENS_AFTER(addr) ((void)(addr))
#endif

/* Arguments and results this small live inside the future or task, which
 * saves two allocations per task on the hot path. */
#define CF_INLINE_BYTES 16

/* A byte buffer that is inline when small: where its bytes are follows
 * from its size, so it needs no pointer to them and takes 24 bytes (a
 * future carries one for a million tasks at once).  A member of this type
 * is declared alignas(max_align_t), which puts inline_buf, at offset 0,
 * where malloc would put it: a task may build a result of any type there. */
struct cf_bytes {
	union {
		unsigned char inline_buf[CF_INLINE_BYTES];      /* size <= CF_INLINE_BYTES */
		void *heap;                                     /* larger: malloc'ed */
	};
	size_t size;
};

/* The bytes, or NULL when there are none. */
static inline void *cf__bytes_data(struct cf_bytes *b)
{
	if (b->size == 0)
		return NULL;
	return b->size <= CF_INLINE_BYTES ? (void *)b->inline_buf : b->heap;
}

int cf__bytes_set(struct cf_bytes *b, const void *data, size_t size);
/* Takes a malloc'ed buffer: kept as it is when large (b frees it), copied
 * inline and freed when small. */
void cf__bytes_adopt(struct cf_bytes *b, void *data, size_t size);
/* Moves src into dst (dst must be empty), leaving src empty. */
void cf__bytes_move(struct cf_bytes *dst, struct cf_bytes *src);
void cf__bytes_clear(struct cf_bytes *b);

/* What a running task sees (cf_task in cf.h): the same on every backend. */
struct cf_task {
	const void *arg;
	size_t arg_size;
	alignas(max_align_t) struct cf_bytes result;
	cf_error *error;        /* set by cf_task_fail, malloc'ed */
	/* cf_map_into: where a result of exactly slot_size bytes goes, with
	 * no copy in between (NULL: into `result`); slot_filled says it went
	 * there. */
	void *slot;
	size_t slot_size;
	bool slot_filled;
};

void cf__task_init(struct cf_task *t, const void *arg, size_t arg_size);
/* Runs fn; on return the task holds the result or the error (whose code
 * is nonzero exactly when the task failed). */
void cf__task_run(struct cf_task *t, cf_fn fn);
void cf__task_clear(struct cf_task *t);

/* ---- futures ---- */

enum cf_future_state {
	CF_STATE_PENDING,
	CF_STATE_RUNNING,
	CF_STATE_CANCELLED,
	CF_STATE_FINISHED,
};

struct cf_waiter;
struct cf_waiter_link {
	struct cf_waiter *waiter;
	struct cf_future *future;
	struct cf_waiter_link *prev, *next;
};

struct cf_callback {
	cf_done_fn fn;
	void *arg;
	struct cf_callback *next;
};

/* A future has no mutex or condition variable of its own: it borrows one
 * of a fixed table of them, chosen by its address (cf__future_lock).  A
 * pthread mutex and condvar are 88 bytes to initialise and destroy per
 * task, and a million live futures would carry 88 MB of them.
 *
 * Its size is the cost of a submit: a million queued futures are a
 * million fresh allocations, page faults and cache lines.  64 bytes more
 * made a million submits 20 % slower, so fields are packed into 96 bytes
 * (a 112-byte malloc chunk): small enums as bytes, and one buffer for the
 * argument and then the result. */
struct cf_future {
	/* First the task's argument, then its result: nothing reads the
	 * argument once the task has run (the process pool takes it away
	 * when it sends the task; cf__future_finish frees what is left). */
	alignas(max_align_t) struct cf_bytes payload;
	unsigned magic;
	atomic_int refs;                 /* the caller's and the executor's */
	int waiting;                     /* threads in cf_future_result & co. */
	unsigned spin_ns;                /* the executor's result_spin_ns */
	unsigned char state;             /* enum cf_future_state */
	unsigned char outcome;           /* cf_status, once FINISHED: OK,
					  * TASK_FAILED, BROKEN, SHUTDOWN */
	atomic_bool caller_released;
	atomic_bool finished;            /* state is done: for spinning waiters,
					  * who read it without the lock */
	bool from_map;                   /* one of a map's stream of tasks */
	/* Set by the process pool, whose waiting callers can fetch a result
	 * themselves: cf__future_wait calls cf__process_help_wait before it
	 * sleeps (a flag, not a function pointer: 8 bytes per future). */
	bool helped_wait;

	cf_fn fn;
	cf_error *error;
	struct cf_callback *callbacks;
	struct cf_waiter_link *waiters;
	struct cf_future *next;          /* the backend's queue link */
	_Atomic(void *) backend_data;    /* free for the backend's use */
};

/* process_pool.c: returns when f is done or the caller cannot help. */
void cf__process_help_wait(cf_future *f, double deadline);

/* alive.c: counts futures made (+1) and freed (-1) for cf_futures_alive. */
void cf__alive_add(long delta);

/* A new pending future holding one reference (the caller's). */
cf_status cf__future_new(cf_fn fn, const void *arg, size_t arg_size,
			 cf_future **out);
/* Not NULL and not yet freed, as far as can be told. */
bool cf__future_valid(const cf_future *f);
/* The lock that guards f's state; it may be shared with other futures,
 * so never hold two futures' locks at once. */
void cf__future_lock(cf_future *f);
void cf__future_unlock(cf_future *f);
void cf__future_ref(cf_future *f);
void cf__future_unref(cf_future *f);
/* PENDING -> RUNNING; false if it was cancelled (do not run it). */
bool cf__future_start(cf_future *f);
/* Finishes with what the task left (result or error). */
void cf__future_finish(cf_future *f, struct cf_task *t);
/* Finishes without running: CF_BROKEN or CF_SHUTDOWN. */
void cf__future_abandon(cf_future *f, cf_status outcome);
/* Whether f is done; with the outcome (CF_CANCELLED when cancelled). */
bool cf__future_outcome(cf_future *f, cf_status *outcome);
/* Waits until done or the absolute monotonic deadline (< 0: forever). */
cf_status cf__future_wait(cf_future *f, double deadline);
/* Whether f is done, without its lock (and without waiting). */
bool cf__future_finished(cf_future *f);

/* Links a waiter to f unless f is done; true if linked. */
bool cf__future_link_waiter(cf_future *f, struct cf_waiter_link *link);
void cf__future_unlink_waiter(cf_future *f, struct cf_waiter_link *link);
/* wait.c: tells a waiter that link->future is done (called with the
 * future's lock held). */
void cf__waiter_notify(struct cf_waiter_link *link, cf_status outcome);

/* ---- the process backend's queue of waiting futures (queue.c; the
 * caller locks) ---- */

struct cf_queue {
	cf_future *head, *tail;
	size_t count;
};

void cf__queue_push(struct cf_queue *q, cf_future *f);
cf_future *cf__queue_pop(struct cf_queue *q);          /* NULL when empty */
/* Detaches the whole queue as a list linked by ->next. */
cf_future *cf__queue_take_all(struct cf_queue *q);
/* Ends every future of such a list that is not done yet (cancelled, or
 * finished with outcome) and drops the queue's reference to each. */
void cf__abandon_list(cf_future *list, cf_status outcome);

/* ---- a queue that many threads push to without a lock (mpsc.c) ---- */

struct cf_mpsc {
	alignas(64) cf_future *push_end;        /* the last pushed (atomic) */
	alignas(64) cf_future *pop_end;         /* the consumer's */
	cf_future stub;                         /* linked in when empty */
};

void cf__mpsc_init(struct cf_mpsc *q);
/* Any thread, any time. */
void cf__mpsc_push(struct cf_mpsc *q, cf_future *f);
/* fs[0..n), n > 0, in order, with one exchange: futures no other thread
 * can reach yet (a burst being submitted). */
void cf__mpsc_push_chain(struct cf_mpsc *q, cf_future *const *fs, size_t n);
/* One thread at a time.  NULL when empty, and also for a moment while a
 * push is half done: the caller's count of pushes tells the two apart. */
cf_future *cf__mpsc_pop(struct cf_mpsc *q);

/* ---- time ---- */

double cf__now(void);

/* Step i (from 1) of a polling loop.  The first steps only tell the CPU
 * (and a sibling hyperthread) that we are spinning; later ones yield the
 * core, so that when there are more runnable threads than cores the
 * thread we wait for, if it shares our core, can run instead of us.
 * Without the yield a spin on a busy machine lasts its whole bound. */
static inline void cf__spin_step(unsigned i)
{
	if (i > 512) {
		sched_yield();
		return;
	}
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}
/* now + timeout, or -1 for no deadline. */
double cf__deadline(double timeout);
/* Timed wait on cond (created by cf__cond_init) until an absolute
 * monotonic deadline; < 0 waits without bound.  ETIMEDOUT or 0. */
int cf__cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *lock, double deadline);
int cf__cond_init(pthread_cond_t *cond);

/* ---- executors and backends ---- */

struct cf_backend {
	const char *name;
	/* Tasks run in the caller's address space (threads), so cf_map_into
	 * may let them read items and write results where the caller has
	 * them. */
	bool shares_memory;
	cf_status (*create)(cf_executor *ex, const cf_options *opts);
	cf_status (*submit)(cf_executor *ex, cf_future *f);
	/* Optional: queue n futures at once (one lock, one wake-up for many).
	 * *accepted gets how many, in order, were queued. */
	cf_status (*submit_many)(cf_executor *ex, cf_future **fs, size_t n, size_t *accepted);
	cf_status (*shutdown)(cf_executor *ex, bool wait, bool cancel_futures);
	void (*destroy)(cf_executor *ex);
	void (*stats)(cf_executor *ex, cf_executor_stats *stats);
	/* Why the pool is broken, or NULL while it is not; the text never
	 * changes once the pool is broken. */
	const char *(*broken_reason)(cf_executor *ex);
};

/* An executor lives until cf_executor_free and every map iterator made
 * from it are done with it: an iterator submits as it is read, and may be
 * read after the caller freed the executor (it then gets CF_SHUTDOWN from
 * the shut-down backend, never freed memory). */
struct cf_executor {
	const struct cf_backend *backend;
	void *impl;
	atomic_int refs;                /* the caller's, one per live map */
	int max_workers;
	/* How long cf_future_result & co. poll a future of this executor
	 * before sleeping on its condition variable, in ns (0: never). */
	unsigned result_spin_ns;
};

void cf__executor_ref(cf_executor *ex);
/* Drops a reference; the last one destroys the (shut down) backend. */
void cf__executor_unref(cf_executor *ex);

/* Queues futures made by cf__future_new; the backend takes its own
 * references.  *accepted: how many, from the first, were queued. */
cf_status cf__submit_many(cf_executor *ex, cf_future **fs, size_t n, size_t *accepted);

extern const struct cf_backend cf__thread_backend;
extern const struct cf_backend cf__process_backend;

int cf__cpu_count(void);

/* process_worker.c: serves tasks and exits when this process was started
 * as a worker of a process pool; returns at once otherwise.  Runs as a
 * constructor, before main(). */
void cf__process_worker_entry(void);

#endif
