"""The vocabulary: states, timers, endpoints, sockets, owners.

Records are frozen dataclasses built by the parsers only. Fields use the kernel's words
(``rx_queue``, ``inode``, ``uid``); every field says its unit. Values that can be derived
(``is_listening``, ``unmapped_ip``) are properties, not stored state.
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
import socket
import sys
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Tuple, Type, TypeVar, Union

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_: Any) -> Any:
        return lambda f: f


_T = TypeVar("_T")


@dataclass_transform(frozen_default=True)
def _record(cls: type[_T]) -> type[_T]:
    """A frozen dataclass, with ``__slots__`` where the interpreter can make them (3.10+).

    Slots halve the memory of a large table; on 3.8 and 3.9 the records are the same
    frozen dataclasses without them.
    """
    if sys.version_info >= (3, 10):
        return _refuse_writes(dataclasses.dataclass(frozen=True, slots=True)(cls))
    return _refuse_writes(dataclasses.dataclass(frozen=True)(cls))


def _refuse_writes(cls: type[_T]) -> type[_T]:
    """Any write, to a field or not, raises FrozenInstanceError.

    A frozen dataclass's own __setattr__ names the class it was made for; where the class
    is rebuilt (``slots=True``, :func:`_lazy_record`) a write to a name that is not a field
    raised a confusing TypeError from super() instead."""

    def __setattr__(self: Any, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError("cannot assign to field %r" % name)

    def __delattr__(self: Any, name: str) -> None:
        raise dataclasses.FrozenInstanceError("cannot delete field %r" % name)

    setattr(cls, "__setattr__", __setattr__)
    setattr(cls, "__delattr__", __delattr__)
    return cls


def _lazy_record(*stored: str) -> Callable[[Type[_T]], Type[_T]]:
    """Make a dataclass a compact record whose other fields may be decoded on first use.

    The class keeps every dataclass behaviour (``fields()``, ``replace()``, ``asdict()``,
    equality, hashing, repr, pickling, frozen fields) and its fields keep their types.
    Underneath, the ``stored`` fields (those a query reads for every row: inode, state,
    owners...) have slots of their own, and all the others live in one tuple. A parser
    may build a record with that tuple still undecoded: the slot then holds its source
    (the row's text, the kernel's message: a str or bytes, never a tuple) and another a
    function that decodes it, and the tuple is made on the first read of any of those
    fields. A parser only does so for a source it has already checked, so that the
    decoding cannot fail later.

    At 100,000 sockets this is what lets a query that needs only inodes, states and
    owners skip decoding twenty-six fields per row, and hold about a third of the memory.
    """

    def build(cls: Type[_T]) -> Type[_T]:
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        names = [f.name for f in fields]
        unknown = set(stored) - set(names)
        if unknown:
            raise TypeError("not fields of %s: %s" % (cls.__name__, ", ".join(sorted(unknown))))
        lazy = tuple(n for n in names if n not in stored)
        kept = tuple(n for n in names if n in stored)
        namespace = {k: v for k, v in vars(cls).items() if k not in names and k not in ("__dict__", "__weakref__")}
        namespace["__slots__"] = ("_v", "_load") + kept
        meta: Any = type(cls)
        new: Any = meta(cls.__name__, cls.__bases__, namespace)
        new.__qualname__ = cls.__qualname__
        for i, n in enumerate(lazy):
            setattr(new, n, _lazy_field(i, n))
        new._LAZY = lazy
        new._KEPT = kept
        # __init__: the dataclass's signature; fields stored as above.
        scope: Dict[str, Any] = {"set": object.__setattr__}
        params = []
        for f in fields:
            if f.default is not dataclasses.MISSING:
                scope["_d_" + f.name] = f.default
                params.append("%s=_d_%s" % (f.name, f.name))
            elif f.default_factory is not dataclasses.MISSING:  # pragma: no cover - none today
                raise TypeError("_lazy_record does not handle default_factory (%s)" % f.name)
            else:
                params.append(f.name)
        body = ["    set(self, '_v', (%s,))" % ", ".join(lazy), "    set(self, '_load', None)"]
        body += ["    set(self, %r, %s)" % (n, n) for n in kept]
        exec("def __init__(self, %s):\n%s\n" % (", ".join(params), "\n".join(body)), scope)
        init = scope["__init__"]
        init.__qualname__ = "%s.__init__" % cls.__qualname__
        new.__init__ = init

        def __reduce__(self: Any) -> Tuple[Any, Tuple[Any, ...]]:
            # Pickled and copied by value: a copy never holds an undecoded source.
            return new, tuple(getattr(self, n) for n in names)

        new.__reduce__ = __reduce__
        return _refuse_writes(new)

    return build


def _lazy_field(index: int, name: str) -> property:
    def get(self: Any) -> Any:
        values = self._v
        if values.__class__ is not tuple:  # still the source
            # The decoder is read after the source and cleared after the values are
            # stored: a thread that finds it gone knows another one has stored them.
            load = self._load
            if load is None:  # another thread decoded it meanwhile
                values = self._v
            else:
                values = load(values)
                _set(self, "_v", values)
                _set(self, "_load", None)  # a decoded record does not keep its parser alive
        return values[index]

    get.__name__ = name
    return property(get, doc="the record's %r field" % name)


_set = object.__setattr__


class _Named:
    """What every procnet enum does the same on every CPython 3.8-3.13 patch release.

    * ``str()`` and ``format()`` give the member's name (``LISTEN``), not the number
      (3.11+ int enums) nor ``TcpState.LISTEN`` (3.8-3.10). A numeric format spec
      (``f"{state:d}"``, ``:x``) still formats the number; any other spec pads the name.
    * Pickling and copying go by value, as ``int`` does: 3.11.0-3.11.4 pickle members by
      name, which fails for a value the class does not know (``UNKNOWN_99``).
    ``repr()`` stays the enum's own (``<TcpState.LISTEN: 10>``).
    """

    __slots__ = ()

    def __str__(self) -> str:
        name = getattr(self, "_name_", None)
        if isinstance(name, str) and "|" not in name:
            return name
        return _flag_text(self)

    def __format__(self, spec: str) -> str:
        if spec and spec[-1] in _NUMERIC_FORMATS:
            return format(int(self), spec)  # type: ignore[call-overload]
        return format(str(self), spec)

    def __reduce_ex__(self, protocol: Any) -> Tuple[Any, Tuple[int]]:
        return self.__class__, (int(self),)  # type: ignore[call-overload]


#: format-spec types that format a number (anything else formats the name)
_NUMERIC_FORMATS = frozenset("bcdoxXneEfFgG%")


def _flag_text(flag: Any) -> str:
    """``A|B`` for the known bits that are set, then any unknown bits in hex; ``0`` for none."""
    value = int(flag)
    names = []
    for member in type(flag).__members__.values():
        bits = int(member)
        if bits and value & bits == bits:
            names.append(member._name_)
            value &= ~bits
    if value:
        names.append(hex(value))
    return "|".join(names) or "0"


class _UnknownMemberMixin(_Named):
    """Lets an int enum keep a value it does not know (a newer kernel) instead of failing.

    The pseudo-member's name is ``UNKNOWN_<n>`` and its value the raw number.
    """

    __slots__ = ()

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 32:
            member: Any = int.__new__(cls, value)  # type: ignore[type-var]
            member._name_ = "UNKNOWN_%d" % value
            member._value_ = value
            # Cache it so that the same unknown value is the same object (identity, ``is``).
            return cls._value2member_map_.setdefault(value, member)  # type: ignore[attr-defined]
        return None


class TcpState(_UnknownMemberMixin, enum.IntEnum):
    """Socket states, with the kernel's numbers (include/net/tcp_states.h).

    Every table uses them: TCP for real, UDP and raw as ``ESTABLISHED`` (connected) or
    ``CLOSE`` (not), and unix sockets as ss shows them. A number a future kernel adds is
    kept as a pseudo-member named ``UNKNOWN_<n>`` rather than failing the table.
    """

    ESTABLISHED = 1
    SYN_SENT = 2
    SYN_RECV = 3
    FIN_WAIT1 = 4
    FIN_WAIT2 = 5
    TIME_WAIT = 6
    CLOSE = 7
    CLOSE_WAIT = 8
    LAST_ACK = 9
    LISTEN = 10
    CLOSING = 11
    NEW_SYN_RECV = 12
    BOUND_INACTIVE = 13

    @property
    def ss_name(self) -> str:
        """The name ``ss`` prints in its State column (``ESTAB``, ``UNCONN``, ``TIME-WAIT``...)."""
        return _SS_NAMES.get(self.value, "UNKNOWN")

    @property
    def is_known(self) -> bool:
        """False for a number this version of procnet does not know."""
        return not self.name.startswith("UNKNOWN_")


_SS_NAMES = {
    1: "ESTAB",
    2: "SYN-SENT",
    3: "SYN-RECV",
    4: "FIN-WAIT-1",
    5: "FIN-WAIT-2",
    6: "TIME-WAIT",
    7: "UNCONN",
    8: "CLOSE-WAIT",
    9: "LAST-ACK",
    10: "LISTEN",
    11: "CLOSING",
    12: "NEW-SYN-RECV",
    13: "BOUND-INACTIVE",
}


class Timer(_UnknownMemberMixin, enum.IntEnum):
    """The ``tr`` column: which timer of the socket is pending (net/ipv4/tcp_ipv4.c).

    The value is the kernel's raw code; an unknown code stays visible as ``UNKNOWN_<n>``.
    """

    NONE = 0
    #: retransmit, RACK reordering or tail-loss probe; request sockets' SYN-ACK timer
    RETRANSMIT = 1
    #: ``sk_timer``: keepalive, or the FIN_WAIT2 timeout of an orphaned full socket
    KEEPALIVE = 2
    #: the expiry of a TIME_WAIT (or FIN_WAIT2) minisocket
    TIME_WAIT = 3
    #: zero-window probe
    ZERO_WINDOW_PROBE = 4

    @property
    def ss_name(self) -> str:
        """The name ``ss -o`` prints in ``timer:(...)``."""
        return _SS_TIMER_NAMES.get(self.value, "unknown")


_SS_TIMER_NAMES = {0: "off", 1: "on", 2: "keepalive", 3: "timewait", 4: "persist"}


class UnixFlag(_Named, enum.IntFlag):
    """The Flags column of /proc/net/unix. Only ``ACCEPTCON`` (listening) is ever set."""

    ACCEPTCON = 1 << 16


class SocketStatus(_UnknownMemberMixin, enum.IntEnum):
    """The St column of /proc/net/unix: ``socket_state`` (include/uapi/linux/net.h)."""

    FREE = 0
    UNCONNECTED = 1
    CONNECTING = 2
    CONNECTED = 3
    DISCONNECTING = 4


def ip_text(ip: IPAddress) -> str:
    """The address as text, the same on every Python version.

    An IPv4-mapped IPv6 address is written ``::ffff:127.0.0.1``, as ss writes it and as
    ``str()`` does from Python 3.13 on (before 3.13, ``str()`` gives ``::ffff:7f00:1``).

    >>> ip_text(ipaddress.ip_address("::ffff:127.0.0.1"))
    '::ffff:127.0.0.1'
    """
    if ip.version == 6:
        mapped = ip.ipv4_mapped
        if mapped is not None:
            return "::ffff:%s" % mapped
    return str(ip)


@_record
class Endpoint:
    """One end of an inet socket: an address and a port.

    ``ip`` is an :class:`ipaddress.IPv4Address` or :class:`~ipaddress.IPv6Address`;
    IPv4-mapped addresses (``::ffff:127.0.0.1``) stay IPv6, as the kernel keeps them;
    :attr:`unmapped_ip` gives the IPv4 address behind one. ``port`` is the port number in
    host order; for raw sockets the kernel prints the IP protocol number here.
    """

    ip: IPAddress
    port: int

    @property
    def unmapped_ip(self) -> IPAddress:
        """The IPv4 address behind an IPv4-mapped IPv6 address, else :attr:`ip` itself.

        >>> Endpoint(ipaddress.ip_address("::ffff:127.0.0.1"), 80).unmapped_ip
        IPv4Address('127.0.0.1')
        """
        ip = self.ip
        if ip.version == 6:
            mapped = ip.ipv4_mapped
            if mapped is not None:
                return mapped
        return ip

    @property
    def is_unspecified(self) -> bool:
        """True for the wildcard address (``0.0.0.0`` or ``::``)."""
        return self.ip.is_unspecified

    def __str__(self) -> str:
        if self.ip.version == 6:
            return "[%s]:%d" % (ip_text(self.ip), self.port)
        return "%s:%d" % (self.ip, self.port)


@_record
class Process:
    """What procnet read about a process that holds a socket.

    ``comm`` is the kernel's task name (up to 15 bytes for user tasks; may contain any
    character but NUL). ``cmdline`` (the argv list) and ``uid`` (the real uid, from
    ``status``) are ``None`` when they were not asked for or could not be read.
    """

    pid: int
    comm: str
    cmdline: Optional[Tuple[str, ...]] = None
    uid: Optional[int] = None
    user: Optional[str] = None


@_record
class Owner:
    """A process that holds a socket through one of its descriptors.

    ``fd`` is the descriptor number, ``mode`` lsof's access letter: ``"r"`` (read only),
    ``"w"`` (write only) or ``"u"`` (read and write). ``tid`` is set when the descriptor
    belongs to a thread that does not share its process's descriptor table.
    """

    pid: int
    fd: int
    mode: str
    comm: str
    tid: Optional[int] = None
    process: Optional[Process] = None

    @property
    def cmdline(self) -> Optional[Tuple[str, ...]]:
        """The process's argv, when it was read (``None`` otherwise)."""
        return self.process.cmdline if self.process is not None else None

    @property
    def uid(self) -> Optional[int]:
        """The process's real uid, when it was read (``None`` otherwise)."""
        return self.process.uid if self.process is not None else None


