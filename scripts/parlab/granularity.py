"""The minimum effective task size of a model, from its efficiency curve
and the intervals of its points (docs/report.md, section 2).

Each task size of the sweep is classified by its efficiency's 95 %
interval: *above* 50 % (the figure is determined and its interval lies
above 0.5), *below* (determined, wholly below 0.5), or *unsure* (not
determined, or its interval holds 0.5).  Efficiency grows with task size
(the overhead per task is paid less often), so every size below must be
smaller than every size above; the crossing lies between the largest
size below and the smallest size above:

- sizes below and above, every below smaller than every above: when the
  two are neighbours in the sweep, the minimum is interpolated linearly
  in log(size) between them on the medians, its interval between the
  crossings of the intervals' ends ("x [lo, hi]"); when unsure sizes lie
  between them, it is that range ("between a and b");
- a size below that is larger than a size above: the curve crosses 50 %
  more than once, and the minimum is not determined;
- sizes above and none below: at most the smallest size above ("<= s");
- sizes below and none above: more than the largest size below ("> s");
- only unsure sizes: not determined.

Unsure sizes outside the crossing decide nothing either way, so no single
point decides alone: one slow run at the largest size no longer labels a
model "not reached" while the sizes below it reach 50 %; a size reliably
below 50 % above sizes reliably over it makes the curve not determined.
"""
from dataclasses import dataclass
from math import exp, log

from .fmt import sig

THRESHOLD = 0.5

ABOVE, BELOW, UNSURE = "above", "below", "unsure"


@dataclass
class Point:
    size: float
    value: float
    lo: float = None
    hi: float = None
    determined: bool = True

    @property
    def side(self):
        if not self.determined or self.lo is None or self.hi is None:
            return UNSURE
        if self.lo > THRESHOLD:
            return ABOVE
        if self.hi < THRESHOLD:
            return BELOW
        return UNSURE


@dataclass
class MinGrain:
    """kind: "ok" (value with interval lo..hi), "at-most" (at most value,
    the smallest size above 50 %), "between" (lo..hi: the crossing lies in
    that range), "above-largest" (more than value, the largest size below
    50 %), or "not-determined"; why explains it in words."""
    kind: str
    value: float = None
    lo: float = None
    hi: float = None
    why: str = ""

    @property
    def determined(self):
        return self.kind != "not-determined"

    def text(self, unit="µs"):
        def g(v):
            # three significant digits, no exponent, no trailing zeros
            text = sig(v)
            return text.rstrip("0").rstrip(".") if "." in text else text
        if self.kind == "ok":
            return f"{g(self.value)} {unit} [{g(self.lo)}, {g(self.hi)}]"
        if self.kind == "at-most":
            return f"≤ {g(self.value)} {unit}"
        if self.kind == "above-largest":
            return f"> {g(self.value)} {unit}"
        if self.kind == "between":
            return f"between {g(self.lo)} and {g(self.hi)} {unit}"
        return "not determined"

    def bounds(self):
        """(lowest, highest) the minimum can be: None for no bound."""
        if self.kind == "ok":
            return self.lo, self.hi
        if self.kind == "at-most":
            return None, self.value
        if self.kind == "between":
            return self.lo, self.hi
        if self.kind == "above-largest":
            return self.value, None
        return None, None


def _cross(x0, y0, x1, y1):
    """Where the line through (log x0, y0), (log x1, y1) reaches 0.5,
    clamped to [x0, x1]."""
    if y1 == y0:
        return x0 if y0 >= THRESHOLD else x1
    t = (THRESHOLD - y0) / (y1 - y0)
    t = min(max(t, 0.0), 1.0)
    return exp(log(x0) + t * (log(x1) - log(x0)))


def min_grain(points):
    pts = sorted(points, key=lambda p: p.size)
    above = [p for p in pts if p.side == ABOVE]
    below = [p for p in pts if p.side == BELOW]
    if not above and not below:
        return MinGrain("not-determined", why="no size is surely above or below 50 %")
    if not below:
        unsure = "" if above[0] is pts[0] else ", the sizes under it unsure"
        return MinGrain("at-most", above[0].size, why=f"every size from {above[0].size:g} µs reached 50 %{unsure}")
    if not above:
        return MinGrain("above-largest", below[-1].size, why=f"no size reached 50 % (up to {below[-1].size:g} µs)")
    b, a = below[-1], above[0]
    if b.size > a.size:
        return MinGrain("not-determined", why=f"the curve crosses 50 % more than once ({a.size:g} µs above, "
                        f"{b.size:g} µs below)")
    between = [p for p in pts if b.size < p.size < a.size]
    if between:
        where = (f"at {between[0].size:g} µs" if len(between) == 1 else
                 f"from {between[0].size:g} to {between[-1].size:g} µs")
        return MinGrain("between", lo=b.size, hi=a.size, why=f"unsure around 50 % {where}")
    value = _cross(b.size, b.value, a.size, a.value)
    # The crossings of the upper ends (earliest) and the lower ends (latest).
    early = _cross(b.size, b.hi, a.size, a.hi)
    late = _cross(b.size, b.lo, a.size, a.lo)
    return MinGrain("ok", value, min(early, value), max(late, value),
                    why=f"crosses 50 % between {b.size:g} and {a.size:g} µs")
