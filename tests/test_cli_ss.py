"""procnet ss: option semantics, rendering of hand-built records, and row-by-row agreement
with iproute2's ss on a live loopback population (skipped where ss is missing)."""

from __future__ import annotations

import io
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from typing import Any, Dict, Iterator, List

import pytest

from procnet import InetSocket, Owner, TcpState, Timer, UnixSocket
from procnet._records import Endpoint, SocketStatus, UnixFlag
from procnet.cli import main as cli_main
from procnet.cli import ss

SS = shutil.which("ss")

# -- a bounded population of real sockets, in a child process ended by its pid -------------

LIFETIME = 120

CHILD = r'''
import json, os, socket, sys, time
d = sys.argv[1]
keep = []
def add(s):
    keep.append(s); return s
l4 = add(socket.socket()); l4.bind(("127.0.0.1", 0)); l4.listen(5)
l6 = add(socket.socket(socket.AF_INET6)); l6.bind(("::1", 0)); l6.listen(6)
c4 = add(socket.create_connection(l4.getsockname())); a4, _ = l4.accept(); add(a4)
c4.send(b"hello")
c6 = add(socket.create_connection(l6.getsockname()[:2])); a6, _ = l6.accept(); add(a6)
u4 = add(socket.socket(socket.AF_INET, socket.SOCK_DGRAM)); u4.bind(("127.0.0.1", 0))
uc = add(socket.socket(socket.AF_INET, socket.SOCK_DGRAM)); uc.connect(u4.getsockname())
u6 = add(socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)); u6.bind(("::1", 0))
spath = os.path.join(d, "stream.sock")
xs = add(socket.socket(socket.AF_UNIX)); xs.bind(spath); xs.listen(3)
xc = add(socket.socket(socket.AF_UNIX)); xc.connect(spath); xa, _ = xs.accept(); add(xa)
sp_path = os.path.join(d, "with space.sock")
xsp = add(socket.socket(socket.AF_UNIX)); xsp.bind(sp_path); xsp.listen(1)
abstract = "procnet-test-%d" % os.getpid()
xd = add(socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)); xd.bind("\0" + abstract)
qpath = os.path.join(d, "seq.sock")
xq = add(socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)); xq.bind(qpath); xq.listen(1)
fpath = os.path.join(d, "open file.txt")
f = open(fpath, "w"); f.write("x" * 10); f.flush()
r, w = os.pipe()
print(json.dumps({
    "pid": os.getpid(), "tcp4": l4.getsockname()[1], "tcp6": l6.getsockname()[1],
    "tcp4_client": c4.getsockname()[1], "tcp6_client": c6.getsockname()[1],
    "udp4": u4.getsockname()[1], "udp4_client": uc.getsockname()[1], "udp6": u6.getsockname()[1],
    "stream_path": spath, "space_path": sp_path, "abstract": "@" + abstract, "seq_path": qpath,
    "file": fpath, "dir": d, "file_fd": f.fileno(), "pipe": [r, w],
}), flush=True)
time.sleep(float(sys.argv[2]))
'''


