"""The netlink attribute walker: one walk for every decoder, and records unchanged by it.

* ``walk_attributes`` against a reference written here from ``linux/netlink.h``
  (``nla_ok`` / ``nla_next``), on random attribute streams: the same attributes out, the
  same error (message and offset) on a truncated or overlong length.
* The inline copy of the walk on the inet hot path agrees with the walker on the same
  streams (the record decoded through it either equals the one the walker's attributes
  give, or both raise the same error).
* Every field of every record decoded from the committed fixtures and from a seeded corpus
  of random dumps (valid and corrupted, both byte orders) has the digest it had before the
  walker was written (``GOLDEN``, made by ``python tests/test_parse_netlink_walker.py``
  on the code before the change).
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import ipaddress
import json
import random
import socket
import struct
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from procnet._errors import ProcNetError
from procnet._parse import netlink
from procnet._parse.netlink import parse_inet_dump, parse_unix_dump

from procnet._parse.netlink import NLM_F_MULTI, NLMSG_DONE, NLMSG_ERROR
from test_parse_netlink import FIXTURES, done, inet_diag_msg, nlmsg, sock, unix_diag_msg

# --- a canonical form of a record: every field, recursively, as JSON values ----------------


def canonical(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return [type(value).__name__, value.name, int(value.value)]
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return str(value)
    if isinstance(value, (tuple, list)):
        return [canonical(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    raise TypeError(type(value))


def decoded(kind: str, reply: bytes, order: str) -> List[Dict[str, Any]]:
    """Every record of a reply, canonical; an error as a one-field record."""
    try:
        if kind == "unix":
            records: Any = list(parse_unix_dump(reply, byteorder=order))
        else:
            records = list(parse_inet_dump(reply, kind, byteorder=order, ticks_per_second=250))
        return [canonical(r) for r in records]
    except ProcNetError as exc:
        return [{"<error>": [type(exc).__name__, str(exc)]}]


# --- the walker against netlink.h, and the inline copy against the walker -----------------


def reference_attributes(
    payload: bytes, start: int
) -> Tuple[List[Tuple[int, bytes]], Optional[Tuple[Any, ...]]]:
    """linux/netlink.h nla_ok / nla_next over ``payload[start:]``: the attributes, then the
    first one that does not fit as ("cut", where) or ("bad", where, nla_len). Stricter than
    the kernel's loop in one way, as procnet is: 1-3 bytes left over are a cut header."""
    out: List[Tuple[int, bytes]] = []
    pos, rem = start, len(payload) - start
    while rem > 0:
        if rem < 4:  # NLA_HDRLEN
            return out, ("cut", pos)
        nla_len, nla_type = struct.unpack_from("<HH", payload, pos)
        if nla_len < 4 or nla_len > rem:
            return out, ("bad", pos, nla_len)
        out.append((nla_type & ~(0x8000 | 0x4000), payload[pos + 4 : pos + nla_len]))  # NLA_TYPE_MASK
        step = (nla_len + 3) & ~3  # NLA_ALIGN
        pos, rem = pos + step, rem - step
    return out, None


def _damaged(data: bytes, at: int, how: int, value: int) -> bytes:
    """``data`` with the u16 at ``at`` set to ``value`` (how 0), or cut after ``at`` (how 1)."""
    if how == 0 and at + 2 <= len(data):
        return data[:at] + struct.pack("<H", value) + data[at + 2 :]
    return data[: at + value % 4]


attributes = st.lists(st.tuples(st.integers(0, 0xFFFF), st.binary(max_size=24)), max_size=8)


@settings(max_examples=300)
@given(attributes, st.integers(0, 40), st.integers(0, 2), st.integers(0, 0xFFFF), st.binary(max_size=3))
def test_walker_reads_what_netlink_h_reads(attrs: Any, at: int, how: int, value: int, tail: bytes) -> None:
    payload = b"".join(struct.pack("<HH", 4 + len(v), t) + v + bytes(-len(v) % 4) for t, v in attrs)
    if how < 2:
        payload = _damaged(payload, 4 * at, how, value)
    else:
        payload += tail  # trailing bytes: a cut header, when there are any
    expected, failure = reference_attributes(payload, 0)
    got: List[Tuple[int, bytes]] = []
    try:
        for item in netlink.iter_attributes(payload, 0, byteorder="little", offset=100):
            got.append(item)
    except ProcNetError as exc:
        assert failure is not None, exc
        where = failure[1] + 16  # offsets in errors count from the message header
        if failure[0] == "cut":
            assert "truncated attribute at offset %d of the message at offset 100" % where in str(exc)
        else:
            reason = "bad attribute at offset %d of the message at offset 100: nla_len %d,"
            assert reason % (where, failure[2]) in str(exc)
    else:
        assert failure is None
    assert got == expected


