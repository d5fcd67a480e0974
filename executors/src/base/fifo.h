/* A first-in first-out queue of links; the caller locks. */
#ifndef CF_BASE_FIFO_H
#define CF_BASE_FIFO_H

#include "base/link.h"

#include <stddef.h>

struct cf_fifo {
	struct cf_link *head, *tail;
	size_t count;
};

void cf__fifo_push(struct cf_fifo *q, struct cf_link *l);
struct cf_link *cf__fifo_pop(struct cf_fifo *q);        /* NULL when empty */
/* Detaches the whole queue as a list linked by ->next. */
struct cf_link *cf__fifo_take_all(struct cf_fifo *q);

#endif
