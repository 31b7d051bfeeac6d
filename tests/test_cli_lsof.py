"""procnet lsof: the -i parser (with property tests), maps/mountinfo reading, and live rows
compared with the real lsof (skipped where lsof is missing)."""

from __future__ import annotations

import io
import ipaddress
import json
import shutil
import subprocess
from typing import Any, Dict, List, Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st

from procnet.cli import lsof
from procnet.cli.lsof import InetSpec, format_inet_spec, parse_inet_spec

from test_cli_ss import population  # noqa: F401  (the shared loopback population fixture)

LSOF = shutil.which("lsof")


def run_lsof(*args: str) -> "tuple[int, str, str]":
    out, err = io.StringIO(), io.StringIO()
    rc = lsof.run(list(args), out, err)
    return rc, out.getvalue(), err.getvalue()


def real_lsof(*args: str) -> "tuple[int, str]":
    assert LSOF is not None
    res = subprocess.run([LSOF, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=60)
    return res.returncode, res.stdout


# -- -i ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, spec", [
    ("", InetSpec(None, None, None, None)),
    ("4", InetSpec(4, None, None, None)),
    ("6TCP", InetSpec(6, "tcp", None, None)),
    (":22", InetSpec(None, None, None, ((22, 22),))),
    ("udp@127.0.0.1:53", InetSpec(None, "udp", "127.0.0.1", ((53, 53),))),
    ("@[::1]:1-1024,8080", InetSpec(None, None, "::1", ((1, 1024), (8080, 8080)))),
    ("TCP:ssh", InetSpec(None, "tcp", None, ((22, 22),))),
    ("@localhost", InetSpec(None, None, "localhost", None)),
])
def test_inet_spec_examples(text: str, spec: InetSpec) -> None:
    assert parse_inet_spec(text, service_port=lambda n, p: {"ssh": 22}.get(n)) == spec


@pytest.mark.parametrize("text", ["SCTP:1", "@[::1", ":", ":9-3", "4@[::1]", "6@127.0.0.1", "@", ":nosuchsvc", "TCP:22x"])
def test_inet_spec_errors_say_what_to_write(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_inet_spec(text, service_port=lambda n, p: None)
    assert "-i " + text in str(info.value)


ports = st.lists(st.tuples(st.integers(0, 65535), st.integers(0, 65535)).map(lambda t: (min(t), max(t))),
                 min_size=1, max_size=4).map(tuple)
hosts = st.one_of(
    st.none(),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str),
    st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z][a-z0-9-]{0,10}){0,2}", fullmatch=True),
)


@given(st.sampled_from([None, 4, 6]), st.sampled_from([None, "tcp", "udp"]), hosts, st.one_of(st.none(), ports))
def test_inet_spec_round_trips(version: Optional[int], proto: Optional[str], host: Optional[str], p: Any) -> None:
    if host is not None and version is not None:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            ip = None
        if ip is not None and ip.version != version:
            version = ip.version
    spec = InetSpec(version, proto, host, p)
    assert parse_inet_spec(format_inet_spec(spec)) == spec


@given(st.text(max_size=30))
def test_inet_spec_parser_raises_only_value_error(text: str) -> None:
    try:
        spec = parse_inet_spec(text, service_port=lambda n, p: None)
    except ValueError:
        return
    assert isinstance(spec, InetSpec)


def test_combined_flags_and_attached_values() -> None:
    o = lsof.parse_args(["-nPi:80", "-p1,^2", "-a", "-u", "root"])
    assert o.numeric_hosts and o.numeric_ports and o.and_
    assert o.inet == (InetSpec(None, None, None, ((80, 80),)),)
    assert o.pids == {1} and o.not_pids == {2} and o.users == {"root"}


def test_bare_i_before_a_path_keeps_the_path() -> None:
    o = lsof.parse_args(["-i", "--", "/tmp/x"])
    assert o.inet == (InetSpec(None, None, None, None),) and o.paths == ("/tmp/x",)


def test_usage_errors_exit_2_with_a_hint() -> None:
    rc, _, err = run_lsof("-Z")
    assert rc == 2 and "procnet lsof takes" in err
    rc, _, err = run_lsof("-p", "abc")
    assert rc == 2 and "-p 1234" in err


