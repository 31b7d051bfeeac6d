"""Which files ``procnet lsof`` lists: :func:`select` turns the parsed options into a
:class:`Selection`, :func:`wanted` decides for one row, :func:`exit_status` says whether
every search item was found. No I/O (a ``-i @host`` name is resolved by the caller, into
:attr:`Selection.hosts`).

lsof's rule (lsof(8), "-a"): the exclusions (``-p ^PID``, ``-u ^USER``, ``-c ^NAME``)
apply first, to every file; then the selections (``-p``, ``-u``, ``-c``, ``-d``, ``-i``,
``-U``, PATH) are ORed, or ANDed under ``-a``; with no selection every file is listed.
``-d ^FD`` is a selection like the others (the descriptors not listed), so ``-p 1 -d
^3`` lists every file of pid 1 and every other process's files but its descriptor 3,
as lsof does.

``-s TCP:STATE`` (dialects/linux/dsock.c) is an exclusion too: a TCP, UDP or UDP-Lite
socket whose state is left out (``^STATE``), or not listed when states are listed, is
not shown, whatever selects it; on Linux a UDP socket's state is in TCP's numbers (a
connected one ESTABLISHED, another CLOSE) and lsof filters it by the TCP names. Every
listed state is a search item: one that no listed socket is in makes the exit status 1.
"""

from __future__ import annotations

import posixpath
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple

from .._records import InetSocket, UnixSocket
from ._lsof_args import FdSet, InetSpec, Options
from .render import lsof_text

if TYPE_CHECKING:
    from .._query import Proto
    from .._records import IPAddress
    from ._lsof_rows import ProcessColumns, Row

#: The selections in the order :func:`wanted` tries them; those that are search items
#: (:data:`SEARCHES`) make the exit status 1 when they find nothing, as in lsof.
CRITERIA = ("pid", "user", "command", "fd", "inet", "unix", "path")
#: lsof main.c's closing checks: commands, files, -i, pids, uids (not -d, not -U)
SEARCHES = frozenset(("pid", "user", "command", "inet", "path"))


@dataclass(frozen=True)
class Selection:
    """What to list, decided from the command line before anything is read."""

    #: the active selections (names from :data:`CRITERIA`, in its order)
    criteria: Tuple[str, ...] = ()
    #: -a: a file must match every criterion (else any one)
    and_: bool = False
    pids: FrozenSet[int] = frozenset()
    users: FrozenSet[str] = frozenset()
    commands: Tuple[str, ...] = ()
    fds: Optional[FdSet] = None
    inet: Tuple[InetSpec, ...] = ()
    unix: bool = False
    #: absolute, normalized: the PATHs, and the files +d / +D found (each a search item)
    paths: Tuple[str, ...] = ()
    #: +d / +D directories matched by their text (where they could not be walked: a
    #: proc root that is not the live one): (absolute, normalized, True for the tree)
    dir_prefixes: Tuple[Tuple[str, bool], ...] = ()
    #: :attr:`paths` as a set (+D can make thousands of them)
    path_set: FrozenSet[str] = field(default=frozenset(), compare=False)
    #: a path of :attr:`paths` -> its name as the command line wrote it, where that differs
    #: (lsof's NAME for the file: ``sub/x`` for ``+D sub``)
    path_names: Dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    #: -s: TCP state numbers to list (empty: every state) and to leave out
    tcp_states: FrozenSet[int] = frozenset()
    not_tcp_states: FrozenSet[int] = frozenset()
    not_pids: FrozenSet[int] = frozenset()
    not_users: FrozenSet[str] = frozenset()
    not_commands: Tuple[str, ...] = ()
    #: the processes to read, in order; None: every process
    processes: Optional[Tuple[int, ...]] = None
    #: only sockets can match: read no cwd, rtd, txt, mem nor other descriptors
    sockets_only: bool = False
    #: only inet sockets can match and nothing else selects: find their owners by socket
    #: inode and read only those descriptors
    by_socket: bool = False
    #: the socket tables to read (``procnet.Query``'s ``proto=`` names)
    socket_protos: Tuple[Proto, ...] = ("all",)
    #: ``-i @host`` name -> its addresses (filled by the caller, who resolves them)
    hosts: Dict[str, Tuple[IPAddress, ...]] = field(default_factory=dict, compare=False, hash=False)


