/* A FIFO of links (the process backend's waiting futures; the thread
 * backend has its own, mpsc.c).  Not locked: the owner holds its lock
 * around these calls. */
#include "base/fifo.h"

void cf__fifo_push(struct cf_fifo *q, struct cf_link *l)
{
	l->next = NULL;
	if (q->tail)
		q->tail->next = l;
	else
		q->head = l;
	q->tail = l;
	q->count++;
}

struct cf_link *cf__fifo_pop(struct cf_fifo *q)
{
	struct cf_link *l = q->head;

	if (!l)
		return NULL;
	q->head = l->next;
	if (!q->head)
		q->tail = NULL;
	l->next = NULL;
	q->count--;
	return l;
}

struct cf_link *cf__fifo_take_all(struct cf_fifo *q)
{
	struct cf_link *list = q->head;

	q->head = q->tail = NULL;
	q->count = 0;
	return list;
}
