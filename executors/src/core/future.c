/* Futures: their life (references), their state machine (see
 * future_impl.h) and what is told when one becomes done.  Waiting on one
 * is in future_wait.c.
 *
 * A future's state is guarded by its stripe's lock, never by the
 * executor's, so completing a future does not contend with the queue.
 * Lock order: a future's lock, then a waiter's (wait.c); never the other
 * way round, and never two futures' locks at once, since they may be the
 * same lock.
 */
#include "core/future_impl.h"

#include "base/annotate.h"
#include "base/clock.h"
#include "core/task.h"

#include <stdlib.h>
#include <string.h>

struct cf_stripe cf__stripes[1u << CF_STRIPE_BITS];

/* Before main() and before any other constructor of the library (a
 * process-pool worker's entry is one), so that no future exists before
 * its lock does.  A library that cannot make its locks cannot work. */
__attribute__((constructor(101))) static void stripes_init(void)
{
	for (size_t i = 0; i < sizeof(cf__stripes) / sizeof(cf__stripes[0]); i++) {
		if (pthread_mutex_init(&cf__stripes[i].lock, NULL) != 0 ||
		    cf__cond_init(&cf__stripes[i].done_cond) != 0)
			abort();
	}
}

void cf__future_lock(cf_future *f)
{
	pthread_mutex_lock(&cf__stripe_of(f)->lock);
}

void cf__future_unlock(cf_future *f)
{
	pthread_mutex_unlock(&cf__stripe_of(f)->lock);
}

/* A future is a malloc chunk of 112 bytes on 64-bit systems (see the
 * struct); a field more must take the place of one. */
#if UINTPTR_MAX == UINT64_MAX
_Static_assert(sizeof(struct cf_future) == 96, "cf_future grew past 96 bytes");
#endif
_Static_assert(offsetof(struct cf_future, link) == 0, "queues cast a link to its future");
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

cf_status cf__future_new(cf_fn fn, const void *arg, size_t arg_size, unsigned flags,
			 cf_future **out)
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
	f->flags = (unsigned char)flags;
	atomic_init(&f->refs, 1);
	cf__alive_add(1);
	*out = f;
	return CF_OK;
}

void cf__future_ref(cf_future *f)
{
	atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
}

void cf__future_ref_unshared(cf_future *f)
{
	atomic_store_explicit(&f->refs, atomic_load_explicit(&f->refs, memory_order_relaxed) + 1,
			      memory_order_relaxed);
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

cf_fn cf__future_fn(const cf_future *f)
{
	return f->fn;
}

bool cf__future_streamed(const cf_future *f)
{
	return f->flags & CF_FUTURE_STREAMED;
}

struct cf_bytes *cf__future_payload(cf_future *f)
{
	return &f->payload;
}

const cf_error *cf__future_error(const cf_future *f)
{
	return f->error;
}

void cf__future_set_spin(cf_future *f, unsigned spin_ns)
{
	f->spin_ns = spin_ns;
}

void *cf__future_backend_data(const cf_future *f)
{
	return atomic_load_explicit(&((cf_future *)f)->backend_data, memory_order_acquire);
}

void cf__future_set_backend_data(cf_future *f, void *data)
{
	atomic_store_explicit(&f->backend_data, data, memory_order_release);
}

/* The wait helpers: a few backends at most, each registering once, so a
 * future names its helper with one byte. */
#define WAIT_HELPERS 4

static _Atomic(cf_wait_help_fn) wait_helpers[WAIT_HELPERS + 1];
static atomic_uint wait_helpers_used;

unsigned cf__wait_help_register(cf_wait_help_fn help)
{
	unsigned i = atomic_fetch_add(&wait_helpers_used, 1) + 1;

	if (i > WAIT_HELPERS)
		return 0;
	atomic_store(&wait_helpers[i], help);
	return i;
}

cf_wait_help_fn cf__wait_help_of(unsigned i)
{
	return i && i <= WAIT_HELPERS ? atomic_load_explicit(&wait_helpers[i], memory_order_relaxed)
				      : NULL;
}

void cf__future_set_wait_help(cf_future *f, unsigned help)
{
	f->wait_help = (unsigned char)help;
}

/* What must happen once f became done, gathered under its lock and done
 * after it is released. */
struct announcement {
	bool wake;                      /* threads wait in cf_future_result */
	struct cf_callback *callbacks;
};

static void run_callbacks(cf_future *f, struct cf_callback *cb);

/* Called with f's lock held right after f became done: notifies the
 * waiters of wait() and as_completed() and takes the callbacks. */
static struct announcement announce_done(cf_future *f)
{
	struct announcement a = { f->waiting > 0, f->callbacks };
	cf_status outcome = cf__outcome_of(f);

	CF_HAPPENS_BEFORE(&f->finished);
	atomic_store_explicit(&f->finished, true, memory_order_release);
	for (struct cf_waiter_link *l = f->waiters; l; l = l->next)
		l->notify(l, outcome);
	f->callbacks = NULL;
	return a;
}

/* Wakes the result waiters after the lock is released: woken under it,
 * they would only block again on the mutex (a futex wait and wake more
 * per task).  The callbacks get f, which is safe because whoever
 * finishes f holds a reference. */
static void deliver(cf_future *f, struct announcement a)
{
	if (a.wake)
		pthread_cond_broadcast(&cf__stripe_of(f)->done_cond);
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
	if (!cf__is_done(f)) {
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
	done = cf__is_done(f);
	if (outcome)
		*outcome = cf__outcome_of(f);
	cf__future_unlock(f);
	return done;
}

void cf__future_abandon_list(struct cf_link *list, cf_status outcome)
{
	while (list) {
		struct cf_link *next = list->next;
		cf_future *f = cf__future_of_link(list);

		list->next = NULL;
		if (outcome == CF_CANCELLED)
			cf_future_cancel(f);
		else
			cf__future_abandon(f, outcome);
		cf__future_unref(f);     /* the list's reference */
		list = next;
	}
}

bool cf__future_link_waiter(cf_future *f, struct cf_waiter_link *link)
{
	bool linked;

	cf__future_lock(f);
	linked = !cf__is_done(f);
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

/* ---- the public API that changes a future ---- */

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
	if (!cf__is_done(f)) {
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
