"""Section 8's verdicts (scripts/parlab/verdicts.py) follow the figures:
a figure that is not determined decides nothing, and the same row says
holds or does not hold as the figures move."""
import os
import unittest

from fixture import FixtureRun, series
from parlab import results
from parlab.compose import Run
from parlab.derive import Deriver
from parlab.verdicts import Verdicts


def verdicts(run):
    run.write()
    results.write(os.path.join(run.dir, "results.csv"), Deriver(run.dir).run())
    return Verdicts(Run(run.dir))


def scaling(run, squares_speedup, sleep_speedup, spread=0.002):
    run.group("scaling-squares")
    run.cell("scaling", "squares", "serial", 1, 400, 500, series(0.2, 9, 0.002))
    for m in ("thread-pool", "process-pool", "pthreads"):
        run.cell("scaling", "squares", m, 2, 400, 500, series(0.2 / squares_speedup, 9, spread))
    run.group("scaling-sleep")
    run.cell("scaling", "sleep", "serial", 1, 12, 0, series(0.48, 9, 0.002), scale="0.02")
    for m in ("thread-pool", "process-pool", "pthreads"):
        run.cell("scaling", "sleep", m, 2, 12, 0, series(0.48 / sleep_speedup, 9, spread), scale="0.02")


class SuitedWork(unittest.TestCase):
    def setUp(self):
        self.run = FixtureRun()

    def tearDown(self):
        self.run.close()

    def test_holds_when_both_speedups_are_above_1(self):
        scaling(self.run, 1.9, 1.98)
        v = verdicts(self.run).suited_work()[4]
        self.assertIn("I/O work: holds", v)
        self.assertIn("CPU work: holds", v)

    def test_does_not_hold_when_the_cpu_speedup_is_1(self):
        # the loaded run of the issue: squares speedups around 1
        scaling(self.run, 1.0, 1.98)
        v = verdicts(self.run).suited_work()[4]
        self.assertIn("I/O work: holds", v)
        self.assertIn("CPU work: does not hold in this run", v)

    def test_a_figure_not_determined_decides_nothing(self):
        scaling(self.run, 1.5, 1.98, spread=0.4)
        v = verdicts(self.run).suited_work()[4]
        self.assertIn("CPU work: not determined", v)
        self.assertIn("I/O work: not determined", v)
        self.assertNotIn("holds", v.lower().replace("not determined", ""))

    def test_a_partial_run_says_not_measured(self):
        self.run.group("overhead")
        self.run.cell("overhead", "squares", "serial", 1, 2000, 0, series(0.01))
        v = verdicts(self.run)
        for row in (v.suited_work(), v.management(), v.use_cases(), v.abstraction()):
            self.assertIn("not measured in this run", row[3], row)
            self.assertEqual(row[4], "No evidence.")
            self.assertNotIn("?", row[3])


if __name__ == "__main__":
    unittest.main()
