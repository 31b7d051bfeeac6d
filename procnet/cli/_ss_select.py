"""``procnet ss``'s command line as data, and what it selects: no I/O in this module.

:data:`FLAGS` lists ss's options (spellings, what each sets); :func:`parse_args` reads a
command line with them into :class:`Options` (frozen); :func:`select` works out, as
iproute2's ``misc/ss.c`` ``main()`` does, which tables, families and states are shown,
which columns, and where the records come from (:class:`Selection`, frozen). The
command (:mod:`procnet.cli.ss`) does the I/O: it reads the proc root, compiles the
FILTER (whose ``state``/``exclude`` clauses and family words feed :func:`select`),
queries, and renders.
"""

from __future__ import annotations

import dataclasses
import getopt
import socket
from typing import TYPE_CHECKING, Any, Dict, FrozenSet, Iterable, List, NamedTuple, Optional, Sequence, Tuple

from .._vocab import ss_unix_netid

if TYPE_CHECKING:
    from typing_extensions import Literal

    from .._records import TcpState
else:
    from typing import Literal  # 3.8+

#: Where records come from (procnet.Query's ``backend=``).
Backend = Literal["auto", "proc", "netlink"]

# The ss tables procnet reads ("dbs" in ss.c): each is shown or not on its own; a unix
# table is named by its Netid.
TCP, UDP, RAW = "tcp", "udp", "raw"
U_STR, U_DGR, U_SEQ = (ss_unix_netid(t) for t in (socket.SOCK_STREAM, socket.SOCK_DGRAM,
                                                   socket.SOCK_SEQPACKET))
INET_TABLES = (TCP, UDP, RAW)
UNIX_TABLES = (U_STR, U_DGR, U_SEQ)
ALL_TABLES = frozenset(INET_TABLES + UNIX_TABLES)
_INET_FAMILIES = frozenset({int(socket.AF_INET), int(socket.AF_INET6)})
_UNIX_FAMILIES = frozenset({int(socket.AF_UNIX)})

#: The columns of ss's table, in its order (the fields of :class:`procnet.cli._ss_rows.Row`).
COLUMNS = ("netid", "state", "recv_q", "send_q", "local", "local_port", "peer", "peer_port", "process")


class UsageError(Exception):
    """A command line procnet ss cannot run; the message says what to write instead."""


class Flag(NamedTuple):
    """One option of ss: its spellings and what it sets in :class:`Options`."""

    #: the letter of ``-t`` ("" for an option with a long spelling only)
    short: str
    #: the word of ``--tcp``
    long: str
    #: the switches it turns on (:attr:`Options.switches`)
    sets: Tuple[str, ...] = ()
    #: a socket table it adds (ss's ``filter_db_set``)
    table: str = ""
    #: an address family it adds (ss's ``filter_af_set``): 0 for none
    family: int = 0
    #: the state flag it is (``-a``: "all", ``-l``: "listening"); the last one given counts
    states: str = ""
    #: the :class:`Options` field its argument goes to ("" for an option without one)
    argument: str = ""


#: ss's options procnet takes, in ss's ``--help`` order.
FLAGS: Tuple[Flag, ...] = (
    Flag("t", "tcp", table=TCP),
    Flag("u", "udp", table=UDP),
    Flag("w", "raw", table=RAW),
    Flag("x", "unix", family=int(socket.AF_UNIX)),
    Flag("4", "ipv4", family=int(socket.AF_INET)),
    Flag("6", "ipv6", family=int(socket.AF_INET6)),
    Flag("l", "listening", states="listening"),
    Flag("a", "all", states="all"),
    Flag("n", "numeric", sets=("numeric",)),
    Flag("r", "resolve", sets=("resolve",)),
    Flag("p", "processes", sets=("processes",)),
    Flag("e", "extended", sets=("extended", "timers")),  # ss -e implies -o
    Flag("o", "options", sets=("timers",)),
    Flag("i", "info", sets=("info",)),
    Flag("m", "memory", sets=("memory",)),
    Flag("s", "summary", sets=("summary",)),
    Flag("N", "net", argument="net"),
    Flag("H", "no-header", sets=("no_header",)),
    Flag("O", "oneline", sets=("oneline",)),
    Flag("h", "help", sets=("help",)),
    Flag("V", "version", sets=("version",)),
    Flag("", "json", sets=("json",)),
    Flag("", "root", argument="root"),
    Flag("", "netns", argument="netns"),  # procnet's own: the library's netns=
)

