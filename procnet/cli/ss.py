"""``procnet ss``: iproute2's ``ss``, read from the proc tables (and sock_diag where it answers).

Flags mean what they mean for ss (iproute2 ``misc/ss.c``): ``-t -u -w -x -4 -6`` choose
the tables and families, with ss's own rules for combining them (``-x -4`` lists unix and
every inet table; ``-t -6`` TCP over IPv6 only); ``-l`` listening (and unconnected
datagram) sockets, ``-a`` all; without either, each table's default states (connected
TCP and stream sockets, connected UDP/raw, nothing else). FILTER is ss's expression
language (:mod:`procnet._filter`); its ``state``/``exclude`` clauses replace ``-l``/``-a``
as they do in ss. Columns and their widths follow ss's ``render()``: Netid only when more
than one table is listed, State only when more than one state can be. Like ss, a large
table is printed in pieces, one each time ss's output buffer holds five 1 MiB chunks,
each piece as wide as the widest cells seen so far.

Where the output differs from ss, and why:

* Only tcp, udp, raw and unix sockets are listed: the netlink, packet, dccp, sctp, mptcp,
  vsock, tipc and xdp tables are not read, so ``procnet ss`` without a protocol flag shows
  fewer rows than ``ss`` (which also lists ``nl`` and ``p_raw`` sockets).
* ``[::]`` for a v6-only socket: ss learns IPV6_V6ONLY from sock_diag; procnet's records
  do not carry it. A socket bound to a specific IPv6 address is v6-only (the kernel sets
  it at bind), so its ``::`` peer prints ``[::]`` as in ss; a wildcard socket made v6-only
  with setsockopt prints ``*`` where ss prints ``[::]``. ``-e``'s ``v6only:`` (AF_INET6
  sockets in LISTEN or CLOSE) and ``cgroup:`` come from sock_diag too, so neither prints
  for rows read from the text tables (nor does ss's own /proc reader print them).
* ``-e`` ``cgroup:``: the socket's cgroup id (``InetSocket.cgroup_id``) resolved as ss's
  cg_id_to_path does, against the first cgroup2 mount (:mod:`procnet.cli._ss_cgroup`);
  an id no walk of it finds prints ``unreachable:<hex>``, where ss first asks the kernel
  with open_by_handle_at (a cgroup moved or made since the walk: procnet walks once
  more instead); a capture's ids name another machine's cgroups, so ``--root`` prints
  them from the id -> path map the capture stored (``sock_diag/cgroup2.json``), and none
  for an older bundle without it. ``fwmark:`` (INET_DIAG_MARK, sent to CAP_NET_ADMIN only) is not decoded,
  so a marked socket's ``fwmark:0x...`` is missing; ``--cgroup``, ``--tos`` and
  ``--inet-sockopt`` are not supported.
* Send-Q of a TCP listener is the backlog passed to listen() only when the record came
  from sock_diag (``listen_backlog``, live or a capture's stored answer); the text table
  has no backlog, so it prints 0 (an older bundle, ``--netns``). ``-i`` from a capture
  prints its stored tcp_info; ``lastsnd``/``lastrcv``/``lastack`` count to the capture.
* unix sockets: the peer's inode (Peer "port") and the queues come from sock_diag
  (``peer_inode``, ``rqueue``, ``wqueue``); from the text table they print as 0, as ss's
  own /proc reader prints them. Rows are sorted by type and inode, as ss's /proc reader
  sorts them (ss's netlink order is the kernel's hash order).
* ``-e`` ``sk:`` is the socket cookie (``cookie``) with sock_diag, as ss prints it, else
  the text table's (hashed) ``pointer``, as ss's own /proc reader prints it; a record with
  neither prints no ``sk:``. ``-K``, ``-E``, ``-Z``, ``-A``, ``-f`` are not supported.
* ``-s`` prints what ss 6.1's print_summary prints, from the same counters
  (``net/sockstat``, ``net/sockstat6``, ``Tcp: CurrEstab`` of ``net/snmp``:
  :mod:`procnet.cli._ss_summary`); a file that cannot be read counts 0 and is named on
  stderr (ss: ``ss: get_sockstat: ...``). ``-s`` with a table, a family or a FILTER prints
  the summary and then the table, as ss does. ``-s --netns all`` is a usage error (the
  counters are one namespace's).
* ``-N NAME``: ss enters ``/run/netns/NAME`` for its whole process and remounts ``/sys``
  in a mount namespace of its own; procnet runs the command in a thread that entered
  it (:mod:`procnet.cli._ss_netns`), its own namespace untouched. Rows are ss's, byte for
  byte, but for ``-e``'s ``cgroup:``: ss's remount hides a cgroup2 mount under ``/sys``,
  so it prints ``cgroup:unreachable:<id>`` where procnet prints the path. Messages are
  ss's (``Cannot open network namespace "NAME": ...``), exit status 1.
* ``--netns all|PID`` is procnet's own (the library's ``netns=``): the namespace of a
  process, or of every process, read from their text tables (``<pid>/net/...``), so a
  TCP listener's Send-Q prints 0, unix peers 0, and ``-e`` has no ``sk:`` cookie nor
  ``cgroup:`` (``-i``/``-m``: a note, as for ``--root``). With ``all`` each namespace's
  rows are a table of their own (own widths), under a line ``netns: net:[INODE]``, in
  the order of their first row, as ``ip -all netns exec ss`` heads each namespace's
  output with ``netns: NAME``; ``--json`` gives every object its ``netns``.
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
objects, with ``-p`` each with its process's ``cmdline``, ``uid``, ``user`` and
``cgroup``: the library's ``details=True``), and under ``"ss"`` the rendered columns: ``netid``, ``state``, ``recv_q``,
``send_q`` (ints), ``local_address``, ``local_port``, ``peer_address``, ``peer_port``,
``process`` (strings, as printed, escaped).
"""

