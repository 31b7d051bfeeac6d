"""Parsers and formatter for the inet tables: tcp, tcp6, udp, udp6, udplite, udplite6, raw, raw6.

The kernel source is the specification; each pattern below names the printf it reads.
Rows are matched whole by one regular expression per table family, so a malformed line
is caught where it is, and fields are decoded only for the rows a caller keeps.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
import sys
from itertools import chain
from typing import (
    Any,
    AbstractSet,
    AnyStr,
    Callable,
    Collection,
    Dict,
    Iterable,
    Iterator,
    List,
    Match,
    Optional,
    Pattern,
    Set,
    Tuple,
    TypeVar,
    Union,
)

from .._records import Endpoint, InetSocket, TcpState, Timer, fast_constructor, lazy_constructor
from ._common import INET_TABLES, RECENT_WINDOW, ErrorHandler, Text, as_text, report

_HEX = "[0-9A-Fa-f]"
#: Most distinct addresses / endpoints a parse remembers (then it starts afresh).
_CACHE_LIMIT = 1 << 16
_E = TypeVar("_E")
#: A decimal field: ASCII digits only (``\d`` would take any script's digits), and at
#: most 20 of them (a u64): Python 3.11+ refuses int() of more than 4300 digits.
_DEC = "[0-9]{1,20}"


def _row_pattern(addr_digits: int, tcp: bool, light: bool = False) -> Pattern[str]:
    """One row. ``light``: only the state and the inode are captured (the row is checked
    whole all the same); otherwise every field is."""

    def cap(x: str, always: bool = False) -> str:
        return "(%s)" % x if always or not light else "(?:%s)" % x

    addr = "%s:%s" % (cap("%s{%d}" % (_HEX, addr_digits)), cap("%s{4}" % _HEX))
    # net/ipv4/tcp_ipv4.c get_tcp4_sock / get_timewait4_sock / get_openreq4,
    # net/ipv4/udp.c udp4_format_sock, net/ipv4/raw.c raw_sock_seq_show,
    # net/ipv6/datagram.c __ip6_dgram_sock_seq_show (and the tcp6 twins):
    #   "%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X %5u %8d %lu %d %pK"
    head = (
        r" *%s: " % cap(_DEC)  # sl: %4d or %5d, grows past 9999
        + addr  # local address : port
        + " "
        + addr  # remote address : port
        + " %s " % cap("%s{2}" % _HEX, True)  # st %02X
        + "%s:%s " % (cap("%s{1,16}" % _HEX), cap("%s{1,16}" % _HEX))  # tx_queue:rx_queue %08X:%08X
        + "%s:%s " % (cap("%s{1,8}" % _HEX), cap("%s{1,16}" % _HEX))  # tr:tm->when %02X:%08lX
        + "%s +" % cap("%s{1,16}" % _HEX)  # retrnsmt %08X
        + r"%s +" % cap(_DEC)  # uid %5u
        + r"%s +" % cap("-?" + _DEC)  # timeout (icsk_probes_out) %8d
        + r"%s " % cap(_DEC, True)  # inode %lu
        + r"%s " % cap("-?" + _DEC)  # refcount %d
        + cap(r"\S+")  # %pK
    )
    d = _DEC
    if tcp:
        # full sockets only: " %lu %lu %u %u %d" rto ato quick|pingpong cwnd ssthresh;
        # a future kernel may append columns after them.
        tail = r"(?: %s %s %s %s %s(?: [^\n]*)?)?" % (cap(d), cap(d), cap(d), cap(d), cap("-?" + d))
    else:
        # " %u" drops (absent before 2.6.28); later columns ignored
        tail = r"(?: %s(?: [^\n]*)?)?" % cap("-?" + d)
    return re.compile(head + tail + " *$")


@functools.lru_cache(maxsize=None)
def _patterns(is_tcp: bool, addr_digits: int) -> Tuple[Pattern[str], Pattern[str]]:
    """(one row with every field captured, every row of a whole text), compiled on first
    use: a query that reads no text table (sock_diag answered) compiles none.

    The second finds the rows of a whole text at once, each a whole line, and captures
    only (the row without its padding, its state, its inode): the other fields are
    decoded from the row's text when one of the record's fields is first read.
    """
    row = _row_pattern(addr_digits, is_tcp)
    light = _row_pattern(addr_digits, is_tcp, light=True).pattern
    # Every line matches once: as a row (the row, its state, its inode), or else as a
    # line that is not one (ending in a newline, or the last line without one).
    table = re.compile("^(?:(" + light[: -len(" *$")] + ") *(?:\n|\\Z)|([^\n]*)\n|([^\n]+)\\Z)", re.M)
    return row, table


# Group indexes of the state and the inode in a row match's groups() (sl, local address and
# port, remote address and port come before them; see _row_pattern).
_ST, _INODE = 5, 13

_HEADERS = {
    "tcp": "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
    "tcp6": "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
    "udp": "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops",
    "raw": "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops",
    "dgram6": "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops",
}

#: seq_setwidth() widths: tcp4 pads every line to TMPSZ - 1, udp4 to 127; others do not pad.
_PAD = {"tcp": 149, "udp": 127, "udplite": 127}


def _header_key(table: str) -> str:
    proto, family = INET_TABLES[table]
    if family == socket.AF_INET6:
        return "tcp6" if proto == "tcp" else "dgram6"
    return {"tcp": "tcp", "udp": "udp", "udplite": "udp", "raw": "raw"}[proto]


def _check_table(table: str) -> Tuple[str, socket.AddressFamily]:
    try:
        return INET_TABLES[table]
    except KeyError:
        raise ValueError(
            "unknown inet table %r; expected one of %s" % (table, ", ".join(INET_TABLES))
        ) from None


def _ip_decoder(
    family: socket.AddressFamily, byteorder: str
) -> Callable[[str], ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Address text -> address.

    The kernel prints the address as 32-bit words in the writing CPU's native order
    (``%08X`` of a ``__be32`` read as a native u32), so on a little-endian host each
    8-digit group is the word's bytes reversed, and on a big-endian one it is not.
    """
    swap = byteorder == "little"
    if family == socket.AF_INET:

        def decode4(text: str) -> ipaddress.IPv4Address:
            raw = bytes.fromhex(text)
            return ipaddress.IPv4Address(raw[::-1] if swap else raw)

        return decode4

    def decode6(text: str) -> ipaddress.IPv6Address:
        raw = bytes.fromhex(text)
        if swap:
            raw = raw[3::-1] + raw[7:3:-1] + raw[11:7:-1] + raw[15:11:-1]
        return ipaddress.IPv6Address(raw)

    return decode6


