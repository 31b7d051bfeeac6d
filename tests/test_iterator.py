"""iter_sockets(): one record at a time, from the text and from sock_diag.

With owners, the iterator makes two passes: the first learns which inodes to look for, the
second yields. Text is read once and parsed twice; the kernel is asked twice, so that no
record is held in between. A socket that appears only in the second dump had its owners
not looked for, and says so (owners_complete=False). Sockets stay on loopback.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from typing import Any, Dict, Iterator, List

import pytest

import procnet
from procnet import _query
from procnet._owners import OwnerIndex, ScanReport
from procnet._parse.netlink import NetlinkUnavailable

pytestmark = pytest.mark.live


def _inode(s: socket.socket) -> int:
    return os.fstat(s.fileno()).st_ino


@pytest.fixture
def pair() -> Iterator[Dict[str, Any]]:
    """A listener and an established connection on 127.0.0.1, held by this process."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    client = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    try:
        yield {
            "sockets": {_inode(s): s for s in (listener, client, server)},
            "fds": {_inode(s): s.fileno() for s in (listener, client, server)},
        }
    finally:
        for s in (server, client, listener):
            s.close()


def _netlink_or_skip() -> None:
    try:
        procnet.sockets("tcp", backend="netlink", owners=False, state="listening")
    except (NetlinkUnavailable, ValueError) as exc:
        pytest.skip("sock_diag not usable here: %s" % exc)


@pytest.mark.parametrize("backend", ["proc", "netlink"])
def test_iterator_gives_the_lists_owners(pair: Dict[str, Any], backend: str) -> None:
    if backend == "netlink":
        _netlink_or_skip()
    mine = set(pair["fds"])
    listed = {s.inode: s for s in procnet.sockets("tcp", backend=backend) if s.inode in mine}
    it = procnet.iter_sockets("tcp", backend=backend)
    iterated = {s.inode: s for s in it if s.inode in mine}
    assert set(listed) == set(iterated) == mine
    for inode, rec in iterated.items():
        assert [(o.pid, o.fd) for o in rec.owners] == [(os.getpid(), pair["fds"][inode])]
        assert rec.owners == listed[inode].owners
        assert rec.owners_complete == listed[inode].owners_complete
        assert (rec.local, rec.remote, rec.state) == (listed[inode].local, listed[inode].remote, listed[inode].state)
    assert it.report is not None and os.getpid() not in it.report.denied


def _copies(records: List[procnet.InetSocket]) -> Iterator[procnet.InetSocket]:
    return iter([dataclasses.replace(r) for r in records])


def test_netlink_iterator_asks_twice_and_flags_sockets_born_in_between(
    pair: Dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    _netlink_or_skip()
    mine = set(pair["fds"])
    recs = sorted(
        (s for s in procnet.sockets("tcp", backend="proc", owners=False) if s.inode in mine), key=lambda s: s.inode
    )
    first, later = recs[:2], recs[2]
    calls: List[str] = []

    def stream(self: Any, table: str) -> Iterator[procnet.InetSocket]:
        calls.append(table)
        if table != "tcp":
            return iter(())
        # the second dump also shows a socket the first did not
        return _copies(first if calls.count("tcp") == 1 else first + [later])

    monkeypatch.setattr(_query.Query, "_netlink_stream", stream)
    scan = _query.Query._scan

    def complete_scan(self: Any, inodes: Any) -> Any:
        # As if every process could be read (on some machines pid 1's descriptors cannot):
        # then only the socket born between the dumps is incomplete.
        index = scan(self, inodes)
        return OwnerIndex(index.owners, ScanReport(index.report.scanned))

    monkeypatch.setattr(_query.Query, "_scan", complete_scan)
    it = procnet.iter_sockets("tcp4", backend="netlink")
    out = {s.inode: s for s in it}
    assert calls == ["tcp", "tcp"]  # asked twice, nothing held in between
    assert it.report is not None
    for rec in first:
        assert [(o.pid, o.fd) for o in out[rec.inode].owners] == [(os.getpid(), pair["fds"][rec.inode])]
        assert out[rec.inode].owners_complete is True
    born = out[later.inode]
    assert born.owners == () and born.owners_complete is False


def test_a_table_the_kernel_cannot_dump_is_read_as_text(pair: Dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    _netlink_or_skip()

    def stream(self: Any, table: str) -> Iterator[procnet.InetSocket]:
        raise NetlinkUnavailable(2, "no diag module for %s (test)" % table)

    monkeypatch.setattr(_query.Query, "_netlink_stream", stream)
    mine = set(pair["fds"])
    out = {s.inode: s for s in procnet.iter_sockets("tcp4", backend="netlink") if s.inode in mine}
    assert set(out) == mine
    assert all(s.owners and s.owners[0].pid == os.getpid() for s in out.values())


def test_unix_iterator_holds_the_tables_text_plus_a_constant(tmp_path: Any) -> None:
    # Not live: a proc tree with a 20,000-row net/unix (net/unix/af_unix.c unix_seq_show
    # format; embryos, inode 0, so that no memory of recent inodes builds up). Before the
    # parser streamed, the first record came after a tuple per row: about ten times the
    # table. Now the query holds the table as read (bytes and text: at most three times its
    # size, less where the read path keeps one copy) and the parser a bounded slice of rows.
    import tracemalloc

    if tracemalloc.is_tracing():
        pytest.skip("tracemalloc is already tracing in this process")
    rows = 20_000
    (tmp_path / "net").mkdir()
    text = "Num       RefCount Protocol Flags    Type St Inode Path\n" + "".join(
        "%016x: 00000003 00000000 00000000 0001 02     0 /run/app/worker.sock\n" % i for i in range(rows))
    (tmp_path / "net" / "unix").write_bytes(text.encode())
    it = procnet.iter_sockets("unix", root=str(tmp_path), owners=False)
    tracemalloc.start()
    try:
        first = next(it)
        at_first = tracemalloc.get_traced_memory()[1]
        count = 1 + sum(1 for _ in it)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (first.path, count) == ("/run/app/worker.sock", rows)
    bound = 3 * len(text) + (1 << 20)
    assert at_first < bound, "the first record came after %.1f times the table" % (at_first / len(text))
    assert peak < bound, "iterating peaked at %.1f times the table" % (peak / len(text))
