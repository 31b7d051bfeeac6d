"""``procnet ss``'s rows: a record in, the nine cells ss prints for it out (:class:`Row`).

:class:`Renderer` turns an :class:`~procnet.InetSocket` or :class:`~procnet.UnixSocket`
into a :class:`Row`, every cell as ss writes it (iproute2 ``misc/ss.c``:
``sock_state_print``, ``inet_addr_print``, ``proc_ctx_print``, ``tcp_timer_print``,
``sock_details_print``, ``tcp_show_info``, ``print_skmeminfo``), escaped
(:func:`procnet.cli.render.escape_text`). It reads only the fields the cells need, and
makes the texts that repeat across rows once (hosts, ports, queue lengths, states,
process names). The layout of the rows (widths, padding) is
:class:`procnet.cli.render.SsTable`'s.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import (TYPE_CHECKING, Callable, Dict, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Tuple,
                    Union)

from .._records import InetSocket, UnixSocket
from .._vocab import SS_IP_PROTOCOL_NAME, ss_state, ss_timer, ss_unix_netid
from .render import HostResolver, escape_quoted, escape_text, port_text

if TYPE_CHECKING:
    from .._records import IPAddress, Owner, Socket, TcpState
    from ._ss_select import Options


class Row(NamedTuple):
    """One socket's line of ss's table: a cell per column, as printed (escaped)."""

    netid: str
    state: str
    recv_q: str
    send_q: str
    #: the local address with its ``:`` (inet) or a path and a space (unix)
    local: str
    local_port: str
    peer: str
    peer_port: str
    #: ss's "Process" column: ``users:(...)``, the timer, -e details, -i/-m text
    process: str


#: The header line of ss's table.
HEADER = Row("Netid", "State", "Recv-Q", "Send-Q", "Local Address:", "Port", "Peer Address:", "Port",
             "Process")

_new_row = tuple.__new__  # Row(...) without NamedTuple's Python-level __new__: the hot path

#: ss's unix_netid_name: u_str, u_seq, and u_dgr for anything else.
unix_netid = ss_unix_netid


def ms_timer(ms: int) -> str:
    """ss's print_ms_timer: ``1.200ms``... as ss writes a timeout in milliseconds."""
    secs, msecs = divmod(max(ms, 0), 1000)
    minutes, secs = divmod(secs, 60)
    out = ""
    if minutes:
        msecs = 0
        out = "%dmin" % minutes
        if minutes > 9:
            secs = 0
    if secs:
        if secs > 9:
            msecs = 0
        out += "%d%s" % (secs, "." if msecs else "sec")
    if msecs:
        out += "%03dms" % msecs
    return out


def users_text(owners: Sequence["Owner"]) -> str:
    """``users:(("name",pid=N,fd=M),...)`` in ss's order (its hash chain: last scanned first)."""
    if not owners:
        return ""
    ordered = sorted(owners, key=lambda w: (w.pid, w.fd), reverse=True)
    return " users:(%s)" % ",".join(
        '("%s",pid=%d,fd=%d)' % (escape_quoted(w.comm), w.pid, w.fd) for w in ordered
    )


def _n(value: Optional[int]) -> int:
    return value or 0


def _sk(pointer: str) -> str:
    """The text table's pointer as ss's /proc reader prints it: ``%llx`` of the hex it read."""
    try:
        return "%x" % int(pointer, 16)
    except ValueError:
        return escape_text(pointer)


def _shutdown_text(shutdown: Optional[int]) -> str:
    """ss -e's `` <->`` (sk_shutdown: ``-`` where a direction is shut)."""
    if shutdown is None:
        return ""
    return " %s-%s" % ("-" if shutdown & 1 else "<", "-" if shutdown & 2 else ">")


def _ip_proto_name(number: int) -> str:
    """ss's inet_proto_n2a for a raw socket's "port" (its protocol)."""
    return SS_IP_PROTOCOL_NAME.get(number, str(number))


# A host's cache entry: (the address, its text with ":", a specific IPv6 address, IPv6 "::").
_Host = Tuple["IPAddress", str, bool, bool]


