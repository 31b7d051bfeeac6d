"""Capture: write the proc tree procnet reads, so the answer can be read again elsewhere.

``capture(DIR)`` copies, under a new directory, exactly what procnet reads: the socket
tables (of the caller's namespace, or of every namespace), and for every process its fd
links (as ordinary symlinks with the same target text), the fdinfo of its socket
descriptors, comm, cmdline, status and its ``ns/net`` link, plus a manifest (kernel
release, byte order, time, what could not be read). ``procnet.sockets(root=DIR)`` on
the capture gives the answer the live machine gave. It is a support bundle ("who held
which port"), and how procnet's fixtures are made.
"""

from __future__ import annotations

import datetime
import json
from typing import Any, Dict, List, Optional, Tuple, Union

from ._errors import ProcNetError
from ._owners import _is_kernel_thread, _thread_sockets
from ._parse._common import INET_TABLES
from ._parse.process import ns_inode
from ._proc import DEFAULT_ROOT, MANIFEST, Denied, Gone, ProcessDir, ProcFS

_TABLES = tuple(INET_TABLES) + ("unix",)
_PROCESS_FILES = ("comm", "cmdline", "status", "stat")


class CaptureError(ProcNetError):
    """The capture directory cannot be written (it exists and is not empty...)."""


def _write_process(proc: ProcessDir, dest: str, all_fdinfo: bool) -> None:
    out = "%s/%d" % (dest, proc.pid)
    # Read everything first, so that a process that exits half way leaves nothing behind.
    files = {name: proc.read(name) for name in _PROCESS_FILES}
    names = proc.fds()
    links: Dict[str, str] = {}
    for name in names:
        target = proc.fd_target(name)
        if target is not None:
            links[name] = target
    fdinfo: Dict[str, bytes] = {}
    for name, target in links.items():
        if all_fdinfo or target.startswith("socket:["):
            try:
                fdinfo[name] = proc.read("fdinfo/" + name)
            except Gone:
                continue
    try:
        ns_link: Optional[str] = proc.readlink("ns/net")
    except Denied:
        ns_link = None
    # Threads with a descriptor table of their own: copy their socket links too.
    thread_links: Dict[int, Dict[str, Tuple[str, bytes]]] = {}
    for tid in sorted({t for _, _, t in _thread_sockets(proc, names, [], None) if t is not None}):
        try:
            with proc.task(tid) as task:
                own: Dict[str, Tuple[str, bytes]] = {}
                for name in task.fds():
                    target = task.fd_target(name)
                    if target is not None and target.startswith("socket:["):
                        own[name] = (target, task.read("fdinfo/" + name))
                thread_links[tid] = own
        except (Gone, Denied):
            continue
    ProcFS.make_dirs(out + "/fd")
    ProcFS.make_dirs(out + "/fdinfo")
    ProcFS.make_dirs(out + "/ns")
    for name, data in files.items():
        ProcFS.write_file("%s/%s" % (out, name), data)
    for name, target in links.items():
        ProcFS.write_link("%s/fd/%s" % (out, name), target)
    for name, data in fdinfo.items():
        ProcFS.write_file("%s/fdinfo/%s" % (out, name), data)
    if ns_link is not None:
        ProcFS.write_link(out + "/ns/net", ns_link)
    if thread_links:
        ProcFS.make_dirs("%s/task/%d/fd" % (out, proc.pid))
        for tid, own in thread_links.items():
            base = "%s/task/%d" % (out, tid)
            ProcFS.make_dirs(base + "/fd")
            ProcFS.make_dirs(base + "/fdinfo")
            for name, (target, info) in own.items():
                ProcFS.write_link("%s/fd/%s" % (base, name), target)
                ProcFS.write_file("%s/fdinfo/%s" % (base, name), info)


def capture(
    dest: str,
    *,
    root: str = DEFAULT_ROOT,
    netns: Union[None, str, int] = None,
    all_fdinfo: bool = False,
) -> Dict[str, Any]:
    """Write a capture of ``root`` to the new directory ``dest``; return its manifest.

    ``netns``: None (the namespace of ``<root>/net``), ``"all"`` (every namespace a
    process is in, each read through one member), or a pid. ``all_fdinfo`` keeps the
    fdinfo of every descriptor, not only sockets'.

    >>> import procnet
    >>> procnet.capture("/tmp/bundle")["kernel"]  # doctest: +SKIP
    '6.18.44'
    """
    fs = ProcFS(root)
    if not ProcFS.is_empty_dir_or_missing(dest):
        raise CaptureError("capture directory %s exists and is not empty" % dest)
    ProcFS.make_dirs(dest)
    unreadable: List[str] = []
    denied: List[int] = []
    vanished: List[int] = []
    namespaces: Dict[str, Any] = {}

    def copy_tables(pid: Optional[int], where: str) -> List[str]:
        copied = []
        for table in _TABLES:
            try:
                data = fs.read_net_table(table, pid)
            except (Gone, Denied) as exc:
                unreadable.append("%s: %s" % (fs.path(pid, "net", table) if pid else fs.path("net", table), exc))
                continue
            if data is None:
                continue
            ProcFS.make_dirs(where)
            ProcFS.write_file("%s/%s" % (where, table), data)
            copied.append(table)
        return copied

    self_link = fs.self_netns_link()
    self_ns = ns_inode(self_link) if self_link else None
    if isinstance(netns, int) and not isinstance(netns, bool):
        main_tables = copy_tables(netns, dest + "/net")
        try:
            with fs.process(netns) as proc:
                self_ns = ns_inode(proc.readlink("ns/net"))
        except (Gone, Denied):
            self_ns = None
    elif netns is None or netns == "self":
        main_tables = copy_tables(None, dest + "/net")
    elif netns == "all":
        main_tables = copy_tables(None, dest + "/net")
    else:
        raise ValueError("netns= takes None, 'all' or a pid, not %r" % (netns,))

    members: Dict[int, List[int]] = {}
    for pid in fs.pids():
        try:
            with fs.process(pid) as proc:
                try:
                    _write_process(proc, dest, all_fdinfo)
                except Denied:
                    if not _is_kernel_thread(proc):
                        denied.append(pid)
                    continue
                try:
                    ns = ns_inode(proc.readlink("ns/net"))
                except (Gone, Denied):
                    ns = None
                if ns is not None:
                    members.setdefault(ns, []).append(pid)
        except Gone:
            vanished.append(pid)
        except Denied:
            denied.append(pid)
    if netns == "all":
        for ns, pids in sorted(members.items()):
            for pid in pids:
                copied = copy_tables(pid, "%s/%d/net" % (dest, pid))
                if copied:
                    namespaces[str(ns)] = {"pid": pid, "tables": copied}
                    break

    manifest: Dict[str, Any] = {
        "procnet_capture": 1,
        "description": "procnet capture of %s" % root,
        "kernel": ProcFS.kernel_release(),
        "byteorder": fs.byteorder,
        "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "clock_ticks": ProcFS.clock_ticks(),
        "root": root,
        "euid": ProcFS.euid(),
        "netns": self_ns,
        "tables": main_tables,
        "namespaces": namespaces,
        "denied": sorted(set(denied) | set(fs.recorded_denied())),
        "vanished": vanished,
        "hidden_processes": fs.hides_processes(),
        "unreadable": unreadable,
        "owners": True,
        "ip_local_port_range": list(fs.local_port_range()),
    }
    ProcFS.write_file(dest + "/" + MANIFEST, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    return manifest
