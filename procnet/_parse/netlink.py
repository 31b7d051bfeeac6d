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

# How this works
# --------------
# Framing. A reply is a stream of netlink messages: a 16-byte ``struct nlmsghdr`` (nlmsg_len
# counts the header), the payload, padding to 4 bytes. A socket's payload is a fixed struct
# (``inet_diag_msg``, 72 bytes; ``unix_diag_msg``, 16) followed by attributes framed the
# same way: a 4-byte ``struct nlattr`` (nla_len counts it), the value, padding to 4. Both
# walks are one function, _frames: a length shorter than its header or past the end of the
# enclosing data is a ParseError naming the offset. Of an attribute type sent twice, the
# last counts. The only other copy of the walk is the message loop of _DumpDecoder.feed,
# kept inline for speed (a test checks it against _frames on random streams).
#
# Multipart dumps. The kernel answers one dump request with several datagrams of
# NLM_F_MULTI messages, then NLMSG_DONE (its payload an int: 0, or a negative errno when
# the dump could not be served). NLMSG_ERROR carries a negative errno (0 is an ACK). A
# decoder is fed one datagram at a time (sans-I/O: _netlink receives) and is done at
# NLMSG_DONE; data after it is an error. NLM_F_DUMP_INTR on any message sets
# ``interrupted``. Sockets repeated by a resumed dump are dropped by inode (a bounded window).
#
# Layouts. The sockets of one dump carry the same attribute headers at the same places, so
# a walked layout is remembered by the size of the attribute area: a message whose headers
# equal a remembered layout's has the same framing and its attributes in the same places,
# checked by one unpack and one comparison instead of a walk. A unix layout also holds one
# Struct that reads every value the record takes at once.
#
# Lazy inet records. _decode_at reads family, state and inode at once (what filters need)
# and checks the framing. Without INET_DIAG_INFO the record keeps a compact copy of the
# message (inet_diag_msg and the attributes _fields reads) and decodes the rest on the
# first read of one of its fields; with it, everything is decoded at once.
#
# Invariants: a kept copy was checked whole, so decoding it later cannot fail; a
# remembered layout is trusted only after its headers compare equal, and only a layout
# whose values were all checked is remembered; a lazy record holds its decoder (for
# _load) until decoded, and the decoder holds only caches of immutable values (endpoints,
# tuples, strings), never the inodes it saw once the dump is done.

from __future__ import annotations

