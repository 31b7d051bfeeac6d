"""Unprivileged and restricted callers: as ``nobody``, under a ``hidepid=2`` proc mount,
and with ``/proc/<pid>/fd`` unreadable, queries succeed, the caller's own sockets have
their owners, and the others say their owners were not visible (``owners_complete`` is
False and the ScanReport says why: ``denied`` pids, ``hidden``).

The unprivileged runs are subprocesses that import procnet from a world-readable copy
(the interpreter's own files may sit under /root), touch everything they need while
still root, then drop to uid/gid 65534 with no supplementary groups.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Any, Dict, Iterator, List

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOBODY = 65534

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not os.path.exists("/proc/self/fd"), reason="needs a live Linux /proc"),
    pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to drop to nobody"),
]

SCRIPT = r"""
import ctypes, json, os, socket, sys, io
copy, proc_root = sys.argv[1], sys.argv[2]
sys.path.insert(0, copy)
import procnet, procnet.cli, procnet.cli.ss, procnet.cli.lsof, procnet.cli.render
import procnet._query, procnet._owners, procnet._proc, procnet._json, procnet._netlink
import procnet._parse.netlink, procnet._filter, procnet._services
import pwd, grp, encodings.idna
import importlib.util
procnet.sockets("all", root=proc_root, owners=False)  # every lazy import, while root
_real = sys.stdout
sys.stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="surrogateescape")
for argv in (["ss", "-tanp", "--root", proc_root], ["ss", "-xap", "--root", proc_root],
             ["lsof", "-p", str(os.getpid()), "--root", proc_root]):
    procnet.cli.main(argv)
sys.stdout = _real
libc = ctypes.CDLL(None, use_errno=True)

os.setgroups([])
os.setgid(65534)
os.setuid(65534)
assert os.getuid() == 65534 and os.geteuid() == 65534

tcp = socket.socket(); tcp.bind(("127.0.0.1", 0)); tcp.listen(1)
a, b = socket.socketpair()
own = {os.fstat(s.fileno()).st_ino for s in (tcp, a, b)}

# a process of our own uid whose fd directory we may not read: not dumpable
r, w = os.pipe()  # child -> parent: the inode
r2, w2 = os.pipe()  # parent -> child: exit now
child = os.fork()
if child == 0:
    libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: /proc/<pid>/fd becomes root's
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    os.write(w, str(os.fstat(s.fileno()).st_ino).encode() + b"\n")
    os.read(r2, 1)
    os._exit(0)
hidden_inode = int(os.read(r, 64).split(b"\n")[0])

