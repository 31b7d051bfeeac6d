"""Hypothesis strategies for records, shaped like the rows the kernel really prints.

Each inet strategy follows one printer of the kernel (net/ipv4/tcp_ipv4.c get_tcp4_sock,
get_timewait4_sock, get_openreq4; net/ipv4/udp.c udp4_format_sock; net/ipv4/raw.c;
net/ipv6/datagram.c) so that a round trip through the formatter and the parser must give
the same records back. Unix records keep ``state`` consistent with Flags and St through
:func:`procnet._parse.unix.unix_state`, as the parser derives it.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any, Callable, List, TypeVar

from hypothesis import strategies as st

from procnet import InetSocket, UnixSocket
from procnet._parse.unix import _ROW as UNIX_ROW
from procnet._parse.unix import unix_state
from procnet._records import Endpoint, SocketStatus, TcpState, Timer, UnixFlag

T = TypeVar("T")

U32 = 2**32 - 1
U64 = 2**64 - 1
INT_MIN, INT_MAX = -(2**31), 2**31 - 1

INET_TABLES = ["tcp", "tcp6", "udp", "udp6", "udplite", "udplite6", "raw", "raw6"]
BYTEORDERS = ["little", "big"]

#: %pK: 16 lowercase hex digits on 64-bit (hashed or zeros), 8 on 32-bit.
pointers = st.one_of(
    st.just("0000000000000000"),
    st.text("0123456789abcdef", min_size=16, max_size=16),
    st.text("0123456789abcdef", min_size=8, max_size=8),
)

ipv4 = st.builds(ipaddress.IPv4Address, st.integers(0, U32))
ipv6 = st.one_of(
    st.builds(ipaddress.IPv6Address, st.integers(0, 2**128 - 1)),
    # IPv4-mapped (dual-stack sockets), loopback and the wildcard
    st.builds(lambda v: ipaddress.IPv6Address("::ffff:%s" % v), ipv4),
    st.sampled_from([ipaddress.IPv6Address("::1"), ipaddress.IPv6Address("::")]),
)
ports = st.integers(0, 65535)

#: every state the kernel's printers can print (tcp_states.h), plus numbers it does not know yet
tcp_full_states = st.one_of(
    st.sampled_from([s for s in TcpState if s not in (TcpState.TIME_WAIT, TcpState.NEW_SYN_RECV, TcpState.BOUND_INACTIVE)]),
    st.builds(TcpState, st.integers(14, 255)),
)


def _family(table: str) -> socket.AddressFamily:
    return socket.AF_INET6 if table.endswith("6") else socket.AF_INET


def _proto(table: str) -> str:
    return table.rstrip("6")


def endpoints(table: str, port: Any = ports) -> Any:
    return st.builds(Endpoint, ipv6 if table.endswith("6") else ipv4, port)


def _sl(table: str) -> Any:
    proto = _proto(table)
    if proto == "tcp":
        # a row counter: 4 columns up to 9999, then the line just grows
        return st.one_of(st.integers(0, 9999), st.integers(10000, 10**7))
    if proto == "raw" and not table.endswith("6"):
        return st.integers(0, 255)  # raw hash bucket (RAW_HTABLE_SIZE)
    return st.integers(0, 65535)  # udp hash bucket


@st.composite
def tcp_full_rows(draw: Callable[[Any], Any], table: str) -> InetSocket:
    """get_tcp4_sock / get_tcp6_sock: 17 fields; LISTEN prints the fastopen queue limit."""
    state = draw(tcp_full_states)
    listening = state == TcpState.LISTEN
    last = draw(st.integers(-1, INT_MAX)) if not listening else draw(st.integers(0, INT_MAX))
    return InetSocket(
        "tcp",
        _family(table),
        draw(endpoints(table)),
        draw(endpoints(table)),
        state,
        draw(st.integers(0, U32)),
        draw(st.integers(0, U32)),
        Timer(draw(st.sampled_from([0, 1, 2, 4]))),
        draw(st.integers(0, U64)),
        draw(st.integers(0, U32)),
        draw(st.integers(0, U32)),
        draw(st.integers(0, 255)),
        draw(st.integers(0, U64)),
        draw(st.integers(INT_MIN, INT_MAX)),
        draw(pointers),
        draw(_sl(table)),
        rto=draw(st.integers(0, U64)),
        ato=draw(st.integers(0, U64)),
        quick_ack=draw(st.integers(0, 2**31 - 1)),
        pingpong=draw(st.booleans()),
        cwnd=draw(st.integers(0, U32)),
        ssthresh=None if listening else last,
        fastopen_max_qlen=last if listening else None,
    )


@st.composite
def tcp_timewait_rows(draw: Callable[[Any], Any], table: str) -> InetSocket:
    """get_timewait4_sock: 12 fields, tw_substate TIME_WAIT or FIN_WAIT2, tr 3, no uid, no inode."""
    return InetSocket(
        "tcp",
        _family(table),
        draw(endpoints(table)),
        draw(endpoints(table)),
        draw(st.sampled_from([TcpState.TIME_WAIT, TcpState.FIN_WAIT2])),
        0,
        0,
        Timer.TIME_WAIT,
        draw(st.integers(0, 0x1770)),
        0,
        None,
        0,
        0,
        draw(st.integers(0, INT_MAX)),
        draw(pointers),
        draw(_sl(table)),
    )


@st.composite
def tcp_request_rows(draw: Callable[[Any], Any], table: str) -> InetSocket:
    """get_openreq4: 12 fields, prints SYN_RECV, tr 1, the listener's uid, inode 0, refcount 0."""
    return InetSocket(
        "tcp",
        _family(table),
        draw(endpoints(table)),
        draw(endpoints(table)),
        TcpState.SYN_RECV,
        0,
        0,
        Timer.RETRANSMIT,
        draw(st.integers(0, U64)),
        draw(st.integers(0, 255)),
        draw(st.integers(0, U32)),
        0,
        0,
        0,
        draw(pointers),
        draw(_sl(table)),
    )


