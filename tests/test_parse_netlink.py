"""The sock_diag decoder, without I/O: hand-built replies, committed fixtures, properties.

The encoder below is written from the kernel's uapi headers independently of the decoder
(``linux/netlink.h``, ``linux/inet_diag.h``, ``linux/unix_diag.h``, ``linux/tcp.h``), so a
round trip checks one reading of the headers against another.

Run this file as a program to rewrite the hand-written fixtures in fixtures/netlink/:
``python tests/test_parse_netlink.py``.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import socket
import struct
import sys
from pathlib import Path
from typing import Any, Dict, Iterable, List, Sequence, Tuple, Type

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from procnet._errors import ParseError, ProcNetError
from procnet._parse.netlink import (
    NLMSG_DONE,
    NLMSG_ERROR,
    NLM_F_DUMP_INTR,
    NLM_F_MULTI,
    SOCK_DIAG_BY_FAMILY,
    InetDumpDecoder,
    NetlinkError,
    NetlinkUnavailable,
    inet_request,
    iter_attributes,
    iter_messages,
    parse_inet_dump,
    parse_unix_dump,
    state_mask,
    unix_path,
    unix_request,
)
from procnet._records import InetSocket, SocketStatus, TcpState, Timer, UnixFlag, UnixSocket

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "netlink"


# --- an encoder, from the headers ---------------------------------------------------------


def _p(order: str) -> str:
    return "<" if order == "little" else ">"


def nlmsg(
    msg_type: int, payload: bytes, *, flags: int = NLM_F_MULTI, seq: int = 1, order: str = "little"
) -> bytes:
    """struct nlmsghdr + payload, padded to NLMSG_ALIGNTO (4)."""
    msg = struct.pack(_p(order) + "IHHII", 16 + len(payload), msg_type, flags, seq, 0) + payload
    return msg + bytes(-len(msg) % 4)


def nlattr(attr_type: int, value: bytes, *, order: str = "little") -> bytes:
    """struct nlattr + value, padded to NLA_ALIGNTO (4)."""
    attr = struct.pack(_p(order) + "HH", 4 + len(value), attr_type) + value
    return attr + bytes(-len(attr) % 4)


def done(err: int = 0, *, order: str = "little") -> bytes:
    return nlmsg(NLMSG_DONE, struct.pack(_p(order) + "i", err), order=order)


def error(err: int, *, order: str = "little") -> bytes:
    """struct nlmsgerr: the error, then the offending request's header."""
    echoed = struct.pack(_p(order) + "IHHII", 72, SOCK_DIAG_BY_FAMILY, 0x301, 1, 0)
    return nlmsg(NLMSG_ERROR, struct.pack(_p(order) + "i", err) + echoed, flags=0, order=order)


def inet_diag_msg(
    *,
    family: int = socket.AF_INET,
    state: int = 1,
    timer: int = 0,
    retrans: int = 0,
    sport: int = 0,
    dport: int = 0,
    src: bytes = b"",
    dst: bytes = b"",
    ifindex: int = 0,
    cookie: int = 0,
    expires: int = 0,
    rqueue: int = 0,
    wqueue: int = 0,
    uid: int = 0,
    inode: int = 0,
    attrs: Sequence[Tuple[int, bytes]] = (),
    order: str = "little",
) -> bytes:
    """struct inet_diag_msg (72 bytes) and its attributes: an nlmsghdr payload."""
    p = _p(order)
    body = struct.pack(p + "BBBB", family, state, timer, retrans)
    body += struct.pack("!HH", sport, dport) + src.ljust(16, b"\0") + dst.ljust(16, b"\0")
    body += struct.pack(p + "III", ifindex, cookie & 0xFFFFFFFF, cookie >> 32)
    body += struct.pack(p + "IIIII", expires, rqueue, wqueue, uid, inode)
    assert len(body) == 72
    return body + b"".join(nlattr(t, v, order=order) for t, v in attrs)


#: struct tcp_info offsets (include/uapi/linux/tcp.h): name -> (offset, struct code)
TCP_INFO_FIELDS = {
    "state": (0, "B"),
    "ca_state": (1, "B"),
    "retransmits": (2, "B"),
    "probes": (3, "B"),
    "rto": (8, "I"),
    "ato": (12, "I"),
    "snd_mss": (16, "I"),
    "rcv_mss": (20, "I"),
    "unacked": (24, "I"),
    "sacked": (28, "I"),
    "lost": (32, "I"),
    "retrans": (36, "I"),
    "rtt": (68, "I"),
    "rttvar": (72, "I"),
    "snd_ssthresh": (76, "I"),
    "snd_cwnd": (80, "I"),
    "total_retrans": (100, "I"),
    "pacing_rate": (104, "Q"),
    "bytes_acked": (120, "Q"),
    "bytes_received": (128, "Q"),
    "min_rtt": (148, "I"),
    "delivery_rate": (160, "Q"),
    # fields only ss -i shows
    "backoff": (4, "B"),
    "options": (5, "B"),
    "wscale": (6, "B"),
    "flags": (7, "B"),
    "last_data_sent": (44, "I"),
    "last_data_recv": (52, "I"),
    "last_ack_recv": (56, "I"),
    "pmtu": (60, "I"),
    "rcv_ssthresh": (64, "I"),
    "advmss": (84, "I"),
    "reordering": (88, "I"),
    "rcv_rtt": (92, "I"),
    "rcv_space": (96, "I"),
    "max_pacing_rate": (112, "Q"),
    "segs_out": (136, "I"),
    "segs_in": (140, "I"),
    "notsent_bytes": (144, "I"),
    "data_segs_in": (152, "I"),
    "data_segs_out": (156, "I"),
    "busy_time": (168, "Q"),
    "rwnd_limited": (176, "Q"),
    "sndbuf_limited": (184, "Q"),
    "delivered": (192, "I"),
    "delivered_ce": (196, "I"),
    "bytes_sent": (200, "Q"),
    "bytes_retrans": (208, "Q"),
    "dsack_dups": (216, "I"),
    "reord_seen": (220, "I"),
    "rcv_ooopack": (224, "I"),
    "snd_wnd": (228, "I"),
    "rcv_wnd": (232, "I"),
    "rehash": (236, "I"),
}


def tcp_info(size: int = 280, *, order: str = "little", **fields: int) -> bytes:
    buf = bytearray(size)
    for name, value in fields.items():
        off, code = TCP_INFO_FIELDS[name]
        if off + struct.calcsize(code) <= size:
            struct.pack_into(_p(order) + code, buf, off, value)
    return bytes(buf)


