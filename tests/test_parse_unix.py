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
from procnet._parse import unix as unix_parser
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


# -- streaming: one record at a time ------------------------------------------------------------
#
# The parser reads the text as it goes: nothing proportional to the table is built before
# the first record (once it held a tuple per row, about ten times the table), and a bad line
# is reported when the iteration reaches it. The lists built on it (procnet.sockets(...))
# read every row before they return, so they still raise before returning anything.

# An embryo (St 02, inode 0: never merged as a duplicate, so the parser's memory of recent
# inodes stays empty and only what the parser itself holds is measured), with a path.
_EMBRYO_ROW = "%016x: 00000003 00000000 00000000 0001 02     0 /run/app/worker.sock\n"


def _embryo_table(rows: int, tail: str = "") -> str:
    # net/unix/af_unix.c unix_seq_show; a path holding a newline near the end (its row
    # takes two physical lines), then ``tail``.
    body = "".join([_EMBRYO_ROW % i for i in range(rows)])
    return HEADER.decode() + "\n" + body + NEWLINE_1.decode() + "\n" + NEWLINE_2.decode() + "\n" + tail


def _traced_peak(work: Any) -> int:
    """The peak of Python allocations (tracemalloc) while ``work()`` runs."""
    import tracemalloc

    if tracemalloc.is_tracing():
        pytest.skip("tracemalloc is already tracing in this process")
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


KiB = 1 << 10


