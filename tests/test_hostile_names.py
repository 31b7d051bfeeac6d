"""Hostile names: escape sequences, newlines and invalid UTF-8 in a process's name, its
command line and its unix socket paths.

A child process renames itself (a write to /proc/self/comm), runs with a hostile argv,
and binds unix sockets to hostile paths and an abstract name. The library keeps every
byte (``os.fsencode`` gives the kernel's bytes back), ``procnet ss`` and ``procnet lsof``
print them escaped with the table whole, ``--json`` is valid and lossless. A path with a
newline forges a row of /proc/net/unix: the text source shows the forged row (the
documented limit) and flags it ``text_only``; the netlink source does not show it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from typing import Any, Dict, Iterator, List

import pytest

import procnet

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not os.path.exists("/proc/net/unix"), reason="needs a live Linux /proc"),
]

COMM = b"\x1b[2J\n\r\xff\x07z"  # 9 bytes: clear screen, newline, CR, invalid UTF-8, BEL
ARGV = ["\x1b[31mred", "\x1b]0;title\x07", "two\nlines", "\r\x1b[1A", os.fsdecode(b"bad\xff\xfe")]
FORGED_INODE = 99999
FORGED_TAIL = b"0000000000000000: 00000002 00000000 00010000 0001 01 %d /forged" % FORGED_INODE
ABSTRACT = b"\x00evil\x00name\x1b[31m\n\r"

CHILD = r"""
import json, os, socket, sys
names = [bytes.fromhex(h) for h in sys.argv[1].split(",")]
with open("/proc/self/comm", "wb") as f:
    f.write(bytes.fromhex(sys.argv[2]))
held = {}
keep = []
for name in names:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(name)
    s.listen(1)
    keep.append(s)
    held[name.hex()] = os.fstat(s.fileno()).st_ino
