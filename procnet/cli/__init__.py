"""procnet's command line: ``procnet ss``, ``procnet lsof``, ``procnet capture``.

``main(argv)`` returns the exit status (tests call it directly); ``run()`` runs
``main(sys.argv[1:])`` and exits with that status, for launchers that ignore a return
value (a zipapp's ``-m "procnet.cli:run"``). Each subcommand lives in its own module,
imported only when it is chosen, so that ``procnet ss -tln`` loads neither lsof's code
nor the capture writer. They are found relative to this package, so the command line
also runs from a copy vendored under another name (``myapp._vendor.procnet.cli``).

Every message written to stderr escapes what it quotes (a file name from a bundle, an
argument, an exception's text) with :func:`procnet.cli.render.escape_text`, the rule of
the table columns: a name holding ``ESC ] 0 ; ... BEL`` cannot retitle or drive the
terminal, nor a newline start a line of its own.

Output that cannot be written is never a traceback, for every command (``--help`` and
``--version`` too): ``main`` flushes stdout itself, before the interpreter's exit would.
A closed pipe (``procnet ss | head``) ends the command without a word and with status 141
(:data:`EXIT_PIPE_CLOSED`): ss and lsof are ended there by SIGPIPE, which a shell reports
as 141; Python ignores the signal, so procnet exits with that status instead (a parent
that ignores SIGPIPE sees ss and lsof exit 0 with nothing said: they do not check their
writes, and procnet does not copy that). Any other write error (``>/dev/full``) is one
line on stderr (``procnet ss: cannot write the output: No space left on device``) and
status 1, where ss and lsof say nothing and exit 0.
"""

from __future__ import annotations

import importlib
import sys
from typing import Callable, Dict, List, NoReturn, Optional, Sequence

#: subcommand -> (module in this package, one-line summary)
SUBCOMMANDS: Dict[str, "tuple[str, str]"] = {
    "ss": ("ss", "sockets, as iproute2's ss lists them (-tulpn, filters)"),
    "lsof": ("lsof", "open files of processes, as lsof lists them (-i, -p, PATH)"),
    "wait": ("wait", "wait until a port or unix socket accepts, never connecting (-t SECONDS)"),
    "exporter": ("exporter", "Prometheus metrics of the sockets: --listen HOST:PORT or --textfile PATH.prom"),
    # Written by procnet.cli.capture (main(argv) -> int); listed only when present.
    "capture": ("capture", "write a support bundle of the proc tree procnet reads"),
}

USAGE = """\
usage: procnet COMMAND [ARGS...]
       python3 -m procnet COMMAND [ARGS...]

Which sockets exist on this Linux machine, and who owns them.

commands:
%s
  procnet --version      print procnet's version
  procnet COMMAND --help the options of COMMAND
"""


def _available() -> List[str]:
    names = []
    for name, (module, _) in SUBCOMMANDS.items():
        if name == "capture":
            import importlib.util

            if importlib.util.find_spec(__name__ + "." + module) is None:
                continue
        names.append(name)
    return names


def _usage() -> str:
    lines = ["  procnet %-14s %s" % (n, SUBCOMMANDS[n][1]) for n in _available()]
    return USAGE % "\n".join(lines)


#: the exit status when the reader of stdout left (``procnet ss | head``): 128 + SIGPIPE,
#: what a shell reports for ss and lsof there (the signal ends them; Python ignores it)
EXIT_PIPE_CLOSED = 141


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``procnet ARGS`` and return its exit status (0 ok, 1 nothing found/error, 2 usage).

    Output that cannot be written is never a traceback: a closed pipe ends the command
    quietly with :data:`EXIT_PIPE_CLOSED`, as ss and lsof end; any other write error
    (``/dev/full``: ENOSPC, EIO...) is one line on stderr and status 1. A command that
    exits by itself (argparse's ``SystemExit`` in ``capture``) still does, after the flush.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    prog = "procnet" if not args or args[0] not in SUBCOMMANDS else "procnet " + args[0]
    try:
        status = _dispatch(args)
    except SystemExit:
        failed = _flush(prog, None)
        if failed is not None:
            return failed
        raise
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_PIPE_CLOSED
    except OSError as exc:
        return _write_error(prog, exc, None)
    except KeyboardInterrupt:
        return 130
    failed = _flush(prog, status)
    return status if failed is None else failed


def _flush(prog: str, status: Optional[int]) -> Optional[int]:
    """Flush stdout here, not at exit, where a failure is Python's own message; the exit
    status when it fails, else None."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_PIPE_CLOSED
    except OSError as exc:
        return _write_error(prog, exc, status)
    return None


def _write_error(prog: str, exc: OSError, status: Optional[int]) -> int:
    """Report an output that cannot be written (once: a command that failed already said
    why) and let go of it; returns the exit status."""
    _discard_stdout()
    if status and exc.filename is None:
        return status
    from .render import message

    what = "cannot write the output" if exc.filename is None else str(exc.filename)
    _say(message(prog, "%s: %s" % (what, exc.strerror or exc)))
    return 1


def _dispatch(args: List[str]) -> int:
    if not args or args[0] in ("-h", "--help", "help"):
        (sys.stdout if args else sys.stderr).write(_usage())
        return 0 if args else 2
    if args[0] in ("-V", "--version"):
        from .. import __version__

        sys.stdout.write("procnet %s\n" % __version__)
        return 0
    name = args[0]
    if name not in _available():
        from .render import message

        sys.stderr.write(message(
            "procnet",
            "unknown command '%s'; write one of: %s (see 'procnet --help')" % (name, ", ".join(_available())),
        ))
        return 2
    module = importlib.import_module("." + SUBCOMMANDS[name][0], __name__)
    entry: Callable[[List[str]], int] = getattr(module, "main")
    return int(entry(args[1:]))


def _discard_stdout() -> None:
    """Let go of the process's stdout, so that the interpreter's exit does not flush again
    what could not be written (it would print "Exception ignored..." and exit 120); the
    file object's own finalizer ignores the error quietly (Python 3.8 and later)."""
    if sys.stdout is sys.__stdout__:
        setattr(sys, "stdout", None)


def _say(text: str) -> None:
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except OSError:
        pass  # stderr cannot take it either: the status says it


def run() -> NoReturn:
    """Run ``procnet`` with ``sys.argv[1:]`` and exit with its status (``sys.exit``)."""
    sys.exit(main(sys.argv[1:]))


__all__ = ["EXIT_PIPE_CLOSED", "SUBCOMMANDS", "main", "run"]
