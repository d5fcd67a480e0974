"""scripts/plan's output, read back: groups of cells, in order.

A `group NAME` line opens a group; the `cell`, `account` and `probe`
lines that follow belong to it.  A cell before any group line gets a group of its
own (an older plan).
"""
from dataclasses import dataclass, field


@dataclass
class Cell:
    kind: str           # "cell" or "account"
    id: str
    suite: str
    workload: str
    model: str
    jobs: int
    tasks: int
    work_us: str        # as the plan has it: "0.1", "500"
    scale: str
    extra: str
    group: str = ""

    @property
    def params(self):
        """What a cell's baseline must share with it."""
        return (self.suite, self.workload, self.tasks, self.work_us, self.scale)

    def label(self):
        text = f"{self.workload} {self.model} -j {self.jobs} -n {self.tasks}"
        if self.work_us != "0":
            text += f" --work-us {self.work_us}"
        if self.scale != "1":
            text += f" --scale {self.scale}"
        return text


@dataclass
class Probe:
    """A micro-benchmark run once per round of its group (--rounds 1)."""
    name: str
    command: str


@dataclass
class Group:
    name: str
    cells: list = field(default_factory=list)
    accounts: list = field(default_factory=list)
    probes: list = field(default_factory=list)

    def baseline(self, cell):
        """The cell a cell is compared with, round by round: serial with
        the same parameters, else the same model on 1 worker (the floors
        suite), else None."""
        if cell.model == "serial":
            return None
        for c in self.cells:
            if c.model == "serial" and c.params == cell.params:
                return c
        if cell.jobs != 1:
            for c in self.cells:
                if c.model == cell.model and c.jobs == 1 and c.params == cell.params:
                    return c
        return None


def read_plan(path):
    groups, notes = [], []
    current = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            kind = fields[0]
            if kind == "group":
                current = Group(fields[1])
                groups.append(current)
            elif kind in ("cell", "account"):
                fields += [""] * (10 - len(fields))
                cell = Cell(kind, fields[1], fields[2], fields[3], fields[4], int(fields[5]),
                            int(fields[6]), fields[7], fields[8], fields[9])
                if current is None:
                    current = Group(cell.id)
                    groups.append(current)
                cell.group = current.name
                (current.cells if kind == "cell" else current.accounts).append(cell)
            elif kind == "probe":
                if current is None:
                    current = Group("micro")
                    groups.append(current)
                current.probes.append(Probe(fields[1], fields[2]))
            elif kind == "note":
                notes.append("\t".join(fields[1:]))
    return [g for g in groups if g.cells or g.accounts or g.probes], notes
