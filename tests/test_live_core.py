"""Live: sockets of every kind opened on loopback are found in /proc with the right fields.

The inode of each record must be ``os.fstat(sock.fileno()).st_ino`` of the socket we hold.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import tempfile
from typing import Any, Dict, Iterator, List

import pytest

import procnet
from procnet import InetSocket, TcpState, UnixSocket

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="needs a Linux /proc"),
]


def inode(sock: socket.socket) -> int:
    return os.fstat(sock.fileno()).st_ino


def find(proto: str, sock: socket.socket) -> Any:
    """The one record of ``sock`` in the live tables."""
    recs = procnet.sockets(proto, inode=inode(sock), owners=False, backend="proc")
    assert len(recs) == 1, recs
    return recs[0]


@pytest.fixture
def opened() -> Iterator[List[socket.socket]]:
    socks: List[socket.socket] = []
    yield socks
    for s in socks:
        s.close()


def _ip(text: str) -> Any:
    return ipaddress.ip_address(text)


@pytest.mark.parametrize("family, host, table", [(socket.AF_INET, "127.0.0.1", "tcp4"), (socket.AF_INET6, "::1", "tcp6")])
def test_tcp_listening_and_connected(opened: List[socket.socket], family: int, host: str, table: str) -> None:
    if family == socket.AF_INET6 and not socket.has_ipv6:
        pytest.skip("no IPv6")
    lis = socket.socket(family, socket.SOCK_STREAM)
    opened.append(lis)
    lis.bind((host, 0))
    lis.listen(4)
    port = lis.getsockname()[1]
    cli = socket.create_connection((host, port))
    opened.append(cli)
    srv, _ = lis.accept()
    opened.append(srv)
    cli.sendall(b"z" * 123)

    rec = find(table, lis)
    assert isinstance(rec, InetSocket) and rec.proto == "tcp" and rec.family == family
    assert rec.state is TcpState.LISTEN and rec.is_listening
    assert (rec.local.ip, rec.local.port) == (_ip(host), port)
    assert rec.remote.is_unspecified and rec.remote.port == 0
    assert rec.uid == os.geteuid() and rec.fastopen_max_qlen is not None and rec.ssthresh is None

    c = find(table, cli)
    assert c.state is TcpState.ESTABLISHED
    assert (c.local.ip, c.local.port) == (_ip(host), cli.getsockname()[1])
    assert (c.remote.ip, c.remote.port) == (_ip(host), port)
    assert c.rto is not None and c.cwnd is not None and c.cwnd > 0

    s = find(table, srv)
    assert (s.local.port, s.remote.port) == (port, cli.getsockname()[1])
    assert s.state is TcpState.ESTABLISHED and s.rx_queue == 123  # unread bytes


def test_tcp_dual_stack_listener_sees_ipv4_as_mapped(opened: List[socket.socket]) -> None:
    lis = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    opened.append(lis)
    lis.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    lis.bind(("::", 0))
    lis.listen(1)
    cli = socket.create_connection(("127.0.0.1", lis.getsockname()[1]))
    opened.append(cli)
    srv, _ = lis.accept()
    opened.append(srv)
    rec = find("tcp6", srv)
    assert rec.local.ip == _ip("::ffff:127.0.0.1") and rec.local.unmapped_ip == _ip("127.0.0.1")
    assert find("tcp4", cli).remote.port == lis.getsockname()[1]


@pytest.mark.parametrize("family, host, table", [(socket.AF_INET, "127.0.0.1", "udp4"), (socket.AF_INET6, "::1", "udp6")])
def test_udp_bound_and_connected(opened: List[socket.socket], family: int, host: str, table: str) -> None:
    bound = socket.socket(family, socket.SOCK_DGRAM)
    opened.append(bound)
    bound.bind((host, 0))
    conn = socket.socket(family, socket.SOCK_DGRAM)
    opened.append(conn)
    conn.connect(bound.getsockname()[:2])
    conn.send(b"q" * 100)

    b = find(table, bound)
    assert b.proto == "udp" and b.state is TcpState.CLOSE and b.state.ss_name == "UNCONN"
    assert (b.local.ip, b.local.port) == (_ip(host), bound.getsockname()[1])
    assert b.rx_queue > 0 and b.drops == 0 and b.type == socket.SOCK_DGRAM  # memory of one datagram

    c = find(table, conn)
    assert c.state is TcpState.ESTABLISHED
    assert (c.remote.ip, c.remote.port) == (_ip(host), bound.getsockname()[1])
    assert c.local.port == conn.getsockname()[1]


def _unix(kind: int, opened: List[socket.socket]) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, kind)
    opened.append(s)
    return s


def test_unix_stream_dgram_seqpacket_spaces_and_abstract(opened: List[socket.socket]) -> None:
    with tempfile.TemporaryDirectory(prefix="procnet live ") as tmp:
        spaced = os.path.join(tmp, "dir with space", " lis ten.sock")
        os.mkdir(os.path.dirname(spaced))
        lis = _unix(socket.SOCK_STREAM, opened)
        lis.bind(spaced)
        lis.listen(2)
        cli = _unix(socket.SOCK_STREAM, opened)
        cli.connect(spaced)
        srv, _ = lis.accept()
        opened.append(srv)
        dgram = _unix(socket.SOCK_DGRAM, opened)
        dgram.bind(os.path.join(tmp, "dg.sock"))
        seq = _unix(socket.SOCK_SEQPACKET, opened)
        seq.bind(os.path.join(tmp, "sp.sock"))
        seq.listen(1)
        abstract = _unix(socket.SOCK_STREAM, opened)
        abstract.bind("\0procnet live %d" % os.getpid())
        abstract.listen(1)
        newline = _unix(socket.SOCK_DGRAM, opened)
        newline.bind(os.path.join(tmp, "nl\nx.sock"))
        latin1 = _unix(socket.SOCK_DGRAM, opened)
        latin1_path = os.path.join(os.fsencode(tmp), b"caf\xe9.sock")
        latin1.bind(latin1_path)

        expect: Dict[socket.socket, Any] = {
            lis: (socket.SOCK_STREAM, TcpState.LISTEN, spaced),
            cli: (socket.SOCK_STREAM, TcpState.ESTABLISHED, None),
            srv: (socket.SOCK_STREAM, TcpState.ESTABLISHED, spaced),  # inherits the listener's name
            dgram: (socket.SOCK_DGRAM, TcpState.CLOSE, os.path.join(tmp, "dg.sock")),
            seq: (socket.SOCK_SEQPACKET, TcpState.LISTEN, os.path.join(tmp, "sp.sock")),
            abstract: (socket.SOCK_STREAM, TcpState.LISTEN, "@procnet live %d" % os.getpid()),
            newline: (socket.SOCK_DGRAM, TcpState.CLOSE, os.path.join(tmp, "nl\nx.sock")),
            latin1: (socket.SOCK_DGRAM, TcpState.CLOSE, os.fsdecode(latin1_path)),
        }
        # one read of the whole table (this machine may hold tens of thousands of unix sockets)
        everything = procnet.sockets("unix", owners=False, backend="proc")
        inodes = [r.inode for r in everything]
        found = {r.inode: r for r in everything}
        for sock, (kind, state, path) in expect.items():
            assert inodes.count(inode(sock)) == 1  # exactly once, the rest of the table intact
            rec = found[inode(sock)]
            assert isinstance(rec, UnixSocket)
            assert (rec.type, rec.state, rec.path) == (kind, state, path)
        assert os.fsencode(found[inode(latin1)].path) == latin1_path
        assert found[inode(abstract)].is_abstract


def test_parsing_the_live_tables_directly_matches_sockets() -> None:
    from procnet import parse_inet, parse_unix

    for table in ["tcp", "tcp6", "udp", "udp6", "raw", "raw6", "udplite", "udplite6", "unix"]:
        try:
            with open("/proc/net/" + table, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            continue
        recs = list(parse_unix(data)) if table == "unix" else list(parse_inet(data, table))
        assert all(r.table == table for r in recs)
