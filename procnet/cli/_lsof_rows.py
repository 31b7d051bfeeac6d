"""``procnet lsof``'s rows: what one process's open files look like in lsof's listing.

:class:`Lister` walks one process (:meth:`Lister.process_rows`): its name and uid
(``comm``, ``status``), then, unless only sockets are wanted, ``cwd``, ``root`` and
``exe`` (readlink) and ``maps`` (the ``mem`` rows), then each descriptor of ``fd/``:
readlink of the link, lstat of the link itself (its mode bits are the open mode) and
``fdinfo/<n>`` (pos, flags, mnt_id, ino, and the ids an anonymous inode's NAME shows;
skipped for a socket the tables know when the link's mode bits said its mode: the table
has the rest, and a socket has no file position). With ``threads`` (lsof lists threads
when nothing is selected) each thread's rows follow, by thread id.

A target is never opened. On the live proc it is stat()ed, as lsof does, where
:class:`~procnet.cli._lsof_stat.StatPolicy` says the stat cannot block (a local file
system, never a network or FUSE one): TYPE, DEVICE, SIZE/OFF and NODE then come from the
stat as lsof prints them (:func:`_stat_row`). Otherwise, and for a capture, the link
text says the descriptor's kind (``socket:[N]``, ``pipe:[N]``, ``anon_inode:...``, a
path, anything else) and :data:`KINDS` maps each kind to the function that makes its
:class:`Row` from the text alone. A socket's row comes from the socket tables, read once
per run (netlink and packet sockets from ``net/netlink`` and ``net/packet``).
"""

from __future__ import annotations

import socket
import stat
from typing import TYPE_CHECKING, Callable, Dict, List, Literal, NamedTuple, Optional, Set, Tuple, Union

from .._errors import ProcNetError
from .._parse.process import mode_from_flags, mode_from_link_mode, parse_comm, parse_fdinfo, socket_inode, status_uids
from .._proc import Denied, Gone
from .._records import InetSocket, UnixSocket, ip_text
from .._vocab import LSOF_UNIX_TYPE, lsof_tcp_state, lsof_unix_status
from ._lsof_mounts import MapEntry, Mount, mount_of_path, parse_maps, parse_mountinfo
from ._lsof_sockets import OtherSocket, parse_netlink, parse_packet
from ._lsof_stat import (
    FileStat,
    StatPolicy,
    device_text,
    is_device_or_fifo,
    is_local_fstype,
    live_policy,
    lsof_type,
    sockprotoname,
    stat_path,
)
from .render import HostResolver, lsof_text, port_text

if TYPE_CHECKING:
    from .._proc import ProcessDir, ProcFS
    from .._query import Proto
    from .._records import Endpoint, IPAddress

Socket = Union[InetSocket, UnixSocket]

_O_DIRECTORY = 0o200000  # include/uapi/asm-generic/fcntl.h (x86, arm, most)
_O_TMPFILE = 0o20000000  # __O_TMPFILE: O_TMPFILE is this | O_DIRECTORY, and makes a regular file


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
    #: a thread's rows (lsof's TID and TASKCMD): its id and name (unescaped); None and
    #: "" for the process's own rows
    tid: Optional[int] = None
    taskcmd: str = ""


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
    mnt_id: Optional[int] = None
    #: the fdinfo file as read (an anonymous inode's NAME takes ids from it)
    fdinfo: bytes = b""


def _device(mount: Optional[Mount]) -> str:
    return mount.device if mount is not None else ""


def _number_text(value: Optional[int]) -> str:
    return str(value) if value is not None else ""


def _offset_text(pos: Optional[int]) -> str:
    """SIZE/OFF of an offset: ``0t`` and 8 decimal digits at most, else hex (lsof's
    OFFDECDIG, print.c print_file)."""
    if pos is None:
        return ""
    text = "0t%d" % pos
    return text if len(text) <= 10 else "0x%x" % pos


