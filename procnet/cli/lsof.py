"""``procnet lsof``: lsof's listing of open files, derived without touching any file.

Supported: ``-i [46][proto][@host][:port[,port|-port]...]`` (repeatable, OR-ed),
``-U`` (unix sockets), ``-p PID[,PID|^PID]``, ``-u USER[,USER|^USER]``, ``-c [^]NAME``
(process names starting so), ``-d FD[,FD]`` / ``-d ^FD[,^FD]`` (descriptors by number,
range or name: ``0-2,cwd,txt,mem``), ``-a`` (AND the selections instead of OR), ``-P``
(numeric ports), ``-n`` (numeric hosts), ``-t`` (pids only), ``--json``, ``--root DIR``
and ``PATH...`` (who has this file, directory or unix socket path open). Columns are lsof's: COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME, sized and
aligned as lsof 4.95 prints them (lib/print.c print_file).

The hard rule: a descriptor's target and a mapped file are never opened nor stat()ed
(a FIFO or a device can block or act on open, a dead network mount hangs a stat).
Everything comes from readlink text, the lstat of the ``fd/<n>`` link itself,
``fdinfo/<n>`` (pos, flags, mnt_id, ino), ``maps`` (device and inode of each mapping),
``mountinfo`` (mount id -> device and file system type) and the socket tables. So, where
lsof stat()s and procnet cannot:

* TYPE of a descriptor naming a path is ``DIR`` when it was opened with O_DIRECTORY,
  ``CHR`` when it lives on a devpts mount (terminals), and ``unknown`` otherwise (lsof
  says REG, CHR, BLK, FIFO or DIR after a stat). ``mem`` rows are ``unknown`` for the
  same reason; ``cwd`` and ``rtd`` are ``DIR`` and ``txt`` ``REG`` by definition.
* SIZE/OFF: the offset (``0t<pos>``, from fdinfo) for every descriptor; lsof prints the
  size of regular files. ``cwd``, ``rtd``, ``txt`` and ``mem`` rows have none.
* DEVICE of a path is the device of the mount holding it (fdinfo's mnt_id, or for cwd and
  rtd the longest mount point prefix); for a character device lsof prints the device's
  own number (rdev), which only a stat gives, so it is left empty. NODE of cwd and rtd
  is empty (only a stat gives it); txt and mem take theirs from ``maps``.
* Locks are not shown (the FD column's third character is always a space).
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

Exit status: 0 when something was listed (or nothing was asked for), 1 when a selection
matched nothing, as lsof; 2 for a usage error (lsof exits 1), with a message saying
what to write instead.

``--json`` prints one JSON object per row (JSON Lines) with the keys ``command``, ``pid``,
``user``, ``uid``, ``fd`` (as printed: ``"cwd"``, ``"3"``), ``fd_number`` (int or null),
``mode``, ``type``, ``device``, ``size_off``, ``node``, ``name`` (as printed, escaped),
``path`` (the unescaped readlink or socket path, null when none; ``path_hex`` added when it
is not UTF-8), ``offset`` and ``inode`` (ints or null), ``comm`` (the whole process name,
unescaped; ``comm_hex`` added when it is not UTF-8) and ``socket`` (the socket record as
:func:`procnet.to_jsonable` writes it, or null).
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

import json
import os
import sys
from dataclasses import replace
from typing import IO, TYPE_CHECKING, Callable, Dict, List, Optional, Sequence, Set

from .._errors import ProcNetError
from .._records import InetSocket
from ._lsof_args import (
    USAGE,
    FdSet,
    InetSpec,
    Options,
    UsageError,
    format_inet_spec,
    parse_args,
    parse_fd_set,
    parse_inet_spec,
)
from ._lsof_mounts import MapEntry, Mount, mount_of_path, parse_maps, parse_mountinfo
from ._lsof_rows import Lister, ProcessColumns, Row
from ._lsof_select import Selection, exit_status, inet_match, select, wanted
from .render import format_lsof_table, lsof_command, lsof_command_len, message, resolve_host_address

if TYPE_CHECKING:
    from .._proc import ProcFS

__all__ = [
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
    return rows


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


def resolve_hosts(s: Selection, err: IO[str]) -> Selection:
    """``s`` with the addresses of its ``-i @host`` names (a name that does not resolve
    is reported on ``err`` and matches nothing)."""
    hosts = dict(s.hosts)
    for spec in s.inet:
        if spec.host is not None and spec.host not in hosts:
            try:
                hosts[spec.host] = tuple(resolve_host_address(spec.host))
            except ValueError as exc:
                err.write(message("procnet lsof", str(exc)))
                hosts[spec.host] = ()
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
         "user": row.process.user, "fd": row.fd, "mode": row.mode, "lock": "", "type": row.type,
         "device": row.device, "size_off": row.size_off, "node": row.node, "name": row.name}
        for row in rows
    ]
    out.write(format_lsof_table(table, command_width=width))


def printer(o: Options) -> Callable[[Sequence[Row], IO[str]], None]:
    """The renderer the options ask for."""
    if o.terse:
        return print_pids
    return print_json if o.json else print_table


# -- the command --------------------------------------------------------------------------------


def run(argv: Sequence[str], out: IO[str], err: IO[str]) -> int:
    """The whole command, writing to ``out``/``err``; returns the exit status.

    0 when something was listed (or nothing was asked for), 1 when a search found
    nothing or a file of the proc root could not be read, 2 for a usage error.
    """
    try:
        o = parse_args(argv)
    except UsageError as exc:
        err.write(message("procnet lsof", str(exc)))
        return 2
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
    # getcwd only for a relative PATH (it fails when the directory was removed)
    s = select(o, os.getcwd() if any(not p.startswith("/") for p in o.paths) else "/")
    lister = Lister(fs, numeric_hosts=o.numeric_hosts, numeric_ports=o.numeric_ports, socket_protos=s.socket_protos)
    s = resolve_hosts(s, err)
    try:
        rows = collect(s, lister, fs)
    except BrokenPipeError:
        raise
    except (ProcNetError, OSError) as exc:
        # a file of the proc root (a bundle's, say) that cannot be read: its name escaped
        err.write(message("procnet lsof", str(exc)))
        return 1
    printer(o)(rows, out)
    return exit_status(s, rows)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``procnet lsof ARGS``; returns the exit status."""
    return run(sys.argv[1:] if argv is None else argv, sys.stdout, sys.stderr)