def parse_inet(
    data: Text,
    table: str,
    *,
    byteorder: str = sys.byteorder,
    path: Optional[str] = None,
    states: Optional[Collection[int]] = None,
    on_error: Optional[ErrorHandler] = None,
) -> Iterator[InetSocket]:
    """Records of one inet table (``table`` is its name: ``"tcp"``, ``"udp6"``, ``"raw"``...).

    ``data`` is the whole file, ``str`` or ``bytes``. ``byteorder`` is the byte order of
    the machine that wrote it (``"little"`` or ``"big"``; default this one's). ``path``
    names the file in errors. ``states``, when given, keeps only rows in those states and
    decodes no other row beyond checking its shape. A bad line raises
    :class:`~procnet.ParseError`; with ``on_error`` it is handed to that callable and
    skipped instead. A socket listed twice (the kernel does not read its tables
    atomically; the repeats come close together) is yielded once, with memory that does
    not grow with the table (see ``_common.RecentInodes``); rows without an inode
    (TIME_WAIT, request sockets) are never merged.

    >>> text = ("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt"
    ...         "   uid  timeout inode\\n"
    ...         "   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000"
    ...         "     0        0 1234 1 0000000000000000 100 0 0 10 0\\n")
    >>> [str(s.local) for s in parse_inet(text, "tcp", byteorder="little")]
    ['127.0.0.1:22']
    """
    proto, family = _check_table(table)
    if byteorder not in ("little", "big"):
        raise ValueError("byteorder is 'little' or 'big', not %r" % (byteorder,))
    wanted = None if states is None else frozenset(int(s) for s in states)
    if isinstance(data, (bytes, bytearray)):
        # Bytes are decoded a block of lines at a time (a table is not held twice, as
        # bytes and as str); a state filter pushed down searches the bytes as they came
        # and decodes only the rows it keeps (a one-state query on a large table spends a
        # fifth of its time decoding).
        return _parse_inet(bytes(data), table, proto, family, byteorder, path or table, wanted, on_error)
    return _parse_inet(as_text(data), table, proto, family, byteorder, path or table, wanted, on_error)


