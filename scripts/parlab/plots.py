"""scripts/plot: the report's figures, drawn with gnuplot.

Usage: scripts/plot RUNDIR

Reads RUNDIR/results.csv (scripts/derive), run.env (CORES), micro.jsonl
(the floors under the models) and metrics.csv when present.  Draws each
figure as RUNDIR/NAME.png (pngcairo) and RUNDIR/NAME.svg, and keeps what
is behind it in RUNDIR/data/: NAME.gp (run it there: `gnuplot NAME.gp`),
NAME.body.gp, the data NAME*.dat and gnuplot's messages NAME.log.  Prints
the name of each figure it drew:

  wall_WORKLOAD, speedup_WORKLOAD  scaling suite: wall time and speedup
                                   against the worker count (-j)
  granularity                      efficiency against task size
  overhead                         overhead per task next to the floor
                                   under each model (micro.jsonl)
  memory, created                  peak RSS; threads and processes created
  abstraction                      concurrency calls written by hand
                                   against efficiency (area: lines of code)
  folders_bound                    folders: wall time against its bound

Every point is a median with its 95 % interval drawn as error bars; a
figure that is not determined is drawn hollow.  A model has the same
colour and point shape in every figure (the order of
benchmarks/suites/models).  A figure whose data the run does not have is
not drawn (and an older picture of that name is removed).  A gnuplot
error or warning fails that figure: its message on stderr, the other
figures are still drawn, and the exit status is 1.
"""
import math
import os
import re
import subprocess
import sys
from dataclasses import dataclass

from . import cli
from .compose import model_order, read_metrics
from .micro import FLOOR_OF
from .derive import CPU_BOUND_WORKLOADS, read_env
from .fmt import sig
from .granularity import MinGrain
from .micro import Micro
from .results import COLUMNS, Results, read

W, H = 1400, 850            # the canvas, in pixels (the page shows it at 100 % up to 1400 px)
FONT_PT = 18                # the terminal's font; smaller text is relative to it
SVG_FONT_PT = 24            # the svg terminal counts its font in pixels: 18 pt of pngcairo
KEY_PT = 17                 # the legend's font
SUB = 0.9                   # subtitles and captions, relative to FONT_PT
LABEL = 0.85                # labels at bars and bubbles, relative to FONT_PT
PS = 2.1                    # point size
SVG_POINT = 0.32            # the svg terminal draws a point that much bigger (with a 24 px font)
CHAR = 0.7                  # pixels per point of font size per character (DejaVu Sans, an estimate)
FIXED = ("granularity", "overhead", "memory", "created", "abstraction", "folders_bound")
LABEL_BUDGET = 20           # characters: a longer model name is abbreviated on a categorical axis
FAILED = ("failed", "timeout", "wrong")

# Colour-blind safe (Okabe-Ito, then Tol's muted); serial is black.  A
# model's colour, filled point type and dash pattern come from its place in
# benchmarks/suites/models; its hollow point type is the filled one - 1.
COLOURS = ["#222222", "#0072B2", "#56B4E9", "#E69F00", "#D55E00", "#009E73", "#CC79A7",
           "#8C6D1F", "#332288", "#882255", "#117733", "#44AA99", "#999933", "#AA4499"]
POINTS = [7, 5, 9, 11, 13, 15]
GREY = "#888888"


class PlotError(Exception):
    pass


# --- text --------------------------------------------------------------------------

def enh(text):
    """Text shown literally in gnuplot's enhanced mode."""
    for ch in "\\^_{}@&~":
        text = text.replace(ch, "\\" + ch)
    return text


def gq(text):
    """A gnuplot double-quoted string of text (which may hold enhanced
    markup and newlines)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def small(text, scale=SUB):
    """Text in a smaller font, relative to the terminal's."""
    return gq("{/*" + f"{scale:g} " + enh(text) + "}")


def text_px(text, pt=FONT_PT):
    """An estimate of a text's width in pixels."""
    return len(text) * pt * CHAR


def num(v):
    if v is None or (isinstance(v, float) and (math.isnan(v) or math.isinf(v))):
        return "NaN"
    return f"{v:.6g}"


def abbreviate(names, budget=LABEL_BUDGET):
    """({name: shown}, key): names longer than budget get a short form
    (the first letter of each part but the last: thread-pool-batches ->
    tp-batches, cut with '…' if still too long); key lists "short = name"
    for each name shortened, for a caption line in the figure."""
    shown, key, used = {}, [], set()
    for n in names:
        s = n
        if len(n) > budget:
            parts = re.split(r"[-_ ]", n)
            s = "".join(p[:1] for p in parts[:-1]) + ("-" if len(parts) > 1 else "") + parts[-1]
            if len(s) > budget:
                s = s[:budget - 1] + "…"
            base, i = s, 2
            while s in used or s in names:
                s = f"{base[:budget - len(str(i))]}{i}"
                i += 1
            key.append(f"{s} = {n}")
        used.add(s)
        shown[n] = s
    return shown, key


# --- styles -------------------------------------------------------------------------

class Styles:
    """The same colour, point type and dash per model in every figure."""

    def __init__(self, order):
        self.order = list(order)

    def _i(self, model):
        if model not in self.order:
            self.order.append(model)
        return self.order.index(model)

    def lt(self, model):
        return self._i(model) + 1

    def colour(self, model):
        return COLOURS[self._i(model) % len(COLOURS)]

    def pt(self, model):
        return POINTS[self._i(model) % len(POINTS)]

    def hollow(self, model):
        return self.pt(model) - 1

    def dt(self, model):
        return 1 if self._i(model) < 8 else 4

    def gp(self):
        lines = [f"set linetype {self.lt(m)} lc rgb '{self.colour(m)}' lw 3 pt {self.pt(m)} ps {PS}*psf "
                 f"dt {self.dt(m)}" for m in self.order]
        return "\n".join(lines)


# --- figures and drawing ---------------------------------------------------------------

class Figure:
    """A gnuplot script body and the data files it reads."""

    def __init__(self, name):
        self.name = name
        self.body = []
        self.files = {}

    def __call__(self, line):
        self.body.append(line)

    def data(self, suffix, header, rows):
        """Writes rows (lists of numbers and words) as NAME_SUFFIX.dat;
        returns the file name, as the script reads it (from data/)."""
        fn = f"{self.name}{'_' + suffix if suffix else ''}.dat"
        out = ["# " + "\t".join(header)]
        for r in rows:
            out.append("\t".join(num(v) if not isinstance(v, str) else
                                 ('"' + v.replace('"', "'") + '"' if (" " in v or not v) else v) for v in r))
        self.files[fn] = "\n".join(out) + "\n"
        return fn


def script(fig, styles):
    """The main script (both terminals) and the body it loads twice."""
    body = "\n".join(["reset", "set encoding utf8", styles.gp(),
                      # The legend's font: the svg terminal counts in pixels (fs scales).
                      f"KF = sprintf(\"',%g'\", {KEY_PT} * fs)",
                      "set grid lc rgb '#dddddd' lw 1 dt 1", "set border lw 1.5",
                      "set key opaque nobox samplen 2.5 spacing 1.15 font @KF",
                      "set errorbars 1.2"] + fig.body) + "\n"
    main = "\n".join([
        f"# {fig.name}: run from this folder with `gnuplot {fig.name}.gp`; the plot is {fig.name}.body.gp",
        "set encoding utf8",
        f"set terminal pngcairo size {W},{H} font 'sans,{FONT_PT}' enhanced",
        f"set output '../{fig.name}.png'",
        "fs = 1.0; psf = 1.0",
        f"load '{fig.name}.body.gp'",
        "unset output",
        f"set terminal svg size {W},{H} font 'sans,{SVG_FONT_PT}' enhanced dynamic background rgb 'white'",
        f"set output '../{fig.name}.svg'",
        f"fs = {SVG_FONT_PT / FONT_PT:.4f}; psf = {SVG_POINT:.4f}",
        f"load '{fig.name}.body.gp'",
        "unset output", ""])
    return main, body


