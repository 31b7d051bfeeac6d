"""sock_diag netlink: request bytes out, reply bytes in, the text tables' records out. No I/O.

The kernel's ``NETLINK_SOCK_DIAG`` interface (what iproute2's ``ss`` speaks) answers a dump
request with a stream of netlink messages, one per socket, ended by ``NLMSG_DONE``. This
module builds the requests and decodes the replies into the same :class:`InetSocket` and
:class:`UnixSocket` records that :func:`~procnet._parse.parse_inet` and
:func:`~procnet._parse.parse_unix` make from ``/proc/net`` text, filling also the fields
only netlink knows (a listener's backlog, a unix socket's peer, shutdown state, TCP info).
Opening the socket, sending and receiving is :mod:`procnet._netlink`'s job.

Struct layouts come from the kernel's uapi headers: ``linux/netlink.h`` (``nlmsghdr``,
``nlattr``), ``linux/sock_diag.h``, ``linux/inet_diag.h`` (``inet_diag_req_v2``,
``inet_diag_msg``), ``linux/unix_diag.h`` (``unix_diag_req``, ``unix_diag_msg``) and
``linux/tcp.h`` (``struct tcp_info``). Every integer is in the byte order of the kernel that
wrote it (a parameter, default this machine's) except ports, which are big-endian, and
addresses, which are network-order bytes.

What the text does not have, and what netlink does not have, are ``None``: nothing is
made up to fill a field (the record types say which source fills which). The
differences from the text source are:

* ``refcount``, ``pointer`` and ``slot`` are ``None``: sock_diag reports no reference
  count, no kernel address and has no rows. ``cookie``, which the text does not have, is
  the socket cookie (``idiag_cookie`` / ``udiag_cookie``, two u32 words read as one u64,
  low word first), the id ``ss -e`` prints as ``sk:``: stable for the life of the
  socket and never reused. (Asking for it makes the kernel assign one, if the socket had
  none yet.)
* ``timer_expires``: the kernel sends milliseconds; they are converted to clock ticks with
  ``ticks_per_second`` (default 100, the ``USER_HZ`` of every mainstream architecture:
  pass ``os.sysconf("SC_CLK_TCK")`` to be exact), which gives the number the text prints.
* TCP ``retransmits`` and ``probes``: the message has one counter, ``idiag_retrans``:
  ``icsk_retransmits`` while the retransmit timer runs (timer 1), ``icsk_probes_out``
  while the keepalive or zero-window probe timer runs (2, 4). ``struct tcp_info``
  (``tcp_info=True``) has both, except for a listener (``tcp_get_info`` stops before
  them). Where neither says, the field is ``None``; the text prints both always.
  TIME_WAIT and request minisockets: ``retransmits`` is ``idiag_retrans`` (0, or a
  request's SYN-ACK retransmits, where the text prints its timeouts) and ``probes`` 0,
  the literal their text rows print; UDP and raw: both 0, as in the text.
* TCP LISTEN: ``rx_queue`` is the accept-queue length and ``tx_queue`` 0, as in the text
  (which prints ``write_seq - snd_una``, 0 for a listener: netlink sends the backlog in
  its place); ``listen_backlog`` is the backlog. ``rto``, ``ato``, ``ssthresh`` and
  ``fastopen_max_qlen`` are ``None`` for listeners (the kernel's tcp_info leaves them 0),
  ``cwnd`` is set. ``quick_ack`` and ``pingpong`` are always ``None`` (not in tcp_info).
* TCP TIME_WAIT and SYN_RECV request sockets have ``uid`` ``None`` (the kernel sends 0;
  the text prints 0 for TIME_WAIT and the listener's uid for a request).
* ``drops`` (UDP and raw) is ``SK_MEMINFO_DROPS`` of ``skmem``: the counter the text prints.
* ``tcp_info`` (asked for with ``tcp_info=True``) is decoded whole; older kernels' shorter
  structs leave the fields they lack ``None``. ``skmem`` is shared between sockets whose
  counters are equal (tuples are immutable).
* unix: ``status`` and ``flags`` are derived from the state and the inode with the same
  rule as the kernel's text table (``net/unix/af_unix.c unix_seq_show``: the inode is
  non-zero exactly when the socket has a file), and ``protocol`` is the literal 0 it
  prints; ``state`` is the kernel's own (an embryo, a connection not yet accepted, is
  ESTABLISHED here and SYN_SENT in the text, which can only show its SS_CONNECTING
  status).
"""

from __future__ import annotations

import errno as _errno
import ipaddress
import os
import socket
import struct
import sys
from typing import (
    Callable,
    Dict,
    FrozenSet,
    Generic,
    Iterable,
    Iterator,
    List,
    NamedTuple,
    Optional,
    Sequence,
    Set,
    Tuple,
    TypeVar,
    Union,
)

from .._errors import ParseError, ProcNetError
from .._records import (
    Endpoint,
    InetSocket,
    IPAddress,
    SocketStatus,
    TcpInfo,
    TcpState,
    Timer,
    UnixFlag,
    UnixSocket,
    fast_constructor,
    lazy_constructor,
)
from ._common import RecentInodes

# --- constants (include/uapi/linux/netlink.h, sock_diag.h, inet_diag.h, unix_diag.h) ---

#: the netlink protocol of socket(AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG)
NETLINK_SOCK_DIAG = 4
#: nlmsg_type of sock_diag requests and of every reply message
SOCK_DIAG_BY_FAMILY = 20

NLMSG_NOOP = 1
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLMSG_OVERRUN = 4
NLM_F_REQUEST = 0x01
NLM_F_MULTI = 0x02
#: set on a reply message when the tables changed during the dump
NLM_F_DUMP_INTR = 0x10
NLM_F_DUMP = 0x300  # NLM_F_ROOT | NLM_F_MATCH

NLMSG_HDRLEN = 16
_NLA_TYPE_MASK = 0x3FFF  # strips NLA_F_NESTED and NLA_F_NET_BYTEORDER

INET_DIAG_MEMINFO = 1
INET_DIAG_INFO = 2
INET_DIAG_CONG = 4
INET_DIAG_SKMEMINFO = 7
INET_DIAG_SHUTDOWN = 8
INET_DIAG_PROTOCOL = 10

UNIX_DIAG_NAME = 0
UNIX_DIAG_VFS = 1
UNIX_DIAG_PEER = 2
UNIX_DIAG_ICONS = 3
UNIX_DIAG_RQLEN = 4
UNIX_DIAG_MEMINFO = 5
UNIX_DIAG_SHUTDOWN = 6
UNIX_DIAG_UID = 7

UDIAG_SHOW_NAME = 0x01
UDIAG_SHOW_VFS = 0x02
UDIAG_SHOW_PEER = 0x04
UDIAG_SHOW_ICONS = 0x08
UDIAG_SHOW_RQLEN = 0x10
UDIAG_SHOW_MEMINFO = 0x20
UDIAG_SHOW_UID = 0x40
#: every attribute a UnixSocket has a field for
UDIAG_SHOW_DEFAULT = (
    UDIAG_SHOW_NAME
    | UDIAG_SHOW_VFS
    | UDIAG_SHOW_PEER
    | UDIAG_SHOW_ICONS
    | UDIAG_SHOW_RQLEN
    | UDIAG_SHOW_MEMINFO
    | UDIAG_SHOW_UID
)

#: IP protocol numbers sock_diag dumps by (inet_diag_req_v2.sdiag_protocol)
INET_PROTOCOLS: Dict[str, int] = {"tcp": 6, "udp": 17, "udplite": 136, "raw": 255}

#: states dumped when none are named: every state /proc shows. BOUND_INACTIVE (bit 13)
#: is left out, as ss leaves it out: it asks for TCP sockets that are only bound, which
#: the text tables never list (they come back as CLOSE).
ALL_STATES_MASK = (1 << 13) - 1

