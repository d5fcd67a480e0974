"""scripts/doc-figures: the figures the docs quote, drawn from a report.

A figure in the docs is never typed: it sits between two HTML comments,
which a Markdown renderer hides, and this script fills it in from the
sample report (docs/sample-report/) and checks that it still matches:

    the pool runs it <!-- fig: results suite=scaling workload=squares
    model=thread-pool jobs=2 statistic=speedup -->1.86 [1.77, 1.90]<!-- /fig --> times faster

(written on one line).  The comment names a SOURCE, a SELECTOR and,
after a `|`, a FORMAT:

    <!-- fig: SOURCE COLUMN=VALUE ... [| FORMAT ...] -->TEXT<!-- /fig -->

SOURCE is a file of the report:
    results   results.csv, every figure with its interval (scripts/derive)
    targets   targets.csv, the library's targets and their verdicts
    metrics   metrics.csv, lines, calls and complexity per program
    verdicts  verdicts.csv, section 8: the tutorial's table, row by row
    facts     facts.csv, the run as a whole (cells, rounds, duration ...)
    timelines timelines.csv, section 9: what each traced run shows (shot,
              key, value, and text: a time as the report writes it)
    tracecost trace-cost.csv, what --trace costs (scripts/trace-cost --csv;
              not part of a report run: docs/timeline.md says how it was made)
    mpioverhead mpi-overhead.csv, the MPI backend against its MPI floor
              (build/micro/cf_mpi_overhead --csv; not part of a report run
              either: docs/distributed.md says how it was made)
    mpipeer   mpi-peer.csv, mpi4py.futures next to the MPI backend
              (benchmarks/python/futures_peer.py --mpi-only --csv; apart too)

The selector must pick exactly one row: COLUMN=VALUE matches a column
exactly, COLUMN~VALUE matches when VALUE is part of it; quote a value
that holds spaces ("row=Code complexity" or row="Code complexity").
`facts KEY` is short for `facts key=KEY`.

FORMAT (results rows default to `est`, the others to `col=value`):
    est          the median and its interval as the report writes it,
                 "1.86 [1.77, 1.90]", or "n.d. (...)" when not determined;
                 for a targets row, its ratio with its interval
    value        the median alone (it is then wrong to quote an
                 undetermined figure: that is an error)
    col=NAME     the text of column NAME
    sentence     with col=: only the first sentence of it
    scale=X      multiply the value and its interval by X (ns to µs: 0.001)
    digits=N     significant digits (default 3)
    unit=U       written after the number, before the interval
    int          the value as a whole number
    grain        a minimum task size (statistic min_grain_us) as the
                 report words it: "≤ 10 µs", "46.3 µs [41.3, 51.2]",
                 "not determined"

Usage: scripts/doc-figures [--fix] [--list] [--typed] [--from DIR] [--root DIR] [FILE.md...]
    (no FILE)   README.md and every docs/**/*.md under the root
    --fix       rewrite every figure that does not match its source
    --list      print every figure with what it resolves to
    --typed     an audit, not a check: print prose lines (outside code
                blocks and markers) with a number and a unit of time or
                a ratio, to find figures still typed by hand; inputs such
                as "300 ms tasks" show up too, so it never fails
    --from DIR  the report to quote (default ROOT/docs/sample-report)
Exit status: 0 every figure matches, 1 a figure drifted or does not
resolve (each named on stderr as FILE:LINE), 2 bad usage.
"""
import csv
import os
import re
import shlex
import sys

from . import cli
from .fmt import est, sig
from .headline import grain_text
from .results import read

MARKER = re.compile(r"<!-- fig: (?P<spec>.*?) -->(?P<text>.*?)<!-- /fig -->")
OPENING = re.compile(r"<!-- fig: ")
SOURCES = {"results": "results.csv", "targets": "targets.csv", "metrics": "metrics.csv",
           "verdicts": "verdicts.csv", "facts": "facts.csv", "timelines": "timelines.csv",
           "tracecost": "trace-cost.csv", "mpioverhead": "mpi-overhead.csv",
           "mpipeer": "mpi-peer.csv"}
# Made apart from a report run: a run quoted with --from has none, and
# the sample's stands in.
APART = ("tracecost", "mpioverhead", "mpipeer")


class FigureError(Exception):
    pass


