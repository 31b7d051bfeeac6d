"""Bundle writing: the only code in procnet that writes to the file system.

``procnet capture`` runs as root to see every process, and writes what it read into a
directory a user named. A :class:`BundleWriter` makes sure that it writes there and
nowhere else, and that what it writes is no more readable than where it came from.

How it works, and what must stay true:

* The top directory is either made here (``mkdir`` 0700 in the parent the caller named:
  the path up to that parent is the caller's to choose, and is resolved as given), or an
  existing one the caller prepared, accepted only if it is a real directory (opened with
  ``O_DIRECTORY|O_NOFOLLOW``, so a symlink is refused), owned by the effective uid, not
  writable by group or others (``mode & 0o022 == 0``; an ACL that grants write to anyone
  else shows as the group write bit), and empty. Nobody but the caller's uid (and root) can
  then add an entry anywhere in the bundle while it is written.
* Everything below is made relative to directory descriptors, one component at a time:
  ``mkdir(name, dir_fd=parent)`` then ``open(name, O_DIRECTORY|O_NOFOLLOW, dir_fd=parent)``;
  files with ``O_CREAT|O_EXCL|O_NOFOLLOW`` (the kernel refuses an existing name, a
  symlink included, without following it); links with ``symlink(target, name,
  dir_fd=parent)``. No path with a ``/`` is ever handed to the kernel below the top, so no
  link anywhere in the bundle is followed.
* An existing entry is never reused or overwritten: ``EEXIST`` is a :class:`CaptureError`
  naming the path. The one exception is a directory this writer made itself earlier
  (recorded by device and inode, checked again when it is reopened).
* Modes are set, not left to the umask: directories 0700 and files 0600 (``fchmod`` after
  creation; the umask can only remove bits, this puts the owner's back). ``/proc/<pid>/fd``
  and ``fdinfo`` are readable only by the process's owner; the bundle holds every process's.
* Any failure is a :class:`CaptureError` naming the path (control characters escaped).
  A bundle left half-written is not removed: something in it may not be procnet's.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import Dict, Optional, Tuple

from ._errors import ProcNetError
from ._escape import escape_text

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_DIR = os.O_RDONLY | _CLOEXEC | _NOFOLLOW | getattr(os, "O_DIRECTORY", 0)
_O_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
# The caller's parent directory: as given (links followed), searched, never read.
_O_PARENT = getattr(os, "O_PATH", os.O_RDONLY) | _CLOEXEC | getattr(os, "O_DIRECTORY", 0)

DIR_MODE = 0o700
FILE_MODE = 0o600


class CaptureError(ProcNetError):
    """The capture directory cannot be used or written.

    ``path`` is the entry concerned (as given, unescaped), ``reason`` what is wrong and
    what to do; ``str()`` shows the path with control characters escaped.
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(path, reason)

    def __str__(self) -> str:
        return "%s: %s" % (escape_text(self.path), self.reason)


def _check_name(parent: str, name: str) -> None:
    if not name or "/" in name or "\0" in name or name in (".", ".."):
        raise CaptureError("%s/%s" % (parent, name), "not a single file name")


class BundleDir:
    """An open directory of the bundle: entries are made in it by name, relative to its
    descriptor. Close it (or use ``with``) when done; :class:`BundleWriter` is the top."""

    def __init__(self, writer: BundleWriter, fd: int, path: str, rel: str) -> None:
        self._writer = writer
        self._fd = fd
        self.path = path
        self._rel = rel

    def __enter__(self) -> BundleDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)

    def _where(self, name: str) -> str:
        return "%s/%s" % (self.path, name)

    def directory(self, name: str) -> BundleDir:
        """The subdirectory ``name``: made (0700) if this writer has not made it yet,
        else reopened, and only if it is still the one it made."""
        _check_name(self.path, name)
        where = self._where(name)
        rel = "%s/%s" % (self._rel, name) if self._rel else name
        made = self._writer._made.get(rel)
        if made is None:
            try:
                os.mkdir(name, DIR_MODE, dir_fd=self._fd)
            except OSError as exc:
                raise self._writer._error(where, exc) from None
        fd = self._writer._open_dir(name, self._fd, where)
        try:
            st = os.fstat(fd)
            if made is None:
                os.fchmod(fd, DIR_MODE)
                self._writer._made[rel] = (st.st_dev, st.st_ino)
            elif (st.st_dev, st.st_ino) != made:
                raise CaptureError(where, "was replaced while the capture ran; remove the bundle and capture again")
        except BaseException:
            os.close(fd)
            raise
        return BundleDir(self._writer, fd, where, rel)

    def write_file(self, name: str, data: bytes) -> None:
        """Create the file ``name`` (0600) holding ``data``; an existing entry is an error."""
        _check_name(self.path, name)
        where = self._where(name)
        try:
            fd = os.open(name, _O_NEW_FILE, FILE_MODE, dir_fd=self._fd)
        except OSError as exc:
            raise self._writer._error(where, exc) from None
        try:
            os.fchmod(fd, FILE_MODE)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        except OSError as exc:
            raise self._writer._error(where, exc) from None
        finally:
            os.close(fd)

    def write_link(self, name: str, target: str) -> None:
        """Create the symlink ``name`` whose text is ``target`` (never resolved)."""
        _check_name(self.path, name)
        where = self._where(name)
        if "\0" in target:
            raise CaptureError(where, "link target holds a NUL byte")
        try:
            os.symlink(target, name, dir_fd=self._fd)
        except OSError as exc:
            raise self._writer._error(where, exc) from None


