"""What ``procnet lsof`` takes from ``<pid>/mountinfo`` and ``<pid>/maps``: a mount's
device and type by mount id (for a descriptor's DEVICE, from fdinfo's ``mnt_id``), the
mount holding a path (for cwd and rtd), and the file-backed mappings (the ``mem`` rows).

Tolerant on purpose: a line that does not parse is skipped (the listing goes on without
that mount or mapping), where :mod:`procnet._parse.mountinfo` raises ParseError. No I/O.
"""

from __future__ import annotations

import os
from typing import Dict, List, NamedTuple, Optional, Set, Tuple


class Mount(NamedTuple):
    device: str  # "major,minor" as lsof prints it
    fstype: str
    point: str


def parse_mountinfo(data: bytes) -> Dict[int, Mount]:
    """mount id -> (device, fs type, mount point) from ``<pid>/mountinfo`` (proc(5))."""
    out: Dict[int, Mount] = {}
    for raw in data.split(b"\n"):
        fields = raw.split(b" ")
        if len(fields) < 10 or not fields[0].isdigit():
            continue
        try:
            sep = fields.index(b"-", 6)
        except ValueError:
            continue
        major, _, minor = fields[2].partition(b":")
        point = _unoctal(os.fsdecode(fields[4]))
        fstype = os.fsdecode(fields[sep + 1]) if sep + 1 < len(fields) else ""
        out[int(fields[0])] = Mount("%s,%s" % (major.decode(), minor.decode()), fstype, point)
    return out


def _unoctal(text: str) -> str:
    if "\\" not in text:
        return text
    out = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and text[i + 1 : i + 4].isdigit() and len(text[i + 1 : i + 4]) == 3:
            out.append(chr(int(text[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def mount_of_path(mounts: Dict[int, Mount], path: str) -> Optional[Mount]:
    """The mount whose point is the longest prefix of ``path`` (the last mounted on ties)."""
    best: Optional[Mount] = None
    best_len = -1
    for mid in sorted(mounts):
        m = mounts[mid]
        p = m.point
        if path == p or p == "/" or path.startswith(p.rstrip("/") + "/"):
            if len(p) >= best_len:
                best, best_len = m, len(p)
    return best


class MapEntry(NamedTuple):
    device: str  # "major,minor" as lsof prints it
    inode: int
    path: str  # without the " (deleted)" mark
    deleted: bool
    #: the first mapping's address range (``start-end``, hex), its name in ``map_files/``
    addresses: str = ""


def parse_maps(data: bytes) -> List[MapEntry]:
    """File-backed mappings of ``<pid>/maps``, first occurrence of each (device, inode)."""
    seen: Set[Tuple[str, int]] = set()
    out: List[MapEntry] = []
    for raw in data.split(b"\n"):
        parts = raw.split(None, 5)
        if len(parts) < 6 or not parts[5].startswith(b"/"):
            continue
        try:
            inode = int(parts[4])
            major, minor = (int(x, 16) for x in parts[3].split(b":"))
        except ValueError:
            continue
        if inode == 0:
            continue
        device = "%d,%d" % (major, minor)
        if (device, inode) in seen:
            continue
        seen.add((device, inode))
        path = os.fsdecode(parts[5])
        deleted = path.endswith(" (deleted)")
        path = path[: -len(" (deleted)")] if deleted else path
        out.append(MapEntry(device, inode, path, deleted, parts[0].decode("ascii", "replace")))
    return out
