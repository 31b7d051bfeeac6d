"""The records: states, timers, endpoints, sockets, owners.

Records are frozen dataclasses built by the parsers only. Fields use the kernel's words
(``rx_queue``, ``inode``, ``uid``); every field says its unit. Values that can be derived
(``is_listening``, ``unmapped_ip``) are properties, not stored state.

How this works
--------------
A record class lists its fields as annotated class attributes, defaults last, as a
dataclass does. Its metaclass, :class:`_RecordType`, reads them once, when the class is
made: each field becomes a slot (no ``__dict__``: a table of 100,000 sockets holds a third
of the memory), the defaults go to ``_DEFAULTS``, and the base class :class:`_Record`
gives every record the dataclass behaviour from that list: ``__init__`` (positional or by
keyword), equality and hashing over the fields in order, ``repr``, pickling and copying
by value, and no writes (``dataclasses.FrozenInstanceError``). The ``dataclasses``
module's functions (``fields``, ``asdict``, ``astuple``, ``replace``, ``is_dataclass``)
work on records: ``__dataclass_fields__`` is built the first time one asks for it, so that
``import procnet`` does not import ``dataclasses`` (with inspect, ast and dis: 15-20 ms,
half of a small query's start-up).

One record class decodes lazily: :class:`InetSocket` names in ``_stored`` the fields
a query reads for every row (proto, family, state, inode, and what the query attaches:
netns, owners); those are slots. The others, in field order (``_LAZY``), live in one
tuple in the slot ``_v``. A parser may leave that tuple undecoded: ``_v`` then holds the
row's source (its text, or its netlink message: a str or bytes, never a tuple) and
``_load`` a function that decodes it into the tuple, in ``_LAZY`` order. The first read of
any lazy field decodes them all (``_lazy_field``). A parser only does so for a source it
has already checked whole, so the decoding cannot fail later.

Writes: a record is never written after it is handed out. The functions of the section
"Construction" at the end of this module are the only code that writes a record's slots:
the builders the parsers use (values already checked), the lazy decoding above (which
writes the same values whichever thread gets there first), and :func:`attach`, with
which a query sets netns, owners and the cross-check of a record it has built and not yet
returned.
"""

from __future__ import annotations

import enum
import ipaddress
import socket
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Tuple, TypeVar, Union

from . import _vocab

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_: Any) -> Any:
        return lambda f: f


_T = TypeVar("_T")
_MISSING = object()


@dataclass_transform(frozen_default=True)
class _RecordType(type):
    """The metaclass of records: turns the annotated class attributes into fields.

    ``__annotations__`` (strings, under ``from __future__ import annotations``) give the
    fields in order; a value assigned to one is its default and leaves the class
    namespace (a slot and a class attribute cannot share a name). A class that sets
    ``_stored`` decodes lazily (see the module docstring): its stored fields are slots,
    the others read through ``_v``.
    """

    def __new__(mcs, name: str, bases: Tuple[type, ...], namespace: Dict[str, Any]) -> "_RecordType":
        if namespace.get("_twin"):  # see _twin(): slots given, no fields
            return super().__new__(mcs, name, bases, namespace)
        fields = tuple(namespace.get("__annotations__", {}))
        defaults = {f: namespace.pop(f) for f in fields if f in namespace}
        required_after = [f for f in fields[fields.index(next(iter(defaults))) if defaults else len(fields):]
                          if f not in defaults]
        if required_after:
            raise TypeError("%s: field %r without a default follows one with a default" % (name, required_after[0]))
        stored = namespace.get("_stored")
        if stored is None:
            namespace["__slots__"] = fields
            namespace["_LAZY"] = None
        else:
            lazy = tuple(f for f in fields if f not in stored)
            namespace["__slots__"] = ("_v", "_load") + tuple(f for f in fields if f in stored)
            namespace["_LAZY"] = lazy
            for index, field in enumerate(lazy):
                namespace[field] = _lazy_field(index, field)
        namespace["_FIELDS"] = fields
        namespace["_DEFAULTS"] = defaults
        namespace["__match_args__"] = fields
        # Frozen. (On each record class, not on _Record: the builders' twins, which derive
        # from _Record, must keep the plain attribute store.)
        if bases:  # (not _Record itself)
            namespace["__setattr__"] = _refuse_write
            namespace["__delattr__"] = _refuse_delete
        cls = super().__new__(mcs, name, bases, namespace)
        # The slots' own setters, in field order (lazy fields excepted): what _store uses.
        cls._SETTERS = tuple(  # type: ignore[attr-defined]
            vars(cls)[f].__set__ for f in fields if stored is None or f in stored)
        return cls


