"""procnet.cli.render: escaping of foreign text, ss's and lsof's column layouts, bounded lookups."""

from __future__ import annotations

import json
import os
import time

from hypothesis import given
from hypothesis import strategies as st

from procnet.cli.render import LEFT, RIGHT, Column, HostResolver, escape_text, format_lsof_table, render_columns


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
    if text.isprintable():
        assert escape_text(text) == text


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
