"""Churn: repeated queries while processes fork, open sockets and exit as fast as they can,
and while a long-lived process opens and closes descriptors.

A forker process forks short-lived children; each opens a tcp listener on 127.0.0.1, a
client connected to it and a unix socketpair, reports its pid and the inodes it holds on
a pipe, and exits at once. A long-lived child opens a socketpair, reports it, moves it to
other descriptor numbers and closes it, in a loop. Meanwhile this process queries
(``sockets("all")``, ``listening("tcp")``, ``connections``, a pid query, the iterator
form), always with owners. Then: no query raised, and every owner reported for one of
those inodes is the process that held it (no stale or reused pid, no owner invented).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from typing import Dict, List, Set, Tuple

import pytest

import procnet

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DURATION = float(os.environ.get("PROCNET_CHURN_SECONDS", "10"))
MAX_QUERIES = 400

pytestmark = [
    pytest.mark.live,
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="needs a live Linux /proc"),
]

FORKER = r"""
import json, os, socket, sys, time
out = int(sys.argv[1]); stop_at = time.time() + float(sys.argv[2])
alive = set(); forked = 0
while time.time() < stop_at:
    while len(alive) >= 32:
        pid, _ = os.waitpid(-1, 0); alive.discard(pid)
    pid = os.fork()
    if pid == 0:
        try:
            lst = socket.socket(); lst.bind(("127.0.0.1", 0)); lst.listen(4)
            cli = socket.create_connection(lst.getsockname())
            a, b = socket.socketpair()
            inodes = [os.fstat(s.fileno()).st_ino for s in (lst, cli, a, b)]
            os.write(out, (json.dumps({"pid": os.getpid(), "inodes": inodes}) + "\n").encode())
            if forked % 4 == 0:
                # one child in four lingers 1-2 s, longer than a query, so that owners are
                # seen; the others exit at once
                time.sleep(1.0 + (forked % 11) * 0.1)
        finally:
            os._exit(0)
    alive.add(pid); forked += 1
    time.sleep(0.001)  # as fast as it can while leaving a CPU to the queries
    for p in list(alive):
        if os.waitpid(p, os.WNOHANG)[0]:
            alive.discard(p)
for p in alive:
    os.waitpid(p, 0)
os.write(out, (json.dumps({"forked": forked}) + "\n").encode())
"""

FLIPPER = r"""
import json, os, socket, sys, time
out = int(sys.argv[1]); stop_at = time.time() + float(sys.argv[2]); n = 0
while time.time() < stop_at:
    a, b = socket.socketpair()
    os.write(out, (json.dumps({"pid": os.getpid(), "inodes": [os.fstat(a.fileno()).st_ino, os.fstat(b.fileno()).st_ino]}) + "\n").encode())
    moved = os.dup2(a.fileno(), 200 + n % 50)
    os.close(moved); a.close(); b.close(); n += 1
    time.sleep(0.001)  # fast, but leave the CPU to the queries on a small machine
os.write(out, (json.dumps({"flips": n}) + "\n").encode())
"""


def _reader(fd: int, chunks: List[bytes]) -> None:
    # keep the pipe drained; decode after the run (JSON work here would starve the queries)
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)


def _recent_pids(chunks: List[bytes], n: int = 8) -> List[int]:
    tail = b"".join(chunks[-2:]).split(b"\n")
    out = []
    for line in reversed(tail):
        if line.startswith(b'{"pid": '):
            out.append(int(line[8 : line.index(b",")]))
            if len(out) >= n:
                break
    return out


def test_queries_under_churn_raise_nothing_and_invent_no_owner() -> None:
    r, w = os.pipe()
    chunks: List[bytes] = []
    reader = threading.Thread(target=_reader, args=(r, chunks), daemon=True)
    reader.start()
    env = dict(os.environ, PYTHONPATH=ROOT)
    kids = [
        subprocess.Popen([sys.executable, "-c", code, str(w), str(DURATION)], pass_fds=(w,), env=env)
        for code in (FORKER, FLIPPER)
    ]
    # our own sockets, held throughout
    mine = socket.socket()
    mine.bind(("127.0.0.1", 0))
    mine.listen(1)
    own_inodes = {os.fstat(mine.fileno()).st_ino}
    seen: List[Tuple[int, int]] = []  # (inode, owner pid) of every owner reported
    queries = 0
    records = 0
    errors: List[BaseException] = []
    timing: Dict[int, List[float]] = {}
    kid_pids = [k.pid for k in kids]
    stop_at = time.time() + DURATION
    try:
        while (time.time() < stop_at or queries < 5) and queries < MAX_QUERIES:
            kind = queries % 6
            began = time.time()
            try:
                if kind == 0:
                    result = list(procnet.sockets("all"))
                elif kind == 1:
                    result = list(procnet.listening("tcp"))
                elif kind == 2:
                    result = list(procnet.connections("inet", state="established"))
                elif kind == 3:
                    # the pids of the latest children: likely alive, maybe just gone
                    result = list(procnet.sockets("all", pid=kid_pids + _recent_pids(chunks) + [os.getpid()]))
                elif kind == 4:
                    result = list(procnet.iter_sockets("unix"))
                else:
                    result = list(procnet.sockets("tcp", pid=_recent_pids(chunks)))
            except Exception as exc:  # noqa: BLE001 - any exception is the failure
                errors.append(exc)
                break
            queries += 1
            timing.setdefault(kind, []).append(round(time.time() - began, 2))
            records += len(result)
            for rec in result:
                for o in rec.owners:
                    seen.append((rec.inode, o.pid))
    finally:
        for k in kids:
            k.wait(timeout=60)
        os.close(w)
        reader.join(timeout=30)
        os.close(r)
        mine.close()
    assert not errors, errors
    lines = [json.loads(x) for x in b"".join(chunks).split(b"\n") if x]
    held: Dict[int, Set[int]] = {}
    pids: Set[int] = set()
    forked = flips = 0
    for line in lines:
        if "pid" in line:
            pids.add(line["pid"])
            for inode in line["inodes"]:
                held.setdefault(inode, set()).add(line["pid"])
        forked += line.get("forked", 0)
        flips += line.get("flips", 0)
    ours = pids | {os.getpid()} | set(kid_pids)
    checked = 0
    for inode, pid in seen:
        if inode in held:
            checked += 1
            assert pid in held[inode], "socket %d reported held by pid %d, which never held it" % (inode, pid)
        elif pid in pids:
            # a churn child listed as owner of a socket it never reported holding
            raise AssertionError("pid %d reported as owner of socket %d it never held" % (pid, inode))
        elif inode in own_inodes:
            assert pid == os.getpid()
    print(
        "\nchurn: %d queries, %d records, %d owners checked against %d reported sockets; "
        "%d processes forked, %d descriptor open/close cycles, %.1f s"
        % (queries, records, checked, len(held), forked, flips, DURATION)
    )
    print("seconds per query, by kind:", timing)
    assert queries >= 5
    assert forked > 50 and flips > 50
    assert checked > 0, "no churned socket was ever seen with its owner"
    assert ours  # keeps the set honest for readers
