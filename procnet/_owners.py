"""Owners: who holds each socket (pid, fd, mode, process), from descriptor links.

The scan lists ``<root>/<pid>/fd``, reads each link, and keeps the ``socket:[N]`` ones
whose inode the caller asked about: as an inode -> owners index (:func:`scan`), or stored
straight on a query's records (:func:`scan_into`). It never opens a descriptor's target. A process that
exits during the scan, a descriptor that closes, a directory it may not read are normal:
they end up in the :class:`ScanReport`, so that "nobody holds this socket" can be told
from "whoever holds it could not be seen".

What must stay true, pid by pid (:func:`_inspect`):

* The name is the program's that held the descriptors. The ``exe`` link is read before
  the fd listing and again after the name. fs/exec.c begin_new_exec switches to the new
  program's mm (and so its ``exe``) before it closes the close-on-exec descriptors and
  sets the new name, so a socket listed before an exec and a name read after it are
  told apart by the link: the pid is read again (at most ``_EXEC_RETRIES`` times; then
  its owners stand with the last name and the pid is reported ``changed``). An exec of
  the same file is not seen; the name is then the same. One readlink per process: a
  ``stat`` read costs ten times more on some machines (measured on a VM: 39 us against
  3.3 us).
* Threads cost one system call each. A thread has a descriptor table of its own only
  after clone() without CLONE_FILES or unshare(CLONE_FILES); kcmp(2) KCMP_FILES says
  whether it shares its process's (``ProcFS.same_descriptor_table``). Only a thread
  with a table of its own is read (whole, so the same descriptor numbers pointing
  elsewhere are seen), one thread per table, and only its owners carry a ``tid``.
  Where kcmp cannot answer (not the live proc of the reader's pid namespace, kcmp
  refused), a thread whose fd listing equals the leader's is taken to share it, and the
  pid is reported in ``unverified_threads``. A capture holds only threads with tables
  of their own, each read whole.
* ``complete`` is True only when every task that can hold a socket was inspected:
  nothing denied or hidden, the proc mount's pid namespace the initial one (else
  processes outside it may hold sockets), every thread checked, every name settled.
"""

from __future__ import annotations

import os
from bisect import bisect_left
from operator import attrgetter
from typing import AbstractSet, Callable, Dict, Iterable, List, Optional, Tuple

from ._errors import ParseError, ProcNetError
from ._parse.process import (
    PF_KTHREAD,
    fdinfo_flags,
    mode_from_flags,
    mode_from_link_mode,
    parse_cgroup,
    parse_cmdline,
    parse_comm,
    stat_flags,
    status_uids,
)
from ._proc import Denied, Gone, ProcessDir, ProcFS, is_decimal_name
from ._records import Owner, Process, Socket, _Record, attach, fast_constructor

new_owner = fast_constructor(Owner)


class ScanReport(_Record):
    """What the descriptor scan could and could not see.

    ``scanned``: processes whose descriptors were read. ``denied``: pids whose
    descriptors procnet may not read (another user's process, hidepid=1, a capture's
    record). ``vanished``: pids that exited during the scan (they hold nothing any more).
    ``hidden``: the proc mount hides other users' processes entirely (hidepid=2), so some
    processes were not even listed. ``missing``: pids asked for with ``pid=`` that did
    not exist when the scan began. ``initial_pid_namespace``: whether the proc mount's
    pid namespace is the initial one (True), another one (False: processes outside it,
    which may hold sockets, are not under the root), or unknown (None).
    ``unverified_threads``: pids with threads whose descriptor tables could not be
    checked (kcmp unavailable or refused: a thread with a table of its own and the same
    descriptor numbers as its process would not be seen). ``changed``: pids whose
    program changed (execve) every time their descriptors were read; their owners carry
    the last name read. ``malformed``: pids with entries in their descriptor directory
    that are not descriptors (a name that is no number, a plain file, a ``socket:[...]``
    link whose inode is no number: only a capture from elsewhere has them); they were
    skipped, and an owner could hide there.

    ``complete`` is True when every task that can hold a socket was inspected, so that a
    socket with no owner is held by nobody; ``reasons`` says in words why not.
    """

    scanned: int
    denied: Tuple[int, ...] = ()
    vanished: Tuple[int, ...] = ()
    hidden: bool = False
    missing: Tuple[int, ...] = ()
    initial_pid_namespace: Optional[bool] = True
    unverified_threads: Tuple[int, ...] = ()
    changed: Tuple[int, ...] = ()
    malformed: Tuple[int, ...] = ()

    @property
    def complete(self) -> bool:
        return (
            not self.denied
            and not self.hidden
            and self.initial_pid_namespace is True
            and not self.unverified_threads
            and not self.changed
            and not self.malformed
        )

    @property
    def reasons(self) -> Tuple[str, ...]:
        """Why owners may be missing, one short sentence each (empty when ``complete``).

        >>> ScanReport(3, denied=(1,), initial_pid_namespace=False).reasons[0]
        'the descriptors of pid 1 could not be read'
        """
        out = []
        if self.denied:
            out.append("the descriptors of pid %s could not be read" % _pids_text(self.denied))
        if self.hidden:
            out.append("the proc mount hides other users' processes (hidepid)")
        if self.initial_pid_namespace is False:
            out.append("the proc mount's pid namespace is not the initial one: processes outside it may hold sockets")
        elif self.initial_pid_namespace is None:
            out.append("whether the proc mount's pid namespace is the initial one is unknown: "
                       "processes outside it may hold sockets")
        if self.unverified_threads:
            out.append("threads of pid %s could not be checked for descriptor tables of their own"
                       % _pids_text(self.unverified_threads))
        if self.changed:
            out.append("pid %s changed program (execve) every time its descriptors were read"
                       % _pids_text(self.changed))
        if self.malformed:
            out.append("entries of the descriptor directory of pid %s are not descriptors and were skipped"
                       % _pids_text(self.malformed))
        return tuple(out)


