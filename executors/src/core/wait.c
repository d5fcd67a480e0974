/* wait() and as_completed(): one waiter object linked into every future it
 * watches.  A future that becomes done pushes itself onto the waiter's
 * ready list and wakes it, so neither call polls.
 */
#include "core/future.h"

#include "base/clock.h"

#include <pthread.h>
#include <stdbool.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

struct cf_waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct cf_waiter_link **ready;  /* links of done futures, in
					 * completion order */
	size_t ready_count;     /* pushed so far */
	size_t failures;        /* of those, failed (for FIRST_EXCEPTION) */
	struct cf_waiter_link *links;   /* one per watched future */
	bool *linked;                   /* links[i] is in its future's list */
	size_t nlinks;
};

static void waiter_notify(struct cf_waiter_link *link, cf_status outcome)
{
	struct cf_waiter *w = link->waiter;

	pthread_mutex_lock(&w->lock);
	w->ready[w->ready_count++] = link;
	if (outcome != CF_OK && outcome != CF_CANCELLED)
		w->failures++;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

struct ptr_index {
	uintptr_t ptr;
	size_t index;
};

static int by_ptr_then_index(const void *a, const void *b)
{
	const struct ptr_index *x = a, *y = b;

	if (x->ptr != y->ptr)
		return x->ptr < y->ptr ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* The distinct futures of fs, in the order they first appear.  *out is
 * malloc'ed; NULL entries and freed futures are refused. */
static cf_status unique_futures(cf_future *const *fs, size_t n, cf_future ***out, size_t *count)
{
	struct ptr_index *sorted = malloc((n ? n : 1) * sizeof(*sorted));
	bool *keep = calloc(n ? n : 1, sizeof(*keep));
	cf_future **unique = malloc((n ? n : 1) * sizeof(*unique));
	size_t k = 0;

	if (!sorted || !keep || !unique) {
		free(sorted), free(keep), free(unique);
		return CF_NOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (!cf__future_valid(fs[i])) {
			free(sorted), free(keep), free(unique);
			return CF_INVALID_ARGUMENT;
		}
		sorted[i] = (struct ptr_index){ (uintptr_t)fs[i], i };
	}
	qsort(sorted, n, sizeof(*sorted), by_ptr_then_index);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || sorted[i].ptr != sorted[i - 1].ptr)
			keep[sorted[i].index] = true;
	for (size_t i = 0; i < n; i++)
		if (keep[i])
			unique[k++] = fs[i];
	free(sorted);
	free(keep);
	*out = unique;
	*count = k;
	return CF_OK;
}

static void waiter_free_parts(struct cf_waiter *w)
{
	free(w->ready);
	free(w->links);
	free(w->linked);
	free(w);
}

static struct cf_waiter *waiter_new(size_t n)
{
	struct cf_waiter *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->ready = malloc((n ? n : 1) * sizeof(*w->ready));
	w->links = calloc(n ? n : 1, sizeof(*w->links));
	w->linked = calloc(n ? n : 1, sizeof(*w->linked));
	if (!w->ready || !w->links || !w->linked || pthread_mutex_init(&w->lock, NULL) != 0) {
		waiter_free_parts(w);
		return NULL;
	}
	if (cf__cond_init(&w->cond) != 0) {
		pthread_mutex_destroy(&w->lock);
		waiter_free_parts(w);
		return NULL;
	}
	return w;
}

/* Links w to each future; those already done go straight onto the ready
 * list, in input order.  The waiter holds a reference to every future
 * until it is given back (as_completed) or the wait is over, so a caller
 * may release its own reference at any time. */
static void waiter_watch(struct cf_waiter *w, cf_future *const *fs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct cf_waiter_link *link = &w->links[i];
		cf_status outcome;

		cf__future_ref(fs[i]);
		link->waiter = w;
		link->notify = waiter_notify;
		link->future = fs[i];
		w->nlinks++;
		w->linked[i] = cf__future_link_waiter(fs[i], link);
		if (w->linked[i])
			continue;
		cf__future_outcome(fs[i], &outcome);
		waiter_notify(link, outcome);
	}
}

/* Lets go of the future of link i: unlinks and drops the reference. */
static void waiter_drop(struct cf_waiter *w, size_t i)
{
	struct cf_waiter_link *link = &w->links[i];

	if (!link->future)
		return;
	if (w->linked[i])
		cf__future_unlink_waiter(link->future, link);
	w->linked[i] = false;
	cf__future_unref(link->future);
	link->future = NULL;
}

static void waiter_free(struct cf_waiter *w)
{
	for (size_t i = 0; i < w->nlinks; i++)
		waiter_drop(w, i);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	waiter_free_parts(w);
}

