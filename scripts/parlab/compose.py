"""scripts/compose: the report's words and tables from a run's figures.

Reads RUNDIR/results.csv (scripts/derive), cells.tsv, notes.txt,
machine.txt, run.env, micro.jsonl, and when present metrics.csv,
tables/faults.tsv and the plots; writes RUNDIR/outline.txt and
RUNDIR/tables/*.tsv, which scripts/render-md and scripts/render-html turn
into report.md and index.html, and the targets table (targets.md,
targets.csv).  Every number is written with its 95 % interval; a figure
that is not determined says so.  A section whose data this run did not
measure says so instead of showing empty figures.
"""
import json
import os
import re
import sys

from .files import read_text
from . import cli, contention, headline, micro, targets, verdicts
from .micro import FLOOR_OF
from .derive import read_cells, read_env
from .fmt import est, sig
from .outline import Outline
from .results import Results, read

HERE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def model_order():
    with open(os.path.join(HERE, "benchmarks", "suites", "models")) as f:
        return [l.split()[0] for l in f if l.strip() and not l.startswith("#")]


def machine_field(text, name):
    m = re.search(rf"^{re.escape(name)}:\s*(.*)$", text, re.M)
    return m.group(1).strip() if m else ""


class Run:
    """Everything a section needs to know about the run."""

    def __init__(self, rundir):
        self.dir = rundir
        self.res = Results(read(os.path.join(rundir, "results.csv")))
        self.env = read_env(os.path.join(rundir, "run.env"))
        self.cells = read_cells(os.path.join(rundir, "cells.tsv"))
        self.models = [m for m in model_order()]
        self.cores = int(self.env.get("CORES") or os.cpu_count() or 1)
        self.machine = read_text(os.path.join(rundir, "machine.txt"))
        self.bound = float(self.env.get("BOUND") or 0.05)
        self.micro = micro.Micro(os.path.join(rundir, "micro.jsonl"), self.bound)
        self.metrics = read_metrics(os.path.join(rundir, "metrics.csv"))

    def present(self, suite, workload=None):
        return bool(self.res.find(suite=suite, workload=workload))

    def core_jobs(self, suite="scaling"):
        """The largest worker count of the grid the cores can run at once
        (above it, CPU-bound efficiency falls by construction)."""
        js = [j for j in self.res.jobs(suite) if 1 < j <= self.cores]
        return js[-1] if js else None

    def ordered(self, names):
        return [m for m in self.models if m in names] + [m for m in names if m not in self.models]


def read_metrics(path):
    rows = []
    try:
        with open(path) as f:
            head = f.readline().strip().split(",")
            for line in f:
                rows.append(dict(zip(head, line.strip().split(","))))
    except OSError:
        pass
    return rows


def compose(rundir):
    run = Run(rundir)
    out = Outline(rundir)
    intro(run, out)
    headline.section(run, out)
    targets.section(run, out)
    scaling(run, out)
    granularity(run, out)
    overhead(run, out)
    resources(run, out)
    abstraction(run, out)
    folders(run, out)
    faults(run, out)
    verdicts.section(run, out)
    # Imported here: timelines draws with plots.py, which reads this module.
    from . import timelines
    timelines.section(run, out)
    closing(run, out)
    out.write()
    write_facts(run)


def write_facts(run):
    """RUNDIR/facts.csv: the run as a whole (key,value), for the docs that
    quote it (scripts/doc-figures): how many cells and rounds, how long,
    on what."""
    rounds = [int(r.value) for r in run.res.find(statistic="rounds") if r.value]
    w = contention.witness(run.res.rows, run.cores)
    facts = [
        ("run_id", run.env.get("RUN_ID", os.path.basename(run.dir))),
        ("profile", run.env.get("PROFILE", "")),
        ("cells", len(run.cells)),
        ("failed_cells", sum(c["status"] != "ok" for c in run.cells)),
        ("rounds_min", min(rounds) if rounds else ""),
        ("rounds_max", max(rounds) if rounds else ""),
        ("duration", run.env.get("DURATION", "")),
        ("cpu", machine_field(run.machine, "cpu")),
        ("cores", run.cores),
        ("bound_percent", f"{run.bound * 100:g}"),
        ("contention", "not determined" if not w.determined else
         ("contended" if w.contended else "none seen")),
    ]
    with open(os.path.join(run.dir, "facts.csv"), "w", newline="") as f:
        f.write("key,value\n")
        for k, v in facts:
            f.write(f"{k},{str(v).replace(',', ';')}\n")


