#!/usr/bin/env python3
"""What one process with many threads and many descriptors costs every owner scan.

    python3 benchmarks/threads_attack.py                       # 400 threads, 20,000 descriptors
    python3 benchmarks/threads_attack.py --threads 400 --fds 20000 --rounds 7 --lib /tmp/old-checkout

Issue 13 item 4: the owner scan used to list the descriptor directory of every thread,
so a local user's process with 400 threads sharing one table of 20,000 descriptors made
every ``procnet.sockets("tcp")`` read 8 million links. Threads that share their
process's table now cost one kcmp() each.

This program starts that process (a child of its own: one listener on 127.0.0.1, a pipe
duplicated up to ``--fds`` descriptors, then ``--threads`` threads that share the table),
and times ``procnet.sockets("tcp")`` (median of ``--rounds``, each in a fresh
interpreter that imports procnet from ``--lib``, default this checkout) three ways: with
no such process, with the process before it starts its threads, and with its threads.
The target is "with threads" at most twice "without threads". The child is ended by pid
and stops when this program ends. Prints one table; raises RLIMIT_NOFILE for the child
(where it may not, the child holds as many descriptors as the hard limit allows).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import textwrap
from typing import Any, Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.dirname(HERE)

CHILD = textwrap.dedent(
    r"""
    import json, os, resource, socket, sys, threading
    fds, threads = int(sys.argv[1]), int(sys.argv[2])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = fds + 64
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), max(hard, want)))
    except (ValueError, OSError):  # no CAP_SYS_RESOURCE: as many as the hard limit allows
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        fds = min(fds, hard - 64)
    listener = socket.socket(); listener.bind(("127.0.0.1", 0)); listener.listen(1)
    r, w = os.pipe()
    held = [os.dup(r) for _ in range(max(0, fds - 8))]
    print(json.dumps({"pid": os.getpid(), "fds": len(os.listdir("/proc/self/fd"))}), flush=True)
    stop = threading.Event()
    for line in sys.stdin:
        if line.strip() == "threads":
            workers = [threading.Thread(target=stop.wait, daemon=True) for _ in range(threads)]
            for t in workers:
                t.start()
            print(json.dumps({"threads": len(os.listdir("/proc/self/task"))}), flush=True)
        else:
            break
    stop.set()
    """
)

TIMED = textwrap.dedent(
    r"""
    import sys, time
    sys.path.insert(0, sys.argv[1])
    import procnet
    procnet.sockets("tcp", owners=False)  # imports and the first table read
    t = time.perf_counter()
    result = procnet.sockets("tcp")
    took = time.perf_counter() - t
    print("%.6f %d" % (took, sum(len(s.owners) for s in result)))
    """
)


def timed(lib: str, rounds: int) -> Dict[str, Any]:
    """Median and min of ``rounds`` runs, after one run left out: the first readlink of a
    descriptor link makes its dentry in the kernel, and every later scan finds it made."""
    runs: List[float] = []
    owners = 0
    for _ in range(rounds + 1):
        out = subprocess.run([sys.executable, "-c", TIMED, lib], stdout=subprocess.PIPE, check=True, timeout=600)
        took, owners = out.stdout.split()
        runs.append(float(took))
    runs = runs[1:]
    return {"median": statistics.median(runs), "min": min(runs), "owners": int(owners)}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=400)
    parser.add_argument("--fds", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--lib", default=CHECKOUT, help="directory holding the procnet package to time")
    args = parser.parse_args(argv)
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < args.fds + 64:
        print("note: the hard RLIMIT_NOFILE is %d: the child holds as many descriptors as that allows" % hard)

    rows = [("no such process", timed(args.lib, args.rounds))]
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(args.fds), str(args.threads)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdin is not None and child.stdout is not None
        info = json.loads(child.stdout.readline())
        rows.append(("1 thread, %d descriptors" % info["fds"], timed(args.lib, args.rounds)))
        child.stdin.write("threads\n")
        child.stdin.flush()
        got = json.loads(child.stdout.readline())
        rows.append(("%d threads, %d descriptors" % (got["threads"], info["fds"]), timed(args.lib, args.rounds)))
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)  # ours, by pid
        child.wait()

    print("procnet.sockets('tcp') from %s, median of %d (min), fresh interpreter each" % (args.lib, args.rounds))
    print("%-34s %10s %10s %8s" % ("the attacking process", "median s", "min s", "owners"))
    for name, row in rows:
        print("%-34s %10.3f %10.3f %8d" % (name, row["median"], row["min"], row["owners"]))
    ratio = rows[2][1]["median"] / rows[1][1]["median"]
    print("threads / no threads: %.2fx (target: at most 2x)" % ratio)
    return 0


if __name__ == "__main__":
    sys.exit(main())