# A message of gnuplot's that means it lost data or did not understand
# the script (it may still exit 0 for the warnings).
_BAD = re.compile(r"warning|error|undefined|no valid points|skipping|cannot|can't|unknown|unexpected|invalid",
                  re.I)


def run_gnuplot(name, datadir, gnuplot="gnuplot"):
    """Runs datadir/NAME.gp; raises PlotError with gnuplot's message on an
    error or a warning (the pictures are then removed)."""
    try:
        p = subprocess.run([gnuplot, f"{name}.gp"], cwd=datadir, capture_output=True, text=True, timeout=300)
    except FileNotFoundError:
        raise PlotError(f"{gnuplot} not found (install gnuplot-nox)")
    except subprocess.TimeoutExpired:
        raise PlotError(f"gnuplot took more than 300 s on {name}")
    err = p.stderr or ""
    with open(os.path.join(datadir, f"{name}.log"), "w") as f:
        f.write(err)
    bad = [l for l in err.splitlines() if _BAD.search(l) and not l.startswith("Fontconfig")]
    if p.returncode != 0 or bad:
        for ext in ("png", "svg"):
            try:
                os.remove(os.path.join(datadir, "..", f"{name}.{ext}"))
            except OSError:
                pass
        lines = [l for l in err.splitlines() if l.strip()]
        detail = " | ".join(l.strip() for l in lines[-6:]) or f"exit status {p.returncode}"
        raise PlotError(f"gnuplot failed on {name} (data/{name}.gp, log data/{name}.log): {detail}")


def draw(fig, rundir, styles, gnuplot="gnuplot"):
    datadir = os.path.join(rundir, "data")
    os.makedirs(datadir, exist_ok=True)
    for fn, text in fig.files.items():
        with open(os.path.join(datadir, fn), "w") as f:
            f.write(text)
    main, body = script(fig, styles)
    with open(os.path.join(datadir, f"{fig.name}.gp"), "w") as f:
        f.write(main)
    with open(os.path.join(datadir, f"{fig.name}.body.gp"), "w") as f:
        f.write(body)
    run_gnuplot(fig.name, datadir, gnuplot)


# --- the run ----------------------------------------------------------------------------

@dataclass
class Pt:
    x: float
    value: float
    lo: float
    hi: float
    det: bool
    status: str = "ok"


def pt(row, x):
    """A results row as a point: a missing interval end is the value."""
    lo = row.ci_lo if row.ci_lo is not None else row.value
    hi = row.ci_hi if row.ci_hi is not None else row.value
    return Pt(float(x), row.value, lo, hi, row.status == "ok", row.status or "ok")


class Run:
    def __init__(self, rundir):
        self.dir = rundir
        self.res = Results(read(os.path.join(rundir, "results.csv")))
        env = read_env(os.path.join(rundir, "run.env"))
        try:
            self.cores = int(env.get("CORES") or 0) or os.cpu_count() or 1
        except ValueError:
            self.cores = os.cpu_count() or 1
        self.bound = float(env.get("BOUND") or 0.05)
        self.models = model_order()
        self.styles = Styles(self.models)
        self.micro = Micro(os.path.join(rundir, "micro.jsonl"), self.bound)
        self.metrics = read_metrics(os.path.join(rundir, "metrics.csv"))

    def ordered(self, names):
        names = list(dict.fromkeys(names))
        return [m for m in self.models if m in names] + [m for m in names if m not in self.models]

    def core_jobs(self, suite="scaling"):
        js = [j for j in self.res.jobs(suite) if 1 < j <= self.cores]
        return js[-1] if js else None


def params(row):
    """-n 400 --work-us 500 (--scale when not 1) of a row."""
    if row is None:
        return ""
    t = f"-n {row.tasks}" if row.tasks else ""
    if row.work_us not in ("", "0"):
        t += f" --work-us {row.work_us}"
    if row.scale not in ("", "1"):
        t += f" --scale {row.scale}"
    return t.strip()


def speedup_top(his, cores, headroom=1.12):
    """The top of a speedup axis: the core count or the largest upper
    interval end, whichever is larger, with some headroom."""
    return max([float(cores)] + [h for h in his if h is not None]) * headroom


def efficiency_top(his):
    """The top of an efficiency axis: max(1.1, the largest upper end + 5 %)."""
    return max([1.1] + [h * 1.05 for h in his if h is not None])


def nice_step(top, target=6, integer=False):
    """A tick step of 1, 2 or 5 x 10^k giving about `target` ticks to top."""
    if top <= 0:
        return 1
    raw = top / target
    k = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * k >= raw:
            step = m * k
            break
    if integer:
        step = max(1, round(step))
    return step


def jobs_axis(fig, jobs):
    """x: the worker counts of the grid (log 2 beyond 8), ticks at them."""
    jobs = sorted(set(jobs))
    tics = ", ".join(f'"{j}" {j}' for j in jobs)
    if jobs[-1] > 8:
        fig("set logscale x 2")
        fig(f"set xrange [{jobs[0] / 1.4:g}:{jobs[-1] * 1.4:g}]")
    else:
        fig(f"set xrange [{max(jobs[0] - 0.5, 0):g}:{jobs[-1] + 0.5:g}]")
    fig(f"set xtics ({tics})")
    fig("set mxtics 1")
    return jobs[-1] > 8


def dodge(k, count, logx, base=2.0):
    """The sideways shift of the k-th of count series at one x, so that
    their error bars do not hide each other."""
    c = k - (count - 1) / 2
    if logx:
        return lambda x: x * base ** (0.018 * c)
    return lambda x: x + 0.035 * c


def series(fig, run, suffix, model, pts, shift, with_line=True):
    """The plot clauses of one model's points: a line through them, the
    determined points filled and the others hollow, each with its interval."""
    st = run.styles
    rows = [[p.x, shift(p.x), p.value, p.lo, p.hi, 1 if p.det else 0, p.status] for p in pts]
    f = fig.data(suffix, ["x", "x_drawn", "median", "ci_lo", "ci_hi", "determined", "status"], rows)
    lt = st.lt(model)
    out = []
    if with_line and len(pts) > 1:
        out.append(f"'{f}' using 2:3 with lines lt {lt} notitle")
    if any(p.det for p in pts):
        out.append(f"'{f}' using 2:($6>0?$3:NaN):4:5 with yerrorbars lt {lt} dt 1 lw 2 pt {st.pt(model)} "
                   f"ps {PS}*psf notitle")
    if any(not p.det for p in pts):
        # White inside, so that the point is hollow over the line too.
        out.append(f"'{f}' using 2:($6>0?NaN:$3) with points pt {st.pt(model)} ps {PS * 0.8:.2f}*psf "
                   "lc rgb 'white' notitle")
        out.append(f"'{f}' using 2:($6>0?NaN:$3):4:5 with yerrorbars lt {lt} dt 1 lw 2 pt {st.hollow(model)} "
                   f"ps {PS}*psf notitle")
    return out


