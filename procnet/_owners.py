"""Owners: who holds each socket (pid, fd, mode, process), from descriptor links.

The scan lists ``<root>/<pid>/fd``, reads each link, and keeps the ``socket:[N]`` ones
whose inode the caller asked about: as an inode -> owners index (:func:`scan`), or stored
straight on a query's records (:func:`scan_into`). It never opens a descriptor's target. A process that
exits during the scan, a descriptor that closes, a directory it may not read are normal:
they end up in the :class:`ScanReport`, so that "nobody holds this socket" can be told
from "whoever holds it could not be seen".
"""

from __future__ import annotations

import dataclasses
import os
from bisect import bisect_left
from operator import attrgetter
from typing import AbstractSet, Callable, Dict, Iterable, List, Optional, Tuple

from ._errors import ParseError
from ._parse.process import (
    PF_KTHREAD,
    fdinfo_flags,
    mode_from_flags,
    mode_from_link_mode,
    parse_cmdline,
    parse_comm,
    stat_flags,
    status_uids,
)
from ._proc import Denied, Gone, ProcessDir, ProcFS
from ._records import Owner, Process, Socket, fast_constructor

new_owner = fast_constructor(Owner)
_set = object.__setattr__


@dataclasses.dataclass(frozen=True)
class ScanReport:
    """What the descriptor scan could and could not see.

    ``denied``: pids whose descriptors procnet may not read (another user's process,
    hidepid=1, a capture's record). ``vanished``: pids that exited during the scan (they
    hold nothing any more). ``hidden``: the proc mount hides other users' processes
    entirely (hidepid=2), so some processes were not even listed. ``complete`` is True
    when every process that can hold a socket was inspected.
    """

    scanned: int
    denied: Tuple[int, ...] = ()
    vanished: Tuple[int, ...] = ()
    hidden: bool = False

    @property
    def complete(self) -> bool:
        return not self.denied and not self.hidden


@dataclasses.dataclass
class OwnerIndex:
    """inode -> owners, plus the report of the scan that built it."""

    #: the tuples records carry, built once (most sockets have one owner)
    owners: Dict[int, Tuple[Owner, ...]]
    report: ScanReport

    def get(self, inode: int) -> Tuple[Owner, ...]:
        return self.owners.get(inode, ())


def _user_name(uid: int) -> Optional[str]:
    try:
        import pwd
    except ImportError:  # pragma: no cover - not on Linux
        return None
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


def read_process(proc: ProcessDir, comm: Optional[str] = None, *, details: bool = False) -> Process:
    """What procnet reports about a process: ``comm`` always, cmdline and uid when ``details``."""
    if comm is None:
        comm = parse_comm(proc.read("comm"))
    if not details:
        return Process(proc.pid, comm)
    cmdline: Optional[Tuple[str, ...]]
    uid: Optional[int]
    try:
        cmdline = parse_cmdline(proc.read("cmdline"))
    except (Gone, Denied):
        cmdline = None
    try:
        uid = status_uids(proc.read("status"))[0]
    except (Gone, Denied, ParseError):
        uid = None
    return Process(proc.pid, comm, cmdline, uid, _user_name(uid) if uid is not None else None)


#: The mode of every socket descriptor. net/socket.c sock_alloc_file() creates every
#: socket's file (socket(), socketpair(), accept()) with O_RDWR, so FMODE_READ and
#: FMODE_WRITE are always set and lsof's letter is always "u"; a socket cannot be opened
#: any other way (open() of its /proc/<pid>/fd link fails with ENXIO, an O_PATH open
#: shows the path, not socket:[N]). tests/test_owners.py checks the fdinfo flags and the
#: link's mode bits of every socket descriptor on the live machine against it. Reading it
#: per descriptor would cost one more syscall per socket: a third of the scan.
SOCKET_MODE = "u"