def unix_diag_msg(
    *,
    type_: int = 1,
    state: int = 7,
    inode: int = 0,
    cookie: int = 0,
    attrs: Sequence[Tuple[int, bytes]] = (),
    order: str = "little",
) -> bytes:
    """struct unix_diag_msg (16 bytes) and its attributes."""
    p = _p(order)
    body = struct.pack(
        p + "BBBBIII", socket.AF_UNIX, type_, state, 0, inode, cookie & 0xFFFFFFFF, cookie >> 32
    )
    return body + b"".join(nlattr(t, v, order=order) for t, v in attrs)


def sock(payload: bytes, *, flags: int = NLM_F_MULTI, order: str = "little") -> bytes:
    return nlmsg(SOCK_DIAG_BY_FAMILY, payload, flags=flags, order=order)


def kernel_dev(major: int, minor: int) -> int:
    """The kernel-internal dev_t (include/linux/kdev_t.h: MINORBITS 20)."""
    return major << 20 | minor


# --- hand-written fixtures: what each one pins ---------------------------------------------

LO4 = ipaddress.IPv4Address("127.0.0.1").packed
LO6 = ipaddress.IPv6Address("::1").packed


def _u32(value: int) -> bytes:
    return struct.pack("<I", value)


def handwritten() -> Dict[str, bytes]:
    """The hand-written fixtures (little-endian), by file name."""
    listener = inet_diag_msg(
        state=10,
        sport=8080,
        src=LO4,
        cookie=0x4B522,
        rqueue=2,
        wqueue=7,
        uid=1000,
        inode=1599628,
        attrs=[(8, b"\0"), (2, tcp_info(snd_cwnd=10, unacked=2, sacked=7, pacing_rate=2**64 - 1))],
    )
    established = inet_diag_msg(
        state=1,
        timer=2,
        retrans=3,
        sport=8080,
        dport=41000,
        src=LO4,
        dst=LO4,
        cookie=0x1_0000_0001,
        expires=7200_000,
        rqueue=1000,
        wqueue=5,
        uid=1000,
        inode=1599633,
        attrs=[
            (14, b""),  # INET_DIAG_PAD, as nla_reserve_64bit may put before tcp_info
            (
                2,
                tcp_info(
                    size=104,
                    rto=204000,
                    ato=40000,
                    snd_mss=32768,
                    rcv_mss=536,
                    snd_cwnd=10,
                    snd_ssthresh=0x7FFFFFFF,
                    rtt=22,
                    rttvar=12,
                    retransmits=0,
                    probes=3,
                    total_retrans=1,
                    unacked=1,
                    lost=0,
                ),
            ),
            (99, b"from a newer kernel"),  # unknown: ignored
            (8, b"\x02"),
            (21, struct.pack("<Q", 1234)),  # INET_DIAG_CGROUP_ID: known, unused
        ],
    )
    time_wait = inet_diag_msg(
        state=6,
        timer=3,
        sport=41001,
        dport=8080,
        src=LO4,
        dst=LO4,
        cookie=7,
        expires=59712,
        attrs=[(15, _u32(0))],
    )
    request = inet_diag_msg(
        state=3, timer=1, retrans=1, sport=8080, dport=41002, src=LO4, dst=LO4, expires=508
    )
    first = sock(listener) + sock(established)
    second = sock(time_wait) + sock(request) + done()
    tcp6_bound = inet_diag_msg(
        family=socket.AF_INET6, state=7, sport=5353, src=LO6, inode=42, attrs=[(8, b"\0")]
    )
    udp_meminfo = struct.pack("<9I", 0, 212992, 0, 212992, 0, 0, 0, 0, 48)
    udp = inet_diag_msg(
        state=7, sport=53, src=LO4, rqueue=1664, inode=1607305, attrs=[(8, b"\0"), (7, udp_meminfo)]
    )
    unix_listener = unix_diag_msg(
        state=10,
        inode=1609568,
        cookie=0x99,
        attrs=[
            (0, b"/tmp/t/dir with space/lis ten.sock\0"),
            (1, struct.pack("<II", 77, kernel_dev(254, 1))),
            (3, struct.pack("<2I", 2063166, 2063167)),
            (4, struct.pack("<II", 2, 5)),
            (6, b"\0"),
            (7, _u32(1000)),
        ],
    )
    unix_abstract = unix_diag_msg(
        type_=2,
        state=7,
        inode=1609572,
        attrs=[(0, b"\0abs\0tract name"), (4, struct.pack("<II", 0, 0)), (6, b"\0")],
    )
    unix_newline = unix_diag_msg(
        type_=5,
        state=1,
        inode=1609573,
        attrs=[(0, b"/tmp/nl\nx\xff.sock\0"), (2, _u32(1609574)), (6, b"\x03")],
    )
    unix_embryo = unix_diag_msg(state=1, inode=0, attrs=[(2, _u32(0)), (6, b"\0"), (42, b"unknown")])
    return {
        "tcp4-multipart.bin": first + second,
        "tcp6-bound.bin": sock(tcp6_bound) + done(),
        "udp4-drops.bin": sock(udp) + done(),
        "unix-names.bin": sock(unix_listener)
        + sock(unix_abstract)
        + sock(unix_newline)
        + sock(unix_embryo)
        + done(),
        "error-enoent.bin": error(-errno.ENOENT),
        "error-eperm.bin": error(-errno.EPERM),
        "done-enoent.bin": done(-errno.ENOENT),
        "truncated-message.bin": (sock(listener) + done())[:100],
        "truncated-attribute.bin": _break_first_attribute(sock(established) + done()),
        "truncated-inet-diag-msg.bin": sock(listener[:40]) + done(),
        "no-done.bin": sock(listener),
        "dump-interrupted.bin": sock(udp, flags=NLM_F_MULTI | NLM_F_DUMP_INTR) + done(),
    }


def _break_first_attribute(reply: bytes) -> bytes:
    """The first attribute claims more bytes than its message has left."""
    data = bytearray(reply)
    struct.pack_into("<H", data, 16 + 72, 0xFFF0)
    return bytes(data)


def write_fixtures() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for name, data in handwritten().items():
        (FIXTURES / name).write_bytes(data)


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# --- the hand-written fixtures ---------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(handwritten()))
def test_handwritten_fixture_is_what_the_encoder_writes(name: str) -> None:
    assert load(name) == handwritten()[name]


