"""A capture replays what the live machine showed: the sock_diag answers it keeps.

``procnet capture`` keeps the kernel's sock_diag answer of each table (``sock_diag/<table>``)
beside the text tables; ``procnet ss --root BUNDLE`` then prints a listener's backlog as
Send-Q and a unix socket's peer, as live ``procnet ss`` printed them. The live tests compare
the replay with the live output taken just before and just after the capture (byte for
byte, for the rows of sockets this test opens). The fixture ``big-endian-sock-diag`` is a
capture from a big-endian machine, written by the encoder of tests/test_parse_netlink.py:
run this file as a program to rewrite it (``python tests/test_capture_replay.py``).

What a hostile stored answer does: tests/test_untrusted_bundle.py.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import socket
import struct
import sys
from typing import Any, Callable, Dict, Iterator, List, Sequence, Tuple

import pytest
from conftest import FIXTURES, read_json  # first: it puts the checkout on sys.path (run as a program)

import procnet
from procnet._parse.stored_answer import message_runs, parse_stored_answer
from procnet._proc import ProcFS
from procnet.cli import ss

from test_parse_netlink import LO4, done, inet_diag_msg, sock, tcp_info, unix_diag_msg

SCENARIO = "big-endian-sock-diag"


def run_ss(*args: str) -> Tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = ss.run(list(args), out, err)
    return status, out.getvalue(), err.getvalue()


# -- a live population -------------------------------------------------------------------------


class Population:
    """Loopback listeners with distinct backlogs (one with a connection waiting to be
    accepted), an accepted TCP connection, a UDP socket, a unix stream listener with an
    accepted connection, unix stream and datagram pairs."""

    def __init__(self) -> None:
        self.socks: List[socket.socket] = []
        self.ports: List[int] = []
        for backlog in (1, 7, 33):
            listener = self._keep(socket.socket())
            listener.bind(("127.0.0.1", 0))
            listener.listen(backlog)
            self.ports.append(listener.getsockname()[1])
        waiting = self._keep(socket.create_connection(("127.0.0.1", self.ports[1])))  # never accepted
        accepting = self.socks[0]
        client = self._keep(socket.create_connection(("127.0.0.1", self.ports[0])))
        self._keep(accepting.accept()[0])
        client.sendall(b"x" * 3)  # 3 bytes in the server's receive queue: Recv-Q 3
        del waiting
        udp = self._keep(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        udp.bind(("127.0.0.1", 0))
        self.ports.append(udp.getsockname()[1])
        # every unix socket named "@procnet-replay-<pid>-...", so that a FILTER can pick them
        self.unix_prefix = "@procnet-replay-%d-" % os.getpid()
        name = "\0" + self.unix_prefix[1:]
        unix_listener = self._keep(socket.socket(socket.AF_UNIX))
        unix_listener.bind(name + "listener")
        unix_listener.listen(5)
        unix_client = self._keep(socket.socket(socket.AF_UNIX))
        unix_client.bind(name + "client")
        unix_client.connect(name + "listener")
        self._keep(unix_listener.accept()[0])
        unix_client.sendall(b"y" * 5)
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            for i, end in enumerate(socket.socketpair(socket.AF_UNIX, kind)):
                end.bind(name + "pair%d-%d" % (kind, i))
                self._keep(end)
        self.unix_inodes = [os.fstat(s.fileno()).st_ino for s in self.socks if s.family == socket.AF_UNIX]

    def _keep(self, s: socket.socket) -> socket.socket:
        self.socks.append(s)
        return s

    def close(self) -> None:
        for s in self.socks:
            s.close()

    def inet_filter(self) -> List[str]:
        """An ss FILTER for this population's inet sockets only (so that the columns'
        widths do not depend on other programs' sockets)."""
        words: List[str] = []
        for port in self.ports:
            words += (["or"] if words else []) + ["sport", "=", ":%d" % port, "or", "dport", "=", ":%d" % port]
        return words

    def unix_filter(self) -> List[str]:
        """The FILTER for this population's unix sockets (by their names)."""
        return ["src", "unix:%s*" % self.unix_prefix]


