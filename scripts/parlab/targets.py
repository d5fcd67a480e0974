"""scripts/targets: the table of issue 7's six targets for the cf library,
every ratio taken round by round from figures measured in the same rounds
and placement, with its 95 % interval.

Usage: scripts/targets [--quiet] RUNDIR
Writes RUNDIR/targets.csv (target,figure,compared_with,ratio,ratio_lo,
ratio_hi,goal,verdict,command), RUNDIR/targets.md and
RUNDIR/tables/targets.tsv, and prints the table unless --quiet.

A verdict is met when the ratio's whole interval is on the goal's side,
missed when it is wholly on the other side, not determined when the
interval holds the goal or is wider than the bound, and not measured (with
why) when a figure is missing.  A missing figure is never met.

Sources, by key (docs/report.md, "Targets of the cf library"):
  1  peer.cf.tasks_1m_submit, peer.cf.tasks_1m_map against
     peer.glib.tasks_1m (<= 1) and peer.omp.tasks_1m (<= 5), build/micro/peers
  2  cf.thread.submit_result.P and cf.thread.submit_result_spin50.P against
     floor.condvar.P (<= 1.2, <= 0.2), build/micro/cf_overhead, for each
     placement P (same_core, cross_core)
  3  cf.process.submit_result.P (<= 1.5) and cf.process.map.chunk64
     (<= 0.05) against floor.pipe.P, build/micro/cf_process_overhead
  4  min_grain_us of thread-pool against openmp-tasks (<= 2) and of
     thread-pool-batches against pthreads (<= 3): the ratio's bounds from
     the two minimums' intervals
  5  cpython.thread.tasks_submit and cpython.thread.tasks_map against the
     cf figures futures_peer.py measured in the same rounds (>= 50)
  6  sleep_efficiency of thread-pool in the sleepeff suite (>= 0.95)
"""
import csv
import os
import re
import sys

from .files import read_text
from . import cli, stats
from .fmt import est, sig
from .granularity import MinGrain

PLACEMENTS = (("same_core", "same core"), ("cross_core", "across cores"))


