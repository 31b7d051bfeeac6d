"""``procnet capture DIR``: write a support bundle of the proc tree procnet reads."""

from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="procnet capture",
        description=(
            "Copy what procnet reads (socket tables, fd links, fdinfo, comm, cmdline, status, "
            "namespace links) into DIR, with a manifest. 'procnet ss --root DIR' or "
            "procnet.sockets(root=DIR) then answers as the live machine did."
        ),
    )
    parser.add_argument("dir", metavar="DIR", help="a new (or empty) directory to write")
    from .._proc import DEFAULT_ROOT

    parser.add_argument("--root", default=DEFAULT_ROOT, help="proc root to capture (default %(default)s)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--all-netns", action="store_true", help="capture the tables of every network namespace")
    group.add_argument("--netns-pid", type=int, metavar="PID", help="capture the tables of PID's network namespace")
    parser.add_argument("--all-fdinfo", action="store_true", help="keep fdinfo of every descriptor, not only sockets'")
    args = parser.parse_args(argv)

    from .._capture import capture
    from .._errors import ProcNetError

    netns = "all" if args.all_netns else args.netns_pid
    try:
        manifest = capture(args.dir, root=args.root, netns=netns, all_fdinfo=args.all_fdinfo)
    except (ProcNetError, OSError) as exc:
        print("procnet capture: %s" % exc, file=sys.stderr)
        return 1
    summary = {k: manifest[k] for k in ("kernel", "byteorder", "time", "netns", "tables", "denied", "vanished")}
    print(json.dumps(summary, sort_keys=True))
    return 0