def fd_mode(proc: ProcessDir, name: str) -> Optional[str]:
    """lsof's r/w/u for any descriptor: the live link's own mode bits, else fdinfo's flags.

    None when the descriptor closed meanwhile.
    """
    st_mode = proc.fd_link_mode(name)
    if st_mode is None:
        return None
    mode = mode_from_link_mode(st_mode)
    if mode is not None:
        return mode
    path = "%s/fdinfo/%s" % (proc.path, name)
    try:
        return mode_from_flags(fdinfo_flags(proc.read("fdinfo/" + name), path=path))
    except Gone:
        return None


def _is_kernel_thread(proc: ProcessDir) -> bool:
    try:
        return bool(stat_flags(proc.read("stat")) & PF_KTHREAD)
    except (Gone, Denied, ParseError):
        return False


def scan(
    fs: ProcFS,
    *,
    inodes: Optional[AbstractSet[int]] = None,
    pids: Optional[Iterable[int]] = None,
    threads: bool = True,
    details: bool = False,
) -> OwnerIndex:
    """Build the inode -> owners index.

    ``inodes`` limits the index to those sockets (others are skipped after readlink).
    ``pids`` limits the scan to those processes. ``threads`` also reads the descriptor
    tables of threads that do not share their process's (``task/<tid>/fd``).
    ``details`` reads each owning process's cmdline and uid too.
    """
    part = _Index()
    return OwnerIndex(part.index, _run(fs, part, inodes, pids, threads, details))


#: Up to this many records, :func:`scan_into`'s readers also skip the other sockets by a
#: set (so that a listening query reads the name of no process that holds none of them).
_FILTER_MAX = 4096


def scan_into(
    fs: ProcFS,
    records: Iterable[Socket],
    *,
    pids: Optional[Iterable[int]] = None,
    threads: bool = True,
    details: bool = False,
) -> ScanReport:
    """Find the owners of ``records`` and store them on the records themselves.

    For a query's own records, which no caller has seen yet (so their frozen ``owners``
    are still theirs to fill). The same scan as :func:`scan` without its index: at
    100,000 sockets the index, its keys and the set of wanted inodes were 12 MiB at the
    query's peak. Here the records are sorted by inode and each socket a process holds is
    found by bisection, in two lists that share the records' own ints (1.6 MiB). Records
    with the same inode all get its owners. A record's ``owners_complete`` is left to
    the caller, with the report.
    """
    part = _Attach(records)
    wanted = frozenset(part.keys) if len(part.keys) <= _FILTER_MAX else None
    return _run(fs, part, wanted, pids, threads, details)


def _run(
    fs: ProcFS,
    part: _Part,
    inodes: Optional[AbstractSet[int]],
    pids: Optional[Iterable[int]],
    threads: bool,
    details: bool,
) -> ScanReport:
    order = fs.pids() if pids is None else sorted(set(pids))

    def inspect(pid: int) -> _Seen:
        return _inspect(fs, pid, inodes, threads, details)

    _scan_pids(inspect, order, part)
    denied = set(part.denied)
    denied.update(fs.recorded_denied())
    return ScanReport(part.scanned, tuple(sorted(denied)), tuple(part.vanished), fs.hides_processes())


class _Part:
    """What the scan saw, pid after pid: owners (kept by a subclass) and what it could not see."""

    __slots__ = ("denied", "vanished", "scanned")

    def __init__(self) -> None:
        self.denied: List[int] = []
        self.vanished: List[int] = []
        self.scanned = 0

    def add(self, pid: int, seen: _Seen) -> None:
        status, owned, extra, process = seen
        if status is _VANISHED:
            self.vanished.append(pid)
            return
        if status is _DENIED:
            self.denied.append(pid)
            return
        if status is not _SKIPPED:
            self.scanned += 1
        if status is _NAMELESS:
            self.denied.append(pid)
        if process is not None:
            self.owners(pid, owned, extra, process)

    def owners(self, pid: int, owned: List[Tuple[int, int]], extra: List[Tuple[int, int, Optional[int]]],
               process: Process) -> None:
        raise NotImplementedError


