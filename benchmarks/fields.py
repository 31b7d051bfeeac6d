#!/usr/bin/env python3
"""Every field read: procnet's records against psutil's tuples, speed and memory.

    benchmarks/.venv/bin/python benchmarks/fields.py                     # this checkout
    benchmarks/.venv/bin/python benchmarks/fields.py --lib /tmp/old      # another tree too

What the CLI, JSON output and an exporter do for every row: parse a 100,000-row ``tcp``
table and read every field of every record, endpoints down to ``ip`` and ``port``;
against psutil's own parser (``psutil._pslinux.NetConnections.process_inet``) on the
same file with every field of its tuples read (``laddr.ip``, ``laddr.port``...). Two
tables, both in the kernel's format (benchmarks/parse.py writes them):

* ``new``: parse.py's table, where every address is new (random in 127.0.0.0/8);
* ``recurring``: as on a server: 4 local addresses with 3 service ports for the
  accepted connections and a few hundred local ports for outgoing ones, 3,000 remote
  addresses.

Speed: each ``--lib`` in its own process, procnet and psutil alternating over
``--rounds`` in that process; the ratio is psutil's median over procnet's (higher is
better; the issue asks at least 1.0 on ``recurring`` and 0.7 on ``new``).

Memory: each case in a fresh process: the growth of ``VmHWM`` (the peak resident set)
over its value once the libraries are imported, while 100,000 records (tuples for
psutil) are built from the file and kept with every field read (the file's reading
included, as each library reads it). Prints a table; ``--json`` prints the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from typing import Any, Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from parse import HEADER4, synthetic_table  # noqa: E402


def recurring_table(lines: int, seed: int = 11) -> str:
    """A tcp table whose addresses recur as on a server (see the module docstring)."""
    rng = random.Random(seed)

    def hex4(a: int, b: int, c: int) -> str:
        return "%08X" % int.from_bytes(bytes([127, a, b, c]), sys.byteorder)

    local_ips = [hex4(0, 0, 1), hex4(0, 0, 2), hex4(1, 0, 1), hex4(1, 0, 2)]
    service_ports = [80, 443, 8080]
    remote_ips = [hex4(rng.randrange(2, 256), rng.randrange(256), rng.randrange(1, 255)) for _ in range(3000)]
    out = [HEADER4.ljust(149)]
    inode = 2000000
    for sl in range(lines):
        r = rng.random()
        la = rng.choice(local_ips)
        ra = rng.choice(remote_ips)
        if r < 0.001:  # LISTEN
            inode += 1
            line = "%4d: %s:%04X %s:%04X 0A %08X:%08X 00:00000000 00000000 %5u %8d %d 1 0000000000000000 100 0 0 10 0" % (
                sl, la, rng.choice(service_ports), "0" * 8, 0, 0, rng.randrange(5), 0, 0, inode)
        elif r < 0.03:  # TIME_WAIT
            line = "%4d: %s:%04X %s:%04X 06 00000000:00000000 03:%08X 00000000 %5d %8d %d %d 0000000000000000" % (
                sl, la, rng.choice(service_ports), ra, rng.randrange(32768, 61000), rng.randrange(6000), 0, 0, 0, 3)
        else:  # ESTABLISHED: 80% accepted (service port, ephemeral remote), 20% outgoing
            inode += 1
            if rng.random() < 0.8:
                lport, rport = rng.choice(service_ports), rng.randrange(32768, 61000)
            else:
                lport, rport = rng.randrange(32768, 32768 + 300), rng.choice((5432, 6379, 3306))
            line = "%4d: %s:%04X %s:%04X 01 %08X:%08X 00:00000000 00000000 %5u %8d %d 1 0000000000000000 20 4 30 10 -1" % (
                sl, la, lport, ra, rport, rng.choice((0, 0, 0, 100)), rng.choice((0, 0, 0, 0, 64)), 1000, 0, inode)
        out.append(line.ljust(149))
    return "\n".join(out) + "\n"


# The code run in the measured processes. ``PATH`` is the table; procnet is imported from
# ``sys.path[0]`` (the tree under test).
_PRELUDE = r"""
import gc, os, socket, statistics, sys, time, json
sys.path.insert(0, LIB)
import dataclasses, operator
import procnet
from procnet import _records
try:
    from psutil._pslinux import NetConnections
except ImportError:
    NetConnections = None

FIELDS = operator.attrgetter(*[f.name for f in dataclasses.fields(procnet.InetSocket)])

def procnet_rows():
    with open(PATH, "rb") as f:
        data = f.read()
    return procnet.parse_inet(data, "tcp")

