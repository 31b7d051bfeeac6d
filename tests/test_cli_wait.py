"""``procnet wait TARGET``: the targets it reads, its options, its output and exit statuses."""

from __future__ import annotations

import io
import os
import re
import socket
import threading
import uuid
from typing import Any, Iterator, List, Optional, Tuple

import pytest

from conftest import fixture_dir
from procnet.cli.wait import UsageError, parse_args, parse_target, run

LIMIT = "30"  # seconds: the -t of every live wait expected to succeed


def _run(*argv: str) -> Tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = run(list(argv), out, err)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def listener() -> Iterator[Tuple[socket.socket, int]]:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    yield s, s.getsockname()[1]
    s.close()


# -- targets --------------------------------------------------------------------------------
@pytest.mark.parametrize("target,udp,expected", [
    (":8080", False, (8080, None, None)),
    ("8080", False, (8080, None, None)),
    ("*:22", False, (22, None, None)),
    ("127.0.0.1:80", False, (80, ("127.0.0.1",), None)),
    ("[::1]:443", False, (443, ("::1",), None)),
    ("::1:443", False, (443, ("::1",), None)),
    ("localhost:5432", False, (5432, ("127.0.0.1", "::1"), None)),
    (":http", False, (80, None, None)),
    (":domain", True, (53, None, None)),
    ("/run/app.sock", False, (None, None, "/run/app.sock")),
    ("./app.sock", False, (None, None, "./app.sock")),
    ("@name:with:colons", False, (None, None, "@name:with:colons")),
])
def test_targets(target: str, udp: bool, expected: Tuple[Optional[int], Any, Optional[str]]) -> None:
    assert parse_target(target, udp) == expected


@pytest.mark.parametrize("target,text", [
    (":0", "out of range"),
    (":65536", "out of range"),
    (":", "unknown port ''"),
    (":no-such-service-here", "unknown port"),
    ("example.com:80", "not a numeric address"),
    ("", "TARGET is empty"),
])
def test_bad_targets_say_what_to_write(target: str, text: str) -> None:
    with pytest.raises(UsageError, match=text):
        parse_target(target, False)


# -- options ------------------------------------------------------------------------------------
def test_options() -> None:
    o = parse_args(["-u", "-6", "-t", "2.5", "-v", "--root=/x", ":53"])
    assert (o.proto, o.timeout, o.verbose, o.quiet, o.root, o.port) == ("udp6", 2.5, True, False, "/x", 53)
    o = parse_args(["--timeout=0", "-q", "-4", "--", "8080"])
    assert (o.proto, o.timeout, o.quiet, o.port) == ("tcp4", 0.0, True, 8080)
    assert parse_args(["/run/x.sock"]).timeout is None  # waits for ever by default


@pytest.mark.parametrize("argv,text", [
    ([], "give one TARGET"),
    ([":1", ":2"], "give one TARGET"),
    (["-x", ":1"], "unknown option '-x'"),
    (["-t"], "-t needs a value"),
    (["-t", "soon", ":1"], "-t takes a number of seconds"),
    (["-t", "-1", ":1"], "-t takes a number of seconds"),
    (["-t", "inf", ":1"], "-t takes a number of seconds"),
    (["-4", "-6", ":1"], "exclude each other"),
    (["-u", "/run/x.sock"], "unix TARGET"),
])
def test_usage_errors_exit_2_with_one_line(argv: List[str], text: str) -> None:
    status, out, err = _run(*argv)
    assert (status, out) == (2, "")
    assert err.startswith("procnet wait: ") and text in err and err.count("\n") == 1


def test_help() -> None:
    status, out, err = _run("--help")
    assert status == 0 and out.startswith("usage: procnet wait") and err == ""


# -- running --------------------------------------------------------------------------------------
@pytest.mark.live
def test_quiet_by_default_and_exit_0(listener: Tuple[socket.socket, int]) -> None:
    assert _run("-t", LIMIT, ":%d" % listener[1]) == (0, "", "")


@pytest.mark.live
def test_verbose_prints_the_socket_as_one_line(listener: Tuple[socket.socket, int]) -> None:
    s, port = listener
    status, out, err = _run("-v", "-t", LIMIT, "127.0.0.1:%d" % port)
    assert (status, err) == (0, "")
    assert re.fullmatch(r'tcp LISTEN 127\.0\.0\.1:%d users:\(.*\("[^"]+",pid=%d,fd=%d\).*\)\n'
                        % (port, os.getpid(), s.fileno()), out), out


@pytest.mark.live
def test_a_listener_started_later(listener: Tuple[socket.socket, int]) -> None:
    s = socket.socket(socket.AF_UNIX)
    name = "@procnet-cli-wait-%s" % uuid.uuid4().hex
    s.bind("\0" + name[1:])
    timer = threading.Timer(0.1, lambda: s.listen(1))
    timer.start()
    try:
        status, out, _ = _run("-v", "-t", LIMIT, name)
    finally:
        timer.join()
        s.close()
    assert status == 0 and out.startswith("u_str LISTEN %s users:(" % name)


@pytest.mark.live
def test_timeout_exits_1_with_the_reason(listener: Tuple[socket.socket, int]) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]  # bound, not listening
        status, out, err = _run("-t", "0.05", ":%d" % port)
        assert (status, out) == (1, "")
        assert err == "procnet wait: no tcp socket listening on port %d within 0.05 s\n" % port
        assert _run("-q", "-t", "0", ":%d" % port) == (1, "", "")
        assert _run("-u", "-t", "0", ":%d" % listener[1])[0] == 1  # a TCP listener is no UDP socket


def test_fixture_tree_through_root() -> None:
    status, out, _ = _run("-v", "-t", "0", "--root", fixture_dir("owners-forked-listener"), ":8080")
    assert status == 0
    assert out == 'tcp LISTEN 127.0.0.1:8080 users:(("nginx",pid=102,fd=3),("nginx",pid=101,fd=3),("nginx",pid=100,fd=3))\n'


def test_a_root_that_cannot_be_read_exits_1() -> None:
    status, out, err = _run("-t", "0", "--root", "/nonexistent-procnet-root", ":80")
    assert (status, out) == (1, "") and err.startswith("procnet wait: ") and err.count("\n") == 1


@pytest.mark.live
def test_an_unwritable_stdout_is_one_line_and_status_1(listener: Tuple[socket.socket, int]) -> None:
    err = io.StringIO()
    full = open("/dev/full", "w")
    try:
        status = run(["-v", "-t", LIMIT, ":%d" % listener[1]], full, err)
    finally:
        try:
            full.close()  # flushes what is still buffered: fails again
        except OSError:
            pass
    assert status == 1 and err.getvalue().startswith("procnet wait: cannot write") and err.getvalue().count("\n") == 1