class _Index(_Part):
    """Owners kept in an inode -> owners dict."""

    __slots__ = ("index",)

    def __init__(self) -> None:
        super().__init__()
        self.index: Dict[int, Tuple[Owner, ...]] = {}

    def owners(self, pid: int, owned: List[Tuple[int, int]], extra: List[Tuple[int, int, Optional[int]]],
               process: Process) -> None:
        comm = process.comm
        index = self.index
        get = index.get
        for fd, inode in owned:
            entry = get(inode)
            owner = new_owner(pid, fd, SOCKET_MODE, comm, None, process)
            index[inode] = (owner,) if entry is None else entry + (owner,)
        for fd, inode, tid in extra:
            owner = new_owner(pid, fd, SOCKET_MODE, comm, tid, process)
            entry = get(inode)
            index[inode] = (owner,) if entry is None else entry + (owner,)


class _Attach(_Part):
    """Owners stored on the records, found by bisection in the records sorted by inode."""

    __slots__ = ("keys", "records")

    def __init__(self, records: Iterable[Socket]) -> None:
        super().__init__()
        self.records = sorted(records, key=attrgetter("inode"))
        self.keys = [rec.inode for rec in self.records]

    def owners(self, pid: int, owned: List[Tuple[int, int]], extra: List[Tuple[int, int, Optional[int]]],
               process: Process) -> None:
        comm = process.comm
        keys = self.keys
        records = self.records
        end = len(keys)
        where = bisect_left
        last = end - 1
        for fd, inode in owned:
            i = where(keys, inode)
            if i != end and keys[i] == inode:
                owner = new_owner(pid, fd, SOCKET_MODE, comm, None, process)
                rec = records[i]
                _set(rec, "owners", rec.owners + (owner,))
                if i != last and keys[i + 1] == inode:
                    _attach_more(records, keys, i + 1, owner)
        for fd, inode, tid in extra:
            i = where(keys, inode)
            if i != end and keys[i] == inode:
                _attach_more(records, keys, i, new_owner(pid, fd, SOCKET_MODE, comm, tid, process))


def _attach_more(records: List[Socket], keys: List[int], i: int, owner: Owner) -> None:
    """``owner`` to records[i] and every next record of the same inode."""
    inode = keys[i]
    end = len(keys)
    while i != end and keys[i] == inode:
        rec = records[i]
        _set(rec, "owners", rec.owners + (owner,))
        i += 1


# What the scan learned about one pid: (status, (fd, inode) of its sockets, (fd, inode,
# tid) of those only its threads hold, process).
_Seen = Tuple[str, List[Tuple[int, int]], List[Tuple[int, int, Optional[int]]], Optional[Process]]
_OK = "ok"
_VANISHED = "vanished"
_DENIED = "denied"
#: a kernel thread whose fd directory may not be read: neither scanned nor denied
_SKIPPED = "skipped"
#: descriptors read, name not (a capture whose comm is a link, a hidepid race): the
#: owners stand, the pid is reported denied
_NAMELESS = "nameless"
_NONE: List[Tuple[int, int]] = []
_NO_EXTRA: List[Tuple[int, int, Optional[int]]] = []


def _inspect(
    fs: ProcFS, pid: int, inodes: Optional[AbstractSet[int]], threads: bool, details: bool
) -> _Seen:
    """The sockets one process holds (and its name when it holds any)."""
    try:
        proc = fs.process(pid)
    except Gone:
        return _VANISHED, _NONE, _NO_EXTRA, None
    except Denied:
        return _DENIED, _NONE, _NO_EXTRA, None
    with proc:
        try:
            names, found = proc.socket_fds(inodes)
            extra = _thread_sockets(proc, names, found, inodes) if threads else _NO_EXTRA
        except Gone:
            return _VANISHED, _NONE, _NO_EXTRA, None
        except Denied:
            return (_SKIPPED if _is_kernel_thread(proc) else _DENIED), _NONE, _NO_EXTRA, None
        if not found and not extra:
            return _OK, _NONE, _NO_EXTRA, None
        try:
            return _OK, found, extra, read_process(proc, details=details)
        except Gone:
            return _VANISHED, _NONE, _NO_EXTRA, None
        except Denied:
            return _NAMELESS, found, extra, Process(pid, "?")


