#!/usr/bin/env python3
"""CPython's concurrent.futures, the system the tutorial describes, measured
next to parlab's C library on the same machine in the same run.

Two parts (python3 standard library only):

  1. The empty-task loop: N tasks that do nothing, submitted and collected,
     in ns per task: ThreadPoolExecutor(2) with submit + result() and with
     map, ProcessPoolExecutor(2) with map at chunksize 1 and 64, and in the
     same rounds cf's own figures (build/micro/peers --only ...), so that
     CPython's per-task cost and cf's can be compared round by round.
  2. The tutorial's three examples written in Python as the tutorial writes
     them (sleep tasks, squares, the folder-name lookup), each run as a
     program next to our C executors program with the same parameters,
     the two sides in turn: wall time of the whole program, k runs each.

  3. Past one machine: mpi4py.futures (Debian's python3-mpi4py), an
     MPIPoolExecutor of one spawned worker, with submit + result() one task
     at a time and with map at chunksize 1024, next to cf's "mpi" backend
     doing the same (build/micro/cf_mpi_overhead --only ...) in the same
     rounds; the text ends with cf / mpi4py per task.  mpi4py runs under
     an interpreter that has it: this one, else /usr/bin/python3 (the
     pyenv python3 on PATH may lack it); with none, its figures are
     written as skipped with the reason.

Every figure is unpinned (the scheduler places the threads and processes)
and, with --json, carries every round's sample ("samples_ns") and the
"group" of figures measured in the same rounds.

  futures_peer.py [--json] [--quick] [--rounds N] [--build DIR] [--mpi-only]
                  [--csv FILE]
  futures_peer.py --example sleep|squares|folders [-n N] [-j N] [--scale F]
                  [--work-us U] [--api URL] [--ids FILE] [--dup-percent P]
                  [--bad-percent P] [--print]

The second form runs one example by itself, as a student would: with no
options it prints what the tutorial prints.  docs/report.md ("Peers")
explains every figure.
"""

import argparse
import csv
import json
import math
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import (ProcessPoolExecutor, ThreadPoolExecutor,
                                as_completed)

PROG = "futures_peer.py"
BENCHMARK = "futures_peer"
WORKERS = 2
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Every key this program writes, in the order of the output; run-micro
# writes the same list as "skipped" records when there is no python3.
KEYS = [
    "cpython.thread.tasks_submit", "cpython.thread.tasks_map",
    "cpython.process.tasks_map_chunk1", "cpython.process.tasks_map_chunk64",
    "peer.cf.tasks_1m_submit", "peer.cf.tasks_1m_map",
    "mpi4py.futures.tasks_submit", "mpi4py.futures.tasks_map_chunk1024",
    "cf.mpi.submit_result", "cf.mpi.map.chunk1024",
    "cpython.example.sleep", "c.example.sleep",
    "cpython.example.squares", "c.example.squares",
    "cpython.example.folders", "c.example.folders",
]


def die(message, status=2):
    print(f"{PROG}: error: {message}", file=sys.stderr)
    sys.exit(status)


# ---- the CPU spin: --work-us U of real work per task ------------------------
#
# Like workloads/spin.c: a fixed number of loop iterations, measured once
# per run in iterations per microsecond, so that it is work and not
# waiting.  The driver calibrates once and hands the rate to every program
# it starts through PARLAB_PY_SPIN_PER_US (the C programs get
# PARLAB_SPIN_PER_US the same way), so no run pays a calibration.

def spin_iterations(n):
    x = 0
    for i in range(n):
        x += i
    return x


def spin_calibrate():
    n = 200_000
    best = min(_timed(spin_iterations, n) for _ in range(5))
    return n / (best * 1e6)


def _timed(fn, *args):
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


_spin_per_us = None


def set_spin_rate(rate):
    """A pool's initializer: the calibrated rate, in every worker process."""
    global _spin_per_us
    _spin_per_us = rate


def spin_us(us):
    global _spin_per_us
    if us <= 0:
        return 0
    if _spin_per_us is None:
        env = os.environ.get("PARLAB_PY_SPIN_PER_US")
        _spin_per_us = float(env) if env else spin_calibrate()
    return spin_iterations(int(us * _spin_per_us))


# ---- the three examples, as the tutorial writes them ------------------------

SEED_SECONDS = [3, 1, 2]
SEED_IDS = [1234, 5678, 9012, 1234, 3456, 7890, 5678, 2468, 1234, 1357]
# -n's generated lists, as workloads/folders_work.h defaults them.
DUP_PERCENT = 30
BAD_PERCENT = 10
_MASK64 = (1 << 64) - 1


def generate_ids(n, dup=DUP_PERCENT, bad=BAD_PERCENT):
    """-n N: the list the C programs generate (generate_ids() in
    workloads/folders_work.c, the same splitmix64 stream from the same
    seed, so the same list): `dup` percent of the N ids repeat an earlier
    distinct id, `bad` percent of the distinct ids fail (ending in 404 and
    403 in turn)."""
    state = 0x70617261  # fixed: the list is an input

    def below(k):  # a number in [0, k)
        nonlocal state
        state = (state + 0x9E3779B97F4A7C15) & _MASK64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        return (z ^ (z >> 31)) % k

    def percent_of(count, percent):
        return (count * percent + 50) // 100

    dups = min(percent_of(n, dup), n - 1) if n > 0 else 0  # the first id is new
    distinct = n - dups
    bads = percent_of(distinct, bad)
    ids, news, used, bad_seen = [], [], set(), 0
    for i in range(n):
        if i > 0 and below(n - i) < dups - (i - len(news)):
            ids.append(news[below(len(news))])
            continue
        # A new id: good ones are 4 to 9 digits and never end in 403/404.
        is_bad = below(distinct - len(news)) < bads - bad_seen
        while True:
            new = 1000 + below(999_999_000)
            if is_bad:
                new = new // 1000 * 1000 + (403 if bad_seen % 2 else 404)
            if (is_bad or new % 1000 not in (403, 404)) and new not in used:
                break
        used.add(new)
        news.append(new)
        ids.append(new)
        bad_seen += is_bad
    return ids


