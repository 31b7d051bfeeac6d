"""procnet lsof next to the real lsof 4.95, for what goes wrong and for -s: each command
line is run by both (procnet as a process: ``python -m procnet lsof``), and their stdout,
the messages on stderr after the program name (``lsof: `` / ``procnet lsof: ``) and the
exit status must be the same. Skipped, with the reason, where lsof 4.95 is not installed.

lsof follows a message about an argument with its usage block (its version, its web
addresses); procnet writes one line in its place (``HELP_HINT``), which is not compared.
The sockets and directories are this test's own: a child process on loopback, a
directory under tmp_path, and every listing is limited to that child (``-a -p``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from typing import Dict, Iterator, List, Tuple

import pytest

from procnet.cli import lsof

LSOF = shutil.which("lsof")
TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _lsof_version() -> str:
    if LSOF is None:
        return ""
    res = subprocess.run([LSOF, "-v"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=20)
    return res.stdout


pytestmark = pytest.mark.skipif(
    "revision: 4.95." not in _lsof_version(),
    reason="the real lsof 4.95 is not installed: these tests compare procnet lsof with it",
)

Outcome = Tuple[int, str, List[str]]


def _outcome(argv: List[str], prefix: str, cwd: str) -> Outcome:
    env = dict(os.environ, PYTHONPATH=TOP)
    res = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120, cwd=cwd,
                         env=env)
    messages = [line[len(prefix):] for line in res.stderr.split("\n") if line.startswith(prefix)]
    assert "Traceback" not in res.stderr
    return res.returncode, res.stdout, messages


def both(args: List[str], cwd: str) -> Tuple[Outcome, Outcome]:
    """(lsof's, procnet's): exit status, stdout, messages."""
    assert LSOF is not None
    theirs = _outcome([LSOF, *args], "lsof: ", cwd)
    ours = _outcome([sys.executable, "-m", "procnet", "lsof", *args], "procnet lsof: ", cwd)
    return theirs, ours


CHILD = r"""
import os, socket, sys, time
os.chdir(sys.argv[1])
held = [open(path) for path in sys.argv[2:]]
lst = socket.socket(); lst.bind(("127.0.0.1", 0)); lst.listen(8)
client = socket.create_connection(lst.getsockname()); server, _ = lst.accept()
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.bind(("127.0.0.1", 0))
peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); peer.bind(("127.0.0.1", 0)); peer.connect(udp.getsockname())
sys.stdout.write("%d\n" % lst.getsockname()[1]); sys.stdout.flush()
sys.stdin.read()
"""


@pytest.fixture(scope="module")
def child(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, str]]:
    """A process on loopback: a TCP listener, an established pair, a bound and a connected
    UDP socket; its cwd is ``DIR/sub/deeper`` of a directory made for it, and it holds
    ``DIR/file`` and ``DIR/sub/deeper/inner`` open (``DIR/sub/unheld`` it does not)."""
    top = tmp_path_factory.mktemp("lsof-dirs")
    deeper = top / "sub" / "deeper"
    deeper.mkdir(parents=True)
    (top / "file").write_text("x")
    (deeper / "inner").write_text("xy")
    (top / "sub" / "unheld").write_text("")
    # a descriptor with a number in every listing: lsof sizes its FD column by them
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(deeper), str(top / "file"), str(deeper / "inner")],
                            stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().strip()
        yield {"pid": str(proc.pid), "port": port, "dir": str(top), "cwd": str(deeper)}
    finally:
        proc.kill()
        proc.wait()


# -- arguments lsof refuses, files it cannot find ------------------------------------------------

REFUSED = [
    ["-i", ":abc"],
    ["-i:abc"],
    ["-iTCP:abc"],
    ["-i", "badspec"],
    ["-i", "/tmp/x"],
    ["-i", "SCTP:1"],
    ["-i", "TCP:22x"],
    ["-i", ":22,,80"],
    ["-i", "@"],
    ["-i", "4@[::1]"],
    ["-i", "6@127.0.0.1"],
    ["-u", "nosuchuser"],
    ["-u", "nosuch1,^nosuch2"],
    ["-i", ":abc", "-u", "nosuchuser"],
    ["-sTCP:FOO"],
    ["-sUDP:Idle", "-i"],
    ["-sSCTP:LISTEN"],
    ["-sTCP:LISTEN,,X"],
    ["-sTCP:LISTEN,LISTEN"],
    ["-sTCP:^LISTEN", "-sTCP:LISTEN"],
    ["+D"],
    ["+D", "/no/such/dir"],
    ["+d", "/etc/hostname"],
]


@pytest.mark.parametrize("args", REFUSED, ids=" ".join)
def test_a_refused_argument_has_lsofs_message_and_status(args: List[str], tmp_path: "os.PathLike[str]") -> None:
    theirs, ours = both(args, str(tmp_path))
    assert theirs[0] == 1 and theirs[2]  # lsof refuses it
    assert ours == theirs


@pytest.mark.parametrize("args", [["/no/such/file"], [""], ["-p", "1", "/no/such/file"]], ids=repr)
def test_a_path_that_does_not_exist(args: List[str], tmp_path: "os.PathLike[str]") -> None:
    theirs, ours = both(args, str(tmp_path))
    assert theirs[0] == 1 and theirs[2][0].startswith("status error on ")
    assert ours == theirs


def test_a_port_above_65535_matches_nothing(child: Dict[str, str], tmp_path: "os.PathLike[str]") -> None:
    theirs, ours = both(["-a", "-p", child["pid"], "-i", ":99999"], str(tmp_path))
    assert theirs == (1, "", [])
    assert ours == theirs


def test_a_missing_path_beside_a_found_one(child: Dict[str, str]) -> None:
    inner = os.path.join(child["cwd"], "inner")
    theirs, ours = both(["-a", "-p", child["pid"], "/no/such", inner], child["dir"])
    assert theirs[0] == 1 and inner in theirs[1]
    assert ours == theirs


def test_a_path_nobody_has_open_beside_one_held(child: Dict[str, str]) -> None:
    held, unheld = os.path.join(child["dir"], "file"), os.path.join(child["dir"], "sub", "unheld")
    theirs, ours = both(["-a", "-p", child["pid"], held, unheld], child["dir"])
    assert theirs[0] == 1 and held in theirs[1]  # every file is a search item, even under -a
    assert ours == theirs
    theirs, ours = both(["-a", "-p", child["pid"], held, os.path.join(child["cwd"], "inner")], child["dir"])
    assert theirs[0] == 0 and ours == theirs


# -- +d / +D ------------------------------------------------------------------------------------


@pytest.mark.parametrize("option, where", [("+D", "dir"), ("+d", "dir"), ("+d", "cwd"), ("+D", "cwd")])
def test_directories(child: Dict[str, str], option: str, where: str) -> None:
    theirs, ours = both(["-a", "-p", child["pid"], option, child[where]], child["dir"])
    if (option, where) == ("+D", "dir"):
        assert child["cwd"] in theirs[1] and "inner" in theirs[1]  # the whole tree
    if (option, where) == ("+d", "dir"):
        assert "inner" not in theirs[1] and "file" in theirs[1]  # one level
    if where == "dir":
        assert theirs[0] == 1  # the directory itself, or DIR/sub/unheld, is open nowhere
    assert ours == theirs


def test_a_relative_directory(child: Dict[str, str]) -> None:
    theirs, ours = both(["-a", "-p", child["pid"], "+D", "sub"], child["dir"])
    assert "inner" in theirs[1]
    assert ours == theirs


def test_a_directory_nobody_has_open(tmp_path: "os.PathLike[str]") -> None:
    empty = os.path.join(str(tmp_path), "empty")
    os.mkdir(empty)
    theirs, ours = both(["+D", empty], str(tmp_path))
    assert theirs == (1, "", [])
    assert ours == theirs


# -- -s -------------------------------------------------------------------------------------------

STATES = [
    ["-iTCP", "-sTCP:LISTEN"],
    ["-iTCP", "-sTCP:^LISTEN"],
    ["-i", "-sTCP:LISTEN,ESTABLISHED"],
    ["-i", "-sTCP:^LISTEN,ESTABLISHED"],
    ["-i", "-sTCP:LISTEN,SYN_SENT"],  # a state no socket is in: exit status 1
    ["-iUDP", "-sTCP:CLOSE"],  # UDP's states in TCP's names
    ["-iUDP", "-s", "TCP:^close"],
    ["-i", "-sTCP:LISTEN", "-sTCP:^ESTABLISHED"],
    ["-s", "-i"],  # -s alone: SIZE, no offsets
    ["-i", "-s"],
    ["-s", "-d", "0-20"],  # sizes of regular files, none for pipes and sockets
    ["-s"],
    ["-t", "-iTCP", "-sTCP:LISTEN"],
]


@pytest.mark.parametrize("args", STATES, ids=" ".join)
def test_state_filters(child: Dict[str, str], args: List[str], tmp_path: "os.PathLike[str]") -> None:
    argv = ["-a", "-p", child["pid"], "-P", "-n", *args]
    theirs, ours = both(argv, str(tmp_path))
    assert theirs[1] or theirs[0] == 1
    assert ours == theirs


def test_the_usual_way_to_ask_who_listens(child: Dict[str, str], tmp_path: "os.PathLike[str]") -> None:
    theirs, ours = both(["-iTCP:%s" % child["port"], "-sTCP:LISTEN", "-P", "-n"], str(tmp_path))
    assert theirs[0] == 0 and theirs[1].count("\n") == 2 and "(LISTEN)" in theirs[1]
    assert ours == theirs


# -- in process, where the hint stands for lsof's usage block -------------------------------------


def test_the_hint_follows_a_refusal_and_only_a_refusal(tmp_path: "os.PathLike[str]") -> None:
    import io

    out, err = io.StringIO(), io.StringIO()
    assert lsof.run(["-i", ":abc"], out, err) == 1
    assert err.getvalue() == "procnet lsof: unknown service abc in: -i :abc\n" + lsof.HELP_HINT
    out, err = io.StringIO(), io.StringIO()
    assert lsof.run([os.path.join(str(tmp_path), "nothing")], out, err) == 1
    assert err.getvalue().endswith(": No such file or directory\n") and lsof.HELP_HINT not in err.getvalue()


def test_a_listener_is_found_by_state_in_process() -> None:
    import io

    with socket.socket() as lst:
        lst.bind(("127.0.0.1", 0))
        lst.listen(1)
        port = lst.getsockname()[1]
        out, err = io.StringIO(), io.StringIO()
        assert lsof.run(["-iTCP:%d" % port, "-sTCP:LISTEN", "-Pn"], out, err) == 0
        assert out.getvalue().count("(LISTEN)") == 1
        out, err = io.StringIO(), io.StringIO()
        assert lsof.run(["-iTCP:%d" % port, "-sTCP:^LISTEN", "-Pn"], out, err) == 1
        assert out.getvalue() == ""