@st.composite
def dgram_rows(draw: Callable[[Any], Any], table: str) -> InetSocket:
    """udp4_format_sock / raw_sock_seq_show / __ip6_dgram_sock_seq_show: 13 fields with drops."""
    proto = _proto(table)
    raw = proto == "raw"
    local = draw(endpoints(table, st.integers(0, 255) if raw else ports))
    remote = draw(endpoints(table, st.just(0) if raw else ports))
    return InetSocket(
        proto,
        _family(table),
        local,
        remote,
        draw(st.sampled_from([TcpState.CLOSE, TcpState.ESTABLISHED])),
        draw(st.integers(0, U32)),
        draw(st.integers(0, U32)),
        Timer.NONE,
        0,
        0,
        draw(st.integers(0, U32)),
        0,
        draw(st.integers(0, U64)),
        draw(st.integers(INT_MIN, INT_MAX)),
        draw(pointers),
        draw(_sl(table)),
        drops=draw(st.integers(0, U32)),
    )


def inet_rows(table: str) -> Any:
    """One row of ``table`` of any kind the kernel prints there."""
    if _proto(table) == "tcp":
        return st.one_of(tcp_full_rows(table), tcp_timewait_rows(table), tcp_request_rows(table))
    return dgram_rows(table)


def unique_inodes(records: List[T]) -> List[T]:
    """Drop records whose non-zero inode an earlier one has: the parser yields a socket once."""
    seen = set()
    out = []
    for r in records:
        inode = getattr(r, "inode")
        if inode:
            if inode in seen:
                continue
            seen.add(inode)
        out.append(r)
    return out


def inet_tables(table: str, max_size: int = 12) -> Any:
    return st.lists(inet_rows(table), max_size=max_size).map(unique_inodes)


# -- unix -------------------------------------------------------------------------------

#: bytes of a path as the kernel prints it: anything but NUL (printing stops there) and
#: newline (handled by its own strategy); non-UTF-8 bytes come back as surrogate escapes.
_path_bytes = st.binary(min_size=1, max_size=40).filter(lambda b: b"\0" not in b and b"\n" not in b)


