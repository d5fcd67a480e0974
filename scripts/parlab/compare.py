"""scripts/compare: what changed between two report runs, figure by figure,
judged by the figures' 95 % intervals.

Usage: scripts/compare [--all] REPORT_A REPORT_B
Every figure both runs have (median wall time, speedup, efficiency, CPU
ratio, overhead per task, worker start-up, minimum task size, micro-
benchmark medians, target verdicts) is one line: A, B, the ratio B / A
and a word:
  same          both determined and their intervals overlap
  better/worse  both determined and their intervals do not overlap (lower
                is better for times, overheads and sizes; higher for
                speedup and efficiency)
  n.d. in A/B   not determined in that run: it says nothing either way
Target and headline verdicts that differ are "contradicts" when both are
met/missed, else "n.d." when one of them is not determined.  Without
--all only changes are listed.  The last line counts them; a run never
contradicts itself.  Exit status 0, or 2 for bad usage.
"""
import csv
import os
import sys

from . import cli
from .fmt import est
from .granularity import MinGrain
from .results import read

WANTED = {"wall_s", "speedup", "efficiency", "cpu_ratio", "overhead_ns_per_task", "worker_start_us",
          "min_grain_us", "median_ns", "sleep_efficiency", "wall_over_bound"}
HIGHER_BETTER = {"speedup", "efficiency", "sleep_efficiency"}


def label(r):
    text = f"{r.suite} {r.workload} {r.model}"
    if r.jobs:
        text += f" -j {r.jobs}"
    if r.tasks:
        text += f" -n {r.tasks}"
    if r.work_us not in ("", "0"):
        text += f" --work-us {r.work_us}"
    if r.scale not in ("", "1"):
        text += f" --scale {r.scale}"
    if r.placement not in ("", "unpinned"):
        text += f" ({r.placement})"
    return f"{text}: {r.statistic}"


def interval(r):
    """(lo, hi) of what a figure can be, or None when it says nothing."""
    if r.statistic == "min_grain_us":
        g = MinGrain(r.status, r.value, r.ci_lo, r.ci_hi)
        if not g.determined:
            return None
        lo, hi = g.bounds()
        return (lo if lo is not None else 0.0, hi if hi is not None else float("inf"))
    if r.status != "ok" or r.value is None or r.ci_lo is None:
        return None
    return r.ci_lo, r.ci_hi


def word(a, b):
    ia, ib = interval(a), interval(b)
    if ia is None:
        return "n.d. in A"
    if ib is None:
        return "n.d. in B"
    if ia[1] >= ib[0] and ib[1] >= ia[0]:
        return "same"
    up = ib[0] > ia[1]
    return "better" if up == (a.statistic in HIGHER_BETTER) else "worse"


def text(r):
    if r.statistic == "min_grain_us":
        return MinGrain(r.status, r.value, r.ci_lo, r.ci_hi).text()
    return est(r)


def targets(path):
    try:
        with open(os.path.join(path, "targets.csv"), newline="") as f:
            return {(r["target"], r["figure"].split(":")[0]): r["verdict"] for r in csv.DictReader(f)}
    except OSError:
        return {}


def main(argv=None):
    p = cli.parser("scripts/compare", __doc__)
    p.add_argument("--all", action="store_true", help="list unchanged figures too")
    p.add_argument("a")
    p.add_argument("b")
    args = p.parse_args(argv)
    for d in (args.a, args.b):
        if not os.path.exists(os.path.join(d, "results.csv")):
            p.error(f"{d}/results.csv not found (not a report directory?)")
    a = {label(r): r for r in read(os.path.join(args.a, "results.csv")) if r.statistic in WANTED}
    b = {label(r): r for r in read(os.path.join(args.b, "results.csv")) if r.statistic in WANTED}
    print(f"A: {args.a}\nB: {args.b}\n")
    count = {}
    for k in sorted(a.keys() & b.keys()):
        w = word(a[k], b[k])
        count[w] = count.get(w, 0) + 1
        if args.all or w in ("better", "worse"):
            print(f"{k}\n    A {text(a[k])}   B {text(b[k])}   {w}")
    ta, tb = targets(args.a), targets(args.b)
    contradictions = 0
    for k in sorted(ta.keys() & tb.keys()):
        va, vb = ta[k][:6], tb[k][:6]
        if ta[k] == tb[k] and not args.all:
            continue
        hard = {va.split()[0], vb.split()[0]} == {"met", "missed"}
        contradictions += hard
        if hard or args.all or va != vb:
            print(f"target {k[0]}\n    A {ta[k]}   B {tb[k]}   {'contradicts' if hard else 'differs'}")
    n = len(a.keys() & b.keys())
    print(f"\n{n} figures in both: {count.get('same', 0)} same within their intervals, "
          f"{count.get('better', 0)} better, {count.get('worse', 0)} worse, "
          f"{count.get('n.d. in A', 0)} not determined in A, {count.get('n.d. in B', 0)} not determined in B; "
          f"{len(ta.keys() & tb.keys())} targets in both, {contradictions} verdicts contradict")
    return 0


if __name__ == "__main__":
    sys.exit(main())
