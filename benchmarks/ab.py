#!/usr/bin/env python3
"""A/B: two versions of procnet on the same population, alternating, in one run.

    python3 benchmarks/ab.py --old 8e58aca --scale 10k --rounds 7
    python3 benchmarks/ab.py --old /path/to/other/checkout --scale 100k --rounds 5

``run.py`` compares procnet with its peers; this compares procnet with itself, so that a
change can be told from the machine (a run on another, slower machine moves every ratio
against ss and psutil at once). ``--old`` is a git revision of this checkout (checked out
into a temporary worktree, removed at the end) or a directory holding ``procnet/``;
``--new`` defaults to this checkout. Each case is a whole process on the benchmark venv's
interpreter (``PYTHONPATH`` chooses the version), or a time taken inside it where the case
says ``inner``. Prints a table and appends it to ``benchmarks/results/ab.md``.
"""

from __future__ import annotations

import argparse
import atexit
import datetime
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
_EMPTY = tempfile.mkdtemp(prefix="procnet-cwd-")
atexit.register(os.rmdir, _EMPTY)
TOP = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from population import Population  # noqa: E402

CASES: Dict[str, str] = {
    "sockets('tcp')": "import procnet; procnet.sockets('tcp')",
    "listening('tcp')": "import procnet; procnet.listening('tcp')",
    "import procnet + procnet._query": "import procnet, procnet._query",
    "descriptor scan, inner": (
        "import sys, time; from procnet import _owners, _proc; fs = _proc.ProcFS('/proc'); "
        "t = time.perf_counter(); _owners.scan(fs, inodes=None); sys.stderr.write('inner=%f' % (time.perf_counter() - t))"
    ),
    "procnet ss -tanp": (
        "import sys, runpy; sys.argv = ['procnet', 'ss', '-tanp']; "
        "sys.stdout = open('/dev/null', 'w'); runpy.run_module('procnet', run_name='__main__')"
    ),
    "procnet ss -tlnp": (
        "import sys, runpy; sys.argv = ['procnet', 'ss', '-tlnp']; "
        "sys.stdout = open('/dev/null', 'w'); runpy.run_module('procnet', run_name='__main__')"
    ),
    "second sockets('tcp'), inner": (
        "import sys, time, procnet; procnet.sockets('tcp'); t = time.perf_counter(); procnet.sockets('tcp'); "
        "sys.stderr.write('inner=%f' % (time.perf_counter() - t))"
    ),
}


def _python() -> str:
    venv = os.path.join(HERE, ".venv", "bin", "python")
    return venv if os.path.exists(venv) else sys.executable


def _run(python: str, lib: str, code: str) -> float:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": lib}
    start = time.perf_counter()
    # cwd: an empty directory. ``python -c`` puts the working directory first on sys.path,
    # ahead of PYTHONPATH: run from a checkout, every case would import that checkout.
    proc = subprocess.run([python, "-c", code], env=env, capture_output=True, text=True, cwd=_EMPTY)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit("case failed under %s: %s" % (lib, proc.stderr[-2000:]))
    if "inner=" in proc.stderr:
        return float(proc.stderr.rsplit("inner=", 1)[1])
    return wall


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--old", required=True, help="a git revision of this checkout, or a directory holding procnet/")
    ap.add_argument("--new", default=TOP, help="a directory holding procnet/ (default: this checkout)")
    ap.add_argument("--scale", default="10k")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    worktree = None
    old = args.old
    if not os.path.isdir(os.path.join(old, "procnet")):
        worktree = tempfile.mkdtemp(prefix="procnet-ab-")
        os.rmdir(worktree)
        subprocess.run(["git", "-C", TOP, "worktree", "add", "-q", "--detach", worktree, old], check=True)
        old = worktree
    python = _python()
    try:
        libs = {"old": old, "new": os.path.abspath(args.new)}
        times: Dict[Tuple[str, str], List[float]] = {(v, c): [] for v in libs for c in CASES}
        with Population(args.scale, seconds=3600) as pop:
            counts = pop.info.get("counts", {})
            for r in range(args.rounds):
                for case, code in CASES.items():
                    order = ["old", "new"] if r % 2 == 0 else ["new", "old"]
                    for version in order:
                        times[(version, case)].append(_run(python, libs[version], code))
        lines = [
            "## %s UTC: --old %s, scale %s, %d rounds" % (
                datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M"), args.old, args.scale, args.rounds),
            "",
            "Population: %s. Interpreter: %s. Medians, seconds." % (counts, python),
            "",
            "| case | old | new | new / old |",
            "|---|---|---|---|",
        ]
        for case in CASES:
            o, n = statistics.median(times[("old", case)]), statistics.median(times[("new", case)])
            lines.append("| %s | %.4f | %.4f | %.2f |" % (case, o, n, n / o))
        text = "\n".join(lines) + "\n\n"
        print(text)
        os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
        with open(os.path.join(HERE, "results", "ab.md"), "a", encoding="utf-8") as f:
            f.write(text)
    finally:
        if worktree is not None:
            subprocess.run(["git", "-C", TOP, "worktree", "remove", "--force", worktree], check=False)
            shutil.rmtree(worktree, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
