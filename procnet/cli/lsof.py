"""``procnet lsof``: lsof's listing of open files, never opening one.

Supported: ``-i [46][proto][@host][:port[,port|-port]...]`` (repeatable, OR-ed),
``-U`` (unix sockets), ``-p PID[,PID|^PID]``, ``-u USER[,USER|^USER]``, ``-c [^]NAME``
(process names starting so), ``-d FD[,FD]`` / ``-d ^FD[,^FD]`` (descriptors by number,
range or name: ``0-2,cwd,txt,mem``), ``-a`` (AND the selections instead of OR), ``-P``
(numeric ports), ``-n`` (numeric hosts), ``-s PROTO:STATE[,STATE]`` (TCP and UDP
sockets in these states; ``^STATE`` leaves them out: ``-iTCP -sTCP:LISTEN``), ``-s``
alone (the SIZE column), ``-t`` (pids only), ``+d DIR`` / ``+D DIR`` (files open in a
directory / its tree), ``--json``, ``--root DIR``, ``--netns all|PID`` and ``PATH...``
(who has this file, directory or unix socket path open). Columns are lsof's: COMMAND
PID USER FD TYPE DEVICE SIZE/OFF NODE NAME, sized and aligned as lsof 4.95 prints them
(lib/print.c print_file).

``--netns all|PID`` is a procnet extension (lsof has none): the socket tables read are
those of every network namespace a process under the proc root is in, or those of PID's
namespace, instead of procnet's own. lsof, like procnet without it, shows a socket of
another namespace as ``sock`` / "can't identify protocol"; with ``--netns all`` it gets
its protocol, addresses and state, and ``-i`` finds it. A PID that does not exist is a
message and exit status 1.

What may be touched. A descriptor's target and a mapped file are never opened (a FIFO or
a device can block or act on open). On the live machine ``procnet lsof`` (and only it:
the library's socket queries do no stat at all) may ``stat()`` ``/proc/<pid>/fd/<n>``, a
mapping through ``map_files/`` (or its path, without root), cwd and rtd, to fill TYPE,
DEVICE, SIZE/OFF and NODE as lsof does, but only where a stat cannot hang
(:mod:`procnet.cli._lsof_stat`): the descriptor's ``mnt_id`` (fdinfo) must name a mount
whose file system type (mountinfo) is on a list of local ones, or the link must be a
kernel pseudo-file (``pipe:``, ``socket:``, ``anon_inode:``). Network and FUSE file
systems (nfs, nfs4, cifs, smb3, fuse.*, 9p, ceph, glusterfs...), any type not on the list,
and a path on no mount procnet can see are never stat()ed, and nothing is in a capture.
Threads: when nothing is selected, each thread's rows follow its process with lsof's TID
and TASKCMD columns, as lsof 4.95 lists them (zombie threads left out); ``--json`` gives
them ``tid`` and ``taskcmd``. A socket in no table shows ``protocol: TCP`` (the
``system.sockprotoname`` extended attribute of the fd link, read with getxattr, which
opens nothing); netlink and packet sockets come from ``net/netlink`` and ``net/packet``.
Checked row by row against lsof 4.95 with ``tests/lsof_compare.py``: ``lsof`` with no
arguments on this project's machine, 8,738 of 8,742 rows identical (the 4 others: a file
growing between the two runs; before this round 383 of 8,531); ``lsof -p PID`` of test
processes with files, a FIFO, a socketpair, eventfd, epoll, deleted and mapped files,
memfd, pidfd, a pty and threads: byte for byte. What differs, and why:

* Where procnet may not stat (above), TYPE is ``unknown`` (``DIR`` for O_DIRECTORY,
  ``REG`` for O_TMPFILE, ``CHR`` on devpts), DEVICE the mount's, SIZE/OFF the offset
  (``0t<pos>``, from fdinfo) and NODE fdinfo's inode; cwd and rtd have no size or NODE;
  mem rows are REG with no size. lsof stat()s them (and may hang on a dead mount).
* As root a mapped file is stat()ed through ``map_files/``; lsof stats the path, so when
  the path now names another file lsof adds `` (path inode=...)`` and procnet does not
  (without root procnet stats the path too, and adds the same note).
* Locks are not shown (the FD column's third character is always a space): procnet does
  not read ``/proc/locks``.
* When every row's FD is a name (only ``cwd``, say), procnet's FD column is one space
  wider than lsof's.
* Netlink protocol names were checked live for protocols 0, 2, 4, 6, 7, 9, 10, 11, 12,
  15, 16; the others are the kernel constants' names; 22 (SMC) and above print
  ``unknown protocol: N``. SCTP, ICMP, AX25 and IPX sockets show ``sock protocol: X``
  where lsof shows rows from tables of its own.
* unix socket paths are printed whole; lsof 4.95 cuts them at the first blank. Their
  DEVICE is the Num column of /proc/net/unix, as lsof prints it, also where the socket
  came from sock_diag (which has no such address; its cookie is something else); empty
  for a socket that table does not list, as lsof prints a unix socket without one.
* Sockets of another network namespace than procnet's are ``sock`` / "can't identify
  protocol", as lsof prints sockets it cannot find in its tables.
* Text from other processes is escaped as lsof 4.95 escapes it (misc.c safepup), and
  more strictly where lsof prints raw what a terminal does not show
  (:func:`procnet.cli.render.lsof_text`, :func:`~procnet.cli.render.lsof_command`):
  ``\\b \\f \\n \\r \\t``, ``^@``..``^_`` for the other C0 controls, ``\\\\`` for a
  backslash, ``\\xNN`` for DEL and every byte above 0x7f that is not part of a printable
  character (as lsof on x86-64 prints them; where ``char`` is unsigned lsof prints the
  byte 0xff as ``^?``). COMMAND escapes every byte that is not printable ASCII, the
  space as ``\\x20`` (``sshd 1 ro`` cannot pass for pid 1), and is cut at 9 printed
  characters without cutting an escape, the column sized by lsof's own count (which
  counts a byte above 0x7f as 2 and prints 4, so a short non-ASCII name is cut as lsof
  cuts it). In NAME a printable non-ASCII character is kept, as lsof keeps it, except
  the format characters (U+200B, U+202E...), non-ASCII spaces and invisible fillers
  (U+3164, U+2800...) that lsof also prints raw: procnet writes their bytes as ``\\xNN``.
  USER (lsof prints the login name raw) is escaped as NAME, its spaces as ``\\x20``.
  Messages on stderr escape what they quote with :func:`~procnet.cli.render.escape_text`.

Arguments, messages and exit status. An argument lsof 4.95 refuses is refused with
lsof's message, word for word after the program name (``procnet lsof: unknown service
abc in: -i :abc``, ``can't get UID for nosuchuser``, ``status error on /no/such: No such
file or directory``, ``unknown TCP state name: FOO``...), every bad argument reported in
order, and lsof's exit status 1. The differences that remain, each with its reason:

* Where lsof follows such a message with its usage block (its version, web addresses and
  option summary), procnet writes one line: ``Use 'procnet lsof -h' to get more help
  information.`` The block describes lsof's options, not procnet's.
* What only procnet refuses exits 2 with a message saying what to write instead: an
  option procnet does not implement (lsof's ``-F``, ``-r``, ``-x``, ``-g``...), ``-c
  /regex/``, a ``-c`` name longer than a process name can be, a ``-d`` list that both
  lists and excludes, ``--root`` / ``--netns`` without a value. lsof would run these or
  refuse them in words procnet cannot give for an option it lacks.
* Options after a PATH are read as options (``procnet lsof /tmp -i``); lsof takes every
  word after the first name as a name. Words starting with ``+`` other than ``+d`` /
  ``+D`` are PATHs (lsof's ``+c``, ``+L``, ``+r``... are options there).
* ``-i``: as in lsof a port above 65535 is accepted and matches nothing; a number of more
  than 10 digits is an "unacceptable port specification" (lsof's int wraps). A host name
  is resolved after the command line is read (lsof resolves while reading it), and one
  with a character no resolver accepts gets lsof's "unknown host name" message without
  asking one. ``@[::]`` is accepted (lsof: "unacceptable Internet address"). A service
  name that TCP and UDP give different ports is not refused (procnet's table gives one).
* ``-s``: lsof's TCP state names on Linux (ESTABLISHED, SYN_SENT, SYN_RECV, FIN_WAIT1,
  FIN_WAIT2, TIME_WAIT, CLOSE, CLOSE_WAIT, LAST_ACK, LISTEN, CLOSING, CLOSED, any case).
  Linux lsof has no UDP state names ("no UDP state names available"); it filters UDP
  sockets by the TCP names of their numbers (a connected one ESTABLISHED, others CLOSE),
  and so does procnet. An attached value starting with ``-`` (``-s-n``) is a bad state
  spec here; lsof reads it as ``-s`` followed by ``-n``.
* PATH: on the live proc root each PATH argument is stat()ed (the argument, never a
  descriptor's target), for lsof's "status error" message, and known by its real path
  (symbolic links resolved), which is matched with the descriptors' readlink text. lsof
  matches device and inode, so a file open under another name (a hard link, another
  bind mount) is found by lsof only. A matched file's NAME is the PATH as written, as in
  lsof. With ``--root`` (a capture) nothing is stat()ed: a PATH is matched by its text.
* ``+d DIR`` / ``+D DIR``: on the live proc root the directory is walked as lsof walks it
  (lstat, symbolic links skipped, no mount point crossed) and every file found is a
  search item, named as lsof names it (``sub/x`` for ``+D sub``); a file none has open
  makes the exit status 1, as in lsof. With ``--root`` the directory is matched by its
  text (everything below it), and the status is 1 only when nothing matched.
* ``-u NAME`` looks the name up in this machine's password database, also with
  ``--root`` (as the USER column does).

Exit status: 0 when every search item (``-p``, ``-u``, ``-c``, ``-i``, each PATH and each
file of ``+d`` / ``+D``, each state ``-s`` lists) found something, or nothing was asked
for; 1 when one found nothing or an argument lsof refuses was given, as lsof; 2 for what
only procnet refuses. Output that cannot be written: see :mod:`procnet.cli` (a closed
pipe 141, quietly, as ss and lsof end; another write error one line and 1).

``--json`` prints one JSON object per row (JSON Lines) with the keys ``command``, ``pid``,
``user``, ``uid``, ``fd`` (as printed: ``"cwd"``, ``"3"``), ``fd_number`` (int or null),
``mode``, ``type``, ``device``, ``size_off``, ``node``, ``name`` (as printed, escaped),
``path`` (the unescaped readlink or socket path, null when none; ``path_hex`` added when it
is not UTF-8), ``offset`` and ``inode`` (ints or null), ``comm`` (the whole process name,
unescaped; ``comm_hex`` added when it is not UTF-8), ``socket`` (the socket record as
:func:`procnet.to_jsonable` writes it, or null), and ``tid`` and ``taskcmd`` (a thread's id
and its whole name, for the rows lsof lists under TID and TASKCMD; null for the process's
own rows).
"""

