"""Parser and formatter for /proc/net/unix.

net/unix/af_unix.c unix_seq_show prints::

    "%pK: %08X %08X %08X %04X %02X %5llu"   then, if bound, " " and the name

The name is printed raw: a path may hold spaces (leading and trailing ones too) and even
a newline, which splits the row over two physical lines; every NUL of an abstract name is
printed as ``@``. So the path is everything after the one space that follows the inode,
never split or stripped, and a physical line that is not shaped like a row continues the
path of the row before it.

What the text cannot tell apart (use the netlink source where it matters): a literal
``@`` from a NUL in an abstract name; a path holding a newline followed by text shaped
like a whole row from two rows (a local user can forge a row this way). A path that ends
with a newline does read back exactly: its row is followed by an empty line, which the
kernel writes in no other case.

The parser streams: the text is scanned a slice at a time (16 KiB of whole lines, about
200 rows: one regular-expression call in C finds a slice's rows), and a row is yielded
once the next row starts (until then the lines that follow continue its path). Nothing
proportional to the table is held beyond the text itself (the duplicate check remembers a
bounded window of inodes), so the first record comes before the rest of the table is
looked at, and a bad line is reported when the iteration reaches it: the records of the
rows before it have been yielded by then.
"""

from __future__ import annotations

import re
import socket
from itertools import chain
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

from .._records import SocketStatus, TcpState, UnixFlag, UnixSocket, fast_constructor
from ._common import ErrorHandler, RecentInodes, Text, as_text, report

HEADER = "Num       RefCount Protocol Flags    Type St Inode Path"

_FIELDS = (
    r"([0-9A-Fa-f]+): "  # %pK:
    r"([0-9A-Fa-f]{8}) "  # refcount %08X
    r"([0-9A-Fa-f]{8}) "  # protocol %08X (always 0)
    r"([0-9A-Fa-f]{8}) "  # flags %08X (__SO_ACCEPTCON when listening)
    r"([0-9A-Fa-f]{4}) "  # type %04X
    r"([0-9A-Fa-f]{2}) +"  # st %02X (SS_*)
    r"([0-9]{1,20})"  # inode %5llu (ASCII digits, at most a u64's 20: int() refuses 4300+)
)
# One physical line shaped like a row: the name group keeps its leading space (" " +
# name, when bound). _TABLE_ROW and _LINES read exactly these as rows; the tests use
# this one.
_ROW = re.compile(_FIELDS + r"( .*)?\Z", re.DOTALL)
# Every row of a slice of the table at once (each match one whole line; lines that are
# not rows are passed over, so fewer matches than lines means some line is not a row).
_TABLE_ROW = re.compile("^" + _FIELDS + r"( [^\n]*)?(?:\n|\Z)", re.MULTILINE)
# Every physical line of a slice, once and in order: a row (groups 0-7, as _ROW reads a
# line), or a line that is not one (group 8 when it ends in a newline, group 9 for a last
# line without one; the other groups None). Each match ends where the next line starts.
_LINES = re.compile("^(?:" + _FIELDS + r"( [^\n]*)?(?:\n|\Z)|([^\n]*)\n|([^\n]+)\Z)", re.MULTILINE)
#: How much text the row scan takes at a time (then up to the end of a line): about 200
#: rows, so that the rows found but not yet yielded stay few while each scan still does
#: many rows in C.
_SLICE = 1 << 14

# iproute2 ss.c unix_show: SS_UNCONNECTED, SS_CONNECTING, SS_CONNECTED, SS_DISCONNECTING
# shown as CLOSE, SYN-SENT, ESTAB, CLOSING; the accept flag wins and shows LISTEN.
_SS_STATE = {
    1: TcpState.CLOSE,
    2: TcpState.SYN_SENT,
    3: TcpState.ESTABLISHED,
    4: TcpState.CLOSING,
}

_SOCK_TYPES = {int(k): k for k in (socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_SEQPACKET)}


class _Members(Dict[int, Any]):
    """number -> enum member (flag set) in one dict lookup, made on first sight."""

    def __init__(self, make: Callable[[int], Any]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, key: int) -> Any:
        member = self[key] = self._make(key)
        return member


