/* A queue that many threads push to without a lock and one thread pops
 * from (Vyukov's intrusive MPSC queue). */
#ifndef CF_BASE_MPSC_H
#define CF_BASE_MPSC_H

#include "base/link.h"

#include <stdalign.h>
#include <stddef.h>

struct cf_mpsc {
	alignas(64) struct cf_link *push_end;   /* the last pushed (atomic) */
	alignas(64) struct cf_link *pop_end;    /* the consumer's */
	struct cf_link stub;                    /* linked in when empty */
};

void cf__mpsc_init(struct cf_mpsc *q);
/* Any thread, any time. */
void cf__mpsc_push(struct cf_mpsc *q, struct cf_link *l);
/* first .. last, already linked by ->next, in order, with one exchange:
 * links no other thread can reach yet (a burst being submitted). */
void cf__mpsc_push_chain(struct cf_mpsc *q, struct cf_link *first, struct cf_link *last);
/* One thread at a time.  NULL when empty, and also for a moment while a
 * push is half done: the caller's count of pushes tells the two apart. */
struct cf_link *cf__mpsc_pop(struct cf_mpsc *q);

#endif
