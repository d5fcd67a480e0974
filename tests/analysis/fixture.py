"""Small report runs written by hand into a temporary directory: the
files scripts/run-cells and scripts/run-micro write (plan.tsv, cells.tsv,
rounds.csv, logs/ID.err, micro.jsonl, run.env), with the timings a test
chooses, so that every derived figure has a known answer."""
import json
import os
import tempfile


class FixtureRun:
    def __init__(self, cores=2, bound=0.05, profile="quick"):
        self.tmp = tempfile.TemporaryDirectory(prefix="parlab-analysis-")
        self.dir = self.tmp.name
        os.makedirs(os.path.join(self.dir, "logs"))
        self.plan, self.cells, self.rounds, self.micro = [], [], [], []
        with open(os.path.join(self.dir, "run.env"), "w") as f:
            f.write(f"RUN_ID='fixture'\nPROFILE='{profile}'\nPROFILE_DESC='a fixture'\n"
                    f"CORES='{cores}'\nBOUND='{bound}'\nCOMPLETE='yes'\nDURATION='1 min 0 s'\n")

    def group(self, name):
        self.plan.append(f"group\t{name}")
        self.current = name

    def cell(self, suite, workload, model, jobs, tasks, work_us, walls, cpus=None, scale="1",
             status="ok", stats=None, extra=""):
        """One cell; walls[i] is its wall time in round i + 1 (None: that
        round failed), cpus[i] its user + system time (default: the wall
        time x min(jobs, 2))."""
        cid = f"{suite}-{workload}-{model}-j{jobs}-n{tasks}-w{work_us}-s{scale}"
        self.plan.append("\t".join(["cell", cid, suite, workload, model, str(jobs), str(tasks),
                                    str(work_us), scale, extra]))
        med = sorted(w for w in walls if w is not None)
        self.cells.append("\t".join([cid, suite, workload, model, str(jobs), str(tasks), str(work_us),
                                     scale, status, "0x1", f"{med[len(med) // 2]:.6f}" if med else "",
                                     self.current, str(len(med))]))
        for i, w in enumerate(walls):
            if w is None:
                self.rounds.append(f"{self.current},{i + 1},0,{cid},,,,1")
                continue
            cpu = cpus[i] if cpus else w * min(jobs, 2)
            self.rounds.append(f"{self.current},{i + 1},0,{cid},{w:.9f},{cpu / 2:.6f},{cpu / 2:.6f},0")
        st = {"threads_created": jobs if model != "serial" else 0, "processes_created": 0, "max_rss_kb": 2048}
        st.update(stats or {})
        with open(os.path.join(self.dir, "logs", cid + ".err"), "w") as f:
            f.write(json.dumps(st) + "\n")
        with open(os.path.join(self.dir, "logs", cid + ".out"), "w") as f:
            f.write("summary checksum 0x1\n")
        return cid

    def figure(self, benchmark, key, samples, group=None, placement="unpinned", **more):
        rec = {"benchmark": benchmark, "key": key, "name": more.pop("name", key), "placement": placement,
               "group": group or benchmark, "samples_ns": samples, "rounds": len(samples)}
        rec.update(more)
        self.micro.append(rec)

    def write(self):
        def put(name, lines, header=None):
            with open(os.path.join(self.dir, name), "w") as f:
                if header:
                    f.write(header + "\n")
                f.write("".join(l + "\n" for l in lines))
        put("plan.tsv", self.plan)
        put("cells.tsv", self.cells)
        put("rounds.csv", self.rounds, "group,round,position,cell,wall_s,user_s,system_s,exit")
        put("micro.jsonl", [json.dumps(r) for r in self.micro])
        put("machine.txt", ["cpu:           a fixture", "load at start: 0.00 0.00 0.00 (1, 5, 15 min)"])
        put("notes.txt", [])
        put("commands.txt", ["build/micro/cf_overhead --json --rounds 9"])
        return self.dir

    def close(self):
        self.tmp.cleanup()


def series(value, n=9, spread=0.01):
    """n values around `value`, within +-spread of it, deterministic."""
    steps = [0, 1, -1, 0.5, -0.5, 0.25, -0.25, 0.75, -0.75, 0.1, -0.1, 0.6]
    return [value * (1 + spread * steps[i % len(steps)]) for i in range(n)]
