"""scripts/timeline: a parlab trace (a program's --trace FILE) drawn as a
timeline: which worker ran which task, and when.

Usage: scripts/timeline [--width N] [--ascii] [--title TEXT] [--until US] FILE
       scripts/timeline [--png FILE] [--svg FILE] [--quiet] [--until US] FILE
       scripts/timeline --check FILE

Prints a Gantt chart that fits --width columns (default 100, at least 60):
a title line (the program and its arguments, the span), one row per
thread (main first when it has events, then the workers w1, w2, ... in
order), time running left to right in equal buckets, each bucket drawn
with what covers most of it:

  0-9a-zA-Z   a task, by its index (task i is glyph i mod 62); a chunk
              (several items in one task), by its place among the chunks
  = ~ . ! :   a fetch, a cache wait, a rate-limit wait, a retry's
              back-off, any other wait (folders): over the task they lie
              in, or where the row is idle
  > <         a worker's start and exit, where nothing else is drawn
  (space)     idle

Under it: a time axis, the legend (which glyph is which task, for at most
36 tasks; the model events that occur) and, per worker, the tasks it ran,
its busy time and its share of the span.  --ascii writes "us" for
microseconds instead of the micro sign.

--png FILE and --svg FILE draw the same timeline with gnuplot (one lane
per row, a box per task coloured by its index, the model events in fixed
colours with a key under the plot); --title TEXT replaces the title and
--quiet leaves out the terminal chart.  --until US ends the time axis at
US microseconds (or at the run's end, if later) in both, so that the
charts of two runs drawn to one --until share a scale.

--check validates the trace against the format's rules and prints
"ok: N tasks on W workers, span S" or the first rule it breaks:
otherData says parlab_trace 1, workers and span_us; every event has ph,
pid and tid, and ts but metadata; one record per task index (chunks:
item ranges that do not overlap); no two tasks overlap on one row;
fetches and retries lie inside a task of their row, waits inside one or
between them; every event lies within [0, span_us], with 1 us of slack.

Exit status: 0 success; 1 a rule broken (--check) or gnuplot failed (its
message on stderr); 2 bad usage, or a file that is not a trace (not JSON,
no traceEvents, an event without ts or with a negative dur): one line
naming the file and the first problem.
"""
import bisect
import json
import math
import os
import shutil
import string
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

from . import cli
from .fmt import sig
from .plots import FONT_PT, LABEL, PlotError, SVG_FONT_PT, _BAD, enh, gq, nice_step, small, text_px, wrap

GLYPHS = string.digits + string.ascii_lowercase + string.ascii_uppercase
MODEL_GLYPHS = {"fetch": "=", "cache wait": "~", "rate-limit wait": ".", "retry": "!", "wait": ":"}
MODEL_WORDS = {"fetch": "fetch", "cache wait": "cache wait", "rate-limit wait": "rate-limit wait",
               "retry": "retry", "wait": "other wait"}
LEGEND_TASKS = 36           # more tasks than glyphs 0-9a-z: the legend only says how glyphs cycle
LISTED_TASKS = 12           # at most this many task records are listed one by one with their times
SPAN_SLACK_US = 1.0         # --check: how far an event may stick out of [0, span_us]
OVERLAP_SLACK_US = 0.002    # ts and dur are rounded to 1 ns each: one end may move by that much

# The gnuplot figure: the report's canvas width and fonts (plots.py),
# a height that grows with the rows.
W = 1400
LANE_MAX_PX, LANE_MIN_PX = 90, 34
TASK_COLOURS = ["#77AADD", "#EE8866", "#EEDD88", "#FFAABB", "#99DDFF", "#44BB99", "#BBCC33", "#AAAA00"]
MODEL_COLOURS = {"fetch": "#332288", "cache wait": "#117733", "rate-limit wait": "#882255",
                 "retry": "#CC3311", "wait": "#555555"}
INSTANT_COLOURS = {"worker start": "#117733", "worker exit": "#222222"}
MIN_BOX_PX = 2
MAX_BOX_LABELS = 300        # more tasks than that: no index written in the boxes


class TraceError(Exception):
    """The file is not a trace that can be read at all (exit status 2)."""


@dataclass
class Event:
    pos: int                # its place in traceEvents, from 0
    ph: str
    cat: str
    name: str
    tid: object             # an int, or None when it has none
    ts: float
    dur: float
    args: dict
    raw: dict = field(repr=False)

    @property
    def end(self):
        return self.ts + self.dur

    def words(self):
        return f"event {self.pos} ({self.name or self.ph or 'no name'})"


@dataclass
class Trace:
    path: str
    other: dict
    events: list            # Event, sorted by ts; metadata events are not in it
    meta: list              # the raw metadata events ("ph": "M")

    def _other(self, key, default=None):
        v = self.other.get(key, default) if isinstance(self.other, dict) else default
        return default if v is None else v

    @property
    def program(self):
        return str(self._other("program", "")) or "a run"

    @property
    def args(self):
        return str(self._other("args", ""))

    @property
    def span_us(self):
        """The run's span as the trace says it, or the end of its last event."""
        v = self._other("span_us")
        if is_number(v) and v >= 0:
            return float(v)
        return max([e.end for e in self.events] + [0.0])

    @property
    def chart_span(self):
        """What the chart shows: the span, and any event that sticks out of it."""
        return max([self.span_us] + [e.end for e in self.events])

    @property
    def axis_span(self):
        """The time axis: the chart's span, or --until when that is longer
        (two charts drawn to one --until can be compared by eye)."""
        return max(self.chart_span, getattr(self, "until_us", 0) or 0)

    @property
    def workers(self):
        v = self._other("workers")
        if whole(v) and v >= 0:
            return v
        return len({e.tid for e in self.events if isinstance(e.tid, int) and e.tid > 0})


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


# --- reading -----------------------------------------------------------------------------

