"""``procnet ss -N NAME`` (ss's) and ``--netns all|PID`` (procnet's): compared with
``ss -N NAME`` in a namespace made with ``ip netns add`` and deleted at the end."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from typing import Any, Dict, Iterator, List

import pytest

from procnet.cli import ss
from procnet.cli._ss_netns import netns_spec
from procnet.cli._ss_select import UsageError

SS = shutil.which("ss")
IP = shutil.which("ip")


def run_ss(*args: str) -> "tuple[int, str, str]":
    out, err = io.StringIO(), io.StringIO()
    rc = ss.run(list(args), out, err)
    return rc, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("text, spec", [("all", "all"), ("1", 1), ("4242", 4242)])
def test_netns_takes_all_or_a_pid(text: str, spec: Any) -> None:
    assert netns_spec(text) == spec


@pytest.mark.parametrize("text", ["", "0", "-1", "self", "ALL", "1.5", "\u0661"])  # \u0661: a digit, not ASCII
def test_netns_refuses_anything_else(text: str) -> None:
    with pytest.raises(UsageError):
        netns_spec(text)


@pytest.mark.parametrize("argv, says", [
    (["--netns", "x"], "--netns takes 'all' or a process id, not 'x'"),
    (["-N", "a/b"], "-N takes the name of a namespace under /run/netns"),
    (["-N", ".."], "-N takes the name of a namespace under /run/netns"),
    (["-N", "x", "--netns", "1"], "-N NAME and --netns both choose the namespace: give one"),
    (["-N", "x", "--root", "/tmp"], "-N enters a namespace of the running machine"),
])
def test_bad_namespace_choices_are_usage_errors(argv: List[str], says: str) -> None:
    rc, out, err = run_ss(*argv)
    assert rc == 2 and out == "" and err.startswith("procnet ss: " + says)


def test_a_name_that_is_not_there_fails_as_ss_says() -> None:
    rc, out, err = run_ss("-N", "procnet-no-such-namespace", "-t")
    assert (rc, out) == (1, "")
    assert err == 'procnet ss: Cannot open network namespace "procnet-no-such-namespace": No such file or directory\n'


def test_netns_of_a_pid_that_is_not_there_fails() -> None:
    rc, out, err = run_ss("--netns", "999999999", "-t")
    assert rc == 1 and out == "" and "netns=999999999: no such process" in err


# -- live, in a namespace of our own ----------------------------------------------------------

_CHILD = r"""
import socket, sys
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(3)
c = socket.create_connection(l.getsockname()); a, _ = l.accept()
l6 = socket.socket(socket.AF_INET6); l6.bind(("::", 0)); l6.listen(2)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
x = socket.socket(socket.AF_UNIX); x.bind("\0procnet-netns-test"); x.listen(1)
y = socket.socket(socket.AF_UNIX); y.connect("\0procnet-netns-test")
print(l.getsockname()[1], flush=True)
sys.stdin.read()
"""


def _can_make_namespaces() -> bool:
    if IP is None or SS is None or os.geteuid() != 0:
        return False
    probe = subprocess.run([IP, "netns", "list"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return probe.returncode == 0


@pytest.fixture(scope="module")
def named() -> Iterator[Dict[str, Any]]:
    if not _can_make_namespaces():
        pytest.skip("needs root, ip netns and iproute2's ss")
    assert IP is not None
    name = "procnet-test-%d" % os.getpid()
    subprocess.run([IP, "netns", "add", name], check=True)
    child = None
    try:
        subprocess.run([IP, "netns", "exec", name, IP, "link", "set", "lo", "up"], check=True)
        child = subprocess.Popen([IP, "netns", "exec", name, sys.executable, "-c", _CHILD], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None
        port = int(child.stdout.readline())
        inode = os.stat("/run/netns/%s" % name).st_ino
        yield {"name": name, "pid": child.pid, "port": port, "inode": inode}
    finally:
        if child is not None:
            child.kill()
            child.wait()
        subprocess.run([IP, "netns", "del", name], check=True)


def _real(*args: str) -> str:
    assert SS is not None
    return subprocess.run([SS, *args], stdout=subprocess.PIPE, text=True, timeout=20, check=True).stdout


def _cgroups_masked(text: str) -> str:
    """``cgroup:PATH`` as ``cgroup:?``, the column as wide as the widest row. ss -N remounts
    /sys in a mount namespace of its own (netns_switch), which hides a cgroup2 mount under
    /sys/fs/cgroup: it prints ``cgroup:unreachable:<id>`` where procnet prints the path."""
    lines = [re.sub(r" cgroup:\S+", " cgroup:?", line).rstrip(" ") for line in text.split("\n")]
    return "\n".join(lines)


def _same_twice(args: List[str]) -> "tuple[str, str]":
    """Our output and ss's, read until two in a row agree (timers tick between the reads)."""
    ours = theirs = ""
    for _ in range(5):
        rc, ours, err = run_ss(*args)
        assert rc == 0, err
        ours, theirs = _cgroups_masked(ours), _cgroups_masked(_real(*args))
        if ours == theirs:
            break
        time.sleep(0.2)
    return ours, theirs


