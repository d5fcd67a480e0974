"""The statistics of scripts/parlab/stats.py on series whose answers are
known by hand."""
import unittest

from parlab import stats


class MedianInterval(unittest.TestCase):
    def test_ranks_follow_the_binomial(self):
        # Below 6 values no interval reaches 95 %; at 6 to 8 it is min..max;
        # at 9 the second smallest to the second largest (96.1 %).
        for n in range(1, 6):
            self.assertIsNone(stats.order_statistic_ranks(n))
        self.assertEqual(stats.order_statistic_ranks(6), (1, 6))
        self.assertEqual(stats.order_statistic_ranks(8), (1, 8))
        self.assertEqual(stats.order_statistic_ranks(9), (2, 8))
        self.assertEqual(stats.order_statistic_ranks(17), (5, 13))
        for n in range(6, 65):
            k, _ = stats.order_statistic_ranks(n)
            self.assertGreaterEqual(stats.coverage(n, k), 0.95, n)
            # and the next narrower one would not cover 95 %
            self.assertLess(stats.coverage(n, k + 1), 0.95, n)

    def test_coverage_by_hand(self):
        self.assertAlmostEqual(stats.coverage(6, 1), 1 - 2 / 64)
        self.assertAlmostEqual(stats.coverage(9, 2), 1 - 2 * 10 / 512)

    def test_known_interval(self):
        values = [1.07, 1.01, 0.99, 1.03, 1.00, 1.02, 0.98, 1.05, 1.04]
        e = stats.estimate(values)
        self.assertEqual(e.value, 1.02)
        # sorted: 0.98 0.99 1.00 1.01 1.02 1.03 1.04 1.05 1.07: ranks 2 and 8
        self.assertEqual((e.lo, e.hi), (0.99, 1.05))
        self.assertEqual(e.n, 9)
        self.assertTrue(e.determined)
        self.assertAlmostEqual(e.relative_halfwidth(), 0.03 / 1.02)

    def test_none_and_nan_are_dropped(self):
        e = stats.estimate([1, None, 2, float("nan"), 3, 4, 5, 6])
        self.assertEqual(e.n, 6)
        self.assertEqual(e.value, 3.5)

    def test_too_few_rounds_is_not_determined(self):
        e = stats.estimate([1.0, 1.0, 1.0, 1.0, 1.0])
        self.assertFalse(e.determined)
        self.assertIn("6", e.why)
        self.assertIsNone(stats.estimate([]))

    def test_noisy_series_is_not_determined(self):
        # A loaded machine: the ratio jumps between 0.6 and 1.5.
        noisy = [1.0, 0.62, 1.48, 0.95, 1.31, 0.7, 1.12, 0.88, 1.4]
        e = stats.estimate(noisy, bound=0.05)
        self.assertFalse(e.determined)
        self.assertIn("wider than", e.why)
        quiet = [1.0, 1.01, 0.99, 1.02, 0.985, 1.005, 1.0, 0.995, 1.01]
        self.assertTrue(stats.estimate(quiet, bound=0.05).determined)


class Pairs(unittest.TestCase):
    def test_ratios_are_taken_round_by_round(self):
        # Serial and the model both slow down in rounds 3 and 4 (a burst of
        # load): the paired ratio does not move, an unpaired one would.
        serial = [1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 1.0]
        model = [0.5, 0.5, 1.0, 1.0, 0.5, 0.5, 0.5]
        r = stats.estimate(stats.ratio_samples(serial, model), bound=0.05)
        self.assertEqual((r.value, r.lo, r.hi), (2.0, 2.0, 2.0))
        self.assertTrue(r.determined)

    def test_a_missing_round_drops_the_pair(self):
        self.assertEqual(stats.ratio_samples([2, None, 6, 8], [1, 2, None, 4]), [2, 2])


class Verdicts(unittest.TestCase):
    def test_against_a_goal(self):
        met = stats.Estimate(1.0, 0.95, 1.05, 9)
        self.assertEqual(stats.judge(met, 1.2, "<="), "met")
        self.assertEqual(stats.judge(met, 0.9, "<="), "missed")
        self.assertEqual(stats.judge(met, 1.02, "<="), "not determined")
        self.assertEqual(stats.judge(met, 0.9, ">="), "met")

    def test_a_figure_not_determined_gives_no_verdict(self):
        wide = stats.Estimate(1.0, 0.5, 1.5, 9, stats.NOT_DETERMINED, "wide")
        # even though its median and whole interval are under the goal
        self.assertEqual(stats.judge(wide, 2.0, "<="), "not determined")
        self.assertEqual(stats.judge(None, 2.0, "<="), "not determined")


if __name__ == "__main__":
    unittest.main()
