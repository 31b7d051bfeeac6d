"""``procnet ss``: iproute2's ``ss``, read from the proc tables (and sock_diag where it answers).

Flags mean what they mean for ss (iproute2 ``misc/ss.c``): ``-t -u -w -x -4 -6`` choose
the tables and families, with ss's own rules for combining them (``-x -4`` lists unix and
every inet table; ``-t -6`` TCP over IPv6 only); ``-l`` listening (and unconnected
datagram) sockets, ``-a`` all; without either, each table's default states (connected
TCP and stream sockets, connected UDP/raw, nothing else). FILTER is ss's expression
language (:mod:`procnet._filter`); its ``state``/``exclude`` clauses replace ``-l``/``-a``
as they do in ss. Columns and their widths follow ss's ``render()``: Netid only when more
than one table is listed, State only when more than one state can be.

Where the output differs from ss, and why:

* Only tcp, udp, raw and unix sockets are listed: the netlink, packet, dccp, sctp, mptcp,
  vsock, tipc and xdp tables are not read, so ``procnet ss`` without a protocol flag shows
  fewer rows than ``ss`` (which also lists ``nl`` and ``p_raw`` sockets).
* ``[::]`` for a v6-only socket: ss learns IPV6_V6ONLY from sock_diag; procnet's records
  do not carry it. A socket bound to a specific IPv6 address is v6-only (the kernel sets
  it at bind), so its ``::`` peer prints ``[::]`` as in ss; a wildcard socket made v6-only
  with setsockopt prints ``*`` where ss prints ``[::]``. ``-e`` prints no ``v6only:``. ``-e`` prints no ``cgroup:`` either.
* Send-Q of a TCP listener is the backlog passed to listen() only when the record came
  from sock_diag (``listen_backlog``); the text table has no backlog, so it prints 0.
* unix sockets: the peer's inode (Peer "port") and the queues come from sock_diag
  (``peer_inode``, ``rqueue``, ``wqueue``); from the text table they print as 0, as ss's
  own /proc reader prints them. Rows are sorted by type and inode, as ss's /proc reader
  sorts them (ss's netlink order is the kernel's hash order).
* ``-e`` ``sk:`` is the socket cookie (``cookie``) with sock_diag, as ss prints it, else
  the text table's (hashed) ``pointer``, as ss's own /proc reader prints it; a record with
  neither prints no ``sk:``. ``-s``, ``-K``, ``-E``, ``-Z``, ``-N``, ``-A``, ``-f`` are not
  supported.
* ``-i`` and ``-m`` print what ss's tcp_show_info / tcp_stats_print and print_skmeminfo
  print, in their order, from the records' ``tcp_info`` and ``skmem`` (sock_diag only):
  a TAB line under each TCP (and, with ``-m``, UDP and raw) socket, on the socket's own
  line with ``-O``, and ``skmem:(...)`` on the line of a unix socket. Omitted, as procnet
  does not decode what they need: ``bbr:(bw,mrtt,pacing_gain,cwnd_gain)``
  (INET_DIAG_BBRINFO), ``dctcp:(...)`` (DCTCPINFO), the Vegas RTT that ss prefers for
  ``send`` when Vegas runs (VEGASINFO), ``md5keys:``, ``tcp-ulp-*`` (kTLS, MPTCP),
  ``fackets:`` (always 0 since Linux 4.15), the ``qack:``/``bidir`` ss takes from the
  /proc text, and ``mem:(r,w,f,t)`` (the INET_DIAG_MEMINFO fallback of kernels without
  SKMEMINFO). ``rcv_wnd:`` and ``rehash:`` print as ss 6.7+ prints them (older ss do not
  know them). The option words ``ts usec_ts sack ecn ecnseen fastopen fastopen_child``
  need ``-o`` or ``-e``, as in ss. Without sock_diag (``--root``, a capture, or a process
  that cannot open a netlink socket) nothing is printed for them, and a note on stderr
  says why; a table the kernel has no diag module for (raw_diag) is read as text and its
  rows get only ss's empty TAB line.
* ``-O`` is accepted; it matters only with ``-i`` and ``-m``.
* Text from other processes (process names, socket paths, host names) is escaped before
  it reaches the terminal, where ss prints it raw: control characters (C0, DEL, C1),
  invalid UTF-8, format characters (U+200B, the bidi overrides U+202A..U+202E...), line
  and paragraph separators, non-ASCII spaces and the invisible fillers (U+3164, U+2800...)
  as ``\\xNN`` per byte (:func:`procnet.cli.render.escape_text`). In the process name of
  ``users:(("name",pid=N,fd=M))`` a ``"`` is also ``\\x22`` and a ``\\`` ``\\x5c``, so a
  name cannot close its quotes and show another pid first (ss prints
  ``users:(("x",pid=1,fd=3",pid=4242,fd=5))`` for the name ``x",pid=1,fd=3``). The name is
  the whole ``comm``; ss reads it from ``/proc/PID/stat`` up to the first ``)``, so
  for a name holding ``)`` it shows less. A socket path keeps its spaces, as in ss.
* Messages (errors, warnings) escape every name and path they quote the same way, a
  bad FILTER's marker placed under the escaped token.
* A usage error exits 2 (ss exits 255) with a message saying what to write instead.

``--json`` prints one JSON object per socket, one per line (JSON Lines). Each object holds
every field of the record (:func:`procnet.to_jsonable`: the keys of
:class:`~procnet.InetSocket` or :class:`~procnet.UnixSocket`, ``owners`` as a list of
objects), and under ``"ss"`` the rendered columns: ``netid``, ``state``, ``recv_q``,
``send_q`` (ints), ``local_address``, ``local_port``, ``peer_address``, ``peer_port``,
``process`` (strings, as printed, escaped).
"""