_IPPROTO = {"tcp": 6, "udp": 17, "udplite": 136}


@_lazy_record("proto", "family", "state", "inode", "netns", "owners", "owners_complete")
@dataclasses.dataclass(frozen=True)
class InetSocket:
    """One inet socket: a row of /proc/net/{tcp,tcp6,udp,udp6,udplite,udplite6,raw,raw6},
    or the kernel's sock_diag answer for it.

    Times are in clock ticks (``os.sysconf("SC_CLK_TCK")``, 100 on every mainstream
    architecture); queues are bytes. A field its source does not carry is ``None``, never a
    stand-in: TIME_WAIT and SYN_RECV request rows have no ``rto``...``cwnd``; TIME_WAIT
    rows have no ``uid`` (the kernel prints a literal 0 that is not the owner's); only UDP
    and raw rows have ``drops``; sock_diag has no ``refcount``, ``pointer`` nor ``slot``
    (it has the socket ``cookie``, which the text has not), and without ``struct
    tcp_info`` it has a TCP socket's ``retransmits`` only while the retransmit timer runs
    and its ``probes`` only while the keepalive or zero-window probe timer runs. ``inode``
    0 means the socket has no file (TIME_WAIT, request sockets, a connection still in a
    listener's accept queue): no process can own it.
    """

    #: ``"tcp"``, ``"udp"``, ``"udplite"`` or ``"raw"``
    proto: str
    #: ``socket.AF_INET`` or ``socket.AF_INET6``
    family: socket.AddressFamily
    local: Endpoint
    remote: Endpoint
    state: TcpState
    #: TCP: bytes sent and not yet acknowledged (write_seq - snd_una; 0 for a listener,
    #: whose backlog sock_diag sends here instead: see ``listen_backlog``); UDP/raw:
    #: memory charged to the send buffer (skb truesize, not payload)
    tx_queue: int
    #: TCP: bytes received and not yet read; LISTEN: connections waiting in the accept
    #: queue; UDP/raw: memory charged to the receive buffer
    rx_queue: int
    timer: Timer
    #: clock ticks until the pending timer fires (0 when none, or already due)
    timer_expires: int
    #: TCP: retransmissions of the unacknowledged head (``icsk_retransmits``); request
    #: sockets: SYN-ACK timeouts (text) or retransmits (sock_diag); 0 for TIME_WAIT, UDP
    #: and raw. None where sock_diag does not carry it (see the class docstring)
    retransmits: Optional[int]
    #: owner's uid as seen from the reader's user namespace; None on TIME_WAIT rows
    uid: Optional[int]
    #: the "timeout" column: zero-window / keepalive probes sent (``icsk_probes_out``);
    #: 0 for minisockets, UDP and raw. None where sock_diag does not carry it
    probes: Optional[int]
    inode: int
    #: the socket's reference count as the text table prints it (0 on request rows);
    #: None from sock_diag, which does not report it
    refcount: Optional[int]
    #: the kernel's socket pointer as the text table prints it (hashed or zeros): opaque,
    #: never a key; None from sock_diag (see ``cookie``)
    pointer: Optional[str]
    #: the row's ``sl`` number: a row counter for TCP, a hash bucket for UDP and raw;
    #: None from sock_diag, which has no rows
    slot: Optional[int]
    #: TCP full sockets: retransmission timeout, clock ticks
    rto: Optional[int] = None
    #: TCP full sockets: delayed-ACK timeout, clock ticks
    ato: Optional[int] = None
    #: TCP full sockets: quick-ack budget (segments)
    quick_ack: Optional[int] = None
    #: TCP full sockets: interactive (pingpong) mode
    pingpong: Optional[bool] = None
    #: TCP full sockets: congestion window, packets
    cwnd: Optional[int] = None
    #: TCP full sockets other than LISTEN: slow-start threshold in packets; -1 while
    #: still in initial slow start
    ssthresh: Optional[int] = None
    #: TCP LISTEN rows: the TCP Fast Open queue limit (0 unless TCP_FASTOPEN is set)
    fastopen_max_qlen: Optional[int] = None
    #: UDP and raw: datagrams dropped on receive
    drops: Optional[int] = None
    #: inode of the network namespace the table was read from, when known
    netns: Optional[int] = None
    #: the processes holding the socket (empty when none, or when owners were not asked)
    owners: Tuple[Owner, ...] = ()
    #: True: every process was inspected, ``owners`` is the whole list (empty = nobody);
    #: False: some processes could not be inspected, more owners may exist unseen;
    #: None: owners were not looked for
    owners_complete: Optional[bool] = None
    # Fields only the netlink source fills (None from the text tables).
    #: LISTEN: the backlog passed to listen() (ss's Send-Q for listeners)
    listen_backlog: Optional[int] = None
    #: sk_shutdown bits: 1 = no more receives, 2 = no more sends
    shutdown: Optional[int] = None
    #: TCP details from ``struct tcp_info`` (netlink only)
    tcp_info: Optional[TcpInfo] = None
    #: the socket's memory counters (``INET_DIAG_SKMEMINFO``, netlink only), in bytes, in
    #: the kernel's SK_MEMINFO_* order: rmem_alloc, rcvbuf, wmem_alloc, sndbuf,
    #: fwd_alloc, wmem_queued, optmem, backlog, drops (the last a count of packets).
    #: Asked for with TCP info, and always for UDP and raw; None for TIME_WAIT and
    #: request sockets. A kernel may send fewer or more than nine.
    skmem: Optional[Tuple[int, ...]] = None
    #: IPV6_V6ONLY of an AF_INET6 socket in LISTEN or CLOSE (netlink only): True when it
    #: does not also serve IPv4 (ss then prints its wildcard as ``[::]``, not ``*``)
    v6only: Optional[bool] = None
    #: the socket cookie (``idiag_cookie``, netlink only): the kernel's 64-bit id of the
    #: socket, stable for its life and never reused; what ``ss -e`` prints as ``sk:`` (in hex)
    cookie: Optional[int] = None

    @property
    def protocol(self) -> int:
        """The IP protocol number: 6, 17, 136, or for raw sockets the one they were opened with."""
        if self.proto == "raw":
            return self.local.port
        return _IPPROTO[self.proto]

    @property
    def table(self) -> str:
        """The /proc/net table this row belongs to (``"tcp6"``, ``"udp"``...)."""
        return self.proto + ("6" if self.family == socket.AF_INET6 else "")

    @property
    def is_listening(self) -> bool:
        """True for a TCP listener (and for nothing else: UDP has no LISTEN state)."""
        return self.state == TcpState.LISTEN

    @property
    def is_minisock(self) -> bool:
        """True for a TIME_WAIT or SYN_RECV request row (no socket file, fewer columns)."""
        # The netlink source leaves rto unset for listeners too, but sends the shutdown
        # attribute for every full socket and never for minisockets.
        return self.proto == "tcp" and self.rto is None and self.shutdown is None

    @property
    def type(self) -> socket.SocketKind:
        """``SOCK_STREAM`` for TCP, ``SOCK_DGRAM`` for UDP, ``SOCK_RAW`` for raw."""
        if self.proto == "tcp":
            return socket.SOCK_STREAM
        if self.proto == "raw":
            return socket.SOCK_RAW
        return socket.SOCK_DGRAM