# How this works
# --------------
# flags -> options: FLAGS (_ss_select.py) is ss's option table, spellings and what each
#   sets; parse_args() reads argv with it (GNU getopt) into a frozen Options. Nothing is
#   decided there.
# options -> selection: select() works out what ss.c main() works out (filter_db_set,
#   filter_af_set, filter_states_set, filter_merge_defaults): the tables, families and
#   states shown, the columns, and the backend. It does no I/O: the FILTER's state and
#   family clauses and whether the proc root is the live one are its arguments.
# selection -> query: _records() runs one procnet.Query for the selection's tables.
#   -i/-m need sock_diag; only NetlinkUnavailable (the kernel or a sandbox refuses it)
#   makes it read the text tables instead. Any other error, a malformed netlink reply's
#   ParseError included, is printed as a message (exit status 1).
# query -> rows: the records, in ss's order (_ss_rows.order; a query of one protocol
#   comes in that order already), become typed Rows one at a time, each record let go
#   once its cells are made (_ss_rows.Renderer; the -i/-m text from _ss_info).
# rows -> renderer: SsTable (render.py) buffers the rows as ss buffers its output and
#   prints them in the pieces ss prints (widths from every row seen so far); --json
#   writes one object per record instead.

from __future__ import annotations

import gc
import os
import sys
from itertools import islice
from typing import IO, TYPE_CHECKING, Dict, Iterator, List, Optional, Sequence, Tuple, cast

from .._records import UnixSocket
from ._ss_rows import HEADER, Renderer, Row, ms_timer, order, unix_netid, users_text
from ._ss_select import (
    COLUMNS,
    FLAGS,
    Flag,
    Options,
    Selection,
    UsageError,
    filter_protocols,
    parse_args,
    select,
)
from .render import LEFT, RIGHT, Column, SsTable, filter_error_text, message

if TYPE_CHECKING:
    from ._ss_select import Backend
    from .._filter import Filter
    from .._proc import ProcFS
    from .._query import NetnsSpec, ProtoSpec
    from .._records import IPAddress, Socket
    from ._ss_cgroup import CgroupPaths

USAGE = """\
usage: procnet ss [-tuwx46] [-l|-a] [-nrpeoimsHO] [-N NAME | --netns all|PID] [--json] [--root DIR] [FILTER...]

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
  -s, --summary      the kernel's socket counters (net/sockstat), as ss -s
  -N, --net NAME     the network namespace NAME (ip netns add NAME), as ss -N
      --netns all|PID  procnet's own: every namespace a process is in (a table
                     each, under "netns: net:[INODE]"), or PID's namespace
  -H, --no-header    no header line         -O, --oneline    one line per socket
      --json         one JSON object per socket (JSON Lines)
      --root DIR     read this proc root (default: $PROC_ROOT, else the live one)
  -h, --help         this message           -V, --version    procnet's version

FILTER: ss's expression, e.g.  state established '( dport = :ssh or sport = :https )'
"""