#: ss's options procnet does not take: named in the usage error.
UNSUPPORTED = frozenset("KEZzAfbMSdD0F")

_SPELLINGS: Dict[str, Flag] = {}
for _flag in FLAGS:
    if _flag.short:
        _SPELLINGS["-" + _flag.short] = _flag
    _SPELLINGS["--" + _flag.long] = _flag
_SHORT = "".join(f.short + (":" if f.argument else "") for f in FLAGS if f.short)
_LONG = [f.long + ("=" if f.argument else "") for f in FLAGS]
SWITCHES = frozenset(name for f in FLAGS for name in f.sets)


@dataclasses.dataclass(frozen=True)
class Options:
    """The parsed command line, before anything is worked out from it."""

    #: -t -u -w: the tables asked for by name
    tables: FrozenSet[str] = frozenset()
    #: -x -4 -6: the families asked for
    families: FrozenSet[int] = frozenset()
    #: the last of -x -4 -6 (how the FILTER reads a bare address), None without one
    preferred_family: Optional[int] = None
    #: "all" (-a), "listening" (-l), or "" (neither: each table's default states)
    state_flag: str = ""
    #: the on/off options given, by the names :data:`FLAGS` sets (each a property below)
    switches: FrozenSet[str] = frozenset()
    #: --root DIR
    root: Optional[str] = None
    #: -N NAME: the network namespace named NAME under /run/netns
    net: Optional[str] = None
    #: --netns all|PID (procnet's own): the library's ``netns=``
    netns: Optional[str] = None
    #: the FILTER, as its words
    filter_words: Tuple[str, ...] = ()

    @property
    def numeric(self) -> bool:
        """-n: ports as numbers."""
        return "numeric" in self.switches

    @property
    def resolve(self) -> bool:
        """-r: host names."""
        return "resolve" in self.switches

    @property
    def processes(self) -> bool:
        """-p: the owners' ``users:(("name",pid=N,fd=M))``."""
        return "processes" in self.switches

    @property
    def extended(self) -> bool:
        """-e: uid, inode, socket cookie..."""
        return "extended" in self.switches

    @property
    def timers(self) -> bool:
        """-o (and -e): the timers."""
        return "timers" in self.switches

    @property
    def info(self) -> bool:
        """-i: TCP details."""
        return "info" in self.switches

    @property
    def memory(self) -> bool:
        """-m: memory counters."""
        return "memory" in self.switches

    @property
    def summary(self) -> bool:
        """-s: the summary of the kernel's socket counters."""
        return "summary" in self.switches

    @property
    def no_header(self) -> bool:
        """-H."""
        return "no_header" in self.switches

    @property
    def oneline(self) -> bool:
        """-O: -i/-m on the socket's line."""
        return "oneline" in self.switches

    @property
    def json(self) -> bool:
        """--json."""
        return "json" in self.switches

    @property
    def help(self) -> bool:
        """-h."""
        return "help" in self.switches

    @property
    def version(self) -> bool:
        """-V."""
        return "version" in self.switches

    @property
    def default_tables(self) -> bool:
        """No table and no family was named: ss's ``do_default`` (every table)."""
        return not self.tables and not self.families

    @property
    def kernel_details(self) -> bool:
        """-i or -m: what only sock_diag's answer carries is asked for."""
        return self.info or self.memory