def _pids_text(pids: Tuple[int, ...]) -> str:
    more = len(pids) - 5
    return ", ".join(str(p) for p in pids[:5]) + (" and %d more" % more if more > 0 else "")


class OwnerIndex:
    """inode -> owners, plus the report of the scan that built it."""

    __slots__ = ("owners", "report")

    def __init__(self, owners: Dict[int, Tuple[Owner, ...]], report: ScanReport) -> None:
        #: the tuples records carry, built once (most sockets have one owner)
        self.owners = owners
        self.report = report

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
    """What procnet reports about a process: ``comm`` always, cmdline, uid and cgroup when ``details``."""
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
    try:
        cgroup = parse_cgroup(proc.read("cgroup"))
    except (Gone, Denied):
        cgroup = None
    return Process(proc.pid, comm, cmdline, uid, _user_name(uid) if uid is not None else None, cgroup)


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


def _program(proc: ProcessDir) -> Optional[str]:
    """The target of the process's ``exe`` link (its program file), or None where there is
    none to read: a kernel thread, a process exiting (its fd listing then says so), a
    capture (which does not keep it)."""
    try:
        return proc.readlink("exe")
    except ProcNetError:
        return None


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
    ``pids`` limits the scan to those processes (the root is listed once: a pid not in
    it costs nothing and is reported ``missing``). ``threads`` also reads the descriptor
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
    missing: Tuple[int, ...] = ()
    if pids is None:
        order = fs.pids()
    else:
        # One listing of the root, not one open per pid asked for: a pid that does not
        # exist costs nothing and is told apart from one that exits during the scan.
        asked = set(pids)
        listed = fs.pids()
        order = sorted(asked.intersection(listed))
        missing = tuple(sorted(asked.difference(listed)))
    mode = _thread_mode(fs) if threads else None

    def inspect(pid: int) -> _Seen:
        return _inspect(fs, pid, inodes, mode, details)

    _scan_pids(inspect, order, part)
    denied = set(part.denied)
    denied.update(fs.recorded_denied())
    unverified = set(part.unverified)
    unverified.update(fs.recorded_pids("unverified_threads"))
    changed = set(part.changed)
    changed.update(fs.recorded_pids("changed"))
    return ScanReport(
        part.scanned,
        tuple(sorted(denied)),
        tuple(part.vanished),
        fs.hides_processes(),
        missing=missing,
        initial_pid_namespace=fs.initial_pid_namespace(),
        unverified_threads=tuple(sorted(unverified)),
        changed=tuple(sorted(changed)),
        malformed=tuple(sorted(set(part.malformed) | set(fs.recorded_pids("malformed")))),
    )