static bool condition_met(const struct cf_waiter *w, size_t total, cf_return_when when)
{
	if (w->ready_count == total)
		return true;
	if (when == CF_FIRST_COMPLETED)
		return w->ready_count > 0;
	if (when == CF_FIRST_EXCEPTION)
		return w->failures > 0;
	return false;
}

/* Sleeps until the condition holds or the deadline passes; whether it
 * holds. */
static bool wait_until_met(struct cf_waiter *w, size_t count, cf_return_when when,
			   double deadline)
{
	bool met;

	pthread_mutex_lock(&w->lock);
	while (!(met = condition_met(w, count, when)))
		if (cf__cond_wait_until(&w->cond, &w->lock, deadline) == ETIMEDOUT &&
		    !(met = condition_met(w, count, when)))
			break;
	pthread_mutex_unlock(&w->lock);
	return met;
}

/* Like Python, the sets say what is done at return, which may be more
 * than what met the condition.  Either array may be NULL (counted only). */
static void split_done(cf_future *const *fs, size_t count, cf_future **done, size_t *n_done,
		       cf_future **not_done, size_t *n_not_done)
{
	size_t nd = 0, nn = 0;

	for (size_t i = 0; i < count; i++) {
		if (cf_future_done(fs[i])) {
			if (done)
				done[nd] = fs[i];
			nd++;
		} else {
			if (not_done)
				not_done[nn] = fs[i];
			nn++;
		}
	}
	if (n_done)
		*n_done = nd;
	if (n_not_done)
		*n_not_done = nn;
}

cf_status cf_wait(cf_future *const *fs, size_t n, double timeout, cf_return_when when,
		  cf_future **done, size_t *n_done, cf_future **not_done, size_t *n_not_done)
{
	double deadline = cf__deadline(timeout);
	cf_future **unique;
	size_t count;
	struct cf_waiter *w;

	if ((!fs && n) || when > CF_ALL_COMPLETED)
		return CF_INVALID_ARGUMENT;
	cf_status st = unique_futures(fs, n, &unique, &count);
	if (st != CF_OK)
		return st;
	w = waiter_new(count);
	if (!w) {
		free(unique);
		return CF_NOMEM;
	}
	waiter_watch(w, unique, count);
	bool met = wait_until_met(w, count, when, deadline);
	waiter_free(w);
	split_done(unique, count, done, n_done, not_done, n_not_done);
	free(unique);
	return met ? CF_OK : CF_TIMEOUT;
}

struct cf_as_completed {
	struct cf_waiter *waiter;
	size_t total;
	size_t given;
	/* The link of the future given last: its reference is dropped at the
	 * next call, so that an iteration holds only what it has not given
	 * yet (as CPython does since bpo-14406) and many large results are
	 * not kept alive by the iterator until it is freed. */
	struct cf_waiter_link *given_last;
	double deadline;
};

cf_status cf_as_completed_new(cf_future *const *fs, size_t n, double timeout,
			      cf_as_completed **out)
{
	double deadline = cf__deadline(timeout);
	cf_as_completed *it;
	cf_future **unique;
	size_t count;

	if (!out || (!fs && n))
		return CF_INVALID_ARGUMENT;
	cf_status st = unique_futures(fs, n, &unique, &count);
	if (st != CF_OK)
		return st;
	it = calloc(1, sizeof(*it));
	if (!it || !(it->waiter = waiter_new(count))) {
		free(it);
		free(unique);
		return CF_NOMEM;
	}
	waiter_watch(it->waiter, unique, count);
	free(unique);
	it->total = count;
	it->deadline = deadline;
	*out = it;
	return CF_OK;
}

cf_status cf_as_completed_next(cf_as_completed *it, cf_future **f)
{
	struct cf_waiter *w;
	cf_status st = CF_OK;

	if (!it || !f)
		return CF_INVALID_ARGUMENT;
	w = it->waiter;
	if (it->given_last) {
		waiter_drop(w, (size_t)(it->given_last - w->links));
		it->given_last = NULL;
	}
	if (it->given == it->total)
		return CF_END;
	pthread_mutex_lock(&w->lock);
	while (w->ready_count == it->given) {
		if (cf__cond_wait_until(&w->cond, &w->lock, it->deadline) == ETIMEDOUT &&
		    w->ready_count == it->given) {
			st = CF_TIMEOUT;
			break;
		}
	}
	if (st == CF_OK) {
		it->given_last = w->ready[it->given++];
		*f = it->given_last->future;
	}
	pthread_mutex_unlock(&w->lock);
	return st;
}

void cf_as_completed_free(cf_as_completed *it)
{
	if (!it)
		return;
	waiter_free(it->waiter);
	free(it);
}