# --- the opening --------------------------------------------------------------

def intro(run, out):
    ncells = len(run.cells)
    failed = sum(c["status"] != "ok" for c in run.cells)
    load = machine_field(run.machine, "load at start").split(" (")[0]
    out.h1(f"parlab report {run.env.get('RUN_ID', os.path.basename(run.dir))}")
    rounds = [r.value for r in run.res.find(statistic="rounds") if r.value]
    rtext = (f", each cell timed in {int(min(rounds))} to {int(max(rounds))} interleaved rounds"
             if rounds else "")
    out.p(f"Profile **{run.env.get('PROFILE', '?')}** ({run.env.get('PROFILE_DESC', '')}). "
          f"{ncells} benchmark cells, {failed} failed{rtext}; the run took {run.env.get('DURATION', '?')}. "
          f"Machine: {machine_field(run.machine, 'cpu')}, {run.cores} cores, load {load} at the start "
          f"(see [Machine](#machine)). How to read every figure: `docs/report.md`.")
    out.p("Every figure is the median of its rounds with a 95 % confidence interval in brackets: "
          "median [low, high]. The models compared in a group ran in alternation, round by round, "
          "serial among them, and every ratio (speedup, efficiency, CPU ratio, overhead) is taken "
          "round by round from runs next to each other in time. A figure marked **n.d.** (not "
          "determined) had fewer than 6 rounds, an interval wider than "
          f"±{float(run.env.get('BOUND') or 0.05) * 100:g} % of its median, an interval that holds zero "
          "(a difference of two times), or comes from CPU-bound cells of a contended machine; no verdict "
          "is drawn from it.")
    contention_note(run, out)
    partial = partial_profile(run)
    if partial:
        out.p("**A partial run.** " + partial)
    notes = os.path.join(run.dir, "notes.txt")
    if os.path.exists(notes) and os.path.getsize(notes):
        out.p("What was not run, and why:")
        for n in read_text(notes).splitlines():
            out.li(n)


def contention_note(run, out):
    """What the contention witness saw (scripts/parlab/contention.py)."""
    w = contention.witness(run.res.rows, run.cores)
    if not w.serial and not w.full:
        return
    if not w.determined:
        out.p("**Contention:** not determined: too few rounds for an interval of any CPU share.")
        return
    if not w.contended:
        out.p(f"**Contention:** none seen. Serial kept its CPU in every CPU-bound cell ({len(w.serial)} cells), "
              f"and {len(w.full) - len(w.full_low)} of {len(w.full)} models running squares on {run.cores} "
              "workers kept their CPUs busy (CPU time ÷ (wall × workers) not wholly below 0.9): wall time and "
              "CPU time agree.")
        return
    text = "**The machine was contended.**"
    if w.serial_low:
        worst = min(w.serial_low, key=lambda r: r.value)
        text += (f" Serial, which never waits for anything but a CPU, got {est(worst)} of its CPU "
                 f"(suite {worst.suite}, --work-us {worst.work_us}), in {len(w.serial_low)} of {len(w.serial)} cells.")
    if len(w.full_low) > len(w.full) / 2:
        text += (f" {len(w.full_low)} of {len(w.full)} models running squares on {run.cores} workers got less "
                 "than 90 % of their CPUs: " + ", ".join(f"{r.model} {est(r)}" for r in w.full_low) + ".")
    text += (" A model that gets one CPU of two cannot show what it would do with two, so every CPU-bound "
             "derived figure of this run (speedup, efficiency, CPU ratio and overhead of squares, the minimum "
             "task size, the worker start-up) is marked not determined, and no verdict is drawn from it. The "
             "waiting workloads (sleep, folders) and the pinned micro-benchmarks are not affected.")
    out.p(text)


def partial_profile(run):
    """What a run that did not measure everything leaves out, in words."""
    missing = []
    for suite, what in (("scaling", "wall time and speedup (section 1)"),
                        ("granularity", "the granularity sweep (section 2)"),
                        ("overhead", "per-task overhead (section 3)"),
                        ("folders", "the folder lookup (section 6)")):
        if not run.present(suite):
            missing.append(what)
    if not missing:
        return ""
    return (f"Profile {run.env.get('PROFILE', '?')} did not measure " + ", ".join(missing) +
            ". Those sections and every verdict that needs them say \"not measured in this run\"; "
            "`make report` (the quick profile) measures everything.")


