"""scripts/trace-cost (scripts/parlab/tracecost.py): a tiny run writes the
CSV that docs/timeline.md quotes (scripts/doc-figures source tracecost),
with its verdict computed from the run's interval; a build without
spin-calibrate is one line and status 1, not a traceback."""
import csv
import os
import shutil
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
TRACE_COST = os.path.join(TOP, "scripts", "trace-cost")
BUILD = os.environ.get("PARLAB_BUILD", "build")
if not os.path.isabs(BUILD):
    BUILD = os.path.join(TOP, BUILD)
# What docs/timeline.md's markers read.
QUOTED = ("model", "work_us", "text", "verdict", "added_ns_per_task")


@unittest.skipUnless(shutil.which("hyperfine") and os.path.exists(
    os.path.join(BUILD, "serial", "squares")), "needs hyperfine and a plain build")
class TraceCost(unittest.TestCase):
    def test_csv_has_what_the_docs_quote(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "cost.csv")
            done = subprocess.run([TRACE_COST, "--build", BUILD, "--rounds", "6",
                                   "--models", "serial", "--work-us", "0,10",
                                   "--tasks-bare", "50", "--tasks-work", "20", "--csv", out],
                                  capture_output=True, text=True, timeout=120)
            self.assertEqual(done.returncode, 0, done.stderr)
            with open(out, newline="") as f:
                rows = list(csv.DictReader(f))
        self.assertEqual([(r["model"], r["work_us"]) for r in rows],
                         [("serial", "0"), ("serial", "10")])
        for r in rows:
            for col in QUOTED:
                self.assertIn(col, r)
            lo, hi = float(r["ratio_lo"]), float(r["ratio_hi"])
            self.assertLessEqual(lo, float(r["ratio"]))
            self.assertLessEqual(float(r["ratio"]), hi)
            # text rounds the ratio to 3 decimals, the ratio column to 4.
            shown = float(r["text"].split(" [")[0])
            self.assertAlmostEqual(shown, float(r["ratio"]), delta=0.00051, msg=r["text"])
            self.assertIn("trace.json", r["command"])
        bare, work = rows
        self.assertEqual(bare["verdict"], "")          # the goal is for 10 us tasks only
        lo, hi = float(work["ratio_lo"]), float(work["ratio_hi"])
        want = "met" if hi < 1.05 else "missed" if lo > 1.05 else "not determined"
        self.assertEqual(work["verdict"], want)

    def test_missing_calibrator_is_one_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ)
            env.pop("PARLAB_SPIN_PER_US", None)
            done = subprocess.run([TRACE_COST, "--build", tmp, "--rounds", "6"],
                                  capture_output=True, text=True, timeout=60, env=env)
        self.assertEqual(done.returncode, 1)
        self.assertNotIn("Traceback", done.stderr)
        self.assertIn("spin-calibrate", done.stderr)
        self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)


if __name__ == "__main__":
    unittest.main()
