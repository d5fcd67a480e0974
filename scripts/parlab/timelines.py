"""The report's timelines: a few small runs, traced (--trace FILE), drawn,
and read back for what the captions say.

Three steps, one per stage of scripts/report:

  run      scripts/run-timelines RUNDIR: runs every shot below with
           --trace RUNDIR/traces/NAME.json (stdout and stderr in
           RUNDIR/logs/timeline-NAME.*, the command in commands.txt) and
           writes RUNDIR/traces/status.tsv (name, exit status, what went
           wrong).  A shot that fails is reported there and left out.
  draw     scripts/plot (plots.py) calls draw(): RUNDIR/timeline-NAME.png
           and .svg by scripts/timeline, every shot of a group on one time
           axis, and the terminal chart in RUNDIR/traces/NAME.txt.
  section  scripts/compose calls section(): the report's section 9, whose
           captions are computed from the traces, and RUNDIR/timelines.csv
           (shot, key, value), which scripts/doc-figures quotes.

A timeline is one run, not a measurement: its figures have no interval,
and the report says so; the timed figures are in the other sections.
"""
import csv
import os
import shlex
import sys
from dataclasses import dataclass

from . import cli
from .runcells import Interrupted, kill_running, run_bounded, stop_on_signals
from .timeline import PlotError, TraceError, check, chart, draw as draw_trace, duration, kind, load, model_kind

TIMEOUT_S = 120


@dataclass
class Shot:
    name: str           # traces/NAME.json, timeline-NAME.png
    group: str          # the shots of a group share one time axis
    model: str          # the report's name of the model
    program: str        # under $PARLAB_BUILD
    args: tuple
    title: str
    scale: float = 1.0  # --scale: the sleeps' and the folder server's latency


SQUARES = ("-n", "64", "--work-us", "500", "-j", "2")
CHUNKS = ("-n", "256", "--work-us", "20", "-j", "2", "--executor", "process")
FOLDERS = ("-n", "40", "--bad-percent", "0", "-j", "4", "--rate", "40")

SHOTS = (
    Shot("sleep-seed", "seed", "thread-pool", "executors/sleep", (),
         "the seed's example: sleeps of 3, 1 and 2 s, 3 threads"),
    Shot("squares-pthreads-static", "squares", "pthreads", "raw_threads/squares",
         SQUARES + ("--partition", "static"), "pthreads, static: one slice of the indices per thread"),
    Shot("squares-pthreads-dynamic", "squares", "pthreads", "raw_threads/squares",
         SQUARES + ("--partition", "dynamic", "--chunk", "1"), "pthreads, dynamic: one index at a time from a counter"),
    Shot("squares-openmp-static", "squares", "openmp", "openmp/squares",
         SQUARES + ("--schedule", "static"), "OpenMP, schedule(static)"),
    Shot("squares-openmp-dynamic", "squares", "openmp", "openmp/squares",
         SQUARES + ("--schedule", "dynamic", "--chunk", "1"), "OpenMP, schedule(dynamic, 1)"),
    Shot("squares-fork", "squares", "fork", "raw_processes/squares", SQUARES,
         "fork: a slice per child, results through a pipe"),
    Shot("squares-thread-pool", "squares", "thread-pool", "executors/squares",
         SQUARES + ("--executor", "thread"), "thread-pool: cf_map, one item per task"),
    Shot("chunks-1", "chunks", "process-pool", "executors/squares", CHUNKS + ("--chunksize", "1"),
         "process-pool, chunksize 1: one message per item"),
    Shot("chunks-64", "chunks", "process-pool", "executors/squares", CHUNKS + ("--chunksize", "64"),
         "process-pool, chunksize 64: one message per 64 items"),
    Shot("folders-pthreads", "folders", "pthreads", "raw_threads/folders", FOLDERS,
         "pthreads: threads wait for tokens and for fetches in flight", 0.2),
    Shot("folders-thread-pool", "folders", "thread-pool", "executors/folders", FOLDERS,
         "thread-pool: main waits for tokens; repeats share a future", 0.2),
)


