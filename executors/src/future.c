/* Futures: the state machine PENDING -> RUNNING -> FINISHED, or
 * PENDING -> CANCELLED, and everything that waits on it.
 *
 * A future's state is guarded by one of a fixed table of locks (a stripe),
 * chosen by the future's address, never by the executor's lock, so
 * completing a future does not contend with the queue.  Lock order: a
 * future's lock, then a waiter's (wait.c); never the other way round, and
 * never two futures' locks at once, since they may be the same lock.
 */
#include "internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* 256 stripes: with a handful of threads touching futures at once, two
 * of them rarely meet on one.  Each has the condition variable on which
 * callers of cf_future_result wait for any future of the stripe; a caller
 * woken for another future of its stripe finds its own not done and
 * sleeps again.  Aligned to a cache line so that neighbours do not share
 * one. */
#define STRIPE_BITS 8

static struct stripe {
	pthread_mutex_t lock;
	pthread_cond_t done_cond;
} __attribute__((aligned(64))) stripes[1u << STRIPE_BITS];

/* Before main() and before any other constructor of the library (a
 * process-pool worker's entry is one), so that no future exists before
 * its lock does. */
__attribute__((constructor(101))) static void stripes_init(void)
{
	for (size_t i = 0; i < sizeof(stripes) / sizeof(stripes[0]); i++) {
		pthread_mutex_init(&stripes[i].lock, NULL);
		cf__cond_init(&stripes[i].done_cond);
	}
}

/* Fibonacci hashing of the address: futures allocated one after another
 * land on different stripes. */
static struct stripe *stripe_of(const cf_future *f)
{
	uint64_t h = (uint64_t)((uintptr_t)f >> 4) * 0x9e3779b97f4a7c15ull;

	return &stripes[h >> (64 - STRIPE_BITS)];
}

void cf__future_lock(cf_future *f)
{
	pthread_mutex_lock(&stripe_of(f)->lock);
}

void cf__future_unlock(cf_future *f)
{
	pthread_mutex_unlock(&stripe_of(f)->lock);
}

/* A future is a malloc chunk of 112 bytes on 64-bit systems (see the
 * struct); a field more must take the place of one. */
#if UINTPTR_MAX == UINT64_MAX
_Static_assert(sizeof(struct cf_future) == 96, "cf_future grew past 96 bytes");
#endif
_Static_assert(offsetof(struct cf_bytes, inline_buf) == 0,
	       "a cf_bytes member's alignment must reach its inline bytes");

#define FUTURE_MAGIC 0xcf7f0001u
#define FUTURE_DEAD  0xcf7fdeadu

static atomic_size_t callback_errors;

size_t cf_callback_errors(void)
{
	return atomic_load(&callback_errors);
}

bool cf__future_valid(const cf_future *f)
{
	return f && f->magic == FUTURE_MAGIC;
}


cf_status cf__future_new(cf_fn fn, const void *arg, size_t arg_size, cf_future **out)
{
	cf_future *f = calloc(1, sizeof(*f));

	if (!f)
		return CF_NOMEM;
	if (cf__bytes_set(&f->payload, arg, arg_size) != CF_OK) {
		free(f);
		return CF_NOMEM;
	}
	f->magic = FUTURE_MAGIC;
	f->state = CF_STATE_PENDING;
	f->fn = fn;
	atomic_init(&f->refs, 1);
	cf__alive_add(1);
	*out = f;
	return CF_OK;
}

void cf__future_ref(cf_future *f)
{
	atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
}

void cf__future_unref(cf_future *f)
{
	if (atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) != 1)
		return;
	f->magic = FUTURE_DEAD;
	cf__bytes_clear(&f->payload);
	free(f->error);
	for (struct cf_callback *cb = f->callbacks, *next; cb; cb = next) {
		next = cb->next;
		free(cb);
	}
	free(f);
	cf__alive_add(-1);
}

/* What a caller is told about a done future.  Read under its lock, or
 * without it once `finished` was seen set: the state and outcome were
 * written before it (release), and they never change after. */
static cf_status outcome_of(const cf_future *f)
{
	return f->state == CF_STATE_CANCELLED ? CF_CANCELLED : (cf_status)f->outcome;
}

static bool is_done(const cf_future *f)
{
	return f->state == CF_STATE_CANCELLED || f->state == CF_STATE_FINISHED;
}

/* What must happen once f became done, gathered under its lock and done
 * after it is released. */
struct announcement {
	bool wake;                      /* threads wait in cf_future_result */
	struct cf_callback *callbacks;
};

/* Called with f's lock held right after f became done: notifies the
 * waiters of wait() and as_completed() and takes the callbacks. */