# -i [46][proto] -> the tables that can hold such sockets (a spec without a protocol
# matches UDP-Lite and raw sockets too)
_SOCKET_PROTOS: Dict[Tuple[Optional[str], Optional[int]], Tuple[Proto, ...]] = {
    ("tcp", None): ("tcp",),
    ("tcp", 4): ("tcp4",),
    ("tcp", 6): ("tcp6",),
    ("udp", None): ("udp",),
    ("udp", 4): ("udp4",),
    ("udp", 6): ("udp6",),
    ("udplite", None): ("udplite",),
    ("udplite", 4): ("udplite4",),
    ("udplite", 6): ("udplite6",),
    (None, None): ("tcp", "udp", "udplite", "raw"),
    (None, 4): ("tcp4", "udp4", "udplite4", "raw4"),
    (None, 6): ("tcp6", "udp6", "udplite6", "raw6"),
}


def absolute(path: str, cwd: str) -> str:
    """``path`` made absolute from ``cwd`` and normalized (as readlink texts are)."""
    return posixpath.normpath(posixpath.join(cwd, path))


def select(o: Options, cwd: str = "/", files: Optional[Sequence[Tuple[str, str]]] = None) -> Selection:
    """The selection of a command line; relative PATHs are taken from ``cwd``.

    ``files``: the files to search for, (absolute path, name as written), when the caller
    checked the PATHs and walked the +d / +D directories; by default the PATHs, and the
    directories are matched by their text.

    >>> from procnet.cli._lsof_args import parse_args
    >>> select(parse_args(["-a", "-p", "1", "-iTCP"])).criteria
    ('pid', 'inet')
    """
    if files is None:
        files = [(absolute(p, cwd), p) for p in o.paths]
        prefixes = tuple((absolute(d, cwd), tree) for d, tree in o.dirs)
    else:
        prefixes = ()
    paths = tuple(path for path, _ in files)
    names = {path: name for path, name in files if name != path}
    active = {
        "pid": bool(o.pids),
        "user": bool(o.users),
        "command": bool(o.commands),
        "fd": o.fds is not None,
        "inet": bool(o.inet),
        "unix": o.unix,
        "path": bool(paths or prefixes),
    }
    criteria = tuple(name for name in CRITERIA if active[name])
    socket_kinds = {"inet", "unix"}
    sockets_only = bool(criteria) and (
        bool(socket_kinds & set(criteria)) if o.and_ else set(criteria) <= socket_kinds
    )
    by_socket = criteria == ("inet",)
    protos: Tuple[Proto, ...] = ("all",)
    if by_socket:
        protos = _protos_of(o.inet)
    return Selection(
        criteria=criteria,
        and_=o.and_,
        pids=o.pids,
        users=o.users,
        commands=o.commands,
        fds=o.fds,
        inet=o.inet,
        unix=o.unix,
        paths=paths,
        dir_prefixes=prefixes,
        path_set=frozenset(paths),
        path_names=names,
        tcp_states=o.tcp_states,
        not_tcp_states=o.not_tcp_states,
        not_pids=o.not_pids,
        not_users=o.not_users,
        not_commands=o.not_commands,
        processes=tuple(sorted(o.pids)) if o.pids and (o.and_ or criteria == ("pid",)) else None,
        sockets_only=sockets_only,
        by_socket=by_socket,
        socket_protos=protos,
    )


def _protos_of(specs: Iterable[InetSpec]) -> Tuple[Proto, ...]:
    out: List[Proto] = []
    for spec in specs:
        for proto in _SOCKET_PROTOS[(spec.proto, spec.version)]:
            if proto not in out:
                out.append(proto)
    return tuple(out)


# -- one row ---------------------------------------------------------------------------------


def inet_match(spec: InetSpec, rec: InetSocket, hosts: Dict[str, Tuple[IPAddress, ...]]) -> bool:
    """True when the inet socket ``rec`` is one ``-i spec`` asks for: its family,
    protocol, either end's address (``hosts`` gives a host's addresses) and either end's
    port. Raw sockets are never among them: lsof's -i lists TCP and UDP (and UDP-Lite) only."""
    if rec.proto == "raw":
        return False
    if spec.version is not None and rec.family != (socket.AF_INET if spec.version == 4 else socket.AF_INET6):
        return False
    if spec.proto is not None and rec.proto != spec.proto:
        return False
    if spec.host is not None:
        addrs = hosts.get(spec.host, ())
        ends = (rec.local.unmapped_ip, rec.remote.unmapped_ip, rec.local.ip, rec.remote.ip)
        if not any(a == e for a in addrs for e in ends):
            return False
    if spec.ports is not None:
        return _ports_match(spec.ports, rec.local.port) or _ports_match(spec.ports, rec.remote.port)
    return True


def _ports_match(ports: Tuple[Tuple[int, int], ...], port: int) -> bool:
    return any(lo <= port <= hi for lo, hi in ports)