# How this works, in the order a run goes:
#
# 1. flags -> Options. _lsof_args.py: LETTERS / WORDS say, per option, how its argument
#    attaches (-iTCP or -i TCP; -p1,2 or -p 1,2; --root DIR) and which pure function
#    applies it; parse_args() walks argv with that table and returns a frozen Options.
# 2. Options -> Selection. _lsof_select.py select(): the active criteria (pid, user,
#    command, fd, inet, unix, path), -a, the ^ exclusions, and what that lets the run
#    skip: which pids to read, sockets only, or (-i alone) find the sockets' owners by
#    inode. No I/O; run() resolves -i @host names into Selection.hosts.
# 3. the walk. _lsof_rows.py Lister.process_rows(), per process: comm and status; unless
#    only sockets matter, mountinfo (once per mount namespace), maps, and readlink of cwd,
#    root and exe; then per descriptor: readlink of fd/N, lstat of that link (never of its
#    target: the link's mode bits are the open mode), and fdinfo/N (pos, flags, mnt_id,
#    ino) unless it is a socket the tables know and lstat gave its mode. A descriptor's
#    target is never opened nor stat()ed (a FIFO or a device can block or act on open, a
#    dead network mount hangs a stat). Sockets come from the socket tables (sock_diag or
#    /proc/net), read once.
# 4. rows. The link text gives the kind (socket, pipe, anon_inode, path, other) and
#    _lsof_rows.KINDS the function that makes its typed Row; wanted() keeps a row or not.
# 5. render. -t prints the pids, --json one object per row, else render.format_lsof_table
#    lays the columns out as lsof 4.95 does; exit_status() is lsof's exit status.

