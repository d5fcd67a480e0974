"""results.csv: every figure of a run, one row each, tidy.

Columns:
    suite,workload,model,jobs,tasks,work_us,scale,placement,
    statistic,value,ci_lo,ci_hi,unit,n,status

value is the median of n per-round values (or a single measurement,
n = 1), ci_lo and ci_hi its 95 % interval (empty when there is none);
status is ok, not-determined (too few rounds, an interval wider than the
bound, or a difference whose interval holds zero), or for a cell that did
not run cleanly failed, timeout or wrong (then one row, wall_s, with no
value); min_grain_us rows have the kinds of scripts/parlab/granularity.py
(ok, at-most, between, above-largest, not-determined).  note says why a
figure is not determined, or how a minimum task size was found.  placement is how the figure's threads or processes were placed
on CPUs: unpinned (the scheduler decides: every whole-program cell),
same-core or cross-core (micro-benchmarks).  No field holds a comma.
"""
import csv
from dataclasses import dataclass

COLUMNS = ["suite", "workload", "model", "jobs", "tasks", "work_us", "scale", "placement",
           "statistic", "value", "ci_lo", "ci_hi", "unit", "n", "status", "note"]


@dataclass
class Row:
    suite: str
    workload: str
    model: str
    jobs: str = ""
    tasks: str = ""
    work_us: str = ""
    scale: str = ""
    placement: str = "unpinned"
    statistic: str = ""
    value: object = None
    ci_lo: object = None
    ci_hi: object = None
    unit: str = ""
    n: int = 0
    status: str = "ok"
    why: str = ""           # the note: what made a figure not determined, or how it was found

    @property
    def key(self):
        return (self.suite, self.workload, self.model, str(self.jobs), str(self.tasks),
                str(self.work_us), str(self.scale))

    @property
    def determined(self):
        return self.status == "ok" and self.value is not None

    # The names stats.Estimate uses, so that a row can be judged alike.
    @property
    def lo(self):
        return self.ci_lo

    @property
    def hi(self):
        return self.ci_hi

    def relative_halfwidth(self):
        if self.ci_lo is None or self.ci_hi is None or not self.value:
            return float("inf")
        return max(self.ci_hi - self.value, self.value - self.ci_lo) / abs(self.value)


def number(v):
    """A value as the CSV writes it: enough digits, no exponent for
    ordinary sizes, empty for None."""
    if v is None:
        return ""
    if isinstance(v, int):
        return str(v)
    if v == 0:
        return "0"
    a = abs(v)
    if 1e-4 <= a < 1e9:
        text = f"{v:.6g}" if a >= 1 else f"{v:.6f}".rstrip("0")
        return text.rstrip(".") if "." in text else text
    return f"{v:.6g}"


def write(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        for r in rows:
            w.writerow([number(getattr(r, c)) if c in ("value", "ci_lo", "ci_hi") else
                        str(r.why if c == "note" else getattr(r, c)).replace(",", ";") for c in COLUMNS])


def read(path):
    out = []
    with open(path, newline="", encoding="utf-8") as f:
        for rec in csv.DictReader(f):
            r = Row(**{c: rec[c] for c in COLUMNS if c not in ("value", "ci_lo", "ci_hi", "n", "note")})
            r.why = rec.get("note") or ""
            for c in ("value", "ci_lo", "ci_hi"):
                setattr(r, c, float(rec[c]) if rec[c] != "" else None)
            r.n = int(rec["n"] or 0)
            out.append(r)
    return out


class Results:
    """The rows of a run, looked up by what a table or verdict needs."""

    def __init__(self, rows):
        self.rows = rows

    def find(self, suite=None, workload=None, model=None, statistic=None, jobs=None,
             placement=None, **params):
        out = []
        for r in self.rows:
            if suite is not None and r.suite != suite:
                continue
            if workload is not None and r.workload != workload:
                continue
            if model is not None and r.model != model:
                continue
            if statistic is not None and r.statistic != statistic:
                continue
            if jobs is not None and str(r.jobs) != str(jobs):
                continue
            if placement is not None and r.placement != placement:
                continue
            if any(str(getattr(r, k)) != str(v) for k, v in params.items()):
                continue
            out.append(r)
        return out

    def one(self, **query):
        found = self.find(**query)
        return found[0] if found else None

    def models(self, suite, workload=None):
        seen = []
        for r in self.find(suite=suite, workload=workload):
            if r.model not in seen:
                seen.append(r.model)
        return seen

    def jobs(self, suite, workload=None):
        return sorted({int(r.jobs) for r in self.find(suite=suite, workload=workload) if str(r.jobs).isdigit()})

