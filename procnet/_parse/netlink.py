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

What the text does not have, and what netlink does not have, both default the way the
record types document; the differences from the text source are:

* ``refcount`` is 0 (sock_diag does not report it) and ``slot`` is 0 (no row number);
  ``pointer`` is the 64-bit socket cookie as 16 hex digits, as opaque as the text's
  hashed pointer (and, unlike it, stable for the life of the socket).
* ``timer_expires``: the kernel sends milliseconds; they are converted to clock ticks with
  ``ticks_per_second`` (default 100, the ``USER_HZ`` of every mainstream architecture:
  pass ``os.sysconf("SC_CLK_TCK")`` to be exact), which gives the number the text prints.
* TCP LISTEN: ``rx_queue`` is the accept-queue length and ``tx_queue`` 0, as in the text;
  ``listen_backlog`` is the backlog. ``rto``, ``ato``, ``ssthresh`` and
  ``fastopen_max_qlen`` are ``None`` for listeners (the kernel's tcp_info leaves them 0),
  ``cwnd`` is set. ``quick_ack`` and ``pingpong`` are always ``None`` (not in tcp_info).
* TCP TIME_WAIT and SYN_RECV request sockets have ``uid`` ``None`` (the kernel sends 0).
* unix: ``status`` and ``flags`` are derived from the state and the inode with the same
  rule as the kernel's text table (``net/unix/af_unix.c unix_seq_show``); ``state`` is the
  kernel's own (an embryo, a connection not yet accepted, is ESTABLISHED here and
  SYN_SENT in the text, which can only show its SS_CONNECTING status).