from __future__ import annotations

import io
import json
import os
import posixpath
import stat
import sys
from dataclasses import replace
from typing import IO, TYPE_CHECKING, Any, Callable, Dict, List, Literal, NamedTuple, Optional, Sequence, Set, Tuple, Union

from .._errors import NoSuchProcess, ProcNetError
from .._records import InetSocket, UnixSocket
from ._lsof_args import (
    USAGE,
    FdSet,
    InetSpec,
    LsofError,
    Options,
    UsageError,
    format_inet_spec,
    parse_args,
    parse_fd_set,
    parse_inet_spec,
)
from ._lsof_mounts import MapEntry, Mount, mount_of_path, parse_maps, parse_mountinfo
from ._lsof_rows import Lister, ProcessColumns, Row
from ._lsof_select import Selection, exit_status, inet_match, searched_name, select, wanted
from .render import format_lsof_table, lsof_command, lsof_command_len, message, resolve_host_address

if TYPE_CHECKING:
    from .._proc import ProcFS

__all__ = [
    "HELP_HINT", "LsofError", "NetnsLister",
    "USAGE", "FdSet", "InetSpec", "Lister", "MapEntry", "Mount", "Options", "ProcessColumns", "Row",
    "Selection", "UsageError", "collect", "format_inet_spec", "main", "mount_of_path", "parse_args",
    "parse_fd_set", "parse_inet_spec", "parse_maps", "parse_mountinfo", "run", "select", "wanted",
]

