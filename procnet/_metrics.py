"""The exporter's metric model: socket records in, metric families out, text format 0.0.4.

No I/O: :func:`build` takes the records one collection read (inet and unix, owners
attached) and returns :class:`Family` objects; :func:`render` writes them as Prometheus'
text exposition format 0.0.4. :mod:`procnet.exporter` does the reading, the command line
(``procnet exporter``) the serving, :mod:`procnet.prometheus` maps the same families to
``prometheus_client``. The names, labels and values are the contract of EXPORTER.md:

* a listener's identity is ``netns, family, address, port`` (plus ``comm``, the sorted
  unique owner names, at most three then ``,+N``); an SO_REUSEPORT group is one identity:
  ``..._listen_sockets`` counts its members, ``..._queue``/``..._queue_limit`` come from
  the member closest to full, ``..._listen_drops_total`` is the sum;
* a limit or a drop count that the source does not know (the text tables know neither)
  gives no series at all, never a 0;
* no label names a peer: no remote address, ephemeral port, pid, fd or inode. Inbound
  connections are counted by the port of the listener that serves them, outbound ones
  (opt-in) by the remote port asked for;
* each family holds at most ``max_series`` series: past that, the highest values are kept
  and the rest summed into one row whose every label reads ``other``
  (``procnet_series_dropped{metric}`` says how many rows were folded). The four
  ``procnet_tcp_listen_*`` families fold the same listeners, ranked by queue, drops, port.
"""

from __future__ import annotations

import math
import os
import socket
from collections import Counter
from typing import Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Set, Tuple

from ._parse.netlink import peek_inet
from ._records import InetSocket, Owner, Socket, TcpState, UnixSocket
from ._vocab import NODE_EXPORTER_STATE

#: the label values of one series, in the order of its family's ``labels``
Key = Tuple[str, ...]

OTHER = "other"
#: IPPROTO numbers are not needed: the records say "tcp", "udp", "udplite", "raw"
_UDP = ("udp", "udplite")
_STREAM_TYPES = (1, 5)  # SOCK_STREAM, SOCK_SEQPACKET
_LISTEN = TcpState.LISTEN
_CLOSE = TcpState.CLOSE
_MAX_COMMS = 3


class Options(NamedTuple):
    """What a collection reports, besides the defaults (EXPORTER.md §2)."""

    max_series: int = 500
    outbound_ports: Tuple[int, ...] = ()
    udp_include_ephemeral: bool = False
    unix_listeners: bool = False


class Snapshot(NamedTuple):
    """What one collection read: the records and how the reading went."""

    sockets: Sequence[Socket]
    #: the namespaces read (their inodes; None when not known)
    namespaces: Tuple[Optional[int], ...]
    #: ``net.ipv4.ip_local_port_range`` of the reader
    local_port_range: Tuple[int, int] = (32768, 60999)
    #: ``owners_complete`` of the owner scan (None: no scan)
    owners_complete: Optional[bool] = None
    #: what failed, one line each (a table, a namespace, netlink)
    errors: Tuple[str, ...] = ()
    #: "netlink" or "proc": what answered for the reader's own namespace
    backend: str = "proc"
    version: str = ""
    duration: float = 0.0
    #: TCP listeners' memory counters (``skmem``) by inode, from a listeners-only dump:
    #: the connections are read without them (their drops are not reported)
    listen_memory: Mapping[int, Tuple[int, ...]] = {}


class Family:
    """One metric family: its name, type, help, label names and rows (label values -> value)."""

    __slots__ = ("name", "type", "help", "labels", "rows")

    def __init__(self, name: str, type: str, help: str, labels: Tuple[str, ...]) -> None:
        self.name = name
        self.type = type
        self.help = help
        self.labels = labels
        self.rows: Dict[Key, float] = {}

    def add(self, key: Key, value: float) -> None:
        self.rows[key] = self.rows.get(key, 0) + value

    def samples(self) -> List[Tuple[Dict[str, str], float]]:
        """(labels, value) of each row, in the order rendered."""
        return [(dict(zip(self.labels, key)), value) for key, value in sorted(self.rows.items())]

    def __repr__(self) -> str:
        return "Family(%r, %d rows)" % (self.name, len(self.rows))


