"""procnet lsof's whole rows: TYPE, DEVICE, SIZE/OFF, NODE, thread rows (TID, TASKCMD),
netlink and packet sockets, anonymous inodes' names, and the rule that decides what may
be stat()ed (never a file on a network or FUSE mount, never anything of a capture).

Three kinds of test: tables and properties for the pure pieces; fixture proc trees, where
nothing is stat()ed and every cell comes from the tree's text; and a process this module
starts (files, a FIFO, a socketpair, an eventfd, an epoll, a deleted file, mapped files,
threads, netlink and packet sockets...) listed by procnet and by the real lsof 4.95, row
for row and byte for byte.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from typing import Any, Dict, Iterator, List, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lsof_compare import Comparison, split_rows
from procnet._proc import ProcFS
from procnet.cli import lsof
from procnet.cli import _lsof_rows
from procnet.cli._lsof_mounts import parse_mountinfo
from procnet.cli._lsof_rows import Lister, _offset_text, _task_name, anon_inode_name
from procnet.cli._lsof_sockets import parse_netlink, parse_packet
from procnet.cli._lsof_stat import (
    LOCAL_FS_TYPES,
    NETWORK_FS_TYPES,
    StatPolicy,
    is_local_fstype,
    lsof_type,
)
from procnet.cli.render import format_lsof_table

LSOF = shutil.which("lsof")
LIVE = os.path.exists("/proc/self/fdinfo")
SETTINGS = settings(max_examples=200, deadline=None)


def run_lsof(*args: str) -> Tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = lsof.run(list(args), out, err)
    return rc, out.getvalue(), err.getvalue()


def real_lsof(*args: str) -> Tuple[int, str]:
    assert LSOF is not None
    run = subprocess.run([LSOF] + list(args), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=120)
    return run.returncode, run.stdout.decode("utf-8", "surrogateescape")


# -- which file systems may be stat()ed -----------------------------------------------------


@pytest.mark.parametrize("fstype", sorted(NETWORK_FS_TYPES) + ["fuse.sshfs", "fuse.glusterfs", "fuseblk", "fuse.rclone"])
def test_network_and_fuse_file_systems_are_never_local(fstype: str) -> None:
    assert not is_local_fstype(fstype)


@pytest.mark.parametrize("fstype", ["ext4", "xfs", "btrfs", "tmpfs", "overlay", "proc", "devpts", "sockfs", "pipefs"])
def test_disk_memory_and_kernel_file_systems_are_local(fstype: str) -> None:
    assert is_local_fstype(fstype)


@given(st.text(max_size=20))
@SETTINGS
def test_an_unknown_type_is_not_local(fstype: str) -> None:
    assert is_local_fstype(fstype) == (fstype in LOCAL_FS_TYPES)
    assert not is_local_fstype("fuse." + fstype)
    assert not (LOCAL_FS_TYPES & NETWORK_FS_TYPES)


MOUNTINFO = (
    b"27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
    b"40 27 0:52 / /mnt/nfs rw,relatime - nfs4 srv:/export rw,vers=4.2\n"
    b"41 27 0:53 / /mnt/ssh rw - fuse.sshfs me@host:/ rw\n"
    b"42 27 0:54 / /mnt/odd rw - newfs none rw\n"
    b"43 27 0:25 / /tmp rw - tmpfs tmpfs rw\n"
)


@pytest.mark.parametrize("target,mnt_id,allowed", [
    ("/home/a", 27, True),           # ext4
    ("/tmp/a", 43, True),            # tmpfs
    ("/mnt/nfs/a", 40, False),       # nfs4
    ("/mnt/ssh/a", 41, False),       # fuse.sshfs
    ("/mnt/odd/a", 42, False),       # a type procnet does not know
    ("/gone/a", 99, False),          # a mount in no mountinfo (detached): not stat()ed
    ("/memfd:x (deleted)", 0, True),  # the internal tmpfs, learnt from procnet's own memfd
    ("/a", None, False),             # no fdinfo
    ("pipe:[12]", None, True),       # d_dname text: a pseudo file system of the kernel
    ("socket:[34]", 99, True),
    ("anon_inode:[eventfd]", 17, True),
])
def test_a_descriptor_is_stat_ed_only_on_a_local_mount(target: str, mnt_id: Any, allowed: bool) -> None:
    policy = StatPolicy(internal_mounts=[0], internal_devices=["0,1"], own_view="mnt:[1]")
    assert policy.descriptor(target, mnt_id, parse_mountinfo(MOUNTINFO)) is allowed


@pytest.mark.parametrize("device,allowed", [("254,0", True), ("0,25", True), ("0,52", False), ("0,53", False),
                                            ("0,54", False), ("0,1", True), ("8,1", False)])
def test_a_mapped_file_is_stat_ed_only_on_a_local_device(device: str, allowed: bool) -> None:
    policy = StatPolicy(internal_mounts=[0], internal_devices=["0,1"], own_view="mnt:[1]")
    assert policy.device(device, parse_mountinfo(MOUNTINFO)) is allowed


def test_cwd_is_stat_ed_by_its_mount_only_when_the_paths_compare() -> None:
    policy = StatPolicy(own_view="mnt:[1]")
    mounts = parse_mountinfo(MOUNTINFO)
    assert policy.path("/home", mounts, "mnt:[1]", "/")
    assert not policy.path("/mnt/nfs/dir", mounts, "mnt:[1]", "/")
    # another mount namespace, or a chroot: its paths and mount points are not ours
    assert not policy.path("/home", mounts, "mnt:[2]", "/")
    assert not policy.path("/home", mounts, "mnt:[1]", "/srv/jail")
    # every mount local: nothing can block, whatever the namespace
    local = parse_mountinfo(b"27 1 254:0 / / rw - ext4 /dev/vda rw\n")
    assert policy.path("/anything", local, "mnt:[2]", "/srv/jail")
    assert not policy.path("/anything", {}, "mnt:[1]", "/")


# -- the pure pieces of a row -----------------------------------------------------------------


@pytest.mark.parametrize("mode,anon,mqueue,text", [
    (stat.S_IFREG | 0o644, False, False, "REG"), (stat.S_IFDIR | 0o755, False, False, "DIR"),
    (stat.S_IFCHR | 0o666, False, False, "CHR"), (stat.S_IFBLK | 0o660, False, False, "BLK"),
    (stat.S_IFIFO | 0o600, False, False, "FIFO"), (stat.S_IFLNK | 0o777, False, False, "LINK"),
    (0o600, True, False, "a_inode"), (0o600, False, False, "0000"),
    (stat.S_IFREG | 0o600, False, True, "PSXMQ"),
])
def test_type_names_are_lsofs(mode: int, anon: bool, mqueue: bool, text: str) -> None:
    assert lsof_type(mode, anon_inode=anon, mqueue=mqueue) == text


@pytest.mark.parametrize("pos,text", [(0, "0t0"), (99999999, "0t99999999"), (100000000, "0x5f5e100"),
                                      (2**63 - 1, "0x7fffffffffffffff"), (None, "")])
def test_offsets_are_decimal_up_to_8_digits_then_hex(pos: Any, text: str) -> None:
    assert _offset_text(pos) == text


@given(st.integers(min_value=0, max_value=2**64 - 1))
@SETTINGS
def test_an_offset_reads_back(pos: int) -> None:
    text = _offset_text(pos)
    assert int(text[2:], 10 if text.startswith("0t") else 16) == pos and len(text) <= 18


@pytest.mark.parametrize("rest,fdinfo,name", [
    ("[eventfd]", b"pos:\t0\nflags:\t02\neventfd-count:  0\neventfd-id: 12\n", "[eventfd:12]"),
    ("[pidfd]", b"pos:\t0\nPid:\t4242\nNSpid:\t4242\n", "[pidfd:4242]"),
    ("[pidfd]", b"pos:\t0\nPid:\t-1\n", "[pidfd]"),  # the process is gone
    ("[eventpoll]", b"tfd:        9 events: 19\ntfd:        3 events: 19\ntfd: 12 events: 1\n", "[eventpoll:3,9,12]"),
    ("[eventpoll]", b"pos:\t0\n", "[eventpoll]"),
    ("[eventpoll]", b"".join(b"tfd: %d events: 1\n" % i for i in range(40, 0, -1)),
     "[eventpoll:%s...]" % ",".join(str(i) for i in range(9, 41))),  # the first 32 read, sorted
    ("[timerfd]", b"eventfd-id: 3\n", "[timerfd]"),
    ("inotify", b"inotify wd:1 ino:2 sdev:3\n", "inotify"),
])
def test_anonymous_inode_names_take_lsofs_ids_from_fdinfo(rest: str, fdinfo: bytes, name: str) -> None:
    assert anon_inode_name(rest, fdinfo) == name


@given(st.sampled_from(["[eventfd]", "[pidfd]", "[eventpoll]", "x"]), st.binary(max_size=300))
@SETTINGS
def test_anonymous_inode_names_never_fail(rest: str, fdinfo: bytes) -> None:
    name = anon_inode_name(rest, fdinfo)
    assert name == rest or (name.startswith(rest[:-1] + ":") and name.endswith("]"))


@pytest.mark.parametrize("line,name", [
    (b"4243 (worker 1) S 1 4242 4242 0 -1 0\n", "worker 1"),
    (b"4243 (a) b) R 1 2 3\n", "a) b"),
    (b"4244 (gone) Z 1 4242 4242\n", None),  # a zombie thread: lsof leaves it out
    (b"", None), (b"4243 noparen S\n", None), (b"4243 (x)\n", None),
])
def test_thread_names_and_zombies(line: bytes, name: Any) -> None:
    assert _task_name(line) == name


@given(st.binary(max_size=200))
@SETTINGS
def test_thread_stat_lines_never_fail(data: bytes) -> None:
    name = _task_name(data)
    assert name is None or isinstance(name, str)


NETLINK = (b"sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode\n"
           b"0000000000000000 0   1152       00000000 0        0        0     2        0        501 \n"
           b"0000000000000000 15  0          00000001 0        0        0     2        0        502 \n"
           b"0000000000000000 31  7          00000000 0        0        0     2        0        503 \n"
           b"garbage\n")
PACKET = (b"sk               RefCnt Type Proto  Iface R Rmem   User   Inode\n"
          b"0000000000000000 3      3    0003   2     1 0      0      601\n"
          b"0000000000000000 2      2    86dd   0     0 0      0      602\n"
          b"0000000000000000 2      2    1234   0     0 0      0      603\n"
          b"0000000000000000 2      2    zzzz   0     0 0      0      604\n")


def test_netlink_and_packet_tables_give_lsofs_cells() -> None:
    nl = parse_netlink(NETLINK)
    assert [(nl[i].type, nl[i].device, nl[i].node, nl[i].name) for i in (501, 502, 503)] == [
        ("netlink", "", "501", "ROUTE"), ("netlink", "", "502", "KOBJECT_UEVENT"),
        ("netlink", "", "503", "unknown protocol: 31")]
    pk = parse_packet(PACKET)
    assert sorted(pk) == [601, 602, 603]
    assert [(pk[i].device, pk[i].node, pk[i].name) for i in (601, 602, 603)] == [
        ("601", "ALL", "type=SOCK_RAW"), ("602", "IPV6", "type=SOCK_DGRAM"), ("603", "4660", "type=SOCK_DGRAM")]


@given(st.binary(max_size=400))
@SETTINGS
def test_socket_tables_never_fail(data: bytes) -> None:
    for parse in (parse_netlink, parse_packet):
        for inode, row in parse(b"header\n" + data).items():
            assert row.type in ("netlink", "pack") and len(row.node) <= max(7, len(str(inode)))


@pytest.mark.parametrize("family,local,remote,state,byteorder,name", [
    (2, ("0.0.0.0", 1), ("0.0.0.0", 0), 7, "little", "00000000:0001->00000000:0000 st=07"),
    (2, ("127.0.0.1", 255), ("10.0.0.2", 0), 1, "little", "0100007F:00FF->0200000A:0000 st=01"),
    (2, ("127.0.0.1", 255), ("10.0.0.2", 0), 1, "big", "7F000001:00FF->0A000002:0000 st=01"),
    (10, ("::1", 58), ("::", 0), 7, "little",
     "00000000000000000000000001000000:003A->00000000000000000000000000000000:0000 st=07"),
])
def test_raw_socket_names_are_the_tables_text(family: int, local: Any, remote: Any, state: int, byteorder: str,
                                              name: str) -> None:
    import ipaddress
    from types import SimpleNamespace

    ep = lambda pair: SimpleNamespace(ip=ipaddress.ip_address(pair[0]), port=pair[1])  # noqa: E731
    rec = SimpleNamespace(family=family, local=ep(local), remote=ep(remote), state=state)
    assert _lsof_rows.raw_name(rec, byteorder) == name  # type: ignore[arg-type]


def test_thread_columns_laid_out_as_lsof_4_95_prints_them() -> None:
    # lines of a real lsof 4.95 listing (a process, then one of its threads)
    base = {"command": "memfd:sea", "pid": "4749", "user": "root", "mode": "", "lock": "", "type": "DIR",
            "device": "254,0", "size_off": "4096", "node": "2", "name": "/"}
    rows = [dict(base, fd="cwd", tid="", taskcmd=""), dict(base, fd="cwd", tid="7681", taskcmd="memfd:sealed")]
    assert format_lsof_table(rows, command_width=9) == (
        "COMMAND    PID  TID TASKCMD   USER  FD   TYPE DEVICE SIZE/OFF NODE NAME\n"
        "memfd:sea 4749                root cwd    DIR  254,0     4096    2 /\n"
        "memfd:sea 4749 7681 memfd:sea root cwd    DIR  254,0     4096    2 /\n")
    # no thread among the rows: no TID, no TASKCMD
    assert "TID" not in format_lsof_table(rows[:1], command_width=9)


# -- a fixture proc tree: every cell from its text, nothing stat()ed ---------------------------

PID, TID, ZOMBIE = 4242, 4243, 4244


def _write(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def _process_dir(d: str, ident: int, name: bytes, state: bytes = b"S") -> None:
    _write(os.path.join(d, "comm"), name + b"\n")
    _write(os.path.join(d, "status"), b"Name:\tx\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n")
    _write(os.path.join(d, "stat"), b"%d (%s) %s 1 %d %d 0 -1 0\n" % (ident, name, state, PID, PID))
    _write(os.path.join(d, "mountinfo"), b"8 1 254:0 / / rw - ext4 /dev/vda rw\n")
    _write(os.path.join(d, "maps"), b"00400000-00401000 r-xp 00000000 fe:00 11 /usr/bin/x\n"
                                    b"7f00-7f01 rw-s 00000000 fe:00 77 /tmp/gone (deleted)\n")
    fdinfo = {
        3: b"pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1039\neventfd-count: 0\neventfd-id: 7\n",
        4: b"pos:\t0\nflags:\t02\nmnt_id:\t15\nino:\t1039\ntfd:        9 events: 19\ntfd:        5 events: 19\n",
        5: b"pos:\t123456789\nflags:\t0100002\nmnt_id:\t8\nino:\t300\n",
        6: b"pos:\t0\nflags:\t02\nmnt_id:\t9\nino:\t900\n",
        7: b"pos:\t0\nflags:\t02\nmnt_id:\t9\nino:\t901\n",
    }
    for fd, data in fdinfo.items():
        _write(os.path.join(d, "fdinfo", str(fd)), data)
    links = {"fd/3": "anon_inode:[eventfd]", "fd/4": "anon_inode:[eventpoll]", "fd/5": "/var/big",
             "fd/6": "socket:[900]", "fd/7": "socket:[901]", "cwd": "/", "root": "/", "exe": "/usr/bin/x",
             "ns/mnt": "mnt:[4026531832]"}
    for name, target in links.items():
        os.makedirs(os.path.dirname(os.path.join(d, name)), exist_ok=True)
        os.symlink(target, os.path.join(d, name))


@pytest.fixture()
def tree(tmp_path: Any) -> str:
    root = str(tmp_path / "proc")
    _write(os.path.join(root, "procnet-manifest.json"), b'{"byteorder": "little", "kernel": "fixture"}\n')
    _write(os.path.join(root, "net", "netlink"), NETLINK.replace(b" 501 ", b" 900 "))
    _write(os.path.join(root, "net", "packet"), PACKET.replace(b" 601", b" 901"))
    _write(os.path.join(root, "net", "unix"), b"Num       RefCount Protocol Flags    Type St Inode Path\n")
    process = os.path.join(root, str(PID))
    _process_dir(process, PID, b"x")
    _process_dir(os.path.join(process, "task", str(PID)), PID, b"x")
    _process_dir(os.path.join(process, "task", str(TID)), TID, b"w 1")
    _process_dir(os.path.join(process, "task", str(ZOMBIE)), ZOMBIE, b"gone", b"Z")
    return root


def test_a_tree_lists_threads_after_their_process_when_nothing_is_selected(tree: str) -> None:
    rc, out, err = run_lsof("--root", tree, "-n", "-P")
    assert rc == 0, err
    rows = split_rows(out)
    assert out.startswith("COMMAND  PID  TID TASKCMD USER   FD ")
    assert {r[2] for r in rows} == {"", str(TID)}  # the zombie thread is left out, as lsof does
    main = [r[5:] for r in rows if r[2] == ""]
    thread = [r[5:] for r in rows if r[2] == str(TID)]
    assert main == thread and len(main) == 9  # cwd rtd txt DEL 3-7
    assert {r[3] for r in rows if r[2]} == {"w\\x201"}  # TASKCMD escaped as COMMAND is
    # -p selects: lsof lists no thread then
    rc, out, _ = run_lsof("--root", tree, "-n", "-P", "-p", str(PID))
    assert rc == 0 and "TID" not in out.split("\n")[0] and len(split_rows(out)) == 9


def test_a_tree_gives_every_cell_from_its_text(tree: str) -> None:
    rc, out, err = run_lsof("--root", tree, "-n", "-P", "-p", str(PID))
    assert rc == 0, err
    cells = {r[5] + r[6]: r[8:] for r in split_rows(out)}
    assert cells["3u"] == ("a_inode", "", "0", "1039", "[eventfd:7]")
    assert cells["4u"] == ("a_inode", "", "0", "1039", "[eventpoll:5,9]")
    assert cells["5u"] == ("unknown", "254,0", "0x75bcd15", "300", "/var/big")  # not stat()ed: no size
    assert cells["6u"] == ("netlink", "", "0t0", "900", "ROUTE")
    assert cells["7u"] == ("pack", "901", "0t0", "ALL", "type=SOCK_RAW")
    # a deleted mapping: lsof's DEL row, REG with the device and inode of maps and no size
    assert cells["DEL"] == ("REG", "254,0", "", "77", "/tmp/gone")
    assert cells["txt"] == ("REG", "254,0", "", "11", "/usr/bin/x")


def test_nothing_of_a_capture_is_stat_ed(tree: str, monkeypatch: Any) -> None:
    called: List[str] = []
    monkeypatch.setattr(_lsof_rows, "stat_path", lambda path: called.append(path) or (None, ""))
    monkeypatch.setattr(_lsof_rows, "sockprotoname", lambda path: called.append(path))
    assert run_lsof("--root", tree)[0] == 0
    assert Lister(ProcFS(tree)).policy() is None and called == []


# -- live: a process this module starts, listed by procnet and by lsof 4.95 --------------------

HOLDER = r"""
import mmap, os, select, socket, sys, threading
d = sys.argv[1]
keep = []
f = open(os.path.join(d, "data.txt"), "w+b"); f.write(b"x" * 5000); f.flush(); f.seek(1234); keep.append(f)
r = open(os.path.join(d, "data.txt"), "rb"); r.seek(10); keep.append(r)
keep.append(os.open(d, os.O_RDONLY | os.O_DIRECTORY))
os.mkfifo(os.path.join(d, "fifo")); keep.append(os.open(os.path.join(d, "fifo"), os.O_RDWR))
a, b = socket.socketpair(); keep += [a, b]
if hasattr(os, "eventfd"):
    keep.append(os.eventfd(0))
