"""procnet._parse.inet: every inet table, every row kind the kernel prints, and bad input.

Rows in the example tests are copied verbatim from KERNEL-FORMATS.md Appendix A (live
Linux 6.18 x86_64, little-endian); headers are the kernel's header strings (§1.1, §2.1, §3.1).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any, Dict, List, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import procnet
from procnet import Endpoint, InetSocket, ParseError, TcpState, Timer, format_inet, parse_inet

import strategies as S

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- the kernel's headers ---------------------------------------------------------------
TCP_HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode".ljust(149)
TCP6_HEADER = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
UDP_HEADER = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops".ljust(127)
RAW_HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops"
DGRAM6_HEADER = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops"
HEADERS = {
    "tcp": TCP_HEADER,
    "tcp6": TCP6_HEADER,
    "udp": UDP_HEADER,
    "udplite": UDP_HEADER,
    "raw": RAW_HEADER,
    "udp6": DGRAM6_HEADER,
    "udplite6": DGRAM6_HEADER,
    "raw6": DGRAM6_HEADER,
}

# -- Appendix A, /proc/net/tcp (trailing pad stripped) ----------------------------------
TCP_LISTEN_DEFER = "   1: 0100007F:B009 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1599640 2 00000000fa63b19b 100 0 0 10 0"
TCP_LISTEN_BACKLOG = "  60: 0100007F:8B33 00000000:0000 0A 00000000:00000002 00:00000000 00000000     0        0 1599628 3 000000007007a241 100 0 0 10 0"
TCP_UNACCEPTED_CHILD = "7037: 0100007F:8B33 0100007F:B7D4 01 00000000:00000000 00:00000000 00000000     0        0 0 1 000000006249787c 20 0 0 10 -1"
TCP_SYN_SENT = "8028: 0100007F:C302 0100007F:AA67 02 00000001:00000000 01:00000040 00000000     0        0 1599644 2 00000000e40e2d41 100 0 0 10 -1"
TCP_CLOSE_WAIT = "8424: 0100007F:B707 0100007F:8FDA 08 00000000:00000001 00:00000000 00000000     0        0 1599639 1 00000000db954799 20 4 0 10 -1"
TCP_SL_13213 = "13213: 0100007F:B17F 0100007F:86D0 01 00000000:000003E8 00:00000000 00000000     0        0 1599633 1 000000007aa9f2e1 20 4 32 10 -1"
TCP_FIN_WAIT2_TW = "3917: 0100007F:8FDA 0100007F:B707 05 00000000:00000000 03:0000174F 00000000     0        0 0 3 00000000649c6e63"
TCP_TIME_WAIT = "29764: 0100007F:B0AA 0100007F:B22B 06 00000000:00000000 03:00001742 00000000     0        0 0 3 0000000007969335"
TCP_REQUEST = "20829: 0100007F:B009 0100007F:B36A 03 00000000:00000000 01:00000039 00000000     0        0 0 0 00000000e9bf5b76"
TCP_KEEPALIVE = "11310: 0100007F:DB8A 0100007F:A5F1 01 00000000:00000000 02:000AFC7A 00000000     0        0 1600725 3 00000000e7b0c966 20 0 0 10 -1"
TCP_ROWS = [
    TCP_LISTEN_DEFER,
    TCP_LISTEN_BACKLOG,
    TCP_UNACCEPTED_CHILD,
    TCP_SYN_SENT,
    TCP_CLOSE_WAIT,
    TCP_SL_13213,
    TCP_FIN_WAIT2_TW,
    TCP_TIME_WAIT,
    TCP_REQUEST,
    TCP_KEEPALIVE,
]
# §1.11
TCP6_MAPPED_LISTEN = "   0: 0000000000000000FFFF00000100007F:B853 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1302293 1 0000000088906dff 100 0 0 10 0"

# -- Appendix A, udp, udp6, udplite, raw -------------------------------------------------
UDP_BOUND_DROPS = "  915: 0100007F:CB69 00000000:0000 07 00000000:00000680 00:00000000 00000000     0        0 1607305 2 000000008cfa7911 48"
UDP_CONNECTED = " 9801: 0100007F:AE1F 0100007F:CB69 01 00000000:00000000 00:00000000 00000000     0        0 1607306 2 00000000cc2a92dc 0"
UDP6_MAPPED = " 9720: 0000000000000000FFFF00000100007F:EDCE 0000000000000000FFFF00000100007F:CB69 01 00000000:00000000 00:00000000 00000000     0        0 1607310 2 000000000f276a35 0"
UDPLITE_BOUND = "15373: 0100007F:C3E3 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1607311 2 000000009a4d88a7 0"
RAW_253_CONNECTED = "  47: 0100007F:00FD 0100007F:0000 01 00000000:00000000 00:00000000 00000000     0        0 1604890 2 0000000099d0e8c4 0"
RAW_ICMP = " 124: 00000000:0001 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1604889 2 0000000082c6f224 0"
# Appendix A elides the middle of this row with "..."; the elided fields are the fixed
# values ip6_dgram_sock_seq_show prints for raw6 (§2.1, §3.1).
RAW6_ICMPV6 = "   44: 00000000000000000000000000000000:003A 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1604891 2 0000000033c0bb37 0"


def table(name: str, *rows: str, pad: Optional[int] = None) -> str:
    """A whole table as the kernel writes it: header, rows, each line ended by a newline."""
    width = {"tcp": 149, "udp": 127, "udplite": 127}.get(name, 0) if pad is None else pad
    return "".join(line.ljust(width) + "\n" for line in (HEADERS[name],) + rows)


def parse(data: Any, name: str, **kw: Any) -> List[InetSocket]:
    return list(parse_inet(data, name, **kw))


def one(row: str, name: str = "tcp", **kw: Any) -> InetSocket:
    kw.setdefault("byteorder", "little")
    (rec,) = parse(table(name, row), name, **kw)
    return rec


LOOPBACK = ipaddress.IPv4Address("127.0.0.1")


# -- round trip -----------------------------------------------------------------------------


@pytest.mark.parametrize("byteorder", S.BYTEORDERS)
@pytest.mark.parametrize("name", S.INET_TABLES)
@SETTINGS
@given(data=st.data())
def test_round_trip_records_format_parse(name: str, byteorder: str, data: Any) -> None:
    records = data.draw(S.inet_tables(name))
    text = format_inet(records, name, byteorder=byteorder)
    assert parse(text, name, byteorder=byteorder) == records
    assert parse(S.kernel_bytes(text), name, byteorder=byteorder) == records


@pytest.mark.parametrize("name", S.INET_TABLES)
@SETTINGS
@given(data=st.data())
def test_formatted_rows_have_the_kernels_token_counts_and_padding(name: str, data: Any) -> None:
    records = data.draw(S.inet_tables(name))
    lines = format_inet(records, name).split("\n")
    assert lines[-1] == ""
    width = {"tcp": 149, "udp": 127, "udplite": 127}.get(name, 0)
    for rec, line in zip(records, lines[1:-1]):
        tokens = line.split()
        if rec.proto == "tcp":
            assert len(tokens) == (17 if rec.rto is not None else 12)
        else:
            assert len(tokens) == 13
        assert len(line) >= width
        if width and len(line.rstrip()) < width:
            assert len(line) == width


def test_records_without_text_only_fields_are_written_as_the_kernel_hides_them() -> None:
    # records as sock_diag makes them: no refcount, pointer, row number, counters
    def rec(port: int, **kw: Any) -> InetSocket:
        base: Dict[str, Any] = dict(
            proto="tcp", family=socket.AF_INET, local=Endpoint(LOOPBACK, port), remote=Endpoint(LOOPBACK, 80),
            state=TcpState.ESTABLISHED, tx_queue=0, rx_queue=0, timer=Timer.NONE, timer_expires=0,
            retransmits=None, uid=1000, probes=None, inode=port, refcount=None, pointer=None, slot=None,
            cookie=port * 7)
        base.update(kw)
        return InetSocket(**base)

    text = format_inet([rec(1000), rec(1001), rec(1002, slot=9)], "tcp", byteorder="little")
    back = parse(text, "tcp", byteorder="little")
    # the kernel's TCP row counter for the missing sl; %pK's zeros under kptr_restrict; 0s
    assert [r.slot for r in back] == [0, 1, 9]
    assert {(r.pointer, r.refcount, r.retransmits, r.probes, r.cookie) for r in back} == {
        ("0000000000000000", 0, 0, 0, None)}
    assert [r.inode for r in back] == [1000, 1001, 1002]


@pytest.mark.parametrize("name", ["tcp", "udp", "raw6"])
@SETTINGS
@given(data=st.data())
def test_byte_order_matters_only_for_addresses(name: str, data: Any) -> None:
    records = data.draw(S.inet_tables(name, max_size=4))
    big = format_inet(records, name, byteorder="big")
    swapped = parse(big, name, byteorder="little")
    assert [(r.local.port, r.inode, r.state) for r in swapped] == [(r.local.port, r.inode, r.state) for r in records]
    for rec, other in zip(records, swapped):
        assert other.local.ip.packed == _swap_words(rec.local.ip.packed)


def _swap_words(raw: bytes) -> bytes:
    return b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))


# -- robustness -----------------------------------------------------------------------------


def _lines(data: Any) -> List[str]:
    text = data if isinstance(data, str) else bytes(data).decode("utf-8", "surrogateescape")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def check_strict_and_lenient(data: Any, name: str, byteorder: str = "little") -> None:
    """Records or ParseError strictly; lenient mode never raises and names every bad line."""
    try:
        strict: Optional[List[InetSocket]] = parse(data, name, byteorder=byteorder, path="/proc/net/" + name)
    except ParseError as exc:
        strict = None
        assert exc.path == "/proc/net/" + name
        assert isinstance(exc.lineno, int) and exc.lineno >= 1
        assert str(exc).startswith("/proc/net/%s:%d: " % (name, exc.lineno))
    errors: List[ParseError] = []
    lenient = parse(data, name, byteorder=byteorder, on_error=errors.append)
    lines = _lines(data)
    assert (strict is None) == bool(errors)
    if strict is not None:
        assert lenient == strict
        return
    linenos = [e.lineno for e in errors]
    assert linenos == sorted(set(linenos))  # type: ignore[type-var]
    for e in errors:
        assert e.lineno is not None
        assert e.line == (lines[e.lineno - 1] if lines else "")
    if linenos[0] == 1:
        # a missing or foreign header: the table is not read at all, and that is the one error
        assert errors[0].reason.startswith(("empty table", "not a %s table" % name))
        assert len(errors) == 1 and lenient == []
        return
    # every other line was good: without the reported lines the table parses strictly, to the same records
    bad = set(linenos)
    kept = "".join(line + "\n" for i, line in enumerate(lines, 1) if i not in bad)
    assert parse(kept, name, byteorder=byteorder) == lenient


REAL_TABLES = {
    "tcp": table("tcp", *TCP_ROWS),
    "tcp6": table("tcp6", TCP6_MAPPED_LISTEN),
    "udp": table("udp", UDP_BOUND_DROPS, UDP_CONNECTED),
    "udp6": table("udp6", UDP6_MAPPED),
    "udplite": table("udplite", UDPLITE_BOUND),
    "raw": table("raw", RAW_253_CONNECTED, RAW_ICMP),
    "raw6": table("raw6", RAW6_ICMPV6),
}


@pytest.mark.parametrize("name", sorted(REAL_TABLES))
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_mutated_real_tables_give_records_or_parse_error(name: str, data: Any) -> None:
    text = data.draw(S.mutated(REAL_TABLES[name]))
    check_strict_and_lenient(text, name)
    check_strict_and_lenient(text.encode("utf-8", "surrogateescape"), name, byteorder="big")


@pytest.mark.parametrize("name", ["tcp", "udp6", "raw"])
@SETTINGS
@given(body=st.one_of(st.text(), st.binary().map(lambda b: b.decode("utf-8", "surrogateescape"))), header=st.booleans())
def test_arbitrary_text_gives_records_or_parse_error(name: str, body: str, header: bool) -> None:
    text = (HEADERS[name] + "\n" + body) if header else body
    check_strict_and_lenient(text, name)


@SETTINGS
@given(data=st.binary())
def test_arbitrary_bytes_give_records_or_parse_error(data: bytes) -> None:
    check_strict_and_lenient(data, "tcp6")
    check_strict_and_lenient(TCP_HEADER.encode() + b"\n" + data, "tcp")


# -- the row kinds of tcp (Appendix A) ------------------------------------------------


def test_time_wait_line_has_no_inode() -> None:
    rec = one(TCP_TIME_WAIT)
    assert rec.state is TcpState.TIME_WAIT
    assert rec.inode == 0
    assert rec.uid is None  # the kernel prints a literal 0, not the owner's uid
    assert rec.timer is Timer.TIME_WAIT and rec.timer_expires == 0x1742
    assert (rec.rto, rec.ato, rec.quick_ack, rec.pingpong, rec.cwnd, rec.ssthresh) == (None,) * 6
    assert rec.is_minisock and not rec.is_listening
    assert (rec.refcount, rec.pointer, rec.slot) == (3, "0000000007969335", 29764)
    assert (str(rec.local), str(rec.remote)) == ("127.0.0.1:45226", "127.0.0.1:45611")


def test_fin_wait2_timewait_minisock_keeps_its_substate() -> None:
    rec = one(TCP_FIN_WAIT2_TW)
    assert rec.state is TcpState.FIN_WAIT2
    assert rec.timer is Timer.TIME_WAIT and rec.timer_expires == 0x174F
    assert rec.uid is None and rec.inode == 0 and rec.is_minisock


def test_request_sock_prints_syn_recv_with_listener_uid() -> None:
    rec = one(TCP_REQUEST)
    assert rec.state is TcpState.SYN_RECV  # TCP_NEW_SYN_RECV in the kernel, printed as 03
    assert rec.timer is Timer.RETRANSMIT and rec.timer_expires == 0x39
    assert rec.uid == 0 and rec.inode == 0 and rec.refcount == 0 and rec.is_minisock
    # The uid column of a request row is the listener's: kept, unlike a TIME_WAIT row's.
    listener_uid = TCP_REQUEST.replace("00000000     0        0 0 0", "00000000  1000        0 0 0")
    assert listener_uid != TCP_REQUEST
    assert one(listener_uid).uid == 1000


def test_unaccepted_child_is_a_full_row_with_inode_0() -> None:
    rec = one(TCP_UNACCEPTED_CHILD)
    assert rec.state is TcpState.ESTABLISHED and rec.inode == 0
    assert rec.uid == 0 and not rec.is_minisock
    assert (rec.rto, rec.cwnd, rec.ssthresh, rec.fastopen_max_qlen) == (20, 10, -1, None)


def test_listen_row_carries_fastopen_queue_not_ssthresh() -> None:
    rec = one(TCP_LISTEN_DEFER)
    assert rec.is_listening and rec.state.ss_name == "LISTEN"
    assert rec.fastopen_max_qlen == 0 and rec.ssthresh is None
    assert rec.remote.is_unspecified and rec.local.ip == LOOPBACK and rec.local.port == 0xB009
    fastopen = TCP_LISTEN_DEFER[: -len(" 10 0")] + " 10 5"
    assert one(fastopen).fastopen_max_qlen == 5


def test_listen_rx_queue_is_the_accept_queue() -> None:
    assert one(TCP_LISTEN_BACKLOG).rx_queue == 2


def test_syn_sent_counts_the_syn_in_tx_queue() -> None:
    rec = one(TCP_SYN_SENT)
    assert rec.state is TcpState.SYN_SENT and rec.tx_queue == 1
    assert rec.timer is Timer.RETRANSMIT and rec.timer_expires == 0x40 and rec.rto == 100


def test_close_wait_counts_the_fin_in_rx_queue() -> None:
    rec = one(TCP_CLOSE_WAIT)
    assert rec.state is TcpState.CLOSE_WAIT and rec.rx_queue == 1 and rec.ato == 4


def test_sl_over_9999() -> None:
    rec = one(TCP_SL_13213)
    assert rec.slot == 13213
    assert rec.rx_queue == 1000
    assert (rec.quick_ack, rec.pingpong, rec.ato) == (16, False, 4)
    assert (rec.local.port, rec.remote.port) == (0xB17F, 0x86D0)
    # the kernel's own line is still exactly 149 columns: the pad absorbs the wider sl
    assert len(table("tcp", TCP_SL_13213).split("\n")[1]) == 149


def test_keepalive_timer() -> None:
    rec = one(TCP_KEEPALIVE)
    assert rec.timer is Timer.KEEPALIVE and rec.timer.ss_name == "keepalive"
    assert rec.timer_expires == 0xAFC7A


def test_tcp4_padding_to_149() -> None:
    text = table("tcp", *TCP_ROWS)
    assert {len(line) for line in text.split("\n")[:-1]} == {149}
    padded = parse(text, "tcp", byteorder="little")
    unpadded = parse(table("tcp", *TCP_ROWS, pad=0), "tcp", byteorder="little")
    assert padded == unpadded and len(padded) == len(TCP_ROWS)
    # and the formatter pads the way the kernel does
    assert format_inet(padded, "tcp", byteorder="little") == text


def test_udp4_padding_to_127() -> None:
    text = table("udp", UDP_BOUND_DROPS, UDP_CONNECTED)
    assert {len(line) for line in text.split("\n")[:-1]} == {127}
    assert format_inet(parse(text, "udp", byteorder="little"), "udp", byteorder="little") == text


def test_every_verbatim_row_formats_back_to_itself() -> None:
    for name, text in REAL_TABLES.items():
        assert format_inet(parse(text, name, byteorder="little"), name, byteorder="little") == text, name


def test_future_columns_ignored() -> None:
    for row, name in [(TCP_SL_13213, "tcp"), (TCP6_MAPPED_LISTEN, "tcp6"), (UDP_BOUND_DROPS, "udp"), (RAW_ICMP, "raw")]:
        base = one(row, name)
        assert one(row + " 7 abc 0xff", name) == base
        assert one(row + " 12345", name) == base


def test_unknown_state_kept_visible() -> None:
    row = TCP_SL_13213.replace(" 01 00000000:000003E8", " 0E 00000000:000003E8")
    assert row != TCP_SL_13213
    rec = one(row)
    assert not rec.state.is_known
    assert rec.state.name == "UNKNOWN_14" and int(rec.state) == 14 and rec.state.ss_name == "UNKNOWN"
    assert rec.state == TcpState(14) and rec.state is TcpState(14)
    # a state filter can still ask for it
    assert parse(table("tcp", row, TCP_LISTEN_DEFER), "tcp", states=[14]) == [rec]


def test_unknown_timer_kept_visible() -> None:
    rec = one(TCP_SL_13213.replace(" 00:00000000 ", " 07:00000010 "))
    assert rec.timer.name == "UNKNOWN_7" and int(rec.timer) == 7 and rec.timer_expires == 16


def test_big_endian_capture() -> None:
    # what a big-endian (s390x) kernel prints for 127.0.0.1:22 and [::1]:22 (§5)
    row4 = TCP_LISTEN_DEFER.replace("0100007F:B009", "7F000001:0016")
    big = one(row4, byteorder="big")
    assert big.local.ip == LOOPBACK and big.local.port == 22
    # read as little-endian, the same words are another address: the order is a parameter
    assert one(row4, byteorder="little").local.ip == ipaddress.IPv4Address("1.0.0.127")
    row6 = TCP6_MAPPED_LISTEN.replace("0000000000000000FFFF00000100007F:B853", "00000000000000000000000000000001:0016")
    assert one(row6, "tcp6", byteorder="big").local.ip == ipaddress.IPv6Address("::1")
    assert one(row6, "tcp6", byteorder="little").local.ip == ipaddress.IPv6Address("::100:0")
    mapped_be = TCP6_MAPPED_LISTEN.replace("0000000000000000FFFF00000100007F", "00000000" "00000000" "0000FFFF" "7F000001")
    assert one(mapped_be, "tcp6", byteorder="big").local.ip == ipaddress.IPv6Address("::ffff:127.0.0.1")


def test_default_byteorder_is_this_machines() -> None:
    import sys

    assert parse(table("tcp", TCP_LISTEN_DEFER), "tcp") == parse(table("tcp", TCP_LISTEN_DEFER), "tcp", byteorder=sys.byteorder)


def test_ipv4_mapped_stays_ipv6_and_unmaps() -> None:
    rec = one(TCP6_MAPPED_LISTEN, "tcp6")
    assert rec.family == socket.AF_INET6 and rec.table == "tcp6"
    assert rec.local.ip == ipaddress.IPv6Address("::ffff:127.0.0.1")
    assert rec.local.unmapped_ip == LOOPBACK
    assert rec.remote.ip == ipaddress.IPv6Address("::") and rec.remote.unmapped_ip == ipaddress.IPv6Address("::")
    assert rec.local.port == 0xB853 and str(rec.local) == "[::ffff:127.0.0.1]:47187"
    udp = one(UDP6_MAPPED, "udp6")
    assert udp.remote.ip.version == 6 and udp.remote.unmapped_ip == LOOPBACK and udp.remote.port == 0xCB69


def test_duplicate_inode_yielded_once() -> None:
    again = "  61" + TCP_LISTEN_BACKLOG[4:]  # the same socket met twice while the table was read
    recs = parse(table("tcp", TCP_LISTEN_BACKLOG, TCP_SYN_SENT, again), "tcp", byteorder="little")
    assert [r.inode for r in recs] == [1599628, 1599644]
    assert recs[0].slot == 60  # the first sighting is kept


def test_time_wait_rows_never_merged() -> None:
    rows = [TCP_TIME_WAIT, TCP_FIN_WAIT2_TW, TCP_TIME_WAIT, TCP_REQUEST, TCP_REQUEST, TCP_UNACCEPTED_CHILD, TCP_UNACCEPTED_CHILD]
    recs = parse(table("tcp", *rows), "tcp", byteorder="little")
    assert len(recs) == len(rows) and all(r.inode == 0 for r in recs)


def test_raw_protocol_in_local_port() -> None:
    proto253 = one(RAW_253_CONNECTED, "raw")
    assert proto253.local.port == 253 and proto253.protocol == 253 and proto253.remote.port == 0
    assert proto253.state is TcpState.ESTABLISHED and proto253.remote.ip == LOOPBACK
    icmp = one(RAW_ICMP, "raw")
    assert icmp.protocol == socket.IPPROTO_ICMP and icmp.state is TcpState.CLOSE
    assert icmp.type == socket.SOCK_RAW and icmp.drops == 0 and icmp.slot == 124
    icmp6 = one(RAW6_ICMPV6, "raw6")
    assert icmp6.protocol == socket.IPPROTO_ICMPV6 and icmp6.family == socket.AF_INET6 and icmp6.table == "raw6"


def test_udp_memory_queues_and_drops() -> None:
    rec = one(UDP_BOUND_DROPS, "udp")
    assert rec.state is TcpState.CLOSE and rec.state.ss_name == "UNCONN"
    assert (rec.tx_queue, rec.rx_queue, rec.drops, rec.slot) == (0, 0x680, 48, 915)
    assert rec.timer is Timer.NONE and rec.uid == 0 and rec.rto is None and rec.type == socket.SOCK_DGRAM
    assert rec.protocol == socket.IPPROTO_UDP and not rec.is_minisock
    conn = one(UDP_CONNECTED, "udp")
    assert conn.state is TcpState.ESTABLISHED and conn.remote.port == 0xCB69


def test_udplite_table_is_its_own_proto() -> None:
    rec = one(UDPLITE_BOUND, "udplite")
    assert rec.proto == "udplite" and rec.protocol == 136 and rec.table == "udplite" and rec.slot == 15373


def test_states_filter_keeps_only_those_states() -> None:
    recs = parse(table("tcp", *TCP_ROWS), "tcp", byteorder="little", states={TcpState.LISTEN, TcpState.TIME_WAIT})
    assert sorted(r.state.name for r in recs) == ["LISTEN", "LISTEN", "TIME_WAIT"]


@pytest.mark.parametrize("name", ["tcp", "tcp6", "udp", "raw6"])
@SETTINGS
@given(data=st.data())
def test_states_filter_gives_the_same_records_from_bytes_and_text(name: str, data: Any) -> None:
    # One to three states are searched for in the text (bytes: as read); more are tested
    # row by row; either way the records are those of the whole table in those states.
    # (A filter of up to three states once gave nothing at all from bytes.)
    records = data.draw(S.inet_tables(name))
    states = data.draw(st.sets(st.sampled_from(sorted({r.state for r in records} | {TcpState.LISTEN, TcpState.ESTABLISHED,
                                                                                   TcpState.CLOSE, TcpState.TIME_WAIT})),
                               max_size=5))
    text = format_inet(records, name, byteorder="little")
    expected = [r for r in records if r.state in states]
    assert parse(text, name, byteorder="little", states=states) == expected
    assert parse(S.kernel_bytes(text), name, byteorder="little", states=states) == expected
    assert parse(bytearray(S.kernel_bytes(text)), name, byteorder="little", states=states) == expected


def test_one_state_from_bytes_finds_its_rows() -> None:
    data = table("tcp", *TCP_ROWS).encode()
    listen = parse(data, "tcp", byteorder="little", states=[TcpState.LISTEN])
    assert [r.state.name for r in listen] == ["LISTEN", "LISTEN"]
    assert listen == parse(data.decode(), "tcp", byteorder="little", states=[TcpState.LISTEN])


def test_an_empty_states_filter_gives_no_records_and_no_error() -> None:
    # e.g. state="listening" with filter="state established": no state is wanted. (The
    # search for no state token once matched every line and reported the header as bad.)
    text = table("tcp", *TCP_ROWS)
    for data in (text, text.encode()):
        assert parse(data, "tcp", byteorder="little", states=[]) == []


def test_drops_absent_on_old_kernels() -> None:
    old = UDP_BOUND_DROPS[: -len(" 48")]
    assert one(old, "udp").drops is None


# -- errors -----------------------------------------------------------------------------------


def test_parse_error_names_file_line_and_reason() -> None:
    bad = TCP_SYN_SENT.replace("0100007F:C302", "ZZ00007F:C302")
    text = table("tcp", TCP_LISTEN_DEFER, bad, TCP_TIME_WAIT)
    with pytest.raises(ParseError) as info:
        parse(text, "tcp", path="/proc/net/tcp")
    err = info.value
    line = bad.ljust(149)
    assert (err.path, err.lineno, err.line) == ("/proc/net/tcp", 3, line)
    assert "local address" in err.reason and "'ZZ00007F:C302'" in err.reason
    assert str(err) == "/proc/net/tcp:3: %s | %s" % (err.reason, line)
    assert isinstance(err, procnet.ProcNetError) and isinstance(err, ValueError)


def test_parse_error_without_a_path_names_the_table() -> None:
    with pytest.raises(ParseError) as info:
        parse(table("udp", UDP_BOUND_DROPS, "garbage"), "udp")
    assert str(info.value).startswith("udp:3: ") and info.value.line == "garbage".ljust(127)


def test_lenient_mode_reports_each_bad_line_and_keeps_the_rest() -> None:
    text = table("tcp", TCP_LISTEN_DEFER, "  2: nonsense", TCP_TIME_WAIT, "", TCP_SYN_SENT[:40])
    errors: List[ParseError] = []
    recs = parse(text, "tcp", byteorder="little", on_error=errors.append)
    assert [r.slot for r in recs] == [1, 29764]
    assert [e.lineno for e in errors] == [3, 5, 6]
    assert "sl" in errors[0].reason or "address" in errors[0].reason


def test_empty_table_is_an_error() -> None:
    for empty in ("", b""):
        with pytest.raises(ParseError) as info:
            parse(empty, "tcp")
        assert info.value.lineno == 1 and "empty" in info.value.reason
    # a header and no rows is a table with no sockets, not an error
    assert parse(table("tcp"), "tcp") == []


@pytest.mark.parametrize(
    "text, name",
    [
        ("Num       RefCount Protocol Flags    Type St Inode Path\n", "tcp"),
        (table("tcp", TCP_LISTEN_DEFER), "udp"),  # tcp rows would parse as udp, rto read as drops
        (table("udp", UDP_BOUND_DROPS), "tcp"),
        (table("tcp", TCP_LISTEN_DEFER), "tcp6"),
        (table("tcp6", TCP6_MAPPED_LISTEN), "tcp"),
        (table("udp6", UDP6_MAPPED), "raw"),
        ("\n" + TCP_LISTEN_DEFER + "\n", "tcp"),
        (TCP_LISTEN_DEFER + "\n", "tcp"),  # no header at all
    ],
)
def test_header_mismatch(text: str, name: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(text, name)
    assert info.value.lineno == 1 and "not a %s table" % name in info.value.reason
    errors: List[ParseError] = []
    assert parse(text, name, on_error=errors.append) == [] and len(errors) == 1


@pytest.mark.parametrize(
    "old, new, what",
    [
        (" 1599644 ", " " + "9" * 5000 + " ", "inode"),  # would be ValueError from int() on 3.11+
        (" 1599644 ", " " + "9" * 21 + " ", "inode"),  # more than a u64
        ("     0        0 1599644", "     \u0663        0 1599644", "uid"),  # a non-ASCII digit
        ("02 00000001", "2 00000001", "state"),
        ("8028:", "-8028:", "sl"),
        (" 100 0 0 10 -1", " 100 0 0 10", "fields"),
        ("0100007F:C302", "0100007F:C30", "local address"),
        ("00000001:00000000", "00000001:0000000000000000F", "tx_queue"),
        (" 01:00000040", " 01:000000000000000040", "tm->when"),
        ("0100007F:C302", "01\x00007F:C302", "local address"),
    ],
)
def test_malformed_fields_are_parse_errors(old: str, new: str, what: str) -> None:
    bad = TCP_SYN_SENT.replace(old, new, 1)
    assert bad != TCP_SYN_SENT
    with pytest.raises(ParseError) as info:
        parse(table("tcp", bad), "tcp")
    assert info.value.lineno == 2
    assert what.split()[-1] in info.value.reason or what == "fields", info.value.reason


def test_bad_arguments_are_value_errors() -> None:
    with pytest.raises(ValueError, match="tcp6"):
        parse("", "sctp")
    with pytest.raises(ValueError, match="little"):
        parse(table("tcp"), "tcp", byteorder="middle")
    with pytest.raises(TypeError):
        parse(42, "tcp")
    with pytest.raises(ValueError, match="cannot be written"):
        format_inet(parse(table("udp", UDP_BOUND_DROPS), "udp"), "tcp")


@pytest.mark.parametrize("name", ["tcp", "tcp6", "udp", "raw6"])
@SETTINGS
@given(data=st.data(), block=st.integers(min_value=1, max_value=300), bad_at=st.integers(min_value=0, max_value=8))
def test_bytes_decoded_a_block_at_a_time_give_what_the_whole_text_gives(
    name: str, data: Any, block: int, bad_at: int
) -> None:
    # Bytes are decoded about a megabyte of lines at a time (the table is never held as
    # both bytes and str); with blocks of a few bytes, every cut falls somewhere new:
    # the records, the errors and their line numbers must not move.
    from procnet._parse import inet

    records = data.draw(S.inet_tables(name))
    lines = format_inet(records, name, byteorder="little").split("\n")
    lines.insert(1 + min(bad_at, len(lines) - 2), "  9: not a row \udcff")
    text = "\n".join(lines)
    raw = text.encode("utf-8", "surrogateescape")

    def errors(source: Any) -> List[Any]:
        seen: List[Any] = []
        out = parse(source, name, byteorder="little", on_error=seen.append)
        return [out, [(e.lineno, e.line, e.reason) for e in seen]]

    expected = errors(text)
    saved = inet._BLOCK
    inet._BLOCK = block
    try:
        assert errors(raw) == expected
    finally:
        inet._BLOCK = saved
    assert expected[0] == records and len(expected[1]) == 1
