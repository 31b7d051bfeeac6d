"""``owners_complete=True`` means nobody holds the socket (issue 13, items 2, 4, 9, 13, 14).

* (2a) a proc mount whose pid namespace is not the initial one: processes outside it may
  hold sockets, so owners are not complete, and the report says why;
* (2b) a second proc instance mounted over /proc: its options (hidepid) are the ones
  that count, found by the device of the root, not by the mount point;
* (2c, 13) threads: one with a descriptor table of its own is read whole and its owners
  carry its tid; threads that share their process's table give no tid, and cost one
  kcmp() each, no fd listing (4);
* (9) a process that execs while its descriptors are read is not named after its new
  program;
* (14) ``pid=`` with pids that do not exist: reported ``missing``, at no open each.

Live tests start their own children (loopback sockets only) and end them by pid.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

import procnet
from procnet import _owners, _proc
from procnet._owners import ScanReport, scan
from procnet._proc import PID_NS_INIT_INO, ProcFS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "fixtures")
LIVE = os.path.exists("/proc/self/fd") and os.path.exists("/proc/net/tcp")
live = pytest.mark.skipif(not LIVE, reason="needs a live Linux /proc")


def inode_of(s: socket.socket) -> int:
    return os.fstat(s.fileno()).st_ino


def _tree(tmp_path: Any, name: str, **manifest: Any) -> str:
    """A copy of a fixture scenario with keys set in (or, with None, removed from) its manifest."""
    dest = str(tmp_path / name)
    shutil.copytree(os.path.join(FIXTURES, name), dest, symlinks=True)
    path = os.path.join(dest, "procnet-manifest.json")
    with open(path) as f:
        data = json.load(f)
    for key, value in manifest.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    with open(path, "w") as f:
        json.dump(data, f)
    return dest


# -- children -----------------------------------------------------------------------------


class Child:
    """A python child that prints one JSON line when ready and obeys lines on its stdin."""

    def __init__(self, code: str, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code)] + list(args),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, "the child died before it was ready"
        self.info: Dict[str, Any] = json.loads(line)
        self.pid = self.proc.pid

    def say(self, line: str) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline()

    def end(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)  # ours, by pid
        self.proc.wait(timeout=30)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


@pytest.fixture
def children() -> Iterator[List[Child]]:
    made: List[Child] = []
    try:
        yield made
    finally:
        for child in made:
            child.end()


THREADS = """
    import json, os, socket, sys, threading
    n = int(sys.argv[1])
    listener = socket.socket(); listener.bind(("127.0.0.1", 0)); listener.listen(1)
    stop = threading.Event()
    workers = [threading.Thread(target=stop.wait, daemon=True) for _ in range(n)]
    for t in workers:
        t.start()
    print(json.dumps({"fd": listener.fileno(), "inode": os.fstat(listener.fileno()).st_ino,
                      "tids": sorted(int(t) for t in os.listdir("/proc/self/task"))}), flush=True)
    for line in sys.stdin:
        if line.strip() == "dup":
            print(os.dup(listener.fileno()), flush=True)
        else:
            break
    stop.set()
"""

OWN_TABLE = """
    import ctypes, json, os, socket, sys, threading
    libc = ctypes.CDLL(None, use_errno=True)
    shared = socket.socket(); shared.bind(("127.0.0.1", 0)); shared.listen(1)
    fd = shared.fileno()
    ready, done, info = threading.Event(), threading.Event(), {}

    def worker():
        if libc.unshare(0x400) != 0:  # CLONE_FILES: a copy of the table, for this thread alone
            info["error"] = os.strerror(ctypes.get_errno())
        else:
            own = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); own.bind(("127.0.0.1", 0))
            os.dup2(own.fileno(), fd)  # the number the process holds the listener at, in this table only
            info["own_inode"] = os.fstat(fd).st_ino
            own.close()  # the copy now lists exactly the numbers the process lists
            info["tid"] = threading.get_native_id()
        ready.set()
        done.wait()

    t = threading.Thread(target=worker, daemon=True)
    t.start()
    ready.wait()
    info.update(fd=fd, shared_inode=os.fstat(fd).st_ino)
    print(json.dumps(info), flush=True)
    sys.stdin.readline()
    done.set()
