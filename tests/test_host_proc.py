"""A second mount of the live proc (``/host/proc`` in a container with hostPID and
hostNetwork): sock_diag answers for it as for /proc, so listeners keep their backlog and the
exporter its limits and drops. A capture or fixture tree never counts as live."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import FIXTURES, ROOT
from procnet._proc import ProcFS


@pytest.mark.parametrize("fixture", ["owners-forked-listener", "owners-two-namespaces", "live-loopback-every-kind"])
def test_fixture_trees_do_not_share_the_callers_namespace(fixture: str) -> None:
    assert ProcFS(os.path.join(FIXTURES, fixture)).shares_callers_netns() is False


def test_the_live_proc_does() -> None:
    assert ProcFS().shares_callers_netns() is True


def test_a_tree_whose_self_names_this_process_but_is_no_proc(tmp_path: "os.PathLike[str]") -> None:
    root = str(tmp_path)
    os.symlink(str(os.getpid()), os.path.join(root, "self"))
    os.makedirs(os.path.join(root, str(os.getpid()), "ns"))
    os.symlink("net:[4026531840]", os.path.join(root, str(os.getpid()), "ns", "net"))
    assert ProcFS(root).shares_callers_netns() is False  # the link leads to no nsfs inode


CHILD = r"""
import json, socket, sys
sys.path.insert(0, sys.argv[2])
import procnet
from procnet._query import Query
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(7)
port = s.getsockname()[1]
q = Query("tcp", root=sys.argv[1], state="listen", port=port, owners=False)
recs = list(q.run())
from procnet import exporter
text = exporter.exposition(root=sys.argv[1])
found = procnet.wait_listening(port, root=sys.argv[1], backend="netlink", timeout=5, owners=False)
print(json.dumps({"netlink": q._use_netlink(), "backlog": [r.listen_backlog for r in recs],
                  "wait": found.listen_backlog,
                  "limit": 'port="%d",comm="python' % port in text and "procnet_tcp_listen_queue_limit{" in text,
                  "backend": "backend=\"netlink\"" in text}))
"""


@pytest.mark.live
def test_a_second_live_proc_mount_answers_through_sock_diag(tmp_path: "os.PathLike[str]") -> None:
    if shutil.which("unshare") is None:
        pytest.skip("no unshare here")
    mnt = os.path.join(str(tmp_path), "hostproc")
    os.mkdir(mnt)
    script = 'mount -t proc proc "$1" && exec "$2" -c "$3" "$1" "$4"'
    res = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", mnt, sys.executable, CHILD, ROOT],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
    if res.returncode != 0 and ("Operation not permitted" in res.stderr or "permission denied" in res.stderr.lower()):
        pytest.skip("a mount namespace cannot be made here: %s" % res.stderr.strip())
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assert got == {"netlink": True, "backlog": [7], "wait": 7, "limit": True, "backend": True}
