/* A queue of links that any thread pushes to without a lock, and that
 * one thread at a time pops from (the thread backend's workers take turns
 * under the pool's mutex).  Dmitry Vyukov's intrusive multi-producer
 * single-consumer queue: a push is one atomic exchange and one store, so a
 * submit never waits for a worker that holds the pool's mutex (or was
 * preempted while holding it).
 *
 * The elements are linked through their struct cf_link; the queue's own stub node
 * stands in when it is empty, so push never has to look at the other end.
 * Between a push's exchange and its store the chain is briefly cut: pop
 * then answers NULL although the queue is not empty, and the caller tries
 * again (it knows, from its own count of pushes).
 */
#include "base/mpsc.h"

#include "base/annotate.h"

static struct cf_link *next_of(struct cf_link *f)
{
	return __atomic_load_n(&f->next, __ATOMIC_ACQUIRE);
}

void cf__mpsc_init(struct cf_mpsc *q)
{
	q->stub.next = NULL;
	q->push_end = &q->stub;
	q->pop_end = &q->stub;
}

void cf__mpsc_push(struct cf_mpsc *q, struct cf_link *f)
{
	CF_HAPPENS_BEFORE(f);   /* what the pusher wrote in f */
	__atomic_store_n(&f->next, NULL, __ATOMIC_RELAXED);
	struct cf_link *prev = __atomic_exchange_n(&q->push_end, f, __ATOMIC_ACQ_REL);
	/* From here until the store, pop cannot get past prev. */
	__atomic_store_n(&prev->next, f, __ATOMIC_RELEASE);
	/* The store itself, for whoever pops prev and reuses its link. */
	CF_HAPPENS_BEFORE(prev);
}

void cf__mpsc_push_chain(struct cf_mpsc *q, struct cf_link *first, struct cf_link *last)
{
	/* The caller linked them where no one else could see them: one
	 * exchange and one store put them all in, as for one. */
	struct cf_link *prev = __atomic_exchange_n(&q->push_end, last, __ATOMIC_ACQ_REL);

	__atomic_store_n(&prev->next, first, __ATOMIC_RELEASE);
	CF_HAPPENS_BEFORE(prev);
}

struct cf_link *cf__mpsc_pop(struct cf_mpsc *q)
{
	struct cf_link *f = q->pop_end;
	struct cf_link *next = next_of(f);

	if (f == &q->stub) {            /* skip the stub */
		if (!next)
			return NULL;
		q->pop_end = next;
		f = next;
		next = next_of(f);
	}
	if (next) {
		q->pop_end = next;
		CF_HAPPENS_AFTER(f);
		return f;
	}
	/* f is the last one linked: a push may have swapped it out already
	 * and not linked its element yet. */
	if (f != __atomic_load_n(&q->push_end, __ATOMIC_ACQUIRE))
		return NULL;
	/* Put the stub behind f, so that f can leave. */
	cf__mpsc_push(q, &q->stub);
	next = next_of(f);
	if (next) {
		q->pop_end = next;
		CF_HAPPENS_AFTER(f);
		return f;
	}
	return NULL;
}
