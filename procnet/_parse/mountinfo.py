"""Parser for ``/proc/<pid>/mountinfo`` (fs/proc_namespace.c show_mountinfo). No I/O here.

One line per mount, fields separated by single spaces::

    36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue
    (1)(2) (3)   (4)     (5)        (6)      (7...)  (8) (9)   (10)       (11)

mount id, parent id, ``major:minor`` of the file system (its ``st_dev``), root of the
mount within the file system, mount point, per-mount options, zero or more optional
tagged fields (``shared:N``, ``master:N``, ``propagate_from:N``, ``unbindable``), a
lone ``-``, the file-system type, the source, the per-super-block options. Paths and
names are printed with space, tab, newline and backslash as ``\\ooo`` octal escapes
(seq_path / mangle), so no field holds a space.

Several mounts can share a mount point: a second proc instance mounted over ``/proc``
(systemd's ``ProtectProc=invisible`` does this, with ``hidepid=invisible``) is listed
after the one it covers. The mount that serves a path is the one whose file system is
the path's: :func:`proc_mount_options` picks the proc line by the device number that
``stat()`` of the root gives, never by the mount point.
"""

from __future__ import annotations

import re
from typing import List, NamedTuple, Optional, Tuple

from .._errors import ParseError

_ESCAPE = re.compile(r"\\([0-7]{3})")
_ID = re.compile(r"[0-9]{1,10}\Z")
_DEVICE = re.compile(r"([0-9]{1,10}):([0-9]{1,10})\Z")


class Mount(NamedTuple):
    """One line of mountinfo; paths and names with their octal escapes decoded."""

    mount_id: int
    parent_id: int
    major: int
    minor: int
    root: str
    mount_point: str
    options: Tuple[str, ...]
    tags: Tuple[str, ...]
    fstype: str
    source: str
    super_options: Tuple[str, ...]


def _unescape(text: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), text) if "\\" in text else text


def parse_mountinfo_line(line: str, *, path: str = "mountinfo", lineno: Optional[int] = None) -> Mount:
    """One mountinfo line (without its newline) as a :class:`Mount`.

    >>> parse_mountinfo_line("22 27 0:21 / /proc rw,relatime - proc proc rw,hidepid=invisible").super_options
    ('rw', 'hidepid=invisible')
    """
    fields = line.split(" ")
    # the separator is the first lone "-" after the six fixed fields (no field before
    # it can be "-": ids and a device are numbers, root and mount point are paths)
    try:
        sep = fields.index("-", 6)
    except ValueError:
        raise ParseError("no ' - ' separator after the six fixed fields", path=path, lineno=lineno, line=line) from None
    if len(fields) != sep + 4:
        raise ParseError("expected file-system type, source and super options after ' - ', got %d fields"
                         % (len(fields) - sep - 1), path=path, lineno=lineno, line=line)
    device = _DEVICE.match(fields[2])
    if not _ID.match(fields[0]) or not _ID.match(fields[1]) or device is None:
        raise ParseError("expected mount id, parent id and major:minor, got %r" % " ".join(fields[:3]),
                         path=path, lineno=lineno, line=line)
    return Mount(
        int(fields[0]),
        int(fields[1]),
        int(device.group(1)),
        int(device.group(2)),
        _unescape(fields[3]),
        _unescape(fields[4]),
        tuple(fields[5].split(",")),
        tuple(fields[6:sep]),
        _unescape(fields[sep + 1]),
        _unescape(fields[sep + 2]),
        tuple(fields[sep + 3].split(",")),
    )


def parse_mountinfo(text: str, *, path: str = "mountinfo") -> List[Mount]:
    """Every line of a mountinfo file. A malformed line is a :class:`ParseError` naming it."""
    return [
        parse_mountinfo_line(line, path=path, lineno=lineno)
        for lineno, line in enumerate(text.split("\n"), 1)
        if line
    ]


def proc_mount_options(text: str, device: Tuple[int, int], *, path: str = "mountinfo") -> Optional[List[str]]:
    """The super-block options of the proc mount whose file system is ``device``
    (``(major, minor)`` of the root's ``st_dev``), or None when no proc line has it.

    Every proc instance has its own anonymous device, so the line is found by device, not
    by mount point (which a second instance mounted on top shares). Bind mounts of one
    instance share its device and its super-block options; the last such line is taken.

    >>> text = ("22 27 0:21 / /proc rw - proc proc rw\\n"
    ...         "95 22 0:48 / /proc rw - proc proc rw,hidepid=invisible\\n")
    >>> proc_mount_options(text, (0, 48))
    ['rw', 'hidepid=invisible']
    """
    found: Optional[List[str]] = None
    for mount in parse_mountinfo(text, path=path):
        if (mount.major, mount.minor) == device and mount.fstype == "proc":
            found = list(mount.super_options)
    return found


__all__ = ["Mount", "parse_mountinfo", "parse_mountinfo_line", "proc_mount_options"]