static struct announcement announce_done(cf_future *f)
{
	struct announcement a = { f->waiting > 0, f->callbacks };
	cf_status outcome = outcome_of(f);

	CF_HAPPENS_BEFORE(&f->finished);
	atomic_store_explicit(&f->finished, true, memory_order_release);
	for (struct cf_waiter_link *l = f->waiters; l; l = l->next)
		cf__waiter_notify(l, outcome);
	f->callbacks = NULL;
	return a;
}

static void run_callbacks(cf_future *f, struct cf_callback *cb);

/* Wakes the result waiters after the lock is released: woken under it,
 * they would only block again on the mutex (a futex wait and wake more
 * per task).  The callbacks get f, which is safe because whoever
 * finishes f holds a reference. */
static void deliver(cf_future *f, struct announcement a)
{
	if (a.wake)
		pthread_cond_broadcast(&stripe_of(f)->done_cond);
	run_callbacks(f, a.callbacks);
}

static void run_callbacks(cf_future *f, struct cf_callback *cb)
{
	while (cb) {
		struct cf_callback *next = cb->next;
		if (cb->fn(f, cb->arg) != 0)
			atomic_fetch_add(&callback_errors, 1);
		free(cb);
		cb = next;
	}
}

bool cf__future_start(cf_future *f)
{
	bool start;

	cf__future_lock(f);
	start = f->state == CF_STATE_PENDING;
	if (start)
		f->state = CF_STATE_RUNNING;
	cf__future_unlock(f);
	return start;
}

void cf__future_finish(cf_future *f, struct cf_task *t)
{
	struct announcement a;

	/* The argument's place takes the result.  Only the runner touches it
	 * now: callers read it once `finished` is set. */
	cf__bytes_clear(&f->payload);
	cf__future_lock(f);
	if (t->error) {
		f->error = t->error;
		t->error = NULL;
		f->outcome = CF_TASK_FAILED;
	} else {
		cf__bytes_move(&f->payload, &t->result);
		f->outcome = CF_OK;
	}
	f->state = CF_STATE_FINISHED;
	a = announce_done(f);
	cf__future_unlock(f);
	deliver(f, a);
}

void cf__future_abandon(cf_future *f, cf_status outcome)
{
	struct announcement a = { false, NULL };

	cf__future_lock(f);
	if (!is_done(f)) {
		f->state = CF_STATE_FINISHED;
		f->outcome = outcome;
		a = announce_done(f);
	}
	cf__future_unlock(f);
	deliver(f, a);
}

bool cf__future_outcome(cf_future *f, cf_status *outcome)
{
	bool done;

	cf__future_lock(f);
	done = is_done(f);
	if (outcome)
		*outcome = outcome_of(f);
	cf__future_unlock(f);
	return done;
}

/* Called with f's lock held. */
static cf_status wait_locked(cf_future *f, double deadline)
{
	struct stripe *s = stripe_of(f);

	f->waiting++;
	while (!is_done(f)) {
		if (cf__cond_wait_until(&s->done_cond, &s->lock, deadline) == ETIMEDOUT &&
		    !is_done(f))
			break;
	}
	f->waiting--;
	if (!is_done(f))
		return CF_TIMEOUT;
	return outcome_of(f);
}

/* Polls f for its executor's result spin before the caller sleeps: a
 * result that arrives meanwhile costs no futex wake-up of the caller.
 * Bounded by the spin and by the deadline, so a long task costs at most
 * spin_ns of CPU per wait. */
static void spin_until_done(cf_future *f, double deadline)
{
	double until = cf__now() + f->spin_ns / 1e9;

	if (deadline >= 0 && deadline < until)
		until = deadline;
	/* The flag is read after every step (a pause is 10 to 150 cycles,
	 * depending on the CPU); the clock only every 64. */
	for (unsigned i = 1; !atomic_load_explicit(&f->finished, memory_order_acquire); i++) {
		cf__spin_step(i);
		if (i % 64 == 0 && cf__now() >= until)
			break;
	}
}

bool cf__future_finished(cf_future *f)
{
	if (!atomic_load_explicit(&f->finished, memory_order_acquire))
		return false;
	CF_HAPPENS_AFTER(&f->finished);
	return true;
}

cf_status cf__future_wait(cf_future *f, double deadline)
{
	/* The usual case when results are collected after the work: no lock. */
	if (atomic_load_explicit(&f->finished, memory_order_acquire)) {
		CF_HAPPENS_AFTER(&f->finished);
		return outcome_of(f);
	}
	if (f->spin_ns && !atomic_load_explicit(&f->finished, memory_order_acquire))
		spin_until_done(f, deadline);
	if (f->helped_wait && !atomic_load_explicit(&f->finished, memory_order_acquire))
		cf__process_help_wait(f, deadline);
	cf__future_lock(f);
	cf_status st = wait_locked(f, deadline);
	cf__future_unlock(f);
	return st;
}