def _unmoving(summary: str) -> str:
    # TCP's total and closed count come from "TCP: alloc", kept for the whole machine
    return re.sub(r"^TCP:   \d+ \(estab (\d+), closed -?\d+,", r"TCP:   N (estab \1, closed N,", summary, flags=re.M)


@pytest.mark.live
@pytest.mark.parametrize("args", [["-tuanp"], ["-tlne"], ["-xa"], ["-xap"], ["-tuane"], ["-tln6"], ["-tlnm"]])
def test_named_namespace_rows_are_ss_rows(named: Dict[str, Any], args: List[str]) -> None:
    mine = os.readlink("/proc/thread-self/ns/net")
    ours, theirs = _same_twice(["-N", named["name"]] + args)
    if "-x" in args[0]:  # unix rows: procnet sorts them (cli/ss.py), ss lists the kernel's hash order
        ours, theirs = "\n".join(sorted(ours.split("\n"))), "\n".join(sorted(theirs.split("\n")))
    assert ours == theirs
    assert len(ours.splitlines()) >= 2
    assert os.readlink("/proc/thread-self/ns/net") == mine  # the command left ours alone


@pytest.mark.live
def test_named_namespace_summary_is_ss_summary(named: Dict[str, Any]) -> None:
    # "sockets: used" counts a netlink socket until an RCU grace period after its close
    # (an earlier test's, or ss's own): read until both agree
    for _ in range(100):
        rc, ours, err = run_ss("-N", named["name"], "-s")
        assert rc == 0, err
        theirs = _real("-N", named["name"], "-s")
        if _unmoving(ours) == _unmoving(theirs):
            break
        time.sleep(0.1)
    assert _unmoving(ours) == _unmoving(theirs)
    # the child's sockets (5 inet, 3 unix, one not accepted), and a netlink socket of a
    # query now closed that "used" may count a moment longer
    assert "estab 2," in ours and int(ours.split()[1]) >= 8


def _mask_listen_sendq(text: str) -> str:
    """Send-Q of LISTEN rows as 0: the text tables of another namespace have no backlog."""
    return re.sub(r"^(\S+ +LISTEN +\d+ +)\d+ ", lambda m: m.group(1) + "0" + " " * (len(m.group(0)) - len(m.group(1)) - 1),
                  text, flags=re.M)


@pytest.mark.live
def test_netns_pid_reads_that_process_namespace(named: Dict[str, Any]) -> None:
    # ip netns exec runs the child in the namespace (its pid is ip's, which exec'd it)
    rc, ours, err = run_ss("--netns", str(named["pid"]), "-tuanp")
    assert rc == 0, err
    assert _mask_listen_sendq(ours) == _mask_listen_sendq(_real("-N", named["name"], "-tuanp"))
    rc, out, err = run_ss("--netns", str(named["pid"]), "-tan", "--json")
    assert rc == 0, err
    objs = [json.loads(line) for line in out.splitlines()]
    assert objs and {o["netns"] for o in objs} == {named["inode"]}


@pytest.mark.live
def test_netns_all_heads_each_namespace_table(named: Dict[str, Any]) -> None:
    rc, out, err = run_ss("--netns", "all", "-tln", "sport = :%d" % named["port"])
    assert rc == 0, err
    sections = re.split(r"^netns: ", out, flags=re.M)
    assert sections[0] == ""
    ours = [s for s in sections[1:] if s.startswith("net:[%d]\n" % named["inode"])]
    assert len(ours) == 1 and ":%d " % named["port"] in ours[0] and ours[0].count("\n") == 3  # line, header, row
    rc, out, err = run_ss("--netns", "all", "-tan", "--json", "sport = :%d" % named["port"])
    assert rc == 0 and {json.loads(line)["netns"] for line in out.splitlines()} == {named["inode"]}