def task(n, scale=1.0, work_us=0):
    """The tutorial's task(n): sleeps n seconds (times --scale)."""
    time.sleep(n * scale)
    spin_us(work_us)
    return f"Task {n} completed"


def example_sleep(o):
    count = 0
    with ThreadPoolExecutor(max_workers=o.workers) as executor:
        futures = [executor.submit(task, SEED_SECONDS[i % 3], o.scale, o.work_us)
                   for i in range(o.tasks)]
        for future in as_completed(futures):  # in completion order
            message = future.result()
            count += 1
            if o.print:
                print(message, flush=True)
    return f"{count} tasks"


def square(n, work_us=0):
    """The tutorial's square(n), with --work-us of CPU first."""
    spin_us(work_us)
    return n * n


def example_squares(o):
    # The initializer is the one addition to the tutorial's code: it hands
    # every worker process the spin rate, whatever the start method.
    with ProcessPoolExecutor(max_workers=o.workers, initializer=set_spin_rate,
                             initargs=(_spin_per_us,)) as executor:
        results = executor.map(square, range(o.tasks), [o.work_us] * o.tasks)
        results = list(results)
    if o.print:
        print(results)
    return f"{len(results)} results, sum {sum(results)}"


folder_cache = {}


def fetch_folder_name(api, folder_id):
    """The tutorial's fetch_folder_name: the cache is checked in the task."""
    if folder_id in folder_cache:  # check the cache
        return folder_cache[folder_id]
    try:
        # The tutorial pauses here (time.sleep(0.1), "rate limit"); the C
        # programs are run without --rate, so there is no pause here either.
        with urllib.request.urlopen(f"{api}/v3/folders/{folder_id}", timeout=30) as answer:
            folder_name = json.load(answer)["displayName"]
        folder_cache[folder_id] = folder_name
        return folder_name
    except Exception as e:  # noqa: BLE001 -- the tutorial's catch-all
        print(f"Error retrieving folder {folder_id}: {e}", file=sys.stderr)
        return None


def get_folder_names(api, folder_id_list, workers):
    folder_names = {}
    with ThreadPoolExecutor(max_workers=workers) as executor:
        future_to_id = {
            executor.submit(fetch_folder_name, api, folder_id): (idx, folder_id)
            for idx, folder_id in enumerate(folder_id_list)
        }
        for future in as_completed(future_to_id):
            idx, folder_id = future_to_id[future]
            try:
                name = future.result()
                if name:  # only valid names
                    folder_names[f"folder_{idx}_name"] = name
            except Exception as e:  # noqa: BLE001
                print(f"Error in future for folder {folder_id}: {e}", file=sys.stderr)
    return folder_names


def read_ids(path):
    text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
    ids = []
    for line in text.splitlines():
        for word in line.split("#", 1)[0].replace(",", " ").split():
            if not word.isdigit() or len(word) > 18 or (len(word) > 1 and word[0] == "0"):
                die(f"--ids: '{word}' is not a folder id")
            ids.append(int(word))
    return ids


def example_folders(o):
    # As the C programs: --ids FILE (its first N with -n), else -n N
    # generated ids, else the seed's ten.
    if o.ids:
        ids = read_ids(o.ids)
        if o.tasks_given:
            ids = ids[:o.tasks]
    elif o.tasks_given:
        ids = generate_ids(o.tasks, o.dup_percent, o.bad_percent)
    else:
        ids = SEED_IDS
    server = None
    api = o.api
    if not api:  # our own server, as the C programs start one
        server = FolderServer(build_dir(o.build), latency_ms=100 * o.scale)
        api = server.url
    try:
        names = get_folder_names(api.rstrip("/"), ids, o.workers)
    finally:
        if server:
            server.stop()
    # Sorted by index, as the C programs print them.
    names = dict(sorted(names.items(), key=lambda kv: int(kv[0].split("_")[1])))
    if o.print:
        print(json.dumps(names, indent=2, ensure_ascii=False))
    failed = len(ids) - len(names)
    summary = f"{len(ids)} ids, {len(set(ids))} distinct, {failed} failed"
    return summary, 1 if failed else 0


EXAMPLES = {"sleep": example_sleep, "squares": example_squares, "folders": example_folders}
# The seed's worker counts, as the C programs default to them.
DEFAULT_WORKERS = {"sleep": 3, "squares": 4, "folders": 5}


