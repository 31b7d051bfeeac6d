"""Proc access: the only code in procnet that reads the file system (procnet/_bundle.py alone writes, a capture).

A :class:`ProcFS` is built from a root: ``/proc`` (the default), ``/host/proc`` in a
container watching its host, a capture written by ``procnet capture``, or a fixture
tree. Every read, readlink, lstat and listdir procnet does goes through it.

Rules kept here:

* A descriptor's target is never opened or stat()ed (a FIFO or a device can block or
  act; a dead network mount hangs a stat): links are read with readlink, their own mode
  with lstat, and ``fdinfo`` is read, nothing else.
* One system call that is not a file's: kcmp(2) KCMP_FILES, through ctypes, to tell
  whether two threads share a descriptor table (:meth:`ProcFS.same_descriptor_table`),
  and only on the live proc of the reader's own pid namespace (kcmp takes pids of the
  caller's namespace). It reads nothing of either task.
* Files of a process are read relative to a descriptor of its ``<root>/<pid>``
  directory, so a pid reused during the scan cannot mix two processes.
* Every file under the root is read by one path (:func:`_open_dir`, :func:`_open_file`,
  :func:`_read`), because a capture may come from another machine and hold anything tar
  keeps: FIFOs, device nodes, links out of the root, sparse giants. Paths are walked a
  component at a time from a directory descriptor with ``O_DIRECTORY|O_NOFOLLOW``; a link
  is followed only as the first component under the root (``<root>/net -> self/net``,
  ``<root>/self -> <pid>`` on a live proc) and only when it stays inside the root. A file
  is lstat()ed before it is opened and read only when it is a regular file (what every
  file of /proc is), so no FIFO, device or socket is ever opened; it is opened with
  ``O_NONBLOCK|O_NOFOLLOW`` and fstat()ed again, then read up to a limit per kind of file
  (:data:`LIMITS`). What is refused raises :class:`~procnet.UnsafeFile` naming the file.
  (What is left: a file swapped for a device between the lstat and the open, which needs
  someone writing into the capture while procnet reads it.)
* Races are normal: a process that exits, a descriptor that closes, a directory that
  may not be read are reported through :class:`Gone` and :class:`Denied`, which the
  owner scan turns into a report, never into an exception for the caller. A per-process
  file procnet refuses to read is an :class:`~procnet.UnsafeFile`, which is a
  :class:`Denied`: that process could not be inspected.
"""

from __future__ import annotations

import codecs
import errno
import os
import stat
import sys
from typing import AbstractSet, Any, Dict, List, Optional, Sequence, Tuple

from ._errors import AccessDenied, NoSuchProcess, ProcNetError, ProcRootError, UnsafeFile, quoted
from ._parse.process import socket_inode, socket_inodes

_O_READ = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
_O_DIR = _O_READ | getattr(os, "O_DIRECTORY", 0)
# O_NONBLOCK: a FIFO swapped in after the lstat still cannot block the open or the read.
_O_FILE = _O_READ | os.O_NONBLOCK

_GONE = (errno.ENOENT, errno.ESRCH, errno.ENOTDIR)
# ELOOP: a link where procnet expects a file (O_NOFOLLOW refused it): not to be read.
_DENIED = (errno.EACCES, errno.EPERM, errno.ELOOP)

MANIFEST = "procnet-manifest.json"
#: A capture's directory of stored sock_diag answers, one file per table (read_sock_diag).
SOCK_DIAG_DIR = "sock_diag"
#: The tables a capture may hold a sock_diag answer for (no other name is read there).
SOCK_DIAG_TABLES = frozenset(("tcp", "tcp6", "udp", "udp6", "udplite", "udplite6", "raw", "raw6", "unix"))
#: Beside them, the capturing machine's cgroup2 ids and paths (stored_cgroup_paths).
CGROUP_PATHS = "cgroup2.json"

#: The live machine's proc root: the only place procnet spells this path.
DEFAULT_ROOT = "/proc"

#: The most procnet reads of each kind of file, in bytes: more is an
#: :class:`~procnet.UnsafeFile` (a capture's sparse giant, a link to /dev/zero), never a
#: MemoryError. Each is above what the kernel can print for the file:
LIMITS: Dict[str, int] = {
    # a socket table: a row is at most about 180 bytes (tcp6; unix with a 108-byte
    # path), so 1 GiB holds some 6 million rows, several times the sockets of a large host
    "net": 1 << 30,
    # fs/proc/array.c proc_task_name: tcomm[64] printed "%.64s" (63 bytes) and a newline
    "comm": 64,
    # fs/exec.c bprm_stack_limits: argv and envp together take at most _STK_LIM / 4 * 3
    # (6 MiB); cmdline is the argv area, running into the env area after a setproctitle
    "cmdline": 6 << 20,
    # task_state: the Groups: line alone takes up to NGROUPS_MAX (65536) ids of up to 11 bytes
    "status": 1 << 20,
    # do_task_stat: 52 numbers and the 64-byte name, about 1.2 KiB
    "stat": 64 << 10,
    # seq_show and the per-type tails: an epoll prints a line (about 80 bytes) per watched
    # descriptor, inotify and fanotify one per mark: 16 MiB is some 200,000 of them
    "fdinfo": 16 << 20,
    # show_map: one line per mapping (up to vm.max_map_count, 65530 by default, raised to
    # 262144 for some databases), about 100 bytes plus the path
    "maps": 64 << 20,
    # show_mountinfo: one line per mount; hosts with tens of thousands of mounts exist
    "mountinfo": 16 << 20,
    # net/ipv4/sysctl_net_ipv4.c ipv4_local_port_range: two numbers, a tab, a newline
    "ip_local_port_range": 64,
    # procnet's own: it grows with the pids it lists (denied, vanished), about 12 bytes each
    "manifest": 16 << 20,
    # a capture's cgroup2 ids and paths (JSON, about 100 bytes a cgroup): 64 MiB is some
    # 600,000 cgroups
    "cgroup_paths": 64 << 20,
    # a capture's stored sock_diag answer (procnet/_capture.py): a TCP socket's message with
    # struct tcp_info, congestion name and memory counters is under 500 bytes, so 1 GiB
    # holds some 2 million sockets
    "sock_diag": 1 << 30,
}
#: The limit of a file of a process not named in LIMITS.
_DEFAULT_LIMIT = 1 << 20
#: Bytes read (and decoded) at a time from a file whose size is not known (every /proc file).
_CHUNK = 1 << 16
#: Bytes decoded at a time into a table's text (see _read_text): 256 KiB read a 100 MB
#: table fastest of 64 KiB, 256 KiB and 1 MiB (0.16 s, 0.19 s, 0.29 s on 3.11).
_TEXT_CHUNK = 1 << 18

