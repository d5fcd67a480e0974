/* Waiting on a future, and the public API that reads one: a wait polls
 * for the executor's result spin, asks the backend's wait helper, then
 * sleeps on the future's stripe. */
#include "core/future_impl.h"

#include "base/annotate.h"
#include "base/clock.h"

#include <errno.h>
#include <string.h>

/* Called with f's lock held. */
static cf_status wait_locked(cf_future *f, double deadline)
{
	struct cf_stripe *s = cf__stripe_of(f);

	f->waiting++;
	while (!cf__is_done(f)) {
		if (cf__cond_wait_until(&s->done_cond, &s->lock, deadline) == ETIMEDOUT &&
		    !cf__is_done(f))
			break;
	}
	f->waiting--;
	if (!cf__is_done(f))
		return CF_TIMEOUT;
	return cf__outcome_of(f);
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
		return cf__outcome_of(f);
	}
	if (f->spin_ns && !atomic_load_explicit(&f->finished, memory_order_acquire))
		spin_until_done(f, deadline);
	cf_wait_help_fn help = cf__wait_help_of(f->wait_help);
	if (help && !atomic_load_explicit(&f->finished, memory_order_acquire))
		help(f, deadline);
	cf__future_lock(f);
	cf_status st = wait_locked(f, deadline);
	cf__future_unlock(f);
	return st;
}

/* ---- the public API that reads a future ---- */

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

