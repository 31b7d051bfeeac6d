#!/usr/bin/env python3
"""Row-by-row comparison of ``procnet lsof ARGS`` with the real ``lsof ARGS``.

    python3 tests/lsof_compare.py [--show N] [--column COL] [--] [LSOF ARGS...]

Runs the real lsof, then ``python3 -m procnet lsof`` from this checkout, with the same
arguments, and prints how many of lsof's rows procnet printed identically (every cell:
COMMAND PID TID TASKCMD USER FD mode lock TYPE DEVICE SIZE/OFF NODE NAME), which rows
are missing on either side, and for rows found on both sides (same PID, TID, FD and, for
rows without a descriptor number, NAME) which columns differ, with examples.

Cells are cut at the column edges the header gives (lsof right-aligns every column but
COMMAND, TASKCMD and NAME), so widths that differ between the two listings do not count
as differences. Rows of the two listing processes, of lsof's helper children (COMMAND
lsof) and of this script are left out (they are not the same processes in both runs). Exit status 0 when every row is identical.

Not a test: processes come and go between the two runs, so a live machine rarely gives
100 %; tests/test_cli_lsof_rows.py compares processes it starts.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
from typing import Counter, Dict, Iterable, List, Optional, Sequence, Tuple

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

COLUMNS = ("command", "pid", "tid", "taskcmd", "user", "fd", "mode", "lock", "type", "device",
           "size_off", "node", "name")
Cells = Tuple[str, ...]


def _title_end(header: str, title: str) -> int:
    """Index just past ``title`` in the header (-1 when absent)."""
    at = (" " + header + " ").find(" %s " % title)
    return -1 if at < 0 else at + len(title)


def split_rows(text: str) -> List[Cells]:
    """The rows of an lsof listing as tuples of :data:`COLUMNS`."""
    lines = text.split("\n")
    if not lines or not lines[0].startswith("COMMAND"):
        return []
    header = lines[0]
    ends = {t: _title_end(header, t) for t in ("PID", "TID", "USER", "FD", "TYPE", "DEVICE", "SIZE/OFF", "NODE")}
    rows = []
    for line in lines[1:]:
        if line:
            rows.append(_split_row(line, ends))
    return rows


def _split_row(line: str, ends: Dict[str, int]) -> Cells:
    command, _, pid = line[: ends["PID"]].rstrip().rpartition(" ")
    at = ends["PID"]
    tid = ""
    if ends["TID"] >= 0:
        tid, at = line[at : ends["TID"]].strip(), ends["TID"]
    words = line[at : ends["USER"]].split()
    taskcmd, user = (words[0], words[-1]) if len(words) > 1 else ("", words[-1] if words else "")
    fd_end = ends["FD"]
    fd, mode, lock = line[ends["USER"] : fd_end].strip(), line[fd_end : fd_end + 1].strip(), line[fd_end + 1 : fd_end + 2].strip()
    cells = [command.strip(), pid.strip(), tid, taskcmd, user, fd, mode, lock]
    at = fd_end + 2
    for title in ("TYPE", "DEVICE", "SIZE/OFF", "NODE"):
        cells.append(line[at : ends[title]].strip())
        at = ends[title]
    cells.append(line[at + 1 :])
    return tuple(cells)


def key(row: Cells) -> Tuple[str, ...]:
    """What identifies a row across the two listings: PID, TID, FD, and NAME for the
    rows without a descriptor number (cwd, mem...)."""
    fd = row[5]
    return (row[1], row[2], fd) if fd.isdigit() else (row[1], row[2], fd, row[12])


def run_both(args: Sequence[str], python: str = sys.executable, top: str = TOP) -> Tuple[str, str, List[int]]:
    """(lsof's output, procnet's output, the pids to leave out); ``top`` is the directory
    holding the ``procnet`` package to run."""
    real = subprocess.Popen(["lsof"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    theirs = real.communicate()[0].decode("utf-8", "surrogateescape")
    env = dict(os.environ, PYTHONPATH=top)
    ours_proc = subprocess.Popen([python, "-m", "procnet", "lsof"] + list(args), stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, env=env, cwd=top)
    ours = ours_proc.communicate()[0].decode("utf-8", "surrogateescape")
    return theirs, ours, [real.pid, ours_proc.pid, os.getpid()]


class Comparison:
    """The outcome of comparing two listings."""

    def __init__(self, theirs: Iterable[Cells], ours: Iterable[Cells], skip: Sequence[int] = (),
                 skip_commands: Sequence[str] = ("lsof",)) -> None:
        left_out = {str(pid) for pid in skip}
        keep = lambda r: r[1] not in left_out and r[0] not in skip_commands  # noqa: E731
        self.theirs = [r for r in theirs if keep(r)]
        self.ours = [r for r in ours if keep(r)]
        both: Counter[Cells] = collections.Counter(self.theirs) & collections.Counter(self.ours)
        self.identical = sum(both.values())
        mine = {key(r): r for r in self.ours}
        real = {key(r): r for r in self.theirs}
        self.missing = [r for k, r in real.items() if k not in mine]  # lsof's, not procnet's
        self.extra = [r for k, r in mine.items() if k not in real]  # procnet's, not lsof's
        self.differ: Dict[str, List[Tuple[Cells, Cells]]] = collections.defaultdict(list)
        for k, r in real.items():
            m = mine.get(k)
            if m is not None and m != r:
                for i, name in enumerate(COLUMNS):
                    if m[i] != r[i]:
                        self.differ[name].append((r, m))

    def report(self, show: int = 3, column: Optional[str] = None) -> str:
        out = ["identical rows: %d of lsof's %d (procnet printed %d)"
               % (self.identical, len(self.theirs), len(self.ours))]
        out.append("lsof rows procnet lacks: %d; procnet rows lsof lacks: %d" % (len(self.missing), len(self.extra)))
        for name in COLUMNS:
            pairs = self.differ.get(name, [])
            if pairs and (column is None or column == name):
                out.append("column %s differs in %d rows" % (name, len(pairs)))
                for r, m in pairs[:show]:
                    out.append("   lsof:    %s" % " | ".join(r))
                    out.append("   procnet: %s" % " | ".join(m))
        for title, rows in (("missing", self.missing), ("extra", self.extra)):
            for r in rows[:show]:
                out.append("%s: %s" % (title, " | ".join(r)))
        return "\n".join(out) + "\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--show", type=int, default=3, help="examples per differing column")
    p.add_argument("--column", choices=COLUMNS, help="show only this column's differences")
    p.add_argument("--procnet", default=TOP, help="the directory holding the procnet package to run "
                   "(another checkout, or `git archive HEAD | tar -x -C DIR`); default: this checkout")
    p.add_argument("args", nargs="*", help="lsof's arguments")
    o = p.parse_args(argv)
    theirs, ours, skip = run_both(o.args, top=o.procnet)
    c = Comparison(split_rows(theirs), split_rows(ours), skip)
    sys.stdout.write(c.report(o.show, o.column))
    return 0 if c.identical == len(c.theirs) == len(c.ours) else 1


if __name__ == "__main__":
    sys.exit(main())