@_record
class TcpInfo:
    """The parts of the kernel's ``struct tcp_info`` that ss shows (netlink only).

    Times are microseconds unless named otherwise; rates bytes per second. Each field is
    the struct's own value. For a LISTEN socket the kernel fills only ``pacing_rate``,
    ``max_pacing_rate``, ``reordering``, ``snd_cwnd``, ``unacked`` (the accept queue) and
    ``sacked`` (the backlog) (``tcp_get_info`` returns there); the others hold the zeros
    of the struct it cleared, as ss reads them.
    """

    rtt_us: int
    rttvar_us: int
    rto_us: int
    ato_us: int
    snd_mss: int
    rcv_mss: int
    snd_cwnd: int
    snd_ssthresh: int
    retransmits: int
    total_retrans: int
    unacked: int
    lost: int
    bytes_acked: Optional[int] = None
    bytes_received: Optional[int] = None
    pacing_rate: Optional[int] = None
    delivery_rate: Optional[int] = None
    min_rtt_us: Optional[int] = None
    # Appended later; each is None when the kernel's struct tcp_info is too short to hold
    # it (older kernels send fewer bytes) or the attribute was not sent.
    #: the congestion control algorithm (``INET_DIAG_CONG``), e.g. ``"cubic"``, ``"bbr"``
    congestion: Optional[str] = None
    #: window scale shifts, sent and received (meaningful when ``options`` has
    #: TCPI_OPT_WSCALE, 4)
    snd_wscale: Optional[int] = None
    rcv_wscale: Optional[int] = None
    #: path MTU, bytes
    pmtu: Optional[int] = None
    #: receive-window slow-start threshold (window clamp while growing), bytes
    rcv_ssthresh: Optional[int] = None
    #: the MSS this side advertised, bytes
    advmss: Optional[int] = None
    #: receive buffer space the autotuning aims at, bytes
    rcv_space: Optional[int] = None
    #: the peer's last advertised receive window, bytes (Linux 5.4+)
    snd_wnd: Optional[int] = None
    #: the receive window this side last advertised, bytes (Linux 6.2+)
    rcv_wnd: Optional[int] = None
    #: segments sent and received, retransmissions included (Linux 4.2+)
    segs_out: Optional[int] = None
    segs_in: Optional[int] = None
    #: segments sent / received carrying data (Linux 4.6+)
    data_segs_out: Optional[int] = None
    data_segs_in: Optional[int] = None
    #: bytes sent, retransmissions included, and bytes retransmitted (Linux 4.19+)
    bytes_sent: Optional[int] = None
    bytes_retrans: Optional[int] = None
    #: milliseconds since data was last sent, data last received, an ACK last received
    last_data_sent_ms: Optional[int] = None
    last_data_recv_ms: Optional[int] = None
    last_ack_recv_ms: Optional[int] = None
    #: packets delivered (acknowledged), and of them those ECN CE-marked (Linux 4.18+)
    delivered: Optional[int] = None
    delivered_ce: Optional[int] = None
    #: microseconds spent busy sending; of them limited by the receive window / by the
    #: send buffer (Linux 4.18+)
    busy_time_us: Optional[int] = None
    rwnd_limited_us: Optional[int] = None
    sndbuf_limited_us: Optional[int] = None
    #: bytes written by the application and not yet sent (Linux 4.6+)
    notsent_bytes: Optional[int] = None
    #: the reordering degree the sender assumes, packets (3 unless reordering was seen)
    reordering: Optional[int] = None
    #: the receiver's RTT estimate, µs (0: none yet)
    rcv_rtt_us: Optional[int] = None
    #: D-SACK blocks received (Linux 5.2+), reorderings seen (Linux 4.19+)
    dsack_dups: Optional[int] = None
    reord_seen: Optional[int] = None
    #: the last delivery-rate sample was limited by the application (Linux 4.9+)
    app_limited: Optional[bool] = None
    #: ``tcpi_options`` bits: 1 timestamps, 2 SACK, 4 window scale, 8 ECN, 16 ECN seen,
    #: 32 SYN data acknowledged (Fast Open), 64 µs timestamps, 128 Fast Open child
    options: Optional[int] = None
    #: consecutive RTO backoffs (``icsk_backoff``)
    backoff: Optional[int] = None
    #: segments SACKed; for a LISTEN socket the kernel puts the backlog here
    sacked: Optional[int] = None
    #: segments retransmitted and not yet acknowledged (``tcpi_retrans``; see also
    #: ``retransmits``, the timer's count, and ``total_retrans``)
    retrans: Optional[int] = None
    #: SO_MAX_PACING_RATE, bytes per second (2**64 - 1: no limit) (Linux 4.0+)
    max_pacing_rate: Optional[int] = None
    #: out-of-order packets received (Linux 5.4+)
    rcv_ooopack: Optional[int] = None
    #: PLB or timeout-triggered rehashes of the flow label (Linux 6.2+)
    rehash: Optional[int] = None


