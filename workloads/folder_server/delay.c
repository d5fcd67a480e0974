/* Latency as a timed wait on one condition variable.
 *
 * Each request sleeps in its own connection thread, so sleepers overlap:
 * 200 waiting clients cost one latency, not 200.  A condition variable
 * instead of nanosleep lets shutdown wake them all with one broadcast.
 */
#define _GNU_SOURCE
#include "delay.h"

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake;
static bool stopping;

void fs_delay_init(void)
{
	pthread_condattr_t attr;

	/* Monotonic: a clock step must not stretch or cut a latency. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&wake, &attr);
	pthread_condattr_destroy(&attr);
}

void fs_delay(double ms)
{
	struct timespec until;

	if (ms <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &until);
	long long ns = until.tv_nsec + (long long)(ms * 1e6);

	until.tv_sec += (time_t)(ns / 1000000000LL);
	until.tv_nsec = (long)(ns % 1000000000LL);

	pthread_mutex_lock(&lock);
	while (!stopping && pthread_cond_timedwait(&wake, &lock, &until) == 0)
		;       /* spurious or broadcast: the loop test decides */
	pthread_mutex_unlock(&lock);
}

void fs_delay_stop(void)
{
	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&lock);
}