# -- maps and mountinfo ------------------------------------------------------------------


def test_maps_keep_first_file_mapping_and_mark_deleted() -> None:
    data = (b"00400000-00452000 r-xp 00000000 fe:00 26723 /usr/bin/python3\n"
            b"00651000-00652000 r--p 00051000 fe:00 26723 /usr/bin/python3\n"
            b"7f00-7f01 rw-s 00000000 00:01 1234 /SYSV00000000 (deleted)\n"
            b"7f02-7f03 rw-p 00000000 00:00 0 [heap]\n"
            b"7f04-7f05 r--p 00000000 fe:00 99 /tmp/a b\n")
    assert lsof.parse_maps(data) == [
        lsof.MapEntry("254,0", 26723, "/usr/bin/python3", False, "00400000-00452000"),
        lsof.MapEntry("0,1", 1234, "/SYSV00000000", True, "7f00-7f01"),
        lsof.MapEntry("254,0", 99, "/tmp/a b", False, "7f04-7f05"),
    ]


def test_mountinfo_devices_types_and_longest_prefix() -> None:
    data = (b"27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
            b"30 27 0:24 / /tmp rw - tmpfs tmpfs rw\n"
            b"31 27 0:25 / /dev/pts rw - devpts devpts rw\n"
            b"32 27 0:26 / /mnt/a\\040b rw - tmpfs tmpfs rw\n")
    mounts = lsof.parse_mountinfo(data)
    assert mounts[31] == lsof.Mount("0,25", "devpts", "/dev/pts")
    assert mounts[32].point == "/mnt/a b"
    assert lsof.mount_of_path(mounts, "/tmp/x/y").device == "0,24"
    assert lsof.mount_of_path(mounts, "/tmpfoo").device == "254,0"


# -- live: compared with the real lsof -----------------------------------------------------

needs_lsof = pytest.mark.skipif(LSOF is None, reason="lsof is not installed")


def _rows(text: str) -> List[str]:
    return text.splitlines()[1:]


@needs_lsof
@pytest.mark.live
@pytest.mark.parametrize("key", ["tcp4", "tcp6", "udp4"])
def test_inet_port_rows_match_real_lsof(population: Dict[str, Any], key: str) -> None:
    args = ["-i", ":%d" % population[key], "-P", "-n"]
    rc, ours, err = run_lsof(*args)
    theirs_rc, theirs = real_lsof(*args)
    assert rc == theirs_rc == 0, err
    assert ours == theirs
    assert "pid" not in ours and str(population["pid"]) in ours


@needs_lsof
@pytest.mark.live
def test_tcp_and_pid_selection_matches_real_lsof(population: Dict[str, Any]) -> None:
    args = ["-a", "-p", str(population["pid"]), "-i", "TCP", "-P", "-n"]
    rc, ours, _ = run_lsof(*args)
    _, theirs = real_lsof(*args)
    assert rc == 0 and ours == theirs and len(_rows(ours)) == 6


@needs_lsof
@pytest.mark.live
def test_no_match_exits_1_like_lsof() -> None:
    rc, out, _ = run_lsof("-i", ":1", "-P", "-n")
    assert (rc, out) == real_lsof("-i", ":1", "-P", "-n") == (1, "")


@needs_lsof
@pytest.mark.live
def test_terse_pids_match_real_lsof(population: Dict[str, Any]) -> None:
    args = ["-t", "-i", ":%d" % population["tcp4"]]
    assert run_lsof(*args)[1] == real_lsof(*args)[1] == "%d\n" % population["pid"]


def _cells(line: str) -> List[str]:
    return line.split(None, 8)


