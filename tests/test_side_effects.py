"""No side effects: procnet never opens a descriptor's target, never follows links out of
the given root, never runs another program, never writes outside a capture directory.

A child holds a FIFO opened O_RDWR, a FIFO opened O_RDONLY|O_NONBLOCK with no writer, a
pty pair, /dev/zero, /dev/random (and /dev/kmsg where readable), a tcp listener and a
unix socketpair. A driver process imports procnet, installs an audit hook
(sys.addaudithook) that records every open, every program start and every file-system
write, then runs the library queries, the owner scan, ``procnet ss -xap``,
``procnet lsof -p CHILD``, ``procnet lsof`` and ``procnet.capture``; it must finish
within its time limit. Where strace is installed the same driver runs under it, which
also sees opens made below Python (openat with the directory descriptor resolved).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from typing import Any, Dict, Iterator, List

import pytest

import procnet

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "fixtures")
LIVE = os.path.exists("/proc/self/fd") and os.path.exists("/proc/net/unix")
DRIVER_TIMEOUT = 120

HOLDER = r"""
import json, os, pty, socket, sys
d = sys.argv[1]
fifo_rw, fifo_ro = os.path.join(d, "fifo-rw"), os.path.join(d, "fifo-ro")
os.mkfifo(fifo_rw); os.mkfifo(fifo_ro)
held = [os.open(fifo_rw, os.O_RDWR), os.open(fifo_ro, os.O_RDONLY | os.O_NONBLOCK)]
master, slave = os.openpty()
devices = [os.ttyname(slave)]
for dev in ("/dev/zero", "/dev/random", "/dev/kmsg"):
    try:
        held.append(os.open(dev, os.O_RDONLY))
        devices.append(dev)
    except OSError:
        pass
tcp = socket.socket(); tcp.bind(("127.0.0.1", 0)); tcp.listen(1)
a, b = socket.socketpair()
sys.stdout.write(json.dumps({"pid": os.getpid(), "fifos": [fifo_rw, fifo_ro], "devices": devices,
                             "inodes": [os.fstat(s.fileno()).st_ino for s in (tcp, a, b)]}) + "\n")
sys.stdout.flush()
sys.stdin.read()
"""

DRIVER = r"""
import io, json, os, sys
root, child, capdir, out, light = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5] == "light"
sys.path.insert(0, root)
import procnet, procnet.cli, procnet.cli.ss, procnet.cli.lsof, procnet.cli.render
import procnet._capture, procnet._owners, procnet._query, procnet._proc, procnet._json
import procnet._filter, procnet._services, procnet._parse.netlink, procnet._netlink
import importlib.util
if importlib.util.find_spec("procnet.cli.capture"):
    import procnet.cli.capture
import pwd, grp, socket, struct, errno, ipaddress  # what the code may import lazily

events = []
state = {"on": True}
WATCH = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
         "os.forkpty", "os.startfile", "ctypes.dlopen", "os.symlink", "os.mkdir", "os.rename",
         "os.remove", "os.rmdir", "os.truncate", "os.chmod", "os.chown", "os.link", "shutil.rmtree"}

def hook(event, args):
    if not state["on"]:
        return
    if event == "open":
        path, mode, flags = args
        if isinstance(path, int):
            return  # os.fdopen of a descriptor already open
        events.append(["open", os.fsdecode(path), mode, flags])
    elif event in WATCH:
        events.append([event, [os.fsdecode(a) if isinstance(a, (str, bytes)) else repr(a) for a in args]])

sys.addaudithook(hook)
done = []
procnet.sockets("all"); done.append("sockets(all)")
procnet.sockets("all", pid=child); done.append("sockets(all, pid)")
procnet.listening("tcp"); done.append("listening(tcp)")
from procnet._owners import scan
from procnet._proc import ProcFS
if not light:
    procnet.sockets("all", backend="proc", details=True); done.append("sockets(all, proc, details)")
    scan(ProcFS("/proc"), inodes=None, pids=None, threads=True, details=True); done.append("scan")
real = sys.stdout
sys.stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="surrogateescape")
commands = [["ss", "-xap"], ["lsof", "-p", str(child)]]
if not light:
    commands += [["ss", "-tuanp"], ["lsof", "-n", "-P"], ["lsof", "-i", "-n", "-P"]]
for argv in commands:
    procnet.cli.main(argv); done.append(" ".join(argv))
sys.stdout = real
procnet.capture(capdir); done.append("capture")
procnet.sockets("all", root=capdir); done.append("sockets(capture)")
state["on"] = False
with open(out, "w") as f:
    json.dump({"events": events, "done": done}, f)