#: The most states a filter may keep and be pushed down (searching for many tokens costs
#: more than matching every row).
_PUSHDOWN_MAX = 3


def _parse_inet(
    data: Union[str, bytes],
    table: str,
    proto: str,
    family: socket.AddressFamily,
    byteorder: str,
    path: str,
    wanted: Optional[AbstractSet[int]],
    on_error: Optional[ErrorHandler],
) -> Iterator[InetSocket]:
    # ``data`` as bytes is decoded a block at a time, or for a state filter pushed down
    # (see parse_inet) only the header and the rows kept.
    if not data:
        report(on_error, "empty table: no header line", path, 1, "")
        return
    header_end, header_line = _first_line(data)
    is_tcp = proto == "tcp"
    if not _header_fits(header_line.split(), is_tcp, family):
        report(on_error, "not a %s table: unexpected header" % table, path, 1, header_line)
        return
    if header_end < 0:
        return
    rows = _rows(data, header_end, is_tcp, family, path, wanted, on_error)
    # Each record keeps its row's text; the fields other than state and inode are
    # decoded from it when one of them is first read (the row was checked whole here,
    # so that decoding cannot fail).
    decode = _row_decoder(is_tcp, family, byteorder)
    new_socket = _new_lazy_socket
    by_hex = _STATE_BY_HEX
    # RecentInodes, inline (a method call per row is a tenth of this loop).
    recent: Set[int] = set()
    older: Set[int] = set()
    window = RECENT_WINDOW
    lineno = 1
    for line, st, inode_text, bad, bad_last in rows:
        lineno += 1
        if line is None:  # the line that is not a row
            bad = bad if bad is not None else bad_last
            report(on_error, _diagnose(bad, is_tcp, family), path, lineno, bad)
            continue
        state = by_hex[st]
        if wanted is not None and state not in wanted:
            continue
        inode = int(inode_text)
        if inode:
            if inode in recent or inode in older:
                continue
            recent.add(inode)
            if len(recent) >= window:
                older = recent
                recent = set()
        yield new_socket(decode, line, proto, family, state, inode)


def _first_line(data: Union[str, bytes]) -> Tuple[int, str]:
    """(where the header line ends, -1 if nowhere; the header line as str)."""
    if isinstance(data, bytes):
        end = data.find(b"\n")
        return end, (data if end < 0 else data[:end]).decode("utf-8", "surrogateescape")
    end = data.find("\n")
    return end, data if end < 0 else data[:end]


def _header_fits(header: List[str], is_tcp: bool, family: socket.AddressFamily) -> bool:
    """The header tells the file kinds apart: IPv4 tables say "rem_address", IPv6 ones
    "remote_address"; udp, udplite and raw end in "ref pointer drops", tcp does not.
    Without this check a tcp table read as udp parses, with rto taken for drops."""
    remote = "rem_address" if family == socket.AF_INET else "remote_address"
    return header[:3] == ["sl", "local_address", remote] and ("drops" in header) != is_tcp


