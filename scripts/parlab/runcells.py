"""scripts/run-cells: runs the cells of a plan, group by group, the
commands of a group interleaved round by round under hyperfine.

For each group (scripts/plan's `group` lines):
  1. every cell runs once with --stats, serial first: its resource use,
     its checksum (compared with serial's on the same inputs; a cell that
     differs is `wrong`), and a warm-up for what follows.  A cell that
     fails here is reported with its output and left out of the rounds.
  2. rounds: one `hyperfine -N --runs 1` over all the group's cells per
     round, in the plan's order on odd rounds and in reverse on even
     ones, so that drift, load and the position in a round hit every
     command alike.  After MIN_ROUNDS rounds the group stops as soon as
     every figure it is compared on (each cell against its baseline,
     round by round) has a 95 % interval within +-BOUND of its median,
     or at MAX_ROUNDS.
  3. the folders suite's accounting runs (not timed).

SIGINT, SIGTERM and SIGHUP stop the run: the command running (its whole
process group: hyperfine, the program, its workers) is killed, the
servers stopped, what the finished groups measured kept, and the script
says so and exits with 128 + the signal's number.
"""
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections import defaultdict

from . import cli
from . import rounds as rounds_mod
from . import stats
from .plan import read_plan

HERE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# The commands running now (each the leader of its own process group):
# what an interrupted run kills before it exits.
RUNNING = set()
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(BaseException):
    """A stop signal arrived.  A BaseException, as KeyboardInterrupt is:
    no `except Exception` on the way out swallows it."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum
        self.name = signal.Signals(signum).name


def stop_on_signals():
    """SIGINT, SIGTERM and SIGHUP raise Interrupted.  Only the first: the
    handler then ignores all three, so that a second Ctrl-C cannot cut
    short the cleanup (killing a group, stopping a server), which is
    bounded.  A signal ignored on entry (nohup) stays ignored."""
    def stop(signum, frame):
        for s in STOP_SIGNALS:
            signal.signal(s, signal.SIG_IGN)
        raise Interrupted(signum)
    for s in STOP_SIGNALS:
        if signal.getsignal(s) != signal.SIG_IGN:
            signal.signal(s, stop)


def kill_running():
    """Kills every command still running (after Interrupted)."""
    for proc in list(RUNNING):
        kill_group(proc)


def run_bounded(cmd, env, timeout, out_path, err_path):
    """Runs cmd in its own process group with stdout and stderr to files;
    kills the whole group after `timeout` s (status 124, as timeout(1)
    says), or when anything interrupts the wait (a stop signal), before
    passing that on.  Returns (status, wall seconds)."""
    start = time.monotonic()
    with open(out_path, "w") as out, open(err_path, "w") as err:
        try:
            proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as e:
            err.write(f"cannot run {cmd[0]}: {e}\n")
            return 127, 0.0
        RUNNING.add(proc)
        try:
            rc = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            rc = 124
        except BaseException:
            kill_group(proc)
            raise
        finally:
            if proc.returncode is not None:
                RUNNING.discard(proc)
    if rc < 0:
        rc = 128 - rc
    return rc, time.monotonic() - start


def kill_group(proc, grace=5.0):
    """SIGTERM to proc's process group, SIGKILL to whatever of it is left
    after `grace` s.  Left means any member, not only the leader: when
    hyperfine dies of the SIGTERM first, the program it ran (and that
    program's workers) must not outlive it."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        proc.wait()
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        proc.poll()             # a leader not reaped keeps its group alive
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.02)
    else:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def read_models(path):
    """{name: (folder, [arguments])} from benchmarks/suites/models."""
    models = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if line:
                models[line[0]] = (line[1].split(":", 1)[0], line[2:])
    return models


def fmt_time(seconds):
    seconds = int(max(seconds, 0))
    return f"{seconds // 60}:{seconds % 60:02d}"