@needs_lsof
@pytest.mark.live
def test_process_listing_agrees_with_real_lsof(population: Dict[str, Any]) -> None:
    pid = str(population["pid"])
    rc, ours, _ = run_lsof("-p", pid, "-P", "-n")
    _, theirs = real_lsof("-p", pid, "-P", "-n")
    assert rc == 0
    mine = {(c[3], c[-1]) for c in map(_cells, _rows(ours))}
    real = {(c[3], c[-1]) for c in map(_cells, _rows(theirs))}
    # FD column (cwd, rtd, txt, mem..., 3u...) and NAME agree, except unix socket names,
    # which lsof 4.95 cuts at the first blank of the path.
    strip = lambda rows: {r for r in rows if "type=" not in r[1]}
    assert strip(mine) == strip(real)
    fds = [c[3] for c in map(_cells, _rows(ours))]
    assert fds[:3] == ["cwd", "rtd", "txt"] and "mem" in fds
    # inet sockets agree cell for cell (FD TYPE DEVICE SIZE/OFF NODE NAME)
    sock_mine = {tuple(c[3:]) for c in map(_cells, _rows(ours)) if c[4] in ("IPv4", "IPv6")}
    sock_real = {tuple(c[3:]) for c in map(_cells, _rows(theirs)) if c[4] in ("IPv4", "IPv6")}
    assert sock_mine == sock_real and len(sock_mine) == 9
    # pipes: same descriptors, inodes and names (pipefs's device is not in mountinfo)
    pipe = lambda text: {(c[3], c[-2], c[-1]) for c in map(_cells, _rows(text)) if c[4] == "FIFO"}
    assert pipe(ours) == pipe(theirs) and len(pipe(ours)) >= 2


@needs_lsof
@pytest.mark.live
def test_unix_socket_device_is_the_kernel_address_real_lsof_prints(population: Dict[str, Any]) -> None:
    """lsof's DEVICE of a unix socket is the Num column of /proc/net/unix. On the live
    machine procnet reads unix sockets from sock_diag, which has no such address (its
    cookie is another number): the DEVICE must still be the text's."""
    pid = str(population["pid"])
    rc, ours, _ = run_lsof("-p", pid, "-P", "-n")
    _, theirs = real_lsof("-p", pid, "-P", "-n")
    assert rc == 0
    # FD TYPE DEVICE SIZE/OFF NODE of every unix socket (NAME differs: lsof cuts paths)
    unix = lambda text: {tuple(c[3:8]) for c in map(_cells, _rows(text)) if c[4] == "unix"}  # noqa: E731
    assert unix(ours) == unix(theirs) and len(unix(ours)) == 6
    assert all(cells[2].startswith("0x") for cells in unix(ours))


@needs_lsof
@pytest.mark.live
def test_path_selection_finds_file_and_socket_path(population: Dict[str, Any]) -> None:
    rc, out, _ = run_lsof(population["file"], population["space_path"])
    assert rc == 0
    lines = _rows(out)
    assert any(population["file"] in l and str(population["pid"]) in l for l in lines)
    assert any(population["space_path"] + " type=STREAM (LISTEN)" in l for l in lines)
    rc, _, _ = run_lsof(population["dir"] + "/nothing-here")
    assert rc == 1


@needs_lsof
@pytest.mark.live
def test_json_rows_valid_and_complete(population: Dict[str, Any]) -> None:
    rc, out, _ = run_lsof("-p", str(population["pid"]), "--json")
    objs = [json.loads(l) for l in out.splitlines()]
    assert rc == 0 and {o["fd"] for o in objs} >= {"cwd", "rtd", "txt", "3"}
    sock = next(o for o in objs if o["fd"] == "3")
    assert sock["socket"]["local"]["port"] == population["tcp4"] and sock["type"] == "IPv4"


@needs_lsof
@pytest.mark.live
def test_unreadable_descriptors_listed_as_lsof_does() -> None:
    rc, ours, _ = run_lsof("-p", "1")
    _, theirs = real_lsof("-p", "1")
    if "readlink: Permission denied" not in theirs:
        pytest.skip("pid 1's descriptors are readable here")
    assert ours.splitlines()[1:4] == theirs.splitlines()[1:4]


# -- COMMAND: escaped and cut as lsof 4.95 does, so a name cannot pass for columns ----------

NAMED_CHILD = r"""
import os, socket, sys
with open("/proc/self/comm", "wb") as f:
    f.write(bytes.fromhex(sys.argv[1]))
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
sys.stdout.write("%d %d\n" % (os.getpid(), s.getsockname()[1]))
sys.stdout.flush()
sys.stdin.read()
"""

