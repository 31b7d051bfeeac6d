"""The public questions: sockets(), listening(), connections(), and their filters.

Work is pushed down: the state filter goes into the parser (rows in other states are not
decoded), the descriptor scan is skipped when no owner is needed or no socket matched,
and a pid filter scans only that pid's descriptors.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from typing import (
    TYPE_CHECKING,
    AbstractSet,
    Any,
    Callable,
    Dict,
    FrozenSet,
    Iterable,
    Iterator,
    List,
    Optional,
    Set,
    Tuple,
    Union,
)

from . import _states
from ._owners import OwnerIndex, ScanReport, scan, scan_into
from ._parse._common import ErrorHandler
from ._parse._common import INET_TABLES
from ._parse.process import ns_inode
from ._proc import DEFAULT_ROOT, Denied, Gone, ProcFS
from ._records import InetSocket, Socket, TcpState

if TYPE_CHECKING:
    from ._filter import Filter

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

_TABLE_FAMILY: Dict[str, int] = {t: int(f) for t, (_, f) in INET_TABLES.items()}
_TABLE_FAMILY["unix"] = int(socket.AF_UNIX)

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
AddressSpec = Union[str, ipaddress.IPv4Address, ipaddress.IPv6Address, Network]
PidSpec = Union[int, Iterable[int]]
NetnsSpec = Union[None, str, int]


def tables_for(proto: Union[str, Iterable[str]]) -> Tuple[str, ...]:
    """The kernel tables a ``proto=`` value reads. Unknown names are a ValueError listing the valid ones."""
    names = [proto] if isinstance(proto, str) else list(proto)
    out: List[str] = []
    for name in names:
        if not isinstance(name, str) or name.lower() not in PROTOS:
            raise ValueError(
                "unknown proto %r; expected one of %s" % (name, ", ".join(PROTOS))
            )
        for table in PROTOS[name.lower()]:
            if table not in out:
                out.append(table)
    order = PROTOS["all"]
    return tuple(sorted(out, key=order.index))


class SocketList(List[Socket]):
    """A list of socket records, with the report of the owner scan that filled them.

    ``report`` is None when owners were not looked for; otherwise a
    :class:`~procnet.ScanReport` telling which processes could not be inspected.
    """

    report: Optional[ScanReport]

    def __init__(self, items: Iterable[Socket] = (), report: Optional[ScanReport] = None) -> None:
        super().__init__(items)
        self.report = report


def _as_network(value: AddressSpec, what: str) -> Network:
    if isinstance(value, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return value
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return ipaddress.ip_network(value)
    if isinstance(value, str):
        try:
            return ipaddress.ip_network(value.strip("[]"), strict=False)
        except ValueError:
            pass
    raise ValueError(
        "%s= takes an address or network such as '127.0.0.1', '::1' or '10.0.0.0/8', not %r" % (what, value)
    )


def _in_network(ip: Any, net: Network) -> bool:
    if ip.version == net.version:
        return bool(ip in net)
    # An IPv4-mapped IPv6 address is that IPv4 address for the user asking about it.
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return bool(ip.ipv4_mapped in net)
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


class Query:
    """One question, validated once: which tables, which rows, whose owners.

    The public functions build one and run it; it is public for callers that ask the same
    question repeatedly (``procnet.Query(...).run()``).
    """

    def __init__(
        self,
        proto: Union[str, Iterable[str]] = "all",
        *,
        state: Optional[_states.StateSpec] = None,
        port: Optional[int] = None,
        local_port: Optional[int] = None,
        remote_port: Optional[int] = None,
        local: Optional[AddressSpec] = None,
        remote: Optional[AddressSpec] = None,
        pid: Optional[PidSpec] = None,
        uid: Optional[Union[int, Iterable[int]]] = None,
        inode: Optional[Union[int, Iterable[int]]] = None,
        netns: NetnsSpec = None,
        filter: Union[None, str, Filter] = None,
        owners: bool = True,
        details: bool = False,
        threads: bool = True,
        root: str = DEFAULT_ROOT,
        backend: str = "auto",
        tcp_info: bool = False,
        on_error: Optional[ErrorHandler] = None,
        default_states: Optional[AbstractSet[TcpState]] = None,
    ) -> None:
        self.tables = tables_for(proto)
        # An explicit state= replaces the function's default (connections() with
        # state="time-wait" shows TIME-WAIT), as ss's "state" replaces its default.
        states: Optional[FrozenSet[TcpState]] = None if default_states is None else frozenset(default_states)
        if state is not None:
            states = _states.resolve(state)
        self.fs = ProcFS(root)
        self.expression: Optional[Filter] = None
        if filter is not None:
            from ._filter import Filter as _Filter
            from ._filter import compile_filter

            if isinstance(filter, _Filter):
                self.expression = filter
            elif isinstance(filter, str):
                protocols = tuple(sorted({INET_TABLES[t][0] for t in self.tables if t != "unix"}))
                self.expression = compile_filter(
                    filter,
                    protocols=protocols or ("tcp", "udp"),
                    ephemeral_ports=self.fs.local_port_range(),
                )
            else:
                raise TypeError("filter= takes an ss expression (str) or a compiled Filter, not %r" % (filter,))
            families = self.expression.families
            if families is not None:
                # "unix:" / "inet6:" in the expression: tables of other families are not read.
                self.tables = tuple(t for t in self.tables if _TABLE_FAMILY[t] in families)
            expr_states = self.expression.states
            if expr_states is not None:
                states = expr_states if state is None else states & expr_states  # type: ignore[operator]
        self.states = states
        self.port = _check_port(port, "port")
        self.local_port = _check_port(local_port, "local_port")
        self.remote_port = _check_port(remote_port, "remote_port")
        self.local = None if local is None else _as_network(local, "local")
        self.remote = None if remote is None else _as_network(remote, "remote")
        self.pids = _int_set(pid, "pid")
        self.uids = _int_set(uid, "uid")
        self.inodes = _int_set(inode, "inode")
        if netns is not None and netns != "all" and netns != "self" and (isinstance(netns, bool) or not isinstance(netns, int)):
            raise ValueError("netns= takes None or 'self' (the caller's namespace), 'all', or a pid, not %r" % (netns,))
        self.netns = netns
        self.owners = owners or self.pids is not None
        self.details = details
        self.threads = threads
        if backend not in ("auto", "proc", "netlink"):
            raise ValueError("backend= takes 'auto', 'proc' or 'netlink', not %r" % (backend,))
        self.backend = backend
        self.tcp_info = tcp_info
        self.on_error = on_error

    # -- row filters --------------------------------------------------------------------
    def _keep(self, rec: Socket) -> bool:
        if self.inodes is not None and rec.inode not in self.inodes:
            return False
        if isinstance(rec, InetSocket):
            # Only the fields a filter needs are read: a record's other fields are
            # decoded on first read (see _records._lazy_record).
            if self.port is not None and rec.local.port != self.port and rec.remote.port != self.port:
                return False
            if self.local_port is not None and rec.local.port != self.local_port:
                return False
            if self.remote_port is not None and rec.remote.port != self.remote_port:
                return False
            if self.local is not None and not _in_network(rec.local.ip, self.local):
                return False
            if self.remote is not None and not _in_network(rec.remote.ip, self.remote):
                return False
            if self.uids is not None and rec.uid not in self.uids:
                return False
        else:
            if self.port is not None or self.local_port is not None or self.remote_port is not None:
                return False
            if self.local is not None or self.remote is not None:
                return False
            if self.uids is not None and rec.uid not in self.uids:
                return False
        if self.expression is not None and not self.expression.matches(rec):
            return False
        return True

    # -- sources ------------------------------------------------------------------------
    def _source(self) -> Tuple[Optional[int], Optional[int]]:
        """(namespace inode, pid to read ``<root>/<pid>/net`` through, or None for ``<root>/net``)."""
        fs = self.fs
        if isinstance(self.netns, int):
            try:
                with fs.process(self.netns) as proc:
                    link = proc.readlink("ns/net")
            except Gone:
                raise ValueError("netns=%d: no such process under %s" % (self.netns, fs.root)) from None
            except Denied:
                return None, self.netns
            return ns_inode(link), self.netns
        self_link = fs.self_netns_link()
        return (ns_inode(self_link) if self_link else None), None

    def _members(self) -> Dict[Optional[int], List[int]]:
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

        The bytes are decoded at once (undecodable bytes kept as surrogate escapes, as the
        parsers keep them) so that only one copy of a large table is held."""
        fs = self.fs
        if self.netns == "all":
            groups = self._members()
            for ns in sorted(groups, key=lambda n: groups[n][0]):
                for table in self.tables:
                    for member in groups[ns]:
                        try:
                            data = fs.read_net_table(table, member)
                        except (Gone, Denied):
                            continue
                        if data is not None:
                            yield table, ns, _text(data), fs.path(member, "net", table)
                        break
            return
        ns, pid = self._source()
        for table in self.tables:
            data = fs.read_net_table(table, pid)
            if data is not None:
                yield table, ns, _text(data), fs.path("net", table) if pid is None else fs.path(pid, "net", table)

    def _use_netlink(self) -> bool:
        """Whether sock_diag answers: the caller's own namespace on the live machine only."""
        if self.backend == "proc":
            return False
        live = self.netns in (None, "self") and self.fs.is_live()
        if self.backend == "netlink":
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
        check_unix = self.backend == "proc" and self.netns in (None, "self") and self.fs.is_live()
        for table, ns, text, path in self._tables():
            if table == "unix" and check_unix and _netlink_available():
                yield ns, functools.partial(self._confirmed_unix, text, path)
            else:
                yield ns, functools.partial(self._parse, table, text, path)

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
        raw = self.fs.read_net_table(table)
        if raw is None:
            return None
        return functools.partial(self._parse, table, _text(raw), self.fs.path("net", table))

    def _netlink_stream(self, table: str) -> Iterator[Socket]:
        """One sock_diag dump of a table, a record at a time."""
        from . import _netlink

        wanted = None if self.states is None else sorted(self.states)
        if table == "unix":
            return _netlink.iter_unix(wanted)
        proto, family = INET_TABLES[table]
        return _netlink.iter_inet(proto, family, wanted, tcp_info=self.tcp_info)

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
                object.__setattr__(rec, "text_only", (rec.inode, getattr(rec, "path", None)) not in kernel)
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
                        object.__setattr__(rec, "netns", ns)
                    yield rec

    # -- owners -------------------------------------------------------------------------
    def _scan(self, inodes: Set[int]) -> Optional[OwnerIndex]:
        if not self.owners:
            return None
        if not inodes and self.pids is None:
            return OwnerIndex({}, ScanReport(0, hidden=self.fs.hides_processes()))
        return scan(self.fs, inodes=inodes, pids=self.pids, threads=self.threads, details=self.details)

    def _finish(self, rec: Socket, report: Optional[ScanReport], index: Optional[OwnerIndex] = None) -> Optional[Socket]:
        """Complete a record the parser just built: its owners from ``index`` (the
        iterator's) unless the scan stored them already (:func:`scan_into`), and
        ``owners_complete`` from the scan's ``report`` (None: owners not asked).

        This is still construction: no caller has seen the record yet, so the frozen
        fields are written with object.__setattr__ instead of rebuilding the record.
        """
        if report is not None:
            if rec.inode == 0:
                complete = True
            else:
                if index is not None:
                    object.__setattr__(rec, "owners", index.get(rec.inode))
                complete = report.complete and self.pids is None
            if self.pids is not None and not rec.owners:
                return None
            object.__setattr__(rec, "owners_complete", complete)
        return rec

    def run(self) -> SocketList:
        """The matching sockets, owners filled in when asked."""
        rows = list(self._rows())
        report: Optional[ScanReport] = None
        if self.owners:
            if self.pids is None and not any(rec.inode for rec in rows):
                report = ScanReport(0, hidden=self.fs.hides_processes())
            else:
                report = scan_into(self.fs, (rec for rec in rows if rec.inode), pids=self.pids,
                                   threads=self.threads, details=self.details)
        out = SocketList(report=report)
        for rec in rows:
            done = self._finish(rec, report)
            if done is not None:
                out.append(done)
        return out

    def iterate(self) -> SocketIterator:
        """The matching sockets one at a time (see :func:`iter_sockets`)."""
        return SocketIterator(self)


