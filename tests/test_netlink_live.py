"""Both sources agree: sock_diag netlink and the /proc text tables, on sockets this test opens.

Everything stays on loopback (127.0.0.1, ::1) and in a temporary directory or the abstract
unix namespace; only this test's own sockets (by inode) are compared, so whatever else
runs on the machine does not matter. Skipped where netlink cannot be used.

Run as a program to capture the live fixtures in fixtures/netlink/ (kernel reply bytes,
filtered to this program's sockets, beside what /proc showed for them):
``python tests/test_netlink_live.py``.
"""

from __future__ import annotations

import ipaddress
import json
import os
import platform
import socket
import struct
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Set, Tuple

import pytest

from procnet._netlink import available, dump_inet, dump_unix, iter_inet
from procnet._parse import parse_inet, parse_unix
from procnet._parse.netlink import (
    NLMSG_DONE,
    NLMSG_ERROR,
    NetlinkUnavailable,
    inet_request,
    iter_messages,
    unix_request,
)
from procnet._records import Endpoint, InetSocket, TcpState, Timer, UnixFlag, UnixSocket

pytestmark = pytest.mark.live

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "netlink"
IPPROTO_UDPLITE = 136


def _inode(s: socket.socket) -> int:
    return os.fstat(s.fileno()).st_ino


class Population:
    """Sockets in known states, opened on loopback and in a temporary directory."""

    def __init__(self, tmp: str) -> None:
        self.tmp = tmp
        self.sockets: List[socket.socket] = []
        self.notes: Dict[int, str] = {}
        self.has_ipv6 = socket.has_ipv6
        self._open_tcp(socket.AF_INET, "127.0.0.1")
        if self.has_ipv6:
            try:
                self._open_tcp(socket.AF_INET6, "::1")
            except OSError:
                self.has_ipv6 = False
        self._open_udp(socket.AF_INET, "127.0.0.1", socket.IPPROTO_UDP)
        if self.has_ipv6:
            self._open_udp(socket.AF_INET6, "::1", socket.IPPROTO_UDP)
        self.has_udplite = True
        try:
            self._open_udp(socket.AF_INET, "127.0.0.1", IPPROTO_UDPLITE)
        except OSError:
            self.has_udplite = False
        self._open_unix()
        time.sleep(0.2)  # let loopback ACKs land: queues are then stable

    def keep(self, s: socket.socket, note: str) -> socket.socket:
        self.sockets.append(s)
        self.notes[_inode(s)] = note
        return s

    def _open_tcp(self, family: int, host: str) -> None:
        tag = "tcp6" if family == socket.AF_INET6 else "tcp"
        listener = self.keep(socket.socket(family, socket.SOCK_STREAM), tag + " listener")
        listener.bind((host, 0))
        listener.listen(7)
        addr = listener.getsockname()[:2]
        # two connections left in the accept queue: the listener's rx_queue is 2
        for i in range(2):
            self.keep(socket.create_connection(addr), tag + " pending client %d" % i)
        client = self.keep(socket.create_connection(addr), tag + " client")
        # accept() takes the oldest first: skip the two pending ones by accepting three
        accepted = [listener.accept()[0] for _ in range(3)]
        server = accepted[-1]
        for s in accepted[:2]:
            self.sockets.append(s)  # accepted now: they have files, but note only the pair
        self.keep(server, tag + " server with 1000 unread bytes")
        client.sendall(b"x" * 1000)
        # a connection whose peer closed its writing side: CLOSE_WAIT, FIN counted in rx
        closing = self.keep(socket.create_connection(addr), tag + " half-closed client")
        half = self.keep(listener.accept()[0], tag + " CLOSE_WAIT server")
        closing.shutdown(socket.SHUT_WR)
        del half
        # put two more connections in the accept queue again
        for i in range(2):
            self.keep(socket.create_connection(addr), tag + " pending client %d" % (i + 2))
        self.addr = addr

    def _open_udp(self, family: int, host: str, proto: int) -> None:
        tag = {socket.IPPROTO_UDP: "udp", IPPROTO_UDPLITE: "udplite"}[proto]
        bound = socket.socket(family, socket.SOCK_DGRAM, proto)
        bound.bind((host, 0))
        self.keep(bound, tag + " bound")
        sender = self.keep(socket.socket(family, socket.SOCK_DGRAM, proto), tag + " connected")
        sender.connect(bound.getsockname()[:2])
        sender.send(b"datagram one")
        sender.send(b"datagram two")

    def _open_unix(self) -> None:
        path = os.path.join(self.tmp, "dir with space", "lis ten.sock")
        os.mkdir(os.path.dirname(path))
        listener = self.keep(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM), "unix listener")
        listener.bind(path)
        listener.listen(5)
        self.unix_path = path
        pending = self.keep(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM), "unix pending client")
        pending.connect(path)
        self.unix_pending = _inode(pending)
        abstract = self.keep(socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM), "unix abstract")
        self.abstract_name = b"\0procnet\0test %d" % os.getpid()
        abstract.bind(self.abstract_name)
        a, b = socket.socketpair()
        self.keep(a, "unix socketpair a")
        self.keep(b, "unix socketpair b")
        self.pair = (_inode(a), _inode(b))
        dgram_path = os.path.join(self.tmp, "dg.sock")
        dgram = self.keep(socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM), "unix dgram bound")
        dgram.bind(dgram_path)
        self.keep(socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET), "unix unbound seqpacket")

    def inodes(self) -> Set[int]:
        return set(self.notes)

    def close(self) -> None:
        for s in self.sockets:
            s.close()