"""

from __future__ import annotations

import errno as _errno
import ipaddress
import os
import socket
import struct
import sys
from typing import (
    Dict,
    FrozenSet,
    Generic,
    Iterable,
    Iterator,
    List,
    NamedTuple,
    Optional,
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
)

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
    UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN | UDIAG_SHOW_UID
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
    message = "%s: %s (%s)" % (what, os.strerror(err), name)
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
    (see :func:`state_mask`). TCP asks for ``struct tcp_info`` unless ``tcp_info`` is false
    (a listener-only query need not pay for it); UDP and raw ask for the memory counters
    (their drop count).

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
            ext |= 1 << (INET_DIAG_INFO - 1)
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
    header = struct.Struct(_prefix(byteorder) + "IHHII")
    data = bytes(data)
    end = len(data)
    pos = 0
    while pos < end:
        where = offset + pos
        if end - pos < NLMSG_HDRLEN:
            raise _error(
                "truncated message at offset %d: %d bytes left, a netlink header needs 16"
                % (where, end - pos),
                source,
                data[pos:],
            )
        length, msg_type, flags, seq, pid = header.unpack_from(data, pos)
        if length < NLMSG_HDRLEN:
            raise _error(
                "bad message at offset %d: nlmsg_len %d is shorter than the header" % (where, length),
                source,
                data[pos : pos + 64],
            )
        if length > end - pos:
            raise _error(
                "truncated message at offset %d: nlmsg_len %d but only %d bytes left"
                % (where, length, end - pos),
                source,
                data[pos : pos + 64],
            )
        yield Message(msg_type, flags, seq, pid, where, data[pos + NLMSG_HDRLEN : pos + length])
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
    return _iter_attributes(payload, start, struct.Struct(_prefix(byteorder) + "HH"), offset, source)


def _iter_attributes(
    payload: bytes, start: int, header: struct.Struct, offset: int, source: str
) -> Iterator[Tuple[int, bytes]]:
    end = len(payload)
    pos = start
    while pos < end:
        if end - pos < 4:
            raise _error(
                "truncated attribute at offset %d of the message at offset %d: %d bytes left, "
                "an attribute header needs 4" % (pos + NLMSG_HDRLEN, offset, end - pos),
                source,
                payload[pos:],
            )
        length, attr_type = header.unpack_from(payload, pos)
        if length < 4 or length > end - pos:
            raise _error(
                "bad attribute at offset %d of the message at offset %d: nla_len %d, %d bytes left"
                % (pos + NLMSG_HDRLEN, offset, length, end - pos),
                source,
                payload[pos : pos + 64],
            )
        yield attr_type & _NLA_TYPE_MASK, payload[pos + 4 : pos + length]
        pos += (length + 3) & ~3


# --- the dump decoders ---

_R = TypeVar("_R")


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
        self._attr = struct.Struct(prefix + "HH")
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
        self._seen: Set[int] = set()

    def feed(self, data: bytes) -> List[_R]:
        """Decode one received datagram (or any run of whole messages)."""
        out: List[_R] = []
        start = self.offset
        self.offset += len(data)
        for msg in iter_messages(data, byteorder=self.byteorder, offset=start, source=self.source):
            if self.done:
                raise _error("message at offset %d after NLMSG_DONE" % msg.offset, self.source, msg.payload)
            if msg.flags & NLM_F_DUMP_INTR:
                self.interrupted = True
            kind = msg.msg_type
            if kind == NLMSG_DONE:
                # The dump's end; its payload, when there is one, is an int: a negative
                # errno when the request could not be served (no diag handler: -ENOENT).
                if len(msg.payload) >= 4:
                    self._check_errno(self._int.unpack_from(msg.payload, 0)[0], msg)
                self.done = True
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
            elif kind >= 0x10:  # NLMSG_MIN_TYPE: a socket
                record = self._decode(msg.payload, msg.offset)
                if record is not None:
                    out.append(record)
            # NLMSG_NOOP and unknown control messages carry nothing.
        return out

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
        if self._wanted is not None and state not in self._wanted:
            return False
        if inode:
            if inode in self._seen:
                return False
            self._seen.add(inode)
        return True

    def _decode(self, payload: bytes, offset: int) -> Optional[_R]:
        raise NotImplementedError

    def _attributes(self, payload: bytes, start: int, offset: int) -> Dict[int, bytes]:
        return dict(_iter_attributes(payload, start, self._attr, offset, self.source))

    def _need(self, value: bytes, size: int, name: str, offset: int) -> None:
        if len(value) < size:
            raise _error(
                "%s attribute of the message at offset %d has %d bytes, needs %d"
                % (name, offset, len(value), size),
                self.source,
                value,
            )


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
        # struct inet_diag_msg from offset 40: idiag_if, idiag_cookie[2], idiag_expires,
        # idiag_rqueue, idiag_wqueue, idiag_uid, idiag_inode
        self._tail = struct.Struct(prefix + "8I")
        self._ports = struct.Struct("!HH")  # __be16 idiag_sport, idiag_dport
        # struct tcp_info by offset: 0 state, ca_state, retransmits, probes; 8 rto, ato;
        # 16 snd_mss, rcv_mss; 24 unacked, sacked, lost, retrans; 68 rtt, rttvar,
        # snd_ssthresh, snd_cwnd; 100 total_retrans (104 bytes: the oldest layout)
        self._tcp_info = struct.Struct(
            prefix + "BBBB4x" + "II" + "II" + "IIII" + "28x" + "IIII" + "16x" + "I"
        )
        self._u64 = struct.Struct(prefix + "Q")
        self._endpoints: Dict[Tuple[bytes, int], Endpoint] = {}

    def _endpoint(self, family: int, raw: bytes, port: int) -> Endpoint:
        key = (raw, port)
        ep = self._endpoints.get(key)
        if ep is None:
            ip: IPAddress
            if family == socket.AF_INET:
                ip = ipaddress.IPv4Address(raw[:4])
            else:
                ip = ipaddress.IPv6Address(raw)
            ep = self._endpoints[key] = Endpoint(ip, port)
        return ep

    def _decode(self, payload: bytes, offset: int) -> Optional[InetSocket]:
        if len(payload) < _INET_DIAG_MSG_LEN:
            raise _error(
                "truncated inet_diag_msg at offset %d: %d bytes, needs %d"
                % (offset, len(payload), _INET_DIAG_MSG_LEN),
                self.source,
                payload,
            )
        family, state, timer, retrans = payload[0], payload[1], payload[2], payload[3]
        _ifindex, cookie_lo, cookie_hi, expires, rqueue, wqueue, uid, inode = self._tail.unpack_from(
            payload, 40
        )
        if not self._keep(state, inode):
            return None
        if family == socket.AF_INET:
            src, dst = payload[8:12], payload[24:28]
        elif family == socket.AF_INET6:
            src, dst = payload[8:24], payload[24:40]
        else:
            raise _error(
                "inet_diag_msg at offset %d has address family %d, not AF_INET or AF_INET6"
                % (offset, family),
                self.source,
                payload,
            )
        attrs = self._attributes(payload, _INET_DIAG_MSG_LEN, offset)
        sport, dport = self._ports.unpack_from(payload, 4)
        proto = self.proto
        drops: Optional[int] = None
        if proto == "raw":
            # /proc prints a raw socket's protocol as its local port and 0 as the remote one.
            protocol = attrs.get(INET_DIAG_PROTOCOL)
            if protocol:
                sport = protocol[0]
            dport = 0
        elif proto != "tcp":
            meminfo = attrs.get(INET_DIAG_SKMEMINFO)
            if meminfo is not None and len(meminfo) >= 4 * (_SK_MEMINFO_DROPS + 1):
                drops = self._u32.unpack_from(meminfo, 4 * _SK_MEMINFO_DROPS)[0]
        shutdown_attr = attrs.get(INET_DIAG_SHUTDOWN)
        # inet_diag_msg_attrs_fill sends SHUTDOWN for every full socket and never for a
        # TIME_WAIT or request minisocket.
        full = shutdown_attr is not None
        shutdown = shutdown_attr[0] if shutdown_attr else (0 if full else None)
        ticks = expires * self.ticks_per_second // 1000
        rx_queue, tx_queue = rqueue, wqueue
        listen_backlog: Optional[int] = None
        sock_uid: Optional[int] = uid
        retransmits = probes = 0
        rto: Optional[int] = None
        ato: Optional[int] = None
        cwnd: Optional[int] = None
        ssthresh: Optional[int] = None
        tcp_info: Optional[TcpInfo] = None
        if proto == "tcp":
            listening = state == TcpState.LISTEN
            if listening:
                # tcp_diag_get_info: the accept queue and the backlog; the text prints
                # write_seq - snd_una, which is 0 for a listener.
                tx_queue = 0
                listen_backlog = wqueue
            if not full:
                sock_uid = None  # the kernel sends 0 for minisockets: not the owner's
            # idiag_retrans is icsk_retransmits with timer 1 (and request sockets'
            # retransmits), icsk_probes_out with timers 2 and 4 (inet_sk_diag_fill).
            if timer == Timer.RETRANSMIT:
                retransmits = retrans
            elif timer in (Timer.KEEPALIVE, Timer.ZERO_WINDOW_PROBE):
                probes = retrans
            info = attrs.get(INET_DIAG_INFO)
            if info is not None:
                tcp_info = self._decode_tcp_info(info, offset)
                retransmits = info[2]  # tcpi_retransmits = icsk_retransmits
                probes = info[3]  # tcpi_probes = icsk_probes_out
                cwnd = tcp_info.snd_cwnd
                if not listening:
                    # tcp_get_info returns early for listeners, leaving rto/ato/ssthresh 0.
                    usec_per_tick = 1000000
                    rto = tcp_info.rto_us * self.ticks_per_second // usec_per_tick
                    ato = tcp_info.ato_us * self.ticks_per_second // usec_per_tick
                    ssthresh = -1 if tcp_info.snd_ssthresh >= _INFINITE_SSTHRESH else tcp_info.snd_ssthresh
        return InetSocket(
            proto,
            socket.AddressFamily(family),
            self._endpoint(family, src, sport),
            self._endpoint(family, dst, dport),
            TcpState(state),
            tx_queue,
            rx_queue,
            Timer(timer),
            ticks,
            retransmits,
            sock_uid,
            probes,
            inode,
            0,
            "%016x" % (cookie_hi << 32 | cookie_lo),
            0,
            rto,
            ato,
            None,
            None,
            cwnd,
            ssthresh,
            None,
            drops,
            listen_backlog=listen_backlog,
            shutdown=shutdown,
            tcp_info=tcp_info,
        )

    def _decode_tcp_info(self, info: bytes, offset: int) -> TcpInfo:
        """``struct tcp_info`` (include/uapi/linux/tcp.h), read by offset: it grows with the kernel."""
        self._need(info, _TCP_INFO_MIN, "INET_DIAG_INFO (struct tcp_info)", offset)
        (
            _state,
            _ca_state,
            retransmits,
            _probes,
            rto,  # 8: tcpi_rto, µs
            ato,  # 12: tcpi_ato, µs
            snd_mss,  # 16
            rcv_mss,  # 20
            unacked,  # 24
            _sacked,  # 28
            lost,  # 32
            _retrans,  # 36
            rtt,  # 68
            rttvar,  # 72
            ssthresh,  # 76
            cwnd,  # 80
            total_retrans,  # 100
        ) = self._tcp_info.unpack_from(info, 0)
        size = len(info)
        u64 = self._u64.unpack_from

        def at(pos: int) -> Optional[int]:
            return u64(info, pos)[0] if size >= pos + 8 else None

        min_rtt = self._u32.unpack_from(info, 148)[0] if size >= 152 else None
        return TcpInfo(
            rtt,
            rttvar,
            rto,
            ato,
            snd_mss,
            rcv_mss,
            cwnd,
            ssthresh,
            retransmits,
            total_retrans,
            unacked,
            lost,
            bytes_acked=at(120),
            bytes_received=at(128),
            pacing_rate=at(104),
            delivery_rate=at(160),
            min_rtt_us=min_rtt,
        )


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
        self._prefix = prefix

    def _decode(self, payload: bytes, offset: int) -> Optional[UnixSocket]:
        if len(payload) < _UNIX_DIAG_MSG_LEN:
            raise _error(
                "truncated unix_diag_msg at offset %d: %d bytes, needs %d"
                % (offset, len(payload), _UNIX_DIAG_MSG_LEN),
                self.source,
                payload,
            )
        family, type_, state, inode, cookie_lo, cookie_hi = self._msg.unpack_from(payload, 0)
        if family != socket.AF_UNIX:
            raise _error(
                "unix_diag_msg at offset %d has address family %d, not AF_UNIX" % (offset, family),
                self.source,
                payload,
            )
        if not self._keep(state, inode):
            return None
        attrs = self._attributes(payload, _UNIX_DIAG_MSG_LEN, offset)
        path: Optional[str] = None
        name = attrs.get(UNIX_DIAG_NAME)
        if name:
            path = unix_path(name)
        peer: Optional[int] = None
        rqueue: Optional[int] = None
        wqueue: Optional[int] = None
        vfs_inode: Optional[int] = None
        vfs_dev: Optional[int] = None
        shutdown: Optional[int] = None
        uid: Optional[int] = None
        pending: Optional[Tuple[int, ...]] = None
        value = attrs.get(UNIX_DIAG_PEER)
        if value is not None:
            self._need(value, 4, "UNIX_DIAG_PEER", offset)
            peer = self._u32.unpack_from(value, 0)[0]
        value = attrs.get(UNIX_DIAG_RQLEN)
        if value is not None:
            self._need(value, 8, "UNIX_DIAG_RQLEN", offset)
            rqueue, wqueue = self._pair.unpack_from(value, 0)
        value = attrs.get(UNIX_DIAG_VFS)
        if value is not None:
            self._need(value, 8, "UNIX_DIAG_VFS", offset)
            vfs_inode, dev = self._pair.unpack_from(value, 0)
            # The kernel's internal dev_t is major << 20 | minor; stat() gives makedev's.
            vfs_dev = os.makedev(dev >> 20, dev & 0xFFFFF)
        value = attrs.get(UNIX_DIAG_ICONS)
        if value is not None:
            if len(value) % 4:
                raise _error(
                    "UNIX_DIAG_ICONS attribute of the message at offset %d has %d bytes, not a multiple of 4"
                    % (offset, len(value)),
                    self.source,
                    value,
                )
            pending = struct.unpack(self._prefix + "%dI" % (len(value) // 4), value)
        value = attrs.get(UNIX_DIAG_SHUTDOWN)
        if value is not None:
            self._need(value, 1, "UNIX_DIAG_SHUTDOWN", offset)
            shutdown = value[0]
        value = attrs.get(UNIX_DIAG_UID)
        if value is not None:
            self._need(value, 4, "UNIX_DIAG_UID", offset)
            uid = self._u32.unpack_from(value, 0)[0]
        listening = state == TcpState.LISTEN
        # unix_seq_show: St is SS_CONNECTED/SS_UNCONNECTED for a socket with a file (an
        # inode), SS_CONNECTING/SS_DISCONNECTING for one without; Flags is __SO_ACCEPTCON
        # for a listener.
        established = state == TcpState.ESTABLISHED
        if inode:
            status = SocketStatus.CONNECTED if established else SocketStatus.UNCONNECTED
        else:
            status = SocketStatus.CONNECTING if established else SocketStatus.DISCONNECTING
        return UnixSocket(
            _SOCK_TYPES.get(type_, type_),
            TcpState(state),
            status,
            UnixFlag.ACCEPTCON if listening else UnixFlag(0),
            0,
            inode,
            path,
            "%016x" % (cookie_hi << 32 | cookie_lo),
            peer_inode=peer,
            rqueue=rqueue,
            wqueue=wqueue,
            vfs_inode=vfs_inode,
            vfs_dev=vfs_dev,
            shutdown=shutdown,
            uid=uid,
            pending_inodes=pending,
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
