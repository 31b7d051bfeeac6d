"""peek_inet: what the exporter reads of every connection, from the sock_diag message, without decoding it."""

from __future__ import annotations

import socket
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from test_parse_netlink import done, inet_diag_msg, sock

from procnet._parse.inet import parse_inet
from procnet._parse.netlink import peek_inet, parse_inet_dump


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["little", "big"]), st.sampled_from([socket.AF_INET, socket.AF_INET6]),
       st.integers(1, 11), st.integers(0, 65535), st.integers(0, 65535),
       st.binary(min_size=16, max_size=16), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1),
       st.booleans())
def test_peek_equals_the_decoded_fields(order: str, family: int, state: int, sport: int, dport: int,
                                        src: bytes, rq: int, wq: int, mapped: bool) -> None:
    if family == socket.AF_INET:
        src = src[:4]
    elif mapped:
        src = bytes(10) + b"\xff\xff" + src[:4]
    msg = inet_diag_msg(family=family, state=state, sport=sport, dport=dport, src=src, rqueue=rq, wqueue=wq,
                        inode=7, order=order, attrs=[(8, bytes([0]))])  # INET_DIAG_SHUTDOWN: a full socket
    (rec,) = list(parse_inet_dump([sock(msg, order=order), done(order=order)], "tcp", byteorder=order))
    peeked = peek_inet(rec)
    assert peeked is not None
    lport, rport, address, rx, tx = peeked
    # now decode, and compare
    # a listener's idiag_wqueue is its backlog (the record's tx_queue is then 0)
    sent = rec.listen_backlog if state == 10 else rec.tx_queue
    assert (lport, rport, rx, tx) == (rec.local.port, rec.remote.port, rec.rx_queue, sent)
    assert address[: len(rec.local.ip.packed)] == rec.local.ip.packed
    assert peek_inet(rec) is None  # decoded: the fields are read as usual


def test_text_records_are_not_peeked() -> None:
    text = ("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
            "   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 "
            "0000000000000000 100 0 0 10 0\n")
    (rec,) = list(parse_inet(text, "tcp"))
    assert peek_inet(rec) is None


def test_records_with_tcp_info_are_decoded_already(tmp_path: Any) -> None:
    # values given at construction (the tcp_info path): nothing to peek
    msg = inet_diag_msg(sport=80, inode=9, attrs=[(8, bytes([0]))])
    (rec,) = list(parse_inet_dump([sock(msg), done()], "tcp", byteorder="little"))
    rec.local  # decode
    assert peek_inet(rec) is None
