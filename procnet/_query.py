"""The public questions: sockets(), listening(), connections(), and their filters.

Work is pushed down: the state filter goes into the parser (rows in other states are not
decoded), the descriptor scan is skipped when no owner is needed or no socket matched,
and a pid filter scans only that pid's descriptors.
"""

from __future__ import annotations

import errno
import functools
import ipaddress
import os
import socket
from typing import (
    TYPE_CHECKING,
    AbstractSet,
    Any,
    Callable,
    Dict,
    FrozenSet,
    Generic,
    Iterable,
    Iterator,
    List,
    Optional,
    Set,
    Tuple,
    TypeVar,
    Union,
    overload,
)

from . import _states
from ._errors import AccessDenied, NoSuchProcess, ProcRootError, UnsafeFile, quoted
from ._owners import OwnerIndex, ScanReport, scan, scan_into
from ._parse._common import ErrorHandler
from ._parse._common import INET_TABLES
from ._parse.process import ns_inode
from ._proc import DEFAULT_ROOT, SOCK_DIAG_DIR, Denied, Gone, ProcFS
from ._records import InetSocket, Socket, TcpState, UnixSocket, attach

if TYPE_CHECKING:
    from typing_extensions import Literal, TypedDict, Unpack

    from ._filter import Filter
else:
    # Runtime needs only the names; typing's Literal and TypedDict exist from 3.8.
    from typing import Literal, TypedDict

#: psutil's proto vocabulary (plus raw and udplite) -> the tables it reads, in ss's order.
PROTOS: Dict[str, Tuple[str, ...]] = {
    "tcp": ("tcp", "tcp6"),
    "tcp4": ("tcp",),
    "tcp6": ("tcp6",),
    "udp": ("udp", "udp6"),
    "udp4": ("udp",),
    "udp6": ("udp6",),
    "udplite": ("udplite", "udplite6"),
    "udplite4": ("udplite",),
    "udplite6": ("udplite6",),
    "raw": ("raw", "raw6"),
    "raw4": ("raw",),
    "raw6": ("raw6",),
    "inet": ("tcp", "tcp6", "udp", "udp6"),
    "inet4": ("tcp", "udp"),
    "inet6": ("tcp6", "udp6"),
    "unix": ("unix",),
    "all": ("tcp", "tcp6", "udp", "udp6", "udplite", "udplite6", "raw", "raw6", "unix"),
}

#: The ``proto=`` names whose sockets are all :class:`InetSocket` (every key of
#: :data:`PROTOS` but ``"unix"`` and ``"all"``; a test keeps the two in step).
InetProto = Literal[
    "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", "udplite", "udplite4", "udplite6",
    "raw", "raw4", "raw6", "inet", "inet4", "inet6",
]
#: Every ``proto=`` name (the keys of :data:`PROTOS`).
Proto = Literal[
    "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", "udplite", "udplite4", "udplite6",
    "raw", "raw4", "raw6", "inet", "inet4", "inet6", "unix", "all",
]
#: What ``proto=`` takes: one name, or several (their tables, each once).
ProtoSpec = Union[Proto, Iterable[Proto]]
#: ``backend=``: sock_diag where it can answer (the default), the text tables, or insist on sock_diag.
Backend = Literal["auto", "proc", "netlink"]

_TABLE_FAMILY: Dict[str, int] = {t: int(f) for t, (_, f) in INET_TABLES.items()}
_TABLE_FAMILY["unix"] = int(socket.AF_UNIX)

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
AddressSpec = Union[str, ipaddress.IPv4Address, ipaddress.IPv6Address, Network]
PidSpec = Union[int, Iterable[int]]
NetnsSpec = Union[None, Literal["self", "all"], int]


class Filters(TypedDict, total=False):
    """The keyword arguments of :func:`sockets`, :func:`listening`, :func:`connections`,
    :func:`iter_sockets` and :class:`Query`: the one place they are declared (each
    function takes ``**filters: Unpack[Filters]``; ``_DEFAULTS`` holds their defaults,
    and a test keeps the two in step). See :data:`_DOC_FILTERS` for what each means."""

    state: Optional[_states.StateSpec]
    port: Optional[int]
    local_port: Optional[int]
    remote_port: Optional[int]
    local: Optional[AddressSpec]
    remote: Optional[AddressSpec]
    pid: Optional[PidSpec]
    uid: Optional[Union[int, Iterable[int]]]
    inode: Optional[Union[int, Iterable[int]]]
    netns: NetnsSpec
    filter: Union[None, str, Filter]
    owners: bool
    details: bool
    threads: bool
    strict: bool
    root: Union[str, "os.PathLike[str]"]
    backend: Backend
    tcp_info: bool
    skmem: bool
    on_error: Optional[ErrorHandler]


#: Every keyword of :class:`Filters` with its default (what leaving it out means).
_DEFAULTS: Dict[str, Any] = {
    "state": None,
    "port": None,
    "local_port": None,
    "remote_port": None,
    "local": None,
    "remote": None,
    "pid": None,
    "uid": None,
    "inode": None,
    "netns": None,
    "filter": None,
    "owners": True,
    "details": False,
    "threads": True,
    "strict": False,
    "root": DEFAULT_ROOT,
    "backend": "auto",
    "tcp_info": False,
    "skmem": False,
    "on_error": None,
}

