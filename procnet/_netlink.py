"""The sock_diag netlink source: asks the running kernel for its sockets.

The I/O half of :mod:`procnet._parse.netlink`: opens an ``AF_NETLINK`` socket
(``NETLINK_SOCK_DIAG``), sends one dump request, receives until ``NLMSG_DONE`` and hands
each datagram to the pure decoder. Netlink is a socket, not the file system, and answers
for the network namespace of the calling thread only: a capture, a fixture tree or another
namespace's ``/proc/<pid>/net`` is read as text.

When the kernel cannot answer for a family or protocol (a diag module missing, as raw_diag
often is, or netlink blocked in a sandbox) the functions raise
:class:`~procnet._parse.netlink.NetlinkUnavailable`, so that the caller reads that one
table as text instead.
"""

from __future__ import annotations

import os
import socket
from typing import Iterable, Iterator, List, Optional, Tuple, TypeVar

from ._parse.netlink import (
    NETLINK_SOCK_DIAG,
    InetDumpDecoder,
    NetlinkError,
    NetlinkUnavailable,
    UnixDumpDecoder,
    _DumpDecoder,
    inet_request,
    unix_request,
)
from ._records import InetSocket, TcpState, UnixSocket

#: Receive buffer: the kernel's dump datagrams are at most 32 KiB; twice that leaves room.
_BUFSIZE = 1 << 16
#: Seconds to wait for the next datagram before giving up (a dump never pauses this long).
DEFAULT_TIMEOUT = 10.0

_R = TypeVar("_R")


def _ticks_per_second() -> int:
    try:
        value = os.sysconf("SC_CLK_TCK")
    except (AttributeError, ValueError, OSError):
        return 100
    return value if value > 0 else 100


def _open() -> socket.socket:
    try:
        return socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG)
    except (AttributeError, OSError) as exc:  # no AF_NETLINK (not Linux), or refused
        err = getattr(exc, "errno", None) or 0
        raise NetlinkUnavailable(err, "cannot open a NETLINK_SOCK_DIAG socket: %s" % (exc,)) from exc


def _dump(request: bytes, decoder: _DumpDecoder[_R], timeout: Optional[float]) -> Iterator[_R]:
    for batch in _batches(request, decoder, timeout):
        yield from batch


def _collect(request: bytes, decoder: _DumpDecoder[_R], timeout: Optional[float]) -> List[_R]:
    out: List[_R] = []
    for batch in _batches(request, decoder, timeout):
        out.extend(batch)
    return out


def _batches(request: bytes, decoder: _DumpDecoder[_R], timeout: Optional[float]) -> Iterator[List[_R]]:
    """The records of each datagram of the reply to ``request``, a list per datagram."""
    sock = _open()
    try:
        sock.settimeout(timeout)
        try:
            sock.sendto(request, (0, 0))
        except OSError as exc:
            raise NetlinkError(
                exc.errno or 0, "%s: sending the request failed: %s" % (decoder.source, exc)
            ) from exc
        buf = bytearray(_BUFSIZE)
        view = memoryview(buf)
        while not decoder.done:
            try:
                # MSG_TRUNC makes netlink return the datagram's real length, so that a
                # datagram larger than the buffer is an error rather than silent loss.
                size = sock.recv_into(buf, _BUFSIZE, socket.MSG_TRUNC)
            except socket.timeout as exc:
                raise NetlinkError(0, "%s: no reply within %s s" % (decoder.source, timeout)) from exc
            except OSError as exc:
                raise NetlinkError(
                    exc.errno or 0, "%s: receiving failed: %s" % (decoder.source, exc)
                ) from exc
            if size > _BUFSIZE:
                raise NetlinkError(
                    0, "%s: a %d-byte datagram does not fit the buffer" % (decoder.source, size)
                )
            if size == 0:
                raise NetlinkError(0, "%s: the kernel closed the dump without NLMSG_DONE" % decoder.source)
            yield decoder.feed(bytes(view[:size]))
    finally:
        sock.close()