_STATUS_MEMBERS = _Members(SocketStatus)
_FLAG_MEMBERS = _Members(UnixFlag)
# Built without __init__: the parser has checked every value (see _records.fast_constructor).
_new_unix_socket = fast_constructor(UnixSocket)


def unix_state(flags: int, status: int) -> TcpState:
    """The state ss shows for a unix socket with these Flags and St columns."""
    if flags & UnixFlag.ACCEPTCON:
        return TcpState.LISTEN
    return _SS_STATE.get(status, TcpState.CLOSE)


def parse_unix(
    data: Text,
    *,
    path: Optional[str] = None,
    states: Optional[Iterable[int]] = None,
    on_error: Optional[ErrorHandler] = None,
) -> Iterator[UnixSocket]:
    """Records of /proc/net/unix (``str`` or ``bytes``; bytes are the exact form).

    ``states`` keeps only sockets in those (ss) states. A bad line raises
    :class:`~procnet.ParseError`, or with ``on_error`` is handed to it and skipped. A
    socket listed twice is yielded once (sockets without an inode are never merged).
    Records come one at a time as the text is read: a bad line raises when the iteration
    reaches it, after the records of the rows before it (``list(parse_unix(...))`` raises
    before returning anything).

    >>> text = (b"Num       RefCount Protocol Flags    Type St Inode Path\\n"
    ...         b"0000000000000000: 00000002 00000000 00010000 0001 01 1609568 /run/a b.sock\\n")
    >>> [(s.path, s.state.name) for s in parse_unix(text)]
    [('/run/a b.sock', 'LISTEN')]
    """
    return _parse_unix(
        as_text(data),
        path or "unix",
        None if states is None else frozenset(int(s) for s in states),
        on_error,
    )


def _parse_unix(
    text: str,
    path: str,
    wanted: Optional[frozenset[int]],
    on_error: Optional[ErrorHandler],
) -> Iterator[UnixSocket]:
    header_end = text.find("\n")
    header = text if header_end < 0 else text[:header_end]
    if not text:
        report(on_error, "empty table: no header line", path, 1, "")
        return
    if header.split()[:2] != ["Num", "RefCount"]:
        report(on_error, "not a unix table: unexpected header", path, 1, header)
        return
    if header_end < 0:
        return
    seen = RecentInodes().seen
    new_socket = _new_unix_socket
    statuses = _STATUS_MEMBERS
    flag_sets = _FLAG_MEMBERS
    types = _SOCK_TYPES
    ss_state = _SS_STATE
    listen = TcpState.LISTEN
    close = TcpState.CLOSE
    acceptcon = int(UnixFlag.ACCEPTCON)
    # chain.from_iterable: the rows of each slice reach this loop with no Python frame
    # in between (the fast path costs what one findall of the whole table did).
    for groups in chain.from_iterable(_row_slices(text, header_end + 1, path, on_error)):
        inode = int(groups[6])
        if seen(inode):
            continue
        flags = int(groups[3], 16)
        status = int(groups[5], 16)
        # iproute2 ss.c unix_show: the accept flag shows LISTEN, else St maps through
        # unix_state_map (SS_UNCONNECTED..SS_DISCONNECTING -> CLOSE, SYN-SENT, ESTAB, CLOSING).
        state = listen if flags & acceptcon else ss_state.get(status, close)
        if wanted is not None and state not in wanted:
            continue
        type_ = int(groups[4], 16)
        # The name group keeps its leading space: "" or None is no name, " " an empty one.
        name = groups[7]
        yield new_socket(
            types.get(type_, type_),
            state,
            statuses[status],
            flag_sets[flags],
            int(groups[1], 16),
            inode,
            name[1:] if name else None,
            groups[0],
            int(groups[2], 16),
            None,  # netns
            (),  # owners
            None,  # owners_complete
            None,  # peer_inode
            None,  # rqueue
            None,  # wqueue
            None,  # vfs_inode
            None,  # vfs_dev
            None,  # shutdown
            None,  # uid
            None,  # pending_inodes
            None,  # text_only
            None,  # skmem
            None,  # cookie (sock_diag only)
        )