def scaled(shot, scale):
    """The shot's arguments with --scale for the runs that sleep or wait
    on a server (TIMELINE_SCALE: the smoke profile shortens them)."""
    scale *= shot.scale
    if scale == 1 or shot.program.endswith("squares"):
        return list(shot.args)
    return list(shot.args) + ["--scale", f"{scale:g}"]


# --- run --------------------------------------------------------------------------------------------

def run_shot(shot, rundir, build, scale, log):
    trace = os.path.join(rundir, "traces", shot.name + ".json")
    cmd = [os.path.join(build, shot.program)] + scaled(shot, scale) + ["--trace", trace]
    log.write(shlex.join(cmd) + "   # timeline\n")
    log.flush()
    if not os.access(cmd[0], os.X_OK):
        return 127, f"{cmd[0]} is not built"
    if os.path.exists(trace):
        os.remove(trace)
    logs = os.path.join(rundir, "logs", "timeline-" + shot.name)
    rc, _ = run_bounded(cmd, dict(os.environ), TIMEOUT_S, logs + ".out", logs + ".err")
    if rc == 124:
        return rc, f"took more than {TIMEOUT_S} s"
    if rc != 0:
        return rc, f"exit status {rc} (logs/timeline-{shot.name}.err)"
    try:
        problem = check(load(trace))
    except TraceError as e:
        problem = str(e)
    return (1, f"the trace breaks a rule: {problem}") if problem else (0, "")


def main(argv=None):
    p = cli.parser("scripts/run-timelines", __doc__)
    p.add_argument("rundir", help="the run's folder (scripts/report makes it)")
    args = p.parse_args(argv)
    if not os.path.isdir(args.rundir):
        p.error(f"{args.rundir} is not a folder")
    try:
        scale = float(os.environ.get("TIMELINE_SCALE", "1"))
    except ValueError:
        scale = -1
    if not scale > 0 or scale > 1000:
        p.error(f"TIMELINE_SCALE={os.environ.get('TIMELINE_SCALE')}: not a factor in (0, 1000]")
    build = os.environ.get("PARLAB_BUILD", "build")
    for sub in ("traces", "logs"):
        os.makedirs(os.path.join(args.rundir, sub), exist_ok=True)
    stop_on_signals()
    status = []
    try:
        with open(os.path.join(args.rundir, "commands.txt"), "a") as log:
            for k, shot in enumerate(SHOTS, 1):
                sys.stderr.write(f"timeline {k}/{len(SHOTS)}: {shot.name}\n")
                rc, why = run_shot(shot, args.rundir, build, scale, log)
                if rc:
                    sys.stderr.write(f"scripts/run-timelines: {shot.name}: {why}\n")
                status.append((shot.name, rc, why))
    except Interrupted as e:
        kill_running()
        sys.stderr.write(f"scripts/run-timelines: interrupted by {e.name}\n")
        return 128 + e.signum
    with open(os.path.join(args.rundir, "traces", "status.tsv"), "w") as f:
        for name, rc, why in status:
            f.write(f"{name}\t{rc}\t{why}\n")
    return 0


# --- draw -------------------------------------------------------------------------------------------

def statuses(rundir):
    """{shot name: (exit status, why)} of the run, {} when it ran none."""
    out = {}
    try:
        with open(os.path.join(rundir, "traces", "status.tsv")) as f:
            for line in f:
                name, rc, why = (line.rstrip("\n").split("\t") + ["", ""])[:3]
                out[name] = (int(rc) if rc.lstrip("-").isdigit() else 1, why)
    except OSError:
        pass
    return out


def traces(rundir):
    """{shot name: Trace} of the shots that ran well."""
    out = {}
    for name, (rc, _) in statuses(rundir).items():
        if rc == 0:
            try:
                out[name] = load(os.path.join(rundir, "traces", name + ".json"))
            except TraceError:
                pass
    return out


def title_of(shot, trace):
    """The shot's title, saying so when its sleeps were scaled (smoke)."""
    words = trace.args.split()
    if "--scale" in words[:-1]:
        scale = float(words[words.index("--scale") + 1])
        if abs(scale - shot.scale) > 1e-12:
            return f"{shot.title} (× {scale / shot.scale:g})"
    return shot.title