def start_population() -> Dict[str, Any]:
    d = tempfile.mkdtemp(prefix="procnet-cli-")
    proc = subprocess.Popen([sys.executable, "-c", CHILD, d, str(LIFETIME)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    info: Dict[str, Any] = json.loads(proc.stdout.readline())
    info["_proc"] = proc
    return info


def stop_population(info: Dict[str, Any]) -> None:
    proc = info["_proc"]
    try:
        os.kill(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)
    proc.stdout.close()
    for name in os.listdir(info["dir"]):
        os.unlink(os.path.join(info["dir"], name))
    os.rmdir(info["dir"])


@pytest.fixture(scope="module")
def population() -> Iterator[Dict[str, Any]]:
    info = start_population()
    try:
        yield info
    finally:
        stop_population(info)


def run_ss(*args: str) -> "tuple[int, str, str]":
    out, err = io.StringIO(), io.StringIO()
    rc = ss.run(list(args), out, err)
    return rc, out.getvalue(), err.getvalue()


def real_ss(*args: str) -> str:
    assert SS is not None
    return subprocess.run([SS, *args], stdout=subprocess.PIPE, text=True, timeout=20, check=True).stdout


# -- options --------------------------------------------------------------------------------


def selection(*argv: str) -> ss.Selection:
    return ss.select(ss.parse_args(list(argv)))


def test_default_is_connected_sockets_of_every_table() -> None:
    sel = selection()
    assert sel.tables == {"tcp", "udp", "raw", "u_str", "u_dgr", "u_seq"}
    assert TcpState.LISTEN not in sel.states and TcpState.ESTABLISHED in sel.states
    assert TcpState.TIME_WAIT not in sel.states


def test_udp_alone_shows_only_connected_udp() -> None:
    sel = selection("-u")
    assert sel.tables == {"udp"} and sel.states == {TcpState.ESTABLISHED}
    assert sel.protos == ("udp4", "udp6")


def test_listening_flag_means_listen_and_unconnected() -> None:
    assert selection("-tl").states == {TcpState.LISTEN, TcpState.CLOSE}


def test_family_flag_adds_every_inet_table() -> None:
    sel = selection("-4")
    assert sel.tables == {"tcp", "udp", "raw"} and sel.families == {socket.AF_INET}


def test_unix_and_ipv4_list_both_families() -> None:
    sel = selection("-x", "-4")
    assert socket.AF_UNIX in sel.families and socket.AF_INET in sel.families
    assert "tcp" in sel.tables and "u_str" in sel.tables


def test_tcp_ipv6_only() -> None:
    assert selection("-t", "-6").protos == ("tcp6",)


def test_filter_state_clause_replaces_listening_flag() -> None:
    sel = ss.select(ss.parse_args(["-tl"]), frozenset({TcpState.ESTABLISHED}), None)
    assert sel.states == {TcpState.ESTABLISHED}


def test_unknown_option_is_usage_error_with_hint() -> None:
    rc, out, err = run_ss("-q")
    assert rc == 2 and out == ""
    assert "procnet ss --help" in err


def test_unsupported_ss_option_named() -> None:
    rc, _, err = run_ss("-K")
    assert rc == 2 and "does not support ss's -K" in err


def test_bad_filter_points_at_token() -> None:
    rc, _, err = run_ss("-t", "sport", "=", "foo!")
    assert rc == 2
    assert "^" in err and "sport = :22" in err


def test_main_dispatches_and_rejects_unknown_command(capsys: Any) -> None:
    assert cli_main(["nosuch"]) == 2
    assert "write one of: ss, lsof" in capsys.readouterr().err
    assert cli_main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("procnet ")


# -- rendering of records built here ------------------------------------------------------


def inet(state: TcpState, local: str, lport: int, remote: str, rport: int, **kw: Any) -> InetSocket:
    family = socket.AF_INET6 if ":" in local else socket.AF_INET
    base: Dict[str, Any] = dict(
        proto="tcp", family=family, local=Endpoint(ipaddress.ip_address(local), lport),
        remote=Endpoint(ipaddress.ip_address(remote), rport), state=state, tx_queue=0, rx_queue=0,
        timer=Timer.NONE, timer_expires=0, retransmits=0, uid=0, probes=0, inode=1234, refcount=1,
        pointer="0000000000000000", slot=0,
    )
    base.update(kw)
    return InetSocket(**base)


def renderer(*argv: str) -> ss.Renderer:
    return ss.Renderer(ss.parse_args(list(argv)), (32768, 60999), 100)


def test_listener_cells_as_ss_prints_them() -> None:
    rec = inet(TcpState.LISTEN, "0.0.0.0", 22, "0.0.0.0", 0, listen_backlog=128,
               owners=(Owner(10, 3, "u", "sshd"), Owner(11, 3, "u", "sshd")))
    row = renderer("-tlnp").row(rec)
    assert row[:8] == ("tcp", "LISTEN", "0     ", "128   ", "0.0.0.0:", "22", "0.0.0.0:", "*")
    # ss lists a socket's users last-scanned first
    assert renderer("-tlnp").cells(rec)["process"] == 'users:(("sshd",pid=11,fd=3),("sshd",pid=10,fd=3))'


def test_ipv6_bracketed_and_wildcard_star() -> None:
    cells = renderer("-tn").cells(inet(TcpState.ESTABLISHED, "::1", 5000, "::", 0))
    assert cells["local_address"] == "[::1]" and cells["peer_address"] == "*"


def test_service_names_without_n_but_not_ephemeral_ports() -> None:
    r = renderer("-t")
    assert r.port(22, "tcp") == "ssh"
    assert r.port(40000, "tcp") == "40000"  # in ip_local_port_range: ss does not name it
    assert renderer("-tn").port(22, "tcp") == "22"


def test_timer_and_details_as_ss_writes_them() -> None:
    rec = inet(TcpState.ESTABLISHED, "127.0.0.1", 1, "127.0.0.1", 2, timer=Timer.RETRANSMIT,
               timer_expires=120, retransmits=3, uid=1000, inode=99, pointer="00000000000000ff")
    cells = renderer("-tne").cells(rec)
    assert cells["process"] == "timer:(on,1.200ms,3) uid:1000 ino:99 sk:ff"


def test_sk_is_the_cookie_from_sock_diag_and_the_pointer_from_text() -> None:
    # a sock_diag record: no pointer, the cookie, printed as ss prints idiag_cookie (%llx)
    nl = inet(TcpState.ESTABLISHED, "127.0.0.1", 1, "127.0.0.1", 2, inode=99, refcount=None,
              pointer=None, slot=None, cookie=0x4B522)
    assert renderer("-tne").cells(nl)["process"] == "ino:99 sk:4b522"
    # a text record: the pointer column, as ss's /proc reader prints it
    text = inet(TcpState.ESTABLISHED, "127.0.0.1", 1, "127.0.0.1", 2, inode=99, pointer="00000000a89026c7")
    assert renderer("-tne").cells(text)["process"] == "ino:99 sk:a89026c7"
    # neither: no sk: at all rather than a made-up one
    bare = inet(TcpState.ESTABLISHED, "127.0.0.1", 1, "127.0.0.1", 2, inode=99, pointer=None)
    assert renderer("-tne").cells(bare)["process"] == "ino:99"


def test_timer_counter_not_carried_prints_as_zero_not_a_crash() -> None:
    # sock_diag without tcp_info, a timer code this procnet does not know: no counter
    rec = inet(TcpState.ESTABLISHED, "127.0.0.1", 1, "127.0.0.1", 2, timer=Timer(9), timer_expires=100,
               retransmits=None, probes=None, pointer=None, cookie=1)
    assert renderer("-tno").cells(rec)["process"] == "timer:(unknown,1sec,0)"


@pytest.mark.parametrize("ms, text", [(1200, "1.200ms"), (15000, "15sec"), (61000, "1min1sec"),
                                      (600000, "10min"), (250, "250ms"), (0, "")])
def test_ms_timer_matches_ss_print_ms_timer(ms: int, text: str) -> None:
    assert ss.ms_timer(ms) == text


def test_unix_cells_and_control_characters_escaped() -> None:
    rec = UnixSocket(type=socket.SOCK_STREAM, state=TcpState.LISTEN, status=SocketStatus.UNCONNECTED,
                     flags=UnixFlag.ACCEPTCON, refcount=2, inode=77, path="/run/a\nb", pointer="0")
    row = renderer("-xl").row(rec)
    assert row[:8] == ("u_str", "LISTEN", "0     ", "0     ", "/run/a\\x0ab ", "77", "* ", "0")


def test_netid_and_state_columns_appear_only_when_they_vary() -> None:
    cols = ss.columns(selection("-t"))
    assert cols[0].disabled and not cols[1].disabled
    cols = ss.columns(selection("-tu"))
    assert not cols[0].disabled
    cols = ss.columns(selection("-u"))
    assert cols[0].disabled and cols[1].disabled


def test_json_rows_are_valid_and_carry_columns(population: Dict[str, Any]) -> None:
    rc, out, _ = run_ss("-tanp", "--json", "sport = :%d" % population["tcp4"])
    assert rc == 0
    objs = [json.loads(line) for line in out.splitlines()]
    assert objs and all(o["ss"]["local_port"] == str(population["tcp4"]) for o in objs)
    assert {o["state"] for o in objs} == {"LISTEN", "ESTABLISHED"}
    assert any(w["pid"] == population["pid"] for o in objs for w in o["owners"])


# -- live comparison with iproute2's ss ---------------------------------------------------

needs_ss = pytest.mark.skipif(SS is None, reason="iproute2's ss is not installed")


def _mask_listen_sendq(text: str) -> str:
    """Zero the Send-Q of LISTEN rows (ss shows the backlog, which /proc text lacks)."""
    lines = text.split("\n")
    if not lines or "Send-Q" not in lines[0]:
        return text
    pos = lines[0].index("Send-Q")
    out = [lines[0]]
    for line in lines[1:]:
        if " LISTEN " in " " + line[:pos] + " ":
            line = line[:pos] + "0     " + line[pos + 6 :]
        out.append(line)
    return "\n".join(out)


def _backlog_known() -> bool:
    import procnet

    return any(s.listen_backlog is not None for s in procnet.listening("tcp", owners=False))


def _compare(args: List[str], flt: str) -> None:
    rc, ours, err = run_ss(*args, flt)
    assert rc == 0, err
    theirs = real_ss(*args, flt)
    if not _backlog_known():
        theirs, ours = _mask_listen_sendq(theirs), _mask_listen_sendq(ours)
    ours_lines, their_lines = ours.split("\n"), theirs.split("\n")
    assert ours_lines[0] == their_lines[0]  # header: same columns, same widths
    assert sorted(ours_lines[1:]) == sorted(their_lines[1:])
    assert len(ours_lines) > 2


def _ports(info: Dict[str, Any], *keys: str) -> str:
    return " or ".join("sport = :%d" % info[k] for k in keys)


@needs_ss
@pytest.mark.live
@pytest.mark.parametrize("args", [["-tanp"], ["-tan"], ["-tnp"], ["-tanH"], ["-tanpO"]])
def test_tcp_rows_match_real_ss(population: Dict[str, Any], args: List[str]) -> None:
    _compare(args, _ports(population, "tcp4", "tcp6", "tcp4_client", "tcp6_client"))


@needs_ss
@pytest.mark.live
def test_tcp_listeners_match_real_ss(population: Dict[str, Any]) -> None:
    _compare(["-tlnp"], _ports(population, "tcp4", "tcp6"))


@needs_ss
@pytest.mark.live
@pytest.mark.parametrize("args", [["-uanp"], ["-ulnp"], ["-unp"]])
def test_udp_rows_match_real_ss(population: Dict[str, Any], args: List[str]) -> None:
    _compare(args, _ports(population, "udp4", "udp6", "udp4_client"))


@needs_ss
@pytest.mark.live
@pytest.mark.parametrize("args, keys", [(["-tanHe"], ("tcp4", "tcp6", "tcp4_client", "tcp6_client")),
                                        (["-uanHe"], ("udp4", "udp6", "udp4_client"))])
def test_extended_sk_matches_real_ss(population: Dict[str, Any], args: List[str], keys: Any) -> None:
    flt = _ports(population, *keys)
    rc, ours, err = run_ss(*args, flt)
    assert rc == 0, err
    pairs = lambda text: set(re.findall(r" ino:(\d+) sk:([0-9a-f]+)", text))  # noqa: E731
    assert pairs(ours) == pairs(real_ss(*args, flt)) and len(pairs(ours)) >= 3


@needs_ss
@pytest.mark.live
def test_service_names_match_real_ss(population: Dict[str, Any]) -> None:
    _compare(["-ta"], _ports(population, "tcp4", "tcp6"))


def _unix_rows(text: str, pid: int) -> List[tuple]:
    rows = []
    for line in text.splitlines()[1:]:
        if "pid=%d," % pid not in line:
            continue
        m = re.match(r"(u_\w+)\s+(\S+)\s+\d+\s+\d+\s+(.*?) (\d+)\s+\* (\d+)\s+(users:.*?)\s*$", line)
        assert m, line
        rows.append((m.group(1), m.group(2), m.group(3).strip(), m.group(4), m.group(6)))
    return sorted(rows)


@needs_ss
@pytest.mark.live
def test_unix_rows_match_real_ss(population: Dict[str, Any]) -> None:
    rc, ours, _ = run_ss("-xanp")
    assert rc == 0
    theirs = real_ss("-xanp")
    pid = population["pid"]
    mine, real = _unix_rows(ours, pid), _unix_rows(theirs, pid)
    assert mine == real
    paths = {r[2] for r in mine}
    assert {population["stream_path"], population["space_path"], population["abstract"], population["seq_path"]} <= paths
    assert {r[0] for r in mine} == {"u_str", "u_dgr", "u_seq"}


@needs_ss
@pytest.mark.live
def test_ss_header_suppressed_and_exit_zero_when_nothing_matches() -> None:
    rc, out, _ = run_ss("-tnH", "sport = :1")
    assert rc == 0 and out == real_ss("-tnH", "sport = :1") == ""


def test_python38_runs_the_command() -> None:
    py38 = "/root/.pyenv/versions/3.8.18/bin/python3"
    if not os.path.exists(py38):
        pytest.skip("no Python 3.8 here")
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    res = subprocess.run([py38, "-m", "procnet", "ss", "-tln"], cwd=here, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("State")


@pytest.mark.live
@pytest.mark.skipif(SS is None, reason="needs iproute2's ss")
def test_v6only_wildcard_listener_prints_as_ss_does() -> None:
    """A v6-only wildcard listener is ``[::]`` in ss, a dual-stack one ``*``: only sock_diag
    tells them apart (InetSocket.v6only)."""
    import socket as _socket

    v6only = _socket.socket(_socket.AF_INET6)
    v6only.setsockopt(_socket.IPPROTO_IPV6, _socket.IPV6_V6ONLY, 1)
    dual = _socket.socket(_socket.AF_INET6)
    dual.setsockopt(_socket.IPPROTO_IPV6, _socket.IPV6_V6ONLY, 0)
    try:
        for s in (v6only, dual):
            s.bind(("::", 0))
            s.listen(1)
        expr = "sport = :%d or sport = :%d" % (v6only.getsockname()[1], dual.getsockname()[1])
        rc, ours, _ = run_ss("-Htln", expr)
        theirs = real_ss("-Htln", expr)
        assert rc == 0
        assert sorted(ours.splitlines()) == sorted(theirs.splitlines())
        assert "[::]:%d" % v6only.getsockname()[1] in ours and "*:%d" % dual.getsockname()[1] in ours
        import procnet

        recs = {s.local.port: s for s in procnet.listening("tcp6")}
        assert recs[v6only.getsockname()[1]].v6only is True and recs[dual.getsockname()[1]].v6only is False
    finally:
        v6only.close()
        dual.close()


# -- deep filters: an answer or a FilterError, never a RecursionError ------------------------

FIXTURE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures",
                       "owners-forked-listener")


@pytest.mark.parametrize("words", [
    [" or ".join("sport = :%d" % p for p in range(7081, 8081))],
    ["( " * 500 + "sport = :8080" + " )" * 500],
    ["( " * 20000 + "sport = :8080 or dport = :1" + " )" * 20000],
    ["not " * 20001 + "sport = :1"],
    ("( sport = :8080 or ( dport = :1 and " * 2000 + "autobound" + " ) )" * 2000).split(" "),
])
def test_deep_filters_answer(words: List[str]) -> None:
    rc, out, err = run_ss("-tanH", "--root", FIXTURE, *words)
    assert rc == 0 and err == ""
    assert ":8080" in out


@pytest.mark.parametrize("words, reason", [
    (["( " * 100000 + "sport = :22"], "never closed"),
    (["( " * 1000 + "sport = :22 " + ") " * 1001], "unbalanced ')'"),
    (["not " * 100000], "expected a condition"),
])
def test_deep_bad_filters_exit_2_with_a_message(words: List[str], reason: str) -> None:
    rc, out, err = run_ss("-tan", "--root", FIXTURE, *words)
    assert rc == 2 and out == ""
    assert err.startswith("procnet ss: bad FILTER: ") and reason in err
    assert "Traceback" not in err and "RecursionError" not in err