def key_model(run, model, text=None, line=True):
    st = run.styles
    return (f"keyentry with {'linespoints' if line else 'points'} lt {st.lt(model)} pt {st.pt(model)} ps {PS}*psf "
            f"title {gq(enh(text or model))}")


HOLLOW_KEY = f"keyentry with points pt 6 ps {PS}*psf lw 2 lc rgb '#444444' title \"hollow: not determined\""
IDEAL = f"lc rgb '{GREY}' lw 2.5 dt (10,6)"


def heading(fig, main, sub=""):
    """The figure's title, centred on the canvas (never clipped by a
    legend): the main line, and the parameters in smaller lines under it.
    Returns the top of the plot area (a screen fraction)."""
    y = 1 - 30 / H
    for line in wrap(main, int(W * 0.94 / (FONT_PT * CHAR * 1.05))):
        fig(f"set label {gq('{/:Bold ' + enh(line) + '}')} at screen 0.5, {y:.4f} center front")
        y -= 30 / H
    for line in (wrap(sub, int(W * 0.93 / (FONT_PT * SUB * 0.64))) if sub else []):
        fig(f"set label {small(line)} at screen 0.5, {y + 3 / H:.4f} center front")
        y -= 25 / H
    return y - 12 / H


def frame(fig, top, keys, bottom=0.12, left=0.08, xlabel="", ylabel=""):
    """A plot area of fixed size, the legend in a column to its right,
    sized to its longest entry."""
    longest = max([len(k) for k in keys] + [0])
    keypx = longest * KEY_PT * 0.66 + 100 if keys else 0
    right = 1 - (keypx + 20) / W
    fig(f"set lmargin at screen {left:.4f}; set rmargin at screen {right:.4f}")
    fig(f"set tmargin at screen {top:.4f}; set bmargin at screen {bottom:.4f}")
    fig(f"set key at screen {right + 12 / W:.4f}, {top:.4f} left top vertical Left reverse width -1")
    axis_labels(fig, xlabel, ylabel, left, right, top, bottom)
    return right


def axis_labels(fig, xlabel, ylabel, left, right, top, bottom):
    """The axes' labels at fixed places (gnuplot's own move with the
    terminal's idea of the font's size: the svg's would leave the canvas)."""
    if xlabel:
        fig(f"set label {gq(enh(xlabel))} at screen {(left + right) / 2:.4f}, {bottom - 68 / H:.4f} center front")
    if ylabel:
        fig(f"set label {gq(enh(ylabel))} at screen {left - 82 / W:.4f}, {(top + bottom) / 2:.4f} center "
            "rotate by 90 front")


def key_title(entry):
    """The title of a keyentry clause (to size the legend)."""
    i = entry.rfind('title "')
    return entry[i + 7:-1] if i >= 0 else ""



def wrap(text, width=95):
    """Caption text in lines of at most width characters, of about the
    same length (no word left alone on a last line)."""
    lines = _wrap(text, width)
    if len(lines) > 1:
        # Break between the "; " parts when that takes no more lines.
        parts = text.split("; ")
        best = None
        for target in range(math.ceil(len(text) / len(lines)), width + 1):
            out, line = [], ""
            for part in parts:
                cand = f"{line}; {part}" if line else part
                if line and len(cand) > target:
                    out.append(line + ";")
                    line = part
                else:
                    line = cand
            out.append(line)
            if len(out) == len(lines) and all(len(l) <= width for l in out):
                best = out
                break
        if best:
            return best
        target = math.ceil(len(text) / len(lines)) + 2
        even = _wrap(text, target)
        if len(even) == len(lines):
            return even
    return lines


def _wrap(text, width):
    out, line = [], ""
    for w in text.split(" "):
        if line and len(line) + 1 + len(w) > width:
            out.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    return out + ([line] if line else [])


# --- 1. scaling: wall time and speedup ---------------------------------------------------

def scaling(run):
    figs = []
    for w in sorted({r.workload for r in run.res.find(suite="scaling")}, reverse=True):
        figs += [scaling_figure(run, w, "wall_s"), scaling_figure(run, w, "speedup")]
    return [f for f in figs if f]


SHIFTED = "models shifted sideways to keep their bars apart"


def ci_words(pts):
    """What the error bars are, or that there are none (too few rounds)."""
    if any(p.lo != p.hi for p in pts):
        return "medians, bars: 95 % intervals"
    return "medians; no intervals (too few rounds)"


def finish(fig, top, plots, keys, xlabel, ylabel, bottom=0.12):
    frame(fig, top, [key_title(k) for k in keys], bottom, xlabel=xlabel, ylabel=ylabel)
    fig("plot " + ", \\\n     ".join(plots + keys))


def scaling_figure(run, w, stat):
    wall = stat == "wall_s"
    name = f"{'wall' if wall else 'speedup'}_{w}"
    serial = run.res.one(suite="scaling", workload=w, model="serial", statistic="wall_s")
    models = [m for m in run.ordered(run.res.models("scaling", w)) if m != "serial"]
    data, failed = {}, {}
    for m in models:
        pts = [pt(r, r.jobs) for r in run.res.find(suite="scaling", workload=w, model=m, statistic=stat)
               if r.value is not None and str(r.jobs).isdigit()]
        if pts:
            data[m] = sorted(pts, key=lambda p: p.x)
        bad = [int(r.jobs) for r in run.res.find(suite="scaling", workload=w, model=m, statistic="wall_s")
               if r.value is None and r.status in FAILED and str(r.jobs).isdigit()]
        if bad:
            failed[m] = bad
    if not data:
        return None
    fig = Figure(name)
    what = "wall time" if wall else "speedup over serial"
    top = heading(fig, f"{w}: {what} against worker count",
                  "; ".join(x for x in (params(serial), ci_words([p for ps in data.values() for p in ps]),
                                        SHIFTED) if x))
    jobs = sorted({int(p.x) for ps in data.values() for p in ps} | {j for b in failed.values() for j in b})
    logx = jobs_axis(fig, jobs)
    his = [p.hi for ps in data.values() for p in ps]
    plots, keys = [], []
    if wall:
        if serial is not None and serial.value is not None:
            lo = serial.ci_lo if serial.ci_lo is not None else serial.value
            hi = serial.ci_hi if serial.ci_hi is not None else serial.value
            his.append(hi)
            x0, x1 = (jobs[0] / 1.4, jobs[-1] * 1.4) if logx else (max(jobs[0] - 0.5, 0), jobs[-1] + 0.5)
            f = fig.data("serial", ["x", "median", "ci_lo", "ci_hi", "status"],
                         [[x0, serial.value, lo, hi, serial.status], [x1, serial.value, lo, hi, serial.status]])
            plots.append(f"'{f}' using 1:3:4 with filledcurves lc rgb '#222222' fs transparent solid 0.12 "
                         "noborder notitle")
            plots.append(f"'{f}' using 1:2 with lines lt 1 lw 2.5 dt 2 notitle")
            keys.append(f"keyentry with lines lt 1 lw 2.5 dt 2 title {gq('serial (-j 1); its interval shaded')}")
        fig(f"set yrange [0:{max(his) * 1.12:.6g}]")
    else:
        fig(f"set yrange [0:{speedup_top(his, run.cores):.6g}]")
        if w in CPU_BOUND_WORKLOADS:
            plots.append(f"(x < {run.cores} ? x : {run.cores}) with lines {IDEAL} notitle")
            keys.append(f"keyentry with lines {IDEAL} title {gq(f'ideal: min(workers, {run.cores} cores)')}")
        else:
            plots.append(f"x with lines {IDEAL} notitle")
            keys.append(f"keyentry with lines {IDEAL} title \"ideal: = workers\"")
        plots.append("1 with lines lt 1 lw 2.5 dt 2 notitle")
        keys.append("keyentry with lines lt 1 lw 2.5 dt 2 title \"serial (= 1)\"")
    fig("set format y '%g'")
    for k, m in enumerate(data):
        plots += series(fig, run, m, m, data[m], dodge(k, len(data), logx))
        keys.append(key_model(run, m))
    if failed:
        rows = [[j, m] for m, js in failed.items() for j in js]
        f = fig.data("failed", ["jobs", "model"], rows)
        plots.append(f"'{f}' using 1:(0) with points pt 2 ps 2.5*psf lw 3 lc rgb '#CC0000' notitle")
        keys.append("keyentry with points pt 2 ps 2.5*psf lw 3 lc rgb '#CC0000' "
                    "title \"×: failed, timeout or wrong\"")
    if any(not p.det for ps in data.values() for p in ps):
        keys.append(HOLLOW_KEY)
    finish(fig, top, plots, keys, "workers (-j)", "wall time (s)" if wall else "speedup over serial (×)")
    return fig