def _rows(
    data: Union[str, bytes],
    header_end: int,
    is_tcp: bool,
    family: socket.AddressFamily,
    path: str,
    wanted: Optional[AbstractSet[int]],
    on_error: Optional[ErrorHandler],
) -> Iterable[Tuple[Any, ...]]:
    """(row, state, inode, bad line, bad last line) for every line after the header."""
    row, whole = _patterns(is_tcp, 8 if family == socket.AF_INET else 32)
    if wanted is not None and len(wanted) <= _PUSHDOWN_MAX:
        # Pushdown of a state filter: a row shows its state as the only two-hex-digit
        # token (" 0A "), so rows of other states are passed over by a search of the
        # text, without being matched or decoded. A row damaged so badly that it shows
        # none of the asked states cannot be one of them; it is not reported.
        return _checked_rows(row.match, _rows_showing(data, wanted), is_tcp, family, path, on_error)
    # No filter, or one that keeps many states: every row is matched and the state
    # tested after. One scan of the whole text in C matches every line, as a row or as a
    # line that is not one (reported by the caller, with its number), one at a time.
    if isinstance(data, bytes):
        return chain.from_iterable(map(_GROUPS, whole.finditer(block)) for block in _blocks(data, header_end + 1))
    return map(_GROUPS, whole.finditer(data, header_end + 1))


_GROUPS = re.Match.groups  # (map() of a C method: no generator between the scan and the loop)

#: bytes decoded at a time (see _blocks)
_BLOCK = 1 << 20


def _blocks(data: bytes, start: int) -> Iterator[str]:
    """``data[start:]`` as str, whole lines at a time, about ``_BLOCK`` bytes each (no
    UTF-8 sequence holds a newline byte, so cutting after one cuts no character)."""
    end = len(data)
    while start < end:
        cut = data.find(b"\n", start + _BLOCK) + 1 or end
        yield data[start:cut].decode("utf-8", "surrogateescape")
        start = cut


class _Memo(Dict[str, Any]):
    """token -> its decoded value, decoded once per distinct token (``convert``) and
    looked up in C after that. A table's columns repeat a few values (queues and timers
    mostly 0, one uid per service, the same pointer text when the kernel hides them), so
    most rows decode most columns with one dict lookup each. Bounded: it starts over when
    it holds ``_CACHE_LIMIT`` tokens."""

    __slots__ = ("convert",)

    def __init__(self, convert: Callable[[str], Any]) -> None:
        super().__init__()
        self.convert = convert

    def __missing__(self, token: str) -> Any:
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        value = self[token] = self.convert(token)
        return value