@pytest.fixture
def population() -> Iterator[Population]:
    pop = Population()
    try:
        yield pop
    finally:
        pop.close()


#: ss arguments whose output must replay byte for byte (the FILTER is added per family)
COMMANDS = [
    ("inet", ["-tln"]),
    ("inet", ["-tlnp"]),
    ("inet", ["-tl"]),
    ("inet", ["-tan"]),
    ("inet", ["-tanp"]),
    ("inet", ["-uanp"]),
    ("inet", ["-tuanp", "--json"]),
    ("unix", ["-xa"]),
    ("unix", ["-xap"]),
    ("unix", ["-xl"]),
    ("unix", ["-xae"]),
    ("unix", ["-xap", "--json"]),
]


def _outputs(pop: Population, commands: Sequence[Tuple[str, List[str]]], *root: str) -> List[str]:
    outs = []
    for family, args in commands:
        words = pop.inet_filter() if family == "inet" else pop.unix_filter()
        status, out, err = run_ss(*(args + list(root) + words))
        assert status == 0 and err == "", err
        outs.append(out)
    return outs


def _capture_between(pop: Population, tmp_path: Any, commands: Sequence[Tuple[str, List[str]]],
                     same: Callable[[str], str] = str) -> Tuple[str, List[str]]:
    """A bundle, and the live outputs taken just before and just after it (equal, seen
    through ``same``: no socket of the population changed meanwhile)."""
    for attempt in range(5):
        before = _outputs(pop, commands)
        bundle = str(tmp_path / ("bundle%d" % attempt))
        procnet.capture(bundle)
        after = _outputs(pop, commands)
        if [same(t) for t in before] == [same(t) for t in after]:
            return bundle, before
    raise AssertionError("the population kept changing")  # pragma: no cover


@pytest.mark.live
def test_replay_prints_the_live_rows_byte_for_byte(population: Population, tmp_path: Any) -> None:
    bundle, live = _capture_between(population, tmp_path, COMMANDS)
    replayed = _outputs(population, COMMANDS, "--root", bundle)
    for (family, args), want, got in zip(COMMANDS, live, replayed):
        assert got == want, "procnet ss %s --root BUNDLE" % " ".join(args)
    # what the text tables could not have shown is there
    tln = live[0]
    for backlog, port in zip((1, 7, 33), population.ports):
        assert re.search(r"(?m)^LISTEN +\d+ +%d +127\.0\.0\.1:%d " % (backlog, port), tln), tln
    assert re.search(r"(?m)^LISTEN +1 +7 +127\.0\.0\.1:%d " % population.ports[1], tln), tln
    peers = [line.split()[-1] for line in live[COMMANDS.index(("unix", ["-xa"]))].splitlines()[1:]]
    assert sum(p != "0" for p in peers) >= 6, live[COMMANDS.index(("unix", ["-xa"]))]


@pytest.mark.live
def test_replay_without_the_stored_answers_is_the_text_tables(population: Population, tmp_path: Any) -> None:
    """backend="proc" (and a capture of old, without sock_diag/) reads the text: Send-Q 0."""
    bundle, _ = _capture_between(population, tmp_path, [])
    listeners = procnet.listening("tcp4", root=bundle, backend="proc", owners=False, local_port=population.ports[1])
    assert [(s.tx_queue, s.listen_backlog) for s in listeners] == [(0, None)]
    shutil.rmtree(os.path.join(bundle, "sock_diag"))
    status, out, err = run_ss("-tln", "--root", bundle, *population.inet_filter())
    assert status == 0 and re.search(r"(?m)^LISTEN +1 +0 +127\.0\.0\.1:%d " % population.ports[1], out), out + err