def parse_args(argv: Sequence[str]) -> Options:
    """The command line as :class:`Options`, read with :data:`FLAGS` (GNU getopt: flags
    and FILTER words may mix, ``--`` ends the flags). Raises :class:`UsageError`.

    >>> parse_args(["-tn", "sport", "=", ":22"]).filter_words
    ('sport', '=', ':22')
    """
    try:
        opts, rest = getopt.gnu_getopt(list(argv), _SHORT, _LONG)
    except getopt.GetoptError as exc:
        hint = "run 'procnet ss --help' for the options"
        if exc.opt and exc.opt in UNSUPPORTED:
            hint = "procnet ss does not support ss's -%s; %s" % (exc.opt, hint)
        raise UsageError("%s; %s" % (exc.msg, hint)) from None
    tables: List[str] = []
    families: List[int] = []
    switches: List[str] = []
    given: Dict[str, Any] = {}  # Options field -> value
    for spelling, value in opts:
        flag = _SPELLINGS[spelling]
        if flag.table:
            tables.append(flag.table)
        if flag.family:
            families.append(flag.family)
            given["preferred_family"] = flag.family
        if flag.states:
            given["state_flag"] = flag.states
        if flag.argument:
            given[flag.argument] = value
        switches.extend(flag.sets)
    return Options(tables=frozenset(tables), families=frozenset(families), switches=frozenset(switches),
                   filter_words=tuple(rest), **given)


def filter_protocols(o: Options) -> List[str]:
    """The protocols whose service names a FILTER's port words may use (ss: those asked)."""
    return [p for p in (TCP, UDP) if p in o.tables or o.default_tables] or [TCP, UDP]


class Selection(NamedTuple):
    """What the command shows, and where it reads it from (immutable: a plan, then done)."""

    #: the tables shown (ss's dbs): tcp, udp, raw, u_str, u_dgr, u_seq
    tables: FrozenSet[str]
    #: the address families shown (``socket.AF_INET``, ``AF_INET6``, ``AF_UNIX``)
    families: FrozenSet[int]
    #: the states shown
    states: FrozenSet["TcpState"]
    #: the tables queried, as :class:`procnet.Query` names them, in ss's order
    protos: Tuple[str, ...]
    #: the columns shown (of :data:`COLUMNS`): Netid when more than one table can show,
    #: State when more than one state can
    columns: Tuple[str, ...]
    #: where the records come from: "auto" (sock_diag where it answers, else the text),
    #: "netlink" (-i/-m on the live machine: only sock_diag has what they print), or
    #: "proc" (-i/-m elsewhere: the text tables, which have none of it)
    backend: Backend
    #: "netlink" may fall back to the text tables when sock_diag is unavailable (only
    #: then: a malformed answer is an error, not a reason to read something else)
    fallback: bool
    #: ask the kernel for tcp_info and memory counters (-i, -m)
    tcp_info: bool
    #: why nothing can be shown ("socket tables", "families", "socket states"), or ""
    nothing: str = ""


def _state_sets() -> Dict[str, FrozenSet["TcpState"]]:
    from .. import _states
    from .._records import TcpState

    return {
        "all": _states.ALL,
        "listening": _states.LISTENING,
        "connected": _states.DEFAULT,  # ss.c SS_CONN
        "established": frozenset({TcpState.ESTABLISHED}),
        "close": frozenset({TcpState.CLOSE}),
    }


# Each table's default states (ss.c default_dbs[].states); a family's is SS_CONN (default_afs).
_TABLE_STATES = {TCP: "connected", UDP: "established", RAW: "established", U_STR: "connected",
                 U_SEQ: "connected", U_DGR: "close"}


def _table_families(table: str) -> FrozenSet[int]:
    return _UNIX_FAMILIES if table in UNIX_TABLES else _INET_FAMILIES


def _family_tables(family: int) -> FrozenSet[str]:
    return frozenset(UNIX_TABLES if family == socket.AF_UNIX else INET_TABLES)


def _merge_defaults(
    tables: FrozenSet[str], families: FrozenSet[int]
) -> Tuple[FrozenSet[str], FrozenSet[int]]:
    """ss.c filter_merge_defaults: a table adds its families unless one of them was
    asked; a family adds its tables unless one of them was."""
    more_families = set(families)
    for table in tables:
        if not _table_families(table) & families:
            more_families |= _table_families(table)
    more_tables = set(tables)
    for family in more_families:
        if not _family_tables(family) & tables:
            more_tables |= _family_tables(family)
    return frozenset(more_tables), frozenset(more_families)


