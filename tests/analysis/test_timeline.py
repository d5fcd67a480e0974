"""scripts/timeline (scripts/parlab/timeline.py) on hand-written traces
(tests/fixtures/trace): the terminal chart of each fixture as committed,
the chart's rules (the task covering most of a bucket, short tasks never
lost, model events over their task, instants only where nothing is),
--check on the fixtures and on broken copies of them, the gnuplot
pictures, and the command line's contract."""
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from parlab import timeline

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(TOP, "tests", "fixtures", "trace")
NAMES = ("seed_sleep", "squares_dynamic", "folders")
SCRIPT = os.path.join(TOP, "scripts", "timeline")
PNG = b"\x89PNG\r\n\x1a\n"
HAVE_GNUPLOT = shutil.which("gnuplot") is not None


def fixture(name):
    return os.path.join(FIXTURES, name + ".json")


class Ran:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def run_timeline(*args, env=None):
    """scripts/timeline, as a command."""
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True, env=env)


def run_main(*args):
    """timeline.main in this process (quicker than a command each time)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = timeline.main(list(args))
        except SystemExit as e:
            status = e.code
    return Ran(status, out.getvalue(), err.getvalue())


def task(tid, i, ts, dur, cat="task"):
    args = {"task": i} if cat == "task" else {"first": i * 64, "count": 64}
    return {"ph": "X", "cat": cat, "name": f"{cat} {i}", "pid": 1, "tid": tid, "ts": ts, "dur": dur, "args": args}


def model(tid, name, ts, dur, cat=None):
    cat = cat or ("fetch" if name == "fetch" else "retry" if name == "retry" else "wait")
    return {"ph": "X", "cat": cat, "name": name, "pid": 1, "tid": tid, "ts": ts, "dur": dur, "args": {}}


def instant(tid, name, ts):
    return {"ph": "i", "s": "t", "cat": "worker", "name": name, "pid": 1, "tid": tid, "ts": ts}


def trace_doc(events, workers=1, span=None):
    end = max([e["ts"] + e.get("dur", 0) for e in events] + [0])
    return {"traceEvents": events, "otherData": {
        "parlab_trace": 1, "model": "executors", "workload": "squares", "program": "executors/squares",
        "args": f"-j {workers}", "workers": workers, "clock": "CLOCK_MONOTONIC",
        "span_us": end if span is None else span}}


class Traces(unittest.TestCase):
    """Writes trace documents into a temporary folder."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="parlab-timeline-")

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, doc, name="t.json"):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            f.write(doc if isinstance(doc, str) else json.dumps(doc))
        return path

    def chart(self, doc, width=100, ascii_only=True):
        return timeline.chart(timeline.load(self.write(doc)), width, ascii_only)

    def row(self, lines, label):
        """The cells of a row of the chart, between its two '|'."""
        for line in lines:
            if line.split("|")[0].strip() == label and line.count("|") == 2:
                return line.split("|")[1]
        self.fail(f"no row {label} in:\n" + "\n".join(lines))