g = open(os.path.join(d, "gone.txt"), "w+b"); g.write(b"y" * 300); g.flush(); os.unlink(g.name); keep.append(g)
m = open(os.path.join(d, "mapped.bin"), "w+b"); m.write(b"z" * 8192); m.flush(); keep.append(mmap.mmap(m.fileno(), 8192)); m.close()
m = open(os.path.join(d, "mapped-gone.bin"), "w+b"); m.write(b"z" * 4096); m.flush()
keep.append(mmap.mmap(m.fileno(), 4096)); os.unlink(m.name); m.close()
keep.append(os.open("/dev/null", os.O_WRONLY))
ep = select.epoll(); ep.register(a.fileno(), select.EPOLLIN); keep.append(ep)
nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0); keep.append(nl)
bound = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 15); bound.bind((0, 0)); keep.append(bound)
for family, kind in ((getattr(socket, "AF_PACKET", -1), socket.SOCK_DGRAM),):
    try:
        keep.append(socket.socket(family, kind, 0))
    except (OSError, ValueError):
        pass
for family, proto in ((socket.AF_INET, socket.IPPROTO_RAW), (socket.AF_INET6, socket.IPPROTO_ICMPV6)):
    try:
        keep.append(socket.socket(family, socket.SOCK_RAW, proto))  # root only
    except OSError:
        pass
