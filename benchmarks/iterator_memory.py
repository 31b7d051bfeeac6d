#!/usr/bin/env python3
"""Memory of the iterator form, and parse speed, at a million unix rows.

    python3 benchmarks/iterator_memory.py                       # 1,000,000 rows, this checkout
    python3 benchmarks/iterator_memory.py --before /tmp/old     # the same against another tree
    python3 benchmarks/iterator_memory.py --rows 200000 --no-inet

Writes a synthetic ``net/unix`` (the kernel's format, net/unix/af_unix.c
unix_seq_show: ``"%pK: %08X %08X %08X %04X %02X %5llu"`` then " " and the name when
bound) and a ``net/tcp`` (benchmarks/parse.py's table) into a temporary proc tree (``net/``
holds nothing else) and measures, each case in a fresh process:

* peak resident growth (``VmHWM`` from ``/proc/self/status``, the high-water mark reset
  through ``/proc/self/clear_refs`` once the input is loaded, minus ``VmRSS`` then) of
  ``for _ in procnet.parse_unix(text): pass`` with the text already in memory (``str``,
  and ``bytes``, which the parser decodes: one more copy of the table), of
  ``procnet.iter_sockets("unix", root=<tree>, owners=False)`` (which reads the file
  itself, so its growth includes the table as read), and the same two for ``tcp``;
* parse speed: records/s of ``for _ in procnet.parse_unix(text)`` on ``--speed-rows``
  rows (text in memory), on a table where no path holds a newline and on one where one
  row in 10,000 does: the CPU time of this process (``time.process_time``: parsing is
  one thread, and on a shared machine wall time measures the neighbours too), for each
  round the best of three in one process, then the median of ``--rounds`` rounds.

With ``--before DIR`` every case also runs with the ``procnet`` package of ``DIR`` (for
example a copy of ``git show HEAD:...``), alternating with this checkout's round by
round. Prints a table; writes nothing into the repository (the tree is removed).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from typing import Any, Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from parse import synthetic_table  # noqa: E402  (benchmarks/parse.py: a tcp table)

UNIX_HEADER = "Num       RefCount Protocol Flags    Type St Inode Path\n"
MiB = 1 << 20


def unix_rows(rows: int, start: int = 0, newlines: bool = True) -> str:
    """``rows`` rows of /proc/net/unix as unix_seq_show prints them: listeners, accepted
    and connected sockets with paths (a tenth of them abstract), unbound ends, and (with
    ``newlines``) one row in 10,000 whose path holds a newline (the row then takes two
    physical lines)."""
    out = []
    for i in range(start, start + rows):
        inode = 1000000 + i
        kind = i % 10
        if kind == 0:  # a stream listener (__SO_ACCEPTCON, SS_UNCONNECTED)
            head = "%016x: 00000002 00000000 00010000 0001 01 %5d" % (0xFFFF000000000000 + i, inode)
            name = " /run/app/worker-%d.sock" % i
        elif kind in (1, 2, 3):  # accepted: inherits the listener's name
            head = "%016x: 00000003 00000000 00000000 0001 03 %5d" % (0xFFFF000000000000 + i, inode)
            name = " /run/app/worker-%d.sock" % (i - kind)
        elif kind == 4:  # abstract
            head = "%016x: 00000002 00000000 00000000 0002 01 %5d" % (0xFFFF000000000000 + i, inode)
            name = " @/tmp/.X11-unix/X%d" % (i % 97)
        else:  # unbound ends of connections and socketpairs
            head = "%016x: 00000003 00000000 00000000 0001 03 %5d" % (0xFFFF000000000000 + i, inode)
            name = ""
        if newlines and i % 10000 == 9999:
            head = "%016x: 00000002 00000000 00000000 0002 01 %5d" % (0xFFFF000000000000 + i, inode)
            name = " /tmp/with\nnewline-%d" % i
        out.append(head + name + "\n")
    return "".join(out)


def write_tree(root: str, rows: int, inet: bool, newlines: bool = True) -> Dict[str, int]:
    """The proc tree: ``net/unix`` (and ``net/tcp``), written in slices of 100,000 rows."""
    net = os.path.join(root, "net")
    os.makedirs(net)
    sizes = {}
    with open(os.path.join(net, "unix"), "w", encoding="utf-8") as f:
        f.write(UNIX_HEADER)
        for base in range(0, rows, 100000):
            f.write(unix_rows(min(100000, rows - base), base, newlines))
    sizes["unix"] = os.path.getsize(os.path.join(net, "unix"))
    if inet:
        with open(os.path.join(net, "tcp"), "w", encoding="ascii") as f:
            f.write(synthetic_table(rows))
        sizes["tcp"] = os.path.getsize(os.path.join(net, "tcp"))
    return sizes


# One case in a fresh process: argv = [procnet's parent dir, tree, case, table, rounds].
CHILD = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
root, case, table, rounds = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
import procnet

def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise SystemExit("no %s in /proc/self/status" % field)

def reset_peak():
    # Linux 4.0+: writing 5 resets the peak RSS (VmHWM) to the current RSS.
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False

path = os.path.join(root, "net", table)
data = None
if case in ("parse_str", "parse_bytes", "speed"):
    with open(path, "rb") as f:
        data = f.read()
    if case != "parse_bytes":
        data = data.decode("utf-8", "surrogateescape")

def records():
    if case == "iter_sockets":
        return procnet.iter_sockets(table, root=root, owners=False)
    if table == "unix":
        return procnet.parse_unix(data)
    return procnet.parse_inet(data, table)

out = {}
if case == "speed":
    times = []
    for _ in range(rounds):
        t0 = time.process_time()
        count = 0
        for _ in records():
            count += 1
        times.append(time.process_time() - t0)
    out = {"count": count, "times": times}
else:
    base = status("VmRSS")
    out["reset"] = reset_peak()
    if not out["reset"]:
        base = status("VmHWM")
    count = 0
    first = None
    for rec in records():
        count += 1
        if count == 1:
            first = status("VmHWM") - base
    out.update(count=count, growth=status("VmHWM") - base, first=first)
print(json.dumps(out))
"""


