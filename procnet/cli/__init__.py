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
"""

from __future__ import annotations

import importlib
import sys
from typing import Callable, Dict, List, NoReturn, Optional, Sequence

#: subcommand -> (module in this package, one-line summary)
SUBCOMMANDS: Dict[str, "tuple[str, str]"] = {
    "ss": ("ss", "sockets, as iproute2's ss lists them (-tulpn, filters)"),
    "lsof": ("lsof", "open files of processes, as lsof lists them (-i, -p, PATH)"),
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


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``procnet ARGS`` and return its exit status (0 ok, 1 nothing found/error, 2 usage)."""
    args = list(sys.argv[1:] if argv is None else argv)
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
    try:
        return int(entry(args[1:]))
    except BrokenPipeError:
        # `procnet ss | head`: the reader left; say nothing more.
        try:
            sys.stdout.close()
        except OSError:
            pass
        return 0
    except KeyboardInterrupt:
        return 130


def run() -> NoReturn:
    """Run ``procnet`` with ``sys.argv[1:]`` and exit with its status (``sys.exit``)."""
    sys.exit(main(sys.argv[1:]))


__all__ = ["SUBCOMMANDS", "main", "run"]