def draw(rundir):
    """Draws every shot; returns the problems (empty when all went well)."""
    got = traces(rundir)
    problems = []
    for group in dict.fromkeys(s.group for s in SHOTS):
        shots = [s for s in SHOTS if s.group == group and s.name in got]
        until = max([got[s.name].chart_span for s in shots] + [0])
        for s in shots:
            t = got[s.name]
            t.until_us = until
            title = title_of(s, t)
            with open(os.path.join(rundir, "traces", s.name + ".txt"), "w") as f:
                f.write("\n".join(chart(t, 100, title=title)) + "\n")
            out = os.path.join(rundir, "timeline-" + s.name)
            try:
                draw_trace(t, out + ".png", out + ".svg", title=title)
            except PlotError as e:
                problems.append(f"timeline-{s.name}: {e}")
    return problems


# --- what the traces say ----------------------------------------------------------------------------

def tasks(t):
    return [e for e in t.events if kind(e) == "task"]


def per_worker(t):
    rows = {}
    for e in sorted(tasks(t), key=lambda e: e.ts):
        rows.setdefault(e.tid, []).append(e)
    return rows


def gaps_us(t):
    """The idle time between one task's end and the next's start on the
    same worker, every such gap."""
    out = []
    for row in per_worker(t).values():
        out += [max(0.0, b.ts - a.end) for a, b in zip(row, row[1:])]
    return out


def model_time(t, name):
    evs = [e for e in t.events if kind(e) == "model" and model_kind(e) == name]
    return len(evs), sum(e.dur for e in evs)