def _row_decoder(is_tcp: bool, family: socket.AddressFamily, byteorder: str) -> Callable[[str], Tuple[object, ...]]:
    """The function that decodes a checked row's other fields, in ``DECODED_FIELDS`` order."""
    decode_ip = _ip_decoder(family, byteorder)
    timer_member = _TIMER_MEMBERS
    # Addresses repeat (every connection to a listener shares its local address; most
    # peers are a few hosts): each text is decoded once per table, as are the other
    # columns' tokens (see _Memo).
    ips = _Memo(decode_ip)

    def new_endpoint(token: str) -> Endpoint:
        addr, port = token.split(":")
        return _new_endpoint(ips[addr], int(port, 16))

    def hex_pair(token: str) -> Tuple[int, int]:
        a, b = token.split(":")
        return int(a, 16), int(b, 16)

    def timer_pair(token: str) -> Tuple[Timer, int]:
        tr, when = token.split(":")
        return timer_member[int(tr, 16)], int(when, 16)

    def flag_pair(token: str) -> Tuple[int, bool]:
        flags = int(token)
        return flags >> 1, bool(flags & 1)

    endpoints = _Memo(new_endpoint)
    pairs = _Memo(hex_pair)
    timers = _Memo(timer_pair)
    hexes = _Memo(lambda token: int(token, 16))
    decimals = _Memo(int)
    texts = _Memo(str)  # one str object per distinct pointer text
    flag_pairs = _Memo(flag_pair)
    listen = frozenset(("%02X" % TcpState.LISTEN, "%02x" % TcpState.LISTEN))
    time_wait_timer = Timer.TIME_WAIT

    def decode(line: str) -> Tuple[object, ...]:
        # The row was matched whole by the same pattern when parsed: its whitespace-split
        # tokens are the pattern's fields (the pointer is \S+, and str.split() splits on
        # exactly what \s matches), so plain splitting is safe and three times cheaper
        # than matching again.
        t = line.split()
        timer, when = timers[t[5]]
        uid: Optional[int] = decimals[t[7]]
        rto = ato = quick = cwnd = ssthresh = fastopen = drops = None
        pingpong: Optional[bool] = None
        if is_tcp:
            if len(t) >= 17:
                rto = decimals[t[12]]
                ato = decimals[t[13]]
                quick, pingpong = flag_pairs[t[14]]
                cwnd = decimals[t[15]]
                if t[3] in listen:
                    fastopen = decimals[t[16]]
                else:
                    ssthresh = decimals[t[16]]
            elif timer is time_wait_timer:
                # get_timewait4_sock prints a literal 0 uid: not the owner's.
                uid = None
        elif len(t) >= 13:
            drops = decimals[t[12]]
        tx, rx = pairs[t[4]]
        return (
            endpoints[t[1]],
            endpoints[t[2]],
            tx,
            rx,
            timer,
            when,
            hexes[t[6]],
            uid,
            decimals[t[8]],
            decimals[t[10]],
            texts[t[11]],
            int(t[0][:-1]),
            rto,
            ato,
            quick,
            pingpong,
            cwnd,
            ssthresh,
            fastopen,
            drops,
            None,  # listen_backlog
            None,  # shutdown
            None,  # tcp_info
            None,  # skmem
            None,  # v6only
            None,  # cookie (sock_diag only)
            None,  # cgroup_id (sock_diag only)
        )

    return decode


def _checked_rows(
    match: Callable[[str], Optional[Match[str]]],
    lines: Iterable[Tuple[int, str]],
    is_tcp: bool,
    family: socket.AddressFamily,
    path: str,
    on_error: Optional[ErrorHandler],
) -> Iterator[Tuple[Any, ...]]:
    """(row, state, inode, None, None) of each line that is a row (the shape of the
    whole-text scan's matches); each line that is not is reported."""
    for index, line in lines:
        m = match(line)
        if m is None:
            report(on_error, _diagnose(line, is_tcp, family), path, index + 1, line)
            continue
        yield line, m.group(_ST + 1), m.group(_INODE + 1), None, None


def _rows_showing(data: Union[str, bytes], wanted: AbstractSet[int]) -> Iterator[Tuple[int, str]]:
    """(index, line) of the rows whose state token is one of ``wanted``, in table order.

    One regular-expression scan of the whole text (``str``, or the bytes as read) for the
    tokens (C speed, no per-line Python); only the lines it lands in are cut out, and
    decoded as the whole text would have been (bad bytes as surrogate escapes).
    """
    if not wanted:
        return  # (no token: an empty pattern would match every line, the header too)
    tokens = sorted({" %02X " % s for s in wanted} | {" %02x " % s for s in wanted})
    if isinstance(data, bytes):
        pattern = re.compile(b"|".join(re.escape(t.encode("ascii")) for t in tokens))
        for index, line in _lines_with(data, pattern, b"\n"):
            yield index, line.decode("utf-8", "surrogateescape")
    else:
        yield from _lines_with(data, re.compile("|".join(re.escape(t) for t in tokens)), "\n")


