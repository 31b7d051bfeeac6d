"""procnet.cli.render.SsTable against ss's own output buffer, written out line by line from
iproute2 misc/ss.c (out, buf_update, field_flush, field_next, render, render_calc_width):
the same text for any table, however its chunks end."""

from __future__ import annotations

import io
from typing import List, Optional, Sequence, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from procnet.cli.render import LEFT, RIGHT, SS_CHUNK_ROOM, Column, SsTable, render_columns

# ss's columns; the last, COL_PROC, is always empty and has no cell in a row here
LAYOUT = [(LEFT, "Netid", ""), (LEFT, "State", " "), (LEFT, "Recv-Q", " "), (LEFT, "Send-Q", " "),
          (RIGHT, "Local Address:", " "), (LEFT, "Port", ""), (RIGHT, "Peer Address:", " "),
          (LEFT, "Port", ""), (LEFT, "Process", "")]


class _Token:
    def __init__(self, pos: int) -> None:
        self.pos = pos  # where its 16-bit length starts in its chunk
        self.data = b""


class ReferenceSs:
    """ss.c's buffer and renderer, statement by statement (a chunk holds ``room`` bytes)."""

    def __init__(self, disabled: Sequence[bool], room: int, chunks_max: int) -> None:
        self.cols = [(a, h, d, off) for (a, h, d), off in zip(LAYOUT, disabled)] + [(LEFT, "", "", False)]
        self.max_len = [0] * len(self.cols)
        self.width = [0] * len(self.cols)
        self.room, self.chunks_max = room, chunks_max
        self.chunks: List[List[_Token]] = []  # tokens of each chunk
        self.end = 0  # chunk->end of the last chunk, from its data
        self.cur: Optional[_Token] = None
        self.current = 0
        self.printed: List[str] = []

    def _last(self, f: int) -> bool:
        return f == len(self.cols) - 1

    def _chunk_new(self) -> None:
        self.cur = _Token(0)
        self.chunks.append([self.cur])
        self.end = 2

    def out(self, text: str) -> None:
        if self.cols[self.current][3]:
            return
        if not self.chunks:
            self._chunk_new()
        data = text.encode()
        while True:
            assert self.cur is not None
            avail = self.room - self.end
            if len(data) < avail or self.cur.pos == 0:
                self.end += len(data)
                self.cur.data += data
                return
            moved = self.cur  # buf_update: a new chunk, the token copied to its start
            self.chunks[-1].remove(moved)
            self._chunk_new()
            self.cur.data = moved.data
            self.chunks[-1] = [self.cur]
            self.end = 2 + len(moved.data)

    def field_flush(self, f: int) -> None:
        if self.cols[f][3]:
            return
        assert self.cur is not None
        n = len(self.cur.data)
        pad = n % 2
        self.max_len[f] = max(self.max_len[f], n)
        if self.room - self.end - pad < 2:
            self._chunk_new()
            return
        self.cur = _Token(self.cur.pos + 2 + n + pad)
        self.chunks[-1].append(self.cur)
        self.end = self.cur.pos + 2

    def field_next(self) -> None:
        if self._last(self.current) and len(self.chunks) >= self.chunks_max:
            self.render()
            return
        self.field_flush(self.current)
        self.current = 0 if self._last(self.current) else self.current + 1

    def field_set(self, f: int) -> None:
        while self.current != f:
            self.field_next()

    def header(self) -> None:
        while not self._last(self.current):
            if not self.cols[self.current][3]:
                self.out(self.cols[self.current][1])
            self.field_next()

    def row(self, cells: Sequence[str]) -> None:
        for f in range(4):  # sock_state_print: field_set(COL_NETID)... out()
            self.field_set(f)
            self.out(cells[f])
        self.field_set(4)
        for f in range(4, 8):  # inet_addr_print twice: out(addr), field_next, out(port), field_next
            self.out(cells[f])
            self.field_next()
        if cells[8]:
            self.out(cells[8])  # proc_ctx_print and the details, in COL_EXT

    def render(self) -> None:
        if not self.chunks:
            return
        first = True
        for f, (align, _, delim, off) in enumerate(self.cols):  # render_calc_width, compact
            if off:
                continue
            measured = self.max_len[f]
            self.width[f] = measured + len(delim) if (not first and measured) else measured
            if self.width[f]:
                first = False
        f = 0
        while not self.width[f]:
            f += 1
        line_started = False
        for token in [t for chunk in self.chunks for t in chunk]:
            align, _, delim, _ = self.cols[f]
            printed = 0
            if line_started:
                self.printed.append(delim)
                printed = len(delim)
            line_started = True
            stored = len(token.data)
            if self.width[f] and align == RIGHT and self.width[f] - stored - printed > 0:
                self.printed.append(" " * (self.width[f] - stored - printed))
                printed += self.width[f] - stored - printed
            self.printed.append(token.data.decode())
            printed += stored
            if self.width[f] and align == LEFT and self.width[f] - printed > 0:
                self.printed.append(" " * (self.width[f] - printed))
            while True:
                if self._last(f):
                    self.printed.append("\n")
                    f, line_started = 0, False
                else:
                    f += 1
                if not self.cols[f][3]:
                    break
        if line_started:
            self.printed.append("\n")
        self.chunks, self.cur, self.current = [], None, 0


