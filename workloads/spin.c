/* A calibrated CPU spin (see spin.h).
 *
 * The loop is a 64-bit linear congruential generator: each step depends on
 * the previous one, so the CPU cannot overlap iterations and the time per
 * iteration is steady.  The empty asm statement tells the compiler that x
 * may have changed behind its back, which stops it from folding the loop
 * into a closed formula or deleting it.
 */
#define _GNU_SOURCE
#include "spin.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define SPIN_ENV "PARLAB_SPIN_PER_US"

/* Sanity bounds for a rate taken from the environment: a real machine does
 * tens to thousands of iterations per microsecond (tens under valgrind). */
#define SPIN_RATE_MIN 1e-3
#define SPIN_RATE_MAX 1e6

/* Calibration: grow the loop until one run takes WARMUP_US of CPU time,
 * then keep the best of TRIALS runs of about TRIAL_US each.  In all about
 * 20 ms, short enough to pay once per process. */
#define WARMUP_US 2000.0
#define TRIAL_US 4000.0
#define TRIALS 4

static pthread_once_t rate_once = PTHREAD_ONCE_INIT;
static double rate;

/* Out of line and on a 64-byte boundary: the loop then sits at the same
 * place within its cache line and 32-byte fetch block in every program
 * that links it, spin-calibrate included, so that an iteration costs the
 * same in all of them.  Left to the linker, the loop's offset differed
 * from program to program (and from build to build), and with it the
 * time an iteration takes: the same --work-us was not the same work in
 * the serial program and in the one it was compared with. */
__attribute__((noinline, aligned(64))) static uint64_t spin_iterations(uint64_t n)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	for (uint64_t i = 0; i < n; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		__asm__ volatile("" : "+r"(x));
	}
	return x;
}

/* CPU time of this thread, not wall time: a calibration run that gets
 * preempted is not mistaken for a slow machine. */
static double thread_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Microseconds of CPU that n iterations take. */
static double time_iterations(uint64_t n)
{
	double t0 = thread_cpu_us();

	spin_iterations(n);
	return thread_cpu_us() - t0;
}

double pl_spin_calibrate(void)
{
	uint64_t n = 1000;
	double us;
	double best = 0;

	/* Growing n also warms up the caches and lets the CPU raise its
	 * clock; the bound on n only guards against a clock that never moves. */
	while ((us = time_iterations(n)) < WARMUP_US && n < (1ULL << 40))
		n *= 2;
	if (us <= 0)
		us = 1;

	n = (uint64_t)((double)n * TRIAL_US / us) + 1;
	for (int i = 0; i < TRIALS; i++) {
		double t = time_iterations(n);

		if (t > 0 && (double)n / t > best)
			best = (double)n / t;
	}
	if (best <= 0)
		best = (double)n / TRIAL_US;
	return best;
}

/* The harness measures once per run and exports the rate, so that every
 * short benchmark process does not spend 20 ms calibrating.  A value that
 * is not a plausible positive number is ignored with a warning: the run
 * still spins correctly, it only pays the calibration. */
static bool rate_from_env(double *out)
{
	const char *s = getenv(SPIN_ENV);
	char *end;
	double v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end != '\0' || !isfinite(v) ||
	    v < SPIN_RATE_MIN || v > SPIN_RATE_MAX) {
		fprintf(stderr, "parlab: warning: ignoring %s='%s' (want a number "
			"of iterations per microsecond, %g to %g); calibrating\n",
			SPIN_ENV, s, SPIN_RATE_MIN, SPIN_RATE_MAX);
		return false;
	}
	*out = v;
	return true;
}

static void init_rate(void)
{
	if (!rate_from_env(&rate))
		rate = pl_spin_calibrate();
}

double pl_spin_per_us(void)
{
	pthread_once(&rate_once, init_rate);
	return rate;
}

uint64_t pl_spin_us(long us)
{
	if (us <= 0)
		return 0;
	return spin_iterations((uint64_t)llround((double)us * pl_spin_per_us()));
}