def opens(run, out, title, suite):
    """A section's heading; False, said in the report, when the run did not
    measure its suite."""
    out.h2(title)
    if run.present(suite):
        return True
    out.p(f"Not measured in this run (its profile has no `{suite}` suite).")
    return False


# --- 1. scaling ------------------------------------------------------------------

def scaling(run, out):
    if not opens(run, out, "1. Wall time and speedup against worker count", "scaling"):
        return
    out.p("Each point is the median wall time of the interleaved rounds with its 95 % interval "
          "(error bars); speedup is serial's time ÷ the model's, round by round. The dashed line is "
          "serial; hollow points are not determined. Speedup above the number of cores needs "
          "waiting, not computing: the sleep workload can, squares cannot.")
    for w in sorted({r.workload for r in run.res.find(suite="scaling")}, reverse=True):
        out.h3(w)
        out.img(f"wall_{w}", f"{w}: wall time against worker count")
        out.img(f"speedup_{w}", f"{w}: speedup over serial against worker count")
        jobs = [j for j in run.res.jobs("scaling", w) if any(
            r.model != "serial" for r in run.res.find(suite="scaling", workload=w, jobs=j))]
        header = ["model"] + [h for j in jobs for h in (f"-j {j}: wall (s)", "speedup")]
        rows = []
        serial = run.res.one(suite="scaling", workload=w, model="serial", statistic="wall_s")
        if serial:
            rows.append(["serial"] + [x for j in jobs for x in
                                      ((est(serial, 4), "1 (the baseline)") if j == 1 else ("", ""))])
        for m in run.ordered(run.res.models("scaling", w)):
            if m == "serial":
                continue
            line = [m]
            for j in jobs:
                wall = run.res.one(suite="scaling", workload=w, model=m, jobs=j, statistic="wall_s")
                if wall is None:
                    line += ["not run", ""]
                elif wall.value is None:
                    line += [wall.status, ""]
                else:
                    line += [est(wall, 4), est(run.res.one(suite="scaling", workload=w, model=m,
                                                              jobs=j, statistic="speedup"))]
            rows.append(line)
        out.table(f"scaling_{w}", header, rows,
                  f"{w}: median wall time (s) and speedup over serial, each with its 95 % interval; "
                  "a cell that failed says so.")


# --- 2. granularity ---------------------------------------------------------------

def granularity(run, out):
    if not opens(run, out, "2. Efficiency against task size: the minimum effective granularity", "granularity"):
        return
    j = next((r.jobs for r in run.res.find(suite="granularity") if r.model != "serial"), "?")
    out.p(f"squares with the same total CPU work at every point, cut into tasks of --work-us µs each, on "
          f"{j} workers. Efficiency = serial time ÷ (workers × model time), round by round. A model's "
          "minimum effective task size is the smallest task size from which its efficiency stays "
          "above 50 %: each size counts as above or below 50 % only when its whole interval is, and "
          "the crossing must be consistent with every point of the curve (docs/report.md gives the "
          "rule). Smaller is better: the model can afford finer tasks.")
    out.img("granularity", "Efficiency against task size (95 % intervals; hollow: not determined); "
            "the dashed line is 50 %")
    rows = []
    for m in run.ordered(run.res.models("granularity")):
        g = run.res.one(suite="granularity", model=m, statistic="min_grain_us")
        if g is None:
            continue
        rows.append([m, headline.grain_text(g), g.why or "", str(g.n)])
    out.table("granularity", ["model", "min. effective task size", "how it was found", "sizes"], rows)
    sizes = sorted({float(r.work_us) for r in run.res.find(suite="granularity", statistic="efficiency")})
    header = ["model"] + [f"{s:g} µs" for s in sizes]
    erows = []
    for m in run.ordered(run.res.models("granularity")):
        if m == "serial":
            continue
        line = [m]
        for s in sizes:
            e = next((r for r in run.res.find(suite="granularity", model=m, statistic="efficiency")
                      if float(r.work_us) == s), None)
            line.append(est(e, 2))
        erows.append(line)
    out.table("granularity_efficiency", header, erows, "Efficiency at each task size, with its interval.")


# --- 3. overhead and floors ---------------------------------------------------------