def reference(rows: Sequence[Sequence[str]], disabled: Sequence[bool], header: bool, room: int,
              chunks_max: int) -> str:
    ss = ReferenceSs(disabled, room, chunks_max)
    if header:
        ss.header()
    for cells in rows:
        ss.row(cells)
    ss.render()
    return "".join(ss.printed)


def mine(rows: Sequence[Sequence[str]], disabled: Sequence[bool], header: bool, room: int, chunks_max: int,
         feed: int = 7) -> str:
    class Small(SsTable):
        chunk_room = room

    Small.chunks_max = chunks_max
    out = io.StringIO()
    columns = [Column(a, h, d, disabled=off) for (a, h, d), off in zip(LAYOUT, disabled)]
    table = Small(columns, out.write, [h for _, h, _ in LAYOUT] if header else None)
    for i in range(0, len(rows), feed):
        table.add(rows[i : i + feed])
    table.end()
    return out.getvalue()


_text = st.text(alphabet="abcdef0123456789:.[]", max_size=12)
_row = st.tuples(st.sampled_from(["tcp", "udp", "u_str"]), st.sampled_from(["ESTAB", "LISTEN", "TIME-WAIT"]),
                 st.sampled_from(["0     ", "1234567"]), st.sampled_from(["0     ", "12    "]),
                 _text.map(lambda t: t + ":"), _text.filter(bool), _text.map(lambda t: t + ":"),
                 _text.filter(bool), st.text(alphabet=' users:("x",pid=1fd)', max_size=60))


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(_row, max_size=60), netid_off=st.booleans(), state_off=st.booleans(),
       header=st.booleans(), room=st.integers(min_value=120, max_value=700), chunks_max=st.integers(1, 5),
       feed=st.integers(1, 40))
def test_the_table_is_what_ss_prints_wherever_its_chunks_end(
    rows: List[Tuple[str, ...]], netid_off: bool, state_off: bool, header: bool, room: int, chunks_max: int,
    feed: int,
) -> None:
    disabled = [netid_off, state_off] + [False] * 7
    expected = reference(rows, disabled, header, room, chunks_max)
    assert mine(rows, disabled, header, room, chunks_max, feed) == expected


def test_a_large_table_is_rendered_in_pieces_each_as_wide_as_the_rows_so_far() -> None:
    narrow = ("tcp", "ESTAB", "0     ", "0     ", "1.1.1.1:", "1", "2.2.2.2:", "2", "")
    wide = ("tcp", "ESTAB", "0     ", "0     ", "111.111.111.111:", "11111", "2.2.2.2:", "2", "")
    rows = [narrow] * 40 + [wide] * 3
    disabled = [True, False] + [False] * 7
    text = mine(rows, disabled, True, 400, 2)
    assert text == reference(rows, disabled, True, 400, 2)
    lines = text.split("\n")[:-1]
    assert len({len(line) for line in lines[:10]}) == 1  # the first piece: no wide row yet
    assert len(lines[1]) < len(lines[-1])  # a later piece is wider
    once = render_columns([Column(a, h, d) for (a, h, d) in LAYOUT[1:]],
                          [[h for _, h, _ in LAYOUT[1:]]] + [r[1:] for r in rows], None,
                          last_cell_unmeasured=True)
    assert len({len(line) for line in once.split("\n")[:-1]}) == 1 and once != text


def test_one_rendering_is_render_columns() -> None:
    """Below five chunks ss renders once, at the end: the whole table's widths."""
    rows = [("tcp", "ESTAB", "0     ", "0     ", "10.0.0.%d:" % i, str(i * 97), "[::1]:", "22",
             " users:(x)" * (i % 3)) for i in range(300)]
    disabled = [True, False] + [False] * 7
    whole = render_columns([Column(a, h, d) for (a, h, d) in LAYOUT[1:]],
                           [[h for _, h, _ in LAYOUT[1:]]] + [r[1:] for r in rows], None,
                           last_cell_unmeasured=True)
    assert mine(rows, disabled, True, SS_CHUNK_ROOM, 5, feed=64) == whole


def test_non_ascii_cells_are_measured_in_bytes() -> None:
    rows = [("u_str", "LISTEN", "0     ", "0     ", "/run/\u00e9t\u00e9 ", "77", "* ", "0", ""),
            ("u_str", "LISTEN", "0     ", "0     ", "/run/abcdef ", "78", "* ", "0", "")]
    disabled = [True, False] + [False] * 7
    assert mine(rows, disabled, True, 200, 2, feed=1) == reference(rows, disabled, True, 200, 2)
    assert mine(rows, disabled, True, SS_CHUNK_ROOM, 5) == reference(rows, disabled, True, SS_CHUNK_ROOM, 5)


@pytest.mark.parametrize("header", [True, False])
def test_no_rows(header: bool) -> None:
    disabled: List[bool] = [False] * 9
    assert mine([], disabled, header, SS_CHUNK_ROOM, 5) == reference([], disabled, header, SS_CHUNK_ROOM, 5)
    assert (mine([], disabled, header, SS_CHUNK_ROOM, 5) == "") == (not header)
