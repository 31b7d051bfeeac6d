"""Correct use of procnet, as a user's code writes it: must type-check cleanly under
``mypy --strict`` and pyright's strict mode (tests/test_typing.py)."""

from __future__ import annotations

import ipaddress
import pathlib
from typing import Iterator, List, Optional

import procnet
from procnet import InetSocket, Owner, ScanReport, SocketList, TcpState, UnixSocket


def listening_ports() -> List[int]:
    # inet protocols give InetSocket records: .local is there, typed
    return [s.local.port for s in procnet.listening("tcp")]


def unix_paths() -> List[Optional[str]]:
    return [s.path for s in procnet.sockets("unix")]


def default_connections() -> SocketList[InetSocket]:
    return procnet.connections()  # proto defaults to "inet"


def several_inet() -> SocketList[InetSocket]:
    return procnet.sockets(["tcp", "udp6"], state="listening")


def mixed() -> List[int]:
    out: List[int] = []
    for s in procnet.sockets("all"):
        if isinstance(s, InetSocket):
            out.append(s.remote.port)
        else:
            out.append(s.type)
    return out


def one_at_a_time() -> Iterator[InetSocket]:
    return procnet.iter_sockets("tcp6", owners=False)


def owners_of(port: int) -> List[Owner]:
    found = procnet.sockets(
        "tcp",
        state=["established", TcpState.LISTEN],
        local_port=port,
        local=ipaddress.ip_network("127.0.0.0/8"),
        remote="::1",
        pid=[1, 2],
        uid=0,
        netns="self",
        filter="sport = :22",
        details=True,
        threads=False,
        strict=False,
        root=pathlib.Path("/proc"),
        backend="proc",
        tcp_info=False,
        on_error=lambda error: print(error.path, error.lineno),
    )
    report: Optional[ScanReport] = found.report
    if report is not None and report.denied:
        return []
    return [o for s in found for o in s.owners]


def reused_query() -> SocketList[UnixSocket]:
    query = procnet.Query("unix", state="listen")
    return query.run()


def a_filter() -> procnet.Filter:
    return procnet.compile_filter("dport = :https")


def is_listener(s: InetSocket) -> bool:
    return s.state is TcpState.LISTEN


def is_listener_by_name(s: InetSocket) -> bool:
    return s.state.name == "LISTEN"  # psutil's spelling of the state


def names(s: InetSocket) -> str:
    return "%s %s %s" % (s.state, str(s.timer), s.is_listening)


def errors() -> str:
    try:
        procnet.sockets("tcp", pid=1, strict=True)
    except procnet.AccessDenied as exc:
        return "denied: %s" % exc.filename
    except procnet.NoSuchProcess as exc:
        return "gone: %s" % exc.filename
    except procnet.ProcNetError as exc:
        return str(exc)
    return ""


def options() -> SocketList[InetSocket]:
    filters: procnet.Filters = {"state": "listen", "owners": False}
    proto: procnet.Proto = "tcp"
    return procnet.sockets("tcp6", **filters) if proto == "tcp" else procnet.listening(proto="udp", **filters)