def overhead(run, out):
    out.h2("3. Overhead per task next to the floor under each model")
    if not run.present("overhead"):
        out.p("Not measured in this run (its profile has no `overhead` suite).")
    else:
        out.p("Bare squares (no work per task). Overhead per task = (T_model − T_serial / j) × j / n, "
              "round by round: the worker time each task costs beyond the plain loop. The floor is what "
              "the primitive under the model costs once, measured by build/micro/ in this run under a "
              "stated CPU placement: the mutex+condvar round trip for the thread pools, the pipe round "
              "trip for the process pool, both with the two ends on one core and on two cores; thread "
              "create+join, fork+wait and the OpenMP fork-join or task for the others, unpinned. "
              "pthreads, fork and OpenMP split the range into one share per worker, so they pay their "
              "floor per worker, not per task.")
        out.img("overhead", "Per-task overhead (in the model's colour) and the floor under the model (grey), log scale")
        rows = []
        for m in run.ordered(run.res.models("overhead")):
            if m == "serial":
                continue
            o = run.res.one(suite="overhead", model=m, statistic="overhead_ns_per_task")
            if o is None:
                continue
            floors = run.micro.placements(FLOOR_OF.get(m, ""))
            for f in floors:
                ratio = run.res.one(suite="overhead", model=m, statistic="overhead_over_floor",
                                    placement=f.placement)
                rows.append([m, est(o), f.name, f.placement, est(f, 3),
                             est(ratio, 3) if ratio else "not paired (the floor ran in other rounds)"])
            if not floors:
                rows.append([m, est(o), "not measured in this run", "", "", ""])
        out.table("overhead", ["model", "overhead per task (ns)", "floor", "placement", "floor (ns)",
                               "overhead ÷ floor"], rows,
                  "The floors ran once per round of the overhead group, so overhead ÷ floor is taken round by "
                  "round; every figure with its 95 % interval.")
    starts = []
    for r in run.res.find(suite="floors", statistic="worker_start_us"):
        starts.append([r.model, est(r, 3)])
    out.table("floors", ["model", "start-up cost of one more worker (µs)"], starts,
              "Floors suite: (T(F workers) − T(1 worker)) ÷ extra threads or processes created, round by round.")
    rows = [[f.benchmark, f.name, f.placement, est(f, 4), str(f.n)] for f in run.micro.figures()]
    if rows:
        out.table("micro", ["program", "figure", "placement", "median (ns) [95 % interval]", "rounds"], rows,
                  "Micro-benchmarks run in this report (build/micro/*, --json); figures measured in the "
                  "same rounds of one program are paired by the targets.")


# --- 4. resources ---------------------------------------------------------------------

def resources(run, out):
    if not opens(run, out, "4. Peak memory and threads/processes created", "scaling"):
        return
    out.p("From one run of each cell with --stats (the programs print one JSON line on stderr). Max RSS "
          "is the peak resident memory of the program's own process; a forked child's memory is not in "
          "it. Created counts every thread and process the run started besides the main thread.")
    out.img("memory", "Peak memory per model")
    out.img("created", "Threads and processes created per run")
    maxj = max(run.res.jobs("scaling") or [1])
    rows = []
    for w in ("squares", "sleep"):
        for m in run.ordered(run.res.models("scaling", w)):
            j = 1 if m == "serial" else maxj
            q = dict(suite="scaling", workload=w, model=m, jobs=j)
            rss = run.res.one(statistic="max_rss_kb", **q)
            if rss is None:
                continue
            th = run.res.one(statistic="threads_created", **q)
            pr = run.res.one(statistic="processes_created", **q)
            vc = run.res.one(statistic="voluntary_ctx_switches", **q)
            rows.append([w, m, str(j), f"{rss.value / 1024:.1f}", sig(th and th.value, 6),
                         sig(pr and pr.value, 6), sig(vc and vc.value, 6)])
    out.table("resources", ["workload", "model", "workers", "max RSS (MiB)", "threads created",
                            "processes created", "voluntary ctx switches"], rows)


# --- 5. abstraction against control ------------------------------------------------------