#: errnos that mean "this kernel cannot answer for this family or protocol"
UNAVAILABLE_ERRNOS = frozenset(
    (_errno.ENOENT, _errno.EOPNOTSUPP, _errno.EPROTONOSUPPORT, _errno.EAFNOSUPPORT)
)

_INET_DIAG_MSG_LEN = 72
_UNIX_DIAG_MSG_LEN = 16
#: struct tcp_info up to tcpi_total_retrans, the oldest layout still met (Linux 3.x)
_TCP_INFO_MIN = 104
#: sk_meminfo index of the drop counter (SK_MEMINFO_DROPS)
_SK_MEMINFO_DROPS = 8
#: tp->snd_ssthresh at or above this is "infinite" (TCP_INFINITE_SSTHRESH): the text prints -1
_INFINITE_SSTHRESH = 0x7FFFFFFF

#: a state asked for -> the state the kernel reports those sockets in
_REPORTED_AS = {
    int(TcpState.BOUND_INACTIVE): int(TcpState.CLOSE),
    int(TcpState.NEW_SYN_RECV): int(TcpState.SYN_RECV),
}

_SOCK_TYPES = {int(k): k for k in (socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_SEQPACKET)}


# --- errors ---


class NetlinkError(ProcNetError, OSError):
    """The kernel answered a sock_diag request with an error.

    ``errno`` is the error number (positive) the kernel put in ``NLMSG_ERROR`` or
    ``NLMSG_DONE``.
    """


class NetlinkUnavailable(NetlinkError):
    """sock_diag cannot answer for this family or protocol here: read the text table.

    Raised when the kernel lacks the diag module (``ENOENT``: e.g. no raw_diag), does not
    support the request (``EOPNOTSUPP``, ``EPROTONOSUPPORT``, ``EAFNOSUPPORT``), or when
    a netlink socket cannot be opened at all.
    """


def error_from_errno(err: int, what: str) -> NetlinkError:
    """The exception for a (positive) errno the kernel sent in reply to ``what``."""
    name = _errno.errorcode.get(err, "errno %d" % err)
    try:
        text = os.strerror(err)
    except (ValueError, OverflowError):  # not an errno at all (a damaged reply): INT_MIN...
        text = "error %d" % err
    message = "%s: %s (%s)" % (what, text, name)
    if err in UNAVAILABLE_ERRNOS:
        return NetlinkUnavailable(err, message)
    return NetlinkError(err, message)


# --- requests ---


def _prefix(byteorder: str) -> str:
    if byteorder == "little":
        return "<"
    if byteorder == "big":
        return ">"
    raise ValueError("byteorder is 'little' or 'big', not %r" % (byteorder,))


def state_mask(states: Optional[Iterable[int]]) -> int:
    """The ``idiag_states`` / ``udiag_states`` bit mask (``1 << state``) for these states.

    ``None`` is every state the text tables show (:data:`ALL_STATES_MASK`).

    >>> hex(state_mask([TcpState.LISTEN]))
    '0x400'
    """
    if states is None:
        return ALL_STATES_MASK
    mask = 0
    for state in states:
        value = int(state)
        if not 0 <= value < 32:
            raise ValueError("a socket state is a number from 0 to 31, not %r" % (state,))
        mask |= 1 << value
    return mask


def _nlmsg(payload: bytes, seq: int, prefix: str) -> bytes:
    header = struct.pack(
        prefix + "IHHII", NLMSG_HDRLEN + len(payload), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, seq, 0
    )
    return header + payload


def inet_request(
    proto: str,
    family: int,
    states: Optional[Iterable[int]] = None,
    *,
    tcp_info: bool = True,
    seq: int = 1,
    byteorder: str = sys.byteorder,
) -> bytes:
    """A whole dump request (nlmsghdr + ``inet_diag_req_v2``) for one protocol and family.

    ``proto`` is ``"tcp"``, ``"udp"``, ``"udplite"`` or ``"raw"``; ``family``
    ``socket.AF_INET`` or ``AF_INET6``. Only sockets in ``states`` are sent by the kernel
    (see :func:`state_mask`). TCP asks for ``struct tcp_info``, the congestion control's
    name and the memory counters unless ``tcp_info`` is false (a listener-only query need
    not pay for them); UDP and raw ask for the memory counters (with their drop count).

    >>> len(inet_request("tcp", socket.AF_INET))
    72
    """
    try:
        protocol = INET_PROTOCOLS[proto]
    except KeyError:
        raise ValueError("proto is one of %s, not %r" % (", ".join(INET_PROTOCOLS), proto)) from None
    if family not in (socket.AF_INET, socket.AF_INET6):
        raise ValueError("family is socket.AF_INET or socket.AF_INET6, not %r" % (family,))
    prefix = _prefix(byteorder)
    ext = 1 << (INET_DIAG_SHUTDOWN - 1)
    if proto == "tcp":
        if tcp_info:
            ext |= 1 << (INET_DIAG_INFO - 1) | 1 << (INET_DIAG_CONG - 1) | 1 << (INET_DIAG_SKMEMINFO - 1)
    else:
        ext |= 1 << (INET_DIAG_SKMEMINFO - 1)
    # struct inet_diag_req_v2: family, protocol, idiag_ext, pad (sdiag_raw_protocol: 0 =
    # any for a dump), idiag_states, then inet_diag_sockid zeroed but for the cookie,
    # INET_DIAG_NOCOOKIE in both words.
    body = struct.pack(prefix + "BBBBI", int(family), protocol, ext, 0, state_mask(states))
    body += bytes(40) + struct.pack(prefix + "II", 0xFFFFFFFF, 0xFFFFFFFF)
    return _nlmsg(body, seq, prefix)


def unix_request(
    states: Optional[Iterable[int]] = None,
    *,
    show: int = UDIAG_SHOW_DEFAULT,
    seq: int = 1,
    byteorder: str = sys.byteorder,
) -> bytes:
    """A whole dump request (nlmsghdr + ``unix_diag_req``) for unix sockets.

    ``states`` are the states ss shows (LISTEN, ESTABLISHED, CLOSE); ``show`` the
    ``UDIAG_SHOW_*`` attributes wanted (default: all that :class:`UnixSocket` has a field for).

    >>> len(unix_request())
    40
    """
    prefix = _prefix(byteorder)
    mask = 0xFFFFFFFF if states is None else state_mask(states)
    # struct unix_diag_req: family, protocol, pad, udiag_states, udiag_ino (0: all),
    # udiag_show, udiag_cookie[2]
    body = struct.pack(prefix + "BBHIIIII", socket.AF_UNIX, 0, 0, mask, 0, show, 0xFFFFFFFF, 0xFFFFFFFF)
    return _nlmsg(body, seq, prefix)


# --- framing ---


class Message(NamedTuple):
    """One netlink message of a reply."""

    #: nlmsg_type: SOCK_DIAG_BY_FAMILY for a socket, NLMSG_DONE, NLMSG_ERROR...
    msg_type: int
    #: nlmsg_flags (NLM_F_MULTI, NLM_F_DUMP_INTR...)
    flags: int
    seq: int
    pid: int
    #: where the message's header starts, counted in bytes from the start of the reply
    offset: int
    #: the message after its 16-byte header, padding excluded
    payload: bytes


def _error(reason: str, source: str, data: Optional[bytes] = None) -> ParseError:
    line = None if data is None else data[:64].hex()
    return ParseError(reason, path=source, line=line)


def _message_error(data: bytes, pos: int, length: Optional[int], offset: int, source: str) -> ParseError:
    """The error for a message at ``data[pos:]`` that does not fit (``length``: its nlmsg_len,
    ``None`` when even the header does not fit); ``offset`` is where ``data`` starts."""
    where = offset + pos
    left = len(data) - pos
    if length is None:
        reason = "truncated message at offset %d: %d bytes left, a netlink header needs 16" % (where, left)
    elif length < NLMSG_HDRLEN:
        reason = "bad message at offset %d: nlmsg_len %d is shorter than the header" % (where, length)
    else:
        reason = "truncated message at offset %d: nlmsg_len %d but only %d bytes left" % (where, length, left)
    return _error(reason, source, data[pos:])