@pytest.fixture(scope="module")
def population() -> Iterator[Population]:
    if not sys.platform.startswith("linux"):
        pytest.skip("sock_diag is Linux only")
    if not available():
        pytest.skip("sock_diag netlink is not available here")
    with tempfile.TemporaryDirectory() as tmp:
        pop = Population(tmp)
        try:
            yield pop
        finally:
            pop.close()


def _proc_table(table: str) -> bytes:
    with open("/proc/net/" + table, "rb") as f:
        return f.read()


def _mine(records: Any, inodes: Set[int]) -> Dict[int, Any]:
    return {r.inode: r for r in records if r.inode in inodes}


INET_TABLES = [
    ("tcp", socket.AF_INET, "tcp"),
    ("tcp", socket.AF_INET6, "tcp6"),
    ("udp", socket.AF_INET, "udp"),
    ("udp", socket.AF_INET6, "udp6"),
    ("udplite", socket.AF_INET, "udplite"),
]


@pytest.mark.parametrize("proto, family, table", INET_TABLES)
def test_inet_sockets_agree_with_proc(population: Population, proto: str, family: int, table: str) -> None:
    if family == socket.AF_INET6 and not population.has_ipv6:
        pytest.skip("no IPv6 loopback")
    if proto == "udplite" and not population.has_udplite:
        pytest.skip("no UDP-Lite")
    try:
        netlink = _mine(dump_inet(proto, family), population.inodes())
    except NetlinkUnavailable as exc:
        pytest.skip("sock_diag has no %s here: %s" % (table, exc))
    text = _mine(parse_inet(_proc_table(table), table), population.inodes())
    assert netlink, "none of this test's %s sockets came back from netlink" % table
    assert set(netlink) == set(text)
    for inode, n in netlink.items():
        t = text[inode]
        note = population.notes[inode]
        assert (n.proto, n.family) == (t.proto, t.family), note
        assert (n.local, n.remote) == (t.local, t.remote), note
        assert n.state is t.state, note
        assert (n.rx_queue, n.tx_queue) == (t.rx_queue, t.tx_queue), note
        assert (n.uid, n.timer) == (t.uid, t.timer), note
        # what netlink carries equals the text; what it does not is None (a listener's
        # tcp_info has neither counter, and no timer runs on it)
        assert n.retransmits in (None, t.retransmits) and n.probes in (None, t.probes), note
        if proto == "tcp" and n.state is TcpState.LISTEN:
            assert (n.retransmits, n.probes) == (None, None), note
        elif proto == "tcp":
            assert (n.retransmits, n.probes) == (t.retransmits, t.probes), note  # from tcp_info
        assert n.drops == t.drops, note
        if proto == "tcp":
            assert n.cwnd == t.cwnd, note
            if n.state is not TcpState.LISTEN:
                assert (n.rto, n.ssthresh) == (t.rto, t.ssthresh), note
            assert n.tcp_info is not None and n.shutdown is not None