class _Recorder(netlink._DumpDecoder[Tuple[int, int]]):
    """A decoder that records where the inline walk of feed() finds each socket message."""

    def _decode_at(self, data: bytes, start: int, end: int, offset: int) -> Optional[Tuple[int, int]]:
        return offset, end - start


messages = st.lists(
    st.tuples(
        st.integers(0x10, 0x40), st.sampled_from([0, NLM_F_MULTI, NLM_F_MULTI | 0x10]), st.binary(max_size=40)
    ),
    max_size=8,
)


@settings(max_examples=300)
@given(messages, st.integers(0, 60), st.integers(0, 1), st.integers(0, 0xFFFF), st.integers(0, 1000))
def test_inline_message_walk_of_feed_agrees_with_the_walker(
    msgs: Any, at: int, how: int, value: int, offset: int
) -> None:
    data = b"".join(nlmsg(kind, payload, flags=flags) for kind, flags, payload in msgs)
    data = _damaged(data, 4 * at, how, value) if 4 * at < len(data) else data
    walked: List[Tuple[int, int]] = []
    walk_error = feed_error = None
    try:
        for m in netlink.iter_messages(data, byteorder="little", offset=offset, source="sock_diag test"):
            # feed() hands DONE, ERROR and OVERRUN to _control: this test is about framing
            assume(m.msg_type not in (NLMSG_DONE, NLMSG_ERROR, 4))
            if m.msg_type >= 0x10:  # a socket's message (feed skips NOOP and unknown control types)
                walked.append((m.offset, len(m.payload)))
    except ProcNetError as exc:
        walk_error = str(exc)
    decoder = _Recorder("little", "sock_diag test", None)
    decoder.offset = offset
    fed: List[Tuple[int, int]] = []
    try:
        fed = decoder.feed(data)
    except ProcNetError as exc:
        feed_error = str(exc)
    assert feed_error == walk_error
    if feed_error is None:
        assert fed == walked


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from(["little", "big"]),
    st.sampled_from(["tcp", "udp", "raw", "unix"]),
)
def test_a_remembered_layout_decodes_as_a_fresh_walk(seed: int, order: str, kind: str) -> None:
    """One decoder for a dump (layouts remembered) gives what a new decoder per socket gives."""
    rng = random.Random(seed)
    if kind == "unix":
        layouts = [_unix_attrs(rng, order) for _ in range(3)]
        msgs = [_unix_message(rng, order, 100 + i, rng.choice(layouts)) for i in range(12)]
    else:
        layouts = [_inet_attrs(rng, order, socket.AF_INET) for _ in range(3)]
        msgs = [_inet_message(rng, order, 100 + i, rng.choice(layouts)) for i in range(12)]
    valid = [m for m in msgs if _decodes(kind, sock(m, order=order) + done(order=order), order)]
    alone = [r for m in valid for r in decoded(kind, sock(m, order=order) + done(order=order), order)]
    together = decoded(kind, b"".join(sock(m, order=order) for m in valid) + done(order=order), order)
    assert together == alone


# --- the data tables ------------------------------------------------------------------------


def _version(text: str) -> Tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_tcp_info_table_agrees_with_the_encoder_and_covers_tcpinfo() -> None:
    from procnet._records import TcpInfo
    from test_parse_netlink import TCP_INFO_FIELDS

    rows = netlink._TCP_INFO_FIELDS
    # the test encoder's names (struct tcp_info's, without the unit suffixes TcpInfo adds)
    for name, offset, code, _ in rows:
        plain = {"rto_us": "rto", "ato_us": "ato", "rtt_us": "rtt", "rttvar_us": "rttvar",
                 "min_rtt_us": "min_rtt", "rcv_rtt_us": "rcv_rtt", "busy_time_us": "busy_time",
                 "rwnd_limited_us": "rwnd_limited", "sndbuf_limited_us": "sndbuf_limited",
                 "last_data_sent_ms": "last_data_sent", "last_data_recv_ms": "last_data_recv",
                 "last_ack_recv_ms": "last_ack_recv"}.get(name, name)
        assert TCP_INFO_FIELDS[plain] == (offset, code), name
    # appended over the years: offsets and kernels both grow, fields never overlap
    ends = [offset + struct.calcsize(code) for _, offset, code, _ in rows]
    assert all(end <= nxt for end, (_, nxt, _, _) in zip(ends, rows[1:]))
    kernels = [_version(kernel) for _, _, _, kernel in rows]
    assert kernels == sorted(kernels)
    covered = {name for name, _, _, _ in rows} | {name for name, *_ in netlink._TCP_INFO_BITS}
    covered.add("congestion")
    assert {f.name for f in dataclasses.fields(TcpInfo)} <= covered
    assert set(netlink._TCP_INFO_SOCKET_FIELDS) <= covered
    # the struct the reader unpacks ends with the last field of the table
    assert netlink._TcpInfoReader.get("<").size == ends[-1] == 240