# --- label values ------------------------------------------------------------------------


#: control characters (but the line feed, which the format escapes itself) -> ``\\xNN``
_CONTROLS = {c: "\\x%02x" % c for c in list(range(0x0A)) + list(range(0x0B, 0x20)) + list(range(0x7F, 0xA0))}


def label_text(text: str) -> str:
    """A string from another process as a label value: bytes that are not UTF-8 (kept by
    surrogate escapes) written ``\\xNN``, as procnet's JSON does; control characters too
    (an escape sequence must not reach the terminal of whoever reads ``/metrics``). The
    line feed, quote and backslash are left to the exposition's own escapes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = os.fsencode(text).decode("utf-8", "backslashreplace")
    return text.translate(_CONTROLS)


def comm_label(owners: Iterable[Owner]) -> str:
    """The sorted unique owner names, at most three, then ``,+N``; ``""`` for none."""
    names = sorted({label_text(o.comm) for o in owners})
    if len(names) > _MAX_COMMS:
        return ",".join(names[:_MAX_COMMS]) + ",+%d" % (len(names) - _MAX_COMMS)
    return ",".join(names)


def _netns(rec: Socket) -> str:
    return "" if rec.netns is None else str(rec.netns)


def _address(rec: InetSocket) -> str:
    """As ss writes it, without brackets: IPv6 compressed, IPv4-mapped as ``::ffff:a.b.c.d``
    on every Python (before 3.13 ``str()`` gives ``::ffff:7f00:1``)."""
    ip = rec.local.ip
    mapped = getattr(ip, "ipv4_mapped", None)
    return str(ip) if mapped is None else "::ffff:%s" % mapped


def _family(rec: InetSocket) -> str:
    return "ipv6" if rec.local.ip.version == 6 else "ipv4"


def state_label(state: TcpState) -> str:
    """node_exporter's spelling of a TCP state (request sockets count as ``syn_recv``)."""
    return NODE_EXPORTER_STATE.get(int(state), "syn_recv")


# --- listeners ---------------------------------------------------------------------------


class _Listener:
    """One listener identity: every LISTEN socket with that netns, family, address, port."""

    __slots__ = ("netns", "family", "address", "port", "members", "owners", "memory")

    def __init__(self, rec: InetSocket, memory: Mapping[int, Tuple[int, ...]]) -> None:
        #: listeners' skmem by inode, where the records were read without it
        self.memory = memory
        self.netns = _netns(rec)
        self.family = _family(rec)
        self.address = _address(rec)
        self.port = rec.local.port
        self.members: List[InetSocket] = []
        self.owners: List[Owner] = []

    def add(self, rec: InetSocket) -> None:
        self.members.append(rec)
        self.owners.extend(rec.owners)

    def key(self) -> Key:
        return (self.netns, self.family, self.address, str(self.port), comm_label(self.owners))

    def fullest(self) -> InetSocket:
        """The member closest to full: the highest queue/limit (queue alone without a limit)."""
        def fill(rec: InetSocket) -> Tuple[float, int]:
            limit = rec.listen_backlog
            return (rec.rx_queue / limit if limit else math.inf if rec.rx_queue else 0.0), rec.rx_queue
        return max(self.members, key=fill)

    def drops(self) -> Optional[int]:
        """Σ sk_drops over the members; None when any member's is unknown."""
        total = 0
        for rec in self.members:
            skmem = rec.skmem if rec.skmem is not None else self.memory.get(rec.inode)
            if skmem is None or len(skmem) < 9:
                return None
            total += skmem[8]
        return total

    def rank(self) -> Tuple[int, int, int]:
        return (self.fullest().rx_queue, self.drops() or 0, self.port)


