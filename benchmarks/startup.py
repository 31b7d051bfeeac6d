#!/usr/bin/env python3
"""Start-up: ``import procnet; procnet.listening("tcp")`` in a new process, over ``-c pass``.

    python3 benchmarks/startup.py                         # this checkout, every interpreter found
    python3 benchmarks/startup.py --lib /tmp/old --rounds 31

For each CPython 3.8-3.13 under pyenv and the machine's ``/usr/bin/python3``: the median
wall time of ``python -c pass`` and of ``python -c "import procnet;
procnet.listening('tcp')"`` (procnet from each tree, by ``PYTHONPATH``), alternating over
``--rounds``, and their difference (the target: at most 40 ms). Byte code is compiled
first (a warm-up run may write ``__pycache__``), as it is for an installed package; the
environment is emptied but for ``PATH``, so no start-up hook of the caller's runs. The
query does real work on this machine (reads its tables, scans its processes): the
machine's scale is printed with the figures.
"""

from __future__ import annotations

import argparse
import atexit
import glob
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
_EMPTY = tempfile.mkdtemp(prefix="procnet-cwd-")
atexit.register(os.rmdir, _EMPTY)
TOP = os.path.dirname(HERE)
QUERY = "import procnet; procnet.listening('tcp')"


def interpreters() -> List[str]:
    root = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip() if _has("pyenv") else ""
    found = []
    for minor in range(8, 14):
        paths = sorted(glob.glob(os.path.join(root or "/nonexistent", "versions", "3.%d.*" % minor, "bin", "python3")))
        if paths:
            found.append(paths[-1])
    if os.path.exists("/usr/bin/python3"):
        found.append("/usr/bin/python3")
    return found


def _has(tool: str) -> bool:
    return any(os.access(os.path.join(d, tool), os.X_OK) for d in os.environ.get("PATH", "").split(os.pathsep))


def _time(python: str, code: str, lib: str) -> float:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": lib}
    start = time.perf_counter()
    # cwd: an empty directory (``python -c`` puts the working directory ahead of PYTHONPATH)
    subprocess.run([python, "-c", code], env=env, check=True, stdout=subprocess.DEVNULL, cwd=_EMPTY)
    return time.perf_counter() - start


def scale() -> str:
    def lines(path: str) -> int:
        try:
            with open(path, "rb") as f:
                return max(0, f.read().count(b"\n") - 1)
        except OSError:
            return 0

    pids = [p for p in os.listdir("/proc") if p.isdigit()]
    fds = 0
    for pid in pids:
        try:
            fds += len(os.listdir("/proc/%s/fd" % pid))
        except OSError:
            pass
    return "%d tcp + %d tcp6 sockets, %d processes, %d descriptors" % (
        lines("/proc/net/tcp"), lines("/proc/net/tcp6"), len(pids), fds)


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lib", action="append", default=[], help="another tree holding procnet/ (repeatable)")
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--python", action="append", default=[], help="only these interpreters")
    args = ap.parse_args(argv)
    libs = [TOP] + [os.path.abspath(p) for p in args.lib]
    pythons = args.python or interpreters()
    print("Machine: %s. Medians of %d alternating rounds, ms." % (scale(), args.rounds))
    print()
    print("| interpreter | tree | -c pass | import procnet; listening('tcp') | over pass (target <= 40) |")
    print("|---|---|---|---|---|")
    for python in pythons:
        version = subprocess.run([python, "-c", "import sys; print(sys.version.split()[0])"],
                                 capture_output=True, text=True).stdout.strip()
        for lib in libs:  # compile the byte code once, as an installed package has it
            subprocess.run([python, "-c", QUERY], env={"PATH": "/usr/bin:/bin", "PYTHONPATH": lib},
                           check=True, stdout=subprocess.DEVNULL, cwd=_EMPTY)
        times: Dict[str, List[float]] = {"pass": []}
        times.update({lib: [] for lib in libs})
        for r in range(args.rounds):
            order = ["pass"] + libs
            for key in (order if r % 2 == 0 else order[::-1]):
                times[key].append(_time(python, "pass" if key == "pass" else QUERY, TOP if key == "pass" else key))
        base = statistics.median(times["pass"]) * 1000
        for lib in libs:
            query = statistics.median(times[lib]) * 1000
            print("| %s (%s) | %s | %.1f | %.1f | %.1f |" % (python, version, lib, base, query, query - base))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
