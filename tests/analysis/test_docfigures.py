"""The docs' figures (scripts/parlab/docfigures.py) come from a report and
nowhere else: a marker is filled from its one row, a figure that no
longer matches is drift, a marker that picks no row or several is an
error, and an undetermined figure cannot be quoted as a bare number."""
import contextlib
import io
import os
import tempfile
import unittest

from parlab import docfigures

RESULTS = """suite,workload,model,jobs,tasks,work_us,scale,placement,statistic,value,ci_lo,ci_hi,unit,n,status,note
scaling,squares,thread-pool,2,400,500,1,unpinned,speedup,1.8612,1.7702,1.9011,x,10,ok,
scaling,squares,fork,2,400,500,1,unpinned,speedup,1.5,1.1,1.9,x,10,not-determined,interval too wide
overhead,squares,thread-pool,2,100000,0,1,unpinned,overhead_ns_per_task,580.2,469.1,770.4,ns,10,ok,
"""
VERDICTS = '''"row","futures_says","threads_says","evidence","verdict"
"Code complexity","low","high","pmccabe","Does not hold in this code: the executor is not simpler. OpenMP is."
'''
TARGETS = '''"target","figure","compared_with","ratio","ratio_lo","ratio_hi","goal","verdict","command"
"2. spin, across cores","cf","floor","0.03166","0.02706","0.0359","<= 0.2","met","x"
"2. idle, across cores","cf","floor","1.217","1.189","1.264","<= 1.2","not determined (the interval holds the goal)","x"
'''
FACTS = "key,value\ncells,182\nduration,7 min 22 s\n"
# build/micro/cf_mpi_overhead --csv and futures_peer.py --mpi-only --csv.
MPI_COLUMNS = "kind,key,what,value,lo,hi,unit,text,goal,verdict,rounds,command\n"
MPI_OVERHEAD = MPI_COLUMNS + (
    'target,ratio.submit_result_over_round_trip,"submit+result / ping-pong round trip",'
    '1.23,1.1,1.4,x,"1.23 [1.10, 1.40]",<= 1.5,met,11,"x"\n')
MPI_PEER = MPI_COLUMNS + (
    'target,ratio.cf_over_mpi4py.submit_result,"cf / mpi4py.futures per task",'
    '0.5,0.4,0.6,x,"0.500 [0.400, 0.600]",,,11,"x"\n')


