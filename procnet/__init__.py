"""procnet: which sockets exist on this Linux machine, and who owns them.

Pure Python, standard library only. Reads the kernel's tables under a proc root
(``/proc/net/{tcp,tcp6,udp,udp6,udplite,udplite6,raw,raw6,unix}``) and the descriptor
links of processes.

>>> import procnet
>>> for s in procnet.listening(proto="tcp"):  # doctest: +SKIP
...     print(s.local, [(o.comm, o.pid, o.fd) for o in s.owners])
"""

from ._capture import CaptureError, capture
from ._errors import ParseError, ProcNetError, ProcRootError
from ._owners import ScanReport
from ._parse import INET_TABLES, format_inet, format_unix, parse_inet, parse_unix
from ._proc import ProcFS
from ._query import (
    PROTOS,
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
from ._json import to_jsonable

__version__ = "0.1.0"

__all__ = [
    "CaptureError",
    "INET_TABLES",
    "PROTOS",
    "Endpoint",
    "InetSocket",
    "Owner",
    "ParseError",
    "ProcFS",
    "ProcNetError",
    "ProcRootError",
    "Process",
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
    "__version__",
    "capture",
    "connections",
    "format_inet",
    "format_unix",
    "iter_sockets",
    "listening",
    "parse_inet",
    "parse_unix",
    "sockets",
    "to_jsonable",
]