class Runner:
    def __init__(self, args):
        self.args = args
        self.dir = args.rundir
        self.build = os.environ.get("PARLAB_BUILD", "build")
        if not os.environ.get("PARLAB_SPIN_PER_US"):
            calibrate = os.path.join(self.build, "workloads", "spin-calibrate")
            os.environ["PARLAB_SPIN_PER_US"] = subprocess.run(
                [calibrate], capture_output=True, text=True, check=True).stdout.strip()
        self.models = read_models(os.path.join(HERE, "benchmarks", "suites", "models"))
        self.groups, _ = read_plan(args.plan)
        self.checksums = {}
        self.servers = None
        self.start = time.monotonic()
        self.suite_seconds = defaultdict(float)      # measured, per suite
        self.suite_cells = defaultdict(int)
        self.prior = self.read_prior(args.prior)
        self.rounds_used = []
        self.exec_seconds, self.exec_count = 0.0, 0     # every run of a cell
        self.cells_done, self.current = 0, None
        for sub in ("raw", "logs"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        self.cells_tsv = open(os.path.join(self.dir, "cells.tsv"), "w")
        self.rounds_csv = open(os.path.join(self.dir, "rounds.csv"), "w")
        self.rounds_csv.write(",".join(rounds_mod.HEADER) + "\n")
        self.probes_jsonl = open(os.path.join(self.dir, "probes.jsonl"), "w")
        self.micro_args = shlex.split(os.environ.get("MICRO_ARGS", ""))
        try:
            os.unlink(os.path.join(self.dir, "folders-account.jsonl"))
        except FileNotFoundError:
            pass

    # --- bookkeeping ------------------------------------------------------

    @staticmethod
    def read_prior(path):
        """Seconds per cell of each suite in an earlier run (timing.tsv)."""
        prior = {}
        if path and os.path.exists(path):
            with open(path) as f:
                for line in f:
                    parts = line.rstrip("\n").split("\t")
                    if len(parts) == 3 and parts[0] != "suite" and int(parts[2]) > 0:
                        prior[parts[0]] = float(parts[1]) / int(parts[2])
        return prior

    def log_command(self, text):
        with open(os.path.join(self.dir, "commands.txt"), "a") as f:
            f.write(text + "\n")

    def say(self, text, end="\n"):
        sys.stderr.write(text + end)
        sys.stderr.flush()

    def per_cell(self, suite):
        """Expected seconds per cell of a suite: measured in this run, else
        from the prior run, else the mean of what this run measured."""
        if self.suite_cells[suite]:
            return self.suite_seconds[suite] / self.suite_cells[suite]
        if suite in self.prior:
            return self.prior[suite]
        total = sum(self.suite_cells.values())
        if total:
            return sum(self.suite_seconds.values()) / total
        if self.exec_count:
            # Nothing finished yet: the runs of the first group so far,
            # times the rounds a group is expected to take.
            expected = (self.args.min_rounds + self.args.max_rounds) / 2
            return self.exec_seconds / self.exec_count * (1 + expected)
        return None

    def time_left(self, index, current_left):
        """Seconds left: the rest of the current group, every group after
        it, and what comes after the cells (--after)."""
        left = current_left + self.args.after
        for g in self.groups[index + 1:]:
            each = self.per_cell(g.cells[0].suite if g.cells else g.name)
            if each is None:
                return None
            left += each * max(len(g.cells), 1)
        return left

    def progress(self, index, text, current_left=0.0):
        left = self.time_left(index, current_left)
        tail = f"  ({fmt_time(time.monotonic() - self.start)} elapsed, " + \
            (f"about {fmt_time(left)} left)" if left is not None else "time left: measuring)")
        self.say(f"[{index + 1}/{len(self.groups)}] {text}{tail}")

    # --- one cell ------------------------------------------------------------

    def command(self, cell):
        folder, margs = self.models[cell.model]
        env = dict(os.environ)
        work = cell.work_us
        # A task size that is not a whole number of µs (0.1, 0.3) runs as
        # --work-us 1 with the spin rate scaled by it (docs/report.md).
        if not work.isdigit():
            rate = float(env["PARLAB_SPIN_PER_US"]) * float(work)
            env["PARLAB_SPIN_PER_US"] = f"{rate:.6g}"
            prefix, work = ["env", f"PARLAB_SPIN_PER_US={rate:.6g}"], "1"
        else:
            prefix = []
        extra = cell.extra
        if self.servers:
            for key, url in self.servers.urls.items():
                extra = extra.replace("{" + key + "}", url)
        cmd = [os.path.join(self.build, folder, cell.workload)] + margs + \
            ["-j", str(cell.jobs), "-n", str(cell.tasks), "--work-us", work,
             "--scale", cell.scale] + shlex.split(extra)
        return prefix + cmd, env

    def check_run(self, cell):
        """The --stats run: status, checksum and wall time."""
        cmd, env = self.command(cell)
        self.log_command(f"PARLAB_SPIN_PER_US={os.environ.get('PARLAB_SPIN_PER_US', '')} "
                         f"{shlex.join(cmd)} --stats")
        out = os.path.join(self.dir, "logs", cell.id + ".out")
        err = os.path.join(self.dir, "logs", cell.id + ".err")
        # Through a shell that forks it: a process forked from this Python
        # process keeps Python's peak memory as its own max RSS, even after
        # exec (Linux folds the old memory's high-water mark into it), and
        # --stats would report 14 MiB for every program.
        shell = ["sh", "-c", '"$@"; exit $?', "sh"]
        rc, wall = run_bounded(shell + cmd + ["--stats"], env, self.args.cell_timeout, out, err)
        checksum = ""
        if rc != 0:
            status = "timeout" if rc == 124 else "failed"
            self.say(f"    {cell.label()}: {status.upper()} (exit {rc})\n    $ {shlex.join(cmd)} --stats")
            for path in (out, err):
                with open(path, errors="replace") as f:
                    for line in f.read().splitlines()[-8:]:
                        self.say("    " + line)
            return status, checksum, wall
        with open(out, errors="replace") as f:
            for line in f:
                if "checksum 0x" in line:
                    checksum = line.split("checksum ", 1)[1].split()[0].rstrip(",;)")
                    break
        key = cell.params
        if cell.model == "serial":
            self.checksums[key] = checksum
        elif checksum and self.checksums.get(key) and checksum != self.checksums[key]:
            self.say(f"    {cell.label()}: WRONG RESULT (checksum {checksum}, serial {self.checksums[key]})")
            return "wrong", checksum, wall
        return "ok", checksum, wall

    # --- one group -------------------------------------------------------------

    def hyperfine_round(self, group, cells, number, timeout):
        """One round: each cell once, under one hyperfine call.  Returns
        {cell id: (wall, user, system) or exit status}."""
        order = cells if number % 2 else list(reversed(cells))
        path = os.path.join(self.dir, "raw", f"{group.name}.round-{number:03d}.json")
        cmd = ["hyperfine", "-N", "--style", "none", "--runs", "1", "--warmup", "0", "-i",
               "--export-json", path]
        for c in order:
            cmd += ["--command-name", c.id, shlex.join(self.command(c)[0])]
        self.log_command(f"PARLAB_SPIN_PER_US={os.environ.get('PARLAB_SPIN_PER_US', '')} "
                         f"{shlex.join(cmd)}")
        log = os.path.join(self.dir, "logs", f"{group.name}.hyperfine")
        rc, _ = run_bounded(cmd, dict(os.environ), timeout, log + ".tmp", log + ".tmp.err")
        with open(log, "a") as out:
            for part in (".tmp", ".tmp.err"):
                with open(log + part, errors="replace") as f:
                    out.write(f.read())
                os.unlink(log + part)
        result = {}
        try:
            with open(path) as f:
                data = json.load(f)["results"]
        except (OSError, ValueError, KeyError):
            data = []
        for pos, r in enumerate(data):
            code = (r.get("exit_codes") or [None])[0]
            if code == 0 and r.get("times"):
                result[r["command"]] = (r["times"][0], r.get("user", 0.0), r.get("system", 0.0))
            else:
                result[r["command"]] = code if code is not None else -1
            self.write_round(group, number, pos, r["command"], result[r["command"]])
        for c in order:
            if c.id not in result:      # hyperfine itself failed or timed out
                result[c.id] = 124 if rc == 124 else -1
                self.write_round(group, number, len(result), c.id, result[c.id])
        return result

    def write_round(self, group, number, pos, cell_id, value):
        if isinstance(value, tuple):
            wall, user, system = value
            line = f"{group.name},{number},{pos},{cell_id},{wall:.9f},{user:.6f},{system:.6f},0"
        else:
            line = f"{group.name},{number},{pos},{cell_id},,,,{value}"
        self.rounds_csv.write(line + "\n")
        self.rounds_csv.flush()

    def run_probes(self, group, number, samples):
        """Each probe of the group once (--json --rounds 1): its figures
        join the round.  A probe that fails leaves its figures out of that
        round."""
        for probe in group.probes:
            cmd = shlex.split(probe.command) + ["--json", "--rounds", "1"] + self.micro_args
            if number == 1:
                self.log_command(f"{shlex.join(cmd)}   # once per round of group {group.name}")
            base = os.path.join(self.dir, "logs", f"probe-{probe.name}")
            rc, _ = run_bounded(cmd, dict(os.environ), self.args.cell_timeout, base + ".out", base + ".err")
            if rc != 0:
                self.say(f"    probe {probe.name}: FAILED in round {number} (exit {rc}): logs/probe-{probe.name}.err")
                continue
            with open(base + ".out", errors="replace") as f:
                for line in f:
                    if not line.startswith("{"):
                        continue
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue
                    self.probes_jsonl.write(json.dumps({"group": group.name, "round": number,
                                                        "program": probe.name, "record": rec}) + "\n")
                    values = rec.get("samples_ns") or []
                    if values and not rec.get("skipped"):
                        key = f"probe:{probe.name}:{rec.get('key') or rec.get('name')}"
                        samples[key][number] = (values[0], 0.0, 0.0)
        self.probes_jsonl.flush()

    def run_group(self, index, group):
        began = time.monotonic()
        if any(c.workload == "folders" for c in group.cells + group.accounts) and self.servers is None:
            from .folders_servers import FolderServers
            self.servers = FolderServers(self.build, os.path.join(self.dir, "logs"), os.environ)
            if self.servers.ok:
                self.say(f"folder API server at {self.servers.urls['api']} (log: logs/folder-server.log)")
            else:
                self.say("folder API server did not start (see logs/folder-server.log)")
        ordered = sorted(group.cells, key=lambda c: c.model != "serial")
        what = f"{len(group.cells)} cells, one checked run each (--stats)" if group.cells else "no cells"
        if group.probes:
            what += f"; {len(group.probes)} micro-benchmarks once per round ({', '.join(p.name for p in group.probes)})"
        self.progress(index, f"{group.name}: {what} ...", self.estimate_group(group))
        status, checksum, check_wall = {}, {}, {}
        for c in ordered:
            status[c.id], checksum[c.id], check_wall[c.id] = self.check_run(c)
            self.exec_seconds += check_wall[c.id]
            self.exec_count += 1
        active = [c for c in group.cells if status[c.id] == "ok"]
        samples = defaultdict(dict)
        timeout = max(self.args.cell_timeout, 3 * sum(check_wall[c.id] for c in active) + 10)
        number = 0
        round_began = time.monotonic()
        while (active or group.probes) and number < self.args.max_rounds:
            number += 1
            before = time.monotonic()
            result = self.hyperfine_round(group, active, number, timeout) if active else {}
            self.run_probes(group, number, samples)
            self.exec_seconds += time.monotonic() - before
            self.exec_count += len(active) + len(group.probes)
            for c in list(active):
                value = result.get(c.id)
                if isinstance(value, tuple):
                    samples[c.id][number] = value
                else:
                    status[c.id] = "timeout" if value == 124 else "failed"
                    self.say(f"    {c.label()}: FAILED in round {number} (exit {value}): "
                             f"logs/{group.name}.hyperfine")
                    active.remove(c)
            per_round = (time.monotonic() - round_began) / number
            if number < self.args.min_rounds:
                left = per_round * (self.args.min_rounds - number)
                self.progress(index, f"{group.name}: round {number} of at least {self.args.min_rounds}", left)
                continue
            width, who = rounds_mod.widest(group, samples)
            done = width <= self.args.bound
            left = 0 if done or number >= self.args.max_rounds else per_round * (self.args.max_rounds - number) / 2
            shown = "no interval" if width == float("inf") else f"±{width * 100:.1f} %"
            verdict = "tight enough" if done else (f"at the cap" if number >= self.args.max_rounds else "going on")
            self.progress(index, f"{group.name}: round {number}: widest interval {shown} "
                          f"(bound ±{self.args.bound * 100:g} %, {who}): {verdict}", left)
            if done:
                break
        self.rounds_used.append(number)
        for a in group.accounts:
            self.account(a)
        for c in group.cells:
            walls = [s[0] for s in samples[c.id].values()]
            med = f"{stats.median(walls):.6f}" if walls else ""
            self.cells_tsv.write("\t".join([c.id, c.suite, c.workload, c.model, str(c.jobs), str(c.tasks),
                                            c.work_us, c.scale, status[c.id], checksum[c.id], med,
                                            group.name, str(len(walls))]) + "\n")
        self.cells_tsv.flush()
        suite = group.cells[0].suite if group.cells else group.name
        self.suite_seconds[suite] += time.monotonic() - began
        self.suite_cells[suite] += max(len(group.cells), 1)
        return sum(1 for c in group.cells if status[c.id] != "ok")

    def estimate_group(self, group):
        each = self.per_cell(group.cells[0].suite if group.cells else group.name)
        return each * len(group.cells) if each else 0.0

    def account(self, cell):
        from .folders_servers import account_run
        cmd, env = self.command(cell)
        url = self.servers.urls.get("account_api") if self.servers else ""
        summary = account_run(self.dir, cell, cmd, env, self.args.cell_timeout, url, self.log_command)
        self.say(f"      accounting {cell.label()}, errors injected ... {summary}")

    def run(self):
        failed = 0
        try:
            for i, g in enumerate(self.groups):
                self.current = g.name
                failed += self.run_group(i, g)
                self.cells_done += len(g.cells)
        finally:
            self.close()
        used = sorted(self.rounds_used)
        ncells = self.cells_done
        self.say(f"{ncells - failed} of {ncells} cells ran cleanly in {fmt_time(time.monotonic() - self.start)}"
                 + (f"; rounds per group {used[0]} to {used[-1]} (median {stats.median(used):g})" if used else ""))

    def close(self):
        """Stops the servers and writes what the finished groups measured.
        Once is enough; a second call (after a stop signal cut the first
        short) finishes what the first left."""
        if self.servers:
            self.servers.stop()
        for f in (self.cells_tsv, self.rounds_csv, self.probes_jsonl):
            f.close()
        with open(os.path.join(self.dir, "timing.tsv"), "w") as f:
            f.write("suite\tseconds\tcells\n")
            for s in self.suite_seconds:
                f.write(f"{s}\t{self.suite_seconds[s]:.1f}\t{self.suite_cells[s]}\n")


def main(argv=None):
    p = cli.parser("scripts/run-cells", __doc__, epilog="Writes RUNDIR/cells.tsv (id suite workload model jobs tasks work_us "
                                       "scale status checksum median_wall_s group rounds), RUNDIR/rounds.csv "
                                       "(every run of every round), RUNDIR/raw/GROUP.round-NNN.json "
                                       "(hyperfine's exports), RUNDIR/logs/, RUNDIR/timing.tsv, and appends "
                                       "every command to RUNDIR/commands.txt.  Environment: PARLAB_BUILD, "
                                       "PARLAB_SPIN_PER_US, and from the profile CELL_TIMEOUT, MIN_ROUNDS, "
                                       "MAX_ROUNDS, BOUND, FOLDER_SERVER_ARGS, FOLDER_ACCOUNT_SERVER_ARGS.")
    env = os.environ
    p.add_argument("plan", help="scripts/plan's output")
    p.add_argument("rundir", help="the run's directory")
    p.add_argument("--min-rounds", type=int, default=int(env.get("MIN_ROUNDS", stats.MIN_ROUNDS)))
    p.add_argument("--max-rounds", type=int, default=int(env.get("MAX_ROUNDS", 12)))
    p.add_argument("--bound", type=float, default=float(env.get("BOUND", stats.DEFAULT_BOUND)),
                   help="stop when every interval is within +-BOUND of its median (default 0.05)")
    p.add_argument("--cell-timeout", type=float, default=float(env.get("CELL_TIMEOUT", 120)))
    p.add_argument("--prior", help="an earlier run's timing.tsv, for the first estimates of time left")
    p.add_argument("--after", type=float, default=0.0,
                   help="seconds the steps after the cells are expected to take (in the time left)")
    args = p.parse_args(argv)
    if args.min_rounds < 1 or args.max_rounds < args.min_rounds or args.bound <= 0:
        p.error("need 1 <= MIN_ROUNDS <= MAX_ROUNDS and BOUND > 0")
    if not os.path.isfile(args.plan):
        p.error(f"{args.plan}: no such plan")
    os.makedirs(args.rundir, exist_ok=True)
    stop_on_signals()
    runner = None
    try:
        runner = Runner(args)
        runner.run()
    except Interrupted as e:
        # The handlers ignore every stop signal now: this cleanup runs to
        # its end (each step of it is bounded).
        kill_running()
        if runner:
            runner.close()
        where = f" in group {runner.current} ({runner.cells_done} of " \
            f"{sum(len(g.cells) for g in runner.groups)} cells measured)" if runner and runner.current else ""
        sys.stderr.write(f"scripts/run-cells: stopped by {e.name}{where}; nothing it started is left running\n")
        return 128 + e.signum
    return 0
