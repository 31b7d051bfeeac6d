"""A capture's stored sock_diag answer: its bytes in, the table's records out. No I/O.

``procnet capture`` on the live machine keeps, beside the text tables, the kernel's reply to
one sock_diag dump per table (``sock_diag/<table>`` in the bundle; procnet/_capture.py):
what only netlink tells (a listener's backlog, a unix socket's peer, ``struct tcp_info``,
the cookie) is then read back as the live query read it. The file is the reply's
datagrams as received, each padded to 4 bytes, so it is itself a stream of whole netlink
messages ending with ``NLMSG_DONE``, in the byte order of the kernel that wrote it (the
manifest's ``byteorder``).

How it works, and what must stay true: the stream is handed to the same decoder the live
query uses (:mod:`procnet._parse.netlink`), a run of whole messages at a time (about
:data:`RUN` bytes), so a large answer is decoded with a bounded list of records in hand,
as the live dump is. The bundle may come from anywhere: every length is checked by the
decoder, a cut or a bad length is a :class:`~procnet.ParseError` naming the file and the
offset, and a record whose address family is not its table's is one too (a tcp6 socket in
``tcp``). Nothing here allocates more than the file's size.
"""

from __future__ import annotations

import socket
import struct
import sys
from typing import FrozenSet, Iterable, Iterator, Optional, Union

from .._errors import ParseError
from .._records import InetSocket, UnixSocket
from ._common import INET_TABLES, ErrorHandler
from .netlink import (
    INET_DIAG_CONG,
    INET_DIAG_INFO,
    INET_DIAG_SKMEMINFO,
    NLMSG_HDRLEN,
    InetDumpDecoder,
    UnixDumpDecoder,
)

#: Bytes of whole messages fed to the decoder at a time (the kernel's datagrams are at
#: most 32 KiB; a message larger than this is fed alone).
RUN = 1 << 16

_LENGTH = {"little": struct.Struct("<I"), "big": struct.Struct(">I")}


def message_runs(data: bytes, byteorder: str = sys.byteorder, size: int = RUN) -> Iterator[bytes]:
    """``data`` cut into runs of whole netlink messages of about ``size`` bytes.

    Only the cutting is done here: a run ends after the message that crosses ``size``, or
    where a header is cut or its length is shorter than a header (the rest then goes to
    the decoder as it is, which says what is wrong and where).

    >>> done = struct.pack("<IHHIIi", 20, 3, 2, 1, 0, 0)
    >>> [len(run) for run in message_runs(done * 3, "little", 40)]
    [40, 20]
    """
    length_of = _LENGTH[byteorder].unpack_from
    end = len(data)
    start = 0
    while start < end:
        cut = start
        while cut < end and cut - start < size:
            if end - cut < NLMSG_HDRLEN:
                cut = end
                break
            length = length_of(data, cut)[0]
            if length < NLMSG_HDRLEN:
                cut = end
                break
            cut += (length + 3) & ~3
        cut = min(cut, end)
        yield data[start:cut]
        start = cut


def parse_stored_answer(
    data: bytes,
    table: str,
    *,
    byteorder: str = sys.byteorder,
    ticks_per_second: int = 100,
    states: Optional[Iterable[int]] = None,
    path: str = "<sock_diag answer>",
    on_error: Optional[ErrorHandler] = None,
    tcp_info: bool = True,
    skmem: bool = False,
) -> Iterator[Union[InetSocket, UnixSocket]]:
    """The records of a stored sock_diag answer for ``table`` (``"tcp"``, ``"udp6"``,
    ``"unix"``...), as the live dump gave them.

    ``states`` keeps only those. ``tcp_info`` and ``skmem`` are what the query asks for,
    as :func:`~procnet._netlink.iter_inet` takes them: the answer holds every attribute,
    and those the query would not have asked the kernel for are read as not sent (the
    records are then the live query's, ``tcp_info`` ``None`` and all). A malformed
    answer raises :class:`~procnet.ParseError` naming ``path`` (with ``on_error``, it is
    handed the error instead and the table ends there); an error reply stored in it raises
    :class:`~procnet._parse.netlink.NetlinkError`.

    >>> done = struct.pack("=IHHIIi", 20, 3, 2, 1, 0, 0)
    >>> list(parse_stored_answer(done, "tcp"))
    []
    """
    try:
        ignore = _not_asked(table, tcp_info, skmem)
        yield from _decode(data, table, byteorder, ticks_per_second, states, path, ignore)
    except ParseError as exc:
        if on_error is None:
            raise
        on_error(exc)


def _not_asked(table: str, tcp_info: bool, skmem: bool) -> FrozenSet[int]:
    """The attributes of a stored answer (asked with every one, see procnet/_capture.py)
    that a live query would not have got: as inet_request builds its idiag_ext."""
    if table not in ("tcp", "tcp6") or tcp_info:
        return frozenset()
    if skmem:
        return frozenset((INET_DIAG_INFO, INET_DIAG_CONG))
    return frozenset((INET_DIAG_INFO, INET_DIAG_CONG, INET_DIAG_SKMEMINFO))


def _decode(
    data: bytes,
    table: str,
    byteorder: str,
    ticks_per_second: int,
    states: Optional[Iterable[int]],
    path: str,
    ignore: FrozenSet[int],
) -> Iterator[Union[InetSocket, UnixSocket]]:
    decoder: Union[InetDumpDecoder, UnixDumpDecoder]
    if table == "unix":
        decoder = UnixDumpDecoder(byteorder=byteorder, states=states, source=path)
        family = socket.AF_UNIX
    elif table in INET_TABLES:
        proto, family = INET_TABLES[table]
        decoder = InetDumpDecoder(
            proto, byteorder=byteorder, ticks_per_second=ticks_per_second, states=states, source=path,
            ignore=ignore,
        )
    else:
        raise ValueError("table is one of %s or 'unix', not %r" % (", ".join(INET_TABLES), table))
    for run in message_runs(data, byteorder):
        start = decoder.offset
        for rec in decoder.feed(run):
            if rec.family != family:
                raise ParseError(
                    "a socket of address family %d in the answer for %s (in the messages from offset %d)"
                    % (rec.family, table, start),
                    path=path,
                )
            yield rec
    if not decoder.done:
        raise ParseError("the answer ends at offset %d without NLMSG_DONE: it is cut short" % decoder.offset,
                         path=path)


__all__ = ["RUN", "message_runs", "parse_stored_answer"]