def _attribute_error(
    data: bytes, pos: int, end: int, start: int, length: Optional[int], offset: int, source: str
) -> ParseError:
    """The error for an attribute at ``data[pos:end]`` that does not fit, in a message whose
    payload starts at ``data[start]`` (``length``: its nla_len, ``None`` if its header is cut)."""
    where = pos - start + NLMSG_HDRLEN
    if length is None:
        reason = (
            "truncated attribute at offset %d of the message at offset %d: %d bytes left, "
            "an attribute header needs 4" % (where, offset, end - pos)
        )
    else:
        reason = "bad attribute at offset %d of the message at offset %d: nla_len %d, %d bytes left" % (
            where,
            offset,
            length,
            end - pos,
        )
    return _error(reason, source, data[pos:end])


def iter_messages(
    data: bytes,
    *,
    byteorder: str = sys.byteorder,
    offset: int = 0,
    source: str = "sock_diag",
) -> Iterator[Message]:
    """The messages in ``data`` (one datagram, or several concatenated).

    ``offset`` is where ``data`` starts in the whole reply (for error messages). A
    message that does not fit raises :class:`~procnet.ParseError` naming its offset.
    """
    unpack = _HEADERS[_prefix(byteorder)].unpack_from
    data = bytes(data)
    end = len(data)
    pos = 0
    while pos < end:
        if end - pos < NLMSG_HDRLEN:
            raise _message_error(data, pos, None, offset, source)
        length, msg_type, flags, seq, pid = unpack(data, pos)
        if length < NLMSG_HDRLEN or length > end - pos:
            raise _message_error(data, pos, length, offset, source)
        yield Message(msg_type, flags, seq, pid, offset + pos, data[pos + NLMSG_HDRLEN : pos + length])
        # NLMSG_ALIGN: the next message starts on a 4-byte boundary; a datagram's last
        # message may omit its padding.
        pos += (length + 3) & ~3


def iter_attributes(
    payload: bytes,
    start: int,
    *,
    byteorder: str = sys.byteorder,
    offset: int = 0,
    source: str = "sock_diag",
) -> Iterator[Tuple[int, bytes]]:
    """``(type, value)`` of each ``struct nlattr`` in ``payload[start:]``.

    The type has its flag bits (NLA_F_NESTED, NLA_F_NET_BYTEORDER) cleared. ``offset`` is
    where the message holding ``payload`` starts in the reply (for error messages).
    """
    return _iter_attributes(payload, start, _ATTRS[_prefix(byteorder)], offset, source)


def _iter_attributes(
    payload: bytes, start: int, header: struct.Struct, offset: int, source: str
) -> Iterator[Tuple[int, bytes]]:
    unpack = header.unpack_from
    end = len(payload)
    pos = start
    while pos < end:
        if end - pos < 4:
            raise _attribute_error(payload, pos, end, 0, None, offset, source)
        length, attr_type = unpack(payload, pos)
        if length < 4 or length > end - pos:
            raise _attribute_error(payload, pos, end, 0, length, offset, source)
        yield attr_type & _NLA_TYPE_MASK, payload[pos + 4 : pos + length]
        pos += (length + 3) & ~3


# --- the dump decoders ---

_R = TypeVar("_R")
_E = TypeVar("_E")
_T = TypeVar("_T")


class _Members(Dict[int, _E]):
    """number -> enum member in one dict lookup; a number the enum does not know is handed
    to the enum once (which makes its UNKNOWN_<n> pseudo-member) and then cached."""

    def __init__(self, enum_type: Callable[[int], _E], members: Iterable[_E]) -> None:
        super().__init__((int(m), m) for m in members)  # type: ignore[call-overload]
        self._enum = enum_type

    def __missing__(self, key: int) -> _E:
        member = self[key] = self._enum(key)
        return member


_STATES = _Members(TcpState, TcpState)
_TIMERS = _Members(Timer, Timer)
_FAMILIES = {int(socket.AF_INET): socket.AF_INET, int(socket.AF_INET6): socket.AF_INET6}
_AF_INET = int(socket.AF_INET)
_AF_INET6 = int(socket.AF_INET6)
_AF_UNIX = int(socket.AF_UNIX)
_LISTEN = int(TcpState.LISTEN)
_ESTABLISHED = int(TcpState.ESTABLISHED)
_TIMER_RETRANSMIT = int(Timer.RETRANSMIT)
_TIMER_PROBES = (int(Timer.KEEPALIVE), int(Timer.ZERO_WINDOW_PROBE))
_NO_UNIX_FLAGS = UnixFlag(0)



# Records are built without their dataclass __init__ (see _records.fast_constructor): the
# decoder has checked every value, and __init__ would be more than half of the cost.
_new_lazy_socket = lazy_constructor(InetSocket)
_new_unix_socket = fast_constructor(UnixSocket)
_new_endpoint = fast_constructor(Endpoint)


def _cookie(value: int, byteorder: str) -> int:
    """The socket cookie from its two u32 words (``idiag_cookie[0]`` low, ``[1]`` high) read
    as one u64 in the kernel's byte order: the words come out swapped on a big-endian one."""
    if byteorder == "big":
        return (value & 0xFFFFFFFF) << 32 | value >> 32
    return value

# Fixed layouts by byte-order prefix, built once.
_HEADERS = {p: struct.Struct(p + "IHHII") for p in "<>"}  # struct nlmsghdr
_ATTRS = {p: struct.Struct(p + "HH") for p in "<>"}  # struct nlattr: nla_len, nla_type
# struct inet_diag_msg whole: family, state, timer, retrans; id.idiag_sport, idiag_dport
# (__be16, read in the kernel's order all the same: see _make_endpoint); id.idiag_src[4],
# idiag_dst[4] (network order, kept as bytes); id.idiag_if,
# idiag_cookie[2] (read as one u64: see _cookie); idiag_expires, idiag_rqueue, idiag_wqueue,
# idiag_uid, idiag_inode
_INET_MSGS = {p: struct.Struct(p + "BBBBHH16s16sIQ5I") for p in "<>"}
# idiag_family, idiag_state and idiag_inode alone (offsets 0, 1 and 68)
_INET_MSG_KEYS = {p: struct.Struct(p + "BB66xI") for p in "<>"}
# struct tcp_info (include/uapi/linux/tcp.h), every field up to tcpi_rehash, by offset:
#   0 u8 state, ca_state, retransmits, probes, backoff, options, wscale (two 4-bit
#     fields), delivery_rate_app_limited:1 + fastopen_client_fail:2;
#   8 u32 rto, ato, snd_mss, rcv_mss, unacked, sacked, lost, retrans, fackets,
#     last_data_sent, last_ack_sent, last_data_recv, last_ack_recv, pmtu, rcv_ssthresh,
#     rtt, rttvar, snd_ssthresh, snd_cwnd, advmss, reordering, rcv_rtt, rcv_space,
#     total_retrans (104 bytes: the oldest layout still met, Linux 3.x);
# 104 u64 pacing_rate, max_pacing_rate, bytes_acked, bytes_received;
# 136 u32 segs_out, segs_in, notsent_bytes, min_rtt, data_segs_in, data_segs_out;
# 160 u64 delivery_rate, busy_time, rwnd_limited, sndbuf_limited;
# 192 u32 delivered, delivered_ce; 200 u64 bytes_sent, bytes_retrans;
# 216 u32 dsack_dups, reord_seen, rcv_ooopack, snd_wnd, rcv_wnd, rehash (240: Linux 6.2+;
# 6.18 sends 280, the rest not read).
_TCP_INFO_LAYOUT = "8B" + "24I" + "4Q" + "6I" + "4Q" + "2I" + "2Q" + "6I"
_TCP_INFO_FULL_LEN = 240
_TCP_INFOS_FULL = {p: struct.Struct(p + _TCP_INFO_LAYOUT) for p in "<>"}
# TcpInfo field index -> the tcp_info length that holds it: a shorter struct (an older
# kernel) leaves that field None. Fields not listed are in the 104-byte base.
_TCP_INFO_ENDS = (
    (12, 128),  # bytes_acked
    (13, 136),  # bytes_received
    (14, 112),  # pacing_rate
    (15, 168),  # delivery_rate
    (16, 152),  # min_rtt_us
    (24, 232),  # snd_wnd
    (25, 236),  # rcv_wnd
    (26, 140),  # segs_out
    (27, 144),  # segs_in
    (28, 160),  # data_segs_out
    (29, 156),  # data_segs_in
    (30, 208),  # bytes_sent
    (31, 216),  # bytes_retrans
    (35, 196),  # delivered
    (36, 200),  # delivered_ce
    (37, 176),  # busy_time_us
    (38, 184),  # rwnd_limited_us
    (39, 192),  # sndbuf_limited_us
    (40, 148),  # notsent_bytes
    (43, 220),  # dsack_dups
    (44, 224),  # reord_seen
    (45, 168),  # app_limited (its bit came with delivery_rate)
    (50, 120),  # max_pacing_rate
    (51, 228),  # rcv_ooopack
    (52, 240),  # rehash
)
_SK_MEMINFOS = {p: struct.Struct(p + "9I") for p in "<>"}  # SK_MEMINFO_VARS u32s

