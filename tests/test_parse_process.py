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


# -- status: the NSpid line -----------------------------------------------------------


@SETTINGS
@given(st.binary())
def test_nspid_gives_ids_or_parse_error(data: bytes) -> None:
    try:
        ids = P.status_nspids(data)
    except ParseError:
        return
    assert ids is None or (ids and all(i >= 0 for i in ids))


def test_nspid_lists_the_pid_from_the_mounts_namespace_down() -> None:
    assert P.status_nspids(STATUS + b"NStgid:\t4242\nNSpid:\t4242\nNSpgid:\t4242\n") == (4242,)
    assert P.status_nspids(b"Name:\tsh\nNSpid:\t81213\t17\t1\n") == (81213, 17, 1)
    assert P.status_nspids(STATUS) is None  # before 4.1, or no CONFIG_PID_NS
    with pytest.raises(ParseError) as info:
        P.status_nspids(b"Name:\tsh\nNSpid:\t12\tx\n", path="/proc/12/status")
    assert info.value.lineno == 2


# -- mountinfo: which proc mount serves the root ---------------------------------------

from procnet._parse import mountinfo as M  # noqa: E402

# A second proc instance mounted over /proc (systemd ProtectProc=invisible): same mount
# point, its own device, listed after the one it covers.
MOUNTINFO_TWO_PROCS = (
    "21 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "22 21 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
    "23 22 0:50 / /proc/sys/fs/binfmt_misc rw,relatime shared:30 - binfmt_misc binfmt_misc rw\n"
    "95 22 0:48 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw,hidepid=invisible\n"
    "96 21 0:48 / /srv/proc\\040copy rw master:7 propagate_from:2 - proc none rw,hidepid=invisible\n"
)


def test_the_mount_serving_the_root_is_found_by_its_device_not_its_mount_point() -> None:
    assert M.proc_mount_options(MOUNTINFO_TWO_PROCS, (0, 48)) == ["rw", "hidepid=invisible"]
    assert M.proc_mount_options(MOUNTINFO_TWO_PROCS, (0, 21)) == ["rw"]
    assert M.proc_mount_options(MOUNTINFO_TWO_PROCS, (0, 50)) is None  # not proc
    assert M.proc_mount_options(MOUNTINFO_TWO_PROCS, (0, 99)) is None


def test_mountinfo_fields() -> None:
    mounts = M.parse_mountinfo(MOUNTINFO_TWO_PROCS)
    assert [m.mount_id for m in mounts] == [21, 22, 23, 95, 96]
    copy = mounts[-1]
    assert (copy.parent_id, copy.major, copy.minor, copy.root) == (21, 0, 48, "/")
    assert copy.mount_point == "/srv/proc copy"  # \040: seq_path's escape of a space
    assert copy.tags == ("master:7", "propagate_from:2") and mounts[3].tags == ()
    assert (copy.fstype, copy.source, copy.super_options) == ("proc", "none", ("rw", "hidepid=invisible"))


@pytest.mark.parametrize(
    "line, reason",
    [
        ("22 21 0:21 / /proc rw shared:12 proc proc rw", "separator"),
        ("22 21 0:21 / /proc rw - proc proc", "got 2 fields"),
        ("22 21 0:21 / /proc rw - proc proc rw extra", "got 4 fields"),
        ("22 21 021 / /proc rw - proc proc rw", "major:minor"),
        ("x 21 0:21 / /proc rw - proc proc rw", "mount id"),
        ("22 21 0:21 /proc - proc proc rw", "separator"),  # a field missing before the separator
    ],
)
def test_bad_mountinfo_line_is_a_parse_error_naming_it(line: str, reason: str) -> None:
    text = "22 27 0:21 / /proc rw - proc proc rw\n" + line + "\n"
    with pytest.raises(ParseError) as info:
        M.proc_mount_options(text, (0, 21), path="/proc/self/mountinfo")
    assert (info.value.path, info.value.lineno) == ("/proc/self/mountinfo", 2)
    assert reason in info.value.reason


_PATH_CHARS = st.text(st.sampled_from("abc/ \t\n\\-:,0"), min_size=0, max_size=12)


def _mangle(path: str) -> str:
    """seq_path's escaping of space, tab, newline and backslash."""
    return "".join("\\%03o" % ord(c) if c in " \t\n\\" else c for c in path)


@st.composite
def mount_lines(draw: st.DrawFn) -> tuple:
    dev = (draw(st.integers(0, 3)), draw(st.integers(0, 5)))
    fstype = draw(st.sampled_from(["proc", "tmpfs", "ext4", "fuse.sshfs"]))
    point = "/" + draw(_PATH_CHARS)
    tags = draw(st.lists(st.sampled_from(["shared:1", "master:2", "propagate_from:3", "unbindable"]), max_size=3))
    opts = draw(st.lists(st.sampled_from(["rw", "ro", "hidepid=2", "hidepid=invisible", "gid=5", "subset=pid"]),
                         min_size=1, max_size=3))
    source = draw(st.sampled_from(["proc", "none", "-", "", "/dev/sda1"]))
    line = " ".join(["%d" % draw(st.integers(1, 999)), "%d" % draw(st.integers(0, 999)), "%d:%d" % dev, "/",
                     _mangle(point), "rw,relatime"] + tags + ["-", fstype, _mangle(source), ",".join(opts)])
    return dev, fstype, point, tuple(tags), source, tuple(opts), line


@SETTINGS
@given(st.lists(mount_lines(), max_size=8), st.tuples(st.integers(0, 3), st.integers(0, 5)))
def test_proc_mount_options_is_the_last_proc_line_of_the_device(lines: list, device: tuple) -> None:
    """Property: whatever the mounts (paths with escaped spaces, tabs, newlines and
    backslashes, tags, a source "-"), every line parses back to its fields, and the
    options given for a device are those of the last proc line with that device."""
    text = "".join(line[-1] + "\n" for line in lines)
    mounts = M.parse_mountinfo(text)
    assert [(m.major, m.minor) for m in mounts] == [line[0] for line in lines]
    assert [(m.fstype, m.mount_point, m.tags, m.source, m.super_options) for m in mounts] == [line[1:6] for line in lines]
    expected = None
    for dev, fstype, _, _, _, opts, _ in lines:
        if dev == device and fstype == "proc":
            expected = list(opts)
    assert M.proc_mount_options(text, device) == expected


@SETTINGS
@given(st.text(max_size=300))
def test_mountinfo_gives_mounts_or_parse_error(text: str) -> None:
    try:
        M.proc_mount_options(text, (0, 21))
    except ParseError:
        pass
