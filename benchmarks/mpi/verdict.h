/* A figure's median with its 95 % interval, and a verdict against a
 * target drawn from that interval, as the report's analysis draws them
 * (scripts/parlab/stats.py): the interval is the distribution-free one
 * between two order statistics of the per-round values, so a figure from
 * fewer than 6 rounds has none and gets no verdict.  A ratio is taken
 * round by round (round i of one figure over round i of the other,
 * measured next to each other in time) and then summarised. */
#ifndef PARLAB_MPI_VERDICT_H
#define PARLAB_MPI_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

struct estimate {
	double value;           /* the median */
	double lo, hi;          /* its 95 % interval, when has_interval */
	bool has_interval;
	int n;                  /* values it is the median of (0: none) */
};

/* The estimate of n values (n may be 0: an empty estimate). */
void estimate_of(struct estimate *e, const double *values, int n);

/* The estimate of a[i] / b[i] over the n rounds. */
void estimate_ratio(struct estimate *e, const double *a, const double *b, int n);

/* e times factor (a unit change), interval included. */
struct estimate estimate_scaled(const struct estimate *e, double factor);

/* "met" when the whole interval lies under goal, "missed" when it
 * lies above it, else "not determined" (no interval, or one that holds
 * the goal). */
const char *verdict_at_most(const struct estimate *e, double goal);

/* "1.23 [1.10, 1.40]" with 3 significant digits as the report writes
 * figures (scripts/parlab/fmt.py), "1.23 (no interval)" from fewer than
 * 6 rounds, "-" for an empty estimate. */
void estimate_text(char *buf, size_t size, const struct estimate *e);

#endif