def test_unix_table_has_every_attribute_a_unixsocket_reads() -> None:
    kinds = [kind for kind, _, _ in netlink._UNIX_ATTRIBUTES]
    assert sorted(kinds) == list(range(8))  # UNIX_DIAG_NAME .. UNIX_DIAG_UID
    for kind, name, _ in netlink._UNIX_ATTRIBUTES:
        assert getattr(netlink, name) == kind


# --- the corpus ------------------------------------------------------------------------------


def _inet_attrs(rng: random.Random, order: str, family: int) -> List[Tuple[int, bytes]]:
    p = "<" if order == "little" else ">"
    attrs: List[Tuple[int, bytes]] = []
    for kind in rng.sample([1, 2, 4, 7, 8, 10, 11, 15, 21, 99], rng.randrange(0, 8)):
        if kind == 2:  # INET_DIAG_INFO: a struct tcp_info of some kernel's length
            size = rng.choice([104, 120, 136, 152, 160, 168, 184, 200, 216, 232, 240, 248, 280, 300])
            value = bytes(rng.getrandbits(8) for _ in range(size))
        elif kind == 4:
            value = rng.choice([b"cubic\0", b"bbr\0", b"reno\0junk", b"x" * rng.randrange(0, 20)])
        elif kind == 7:  # SKMEMINFO: nine u32s, sometimes another length
            n = rng.choice([9, 9, 9, 7, 10])
            value = struct.pack(p + "%dI" % n, *(rng.getrandbits(32) for _ in range(n)))
        elif kind in (8, 10, 11):
            value = bytes([rng.getrandbits(8)]) if rng.random() < 0.9 else b""
        elif kind == 1:
            value = b""
        else:
            value = bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 12)))
        attrs.append((kind | (0x8000 if rng.random() < 0.1 else 0), value))
    if attrs and rng.random() < 0.15:
        attrs.append(rng.choice(attrs))  # a repeated type: the last one counts
    return attrs


def _inet_message(rng: random.Random, order: str, inode: int, attrs: Sequence[Tuple[int, bytes]]) -> bytes:
    family = rng.choice([socket.AF_INET, socket.AF_INET6])
    return inet_diag_msg(
        family=family,
        state=rng.choice([1, 1, 1, 2, 3, 6, 7, 8, 10, 10, 11, 12, 0, 99]),
        timer=rng.choice([0, 0, 1, 2, 3, 4, 9]),
        retrans=rng.getrandbits(8),
        sport=rng.getrandbits(16),
        dport=rng.getrandbits(16),
        src=bytes(rng.getrandbits(8) for _ in range(16)),
        dst=bytes(rng.getrandbits(8) for _ in range(16)),
        ifindex=rng.getrandbits(8),
        cookie=rng.getrandbits(64),
        expires=rng.getrandbits(20),
        rqueue=rng.getrandbits(16),
        wqueue=rng.getrandbits(16),
        uid=rng.getrandbits(16),
        inode=inode,
        attrs=attrs,
        order=order,
    )


