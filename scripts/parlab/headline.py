"""The headline: one line per model, and sentences computed from this
run's figures, each citing the figure, its interval and its cell."""
from .fmt import determined, est
from .granularity import MinGrain


def grain_text(row):
    """A min_grain_us row in words."""
    if row is None:
        return "–"
    g = MinGrain(row.status, row.value, row.ci_lo, row.ci_hi, row.why)
    return g.text()


def grain_determined(row):
    return row is not None and row.status != "not-determined"


def ranking(rows, higher_better=True):
    """(best, tied, behind, undetermined): the determined figure that is
    best, those whose interval overlaps the best's, those clearly behind
    it, and those not determined."""
    good = [r for r in rows if determined(r) and r.ci_lo is not None]
    undetermined = [r for r in rows if not determined(r) or r.ci_lo is None]
    if not good:
        return None, [], [], undetermined
    best = max(good, key=lambda r: r.value) if higher_better else min(good, key=lambda r: r.value)
    tied, behind = [], []
    for r in good:
        if r is best:
            continue
        overlaps = r.ci_hi >= best.ci_lo if higher_better else r.ci_lo <= best.ci_hi
        (tied if overlaps else behind).append(r)
    return best, tied, behind, undetermined


def names(rows):
    return ", ".join(f"{r.model} {est(r)}" for r in rows)


def compare_sentence(label, rows, higher_better=True, unit=""):
    best, tied, behind, nd = ranking(rows, higher_better)
    if best is None:
        if nd:
            return f"{label}: not determined for any model ({names(nd)})."
        return ""
    text = f"{label}: best {best.model}, {est(best, unit=unit)}"
    if tied:
        text += f"; not distinguishable from it (intervals overlap): {names(tied)}"
    if behind:
        text += f"; clearly {'behind' if higher_better else 'above'}: {names(behind)}"
    if nd:
        text += f"; not determined: {', '.join(r.model for r in nd)}"
    return text + "."


def section(run, out):
    out.h2("Headline")
    res = run.res
    hj = run.core_jobs()
    sleep_j = max(res.jobs("scaling", "sleep") or [0]) or None
    models = [m for m in run.ordered({r.model for r in res.rows if r.suite in
                                      ("scaling", "overhead", "granularity")}) if m != "serial"]
    cols = []
    if hj and res.find(suite="scaling", workload="squares"):
        cols.append((f"squares speedup at -j {hj}",
                     lambda m: res.one(suite="scaling", workload="squares", model=m, jobs=hj, statistic="speedup")))
        cols.append((f"squares CPU time ÷ serial at -j {hj}",
                     lambda m: res.one(suite="scaling", workload="squares", model=m, jobs=hj, statistic="cpu_ratio")))
    if sleep_j and res.find(suite="scaling", workload="sleep"):
        cols.append((f"sleep speedup at -j {sleep_j}",
                     lambda m: res.one(suite="scaling", workload="sleep", model=m, jobs=sleep_j, statistic="speedup")))
    if res.find(suite="overhead"):
        cols.append(("overhead per bare task (ns)",
                     lambda m: res.one(suite="overhead", model=m, statistic="overhead_ns_per_task")))
    if res.find(suite="granularity"):
        cols.append(("min. effective task size", None))
    if not cols:
        out.p("Nothing this profile measured makes a headline: it ran no scaling, overhead or granularity "
              "suite. The sections below show what it did measure.")
        return
    rows = []
    for m in models:
        line = [m]
        for title, get in cols:
            if get is None:
                line.append(grain_text(res.one(suite="granularity", model=m, statistic="min_grain_us")))
            else:
                line.append(est(get(m)))
        if any(c not in ("–",) for c in line[1:]):
            rows.append(line)
    out.table("headline", ["model"] + [t for t, _ in cols], rows,
              "Medians with 95 % intervals; n.d. = not determined. Speedup: section 1; overhead: section 3; "
              "task size: section 2.")
    for s in sentences(run, hj, sleep_j, models):
        out.li(s)


def sentences(run, hj, sleep_j, models):
    res = run.res
    out = []
    if hj:
        rows = [r for m in models for r in [res.one(suite="scaling", workload="squares", model=m, jobs=hj,
                                                     statistic="speedup")] if r]
        s = compare_sentence(f"CPU work (squares, -j {hj}, speedup over serial)", rows)
        if s:
            out.append(s)
    if sleep_j:
        rows = [r for m in models for r in [res.one(suite="scaling", workload="sleep", model=m, jobs=sleep_j,
                                                     statistic="speedup")] if r]
        s = compare_sentence(f"Waiting (sleep, -j {sleep_j}, speedup over serial; more workers than cores "
                             "can help here)", rows)
        if s:
            out.append(s)
    rows = [r for m in models for r in [res.one(suite="overhead", model=m, statistic="overhead_ns_per_task")] if r]
    s = compare_sentence("Cost of a bare task (ns of worker time per task, section 3)", rows, higher_better=False)
    if s:
        out.append(s)
    grains = [r for m in models for r in [res.one(suite="granularity", model=m, statistic="min_grain_us")] if r]
    if grains:
        known = [g for g in grains if grain_determined(g)]
        nd = [g for g in grains if not grain_determined(g)]
        # Order by the upper end of what the minimum can be (a bound "≤ x"
        # counts as x).
        def upper(g):
            lo, hi = MinGrain(g.status, g.value, g.ci_lo, g.ci_hi).bounds()
            return hi if hi is not None else float("inf")
        known.sort(key=upper)
        if known:
            text = ("Smallest task that still reaches 50 % efficiency (section 2): " +
                    "; ".join(f"{g.model} {grain_text(g)}" for g in known))
            if nd:
                text += "; not determined: " + ", ".join(f"{g.model} ({g.why})" for g in nd)
            out.append(text + ".")
        else:
            out.append("Smallest task that still reaches 50 % efficiency: not determined for any model (" +
                       "; ".join(f"{g.model}: {g.why}" for g in nd) + ").")
    return out