def facts(t):
    """The figures a caption quotes, from one trace."""
    ts = tasks(t)
    rows = per_worker(t)
    busy = sum(e.dur for e in ts)
    gaps = sorted(gaps_us(t))
    out = {
        "span_us": t.span_us,
        "workers": len(rows),
        "tasks": len(ts),
        "busy_share": busy / (t.span_us * max(len(rows), 1)) if t.span_us > 0 else 0.0,
        "first_start_us": min((e.ts for e in ts), default=0.0),
        "all_started_us": max((r[0].ts for r in rows.values()), default=0.0),
        "median_gap_us": gaps[len(gaps) // 2] if gaps else 0.0,
        "tasks_min": min((len(r) for r in rows.values()), default=0),
        "tasks_max": max((len(r) for r in rows.values()), default=0),
        "finish_order": " ".join(str(e.args.get("task")) for e in sorted(ts, key=lambda e: e.end)),
        "finish_lengths": ", ".join(duration(e.dur) for e in sorted(ts, key=lambda e: e.end)),
        "jumps": sum(1 for r in rows.values() for a, b in zip(r, r[1:]) if not follows(a, b)),
    }
    for name, key in (("fetch", "fetches"), ("cache wait", "cache_waits"), ("rate-limit wait", "rate_waits")):
        out[key], out[key + "_us"] = model_time(t, name)
    return out


def follows(a, b):
    """Whether task b is the index after task a."""
    i, j = a.args.get("task"), b.args.get("task")
    return isinstance(i, int) and isinstance(j, int) and j == i + 1


def write_facts(rundir, all_facts):
    with open(os.path.join(rundir, "timelines.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["shot", "key", "value", "text"])
        for name, fs in all_facts.items():
            for k, v in fs.items():
                text = duration(v) if k.endswith("_us") else f"{100 * v:.0f} %" if k == "busy_share" else v
                w.writerow([name, k, f"{v:.6g}" if isinstance(v, float) else v, text])


# --- section 9 --------------------------------------------------------------------------------------

def ms(us):
    return duration(us)


def section(run, out):
    out.h2("9. Timelines: which worker ran which task, and when")
    got = traces(run.dir)
    st = statuses(run.dir)
    if not st:
        out.p("Not drawn in this run (its profile runs no timelines: TIMELINES=no).")
        return
    out.p("Each picture is one run of a program with `--trace FILE` (docs/timeline.md): a lane per worker, "
          "a box per task, coloured by its index. A timeline is one run, not a measurement: its figures have "
          "no interval and vary from run to run; the timed figures are in the sections above. The pictures of "
          "one subsection share their time axis, so that lengths compare by eye. Each trace is in traces/ "
          "(open it in Perfetto, or draw it with `scripts/timeline`).")
    f = {name: facts(t) for name, t in got.items()}
    write_facts(run.dir, f)
    seed(out, f)
    squares(out, f)
    chunks(out, f)
    folders(out, f)
    failed = [(n, why) for n, (rc, why) in st.items() if rc]
    if failed:
        out.table("timelines_failed", ["timeline", "what went wrong"], [list(x) for x in failed],
                  "Timelines that could not be drawn in this run.")


def shot_img(out, name, caption):
    out.img("timeline-" + name, caption)


def group(f, name):
    """(shot, its facts) of the group's shots that were drawn, in order."""
    return [(s, f[s.name]) for s in SHOTS if s.group == name and s.name in f]


def seed(out, f):
    s = f.get("sleep-seed")
    if not s:
        return
    out.h3("The seed's example")
    shot_img(out, "sleep-seed",
             f"Three threads take the three tasks at once, so they finish in the order of their length "
             f"({s['finish_lengths']}), not of submission (task 0 is the longest), and the run lasts "
             f"{ms(s['span_us'])}: the longest task, not the sum of the three.")


def squares(out, f):
    shots = group(f, "squares")
    if not shots:
        return
    out.h3("Static against dynamic scheduling (squares, 64 tasks of 500 µs, 2 workers)")
    out.p("Static scheduling cuts the indices into one slice per worker before the run: each lane holds "
          "consecutive indices, and the run ends when the slower slice does. Dynamic scheduling hands out "
          "one index at a time: the lanes interleave, and a worker that falls behind simply takes fewer.")
    rows = []
    for shot, s in shots:
        per = (f"{s['tasks_min']} each" if s["tasks_min"] == s["tasks_max"]
               else f"{s['tasks_min']} to {s['tasks_max']}")
        rows.append([shot.title, ms(s["span_us"]), per, s["jumps"], f"{100 * s['busy_share']:.0f} %"])
        shot_img(out, shot.name, f"{shot.title}: span {ms(s['span_us'])}, tasks per worker {per}, "
                            f"{s['jumps']} jumps to a non-consecutive index.")
    out.table("timelines_squares", ["run", "span", "tasks per worker", "jumps", "busy"], rows,
              "What the pictures show, read from their traces (one run each): a jump is a worker's next task "
              "not being the index after its last; busy is the tasks' time over workers × span.")


def chunks(out, f):
    one, big = f.get("chunks-1"), f.get("chunks-64")
    if not (one and big):
        return
    out.h3("Chunks on the process pool (256 tasks of 20 µs, 2 worker processes)")
    shot_img(out, "chunks-1", f"chunksize 1: every item is a message to a worker and back; the median gap "
                              f"between two items on one worker is {ms(one['median_gap_us'])}, next to "
                              f"20 µs of work, and the run spans {ms(one['span_us'])}.")
    shot_img(out, "chunks-64", f"chunksize 64: one message per 64 items; the median gap is "
                               f"{ms(big['median_gap_us'])} and the run spans {ms(big['span_us'])}. "
                               f"The first item started {ms(one['first_start_us'])} (chunksize 1) and "
                               f"{ms(big['first_start_us'])} (64) into the runs: the pool starts its worker "
                               f"processes at the first submit.")


def folders(out, f):
    shots = group(f, "folders")
    if not shots:
        return
    out.h3("The folder lookup with a rate limit (40 ids, 30 % repeats, 20 ms per answer, 40 requests a second, "
           "4 workers)")
    out.p("At 40 requests a second the limit, not the workers, sets the pace: four workers could ask 200 times "
          "a second. The indigo strips are the requests, the long wine-red ones the waits for a token; green is a "
          "thread waiting for another's fetch of the same id.")
    for shot, s in shots:
        text = f"{shot.title}. {s['fetches']} requests in {ms(s['span_us'])}; rate-limit waits {ms(s['rate_waits_us'])}"
        text += " in all, side by side on the threads" if s["workers"] > 1 else ", all on the submitting thread"
        if s["cache_waits"]:
            text += f"; {s['cache_waits']} cache waits ({ms(s['cache_waits_us'])} in all)"
        if s["workers"] < 4:
            text += (f". The pool started {s['workers']} of its 4 workers: it starts one only when none is idle, "
                     "and at this rate one always was")
        shot_img(out, shot.name, text + ".")