@pytest.mark.parametrize("proto, family, table", INET_TABLES)
def test_netlink_has_the_cookie_and_not_the_text_only_fields(
    population: Population, proto: str, family: int, table: str
) -> None:
    """Issue 12: sock_diag has no refcount, pointer nor row number (None, not 0), and the
    socket cookie in a field of its own; the text has those and no cookie."""
    if family == socket.AF_INET6 and not population.has_ipv6:
        pytest.skip("no IPv6 loopback")
    if proto == "udplite" and not population.has_udplite:
        pytest.skip("no UDP-Lite")
    try:
        netlink = _mine(dump_inet(proto, family, tcp_info=False), population.inodes())
    except NetlinkUnavailable as exc:
        pytest.skip("sock_diag has no %s here: %s" % (table, exc))
    text = _mine(parse_inet(_proc_table(table), table), population.inodes())
    assert netlink and set(netlink) == set(text)
    for inode, n in netlink.items():
        t = text[inode]
        note = population.notes[inode]
        assert (n.refcount, n.pointer, n.slot) == (None, None, None), note
        assert isinstance(n.cookie, int) and 0 <= n.cookie < 2**64, note
        assert isinstance(t.refcount, int) and t.refcount >= 1, note  # full sockets: held
        assert isinstance(t.pointer, str) and isinstance(t.slot, int) and t.cookie is None, note
        if proto == "tcp" and n.timer is Timer.NONE:
            # no tcp_info asked for, no timer running: neither counter was sent
            assert (n.retransmits, n.probes) == (None, None), note
    assert len({n.cookie for n in netlink.values()}) == len(netlink)  # one id per socket
    # the cookie is stable: the kernel gives the same one again
    again = _mine(dump_inet(proto, family, tcp_info=False), set(netlink))
    assert {i: r.cookie for i, r in again.items()} == {i: r.cookie for i, r in netlink.items()}


def test_unix_netlink_has_the_cookie_and_not_the_text_only_fields(population: Population) -> None:
    netlink = _mine(dump_unix(), population.inodes())
    text = _mine(parse_unix(_proc_table("unix")), population.inodes())
    assert netlink and set(netlink) == set(text)
    for inode, n in netlink.items():
        t = text[inode]
        note = population.notes[inode]
        assert (n.refcount, n.pointer) == (None, None), note
        assert isinstance(n.cookie, int), note
        assert isinstance(t.refcount, int) and t.refcount >= 1 and isinstance(t.pointer, str), note
        assert t.cookie is None and n.protocol == t.protocol == 0, note
    assert len({n.cookie for n in netlink.values()}) == len(netlink)


def _ss_cookies(args: List[str]) -> Dict[int, int]:
    """inode -> the ``sk:`` iproute2's ss -e prints (the socket cookie, in hex)."""
    import re
    import shutil
    import subprocess

    ss = shutil.which("ss")
    if ss is None:
        pytest.skip("iproute2's ss is not installed")
    out = subprocess.run([ss, *args], stdout=subprocess.PIPE, text=True, timeout=20, check=True).stdout
    return {int(i): int(sk, 16) for i, sk in re.findall(r" ino:(\d+) sk:([0-9a-f]+)", out)}


@pytest.mark.parametrize("proto, family, ss_args", [
    ("tcp", socket.AF_INET, ["-tanHe4"]),
    ("tcp", socket.AF_INET6, ["-tanHe6"]),
    ("udp", socket.AF_INET, ["-uanHe4"]),
])
def test_cookie_is_what_ss_prints_as_sk(
    population: Population, proto: str, family: int, ss_args: List[str]
) -> None:
    if family == socket.AF_INET6 and not population.has_ipv6:
        pytest.skip("no IPv6 loopback")
    mine = _mine(dump_inet(proto, family, tcp_info=False), population.inodes())
    ours = {i: r.cookie for i, r in mine.items()}
    theirs = _ss_cookies(ss_args)
    assert ours and all(ours[i] == theirs[i] for i in ours if i in theirs)
    assert len(set(ours) & set(theirs)) == len(ours)


def test_public_api_on_the_live_machine_invents_nothing(population: Population) -> None:
    """The default backend (sock_diag, no tcp_info) through procnet.sockets()."""
    import procnet

    tcp = {r.inode: r for r in procnet.sockets("tcp4", owners=False) if r.inode in population.notes}
    if not tcp or all(r.shutdown is None for r in tcp.values()):  # SHUTDOWN: sock_diag only
        pytest.skip("the default backend read the text table here")
    for r in tcp.values():
        assert (r.refcount, r.pointer, r.slot) == (None, None, None) and r.cookie is not None
    unix = {r.inode: r for r in procnet.sockets("unix", owners=False) if r.inode in population.notes}
    assert unix
    assert all(r.refcount is None and r.pointer is None and r.cookie is not None for r in unix.values())
    text = {
        r.inode: r for r in procnet.sockets("tcp4", owners=False, backend="proc") if r.inode in population.notes
    }
    assert set(text) == set(tcp)
    assert all(r.cookie is None and r.refcount is not None and r.pointer is not None for r in text.values())


