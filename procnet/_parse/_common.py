"""What every table parser shares: input normalisation, error routing, header checks."""

from __future__ import annotations

import socket
from typing import Callable, Dict, Optional, Set, Tuple, Union

from .._errors import ParseError

#: Every inet table procnet reads, with its protocol name and address family.
INET_TABLES: Dict[str, Tuple[str, socket.AddressFamily]] = {
    "tcp": ("tcp", socket.AF_INET),
    "tcp6": ("tcp", socket.AF_INET6),
    "udp": ("udp", socket.AF_INET),
    "udp6": ("udp", socket.AF_INET6),
    "udplite": ("udplite", socket.AF_INET),
    "udplite6": ("udplite", socket.AF_INET6),
    "raw": ("raw", socket.AF_INET),
    "raw6": ("raw", socket.AF_INET6),
}

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


#: How many inodes a parser remembers at least to drop repeated rows (see RecentInodes).
RECENT_WINDOW = 1 << 16


class RecentInodes:
    """The inodes of the rows seen lately, to drop a row the kernel listed twice.

    /proc/net tables are seq_files: when sockets come and go between two read() chunks,
    the kernel re-finds its place by counting rows, so rows near a chunk boundary can
    come out twice, close together. Remembering the last ``window`` to ``2 * window``
    inodes (two generations of sets) catches those with memory that does not grow with
    the table, which the iterator form needs. Inode 0 (no socket file) is never merged.
    """

    __slots__ = ("_recent", "_older", "_window")

    def __init__(self, window: int = RECENT_WINDOW) -> None:
        self._recent: Set[int] = set()
        self._older: Set[int] = set()
        self._window = window

    def seen(self, inode: int) -> bool:
        """True when ``inode`` was already seen (and not 0); else remember it."""
        if not inode:
            return False
        if inode in self._recent or inode in self._older:
            return True
        recent = self._recent
        recent.add(inode)
        if len(recent) >= self._window:
            self._older = recent
            self._recent = set()
        return False
