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
from hypothesis import given, settings
from hypothesis import strategies as st

from procnet._records import TcpInfo
from procnet.cli import _ss_info as info
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
    text = info.tcp_info_text(ti, False, True, True)
    assert text == " ts sack cubic wscale:7,9 rto:204 rtt:0.02/0.01 ato:40 mss:1448 rcvmss:536 cwnd:10 send 5792000000bps"
    assert info.bw_text(5792000000.0, False) == "5.8G"
    assert info.skmem_text((1, 2, 3, 4, 5, 6, 7)) == " skmem:(r1,rb2,t3,tb4,f5,w6,o7)"
    assert info.skmem_text((1, 2)) == ""


# -- the tcp_show_info table -------------------------------------------------------------------

FULL = TcpInfo(
    20000, 10000, 204000, 40000, 1448, 536, 10, 7, 1, 5, 2, 3, bytes_acked=1000, bytes_received=2000,
    pacing_rate=1250000, delivery_rate=125000, min_rtt_us=15, congestion="bbr", snd_wscale=7, rcv_wscale=9,
    pmtu=65535, rcv_ssthresh=64076, advmss=65483, rcv_space=14480, snd_wnd=65536, rcv_wnd=65536, segs_out=10,
    segs_in=9, data_segs_out=4, data_segs_in=3, bytes_sent=3000, bytes_retrans=100, last_data_sent_ms=5,
    last_data_recv_ms=6, last_ack_recv_ms=7, delivered=4, delivered_ce=1, busy_time_us=5000,
    rwnd_limited_us=1000, sndbuf_limited_us=2000, notsent_bytes=12, reordering=0, rcv_rtt_us=1500,
    dsack_dups=2, reord_seen=1, app_limited=True, options=0xFF, backoff=2, sacked=3, retrans=1,
    max_pacing_rate=2500000, rcv_ooopack=4, rehash=1,
)


def test_every_item_in_ss_order() -> None:
    text = info.tcp_info_text(FULL, False, True, False)
    assert text == (
        " ts usec_ts sack ecn ecnseen fastopen fastopen_child bbr wscale:7,9 rto:204 backoff:2"
        " rtt:20/10 ato:40 mss:1448 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 ssthresh:7 bytes_sent:3000"
        " bytes_retrans:100"
        " bytes_acked:1000 bytes_received:2000 segs_out:10 segs_in:9 data_segs_out:4 data_segs_in:3"
        " send 5.8Mbps lastsnd:5 lastrcv:6 lastack:7 pacing_rate 10.0Mbps/20.0Mbps delivery_rate 1000.0Kbps"
        " delivered:4 delivered_ce:1 app_limited busy:5ms rwnd_limited:1ms(20.0%) sndbuf_limited:2ms(40.0%)"
        " unacked:2 retrans:1/5 lost:3 sacked:3 dsack_dups:2 reordering:0 reord_seen:1 rcv_rtt:1.5"
        " rcv_space:14480 rcv_ssthresh:64076 notsent:12 minrtt:0.015 rcv_ooopack:4 snd_wnd:65536"
        " rcv_wnd:65536 rehash:1"
    )
    # -n: rates as numbers; a listener: no sacked (its backlog), no option words without -o
    assert " send 5792000bps " in info.tcp_info_text(FULL, False, True, True)
    listening = info.tcp_info_text(FULL, True, False, False)
    assert " sacked:" not in listening and listening.startswith(" bbr wscale:7,9 ")