def test_listener_queue_and_backlog(population: Population) -> None:
    records = _mine(dump_inet("tcp", socket.AF_INET), population.inodes())
    (listener,) = [r for r in records.values() if r.state is TcpState.LISTEN]
    assert (listener.rx_queue, listener.tx_queue, listener.listen_backlog) == (2, 0, 7)
    assert listener.tcp_info is not None and listener.tcp_info.unacked == 2
    (server,) = [
        r for r in records.values() if population.notes[r.inode] == "tcp server with 1000 unread bytes"
    ]
    assert server.rx_queue == 1000 and server.tcp_info is not None and server.tcp_info.bytes_received == 1000
    (half,) = [r for r in records.values() if population.notes[r.inode] == "tcp CLOSE_WAIT server"]
    assert half.state is TcpState.CLOSE_WAIT and half.rx_queue == 1 and half.shutdown == 1  # RCV_SHUTDOWN


def test_state_mask_is_sent_to_the_kernel(population: Population) -> None:
    listeners = dump_inet("tcp", socket.AF_INET, [TcpState.LISTEN], tcp_info=False)
    assert listeners and all(r.state is TcpState.LISTEN for r in listeners)
    assert any(population.notes.get(r.inode) == "tcp listener" for r in listeners)
    assert all(r.tcp_info is None for r in listeners)
    established = list(iter_inet("tcp", socket.AF_INET, [TcpState.ESTABLISHED]))
    assert all(r.state is TcpState.ESTABLISHED for r in established)
    mine = {population.notes[r.inode] for r in established if r.inode in population.notes}
    assert "tcp client" in mine and "tcp listener" not in mine


def test_bound_only_tcp_socket_is_asked_for_separately() -> None:
    """/proc never lists a TCP socket that is only bound; netlink does when asked (6.8+)."""
    if not available():
        pytest.skip("sock_diag netlink is not available here")
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        inode = _inode(bound)
        assert inode not in {r.inode for r in dump_inet("tcp", socket.AF_INET)}
        found = [r for r in dump_inet("tcp", socket.AF_INET, [TcpState.BOUND_INACTIVE]) if r.inode == inode]
        if not found:
            pytest.skip("this kernel has no TCPF_BOUND_INACTIVE (before 6.8)")
        (record,) = found
        assert record.state is TcpState.CLOSE and record.local == Endpoint(
            ipaddress.ip_address("127.0.0.1"), bound.getsockname()[1]
        )


def test_unix_sockets_agree_with_proc(population: Population) -> None:
    netlink = _mine(dump_unix(), population.inodes())
    text = _mine(parse_unix(_proc_table("unix")), population.inodes())
    assert (
        set(netlink)
        == set(text)
        == population.inodes() & {i for i, note in population.notes.items() if note.startswith("unix")}
    )
    for inode, n in netlink.items():
        t = text[inode]
        note = population.notes[inode]
        assert (n.type, n.state, n.status, n.flags, n.path) == (t.type, t.state, t.status, t.flags, t.path), (
            note
        )


def test_unix_details_only_netlink_has(population: Population) -> None:
    records = _mine(dump_unix(), population.inodes())
    by_note = {population.notes[i]: r for i, r in records.items()}
    listener = by_note["unix listener"]
    assert listener.path == population.unix_path
    assert (listener.rqueue, listener.wqueue) == (1, 5)
    assert listener.pending_inodes == (population.unix_pending,)
    st = os.stat(population.unix_path)
    assert (listener.vfs_inode, listener.vfs_dev) == (st.st_ino, st.st_dev)
    assert listener.uid == os.getuid()
    a, b = by_note["unix socketpair a"], by_note["unix socketpair b"]
    assert (a.peer_inode, b.peer_inode) == (b.inode, a.inode)
    abstract = by_note["unix abstract"]
    assert abstract.path == "@" + population.abstract_name[1:].replace(b"\0", b"@").decode()
    assert by_note["unix unbound seqpacket"].path is None
    assert by_note["unix unbound seqpacket"].type == socket.SOCK_SEQPACKET
    only_listeners = dump_unix([TcpState.LISTEN])
    assert only_listeners and all(r.flags == UnixFlag.ACCEPTCON for r in only_listeners)


def test_missing_diag_module_raises_netlink_unavailable() -> None:
    """raw_diag is often not built: the caller must be told, to read /proc/net/raw instead."""
    if not available():
        pytest.skip("sock_diag netlink is not available here")
    try:
        raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, 253)  # experimental protocol number
    except OSError:
        raw = None
    try:
        try:
            records = dump_inet("raw", socket.AF_INET)
        except NetlinkUnavailable as exc:
            assert exc.errno in (2, 95, 93, 97)
            return
        if raw is not None:
            (mine,) = [r for r in records if r.inode == _inode(raw)]
            text = _mine(parse_inet(_proc_table("raw"), "raw"), {mine.inode})
            assert (mine.local, mine.remote, mine.state) == (
                text[mine.inode].local,
                text[mine.inode].remote,
                text[mine.inode].state,
            )
            assert mine.local.port == 253
    finally:
        if raw is not None:
            raw.close()


