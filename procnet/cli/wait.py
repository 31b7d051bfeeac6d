"""``procnet wait TARGET``: block until a socket accepts on a port or unix path, never connecting.

For start-up scripts and test suites (``procnet wait :8080 -t 30 && run-tests``). TARGET:

* ``:PORT`` (any address), ``HOST:PORT`` (HOST a numeric address, ``[IPv6]``, ``*`` for
  any, or ``localhost``, which means 127.0.0.1 or ::1: procnet resolves no other names,
  since a name lookup may ask the network), or ``PORT`` alone; PORT a number or a
  service name (``:http``);
* a unix socket's file name (anything with a ``/``: ``/run/app.sock``, ``./app.sock``) or
  abstract name (``@name``).

Decisions (see :func:`procnet.wait_listening`, which does the work):

* Without ``-t`` it waits for ever, as ``wait`` and ``timeout``-less tools do (a script
  bounds it with ``-t``); ``-t 0`` looks once.
* Quiet by default: the exit status is the answer (0 the socket is there, 1 the timeout
  passed or the question could not be answered, 2 a usage error). ``-v`` prints the
  socket found on one line, ``Netid State Local-Address:Port`` and ss's ``users:(...)``.
  The reason for 1 is one line on stderr (``-q`` silences it).
* ``-u``: a UDP socket (bound and unconnected) instead of a TCP listener; ``-4`` / ``-6``
  only that family's table. A unix TARGET waits for a stream or seqpacket listener.
"""

from __future__ import annotations

import ipaddress
import sys
from typing import IO, TYPE_CHECKING, Any, List, NamedTuple, Optional, Sequence, Tuple, cast

if TYPE_CHECKING:
    from .._query import InetProto

USAGE = """\
usage: procnet wait [-u] [-4|-6] [-t SECONDS] [-v|-q] [--root DIR] TARGET

Wait until a socket accepts on TARGET, without connecting to it; exit 0 then,
1 when SECONDS pass first.

TARGET:
  :PORT, PORT           a TCP listener (-u: a bound UDP socket) on any address
  HOST:PORT             ... that accepts on HOST (a numeric address, [IPv6], or localhost)
  /path, ./path         a unix socket listening on that file name
  @name                 a unix socket listening on that abstract name

options:
  -t, --timeout SECONDS give up after SECONDS (default: wait for ever; 0: look once)
  -u, --udp             wait for UDP instead of TCP
  -4, -6                only IPv4 / only IPv6
  -v, --verbose         print the socket found (Netid State Local:Port users)
  -q, --quiet           no message on stderr when giving up
  --root DIR            proc root to read (default /proc; any other is read as text)
  -h, --help            this text
"""

PROG = "procnet wait"


class UsageError(Exception):
    """A command line that cannot be run; the message says what to write instead."""


class Options(NamedTuple):
    port: Optional[int]
    address: Optional[Tuple[str, ...]]
    path: Optional[str]
    proto: str
    timeout: Optional[float]
    verbose: bool
    quiet: bool
    root: str


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise UsageError("-t takes a number of seconds from 0 (such as 30 or 0.5), not '%s'" % text)
    return value


def _port(text: str, udp: bool) -> int:
    if text.isdigit():
        port = int(text)
        if 1 <= port <= 65535:
            return port
        raise UsageError("port %s is out of range: write a number from 1 to 65535" % text)
    from .._services import service_port

    found = service_port(text, "udp" if udp else "tcp") if text else None
    if found is None:
        raise UsageError("unknown port '%s': write a number from 1 to 65535 or a service name such as http" % text)
    return found


def _host(text: str) -> Optional[Tuple[str, ...]]:
    if text in ("", "*"):
        return None
    if text == "localhost":
        return ("127.0.0.1", "::1")
    bare = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    try:
        return (str(ipaddress.ip_address(bare)),)
    except ValueError:
        raise UsageError("'%s' is not a numeric address: write one such as 127.0.0.1 or [::1] (or localhost); "
                         "procnet wait resolves no host names" % text) from None


def parse_target(target: str, udp: bool) -> Tuple[Optional[int], Optional[Tuple[str, ...]], Optional[str]]:
    """(port, addresses, unix path) of a TARGET argument."""
    if not target:
        raise UsageError("TARGET is empty: write :PORT, HOST:PORT, /path or @name")
    if "/" in target or target.startswith("@"):
        return None, None, target
    host, sep, port = target.rpartition(":")
    if not sep:
        return _port(target, udp), None, None
    return _port(port, udp), _host(host), None


def _proto(udp: bool, family: Optional[str]) -> str:
    return ("udp" if udp else "tcp") + (family or "")


