"""The statistics every figure of a report goes through.

A figure is the median of per-round values, with a distribution-free 95 %
confidence interval for that median: the interval between two order
statistics of the sample, chosen from the binomial distribution so that
the true median lies inside with probability at least 95 % whatever the
distribution of the values (Conover, "Practical Nonparametric
Statistics", the confidence interval for a quantile).  No bootstrap, no
normality: the interval is exact for any continuous distribution and is
the same on every run of the analysis.

With fewer than 6 values no such interval exists (with 5, even the
widest one, min to max, covers the median with only 1 - 2/32 = 93.75 %),
so a figure from fewer than 6 rounds is never determined.

Derived figures (a speedup, a ratio to a floor) are computed pair by
pair: round i of one command against round i of the other, measured
next to each other in time, and the interval is that of the per-round
values.
"""
from dataclasses import dataclass
from math import comb, isfinite

CONFIDENCE = 0.95
MIN_ROUNDS = 6          # the smallest sample with a 95 % interval
DEFAULT_BOUND = 0.05    # the stop rule: interval within +-5 % of the median

OK = "ok"
NOT_DETERMINED = "not-determined"


def median(values):
    """The median of a non-empty list."""
    s = sorted(values)
    n = len(s)
    if n == 0:
        raise ValueError("median of no values")
    mid = n // 2
    return s[mid] if n % 2 else (s[mid - 1] + s[mid]) / 2


def order_statistic_ranks(n, confidence=CONFIDENCE):
    """The 1-based ranks (k, n+1-k) of the narrowest symmetric interval of
    order statistics that covers the median with at least `confidence`,
    or None when n is too small for any."""
    tail = (1 - confidence) / 2
    best = None
    cumulative = 0.0
    # P(X(k) > median) = P(Binom(n, 1/2) <= k - 1): grow k while the tail
    # stays within (1 - confidence) / 2.
    for k in range(1, n // 2 + 1):
        cumulative += comb(n, k - 1) / 2 ** n
        if cumulative > tail + 1e-12:
            break
        best = k
    if best is None:
        return None
    return best, n + 1 - best


def coverage(n, k):
    """The exact coverage of [X(k), X(n+1-k)] for the median."""
    return 1 - 2 * sum(comb(n, i) for i in range(k)) / 2 ** n


def median_ci(values, confidence=CONFIDENCE):
    """(lo, hi) of the median's interval, or None with too few values."""
    s = sorted(values)
    ranks = order_statistic_ranks(len(s), confidence)
    if ranks is None:
        return None
    k, j = ranks
    return s[k - 1], s[j - 1]


@dataclass
class Estimate:
    """A figure: the median of n values and its 95 % interval.

    status is "ok" or "not-determined"; why says what made it so."""
    value: float
    lo: float = None
    hi: float = None
    n: int = 0
    status: str = OK
    why: str = ""

    @property
    def determined(self):
        return self.status == OK

    def relative_halfwidth(self):
        """The larger distance from the median to an end of the interval,
        as a fraction of the median (inf without an interval)."""
        if self.lo is None or self.hi is None or self.value == 0:
            return float("inf")
        return max(self.hi - self.value, self.value - self.lo) / abs(self.value)


def estimate(values, bound=None):
    """The Estimate of per-round values (None and non-finite values are
    dropped).  With a bound, an interval wider than +-bound of the median
    makes it not determined."""
    vals = [v for v in values if v is not None and isfinite(v)]
    if not vals:
        return None
    e = Estimate(value=median(vals), n=len(vals))
    ci = median_ci(vals)
    if ci is None:
        e.status = NOT_DETERMINED
        e.why = f"{len(vals)} rounds: a 95 % interval needs at least {MIN_ROUNDS}"
        return e
    e.lo, e.hi = ci
    if bound is not None and e.relative_halfwidth() > bound:
        e.status = NOT_DETERMINED
        e.why = (f"interval ±{e.relative_halfwidth() * 100:.0f} % of the median, "
                 f"wider than ±{bound * 100:.0f} %")
    return e


def paired(a, b, fn):
    """fn(a[i], b[i]) for every round where both were measured."""
    out = []
    for x, y in zip(a, b):
        if x is None or y is None:
            continue
        try:
            out.append(fn(x, y))
        except ZeroDivisionError:
            continue
    return out


def ratio_samples(a, b):
    """a[i] / b[i], round by round."""
    return paired(a, b, lambda x, y: x / y)


def against(e, threshold):
    """Where an Estimate lies against a threshold: "above", "below", or
    None when it is not determined or its interval holds the threshold."""
    if e is None or not e.determined:
        return None
    if e.lo > threshold:
        return "above"
    if e.hi < threshold:
        return "below"
    return None


def judge(e, goal, op):
    """A verdict for a figure against a goal: "met", "missed" or
    "not determined" (no figure, a wide interval, or an interval that
    holds the goal).  op is "<=" or ">="."""
    side = against(e, goal)
    if side is None:
        return "not determined"
    if op == "<=":
        return "met" if side == "below" else "missed"
    return "met" if side == "above" else "missed"