class DocFigures(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="parlab-docfigures-")
        self.report = os.path.join(self.tmp.name, "report")
        os.makedirs(self.report)
        for name, text in (("results.csv", RESULTS), ("verdicts.csv", VERDICTS), ("facts.csv", FACTS),
                           ("targets.csv", TARGETS)):
            with open(os.path.join(self.report, name), "w") as f:
                f.write(text)
        self.doc = os.path.join(self.tmp.name, "doc.md")

    def tearDown(self):
        self.tmp.cleanup()

    def run_on(self, text, *flags):
        with open(self.doc, "w") as f:
            f.write(text)
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            status = docfigures.main(["--from", self.report, *flags, self.doc])
        with open(self.doc) as f:
            return status, f.read(), err.getvalue()

    def test_a_figure_is_filled_with_its_interval(self):
        m = "<!-- fig: results suite=scaling model=thread-pool statistic=speedup -->"
        status, text, _ = self.run_on(f"speedup {m}?<!-- /fig --> at -j 2\n", "--fix")
        self.assertEqual(status, 0)
        self.assertIn(f"{m}1.86 [1.77, 1.90]<!-- /fig --> at", text)
        self.assertEqual(self.run_on(text)[0], 0)

    def test_drift_fails_and_names_the_line(self):
        m = "<!-- fig: results suite=scaling model=thread-pool statistic=speedup -->1.9<!-- /fig -->"
        status, text, err = self.run_on(f"one\nspeedup {m}\n")
        self.assertEqual(status, 1)
        self.assertIn("doc.md:2: figure drifted: '1.9'", err)
        self.assertIn(m, text, "a check must not rewrite")

    def test_an_undetermined_figure_says_so(self):
        m = "<!-- fig: results model=fork statistic=speedup -->"
        _, text, _ = self.run_on(f"{m}<!-- /fig -->\n", "--fix")
        self.assertIn("n.d. (1.50 [1.10, 1.90])", text)
        status, _, err = self.run_on(f"<!-- fig: results model=fork statistic=speedup | value --><!-- /fig -->\n")
        self.assertEqual(status, 1)
        self.assertIn("not determined", err)

    def test_scale_unit_and_bare_value(self):
        m = "<!-- fig: results statistic=overhead_ns_per_task | value scale=0.001 unit=µs -->"
        _, text, _ = self.run_on(f"{m}<!-- /fig -->\n", "--fix")
        self.assertIn(f"{m}0.580 µs<!-- /fig -->", text)

    def test_a_selector_must_pick_one_row(self):
        status, _, err = self.run_on("<!-- fig: results statistic=speedup --><!-- /fig -->\n")
        self.assertEqual(status, 1)
        self.assertIn("matches 2 rows", err)
        self.assertIn("model", err, "it says which column tells them apart")
        status, _, err = self.run_on("<!-- fig: results model=nobody --><!-- /fig -->\n")
        self.assertEqual(status, 1)
        self.assertIn("matches 0 rows", err)

    def test_verdicts_and_facts(self):
        v = '<!-- fig: verdicts row="Code complexity" | col=verdict sentence -->'
        f = "<!-- fig: facts cells -->"
        _, text, _ = self.run_on(f"{v}<!-- /fig -->, {f}<!-- /fig --> cells\n", "--fix")
        self.assertIn(f"{v}Does not hold in this code: the executor is not simpler.<!-- /fig -->", text)
        self.assertIn(f"{f}182<!-- /fig --> cells", text)

    def test_a_target_ratio_with_its_interval(self):
        _, text, _ = self.run_on('<!-- fig: targets "target~spin" | est --><!-- /fig -->, '
                                 '<!-- fig: targets "target~idle" | est --><!-- /fig -->, '
                                 '<!-- fig: targets "target~idle" | col=verdict --><!-- /fig -->\n', "--fix")
        self.assertIn("-->0.0317 [0.0271, 0.0359]<!--", text)
        self.assertIn("-->n.d. (1.22 [1.19, 1.26])<!--", text, "no verdict, so not determined")
        self.assertIn("-->not determined (the interval holds the goal)<!--", text)

    def test_the_mpi_files_are_sources(self):
        for name, text in (("mpi-overhead.csv", MPI_OVERHEAD), ("mpi-peer.csv", MPI_PEER)):
            with open(os.path.join(self.report, name), "w") as f:
                f.write(text)
        a = "<!-- fig: mpioverhead key=ratio.submit_result_over_round_trip"
        b = "<!-- fig: mpipeer key=ratio.cf_over_mpi4py.submit_result | col=text -->"
        _, text, _ = self.run_on(f"{a} | col=text --><!-- /fig -->, {a} | col=verdict -->"
                                 f"<!-- /fig -->, {b}<!-- /fig -->\n", "--fix")
        self.assertIn("-->1.23 [1.10, 1.40]<!-- /fig -->, ", text)
        self.assertIn("-->met<!-- /fig -->", text)
        self.assertIn("-->0.500 [0.400, 0.600]<!-- /fig -->", text)

    def test_markers_in_code_blocks_are_left_alone_and_unclosed_ones_fail(self):
        fenced = "```\n<!-- fig: results model=nobody -->x<!-- /fig -->\n```\n"
        self.assertEqual(self.run_on(fenced)[0], 0)
        status, _, err = self.run_on("`-n <!-- fig: facts cells -->182<!-- /fig -->`\n")
        self.assertEqual(status, 1)
        self.assertIn("code span", err)
        status, _, err = self.run_on("<!-- fig: facts cells -->182\n")
        self.assertEqual(status, 1)
        self.assertIn("not closed", err)

    def test_bad_source_or_format_is_an_error(self):
        for spec in ("nowhere cells", "facts cells | bold", "results model=fork | col"):
            status, _, err = self.run_on(f"<!-- fig: {spec} --><!-- /fig -->\n")
            self.assertEqual(status, 1, spec)
            self.assertTrue(err, spec)


if __name__ == "__main__":
    unittest.main()
