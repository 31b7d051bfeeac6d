"""``procnet capture DIR``: write a support bundle of the proc tree procnet reads."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, List, Optional


class _Parser(argparse.ArgumentParser):
    """argparse, its messages escaped: an argument quoted in an error (``unrecognized
    arguments: ...``) cannot drive the terminal. Each line is escaped on its own, so the
    usage text keeps its lines."""

    def _print_message(self, message: str, file: Any = None) -> None:
        from .render import escape_text

        if message:
            # Written here, not by argparse, which swallows the OSError of a full disk or a
            # closed pipe: procnet.cli.main turns it into one line and a status.
            (file or sys.stderr).write("\n".join(escape_text(line) for line in message.split("\n")))


def main(argv: Optional[List[str]] = None) -> int:
    parser = _Parser(
        prog="procnet capture",
        description=(
            "Copy what procnet reads (socket tables, the kernel's sock_diag answers, fd links, fdinfo, "
            "comm, cmdline, status, namespace links) into DIR, with a manifest. 'procnet ss --root DIR' or "
            "procnet.sockets(root=DIR) then answers as the live machine did."
        ),
    )
    parser.add_argument(
        "dir",
        metavar="DIR",
        help=(
            "the bundle: a new directory (made 0700; its parent must exist), or an empty one owned by "
            "you and writable by nobody else; files are written 0600"
        ),
    )
    from .._proc import DEFAULT_ROOT

    parser.add_argument("--root", default=DEFAULT_ROOT, help="proc root to capture (default %(default)s)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--all-netns", action="store_true", help="capture the tables of every network namespace")
    group.add_argument("--netns-pid", type=int, metavar="PID", help="capture the tables of PID's network namespace")
    parser.add_argument("--all-fdinfo", action="store_true", help="keep fdinfo of every descriptor, not only sockets'")
    args = parser.parse_args(argv)

    from .._capture import capture
    from .._errors import ProcNetError
    from .render import escape_text

    netns = "all" if args.all_netns else args.netns_pid
    try:
        manifest = capture(args.dir, root=args.root, netns=netns, all_fdinfo=args.all_fdinfo)
    except (ProcNetError, OSError) as exc:
        # paths in the message are the caller's or come from the captured tree: escape them
        print("procnet capture: %s" % escape_text(str(exc)), file=sys.stderr)
        return 1
    summary = {k: manifest[k] for k in ("kernel", "byteorder", "time", "netns", "tables", "denied", "vanished")}
    summary["sock_diag"] = manifest.get("sock_diag", {}).get("tables", [])
    print(json.dumps(summary, sort_keys=True))
    return 0