# --- 2. granularity ------------------------------------------------------------------------

def granularity(run):
    rows = [r for r in run.res.find(suite="granularity", statistic="efficiency")
            if r.value is not None and r.model != "serial"]
    if not rows:
        return None
    fig = Figure("granularity")
    models = run.ordered([r.model for r in rows])
    jobs = next((r.jobs for r in rows), "?")
    sizes = sorted({float(r.work_us) for r in rows})
    top = heading(fig, f"squares: efficiency against task size, {jobs} workers",
                  f"the same total CPU work at every size; {ci_words([pt(r, 0) for r in rows])}; {SHIFTED}")
    fig("set logscale x 10")
    fig(f"set xrange [{sizes[0] / 1.5:.6g}:{sizes[-1] * 1.5:.6g}]")
    fig("set xtics (" + ", ".join(f'"{s:g}" {s:g}' for s in sizes) + ")")
    fig("set mxtics 1")
    his = [r.ci_hi if r.ci_hi is not None else r.value for r in rows]
    ytop = efficiency_top(his)
    fig(f"set yrange [0:{ytop:.6g}]")
    fig(f"set ytics 0, {0.2 if ytop <= 2 else nice_step(ytop)}")
    fig("set format y '%g'")
    plots = [f"0.5 with lines {IDEAL} notitle"]
    keys = [f"keyentry with lines {IDEAL} title \"50 % efficiency\"",
            "keyentry with points pt -1 lc rgb 'white' title \"{/:Bold model: min. task size for 50 %}\""]
    for k, m in enumerate(models):
        pts = sorted([pt(r, r.work_us) for r in rows if r.model == m], key=lambda p: p.x)
        plots += series(fig, run, m, m, pts, dodge(k, len(models), True, base=10.0))
        g = run.res.one(suite="granularity", model=m, statistic="min_grain_us")
        text = "–"
        if g is not None:
            mg = MinGrain(g.status, g.value, g.ci_lo, g.ci_hi, g.why)
            text = mg.text() if mg.determined else "n.d."
        keys.append(key_model(run, m, f"{m}: {text}"))
    if any(r.status != "ok" for r in rows):
        keys.append(HOLLOW_KEY)
    finish(fig, top, plots, keys, "task size (--work-us: µs of CPU work per task)",
           "efficiency = speedup ÷ workers")
    return fig


# --- horizontal bars (categorical axes) -------------------------------------------------------

class Bars:
    """Horizontal bars, one band per category, top to bottom: the
    category names are written horizontally, so they never overlap; a
    name longer than LABEL_BUDGET is abbreviated, with a key."""

    def __init__(self, fig, run, names):
        self.fig, self.run = fig, run
        self.names = names
        self.shown, self.key = abbreviate(names)
        self.n = len(names)

    def y(self, i):
        return self.n - i

    def left(self):
        """The left margin (screen fraction) that the names need."""
        return (max(len(self.shown[n]) for n in self.names) * FONT_PT * CHAR + 40) / W

    def axis(self, blank=False):
        tics = ", ".join(f"{gq('' if blank else enh(self.shown[n]))} {self.y(i)}" for i, n in enumerate(self.names))
        self.fig(f"set yrange [0.45:{self.n + 0.55}]")
        self.fig(f"set ytics ({tics}) scale 0")
        self.fig("set grid noytics xtics")
        self.fig("unset mytics")


def key_caption(fig, key, y=12 / H):
    """The abbreviation key as caption lines at the bottom of the canvas;
    returns the height they take (a screen fraction)."""
    if not key:
        return 0
    lines = wrap("Abbreviations: " + "; ".join(key), int(W * 0.95 / (FONT_PT * SUB * CHAR)))
    for i, line in enumerate(reversed(lines)):
        fig(f"set label {small(line)} at screen 0.015, {y + i * 24 / H:.4f} left front")
    return len(lines) * 24 / H + 8 / H


def xlabel_at(fig, text, left, right, bottom):
    """An x-axis label at a fixed distance under the plot area (gnuplot's
    own moves with the terminal's idea of the font's height, into the
    legend under it)."""
    fig(f"set label {gq(enh(text))} at screen {(left + right) / 2:.4f}, {bottom - 68 / H:.4f} center front")


def legend_row(fig, entries, y, scale=0.9):
    """A legend of swatches in rows centred under the plot, drawn as
    objects and labels (gnuplot's own key cannot be trusted to fit).
    entries: (fill, colour, text) with fill "solid", "pattern" or "empty";
    y: the screen fraction of the lowest row.  Returns the rows' height."""
    pt_ = FONT_PT * scale
    sw, gap, space = 44, 10, 40
    widths = [sw + gap + text_px(t, pt_) for _, _, t in entries]
    rows, row, width = [], [], 0
    for e, w_ in zip(entries, widths):
        if row and width + space + w_ > W * 0.94:
            rows.append(row)
            row, width = [], 0
        row.append((e, w_))
        width += w_ + (space if len(row) > 1 else 0)
    if row:
        rows.append(row)
    for r_i, row in enumerate(reversed(rows)):
        yy = (y * H + 14 + r_i * 32)
        total = sum(w_ for _, w_ in row) + space * (len(row) - 1)
        x = (W - total) / 2
        for (fill, colour, text), w_ in row:
            style = {"solid": f"fc rgb '{colour}' fs solid 0.85 border lc rgb '#333333'",
                     "pattern": f"fc rgb '{colour}' fs pattern 4 border lc rgb '{colour}'",
                     "empty": f"fc rgb 'white' fs solid 1 border lc rgb '{colour}' lw 3"}[fill]
            fig(f"set object rect from screen {x / W:.4f}, {(yy - 10) / H:.4f} to screen {(x + sw) / W:.4f}, "
                f"{(yy + 10) / H:.4f} {style} front")
            fig(f"set label {gq('{/*' + f'{scale:g} ' + enh(text) + '}')} at screen {(x + sw + gap) / W:.4f}, "
                f"{yy / H:.4f} left front")
            x += w_ + space
    return (len(rows) * 32 + 8) / H


# --- 3. overhead per task and the floors -------------------------------------------------------

