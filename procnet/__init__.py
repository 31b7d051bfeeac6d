"""procnet: which sockets exist on this Linux machine, and who owns them.

Pure Python, standard library only. Reads the kernel's tables under a proc root
(``/proc/net/{tcp,tcp6,udp,udp6,udplite,udplite6,raw,raw6,unix}``) and the descriptor
links of processes; on the live machine the kernel's sock_diag netlink interface can
answer instead of the text tables.

>>> import procnet
>>> for s in procnet.listening(proto="tcp"):  # doctest: +SKIP
...     print(s.local, [(o.comm, o.pid, o.fd) for o in s.owners])

The names below load their module on first use, so that ``import procnet`` costs almost
nothing and a call imports only what it needs.
"""

from __future__ import annotations

from ._lazy import lazy_names

# Not typing.TYPE_CHECKING: importing typing alone costs more than the rest of
# ``import procnet`` (type checkers treat this name as true).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List

__version__ = "0.1.0"

# public name -> the private module that defines it
_LAZY: Dict[str, str] = {
    "CaptureError": "_capture",
    "Filter": "_filter",
    "FilterError": "_filter",
    "compile_filter": "_filter",
    "port_range": "_services",
    "service_name": "_services",
    "service_port": "_services",
    "capture": "_capture",
    "AccessDenied": "_errors",
    "NoSuchProcess": "_errors",
    "ParseError": "_errors",
    "ProcNetError": "_errors",
    "ProcRootError": "_errors",
    "UnsafeFile": "_errors",
    "to_jsonable": "_json",
    "ScanReport": "_owners",
    "INET_TABLES": "_parse._common",
    "format_inet": "_parse.inet",
    "parse_inet": "_parse.inet",
    "format_unix": "_parse.unix",
    "parse_unix": "_parse.unix",
    "NetlinkError": "_parse.netlink",
    "NetlinkUnavailable": "_parse.netlink",
    "ProcFS": "_proc",
    "Filters": "_query",
    "PROTOS": "_query",
    "Proto": "_query",
    "Query": "_query",
    "SocketIterator": "_query",
    "SocketList": "_query",
    "connections": "_query",
    "iter_sockets": "_query",
    "listening": "_query",
    "sockets": "_query",
    "Endpoint": "_records",
    "InetSocket": "_records",
    "Owner": "_records",
    "Process": "_records",
    "Socket": "_records",
    "SocketStatus": "_records",
    "TcpInfo": "_records",
    "TcpState": "_records",
    "Timer": "_records",
    "UnixFlag": "_records",
    "UnixSocket": "_records",
    "wait_listening": "_wait",
}

# A literal list, so that type checkers see what ``from procnet import X`` may take (a
# test checks that it is exactly the keys of _LAZY, plus __version__).
__all__ = [
    "AccessDenied",
    "CaptureError",
    "Endpoint",
    "Filter",
    "FilterError",
    "Filters",
    "INET_TABLES",
    "InetSocket",
    "NetlinkError",
    "NetlinkUnavailable",
    "NoSuchProcess",
    "Owner",
    "PROTOS",
    "ParseError",
    "ProcFS",
    "ProcNetError",
    "ProcRootError",
    "Process",
    "Proto",
    "Query",
    "ScanReport",
    "Socket",
    "SocketIterator",
    "SocketList",
    "SocketStatus",
    "TcpInfo",
    "TcpState",
    "Timer",
    "UnixFlag",
    "UnixSocket",
    "UnsafeFile",
    "capture",
    "compile_filter",
    "connections",
    "format_inet",
    "format_unix",
    "iter_sockets",
    "listening",
    "parse_inet",
    "parse_unix",
    "port_range",
    "service_name",
    "service_port",
    "sockets",
    "to_jsonable",
    "wait_listening",
    "__version__",
]

if TYPE_CHECKING:
    from ._capture import CaptureError, capture
    from ._errors import AccessDenied, NoSuchProcess, ParseError, ProcNetError, ProcRootError, UnsafeFile
    from ._filter import Filter, FilterError, compile_filter
    from ._services import port_range, service_name, service_port
    from ._json import to_jsonable
    from ._owners import ScanReport
    from ._parse._common import INET_TABLES
    from ._parse.inet import format_inet, parse_inet
    from ._parse.netlink import NetlinkError, NetlinkUnavailable
    from ._parse.unix import format_unix, parse_unix
    from ._proc import ProcFS
    from ._query import (
        PROTOS,
        Filters,
        Proto,
        Query,
        SocketIterator,
        SocketList,
        connections,
        iter_sockets,
        listening,
        sockets,
    )
    from ._records import (
        Endpoint,
        InetSocket,
        Owner,
        Process,
        Socket,
        SocketStatus,
        TcpInfo,
        TcpState,
        Timer,
        UnixFlag,
        UnixSocket,
    )
    from ._wait import wait_listening


if not TYPE_CHECKING:
    # Hidden from type checkers: a module __getattr__ would make every misspelt name
    # (``procnet.sokets``) an Any for them instead of an error.
    __getattr__ = lazy_names(globals(), __name__, _LAZY)


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(_LAZY))