def _refuse_write(self: Any, name: str, value: Any) -> None:
    from dataclasses import FrozenInstanceError

    raise FrozenInstanceError("cannot assign to field %r" % name)


def _refuse_delete(self: Any, name: str) -> None:
    from dataclasses import FrozenInstanceError

    raise FrozenInstanceError("cannot delete field %r" % name)


def _lazy_field(index: int, name: str) -> property:
    """The property that reads a lazy field: element ``index`` of ``_v``, decoded first
    if ``_v`` still holds the source."""

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
                _V_SET(self, values)
                _LOAD_SET(self, None)  # a decoded record does not keep its parser alive
        return values[index]

    get.__name__ = name
    return property(get, doc="the record's %r field" % name)


class _Fields:
    """``__dataclass_fields__``, made on first use (the ``dataclasses`` module is imported
    then, not when procnet is)."""

    def __init__(self) -> None:
        self._made: Dict[type, Dict[str, Any]] = {}

    def __get__(self, instance: Any, owner: type) -> Dict[str, Any]:
        made = self._made.get(owner)
        if made is None:
            import dataclasses

            made = {}
            for name in owner._FIELDS:  # type: ignore[attr-defined]
                default = owner._DEFAULTS.get(name, dataclasses.MISSING)  # type: ignore[attr-defined]
                f = dataclasses.field(default=default)
                f.name = name
                f.type = owner.__annotations__[name]
                f._field_type = dataclasses._FIELD  # type: ignore[attr-defined]
                made[name] = f
            self._made[owner] = made
        return made


class _Record(metaclass=_RecordType):
    """What every record does, from its class's field list (see the module docstring)."""

    __slots__ = ()
    # (Not annotated: annotations here would be fields. The metaclass sets these three
    # on every record class.)
    _FIELDS = ()  # type: Tuple[str, ...]
    _DEFAULTS = {}  # type: Dict[str, Any]
    _LAZY = None  # type: Optional[Tuple[str, ...]]
    __dataclass_fields__ = _Fields()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        names = cls._FIELDS
        if len(args) > len(names):
            raise TypeError("%s() takes %d arguments but %d were given" % (cls.__name__, len(names), len(args)))
        values = list(args)
        for name in names[len(args):]:
            value = kwargs.pop(name, _MISSING)
            if value is _MISSING:
                value = cls._DEFAULTS.get(name, _MISSING)
                if value is _MISSING:
                    raise TypeError("%s() missing required argument: %r" % (cls.__name__, name))
            values.append(value)
        if kwargs:
            given = sorted(kwargs)
            clash = [n for n in given if n in names]
            if clash:
                raise TypeError("%s() got multiple values for argument %r" % (cls.__name__, clash[0]))
            raise TypeError("%s() got an unexpected keyword argument %r" % (cls.__name__, given[0]))
        _store(self, cls, values)

    def _values(self) -> Tuple[Any, ...]:
        return tuple([getattr(self, n) for n in type(self)._FIELDS])

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._values() == other._values()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        return "%s(%s)" % (type(self).__qualname__, ", ".join(
            "%s=%r" % (n, getattr(self, n)) for n in type(self)._FIELDS))

    def __reduce__(self) -> Tuple[Any, Tuple[Any, ...]]:
        # Pickled and copied by value: a copy never holds an undecoded source.
        return type(self), self._values()



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
        return _vocab.ss_state(self.value)

    @property
    def is_known(self) -> bool:
        """False for a number this version of procnet does not know."""
        return not self.name.startswith("UNKNOWN_")




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
        return _vocab.ss_timer(self.value)




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


class Endpoint(_Record):
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


class Process(_Record):
    """What procnet read about a process that holds a socket.

    ``comm`` is the kernel's task name (up to 15 bytes for user tasks; may contain any
    character but NUL). ``cmdline`` (the argv list) and ``uid`` (the real uid, from
    ``status``) are ``None`` when they were not asked for or could not be read.
    ``cgroup`` is the process's cgroup v2 path (the ``0::/path`` line of
    ``/proc/<pid>/cgroup``, as the reader's cgroup namespace shows it), read with
    ``details``; ``None`` when not asked for, unreadable, or on a machine with cgroup v1
    hierarchies only (no ``0::`` line: the v1 lines, one per controller, are not reported).
    """

    pid: int
    comm: str
    cmdline: Optional[Tuple[str, ...]] = None
    uid: Optional[int] = None
    user: Optional[str] = None
    cgroup: Optional[str] = None


class Owner(_Record):
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

    @property
    def cgroup(self) -> Optional[str]:
        """The process's cgroup v2 path (``"/system.slice/sshd.service"``), when it was
        read (``details=True``; ``None`` otherwise): see :class:`Process`."""
        return self.process.cgroup if self.process is not None else None