FLOOR_WORDS = {"floor.condvar": "mutex+condvar round trip", "floor.pipe": "pipe round trip",
               "floor.thread_create_join": "thread create+join", "floor.fork_wait": "fork+wait",
               "floor.omp_fork_join.default": "OpenMP fork-join", "floor.omp_task": "OpenMP empty task"}
PLACEMENT_WORDS = {"same-core": "same core", "cross-core": "cross-core", "unpinned": "unpinned"}
PLACEMENT_GREY = {"same-core": "#555555", "unpinned": "#555555", "cross-core": "#AAAAAA"}


def floors_of(run, model):
    """The floor figures under a model, one per placement (the floors
    program's when two programs measured the same key)."""
    found = {}
    for f in sorted(run.micro.placements(FLOOR_OF.get(model, "")), key=lambda f: f.benchmark != "floors"):
        if f.value is not None and f.placement not in found:
            found[f.placement] = f
    order = ("same-core", "cross-core", "unpinned")
    return [found[p] for p in order if p in found] + [f for p, f in found.items() if p not in order]


def ns_text(v):
    """A time in ns as the report says it: 452 ns, 1.03 µs, 12.4 ms."""
    for scale, unit in ((1e9, "s"), (1e6, "ms"), (1e3, "µs")):
        if abs(v) >= scale:
            return f"{sig(v / scale)} {unit}"
    return f"{sig(v)} ns"


def tick_ns(v):
    for scale, unit in ((1e9, "s"), (1e6, "ms"), (1e3, "µs")):
        if v >= scale:
            return f"{v / scale:g} {unit}"
    return f"{v:g} ns"


def log_span(items, width_px, pt):
    """(xmin, xmax) of a log axis on which each item's bar (to its upper
    end) and then its label fit in width_px.  items: (lo, hi, label);
    xmin is the power of ten under the lowest end."""
    lows = [lo for lo, _, _ in items if lo is not None and lo > 0] + [h for _, h, _ in items if h and h > 0]
    xmin = 10 ** math.floor(math.log10(min(lows)))
    decades = 1.0
    for _, hi, label in items:
        share = min(0.8, (text_px(label, pt) + 24) / width_px)
        need = math.log10(max(hi or xmin, xmin) / xmin) / (1 - share) if hi else 0
        decades = max(decades, need)
    return xmin, xmin * 10 ** (decades * 1.02)


def overhead(run):
    rows = {r.model: r for r in run.res.find(suite="overhead", statistic="overhead_ns_per_task")
            if r.value is not None and r.model != "serial"}
    if not rows:
        return None
    fig = Figure("overhead")
    names = run.ordered(list(rows))
    bars = Bars(fig, run, names)
    n = next((r.tasks for r in rows.values()), "?")
    floors = any(floors_of(run, m) for m in names)
    top = heading(fig, "Overhead per task next to the floor under each model",
                  f"bare squares (-n {n}, no work per task), round by round; "
                  f"{'floors: build/micro in this run' if floors else 'no floors (build/micro did not run)'}; "
                  f"{ci_words([pt(r, 0) for r in rows.values()])}")
    items = []       # (y, bar height, value, lo, hi, determined, colour, kind, label)
    for i, m in enumerate(names):
        p = pt(rows[m], 0)
        fl = floors_of(run, m)
        k = 1 + (max(len(fl), 1) if floors else 0)
        h = min(0.34, 0.86 / k)
        y0 = bars.y(i) + (k - 1) * h / 2
        items.append((y0, h, p.value, p.lo, p.hi, p.det, run.styles.colour(m), "overhead", ns_text(p.value)))
        for j, f in enumerate(fl):
            lo = f.ci_lo if f.ci_lo is not None else f.value
            hi = f.ci_hi if f.ci_hi is not None else f.value
            base = FLOOR_OF.get(m, "")
            words = f"{FLOOR_WORDS.get(base, base)}, {PLACEMENT_WORDS.get(f.placement, f.placement)}"
            items.append((y0 - (j + 1) * h, h, f.value, lo, hi, f.status == "ok",
                          PLACEMENT_GREY.get(f.placement, GREY), f.placement, f"{ns_text(f.value)}  {words}"))
        if not fl and floors:
            items.append((y0 - h, h, None, None, None, True, GREY, "none", "floor: not measured in this run"))
    nkey = key_caption(fig, bars.key)
    kinds = {it[7] for it in items}
    entries = [("solid", run.styles.colour(names[0]), "overhead per task (in the model's colour)")]
    if kinds & {"same-core", "unpinned"}:
        entries.append(("solid", "#555555", "floor" + (": same core or unpinned" if "cross-core" in kinds else "")))
    if "cross-core" in kinds:
        entries.append(("solid", "#AAAAAA", "floor: cross-core"))
    if any(not it[5] for it in items if it[2] is not None):
        entries.append(("empty", "#444444", "hollow: not determined"))
    bottom = nkey + legend_row(fig, entries, nkey) + 75 / H
    left = bars.left()
    fig(f"set lmargin at screen {left:.4f}; set rmargin at screen 0.975")
    fig(f"set tmargin at screen {top:.4f}; set bmargin at screen {bottom:.4f}")
    xlabel_at(fig, "time per task (log scale)", left, 0.975, bottom)
    drawn = [(it[3], it[4], it[8]) for it in items if it[2] is not None and it[2] > 0]
    if not drawn:
        return None
    xmin, xmax = log_span(drawn, (0.975 - left) * W, FONT_PT * LABEL)
    fig("set logscale x 10")
    fig(f"set xrange [{xmin * 0.999:g}:{xmax:g}]")
    # A tick at each power of ten; at 2 and 5 too on a short axis.
    steps = (1, 2, 5) if math.log10(xmax / xmin) < 2.5 else (1,)
    tics, d = [], xmin
    while d <= xmax * 1.001:
        tics += [f'"{tick_ns(d * m)}" {d * m:g}' for m in steps if d * m <= xmax * 1.001]
        d *= 10
    fig("set xtics (" + ", ".join(tics) + ")")
    fig("set mxtics 10")
    bars.axis()
    filled, hollow, errs = [], [], []
    for (y, h, v, lo, hi, det, colour, kind, label) in items:
        if v is None or v <= 0:
            text = label if v is None else f"median {ns_text(v)}: not on a log scale"
            fig(f"set label {small(text, LABEL)} at {xmin:g}, {y:.4f} left offset 0.5,0 front")
            continue
        rgb = int(colour[1:], 16)
        (filled if det else hollow).append([xmin, y, xmin, v, y - h / 2 * 0.92, y + h / 2 * 0.92, rgb, kind])
        errs.append([v, y, max(lo, xmin), hi, rgb])
        fig(f"set label {small(label, LABEL)} at {max(hi, v):.6g}, {y:.4f} left offset 0.6,0 front")
    plots = []
    if filled:
        f = fig.data("bars", ["x", "y", "xlow", "xhigh", "ylow", "yhigh", "rgb", "kind"], filled)
        plots.append(f"'{f}' using 1:2:3:4:5:6:7 with boxxyerror lc rgb variable fs solid 0.85 "
                     "border lc rgb '#333333' notitle")
    if hollow:
        f = fig.data("bars_nd", ["x", "y", "xlow", "xhigh", "ylow", "yhigh", "rgb", "kind"], hollow)
        plots.append(f"'{f}' using 1:2:3:4:5:6:7 with boxxyerror lc rgb variable lw 3 fs empty border notitle")
    f = fig.data("intervals", ["median", "y", "ci_lo", "ci_hi", "rgb"], errs)
    plots.append(f"'{f}' using 1:2:3:4 with xerrorbars lc rgb '#000000' lw 2 pt 7 ps 0.8*psf notitle")
    fig("unset key")
    fig("plot " + ", \\\n     ".join(plots))
    return fig