def load(path):
    """The trace in path; raises TraceError naming the first problem that
    leaves nothing to draw."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise TraceError(f"cannot read it: {e.strerror or e}")
    except UnicodeDecodeError:
        raise TraceError("not JSON (not UTF-8 text)")
    except ValueError as e:
        raise TraceError(f"not JSON ({e})")
    if not isinstance(data, dict) or not isinstance(data.get("traceEvents"), list):
        raise TraceError("no traceEvents (not a trace: a JSON object with a traceEvents list)")
    events, meta = [], []
    for pos, raw in enumerate(data["traceEvents"]):
        if not isinstance(raw, dict):
            raise TraceError(f"event {pos} is not a JSON object")
        if raw.get("ph") == "M":
            meta.append(raw)
            continue
        events.append(event_of(pos, raw))
    events.sort(key=lambda e: (e.ts, e.pos))
    return Trace(path, data.get("otherData") if isinstance(data.get("otherData"), dict) else {}, events, meta)


def event_of(pos, raw):
    name = raw.get("name") if isinstance(raw.get("name"), str) else ""
    what = f"event {pos} ({name or 'no name'})"
    if "ts" not in raw:
        raise TraceError(f"{what} has no ts")
    if not is_number(raw["ts"]):
        raise TraceError(f"{what}: ts {json.dumps(raw['ts'])} is not a number")
    dur = raw.get("dur", 0)
    if raw.get("ph") == "X" and "dur" not in raw:
        raise TraceError(f"{what} is a complete event (ph X) without dur")
    if not is_number(dur):
        raise TraceError(f"{what}: dur {json.dumps(dur)} is not a number")
    if dur < 0:
        raise TraceError(f"{what} has a negative dur ({dur:g})")
    tid = raw.get("tid")
    if tid is not None and (not isinstance(tid, int) or isinstance(tid, bool) or tid < 0):
        raise TraceError(f"{what}: tid {json.dumps(tid)} is not a thread index (0, 1, 2, ...)")
    args = raw.get("args") if isinstance(raw.get("args"), dict) else {}
    return Event(pos, raw.get("ph") if isinstance(raw.get("ph"), str) else "",
                 raw.get("cat") if isinstance(raw.get("cat"), str) else "", name, tid,
                 float(raw["ts"]), float(dur), args, raw)


# --- what an event is ------------------------------------------------------------------------

def kind(e):
    """task, chunk, model (fetch, waits, retry), instant, or None."""
    if e.ph == "X" and e.cat in ("task", "chunk"):
        return e.cat
    if e.ph == "X" and e.cat in ("fetch", "wait", "retry"):
        return "model"
    if e.ph in ("i", "I") and e.name in ("worker start", "worker exit"):
        return "instant"
    return None


def model_kind(e):
    """The model event's key in MODEL_GLYPHS: its name, "wait" for a wait the
    format does not name."""
    if e.cat == "wait" and e.name not in ("cache wait", "rate-limit wait"):
        return "wait"
    return e.name if e.name in MODEL_GLYPHS else ("wait" if e.cat == "wait" else e.cat)


def model_words(trace, k):
    """What the legend calls a kind of model event: the names of the other
    waits as the trace gives them ("queue wait")."""
    if k != "wait":
        return MODEL_WORDS[k]
    names = sorted({e.name for e in trace.events if kind(e) == "model" and model_kind(e) == "wait" and e.name})
    return "/".join(names) or MODEL_WORDS[k]


def must_nest(e):
    """Whether a model event must lie inside a task: a fetch or a retry is
    part of one; a wait may lie between tasks (a worker waiting for work,
    a submitter waiting for a rate-limit token)."""
    return kind(e) == "model" and e.cat != "wait"


def whole(v):
    return isinstance(v, int) and not isinstance(v, bool)


def task_index(e):
    v = e.args.get("task")
    return v if whole(v) else None


def chunk_range(e):
    """(first, count) of a chunk, or None."""
    first, count = e.args.get("first"), e.args.get("count")
    return (first, count) if whole(first) and whole(count) else None


class Records:
    """The trace's tasks (or chunks): their glyphs and how they are named."""

    def __init__(self, trace):
        self.tasks = [e for e in trace.events if kind(e) in ("task", "chunk")]
        chunks = sorted((e for e in self.tasks if e.cat == "chunk"),
                        key=lambda e: (chunk_range(e) or (math.inf, 0), e.ts, e.pos))
        self.chunk_no = {e.pos: n for n, e in enumerate(chunks)}
        self.only_chunks = bool(self.tasks) and len(chunks) == len(self.tasks)
        # Glyphs and colours go by a task's index; when the "indices" are
        # sparse (folder ids), by their rank among the tasks instead, so
        # that neighbours still differ.
        indices = sorted({task_index(e) for e in self.tasks if task_index(e) is not None})
        sparse = bool(indices) and (indices[0] < 0 or indices[-1] >= 4 * len(indices) + 36)
        self.rank = {i: (r if sparse else i) for r, i in enumerate(indices)}

    def number(self, e):
        """A task's rank, a chunk's place among the chunks (None when unknown)."""
        if e.cat == "chunk":
            return self.chunk_no[e.pos]
        i = task_index(e)
        return None if i is None else self.rank[i]

    def glyph(self, e):
        n = self.number(e)
        return "?" if n is None else GLYPHS[n % len(GLYPHS)]

    def colour(self, e):
        n = self.number(e)
        return TASK_COLOURS[(n or 0) % len(TASK_COLOURS)]

    def label(self, e):
        """The text written in its box: the task's index, the chunk's items."""
        if e.cat == "chunk":
            r = chunk_range(e)
            return f"{r[0]}-{r[0] + r[1] - 1}" if r and r[1] > 0 else "?"
        n = task_index(e)
        return "?" if n is None else str(n)

    def noun(self, count):
        word = "chunk" if self.only_chunks else "task"
        return f"{count} {word}{'' if count == 1 else 's'}"

    def items(self, events):
        return sum((chunk_range(e) or (0, 0))[1] for e in events if e.cat == "chunk")


# --- rows ------------------------------------------------------------------------------------

