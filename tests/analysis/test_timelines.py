"""The report's timelines (scripts/parlab/timelines.py, section 9): the
figures its captions quote, computed from the committed fixture traces;
the section composed from a run folder, with a failed shot listed; the
shots sharing a time axis per group; scripts/run-timelines' contract
(bad TIMELINE_SCALE, a program that is not built); timeline --until."""
import contextlib
import csv
import io
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from parlab import timeline, timelines
from parlab.outline import Outline

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(TOP, "tests", "fixtures", "trace")
RUN_TIMELINES = os.path.join(TOP, "scripts", "run-timelines")


def fixture(name):
    return timeline.load(os.path.join(FIXTURES, name + ".json"))


class Facts(unittest.TestCase):
    def test_seed_sleep(self):
        f = timelines.facts(fixture("seed_sleep"))
        self.assertEqual(f["finish_order"], "1 2 0")      # 1 s, 2 s, 3 s
        self.assertEqual((f["workers"], f["tasks"], f["tasks_min"], f["tasks_max"]), (3, 3, 1, 1))
        self.assertEqual(f["jumps"], 0)
        self.assertEqual(f["median_gap_us"], 0.0)         # one task per worker: no gap
        self.assertAlmostEqual(f["first_start_us"], 112.53)
        # 6 s of tasks on 3 workers in a 3 s span: two thirds busy.
        self.assertAlmostEqual(f["busy_share"], 6000218.631 / (3 * 3000248.716), places=6)

    def test_dynamic_squares_jump(self):
        t = fixture("squares_dynamic")
        f = timelines.facts(t)
        rows = timelines.per_worker(t)
        want = sum(1 for r in rows.values() for a, b in zip(r, r[1:])
                   if b.args["task"] != a.args["task"] + 1)
        self.assertEqual(f["jumps"], want)
        self.assertGreater(f["jumps"], 0)
        self.assertEqual(sum(len(r) for r in rows.values()), f["tasks"])

    def test_folders_waits(self):
        t = fixture("folders")
        f = timelines.facts(t)
        fetches = [e for e in t.events if e.cat == "fetch"]
        self.assertEqual(f["fetches"], len(fetches))
        self.assertAlmostEqual(f["fetches_us"], sum(e.dur for e in fetches))
        waits = [e for e in t.events if e.name == "rate-limit wait"]
        self.assertEqual(f["rate_waits"], len(waits))

    def test_gaps_are_between_tasks_of_one_worker(self):
        t = fixture("squares_dynamic")
        gaps = timelines.gaps_us(t)
        rows = timelines.per_worker(t)
        self.assertEqual(len(gaps), sum(len(r) - 1 for r in rows.values()))
        self.assertTrue(all(g >= 0 for g in gaps))