def _unix_attrs(rng: random.Random, order: str) -> List[Tuple[int, bytes]]:
    p = "<" if order == "little" else ">"
    attrs: List[Tuple[int, bytes]] = []
    for kind in rng.sample([0, 1, 2, 3, 4, 5, 6, 7, 42], rng.randrange(0, 9)):
        if kind == 0:
            value = rng.choice([b"/run/a.sock\0", b"\0abstract\0name", b"/tmp/\xff\n x", b""])
        elif kind in (1, 4):
            value = struct.pack(p + "II", rng.getrandbits(32), rng.getrandbits(32))
        elif kind in (2, 7):
            value = struct.pack(p + "I", rng.getrandbits(32))
        elif kind == 3:
            n = rng.randrange(0, 4)
            value = struct.pack(p + "%dI" % n, *(rng.getrandbits(32) for _ in range(n)))
            if rng.random() < 0.2:
                value += b"\x01"  # not a whole number of u32s
        elif kind == 5:
            n = rng.choice([9, 9, 8, 10])
            value = struct.pack(p + "%dI" % n, *(rng.getrandbits(32) for _ in range(n)))
        elif kind == 6:
            value = bytes([rng.getrandbits(8)])
        else:
            value = bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 9)))
        attrs.append((kind | (0x4000 if rng.random() < 0.1 else 0), value))
    return attrs


def _unix_message(rng: random.Random, order: str, inode: int, attrs: Sequence[Tuple[int, bytes]]) -> bytes:
    return unix_diag_msg(
        type_=rng.choice([1, 2, 5, 3]),
        state=rng.choice([1, 7, 10, 2]),
        inode=inode if rng.random() < 0.9 else 0,
        cookie=rng.getrandbits(64),
        attrs=attrs,
        order=order,
    )


