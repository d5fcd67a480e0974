/* The FIFO of futures waiting for a worker of the process backend (the
 * thread backend has its own, mpsc.c).  Not locked: the backend holds its
 * lock around these calls. */
#include "internal.h"

void cf__queue_push(struct cf_queue *q, cf_future *f)
{
	f->next = NULL;
	if (q->tail)
		q->tail->next = f;
	else
		q->head = f;
	q->tail = f;
	q->count++;
}

cf_future *cf__queue_pop(struct cf_queue *q)
{
	cf_future *f = q->head;

	if (!f)
		return NULL;
	q->head = f->next;
	if (!q->head)
		q->tail = NULL;
	f->next = NULL;
	q->count--;
	return f;
}

cf_future *cf__queue_take_all(struct cf_queue *q)
{
	cf_future *list = q->head;

	q->head = q->tail = NULL;
	q->count = 0;
	return list;
}

void cf__abandon_list(cf_future *list, cf_status outcome)
{
	while (list) {
		cf_future *next = list->next;

		list->next = NULL;
		if (outcome == CF_CANCELLED)
			cf_future_cancel(list);
		else
			cf__future_abandon(list, outcome);
		cf__future_unref(list);     /* the queue's reference */
		list = next;
	}
}
