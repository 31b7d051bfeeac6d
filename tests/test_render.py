"""procnet.cli.render: escaping of foreign text, ss's and lsof's column layouts, bounded lookups."""

from __future__ import annotations

import json
import os
import re
import time
from typing import List

import pytest
from hypothesis import given
from hypothesis import strategies as st

from procnet.cli.render import (
    INVISIBLE,
    LEFT,
    RIGHT,
    Column,
    HostResolver,
    escape_quoted,
    escape_text,
    filter_error_text,
    format_lsof_table,
    lsof_command,
    lsof_command_len,
    lsof_text,
    message,
    render_columns,
)


def test_control_characters_become_hex_escapes() -> None:
    assert escape_text("a\nb\tc\x1b[31m\x7f") == "a\\x0ab\\x09c\\x1b[31m\\x7f"


def test_invalid_utf8_bytes_become_hex_escapes() -> None:
    assert escape_text(os.fsdecode(b"caf\xe9")) == "caf\\xe9"


def test_printable_unicode_and_spaces_are_kept() -> None:
    assert escape_text("/tmp/a b/\u00e9t\u00e9") == "/tmp/a b/\u00e9t\u00e9"


def test_bidi_override_is_escaped_bytewise() -> None:
    assert escape_text("x\u202ey") == "x\\xe2\\x80\\xaey"


@given(st.binary(max_size=64))
def test_escaped_bytes_are_printable_and_json_safe(raw: bytes) -> None:
    text = escape_text(os.fsdecode(raw))
    assert text.isprintable()
    text.encode("utf-8")  # no lone surrogates left
    assert json.loads(json.dumps(text)) == text


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Cf", "Co", "Cn")), max_size=40))
def test_printable_text_is_unchanged(text: str) -> None:
    if text.isprintable() and not re.search("[%s]" % INVISIBLE, text):
        assert escape_text(text) == text


# -- invisible "printable" characters: they pad a name or pass for a space ---------------------

INVISIBLES = ["\u3164", "\u115f", "\u1160", "\uffa0", "\u2800", "\u034f", "\ufe0f", "\U000e0100", "\u17b4",
              "\u180b"]
# categories Cf, Zs, Zl, Zp, Co, Cn, Cc (C1): str.isprintable() refuses them
NOT_PRINTABLE = ["\u200b", "\u200f", "\u202e", "\u2066", "\ufeff", "\u00ad", "\u00a0", "\u3000", "\u2028",
                 "\u2029", "\ue000", "\U000e0001", "\x85", "\x9b", "\u0378"]


@pytest.mark.parametrize("ch", INVISIBLES + NOT_PRINTABLE)
def test_invisible_and_format_characters_are_escaped_bytewise(ch: str) -> None:
    expected = "".join("\\x%02x" % b for b in ch.encode("utf-8"))
    assert escape_text("a%sb" % ch) == "a%sb" % expected


def _unsafe(text: str) -> List[str]:
    """Characters a terminal would not show as themselves."""
    return [c for c in text if not c.isprintable() or re.match("[%s]" % INVISIBLE, c)]


any_text = st.one_of(
    st.text(max_size=40),
    st.binary(max_size=40).map(os.fsdecode),
    st.lists(st.sampled_from(INVISIBLES + NOT_PRINTABLE + list('a "\\\x1b\x07\n\u00e9')),
             max_size=12).map("".join),
)


@given(any_text)
def test_escaped_text_has_nothing_a_terminal_would_not_show(text: str) -> None:
    for escaped in (escape_text(text), escape_quoted(text), lsof_text(text), lsof_command(text, 9)):
        assert not _unsafe(escaped), (text, escaped)
        escaped.encode("utf-8")


@given(any_text)
def test_quoted_names_cannot_close_their_quotes_and_come_back_whole(text: str) -> None:
    escaped = escape_quoted(text)
    assert '"' not in escaped
    # every backslash starts an escape procnet wrote, so the bytes come back exactly
    back = bytearray()
    i = 0
    while i < len(escaped):
        if escaped.startswith("\\x", i):
            back.append(int(escaped[i + 2 : i + 4], 16))
            i += 4
        else:
            back += escaped[i].encode("utf-8")
            i += 1
    assert bytes(back) == text.encode("utf-8", "surrogateescape")


def test_quoted_name_escapes_quote_and_backslash() -> None:
    assert escape_quoted('x"),pid=1,fd=3),("y\\') == "x\\x22),pid=1,fd=3),(\\x22y\\x5c"
    assert escape_quoted("sshd") == "sshd"


# -- lsof's escapes, byte for byte (lsof 4.95 misc.c safepup; seen from the real lsof) ----------


@pytest.mark.parametrize("name, shown", [
    ("/tmp/f a\x1b[1m\x07\t\n\x7f" + os.fsdecode(b"\xff") + "\u00e9\x01\x1f\\z",
     "/tmp/f a^[[1m^G\\t\\n\\x7f\\xff\u00e9^A^_\\\\z"),
    ("\b\f\r\x00", "\\b\\f\\r^@"),
    ("plain /path", "plain /path"),
    # printable to lsof (glibc's iswprint), not to procnet: escaped bytewise
    ("x\u200by\u3164z\u202e", "x\\xe2\\x80\\x8by\\xe3\\x85\\xa4z\\xe2\\x80\\xae"),
])
def test_lsof_name_escapes_as_lsof(name: str, shown: str) -> None:
    assert lsof_text(name) == shown