def _protos(tables: Iterable[str], families: FrozenSet[int]) -> Tuple[str, ...]:
    """The Query names of the shown tables: tcp4, tcp6, udp4, ... in ss's order, and unix."""
    shown = frozenset(tables)
    versions = [v for v, f in (("4", socket.AF_INET), ("6", socket.AF_INET6)) if f in families]
    out = [t + v for t in INET_TABLES if t in shown for v in versions]
    if socket.AF_UNIX in families and shown & frozenset(UNIX_TABLES):
        out.append("unix")
    return tuple(out)


def select(
    o: Options,
    filter_states: Optional[FrozenSet["TcpState"]] = None,
    filter_families: Optional[FrozenSet[int]] = None,
    live: bool = True,
) -> Selection:
    """What ``o`` shows, as ss.c main() works it out: ``filter_db_set`` / ``filter_af_set``
    for each flag, then ``filter_states_set`` and ``filter_merge_defaults``.

    ``filter_states`` and ``filter_families`` are what the FILTER's ``state`` /
    ``exclude`` clauses and family words (``inet6``, ``unix``) select, None when it has
    none: its states replace ``-l``/``-a``, its families the flags'. ``live``: the proc
    root is this machine's own, which sock_diag can answer for.

    >>> s = select(parse_args(["-tl"]))
    >>> s.protos, sorted(st.name for st in s.states), s.columns[:2]
    (('tcp4', 'tcp6'), ['CLOSE', 'LISTEN'], ('state', 'recv_q'))
    """
    sets = _state_sets()
    states: FrozenSet["TcpState"] = frozenset()
    for table in o.tables:
        states |= sets[_TABLE_STATES[table]]
    if o.families:
        states |= sets["connected"]
    state_filter = sets[o.state_flag] if o.state_flag else None
    if filter_states is not None:
        state_filter = filter_states  # ss: a "state"/"exclude" clause replaces -l/-a
    tables = o.tables
    if o.default_tables:
        state_filter = state_filter or sets["connected"]
        tables = ALL_TABLES
    states = state_filter or states
    tables, families = _merge_defaults(tables, o.families)
    if filter_families is not None:
        families = frozenset(filter_families)
    return Selection(
        tables=tables,
        families=families,
        states=states,
        protos=_protos(tables, families),
        columns=_columns(tables, states),
        backend=_backend(o, live),
        fallback=o.kernel_details and live,
        tcp_info=o.kernel_details,
        nothing=_nothing(tables, families, states),
    )


def _backend(o: Options, live: bool) -> Backend:
    """sock_diag where it answers; for -i/-m, only sock_diag (the live machine) or, elsewhere,
    the text tables (which have nothing for them: the command says so)."""
    if not o.kernel_details:
        return "auto"
    return "netlink" if live else "proc"


def _columns(tables: FrozenSet[str], states: FrozenSet["TcpState"]) -> Tuple[str, ...]:
    """ss's render(): Netid only when more than one table is listed, State only when more
    than one state can be."""
    hidden = {"netid"} if len(tables) <= 1 else set()
    if len(states) <= 1:
        hidden.add("state")
    return tuple(c for c in COLUMNS if c not in hidden)


def _nothing(tables: FrozenSet[str], families: FrozenSet[int], states: FrozenSet["TcpState"]) -> str:
    """What is missing for anything to show (ss: "no socket tables to show with such filter")."""
    for missing, what in ((not tables, "socket tables"), (not families, "families"),
                          (not states, "socket states")):
        if missing:
            return what
    return ""


__all__ = [
    "ALL_TABLES",
    "SWITCHES",
    "COLUMNS",
    "FLAGS",
    "Flag",
    "Options",
    "Selection",
    "UNSUPPORTED",
    "UsageError",
    "filter_protocols",
    "parse_args",
    "select",
]