def parse_args(argv: Sequence[str]) -> Options:
    """The options of a command line; :class:`UsageError` for one that cannot be run."""
    udp, verbose, quiet = False, False, False
    family: Optional[str] = None
    timeout: Optional[float] = None
    from .._proc import DEFAULT_ROOT

    root = DEFAULT_ROOT
    targets: List[str] = []
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == "--":
            targets.extend(args)
            break
        if arg in ("-t", "--timeout", "--root"):
            if not args:
                raise UsageError("%s needs a value" % arg)
            value = args.pop(0)
            if arg == "--root":
                root = value
            else:
                timeout = _timeout(value)
        elif arg.startswith("--timeout=") or arg.startswith("--root="):
            name, _, value = arg.partition("=")
            if name == "--root":
                root = value
            else:
                timeout = _timeout(value)
        elif arg in ("-u", "--udp"):
            udp = True
        elif arg in ("-4", "-6"):
            if family not in (None, arg[1]):
                raise UsageError("-4 and -6 exclude each other: give one, or neither for both")
            family = arg[1]
        elif arg in ("-v", "--verbose"):
            verbose = True
        elif arg in ("-q", "--quiet"):
            quiet = True
        elif arg.startswith("-") and arg != "-":
            raise UsageError("unknown option '%s' (see 'procnet wait --help')" % arg)
        else:
            targets.append(arg)
    if len(targets) != 1:
        raise UsageError("give one TARGET (:PORT, HOST:PORT, /path or @name), not %d" % len(targets))
    port, address, path = parse_target(targets[0], udp)
    if path is not None and (udp or family):
        raise UsageError("-u, -4 and -6 are for ports; a unix TARGET (%s) takes none of them" % path)
    return Options(port, address, path, _proto(udp, family), timeout, verbose, quiet, root)


def _endpoint(rec: Any) -> str:
    if rec.family == 2 or rec.family == 10:
        ip = rec.local.ip
        return ("%s:%d" if ip.version == 4 else "[%s]:%d") % (ip, rec.local.port)
    return str(rec.path)


def line(rec: Any) -> str:
    """The one line ``-v`` prints: Netid, State (ss's words), Local Address:Port, users."""
    from .._records import UnixSocket
    from ._ss_rows import users_text
    from .render import escape_text

    if isinstance(rec, UnixSocket):
        netid = {1: "u_str", 2: "u_dgr", 5: "u_seq"}.get(int(rec.type), "u_str")
    else:
        netid = rec.proto
    state = "UNCONN" if rec.state.name == "CLOSE" else rec.state.name
    return "%s %s %s%s\n" % (netid, state, escape_text(_endpoint(rec)), users_text(rec.owners))


def _wait(options: Options) -> Any:
    from .._wait import wait_listening

    common: Any = {"timeout": options.timeout, "root": options.root, "owners": options.verbose}
    if options.path is not None:
        return wait_listening(path=options.path, **common)
    proto = cast("InetProto", options.proto)
    return wait_listening(options.port or 0, proto=proto, address=options.address, **common)


def run(argv: Sequence[str], out: IO[str], err: IO[str]) -> int:
    """``procnet wait ARGS`` writing to ``out`` and ``err``; returns the exit status."""
    from .render import message

    if any(a in ("-h", "--help") for a in argv):
        return _write(out, err, USAGE)
    try:
        options = parse_args(argv)
    except UsageError as exc:
        err.write(message(PROG, str(exc)))
        return 2
    from .._errors import ProcNetError

    try:
        found = _wait(options)
    except TimeoutError as exc:
        if not options.quiet:
            err.write(message(PROG, str(exc)))
        return 1
    except (ProcNetError, OSError, ValueError) as exc:
        err.write(message(PROG, str(exc)))
        return 1
    return _write(out, err, line(found)) if options.verbose else 0


def _write(out: IO[str], err: IO[str], text: str) -> int:
    """Write ``text``; a stdout that cannot take it (``/dev/full``, a closed pipe) is one
    line on stderr and status 1, not a traceback."""
    try:
        out.write(text)
        out.flush()
    except BrokenPipeError:
        raise  # the reader left: procnet.cli.main ends quietly, as for every command
    except OSError as exc:
        from .render import message

        err.write(message(PROG, "cannot write the output: %s" % (exc.strerror or exc)))
        return 1
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``procnet wait ARGS``; returns the exit status."""
    return run(sys.argv[1:] if argv is None else argv, sys.stdout, sys.stderr)


__all__ = ["Options", "USAGE", "UsageError", "line", "main", "parse_args", "parse_target", "run"]