class Section(unittest.TestCase):
    """section() on a run folder holding the fixtures as shots."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="parlab-timelines-")
        os.makedirs(os.path.join(self.dir, "traces"))
        shots = {"sleep-seed": "seed_sleep", "squares-pthreads-dynamic": "squares_dynamic",
                 "folders-pthreads": "folders"}
        with open(os.path.join(self.dir, "traces", "status.tsv"), "w") as f:
            for shot, fx in shots.items():
                shutil.copy(os.path.join(FIXTURES, fx + ".json"), os.path.join(self.dir, "traces", shot + ".json"))
                f.write(f"{shot}\t0\t\n")
                open(os.path.join(self.dir, f"timeline-{shot}.png"), "w").close()
            f.write("squares-fork\t124\ttook more than 120 s\n")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def compose(self):
        class Run:
            dir = self.dir
        out = Outline(self.dir)
        timelines.section(Run(), out)
        return out.lines

    def test_captions_come_from_the_traces(self):
        lines = self.compose()
        seed = next(x for x in lines if x.startswith("IMG timeline-sleep-seed"))
        self.assertIn("(1.00 s, 2.00 s, 3.00 s)", seed)
        self.assertIn("3.00 s", seed)
        self.assertTrue(any(x.startswith("IMG timeline-squares-pthreads-dynamic") for x in lines))
        self.assertTrue(any(x.startswith("IMG timeline-folders-pthreads") for x in lines))

    def test_a_failed_shot_is_listed(self):
        lines = self.compose()
        self.assertIn("TABLE tables/timelines_failed.tsv", "\n".join(lines))
        with open(os.path.join(self.dir, "tables", "timelines_failed.tsv")) as f:
            self.assertIn("squares-fork\ttook more than 120 s", f.read())

    def test_timelines_csv(self):
        self.compose()
        with open(os.path.join(self.dir, "timelines.csv")) as f:
            rows = {(r["shot"], r["key"]): (r["value"], r["text"]) for r in csv.DictReader(f)}
        self.assertEqual(rows[("sleep-seed", "finish_order")][0], "1 2 0")
        self.assertEqual(rows[("sleep-seed", "tasks")][0], "3")
        self.assertEqual(rows[("sleep-seed", "span_us")], ("3.00025e+06", "3.00 s"))

    def test_no_timelines_says_so(self):
        os.remove(os.path.join(self.dir, "traces", "status.tsv"))
        lines = self.compose()
        self.assertTrue(any("TIMELINES=no" in x for x in lines))
        self.assertFalse(any(x.startswith("IMG") for x in lines))

    @unittest.skipUnless(shutil.which("gnuplot"), "gnuplot is not installed")
    def test_draw_shares_the_axis_of_a_group(self):
        for png in os.listdir(self.dir):
            if png.endswith(".png"):
                os.remove(os.path.join(self.dir, png))
        self.assertEqual(timelines.draw(self.dir), [])
        for shot in ("sleep-seed", "squares-pthreads-dynamic", "folders-pthreads"):
            with open(os.path.join(self.dir, f"timeline-{shot}.png"), "rb") as f:
                self.assertEqual(f.read(4), b"\x89PNG")
            with open(os.path.join(self.dir, "traces", shot + ".txt")) as f:
                self.assertIn("|", f.read())


class RunTimelines(unittest.TestCase):
    def run_script(self, *args, env=None):
        e = dict(os.environ)
        e.update(env or {})
        return subprocess.run([sys.executable, RUN_TIMELINES, *args], capture_output=True, text=True,
                              env=e, timeout=60)

    def test_bad_scale_is_refused(self):
        d = tempfile.mkdtemp()
        try:
            for bad in ("0", "-1", "abc", "1e9"):
                r = self.run_script(d, env={"TIMELINE_SCALE": bad})
                self.assertEqual(r.returncode, 2, bad)
                self.assertEqual(r.stderr.count("\n"), 1, r.stderr)
            self.assertFalse(os.path.exists(os.path.join(d, "traces")))
        finally:
            shutil.rmtree(d)

    def test_unbuilt_programs_are_reported_not_fatal(self):
        d = tempfile.mkdtemp()
        try:
            r = self.run_script(d, env={"PARLAB_BUILD": "/nonexistent"})
            self.assertEqual(r.returncode, 0, r.stderr)
            st = timelines.statuses(d)
            self.assertEqual(set(st), {s.name for s in timelines.SHOTS})
            self.assertTrue(all(rc == 127 and "is not built" in why for rc, why in st.values()))
            with open(os.path.join(d, "commands.txt")) as f:
                self.assertEqual(sum(1 for line in f if "--trace" in line), len(timelines.SHOTS))
        finally:
            shutil.rmtree(d)


class Until(unittest.TestCase):
    def chart(self, *args):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            status = timeline.main(list(args) + [os.path.join(FIXTURES, "seed_sleep.json")])
        return status, out.getvalue()

    def test_until_stretches_the_axis(self):
        status, plain = self.chart()
        self.assertEqual(status, 0)
        status, longer = self.chart("--until", "6000000")
        self.assertEqual(status, 0)
        self.assertNotIn("6 s", plain)
        self.assertIn("6 s", longer)
        # The summary's shares stay shares of the run's own span.
        self.assertEqual([x for x in plain.splitlines() if "% of the span" in x],
                         [x for x in longer.splitlines() if "% of the span" in x])

    def test_bad_until(self):
        for bad in ("0", "-5", "nan", "inf"):
            with contextlib.redirect_stderr(io.StringIO()):
                with self.assertRaises(SystemExit) as e:
                    timeline.main(["--until", bad, os.path.join(FIXTURES, "seed_sleep.json")])
            self.assertEqual(e.exception.code, 2, bad)


if __name__ == "__main__":
    unittest.main()