_BOOLS = ("owners", "details", "threads", "strict", "tcp_info", "skmem")


def _options(given: Dict[str, Any]) -> Dict[str, Any]:
    """The keyword arguments with their defaults; an unknown keyword is a TypeError that
    names the accepted ones (and the closest, for a typo), a flag that is not a bool a
    TypeError, an ``on_error`` that is not callable a TypeError."""
    unknown = sorted(set(given) - set(_DEFAULTS))
    if unknown:
        import difflib  # only on this error path

        hints = ["%r (did you mean %r?)" % (k, m[0]) if m else repr(k)
                 for k in unknown for m in [difflib.get_close_matches(k, list(_DEFAULTS), 1)]]
        raise TypeError(
            "unexpected keyword argument%s %s; the keywords are %s"
            % ("s" if len(unknown) > 1 else "", ", ".join(hints), ", ".join(_DEFAULTS))
        )
    options = dict(_DEFAULTS)
    options.update(given)
    for name in _BOOLS:
        if options[name] is not True and options[name] is not False:
            raise TypeError("%s= takes True or False, not %r" % (name, options[name]))
    handler = options["on_error"]
    if handler is not None and not callable(handler):
        raise TypeError("on_error= takes a function called with each ParseError (or None), not %r" % (handler,))
    return options


def tables_for(proto: ProtoSpec) -> Tuple[str, ...]:
    """The kernel tables a ``proto=`` value reads. Unknown names are a ValueError listing
    the valid ones; a value that is neither a name nor an iterable of names a TypeError."""
    if isinstance(proto, str):
        names: List[Any] = [proto]
    elif isinstance(proto, (bytes, bytearray)):
        raise TypeError("proto= takes a str such as 'tcp', not %r (bytes)" % (proto,))
    else:
        try:
            names = list(proto)
        except TypeError:
            raise TypeError(
                "proto= takes a name such as 'tcp' (one of %s) or an iterable of names, not %r"
                % (", ".join(PROTOS), proto)
            ) from None
        if not names:
            raise ValueError("proto= names no protocol; give one or more of %s" % ", ".join(PROTOS))
    out: List[str] = []
    for name in names:
        if not isinstance(name, str):
            raise TypeError("proto= takes names (str) such as 'tcp', not %r" % (name,))
        if name.lower() not in PROTOS:
            raise ValueError(
                "unknown proto %r; expected one of %s" % (name, ", ".join(PROTOS))
            )
        for table in PROTOS[name.lower()]:
            if table not in out:
                out.append(table)
    order = PROTOS["all"]
    return tuple(sorted(out, key=order.index))


#: The record type a query yields: :class:`InetSocket`, :class:`UnixSocket` or either.
_S = TypeVar("_S", bound=Socket)


class SocketList(List[_S]):
    """A list of socket records, with the report of the owner scan that filled them.

    ``SocketList[InetSocket]`` for the inet protocols, ``SocketList[UnixSocket]`` for
    ``"unix"``, ``SocketList[Socket]`` (either) for a mix. ``report`` is None when owners
    were not looked for; otherwise a :class:`~procnet.ScanReport` telling which
    processes could not be inspected.
    """

    report: Optional[ScanReport]

    def __init__(self, items: Iterable[_S] = (), report: Optional[ScanReport] = None) -> None:
        super().__init__(items)
        self.report = report


