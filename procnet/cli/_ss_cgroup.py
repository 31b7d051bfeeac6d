"""``ss -e``'s ``cgroup:``: a socket's cgroup id (``InetSocket.cgroup_id``) as a path.

As iproute2's ``lib/cg_map.c`` ``cg_id_to_path``: the cgroup2 hierarchy is the first
``cgroup2`` mount of the reader's mount table (``find_cgroup2_mount``; ss mounts none
when there is none, nor does procnet); the first id asked walks it, directories only
and not into other mounts (``nftw(..., FTW_MOUNT)``), and remembers each directory's
id by its path below the mount point (``/`` for the root). A cgroup's id is its
directory's inode number (kernfs: ``kernfs_id_ino``, on 64-bit kernels), which the
directory listing gives without a stat. An id not found is looked for once more in a
new walk (a cgroup made since), where ss asks the kernel with open_by_handle_at (which
needs CAP_DAC_READ_SEARCH); then it prints as ss prints it, ``unreachable:<hex id>``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Dict, List, Optional

from .._proc import cgroup2_ids as walk_ids
from .._proc import cgroup2_mount
from .render import escape_text

if TYPE_CHECKING:
    from .._proc import ProcFS


class CgroupPaths:
    """id -> ``cgroup:`` text, as ss's cg_id_to_path, escaped for the terminal."""

    def __init__(self, fs: "ProcFS") -> None:
        self._fs = fs
        self._mount: Optional[str] = None
        self._ids: Optional[Dict[int, str]] = None
        self._walks = 0

    def _mountinfo(self) -> Optional[str]:
        from .._errors import ProcNetError

        try:
            with self._fs.process(os.getpid()) as proc:
                return proc.read("mountinfo").decode("utf-8", "surrogateescape")
        except (OSError, ProcNetError):
            return None

    def _walk(self) -> Dict[int, str]:
        self._walks += 1
        stored = self._fs.stored_cgroup_paths()
        if stored is not None:  # a capture: the map it stored
            return stored
        if self._walks == 1:
            try:
                self._mount = cgroup2_mount(self._mountinfo())
            except ValueError:  # a mountinfo line procnet cannot read: no mount found
                self._mount = None
        return walk_ids(self._mount) if self._mount else {}

    def __call__(self, cgroup_id: int) -> str:
        if self._ids is None:
            self._ids = self._walk()
        path = self._ids.get(cgroup_id)
        if path is None and self._walks == 1 and self._mount:
            self._ids = self._walk()  # a cgroup made since the first walk
            path = self._ids.get(cgroup_id)
        if path is None:
            return "unreachable:%x" % cgroup_id
        return escape_text(path)


__all__ = ["CgroupPaths", "cgroup2_mount", "walk_ids"]