class _Part:
    """What the scan saw, pid after pid: owners (kept by a subclass) and what it could not see."""

    __slots__ = ("denied", "vanished", "scanned", "unverified", "changed", "malformed")

    def __init__(self) -> None:
        self.denied: List[int] = []
        self.vanished: List[int] = []
        self.unverified: List[int] = []
        self.malformed: List[int] = []
        self.changed: List[int] = []
        self.scanned = 0

    def add(self, pid: int, seen: _Seen) -> None:
        status, owned, extra, process, flags = seen
        if status is _VANISHED:
            self.vanished.append(pid)
            return
        if status is _DENIED:
            self.denied.append(pid)
            return
        if status is not _SKIPPED:
            self.scanned += 1
        if flags & _UNVERIFIED:
            self.unverified.append(pid)
        if flags & _MALFORMED:
            self.malformed.append(pid)
        if status is _NAMELESS:
            self.denied.append(pid)
        elif status is _CHANGED:
            self.changed.append(pid)
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
                attach(rec, "owners", rec.owners + (owner,))
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
        attach(rec, "owners", rec.owners + (owner,))
        i += 1


# What the scan learned about one pid: (status, (fd, inode) of its sockets, (fd, inode,
# tid) of those only its threads hold, process, whether some thread of it could not be
# checked for a descriptor table of its own).
_Seen = Tuple[str, List[Tuple[int, int]], List[Tuple[int, int, Optional[int]]], Optional[Process], int]
#: the last element of a _Seen: its process's threads could not all be checked; entries
#: of its fd directory were skipped (ProcessDir.skipped)
_UNVERIFIED = 1
_MALFORMED = 2
_OK = "ok"
_VANISHED = "vanished"
_DENIED = "denied"
#: a kernel thread whose fd directory may not be read: neither scanned nor denied
_SKIPPED = "skipped"
#: descriptors read, name not (a capture whose comm is a link, a hidepid race): the
#: owners stand, the pid is reported denied
_NAMELESS = "nameless"
#: the program changed (execve) on every read: the last owners stand with the last name,
#: the pid is reported changed
_CHANGED = "changed"
_NONE: List[Tuple[int, int]] = []
_NO_EXTRA: List[Tuple[int, int, Optional[int]]] = []

#: How many times a pid whose program changed during its reading is read again.
_EXEC_RETRIES = 2


def _inspect(
    fs: ProcFS, pid: int, inodes: Optional[AbstractSet[int]], mode: Optional[str], details: bool
) -> _Seen:
    """The sockets one process holds (and its name when it holds any).

    ``mode``: how threads are told apart (:func:`_thread_mode`), None for no threads.
    The ``exe`` link is read before the descriptors and after the name: when it differs
    the program changed meanwhile (execve), and the pid is read again.
    """
    try:
        proc = fs.process(pid)
    except Gone:
        return _VANISHED, _NONE, _NO_EXTRA, None, 0
    except Denied:
        return _DENIED, _NONE, _NO_EXTRA, None, 0
    with proc:
        before = _program(proc)
        for _ in range(1 + _EXEC_RETRIES):
            try:
                names, found = proc.socket_fds(inodes)
                if mode is None or not _may_have_threads(mode, proc, names):
                    extra, unverified = _NO_EXTRA, False
                else:
                    extra, unverified = _thread_pairs(fs, proc, mode, names, found, inodes)
            except Gone:
                return _VANISHED, _NONE, _NO_EXTRA, None, 0
            except Denied:
                return (_SKIPPED if _is_kernel_thread(proc) else _DENIED), _NONE, _NO_EXTRA, None, 0
            flags = (_UNVERIFIED if unverified else 0) | (_MALFORMED if proc.skipped else 0)
            if not found and not extra:
                return _OK, _NONE, _NO_EXTRA, None, flags
            try:
                process = read_process(proc, details=details)
            except Gone:
                return _VANISHED, _NONE, _NO_EXTRA, None, 0
            except Denied:
                return _NAMELESS, found, extra, Process(pid, "?"), flags
            after = _program(proc)
            if after == before:
                return _OK, found, extra, process, flags
            before = after
        return _CHANGED, found, extra, process, flags


#: Below this many processes the scan runs in the calling thread alone: starting and
#: joining the reader threads costs about 4 ms, more than they save on a machine of 71
#: processes (7.6 against 11.6 ms a query) or of 91 processes and 13,000 descriptors (no
#: gain); from about 140 processes and 160,000 descriptors they save a fifth.
_PARALLEL_MIN = 128
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


# How the threads of a process are told apart (decided once per scan, _thread_mode):
#: kcmp(2) on the live proc: one system call per thread
_KCMP = "kcmp"
#: a capture: it holds only threads with descriptor tables of their own, each read whole
_RECORDED = "recorded"
#: no kcmp: a thread whose fd listing equals the leader's is taken to share its table
_LISTING = "listing"