"""


# -- 2a: the pid namespace of the proc mount ----------------------------------------------


def _link(path: str, target: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.symlink(target, path)


def _write(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


OTHER_NS = 4026532555


@pytest.mark.parametrize(
    "init_link, reader_link, nspid, expected",
    [
        ("pid:[%d]" % PID_NS_INIT_INO, None, None, True),
        ("pid:[%d]" % OTHER_NS, None, None, False),
        # pid 1's link denied or absent: the reader's own namespace and its NSpid ids
        (None, "pid:[%d]" % PID_NS_INIT_INO, b"7", True),
        (None, "pid:[%d]" % OTHER_NS, b"7", False),  # the mount's namespace is the reader's
        (None, "pid:[%d]" % OTHER_NS, b"81213\t7", None),  # an ancestor's: which one is not told
        (None, "pid:[%d]" % OTHER_NS, None, None),  # no NSpid line (before 4.1)
        (None, None, None, None),  # the root does not show the reader
    ],
)
def test_initial_pid_namespace_from_pid_1_or_from_the_reader(
    tmp_path: Any, init_link: Optional[str], reader_link: Optional[str], nspid: Optional[bytes], expected: Optional[bool]
) -> None:
    root = str(tmp_path / "proc")
    os.makedirs(root)
    if init_link is not None:
        _link(os.path.join(root, "1", "ns", "pid"), init_link)
    if reader_link is not None:
        os.symlink("7", os.path.join(root, "self"))
        _link(os.path.join(root, "7", "ns", "pid"), reader_link)
        _write(os.path.join(root, "7", "status"), b"Name:\tpython3\nPid:\t7\n" + (b"NSpid:\t" + nspid + b"\n" if nspid else b""))
    assert ProcFS(root).initial_pid_namespace() is expected


@pytest.mark.parametrize("recorded, expected", [(True, True), (False, False), (None, None), ("yes", None)])
def test_a_capture_says_what_it_recorded_and_unknown_when_nothing(tmp_path: Any, recorded: Any, expected: Any) -> None:
    root = _tree(tmp_path, "owners-forked-listener", initial_pid_namespace=recorded)
    assert ProcFS(root).initial_pid_namespace() is expected
    result = procnet.sockets("tcp", root=root)
    assert result.report is not None and result.report.initial_pid_namespace is expected
    orphan = {s.inode: s for s in result}[5003]  # a socket nobody in the capture holds
    assert orphan.owners == () and orphan.owners_complete is (expected is True)
    if expected is not True:
        assert any("pid namespace" in reason for reason in result.report.reasons)
        with pytest.raises(procnet.AccessDenied, match="pid namespace"):
            procnet.sockets("tcp", root=root, strict=True)


def test_a_query_with_nothing_to_look_for_still_carries_the_pid_namespace(tmp_path: Any) -> None:
    root = _tree(tmp_path, "owners-forked-listener", initial_pid_namespace=False)
    for result in (procnet.sockets("tcp", root=root, port=1), procnet.iter_sockets("tcp", root=root, port=1)):
        assert list(result) == []
        assert result.report is not None and result.report.scanned == 0
        assert result.report.initial_pid_namespace is False and not result.report.complete


@live
def test_this_machine_reads_its_own_pid_namespace() -> None:
    # pid 1's links may be denied (a sandbox): the reader's own then tells
    with open("/proc/self/status", "rb") as f:
        nspid = [line for line in f.read().split(b"\n") if line.startswith(b"NSpid:")]
    ns = int(os.readlink("/proc/self/ns/pid")[5:-1])
    if ns == PID_NS_INIT_INO:
        assert ProcFS().initial_pid_namespace() is True
    elif nspid and len(nspid[0].split()) == 2:
        assert ProcFS().initial_pid_namespace() is False


PIDNS_SCRIPT = r"""
import json, os, socket, sys
sys.path.insert(0, sys.argv[1])
import procnet
outside = int(sys.argv[2])
mine = socket.socket(); mine.bind(("127.0.0.1", 0)); mine.listen(1)
result = procnet.sockets("tcp", inode=[outside, os.fstat(mine.fileno()).st_ino])
by = {s.inode: s for s in result}
try:
    procnet.sockets("tcp", inode=outside, strict=True)
    strict = None