def rows(trace):
    """(tid, label) of the rows: main when it has events, then every worker."""
    tids = {e.tid for e in trace.events if isinstance(e.tid, int)}
    out = [(0, "main")] if 0 in tids else []
    workers = sorted(tids - {0} | set(range(1, trace.workers + 1)))
    return out + [(t, f"w{t}") for t in workers]


class RowTasks:
    """The tasks of each row by start time, to find the one at a time."""

    def __init__(self, tasks):
        self.rows = {}
        for t in sorted(tasks, key=lambda t: (t.ts, t.pos)):
            self.rows.setdefault(t.tid, []).append(t)
        self.starts = {tid: [t.ts for t in ts_] for tid, ts_ in self.rows.items()}

    def last_before(self, tid, t):
        """The last task of the row that starts at t or before, or None."""
        i = bisect.bisect_right(self.starts.get(tid, []), t) - 1
        return self.rows[tid][i] if i >= 0 else None

    def holding(self, e):
        """The task of e's row that e lies inside, or None: tasks of a row do
        not overlap, so only the last one that starts before it can."""
        t = self.last_before(e.tid, e.ts + OVERLAP_SLACK_US)
        return t if t is not None and e.end <= t.end + OVERLAP_SLACK_US else None

    def crossing(self, e):
        """A task of e's row that e overlaps, or None."""
        t = self.last_before(e.tid, e.end - OVERLAP_SLACK_US)
        return t if t is not None and t.end > e.ts + OVERLAP_SLACK_US else None


def parents(models, tasks):
    """{model event's pos: the task of its row that it lies inside, or None}."""
    index = RowTasks(tasks)
    return {m.pos: index.holding(m) for m in models}


# --- units -------------------------------------------------------------------------------------

def micro(ascii_only):
    return "us" if ascii_only else "µs"


def duration(us, ascii_only=False):
    """A time in µs as text with three significant digits: 850 µs, 1.23 ms, 3.00 s."""
    if us == 0:
        return "0 s"
    r = float(f"{us:.3g}")
    for scale, unit in ((1e6, "s"), (1e3, "ms")):
        if abs(r) >= scale:
            return f"{sig(us / scale)} {unit}"
    return f"{sig(us)} {micro(ascii_only)}"


def axis_unit(span_us, ascii_only=False):
    """(unit, µs per unit) for an axis that spans span_us."""
    if span_us >= 1e6:
        return "s", 1e6
    if span_us >= 1e3:
        return "ms", 1e3
    return micro(ascii_only), 1.0


def ticks(span_us, ascii_only=False):
    """4 to 6 (time in µs, label) at a step of 1, 2, 2.5 or 5 x 10^k of the
    axis' unit, from 0; the step that gives 5 ticks when one does."""
    unit, scale = axis_unit(span_us, ascii_only)
    if span_us <= 0:
        return [(0.0, f"0 {unit}")]
    s = span_us / scale
    best = None
    for k in range(math.floor(math.log10(s / 6)) - 1, math.floor(math.log10(s)) + 1):
        for rank, m in enumerate((1, 2, 5, 2.5)):
            step = m * 10.0 ** k
            count = math.floor(s / step + 1e-9) + 1
            if 4 <= count <= 6:
                score = (abs(count - 5), rank)
                if best is None or score < best[0]:
                    best = (score, step, count)
    _, step, count = best
    return [(i * step * scale, f"{round(i * step, 9):g} {unit}") for i in range(count)]


# --- the terminal chart ----------------------------------------------------------------------------

class Buckets:
    """The chart's time buckets: n of span / n µs each."""

    def __init__(self, span_us, n):
        self.n = n
        self.dt = span_us / n if span_us > 0 else 1.0 / n

    def of(self, e):
        """The buckets e covers (the one it lies in when it takes no time)."""
        first = min(max(math.floor(e.ts / self.dt), 0), self.n - 1)
        last = min(max(math.ceil(e.end / self.dt), first + 1), self.n)
        return range(first, last)

    def cover(self, e, b):
        return max(0.0, min(e.end, (b + 1) * self.dt) - max(e.ts, b * self.dt))

    def at(self, t):
        return min(max(math.floor(t / self.dt), 0), self.n - 1)


def winners(buckets, events, rest):
    """Per bucket, the event that covers most of it, or None where rest(b,
    the events' cover) is larger; then every event that won no bucket takes
    the one it covers most, where that leaves the bucket's winner another."""
    n = buckets.n
    best, best_cover, total = [None] * n, [0.0] * n, [0.0] * n
    for e in events:
        for b in buckets.of(e):
            c = buckets.cover(e, b)
            total[b] += c
            if best[b] is None or c > best_cover[b]:
                best[b], best_cover[b] = e, c
    for b in range(n):
        if best[b] is not None and best_cover[b] < rest(b, total[b]):
            best[b] = None
    cells = {}
    for b in range(n):
        if best[b] is not None:
            cells[best[b].pos] = cells.get(best[b].pos, 0) + 1
    pinned = set()
    for e in sorted(events, key=lambda e: (e.dur, e.ts, e.pos)):
        if cells.get(e.pos):
            continue
        for b in sorted(buckets.of(e), key=lambda b: -buckets.cover(e, b)):
            w = best[b]
            if b in pinned or (w is not None and cells[w.pos] < 2):
                continue
            if w is not None:
                cells[w.pos] -= 1
            best[b], cells[e.pos] = e, 1
            pinned.add(b)
            break
    return best


def row_cells(buckets, records, tasks, models, instants):
    """One row's characters: tasks, the model events over them, instants
    where nothing else is.  tasks: sorted by ts."""
    base = winners(buckets, tasks, lambda b, covered: buckets.dt - covered)
    cells = [records.glyph(t) if t is not None else " " for t in base]
    overlay_models(buckets, base, cells, tasks, models)
    keep_task_glyphs(base, cells, records, tasks)
    for i in instants:
        b = buckets.at(i.ts)
        if cells[b] == " ":
            cells[b] = ">" if i.name == "worker start" else "<"
    return "".join(cells)