def test_multipart_tcp_reply_decodes_every_socket_kind() -> None:
    listener, established, time_wait, request = parse_inet_dump(
        load("tcp4-multipart.bin"), "tcp", byteorder="little"
    )

    assert listener.state is TcpState.LISTEN
    assert (str(listener.local), str(listener.remote)) == ("127.0.0.1:8080", "0.0.0.0:0")
    # a listener's queues as /proc shows them, and the backlog only netlink has
    assert (listener.rx_queue, listener.tx_queue, listener.listen_backlog) == (2, 0, 7)
    assert (listener.rto, listener.ato, listener.ssthresh, listener.cwnd) == (None, None, None, 10)
    # the socket cookie, as ss -e prints it (sk:4b522); no refcount, pointer nor row number
    assert listener.cookie == 0x4B522
    assert (listener.uid, listener.inode) == (1000, 1599628)
    assert (listener.refcount, listener.pointer, listener.slot) == (None, None, None)
    # a listener's tcp_info has no retransmits nor probes (tcp_get_info stops before them),
    # and no timer runs: idiag_retrans is not one of them either
    assert (listener.retransmits, listener.probes) == (None, None)
    assert listener.tcp_info is not None and listener.tcp_info.pacing_rate == 2**64 - 1

    assert established.state is TcpState.ESTABLISHED
    assert (established.rx_queue, established.tx_queue, established.listen_backlog) == (1000, 5, None)
    assert established.timer is Timer.KEEPALIVE
    assert established.timer_expires == 720000  # 7200 s in clock ticks at 100 Hz
    assert (established.probes, established.retransmits) == (3, 0)
    assert (established.rto, established.ato, established.cwnd, established.ssthresh) == (20, 4, 10, -1)
    assert established.shutdown == 2
    assert established.cookie == 0x1_0000_0001 and established.pointer is None
    info = established.tcp_info
    assert info is not None
    assert (info.rtt_us, info.rttvar_us, info.rto_us, info.snd_mss, info.rcv_mss) == (
        22,
        12,
        204000,
        32768,
        536,
    )
    # a 104-byte tcp_info (Linux 3.x) has none of the later counters
    assert (info.bytes_acked, info.bytes_received, info.pacing_rate, info.delivery_rate, info.min_rtt_us) == (
        None,
        None,
        None,
        None,
        None,
    )

    assert time_wait.state is TcpState.TIME_WAIT and time_wait.timer is Timer.TIME_WAIT
    assert (time_wait.cookie, time_wait.refcount, time_wait.pointer, time_wait.slot) == (7, None, None, None)
    # idiag_retrans 0 as sent; no probe counter: 0, the literal the text row prints
    assert (time_wait.retransmits, time_wait.probes) == (0, 0)
    assert (time_wait.uid, time_wait.inode, time_wait.shutdown, time_wait.timer_expires) == (
        None,
        0,
        None,
        5971,
    )

    assert request.state is TcpState.SYN_RECV and request.timer is Timer.RETRANSMIT
    assert (request.retransmits, request.uid, request.timer_expires) == (1, None, 50)
    assert (request.probes, request.cookie, request.refcount) == (0, 0, None)


def test_ticks_per_second_converts_milliseconds() -> None:
    records = list(
        parse_inet_dump(load("tcp4-multipart.bin"), "tcp", byteorder="little", ticks_per_second=1000)
    )
    assert [r.timer_expires for r in records] == [0, 7200000, 59712, 508]
    assert records[1].rto == 204


def test_state_filter_and_source_name() -> None:
    records = parse_inet_dump(load("tcp4-multipart.bin"), "tcp", byteorder="little", states=[TcpState.LISTEN])
    assert [r.state for r in records] == [TcpState.LISTEN]


def test_bound_inactive_sockets_come_back_as_close() -> None:
    (bound,) = parse_inet_dump(
        load("tcp6-bound.bin"), "tcp", byteorder="little", states=[TcpState.BOUND_INACTIVE]
    )
    assert bound.state is TcpState.CLOSE
    assert state_mask([TcpState.BOUND_INACTIVE]) == 1 << 13


def test_ipv6_bound_socket() -> None:
    (bound,) = parse_inet_dump(load("tcp6-bound.bin"), "tcp", byteorder="little")
    assert bound.family == socket.AF_INET6
    assert str(bound.local) == "[::1]:5353"
    assert bound.state is TcpState.CLOSE
    assert bound.tcp_info is None and bound.rto is None  # not asked for


def test_udp_drops_come_from_skmeminfo() -> None:
    (udp,) = parse_inet_dump(load("udp4-drops.bin"), "udp", byteorder="little")
    assert (udp.proto, udp.drops, udp.rx_queue, udp.tcp_info, udp.listen_backlog) == (
        "udp",
        48,
        1664,
        None,
        None,
    )
    assert udp.uid == 0 and udp.shutdown == 0


def test_unix_names_peers_and_derived_status() -> None:
    listener, abstract, newline, embryo = parse_unix_dump(load("unix-names.bin"), byteorder="little")

    assert listener.path == "/tmp/t/dir with space/lis ten.sock"
    assert (listener.state, listener.flags, listener.status) == (
        TcpState.LISTEN,
        UnixFlag.ACCEPTCON,
        SocketStatus.UNCONNECTED,
    )
    assert (listener.rqueue, listener.wqueue, listener.uid) == (2, 5, 1000)
    assert listener.pending_inodes == (2063166, 2063167)
    assert (listener.vfs_inode, listener.vfs_dev) == (77, os.makedev(254, 1))
    assert listener.type == socket.SOCK_STREAM and listener.cookie == 0x99
    assert (listener.pointer, listener.refcount, listener.protocol) == (None, None, 0)

    assert abstract.path == "@abs@tract name"  # every NUL shown as '@', as /proc shows it
    assert abstract.type == socket.SOCK_DGRAM and abstract.is_abstract
    assert abstract.peer_inode is None and abstract.uid is None  # not sent

    assert newline.path == "/tmp/nl\nx\udcff.sock"  # raw bytes kept, as the text parser keeps them
    assert os.fsencode(newline.path) == b"/tmp/nl\nx\xff.sock"
    assert (newline.type, newline.peer_inode, newline.shutdown) == (socket.SOCK_SEQPACKET, 1609574, 3)
    assert newline.status is SocketStatus.CONNECTED

    # An embryo has no file: /proc prints it SS_CONNECTING; the kernel's state is ESTABLISHED.
    assert (embryo.inode, embryo.state, embryo.status, embryo.path) == (
        0,
        TcpState.ESTABLISHED,
        SocketStatus.CONNECTING,
        None,
    )


# --- nothing invented: what sock_diag does not carry is None ------------------------------

_COOKIE = 0x0123_4567_89AB_CDEF  # two different words: a swap would show