_PROG = "procnet ss"

# ss's columns (misc/ss.c columns[]): alignment, header, left delimiter; the "Process"
# column is ss's COL_EXT, where it writes users:(...), timers and details.
_LAYOUT = {
    "netid": (LEFT, ""),
    "state": (LEFT, " "),
    "recv_q": (LEFT, " "),
    "send_q": (LEFT, " "),
    "local": (RIGHT, " "),
    "local_port": (LEFT, ""),
    "peer": (RIGHT, " "),
    "peer_port": (LEFT, ""),
    "process": (LEFT, ""),
}


def columns(selection: Selection) -> List[Column]:
    """ss's columns, those the selection does not show disabled."""
    return [Column(_LAYOUT[name][0], header, _LAYOUT[name][1], disabled=name not in selection.columns)
            for name, header in zip(COLUMNS, HEADER)]


# -- the command ------------------------------------------------------------------------


def run(argv: Sequence[str], out: IO[str], err: IO[str]) -> int:
    """The whole command, writing to ``out``/``err``; returns the exit status."""
    try:
        o = parse_args(argv)
    except UsageError as exc:
        err.write(message(_PROG, str(exc)))
        return 2
    if o.help:
        out.write(USAGE)
        return 0
    if o.version:
        from .. import __version__

        out.write("procnet ss %s (iproute2 ss's output)\n" % __version__)
        return 0

    from .._errors import ProcNetError

    # The cyclic collector would walk every live record and cell again and again as a
    # large table is built (full passes over a million objects at 100,000 sockets);
    # nothing here makes garbage cycles that matter for one command.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _run(o, out, err)
    except BrokenPipeError:
        raise  # the reader left: procnet.cli.main ends quietly
    except ProcNetError as exc:
        err.write(message(_PROG, str(exc)))
        return 1
    except OSError as exc:
        if exc.filename is None:
            raise  # the output cannot be written (/dev/full): procnet.cli.main says so in one line
        # a file of the proc root that cannot be read, a malformed table or netlink reply:
        # its name escaped, the file, line and reason of a ParseError
        err.write(message(_PROG, str(exc)))
        return 1
    finally:
        if collecting:
            gc.enable()


def _run(o: Options, out: IO[str], err: IO[str]) -> int:
    fs = _proc_root(o, err)
    if fs is None:
        return 2
    if o.net is None and o.netns is None:
        return _show(o, fs, None, out, err)
    from ._ss_netns import NamespaceError, in_namespace

    try:
        return in_namespace(o.net, o.netns, fs, lambda netns: _show(o, fs, netns, out, err))
    except UsageError as exc:
        err.write(message(_PROG, str(exc)))
        return 2
    except NamespaceError as exc:
        err.write(message(_PROG, str(exc)))
        return 1


def _show(o: Options, fs: "ProcFS", netns: "NetnsSpec", out: IO[str], err: IO[str]) -> int:
    """The summary (-s) and the table of the namespace ``netns`` (the library's ``netns=``)."""
    if o.summary:
        status = _summary(o, fs, netns, out, err)
        if status is not None:
            return status
    ephemeral = fs.local_port_range()
    flt: Optional["Filter"] = None
    if o.filter_words:
        flt = _compile_filter(o, ephemeral, err)
        if flt is None:
            return 2
    selection = select(
        o,
        None if flt is None else flt.states,
        None if flt is None else flt.families,
        # sock_diag answers for this process's namespace, and for -N's (asked from a
        # thread inside it: procnet.cli._ss_netns), not for --netns's
        live=((fs.is_live() or fs.has_sock_diag()) and o.netns is None) if o.kernel_details else True,
    )
    if selection.nothing:
        err.write("procnet ss: no %s to show with such filter.\n" % selection.nothing)
        return 0
    records, from_kernel = _records(selection, o, fs, flt, netns)
    if o.kernel_details and not from_kernel and selection.protos:
        err.write(message(_PROG, "-%s: no TCP info or memory counters to show: they come from the kernel's "
                                 "sock_diag answer, and these sockets were read from the text tables of %s"
                                 % ("i" if o.info else "m", fs.root)))
    if not _in_ss_order(selection.protos):
        # Sorting before dropping the unix kinds not asked for keeps the same order (the
        # sort is stable), and sorts the query's own list in place.
        records.sort(key=order)
    _write(records, Renderer(o, ephemeral, fs.clock_ticks(), from_kernel, _cgroups(o, fs)), selection, o, netns, out)
    return 0


