"""``procnet ss -s``: the summary, read and printed as iproute2's ``misc/ss.c`` does.

ss's ``print_summary()`` reads the kernel's counters, not the sockets:
``net/sockstat`` and ``net/sockstat6`` (``get_sockstat``: one ``KEY: word N word N ...``
line per protocol, each number after a word) and ``Tcp: CurrEstab`` from ``net/snmp``
(``get_snmp_int``: a header line of names, then a line of values). :func:`read_sockstat`
and :func:`snmp_value` read them as ss's ``sscanf`` calls do (a line or number ss cannot
read leaves its counter 0); :func:`summary_text` prints them in ss's ``printf`` formats.
No I/O here: the command reads the files (:func:`procnet.cli.ss.run`).

The counters are the reading process's network namespace's (the kernel keeps them per
namespace), except ``TCP: alloc`` and ``orphan``, which are the machine's: ss shows them
so, and so does procnet.
"""

from __future__ import annotations

import re

from typing import Dict, List, NamedTuple, Optional


class Sockstat(NamedTuple):
    """The counters ss's ``struct ssummary`` keeps (0 where the files do not say)."""

    socks: int = 0
    tcp_mem: int = 0
    tcp_total: int = 0
    tcp_orphans: int = 0
    tcp_tws: int = 0
    tcp4_hashed: int = 0
    udp4: int = 0
    raw4: int = 0
    frag4: int = 0
    frag4_mem: int = 0
    tcp6_hashed: int = 0
    udp6: int = 0
    raw6: int = 0
    frag6: int = 0
    frag6_mem: int = 0


# ss.c get_sockstat_line: the line's first word -> the counters its "%*s%d..." reads, in order.
_LINES: Dict[str, List[str]] = {
    "sockets:": ["socks"],
    "UDP:": ["udp4"],
    "UDP6:": ["udp6"],
    "RAW:": ["raw4"],
    "RAW6:": ["raw6"],
    "TCP6:": ["tcp6_hashed"],
    "FRAG:": ["frag4", "frag4_mem"],
    "FRAG6:": ["frag6", "frag6_mem"],
    "TCP:": ["tcp4_hashed", "tcp_orphans", "tcp_tws", "tcp_total", "tcp_mem"],
}


_LONG_MAX = (1 << 63) - 1
#: an optional sign, then ASCII digits (sscanf's %d)
_SCANNED = re.compile(r"([+-]?)([0-9]+)")


def _scan_int(word: str) -> Optional[int]:
    """sscanf's ``%d`` of a whole word: an optional sign and the leading digits; None when
    there are none (sscanf then stops: the counter and those after it stay 0). As glibc,
    the number saturates at the bounds of a long (strtol) and is then cut to C's 32-bit
    int; a run of digits however long (a hostile bundle) costs no more than its length."""
    m = _SCANNED.match(word)
    if m is None:
        return None
    digits = m.group(2).lstrip("0") or "0"
    magnitude = int(digits) if len(digits) <= 19 else _LONG_MAX + 1
    if m.group(1) == "-":
        value = -magnitude if magnitude <= _LONG_MAX + 1 else -(_LONG_MAX + 1)
    else:
        value = min(magnitude, _LONG_MAX)
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def _line_values(rest: str, count: int) -> List[int]:
    """The numbers of ``"%*s%d%*s%d..."`` (``count`` of them) in ``rest``: each number is
    the word after a skipped word; the scan stops at the first that is not a number."""
    words = rest.split()
    out: List[int] = []
    for i in range(count):
        if 2 * i + 1 >= len(words):
            break
        value = _scan_int(words[2 * i + 1])
        if value is None:
            break
        out.append(value)
    return out


def read_sockstat(*texts: Optional[str]) -> Sockstat:
    """The counters of ``net/sockstat`` and ``net/sockstat6`` (either may be None: not
    there), as ss's get_sockstat reads them; a later line overrides an earlier one.

    >>> read_sockstat("sockets: used 7\\nTCP: inuse 2 orphan 0 tw 1 alloc 3 mem 0\\n", None).tcp_total
    3
    """
    counters: Dict[str, int] = {}
    for text in texts:
        if text is None:
            continue
        for line in text.split("\n"):
            # sscanf(line, "%[^ ] %[^\n]\n", id, rem) == 2: a word, a space, something
            key, space, rest = line.partition(" ")
            if not key or not space or not rest.strip():
                continue
            names = _LINES.get(key)
            if names is not None:
                counters.update(zip(names, _line_values(rest, len(names))))
    return Sockstat(**counters)


def snmp_value(text: Optional[str], proto: str, key: str) -> Optional[int]:
    """The ``key`` column of ``proto``'s lines in ``net/snmp`` (``"Tcp:"``, ``"CurrEstab"``)
    as ss's get_snmp_int finds it: the header line's word after the Nth space, then the
    next line's; None when there is no such pair of lines (ss then says so and uses 0).

    >>> snmp_value("Tcp: A CurrEstab\\nTcp: 1 5\\n", "Tcp:", "CurrEstab")
    5
    """
    if text is None:
        return None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the end of the last line, not a line (fgets reads none there)
    i = 0
    while i < len(lines):
        header = lines[i].split(" ")
        i += 1
        if not lines[i - 1].startswith(proto):
            continue
        # the word after each space, until the key (ss: else the last one)
        position = next((n for n, word in enumerate(header) if n and word == key), len(header) - 1)
        if i >= len(lines) or not lines[i].startswith(proto):
            return None
        values = lines[i].split(" ")
        i += 1
        if 0 < position < len(values):
            value = _scan_int(values[position])
            return 0 if value is None else value
    return None


def summary_text(s: Sockstat, tcp_estab: int) -> str:
    """ss's print_summary, its ``printf`` formats, from ``Total:`` to the blank line that ends it."""
    ip4 = s.raw4 + s.udp4 + s.tcp4_hashed
    ip6 = s.raw6 + s.udp6 + s.tcp6_hashed
    rows = (
        ("RAW", s.raw4, s.raw6),
        ("UDP", s.udp4, s.udp6),
        ("TCP", s.tcp4_hashed, s.tcp6_hashed),
        ("INET", ip4, ip6),
        ("FRAG", s.frag4, s.frag6),
    )
    out = [
        "Total: %d\n" % s.socks,
        "TCP:   %d (estab %d, closed %d, orphaned %d, timewait %d)\n" % (
            s.tcp_total + s.tcp_tws, tcp_estab, s.tcp_total - (s.tcp4_hashed + s.tcp6_hashed - s.tcp_tws),
            s.tcp_orphans, s.tcp_tws),
        "\n",
        "Transport Total     IP        IPv6\n",
    ]
    out.extend("%s\t  %-9d %-9d %-9d\n" % (name, v4 + v6, v4, v6) for name, v4, v6 in rows)
    out.append("\n")
    return "".join(out)


__all__ = ["Sockstat", "read_sockstat", "snmp_value", "summary_text"]
