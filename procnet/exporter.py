"""Prometheus metrics of the sockets procnet reads: what ``procnet exporter`` serves.

>>> import procnet.exporter
>>> text = procnet.exporter.exposition()                     # doctest: +SKIP
>>> text = procnet.exporter.exposition(netns="all", max_series=200, outbound_ports=[5432])  # doctest: +SKIP

:func:`exposition` returns the text format 0.0.4 (serve it with
:data:`CONTENT_TYPE`); :func:`collect` the metric families themselves (what the
``prometheus_client`` adapter, :mod:`procnet.prometheus`, maps). The metrics, their labels
and their kernel sources are described in the README ("Prometheus exporter") and in
:mod:`procnet._metrics`. Each call reads afresh: one query of every socket table with the
owners, the listeners' and UDP sockets' memory counters (their drop counts) from sock_diag
where it answers (the caller's own namespace on the live machine), the text tables
elsewhere (another namespace, ``root=/host/proc``, a capture), where limits and drops are
not known and their series are left out.
"""

from __future__ import annotations

import contextlib
import gc
import os
import time
from typing import Callable, Dict, Iterable, Iterator, List, Literal, Optional, Set, Tuple, Union

from . import __version__

from ._errors import ParseError
from ._metrics import CONTENT_TYPE, Family, Options, Snapshot, build, render
from ._proc import DEFAULT_ROOT, ProcFS
from ._query import Proto, Query
from ._records import InetSocket, Socket

NETNS_CHOICES = ("host", "all")
#: every table: TCP, UDP, UDP-Lite, raw and unix (``procnet_process_sockets`` counts them all)
ALL: Proto = "all"


def _options(max_series: int, outbound_ports: Iterable[int], udp_include_ephemeral: bool,
             unix_listeners: bool) -> Options:
    if not isinstance(max_series, int) or isinstance(max_series, bool) or max_series < 1:
        raise ValueError("max_series is a whole number of at least 1, not %r" % (max_series,))
    ports = tuple(sorted(set(outbound_ports)))
    for port in ports:
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            raise ValueError("outbound_ports are port numbers 1-65535, not %r" % (port,))
    return Options(max_series, ports, bool(udp_include_ephemeral), bool(unix_listeners))


def _read(root: str, netns: Optional[Literal["all"]], errors: List[str]) -> Tuple[List[Socket], Optional[bool], str]:
    """Every socket of the namespace(s) with owners; (records, owners_complete, backend)."""
    def on_error(exc: ParseError) -> None:
        errors.append(str(exc))

    query: Query[Socket] = Query(ALL, root=root, netns=netns, on_error=on_error)
    backend = "netlink" if query._use_netlink() else "proc"
    records = query.run()
    report = records.report
    return list(records), (report.complete if report is not None else None), backend


def _listen_memory(root: str) -> Dict[int, Tuple[int, ...]]:
    """The TCP listeners' memory counters (their drop counts) by inode, from sock_diag: one
    small dump of LISTEN sockets, so the connections need not carry them."""
    query: Query[InetSocket] = Query("tcp", root=root, state="listen", owners=False, skmem=True)
    return {rec.inode: rec.skmem for rec in query.run() if rec.skmem is not None}


def snapshot(root: Union[str, "os.PathLike[str]"] = DEFAULT_ROOT, netns: str = "host") -> Snapshot:
    """Read what one collection needs (:class:`procnet._metrics.Snapshot`)."""
    if netns not in NETNS_CHOICES:
        raise ValueError("netns is 'host' or 'all', not %r" % (netns,))
    start = time.monotonic()
    root = os.fspath(root)
    fs = ProcFS(root)
    errors: List[str] = []
    records, complete, backend = _read(root, None, errors)
    memory = _listen_memory(root) if backend == "netlink" else {}
    if netns == "all":
        own = {rec.netns for rec in records}
        # The other namespaces through <root>/<pid>/net (text tables: no limits, no drops).
        others, complete_all, _ = _read(root, "all", errors)
        records += [rec for rec in others if rec.netns not in own]
        complete = bool(complete) and bool(complete_all)
    namespaces: Set[Optional[int]] = {rec.netns for rec in records}
    own_link = fs.self_netns_link()
    if own_link is not None:
        from ._parse.process import ns_inode

        namespaces.add(ns_inode(own_link))
    return Snapshot(
        sockets=records,
        namespaces=tuple(sorted(namespaces, key=lambda n: -1 if n is None else n)),
        local_port_range=fs.local_port_range(),
        owners_complete=complete,
        errors=tuple(errors),
        backend=backend,
        version=__version__,
        duration=time.monotonic() - start,
        listen_memory=memory,
    )


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector off for one collection: it would walk every record
    again and again while tens of thousands are made (as ``procnet ss`` does); a
    collection makes no cycles that matter. Re-enabled after, if it was on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def collected(read: Callable[[], Snapshot], options: Options) -> Tuple[Snapshot, List[Family]]:
    """One collection: ``read()`` (a :func:`snapshot`) and the families built from it, the
    garbage collector paused throughout; what ``collect()``, ``procnet exporter`` and the
    prometheus_client adapter each do (the command also prints the snapshot's errors)."""
    with paused_gc():
        snap = read()
        return snap, build(snap, options)


def collect(
    *,
    root: Union[str, "os.PathLike[str]"] = DEFAULT_ROOT,
    netns: str = "host",
    max_series: int = 500,
    outbound_ports: Iterable[int] = (),
    udp_include_ephemeral: bool = False,
    unix_listeners: bool = False,
) -> List[Family]:
    """The metric families of one collection (see :mod:`procnet._metrics`)."""
    options = _options(max_series, outbound_ports, udp_include_ephemeral, unix_listeners)
    return collected(lambda: snapshot(root, netns), options)[1]


def exposition(
    *,
    root: Union[str, "os.PathLike[str]"] = DEFAULT_ROOT,
    netns: str = "host",
    max_series: int = 500,
    outbound_ports: Iterable[int] = (),
    udp_include_ephemeral: bool = False,
    unix_listeners: bool = False,
) -> str:
    """The text exposition (format 0.0.4) of one collection: what ``/metrics`` serves."""
    return render(collect(root=root, netns=netns, max_series=max_series, outbound_ports=outbound_ports,
                          udp_include_ephemeral=udp_include_ephemeral, unix_listeners=unix_listeners))


__all__ = ["CONTENT_TYPE", "NETNS_CHOICES", "collect", "exposition", "snapshot"]