"""


@pytest.fixture(scope="module")
def holder() -> Iterator[Dict[str, Any]]:
    if not LIVE:
        pytest.skip("needs a live Linux /proc")
    d = tempfile.mkdtemp(prefix="procnet-holder-")
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, d], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        info["dir"] = d
        yield info
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(d, ignore_errors=True)


def _run_driver(holder: Dict[str, Any], prefix: List[str], light: bool = False) -> Dict[str, Any]:
    work = tempfile.mkdtemp(prefix="procnet-driver-")
    try:
        capdir = os.path.join(work, "capture")
        out = os.path.join(work, "events.json")
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        cmd = prefix + [sys.executable, "-c", DRIVER, ROOT, str(holder["pid"]), capdir, out, "light" if light else "full"]
        # the time limit is the proof that nothing blocked on the FIFOs or the pty
        run = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=DRIVER_TIMEOUT)
        assert run.returncode == 0, run.stderr.decode(errors="replace")[-3000:]
        with open(out) as f:
            result: Dict[str, Any] = json.load(f)
        result["capdir"] = capdir
        result["stderr"] = run.stderr.decode(errors="replace")
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def audited(holder: Dict[str, Any]) -> Dict[str, Any]:
    return _run_driver(holder, [])


_FD_LINK = re.compile(r"(^|/)(task/\d+/)?fd/\d+$")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _forbidden_targets(holder: Dict[str, Any]) -> List[str]:
    return list(holder["fifos"]) + list(holder["devices"])


def test_every_step_finished_within_the_time_limit(audited: Dict[str, Any]) -> None:
    assert audited["done"][-1] == "sockets(capture)"
    assert len(audited["done"]) == 12


def test_no_descriptor_target_is_opened(holder: Dict[str, Any], audited: Dict[str, Any]) -> None:
    opens = [e for e in audited["events"] if e[0] == "open"]
    assert opens, "the audit hook saw no open at all"
    targets = _forbidden_targets(holder)
    for _, path, _, _ in opens:
        assert not _FD_LINK.search(path), "opened a descriptor link: %s" % path
        assert path not in targets, "opened a target held by the child: %s" % path
        assert not path.startswith("/dev/"), path


def test_no_program_is_run(audited: Dict[str, Any]) -> None:
    starts = [e for e in audited["events"] if e[0] in (
        "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "os.startfile")]
    assert starts == []


def test_writes_only_under_the_capture_directory(audited: Dict[str, Any]) -> None:
    capdir = audited["capdir"]
    writes = []
    for e in audited["events"]:
        if e[0] == "open":
            _, path, mode, flags = e
            if (mode is not None and any(c in mode for c in "wax+")) or (mode is None and flags & _WRITE_FLAGS):
                writes.append(path)
        elif e[0] in ("os.symlink", "os.mkdir", "os.rename", "os.remove", "os.rmdir", "os.truncate",
                      "os.chmod", "os.chown", "os.link", "shutil.rmtree"):
            writes.append(e[1][1] if e[0] in ("os.symlink", "os.link", "os.rename") else e[1][0])
    assert writes, "capture wrote nothing the hook saw"
    for path in writes:
        full = os.path.normpath(os.path.join(capdir, path)) if not os.path.isabs(path) else os.path.normpath(path)
        assert full == capdir or full.startswith(capdir + os.sep), "wrote outside the capture dir: %s" % path


_STRACE = shutil.which("strace")


@pytest.mark.slow
@pytest.mark.skipif(_STRACE is None, reason="strace is not installed (apt-get install strace)")
def test_under_strace_no_target_opened_and_nothing_executed(holder: Dict[str, Any], tmp_path: Any) -> None:
    log = str(tmp_path / "strace.log")
    probe = subprocess.run([_STRACE, "-f", "-o", os.devnull, "true"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if probe.returncode != 0:
        pytest.skip("strace cannot trace here: %s" % probe.stderr.decode(errors="replace").strip())
    _run_driver(holder, [_STRACE, "-f", "-yy", "-qq", "-e", "trace=open,openat,openat2,execve,execveat,vfork,clone3", "-o", log], light=True)
    with open(log, errors="replace") as f:
        lines = f.read().splitlines()
    execs = [ln for ln in lines if re.search(r"\bexecve(at)?\(", ln)]
    assert len(execs) == 1, "programs run: %s" % execs  # the driver's own python only
    targets = set(_forbidden_targets(holder))
    opened = 0
    for ln in lines:
        m = re.search(r"\bopenat2?\((?:AT_FDCWD|\d+)(?:<([^>]*)>)?, \"([^\"]*)\".*= (\d+)<([^>]*)>", ln)
        if not m:
            continue
        opened += 1
        base, arg, _, resolved = m.groups()
        assert not _FD_LINK.search(arg), "opened a descriptor link: %s" % ln
        assert resolved not in targets, "opened a target held by the child: %s" % ln
        assert not resolved.startswith(("/dev/pts/", "pipe:", "socket:", "anon_inode:")), ln
        assert resolved not in ("/dev/zero", "/dev/random", "/dev/kmsg", "/dev/ptmx"), ln
    assert opened > 100


# --- links out of the given root ----------------------------------------------------------

_SCENARIO = os.path.join(FIXTURES, "owners-forked-listener")


@pytest.fixture
def tree(tmp_path: Any) -> Dict[str, str]:
    """A copy of a fixture root, and an 'outside' directory whose files say OUTSIDE."""
    root = str(tmp_path / "root")
    out = str(tmp_path / "outside")
    shutil.copytree(_SCENARIO, root, symlinks=True)
    shutil.copytree(_SCENARIO, out, symlinks=True)
    # the outside copy is recognisable: other names, write-only descriptors, other ports
    for pid in ("100", "101", "102"):
        with open(os.path.join(out, pid, "comm"), "w") as f:
            f.write("OUTSIDE\n")
        for name in os.listdir(os.path.join(out, pid, "fdinfo")):
            with open(os.path.join(out, pid, "fdinfo", name), "w") as f:
                f.write("pos:\t0\nflags:\t01\n")
    for table in os.listdir(os.path.join(out, "net")):
        path = os.path.join(out, "net", table)
        with open(path, "rb") as f:
            data = f.read()
        lines = data.split(b"\n")
        lines[1:] = [re.sub(rb"(\d+: )(\w{8}):(\w{4})", rb"\g<1>\g<2>:FFFF", ln, count=1) for ln in lines[1:]]
        with open(path, "wb") as f:
            f.write(b"\n".join(lines))
    with open(os.path.join(out, "procnet-manifest.json"), "w") as f:
        json.dump({"byteorder": "big", "kernel": "OUTSIDE", "description": "outside"}, f)
    return {"root": root, "out": out}


def _relink(tree: Dict[str, str], rel: str) -> None:
    inside = os.path.join(tree["root"], rel)
    if os.path.isdir(inside) and not os.path.islink(inside):
        shutil.rmtree(inside)
    else:
        os.remove(inside)
    os.symlink(os.path.join(tree["out"], rel), inside)


def _read_through(tree: Dict[str, str]) -> bool:
    """True when anything of the outside tree shows in the answer."""
    try:
        recs = procnet.sockets("all", root=tree["root"], details=True)
    except procnet.ProcNetError:
        return False  # refusing is fine: nothing was read through
    for r in recs:
        if getattr(r, "local", None) is not None and r.local.port == 0xFFFF:
            return True
        if r.proto != "unix" and r.local.ip.version == 4 and str(r.local.ip).startswith("1.0.0."):
            return True  # 127.0.0.1 read big-endian: the outside manifest was used
        for o in r.owners:
            if o.comm == "OUTSIDE" or o.mode == "w":
                return True
    return False


def test_the_scenario_reads_normally(tree: Dict[str, str]) -> None:
    assert not _read_through(tree)
    assert procnet.sockets("all", root=tree["root"])


@pytest.mark.parametrize(
    "rel",
    ["100/comm", "100/status", "100/cmdline", "100/fdinfo/3", "100/fdinfo", "100/fd", "100", "net/tcp", "net/unix"],
)
def test_links_out_of_the_root_are_not_read_through(tree: Dict[str, str], rel: str) -> None:
    _relink(tree, rel)
    assert not _read_through(tree)


def test_net_directory_linked_out_of_the_root_is_not_read_through(tree: Dict[str, str]) -> None:
    _relink(tree, "net")
    assert not _read_through(tree)


def test_manifest_linked_out_of_the_root_is_not_read_through(tree: Dict[str, str]) -> None:
    _relink(tree, "procnet-manifest.json")
    assert not _read_through(tree)


def test_one_linked_process_file_does_not_fail_the_whole_query(tree: Dict[str, str]) -> None:
    _relink(tree, "100/comm")
    recs = procnet.sockets("all", root=tree["root"])
    assert recs.report is not None and 100 in recs.report.denied
