"""scripts/parlab/derive.py on hand-made runs: figures paired round by
round, intervals, not-determined figures, and the minimum task size."""
import unittest

from fixture import FixtureRun, series
from parlab.derive import Deriver
from parlab.results import Results


def derive(run):
    run.write()
    return Results(Deriver(run.dir).run())


class Paired(unittest.TestCase):
    def setUp(self):
        self.run = FixtureRun()

    def tearDown(self):
        self.run.close()

    def test_speedup_is_paired_round_by_round(self):
        # A burst of load in rounds 3 and 4 slows both alike: paired, the
        # speedup stays 2.0 exactly; from medians of unpaired runs it
        # would still be 2, but its interval would be wide.
        r = self.run
        r.group("scaling-squares")
        r.cell("scaling", "squares", "serial", 1, 400, 500, [0.2, 0.2, 0.4, 0.4, 0.2, 0.2, 0.2])
        r.cell("scaling", "squares", "pthreads", 2, 400, 500, [0.1, 0.1, 0.2, 0.2, 0.1, 0.1, 0.1])
        res = derive(r)
        s = res.one(suite="scaling", model="pthreads", statistic="speedup")
        self.assertEqual((s.value, s.ci_lo, s.ci_hi, s.n, s.status), (2.0, 2.0, 2.0, 7, "ok"))
        e = res.one(suite="scaling", model="pthreads", statistic="efficiency")
        self.assertEqual(e.value, 1.0)
        # The wall time alone has the burst in its interval.
        w = res.one(suite="scaling", model="pthreads", statistic="wall_s")
        self.assertEqual((w.ci_lo, w.ci_hi), (0.1, 0.2))

    def test_noisy_ratio_is_not_determined(self):
        r = self.run
        r.group("scaling-squares")
        r.cell("scaling", "squares", "serial", 1, 400, 500, series(0.2, 9, 0.01))
        r.cell("scaling", "squares", "openmp", 2, 400, 500, [0.1, 0.2, 0.08, 0.15, 0.1, 0.12, 0.09, 0.2, 0.11])
        s = derive(r).one(suite="scaling", model="openmp", statistic="speedup")
        self.assertEqual(s.status, "not-determined")
        self.assertIn("wider than", s.why)

    def test_a_failed_round_drops_only_that_pair(self):
        r = self.run
        r.group("g")
        r.cell("scaling", "squares", "serial", 1, 40, 5, [0.2] * 7)
        r.cell("scaling", "squares", "fork", 2, 40, 5, [0.1, None, 0.1, 0.1, 0.1, 0.1, 0.1])
        s = derive(r).one(suite="scaling", model="fork", statistic="speedup")
        self.assertEqual((s.value, s.n), (2.0, 6))

    def test_overhead_whose_interval_holds_zero_is_not_determined(self):
        r = self.run
        r.group("overhead")
        serial = [0.010, 0.011, 0.010, 0.009, 0.010, 0.011, 0.010]
        r.cell("overhead", "squares", "serial", 1, 20000, 0, serial)
        # pthreads: T = T_serial / 2 give or take: the overhead straddles 0.
        r.cell("overhead", "squares", "pthreads", 2, 20000, 0,
               [0.0052, 0.0053, 0.0049, 0.0044, 0.005, 0.0056, 0.0049])
        # the thread pool: clearly 400 ns per task on top.
        r.cell("overhead", "squares", "thread-pool", 2, 20000, 0, [s / 2 + 0.004 for s in serial])
        res = derive(r)
        p = res.one(suite="overhead", model="pthreads", statistic="overhead_ns_per_task")
        self.assertEqual(p.status, "not-determined")
        self.assertIn("zero", p.why)
        t = res.one(suite="overhead", model="thread-pool", statistic="overhead_ns_per_task")
        self.assertEqual(t.status, "ok")
        self.assertAlmostEqual(t.value, 400.0, places=6)

    def test_too_few_rounds_decide_nothing(self):
        r = self.run
        r.group("g")
        r.cell("scaling", "squares", "serial", 1, 40, 5, [0.2, 0.2])
        r.cell("scaling", "squares", "fork", 2, 40, 5, [0.1, 0.1])
        s = derive(r).one(suite="scaling", model="fork", statistic="speedup")
        self.assertEqual((s.value, s.status), (2.0, "not-determined"))

    def test_cpu_share_shows_waiting_for_a_cpu(self):
        r = self.run
        r.group("g")
        r.cell("scaling", "squares", "serial", 1, 400, 500, [0.2] * 7)
        # two workers, but only 1.2 CPUs' worth of CPU time per wall second
        r.cell("scaling", "squares", "pthreads", 2, 400, 500, [0.17] * 7, cpus=[0.204] * 7)
        c = derive(r).one(suite="scaling", model="pthreads", statistic="cpu_share")
        self.assertAlmostEqual(c.value, 0.6)

    def test_a_contended_machine_decides_nothing_cpu_bound(self):
        # A hog on one of the 2 CPUs: every model at -j 2 gets one CPU;
        # their speedups are tight, and wrong as figures of the models.
        r = self.run
        r.group("scaling-squares")
        r.cell("scaling", "squares", "serial", 1, 400, 500, series(0.2, 9, 0.002))
        for m in ("thread-pool", "pthreads", "fork"):
            r.cell("scaling", "squares", m, 2, 400, 500, series(0.2, 9, 0.002), cpus=series(0.2, 9, 0.002))
        r.group("scaling-sleep")
        r.cell("scaling", "sleep", "serial", 1, 12, 0, series(0.48, 9, 0.002), scale="0.01")
        r.cell("scaling", "sleep", "thread-pool", 2, 12, 0, series(0.24, 9, 0.002), scale="0.01")
        res = derive(r)
        s = res.one(suite="scaling", workload="squares", model="pthreads", statistic="speedup")
        self.assertEqual(s.status, "not-determined")
        self.assertIn("contended", s.why)
        share = res.one(suite="scaling", workload="squares", model="pthreads", statistic="cpu_share")
        self.assertAlmostEqual(share.value, 0.5)
        # the waiting workload is judged as usual
        w = res.one(suite="scaling", workload="sleep", model="thread-pool", statistic="speedup")
        self.assertEqual((w.status, round(w.value, 6)), ("ok", 2.0))

    def test_an_uncontended_machine_keeps_its_figures(self):
        r = self.run
        r.group("scaling-squares")
        r.cell("scaling", "squares", "serial", 1, 400, 500, series(0.2, 9, 0.002))
        for m in ("thread-pool", "pthreads"):
            r.cell("scaling", "squares", m, 2, 400, 500, series(0.105, 9, 0.002))
        s = derive(r).one(suite="scaling", workload="squares", model="pthreads", statistic="speedup")
        self.assertEqual(s.status, "ok")

    def test_worker_start_from_the_floors_suite(self):
        r = self.run
        r.group("floors")
        r.cell("floors", "squares", "pthreads", 1, 64, 0, [0.001] * 7, stats={"threads_created": 1})
        r.cell("floors", "squares", "pthreads", 64, 64, 0, [0.0031] * 7, stats={"threads_created": 64})
        w = derive(r).one(suite="floors", model="pthreads", jobs=64, statistic="worker_start_us")
        self.assertAlmostEqual(w.value, 2100 / 63, places=3)

    def test_min_grain_ignores_a_dip_at_the_largest_size(self):
        r = self.run
        for u, eff in ((0.1, 0.2), (1, 0.45), (10, 0.8), (100, 0.9), (1000, 0.35)):
            r.group(f"granularity-w{u}")
            r.cell("granularity", "squares", "serial", 1, 1000, u, series(0.1, 9, 0.005))
            r.cell("granularity", "squares", "thread-pool", 2, 1000, u, series(0.1 / (2 * eff), 9, 0.005))
        g = derive(r).one(suite="granularity", model="thread-pool", statistic="min_grain_us")
        self.assertEqual(g.status, "not-determined")
        self.assertIn("more than once", g.why)

    def test_min_grain_of_a_clean_curve(self):
        r = self.run
        for u, eff in ((0.1, 0.2), (1, 0.4), (10, 0.6), (100, 0.9)):
            r.group(f"granularity-w{u}")
            r.cell("granularity", "squares", "serial", 1, 1000, u, series(0.1, 9, 0.002))
            r.cell("granularity", "squares", "thread-pool", 2, 1000, u, series(0.1 / (2 * eff), 9, 0.002))
        g = derive(r).one(suite="granularity", model="thread-pool", statistic="min_grain_us")
        self.assertEqual(g.status, "ok")
        self.assertAlmostEqual(g.value, 10 ** 0.5, delta=0.05)
        self.assertTrue(1 <= g.ci_lo <= g.value <= g.ci_hi <= 10)


if __name__ == "__main__":
    unittest.main()
