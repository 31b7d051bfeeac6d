"""Capture: write the proc tree procnet reads, so the answer can be read again elsewhere.

``capture(DIR)`` copies, under a new directory, exactly what procnet reads: the socket
tables (of the caller's namespace, or of every namespace), and for every process its fd
links (as ordinary symlinks with the same target text), the fdinfo of its socket
descriptors, comm, cmdline, status and its ``ns/net`` link, plus a manifest (kernel
release, byte order, time, what could not be read). ``procnet.sockets(root=DIR)`` on
the capture gives the answer the live machine gave. It is a support bundle ("who held
which port"), and how procnet's fixtures are made.

Everything is read here and written through :class:`procnet._bundle.BundleWriter`, which
writes only into a directory it made or one the caller owns alone, never through a link,
directories 0700 and files 0600 (the fd links and fdinfo of every process are no more
readable in the bundle than under ``/proc``). A link or file planted in the bundle while it
is written stops the capture with a :class:`CaptureError` naming it: the bundle is then
incomplete and is left as it is, for the caller to inspect and remove.
"""

from __future__ import annotations

import datetime
import json
from typing import Any, Dict, List, Optional, Tuple, Union

from ._bundle import BundleDir, BundleWriter, CaptureError
from ._owners import _is_kernel_thread, thread_tables
from ._parse._common import INET_TABLES
from ._parse.process import ns_inode
from ._proc import DEFAULT_ROOT, MANIFEST, Denied, Gone, ProcessDir, ProcFS

_TABLES = tuple(INET_TABLES) + ("unix",)
_PROCESS_FILES = ("comm", "cmdline", "status", "stat")


def _write_process(fs: ProcFS, proc: ProcessDir, top: BundleDir, all_fdinfo: bool) -> Tuple[bool, bool]:
    """Copy one process; (whether some of its threads could not be checked for descriptor
    tables of their own, whether entries of its fd directory were skipped)."""
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
    # Threads with a descriptor table of their own (one thread per table): copy their
    # socket links too; a reader of the bundle takes every thread directory as a table.
    tids, unverified = thread_tables(fs, proc, names)
    thread_links: Dict[int, Dict[str, Tuple[str, bytes]]] = {}
    for tid in sorted(tids):
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
    with top.directory(str(proc.pid)) as out:
        for name, data in files.items():
            out.write_file(name, data)
        with out.directory("fd") as fd_dir:
            for name, target in links.items():
                fd_dir.write_link(name, target)
        with out.directory("fdinfo") as fdinfo_dir:
            for name, data in fdinfo.items():
                fdinfo_dir.write_file(name, data)
        with out.directory("ns") as ns_dir:
            if ns_link is not None:
                ns_dir.write_link("net", ns_link)
        if thread_links:
            with out.directory("task") as tasks:
                with tasks.directory(str(proc.pid)) as leader:
                    leader.directory("fd").close()
                for tid, own in thread_links.items():
                    with tasks.directory(str(tid)) as thread:
                        with thread.directory("fd") as fd_dir, thread.directory("fdinfo") as fdinfo_dir:
                            for name, (target, info) in own.items():
                                fd_dir.write_link(name, target)
                                fdinfo_dir.write_file(name, info)
    return unverified, bool(proc.skipped)


def capture(
    dest: str,
    *,
    root: str = DEFAULT_ROOT,
    netns: Union[None, str, int] = None,
    all_fdinfo: bool = False,
) -> Dict[str, Any]:
    """Write a capture of ``root`` to the directory ``dest``; return its manifest.

    ``dest`` is made (mode 0700) in its parent, which must exist; or it is an existing
    directory that is empty, not a symlink, owned by the caller's effective uid and not
    writable by group or others. Anything else is a :class:`CaptureError` that says what
    is wrong. Every directory of the bundle is 0700 and every file 0600, whatever the
    umask, and nothing is written through a link (see ``procnet/_bundle.py``).

    ``netns``: None (the namespace of ``<root>/net``), ``"all"`` (every namespace a
    process is in, each read through one member), or a pid. ``all_fdinfo`` keeps the
    fdinfo of every descriptor, not only sockets'.

    >>> import procnet
    >>> procnet.capture("/tmp/bundle")["kernel"]  # doctest: +SKIP
    '6.18.44'
    """
    if not (netns is None or netns in ("self", "all") or (isinstance(netns, int) and not isinstance(netns, bool))):
        raise ValueError("netns= takes None, 'all' or a pid, not %r" % (netns,))
    fs = ProcFS(root)
    with BundleWriter(dest) as top:
        return _capture_into(top, fs, root, netns, all_fdinfo)


def _capture_into(
    top: BundleDir, fs: ProcFS, root: str, netns: Union[None, str, int], all_fdinfo: bool
) -> Dict[str, Any]:
    unreadable: List[str] = []
    denied: List[int] = []
    vanished: List[int] = []
    namespaces: Dict[str, Any] = {}

    def read_tables(pid: Optional[int]) -> Dict[str, bytes]:
        tables: Dict[str, bytes] = {}
        for table in _TABLES:
            try:
                data = fs.read_net_table(table, pid)
            except (Gone, Denied) as exc:
                unreadable.append("%s: %s" % (fs.path(pid, "net", table) if pid else fs.path("net", table), exc))
                continue
            if data is not None:
                tables[table] = data
        return tables

    def write_tables(where: BundleDir, tables: Dict[str, bytes]) -> List[str]:
        if tables:
            with where.directory("net") as net:
                for table, data in tables.items():
                    net.write_file(table, data)
        return list(tables)

    self_link = fs.self_netns_link()
    self_ns = ns_inode(self_link) if self_link else None
    if isinstance(netns, int) and not isinstance(netns, bool):
        main_tables = write_tables(top, read_tables(netns))
        try:
            with fs.process(netns) as proc:
                self_ns = ns_inode(proc.readlink("ns/net"))
        except (Gone, Denied):
            self_ns = None
    else:
        main_tables = write_tables(top, read_tables(None))

    members: Dict[int, List[int]] = {}
    unverified: List[int] = []
    malformed: List[int] = []
    for pid in fs.pids():
        try:
            with fs.process(pid) as proc:
                try:
                    unchecked, odd = _write_process(fs, proc, top, all_fdinfo)
                except Denied:
                    if not _is_kernel_thread(proc):
                        denied.append(pid)
                    continue
                if unchecked:
                    unverified.append(pid)
                if odd:
                    malformed.append(pid)
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
                tables = read_tables(pid)
                if tables:
                    with top.directory(str(pid)) as process_dir:
                        copied = write_tables(process_dir, tables)
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
        # what a reader cannot find out from the bundle (procnet._owners.ScanReport)
        "initial_pid_namespace": fs.initial_pid_namespace(),
        "unverified_threads": sorted(set(unverified) | set(fs.recorded_pids("unverified_threads"))),
        "malformed": sorted(set(malformed) | set(fs.recorded_pids("malformed"))),
        "unreadable": unreadable,
        "owners": True,
        "ip_local_port_range": list(fs.local_port_range()),
    }
    top.write_file(MANIFEST, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    return manifest


__all__ = ["CaptureError", "capture"]
