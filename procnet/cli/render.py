"""Shared output helpers of the command line: escaping, column layout, names of hosts and ports.

Nothing here touches the file system. Host-name lookups (``ss -r``, ``lsof`` without
``-n``) go through :class:`HostResolver`, which bounds every lookup and the total time
spent, so a machine without DNS answers with numbers instead of hanging.
"""

from __future__ import annotations

import ipaddress
import re
import threading
import time
from bisect import bisect_right
from itertools import accumulate, chain, islice
from operator import add, and_, itemgetter
from typing import TYPE_CHECKING, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

if TYPE_CHECKING:
    from .._filter import FilterError

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]


# -- escaping text from other processes: the rule lives in procnet/_escape.py -------------
from .._escape import INVISIBLE, _shown, _utf8, escape_quoted, escape_text  # noqa: E402  (re-exported)


def message(prog: str, text: str) -> str:
    """One line of a message for stderr: ``prog: text``, ``text`` escaped (newlines
    included, so that a quoted file name cannot start a line of its own)."""
    return "%s: %s\n" % (prog, escape_text(text))


def filter_error_text(exc: "FilterError") -> str:
    """A :class:`procnet.FilterError` as three lines (reason, expression, marker), each
    escaped, the marker under the escaped token."""
    expression = exc.expression
    start, end = exc.span
    head = escape_text(expression[:start])
    token = escape_text(expression[start:end])
    width = len(token) + max(0, end - max(start, len(expression)))
    marker = " " * len(head) + "~" * max(width - 1, 0) + "^"
    return "%s\n    %s\n    %s" % (escape_text(exc.reason), escape_text(expression), marker)


# -- lsof's escapes (lsof 4.95 misc.c safepup, safestrprt, safestrprtn, safestrlen) ------
#
# lsof prints a byte it will not print raw as ``\b \f \n \r \t``, ``^@``..``^_`` (the
# other C0 controls), ``\\`` (the backslash) or ``\xNN`` (DEL, the space where a column
# may not hold one, and every byte above 0x7f: lsof's ``char`` is signed on x86-64, so
# those bytes miss its ``^?`` case for 0xff). NAME (safestrprt) keeps a whole multibyte
# character its locale calls printable (a UTF-8 locale here); COMMAND (safestrprtn) has
# no multibyte case: every byte above 0x7f is ``\xNN``.


