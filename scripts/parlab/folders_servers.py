"""The folders suite's two simulated folder API servers and its
accounting runs (benchmarks/suites/folders.sh says what each is for).

The timed cells talk to one server (latency only, FOLDER_SERVER_ARGS);
the accounting runs, one per model, to a second that also injects
transient 503s (FOLDER_ACCOUNT_SERVER_ARGS).  Both bind 127.0.0.1 on a
free port that they write to a file.
"""
import json
import os
import re
import shlex
import signal
import subprocess
import time
import urllib.request

from .files import read_text


class Server:
    def __init__(self, binary, logdir, name, args):
        self.name, self.url, self.proc = name, None, None
        port_file = os.path.join(logdir, name + ".port")
        try:
            os.unlink(port_file)
        except FileNotFoundError:
            pass
        with open(os.path.join(logdir, name + ".args"), "w") as f:
            f.write(" ".join(args) + "\n")
        log = open(os.path.join(logdir, name + ".log"), "w")
        self.proc = subprocess.Popen([binary, "--port", "0", "--port-file", port_file] + args,
                                     stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        log.close()
        try:
            self.url = self.wait_for_port(port_file)
        except BaseException:   # a stop signal: no server outlives the run
            self.stop()
            raise
        if not self.url:
            self.stop()

    def wait_for_port(self, port_file):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with open(port_file) as f:
                    port = re.sub(r"\D", "", f.read())
                if port:
                    return f"http://127.0.0.1:{port}"
            except FileNotFoundError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        return None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class FolderServers:
    """Starts both servers; `urls` maps {api} and {account_api}."""

    def __init__(self, build, logdir, env):
        binary = env.get("FOLDER_SERVER") or os.path.join(build, "workloads", "folder-api-server")
        timed = shlex.split(env.get("FOLDER_SERVER_ARGS", ""))
        account = timed + shlex.split(env.get("FOLDER_ACCOUNT_SERVER_ARGS", "--error-rate 0.05"))
        # The names are those scripts/tidy and docs/report.md refer to.
        self.timed = Server(binary, logdir, "folder-server", timed)
        try:
            self.account = Server(binary, logdir, "folder-account-server", account) if self.timed.url else None
        except BaseException:   # a stop signal while the second starts
            self.timed.stop()
            raise
        self.urls = {"api": self.timed.url or "", "account_api": (self.account and self.account.url) or ""}

    @property
    def ok(self):
        return bool(self.timed.url)

    def stop(self):
        for s in (self.timed, self.account):
            if s:
                s.stop()


def http(url, method="GET", timeout=10):
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.read()


def account_run(rundir, cell, cmd, env, timeout, url, log_command):
    """One accounting run: reset the server's statistics, run cmd --stats
    once, read GET /stats; appends one JSON line to
    RUNDIR/folders-account.jsonl and returns a one-line summary."""
    out_path = os.path.join(rundir, "logs", cell.id + ".out")
    err_path = os.path.join(rundir, "logs", cell.id + ".err")
    record = {"model": cell.model, "jobs": cell.jobs, "tasks": cell.tasks, "status": "ok",
              "exit": None, "distinct": None, "failed": None, "checksum": "",
              "surfaced_lines": 0, "surfaced_ids": 0, "server": None}
    if not url:
        record["status"] = "no-server"
    else:
        log_command(f"curl -s -X POST {url}/stats/reset")
        log_command(" ".join(cmd) + " --stats   # accounting run")
        log_command(f"curl -s {url}/stats")
        try:
            http(url + "/stats/reset", "POST")
        except OSError:
            record["status"] = "no-server"
    if record["status"] == "ok":
        from .runcells import run_bounded   # one process-group runner for all
        rc, _ = run_bounded(cmd + ["--stats"], env, timeout, out_path, err_path)
        record["exit"] = rc
        if rc == 124:
            record["status"] = "timeout"
        elif rc not in (0, 1):
            record["status"] = "failed"
        try:
            record["server"] = json.loads(http(url + "/stats"))
        except (OSError, ValueError):
            if record["status"] == "ok":
                record["status"] = "no-server"
        _read_program_output(record, out_path, err_path)
    with open(os.path.join(rundir, "folders-account.jsonl"), "a") as f:
        f.write(json.dumps(record) + "\n")
    s = record["server"]
    if record["status"] != "ok" or not s:
        return record["status"]
    bad = [k for k in s.get("requests_per_id", {}) if re.search(r"40[34]$", k)]
    return (f"{s.get('requests_total')} requests for {record['distinct']} distinct ids, "
            f"{len(bad)} bad ids and {s.get('by_status', {}).get('503', 0)} 503s injected")


def _read_program_output(record, out_path, err_path):
    """The summary line ("N ids, D distinct, F failed, ... checksum X")
    and the error lines (one per failed entry: "PROG: folder_3_name:
    folder 7404: HTTP 404 ...")."""
    out = read_text(out_path)
    m = re.search(r" ids, (\d+) distinct, (\d+) failed,", out)
    if m:
        record["distinct"], record["failed"] = int(m.group(1)), int(m.group(2))
    m = re.search(r"checksum (0x[0-9a-f]+)", out)
    if m:
        record["checksum"] = m.group(1)
    err = read_text(err_path).splitlines()
    lines = [l for l in err if re.search(r": folder_\d+_name: ", l)]
    ids = {m.group(1) for l in lines for m in [re.search(r"_name: folder (\d+):", l)] if m}
    record["surfaced_lines"], record["surfaced_ids"] = len(lines), len(ids)
