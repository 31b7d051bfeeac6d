"""Parsers for the per-process files: fd link targets, fdinfo, comm, cmdline, status, stat, ns links.

fs/proc/fd.c, fs/proc/array.c and fs/proc/base.c are the specification. No I/O here.
"""

from __future__ import annotations

import os
import re
from typing import Dict, Iterable, List, Optional, Tuple

from .._errors import ParseError

# ASCII digits only, at most a u64's 20 (int() takes any script's digits, and refuses
# strings of more than 4300 on 3.11+).
_NS_LINK = re.compile(r"[a-z_]+:\[([0-9]{1,20})\]\Z")
_DECIMAL = re.compile(r"[0-9]{1,20}\Z")


def socket_inode(target: str) -> Optional[int]:
    """The socket inode of an fd link target ``socket:[N]``, or None for anything else:
    N is 1 to 20 ASCII digits (a u64), as fs/proc/fd.c prints it (sockfs_dname
    ``"socket:[%lu]"``).

    >>> socket_inode("socket:[1945302]"), socket_inode("pipe:[7]"), socket_inode("socket:[\\u00b2]")
    (1945302, None, None)
    """
    return socket_inodes((target,))[0]


def socket_inodes(targets: Iterable[str]) -> List[Optional[int]]:
    """:func:`socket_inode` of every target, in one pass: the owner scan's form (a call
    per descriptor costs as much as the parse at 100,000 descriptors).

    ``isascii()`` of a whole str is a flag CPython keeps, so it costs nothing per link
    (``int()`` takes any script's digits: ``"\\u00b2".isdigit()`` is True).
    """
    return [
        int(t[8:-1]) if t[:8] == "socket:[" and t[-1:] == "]" and t.isascii() and t[8:-1].isdigit() and len(t) <= 29
        else None
        for t in targets
    ]


def ns_inode(target: str) -> Optional[int]:
    """The namespace inode of a ``/proc/<pid>/ns/*`` link target such as ``net:[4026531840]``."""
    m = _NS_LINK.match(target)
    return int(m.group(1)) if m else None


def mode_from_flags(flags: int) -> str:
    """lsof's access letter from open flags: O_RDONLY ``r``, O_WRONLY ``w``, O_RDWR ``u``.

    Only O_ACCMODE (the low two bits) is portable across architectures.
    """
    acc = flags & 3
    return "r" if acc == 0 else "w" if acc == 1 else "u"


def mode_from_link_mode(st_mode: int) -> Optional[str]:
    """lsof's access letter from the lstat() mode of a live ``/proc/<pid>/fd/<n>`` link.

    fs/proc/fd.c tid_fd_update_inode gives the link S_IRUSR|S_IXUSR for FMODE_READ and
    S_IWUSR|S_IXUSR for FMODE_WRITE, nothing else; lsof reads the letter from these bits
    (dialects/linux). A link with any group or other bit is not such a link (a capture's
    ordinary symlink is 0777): None then, and the caller reads fdinfo instead.
    """
    if st_mode & 0o077:
        return None
    bits = st_mode & 0o600
    if bits == 0o400:
        return "r"
    if bits == 0o200:
        return "w"
    return "u"


def parse_fdinfo(data: bytes, *, path: str = "fdinfo") -> Dict[str, str]:
    """``key:\\tvalue`` lines of ``/proc/<pid>/fdinfo/<n>`` (fs/proc/fd.c seq_show).

    Unknown keys are kept; only the first occurrence of a key counts (epoll ``tfd:`` and
    lock lines repeat).
    """
    out: Dict[str, str] = {}
    for lineno, raw in enumerate(data.split(b"\n"), 1):
        if not raw:
            continue
        key, sep, value = raw.partition(b":")
        if not sep:
            # Per-type tails (inotify, fanotify, epoll) print "name wd:.." lines; keep going.
            continue
        k = key.decode("ascii", "replace").strip()
        if k not in out:
            out[k] = value.decode("utf-8", "surrogateescape").strip()
    if "flags" not in out:
        raise ParseError("no flags: line in fdinfo", path=path, lineno=1, line=data[:200])
    return out


def _line_of(data: bytes, key: bytes) -> Tuple[Optional[int], bytes]:
    """(1-based number, text) of the first line that starts with ``key``."""
    for lineno, line in enumerate(data.split(b"\n"), 1):
        if line.startswith(key):
            return lineno, line
    return None, data[:200]