class Fixtures(unittest.TestCase):
    def test_each_fixture_draws_as_committed(self):
        for name in NAMES:
            p = run_timeline("--ascii", fixture(name))
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(FIXTURES, name + ".txt")) as f:
                self.assertEqual(p.stdout, f.read(), name)

    def test_every_line_fits_and_ascii_is_ascii(self):
        for name in NAMES:
            for width in (60, 100, 140):
                p = run_main("--ascii", "--width", str(width), fixture(name))
                self.assertEqual(p.returncode, 0, p.stderr)
                for line in p.stdout.splitlines():
                    self.assertLessEqual(len(line), width, f"{name} --width {width}: {line!r}")
                p.stdout.encode("ascii")

    def test_the_seed_shows_its_three_tasks_as_0_1_2(self):
        lines = timeline.chart(timeline.load(fixture("seed_sleep")), 100, True)
        self.assertTrue(lines[0].startswith("executors/sleep --executor thread -j 3"))
        self.assertIn("span 3.00 s", lines[0])
        w = [l for l in lines if l.lstrip().startswith(("w1 |", "w2 |", "w3 |"))]
        self.assertEqual(len(w), 3)
        for k, line in enumerate(w):
            cells = line.split("|")[1]
            self.assertEqual(set(cells) - {" ", "<", ">"}, {str(k)}, line)
        # 3, 1 and 2 s of a 3 s span.
        ones = [line.split("|")[1].count(str(k)) for k, line in enumerate(w)]
        self.assertGreater(ones[0], ones[2])
        self.assertGreater(ones[2], ones[1])
        self.assertAlmostEqual(ones[1] / ones[0], 1 / 3, delta=0.03)
        self.assertIn("w2: 1 task, busy 1.00 s, 33.3 % of the span", lines)

    def test_the_folders_chart_shows_each_model_event(self):
        lines = timeline.chart(timeline.load(fixture("folders")), 100, True)
        text = "\n".join(lines)
        for glyph in "=~.!":
            self.assertIn(glyph, "".join(self.cells(lines)), glyph)
        self.assertIn("= fetch, ~ cache wait, . rate-limit wait, ! retry", text)
        # Every task says where it starts, even one all of fetches and waits,
        # and the cache hits of a few µs are not lost.
        for k in range(10):
            self.assertIn(str(k), "".join(self.cells(lines)), k)

    def cells(self, lines):
        return [l.split("|")[1] for l in lines if l.count("|") == 2]

    def test_check_accepts_the_fixtures(self):
        want = {"seed_sleep": "ok: 3 tasks on 3 workers, span 3.00 s",
                "squares_dynamic": "ok: 40 tasks on 2 workers, span 1.48 ms",
                "folders": "ok: 10 tasks on 3 workers, span 451 ms"}
        for name in NAMES:
            p = run_main("--check", fixture(name))
            self.assertEqual((p.returncode, p.stdout.strip()), (0, want[name]), p.stderr)


