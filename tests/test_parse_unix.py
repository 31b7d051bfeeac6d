"""procnet._parse.unix: /proc/net/unix rows, paths the kernel prints raw, and bad input.

Rows are copied verbatim (as bytes) from KERNEL-FORMATS.md Appendix A (live Linux 6.18).
"""

from __future__ import annotations

import os
import socket
from typing import Any, List, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from procnet import ParseError, SocketStatus, TcpState, UnixFlag, UnixSocket, format_unix, parse_unix
from procnet._parse.unix import unix_state

import strategies as S

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HEADER = b"Num       RefCount Protocol Flags    Type St Inode Path"

# -- Appendix A, /proc/net/unix -----------------------------------------------------------
LISTENER = b"00000000707b7554: 00000002 00000000 00010000 0001 01 1609568 /tmp/t/dir with space/lis ten.sock"
ACCEPTED = b"00000000ebf64515: 00000003 00000000 00000000 0001 03 1609571 /tmp/t/dir with space/lis ten.sock"
EMBRYO = b"00000000177b5f63: 00000003 00000000 00000000 0001 02     0 /tmp/t/dir with space/lis ten.sock"
CLIENT = b"0000000083226f8c: 00000003 00000000 00000000 0001 03 1609570"
ABSTRACT = b"00000000ffde33cb: 00000002 00000000 00010000 0001 01 1609572 @abs@tract name"
NEWLINE_1 = b"000000009231835c: 00000002 00000000 00000000 0001 01 1609573 /tmp/t/dir with space/nl"
NEWLINE_2 = b"sock"
PAIR_END = b"00000000f9b62359: 00000003 00000000 00000000 0001 03 1609575"
SEQPACKET_LISTENER = b"00000000dc6adde2: 00000002 00000000 00010000 0005 01 1609576 /tmp/t/dir with space/sp.sock"
DGRAM_BOUND = b"00000000054b989b: 00000003 00000000 00000000 0002 03 1609577 /tmp/t/dir with space/dg.sock"
DGRAM_CLIENT = b"00000000bd96218d: 00000002 00000000 00000000 0002 03 1609578"
DGRAM_UNBOUND = b"000000001fa9e7f7: 00000002 00000000 00000000 0002 01 1609579"
AUTOBIND = b"000000003b851416: 00000002 00000000 00000000 0002 01 1609580 @b4cc7"
LEADING_SPACE = b"0000000039b068d7: 00000002 00000000 00000000 0001 01 1608522  lead"
PADDED_ABSTRACT = b"00000000e768d421: 00000002 00000000 00000000 0002 01 1608521 @pad@@@@"
ROWS = [
    LISTENER,
    ACCEPTED,
    EMBRYO,
    CLIENT,
    ABSTRACT,
    NEWLINE_1,
    NEWLINE_2,
    PAIR_END,
    SEQPACKET_LISTENER,
    DGRAM_BOUND,
    DGRAM_CLIENT,
    DGRAM_UNBOUND,
    AUTOBIND,
    LEADING_SPACE,
    PADDED_ABSTRACT,
]


def table(*rows: bytes) -> bytes:
    return b"".join(line + b"\n" for line in (HEADER,) + rows)


def parse(data: Any, **kw: Any) -> List[UnixSocket]:
    return list(parse_unix(data, **kw))


def one(row: bytes) -> UnixSocket:
    (rec,) = parse(table(row))
    return rec


# -- round trip -------------------------------------------------------------------------------


@SETTINGS
@given(records=S.unix_tables())
def test_round_trip_records_format_parse(records: List[UnixSocket]) -> None:
    text = format_unix(records)
    assert parse(text) == records
    assert parse(S.kernel_bytes(text)) == records


@SETTINGS
@given(records=S.unix_tables())
def test_non_utf8_paths_give_the_kernels_bytes_back(records: List[UnixSocket]) -> None:
    data = S.kernel_bytes(format_unix(records))
    for rec in parse(data):
        if rec.path is not None:
            assert os.fsencode(rec.path) in data


@SETTINGS
@given(flags=st.sampled_from([0, 1 << 16]), status=st.integers(0, 255))
def test_state_follows_the_accept_flag_then_st(flags: int, status: int) -> None:
    state = unix_state(flags, status)
    if flags:
        assert state is TcpState.LISTEN
    else:
        expected = {1: "CLOSE", 2: "SYN_SENT", 3: "ESTABLISHED", 4: "CLOSING"}.get(status, "CLOSE")
        assert state.name == expected


def test_round_trip_of_every_verbatim_row() -> None:
    data = table(*ROWS)
    assert S.kernel_bytes(format_unix(parse(data))) == data


