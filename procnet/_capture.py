"""Capture: write the proc tree procnet reads, so the answer can be read again elsewhere.

``capture(DIR)`` copies, under a new directory, exactly what procnet reads: the socket
tables and the socket counters ``ss -s`` prints (of the caller's namespace, or of every
namespace), and for every process its fd
links (as ordinary symlinks with the same target text), the fdinfo of its socket
descriptors, comm, cmdline, status, cgroup and its ``ns/net`` link, plus a manifest (kernel
release, byte order, time, what could not be read). On the live machine it also keeps
the kernel's sock_diag answer for each table of its own namespace (``sock_diag/<table>``:
the reply to one dump of every state with every attribute, as received), because what
only netlink tells (a listener's backlog, a unix socket's peer, ``struct tcp_info``, the
socket cookie) is not in the text; a query of the bundle reads those answers where they
are (procnet/_parse/stored_answer.py). ``procnet.sockets(root=DIR)`` on the capture
gives the answer the live machine gave. It is a support bundle ("who held which port"),
and how procnet's fixtures are made.

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
import sys
from typing import Any, Dict, List, Optional, Tuple, Union

from ._bundle import BundleDir, BundleWriter, CaptureError
from ._errors import ParseError
from ._owners import _is_kernel_thread, thread_tables
from ._parse._common import INET_TABLES
from ._parse.netlink import NetlinkError, _DumpDecoder, inet_request, unix_request
from ._parse.process import ns_inode
from ._proc import CGROUP_PATHS, DEFAULT_ROOT, MANIFEST, SOCK_DIAG_DIR, Denied, Gone, ProcessDir, ProcFS, cgroup2_ids, cgroup2_mount

_TABLES = tuple(INET_TABLES) + ("unix",)
#: the kernel's socket counters (``ss -s``), copied beside the tables
_COUNTERS = ("sockstat", "sockstat6", "snmp")
_PROCESS_FILES = ("comm", "cmdline", "status", "stat")
_OPTIONAL_FILES = ("cgroup",)


class _Recorder(_DumpDecoder[object]):
    """Keeps the datagrams of one dump reply as received, each padded to 4 bytes (so that
    their concatenation is one stream of whole messages), decoding only the control
    messages (NLMSG_DONE, errors): the sockets are decoded when the bundle is read."""

    def __init__(self, source: str) -> None:
        super().__init__(sys.byteorder, source, None)
        self.datagrams: List[bytes] = []

    def feed(self, data: bytes) -> List[object]:
        self.datagrams.append(bytes(data) + bytes(-len(data) % 4))
        return super().feed(data)

    def _decode_at(self, data: bytes, start: int, end: int, offset: int) -> Optional[object]:
        return None


def _sock_diag_answers(timeout: float) -> Tuple[Dict[str, bytes], Dict[str, str], List[str]]:
    """The kernel's answer to one sock_diag dump of each table of the caller's namespace,
    every state, with every attribute a query can ask for (struct tcp_info, congestion
    name, memory counters, shutdown; every unix attribute): (table -> the reply's bytes,
    table -> why there is none, tables whose dump the kernel flagged inconsistent)."""
    from ._netlink import _batches

    answers: Dict[str, bytes] = {}
    missing: Dict[str, str] = {}
    interrupted: List[str] = []
    for table in _TABLES:
        if table == "unix":
            request = unix_request(None)
        else:
            proto, family = INET_TABLES[table]
            request = inet_request(proto, family, None, tcp_info=True, skmem=True)
        recorder = _Recorder("sock_diag %s" % table)
        try:
            for _ in _batches(request, recorder, timeout):
                pass
        except (NetlinkError, ParseError) as exc:
            missing[table] = str(exc)
            continue
        answers[table] = b"".join(recorder.datagrams)
        if recorder.interrupted:
            interrupted.append(table)
    return answers, missing, interrupted


def _optional_files(proc: ProcessDir) -> Dict[str, bytes]:
    """The files of a process a query reads when they are there (``cgroup``: the owners'
    cgroup of ``details=True``); one that cannot be read is left out."""
    files: Dict[str, bytes] = {}
    for name in _OPTIONAL_FILES:
        try:
            files[name] = proc.read(name)
        except (Gone, Denied):
            continue
    return files


def _write_process(fs: ProcFS, proc: ProcessDir, top: BundleDir, all_fdinfo: bool) -> Tuple[bool, bool]:
    """Copy one process; (whether some of its threads could not be checked for descriptor
    tables of their own, whether entries of its fd directory were skipped)."""
    # Read everything first, so that a process that exits half way leaves nothing behind.
    files = {name: proc.read(name) for name in _PROCESS_FILES}
    files.update(_optional_files(proc))
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


def _write_sock_diag(top: BundleDir, fs: ProcFS, netns: Union[None, str, int]) -> Dict[str, Any]:
    """Store what only netlink tells (a listener's backlog, a unix socket's peer, struct
    tcp_info...): the sock_diag answers for the tables of ``<root>/net`` when the kernel
    can give them, those of the caller's own namespace on the live proc
    (``sock_diag/<table>``); the manifest's entry for them, ``{}`` when there are none."""
    if not ((netns is None or netns == "all") and fs.is_live()):
        return {}
    from ._netlink import DEFAULT_TIMEOUT

    answers, missing, interrupted = _sock_diag_answers(DEFAULT_TIMEOUT)
    cgroups = _cgroup2_paths(fs)
    if answers:
        with top.directory(SOCK_DIAG_DIR) as out:
            for table, data in answers.items():
                out.write_file(table, data)
            if cgroups is not None:
                out.write_file(CGROUP_PATHS, (json.dumps(cgroups, sort_keys=True) + "\n").encode())
    entry = {"format": 1, "tables": list(answers), "unavailable": missing, "interrupted": interrupted}
    return {"sock_diag": entry}


def _cgroup2_paths(fs: ProcFS) -> Optional[Dict[str, Any]]:
    """The cgroup2 hierarchy as ``ss -e`` resolves a socket's cgroup id against it
    (iproute2 lib/cg_map.c; :func:`procnet._proc.cgroup2_mount` and
    :func:`~procnet._proc.cgroup2_ids`): the first cgroup2 mount of the reader's mount
    table, and every directory's inode number (the cgroup id) -> its path below the mount
    (``/`` for the root), not crossing into other mounts. None without a cgroup2 mount. A
    bundle replays ``cgroup:`` with it on any machine (procnet.cli._ss_cgroup)."""
    try:
        mount = cgroup2_mount(fs._read_mountinfo() or "")
    except ParseError:
        return None
    if mount is None:
        return None
    ids = cgroup2_ids(mount)
    if not ids:
        return None
    return {"mount": mount, "paths": {str(ino): path for ino, path in ids.items()}}


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
        for table in _TABLES + _COUNTERS:
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
    sock_diag = _write_sock_diag(top, fs, netns)

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
    manifest.update(sock_diag)
    top.write_file(MANIFEST, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    return manifest


__all__ = ["CaptureError", "capture"]