class Chart(Traces):
    # 93 buckets at --width 100 (a label column of 4); a span of 930 µs
    # makes each bucket 10 µs.
    SPAN = 930.0

    def test_a_shared_bucket_shows_the_task_that_covers_most_of_it(self):
        doc = trace_doc([task(1, 0, 0, 13), task(1, 1, 13, 917)], span=self.SPAN)
        cells = self.row(self.chart(doc), "w1")
        self.assertEqual(len(cells), 93)
        self.assertEqual(cells[:3], "011")
        doc = trace_doc([task(1, 0, 0, 17), task(1, 1, 17, 913)], span=self.SPAN)
        self.assertEqual(self.row(self.chart(doc), "w1")[:3], "001")

    def test_idle_that_covers_most_of_a_bucket_is_blank(self):
        doc = trace_doc([task(1, 0, 0, 103), task(1, 1, 500, 430)], span=self.SPAN)
        cells = self.row(self.chart(doc), "w1")
        self.assertEqual(cells[:11], "0" * 10 + " ")
        self.assertEqual(cells[49:51], " 1")

    def test_a_task_shorter_than_a_bucket_is_still_drawn(self):
        doc = trace_doc([task(1, 0, 0, 305), task(1, 1, 305.5, 0.4), task(1, 2, 500, 0.2),
                         task(1, 3, 900, 30)], span=self.SPAN)
        cells = self.row(self.chart(doc), "w1")
        # Task 0 covers most of bucket 30, and gives it up to task 1, which
        # has no other; task 2 lies alone in an idle bucket.
        self.assertEqual(cells[:31], "0" * 30 + "1")
        self.assertEqual(cells[50], "2")

    def test_model_events_override_their_task_where_they_lie(self):
        events = [task(1, 0, 0, 600), model(1, "fetch", 100, 200), model(1, "retry", 300, 100),
                  model(1, "cache wait", 400, 100), model(1, "rate-limit wait", 500, 50),
                  model(1, "other wait", 550, 50)]
        cells = self.row(self.chart(trace_doc(events, span=self.SPAN)), "w1")
        self.assertEqual(cells[:60], "0" * 10 + "=" * 20 + "!" * 10 + "~" * 10 + "." * 5 + ":" * 5)
        self.assertEqual(cells[60:], " " * 33)

    def test_a_task_all_model_events_keeps_its_glyph_in_its_first_cell(self):
        events = [task(1, 7, 0, 300), model(1, "fetch", 0, 300), task(1, 8, 300, 300), model(1, "fetch", 300, 300)]
        cells = self.row(self.chart(trace_doc(events, span=self.SPAN)), "w1")
        self.assertEqual(cells[:60], "7" + "=" * 29 + "8" + "=" * 29)

    def test_a_queue_wait_between_tasks_is_drawn_in_the_idle_space(self):
        events = [task(1, 0, 0, 300), model(1, "queue wait", 300, 300), task(1, 1, 600, 330)]
        cells = self.row(self.chart(trace_doc(events, span=self.SPAN)), "w1")
        self.assertEqual(cells[25:65], "0" * 5 + ":" * 30 + "1" * 5)

    def test_instants_only_where_the_cell_is_empty(self):
        events = [instant(1, "worker start", 1), task(1, 0, 2, 300), instant(1, "worker exit", 925),
                  instant(2, "worker start", 400), task(2, 1, 420, 100), instant(2, "worker exit", 600)]
        lines = self.chart(trace_doc(events, workers=2, span=self.SPAN))
        w1, w2 = self.row(lines, "w1"), self.row(lines, "w2")
        self.assertEqual(w1[0], "0")                 # the start shares the task's first bucket
        self.assertEqual(w1[-1], "<")
        self.assertEqual(w2[40], ">")
        self.assertEqual(w2[60], "<")
        self.assertIn("instants: > worker start, < worker exit", lines)

    def test_rows_main_first_when_it_has_events_then_every_worker(self):
        events = [task(2, 0, 0, 100), task(0, 1, 100, 100)]
        lines = self.chart(trace_doc(events, workers=3))
        labels = [l.split("|")[0].strip() for l in lines if l.count("|") == 2]
        self.assertEqual(labels, ["main", "w1", "w2", "w3"])
        self.assertEqual(self.row(lines, "w1").strip(), "")          # an idle worker is a row too
        lines = self.chart(trace_doc([task(1, 0, 0, 100)], workers=1))
        self.assertEqual([l.split("|")[0].strip() for l in lines if l.count("|") == 2], ["w1"])

    def test_glyphs_cycle_by_task_index(self):
        events = [task(1, i, i * 10, 10) for i in range(64)]
        lines = self.chart(trace_doc(events))
        self.assertIn("tasks: glyphs cycle by task index (0-9, a-z, A-Z, 0, ...)", lines)
        self.assertEqual(timeline.GLYPHS[36], "A")
        self.assertEqual(len(timeline.GLYPHS), 62)
        rec = timeline.Records(timeline.load(self.write(trace_doc(events))))
        self.assertEqual([rec.glyph(e) for e in rec.tasks][60:], ["Y", "Z", "0", "1"])

    def test_the_legend_names_each_glyph_up_to_36_tasks(self):
        events = [task(1, i, i * 10, 10) for i in range(36)]
        lines = self.chart(trace_doc(events))
        self.assertIn("tasks: 0-9 = tasks 0-9, a-z = tasks 10-35", lines)
        lines = self.chart(trace_doc([task(1, 0, 0, 3e6), task(2, 1, 0, 1e6)], workers=2))
        self.assertIn("tasks: 0 = task 0 (3.00 s on w1), 1 = task 1 (1.00 s on w2)", lines)

    def test_chunks_get_a_glyph_each_and_are_named_by_their_items(self):
        events = [task(1, 0, 0, 100, "chunk"), task(2, 1, 0, 100, "chunk"), task(1, 2, 100, 100, "chunk")]
        lines = self.chart(trace_doc(events, workers=2))
        self.assertEqual(set(self.row(lines, "w1").strip()), {"0", "2"})
        self.assertIn("chunks: 0 = items 0-63 (100 us on w1), 1 = items 64-127 (100 us on w2),", lines)
        self.assertIn("w1: 2 chunks (128 items), busy 200 us, 100.0 % of the span", lines)

    def test_no_task_events_prints_the_frame_and_says_so(self):
        lines = self.chart(trace_doc([instant(1, "worker start", 5)], workers=2, span=10))
        self.assertEqual(lines[-1], "no task events")
        self.assertEqual(len(self.row(lines, "w1")), 93)
        self.assertEqual(len(self.row(lines, "w2")), 93)
        self.assertEqual(self.chart({"traceEvents": []})[-1], "no task events")

    def test_ticks_4_to_6_in_sensible_units(self):
        for span, unit in ((0.7, "us"), (37, "us"), (930, "us"), (1480, "ms"), (7.9e3, "ms"), (451e3, "ms"),
                           (3.0002e6, "s"), (61e6, "s")):
            ts = timeline.ticks(span, True)
            self.assertTrue(4 <= len(ts) <= 6, (span, ts))
            self.assertEqual(ts[0], (0.0, f"0 {unit}"))
            self.assertTrue(all(text.endswith(" " + unit) for _, text in ts), ts)
            self.assertLessEqual(ts[-1][0], span * (1 + 1e-9))
        self.assertEqual([t for _, t in timeline.ticks(3.0002e6)], ["0 s", "1 s", "2 s", "3 s"])
        self.assertEqual(timeline.ticks(930)[1][1], "200 µs")

    def test_micro_sign_only_without_ascii(self):
        doc = trace_doc([task(1, 0, 0, 500)])
        self.assertIn("µs", "\n".join(self.chart(doc, ascii_only=False)))
        text = "\n".join(self.chart(doc, ascii_only=True))
        text.encode("ascii")
        self.assertIn("0 us", text)