def run_example(o):
    if o.workers is None:
        o.workers = DEFAULT_WORKERS[o.example]
    o.tasks_given = o.tasks is not None
    if o.tasks is None:
        o.tasks = {"sleep": 3, "squares": 10, "folders": len(SEED_IDS)}[o.example]
        o.print = True  # no -n: the tutorial's output
    if o.work_us > 0:  # calibrate before the clock starts, as spin.c does
        env = os.environ.get("PARLAB_PY_SPIN_PER_US")
        set_spin_rate(float(env) if env else spin_calibrate())
    start = time.perf_counter()
    summary = EXAMPLES[o.example](o)
    wall = time.perf_counter() - start
    # folders exits 1 when some folder has no name, as the C programs do.
    summary, status = summary if isinstance(summary, tuple) else (summary, 0)
    if not o.print:
        print(f"python/{o.example}: {summary}, wall {wall:.3f} s")
    return status


# ---- the folder API server of this repository -------------------------------

def build_dir(build):
    path = build or os.environ.get("PARLAB_BUILD") or "build"
    return path if os.path.isabs(path) else os.path.join(ROOT, path)


class FolderServer:
    """workloads/folder_server, started on a free port (--port-file)."""

    def __init__(self, build, latency_ms):
        binary = os.path.join(build, "workloads", "folder-api-server")
        if not os.access(binary, os.X_OK):
            raise FileNotFoundError(f"{binary} is not built (make)")
        self.tmp = tempfile.TemporaryDirectory(prefix="parlab-peer-")
        port_file = os.path.join(self.tmp.name, "port")
        self.proc = subprocess.Popen(
            [binary, "--port", "0", "--port-file", port_file,
             "--latency-ms", str(int(round(latency_ms)))],
            stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"folder-api-server exited with status {self.proc.returncode}")
            try:
                with open(port_file, encoding="ascii") as f:
                    port = int(f.read().strip())
                break
            except (OSError, ValueError):
                time.sleep(0.01)
        else:
            self.stop()
            raise RuntimeError("folder-api-server did not report its port within 10 s")
        self.url = f"http://127.0.0.1:{port}"

    def stats(self, reset=False):
        request = urllib.request.Request(self.url + ("/stats/reset" if reset else "/stats"),
                                         method="POST" if reset else "GET")
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.load(answer)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.tmp.cleanup()


# ---- part 1: the empty-task loop --------------------------------------------

def empty(_=None):
    return None


def thread_submit_ns(tasks):
    with ThreadPoolExecutor(max_workers=WORKERS) as executor:
        for f in [executor.submit(empty) for _ in range(WORKERS)]:
            f.result()
        start = time.perf_counter()
        futures = [executor.submit(empty) for _ in range(tasks)]
        for f in futures:
            f.result()
        elapsed = time.perf_counter() - start
    return elapsed * 1e9 / tasks


def map_ns(executor_class, tasks, chunksize):
    with executor_class(max_workers=WORKERS) as executor:
        list(executor.map(empty, range(WORKERS * 2)))  # start the workers
        start = time.perf_counter()
        got = sum(1 for _ in executor.map(empty, range(tasks), chunksize=chunksize))
        elapsed = time.perf_counter() - start
    if got != tasks:
        die(f"map gave {got} results for {tasks} tasks", 1)
    return elapsed * 1e9 / tasks


def summarize(samples):
    ordered = sorted(samples)
    n = len(ordered)
    return {"median_ns": statistics.median(ordered),
            "p90_ns": ordered[int(0.9 * (n - 1) + 0.5)],
            "min_ns": ordered[0], "rounds": n}


# ---- output -----------------------------------------------------------------

class Output:
    def __init__(self, as_json):
        self.json = as_json
        self.keys = set()

    def row(self, key, name, samples, group, **extra):
        """A figure: every round's sample, in order, and what they give."""
        self.keys.add(key)
        s = summarize(samples)
        name = f"{name}, unpinned"
        if self.json:
            record = {"benchmark": BENCHMARK, "key": key, "name": name, "group": group,
                      "placement": "unpinned", "cpus": "",
                      "median_ns": round(s["median_ns"], 1), "p90_ns": round(s["p90_ns"], 1),
                      "min_ns": round(s["min_ns"], 1), "rounds": s["rounds"],
                      "samples_ns": [round(v, 1) for v in samples]}
            record.update(extra)
            print(json.dumps(record, separators=(",", ":")), flush=True)
        elif "wall_s_best" in extra:
            notes = [f"median {s['median_ns'] / 1e9:.3f} s"]
            if "inner_wall_s_best" in extra:
                notes.append(f"work {extra['inner_wall_s_best']:.3f} s")
            if "startup_s" in extra:
                notes.append(f"interpreter start {extra['startup_s']:.3f} s")
            if "py_spin_us_measured" in extra and "startup_s" in extra:
                notes.append(f"--work-us {extra['work_us']} measured: Python "
                             f"{extra['py_spin_us_measured']} us, C "
                             f"{extra.get('c_spin_us_measured', '?')} us")
            if "requests_per_run" in extra:
                notes.append(f"{extra['requests_per_run']} requests, {extra['failed']} failed")
            print(f"  {name:<68} {s['min_ns'] / 1e9:9.3f} s  ({', '.join(notes)})", flush=True)
        else:
            print(f"  {name:<68} {s['median_ns']:10.1f} {s['p90_ns']:10.1f}", flush=True)

    def skipped(self, key, name, why, group=BENCHMARK):
        self.keys.add(key)
        print(f"{PROG}: {name}: skipped: {why}", file=sys.stderr)
        if self.json:
            print(json.dumps({"benchmark": BENCHMARK, "key": key, "name": name, "group": group,
                              "placement": "unpinned", "cpus": "", "skipped": why},
                             separators=(",", ":")), flush=True)

    def text(self, line):
        if not self.json:
            print(line, flush=True)