class Table:
    def __init__(self, run):
        self.run = run
        self.rows = []
        self.commands = read_text(os.path.join(run.dir, "commands.txt")).splitlines()

    def command(self, needle):
        return next((c for c in self.commands if needle in c and not c.startswith("#")), "")

    def add(self, target, figure, compared, ratio, goal, verdict, command):
        self.rows.append(dict(target=target, figure=figure, compared_with=compared, ratio=ratio,
                              goal=goal, verdict=verdict, command=command))

    # --- micro-benchmark ratios -------------------------------------------------

    def ratio_row(self, target, a, b, op, goal, benchmark, a_label, b_label, invert=False):
        m = self.run.micro
        fa, fb = m.get(a, benchmark), m.get(b, benchmark)
        cmd = self.command(f"/micro/{benchmark}") or self.command(benchmark)
        fig = f"{a_label}: {est(fa, unit='ns') if fa else '–'}"
        cmp = f"{b_label}: {est(fb, unit='ns') if fb else '–'}"
        missing = [(k, f) for k, f in ((a, fa), (b, fb)) if f is None or f.skipped]
        if missing:
            k, f = missing[0]
            why = f"skipped: {f.skipped}" if f is not None else self.why_missing(k, benchmark)
            self.add(target, fig, cmp, None, f"{op} {goal}", f"not measured ({why})", cmd)
            return
        r = m.ratio(fa, fb, invert)
        if r is None:
            self.add(target, fig, cmp, None, f"{op} {goal}",
                     "not determined (the two figures were not measured in the same rounds)", cmd)
            return
        self.add(target, fig, cmp, r, f"{op} {goal}", verdict(r, goal, op), cmd)

    def why_missing(self, key, benchmark):
        if not os.path.exists(os.path.join(self.run.dir, "micro.jsonl")):
            return "no micro.jsonl: scripts/run-micro did not run"
        if any(f.benchmark == benchmark for f in self.run.micro.figures()):
            return f"no record {key} from {benchmark}"
        if self.command(f"/micro/{benchmark}") or self.command(benchmark):
            return f"{benchmark} failed or timed out: logs/micro-{benchmark}.err"
        return f"{benchmark} is not in this run"

    # --- the six targets ---------------------------------------------------------

    def build(self):
        for v, label in (("submit", "cf_submit + result"), ("map", "cf_map, chunksize 1")):
            self.ratio_row("1. 1M empty tasks, per task: cf ≤ GThreadPool", f"peer.cf.tasks_1m_{v}",
                           "peer.glib.tasks_1m", "<=", 1, "peers", f"cf thread backend ({label})", "GThreadPool")
            self.ratio_row("1. 1M empty tasks, per task: cf ≤ 5 × OpenMP task", f"peer.cf.tasks_1m_{v}",
                           "peer.omp.tasks_1m", "<=", 5, "peers", f"cf thread backend ({label})", "OpenMP task")
        for p, words in PLACEMENTS:
            self.ratio_row(f"2. submit + result, idle pool, {words}: ≤ 1.2 × condvar floor",
                           f"cf.thread.submit_result.{p}", f"floor.condvar.{p}", "<=", 1.2, "cf_overhead",
                           "cf (default: sleep at once)", "mutex+condvar round trip")
            self.ratio_row(f"2. submit + result, idle_spin_us=50, {words}: ≤ 0.2 × condvar floor",
                           f"cf.thread.submit_result_spin50.{p}", f"floor.condvar.{p}", "<=", 0.2,
                           "cf_overhead", "cf (idle_spin_us=50)", "mutex+condvar round trip")
        for p, words in PLACEMENTS:
            self.ratio_row(f"3. process backend, one task at a time, {words}: ≤ 1.5 × pipe round trip",
                           f"cf.process.submit_result.{p}", f"floor.pipe.{p}", "<=", 1.5,
                           "cf_process_overhead", "cf process submit + result", "pipe round trip")
            self.ratio_row(f"3. process backend, map with chunksize 64, per task: ≤ 0.05 × pipe round trip ({words})",
                           "cf.process.map.chunk64", f"floor.pipe.{p}", "<=", 0.05, "cf_process_overhead",
                           "cf process map, chunksize 64 (unpinned)", "pipe round trip")
        self.grain_rows()
        self.cpython_rows()
        self.sleep_rows()
        return self.rows

    def grain_rows(self):
        res = self.run.res
        for ours, other, goal, label in (("thread-pool", "openmp-tasks", 2, "OpenMP tasks"),
                                         ("thread-pool-batches", "pthreads", 3, "raw pthreads, static partition")):
            target = f"4. minimum effective task size (50 % efficiency): {ours} ≤ {goal} × {other}"
            a = res.one(suite="granularity", model=ours, statistic="min_grain_us")
            b = res.one(suite="granularity", model=other, statistic="min_grain_us")
            cmd = "granularity suite, squares, same total work per size (commands.txt)"
            fig = f"{ours}: {grain(a)}"
            cmp = f"{label}: {grain(b)}"
            if a is None or b is None:
                why = ("no granularity sweep in this run" if not res.find(suite="granularity")
                       else f"{ours if a is None else other} was not in the sweep")
                self.add(target, fig, cmp, None, f"<= {goal}", f"not measured ({why})", cmd)
                continue
            ga = MinGrain(a.status, a.value, a.ci_lo, a.ci_hi, a.why)
            gb = MinGrain(b.status, b.value, b.ci_lo, b.ci_hi, b.why)
            if not ga.determined or not gb.determined:
                nd = ga if not ga.determined else gb
                self.add(target, fig, cmp, None, f"<= {goal}",
                         f"not determined ({ours if nd is ga else other}: {nd.why})", cmd)
                continue
            lo, hi = ratio_bounds(ga.bounds(), gb.bounds())
            value = ga.value / gb.value if ga.kind == "ok" and gb.kind == "ok" else None
            r = stats.Estimate(value if value is not None else float("nan"), lo, hi, min(a.n, b.n))
            if hi is not None and hi <= goal:
                v = "met"
            elif lo is not None and lo > goal:
                v = "missed"
            else:
                v = "not determined (the two minimums' intervals allow a ratio on both sides of the goal)"
            self.add(target, fig, cmp, r, f"<= {goal}", v, cmd)

    def cpython_rows(self):
        m = self.run.micro
        for v in ("submit", "map"):
            py = m.get(f"cpython.thread.tasks_{v}")
            partner = None
            if py is not None:
                partner = next((f for f in m.figures() if f.benchmark == py.benchmark and f.group == py.group
                                and f.key != py.key and f.key.startswith("peer.cf.") and v in f.key), None)
            cmd = self.command("futures_peer")
            target = "5. per-task cost: CPython ThreadPoolExecutor ≥ 50 × cf"
            fig = f"cf thread backend ({'cf_submit + result' if v == 'submit' else 'cf_map'}): " + \
                (est(partner, unit='ns') if partner else "–")
            cmp = f"CPython ThreadPoolExecutor ({v}): " + (est(py, unit='ns') if py else "–")
            if py is None or py.skipped:
                why = f"skipped: {py.skipped}" if py is not None else "the CPython peer did not run (python3 missing?)"
                self.add(target, fig, cmp, None, ">= 50", f"not measured ({why})", cmd)
                continue
            if partner is None:
                self.add(target, fig, cmp, None, ">= 50",
                         "not measured (futures_peer.py measured no cf figure in the same rounds)", cmd)
                continue
            r = m.ratio(partner, py, invert=True)
            self.add(target, fig, cmp, r, ">= 50", verdict(r, 50, ">=") if r else
                     "not determined (not measured in the same rounds)", cmd)

    def sleep_rows(self):
        res = self.run.res
        rows = res.find(suite="sleepeff", model="thread-pool", statistic="sleep_efficiency")
        if not rows:
            why = "no sleepeff cells in this run" if not res.find(suite="sleepeff") else "thread-pool was not in it"
            self.add("6. sleep efficiency: ≥ 0.95", "thread-pool: –", "serial's wall time (the sum of real sleeps)",
                     None, ">= 0.95", f"not measured ({why})", "")
            return
        for r in sorted(rows, key=lambda r: int(r.jobs)):
            wall = res.one(suite="sleepeff", model="thread-pool", jobs=r.jobs, statistic="wall_s")
            serial = res.one(suite="sleepeff", model="serial", statistic="wall_s")
            self.add(f"6. sleep efficiency, -n {r.tasks} --scale {r.scale}, -j {r.jobs}: ≥ 0.95",
                     f"thread-pool -j {r.jobs}: wall {est(wall, 4, 's')}",
                     f"serial (the sum of the tasks' real sleeps): {est(serial, 4, 's')}",
                     r, ">= 0.95", verdict(r, 0.95, ">="),
                     f"build/executors/sleep --executor thread -j {r.jobs} -n {r.tasks} --scale {r.scale}, "
                     "against build/serial/sleep, interleaved in the sleepeff group (commands.txt)")


