"""scripts/plot (scripts/parlab/plots.py) on a small hand-written run
(fixtures/plots/run): the data behind each figure, the axis ranges, the
abbreviation key, figures without data left out, and gnuplot's failures
made loud."""
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

from parlab import plots

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "fixtures", "plots", "run")
TOP = os.path.dirname(os.path.dirname(HERE))
PNG = b"\x89PNG\r\n\x1a\n"
HAVE_GNUPLOT = shutil.which("gnuplot") is not None


def rows_of(text):
    """The data lines of a .dat file, split into fields."""
    return [re.findall(r'"[^"]*"|\S+', l) for l in text.splitlines() if l and not l.startswith("#")]


def yrange(fig):
    for line in fig.body:
        m = re.match(r"set yrange \[([^:]*):([^\]]*)\]", line)
        if m:
            return float(m.group(1)), float(m.group(2))
    return None


class Figures(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rd = plots.Run(FIXTURE)
        cls.figs = {f.name: f for f in plots.figures(cls.rd)}

    def test_the_figures_the_data_has_and_only_those(self):
        self.assertEqual(set(self.figs), {"wall_squares", "speedup_squares", "granularity", "overhead",
                                          "memory", "created", "abstraction"})
        # No folders rows: no folders_bound; no sleep rows: no sleep figures.
        self.assertNotIn("folders_bound", self.figs)
        self.assertNotIn("speedup_sleep", self.figs)

    def test_speedup_rows_carry_their_interval_and_determination(self):
        fig = self.figs["speedup_squares"]
        rows = rows_of(fig.files["speedup_squares_thread-pool.dat"])
        self.assertEqual(len(rows), 3)
        by_jobs = {r[0]: r for r in rows}
        # x, x drawn, median, lo, hi, determined, status
        self.assertEqual(by_jobs["2"][2:7], ["1.6", "0.99", "1.95", "0", "not-determined"])
        self.assertEqual(by_jobs["4"][2:7], ["1.9", "1.85", "2.3", "1", "ok"])
        # The determined points filled, the others hollow (point type - 1).
        st = self.rd.styles
        body = "\n".join(fig.body)
        self.assertIn(f"pt {st.pt('thread-pool')} ", body)
        self.assertIn(f"pt {st.hollow('thread-pool')} ", body)
        self.assertIn("hollow: not determined", body)

    def test_a_model_with_every_point_determined_has_no_hollow_clause(self):
        body = "\n".join(self.figs["speedup_squares"].body)
        st = self.rd.styles
        openmp = [l for l in body.splitlines() if "speedup_squares_openmp.dat" in l]
        self.assertTrue(openmp)
        self.assertFalse(any(f"pt {st.hollow('openmp')} " in l for l in openmp))

    def test_a_failed_cell_is_marked_not_drawn_as_a_time(self):
        fig = self.figs["wall_squares"]
        self.assertIn("wall_squares_failed.dat", fig.files)
        self.assertEqual(rows_of(fig.files["wall_squares_failed.dat"]), [["4", "process-pool"]])
        pp = rows_of(fig.files["wall_squares_process-pool.dat"])
        self.assertEqual([r[0] for r in pp], ["1", "2"])

    def test_speedup_axis_fits_the_cores_or_the_largest_upper_end(self):
        lo, hi = yrange(self.figs["speedup_squares"])
        need = max(2, 2.3)          # 2 cores; the largest upper end is 2.3
        self.assertEqual(lo, 0)
        self.assertGreaterEqual(hi, need)
        self.assertLessEqual(hi, need * 1.2)

    def test_speedup_top_rule(self):
        for his, cores in (([1.9, 1.95], 2), ([3.1, 7.8], 2), ([], 8), ([0.5], 1)):
            top = plots.speedup_top(his, cores)
            need = max([cores] + his)
            self.assertGreaterEqual(top, need)
            self.assertLessEqual(top, need * 1.2)

    def test_efficiency_axis_to_at_least_1_1_or_the_largest_upper_end(self):
        lo, hi = yrange(self.figs["granularity"])
        self.assertGreaterEqual(hi, 1.3)            # openmp's 1.25 [1.2, 1.3]
        self.assertLessEqual(hi, 1.3 * 1.2)
        self.assertAlmostEqual(plots.efficiency_top([0.5, 0.9]), 1.1)
        self.assertGreaterEqual(plots.efficiency_top([1.4]), 1.4)

    def test_granularity_rows_and_the_minimum_task_size_in_the_legend(self):
        fig = self.figs["granularity"]
        rows = rows_of(fig.files["granularity_thread-pool.dat"])
        self.assertEqual([(r[0], r[5]) for r in rows], [("1", "1"), ("10", "0"), ("100", "1")])
        body = "\n".join(fig.body)
        self.assertIn("thread-pool: between 1 and 100 µs", body)
        self.assertIn("openmp: ≤ 1 µs", body)

    def test_abbreviations_have_a_key(self):
        shown, key = plots.abbreviate(["thread-pool", "a-model-with-a-very-long-name"])
        self.assertEqual(shown["thread-pool"], "thread-pool")
        short = shown["a-model-with-a-very-long-name"]
        self.assertLessEqual(len(short), plots.LABEL_BUDGET)
        self.assertIn(f"{short} = a-model-with-a-very-long-name", key)
        # The figure with that name on its axis shows the short form and the key.
        body = "\n".join(self.figs["overhead"].body)
        self.assertIn("Abbreviations:", body)
        self.assertIn(plots.enh(f"{short} = a-model-with-a-very-long-name"), body)

    def test_short_names_are_not_abbreviated_and_have_no_key(self):
        shown, key = plots.abbreviate(["serial", "thread-pool-batches"])
        self.assertEqual(key, [])
        self.assertNotIn("Abbreviations:", "\n".join(self.figs["memory"].body))

    def test_overhead_bars_and_floors(self):
        fig = self.figs["overhead"]
        filled = rows_of(fig.files["overhead_bars.dat"])
        hollow = rows_of(fig.files["overhead_bars_nd.dat"])
        # thread-pool's overhead and both condvar floors are determined; the
        # process pool's overhead and its pipe floor (2 rounds) are not.
        self.assertEqual(sorted(r[7] for r in filled), ["cross-core", "overhead", "overhead", "same-core"])
        self.assertEqual(sorted(r[7] for r in hollow), ["overhead", "same-core"])
        body = "\n".join(fig.body)
        self.assertIn("mutex+condvar round trip, same core", body)
        self.assertIn("floor: not measured in this run", body)     # the long-named model has none

    def test_counts_have_integer_ticks(self):
        body = "\n".join(self.figs["created"].body)
        self.assertIn("set format x '%.0f'", body)
        for m in re.finditer(r"set xtics 0, (\S+)", body):
            self.assertEqual(float(m.group(1)), int(float(m.group(1))))
        body = "\n".join(self.figs["abstraction"].body)
        m = re.search(r"set xtics (\S+); set format x '%.0f'", body)
        self.assertTrue(m)
        self.assertEqual(float(m.group(1)), int(float(m.group(1))))

    def test_abstraction_shares_a_point_and_labels_both(self):
        fig = self.figs["abstraction"]
        rows = rows_of(fig.files["abstraction_squares.dat"])
        self.assertEqual(sorted(r[8] for r in rows), ["openmp", "process-pool", "thread-pool"])
        body = "\n".join(fig.body)
        for m in ("thread-pool", "process-pool", "openmp"):
            self.assertIn(f'{{/*{plots.LABEL:g} {m}}}"', body)
        self.assertIn("area: lines of code", body)
        self.assertIn("colour: model", body)

    def test_labels_do_not_collide(self):
        # Two bubbles on one spot and one near: three labels, no two overlapping.
        bubbles = [(500, 300, 30, "thread-pool"), (500, 305, 30, "process-pool"), (540, 300, 20, "fork")]
        spots = plots.place_labels(bubbles, (100, 100, 1000, 700))
        rects = []
        for (x, y, al, _), (_, _, _, text) in zip(spots, bubbles):
            w = plots.text_px(text, plots.FONT_PT * 0.8)
            x0 = x if al == "left" else (x - w if al == "right" else x - w / 2)
            rects.append((x0, y - 10, x0 + w, y + 10))
        for i in range(len(rects)):
            for j in range(i + 1, len(rects)):
                a, b = rects[i], rects[j]
                self.assertFalse(a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3], (a, b))

    def test_same_colour_for_a_model_everywhere(self):
        st = plots.Styles(["serial", "thread-pool", "openmp"])
        self.assertEqual(st.colour("serial"), plots.COLOURS[0])
        self.assertEqual(st.colour("openmp"), plots.COLOURS[2])
        self.assertEqual(st.lt("openmp"), 3)
        # An unknown model goes after the known ones, and keeps its place.
        self.assertEqual(st.lt("new-model"), 4)
        self.assertEqual(st.lt("openmp"), 3)