@pytest.mark.live
def test_replay_gives_the_records_netlink_gave(population: Population, tmp_path: Any) -> None:
    bundle, _ = _capture_between(population, tmp_path, [])
    manifest = read_json(os.path.join(bundle, "procnet-manifest.json"))
    assert {"tcp", "udp", "unix"} <= set(manifest["sock_diag"]["tables"])
    assert manifest["sock_diag"]["format"] == 1
    for table in manifest["sock_diag"]["tables"]:
        assert os.stat(os.path.join(bundle, "sock_diag", table)).st_mode & 0o777 == 0o600
    tcp = procnet.listening("tcp4", root=bundle, owners=True)
    backlogs = {s.local.port: s.listen_backlog for s in tcp}
    assert [backlogs[p] for p in population.ports[:3]] == [1, 7, 33]
    assert all(s.cookie is not None and s.netns == manifest["netns"] for s in tcp)
    assert all(any(o.pid == os.getpid() for o in s.owners) for s in tcp if s.local.port in population.ports)
    unix = {s.inode: s for s in procnet.iter_sockets("unix", root=bundle, inode=population.unix_inodes)}
    assert sorted(unix) == sorted(population.unix_inodes)
    pairs = [(i, unix[i].peer_inode) for i in population.unix_inodes if unix[i].state.name == "ESTABLISHED"]
    assert pairs and all(unix[peer].peer_inode == inode for inode, peer in pairs)


@pytest.mark.live
def test_replay_of_extended_details(population: Population, tmp_path: Any) -> None:
    """-e: uid, inode, the socket cookie (sk:) and shutdown as live."""
    commands = [("inet", ["-tane"]), ("inet", ["-tuanpe", "--json"])]
    bundle, live = _capture_between(population, tmp_path, commands)
    replayed = _outputs(population, commands, "--root", bundle)
    assert [_mask_cgroup(t) for t in replayed] == [_mask_cgroup(t) for t in live]
    assert re.search(r" sk:[0-9a-f]+ ", live[0]), live[0]


@pytest.mark.live
def test_replay_of_cgroup_paths(population: Population, tmp_path: Any) -> None:
    commands = [("inet", ["-tane"])]
    bundle, live = _capture_between(population, tmp_path, commands)
    assert _outputs(population, commands, "--root", bundle) == live


@pytest.mark.live
def test_capture_keeps_cgroup_paths_and_socket_counters(tmp_path: Any) -> None:
    bundle = str(tmp_path / "b")
    procnet.capture(bundle)
    fs = ProcFS(bundle)
    paths = fs.stored_cgroup_paths()
    mounts = open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape").read()
    if " - cgroup2 " in mounts:
        assert paths is not None and "/" in paths.values(), paths
        mount = read_json(os.path.join(bundle, "sock_diag", "cgroup2.json"))["mount"]
        assert paths[os.stat(mount).st_ino] == "/"
    for table in ("sockstat", "snmp"):
        assert os.path.isfile(os.path.join(bundle, "net", table))
    status, out, err = run_ss("-s", "--root", bundle)
    assert status == 0 and out.startswith("Total: ") and err == "", err


def _mask_cgroup(text: str) -> str:
    """The text without ``cgroup:`` paths (the bundle keeps the id, not the live cgroup
    tree it names) and with each run of spaces as one (the column's width follows them)."""
    return re.sub(r" +", " ", re.sub(r' cgroup:\S+|"cgroup": "[^"]*"', "", text))


def _mask_times(text: str) -> str:
    # ss -i's "last*:N" say how long ago (ms): they move between two looks (and with
    # their digits, the width of the last column)
    return re.sub(r" +", " ", re.sub(r"\b(lastsnd|lastrcv|lastack):\d+", r"\1:N", text))