if hasattr(os, "memfd_create"):
    keep.append(os.memfd_create("procnet-test"))
big = open(os.path.join(d, "big.bin"), "w+b"); big.truncate(300000000); big.seek(200000000); keep.append(big)
if hasattr(os, "pidfd_open"):
    keep.append(os.pidfd_open(os.getpid()))
t = socket.socket(); t.bind(("127.0.0.1", 0)); t.listen(1); keep.append(t)
stop = threading.Event()
threads = [threading.Thread(target=stop.wait, name="worker%d" % i) for i in range(3)]
for th in threads:
    th.start()
sys.stdout.write("%d\n" % os.getpid()); sys.stdout.flush()
sys.stdin.read()
stop.set()
"""


@pytest.fixture(scope="module")
def holder() -> Iterator[Dict[str, Any]]:
    if not LIVE:
        pytest.skip("needs a live Linux /proc")
    d = tempfile.mkdtemp(prefix="procnet-rows-")
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, d], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            cwd=d)
    try:
        assert proc.stdout is not None
        pid = int(proc.stdout.readline())
        yield {"pid": pid, "dir": d}
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(d, ignore_errors=True)


needs_lsof = pytest.mark.skipif(LSOF is None, reason="lsof is not installed")


@needs_lsof
@pytest.mark.live
def test_a_process_is_listed_byte_for_byte_as_lsof_lists_it(holder: Dict[str, Any]) -> None:
    args = ["-p", str(holder["pid"])]
    rc, ours, err = run_lsof(*args)
    theirs_rc, theirs = real_lsof(*args)
    assert rc == theirs_rc == 0, err
    compared = Comparison(split_rows(theirs), split_rows(ours))
    assert compared.report(show=10) == "identical rows: %d of lsof's %d (procnet printed %d)\n" \
        "lsof rows procnet lacks: 0; procnet rows lsof lacks: 0\n" % ((len(compared.theirs),) * 3)
    assert ours == theirs
    types = {r[8] for r in split_rows(ours)}
    assert {"REG", "DIR", "FIFO", "CHR", "unix", "a_inode", "netlink", "sock", "IPv4"} <= types
    assert os.geteuid() != 0 or {"raw", "raw6", "pack"} <= types


@needs_lsof
@pytest.mark.live
def test_threads_are_listed_byte_for_byte_as_lsof_lists_them(holder: Dict[str, Any]) -> None:
    """A process and its threads as procnet lists them when nothing is selected, and as
    lsof lists them then; ``lsof -a -K -p PID`` prints the same rows for one process
    (the whole listing, with every other process, is too slow for a test)."""
    pid = holder["pid"]
    rows = Lister(ProcFS(), threads=True).process_rows(pid)
    out = io.StringIO()
    lsof.print_table(rows, out)
    rc, theirs = real_lsof("-a", "-K", "-p", str(pid))
    assert rc == 0 and out.getvalue() == theirs
    tids = sorted({r[2] for r in split_rows(theirs)})
    assert len(tids) == 4 and tids[0] == "" and all(r[3] for r in split_rows(theirs) if r[2])  # 3 named threads


@pytest.mark.live
def test_nothing_on_a_network_mount_is_stat_ed(holder: Dict[str, Any], monkeypatch: Any) -> None:
    """The holder's files, seen through a mountinfo where every mount is nfs4: no stat()
    of a descriptor naming a path, of cwd, root, exe, or of a mapped file; pipes, sockets
    and anonymous inodes (the kernel's own file systems) still are."""
    pid = holder["pid"]
    fs = ProcFS()
    with fs.process(pid) as proc:
        real = proc.read("mountinfo")
    as_nfs = b"\n".join(_as_nfs(line) for line in real.split(b"\n"))
    called: List[str] = []

    def record(path: str) -> Any:
        called.append(path)
        return _lsof_stat_path(path)

    monkeypatch.setattr(_lsof_rows, "stat_path", record)
    lister = Lister(fs)
    monkeypatch.setattr(lister, "mounts", lambda proc: parse_mountinfo(as_nfs))
    rows = lister.process_rows(pid)
    assert called, "the pipes, sockets and anonymous inodes are stat()ed"
    for path in called:
        assert "/fd/" in path, path  # not cwd, root, exe, map_files/...
        target = os.readlink(path)
        assert not target.startswith("/") or target.startswith("/memfd:"), target
    data = [r for r in rows if r.name.endswith("/data.txt")]
    assert data and all(r.type == "unknown" and r.size_off.startswith("0t") for r in data)
    assert any(r.type == "FIFO" and r.device for r in rows)


def _as_nfs(line: bytes) -> bytes:
    fields = line.split(b" ")
    if b"-" in fields[6:]:
        fields[fields.index(b"-", 6) + 1] = b"nfs4"
    return b" ".join(fields)


_lsof_stat_path = _lsof_rows.stat_path


def _as_nobody() -> None:
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)