# What the InetSocket itself takes from struct tcp_info: 2 retransmits, 3 probes; 8 rto,
# 12 ato; 76 snd_ssthresh, 80 snd_cwnd.
_TCP_INFOS_SOCKET = {p: struct.Struct(p + "xxBB4xII60xII") for p in "<>"}
def _tcp_info_constructor() -> Callable[..., TcpInfo]:
    """TcpInfo's fast constructor, made on the first tcp_info decoded (then cached by
    fast_constructor): most queries decode none."""
    return fast_constructor(TcpInfo)


def _make_tcp_info(v: Tuple[int, ...], congestion: Optional[str], size: int, little: bool) -> TcpInfo:
    """The TcpInfo of ``v``, a ``struct tcp_info`` of ``size`` bytes (fewer than
    :data:`_TCP_INFO_FULL_LEN`: an older kernel's) zero-padded and unpacked whole; the
    fields beyond ``size`` become None."""
    (
        _state,
        _ca_state,
        retransmits,
        _probes,
        backoff,
        options,
        wscale,
        flags,
        rto,
        ato,
        snd_mss,
        rcv_mss,
        unacked,
        sacked,
        lost,
        retrans,
        _fackets,
        last_data_sent,
        _last_ack_sent,
        last_data_recv,
        last_ack_recv,
        pmtu,
        rcv_ssthresh,
        rtt,
        rttvar,
        snd_ssthresh,
        cwnd,
        advmss,
        reordering,
        rcv_rtt,
        rcv_space,
        total_retrans,
        pacing_rate,
        max_pacing_rate,
        bytes_acked,
        bytes_received,
        segs_out,
        segs_in,
        notsent_bytes,
        min_rtt,
        data_segs_in,
        data_segs_out,
        delivery_rate,
        busy_time,
        rwnd_limited,
        sndbuf_limited,
        delivered,
        delivered_ce,
        bytes_sent,
        bytes_retrans,
        dsack_dups,
        reord_seen,
        rcv_ooopack,
        snd_wnd,
        rcv_wnd,
        rehash,
    ) = v
    # C bit-fields fill a byte from its low bits on a little-endian ABI, from its high
    # bits on a big-endian one: tcpi_snd_wscale:4 then tcpi_rcv_wscale:4; and
    # tcpi_delivery_rate_app_limited:1 first in the byte after.
    if little:
        snd_wscale = wscale & 15
        rcv_wscale = wscale >> 4
        app_limited = flags & 1 == 1
    else:
        snd_wscale = wscale >> 4
        rcv_wscale = wscale & 15
        app_limited = flags & 0x80 == 0x80
    args: List[Optional[object]] = [
        rtt, rttvar, rto, ato, snd_mss, rcv_mss, cwnd, snd_ssthresh, retransmits,
        total_retrans, unacked, lost, bytes_acked, bytes_received, pacing_rate,
        delivery_rate, min_rtt, congestion, snd_wscale, rcv_wscale, pmtu, rcv_ssthresh,
        advmss, rcv_space, snd_wnd, rcv_wnd, segs_out, segs_in, data_segs_out,
        data_segs_in, bytes_sent, bytes_retrans, last_data_sent, last_data_recv,
        last_ack_recv, delivered, delivered_ce, busy_time, rwnd_limited, sndbuf_limited,
        notsent_bytes, reordering, rcv_rtt, dsack_dups, reord_seen, app_limited, options,
        backoff, sacked, retrans, max_pacing_rate, rcv_ooopack, rehash,
    ]  # fmt: skip
    for index, end in _TCP_INFO_ENDS:
        if size < end:
            args[index] = None
    return _tcp_info_constructor()(*args)




class _DumpDecoder(Generic[_R]):
    """Feeds on the datagrams of one dump reply; returns the records they hold.

    Sans-I/O: the caller receives, this object decodes. After ``NLMSG_DONE``, :attr:`done`
    is true and further data is an error. An error reply raises :class:`NetlinkError`
    (:class:`NetlinkUnavailable` when the kernel cannot serve the request).
    """

    def __init__(self, byteorder: str, source: str, states: Optional[Iterable[int]]) -> None:
        prefix = _prefix(byteorder)
        self.byteorder = byteorder
        self.source = source
        #: True once NLMSG_DONE arrived
        self.done = False
        #: True if the kernel flagged the dump as inconsistent (tables changed meanwhile)
        self.interrupted = False
        #: bytes consumed so far
        self.offset = 0
        self._header = _HEADERS[prefix]
        self._attr = _ATTRS[prefix]
        self._int = struct.Struct(prefix + "i")
        self._u32 = struct.Struct(prefix + "I")
        self._wanted: Optional[FrozenSet[int]] = None
        if states is not None:
            wanted = set(int(s) for s in states)
            # Sockets come back in the state they are shown in: bound-only TCP sockets
            # (asked for as BOUND_INACTIVE) as CLOSE, request sockets (NEW_SYN_RECV) as
            # SYN_RECV.
            for asked, shown in _REPORTED_AS.items():
                if asked in wanted:
                    wanted.add(shown)
            self._wanted = frozenset(wanted)
        # Repeats of a dump resumed while sockets come and go come close together, as in
        # the text tables: a bounded window of inodes, not every inode of the dump.
        self._seen = RecentInodes()

    def feed(self, data: bytes) -> List[_R]:
        """Decode one received datagram (or any run of whole messages)."""
        out: List[_R] = []
        append = out.append
        decode = self._decode_at
        unpack = self._header.unpack_from
        data = bytes(data)
        start = self.offset
        self.offset += len(data)
        end = len(data)
        pos = 0
        # The framing of iter_messages, inline: a socket's message is decoded where it
        # lies in the datagram, not copied out first.
        while pos < end:
            if end - pos < NLMSG_HDRLEN:
                raise _message_error(data, pos, None, start, self.source)
            length, kind, flags, seq, pid = unpack(data, pos)
            if length < NLMSG_HDRLEN or length > end - pos:
                raise _message_error(data, pos, length, start, self.source)
            if self.done:
                raise _error(
                    "message at offset %d after NLMSG_DONE" % (start + pos),
                    self.source,
                    data[pos + NLMSG_HDRLEN : pos + length],
                )
            if flags & NLM_F_DUMP_INTR:
                self.interrupted = True
            if kind >= 0x10:  # NLMSG_MIN_TYPE: a socket
                record = decode(data, pos + NLMSG_HDRLEN, pos + length, start + pos)
                if record is not None:
                    append(record)
            elif kind in (NLMSG_DONE, NLMSG_ERROR, NLMSG_OVERRUN):
                self._control(
                    Message(kind, flags, seq, pid, start + pos, data[pos + NLMSG_HDRLEN : pos + length])
                )
            # NLMSG_NOOP and unknown control messages carry nothing.
            pos += (length + 3) & ~3
        return out

    def _control(self, msg: Message) -> None:
        kind = msg.msg_type
        if kind == NLMSG_DONE:
            # The dump's end; its payload, when there is one, is an int: a negative
            # errno when the request could not be served (no diag handler: -ENOENT).
            if len(msg.payload) >= 4:
                self._check_errno(self._int.unpack_from(msg.payload, 0)[0], msg)
            self.done = True
            # Records decoded later hold this decoder: it keeps its caches, not the
            # inodes it saw.
            self._seen = RecentInodes()
        elif kind == NLMSG_ERROR:
            # struct nlmsgerr: int error (0 = an ACK), then the request's header.
            if len(msg.payload) < 4:
                raise _error(
                    "truncated NLMSG_ERROR at offset %d: %d bytes, the error code needs 4"
                    % (msg.offset, len(msg.payload)),
                    self.source,
                    msg.payload,
                )
            self._check_errno(self._int.unpack_from(msg.payload, 0)[0], msg)
        elif kind == NLMSG_OVERRUN:
            raise NetlinkError(_errno.ENOBUFS, "%s: the kernel lost data (NLMSG_OVERRUN)" % self.source)

    def _check_errno(self, value: int, msg: Message) -> None:
        if value < 0:
            raise error_from_errno(-value, self.source)
        if value > 0:
            raise _error(
                "message at offset %d carries a positive error code %d" % (msg.offset, value),
                self.source,
                msg.payload,
            )

    def _keep(self, state: int, inode: int) -> bool:
        """Filters as the text parsers do: by state, and once per inode."""
        wanted = self._wanted
        if wanted is not None and state not in wanted:
            return False
        return not self._seen.seen(inode)

    def _decode(self, payload: bytes, offset: int) -> Optional[_R]:
        """The record of one socket's message payload (``None`` if filtered out)."""
        return self._decode_at(payload, 0, len(payload), offset)

    def _decode_at(self, data: bytes, start: int, end: int, offset: int) -> Optional[_R]:
        """:meth:`_decode` of the payload ``data[start:end]``, read in place."""
        raise NotImplementedError

    def _need(self, value: bytes, size: int, name: str, offset: int) -> None:
        if len(value) < size:
            raise _error(
                "%s attribute of the message at offset %d has %d bytes, needs %d"
                % (name, offset, len(value), size),
                self.source,
                value,
            )