def listeners(tcp: Iterable[InetSocket], memory: Mapping[int, Tuple[int, ...]] = {}
              ) -> Dict[Tuple[str, str, str, int], _Listener]:
    """The LISTEN sockets grouped by identity (``memory``: their skmem by inode, where the
    records do not carry it)."""
    out: Dict[Tuple[str, str, str, int], _Listener] = {}
    for rec in tcp:
        if rec.state is _LISTEN:
            ident = (_netns(rec), _family(rec), _address(rec), rec.local.port)
            group = out.get(ident)
            if group is None:
                group = out[ident] = _Listener(rec, memory)
            group.add(rec)
    return out


_L = ("netns", "family", "address", "port", "comm")


def _listen_families(groups: Sequence[_Listener], max_series: int) -> Tuple[List[Family], Dict[str, int]]:
    """The four listener families, folding the same listeners in each; the rows each folded."""
    sockets = Family("procnet_tcp_listen_sockets", "gauge",
                     "TCP LISTEN sockets with this identity (an SO_REUSEPORT group counts each member).", _L)
    queue = Family("procnet_tcp_listen_queue", "gauge",
                   "Connections completed and waiting for accept() (the fullest member of the group).", _L)
    limit = Family("procnet_tcp_listen_queue_limit", "gauge",
                   "Accept-queue limit: the listen() backlog clamped to somaxconn; the kernel's full is "
                   "queue > limit. Absent when unknown (text tables).", _L)
    drops = Family("procnet_tcp_listen_drops_total", "counter",
                   "Packets the listener dropped (sk_drops), accept-queue overflows included. Absent when "
                   "unknown (text tables).", _L)
    families = [sockets, queue, limit, drops]
    folded = {f.name: 0 for f in families}
    ranked = sorted(groups, key=lambda g: (g.rank(), g.key()), reverse=True)
    keep = len(ranked) if len(ranked) <= max_series else max_series - 1
    other = (OTHER,) * len(_L)
    for i, group in enumerate(ranked):
        key = group.key() if i < keep else other
        top = group.fullest()
        values = (len(group.members), top.rx_queue, top.listen_backlog, group.drops())
        for family, value in zip(families, values):
            if value is not None:
                family.add(key, value)
                folded[family.name] += i >= keep
    return families, folded


# --- connections -------------------------------------------------------------------------


_AF_INET = socket.AF_INET
_MAPPED = bytes(10) + b"\xff\xff"


def _address_bytes(packed: bytes) -> bytes:
    """An address as compared here: 4 bytes for IPv4 (an IPv4-mapped IPv6 one too), else 16."""
    return packed[12:] if len(packed) == 16 and packed[:12] == _MAPPED else packed


def _ends(rec: InetSocket) -> Tuple[int, int, bytes, int, int]:
    """(local port, remote port, local address bytes (:func:`_address_bytes`), rx_queue,
    tx_queue) of a connection: from its sock_diag message where the record still holds it
    (:func:`~procnet._parse.netlink.peek_inet`: the record is not decoded), else its fields."""
    peeked = peek_inet(rec)
    if peeked is None:
        local = rec.local
        return local.port, rec.remote.port, _address_bytes(local.ip.packed), rec.rx_queue, rec.tx_queue
    lport, rport, src, rx, tx = peeked
    return lport, rport, (src[:4] if rec.family == _AF_INET else _address_bytes(src)), rx, tx