@pytest.mark.live
def test_replay_of_tcp_info_and_memory(population: Population, tmp_path: Any) -> None:
    commands = [("inet", ["-tine"]), ("inet", ["-tlnm"]), ("unix", ["-xam"])]
    bundle, live = _capture_between(population, tmp_path, commands, _mask_times)
    replayed = _outputs(population, commands, "--root", bundle)
    assert [_mask_times(t) for t in replayed] == [_mask_times(t) for t in live]


# -- the big-endian fixture --------------------------------------------------------------------


def _be_text() -> Dict[str, bytes]:
    """net/tcp and net/unix as a big-endian kernel prints the same sockets (127.0.0.1 is
    7F000001 there)."""
    # tcp4_seq_show pads every line, the header too, to 149 characters (seq_setwidth)
    header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
    tcp = header.ljust(149) + "\n" + "".join(
        ("%4d: %s %s %s %08X:%08X 00:00000000 00000000  1000        0 %d 1 0000000000000000 %s" % row).ljust(149)
        + "\n"
        for row in [
            (0, "7F000001:1F90", "00000000:0000", "0A", 0, 1, 9001, "100 0 0 10 0"),
            (1, "7F000001:A028", "7F000001:1F90", "01", 0, 0, 9002, "20 4 30 10 -1"),
            (2, "7F000001:1F90", "7F000001:A028", "01", 0, 3, 9003, "20 4 30 10 -1"),
        ]
    )
    unix = "Num       RefCount Protocol Flags    Type St Inode Path\n" + "".join(
        "0000000000000000: 0000000%d 00000000 %s %s %s %5d%s\n" % row  # unix_seq_show: "%5lu" inode
        for row in [
            (2, "00010000", "0001", "01", 9101, " @replay.sock"),
            (3, "00000000", "0001", "03", 9102, ""),
            (3, "00000000", "0001", "03", 9103, " @replay.sock"),
            (3, "00000000", "0002", "03", 9104, ""),
            (3, "00000000", "0002", "03", 9105, ""),
        ]
    )
    return {"tcp": tcp.encode(), "unix": unix.encode()}


def stored_answers(order: str) -> Dict[str, bytes]:
    """The sock_diag answers of the fixture's sockets, in ``order``: a TCP listener
    (backlog 7, one connection waiting), the two ends of an established connection with
    struct tcp_info, a unix listener with an accepted connection, and a unix datagram pair."""
    p = "<" if order == "little" else ">"

    def tcp(**kw: Any) -> bytes:
        info = tcp_info(order=order, snd_cwnd=10, snd_mss=32768, rcv_mss=536, rto=204000, ato=40000, rtt=31,
                        rttvar=15, snd_ssthresh=0x7FFFFFFF, pmtu=65535, advmss=65483, rcv_space=65483,
                        rcv_ssthresh=65483, snd_wnd=65536, rcv_wnd=65483, segs_in=2, min_rtt=31)
        attrs = [(8, b"\0"), (4, b"cubic\0"), (7, struct.pack(p + "9I", 0, 131072, 0, 16384, 0, 0, 0, 0, 0)),
                 (2, info)]
        return sock(inet_diag_msg(uid=1000, src=LO4, dst=kw.pop("dst", b""), attrs=attrs, order=order, **kw),
                    order=order)

    def unix(name: bytes, peer: int, rq: Tuple[int, int], **kw: Any) -> bytes:
        attrs = [(0, name)] if name else []
        attrs += [(2, struct.pack(p + "I", peer)), (4, struct.pack(p + "II", *rq)), (6, b"\0"),
                  (7, struct.pack(p + "I", 1000))]
        return sock(unix_diag_msg(attrs=attrs, order=order, **kw), order=order)

    # the listener: rqueue is the accept queue, wqueue the backlog (inet_diag_msg_common_fill)
    tcp_answer = (tcp(state=10, sport=8080, rqueue=1, wqueue=7, inode=9001, cookie=0x1001)
                  + tcp(state=1, sport=41000, dport=8080, dst=LO4, inode=9002, cookie=0x1002)
                  + tcp(state=1, sport=8080, dport=41000, dst=LO4, rqueue=3, inode=9003, cookie=0x1003)
                  + done(order=order))
    unix_answer = (unix(b"\0replay.sock", 0, (0, 5), state=10, inode=9101, cookie=0x2001)
                   + unix(b"", 9103, (0, 0), state=1, inode=9102, cookie=0x2002)
                   + unix(b"\0replay.sock", 9102, (5, 0), state=1, inode=9103, cookie=0x2003)
                   + unix(b"", 9105, (0, 0), type_=2, state=1, inode=9104, cookie=0x2004)
                   + unix(b"", 9104, (0, 0), type_=2, state=1, inode=9105, cookie=0x2005)
                   + done(order=order))
    return {"tcp": tcp_answer, "unix": unix_answer}


