"""Owners: fixture trees for every case a real /proc can show, and live loopback tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from typing import Callable, Dict, List, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import procnet
from procnet import _proc
from procnet._owners import scan
from procnet._proc import Gone, ProcFS

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures")


def fixture(name: str) -> str:
    return os.path.join(FIXTURES, name)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], str]:
    """A fixture tree whose manifest records that its pid namespace is the initial one.

    A capture without ``initial_pid_namespace`` does not say whether processes outside
    its pid namespace could hold sockets, so its owners are not known to be complete;
    the copy adds the key where the committed manifest lacks it."""
    made: Dict[str, str] = {}

    def copy(name: str) -> str:
        if name not in made:
            import json
            import shutil

            dest = str(tmp_path_factory.mktemp("recorded") / name)
            shutil.copytree(fixture(name), dest, symlinks=True)
            path = os.path.join(dest, "procnet-manifest.json")
            with open(path) as f:
                manifest = json.load(f)
            manifest.setdefault("initial_pid_namespace", True)
            with open(path, "w") as f:
                json.dump(manifest, f)
            made[name] = dest
        return made[name]

    return copy


def owners_of(sock: procnet.Socket) -> List[Tuple[int, int, str, str]]:
    return sorted((o.pid, o.fd, o.mode, o.comm) for o in sock.owners)


def by_inode(result: List[procnet.Socket]) -> Dict[int, procnet.Socket]:
    return {s.inode: s for s in result if s.inode}


# -- fixture trees ---------------------------------------------------------------------


def test_forked_listener_lists_every_owner_with_its_own_fd(recorded: Callable[[str], str]) -> None:
    result = procnet.sockets("tcp", root=recorded("owners-forked-listener"))
    listener = by_inode(result)[5001]
    assert owners_of(listener) == [(100, 3, "u", "nginx"), (101, 3, "u", "nginx"), (102, 3, "u", "nginx")]
    assert listener.owners_complete is True


def test_passed_unix_descriptor_has_both_holders() -> None:
    result = procnet.sockets("unix", root=fixture("owners-forked-listener"))
    assert owners_of(by_inode(result)[6001]) == [(100, 4, "u", "nginx"), (102, 9, "u", "nginx")]
    assert owners_of(by_inode(result)[6002]) == [(102, 10, "u", "nginx")]


def test_time_wait_row_has_no_owner_and_that_is_complete() -> None:
    result = procnet.sockets("tcp", root=fixture("owners-forked-listener"))
    tw = [s for s in result if s.state == procnet.TcpState.TIME_WAIT]
    assert len(tw) == 1 and tw[0].inode == 0
    assert tw[0].owners == () and tw[0].owners_complete is True


def test_socket_nobody_holds_is_known_to_have_no_owner(recorded: Callable[[str], str]) -> None:
    result = procnet.sockets("tcp", root=recorded("owners-forked-listener"))
    orphan = by_inode(result)[5003]
    assert orphan.owners == () and orphan.owners_complete is True


def test_vanished_pid_is_reported_not_raised(recorded: Callable[[str], str]) -> None:
    result = procnet.sockets("all", root=recorded("owners-forked-listener"))
    assert result.report is not None
    assert result.report.vanished == (103,)
    assert result.report.denied == ()
    assert result.report.complete


def test_denied_and_hidepid_make_owners_unknown_not_absent() -> None:
    result = procnet.sockets("tcp", root=fixture("owners-denied-and-hidepid"))
    assert result.report is not None
    assert result.report.denied == (200,) and result.report.hidden
    assert not result.report.complete
    socks = by_inode(result)
    assert socks[7001].owners == () and socks[7001].owners_complete is False
    assert owners_of(socks[7002]) == [(201, 5, "u", "myserver")]
    assert socks[7002].owners_complete is False


def test_netns_all_reads_each_namespace_once_and_tags_records() -> None:
    root = fixture("owners-two-namespaces")
    default = procnet.sockets("tcp", root=root)
    assert [(s.inode, s.netns) for s in default] == [(8001, 4026531840)]
    everything = procnet.sockets("tcp", root=root, netns="all")
    assert sorted((s.inode, s.netns) for s in everything) == [(8001, 4026531840), (8002, 4026532999)]
    container = by_inode(everything)[8002]
    assert owners_of(container) == [(400, 4, "u", "httpd"), (401, 4, "u", "httpd")]


def test_netns_of_a_pid_reads_through_that_pid() -> None:
    result = procnet.sockets("tcp", root=fixture("owners-two-namespaces"), netns=400)
    assert [(s.inode, s.netns) for s in result] == [(8002, 4026532999)]


def test_thread_with_own_fd_table_is_an_owner_with_its_tid() -> None:
    result = procnet.sockets("tcp", root=fixture("owners-thread-own-fd-table"))
    socks = by_inode(result)
    assert [(o.pid, o.fd, o.tid) for o in socks[9001].owners] == [(500, 3, None)]
    assert [(o.pid, o.fd, o.tid) for o in socks[9002].owners] == [(500, 4, 501)]


def test_threads_false_skips_thread_tables() -> None:
    result = procnet.sockets("tcp", root=fixture("owners-thread-own-fd-table"), threads=False)
    assert by_inode(result)[9002].owners == ()


def test_details_reads_cmdline_and_uid_only_when_asked() -> None:
    root = fixture("owners-forked-listener")
    plain = by_inode(procnet.sockets("tcp", root=root))[5002].owners[0]
    assert plain.cmdline is None and plain.uid is None
    detailed = by_inode(procnet.sockets("tcp", root=root, details=True))[5002].owners[0]
    assert detailed.cmdline == ("nginx: worker process",)
    assert detailed.uid == 33


def test_pid_filter_scans_only_that_pid() -> None:
    result = procnet.sockets("all", root=fixture("owners-forked-listener"), pid=101)
    assert sorted(s.inode for s in result) == [5001, 5002]
    assert result.report is not None and result.report.scanned == 1
    for s in result:
        assert {o.pid for o in s.owners} == {101}
        # Other processes were not looked at: the list is not the whole story.
        assert s.owners_complete is False


def test_owners_false_scans_nothing() -> None:
    result = procnet.sockets("all", root=fixture("owners-forked-listener"), owners=False)
    assert result.report is None
    assert all(s.owners == () and s.owners_complete is None for s in result)


def test_query_with_empty_answer_skips_the_scan() -> None:
    result = procnet.sockets("tcp", root=fixture("owners-forked-listener"), port=1)
    assert list(result) == []
    assert result.report is not None and result.report.scanned == 0


def test_scan_limited_to_inodes_ignores_other_sockets() -> None:
    index = scan(ProcFS(fixture("owners-forked-listener")), inodes={5002})
    assert set(index.owners) == {5002}


def test_iterator_form_gives_the_same_owners_as_the_list() -> None:
    root = fixture("owners-forked-listener")
    it = procnet.iter_sockets("all", root=root)
    from_iter = [procnet.to_jsonable(s) for s in it]
    assert it.report is not None and it.report.vanished == (103,)
    assert from_iter == [procnet.to_jsonable(s) for s in procnet.sockets("all", root=root)]


OWNER_FIXTURES = ["owners-forked-listener", "owners-denied-and-hidepid", "owners-thread-own-fd-table",
                  "owners-two-namespaces"]


@pytest.mark.parametrize("name", OWNER_FIXTURES)
def test_list_and_iterator_and_both_reader_filters_agree(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """A list query stores owners on its records (scan_into, by bisection), the iterator
    joins them from an index (scan): same owners, same order, same report, with and
    without the readers' own set filter (used up to _FILTER_MAX records)."""
    from procnet import _owners

    root = fixture(name)
    netns = "all" if name == "owners-two-namespaces" else None

    def answer() -> object:
        result = procnet.sockets("all", root=root, netns=netns)
        return [procnet.to_jsonable(s) for s in result], result.report

    filtered = answer()
    it = procnet.iter_sockets("all", root=root, netns=netns)
    assert ([procnet.to_jsonable(s) for s in it], it.report) == filtered
    monkeypatch.setattr(_owners, "_FILTER_MAX", 0)
    assert answer() == filtered
    assert any(rec["owners"] for rec in filtered[0])  # type: ignore[index]