def grain(row):
    if row is None:
        return "–"
    return MinGrain(row.status, row.value, row.ci_lo, row.ci_hi, row.why).text()


def ratio_bounds(a, b):
    """The bounds of a / b from the bounds of each (None: unbounded)."""
    alo, ahi = a
    blo, bhi = b
    lo = alo / bhi if alo is not None and bhi else None
    hi = ahi / blo if ahi is not None and blo else None
    return lo, hi


def verdict(e, goal, op):
    if e is None:
        return "not determined"
    v = stats.judge(e, goal, op)
    if v != "not determined":
        return v
    if not e.determined:
        return f"not determined ({e.why})"
    return "not determined (the interval holds the goal)"


def ratio_text(r):
    if r is None:
        return ""
    if r.value is None or r.value != r.value:       # a ratio of bounds: no point value
        lo = sig(r.lo) if r.lo is not None else "0"
        hi = sig(r.hi) if r.hi is not None else "∞"
        return f"[{lo}, {hi}]"
    return est(r)


def summary(rows):
    count = {k: sum(r["verdict"].startswith(k) for r in rows)
             for k in ("met", "missed", "not determined", "not measured")}
    return (f"{count['met']} met, {count['missed']} missed, {count['not determined']} not determined, "
            f"{count['not measured']} not measured (of {len(rows)} rows).")