def anon_inode_name(rest: str, fdinfo: bytes) -> str:
    """NAME of an anonymous inode (the link text after ``anon_inode:``), with the ids
    lsof 4.95 adds from fdinfo (dialects/linux/dproc.c process_id, snp_eventpoll):
    ``[eventfd:ID]``, ``[pidfd:PID]``, ``[eventpoll:FD,FD...]`` (the watched descriptors,
    sorted, 32 at most, then ``...``).

    >>> anon_inode_name("[eventfd]", b"pos:\t0\neventfd-id: 5\n")
    '[eventfd:5]'
    """
    values: Dict[str, List[int]] = {}
    for line in fdinfo.split(b"\n"):
        fields = line.split()
        if len(fields) >= 2 and fields[0] in (b"eventfd-id:", b"Pid:", b"tfd:") and fields[1].isdigit():
            values.setdefault(fields[0].decode(), []).append(int(fields[1]))
    if rest == "[eventfd]" and "eventfd-id:" in values:
        return "[eventfd:%d]" % values["eventfd-id:"][0]
    if rest == "[pidfd]" and "Pid:" in values:
        return "[pidfd:%d]" % values["Pid:"][0]
    if rest == "[eventpoll]" and "tfd:" in values:
        fds = sorted(values["tfd:"][:_EPOLL_MAX_TFDS])
        more = "..." if len(values["tfd:"]) >= _EPOLL_MAX_TFDS else ""
        return "[eventpoll:%s%s]" % (",".join(map(str, fds)), more)
    return rest


_EPOLL_MAX_TFDS = 32  # dialects/linux/dproc.c EPOLL_MAX_TFDS


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
    if rec is None:
        other = lister.other_sockets().get(inode)
        if other is not None:  # netlink, packet
            return Row(head, d.fd, d.mode, other.type, other.device, _offset_text(d.pos or 0), other.node,
                       lsof_text(other.name), d.number, None, d.pos, inode, None)
        # another network namespace's, or gone: lsof can't identify it either
        return Row(head, d.fd, d.mode, "sock", _device(d.mount), "0t0", str(inode), "can't identify protocol",
                   d.number, None, d.pos, inode, None)
    if isinstance(rec, UnixSocket):
        pointer = rec.pointer if rec.pointer is not None else lister.unix_pointers().get(inode)
        device = "" if pointer is None else "0x" + lsof_text(pointer)
        return Row(head, d.fd, d.mode, "unix", device, "0t0", str(inode), lister.unix_name(rec),
                   d.number, rec.path, d.pos, inode, rec)
    if rec.proto == "raw":  # lsof's raw rows: the table's own text (dsock.c get_raw)
        kind = "raw" if rec.family == socket.AF_INET else "raw6"
        return Row(head, d.fd, d.mode, kind, "", "0t0", str(inode), raw_name(rec, lister.fs.byteorder),
                   d.number, None, d.pos, inode, rec)
    kind = "IPv4" if rec.family == socket.AF_INET else "IPv6"
    return Row(head, d.fd, d.mode, kind, str(inode), "0t0", rec.proto.upper(), lister.inet_name(rec),
               d.number, None, d.pos, inode, rec)


def raw_name(rec: InetSocket, byteorder: str) -> str:
    """NAME of a raw socket as lsof 4.95 prints it: the local and remote address columns
    of ``/proc/net/raw`` (or ``raw6``) as the kernel wrote them (each 32-bit word of the
    address in the writer's byte order, then the port, in hex) and the state:
    ``00000000:0001->00000000:0000 st=07``."""
    order: Literal["little", "big"] = "big" if byteorder == "big" else "little"

    def text(ep: Endpoint) -> str:
        packed = ep.ip.packed
        words = "".join("%08X" % int.from_bytes(packed[i : i + 4], order) for i in range(0, len(packed), 4))
        return "%s:%04X" % (words, ep.port)

    return "%s->%s st=%02X" % (text(rec.local), text(rec.remote), int(rec.state))


def _pipe_row(lister: Lister, head: ProcessColumns, d: Descriptor) -> Optional[Row]:
    if not (d.target.startswith("pipe:[") and d.target.endswith("]")):
        return None
    number = d.target[6:-1]
    return Row(head, d.fd, d.mode, "FIFO", _device(d.mount), "0t%d" % (d.pos or 0), lsof_text(number), "pipe",
               d.number, None, d.pos, _int(number), None)