class _Served:
    """Which listener serves a local address:port, per namespace (wildcard and dual-stack aware).

    Addresses are compared as bytes (an IPv4-mapped one as its IPv4 address), never
    written out nor decoded: :meth:`find` runs once per connection."""

    def __init__(self, groups: Iterable[_Listener]) -> None:
        self._by: Dict[Tuple[Optional[int], int], List[Tuple[bytes, bool, Optional[bool], _Listener]]] = {}
        for g in groups:
            member = g.members[0]
            ip = member.local.ip
            entry = (_address_bytes(ip.packed), ip.is_unspecified, member.v6only, g)
            self._by.setdefault((member.netns, g.port), []).append(entry)
        for entries in self._by.values():
            entries.sort(key=lambda e: e[1])  # exact addresses before wildcards

    def __bool__(self) -> bool:
        return bool(self._by)

    def find(self, netns: Optional[int], port: int, address: bytes) -> Optional[_Listener]:
        entries = self._by.get((netns, port))
        if not entries:
            return None
        v4 = len(address) == 4
        for listen_address, wildcard, v6only, group in entries:
            if not wildcard:
                if listen_address == address:
                    return group
            elif group.family == "ipv4" and v4 or group.family == "ipv6" and (not v4 or not v6only):
                return group
        return None


def _connection_families(tcp: Sequence[InetSocket], served: _Served, options: Options) -> List[Family]:
    inbound = Family("procnet_tcp_inbound_connections", "gauge",
                     "TCP connections served by a listener of this port, by state; comm is the listener's.",
                     ("netns", "port", "state", "comm"))
    received = Family("procnet_tcp_inbound_receive_queue_bytes", "gauge",
                      "Bytes received on those connections and not yet read by the application.",
                      ("netns", "port", "comm"))
    sent = Family("procnet_tcp_inbound_send_queue_bytes", "gauge",
                  "Bytes sent on those connections and not yet acknowledged by the peer.", ("netns", "port", "comm"))
    families = [inbound, received, sent]
    wanted = frozenset(options.outbound_ports)
    outbound = None
    if wanted:
        outbound = Family("procnet_tcp_outbound_connections", "gauge",
                          "TCP connections to one of the remote ports asked for (--outbound-ports), by state.",
                          ("netns", "remote_port", "state"))
        families.append(outbound)
    # Counted per (listener, state) first, labelled once per listener after: one
    # connection costs a lookup and two additions, whatever the label values.
    by_state: Dict[Tuple[_Listener, TcpState], int] = {}
    queues: Dict[_Listener, List[int]] = {}
    out: Dict[Tuple[Optional[int], int, TcpState], int] = {}
    find = served.find if served else None
    for rec in tcp:
        state = rec.state
        if state is _LISTEN or (find is None and outbound is None):
            continue
        lport, port, address, rx, tx = _ends(rec)
        group = find(rec.netns, lport, address) if find is not None else None
        if group is not None:
            key = (group, state)
            by_state[key] = by_state.get(key, 0) + 1
            sums = queues.get(group)
            if sums is None:
                sums = queues[group] = [0, 0]
            sums[0] += rx
            sums[1] += tx
        elif outbound is not None:
            if port in wanted:
                okey = (rec.netns, port, state)
                out[okey] = out.get(okey, 0) + 1
    comms = {group: comm_label(group.owners) for group in queues}
    for (group, state), count in by_state.items():
        inbound.add((group.netns, str(group.port), state_label(state), comms[group]), count)
    for group, (rx, tx) in queues.items():
        received.add((group.netns, str(group.port), comms[group]), rx)
        sent.add((group.netns, str(group.port), comms[group]), tx)
    if outbound is not None:
        for (ns, port, state), count in out.items():
            outbound.add(("" if ns is None else str(ns), str(port), state_label(state)), count)
    return families


def _state_family(tcp: Sequence[InetSocket], namespaces: Iterable[Optional[int]]) -> Family:
    family = Family("procnet_tcp_sockets", "gauge",
                    "TCP sockets per state, TIME_WAIT and request sockets (syn_recv) included.", ("netns", "state"))
    for ns in namespaces:
        for state in TcpState:
            if 1 <= int(state) <= 11:
                family.add(("" if ns is None else str(ns), state_label(state)), 0)
    for (ns, state), count in Counter((rec.netns, rec.state) for rec in tcp).items():
        family.add(("" if ns is None else str(ns), state_label(state)), count)
    return family