class _Rec:
    """Just what scan_into touches on a record."""

    __slots__ = ("inode", "owners")

    def __init__(self, inode: int) -> None:
        self.inode = inode
        self.owners: Tuple[object, ...] = ()


@settings(max_examples=200, deadline=None)
@given(
    inodes=st.lists(st.integers(1, 40), max_size=30),
    pids=st.lists(
        st.tuples(
            st.lists(st.tuples(st.integers(0, 9), st.integers(1, 50)), max_size=8),
            st.lists(st.tuples(st.integers(0, 9), st.integers(1, 50), st.integers(1000, 1003)), max_size=3),
        ),
        max_size=6,
    ),
)
def test_owners_stored_on_records_equal_the_index(inodes: List[int], pids: List[Tuple[list, list]]) -> None:
    """Property: whatever the records (inodes repeated, absent) and whatever each process
    holds (sockets of no record, several fds on one socket, thread-only sockets), every
    record gets exactly the owners the index has for its inode, in the same order."""
    from procnet import _owners

    records = [_Rec(i) for i in inodes]
    attach = _owners._Attach(records)  # type: ignore[arg-type]
    index = _owners._Index()
    for n, (owned, extra) in enumerate(pids):
        pid = 100 + n
        seen = (_owners._OK, owned, extra, procnet.Process(pid, "p%d" % pid), False)
        attach.add(pid, seen)  # type: ignore[arg-type]
        index.add(pid, seen)  # type: ignore[arg-type]
    for rec in records:
        assert rec.owners == index.index.get(rec.inode, ())
    assert attach.scanned == index.scanned == len(pids)


