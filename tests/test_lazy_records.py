"""Compact socket records: fields decoded on first read behave as if decoded at once.

The parsers build an InetSocket that keeps its row's text (or its netlink message) and
decodes the fields other than proto, family, state, inode, netns and owners when one of
them is first read (procnet/_records.py, _lazy_record). These tests pin what that must
not change: checking happens when the table is parsed, values and equality are those of
an eagerly built record, copies hold no source, and threads may race on the first read.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
import socket
import threading
from typing import Any, List

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import procnet
from procnet import InetSocket, TcpState
from procnet._parse.inet import format_inet, parse_inet
from procnet._parse.netlink import parse_inet_dump

import strategies as S
from test_parse_netlink import done, inet_diag_msg, sock, tcp_info

SETTINGS = settings(max_examples=60, deadline=None)
HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
GOOD = "   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 0000000000000000 100 0 0 10 0"
KEPT = ("proto", "family", "state", "inode", "netns", "owners", "owners_complete")


def _undecoded(rec: InetSocket) -> bool:
    return type(rec._v) is not tuple  # type: ignore[attr-defined]


def _eager(rec: InetSocket) -> InetSocket:
    """The same record built through the dataclass __init__ (every field given)."""
    return InetSocket(*(getattr(rec, f.name) for f in dataclasses.fields(rec)))


@SETTINGS
@given(table=st.sampled_from(S.INET_TABLES), data=st.data(), order=st.sampled_from(["little", "big"]))
def test_parsed_records_decode_on_first_read_to_the_written_values(table: str, data: Any, order: str) -> None:
    written = data.draw(S.inet_tables(table, max_size=8))
    parsed = list(parse_inet(format_inet(written, table, byteorder=order), table, byteorder=order))
    assert len(parsed) == len(written)
    for rec, expected in zip(parsed, written):
        # what a query reads for every row is there without decoding the rest
        assert (rec.proto, rec.family, rec.state, rec.inode, rec.owners) == (
            expected.proto, expected.family, expected.state, expected.inode, ())
        assert _undecoded(rec)
        # the first field read, whichever it is, decodes them all
        name = data.draw(st.sampled_from(InetSocket._LAZY))  # type: ignore[attr-defined]
        assert getattr(rec, name) == getattr(expected, name)
        assert not _undecoded(rec) and rec._load is None  # type: ignore[attr-defined]
        assert rec == expected and hash(rec) == hash(expected) and repr(rec) == repr(expected)


@SETTINGS
@given(table=st.sampled_from(S.INET_TABLES), data=st.data())
def test_undecoded_records_compare_copy_and_pickle_as_values(table: str, data: Any) -> None:
    written = data.draw(S.inet_tables(table, max_size=4).filter(bool))
    text = format_inet(written, table)
    fresh = lambda: list(parse_inet(text, table))  # noqa: E731
    for rec, expected in zip(fresh(), written):
        assert rec == expected  # equality reads the fields: decodes
    for rec, expected in zip(fresh(), written):
        back = pickle.loads(pickle.dumps(rec))
        assert back == expected and not _undecoded(back) and back._load is None  # type: ignore[attr-defined]
    for rec, expected in zip(fresh(), written):
        assert copy.copy(rec) == expected and copy.deepcopy(rec) == expected
    for rec, expected in zip(fresh(), written):
        assert dataclasses.asdict(rec) == dataclasses.asdict(expected)
    for rec, expected in zip(fresh(), written):
        moved = dataclasses.replace(rec, inode=rec.inode + 1)
        assert moved.inode == expected.inode + 1
        assert dataclasses.replace(moved, inode=expected.inode) == expected
    for rec, expected in zip(fresh(), written):
        assert _eager(rec) == rec == expected


def test_records_are_still_frozen_dataclasses() -> None:
    (rec,) = parse_inet(HEADER + GOOD + "\n", "tcp")
    assert dataclasses.is_dataclass(rec) and type(rec) is InetSocket
    assert [f.name for f in dataclasses.fields(rec)][:5] == ["proto", "family", "local", "remote", "state"]
    for name in ("local", "inode", "owners", "rto", "_v", "_load", "not_a_field"):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(rec, name, None)
        with pytest.raises(dataclasses.FrozenInstanceError):
            delattr(rec, name)
    assert not hasattr(rec, "__dict__")
    assert _undecoded(rec)  # the failed writes decoded nothing
    assert str(rec.local) == "127.0.0.1:22" and rec.fastopen_max_qlen == 0


@pytest.mark.parametrize("field", [0, 1, 2, 4, 5, 6, 7, 8, 10, 12, 13, 14, 15, 16])
def test_a_bad_field_is_an_error_when_the_table_is_parsed_not_when_read(field: int) -> None:
    # Every token but the state (3), inode (9) and pointer (11, any text) broken in turn:
    # checking is not deferred to the first read of the field.
    tokens = GOOD.split()
    tokens[field] = "zz:" if field == 0 else "Z" * len(tokens[field])
    bad = " ".join(tokens)
    records = parse_inet(HEADER + GOOD + "\n" + bad + "\n", "tcp")
    with pytest.raises(procnet.ParseError) as info:
        list(records)
    assert info.value.lineno == 3 and info.value.line == bad


def test_lines_that_are_not_rows_are_reported_with_their_numbers() -> None:
    errors: List[procnet.ParseError] = []
    text = HEADER + GOOD + "\n\nnot a row\n" + GOOD.replace(" 77 ", " 78 ") + "\ntrailing junk"
    records = list(parse_inet(text, "tcp", on_error=errors.append))
    assert [r.inode for r in records] == [77, 78]
    assert [(e.lineno, e.line) for e in errors] == [(3, ""), (4, "not a row"), (6, "trailing junk")]


def test_threads_racing_on_the_first_read_see_the_same_values() -> None:
    rows = "".join(GOOD.replace(" 77 ", " %d " % (100 + i)).replace("0016", "%04X" % (1000 + i)) + "\n" for i in range(2000))
    records = list(parse_inet(HEADER + rows, "tcp"))
    seen: List[List[int]] = [[] for _ in range(4)]
    start = threading.Barrier(4)

    def read(k: int) -> None:
        start.wait()
        seen[k] = [r.local.port for r in (records if k % 2 else reversed(records))]

    threads = [threading.Thread(target=read, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expected = [1000 + i for i in range(2000)]
    assert seen[1] == seen[3] == expected and seen[0] == seen[2] == expected[::-1]


def _message(**attrs: Any) -> bytes:
    return inet_diag_msg(family=socket.AF_INET6, state=10, sport=80, src=b"\0" * 16, inode=4321, **attrs)


def test_netlink_records_keep_only_the_attributes_they_read() -> None:
    # SHUTDOWN (8), SKV6ONLY (11) and CGROUP_ID (21) are read; MARK (15), SOCKOPT (22) not.
    payload = _message(attrs=[(15, b"\1\0\0\0"), (8, b"\0"), (21, b"\7" * 8), (11, b"\1"), (22, b"\0\0")])
    (rec,) = parse_inet_dump(sock(payload) + done(), "tcp", byteorder="little")
    assert _undecoded(rec) and (rec.state, rec.inode, rec.family) == (TcpState.LISTEN, 4321, socket.AF_INET6)
    kept = rec._v  # type: ignore[attr-defined]
    assert len(kept) == 72 + 8 + 12 + 8 < len(payload)
    assert (rec.shutdown, rec.v6only, rec.local.port, rec.cgroup_id) == (0, True, 80, 0x0707070707070707)
    assert rec == _eager(rec)


def test_lazy_order_is_the_field_order_without_the_stored_fields() -> None:
    # every decoder builds the lazy tuple positionally: this is the order they follow
    names = [f.name for f in dataclasses.fields(InetSocket)]
    assert InetSocket._LAZY == tuple(n for n in names if n not in KEPT)  # type: ignore[attr-defined]
    assert InetSocket._LAZY[-2:] == ("cookie", "cgroup_id") and len(InetSocket._LAZY) == 27  # type: ignore[attr-defined]


def test_netlink_records_decode_the_cookie_and_no_text_only_field() -> None:
    payload = _message(attrs=[(8, b"\0")], cookie=0xDEADBEEF_00000001)
    (rec,) = parse_inet_dump(sock(payload) + done(), "tcp", byteorder="little")
    assert _undecoded(rec)
    assert rec.cookie == 0xDEADBEEF_00000001
    assert (rec.refcount, rec.pointer, rec.slot) == (None, None, None)
    assert rec == _eager(rec) and pickle.loads(pickle.dumps(rec)) == rec
    # and a text row: its pointer, refcount and row number, no cookie
    (text,) = parse_inet(HEADER + GOOD + "\n", "tcp")
    assert (text.refcount, text.pointer, text.slot, text.cookie) == (1, "0000000000000000", 0, None)


def test_netlink_records_with_tcp_info_are_decoded_at_once() -> None:
    payload = _message(attrs=[(2, tcp_info(232, rtt=5)), (8, b"\0")])
    (rec,) = parse_inet_dump(sock(payload) + done(), "tcp", byteorder="little")
    assert not _undecoded(rec) and rec._load is None  # type: ignore[attr-defined]
    assert rec.tcp_info is not None and rec.tcp_info.rtt_us == 5


def test_a_bad_attribute_is_an_error_when_the_dump_is_decoded() -> None:
    payload = _message(attrs=[(8, b"\0")])
    broken = payload[:72] + b"\x40\x00" + payload[74:]  # the attribute claims 64 bytes
    with pytest.raises(procnet.ParseError, match="nla_len 64"):
        list(parse_inet_dump(sock(broken) + done(), "tcp", byteorder="little"))


def test_kept_fields_are_slots() -> None:
    assert set(KEPT) <= set(InetSocket.__slots__)  # type: ignore[attr-defined]
    assert not set(InetSocket._LAZY) & set(InetSocket.__slots__)  # type: ignore[attr-defined]


def test_netlink_endpoint_caches_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from procnet._parse import netlink

    monkeypatch.setattr(netlink, "ENDPOINT_CACHE_LIMIT", 4)
    reply = b"".join(
        sock(inet_diag_msg(state=1, sport=1000 + i, dport=80, src=bytes([10, 0, 0, i]), dst=b"\x7f\0\0\1", inode=100 + i))
        for i in range(1, 20)
    ) + done()
    decoder = netlink.InetDumpDecoder("tcp", byteorder="little")
    records = decoder.feed(reply)
    assert [(str(r.local), str(r.remote)) for r in records] == [
        ("10.0.0.%d:%d" % (i, 1000 + i), "127.0.0.1:80") for i in range(1, 20)]
    assert decoder._cached <= 4 and len(decoder._ips4) <= 4
    assert sum(len(ports) for ports in decoder._endpoints4.values()) <= 4


def _listener(inode: int, attrs: Any) -> bytes:
    return sock(inet_diag_msg(state=10, sport=1000 + inode % 1000, src=b"\x7f\0\0\1", inode=inode, attrs=attrs))


def test_a_remembered_attribute_layout_is_only_reused_when_the_headers_match() -> None:
    good = [(8, b"\0"), (15, b"\1\0\0\0")]  # SHUTDOWN, MARK: 16 bytes of attributes
    swapped = [(15, b"\1\0\0\0"), (8, b"\1")]  # the same size, another order
    reply = _listener(1, good) + _listener(2, swapped) + _listener(3, good)
    decoder_records = parse_inet_dump(reply + done(), "tcp", byteorder="little")
    assert [(r.inode, r.shutdown) for r in decoder_records] == [(1, 0), (2, 1), (3, 0)]
    # the same size again, but the first header claims more bytes than there are
    bad = bytearray(_listener(4, good))
    bad[16 + 72] = 40
    with pytest.raises(procnet.ParseError, match="nla_len 40"):
        list(parse_inet_dump(reply + bytes(bad) + done(), "tcp", byteorder="little"))


@SETTINGS
@given(st.lists(st.lists(st.sampled_from([(8, b"\0"), (8, b"\3"), (15, b"\1\0\0\0"), (21, b"\7" * 8),
                                          (22, b"\0\0"), (11, b"\1"), (99, b"")]), max_size=4), min_size=1, max_size=12))
def test_messages_decode_the_same_alone_and_in_one_dump(layouts: List[Any]) -> None:
    messages = [_listener(i + 1, attrs) for i, attrs in enumerate(layouts)]
    together = [procnet.to_jsonable(r) for r in parse_inet_dump(b"".join(messages) + done(), "tcp", byteorder="little")]
    alone = [procnet.to_jsonable(r) for m in messages for r in parse_inet_dump(m + done(), "tcp", byteorder="little")]
    assert together == alone and len(together) == len(layouts)