def test_unset_markers_print_nothing() -> None:
    listener = TcpInfo(0, 0, 0, 0, 0, 0, 10, 0x7FFFFFFF, 0, 0, 0, 0, pacing_rate=(1 << 64) - 1,
                       max_pacing_rate=(1 << 64) - 1, reordering=3, sacked=128, congestion="cubic", options=0,
                       min_rtt_us=0xFFFFFFFF)
    assert info.tcp_info_text(listener, True, True, True) == " cubic cwnd:10"
    initial_rto = TcpInfo(0, 0, 3000000, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    assert info.tcp_info_text(initial_rto, False, True, True) == ""


def test_the_table_names_fields_tcp_info_has() -> None:
    import dataclasses

    from procnet.cli._ss_info import TCP_INFO

    fields = {f.name for f in dataclasses.fields(TcpInfo)}
    assert all(item.field in fields for item in TCP_INFO if item.field)
    names = [item.name for item in TCP_INFO]
    assert len(names) == len(set(names))


def _ladder(ti: TcpInfo, listening: bool, show_options: bool, numeric: bool) -> str:
    """tcp_info_text as it was written before the table (a ladder of ifs), kept as the
    oracle the table is checked against."""
    from procnet.cli.render import escape_text

    def n(value: object) -> int:
        return value or 0  # type: ignore[return-value]

    bw = lambda v: info.bw_text(v, numeric)  # noqa: E731
    out: List[str] = []
    add = out.append
    options = n(ti.options)
    if show_options:
        for bit, word in ((1, "ts"), (64, "usec_ts"), (2, "sack"), (8, "ecn"), (16, "ecnseen"),
                          (32, "fastopen"), (128, "fastopen_child")):
            if options & bit:
                add(word)
    if ti.congestion:
        add(escape_text(ti.congestion))
    if options & 4:
        add("wscale:%d,%d" % (n(ti.snd_wscale), n(ti.rcv_wscale)))
    if ti.rto_us and ti.rto_us != 3000000:
        add("rto:%g" % (ti.rto_us / 1000.0))
    if ti.backoff:
        add("backoff:%d" % ti.backoff)
    if ti.rtt_us:
        add("rtt:%g/%g" % (ti.rtt_us / 1000.0, ti.rttvar_us / 1000.0))
    if ti.ato_us:
        add("ato:%g" % (ti.ato_us / 1000.0))
    for label, value in (("mss", ti.snd_mss), ("pmtu", ti.pmtu), ("rcvmss", ti.rcv_mss),
                         ("advmss", ti.advmss), ("cwnd", ti.snd_cwnd)):
        if value:
            add("%s:%d" % (label, value))
    if ti.snd_ssthresh and ti.snd_ssthresh < 0xFFFF:
        add("ssthresh:%d" % ti.snd_ssthresh)
    for label, value in (("bytes_sent", ti.bytes_sent), ("bytes_retrans", ti.bytes_retrans),
                         ("bytes_acked", ti.bytes_acked), ("bytes_received", ti.bytes_received),
                         ("segs_out", ti.segs_out), ("segs_in", ti.segs_in),
                         ("data_segs_out", ti.data_segs_out), ("data_segs_in", ti.data_segs_in)):
        if value:
            add("%s:%d" % (label, value))
    if ti.rtt_us and ti.snd_mss and ti.snd_cwnd:
        add("send %sbps" % bw(float(ti.snd_cwnd) * float(ti.snd_mss) * 8000000.0 / float(ti.rtt_us)))
    for label, value in (("lastsnd", ti.last_data_sent_ms), ("lastrcv", ti.last_data_recv_ms),
                         ("lastack", ti.last_ack_recv_ms)):
        if value:
            add("%s:%d" % (label, value))
    pacing = n(ti.pacing_rate)
    if pacing and pacing != (1 << 64) - 1:
        text = "pacing_rate %sbps" % bw(pacing * 8.0)
        if n(ti.max_pacing_rate) and ti.max_pacing_rate != (1 << 64) - 1:
            text += "/%sbps" % bw(n(ti.max_pacing_rate) * 8.0)
        add(text)
    if ti.delivery_rate:
        add("delivery_rate %sbps" % bw(ti.delivery_rate * 8.0))
    for label, value in (("delivered", ti.delivered), ("delivered_ce", ti.delivered_ce)):
        if value:
            add("%s:%d" % (label, value))
    if ti.app_limited:
        add("app_limited")
    busy = n(ti.busy_time_us)
    if busy:
        add("busy:%dms" % (busy // 1000))
        if ti.rwnd_limited_us:
            add("rwnd_limited:%dms(%.1f%%)" % (ti.rwnd_limited_us // 1000, 100.0 * ti.rwnd_limited_us / busy))
        if ti.sndbuf_limited_us:
            limited = ti.sndbuf_limited_us
            add("sndbuf_limited:%dms(%.1f%%)" % (limited // 1000, 100.0 * limited / busy))
    if ti.unacked:
        add("unacked:%d" % ti.unacked)
    if ti.retrans or ti.total_retrans:
        add("retrans:%d/%d" % (n(ti.retrans), ti.total_retrans))
    if ti.lost:
        add("lost:%d" % ti.lost)
    if ti.sacked and not listening:
        add("sacked:%d" % ti.sacked)
    if ti.dsack_dups:
        add("dsack_dups:%d" % ti.dsack_dups)
    if ti.reordering is not None and ti.reordering != 3:
        add("reordering:%d" % ti.reordering)
    if ti.reord_seen:
        add("reord_seen:%d" % ti.reord_seen)
    if ti.rcv_rtt_us:
        add("rcv_rtt:%g" % (ti.rcv_rtt_us / 1000.0))
    for label, value in (("rcv_space", ti.rcv_space), ("rcv_ssthresh", ti.rcv_ssthresh),
                         ("notsent", ti.notsent_bytes)):
        if value:
            add("%s:%d" % (label, value))
    if ti.min_rtt_us and ti.min_rtt_us != 0xFFFFFFFF:
        add("minrtt:%g" % (ti.min_rtt_us / 1000.0))
    for label, value in (("rcv_ooopack", ti.rcv_ooopack), ("snd_wnd", ti.snd_wnd), ("rcv_wnd", ti.rcv_wnd),
                         ("rehash", ti.rehash)):
        if value:
            add("%s:%d" % (label, value))
    return "".join(" " + word for word in out)


def _tcp_infos() -> "st.SearchStrategy[TcpInfo]":
    import dataclasses

    special = st.sampled_from([0, 1, 3, 7, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 3000000, (1 << 64) - 1])
    number = st.one_of(special, st.integers(0, 1 << 40))
    kwargs = {}
    for f in dataclasses.fields(TcpInfo):
        if f.name == "congestion":
            kwargs[f.name] = st.one_of(st.none(), st.sampled_from(["cubic", "bbr", "x\x1by"]))
        elif f.name == "app_limited":
            kwargs[f.name] = st.one_of(st.none(), st.booleans())
        elif f.default is None:
            kwargs[f.name] = st.one_of(st.none(), number)
        else:
            kwargs[f.name] = number
    return st.builds(TcpInfo, **kwargs)


@settings(max_examples=400, deadline=None)
@given(ti=_tcp_infos(), listening=st.booleans(), show_options=st.booleans(), numeric=st.booleans())
def test_the_table_prints_what_the_ladder_printed(ti: TcpInfo, listening: bool, show_options: bool,
                                                  numeric: bool) -> None:
    expected = _ladder(ti, listening, show_options, numeric)
    assert info.tcp_info_text(ti, listening, show_options, numeric) == expected
