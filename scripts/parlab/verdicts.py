"""Section 8: the tutorial's comparison table (concurrent.futures against
threading / multiprocessing), row by row, each with the figures of this
run that bear on it and a verdict computed from them.

"concurrent.futures" is the cf library (thread-pool, process-pool),
"threading / multiprocessing" is pthreads and fork.  Every verdict is
decided by a rule written next to it here and in docs/report.md; a figure
that is not determined, or not measured in this run, decides nothing and
the verdict says so.  There is no fixed verdict text: each sentence is
chosen by the figures and quotes them.
"""
import csv
import os

from .files import read_text
from .fmt import determined, est
from .headline import grain_text
from .granularity import MinGrain

NOT_MEASURED = "Not measured in this run"


def section(run, out):
    out.h2("8. The tutorial's comparison table, with evidence")
    out.p("The tutorial compares concurrent.futures with threading/multiprocessing row by row. Here each row "
          "gets the figures of this run that bear on it and a verdict computed from them by the rule that "
          "docs/report.md gives for that row; a figure that is not determined decides nothing. In C, "
          "\"concurrent.futures\" is our cf library (thread-pool, process-pool); \"threading / "
          "multiprocessing\" is pthreads and fork; OpenMP is a third way the tutorial does not have.")
    v = Verdicts(run)
    rows = [v.abstraction(), v.management(), v.suited_work(), v.complexity(), v.tuning(),
            v.errors(), v.maintainability(), v.use_cases()]
    out.table("verdicts", ["row (the tutorial)", "concurrent.futures, says the tutorial",
                           "threading / multiprocessing, says the tutorial", "what this run measured",
                           "verdict"], rows)
    write(run, rows)