# --- UDP, processes, unix ----------------------------------------------------------------


def _udp_families(udp: Iterable[InetSocket], options: Options, ports: Tuple[int, int]) -> List[Family]:
    count = Family("procnet_udp_sockets", "gauge", "Bound, unconnected UDP and UDP-Lite sockets.", _L)
    queue = Family("procnet_udp_receive_queue_bytes", "gauge",
                   "Receive-buffer memory in use (datagrams not yet read, with their overhead).", _L)
    drops = Family("procnet_udp_drops_total", "counter", "Datagrams dropped on receive (sk_drops).", _L)
    low, high = ports
    groups: Dict[Tuple[str, str, str, int], List[InetSocket]] = {}
    for rec in udp:
        port = rec.local.port
        if rec.state is not _CLOSE or port == 0 or rec.remote.port != 0 or not rec.remote.ip.is_unspecified:
            continue
        if low <= port <= high and not options.udp_include_ephemeral:
            continue
        groups.setdefault((_netns(rec), _family(rec), _address(rec), port), []).append(rec)
    for (ns, fam, address, port), members in groups.items():
        key = (ns, fam, address, str(port), comm_label(o for m in members for o in m.owners))
        count.add(key, len(members))
        queue.add(key, sum(m.rx_queue for m in members))
        known = [m.drops for m in members if m.drops is not None]
        if len(known) == len(members):
            drops.add(key, sum(known))
    return [count, queue, drops]


def _process_family(records: Iterable[Socket]) -> Family:
    family = Family("procnet_process_sockets", "gauge",
                    "Distinct sockets held by processes with this name, by protocol.", ("comm", "proto"))
    seen: Dict[Tuple[str, str], Set[int]] = {}  # (comm as read, proto) -> inodes
    for rec in records:
        owners = rec.owners
        if owners:
            proto = "unix" if isinstance(rec, UnixSocket) else rec.proto
            for owner in owners:
                seen.setdefault((owner.comm, proto), set()).add(rec.inode)
    labelled: Dict[Tuple[str, str], Set[int]] = {}  # two names may read alike once escaped
    for (comm, proto), inodes in seen.items():
        labelled.setdefault((label_text(comm), proto), set()).update(inodes)
    for key, inodes in labelled.items():
        family.add(key, len(inodes))
    return family


def _unix_path(rec: UnixSocket) -> str:
    return "*" if not rec.path else label_text(rec.path)


def _unix_families(unix: Iterable[UnixSocket]) -> List[Family]:
    labels = ("netns", "path", "comm")
    count = Family("procnet_unix_listen_sockets", "gauge", "Unix stream and seqpacket listening sockets.", labels)
    queue = Family("procnet_unix_listen_queue", "gauge", "Connections waiting for accept() (netlink only).", labels)
    limit = Family("procnet_unix_listen_queue_limit", "gauge", "The listen() backlog (netlink only).", labels)
    for rec in unix:
        if rec.state is not _LISTEN or rec.type not in _STREAM_TYPES:
            continue
        key = (_netns(rec), _unix_path(rec), comm_label(rec.owners))
        count.add(key, 1)
        if rec.rqueue is not None:
            queue.add(key, rec.rqueue)
        if rec.wqueue is not None:
            limit.add(key, rec.wqueue)
    return [count, queue, limit]


# --- the cap -----------------------------------------------------------------------------


def cap(family: Family, max_series: int) -> int:
    """Fold the rows past ``max_series`` into one ``other`` row; how many were folded."""
    if len(family.rows) <= max_series:
        return 0
    ranked = sorted(family.rows.items(), key=lambda kv: (-kv[1], kv[0]))
    keep = max_series - 1
    family.rows = dict(ranked[:keep])
    rest = (OTHER,) * len(family.labels)
    for _, value in ranked[keep:]:
        family.add(rest, value)
    return len(ranked) - keep


