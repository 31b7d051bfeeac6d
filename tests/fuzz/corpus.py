"""Seeds for the fuzzers: real tables from the live /proc and from fixtures/, and the
palette of hostile fragments the mutators splice into them.

Shared by tests/test_fuzz.py (hypothesis) and the atheris harnesses beside this file.
Reads files only; writes nothing.
"""

from __future__ import annotations

import glob
import os
from typing import Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(ROOT, "fixtures")
REGRESSIONS = os.path.join(FIXTURES, "fuzz-regressions")

INET_TABLES = ["tcp", "tcp6", "udp", "udp6", "udplite", "udplite6", "raw", "raw6"]
TEXT_TABLES = INET_TABLES + ["unix"]

#: a seed keeps at most this many lines (the live unix table can be long; mutations
#: matter more than volume)
MAX_SEED_LINES = 60

#: fragments a mutator inserts or substitutes: separators, NUL, invalid UTF-8, escapes,
#: numbers too big for any field (hex and decimal, 40 digits), signs, the tokens of a row.
FRAGMENTS: List[bytes] = [
    b"\x00",
    b"\r",
    b"\r\n",
    b"\n",
    b"\x0b",
    b"\x0c",
    b"\x1c",
    b"\x1e",
    b"\x85",
    b"\xc2\x85",  # NEL as UTF-8
    b"\xe2\x80\xa8",  # U+2028 LINE SEPARATOR
    b"\xff",
    b"\xfe\xff",
    b"\xed\xa0\x80",  # a lone surrogate, encoded: invalid UTF-8
    b"\xc0\x80",  # overlong NUL
    b"\x1b[31m",
    b"\x1b]0;title\x07",
    b"\t",
    b" ",
    b"  ",
    b":",
    b"-",
    b"+",
    b"@",
    b"9" * 40,
    b"F" * 40,
    b"f" * 40,
    b"0" * 40,
    b"-" + b"9" * 40,
    b"9" * 4400,  # past CPython 3.11's int() limit of 4300 decimal digits
    b"18446744073709551616",  # 2**64
    b"99999999999999999999",  # 20 digits > 2**64
    b"4294967296",
    b"FFFFFFFF",
    b"80000000",
    b"\xd9\xa0",  # ARABIC-INDIC DIGIT ZERO: a digit to str.isdigit, not to the kernel
    b"\xef\xbc\x91",  # FULLWIDTH DIGIT ONE
    b"0x1F",
    b"1_000",
    b"socket:[",
    b"]",
    b"0A",
    b"0000000000000000:",
    b"00000002 00000000 00010000 0001 01 99999 /forged",
    b"   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1234 1 0000000000000000 100 0 0 10 0",
]

#: one overlong line: 100,000 characters (inserted whole by one mutation)
OVERLONG = b"A" * 100000
OVERLONG_HEX = b"0" * 100000


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def _cap(data: bytes) -> bytes:
    lines = data.split(b"\n")
    if len(lines) > MAX_SEED_LINES + 1:
        lines = lines[:MAX_SEED_LINES] + [b""]
    return b"\n".join(lines)


def text_seeds(live_root: str = "/proc") -> Dict[str, List[bytes]]:
    """table -> real texts of that table: the live machine's and every fixture's."""
    seeds: Dict[str, List[bytes]] = {t: [] for t in TEXT_TABLES}
    for table in TEXT_TABLES:
        paths = [os.path.join(live_root, "net", table)]
        paths += sorted(glob.glob(os.path.join(FIXTURES, "*", "net", table)))
        paths += sorted(glob.glob(os.path.join(FIXTURES, "*", "*", "net", table)))
        for path in paths:
            data = _read(path)
            if data:
                seeds[table].append(_cap(data))
    return seeds


def netlink_seeds() -> List[bytes]:
    """Recorded sock_diag replies (fixtures/netlink/*.bin)."""
    return [_read(p) for p in sorted(glob.glob(os.path.join(FIXTURES, "netlink", "*.bin")))]


def process_seeds(live_root: str = "/proc") -> Dict[str, List[bytes]]:
    """kind (fdinfo, cmdline, comm, status, stat) -> real files, live and from fixtures."""
    kinds = ["fdinfo", "cmdline", "comm", "status", "stat"]
    seeds: Dict[str, List[bytes]] = {k: [] for k in kinds}
    for kind in kinds:
        if kind == "fdinfo":
            live = [os.path.join(live_root, "self", "fdinfo", "0")]
            found = glob.glob(os.path.join(FIXTURES, "*", "*", "fdinfo", "*"))
        else:
            live = [os.path.join(live_root, "self", kind)]
            found = glob.glob(os.path.join(FIXTURES, "*", "*", kind))
        for path in live + sorted(found)[:20]:
            data = _read(path)
            if data or kind == "cmdline":
                seeds[kind].append(data)
    seeds["fdinfo"].append(b"pos:\t0\nflags:\t02004002\nmnt_id:\t9\nino:\t1234\n")
    seeds["status"].append(b"Name:\tx\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n")
    seeds["stat"].append(b"1 (a) b) S 0 1 1 0 -1 4194560 0 0\n")
    return seeds


def services_seeds() -> List[bytes]:
    data = _read("/etc/services")
    return [_cap(data) if data else b"", b"http 80/tcp www # WorldWideWeb\nhttp 80/udp\n"]


#: words of ss's filter language, for the filter fuzzer
FILTER_WORDS = [
    "state", "exclude", "established", "listening", "connected", "synchronized", "bucket",
    "big", "all", "time-wait", "syn-recv", "closed", "sport", "dport", "src", "dst",
    "and", "or", "not", "!", "&", "&&", "|", "||", "(", ")", "=", "==", "!=", "<", ">",
    "<=", ">=", "ge", "le", "eq", "neq", "gt", "lt", ":22", ":ssh", ":http", ":*",
    "127.0.0.1", "127.0.0.1/8", "[::1]", "[::1]:22", "::1", "::ffff:1.2.3.4", "1.2.3.4:80",
    "*", "*:*", "0.0.0.0/0", "/run/*", "@abs", "autobound", "dev", "fwmark", "cgroup",
    "inet", "inet6", "unix", "lo", ":65536", ":99999999999999999999999999999999999999",
    "1.2.3.4/33", "[::1]/129", ":" + "9" * 4400, "9" * 4400, "1.2.3.4/" + "9" * 4400, "\x00", "\x1b[31m", "\udcff",
]
