"""scripts/derive: results.csv from what a run measured.

Reads RUNDIR/cells.tsv, rounds.csv, plan.tsv, logs/ID.err (the --stats
line), logs/folder-server.args, folders-account.jsonl and micro.jsonl;
writes RUNDIR/results.csv (columns in scripts/parlab/results.py).

Every figure is a median over rounds with its 95 % interval
(scripts/parlab/stats.py).  Derived figures are computed round by round
from the runs of one round of the cell's group, so that both ends of a
ratio met the same load:
  speedup             T_serial / T_model
  efficiency          speedup / workers
  cpu_ratio           (user + system of the model) / (that of serial)
  cpu_share           (user + system) / (wall x min(workers, cores)): the
                      share of its CPUs a CPU-bound program got; well
                      under 1 means it waited for a CPU (a contended
                      machine), squares only
  overhead_ns_per_task (overhead suite) (T_model - T_serial / j) x j / n
  worker_start_us     (floors suite) (T(F workers) - T(1 worker)) / the
                      extra threads and processes created
  sleep_efficiency    (sleepeff suite) the efficiency against serial,
                      whose wall time is the sum of the tasks' real sleeps
  wall_over_bound     (folders suite) wall / bound_s, bound_s = distinct
                      ids x latency / workers (or distinct / --rate)
  min_grain_us        (granularity suite) scripts/parlab/granularity.py
A ratio whose interval is wider than +-BOUND (the profile's, from
run.env, default 0.05) is not determined; so is a difference whose
interval holds zero, and any figure of fewer than 6 rounds; and on a
contended machine (scripts/parlab/contention.py) every CPU-bound derived
figure.
"""
import json
import os
import re
import sys

from .files import read_text
from . import cli, contention, granularity, stats
from .plan import read_plan
from .results import Row, write
from .rounds import group_rounds, read_rounds, series

CPU_BOUND_WORKLOADS = ("squares",)


def read_env(path):
    env = {}
    try:
        with open(path) as f:
            for line in f:
                m = re.match(r"^(\w+)='(.*)'$", line.rstrip("\n"))
                if m:
                    env[m.group(1)] = m.group(2).replace("'\\''", "'")
    except FileNotFoundError:
        pass
    return env


def read_cells(path):
    cells = []
    with open(path) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            p += [""] * (13 - len(p))
            cells.append(dict(id=p[0], suite=p[1], workload=p[2], model=p[3], jobs=int(p[4]),
                              tasks=int(p[5]), work_us=p[6], scale=p[7], status=p[8],
                              checksum=p[9], group=p[11]))
    return cells


def stats_line(path):
    """The program's --stats JSON (its last JSON line on stderr)."""
    try:
        with open(path, errors="replace") as f:
            lines = [l for l in f if l.startswith("{")]
        return json.loads(lines[-1]) if lines else {}
    except (OSError, ValueError):
        return {}