from __future__ import annotations

import getopt
import os
import socket
import sys
from operator import itemgetter
from typing import IO, Any, Dict, FrozenSet, List, Optional, Sequence, Set, Tuple

from .render import (
    LEFT,
    RIGHT,
    Column,
    HostResolver,
    column_chunks,
    escape_quoted,
    escape_text,
    filter_error_text,
    message,
    port_text,
)

USAGE = """\
usage: procnet ss [-tuwx46] [-l|-a] [-nrpeoimHO] [--json] [--root DIR] [FILTER...]

Which sockets exist and who owns them, as iproute2's ss prints them.

  -t, --tcp          TCP sockets            -u, --udp        UDP sockets
  -w, --raw          RAW sockets            -x, --unix       unix domain sockets
  -4, --ipv4         IPv4 only              -6, --ipv6       IPv6 only
  -l, --listening    listening (and unconnected datagram) sockets
  -a, --all          sockets in every state
  -n, --numeric      do not name services   -r, --resolve    name hosts (bounded wait)
  -p, --processes    process owning each socket: users:(("name",pid=N,fd=M))
  -e, --extended     uid, inode, socket cookie (and timers)
  -o, --options      timers: timer:(on,1.2sec,0)
  -i, --info         TCP details (rtt, cwnd, wscale...) on a line below each socket
  -m, --memory       socket memory: skmem:(r0,rb131072,t0,tb16384,...)
  -H, --no-header    no header line         -O, --oneline    one line per socket
      --json         one JSON object per socket (JSON Lines)
      --root DIR     read this proc root (default: $PROC_ROOT, else the live one)
  -h, --help         this message           -V, --version    procnet's version

FILTER: ss's expression, e.g.  state established '( dport = :ssh or sport = :https )'
"""

_SHORT = "tuwx46lanrpeoimHOhV"
_LONG = [
    "tcp", "udp", "raw", "unix", "ipv4", "ipv6", "listening", "all", "numeric", "resolve",
    "processes", "extended", "options", "info", "memory", "no-header", "oneline", "help", "version",
    "json", "root=",
]

# The ss tables procnet reads ("dbs" in ss.c), and each one's default states.
TCP, UDP, RAW, U_STR, U_DGR, U_SEQ = "tcp", "udp", "raw", "u_str", "u_dgr", "u_seq"
UNIX_DBS = (U_STR, U_DGR, U_SEQ)
INET_DBS = (TCP, UDP, RAW)


def _state_sets() -> Tuple[FrozenSet[Any], FrozenSet[Any], FrozenSet[Any], FrozenSet[Any], FrozenSet[Any]]:
    from .. import _states
    from .._records import TcpState

    return (
        _states.ALL,
        _states.DEFAULT,
        frozenset({TcpState.ESTABLISHED}),
        frozenset({TcpState.CLOSE}),
        frozenset({TcpState.LISTEN, TcpState.CLOSE}),
    )


class UsageError(Exception):
    """A command line procnet ss cannot run; the message says what to write instead."""


class Options:
    """The parsed command line, with ss's table/family/state selection worked out."""

    def __init__(self) -> None:
        self.dbs: Set[str] = set()
        self.families: Set[int] = set()
        self.states: FrozenSet[Any] = frozenset()
        self.state_flag: Optional[FrozenSet[Any]] = None
        self.do_default = True
        self.preferred_family: Optional[int] = None
        self.numeric = False
        self.resolve = False
        self.users = False
        self.details = False
        self.options = False
        self.info = False
        self.memory = False
        self.header = True
        self.oneline = False
        self.json = False
        self.root: Optional[str] = None
        self.filter_words: List[str] = []
        self.help = False
        self.version = False


