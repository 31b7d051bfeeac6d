"""Write fixture scenarios: a live capture of real loopback sockets, and expected results.

    python3 tests/make_fixture.py live [DIR]       # open sockets, copy their rows, write expected.json
    python3 tests/make_fixture.py expected DIR...  # (re)write expected.json of hand-written scenarios

The live capture opens sockets of every kind on loopback in this process, copies the
kernel's tables keeping the header and the rows of those sockets only (other processes'
sockets would make the fixture depend on the machine), and writes
``procnet-manifest.json`` and ``expected.json``. The committed fixture is static: run
this again only to replace it, and look at the diff.

expected.json is ``procnet.to_jsonable`` of every record of ``procnet.sockets("all",
root=DIR, owners=<manifest "owners", default False>)``, in the parser's order. For
hand-written scenarios, read the diff of expected.json against the table rows: it is
what the tests hold the parsers to.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sys
import tempfile
import time
from typing import Any, Dict, List, Set

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

import procnet  # noqa: E402

TABLES = ["tcp", "tcp6", "udp", "udp6", "udplite", "udplite6", "raw", "raw6", "unix"]
LIVE = os.path.join(ROOT, "fixtures", "live-loopback-every-kind")


def expected_for(directory: str) -> List[Any]:
    manifest_path = os.path.join(directory, "procnet-manifest.json")
    with open(manifest_path, "rb") as f:
        manifest = json.loads(f.read().decode("utf-8"))
    owners = bool(manifest.get("owners", False))
    return [procnet.to_jsonable(r) for r in procnet.sockets("all", root=directory, owners=owners)]


def write_expected(directory: str) -> None:
    items = expected_for(directory)
    with open(os.path.join(directory, "expected.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(items, indent=1, sort_keys=True) + "\n")
    print("%s: %d sockets" % (directory, len(items)))


def _inode(sock: socket.socket) -> int:
    return os.fstat(sock.fileno()).st_ino


def open_sockets(tmp: str) -> Dict[str, Any]:
    """Sockets of every kind on loopback; returns them (to keep them open) and what to keep."""
    keep: List[socket.socket] = []

    def add(s: socket.socket) -> socket.socket:
        keep.append(s)
        return s

    # TCP over IPv4: a listener, a connection (both ends), one left in the accept queue
    lis4 = add(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    lis4.bind(("127.0.0.1", 0))
    lis4.listen(8)
    cli4 = add(socket.create_connection(lis4.getsockname()))
    srv4, _ = lis4.accept()
    add(srv4)
    cli4.sendall(b"x" * 1000)  # 1000 unread bytes in srv4's receive queue
    # a TIME_WAIT: the side that closes first keeps it, once the other side closed too
    tw_cli = socket.create_connection(lis4.getsockname())
    tw_srv, _ = lis4.accept()
    tw_cli.close()
    time.sleep(0.05)
    tw_srv.close()
    time.sleep(0.05)
    add(socket.create_connection(lis4.getsockname()))  # never accepted: a child with inode 0
    # TCP over IPv6: a v6-only listener on ::1 and a dual-stack one on :: reached over IPv4
    lis6 = add(socket.socket(socket.AF_INET6, socket.SOCK_STREAM))
    lis6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    lis6.bind(("::1", 0))
    lis6.listen(4)
    cli6 = add(socket.create_connection(lis6.getsockname()[:2]))
    add(lis6.accept()[0])
    dual = add(socket.socket(socket.AF_INET6, socket.SOCK_STREAM))
    dual.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    dual.bind(("::", 0))
    dual.listen(4)
    add(socket.create_connection(("127.0.0.1", dual.getsockname()[1])))
    add(dual.accept()[0])  # its local address is ::ffff:127.0.0.1
    # UDP: bound, connected, a queued datagram; IPv6 too
    u4 = add(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    u4.bind(("127.0.0.1", 0))
    uc4 = add(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    uc4.connect(u4.getsockname())
    uc4.send(b"y" * 100)
    u6 = add(socket.socket(socket.AF_INET6, socket.SOCK_DGRAM))
    u6.bind(("::1", 0))
    # UDP-Lite and raw, where the kernel has them and we may
    for family, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        try:
            lite = add(socket.socket(family, socket.SOCK_DGRAM, 136))
            lite.bind((addr, 0))
        except OSError:
            pass
    for family, proto in ((socket.AF_INET, 253), (socket.AF_INET6, 58)):
        try:
            add(socket.socket(family, socket.SOCK_RAW, proto))
        except OSError:
            pass
    # unix: stream listener at a path with spaces, accepted and embryo connections,
    # an abstract name, dgram, seqpacket, a socketpair
    spaced = os.path.join(tmp, "dir with space", "lis ten.sock")
    os.mkdir(os.path.dirname(spaced))
    ul = add(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
    ul.bind(spaced)
    ul.listen(4)
    add(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)).connect(spaced)
    add(ul.accept()[0])
    add(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)).connect(spaced)  # embryo
    ab = add(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
    ab.bind("\0procnet-fixture abstract")
    ab.listen(1)
    ud = add(socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM))
    ud.bind(os.path.join(tmp, "dg.sock"))
    us = add(socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET))
    us.bind(os.path.join(tmp, "sp.sock"))
    us.listen(1)
    for s in socket.socketpair():
        add(s)
    inodes = {_inode(s) for s in keep}
    ports: Set[int] = set()
    for s in keep:
        if s.family in (socket.AF_INET, socket.AF_INET6) and s.type == socket.SOCK_STREAM:
            ports.add(s.getsockname()[1])
    return {"sockets": keep, "inodes": inodes, "ports": ports, "paths": {spaced}}


def _ours(table: str, line: str, inodes: Set[int], ports: Set[int], paths: Set[str]) -> bool:
    if table == "unix":
        m = re.match(r"[0-9a-fA-F]+: \S+ \S+ \S+ \S+ \S+ +([0-9]+)(?: (.*))?\Z", line)
        if m is None:
            return False
        inode = int(m.group(1))
        return inode in inodes or (inode == 0 and m.group(2) in paths)
    tokens = line.split()
    inode = int(tokens[9])
    if inode:
        return inode in inodes
    # TIME_WAIT, request and unaccepted rows have no inode: keep those on our ports
    local = int(tokens[1].split(":")[1], 16)
    remote = int(tokens[2].split(":")[1], 16)
    return local in ports or remote in ports


def capture_live(directory: str) -> None:
    tmp = tempfile.mkdtemp(prefix="procnet-fixture-")
    try:
        opened = open_sockets(tmp)
        time.sleep(0.05)
        tables: Dict[str, bytes] = {}
        for table in TABLES:
            try:
                with open("/proc/net/" + table, "rb") as f:
                    tables[table] = f.read()
            except FileNotFoundError:
                continue
        for s in opened["sockets"]:
            s.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if os.path.isdir(directory):
        shutil.rmtree(directory)
    os.makedirs(os.path.join(directory, "net"))
    tmp_prefix = tmp
    for table, data in tables.items():
        lines = data.split(b"\n")
        out = [lines[0]]
        for raw in lines[1:]:
            line = raw.decode("utf-8", "surrogateescape")
            if line and _ours(table, line, opened["inodes"], opened["ports"], opened["paths"]):
                out.append(raw)
        text = b"\n".join(out) + b"\n"
        # The temp dir's random name would make every capture differ: give it a fixed one
        # of the same length (so the padding of the lines stays the kernel's).
        fixed = "/tmp/procnet-fixture-" + "x" * (len(tmp_prefix) - len("/tmp/procnet-fixture-"))
        text = text.replace(tmp_prefix.encode(), fixed.encode())
        with open(os.path.join(directory, "net", table), "wb") as f:
            f.write(text)
    manifest = {
        "byteorder": sys.byteorder,
        "kernel": os.uname().release,
        "description": (
            "Captured live by tests/make_fixture.py: sockets of every kind opened on loopback by one "
            "process (TCP v4 listener, connection with 1000 unread bytes, an unaccepted child with "
            "inode 0, a TIME_WAIT; TCP v6 on ::1 and a dual-stack listener reached over IPv4 "
            "(::ffff:127.0.0.1); UDP bound, connected with a queued datagram, UDP v6; UDP-Lite and raw "
            "(protocols 253 and 58) where allowed; unix stream listener at a path with spaces with "
            "accepted and embryo connections, an abstract name, dgram, seqpacket, a socketpair). "
            "Only the rows of those sockets are kept."
        ),
        "owners": False,
    }
    with open(os.path.join(directory, "procnet-manifest.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    write_expected(directory)


def main(argv: List[str]) -> int:
    if argv[:1] == ["live"]:
        capture_live(argv[1] if len(argv) > 1 else LIVE)
        return 0
    if argv[:1] == ["expected"] and len(argv) > 1:
        for directory in argv[1:]:
            write_expected(directory)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