def overlay_models(buckets, base, cells, tasks, models):
    """Each model event's glyph where it covers more of a bucket than the
    rest of the task it lies in (or, outside any task, a queue wait, than
    the idle time), in the buckets its task holds."""
    nested = parents(models, tasks)
    owned = {}          # the pos of the task they lie in (None: none) -> its model events
    for m in models:
        t = nested.get(m.pos)
        owned.setdefault(t.pos if t is not None else None, []).append(m)
    task_of = {t.pos: t for t in tasks}
    starts = [t.ts for t in tasks]

    def busy(b):
        i = max(bisect.bisect_right(starts, b * buckets.dt) - 1, 0)
        near = tasks[i:bisect.bisect_right(starts, (b + 1) * buckets.dt)]
        return sum(buckets.cover(t, b) for t in near)

    for owner_pos, mine in owned.items():
        owner = task_of.get(owner_pos)

        def rest(b, covered, owner=owner):
            if base[b] is not owner:
                return math.inf
            if owner is not None:
                return buckets.cover(owner, b) - covered
            return buckets.dt - busy(b) - covered

        for b, m in enumerate(winners(buckets, mine, rest)):
            if m is not None and base[b] is owner:
                cells[b] = MODEL_GLYPHS[model_kind(m)]


def keep_task_glyphs(base, cells, records, tasks):
    """A task all of whose cells show its model events still says which
    task it is, and where it starts, in its first cell."""
    held = {}
    for b, t in enumerate(base):
        if t is not None:
            held.setdefault(t.pos, []).append(b)
    model_glyphs = set(MODEL_GLYPHS.values())
    for t in tasks:
        mine = held.get(t.pos, [])
        if mine and all(cells[b] in model_glyphs for b in mine):
            cells[mine[0]] = records.glyph(t)


def fit(text, width):
    return text if len(text) <= width else text[:width - 3] + "..."


def workers_noun(trace, records):
    """"N workers": main counts when it runs tasks itself (OpenMP's first
    thread, serial)."""
    n = max(trace.workers, len({e.tid for e in records.tasks}))
    return f"{n} worker{'' if n == 1 else 's'}"


def title_line(trace, records, width, ascii_only, title=None):
    what = title or f"{trace.program} {trace.args}".strip()
    tail = f"  ({workers_noun(trace, records)}, span {duration(trace.span_us, ascii_only)})"
    return fit(what, max(width - len(tail), 20)) + tail