@_record
class UnixSocket:
    """One unix socket: a row of /proc/net/unix, or the kernel's sock_diag answer for it.

    A field its source does not carry is ``None``: sock_diag has no ``refcount`` nor
    ``pointer`` (it has the socket ``cookie``, which the text has not); the text has none
    of the fields after ``owners_complete``.

    ``path`` is the bound name: a file system path, an abstract name starting with ``@``
    (the kernel prints every NUL of an abstract name as ``@``), or ``None`` when unbound.
    Bytes that are not UTF-8 are kept as surrogate escapes: ``os.fsencode(path)`` gives
    back what the kernel printed. ``state`` is the state ``ss`` shows (LISTEN, ESTABLISHED,
    CLOSE, and SYN_SENT / CLOSING for a socket with no file yet or any more); the raw
    ``status`` (SS_*) and ``flags`` are kept too.
    """

    #: ``socket.SOCK_STREAM``, ``SOCK_DGRAM`` or ``SOCK_SEQPACKET`` (an int if unknown)
    type: int
    state: TcpState
    status: SocketStatus
    flags: UnixFlag
    #: reference count of the kernel's sock (the RefCount column); None from sock_diag,
    #: which does not report it
    refcount: Optional[int]
    inode: int
    path: Optional[str]
    #: the kernel's socket pointer as printed (the "Num" column): opaque, never a key;
    #: None from sock_diag (see ``cookie``)
    pointer: Optional[str]
    #: the Protocol column: the kernel prints a literal 0 (sock_diag: the same 0)
    protocol: int = 0
    netns: Optional[int] = None
    owners: Tuple[Owner, ...] = ()
    #: see :attr:`InetSocket.owners_complete`
    owners_complete: Optional[bool] = None
    # Fields only the netlink source fills (None from the text table).
    #: inode of the connected peer (0: peer has no file yet)
    peer_inode: Optional[int] = None
    #: LISTEN: pending connections; otherwise unread bytes (stream) or next datagram size
    rqueue: Optional[int] = None
    #: LISTEN: the backlog passed to listen(); otherwise bytes in flight
    wqueue: Optional[int] = None
    #: the socket file's inode and device (pathname sockets only)
    vfs_inode: Optional[int] = None
    vfs_dev: Optional[int] = None
    shutdown: Optional[int] = None
    #: owner uid (netlink, kernels 5.3+)
    uid: Optional[int] = None
    #: inodes of the clients waiting in a listener's accept queue
    pending_inodes: Optional[Tuple[int, ...]] = None
    #: Cross-check of a text row against the kernel's netlink answer (live machine, own
    #: namespace, ``backend="proc"``): True when only the text shows this (inode, path):
    #: a row forged through a newline in another socket's path, or a socket that came or
    #: went between the two reads. None when not checked (netlink records are exact).
    text_only: Optional[bool] = None
    #: memory counters (``UNIX_DIAG_MEMINFO``, netlink only), as
    #: :attr:`InetSocket.skmem`: rmem_alloc, rcvbuf, wmem_alloc, sndbuf, fwd_alloc,
    #: wmem_queued, optmem, backlog, drops
    skmem: Optional[Tuple[int, ...]] = None
    #: the socket cookie (``udiag_cookie``, netlink only), as :attr:`InetSocket.cookie`
    cookie: Optional[int] = None

    proto = "unix"
    family = socket.AF_UNIX

    @property
    def is_listening(self) -> bool:
        """True when the socket listens (the kernel's accept flag)."""
        return self.state == TcpState.LISTEN

    @property
    def is_abstract(self) -> bool:
        """True for a name in the abstract namespace (printed with a leading ``@``)."""
        return self.path is not None and self.path.startswith("@")

    @property
    def table(self) -> str:
        """The /proc/net table this row belongs to: ``"unix"``."""
        return "unix"


