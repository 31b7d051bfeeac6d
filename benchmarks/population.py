#!/usr/bin/env python3
"""A socket population on loopback, for the benchmarks: it builds itself, says when it is
ready, holds still, and stops by itself.

    python3 benchmarks/population.py --scale 10k --seconds 300
    python3 benchmarks/population.py --list-scales

The controller (this process) forks workers:

* connection workers: each owns one listener (most on 127.1.x.y, every fourth on ::1)
  and connects its share of clients to the next worker's listener, so every TCP
  connection has its two ends in two processes; some carry unread data (Recv-Q), some
  are half closed (FIN-WAIT-2 / CLOSE-WAIT);
* a datagram-and-unix worker: UDP bound and connected on v4 and v6, unix stream,
  datagram and seqpacket sockets (path, abstract, unbound, socketpairs);
* a TIME-WAIT worker that opens and closes a batch of connections every 30 s (a
  TIME-WAIT entry lives 60 s);
* idle workers holding thousands of non-socket descriptors (/dev/null, pipes, a
  regular file, eventfds), which also share one listening socket with the
  datagram worker (a pre-forked server's listener, one socket with many owners).

Only loopback addresses are used (127.0.0.0/8 and ::1); unix sockets live in a
temporary directory that is removed at the end.

When ready it prints one JSON line (``{"event": "ready", ...}``: pids, counts reached,
the limits it checked) and, with ``--ready-file``, writes the same JSON there. It
stops after ``--seconds`` (at most 7200), on SIGTERM/SIGINT, or when the process that
started it goes away; workers die with the controller (PR_SET_PDEATHSIG) and also poll
for it and for their own deadline. Connection sockets have SO_LINGER 0, so stopping
leaves no TIME-WAIT behind to pollute the next population.

From Python::

    with Population("10k", seconds=600) as pop:
        print(pop.info["counts"])
"""

from __future__ import annotations

import argparse
import ctypes
import errno
import json
import os
import resource
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional, Tuple

# The scales of issue 7. "connections" are TCP connections with both ends held by
# population processes (two TCP sockets each); "idle_fds" are non-socket descriptors
# spread over the idle processes.
SCALES: Dict[str, Dict[str, int]] = {
    "small": dict(conn_workers=4, connections=240, idle_procs=2, idle_fds=600, udp=16, unix=16, time_wait=20),
    "10k": dict(conn_workers=16, connections=4900, idle_procs=4, idle_fds=2600, udp=40, unix=40, time_wait=100),
    "40k": dict(conn_workers=96, connections=19800, idle_procs=40, idle_fds=124000, udp=200, unix=200, time_wait=200),
    "100k": dict(conn_workers=96, connections=49700, idle_procs=40, idle_fds=104000, udp=200, unix=200, time_wait=200),
}

MAX_SECONDS = 7200
SETUP_TIMEOUT = 600.0
BASE_PORT = 20000  # below the usual ephemeral range, so listeners never collide with clients
V6_EVERY = 4
LINGER0 = struct.pack("ii", 1, 0)
PR_SET_PDEATHSIG = 1
TW_PERIOD = 30.0


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