def test_first_record_comes_before_the_table_is_read_and_a_bad_last_line_only_at_the_end() -> None:
    rows = 50_000
    bad = CLIENT.replace(b"00000003 ", b"0000003 ", 1).decode()
    # a row without a path, so that the bad line cannot continue a path (about 3.8 MB of text)
    text = _embryo_table(rows, CLIENT.decode() + "\n" + bad + "\n")
    it = parse_unix(text, path="/proc/net/unix")
    first: List[UnixSocket] = []
    peak = _traced_peak(lambda: first.append(next(it)))
    assert first[0].inode == 0 and first[0].pointer == "%016x" % 0
    # A tuple per row would be tens of MB here; the parser holds one slice's rows (16 KiB
    # of text, about 200 rows: about 100 KiB) and its own state.
    assert peak < 1024 * KiB, "the first record cost %d KiB of allocations" % (peak // KiB)
    got = 1
    with pytest.raises(ParseError) as info:
        for _ in it:
            got += 1
    # every row before the bad line's was yielded first, the newline path joined; the row
    # just before it is pending (a next line could have continued its path)
    assert got == rows + 1
    assert (info.value.lineno, info.value.line) == (rows + 5, bad)


def test_iterating_a_whole_table_holds_a_bounded_slice_of_it() -> None:
    rows = 10_000  # a tuple per row would be about 6 MB (tracemalloc makes each row slow)
    text = _embryo_table(rows)
    count = [0]

    def consume() -> None:
        for _ in parse_unix(text):
            count[0] += 1

    peak = _traced_peak(consume)
    assert count[0] == rows + 1
    assert peak < 1024 * KiB, "iterating %d rows peaked at %d KiB of allocations" % (rows, peak // KiB)


# A model of the parser written plainly, line by line, from the module docstring: a line
# shaped like a row (strategies' UNIX_ROW, procnet._parse.unix._ROW) starts a row; any other
# line continues the path of the row before it, if that row has one, and is bad otherwise;
# a row is complete when the next row starts. It yields the events in the order a caller
# sees them: ("error", lineno, line) when a bad line is reached, ("record", r) when a row is.


def _model(text: str, states: Optional[List[TcpState]]) -> List[Any]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    events: List[Any] = []
    seen = set()
    pending: Optional[List[Any]] = None  # [groups, continuation lines]

    def complete(groups: Any, rest: List[str]) -> None:
        pointer, refcount, protocol, flags, type_, status, inode, name = groups
        if int(inode) and int(inode) in seen:
            return
        seen.add(int(inode))
        flags, status = int(flags, 16), int(status, 16)
        state = unix_state(flags, status)
        if states is not None and state not in states:
            return
        path = None if name is None else "\n".join([name[1:]] + rest)
        events.append(("record", UnixSocket(int(type_, 16), state, SocketStatus(status), UnixFlag(flags),
                                            int(refcount, 16), int(inode), path, pointer, int(protocol, 16))))

    for lineno, line in enumerate(lines[1:], 2):
        m = S.UNIX_ROW.match(line)
        if m is None:
            if pending is not None and pending[0][7] is not None:
                pending[1].append(line)
            else:
                events.append(("error", lineno, line))
            continue
        if pending is not None:
            complete(*pending)
        pending = [m.groups(), []]
    if pending is not None:
        complete(*pending)
    return events


_BAD_LINES = ["", "sock", "garbage line", "   ", "\r", CLIENT.decode()[:30], CLIENT.decode().replace(" 03 ", " 3 "),
              LISTENER.decode() + "\x00", "0000000000000000: 00000002"]


@st.composite
def _messy_tables(draw: Any) -> str:
    """format_unix's text, then rows repeated (the kernel lists a socket twice when its
    table changes between two reads), bad lines inserted anywhere after the header (after
    a row with a path they continue it), perhaps the last newline cut."""
    lines = format_unix(draw(S.unix_tables())).split("\n")[:-1]
    for _ in range(draw(st.integers(0, 5))):
        at = draw(st.integers(1, len(lines)))
        what = draw(st.sampled_from(["repeat", "bad", "unbound row, bad"]))
        if what == "repeat" and len(lines) > 1:
            lines.insert(at, lines[draw(st.integers(1, len(lines) - 1))])
        elif what == "unbound row, bad":  # the bad line cannot continue a path
            unbound = "0000000000000000: 00000002 00000000 00000000 0002 01 %5d" % draw(st.integers(0, 9))
            lines[at:at] = [unbound, draw(st.sampled_from(_BAD_LINES))]
        else:
            lines.insert(at, draw(st.sampled_from(_BAD_LINES)))
    return "\n".join(lines) + ("\n" if draw(st.booleans()) else "")


@SETTINGS
@given(text=_messy_tables(), states=st.one_of(st.none(), st.lists(st.sampled_from(list(TcpState)), max_size=3)),
       slice_size=st.sampled_from([1, 60, 150, 400, unix_parser._SLICE]))
def test_streaming_parser_gives_the_models_records_and_errors_in_order(
    text: str, states: Optional[List[TcpState]], slice_size: int
) -> None:
    # The parser scans the text a slice at a time (about 16 KiB); small slices put slice
    # boundaries everywhere: between a row and the lines that continue its path, before
    # a bad line, after a duplicate.
    saved = unix_parser._SLICE
    unix_parser._SLICE = slice_size
    try:
        _check_against_the_model(text, states)
    finally:
        unix_parser._SLICE = saved


def _check_against_the_model(text: str, states: Optional[List[TcpState]]) -> None:
    expected = _model(text, states)
    for data in (text, S.kernel_bytes(text)):
        events: List[Any] = []
        for rec in parse_unix(data, states=states, on_error=lambda e: events.append(("error", e.lineno, e.line))):
            events.append(("record", rec))
        assert events == expected
        # strict: the same records up to the first bad line, then its error
        first_bad = next((i for i, e in enumerate(expected) if e[0] == "error"), None)
        got: List[Any] = []
        if first_bad is None:
            got.extend(("record", r) for r in parse_unix(data, states=states))
            assert got == expected
            continue
        with pytest.raises(ParseError) as info:
            for rec in parse_unix(data, states=states, path="/proc/net/unix"):
                got.append(("record", rec))
        assert got == expected[:first_bad]
        assert ("error", info.value.lineno, info.value.line) == expected[first_bad]