bool cf__future_link_waiter(cf_future *f, struct cf_waiter_link *link)
{
	bool linked;

	cf__future_lock(f);
	linked = !is_done(f);
	if (linked) {
		link->future = f;
		link->prev = NULL;
		link->next = f->waiters;
		if (f->waiters)
			f->waiters->prev = link;
		f->waiters = link;
	}
	cf__future_unlock(f);
	return linked;
}

void cf__future_unlink_waiter(cf_future *f, struct cf_waiter_link *link)
{
	cf__future_lock(f);
	if (link->prev)
		link->prev->next = link->next;
	else
		f->waiters = link->next;
	if (link->next)
		link->next->prev = link->prev;
	link->prev = link->next = NULL;
	cf__future_unlock(f);
}

/* ---- the public API ---- */

bool cf_future_cancel(cf_future *f)
{
	struct announcement a = { false, NULL };
	bool cancelled;

	if (!cf__future_valid(f))
		return false;
	cf__future_lock(f);
	if (f->state == CF_STATE_PENDING) {
		f->state = CF_STATE_CANCELLED;
		a = announce_done(f);
	}
	cancelled = f->state == CF_STATE_CANCELLED;
	cf__future_unlock(f);
	deliver(f, a);
	return cancelled;
}

static enum cf_future_state state_of(cf_future *f)
{
	cf__future_lock(f);
	enum cf_future_state s = f->state;
	cf__future_unlock(f);
	return s;
}

bool cf_future_cancelled(cf_future *f)
{
	return cf__future_valid(f) && state_of(f) == CF_STATE_CANCELLED;
}

bool cf_future_running(cf_future *f)
{
	return cf__future_valid(f) && state_of(f) == CF_STATE_RUNNING;
}

bool cf_future_done(cf_future *f)
{
	if (!cf__future_valid(f))
		return false;
	enum cf_future_state s = state_of(f);
	return s == CF_STATE_CANCELLED || s == CF_STATE_FINISHED;
}

cf_status cf_future_result(cf_future *f, double timeout, const void **data, size_t *size)
{
	if (data)
		*data = NULL;
	if (size)
		*size = 0;
	if (!cf__future_valid(f))
		return CF_INVALID_ARGUMENT;
	cf_status st = cf__future_wait(f, cf__deadline(timeout));
	/* The result never changes once finished: safe to read unlocked. */
	if (data)
		*data = st == CF_OK ? cf__bytes_data(&f->payload) : NULL;
	if (size)
		*size = st == CF_OK ? f->payload.size : 0;
	return st;
}

cf_status cf_future_result_into(cf_future *f, double timeout, void *buf,
				size_t capacity, size_t *size)
{
	const void *data = NULL;
	size_t len = 0;
	cf_status st = cf_future_result(f, timeout, &data, &len);

	if (size)
		*size = len;
	if (st != CF_OK)
		return st;
	if (len > capacity)
		return CF_BUFFER_TOO_SMALL;
	if (len && !buf)
		return CF_INVALID_ARGUMENT;
	if (len)
		memcpy(buf, data, len);
	return CF_OK;
}

cf_status cf_future_exception(cf_future *f, double timeout, const cf_error **error)
{
	if (error)
		*error = NULL;
	if (!cf__future_valid(f))
		return CF_INVALID_ARGUMENT;
	cf_status st = cf__future_wait(f, cf__deadline(timeout));
	if (error)
		*error = st == CF_TASK_FAILED ? f->error : NULL;
	return st == CF_TASK_FAILED ? CF_OK : st;
}

cf_status cf_future_add_done_callback(cf_future *f, cf_done_fn fn, void *arg)
{
	struct cf_callback *cb;

	if (!cf__future_valid(f) || !fn)
		return CF_INVALID_ARGUMENT;
	cb = malloc(sizeof(*cb));
	if (!cb)
		return CF_NOMEM;
	cb->fn = fn;
	cb->arg = arg;
	cb->next = NULL;
	cf__future_lock(f);
	if (!is_done(f)) {
		/* Append: callbacks run in the order they were added. */
		struct cf_callback **tail = &f->callbacks;
		while (*tail)
			tail = &(*tail)->next;
		*tail = cb;
		cb = NULL;
	}
	cf__future_unlock(f);
	run_callbacks(f, cb);
	return CF_OK;
}

cf_status cf_future_release(cf_future *f)
{
	if (!cf__future_valid(f))
		return f ? CF_INVALID_STATE : CF_INVALID_ARGUMENT;
	if (atomic_exchange(&f->caller_released, true))
		return CF_INVALID_STATE;
	cf__future_unref(f);
	return CF_OK;
}
