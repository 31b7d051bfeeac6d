#!/usr/bin/env python3
"""Parse-only benchmark: one large /proc/net/tcp-format table, in one process.

    benchmarks/.venv/bin/python benchmarks/parse.py --lines 100000 --rounds 7

Alternates, round after round, over the same file (written once to a temporary file,
so that psutil's parser, which opens a path, reads the very same bytes):

* floors: reading the file; reading and splitting it into lines; reading it and
  splitting every line into fields (what every parser must at least do);
* procnet.parse_inet: full records (read + parse), full records from text already in
  memory, and a one-state query (``states={LISTEN}``);
* psutil's own Linux parser, ``psutil._pslinux.NetConnections.process_inet`` (needs
  psutil: run it with the benchmark venv's python), full, and filtered to LISTEN as a
  psutil user would.

The table is synthetic, written with the kernel's printf formats (net/ipv4/tcp_ipv4.c
get_tcp4_sock / get_timewait4_sock, lines padded to 149 columns): 1% LISTEN, 2%
TIME-WAIT, the rest ESTABLISHED, on 127.0.0.0/8. ``--capture PATH`` parses a captured
table instead. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import socket
import statistics
import sys
import tempfile
import time
from typing import Any, Callable, Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

HEADER4 = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
HEADER6 = ("  sl  local_address                         remote_address                        st tx_queue rx_queue"
           " tr tm->when retrnsmt   uid  timeout inode")


def _hex4(rng: random.Random) -> str:
    # 127.a.b.c as the kernel prints it on a little-endian machine (%08X of the __be32)
    a, b, c = rng.randrange(256), rng.randrange(256), rng.randrange(1, 255)
    return "%08X" % int.from_bytes(bytes([127, a, b, c]), sys.byteorder)


def _hex6(rng: random.Random) -> str:
    raw = bytes(15) + bytes([1]) if rng.random() < 0.5 else bytes([0xFD, 0] + [rng.randrange(256) for _ in range(14)])
    return "".join("%08X" % int.from_bytes(raw[i:i + 4], sys.byteorder) for i in range(0, 16, 4))


def synthetic_table(lines: int, v6: bool = False, seed: int = 7) -> str:
    """A tcp (or tcp6) table of ``lines`` rows in the kernel's formats."""
    rng = random.Random(seed)
    hexa = _hex6 if v6 else _hex4
    pad = 0 if v6 else 149
    out = [(HEADER6 if v6 else HEADER4).ljust(pad)]
    inode = 1000000
    for sl in range(lines):
        r = rng.random()
        la, ra = hexa(rng), hexa(rng)
        if r < 0.01:  # LISTEN
            inode += 1
            line = "%4d: %s:%04X %s:%04X 0A %08X:%08X 00:00000000 00000000 %5u %8d %d 1 0000000000000000 100 0 0 10 0" % (
                sl, la, 20000 + sl % 1000, "0" * len(ra), 0, 0, rng.randrange(5), 0, 0, inode)
        elif r < 0.03:  # TIME_WAIT: no inode, literal 0 uid
            line = "%4d: %s:%04X %s:%04X 06 00000000:00000000 03:%08X 00000000 %5d %8d %d %d 0000000000000000" % (
                sl, la, rng.randrange(32768, 61000), ra, rng.randrange(1024, 65536), rng.randrange(6000), 0, 0, 0, 3)
        else:  # ESTABLISHED
            inode += 1
            line = "%4d: %s:%04X %s:%04X 01 %08X:%08X 00:00000000 00000000 %5u %8d %d 1 0000000000000000 20 4 30 10 -1" % (
                sl, la, rng.randrange(32768, 61000), ra, rng.randrange(1024, 65536),
                rng.choice((0, 0, 0, 100)), rng.choice((0, 0, 0, 0, 64)), 1000, 0, inode)
        out.append(line.ljust(pad))
    return "\n".join(out) + "\n"


def main(argv: Any = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--v6", action="store_true", help="a tcp6 table instead of tcp")
    ap.add_argument("--capture", help="parse this captured table instead of a synthetic one")
    args = ap.parse_args(argv)
    rounds = max(1, min(args.rounds, 50))

    import procnet

    table = "tcp6" if args.v6 else "tcp"
    family = socket.AF_INET6 if args.v6 else socket.AF_INET
    if args.capture:
        with open(args.capture, "rb") as f:
            text = f.read().decode()
    else:
        text = synthetic_table(max(1, min(args.lines, 2000000)), args.v6)
    fd, path = tempfile.mkstemp(prefix="procnet-parse-", suffix="-" + table)  # ends in 6 for tcp6, as psutil expects
    with os.fdopen(fd, "w") as f:
        f.write(text)
    data_mem = text.encode()
    listen = {procnet.TcpState.LISTEN}

    def read() -> bytes:
        with open(path, "rb") as f:
            return f.read()

    cases: Dict[str, Callable[[], int]] = {
        "floor: read file": lambda: len(read()),
        "floor: read + split lines": lambda: len(read().split(b"\n")),
        "floor: read + split every line into fields": lambda: sum(1 for ln in read().split(b"\n")[1:] if ln.split()),
        "procnet parse_inet full (read + parse)": lambda: sum(1 for _ in procnet.parse_inet(read(), table)),
        "procnet parse_inet full (text in memory)": lambda: sum(1 for _ in procnet.parse_inet(data_mem, table)),
        "procnet parse_inet full, kept as list": lambda: len(list(procnet.parse_inet(read(), table))),
        "procnet parse_inet states={LISTEN}": lambda: len(list(procnet.parse_inet(read(), table, states=listen))),
        # Records decode their other fields on first read: the cost when every one is read.
        "procnet parse_inet full, every field read": lambda: sum(
            1 for r in procnet.parse_inet(read(), table) if r.local.port >= 0),
    }
    psutil_version = None
    try:
        import psutil
        from psutil._pslinux import NetConnections

        psutil_version = psutil.__version__
        cases["psutil process_inet full"] = lambda: sum(
            1 for _ in NetConnections.process_inet(path, family, socket.SOCK_STREAM, {}))
        cases["psutil process_inet full, kept as list"] = lambda: len(
            list(NetConnections.process_inet(path, family, socket.SOCK_STREAM, {})))
        cases["psutil process_inet, then keep LISTEN"] = lambda: len(
            [r for r in NetConnections.process_inet(path, family, socket.SOCK_STREAM, {}) if r[5] == "LISTEN"])
    except ImportError:
        pass

    names = list(cases)
    times: Dict[str, List[float]] = {n: [] for n in names}
    counts: Dict[str, int] = {}
    try:
        for n in names:  # warm-up, and the row counts
            counts[n] = cases[n]()
        for r in range(rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            for n in order:
                gc.collect()
                t0 = time.perf_counter()
                cases[n]()
                times[n].append(time.perf_counter() - t0)
    finally:
        os.unlink(path)
    rows = text.count("\n") - 1
    result = {
        "table": table,
        "source": args.capture or "synthetic",
        "rows": rows,
        "bytes": len(data_mem),
        "rounds": rounds,
        "python": sys.version.split()[0],
        "psutil": psutil_version,
        "cases": {
            n: {"times": times[n], "median": statistics.median(times[n]), "rows_out": counts[n],
                "records_per_s": rows / statistics.median(times[n])}
            for n in names
        },
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
