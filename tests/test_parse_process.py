"""procnet._parse.process: fd link targets, fdinfo, comm, cmdline, status, stat, ns links."""

from __future__ import annotations

import os
import stat

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from procnet import ParseError
from procnet._parse import process as P

SETTINGS = settings(max_examples=200, deadline=None)

# fs/proc/fd.c seq_show, as a socket's fdinfo reads on 6.18
FDINFO_SOCKET = b"pos:\t0\nflags:\t02000002\nmnt_id:\t9\nino:\t1609568\n"
# fs/proc/array.c: the Uid: line is real, effective, saved, fs
STATUS = b"Name:\tpython3\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nPid:\t4242\nPPid:\t1\nUid:\t1000\t1001\t1002\t1003\nGid:\t0\t0\t0\t0\n"


def test_socket_inode_from_fd_link() -> None:
    assert P.socket_inode("socket:[1945302]") == 1945302
    for other in ("pipe:[7]", "anon_inode:[eventpoll]", "/dev/null", "socket:[]", "socket:[12]x", "socket:[\u0663]", "socket:[" + "9" * 5000 + "]"):
        assert P.socket_inode(other) is None, other


def test_ns_inode() -> None:
    assert P.ns_inode("net:[4026531840]") == 4026531840
    assert P.ns_inode("net:[x]") is None and P.ns_inode("4026531840") is None


@SETTINGS
@given(st.text())
def test_link_parsers_never_raise(target: str) -> None:
    inode = P.socket_inode(target)
    assert inode is None or target == "socket:[%d]" % inode
    assert P.ns_inode(target) is None or target.endswith("]")


@pytest.mark.parametrize("flags, mode", [(os.O_RDONLY, "r"), (os.O_WRONLY, "w"), (os.O_RDWR, "u"), (0o2000002, "u"), (0o4000, "r")])
def test_mode_from_flags(flags: int, mode: str) -> None:
    assert P.mode_from_flags(flags) == mode


@pytest.mark.parametrize(
    "st_mode, mode",
    [
        (stat.S_IFLNK | 0o500, "r"),
        (stat.S_IFLNK | 0o300, "w"),
        (stat.S_IFLNK | 0o700, "u"),
        (stat.S_IFLNK | 0o777, None),  # an ordinary symlink (a capture): ask fdinfo instead
    ],
)
def test_mode_from_link_mode(st_mode: int, mode: str) -> None:
    assert P.mode_from_link_mode(st_mode) == mode


def test_fdinfo_of_a_socket() -> None:
    info = P.parse_fdinfo(FDINFO_SOCKET)
    assert info["flags"] == "02000002" and info["ino"] == "1609568"
    assert P.fdinfo_flags(FDINFO_SOCKET) == 0o2000002
    assert P.mode_from_flags(P.fdinfo_flags(FDINFO_SOCKET)) == "u"


def test_fdinfo_first_key_wins_and_tails_are_skipped() -> None:
    data = FDINFO_SOCKET + b"tfd:        5 events:       19 data:                5  pos:0 ino:1\nflags:\t01\ninotify wd:1\n"
    assert P.parse_fdinfo(data)["flags"] == "02000002"


def test_fdinfo_without_flags_is_a_parse_error() -> None:
    with pytest.raises(ParseError) as info:
        P.parse_fdinfo(b"pos:\t0\n", path="/proc/1/fdinfo/3")
    assert info.value.path == "/proc/1/fdinfo/3" and "flags" in info.value.reason
    with pytest.raises(ParseError):
        P.fdinfo_flags(b"flags:\t0x9\n")


@SETTINGS
@given(st.binary())
def test_fdinfo_gives_a_dict_or_parse_error(data: bytes) -> None:
    try:
        flags = P.fdinfo_flags(data)
    except ParseError:
        return
    assert flags >= 0


def test_comm_loses_exactly_one_newline() -> None:
    assert P.parse_comm(b"nginx\n") == "nginx"
    assert P.parse_comm(b"a b\n\n") == "a b\n"
    assert os.fsencode(P.parse_comm(b"\xff\xfe\n")) == b"\xff\xfe"


def test_cmdline() -> None:
    assert P.parse_cmdline(b"python3\x00-m\x00procnet\x00") == ("python3", "-m", "procnet")
    assert P.parse_cmdline(b"") == ()
    assert P.parse_cmdline(b"nginx: worker process") == ("nginx: worker process",)  # setproctitle
    assert P.parse_cmdline(b"a\x00\x00b\x00") == ("a", "", "b")


def test_status_uids() -> None:
    assert P.status_uids(STATUS) == (1000, 1001, 1002, 1003)
    assert P.parse_status(STATUS)["Name"] == "python3"


@pytest.mark.parametrize(
    "line",
    [b"Uid:\t1\t2\t3\n", b"Uid:\t1\t2\t3\tx\n", b"Uid:\t1\t2\t3\t\xd9\xa3\n", b"Uid:\t1\t2\t3\t" + b"9" * 5000 + b"\n", b""],
)
def test_bad_status_uids_are_parse_errors(line: bytes) -> None:
    with pytest.raises(ParseError):
        P.status_uids(b"Name:\tx\n" + line, path="/proc/1/status")


@SETTINGS
@given(st.binary())
def test_status_and_stat_give_values_or_parse_error(data: bytes) -> None:
    for fn in (P.status_uids, P.stat_flags):
        try:
            fn(data)
        except ParseError:
            pass


def test_stat_flags_with_parenthesis_in_the_name() -> None:
    data = b"42 (a) b) S 1 42 42 0 -1 4194560 100 0 0 0\n"
    assert P.stat_flags(data) == 4194560
    kthread = b"2 (kthreadd) S 0 0 0 0 -1 2129984 0 0\n"
    assert P.stat_flags(kthread) & P.PF_KTHREAD
    with pytest.raises(ParseError):
        P.stat_flags(b"2 (x) S 0 0 0 0 -1 " + b"9" * 5000 + b"\n")