_OCTAL = re.compile(r"[0-7]{1,30}\Z")


def fdinfo_flags(data: bytes, *, path: str = "fdinfo") -> int:
    """The ``flags:`` value of an fdinfo file (printed ``0%o``: octal)."""
    value = parse_fdinfo(data, path=path)["flags"]
    if not _OCTAL.match(value):
        lineno, line = _line_of(data, b"flags:")
        raise ParseError("flags: is not octal: %r" % value, path=path, lineno=lineno, line=line)
    return int(value, 8)


def parse_comm(data: bytes) -> str:
    """The task name of ``/proc/<pid>/comm``: exactly one trailing newline removed, nothing else."""
    if data.endswith(b"\n"):
        data = data[:-1]
    return os.fsdecode(data)


def parse_cmdline(data: bytes) -> Tuple[str, ...]:
    """argv from ``/proc/<pid>/cmdline``: NUL-terminated strings (empty for kernel threads).

    A process that rewrote its argv (setproctitle) may leave one string without a NUL.
    """
    if not data:
        return ()
    if data.endswith(b"\0"):
        data = data[:-1]
    return tuple(os.fsdecode(part) for part in data.split(b"\0"))


def parse_cgroup(data: bytes) -> Optional[str]:
    """The cgroup v2 path of ``/proc/<pid>/cgroup``: the ``0::/path`` line's path (cgroup
    v2 and hybrid machines); None without one (cgroup v1 only). Split on ``\\n`` only: a
    cgroup's name may hold any other byte.

    >>> parse_cgroup(b"4:memory:/x\\n0::/user.slice/session-2.scope\\n")
    '/user.slice/session-2.scope'
    """
    for line in data.split(b"\n"):
        if line.startswith(b"0::"):
            return os.fsdecode(line[3:])
    return None


def parse_status(data: bytes, *, path: str = "status") -> Dict[str, str]:
    """``Key:\\tvalue`` lines of ``/proc/<pid>/status`` (values unparsed)."""
    out: Dict[str, str] = {}
    for raw in data.split(b"\n"):
        key, sep, value = raw.partition(b":")
        if sep:
            out[key.decode("ascii", "replace")] = value.decode("utf-8", "surrogateescape").lstrip("\t ")
    return out


def status_uids(data: bytes, *, path: str = "status") -> Tuple[int, int, int, int]:
    """Real, effective, saved and file-system uid from the ``Uid:`` line of status."""
    fields = parse_status(data, path=path).get("Uid", "").split()
    if len(fields) != 4 or not all(_DECIMAL.match(f) for f in fields):
        lineno, line = _line_of(data, b"Uid:")
        raise ParseError("expected 4 decimal uids on the Uid: line", path=path, lineno=lineno, line=line)
    return (int(fields[0]), int(fields[1]), int(fields[2]), int(fields[3]))


#: PF_KTHREAD in include/linux/sched.h: the task is a kernel thread.
PF_KTHREAD = 0x00200000


def stat_flags(data: bytes, *, path: str = "stat") -> int:
    """The ``flags`` field (9th) of ``/proc/<pid>/stat``; the name may hold ``)``, so split at the last one."""
    end = data.rfind(b")")
    fields = data[end + 2 :].split() if end >= 0 else []
    if len(fields) < 7 or not fields[6].isdigit() or len(fields[6]) > 20:
        raise ParseError("cannot find the flags field", path=path, line=data[:300])
    return int(fields[6])


def status_nspids(data: bytes, *, path: str = "status") -> Optional[Tuple[int, ...]]:
    """The ids on the ``NSpid:`` line of ``/proc/<pid>/status``; None when there is none.

    fs/proc/array.c task_state prints the task's pid in every pid namespace from the one
    of the proc mount that serves the file down to the task's own, so one id means the
    mount's pid namespace is the task's. Kernels before 4.1, or built without
    CONFIG_PID_NS, print no such line.

    >>> status_nspids(b"Name:\\tsh\\nNSpid:\\t812\\t1\\n")
    (812, 1)
    """
    lineno, line = _line_of(data, b"NSpid:")
    if lineno is None:
        return None
    values = line[len(b"NSpid:") :].split()
    if not values or not all(_DECIMAL.match(v.decode("ascii", "replace")) for v in values):
        raise ParseError("expected decimal pids on the NSpid: line", path=path, lineno=lineno, line=line)
    return tuple(int(v) for v in values)