def _row_slices(text: str, pos: int, path: str, on_error: Optional[ErrorHandler]) -> Iterator[List[Tuple[Any, ...]]]:
    """The rows from ``pos`` (the first line after the header) to the end, a list per
    slice of about ``_SLICE`` characters of text (whole lines), each row as _ROW's groups
    with its name joined over the lines that continue it.

    A row is complete only once the next row starts (until then the lines that follow
    continue its path), so the last row of each slice waits for the next slice. A bad
    line is reported only after the rows before it have been handed over.
    """
    end = len(text)
    find = text.find
    count = text.count
    rows_in = _TABLE_ROW.findall
    pending: Optional[Tuple[Any, ...]] = None  # the row read last, not yet handed over
    more: Optional[List[str]] = None  # the lines that continue its path, if any
    lineno = 1  # of the last line read (the header is line 1)
    while pos < end:
        start = pos
        pos = find("\n", start + _SLICE)
        pos = end if pos < 0 else pos + 1
        lines = count("\n", start, pos) + (text[pos - 1] != "\n")
        found = rows_in(text, start, pos)
        if len(found) == lines:
            # Every line of the slice is a row (the usual case): no path held a newline,
            # nothing is bad. Unmatched name groups are "" here (None below).
            if pending is not None:
                found.insert(0, pending if more is None else _joined(pending, more))
                more = None
            pending = found.pop()
            lineno += lines
            if found:
                yield found
            continue
        out: List[Tuple[Any, ...]] = []
        for m in _LINES.finditer(text, start, pos):
            lineno += 1
            groups = m.groups()
            if groups[0] is not None:  # a row: the one before it is complete
                if pending is not None:
                    out.append(pending if more is None else _joined(pending, more))
                    more = None
                pending = groups[:8]
                continue
            line: str = groups[8] if groups[8] is not None else groups[9]
            if pending is not None and pending[7]:
                if more is None:
                    more = [line]  # the path held a newline
                else:
                    more.append(line)
                continue
            # Before any row, or after a row without a path: nothing to continue.
            if out:
                yield out
                out = []
            report(on_error, _diagnose(line), path, lineno, line)
        if out:
            yield out
    if pending is not None:
        yield [pending if more is None else _joined(pending, more)]


def _joined(groups: Tuple[Any, ...], more: List[str]) -> Tuple[Any, ...]:
    """A row whose path went on over the lines ``more``: the path held newlines."""
    return groups[:7] + ("\n".join([groups[7]] + more),)


def _diagnose(line: str) -> str:
    tokens = line.split(" ")
    names = ["Num", "RefCount", "Protocol", "Flags", "Type", "St"]
    widths = [0, 8, 8, 8, 4, 2]
    if not line:
        return "empty line where a row was expected"
    for i, (name, width) in enumerate(zip(names, widths)):
        if i >= len(tokens):
            return "line ends before the %s field" % name
        tok = tokens[i]
        if i == 0:
            if not re.fullmatch("[0-9A-Fa-f]+:", tok):
                return "expected a hex socket pointer and ':' in the Num field, got %r" % tok
        elif not re.fullmatch("[0-9A-Fa-f]{%d}" % width, tok):
            return "expected %d hex digits in the %s field, got %r" % (width, name, tok)
    return "expected a decimal inode after the St field"


def format_unix(records: Iterable[UnixSocket]) -> str:
    """The text the kernel would print for these records, header included.

    The inverse of :func:`parse_unix` (for tests and fixtures). A record without a
    ``pointer`` or ``refcount`` (one from sock_diag) is written with 16 zeros (what ``%pK``
    prints under ``kptr_restrict``) and 0; ``cookie`` and the other sock_diag-only fields
    are not in the text.
    """
    out = [HEADER]
    for r in records:
        line = "%s: %08X %08X %08X %04X %02X %5d" % (
            "0000000000000000" if r.pointer is None else r.pointer,
            r.refcount or 0,
            r.protocol,
            int(r.flags),
            int(r.type),
            int(r.status),
            r.inode,
        )
        if r.path is not None:
            line += " " + r.path
        out.append(line)
    return "\n".join(out) + "\n"