# -- live, on loopback -------------------------------------------------------------------

HOLDER = textwrap.dedent(
    """
    import sys, time
    sys.stdout.write("ready\\n"); sys.stdout.flush()
    sys.stdin.readline()
    """
)


def hold(fds: Tuple[int, ...]) -> "subprocess.Popen[str]":
    """A child that keeps the given descriptors (same numbers) until its stdin closes."""
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER], pass_fds=fds, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stdout.readline() == "ready\n"
    return child


def release(children: List["subprocess.Popen[str]"]) -> None:
    for child in children:
        if child.stdin:
            child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()


def inode_of(s: socket.socket) -> int:
    return os.fstat(s.fileno()).st_ino


@pytest.mark.live
def test_live_listener_shared_by_children() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    children = [hold((listener.fileno(),)) for _ in range(3)]
    try:
        result = procnet.sockets("tcp", inode=inode_of(listener))
        assert len(result) == 1
        got = sorted((o.pid, o.fd) for o in result[0].owners)
        expected = sorted([(os.getpid(), listener.fileno())] + [(c.pid, listener.fileno()) for c in children])
        assert got == expected
        assert all(o.mode == "u" for o in result[0].owners)
        assert {o.comm for o in result[0].owners if o.pid == os.getpid()} == {_comm(os.getpid())}
    finally:
        release(children)
        listener.close()


def _comm(pid: int) -> str:
    with open("/proc/%d/comm" % pid, "rb") as f:
        return f.read().decode().rstrip("\n")


@pytest.mark.live
def test_live_socketpair_end_passed_to_child() -> None:
    a, b = socket.socketpair()
    child = hold((b.fileno(),))
    try:
        socks = by_inode(procnet.sockets("unix", inode=[inode_of(a), inode_of(b)]))
        assert [(o.pid, o.fd) for o in socks[inode_of(a)].owners] == [(os.getpid(), a.fileno())]
        assert sorted((o.pid, o.fd) for o in socks[inode_of(b)].owners) == sorted(
            [(os.getpid(), b.fileno()), (child.pid, b.fileno())]
        )
    finally:
        release([child])
        a.close()
        b.close()


@pytest.mark.live
def test_live_child_exiting_during_scan_is_vanished(monkeypatch: pytest.MonkeyPatch) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    child = hold((listener.fileno(),))
    real_fds = _proc.ProcessDir.fds

    def dying_fds(self: _proc.ProcessDir) -> List[str]:
        if self.pid == child.pid and child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
        return real_fds(self)

    monkeypatch.setattr(_proc.ProcessDir, "fds", dying_fds)
    try:
        result = procnet.sockets("tcp", inode=inode_of(listener))
        assert result.report is not None and child.pid in result.report.vanished
        assert [(o.pid, o.fd) for o in result[0].owners] == [(os.getpid(), listener.fileno())]
    finally:
        release([child])
        listener.close()