class Deriver:
    def __init__(self, rundir):
        self.dir = rundir
        env = read_env(os.path.join(rundir, "run.env"))
        self.bound = float(env.get("BOUND") or stats.DEFAULT_BOUND)
        self.cores = int(env.get("CORES") or os.cpu_count() or 1)
        self.cells = read_cells(os.path.join(rundir, "cells.tsv"))
        self.samples = read_rounds(os.path.join(rundir, "rounds.csv"))
        plan = os.path.join(rundir, "plan.tsv")
        self.groups = {g.name: g for g in read_plan(plan)[0]} if os.path.exists(plan) else {}
        self.cell_by_id = {c["id"]: c for c in self.cells}
        self.rows = []

    def row(self, cell, statistic, e, unit, placement="unpinned"):
        """A row from an Estimate (or a plain number, n = 1)."""
        r = Row(cell["suite"], cell["workload"], cell["model"], str(cell["jobs"]),
                str(cell["tasks"]), cell["work_us"], cell["scale"], placement, statistic, unit=unit)
        if isinstance(e, stats.Estimate):
            r.value, r.ci_lo, r.ci_hi, r.n, r.status, r.why = e.value, e.lo, e.hi, e.n, e.status, e.why
        elif e is None:
            r.status, r.why = stats.NOT_DETERMINED, "no clean round"
        else:
            r.value, r.n = e, 1
        self.rows.append(r)
        return r

    def rounds_of(self, cell):
        g = self.groups.get(cell["group"])
        return group_rounds(self.samples, [c.id for c in g.cells] if g else [cell["id"]])

    def run(self):
        for cell in self.cells:
            if cell["status"] != "ok":
                r = self.row(cell, "wall_s", None, "s")
                r.status, r.n = cell["status"], 0
                continue
            self.cell_figures(cell)
        self.min_grains()
        self.contended()
        self.accounting()
        self.micro()
        return self.rows

    # --- per cell -----------------------------------------------------------

    def cell_figures(self, cell):
        rounds = self.rounds_of(cell)
        wall = series(self.samples, cell["id"], "wall", rounds)
        cpu = series(self.samples, cell["id"], "cpu", rounds)
        self.row(cell, "wall_s", stats.estimate(wall), "s")
        self.row(cell, "user_s", stats.estimate(series(self.samples, cell["id"], "user", rounds)), "s")
        self.row(cell, "system_s", stats.estimate(series(self.samples, cell["id"], "system", rounds)), "s")
        self.row(cell, "cpu_s", stats.estimate(cpu), "s")
        if cell["workload"] in CPU_BOUND_WORKLOADS:
            width = min(cell["jobs"], self.cores)
            share = stats.paired(cpu, wall, lambda c, w: c / (w * width))
            self.row(cell, "cpu_share", stats.estimate(share), "ratio")
        self.row(cell, "rounds", sum(v is not None for v in wall), "count")
        st = stats_line(os.path.join(self.dir, "logs", cell["id"] + ".err"))
        for key, unit in (("max_rss_kb", "KiB"), ("threads_created", "count"),
                          ("processes_created", "count"), ("voluntary_ctx_switches", "count"),
                          ("involuntary_ctx_switches", "count")):
            if key in st:
                self.row(cell, key, st[key], unit)
        if cell["suite"] == "folders":
            self.folders_figures(cell, wall)
        self.baseline_figures(cell, rounds, wall, cpu, st)

    def baseline(self, cell):
        g = self.groups.get(cell["group"])
        if not g:
            return None
        mine = next((c for c in g.cells if c.id == cell["id"]), None)
        base = g.baseline(mine) if mine else None
        if base is None:
            return None
        b = self.cell_by_id.get(base.id)
        return b if b and b["status"] == "ok" else None

    def baseline_figures(self, cell, rounds, wall, cpu, st):
        base = self.baseline(cell)
        if base is None:
            return
        bwall = series(self.samples, base["id"], "wall", rounds)
        bcpu = series(self.samples, base["id"], "cpu", rounds)
        j, n = cell["jobs"], cell["tasks"]
        if base["model"] == "serial":
            speedup = stats.ratio_samples(bwall, wall)
            self.row(cell, "speedup", stats.estimate(speedup, self.bound), "x")
            eff = stats.estimate([s / j for s in speedup], self.bound)
            self.row(cell, "efficiency", eff, "ratio")
            if cell["suite"] == "sleepeff":
                self.row(cell, "sleep_efficiency", eff, "ratio")
            self.row(cell, "cpu_ratio", stats.estimate(stats.ratio_samples(cpu, bcpu), self.bound), "ratio")
            if cell["suite"] == "overhead" and n > 0:
                over = stats.paired(wall, bwall, lambda t, ts: (t - ts / j) * j / n * 1e9)
                self.row(cell, "overhead_ns_per_task", difference(over), "ns")
                self.over_floor(cell, rounds)
        elif cell["suite"] == "floors":
            bst = stats_line(os.path.join(self.dir, "logs", base["id"] + ".err"))
            made = sum(st.get(k, 0) for k in ("threads_created", "processes_created")) - \
                sum(bst.get(k, 0) for k in ("threads_created", "processes_created"))
            if made > 0:
                start = stats.paired(wall, bwall, lambda t, t1: (t - t1) / made * 1e6)
                self.row(cell, "worker_start_us", difference(start), "us")

    def over_floor(self, cell, rounds):
        """The overhead per task over the floor under the model, round by
        round: the floors ran as probes in the same rounds (scripts/plan)."""
        from .micro import FLOOR_OF, Micro
        if not hasattr(self, "_micro"):
            self._micro = Micro(os.path.join(self.dir, "micro.jsonl"), self.bound)
        wall = series(self.samples, cell["id"], "wall", rounds)
        base = self.baseline(cell)
        bwall = series(self.samples, base["id"], "wall", rounds)
        j, n = cell["jobs"], cell["tasks"]
        for f in self._micro.placements(FLOOR_OF.get(cell["model"], "")):
            if f.group != cell["group"] or len(f.samples) != len(rounds):
                continue
            ratio = [None if t is None or ts is None or not fl else (t - ts / j) * j / n * 1e9 / fl
                     for t, ts, fl in zip(wall, bwall, f.samples)]
            r = self.row(cell, "overhead_over_floor", stats.estimate(ratio, self.bound), "ratio", f.placement)
            if r.status == "ok" or not r.why:
                r.why = f.key
            else:
                r.why = f"{f.key}: {r.why}"

    def folders_figures(self, cell, wall):
        out = read_text(os.path.join(self.dir, "logs", cell["id"] + ".out"))
        m = re.search(r" ids, (\d+) distinct,", out)
        if not m:
            return
        distinct = int(m.group(1))
        args = read_text(os.path.join(self.dir, "logs", "folder-server.args"))
        lat = re.search(r"--latency-ms[ =]([0-9.]+)", args)
        latency = float(lat.group(1)) if lat else 0.0
        self.row(cell, "distinct_ids", distinct, "count")
        self.row(cell, "server_latency_ms", latency, "ms")
        rate = None
        g = self.groups.get(cell["group"])
        mine = next((c for c in g.cells if c.id == cell["id"]), None) if g else None
        if mine:
            m = re.search(r"--rate[ =]([0-9.]+)", mine.extra)
            rate = float(m.group(1)) if m else None
        if rate:
            self.row(cell, "client_rate_per_s", rate, "per s")
        if latency <= 0:
            return
        bound = distinct * latency / 1000 / cell["jobs"]
        if rate and distinct / rate > bound:
            bound = distinct / rate
        self.row(cell, "bound_s", bound, "s")
        self.row(cell, "wall_over_bound",
                 stats.estimate([w / bound for w in wall if w is not None], self.bound), "ratio")

    # --- a contended machine ------------------------------------------------------

    CONTENDED = {"speedup", "efficiency", "cpu_ratio", "overhead_ns_per_task", "overhead_over_floor",
                 "min_grain_us", "worker_start_us"}

    def contended(self):
        """On a contended machine the CPU-bound derived figures measure the
        load as much as the models (scripts/parlab/contention.py): they are
        not determined, whatever their intervals."""
        w = contention.witness(self.rows, self.cores)
        if not w.contended:
            return
        why = w.why()
        for r in self.rows:
            cpu_bound = r.suite in ("overhead", "granularity", "floors") or \
                (r.suite == "scaling" and r.workload in CPU_BOUND_WORKLOADS)
            if cpu_bound and r.statistic in self.CONTENDED and r.value is not None:
                r.why = why + (f"; {r.why}" if r.why and r.status != "ok" else "")
                r.status = stats.NOT_DETERMINED

    # --- granularity ------------------------------------------------------------

    def min_grains(self):
        by_model = {}
        for r in self.rows:
            if r.suite == "granularity" and r.statistic == "efficiency" and r.value is not None:
                by_model.setdefault(r.model, []).append(r)
        for model, rows in by_model.items():
            pts = [granularity.Point(float(r.work_us), r.value, r.ci_lo, r.ci_hi, r.determined) for r in rows]
            g = granularity.min_grain(pts)
            r = Row("granularity", "squares", model, rows[0].jobs, "", "", "1", "unpinned",
                    "min_grain_us", g.value, g.lo, g.hi, "us", len(pts), g.kind, g.why)
            self.rows.append(r)

    # --- folders accounting runs ----------------------------------------------------

    def accounting(self):
        path = os.path.join(self.dir, "folders-account.jsonl")
        if not os.path.exists(path):
            return
        with open(path) as f:
            records = [json.loads(l) for l in f if l.strip()]
        for rec in records:
            cell = dict(suite="folders-account", workload="folders", model=rec["model"],
                        jobs=rec["jobs"], tasks=rec["tasks"], work_us="0", scale="1")
            s = rec.get("server")
            if rec.get("status") != "ok" or not s:
                r = self.row(cell, "requests_total", None, "count")
                r.status, r.n = rec.get("status", "failed"), 0
                continue
            by_status = s.get("by_status") or {}
            bad = [k for k in (s.get("requests_per_id") or {}) if re.search(r"40[34]$", k)]
            distinct = rec.get("distinct")
            figures = [
                ("distinct_ids", distinct, "count"),
                ("requests_total", s.get("requests_total"), "count"),
                ("requests_per_distinct_id",
                 round(s["requests_total"] / distinct, 4) if distinct else None, "ratio"),
                ("ids_requested_twice", s.get("ids_requested_more_than_once"), "count"),
                ("repeated_requests", s.get("repeated_requests"), "count"),
                ("peak_concurrent_requests", s.get("peak_concurrent_requests"), "count"),
                ("bad_ids_injected", len(bad), "count"),
                ("transient_503_sent", by_status.get("503"), "count"),
                ("rate_limited_429_sent", by_status.get("429"), "count"),
                ("bad_ids_surfaced", rec.get("surfaced_ids"), "count"),
                ("error_lines", rec.get("surfaced_lines"), "count"),
                ("failed_entries", rec.get("failed"), "count"),
                ("exit_status", rec.get("exit"), "code"),
            ]
            for name, value, unit in figures:
                if value is not None:
                    self.row(cell, name, value, unit)

    # --- micro-benchmarks -------------------------------------------------------------

    def micro(self):
        from .micro import Micro
        for f in Micro(os.path.join(self.dir, "micro.jsonl"), self.bound).figures():
            cell = dict(suite="micro", workload=f.benchmark, model=f.key, jobs="", tasks="",
                        work_us="", scale="")
            if f.skipped:
                r = self.row(cell, "median_ns", None, "ns", f.placement)
                r.status, r.why = "skipped", str(f.skipped)
            elif f.estimate is not None:
                self.row(cell, "median_ns", f.estimate, "ns", f.placement)


def difference(values):
    """A figure that is a difference of two times: determined only when its
    interval keeps away from zero (its relative width says nothing when
    it is small)."""
    e = stats.estimate(values)
    if e is None:
        return None
    if e.determined and e.lo <= 0 <= e.hi:
        e.status, e.why = stats.NOT_DETERMINED, "its interval holds zero"
    return e


def main(argv=None):
    p = cli.parser("scripts/derive", __doc__)
    p.add_argument("rundir")
    args = p.parse_args(argv)
    if not os.path.exists(os.path.join(args.rundir, "cells.tsv")):
        p.error(f"{args.rundir} is not a report run (no cells.tsv)")
    rows = Deriver(args.rundir).run()
    write(os.path.join(args.rundir, "results.csv"), [r for r in rows if r is not None])
    return 0


if __name__ == "__main__":
    sys.exit(main())
