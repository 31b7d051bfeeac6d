"""What every table parser shares: input normalisation, error routing, header checks."""

from __future__ import annotations

from typing import Callable, List, Optional, Union

from .._errors import ParseError

#: Called with each bad line's error in lenient mode; the line is then skipped.
ErrorHandler = Callable[[ParseError], None]

Text = Union[str, bytes]


def as_text(data: Text) -> str:
    """The table as ``str``; bytes that are not UTF-8 survive as surrogate escapes."""
    if isinstance(data, str):
        return data
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data).decode("utf-8", "surrogateescape")
    raise TypeError("a table is str or bytes, not %s" % type(data).__name__)


def split_lines(text: str) -> List[str]:
    """Physical lines of a kernel table.

    Splits on ``"\\n"`` only: ``str.splitlines()`` also breaks on ``\\r``, ``\\x0b``,
    ``\\x1c``... which a socket path may contain. The terminator of the last line does not
    make an extra empty line.
    """
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def report(
    on_error: Optional[ErrorHandler],
    reason: str,
    path: str,
    lineno: int,
    line: str,
) -> None:
    """Raise the error, or hand it to the lenient caller's handler."""
    error = ParseError(reason, path=path, lineno=lineno, line=line)
    if on_error is None:
        raise error
    on_error(error)