@pytest.mark.parametrize("comm, width, shown", [
    # each row was printed by lsof 4.95 for a process of that name (a 9-wide column)
    ("a b\x1b\"\t\\x\u00e9", 9, "a\\x20b^[\""),
    ("\\a\x7f" + os.fsdecode(b"\xff"), 9, "\\\\a\\x7f"),
    ("\u00e9\u200bxy", 9, "\\xc3\\xa9"),
    ('x",pid=1,fd=3)', 9, 'x",pid=1,'),
    ("\x01\x1f", 7, "^A^_"),
    (os.fsdecode(b"\x80\x9b\xc2\x9b"), 9, "\\x80\\x9b"),
    ("sshd 1 root", 9, "sshd\\x201"),
    ("python3", 9, "python3"),
    ("\u3164\u3164\u3164", 9, "\\xe3\\x85"),
])
def test_lsof_command_escapes_and_cuts_as_lsof(comm: str, width: int, shown: str) -> None:
    assert lsof_command(comm, width) == shown


def test_lsof_command_width_counts_as_lsof() -> None:
    # safestrlen(): 2 for \\. ^. and (signed char) every byte above 0x7f, 4 for DEL and space
    assert lsof_command_len("python3") == 7
    assert lsof_command_len("a b") == 6
    assert lsof_command_len("\u00e9") == 4
    assert lsof_command_len("\x1b\\\x7f") == 8


@given(any_text, st.integers(1, 12))
def test_lsof_command_never_exceeds_its_width_nor_cuts_an_escape(text: str, width: int) -> None:
    shown = lsof_command(text, width)
    assert len(shown) <= width
    assert " " not in shown
    assert shown == lsof_command(text, 1000)[: len(shown)]


# -- messages --------------------------------------------------------------------------------------


def test_message_escapes_newlines_and_controls() -> None:
    assert message("procnet ss", "/b/\x1b]0;pwned\x07\nprocnet ss: fine") == (
        "procnet ss: /b/\\x1b]0;pwned\\x07\\x0aprocnet ss: fine\n")


def test_filter_error_marker_sits_under_the_escaped_token() -> None:
    from procnet._filter import FilterError, compile_filter

    with pytest.raises(FilterError) as info:
        compile_filter("src 10.0.0.1 sport = :\x1b[2J\u3164")
    lines = filter_error_text(info.value).split("\n")
    assert not _unsafe("".join(lines)) and len(lines) == 3
    expr, marker = lines[1][4:], lines[2][4:]
    assert expr == "src 10.0.0.1 sport = :\\x1b[2J\\xe3\\x85\\xa4"
    assert marker.index("^") == len(expr) - 1 and marker.lstrip(" ").startswith("~")
    assert expr[marker.index("~"):] == ":\\x1b[2J\\xe3\\x85\\xa4"


@given(st.binary(max_size=64).filter(lambda b: b"\\" not in b))
def test_escaping_is_reversible_without_backslashes(raw: bytes) -> None:
    text = escape_text(os.fsdecode(raw))
    back = text.encode("utf-8").decode("unicode_escape").encode("latin-1") if text.isascii() else None
    if back is not None:
        assert back == raw


def _ss_columns() -> list:
    return [Column(LEFT, "State", ""), Column(LEFT, "Recv-Q", " "), Column(RIGHT, "Local Address:", " "),
            Column(LEFT, "Port", ""), Column(LEFT, "Process", "")]


def test_pipe_layout_is_compact_as_ss_writes_to_a_pipe() -> None:
    lines = [["State", "Recv-Q", "Local Address:", "Port", "Process"],
             ["LISTEN", "0     ", "127.0.0.1:", "22", ""],
             ["ESTAB", "0     ", "[::1]:", "40000", ' users:(("a",pid=1,fd=3))']]
    text = render_columns(_ss_columns(), lines, None, last_cell_unmeasured=True)
    assert text.split("\n")[:3] == [
        "State  Recv-Q Local Address:Port Process",
        "LISTEN 0          127.0.0.1:22          ",
        'ESTAB  0              [::1]:40000 users:(("a",pid=1,fd=3))',
    ]


def test_terminal_layout_fills_the_screen_width() -> None:
    lines = [["State", "Recv-Q", "Local Address:", "Port", "Process"], ["ESTAB", "0     ", "1.2.3.4:", "22", "x"]]
    text = render_columns(_ss_columns(), lines, 60)
    assert all(len(line) == 60 for line in text.splitlines())


def test_lsof_table_matches_lsof_print_file() -> None:
    row = dict(command="python3", pid="6772", user="root", fd="   3", mode="u", lock="", type="IPv4",
               device="10414", size_off="0t0", node="TCP", name="127.0.0.1:46523 (LISTEN)")
    assert format_lsof_table([row]).splitlines() == [
        "COMMAND  PID USER   FD   TYPE DEVICE SIZE/OFF NODE NAME",
        "python3 6772 root    3u  IPv4  10414      0t0  TCP 127.0.0.1:46523 (LISTEN)",
    ]
    assert format_lsof_table([]) == ""


def test_resolver_gives_up_on_a_slow_lookup() -> None:
    def slow(addr: str) -> str:
        time.sleep(5)
        return "never"

    import ipaddress

    r = HostResolver(per_lookup=0.2, budget=0.5, lookup=slow)
    start = time.monotonic()
    assert r.name(ipaddress.ip_address("192.0.2.1")) is None
    assert r.name(ipaddress.ip_address("192.0.2.2")) is None
    assert r.name(ipaddress.ip_address("192.0.2.3")) is None
    assert time.monotonic() - start < 1.5


def test_resolver_uses_the_answer_and_caches_it() -> None:
    calls = []

    def fast(addr: str) -> str:
        calls.append(addr)
        return "host.example"

    import ipaddress

    r = HostResolver(lookup=fast)
    ip = ipaddress.ip_address("192.0.2.9")
    assert r.name(ip) == r.name(ip) == "host.example"
    assert calls == ["192.0.2.9"]
