"""Scale: a 1,000,000-line tcp6 table parses through the iterator form with flat memory.

The table is made by string templating (one distinct socket per line). A subprocess
reads it through ``procnet.iter_sockets(proto="tcp6", root=..., owners=False)`` and
notes its resident memory after 100,000 and after 1,000,000 records: the records are
dropped as they come, so past the input text nothing may grow with the number consumed.
A second measure uses tracemalloc on a smaller table (tracemalloc slows every allocation
tenfold), with the peak after 140,000 rows (the parser's bounded state is full by then:
65,536-entry address caches, two generations of 65,536 recent inodes for de-duplication)
and after 270,000. The same table with inode 0 on every row (TIME_WAIT lines, never
de-duplicated) is the control.

History: this suite first found the parser keeping a set of every inode it had yielded
(~60 bytes a record, ~55 MB more resident at 1M than at 100k records); the parser now
remembers only recent inodes (procnet/_parse/_common.py RecentInodes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any, Dict

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

HEADER = (
    "  sl  local_address                         remote_address                        st tx_queue "
    "rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
)
# net/ipv6/tcp_ipv6.c get_tcp6_sock: a full ESTABLISHED socket over IPv4-mapped loopback
ROW = (
    "%6d: 0000000000000000FFFF00000100007F:%04X 0000000000000000FFFF00000100007F:%04X 01 "
    "00000000:00000000 00:00000000 00000000  1000        0 %d 1 0000000000000000 20 4 30 10 -1\n"
)
# get_timewait6_sock: no uid, no inode
TW_ROW = (
    "%6d: 0000000000000000FFFF00000100007F:%04X 0000000000000000FFFF00000100007F:%04X 06 "
    "00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000\n"
)

SCRIPT = r"""
import json, sys, time, tracemalloc
sys.path.insert(0, sys.argv[1])
root, n, kind, how = sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
import procnet

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096

# tracemalloc: first mark past the parser's bounded state (65,536-entry address caches,
# two generations of 65,536 recent inodes), so that what follows may not grow at all
first = n // 10 if how == "rss" else 140000
marks = {first: None, n: None}
count = 0
start = time.time()
if how == "tracemalloc":
    with open(root + "/net/tcp6", "rb") as f:
        data = f.read()
    tracemalloc.start()
    it = procnet.parse_inet(data, "tcp6", byteorder="little")
    measure = lambda: tracemalloc.get_traced_memory()[1]
else:
    it = procnet.iter_sockets("tcp6", root=root, owners=False)
    measure = rss
for rec in it:
    count += 1
    if count in marks:
        marks[count] = measure()
print(json.dumps({"count": count, "marks": marks, "seconds": time.time() - start}))
"""


def _table(path: str, n: int, kind: str) -> None:
    os.makedirs(os.path.join(path, "net"), exist_ok=True)
    row = ROW if kind == "inodes" else TW_ROW
    with open(os.path.join(path, "net", "tcp6"), "w") as f:
        f.write(HEADER)
        step = 100000
        for base in range(0, n, step):
            if kind == "inodes":
                f.write("".join([row % (i, i & 0xFFFF, (i >> 16) + 1, 1000000 + i) for i in range(base, min(n, base + step))]))
            else:
                f.write("".join([row % (i, i & 0xFFFF, (i >> 16) + 1) for i in range(base, min(n, base + step))]))


def _measure(tmp_path: Any, n: int, kind: str, how: str) -> Dict[str, Any]:
    root = str(tmp_path / ("root-%s-%d" % (kind, n)))
    _table(root, n, kind)
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, ROOT, root, str(n), kind, how],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=240,
    )
    os.remove(os.path.join(root, "net", "tcp6"))
    assert run.returncode == 0, run.stderr.decode(errors="replace")[-2000:]
    out: Dict[str, Any] = json.loads(run.stdout)
    out["marks"] = {int(k): v for k, v in out["marks"].items()}
    print("\n%s %s %d: %s" % (how, kind, n, out))
    return out


MB = 1 << 20
MILLION = 1_000_000


@pytest.mark.slow
def test_million_line_table_without_inodes_is_flat_in_rss(tmp_path: Any) -> None:
    out = _measure(tmp_path, MILLION, "timewait", "rss")
    assert out["count"] == MILLION
    growth = out["marks"][MILLION] - out["marks"][MILLION // 10]
    assert growth < 8 * MB, "resident memory grew %.1f MB from 100k to 1M records" % (growth / MB)


@pytest.mark.slow
def test_million_line_table_is_flat_in_rss(tmp_path: Any) -> None:
    out = _measure(tmp_path, MILLION, "inodes", "rss")
    assert out["count"] == MILLION
    growth = out["marks"][MILLION] - out["marks"][MILLION // 10]
    assert growth < 8 * MB, "resident memory grew %.1f MB from 100k to 1M records" % (growth / MB)


@pytest.mark.slow
def test_tracemalloc_peak_does_not_grow_with_records(tmp_path: Any) -> None:
    n = 270_000
    out = _measure(tmp_path, n, "inodes", "tracemalloc")
    assert out["count"] == n
    growth = out["marks"][n] - out["marks"][140000]
    assert growth < 1.5 * MB, "tracemalloc peak grew %.1f MB from 140k to %d records" % (growth / MB, n)


@pytest.mark.slow
def test_tracemalloc_peak_without_inodes_does_not_grow(tmp_path: Any) -> None:
    n = 270_000
    out = _measure(tmp_path, n, "timewait", "tracemalloc")
    assert out["count"] == n
    growth = out["marks"][n] - out["marks"][140000]
    assert growth < 1.5 * MB, "tracemalloc peak grew %.1f MB from 140k to %d records" % (growth / MB, n)
