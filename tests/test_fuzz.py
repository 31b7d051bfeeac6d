"""Bad input: every parser, fed mutated real tables, gives records or procnet's own errors.

Seeds are the live machine's /proc/net tables and every fixture's; the mutations flip,
insert, delete, duplicate, swap and truncate lines and bytes, and splice in NUL bytes,
invalid UTF-8, CR and the other characters str.splitlines() would break on, 100,000-
character lines and 40-digit numbers. The only exception allowed out is
procnet.ProcNetError (ParseError, FilterError, NetlinkError); a ParseError from a table
names the file and the line. Inputs that once broke a parser live in
fixtures/fuzz-regressions/ and are replayed by test_regression_corpus.

Counts of inputs tried per target are printed at the end of the module (-s) and, when
PROCNET_FUZZ_COUNTS names a file, written there as JSON.
"""

from __future__ import annotations

import collections
import json
import os
import struct
import sys
from typing import Any, Callable, Dict, List

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "fuzz"))

import corpus  # noqa: E402
import targets  # noqa: E402

import procnet  # noqa: E402
from procnet._parse import netlink as nl  # noqa: E402

COUNTS: Dict[str, int] = collections.Counter()

FUZZ = settings(
    max_examples=int(os.environ.get("PROCNET_FUZZ_EXAMPLES", "120")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

TEXT_SEEDS = corpus.text_seeds()
NETLINK_SEEDS = corpus.netlink_seeds()
PROCESS_SEEDS = corpus.process_seeds()


@pytest.fixture(scope="module", autouse=True)
def _report_counts() -> Any:
    yield
    total = sum(COUNTS.values())
    print("\nfuzz inputs tried: %d\n%s" % (total, "\n".join("  %-26s %6d" % kv for kv in sorted(COUNTS.items()))))
    out = os.environ.get("PROCNET_FUZZ_COUNTS")
    if out:
        with open(out, "w") as f:
            json.dump(dict(COUNTS, total=total), f, indent=1, sort_keys=True)


# --- mutators ---------------------------------------------------------------------------


def _lines(data: bytes) -> List[bytes]:
    return data.split(b"\n")


@st.composite
def _mutation(draw: Callable[[Any], Any], data: bytes) -> bytes:
    op = draw(st.integers(0, 13))
    n = len(data)
    pos = draw(st.integers(0, n))
    if op == 0:  # flip one byte
        if n == 0:
            return bytes([draw(st.integers(0, 255))])
        pos = min(pos, n - 1)
        return data[:pos] + bytes([draw(st.integers(0, 255))]) + data[pos + 1 :]
    if op == 1:  # insert a hostile fragment
        return data[:pos] + draw(st.sampled_from(corpus.FRAGMENTS)) + data[pos:]
    if op == 2:  # insert random bytes
        return data[:pos] + draw(st.binary(min_size=1, max_size=24)) + data[pos:]
    if op == 3:  # truncate
        return data[:pos]
    lines = _lines(data)
    i = draw(st.integers(0, max(0, len(lines) - 1)))
    if op == 4:  # delete a line
        return b"\n".join(lines[:i] + lines[i + 1 :])
    if op == 5:  # duplicate a line
        return b"\n".join(lines[: i + 1] + [lines[i]] + lines[i + 1 :])
    if op == 6:  # swap two lines
        j = draw(st.integers(0, max(0, len(lines) - 1)))
        lines[i], lines[j] = lines[j], lines[i]
        return b"\n".join(lines)
    if op == 7:  # replace one whitespace-separated token of a line
        words = lines[i].split(b" ")
        k = draw(st.integers(0, max(0, len(words) - 1)))
        words[k] = draw(st.sampled_from(corpus.FRAGMENTS + [b"", b"G", b"00000000000000000"]))
        lines[i] = b" ".join(words)
        return b"\n".join(lines)
    if op == 8:  # an overlong line
        big = draw(st.sampled_from([corpus.OVERLONG, corpus.OVERLONG_HEX]))
        return data[:pos] + big + data[pos:]
    if op == 9:  # make a number huge: lengthen a run of hex digits
        return data[:pos] + draw(st.sampled_from([b"F" * 40, b"9" * 40, b"0" * 17])) + data[pos:]
    if op == 10:  # other line ends
        return data.replace(b"\n", draw(st.sampled_from([b"\r\n", b"\r", b"\n\n", b"\x00\n", b"\n "])))
    if op == 11:  # a line cut in half
        line = lines[i]
        cut = draw(st.integers(0, len(line)))
        lines[i] = line[:cut]
        return b"\n".join(lines)
    if op == 12:  # drop the trailing newline, or add stray ones
        return data.rstrip(b"\n") if draw(st.booleans()) else data + b"\n\n"
    # op 13: one line from another table spliced in
    table = draw(st.sampled_from(sorted(k for k, v in TEXT_SEEDS.items() if v)))
    other = _lines(draw(st.sampled_from(TEXT_SEEDS[table])))
    return b"\n".join(lines[:i] + [draw(st.sampled_from(other))] + lines[i:])


@st.composite
def mutated(draw: Callable[[Any], Any], seeds: List[bytes]) -> bytes:
    data = draw(st.sampled_from(seeds)) if seeds else b""
    for _ in range(draw(st.integers(0, 5))):
        data = draw(_mutation(data))
    return data


def _text_input(seeds: List[bytes]) -> Any:
    # mostly mutated real tables, some pure noise
    return st.one_of(mutated(seeds), mutated(seeds), mutated(seeds), st.binary(max_size=600))


# --- the text tables --------------------------------------------------------------------


def _inet_seeds(table: str) -> List[bytes]:
    own = TEXT_SEEDS[table]
    return own if own else [b"".join(TEXT_SEEDS["tcp"][:1])]


@pytest.mark.slow
@pytest.mark.parametrize("byteorder", targets.BYTEORDERS)
@pytest.mark.parametrize("table", targets.INET_TABLES)
def test_parse_inet_raises_only_parse_errors_with_a_line(table: str, byteorder: str) -> None:
    # a table read as itself mostly, as a sibling table sometimes (tcp read as udp...)
    seeds = _inet_seeds(table) * 3 + [s for t in targets.INET_TABLES for s in TEXT_SEEDS[t][:1]]

    @FUZZ
    @given(_text_input(seeds), st.booleans())
    def check(data: bytes, as_str: bool) -> None:
        COUNTS["parse_inet %s %s" % (table, byteorder)] += 1
        targets.inet(table, byteorder, data, as_str)

    check()


@pytest.mark.slow
def test_parse_unix_raises_only_parse_errors_with_a_line() -> None:
    @settings(FUZZ, max_examples=FUZZ.max_examples * 4)
    @given(_text_input(TEXT_SEEDS["unix"]), st.booleans())
    def check(data: bytes, as_str: bool) -> None:
        COUNTS["parse_unix"] += 1
        targets.unix(data, as_str)

    check()


def test_overlong_lines_and_huge_numbers_in_every_field() -> None:
    """Deterministic: each field of a real row replaced by 40-digit and 100k-char values."""
    row = b"   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1234 1 0000000000000000 100 0 0 10 0"
    header = TEXT_SEEDS["tcp"][0].split(b"\n")[0] if TEXT_SEEDS["tcp"] else b"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
    words = row.split(b" ")
    for k, word in enumerate(words):
        if not word:
            continue
        for value in (b"9" * 40, b"F" * 40, b"-" + b"9" * 40, b"9" * 4400, corpus.OVERLONG, b"\xff\xfe", b"\x00"):
            bad = b" ".join(words[:k] + [value] + words[k + 1 :])
            COUNTS["parse_inet tcp fields"] += 1
            targets.inet("tcp", "little", header + b"\n" + bad + b"\n")
    unix_row = b"0000000000000000: 00000002 00000000 00010000 0001 01 12345 /run/x"
    words = unix_row.split(b" ")
    for k in range(len(words)):
        for value in (b"9" * 40, b"F" * 40, b"9" * 4400, corpus.OVERLONG, b"\xff", b"\x00"):
            bad = b" ".join(words[:k] + [value] + words[k + 1 :])
            COUNTS["parse_unix fields"] += 1
            targets.unix(b"Num       RefCount Protocol Flags    Type St Inode Path\n" + bad + b"\n")


# --- netlink ----------------------------------------------------------------------------


@st.composite
def _netlink_mutation(draw: Callable[[Any], Any], data: bytes) -> bytes:
    op = draw(st.integers(0, 6))
    n = len(data)
    pos = draw(st.integers(0, n))
    if op == 0 and n:  # flip a byte
        pos = min(pos, n - 1)
        return data[:pos] + bytes([draw(st.integers(0, 255))]) + data[pos + 1 :]
    if op == 1 and n >= 4:  # an interesting 32-bit word at an aligned offset
        pos = min(pos & ~3, n - 4)
        word = draw(st.sampled_from([0, 1, 2, 3, 4, 15, 16, 17, 20, 72, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFF, 0x10000]))
        return data[:pos] + struct.pack("=I", word) + data[pos + 4 :]
    if op == 2 and n >= 2:  # an interesting 16-bit word (nlmsg_type, nla_len, nla_type)
        pos = min(pos & ~1, n - 2)
        word = draw(st.sampled_from([0, 1, 2, 3, 4, 5, 8, 0x10, 0x14, 0x3FFF, 0x8000, 0xFFFF]))
        return data[:pos] + struct.pack("=H", word) + data[pos + 2 :]
    if op == 3:  # truncate
        return data[:pos]
    if op == 4:  # duplicate a slice
        end = draw(st.integers(pos, n))
        return data[:end] + data[pos:end] + data[end:]
    if op == 5:  # insert random bytes
        return data[:pos] + draw(st.binary(min_size=1, max_size=32)) + data[pos:]
    # op 6: splice from another reply
    other = draw(st.sampled_from(NETLINK_SEEDS))
    a = draw(st.integers(0, len(other)))
    return data[:pos] + other[a:]


@st.composite
def netlink_replies(draw: Callable[[Any], Any]) -> bytes:
    data = draw(st.sampled_from(NETLINK_SEEDS))
    for _ in range(draw(st.integers(0, 4))):
        data = draw(_netlink_mutation(data))
    return data


@pytest.mark.slow
@pytest.mark.parametrize("byteorder", targets.BYTEORDERS)
def test_netlink_decoders_raise_only_procnet_errors(byteorder: str) -> None:
    @settings(FUZZ, max_examples=FUZZ.max_examples * 5)
    @given(
        st.one_of(netlink_replies(), netlink_replies(), st.binary(max_size=400)),
        st.sampled_from(targets.NETLINK_PROTOS + ["unix"]),
        st.one_of(st.none(), st.integers(0, 4096)),
    )
    def check(data: bytes, proto: str, cut: Any) -> None:
        COUNTS["netlink %s %s" % ("unix" if proto == "unix" else "inet", byteorder)] += 1
        try:
            if proto == "unix":
                targets.netlink_unix(byteorder, data, cut)
            else:
                targets.netlink_inet(proto, byteorder, data, cut)
        except Exception as exc:
            if not targets.known_bug("netlink", exc):
                raise
            COUNTS["known bug netlink"] += 1

    check()


def _error_reply(kind: int, code: int) -> bytes:
    return struct.pack("=IHHIIi", 20, kind, nl.NLM_F_MULTI, 1, 0, code)


@pytest.mark.parametrize("kind", [nl.NLMSG_ERROR, nl.NLMSG_DONE])
def test_netlink_error_code_int_min_is_a_netlink_error(kind: int) -> None:
    with pytest.raises(procnet.ProcNetError):
        list(nl.parse_unix_dump(_error_reply(kind, -(2**31))))


@pytest.mark.parametrize("code", [-1, -2, -13, -95, -4095, -4096, -(2**31) + 1])
def test_netlink_error_codes_are_netlink_errors(code: int) -> None:
    for kind in (nl.NLMSG_ERROR, nl.NLMSG_DONE):
        with pytest.raises(procnet.NetlinkError):
            list(nl.parse_inet_dump(_error_reply(kind, code), "tcp"))


# --- the per-process files --------------------------------------------------------------


def _process_input(kind: str) -> Any:
    return st.one_of(mutated(PROCESS_SEEDS[kind]), mutated(PROCESS_SEEDS[kind]), st.binary(max_size=300))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["fdinfo", "cmdline", "comm", "status", "stat"])
def test_process_parsers_raise_only_parse_errors(kind: str) -> None:
    @settings(FUZZ, max_examples=FUZZ.max_examples * 2)
    @given(_process_input(kind))
    def check(data: bytes) -> None:
        COUNTS["process %s" % kind] += 1
        targets.run(kind, data)
        targets.socket_link(data[:80])

    check()


# these pin where a ParseError of a file with lines should point: at the line
def test_fdinfo_bad_flags_error_names_the_line() -> None:
    with pytest.raises(procnet.ParseError) as info:
        procnet._parse.process.fdinfo_flags(b"pos:\t0\nflags:\t09\n", path="/p/1/fdinfo/3")  # type: ignore[attr-defined]
    assert info.value.lineno == 2


def test_status_bad_uid_line_error_names_the_line() -> None:
    from procnet._parse.process import status_uids

    with pytest.raises(procnet.ParseError) as info:
        status_uids(b"Name:\tx\nUid:\t0\tzero\t0\t0\n", path="/p/1/status")
    assert info.value.lineno == 2


# --- filters and services ---------------------------------------------------------------


@st.composite
def filter_texts(draw: Callable[[Any], Any]) -> bytes:
    words = draw(st.lists(st.sampled_from(corpus.FILTER_WORDS), max_size=12))
    if draw(st.booleans()):
        return " ".join(words).encode("utf-8", "surrogateescape")
    # glue without spaces, and noise
    glue = draw(st.sampled_from(["", " ", "\t", "\n", "\x00"]))
    text = glue.join(words).encode("utf-8", "surrogateescape")
    return draw(_mutation(text)) if text else text


@pytest.mark.slow
def test_compile_filter_raises_only_filter_errors() -> None:
    @settings(FUZZ, max_examples=FUZZ.max_examples * 6)
    @given(st.one_of(filter_texts(), filter_texts(), st.binary(max_size=80)), st.integers(0, 3))
    def check(data: bytes, family: int) -> None:
        COUNTS["compile_filter"] += 1
        try:
            targets.filter_expr(data, family)
        except Exception as exc:
            if not targets.known_bug("filter", exc):
                raise
            COUNTS["known bug filter"] += 1

    check()


@pytest.mark.slow
def test_parse_services_never_raises() -> None:
    @settings(FUZZ, max_examples=FUZZ.max_examples * 2)
    @given(st.one_of(mutated(corpus.services_seeds()), st.binary(max_size=300)))
    def check(data: bytes) -> None:
        COUNTS["parse_services"] += 1
        targets.run_tolerant("services", data, COUNTS)

    check()


def test_parse_services_huge_port_is_skipped() -> None:
    from procnet._services import parse_services

    table = parse_services("big %s/tcp\nssh 22/tcp\n" % ("9" * 4400))
    assert table.name(22, "tcp") == "ssh"


@pytest.mark.parametrize(
    "text",
    ["sport = :" + "9" * 4400, "dport = " + "9" * 4400, "dst 127.0.0.1/" + "9" * 4400, "src " + "1" * 4400],
    ids=["port", "bare-port", "prefix", "address"],
)
def test_compile_filter_huge_number_is_a_filter_error(text: str) -> None:
    with pytest.raises(procnet.FilterError):
        procnet.compile_filter(text)


# --- the regression corpus --------------------------------------------------------------

#: regression files whose bug is still open: file name -> reason (strict xfail)
OPEN_BUGS: Dict[str, str] = {}


def _regressions() -> List[Any]:
    out = []
    for name in sorted(os.listdir(corpus.REGRESSIONS)):
        if not name.endswith(".bin"):
            continue
        marks = []
        if name in OPEN_BUGS:
            marks.append(pytest.mark.xfail(strict=True, reason=OPEN_BUGS[name]))
        out.append(pytest.param(name, marks=marks, id=name))
    return out


def regression_target(name: str) -> str:
    """``inet--tcp6--big--what.bin`` -> ``inet:tcp6:big``; the last part says what it is."""
    parts = name[: -len(".bin")].split("--")[:-1]
    return ":".join(parts)


@pytest.mark.parametrize("name", _regressions())
def test_regression_corpus(name: str) -> None:
    with open(os.path.join(corpus.REGRESSIONS, name), "rb") as f:
        data = f.read()
    COUNTS["regressions"] += 1
    targets.run(regression_target(name), data)