#: The names this module's code uses for the public exceptions (errno and filename set).
Gone = NoSuchProcess
Denied = AccessDenied


def _classify(exc: OSError, what: str) -> ProcNetError:
    if exc.errno in _DENIED:
        return AccessDenied(exc.errno, os.strerror(exc.errno or 0), what)
    if exc.errno in _GONE:
        return NoSuchProcess(exc.errno, os.strerror(exc.errno or 0), what)
    return ProcNetError("%s: %s" % (quoted(what), exc.strerror or exc))


def is_decimal_name(name: str) -> bool:
    """Whether a directory entry's name is a number as the kernel prints pids, tids and
    descriptor numbers: ASCII digits only (``"²".isdigit()`` is True, and ``int("²")``
    raises).

    >>> is_decimal_name("42"), is_decimal_name("\\u00b2"), is_decimal_name("self")
    (True, False, False)
    """
    return name.isdigit() and name.isascii()


def _is_port(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 65535


_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISREG, "a regular file"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "an entry of an unknown kind")


def _refused(path: str, mode: int, wanted: str) -> UnsafeFile:
    """The error for an entry that is not the kind procnet reads there."""
    if stat.S_ISLNK(mode):
        return UnsafeFile(path, "is a symbolic link, where procnet reads %s: not followed" % wanted, errno.ELOOP)
    return UnsafeFile(path, "is %s, not %s: not read" % (_kind(mode), wanted), errno.EINVAL)


def _lmode(name: str, dirfd: Optional[int]) -> Optional[int]:
    """lstat() mode of ``name`` in ``dirfd``; None when it is not there."""
    try:
        return os.stat(name, dir_fd=dirfd, follow_symlinks=False).st_mode
    except OSError:
        return None


def _open_dir(name: str, dirfd: Optional[int], path: str) -> int:
    """Open the directory ``name`` of ``dirfd`` (an absolute path when None), never
    through a link. ``path`` names it in errors."""
    try:
        return os.open(name, _O_DIR, dir_fd=dirfd)
    except OSError as exc:
        # O_DIRECTORY|O_NOFOLLOW refuses a link with ENOTDIR, as it refuses a file
        if exc.errno == errno.ENOTDIR:
            mode = _lmode(name, dirfd)
            if mode is not None and not stat.S_ISDIR(mode):
                raise _refused(path, mode, "a directory") from None
        raise _classify(exc, path) from None


