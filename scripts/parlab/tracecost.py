"""scripts/trace-cost: what --trace costs, measured side by side.

Usage: scripts/trace-cost [--build DIR] [--rounds N] [--models LIST]
                          [--work-us LIST] [--tasks-bare N] [--tasks-work N]
                          [--jobs N] [--csv FILE]

For every model's squares program and every --work-us value (default: bare
tasks and 10 us tasks), runs the program without and with --trace in
paired rounds: each round is one `hyperfine -N --runs 1` over the pair, in
an order that alternates from round to round, so both see the same
machine.  The cost is the traced run's wall time over the plain run's,
taken round by round; the table gives its median and 95 % interval
(scripts/parlab/stats.py) and, for 10 us tasks, the verdict against the
goal of issue 21: tracing costs under 5 % of wall time (ratio < 1.05).
The trace is written at exit and that write counts: it is part of what
a traced run costs.  Each round's traced run writes a new file (removed
after the round, untimed), as a first traced run does.  The spin loop is
calibrated once (build/workloads/spin-calibrate) and its rate given to
every run in PARLAB_SPIN_PER_US, as in the report, unless it is set.

Models: serial, thread-pool, process-pool, pthreads, fork, openmp
(default: all).  Exit status 0 when it ran (whatever the verdicts),
1 when a program failed, 2 for bad usage.
"""
import csv
import json
import os
import shlex
import subprocess
import sys
import tempfile

from . import cli
from .stats import estimate, judge, ratio_samples

MODELS = {
    "serial": ("serial/squares", []),
    "thread-pool": ("executors/squares", ["--executor", "thread"]),
    "process-pool": ("executors/squares", ["--executor", "process", "--chunksize", "64"]),
    "pthreads": ("raw_threads/squares", []),
    "fork": ("raw_processes/squares", []),
    "openmp": ("openmp/squares", []),
}
GOAL = 1.05


def command(build, model, work_us, tasks, jobs, trace):
    prog, extra = MODELS[model]
    cmd = [os.path.join(build, prog), "-n", str(tasks), "-j", str(jobs),
           "--work-us", str(work_us)] + extra
    return cmd + (["--trace", trace] if trace else [])


def one_round(pair, number, scratch):
    """Runs both commands once under hyperfine; their wall times, or None
    when one failed."""
    order = pair if number % 2 else list(reversed(pair))
    out = os.path.join(scratch, "round.json")
    cmd = ["hyperfine", "-N", "--style", "none", "--runs", "1", "--warmup", "0",
           "--export-json", out]
    for name, c in order:
        cmd += ["--command-name", name, shlex.join(c)]
    try:
        done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              timeout=600)
    except subprocess.TimeoutExpired:
        sys.stderr.write("scripts/trace-cost: error: a round took more than 600 s\n")
        return None
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        return None
    with open(out) as f:
        return {r["command"]: r["times"][0] for r in json.load(f)["results"]}


def measure(args, model, work_us, scratch):
    tasks = args.tasks_work if work_us else args.tasks_bare
    plain = command(args.build, model, work_us, tasks, args.jobs, None)
    walls = {"plain": [], "traced": []}
    for number in range(1, args.rounds + 1):
        # A new file each round, removed after it, as a first traced run
        # writes: overwriting the last round's trace would add the
        # truncation of the old file (and ext4's flush at close of a
        # truncated file) to every traced run.
        trace = os.path.join(scratch, f"trace-{number}.json")
        traced = command(args.build, model, work_us, tasks, args.jobs, trace)
        got = one_round([("plain", plain), ("traced", traced)], number, scratch)
        if os.path.exists(trace):
            os.unlink(trace)
        if got is None:
            return None
        for k in walls:
            walls[k].append(got[k])
    shown = command(args.build, model, work_us, tasks, args.jobs, "trace.json")
    return {"model": model, "work_us": work_us, "tasks": tasks, "command": shlex.join(shown),
            "plain": estimate(walls["plain"]), "traced": estimate(walls["traced"]),
            "ratio": estimate(ratio_samples(walls["traced"], walls["plain"]))}


def fmt(e, scale=1.0, digits=3):
    if e is None:
        return "-"
    if e.lo is None:
        return f"{e.value * scale:.{digits}f} (n.d.)"
    return f"{e.value * scale:.{digits}f} [{e.lo * scale:.{digits}f}, {e.hi * scale:.{digits}f}]"


