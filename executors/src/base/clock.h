/* Time on the monotonic clock, deadlines, and polling. */
#ifndef CF_BASE_CLOCK_H
#define CF_BASE_CLOCK_H

#include <pthread.h>
#include <sched.h>

double cf__now(void);
/* now + timeout, or -1 for no deadline. */
double cf__deadline(double timeout);
/* A condition variable whose timed waits use the monotonic clock. */
int cf__cond_init(pthread_cond_t *cond);
/* Timed wait on cond (made by cf__cond_init) until an absolute monotonic
 * deadline; < 0 waits without bound.  ETIMEDOUT or 0. */
int cf__cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *lock, double deadline);

/* Step i (from 1) of a polling loop.  The first steps only tell the CPU
 * (and a sibling hyperthread) that we are spinning; later ones yield the
 * core, so that when there are more runnable threads than cores the
 * thread we wait for, if it shares our core, can run instead of us.
 * Without the yield a spin on a busy machine lasts its whole bound. */
static inline void cf__spin_step(unsigned i)
{
	if (i > 512) {
		sched_yield();
		return;
	}
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

#endif