def abstraction(run, out):
    out.h2("5. Abstraction against control")
    if not run.metrics:
        out.p("Not measured in this run (benchmarks/metrics/collect did not run or pmccabe is missing).")
        return
    hj = run.core_jobs()
    out.p("For each model's file of each workload: lines of code (non-blank, non-comment), the concurrency "
          "calls the programmer wrote by hand (counted with the per-model pattern list in "
          "benchmarks/metrics/patterns), and cyclomatic complexity (pmccabe: the sum over the file's "
          "functions, and the largest). Plotted against the efficiency of the same program"
          + (f" at -j {hj} in section 1" if hj else "") + ": the bubble's area grows with the line count.")
    out.img("abstraction", "Concurrency calls written by hand against efficiency; bubble area grows with "
            "lines of code")
    rows = []
    for m in run.metrics:
        e = run.res.one(suite="scaling", workload=m["workload"], model=m["model"], jobs=hj,
                        statistic="efficiency") if hj else None
        rows.append([m["model"], m["workload"], f"`{m['file']}`", m["loc"], m["calls"],
                     m["complexity_sum"], m["complexity_max"], est(e, 3) if e else "–"])
    out.table("metrics", ["model", "workload", "file", "lines", "concurrency calls", "complexity (sum)",
                          "complexity (max)", f"efficiency at -j {hj}" if hj else "efficiency"], rows)


# --- 6. folders -----------------------------------------------------------------------------

def folders(run, out):
    out.h2("6. The folder lookup")
    if not run.present("folders"):
        out.p("Not measured in this run (its profile or selection has no `folders` suite, or "
              "build/*/folders and build/workloads/folder-api-server are not built).")
        return
    lat = run.res.one(suite="folders", statistic="server_latency_ms")
    out.p("Each model looks up the same generated list (`-n` ids, 30 % repeats) on one simulated server "
          f"with {sig(lat.value) if lat else '?'} ms of latency per answer. The **timed cells** use good ids "
          "only (`--bad-percent 0`), so every run exits 0 and hyperfine times it. Their **bound** is distinct "
          "ids × latency / workers (the requests of one worker wait one after the other, and no cache can "
          "save the first request for an id); a model near 1 × its bound wastes nothing, a model far above "
          "it is spending time on something else (start-up, hand-offs, its cache's lock, backoff).")
    out.img("folders_bound", "folders: wall time against its bound (grey) per model")
    rows = []
    for m in run.ordered(run.res.models("folders")):
        for r in run.res.find(suite="folders", model=m, statistic="wall_s"):
            b = run.res.one(suite="folders", model=m, jobs=r.jobs, statistic="bound_s")
            d = run.res.one(suite="folders", model=m, jobs=r.jobs, statistic="distinct_ids")
            wb = run.res.one(suite="folders", model=m, jobs=r.jobs, statistic="wall_over_bound")
            rows.append([m, r.jobs, sig(d and d.value, 6), f"{b.value:.4f}" if b else "–", est(r, 4), est(wb, 3)])
    out.table("folders_bound", ["model", "workers", "distinct ids", "bound (s)", "median wall (s)",
                                "wall ÷ bound"], rows,
              "Timed cells (good ids only): median wall time against the bound, with 95 % intervals.")
    accounting(run, out)
    out.p("Server logs: logs/folder-server.log, logs/folder-account-server.log; the accounting runs' "
          "output: logs/folders-account-*.{out,err}.")


