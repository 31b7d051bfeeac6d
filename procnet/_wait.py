"""wait_listening(): block until a socket listens on a port or unix path, never connecting.

Test suites and start-up scripts wait for a server with ``connect()`` in a loop, which
makes real connections to the server they wait for (and fills its logs, or trips its
rate limits). This module asks the kernel instead, and only ever reads.

How it works. The question is decided once (:class:`_Target`: which tables, in which
state, which port, address or path), then polled by the cheapest source that can answer:

* on the live machine, sock_diag over one netlink socket kept open for the whole wait:
  per inet table, one dump request that names the state (LISTEN for TCP, CLOSE, i.e.
  bound and unconnected, for UDP) and carries a bytecode program that lets only the
  port through (:mod:`procnet._parse.diag_filter`), so that while the port is closed
  the kernel answers with one 20-byte ``NLMSG_DONE``, which is recognised without
  decoding; unix sockets: a dump of the listeners with their names only (unix_diag has
  no filter program), the path compared here;
* otherwise (a ``root=`` that is not this machine's proc, no sock_diag, or a table whose
  diag module is missing) the text tables, through :class:`procnet.Query`.

Looks start 1 ms apart and back off in proportion to the time waited (a tenth of it), up
to ``max_interval`` (50 ms): a socket that appears after 200 ms is seen within about
20 ms, one that takes minutes within 50 ms, and a long wait costs one look per 50 ms.
A look that takes long is spaced further, so that looking never takes more than about a
tenth of the time: reading ``/proc/net/tcp`` walks the kernel's whole connection hash
(7 ms a table on a machine with 15 TCP sockets, measured), a filtered dump does not.
No owner is looked for until the socket is found; the answer is then the socket as
:func:`procnet.listening` gives it (a :class:`~procnet.Query` for its inode), owners
filled in. Should the socket close between the look and that query, waiting goes on.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
import time
from typing import TYPE_CHECKING, Any, Callable, Iterable, List, Optional, Tuple, Union, overload

from ._proc import DEFAULT_ROOT, ProcFS
from ._query import AddressSpec, Backend, InetProto, Network, Query, _as_networks, _in_network, tables_for
from ._records import InetSocket, Socket, TcpState, UnixSocket

if TYPE_CHECKING:
    from typing_extensions import Literal

    from ._parse.netlink import _DumpDecoder
else:
    from typing import Literal

#: The state that means "accepting" in each table: TCP listens; a datagram socket is
#: bound and unconnected (CLOSE, ss's UNCONN); unix stream and seqpacket sockets listen.
_STATE = {
    "tcp": TcpState.LISTEN, "tcp6": TcpState.LISTEN,
    "udp": TcpState.CLOSE, "udp6": TcpState.CLOSE,
    "udplite": TcpState.CLOSE, "udplite6": TcpState.CLOSE,
    "unix": TcpState.LISTEN,
}
#: table -> the ``proto=`` name that reads that table alone
_ONE_TABLE = {
    "tcp": "tcp4", "tcp6": "tcp6", "udp": "udp4", "udp6": "udp6",
    "udplite": "udplite4", "udplite6": "udplite6", "unix": "unix",
}
#: the shortest interval between looks, in seconds (the first ones)
FIRST_INTERVAL = 0.001
#: the interval is this fraction of the time waited so far (so that the delay between
#: the socket's appearing and the answer is at most about a tenth of the wait)...
_FRACTION = 0.1
#: ...up to this bound, in seconds (the default of ``max_interval=``)
MAX_INTERVAL = 0.05

PathSpec = Union[str, "os.PathLike[str]"]
#: ``address=``: one address or network, or several
AddressesSpec = Union[AddressSpec, Iterable[AddressSpec]]


class _Target:
    """What is waited for, validated once: the tables to poll, and the test a socket
    of those tables (already in the right state) must pass."""

    def __init__(self, port: Optional[int], proto: Optional[str], address: Optional[Any],
                 path: Optional[PathSpec]) -> None:
        self.port: Optional[int] = None
        self.networks: Optional[Tuple[Network, ...]] = None
        self.paths: Tuple[str, ...] = ()
        if path is not None:
            self._unix(port, proto, address, path)
        else:
            self._inet(port, proto, address)

    def _unix(self, port: Optional[int], proto: Optional[str], address: Optional[Any], path: PathSpec) -> None:
        if port is not None or address is not None:
            raise TypeError("wait_listening() takes a port (and address=) or path=, not both")
        if proto not in (None, "unix"):
            raise ValueError("path= waits for a unix socket: proto= is 'unix' or left out, not %r" % (proto,))
        if isinstance(path, (bytes, bytearray)) or not isinstance(path, (str, os.PathLike)):
            raise TypeError("path= takes a str (a file name, or '@name' for an abstract name), not %r" % (path,))
        text = os.fspath(path)
        if not text or "\0" in text:
            raise ValueError("path= takes a non-empty file name without NUL, or '@name', not %r" % (text,))
        self.tables: Tuple[str, ...] = ("unix",)
        # A relative name also matches the socket bound to it from here (a server bound
        # with a relative name of its own shows that name, which only it can resolve).
        absolute = text if text.startswith(("@", "/")) else os.path.abspath(text)
        self.paths = (text,) if absolute == text else (text, absolute)

    def _inet(self, port: Optional[int], proto: Optional[str], address: Optional[Any]) -> None:
        if port is None:
            raise TypeError("wait_listening() takes a port (1-65535) or path= (a unix socket)")
        if isinstance(port, bool) or not isinstance(port, int):
            raise TypeError("port takes an int from 1 to 65535, not %r" % (port,))
        if not 1 <= port <= 65535:
            raise ValueError("port takes a port from 1 to 65535 (nothing listens on 0), not %d" % port)
        tables = tables_for(proto if proto is not None else "tcp")  # type: ignore[arg-type]
        if proto == "unix" or any(t not in _STATE or t == "unix" for t in tables):
            raise ValueError("a port is waited for with proto= tcp, tcp4, tcp6, udp, udp4, udp6, udplite, "
                             "udplite4, udplite6, inet, inet4 or inet6, not %r" % (proto,))
        self.tables = tables
        self.port = port
        if address is not None:
            self.networks = _networks(address)

    def matches(self, rec: Socket) -> bool:
        """Whether ``rec`` (of one of the tables, in its accepting state) is the one."""
        if isinstance(rec, UnixSocket):
            return rec.path in self.paths
        if not isinstance(rec, InetSocket) or rec.local.port != self.port:
            return False
        return self.networks is None or _serves(rec, self.networks)

    def describe(self) -> str:
        if self.paths:
            return "no unix socket listening on %s" % self.paths[0]
        where = "port %s" % self.port
        if self.networks is not None:
            where = "%s %s" % (" or ".join(str(n.network_address) if n.prefixlen == n.max_prefixlen else str(n)
                                           for n in self.networks), where)
        kinds = sorted({"udp" if t.startswith("udp") else "tcp" for t in self.tables})
        return "no %s socket %s on %s" % ("/".join(kinds), "listening" if kinds == ["tcp"] else "bound", where)


def _networks(address: Union[AddressSpec, Iterable[AddressSpec]]) -> Tuple[Network, ...]:
    """The networks ``address=`` names: one address or network, or several (any of them)."""
    if isinstance(address, (str, ipaddress.IPv4Address, ipaddress.IPv6Address, ipaddress.IPv4Network,
                            ipaddress.IPv6Network)):
        return _as_networks(address, "address")
    try:
        given = list(address)
    except TypeError:
        return _as_networks(address, "address")  # type: ignore[arg-type]  # its TypeError says what is accepted
    if not given:
        raise ValueError("address= names no address; give one (or several), or leave it out for any")
    return tuple(n for one in given for n in _as_networks(one, "address"))


def _serves(rec: InetSocket, networks: Tuple[Network, ...]) -> bool:
    """Whether a connection (or datagram) to an address of ``networks`` reaches ``rec``:
    its own address is in them, or it is bound to the wildcard address of their family
    (an IPv6 wildcard also serves IPv4 unless it is IPV6_V6ONLY, Linux's default; the
    text tables do not say, and it is then taken to)."""
    ip = rec.local.ip
    if not ip.is_unspecified:
        return _in_network(ip, networks)
    if ip.version == 4:
        return any(n.version == 4 for n in networks)
    return any(n.version == 6 or rec.v6only is not True for n in networks)


# -- sources: each answers "is it there now?" with a record (not yet complete) or None --


class _Channel:
    """One NETLINK_SOCK_DIAG socket, kept open for the whole wait (opened on first use,
    reopened after an error so that no stale reply is read as the next one's)."""

    def __init__(self) -> None:
        from . import _netlink

        self._netlink = _netlink
        self._sock: Optional[socket.socket] = None
        self._buf = bytearray(_netlink._BUFSIZE)
        self._view = memoryview(self._buf)

    def ask(self, request: bytes, decoder: Callable[[], "_DumpDecoder[Any]"]) -> List[Any]:
        """The records of one dump; ``decoder`` is called only when the reply is more than
        an empty ``NLMSG_DONE`` (while waiting, the usual case)."""
        if self._sock is None:
            self._sock = self._netlink._open()
            self._sock.settimeout(self._netlink.DEFAULT_TIMEOUT)
        try:
            return self._exchange(self._sock, request, decoder)
        except BaseException:
            self.close()
            raise

    def _exchange(self, sock: socket.socket, request: bytes,
                  decoder: Callable[[], "_DumpDecoder[Any]"]) -> List[Any]:
        from ._parse.netlink import NetlinkError

        try:
            sock.sendto(request, (0, 0))
            size = self._receive(sock)
            if _is_empty(self._buf, size):
                return []
            dump = decoder()
            out: List[Any] = []
            while True:
                out.extend(dump.feed(bytes(self._view[:size])))
                if dump.done:
                    return out
                size = self._receive(sock)
        except socket.timeout as exc:
            raise NetlinkError(0, "sock_diag: no reply within %s s" % self._netlink.DEFAULT_TIMEOUT) from exc
        except NetlinkError:
            raise
        except OSError as exc:
            raise NetlinkError(exc.errno or 0, "sock_diag: %s" % exc) from exc

    def _receive(self, sock: socket.socket) -> int:
        from ._parse.netlink import NetlinkError

        # MSG_TRUNC: the datagram's real length, so that one too large is an error, not a loss
        size = sock.recv_into(self._buf, len(self._buf), socket.MSG_TRUNC)
        if size > len(self._buf) or size == 0:
            raise NetlinkError(0, "sock_diag: a %d-byte datagram (buffer %d)" % (size, len(self._buf)))
        return size

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


#: An empty dump's whole reply: a 16-byte nlmsghdr of NLMSG_DONE and its int, 0.
_EMPTY_LEN = 20
_DONE = struct.Struct("=IHH8xi")  # nlmsg_len, nlmsg_type, nlmsg_flags, (seq, pid), error


def _is_empty(data: bytearray, size: int) -> bool:
    """Whether a reply is the whole of an empty dump (read without a decoder)."""
    from ._parse.netlink import NLMSG_DONE

    if size != _EMPTY_LEN:
        return False
    length, kind, _, error = _DONE.unpack_from(data)
    return bool(length == _EMPTY_LEN and kind == NLMSG_DONE and error == 0)


class _DiagSource:
    """One inet table (by a port-filtered dump) or the unix listeners (their names), asked
    over a shared :class:`_Channel`."""

    def __init__(self, table: str, target: _Target, channel: _Channel) -> None:
        from ._parse import netlink

        self.table = table
        self._channel = channel
        self._target = target
        states = [int(_STATE[table])]
        if table == "unix":
            self._request = netlink.unix_request(states, show=netlink.UDIAG_SHOW_NAME)
            self._decoder: Callable[[], Any] = lambda: netlink.UnixDumpDecoder(states=states)
            return
        from ._parse.diag_filter import PortRange, port_filter, with_bytecode
        from ._parse._common import INET_TABLES

        proto, family = INET_TABLES[table]
        port = target.port or 0
        request = netlink.inet_request(proto, int(family), states, tcp_info=False)
        self._request = with_bytecode(request, port_filter([PortRange("local", port, port)]))
        self._decoder = lambda: netlink.InetDumpDecoder(proto, states=states, source="sock_diag %s" % table)

    def poll(self) -> Optional[Socket]:
        for rec in self._channel.ask(self._request, self._decoder):
            if self._target.matches(rec):
                return rec  # type: ignore[no-any-return]
        return None


class _TextSource:
    """One table read as text (the whole table at each poll)."""

    def __init__(self, table: str, target: _Target, root: Any) -> None:
        self.table = table
        self._target = target
        self._query: Query[Any] = Query(  # type: ignore[call-overload]
            _ONE_TABLE[table], state=_STATE[table], owners=False, backend="proc", root=root,
            local_port=target.port)

    def poll(self) -> Optional[Socket]:
        for rec in self._query.run():
            if self._target.matches(rec):
                return rec  # type: ignore[no-any-return]
        return None


_Source = Union[_DiagSource, _TextSource]


class _Waiter:
    """The plan (which source per table) and the loop that polls it."""

    def __init__(self, target: _Target, root: Any, backend: str, owners: bool, details: bool) -> None:
        if backend not in ("auto", "proc", "netlink"):
            raise ValueError("backend= takes 'auto', 'proc' or 'netlink', not %r" % (backend,))
        self.target = target
        self.root = root
        self.fs = ProcFS(root)
        self.owners = owners
        self.details = details
        self.backend = backend
        self.channel = _Channel()
        self.sources: List[_Source] = [self._source(t) for t in target.tables]

    def _source(self, table: str) -> _Source:
        if self._use_netlink():
            return _DiagSource(table, self.target, self.channel)
        return _TextSource(table, self.target, self.root)

    def _use_netlink(self) -> bool:
        if self.backend == "proc":
            return False
        from ._query import _netlink_available

        live = self.fs.shares_callers_netns()  # as procnet.listening decides (Query._use_netlink)
        if self.backend == "netlink" and not (live and _netlink_available()):
            from ._parse.netlink import NetlinkUnavailable

            raise NetlinkUnavailable(0, "backend='netlink': sock_diag cannot answer for root=%r here; use 'auto' "
                                        "or 'proc'" % (self.fs.root,))
        return live and _netlink_available()

    def poll(self) -> Optional[Socket]:
        """One look at every table; the completed record of the first match, or None."""
        from ._parse.netlink import NetlinkUnavailable

        for i, source in enumerate(self.sources):
            try:
                rec = source.poll()
            except NetlinkUnavailable:
                if self.backend == "netlink":
                    raise
                # this kernel lacks the table's diag module (udplite_diag...): its text
                source = self.sources[i] = _TextSource(source.table, self.target, self.root)
                rec = source.poll()
            if rec is not None:
                done = self._complete(source.table, rec)
                if done is not None:
                    return done
        return None

    def _complete(self, table: str, rec: Socket) -> Optional[Socket]:
        """The socket as :func:`procnet.listening` gives it (owners, namespace, every
        field), by its inode; None when it closed in the meantime."""
        query: Query[Any] = Query(  # type: ignore[call-overload]
            _ONE_TABLE[table], state=_STATE[table], inode=rec.inode, owners=self.owners,
            details=self.details, root=self.root, backend=self.backend)
        for found in query.run():
            if self.target.matches(found):
                return found  # type: ignore[no-any-return]
        return None

    def wait(self, timeout: Optional[float], max_interval: float) -> Socket:
        clock = time.monotonic
        start = clock()
        deadline = None if timeout is None else start + timeout
        first = min(FIRST_INTERVAL, max_interval)
        try:
            while True:
                looked = clock()
                found = self.poll()
                if found is not None:
                    return found
                now = clock()
                if deadline is not None and now >= deadline:
                    raise TimeoutError("%s within %g s" % (self.target.describe(), timeout or 0.0))
                interval = min(max_interval, max(first, (now - start) * _FRACTION))
                # A look that takes long (the text tables of a big hash) is spaced so that
                # looking takes at most about a tenth of the time, whatever max_interval says.
                interval = max(interval, (now - looked) / _FRACTION)
                time.sleep(interval if deadline is None else min(interval, deadline - now))
        finally:
            self.channel.close()


def _seconds(value: Optional[float], what: str, allow_none: bool) -> Optional[float]:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("%s= takes seconds (an int or float%s), not %r"
                        % (what, ", or None" if allow_none else "", value))
    if not value >= 0 or value == float("inf") and not allow_none:
        raise ValueError("%s= takes a number of seconds from 0, not %r" % (what, value))
    return None if value == float("inf") else float(value)


@overload
def wait_listening(
    port: int, *, proto: Optional[InetProto] = None, address: Optional[AddressesSpec] = None, path: None = None,
    timeout: Optional[float] = None, root: PathSpec = DEFAULT_ROOT, owners: bool = True, details: bool = False,
    backend: Backend = "auto", max_interval: float = MAX_INTERVAL,
) -> InetSocket: ...
@overload
def wait_listening(
    port: None = None, *, path: PathSpec, proto: Optional[Literal["unix"]] = None, address: None = None,
    timeout: Optional[float] = None, root: PathSpec = DEFAULT_ROOT, owners: bool = True, details: bool = False,
    backend: Backend = "auto", max_interval: float = MAX_INTERVAL,
) -> UnixSocket: ...
def wait_listening(
    port: Optional[int] = None,
    *,
    proto: Optional[str] = None,
    address: Optional[AddressesSpec] = None,
    path: Optional[PathSpec] = None,
    timeout: Optional[float] = None,
    root: PathSpec = DEFAULT_ROOT,
    owners: bool = True,
    details: bool = False,
    backend: Backend = "auto",
    max_interval: float = MAX_INTERVAL,
) -> Any:
    """Wait until a socket accepts on ``port`` (or unix ``path``) and return it, never
    connecting to it.

    ``port`` with ``proto`` ``"tcp"`` (the default; ``"tcp4"``, ``"tcp6"``): a TCP
    socket in LISTEN; ``"udp"`` (``"udp4"``, ``"udp6"``, ``"udplite"``...): a datagram
    socket bound to the port and not connected; ``"inet"``: either. ``address``: an
    address or network (``"127.0.0.1"``, ``"::1"``, ``"10.0.0.0/8"``) that a client
    would connect to, or several (``("127.0.0.1", "::1")``: any of them): a socket
    bound to it, or to the wildcard address of its family (``0.0.0.0``; ``::`` also for
    IPv4 unless the socket is IPV6_V6ONLY), matches.
    ``path``: a unix stream or seqpacket socket listening on that file name (as the
    server bound it; a relative name also matches its absolute form from the current
    directory) or abstract name (``"@name"``).

    ``timeout``: seconds (None, the default: wait for ever); :class:`TimeoutError` once
    they pass (``timeout=0`` looks once). The sockets are looked at at once, then 1 ms
    later, the interval growing with the time waited (a tenth of it) up to
    ``max_interval`` seconds (default 0.05), or ten times as long as a look takes if
    that is longer: on the live machine a look is a sock_diag dump the kernel filters by
    state and port, an empty 20-byte answer while nothing listens. ``root``, ``backend``: as for :func:`procnet.listening` (the text
    tables under any other root, read whole at each look). The result is the socket as
    :func:`procnet.listening` returns it: ``owners`` (and with ``details``, their cmdline
    and uid) are looked for once, when it is found. When several sockets match (an IPv4
    and an IPv6 listener), the first of ss's table order is returned.

    >>> import procnet
    >>> s = procnet.wait_listening(8080, timeout=30)  # doctest: +SKIP
    >>> s.local.port, [o.pid for o in s.owners]  # doctest: +SKIP
    (8080, [4242])
    """
    for name, flag in (("owners", owners), ("details", details)):
        if flag is not True and flag is not False:
            raise TypeError("%s= takes True or False, not %r" % (name, flag))
    wait_for = _seconds(timeout, "timeout", True)
    bound = _seconds(max_interval, "max_interval", False)
    if bound is None or bound <= 0:
        raise ValueError("max_interval= takes a positive number of seconds, not %r" % (max_interval,))
    target = _Target(port, proto, address, path)
    return _Waiter(target, root, backend, owners, details).wait(wait_for, bound)


__all__ = ["wait_listening"]