def test_a_record_without_pointer_or_refcount_is_written_as_the_kernel_hides_them() -> None:
    # one from sock_diag: the text gets kptr_restrict's zeros and a 0 count, not a made-up
    # value; reading it back gives those (the cookie is not in the text)
    rec = UnixSocket(socket.SOCK_STREAM, TcpState.LISTEN, SocketStatus.UNCONNECTED, UnixFlag.ACCEPTCON,
                     None, 9, "/x", None, cookie=0x99)
    text = format_unix([rec])
    assert text.splitlines()[1] == "0000000000000000: 00000000 00000000 00010000 0001 01     9 /x"
    (back,) = parse(text)
    assert (back.pointer, back.refcount, back.cookie) == ("0000000000000000", 0, None)
    assert (back.inode, back.path) == (9, "/x")


# -- documented limits: what the text cannot tell apart ------------------------------------


def test_documented_limit_newline_then_row_shaped_text_is_two_rows() -> None:
    forged = "/tmp/x\n" + PAIR_END.decode()  # a path a local user chose to look like a row
    rec = UnixSocket(socket.SOCK_STREAM, TcpState.CLOSE, SocketStatus.UNCONNECTED, UnixFlag(0), 2, 77, forged, "0" * 16)
    got = parse(format_unix([rec]))
    assert [r.path for r in got] == ["/tmp/x", None]
    assert [r.inode for r in got] == [77, 1609575]


def test_documented_limit_at_and_nul_look_the_same() -> None:
    # "\0abs\0tract name" and "@abs@tract name" print alike; the record keeps what was printed
    assert one(ABSTRACT).path == "@abs@tract name"


def test_path_ending_in_newline_round_trips() -> None:
    rec = UnixSocket(socket.SOCK_DGRAM, TcpState.CLOSE, SocketStatus.UNCONNECTED, UnixFlag(0), 2, 5, "/tmp/nl\n", "0" * 16)
    for records in ([rec], [rec, one(PAIR_END)]):
        assert parse(format_unix(records)) == records


# -- robustness -----------------------------------------------------------------------------


def _lines(data: Any) -> List[str]:
    text = data if isinstance(data, str) else bytes(data).decode("utf-8", "surrogateescape")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def check_strict_and_lenient(data: Any) -> None:
    """Records or ParseError strictly; lenient mode never raises and names every bad line."""
    try:
        strict: Optional[List[UnixSocket]] = parse(data, path="/proc/net/unix")
    except ParseError as exc:
        strict = None
        assert exc.path == "/proc/net/unix" and isinstance(exc.lineno, int) and exc.lineno >= 1
        assert str(exc).startswith("/proc/net/unix:%d: " % exc.lineno)
    errors: List[ParseError] = []
    lenient = parse(data, on_error=errors.append)
    assert (strict is None) == bool(errors)
    if strict is not None:
        assert lenient == strict
        return
    lines = _lines(data)
    linenos = [e.lineno for e in errors]
    assert linenos == sorted(set(linenos))  # type: ignore[type-var]
    for e in errors:
        assert e.lineno is not None
        assert e.line == (lines[e.lineno - 1] if lines else "")
    if linenos[0] == 1:
        assert len(errors) == 1 and lenient == []
        return
    bad = set(linenos)
    kept = "".join(line + "\n" for i, line in enumerate(lines, 1) if i not in bad)
    assert parse(kept) == lenient


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_mutated_real_table_gives_records_or_parse_error(data: Any) -> None:
    text = data.draw(S.mutated(table(*ROWS).decode("utf-8", "surrogateescape")))
    check_strict_and_lenient(text)
    check_strict_and_lenient(text.encode("utf-8", "surrogateescape"))


@SETTINGS
@given(body=st.one_of(st.binary(), st.text().map(lambda t: t.encode("utf-8", "surrogatepass"))), header=st.booleans())
def test_arbitrary_bytes_give_records_or_parse_error(body: bytes, header: bool) -> None:
    check_strict_and_lenient((HEADER + b"\n" + body) if header else body)


# -- example rows ---------------------------------------------------------------------------


def test_path_with_spaces_is_kept_whole() -> None:
    rec = one(LISTENER)
    assert rec.path == "/tmp/t/dir with space/lis ten.sock"
    assert rec.state is TcpState.LISTEN and rec.is_listening and rec.flags == UnixFlag.ACCEPTCON
    assert rec.status is SocketStatus.UNCONNECTED and rec.type == socket.SOCK_STREAM
    assert (rec.refcount, rec.inode, rec.pointer, rec.protocol) == (2, 1609568, "00000000707b7554", 0)
    assert rec.family == socket.AF_UNIX and rec.proto == "unix" and rec.table == "unix" and not rec.is_abstract


def test_path_with_leading_space_is_not_stripped() -> None:
    assert one(LEADING_SPACE).path == " lead"
    assert one(LEADING_SPACE + b"  ").path == " lead  "  # nor trailing ones


def test_unix_path_with_newline_keeps_rest_of_table() -> None:
    recs = parse(table(*ROWS))
    assert len(recs) == len(ROWS) - 1  # one row was two physical lines
    by_inode = {r.inode: r for r in recs if r.inode}
    assert by_inode[1609573].path == "/tmp/t/dir with space/nl\nsock"
    assert by_inode[1609575].path is None and by_inode[1609575].state is TcpState.ESTABLISHED
    assert [r.inode for r in recs][-3:] == [1609580, 1608522, 1608521]