def _open_file(name: str, dirfd: int, path: str) -> Tuple[int, int]:
    """(descriptor, size) of the regular file ``name`` of ``dirfd``, opened for reading.

    Anything else (a link, a FIFO, a device, a socket, a directory) is refused before it
    is opened: opening a device runs its driver (a tape rewinds, a watchdog starts).
    """
    try:
        mode = os.stat(name, dir_fd=dirfd, follow_symlinks=False).st_mode
    except OSError as exc:
        raise _classify(exc, path) from None
    if not stat.S_ISREG(mode):
        raise _refused(path, mode, "a regular file")
    try:
        fd = os.open(name, _O_FILE, dir_fd=dirfd)
    except OSError as exc:
        raise _classify(exc, path) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # swapped since the lstat
            raise _refused(path, st.st_mode, "a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd, st.st_size


def _too_large(path: str, limit: int) -> UnsafeFile:
    return UnsafeFile(path, "is larger than %d bytes%s, procnet's limit for this kind of file: not read"
                      % (limit, _size_text(limit)), errno.EFBIG)


def _size_text(size: int) -> str:
    """`` (1 GiB)`` for a round size, else nothing."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if size >= 1 << shift and size % (1 << shift) == 0:
            return " (%d %s)" % (size >> shift, unit)
    return ""


def _read(fd: int, size: int, limit: int, path: str) -> bytes:
    """The whole content of an open file, at most ``limit`` bytes.

    ``size`` is fstat's: a capture's file is read in one call (one copy); a /proc file
    reports 0 and is read a chunk at a time, never asking past ``limit``.
    """
    if size > limit:
        raise _too_large(path, limit)
    chunks: List[bytes] = []
    total = 0
    want = size + 1 if size else min(limit + 1, _CHUNK)
    while True:
        chunk = _read_chunk(fd, want, path)
        if not chunk:
            break
        total += len(chunk)
        if total > limit:
            raise _too_large(path, limit)
        chunks.append(chunk)
        want = min(limit + 1 - total, _CHUNK)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _read_chunk(fd: int, size: int, path: str) -> bytes:
    try:
        return os.read(fd, size)
    except OSError as exc:
        raise _classify(exc, path) from None


def _read_text(fd: int, size: int, limit: int, path: str) -> str:
    """The whole content of an open file decoded as the parsers take it (UTF-8, undecodable
    bytes kept as surrogate escapes), at most ``limit`` bytes.

    Only one copy of a large table is held at a time: each chunk is decoded as it is read
    and dropped, and ``text += piece`` grows the text in place. CPython does that for a str
    nothing else refers to (a realloc, which glibc does by remapping pages at these sizes),
    so the peak is the text and two chunks. Reading the bytes whole and then decoding them
    held two copies twice (the chunks and their join, then the bytes and the text: 2.0 to
    3.0 times the table at the peak, by tracemalloc, on 3.8, 3.11 and 3.13; 1.02 this
    way for 100 MB). A first non-ASCII character copies the text once into the wider kind.
    """
    if size > limit:
        raise _too_large(path, limit)
    decode = codecs.getincrementaldecoder("utf-8")("surrogateescape").decode
    text = ""
    total = 0
    want = min(limit + 1, _TEXT_CHUNK)
    while True:
        chunk = _read_chunk(fd, want, path)
        if not chunk:
            break
        total += len(chunk)
        if total > limit:
            raise _too_large(path, limit)
        text += decode(chunk)
        want = min(limit + 1 - total, _TEXT_CHUNK)
    text += decode(b"", True)
    return text


def _limit(name: str) -> int:
    """The limit for a file of a process by its name (``comm``, ``fdinfo/3``, ``task/5/stat``)."""
    if name.startswith("fdinfo/") or "/fdinfo/" in name:
        return LIMITS["fdinfo"]
    return LIMITS.get(name.rpartition("/")[2], _DEFAULT_LIMIT)


#: Descriptor numbers by name, shared by every scan: processes reuse the same numbers,
#: and one int object per number (rather than one per owner) saves 28 bytes an owner.
_FD_NUMBERS: Dict[str, int] = {}
_FD_NUMBERS_MAX = 1 << 16


def _fd_number(name: str) -> int:
    """int(name) of a decimal name, remembered (see _FD_NUMBERS)."""
    fd = int(name)
    if len(_FD_NUMBERS) < _FD_NUMBERS_MAX:
        _FD_NUMBERS[name] = fd
    return fd


class ProcessDir:
    """An open ``<root>/<pid>`` (or ``<root>/<pid>/task/<tid>``) directory.

    Use as a context manager; every method raises :class:`Gone` or :class:`Denied` (an
    :class:`~procnet.UnsafeFile` is a :class:`Denied`).

    ``skipped`` lists (path, problem) for the entries of ``fd/`` that :meth:`fds` and
    :meth:`socket_fds` left out because no live /proc has them: a name that is not a
    descriptor number, an entry that is not a link, a ``socket:[...]`` link whose inode is
    not a number. The owner scan reports them; the rest of the process is read.
    """

    __slots__ = ("pid", "_dirfd", "_fd_dirfd", "_path", "_subdirs", "skipped")

    def __init__(self, path: str, pid: int) -> None:
        self.pid = pid
        self._path = path
        self._fd_dirfd = -1
        self._subdirs: Dict[str, int] = {}
        self.skipped: List[Tuple[str, str]] = []
        self._dirfd = _open_dir(path, None, path)

    @property
    def path(self) -> str:
        """The directory's path (for messages)."""
        return self._path

    def __enter__(self) -> ProcessDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._fd_dirfd >= 0:
            os.close(self._fd_dirfd)
            self._fd_dirfd = -1
        for fd in self._subdirs.values():
            os.close(fd)
        self._subdirs.clear()
        if self._dirfd >= 0:
            os.close(self._dirfd)
            self._dirfd = -1

    def _parent(self, name: str) -> Tuple[int, str]:
        """(descriptor of the directory that holds the last component of ``name``, that
        component). The directories on the way (``fdinfo``, ``ns``, ``task/5``) are opened
        once per ProcessDir, each without following a link: a capture whose
        ``<pid>/fdinfo`` is a link out of it is not read through."""
        head, _, last = name.rpartition("/")
        if not head:
            return self._dirfd, last
        fd = self._subdirs.get(head)
        if fd is None:
            fd = self._dirfd
            done = ""
            for part in head.split("/"):
                done = done + "/" + part if done else part
                known = self._subdirs.get(done)
                if known is None:
                    if part in (".", ".."):
                        raise UnsafeFile("%s/%s" % (self._path, done), "is not a name procnet reads", errno.EINVAL)
                    known = _open_dir(part, fd, "%s/%s" % (self._path, done))
                    self._subdirs[done] = known
                fd = known
        return fd, last

    def read(self, name: str) -> bytes:
        """The whole content of a regular file of this process (``comm``, ``status``,
        ``fdinfo/3``), at most its kind's :data:`LIMITS`; anything else is an
        :class:`~procnet.UnsafeFile`."""
        path = "%s/%s" % (self._path, name)
        dirfd, last = self._parent(name)
        fd, size = _open_file(last, dirfd, path)
        try:
            return _read(fd, size, _limit(name), path)
        finally:
            os.close(fd)

    def readlink(self, name: str) -> str:
        """The target of a link of this process (``ns/net``, ``cwd``, ``exe``)."""
        path = "%s/%s" % (self._path, name)
        dirfd, last = self._parent(name)
        try:
            return os.readlink(last, dir_fd=dirfd)
        except OSError as exc:
            if exc.errno == errno.EINVAL:
                raise _refused(path, _lmode(last, dirfd) or 0, "a symbolic link") from None
            raise _classify(exc, path) from None

    def listdir(self, name: str) -> List[str]:
        """Names in a directory of this process (``task``, ``fdinfo``)."""
        path = "%s/%s" % (self._path, name)
        dirfd, last = self._parent(name)
        fd = _open_dir(last, dirfd, path)
        try:
            return os.listdir(fd)
        except OSError as exc:
            raise _classify(exc, path) from None
        finally:
            os.close(fd)

    def fds(self) -> List[str]:
        """The descriptor numbers (as names) in ``fd/``; keeps the directory open for
        :meth:`fd_target`. A name that is not a number is left out and noted in
        ``skipped``."""
        if self._fd_dirfd < 0:
            self._fd_dirfd = _open_dir("fd", self._dirfd, "%s/fd" % self._path)
        try:
            names = os.listdir(self._fd_dirfd)
        except OSError as exc:
            raise _classify(exc, "%s/fd" % self._path) from None
        # One pass in C for the common case (every name a number); by name otherwise.
        joined = "".join(names)
        if joined.isdigit() and joined.isascii():
            return names
        for name in names:
            entry = ("%s/fd/%s" % (self._path, name), "not a descriptor number")
            if not is_decimal_name(name) and entry not in self.skipped:  # once, however often listed
                self.skipped.append(entry)
        return [name for name in names if is_decimal_name(name)]

    def socket_fds(self, wanted: Optional[AbstractSet[int]] = None) -> Tuple[List[str], List[Tuple[int, int]]]:
        """The names in ``fd/`` and (fd, socket inode) of every ``socket:[N]`` link among them.

        The hot loop of the owner scan: one readlink per descriptor, nothing else (no
        stat, no open). ``wanted`` keeps only those inodes. A descriptor closed meanwhile
        is skipped; an entry that is not a link, or a ``socket:[`` link whose inode is not
        a number, is skipped and noted in ``skipped``.
        """
        names = self.fds()
        # Only readlink in this loop: with the scan spread over threads, every bit of
        # Python between two system calls is time the other threads wait for the GIL
        # (measured: two threads over 205,000 links take 0.66-0.75 s this way, 0.86-0.91 s
        # with the checks done link by link).
        targets: List[str] = []
        keep = targets.append
        readlink = os.readlink
        dirfd = self._fd_dirfd
        for name in names:
            try:
                keep(readlink(name, dir_fd=dirfd))
            except OSError as exc:
                if exc.errno == errno.EINVAL:  # not a link: a capture's plain file
                    self.skipped.append(("%s/fd/%s" % (self._path, name), "not a symbolic link"))
                elif exc.errno not in _GONE:
                    raise _classify(exc, "%s/fd/%s" % (self._path, name)) from None
                keep("")  # closed meanwhile
        # fs/proc/fd.c proc_fd_link -> d_path -> sockfs_dname: "socket:[%lu]". A socket:[
        # link whose inode is not a number (no kernel prints one) is found by a count in
        # C: every link that starts so adds one "\nsocket:[" to the joined text, so a
        # count equal to the sockets found means there is none (a larger one, a link
        # with that text inside, is checked link by link).
        number = _FD_NUMBERS.get
        found = [
            (number(name) or _fd_number(name), inode)
            for name, inode in zip(names, socket_inodes(targets))
            if inode is not None
        ]
        if ("\n" + "\n".join(targets)).count("\nsocket:[") != len(found):
            self.skipped.extend(
                ("%s/fd/%s" % (self._path, name), "a socket link without a decimal inode")
                for name, target in zip(names, targets)
                if target[:8] == "socket:[" and socket_inode(target) is None
            )
        if wanted is not None:
            found = [pair for pair in found if pair[1] in wanted]
        return names, found

    def fd_target(self, name: str) -> Optional[str]:
        """readlink of ``fd/<name>``; None when the descriptor was closed meanwhile. An
        entry that is not a link is an :class:`~procnet.UnsafeFile`."""
        try:
            return os.readlink(name, dir_fd=self._fd_dirfd)
        except OSError as exc:
            if exc.errno in _GONE:
                return None
            path = "%s/fd/%s" % (self._path, name)
            if exc.errno == errno.EINVAL:
                raise _refused(path, _lmode(name, self._fd_dirfd) or 0, "a symbolic link") from None
            raise _classify(exc, path) from None

    def fd_link_mode(self, name: str) -> Optional[int]:
        """lstat() mode bits of the ``fd/<name>`` link itself (never its target)."""
        try:
            return os.lstat(name, dir_fd=self._fd_dirfd).st_mode
        except OSError as exc:
            if exc.errno in _GONE:
                return None
            raise _classify(exc, "%s/fd/%s" % (self._path, name)) from None

    def task(self, tid: int) -> ProcessDir:
        """The ``task/<tid>`` directory of a thread of this process."""
        path = "%s/task/%d" % (self._path, tid)
        dirfd, last = self._parent("task/%d" % tid)
        fd = _open_dir(last, dirfd, path)
        sub = ProcessDir.__new__(ProcessDir)
        sub.pid = self.pid
        sub._path = path
        sub._dirfd = fd
        sub._fd_dirfd = -1
        sub._subdirs = {}
        sub.skipped = self.skipped  # one list for the process and its threads
        return sub

    def threads(self) -> Optional[int]:
        """The number of threads of this process, from one lstat() of ``task/``: fs/proc/base.c
        proc_task_getattr counts them into the directory's link count (2 + threads). None
        when it cannot be told. (In a capture the count is the directory's own: 2 + the
        thread directories it holds.)"""
        try:
            links = os.stat("task", dir_fd=self._dirfd, follow_symlinks=False).st_nlink
        except OSError:
            return None
        return links - 2 if links >= 2 else None


#: include/linux/proc_ns.h PROC_PID_INIT_INO: the inode of the initial pid namespace (the
#: one every other descends from), fixed at build time.
PID_NS_INIT_INO = 0xEFFFFFFC

#: kcmp(2)'s number by (os.uname().machine, pointer bits of this interpreter), from the
#: kernel's tables: arch/x86/entry/syscalls/syscall_64.tbl and syscall_32.tbl,
#: arch/arm/tools/syscall.tbl, arch/powerpc/kernel/syscalls/syscall.tbl,
#: arch/s390/kernel/syscalls/syscall.tbl, arch/mips/kernel/syscalls/syscall_n64.tbl
#: (5000 + 306), and the generic table (include/uapi/asm-generic/unistd.h,
#: scripts/syscall.tbl) that arm64, riscv and loongarch use. A 32-bit interpreter on a
#: 64-bit x86 or mips kernel is left out: its number depends on an ABI (i386 or x32,
#: o32 or n32) that uname() does not tell.
_KCMP_NUMBERS = {
    ("x86_64", 64): 312,
    ("i386", 32): 349,
    ("i486", 32): 349,
    ("i586", 32): 349,
    ("i686", 32): 349,
    ("aarch64", 64): 272,
    ("arm64", 64): 272,
    ("aarch64", 32): 378,  # 32-bit arm user space on an arm64 kernel: the arm table
    ("riscv64", 64): 272,
    ("loongarch64", 64): 272,
    ("ppc64", 64): 354,
    ("ppc64le", 64): 354,
    ("ppc64", 32): 354,
    ("ppc", 32): 354,
    ("s390x", 64): 343,
    ("s390x", 32): 343,
    ("mips64", 64): 5306,
}
#: include/uapi/linux/kcmp.h: compare the tasks' descriptor tables (task->files).
_KCMP_FILES = 2


class _Kcmp:
    """kcmp(2) with KCMP_FILES, through ctypes (imported only when first needed).

    kernel/kcmp.c looks both pids up in the caller's own pid namespace and needs
    PTRACE_MODE_READ_REALCREDS over both tasks; it answers 0 for the same table. It takes
    each task's exec_update_lock for reading (cred_guard_mutex before 5.7) for the
    comparison, so it waits while the task is in the middle of an execve().
    """

    def __init__(self, number: int) -> None:
        import ctypes

        self._get_errno = ctypes.get_errno
        self._call = ctypes.CDLL(None, use_errno=True).syscall
        self._call.restype = ctypes.c_long
        self._long = ctypes.c_long
        self._head = (ctypes.c_long(number),)
        self._tail = (ctypes.c_long(_KCMP_FILES), ctypes.c_long(0), ctypes.c_long(0))
        #: False once the kernel said it has no kcmp (ENOSYS, EINVAL)
        self.works = True

    def same_files(self, pid: int, tid: int) -> Optional[bool]:
        if not self.works:
            return None
        result = int(self._call(*self._head, self._long(pid), self._long(tid), *self._tail))
        if result >= 0:
            return result == 0
        err = self._get_errno()
        if err == errno.ESRCH:
            raise NoSuchProcess(err, os.strerror(err), "kcmp(%d, %d)" % (pid, tid))
        if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
            self.works = False
        return None  # EPERM (ptrace rules, an LSM, a seccomp filter), or no kcmp


_KCMP: List[Optional[_Kcmp]] = []  # made once per process: [] not yet, [None] not available


def _kcmp() -> Optional[_Kcmp]:
    if not _KCMP:
        bits = 64 if sys.maxsize > 2**32 else 32
        number = _KCMP_NUMBERS.get((os.uname().machine, bits))
        if number is None and os.uname().machine.startswith("arm") and bits == 32:
            number = 378  # armv7l, armv6l, armv8l...: arch/arm/tools/syscall.tbl
        kcmp: Optional[_Kcmp] = None
        if number is not None:
            try:
                kcmp = _Kcmp(number)
            except (ImportError, OSError, AttributeError):  # an interpreter built without ctypes
                kcmp = None
        _KCMP.append(kcmp)
    return _KCMP[0]


class ProcFS:
    """The file system under one proc root.

    >>> ProcFS("/proc").root
    '/proc'
    """

    def __init__(self, root: str = DEFAULT_ROOT) -> None:
        if not isinstance(root, (str, os.PathLike)):
            raise TypeError("root is a path (str or os.PathLike), not %s" % type(root).__name__)
        self.root = os.fspath(root)
        self._manifest: Optional[Dict[str, Any]] = None
        #: whether kcmp() may compare the tasks under this root (see compares_descriptor_tables)
        self._kcmp_usable: Optional[bool] = None
        #: the capture's cgroup paths, parsed once (``stored_cgroup_paths``), when read
        self._cgroup_paths: Optional[Dict[int, str]] = None
        self._cgroup_paths_read = False
        self._reader_ids: Optional[List[Optional[Tuple[Optional[int], Optional[Tuple[int, ...]]]]]] = None

    def __repr__(self) -> str:
        return "ProcFS(%r)" % self.root

    def path(self, *parts: object) -> str:
        """A path under the root (for messages and for the few reads by path)."""
        return os.path.join(self.root, *(str(p) for p in parts))

    # -- what a capture says about itself --------------------------------------------
    @property
    def manifest(self) -> Dict[str, Any]:
        """The capture manifest at the root (empty for a live proc tree, or a root that
        does not exist). A manifest that cannot be read, is larger than its limit, is not
        JSON (nested too deep included) or not a JSON object is a
        :class:`~procnet.ProcRootError` naming it."""
        if self._manifest is None:
            path = self.path(MANIFEST)
            try:
                raw = self._read_file((MANIFEST,), "manifest")
            except NoSuchProcess:
                self._manifest = {}  # none: a live proc
                return self._manifest
            except ProcRootError:
                if not os.path.lexists(self.root):
                    self._manifest = {}  # what is wrong is said by the read that needs the root
                    return self._manifest
                raise
            except (OSError, ProcNetError) as exc:
                raise ProcRootError("unreadable capture manifest %s: %s" % (quoted(path), exc)) from None
            import json  # only captures and fixtures have a manifest

            try:
                loaded = json.loads(raw.decode("utf-8"))
            except (ValueError, RecursionError) as exc:  # RecursionError: [[[[... nested too deep
                raise ProcRootError("capture manifest %s is not valid JSON: %s"
                                    % (quoted(path), quoted(str(exc) or type(exc).__name__))) from None
            if not isinstance(loaded, dict):
                raise ProcRootError("capture manifest %s is not a JSON object" % quoted(path))
            self._manifest = loaded
        return self._manifest

    @property
    def byteorder(self) -> str:
        """Byte order of the machine that wrote the tables: a capture's, else this one's."""
        order = self.manifest.get("byteorder", sys.byteorder)
        return order if order in ("little", "big") else sys.byteorder

    def is_live(self) -> bool:
        """True when the root is this machine's own live proc (not a capture, fixture or
        another mount such as /host/proc)."""
        if self.manifest:
            return False
        try:
            return os.path.samefile(self.root, DEFAULT_ROOT) and os.path.realpath(self.root) == DEFAULT_ROOT
        except OSError:
            return False

    # -- tables ---------------------------------------------------------------------
    def net_dir(self, pid: Optional[int] = None) -> str:
        return self.path("net") if pid is None else self.path(pid, "net")

    def read_net_table(self, table: str, pid: Optional[int] = None) -> Optional[bytes]:
        """The bytes of ``<root>/net/<table>`` (or ``<root>/<pid>/net/<table>``).

        None when the table does not exist (the kernel lacks the protocol: udplite on
        7.1+, the ``*6`` tables without IPv6). A root with no ``net/`` at all is a
        :class:`~procnet.ProcRootError`; a pid that went away is :class:`Gone`; a table
        that is not a regular file, or larger than ``LIMITS["net"]``, is an
        :class:`~procnet.UnsafeFile`.
        """
        opened = self._open_net_table(table, pid)
        if opened is None:
            return None
        fd, size, path = opened
        try:
            return _read(fd, size, LIMITS["net"], path)
        finally:
            os.close(fd)

    def read_net_text(self, table: str, pid: Optional[int] = None) -> Optional[str]:
        """:meth:`read_net_table` decoded as the parsers take it (undecodable bytes kept as
        surrogate escapes), holding one copy of the table at a time (see :func:`_read_text`)."""
        opened = self._open_net_table(table, pid)
        if opened is None:
            return None
        fd, size, path = opened
        try:
            return _read_text(fd, size, LIMITS["net"], path)
        finally:
            os.close(fd)

    def has_sock_diag(self) -> bool:
        """Whether the root is a capture that stored sock_diag answers (its manifest's
        ``sock_diag`` entry; :meth:`read_sock_diag` reads them)."""
        return isinstance(self.manifest.get("sock_diag"), dict)

    def read_sock_diag(self, table: str) -> Optional[bytes]:
        """The sock_diag answer a capture stored for a table of its own namespace
        (``<root>/sock_diag/<table>``: the reply datagrams, as received; see
        procnet/_capture.py), at most ``LIMITS["sock_diag"]`` bytes; None when the root
        holds none for it (a live proc, a fixture tree, an older capture, a table the
        kernel had no diag module for). A file that is not a regular one or is too large
        is an :class:`~procnet.UnsafeFile`."""
        if not self.has_sock_diag() or table not in SOCK_DIAG_TABLES:
            return None
        try:
            return self._read_file((SOCK_DIAG_DIR, table), "sock_diag")
        except NoSuchProcess:  # no sock_diag/ directory, or no answer for this table
            return None

    def stored_cgroup_paths(self) -> Optional[Dict[int, str]]:
        """cgroup id -> path below the cgroup2 mount, as the capturing machine had them
        (``<root>/sock_diag/cgroup2.json``), for ``ss -e``'s ``cgroup:``; None when the
        root holds none (a live proc: walk the live hierarchy instead). A file that is not
        JSON, or has no ``paths`` object, is a :class:`~procnet.ProcRootError` naming it;
        an entry that is not a decimal id and a path string is left out. Read once per
        ProcFS (the file may hold a large hierarchy; ``ss -e`` asks twice)."""
        if not self._cgroup_paths_read:
            self._cgroup_paths = self._read_cgroup_paths()
            self._cgroup_paths_read = True
        return self._cgroup_paths

    def _read_cgroup_paths(self) -> Optional[Dict[int, str]]:
        if not self.has_sock_diag():
            return None
        path = self.path(SOCK_DIAG_DIR, CGROUP_PATHS)
        try:
            raw = self._read_file((SOCK_DIAG_DIR, CGROUP_PATHS), "cgroup_paths")
        except NoSuchProcess:
            return None
        import json

        try:
            loaded = json.loads(raw.decode("utf-8", "surrogateescape"))
            paths = loaded["paths"]
            return {int(k): v for k, v in paths.items() if k.isascii() and k.isdigit() and isinstance(v, str)}
        except (ValueError, RecursionError, KeyError, TypeError, AttributeError) as exc:
            raise ProcRootError("cgroup paths %s of the capture are not what procnet writes: %s"
                                % (quoted(path), quoted(str(exc) or type(exc).__name__))) from None

    def has_net_tables(self, pid: int) -> bool:
        """Whether ``<root>/<pid>/net`` is there to be read: always while the process lives
        on a live proc; in a capture, only for the processes it copied the tables of (one
        per namespace, with ``netns="all"``)."""
        try:
            os.close(self._walk((str(pid), "net")))
        except (OSError, ProcNetError):
            return False
        return True

    def _open_net_table(self, table: str, pid: Optional[int]) -> Optional[Tuple[int, int, str]]:
        """(descriptor, size, path) of a net table, opened for reading; None when the table
        does not exist."""
        parts: Tuple[str, ...] = ("net",) if pid is None else (str(pid), "net")
        directory = self.path(*parts)
        path = self.path(*parts, table)
        try:
            dirfd = self._walk(parts)
        except NoSuchProcess:
            if pid is not None:
                raise NoSuchProcess(errno.ESRCH, os.strerror(errno.ESRCH), directory) from None
            raise ProcRootError("%s is not a proc root: %s does not exist" % (quoted(self.root), quoted(directory))) from None
        try:
            fd, size = _open_file(table, dirfd, path)
        except NoSuchProcess:
            if pid is not None:  # the table is missing, or the process exited meanwhile?
                os.close(self._walk(parts))
            return None
        finally:
            os.close(dirfd)
        return fd, size, path

    def _walk(self, parts: Sequence[str]) -> int:
        """A descriptor (the caller closes it) of the directory ``<root>/<parts...>``.

        The root is opened as given (a link in its own path is the caller's choice). Each
        part is a directory opened without following a link, except the first, which may
        be a link that stays inside the root (:meth:`_check_inside`): the live proc's
        ``net -> self/net`` and ``self -> <pid>``. Raises :class:`Gone` for a missing
        part, :class:`~procnet.UnsafeFile` for a part that is not a directory or a link
        further down, :class:`~procnet.ProcRootError` for a root that cannot be opened or
        a link out of it.
        """
        try:
            fd = os.open(self.root, (_O_DIR & ~getattr(os, "O_NOFOLLOW", 0)))
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                raise ProcRootError("proc root %s does not exist" % quoted(self.root)) from None
            raise ProcRootError("cannot open proc root %s: %s" % (quoted(self.root), exc.strerror)) from None
        try:
            for i, part in enumerate(parts):
                path = self.path(*parts[: i + 1])
                if part in ("", ".", "..") or "/" in part:
                    raise UnsafeFile(path, "is not a name procnet reads", errno.EINVAL)
                try:
                    sub = _open_dir(part, fd, path)
                except UnsafeFile as exc:
                    if i or exc.errno != errno.ELOOP:
                        raise
                    sub = _open_dir(self._check_inside(path), None, path)
                os.close(fd)
                fd = sub
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _read_file(self, parts: Tuple[str, ...], kind: str) -> bytes:
        """The content of the regular file ``<root>/<parts...>``, walked as :meth:`_walk`
        walks, at most ``LIMITS[kind]`` bytes."""
        path = self.path(*parts)
        dirfd = self._walk(parts[:-1])
        try:
            fd, size = _open_file(parts[-1], dirfd, path)
        finally:
            os.close(dirfd)
        try:
            return _read(fd, size, LIMITS[kind], path)
        finally:
            os.close(fd)

    def _check_inside(self, link: str) -> str:
        """The real path of ``link``, a link right under the root; a
        :class:`~procnet.ProcRootError` when it leads out of the root.

        On a live proc, ``<root>/net`` is a link to ``self/net`` and ``<root>/self`` one
        to the reader's pid: inside. A capture or fixture whose ``net`` (or ``sys``, or
        ``self``) points elsewhere is not read through.
        """
        real_root = os.path.realpath(self.root)
        real = os.path.realpath(link)
        if real != real_root and not real.startswith(real_root.rstrip("/") + "/"):
            raise ProcRootError("%s is a link out of the proc root %s (to %s): not followed"
                                % (quoted(link), quoted(self.root), quoted(real)))
        return real

    # -- processes ------------------------------------------------------------------
    def pids(self) -> List[int]:
        """The pids listed at the root, ascending: the names made of ASCII digits only."""
        try:
            names = os.listdir(self.root)
        except FileNotFoundError:
            raise ProcRootError("proc root %s does not exist" % quoted(self.root)) from None
        except OSError as exc:
            raise ProcRootError("cannot list proc root %s: %s" % (quoted(self.root), exc.strerror)) from None
        return sorted(int(n) for n in names if is_decimal_name(n))

    def process(self, pid: int) -> ProcessDir:
        """Open ``<root>/<pid>``; raises :class:`Gone` or :class:`Denied`."""
        return ProcessDir(self.path(pid), pid)

    def self_netns_link(self) -> Optional[str]:
        """The target of ``<root>/self/ns/net`` (the reader's namespace), or the capture's record."""
        recorded = self.manifest.get("netns")
        if isinstance(recorded, int):
            return "net:[%d]" % recorded
        try:
            dirfd = self._walk(("self", "ns"))
            try:
                return os.readlink("net", dir_fd=dirfd)
            finally:
                os.close(dirfd)
        except (OSError, ProcNetError):
            return None

    def shares_callers_netns(self) -> bool:
        """True when sock_diag answers for this root as for the caller: the root is the live
        proc, or another live proc mount (``/host/proc`` in a container run with hostPID
        and hostNetwork) whose ``self`` is this very process and whose network namespace
        (the nsfs inode ``<root>/self/ns/net`` leads to) is the calling thread's. A capture,
        a fixture tree (its links lead nowhere) or another namespace's proc is not."""
        if self.manifest:
            return False
        if self.is_live():
            return True
        try:
            if os.readlink(os.path.join(self.root, "self")) != str(os.getpid()):
                return False
            theirs = os.stat(os.path.join(self.root, "self", "ns", "net"))
            try:
                mine = os.stat("/proc/thread-self/ns/net")
            except OSError:
                mine = os.stat("/proc/self/ns/net")
        except OSError:
            return False
        return (theirs.st_dev, theirs.st_ino) == (mine.st_dev, mine.st_ino)

    def local_port_range(self) -> Tuple[int, int]:
        """``net.ipv4.ip_local_port_range`` under the root (or a capture's record); the
        kernel's default (32768, 60999) when it cannot be read: missing, not two port
        numbers, or a file procnet refuses (a FIFO, a link out of the root). It only
        decides which ports ss calls ephemeral, so it never fails a command."""
        try:
            recorded = self.manifest.get("ip_local_port_range")
        except ProcRootError:
            recorded = None  # the query, which reads the manifest too, says what is wrong
        if isinstance(recorded, list) and len(recorded) == 2 and all(_is_port(v) for v in recorded):
            return (recorded[0], recorded[1])
        try:
            low, high = self._read_file(("sys", "net", "ipv4", "ip_local_port_range"), "ip_local_port_range").split()
        except (OSError, ProcNetError, ValueError):
            return (32768, 60999)
        if low.isdigit() and high.isdigit() and len(low) <= 5 and len(high) <= 5 and int(low) <= int(high) <= 65535:
            return (int(low), int(high))
        return (32768, 60999)

    def _read_mountinfo(self) -> Optional[str]:
        """The text of ``<root>/self/mountinfo`` (the reader's mounts), read as every file
        under the root is (at most ``LIMITS["mountinfo"]``); None when it cannot be read."""
        try:
            return self._read_file(("self", "mountinfo"), "mountinfo").decode("utf-8", "surrogateescape")
        except (OSError, ProcNetError):
            return None

    def mount_options(self) -> Optional[List[str]]:
        """Options of the proc mount at the root, from the reader's mountinfo (None if unknown)."""
        if self.manifest:
            return None
        text = self._read_mountinfo()
        if text is None:
            return None
        # The mount that serves the root is the one of the root's own file system: each
        # proc instance has a device of its own, and a second instance mounted over the
        # first (hidepid over /proc) shares its mount point, not its device.
        try:
            device = os.stat(self.root).st_dev
        except OSError:
            return None
        from ._parse.mountinfo import proc_mount_options

        return proc_mount_options(text, (os.major(device), os.minor(device)), path=self.path("self", "mountinfo"))

    def hides_processes(self) -> bool:
        """True when processes of other users are hidden from this reader (hidepid=2/4)."""
        recorded = self.manifest.get("hidden_processes")
        if isinstance(recorded, bool):
            return recorded
        opts = self.mount_options() or []
        hiding = any(o in ("hidepid=2", "hidepid=invisible", "hidepid=4", "hidepid=ptraceable") for o in opts)
        return hiding and os.geteuid() != 0

    def recorded_denied(self) -> List[int]:
        """Pids a capture could not inspect (empty for a live tree)."""
        denied = self.manifest.get("denied", [])
        return [p for p in denied if isinstance(p, int)] if isinstance(denied, list) else []

    def recorded_pids(self, key: str) -> List[int]:
        """The pids a capture's manifest lists under ``key`` (empty for a live tree)."""
        listed = self.manifest.get(key, [])
        return [p for p in listed if isinstance(p, int) and not isinstance(p, bool)] if isinstance(listed, list) else []

    # -- pid namespaces and descriptor tables ---------------------------------------------
    def _reader(self) -> Optional[Tuple[Optional[int], Optional[Tuple[int, ...]]]]:
        """(inode of the reader's own pid namespace, the reader's ``NSpid:`` ids as the
        proc mount at the root prints them), read through ``<root>/self``; None when the
        root does not show the reader (its pid namespace is not an ancestor of the
        reader's, or it is not a live proc). Read once per ProcFS."""
        if self._reader_ids is None:
            self._reader_ids = [self._read_reader()]
        return self._reader_ids[0]

    def _read_reader(self) -> Optional[Tuple[Optional[int], Optional[Tuple[int, ...]]]]:
        from ._parse.process import ns_inode, status_nspids

        try:
            me = int(os.readlink(self.path("self")))
        except (OSError, ValueError):
            return None
        try:
            with self.process(me) as proc:
                link = proc.readlink("ns/pid")
                status = proc.read("status")
        except ProcNetError:  # Gone, Denied, or an error this probe need not tell apart
            return None
        try:
            ids = status_nspids(status, path=self.path(me, "status"))
        except ProcNetError:
            ids = None
        return ns_inode(link), ids

    def initial_pid_namespace(self) -> Optional[bool]:
        """Whether the pid namespace of the proc mount at the root is the initial one, in
        which every process of the machine has a pid: True, False, or None (unknown).

        When it is not, processes outside it (of the host, of a parent container) are not
        under the root, and may hold the sockets of a network namespace shared with it (a
        container with the host's network, a ``hostNetwork`` pod, ``unshare -p``).
        ``<root>/1/ns/pid`` is the namespace's own (pid 1 of a pid namespace is in it);
        where that link may not be read, the reader's ``<root>/self/ns/pid`` and the ids of
        its ``NSpid:`` line tell (one id: the mount's namespace is the reader's own). A
        capture says what it recorded, and None when it recorded nothing.
        """
        if self.manifest:
            recorded = self.manifest.get("initial_pid_namespace")
            return recorded if isinstance(recorded, bool) else None
        from ._parse.process import ns_inode

        try:
            with self.process(1) as init:
                ns = ns_inode(init.readlink("ns/pid"))
            if ns is not None:
                return ns == PID_NS_INIT_INO
        except ProcNetError:  # no pid 1 under a hidepid mount; its links denied in a sandbox
            pass
        reader = self._reader()
        if reader is None or reader[0] is None:
            return None
        ns, ids = reader
        if ns == PID_NS_INIT_INO:
            return True  # the root shows the reader, so its namespace is the reader's: the initial one
        if ids is not None and len(ids) == 1:
            return False  # the mount's namespace is the reader's, which is not the initial one
        return None  # an ancestor of the reader's namespace: which one is not told

    def compares_descriptor_tables(self) -> bool:
        """Whether :meth:`same_descriptor_table` can answer here: the root is the live proc,
        mounted for the reader's own pid namespace (kcmp(2) takes pids of that namespace),
        and kcmp's number is known for this machine. Decided once per ProcFS."""
        if self._kcmp_usable is None:
            usable = False
            if not self.manifest and self.is_live():
                reader = self._reader()
                usable = reader is not None and reader[1] is not None and len(reader[1]) == 1
            self._kcmp_usable = usable
        return self._kcmp_usable

    def same_descriptor_table(self, pid: int, tid: int) -> Optional[bool]:
        """Whether tasks ``pid`` and ``tid`` share one descriptor table (kcmp(2),
        KCMP_FILES): one system call. None when that cannot be told: not
        :meth:`compares_descriptor_tables`, no ctypes, a kernel without kcmp, or kcmp
        refused (EPERM: ptrace rules, an LSM, a seccomp filter). Raises :class:`Gone` when
        either task has exited."""
        if not self.compares_descriptor_tables():
            return None
        kcmp = _kcmp()
        return None if kcmp is None else kcmp.same_files(pid, tid)

    # -- facts of the running machine, for a capture's manifest (procnet/_bundle.py writes it)
    @staticmethod
    def kernel_release() -> str:
        return os.uname().release

    @staticmethod
    def clock_ticks() -> int:
        return int(os.sysconf("SC_CLK_TCK"))

    @staticmethod
    def euid() -> int:
        return os.geteuid()


def cgroup2_mount(mountinfo: Optional[str]) -> Optional[str]:
    """The mount point of the first cgroup2 mount in a mountinfo text; None without one.

    >>> cgroup2_mount("30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\\n")
    '/sys/fs/cgroup'
    """
    if not mountinfo:
        return None
    from ._parse.mountinfo import parse_mountinfo

    for mount in parse_mountinfo(mountinfo):
        if mount.fstype == "cgroup2":
            return mount.mount_point
    return None


def cgroup2_ids(mount: str) -> Dict[int, str]:
    """inode number -> path below ``mount`` of every directory in it, not crossing into
    other mounts; the root is ``/``. Directories that vanish or cannot be read are left out."""
    found: Dict[int, str] = {}
    try:
        root_stat = os.stat(mount)
    except OSError:
        return found
    found[root_stat.st_ino] = "/"
    pending: List[str] = [mount]
    while pending:
        directory = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            try:
                if not entry.is_dir(follow_symlinks=False):
                    continue
                if os.path.ismount(entry.path):
                    continue  # FTW_MOUNT: another file system's tree
            except OSError:
                continue
            found.setdefault(entry.inode(), entry.path[len(mount):])
            pending.append(entry.path)
    return found