@pytest.mark.parametrize("order", ["little", "big"])
def test_inet_cookie_is_one_u64_low_word_first_in_either_byte_order(order: str) -> None:
    p = _p(order)
    # idiag_cookie[0] is the low word, [1] the high one (sock_diag_save_cookie), each in
    # the kernel's byte order: written here by hand, not by the encoder above
    message = bytearray(inet_diag_msg(state=1, inode=5, attrs=[(8, b"\0")], order=order))
    struct.pack_into(p + "II", message, 44, 0x89AB_CDEF, 0x0123_4567)  # id.idiag_cookie
    (r,) = parse_inet_dump(sock(bytes(message), order=order) + done(order=order), "tcp", byteorder=order)
    assert r.cookie == _COOKIE and "%x" % r.cookie == "123456789abcdef"  # ss -e: sk:123456789abcdef
    assert (r.refcount, r.pointer, r.slot) == (None, None, None)


@pytest.mark.parametrize("order", ["little", "big"])
def test_unix_cookie_is_one_u64_low_word_first_in_either_byte_order(order: str) -> None:
    p = _p(order)
    message = bytearray(unix_diag_msg(state=10, inode=5, order=order))
    struct.pack_into(p + "II", message, 8, 0x89AB_CDEF, 0x0123_4567)  # udiag_cookie
    (r,) = parse_unix_dump(sock(bytes(message), order=order) + done(order=order), byteorder=order)
    assert r.cookie == _COOKIE
    assert (r.refcount, r.pointer) == (None, None)


@pytest.mark.parametrize(
    "timer, retransmits, probes",
    [(0, None, None), (1, 5, None), (2, None, 5), (4, None, 5), (9, None, None)],
)
def test_full_tcp_socket_without_tcp_info_has_only_the_counter_its_timer_shows(
    timer: int, retransmits: Any, probes: Any
) -> None:
    # inet_sk_diag_fill: idiag_retrans is icsk_retransmits with timer 1, icsk_probes_out
    # with timers 2 and 4; nothing else (SHUTDOWN marks a full socket)
    message = inet_diag_msg(state=1, timer=timer, retrans=5, inode=9, attrs=[(8, b"\0")])
    (r,) = parse_inet_dump(sock(message) + done(), "tcp", byteorder="little")
    assert (r.retransmits, r.probes) == (retransmits, probes)


def test_tcp_info_gives_both_counters_but_not_for_a_listener() -> None:
    info = tcp_info(retransmits=2, probes=3, snd_cwnd=10)
    full_message = inet_diag_msg(state=1, inode=9, attrs=[(8, b"\0"), (2, info)])
    (full,) = parse_inet_dump(sock(full_message) + done(), "tcp")
    assert (full.retransmits, full.probes) == (2, 3)
    # tcp_get_info returns before filling them for a listener: its zeros are not counters
    listener = inet_diag_msg(state=10, timer=0, inode=9, attrs=[(8, b"\0"), (2, tcp_info(snd_cwnd=10))])
    (lis,) = parse_inet_dump(sock(listener) + done(), "tcp")
    assert (lis.retransmits, lis.probes, lis.cwnd) == (None, None, 10)


@pytest.mark.parametrize("proto", ["udp", "raw"])
def test_udp_and_raw_drops_come_from_skmeminfo(proto: str) -> None:
    reply = sock(inet_diag_msg(state=7, inode=9, attrs=[(8, b"\0"), (7, _SKMEM), (10, b"\xfd")])) + done()
    (r,) = parse_inet_dump(reply, proto, byteorder="little")
    assert r.drops == 9 and (r.retransmits, r.probes) == (0, 0)


def test_unix_state_filter() -> None:
    records = parse_unix_dump(load("unix-names.bin"), byteorder="little", states=[TcpState.LISTEN])
    assert [r.inode for r in records] == [1609568]


@pytest.mark.parametrize(
    "name, cls, code",
    [
        ("error-enoent.bin", NetlinkUnavailable, errno.ENOENT),
        ("done-enoent.bin", NetlinkUnavailable, errno.ENOENT),
        ("error-eperm.bin", NetlinkError, errno.EPERM),
    ],
)
def test_error_replies_raise_netlink_errors(name: str, cls: Type[NetlinkError], code: int) -> None:
    with pytest.raises(cls) as info:
        list(parse_inet_dump(load(name), "raw", byteorder="little"))
    assert info.value.errno == code
    assert isinstance(info.value, ProcNetError) and isinstance(info.value, OSError)
    assert "sock_diag raw" in str(info.value)
    if cls is NetlinkError:
        assert not isinstance(info.value, NetlinkUnavailable)


@pytest.mark.parametrize(
    "name, reason",
    [
        ("truncated-message.bin", "truncated message at offset 0: nlmsg_len 380 but only 100 bytes left"),
        ("truncated-attribute.bin", "bad attribute at offset 88 of the message at offset 0: nla_len 65520"),
        ("truncated-inet-diag-msg.bin", "truncated inet_diag_msg at offset 0: 40 bytes, needs 72"),
        ("no-done.bin", "the reply ends at offset 380 without NLMSG_DONE"),
    ],
)
def test_bad_replies_raise_parse_error_naming_the_offset(name: str, reason: str) -> None:
    with pytest.raises(ParseError) as info:
        list(parse_inet_dump(load(name), "tcp", byteorder="little"))
    assert reason in info.value.reason
    assert info.value.path == "sock_diag tcp"
    assert str(info.value).startswith("sock_diag tcp: ")


def test_dump_interrupted_flag_is_kept() -> None:
    decoder = InetDumpDecoder("udp", byteorder="little")
    records = decoder.feed(load("dump-interrupted.bin"))
    assert len(records) == 1 and decoder.done and decoder.interrupted


def test_decoder_fed_datagram_by_datagram_counts_offsets_across_them() -> None:
    data = load("tcp4-multipart.bin")
    datagrams = [data[:380], data[380:]]  # listener alone, then the rest
    decoder = InetDumpDecoder("tcp", byteorder="little")
    assert len(decoder.feed(datagrams[0])) == 1
    assert len(decoder.feed(datagrams[1])) == 3
    assert decoder.done and decoder.offset == len(data)
    with pytest.raises(ParseError, match="after NLMSG_DONE"):
        decoder.feed(done())


def test_ack_and_noop_messages_are_skipped() -> None:
    ack = error(0)
    noop = nlmsg(1, b"")
    assert list(parse_inet_dump(ack + noop + done(), "tcp", byteorder="little")) == []