def test_unix_embryo_inode_0() -> None:
    rec = one(EMBRYO)
    assert rec.inode == 0
    assert rec.status is SocketStatus.CONNECTING and rec.state is TcpState.SYN_SENT
    # it inherits the listener's address
    assert rec.path == one(LISTENER).path
    # embryos are never merged on their inode 0
    assert len(parse(table(EMBRYO, EMBRYO, LISTENER))) == 3


def test_unix_listener_accepted_and_client() -> None:
    assert one(ACCEPTED).state is TcpState.ESTABLISHED and one(ACCEPTED).status is SocketStatus.CONNECTED
    client = one(CLIENT)
    assert client.path is None and client.state is TcpState.ESTABLISHED
    seq = one(SEQPACKET_LISTENER)
    assert seq.type == socket.SOCK_SEQPACKET and seq.state is TcpState.LISTEN


def test_unix_dgram_states() -> None:
    assert one(DGRAM_BOUND).type == socket.SOCK_DGRAM and one(DGRAM_BOUND).state is TcpState.ESTABLISHED
    assert one(DGRAM_CLIENT).path is None
    unbound = one(DGRAM_UNBOUND)
    assert unbound.state is TcpState.CLOSE and unbound.state.ss_name == "UNCONN" and unbound.path is None


def test_abstract_names() -> None:
    for row, name in [(ABSTRACT, "@abs@tract name"), (AUTOBIND, "@b4cc7"), (PADDED_ABSTRACT, "@pad@@@@")]:
        rec = one(row)
        assert rec.path == name and rec.is_abstract


def test_non_utf8_path_survives_as_surrogate_escapes() -> None:
    rec = one(DGRAM_BOUND.replace(b"dg.sock", b"\xff\xfe.sock"))
    assert rec.path is not None and os.fsencode(rec.path).endswith(b"\xff\xfe.sock")


def test_control_characters_other_than_newline_stay_in_the_path() -> None:
    rec = one(DGRAM_BOUND.replace(b"dg.sock", b"a\rb\x0bc\x1cd.sock"))
    assert rec.path == "/tmp/t/dir with space/a\rb\x0bc\x1cd.sock"


def test_duplicate_inode_yielded_once() -> None:
    recs = parse(table(LISTENER, CLIENT, LISTENER.replace(b"707b7554", b"11111111")))
    assert [r.inode for r in recs] == [1609568, 1609570] and recs[0].pointer == "00000000707b7554"


def test_states_filter() -> None:
    recs = parse(table(*ROWS), states=[TcpState.LISTEN])
    assert sorted(r.inode for r in recs) == [1609568, 1609572, 1609576]


def test_unknown_type_and_status_kept() -> None:
    rec = one(CLIENT.replace(b"0001 03", b"0003 07"))
    assert rec.type == 3 and rec.status.name == "UNKNOWN_7" and rec.state is TcpState.CLOSE


def test_pointer_zeros_under_kptr_restrict() -> None:
    assert one(b"0000000000000000" + LISTENER[16:]).pointer == "0000000000000000"


# -- errors -----------------------------------------------------------------------------------


def test_parse_error_names_file_line_and_reason() -> None:
    bad = CLIENT.replace(b"00000003 ", b"0000003 ", 1)
    with pytest.raises(ParseError) as info:
        parse(table(LISTENER, CLIENT, bad), path="/proc/net/unix")
    err = info.value
    assert (err.path, err.lineno, err.line) == ("/proc/net/unix", 4, bad.decode())
    assert "RefCount" in err.reason and "'0000003'" in err.reason
    assert str(err) == "/proc/net/unix:4: %s | %s" % (err.reason, bad.decode())


def test_bad_line_after_an_unbound_row_is_an_error_not_a_path() -> None:
    errors: List[ParseError] = []
    recs = parse(table(CLIENT, b"sock", LISTENER), on_error=errors.append)
    assert [r.inode for r in recs] == [1609570, 1609568] and recs[0].path is None
    assert [e.lineno for e in errors] == [3]


def test_empty_table_is_an_error() -> None:
    for empty in (b"", ""):
        with pytest.raises(ParseError) as info:
            parse(empty)
        assert info.value.lineno == 1
    assert parse(table()) == []


def test_header_mismatch() -> None:
    tcp = b"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    for data in (tcp, LISTENER + b"\n", b"\n" + LISTENER + b"\n"):
        with pytest.raises(ParseError) as info:
            parse(data)
        assert info.value.lineno == 1 and "not a unix table" in info.value.reason


def test_huge_inode_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        parse(table(CLIENT.replace(b"1609570", b"9" * 5000)))
    with pytest.raises(ParseError):
        parse(table(CLIENT.replace(b"1609570", "\u0663".encode())))
