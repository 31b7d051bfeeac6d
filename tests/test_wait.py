"""wait_listening(): waits for a listener without connecting, on loopback, in fixture trees,
and the inet_diag bytecode it asks the kernel to run (procnet/_parse/diag_filter.py).

Live tests open their own sockets on loopback (or in the abstract unix namespace / a
temporary directory) and start listening from a timer thread after a short delay. Every
wait has a timeout, so a failure is a failure, never a hang.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
import threading
import time
import uuid
from typing import Any, Callable, Iterator, List, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import fixture_dir
from procnet import NetlinkUnavailable, ParseError, TcpState
from procnet._netlink import available
from procnet._parse import diag_filter as bc
from procnet._parse.netlink import NLMSG_DONE, inet_request
from procnet._wait import _is_empty, _Target, wait_listening

LIMIT = 30.0  # seconds: the bound of every live wait that is expected to succeed (the text
# tables of a loaded machine, 40,000 sockets from other programs, take a second a look)
DELAY = 0.15  # seconds before a timer thread makes the socket listen
BACKENDS = ["auto", "proc"]


@pytest.fixture
def later() -> Iterator[Callable[[Callable[[], Any]], None]]:
    """Run a function after DELAY in a timer thread (joined at the end of the test)."""
    timers: List[threading.Timer] = []

    def start(action: Callable[[], Any]) -> None:
        timer = threading.Timer(DELAY, action)
        timers.append(timer)
        timer.start()

    yield start
    for timer in timers:
        timer.cancel()
        timer.join()


@pytest.fixture
def sockets() -> Iterator[List[socket.socket]]:
    opened: List[socket.socket] = []
    yield opened
    for s in opened:
        s.close()


def _bound(opened: List[socket.socket], family: int = socket.AF_INET, kind: int = socket.SOCK_STREAM,
           address: str = "127.0.0.1", port: int = 0) -> Tuple[socket.socket, int]:
    s = socket.socket(family, kind)
    opened.append(s)
    s.bind((address, port))
    return s, s.getsockname()[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _mine(rec: Any, s: socket.socket) -> bool:
    return any(o.pid == os.getpid() and o.fd == s.fileno() for o in rec.owners)


# -- live: TCP, UDP, unix, abstract ---------------------------------------------------------
@pytest.mark.live
@pytest.mark.parametrize("backend", BACKENDS)
def test_returns_a_tcp_listener_started_later_with_its_owner(backend: str, later: Any, sockets: Any) -> None:
    s, port = _bound(sockets)
    later(lambda: s.listen(8))
    start = time.monotonic()
    rec = wait_listening(port, timeout=LIMIT, backend=backend)
    took = time.monotonic() - start
    assert DELAY * 0.9 <= took < LIMIT
    assert (rec.proto, rec.state, rec.local.port, str(rec.local.ip)) == ("tcp", TcpState.LISTEN, port, "127.0.0.1")
    assert _mine(rec, s) and rec.owners_complete is not None


@pytest.mark.live
def test_never_connects_to_what_it_waits_for(sockets: Any) -> None:
    s, port = _bound(sockets)
    s.listen(8)
    wait_listening(port, timeout=LIMIT)
    wait_listening(port, timeout=LIMIT, backend="proc")
    s.setblocking(False)
    with pytest.raises(BlockingIOError):
        s.accept()  # nothing in the accept queue: no connection was made


@pytest.mark.live
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_bound_socket_that_does_not_listen_is_not_waited_for(backend: str, sockets: Any) -> None:
    s, port = _bound(sockets)
    start = time.monotonic()
    with pytest.raises(TimeoutError, match="no tcp socket listening on port %d within 0.2 s" % port):
        wait_listening(port, timeout=0.2, backend=backend)
    assert 0.2 <= time.monotonic() - start < 0.2 + LIMIT
    s.listen(1)
    assert wait_listening(port, timeout=0, backend=backend).inode == os.fstat(s.fileno()).st_ino


@pytest.mark.live
def test_timeout_zero_looks_once() -> None:
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        wait_listening(_free_port(), timeout=0)
    assert time.monotonic() - start < 1.0


@pytest.mark.live
@pytest.mark.parametrize("backend", BACKENDS)
def test_udp_waits_for_a_bound_unconnected_socket(backend: str, later: Any, sockets: Any) -> None:
    port = _free_port()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sockets.append(u)
    later(lambda: u.bind(("127.0.0.1", port)))
    rec = wait_listening(port, proto="udp", timeout=LIMIT, backend=backend)
    assert (rec.proto, rec.state, rec.local.port) == ("udp", TcpState.CLOSE, port) and _mine(rec, u)
    with pytest.raises(TimeoutError):
        wait_listening(port, timeout=0, backend=backend)  # proto="tcp": a UDP socket is not a TCP listener


@pytest.mark.live
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_connected_udp_socket_does_not_count(backend: str, sockets: Any) -> None:
    u, port = _bound(sockets, kind=socket.SOCK_DGRAM)
    u.connect(("127.0.0.1", 9))
    with pytest.raises(TimeoutError):
        wait_listening(port, proto="udp", timeout=0.05, backend=backend)


@pytest.mark.live
@pytest.mark.parametrize("backend", BACKENDS)
def test_tcp6_listener(backend: str, sockets: Any) -> None:
    try:
        s, port = _bound(sockets, socket.AF_INET6, address="::1")
    except OSError:
        pytest.skip("no IPv6 loopback")
    s.listen(1)
    rec = wait_listening(port, timeout=LIMIT, backend=backend)
    assert (rec.proto, str(rec.local.ip)) == ("tcp", "::1") and _mine(rec, s)
    assert wait_listening(port, proto="tcp6", address="::1", timeout=0, backend=backend).inode == rec.inode
    with pytest.raises(TimeoutError):
        wait_listening(port, proto="tcp4", timeout=0, backend=backend)


@pytest.mark.live
@pytest.mark.parametrize("backend", BACKENDS)
def test_unix_path_listener(backend: str, later: Any, sockets: Any, tmp_path: Any) -> None:
    path = str(tmp_path / "server.sock")
    x = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sockets.append(x)
    x.bind(path)
    later(lambda: x.listen(1))
    rec = wait_listening(path=path, timeout=LIMIT, backend=backend)
    assert (rec.path, rec.state) == (path, TcpState.LISTEN) and _mine(rec, x)
    with pytest.raises(TimeoutError, match="no unix socket listening on %s/other.sock" % tmp_path):
        wait_listening(path=str(tmp_path / "other.sock"), timeout=0, backend=backend)


@pytest.mark.live
def test_a_relative_path_matches_the_absolute_name_from_here(sockets: Any, tmp_path: Any, monkeypatch: Any) -> None:
    x = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sockets.append(x)
    x.bind(str(tmp_path / "rel.sock"))
    x.listen(1)
    monkeypatch.chdir(tmp_path)
    assert wait_listening(path="./rel.sock", timeout=LIMIT).path == str(tmp_path / "rel.sock")


@pytest.mark.live
@pytest.mark.parametrize("backend", BACKENDS)
def test_abstract_unix_listener(backend: str, later: Any, sockets: Any) -> None:
    name = "procnet-wait-test-%s" % uuid.uuid4().hex
    x = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sockets.append(x)
    x.bind("\0" + name)
    later(lambda: x.listen(1))
    rec = wait_listening(path="@" + name, timeout=LIMIT, backend=backend)
    assert (rec.path, rec.type) == ("@" + name, socket.SOCK_SEQPACKET) and _mine(rec, x)


@pytest.mark.live
@pytest.mark.parametrize("backend", BACKENDS)
def test_address_matches_the_socket_or_its_familys_wildcard(backend: str, sockets: Any) -> None:
    s, port = _bound(sockets)
    s.listen(1)
    assert wait_listening(port, address="127.0.0.1", timeout=0, backend=backend).inode == os.fstat(s.fileno()).st_ino
    assert wait_listening(port, address=["10.1.2.3", "127.0.0.0/8"], timeout=0, backend=backend)
    with pytest.raises(TimeoutError, match="no tcp socket listening on 127.0.0.2 port %d" % port):
        wait_listening(port, address="127.0.0.2", timeout=0, backend=backend)
    w, wport = _bound(sockets, address="0.0.0.0")
    w.listen(1)
    assert wait_listening(wport, address="127.0.0.2", timeout=0, backend=backend).local.ip.is_unspecified
    with pytest.raises(TimeoutError):
        wait_listening(wport, address="::1", timeout=0, backend=backend)  # an IPv4 wildcard serves no IPv6


@pytest.mark.live
def test_owners_false_skips_the_scan(sockets: Any) -> None:
    s, port = _bound(sockets)
    s.listen(1)
    assert wait_listening(port, owners=False, timeout=0).owners == ()
    assert _mine(wait_listening(port, timeout=0, details=True), s)


@pytest.mark.live
@pytest.mark.skipif(not available(), reason="sock_diag unavailable")
def test_the_kernel_runs_the_port_filter(sockets: Any) -> None:
    """The program is accepted by this kernel and lets through exactly the ports in range."""
    s, port = _bound(sockets)
    s.listen(1)
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 4) as nl:
        for low, high, sent in [(port, port, True), (port + 1, 65535, False), (0, port - 1, False),
                                (port - 1, port + 1, True), (1, 65535, True)]:
            program = bc.port_filter([bc.PortRange("local", low, high)])
            nl.sendto(bc.with_bytecode(inet_request("tcp", socket.AF_INET, [TcpState.LISTEN], tcp_info=False),
                                       program), (0, 0))
            ports = []
            while True:
                data = nl.recv(65536)
                kind = struct.unpack_from("=H", data, 4)[0]
                assert kind != 2, "NLMSG_ERROR: the kernel refused %s" % program.hex()
                if kind == NLMSG_DONE:
                    break
                pos = 0
                while pos < len(data):
                    length = struct.unpack_from("=I", data, pos)[0]
                    ports.append(struct.unpack_from(">H", data, pos + 16 + 4)[0])
                    pos += (length + 3) & ~3
            assert (port in ports) is sent and all(low <= p <= high for p in ports)


# -- fixture trees: the text tables -------------------------------------------------------------
def test_text_tables_of_a_fixture_tree_answer_with_owners() -> None:
    rec = wait_listening(8080, root=fixture_dir("owners-forked-listener"), timeout=0)
    assert (rec.inode, rec.state, sorted(o.pid for o in rec.owners)) == (5001, TcpState.LISTEN, [100, 101, 102])
    with pytest.raises(TimeoutError, match="port 8082"):
        wait_listening(8082, root=fixture_dir("owners-forked-listener"), timeout=0.02)


def test_text_tables_answer_for_unix_paths_and_abstract_names() -> None:
    root = fixture_dir("unix-paths-spaces-newline-abstract")
    assert wait_listening(path="/tmp/t/dir with space/lis ten.sock", root=root, timeout=0).inode == 1609568
    assert wait_listening(path="@abs@tract name", root=root, timeout=0).inode == 1609572
    with pytest.raises(TimeoutError):
        wait_listening(path="/tmp/t/dir with space/nl", root=root, timeout=0)  # connected, not listening


def test_an_ipv4_address_matches_its_mapped_ipv6_listener() -> None:
    root = fixture_dir("tcp6-v4-mapped")
    rec = wait_listening(0xB853, address="127.0.0.1", root=root, timeout=0)
    assert (rec.family, rec.inode) == (socket.AF_INET6, 1302293)


def test_netlink_backend_refuses_another_root() -> None:
    with pytest.raises(NetlinkUnavailable):
        wait_listening(8080, root=fixture_dir("owners-forked-listener"), backend="netlink", timeout=0)


# -- arguments ----------------------------------------------------------------------------------
@pytest.mark.parametrize("args,kwargs,error,text", [
    ((), {}, TypeError, "a port"),
    ((0,), {}, ValueError, "1 to 65535"),
    ((65536,), {}, ValueError, "1 to 65535"),
    ((True,), {}, TypeError, "int"),
    (("80",), {}, TypeError, "int"),
    ((80,), {"proto": "raw"}, ValueError, "proto"),
    ((80,), {"proto": "unix"}, ValueError, "proto"),
    ((80,), {"proto": "tcpp"}, ValueError, "unknown proto"),
    ((80,), {"path": "/x"}, TypeError, "not both"),
    ((), {"path": "/x", "proto": "tcp"}, ValueError, "unix"),
    ((), {"path": ""}, ValueError, "non-empty"),
    ((), {"path": b"/x"}, TypeError, "str"),
    ((80,), {"address": "nowhere"}, ValueError, "address"),
    ((80,), {"address": []}, ValueError, "address"),
    ((80,), {"timeout": -1}, ValueError, "seconds"),
    ((80,), {"timeout": "1"}, TypeError, "seconds"),
    ((80,), {"max_interval": 0}, ValueError, "positive"),
    ((80,), {"owners": "yes"}, TypeError, "True or False"),
    ((80,), {"backend": "fast"}, ValueError, "backend"),
])
def test_bad_arguments_say_what_is_accepted(args: Any, kwargs: Any, error: Any, text: str) -> None:
    with pytest.raises(error, match=text):
        wait_listening(*args, **kwargs)


def test_targets_read_the_tables_the_proto_names() -> None:
    assert _Target(80, None, None, None).tables == ("tcp", "tcp6")
    assert _Target(80, "udp4", None, None).tables == ("udp",)
    assert _Target(80, "inet", None, None).tables == ("tcp", "tcp6", "udp", "udp6")
    assert _Target(None, None, None, "@x").tables == ("unix",)


def test_only_a_whole_empty_done_skips_the_decoder() -> None:
    done = struct.pack("=IHHIIi", 20, NLMSG_DONE, 2, 1, 0, 0)
    assert _is_empty(bytearray(done), 20)
    assert not _is_empty(bytearray(done[:16] + struct.pack("=i", -errno.EINVAL)), 20)  # a failed dump
    assert not _is_empty(bytearray(struct.pack("=IHHIIi", 20, 2, 0, 1, 0, 0)), 20)  # NLMSG_ERROR
    assert not _is_empty(bytearray(done + bytes(4)), 24)


# -- the bytecode builder: decode what you encode, audit and run as the kernel does ---------------
ports = st.integers(0, 65535)
ranges = st.tuples(st.sampled_from(["local", "remote"]), ports, ports).map(
    lambda t: bc.PortRange(t[0], min(t[1], t[2]), max(t[1], t[2])))
orders = st.sampled_from(["little", "big"])


def _expected(conds: List[bc.PortRange]) -> List[bc.PortRange]:
    out = {}
    for side, low, high in conds:
        if low > 0 or high < 65535:
            old = out.get(side, (0, 65535))
            out[side] = (max(old[0], low), min(old[1], high))
    return [bc.PortRange(side, low, high) for side, (low, high) in sorted(out.items())]


@settings(max_examples=300, deadline=None)
@given(st.lists(ranges, max_size=6), orders)
def test_decoding_a_program_gives_back_its_conditions(conds: List[bc.PortRange], order: str) -> None:
    program = bc.port_filter(conds, byteorder=order)
    ops = bc.decode(program, byteorder=order)
    assert bc.conditions(ops) == _expected(conds)
    assert [op.offset for op in ops] == list(range(0, len(program), 8))
    assert program == b"" or bc.audit(program, byteorder=order)


@settings(max_examples=300, deadline=None)
@given(st.lists(ranges, min_size=1, max_size=6), ports, ports, orders)
def test_the_kernel_sends_a_socket_exactly_when_every_condition_holds(
    conds: List[bc.PortRange], local: int, remote: int, order: str
) -> None:
    program = bc.port_filter(conds, byteorder=order)
    want = all(low <= (local if side == "local" else remote) <= high for side, low, high in conds)
    assert (bc.run(program, local, remote, byteorder=order) if program else True) is want


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64), orders)
def test_decoding_and_auditing_any_bytes_never_crash(data: bytes, order: str) -> None:
    try:
        bc.decode(data, byteorder=order)
    except ParseError as exc:
        assert "offset" in str(exc)
    ok = bc.audit(data, byteorder=order)
    if ok:  # what the audit accepts ends on the program's end, whichever way it jumps
        codes = {op.code for op in bc.decode(data, byteorder=order)} if _decodable(data, order) else set()
        if codes <= {bc.BC_NOP, bc.BC_JMP, bc.BC_S_GE, bc.BC_S_LE, bc.BC_D_GE, bc.BC_D_LE}:
            bc.run(data, 1, 2, byteorder=order)


def _decodable(data: bytes, order: str) -> bool:
    try:
        bc.decode(data, byteorder=order)
    except ParseError:
        return False
    return True


@pytest.mark.parametrize("program,ok", [
    (b"", False),  # the kernel refuses an empty program
    (struct.pack("=BBH", bc.BC_NOP, 4, 0), True),
    (struct.pack("=BBHBBH", bc.BC_S_GE, 8, 12, 0, 0, 80), True),
    (struct.pack("=BBHBBH", bc.BC_S_GE, 8, 16, 0, 0, 80), False),  # no: past end + 4
    (struct.pack("=BBHBBH", bc.BC_S_GE, 8, 6, 0, 0, 80), False),  # no: not a multiple of 4
    (struct.pack("=BBH", bc.BC_S_GE, 4, 8), False),  # a comparison without its port
    (struct.pack("=BBH", 14, 4, 8), False),  # unknown code
    (struct.pack("=BBHII", bc.BC_MARK_COND, 12, 16, 1, 1), False),  # needs CAP_NET_ADMIN
    (struct.pack("=BBHBBxxi4s", bc.BC_S_COND, 16, 20, socket.AF_INET, 8, -1, b"\x7f\0\0\1"), True),
    (struct.pack("=BBHBBxxi4s", bc.BC_S_COND, 16, 20, socket.AF_INET, 33, -1, b"\x7f\0\0\1"), False),
])
def test_audit_is_the_kernels(program: bytes, ok: bool) -> None:
    assert bc.audit(program) is ok


def test_with_bytecode_appends_the_attribute_and_grows_the_length() -> None:
    request = inet_request("tcp", socket.AF_INET, [TcpState.LISTEN], tcp_info=False)
    program = bc.port_filter([bc.PortRange("local", 22, 22)])
    out = bc.with_bytecode(request, program)
    assert struct.unpack_from("=I", out)[0] == len(out) == len(request) + 4 + len(program)
    assert out[4:len(request)] == request[4:]
    assert struct.unpack_from("=HH", out, len(request)) == (4 + len(program), bc.INET_DIAG_REQ_BYTECODE)
    assert bc.with_bytecode(request, b"") == request
    with pytest.raises(ValueError):
        bc.with_bytecode(request[:-4], program)


@pytest.mark.parametrize("cond", [bc.PortRange("local", 5, 4), bc.PortRange("peer", 1, 2),
                                  bc.PortRange("local", -1, 2), bc.PortRange("local", 1, 65536)])
def test_port_filter_refuses_impossible_conditions(cond: bc.PortRange) -> None:
    with pytest.raises(ValueError):
        bc.port_filter([cond])


# -- the schedule of looks (a fake clock: no time is measured) ------------------------------------
class _FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: List[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds + 0.0001  # a look costs 0.1 ms


@pytest.mark.parametrize("max_interval", [0.05, 0.01, 0.0005])
def test_looks_back_off_with_the_time_waited_up_to_the_bound(monkeypatch: Any, max_interval: float) -> None:
    from procnet import _wait

    clock = _FakeClock()
    monkeypatch.setattr(_wait, "time", clock)
    monkeypatch.setattr(_wait._Waiter, "poll", lambda self: None)
    with pytest.raises(TimeoutError, match="within 2 s"):
        wait_listening(1, timeout=2, max_interval=max_interval, backend="proc")
    sleeps = clock.sleeps
    assert sleeps[0] == min(0.001, max_interval)
    assert all(s <= max_interval for s in sleeps)
    assert sleeps[:-1] == sorted(sleeps[:-1])  # never shorter, but the last (cut at the deadline)
    waited = 0.0
    for s in sleeps[:-1]:
        assert s == pytest.approx(min(max_interval, max(min(0.001, max_interval), waited * 0.1)), rel=1e-6)
        waited += s + 0.0001
    assert clock.now == pytest.approx(102.0, abs=0.001)  # the deadline, not a whole interval past it


def test_a_slow_look_is_spaced_to_a_tenth_of_the_time(monkeypatch: Any) -> None:
    from procnet import _wait

    clock = _FakeClock()

    def slow_look(self: Any) -> None:
        clock.now += 0.007  # the text tables of a big hash: 7 ms a look

    monkeypatch.setattr(_wait, "time", clock)
    monkeypatch.setattr(_wait._Waiter, "poll", slow_look)
    with pytest.raises(TimeoutError):
        wait_listening(1, timeout=5, backend="proc")
    assert all(s == pytest.approx(0.07) for s in clock.sleeps[:-1])  # not 1 ms, not the 50 ms bound