import errno as _errno
import ipaddress
import operator
import os
import socket
import struct
import sys
from typing import (
    Any,
    Callable,
    Dict,
    FrozenSet,
    Generic,
    Iterable,
    Iterator,
    List,
    Optional,
    TYPE_CHECKING,
    Sequence,
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
from .._vocab import IP_PROTOCOL
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
INET_DIAG_SKV6ONLY = 11
INET_DIAG_CGROUP_ID = 21  # u64, full sockets, Linux 5.7+ (inet_diag_msg_attrs_fill)

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
INET_PROTOCOLS: Dict[str, int] = IP_PROTOCOL

#: states dumped when none are named: every state /proc shows. BOUND_INACTIVE (bit 13)
#: is left out, as ss leaves it out: it asks for TCP sockets that are only bound, which
#: the text tables never list (they come back as CLOSE).
ALL_STATES_MASK = (1 << 13) - 1

#: errnos that mean "this kernel cannot answer for this family or protocol"
UNAVAILABLE_ERRNOS = frozenset(
    (_errno.ENOENT, _errno.EOPNOTSUPP, _errno.EPROTONOSUPPORT, _errno.EAFNOSUPPORT)
)

_INET_DIAG_MSG_LEN = 72
#: inet_diag_sockid's idiag_sport, idiag_dport (network order) and idiag_src, at offset 4
_PEEK_ENDS = struct.Struct(">HH16s")
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
    skmem: bool = False,
    seq: int = 1,
    byteorder: str = sys.byteorder,
) -> bytes:
    """A whole dump request (nlmsghdr + ``inet_diag_req_v2``) for one protocol and family.

    ``proto`` is ``"tcp"``, ``"udp"``, ``"udplite"`` or ``"raw"``; ``family``
    ``socket.AF_INET`` or ``AF_INET6``. Only sockets in ``states`` are sent by the kernel
    (see :func:`state_mask`). TCP asks for ``struct tcp_info``, the congestion control's
    name and the memory counters unless ``tcp_info`` is false (a listener-only query need
    not pay for them); ``skmem`` asks TCP for the memory counters alone (a listener's drop
    count, ``SK_MEMINFO_DROPS``, without ``struct tcp_info``); UDP and raw always ask for
    the memory counters (with their drop count).

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
        elif skmem:
            ext |= 1 << (INET_DIAG_SKMEMINFO - 1)
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


class Message:
    """One netlink message of a reply.

    (A plain class, not a NamedTuple: building a NamedTuple class costs more at import
    than every Message a dump makes; there are two or three per dump.)
    """

    __slots__ = ("msg_type", "flags", "seq", "pid", "offset", "payload")

    def __init__(self, msg_type: int, flags: int, seq: int, pid: int, offset: int, payload: bytes) -> None:
        #: nlmsg_type: SOCK_DIAG_BY_FAMILY for a socket, NLMSG_DONE, NLMSG_ERROR...
        self.msg_type = msg_type
        #: nlmsg_flags (NLM_F_MULTI, NLM_F_DUMP_INTR...)
        self.flags = flags
        self.seq = seq
        self.pid = pid
        #: where the message's header starts, counted in bytes from the start of the reply
        self.offset = offset
        #: the message after its 16-byte header, padding excluded
        self.payload = payload

    def _fields(self) -> Tuple[int, int, int, int, int, bytes]:
        return self.msg_type, self.flags, self.seq, self.pid, self.offset, self.payload

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "Message(msg_type=%r, flags=%r, seq=%r, pid=%r, offset=%r, payload=%r)" % self._fields()


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


if TYPE_CHECKING:
    #: ``fail(where, length)``: the error for a frame of _frames that does not fit
    _Fail = Callable[[int, Optional[int]], ParseError]


def _frames(
    data: bytes, pos: int, end: int, header: struct.Struct, fail: _Fail
) -> Iterator[Tuple[int, Tuple[int, ...]]]:
    """The netlink walk: ``(where, header fields)`` of each frame in ``data[pos:end]``.

    A frame is a header whose first field is the frame's length, header included, then
    its value, then padding to 4 bytes (NLMSG_ALIGN, NLA_ALIGN): a message (``struct
    nlmsghdr``) or an attribute (``struct nlattr``). The last frame may omit its padding.
    A frame whose header is cut, or whose length is shorter than its header or runs past
    ``end``, raises ``fail(where, length)`` (``length`` None for a cut header).
    """
    size = header.size
    unpack = header.unpack_from
    while pos < end:
        if end - pos < size:
            raise fail(pos, None)
        fields = unpack(data, pos)
        length = fields[0]
        if length < size or length > end - pos:
            raise fail(pos, length)
        yield pos, fields
        pos += (length + 3) & ~3


def _attribute_failure(data: bytes, end: int, start: int, offset: int, source: str) -> _Fail:
    """``fail`` for _frames over the attributes of the message whose payload starts at
    ``data[start]`` and ends at ``end`` (the message at ``offset`` of the reply)."""

    def fail(pos: int, length: Optional[int]) -> ParseError:
        return _attribute_error(data, pos, end, start, length, offset, source)

    return fail


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
    header = _HEADERS[_prefix(byteorder)]
    data = bytes(data)

    def fail(pos: int, length: Optional[int]) -> ParseError:
        return _message_error(data, pos, length, offset, source)

    for pos, (length, msg_type, flags, seq, pid) in _frames(data, 0, len(data), header, fail):
        yield Message(msg_type, flags, seq, pid, offset + pos, data[pos + NLMSG_HDRLEN : pos + length])


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
    fail = _attribute_failure(payload, len(payload), 0, offset, source)
    for pos, (length, attr_type) in _frames(payload, start, len(payload), header, fail):
        yield attr_type & _NLA_TYPE_MASK, payload[pos + 4 : pos + length]


def _attribute_spans(
    data: bytes, pos: int, end: int, header: struct.Struct, fail: _Fail
) -> Dict[int, Tuple[int, int]]:
    """type (flag bits cleared) -> (where its value starts, its size), for the attributes in
    ``data[pos:end]``; of each type the last."""
    frames = _frames(data, pos, end, header, fail)
    return {kind & _NLA_TYPE_MASK: (at + 4, length - 4) for at, (length, kind) in frames}


# --- the dump decoders ---

_R = TypeVar("_R")


if TYPE_CHECKING:
    _AnyDict = Dict[Any, Any]
else:
    _AnyDict = dict  # the same base, without building a typing alias at import


class _Members(_AnyDict):
    """number -> enum member in one dict lookup; a number the enum does not know is handed
    to the enum once (which makes its UNKNOWN_<n> pseudo-member) and then cached."""

    def __init__(self, enum_type: Callable[[int], object], members: Iterable[object]) -> None:
        super().__init__((int(m), m) for m in members)  # type: ignore[call-overload]
        self._enum = enum_type

    def __missing__(self, key: int) -> object:
        member = self[key] = self._enum(key)
        return member


_STATES: Dict[int, TcpState] = _Members(TcpState, TcpState)
_TIMERS: Dict[int, Timer] = _Members(Timer, Timer)
_FAMILIES = {int(socket.AF_INET): socket.AF_INET, int(socket.AF_INET6): socket.AF_INET6}
_AF_INET = int(socket.AF_INET)
_AF_INET6 = int(socket.AF_INET6)
_AF_UNIX = int(socket.AF_UNIX)
_LISTEN = int(TcpState.LISTEN)
_ESTABLISHED = int(TcpState.ESTABLISHED)
_TIMER_RETRANSMIT = int(Timer.RETRANSMIT)
_TIMER_PROBES = (int(Timer.KEEPALIVE), int(Timer.ZERO_WINDOW_PROBE))
_NO_UNIX_FLAGS = UnixFlag(0)


class _Constructors:
    """The record constructors, made on first use (by the first decoder): records are built
    without their dataclass __init__ (see _records.fast_constructor), the decoder having
    checked every value; __init__ would be more than half of the cost."""

    made: "Optional[_Constructors]" = None

    def __init__(self) -> None:
        self.inet_socket = lazy_constructor(InetSocket)
        self.unix_socket = fast_constructor(UnixSocket)
        self.endpoint = fast_constructor(Endpoint)

    @classmethod
    def get(cls) -> "_Constructors":
        made = cls.made
        if made is None:
            made = cls.made = cls()
        return made


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
_SK_MEMINFOS = {p: struct.Struct(p + "9I") for p in "<>"}  # SK_MEMINFO_VARS u32s

# --- struct tcp_info ---

#: ``struct tcp_info`` (include/uapi/linux/tcp.h) as procnet reads it: the TcpInfo field
#: (``probes`` is the InetSocket's only), the byte offset, the struct code, the first Linux
#: that sends it. A field past the end of a shorter struct (an older kernel's) is None.
#: Not read: 0 state, 1 ca_state, 40 fackets, 48 last_ack_sent (never set).
_TCP_INFO_FIELDS: Tuple[Tuple[str, int, str, str], ...] = (
    ("retransmits", 2, "B", "2.6"),
    ("probes", 3, "B", "2.6"),
    ("backoff", 4, "B", "2.6"),
    ("options", 5, "B", "2.6"),
    ("rto_us", 8, "I", "2.6"),
    ("ato_us", 12, "I", "2.6"),
    ("snd_mss", 16, "I", "2.6"),
    ("rcv_mss", 20, "I", "2.6"),
    ("unacked", 24, "I", "2.6"),
    ("sacked", 28, "I", "2.6"),
    ("lost", 32, "I", "2.6"),
    ("retrans", 36, "I", "2.6"),
    ("last_data_sent_ms", 44, "I", "2.6"),
    ("last_data_recv_ms", 52, "I", "2.6"),
    ("last_ack_recv_ms", 56, "I", "2.6"),
    ("pmtu", 60, "I", "2.6"),
    ("rcv_ssthresh", 64, "I", "2.6"),
    ("rtt_us", 68, "I", "2.6"),
    ("rttvar_us", 72, "I", "2.6"),
    ("snd_ssthresh", 76, "I", "2.6"),
    ("snd_cwnd", 80, "I", "2.6"),
    ("advmss", 84, "I", "2.6"),
    ("reordering", 88, "I", "2.6"),
    ("rcv_rtt_us", 92, "I", "2.6"),
    ("rcv_space", 96, "I", "2.6"),
    ("total_retrans", 100, "I", "2.6"),  # 104 bytes: the oldest layout still met
    ("pacing_rate", 104, "Q", "3.15"),
    ("max_pacing_rate", 112, "Q", "3.15"),
    ("bytes_acked", 120, "Q", "4.1"),
    ("bytes_received", 128, "Q", "4.1"),
    ("segs_out", 136, "I", "4.2"),
    ("segs_in", 140, "I", "4.2"),
    ("notsent_bytes", 144, "I", "4.6"),
    ("min_rtt_us", 148, "I", "4.6"),
    ("data_segs_in", 152, "I", "4.6"),
    ("data_segs_out", 156, "I", "4.6"),
    ("delivery_rate", 160, "Q", "4.9"),
    ("busy_time_us", 168, "Q", "4.10"),
    ("rwnd_limited_us", 176, "Q", "4.10"),
    ("sndbuf_limited_us", 184, "Q", "4.10"),
    ("delivered", 192, "I", "4.18"),
    ("delivered_ce", 196, "I", "4.18"),
    ("bytes_sent", 200, "Q", "4.19"),
    ("bytes_retrans", 208, "Q", "4.19"),
    ("dsack_dups", 216, "I", "4.19"),
    ("reord_seen", 220, "I", "4.19"),
    ("rcv_ooopack", 224, "I", "5.4"),
    ("snd_wnd", 228, "I", "5.4"),
    ("rcv_wnd", 232, "I", "6.2"),
    ("rehash", 236, "I", "6.2"),  # 240 bytes; Linux 6.18 sends 280, the rest not read
)

#: Its bit fields: TcpInfo field, byte offset, first bit and width where a little-endian
#: ABI puts them (C fills a byte from its low bits there, from its high bits on a
#: big-endian ABI), the struct length that carries the field, first Linux.
_TCP_INFO_BITS: Tuple[Tuple[str, int, int, int, int, str], ...] = (
    ("snd_wscale", 6, 0, 4, 104, "2.6"),  # tcpi_snd_wscale:4
    ("rcv_wscale", 6, 4, 4, 104, "2.6"),  # tcpi_rcv_wscale:4
    # tcpi_delivery_rate_app_limited:1, sent with delivery_rate (so known from 168 bytes)
    ("app_limited", 7, 0, 1, 168, "4.9"),
)

#: What the InetSocket itself takes from struct tcp_info.
_TCP_INFO_SOCKET_FIELDS = ("retransmits", "probes", "rto_us", "ato_us", "snd_ssthresh", "snd_cwnd")


class _TcpInfoReader:
    """Reads a ``struct tcp_info`` as the tables above lay it out, in one byte order: the
    TcpInfo, and the values the InetSocket takes (:data:`_TCP_INFO_SOCKET_FIELDS`).

    Made on the first tcp_info decoded (most queries decode none): one unpack of every
    field in offset order, then one ``itemgetter`` puts them in TcpInfo's field order.
    """

    readers: Dict[str, "_TcpInfoReader"] = {}

    @classmethod
    def get(cls, prefix: str) -> "_TcpInfoReader":
        reader = cls.readers.get(prefix)
        if reader is None:
            reader = cls.readers[prefix] = cls(prefix)
        return reader

    def __init__(self, prefix: str) -> None:
        rows = [(offset, code, name) for name, offset, code, _ in _TCP_INFO_FIELDS]
        rows += [(offset, "B", "byte %d" % offset) for _, offset, _, _, _, _ in _TCP_INFO_BITS]
        fmt = [prefix]
        at = 0
        index: Dict[str, int] = {}
        ends: Dict[str, int] = {}
        for offset, code, name in sorted(set(rows)):
            fmt.append("%dx%s" % (offset - at, code) if offset > at else code)
            at = offset + struct.calcsize(code)
            index[name], ends[name] = len(index), at
        self.struct = struct.Struct("".join(fmt))
        #: the bytes a struct needs to be read in one unpack (shorter ones are padded)
        self.size = at
        # After the unpacked values: the congestion name, then the bit fields.
        index["congestion"], ends["congestion"] = len(index), 0
        self.bits: List[Tuple[int, int, int]] = []  # (index of the byte, shift, mask)
        for name, offset, first, width, end, _ in _TCP_INFO_BITS:
            shift = first if prefix == "<" else 8 - first - width
            self.bits.append((index["byte %d" % offset], shift, (1 << width) - 1))
            index[name], ends[name] = len(index), end
        names = list(TcpInfo._FIELDS)
        self.order = operator.itemgetter(*[index[name] for name in names])
        self.socket = operator.itemgetter(*[index[name] for name in _TCP_INFO_SOCKET_FIELDS])
        #: (TcpInfo field position, the struct length that holds the field)
        self.ends = [(i, ends[name]) for i, name in enumerate(names) if ends[name] > _TCP_INFO_MIN]
        self.new = fast_constructor(TcpInfo)

    def read(
        self, data: bytes, at: int, size: int, congestion: Optional[str]
    ) -> Tuple[TcpInfo, Tuple[int, ...]]:
        """The TcpInfo and the socket's values of the ``size``-byte struct at ``data[at]``
        (at least :attr:`size` bytes there, or the whole struct, which is then padded)."""
        if size >= self.size:
            v = self.struct.unpack_from(data, at)
        else:
            v = self.struct.unpack(data[at : at + size] + bytes(self.size - size))
        # the bit fields, in _TCP_INFO_BITS order (the last one a flag)
        (b0, s0, m0), (b1, s1, m1), (b2, s2, _) = self.bits
        args = self.order(v + (congestion, v[b0] >> s0 & m0, v[b1] >> s1 & m1, v[b2] >> s2 & 1 == 1))
        if size < self.size:
            args = list(args)
            for i, end in self.ends:
                if size < end:
                    args[i] = None
        return self.new(*args), self.socket(v)


# --- inet ---

if TYPE_CHECKING:
    #: retransmits, probes, rto, ato, cwnd, ssthresh, tcp_info
    _TcpInfoFields = Tuple[
        Optional[int], Optional[int], Optional[int], Optional[int], int, Optional[int], TcpInfo
    ]

#: The attributes InetDumpDecoder._fields reads, and their place in a layout's ``where``.
#: INFO is decoded with the message (see _decode_at); the others when a field is read.
_FIELD_ATTRIBUTES = {
    INET_DIAG_INFO: 0,
    INET_DIAG_CONG: 1,
    INET_DIAG_SKMEMINFO: 2,
    INET_DIAG_SHUTDOWN: 3,
    INET_DIAG_PROTOCOL: 4,
    INET_DIAG_SKV6ONLY: 5,
    INET_DIAG_CGROUP_ID: 6,
}

if TYPE_CHECKING:
    #: How the attributes of a message lie (see "How this works"): a Struct reading each
    #: attribute's (nla_len, nla_type) from the first one on; those values; the parts of the
    #: message a lazy record keeps (offsets from the message start; None: it has
    #: INET_DIAG_INFO); ``where``: (value offset from the message start, size) of each of
    #: _FIELD_ATTRIBUTES in that order, offset -1 when absent.
    _Layout = Tuple[struct.Struct, Tuple[int, ...], Optional[Tuple[Tuple[int, int], ...]], Tuple[int, ...]]
    #: (offset from the message start, nla_len, nla_type as sent) of each attribute
    _Frame = Tuple[int, int, int]


def _headers(
    order: str, frames: Sequence[_Frame], fixed: int, size: int
) -> Tuple[struct.Struct, Tuple[int, ...]]:
    """A Struct that reads the (nla_len, nla_type) of each of ``frames`` in a ``size``-byte
    message, from the end of its ``fixed``-byte struct on; and the values it reads there."""
    fmt = [order]
    at = fixed
    for rel, _, _ in frames:
        fmt.append("%dxHH" % (rel - at) if rel > at else "HH")
        at = rel + 4
    fmt.append("%dx" % (size - at) if size > at else "")
    return struct.Struct("".join(fmt)), tuple(v for _, length, kind in frames for v in (length, kind))


def _walk(data: bytes, start: int, end: int, fixed: int, header: struct.Struct, fail: _Fail) -> List[_Frame]:
    """The attributes of the message ``data[start:end]``, after its ``fixed``-byte struct."""
    frames = _frames(data, start + fixed, end, header, fail)
    return [(pos - start, length, kind) for pos, (length, kind) in frames]


def _layout_of(order: str, frames: Sequence[_Frame], size: int) -> _Layout:
    """The layout of a ``size``-byte inet_diag message whose attributes are ``frames``."""
    headers, expected = _headers(order, frames, _INET_DIAG_MSG_LEN, size)
    where = [-1, 0] * len(_FIELD_ATTRIBUTES)
    kept: Optional[List[Tuple[int, int]]] = [(0, _INET_DIAG_MSG_LEN)]
    for rel, length, kind in frames:
        slot = _FIELD_ATTRIBUTES.get(kind & _NLA_TYPE_MASK)
        if slot is None:
            continue  # MARK, CGROUP_ID, SOCKOPT...: a third of the bytes, not kept
        where[2 * slot : 2 * slot + 2] = rel + 4, length - 4
        if slot == 0:
            kept = None
        elif kept is not None:
            a, b = rel, min(rel + ((length + 3) & ~3), size)
            if kept[-1][1] == a:
                kept[-1] = (kept[-1][0], b)
            else:
                kept.append((a, b))
    return headers, expected, None if kept is None else tuple(kept), tuple(where)


def _kept_message(data: bytes, start: int, ranges: Sequence[Tuple[int, int]]) -> bytes:
    """The bytes of ``ranges`` (from ``start``; the first starts at 0) joined."""
    if len(ranges) == 1:
        return data[start : start + ranges[0][1]]
    return b"".join([data[start + a : start + b] for a, b in ranges])


#: Most attribute layouts a decoder remembers (a dump shows a handful).
_LAYOUTS_MAX = 64
#: Most endpoints a decoder keeps for reuse (then it starts afresh).
ENDPOINT_CACHE_LIMIT = 1 << 16


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
        # The one inline copy of _frames, for speed: every socket of every dump passes
        # here, and a generator would cost a few % of a large dump. Each socket's message
        # is decoded where it lies in the datagram, not copied out first.
        # tests/test_parse_netlink_walker.py checks it against _frames.
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


class _EndpointCache(_AnyDict):
    """address bytes (16, as sent) -> port (as read: see InetDumpDecoder._make_endpoint) -> Endpoint.

    Two levels rather than one map keyed by (address, port): a hit builds no key tuple.
    """

    def __missing__(self, raw: bytes) -> Dict[int, Endpoint]:
        by_port: Dict[int, Endpoint] = {}
        self[raw] = by_port
        return by_port


if TYPE_CHECKING:
    _InetDecoder = _DumpDecoder[InetSocket]
    _UnixDecoder = _DumpDecoder[UnixSocket]
else:
    # The subscripts only type the subclasses: at run time they would build typing
    # objects at import for nothing.
    _InetDecoder = _UnixDecoder = _DumpDecoder


class InetDumpDecoder(_InetDecoder):
    """Decodes an inet_diag dump reply into :class:`InetSocket` records.

    ``proto`` is what was asked for (``"tcp"``, ``"udp"``, ``"udplite"``, ``"raw"``):
    replies do not repeat it. ``ticks_per_second`` converts the kernel's milliseconds to
    the clock ticks the text tables print (default 100; ``os.sysconf("SC_CLK_TCK")``).
    ``states`` keeps only those states (the kernel filters too; this is exact).
    ``ignore``: attribute types (``INET_DIAG_*``) read as if they had not been sent: a
    capture's stored answer holds every attribute, and a query that did not ask for
    ``struct tcp_info`` decodes it as the kernel's smaller answer (procnet/_parse/stored_answer.py).
    """

    def __init__(
        self,
        proto: str,
        *,
        byteorder: str = sys.byteorder,
        ticks_per_second: int = 100,
        states: Optional[Iterable[int]] = None,
        source: Optional[str] = None,
        ignore: Iterable[int] = (),
    ) -> None:
        self._ignored = frozenset(ignore)
        if proto not in INET_PROTOCOLS:
            raise ValueError("proto is one of %s, not %r" % (", ".join(INET_PROTOCOLS), proto))
        if ticks_per_second <= 0:
            raise ValueError("ticks_per_second is a positive int, not %r" % (ticks_per_second,))
        super().__init__(byteorder, source or "sock_diag %s" % proto, states)
        prefix = _prefix(byteorder)
        self.proto = proto
        self._tcp = proto == "tcp"
        self.ticks_per_second = ticks_per_second
        self._msg = _INET_MSGS[prefix]
        self._msg_key = _INET_MSG_KEYS[prefix]
        self._skmem = _SK_MEMINFOS[prefix]
        self._u64 = struct.Struct(prefix + "Q")
        self._prefix = prefix
        # INET_DIAG_CONG value bytes -> name: a handful of algorithms, millions of sockets
        self._congestions: Dict[bytes, str] = {}
        self._skmems: Dict[bytes, Tuple[int, ...]] = {}
        self._little = byteorder == "little"
        # (address bytes, port as read) -> Endpoint, one map per family; and the address
        # objects, which far fewer sockets differ in.
        self._endpoints4 = _EndpointCache()
        self._endpoints6 = _EndpointCache()
        self._ips4: Dict[bytes, IPAddress] = {}
        self._ips6: Dict[bytes, IPAddress] = {}
        self._cached = 0  # endpoints made since the caches were last emptied
        # size of the attributes -> their layout: of whole messages, and of kept ones
        self._layouts: Dict[int, _Layout] = {}
        self._kept_layouts: Dict[int, _Layout] = {}
        # one bound method for every record (self._load would make one per record)
        self._loader = self._load
        self._queues = struct.Struct(prefix + "II")
        made = _Constructors.get()
        self._new_socket = made.inet_socket
        self._new_endpoint = made.endpoint
        self._tcp_info_reader: Optional[_TcpInfoReader] = None

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
        ep = by_port[port] = self._new_endpoint(ip, (port & 0xFF) << 8 | port >> 8 if self._little else port)
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
        layout = self._layouts.get(end - start - _INET_DIAG_MSG_LEN)
        if layout is None or layout[0].unpack_from(data, start + _INET_DIAG_MSG_LEN) != layout[1]:
            layout = self._learn(data, start, end, offset, self._layouts)
        kept = layout[2]
        if kept is not None:
            # No struct tcp_info: the record keeps the message (checked whole by
            # _layout) and its other fields are decoded from it when one is first read.
            message = _kept_message(data, start, kept)
            return self._new_socket(
                self._loader, message, self.proto, _FAMILIES[family], _STATES[state], inode
            )
        # With tcp_info: decoded now (its values given in place of a source).
        values = self._fields(data, start, layout, offset)
        return self._new_socket(None, values, self.proto, _FAMILIES[family], _STATES[state], inode)

    def peek(self, message: bytes) -> Tuple[int, int, bytes, int, int]:
        """(local port, remote port, local address as 16 bytes (an IPv4 one in the first
        4), idiag_rqueue, idiag_wqueue) of a kept message, read without decoding it: what
        the exporter needs of every connection (:func:`peek_inet`)."""
        sport, dport, src = _PEEK_ENDS.unpack_from(message, 4)
        rqueue, wqueue = self._queues.unpack_from(message, 56)
        return sport, dport, src, rqueue, wqueue

    def _load(self, message: bytes) -> Tuple[object, ...]:
        """The fields of a kept message (see _records.lazy_constructor)."""
        layout = self._kept_layouts.get(len(message) - _INET_DIAG_MSG_LEN)
        if layout is None or layout[0].unpack_from(message, _INET_DIAG_MSG_LEN) != layout[1]:
            layout = self._learn(message, 0, len(message), 0, self._kept_layouts)
        return self._fields(message, 0, layout, 0)

    def _learn(self, data: bytes, start: int, end: int, offset: int, layouts: Dict[int, _Layout]) -> _Layout:
        """The layout of the attributes of the message ``data[start:end]``, walked (raising
        on bad framing) and remembered. Its callers use a remembered layout when its headers
        are those of the message: the same framing, without the walk."""
        fail = _attribute_failure(data, end, start, offset, self.source)
        frames = _walk(data, start, end, _INET_DIAG_MSG_LEN, self._attr, fail)
        if self._ignored:
            # a remembered layout then compares the headers of the other attributes only:
            # where they lie is all that is read
            frames = [f for f in frames if f[2] & _NLA_TYPE_MASK not in self._ignored]
        layout = _layout_of(self._prefix, frames, end - start)
        if len(layouts) < _LAYOUTS_MAX:
            layouts[end - start - _INET_DIAG_MSG_LEN] = layout
        return layout

    def _fields(self, data: bytes, start: int, layout: _Layout, offset: int) -> Tuple[object, ...]:
        """The fields other than proto, family, state and inode, in ``InetSocket._LAZY``
        order, of the message at ``data[start:]`` whose attributes lie as ``layout`` says."""
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
            _inode,
        ) = self._msg.unpack_from(data, start)
        where = layout[3]
        _, _, _, _, mem, mem_len, shut, shut_len, _, _, v6, v6_len, cg, cg_len = where
        # SHUTDOWN is sent for every full socket and never for a TIME_WAIT or request
        # minisocket (inet_diag_msg_attrs_fill): None here means a minisocket.
        shutdown = None if shut < 0 else data[start + shut] if shut_len else 0
        # INET_DIAG_SKV6ONLY: AF_INET6 sockets in LISTEN or CLOSE
        v6only = bool(data[start + v6]) if v6 >= 0 and v6_len else None
        skmem: Optional[Tuple[int, ...]] = None
        if mem >= 0:
            skmem = self._skmem_of(data[start + mem : start + mem + mem_len])
        tx_queue = wqueue
        listen_backlog: Optional[int] = None
        sock_uid: Optional[int] = uid
        # UDP and raw: the kernel sends idiag_retrans 0 and has no probe counter; their text
        # rows print a literal 0 in both columns.
        retransmits: Optional[int] = 0
        probes: Optional[int] = 0
        rto: Optional[int] = None
        ato: Optional[int] = None
        cwnd: Optional[int] = None
        ssthresh: Optional[int] = None
        tcp_info: Optional[TcpInfo] = None
        drops: Optional[int] = None
        if self._tcp:
            listening = state == _LISTEN
            if listening:
                # tcp_diag_get_info: the accept queue and the backlog; the text prints
                # write_seq - snd_una, which is 0 for a listener.
                tx_queue = 0
                listen_backlog = wqueue
            if shutdown is None:
                # A TIME_WAIT or request minisocket (inet_twsk_diag_fill, inet_req_diag_fill):
                # idiag_retrans is 0, or the request's SYN-ACK retransmits; the kernel has no
                # probe counter for either, and its text rows print a literal 0 there.
                sock_uid = None  # the kernel sends 0 for minisockets: not the owner's
                retransmits = retrans
            else:
                # A full socket (inet_sk_diag_fill): idiag_retrans is icsk_retransmits with
                # timer 1, icsk_probes_out with timers 2 and 4; the other counter, and both
                # with no timer, are not sent. struct tcp_info has both (below).
                retransmits = retrans if timer == _TIMER_RETRANSMIT else None
                probes = retrans if timer in _TIMER_PROBES else None
            if where[0] >= 0:
                tcp = self._with_tcp_info(data, start, where, offset, listening, retransmits, probes)
                retransmits, probes, rto, ato, cwnd, ssthresh, tcp_info = tcp
        else:
            sport, dport, drops = self._datagram_fields(data, start, where, sport, dport)
        endpoints = self._endpoints4 if family == _AF_INET else self._endpoints6
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
            expires * self.ticks_per_second // 1000,
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
            # INET_DIAG_CGROUP_ID (full sockets, Linux 5.7+)
            self._u64.unpack_from(data, start + cg)[0] if cg >= 0 and cg_len >= 8 else None,
        )

    def _with_tcp_info(
        self,
        data: bytes,
        start: int,
        where: Tuple[int, ...],
        offset: int,
        listening: bool,
        retransmits: Optional[int],
        probes: Optional[int],
    ) -> _TcpInfoFields:
        """retransmits, probes, rto, ato, cwnd, ssthresh and tcp_info of a TCP socket whose
        message has INET_DIAG_INFO (``retransmits`` and ``probes``: what the message says)."""
        tcp_info, (info_retransmits, info_probes, rto_us, ato_us, snd_ssthresh, cwnd) = self._tcp_info(
            data, start, where, offset
        )
        if listening:
            # tcp_get_info returns early for listeners, leaving rto, ato, ssthresh,
            # retransmits and probes 0: they are not sent.
            return retransmits, probes, None, None, cwnd, None, tcp_info
        tps = self.ticks_per_second
        ssthresh = -1 if snd_ssthresh >= _INFINITE_SSTHRESH else snd_ssthresh
        rto, ato = rto_us * tps // 1000000, ato_us * tps // 1000000
        return info_retransmits, info_probes, rto, ato, cwnd, ssthresh, tcp_info

    def _tcp_info(
        self, data: bytes, start: int, where: Tuple[int, ...], offset: int
    ) -> Tuple[TcpInfo, Tuple[int, ...]]:
        """The TcpInfo of the INET_DIAG_INFO value (and INET_DIAG_CONG) ``where`` places,
        and the socket's values from it (:data:`_TCP_INFO_SOCKET_FIELDS`)."""
        info, info_len, cong, cong_len = start + where[0], where[1], where[2], where[3]
        congestion: Optional[str] = None
        if cong >= 0:
            raw_cong = data[start + cong : start + cong + cong_len]
            congestion = self._congestions.get(raw_cong)
            if congestion is None:
                congestion = self._congestion(raw_cong)
        reader = self._tcp_info_reader
        if reader is None:
            reader = self._tcp_info_reader = _TcpInfoReader.get(self._prefix)
        if info_len < reader.size:
            value = data[info : info + info_len]
            self._need(value, _TCP_INFO_MIN, "INET_DIAG_INFO (struct tcp_info)", offset)
        return reader.read(data, info, info_len, congestion)

    def _datagram_fields(
        self, data: bytes, start: int, where: Tuple[int, ...], sport: int, dport: int
    ) -> Tuple[int, int, Optional[int]]:
        """The ports and drop count of a UDP or raw socket."""
        if self.proto == "raw":
            # /proc prints a raw socket's protocol as its local port and 0 as the remote one.
            at, size = where[8], where[9]
            if at >= 0 and size:
                # read as _make_endpoint reads a port: in the kernel's byte order
                sport = data[start + at] << 8 if self._little else data[start + at]
            dport = 0
        at, size = where[4], where[5]
        if at >= 0 and size >= 4 * (_SK_MEMINFO_DROPS + 1):
            # SK_MEMINFO_DROPS: sk_drops, what the udp and raw text rows print
            return sport, dport, self._u32.unpack_from(data, start + at + 4 * _SK_MEMINFO_DROPS)[0]
        return sport, dport, None

    def _skmem_of(self, raw: bytes) -> Tuple[int, ...]:
        """The u32s of an INET_DIAG_SKMEMINFO value. One tuple per distinct value (idle
        sockets share theirs): a new tuple of nine ints per socket costs more than hashing
        36 bytes. Bounded."""
        skmem = self._skmems.get(raw)
        if skmem is None:
            skmem = _meminfo(self._prefix, raw, 0, len(raw))
            if len(self._skmems) >= 4096:
                self._skmems.clear()
            self._skmems[raw] = skmem
        return skmem

    def _congestion(self, raw: bytes) -> str:
        """The name in an INET_DIAG_CONG value (NUL-terminated), cached by its bytes."""
        name = raw.split(b"\x00", 1)[0].decode("utf-8", "surrogateescape")
        if len(self._congestions) < 256:  # bounded: the kernel has a handful of names
            self._congestions[raw] = name
        return name