Socket = Union[InetSocket, UnixSocket]


_CONSTRUCTORS: Dict[Any, Any] = {}  # one per record class, shared by the parsers


def fast_constructor(cls: Callable[..., _T]) -> Callable[..., _T]:
    """A function that builds ``cls`` from all its fields, positionally, without ``__init__``.

    A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``: at
    100,000 records that is a third of the parse. This builds the very object
    ``cls(...)`` would make (same fields, same values, equal) faster. Only the parsers
    use it, on values they have already checked.

    Where records have slots (3.10+), a plain twin class with the same slots takes plain
    attribute stores (which the interpreter specializes), and the object then becomes a
    ``cls`` by ``__class__`` assignment, which Python allows between classes of the same
    layout: about 0.4 us for 30 fields against 1.5 us through the slot descriptors. The
    twin is checked on a probe when the constructor is made; where it is refused or builds
    anything else, the descriptors are used. Without slots (3.8, 3.9), the instance dict is
    set in one assignment.
    """
    known: Optional[Callable[..., _T]] = _CONSTRUCTORS.get(cls)
    if known is not None:
        return known
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    lazy = getattr(cls, "_LAZY", None)
    if lazy is not None:
        # A compact record (see _lazy_record): the lazy fields go in one tuple.
        kept = set(getattr(cls, "_KEPT"))
        stores = ["_v = (%s,)" % ", ".join(lazy), "_load = None"]
        stores += ["%s = %s" % (n, n) for n in names if n in kept]
        make = _slot_builder(cls, "make", names, stores)
    else:
        make = _plain_builder(cls, names)
    make.__doc__ = "Build a %s from all its fields, positionally." % getattr(cls, "__name__", "record")
    _CONSTRUCTORS[cls] = make
    return make  # type: ignore[no-any-return]