def parse_args(argv: Sequence[str]) -> Options:
    """ss's options, in ss's order of effects (``filter_db_set``, ``filter_af_set``...)."""
    all_states, conn, estab, close, listening = _state_sets()
    db_states = {TCP: conn, UDP: estab, RAW: estab, U_STR: conn, U_SEQ: conn, U_DGR: close}
    o = Options()
    try:
        opts, rest = getopt.gnu_getopt(list(argv), _SHORT, _LONG)
    except getopt.GetoptError as exc:
        bad = exc.opt
        hint = "run 'procnet ss --help' for the options"
        if bad in ("s", "K", "E", "Z", "z", "N", "A", "f", "b", "M", "S", "d", "0", "D", "F"):
            hint = "procnet ss does not support ss's -%s; %s" % (bad, hint)
        raise UsageError("%s; %s" % (exc.msg, hint)) from None

    def db_set(db: str) -> None:
        o.states = o.states | db_states[db]
        o.dbs.add(db)
        o.do_default = False

    def af_set(af: int) -> None:
        o.states = o.states | conn
        o.families.add(af)
        o.do_default = False
        o.preferred_family = af

    for opt, value in opts:
        if opt in ("-t", "--tcp"):
            db_set(TCP)
        elif opt in ("-u", "--udp"):
            db_set(UDP)
        elif opt in ("-w", "--raw"):
            db_set(RAW)
        elif opt in ("-x", "--unix"):
            af_set(socket.AF_UNIX)
        elif opt in ("-4", "--ipv4"):
            af_set(socket.AF_INET)
        elif opt in ("-6", "--ipv6"):
            af_set(socket.AF_INET6)
        elif opt in ("-a", "--all"):
            o.state_flag = all_states
        elif opt in ("-l", "--listening"):
            o.state_flag = listening
        elif opt in ("-n", "--numeric"):
            o.numeric = True
        elif opt in ("-r", "--resolve"):
            o.resolve = True
        elif opt in ("-p", "--processes"):
            o.users = True
        elif opt in ("-e", "--extended"):
            o.details = True
            o.options = True
        elif opt in ("-o", "--options"):
            o.options = True
        elif opt in ("-i", "--info"):
            o.info = True
        elif opt in ("-m", "--memory"):
            o.memory = True
        elif opt in ("-H", "--no-header"):
            o.header = False
        elif opt in ("-O", "--oneline"):
            o.oneline = True
        elif opt == "--json":
            o.json = True
        elif opt == "--root":
            o.root = value
        elif opt in ("-h", "--help"):
            o.help = True
        elif opt in ("-V", "--version"):
            o.version = True
    o.filter_words = rest
    return o


def finish_selection(o: Options, filter_states: Optional[FrozenSet[Any]], filter_families: Optional[FrozenSet[int]]) -> None:
    """ss.c main(): defaults, ``filter_states_set`` and ``filter_merge_defaults``."""
    all_states, conn, _, _, _ = _state_sets()
    state_filter = o.state_flag
    if filter_states is not None:
        state_filter = filter_states  # ss: a "state"/"exclude" clause replaces -l/-a
    if o.do_default:
        state_filter = state_filter if state_filter else conn
        o.dbs = set(INET_DBS + UNIX_DBS)
    if state_filter:
        o.states = state_filter
    db_families = {db: {socket.AF_INET, socket.AF_INET6} for db in INET_DBS}
    db_families.update({db: {socket.AF_UNIX} for db in UNIX_DBS})
    for db in list(o.dbs):
        if not (db_families[db] & o.families):
            o.families |= db_families[db]
    for af in list(o.families):
        af_dbs = set(UNIX_DBS) if af == socket.AF_UNIX else set(INET_DBS)
        if not (af_dbs & o.dbs):
            o.dbs |= af_dbs
    if filter_families is not None:
        o.families = set(filter_families)


def _protos(o: Options) -> List[str]:
    out: List[str] = []
    for db in INET_DBS:
        if db in o.dbs:
            if socket.AF_INET in o.families:
                out.append(db + "4")
            if socket.AF_INET6 in o.families:
                out.append(db + "6")
    if socket.AF_UNIX in o.families and any(db in o.dbs for db in UNIX_DBS):
        out.append("unix")
    return out


# -- rendering one socket -------------------------------------------------------------------

_UNIX_NETID: Dict[int, str] = {int(socket.SOCK_STREAM): U_STR, int(socket.SOCK_SEQPACKET): U_SEQ}


def unix_netid(type_: int) -> str:
    """ss's unix_netid_name: u_str, u_seq, and u_dgr for anything else."""
    return _UNIX_NETID.get(type_, U_DGR)


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


def users_text(owners: Sequence[Any]) -> str:
    """``users:(("name",pid=N,fd=M),...)`` in ss's order (its hash chain: last scanned first)."""
    if not owners:
        return ""
    ordered = sorted(owners, key=lambda w: (w.pid, w.fd), reverse=True)
    return " users:(%s)" % ",".join(
        '("%s",pid=%d,fd=%d)' % (escape_quoted(w.comm), w.pid, w.fd) for w in ordered
    )


