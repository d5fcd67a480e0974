/* Time on the monotonic clock, and condition variables that wait on it. */
#include "base/clock.h"

#include <time.h>

double cf__now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double cf__deadline(double timeout)
{
	return timeout < 0 ? -1.0 : cf__now() + timeout;
}

static pthread_condattr_t monotonic_attr;
static pthread_once_t monotonic_once = PTHREAD_ONCE_INIT;

static void monotonic_attr_init(void)
{
	pthread_condattr_init(&monotonic_attr);
	pthread_condattr_setclock(&monotonic_attr, CLOCK_MONOTONIC);
}

/* Deadlines are on the monotonic clock so that a change of the wall clock
 * neither shortens nor stretches a timeout. */
int cf__cond_init(pthread_cond_t *cond)
{
	pthread_once(&monotonic_once, monotonic_attr_init);
	return pthread_cond_init(cond, &monotonic_attr);
}

int cf__cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *lock, double deadline)
{
	struct timespec ts;

	if (deadline < 0)
		return pthread_cond_wait(cond, lock);
	if (deadline > 1e12)
		deadline = 1e12;
	ts.tv_sec = (time_t)deadline;
	ts.tv_nsec = (long)((deadline - (double)ts.tv_sec) * 1e9);
	if (ts.tv_nsec >= 1000000000L)
		ts.tv_nsec = 999999999L;
	return pthread_cond_timedwait(cond, lock, &ts);
}