def _lines_with(data: AnyStr, pattern: Pattern[AnyStr], newline: AnyStr) -> Iterator[Tuple[int, AnyStr]]:
    """(index, line) of the lines after the first in which ``pattern`` is found."""
    header_end = data.find(newline)
    if header_end < 0:
        return
    find = data.find
    index = 0
    previous = 0
    line_end = -1
    for m in pattern.finditer(data, header_end):
        pos = m.start()
        if pos < line_end:
            continue  # a second token in a line already taken
        start = data.rfind(newline, 0, pos) + 1
        line_end = find(newline, pos)
        if line_end < 0:
            line_end = len(data)
        index += data.count(newline, previous, start)
        previous = start
        yield index, data[start:line_end]


# Records are built without __init__'s argument handling (see _records, "Construction"):
# the parser has checked every value, and at 100,000 rows that is a third of the cost.
_new_lazy_socket = lazy_constructor(InetSocket)
_new_endpoint = fast_constructor(Endpoint)
#: The order in which a row's decoder returns the fields it decodes: ``InetSocket._LAZY``
#: (tests/test_lazy_records.py checks that they are the same).
DECODED_FIELDS = (
    "local", "remote", "tx_queue", "rx_queue", "timer", "timer_expires", "retransmits", "uid", "probes",
    "refcount", "pointer", "slot", "rto", "ato", "quick_ack", "pingpong", "cwnd", "ssthresh",
    "fastopen_max_qlen", "drops", "listen_backlog", "shutdown", "tcp_info", "skmem", "v6only", "cookie",
    "cgroup_id",
)


class _Members(Dict[int, _E]):
    """number -> enum member, one dict lookup; a number the enum does not know becomes
    (and stays) its UNKNOWN_<n> pseudo-member."""

    def __init__(self, enum_type: Callable[[int], _E]) -> None:
        super().__init__((int(m), m) for m in enum_type)  # type: ignore[attr-defined]
        self._enum = enum_type

    def __missing__(self, key: int) -> _E:
        member = self[key] = self._enum(key)
        return member


_STATE_MEMBERS = _Members(TcpState)
_TIMER_MEMBERS = _Members(Timer)
#: the state column's text ("0A", "0a") -> member (an IntEnum: equal to its number)
_STATE_BY_HEX = {("%02" + x) % n: _STATE_MEMBERS[n] for n in range(256) for x in "Xx"}


def _diagnose(line: str, is_tcp: bool, family: socket.AddressFamily) -> str:
    """Why a row did not match: the first field that is wrong, in the words of the header."""
    tokens = line.split()
    addr_digits = 8 if family == socket.AF_INET else 32
    checks: List[Tuple[str, Callable[[str], bool]]] = [
        ("sl", lambda t: re.fullmatch(_DEC + ":", t) is not None),
        ("local address", lambda t: re.fullmatch("%s{%d}:%s{4}" % (_HEX, addr_digits, _HEX), t) is not None),
        ("remote address", lambda t: re.fullmatch("%s{%d}:%s{4}" % (_HEX, addr_digits, _HEX), t) is not None),
        ("state", lambda t: re.fullmatch("%s{2}" % _HEX, t) is not None),
        ("tx_queue:rx_queue", lambda t: re.fullmatch("%s{1,16}:%s{1,16}" % (_HEX, _HEX), t) is not None),
        ("tr:tm->when", lambda t: re.fullmatch("%s{1,8}:%s{1,16}" % (_HEX, _HEX), t) is not None),
        ("retrnsmt", lambda t: re.fullmatch("%s{1,16}" % _HEX, t) is not None),
        ("uid", lambda t: re.fullmatch(_DEC, t) is not None),
        ("timeout", lambda t: re.fullmatch("-?" + _DEC, t) is not None),
        ("inode", lambda t: re.fullmatch(_DEC, t) is not None),
        ("refcount", lambda t: re.fullmatch("-?" + _DEC, t) is not None),
        ("pointer", lambda t: True),
    ]
    if not line.strip():
        return "empty line"
    for i, (name, ok) in enumerate(checks):
        if i >= len(tokens):
            return "line ends before the %s field (%d fields, expected %s)" % (
                name,
                len(tokens),
                "12 or 17" if is_tcp else "13",
            )
        if not ok(tokens[i]):
            if name in ("local address", "remote address"):
                return "expected %d hex digits and a 4-digit hex port in %s, got %r" % (
                    addr_digits,
                    name,
                    tokens[i],
                )
            return "bad %s field %r" % (name, tokens[i])
    rest = len(tokens) - len(checks)
    if is_tcp:
        return "a tcp row has 12 fields (TIME_WAIT, SYN_RECV) or at least 17, not %d, or a bad field after the pointer" % len(tokens) if rest else "bad spacing"
    return "bad drops field %r" % tokens[12] if rest else "bad spacing"