class Renderer:
    """Turns records into ss's cells.

    Texts that repeat across rows are made once: a host per address object (the parser
    shares one object per distinct address), a port per (port, protocol), a queue
    length, a state name, a process name's escape.
    """

    def __init__(self, o: Options, ephemeral: Tuple[int, int], hz: int, kernel_details: bool = False) -> None:
        self.o = o
        #: ``-i``/``-m`` output is printed: the records came from sock_diag, which has it
        self.kernel_details = kernel_details and (o.info or o.memory)
        self.ephemeral = ephemeral
        self.hz = hz
        self.resolver = HostResolver() if o.resolve else None
        # id(ip) -> (ip, host text + ":", is a specific IPv6 address, is IPv6 "::").
        # The entry holds the address, so its id cannot be reused while cached.
        self._hosts: Dict[int, Tuple[Any, str, bool, bool]] = {}
        self._ports: Dict[str, Dict[int, str]] = {}
        self._queues: Dict[int, str] = {}
        self._states: Dict[int, Tuple[Any, str]] = {}
        self._comms: Dict[str, str] = {}
        self._extended = o.options or o.details
        from .._records import Timer

        self._no_timer = Timer.NONE

    def host(self, ip: Any, v6only: bool = False) -> str:
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

    def _host_entry(self, ip: Any) -> Tuple[Any, str, bool, bool]:
        if len(self._hosts) >= 65536:  # addresses not shared by the parser: stay bounded
            self._hosts.clear()
        # Whether ss prints ``::`` as ``[::]`` (IPV6_V6ONLY set) is known for a socket bound
        # to a specific, non-mapped IPv6 address, as the kernel sets it at bind itself
        # (net/ipv6/af_inet6.c __inet6_bind); a wildcard socket's is known only to
        # sock_diag (``InetSocket.v6only``); from the text tables procnet prints ``*`` as for a
        # dual-stack socket.
        v6 = ip.version == 6
        entry = (
            ip,
            self.host(ip) + ":",
            v6 and not ip.is_unspecified and ip.ipv4_mapped is None,
            v6 and ip.is_unspecified,
        )
        self._hosts[id(ip)] = entry
        return entry

    def port(self, port: int, proto: str) -> str:
        if port == 0:
            return "*"
        if proto == "raw":
            return str(port) if self.o.numeric else _ip_proto_name(port)
        return escape_text(port_text(port, proto, self.o.numeric, self.ephemeral))

    def _port_cache(self, proto: str) -> Dict[int, str]:
        return self._ports.setdefault(proto, {})

    def _port(self, port: int, proto: str) -> str:
        text = self._port_cache(proto)[port] = self.port(port, proto)
        return text

    def _queue(self, n: int) -> str:
        text = self._queues.get(n)
        if text is None:
            text = "%-6d" % n
            if len(self._queues) < 4096:  # bounded: queue lengths can be as many as rows
                self._queues[n] = text
        return text

    def _state_entry(self, state: Any) -> Tuple[Any, str]:
        entry = self._states[id(state)] = (state, state.ss_name)
        return entry

    def _users(self, owners: Sequence[Any]) -> str:
        """:func:`users_text`, with each process name escaped once."""
        if not owners:
            return ""
        comms = self._comms
        if len(owners) == 1:
            w = owners[0]
            comm = comms.get(w.comm)
            if comm is None:
                comm = comms[w.comm] = escape_quoted(w.comm)
            return ' users:(("%s",pid=%d,fd=%d))' % (comm, w.pid, w.fd)
        return users_text(owners)

    def row(self, rec: Any) -> Tuple[str, ...]:
        """The nine cells of ``rec`` as ss prints them: Netid, State, Recv-Q, Send-Q,
        Local Address (with its ``:``), Port, Peer Address (with its ``:``), Port, Process."""
        proto = rec.proto
        if proto == "unix":
            return self._unix_row(rec)
        # The hot path of a large table: cache lookups inline, the rest out of line.
        state = rec.state
        wq = rec.tx_queue
        if state == 10 and rec.listen_backlog is not None:  # LISTEN: Send-Q is the backlog
            wq = rec.listen_backlog
        hosts = self._hosts
        local, remote = rec.local, rec.remote
        lip, rip = local.ip, remote.ip
        le = hosts.get(id(lip)) or self._host_entry(lip)
        pe = hosts.get(id(rip)) or self._host_entry(rip)
        local_addr = le[1]
        peer_addr = pe[1]
        if state in (7, 10) and (le[2] or rec.v6only):  # v6-only: its "::" is [::], not *
            if le[3]:
                local_addr = "[::]:"
            if pe[3]:
                peer_addr = "[::]:"
        ports = self._ports.get(proto) or self._port_cache(proto)
        queues = self._queues
        lport, rport, rq = local.port, remote.port, rec.rx_queue
        ext = self._users(rec.owners) if self.o.users else ""
        if self._extended:
            ext += self._inet_extended(rec)
        if self.kernel_details:
            ext += self._inet_details(rec)
        return (
            proto if proto != "udplite" else "udp",
            (self._states.get(id(state)) or self._state_entry(state))[1],
            queues.get(rq) or self._queue(rq),
            queues.get(wq) or self._queue(wq),
            local_addr,
            ports.get(lport) or self._port(lport, proto),
            peer_addr,
            ports.get(rport) or self._port(rport, proto),
            ext,
        )

    def _inet_extended(self, rec: Any) -> str:
        """The ``-o`` timer and the ``-e`` details of an inet socket, each with its leading space."""
        o = self.o
        ext = ""
        if o.options and rec.timer != self._no_timer:
            timer = int(rec.timer)
            # ss prints idiag_retrans: icsk_retransmits with timer 1, else icsk_probes_out
            # (a source has the one its timer shows: see InetSocket.retransmits).
            retrans = rec.retransmits if timer == 1 else rec.probes
            ms = (rec.timer_expires * 1000 + self.hz - 1) // self.hz
            ext += " timer:(%s,%s,%d)" % (rec.timer.ss_name, ms_timer(ms), retrans or 0)
        if o.details:
            if rec.uid:
                ext += " uid:%d" % rec.uid
            ext += " ino:%d" % rec.inode
            if rec.cookie is not None:
                ext += " sk:%x" % rec.cookie  # ss: sk:%llx of idiag_cookie
            elif rec.pointer is not None:
                ext += " sk:%s" % _sk(rec.pointer)
            if rec.shutdown is not None:
                ext += " %s-%s" % ("-" if rec.shutdown & 1 else "<", "-" if rec.shutdown & 2 else ">")
        return ext

    def _inet_details(self, rec: Any) -> str:
        """``-m`` and ``-i``, as ss's inet_show_sock and tcp_show_info print them: on a
        line of their own (a TAB first), or on the socket's line with ``-O``."""
        o = self.o
        proto = rec.proto
        if not (o.memory or (o.info and proto not in ("udp", "udplite"))):
            return ""
        out = "" if o.oneline else "\n\t"
        if o.memory and rec.skmem is not None:
            out += skmem_text(rec.skmem)
        if o.info and proto == "tcp" and rec.tcp_info is not None:
            out += tcp_info_text(rec.tcp_info, rec.state == 10, o.options, o.numeric)
        return out

    def _unix_row(self, rec: Any) -> Tuple[str, ...]:
        o = self.o
        netid = unix_netid(rec.type)
        rq = rec.rqueue if rec.rqueue is not None else 0
        wq = rec.wqueue if rec.wqueue is not None else 0
        local_addr = (escape_text(rec.path) if rec.path is not None else "*") + " "
        local_port = str(rec.inode)
        peer_addr = "* "
        peer_port = str(rec.peer_inode if rec.peer_inode is not None else 0)
        ext = self._users(rec.owners) if o.users else ""
        if o.details:
            if rec.shutdown is not None:
                ext += " %s-%s" % ("-" if rec.shutdown & 1 else "<", "-" if rec.shutdown & 2 else ">")
            if rec.vfs_inode is not None and rec.vfs_dev is not None:
                ext += " ino:%d dev:%d/%d" % (rec.vfs_inode, os.major(rec.vfs_dev), os.minor(rec.vfs_dev))
            if rec.pending_inodes:
                ext += " peers:" + "".join(" %d" % i for i in rec.pending_inodes)
        if self.kernel_details and o.memory and rec.skmem is not None:
            ext += skmem_text(rec.skmem)  # ss: on the socket's line, for unix sockets
        state = self._states.get(id(rec.state)) or self._state_entry(rec.state)
        return (netid, state[1], self._queue(rq), self._queue(wq), local_addr,
                local_port, peer_addr, peer_port, ext)

    def cells(self, rec: Any) -> Dict[str, Any]:
        """The columns of ``rec`` by name, as ``--json`` prints them under ``"ss"``; under
        ``"_cells"`` (not printed) the nine cells of :meth:`row`. The ``-i``/``-m`` text is
        not in them: the record's ``tcp_info`` and ``skmem`` fields carry it."""
        details, self.kernel_details = self.kernel_details, False
        try:
            row = self.row(rec)
        finally:
            self.kernel_details = details
        return {
            "netid": row[0],
            "state": row[1],
            "recv_q": int(row[2]),
            "send_q": int(row[3]),
            "local_address": row[4][:-1],
            "local_port": row[5],
            "peer_address": row[6][:-1],
            "peer_port": row[7],
            "process": row[8].lstrip(" "),
            "_cells": list(row),
        }