def _corrupt(rng: random.Random, payload: bytes, head: int, order: str) -> bytes:
    """The payload with one attribute header (or the fixed part) damaged."""
    p = "<" if order == "little" else ">"
    choice = rng.randrange(4)
    if choice == 0 or len(payload) <= head:
        return payload[: rng.randrange(0, head + 1)]  # a fixed part cut short
    at = head + 4 * rng.randrange(0, (len(payload) - head) // 4)
    if choice == 1:
        return payload[: at + rng.randrange(1, 4)]  # an attribute header cut
    if choice == 2:
        return payload[:at] + struct.pack(p + "H", rng.randrange(0, 4)) + payload[at + 2 :]  # nla_len < 4
    return payload[:at] + struct.pack(p + "H", len(payload) - at + rng.randrange(1, 9)) + payload[at + 2 :]


def corpus() -> Iterator[Tuple[str, str, bytes, str]]:
    """(name, kind, reply, byte order) of every case the digests cover."""
    for path in sorted(FIXTURES.glob("*.bin")):
        kind = path.name.split("-")[0] if not path.name.startswith("live-") else path.name[5:-4]
        kind = {"tcp4": "tcp", "tcp6": "tcp", "udp4": "udp", "tcp": "tcp", "udp": "udp", "udp6": "udp",
                "udplite": "udplite", "unix": "unix"}.get(kind, "tcp")
        yield path.name, kind, path.read_bytes(), "little"
    rng = random.Random(14)
    for order in ("little", "big"):
        for kind in ("tcp", "udp", "raw", "unix"):
            # one dump of many sockets: a few layouts repeat (as in a real dump), values vary
            if kind == "unix":
                layouts = [_unix_attrs(rng, order) for _ in range(6)]
                msgs = [_unix_message(rng, order, 1000 + i, rng.choice(layouts)) for i in range(150)]
            else:
                layouts = [_inet_attrs(rng, order, socket.AF_INET) for _ in range(6)]
                msgs = [_inet_message(rng, order, 1000 + i, rng.choice(layouts)) for i in range(150)]
            valid = [m for m in msgs if _decodes(kind, sock(m, order=order) + done(order=order), order)]
            reply = b"".join(sock(m, order=order) for m in valid) + done(order=order)
            yield "%s-%s-dump" % (kind, order), kind, reply, order
            # single sockets, every other one damaged
            head = 16 if kind == "unix" else 72
            for i in range(120):
                if kind == "unix":
                    m = _unix_message(rng, order, 5000 + i, _unix_attrs(rng, order))
                else:
                    m = _inet_message(rng, order, 5000 + i, _inet_attrs(rng, order, socket.AF_INET))
                if i % 2:
                    m = _corrupt(rng, m, head, order)
                yield "%s-%s-%d" % (kind, order, i), kind, sock(m, order=order) + done(order=order), order


def _decodes(kind: str, reply: bytes, order: str) -> bool:
    return "<error>" not in (decoded(kind, reply, order) or [{}])[0]


def field_digests() -> Dict[str, str]:
    """field name -> digest of that field's canonical value in every record of the corpus
    (``<error>``: the errors; ``<records>``: how many records each case gave)."""
    values: Dict[str, List[Any]] = {"<records>": []}
    for name, kind, reply, order in corpus():
        records = decoded(kind, reply, order)
        values["<records>"].append([name, len(records)])
        for i, record in enumerate(records):
            for field, value in record.items():
                if field == "tcp_info" and isinstance(value, dict):
                    for sub, v in value.items():
                        values.setdefault("tcp_info." + sub, []).append([name, i, v])
                    value = "<dict>"
                key = "%s:%s" % ("unix" if kind == "unix" else "inet", field)
                values.setdefault(key, []).append([name, i, value])
    return {
        field: hashlib.sha256(json.dumps(v, sort_keys=True).encode()).hexdigest()[:16]
        for field, v in sorted(values.items())
    }


#: field_digests() of the decoder before the walker (and before the tcp_info table).
GOLDEN: Dict[str, str] = {  # fmt: skip
    '<records>': '3b75eea0962f8896',
    'inet:<error>': '20c637916d1d15d1',
    'inet:ato': '86a6f33ccfef6082',
    'inet:cookie': '60890c0769fb9566',
    'inet:cwnd': '65b045af08e0013c',
    'inet:drops': '6d6bd720d3bb5455',
    'inet:family': '38bd9facc8abf072',
    'inet:fastopen_max_qlen': 'fbd96a4620e66495',
    'inet:inode': '75292d300b33dbc1',
    'inet:listen_backlog': 'cb7dde1fe581ce0d',
    'inet:local': 'bb799d472e0b0373',
    'inet:netns': 'fbd96a4620e66495',
    'inet:owners': 'd062663df51355a8',
    'inet:owners_complete': 'fbd96a4620e66495',
    'inet:pingpong': 'fbd96a4620e66495',
    'inet:pointer': 'fbd96a4620e66495',
    'inet:probes': '27248cc011f4e4d2',
    'inet:proto': '0af5580195409c4e',
    'inet:quick_ack': 'fbd96a4620e66495',
    'inet:refcount': 'fbd96a4620e66495',
    'inet:remote': '112599cb730d7c99',
    'inet:retransmits': 'c86f01761754759e',
    'inet:rto': 'e4dcef74b271f41b',
    'inet:rx_queue': 'c2327754872cef61',
    'inet:shutdown': 'f90764c23e080a48',
    'inet:skmem': 'd71661b89e0a7740',
    'inet:slot': 'fbd96a4620e66495',
    'inet:ssthresh': '3c7afeddb4045ae9',
    'inet:state': 'e3a4a7f6fccd9482',
    'inet:tcp_info': '68b967ced8a49e5e',
    'inet:timer': '7944f7eb2f6e6d69',
    'inet:timer_expires': '8f7b32b6eb35a2a7',
    'inet:tx_queue': '37682fe913764a8d',
    'inet:uid': '77d11512f3840adb',
    'inet:v6only': 'db2d3ca4482a817b',
    'tcp_info.advmss': '96e1560190fef645',
    'tcp_info.app_limited': 'd5e83ae9e6e0af43',
    'tcp_info.ato_us': 'd5088e0db2a90644',
    'tcp_info.backoff': 'ef753b551fe9cae5',
    'tcp_info.busy_time_us': 'fbb4497d6c22663a',
    'tcp_info.bytes_acked': 'd0bb0e5cd8ba4824',
    'tcp_info.bytes_received': '86e788a3b28f07bd',
    'tcp_info.bytes_retrans': '16c932ed6c360f82',
    'tcp_info.bytes_sent': '799503fe95c820f4',
    'tcp_info.congestion': 'a643756ac4270fb4',
    'tcp_info.data_segs_in': '4bb186a68643259d',
    'tcp_info.data_segs_out': '6e384a7cb4d07a1c',
    'tcp_info.delivered': '120b0091f38677d3',
    'tcp_info.delivered_ce': 'f57b3139b23dfad0',
    'tcp_info.delivery_rate': 'ca0fcaaa2bfcb27c',
    'tcp_info.dsack_dups': '6974eaa3ec0f9e3d',
    'tcp_info.last_ack_recv_ms': 'e2ddccfa0a46134e',
    'tcp_info.last_data_recv_ms': 'c1df86cbb1dd8641',
    'tcp_info.last_data_sent_ms': '31bb4f112585a86c',
    'tcp_info.lost': '73ad9766037e7842',
    'tcp_info.max_pacing_rate': '07dbd3368c8ccf5c',
    'tcp_info.min_rtt_us': '7b471f6ec12e91bc',
    'tcp_info.notsent_bytes': '1c43d25d02907fec',
    'tcp_info.options': 'c59f5665b2bf3361',
    'tcp_info.pacing_rate': 'b0aaa37baff3f0c9',
    'tcp_info.pmtu': '21adcafb07f6f166',
    'tcp_info.rcv_mss': 'b1b73e6c2e2b11a0',
    'tcp_info.rcv_ooopack': '9ee2cf99a24572c2',
    'tcp_info.rcv_rtt_us': 'ad0f88900b41100c',
    'tcp_info.rcv_space': '0a1ee3174788bef7',
    'tcp_info.rcv_ssthresh': '15d4be2e34d3920e',
    'tcp_info.rcv_wnd': '8ff1db9832073d60',
    'tcp_info.rcv_wscale': '6a52c98b404d9aea',
    'tcp_info.rehash': '1b9eb8bd9adb9e3e',
    'tcp_info.reord_seen': '3e2159b8f8229208',
    'tcp_info.reordering': '915f317b74912e0d',
    'tcp_info.retrans': '8db895c1d648453e',
    'tcp_info.retransmits': '902f3cda610b8500',
    'tcp_info.rto_us': '8c7090aef9f647f4',
    'tcp_info.rtt_us': '00d970e659c8ddbf',
    'tcp_info.rttvar_us': '89a5bbbfc235bca0',
    'tcp_info.rwnd_limited_us': '15562310e6ac01cb',
    'tcp_info.sacked': 'e4f2c2930702fbcf',
    'tcp_info.segs_in': '6b03569b1716edfc',
    'tcp_info.segs_out': 'cc06940cfd710a2f',
    'tcp_info.snd_cwnd': '046854555bb79f81',
    'tcp_info.snd_mss': '7c8517384c0c5a4f',
    'tcp_info.snd_ssthresh': 'b757ff2b6ead6c89',
    'tcp_info.snd_wnd': 'da22b61b354b8cdf',
    'tcp_info.snd_wscale': '5ff411ecb9638db1',
    'tcp_info.sndbuf_limited_us': '4bffda9a9e43b150',
    'tcp_info.total_retrans': '80d6afe7d3f036f5',
    'tcp_info.unacked': 'f70fe7a213f67174',
    'unix:<error>': '1b7457022eaad6b5',
    'unix:cookie': 'ea42af7828f2b722',
    'unix:flags': '1b0283313be9158e',
    'unix:inode': 'ea5c8b7df163511a',
    'unix:netns': '0501b50357c95dbc',
    'unix:owners': '431a2d8dc3ff9f0d',
    'unix:owners_complete': '0501b50357c95dbc',
    'unix:path': '288ddd2460471c26',
    'unix:peer_inode': 'b7763f975a283194',
    'unix:pending_inodes': '79f33956e6763f62',
    'unix:pointer': '0501b50357c95dbc',
    'unix:protocol': '1d64b7e519a102af',
    'unix:refcount': '0501b50357c95dbc',
    'unix:rqueue': '44c3352f1a2d078c',
    'unix:shutdown': '0c0acbc5abd49354',
    'unix:skmem': '2d6810c6fccf00e7',
    'unix:state': '354a52f1dfab5fe8',
    'unix:status': '8413be534de38ae1',
    'unix:text_only': '0501b50357c95dbc',
    'unix:type': '7a66453183f6d2a8',
    'unix:uid': '776ed83ebf15fa2b',
    'unix:vfs_dev': '66b89026e76af834',
    'unix:vfs_inode': 'dd6fb0562817e2d5',
    'unix:wqueue': '9c195031b21a9e08',
}


@pytest.mark.skipif(not GOLDEN, reason="no golden digests yet")
def test_every_field_decodes_as_before_the_walker() -> None:
    now = field_digests()
    changed = sorted(f for f, digest in GOLDEN.items() if now.get(f) != digest)
    assert not changed, "fields that decode differently now: %s" % changed


if __name__ == "__main__":
    digests = field_digests()
    print("GOLDEN: Dict[str, str] = {")
    for field, digest in digests.items():
        print("    %r: %r," % (field, digest))
    print("}")
    print(len(digests), "fields", file=sys.stderr)
