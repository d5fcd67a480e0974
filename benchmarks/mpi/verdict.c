#include "verdict.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "micro_util.h"

#define CONFIDENCE 0.95

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The 1-based rank k of the narrowest symmetric interval [X(k),
 * X(n+1-k)] that holds the median with at least 95 %, or 0 when none
 * does: P(X(k) > median) = P(Binom(n, 1/2) <= k - 1) must stay within
 * the 2.5 % tail (stats.py order_statistic_ranks). */
static int interval_rank(int n)
{
	double tail = (1 - CONFIDENCE) / 2, cumulative = 0, choose = 1;
	int best = 0;

	for (int k = 1; k <= n / 2; k++) {
		/* choose = C(n, k - 1) */
		cumulative += choose / pow(2, n);
		if (cumulative > tail + 1e-12)
			break;
		best = k;
		choose = choose * (n - (k - 1)) / k;
	}
	return best;
}

void estimate_of(struct estimate *e, const double *values, int n)
{
	double sorted[MICRO_MAX_ROUNDS];
	int k;

	memset(e, 0, sizeof(*e));
	if (n <= 0 || n > MICRO_MAX_ROUNDS)
		return;
	memcpy(sorted, values, (size_t)n * sizeof(*sorted));
	qsort(sorted, (size_t)n, sizeof(*sorted), by_value);
	e->n = n;
	e->value = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
	k = interval_rank(n);
	if (k == 0)
		return;
	e->has_interval = true;
	e->lo = sorted[k - 1];
	e->hi = sorted[n - k];
}

void estimate_ratio(struct estimate *e, const double *a, const double *b, int n)
{
	double r[MICRO_MAX_ROUNDS];
	int m = 0;

	for (int i = 0; i < n && i < MICRO_MAX_ROUNDS; i++)
		if (b[i] > 0)
			r[m++] = a[i] / b[i];
	estimate_of(e, r, m);
}

struct estimate estimate_scaled(const struct estimate *e, double factor)
{
	struct estimate s = *e;

	s.value *= factor;
	s.lo *= factor;
	s.hi *= factor;
	return s;
}

const char *verdict_at_most(const struct estimate *e, double goal)
{
	if (!e->has_interval)
		return "not determined";
	if (e->hi < goal)
		return "met";
	if (e->lo > goal)
		return "missed";
	return "not determined";
}

/* Decimals that give v three significant digits (none past 999). */
static int decimals_for(double v)
{
	double a = fabs(v);

	if (a == 0 || a >= 100)
		return 0;
	return 2 - (int)floor(log10(a));
}

void estimate_text(char *buf, size_t size, const struct estimate *e)
{
	int d;

	if (e->n == 0) {
		snprintf(buf, size, "-");
		return;
	}
	d = decimals_for(e->value);
	if (e->has_interval)
		snprintf(buf, size, "%.*f [%.*f, %.*f]", d, e->value, d, e->lo, d, e->hi);
	else
		snprintf(buf, size, "%.*f (no interval)", d, e->value);
}