def _meminfo(prefix: str, data: bytes, pos: int, size: int) -> Tuple[int, ...]:
    """The u32s of an INET_DIAG_SKMEMINFO / UNIX_DIAG_MEMINFO value at ``data[pos:pos+size]``
    (a trailing partial word is ignored)."""
    return struct.unpack_from(prefix + "%dI" % (size // 4), data, pos)


# --- unix ---

#: The UNIX_DIAG_* attributes a UnixSocket has fields for (include/uapi/linux/unix_diag.h),
#: in the order they are checked: attribute, its name, its struct codes ("*": as many u32s
#: as it holds; "s": its bytes).
_UNIX_ATTRIBUTES: Tuple[Tuple[int, str, str], ...] = (
    (UNIX_DIAG_PEER, "UNIX_DIAG_PEER", "I"),  # the peer's inode
    (UNIX_DIAG_RQLEN, "UNIX_DIAG_RQLEN", "II"),  # struct unix_diag_rqlen: rqueue, wqueue
    (UNIX_DIAG_VFS, "UNIX_DIAG_VFS", "II"),  # struct unix_diag_vfs: inode, dev
    (UNIX_DIAG_ICONS, "UNIX_DIAG_ICONS", "*"),  # inodes of the pending connections
    (UNIX_DIAG_SHUTDOWN, "UNIX_DIAG_SHUTDOWN", "B"),  # RCV_SHUTDOWN | SEND_SHUTDOWN
    (UNIX_DIAG_UID, "UNIX_DIAG_UID", "I"),  # the owner's uid
    (UNIX_DIAG_MEMINFO, "UNIX_DIAG_MEMINFO", "*"),  # SK_MEMINFO_VARS u32s (a partial one ignored)
    (UNIX_DIAG_NAME, "UNIX_DIAG_NAME", "s"),  # sun_path (see unix_path)
)
#: The UnixSocket fields of single values, as (attribute, index of the value in it).
_UNIX_SCALARS = (
    (UNIX_DIAG_NAME, 0),  # path
    (UNIX_DIAG_PEER, 0),  # peer_inode
    (UNIX_DIAG_RQLEN, 0),  # rqueue
    (UNIX_DIAG_RQLEN, 1),  # wqueue
    (UNIX_DIAG_VFS, 0),  # vfs_inode
    (UNIX_DIAG_VFS, 1),  # the vfs dev_t, as the kernel keeps it
    (UNIX_DIAG_SHUTDOWN, 0),  # shutdown
    (UNIX_DIAG_UID, 0),  # uid
)
_NONE1 = (None,)

if TYPE_CHECKING:
    #: How the attributes of a unix_diag message lie, as _Layout for inet: the headers'
    #: Struct and values; a Struct reading every value the record takes at once (from the
    #: message start), a getter of _UNIX_SCALARS from what it reads plus a trailing None (the
    #: value of an attribute not sent), and the (start, end) in it of UNIX_DIAG_ICONS and
    #: UNIX_DIAG_MEMINFO.
    _UnixLayout = Tuple[
        struct.Struct, Tuple[int, ...], struct.Struct, Callable[[Tuple[object, ...]], Tuple[Any, ...]],
        Optional[Tuple[int, int]], Optional[Tuple[int, int]],
    ]  # fmt: skip


class UnixDumpDecoder(_UnixDecoder):
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
        self._prefix = prefix
        self._new_socket = _Constructors.get().unix_socket
        # size of the attributes -> their layout
        self._layouts: Dict[int, _UnixLayout] = {}

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
        layout = self._layouts.get(end - start - _UNIX_DIAG_MSG_LEN)
        if layout is None or layout[0].unpack_from(data, start + _UNIX_DIAG_MSG_LEN) != layout[1]:
            layout = self._learn(data, start, end, offset)
        _, _, reader, scalars, icons, meminfo = layout
        v = reader.unpack_from(data, start)
        name, peer, rqueue, wqueue, vfs_inode, dev, shutdown, uid = scalars(v + _NONE1)
        # unix_seq_show: St is SS_CONNECTED/SS_UNCONNECTED for a socket with a file (an
        # inode), SS_CONNECTING/SS_DISCONNECTING for one without; Flags is __SO_ACCEPTCON
        # for a listener.
        established = state == _ESTABLISHED
        if inode:
            status = SocketStatus.CONNECTED if established else SocketStatus.UNCONNECTED
        else:
            status = SocketStatus.CONNECTING if established else SocketStatus.DISCONNECTING
        # all UnixSocket fields, in order
        return self._new_socket(
            _SOCK_TYPES.get(type_, type_),
            _STATES[state],
            status,
            UnixFlag.ACCEPTCON if state == _LISTEN else _NO_UNIX_FLAGS,
            None,  # refcount: not in sock_diag
            inode,
            unix_path(name) if name else None,
            None,  # pointer: not in sock_diag (the cookie is its own field)
            0,  # protocol: unix_seq_show prints a literal 0; sock_diag has no such field
            None,  # netns
            (),  # owners
            None,  # owners_complete
            peer,
            rqueue,
            wqueue,
            vfs_inode,
            # The kernel's internal dev_t is major << 20 | minor; stat() gives makedev's.
            None if dev is None else os.makedev(dev >> 20, dev & 0xFFFFF),
            shutdown,
            uid,
            None if icons is None else v[icons[0] : icons[1]],
            None,  # text_only
            None if meminfo is None else v[meminfo[0] : meminfo[1]],
            cookie_hi << 32 | cookie_lo,
        )

    def _learn(self, data: bytes, start: int, end: int, offset: int) -> _UnixLayout:
        """The layout of the attributes of the message ``data[start:end]``, walked (raising
        on bad framing or a value too short) and remembered (see InetDumpDecoder._learn)."""
        fail = _attribute_failure(data, end, start, offset, self.source)
        frames = _walk(data, start, end, _UNIX_DIAG_MSG_LEN, self._attr, fail)
        spans = {kind & _NLA_TYPE_MASK: (rel + 4, length - 4) for rel, length, kind in frames}
        reads: List[Tuple[int, str, int, int]] = []  # (offset, struct code, attribute, values)
        for kind, name, codes in _UNIX_ATTRIBUTES:
            span = spans.get(kind)
            if span is None:
                continue
            at, size = span
            if codes == "s":
                reads.append((at, "%ds" % size, kind, 1))
            elif codes == "*":
                if size % 4 and kind == UNIX_DIAG_ICONS:
                    raise _error(
                        "%s attribute of the message at offset %d has %d bytes, not a multiple of 4"
                        % (name, offset, size),
                        self.source,
                        data[start + at : start + at + size],
                    )
                reads.append((at, "%dI" % (size // 4), kind, size // 4))
            else:
                self._need(data[start + at : start + at + size], struct.calcsize(codes), name, offset)
                reads.append((at, codes, kind, len(codes)))
        layout = self._plan(frames, end - start, reads)
        if len(self._layouts) < _LAYOUTS_MAX:
            self._layouts[end - start - _UNIX_DIAG_MSG_LEN] = layout
        return layout

    def _plan(
        self, frames: Sequence[_Frame], size: int, reads: List[Tuple[int, str, int, int]]
    ) -> _UnixLayout:
        """The layout of a ``size``-byte message with attributes ``frames``, whose values
        are read as ``reads`` says."""
        fmt = [self._prefix]
        at = 0
        first: Dict[int, int] = {}  # attribute -> index of its first value
        count = 0
        for offset, code, kind, values in sorted(reads):
            fmt.append("%dx%s" % (offset - at, code) if offset > at else code)
            at = offset + struct.calcsize(code)
            first[kind] = count
            count += values
        # an attribute not sent reads the None appended after the values
        scalars = operator.itemgetter(*[first[k] + i if k in first else count for k, i in _UNIX_SCALARS])
        spans = {kind: (first[kind], first[kind] + values) for _, _, kind, values in reads}
        headers, expected = _headers(self._prefix, frames, _UNIX_DIAG_MSG_LEN, size)
        reader = struct.Struct("".join(fmt))
        return headers, expected, reader, scalars, spans.get(UNIX_DIAG_ICONS), spans.get(UNIX_DIAG_MEMINFO)


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

if TYPE_CHECKING:
    #: a whole reply: its bytes, or the datagrams received, in order
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


def peek_inet(rec: InetSocket) -> Optional[Tuple[int, int, bytes, int, int]]:
    """(local port, remote port, local address as 16 bytes (an IPv4 one in the first 4),
    rx_queue, tx_queue as sock_diag sent them) of a record that still holds its sock_diag
    message, read from the message without decoding the record; None for any other record
    (text, decoded, or with tcp_info), whose fields are then read as usual. For a TCP
    listener the last two are the accept queue and the backlog; for a connection they
    are the record's ``rx_queue`` and ``tx_queue``. Reads the record, never writes it."""
    source = rec._v  # type: ignore[attr-defined]
    if source.__class__ is not bytes:
        return None
    decoder = getattr(rec._load, "__self__", None)  # type: ignore[attr-defined]
    if not isinstance(decoder, InetDumpDecoder):  # decoded meanwhile by another thread
        return None
    return decoder.peek(source)


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
    "peek_inet",
    "parse_unix_dump",
    "state_mask",
    "unix_path",
    "unix_request",
]