def test_done_without_payload_ends_the_dump() -> None:
    assert list(parse_inet_dump(nlmsg(NLMSG_DONE, b""), "tcp", byteorder="little")) == []


def test_same_inode_twice_is_yielded_once() -> None:
    msg = sock(inet_diag_msg(state=7, sport=53, src=LO4, inode=5))
    assert len(list(parse_inet_dump(msg + msg + done(), "udp", byteorder="little"))) == 1
    tw = sock(inet_diag_msg(state=6, timer=3, sport=1, src=LO4, inode=0))
    assert len(list(parse_inet_dump(tw + tw + done(), "tcp", byteorder="little"))) == 2


def test_raw_protocol_is_the_local_port() -> None:
    raw = inet_diag_msg(state=7, sport=1, dport=99, src=LO4, inode=9, attrs=[(8, b"\0"), (10, b"\xfd")])
    (record,) = parse_inet_dump(sock(raw) + done(), "raw", byteorder="little")
    assert (record.local.port, record.remote.port, record.protocol) == (253, 0, 253)


def test_short_fixed_size_attributes_are_parse_errors() -> None:
    short_tcp_info = sock(inet_diag_msg(state=1, attrs=[(8, b"\0"), (2, bytes(100))])) + done()
    with pytest.raises(ParseError, match="INET_DIAG_INFO .* has 100 bytes, needs 104"):
        list(parse_inet_dump(short_tcp_info, "tcp", byteorder="little"))
    for attr, size in ((1, 7), (2, 3), (4, 7), (6, 0), (7, 3)):
        reply = sock(unix_diag_msg(attrs=[(attr, bytes(size))])) + done()
        with pytest.raises(ParseError, match="has %d bytes, needs" % size):
            list(parse_unix_dump(reply, byteorder="little"))
    icons = sock(unix_diag_msg(attrs=[(3, bytes(6))])) + done()
    with pytest.raises(ParseError, match="not a multiple of 4"):
        list(parse_unix_dump(icons, byteorder="little"))


def test_wrong_family_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="address family 1"):
        list(parse_inet_dump(sock(inet_diag_msg(family=1)) + done(), "tcp", byteorder="little"))
    bad_unix = bytearray(sock(unix_diag_msg()) + done())
    bad_unix[16] = socket.AF_INET
    with pytest.raises(ParseError, match="not AF_UNIX"):
        list(parse_unix_dump(bytes(bad_unix), byteorder="little"))


def test_bad_nlmsg_len_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="nlmsg_len 8 is shorter than the header"):
        list(iter_messages(struct.pack("<IHHII", 8, 3, 0, 0, 0), byteorder="little"))
    with pytest.raises(ParseError, match="truncated message at offset 20: 3 bytes left"):
        list(iter_messages(done() + b"abc", byteorder="little"))


def test_attribute_flag_bits_are_masked_and_type_zero_kept() -> None:
    payload = nlattr(0x8000 | 3, b"abcd") + nlattr(0, b"x")
    assert list(iter_attributes(payload, 0, byteorder="little")) == [(3, b"abcd"), (0, b"x")]


# --- requests ----------------------------------------------------------------------------------


def test_inet_request_layout() -> None:
    req = inet_request("tcp", socket.AF_INET6, [TcpState.LISTEN], byteorder="little")
    assert len(req) == 72
    assert struct.unpack_from("<IHHII", req) == (72, SOCK_DIAG_BY_FAMILY, 0x301, 1, 0)
    family, protocol, ext, pad, states = struct.unpack_from("<BBBBI", req, 16)
    # SHUTDOWN 0x80, INFO 0x02, CONG 0x08, SKMEMINFO 0x40 (ss -tim asks for the same)
    assert (family, protocol, ext, pad, states) == (socket.AF_INET6, 6, 0xCA, 0, 1 << 10)
    assert req[24:64] == bytes(40)
    assert struct.unpack_from("<II", req, 64) == (0xFFFFFFFF, 0xFFFFFFFF)
    udp = inet_request("udplite", socket.AF_INET, byteorder="big")
    assert struct.unpack_from(">BBBBI", udp, 16) == (socket.AF_INET, 136, 0xC0, 0, 0x1FFF)
    assert inet_request("tcp", socket.AF_INET, tcp_info=False)[18] == 0x80


def test_unix_request_layout() -> None:
    req = unix_request(byteorder="little")
    assert len(req) == 40
    assert struct.unpack_from("<BBHIIIII", req, 16) == (
        socket.AF_UNIX,
        0,
        0,
        0xFFFFFFFF,
        0,
        0x7F,  # every UDIAG_SHOW_* up to UID, MEMINFO (0x20) included
        0xFFFFFFFF,
        0xFFFFFFFF,
    )
    assert struct.unpack_from("<I", unix_request([TcpState.LISTEN], byteorder="little"), 20) == (1 << 10,)


@pytest.mark.parametrize(
    "call",
    [
        lambda: inet_request("sctp", socket.AF_INET),
        lambda: inet_request("tcp", socket.AF_UNIX),
        lambda: inet_request("tcp", socket.AF_INET, byteorder="middle"),
        lambda: state_mask([32]),
        lambda: InetDumpDecoder("icmp"),
        lambda: InetDumpDecoder("tcp", ticks_per_second=0),
    ],
)
def test_bad_arguments_are_value_errors(call: Any) -> None:
    with pytest.raises(ValueError):
        call()


def test_unix_path_forms() -> None:
    assert unix_path(b"/a\0") == "/a"
    assert unix_path(b"/no-nul") == "/no-nul"
    assert unix_path(b"\0") == "@"
    assert unix_path(b"\0\0x\0") == "@@x@"


# --- properties ----------------------------------------------------------------------------

u8 = st.integers(0, 255)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
orders = st.sampled_from(["little", "big"])