# --- 4. resources: memory and threads/processes created ----------------------------------------

def resource_rows(run, stat):
    """{(model, workload): row} at the largest -j of the workload (serial at -j 1)."""
    out, maxj = {}, {}
    for w in ("squares", "sleep"):
        js = run.res.jobs("scaling", w)
        if not js:
            continue
        maxj[w] = js[-1]
        for m in run.res.models("scaling", w):
            r = run.res.one(suite="scaling", workload=w, model=m, statistic=stat, jobs=1 if m == "serial" else js[-1])
            if r is not None and r.value is not None:
                out[(m, w)] = r
    return out, maxj


WORKLOAD_FILL = {"squares": "fs solid 0.85 border", "sleep": "fs pattern 4 border"}


def jobs_words(maxj):
    js = sorted(set(maxj.values()))
    if len(js) == 1:
        return f"-j {js[0]} (serial: -j 1)"
    return ", ".join(f"{w} -j {j}" for w, j in maxj.items()) + " (serial: -j 1)"


def workload_bars(fig, run, bars, data, scale=1.0, fmt=sig, panel=""):
    """Two bars per band (squares solid, sleep hatched) in the model's
    colour, each with its value written at its end; returns the plot
    clauses, the largest value, the workloads drawn and whether some
    value was not determined."""
    workloads = [w for w in ("squares", "sleep") if any(k[1] == w for k in data)]
    k = len(workloads)
    h = min(0.4, 0.84 / max(k, 1))
    per = {w: [] for w in workloads}
    nd, top = [], 0
    for i, m in enumerate(bars.names):
        y0 = bars.y(i) + (k - 1) * h / 2
        for j, w in enumerate(workloads):
            r = data.get((m, w))
            y = y0 - j * h
            if r is None:
                continue
            v = r.value * scale
            top = max(top, v)
            row = [0, y, 0, v, y - h / 2 * 0.9, y + h / 2 * 0.9, run.styles.lt(m), w]
            (per[w] if r.status == "ok" else nd).append(row)
            fig(f"set label {small(fmt(v), LABEL)} at {v:.6g}, {y:.4f} left offset 0.5,0 front")
    plots = []
    for w, rows in per.items():
        if rows:
            f = fig.data(f"{panel}{w}", ["x", "y", "xlow", "xhigh", "ylow", "yhigh", "lt", "workload"], rows)
            plots.append(f"'{f}' using 1:2:3:4:5:6:7 with boxxyerror lc variable {WORKLOAD_FILL[w]} notitle")
    if nd:
        f = fig.data(f"{panel}nd", ["x", "y", "xlow", "xhigh", "ylow", "yhigh", "lt", "workload"], nd)
        plots.append(f"'{f}' using 1:2:3:4:5:6:7 with boxxyerror lc variable lw 3 fs empty border notitle")
    return plots, top, workloads, bool(nd)


def workload_entries(workloads, nd):
    out = [("solid" if w == "squares" else "pattern", "#555555",
            w + (" (solid)" if w == "squares" else " (hatched)")) for w in workloads]
    if nd:
        out.append(("empty", "#444444", "hollow: not determined"))
    return out + [("empty", "white", "colour: the model")]


def memory(run):
    data, maxj = resource_rows(run, "max_rss_kb")
    if not data:
        return None
    fig = Figure("memory")
    bars = Bars(fig, run, run.ordered([m for m, _ in data]))
    top = heading(fig, "Peak memory: max RSS of the program",
                  jobs_words(maxj) + "; one run with --stats; a forked child's memory is not counted")
    plots, vmax, workloads, nd = workload_bars(fig, run, bars, data, 1 / 1024, lambda v: f"{v:.1f}")
    nkey = key_caption(fig, bars.key)
    bottom = nkey + legend_row(fig, workload_entries(workloads, nd), nkey) + 75 / H
    fig(f"set lmargin at screen {bars.left():.4f}; set rmargin at screen 0.965")
    fig(f"set tmargin at screen {top:.4f}; set bmargin at screen {bottom:.4f}")
    xlabel_at(fig, "max RSS (MiB)", bars.left(), 0.965, bottom)
    fig(f"set xrange [0:{vmax * 1.1:.6g}]")
    fig("set format x '%g'")
    bars.axis()
    fig("unset key")
    fig("plot " + ", \\\n     ".join(plots))
    return fig


def created(run):
    th, maxj = resource_rows(run, "threads_created")
    pr, _ = resource_rows(run, "processes_created")
    if not th and not pr:
        return None
    fig = Figure("created")
    names = run.ordered([m for m, _ in list(th) + list(pr)])
    bars = Bars(fig, run, names)
    fig("set multiplot")
    top = heading(fig, "Threads and processes created by one run",
                  jobs_words(maxj) + "; from --stats; not counting the main thread") - 40 / H
    nkey = key_caption(fig, bars.key)
    left = bars.left()
    mid = left + (0.975 - left) / 2
    nd_any = any(r.status != "ok" for r in list(th.values()) + list(pr.values()))
    workloads = [w for w in ("squares", "sleep") if any(k[1] == w for k in list(th) + list(pr))]
    bottom = nkey + legend_row(fig, workload_entries(workloads, nd_any), nkey) + 75 / H
    for p, (data, what) in enumerate(((th, "threads created"), (pr, "processes created"))):
        x0, x1 = (left, mid - 0.02) if p == 0 else (mid + 0.02, 0.975)
        fig(f"set lmargin at screen {x0:.4f}; set rmargin at screen {x1:.4f}")
        fig(f"set tmargin at screen {top:.4f}; set bmargin at screen {bottom:.4f}")
        fig(f"set title {gq(what)}")
        xlabel_at(fig, "count", x0, x1, bottom)
        plots, vmax, _, _ = workload_bars(fig, run, bars, data, 1.0, lambda v: f"{v:.0f}",
                                          panel="threads_" if p == 0 else "processes_")
        vmax = max(vmax, 1)
        step = nice_step(vmax, 5, integer=True)
        fig(f"set xrange [0:{max(vmax * 1.15, vmax + step * 0.5):.6g}]")
        fig(f"set xtics 0, {step}")
        fig("set format x '%.0f'")
        fig("unset mxtics")
        bars.axis(blank=p == 1)
        fig("unset key")
        if not plots:
            fig(f"set label {small('not measured in this run')} at graph 0.5, 0.5 center front")
        fig("plot " + ", \\\n     ".join(plots or ["-1 notitle"]))
        fig("unset label; unset object")
    fig("unset multiplot")
    return fig


# --- 5. abstraction against control ------------------------------------------------------------

def gap_to(rect, cx, cy, r):
    """The distance from a rectangle to a circle's edge (0 when they touch)."""
    nx = min(max(cx, rect[0]), rect[2])
    ny = min(max(cy, rect[1]), rect[3])
    return max(0.0, math.hypot(nx - cx, ny - cy) - r)