class SocketIterator(Iterator[Socket]):
    """Yields one record at a time; holds the tables' text, never the whole list of records.

    With owners, the tables are parsed twice: once to learn which inodes to look for,
    once to yield. ``report`` is set once the owner scan has run (before the first record).
    """

    def __init__(self, query: Query) -> None:
        self.report: Optional[ScanReport] = None
        self._gen = self._generate(query)

    def __iter__(self) -> SocketIterator:
        return self

    def __next__(self) -> Socket:
        return next(self._gen)

    def _generate(self, q: Query) -> Iterator[Socket]:
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
            for ns, records, dumped in chunks:
                for rec in records():
                    if keep(rec):
                        if ns is not None:
                            object.__setattr__(rec, "netns", ns)
                        done = q._finish(rec, self.report, index)
                        if done is None:
                            continue
                        if dumped and done.inode and done.inode not in inodes:
                            # Came into being between the two dumps: its owners were
                            # not looked for.
                            object.__setattr__(done, "owners_complete", False)
                        yield done
            return
        yield from q._rows()  # no owners: nothing to finish


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


_NETLINK_OK: Optional[bool] = None


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
    each owner's cmdline and uid. ``root`` is the proc root: ``/proc``, ``/host/proc``,
    a capture or a fixture tree. ``on_error``: called with each bad line's
    :class:`ParseError`, which is then skipped (default: raise it).