def lazy_constructor(cls: Callable[..., _T]) -> Callable[..., _T]:
    """For a compact record class (see ``_lazy_record``): a function
    ``make(load, source, proto, family, state, inode)`` that builds a record whose other
    fields ``load(source)`` will decode (a tuple in the class's ``_LAZY`` order) when one
    of them is first read. ``source`` is a str or bytes, never a tuple: the slot that
    holds it holds the values once decoded, and their type tells which it is (so
    ``make(None, values, ...)`` builds a record already decoded). ``netns``, ``owners``
    and ``owners_complete`` start empty."""
    known: Optional[Callable[..., _T]] = _LAZY_CONSTRUCTORS.get(cls)
    if known is not None:
        return known
    if getattr(cls, "_KEPT", None) != ("proto", "family", "state", "inode", "netns", "owners", "owners_complete"):
        raise TypeError("%r is not a compact socket record" % (cls,))
    stores = ["_v = source", "_load = load", "proto = proto", "family = family", "state = state",
              "inode = inode", "netns = None", "owners = ()", "owners_complete = None"]
    make = _slot_builder(cls, "make_lazy", ["load", "source", "proto", "family", "state", "inode"], stores)
    _LAZY_CONSTRUCTORS[cls] = make
    return make  # type: ignore[no-any-return]


