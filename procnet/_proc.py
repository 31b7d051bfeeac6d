"""Proc access: the only code in procnet that touches the file system.

A :class:`ProcFS` is built from a root: ``/proc`` (the default), ``/host/proc`` in a
container watching its host, a capture written by ``procnet capture``, or a fixture
tree. Every read, readlink, lstat and listdir procnet does goes through it.

Rules kept here:

* A descriptor's target is never opened or stat()ed (a FIFO or a device can block or
  act; a dead network mount hangs a stat): links are read with readlink, their own mode
  with lstat, and ``fdinfo`` is read, nothing else.
* Files of a process are read relative to a descriptor of its ``<root>/<pid>``
  directory, so a pid reused during the scan cannot mix two processes.
* The last component of every path is opened with ``O_NOFOLLOW``: a capture or fixture
  cannot send procnet outside its root through a symlink.
* Races are normal: a process that exits, a descriptor that closes, a directory that
  may not be read are reported through :class:`Gone` and :class:`Denied`, which the
  owner scan turns into a report, never into an exception for the caller.
"""

from __future__ import annotations

import errno
import os
import sys
from typing import AbstractSet, Any, Dict, List, Optional, Tuple

from ._errors import AccessDenied, NoSuchProcess, ProcNetError, ProcRootError

_O_READ = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
_O_DIR = _O_READ | getattr(os, "O_DIRECTORY", 0)

_GONE = (errno.ENOENT, errno.ESRCH, errno.ENOTDIR)
# ELOOP: a link where procnet expects a file (O_NOFOLLOW refused it): not to be read.
_DENIED = (errno.EACCES, errno.EPERM, errno.ELOOP)

MANIFEST = "procnet-manifest.json"

#: The live machine's proc root: the only place procnet spells this path.
DEFAULT_ROOT = "/proc"


#: The names this module's code uses for the public exceptions (errno and filename set).
Gone = NoSuchProcess
Denied = AccessDenied


def _classify(exc: OSError, what: str) -> ProcNetError:
    if exc.errno in _DENIED:
        return AccessDenied(exc.errno, os.strerror(exc.errno or 0), what)
    if exc.errno in _GONE:
        return NoSuchProcess(exc.errno, os.strerror(exc.errno or 0), what)
    return ProcNetError("%s: %s" % (what, exc))


def _read_fd(fd: int) -> bytes:
    chunks: List[bytes] = []
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


#: Descriptor numbers by name, shared by every scan: processes reuse the same numbers,
#: and one int object per number (rather than one per owner) saves 28 bytes an owner.
_FD_NUMBERS: Dict[str, int] = {}
_FD_NUMBERS_MAX = 1 << 16


def _fd_number(name: str) -> int:
    """int(name), remembered (see _FD_NUMBERS)."""
    fd = int(name)
    if len(_FD_NUMBERS) < _FD_NUMBERS_MAX:
        _FD_NUMBERS[name] = fd
    return fd


