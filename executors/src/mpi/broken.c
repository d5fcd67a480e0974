/* Breaking an MPI pool (pool.h): the reason, and the queue failed. */
#include "mpi/pool.h"

#include <stdarg.h>
#include <stdio.h>

void cf__mpi_note_broken(struct mpi_pool *p, const char *fmt, ...)
{
	struct cf_link *queued;
	va_list ap;

	pthread_mutex_lock(&p->lock);
	if (!p->broken) {
		va_start(ap, fmt);
		vsnprintf(p->why, sizeof(p->why), fmt, ap);
		va_end(ap);
		p->broken = true;
	}
	queued = cf__fifo_take_all(&p->queue);
	pthread_mutex_unlock(&p->lock);
	cf__future_abandon_list(queued, CF_BROKEN);
}