# -- limits ------------------------------------------------------------------------------
def check_limits(scale: Dict[str, int]) -> Dict[str, Any]:
    """The kernel and process limits that bound this scale, and whether each is enough."""
    lo_hi = _read("/proc/sys/net/ipv4/ip_local_port_range").split()
    ports = int(lo_hi[1]) - int(lo_hi[0]) + 1 if len(lo_hi) == 2 else 0
    nr_open = int(_read("/proc/sys/fs/nr_open") or 1048576)
    file_max = int(_read("/proc/sys/fs/file-max") or 0)
    file_nr = _read("/proc/sys/fs/file-nr").split()
    somaxconn = int(_read("/proc/sys/net/core/somaxconn") or 128)
    tw_buckets = int(_read("/proc/sys/net/ipv4/tcp_max_tw_buckets") or 0)
    conntrack = _read("/proc/sys/net/netfilter/nf_conntrack_max")
    pid_max = int(_read("/proc/sys/kernel/pid_max") or 32768)
    w = scale["conn_workers"]
    per_listener = -(-scale["connections"] // w)
    per_idle = -(-scale["idle_fds"] // max(1, scale["idle_procs"]))
    per_conn_worker = 2 * per_listener + 64
    need_fds = 2 * scale["connections"] + scale["idle_fds"] + 8 * scale["udp"] + 8 * scale["unix"] + 1000
    per_proc = max(per_idle, per_conn_worker, 8 * (scale["udp"] + scale["unix"])) + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    out: Dict[str, Any] = {
        "ip_local_port_range": lo_hi,
        "ephemeral_ports": ports,
        "connections_per_destination": per_listener,
        "destinations": w,
        "nr_open": nr_open,
        "file_max": file_max,
        "files_in_use_before": int(file_nr[0]) if file_nr else None,
        "somaxconn": somaxconn,
        "tcp_max_tw_buckets": tw_buckets,
        "nf_conntrack_max": int(conntrack) if conntrack else None,
        "pid_max": pid_max,
        "rlimit_nofile_before": [soft, hard],
        "descriptors_needed": need_fds,
        "per_process_descriptors_needed": per_proc,
        "problems": [],
    }
    probs = out["problems"]
    if per_listener > ports:
        probs.append("%d connections to one listener exceed the %d ephemeral ports" % (per_listener, ports))
    if per_listener > somaxconn:
        probs.append("a listener may queue %d > somaxconn %d (accepted concurrently, usually fine)" % (per_listener, somaxconn))
    if per_proc > nr_open:
        probs.append("a process needs %d descriptors > fs.nr_open %d" % (per_proc, nr_open))
    if file_max and need_fds > file_max - (int(file_nr[0]) if file_nr else 0):
        probs.append("%d descriptors needed > fs.file-max headroom" % need_fds)
    if conntrack and scale["connections"] + scale["time_wait"] * 3 > int(conntrack):
        probs.append("connections exceed nf_conntrack_max %s" % conntrack)
    if tw_buckets and scale["time_wait"] * 3 > tw_buckets:
        probs.append("TIME-WAIT batches exceed tcp_max_tw_buckets %d" % tw_buckets)
    return out


def raise_nofile(need: int) -> Tuple[int, int]:
    """Raise RLIMIT_NOFILE to at least ``need`` (root may raise the hard limit up to fs.nr_open)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    nr_open = int(_read("/proc/sys/fs/nr_open") or 1048576)
    want = min(nr_open, max(need, soft))
    if want > hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
        except (ValueError, OSError):
            want = hard
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(want, hard)))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


# -- worker plumbing -----------------------------------------------------------------------
def _die_with_parent(parent: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(0)


def _hold(parent: int, deadline: float, tick: Any = None) -> None:
    """Hold everything until the controller goes or the deadline passes."""
    while True:
        now = time.monotonic()
        if os.getppid() != parent or now >= deadline:
            os._exit(0)
        if tick is not None:
            tick(now)
        time.sleep(min(0.5, max(0.01, deadline - now)))


def _report(fd: int, **info: Any) -> None:
    line = (json.dumps(info) + "\n").encode()
    os.write(fd, line)  # shorter than PIPE_BUF: atomic among workers


def _listener(family: int, addr: Tuple[Any, ...], backlog: int = 4096) -> socket.socket:
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind(addr)
    s.listen(backlog)
    return s


def _connection_worker(
    k: int, lst: socket.socket, peer: Tuple[int, Tuple[Any, ...]], n_out: int, n_in: int, setup_deadline: float
) -> Dict[str, Any]:
    family, addr = peer
    lst.setblocking(False)
    out: List[socket.socket] = []
    inn: List[socket.socket] = []
    errors = 0

    def drain() -> None:
        while len(inn) < n_in:
            try:
                c, _ = lst.accept()
            except (BlockingIOError, InterruptedError):
                return
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)
            inn.append(c)

    while (len(out) < n_out or len(inn) < n_in) and time.monotonic() < setup_deadline:
        for _ in range(min(64, n_out - len(out))):
            s = socket.socket(family, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)
            s.settimeout(10.0)
            try:
                s.connect(addr)
            except OSError:
                errors += 1
                s.close()
                if errors > 50:
                    n_out = len(out)  # give up connecting; report what was reached
                break
            out.append(s)
        drain()
        if len(out) >= n_out and len(inn) < n_in:
            select.select([lst], [], [], 0.2)
    # Some variety: unread data (Recv-Q on the peer), and half-closed pairs.
    for i, s in enumerate(out):
        try:
            if i % 10 == 3:
                s.send(b"x" * 100)
            elif i % 200 == 7:
                s.shutdown(socket.SHUT_WR)  # ours FIN-WAIT-2, peer's CLOSE-WAIT
        except OSError:
            pass
    return {"role": "conn", "worker": k, "out": len(out), "in": len(inn), "connect_errors": errors, "_keep": (out, inn)}


def _datagram_unix_worker(n_udp: int, n_unix: int, tmp: str, shared: socket.socket) -> Dict[str, Any]:
    keep: List[socket.socket] = [shared]
    udp4: List[socket.socket] = []
    udp6: List[socket.socket] = []
    for i in range(n_udp):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.3.%d.%d" % (i // 250, i % 250 + 1), 0))
        udp4.append(s)
    for i in range(max(1, n_udp // 4)):
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind(("::1", 0))
        udp6.append(s)
    keep += udp4 + udp6
    for i in range(n_udp // 2):  # connected UDP, v4 and v6
        fam, target = (socket.AF_INET, udp4[i % len(udp4)]) if i % 3 else (socket.AF_INET6, udp6[i % len(udp6)])
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.connect(target.getsockname())
        if i % 5 == 0:
            s.send(b"y" * 64)  # queued on the bound one: its Recv-Q
        keep.append(s)
    counts = {"udp": len(keep) - 1}
    n = max(2, n_unix // 8)
    made = 0
    for kind, name in ((socket.SOCK_STREAM, "stream"), (socket.SOCK_SEQPACKET, "seqpacket")):
        for where in ("path", "abstract", "spaced path"):
            if where == "abstract":
                addr: Any = "\0procnet-bench-%d-%s" % (os.getpid(), name)
            elif where == "spaced path":
                addr = os.path.join(tmp, "%s listener.sock" % name)
            else:
                addr = os.path.join(tmp, "%s.sock" % name)
            lst = socket.socket(socket.AF_UNIX, kind)
            lst.bind(addr)
            lst.listen(256)
            keep.append(lst)
            for _ in range(n):
                c = socket.socket(socket.AF_UNIX, kind)
                c.connect(addr)
                a, _ = lst.accept()
                keep += [c, a]
                made += 2
    for i in range(n):  # datagram: bound by path, connected to it, unbound, abstract
        b = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        b.bind(os.path.join(tmp, "dgram-%d.sock" % i))
        c = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        c.connect(b.getsockname())
        c.send(b"z" * 32)
        u = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        a = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        a.bind("\0procnet-bench-%d-dgram-%d" % (os.getpid(), i))
        keep += [b, c, u, a]
        made += 4
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_SEQPACKET):
        for _ in range(n):
            keep += list(socket.socketpair(socket.AF_UNIX, kind))
            made += 2
    counts["unix"] = made
    return {"role": "dgram+unix", **counts, "_keep": keep}


def _idle_worker(k: int, n: int, tmpfile: str, shared: socket.socket) -> Dict[str, Any]:
    held: List[int] = []
    kinds = {"devnull": 0, "pipe": 0, "file": 0, "eventfd": 0}
    eventfd = getattr(os, "eventfd", None)
    while len(held) < n:
        r = len(held) % 10
        try:
            if r < 6:
                held.append(os.open(os.devnull, os.O_RDONLY if r % 2 else os.O_WRONLY))
                kinds["devnull"] += 1
            elif r < 9:
                held.extend(os.pipe())
                kinds["pipe"] += 2
            elif eventfd is not None and k % 2:
                held.append(eventfd(0))
                kinds["eventfd"] += 1
            else:
                held.append(os.open(tmpfile, os.O_RDWR))
                kinds["file"] += 1
        except OSError as e:
            if e.errno in (errno.EMFILE, errno.ENFILE):
                break
            raise
    return {"role": "idle", "worker": k, "fds": len(held), "kinds": kinds, "_keep": (held, shared)}


def _time_wait_worker(batch: int, deadline: float) -> Tuple[Dict[str, Any], Any]:
    lst = _listener(socket.AF_INET, ("127.0.0.2", 0), 1024)
    addr = lst.getsockname()

    def churn() -> int:
        made = 0
        for _ in range(batch):
            c = socket.create_connection(addr, timeout=5)
            a, _ = lst.accept()
            c.close()  # active close: the client end goes to TIME-WAIT for 60 s
            a.close()
            made += 1
        return made

    state = {"next": time.monotonic() + TW_PERIOD, "batches": 1}
    made = churn()

    def tick(now: float) -> None:
        if now >= state["next"] and now < deadline - 1:
            churn()
            state["next"] = now + TW_PERIOD
            state["batches"] += 1

    return {"role": "time-wait", "per_batch": made, "period_s": TW_PERIOD, "_keep": lst}, tick


# -- counting ------------------------------------------------------------------------------
TCP_STATES = {
    "01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1", "05": "FIN_WAIT2",
    "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING",
}


def count_sockets() -> Dict[str, Any]:
    """Rows in this namespace's tables (every process's, not only ours)."""
    states: Dict[str, int] = {}
    out: Dict[str, Any] = {}
    for table in ("tcp", "tcp6", "udp", "udp6", "unix"):
        try:
            with open("/proc/net/" + table, "rb") as f:
                lines = f.read().split(b"\n")[1:]
        except OSError:
            out[table] = 0
            continue
        lines = [ln for ln in lines if ln.strip()]
        out[table] = len(lines)
        if table.startswith("tcp"):
            for ln in lines:
                st = TCP_STATES.get(ln.split()[3].decode(), "?")
                states[st] = states.get(st, 0) + 1
    out["tcp_total"] = out["tcp"] + out["tcp6"]
    out["tcp_states"] = dict(sorted(states.items(), key=lambda kv: -kv[1]))
    return out


def count_descriptors(pids: Optional[List[int]] = None) -> Dict[str, int]:
    """Processes and descriptors under /proc (all of them, or only ``pids``)."""
    procs = fds = 0
    names = [str(p) for p in pids] if pids is not None else [n for n in os.listdir("/proc") if n.isdigit()]
    for name in names:
        try:
            fds += len(os.listdir("/proc/%s/fd" % name))
            procs += 1
        except OSError:
            pass
    return {"processes": procs, "descriptors": fds}


# -- the controller ------------------------------------------------------------------------
class Controller:
    def __init__(self, scale_name: str, seconds: float, setup_timeout: float = SETUP_TIMEOUT) -> None:
        self.name = scale_name
        self.scale = SCALES[scale_name]
        self.seconds = min(float(seconds), MAX_SECONDS)
        self.setup_timeout = setup_timeout
        self.children: List[int] = []
        self.tmp = tempfile.mkdtemp(prefix="procnet-bench-")
        self.stopping = False
        self.parent = os.getppid()

    def _fork(self, ready_w: int, ready_r: int, deadline: float, body: Any) -> int:
        parent = os.getpid()
        pid = os.fork()
        if pid:
            self.children.append(pid)
            return pid
        code = 0
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            os.close(ready_r)
            _die_with_parent(parent)
            result = body()
            tick = None
            if isinstance(result, tuple):
                result, tick = result
            keep = result.pop("_keep", None)
            _report(ready_w, pid=os.getpid(), **result)
            os.close(ready_w)
            _hold(parent, deadline, tick)
            del keep
        except BaseException as e:  # a worker must never run the controller's code
            try:
                _report(ready_w, pid=os.getpid(), role="error", error=repr(e))
            except OSError:
                pass
            code = 1
        os._exit(code)

    def run(self, emit: Any) -> int:
        sc = self.scale
        started = time.monotonic()
        limits = check_limits(sc)
        per_proc = limits["per_process_descriptors_needed"]
        limits["rlimit_nofile"] = list(raise_nofile(max(per_proc * 2, 16384)))
        deadline = started + self.seconds
        setup_deadline = started + self.setup_timeout
        ready_r, ready_w = os.pipe()
        tmpfile = os.path.join(self.tmp, "held-file")
        with open(tmpfile, "wb") as f:
            f.write(b"procnet benchmark\n")

        w = sc["conn_workers"]
        listeners: List[socket.socket] = []
        peers: List[Tuple[int, Tuple[Any, ...]]] = []
        for k in range(w):
            for attempt in range(20):
                port = BASE_PORT + k + 1000 * attempt
                if k % V6_EVERY == V6_EVERY - 1:
                    fam, addr = socket.AF_INET6, ("::1", port)
                else:
                    fam, addr = socket.AF_INET, ("127.1.%d.%d" % (k // 250, k % 250 + 1), port)
                try:
                    listeners.append(_listener(fam, addr))
                    peers.append((fam, addr))
                    break
                except OSError as e:
                    if e.errno != errno.EADDRINUSE:
                        raise
            else:
                raise SystemExit("no free port for listener %d" % k)
        shared = _listener(socket.AF_INET, ("127.0.0.3", 0), 128)  # one socket, many owners
        base, extra = divmod(sc["connections"], w)
        share = [base + (1 if k < extra else 0) for k in range(w)]

        def conn_body(k: int) -> Any:
            def body() -> Any:
                for j, s in enumerate(listeners):
                    if j != k:
                        s.close()
                shared.close()
                return _connection_worker(k, listeners[k], peers[(k + 1) % w], share[k], share[k - 1], setup_deadline)

            return body

        def close_listeners() -> None:
            for s in listeners:
                s.close()

        def idle_body(k: int, n: int) -> Any:
            def body() -> Any:
                close_listeners()
                return _idle_worker(k, n, tmpfile, shared)

            return body

        def dgram_body() -> Any:
            close_listeners()
            return _datagram_unix_worker(sc["udp"], sc["unix"], self.tmp, shared)

        def tw_body() -> Any:
            close_listeners()
            shared.close()
            return _time_wait_worker(sc["time_wait"], deadline)

        for k in range(w):
            self._fork(ready_w, ready_r, deadline, conn_body(k))
        self._fork(ready_w, ready_r, deadline, dgram_body)
        self._fork(ready_w, ready_r, deadline, tw_body)
        ip, per = sc["idle_procs"], -(-sc["idle_fds"] // max(1, sc["idle_procs"]))
        left = sc["idle_fds"]
        for k in range(ip):
            self._fork(ready_w, ready_r, deadline, idle_body(k, min(per, left)))
            left -= per
        os.close(ready_w)
        for s in listeners:
            s.close()  # the workers hold them now
        shared.close()

        reports: List[Dict[str, Any]] = []
        buf = b""
        while len(reports) < len(self.children) and not self.stopping:
            remaining = setup_deadline - time.monotonic()
            if remaining <= 0:
                break
            r, _, _ = select.select([ready_r], [], [], min(remaining, 1.0))
            if r:
                chunk = os.read(ready_r, 65536)
                if not chunk:
                    break
                buf += chunk
                *lines, buf = buf.split(b"\n")
                reports += [json.loads(ln) for ln in lines if ln]
        os.close(ready_r)
        if self.stopping:
            return 1
        pids = [os.getpid()] + self.children
        errors = [r for r in reports if r.get("role") == "error"]
        conn = [r for r in reports if r.get("role") == "conn"]
        ours = count_descriptors(pids)
        info = {
            "event": "ready",
            "scale": self.name,
            "config": sc,
            "controller": os.getpid(),
            "pids": pids,
            "setup_seconds": round(time.monotonic() - started, 2),
            "lifetime_seconds": self.seconds,
            "workers_reported": len(reports),
            "workers_started": len(self.children),
            "errors": errors,
            "connections": {
                "outgoing": sum(r["out"] for r in conn),
                "accepted": sum(r["in"] for r in conn),
                "connect_errors": sum(r["connect_errors"] for r in conn),
            },
            "listeners": [list(p[1]) for p in peers],
            "counts": {
                "ours": ours,
                "system": count_descriptors(),
                "sockets": count_sockets(),
            },
            "roles": {role: sum(1 for r in reports if r.get("role") == role) for role in ("conn", "idle", "dgram+unix", "time-wait")},
            "limits": limits,
            "tmpdir": self.tmp,
        }
        emit(info)
        while not self.stopping and time.monotonic() < deadline:
            if os.getppid() != self.parent:  # whoever started us is gone
                break
            time.sleep(0.25)
        return 0

    def stop(self) -> None:
        """End the workers this controller forked, by pid, and reap them."""
        for pid in self.children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        end = time.monotonic() + 10
        alive = set(self.children)
        while alive and time.monotonic() < end:
            for pid in list(alive):
                try:
                    done, _ = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    done = pid
                if done:
                    alive.discard(pid)
            time.sleep(0.05)
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", choices=sorted(SCALES), default="small")
    ap.add_argument("--seconds", type=float, default=300.0, help="hard lifetime (at most %d)" % MAX_SECONDS)
    ap.add_argument("--setup-timeout", type=float, default=SETUP_TIMEOUT)
    ap.add_argument("--ready-file", help="also write the ready JSON here")
    ap.add_argument("--list-scales", action="store_true")
    args = ap.parse_args(argv)
    if args.list_scales:
        print(json.dumps(SCALES, indent=1))
        return 0
    ctl = Controller(args.scale, args.seconds, args.setup_timeout)

    def on_signal(signum: int, frame: Any) -> None:
        ctl.stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def emit(info: Dict[str, Any]) -> None:
        text = json.dumps(info)
        if args.ready_file:
            tmp = args.ready_file + ".tmp"
            with open(tmp, "w") as f:
                f.write(text + "\n")
            os.replace(tmp, args.ready_file)
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    try:
        return ctl.run(emit)
    finally:
        ctl.stop()
        try:
            sys.stdout.write(json.dumps({"event": "stopped", "controller": os.getpid()}) + "\n")
            sys.stdout.flush()
        except OSError:
            pass


class Population:
    """Start a population as a child process and wait until it is ready; stop it on exit.

    ``info`` holds the ready JSON (pids, counts reached, limits).
    """

    def __init__(self, scale: str, seconds: float = 900.0, python: str = sys.executable, log: Optional[str] = None,
                 setup_timeout: float = SETUP_TIMEOUT) -> None:
        if scale not in SCALES:
            raise ValueError("scale is one of %s, not %r" % (", ".join(SCALES), scale))
        self.scale = scale
        self.seconds = seconds
        self.python = python
        self.log = log
        self.setup_timeout = setup_timeout
        self.proc: Optional[subprocess.Popen[bytes]] = None
        self.info: Dict[str, Any] = {}

    def __enter__(self) -> "Population":
        errf = open(self.log, "ab") if self.log else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [self.python, os.path.abspath(__file__), "--scale", self.scale, "--seconds", str(self.seconds),
             "--setup-timeout", str(self.setup_timeout)],
            stdout=subprocess.PIPE, stderr=errf, stdin=subprocess.DEVNULL,
        )
        if errf is not subprocess.DEVNULL:
            errf.close()
        assert self.proc.stdout is not None
        end = time.monotonic() + self.setup_timeout + 30
        buf = b""
        while time.monotonic() < end:
            r, _, _ = select.select([self.proc.stdout], [], [], 1.0)
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 1 << 20)
                if not chunk:
                    break
                buf += chunk
                if b"\n" in buf:
                    line, _, buf = buf.partition(b"\n")
                    msg = json.loads(line)
                    if msg.get("event") == "ready":
                        self.info = msg
                        return self
            elif self.proc.poll() is not None:
                break
        self.stop()
        raise RuntimeError("population %s did not become ready (see %s)" % (self.scale, self.log or "stderr"))

    def stop(self) -> None:
        p = self.proc
        if p is None or p.poll() is not None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()  # by pid: the controller we started
            p.wait(timeout=10)

    def __exit__(self, *exc: Any) -> None:
        self.stop()


if __name__ == "__main__":
    sys.exit(main())