def folders_doc():
    with open(fixture("folders")) as f:
        return json.load(f)


def find(doc, **want):
    for e in doc["traceEvents"]:
        if all(e.get(k) == v for k, v in want.items()):
            return e
    raise AssertionError(f"no event {want}")


class Check(Traces):
    def check(self, doc):
        p = run_main("--check", self.write(doc))
        return p.returncode, p.stdout + p.stderr

    def broken(self, change):
        doc = folders_doc()
        change(doc)
        return self.check(doc)

    def test_an_overlap_within_a_row(self):
        def change(doc):
            find(doc, name="task 5")["ts"] = 251000.0          # task 0 ends at 251552
            find(doc, name="task 5")["dur"] = 101131.0
        status, out = self.broken(change)
        self.assertEqual(status, 1, out)
        self.assertIn("overlaps", out)
        self.assertIn("task 5", out)

    def test_a_model_event_outside_its_task(self):
        def change(doc):
            find(doc, name="fetch", tid=1, ts=251576.0)["dur"] = 110000.0   # past the end of task 5
        status, out = self.broken(change)
        self.assertEqual(status, 1, out)
        self.assertIn("inside no task", out)

    def test_a_fetch_or_a_retry_between_tasks(self):
        for name in ("fetch", "retry"):
            doc = folders_doc()
            doc["traceEvents"].append(model(1, name, 360000.0, 1000.0))
            status, out = self.check(doc)
            self.assertEqual(status, 1, out)
            self.assertIn(f"({name}) on w1 at 360000 µs for 1000 µs lies inside no task", out)

    def test_a_wait_may_lie_between_tasks_but_not_across_one(self):
        # A queue wait, or the submitter's rate-limit wait on main.
        doc = folders_doc()
        doc["traceEvents"] += [model(1, "queue wait", 352200.0, 90000.0), model(0, "rate-limit wait", 100.0, 5e4)]
        self.assertEqual(self.check(doc), (0, "ok: 10 tasks on 3 workers, span 451 ms\n"))
        doc["traceEvents"].append(model(1, "rate-limit wait", 350000.0, 5000.0))     # task 5 ends at 352131
        status, out = self.check(doc)
        self.assertEqual(status, 1, out)
        self.assertIn("overlaps event", out)
        self.assertIn("(task 5) without lying inside it", out)

    def test_a_duplicate_task(self):
        def change(doc):
            find(doc, name="task 4")["args"]["task"] = 2
        status, out = self.broken(change)
        self.assertEqual(status, 1, out)
        self.assertIn("task 2 has two records", out)

    def test_an_event_past_the_span(self):
        def change(doc):
            find(doc, name="worker exit", tid=3)["ts"] = doc["otherData"]["span_us"] + 1.5
        status, out = self.broken(change)
        self.assertEqual(status, 1, out)
        self.assertIn("after the span", out)

    def test_an_event_within_a_microsecond_of_the_span_is_accepted(self):
        def change(doc):
            find(doc, name="worker exit", tid=3)["ts"] = doc["otherData"]["span_us"] + 0.9
        self.assertEqual(self.broken(change)[0], 0)

    def test_an_event_without_tid_or_pid(self):
        for key in ("tid", "pid", "ph"):
            def change(doc):
                del find(doc, name="task 4")[key]
            status, out = self.broken(change)
            self.assertEqual(status, 1, (key, out))
            self.assertIn(f"no {key}", out)

    def test_a_tid_that_is_no_row_of_the_run(self):
        def change(doc):
            find(doc, name="task 4")["tid"] = 4
        status, out = self.broken(change)
        self.assertEqual(status, 1, out)
        self.assertIn("tid 4", out)

    def test_overlapping_chunks(self):
        events = [task(1, 0, 0, 100, "chunk"), task(2, 1, 0, 100, "chunk")]
        events[1]["args"]["first"] = 32
        status, out = self.check(trace_doc(events, workers=2))
        self.assertEqual(status, 1, out)
        self.assertIn("chunks overlap", out)
        events[1]["args"]["first"] = 64
        self.assertEqual(self.check(trace_doc(events, workers=2))[0], 0)

    def test_not_a_parlab_trace(self):
        doc = folders_doc()
        del doc["otherData"]
        status, out = self.check(doc)
        self.assertEqual(status, 1, out)
        self.assertIn("parlab_trace", out)

    def test_ok_names_the_counts(self):
        status, out = self.check(trace_doc([task(1, 0, 0, 1500), task(2, 1, 0, 900)], workers=2))
        self.assertEqual((status, out.strip()), (0, "ok: 2 tasks on 2 workers, span 1.50 ms"))