def iter_inet(
    proto: str,
    family: int,
    states: Optional[Iterable[int]] = None,
    *,
    tcp_info: bool = True,
    skmem: bool = False,
    timeout: Optional[float] = DEFAULT_TIMEOUT,
) -> Iterator[InetSocket]:
    """The sockets of one inet table, from the kernel, one record at a time.

    ``proto`` is ``"tcp"``, ``"udp"``, ``"udplite"`` or ``"raw"``; ``family``
    ``socket.AF_INET`` or ``AF_INET6``; ``states`` the :class:`~procnet.TcpState` values
    wanted (the kernel sends only those; default: every state the text shows). ``tcp_info``
    false skips ``struct tcp_info`` (cheaper; ``rto``, ``cwnd``... stay ``None``, and a TCP
    socket's ``retransmits`` / ``probes`` are known only while the timer that counts them
    runs); with ``skmem`` true it still asks TCP for the memory counters (``skmem``, whose
    last is the socket's drop count). Raises :class:`NetlinkUnavailable` when this kernel cannot answer for the protocol.

    >>> listeners = list(iter_inet("tcp", socket.AF_INET, [TcpState.LISTEN]))  # doctest: +SKIP
    """
    return _dump(*_inet_query(proto, family, states, tcp_info, skmem), timeout)


def _inet_query(
    proto: str, family: int, states: Optional[Iterable[int]], tcp_info: bool, skmem: bool = False
) -> Tuple[bytes, InetDumpDecoder]:
    states = None if states is None else list(states)
    request = inet_request(proto, family, states, tcp_info=tcp_info, skmem=skmem)
    decoder = InetDumpDecoder(
        proto,
        ticks_per_second=_ticks_per_second(),
        states=states,
        source="sock_diag %s%s" % (proto, "6" if family == socket.AF_INET6 else ""),
    )
    return request, decoder


def dump_inet(
    proto: str,
    family: int,
    states: Optional[Iterable[int]] = None,
    *,
    tcp_info: bool = True,
    skmem: bool = False,
    timeout: Optional[float] = DEFAULT_TIMEOUT,
) -> List[InetSocket]:
    """The sockets of one inet table, from the kernel, as a list (see :func:`iter_inet`).

    >>> [s.local.port for s in dump_inet("tcp", socket.AF_INET, [TcpState.LISTEN])]  # doctest: +SKIP
    [22, 631]
    """
    return _collect(*_inet_query(proto, family, states, tcp_info, skmem), timeout)


def iter_unix(
    states: Optional[Iterable[int]] = None,
    *,
    timeout: Optional[float] = DEFAULT_TIMEOUT,
) -> Iterator[UnixSocket]:
    """The unix sockets, from the kernel, one record at a time.

    ``states`` are the states ss shows (LISTEN, ESTABLISHED, CLOSE); default all.
    Raises :class:`NetlinkUnavailable` when this kernel has no unix_diag.
    """
    states = None if states is None else list(states)
    return _dump(unix_request(states), UnixDumpDecoder(states=states), timeout)


def dump_unix(
    states: Optional[Iterable[int]] = None,
    *,
    timeout: Optional[float] = DEFAULT_TIMEOUT,
) -> List[UnixSocket]:
    """The unix sockets, from the kernel, as a list (see :func:`iter_unix`).

    >>> [s.path for s in dump_unix([TcpState.LISTEN])]  # doctest: +SKIP
    ['/run/dbus/system_bus_socket', '@/tmp/.X11-unix/X0']
    """
    states = None if states is None else list(states)
    return _collect(unix_request(states), UnixDumpDecoder(states=states), timeout)


def available(timeout: Optional[float] = DEFAULT_TIMEOUT) -> bool:
    """True when this process can ask the kernel for its sockets over sock_diag.

    Probes with a dump of the (usually few) listening unix sockets.
    """
    try:
        for _ in iter_unix([TcpState.LISTEN], timeout=timeout):
            pass
    except NetlinkError:
        return False
    return True


__all__ = [
    "DEFAULT_TIMEOUT",
    "NetlinkError",
    "NetlinkUnavailable",
    "available",
    "dump_inet",
    "dump_unix",
    "iter_inet",
    "iter_unix",
]