def _cgroups(o: Options, fs: "ProcFS") -> Optional["CgroupPaths"]:
    """-e's cgroup id -> path resolver: the live machine's cgroup2 mount, or a bundle's own map."""
    if o.extended and (fs.is_live() or fs.stored_cgroup_paths() is not None):
        from ._ss_cgroup import CgroupPaths

        return CgroupPaths(fs)
    return None


def _write(records: List["Socket"], renderer: Renderer, selection: Selection, o: Options, netns: "NetnsSpec",
           out: IO[str]) -> None:
    """The rows: one table, one per namespace (--netns all), or JSON objects."""
    if netns == "all" and not o.json:
        _write_sections(records, renderer, selection, o, out)
    elif o.json:
        _write_json(_shown(records, selection), renderer, out)
    else:
        _write_table(_shown(records, selection), renderer, selection, o, out)


def _summary(o: Options, fs: "ProcFS", netns: "NetnsSpec", out: IO[str], err: IO[str]) -> Optional[int]:
    """-s: the summary; the exit status when that is all there is to do (ss: -s without a
    table, a family or a FILTER), else None (the table follows)."""
    if netns == "all":
        err.write(message(_PROG, "-s counts the sockets of one network namespace: give --netns PID, "
                                 "-N NAME, or neither (this process's)"))
        return 2
    _write_summary(fs, netns, out, err)
    return 0 if o.default_tables and not o.filter_words else None


def _write_sections(records: List["Socket"], renderer: Renderer, selection: Selection, o: Options,
                    out: IO[str]) -> None:
    """``--netns all``: a table per network namespace, in the order their first rows come,
    each under a line ``netns: net:[INODE]`` (its ``ns/net`` link), as ``ip -all netns
    exec ss`` heads each namespace's output with ``netns: NAME``."""
    groups: Dict[Optional[int], List["Socket"]] = {}
    for rec in records:
        groups.setdefault(rec.netns, []).append(rec)
    records.clear()
    for ns, members in groups.items():
        out.write("netns: %s\n" % ("net:[%d]" % ns if ns is not None else "?"))
        _write_table(_shown(members, selection), renderer, selection, o, out)


def _write_summary(fs: "ProcFS", netns: "NetnsSpec", out: IO[str], err: IO[str]) -> None:
    """ss -s: the kernel's counters of the namespace (:mod:`procnet.cli._ss_summary`). A file
    that cannot be read counts 0 and is named on stderr, as ss goes on without it."""
    from .._errors import ProcNetError
    from ._ss_summary import read_sockstat, snmp_value, summary_text

    pid = netns if isinstance(netns, int) else None
    texts: List[Optional[str]] = []
    for table in ("sockstat", "sockstat6", "snmp"):
        try:
            texts.append(fs.read_net_text(table, pid))
        except (OSError, ProcNetError) as exc:
            err.write(message(_PROG, "-s: %s" % exc))
            texts.append(None)
    for table, text in (("sockstat", texts[0]), ("snmp", texts[2])):
        if text is None:
            where = fs.net_dir(pid)
            err.write(message(_PROG, "-s: no %s in %s: its counters print as 0" % (table, where)))
    estab = snmp_value(texts[2], "Tcp:", "CurrEstab")
    out.write(summary_text(read_sockstat(texts[0], texts[1]), estab or 0))


def _proc_root(o: Options, err: IO[str]) -> Optional["ProcFS"]:
    """The proc root to read (--root, else $PROC_ROOT, else the live one); None after
    saying why it cannot be used."""
    from .._proc import ProcFS

    root = o.root or os.environ.get("PROC_ROOT") or None
    try:
        return ProcFS(root) if root else ProcFS()
    except (TypeError, ValueError) as exc:
        err.write(message(_PROG, str(exc)))
        return None


def _resolve(name: str) -> List["IPAddress"]:
    """A FILTER's host name's addresses: none when it does not resolve in time (the
    filter then says so, pointing at the name)."""
    from .render import resolve_host_address

    try:
        return list(resolve_host_address(name))
    except ValueError:
        return []