class BundleWriter(BundleDir):
    """The top directory of a bundle, made or accepted as the module docstring says.

    >>> with BundleWriter("/tmp/bundle") as top:  # doctest: +SKIP
    ...     with top.directory("net") as net:
    ...         net.write_file("tcp", b"...")
    """

    def __init__(self, path: str) -> None:
        self._made: Dict[str, Tuple[int, int]] = {}
        fd = self._open_top(path)
        super().__init__(self, fd, path.rstrip("/") or "/", "")

    # -- the top directory ---------------------------------------------------------------
    def _open_top(self, path: str) -> int:
        if not path:
            raise CaptureError(path, "no capture directory given")
        # A trailing slash would make the kernel follow a link at the last component.
        parent, name = os.path.split(path.rstrip("/") or "/")
        if name in ("", ".", ".."):
            return self._accept(self._open_dir(path, None, path), path)
        parent = parent or "."
        try:
            parent_fd = os.open(parent, _O_PARENT)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                raise CaptureError(path, "its parent directory %s does not exist: create it first" % escape_text(parent)) from None
            raise self._error(parent, exc) from None
        try:
            try:
                os.mkdir(name, DIR_MODE, dir_fd=parent_fd)
            except FileExistsError:
                return self._accept(self._open_dir(name, parent_fd, path), path)
            except OSError as exc:
                raise self._error(path, exc) from None
            fd = self._open_dir(name, parent_fd, path)
            try:
                self._check_top(fd, path)
                os.fchmod(fd, DIR_MODE)
            except BaseException:
                os.close(fd)
                raise
            return fd
        finally:
            os.close(parent_fd)

    def _accept(self, fd: int, path: str) -> int:
        """An existing directory the caller prepared: checked, left with its own mode."""
        try:
            mode = self._check_top(fd, path)
            if mode & 0o022:
                raise CaptureError(
                    path,
                    "is writable by group or others (mode %04o): another user could plant links in the "
                    "bundle; use a new directory, or chmod go-w it" % stat.S_IMODE(mode),
                )
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _check_top(self, fd: int, path: str) -> int:
        st = os.fstat(fd)
        if not stat.S_ISDIR(st.st_mode):  # pragma: no cover - O_DIRECTORY already refused it
            raise CaptureError(path, "is not a directory")
        euid = os.geteuid()
        if st.st_uid != euid:
            raise CaptureError(
                path,
                "is owned by uid %d, not by uid %d who writes the capture: use a new directory" % (st.st_uid, euid),
            )
        if os.listdir(fd):
            raise CaptureError(path, "exists and is not empty: use a new or empty directory")
        return st.st_mode

    # -- shared helpers ----------------------------------------------------------------
    def _open_dir(self, name: str, parent_fd: Optional[int], where: str) -> int:
        try:
            return os.open(name, _O_DIR, dir_fd=parent_fd)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise CaptureError(where, "is a symlink or not a directory: use a real, new or empty directory") from None
            raise self._error(where, exc) from None

    def _error(self, where: str, exc: OSError) -> CaptureError:
        if exc.errno == errno.EEXIST:
            return CaptureError(
                where,
                "already exists, and procnet did not make it: something else writes into the bundle; "
                "the capture stopped (remove the bundle and capture again)",
            )
        return CaptureError(where, os.strerror(exc.errno) if exc.errno else str(exc))


def replace_file(path: str, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the whole new one
    (``procnet exporter --textfile``): ``PATH.<pid>`` in PATH's own directory, created
    anew (never through a planted link), written, fsynced, given ``mode`` explicitly (not
    from the umask), renamed onto PATH, and the directory fsynced. On any failure the
    temporary file is removed, PATH is left as it was, and the OSError raised."""
    directory = os.path.dirname(os.path.abspath(path))
    tmp = "%s.%d" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


__all__ = ["BundleDir", "BundleWriter", "CaptureError", "DIR_MODE", "FILE_MODE", "replace_file"]