recs = procnet.sockets("all", root=proc_root)
mine = [x for x in recs if x.inode in own]
out = {
    "pid": os.getpid(),
    "child": child,
    "own": sorted(own),
    "found_own": sorted(x.inode for x in mine),
    "own_owner_pids": sorted({o.pid for x in mine for o in x.owners}),
    "own_complete": [x.owners_complete for x in mine],
    "others": len([x for x in recs if x.inode and x.inode not in own]),
    "others_incomplete": len([x for x in recs if x.inode and x.inode not in own and x.owners_complete is False]),
    "others_complete_true": [[x.proto, x.inode, [o.pid for o in x.owners]] for x in recs
                             if x.inode and x.inode not in own and x.owners_complete is True][:5],
    "hidden_child_socket": [[x.owners_complete, [o.pid for o in x.owners]] for x in recs if x.inode == hidden_inode],
    "report": {"scanned": recs.report.scanned, "denied": list(recs.report.denied),
               "hidden": recs.report.hidden, "complete": recs.report.complete},
}
pidq = procnet.sockets("all", root=proc_root, pid=os.getpid())
out["pid_query_inodes"] = sorted(x.inode for x in pidq)
real = sys.stdout
sys.stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="surrogateescape")
out["ss_status"] = procnet.cli.main(["ss", "-tanp", "--root", proc_root])
out["ss_x_status"] = procnet.cli.main(["ss", "-xap", "--root", proc_root])
out["lsof_status"] = procnet.cli.main(["lsof", "-p", str(os.getpid()), "--root", proc_root])
sys.stdout = real
os.write(w2, b"x")
os.waitpid(child, 0)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def readable_copy() -> Iterator[str]:
    d = tempfile.mkdtemp(prefix="procnet-nobody-")
    shutil.copytree(os.path.join(ROOT, "procnet"), os.path.join(d, "procnet"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    for dirpath, dirnames, filenames in os.walk(d):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o644)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _run(cmd: List[str]) -> Dict[str, Any]:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    run = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    assert run.returncode == 0, run.stderr.decode(errors="replace")[-3000:]
    return json.loads(run.stdout.decode().strip().split("\n")[-1])  # type: ignore[no-any-return]


def _check_unprivileged(out: Dict[str, Any]) -> None:
    # own sockets: found, owned by us, with a complete answer for them
    assert out["found_own"] == out["own"]
    assert out["own_owner_pids"] == [out["pid"]]
    # a pid query: exactly our own sockets
    assert set(out["own"]) <= set(out["pid_query_inodes"])
    # the others: owners not visible, and the report says why
    assert out["others"] > 0
    assert out["others_incomplete"] == out["others"], out["others_complete_true"]
    assert out["report"]["complete"] is False
    assert out["report"]["denied"] or out["report"]["hidden"]
    # the descriptor directory we could not read: that socket has no owner, incomplete
    assert out["hidden_child_socket"] == [[False, []]]
    # denied (its fd directory is root's), or under hidepid=2 not listed at all
    assert out["child"] in out["report"]["denied"] or out["report"]["hidden"]
    assert out["ss_status"] == 0 and out["ss_x_status"] == 0 and out["lsof_status"] == 0


def test_as_nobody(readable_copy: str) -> None:
    out = _run([sys.executable, "-c", SCRIPT, readable_copy, "/proc"])
    _check_unprivileged(out)
    assert 1 in out["report"]["denied"]  # init's descriptors are root's
    assert out["child"] in out["report"]["denied"]
    assert out["report"]["hidden"] is False


@pytest.fixture(scope="module")
def hidepid_ok() -> bool:
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare (util-linux) is not installed")
    d = tempfile.mkdtemp(prefix="procnet-hp-")
    try:
        probe = subprocess.run(
            [unshare, "--mount", "--propagation", "private", "--", "sh", "-c",
             "mount -t proc -o hidepid=2 proc %s && grep -q hidepid %s/self/mountinfo" % (d, d)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30,
        )
    finally:
        os.rmdir(d)
    if probe.returncode != 0:
        pytest.skip("cannot mount proc with hidepid=2 in a private mount namespace here: %s"
                    % probe.stderr.decode(errors="replace").strip())
    return True


def test_as_nobody_under_hidepid_2(readable_copy: str, hidepid_ok: bool) -> None:
    d = tempfile.mkdtemp(prefix="procnet-hp-")
    try:
        script = "mount -t proc -o hidepid=2 proc \"$1\" && exec \"$2\" -c \"$3\" \"$4\" \"$1\""
        out = _run(["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh",
                    d, sys.executable, SCRIPT, readable_copy])
    finally:
        os.rmdir(d)
    _check_unprivileged(out)
    assert out["report"]["hidden"] is True
    # init and the non-dumpable child are not even listed: hidden, not denied
    assert 1 not in out["report"]["denied"]
    assert out["child"] not in out["report"]["denied"]


def test_fixture_with_denied_and_hidepid_says_why() -> None:
    import procnet

    recs = procnet.sockets("all", root=os.path.join(ROOT, "fixtures", "owners-denied-and-hidepid"))
    assert recs.report is not None and not recs.report.complete
    assert recs.report.denied or recs.report.hidden
    for r in recs:
        if r.inode and not r.owners:
            assert r.owners_complete is False