# --- the whole model ---------------------------------------------------------------------


def build(snapshot: Snapshot, options: Options = Options()) -> List[Family]:
    """Every family of one collection, capped (EXPORTER.md §5)."""
    if options.max_series < 1:
        raise ValueError("max_series is at least 1, not %r" % (options.max_series,))
    tcp: List[InetSocket] = []
    udp: List[InetSocket] = []
    unix: List[UnixSocket] = []
    for rec in snapshot.sockets:
        if isinstance(rec, UnixSocket):
            unix.append(rec)
        elif rec.proto == "tcp":
            tcp.append(rec)
        elif rec.proto in _UDP:
            udp.append(rec)
    groups = listeners(tcp, snapshot.listen_memory)
    listen, dropped = _listen_families(list(groups.values()), options.max_series)
    data = [_state_family(tcp, snapshot.namespaces)]
    data += _connection_families(tcp, _Served(groups.values()), options)
    data += _udp_families(udp, options, snapshot.local_port_range)
    data.append(_process_family(snapshot.sockets))
    if options.unix_listeners:
        data += _unix_families(unix)
    for family in data:
        dropped[family.name] = cap(family, options.max_series)
    return listen + data + _health(snapshot, dropped)


def _health(snapshot: Snapshot, dropped: Dict[str, int]) -> List[Family]:
    info = Family("procnet_exporter_info", "gauge", "procnet's version and the source that answered.",
                  ("version", "backend"))
    info.add((snapshot.version, snapshot.backend), 1)
    duration = Family("procnet_scrape_duration_seconds", "gauge", "Time spent collecting this scrape.", ())
    duration.add((), snapshot.duration)
    error = Family("procnet_scrape_error", "gauge",
                   "1 if any table, namespace or netlink read failed this scrape, else 0.", ())
    error.add((), 1 if snapshot.errors else 0)
    complete = Family("procnet_owner_scan_complete", "gauge",
                      "1 if every process's descriptors could be read, so that comm is whole.", ())
    complete.add((), 1 if snapshot.owners_complete else 0)
    series = Family("procnet_series_dropped", "gauge",
                    "Rows folded into the family's 'other' row this scrape (--max-series).", ("metric",))
    for name, count in dropped.items():
        series.add((name,), count)
    namespaces = Family("procnet_network_namespaces", "gauge", "Network namespaces read this scrape.", ())
    namespaces.add((), len(snapshot.namespaces))
    return [info, duration, error, complete, series, namespaces]


# --- text format 0.0.4 -------------------------------------------------------------------

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def number_text(value: float) -> str:
    """A sample value: integers without a fraction, floats as Python writes them."""
    if isinstance(value, int) or value.is_integer():
        return "%d" % value
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


def render(families: Iterable[Family]) -> str:
    """The text exposition (format 0.0.4) of the families: each one contiguous group, HELP
    and TYPE once before its samples, rows sorted; a family with no rows is left out."""
    out: List[str] = []
    for family in families:
        if not family.rows:
            continue
        out.append("# HELP %s %s\n# TYPE %s %s\n" % (family.name, _escape_help(family.help), family.name, family.type))
        names = family.labels
        for key, value in sorted(family.rows.items()):
            if names:
                labels = ",".join('%s="%s"' % (n, _escape_label(v)) for n, v in zip(names, key))
                out.append("%s{%s} %s\n" % (family.name, labels, number_text(value)))
            else:
                out.append("%s %s\n" % (family.name, number_text(value)))
    return "".join(out)


__all__ = ["CONTENT_TYPE", "Family", "Options", "Snapshot", "build", "cap", "comm_label", "label_text", "render"]