def _as_networks(value: AddressSpec, what: str) -> Tuple[Network, ...]:
    """The network(s) an address argument means. An IPv4-mapped IPv6 network
    (``::ffff:127.0.0.1``) also means its IPv4 network, as an IPv4 network also matches
    IPv4-mapped addresses (see :func:`_in_network`)."""
    net: Optional[Network] = None
    if isinstance(value, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        net = value
    elif isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        net = ipaddress.ip_network(value)
    elif isinstance(value, str):
        try:
            net = ipaddress.ip_network(value.strip("[]"), strict=False)
        except ValueError:
            pass
    if net is None:
        raise (TypeError if not isinstance(value, str) else ValueError)(
            "%s= takes an address or network such as '127.0.0.1', '::1' or '10.0.0.0/8', not %r" % (what, value)
        )
    if net.version == 6 and net.prefixlen >= 96:
        mapped = net.network_address.ipv4_mapped
        if mapped is not None:
            return (net, ipaddress.IPv4Network((mapped, net.prefixlen - 96)))
    return (net,)


def _in_network(ip: Any, nets: Tuple[Network, ...]) -> bool:
    for net in nets:
        if ip.version == net.version:
            if ip in net:
                return True
        # An IPv4-mapped IPv6 address is that IPv4 address for the user asking about it.
        elif ip.version == 6 and ip.ipv4_mapped is not None and ip.ipv4_mapped in net:
            return True
    return False


def _check_port(value: Optional[int], what: str) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("%s= takes an int from 0 to 65535, not %r" % (what, value))
    if not 0 <= value <= 65535:
        raise ValueError("%s= takes a port from 0 to 65535, not %d" % (what, value))
    return value


def _int_set(value: Optional[Union[int, Iterable[int]]], what: str) -> Optional[FrozenSet[int]]:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return frozenset({value})
    try:
        out = frozenset(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError("%s= takes an int or an iterable of ints, not %r" % (what, value)) from None
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in out):
        raise TypeError("%s= takes an int or an iterable of ints, not %r" % (what, value))
    return out


class Query(Generic[_S]):
    """One question, validated once: which tables, which rows, whose owners.

    The public functions build one and run it; it is public for callers that ask the same
    question repeatedly (``procnet.Query("tcp", state="listen").run()``). It takes the
    same arguments as :func:`sockets`.
    """

    @overload
    def __init__(self: Query[UnixSocket], proto: Literal["unix"], **filters: Unpack[Filters]) -> None: ...
    @overload
    def __init__(self: Query[InetSocket], proto: Union[InetProto, Iterable[InetProto]], **filters: Unpack[Filters]) -> None: ...
    @overload
    def __init__(self: Query[Socket], proto: ProtoSpec = "all", **filters: Unpack[Filters]) -> None: ...

    def __init__(self, proto: ProtoSpec = "all", **filters: Any) -> None:
        self._setup(proto, None, filters)

    def _setup(self, proto: ProtoSpec, default_states: Optional[AbstractSet[TcpState]], filters: Dict[str, Any]) -> None:
        """The constructor's work; ``default_states`` is the calling function's default
        (``listening()``: LISTEN and CLOSE), which an explicit ``state=`` replaces."""
        self.tables = tables_for(proto)
        o = _options(filters)
        state = o["state"]
        # An explicit state= replaces the function's default (connections() with
        # state="time-wait" shows TIME-WAIT), as ss's "state" replaces its default.
        states: Optional[FrozenSet[TcpState]] = None if default_states is None else frozenset(default_states)
        if state is not None:
            states = _states.resolve(state)
        self.fs = ProcFS(o["root"])
        self.expression: Optional[Filter] = None
        if o["filter"] is not None:
            self.expression = self._compile(o["filter"])
            families = self.expression.families
            if families is not None:
                # "unix:" / "inet6:" in the expression: tables of other families are not read.
                self.tables = tuple(t for t in self.tables if _TABLE_FAMILY[t] in families)
            expr_states = self.expression.states
            if expr_states is not None:
                states = expr_states if state is None else states & expr_states  # type: ignore[operator]
        self.states = states
        self.port = _check_port(o["port"], "port")
        self.local_port = _check_port(o["local_port"], "local_port")
        self.remote_port = _check_port(o["remote_port"], "remote_port")
        self.local = None if o["local"] is None else _as_networks(o["local"], "local")
        self.remote = None if o["remote"] is None else _as_networks(o["remote"], "remote")
        self.pids = _int_set(o["pid"], "pid")
        self.uids = _int_set(o["uid"], "uid")
        self.inodes = _int_set(o["inode"], "inode")
        netns = o["netns"]
        if netns is not None and netns != "all" and netns != "self" and (isinstance(netns, bool) or not isinstance(netns, int)):
            raise ValueError("netns= takes None or 'self' (the caller's namespace), 'all', or a pid, not %r" % (netns,))
        self.netns = netns
        self.owners: bool = o["owners"] or self.pids is not None
        self.details: bool = o["details"]
        self.threads: bool = o["threads"]
        self.strict: bool = o["strict"]
        backend = o["backend"]
        if backend not in ("auto", "proc", "netlink"):
            raise ValueError("backend= takes 'auto', 'proc' or 'netlink', not %r" % (backend,))
        self.backend: str = backend
        self.tcp_info: bool = o["tcp_info"]
        self.skmem: bool = o["skmem"]
        self.on_error: Optional[ErrorHandler] = o["on_error"]

    def _compile(self, expression: Any) -> Filter:
        """filter=: an ss expression (str), compiled for the tables asked for, or a Filter."""
        from ._filter import Filter as _Filter
        from ._filter import compile_filter

        if isinstance(expression, _Filter):
            return expression
        if isinstance(expression, str):
            protocols = tuple(sorted({INET_TABLES[t][0] for t in self.tables if t != "unix"}))
            return compile_filter(expression, protocols=protocols or ("tcp", "udp"),
                                  ephemeral_ports=self.fs.local_port_range())
        raise TypeError("filter= takes an ss expression (str) or a compiled Filter, not %r" % (expression,))

    # -- row filters --------------------------------------------------------------------
    def _keep(self, rec: Socket) -> bool:
        if self.inodes is not None and rec.inode not in self.inodes:
            return False
        if self.uids is not None and rec.uid not in self.uids:
            return False
        if isinstance(rec, InetSocket):
            if not self._endpoints_match(rec):
                return False
        elif self.port is not None or self.local_port is not None or self.remote_port is not None:
            return False  # unix sockets have no ports
        elif self.local is not None or self.remote is not None:
            return False  # nor addresses
        return self.expression is None or self.expression.matches(rec)

    def _endpoints_match(self, rec: InetSocket) -> bool:
        # Only the fields a filter needs are read: a record's other fields are decoded
        # on first read (see _records).
        if self.port is not None and rec.local.port != self.port and rec.remote.port != self.port:
            return False
        if self.local_port is not None and rec.local.port != self.local_port:
            return False
        if self.remote_port is not None and rec.remote.port != self.remote_port:
            return False
        if self.local is not None and not _in_network(rec.local.ip, self.local):
            return False
        return self.remote is None or _in_network(rec.remote.ip, self.remote)

    # -- sources ------------------------------------------------------------------------
    def _source(self) -> Tuple[Optional[int], Optional[int]]:
        """(namespace inode, pid to read ``<root>/<pid>/net`` through, or None for ``<root>/net``)."""
        fs = self.fs
        if isinstance(self.netns, int):
            try:
                with fs.process(self.netns) as proc:
                    link = proc.readlink("ns/net")
            except Gone:
                raise NoSuchProcess(
                    errno.ESRCH, "netns=%d: no such process under %s" % (self.netns, fs.root), fs.path(self.netns)
                ) from None
            except Denied:
                return None, self.netns
            return ns_inode(link), self.netns
        self_link = fs.self_netns_link()
        return (ns_inode(self_link) if self_link else None), None

    def _members(self) -> Dict[Optional[int], List[int]]:
        """The pids under the root by network namespace (their ``ns/net`` link); a process
        whose link cannot be read (it exited, another user's, a capture's odd entry) is
        left out."""
        groups: Dict[Optional[int], List[int]] = {}
        for pid in self.fs.pids():
            try:
                with self.fs.process(pid) as proc:
                    ns = ns_inode(proc.readlink("ns/net"))
            except (Gone, Denied):
                continue
            groups.setdefault(ns, []).append(pid)
        return groups

    def _tables(self) -> Iterator[Tuple[str, Optional[int], str, str]]:
        """(table, netns, text, path) for every text table of every namespace asked.

        Each table is read straight into its text (undecodable bytes kept as surrogate
        escapes, as the parsers keep them), and dropped here once yielded, so that one
        copy of one table is held at a time (:meth:`ProcFS.read_net_text`)."""
        if self.netns == "all":
            yield from self._every_namespace()
            return
        fs = self.fs
        ns, pid = self._source()
        for table in self.tables:
            text = fs.read_net_text(table, pid)
            if text is not None:
                yield table, ns, text, fs.path("net", table) if pid is None else fs.path(pid, "net", table)
                text = None

    def _every_namespace(self) -> Iterator[Tuple[str, Optional[int], str, str]]:
        """:meth:`_tables` for ``netns="all"``: each namespace's tables read once, through
        the first of its processes that shows them.

        A :class:`~procnet.ProcRootError` when the root cannot answer, rather than fewer
        namespaces than there are: no process shows its namespace, a capture holds no
        tables for some namespace (one written without ``netns="all"`` holds only
        ``net/``), or no namespace's tables could be read at all. On a live proc a
        namespace whose processes all exit during the read is left out (it is gone).
        """
        fs = self.fs
        root = quoted(fs.root)
        groups = self._members()
        if not groups:
            raise ProcRootError("netns='all' cannot be answered from %s: it reads every network namespace through a "
                                "process in it, and no process there shows its namespace (<pid>/ns/net)" % root)
        order = sorted(groups, key=lambda n: groups[n][0])
        if fs.manifest:  # a capture: what it lacks now, it always lacked
            missing = [ns for ns in order if not any(fs.has_net_tables(pid) for pid in groups[ns])]
            if missing:
                raise ProcRootError(
                    "netns='all' cannot be answered from the capture %s: it holds no socket tables for network "
                    "namespace %s (processes: %s); a capture holds each namespace's tables (<pid>/net) only when "
                    "written with netns='all'" % (root, _pids_text(n for n in missing if n is not None) or "?",
                                                  _pids_text(p for n in missing for p in groups[n])))
        answered = False
        for ns in order:
            for table in self.tables:
                for member in groups[ns]:
                    try:
                        text = fs.read_net_text(table, member)
                    except UnsafeFile:
                        raise
                    except (Gone, Denied):
                        continue
                    answered = True
                    if text is not None:
                        yield table, ns, text, fs.path(member, "net", table)
                        text = None
                    break
        if not answered:
            raise ProcRootError("netns='all' cannot be answered from %s: no process there shows the socket tables "
                                "of its network namespace (<pid>/net)" % root)

    def _use_netlink(self) -> bool:
        """Whether sock_diag answers: the caller's own namespace on the live machine only
        (``netns=`` the calling thread's own id is that namespace too: a thread that
        entered another one with setns() reads it through ``<root>/<tid>/net``, and its
        sock_diag sockets ask that namespace: ``procnet ss -N``)."""
        if self.backend == "proc":
            return False
        own = self.netns in (None, "self") or isinstance(self.netns, int) and self.netns == _native_id()
        live = own and self.fs.shares_callers_netns()  # the live proc, or /host/proc with hostPID+hostNetwork
        if self.backend == "netlink":
            if not live and self._replays():
                return False  # a capture's stored answers stand in for the kernel's
            if not live:
                raise ValueError(
                    "backend='netlink' asks the running kernel about the caller's own network "
                    "namespace; for root=%r, netns=%r use backend='proc' or 'auto'" % (self.fs.root, self.netns)
                )
            if not _netlink_available():
                from ._parse.netlink import NetlinkUnavailable

                raise NetlinkUnavailable(0, "backend='netlink': this process cannot use sock_diag here; use 'auto' or 'proc'")
            return True
        return live and _netlink_available()

    def _netlink_records(self, table: str) -> Optional[List[Socket]]:
        """The records of one table from sock_diag; None when the kernel cannot answer for
        it (it lacks the protocol's diag module, as raw_diag often): that one table is then
        read as text, whichever backend was asked for."""
        from ._parse.netlink import NetlinkUnavailable

        try:
            return list(self._netlink_stream(table))
        except NetlinkUnavailable:
            return None

    def _chunks(self) -> Iterator[Tuple[Optional[int], Callable[[], Iterable[Socket]]]]:
        """(netns, a function giving that table's records) for every table asked.

        Text tables are read once and may be parsed twice; a netlink dump is taken once
        and its records held (see :meth:`_streams` for the iterator form).
        """
        if self._use_netlink():
            ns, _ = self._source()
            for table in self.tables:
                records = self._netlink_records(table)
                if records is not None:
                    yield ns, functools.partial(iter, records)
                    continue
                chunk = self._text_chunk(table)  # no diag module for this protocol
                if chunk is not None:
                    yield ns, chunk
            return
        if self._replays():
            yield from self._stored_chunks()
            return
        check_unix = self.backend == "proc" and self.netns in (None, "self") and self.fs.is_live()
        for table, ns, text, path in self._tables():
            if table == "unix" and check_unix and _netlink_available():
                yield ns, functools.partial(self._confirmed_unix, text, path)
            else:
                yield ns, functools.partial(self._parse, table, text, path)

    def _replays(self) -> bool:
        """Whether records come from the sock_diag answers a capture stored for its own
        namespace (procnet/_capture.py), as the live query got them from the kernel:
        with backend "auto" or "netlink", for the capture's own namespace."""
        return self.backend != "proc" and self.netns in (None, "self") and self.fs.has_sock_diag()

    def _stored_chunks(self) -> Iterator[Tuple[Optional[int], Callable[[], Iterable[Socket]]]]:
        """:meth:`_chunks` of a capture with stored answers: each table's stored answer,
        read now and decoded at each call; its text where none was stored (the kernel had
        no diag module for it, as raw_diag often)."""
        fs = self.fs
        ns, _ = self._source()
        ticks = fs.manifest.get("clock_ticks")
        if isinstance(ticks, bool) or not isinstance(ticks, int) or not 0 < ticks <= 1000000:
            ticks = 100
        for table in self.tables:
            data = fs.read_sock_diag(table)
            if data is None:
                chunk = self._text_chunk(table)
                if chunk is not None:
                    yield ns, chunk
                continue
            from ._parse.stored_answer import parse_stored_answer

            yield ns, functools.partial(
                parse_stored_answer, data, table, byteorder=fs.byteorder, ticks_per_second=ticks,
                states=None if self.states is None else sorted(self.states), path=fs.path(SOCK_DIAG_DIR, table),
                on_error=self.on_error, tcp_info=self.tcp_info, skmem=self.skmem,
            )

    def _streams(self) -> Iterator[Tuple[Optional[int], Callable[[], Iterable[Socket]], Optional[str]]]:
        """As :meth:`_chunks`, for the iterator form: (netns, function, table). Where the
        table is given, the function is a netlink dump that asks the kernel again at each
        call and holds nothing; it raises NetlinkUnavailable (at its first record) where
        the kernel cannot answer for the table, which is then read with :meth:`_text_chunk`.
        """
        if not self._use_netlink():
            for ns, records in self._chunks():
                yield ns, records, None
            return
        ns, _ = self._source()
        for table in self.tables:
            yield ns, functools.partial(self._netlink_stream, table), table

    def _text_chunk(self, table: str) -> Optional[Callable[[], Iterable[Socket]]]:
        """The caller's own namespace's text table, read now, parsed at each call."""
        text = self.fs.read_net_text(table)
        if text is None:
            return None
        return functools.partial(self._parse, table, text, self.fs.path("net", table))

    def _netlink_stream(self, table: str) -> Iterator[Socket]:
        """One sock_diag dump of a table, a record at a time."""
        from . import _netlink

        wanted = None if self.states is None else sorted(self.states)
        if table == "unix":
            return _netlink.iter_unix(wanted)
        proto, family = INET_TABLES[table]
        return _netlink.iter_inet(proto, family, wanted, tcp_info=self.tcp_info, skmem=self.skmem)

    def _confirmed_unix(self, data: str, path: str) -> Iterator[Socket]:
        """The text table's unix rows, each flagged ``text_only`` when the kernel's
        netlink answer does not list the same (inode, path): a path with a newline can
        forge a row of /proc/net/unix; netlink cannot be fooled that way."""
        from . import _netlink
        from ._parse.netlink import NetlinkError

        try:
            kernel = {(s.inode, s.path) for s in _netlink.iter_unix(None if self.states is None else sorted(self.states))}
        except NetlinkError:
            kernel = None
        for rec in self._parse("unix", data, path):
            if kernel is not None:
                attach(rec, "text_only", (rec.inode, getattr(rec, "path", None)) not in kernel)
            yield rec

    def _parse(self, table: str, data: str, path: str) -> Iterator[Socket]:
        states = self.states
        if table == "unix":
            from ._parse.unix import parse_unix  # text parsers load when a text table is read

            return parse_unix(data, path=path, states=states, on_error=self.on_error)
        from ._parse.inet import parse_inet

        return parse_inet(data, table, byteorder=self.fs.byteorder, path=path, states=states, on_error=self.on_error)

    def _rows(self) -> Iterator[Socket]:
        """The records that pass the filters, their namespace set (still construction:
        no caller has seen them, so the frozen field is written in place)."""
        keep = self._keep
        for ns, records in self._chunks():
            for rec in records():
                if keep(rec):
                    if ns is not None:
                        attach(rec, "netns", ns)
                    yield rec

    # -- owners -------------------------------------------------------------------------
    def _scan(self, inodes: Set[int]) -> Optional[OwnerIndex]:
        if not self.owners:
            return None
        if not inodes and self.pids is None:
            return OwnerIndex({}, _no_scan_report(self.fs))
        return scan(self.fs, inodes=inodes, pids=self.pids, threads=self.threads, details=self.details)

    def _finish(self, rec: Socket, report: Optional[ScanReport], index: Optional[OwnerIndex] = None) -> Optional[Socket]:
        """Complete a record the parser just built: its owners from ``index`` (the
        iterator's) unless the scan stored them already (:func:`scan_into`), and
        ``owners_complete`` from the scan's ``report`` (None: owners not asked).

        This is still construction: no caller has seen the record yet, so the fields are
        set with _records.attach instead of rebuilding the record.
        """
        if report is not None:
            if rec.inode == 0:
                complete = True
            else:
                if index is not None:
                    attach(rec, "owners", index.get(rec.inode))
                complete = report.complete and self.pids is None
            if self.pids is not None and not rec.owners:
                return None
            attach(rec, "owners_complete", complete)
        return rec

    def _check_strict(self, report: Optional[ScanReport]) -> None:
        """With ``strict=True``: raise rather than answer with owners that may be missing.

        AccessDenied when a process the query had to inspect could not be (with ``pid=``:
        one of those pids, or one of its threads; without: any process or thread, a proc
        mount that hides some, or processes outside the proc mount's pid namespace);
        NoSuchProcess when a ``pid=`` process does not exist (or exited during the scan)."""
        if not self.strict or report is None:
            return
        if self.pids is not None:
            denied = sorted(self.pids & set(report.denied))
            if denied:
                raise AccessDenied(errno.EACCES, "may not inspect the descriptors of pid %s" % _pids_text(denied),
                                   self.fs.path(denied[0], "fd"))
            unverified = sorted(self.pids & set(report.unverified_threads))
            if unverified:
                raise AccessDenied(errno.EPERM, "cannot check the threads of pid %s for descriptor tables of their "
                                   "own" % _pids_text(unverified), self.fs.path(unverified[0], "task"))
            missing = sorted(self.pids & (set(report.vanished) | set(report.missing)))
            if missing:
                raise NoSuchProcess(errno.ESRCH, "no such process: pid %s" % _pids_text(missing), self.fs.path(missing[0]))
            return
        if report.denied:
            raise AccessDenied(errno.EACCES, "may not inspect the descriptors of pid %s, so owners may be missing"
                               % _pids_text(report.denied), self.fs.path(report.denied[0], "fd"))
        if report.hidden:
            raise AccessDenied(errno.EACCES, "the proc mount hides other users' processes (hidepid), so owners "
                               "may be missing", self.fs.root)
        if report.initial_pid_namespace is not True:
            raise AccessDenied(errno.EACCES, "the proc mount's pid namespace is %s, so processes outside it may hold "
                               "sockets and owners may be missing"
                               % ("not the initial one" if report.initial_pid_namespace is False
                                  else "not known to be the initial one"), self.fs.root)
        if report.unverified_threads:
            raise AccessDenied(errno.EPERM, "cannot check the threads of pid %s for descriptor tables of their own, so "
                               "owners may be missing" % _pids_text(report.unverified_threads),
                               self.fs.path(report.unverified_threads[0], "task"))

    def run(self) -> SocketList[_S]:
        """The matching sockets, owners filled in when asked."""
        rows = list(self._rows())
        report: Optional[ScanReport] = None
        if self.owners:
            if self.pids is None and not any(rec.inode for rec in rows):
                report = _no_scan_report(self.fs)
            else:
                report = scan_into(self.fs, (rec for rec in rows if rec.inode), pids=self.pids,
                                   threads=self.threads, details=self.details)
        self._check_strict(report)
        out: SocketList[_S] = SocketList(report=report)
        for rec in rows:
            done = self._finish(rec, report)
            if done is not None:
                out.append(done)  # type: ignore[arg-type]
        return out

    def iterate(self) -> SocketIterator[_S]:
        """The matching sockets one at a time (see :func:`iter_sockets`)."""
        return SocketIterator(self)


def _query(proto: ProtoSpec, default_states: Optional[AbstractSet[TcpState]], filters: Dict[str, Any]) -> Query[Any]:
    """A Query with a function's default states (the typed overloads are for callers)."""
    query: Query[Any] = Query.__new__(Query)
    query._setup(proto, default_states, filters)
    return query


def _no_scan_report(fs: ProcFS) -> ScanReport:
    """The report of a query with no socket to look for (so no descriptor was read).

    Nothing can be missing from such an answer (a record of inode 0 has no file, so no
    owner), but the report still says what the scan could not have seen under this root
    (a hidepid mount, processes outside the mount's pid namespace), as a scan would, so
    that ``report.complete`` and ``strict=True`` do not depend on whether a socket matched."""
    return ScanReport(0, hidden=fs.hides_processes(), initial_pid_namespace=fs.initial_pid_namespace())


def _pids_text(pids: Iterable[int]) -> str:
    listed = list(pids)
    more = len(listed) - 5
    return ", ".join(str(p) for p in listed[:5]) + (" and %d more" % more if more > 0 else "")


class SocketIterator(Iterator[_S]):
    """Yields one record at a time; holds the tables' text, never the whole list of records.

    With owners, the tables are parsed twice: once to learn which inodes to look for,
    once to yield. ``report`` is set once the owner scan has run (before the first record).
    """

    def __init__(self, query: Query[_S]) -> None:
        self.report: Optional[ScanReport] = None
        self._gen: Iterator[_S] = self._generate(query)  # type: ignore[assignment]

    def __iter__(self) -> SocketIterator[_S]:
        return self

    def __next__(self) -> _S:
        return next(self._gen)

    def _generate(self, q: Query[_S]) -> Iterator[Socket]:
        index: Optional[OwnerIndex] = None
        if q.owners:
            from ._parse.netlink import NetlinkUnavailable

            # Pass 1 learns which inodes to look for; pass 2 yields. Text is read once
            # and parsed twice; the kernel is asked twice (nothing held in between).
            keep = q._keep
            inodes: Set[int] = set()
            chunks: List[Tuple[Optional[int], Callable[[], Iterable[Socket]], bool]] = []
            for ns, records, table in q._streams():
                try:
                    inodes.update(rec.inode for rec in records() if rec.inode and keep(rec))
                except NetlinkUnavailable:  # no diag module for this protocol: its text
                    text = q._text_chunk(table) if table is not None else None
                    if text is None:
                        continue
                    records, table = text, None
                    inodes.update(rec.inode for rec in records() if rec.inode and keep(rec))
                chunks.append((ns, records, table is not None))
            index = q._scan(inodes)
            self.report = index.report if index is not None else None
            q._check_strict(self.report)
            for ns, records, dumped in chunks:
                for rec in records():
                    if keep(rec):
                        if ns is not None:
                            attach(rec, "netns", ns)
                        done = q._finish(rec, self.report, index)
                        if done is None:
                            continue
                        if dumped and done.inode and done.inode not in inodes:
                            # Came into being between the two dumps: its owners were
                            # not looked for.
                            attach(done, "owners_complete", False)
                        yield done
            return
        yield from q._rows()  # no owners: nothing to finish


_NETLINK_OK: Optional[bool] = None


def _native_id() -> int:
    """The calling thread's id (``threading`` imported only here: not on a query's start-up)."""
    import threading

    return threading.get_native_id()


def _netlink_available() -> bool:
    """sock_diag works for this process (probed once per process)."""
    global _NETLINK_OK
    if _NETLINK_OK is None:
        from . import _netlink

        _NETLINK_OK = _netlink.available()
    return _NETLINK_OK


_DOC_FILTERS = """
    Filters (all optional, combined with *and*):

    ``state``: a state name (``"established"``, ``"time-wait"``, ``"LISTEN"``), one of
    ss's groups (``"connected"``, ``"synchronized"``, ``"bucket"``, ``"big"``,
    ``"all"``), a :class:`TcpState`, or several. ``port`` (local or remote),
    ``local_port``, ``remote_port``. ``local`` / ``remote``: an address or network
    (``"127.0.0.0/8"``, ``"::1"``); an IPv4-mapped IPv6 address matches its IPv4
    network. ``pid``: sockets held by this pid (or pids); only their descriptors are
    scanned. ``uid``: the socket's uid column. ``inode``. ``filter``: an ss filter
    expression (``"sport = :22 or dport = :https"``). ``netns``: None (the namespace of
    ``<root>/net``), ``"all"`` (every namespace that a process under the root is in,
    read through one member's ``<root>/<pid>/net``), or a pid (that process's
    namespace). ``owners=False`` skips the descriptor scan; ``details=True`` also reads
    each owner's cmdline and uid; ``threads=False`` skips threads with descriptor tables
    of their own. ``strict=True``: raise :class:`AccessDenied` (a ``PermissionError``)
    instead of answering when a process the query had to inspect could not be (by
    default it is named in ``.report.denied`` and its sockets' ``owners_complete`` is
    False), and :class:`NoSuchProcess` for a ``pid`` that does not exist. ``root`` is
    the proc root: ``/proc``, ``/host/proc``, a capture or a fixture tree.
    ``backend``: ``"auto"``, ``"proc"`` or ``"netlink"``; ``tcp_info=True`` also asks
    sock_diag for ``struct tcp_info``; ``skmem=True`` for TCP's memory counters alone
    (``skmem``, whose ninth is the drop count: cheaper than ``tcp_info``). ``on_error``: called with each bad line's
    :class:`ParseError`, which is then skipped (default: raise it).

    Every argument is checked when the function is called: an unknown keyword, a flag
    that is not a bool or a value of the wrong type is a TypeError, a value out of range a
    ValueError, each saying what is accepted.
"""


@overload
def sockets(proto: Literal["unix"], **filters: Unpack[Filters]) -> SocketList[UnixSocket]: ...  # type: ignore[overload-overlap]
@overload
def sockets(proto: Union[InetProto, Iterable[InetProto]], **filters: Unpack[Filters]) -> SocketList[InetSocket]: ...
@overload
def sockets(proto: ProtoSpec = "all", **filters: Unpack[Filters]) -> SocketList[Socket]: ...
def sockets(proto: ProtoSpec = "all", **filters: Any) -> SocketList[Any]:
    """Every socket of the kinds ``proto`` names, with its owners.

    ``proto`` is psutil's vocabulary: ``"tcp"``, ``"tcp4"``, ``"tcp6"``, ``"udp"``,
    ``"udp4"``, ``"udp6"``, ``"inet"``, ``"inet4"``, ``"inet6"``, ``"unix"``, ``"all"``,
    ``"raw"``, ``"raw4"``, ``"raw6"``, ``"udplite"`` (or several of them). The result is a
    ``SocketList[InetSocket]`` for the inet ones, ``SocketList[UnixSocket]`` for
    ``"unix"``, and holds either for a mix.

    >>> import procnet
    >>> listeners = procnet.sockets("tcp", state="listening")  # doctest: +SKIP
    """
    return _query(proto, None, filters).run()


@overload
def listening(proto: Literal["unix"], **filters: Unpack[Filters]) -> SocketList[UnixSocket]: ...  # type: ignore[overload-overlap]
@overload
def listening(proto: Union[InetProto, Iterable[InetProto]], **filters: Unpack[Filters]) -> SocketList[InetSocket]: ...
@overload
def listening(proto: ProtoSpec = "all", **filters: Unpack[Filters]) -> SocketList[Socket]: ...
def listening(proto: ProtoSpec = "all", **filters: Any) -> SocketList[Any]:
    """Sockets that accept connections or datagrams: what ``ss -l`` shows.

    TCP and unix listeners (LISTEN), and the bound, unconnected sockets of datagram
    protocols (state CLOSE, ss's UNCONN): an open UDP port is one of those.

    >>> import procnet
    >>> [s.local.port for s in procnet.listening(proto="tcp")]  # doctest: +SKIP
    [22, 631]
    """
    return _query(proto, _states.LISTENING, filters).run()


@overload
def connections(proto: Literal["unix"], **filters: Unpack[Filters]) -> SocketList[UnixSocket]: ...  # type: ignore[overload-overlap]
@overload
def connections(proto: Union[InetProto, Iterable[InetProto]] = "inet", **filters: Unpack[Filters]) -> SocketList[InetSocket]: ...
@overload
def connections(proto: ProtoSpec, **filters: Unpack[Filters]) -> SocketList[Socket]: ...
def connections(proto: ProtoSpec = "inet", **filters: Any) -> SocketList[Any]:
    """Connected sockets: what ``ss`` shows by default.

    Every state but LISTEN, CLOSE, TIME-WAIT and SYN-RECV (ss leaves the last two out
    unless asked; pass ``state="all"`` or use :func:`sockets` to see them).

    >>> import procnet
    >>> procnet.connections(proto="tcp", remote_port=443)  # doctest: +SKIP
    """
    return _query(proto, _states.DEFAULT, filters).run()


@overload
def iter_sockets(proto: Literal["unix"], **filters: Unpack[Filters]) -> SocketIterator[UnixSocket]: ...  # type: ignore[overload-overlap]
@overload
def iter_sockets(proto: Union[InetProto, Iterable[InetProto]], **filters: Unpack[Filters]) -> SocketIterator[InetSocket]: ...
@overload
def iter_sockets(proto: ProtoSpec = "all", **filters: Unpack[Filters]) -> SocketIterator[Socket]: ...
def iter_sockets(proto: ProtoSpec = "all", **filters: Any) -> SocketIterator[Any]:
    """Like :func:`sockets`, one record at a time (for machines with huge tables).

    >>> import procnet
    >>> sum(1 for _ in procnet.iter_sockets("tcp", owners=False))  # doctest: +SKIP
    3
    """
    return _query(proto, None, filters).iterate()


for _f in (sockets, listening, connections, iter_sockets):
    _f.__doc__ = (_f.__doc__ or "") + _DOC_FILTERS

__all__ = [
    "PROTOS",
    "Query",
    "SocketIterator",
    "SocketList",
    "connections",
    "iter_sockets",
    "listening",
    "sockets",
    "tables_for",
]