#: The attributes InetDumpDecoder._fields reads: CONG, SKMEMINFO, SHUTDOWN, PROTOCOL,
#: SKV6ONLY (and INFO, decoded at once).
_KEPT_ATTRIBUTES = frozenset((2, 4, 7, 8, 10, 11))


def _kept_message(data: bytes, start: int, ranges: Optional[Sequence[Tuple[int, int]]]) -> Optional[bytes]:
    """The bytes of ``ranges`` (from ``start``; the first starts at 0) joined, or None."""
    if ranges is None:
        return None
    if len(ranges) == 1:
        return data[start : start + ranges[0][1]]
    return b"".join([data[start + a : start + b] for a, b in ranges])


#: Most attribute layouts a decoder remembers (a dump shows a handful).
_LAYOUTS_MAX = 64
#: Most endpoints a decoder keeps for reuse (then it starts afresh).
ENDPOINT_CACHE_LIMIT = 1 << 16


class _EndpointCache(Dict[bytes, Dict[int, Endpoint]]):
    """address bytes (16, as sent) -> port (as read: see InetDumpDecoder._make_endpoint) -> Endpoint.

    Two levels rather than one map keyed by (address, port): a hit builds no key tuple.
    """

    def __missing__(self, raw: bytes) -> Dict[int, Endpoint]:
        by_port: Dict[int, Endpoint] = {}
        self[raw] = by_port
        return by_port