def _lsof_pup(b: int) -> str:
    if b < 0x20:
        return {8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r"}.get(b) or "^" + chr(b + 0x40)
    if b == 0x5C:
        return "\\\\"
    return "\\x%02x" % b


_LSOF_BYTE = tuple(chr(b) if 0x20 <= b < 0x7F and b != 0x5C else _lsof_pup(b) for b in range(256))
_LSOF_COMMAND_BYTE = tuple("\\x20" if b == 0x20 else s for b, s in enumerate(_LSOF_BYTE))
# safestrlen(), which sizes the COMMAND column: 2 for the \. and ^. forms and, through
# the signed char, for every byte above 0x7f (printed as 4); 4 for DEL and the space.
_LSOF_COMMAND_LEN = tuple(1 if len(s) == 1 else 2 if (b < 0x20 or b >= 0x80 or b == 0x5C) else 4
                          for b, s in enumerate(_LSOF_COMMAND_BYTE))
_LSOF_PLAIN = re.compile(r"[ -\[\]-~]*\Z")  # printable ASCII but the backslash


def lsof_text(text: str) -> str:
    """``text`` as lsof 4.95 prints a NAME (safestrprt with flags 0, in a UTF-8 locale),
    and more strictly where lsof prints raw what a terminal does not show: a printable
    multibyte character is kept unless :func:`escape_text` would escape it (lsof keeps
    U+200B, U+202E, U+3164...), and then each of its bytes is ``\\xNN`` as lsof writes
    the bytes of a character it does not print.

    >>> lsof_text("/tmp/a b\\x1b[1m\\t\\\\z\\x7f")
    '/tmp/a b^[[1m\\\\t\\\\\\\\z\\\\x7f'
    """
    if _LSOF_PLAIN.match(text) is not None:
        return text
    out: List[str] = []
    for ch in text:
        if ch < "\x80":
            out.append(_LSOF_BYTE[ord(ch)])
        elif _shown(ch):
            out.append(ch)
        else:
            out.extend("\\x%02x" % b for b in _utf8(ch))
    return "".join(out)


def lsof_command(text: str, width: int) -> str:
    """A process name as lsof 4.95 prints COMMAND (safestrprtn with flags 2): every byte
    that is not printable ASCII escaped (the space as ``\\x20``, so a name cannot pass for
    two columns), cut at ``width`` printed characters without cutting an escape, unpadded.

    >>> lsof_command("sshd 1 root", 9), lsof_command("a\\x1bb", 9), lsof_command("\\u00e9t\\u00e9", 9)
    ('sshd\\\\x201', 'a^[b', '\\\\xc3\\\\xa9t')
    """
    if len(text) <= width and _LSOF_PLAIN.match(text) is not None and " " not in text:
        return text
    out: List[str] = []
    used = 0
    for b in _utf8_all(text):
        piece = _LSOF_COMMAND_BYTE[b]
        if used + len(piece) > width:
            break
        out.append(piece)
        used += len(piece)
    return "".join(out)


def lsof_command_len(text: str) -> int:
    """lsof's safestrlen(name, 2): the width lsof sizes the COMMAND column by (it
    counts a byte above 0x7f as 2 characters and prints it as 4; the name is then cut)."""
    return sum(_LSOF_COMMAND_LEN[b] for b in _utf8_all(text))


def _utf8_all(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return b"".join(_utf8(ch) for ch in text)


def display_len(text: str) -> int:
    """Length in bytes of the UTF-8 text, the unit ``ss`` pads columns in."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogateescape"))


# -- ss's column layout (iproute2 misc/ss.c render_calc_width / render) ------------------

LEFT, RIGHT = "left", "right"


class Column:
    """One column of ss's table: alignment, title, left delimiter."""

    __slots__ = ("align", "header", "ldelim", "disabled", "width", "max_len")

    def __init__(self, align: str, header: str, ldelim: str, disabled: bool = False) -> None:
        self.align = align
        self.header = header
        self.ldelim = ldelim
        self.disabled = disabled
        self.width = 0
        self.max_len = 0


def render_columns(
    columns: Sequence[Column],
    lines: Sequence[Sequence[str]],
    screen_width: Optional[int] = None,
    last_cell_unmeasured: bool = False,
) -> str:
    """Lay out ``lines`` (one cell per enabled column each) as ss does.

    ``last_cell_unmeasured``: ss measures a cell when it moves to the next field, and the
    last cell it wrote (the Process cell of its last row) is never moved past, so it does
    not count toward its column's width; pass True to reproduce that.

    ``screen_width`` None is ss writing to a pipe: every column is as wide as its widest
    cell (plus its delimiter), nothing more. With a width (a terminal), the spare space
    of each screen line is spread over its columns, and columns that do not fit start a
    new line, as ``render_calc_width`` does.
    """
    return "".join(column_chunks(columns, lines, screen_width, last_cell_unmeasured))


def column_chunks(
    columns: Sequence[Column],
    lines: Sequence[Sequence[str]],
    screen_width: Optional[int] = None,
    last_cell_unmeasured: bool = False,
    chunk_rows: int = 4096,
) -> Iterator[str]:
    """:func:`render_columns`, as pieces of text of at most ``chunk_rows`` lines each.

    Writing the pieces one by one never holds the whole table as text, only its cells.
    """
    enabled = [c for c in columns if not c.disabled]
    ncols = len(enabled)
    shortest = min(map(len, lines), default=ncols)
    longest = max(map(len, lines), default=ncols)
    ascii_only = _measure(enabled, lines, last_cell_unmeasured, shortest)
    limit = screen_width if screen_width is not None else 1 << 30
    first = True
    for c in enabled:
        c.width = c.max_len + len(c.ldelim) if (not first and c.max_len) else c.max_len
        c.width = min(c.width, limit)
        if c.width:
            first = False
    if screen_width is not None:
        _spread(enabled, screen_width)
    # Every cell ASCII and every row full: one %-format per line does the padding, as
    # code points are bytes there. Anything else goes cell by cell, in UTF-8 bytes.
    mod = _line_format(enabled).__mod__
    fast = ascii_only and shortest == longest == ncols
    for start in range(0, len(lines), chunk_rows):
        part = lines[start : start + chunk_rows]
        if fast:
            yield "\n".join(map(mod, map(tuple, part))) + "\n"
        else:
            yield "".join(_line(enabled, cells) + "\n" for cells in part)


def _measure(
    enabled: List[Column], lines: Sequence[Sequence[str]], last_cell_unmeasured: bool, shortest: int
) -> bool:
    """Set each column's ``max_len`` (UTF-8 bytes); whether every cell is ASCII."""
    for c in enabled:
        c.max_len = 0
    if not lines:
        return True
    ascii_only = all(map(str.isascii, chain.from_iterable(lines)))
    measure: Callable[[str], int] = len if ascii_only else display_len
    last_row = len(lines) - 1
    last_col = len(lines[-1]) - 1 if last_cell_unmeasured else -1
    for j, c in enumerate(enabled):
        rows: Iterable[Sequence[str]] = lines
        if j == last_col:  # the last cell of the last row is not measured
            rows = islice(lines, last_row)
        if j >= shortest:
            rows = [cells for cells in rows if len(cells) > j]
        c.max_len = max(map(measure, map(itemgetter(j), rows)), default=0)
    return ascii_only


def _line_format(enabled: List[Column]) -> str:
    """A %-format that lays out one row of ASCII cells as :func:`_line` does."""
    return "".join(_cell_formats(enabled))


def _cell_formats(enabled: List[Column]) -> List[str]:
    """:func:`_line_format`'s pieces, one per column: its delimiter and its conversion."""
    parts: List[str] = []
    for i, c in enumerate(enabled):
        prefix = c.ldelim if i else ""
        printed = len(prefix)
        spec = "%s"
        if c.width and c.align == RIGHT and c.width - printed > 0:
            spec = "%" + str(c.width - printed) + "s"
        elif c.width and c.align == LEFT and c.width - printed > 0:
            spec = "%-" + str(c.width - printed) + "s"
        parts.append(prefix.replace("%", "%%") + spec)
    return parts


def _line(enabled: List[Column], cells: Sequence[str]) -> str:
    """One row, padded in UTF-8 bytes as ss pads it (iproute2 misc/ss.c render)."""
    parts: List[str] = []
    for i, (c, cell) in enumerate(zip(enabled, cells)):
        printed = 0
        if i:
            parts.append(c.ldelim)
            printed = len(c.ldelim)
        n = display_len(cell)
        if c.width and c.align == RIGHT:
            pad = c.width - n - printed
            if pad > 0:
                parts.append(" " * pad)
                printed += pad
        parts.append(cell)
        printed += n
        if c.width and c.align == LEFT:
            pad = c.width - printed
            if pad > 0:
                parts.append(" " * pad)
    return "".join(parts)


def _spread(cols: List[Column], screen_width: int) -> None:
    """Second pass of ss's render_calc_width: line breaks and spare space."""
    length = 0
    linecols = 0
    line_start = 0
    i = 0
    while i < len(cols):
        c = cols[i]
        if not c.width:
            i += 1
            continue
        linecols += 1
        length += c.width
        last = not any(t.width for t in cols[i + 1 :])
        if not last and length < screen_width:
            i += 1
            continue
        if length != screen_width:
            if length > screen_width:
                length -= c.width
                i -= 1
                linecols -= 1
            pad = screen_width - length
            if linecols > 0:
                spacing, rem = divmod(pad, linecols)
                for t in range(i, line_start - 1, -1):
                    if not cols[t].width:
                        continue
                    cols[t].width += spacing
                    if rem:
                        cols[t].width += 1
                        rem -= 1
        line_start = i + 1
        length = 0
        linecols = 0
        i += 1


# -- ss's output buffer: when ss renders (iproute2 misc/ss.c out, field_flush, field_next) --
#
# ss does not measure the whole table before printing it. Each cell is a "token" in a
# buffer of 1 MiB chunks: a 16-bit length and the cell's bytes, padded to an even length;
# every line also ends with a token for ss's last column (COL_PROC), always empty. When a
# line is about to start and five chunks are allocated, ss renders what it holds (widths,
# padding, output) and frees it. A column's width is the longest cell seen so far: ss never
# resets ``max_len``, so a later rendering is at least as wide as an earlier one. The
# last cell ss writes is never flushed, so never measured: the Process cell of the last
# line (only of the last rendering: the others end after a flush).

#: Bytes for tokens in one chunk: BUF_CHUNK (1 MiB) less ``struct buf_chunk``'s two pointers.
SS_CHUNK_ROOM = 1024 * 1024 - 16
#: BUF_CHUNKS_MAX: ss renders when a line starts with this many chunks allocated.
SS_CHUNKS_MAX = 5
_BLOCK = 1024  # rows measured together (one pass of C-level map() per column)


class SsTable:
    """ss's table, written as ss writes it: rows are buffered and rendered in the pieces
    ss renders them in, each piece's widths from every row seen so far.

    ``columns`` are all of ss's columns; each row holds a cell for every one (a disabled
    column's cell is not printed). ``write`` takes the text (a few hundred KiB at a time).
    ``header`` (a row) is the first line, if any. ``screen_width`` None is a pipe (compact
    columns), else a terminal's width. It holds at most one rendering's rows (about
    5 MiB of cells), never its whole text.
    """

    #: bytes for tokens in a chunk, and chunks before ss renders (tests make them small)
    chunk_room = SS_CHUNK_ROOM
    chunks_max = SS_CHUNKS_MAX

    def __init__(self, columns: Sequence[Column], write: Callable[[str], object],
                 header: Optional[Sequence[str]] = None, screen_width: Optional[int] = None) -> None:
        self.columns = list(columns)
        self.write = write
        self.screen_width = screen_width
        self._enabled = [i for i, c in enumerate(self.columns) if not c.disabled]
        self._last = self._enabled[-1] if self._enabled else -1
        for c in self.columns:
            c.max_len = 0
        self._pending: List[Tuple[str, ...]] = []
        self._ascii = True
        self._chunks = 0  # chunks allocated for the pending rows
        self._used = 0  # bytes used in the current chunk: where the next token starts
        self._fresh = True  # the next row starts a rendering
        self._unmeasured: Optional[str] = None  # the last row's last cell, measured once passed
        if header is not None:
            self._take([tuple(header)], 0)
            self._measure_unmeasured()  # print_header flushes its last cell

    def add(self, rows: Sequence[Tuple[str, ...]]) -> None:
        """Buffer ``rows`` (tuples), writing any rendering ss makes while it reads them."""
        start = 0
        while start < len(rows):
            if self._chunks >= self.chunks_max:  # a line starts with five chunks: ss renders
                self._measure_unmeasured()  # ss flushed it when it moved to the last column
                self._render()
            start = self._take(rows, start)

    def end(self) -> None:
        """The last rendering: the rows still buffered, the last cell left unmeasured."""
        self._unmeasured = None
        if self._pending:
            self._render()

    # -- the buffer's bytes ----------------------------------------------------------
    def _take(self, rows: Sequence[Tuple[str, ...]], start: int) -> int:
        """Buffer the rows from ``start``, a block of them, stopping after one that makes
        ss allocate its fifth chunk; where it stopped."""
        size = _BLOCK
        if self._chunks == 0:  # a rendering's first token allocates its first chunk
            self._chunks, self._used, self._fresh = 1, 0, True
            if self._chunks >= self.chunks_max:
                size = 1  # that row is the rendering's last
        block = rows[start : start + size]
        if self._ascii and not "".join(chain.from_iterable(block)).isascii():
            self._ascii = False
        measure = len if self._ascii else display_len
        lengths = [list(map(measure, map(itemgetter(j), block))) for j in self._enabled]
        taken = len(block)
        # A token: a 16-bit length, then its bytes padded to an even length. A row starts
        # with the previous row's last column (empty), unless it starts the rendering.
        total = 2 * len(self._enabled) * taken + 2 * (taken - self._fresh) + sum(map(_padded_total, lengths))
        if self._used + total + 2 <= self.chunk_room:  # no chunk ends in this block
            self._used += total
            self._fresh = False
        else:
            taken = self._cross(lengths)
            lengths = [ls[:taken] for ls in lengths]
        self._measure_unmeasured()
        for j, ls in zip(self._enabled, lengths):
            if j == self._last:
                ls = ls[:-1]  # not measured until ss moves past it
            c = self.columns[j]
            c.max_len = max(c.max_len, max(ls, default=0))
        self._pending.extend(block[:taken])
        self._unmeasured = block[taken - 1][self._last] if self._last >= 0 else None
        return start + taken

    def _cross(self, lengths: List[List[int]]) -> int:
        """Through a block where a chunk ends: the rows that fit whole at once, the row
        that does not token by token; how many rows are taken (up to the one that makes
        ss allocate its fifth chunk)."""
        count = len(lengths[0])
        sizes = [2 * (len(lengths) + 1)] * count
        for ls in lengths:
            sizes = list(map(add, map(add, sizes, ls), map(and_, ls, _ONES)))
        if self._fresh:
            sizes[0] -= 2
        i = 0
        while i < count:
            ends = list(accumulate(sizes[i:]))
            fit = bisect_right(ends, self.chunk_room - 2 - self._used)
            if fit:
                self._used += ends[fit - 1]
                i += fit
                self._fresh = False
            if i < count:
                self._place(([] if self._fresh else [0]) + [ls[i] for ls in lengths])
                self._fresh = False
                i += 1
                if self._chunks >= self.chunks_max:
                    return i
        return count

    def _place(self, tokens: List[int]) -> None:
        """One row's tokens, one by one, where a chunk ends: ss's out() moves a token that
        does not fit to a new chunk; field_flush() starts one when the next token's length
        would not fit. (The leading 0 is the previous row's last column, flushed after ss
        decided not to render.)"""
        room = self.chunk_room
        for size in tokens:
            if size and self._used and self._used + 2 + size >= room:
                self._chunks, self._used = self._chunks + 1, 0
            pad = size & 1
            if room - (self._used + 2 + size) - pad < 2:
                self._chunks, self._used = self._chunks + 1, 0
            else:
                self._used += 2 + size + pad

    def _measure_unmeasured(self) -> None:
        if self._unmeasured is not None:
            c = self.columns[self._last]
            c.max_len = max(c.max_len, display_len(self._unmeasured))
            self._unmeasured = None

    # -- rendering --------------------------------------------------------------------
    def _render(self) -> None:
        """ss's render(): widths from what was measured, then every pending row, written
        a few hundred KiB at a time (a line is as wide as the widest Process cell)."""
        rows, self._pending = self._pending, []
        self._chunks = self._used = 0
        ascii_only, self._ascii = self._ascii, True
        enabled = [self.columns[j] for j in self._enabled]
        _set_widths(enabled, self.screen_width)
        step = max(16, _PIECE // (sum(c.width for c in enabled) + 1))
        if ascii_only:  # code points are bytes: one %-format per line pads it
            mod = _row_format(self.columns).__mod__
            for i in range(0, len(rows), step):
                self.write("\n".join(map(mod, rows[i : i + step])) + "\n")
            return
        pick = self._enabled
        for i in range(0, len(rows), step):
            piece = rows[i : i + step]
            self.write("".join(_line(enabled, [cells[j] for j in pick]) + "\n" for cells in piece))


_ONES = [1] * _BLOCK
_PIECE = 256 * 1024  # characters written at a time


def _padded_total(lengths: List[int]) -> int:
    """The bytes of tokens of these lengths, each padded to an even length."""
    odd: int = sum(map(and_, lengths, _ONES))
    return sum(lengths) + odd


def _set_widths(enabled: List[Column], screen_width: Optional[int]) -> None:
    """First pass of render_calc_width (the second, with a screen width: :func:`_spread`)."""
    limit = screen_width if screen_width is not None else 1 << 30
    first = True
    for c in enabled:
        c.width = min(c.max_len + len(c.ldelim) if (not first and c.max_len) else c.max_len, limit)
        if c.width:
            first = False
    if screen_width is not None:
        _spread(enabled, screen_width)


def _row_format(columns: List[Column]) -> str:
    """A %-format of a whole row of ASCII cells, as :func:`_line_format` lays out the
    enabled columns; a disabled column's cell is formatted away (``%.0s``)."""
    pieces = iter(_cell_formats([c for c in columns if not c.disabled]))
    return "".join("%.0s" if c.disabled else next(pieces) for c in columns)


# -- lsof's column layout (lsof print.c print_file) ---------------------------------------


def format_lsof_table(
    rows: Sequence[Dict[str, str]], header: bool = True, command_width: Optional[int] = None
) -> str:
    """The table lsof prints: COMMAND left-aligned, FD as descriptor + mode + lock,
    every other column right-aligned, NAME last and unpadded.

    Each row holds the keys ``command pid user fd mode lock type device size_off node
    name`` (already escaped). ``command_width`` is the COMMAND column's width when the
    caller sized it as lsof does (:func:`lsof_command_len`), else the longest command.
    A row may also hold ``tid`` and ``taskcmd`` (a thread's id, and its name unescaped):
    when some row has them, lsof's TID and TASKCMD columns follow PID (print.c
    print_file: TASKCMD escaped and cut as COMMAND is, at most 9 characters).
    """
    titles = (("command", "COMMAND"), ("pid", "PID"), ("user", "USER"), ("type", "TYPE"),
              ("device", "DEVICE"), ("size_off", "SIZE/OFF"), ("node", "NODE"))
    w = {key: len(title) for key, title in titles}
    fd_w = 2
    for r in rows:
        for key, _ in titles:
            if len(r[key]) > w[key]:
                w[key] = len(r[key])
        fd_w = max(fd_w, len(r["fd"]) + 2)
    if command_width is not None:
        w["command"] = max(command_width, w["command"])
    task = lsof_task_columns(rows)
    out: List[str] = []
    if header and rows:
        out.append(
            "%-*s %*s%s %*s %*s   %*s %*s %*s %*s %s"
            % (w["command"], "COMMAND", w["pid"], "PID", task.title(), w["user"], "USER", fd_w - 2, "FD",
               w["type"], "TYPE", w["device"], "DEVICE", w["size_off"], "SIZE/OFF",
               w["node"], "NODE", "NAME")
        )
    for r in rows:
        out.append(
            "%-*s %*s%s %*s %*s%s%s %*s %*s %*s %*s %s"
            % (w["command"], r["command"], w["pid"], r["pid"], task.cells(r), w["user"], r["user"],
               fd_w - 2, r["fd"], r["mode"] or " ", r["lock"] or " ", w["type"], r["type"],
               w["device"], r["device"], w["size_off"], r["size_off"], w["node"], r["node"],
               r["name"])
        )
    return "".join(line + "\n" for line in out)


TASKCMD_LIMIT = 9  # lsof's TaskCmdLim: TASKCMD shows the first 9 printed characters


class LsofTaskColumns:
    """lsof's TID and TASKCMD columns for a set of rows: each shown when some row has a
    value, TID right-aligned, TASKCMD left-aligned (print.c print_file)."""

    def __init__(self, tid_width: int, cmd_width: int) -> None:
        #: 0 when the column is not shown
        self.tid_width = tid_width
        self.cmd_width = cmd_width

    def title(self) -> str:
        text = " %*s" % (self.tid_width, "TID") if self.tid_width else ""
        return text + (" %-*s" % (self.cmd_width, "TASKCMD") if self.cmd_width else "")

    def cells(self, row: Dict[str, str]) -> str:
        text = " %*s" % (self.tid_width, row.get("tid", "")) if self.tid_width else ""
        if self.cmd_width:
            text += " %-*s" % (self.cmd_width, lsof_command(row.get("taskcmd", ""), self.cmd_width))
        return text


def lsof_task_columns(rows: Sequence[Dict[str, str]]) -> LsofTaskColumns:
    """The TID and TASKCMD columns ``rows`` need (none when no row is a thread's)."""
    tids = [r["tid"] for r in rows if r.get("tid")]
    names = [r["taskcmd"] for r in rows if r.get("taskcmd")]
    tid_width = max([len("TID")] + [len(t) for t in tids]) if tids else 0
    cmd_width = max([len("TASKCMD")] + [min(lsof_command_len(n), TASKCMD_LIMIT) for n in names]) if names else 0
    return LsofTaskColumns(tid_width, cmd_width)


# -- names of hosts -----------------------------------------------------------------------


class HostResolver:
    """Reverse lookups with a bound: ``per_lookup`` seconds each, ``budget`` in all.

    Each lookup runs in a daemon thread; when it does not answer in time, or the budget
    is spent, the address is printed as a number and not asked again. A process never
    waits on a resolver that does not answer.
    """

    def __init__(
        self,
        per_lookup: float = 1.0,
        budget: float = 3.0,
        lookup: Optional[Callable[[str], str]] = None,
    ) -> None:
        self.per_lookup = per_lookup
        self.deadline = time.monotonic() + budget
        self._lookup = lookup if lookup is not None else _gethostbyaddr
        self._cache: Dict[str, Optional[str]] = {}

    def name(self, ip: IPAddress) -> Optional[str]:
        """The host name of ``ip``, or None (unknown, too slow, or out of budget)."""
        key = str(ip)
        if key in self._cache:
            return self._cache[key]
        remaining = self.deadline - time.monotonic()
        result: Optional[str] = None
        if remaining > 0:
            box: List[str] = []

            def work() -> None:
                try:
                    box.append(self._lookup(key))
                except (OSError, UnicodeError, ValueError):
                    pass

            t = threading.Thread(target=work, name="procnet-resolve", daemon=True)
            t.start()
            t.join(min(self.per_lookup, remaining))
            if box:
                result = box[0]
        self._cache[key] = result
        return result


def _gethostbyaddr(addr: str) -> str:
    import socket

    return socket.gethostbyaddr(addr)[0]


def resolve_host_address(text: str, timeout: float = 2.0) -> List[IPAddress]:
    """Addresses of a host name (or the literal address), bounded by ``timeout``.

    Raises ValueError when the name does not resolve in time.
    """
    try:
        return [ipaddress.ip_address(text)]
    except ValueError:
        pass
    box: List[List[IPAddress]] = []

    def work() -> None:
        import socket

        try:
            infos = socket.getaddrinfo(text, None)
        except (OSError, UnicodeError):
            return
        found: List[IPAddress] = []
        for info in infos:
            try:
                ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            except ValueError:
                continue
            if ip not in found:
                found.append(ip)
        box.append(found)

    t = threading.Thread(target=work, name="procnet-resolve", daemon=True)
    t.start()
    t.join(timeout)
    if not box or not box[0]:
        raise ValueError("cannot resolve host name %r (within %.1fs)" % (text, timeout))
    return box[0]


def port_text(port: int, proto: str, numeric: bool, ephemeral: Optional[Tuple[int, int]] = None) -> str:
    """A port as ss and lsof print it: a service name unless ``numeric`` or none is known.

    ``ephemeral`` is the local port range ss refuses to name (ip_local_port_range).
    """
    if numeric:
        return str(port)
    if ephemeral is not None and ephemeral[0] <= port <= ephemeral[1]:
        return str(port)
    from .._services import service_name

    name = service_name(port, proto)
    return name if name is not None else str(port)


__all__ = [
    "Column",
    "HostResolver",
    "LEFT",
    "RIGHT",
    "SS_CHUNKS_MAX",
    "SS_CHUNK_ROOM",
    "SsTable",
    "column_chunks",
    "INVISIBLE",
    "display_len",
    "escape_quoted",
    "escape_text",
    "filter_error_text",
    "format_lsof_table",
    "lsof_task_columns",
    "lsof_command",
    "lsof_command_len",
    "lsof_text",
    "message",
    "port_text",
    "render_columns",
    "resolve_host_address",
]
