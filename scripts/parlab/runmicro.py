"""scripts/run-micro: runs every micro-benchmark of build/micro/ and the
CPython peer (benchmarks/python/futures_peer.py), and collects their
figures into RUNDIR/micro.jsonl.

Each program measures its figures round by round (the figures compared
with each other alternate inside a round) and prints every round's value.
The programs the plan runs as probes (the floors and the library's
hand-off figures, in the rounds of the overhead group) are left to
scripts/run-cells.  It first runs MICRO_ROUNDS rounds; when a figure's 95 % interval is still
wider than +-BOUND of its median, it runs once more for the rounds left
up to MICRO_MAX_ROUNDS, and the second run's rounds are appended to the
first's (pairs stay pairs: round i of one figure and round i of another
come from the same invocation and the same round).  A program that fails
is reported and skipped; without python3 each CPython key gets a record
that says "skipped".  SIGINT, SIGTERM and SIGHUP stop it as they stop
scripts/run-cells: the program running is killed with its process group,
and the status is 128 + the signal's number.
"""
import json
import os
import shlex
import subprocess
import sys
import time

from . import cli, stats
from .runcells import Interrupted, fmt_time, kill_running, run_bounded, stop_on_signals

HERE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CPYTHON_KEYS = ("cpython.thread.tasks_submit", "cpython.thread.tasks_map",
                "cpython.process.tasks_map_chunk1", "cpython.process.tasks_map_chunk64",
                "mpi4py.futures.tasks_submit", "mpi4py.futures.tasks_map_chunk1024",
                "cpython.example.sleep", "c.example.sleep", "cpython.example.squares",
                "c.example.squares", "cpython.example.folders", "c.example.folders")


def records(path):
    out = []
    try:
        with open(path, errors="replace") as f:
            for line in f:
                if line.startswith("{"):
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass
    except OSError:
        pass
    return out


def widest(recs, bound):
    """The widest interval among the figures measured once per round (the
    whole-program examples of futures_peer.py take a best of 3 runs
    instead: more rounds would not give them an interval)."""
    worst = 0.0
    rounds = max((len(r.get("samples_ns") or []) for r in recs), default=0)
    for r in recs:
        if r.get("skipped") or len(r.get("samples_ns") or []) < rounds:
            continue
        e = stats.estimate(r["samples_ns"])
        worst = max(worst, e.relative_halfwidth() if e else float("inf"))
    return worst


def merge(first, second):
    """The second run's rounds appended to the first's, figure by figure
    (by key, else name); a figure only one run has is kept as it is."""
    by = {(r.get("key") or r.get("name")): r for r in second}
    out = []
    for r in first:
        s = by.get(r.get("key") or r.get("name"))
        if s and r.get("samples_ns") and s.get("samples_ns"):
            r = dict(r)
            r["samples_ns"] = r["samples_ns"] + s["samples_ns"]
            r["rounds"] = len(r["samples_ns"])
            e = stats.estimate(r["samples_ns"])
            if e:
                r["median_ns"] = e.value
        out.append(r)
    return out