class InetDumpDecoder(_DumpDecoder[InetSocket]):
    """Decodes an inet_diag dump reply into :class:`InetSocket` records.

    ``proto`` is what was asked for (``"tcp"``, ``"udp"``, ``"udplite"``, ``"raw"``):
    replies do not repeat it. ``ticks_per_second`` converts the kernel's milliseconds to
    the clock ticks the text tables print (default 100; ``os.sysconf("SC_CLK_TCK")``).
    ``states`` keeps only those states (the kernel filters too; this is exact).
    """

    def __init__(
        self,
        proto: str,
        *,
        byteorder: str = sys.byteorder,
        ticks_per_second: int = 100,
        states: Optional[Iterable[int]] = None,
        source: Optional[str] = None,
    ) -> None:
        if proto not in INET_PROTOCOLS:
            raise ValueError("proto is one of %s, not %r" % (", ".join(INET_PROTOCOLS), proto))
        if ticks_per_second <= 0:
            raise ValueError("ticks_per_second is a positive int, not %r" % (ticks_per_second,))
        super().__init__(byteorder, source or "sock_diag %s" % proto, states)
        prefix = _prefix(byteorder)
        self.proto = proto
        self.ticks_per_second = ticks_per_second
        self._msg = _INET_MSGS[prefix]
        self._msg_key = _INET_MSG_KEYS[prefix]
        self._tcp_info_full = _TCP_INFOS_FULL[prefix]
        self._tcp_info_socket = _TCP_INFOS_SOCKET[prefix]
        self._skmem = _SK_MEMINFOS[prefix]
        self._prefix = prefix
        # INET_DIAG_CONG value bytes -> name: a handful of algorithms, millions of sockets
        self._congestions: Dict[bytes, str] = {}
        self._skmems: Dict[bytes, Tuple[int, ...]] = {}
        self._u64 = struct.Struct(prefix + "Q")
        self._little = byteorder == "little"
        # (address bytes, port as read) -> Endpoint, one map per family; and the address
        # objects, which far fewer sockets differ in.
        self._endpoints4 = _EndpointCache()
        self._endpoints6 = _EndpointCache()
        self._ips4: Dict[bytes, IPAddress] = {}
        self._ips6: Dict[bytes, IPAddress] = {}
        self._cached = 0  # endpoints made since the caches were last emptied
        # attributes' size -> (their headers' Struct, the headers, the ranges to keep)
        self._layouts: Dict[int, Tuple[struct.Struct, Tuple[int, ...], Optional[Tuple[Tuple[int, int], ...]]]] = {}
        # one bound method for every record (self._load would make one per record)
        self._loader = self._load

    def _make_endpoint(self, by_port: Dict[int, Endpoint], family: int, raw: bytes, port: int) -> Endpoint:
        """The endpoint of ``raw`` (idiag_src or idiag_dst, 16 bytes) and ``port``, made on a
        cache miss and cached in ``by_port`` (the cache of ``raw``'s ports).

        ``port`` is the big-endian ``__be16`` as read in the kernel's byte order: the cache
        is keyed by it, and only a new endpoint pays for swapping its bytes.
        """
        if self._cached >= ENDPOINT_CACHE_LIMIT:
            # Bounded: a dump of a million sockets read one record at a time must not
            # keep a million endpoints (the caller's by_port is then dropped after use).
            self._endpoints4.clear()
            self._endpoints6.clear()
            self._ips4.clear()
            self._ips6.clear()
            self._cached = 0
        self._cached += 1
        ips = self._ips4 if family == _AF_INET else self._ips6
        ip = ips.get(raw)
        if ip is None:
            ip = ips[raw] = ipaddress.IPv4Address(raw[:4]) if family == _AF_INET else ipaddress.IPv6Address(raw)
        ep = by_port[port] = _new_endpoint(ip, (port & 0xFF) << 8 | port >> 8 if self._little else port)
        return ep

    def _decode_at(self, data: bytes, start: int, end: int, offset: int) -> Optional[InetSocket]:
        if end - start < _INET_DIAG_MSG_LEN:
            raise _error(
                "truncated inet_diag_msg at offset %d: %d bytes, needs %d"
                % (offset, end - start, _INET_DIAG_MSG_LEN),
                self.source,
                data[start:end],
            )
        # What every row needs now: the rest is decoded when a field is first read.
        family, state, inode = self._msg_key.unpack_from(data, start)
        # self._keep(state, inode), inline: the call is 4 % of decoding a large dump.
        wanted = self._wanted
        if wanted is not None and state not in wanted:
            return None
        if inode and self._seen.seen(inode):
            return None
        if family != _AF_INET and family != _AF_INET6:
            raise _error(
                "inet_diag_msg at offset %d has address family %d, not AF_INET or AF_INET6"
                % (offset, family),
                self.source,
                data[start:end],
            )
        message = self._checked_without_info(data, start, end, offset)
        if message is not None:
            # No struct tcp_info: the record keeps the message (checked whole above) and
            # its other fields are decoded from it when one is first read.
            return _new_lazy_socket(self._loader, message, self.proto, _FAMILIES[family], _STATES[state], inode)
        # With tcp_info: decoded now (its values given in place of a source).
        values = self._fields(data, start, end, offset)
        return _new_lazy_socket(None, values, self.proto, _FAMILIES[family], _STATES[state], inode)

    def _load(self, message: bytes) -> Tuple[object, ...]:
        """The fields of a checked message (see _records.lazy_constructor)."""
        return self._fields(message, 0, len(message), 0)

    def _checked_without_info(self, data: bytes, start: int, end: int, offset: int) -> Optional[bytes]:
        """Check the attributes' framing. When INET_DIAG_INFO is not among them, the
        message to keep: the inet_diag_msg and the attributes :meth:`_fields` reads (the
        kernel adds others, MARK, CGROUP_ID, SOCKOPT, a third of the bytes); else None.

        The sockets of one dump carry the same attributes (kinds and lengths) in the same
        order, so a layout once walked is remembered: a message of the same size whose
        attribute headers are those at the same places has the same framing, checked by
        one unpack and one comparison."""
        head = start + _INET_DIAG_MSG_LEN
        layout = self._layouts.get(end - head)
        if layout is not None:
            headers, expected, ranges = layout
            if headers.unpack_from(data, head) == expected:
                return _kept_message(data, start, ranges)
        return self._walk_attributes(data, start, end, offset)

    def _walk_attributes(self, data: bytes, start: int, end: int, offset: int) -> Optional[bytes]:
        """:meth:`_checked_without_info` the long way, remembering the layout."""
        unpack_attr = self._attr.unpack_from
        head = start + _INET_DIAG_MSG_LEN
        pos = head
        seen: List[Tuple[int, int, int]] = []  # (offset from head, nla_len, nla_type as sent)
        ranges: Optional[List[Tuple[int, int]]] = [(0, _INET_DIAG_MSG_LEN)]  # kept, from start
        while pos < end:
            if end - pos < 4:
                raise _attribute_error(data, pos, end, start, None, offset, self.source)
            length, raw_kind = unpack_attr(data, pos)
            if length < 4 or length > end - pos:
                raise _attribute_error(data, pos, end, start, length, offset, self.source)
            seen.append((pos - head, length, raw_kind))
            kind = raw_kind & 0x3FFF
            step = (length + 3) & ~3
            if kind in _KEPT_ATTRIBUTES and ranges is not None:
                if kind == 2:  # INET_DIAG_INFO: decoded at once (see _decode_at)
                    ranges = None
                else:
                    a, b = pos - start, min(pos + step, end) - start
                    if ranges[-1][1] == a:
                        ranges[-1] = (ranges[-1][0], b)
                    else:
                        ranges.append((a, b))
            pos += step
        if len(self._layouts) < _LAYOUTS_MAX:
            fmt = [self._attr.format[:1]]  # the byte order
            at = 0
            for rel, _, _ in seen:
                fmt.append("%dxHH" % (rel - at) if rel > at else "HH")
                at = rel + 4
            fmt.append("%dx" % (end - head - at) if end - head > at else "")
            headers = struct.Struct("".join(fmt))
            expected = tuple(v for _, length, kind in seen for v in (length, kind))
            self._layouts[end - head] = (headers, expected, None if ranges is None else tuple(ranges))
        return _kept_message(data, start, ranges)

    def _fields(self, data: bytes, start: int, end: int, offset: int) -> Tuple[object, ...]:
        """The fields other than proto, family, state and inode, in ``InetSocket._LAZY`` order."""
        (
            family,
            state,
            timer,
            retrans,
            sport,
            dport,
            src,
            dst,
            _ifindex,
            cookie,
            expires,
            rqueue,
            wqueue,
            uid,
            inode,
        ) = self._msg.unpack_from(data, start)
        endpoints = self._endpoints4 if family == _AF_INET else self._endpoints6
        # The attributes, in one pass; of each type only the last counts. SHUTDOWN is sent
        # for every full socket and never for a TIME_WAIT or request minisocket
        # (inet_diag_msg_attrs_fill): None here means a minisocket.
        shutdown: Optional[int] = None
        info = -1  # where the INET_DIAG_INFO value starts
        info_len = 0
        meminfo = -1
        meminfo_len = 0
        cong = -1
        cong_len = 0
        protocol: Optional[int] = None
        v6only: Optional[bool] = None
        unpack_attr = self._attr.unpack_from
        pos = start + _INET_DIAG_MSG_LEN
        while pos < end:
            if end - pos < 4:
                raise _attribute_error(data, pos, end, start, None, offset, self.source)
            length, kind = unpack_attr(data, pos)
            if length < 4 or length > end - pos:
                raise _attribute_error(data, pos, end, start, length, offset, self.source)
            # Literal numbers, not the INET_DIAG_* names: a global lookup per test and
            # attribute is measurable at a million sockets. The kernel sends about seven
            # attributes a socket; those this decoder skips (MARK 15, CGROUP_ID 21,
            # SOCKOPT 22...) are numbered above 10 and pass one test.
            kind &= 0x3FFF  # _NLA_TYPE_MASK
            if kind == 11:  # INET_DIAG_SKV6ONLY: AF_INET6 sockets in LISTEN or CLOSE
                v6only = bool(data[pos + 4]) if length > 4 else None
            elif kind <= 10:
                if kind == 8:  # INET_DIAG_SHUTDOWN
                    shutdown = data[pos + 4] if length > 4 else 0
                elif kind == 2:  # INET_DIAG_INFO
                    info = pos + 4
                    info_len = length - 4
                elif kind == 7:  # INET_DIAG_SKMEMINFO
                    meminfo = pos + 4
                    meminfo_len = length - 4
                elif kind == 4:  # INET_DIAG_CONG
                    cong = pos + 4
                    cong_len = length - 4
                elif kind == 10:  # INET_DIAG_PROTOCOL
                    protocol = data[pos + 4] if length > 4 else None
            pos += (length + 3) & ~3
        proto = self.proto
        tps = self.ticks_per_second
        tx_queue = wqueue
        listen_backlog: Optional[int] = None
        sock_uid: Optional[int] = uid
        # UDP and raw: the kernel sends idiag_retrans 0 and has no probe counter; their
        # text rows print a literal 0 in both columns.
        retransmits: Optional[int] = 0
        probes: Optional[int] = 0
        rto: Optional[int] = None
        ato: Optional[int] = None
        cwnd: Optional[int] = None
        ssthresh: Optional[int] = None
        drops: Optional[int] = None
        tcp_info: Optional[TcpInfo] = None
        if proto == "tcp":
            listening = state == _LISTEN
            if listening:
                # tcp_diag_get_info: the accept queue and the backlog; the text prints
                # write_seq - snd_una, which is 0 for a listener.
                tx_queue = 0
                listen_backlog = wqueue
            if shutdown is None:
                # A TIME_WAIT or request minisocket (inet_twsk_diag_fill,
                # inet_req_diag_fill): idiag_retrans is 0, or the request's SYN-ACK
                # retransmits; the kernel has no probe counter for either, and its text
                # rows print a literal 0 there.
                sock_uid = None  # the kernel sends 0 for minisockets: not the owner's
                retransmits = retrans
            else:
                # A full socket (inet_sk_diag_fill): idiag_retrans is icsk_retransmits
                # with timer 1, icsk_probes_out with timers 2 and 4; the other counter,
                # and both with no timer, are not sent. struct tcp_info has both (below).
                retransmits = retrans if timer == _TIMER_RETRANSMIT else None
                probes = retrans if timer in _TIMER_PROBES else None
            if info >= 0:
                congestion: Optional[str] = None
                if cong >= 0:
                    raw_cong = data[cong : cong + cong_len]
                    congestion = self._congestions.get(raw_cong)
                    if congestion is None:
                        congestion = self._congestion(raw_cong)
                if info_len >= _TCP_INFO_FULL_LEN:
                    info_retransmits, info_probes, rto_us, ato_us, snd_ssthresh, cwnd = (
                        self._tcp_info_socket.unpack_from(data, info)
                    )
                    tcp_info = _make_tcp_info(
                        self._tcp_info_full.unpack_from(data, info), congestion, _TCP_INFO_FULL_LEN, self._little
                    )
                else:
                    self._need(data[info : info + info_len], _TCP_INFO_MIN, "INET_DIAG_INFO (struct tcp_info)", offset)
                    values = self._tcp_info_full.unpack(
                        data[info : info + info_len] + bytes(_TCP_INFO_FULL_LEN - info_len)
                    )
                    tcp_info = _make_tcp_info(values, congestion, info_len, self._little)
                    info_retransmits = values[2]  # tcpi_retransmits = icsk_retransmits
                    info_probes = values[3]  # tcpi_probes = icsk_probes_out
                    rto_us = values[8]
                    ato_us = values[9]
                    snd_ssthresh = values[25]
                    cwnd = values[26]
                if not listening:
                    # tcp_get_info returns early for listeners, leaving rto, ato, ssthresh,
                    # retransmits and probes 0: they are not sent.
                    rto = rto_us * tps // 1000000
                    ato = ato_us * tps // 1000000
                    ssthresh = -1 if snd_ssthresh >= _INFINITE_SSTHRESH else snd_ssthresh
                    retransmits = info_retransmits
                    probes = info_probes
        else:
            if proto == "raw":
                # /proc prints a raw socket's protocol as its local port and 0 as the remote one.
                if protocol is not None:
                    sport = protocol << 8 if self._little else protocol  # as _make_endpoint reads it
                dport = 0
            if meminfo >= 0 and meminfo_len >= 4 * (_SK_MEMINFO_DROPS + 1):
                # SK_MEMINFO_DROPS: sk_drops, what the udp and raw text rows print
                drops = self._u32.unpack_from(data, meminfo + 4 * _SK_MEMINFO_DROPS)[0]
        skmem: Optional[Tuple[int, ...]] = None
        if meminfo >= 0:
            # One tuple per distinct value (idle sockets share theirs): a new tuple of
            # nine ints per socket costs more than hashing 36 bytes.
            raw_mem = data[meminfo : meminfo + meminfo_len]
            skmem = self._skmems.get(raw_mem)
            if skmem is None:
                skmem = self._meminfo(raw_mem)
        by_port = endpoints[src]
        local = by_port.get(sport)
        if local is None:
            local = self._make_endpoint(by_port, family, src, sport)
        by_port = endpoints[dst]
        remote = by_port.get(dport)
        if remote is None:
            remote = self._make_endpoint(by_port, family, dst, dport)
        return (
            local,
            remote,
            tx_queue,
            rqueue,
            _TIMERS[timer],
            expires * tps // 1000,
            retransmits,
            sock_uid,
            probes,
            None,  # refcount: not in sock_diag
            None,  # pointer: not in sock_diag (the cookie is its own field)
            None,  # slot: no rows here
            rto,
            ato,
            None,  # quick_ack
            None,  # pingpong
            cwnd,
            ssthresh,
            None,  # fastopen_max_qlen
            drops,
            listen_backlog,
            shutdown,
            tcp_info,
            skmem,
            v6only,
            cookie if self._little else _cookie(cookie, "big"),
        )

    def _congestion(self, raw: bytes) -> str:
        """The name in an INET_DIAG_CONG value (NUL-terminated), cached by its bytes."""
        name = raw.split(b"\x00", 1)[0].decode("utf-8", "surrogateescape")
        if len(self._congestions) < 256:  # bounded: the kernel has a handful of names
            self._congestions[raw] = name
        return name

    def _meminfo(self, raw: bytes) -> Tuple[int, ...]:
        """The u32s of an INET_DIAG_SKMEMINFO value, cached by its bytes (bounded)."""
        skmem = _meminfo(self._prefix, raw, 0, len(raw))
        if len(self._skmems) >= 4096:
            self._skmems.clear()
        self._skmems[raw] = skmem
        return skmem