def write(run, rows):
    """RUNDIR/verdicts.csv, the table above for machines: the docs quote
    their verdicts from it (scripts/doc-figures), never by hand."""
    with open(os.path.join(run.dir, "verdicts.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n", quoting=csv.QUOTE_ALL)
        w.writerow(["row", "futures_says", "threads_says", "evidence", "verdict"])
        w.writerows(rows)


class Verdicts:
    def __init__(self, run):
        self.run = run
        self.res = run.res
        self.metrics = {(m["model"], m["workload"]): m for m in run.metrics}
        self.hj = run.core_jobs()
        self.maxj = max(run.res.jobs("scaling") or [0]) or None

    def metric(self, model, workload, name):
        m = self.metrics.get((model, workload))
        return int(m[name]) if m and m.get(name, "").isdigit() else None

    def speedup(self, workload, model, jobs):
        if not jobs:
            return None
        return self.res.one(suite="scaling", workload=workload, model=model, jobs=jobs, statistic="speedup")

    # 1 --------------------------------------------------------------------------
    def abstraction(self):
        row = ["Abstraction level", "high (easier, more concise)", "low (fine control)"]
        loc = {m: self.metric(m, "squares", "loc") for m in ("thread-pool", "pthreads", "fork", "openmp")}
        calls = {m: self.metric(m, "squares", "calls") for m in loc}
        if loc["thread-pool"] is None or loc["pthreads"] is None:
            return row + ["code metrics: " + NOT_MEASURED.lower(), "No evidence."]
        ev = (f"squares: {loc['thread-pool']} lines and {calls['thread-pool']} hand-written concurrency calls "
              f"with the executor; pthreads {loc['pthreads']} / {calls['pthreads']}, fork {loc['fork']} / "
              f"{calls['fork']}, OpenMP {loc['openmp']} / {calls['openmp']} (section 5).")
        raw = [m for m in ("pthreads", "fork") if loc[m] is not None]
        shorter = [m for m in raw if loc["thread-pool"] < loc[m]]
        if len(shorter) == len(raw):
            v = "Holds for length: the executor version is shorter than both raw versions."
        elif shorter:
            v = (f"Partly: the executor version is shorter than {' and '.join(shorter)} but not than "
                 f"{' and '.join(m for m in raw if m not in shorter)}.")
        else:
            v = (f"Does not hold for length here: the executor version ({loc['thread-pool']} lines) is not "
                 f"shorter than the raw ones.")
        if loc["openmp"] is not None and loc["openmp"] < loc["thread-pool"]:
            v += f" OpenMP's pragmas are shorter still ({loc['openmp']} lines)."
        if calls["pthreads"] is not None and calls["pthreads"] < calls["thread-pool"]:
            v += (f" Its calls are higher level but not fewer: {calls['thread-pool']} library calls against "
                  f"{calls['pthreads']} pthread calls.")
        return row + [ev, v]

    # 2 --------------------------------------------------------------------------
    def management(self):
        row = ["Thread / process management", "automatic (the pool manages them)",
               "manual (create and manage them yourself)"]
        j = self.maxj
        q = lambda m, s: self.res.one(suite="scaling", workload="squares", model=m, jobs=j, statistic=s)
        made = {"thread-pool": q("thread-pool", "threads_created"), "process-pool": q("process-pool", "processes_created"),
                "pthreads": q("pthreads", "threads_created"), "fork": q("fork", "processes_created")}
        if not j or made["thread-pool"] is None or made["pthreads"] is None:
            return row + ["worker counts: " + NOT_MEASURED.lower() + " (scaling suite)", "No evidence."]
        n = next((r.tasks for r in self.res.find(suite="scaling", workload="squares")), "?")
        val = {m: (int(r.value) if r is not None and r.value is not None else None) for m, r in made.items()}
        pool_calls = self.metric("thread-pool", "squares", "calls")
        ev = (f"squares, {n} tasks, -j {j}: the thread pool started {val['thread-pool']} threads and the process "
              f"pool {val['process-pool']} processes; pthreads started {val['pthreads']} threads and fork "
              f"{val['fork']} processes (section 4).")
        pools = [m for m in ("thread-pool", "process-pool") if val[m] is not None]
        bounded = [m for m in pools if val[m] <= j]
        if len(bounded) == len(pools):
            v = (f"Holds: the pools ran at most one worker per -j ({', '.join(f'{m} {val[m]}' for m in pools)} "
                 f"for -j {j}) and the program never creates, joins or reaps one; by hand, each "
                 "raw program writes that code itself.")
        else:
            over = [m for m in pools if m not in bounded]
            v = f"Does not hold here: {', '.join(over)} created more workers than -j {j} asked for."
        if pool_calls is not None:
            v += f" (The executor's file makes {pool_calls} concurrency calls, none of them a create or join.)"
        return row + [ev, v]

    # 3 --------------------------------------------------------------------------
    def suited_work(self):
        row = ["Suited work", "parallel tasks (I/O or CPU)", "when more complex behaviour is needed"]
        hj = self.hj
        cpu = {m: self.speedup("squares", m, hj) for m in ("thread-pool", "process-pool", "pthreads")}
        io = {m: self.speedup("sleep", m, hj) for m in ("thread-pool", "process-pool", "pthreads")}
        if not hj or (all(v is None for v in cpu.values()) and all(v is None for v in io.values())):
            return row + ["speedups: " + NOT_MEASURED.lower() + " (scaling suite)", "No evidence."]
        grains = {m: self.res.one(suite="granularity", model=m, statistic="min_grain_us")
                  for m in ("thread-pool", "process-pool", "pthreads", "openmp")}
        ev = (f"speedup at -j {hj}: squares (CPU) thread pool {est(cpu['thread-pool'])}, process pool "
              f"{est(cpu['process-pool'])}, pthreads {est(cpu['pthreads'])}; sleep (waiting) thread pool "
              f"{est(io['thread-pool'])}, process pool {est(io['process-pool'])}, pthreads {est(io['pthreads'])}"
              " (section 1).")
        if any(g is not None for g in grains.values()):
            ev += " Minimum effective task size: " + ", ".join(
                f"{m} {grain_text(g)}" for m, g in grains.items() if g is not None) + " (section 2)."
        parts = []
        for kind, figs in (("I/O", io), ("CPU", cpu)):
            pools = {m: figs[m] for m in ("thread-pool", "process-pool") if figs[m] is not None}
            if not pools:
                parts.append(f"{kind} work: not measured")
                continue
            gains = [m for m, f in pools.items() if determined(f) and f.ci_lo > 1]
            losses = [m for m, f in pools.items() if determined(f) and f.ci_hi <= 1]
            nd = [m for m, f in pools.items() if not determined(f)]
            if gains and not losses and not nd:
                parts.append(f"{kind} work: holds, both pools run it faster than serial (every interval above 1)")
            elif gains:
                parts.append(f"{kind} work: holds for {' and '.join(gains)} (interval above 1)" +
                             (f", not for {' and '.join(losses)} (no faster than serial)" if losses else "") +
                             (f"; {' and '.join(nd)} not determined" if nd else ""))
            elif losses:
                parts.append(f"{kind} work: does not hold in this run: {' and '.join(losses)} no faster than serial")
            else:
                parts.append(f"{kind} work: not determined ({' and '.join(nd)})")
        v = "; ".join(parts) + "."
        g = grains["thread-pool"]
        if g is not None and g.status != "not-determined":
            v += (f" For CPU work only when tasks are large enough: the thread pool needs {grain_text(g)} per "
                  "task for 50 % efficiency, which the tutorial does not say.")
        return row + [ev, v]

    # 4 --------------------------------------------------------------------------
    def complexity(self):
        row = ["Code complexity", "low (a simple API)", "high (threads and processes controlled by hand)"]
        x = {m: self.metric(m, "squares", "complexity_sum") for m in ("thread-pool", "pthreads", "fork", "openmp")}
        if x["thread-pool"] is None:
            return row + ["code metrics: " + NOT_MEASURED.lower(), "No evidence."]
        ev = (f"squares, cyclomatic complexity (pmccabe, sum over the file): executor {x['thread-pool']}, "
              f"pthreads {x['pthreads']}, fork {x['fork']}, OpenMP {x['openmp']} (section 5).")
        raw = [m for m in ("pthreads", "fork") if x[m] is not None]
        simpler = [m for m in raw if x["thread-pool"] < x[m]]
        if raw and len(simpler) == len(raw):
            v = "Holds against pthreads and fork: the executor version is the less complex."
        elif simpler:
            v = f"Partly: less complex than {' and '.join(simpler)} only."
        else:
            v = "Does not hold in this code: the executor version is not less complex than the raw versions."
        if x["openmp"] is not None and x["openmp"] < x["thread-pool"]:
            v += " OpenMP is simpler still."
        return row + [ev, v]

    # 5 --------------------------------------------------------------------------
    def tuning(self):
        row = ["Performance tuning", "limited (pool size and little else)", "flexible (fine settings and optimisation)"]
        m = self.run.micro
        c1, c64 = m.get("cf.thread.map.chunk1"), m.get("cf.thread.map.chunk64")
        over = {k: self.res.one(suite="overhead", model=k, statistic="overhead_ns_per_task")
                for k in ("thread-pool", "process-pool", "pthreads", "openmp")}
        ev = ("bare tasks, overhead per task (section 3): " +
              ", ".join(f"{k} {est(v, unit='ns')}" for k, v in over.items() if v is not None)
              if any(over.values()) else "overhead per task: " + NOT_MEASURED.lower())
        ev += ". The executor's knobs: worker count and map's chunksize"
        r = m.ratio(c64, c1) if c1 and c64 else None
        if c1 and c64:
            ev += (f": per task, chunksize 1 {est(c1, unit='ns')}, chunksize 64 {est(c64, unit='ns')} "
                   "(build/micro/cf_overhead, same rounds)")
        ev += "; the raw and OpenMP programs choose how the range is split (--partition, --schedule, --chunk)."
        if r is None:
            v = "Not determined: the chunksize figures were not measured in this run."
        elif not r.determined:
            v = f"Not determined: chunksize 64 ÷ chunksize 1 is {est(r)} ({r.why})."
        elif r.hi < 1:
            v = (f"Partly. One task per hand-off is the executor's default cost, and a static split by hand "
                 f"avoids it; chunksize, the executor's knob for it, cuts the cost per task to {est(r)} × "
                 "here. The tuning is there; the defaults differ.")
        else:
            v = f"Holds in this run: chunksize did not lower the cost per task ({est(r)} ×)."
        return row + [ev, v]

    # 6 --------------------------------------------------------------------------
    def errors(self):
        row = ["Error handling", "built-in error tracking and retry", "error handling written by hand"]
        faults = {}
        for line in read_text(os.path.join(self.run.dir, "tables", "faults.tsv")).splitlines()[1:]:
            f = line.split("\t")
            if len(f) > 2:
                faults[f[0]] = f[2]
        acct = {m: {r.statistic: r.value for r in self.res.find(suite="folders-account", model=m)}
                for m in self.res.models("folders-account")}
        if not faults and not acct:
            return row + ["fault isolation and the folders accounting runs: " + NOT_MEASURED.lower(), "No evidence."]
        ev = ""
        if faults:
            ev = ("one worker crashes mid-run (section 7): " +
                  "; ".join(f"{m}: {faults[m]}" for m in ("thread-pool", "process-pool", "pthreads", "fork")
                            if m in faults) + ".")
        if acct:
            ev += (" Folder lookup with errors injected (section 6), bad ids surfaced / injected: " +
                   ", ".join(f"{m} {fmt_int(a.get('bad_ids_surfaced'))}/{fmt_int(a.get('bad_ids_injected'))} "
                             f"(exit {fmt_int(a.get('exit_status'))})" for m, a in acct.items()) + ".")
        # The rule: error *tracking* holds when the process pool reports a
        # dead worker (exit status, no hang) and every model surfaces every
        # injected error; *retry* is never the executor's.
        pool_reports = "reported the failure" in faults.get("process-pool", "")
        thread_dies = "died" in faults.get("thread-pool", "")
        all_surfaced = bool(acct) and all(a.get("bad_ids_surfaced") == a.get("bad_ids_injected") for a in acct.values())
        parts = ["Partly wrong: the executor has no built-in retry (neither has Python's: a failed future "
                 "stays failed; the 503 retries here live in the HTTP client all models share)."]
        if pool_reports:
            parts.append("Error tracking holds for processes: a dead worker became an error the program "
                         "reported (CF_BROKEN, BrokenProcessPool), not a hang.")
        elif faults.get("process-pool"):
            parts.append(f"The process pool did not report a dead worker here: {faults['process-pool']}.")
        if thread_dies:
            parts.append("A crash in a thread pool ends the program exactly as with raw threads.")
        if acct:
            parts.append("Every model surfaced every injected error, through futures or by hand alike."
                         if all_surfaced else "Not every model surfaced every injected error (section 6).")
        return row + [ev.strip(), " ".join(parts)]

    # 7 --------------------------------------------------------------------------
    def maintainability(self):
        row = ["Maintainability", "good (a standard interface)", "hard once the logic is complex"]
        tp = self.metrics.get(("thread-pool", "squares"))
        pp = self.metrics.get(("process-pool", "squares"))
        lp, lf = self.metric("pthreads", "squares", "loc"), self.metric("fork", "squares", "loc")
        if not tp or not pp:
            return row + ["code metrics: " + NOT_MEASURED.lower(), "No evidence."]
        ev = (f"going from threads to processes: with the executor {tp['file']} ({tp['loc']} lines) for both "
              f"backends, one word apart (--executor process); by hand two programs: pthreads {lp} lines, "
              f"fork {lf} lines, different calls (section 5).")
        if tp["file"] == pp["file"]:
            v = ("Holds, by this proxy: the change of backend costs one word instead of a rewrite. "
                 "Maintainability itself is not measured.")
        else:
            v = "Does not hold here: the two backends use different files."
        return row + [ev, v]

    # 8 --------------------------------------------------------------------------
    def use_cases(self):
        row = ["Use cases", "simple parallel runs, work queues", "advanced parallelism, custom workflows"]
        j = self.maxj
        tp, pt = self.speedup("sleep", "thread-pool", j), self.speedup("sleep", "pthreads", j)
        gt = self.res.one(suite="granularity", model="thread-pool", statistic="min_grain_us")
        go = self.res.one(suite="granularity", model="openmp", statistic="min_grain_us")
        if tp is None and gt is None:
            return row + ["sleep speedups and task sizes: " + NOT_MEASURED.lower(), "No evidence."]
        ev = ""
        if tp is not None:
            ev = f"sleep (a work queue of waits) at -j {j}: thread pool {est(tp)} × serial, pthreads {est(pt)} ×"
        if gt is not None:
            ev += (("; " if ev else "") + f"tiny CPU tasks: the thread pool needs {grain_text(gt)} per task for "
                   f"50 % efficiency, OpenMP {grain_text(go)}")
        ev += "."
        parts = []
        # The verdict: the pool runs a queue of waits in parallel (its
        # speedup's interval lies above 1).  Beside it, how it compares
        # with raw threads: overlapping intervals say "cannot tell apart",
        # never "as fast".
        if tp is not None and determined(tp) and tp.ci_lo > 1:
            parts.append(f"Holds for work queues: the thread pool runs the waits {est(tp)} × faster than serial.")
            if determined(pt):
                if tp.ci_hi < pt.ci_lo:
                    parts.append(f"Raw threads are faster there ({est(pt)} ×).")
                elif pt.ci_hi < tp.ci_lo:
                    parts.append(f"The pool is faster there than raw threads ({est(pt)} ×).")
                else:
                    parts.append("This run cannot tell it from raw threads (the intervals overlap).")
        elif tp is not None and determined(tp):
            parts.append(f"Does not hold for work queues in this run: the thread pool is no faster than serial ({est(tp)}).")
        elif tp is not None:
            parts.append(f"For work queues: not determined ({tp.why}).")
        if gt is not None and go is not None:
            a = MinGrain(gt.status, gt.value, gt.ci_lo, gt.ci_hi).bounds()
            b = MinGrain(go.status, go.value, go.ci_lo, go.ci_hi).bounds()
            if gt.status != "not-determined" and go.status != "not-determined" and \
                    a[0] is not None and b[1] is not None and a[0] > b[1]:
                parts.append("For many tiny CPU tasks a loop split (OpenMP) is the better tool: it stays "
                             "efficient at smaller tasks, which the tutorial's table does not say.")
            elif gt.status == "not-determined" or go.status == "not-determined":
                parts.append("Whether a loop split beats the pool for tiny tasks is not determined in this run.")
            else:
                parts.append("For tiny CPU tasks this run cannot tell the pool and a loop split apart "
                             "(their minimum task sizes overlap).")
        return row + [ev, " ".join(parts) or "No evidence."]


def fmt_int(v):
    return "–" if v is None else f"{v:.0f}"