def _thread_mode(fs: ProcFS) -> str:
    if fs.compares_descriptor_tables():
        return _KCMP
    return _RECORDED if fs.manifest else _LISTING


def _may_have_threads(mode: str, proc: ProcessDir, names: List[str]) -> bool:
    """False when the process has one thread (one lstat(), no ``task/`` listing then).

    Not in a capture (it reads every thread directory it holds), and not when the fd
    listing was empty: a process whose leader exited while other threads live lists no
    descriptors under its pid, though its threads hold the table."""
    return mode is _RECORDED or not names or proc.threads() != 1


def _own_tables(
    fs: Optional[ProcFS], proc: ProcessDir, mode: str, leader_names: List[str],
    read: Callable[[ProcessDir, int], None],
) -> bool:
    """``read(task, tid)`` for one thread of each descriptor table of ``proc`` other than
    its leader's; True when some thread could not be checked (then it may hold a table
    of its own that was not read).

    With kcmp a thread costs that one call unless its table is its own; a thread whose
    table another one already read shares that one (kcmp against it) and is not read
    again. Without kcmp the thread's fd directory is listed and read only when the
    listing differs from the leader's.
    """
    try:
        tids = [int(t) for t in proc.listdir("task") if is_decimal_name(t)]
    except Gone:
        return False  # exited: the next read of the process says so
    except Denied:
        return True  # nothing known of its threads
    pid = proc.pid
    tables: List[int] = []  # a thread of each own table read (kcmp mode)
    leader_fds: Optional[AbstractSet[str]] = None
    unverified = False
    for tid in tids:
        if tid == pid:
            continue
        try:
            shares = _shares_table(fs, mode, pid, tid, tables)
            if shares:
                continue  # one system call (kcmp) for this thread, nothing else
            with proc.task(tid) as task:
                if shares is None:
                    if leader_fds is None:
                        leader_fds = set(leader_names)
                    if set(task.fds()) == leader_fds:
                        unverified = True  # the same numbers: taken to be the same table
                        continue
                else:
                    tables.append(tid)
                read(task, tid)
        except Gone:
            continue  # the thread exited
        except Denied:
            unverified = True
    return unverified


def _shares_table(fs: Optional[ProcFS], mode: str, pid: int, tid: int, tables: List[int]) -> Optional[bool]:
    """True: ``tid`` shares the leader's table or one already read; False: its own, to
    read; None: kcmp cannot tell (compare the listings). Raises Gone for an exited task."""
    if mode is _RECORDED:
        return False
    if mode is _LISTING or fs is None:
        return None
    same = fs.same_descriptor_table(pid, tid)
    if same is not False:
        return same
    for other in tables:
        if fs.same_descriptor_table(other, tid):
            return True
    return False


def _thread_pairs(
    fs: Optional[ProcFS],
    proc: ProcessDir,
    mode: str,
    leader_names: List[str],
    leader: List[Tuple[int, int]],
    wanted: Optional[AbstractSet[int]],
) -> Tuple[List[Tuple[int, int, Optional[int]]], bool]:
    """(fd, inode, tid) of the sockets in descriptor tables of threads that the leader's
    table does not hold at the same number (each pair once, with the first thread's tid),
    and whether some thread could not be checked (see :func:`_own_tables`)."""
    seen = set(leader)
    extra: List[Tuple[int, int, Optional[int]]] = []

    def read(task: ProcessDir, tid: int) -> None:
        for pair in task.socket_fds(wanted)[1]:
            if pair not in seen:
                seen.add(pair)
                extra.append((pair[0], pair[1], tid))

    unverified = _own_tables(fs, proc, mode, leader_names, read)
    return (extra if extra else _NO_EXTRA), unverified


def thread_tables(fs: ProcFS, proc: ProcessDir, leader_names: List[str]) -> Tuple[List[int], bool]:
    """For a capture writer: the tids of ``proc``'s threads that have descriptor tables
    of their own (one thread per table), and whether some thread could not be checked
    (kcmp unavailable or refused: record the pid under ``"unverified_threads"``).
    ``leader_names`` is the leader's fd listing. Raises nothing for a thread that exits."""
    tids: List[int] = []
    unverified = _own_tables(fs, proc, _thread_mode(fs), leader_names, lambda task, tid: tids.append(tid))
    return tids, unverified


__all__ = ["OwnerIndex", "SOCKET_MODE", "ScanReport", "fd_mode", "read_process", "scan", "scan_into", "thread_tables"]