class ProcessDir:
    """An open ``<root>/<pid>`` (or ``<root>/<pid>/task/<tid>``) directory.

    Use as a context manager; every method raises :class:`Gone` or :class:`Denied`.
    """

    __slots__ = ("pid", "_dirfd", "_fd_dirfd", "_path")

    def __init__(self, path: str, pid: int) -> None:
        self.pid = pid
        self._path = path
        self._fd_dirfd = -1
        try:
            self._dirfd = os.open(path, _O_DIR)
        except OSError as exc:
            raise _classify(exc, path) from None

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
        if self._dirfd >= 0:
            os.close(self._dirfd)
            self._dirfd = -1

    def read(self, name: str) -> bytes:
        """The whole content of a file of this process (``comm``, ``status``, ``fdinfo/3``)."""
        try:
            fd = os.open(name, _O_READ, dir_fd=self._dirfd)
        except OSError as exc:
            raise _classify(exc, "%s/%s" % (self._path, name)) from None
        try:
            return _read_fd(fd)
        except OSError as exc:
            raise _classify(exc, "%s/%s" % (self._path, name)) from None
        finally:
            os.close(fd)

    def readlink(self, name: str) -> str:
        """The target of a link of this process (``ns/net``, ``cwd``, ``exe``)."""
        try:
            return os.readlink(name, dir_fd=self._dirfd)
        except OSError as exc:
            raise _classify(exc, "%s/%s" % (self._path, name)) from None

    def listdir(self, name: str) -> List[str]:
        """Names in a directory of this process (``task``, ``fdinfo``)."""
        try:
            fd = os.open(name, _O_DIR, dir_fd=self._dirfd)
        except OSError as exc:
            raise _classify(exc, "%s/%s" % (self._path, name)) from None
        try:
            return os.listdir(fd)
        except OSError as exc:
            raise _classify(exc, "%s/%s" % (self._path, name)) from None
        finally:
            os.close(fd)

    def fds(self) -> List[str]:
        """The descriptor numbers (as names) in ``fd/``; keeps the directory open for :meth:`fd_target`."""
        if self._fd_dirfd < 0:
            try:
                self._fd_dirfd = os.open("fd", _O_DIR, dir_fd=self._dirfd)
            except OSError as exc:
                raise _classify(exc, "%s/fd" % self._path) from None
        try:
            return os.listdir(self._fd_dirfd)
        except OSError as exc:
            raise _classify(exc, "%s/fd" % self._path) from None

    def socket_fds(self, wanted: Optional[AbstractSet[int]] = None) -> Tuple[List[str], List[Tuple[int, int]]]:
        """The names in ``fd/`` and (fd, socket inode) of every ``socket:[N]`` link among them.

        The hot loop of the owner scan: one readlink per descriptor, nothing else (no
        stat, no open). ``wanted`` keeps only those inodes. A descriptor closed meanwhile
        is skipped.
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
                if exc.errno not in _GONE:
                    raise _classify(exc, "%s/fd/%s" % (self._path, name)) from None
                keep("")  # closed meanwhile
        # fs/proc/fd.c proc_fd_link -> d_path -> sockfs_dname: "socket:[%lu]"
        number = _FD_NUMBERS.get
        found = [
            (number(name) or _fd_number(name), int(target[8:-1]))
            for name, target in zip(names, targets)
            if target[:8] == "socket:[" and target[-1:] == "]" and target[8:-1].isdigit()
        ]
        if wanted is not None:
            found = [pair for pair in found if pair[1] in wanted]
        return names, found

    def fd_target(self, name: str) -> Optional[str]:
        """readlink of ``fd/<name>``; None when the descriptor was closed meanwhile."""
        try:
            return os.readlink(name, dir_fd=self._fd_dirfd)
        except OSError as exc:
            if exc.errno in _GONE:
                return None
            raise _classify(exc, "%s/fd/%s" % (self._path, name)) from None

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
        try:
            fd = os.open("task/%d" % tid, _O_DIR, dir_fd=self._dirfd)
        except OSError as exc:
            raise _classify(exc, "%s/task/%d" % (self._path, tid)) from None
        sub = ProcessDir.__new__(ProcessDir)
        sub.pid = self.pid
        sub._path = "%s/task/%d" % (self._path, tid)
        sub._dirfd = fd
        sub._fd_dirfd = -1
        return sub


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

    def __repr__(self) -> str:
        return "ProcFS(%r)" % self.root

    def path(self, *parts: object) -> str:
        """A path under the root (for messages and for the few reads by path)."""
        return os.path.join(self.root, *(str(p) for p in parts))

    # -- what a capture says about itself --------------------------------------------
    @property
    def manifest(self) -> Dict[str, Any]:
        """The capture manifest at the root (empty for a live proc tree)."""
        if self._manifest is None:
            try:
                fd = os.open(self.path(MANIFEST), _O_READ)
                try:
                    raw = _read_fd(fd)
                finally:
                    os.close(fd)
                import json  # only captures and fixtures have a manifest

                loaded = json.loads(raw.decode("utf-8"))
                self._manifest = loaded if isinstance(loaded, dict) else {}
            except FileNotFoundError:
                self._manifest = {}
            except (OSError, ValueError) as exc:
                raise ProcRootError("unreadable capture manifest %s: %s" % (self.path(MANIFEST), exc)) from None
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
        :class:`~procnet.ProcRootError`; a pid that went away is :class:`Gone`.
        """
        directory = self.net_dir(pid)
        name = os.path.join(directory, table)
        self._check_inside(directory)
        try:
            fd = os.open(name, _O_READ)
        except OSError as exc:
            if exc.errno in _GONE:
                if os.path.isdir(directory):
                    return None
                if pid is not None:
                    raise NoSuchProcess(errno.ESRCH, os.strerror(errno.ESRCH), directory) from None
                raise ProcRootError(
                    "%s is not a proc root: %s does not exist" % (self.root, directory)
                ) from None
            raise _classify(exc, name) from None
        try:
            return _read_fd(fd)
        finally:
            os.close(fd)

    def _check_inside(self, directory: str) -> None:
        """Refuse a ``net`` directory that is a link leading out of the root.

        On a live proc, ``<root>/net`` is a link to ``self/net``: inside. A capture or
        fixture whose ``net`` points elsewhere is not read through.
        """
        if not os.path.islink(directory):
            return
        real_root = os.path.realpath(self.root)
        real = os.path.realpath(directory)
        if real != real_root and not real.startswith(real_root.rstrip("/") + "/"):
            raise ProcRootError("%s is a link out of the proc root %s (to %s): not followed" % (directory, self.root, real))

    # -- processes ------------------------------------------------------------------
    def pids(self) -> List[int]:
        """The pids listed at the root, ascending."""
        try:
            names = os.listdir(self.root)
        except FileNotFoundError:
            raise ProcRootError("proc root %s does not exist" % self.root) from None
        except OSError as exc:
            raise ProcRootError("cannot list proc root %s: %s" % (self.root, exc)) from None
        return sorted(int(n) for n in names if n.isdigit())

    def process(self, pid: int) -> ProcessDir:
        """Open ``<root>/<pid>``; raises :class:`Gone` or :class:`Denied`."""
        return ProcessDir(self.path(pid), pid)

    def self_netns_link(self) -> Optional[str]:
        """The target of ``<root>/self/ns/net`` (the reader's namespace), or the capture's record."""
        recorded = self.manifest.get("netns")
        if isinstance(recorded, int):
            return "net:[%d]" % recorded
        try:
            return os.readlink(self.path("self", "ns", "net"))
        except OSError:
            return None

    def local_port_range(self) -> Tuple[int, int]:
        """``net.ipv4.ip_local_port_range`` under the root (or a capture's record); the
        kernel's default (32768, 60999) when it cannot be read."""
        recorded = self.manifest.get("ip_local_port_range")
        if isinstance(recorded, list) and len(recorded) == 2 and all(isinstance(v, int) for v in recorded):
            return (recorded[0], recorded[1])
        try:
            with open(self.path("sys", "net", "ipv4", "ip_local_port_range"), "rb") as f:
                low, high = f.read().split()
            return (int(low), int(high))
        except (OSError, ValueError):
            return (32768, 60999)

    def mount_options(self) -> Optional[List[str]]:
        """Options of the proc mount at the root, from the reader's mountinfo (None if unknown)."""
        if self.manifest:
            return None
        try:
            with open(self.path("self", "mountinfo"), "rb") as f:
                text = f.read().decode("utf-8", "surrogateescape")
        except OSError:
            return None
        real = os.path.realpath(self.root)
        for line in text.split("\n"):
            fields = line.split(" ")
            if len(fields) > 5 and fields[4] == real and " - proc " in line:
                return line.rsplit(" ", 1)[-1].split(",")
        return None

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

    # -- writing (capture only) -------------------------------------------------------
    @staticmethod
    def write_file(path: str, data: bytes) -> None:
        """Create a file of a capture (never overwrites a link: O_EXCL|O_NOFOLLOW)."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)

    @staticmethod
    def write_link(path: str, target: str) -> None:
        os.symlink(target, path)

    @staticmethod
    def make_dirs(path: str) -> None:
        os.makedirs(path, exist_ok=True)

    @staticmethod
    def is_empty_dir_or_missing(path: str) -> bool:
        try:
            return not os.listdir(path)
        except FileNotFoundError:
            return True

    @staticmethod
    def kernel_release() -> str:
        return os.uname().release

    @staticmethod
    def clock_ticks() -> int:
        return int(os.sysconf("SC_CLK_TCK"))

    @staticmethod
    def euid() -> int:
        return os.geteuid()
