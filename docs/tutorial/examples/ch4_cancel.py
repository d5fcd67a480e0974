#!/usr/bin/env python3
"""Which task can still be cancelled: the Python twin of ch4_cancel.c.

Three 300 ms tasks on two workers; 50 ms later, the third is cancelled.
A ThreadPoolExecutor leaves it pending, so the cancel succeeds.  A
ProcessPoolExecutor moves calls into its call queue (room for
max_workers + 1) ahead of the workers and marks each one running as it
does, so the third is "running" although no process has begun it, and
the cancel fails.

Run from the top of the repository:

    python3 docs/tutorial/examples/ch4_cancel.py process
"""

import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor


def nap(ms):
    time.sleep(ms / 1000)
    return ms


def main():
    backend = sys.argv[1] if len(sys.argv) > 1 else "thread"
    pools = {"thread": ThreadPoolExecutor, "process": ProcessPoolExecutor}
    if backend not in pools:
        print(f"usage: {sys.argv[0]} [thread|process]", file=sys.stderr)
        return 2
    with pools[backend](max_workers=2) as executor:
        slow = [executor.submit(nap, 300) for _ in range(3)]
        time.sleep(0.05)
        print(f"{backend}: running:", *(f.running() for f in slow))
        print(f"{backend}: cancel the third:", slow[2].cancel())
    return 0


if __name__ == "__main__":
    sys.exit(main())