def write(run, rows):
    with open(os.path.join(run.dir, "targets.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n", quoting=csv.QUOTE_ALL)
        w.writerow(["target", "figure", "compared_with", "ratio", "ratio_lo", "ratio_hi", "goal", "verdict", "command"])
        for r in rows:
            e = r["ratio"]
            value = "" if e is None or e.value is None or e.value != e.value else f"{e.value:.4g}"
            lo = "" if e is None or e.lo is None else f"{e.lo:.4g}"
            hi = "" if e is None or e.hi is None else f"{e.hi:.4g}"
            w.writerow([r["target"], r["figure"], r["compared_with"], value, lo, hi, r["goal"], r["verdict"], r["command"]])
    table = [[r["target"], r["figure"], r["compared_with"], ratio_text(r["ratio"]),
              r["goal"].replace("<=", "≤").replace(">=", "≥"),
              f"**{r['verdict']}**" if re.match(r"^(met|missed)", r["verdict"]) else r["verdict"],
              f"`{r['command']}`" if r["command"] else ""] for r in rows]
    header = ["target", "figure", "compared with", "ratio [95 % interval]", "goal", "verdict", "command"]
    os.makedirs(os.path.join(run.dir, "tables"), exist_ok=True)
    with open(os.path.join(run.dir, "tables", "targets.tsv"), "w") as f:
        for line in [header] + table:
            f.write("\t".join(" ".join(str(c).split()) for c in line) + "\n")
    with open(os.path.join(run.dir, "targets.md"), "w") as f:
        f.write(f"# Targets of the cf library ({run.env.get('RUN_ID') or os.path.basename(os.path.normpath(run.dir))})\n\n")
        f.write(f"Issue 7's six targets, each ratio taken round by round from figures measured in the same "
                f"rounds and CPU placement, with its 95 % interval. {summary(rows)}\n\n")
        f.write("| " + " | ".join(header) + " |\n|" + " --- |" * len(header) + "\n")
        for line in table:
            f.write("| " + " | ".join(str(c).replace("|", "\\|") for c in line) + " |\n")
        f.write("\nHow each figure is measured: docs/report.md, \"Targets of the cf library\".\n")


def section(run, out):
    out.h2("Targets of the cf library")
    rows = Table(run).build()
    write(run, rows)
    out.p("Issue 7 sets the library six targets, each a ratio of two figures measured in the same rounds "
          f"and under the same CPU placement in this run: {summary(rows)} A verdict is **met** or **missed** "
          "only when the ratio's whole 95 % interval lies on one side of the goal; otherwise it is not "
          "determined. A figure that was not measured says why and is never counted as met. The same table "
          "is in [targets.md](targets.md) and [targets.csv](targets.csv); `make targets` measures only what "
          "it needs.")
    out.lines.append("TABLE tables/targets.tsv\t")


def main(argv=None):
    p = cli.parser("scripts/targets", __doc__)
    p.add_argument("-q", "--quiet", action="store_true", help="write the files, print nothing")
    p.add_argument("rundir")
    args = p.parse_args(argv)
    if not os.path.isdir(args.rundir):
        p.error(f"{args.rundir} is not a directory")
    from .compose import Run
    run = Run(args.rundir)
    rows = Table(run).build()
    write(run, rows)
    if not args.quiet:
        print(f"Targets of the cf library ({args.rundir}): {summary(rows)}\n")
        for r in rows:
            print(" | ".join([r["target"], r["figure"], r["compared_with"], ratio_text(r["ratio"]),
                              r["goal"].replace("<=", "≤").replace(">=", "≥"), r["verdict"]]))
        print(f"\nWith the commands: {args.rundir}/targets.md (and targets.csv)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