def _decode(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def _not_row_shaped(path: str) -> bool:
    """False for a path whose newline is followed by text shaped like a whole row.

    The module docstring of procnet._parse.unix says the text cannot tell that from two
    rows; tests assert that limit on its own (test_parse_unix).
    """
    return not any(UNIX_ROW.match(part) for part in path.split("\n")[1:])


unix_paths = st.one_of(
    st.none(),
    # file system paths with spaces, leading and trailing spaces
    st.builds(lambda s: "/tmp/" + s, st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0\n"), max_size=30)),
    st.sampled_from(["/tmp/t/dir with space/lis ten.sock", " lead", "trail ", "  ", "rel.sock"]),
    # abstract names: every NUL printed as '@'
    st.builds(lambda s: "@" + s, st.text("abcdef0123456789@ ", max_size=20)),
    # non-UTF-8 bytes as surrogate escapes
    _path_bytes.map(_decode),
    # a newline in a path splits the row over two physical lines
    st.builds(
        lambda a, b: _decode(a) + "\n" + _decode(b),
        _path_bytes,
        st.one_of(st.just(b""), _path_bytes),
    ).filter(_not_row_shaped),
)

_STATUS = [SocketStatus.UNCONNECTED, SocketStatus.CONNECTING, SocketStatus.CONNECTED, SocketStatus.DISCONNECTING]


@st.composite
def unix_rows(draw: Callable[[Any], Any]) -> UnixSocket:
    """unix_seq_show: listeners carry __SO_ACCEPTCON and St 01; embryos (St 02/04) have inode 0."""
    sock_type = draw(st.sampled_from([socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_SEQPACKET]))
    listening = sock_type != socket.SOCK_DGRAM and draw(st.booleans())
    if listening:
        flags, status = UnixFlag.ACCEPTCON, SocketStatus.UNCONNECTED
    else:
        flags, status = UnixFlag(0), draw(st.sampled_from(_STATUS))
    no_file = status in (SocketStatus.CONNECTING, SocketStatus.DISCONNECTING)
    inode = 0 if no_file else draw(st.integers(1, U64))
    return UnixSocket(
        sock_type,
        unix_state(flags, status),
        status,
        flags,
        draw(st.integers(0, U32)),
        inode,
        draw(unix_paths),
        draw(st.text("0123456789abcdef", min_size=16, max_size=16)),
    )


def unix_tables(max_size: int = 12) -> Any:
    return st.lists(unix_rows(), max_size=max_size).map(unique_inodes)


def kernel_bytes(text: str) -> bytes:
    """A formatted table back to the kernel's bytes (surrogate escapes become the raw bytes)."""
    return text.encode("utf-8", "surrogateescape")


# -- mutations of real tables -------------------------------------------------------------

_NASTY = ["\0", "\n", " ", ":", "-", "9" * 30, "\udcff", "\u0663", "FFFFFFFFFFFFFFFFFFFF", "\t", "\r", "@", ""]


@st.composite
def mutated(draw: Callable[[Any], Any], text: str) -> str:
    """``text`` with a few characters flipped, inserted or deleted, lines cut or repeated."""
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            text = draw(st.sampled_from(_NASTY))
            continue
        i = draw(st.integers(0, len(text) - 1))
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "nasty", "dup", "cut", "huge"]))
        if op == "huge":
            # a number too long for its field (int() refuses more than 4300 digits on 3.11+)
            digits = [j for j, c in enumerate(text) if c.isdigit()]
            if digits:
                j = draw(st.sampled_from(digits))
                text = text[:j] + "9" * draw(st.sampled_from([21, 4400])) + text[j:]
        elif op == "flip":
            text = text[:i] + draw(st.characters(blacklist_categories=("Cs",))) + text[i + 1 :]
        elif op == "insert":
            text = text[:i] + draw(st.text(max_size=3)) + text[i:]
        elif op == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 5)) :]
        elif op == "truncate":
            end = text.find("\n", i)
            text = text[:i] + (text[end:] if end >= 0 else "")
        elif op == "nasty":
            text = text[:i] + draw(st.sampled_from(_NASTY)) + text[i:]
        elif op == "dup":
            lines = text.split("\n")
            j = draw(st.integers(0, len(lines) - 1))
            lines.insert(j, lines[j])
            text = "\n".join(lines)
        else:
            text = text[:i]
    return text