#: Below this many processes the scan runs in the calling thread alone.
_PARALLEL_MIN = 24
#: Most threads a scan uses (the calling one included).
_MAX_WORKERS = 2


def _workers() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return 1 if cpus < 2 else min(_MAX_WORKERS, cpus + 1)


def _scan_pids(work: Callable[[int], _Seen], pids: List[int], part: _Part) -> None:
    """``work(pid)`` for every pid, indexed in pid order; the reading spread over a few
    threads on a multi-core machine.

    The scan is four fifths system time (readlink of /proc/<pid>/fd/N builds the link's
    text in the kernel), and os.readlink releases the GIL: a bare readlink loop over
    205,000 descriptors takes about 0.45 s in two threads where one takes 0.8 s; this scan,
    which also picks out the sockets and builds the index, about 0.8 s where one thread
    takes 1.0 s (benchmarks/README.md). Reader
    threads take the next pid from a shared queue (process sizes differ by thousands of
    descriptors); the calling thread indexes each pid's result as soon as it and those
    before it are in, so the index is built in pid order, by one thread, while the others
    read, and a result is dropped once indexed. The first exception raised in any thread
    is raised here.
    """
    workers = _workers() if len(pids) >= _PARALLEL_MIN else 1
    if workers == 1:
        for pid in pids:
            part.add(pid, work(pid))
        return
    import threading

    results: List[Optional[_Seen]] = [None] * len(pids)
    errors: List[BaseException] = []
    stop: List[bool] = []  # set when the calling thread gives up (an interrupt)
    take = iter(range(len(pids))).__next__
    lock = threading.Lock()
    ready = threading.Condition()

    def read() -> None:
        try:
            while not errors and not stop:
                with lock:
                    i = take()
                seen = work(pids[i])
                with ready:
                    results[i] = seen
                    ready.notify()
        except StopIteration:
            pass
        except BaseException as exc:  # re-raised in the calling thread
            with ready:
                errors.append(exc)
                ready.notify()

    readers = [threading.Thread(target=read, name="procnet-scan", daemon=True) for _ in range(workers)]
    for t in readers:
        t.start()
    try:
        for i, pid in enumerate(pids):
            with ready:
                while results[i] is None and not errors:
                    ready.wait()
                if errors:
                    break
                seen = results[i]
                results[i] = None
            part.add(pid, seen)  # type: ignore[arg-type]
    except BaseException:  # KeyboardInterrupt, or an error while indexing: stop the readers
        stop.append(True)
        raise
    finally:
        for t in readers:
            t.join()
    if errors:
        raise errors[0]


def _thread_sockets(
    proc: ProcessDir,
    leader_names: List[str],
    leader: List[Tuple[int, int]],
    wanted: Optional[AbstractSet[int]],
) -> List[Tuple[int, int, Optional[int]]]:
    """(fd, inode, tid) of sockets of threads whose descriptor table is not their process's.

    A thread made with clone() without CLONE_FILES, or that called unshare(CLONE_FILES),
    has a table of its own. Threads that share the table list the same descriptor
    numbers, so only a thread whose fd listing differs from the leader's is read. (A
    thread whose own table holds exactly the same numbers, pointing elsewhere, is not
    seen: the listing is all that tells them apart without reading every link.)
    """
    try:
        tids = [int(t) for t in proc.listdir("task") if t.isdigit()]
    except (Gone, Denied):
        return []
    if len(tids) <= 1:
        return []
    leader_fds = set(leader_names)
    leader_pairs = set(leader)
    extra: List[Tuple[int, int, Optional[int]]] = []
    for tid in tids:
        if tid == proc.pid:
            continue
        try:
            with proc.task(tid) as task:
                if set(task.fds()) == leader_fds:
                    continue
                for fd, inode in task.socket_fds(wanted)[1]:
                    if (fd, inode) not in leader_pairs:
                        extra.append((fd, inode, tid))
        except (Gone, Denied):
            continue
    return extra


__all__ = ["OwnerIndex", "SOCKET_MODE", "ScanReport", "fd_mode", "read_process", "scan", "scan_into"]