def _meminfo(prefix: str, data: bytes, pos: int, size: int) -> Tuple[int, ...]:
    """The u32s of an INET_DIAG_SKMEMINFO / UNIX_DIAG_MEMINFO value at ``data[pos:pos+size]``
    (a trailing partial word is ignored)."""
    return struct.unpack_from(prefix + "%dI" % (size // 4), data, pos)


class UnixDumpDecoder(_DumpDecoder[UnixSocket]):
    """Decodes a unix_diag dump reply into :class:`UnixSocket` records.

    ``states`` keeps only those (ss) states. Attributes not asked for stay ``None``.
    """

    def __init__(
        self,
        *,
        byteorder: str = sys.byteorder,
        states: Optional[Iterable[int]] = None,
        source: str = "sock_diag unix",
    ) -> None:
        super().__init__(byteorder, source, states)
        prefix = _prefix(byteorder)
        # struct unix_diag_msg: family, type, state, pad, udiag_ino, udiag_cookie[2]
        self._msg = struct.Struct(prefix + "BBBxIII")
        self._pair = struct.Struct(prefix + "II")
        self._skmem = _SK_MEMINFOS[prefix]
        self._prefix = prefix

    def _value(self, data: bytes, pos: int, size: int, need: int, name: str, offset: int) -> None:
        """Raises unless the attribute value ``data[pos:pos+size]`` has ``need`` bytes."""
        if size < need:
            self._need(data[pos : pos + size], need, name, offset)

    def _decode_at(self, data: bytes, start: int, end: int, offset: int) -> Optional[UnixSocket]:
        if end - start < _UNIX_DIAG_MSG_LEN:
            raise _error(
                "truncated unix_diag_msg at offset %d: %d bytes, needs %d"
                % (offset, end - start, _UNIX_DIAG_MSG_LEN),
                self.source,
                data[start:end],
            )
        family, type_, state, inode, cookie_lo, cookie_hi = self._msg.unpack_from(data, start)
        if family != _AF_UNIX:
            raise _error(
                "unix_diag_msg at offset %d has address family %d, not AF_UNIX" % (offset, family),
                self.source,
                data[start:end],
            )
        if not self._keep(state, inode):
            return None
        # The attributes, in one pass: where each value starts (-1: absent) and its size;
        # of each type only the last counts.
        name = peer_at = rqlen_at = vfs_at = icons_at = shutdown_at = uid_at = mem_at = -1
        name_len = peer_len = rqlen_len = vfs_len = icons_len = shutdown_len = uid_len = mem_len = 0
        unpack_attr = self._attr.unpack_from
        pos = start + _UNIX_DIAG_MSG_LEN
        while pos < end:
            if end - pos < 4:
                raise _attribute_error(data, pos, end, start, None, offset, self.source)
            length, kind = unpack_attr(data, pos)
            if length < 4 or length > end - pos:
                raise _attribute_error(data, pos, end, start, length, offset, self.source)
            kind &= _NLA_TYPE_MASK
            value = pos + 4
            size = length - 4
            if kind == UNIX_DIAG_NAME:
                name, name_len = value, size
            elif kind == UNIX_DIAG_VFS:
                vfs_at, vfs_len = value, size
            elif kind == UNIX_DIAG_PEER:
                peer_at, peer_len = value, size
            elif kind == UNIX_DIAG_ICONS:
                icons_at, icons_len = value, size
            elif kind == UNIX_DIAG_RQLEN:
                rqlen_at, rqlen_len = value, size
            elif kind == UNIX_DIAG_SHUTDOWN:
                shutdown_at, shutdown_len = value, size
            elif kind == UNIX_DIAG_UID:
                uid_at, uid_len = value, size
            elif kind == UNIX_DIAG_MEMINFO:
                mem_at, mem_len = value, size
            pos += (length + 3) & ~3
        path: Optional[str] = None
        if name_len:
            path = unix_path(data[name : name + name_len])
        peer: Optional[int] = None
        rqueue: Optional[int] = None
        wqueue: Optional[int] = None
        vfs_inode: Optional[int] = None
        vfs_dev: Optional[int] = None
        shutdown: Optional[int] = None
        uid: Optional[int] = None
        pending: Optional[Tuple[int, ...]] = None
        if peer_at >= 0:
            self._value(data, peer_at, peer_len, 4, "UNIX_DIAG_PEER", offset)
            peer = self._u32.unpack_from(data, peer_at)[0]
        if rqlen_at >= 0:
            self._value(data, rqlen_at, rqlen_len, 8, "UNIX_DIAG_RQLEN", offset)
            rqueue, wqueue = self._pair.unpack_from(data, rqlen_at)
        if vfs_at >= 0:
            self._value(data, vfs_at, vfs_len, 8, "UNIX_DIAG_VFS", offset)
            vfs_inode, dev = self._pair.unpack_from(data, vfs_at)
            # The kernel's internal dev_t is major << 20 | minor; stat() gives makedev's.
            vfs_dev = os.makedev(dev >> 20, dev & 0xFFFFF)
        if icons_at >= 0:
            if icons_len % 4:
                raise _error(
                    "UNIX_DIAG_ICONS attribute of the message at offset %d has %d bytes, not a multiple of 4"
                    % (offset, icons_len),
                    self.source,
                    data[icons_at : icons_at + icons_len],
                )
            pending = struct.unpack_from(self._prefix + "%dI" % (icons_len // 4), data, icons_at)
        if shutdown_at >= 0:
            self._value(data, shutdown_at, shutdown_len, 1, "UNIX_DIAG_SHUTDOWN", offset)
            shutdown = data[shutdown_at]
        if uid_at >= 0:
            self._value(data, uid_at, uid_len, 4, "UNIX_DIAG_UID", offset)
            uid = self._u32.unpack_from(data, uid_at)[0]
        skmem: Optional[Tuple[int, ...]] = None
        if mem_at >= 0:
            if mem_len == 36:
                skmem = self._skmem.unpack_from(data, mem_at)
            else:
                skmem = _meminfo(self._prefix, data, mem_at, mem_len)
        # unix_seq_show: St is SS_CONNECTED/SS_UNCONNECTED for a socket with a file (an
        # inode), SS_CONNECTING/SS_DISCONNECTING for one without; Flags is __SO_ACCEPTCON
        # for a listener.
        established = state == _ESTABLISHED
        if inode:
            status = SocketStatus.CONNECTED if established else SocketStatus.UNCONNECTED
        else:
            status = SocketStatus.CONNECTING if established else SocketStatus.DISCONNECTING
        # all UnixSocket fields, in order
        return _new_unix_socket(
            _SOCK_TYPES.get(type_, type_),
            _STATES[state],
            status,
            UnixFlag.ACCEPTCON if state == _LISTEN else _NO_UNIX_FLAGS,
            None,  # refcount: not in sock_diag
            inode,
            path,
            None,  # pointer: not in sock_diag (the cookie is its own field)
            0,  # protocol: unix_seq_show prints a literal 0; sock_diag has no such field
            None,  # netns
            (),  # owners
            None,  # owners_complete
            peer,
            rqueue,
            wqueue,
            vfs_inode,
            vfs_dev,
            shutdown,
            uid,
            pending,
            None,  # text_only
            skmem,
            cookie_hi << 32 | cookie_lo,
        )


def unix_path(name: bytes) -> str:
    """The ``path`` the text table shows for a UNIX_DIAG_NAME value (``sun_path`` bytes).

    A file system path loses the NUL the kernel keeps after it; an abstract name (leading
    NUL) is ``@`` followed by the rest with every NUL shown as ``@``, exactly as
    ``unix_seq_show`` prints it. Bytes that are not UTF-8 are kept as surrogate escapes,
    as the text parser keeps them (``os.fsencode(path)`` gives them back).

    >>> unix_path(b"/run/a.sock\\x00"), unix_path(b"\\x00abs\\x00name")
    ('/run/a.sock', '@abs@name')
    """
    if name[:1] == b"\x00":
        text = b"@" + name[1:].replace(b"\x00", b"@")
    elif name[-1:] == b"\x00":
        text = name[:-1]
    else:
        text = name
    return text.decode("utf-8", "surrogateescape")


# --- whole replies ---

Chunks = Union[bytes, Iterable[bytes]]


def _chunks(data: Chunks) -> Iterable[bytes]:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return [bytes(data)]
    return data


def _run(decoder: _DumpDecoder[_R], data: Chunks) -> Iterator[_R]:
    for chunk in _chunks(data):
        for record in decoder.feed(chunk):
            yield record
    if not decoder.done:
        raise _error("the reply ends at offset %d without NLMSG_DONE" % decoder.offset, decoder.source)


def parse_inet_dump(
    data: Chunks,
    proto: str,
    *,
    byteorder: str = sys.byteorder,
    ticks_per_second: int = 100,
    states: Optional[Iterable[int]] = None,
    source: Optional[str] = None,
) -> Iterator[InetSocket]:
    """Records of a whole inet_diag dump reply: ``bytes``, or the received datagrams in order.

    ``proto`` is the protocol that was asked for (``"tcp"``...). The reply must end with
    ``NLMSG_DONE``. A malformed reply raises :class:`~procnet.ParseError`; an error reply
    :class:`NetlinkError` (:class:`NetlinkUnavailable` when the kernel cannot serve it).

    >>> done = struct.pack("=IHHIIi", 20, NLMSG_DONE, NLM_F_MULTI, 1, 0, 0)
    >>> list(parse_inet_dump(done, "tcp"))
    []
    """
    decoder = InetDumpDecoder(
        proto, byteorder=byteorder, ticks_per_second=ticks_per_second, states=states, source=source
    )
    return _run(decoder, data)


def parse_unix_dump(
    data: Chunks,
    *,
    byteorder: str = sys.byteorder,
    states: Optional[Iterable[int]] = None,
    source: str = "sock_diag unix",
) -> Iterator[UnixSocket]:
    """Records of a whole unix_diag dump reply (see :func:`parse_inet_dump`)."""
    return _run(UnixDumpDecoder(byteorder=byteorder, states=states, source=source), data)


__all__ = [
    "ALL_STATES_MASK",
    "INET_PROTOCOLS",
    "InetDumpDecoder",
    "Message",
    "NETLINK_SOCK_DIAG",
    "NetlinkError",
    "NetlinkUnavailable",
    "UDIAG_SHOW_DEFAULT",
    "UnixDumpDecoder",
    "error_from_errno",
    "inet_request",
    "iter_attributes",
    "iter_messages",
    "parse_inet_dump",
    "parse_unix_dump",
    "state_mask",
    "unix_path",
    "unix_request",
]