"""


def sockets(proto: Union[str, Iterable[str]] = "all", **filters: Any) -> SocketList:
    """Every socket of the kinds ``proto`` names, with its owners.

    ``proto`` is psutil's vocabulary: ``"tcp"``, ``"tcp4"``, ``"tcp6"``, ``"udp"``,
    ``"udp4"``, ``"udp6"``, ``"inet"``, ``"inet4"``, ``"inet6"``, ``"unix"``, ``"all"``,
    ``"raw"``, ``"raw4"``, ``"raw6"``, ``"udplite"``.

    >>> import procnet
    >>> listeners = procnet.sockets("tcp", state="listening")  # doctest: +SKIP
    """
    return Query(proto, **filters).run()


def listening(proto: Union[str, Iterable[str]] = "all", **filters: Any) -> SocketList:
    """Sockets that accept connections or datagrams: what ``ss -l`` shows.

    TCP and unix listeners (LISTEN), and the bound, unconnected sockets of datagram
    protocols (state CLOSE, ss's UNCONN): an open UDP port is one of those.

    >>> import procnet
    >>> [s.local.port for s in procnet.listening(proto="tcp")]  # doctest: +SKIP
    [22, 631]
    """
    return Query(proto, default_states=_states.LISTENING, **filters).run()


def connections(proto: Union[str, Iterable[str]] = "inet", **filters: Any) -> SocketList:
    """Connected sockets: what ``ss`` shows by default.

    Every state but LISTEN, CLOSE, TIME-WAIT and SYN-RECV (ss leaves the last two out
    unless asked; pass ``state="all"`` or use :func:`sockets` to see them).

    >>> import procnet
    >>> procnet.connections(proto="tcp", remote_port=443)  # doctest: +SKIP
    """
    return Query(proto, default_states=_states.DEFAULT, **filters).run()


def iter_sockets(proto: Union[str, Iterable[str]] = "all", **filters: Any) -> SocketIterator:
    """Like :func:`sockets`, one record at a time (for machines with huge tables).

    >>> import procnet
    >>> sum(1 for _ in procnet.iter_sockets("tcp", owners=False))  # doctest: +SKIP
    3
    """
    return Query(proto, **filters).iterate()


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