class InetSocket(_Record):
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

    # Read for every row, and attached by queries: slots of their own. The other fields
    # are decoded on first read (see the module docstring).
    _stored = ("proto", "family", "state", "inode", "netns", "owners", "owners_complete")

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
    #: Asked for with TCP info or ``skmem=True``, and always for UDP and raw; None for TIME_WAIT and
    #: request sockets. A kernel may send fewer or more than nine.
    skmem: Optional[Tuple[int, ...]] = None
    #: IPV6_V6ONLY of an AF_INET6 socket in LISTEN or CLOSE (netlink only): True when it
    #: does not also serve IPv4 (ss then prints its wildcard as ``[::]``, not ``*``)
    v6only: Optional[bool] = None
    #: the socket cookie (``idiag_cookie``, netlink only): the kernel's 64-bit id of the
    #: socket, stable for its life and never reused; what ``ss -e`` prints as ``sk:`` (in hex)
    cookie: Optional[int] = None
    #: the id of the cgroup (v2) the socket was created in (``INET_DIAG_CGROUP_ID``,
    #: netlink only, full sockets): the inode number of that cgroup's directory under the
    #: cgroup2 mount, which ``ss -e`` prints as ``cgroup:`` and its path there
    cgroup_id: Optional[int] = None

    @property
    def protocol(self) -> int:
        """The IP protocol number: 6, 17, 136, or for raw sockets the one they were opened with."""
        if self.proto == "raw":
            return self.local.port
        return _vocab.IP_PROTOCOL[self.proto]

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


class TcpInfo(_Record):
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


class UnixSocket(_Record):
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


# -- Construction ------------------------------------------------------------------------
# The only code that writes a record's slots (see "Writes" in the module docstring).

_new = object.__new__
_V_SET = vars(InetSocket)["_v"].__set__
_LOAD_SET = vars(InetSocket)["_load"].__set__


def _store(record: Any, cls: Any, values: Any) -> None:
    """Write the fields of a new record from ``values``, in field order (``__init__``)."""
    lazy = cls._LAZY
    if lazy is None:
        for setter, value in zip(cls._SETTERS, values):
            setter(record, value)
        return
    named = dict(zip(cls._FIELDS, values))
    vars(cls)["_v"].__set__(record, tuple([named[f] for f in lazy]))
    vars(cls)["_load"].__set__(record, None)
    for setter, value in zip(cls._SETTERS, [v for f, v in named.items() if f not in lazy]):
        setter(record, value)


#: ``attach(record, name, value)``: set a field a query knows only after parsing (netns,
#: owners, owners_complete, a unix record's text_only) on a record it built and has not
#: yet returned. The plain slot store itself (the records' own __setattr__ refuses), with
#: no Python frame around it: a query calls it once or twice per record.
attach: Callable[[Any, str, Any], None] = object.__setattr__
_store_slot = attach


def _twin(cls: Any) -> Any:
    """A plain class with the same slots as ``cls``: a new object is filled through it with
    plain attribute stores (which the interpreter specializes: 5 to 10 times cheaper than
    calling each slot's setter), then becomes a ``cls`` by ``__class__`` assignment, which
    Python allows between classes of the same layout (the same base, the same slots).
    Only ever done to an object nobody else holds yet."""
    namespace = {"__slots__": cls.__slots__, "_twin": True}
    return _RecordType("_Building" + cls.__name__, (_Record,), namespace)


_EndpointTwin = _twin(Endpoint)
_OwnerTwin = _twin(Owner)
_UnixTwin = _twin(UnixSocket)
_InetTwin = _twin(InetSocket)


def _endpoint(ip: IPAddress, port: int) -> Endpoint:
    e = _new(_EndpointTwin)
    e.ip = ip
    e.port = port
    e.__class__ = Endpoint
    return e  # type: ignore[no-any-return]


def _owner(pid: int, fd: int, mode: str, comm: str, tid: Optional[int], process: Optional[Process]) -> Owner:
    o = _new(_OwnerTwin)
    o.pid = pid
    o.fd = fd
    o.mode = mode
    o.comm = comm
    o.tid = tid
    o.process = process
    o.__class__ = Owner
    return o  # type: ignore[no-any-return]