def accounting(run, out):
    if not run.present("folders-account"):
        out.p("No accounting run in this run (the accounting server did not start: "
              "logs/folder-account-server.log).")
        return
    args = read_text(os.path.join(run.dir, "logs", "folder-account-server.args"))
    rate = re.search(r"--error-rate[ =]([0-9.]+)", args)
    m = re.search(r"^account\t.*--bad-percent (\d+)", read_text(os.path.join(run.dir, "plan.tsv")), re.M)
    bad = m.group(1) if m else ""
    out.p(f"**Accounting runs.** After its timed cells, each model runs once more, untimed, at its largest "
          f"worker count, with errors injected: {bad or '?'} % of the distinct ids fail for good (ids ending "
          "in 404 or 403, which the server answers `404 NOT_FOUND` / `403 PERMISSION_DENIED`), and a second "
          f"server sends a transient `503` with probability {rate.group(1) if rate else '0'} (seeded: the same "
          "requests see the same 503s). *Errors injected* = the distinct failing ids the server was asked "
          "for, and the 503s it sent; *errors surfaced* = the distinct ids the program named on stderr and "
          "its exit status. A correct program surfaces every bad id, retries the 503s away, and exits 1. "
          "*Requests per distinct id* is what its cache achieved: 1.00 means one request per id.")
    sums = {}
    for line in read_text(os.path.join(run.dir, "folders-account.jsonl")).splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        sums[rec["model"]] = rec.get("checksum", "")
    rows, ok, per_id, misses = [], 0, {}, []
    for m in run.ordered(run.res.models("folders-account")):
        v = {r.statistic: r for r in run.res.find(suite="folders-account", model=m)}
        first = next(iter(v.values()))
        if first.value is None:
            rows.append([m, first.jobs, f"not measured ({first.status})"] + [""] * 10)
            continue

        def g(name):
            return v[name].value if name in v else None
        same = "–" if not sums.get(m) or not sums.get("serial") else ("yes" if sums[m] == sums["serial"] else "NO")
        rows.append([m, first.jobs, sig(g("distinct_ids"), 6), sig(g("requests_total"), 6),
                     f"{g('requests_per_distinct_id'):.2f}" if g("requests_per_distinct_id") else "–",
                     sig(g("ids_requested_twice"), 6), sig(g("repeated_requests"), 6),
                     sig(g("transient_503_sent"), 6), sig(g("bad_ids_injected"), 6),
                     sig(g("bad_ids_surfaced"), 6), f"{sig(g('error_lines'), 6)} / {sig(g('failed_entries'), 6)}",
                     sig(g("exit_status"), 3), same])
        if g("bad_ids_surfaced") == g("bad_ids_injected") and (not g("bad_ids_injected") or g("exit_status") == 1):
            ok += 1
        per_id[m] = g("requests_per_distinct_id") or 0
        if (g("repeated_requests") or 0) > (g("transient_503_sent") or 0) + (g("rate_limited_429_sent") or 0):
            misses.append(m)
    out.table("folders_account", ["model", "workers", "distinct ids", "requests", "requests per distinct id",
                                  "ids asked twice", "requests beyond one per id (retries)", "503s sent",
                                  "bad ids injected", "bad ids surfaced", "error lines / failed entries",
                                  "exit status", "answers = serial's"], rows,
              "Accounting runs (errors injected; server statistics from GET /stats).")
    if per_id:
        lo, hi = min(per_id.values()), max(per_id.values())
        text = f"{ok} of {len(per_id)} models surfaced exactly the bad ids injected and exited accordingly. "
        text += (f"Every model sent {hi:.2f} requests per distinct id." if lo == hi else
                 f"Requests per distinct id range from {lo:.2f} to {hi:.2f}.")
        if misses:
            text += " More repeated requests than 503s and 429s, so repeats that missed the cache: " + ", ".join(misses) + "."
        elif hi > 1:
            text += " Every request beyond one per id follows a 503 or 429: retries, not cache misses."
        out.p(text)


# --- 7. faults --------------------------------------------------------------------------------

def faults(run, out):
    out.h2("7. Fault isolation: one worker crashes")
    path = os.path.join(run.dir, "tables", "faults.tsv")
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        out.p("Not run in this profile.")
        return
    out.p("One worker of a running squares program is killed (scripts/fault-isolation says how, per model); "
          "what the program does is recorded as it happened.")
    out.lines.append("TABLE tables/faults.tsv\t")


# --- the closing sections ---------------------------------------------------------------------

def closing(run, out):
    out.h2("Failed cells")
    failed = [c for c in run.cells if c["status"] != "ok"]
    if failed:
        out.table("failed", ["cell", "status", "logs"],
                  [[c["id"], c["status"], f"logs/{c['id']}.out, logs/{c['id']}.err"] for c in failed],
                  "A failed cell is left out of the figures; its output is in the logs.")
    else:
        out.p("None: every cell ran and (where serial ran the same inputs) gave serial's checksum.")
    out.h2("Machine")
    out.pre("machine.txt")
    out.h2("Reproduce")
    out.p("Every command this run executed is in commands.txt, in order, with the spin rate it exported; "
          "hyperfine's export of every round is in raw/, every run's time in rounds.csv, the figures in "
          "results.csv.")
    out.link("commands.txt", "commands.txt: every command run")
    out.link("results.csv", "results.csv: every figure with its 95 % interval")
    out.link("rounds.csv", "rounds.csv: every timed run, round by round")


def main(argv=None):
    p = cli.parser("scripts/compose", __doc__)
    p.add_argument("rundir")
    args = p.parse_args(argv)
    if not os.path.exists(os.path.join(args.rundir, "results.csv")):
        p.error(f"{args.rundir} has no results.csv (run scripts/derive first)")
    compose(args.rundir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
