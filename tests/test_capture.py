"""Capture: the tree it writes reads back as the live answer, privately, and it refuses to overwrite.

What it refuses and how it stands up to links planted while it writes: test_capture_safety.py.
"""

from __future__ import annotations

import json
import os
import socket

import pytest

import procnet
from procnet.cli import capture as capture_cli

from test_capture_safety import assert_private


def _population():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    client = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    a, b = socket.socketpair()
    return [listener, client, server, udp, a, b]


def _view(result):
    return sorted(
        (s.table, s.inode, str(getattr(s, "local", "")), str(getattr(s, "remote", "")), s.state.name,
         tuple(sorted((o.pid, o.fd, o.mode, o.comm) for o in s.owners)))
        for s in result
    )


@pytest.mark.live
def test_capture_reads_back_as_the_live_answer(tmp_path) -> None:
    socks = _population()
    try:
        inodes = [os.fstat(s.fileno()).st_ino for s in socks]
        dest = str(tmp_path / "bundle")
        umask = os.umask(0)  # the bundle's modes must not depend on it
        try:
            manifest = procnet.capture(dest)
        finally:
            os.umask(umask)
        # every process's fd links and fdinfo, its ns link, the tables: readable by the caller alone
        dirs, files = assert_private(dest)
        assert os.path.isdir(os.path.join(dest, str(os.getpid()), "fdinfo")) and files > 5
        live = procnet.sockets("all", inode=inodes)
        captured = procnet.sockets("all", inode=inodes, root=dest)
        assert len(live) == len(socks)
        assert _view(captured) == _view(live)
        assert all(any(o.pid == os.getpid() for o in s.owners) for s in captured)
        assert manifest["byteorder"] in ("little", "big")
        assert manifest["kernel"] == os.uname().release
        assert set(manifest["tables"]) >= {"tcp", "udp", "unix"}
        on_disk = json.load(open(os.path.join(dest, "procnet-manifest.json")))
        assert on_disk["netns"] == manifest["netns"] and on_disk["netns"] == captured[0].netns
        # fd links are ordinary symlinks: the mode comes from the captured fdinfo.
        fd = socks[0].fileno()
        assert os.readlink(os.path.join(dest, str(os.getpid()), "fd", str(fd))) == "socket:[%d]" % inodes[0]
        assert captured.report is not None and captured.report.denied == live.report.denied
    finally:
        for s in socks:
            s.close()


@pytest.mark.live
def test_capture_all_namespaces_records_each(tmp_path) -> None:
    dest = str(tmp_path / "all")
    manifest = procnet.capture(dest, netns="all")
    assert manifest["namespaces"], "every namespace with a readable member is captured"
    for ns, info in manifest["namespaces"].items():
        assert os.path.exists(os.path.join(dest, str(info["pid"]), "net", "tcp"))
    result = procnet.sockets("tcp", root=dest, netns="all", owners=False)
    assert {s.netns for s in result} <= {int(ns) for ns in manifest["namespaces"]}


def test_capture_refuses_a_non_empty_directory(tmp_path) -> None:
    (tmp_path / "x").write_text("keep me")
    with pytest.raises(procnet.CaptureError):
        procnet.capture(str(tmp_path))
    assert (tmp_path / "x").read_text() == "keep me"


@pytest.mark.live
def test_capture_command_line_prints_a_summary(tmp_path, capsys) -> None:
    dest = str(tmp_path / "cli")
    assert capture_cli.main([dest]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["kernel"] == os.uname().release
    assert os.path.isfile(os.path.join(dest, "net", "tcp"))
    assert capture_cli.main([dest]) == 1  # not empty any more


def test_capture_of_a_fixture_is_the_fixture(tmp_path) -> None:
    root = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures", "owners-forked-listener")
    dest = str(tmp_path / "copy")
    procnet.capture(dest, root=root)
    assert _view(procnet.sockets("all", root=dest)) == _view(procnet.sockets("all", root=root))
