"""Was the machine contended while the CPU-bound cells ran?

Wall time and CPU time disagree when a CPU-bound program waits for a CPU
that other work holds: its CPU share, CPU time / (wall x its CPUs), falls
under 1.  A parallel model's share also falls when its own workers idle
(a serial phase, an uneven split), so two witnesses are used:

- serial, which never waits for anything but a CPU, in any CPU-bound
  cell (its share's interval wholly below 0.9);
- the models of the scaling suite's squares (large tasks, as many workers
  as cores): when most of them have a share wholly below 0.9, the
  machine, not the models, took the CPUs.

A contended run's CPU-bound efficiencies measure the load as much as the
models: a model that got one CPU of two cannot reach 50 % efficiency on
two workers whatever its overhead.  scripts/parlab/derive.py marks every
CPU-bound derived figure of such a run not determined (docs/report.md,
"How a run measures").
"""
from dataclasses import dataclass, field

THRESHOLD = 0.9


@dataclass
class Witness:
    contended: bool = False
    determined: bool = False        # some share had an interval to judge by
    serial: list = field(default_factory=list)      # all serial shares
    serial_low: list = field(default_factory=list)
    full: list = field(default_factory=list)        # models at -j cores, scaling squares
    full_low: list = field(default_factory=list)

    def why(self):
        parts = []
        if self.serial_low:
            worst = min(self.serial_low, key=lambda r: r.value)
            parts.append(f"serial got {worst.value:.2f} of its CPU (--work-us {worst.work_us})")
        if self.full_low and len(self.full_low) > len(self.full) / 2:
            parts.append(f"{len(self.full_low)} of {len(self.full)} models on all cores got less than "
                         f"{THRESHOLD:.0%} of their CPUs")
        return "the machine was contended: " + " and ".join(parts)


def witness(rows, cores):
    """The witness from results rows (objects with suite, model, jobs,
    statistic, value, ci_hi, work_us)."""
    def low(r):
        return r.value is not None and r.ci_hi is not None and r.ci_hi < THRESHOLD

    shares = [r for r in rows if r.statistic == "cpu_share" and r.suite in ("scaling", "granularity")]
    w = Witness()
    w.serial = [r for r in shares if r.model == "serial"]
    w.full = [r for r in shares if r.suite == "scaling" and r.model != "serial" and str(r.jobs) == str(cores)]
    w.determined = any(r.ci_hi is not None for r in w.serial + w.full)
    w.serial_low = [r for r in w.serial if low(r)]
    w.full_low = [r for r in w.full if low(r)]
    w.contended = bool(w.serial_low) or len(w.full_low) > len(w.full) / 2
    return w