class Empty(unittest.TestCase):
    def test_a_run_without_data_draws_nothing(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "results.csv"), "w") as f:
                f.write("suite,workload,model,jobs,tasks,work_us,scale,placement,statistic,value,ci_lo,ci_hi,"
                        "unit,n,status,note\n"
                        "scaling,squares,serial,1,400,500,1,unpinned,wall_s,,,,s,0,failed,exit status 1\n")
            self.assertEqual(plots.figures(plots.Run(d)), [])
            # An older picture of a figure this run does not have is removed.
            open(os.path.join(d, "granularity.png"), "wb").close()
            open(os.path.join(d, "other.png"), "wb").close()
            out = io.StringIO()
            self.assertEqual(plots.plot(d, out=out), 0)
            self.assertEqual(out.getvalue(), "")
            self.assertFalse(os.path.exists(os.path.join(d, "granularity.png")))
            self.assertTrue(os.path.exists(os.path.join(d, "other.png")))


@unittest.skipUnless(HAVE_GNUPLOT, "gnuplot is not on PATH")
class Drawing(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.dir = os.path.join(self.tmp, "run")
        shutil.copytree(FIXTURE, self.dir)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_every_figure_is_a_png_and_an_svg(self):
        out, err = io.StringIO(), io.StringIO()
        self.assertEqual(plots.plot(self.dir, out=out, err=err), 0, err.getvalue())
        names = out.getvalue().split()
        self.assertEqual(set(names), {"wall_squares", "speedup_squares", "granularity", "overhead", "memory",
                                      "created", "abstraction"})
        for n in names:
            with open(os.path.join(self.dir, n + ".png"), "rb") as f:
                self.assertEqual(f.read(8), PNG, n)
            with open(os.path.join(self.dir, n + ".svg")) as f:
                self.assertIn("<svg", f.read(2000), n)
            self.assertTrue(os.path.exists(os.path.join(self.dir, "data", n + ".gp")))
            with open(os.path.join(self.dir, "data", n + ".log")) as f:
                self.assertEqual(f.read().strip(), "", n)      # not a word from gnuplot
        self.assertFalse(os.path.exists(os.path.join(self.dir, "folders_bound.png")))

    def test_a_broken_script_fails_loudly(self):
        fig = plots.Figure("broken")
        fig("plot x wiht lines")
        with self.assertRaises(plots.PlotError) as e:
            plots.draw(fig, self.dir, plots.Styles(["serial"]))
        self.assertIn("broken", str(e.exception))
        self.assertIn("wiht", str(e.exception))
        self.assertFalse(os.path.exists(os.path.join(self.dir, "broken.png")))

    def test_a_warning_that_loses_data_fails_too(self):
        fig = plots.Figure("nodata")
        f = fig.data("", ["x", "y"], [])
        fig(f"plot '{f}' using 1:2 with points notitle, x notitle")
        with self.assertRaises(plots.PlotError) as e:
            plots.draw(fig, self.dir, plots.Styles(["serial"]))
        self.assertIn("no valid points", str(e.exception).lower())

    def test_a_failing_figure_makes_the_command_exit_1_with_the_message(self):
        real = plots.figures

        def with_broken(run):
            fig = plots.Figure("broken")
            fig("set yrange [0:]]")
            return real(run) + [fig]
        plots.figures = with_broken
        try:
            out, err = io.StringIO(), io.StringIO()
            self.assertEqual(plots.plot(self.dir, out=out, err=err), 1)
        finally:
            plots.figures = real
        self.assertIn("scripts/plot: gnuplot failed on broken", err.getvalue())
        self.assertIn("granularity", out.getvalue().split())


class CommandLine(unittest.TestCase):
    def run_plot(self, *args):
        return subprocess.run([sys.executable, os.path.join(TOP, "scripts", "plot"), *args],
                              capture_output=True, text=True)

    def test_help(self):
        p = self.run_plot("--help")
        self.assertEqual(p.returncode, 0)
        self.assertIn("wall_WORKLOAD", p.stdout)

    def test_bad_usage_is_one_line_and_status_2(self):
        for args in ((), ("/nonexistent/run",), (HERE,), (FIXTURE, "extra")):
            p = self.run_plot(*args)
            self.assertEqual(p.returncode, 2, args)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
            self.assertTrue(p.stderr.startswith("scripts/plot: error:"), p.stderr)


class Snap(unittest.TestCase):
    """scripts/snap's command line (the screenshots themselves need chromium)."""

    def run_snap(self, *args):
        return subprocess.run([sys.executable, os.path.join(TOP, "scripts", "snap"), *args],
                              capture_output=True, text=True)

    def test_help(self):
        p = self.run_snap("--help")
        self.assertEqual(p.returncode, 0)
        self.assertIn("--width", p.stdout)

    def test_bad_usage_is_one_line_and_status_2(self):
        for args in ((), ("/nonexistent/run",), (FIXTURE, "--width", "50"), (FIXTURE, "--width", "x")):
            p = self.run_snap(*args)
            self.assertEqual(p.returncode, 2, args)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
            self.assertTrue(p.stderr.startswith("scripts/snap: error:"), p.stderr)

if __name__ == "__main__":
    unittest.main()
