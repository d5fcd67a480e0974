/* Futures as the rest of the library sees them: a handle with accessors.
 * The structure and the state machine are private to future.c and
 * future_wait.c (future_impl.h); a backend queues a future by its link,
 * runs it with cf__future_start and cf__future_finish (or abandons it),
 * and may keep one pointer of its own in it. */
#ifndef CF_CORE_FUTURE_H
#define CF_CORE_FUTURE_H

#include "base/bytes.h"
#include "base/link.h"
#include "cf.h"

#include <stdbool.h>
#include <stddef.h>

struct cf_task;

/* Flags of cf__future_new. */
enum {
	/* One of a map's stream of chunks: its caller reads results in
	 * order and never waits on it through cf_future_result. */
	CF_FUTURE_STREAMED = 1 << 0,
};

/* A new pending future holding one reference (the caller's). */
cf_status cf__future_new(cf_fn fn, const void *arg, size_t arg_size, unsigned flags,
			 cf_future **out);
/* Not NULL and not yet freed, as far as can be told. */
bool cf__future_valid(const cf_future *f);
void cf__future_ref(cf_future *f);
/* A reference taken while no other thread can reach f yet: no atomic
 * read-modify-write (a submit burst takes one per task). */
void cf__future_ref_unshared(cf_future *f);
void cf__future_unref(cf_future *f);

/* The lock that guards f's state: a backend holds it to read its own
 * pointer while f cannot finish.  It may be shared with other futures,
 * so never hold two futures' locks at once; it comes last in every lock
 * order. */
void cf__future_lock(cf_future *f);
void cf__future_unlock(cf_future *f);

/* The link queues thread a future on: its first member. */
static inline struct cf_link *cf__future_link(cf_future *f)
{
	return (struct cf_link *)(void *)f;
}

static inline cf_future *cf__future_of_link(struct cf_link *l)
{
	return (cf_future *)(void *)l;
}

cf_fn cf__future_fn(const cf_future *f);
bool cf__future_streamed(const cf_future *f);
/* The argument until the task runs, then the result: the backend reads
 * the argument (or moves it out to send it); a map reads its chunk's
 * result once the future is done. */
struct cf_bytes *cf__future_payload(cf_future *f);
/* The task's error once it finished with CF_TASK_FAILED, else NULL. */
const cf_error *cf__future_error(const cf_future *f);

/* How long cf_future_result & co. poll f before they sleep, in ns. */
void cf__future_set_spin(cf_future *f, unsigned spin_ns);
/* One pointer for the backend, read and written atomically. */
void *cf__future_backend_data(const cf_future *f);
void cf__future_set_backend_data(cf_future *f, void *data);

/* A backend whose waiting callers can fetch a result themselves (the
 * process pool reads it from the worker's pipe) registers a helper
 * once; the futures it queues name it, and a caller about to sleep on
 * such a future calls it first.  The helper returns when f is done or
 * the caller cannot help.  0 when the table of helpers is full. */
typedef void (*cf_wait_help_fn)(cf_future *f, double deadline);
unsigned cf__wait_help_register(cf_wait_help_fn help);
void cf__future_set_wait_help(cf_future *f, unsigned help);

/* PENDING -> RUNNING; false if it was cancelled (do not run it). */
bool cf__future_start(cf_future *f);
/* Finishes with what the task left (result or error). */
void cf__future_finish(cf_future *f, struct cf_task *t);
/* Finishes without running: CF_BROKEN or CF_SHUTDOWN. */
void cf__future_abandon(cf_future *f, cf_status outcome);
/* Ends every future of a list linked by their links that is not done yet
 * (cancelled, or finished with outcome) and drops the list's reference
 * to each. */
void cf__future_abandon_list(struct cf_link *list, cf_status outcome);

/* Whether f is done; with the outcome (CF_CANCELLED when cancelled). */
bool cf__future_outcome(cf_future *f, cf_status *outcome);
/* Whether f is done, without its lock (and without waiting). */
bool cf__future_finished(cf_future *f);
/* Waits until done or the absolute monotonic deadline (< 0: forever). */
cf_status cf__future_wait(cf_future *f, double deadline);

/* A waiter of cf_wait or cf_as_completed (wait.c), linked to each future
 * it watches.  The future calls notify, with its lock held, when it
 * becomes done: a function pointer, so that futures know nothing of
 * waiters. */
struct cf_waiter;
struct cf_waiter_link {
	struct cf_waiter *waiter;
	cf_future *future;
	void (*notify)(struct cf_waiter_link *link, cf_status outcome);
	struct cf_waiter_link *prev, *next;
};

/* Links a waiter to f unless f is done; true if linked. */
bool cf__future_link_waiter(cf_future *f, struct cf_waiter_link *link);
void cf__future_unlink_waiter(cf_future *f, struct cf_waiter_link *link);

#endif