#: What %pK prints for a pointer it may not show (kptr_restrict): written for a record
#: that has no pointer (one from sock_diag).
_NO_POINTER = "0000000000000000"


def format_inet(
    records: Iterable[InetSocket], table: str, *, byteorder: str = sys.byteorder
) -> str:
    """The text the kernel would print for these records in ``table``, header included.

    The inverse of :func:`parse_inet` (used by the tests and to write fixtures): the same
    printf formats, the same space padding (tcp to 149 columns, udp and udplite to 127).

    Fields the text has and a record may lack (one from sock_diag) are written as the
    kernel writes them when it has nothing to show: ``refcount`` 0, ``pointer`` 16 zeros
    (what ``%pK`` prints under ``kptr_restrict``), ``slot`` the row's index in this table
    (the kernel's TCP row counter), ``uid`` 0, ``retransmits`` and ``probes`` 0. So
    parsing the text back gives those values, not ``None``; ``cookie`` and the other
    sock_diag-only fields are not in the text at all.
    """
    proto, family = _check_table(table)
    pad = _PAD.get(proto, 0) if family == socket.AF_INET else 0
    order = byteorder
    sl_width = 5 if family == socket.AF_INET6 and proto != "tcp" or proto in ("udp", "udplite") else 4

    def word_hex(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
        raw = ip.packed
        return "".join("%08X" % int.from_bytes(raw[i : i + 4], order) for i in range(0, len(raw), 4))  # type: ignore[arg-type]

    out = [_HEADERS[_header_key(table)].ljust(pad)]
    for index, r in enumerate(records):
        if r.proto != proto or r.family != family:
            raise ValueError("a %s%s record cannot be written to the %s table" % (r.proto, "6" if r.family == socket.AF_INET6 else "", table))
        line = "%*d: %s:%04X %s:%04X %02X %08X:%08X %02X:%08X %08X %5d %8d %d %d %s" % (
            sl_width,
            index if r.slot is None else r.slot,
            word_hex(r.local.ip),
            r.local.port,
            word_hex(r.remote.ip),
            r.remote.port,
            int(r.state),
            r.tx_queue,
            r.rx_queue,
            int(r.timer),
            r.timer_expires,
            r.retransmits or 0,
            0 if r.uid is None else r.uid,
            r.probes or 0,
            r.inode,
            r.refcount or 0,
            _NO_POINTER if r.pointer is None else r.pointer,
        )
        out.append((line + _row_tail(r, proto)).ljust(pad))
    return "\n".join(out) + "\n"


def _row_tail(r: InetSocket, proto: str) -> str:
    """The columns after the pointer: TCP full sockets' timers and window, UDP and raw
    drops (format_inet)."""
    if proto == "tcp":
        if r.rto is None:
            return ""
        last = r.fastopen_max_qlen if r.state == TcpState.LISTEN else r.ssthresh
        return " %d %d %d %d %d" % (
            r.rto,
            r.ato or 0,
            ((r.quick_ack or 0) << 1) | bool(r.pingpong),
            r.cwnd or 0,
            last or 0,
        )
    return "" if r.drops is None else " %d" % r.drops
