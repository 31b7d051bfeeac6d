"""``procnet ss -N NAME`` and ``--netns all|PID``: which network namespace the command reads.

``--netns`` (procnet's own) is the library's ``netns=`` as it is: ``all`` (every
namespace a process is in, each read through one of its processes' ``<pid>/net``) or a
pid (that process's namespace). ``-N NAME`` is ss's: the namespace bound at
``/run/netns/NAME`` (``ip netns add NAME`` makes it), which no process needs to be in.
ss enters it with setns() for the whole process; procnet does not change its own
namespace (``procnet.cli.ss.run`` also runs inside other programs, whose sockets would
follow it): the command runs in a thread of its own that enters it (setns(CLONE_NEWNET)
changes the calling thread only; it needs CAP_SYS_ADMIN, as for ss). There the query
is ``netns=<that thread's id>``: its sock_diag sockets ask the namespace (the query
treats the calling thread's own id as its own namespace), its text tables are
``/proc/<tid>/net/...`` (``-s``, and a protocol without a diag module), and owners come
from the descriptor scan of every process, as always. ``--netns PID`` reads the text
tables of that process's namespace, as the library does, so the fields only sock_diag
has (a listener's backlog, unix peers, ``-e`` cookies) print as from the text tables.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any, Callable, List, NamedTuple, Optional, TypeVar, cast

from ._ss_select import UsageError

if TYPE_CHECKING:
    from .._proc import ProcFS
    from .._query import NetnsSpec

_T = TypeVar("_T")

#: Where ``ip netns add`` binds a named namespace (iproute2's NETNS_RUN_DIR; /var/run is
#: a link to /run)
NETNS_RUN_DIR = "/run/netns"
#: sched.h CLONE_NEWNET
CLONE_NEWNET = 0x40000000


def netns_spec(text: str) -> "NetnsSpec":
    """``--netns``'s argument as the library's ``netns=``: ``"all"``, or a pid.

    >>> netns_spec("all"), netns_spec("42")
    ('all', 42)
    """
    if text == "all":
        return "all"
    if text.isdigit() and text.isascii() and int(text) > 0:
        return int(text)
    raise UsageError("--netns takes 'all' or a process id, not %r" % text)


def _setns(fd: int) -> None:
    """setns(fd, CLONE_NEWNET) for the calling thread (os.setns from Python 3.12, libc before)."""
    setns = getattr(os, "setns", None)
    if setns is not None:
        setns(fd, CLONE_NEWNET)
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


class NamespaceError(Exception):
    """A named namespace that cannot be entered; the message is ss's."""


def in_named_namespace(name: str, work: Callable[[int], _T]) -> _T:
    """``work(tid)`` run by a thread that has entered the namespace ``/run/netns/NAME``
    (``tid``: that thread's id, the library's ``netns=`` for it); its result, or what it
    raised. Raises :class:`NamespaceError` with ss's messages when the namespace cannot
    be entered."""
    path = os.path.join(NETNS_RUN_DIR, name)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise NamespaceError('Cannot open network namespace "%s": %s' % (name, exc.strerror)) from None
    outcome: List[Any] = []

    def run() -> None:
        try:
            _setns(fd)
        except OSError as exc:
            outcome.append(NamespaceError('setting the network namespace "%s" failed: %s' % (name, exc.strerror)))
            return
        try:
            outcome.append(work(threading.get_native_id()))
        except BaseException as exc:  # handed to the calling thread, which raises it
            outcome.append(_Raised(exc))

    worker = threading.Thread(target=run, name="procnet-netns-%s" % name, daemon=True)
    try:
        worker.start()
        worker.join()
    finally:
        os.close(fd)
    result = outcome[0]
    if isinstance(result, NamespaceError):
        raise result
    if isinstance(result, _Raised):
        raise result.exc
    return cast(_T, result)


class _Raised(NamedTuple):
    exc: BaseException


def in_namespace(name: Optional[str], netns: Optional[str], fs: "ProcFS", work: Callable[["NetnsSpec"], _T]) -> _T:
    """``work(spec)`` for ``-N NAME`` or ``--netns`` (given one of them): ``spec`` is the
    library's ``netns=`` (``-N``: run in a thread inside the namespace, see
    :func:`in_named_namespace`). Raises :class:`UsageError` for a bad choice."""
    if name is not None and netns is not None:
        raise UsageError("-N NAME and --netns both choose the namespace: give one")
    if netns is not None:
        return work(netns_spec(netns))
    assert name is not None
    if not name or "/" in name or name in (".", ".."):
        raise UsageError("-N takes the name of a namespace under %s (ip netns list), not %r" % (NETNS_RUN_DIR, name))
    if not fs.is_live():
        raise UsageError("-N enters a namespace of the running machine; it cannot be read from %s" % fs.root)
    return in_named_namespace(name, work)


__all__ = ["CLONE_NEWNET", "NETNS_RUN_DIR", "NamespaceError", "in_named_namespace", "in_namespace", "netns_spec"]