def _anon_inode_row(lister: Lister, head: ProcessColumns, d: Descriptor) -> Optional[Row]:
    name = lsof_text(anon_inode_name(d.target[len("anon_inode:") :], d.fdinfo))
    return Row(head, d.fd, d.mode, "a_inode", _device(d.mount), "0", _number_text(d.ino), name,
               d.number, None, d.pos, d.ino, None)


def _path_row(lister: Lister, head: ProcessColumns, d: Descriptor) -> Optional[Row]:
    """A path: a directory when opened with O_DIRECTORY, a terminal when it lives on a
    devpts mount (its DEVICE would be the rdev only a stat gives); else unknown (lsof,
    which stat()s, says REG, CHR, BLK or FIFO)."""
    kind, device = "unknown", _device(d.mount)
    if d.flags is not None and d.flags & _O_TMPFILE:
        kind = "REG"
    elif d.flags is not None and d.flags & _O_DIRECTORY:
        kind = "DIR"
    elif d.mount is not None and d.mount.fstype == "devpts" and d.target != d.mount.point:
        kind, device = "CHR", ""
    return Row(head, d.fd, d.mode, kind, device, _offset_text(d.pos), _number_text(d.ino), lsof_text(d.target),
               d.number, d.target, d.pos, d.ino, None)


def _other_row(lister: Lister, head: ProcessColumns, d: Descriptor) -> Row:
    return Row(head, d.fd, d.mode, "unknown", _device(d.mount), _offset_text(d.pos), _number_text(d.ino),
               lsof_text(d.target), d.number, d.target, d.pos, d.ino, None)


def _stat_row(head: ProcessColumns, d: Descriptor, st: FileStat, path: str) -> Row:
    """A descriptor whose target was stat()ed (``path`` is its ``fd/<n>`` link), as lsof
    prints it (dialects/linux/dnode.c process_proc_node): TYPE from the mode; DEVICE
    the device's own number for a character or block device, else the file system's;
    SIZE/OFF the offset for a device or FIFO, else the size; NODE the inode."""
    if stat.S_ISSOCK(st.mode):
        return _unknown_socket_row(head, d, st, path)
    anon = d.target.startswith("anon_inode:")
    kind = lsof_type(st.mode, anon_inode=anon, mqueue=d.mount is not None and d.mount.fstype == "mqueue")
    device = device_text(st.rdev if stat.S_ISCHR(st.mode) or stat.S_ISBLK(st.mode) else st.dev)
    size_off = _offset_text(d.pos) if is_device_or_fifo(st.mode) else str(st.size)
    if d.target.startswith("/"):
        name = d.target
    elif kind == "a_inode":
        name = anon_inode_name(d.target[len("anon_inode:") :], d.fdinfo) or "anon_inode"
    else:
        name = d.target.partition(":")[0]  # lsof cuts a pseudo file's link text at ":" (pipe)
    path_value = d.target if d.target.startswith("/") else None
    return Row(head, d.fd, d.mode, kind, device, size_off, str(st.ino), lsof_text(name),
               d.number, path_value, d.pos, st.ino, None)