def run_case(tree_parent: str, root: str, case: str, table: str, rounds: int = 1) -> Dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, tree_parent, root, case, table, str(rounds)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=1800,
    )
    if proc.returncode != 0:
        raise SystemExit("%s %s (%s) failed:\n%s" % (case, table, tree_parent, proc.stderr.decode(errors="replace")[-3000:]))
    result: Dict[str, Any] = json.loads(proc.stdout)
    return result


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1000000, help="rows of the memory tables (default 1,000,000)")
    ap.add_argument("--speed-rows", type=int, default=100000, help="rows of the speed table (default 100,000)")
    ap.add_argument("--rounds", type=int, default=5, help="speed rounds (median), and memory repeats (min)")
    ap.add_argument("--before", help="a directory holding another procnet package, measured alternately")
    ap.add_argument("--no-inet", action="store_true", help="skip the tcp cases")
    args = ap.parse_args(argv)
    trees = {"this checkout": CHECKOUT}
    if args.before:
        if not os.path.isdir(os.path.join(args.before, "procnet")):
            raise SystemExit("--before: no procnet package in %s" % args.before)
        trees = {"before (%s)" % args.before: os.path.abspath(args.before), "after (this checkout)": CHECKOUT}
    rounds = max(1, min(args.rounds, 50))
    tmp = tempfile.mkdtemp(prefix="procnet-itermem-")
    try:
        big = os.path.join(tmp, "big")
        sizes = write_tree(big, max(1, args.rows), not args.no_inet)
        small = {"no newline in a path": os.path.join(tmp, "plain"), "a newline in 1 path of 10,000": os.path.join(tmp, "nl")}
        for kind, tree in small.items():
            write_tree(tree, max(1, args.speed_rows), False, newlines=tree.endswith("nl"))
        cases = [("parse_str", "unix"), ("parse_bytes", "unix"), ("iter_sockets", "unix")]
        if not args.no_inet:
            cases += [("parse_str", "tcp"), ("iter_sockets", "tcp")]
        memory: Dict[Any, List[Dict[str, Any]]] = {}
        speed: Dict[Any, List[float]] = {(name, kind): [] for name in trees for kind in small}
        counts: Dict[Any, int] = {}
        repeats = 1 if rounds < 3 else 2  # memory is deterministic enough: the least of two
        for r in range(repeats):
            for case, table in cases:
                for name, parent in (list(trees.items()) if r % 2 == 0 else list(trees.items())[::-1]):
                    res = run_case(parent, big, case, table)
                    memory.setdefault((name, case, table), []).append(res)
                    counts[(name, case, table)] = res["count"]
        for r in range(rounds):
            for kind, tree in small.items():
                for name, parent in (list(trees.items()) if r % 2 == 0 else list(trees.items())[::-1]):
                    res = run_case(parent, tree, "speed", "unix", 3)
                    speed[(name, kind)].append(min(res["times"]))  # best of 3 inside one process
        print("tables: %s; rows %d (unix rows with a newline in the path take two lines)" % (
            ", ".join("net/%s %.1f MiB" % (t, s / MiB) for t, s in sizes.items()), args.rows))
        print()
        print("| procnet | case | records | peak growth MiB | x table | at first record MiB |")
        print("|---|---|---:|---:|---:|---:|")
        for case, table in cases:
            for name in trees:
                runs = memory[(name, case, table)]
                growth = min(x["growth"] for x in runs)
                first = min(x["first"] or 0 for x in runs)
                what = {"parse_str": "for _ in parse_%s(str)" % ("unix" if table == "unix" else "inet"),
                        "parse_bytes": "for _ in parse_unix(bytes)",
                        "iter_sockets": "iter_sockets(%r, owners=False)" % table}[case]
                print("| %s | %s | %d | %.1f | %.2f | %.1f |" % (
                    name, what, counts[(name, case, table)], growth / MiB, growth / sizes[table], first / MiB))
        if not all(x.get("reset") for v in memory.values() for x in v):
            print("\n(/proc/self/clear_refs could not reset the peak: growth is measured from the peak before the case)")
        print()
        print("| procnet | parse_unix(str), %d rows | median records/s (CPU time) | min s | max s |" % args.speed_rows)
        print("|---|---|---:|---:|---:|")
        for kind in small:
            for name in trees:
                times = speed[(name, kind)]
                med = statistics.median(times)
                print("| %s | %s | %.0f | %.3f | %.3f |" % (name, kind, args.speed_rows / med, min(times), max(times)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
