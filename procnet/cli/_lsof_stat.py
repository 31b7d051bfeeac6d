"""When ``procnet lsof`` may stat() what a process has open, and the stat itself.

lsof fills TYPE, DEVICE, SIZE/OFF and NODE from a stat() of ``<pid>/fd/<n>`` (the magic
link, which leads to the open file itself: no path is walked), of ``cwd``, ``root`` and
``exe``, and of each mapped file. procnet does the same, on the live proc only (a
capture's links are plain symlinks that would lead into this machine's files), and
only where the stat cannot block: a stat on a network or FUSE file system waits for its
server, which may never answer. The target is never opened.

:class:`StatPolicy` decides, from ``mountinfo``'s file system types:

* a descriptor (``fd/<n>``): its ``mnt_id`` (fdinfo) names a mount whose type is local
  (:func:`is_local_fstype`); or its link text is not a path (``pipe:[..]``,
  ``socket:[..]``, ``anon_inode:..``, ``net:[..]``: the kernel writes such text only for
  its own pseudo file systems, fs/d_path.c d_dname); or the mount id is that of the
  kernel's internal tmpfs (memfd, SysV shm), learnt from a memfd procnet makes and
  closes at once. A path whose mount is in no ``mountinfo`` (a mount detached with
  ``umount -l``, say) is not stat()ed.
* a mapped file and ``exe``: the device ``maps`` gives belongs to local mounts only (or
  to the internal tmpfs). Mapped files are stat()ed through ``map_files/<range>`` (the
  mapping itself, no path walked; root only), where lsof stats the path.
* ``cwd`` and ``root``: every mount of the process's namespace is local, or the
  process sees the same mounts from the same root as procnet and the mount holding the
  path (longest prefix) is local.

Unknown file system types count as not local. :data:`NETWORK_FS_TYPES` lists the types
known to block, for the tests and the reader; ``fuse`` and every ``fuse.*`` type are
never local.
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING, Dict, FrozenSet, Iterable, List, NamedTuple, Optional, Tuple

from .._errors import ProcNetError
from ._lsof_mounts import Mount, mount_of_path

if TYPE_CHECKING:
    from .._proc import ProcFS

#: File system types a stat() cannot block on: disks, memory, and the kernel's own.
LOCAL_FS_TYPES: FrozenSet[str] = frozenset((
    "ext2", "ext3", "ext4", "xfs", "btrfs", "bcachefs", "f2fs", "jfs", "reiserfs", "nilfs2", "zfs",
    "vfat", "msdos", "exfat", "ntfs", "ntfs3", "hfs", "hfsplus", "iso9660", "udf", "squashfs", "erofs",
    "cramfs", "romfs", "minix", "zonefs", "overlay", "tmpfs", "ramfs", "rootfs", "devtmpfs", "hugetlbfs",
    "proc", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2", "bpf", "debugfs", "tracefs", "securityfs",
    "pstore", "configfs", "efivarfs", "binfmt_misc", "fusectl", "nsfs", "pipefs", "sockfs", "selinuxfs",
    "anon_inodefs", "pidfs",  # not autofs: a stat there may mount a network file system
))

#: Types whose stat() waits for a server or a user-space daemon (never stat()ed; the
#: list documents and tests the rule, which also refuses every type not in
#: :data:`LOCAL_FS_TYPES`).
NETWORK_FS_TYPES: FrozenSet[str] = frozenset((
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "ncpfs", "9p", "ceph", "glusterfs", "fuse", "fuseblk",
    "afs", "coda", "lustre", "gfs2", "ocfs2", "gpfs", "beegfs", "orangefs", "pvfs2", "davfs", "virtiofs",
    "vboxsf", "vmhgfs", "autofs", "rpc_pipefs", "nfsd",
))


def is_local_fstype(fstype: str) -> bool:
    """True when a stat() on a file system of this type cannot wait for a server.

    >>> is_local_fstype("ext4"), is_local_fstype("nfs4"), is_local_fstype("fuse.sshfs"), is_local_fstype("newfs")
    (True, False, False, False)
    """
    if fstype in NETWORK_FS_TYPES or fstype == "fuse" or fstype.startswith(("fuse.", "fuseblk")):
        return False
    return fstype in LOCAL_FS_TYPES


class FileStat(NamedTuple):
    """What lsof takes from a stat(): the mode, the devices and inode, the size."""

    mode: int
    dev: int
    rdev: int
    ino: int
    size: int


def stat_path(path: str, follow: bool = True) -> Tuple[Optional[FileStat], Optional[OSError]]:
    """stat() of ``path`` (following a last link, the magic ones of ``/proc`` included,
    unless ``follow`` is false); (None, the error) when it fails."""
    try:
        st = os.stat(path, follow_symlinks=follow)
    except OSError as exc:
        return None, exc
    return FileStat(st.st_mode, st.st_dev, st.st_rdev, st.st_ino, st.st_size), None


def sockprotoname(path: str) -> Optional[str]:
    """The ``system.sockprotoname`` extended attribute of the socket ``path`` leads to
    (net/socket.c sockfs_xattr_handler: the protocol's name, ``TCP``, ``NETLINK``...);
    getxattr() follows the link as lsof's does, and opens nothing. None when absent."""
    getxattr = getattr(os, "getxattr", None)
    if getxattr is None:
        return None
    try:
        value = getxattr(path, "system.sockprotoname")
    except OSError:
        return None
    text = value.split(b"\0", 1)[0].decode("ascii", "replace")
    return text or None


def device_text(dev: int) -> str:
    """A device number as lsof prints it: ``major,minor``."""
    return "%d,%d" % (os.major(dev), os.minor(dev))


_TYPES: Dict[int, str] = {
    stat.S_IFBLK: "BLK", stat.S_IFCHR: "CHR", stat.S_IFDIR: "DIR", stat.S_IFIFO: "FIFO",
    stat.S_IFREG: "REG", stat.S_IFLNK: "LINK", stat.S_IFSOCK: "sock",
}


def lsof_type(mode: int, anon_inode: bool = False, mqueue: bool = False) -> str:
    """TYPE as lsof 4.95 prints it for a stat()ed file (dialects/linux/dnode.c
    process_proc_node): ``a_inode`` for an anonymous inode (no type bits), ``PSXMQ`` for
    a regular file of the mqueue file system, the type bits in octal when unknown.

    >>> lsof_type(0o100644), lsof_type(0o600, anon_inode=True), lsof_type(0o600)
    ('REG', 'a_inode', '0000')
    """
    fmt = stat.S_IFMT(mode)
    if fmt == stat.S_IFREG and mqueue:
        return "PSXMQ"
    name = _TYPES.get(fmt)
    if name is not None:
        return name
    if fmt == 0 and anon_inode:
        return "a_inode"
    return "%04o" % ((fmt >> 12) & 0xF)


def is_device_or_fifo(mode: int) -> bool:
    """lsof prints an offset, not a size, for these (and the device's own number)."""
    return stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode)


