"""The per-round timings of a run (RUNDIR/rounds.csv) and the figures
derived from them pair by pair.

rounds.csv has one line per run of a command in a round:
    group,round,position,cell,wall_s,user_s,system_s,exit
`position` is the command's place in that round (the order alternates
round by round, see scripts/run-cells).  A command that failed in a round
has its exit status and no times.
"""
import csv
from collections import defaultdict

from . import stats

HEADER = ["group", "round", "position", "cell", "wall_s", "user_s", "system_s", "exit"]


def read_rounds(path):
    """{cell id: {round: (wall, user, system)}} of the clean runs."""
    samples = defaultdict(dict)
    try:
        f = open(path, encoding="utf-8", newline="")
    except FileNotFoundError:
        return samples
    with f:
        for row in csv.DictReader(f):
            if row["exit"] != "0" or row["wall_s"] == "":
                continue
            samples[row["cell"]][int(row["round"])] = (
                float(row["wall_s"]), float(row["user_s"]), float(row["system_s"]))
    return samples


def series(samples, cell_id, what, rounds):
    """The values of one cell, one per round of `rounds` (None where the
    cell did not run cleanly).  what: "wall", "user", "system" or "cpu"."""
    out = []
    by_round = samples.get(cell_id, {})
    for r in rounds:
        s = by_round.get(r)
        if s is None:
            out.append(None)
        elif what == "wall":
            out.append(s[0])
        elif what == "cpu":
            out.append(s[1] + s[2])
        else:
            out.append(s[1] if what == "user" else s[2])
    return out


def group_rounds(samples, cell_ids):
    """Every round any of these cells ran in, in order."""
    rounds = set()
    for i in cell_ids:
        rounds.update(samples.get(i, {}).keys())
    return sorted(rounds)


def stop_figures(group, samples):
    """The ratios the stop rule watches, {name: per-round values}: each
    cell's wall time against its baseline's (a speedup, or for the floors
    suite T(F workers) / T(1 worker)), round by round; a cell without a
    baseline is watched through its own wall time."""
    rounds = group_rounds(samples, [c.id for c in group.cells])
    figures = {}
    for c in group.cells:
        mine = series(samples, c.id, "wall", rounds)
        if all(v is None for v in mine):
            continue
        base = group.baseline(c)
        if base is not None:
            theirs = series(samples, base.id, "wall", rounds)
            figures[c.id] = stats.ratio_samples(theirs, mine)
        elif c.model != "serial" or not any(group.baseline(o) is c for o in group.cells):
            figures[c.id] = [v for v in mine if v is not None]
    # The probes' figures (scripts/run-cells keys them "probe:PROGRAM:KEY"),
    # each through its own values.
    for key, by_round in samples.items():
        if key.startswith("probe:"):
            figures[key] = [v[0] for v in by_round.values()]
    return figures


def widest(group, samples):
    """(the largest relative half-width of the group's watched figures,
    the cell it belongs to); inf when some figure has no interval yet."""
    worst, who = 0.0, ""
    for name, values in stop_figures(group, samples).items():
        e = stats.estimate(values)
        w = e.relative_halfwidth() if e else float("inf")
        if w > worst:
            worst, who = w, name
    return worst, who