HOSTILE_COMMS = [
    b"sshd 1 root",  # lsof: sshd\x201 (a blank would make "1" the PID column)
    b'x",pid=1,fd=3)',
    "\u200bxy".encode(),
    "\u3164\u3164\u3164".encode(),
    b"\x1b[2Jz\x07",
    b"\\a\x7f\xff",
    "\u00e9".encode(),  # lsof sizes the column by 2 a byte and prints 4: cut to \xc3
    b"a\tb\nc\rd",
]


def _named_process(comm: bytes) -> "tuple[subprocess.Popen[bytes], int, int]":
    import sys

    proc = subprocess.Popen([sys.executable, "-c", NAMED_CHILD, comm.hex()], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    assert proc.stdout is not None
    pid, port = map(int, proc.stdout.readline().split())
    return proc, pid, port


@needs_lsof
@pytest.mark.live
@pytest.mark.parametrize("comm", HOSTILE_COMMS)
def test_command_column_matches_real_lsof_byte_for_byte(comm: bytes) -> None:
    proc, pid, port = _named_process(comm)
    try:
        args = ["-a", "-p", str(pid), "-i", "TCP:%d" % port, "-P", "-n"]
        rc, ours, _ = run_lsof(*args)
        theirs_rc, theirs = real_lsof(*args)
        assert rc == theirs_rc == 0
        assert ours == theirs
        row = ours.splitlines()[1]
        assert row.split()[1] == str(pid)  # the PID is the second word, whatever the name
    finally:
        proc.kill()
        proc.wait()


# -- numbers from the command line and from a bundle: ASCII digits, or a clear refusal -------


@pytest.mark.parametrize("argv, status, lines", [
    (["-p", "\u00b2"], 2, 1), (["-p", "1" * 5000], 2, 1),
    # what lsof itself refuses: its message and the hint line, status 1 (as lsof)
    (["-i:\u0663\u0663"], 1, 2), (["-i:1-\u0663"], 1, 2)])
def test_numbers_that_are_not_ascii_digits_are_usage_errors(argv: List[str], status: int, lines: int) -> None:
    rc, out, err = run_lsof(*argv)
    assert rc == status and out == ""
    assert err.startswith("procnet lsof: ") and err.count("\n") == lines


def test_a_bundles_odd_descriptor_names_and_links_are_listed_not_fatal(tmp_path: Any) -> None:
    from test_cli_escaping import PID, make_bundle

    root = make_bundle(str(tmp_path / "b"), b"x", b"/run/a", b"/tmp/f")
    fd = tmp_path / "b" / str(PID) / "fd"
    (fd / "\u00b2").symlink_to("/tmp/superscript-two")  # "\u00b2".isdigit(), and int() refuses it
    (fd / "7").symlink_to("socket:[\u0663\u0663]")  # Arabic-Indic digits in a socket link
    (fd / "8").symlink_to("pipe:[\x1b[2J]")
    rc, out, err = run_lsof("--root", str(root), "-p", str(PID))
    assert rc == 0, err
    rows = {r.split()[3].rstrip("rwu"): r for r in _rows(out)}  # no fdinfo here: no mode letter
    assert "superscript-two" not in out  # not a descriptor number: not a descriptor
    assert rows["7"].endswith("unknown                                   socket:[\u0663\u0663]")
    assert rows["8"].split()[4:] == ["FIFO", "0t0", "^[[2J", "pipe"] and "\x1b" not in out


# -- -U, -d, -c: the selections of the flag table, compared with the real lsof ----------------


def _comm(pid: int) -> str:
    with open("/proc/%d/comm" % pid) as f:
        return f.read().rstrip("\n")


@needs_lsof
@pytest.mark.live
def test_unix_sockets_of_a_process_match_real_lsof(population: Dict[str, Any]) -> None:
    args = ["-a", "-p", str(population["pid"]), "-U", "-P", "-n"]
    rc, ours, _ = run_lsof(*args)
    theirs_rc, theirs = real_lsof(*args)
    assert rc == theirs_rc == 0
    # FD TYPE DEVICE SIZE/OFF NODE cell for cell; NAME too where the path has no blank
    # (lsof 4.95 cuts a unix path at its first blank)
    cells = lambda text: {tuple(c[3:8]) for c in map(_cells, _rows(text))}  # noqa: E731
    assert cells(ours) == cells(theirs) and len(cells(ours)) == 6
    cut = population["space_path"].split(" ")[0]
    names = lambda text: {c[8] for c in map(_cells, _rows(text)) if not c[8].startswith(cut)}  # noqa: E731
    assert names(ours) == names(theirs) and len(names(ours)) >= 4
    assert {c[4] for c in map(_cells, _rows(ours))} == {"unix"}


@needs_lsof
@pytest.mark.live
def test_descriptor_numbers_and_ranges_match_real_lsof_byte_for_byte(population: Dict[str, Any]) -> None:
    # the population's inet sockets: every cell is what lsof prints
    pid = str(population["pid"])
    sockets = _rows(run_lsof("-a", "-p", pid, "-i", "-P", "-n")[1])
    fds = sorted(int(c[3].rstrip("rwu")) for c in map(_cells, sockets))
    spec = "%d-%d" % (fds[0], fds[-1]) if fds == list(range(fds[0], fds[-1] + 1)) else ",".join(map(str, fds))
    for args in (["-a", "-p", pid, "-d", spec, "-P", "-n"], ["-a", "-p", pid, "-d", str(fds[1]), "-P", "-n"],
                 ["-a", "-d", "%d,%d" % (fds[0], fds[-1]), "-p", pid, "-i", "-P", "-n"]):
        rc, ours, _ = run_lsof(*args)
        theirs_rc, theirs = real_lsof(*args)
        assert (rc, ours) == (theirs_rc, theirs) == (0, theirs), args
    assert len(_rows(run_lsof("-a", "-p", pid, "-d", spec, "-P", "-n")[1])) == len(fds) == 9


@needs_lsof
@pytest.mark.live
def test_descriptor_names_and_exclusions_match_real_lsof(population: Dict[str, Any]) -> None:
    pid = str(population["pid"])
    fd_column = lambda text: [c[3] for c in map(_cells, _rows(text))]  # noqa: E731
    for args in (["-a", "-p", pid, "-d", "cwd,rtd,txt"], ["-a", "-p", pid, "-d", "^0-1000"],
                 ["-a", "-p", pid, "-d", "^cwd,^rtd,^txt,^mem"], ["-a", "-p", pid, "-d", "txt,0-2"]):
        rc, ours, _ = run_lsof(*args)
        theirs_rc, theirs = real_lsof(*args)
        assert rc == theirs_rc == 0, args
        assert fd_column(ours) == fd_column(theirs), args
    assert fd_column(run_lsof("-a", "-p", pid, "-d", "cwd,rtd,txt")[1]) == ["cwd", "rtd", "txt"]


@needs_lsof
@pytest.mark.live
def test_command_names_match_real_lsof(population: Dict[str, Any]) -> None:
    pid = population["pid"]
    prefix = _comm(pid)[:4]
    args = ["-a", "-c", prefix, "-p", str(pid), "-iTCP", "-P", "-n"]
    rc, ours, _ = run_lsof(*args)
    assert (rc, ours) == real_lsof(*args) and len(_rows(ours)) == 6
    # an excluded name: nothing, exit 1, as lsof
    args = ["-a", "-c", "^" + prefix, "-p", str(pid), "-P", "-n"]
    assert run_lsof(*args)[:2] == real_lsof(*args) == (1, "")
    # a name no process has, ORed with a pid: the pid's files, and exit 1 (not located)
    args = ["-c", "nosuchcmd", "-p", str(pid), "-P", "-n"]
    rc, ours, _ = run_lsof(*args)
    theirs_rc, theirs = real_lsof(*args)
    assert rc == theirs_rc == 1
    fd_column = lambda text: [c[3] for c in map(_cells, _rows(text))]  # noqa: E731
    assert fd_column(ours) == fd_column(theirs) and "cwd" in fd_column(ours)