def _unknown_socket_row(head: ProcessColumns, d: Descriptor, st: FileStat, path: str) -> Row:
    """A socket no table holds (another network namespace's, or a family procnet does not
    read): lsof's ``sock`` row, NAME the protocol sockfs names in the
    ``system.sockprotoname`` attribute (dialects/linux/dsock.c process_proc_sock)."""
    proto = sockprotoname(path)
    name = "protocol: %s" % lsof_text(proto) if proto else "can't identify protocol"
    return Row(head, d.fd, d.mode, "sock", device_text(st.dev), _offset_text(d.pos or 0), str(st.ino), name,
               d.number, None, d.pos, st.ino, None)


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
    ``threads`` adds each thread's rows after its process's (lsof lists them when
    nothing is selected). ``policy`` says what may be stat()ed (by default
    :func:`~procnet.cli._lsof_stat.live_policy`: nothing unless the root is the live proc).
    """

    def __init__(
        self,
        fs: ProcFS,
        *,
        numeric_hosts: bool = False,
        numeric_ports: bool = False,
        socket_protos: Tuple[Proto, ...] = ("all",),
        threads: bool = False,
        policy: Union[StatPolicy, None, str] = "live",
    ) -> None:
        self.fs = fs
        self.threads = threads
        self._policy = policy
        self.numeric_ports = numeric_ports
        self.socket_protos = socket_protos
        self.resolver = None if numeric_hosts else HostResolver()
        self._sockets: Optional[Dict[int, Socket]] = None
        self._unix_pointers: Optional[Dict[int, str]] = None
        self._other_sockets: Optional[Dict[int, OtherSocket]] = None
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
        return inode is not None and (inode in self.sockets() or inode in self.other_sockets())

    def other_sockets(self) -> Dict[int, OtherSocket]:
        """inode -> a netlink or packet socket's cells, from ``net/netlink`` and
        ``net/packet`` (read once; a table that cannot be read adds nothing)."""
        if self._other_sockets is None:
            self._other_sockets = {}
            for table, parse in (("netlink", parse_netlink), ("packet", parse_packet)):
                try:
                    data = self.fs.read_net_table(table)
                except (ProcNetError, OSError):
                    data = None
                if data is not None:
                    self._other_sockets.update(parse(data))
        return self._other_sockets

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

    def policy(self) -> Optional[StatPolicy]:
        """What may be stat()ed in this run (None: nothing)."""
        if isinstance(self._policy, str):
            self._policy = live_policy(self.fs)
        return self._policy

    @staticmethod
    def view(proc: ProcessDir) -> Optional[str]:
        """The process's mount namespace (its ``ns/mnt`` link text), None when unreadable."""
        try:
            return proc.readlink("ns/mnt")
        except ProcNetError:
            return None

    def mounts(self, proc: ProcessDir) -> Dict[int, Mount]:
        """The process's mounts by id, read once per mount namespace."""
        key = self.view(proc) or "pid:%d" % proc.pid
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
            if self.threads and not only_sockets:
                rows.extend(self._thread_rows(proc, head, mounts, wanted_fds))
        return rows

    def _thread_rows(
        self, proc: ProcessDir, head: ProcessColumns, mounts: Dict[int, Mount], wanted_fds: Optional[Set[int]]
    ) -> List[Row]:
        """The rows of each thread but the main one, by thread id, as lsof lists them
        (its cwd, rtd, txt, mem and descriptors, TID and TASKCMD filled in); a zombie
        thread or one that went away is left out (lsof's read_id_stat)."""
        try:
            names = proc.listdir("task")
        except ProcNetError:
            return []
        rows: List[Row] = []
        for tid in sorted(int(n) for n in names if n.isascii() and n.isdigit()):
            if tid == head.pid:
                continue
            try:
                with proc.task(tid) as task:
                    taskcmd = _task_name(task.read("stat"))
                    if taskcmd is not None:
                        thread = head._replace(tid=tid, taskcmd=taskcmd)
                        rows.extend(self._file_rows(task, thread, mounts, maps_of=proc))
                        rows.extend(self._fd_rows(task, thread, mounts, wanted_fds, False))
            except ProcNetError:
                continue
        return rows

    def _file_rows(
        self, proc: ProcessDir, head: ProcessColumns, mounts: Dict[int, Mount], maps_of: Optional[ProcessDir] = None
    ) -> List[Row]:
        """cwd, rtd, txt and the mem / DEL rows of the mapped files. ``maps_of`` is the
        process of a thread (``task/<tid>`` has no ``map_files/``; its threads share it)."""
        try:
            maps = parse_maps(proc.read("maps"))
        except ProcNetError:
            maps = []
        policy = self.policy()
        view = self.view(proc) if policy is not None else None
        root = _readlink(proc, "root") if policy is not None else None
        links = _Links(proc, head, mounts, maps, policy, view, root)
        rows = [links.row(fd, link) for fd, link in (("cwd", "cwd"), ("rtd", "root"), ("txt", "exe"))]
        exe = rows[2] if rows[2].inode is not None else None
        same_view = policy is not None and view is not None and view == policy.own_view
        for entry in maps:
            if exe is not None and entry.inode == exe.inode and rows[2].device == entry.device:
                continue
            rows.append(_map_row(maps_of or proc, head, entry, mounts, policy, same_view, root == "/"))
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
        known = self.known_socket(target)
        if mode and known:
            # The link's mode bits gave the mode and the socket table gives the rest: fdinfo
            # would only add pos, and a socket has no file position (lsof prints 0t0).
            d = Descriptor("%4d" % number, number, target, mode, None, 0, None, None)
        else:
            d = _descriptor(proc, name, number, target, mode, mounts)
        policy = self.policy()
        if not known and policy is not None and policy.descriptor(target, d.mnt_id, mounts):
            path = "%s/fd/%s" % (proc.path, name)
            st, _ = stat_path(path)
            if st is not None:
                return _stat_row(head, d, st, path)
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


