"""The exceptions procnet raises on purpose.

Every one derives from :class:`ProcNetError`, so ``except procnet.ProcNetError`` catches
everything procnet means to raise and nothing it does not.
"""

from __future__ import annotations

import errno
from typing import Optional, Union

from ._escape import quoted as quoted  # the one escaping rule (re-exported)


class ProcNetError(Exception):
    """Base class of every exception procnet raises on purpose."""


#: A reason is procnet's words and, at times, a token it quotes.
_REASON_LIMIT = 300


class ParseError(ProcNetError, ValueError):
    """A line of a kernel table (or a netlink reply) that procnet cannot read.

    Carries where it came from and why, and prints as::

        /proc/net/tcp:17: expected 8 hex digits in local address, got 'ZZ' | <the line>

    ``lineno`` is 1-based and counts physical lines of the file, header included.
    ``line`` is the offending text (``str``; undecodable bytes are kept as surrogate
    escapes, so ``os.fsencode(line)`` gives the bytes back). The message quotes at most
    200 characters of the line and 300 of the reason (which may quote a token), escaped
    (:func:`quoted`): a bad token of a 256 MiB table line stays a short message.
    """

    def __init__(
        self,
        reason: str,
        *,
        path: Optional[str] = None,
        lineno: Optional[int] = None,
        line: Optional[Union[str, bytes]] = None,
    ) -> None:
        if isinstance(line, bytes):
            line = line.decode("utf-8", "surrogateescape")
        self.reason = reason
        self.path = path
        self.lineno = lineno
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = quoted(self.path) if self.path is not None else "<text>"
        if self.lineno is not None:
            where = "%s:%d" % (where, self.lineno)
        text = "%s: %s" % (where, quoted(self.reason, _REASON_LIMIT))
        if self.line is not None:
            text += " | " + quoted(self.line)
        return text

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (
            _rebuild_parse_error,
            (self.reason, self.path, self.lineno, self.line),
        )


def _rebuild_parse_error(
    reason: str, path: Optional[str], lineno: Optional[int], line: Optional[str]
) -> ParseError:
    return ParseError(reason, path=path, lineno=lineno, line=line)


class ProcRootError(ProcNetError, OSError):
    """The proc root cannot be used: it does not exist or holds no ``net/`` tables."""


class AccessDenied(ProcNetError, PermissionError):
    """procnet may not read this: another user's process, a hidepid mount, a table the
    caller has no right to.

    A :class:`PermissionError` too, so ``except PermissionError`` catches it; ``errno``
    and ``filename`` are set as the system call left them. The owner scan never raises
    it for a process it may not inspect: it names the pid in ``report.denied`` instead
    (``strict=True`` asks for this exception then).
    """


class NoSuchProcess(ProcNetError, ProcessLookupError):
    """The process asked about does not exist (any more): it exited, or never existed
    under this proc root.

    A :class:`ProcessLookupError` too. As with :class:`AccessDenied`, the owner scan
    reports a process that exits during it (``report.vanished``) rather than raising.
    """


class UnsafeFile(AccessDenied):
    """A file under the proc root that procnet refuses to read, because reading it could
    block, exhaust memory or leave the root: not a regular file (a FIFO, a device node, a
    socket; every file of /proc is a regular file), larger than procnet's limit for its
    kind, a link where a file or directory belongs, or a link out of the root. A capture
    from another machine can hold any of these.

    An :class:`AccessDenied` (procnet's own rule denies the read): a process whose file is
    refused counts as one the owner scan could not inspect (``report.denied``), and a
    socket table or manifest that is refused fails the query with this error. ``filename``
    is the path, ``strerror`` the problem; ``errno`` is ``ELOOP`` for a link, ``EFBIG`` for
    a file too large, ``EINVAL`` for a file of the wrong kind. The message quotes the path
    escaped (:func:`quoted`).
    """

    def __init__(self, path: str, problem: str, code: int = errno.EINVAL) -> None:
        super().__init__(code, problem, path)

    def __str__(self) -> str:
        return "%s: %s" % (quoted(str(self.filename)), self.strerror)

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (UnsafeFile, (self.filename, self.strerror, self.errno))