def _compile_filter(o: Options, ephemeral: Tuple[int, int], err: IO[str]) -> Optional["Filter"]:
    """The FILTER, compiled as ss reads it under these flags; None after a message."""
    from .._filter import FilterError, compile_filter

    try:
        return compile_filter(
            list(o.filter_words),
            family=o.preferred_family,
            protocols=filter_protocols(o),
            resolve=_resolve,
            ephemeral_ports=ephemeral,
        )
    except FilterError as exc:
        err.write("procnet ss: bad FILTER: %s\n" % filter_error_text(exc))
        err.write("procnet ss: write a filter as ss reads it, e.g. 'sport = :22', 'state established', "
                  "'dst 10.0.0.0/8'\n")
        return None


def _records(
    selection: Selection, o: Options, fs: "ProcFS", flt: Optional["Filter"], netns: "NetnsSpec" = None
) -> Tuple[List["Socket"], bool]:
    """The selected sockets, and whether they came from sock_diag with the kernel's
    details (-i, -m). Only NetlinkUnavailable sends -i/-m to the text tables."""
    if not selection.protos:
        return [], False
    from .._parse.netlink import NetlinkUnavailable
    from .._query import Query

    def ask(backend: "Backend") -> List["Socket"]:
        return Query(
            cast("ProtoSpec", list(selection.protos)),
            state=selection.states,
            owners=o.processes,
            # --json -p: the owners' cmdline, uid and cgroup too (a file or three more
            # per owning process, which the table does not print)
            details=o.processes and o.json,
            root=fs.root,
            filter=flt if flt is not None and flt.expression is not None else None,
            backend=backend,
            tcp_info=selection.tcp_info,
            netns=netns,
        ).run()

    try:
        return ask(selection.backend), selection.backend == "netlink"
    except NetlinkUnavailable:
        if not selection.fallback:
            raise
    return ask("proc"), False


def _in_ss_order(protos: Sequence[str]) -> bool:
    """Whether the query's records are in ss's order already. A query reads its tables in
    procnet's order (tcp, tcp6, udp, udp6, raw, raw6, unix: ``procnet.Query``), ss in its
    own (unix, raw, udp, tcp; IPv4 before IPv6): the same when one inet protocol is read."""
    return "unix" not in protos and len({p.rstrip("46") for p in protos}) <= 1


def _shown(records: List["Socket"], selection: Selection) -> Iterator["Socket"]:
    """The records to print, in order, each let go by the list as it is taken (its cells
    are much smaller); the unix kinds not asked for are left out (the query reads them all)."""
    tables = selection.tables
    records.reverse()
    pop = records.pop
    while records:
        rec = pop()
        if isinstance(rec, UnixSocket) and unix_netid(rec.type) not in tables:
            continue
        yield rec


def _screen_width(out: IO[str]) -> Optional[int]:
    """The terminal's width when ``out`` is one (ss spreads its columns over it), else None."""
    if not out.isatty():
        return None
    try:
        return os.get_terminal_size(out.fileno()).columns or None
    except (OSError, ValueError):
        return None


def _write_table(records: Iterator["Socket"], renderer: Renderer, selection: Selection, o: Options,
                 out: IO[str]) -> None:
    """The rows, in the pieces ss renders them in (:class:`~procnet.cli.render.SsTable`)."""
    table = SsTable(columns(selection), out.write, None if o.no_header else HEADER, _screen_width(out))
    rows = renderer.rows(records)
    while True:
        block = list(islice(rows, 1024))
        if not block:
            break
        table.add(block)
    table.end()


def _write_json(records: Iterator["Socket"], renderer: Renderer, out: IO[str]) -> None:
    """``--json``: one object per socket, written as soon as it is made."""
    import json

    from .._json import to_jsonable

    for rec in records:
        obj = to_jsonable(rec)
        obj["ss"] = renderer.cells(rec)
        out.write(json.dumps(obj, sort_keys=True) + "\n")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``procnet ss ARGS``; returns the exit status."""
    return run(sys.argv[1:] if argv is None else argv, sys.stdout, sys.stderr)


__all__ = [
    "FLAGS",
    "Flag",
    "Options",
    "Renderer",
    "Row",
    "Selection",
    "USAGE",
    "UsageError",
    "columns",
    "main",
    "ms_timer",
    "parse_args",
    "run",
    "select",
    "unix_netid",
    "users_text",
]
