"""The micro-benchmarks' figures (RUNDIR/micro.jsonl, scripts/run-micro).

Each line is one figure of one program: its stable key, its name, its CPU
placement (same-core, cross-core or unpinned), its group (the figures a
program measured in the same rounds) and every round's value in
samples_ns.  Two figures of one group are compared round by round.
"""
import json
import os

from . import stats


# The floor under each model (docs/report.md, section 3): the primitive a
# model pays once per task (the pools) or once per worker (the others).
FLOOR_OF = {
    "thread-pool": "floor.condvar", "thread-pool-auto": "floor.condvar",
    "thread-pool-array": "floor.condvar", "thread-pool-batches": "floor.condvar",
    "process-pool": "floor.pipe", "pthreads": "floor.thread_create_join",
    "fork": "floor.fork_wait", "openmp": "floor.omp_fork_join.default", "openmp-tasks": "floor.omp_task",
}


class Figure:
    def __init__(self, rec, bound):
        self.rec = rec
        self.key = rec.get("key") or rec.get("name", "?")
        self.name = rec.get("name", self.key).replace("\t", " ")
        self.benchmark = rec.get("benchmark", "micro")
        self.placement = rec.get("placement") or "unpinned"
        self.group = rec.get("group") or self.benchmark
        self.skipped = rec.get("skipped") or ""
        self.samples = rec.get("samples_ns") or []
        e = stats.estimate(self.samples, bound) if any(v is not None for v in self.samples) else None
        if e is None and isinstance(rec.get("median_ns"), (int, float)) and not self.skipped:
            e = stats.Estimate(float(rec["median_ns"]), n=rec.get("rounds", 1),
                               status=stats.NOT_DETERMINED, why="no per-round samples")
        self.estimate = e

    # The attributes fmt.est reads.
    @property
    def value(self):
        return self.estimate.value if self.estimate else None

    @property
    def ci_lo(self):
        return self.estimate.lo if self.estimate else None

    @property
    def ci_hi(self):
        return self.estimate.hi if self.estimate else None

    @property
    def status(self):
        if self.skipped:
            return "skipped"
        return self.estimate.status if self.estimate else "not-determined"

    @property
    def n(self):
        return self.estimate.n if self.estimate else 0


def probe_records(path):
    """The probes' figures (RUNDIR/probes.jsonl: one line per figure per
    round of a group), as one record per figure: its samples in round
    order, None for a round where the probe failed, and the group's name
    as its group: every probe of a group ran in the same rounds, so any
    two of its figures, of whatever program, are paired by round."""
    by_key, rounds = {}, {}
    if not os.path.exists(path):
        return []
    with open(path) as f:
        for line in f:
            try:
                p = json.loads(line)
            except ValueError:
                continue
            rec, group = p["record"], p["group"]
            key = (group, p["program"], rec.get("key") or rec.get("name"))
            rounds.setdefault(group, set()).add(p["round"])
            entry = by_key.setdefault(key, dict(rec, benchmark=p["program"], group=group, by_round={}))
            values = rec.get("samples_ns") or []
            if rec.get("skipped"):
                entry["skipped"] = rec["skipped"]
            elif values:
                entry["by_round"][p["round"]] = values[0]
    out = []
    for (group, _, _), e in by_key.items():
        order = sorted(rounds[group])
        e["samples_ns"] = [e["by_round"].get(r) for r in order]
        e["rounds"] = sum(v is not None for v in e["samples_ns"])
        del e["by_round"]
        out.append(e)
    return out


class Micro:
    """Every micro-benchmark figure of a run: micro.jsonl (scripts/run-micro)
    and, beside it, probes.jsonl (scripts/run-cells)."""

    def __init__(self, path, bound=stats.DEFAULT_BOUND):
        self.bound = bound
        self.list = []
        if os.path.exists(path):
            with open(path) as f:
                for line in f:
                    line = line.strip()
                    if not line.startswith("{"):
                        continue
                    try:
                        self.list.append(Figure(json.loads(line), bound))
                    except ValueError:
                        continue
        for rec in probe_records(os.path.join(os.path.dirname(path), "probes.jsonl")):
            self.list.append(Figure(rec, bound))

    def figures(self):
        return list(self.list)

    def get(self, key, benchmark=None):
        """The figure of that key (from that program, when given).  A
        program's figure is measured once per report: either by
        scripts/run-micro or as a probe."""
        return next((f for f in self.list if f.key == key and
                     (benchmark is None or f.benchmark == benchmark)), None)

    def placements(self, base):
        """The figures of a key measured under each placement (base.same_core,
        base.cross_core), or the unpinned figure of that key."""
        if not base:
            return []
        found = [f for f in self.list if f.key in (base + ".same_core", base + ".cross_core") and not f.skipped]
        if not found:
            f = self.get(base)
            found = [f] if f and not f.skipped else []
        return found

    def ratio(self, a, b, invert=False):
        """a / b (or b / a) round by round, when both figures come from the
        same rounds of one program; else None."""
        if a is None or b is None or not a.samples or not b.samples:
            return None
        if a.group != b.group or len(a.samples) != len(b.samples):
            return None
        values = stats.ratio_samples(b.samples, a.samples) if invert else stats.ratio_samples(a.samples, b.samples)
        return stats.estimate(values, self.bound)
