"""Cgroups: a socket's (``InetSocket.cgroup_id``, ``ss -e``'s ``cgroup:``, with ``v6only:``
beside it) and its owners' (``Owner.cgroup``, ``Process.cgroup``, in ``--json``)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cli_ss import real_ss, run_ss
from test_parse_netlink import done, inet_diag_msg, sock, tcp_info

import procnet
from procnet._parse.netlink import INET_DIAG_CGROUP_ID, INET_DIAG_INFO, INET_DIAG_SHUTDOWN, parse_inet_dump
from procnet._parse.process import parse_cgroup
from procnet.cli import ss
from procnet.cli._ss_cgroup import CgroupPaths, cgroup2_mount, walk_ids

SS = shutil.which("ss")



# -- the attribute -----------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["little", "big"])
def test_cgroup_id_is_the_u64_of_inet_diag_cgroup_id(order: str) -> None:
    p = "<" if order == "little" else ">"
    cg = struct.pack(p + "Q", 0x1_0000_2345)
    plain = inet_diag_msg(state=10, inode=5, attrs=[(INET_DIAG_SHUTDOWN, b"\0"), (INET_DIAG_CGROUP_ID, cg)],
                          order=order)
    with_info = inet_diag_msg(state=1, inode=6, attrs=[(INET_DIAG_INFO, tcp_info(order=order)),
                                                       (INET_DIAG_SHUTDOWN, b"\0"), (INET_DIAG_CGROUP_ID, cg)],
                              order=order)
    without = inet_diag_msg(state=6, inode=0, order=order)  # TIME_WAIT: no attribute
    data = sock(plain, order=order) + sock(with_info, order=order) + sock(without, order=order) + done(order=order)
    a, b, c = parse_inet_dump(data, "tcp", byteorder=order)
    assert (a.cgroup_id, b.cgroup_id, c.cgroup_id) == (0x1_0000_2345, 0x1_0000_2345, None)
    assert a.shutdown == 0 and b.tcp_info is not None  # the fields around it still decode
    assert a == procnet.InetSocket(**{f: getattr(a, f) for f in type(a)._FIELDS})  # type: ignore[attr-defined]


def test_text_tables_have_no_cgroup_id() -> None:
    header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    row = "   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 99 1 0000000000000000 100 0 0 10 0\n"
    (rec,) = procnet.parse_inet(header + row, "tcp", byteorder="little")
    assert rec.cgroup_id is None


# -- cgroup id -> path, as ss's cg_id_to_path ---------------------------------------------------


@pytest.mark.parametrize("text, mount", [
    ("", None),
    ("30 23 0:26 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n", None),
    ("30 23 0:26 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
     "31 23 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
     "32 23 0:28 / /mnt/cg2 rw - cgroup2 cgroup2 rw\n", "/sys/fs/cgroup/unified"),  # the first one
    ("31 23 0:27 / /sys/fs/my\\040cgroups rw - cgroup2 cgroup2 rw\n", "/sys/fs/my cgroups"),
])
def test_the_hierarchy_is_the_first_cgroup2_mount(text: str, mount: Optional[str]) -> None:
    assert cgroup2_mount(text) == mount


def test_walk_maps_each_directory_inode_to_its_path_below_the_mount(tmp_path: Any) -> None:
    for d in ("a", "a/b", "c", "esc\x1bape"):
        os.mkdir(os.path.join(str(tmp_path), d))
    with open(os.path.join(str(tmp_path), "a", "file"), "w"):
        pass
    found = walk_ids(str(tmp_path))
    expected = {os.stat(str(tmp_path)).st_ino: "/"}
    for d in ("a", "a/b", "c", "esc\x1bape"):
        expected[os.stat(os.path.join(str(tmp_path), d)).st_ino] = "/" + d
    assert found == expected
    paths = CgroupPaths(procnet.ProcFS())
    paths._mountinfo = lambda: "31 23 0:27 / %s rw - cgroup2 cgroup2 rw\n" % tmp_path  # type: ignore[method-assign]
    assert paths(os.stat(os.path.join(str(tmp_path), "a", "b")).st_ino) == "/a/b"
    assert paths(os.stat(os.path.join(str(tmp_path), "esc\x1bape")).st_ino) == "/esc\\x1bape"  # escaped
    os.mkdir(os.path.join(str(tmp_path), "later"))  # made after the first walk: a second one finds it
    assert paths(os.stat(os.path.join(str(tmp_path), "later")).st_ino) == "/later"
    assert paths(0x1F) == "unreachable:1f"  # as ss prints an id it cannot find


def test_no_cgroup2_mount_prints_unreachable() -> None:
    paths = CgroupPaths(procnet.ProcFS())
    paths._mountinfo = lambda: "30 23 0:26 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"  # type: ignore[method-assign]
    assert paths(1) == "unreachable:1"


# -- live: byte for byte with ss -e ---------------------------------------------------------------


def _cgroup_mount() -> Optional[str]:
    with open("/proc/self/mountinfo") as f:
        return cgroup2_mount(f.read())


@pytest.mark.live
@pytest.mark.skipif(SS is None, reason="needs iproute2's ss")
def test_extended_rows_print_cgroup_and_v6only_where_ss_does() -> None:
    socks: List[socket.socket] = []
    try:
        for family, kind, addr, v6only in ((socket.AF_INET6, socket.SOCK_STREAM, "::", 1),
                                           (socket.AF_INET6, socket.SOCK_STREAM, "::", 0),
                                           (socket.AF_INET6, socket.SOCK_DGRAM, "::1", None),
                                           (socket.AF_INET, socket.SOCK_STREAM, "127.0.0.1", None)):
            s = socket.socket(family, kind)
            socks.append(s)
            if v6only is not None:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
            s.bind((addr, 0))
            if kind == socket.SOCK_STREAM:
                s.listen(1)
        client = socket.create_connection(("127.0.0.1", socks[3].getsockname()[1]))
        socks.append(client)
        expr = " or ".join("sport = :%d" % s.getsockname()[1] for s in socks[:4])
        expr += " or dport = :%d" % socks[3].getsockname()[1]
        rc, ours, err = run_ss("-Htuane", expr)
        theirs = real_ss("-Htuane", expr)
        assert rc == 0, err
        assert sorted(ours.splitlines()) == sorted(theirs.splitlines())
        assert ours.count(" v6only:1 ") >= 2 and ours.count(" v6only:0 ") >= 1  # the UDP ::1 is v6-only
        if _cgroup_mount() is not None:
            # every full socket has one (a port of ours may be another's too: >=)
            assert all(" cgroup:" in line for line in ours.splitlines()) and len(ours.splitlines()) >= 6
    finally:
        for s in socks:
            s.close()


def _child_cgroup() -> Optional[str]:
    mount = _cgroup_mount()
    if mount is None or os.geteuid() != 0 or SS is None:
        return None
    path = os.path.join(mount, "procnet-test-%d" % os.getpid())
    try:
        os.mkdir(path)
    except OSError:
        return None
    return path


@pytest.mark.live
def test_a_socket_made_in_a_child_cgroup_prints_that_cgroup() -> None:
    cgroup = _child_cgroup()
    if cgroup is None:
        pytest.skip("needs root, a writable cgroup2 mount and iproute2's ss")
    code = ("import socket, sys, time; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1); "
            "print(s.getsockname()[1], flush=True); sys.stdin.read()")
    child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                             preexec_fn=lambda: open(os.path.join(cgroup, "cgroup.procs"), "w").write("0"))
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        rc, ours, err = run_ss("-Htlnep", "sport = :%d" % port)
        assert rc == 0, err
        assert ours == real_ss("-Htlnep", "sport = :%d" % port)
        assert " cgroup:/%s " % os.path.basename(cgroup) in ours
        # the owner's own cgroup, with details
        (rec,) = procnet.listening("tcp", port=port, details=True)
        (owner,) = [o for o in rec.owners if o.pid == child.pid]
        assert owner.cgroup == owner.process.cgroup == "/" + os.path.basename(cgroup)  # type: ignore[union-attr]
    finally:
        child.kill()
        child.wait()
        for _ in range(50):
            try:
                os.rmdir(cgroup)
                break
            except OSError:
                time.sleep(0.05)


# -- the owners' cgroup ----------------------------------------------------------------------------


@pytest.mark.parametrize("data, path", [
    (b"", None),
    (b"4:memory:/x\n1:cpu:/\n", None),  # cgroup v1 only: not reported
    (b"0::/\n", "/"),
    (b"9:name=systemd:/\n4:memory:/docker/abc\n0::/system.slice/docker-abc.scope\n", "/system.slice/docker-abc.scope"),
    (b"0::/a b\r\x1bc\n", "/a b\r\x1bc"),  # a cgroup name may hold any byte but / and NUL
    (b"0::/\xff\n", "/\udcff"),  # not UTF-8: kept as a surrogate escape, as paths are
    (b"0::/x (deleted)\n", "/x (deleted)"),
])
def test_owner_cgroup_is_the_v2_line(data: bytes, path: Optional[str]) -> None:
    assert parse_cgroup(data) == path


@settings(max_examples=200)
@given(st.lists(st.binary().filter(lambda b: b"\n" not in b and not b.startswith(b"0::")), max_size=5),
       st.binary().filter(lambda b: b"\n" not in b), st.booleans())
def test_the_v2_line_is_found_among_any_others(v1: List[bytes], v2: bytes, newline: bool) -> None:
    data = b"\n".join(v1 + [b"0::" + v2]) + (b"\n" if newline else b"")
    assert parse_cgroup(data) == os.fsdecode(v2)
    assert parse_cgroup(b"\n".join(v1)) is None


def _v2_line() -> Optional[str]:
    with open("/proc/self/cgroup", "rb") as f:
        return parse_cgroup(f.read())


@pytest.mark.live
def test_owners_carry_their_cgroup_with_details_only() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    try:
        port = listener.getsockname()[1]
        (plain,) = procnet.listening("tcp", port=port)
        (detailed,) = procnet.listening("tcp", port=port, details=True)
        mine = [o for o in detailed.owners if o.pid == os.getpid()]
        assert mine and all(o.cgroup == _v2_line() for o in mine)
        assert all(o.cgroup is None for o in plain.owners)  # one file more per process: not by default
        rc, out, err = run_ss("-tlnp", "--json", "sport = :%d" % port)
        assert rc == 0, err
        (obj,) = [json.loads(line) for line in out.splitlines()]
        owners: List[Dict[str, Any]] = obj["owners"]
        assert any(w["pid"] == os.getpid() and w["process"]["cgroup"] == _v2_line() for w in owners)
        assert "cgroup_id" in obj
    finally:
        listener.close()
