#!/usr/bin/env python3
"""What ``procnet.wait_listening`` costs while it waits, and how soon it answers.

    python3 benchmarks/wait.py                    # the default cases, 40 runs each
    python3 benchmarks/wait.py --runs 100 --idle 5 --out /tmp/wait.md

Two figures per case:

* **CPU while waiting**: CPU seconds (user + system, this process) per second of waiting
  for a port (or path) that never opens: over the first second (looks from 1 ms apart,
  backing off) and over the ``--idle`` seconds after it (one look per ``max_interval``). The kernel's share of a sock_diag dump is counted: it runs in this
  process's system time.
* **Latency**: from ``listen()`` in another process (its ``time.monotonic()`` right after
  the call; CLOCK_MONOTONIC is one clock for every process) to ``wait_listening``
  returning here, over ``--runs`` runs with the listen delayed by a random 20-400 ms (so
  that it falls anywhere in the back-off), median and 99th percentile. With owners (the
  default: one descriptor scan of the machine once found) and without.

The machine's scale (sockets in the tables, processes) is printed with the figures: the
text tables' cost grows with it, the filtered dump's hardly.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from typing import Any, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import procnet  # noqa: E402
from procnet._wait import wait_listening  # noqa: E402

#: The child: binds, says "ready", sleeps, listens, prints the monotonic time, waits for EOF.
CHILD = r"""
import os, socket, sys, time
kind, where, delay = sys.argv[1], sys.argv[2], float(sys.argv[3])
if kind == "unix":
    s = socket.socket(socket.AF_UNIX)
    s.bind(where.replace("@", "\0", 1) if where.startswith("@") else where)
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
    s.bind(("127.0.0.1", int(where) if kind == "tcp" else 0))
print("ready %d" % s.getsockname()[1] if kind != "unix" else "ready 0", flush=True)
time.sleep(delay)
if kind == "udp":
    t = time.monotonic()
    s2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s2.bind(("127.0.0.1", int(where)))
else:
    s.listen(8)
    t = time.monotonic()
print("%.9f" % t, flush=True)
sys.stdin.read()
"""


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def target(kind: str) -> Tuple[Dict[str, Any], str]:
    """wait_listening keywords for a target that is free now, and the child's ``where``."""
    if kind == "unix":
        name = "@procnet-bench-%s" % uuid.uuid4().hex
        return {"path": name}, name
    port = free_port()
    return {"port": port, "proto": "udp" if kind == "udp" else "tcp"}, str(port)


def idle_cpu(kind: str, seconds: float, **options: Any) -> Tuple[float, float]:
    """CPU seconds per second of waiting for nothing: over the first second (the looks
    back off from 1 ms) and over the ``seconds`` after it (one look per max_interval).
    ``kind`` "sleep": the floor, a loop of time.sleep(max_interval) alone."""
    marks: List[Tuple[float, float]] = [(time.monotonic(), cpu())]
    sampler = threading.Timer(1.0, lambda: marks.append((time.monotonic(), cpu())))
    sampler.start()
    if kind == "sleep":
        while time.monotonic() - marks[0][0] < 1.0 + seconds:
            time.sleep(options["max_interval"])
    else:
        kwargs, _ = target(kind)
        try:
            wait_listening(timeout=1.0 + seconds, **kwargs, **options)
        except TimeoutError:
            pass
    sampler.join()
    marks.append((time.monotonic(), cpu()))
    (t0, c0), (t1, c1), (t2, c2) = marks
    return (c1 - c0) / (t1 - t0), (c2 - c1) / (t2 - t1)


def latency(kind: str, delay: float, **options: Any) -> float:
    kwargs, where = target(kind)
    child = subprocess.Popen([sys.executable, "-c", CHILD, kind, where, "%.3f" % delay],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdin is not None
        child.stdout.readline()  # ready: bound, not yet listening
        wait_listening(timeout=30, **kwargs, **options)
        returned = time.monotonic()
        listened = float(child.stdout.readline())
        return returned - listened
    finally:
        if child.stdin is not None:
            child.stdin.close()
        child.wait(10)


def percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def scale() -> str:
    counts = []
    for table in ("tcp", "tcp6", "udp", "unix"):
        try:
            with open(os.path.join("/proc/net", table), "rb") as f:
                counts.append("%s %d" % (table, f.read().count(b"\n") - 1))
        except OSError:
            pass
    return "%s; %d processes" % (", ".join(counts), sum(1 for n in os.listdir("/proc") if n.isdigit()))


CASES: List[Tuple[str, str, Dict[str, Any]]] = [
    ("tcp, sock_diag, max_interval 50 ms (default)", "tcp", {}),
    ("tcp, sock_diag, max_interval 20 ms", "tcp", {"max_interval": 0.02}),
    ("tcp, sock_diag, max_interval 10 ms", "tcp", {"max_interval": 0.01}),
    ("udp, sock_diag, default", "udp", {}),
    ("unix @name, unix_diag, default", "unix", {}),
    ("tcp, text tables (backend='proc'), default", "tcp", {"backend": "proc"}),
    ("floor: time.sleep(max_interval) alone, 50 ms", "sleep", {"max_interval": 0.05}),
    ("floor: time.sleep(max_interval) alone, 10 ms", "sleep", {"max_interval": 0.01}),
]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40, help="latency runs per case (default 40)")
    parser.add_argument("--idle", type=float, default=3.0, help="seconds of idle waiting per case (default 3)")
    parser.add_argument("--out", help="also write the table (markdown) to this file")
    parser.add_argument("--only", help="run only the cases whose name contains this text")
    args = parser.parse_args(argv)
    rng = random.Random(15)
    lines = [
        "procnet %s, Python %s, %s" % (procnet.__version__, sys.version.split()[0], time.strftime("%Y-%m-%d %H:%M")),
        "machine: %s, %d CPUs" % (scale(), os.cpu_count() or 0),
        "",
        "| case | CPU s/s, 1st s | CPU s/s after | latency median (owners) | p99 (owners) | median (no owners) | p99 (no owners) |",
        "|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    for kind in ("tcp", "udp", "unix"):  # imports and first probes, out of the first case's figures
        try:
            wait_listening(timeout=0, **target(kind)[0])
        except TimeoutError:
            pass
    for name, kind, options in CASES:
        if args.only and args.only not in name:
            continue
        first, idle = idle_cpu(kind, args.idle, **options)
        if kind == "sleep":
            row = "| %s | %.4f | %.4f | | | | |" % (name, first, idle)
            print(row, flush=True)
            lines.append(row)
            continue
        with_owners = [latency(kind, rng.uniform(0.02, 0.4), **options) for _ in range(args.runs)]
        without = [latency(kind, rng.uniform(0.02, 0.4), owners=False, **options) for _ in range(args.runs)]
        row = "| %s | %.4f | %.4f | %.1f ms | %.1f ms | %.1f ms | %.1f ms |" % (
            name, first, idle, 1000 * statistics.median(with_owners), 1000 * percentile(with_owners, 0.99),
            1000 * statistics.median(without), 1000 * percentile(without, 0.99))
        print(row, flush=True)
        lines.append(row)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