class _Links:
    """cwd and rtd (directories, on the mount that holds their path) and txt (the
    executable, its device and inode from the mapping of the same path); stat()ed when
    the policy allows (then as lsof prints them: TYPE, DEVICE, size and NODE)."""

    def __init__(
        self,
        proc: ProcessDir,
        head: ProcessColumns,
        mounts: Dict[int, Mount],
        maps: List[MapEntry],
        policy: Optional[StatPolicy],
        view: Optional[str],
        root: Optional[str],
    ) -> None:
        self.proc, self.head, self.mounts, self.maps = proc, head, mounts, maps
        self.policy, self.view, self.root = policy, view, root

    def row(self, fd: str, link: str) -> Row:
        proc, head = self.proc, self.head
        try:
            target = proc.readlink(link)
        except Denied as exc:
            return Row(head, fd, "", "unknown", "", "", "", lsof_text("%s/%s (readlink: %s)" % (proc.path, link, _reason(exc))))
        except ProcNetError:
            return Row(head, fd, "", "unknown", "", "", "", lsof_text("%s/%s" % (proc.path, link)))
        entry = None
        if fd == "txt":
            entry = next((m for m in self.maps if m.path == target or m.path + " (deleted)" == target), None)
        if self._may_stat(target, entry):
            st, _ = stat_path("%s/%s" % (proc.path, link))
            if st is not None:
                device = device_text(st.rdev if stat.S_ISCHR(st.mode) or stat.S_ISBLK(st.mode) else st.dev)
                size = "" if is_device_or_fifo(st.mode) else str(st.size)
                return Row(head, fd, "", lsof_type(st.mode), device, size, str(st.ino), lsof_text(target),
                           None, target, None, st.ino)
        if fd != "txt":
            return Row(head, fd, "", "DIR", _device(mount_of_path(self.mounts, target)), "", "", lsof_text(target), None, target)
        if entry is None:
            return Row(head, fd, "", "REG", "", "", "", lsof_text(target), None, target)
        return Row(head, fd, "", "REG", entry.device, "", str(entry.inode), lsof_text(target), None, target, None, entry.inode)

    def _may_stat(self, target: str, entry: Optional[MapEntry]) -> bool:
        if self.policy is None:
            return False
        if entry is not None:
            return self.policy.device(entry.device, self.mounts)
        return self.policy.path(target, self.mounts, self.view, self.root)