def write_bundle(path: str, order: str) -> None:
    """The fixture's files, the stored answers in ``order`` (the text stays big-endian's,
    as a big-endian machine prints it)."""
    for sub in ("net", "sock_diag"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)
    for table, data in _be_text().items():
        with open(os.path.join(path, "net", table), "wb") as f:
            f.write(data)
    for table, data in stored_answers(order).items():
        with open(os.path.join(path, "sock_diag", table), "wb") as f:
            f.write(data)
    manifest = {
        "byteorder": order,
        "clock_ticks": 100,
        "description": "A capture from a big-endian machine (s390x) with the sock_diag answers procnet capture "
                       "keeps (sock_diag/tcp, sock_diag/unix: every integer in the writer's byte order, ports "
                       "and addresses in network order): a TCP listener with backlog 7 and a connection waiting, "
                       "an established pair with struct tcp_info, a unix listener with an accepted connection "
                       "and a unix datagram pair. Written by tests/test_capture_replay.py.",
        "kernel": "6.18.44 s390x (hand-written)",
        "owners": False,
        "sock_diag": {"format": 1, "tables": ["tcp", "unix"], "unavailable": {}, "interrupted": []},
        "tables": ["tcp", "unix"],
    }
    with open(os.path.join(path, "procnet-manifest.json"), "w") as f:
        f.write(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


def _fixture() -> str:
    return os.path.join(FIXTURES, SCENARIO)


def test_fixture_is_what_the_encoder_writes(tmp_path: Any) -> None:
    write_bundle(str(tmp_path / "b"), "big")
    for rel in ("procnet-manifest.json", "net/tcp", "net/unix", "sock_diag/tcp", "sock_diag/unix"):
        with open(os.path.join(_fixture(), rel), "rb") as f, open(str(tmp_path / "b" / rel), "rb") as g:
            assert f.read() == g.read(), rel


#: what ss -tln and -xa print for the fixture's sockets (Send-Q of a listener is its backlog)
BE_TLN = """\
State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess
LISTEN 1      7          127.0.0.1:8080      0.0.0.0:*          
"""
BE_XA = """\
Netid State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess
u_str LISTEN 0      5       @replay.sock 9101            * 0          
u_str ESTAB  0      0                  * 9102            * 9103       
u_str ESTAB  5      0       @replay.sock 9103            * 9102       
u_dgr ESTAB  0      0                  * 9104            * 9105       
u_dgr ESTAB  0      0                  * 9105            * 9104       
"""


@pytest.mark.parametrize("order", ["little", "big"])
def test_big_endian_answers_replay_as_little_endian_ones(order: str, tmp_path: Any) -> None:
    """The committed fixture (big-endian) and the same answers written little-endian print
    the same rows: every integer is read in the writer's byte order."""
    root = _fixture() if order == "big" else str(tmp_path / "le")
    if order == "little":
        write_bundle(root, "little")
    assert run_ss("-tln", "--root", root) == (0, BE_TLN, "")
    assert run_ss("-xa", "--root", root) == (0, BE_XA, "")
    status, out, err = run_ss("-tne", "--root", root)
    assert status == 0 and "ino:9002 sk:1002" in out and "ino:9003 sk:1003" in out, out + err
    (listener,) = procnet.listening("tcp", root=root, owners=False)
    assert (listener.listen_backlog, listener.rx_queue, listener.uid, listener.cookie) == (7, 1, 1000, 0x1001)
    established = procnet.connections("tcp", root=root, owners=False, tcp_info=True)
    assert [(s.inode, s.tcp_info is not None and s.tcp_info.snd_cwnd, s.cwnd) for s in established] == [
        (9002, 10, 10), (9003, 10, 10)]
    # not asked for: as the kernel's answer to a query without tcp_info (procnet ss -t)
    plain = procnet.connections("tcp", root=root, owners=False)
    assert [(s.tcp_info, s.cwnd, s.skmem, s.shutdown) for s in plain] == [(None, None, None, 0)] * 2
    with_skmem = procnet.connections("tcp", root=root, owners=False, skmem=True)
    assert [(s.tcp_info, s.skmem) for s in with_skmem] == [(None, (0, 131072, 0, 16384, 0, 0, 0, 0, 0))] * 2


def test_big_endian_text_tables_of_the_fixture_show_the_same_sockets() -> None:
    """backend="proc" reads the text of the same capture: the same sockets, without what
    only netlink tells."""
    root = _fixture()

    def view(records: Any) -> List[Tuple[Any, ...]]:
        return sorted((s.inode, str(getattr(s, "local", "")), str(getattr(s, "remote", "")), s.state.name,
                       getattr(s, "path", None)) for s in records)

    stored = procnet.sockets("all", root=root, owners=False)
    text = procnet.sockets("all", root=root, owners=False, backend="proc")
    assert view(stored) == view(text) and len(stored) == 8
    assert {s.inode: s.listen_backlog for s in text if s.proto == "tcp"} == {9001: None, 9002: None, 9003: None}


def test_a_table_without_a_stored_answer_is_read_as_text(tmp_path: Any) -> None:
    root = str(tmp_path / "b")
    write_bundle(root, "big")
    os.unlink(os.path.join(root, "sock_diag", "unix"))  # as raw is when the kernel has no raw_diag
    unix = procnet.sockets("unix", root=root, owners=False)
    assert sorted(s.inode for s in unix) == [9101, 9102, 9103, 9104, 9105]
    assert all(s.peer_inode is None for s in unix)
    assert procnet.listening("tcp", root=root, owners=False)[0].listen_backlog == 7


def test_backend_netlink_on_a_capture_replays_its_answers_and_proc_reads_text(tmp_path: Any) -> None:
    root = _fixture()
    assert procnet.listening("tcp", root=root, owners=False, backend="netlink")[0].listen_backlog == 7
    assert procnet.listening("tcp", root=root, owners=False, backend="proc")[0].listen_backlog is None
    with pytest.raises(ValueError):  # a capture without stored answers cannot answer for netlink
        procnet.listening("tcp", root=os.path.join(FIXTURES, "big-endian-capture"), backend="netlink")


def test_states_filter_the_stored_answer_exactly() -> None:
    root = _fixture()
    assert [s.inode for s in procnet.sockets("tcp", root=root, owners=False, state="listen")] == [9001]
    assert [s.inode for s in procnet.sockets("unix", root=root, owners=False, state="listen")] == [9101]
    assert ProcFS(root).has_sock_diag() and not ProcFS(os.path.join(FIXTURES, "big-endian-capture")).has_sock_diag()


@pytest.mark.parametrize("order", ["little", "big"])
@pytest.mark.parametrize("tcp_info, skmem, dropped", [
    (False, False, (2, 4, 7)),  # procnet ss -t: the kernel sends neither tcp_info nor memory
    (False, True, (2, 4)),  # skmem=True: the memory counters alone
    (True, False, ()),  # -i: everything
])
def test_attributes_not_asked_for_read_as_the_kernel_s_smaller_answer(order: str, tcp_info: bool, skmem: bool,
                                                                     dropped: Tuple[int, ...]) -> None:
    """The stored answer (every attribute) read for a query that asks less is what the
    kernel would have answered that query: the same messages without those attributes."""
    from test_parse_netlink import nlattr, nlmsg

    def answer(without: Tuple[int, ...]) -> bytes:
        out = b""
        for message in _messages(stored_answers(order)["tcp"], order)[:-1]:
            fixed, attrs = message[16:88], _attributes(message[88:], order)
            body = fixed + b"".join(nlattr(kind, value, order=order) for kind, value in attrs if kind not in without)
            out += nlmsg(20, body, order=order)
        return out + done(order=order)

    def view(data: bytes, **kw: Any) -> List[Any]:
        return [procnet.to_jsonable(r) for r in parse_stored_answer(data, "tcp", byteorder=order, **kw)]

    assert view(answer(()), tcp_info=tcp_info, skmem=skmem) == view(answer(dropped))


def _messages(data: bytes, order: str) -> List[bytes]:
    out, pos = [], 0
    while pos < len(data):
        length = struct.unpack_from("<I" if order == "little" else ">I", data, pos)[0]
        out.append(data[pos:pos + length])
        pos += (length + 3) & ~3
    return out


def _attributes(data: bytes, order: str) -> List[Tuple[int, bytes]]:
    out, pos = [], 0
    while pos < len(data):
        length, kind = struct.unpack_from("<HH" if order == "little" else ">HH", data, pos)
        out.append((kind, data[pos + 4:pos + length]))
        pos += (length + 3) & ~3
    return out


def test_capture_of_another_root_keeps_no_kernel_answers(tmp_path: Any) -> None:
    """sock_diag answers for the caller's namespace only: a fixture tree (or /host/proc, or
    netns=PID) is copied as text, and reads back as the text."""
    dest = str(tmp_path / "copy")
    manifest = procnet.capture(dest, root=_fixture())
    assert "sock_diag" not in manifest and not os.path.exists(os.path.join(dest, "sock_diag"))
    assert procnet.listening("tcp", root=dest, owners=False)[0].listen_backlog is None


@pytest.mark.live
def test_capture_of_another_namespace_keeps_no_kernel_answers(tmp_path: Any) -> None:
    manifest = procnet.capture(str(tmp_path / "b"), netns=os.getpid())
    assert "sock_diag" not in manifest


@pytest.mark.parametrize("size", [16, 20, 100, 1 << 16])
def test_message_runs_cut_only_between_messages(size: int) -> None:
    data = stored_answers("little")["unix"]
    starts = []
    pos = 0
    while pos < len(data):
        starts.append(pos)
        pos += (struct.unpack_from("<I", data, pos)[0] + 3) & ~3
    runs = list(message_runs(data, "little", size))
    assert b"".join(runs) == data and all(runs)
    cuts = [sum(len(r) for r in runs[:i]) for i in range(len(runs))]
    assert set(cuts) <= set(starts)  # every run starts at a message
    assert len(runs) == (1 if size >= len(data) else len(starts) if size <= 20 else len(runs))
    decoded = [s.inode for s in parse_stored_answer(data, "unix", byteorder="little")]
    assert decoded == [9101, 9102, 9103, 9104, 9105]


if __name__ == "__main__":
    target = _fixture()
    if os.path.isdir(target):
        shutil.rmtree(target)
    write_bundle(target, "big")
    records = procnet.sockets("all", root=target, owners=False)
    with open(os.path.join(target, "expected.json"), "w") as f:
        f.write(json.dumps([procnet.to_jsonable(r) for r in records], indent=1, sort_keys=True) + "\n")
    sys.stdout.write("wrote %s\n" % target)