except procnet.AccessDenied as exc:
    strict = str(exc)
print(json.dumps({
    "pid": os.getpid(),
    "outside": [by[outside].owners_complete, [o.pid for o in by[outside].owners]],
    "mine": [by[os.fstat(mine.fileno()).st_ino].owners_complete,
             [o.pid for o in by[os.fstat(mine.fileno()).st_ino].owners]],
    "initial": getattr(result.report, "initial_pid_namespace", "no such field"),
    "complete": result.report.complete,
    "reasons": list(getattr(result.report, "reasons", ())),
    "strict": strict,
}))
"""


def _unshare_pid_ok() -> str:
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare (util-linux)")
    probe = subprocess.run([unshare, "--pid", "--fork", "--mount-proc", "true"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    if probe.returncode != 0:
        pytest.skip("cannot make a pid namespace here: %s" % probe.stderr.decode(errors="replace").strip())
    return unshare


@live
def test_inside_a_pid_namespace_sharing_the_network_a_socket_held_outside_is_not_known_unowned() -> None:
    """(2a) ``unshare -p -f --mount-proc``: the network is the host's, the processes are
    not. A listener held by this (outside) process shows no owner inside, and that must
    not read as "held by nobody"."""
    unshare = _unshare_pid_ok()
    outside = socket.socket()
    outside.bind(("127.0.0.1", 0))
    outside.listen(1)
    try:
        run = subprocess.run(
            [unshare, "--pid", "--fork", "--mount-proc", sys.executable, "-c", PIDNS_SCRIPT, ROOT, str(inode_of(outside))],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120,
        )
    finally:
        outside.close()
    assert run.returncode == 0, run.stderr.decode(errors="replace")[-3000:]
    out = json.loads(run.stdout.decode().strip().split("\n")[-1])
    assert out["pid"] == 1  # inside its own pid namespace
    assert out["outside"] == [False, []]
    assert out["mine"] == [False, [1]]  # its own owner is there, and others may exist outside
    assert out["initial"] is False and out["complete"] is False
    assert any("pid namespace is not the initial one" in r for r in out["reasons"])
    assert out["strict"] is not None and "pid namespace" in out["strict"]


# -- 2b: the proc mount that serves the root ---------------------------------------------

HIDEPID_SCRIPT = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
import procnet
from procnet._proc import ProcFS
options = ProcFS("/proc").mount_options()
procnet.sockets("unix")  # every lazy import, while root
os.setgroups([]); os.setgid(65534); os.setuid(65534)
print(json.dumps({"options": options, "hides": ProcFS("/proc").hides_processes(),
                  "report_hidden": procnet.sockets("unix").report.hidden}))
"""


@live
def test_hidepid_mounted_over_proc_is_the_mount_that_counts() -> None:
    """(2b) A second proc instance with hidepid=2 mounted over /proc (in a private mount
    namespace): mountinfo lists the plain one first; the options are the top one's."""
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare (util-linux)")
    copy = tempfile_copy_of_procnet()
    try:
        script = 'mount -t proc -o hidepid=2 proc /proc && exec "$1" -c "$2" "$3"'
        run = subprocess.run(
            [unshare, "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh", sys.executable,
             HIDEPID_SCRIPT, copy],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120,
        )
    finally:
        shutil.rmtree(os.path.dirname(copy), ignore_errors=True)
    if run.returncode != 0 and b"mount" in run.stderr:
        pytest.skip("cannot mount proc here: %s" % run.stderr.decode(errors="replace").strip())
    assert run.returncode == 0, run.stderr.decode(errors="replace")[-3000:]
    out = json.loads(run.stdout.decode().strip().split("\n")[-1])
    assert set(out["options"]) & {"hidepid=2", "hidepid=invisible"}, out["options"]
    assert out["hides"] is True and out["report_hidden"] is True