def skmem_text(skmem: Sequence[int]) -> str:
    """ss's print_skmeminfo: `` skmem:(r0,rb131072,t0,tb16384,f0,w0,o0,bl0,d0)``.

    ``bl`` and ``d`` only when the kernel sent them; nothing for fewer than seven values.
    """
    if len(skmem) < 7:
        return ""
    out = " skmem:(r%d,rb%d,t%d,tb%d,f%d,w%d,o%d" % tuple(skmem[:7])
    if len(skmem) >= 8:
        out += ",bl%d" % skmem[7]
    if len(skmem) >= 9:
        out += ",d%d" % skmem[8]
    return out + ")"


def bw_text(bw: float, numeric: bool) -> str:
    """ss's sprint_bw: a rate in bits per second, ``%.0f`` with ``-n``, else ``1.2G``..."""
    if numeric:
        return "%.0f" % bw
    if bw > 1000000000.0:
        return "%.1fG" % (bw / 1000000000.0)
    if bw > 1000000.0:
        return "%.1fM" % (bw / 1000000.0)
    if bw > 1000.0:
        return "%.1fK" % (bw / 1000.0)
    return "%g" % bw


_U64_MAX = (1 << 64) - 1
# tcpi_options bits ss names with -o/-e, in its order (include/uapi/linux/tcp.h TCPI_OPT_*)
_OPTION_WORDS = ((1, "ts"), (64, "usec_ts"), (2, "sack"), (8, "ecn"), (16, "ecnseen"), (32, "fastopen"),
                 (128, "fastopen_child"))