def place_labels(bubbles, box, pt=FONT_PT * LABEL):
    """Positions for the bubbles' labels that collide with neither other
    labels nor bubbles.  bubbles: (cx, cy, r, text) in pixels (y down);
    box: (x0, y0, x1, y1) the plot area.  Returns, per bubble, (x, y,
    align, leader): leader is True when the label is not right or left
    of its bubble and gets a line to it."""
    h = pt * 4 / 3 * 1.2
    placed = []
    out = [None] * len(bubbles)

    def overlap(a, b):
        return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))

    # The biggest bubbles first: their labels have the fewest good places.
    for i in sorted(range(len(bubbles)), key=lambda i: (-bubbles[i][2], bubbles[i][1], bubbles[i][0])):
        cx, cy, r, text = bubbles[i]
        w = text_px(text, pt)
        g = r + 6
        near = [(cx + g, cy, "left"), (cx - g, cy, "right"),
                (cx + g * 0.7, cy - g * 0.7 - h / 2, "left"), (cx + g * 0.7, cy + g * 0.7 + h / 2, "left"),
                (cx - g * 0.7, cy - g * 0.7 - h / 2, "right"), (cx - g * 0.7, cy + g * 0.7 + h / 2, "right"),
                (cx, cy - g - h / 2, "center"), (cx, cy + g + h / 2, "center")]
        far = []
        for step in range(1, 12):
            for sgn in (1, -1):
                dy = sgn * (step * h * 0.8 + r * 0.6)
                far += [(cx + g + 14, cy + dy, "left"), (cx - g - 14, cy + dy, "right")]
        best = None
        for n, (x, y, al) in enumerate(near + far):
            x0 = x if al == "left" else (x - w if al == "right" else x - w / 2)
            rect = (x0 - 3, y - h / 2, x0 + w + 3, y + h / 2)
            score = sum(overlap(rect, p) for p in placed) * 4
            own = gap_to(rect, cx, cy, r)
            for j, (bx, by, br, _) in enumerate(bubbles):
                core = (bx - br * 0.8, by - br * 0.8, bx + br * 0.8, by + br * 0.8)
                score += overlap(rect, core) * (1 if j != i else 4)
                # A label nearer another bubble than its own reads as that one's.
                if j != i and gap_to(rect, bx, by, br) < own + 4:
                    score += 2000
            if rect[0] < box[0] or rect[2] > box[2] or rect[1] < box[1] or rect[3] > box[3]:
                score += 1e7
            score += n * 20                     # the nearest good place wins
            if best is None or score < best[0]:
                best = (score, x, y, al, rect, n >= 2)
        placed.append(best[4])
        out[i] = (best[1], best[2], best[3], best[5])
    return out


def abstraction(run):
    hj = run.core_jobs()
    if not run.metrics or not hj:
        return None
    pts = []        # (workload, model, calls, loc, Pt)
    for m in run.metrics:
        if m.get("model") == "serial":
            continue
        e = run.res.one(suite="scaling", workload=m.get("workload"), model=m.get("model"), jobs=hj,
                        statistic="efficiency")
        if e is None or e.value is None:
            continue
        try:
            calls, loc = int(m["calls"]), int(m["loc"])
        except (KeyError, ValueError):
            continue
        pts.append((m["workload"], m["model"], calls, loc, pt(e, calls)))
    if not pts:
        return None
    fig = Figure("abstraction")
    workloads = [w for w in ("squares", "sleep", "folders") if any(p[0] == w for p in pts)] + \
        sorted({p[0] for p in pts} - {"squares", "sleep", "folders"})
    models = run.ordered([p[1] for p in pts])
    shown, key = abbreviate(models)
    calls = [p[2] for p in pts]
    xmin, xmax = min(calls) - 1.5, max(calls) + 1.5
    ytop = efficiency_top([p[4].hi for p in pts])
    maxloc = max(p[3] for p in pts)
    rmax = 34.0                                     # pixels: the largest bubble's radius

    def radius(loc):                                # the area grows with the lines of code
        return rmax * math.sqrt(loc / maxloc)

    fig("set multiplot")
    topm = heading(fig, f"Abstraction against control: concurrency calls written by hand against "
                        f"efficiency at -j {hj}",
                   f"bubble area: lines of code; {ci_words([p[4] for p in pts])}; thread-pool and "
                   "process-pool share one file") - 40 / H
    bottom = key_caption(fig, key) + 100 / H
    # The legend, on the right: colour per model, bubble size, hollow.
    legend_px = max([len(shown[m]) for m in models] + [len("hollow: not determined")]) * FONT_PT * CHAR + 70
    right = 1 - (legend_px + 25) / W
    lx = right + 40 / W
    left, gap = 0.08, 0.035
    pw = (right - left - gap * (len(workloads) - 1)) / len(workloads)
    y = topm - 4 / H
    fig(f"set label {gq('{/:Bold colour: model}')} at screen {lx - 20 / W:.4f}, {y:.4f} left front")
    for m in models:
        y -= 40 / H
        fig(f"set label {gq(enh(shown[m]))} at screen {lx:.4f}, {y:.4f} left front "
            f"point pt 7 ps 3*psf lc rgb '{run.styles.colour(m)}' offset 1.6,0")
    y -= 60 / H
    fig(f"set label {gq('{/:Bold area: lines of code}')} at screen {lx - 20 / W:.4f}, {y:.4f} left front")
    sizes = sorted({nice_round(maxloc), nice_round(maxloc / 3), nice_round(maxloc / 10)} - {0}, reverse=True)
    y -= 12 / H
    cx = lx - 20 / W + rmax / W
    for i, s in enumerate(sizes):
        r = radius(s)
        y -= (r + 8) / H
        fig(f"set object circle at screen {cx:.4f}, {y:.4f} size screen {r / W:.5f} "
            f"fs empty border lc rgb '#444444' lw 2 front")
        fig(f"set label {gq(f'{s} lines')} at screen {cx + (rmax + 12) / W:.4f}, {y:.4f} left front")
        y -= r / H
    if any(not p[4].det for p in pts):
        y -= 50 / H
        fig(f"set label 'hollow: not determined' at screen {lx:.4f}, {y:.4f} left front "
            f"point pt 6 ps 3*psf lw 2 lc rgb '#444444' offset 1.6,0")
    step = nice_step(xmax - xmin, 6, integer=True)
    for p_i, w in enumerate(workloads):
        x0 = left + p_i * (pw + gap)
        x1 = x0 + pw
        fig(f"set lmargin at screen {x0:.4f}; set rmargin at screen {x1:.4f}")
        fig(f"set tmargin at screen {topm:.4f}; set bmargin at screen {bottom:.4f}")
        fig(f"set title {gq(w)}")
        fig(f"set xrange [{xmin:g}:{xmax:g}]; set yrange [0:{ytop:.6g}]")
        fig(f"set xtics {step}; set format x '%.0f'; unset mxtics")
        fig("set ytics 0, 0.2; set format y '%g'")
        axis_labels(fig, "concurrency calls written by hand",
                    f"efficiency at -j {hj} (speedup ÷ workers)" if p_i == 0 else "", x0, x1, topm, bottom)
        if p_i:
            fig("set format y ''")
        fig("unset key")
        mine = [p for p in pts if p[0] == w]
        # This panel's pixels: data -> canvas (y down).
        px0, px1 = x0 * W, x1 * W
        py0, py1 = (1 - topm) * H, (1 - bottom) * H

        def to_px(x, yv):
            return (px0 + (x - xmin) / (xmax - xmin) * (px1 - px0), py1 - yv / ytop * (py1 - py0))

        per_x = (px1 - px0) / (xmax - xmin)
        bubbles = []
        for (_, m, c, loc, p) in mine:
            bx, by = to_px(c, p.value)
            bubbles.append((bx, by, radius(loc), shown[m]))
        spots = place_labels(bubbles, (px0, py0, px1, py1))
        for n, (lx_, ly_, al, leader) in enumerate(spots):
            fig(f"set label {small(bubbles[n][3], LABEL)} at screen {lx_ / W:.4f}, {1 - ly_ / H:.4f} {al} front")
            if leader:
                # From the bubble's edge to the nearest point of the label.
                bx, by, r, text = bubbles[n]
                w_, h_ = text_px(text, FONT_PT * LABEL), FONT_PT * LABEL * 4 / 3 * 1.2
                x0_ = lx_ - 2 if al == "left" else (lx_ - w_ - 2 if al == "right" else lx_ - w_ / 2)
                ex = min(max(bx, x0_), x0_ + w_ + 4)
                ey = min(max(by, ly_ - h_ / 2 + 2), ly_ + h_ / 2 - 2)
                dx, dy = ex - bx, ey - by
                d = math.hypot(dx, dy) or 1
                if d > r + 3:
                    fig(f"set arrow from screen {(bx + dx / d * r) / W:.4f}, {1 - (by + dy / d * r) / H:.4f} "
                        f"to screen {ex / W:.4f}, {1 - ey / H:.4f} nohead lc rgb '#666666' lw 1.5 front")
        rows = [[c, p.value, p.lo, p.hi, radius(loc) / per_x, loc, run.styles.lt(m), 1 if p.det else 0, m, p.status]
                for (_, m, c, loc, p) in mine]
        f = fig.data(w, ["calls", "efficiency", "ci_lo", "ci_hi", "radius_x", "loc", "lt", "determined", "model",
                         "status"], rows)
        plots = []
        if any(p[4].lo < p[4].hi for p in mine):
            plots.append(f"'{f}' using 1:($4>$3?$2:NaN):3:4:7 with yerrorbars lc variable lw 2 pt 7 ps 0.01*psf "
                         "notitle")
        if any(p[4].det for p in mine):
            plots.append(f"'{f}' using 1:($8>0?$2:NaN):5:7 with circles lc variable fs transparent solid 0.5 "
                         "border notitle")
        if any(not p[4].det for p in mine):
            plots.append(f"'{f}' using 1:($8>0?NaN:$2):5:7 with circles lc variable lw 3 fs empty border notitle")
        fig("plot " + ", \\\n     ".join(plots))
        fig("unset label; unset arrow; unset object")
    fig("unset multiplot")
    return fig