sys.stdout.write(json.dumps({"pid": os.getpid(), "held": held}) + "\n")
sys.stdout.flush()
sys.stdin.read()
"""

NETIDS = {"u_str", "u_dgr", "u_seq", "tcp", "udp", "raw", "p_raw", "p_dgr", "nl", "u_???"}


class Hostile:
    def __init__(self, pid: int, held: Dict[bytes, int], directory: bytes, proc: "subprocess.Popen[bytes]") -> None:
        self.pid = pid
        self.held = held  # bound name (kernel bytes) -> inode
        self.directory = directory
        self.proc = proc

    def shown(self, name: bytes) -> bytes:
        """What the kernel prints for this bound name (an abstract name's NULs as @)."""
        if name[:1] == b"\x00":
            return b"@" + name[1:].replace(b"\x00", b"@")
        return name

    @property
    def forged(self) -> bytes:
        return [n for n in self.held if n.endswith(FORGED_TAIL)][0]


@pytest.fixture(scope="module")
def hostile() -> Iterator[Hostile]:
    directory = tempfile.mkdtemp(prefix="pn", dir="/tmp").encode()
    names = [
        directory + b"/nl\nx",
        directory + b"/\x1b[2J",
        directory + b"/c\rd\x07",
        directory + b"/bad\xff\xfe",
        directory + "/\u3164\u2800 \u200b\u202e\u00a0".encode(),  # invisible, bidi, a no-break space
        directory + b"/x\n" + FORGED_TAIL,
        ABSTRACT,
    ]
    assert all(len(n) < 108 for n in names)
    for name in names:
        if name[:1] == b"/":
            # the forged path's "/forged" needs its "directory" ("x\n0000...: ... 99999 ")
            os.makedirs(os.path.dirname(name), exist_ok=True)
    argv = [sys.executable, "-c", CHILD, ",".join(n.hex() for n in names), COMM.hex()] + ARGV
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        held = {bytes.fromhex(k): v for k, v in info["held"].items()}
        yield Hostile(info["pid"], held, directory, proc)
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(directory, ignore_errors=True)


def _by_inode(records: List[Any]) -> Dict[int, Any]:
    return {r.inode: r for r in records}


# --- the library keeps the exact text -------------------------------------------------


def test_netlink_source_keeps_every_path_byte(hostile: Hostile) -> None:
    if not _netlink_ok():
        pytest.skip("sock_diag not available here")
    recs = _by_inode(procnet.sockets("unix", backend="netlink", pid=hostile.pid))
    for name, inode in hostile.held.items():
        assert inode in recs, name
        assert os.fsencode(recs[inode].path) == hostile.shown(name)


def test_text_source_keeps_every_path_byte_but_the_forged_one(hostile: Hostile) -> None:
    recs = _by_inode(procnet.sockets("unix", backend="proc", pid=hostile.pid))
    for name, inode in hostile.held.items():
        if name == hostile.forged:
            continue
        assert os.fsencode(recs[inode].path) == hostile.shown(name)


def test_owner_comm_and_cmdline_are_exact(hostile: Hostile) -> None:
    recs = procnet.sockets("unix", pid=hostile.pid, details=True)
    owners = [o for r in recs for o in r.owners if o.pid == hostile.pid]
    assert owners
    for o in owners:
        assert os.fsencode(o.comm) == COMM
        assert o.cmdline is not None
        assert [os.fsencode(a) for a in o.cmdline[-len(ARGV):]] == [os.fsencode(a) for a in ARGV]


# --- the forged row -----------------------------------------------------------------------


def test_text_table_shows_the_forged_row_documented_limit(hostile: Hostile) -> None:
    """(a) /proc/net/unix read as text yields a row the kernel never had."""
    with open("/proc/net/unix", "rb") as f:
        data = f.read()
    assert FORGED_TAIL in data
    recs = list(procnet.parse_unix(data))
    forged = [r for r in recs if r.inode == FORGED_INODE and r.path == "/forged"]
    assert len(forged) == 1, "the text parser cannot tell the forged row from a real one"
    real = _by_inode(recs)[hostile.held[hostile.forged]]
    assert os.fsencode(real.path) == hostile.forged[: hostile.forged.index(b"\n")]


def test_text_source_flags_the_forged_row_text_only(hostile: Hostile) -> None:
    if not _netlink_ok():
        pytest.skip("sock_diag not available here: nothing to confirm the text with")
    recs = procnet.sockets("unix", backend="proc")
    forged = [r for r in recs if r.inode == FORGED_INODE and r.path == "/forged"]
    assert forged and all(r.text_only for r in forged)
    real = _by_inode(recs)[hostile.held[hostile.forged]]
    assert real.text_only  # its path, cut at the newline, is not what the kernel holds
    # a socket with an ordinary name is confirmed
    ordinary = [r for r in recs if r.inode == hostile.held[hostile.directory + b"/\x1b[2J"]]
    assert ordinary and ordinary[0].text_only is False


def test_netlink_source_does_not_show_the_forged_row(hostile: Hostile) -> None:
    """(b) sock_diag has the real socket, whole path, and no forged one."""
    if not _netlink_ok():
        pytest.skip("sock_diag not available here")
    recs = procnet.sockets("unix", backend="netlink")
    assert not [r for r in recs if r.path == "/forged"]
    real = _by_inode(recs)[hostile.held[hostile.forged]]
    assert os.fsencode(real.path) == hostile.forged
    from procnet import _netlink

    raw = list(_netlink.dump_unix()) if hasattr(_netlink, "dump_unix") else list(_netlink.iter_unix(None))
    assert not [r for r in raw if getattr(r, "path", None) == "/forged"]


# --- the command line ---------------------------------------------------------------------


def _cli(*args: str) -> bytes:
    env = dict(os.environ, PYTHONPATH=ROOT, COLUMNS="400", LC_ALL="C.UTF-8")
    out = subprocess.run(
        [sys.executable, "-m", "procnet"] + list(args), cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
    )
    assert out.returncode in (0, 1), out.stderr.decode(errors="replace")
    return out.stdout


_INVISIBLE = re.compile("[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180d\u180f\u2800\u3164\ufe00-\ufe0f\uffa0]")


def _assert_no_raw_controls(out: bytes) -> None:
    for bad in (b"\x1b", b"\r", b"\x07", b"\x00", b"\x9b"):
        assert bad not in out, "raw %r in the output" % bad
    text = out.decode("utf-8")  # whatever bytes the names held, the output is UTF-8
    # nor any character a terminal would not show as itself: C1 and format characters
    # (U+200B, U+202E), non-ASCII spaces, line separators, invisible fillers (U+3164)
    hidden = [c for c in text.replace("\n", "") if not c.isprintable() or _INVISIBLE.match(c)]
    assert not hidden, hidden


def test_ss_xap_escapes_and_keeps_the_table_whole(hostile: Hostile) -> None:
    out = _cli("ss", "-xap")
    _assert_no_raw_controls(out)
    lines = out.decode("utf-8").split("\n")
    assert lines[-1] == ""
    header, rows = lines[0], lines[1:-1]
    assert header.split()[:2] == ["Netid", "State"]
    for row in rows:
        assert row.split(" ", 1)[0] in NETIDS, "a row broken by a name: %r" % row
    mine = [r for r in rows if "pid=%d," % hostile.pid in r]
    # one row per socket the child holds (none lost, none split)
    assert len(mine) == len(hostile.held)
    escaped_comm = "".join("\\x%02x" % b if b < 0x20 or b >= 0x7F else chr(b) for b in COMM)
    for row in mine:
        assert '(("%s",pid=%d,' % (escaped_comm, hostile.pid) in row
    for name, inode in hostile.held.items():
        hits = [r for r in mine if " %d " % inode in r]
        assert len(hits) == 1, (name, inode)


def test_ss_xap_has_no_forged_row(hostile: Hostile) -> None:
    if not _netlink_ok():
        pytest.skip("sock_diag not available here")
    out = _cli("ss", "-xap").decode("utf-8")
    real = hostile.held[hostile.forged]
    rows = [r for r in out.split("\n") if "/forged" in r]
    # the only row that mentions /forged is the real socket, its whole path escaped
    assert len(rows) == 1
    assert "x\\x0a0000000000000000: " in rows[0] and " %d " % real in rows[0]


def test_lsof_p_escapes_and_keeps_the_table_whole(hostile: Hostile) -> None:
    out = _cli("lsof", "-p", str(hostile.pid))
    _assert_no_raw_controls(out)
    lines = out.decode("utf-8").split("\n")
    assert lines[-1] == ""
    assert lines[0].split()[:4] == ["COMMAND", "PID", "USER", "FD"]
    rows = lines[1:-1]
    assert rows
    for row in rows:
        assert row.split()[1] == str(hostile.pid), "a row broken by a name: %r" % row
    # every socket is there, each on its one row
    for name, inode in hostile.held.items():
        assert len([r for r in rows if str(inode) in r.split()]) == 1, (name, inode)


def test_ss_json_is_valid_and_lossless(hostile: Hostile) -> None:
    out = _cli("ss", "-xap", "--json")
    seen = {}
    for line in out.decode("utf-8").split("\n"):
        if line:
            obj = json.loads(line)
            seen[obj["inode"]] = obj
    for name, inode in hostile.held.items():
        obj = seen[inode]
        got = bytes.fromhex(obj["path_hex"]) if "path_hex" in obj else obj["path"].encode("utf-8")
        assert got == hostile.shown(name)
        owners = [o for o in obj["owners"] if o["pid"] == hostile.pid]
        assert owners
        for o in owners:
            comm = bytes.fromhex(o["comm_hex"]) if "comm_hex" in o else o["comm"].encode("utf-8")
            assert comm == COMM


def test_lsof_json_is_valid_and_lossless_for_paths(hostile: Hostile) -> None:
    out = _cli("lsof", "-p", str(hostile.pid), "--json")
    objs = [json.loads(line) for line in out.decode("utf-8").split("\n") if line]
    by_inode = {o["inode"]: o for o in objs if o.get("inode") is not None}
    for name, inode in hostile.held.items():
        if name == hostile.forged:
            continue  # see test_lsof_shows_the_whole_path_of_a_socket_with_a_newline
        o = by_inode[inode]
        got = bytes.fromhex(o["path_hex"]) if "path_hex" in o else o["path"].encode("utf-8")
        assert got == hostile.shown(name)


def test_lsof_shows_the_whole_path_of_a_socket_with_a_newline(hostile: Hostile) -> None:
    if not _netlink_ok():
        pytest.skip("sock_diag not available here")
    out = _cli("lsof", "-p", str(hostile.pid), "--json")
    objs = [json.loads(line) for line in out.decode("utf-8").split("\n") if line]
    o = {o["inode"]: o for o in objs if o.get("inode") is not None}[hostile.held[hostile.forged]]
    got = bytes.fromhex(o["path_hex"]) if "path_hex" in o else o["path"].encode("utf-8")
    assert got == hostile.forged


def test_lsof_json_gives_the_process_name_back(hostile: Hostile) -> None:
    out = _cli("lsof", "-p", str(hostile.pid), "--json")
    objs = [json.loads(line) for line in out.decode("utf-8").split("\n") if line]
    assert objs
    for o in objs:
        name = o.get("comm", o["command"])
        got = bytes.fromhex(o["comm_hex"]) if "comm_hex" in o else name.encode("utf-8")
        assert got == COMM


def test_to_jsonable_keeps_invalid_utf8_in_cmdline(hostile: Hostile) -> None:
    recs = procnet.sockets("unix", pid=hostile.pid, details=True)
    owner = [o for r in recs for o in r.owners if o.pid == hostile.pid][0]
    obj = procnet.to_jsonable(owner)
    text = json.dumps(obj)
    back = json.loads(text)["process"]
    argv = back["cmdline"]
    hexes = back.get("cmdline_hex")
    # the invalid-UTF-8 argument must come back byte for byte
    bad = os.fsencode(ARGV[-1])
    if hexes is not None:
        assert bytes.fromhex(hexes[-1]) == bad
    else:
        assert argv[-1].encode("utf-8") == bad


_NETLINK: Dict[str, bool] = {}


def _netlink_ok() -> bool:
    if "ok" not in _NETLINK:
        try:
            s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 4)
            s.close()
            _NETLINK["ok"] = True
        except OSError:
            _NETLINK["ok"] = False
    return _NETLINK["ok"]