# ---- part 2: the examples, Python next to C ---------------------------------
#
# Each example is run as a program on both sides, so that both walls
# include what a user waits for: the C program's start and the Python
# interpreter's (its start-up with the imports is measured and recorded
# apart, "startup_s").  Both print a summary line ending in "wall S s", the
# time of the work alone; it is recorded as "inner_wall_s_best".

def timed_run(argv, env, timeout):
    """Wall seconds of one run of argv, and what it gave."""
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout, check=False)
    return time.perf_counter() - start, done


def inner_wall(stdout):
    """The S of the last "wall S s" in a summary line, or None."""
    words = stdout.replace(",", " ").split()
    for i in range(len(words) - 2, 0, -1):
        if words[i - 1] == "wall" and words[i + 1] == "s":
            try:
                return float(words[i])
            except ValueError:
                return None
    return None


def summary_field(text, word):
    """The number before `word` in a summary line ("3 failed" -> 3)."""
    parts = text.replace(",", " ").split()
    for i in range(1, len(parts)):
        if parts[i] == word and parts[i - 1].isdigit():
            return int(parts[i - 1])
    return None


def spin_per_us_c(build):
    if os.environ.get("PARLAB_SPIN_PER_US"):
        return os.environ["PARLAB_SPIN_PER_US"]
    tool = os.path.join(build, "workloads", "spin-calibrate")
    if not os.access(tool, os.X_OK):
        return None
    done = subprocess.run([tool], capture_output=True, text=True, timeout=30, check=False)
    return done.stdout.strip() if done.returncode == 0 else None


def measure_work(build, env, work_us):
    """What --work-us really costs per task on each side, best of several:
    the C spin from the serial squares program's own wall over 1,000
    tasks, the Python spin timed directly over 1,000 calls.  Both should
    be near work_us."""
    fields = {"work_us": work_us}
    best = min(_timed(lambda: [spin_us(work_us) for _ in range(1000)]) for _ in range(3))
    fields["py_spin_us_measured"] = round(best * 1e6 / 1000, 1)
    serial = os.path.join(build, "serial", "squares")
    if os.access(serial, os.X_OK):
        walls = [inner_wall(timed_run([serial, "-n", "1000", "--work-us", str(work_us)],
                                      env, 60)[1].stdout) for _ in range(3)]
        walls = [w for w in walls if w]
        if walls:
            fields["c_spin_us_measured"] = round(min(walls) * 1e6 / 1000, 1)
    return fields


def python_startup(env, k):
    """Best of k starts of the interpreter with the examples' imports."""
    argv = [sys.executable, "-c", "import concurrent.futures, json, urllib.request"]
    return round(min(timed_run(argv, env, 60)[0] for _ in range(k)), 4)


def compare(out, name, params, py_args, c_args, env, k, timeout, extra, py_extra,
            server=None):
    """Runs one example on both sides, k times each, the two sides in turn
    (Python, C, Python, C, ...: run i of each side next to the other's in
    time), and writes their two records, group futures_peer.example.NAME.
    params: the options both share, for the label; *_args: each side's
    whole command line after the program."""
    group = f"{BENCHMARK}.example.{name}"
    sides = [("cpython", "Python",
              [sys.executable, os.path.abspath(__file__), "--example", name] + py_args,
              ["python3", "benchmarks/python/futures_peer.py", "--example", name] + py_args),
             ("c", f"C executors/{name}", c_args, [os.path.relpath(c_args[0], ROOT)] + c_args[1:])]
    # folders exits 1 when some folders failed, as some ids do on purpose.
    ok_status = (0, 1) if name == "folders" else (0,)
    runs = []
    for side, who, argv, shown in sides:
        key = f"{side}.example.{name}"
        if side == "c" and not os.access(argv[0], os.X_OK):
            out.skipped(key, f"example {name}: C", f"{argv[0]} is not built (make)", group)
            continue
        runs.append({"side": side, "who": who, "argv": argv, "shown": shown, "key": key,
                     "walls": [], "inner": [], "requests": 0, "stdout": "", "error": None})
    for _ in range(k):
        for r in runs:
            if r["error"]:
                continue
            try:
                if server:
                    server.stats(reset=True)
                wall, done = timed_run(r["argv"], env, timeout)
                if done.returncode not in ok_status:
                    tail = (done.stderr.strip().splitlines() or ["no message"])[-1]
                    raise RuntimeError(f"{os.path.basename(r['argv'][0])} exited "
                                       f"{done.returncode}: {tail}")
                if server:
                    r["requests"] += server.stats()["requests_total"]
            except (RuntimeError, subprocess.TimeoutExpired, OSError, ValueError) as e:
                r["error"] = str(e)
                continue
            r["walls"].append(wall)
            r["stdout"] = done.stdout
            w = inner_wall(done.stdout)
            if w is not None:
                r["inner"].append(w)
    for r in runs:
        if r["error"]:
            out.skipped(r["key"], f"example {name}: {r['who']}", r["error"], group)
            continue
        fields = dict(extra, **(py_extra if r["side"] == "cpython" else {}))
        if server:
            fields["requests_per_run"] = r["requests"] // k
            fields["failed"] = summary_field(r["stdout"], "failed")
        if r["inner"]:
            fields["inner_wall_s_best"] = round(min(r["inner"]), 4)
        shown = r["shown"]
        if server:  # the server's port and the ids file change every run
            shown = [{server.url: "URL"}.get(w, w) for w in shown]
            shown = ["IDS" if w.startswith(tempfile.gettempdir()) else w for w in shown]
        out.row(r["key"], f"{name}: {r['who']} {' '.join(params)}",
                [w * 1e9 for w in r["walls"]], group, wall_s_best=round(min(r["walls"]), 4),
                command=" ".join(shown), **fields)