CMD_LIMIT = 9  # lsof's default CmdLim: COMMAND shows the first 9 printed characters
CMD_TITLE = "COMMAND"
UNKNOWN_COMMAND = "(unknown)"  # lsof's name for a process whose name is empty


# -- the walk -----------------------------------------------------------------------------------


def collect(s: Selection, lister: Lister, fs: ProcFS) -> List[Row]:
    """The rows to print, in lsof's order (by pid, then as each process lists them)."""
    if s.by_socket:
        return _rows_by_socket(s, lister, fs)
    pids = s.processes if s.processes is not None else fs.pids()
    rows: List[Row] = []
    for pid in pids:
        if pid not in s.not_pids:
            rows.extend(row for row in lister.process_rows(pid, only_sockets=s.sockets_only) if wanted(s, row))
    return [searched_name(s, row) for row in rows] if s.path_names else rows


def _rows_by_socket(s: Selection, lister: Lister, fs: ProcFS) -> List[Row]:
    """Only inet sockets are asked for: find who holds the matching ones (one readlink
    per descriptor of every process) and read only those descriptors."""
    from .._owners import scan

    inodes = {
        inode
        for inode, rec in lister.sockets().items()
        if isinstance(rec, InetSocket) and any(inet_match(spec, rec, s.hosts) for spec in s.inet)
    }
    index = scan(fs, inodes=inodes, pids=None)
    by_pid: Dict[int, Set[int]] = {}
    for inode in inodes:
        for owner in index.get(inode):
            if owner.tid is None:
                by_pid.setdefault(owner.pid, set()).add(owner.fd)
    rows: List[Row] = []
    for pid in sorted(by_pid):
        if pid not in s.not_pids:
            found = lister.process_rows(pid, wanted_fds=by_pid[pid], only_sockets=True)
            rows.extend(row for row in found if wanted(s, row))
    return rows


