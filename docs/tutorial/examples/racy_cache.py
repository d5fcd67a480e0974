#!/usr/bin/env python3
"""The seed's folder cache, run for real: chapter 8.

The tutorial's fetch_folder_name checks a shared dict, fetches on a miss
and stores the answer.  Between the check and the store there is a
network call, so threads that meet the same id at the same time all
miss, and all fetch it.  This script runs that code, five threads over
the seed's ten ids, against parlab's folder server, and asks the server
how many times each id was requested.  Then it runs the C programs on
the same ids against the same server, whose single-flight caches ask
for each id once.

It starts build/workloads/folder-api-server on a free port, and stops it
at the end.  Run from the top of the repository, after `make`:

    docs/tutorial/examples/racy_cache.py
    docs/tutorial/examples/racy_cache.py -n 200 -j 8 --latency-ms 20

With -n N it asks for N distinct generated ids instead (no repeats, so
the cache never hits) and shows the request rate that the seed's
time.sleep(0.1) lets through: j / (0.1 s + latency).

Exit status: 0 when every program got every name, 1 otherwise.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor, as_completed

# The seed's list as the C programs have it (workloads/folders_work.c):
# 1234 three times, 5678 twice.
SEED_IDS = [1234, 5678, 9012, 1234, 3456, 7890, 5678, 2468, 1234, 1357]
C_PROGRAMS = ["executors", "raw_threads", "raw_processes", "openmp"]

# ---- the seed's code, with urllib in place of the cloud client ------------

folder_cache = {}


def fetch_folder_name(api, folder_id):
    if folder_id in folder_cache:           # check ...
        return folder_cache[folder_id]
    try:
        time.sleep(0.1)                     # the seed's "rate limit"
        url = f"{api}/v3/folders/{folder_id}"
        with urllib.request.urlopen(url, timeout=10) as answer:   # ... fetch ...
            name = json.load(answer)["displayName"]
        folder_cache[folder_id] = name      # ... store: three steps, no lock
        return name
    except Exception as e:
        print(f"Error retrieving folder {folder_id}: {e}")
        return None


def get_folder_names(api, folder_id_list, workers):
    folder_names = {}
    with ThreadPoolExecutor(max_workers=workers) as executor:
        future_to_id = {executor.submit(fetch_folder_name, api, folder_id): (idx, folder_id)
                        for idx, folder_id in enumerate(folder_id_list)}
        for future in as_completed(future_to_id):
            idx, folder_id = future_to_id[future]
            name = future.result()
            if name:
                folder_names[f"folder_{idx}_name"] = name
    return folder_names

# ---- the server: start, ask, stop -------------------------------------------


class FolderServer:
    def __init__(self, binary, latency_ms):
        self.tmp = tempfile.TemporaryDirectory(prefix="racy-cache-")
        port_file = os.path.join(self.tmp.name, "port")
        self.proc = subprocess.Popen(
            [binary, "--port", "0", "--port-file", port_file, "--latency-ms", str(latency_ms)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                sys.exit(f"racy_cache.py: {binary} did not start")
            time.sleep(0.01)
        with open(port_file, encoding="ascii") as f:
            self.url = f"http://127.0.0.1:{int(f.read())}"

    def stats(self):
        with urllib.request.urlopen(self.url + "/stats", timeout=10) as answer:
            return json.load(answer)

    def reset(self):
        request = urllib.request.Request(self.url + "/stats/reset", method="POST")
        urllib.request.urlopen(request, timeout=10).close()

    def stop(self):
        """SIGTERM; the server exits 0 when it stops cleanly."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def report(who, stats, wall, rate):
    """One line of what the server saw (and the rate, when asked), then the
    ids it was asked for more than once."""
    total = stats["requests_total"]
    print(f"{who:<26} {total:3} requests for {stats['distinct_ids']} distinct ids, "
          f"{stats['ids_requested_more_than_once']} asked more than once"
          + (f", {wall:.2f} s, {total / wall:.1f} requests/s" if rate else ""))
    repeats = {i: n for i, n in stats["requests_per_id"].items() if n > 1}
    if repeats:
        print(" " * 27 + ", ".join(f"id {i}: {n} requests"
                                   for i, n in sorted(repeats.items(), key=lambda kv: int(kv[0]))))

# ---- the run ------------------------------------------------------------------


def run_python(server, ids, workers, rate):
    folder_cache.clear()
    start = time.monotonic()
    names = get_folder_names(server.url, ids, workers)
    report("python, the seed's cache", server.stats(), time.monotonic() - start, rate)
    return names


def run_c(server, build, model, ids, workers, rate):
    """The model's folders program on the same ids (on stdin), --print for
    the JSON mapping; a bound of 60 s so that nothing hangs."""
    server.reset()
    start = time.monotonic()
    try:
        done = subprocess.run(
            [os.path.join(build, model, "folders"), "--api", server.url, "--ids", "-",
             "-j", str(workers), "--print"],
            input=" ".join(map(str, ids)), capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        print(f"  {model}/folders did not finish in 60 s")
        return None
    report(f"C, {model}", server.stats(), time.monotonic() - start, rate)
    if done.returncode != 0:
        print(f"  {model}/folders exited with status {done.returncode}: {done.stderr.strip()}")
        return None
    return json.loads(done.stdout)


def distinct_ids(n):
    """n ids from 1000 on, without those the server always refuses (ending
    in 403 or 404), so that every lookup succeeds."""
    ids, i = [], 1000
    while len(ids) < n:
        if i % 1000 not in (403, 404):
            ids.append(i)
        i += 1
    return ids


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-n", type=int, help="N distinct generated ids instead of the seed's ten")
    p.add_argument("-j", "--workers", type=int, default=5, help="threads (default 5, the seed's)")
    p.add_argument("--latency-ms", type=int, default=100, help="the server's answer time (100)")
    p.add_argument("--build", default=os.environ.get("PARLAB_BUILD", "build"))
    o = p.parse_args()
    ids = SEED_IDS if o.n is None else distinct_ids(o.n)
    binary = os.path.join(o.build, "workloads", "folder-api-server")
    if not os.access(binary, os.X_OK):
        sys.exit(f"racy_cache.py: {binary} is not built (run make)")

    server = FolderServer(binary, o.latency_ms)
    ok = True
    try:
        print(f"{len(ids)} ids, {len(set(ids))} distinct, {o.workers} threads, "
              f"{o.latency_ms} ms per answer")
        rate = o.n is not None
        expected = run_python(server, ids, o.workers, rate)
        ok = len(expected) == len(ids)
        for model in C_PROGRAMS:
            names = run_c(server, o.build, model, ids, o.workers, rate)
            if names != expected:
                print(f"  {model}/folders: not the same names as the python run")
                ok = False
    finally:
        status = server.stop()
    if status != 0:
        print(f"racy_cache.py: the server exited with status {status}")
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