class Unreadable(Traces):
    """A file that is not a trace: status 2 and one line naming the file,
    with or without --check."""

    def refused(self, text, words):
        path = self.write(text)
        for args in ((path,), ("--check", path), ("--ascii", path)):
            p = run_main(*args)
            self.assertEqual(p.returncode, 2, (args, p.stdout, p.stderr))
            self.assertEqual(p.stdout, "")
            self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
            self.assertTrue(p.stderr.startswith(f"scripts/timeline: error: {path}: "), p.stderr)
            self.assertIn(words, p.stderr)

    def test_not_json(self):
        self.refused('{"traceEvents": [', "not JSON")

    def test_no_trace_events(self):
        self.refused('{"events": []}', "no traceEvents")
        self.refused('[1, 2]', "no traceEvents")

    def test_a_negative_dur(self):
        doc = trace_doc([task(1, 0, 0, 10), task(1, 1, 20, -3)])
        self.refused(json.dumps(doc), "negative dur")

    def test_a_missing_ts(self):
        doc = trace_doc([task(1, 0, 0, 10), task(1, 1, 20, 3)])
        del doc["traceEvents"][1]["ts"]
        self.refused(json.dumps(doc), "event 1 (task 1) has no ts")

    def test_a_missing_file(self):
        p = run_main(os.path.join(self.tmp.name, "nothing.json"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("cannot read it", p.stderr)


class CommandLine(unittest.TestCase):
    def test_help(self):
        p = run_timeline("--help")
        self.assertEqual(p.returncode, 0)
        for words in ("--check", "--png", "--width", "glyph"):
            self.assertIn(words, p.stdout)

    def test_bad_usage_is_one_line_and_status_2(self):
        f = fixture("seed_sleep")
        for args in ((), (f, "--width", "59"), (f, "--width", "x"), (f, "--quiet"), (f, "--no-such-option"),
                     (f, "--check", "--png", "/tmp/x.png"), (f, f)):
            p = run_timeline(*args)
            self.assertEqual(p.returncode, 2, args)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
            self.assertTrue(p.stderr.startswith("scripts/timeline: error:"), p.stderr)

    def test_the_title_can_be_replaced(self):
        p = run_timeline("--ascii", "--title", "the seed", fixture("seed_sleep"))
        self.assertTrue(p.stdout.startswith("the seed  (3 workers, span 3.00 s)\n"), p.stdout)


@unittest.skipUnless(HAVE_GNUPLOT, "gnuplot is not on PATH: the pictures are not drawn")
class Pictures(Traces):
    def test_png_and_svg_of_each_fixture(self):
        for name in NAMES:
            png, svg = (os.path.join(self.tmp.name, f"{name}.{ext}") for ext in ("png", "svg"))
            p = run_main("--quiet", "--png", png, "--svg", svg, fixture(name))
            self.assertEqual((p.returncode, p.stdout, p.stderr), (0, "", ""), name)
            with open(png, "rb") as f:
                self.assertEqual(f.read(8), PNG, name)
            self.assertGreater(os.path.getsize(png), 1000)
            with open(svg) as f:
                self.assertIn("<svg", f.read(2000), name)

    def test_the_chart_is_printed_too_without_quiet(self):
        png = os.path.join(self.tmp.name, "seed.png")
        p = run_main("--ascii", "--png", png, fixture("seed_sleep"))
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(FIXTURES, "seed_sleep.txt")) as f:
            self.assertEqual(p.stdout, f.read())
        self.assertGreater(os.path.getsize(png), 1000)

    def test_a_trace_without_tasks_is_drawn(self):
        png = os.path.join(self.tmp.name, "empty.png")
        p = run_main("--quiet", "--png", png, self.write(trace_doc([], workers=2, span=0)))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertGreater(os.path.getsize(png), 1000)

    def test_the_figure_data_has_a_box_per_task_and_a_key_for_the_model_events(self):
        body, files, height = timeline.figure(timeline.load(fixture("folders")))
        tasks = [l for l in files["tasks.dat"].splitlines() if not l.startswith("#")]
        self.assertEqual(len(tasks), 10)
        for k in ("fetch", "cache_wait", "rate-limit_wait", "retry"):
            self.assertIn(f"{k}.dat", files)
        for words in ("fetch", "cache wait", "rate-limit wait", "retry", "worker start", "time since the start (ms)"):
            self.assertIn(words, body)
        self.assertGreater(height, 300)


class GnuplotFails(Traces):
    def test_a_gnuplot_error_is_status_1_with_its_message(self):
        bindir = os.path.join(self.tmp.name, "bin")
        os.makedirs(bindir)
        fake = os.path.join(bindir, "gnuplot")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\necho '\"timeline.body.gp\" line 9: unexpected thing' >&2\nexit 1\n")
        os.chmod(fake, 0o755)
        env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
        png = os.path.join(self.tmp.name, "out.png")
        p = run_timeline("--quiet", "--png", png, fixture("seed_sleep"), env=env)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
        self.assertTrue(p.stderr.startswith("scripts/timeline: gnuplot failed"), p.stderr)
        self.assertIn("unexpected thing", p.stderr)
        self.assertFalse(os.path.exists(png))
        # The script is kept for a look, where the message says.
        kept = p.stderr.split("its script: ")[1].split(")")[0]
        self.assertTrue(os.path.exists(kept))
        shutil.rmtree(os.path.dirname(kept))


if __name__ == "__main__":
    unittest.main()