def resolve_hosts(s: Selection, err: IO[str], texts: Sequence[str] = ()) -> Union[Selection, int]:
    """``s`` with the addresses of its ``-i @host`` names; for a name that does not
    resolve, lsof's message on ``err`` (quoting ``texts``, the -i arguments as written)
    and its exit status 1."""
    hosts = dict(s.hosts)
    unknown: List[str] = []
    texts = list(texts) + [format_inet_spec(spec) for spec in s.inet[len(texts) :]]
    for spec, text in zip(s.inet, texts):
        if spec.host is not None and spec.host not in hosts:
            try:
                hosts[spec.host] = tuple(resolve_host_address(spec.host))
            except ValueError:
                unknown.append("unknown host name (%s) in: -i %s" % (spec.host, text))
    if unknown:
        return usage_error(LsofError(*unknown), err)
    return replace(s, hosts=hosts)


# -- render -------------------------------------------------------------------------------------


def print_pids(rows: Sequence[Row], out: IO[str]) -> None:
    """-t: the pids, one a line."""
    for pid in sorted({row.process.pid for row in rows}):
        out.write("%d\n" % pid)


def json_object(row: Row) -> Dict[str, object]:
    """One --json object (see the module docstring for its keys)."""
    from .._json import to_jsonable

    p = row.process
    obj: Dict[str, object] = {
        "command": lsof_command(p.comm or UNKNOWN_COMMAND, CMD_LIMIT), "pid": p.pid, "user": p.user.strip(),
        "uid": p.uid, "fd": row.fd.strip(), "fd_number": row.fd_number, "mode": row.mode, "type": row.type,
        "device": row.device, "size_off": row.size_off, "node": row.node, "name": row.name,
        "offset": row.offset, "inode": row.inode,
        # the whole process name, exact (COMMAND is lsof's escaped 9-character column)
        "comm": to_jsonable(p.comm),
        "path": to_jsonable(row.path) if row.path is not None else None,
        "socket": to_jsonable(row.socket) if row.socket is not None else None,
        "tid": p.tid,
        "taskcmd": to_jsonable(p.taskcmd) if p.tid is not None else None,
    }
    if obj["comm"] != p.comm:
        obj["comm_hex"] = os.fsencode(p.comm).hex()
    if row.path is not None and obj["path"] != row.path:
        obj["path_hex"] = os.fsencode(row.path).hex()
    return obj


def print_json(rows: Sequence[Row], out: IO[str]) -> None:
    """--json: one object per row (JSON Lines)."""
    for row in rows:
        out.write(json.dumps(json_object(row), sort_keys=True) + "\n")


def print_table(rows: Sequence[Row], out: IO[str]) -> None:
    """lsof's print_file: COMMAND is as wide as its longest name by lsof's count, at most
    CMD_LIMIT, and every name is cut to that width."""
    names = {row.process.comm or UNKNOWN_COMMAND for row in rows}
    width = max([len(CMD_TITLE)] + [min(lsof_command_len(name), CMD_LIMIT) for name in names])
    commands = {name: lsof_command(name, width) for name in names}
    table = [
        {"command": commands[row.process.comm or UNKNOWN_COMMAND], "pid": str(row.process.pid),
         "tid": str(row.process.tid or ""), "taskcmd": row.process.taskcmd, "user": row.process.user, "fd": row.fd, "mode": row.mode, "lock": "", "type": row.type,
         "device": row.device, "size_off": row.size_off, "node": row.node, "name": row.name}
        for row in rows
    ]
    out.write(format_lsof_table(table, command_width=width))