class StatPolicy:
    """Which targets of one run may be stat()ed (see the module docstring).

    ``internal_mounts`` and ``internal_devices`` are the mount ids and devices (``"0,1"``)
    of the kernel's internal tmpfs; ``own_view`` is procnet's mount namespace link
    (``ns/mnt``), to tell whether a process sees the mounts as procnet does.
    """

    def __init__(
        self,
        internal_mounts: Iterable[int] = (),
        internal_devices: Iterable[str] = (),
        own_view: Optional[str] = None,
    ) -> None:
        self.internal_mounts = frozenset(internal_mounts)
        self.internal_devices = frozenset(internal_devices)
        self.own_view = own_view

    def descriptor(self, target: str, mnt_id: Optional[int], mounts: Dict[int, Mount]) -> bool:
        """May ``fd/<n>`` with this link text and fdinfo ``mnt_id`` be stat()ed?"""
        if not target.startswith("/"):
            return True  # d_dname text: a pseudo file system of the kernel's own
        if mnt_id is None:
            return False
        mount = mounts.get(mnt_id)
        if mount is None:
            return mnt_id in self.internal_mounts
        return is_local_fstype(mount.fstype)

    def device(self, device: str, mounts: Dict[int, Mount]) -> bool:
        """May a mapped file (or ``exe``) on ``device`` (``"major,minor"``) be stat()ed?"""
        if device in self.internal_devices:
            return True
        found = [m for m in mounts.values() if m.device == device]
        return bool(found) and all(is_local_fstype(m.fstype) for m in found)

    def path(self, path: str, mounts: Dict[int, Mount], view: Optional[str], root: Optional[str]) -> bool:
        """May ``cwd`` or ``root`` (readlink text ``path``) be stat()ed? ``view`` is the
        process's ``ns/mnt`` link, ``root`` its ``root`` link text."""
        if not mounts:
            return False
        if all(is_local_fstype(m.fstype) for m in mounts.values()):
            return True
        if view is None or view != self.own_view or root != "/":
            return False  # its paths and its mount points are not comparable with ours
        mount = mount_of_path(mounts, path)
        return mount is not None and is_local_fstype(mount.fstype)


def live_policy(fs: ProcFS) -> Optional[StatPolicy]:
    """The policy for a run on ``fs``; None (stat nothing) unless it is the live proc.

    The internal tmpfs is recognised by a memfd procnet creates, reads the fdinfo of and
    closes (it never touches a file system)."""
    if not fs.is_live():
        return None
    from .._parse.process import parse_fdinfo

    mounts: List[int] = []
    devices: List[str] = []
    view: Optional[str] = None
    try:
        with fs.process(os.getpid()) as own:
            view = own.readlink("ns/mnt")
            memfd_create = getattr(os, "memfd_create", None)
            if memfd_create is not None:
                fd = memfd_create("procnet-probe", getattr(os, "MFD_CLOEXEC", 1))
                try:
                    mounts.append(int(parse_fdinfo(own.read("fdinfo/%d" % fd))["mnt_id"]))
                    devices.append(device_text(os.fstat(fd).st_dev))
                finally:
                    os.close(fd)
    except (ProcNetError, OSError, KeyError, ValueError):
        pass  # no internal tmpfs known: memfds are not stat()ed
    return StatPolicy(mounts, devices, view)