def run_examples(out, args, env, k, timeout):
    build = build_dir(args.build)
    quick = args.quick
    c_spin = spin_per_us_c(build)
    if c_spin:
        env["PARLAB_SPIN_PER_US"] = c_spin
    env["PARLAB_PY_SPIN_PER_US"] = repr(_spin_per_us)
    startup = {"startup_s": python_startup(env, k)}

    def prog(name):
        return os.path.join(build, "executors", name)

    p = ["-n", "6" if quick else "30", "-j", "3", "--scale", "0.01" if quick else "0.02"]
    compare(out, "sleep", p, p, [prog("sleep")] + p, env, k, timeout, {}, startup)

    p = ["-n", "100" if quick else "2000", "-j", str(WORKERS), "--work-us", "100"]
    compare(out, "squares", p, p, [prog("squares")] + p + ["--executor", "process"],
            env, k, timeout, measure_work(build, env, 100), startup)

    scale = 0.2
    p = ["-n", "20" if quick else "200", "-j", "5", "--scale", str(scale)]
    try:
        server = FolderServer(build, latency_ms=100 * scale)
    except (OSError, RuntimeError) as e:
        for side in ("cpython", "c"):
            out.skipped(f"{side}.example.folders", "example folders", str(e),
                        f"{BENCHMARK}.example.folders")
        return
    ids_file = None
    try:
        with tempfile.NamedTemporaryFile("w", prefix="parlab-ids-", suffix=".txt",
                                         delete=False) as f:
            f.write("\n".join(str(i) for i in generate_ids(int(p[1]))) + "\n")
            ids_file = f.name
        given = p + ["--api", server.url, "--ids", ids_file]
        compare(out, "folders", p, given, [prog("folders")] + given, env, k, timeout,
                {"latency_ms": 100 * scale}, startup, server)
    finally:
        server.stop()
        if ids_file:
            os.unlink(ids_file)


# ---- the driver -------------------------------------------------------------

CF_KEYS = ("peer.cf.tasks_1m_submit", "peer.cf.tasks_1m_map")
# cf's "mpi" backend, one task at a time and mapped, as mpi4py is below.
CF_MPI_KEYS = ("cf.mpi.submit_result", "cf.mpi.map.chunk1024")


class CfPeer:
    """cf's per-task figures, one round per call of build/micro/PROGRAM
    --only ... --rounds 1, so that they fall in this program's rounds next
    to CPython's.  After a failure it measures nothing more, and its
    figures are written as skipped: a figure with fewer samples than its
    group's rounds could not be paired."""

    def __init__(self, build, quick, program="peers", keys=CF_KEYS,
                 missing="make; it needs GLib"):
        self.binary = os.path.join(build, "micro", program)
        self.keys = keys
        self.argv = [self.binary, "--only", ",".join(keys), "--rounds", "1", "--json"]
        if quick:
            self.argv.append("--quick")
        self.samples = {key: [] for key in keys}
        self.records = {}
        self.error = None if os.access(self.binary, os.X_OK) else \
            f"{self.binary} is not built ({missing})"

    def command(self):
        return " ".join([os.path.relpath(self.binary, ROOT)] + self.argv[1:])

    def measure(self):
        if self.error:
            return
        try:
            done = subprocess.run(self.argv, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, timeout=300, check=False)
        except (subprocess.TimeoutExpired, OSError) as e:
            self.error = f"{os.path.basename(self.binary)}: {e}"
            return
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or ["no message"])[-1]
            self.error = f"{os.path.basename(self.binary)} exited {done.returncode}: {tail}"
            return
        got = {}
        for line in done.stdout.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("key") in self.keys and \
                    record.get("samples_ns"):
                got[record["key"]] = record
        if set(got) != set(self.keys):
            self.error = f"{os.path.basename(self.binary)} gave no figure for " + \
                ", ".join(sorted(set(self.keys) - set(got)))
            return
        for key, record in got.items():
            self.samples[key].append(record["samples_ns"][0])
            self.records[key] = record

    def label(self, key):
        program = os.path.basename(self.binary)
        name = self.records.get(key, {}).get("name", key).removesuffix(", unpinned")
        return f"cf (build/micro/{program}): {name}"

    def write(self, out):
        for key in self.keys:
            if self.error:
                out.skipped(key, f"cf: {key}", self.error)
                continue
            record = self.records[key]
            out.row(key, self.label(key), self.samples[key], BENCHMARK,
                    tasks=record.get("tasks"), workers=record.get("workers"),
                    command=self.command())


# ---- part 3: mpi4py.futures next to cf's mpi backend -------------------------
#
# mpi4py lives in the interpreter that has it, which need not be this one:
# each round runs `PYTHON futures_peer.py --mpi4py-round`, which makes an
# MPIPoolExecutor of one worker (spawned with MPI_Comm_spawn, as cf's pool
# spawns its worker), waits for its first result, then measures, and
# prints one JSON line.  Its waits are mpi4py's own: no spin, sleeps from
# about 1 us doubling to MPI4PY_FUTURES_BACKOFF (1 ms by default).