def print_sizes(rows: Sequence[Row], out: IO[str]) -> None:
    """``-s``: lsof's SIZE column instead of SIZE/OFF: a size where the row has one, no
    offset (``0t...``) anywhere, the column as wide as its title or its widest size."""
    rows = [row._replace(size_off="") if row.size_off.startswith("0t") else row for row in rows]
    buffer = io.StringIO()
    print_table(rows, buffer)
    text = buffer.getvalue()
    lines = text.split("\n")
    # render.format_lsof_table titles the column SIZE/OFF, right-aligned in at least 8:
    # cut the column of every line (all are aligned alike) to the width lsof gives it
    end = lines[0].find(" SIZE/OFF ") + len(" SIZE/OFF")
    if end < len(" SIZE/OFF"):
        out.write(text)
        return
    sizes = [len(row.size_off) for row in rows]
    old = max([len(OFF_TITLE)] + sizes)
    new = max([len(SIZE_TITLE)] + sizes)
    start = end - old
    lines[0] = lines[0][:start] + SIZE_TITLE.rjust(new) + lines[0][end:]
    lines[1:] = [line[:start] + line[start + old - new :] for line in lines[1:]]
    out.write("\n".join(lines))


OFF_TITLE = "SIZE/OFF"
SIZE_TITLE = "SIZE"


def printer(o: Options) -> Callable[[Sequence[Row], IO[str]], None]:
    """The renderer the options ask for."""
    if o.terse:
        return print_pids
    if o.json:
        return print_json
    return print_sizes if o.size else print_table


# -- the command --------------------------------------------------------------------------------

#: what procnet writes where lsof follows its messages with its usage block
HELP_HINT = "Use 'procnet lsof -h' to get more help information.\n"


def usage_error(exc: UsageError, err: IO[str]) -> int:
    """Report a command line that cannot run; returns its exit status (1 where lsof
    refuses it, with lsof's messages; 2 where only procnet does)."""
    for line in exc.lines:
        err.write(message("procnet lsof", line))
    if isinstance(exc, LsofError):
        err.write(HELP_HINT)
    return exc.status


class NetnsLister(Lister):
    """A :class:`Lister` whose socket tables are those of ``--netns`` (``"all"`` or a pid)."""

    def __init__(self, fs: ProcFS, netns: Union[Literal["all"], int], **options: Any) -> None:
        super().__init__(fs, **options)
        self.netns = netns
        self._netns_sockets: Optional[Dict[int, Union[InetSocket, UnixSocket]]] = None

    def sockets(self) -> Dict[int, Union[InetSocket, UnixSocket]]:
        if self._netns_sockets is None:
            from .._query import Query

            found: Dict[int, Union[InetSocket, UnixSocket]] = {}
            for rec in Query(self.socket_protos, owners=False, root=self.fs.root, netns=self.netns).run():
                if rec.inode:
                    found.setdefault(rec.inode, rec)  # socket inodes are unique across namespaces
            self._netns_sockets = found
        return self._netns_sockets


#: a file searched for: (its absolute real path, its name as the command line wrote it)
Searched = Tuple[str, str]


def walk_dir(top: str, written: str, tree: bool) -> List[Searched]:
    """``top`` and the files in it (``+d``) or in its whole tree (``+D``), found as lsof
    finds them (arg.c enter_dir): lstat, symbolic links skipped, no mount point crossed;
    each named as lsof names it, from the directory as written (``sub`` -> ``sub/x``)."""
    device = os.stat(top).st_dev
    found = [(top, written)]
    stack = [(top, written)]
    while stack:
        directory, name = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if st.st_dev != device or stat.S_ISLNK(st.st_mode):
                continue
            child = (posixpath.join(directory, entry.name), name + ("" if name.endswith("/") else "/") + entry.name)
            found.append(child)
            if tree and stat.S_ISDIR(st.st_mode):
                stack.append(child)
    return found


class Files(NamedTuple):
    """The files a command line searches for, checked on the live machine."""

    #: the PATHs that exist, and what +d / +D found
    found: List[Searched]
    #: a PATH could not be stat()ed (lsof's "status error"): the exit status is 1
    failed: bool