def tempfile_copy_of_procnet() -> str:
    """A world-readable copy of the package (nobody may not read the checkout's)."""
    import tempfile

    top = tempfile.mkdtemp(prefix="procnet-complete-")
    dest = os.path.join(top, "lib")
    shutil.copytree(os.path.join(ROOT, "procnet"), os.path.join(dest, "procnet"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    for dirpath, _, files in os.walk(top):
        os.chmod(dirpath, 0o755)
        for name in files:
            os.chmod(os.path.join(dirpath, name), 0o644)
    return dest


# -- 2c, 13, 4: threads -------------------------------------------------------------------


@live
def test_a_thread_with_its_own_table_holding_another_socket_at_the_same_number_is_an_owner(
    children: List[Child],
) -> None:
    """(2c) The thread's table lists exactly the numbers its process lists, one of them
    pointing at another socket: that socket is found, with the thread's tid."""
    child = Child(OWN_TABLE)
    children.append(child)
    info = child.info
    if "error" in info:
        pytest.skip("unshare(CLONE_FILES) failed: %s" % info["error"])
    result = procnet.sockets("inet", inode=[info["shared_inode"], info["own_inode"]])
    by = {s.inode: s for s in result}
    assert [(o.pid, o.fd, o.tid) for o in by[info["own_inode"]].owners] == [(child.pid, info["fd"], info["tid"])]
    assert [(o.pid, o.fd, o.tid) for o in by[info["shared_inode"]].owners] == [(child.pid, info["fd"], None)]
    assert child.pid not in result.report.unverified_threads  # type: ignore[union-attr]


@live
def test_threads_sharing_the_table_give_no_tid_while_descriptors_change(
    children: List[Child], monkeypatch: pytest.MonkeyPatch
) -> None:
    """(13) Between the listing of the process's descriptors and the look at its threads
    the process opens one more descriptor on the listener: its threads, which share the
    table, list one more number than the process did. That is not a table of their own:
    no owner carries a tid."""
    child = Child(THREADS, "12")
    children.append(child)
    real = _proc.ProcessDir.socket_fds
    dups: List[int] = []

    def then_dup(self: _proc.ProcessDir, wanted: Any = None) -> Any:
        out = real(self, wanted)
        if self.pid == child.pid and "/task/" not in self.path and not dups:
            dups.append(int(child.say("dup")))
        return out

    monkeypatch.setattr(_proc.ProcessDir, "socket_fds", then_dup)
    result = procnet.sockets("tcp", inode=child.info["inode"])
    assert dups, "the scan never read the child"
    owners = [(o.pid, o.fd, o.tid) for o in result[0].owners if o.pid == child.pid]
    assert owners == [(child.pid, child.info["fd"], None)]
    assert all(o.tid is None for o in result[0].owners)


@live
def test_threads_that_share_the_table_cost_one_kcmp_each_and_no_listing(
    children: List[Child], monkeypatch: pytest.MonkeyPatch
) -> None:
    """(4) A process with many threads that share its table: its descriptors are listed
    once, no thread directory is opened, and each thread costs one kcmp()."""
    n = 40
    child = Child(THREADS, str(n))
    children.append(child)
    fs_probe = ProcFS()
    if hasattr(fs_probe, "compares_descriptor_tables") and (
        not fs_probe.compares_descriptor_tables() or fs_probe.same_descriptor_table(child.pid, child.pid) is None
    ):
        pytest.skip("kcmp() is not available here")
    calls: Dict[str, List[Tuple[int, str]]] = {"fds": [], "task": [], "kcmp": []}
    real_fds, real_task = _proc.ProcessDir.fds, _proc.ProcessDir.task
    real_same = getattr(_proc.ProcFS, "same_descriptor_table", None)

    def fds(self: _proc.ProcessDir) -> List[str]:
        calls["fds"].append((self.pid, self.path))
        return real_fds(self)

    def task(self: _proc.ProcessDir, tid: int) -> _proc.ProcessDir:
        calls["task"].append((self.pid, str(tid)))
        return real_task(self, tid)

    def same(self: ProcFS, pid: int, tid: int) -> Optional[bool]:
        calls["kcmp"].append((pid, str(tid)))
        return real_same(self, pid, tid)  # type: ignore[misc]

    monkeypatch.setattr(_proc.ProcessDir, "fds", fds)
    monkeypatch.setattr(_proc.ProcessDir, "task", task)
    monkeypatch.setattr(_proc.ProcFS, "same_descriptor_table", same, raising=False)
    result = procnet.sockets("tcp", inode=child.info["inode"])
    assert [(o.pid, o.tid) for o in result[0].owners] == [(child.pid, None)]
    mine = {kind: [c for c in got if c[0] == child.pid] for kind, got in calls.items()}
    assert len(mine["fds"]) == 1 and mine["fds"][0][1].endswith("/%d" % child.pid)
    assert mine["task"] == []
    assert sorted(int(t) for _, t in mine["kcmp"]) == [t for t in child.info["tids"] if t != child.pid]
    assert len(child.info["tids"]) == n + 1


@live
def test_a_process_with_one_thread_costs_no_task_listing(children: List[Child], monkeypatch: pytest.MonkeyPatch) -> None:
    """The thread count comes from one lstat() of ``task/`` (its link count is 2 + the
    threads): a single-threaded process's ``task/`` is not listed."""
    child = Child(THREADS, "0")
    children.append(child)
    with ProcFS().process(child.pid) as proc:
        assert proc.threads() == 1
    with ProcFS().process(os.getpid()) as proc:
        assert proc.threads() == len(os.listdir("/proc/self/task"))
    listed: List[str] = []
    real = _proc.ProcessDir.listdir

    def listdir(self: _proc.ProcessDir, name: str) -> List[str]:
        if self.pid == child.pid:
            listed.append(name)
        return real(self, name)

    monkeypatch.setattr(_proc.ProcessDir, "listdir", listdir)
    result = procnet.sockets("tcp", inode=child.info["inode"])
    assert [(o.pid, o.fd, o.tid) for o in result[0].owners] == [(child.pid, child.info["fd"], None)]
    assert "task" not in listed


@live
def test_without_kcmp_threads_are_compared_by_listing_and_the_report_says_so(
    children: List[Child], monkeypatch: pytest.MonkeyPatch
) -> None:
    child = Child(THREADS, "3")
    children.append(child)

    class Refused:
        works = True

        def same_files(self, pid: int, tid: int) -> Optional[bool]:
            return None  # as kcmp() answers EPERM (a seccomp filter, an LSM)

    monkeypatch.setattr(_proc, "_kcmp", lambda: Refused())
    result = procnet.sockets("tcp", inode=child.info["inode"])
    report = result.report
    assert report is not None and child.pid in report.unverified_threads and not report.complete
    assert any(r.startswith("threads of pid") for r in report.reasons)
    assert result[0].owners_complete is False
    assert [(o.pid, o.tid) for o in result[0].owners] == [(child.pid, None)]
    with pytest.raises(procnet.AccessDenied, match="threads of pid"):
        procnet.sockets("tcp", pid=child.pid, strict=True)


@live
def test_thread_tables_for_a_capture_writer(children: List[Child]) -> None:
    own = Child(OWN_TABLE)
    children.append(own)
    if "error" in own.info:
        pytest.skip("unshare(CLONE_FILES) failed: %s" % own.info["error"])
    shared = Child(THREADS, "4")
    children.append(shared)
    fs = ProcFS()
    if not fs.compares_descriptor_tables():
        pytest.skip("kcmp() is not available here")
    for child, expected in ((own, [own.info["tid"]]), (shared, [])):
        with fs.process(child.pid) as proc:
            assert _owners.thread_tables(fs, proc, proc.fds()) == (expected, False)


def test_a_capture_reads_each_recorded_thread_table_whole_and_reports_what_it_recorded(tmp_path: Any) -> None:
    root = _tree(tmp_path, "owners-thread-own-fd-table", initial_pid_namespace=True)
    socks = {s.inode: s for s in procnet.sockets("tcp", root=root)}
    assert [(o.pid, o.fd, o.tid) for o in socks[9001].owners] == [(500, 3, None)]
    assert [(o.pid, o.fd, o.tid) for o in socks[9002].owners] == [(500, 4, 501)]
    assert socks[9002].owners_complete is True
    unverified = _tree(tmp_path / "u", "owners-thread-own-fd-table", initial_pid_namespace=True,
                       unverified_threads=[500], changed=[500])
    result = procnet.sockets("tcp", root=unverified)
    assert result.report is not None
    assert (result.report.unverified_threads, result.report.changed) == ((500,), (500,))
    assert all(s.owners_complete is False for s in result)


# -- 9: exec during the scan --------------------------------------------------------------

EXECER = """
    import json, os, socket, sys
    listener = socket.socket(); listener.bind(("127.0.0.1", 0)); listener.listen(1)  # close-on-exec
    print(json.dumps({"fd": listener.fileno(), "inode": os.fstat(listener.fileno()).st_ino}), flush=True)
    sys.stdin.readline()
    os.execv(sys.argv[1], [sys.argv[1], "60"])
"""


def _comm(pid: int) -> str:
    with open("/proc/%d/comm" % pid, "rb") as f:
        return f.read().decode(errors="replace").rstrip("\n")


@live
def test_a_process_that_execs_while_read_is_not_named_after_its_new_program(
    children: List[Child], monkeypatch: pytest.MonkeyPatch
) -> None:
    """(9) The child holds a listener (close-on-exec) and execs ``sleep`` right after its
    descriptors are listed: the listener is not attributed to ``sleep``, which never
    held it."""
    sleep = shutil.which("sleep")
    if sleep is None:
        pytest.skip("no sleep program")
    child = Child(EXECER, sleep)
    children.append(child)
    real = _proc.ProcessDir.socket_fds
    listings: List[List[Tuple[int, int]]] = []

    def then_exec(self: _proc.ProcessDir, wanted: Any = None) -> Any:
        out = real(self, wanted)
        if self.pid == child.pid and "/task/" not in self.path:
            listings.append(out[1])
            if len(listings) == 1:
                assert child.proc.stdin is not None
                child.proc.stdin.write("exec\n")
                child.proc.stdin.flush()
                deadline = time.time() + 10
                while _comm(child.pid) != "sleep" and time.time() < deadline:
                    time.sleep(0.005)
                assert _comm(child.pid) == "sleep"
        return out

    monkeypatch.setattr(_proc.ProcessDir, "socket_fds", then_exec)
    result = procnet.sockets("tcp", inode=child.info["inode"])
    assert listings[0] == [(child.info["fd"], child.info["inode"])]  # seen before the exec
    assert len(listings) == 2  # read again after the exec: the listener was closed by it
    assert [(o.pid, o.comm) for o in result[0].owners if o.pid == child.pid] == []
    assert result.report is not None and child.pid not in result.report.changed


def test_a_process_that_keeps_changing_keeps_its_last_owners_and_is_reported(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tree(tmp_path, "owners-forked-listener", initial_pid_namespace=True)
    reads: List[int] = []
    real_program = _owners._program

    def changing(proc: _proc.ProcessDir) -> Optional[str]:
        if proc.pid != 101:
            return real_program(proc)
        reads.append(proc.pid)
        return "/usr/bin/prog%d" % len(reads)  # another program at every read

    monkeypatch.setattr(_owners, "_program", changing)
    result = procnet.sockets("tcp", root=root)
    assert result.report is not None and result.report.changed == (101,)
    assert len(reads) == 2 + _owners._EXEC_RETRIES  # before the first reading, after each
    listener = {s.inode: s for s in result}[5001]
    assert [(o.pid, o.comm) for o in listener.owners] == [(100, "nginx"), (101, "nginx"), (102, "nginx")]
    assert listener.owners_complete is False
    assert any("changed program" in r and "101" in r for r in result.report.reasons)


# -- 14: pids that do not exist -----------------------------------------------------------


@live
def test_pids_that_never_existed_cost_no_open_and_are_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """(14) 100,000 pids above any pid_max (4,194,304 at most): one listing of /proc, no
    open per pid, and they are ``missing`` (not ``vanished``: nothing exited)."""
    never = range(5_000_000, 5_100_000)
    opened: List[int] = []
    real = _proc.ProcFS.process

    def counted(self: ProcFS, pid: int) -> _proc.ProcessDir:
        opened.append(pid)
        return real(self, pid)

    monkeypatch.setattr(_proc.ProcFS, "process", counted)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    try:
        result = procnet.sockets("tcp", pid=list(never) + [os.getpid()])
        assert [o.pid for s in result for o in s.owners] and all(o.pid == os.getpid() for s in result for o in s.owners)
        assert inode_of(listener) in {s.inode for s in result}
    finally:
        listener.close()
    assert not [p for p in opened if p >= 5_000_000]
    report = result.report
    assert report is not None and report.missing == tuple(never) and report.vanished == ()
    assert report.scanned == 1
    with pytest.raises(procnet.NoSuchProcess, match="pid 5000000"):
        procnet.sockets("tcp", pid=[5_000_000, os.getpid()], strict=True)


def test_missing_and_vanished_are_told_apart(tmp_path: Any) -> None:
    root = _tree(tmp_path, "owners-forked-listener", initial_pid_namespace=True)
    result = procnet.sockets("all", root=root, pid=[101, 103, 999])
    assert result.report is not None
    assert (result.report.missing, result.report.vanished, result.report.scanned) == ((999,), (103,), 1)
    with pytest.raises(procnet.NoSuchProcess, match="pid 103, 999"):
        procnet.sockets("all", root=root, pid=[101, 103, 999], strict=True)


# -- the report ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, words",
    [
        ({"denied": (200,)}, "descriptors of pid 200"),
        ({"hidden": True}, "hidepid"),
        ({"initial_pid_namespace": False}, "not the initial one"),
        ({"initial_pid_namespace": None}, "unknown"),
        ({"unverified_threads": (7, 8)}, "threads of pid 7, 8"),
        ({"changed": (9,)}, "pid 9 changed program"),
    ],
)
def test_every_reason_makes_the_report_incomplete_and_is_said(change: Dict[str, Any], words: str) -> None:
    assert ScanReport(4).complete and ScanReport(4).reasons == ()
    assert ScanReport(4, missing=(5,), vanished=(6,)).complete  # they hold nothing
    report = ScanReport(4, **change)
    assert not report.complete
    assert len(report.reasons) == 1 and words in report.reasons[0]
    as_json = procnet.to_jsonable(report)
    assert set(as_json) >= {"missing", "initial_pid_namespace", "unverified_threads", "changed"}


@live
def test_a_scan_of_this_machine_reports_every_field(monkeypatch: pytest.MonkeyPatch) -> None:
    index = scan(ProcFS(), inodes=set())
    report = index.report
    assert report.initial_pid_namespace in (True, False, None)
    assert report.complete == (report.reasons == ())