MPI4PY_KEYS = ("mpi4py.futures.tasks_submit", "mpi4py.futures.tasks_map_chunk1024")
MPI4PY_CHUNK = 1024
MPI4PY_WHY_NONE = ("no python3 with mpi4py.futures (Debian's python3-mpi4py, for "
                   "/usr/bin/python3; scripts/deps test installs it)")


def mpi4py_sizes(quick):
    """Tasks one at a time, tasks mapped: cf_mpi_overhead's own counts."""
    return (200, 20_000) if quick else (2000, 1_000_000)


def mpi4py_round(quick):
    """One round of part 3, in the interpreter that has mpi4py: the two
    figures in ns per task, as one JSON line on stdout."""
    from mpi4py import MPI
    from mpi4py.futures import MPIPoolExecutor
    n_submit, n_map = mpi4py_sizes(quick)
    arg = bytes(8)  # cf's submit+result carries an 8-byte argument too
    # Oversubscribe as cf's pool does: Open MPI counts this process against
    # the cores and may refuse a worker on a 1-core machine.
    with MPIPoolExecutor(max_workers=1, mpi_info={"map_by": ":OVERSUBSCRIBE"}) as executor:
        executor.submit(empty).result()  # spawns the worker
        start = time.perf_counter()
        for _ in range(n_submit):
            executor.submit(empty, arg).result()
        submit_ns = (time.perf_counter() - start) * 1e9 / n_submit
        start = time.perf_counter()
        got = sum(1 for _ in executor.map(empty, range(n_map), chunksize=MPI4PY_CHUNK))
        map_ns = (time.perf_counter() - start) * 1e9 / n_map
    if got != n_map:
        die(f"mpi4py map gave {got} results for {n_map} tasks", 1)
    print(json.dumps({"submit_ns": submit_ns, "map_ns": map_ns, "tasks_submit": n_submit,
                      "tasks_map": n_map, "mpi4py": __import__("mpi4py").__version__,
                      "mpi": MPI.Get_library_version().splitlines()[0].rstrip("\x00"),
                      "python": platform.python_version()}), flush=True)
    return 0


def mpi4py_python():
    """An interpreter with mpi4py.futures, or None."""
    for exe in dict.fromkeys([sys.executable, "/usr/bin/python3"]):
        if not os.access(exe, os.X_OK):
            continue
        try:
            done = subprocess.run([exe, "-c", "import mpi4py.futures"], capture_output=True,
                                  stdin=subprocess.DEVNULL, timeout=60, check=False)
        except (subprocess.TimeoutExpired, OSError):
            continue
        if done.returncode == 0:
            return exe
    return None


class Mpi4pyPeer:
    """mpi4py.futures' per-task figures, one round per call, in this
    program's rounds (as CfPeer); after a failure it measures nothing more
    and its figures are written as skipped."""

    def __init__(self, quick):
        self.python = mpi4py_python()
        self.argv = [self.python, os.path.abspath(__file__), "--mpi4py-round"] + \
            (["--quick"] if quick else [])
        self.samples = {key: [] for key in MPI4PY_KEYS}
        self.last = {}
        self.error = None if self.python else MPI4PY_WHY_NONE

    def measure(self):
        if self.error:
            return
        try:
            done = subprocess.run(self.argv, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, timeout=300, check=False)
            if done.returncode != 0:
                tail = (done.stderr.strip().splitlines() or ["no message"])[-1]
                raise RuntimeError(f"--mpi4py-round exited {done.returncode}: {tail}")
            self.last = json.loads(done.stdout.strip().splitlines()[-1])
            submit, mapped = self.last["submit_ns"], self.last["map_ns"]
        except (subprocess.TimeoutExpired, OSError, RuntimeError, ValueError, KeyError,
                IndexError) as e:
            self.error = f"mpi4py under {self.python}: {e}"
            return
        self.samples[MPI4PY_KEYS[0]].append(submit)
        self.samples[MPI4PY_KEYS[1]].append(mapped)

    def label(self, key):
        if key == MPI4PY_KEYS[0]:
            return (f"mpi4py.futures MPIPoolExecutor(1) submit+result one at a time, "
                    f"{self.last.get('tasks_submit')} tasks")
        return (f"mpi4py.futures MPIPoolExecutor(1) map chunksize {MPI4PY_CHUNK}, "
                f"{self.last.get('tasks_map')} tasks")

    def write(self, out):
        shown = " ".join(["python3", "benchmarks/python/futures_peer.py"] + self.argv[2:])
        tasks = {MPI4PY_KEYS[0]: self.last.get("tasks_submit"),
                 MPI4PY_KEYS[1]: self.last.get("tasks_map")}
        for key in MPI4PY_KEYS:
            if self.error:
                out.skipped(key, f"mpi4py: {key}", self.error)
                continue
            out.row(key, self.label(key), self.samples[key], BENCHMARK, tasks=tasks[key],
                    workers=1,
                    python=self.last.get("python"), mpi4py=self.last.get("mpi4py"),
                    mpi=self.last.get("mpi"), interpreter=self.python, command=shown)


def estimate(values):
    """The median of values with its distribution-free 95 % interval (lo
    and hi None with fewer than 6 values): the report's statistics
    (scripts/parlab/stats.py), as an Estimate."""
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    from parlab import stats  # noqa: E402 -- the repository's own module
    return stats.estimate(values)