@pytest.mark.live
def test_process_dir_refuses_a_process_that_exited() -> None:
    child = hold(())
    proc = ProcFS().process(child.pid)
    try:
        release([child])
        with pytest.raises(Gone):
            proc.read("comm")
    finally:
        proc.close()


@pytest.mark.live
def test_live_repeated_queries_while_processes_fork_and_exit() -> None:
    """Children that hold the listener come and go while we query: no exception, and no
    owner that is neither us nor one of those children."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    churn = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
                import os, sys, time
                fd = int(sys.argv[1]); end = time.time() + float(sys.argv[2])
                while time.time() < end:
                    pid = os.fork()
                    if pid == 0:
                        time.sleep(0.002)
                        os._exit(0)
                    print(pid, flush=True)
                    os.waitpid(pid, 0)
                """
            ),
            str(listener.fileno()),
            "30",
        ],
        pass_fds=(listener.fileno(),),
        stdout=subprocess.PIPE,
        text=True,
    )
    queries = 0
    seen_pids = set()
    try:
        deadline = time.time() + 2.5
        while queries < 5 or time.time() < deadline:
            result = procnet.sockets("tcp", inode=inode_of(listener))
            assert len(result) == 1
            seen_pids.update(o.pid for o in result[0].owners)
            queries += 1
    finally:
        churn.terminate()  # ours, by pid; it also stops by itself after 30 s
        out, _ = churn.communicate(timeout=60)
        listener.close()
    allowed = {os.getpid(), churn.pid} | {int(line) for line in out.split()}
    assert queries >= 5
    assert seen_pids <= allowed
    assert os.getpid() in seen_pids


UNPRIVILEGED = textwrap.dedent(
    """
    import json, os, socket, sys
    sys.path.insert(0, sys.argv[1])
    import procnet
    procnet.sockets("all")  # load every module before dropping: the interpreter's own files may be unreadable to nobody
    os.setgroups([]); os.setgid(65534); os.setuid(65534)
    mine = socket.socket(); mine.bind(("127.0.0.1", 0)); mine.listen(1)
    ino = os.fstat(mine.fileno()).st_ino
    result = procnet.sockets("all")
    own = [s for s in result if s.inode == ino]
    others = [s for s in result if s.inode and s.inode != ino and s.uid == 0]
    print(json.dumps({
        "own_owners": [[o.pid, o.fd] for s in own for o in s.owners],
        "pid": os.getpid(), "fd": mine.fileno(),
        "denied": len(result.report.denied),
        "complete": result.report.complete,
        "others_complete": sorted({s.owners_complete for s in others}),
    }))
    """
)


@pytest.mark.live
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to nobody")
def test_unprivileged_caller_sees_own_owners_and_unknown_for_others() -> None:
    import json
    import shutil

    top = tempfile.mkdtemp(prefix="procnet-nobody-", dir="/tmp")
    try:
        os.chmod(top, 0o755)
        shutil.copytree(os.path.join(os.path.dirname(FIXTURES), "procnet"), os.path.join(top, "procnet"))
        for dirpath, dirnames, filenames in os.walk(top):
            for name in dirnames:
                os.chmod(os.path.join(dirpath, name), 0o755)
            for name in filenames:
                os.chmod(os.path.join(dirpath, name), 0o644)
        out = subprocess.run(
            [sys.executable, "-I", "-c", UNPRIVILEGED, top], capture_output=True, text=True, timeout=60, cwd="/"
        )
        assert out.returncode == 0, out.stderr
        report = json.loads(out.stdout)
        assert report["own_owners"] == [[report["pid"], report["fd"]]]
        assert report["denied"] > 0 and report["complete"] is False
        assert report["others_complete"] in ([], [False])
    finally:
        shutil.rmtree(top, ignore_errors=True)