def check_files(o: Options, err: IO[str]) -> Files:
    """stat() each PATH (the argument, never a descriptor's target) and walk each +d / +D
    directory, reporting as lsof does. Raises LsofError for a directory that is not one.
    A file is known by its real path (symbolic links resolved), as readlink names it."""
    found: List[Searched] = []
    failed = False
    bad_dirs: List[str] = []
    for directory, tree in o.dirs:
        try:
            st = os.stat(directory)
        except OSError as exc:
            bad_dirs.append("WARNING: can't stat(%s): %s" % (directory, os.strerror(exc.errno or 0)))
            continue
        if not stat.S_ISDIR(st.st_mode):
            bad_dirs.append("WARNING: not a directory: %s" % directory)
            continue
        found.extend(walk_dir(os.path.realpath(directory), directory, tree))
    if bad_dirs:
        raise LsofError(*bad_dirs)
    for path in o.paths:
        try:
            os.stat(path)
        except OSError as exc:
            err.write(message("procnet lsof", "status error on %s: %s" % (path, os.strerror(exc.errno or 0))))
            failed = True
        else:
            found.append((os.path.realpath(path), path))
    return Files(found, failed)


def run(argv: Sequence[str], out: IO[str], err: IO[str]) -> int:
    """The whole command, writing to ``out``/``err``; returns the exit status.

    0 when something was listed (or nothing was asked for), 1 when a search found
    nothing, an argument lsof refuses was given or a file of the proc root could not be
    read, 2 for a command line only procnet refuses.
    """
    try:
        o = parse_args(argv)
    except UsageError as exc:
        return usage_error(exc, err)
    if o.help or o.version:
        from .. import __version__

        out.write(USAGE if o.help else "procnet lsof %s (lsof's output)\n" % __version__)
        return 0
    from .._proc import ProcFS

    try:
        fs = ProcFS(o.root) if o.root else ProcFS()
    except (TypeError, ValueError) as exc:
        err.write(message("procnet lsof", str(exc)))
        return 2
    chosen = choose(o, fs, err)
    if isinstance(chosen, int):
        return chosen
    s, files = chosen
    options: Dict[str, Any] = {
        "numeric_hosts": o.numeric_hosts, "numeric_ports": o.numeric_ports, "socket_protos": s.socket_protos,
        "threads": not s.criteria,  # lsof lists threads (TID, TASKCMD) when nothing is selected
    }
    lister = NetnsLister(fs, o.netns, **options) if o.netns is not None else Lister(fs, **options)
    try:
        if o.netns is not None:
            lister.sockets()  # a --netns pid that does not exist is an error even if no row needs a table
        rows = collect(s, lister, fs)
    except BrokenPipeError:
        raise
    except NoSuchProcess as exc:
        err.write(message("procnet lsof", exc.strerror or str(exc)))  # --netns PID
        return 1
    except (ProcNetError, OSError) as exc:
        # a file of the proc root (a bundle's, say) that cannot be read: its name escaped
        err.write(message("procnet lsof", str(exc)))
        return 1
    printer(o)(rows, out)
    return 1 if files is not None and files.failed else exit_status(s, rows)


def choose(o: Options, fs: ProcFS, err: IO[str]) -> Union[Tuple[Selection, Optional[Files]], int]:
    """The selection, with the files searched for checked (live proc root) and the ``-i
    @host`` names resolved; or the exit status when the command ends here."""
    files: Optional[Files] = None
    if (o.paths or o.dirs) and fs.is_live():
        try:
            files = check_files(o, err)
        except LsofError as exc:
            return usage_error(exc, err)
        if o.paths and not files.found:
            return 1  # lsof lists nothing when no file it was given exists
        cwd = "/"
    else:
        # getcwd only for a relative PATH (it fails when the directory was removed)
        relative = any(not p.startswith("/") for p in o.paths + tuple(d for d, _ in o.dirs))
        cwd = os.getcwd() if relative else "/"
    s = resolve_hosts(select(o, cwd, files.found if files is not None else None), err, o.inet_texts)
    return s if isinstance(s, int) else (s, files)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``procnet lsof ARGS``; returns the exit status."""
    return run(sys.argv[1:] if argv is None else argv, sys.stdout, sys.stderr)
