"""Mistakes a user's checker must report: every line marked ``# error`` must be reported
(and nothing else) by ``mypy --strict`` and pyright (tests/test_typing.py)."""

from __future__ import annotations

import procnet
from procnet import NoSuchName  # error
from procnet import TcpState, UnixSocket

procnet.sockets("tcp", stat="listen")  # error
procnet.sockets("tcp", port="443")  # error
procnet.sockets("tcp", backend="nl")  # error
procnet.sockets("tpc")  # error
procnet.sockets(6)  # error
procnet.sockets(b"tcp")  # error
procnet.listening("tcp", owners="no")  # error
procnet.connections("tcp", details="yes")  # error
procnet.sockets("tcp", tcp_info=1)  # error
procnet.sockets("tcp", on_error=5)  # error
procnet.iter_sockets("udp", netns="other")  # error
procnet.Query("tcp", local_port="22")  # error

for u in procnet.sockets("unix"):
    print(u.local)  # error

for s in procnet.listening("tcp"):
    s.inode = 3  # error
    print(s.path)  # error

unix: procnet.SocketList[UnixSocket] = procnet.sockets("tcp")  # error
listening = TcpState.LISTEN == "LISTEN"  # error