def estimate_text(e, scale=1.0):
    """As build/micro/cf_mpi_overhead writes a figure: three significant
    digits, "1.23 [1.10, 1.40]", or "1.23 (no interval)"."""
    v = e.value * scale
    decimals = 0 if v == 0 or abs(v) >= 100 else 2 - math.floor(math.log10(abs(v)))
    if e.lo is None:
        return f"{v:.{decimals}f} (no interval)"
    return f"{v:.{decimals}f} [{e.lo * scale:.{decimals}f}, {e.hi * scale:.{decimals}f}]"


# Part 3's comparisons: (key of the ratio, what, cf's key, mpi4py's key).
MPI_RATIOS = (("ratio.cf_over_mpi4py.submit_result", "submit+result one at a time",
               CF_MPI_KEYS[0], MPI4PY_KEYS[0]),
              ("ratio.cf_over_mpi4py.map_chunk1024", f"map chunksize {MPI4PY_CHUNK}",
               CF_MPI_KEYS[1], MPI4PY_KEYS[1]))


def mpi_ratio(cf, mpi4py, c, m):
    """cf / mpi4py round by round, as an estimate."""
    return estimate([a / b for a, b in zip(cf.samples[c], mpi4py.samples[m]) if b > 0])


def write_mpi_ratios(out, cf, mpi4py):
    """cf / mpi4py per task, round by round, for reading (the analysis
    pairs the samples itself)."""
    if cf.error or mpi4py.error:
        return
    out.text(" cf / mpi4py.futures per task (median of the rounds' ratios [95 % interval]):")
    for _key, what, c, m in MPI_RATIOS:
        out.text(f"  {what:<66} {estimate_text(mpi_ratio(cf, mpi4py, c, m))}")


def write_mpi_csv(path, cf, mpi4py, command):
    """Part 3 as CSV, the columns of cf_mpi_overhead --csv (scripts/
    doc-figures source mpipeer): every figure (us one at a time, ns per
    task mapped), then cf / mpi4py per task; a side that was not measured
    has no rows, and neither do the ratios."""
    scale = {CF_MPI_KEYS[0]: (1e-3, "us"), MPI4PY_KEYS[0]: (1e-3, "us"),
             CF_MPI_KEYS[1]: (1, "ns"), MPI4PY_KEYS[1]: (1, "ns")}
    rows = []

    def row(kind, key, what, e, factor, unit):
        lo = "" if e.lo is None else f"{e.lo * factor:.6g}"
        hi = "" if e.hi is None else f"{e.hi * factor:.6g}"
        rows.append([kind, key, what, f"{e.value * factor:.6g}", lo, hi, unit,
                     estimate_text(e, factor), "", "", e.n, command])

    for side, keys in ((mpi4py, MPI4PY_KEYS), (cf, CF_MPI_KEYS)):
        for key in keys:
            if not side.error:
                row("figure", key, side.label(key), estimate(side.samples[key]), *scale[key])
    if not cf.error and not mpi4py.error:
        for key, what, c, m in MPI_RATIOS:
            row("target", key, f"cf / mpi4py.futures per task, {what}",
                mpi_ratio(cf, mpi4py, c, m), 1, "x")
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["kind", "key", "what", "value", "lo", "hi", "unit", "text", "goal",
                      "verdict", "rounds", "command"])
        out.writerows(rows)


def mpi_peers(args, out):
    """Part 3 alone (--mpi-only), its rounds in turn: mpi4py, then cf."""
    cf_mpi = CfPeer(build_dir(args.build), args.quick, "cf_mpi_overhead", CF_MPI_KEYS,
                    "make; built where Open MPI is installed")
    mpi4py = Mpi4pyPeer(args.quick)
    out.text(f"{PROG}: {args.rounds} rounds, one spawned MPI worker each side, ns per task "
             f"(median, p90){', quick run' if args.quick else ''}")
    for _ in range(args.rounds):
        mpi4py.measure()
        cf_mpi.measure()
    return cf_mpi, mpi4py


def write_mpi(args, out, cf_mpi, mpi4py):
    """Part 3's records, the ratios in the text, and --csv."""
    out.text(" past one machine, one spawned MPI worker:")
    mpi4py.write(out)
    cf_mpi.write(out)
    write_mpi_ratios(out, cf_mpi, mpi4py)
    if args.csv:
        command = " ".join(["python3", "benchmarks/python/futures_peer.py"] + args.argv)
        write_mpi_csv(args.csv, cf_mpi, mpi4py, command)