def report(rows):
    print("| model | work per task | tasks | wall without (ms) | wall with --trace (ms) "
          "| traced / plain | under 5 %? |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        verdict = judge(r["ratio"], GOAL, "<=") if r["work_us"] == 10 else "-"
        print(f"| {r['model']} | {r['work_us']} µs | {r['tasks']} | {fmt(r['plain'], 1e3, 1)} "
              f"| {fmt(r['traced'], 1e3, 1)} | {fmt(r['ratio'])} | {verdict} |")


def write_csv(path, rows):
    """One row per model and task size, for the docs (scripts/doc-figures
    source `tracecost`): the ratio with its interval as `text`, the two
    median wall times, and what tracing added per task in ns."""
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["model", "work_us", "tasks", "ratio", "ratio_lo", "ratio_hi", "text",
                      "plain_ms", "traced_ms", "added_ns_per_task", "verdict", "command"])
        for r in rows:
            e = r["ratio"]
            added = (r["traced"].value - r["plain"].value) / r["tasks"] * 1e9
            out.writerow([r["model"], r["work_us"], r["tasks"], f"{e.value:.4f}",
                          "" if e.lo is None else f"{e.lo:.4f}",
                          "" if e.hi is None else f"{e.hi:.4f}", fmt(e),
                          f"{r['plain'].value * 1e3:.2f}", f"{r['traced'].value * 1e3:.2f}",
                          f"{added:.0f}", judge(e, GOAL, "<=") if r["work_us"] == 10 else "",
                          r["command"]])


def parse(argv):
    p = cli.parser("scripts/trace-cost", __doc__)
    p.add_argument("--build", default=os.environ.get("PARLAB_BUILD", "build"))
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--work-us", default="0,10")
    p.add_argument("--tasks-bare", type=int, default=200000)
    p.add_argument("--tasks-work", type=int, default=20000)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--csv")
    args = p.parse_args(argv)
    if args.rounds < 6 or args.rounds > 100:
        p.error("--rounds must be 6 to 100 (a 95 % interval needs 6)")
    args.models = [m for m in args.models.split(",") if m]
    for m in args.models:
        if m not in MODELS:
            p.error(f"unknown model '{m}' (known: {', '.join(MODELS)})")
    try:
        args.work_us = [int(w) for w in args.work_us.split(",") if w != ""]
    except ValueError:
        p.error("--work-us takes whole microseconds separated by commas")
    if min(args.tasks_bare, args.tasks_work, args.jobs) < 1 or min(args.work_us, default=0) < 0:
        p.error("--tasks-bare, --tasks-work and --jobs must be at least 1, --work-us at least 0")
    if not os.path.isdir(args.build):
        p.error(f"no build tree at {args.build} (run make first)")
    return args


def calibrate(build):
    """The spin rate build/workloads/spin-calibrate measures, or None
    (said on stderr) when it cannot."""
    prog = os.path.join(build, "workloads", "spin-calibrate")
    try:
        done = subprocess.run([prog], capture_output=True, text=True, timeout=60)
    except OSError as e:
        sys.stderr.write(f"scripts/trace-cost: error: cannot run {prog}: {e.strerror} "
                         "(run make first)\n")
        return None
    except subprocess.TimeoutExpired:
        sys.stderr.write(f"scripts/trace-cost: error: {prog} took more than 60 s\n")
        return None
    rate = done.stdout.strip()
    if done.returncode != 0 or not rate:
        sys.stderr.write(f"scripts/trace-cost: error: {prog} failed: {done.stderr.strip()}\n")
        return None
    return rate


def main(argv=None):
    args = parse(argv)
    rows = []
    # Calibrated once, as the report's harness does: a program calibrates
    # its spin loop itself otherwise, and the rate it finds varies from
    # run to run, which widens every interval without being tracing's.
    if not os.environ.get("PARLAB_SPIN_PER_US"):
        rate = calibrate(args.build)
        if rate is None:
            return 1
        os.environ["PARLAB_SPIN_PER_US"] = rate
    with tempfile.TemporaryDirectory(prefix="parlab-trace-cost-") as scratch:
        for model in args.models:
            for work_us in args.work_us:
                sys.stderr.write(f"trace-cost: {model}, {work_us} µs per task, "
                                 f"{args.rounds} rounds\n")
                r = measure(args, model, work_us, scratch)
                if r is None:
                    sys.stderr.write(f"trace-cost: {model} failed\n")
                    return 1
                rows.append(r)
    report(rows)
    if args.csv:
        write_csv(args.csv, rows)
    return 0