def axis_lines(span_us, label_w, n, ascii_only):
    """The axis under the chart (its ticks under the bucket each time
    falls in) and the line of their labels."""
    left = label_w + 2                              # the first bucket's column
    width = left + n + 1
    line = list(" " * (left - 1) + "+" + "-" * n + "+")
    labels = [" "] * width
    buckets = Buckets(span_us, n)
    free = 0
    for k, (t, text) in enumerate(ticks(span_us, ascii_only)):
        col = left + buckets.at(t)
        line[col] = "^"
        start = min(max(col - len(text) // 2, 0), width - len(text))
        if k == 0:
            start = col
        if start < free:
            continue
        labels[start:start + len(text)] = text
        free = start + len(text) + 1
    return "".join(line), "".join(labels).rstrip()


def wrapped(prefix, items, width):
    """prefix and the items joined with ", " in lines of at most width."""
    lines, line = [], prefix
    for i, item in enumerate(items):
        piece = item + ("," if i < len(items) - 1 else "")
        if len(line) + 1 + len(piece) > width and len(line) > len(prefix):
            lines.append(line)
            line = " " * len(prefix)
        line += " " + piece
    return lines + [line]


def glyph_runs(records):
    """"0-9 = tasks 0-9": the task glyphs by runs of consecutive indices
    within one class of glyphs (digits, small letters, capitals)."""
    idx = sorted({records.rank[task_index(e)] for e in records.tasks
                  if task_index(e) is not None})
    out, i = [], 0
    while i < len(idx):
        j = i
        while (j + 1 < len(idx) and idx[j + 1] == idx[j] + 1 and
               klass(GLYPHS[idx[j + 1] % len(GLYPHS)]) == klass(GLYPHS[idx[i] % len(GLYPHS)])):
            j += 1
        a, b = idx[i], idx[j]
        ga, gb = GLYPHS[a % len(GLYPHS)], GLYPHS[b % len(GLYPHS)]
        out.append(f"{ga} = task {a}" if a == b else f"{ga}-{gb} = tasks {a}-{b}")
        i = j + 1
    return out


def klass(ch):
    return 0 if ch.isdigit() else (1 if ch.islower() else 2)


def legend(trace, records, width, ascii_only):
    tasks = records.tasks
    if len(tasks) > LEGEND_TASKS:
        word = "chunk" if records.only_chunks else "task"
        lines = [fit(f"{word}s: glyphs cycle by {word} index (0-9, a-z, A-Z, 0, ...)", width)]
    elif len(tasks) <= LISTED_TASKS or records.only_chunks:
        items = []
        for e in sorted(tasks, key=lambda e: (records.number(e) is None, records.number(e) or 0, e.ts)):
            what = f"items {records.label(e)}" if e.cat == "chunk" else \
                (e.name if e.name.startswith("lookup ") else f"task {records.label(e)}")
            if len(tasks) <= LISTED_TASKS:
                what += f" ({duration(e.dur, ascii_only)} on {row_label(e.tid)})"
            items.append(f"{records.glyph(e)} = {what}")
        lines = wrapped("chunks:" if records.only_chunks else "tasks:", items, width)
    else:
        lines = wrapped("tasks:", glyph_runs(records), width)
    kinds = {model_kind(e) for e in trace.events if kind(e) == "model"}
    shown = [f"{MODEL_GLYPHS[k]} {model_words(trace, k)}" for k in MODEL_GLYPHS if k in kinds]
    if shown:
        lines += wrapped("model events:", shown, width)
    names = {e.name for e in trace.events if kind(e) == "instant"}
    marks = [f"{g} {n}" for g, n in ((">", "worker start"), ("<", "worker exit")) if n in names]
    if marks:
        lines += wrapped("instants:", marks, width)
    return lines


def row_label(tid):
    return "main" if tid == 0 else f"w{tid}"


def summary(trace, records, width, ascii_only):
    """Per row that ran tasks, and per worker: tasks, busy time, share of the span."""
    span = trace.chart_span
    out = []
    for tid, label in rows(trace):
        mine = [e for e in records.tasks if e.tid == tid]
        if tid == 0 and not mine:
            continue
        busy = sum(e.dur for e in mine)
        share = f"{100 * busy / span:.1f} %" if span > 0 else "-"
        text = f"{label}: {records.noun(len(mine))}"
        if records.only_chunks:
            text += f" ({records.items(mine)} items)"
        text += f", busy {duration(busy, ascii_only)}, {share} of the span"
        parts = []
        for k in MODEL_GLYPHS:
            t = sum(e.dur for e in trace.events if e.tid == tid and kind(e) == "model" and model_kind(e) == k)
            if t > 0:
                parts.append(f"{model_words(trace, k)} {duration(t, ascii_only)}")
        if parts and len(text) + 2 + len(", ".join(parts)) > width:
            out += [text + ";", fit("    " + ", ".join(parts), width)]
        elif parts:
            out.append(f"{text}; {', '.join(parts)}")
        else:
            out.append(fit(text, width))
    return out


def chart(trace, width=100, ascii_only=False, title=None):
    """The terminal chart, as lines."""
    records = Records(trace)
    rws = rows(trace)
    label_w = max([len(label) for _, label in rws] + [4])
    n = width - label_w - 3
    span = trace.axis_span
    buckets = Buckets(span, n)
    out = [title_line(trace, records, width, ascii_only, title)]
    for tid, label in rws:
        mine = [e for e in trace.events if e.tid == tid]
        tasks = [e for e in mine if kind(e) in ("task", "chunk")]
        cells = row_cells(buckets, records, tasks, [e for e in mine if kind(e) == "model"],
                          [e for e in mine if kind(e) == "instant"])
        out.append(f"{label:>{label_w}} |{cells}|")
    out += axis_lines(span, label_w, n, ascii_only)
    if not records.tasks:
        return out + ["no task events"]
    return out + legend(trace, records, width, ascii_only) + summary(trace, records, width, ascii_only)


# --- --check -----------------------------------------------------------------------------------------

def check(trace):
    """The first rule of the format the trace breaks, or None."""
    for rule in (check_other, check_fields, check_records, check_overlap, check_nesting, check_span):
        problem = rule(trace)
        if problem:
            return problem
    return None


def check_other(trace):
    o = trace.other
    if o.get("parlab_trace") != 1:
        return f"otherData.parlab_trace is {json.dumps(o.get('parlab_trace'))}, not 1 (not a parlab trace, " \
               "or another version)"
    if not whole(o.get("workers")) or o["workers"] < 0:
        return f"otherData.workers is {json.dumps(o.get('workers'))}, not a worker count"
    if not is_number(o.get("span_us")) or o["span_us"] < 0:
        return f"otherData.span_us is {json.dumps(o.get('span_us'))}, not a time in µs"
    return None


def check_fields(trace):
    workers = trace.other["workers"]
    for m in trace.meta:
        if m.get("pid") != 1:
            return f"metadata {m.get('name')!r}: pid is {json.dumps(m.get('pid'))}, not 1"
        if m.get("name") == "thread_name" and not (whole(m.get("tid")) and 0 <= m["tid"] <= workers):
            return f"metadata thread_name: tid {json.dumps(m.get('tid'))} is not 0..{workers}"
    for e in sorted(trace.events, key=lambda e: e.pos):
        if not e.ph:
            return f"{e.words()} has no ph"
        if e.ph not in ("X", "i"):
            return f"{e.words()}: ph {e.ph!r} is not one the format uses (X, i, M)"
        if "pid" not in e.raw:
            return f"{e.words()} has no pid"
        if e.raw["pid"] != 1:
            return f"{e.words()}: pid is {json.dumps(e.raw['pid'])}, not 1"
        if e.tid is None:
            return f"{e.words()} has no tid"
        if e.tid > workers:
            return f"{e.words()}: tid {e.tid} is not a row of this run (0 for main, 1..{workers} for the workers)"
        if e.cat == "task" and task_index(e) is None:
            return f"{e.words()}: a task without args.task (its index)"
        if e.cat == "chunk" and (chunk_range(e) is None or chunk_range(e)[0] < 0 or chunk_range(e)[1] < 1):
            return f"{e.words()}: a chunk without args.first and args.count (its items)"
    return None


def check_records(trace):
    seen, ranges = {}, []
    for e in trace.events:
        if e.ph == "X" and e.cat == "task":
            i = task_index(e)
            if i in seen:
                other = seen[i]
                return (f"task {i} has two records: {e.words()} on {row_label(e.tid)} at {e.ts:g} µs and "
                        f"{other.words()} on {row_label(other.tid)} at {other.ts:g} µs")
            seen[i] = e
        elif e.ph == "X" and e.cat == "chunk":
            ranges.append((chunk_range(e), e))
    ranges.sort(key=lambda r: r[0])
    for (a, ea), (b, eb) in zip(ranges, ranges[1:]):
        if b[0] < a[0] + a[1]:
            return (f"chunks overlap: items {a[0]}-{a[0] + a[1] - 1} ({ea.words()}) and "
                    f"{b[0]}-{b[0] + b[1] - 1} ({eb.words()})")
    return None


def check_overlap(trace):
    last = {}
    for e in trace.events:
        if kind(e) not in ("task", "chunk"):
            continue
        p = last.get(e.tid)
        if p is not None and e.ts < p.end - OVERLAP_SLACK_US:
            return (f"{e.words()} overlaps {p.words()} on {row_label(e.tid)}: it starts at {e.ts:g} µs, "
                    f"before the other ends at {p.end:g} µs")
        if p is None or e.end > p.end:
            last[e.tid] = e
    return None


def check_nesting(trace):
    index = RowTasks([e for e in trace.events if kind(e) in ("task", "chunk")])
    for e in trace.events:
        if kind(e) != "model" or index.holding(e) is not None:
            continue
        where = f"{e.words()} on {row_label(e.tid)} at {e.ts:g} µs for {e.dur:g} µs"
        if must_nest(e):
            return f"{where} lies inside no task of its row"
        t = index.crossing(e)
        if t is not None:
            return f"{where} overlaps {t.words()} without lying inside it"
    return None


def check_span(trace):
    span = float(trace.other["span_us"])
    for e in trace.events:
        if e.ts < -SPAN_SLACK_US:
            return f"{e.words()} starts at {e.ts:g} µs, before the run's start (0)"
        if e.end > span + SPAN_SLACK_US:
            return f"{e.words()} ends at {e.end:g} µs, after the span ({span:g} µs)"
    return None


def check_words(trace, ascii_only):
    records = Records(trace)
    what = records.noun(len(records.tasks))
    if records.only_chunks:
        what += f" ({records.items(records.tasks)} items)"
    return f"ok: {what} on {workers_noun(trace, records)}, span {duration(trace.span_us, ascii_only)}"


# --- the gnuplot figure -------------------------------------------------------------------------------

class Layout:
    """The figure's geometry in pixels, and in screen fractions for gnuplot."""

    def __init__(self, nrows, title_lines, subtitle_lines, key_rows):
        # The lanes share about as much height as the report's figures give
        # their plots, within what keeps a lane's label and boxes readable.
        self.lane = max(LANE_MIN_PX, min(LANE_MAX_PX, 560 / max(nrows, 1)))
        self.title_px = 40
        self.sub_px = self.title_px + 30 * title_lines
        self.top_px = self.sub_px + 25 * subtitle_lines + 20
        # Under the plot: the tick labels, the axis label, then the key.
        self.bottom_px = 32 * key_rows + 12 + 110
        self.h = round(self.top_px + self.lane * max(nrows, 1) + self.bottom_px)
        self.left = 120 / W             # room for "main", "w100"
        self.right = 1 - 40 / W

    def y(self, px_from_top):
        return 1 - px_from_top / self.h

    @property
    def top(self):
        return self.y(self.top_px)

    @property
    def bottom(self):
        return self.bottom_px / self.h


def subtitle(trace, records, ascii_only):
    o = trace.other
    run = ", ".join(f"{k} {o[k]}" for k in ("model", "backend", "workload") if o.get(k))
    parts = [run] if run else []
    parts.append(workers_noun(trace, records))
    parts.append(records.noun(len(records.tasks)))
    parts.append(f"span {duration(trace.span_us, ascii_only)}")
    return "; ".join(parts)


def key_entries(trace, records):
    """(style, colour, text) of the key under the plot."""
    what = "chunk (colour: its place" if records.only_chunks else "task (colour: its index"
    out = [("task", TASK_COLOURS[0], f"{what} mod {len(TASK_COLOURS)})")] if records.tasks else []
    kinds = {model_kind(e) for e in trace.events if kind(e) == "model"}
    out += [("model", MODEL_COLOURS[k], model_words(trace, k)) for k in MODEL_COLOURS if k in kinds]
    names = {e.name for e in trace.events if kind(e) == "instant"}
    out += [("instant", INSTANT_COLOURS[n], n) for n in INSTANT_COLOURS if n in names]
    return out


def key_rows(entries, scale=0.9):
    """The key's entries in rows that fit the canvas."""
    pt = FONT_PT * scale
    rows_, row, width = [], [], 0
    for e in entries:
        w = 44 + 10 + text_px(e[2], pt)
        if row and width + 40 + w > W * 0.94:
            rows_.append(row)
            row, width = [], 0
        row.append((e, w))
        width += w + (40 if len(row) > 1 else 0)
    return rows_ + ([row] if row else [])


def draw_key(fig, rows_, lay, scale=0.9):
    """The key as swatches and labels centred under the x axis' label (gnuplot's
    own key would sit on the data or be cut)."""
    for r_i, row in enumerate(reversed(rows_)):
        yy = 20 + r_i * 32
        total = sum(w for _, w in row) + 40 * (len(row) - 1)
        x = (W - total) / 2
        for (style, colour, text), w in row:
            y0, y1 = (yy - 11, yy + 11) if style == "task" else (yy - 6, yy + 6)
            if style == "instant":
                fig(f"set arrow from screen {(x + 22) / W:.4f}, {(yy - 12) / lay.h:.4f} to screen "
                    f"{(x + 22) / W:.4f}, {(yy + 12) / lay.h:.4f} nohead lc rgb '{colour}' lw 3 front")
            else:
                fig(f"set object rect from screen {x / W:.4f}, {y0 / lay.h:.4f} to screen {(x + 44) / W:.4f}, "
                    f"{y1 / lay.h:.4f} fc rgb '{colour}' fs solid 1 border lc rgb '#333333' front")
            fig(f"set label {gq('{/*' + f'{scale:g} ' + enh(text) + '}')} at screen {(x + 54) / W:.4f}, "
                f"{yy / lay.h:.4f} left front")
            x += w + 40


def data_text(header, rows_):
    out = ["# " + "\t".join(header)]
    for r in rows_:
        out.append("\t".join(f"{v:.9g}" if isinstance(v, (int, float)) else str(v) for v in r))
    return "\n".join(out) + "\n"


class Gantt:
    """The gnuplot figure of a trace: one lane per row, top to bottom."""

    def __init__(self, trace, title=None, ascii_only=False):
        self.trace = trace
        self.records = Records(trace)
        self.rows = rows(trace)
        self.nrows = max(len(self.rows), 1)
        self.lane_of = {tid: self.nrows - 1 - k for k, (tid, _) in enumerate(self.rows)}
        span = trace.axis_span
        self.unit, self.scale = axis_unit(span, ascii_only)
        self.xmax = span / self.scale if span > 0 else 1
        self.title = wrap(title or f"{trace.program} {trace.args}".strip(), int(W * 0.94 / (FONT_PT * 0.7 * 1.05)))
        self.sub = wrap(subtitle(trace, self.records, ascii_only), int(W * 0.93 / (FONT_PT * 0.9 * 0.64)))
        self.key = key_rows(key_entries(trace, self.records))
        self.lay = Layout(self.nrows, len(self.title), len(self.sub), len(self.key))
        self.files = {}
        self.plot_px = (self.lay.right - self.lay.left) * W

    def data(self, name, header, rows_):
        self.files[name] = data_text(header, rows_)
        return name

    def boxes_of(self, events, low, high):
        """Rows of boxxyerror data: x, lane, start, end, bottom, top; a box
        at least MIN_BOX_PX wide, so that a task of a few µs in a run of
        seconds is still seen."""
        least = MIN_BOX_PX / self.plot_px * self.xmax
        out = []
        for e in events:
            y = self.lane_of[e.tid]
            x0 = e.ts / self.scale
            x1 = max(e.end / self.scale, x0 + least)
            out.append([(x0 + x1) / 2, y, x0, x1, y + low, y + high])
        return out

    def frame(self, fig):
        lay = self.lay
        for i, line in enumerate(self.title):
            fig(f"set label {gq('{/:Bold ' + enh(line) + '}')} at screen 0.5, {lay.y(lay.title_px + 30 * i):.4f} "
                "center front")
        for i, line in enumerate(self.sub):
            fig(f"set label {small(line)} at screen 0.5, {lay.y(lay.sub_px + 25 * i):.4f} center front")
        fig(f"set lmargin at screen {lay.left:.4f}; set rmargin at screen {lay.right:.4f}")
        fig(f"set tmargin at screen {lay.top:.4f}; set bmargin at screen {lay.bottom:.4f}")
        fig(f"set xrange [0:{self.xmax:.9g}]; set yrange [-0.5:{self.nrows - 0.5}]")
        fig(f"set xtics 0, {nice_step(self.xmax, 8):.9g} nomirror; set format x '%g'; set mxtics 1")
        tics = ", ".join(f"{gq(enh(label))} {self.lane_of[tid]}" for tid, label in self.rows)
        fig(f"set ytics ({tics}) scale 0 nomirror" if tics else "unset ytics")
        fig("unset key")
        fig(f"set label {gq(enh(f'time since the start ({self.unit})'))} at screen "
            f"{(lay.left + lay.right) / 2:.4f}, {lay.bottom - 68 / lay.h:.4f} center front")
        draw_key(fig, self.key, lay)

    def background(self):
        """Every other lane shaded, so that a row's boxes read as one line,
        and the grid over the shading (gnuplot's own grid goes under it)."""
        shade = [[0, lane, 0, self.xmax, lane - 0.5, lane + 0.5] for lane in range(0, self.nrows, 2)]
        out = [f"'{self.data('lanes.dat', ['x', 'lane', 'start', 'end', 'bottom', 'top'], shade)}' "
               "using 1:2:3:4:5:6 with boxxyerror fc rgb '#f2f2f2' fs solid 1 noborder notitle"]
        step = nice_step(self.xmax, 8)
        grid = [[k * step, -0.5, 0, self.nrows] for k in range(1, int(self.xmax / step + 1e-9) + 1)]
        if grid:
            out.append(f"'{self.data('grid.dat', ['x', 'bottom', 'dx', 'dy'], grid)}' using 1:2:3:4 "
                       "with vectors nohead lc rgb '#c0c0c0' lw 1 dt (4,4) notitle")
        return out

    def tasks(self):
        tasks = [e for e in self.records.tasks if e.tid in self.lane_of]
        if not tasks:
            return []
        rows_ = [b + [int(self.records.colour(e)[1:], 16)] for b, e in zip(self.boxes_of(tasks, -0.36, 0.36), tasks)]
        f = self.data("tasks.dat", ["x", "lane", "start", "end", "bottom", "top", "rgb"], rows_)
        # Boxes a few pixels wide would be all border: none then.
        mean_px = sum(e.dur for e in tasks) / len(tasks) / self.scale / self.xmax * self.plot_px
        border = "border lc rgb '#444444'" if mean_px >= 6 else "noborder"
        return [f"'{f}' using 1:2:3:4:5:6:7 with boxxyerror lc rgb variable fs solid 1 {border} notitle"]

    def models(self):
        """The model events in a strip along the bottom of their task's box."""
        out = []
        for k, colour in MODEL_COLOURS.items():
            evs = [e for e in self.trace.events
                   if kind(e) == "model" and model_kind(e) == k and e.tid in self.lane_of]
            if evs:
                f = self.data(f"{k.replace(' ', '_')}.dat", ["x", "lane", "start", "end", "bottom", "top"],
                              self.boxes_of(evs, -0.30, -0.04))
                out.append(f"'{f}' using 1:2:3:4:5:6 with boxxyerror lc rgb '{colour}' fs solid 1 noborder notitle")
        return out

    def instants(self):
        out = []
        for name, colour in INSTANT_COLOURS.items():
            evs = [e for e in self.trace.events if kind(e) == "instant" and e.name == name and e.tid in self.lane_of]
            if evs:
                f = self.data(f"{name.replace(' ', '_')}.dat", ["x", "bottom", "dx", "dy"],
                              [[e.ts / self.scale, self.lane_of[e.tid] - 0.44, 0, 0.88] for e in evs])
                out.append(f"'{f}' using 1:2:3:4 with vectors nohead lc rgb '{colour}' lw 3 notitle")
        return out

    def labels(self, fig):
        """Each task's index in the upper half of its box, over the model
        events' strip, where the box is wide enough for it."""
        tasks = [e for e in self.records.tasks if e.tid in self.lane_of]
        if len(tasks) > MAX_BOX_LABELS or self.lay.lane < 40:
            return
        for e in tasks:
            text = self.records.label(e)
            if e.dur / self.scale / self.xmax * self.plot_px >= text_px(text, FONT_PT * LABEL) + 8:
                fig(f"set label {small(text, LABEL)} at {(e.ts + e.dur / 2) / self.scale:.9g}, "
                    f"{self.lane_of[e.tid] + 0.17:.4f} center front")


def figure(trace, title=None, ascii_only=False):
    """(body, {data file: text}, height in px) of the gnuplot figure."""
    g = Gantt(trace, title, ascii_only)
    body = []
    g.frame(body.append)
    g.labels(body.append)
    plots = g.background() + g.tasks() + g.models() + g.instants()
    if not g.records.tasks:
        body.append(f"set label {small('no task events')} at graph 0.5, 0.5 center front")
    body.append("plot " + ", \\\n     ".join(plots))
    return "\n".join(body) + "\n", g.files, g.lay.h


def gnuplot_script(body_name, height, png=None, svg=None):
    """The script that draws the body to each output asked for."""
    lines = ["set encoding utf8"]
    if png:
        lines += [f"set terminal pngcairo size {W},{height} font 'sans,{FONT_PT}' enhanced",
                  f"set output {gq(os.path.abspath(png))}", "fs = 1.0",
                  f"load '{body_name}'", "unset output"]
    if svg:
        lines += [f"set terminal svg size {W},{height} font 'sans,{SVG_FONT_PT}' enhanced dynamic "
                  "background rgb 'white'",
                  f"set output {gq(os.path.abspath(svg))}", f"fs = {SVG_FONT_PT / FONT_PT:.4f}",
                  f"load '{body_name}'", "unset output"]
    return "\n".join(lines) + "\n"


def draw(trace, png=None, svg=None, title=None, ascii_only=False, gnuplot="gnuplot"):
    """Writes the figure to png and/or svg; raises PlotError with gnuplot's
    message (the pictures are then removed, and its script kept)."""
    body, files, height = figure(trace, title, ascii_only)
    work = tempfile.mkdtemp(prefix="parlab-timeline-")
    for fn, text in files.items():
        with open(os.path.join(work, fn), "w") as f:
            f.write(text)
    with open(os.path.join(work, "timeline.body.gp"), "w") as f:
        f.write("reset\nset encoding utf8\nset border lw 1.5\n" + body)
    with open(os.path.join(work, "timeline.gp"), "w") as f:
        f.write(gnuplot_script("timeline.body.gp", height, png, svg))
    try:
        p = subprocess.run([gnuplot, "timeline.gp"], cwd=work, capture_output=True, text=True, timeout=300)
    except FileNotFoundError:
        shutil.rmtree(work)
        raise PlotError(f"{gnuplot} not found (install gnuplot-nox: scripts/deps)")
    except subprocess.TimeoutExpired:
        raise PlotError(f"gnuplot took more than 300 s (its script: {work}/timeline.gp)")
    err = p.stderr or ""
    bad = [line for line in err.splitlines() if _BAD.search(line) and not line.startswith("Fontconfig")]
    if p.returncode != 0 or bad:
        for out in (png, svg):
            if out and os.path.exists(out):
                os.remove(out)
        lines = [line.strip() for line in err.splitlines() if line.strip()]
        detail = " | ".join(lines[-6:]) or f"exit status {p.returncode}"
        raise PlotError(f"gnuplot failed (its script: {work}/timeline.gp): {detail}")
    shutil.rmtree(work)


# --- main -------------------------------------------------------------------------------------------

def main(argv=None):
    p = cli.parser("scripts/timeline", __doc__)
    p.add_argument("--width", type=int, default=100, metavar="N", help="columns of the chart (at least 60)")
    p.add_argument("--ascii", action="store_true", help="write 'us' for microseconds (no non-ASCII byte)")
    p.add_argument("--png", metavar="FILE", help="draw the timeline with gnuplot into FILE (PNG)")
    p.add_argument("--svg", metavar="FILE", help="draw the timeline with gnuplot into FILE (SVG)")
    p.add_argument("--title", metavar="TEXT", help="the title instead of the program and its arguments")
    p.add_argument("--until", type=float, metavar="US",
                   help="end the time axis at US microseconds (or later, if the run was longer), so that "
                        "charts of two runs share one scale")
    p.add_argument("--quiet", action="store_true", help="no terminal chart (with --png or --svg)")
    p.add_argument("--check", action="store_true", help="validate the trace against the format's rules")
    p.add_argument("file", metavar="FILE", help="a trace written by a program's --trace FILE")
    args = p.parse_args(argv)
    if args.width < 60:
        p.error(f"--width {args.width}: the chart needs at least 60 columns")
    if args.until is not None and not (args.until > 0 and math.isfinite(args.until)):
        p.error(f"--until {args.until:g}: the axis needs a positive, finite time in µs")
    if args.quiet and not (args.png or args.svg):
        p.error("--quiet without --png or --svg leaves nothing to do")
    if args.check and (args.png or args.svg or args.quiet):
        p.error("--check only validates: it draws nothing (no --png, --svg or --quiet)")
    try:
        trace = load(args.file)
    except TraceError as e:
        sys.stderr.write(f"scripts/timeline: error: {args.file}: {e}\n")
        return 2
    trace.until_us = args.until
    if args.check:
        problem = check(trace)
        if problem:
            text = f"{args.file}: {problem}"
            print(text.replace("µs", "us") if args.ascii else text)
            return 1
        print(check_words(trace, args.ascii))
        return 0
    if not args.quiet:
        print("\n".join(chart(trace, args.width, args.ascii, args.title)))
    if args.png or args.svg:
        try:
            draw(trace, args.png, args.svg, args.title, args.ascii)
        except PlotError as e:
            sys.stdout.flush()
            sys.stderr.write(f"scripts/timeline: {e}\n")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