def _map_row(
    proc: ProcessDir,
    head: ProcessColumns,
    entry: MapEntry,
    mounts: Dict[int, Mount],
    policy: Optional[StatPolicy],
    same_view: bool,
    same_root: bool = False,
) -> Row:
    """A mapped file (dialects/linux/dproc.c process_proc_map). lsof stat()s the path
    (or, for a process in another mount namespace, ``map_files/<range>``); procnet stat()s
    ``map_files/<range>``, the mapping itself (root only), and the path where that is
    refused, when the policy allows. A deleted file seen from procnet's own namespace,
    or one not stat()ed, is lsof's partial row: REG, the device and inode of ``maps``, no
    size (``DEL`` when deleted)."""
    name = lsof_text(entry.path)
    if not (entry.deleted and same_view) and policy is not None and entry.addresses and policy.device(entry.device, mounts):
        st, error, note = _map_stat(proc, entry, mounts, same_view and same_root)
        name += note
        if st is not None:
            device = device_text(st.rdev if stat.S_ISCHR(st.mode) or stat.S_ISBLK(st.mode) else st.dev)
            size = "" if is_device_or_fifo(st.mode) else str(st.size)
            return Row(head, "mem", "", lsof_type(st.mode), device, size, str(st.ino), name, None, entry.path, None, st.ino)
        if error is not None and not same_view and not entry.deleted:
            name += " (stat: %s)" % lsof_text(error.strerror or str(error))
    return Row(head, "DEL" if entry.deleted else "mem", "", "REG", entry.device, "", str(entry.inode), name,
               None, entry.path, None, entry.inode)


def _map_stat(
    proc: ProcessDir, entry: MapEntry, mounts: Dict[int, Mount], comparable: bool
) -> Tuple[Optional[FileStat], Optional[OSError], str]:
    """stat() of a mapping: ``map_files/<range>``, else (refused without privileges) its
    path, which must still name the mapped file (else lsof's note says what it names).
    ``comparable``: the process has procnet's mounts and root, so its mount points and
    the paths of ``maps`` (written from procnet's root) say which mount a path is on."""
    st, error = stat_path("%s/map_files/%s" % (proc.path, entry.addresses))
    if st is None and comparable and isinstance(error, PermissionError) and _path_on(entry, mounts):
        st, error = stat_path(entry.path, follow=False)
        if st is not None and (device_text(st.dev) != entry.device or st.ino != entry.inode):
            return None, None, _mismatch(st, entry)  # the path names another file now
    return st, error, ""


def _path_on(entry: MapEntry, mounts: Dict[int, Mount]) -> bool:
    """Whether ``entry``'s path lies on a local mount of the mapping's own device (so a
    stat of the path walks no other file system; procnet's view of the paths is the
    process's)."""
    mount = mount_of_path(mounts, entry.path)
    return mount is not None and mount.device == entry.device and is_local_fstype(mount.fstype)


def _mismatch(st: FileStat, entry: MapEntry) -> str:
    """lsof's note when the path no longer names the mapped file: `` (path dev=8,1)``,
    `` (path inode=12)`` or `` (path dev=8,1,inode=12)``."""
    notes = []
    if device_text(st.dev) != entry.device:
        notes.append("dev=" + device_text(st.dev))
    if st.ino != entry.inode:
        notes.append("inode=%d" % st.ino)
    return " (path %s)" % ",".join(notes)


def _readlink(proc: ProcessDir, link: str) -> Optional[str]:
    try:
        return proc.readlink(link)
    except ProcNetError:
        return None


def _task_name(stat_data: bytes) -> Optional[str]:
    """A thread's name (TASKCMD) from its ``stat`` line; None for a zombie thread or a
    line that does not parse, which lsof leaves out (read_id_stat)."""
    start, end = stat_data.find(b"("), stat_data.rfind(b")")
    if start < 0 or end < start:
        return None
    fields = stat_data[end + 1 :].split()
    if not fields or fields[0] == b"Z":
        return None
    return stat_data[start + 1 : end].decode("utf-8", "surrogateescape")


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
    data = b""
    try:
        data = proc.read("fdinfo/" + name)
        info = parse_fdinfo(data)
    except (ProcNetError, ValueError):
        info = {}
    flags = _octal(info.get("flags"))
    if not mode and flags is not None:
        mode = mode_from_flags(flags)
    mnt_id = _int(info.get("mnt_id"))
    mount = mounts.get(mnt_id) if mounts and mnt_id is not None else None
    return Descriptor("%4d" % number, number, target, mode, flags, _int(info.get("pos")), mount, _int(info.get("ino")),
                      mnt_id, data)


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