def tcp_info_text(ti: Any, listening: bool, show_options: bool, numeric: bool) -> str:
    """ss's tcp_show_info and tcp_stats_print (iproute2 misc/ss.c), for the fields procnet
    decodes: `` bbr wscale:7,7 rto:204 rtt:0.03/0.015 ... minrtt:0.01 snd_wnd:65536``.

    A field an older kernel did not send (None) prints as ss prints its zero-filled
    struct: not at all. The option words (``ts sack ...``) need ``show_options`` (-o, -e).
    """

    def n(value: Optional[int]) -> int:
        return value or 0

    out: List[str] = []
    add = out.append
    options = n(ti.options)
    if show_options:
        for bit, word in _OPTION_WORDS:
            if options & bit:
                add(word)
    if ti.congestion:
        add(escape_text(ti.congestion))
    if options & 4:  # TCPI_OPT_WSCALE
        add("wscale:%d,%d" % (n(ti.snd_wscale), n(ti.rcv_wscale)))
    if ti.rto_us and ti.rto_us != 3000000:
        add("rto:%g" % (ti.rto_us / 1000.0))
    if ti.backoff:
        add("backoff:%d" % ti.backoff)
    if ti.rtt_us:
        add("rtt:%g/%g" % (ti.rtt_us / 1000.0, ti.rttvar_us / 1000.0))
    if ti.ato_us:
        add("ato:%g" % (ti.ato_us / 1000.0))
    for label, value in (("mss", ti.snd_mss), ("pmtu", ti.pmtu), ("rcvmss", ti.rcv_mss),
                         ("advmss", ti.advmss), ("cwnd", ti.snd_cwnd)):
        if value:
            add("%s:%d" % (label, value))
    if ti.snd_ssthresh and ti.snd_ssthresh < 0xFFFF:
        add("ssthresh:%d" % ti.snd_ssthresh)
    for label, value in (("bytes_sent", ti.bytes_sent), ("bytes_retrans", ti.bytes_retrans),
                         ("bytes_acked", ti.bytes_acked), ("bytes_received", ti.bytes_received),
                         ("segs_out", ti.segs_out), ("segs_in", ti.segs_in),
                         ("data_segs_out", ti.data_segs_out), ("data_segs_in", ti.data_segs_in)):
        if value:
            add("%s:%d" % (label, value))
    if ti.rtt_us and ti.snd_mss and ti.snd_cwnd:
        add("send %sbps" % bw_text(float(ti.snd_cwnd) * float(ti.snd_mss) * 8000000.0 / float(ti.rtt_us), numeric))
    for label, value in (("lastsnd", ti.last_data_sent_ms), ("lastrcv", ti.last_data_recv_ms),
                         ("lastack", ti.last_ack_recv_ms)):
        if value:
            add("%s:%d" % (label, value))
    pacing = n(ti.pacing_rate)
    if pacing and pacing != _U64_MAX:
        text = "pacing_rate %sbps" % bw_text(pacing * 8.0, numeric)
        max_pacing = n(ti.max_pacing_rate)
        if max_pacing and max_pacing != _U64_MAX:
            text += "/%sbps" % bw_text(max_pacing * 8.0, numeric)
        add(text)
    if ti.delivery_rate:
        add("delivery_rate %sbps" % bw_text(ti.delivery_rate * 8.0, numeric))
    if ti.delivered:
        add("delivered:%d" % ti.delivered)
    if ti.delivered_ce:
        add("delivered_ce:%d" % ti.delivered_ce)
    if ti.app_limited:
        add("app_limited")
    busy = n(ti.busy_time_us)
    if busy:
        add("busy:%dms" % (busy // 1000))
        if ti.rwnd_limited_us:
            add("rwnd_limited:%dms(%.1f%%)" % (ti.rwnd_limited_us // 1000, 100.0 * ti.rwnd_limited_us / busy))
        if ti.sndbuf_limited_us:
            add("sndbuf_limited:%dms(%.1f%%)" % (ti.sndbuf_limited_us // 1000, 100.0 * ti.sndbuf_limited_us / busy))
    if ti.unacked:
        add("unacked:%d" % ti.unacked)
    if ti.retrans or ti.total_retrans:
        add("retrans:%d/%d" % (n(ti.retrans), ti.total_retrans))
    if ti.lost:
        add("lost:%d" % ti.lost)
    if ti.sacked and not listening:  # a listener's tcpi_sacked is its backlog
        add("sacked:%d" % ti.sacked)
    if ti.dsack_dups:
        add("dsack_dups:%d" % ti.dsack_dups)
    if ti.reordering is not None and ti.reordering != 3:
        add("reordering:%d" % ti.reordering)
    if ti.reord_seen:
        add("reord_seen:%d" % ti.reord_seen)
    if ti.rcv_rtt_us:
        add("rcv_rtt:%g" % (ti.rcv_rtt_us / 1000.0))
    if ti.rcv_space:
        add("rcv_space:%d" % ti.rcv_space)
    if ti.rcv_ssthresh:
        add("rcv_ssthresh:%d" % ti.rcv_ssthresh)
    if ti.notsent_bytes:
        add("notsent:%d" % ti.notsent_bytes)
    if ti.min_rtt_us and ti.min_rtt_us != 0xFFFFFFFF:
        add("minrtt:%g" % (ti.min_rtt_us / 1000.0))
    for label, value in (("rcv_ooopack", ti.rcv_ooopack), ("snd_wnd", ti.snd_wnd), ("rcv_wnd", ti.rcv_wnd),
                         ("rehash", ti.rehash)):
        if value:
            add("%s:%d" % (label, value))
    return "".join(" " + word for word in out)


def _sk(pointer: str) -> str:
    """The text table's pointer as ss's /proc reader prints it: ``%llx`` of the hex it read."""
    try:
        return "%x" % int(pointer, 16)
    except ValueError:
        return escape_text(pointer)


_IP_PROTOS = {0: "ip", 1: "icmp", 2: "igmp", 4: "ipencap", 6: "tcp", 17: "udp", 41: "ipv6",
              47: "gre", 50: "esp", 51: "ah", 58: "ipv6-icmp", 89: "ospf", 103: "pim", 132: "sctp",
              136: "udplite", 255: "raw"}


def _ip_proto_name(number: int) -> str:
    """ss's inet_proto_n2a for a raw socket's "port" (its protocol)."""
    return _IP_PROTOS.get(number, str(number))


def _columns(o: Options) -> List[Column]:
    cols = [
        Column(LEFT, "Netid", ""),
        Column(LEFT, "State", " "),
        Column(LEFT, "Recv-Q", " "),
        Column(LEFT, "Send-Q", " "),
        Column(RIGHT, "Local Address:", " "),
        Column(LEFT, "Port", ""),
        Column(RIGHT, "Peer Address:", " "),
        Column(LEFT, "Port", ""),
        Column(LEFT, "Process", ""),
    ]
    if len(o.dbs) <= 1:
        cols[0].disabled = True
    if len(o.states) <= 1:
        cols[1].disabled = True
    return cols


_TABLE_ORDER = {"unix": 0, "raw": 1, "udp": 2, "udplite": 2, "tcp": 3}
# The sort key of an inet row, by protocol: (IPv4, IPv6). Made once, shared by every row.
_INET_KEYS = {proto: (t << 128, t << 128 | 1 << 64) for proto, t in _TABLE_ORDER.items()}
_OTHER_KEYS = (4 << 128, 4 << 128 | 1 << 64)


def _order(rec: Any) -> int:
    """ss's order: unix (by type, inode), raw, udp, tcp; IPv4 before IPv6; tables' order within.

    One int, ``table << 128 | (type or IPv6) << 64 | inode``; the keys of inet rows are
    made once, where a tuple key would cost an object per row.
    """
    if rec.proto == "unix":
        key: int = int(rec.type) << 64 | rec.inode
        return key
    return _INET_KEYS.get(rec.proto, _OTHER_KEYS)[0 if rec.family == socket.AF_INET else 1]


def run(argv: Sequence[str], out: IO[str], err: IO[str]) -> int:
    """The whole command, writing to ``out``/``err``; returns the exit status."""
    try:
        o = parse_args(argv)
    except UsageError as exc:
        err.write(message("procnet ss", str(exc)))
        return 2
    if o.help:
        out.write(USAGE)
        return 0
    if o.version:
        from .. import __version__

        out.write("procnet ss %s (iproute2 ss's output)\n" % __version__)
        return 0

    from .._errors import ProcNetError

    try:
        return _run(o, out, err)
    except BrokenPipeError:
        raise  # the reader left: procnet.cli.main ends quietly
    except (ProcNetError, OSError) as exc:
        # a file of the proc root (a bundle's, say) that cannot be read: its name escaped
        err.write(message("procnet ss", str(exc)))
        return 1


def _run(o: Options, out: IO[str], err: IO[str]) -> int:
    from .._errors import ProcNetError
    from .._proc import ProcFS
    from .._query import Query
    from .render import resolve_host_address

    root = o.root or os.environ.get("PROC_ROOT") or None
    try:
        fs = ProcFS(root) if root else ProcFS()
    except (TypeError, ValueError) as exc:
        err.write(message("procnet ss", str(exc)))
        return 2
    ephemeral = fs.local_port_range()
    flt = None
    if o.filter_words:
        from .._filter import FilterError, compile_filter  # only when there is a filter

        protocols = [p for p in ("tcp", "udp") if p in o.dbs or o.do_default] or ["tcp", "udp"]
        try:
            flt = compile_filter(
                o.filter_words,
                family=o.preferred_family,
                protocols=protocols,
                resolve=resolve_host_address,
                ephemeral_ports=ephemeral,
            )
        except FilterError as exc:
            err.write("procnet ss: bad FILTER: %s\n" % filter_error_text(exc))
            err.write("procnet ss: write a filter as ss reads it, e.g. 'sport = :22', 'state established', 'dst 10.0.0.0/8'\n")
            return 2
    finish_selection(o, None if flt is None else flt.states, None if flt is None else flt.families)
    if not o.dbs or not o.families or not o.states:
        what = "socket tables" if not o.dbs else "families" if not o.families else "socket states"
        err.write("procnet ss: no %s to show with such filter.\n" % what)
        return 0
    protos = _protos(o)
    kinds = set(o.dbs)
    records: List[Any] = []
    # -i and -m print what only the kernel's sock_diag answer has: ask it (the live
    # machine's own namespace), never the text tables, which would show nothing.
    backend = "auto"
    kernel_details = False
    if o.info or o.memory:
        backend = "netlink" if fs.is_live() else "proc"
    if protos:
        from .._parse.netlink import NetlinkUnavailable

        def query(backend: str) -> List[Any]:
            # the names ss's flags chose (a list of str) and the options they mean
            selected: Any = protos
            options: Dict[str, Any] = dict(
                state=o.states,
                owners=o.users,
                root=fs.root,
                filter=flt if flt is not None and flt.expression is not None else None,
                backend=backend,
                tcp_info=bool(o.info or o.memory),
            )
            return Query(selected, **options).run()

        try:
            try:
                records = query(backend)
                kernel_details = backend == "netlink"
            except (NetlinkUnavailable, ValueError):
                if backend != "netlink":
                    raise
                backend = "proc"
                records = query(backend)
        except (ProcNetError, OSError, ValueError) as exc:
            err.write(message("procnet ss", str(exc)))
            return 1
    if (o.info or o.memory) and not kernel_details and protos:
        err.write(message(
            "procnet ss",
            "-%s: no TCP info or memory counters to show: they come from the kernel's sock_diag "
            "answer, and these sockets were read from the text tables of %s"
            % ("i" if o.info else "m", fs.root),
        ))
    # Sorting before dropping the unix kinds not asked for keeps the same order (the
    # sort is stable), and sorts the query's own list in place.
    records.sort(key=_order)
    renderer = Renderer(o, ephemeral, ProcFS.clock_ticks(), kernel_details)
    if o.json:
        _write_json(records, kinds, renderer, out)
        return 0
    cols = _columns(o)
    enabled = [i for i, c in enumerate(cols) if not c.disabled]
    pick = None if len(enabled) == len(cols) else itemgetter(*enabled)
    lines: List[Tuple[str, ...]] = []
    if o.header:
        lines.append(tuple(cols[i].header for i in enabled))
    row = renderer.row
    # Each record is let go as soon as its cells are made: the cells are much smaller.
    for i, rec in enumerate(records):
        records[i] = None
        if rec.proto == "unix" and unix_netid(rec.type) not in kinds:
            continue
        cells = row(rec)
        lines.append(cells if pick is None else pick(cells))
    has_rows = len(lines) > (1 if o.header else 0)
    del records
    width = None
    if out.isatty():
        try:
            width = os.get_terminal_size(out.fileno()).columns or None
        except (OSError, ValueError):
            width = None
    for chunk in column_chunks(cols, lines, width, last_cell_unmeasured=has_rows):
        out.write(chunk)
    return 0


def _write_json(records: List[Any], kinds: Set[str], renderer: Renderer, out: IO[str]) -> None:
    """``--json``: one object per socket, written as soon as it is made."""
    import json

    from .._json import to_jsonable

    for i, rec in enumerate(records):
        records[i] = None
        if rec.proto == "unix" and unix_netid(rec.type) not in kinds:
            continue
        obj = to_jsonable(rec)
        obj["ss"] = {k: v for k, v in renderer.cells(rec).items() if not k.startswith("_")}
        out.write(json.dumps(obj, sort_keys=True) + "\n")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``procnet ss ARGS``; returns the exit status."""
    return run(sys.argv[1:] if argv is None else argv, sys.stdout, sys.stderr)