def benchmark(args):
    out = Output(args.json)
    rounds = args.rounds
    n_thread = 5_000 if args.quick else 100_000
    n_chunk1 = 500 if args.quick else 20_000
    n_chunk64 = 5_000 if args.quick else 100_000
    k = 1 if args.quick else min(3, rounds)
    timeout = 120
    version = platform.python_version()
    method = multiprocessing.get_start_method()

    global _spin_per_us
    _spin_per_us = spin_calibrate()

    if not args.json:
        print(f"{PROG}: CPython {version}, {rounds} rounds, {WORKERS} workers, "
              f"ns per task (median, p90){', quick run' if args.quick else ''}")
        print(" empty tasks submitted and collected:")
    series = [
        ("cpython.thread.tasks_submit", f"ThreadPoolExecutor submit+result, {n_thread} tasks",
         lambda: thread_submit_ns(n_thread), n_thread, None),
        ("cpython.thread.tasks_map", f"ThreadPoolExecutor map, {n_thread} tasks",
         lambda: map_ns(ThreadPoolExecutor, n_thread, 1), n_thread, None),
        ("cpython.process.tasks_map_chunk1",
         f"ProcessPoolExecutor map chunksize 1, {n_chunk1} tasks",
         lambda: map_ns(ProcessPoolExecutor, n_chunk1, 1), n_chunk1, method),
        ("cpython.process.tasks_map_chunk64",
         f"ProcessPoolExecutor map chunksize 64, {n_chunk64} tasks",
         lambda: map_ns(ProcessPoolExecutor, n_chunk64, 64), n_chunk64, method),
    ]
    cf = CfPeer(build_dir(args.build), args.quick)
    cf_mpi = CfPeer(build_dir(args.build), args.quick, "cf_mpi_overhead", CF_MPI_KEYS,
                    "make; built where Open MPI is installed")
    mpi4py = Mpi4pyPeer(args.quick)
    # Every series once per round, then cf's figures, then mpi4py's and
    # cf's mpi backend: sample i of each comes from round i, measured next
    # to the others under the same load.
    samples = {key: [] for key, *_ in series}
    for _ in range(rounds):
        for key, _name, fn, _n, _m in series:
            samples[key].append(fn())
        cf.measure()
        mpi4py.measure()
        cf_mpi.measure()
    for key, name, _fn, n, m in series:
        extra = {"tasks": n, "workers": WORKERS, "python": version}
        if m:
            extra["start_method"] = m
        out.row(key, name, samples[key], BENCHMARK, **extra)
    cf.write(out)
    write_mpi(args, out, cf_mpi, mpi4py)

    out.text(f" the tutorial's examples, Python next to C in turn, wall time of the program, "
             f"best of {k}:")
    run_examples(out, args, dict(os.environ), k, timeout)
    for key in KEYS:  # every key gets a record, if only to say why not
        if key not in out.keys:
            out.skipped(key, key, "not measured")
    return 0


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and status 2, like every parlab program
        die(f"{message} (try --help)")


def nonnegative_int(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"'{text}' is negative")
    return v


def positive_int(text):
    v = nonnegative_int(text)
    if v == 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return v


def nonnegative_float(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not v >= 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"'{text}' must be a finite number >= 0")
    return v


def percent_arg(text):
    v = nonnegative_int(text)
    if v > 100:
        raise argparse.ArgumentTypeError(f"'{text}' is over 100")
    return v


def rounds_arg(text):
    v = positive_int(text)
    if v > 64:
        raise argparse.ArgumentTypeError("wants 1 to 64")
    return v


def main(argv):
    p = Parser(prog=PROG, description=__doc__.split("\n\n")[0],
               formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="one JSON object per figure")
    p.add_argument("--quick", action="store_true", help="fewer tasks and runs (a smoke run)")
    p.add_argument("--rounds", type=rounds_arg, default=7, metavar="N",
                   help="repetitions of each empty-task figure, 1..64 (default 7); "
                        "the examples take the best of min(3, N) runs")
    p.add_argument("--build", metavar="DIR",
                   help="the build tree of the C programs (default: $PARLAB_BUILD or build)")
    p.add_argument("--example", choices=sorted(EXAMPLES),
                   help="run one tutorial example in Python instead of the benchmark")
    p.add_argument("-n", "--tasks", type=nonnegative_int, metavar="N",
                   help="how many tasks (folders: N ids, generated as the C programs "
                        "generate them, or the first N of --ids)")
    p.add_argument("-j", "--workers", type=positive_int, metavar="N",
                   help="workers (default: the tutorial's 3, 4 or 5)")
    p.add_argument("--scale", type=nonnegative_float, default=1.0, metavar="F",
                   help="multiplies sleeps and the folder server's latency")
    p.add_argument("--work-us", type=nonnegative_int, default=0, metavar="U",
                   help="CPU work per task in microseconds")
    p.add_argument("--api", metavar="URL", help="folders: the folder API (default: our own server)")
    p.add_argument("--ids", metavar="FILE", help="folders: the ids, from FILE")
    p.add_argument("--dup-percent", type=percent_arg, default=DUP_PERCENT, metavar="P",
                   help="folders with -n: the share of the list that repeats an earlier id "
                        f"(default {DUP_PERCENT})")
    p.add_argument("--bad-percent", type=percent_arg, default=BAD_PERCENT, metavar="P",
                   help="folders with -n: the share of distinct ids that fail "
                        f"(default {BAD_PERCENT})")
    p.add_argument("--print", action="store_true", help="print every result")
    # One round of part 3, run by the benchmark in an interpreter that has
    # mpi4py: not for users.
    p.add_argument("--mpi4py-round", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--mpi-only", action="store_true",
                   help="only part 3: mpi4py.futures next to cf's mpi backend")
    p.add_argument("--csv", metavar="FILE",
                   help="also write part 3's figures and cf / mpi4py per task, with their "
                        "intervals, to FILE (docs/sample-report/mpi-peer.csv is one)")
    args = p.parse_args(argv)
    args.argv = list(argv)
    if args.mpi4py_round:
        return mpi4py_round(args.quick)
    if args.mpi_only:
        if args.example:
            die("--mpi-only runs no example (try --help)")
        out = Output(args.json)
        write_mpi(args, out, *mpi_peers(args, out))
        return 0
    if args.example:
        return run_example(args)
    return benchmark(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