class MicroRunner:
    def __init__(self, args):
        self.dir = args.rundir
        self.build = os.environ.get("PARLAB_BUILD", "build")
        self.rounds, self.cap, self.bound = args.rounds, args.max_rounds, args.bound
        self.extra = shlex.split(os.environ.get("MICRO_ARGS", ""))
        self.timeout = float(os.environ.get("CELL_TIMEOUT", 120))
        os.makedirs(os.path.join(self.dir, "logs"), exist_ok=True)
        self.out = open(os.path.join(self.dir, "micro.jsonl"), "w")

    def log(self, text):
        with open(os.path.join(self.dir, "commands.txt"), "a") as f:
            f.write(text + "\n")

    def invoke(self, name, cmd, rounds, timeout, attempt):
        full = cmd + ["--json", "--rounds", str(rounds)] + self.extra
        self.log(shlex.join(full))
        out = os.path.join(self.dir, "logs", f"micro-{name}{'.' + str(attempt) if attempt else ''}.out")
        err = os.path.join(self.dir, "logs", f"micro-{name}{'.' + str(attempt) if attempt else ''}.err")
        rc, wall = run_bounded(full, dict(os.environ), timeout, out, err)
        return rc, wall, records(out), err

    def run(self, name, cmd, timeout):
        sys.stderr.write(f"micro     {name} ({self.rounds} rounds) ...")
        sys.stderr.flush()
        rc, wall, recs, err = self.invoke(name, cmd, self.rounds, timeout, 0)
        if rc != 0:
            sys.stderr.write(f" FAILED (exit {rc})\n")
            with open(err, errors="replace") as f:
                for line in f.read().splitlines()[-8:]:
                    sys.stderr.write("    " + line + "\n")
            return
        done = self.rounds
        width = widest(recs, self.bound)
        if width > self.bound and self.cap > done:
            more = self.cap - done
            sys.stderr.write(f" widest ±{width * 100:.1f} %, {more} rounds more ...")
            sys.stderr.flush()
            rc2, wall2, recs2, _ = self.invoke(name, cmd, more, timeout, 1)
            if rc2 == 0 and recs2:
                recs, done, wall = merge(recs, recs2), done + more, wall + wall2
                width = widest(recs, self.bound)
        for r in recs:
            self.out.write(json.dumps(r) + "\n")
        self.out.flush()
        shown = "no interval" if width == float("inf") else f"widest ±{width * 100:.1f} %"
        sys.stderr.write(f" {len(recs)} figures, {done} rounds, {shown}, {fmt_time(wall)}\n")

    def main(self):
        start = time.monotonic()
        micro = os.path.join(self.build, "micro")
        programs = sorted(p for p in os.listdir(micro)) if os.path.isdir(micro) else []
        # The plan's probes run inside the rounds of their group instead
        # (scripts/run-cells): each figure is measured once per report.
        probes = set()
        plan = os.path.join(self.dir, "plan.tsv")
        if os.path.exists(plan):
            from .plan import read_plan
            probes = {p.name for g in read_plan(plan)[0] for p in g.probes}
        for name in sorted(probes & set(programs)):
            sys.stderr.write(f"micro     {name}: runs once per round of its group (scripts/run-cells)\n")
        for p in programs:
            if p in probes:
                continue
            path = os.path.join(micro, p)
            if os.path.isfile(path) and os.access(path, os.X_OK):
                self.run(p, [path], self.timeout)
        peer = os.path.join(HERE, "benchmarks", "python", "futures_peer.py")
        if os.path.realpath(HERE) == os.path.realpath(os.getcwd()):
            peer = "benchmarks/python/futures_peer.py"
        python = subprocess.run(["sh", "-c", "command -v python3"], capture_output=True, text=True).stdout.strip()
        if python:
            # It runs many programs (its examples against ours): three cells' time.
            self.run("futures_peer", [python, peer, "--build", self.build], 3 * self.timeout)
        else:
            sys.stderr.write("micro     futures_peer: skipped: python3 not found\n")
            for key in CPYTHON_KEYS:
                self.out.write(json.dumps({"benchmark": "futures_peer", "key": key,
                                           "name": f"CPython peer: {key}", "skipped": "python3 not found"}) + "\n")
        self.out.close()
        with open(os.path.join(self.dir, "timing-micro.txt"), "w") as f:
            f.write(f"{time.monotonic() - start:.1f}\n")


def main(argv=None):
    env = os.environ
    p = cli.parser("scripts/run-micro", __doc__,
                   epilog="Writes RUNDIR/micro.jsonl (one JSON object per figure), RUNDIR/logs/micro-NAME.*, "
                          "appends the commands to RUNDIR/commands.txt.  Environment: PARLAB_BUILD, "
                          "MICRO_ROUNDS, MICRO_MAX_ROUNDS, BOUND, MICRO_ARGS (more options for every "
                          "program, e.g. --quick), CELL_TIMEOUT.")
    p.add_argument("rundir")
    p.add_argument("--rounds", type=int, default=int(env.get("MICRO_ROUNDS", 8)))
    p.add_argument("--max-rounds", type=int, default=int(env.get("MICRO_MAX_ROUNDS", 16)))
    p.add_argument("--bound", type=float, default=float(env.get("BOUND", stats.DEFAULT_BOUND)))
    args = p.parse_args(argv)
    if not 1 <= args.rounds <= 64 or args.max_rounds > 64:
        p.error("rounds must be 1 to 64")
    stop_on_signals()
    try:
        MicroRunner(args).main()
    except Interrupted as e:
        kill_running()
        sys.stderr.write(f"\nscripts/run-micro: stopped by {e.name}; nothing it started is left running\n")
        return 128 + e.signum
    return 0