@st.composite
def inet_cases(draw: Any) -> Dict[str, Any]:
    family = draw(st.sampled_from([socket.AF_INET, socket.AF_INET6]))
    size = 4 if family == socket.AF_INET else 16
    case: Dict[str, Any] = dict(
        proto=draw(st.sampled_from(["tcp", "udp", "udplite", "raw"])),
        family=family,
        state=draw(st.integers(1, 13)),
        timer=draw(st.integers(0, 4)),
        retrans=draw(u8),
        sport=draw(u16),
        dport=draw(u16),
        # for AF_INET the kernel zeroes the other 12 bytes; anything there is ignored
        src=draw(st.binary(min_size=16, max_size=16))
        if family == socket.AF_INET6
        else draw(st.binary(min_size=4, max_size=16)),
        dst=draw(st.binary(min_size=size, max_size=16)),
        cookie=draw(st.integers(0, 2**64 - 1)),
        expires=draw(u32),
        rqueue=draw(u32),
        wqueue=draw(u32),
        uid=draw(u32),
        inode=draw(u32),
        shutdown=draw(st.one_of(st.none(), st.integers(0, 3))),
        info=draw(
            st.one_of(
                st.none(),
                st.fixed_dictionaries(
                    {
                        name: (u8 if code == "B" else u32 if code == "I" else st.integers(0, 2**64 - 1))
                        for name, (_, code) in TCP_INFO_FIELDS.items()
                    }
                ),
            )
        ),
        info_size=draw(st.sampled_from([104, 112, 136, 168, 232, 248, 280, 300])),
        unknown=draw(st.lists(st.tuples(st.integers(23, 0x3FFF), st.binary(max_size=12)), max_size=3)),
        protocol=draw(u8),
        order=draw(orders),
    )
    return case


@settings(max_examples=300, deadline=None)
@given(inet_cases())
def test_inet_round_trip(case: Dict[str, Any]) -> None:
    attrs: List[Tuple[int, bytes]] = list(case["unknown"])
    if case["shutdown"] is not None:
        attrs.append((8, bytes([case["shutdown"]])))
    if case["info"] is not None:
        attrs.insert(0, (2, tcp_info(case["info_size"], order=case["order"], **case["info"])))
    if case["proto"] == "raw":
        attrs.append((10, bytes([case["protocol"]])))
    payload = inet_diag_msg(
        family=case["family"],
        state=case["state"],
        timer=case["timer"],
        retrans=case["retrans"],
        sport=case["sport"],
        dport=case["dport"],
        src=case["src"],
        dst=case["dst"],
        cookie=case["cookie"],
        expires=case["expires"],
        rqueue=case["rqueue"],
        wqueue=case["wqueue"],
        uid=case["uid"],
        inode=case["inode"],
        attrs=attrs,
        order=case["order"],
    )
    reply = sock(payload, order=case["order"]) + done(order=case["order"])
    (r,) = parse_inet_dump(reply, case["proto"], byteorder=case["order"])

    ip = ipaddress.ip_address(case["src"][:4] if case["family"] == socket.AF_INET else case["src"])
    assert isinstance(r, InetSocket)
    assert r.proto == case["proto"] and r.family == case["family"]
    assert r.local.ip == ip
    assert r.remote.ip == ipaddress.ip_address(case["dst"][: 4 if case["family"] == socket.AF_INET else 16])
    if case["proto"] == "raw":
        assert (r.local.port, r.remote.port) == (case["protocol"], 0)
    else:
        assert (r.local.port, r.remote.port) == (case["sport"], case["dport"])
    assert r.state == case["state"] and r.timer == case["timer"]
    assert r.timer_expires == case["expires"] // 10
    assert r.inode == case["inode"]
    assert r.cookie == case["cookie"]
    assert (r.refcount, r.pointer, r.slot) == (None, None, None)
    assert r.shutdown == case["shutdown"]
    is_tcp = case["proto"] == "tcp"
    listening = is_tcp and case["state"] == TcpState.LISTEN
    assert r.rx_queue == case["rqueue"]
    assert r.tx_queue == (0 if listening else case["wqueue"])
    assert r.listen_backlog == (case["wqueue"] if listening else None)
    if is_tcp and case["shutdown"] is None:
        assert r.uid is None
    else:
        assert r.uid == case["uid"]
    info = case["info"] if is_tcp else None
    # retransmits and probes: what the message says, never a stand-in
    if not is_tcp:
        assert (r.retransmits, r.probes) == (0, 0)  # UDP and raw: the text's literal zeros
    elif info is not None and not listening:
        assert (r.retransmits, r.probes) == (info["retransmits"], info["probes"])  # tcp_info
    elif case["shutdown"] is None:
        assert (r.retransmits, r.probes) == (case["retrans"], 0)  # a minisocket
    else:
        assert r.retransmits == (case["retrans"] if case["timer"] == 1 else None)
        assert r.probes == (case["retrans"] if case["timer"] in (2, 4) else None)
    if info is None:
        assert r.tcp_info is None and r.rto is None and r.cwnd is None
        return
    t = r.tcp_info
    assert t is not None
    assert (t.rtt_us, t.rttvar_us, t.rto_us, t.ato_us) == (
        info["rtt"],
        info["rttvar"],
        info["rto"],
        info["ato"],
    )
    assert (t.snd_mss, t.rcv_mss, t.snd_cwnd, t.snd_ssthresh) == (
        info["snd_mss"],
        info["rcv_mss"],
        info["snd_cwnd"],
        info["snd_ssthresh"],
    )
    assert (t.retransmits, t.total_retrans, t.unacked, t.lost) == (
        info["retransmits"],
        info["total_retrans"],
        info["unacked"],
        info["lost"],
    )
    size = case["info_size"]
    assert t.pacing_rate == (info["pacing_rate"] if size >= 112 else None)
    assert t.bytes_acked == (info["bytes_acked"] if size >= 128 else None)
    assert t.bytes_received == (info["bytes_received"] if size >= 136 else None)
    assert t.min_rtt_us == (info["min_rtt"] if size >= 152 else None)
    assert t.delivery_rate == (info["delivery_rate"] if size >= 168 else None)
    assert r.cwnd == info["snd_cwnd"]
    if listening:
        assert (r.rto, r.ato, r.ssthresh) == (None, None, None)
    else:
        assert r.rto == info["rto"] // 10000 and r.ato == info["ato"] // 10000
        assert r.ssthresh == (-1 if info["snd_ssthresh"] >= 0x7FFFFFFF else info["snd_ssthresh"])


def _expected_path(name: bytes) -> str:
    if name.startswith(b"\0"):
        return "@" + name[1:].replace(b"\0", b"@").decode("utf-8", "surrogateescape")
    return name[:-1].decode("utf-8", "surrogateescape")


@st.composite
def unix_cases(draw: Any) -> Dict[str, Any]:
    name = draw(
        st.one_of(
            st.none(),
            st.binary(min_size=1, max_size=107).filter(lambda b: b"\0" not in b).map(lambda b: b + b"\0"),
            st.binary(max_size=107).map(lambda b: b"\0" + b),
        )
    )
    return dict(
        type_=draw(st.sampled_from([1, 2, 5, 3])),
        state=draw(st.sampled_from([1, 7, 10])),
        inode=draw(u32),
        cookie=draw(st.integers(0, 2**64 - 1)),
        name=name,
        vfs=draw(st.one_of(st.none(), st.tuples(u32, st.integers(0, 4095), st.integers(0, 0xFFFFF)))),
        peer=draw(st.one_of(st.none(), u32)),
        icons=draw(st.one_of(st.none(), st.lists(u32, max_size=5))),
        rqlen=draw(st.one_of(st.none(), st.tuples(u32, u32))),
        shutdown=draw(st.one_of(st.none(), st.integers(0, 3))),
        uid=draw(st.one_of(st.none(), u32)),
        unknown=draw(st.lists(st.tuples(st.integers(8, 0x3FFF), st.binary(max_size=9)), max_size=2)),
        order=draw(orders),
    )


