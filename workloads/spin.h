/* A calibrated CPU spin: `--work-us U` gives every task U microseconds of
 * real CPU work, the same amount in every model.
 *
 * The spin runs a fixed number of loop iterations (it does not poll the
 * clock), so it is work, not waiting: on an oversubscribed machine it takes
 * longer, as real computation would.  The iterations per microsecond are
 * measured once per process (about 20 ms, best of several trials) or taken
 * from the environment variable PARLAB_SPIN_PER_US, which the harness sets
 * once per run so that short benchmarks do not pay the calibration.
 */
#ifndef PARLAB_SPIN_H
#define PARLAB_SPIN_H

#include <stdint.h>

/* Loop iterations per microsecond on this machine (calibrates on first
 * use; thread-safe; inherited by forked children once computed). */
double pl_spin_per_us(void);

/* Measures the rate now, ignoring the environment and the cache. */
double pl_spin_calibrate(void);

/* Burns `us` microseconds of CPU.  Returns a value derived from the loop
 * so that the compiler cannot delete it; callers may ignore it. */
uint64_t pl_spin_us(long us);

#endif
