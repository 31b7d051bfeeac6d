"""``procnet lsof``'s rows: what one process's open files look like in lsof's listing.

:class:`Lister` walks one process (:meth:`Lister.process_rows`): its name and uid
(``comm``, ``status``), then, unless only sockets are wanted, ``cwd``, ``root`` and
``exe`` (readlink) and ``maps`` (the ``mem`` rows), then each descriptor of ``fd/``:
readlink of the link, lstat of the link itself (its mode bits are the open mode) and
``fdinfo/<n>`` (pos, flags, mnt_id, ino; skipped for a socket the tables know when the
link's mode bits said its mode: the table has the rest, and a socket has no file
position). The target is never opened nor stat()ed. The
link text says the descriptor's kind (``socket:[N]``, ``pipe:[N]``, ``anon_inode:...``,
a path, anything else) and :data:`KINDS` maps each kind to the function that makes its
:class:`Row`; a socket's row comes from the socket tables, read once per run.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Callable, Dict, List, NamedTuple, Optional, Set, Tuple, Union

from .._errors import ProcNetError
from .._parse.process import mode_from_flags, mode_from_link_mode, parse_comm, parse_fdinfo, socket_inode, status_uids
from .._proc import Denied, Gone
from .._records import InetSocket, UnixSocket, ip_text
from .._vocab import LSOF_UNIX_TYPE, lsof_tcp_state, lsof_unix_status
from ._lsof_mounts import MapEntry, Mount, mount_of_path, parse_maps, parse_mountinfo
from .render import HostResolver, lsof_text, port_text

if TYPE_CHECKING:
    from .._proc import ProcessDir, ProcFS
    from .._query import Proto
    from .._records import Endpoint, IPAddress

Socket = Union[InetSocket, UnixSocket]

_O_DIRECTORY = 0o200000  # include/uapi/asm-generic/fcntl.h (x86, arm, most)


class ProcessColumns(NamedTuple):
    """What every row of one process shares: lsof's COMMAND, PID and USER columns, and
    what they are made of."""

    pid: int
    #: the kernel's name for the process (``comm``), whole and unescaped; ``"?"`` when
    #: it could not be read, ``""`` when empty (COMMAND then says ``(unknown)``)
    comm: str
    #: the real uid (from ``status``), None when it could not be read
    uid: Optional[int]
    #: USER as printed: the login name escaped, else the uid right-aligned in 8
    user: str


class Row(NamedTuple):
    """One line of lsof's listing. The column fields hold the text as printed (escaped,
    aligned by the renderer); the others hold the values behind it, for the selection
    and for ``--json``. COMMAND, PID and USER are the process's; the FD column's lock
    character is always blank (procnet does not read locks)."""

    process: ProcessColumns
    #: FD without its mode: ``cwd``, ``rtd``, ``txt``, ``mem``, ``DEL``, ``NOFD`` or the
    #: number right-aligned in 4
    fd: str
    #: the access mode letter: ``r``, ``w``, ``u`` or ``""``
    mode: str
    type: str
    device: str
    size_off: str
    node: str
    name: str
    #: the descriptor number (None for cwd, rtd, txt, mem...)
    fd_number: Optional[int] = None
    #: the unescaped readlink text or socket path, None when there is none
    path: Optional[str] = None
    #: the file offset (fdinfo's pos)
    offset: Optional[int] = None
    inode: Optional[int] = None
    socket: Optional[Socket] = None


class Descriptor(NamedTuple):
    """What was read about one open descriptor (never its target)."""

    #: the FD column: the number right-aligned in 4
    fd: str
    number: int
    #: readlink of ``fd/<n>``
    target: str
    #: the access mode letter, from the link's lstat mode bits, else from fdinfo's flags
    mode: str
    #: fdinfo's open flags, pos, mount (by mnt_id) and inode; None when absent
    flags: Optional[int]
    pos: Optional[int]
    mount: Optional[Mount]
    ino: Optional[int]


def _device(mount: Optional[Mount]) -> str:
    return mount.device if mount is not None else ""


def _number_text(value: Optional[int]) -> str:
    return str(value) if value is not None else ""


def _offset_text(pos: Optional[int]) -> str:
    return "0t%d" % pos if pos is not None else ""


# -- a row for each kind of descriptor (KINDS) ---------------------------------------------------
#
# Each takes the lister (for the socket tables and names), the process and the
# descriptor; it returns None when the link text is not quite its kind's (``pipe:[x``),
# and the descriptor is then listed as "unknown" by _other_row.


def _socket_row(lister: Lister, head: ProcessColumns, d: Descriptor) -> Optional[Row]:
    inode = socket_inode(d.target)  # ASCII digits, at most 20 (a bundle's link is any text)
    if inode is None:
        return None
    rec = lister.sockets().get(inode)
    if rec is None:  # another network namespace's, or gone: lsof can't identify it either
        return Row(head, d.fd, d.mode, "sock", _device(d.mount), "0t0", str(inode), "can't identify protocol",
                   d.number, None, d.pos, inode, None)
    if isinstance(rec, UnixSocket):
        pointer = rec.pointer if rec.pointer is not None else lister.unix_pointers().get(inode)
        device = "" if pointer is None else "0x" + lsof_text(pointer)
        return Row(head, d.fd, d.mode, "unix", device, "0t0", str(inode), lister.unix_name(rec),
                   d.number, rec.path, d.pos, inode, rec)
    kind = "IPv4" if rec.family == socket.AF_INET else "IPv6"
    return Row(head, d.fd, d.mode, kind, str(inode), "0t0", rec.proto.upper(), lister.inet_name(rec),
               d.number, None, d.pos, inode, rec)


def _pipe_row(lister: Lister, head: ProcessColumns, d: Descriptor) -> Optional[Row]:
    if not (d.target.startswith("pipe:[") and d.target.endswith("]")):
        return None
    number = d.target[6:-1]
    return Row(head, d.fd, d.mode, "FIFO", _device(d.mount), "0t%d" % (d.pos or 0), lsof_text(number), "pipe",
               d.number, None, d.pos, _int(number), None)


def _anon_inode_row(lister: Lister, head: ProcessColumns, d: Descriptor) -> Optional[Row]:
    name = lsof_text(d.target[len("anon_inode:") :])
    return Row(head, d.fd, d.mode, "a_inode", _device(d.mount), "0", _number_text(d.ino), name,
               d.number, None, d.pos, d.ino, None)


def _path_row(lister: Lister, head: ProcessColumns, d: Descriptor) -> Optional[Row]:
    """A path: a directory when opened with O_DIRECTORY, a terminal when it lives on a
    devpts mount (its DEVICE would be the rdev only a stat gives); else unknown (lsof,
    which stat()s, says REG, CHR, BLK or FIFO)."""
    kind, device = "unknown", _device(d.mount)
    if d.flags is not None and d.flags & _O_DIRECTORY:
        kind = "DIR"
    elif d.mount is not None and d.mount.fstype == "devpts" and d.target != d.mount.point:
        kind, device = "CHR", ""
    return Row(head, d.fd, d.mode, kind, device, _offset_text(d.pos), _number_text(d.ino), lsof_text(d.target),
               d.number, d.target, d.pos, d.ino, None)


def _other_row(lister: Lister, head: ProcessColumns, d: Descriptor) -> Row:
    return Row(head, d.fd, d.mode, "unknown", _device(d.mount), _offset_text(d.pos), _number_text(d.ino),
               lsof_text(d.target), d.number, d.target, d.pos, d.ino, None)


RowMaker = Callable[["Lister", ProcessColumns, Descriptor], Optional[Row]]

#: A descriptor's kind (:func:`descriptor_kind` of its link text) -> the function that
#: makes its row. Kinds not listed are "unknown" rows (:func:`_other_row`).
KINDS: Dict[str, RowMaker] = {
    "socket": _socket_row,
    "pipe": _pipe_row,
    "anon_inode": _anon_inode_row,
    "/": _path_row,
}


def descriptor_kind(target: str) -> str:
    """``"/"`` for a path, else the link text before its first ``:`` (``socket``,
    ``pipe``, ``anon_inode``, ``net``...; fs/proc/fd.c and each file system's d_dname).

    >>> descriptor_kind("socket:[123]"), descriptor_kind("/tmp/a:b")
    ('socket', '/')
    """
    return "/" if target[:1] == "/" else target.partition(":")[0]


# -- reading processes ---------------------------------------------------------------------------


class Lister:
    """Builds lsof's rows for processes, with the socket tables read once.

    ``socket_protos`` names the tables :meth:`sockets` reads (``procnet.Query``'s
    ``proto=`` names): all of them unless only some inet sockets can be wanted.
    """

    def __init__(
        self,
        fs: ProcFS,
        *,
        numeric_hosts: bool = False,
        numeric_ports: bool = False,
        socket_protos: Tuple[Proto, ...] = ("all",),
    ) -> None:
        self.fs = fs
        self.numeric_ports = numeric_ports
        self.socket_protos = socket_protos
        self.resolver = None if numeric_hosts else HostResolver()
        self._sockets: Optional[Dict[int, Socket]] = None
        self._unix_pointers: Optional[Dict[int, str]] = None
        self._mounts: Dict[str, Dict[int, Mount]] = {}

    # names
    def host(self, ip: IPAddress) -> str:
        if ip.is_unspecified:
            return "*"
        name = self.resolver.name(ip) if self.resolver is not None else None
        if name is not None:
            return lsof_text(name)
        return "[%s]" % ip_text(ip) if ip.version == 6 else str(ip)

    def endpoint(self, ep: Endpoint, proto: str) -> str:
        if ep.port == 0:
            port = "*"
        else:
            port = port_text(ep.port, proto if proto in ("tcp", "udp") else "tcp", self.numeric_ports)
        return "%s:%s" % (self.host(ep.ip), lsof_text(port))

    def inet_name(self, rec: InetSocket) -> str:
        """NAME of an inet socket: ``local->remote (STATE)``."""
        name = self.endpoint(rec.local, rec.proto)
        if not (rec.remote.ip.is_unspecified and rec.remote.port == 0):
            name += "->" + self.endpoint(rec.remote, rec.proto)
        if rec.proto == "tcp":
            return name + " (%s)" % lsof_tcp_state(int(rec.state))
        return name + " "  # lsof 4.95 leaves the state of a datagram socket empty

    @staticmethod
    def unix_name(rec: UnixSocket) -> str:
        """NAME of a unix socket: ``[path ]type=STREAM (CONNECTED)``."""
        state = "LISTEN" if rec.is_listening else lsof_unix_status(int(rec.status))
        name = "type=%s (%s)" % (LSOF_UNIX_TYPE.get(rec.type, str(rec.type)), state)
        if rec.path is not None:
            name = lsof_text(rec.path) + " " + name
        return name

    # tables
    def sockets(self) -> Dict[int, Socket]:
        """inode -> socket record, from the tables of ``socket_protos``."""
        if self._sockets is None:
            from .._query import Query

            self._sockets = {}
            # backend auto: on the live machine sock_diag gives unix paths whole (a path with
            # a newline is cut in /proc/net/unix, and can forge a row there).
            for rec in Query(self.socket_protos, owners=False, root=self.fs.root).run():
                if rec.inode:
                    self._sockets.setdefault(rec.inode, rec)
        return self._sockets

    def known_socket(self, target: str) -> bool:
        """True when the link text names a socket the tables hold."""
        inode = socket_inode(target)
        return inode is not None and inode in self.sockets()

    def unix_pointers(self) -> Dict[int, str]:
        """inode -> the Num column of /proc/net/unix, which lsof prints as a unix socket's
        DEVICE. Read only when a record has no pointer (one from sock_diag, which has
        none): the first row of an inode counts, as in lsof (dialects/linux/dsock.c
        get_unix). A socket the text does not list (it came after the read) gets no
        DEVICE, as lsof prints a unix socket it has no PCB address for."""
        if self._unix_pointers is None:
            from .._parse.unix import parse_unix

            pointers: Dict[int, str] = {}
            try:
                data = self.fs.read_net_table("unix")
            except (ProcNetError, OSError):
                data = None
            if data is not None:
                for rec in parse_unix(data, on_error=lambda error: None):
                    if rec.pointer is not None:
                        pointers.setdefault(rec.inode, rec.pointer)
            self._unix_pointers = pointers
        return self._unix_pointers

    def mounts(self, proc: ProcessDir) -> Dict[int, Mount]:
        """The process's mounts by id, read once per mount namespace."""
        try:
            key = proc.readlink("ns/mnt")
        except ProcNetError:
            key = "pid:%d" % proc.pid
        if key not in self._mounts:
            try:
                self._mounts[key] = parse_mountinfo(proc.read("mountinfo"))
            except ProcNetError:
                self._mounts[key] = {}
        return self._mounts[key]

    # one process
    def process_rows(self, pid: int, wanted_fds: Optional[Set[int]] = None, only_sockets: bool = False) -> List[Row]:
        """Every file of ``pid`` as lsof lists it; [] when the process went away.

        ``wanted_fds`` limits the descriptors read to those numbers; ``only_sockets``
        reads only socket descriptors (no cwd, rtd, txt, mem rows, no mountinfo).
        """
        try:
            proc = self.fs.process(pid)
        except (Gone, Denied):
            return []
        with proc:
            head = _process_columns(proc, pid)
            if head is None:
                return []
            rows: List[Row] = []
            mounts: Dict[int, Mount] = {}
            if not only_sockets:
                mounts = self.mounts(proc)
                rows = self._file_rows(proc, head, mounts)
            rows.extend(self._fd_rows(proc, head, mounts, wanted_fds, only_sockets))
        return rows

    def _file_rows(self, proc: ProcessDir, head: ProcessColumns, mounts: Dict[int, Mount]) -> List[Row]:
        """cwd, rtd, txt and the mem / DEL rows of the mapped files."""
        try:
            maps = parse_maps(proc.read("maps"))
        except ProcNetError:
            maps = []
        rows = [_link_row(proc, head, fd, link, mounts, maps) for fd, link in (("cwd", "cwd"), ("rtd", "root"), ("txt", "exe"))]
        exe = rows[2] if rows[2].inode is not None else None
        for entry in maps:
            if exe is not None and entry.inode == exe.inode and entry.device == exe.device:
                continue
            rows.append(Row(head, "DEL" if entry.deleted else "mem", "", "unknown", entry.device, "",
                            str(entry.inode), lsof_text(entry.path), None, entry.path, None, entry.inode))
        return rows

    def _fd_rows(
        self,
        proc: ProcessDir,
        head: ProcessColumns,
        mounts: Dict[int, Mount],
        wanted_fds: Optional[Set[int]],
        only_sockets: bool,
    ) -> List[Row]:
        try:
            names = proc.fds()
        except Denied as exc:
            return [Row(head, "NOFD", "", "", "", "", "", lsof_text("%s/fd (opendir: %s)" % (proc.path, _reason(exc))))]
        except ProcNetError:
            return []
        rows: List[Row] = []
        # ASCII digits only: "\u00b2".isdigit() is True and int() refuses it (a bundle's names)
        for name in sorted((n for n in names if n.isascii() and n.isdigit()), key=int):
            number = int(name)
            if wanted_fds is None or number in wanted_fds:
                row = self._fd_row(proc, head, mounts, name, number, only_sockets)
                if row is not None:
                    rows.append(row)
        return rows

    def _fd_row(
        self,
        proc: ProcessDir,
        head: ProcessColumns,
        mounts: Dict[int, Mount],
        name: str,
        number: int,
        only_sockets: bool,
    ) -> Optional[Row]:
        """The row of descriptor ``name``; None when it was closed meanwhile, could not be
        read, or is not a socket when ``only_sockets``."""
        try:
            target = proc.fd_target(name)
        except Denied as exc:
            text = lsof_text("%s/fd/%s (readlink: %s)" % (proc.path, name, _reason(exc)))
            return Row(head, "%4d" % number, "", "unknown", "", "", "", text, number)
        except ProcNetError:
            return None
        if target is None or (only_sockets and not target.startswith("socket:[")):
            return None
        mode = _link_mode(proc, name)
        if mode and self.known_socket(target):
            # The link's mode bits gave the mode and the socket table gives the rest: fdinfo
            # would only add pos, and a socket has no file position (lsof prints 0t0).
            d = Descriptor("%4d" % number, number, target, mode, None, 0, None, None)
        else:
            d = _descriptor(proc, name, number, target, mode, mounts)
        make = KINDS.get(descriptor_kind(target))
        row = make(self, head, d) if make is not None else None
        return row if row is not None else _other_row(self, head, d)


def _process_columns(proc: ProcessDir, pid: int) -> Optional[ProcessColumns]:
    """COMMAND, PID and USER of a process; None when it went away."""
    try:
        comm = parse_comm(proc.read("comm"))
    except Gone:
        return None
    except ProcNetError:
        comm = "?"
    uid: Optional[int] = None
    try:
        uid = status_uids(proc.read("status"))[1]
    except (ProcNetError, ValueError):
        uid = None
    return ProcessColumns(pid, comm, uid, _user_name(uid))


def _link_row(
    proc: ProcessDir, head: ProcessColumns, fd: str, link: str, mounts: Dict[int, Mount], maps: List[MapEntry]
) -> Row:
    """cwd and rtd (directories, on the mount that holds their path) and txt (the
    executable, its device and inode from the mapping of the same path)."""
    try:
        target = proc.readlink(link)
    except Denied as exc:
        return Row(head, fd, "", "unknown", "", "", "", lsof_text("%s/%s (readlink: %s)" % (proc.path, link, _reason(exc))))
    except ProcNetError:
        return Row(head, fd, "", "unknown", "", "", "", lsof_text("%s/%s" % (proc.path, link)))
    if fd != "txt":
        return Row(head, fd, "", "DIR", _device(mount_of_path(mounts, target)), "", "", lsof_text(target), None, target)
    entry = next((m for m in maps if m.path == target or m.path + " (deleted)" == target), None)
    if entry is None:
        return Row(head, fd, "", "REG", "", "", "", lsof_text(target), None, target)
    return Row(head, fd, "", "REG", entry.device, "", str(entry.inode), lsof_text(target), None, target, None, entry.inode)


def _link_mode(proc: ProcessDir, name: str) -> str:
    """The access mode letter from the lstat() mode bits of the ``fd/<name>`` link itself;
    "" when they do not say (a capture's plain symlink) or the link is gone."""
    try:
        st_mode = proc.fd_link_mode(name)
    except ProcNetError:
        st_mode = None
    return (mode_from_link_mode(st_mode) or "") if st_mode is not None else ""


def _descriptor(proc: ProcessDir, name: str, number: int, target: str, mode: str, mounts: Dict[int, Mount]) -> Descriptor:
    """Descriptor ``name`` with its fdinfo; ``mode`` from the link, else from fdinfo's flags."""
    try:
        info = parse_fdinfo(proc.read("fdinfo/" + name))
    except (ProcNetError, ValueError):
        info = {}
    flags = _octal(info.get("flags"))
    if not mode and flags is not None:
        mode = mode_from_flags(flags)
    mount = mounts.get(_int(info.get("mnt_id")) or -1) if mounts else None
    return Descriptor("%4d" % number, number, target, mode, flags, _int(info.get("pos")), mount, _int(info.get("ino")))


def _reason(exc: Exception) -> str:
    """The error's own words (``Permission denied``), as lsof prints them after ``readlink:``."""
    strerror = getattr(exc, "strerror", None)
    if isinstance(strerror, str) and strerror:
        return strerror
    text = str(exc)
    return text.rsplit(": ", 1)[-1] if ": " in text else text


def _int(text: Optional[str]) -> Optional[int]:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _octal(text: Optional[str]) -> Optional[int]:
    if text is None:
        return None
    try:
        return int(text, 8)
    except ValueError:
        return None


_USERS: Dict[int, str] = {}


def _user_name(uid: Optional[int]) -> str:
    """lsof's USER: the login name, else the uid right-aligned in 8 (lsof's USERPRTL)."""
    if uid is None:
        return ""
    if uid not in _USERS:
        try:
            import pwd

            _USERS[uid] = lsof_text(pwd.getpwuid(uid).pw_name).replace(" ", "\\x20")
        except (KeyError, ImportError):
            _USERS[uid] = "%8d" % uid
    return _USERS[uid]
