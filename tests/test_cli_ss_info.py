"""``procnet ss -i`` / ``-m`` against the real ss, on loopback sockets this test opens."""

from __future__ import annotations

import io
import re
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

from procnet._records import TcpInfo
from procnet.cli import ss as cli

SS = shutil.which("ss") or "/usr/bin/ss"

pytestmark = pytest.mark.skipif(not shutil.which("ss"), reason="iproute2 ss is not installed")

# fields that do not change between two reads of an idle connection
STABLE = ("wscale", "mss", "pmtu", "rcvmss", "advmss", "cwnd", "rcv_space", "rcv_ssthresh")


def procnet_ss(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    assert cli.run(list(args), out, err) == 0, err.getvalue()
    return out.getvalue()


def real_ss(*args: str) -> str:
    return subprocess.run([SS, *args], check=True, capture_output=True, text=True, timeout=10).stdout


@pytest.fixture
def connection() -> Iterator[Tuple[int, int]]:
    """(listening port, client's port) of a loopback connection that moved a few bytes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port), timeout=5)
    server, _ = listener.accept()
    try:
        client.sendall(b"hello" * 100)
        assert server.recv(10) == b"hello" * 2
        server.sendall(b"x")
        assert client.recv(1) == b"x"
        yield port, client.getsockname()[1]
    finally:
        for s in (client, server, listener):
            s.close()


def info_lines(text: str) -> Dict[str, str]:
    """Socket line's local address:port -> the TAB line below it (or the rest of its line)."""
    out: Dict[str, str] = {}
    lines = text.split("\n")[1:]
    for i, line in enumerate(lines):
        if line and not line.startswith("\t"):
            local = line.split()[3] if line.split()[0] in ("ESTAB", "LISTEN") else line.split()[2]
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            out[local] = nxt if nxt.startswith("\t") else line
    return out


def keyed(words: str) -> List[Tuple[str, str]]:
    """``wscale:10,10 send 5bps app_limited`` -> [("wscale", "10,10"), ("send", "5bps"), ("app_limited", "")]."""
    out: List[Tuple[str, str]] = []
    tokens = words.split()
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.startswith("bbr:("):  # INET_DIAG_BBRINFO: procnet does not decode it
            i += 1
            continue
        if tok in ("send", "pacing_rate", "delivery_rate"):
            out.append((tok, tokens[i + 1]))
            i += 2
            continue
        key, _, value = tok.partition(":")
        out.append((key, value))
        i += 1
    return out


def test_tcp_info_line_matches_ss_field_by_field(connection: Tuple[int, int]) -> None:
    port, _ = connection
    flt = "sport = :%d or dport = :%d" % (port, port)
    mine, theirs = info_lines(procnet_ss("-tni", flt)), info_lines(real_ss("-tni", flt))
    assert set(mine) == set(theirs) and len(mine) == 2
    for local in mine:
        assert mine[local].startswith("\t "), mine[local]
        a, b = dict(keyed(mine[local])), dict(keyed(theirs[local]))
        for key in STABLE:
            assert a[key] == b[key], (key, mine[local], theirs[local])
        congestion = open("/proc/sys/net/ipv4/tcp_congestion_control").read().strip()
        assert keyed(mine[local])[0] == (congestion, "")  # the name comes first, as in ss
        assert ("app_limited" in a) == ("app_limited" in b)


def test_key_order_is_ss_order(connection: Tuple[int, int]) -> None:
    port, _ = connection
    flt = "sport = :%d" % port
    mine = [k for k, _ in keyed(info_lines(procnet_ss("-tnio", flt)).popitem()[1])]
    theirs = [k for k, _ in keyed(info_lines(real_ss("-tnio", flt)).popitem()[1])]
    common = [k for k in theirs if k in mine]
    assert len(common) >= 12, (mine, theirs)
    assert [k for k in mine if k in common] == common
    assert mine[:2] == ["ts", "sack"]  # -o adds the option words, first


def test_memory_line_matches_ss(connection: Tuple[int, int]) -> None:
    port, _ = connection
    flt = "sport = :%d" % port
    for flags in ("-tnm", "-tnim"):
        mine, theirs = info_lines(procnet_ss(flags, flt)), info_lines(real_ss(flags, flt))
        (local,) = theirs
        pattern = r"\t skmem:\(r\d+,rb(\d+),t\d+,tb(\d+),f\d+,w\d+,o\d+,bl\d+,d\d+\)"
        m1, m2 = re.match(pattern, mine[local]), re.match(pattern, theirs[local])
        assert m1 is not None and m2 is not None, (mine[local], theirs[local])
        assert m1.groups() == m2.groups()  # rb and tb
        if flags == "-tnm":
            assert mine[local].endswith(")")  # nothing else without -i


def test_listener_shows_what_ss_shows(connection: Tuple[int, int]) -> None:
    port, _ = connection
    flt = "sport = :%d" % port
    mine = procnet_ss("-tnlim", flt).split("\n")[2]
    theirs = real_ss("-tnlim", flt).split("\n")[2]
    assert mine == theirs  # skmem of an idle listener, its congestion and cwnd: all stable


def test_unix_memory_on_the_socket_line() -> None:
    a, b = socket.socketpair()
    try:
        a.sendall(b"abc")
        ino = str(__import__("os").fstat(a.fileno()).st_ino)
        flt = "src *"

        def row(text: str) -> str:
            (line,) = [ln for ln in text.split("\n") if ln.split()[5:6] == [ino]]
            return line

        mine, theirs = row(procnet_ss("-xm", flt)), row(real_ss("-xm", flt))
        pattern = r"skmem:\(r\d+,rb(\d+),t(\d+),tb(\d+),f\d+,w\d+,o\d+,bl\d+,d\d+\)"
        assert re.search(pattern, mine) and re.search(pattern, theirs)
        assert re.search(pattern, mine).groups() == re.search(pattern, theirs).groups()  # type: ignore[union-attr]
        assert "\t" not in mine
        assert "skmem" not in row(procnet_ss("-xi", flt))
    finally:
        a.close()
        b.close()


def test_udp_memory_on_a_tab_line_and_info_prints_nothing() -> None:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", 0))
        flt = "sport = :%d" % u.getsockname()[1]
        assert info_lines(procnet_ss("-uanm", flt)) == info_lines(real_ss("-uanm", flt))
        assert procnet_ss("-uani", flt) == real_ss("-uani", flt)
    finally:
        u.close()


def test_text_tables_show_nothing_and_say_so() -> None:
    root = str(Path(__file__).resolve().parent.parent / "fixtures" / "live-loopback-every-kind")
    out, err = io.StringIO(), io.StringIO()
    assert cli.run(["-tanim", "--root", root], out, err) == 0
    assert out.getvalue().count("\n") > 2  # the sockets are listed...
    assert "\t" not in out.getvalue() and "skmem" not in out.getvalue()  # ...with nothing invented
    assert err.getvalue().count("sock_diag") == 1  # and ss says why, once


def test_json_has_the_new_fields(connection: Tuple[int, int]) -> None:
    import json

    port, _ = connection
    # the kernel's details are read when asked for (-i, -m), not for every query
    (obj,) = [json.loads(ln) for ln in procnet_ss("-tnlim", "--json", "sport = :%d" % port).splitlines()]
    assert obj["skmem"][1] > 0 and len(obj["skmem"]) == 9
    assert obj["tcp_info"]["congestion"] and obj["tcp_info"]["snd_cwnd"] == 10
    assert "\t" not in obj["ss"]["process"]


def test_tcp_info_text_of_a_short_struct_prints_what_ss_prints() -> None:
    ti = TcpInfo(20, 10, 204000, 40000, 1448, 536, 10, 0x7FFFFFFF, 0, 0, 0, 0, options=7,
                 snd_wscale=7, rcv_wscale=9, congestion="cubic", reordering=3)
    text = cli.tcp_info_text(ti, False, True, True)
    assert text == " ts sack cubic wscale:7,9 rto:204 rtt:0.02/0.01 ato:40 mss:1448 rcvmss:536 cwnd:10 send 5792000000bps"
    assert cli.bw_text(5792000000.0, False) == "5.8G"
    assert cli.skmem_text((1, 2, 3, 4, 5, 6, 7)) == " skmem:(r1,rb2,t3,tb4,f5,w6,o7)"
    assert cli.skmem_text((1, 2)) == ""