@settings(max_examples=300, deadline=None)
@given(unix_cases())
def test_unix_round_trip(case: Dict[str, Any]) -> None:
    p = _p(case["order"])
    attrs: List[Tuple[int, bytes]] = list(case["unknown"])
    if case["name"] is not None:
        attrs.append((0, case["name"]))
    if case["vfs"] is not None:
        ino, major, minor = case["vfs"]
        attrs.append((1, struct.pack(p + "II", ino, kernel_dev(major, minor))))
    if case["peer"] is not None:
        attrs.append((2, struct.pack(p + "I", case["peer"])))
    if case["icons"] is not None:
        attrs.append((3, struct.pack(p + "%dI" % len(case["icons"]), *case["icons"])))
    if case["rqlen"] is not None:
        attrs.append((4, struct.pack(p + "II", *case["rqlen"])))
    if case["shutdown"] is not None:
        attrs.append((6, bytes([case["shutdown"]])))
    if case["uid"] is not None:
        attrs.append((7, struct.pack(p + "I", case["uid"])))
    payload = unix_diag_msg(
        type_=case["type_"],
        state=case["state"],
        inode=case["inode"],
        cookie=case["cookie"],
        attrs=attrs,
        order=case["order"],
    )
    (r,) = parse_unix_dump(
        sock(payload, order=case["order"]) + done(order=case["order"]), byteorder=case["order"]
    )

    assert isinstance(r, UnixSocket)
    assert r.type == case["type_"] and r.state == case["state"] and r.inode == case["inode"]
    assert r.cookie == case["cookie"] and (r.pointer, r.refcount) == (None, None)
    assert r.path == (None if case["name"] is None else _expected_path(case["name"]))
    assert r.is_listening == (r.flags == UnixFlag.ACCEPTCON)
    if case["inode"]:
        assert r.status == (SocketStatus.CONNECTED if case["state"] == 1 else SocketStatus.UNCONNECTED)
    else:
        assert r.status == (SocketStatus.CONNECTING if case["state"] == 1 else SocketStatus.DISCONNECTING)
    if case["vfs"] is None:
        assert (r.vfs_inode, r.vfs_dev) == (None, None)
    else:
        assert (r.vfs_inode, r.vfs_dev) == (case["vfs"][0], os.makedev(case["vfs"][1], case["vfs"][2]))
    assert r.peer_inode == case["peer"]
    assert r.pending_inodes == (None if case["icons"] is None else tuple(case["icons"]))
    assert (r.rqueue, r.wqueue) == (case["rqlen"] if case["rqlen"] is not None else (None, None))
    assert r.shutdown == case["shutdown"] and r.uid == case["uid"]


def _decode_all(data: bytes, kind: str) -> None:
    if kind == "unix":
        list(parse_unix_dump(data, byteorder="little"))
    else:
        list(parse_inet_dump(data, kind, byteorder="little"))


def _valid_replies() -> List[Tuple[bytes, str]]:
    fixtures = handwritten()
    return [
        (fixtures["tcp4-multipart.bin"], "tcp"),
        (fixtures["unix-names.bin"], "unix"),
        (fixtures["udp4-drops.bin"], "udp"),
    ]


@pytest.mark.parametrize("reply, kind", _valid_replies())
def test_every_truncation_is_a_parse_error(reply: bytes, kind: str) -> None:
    for cut in range(len(reply)):
        with pytest.raises(ParseError):
            _decode_all(reply[:cut], kind)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(_valid_replies()), st.data())
def test_corrupted_replies_raise_only_procnet_errors(case: Tuple[bytes, str], data: Any) -> None:
    reply, kind = case
    buf = bytearray(reply)
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, len(buf) - 1))
        buf[pos] = data.draw(u8)
    cut = data.draw(st.integers(0, len(buf)))
    try:
        _decode_all(bytes(buf[:cut]), kind)
    except (ParseError, NetlinkError):
        pass  # anything else (struct.error, IndexError, ValueError...) fails the test


# --- fixtures captured from the live kernel -----------------------------------------------


def _captured() -> List[str]:
    return sorted(p.name[: -len(".json")] for p in FIXTURES.glob("live-*.json"))


@pytest.mark.parametrize("name", _captured())
def test_captured_reply_decodes_to_what_proc_showed(name: str) -> None:
    meta = json.loads((FIXTURES / (name + ".json")).read_text())
    data = load(name + ".bin")
    expected: Dict[int, Dict[str, Any]] = {int(k): v for k, v in meta["sockets"].items()}
    if meta["proto"] == "unix":
        records: Iterable[Any] = parse_unix_dump(data, byteorder=meta["byteorder"])
    else:
        records = parse_inet_dump(
            data, meta["proto"], byteorder=meta["byteorder"], ticks_per_second=meta["ticks_per_second"]
        )
    got = {r.inode: r for r in records}
    assert set(expected) <= set(got)
    for inode, want in expected.items():
        r = got[inode]
        for field, value in want.items():
            actual = getattr(r, field)
            if field in ("local", "remote"):
                actual = str(actual)
            elif field == "state":
                actual = actual.name
            assert actual == value, (inode, field)


def test_captured_raw_reply_without_raw_diag_is_netlink_unavailable() -> None:
    """Captured on a kernel built without CONFIG_INET_RAW_DIAG: NLMSG_DONE carries -ENOENT."""
    with pytest.raises(NetlinkUnavailable) as info:
        list(parse_inet_dump(load("live-raw-reply.bin"), "raw", byteorder="little"))
    assert info.value.errno == errno.ENOENT


if __name__ == "__main__":
    write_fixtures()
    print("wrote %d fixtures to %s" % (len(handwritten()), FIXTURES), file=sys.stderr)


# --- ss -i / -m attributes: INET_DIAG_CONG, INET_DIAG_SKMEMINFO, UNIX_DIAG_MEMINFO ----------