class Renderer:
    """Turns records into ss's cells (:class:`Row`).

    Texts that repeat across rows are made once: a host per address object (the parser
    shares one object per distinct address), a port per (port, protocol), a queue
    length, a state name, a process name's escape.
    """

    def __init__(
        self, o: "Options", ephemeral: Tuple[int, int], hz: int, kernel_details: bool = False,
        cgroup_path: Optional[Callable[[int], str]] = None,
    ) -> None:
        self.numeric = o.numeric
        self.processes = o.processes
        self.timers = o.timers
        self.extended = o.extended
        self.info = o.info
        self.memory = o.memory
        self.oneline = o.oneline
        #: ``-i``/``-m`` output is printed: the records came from sock_diag, which has it
        self.kernel_details = kernel_details and o.kernel_details
        self.ephemeral = ephemeral
        self.hz = hz
        self.resolver = HostResolver() if o.resolve else None
        # id(ip) -> _Host. The entry holds the address, so its id cannot be reused while cached.
        self._hosts: Dict[int, _Host] = {}
        self._ports: Dict[str, Dict[int, str]] = {}
        self._queues: Dict[int, str] = {}
        self._states: Dict[int, Tuple["TcpState", str]] = {}
        self._comms: Dict[str, str] = {}
        self._extended = o.timers or o.extended
        #: -e's ``cgroup:`` text of a cgroup id (:class:`procnet.cli._ss_cgroup.CgroupPaths`)
        self.cgroup_path = cgroup_path

    # -- texts made once ----------------------------------------------------------------
    def host(self, ip: "IPAddress", v6only: bool = False) -> str:
        """An address as ss prints it: ``*`` for a dual-stack IPv6 wildcard, brackets
        around IPv6, a name with -r."""
        if ip.version == 6 and ip.is_unspecified and not v6only:
            return "*"
        text = None
        if self.resolver is not None and not ip.is_unspecified:
            text = self.resolver.name(ip)
        if text is None:
            from .._records import ip_text

            text = ip_text(ip)  # ::ffff:127.0.0.1, as ss prints it, on every Python
        text = escape_text(text)
        if ip.version == 6 and ":" in text:
            return "[%s]" % text
        return text

    def _host_entry(self, ip: "IPAddress") -> _Host:
        if len(self._hosts) >= 65536:  # addresses not shared by the parser: stay bounded
            self._hosts.clear()
        # Whether ss prints ``::`` as ``[::]`` (IPV6_V6ONLY set) is known for a socket bound
        # to a specific, non-mapped IPv6 address, as the kernel sets it at bind itself
        # (net/ipv6/af_inet6.c __inet6_bind); a wildcard socket's is known only to
        # sock_diag (``InetSocket.v6only``); from the text tables procnet prints ``*`` as for a
        # dual-stack socket.
        v6 = isinstance(ip, ipaddress.IPv6Address)
        specific = isinstance(ip, ipaddress.IPv6Address) and not ip.is_unspecified and ip.ipv4_mapped is None
        entry = (ip, self.host(ip) + ":", specific, v6 and ip.is_unspecified)
        self._hosts[id(ip)] = entry
        return entry

    def port(self, port: int, proto: str) -> str:
        """A port as ss prints it: ``*`` for 0, a service name unless -n or ephemeral, a
        raw socket's protocol name."""
        if port == 0:
            return "*"
        if proto == "raw":
            return str(port) if self.numeric else _ip_proto_name(port)
        return escape_text(port_text(port, proto, self.numeric, self.ephemeral))

    def _port(self, port: int, proto: str) -> str:
        text = self._ports.setdefault(proto, {})[port] = self.port(port, proto)
        return text

    def _queue(self, n: int) -> str:
        text = self._queues.get(n)
        if text is None:
            text = "%-6d" % n
            if len(self._queues) < 4096:  # bounded: queue lengths can be as many as rows
                self._queues[n] = text
        return text

    def _state_entry(self, state: "TcpState") -> Tuple["TcpState", str]:
        entry = self._states[id(state)] = (state, ss_state(int(state)))
        return entry

    def _state(self, state: "TcpState") -> str:
        return (self._states.get(id(state)) or self._state_entry(state))[1]

    def _users(self, owners: Sequence["Owner"]) -> str:
        """:func:`users_text`, with each process name escaped once."""
        if len(owners) != 1:
            return users_text(owners)
        w = owners[0]
        comm = self._comms.get(w.comm)
        if comm is None:
            comm = self._comms[w.comm] = escape_quoted(w.comm)
        return ' users:(("%s",pid=%d,fd=%d))' % (comm, w.pid, w.fd)

    # -- rows ---------------------------------------------------------------------------
    def row(self, rec: "Socket") -> Row:
        """The nine cells of ``rec`` as ss prints them."""
        if isinstance(rec, UnixSocket):
            return self._unix_row(rec)
        return self.inet_row(rec)

    def rows(self, records: Iterable["Socket"]) -> Iterator[Row]:
        """:meth:`row` of each record, in turn."""
        inet_row, unix_row = self.inet_row, self._unix_row
        for rec in records:
            yield unix_row(rec) if isinstance(rec, UnixSocket) else inet_row(rec)

    def inet_row(self, rec: InetSocket) -> Row:
        """:meth:`row` of an inet socket: the hot path of a large table (cache lookups
        inline, the rest out of line)."""
        proto = rec.proto
        state = rec.state
        local, remote = rec.local, rec.remote
        lip, rip = local.ip, remote.ip
        hosts = self._hosts
        le = hosts.get(id(lip)) or self._host_entry(lip)
        pe = hosts.get(id(rip)) or self._host_entry(rip)
        if state == 10 or state == 7:  # LISTEN, unconnected
            local_addr, peer_addr, wq = self._unconnected(rec, le, pe)
        else:
            local_addr, peer_addr, wq = le[1], pe[1], rec.tx_queue
        ports = self._ports.get(proto) or self._ports.setdefault(proto, {})
        queues = self._queues
        lport, rport, rq = local.port, remote.port, rec.rx_queue
        owners = rec.owners
        ext = self._users(owners) if owners and self.processes else ""
        if self._extended:
            ext += self._inet_extended(rec)
        if self.kernel_details:
            ext += self._inet_details(rec)
        return _new_row(Row, (
            proto if proto != "udplite" else "udp",
            (self._states.get(id(state)) or self._state_entry(state))[1],
            queues.get(rq) or self._queue(rq),
            queues.get(wq) or self._queue(wq),
            local_addr,
            ports.get(lport) or self._port(lport, proto),
            peer_addr,
            ports.get(rport) or self._port(rport, proto),
            ext,
        ))

    def _unconnected(self, rec: InetSocket, le: _Host, pe: _Host) -> Tuple[str, str, int]:
        """The addresses and Send-Q of a listening or unconnected socket: a v6-only one's
        ``::`` is ``[::]`` (not ``*``), and a TCP listener's Send-Q is its backlog where
        sock_diag told it."""
        local_addr, peer_addr = le[1], pe[1]
        if le[2] or rec.v6only:
            if le[3]:
                local_addr = "[::]:"
            if pe[3]:
                peer_addr = "[::]:"
        backlog = rec.listen_backlog if rec.state == 10 else None
        return local_addr, peer_addr, backlog if backlog is not None else rec.tx_queue

    def _inet_extended(self, rec: InetSocket) -> str:
        """The ``-o`` timer and the ``-e`` details of an inet socket, each with its leading space."""
        ext = ""
        if self.timers and rec.timer != 0:
            timer = int(rec.timer)
            # ss prints idiag_retrans: icsk_retransmits with timer 1, else icsk_probes_out
            # (a source has the one its timer shows: see InetSocket.retransmits).
            retrans = rec.retransmits if timer == 1 else rec.probes
            ms = (rec.timer_expires * 1000 + self.hz - 1) // self.hz
            ext += " timer:(%s,%s,%d)" % (ss_timer(timer), ms_timer(ms), retrans or 0)
        if not self.extended:
            return ext
        if rec.uid:
            ext += " uid:%d" % rec.uid
        ext += " ino:%d" % rec.inode
        if rec.cookie is not None:
            ext += " sk:%x" % rec.cookie  # ss: sk:%llx of idiag_cookie
        elif rec.pointer is not None:
            ext += " sk:%s" % _sk(rec.pointer)
        # ss's sock_details_print ends with the cgroup (when the id is not 0), then
        # inet_show_sock adds IPV6_V6ONLY (sent for AF_INET6 sockets in LISTEN or CLOSE)
        if rec.cgroup_id and self.cgroup_path is not None:
            ext += " cgroup:" + self.cgroup_path(rec.cgroup_id)
        if rec.v6only is not None and rec.family == socket.AF_INET6:
            ext += " v6only:%d" % rec.v6only
        return ext + _shutdown_text(rec.shutdown)

    def _inet_details(self, rec: InetSocket) -> str:
        """``-m`` and ``-i``, as ss's inet_show_sock and tcp_show_info print them: on a
        line of their own (a TAB first), or on the socket's line with ``-O``."""
        proto = rec.proto
        if not (self.memory or (self.info and proto not in ("udp", "udplite"))):
            return ""
        from ._ss_info import skmem_text, tcp_info_text  # only for -i and -m

        out = "" if self.oneline else "\n\t"
        if self.memory and rec.skmem is not None:
            out += skmem_text(rec.skmem)
        if self.info and proto == "tcp" and rec.tcp_info is not None:
            out += tcp_info_text(rec.tcp_info, rec.state == 10, self.timers, self.numeric)
        return out

    def _unix_row(self, rec: UnixSocket) -> Row:
        local_addr = (escape_text(rec.path) if rec.path is not None else "*") + " "
        ext = self._users(rec.owners) if self.processes and rec.owners else ""
        if self.extended:
            ext += _shutdown_text(rec.shutdown)
            if rec.vfs_inode is not None and rec.vfs_dev is not None:
                ext += " ino:%d dev:%d/%d" % (rec.vfs_inode, os.major(rec.vfs_dev), os.minor(rec.vfs_dev))
            if rec.pending_inodes:
                ext += " peers:" + "".join(" %d" % i for i in rec.pending_inodes)
        if self.kernel_details and self.memory and rec.skmem is not None:
            from ._ss_info import skmem_text

            ext += skmem_text(rec.skmem)  # ss: on the socket's line, for unix sockets
        return Row(unix_netid(rec.type), self._state(rec.state), self._queue(_n(rec.rqueue)),
                   self._queue(_n(rec.wqueue)), local_addr, str(rec.inode), "* ",
                   str(_n(rec.peer_inode)), ext)

    def cells(self, rec: "Socket") -> Dict[str, Union[str, int]]:
        """The columns of ``rec`` by name, as ``--json`` prints them under ``"ss"``. The
        ``-i``/``-m`` text is not in them: the record's ``tcp_info`` and ``skmem`` fields
        carry it."""
        details, self.kernel_details = self.kernel_details, False
        try:
            row = self.row(rec)
        finally:
            self.kernel_details = details
        return {
            "netid": row.netid,
            "state": row.state,
            "recv_q": int(row.recv_q),
            "send_q": int(row.send_q),
            "local_address": row.local[:-1],
            "local_port": row.local_port,
            "peer_address": row.peer[:-1],
            "peer_port": row.peer_port,
            "process": row.process.lstrip(" "),
        }


_TABLE_ORDER = {"unix": 0, "raw": 1, "udp": 2, "udplite": 2, "tcp": 3}
# The sort key of an inet row, by protocol: (IPv4, IPv6). Made once, shared by every row.
_INET_KEYS = {proto: (t << 128, t << 128 | 1 << 64) for proto, t in _TABLE_ORDER.items()}
_OTHER_KEYS = (4 << 128, 4 << 128 | 1 << 64)


def order(rec: "Socket") -> int:
    """ss's order: unix (by type, inode), raw, udp, tcp; IPv4 before IPv6; tables' order within.

    One int, ``table << 128 | (type or IPv6) << 64 | inode``; the keys of inet rows are
    made once, where a tuple key would cost an object per row.
    """
    if isinstance(rec, UnixSocket):
        key: int = int(rec.type) << 64 | rec.inode
        return key
    return _INET_KEYS.get(rec.proto, _OTHER_KEYS)[0 if rec.family == 2 else 1]  # 2: AF_INET


__all__: List[str] = [
    "HEADER",
    "Renderer",
    "Row",
    "ms_timer",
    "order",
    "unix_netid",
    "users_text",
]