class Report:
    """The files of one report, read once, as lists of dicts (results.csv
    also as Rows, for the report's own formatting)."""

    def __init__(self, rundir, sample=None):
        self.dir = rundir
        # trace-cost.csv and the MPI files are made apart from a report
        # run (APART): a run quoted with --from has none, and the sample's
        # stands in.
        self.sample = sample or rundir
        self.tables = {}
        self.result_rows = None

    def table(self, source):
        if source not in self.tables:
            path = os.path.join(self.dir, SOURCES[source])
            if source in APART and not os.path.exists(path):
                path = os.path.join(self.sample, SOURCES[source])
            try:
                with open(path, newline="") as f:
                    self.tables[source] = list(csv.DictReader(f))
            except OSError as e:
                raise FigureError(f"cannot read {path}: {e.strerror}")
            if source == "results":
                self.result_rows = read(path)
        return self.tables[source]


def parse(spec):
    """SOURCE, [(column, op, value)], {format option: value}."""
    selector, _, formats = spec.partition("|")
    try:
        words = shlex.split(selector)
        fwords = shlex.split(formats)
    except ValueError as e:
        raise FigureError(f"cannot read '{spec}': {e}")
    if not words or words[0] not in SOURCES:
        raise FigureError(f"'{spec}': the source must be one of {', '.join(SOURCES)}")
    source, terms = words[0], []
    for w in words[1:]:
        m = re.match(r"^([a-z_]+)(=|~)(.*)$", w)
        if m:
            terms.append(m.groups())
        elif source == "facts" and not terms:
            terms.append(("key", "=", w))
        else:
            raise FigureError(f"'{spec}': '{w}' is not COLUMN=VALUE or COLUMN~VALUE")
    options = {}
    for w in fwords:
        k, eq, v = w.partition("=")
        if k not in ("est", "value", "col", "sentence", "scale", "digits", "unit", "int", "grain"):
            raise FigureError(f"'{spec}': unknown format '{k}'")
        if k in ("col", "scale", "digits", "unit") and not eq:
            raise FigureError(f"'{spec}': format '{k}' needs a value ({k}=...)")
        options[k] = v
    return source, terms, options


def select(report, source, terms, spec):
    rows = report.table(source)
    for col, _, _ in terms:
        if rows and col not in rows[0]:
            raise FigureError(f"'{spec}': {SOURCES[source]} has no column '{col}'")
    hits = [i for i, r in enumerate(rows)
            if all((r[c] == v) if op == "=" else (v in r[c]) for c, op, v in terms)]
    if len(hits) != 1:
        hint = ""
        if len(hits) > 1:
            differ = [c for c in rows[0] if len({rows[i][c] for i in hits}) > 1 and c not in
                      ("value", "ci_lo", "ci_hi", "n", "status", "note")]
            hint = f"; they differ in {', '.join(differ[:6])}" if differ else ""
        raise FigureError(f"'{spec}' matches {len(hits)} rows of {SOURCES[source]}, not 1{hint}")
    return hits[0]


def render(report, spec):
    source, terms, options = parse(spec)
    index = select(report, source, terms, spec)
    row = report.table(source)[index]
    if source == "targets" and "est" in options:
        return est(TargetRatio(row), int(options.get("digits") or 3))
    if source != "results" or "col" in options:
        text = row.get(options.get("col", "value"))
        if text is None:
            raise FigureError(f"'{spec}': {SOURCES[source]} has no column '{options.get('col', 'value')}'")
        if "sentence" in options:
            text = first_sentence(text)
        return text
    return render_result(report.result_rows[index], options, spec)


def render_result(row, options, spec):
    scale = float(options.get("scale") or 1)
    digits = int(options.get("digits") or 3)
    unit = options.get("unit", "")
    if "grain" in options:
        if row.statistic != "min_grain_us":
            raise FigureError(f"'{spec}': grain is for min_grain_us rows, not {row.statistic}")
        return grain_text(row)
    if row.value is None:
        raise FigureError(f"'{spec}' has no value in results.csv (status {row.status})")
    scaled = Scaled(row, scale)
    if "int" in options or "value" in options:
        if row.status != "ok":
            raise FigureError(f"'{spec}' is not determined ({row.why or row.status}): "
                              "quote it with est, which says so")
        text = f"{scaled.value:.0f}" if "int" in options else sig(scaled.value, digits)
        return text + (f" {unit}" if unit else "")
    return est(scaled, digits, unit)


class Scaled:
    """A results row with its value and interval multiplied by a factor."""

    def __init__(self, row, factor):
        self.value = row.value * factor
        self.ci_lo = None if row.ci_lo is None else row.ci_lo * factor
        self.ci_hi = None if row.ci_hi is None else row.ci_hi * factor
        self.status = row.status