@pytest.mark.live
def test_every_live_socket_descriptor_is_read_write() -> None:
    """SOCKET_MODE is not assumed: on this machine, the link's mode bits and the fdinfo
    flags of every socket descriptor procnet can read say read-write ("u")."""
    from procnet._owners import SOCKET_MODE, fd_mode
    from procnet._parse.process import fdinfo_flags, mode_from_flags
    from procnet._proc import Denied

    a, b = socket.socketpair()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    checked = 0
    fs = ProcFS()
    try:
        for pid in fs.pids():
            try:
                with fs.process(pid) as proc:
                    for fd, _inode in proc.socket_fds()[1]:
                        assert fd_mode(proc, str(fd)) in (SOCKET_MODE, None)
                        try:
                            flags = fdinfo_flags(proc.read("fdinfo/%d" % fd))
                        except Gone:
                            continue
                        assert mode_from_flags(flags) == SOCKET_MODE
                        checked += 1
            except (Gone, Denied):
                continue
    finally:
        a.close()
        b.close()
        listener.close()
    assert checked >= 3


@pytest.mark.live
@pytest.mark.parametrize("workers", [2, 3, 5])
def test_live_threaded_scan_equals_one_thread_scan(monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    """The scan spread over threads builds the same index as one thread: same sockets,
    same owners in the same (pid) order, the same report; checked on this test's sockets
    (a listener shared by six children and a socketpair passed to one), whatever else
    runs meanwhile."""
    from procnet import _owners

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    left, right = socket.socketpair()
    children = [hold((listener.fileno(),)) for _ in range(5)] + [hold((listener.fileno(), right.fileno()))]
    mine = {inode_of(listener), inode_of(left), inode_of(right)}
    try:
        fs = ProcFS("/proc")
        pids = sorted(set(fs.pids()) | {c.pid for c in children})
        monkeypatch.setattr(_owners, "_PARALLEL_MIN", 2)  # threads even on a machine with few processes
        monkeypatch.setattr(_owners, "_workers", lambda: 1)
        one = scan(fs, inodes=mine, pids=pids)
        monkeypatch.setattr(_owners, "_workers", lambda: workers)
        import threading

        readers = set()
        inspect = _owners._inspect

        def counted(*args: object) -> object:
            readers.add(threading.get_ident())
            return inspect(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(_owners, "_inspect", counted)
        many = scan(fs, inodes=mine, pids=pids)
        # read by reader threads (the calling thread only indexes)
        assert threading.get_ident() not in readers and 1 <= len(readers) <= workers
        assert {i: one.owners[i] for i in mine} == {i: many.owners[i] for i in mine}
        shared = many.owners[inode_of(listener)]
        assert [o.pid for o in shared] == sorted(o.pid for o in shared) and len(shared) == 7
        assert (one.report.denied, one.report.hidden) == (many.report.denied, many.report.hidden)
    finally:
        release(children)
        listener.close()
        left.close()
        right.close()


def test_threaded_scan_raises_a_readers_error_and_leaves_no_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from procnet import _owners

    monkeypatch.setattr(_owners, "_workers", lambda: 3)

    def work(pid: int) -> object:
        if pid == 57:
            raise procnet.ProcNetError("pid 57: cannot read (test)")
        return (_owners._OK, [], [], None, False)

    before = threading.active_count()
    with pytest.raises(procnet.ProcNetError, match="pid 57"):
        _owners._scan_pids(work, list(range(1, 200)), _owners._Index())  # type: ignore[arg-type]
    assert threading.active_count() == before


def test_threaded_scan_interrupted_while_indexing_stops_its_readers(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from procnet import _owners

    monkeypatch.setattr(_owners, "_workers", lambda: 2)
    calls: List[int] = []

    def work(pid: int) -> object:
        calls.append(pid)
        time.sleep(0.002)
        return (_owners._OK, [], [], None, False)

    def interrupted(self: object, pid: int, seen: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(_owners._Part, "add", interrupted)
    before = threading.active_count()
    with pytest.raises(KeyboardInterrupt):
        _owners._scan_pids(work, list(range(1, 301)), _owners._Index())  # type: ignore[arg-type]
    assert threading.active_count() == before
    assert len(calls) < 100  # the readers stopped instead of reading all 300 pids