def read_procnet(r):
    FIELDS(r)
    local, remote = r.local, r.remote
    return local.ip, local.port, remote.ip, remote.port

def psutil_rows():
    return NetConnections.process_inet(PATH, socket.AF_INET, socket.SOCK_STREAM, {})

def read_psutil(t):
    fd, family, type_, laddr, raddr, status, pid = t
    if raddr:
        raddr.ip, raddr.port
    return laddr.ip, laddr.port, family, type_, status, pid, fd
"""

_SPEED = _PRELUDE + r"""
def run_procnet():
    n = 0
    for r in procnet_rows():
        read_procnet(r)
        n += 1
    return n

def run_psutil():
    n = 0
    for t in psutil_rows():
        read_psutil(t)
        n += 1
    return n

cases = {"procnet": run_procnet, "psutil": run_psutil}
times = {k: [] for k in cases}
counts = {k: f() for k, f in cases.items()}
for i in range(ROUNDS):
    for k in (list(cases) if i % 2 == 0 else list(cases)[::-1]):
        gc.collect()
        t = time.perf_counter()
        cases[k]()
        times[k].append(time.perf_counter() - t)
print(json.dumps({"counts": counts, "median": {k: statistics.median(v) for k, v in times.items()}}))
"""

_MEMORY = _PRELUDE + r"""
def hwm():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise SystemExit("no VmHWM")

gc.collect()
base = hwm()
if CASE == "procnet":
    kept = list(procnet_rows())
    for r in kept:
        read_procnet(r)
else:
    kept = list(psutil_rows())
    for t in kept:
        read_psutil(t)
print(json.dumps({"rows": len(kept), "growth": hwm() - base}))
"""


def _run(python: str, code: str, **values: Any) -> Dict[str, Any]:
    head = "".join("%s = %r\n" % (k, v) for k, v in values.items())
    proc = subprocess.run([python, "-c", head + code], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"})
    if proc.returncode:
        raise SystemExit("measured process failed:\n" + proc.stderr[-3000:])
    result: Dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--memory-runs", type=int, default=3, help="fresh processes per memory case (median)")
    ap.add_argument("--lib", action="append", default=[], help="another tree holding procnet/ (repeatable)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    libs = [TOP] + [os.path.abspath(p) for p in args.lib]
    python = sys.executable
    lines = max(1000, min(args.lines, 1000000))
    tables = {"recurring": recurring_table(lines), "new": synthetic_table(lines)}
    out: Dict[str, Any] = {"python": sys.version.split()[0], "lines": lines, "rounds": args.rounds, "results": []}
    with tempfile.TemporaryDirectory(prefix="procnet-fields-") as tmp:
        for name, text in tables.items():
            path = os.path.join(tmp, name + "-tcp")
            with open(path, "w") as f:
                f.write(text)
            for lib in libs:
                speed = _run(python, _SPEED, LIB=lib, PATH=path, ROUNDS=args.rounds)
                mem: Dict[str, List[int]] = {"procnet": [], "psutil": []}
                for _ in range(max(1, args.memory_runs)):
                    for case in mem:
                        mem[case].append(_run(python, _MEMORY, LIB=lib, PATH=path, CASE=case)["growth"])
                m = {k: statistics.median(v) for k, v in mem.items()}
                out["results"].append({
                    "table": name, "lib": lib, "counts": speed["counts"], "seconds": speed["median"],
                    "speed_vs_psutil": speed["median"]["psutil"] / speed["median"]["procnet"],
                    "memory_bytes": m, "memory_vs_psutil": m["procnet"] / m["psutil"],
                })
    if args.json:
        print(json.dumps(out, indent=1))
        return 0
    print("Python %s, %d rows, speed: medians of %d alternating rounds; memory: VmHWM growth, median of %d"
          % (out["python"], lines, args.rounds, args.memory_runs))
    print()
    print("| table | tree | procnet s | psutil s | speed psutil/procnet (>= 1.0 recurring, 0.7 new) "
          "| procnet MiB | psutil MiB | memory procnet/psutil (<= 1.0) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in out["results"]:
        print("| %s | %s | %.3f | %.3f | %.2f | %.1f | %.1f | %.2f |" % (
            r["table"], r["lib"], r["seconds"]["procnet"], r["seconds"]["psutil"], r["speed_vs_psutil"],
            r["memory_bytes"]["procnet"] / 2**20, r["memory_bytes"]["psutil"] / 2**20, r["memory_vs_psutil"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