class TargetRatio:
    """A targets.csv row's ratio and interval, determined when the target
    got a verdict (met or missed)."""

    def __init__(self, row):
        def num(k):
            return float(row[k]) if row.get(k) else None
        self.value, self.ci_lo, self.ci_hi = num("ratio"), num("ratio_lo"), num("ratio_hi")
        self.status = "ok" if row.get("verdict") in ("met", "missed") else "not-determined"


def first_sentence(text):
    """Up to the first full stop that ends a sentence: not the one of an
    abbreviation such as n.d. or e.g."""
    for m in re.finditer(r"[.!?](?=\s|$)", text):
        if not re.search(r"(\bn\.d|\be\.g|\bi\.e|\bvs)$", text[:m.start()]):
            return text[:m.end()]
    return text


def default_files(root):
    files = ["README.md"] if os.path.exists(os.path.join(root, "README.md")) else []
    for top, dirs, names in os.walk(os.path.join(root, "docs")):
        dirs[:] = sorted(d for d in dirs if d != "sample-report")
        files += [os.path.relpath(os.path.join(top, n), root) for n in sorted(names) if n.endswith(".md")]
    return files


TYPED = re.compile(r"\b\d+(\.\d+)?\s?(µs|ns|ms|s|×|x|times)(?![\w-])")


def typed(path, shown):
    """Prints the prose lines of a file that hold a number with a unit."""
    fence = False
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.lstrip().startswith("```"):
                fence = not fence
                continue
            bare = re.sub(r"`[^`]*`", "", MARKER.sub("", line))
            if not fence and TYPED.search(bare):
                print(f"{shown}:{n}: {line.rstrip()}")
    return 0


def process(path, shown, report, mode):
    """Checks (or fixes) one file; returns the number of problems."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    problems, changed, fence = 0, False, False
    for n, line in enumerate(lines, 1):
        if line.lstrip().startswith("```"):
            fence = not fence
            continue
        if fence or "<!-- fig: " not in line:
            continue
        if len(OPENING.findall(line)) != len(MARKER.findall(line)):
            print(f"{shown}:{n}: a figure marker is not closed on its line (<!-- /fig -->)", file=sys.stderr)
            problems += 1
            continue

        def fill(m):
            nonlocal problems, changed
            if line[:m.start()].count("`") % 2:
                print(f"{shown}:{n}: a figure inside a code span shows its comment: close the `...` "
                      "before it", file=sys.stderr)
                problems += 1
                return m.group(0)
            try:
                want = render(report, m.group("spec"))
            except FigureError as e:
                print(f"{shown}:{n}: {e}", file=sys.stderr)
                problems += 1
                return m.group(0)
            if mode == "list":
                print(f"{shown}:{n}: {m.group('spec')} -> {want}")
            if want == m.group("text"):
                return m.group(0)
            if mode == "fix":
                changed = True
                return f"<!-- fig: {m.group('spec')} -->{want}<!-- /fig -->"
            print(f"{shown}:{n}: figure drifted: '{m.group('text')}' where the report says '{want}' "
                  f"({m.group('spec')}); scripts/doc-figures --fix rewrites it", file=sys.stderr)
            problems += 1
            return m.group(0)

        lines[n - 1] = MARKER.sub(fill, line)
    if changed:
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        print(f"{shown}: figures rewritten from the report", file=sys.stderr)
    return problems


def main(argv=None):
    p = cli.parser("scripts/doc-figures", __doc__)
    p.add_argument("files", nargs="*", metavar="FILE.md")
    p.add_argument("--fix", action="store_true")
    p.add_argument("--list", action="store_true")
    p.add_argument("--typed", action="store_true")
    p.add_argument("--from", dest="source", metavar="DIR")
    p.add_argument("--root", metavar="DIR")
    args = p.parse_args(argv)
    root = os.path.abspath(args.root or os.path.join(os.path.dirname(__file__), "..", ".."))
    if not os.path.isdir(root):
        p.error(f"no directory '{root}'")
    rundir = args.source or os.path.join(root, "docs", "sample-report")
    if not os.path.exists(os.path.join(rundir, "results.csv")):
        p.error(f"{rundir} is not a report (no results.csv)")
    files = []
    for f in args.files or default_files(root):
        path = f if os.path.exists(f) else os.path.join(root, f)
        if not os.path.isfile(path):
            p.error(f"no file '{f}'")
        files.append((path, f))
    if args.typed:
        return sum(typed(path, shown) for path, shown in files)
    report = Report(rundir, os.path.join(root, "docs", "sample-report"))
    mode = "fix" if args.fix else "list" if args.list else "check"
    problems = sum(process(path, shown, report, mode) for path, shown in files)
    if problems:
        print(f"scripts/doc-figures: {problems} figure(s) to fix", file=sys.stderr)
    return 1 if problems else 0