_EVERY_INFO = dict(
    rtt=20, rttvar=10, rto=204000, snd_mss=32768, snd_cwnd=10, backoff=1, options=7,
    wscale=0x9A, flags=1, pmtu=65535, rcv_ssthresh=65483, advmss=65483, reordering=3,
    rcv_rtt=7, rcv_space=65483, max_pacing_rate=99, segs_out=4, segs_in=3, notsent_bytes=5,
    data_segs_in=1, data_segs_out=2, busy_time=3000, rwnd_limited=1000, sndbuf_limited=500,
    delivered=2, delivered_ce=1, bytes_sent=500, bytes_retrans=6, dsack_dups=8, reord_seen=9,
    rcv_ooopack=11, snd_wnd=65536, rcv_wnd=65535, rehash=12, last_data_sent=40,
    last_data_recv=41, last_ack_recv=42, sacked=13, retrans=14,
)
_SKMEM = struct.pack("<9I", 1, 131072, 3, 16384, 5, 6, 7, 8, 9)


def _tcp_reply(info: bytes, extra: Sequence[Tuple[int, bytes]] = (), order: str = "little") -> bytes:
    attrs = [(2, info), *extra, (8, b"\0")]
    return sock(inet_diag_msg(state=1, inode=5, attrs=attrs, order=order), order=order) + done(order=order)


@pytest.mark.parametrize("order", ["little", "big"])
def test_tcp_info_fields_ss_shows_are_read_by_offset(order: str) -> None:
    skmem = struct.pack(_p(order) + "9I", 1, 131072, 3, 16384, 5, 6, 7, 8, 9)
    wscale = 0x9A if order == "little" else 0xA9  # the 4-bit fields fill from the other end
    flags = 1 if order == "little" else 0x80
    fields = dict(_EVERY_INFO, wscale=wscale, flags=flags)
    reply = _tcp_reply(tcp_info(order=order, **fields), [(4, b"bbr\0"), (7, skmem)], order)
    (r,) = parse_inet_dump(reply, "tcp", byteorder=order)
    ti = r.tcp_info
    assert ti is not None and r.skmem == (1, 131072, 3, 16384, 5, 6, 7, 8, 9)
    assert (ti.congestion, ti.snd_wscale, ti.rcv_wscale, ti.app_limited, ti.options) == ("bbr", 10, 9, True, 7)
    assert (ti.pmtu, ti.rcv_ssthresh, ti.advmss, ti.rcv_space, ti.reordering, ti.rcv_rtt_us) == (
        65535, 65483, 65483, 65483, 3, 7)
    assert (ti.snd_wnd, ti.rcv_wnd, ti.rehash, ti.rcv_ooopack) == (65536, 65535, 12, 11)
    assert (ti.segs_out, ti.segs_in, ti.data_segs_out, ti.data_segs_in, ti.notsent_bytes) == (4, 3, 2, 1, 5)
    assert (ti.bytes_sent, ti.bytes_retrans, ti.delivered, ti.delivered_ce) == (500, 6, 2, 1)
    assert (ti.busy_time_us, ti.rwnd_limited_us, ti.sndbuf_limited_us) == (3000, 1000, 500)
    assert (ti.last_data_sent_ms, ti.last_data_recv_ms, ti.last_ack_recv_ms) == (40, 41, 42)
    assert (ti.dsack_dups, ti.reord_seen, ti.backoff, ti.sacked, ti.retrans) == (8, 9, 1, 13, 14)
    assert (ti.max_pacing_rate, ti.rtt_us, ti.snd_cwnd, r.cwnd) == (99, 20, 10, 10)


def test_short_tcp_info_leaves_the_newer_fields_none() -> None:
    # 168 bytes: a Linux 4.9 struct, up to delivery_rate; an unknown congestion name
    reply = _tcp_reply(tcp_info(168, **_EVERY_INFO), [(4, b"my-cc\0junk")])
    (r,) = parse_inet_dump(reply, "tcp", byteorder="little")
    ti = r.tcp_info
    assert ti is not None and ti.congestion == "my-cc"
    assert (ti.snd_wscale, ti.rcv_wscale, ti.pmtu, ti.advmss, ti.app_limited) == (10, 9, 65535, 65483, True)
    assert (ti.segs_out, ti.data_segs_out, ti.max_pacing_rate) == (4, 2, 99)
    for name in ("busy_time_us", "delivered", "bytes_sent", "dsack_dups", "snd_wnd", "rcv_wnd", "rehash"):
        assert getattr(ti, name) is None, name
    assert r.skmem is None  # not sent
    # 104 bytes, the oldest layout: no app_limited bit yet either
    (old,) = parse_inet_dump(_tcp_reply(tcp_info(104, **_EVERY_INFO)), "tcp", byteorder="little")
    assert old.tcp_info is not None
    assert (old.tcp_info.app_limited, old.tcp_info.segs_out, old.tcp_info.pmtu) == (None, None, 65535)


def test_pending_tcp_info_equals_and_pickles_as_a_plain_one() -> None:
    import pickle

    reply = _tcp_reply(tcp_info(**_EVERY_INFO), [(4, b"cubic\0")])
    (a,) = parse_inet_dump(reply, "tcp", byteorder="little")
    (b,) = parse_inet_dump(reply, "tcp", byteorder="little")
    assert a == b and hash(a.tcp_info) == hash(b.tcp_info)
    assert pickle.loads(pickle.dumps(a)) == a
    assert a.tcp_info is not None and type(a.tcp_info).__name__ == "TcpInfo"  # decoded now
    assert "congestion='cubic'" in repr(b.tcp_info)


def test_skmeminfo_of_udp_and_of_another_length() -> None:
    udp = sock(inet_diag_msg(state=7, inode=9, attrs=[(7, _SKMEM), (8, b"\0")])) + done()
    (r,) = parse_inet_dump(udp, "udp", byteorder="little")
    assert r.skmem == (1, 131072, 3, 16384, 5, 6, 7, 8, 9) and r.drops == 9
    seven = sock(inet_diag_msg(state=7, inode=9, attrs=[(7, _SKMEM[:28])])) + done()
    (r,) = parse_inet_dump(seven, "udp", byteorder="little")
    assert r.skmem == (1, 131072, 3, 16384, 5, 6, 7) and r.drops is None


def test_unix_meminfo() -> None:
    reply = sock(unix_diag_msg(inode=77, attrs=[(5, _SKMEM)])) + done()
    (u,) = parse_unix_dump(reply, byteorder="little")
    assert u.skmem == (1, 131072, 3, 16384, 5, 6, 7, 8, 9)
    (bare,) = parse_unix_dump(sock(unix_diag_msg(inode=78)) + done(), byteorder="little")
    assert bare.skmem is None