def _unix_socket(
    type: int, state: TcpState, status: SocketStatus, flags: UnixFlag, refcount: Optional[int], inode: int,
    path: Optional[str], pointer: Optional[str], protocol: int, netns: Optional[int], owners: Tuple[Owner, ...],
    owners_complete: Optional[bool], peer_inode: Optional[int], rqueue: Optional[int], wqueue: Optional[int],
    vfs_inode: Optional[int], vfs_dev: Optional[int], shutdown: Optional[int], uid: Optional[int],
    pending_inodes: Optional[Tuple[int, ...]], text_only: Optional[bool], skmem: Optional[Tuple[int, ...]],
    cookie: Optional[int],
) -> UnixSocket:
    u = _new(_UnixTwin)
    u.type = type
    u.state = state
    u.status = status
    u.flags = flags
    u.refcount = refcount
    u.inode = inode
    u.path = path
    u.pointer = pointer
    u.protocol = protocol
    u.netns = netns
    u.owners = owners
    u.owners_complete = owners_complete
    u.peer_inode = peer_inode
    u.rqueue = rqueue
    u.wqueue = wqueue
    u.vfs_inode = vfs_inode
    u.vfs_dev = vfs_dev
    u.shutdown = shutdown
    u.uid = uid
    u.pending_inodes = pending_inodes
    u.text_only = text_only
    u.skmem = skmem
    u.cookie = cookie
    u.__class__ = UnixSocket
    return u  # type: ignore[no-any-return]


def _lazy_inet_socket(
    load: Optional[Callable[[Any], Tuple[Any, ...]]], source: Any, proto: str, family: socket.AddressFamily,
    state: TcpState, inode: int,
) -> InetSocket:
    s = _new(_InetTwin)
    s._v = source
    s._load = load
    s.proto = proto
    s.family = family
    s.state = state
    s.inode = inode
    s.netns = None
    s.owners = ()
    s.owners_complete = None
    s.__class__ = InetSocket
    return s  # type: ignore[no-any-return]


def _generic_builder(cls: Any) -> Callable[..., Any]:
    """A builder through ``__init__``'s own store (every field, positionally)."""

    def build(*values: Any) -> Any:
        record = _new(cls)
        _store(record, cls, values)
        return record

    return build


def _checked(cls: Any, build: Callable[..., Any], fallback: Callable[..., Any], arity: int) -> Callable[..., Any]:
    """``build`` if it makes the very record ``fallback`` makes (a probe of distinct
    values), else ``fallback``: where an interpreter refused the ``__class__``
    assignment, the slots' setters are used."""
    probe = tuple(range(1000, 1000 + arity))
    try:
        built, made = build(*probe), fallback(*probe)
    except TypeError:
        return fallback
    if type(built) is cls and all(vars(cls)[n].__get__(built) == vars(cls)[n].__get__(made) for n in cls.__slots__):
        return build
    return fallback  # pragma: no cover - no CPython 3.8-3.13 gets here


def _generic_lazy(
    load: Optional[Callable[[Any], Tuple[Any, ...]]], source: Any, proto: str, family: socket.AddressFamily,
    state: TcpState, inode: int,
) -> InetSocket:
    s = _new(InetSocket)
    _V_SET(s, source)
    _LOAD_SET(s, load)
    for name, value in (("proto", proto), ("family", family), ("state", state), ("inode", inode),
                        ("netns", None), ("owners", ()), ("owners_complete", None)):
        _store_slot(s, name, value)
    return s


_BUILDERS: Dict[Any, Callable[..., Any]] = {
    Endpoint: _checked(Endpoint, _endpoint, _generic_builder(Endpoint), 2),
    Owner: _checked(Owner, _owner, _generic_builder(Owner), 6),
    UnixSocket: _checked(UnixSocket, _unix_socket, _generic_builder(UnixSocket), len(UnixSocket._FIELDS)),
}
_LAZY_BUILDER = _checked(InetSocket, _lazy_inet_socket, _generic_lazy, 6)


def fast_constructor(cls: Callable[..., _T]) -> Callable[..., _T]:
    """A function that builds ``cls`` from all its fields, positionally, without
    ``__init__``'s argument handling: the very record ``cls(...)`` makes. Only the parsers
    use it, on values they have already checked."""
    build = _BUILDERS.get(cls)
    if build is None:
        build = _BUILDERS[cls] = _generic_builder(cls)
    return build


def lazy_constructor(cls: Callable[..., _T]) -> Callable[..., _T]:
    """For :class:`InetSocket`: ``make(load, source, proto, family, state, inode)`` builds a
    record whose other fields ``load(source)`` will decode (a tuple in ``_LAZY`` order)
    when one of them is first read. ``source`` is a str or bytes, never a tuple: the slot
    that holds it holds the values once decoded, and their type tells which it is (so
    ``make(None, values, ...)`` builds a record already decoded). ``netns``, ``owners``
    and ``owners_complete`` start empty."""
    if cls is not InetSocket:
        raise TypeError("%r is not a lazily decoded record" % (cls,))
    return _LAZY_BUILDER


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