def _python_for_nobody() -> str:
    for exe in (sys.executable, "/usr/bin/python3"):
        try:
            done = subprocess.run([exe, "-c", "import procnet"], preexec_fn=_as_nobody, timeout=60,
                                  env=dict(os.environ, PYTHONPATH=ROOT), cwd="/", stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        except OSError:
            continue
        if done.returncode == 0:
            return exe
    pytest.skip("no interpreter the user nobody may run")
    raise AssertionError  # not reached


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@needs_lsof
@pytest.mark.live
@pytest.mark.skipif(not LIVE or os.geteuid() != 0, reason="needs root, to become another user")
def test_a_user_without_privileges_sees_its_process_as_lsof_shows_it() -> None:
    """Without root, ``map_files/`` is refused: a mapped file is stat()ed by its path (on
    a local mount of the mapping's own device), as lsof stat()s it."""
    python = _python_for_nobody()
    d = tempfile.mkdtemp(prefix="procnet-nobody-")
    os.chmod(d, 0o777)
    proc = subprocess.Popen([python, "-c", HOLDER, d], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=d,
                            preexec_fn=_as_nobody)
    try:
        assert proc.stdout is not None
        pid = proc.stdout.readline().strip().decode()
        env = dict(os.environ, PYTHONPATH=ROOT)
        ours = subprocess.run([python, "-m", "procnet", "lsof", "-p", pid], preexec_fn=_as_nobody, env=env, cwd=d,
                              stdout=subprocess.PIPE, timeout=120).stdout.decode("utf-8", "surrogateescape")
        theirs = subprocess.run([LSOF or "lsof", "-p", pid], preexec_fn=_as_nobody, cwd=d, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, timeout=120).stdout.decode("utf-8", "surrogateescape")
        assert ours == theirs
        mem = [r for r in split_rows(ours) if r[5] == "mem"]
        assert mem and all(r[8] == "REG" and r[10].isdigit() for r in mem)  # sizes: stat()ed by path
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(d, ignore_errors=True)


@pytest.mark.live
def test_the_librarys_socket_queries_stat_no_target(holder: Dict[str, Any], monkeypatch: Any) -> None:
    """Only ``procnet lsof`` stat()s (what its policy allows): the queries and the owner
    scan never follow a descriptor's link (they lstat the link itself, at most)."""
    import procnet
    from procnet._owners import scan

    followed: List[str] = []
    real = os.stat

    def spy(path: Any, *args: Any, dir_fd: Any = None, follow_symlinks: bool = True) -> Any:
        if follow_symlinks and (dir_fd is not None or "/fd/" in str(path) or "map_files" in str(path)):
            followed.append(str(path))
        return real(path, *args, dir_fd=dir_fd, follow_symlinks=follow_symlinks)

    monkeypatch.setattr(os, "stat", spy)
    assert procnet.sockets("all", pid=holder["pid"])
    procnet.sockets("all")
    scan(ProcFS(), inodes=None, pids=[holder["pid"]], threads=True, details=True)
    assert followed == []
    Lister(ProcFS()).process_rows(holder["pid"])
    assert any("/fd/" in path for path in followed)  # the spy sees what procnet lsof stat()s