_LAZY_CONSTRUCTORS: Dict[Any, Any] = {}


def _slot_builder(cls: Any, name: str, params: Any, stores: Any) -> Any:
    """A function that sets the slots of a new ``cls`` (``stores``: "slot = expression").

    A plain twin class with the same slots takes plain attribute stores (which the
    interpreter specializes), and the object then becomes a ``cls`` by ``__class__``
    assignment, which Python allows between classes of the same layout. The twin is
    checked on a probe (distinct arguments; every slot must hold what the slot
    descriptors store); where it is refused or builds anything else, the descriptors are
    used."""
    namespace: Dict[str, Any] = {"new": object.__new__, "cls": cls}
    slots = tuple(vars(cls)["__slots__"])
    pairs = [st.split(" = ", 1) for st in stores]
    for slot, _ in pairs:
        namespace["set_" + slot] = vars(cls)[slot].__set__
    source = "def %s(%s):\n    obj = new(cls)\n%s    return obj\n" % (
        name, ", ".join(params), "".join("    set_%s(obj, %s)\n" % (slot, value) for slot, value in pairs))
    exec(source, namespace)
    make = namespace[name]
    twin = type("_Building" + cls.__name__, (), {"__slots__": slots})
    namespace["twin"] = twin
    source = "def %s(%s):\n    obj = new(twin)\n%s    obj.__class__ = cls\n    return obj\n" % (
        name, ", ".join(params), "".join("    obj.%s = %s\n" % (slot, value) for slot, value in pairs))
    try:
        exec(source, namespace)
        build = namespace[name]
        probe = tuple(range(len(params)))
        built, made = build(*probe), make(*probe)
        if type(built) is cls and all(
            vars(cls)[slot].__get__(built) == vars(cls)[slot].__get__(made) for slot, _ in pairs
        ):
            make = build
    except TypeError:  # __class__ assignment refused: not the same layout
        pass
    return make


def _plain_builder(cls: Any, names: Any) -> Any:
    """The constructor of a record whose fields are its slots (3.10+) or, without slots
    (3.8, 3.9), its instance dict, set in one assignment."""
    if vars(cls).get("__slots__") is not None:
        return _slot_builder(cls, "make", names, ["%s = %s" % (n, n) for n in names])
    namespace: Dict[str, Any] = {"new": object.__new__, "cls": cls, "setattr": object.__setattr__}
    body = "    setattr(obj, '__dict__', {%s})\n" % ", ".join("%r: %s" % (n, n) for n in names)
    exec("def make(%s):\n    obj = new(cls)\n%s    return obj\n" % (", ".join(names), body), namespace)
    return namespace["make"]


__all__ = [
    "Endpoint",
    "InetSocket",
    "IPAddress",
    "Owner",
    "Process",
    "Socket",
    "SocketStatus",
    "TcpInfo",
    "TcpState",
    "Timer",
    "UnixFlag",
    "UnixSocket",
    "fast_constructor",
    "lazy_constructor",
    "ip_text",
]