def nice_round(v):
    """v rounded to 1, 2 or 5 x 10^k."""
    if v <= 0:
        return 0
    k = 10 ** math.floor(math.log10(v))
    return int(min((1, 2, 5, 10), key=lambda m: abs(m * k - v)) * k)


# --- 6. folders: wall time against its bound -----------------------------------------------------

def folders_bound(run):
    bounds = {}
    for r in run.res.find(suite="folders", statistic="bound_s"):
        if r.value is not None and str(r.jobs).isdigit():
            bounds.setdefault(int(r.jobs), r.value)
    data = {}
    for m in run.ordered(run.res.models("folders")):
        ps = [pt(r, r.jobs) for r in run.res.find(suite="folders", model=m, statistic="wall_s")
              if r.value is not None and str(r.jobs).isdigit()]
        if ps:
            data[m] = sorted(ps, key=lambda p: p.x)
    if not bounds or not data:
        return None
    fig = Figure("folders_bound")
    d = run.res.one(suite="folders", model="serial", statistic="distinct_ids") or \
        run.res.one(suite="folders", statistic="distinct_ids")
    lat = run.res.one(suite="folders", statistic="server_latency_ms")
    w = run.res.one(suite="folders", statistic="wall_s")
    sub = ", ".join(x for x in (f"-n {w.tasks}" if w else "", f"{sig(d.value)} distinct ids" if d else "",
                                f"{lat.value:g} ms latency per answer" if lat else "") if x)
    top = heading(fig, "folders: wall time against its bound",
                  f"{sub}; {ci_words([p for ps in data.values() for p in ps])}; {SHIFTED}")
    jobs = sorted(set(bounds) | {int(p.x) for ps in data.values() for p in ps})
    logx = jobs_axis(fig, jobs)
    ytop = max([p.hi for ps in data.values() for p in ps] + list(bounds.values())) * 1.1
    fig(f"set yrange [0:{ytop:.6g}]")
    fig("set format y '%g'")
    f = fig.data("bound", ["jobs", "bound_s"], sorted(bounds.items()))
    plots = [f"'{f}' using 1:2 with linespoints {IDEAL} pt 6 ps 1.4*psf notitle"]
    keys = [f"keyentry with linespoints {IDEAL} pt 6 ps 1.4*psf "
            f"title {gq(enh('bound: distinct ids × latency ÷ workers'))}"]
    for k, m in enumerate(data):
        plots += series(fig, run, m, m, data[m], dodge(k, len(data), logx))
        keys.append(key_model(run, m, "serial (1 worker)" if m == "serial" else m, line=len(data[m]) > 1))
    if any(not p.det for ps in data.values() for p in ps):
        keys.append(HOLLOW_KEY)
    finish(fig, top, plots, keys, "workers (-j)", "wall time (s)")
    return fig


# --- main -----------------------------------------------------------------------------------------

def figures(run):
    """Every figure the run has data for, in the report's order."""
    out = scaling(run)
    for build in (granularity, overhead, memory, created, abstraction, folders_bound):
        f = build(run)
        if f is not None:
            out.append(f)
    return out


def remove_stale(rundir, drawn):
    """Pictures of a figure this run did not draw (left by an earlier plot)."""
    for fn in os.listdir(rundir):
        base, ext = os.path.splitext(fn)
        if ext not in (".png", ".svg") or base in drawn:
            continue
        if base in FIXED or re.match(r"^(wall|speedup)_[A-Za-z0-9-]+$", base):
            os.remove(os.path.join(rundir, fn))


def plot(rundir, gnuplot="gnuplot", out=None, err=None):
    """Draws every figure; returns the number that failed."""
    out, err = out or sys.stdout, err or sys.stderr
    run = Run(rundir)
    figs = figures(run)
    failed, drawn = 0, set()
    for fig in figs:
        try:
            draw(fig, rundir, run.styles, gnuplot)
            drawn.add(fig.name)
            print(fig.name, file=out)
        except PlotError as e:
            failed += 1
            print(f"scripts/plot: {e}", file=err)
    remove_stale(rundir, drawn | {f.name for f in figs})
    # The timelines (section 9) when the run traced any; imported here, as
    # timeline.py draws with this module's fonts.
    from .timelines import draw as draw_timelines
    for problem in draw_timelines(rundir):
        failed += 1
        print(f"scripts/plot: {problem}", file=err)
    return failed


def main(argv=None):
    p = cli.parser("scripts/plot", __doc__)
    p.add_argument("rundir")
    args = p.parse_args(argv)
    if not os.path.isdir(args.rundir):
        p.error(f"{args.rundir} is not a folder")
    csv_path = os.path.join(args.rundir, "results.csv")
    if not os.path.exists(csv_path):
        p.error(f"{args.rundir} has no results.csv (run scripts/derive first)")
    with open(csv_path, encoding="utf-8", errors="replace") as f:
        head = f.readline().strip().split(",")
    missing = [c for c in COLUMNS if c != "note" and c not in head]
    if missing:
        p.error(f"{csv_path} is not in the current format (no {', '.join(missing)}; run scripts/derive again)")
    return 1 if plot(args.rundir) else 0


if __name__ == "__main__":
    sys.exit(main())