# --- capture -----------------------------------------------------------------------------------


def _receive(request: bytes) -> List[bytes]:
    """The kernel's reply datagrams to one request, up to NLMSG_DONE or an error."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 4)
    sock.settimeout(10)
    try:
        sock.sendto(request, (0, 0))
        datagrams = []
        while True:
            data = sock.recv(1 << 16)
            datagrams.append(data)
            if any(m.msg_type in (NLMSG_DONE, NLMSG_ERROR) for m in iter_messages(data)):
                return datagrams
    finally:
        sock.close()


def _filtered(datagrams: List[bytes], inodes: Set[int], inode_at: int) -> bytes:
    """The reply's own message bytes, for this program's sockets and the end of the dump."""
    out = b""
    for data in datagrams:
        for m in iter_messages(data):
            length = 16 + len(m.payload)
            whole = struct.pack("=IHHII", length, m.msg_type, m.flags, m.seq, m.pid) + m.payload
            whole += bytes(-length % 4)
            if m.msg_type in (NLMSG_DONE, NLMSG_ERROR):
                out += whole
            elif (
                len(m.payload) >= inode_at + 4 and struct.unpack_from("=I", m.payload, inode_at)[0] in inodes
            ):
                out += whole
    return out


def _expect_inet(r: InetSocket) -> Dict[str, Any]:
    return {
        "local": str(r.local),
        "remote": str(r.remote),
        "state": r.state.name,
        "rx_queue": r.rx_queue,
        "tx_queue": r.tx_queue,
        "uid": r.uid,
    }


def _expect_unix(r: UnixSocket) -> Dict[str, Any]:
    return {"path": r.path, "type": int(r.type), "state": r.state.name, "status": int(r.status)}


def capture() -> None:
    """Write live-*.bin and live-*.json: kernel replies, and what /proc said at the same time."""
    FIXTURES.mkdir(parents=True, exist_ok=True)
    ticks = os.sysconf("SC_CLK_TCK")
    with tempfile.TemporaryDirectory() as tmp:
        pop = Population(tmp)
        try:
            jobs: List[Tuple[str, str, bytes, int, Callable[[], Dict[int, Dict[str, Any]]]]] = []
            for proto, family, table in INET_TABLES:
                if family == socket.AF_INET6 and not pop.has_ipv6:
                    continue

                def expected_inet(table: str = table) -> Dict[int, Dict[str, Any]]:
                    mine = _mine(parse_inet(_proc_table(table), table), pop.inodes())
                    return {i: _expect_inet(r) for i, r in mine.items()}

                jobs.append((table, proto, inet_request(proto, family), 68, expected_inet))

            def expected_unix() -> Dict[int, Dict[str, Any]]:
                mine = _mine(parse_unix(_proc_table("unix")), pop.inodes())
                return {i: _expect_unix(r) for i, r in mine.items()}

            jobs.append(("unix", "unix", unix_request(), 4, expected_unix))
            for table, proto, request, inode_at, expected in jobs:
                reply = _filtered(_receive(request), pop.inodes(), inode_at)
                sockets = expected()
                if table.startswith("tcp"):
                    for want in sockets.values():
                        if want["state"] == "LISTEN":
                            want["listen_backlog"] = 7
                meta = {
                    "proto": proto,
                    "table": table,
                    "kernel": platform.release(),
                    "byteorder": sys.byteorder,
                    "ticks_per_second": ticks,
                    "what": "sock_diag reply captured live, kept only for the sockets "
                    "tests/test_netlink_live.py opens; 'sockets' is what /proc/net/%s showed" % table,
                    "sockets": {str(i): v for i, v in sorted(sockets.items())},
                }
                (FIXTURES / ("live-%s.bin" % table)).write_bytes(reply)
                (FIXTURES / ("live-%s.json" % table)).write_text(
                    json.dumps(meta, indent=1, sort_keys=True) + "\n"
                )
                print("live-%s: %d bytes, %d sockets" % (table, len(reply), len(sockets)), file=sys.stderr)
            # a protocol the kernel cannot dump (raw_diag not built here): the reply as it comes
            # (kept: only the end of the dump or the error, never other programs' sockets)
            raw_reply = _filtered(_receive(inet_request("raw", socket.AF_INET)), set(), 68)
            (FIXTURES / "live-raw-reply.bin").write_bytes(raw_reply)
        finally:
            pop.close()


if __name__ == "__main__":
    capture()