def _user_in(users: FrozenSet[str], p: ProcessColumns) -> bool:
    return p.user.strip() in users or (p.uid is not None and str(p.uid) in users)


def _command_in(commands: Tuple[str, ...], p: ProcessColumns) -> bool:
    return any(p.comm.startswith(c) for c in commands)


def _inet_wanted(s: Selection, row: Row) -> bool:
    rec = row.socket
    return isinstance(rec, InetSocket) and any(inet_match(spec, rec, s.hosts) for spec in s.inet)


def _fd_wanted(s: Selection, row: Row) -> bool:
    assert s.fds is not None  # "fd" is a criterion only with -d
    return s.fds.holds(row.fd, row.fd_number) != s.fds.exclude


def _path_wanted(s: Selection, row: Row) -> bool:
    path = row.path
    if path is None:
        return False
    if path.endswith(" (deleted)"):
        path = path[: -len(" (deleted)")]
    return path in s.path_set or any(_under(path, d, tree) for d, tree in s.dir_prefixes)


def searched_name(s: Selection, row: Row) -> Row:
    """``row`` with lsof's NAME for a file searched for: the name the command line wrote."""
    written = s.path_names.get(row.path) if row.path is not None else None
    return row if written is None else row._replace(name=lsof_text(written))


def _under(path: str, directory: str, tree: bool) -> bool:
    """True when ``path`` is ``directory``, in it (``+d``) or below it (``+D``)."""
    if path == directory:
        return True
    head = directory.rstrip("/") + "/"
    return path.startswith(head) and (tree or "/" not in path[len(head) :])


def _state_excluded(s: Selection, row: Row) -> bool:
    """True when -s leaves out the row's socket (see the module docstring)."""
    rec = row.socket
    if not isinstance(rec, InetSocket) or rec.proto not in ("tcp", "udp", "udplite"):
        return False
    state = int(rec.state)
    return state in s.not_tcp_states or (bool(s.tcp_states) and state not in s.tcp_states)


#: criterion -> does the row match it
MATCHES: Dict[str, Callable[[Selection, Row], bool]] = {
    "pid": lambda s, row: row.process.pid in s.pids,
    "user": lambda s, row: _user_in(s.users, row.process),
    "command": lambda s, row: _command_in(s.commands, row.process),
    "fd": _fd_wanted,
    "inet": _inet_wanted,
    "unix": lambda s, row: isinstance(row.socket, UnixSocket),
    "path": _path_wanted,
}


def excluded(s: Selection, p: ProcessColumns) -> bool:
    """True when an exclusion (``^``) leaves out every file of the process."""
    return (
        p.pid in s.not_pids
        or (bool(s.not_users) and _user_in(s.not_users, p))
        or (bool(s.not_commands) and _command_in(s.not_commands, p))
    )


def wanted(s: Selection, row: Row) -> bool:
    """True when lsof lists ``row`` under the selection ``s``."""
    if excluded(s, row.process):
        return False
    if (s.tcp_states or s.not_tcp_states) and _state_excluded(s, row):
        return False
    if not s.criteria:
        return True
    if s.and_:
        return all(MATCHES[name](s, row) for name in s.criteria)
    return any(MATCHES[name](s, row) for name in s.criteria)


def exit_status(s: Selection, rows: Sequence[Row]) -> int:
    """0 when every search item found something, else 1 (lsof's exit status).

    Nothing listed while something was searched for is 1; so is a file searched for (a
    PATH, what +d / +D found) that no row names, a listed ``-s`` state no socket is in,
    and, without -a, a pid (``-p``) or a command name (``-c``) no listed file belongs to.
    """
    searched = bool(s.tcp_states) or any(name in SEARCHES for name in s.criteria)
    if not rows:
        return 1 if searched else 0
    if s.tcp_states - {int(row.socket.state) for row in rows if isinstance(row.socket, InetSocket)}:
        return 1
    if _paths_missing(s, rows):
        return 1  # under -a too (lsof main.c checks its files whatever -a says)
    if s.and_:
        return 0
    if s.pids - {row.process.pid for row in rows}:
        return 1
    comms = {row.process.comm for row in rows}
    if any(not any(comm.startswith(c) for comm in comms) for c in s.commands):
        return 1
    return 0


def _paths_missing(s: Selection, rows: Sequence[Row]) -> bool:
    """True when a file searched for (a PATH, a file +d / +D found) is in no row, as lsof
    counts it."""
    if not s.paths:
        return False
    seen = {row.path[: -len(" (deleted)")] if row.path.endswith(" (deleted)") else row.path
            for row in rows if row.path is not None}
    return any(p not in seen for p in s.paths)

