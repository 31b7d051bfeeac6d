#!/usr/bin/env python3
"""Debian's Prometheus tools for the exporter tests: fetched, unpacked, run and ended by pid.

``promtool``, ``prometheus`` and ``prometheus-node-exporter`` come from Debian's packages
``prometheus`` and ``prometheus-node-exporter``: ``apt-get download`` (once more after
``apt-get update`` when the first try fails and we are root) and ``dpkg-deb -x``. Nothing
is installed and no service is started: the three binaries are copied into a cache,
``$PROCNET_PROMTOOLS_CACHE`` or else ``${XDG_CACHE_HOME:-~/.cache}/procnet-promtools``, kept
across runs on one machine (a fresh clone with an empty cache fetches them itself). A
cached binary is used only after it has answered ``--version``; ``--refresh`` fetches anew.

Run as a program (what .ci/run does up front) it fetches or verifies the tools, prints their
paths and versions, and exits 1 with the reason when they cannot be had:
``python3 tests/promtools.py [--refresh]``.

In the tests, ``for_tests()`` gives the tools, or skips with the reason (no apt, download
failed), or fails instead of skipping when ``PROCNET_REQUIRE_PROMETHEUS=1`` (set by .ci/run).

The rest of the module runs processes for the tests: ``Process`` starts one with its output
in a log file and ends exactly that pid; ``wait_for`` bounds every wait; ``request`` is a
one-request client for loopback. Standard library only, Python 3.8+.
"""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Dict, Iterator, List, NamedTuple, Optional, Tuple

PACKAGES = ("prometheus", "prometheus-node-exporter")
# binary name in the cache -> its path inside the unpacked packages
BINARIES = {
    "promtool": "usr/bin/promtool",
    "prometheus": "usr/bin/prometheus",
    "prometheus-node-exporter": "usr/bin/prometheus-node-exporter",
}
REQUIRE_ENV = "PROCNET_REQUIRE_PROMETHEUS"
APT_TIMEOUT = 600.0


class Tools(NamedTuple):
    promtool: str
    prometheus: str
    node_exporter: str
    versions: str  # the .deb files they came from, one a line


class Unavailable(Exception):
    """The tools cannot be had on this machine; the message says why."""


def cache_dir() -> str:
    configured = os.environ.get("PROCNET_PROMTOOLS_CACHE")
    if configured:
        return os.path.abspath(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "procnet-promtools")


def _verified(tools_dir: str) -> Optional[Tools]:
    """The cached tools, if all three are there and each answers --version."""
    paths = [os.path.join(tools_dir, name) for name in BINARIES]
    for path in paths:
        if not os.access(path, os.X_OK):
            return None
        try:
            done = subprocess.run([path, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if done.returncode != 0:
            return None
    try:
        with open(os.path.join(tools_dir, "VERSIONS"), encoding="utf-8") as f:
            versions = f.read()
    except OSError:
        return None
    return Tools(paths[0], paths[1], paths[2], versions)


def _run(argv: List[str], cwd: str) -> Tuple[int, str]:
    try:
        done = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, timeout=APT_TIMEOUT)
    except subprocess.TimeoutExpired:
        return 124, "%s: no answer in %d s" % (" ".join(argv), APT_TIMEOUT)
    except OSError as e:
        return 127, "%s: %s" % (argv[0], e)
    return done.returncode, done.stdout.decode("utf-8", "replace")


def _download(work: str) -> List[str]:
    """apt-get download the packages into work; once more after apt-get update (as root)."""
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise Unavailable("no apt-get/dpkg-deb on this machine: Debian's prometheus and "
                          "prometheus-node-exporter packages cannot be fetched")
    argv = ["apt-get", "download", "-q"] + list(PACKAGES)
    status, output = _run(argv, work)
    if status != 0:
        if os.geteuid() != 0:
            raise Unavailable("apt-get download failed and only root can run apt-get update first: %s"
                              % output.strip()[-500:])
        update_status, update_output = _run(["apt-get", "update", "-q"], work)
        status, output = _run(argv, work)
        if status != 0:
            raise Unavailable("apt-get download failed, also after apt-get update (exit %d): %s | %s"
                              % (update_status, update_output.strip()[-300:], output.strip()[-500:]))
    debs = sorted(name for name in os.listdir(work) if name.endswith(".deb"))
    if len(debs) != len(PACKAGES):
        raise Unavailable("apt-get download left %r in %s, expected one .deb per package of %r"
                          % (debs, work, PACKAGES))
    return debs


def _fetch_into(tools_dir: str) -> None:
    """Download and unpack the packages, then put the three binaries in tools_dir."""
    parent = os.path.dirname(tools_dir)
    work = tempfile.mkdtemp(prefix="fetch-", dir=parent)
    try:
        debs = _download(work)
        unpacked = os.path.join(work, "unpacked")
        for deb in debs:
            status, output = _run(["dpkg-deb", "-x", deb, unpacked], work)
            if status != 0:
                raise Unavailable("dpkg-deb -x %s failed: %s" % (deb, output.strip()[-500:]))
        staged = os.path.join(work, "tools")
        os.mkdir(staged)
        for name, inside in BINARIES.items():
            source = os.path.join(unpacked, inside)
            if not os.path.isfile(source):
                raise Unavailable("%s has no %s" % (", ".join(debs), inside))
            shutil.copy2(source, os.path.join(staged, name))
        with open(os.path.join(staged, "VERSIONS"), "w", encoding="utf-8") as f:
            f.write("".join(deb + "\n" for deb in debs))
        if os.path.isdir(tools_dir):
            shutil.rmtree(tools_dir)
        os.rename(staged, tools_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def fetch(refresh: bool = False) -> Tools:
    """The verified tools from the cache, fetched first when missing, broken or refresh asked.

    Raises Unavailable with the reason. Safe to call from several processes at once (a lock
    file in the cache directory)."""
    top = cache_dir()
    try:
        os.makedirs(top, exist_ok=True)
    except OSError as e:
        raise Unavailable("cannot make the cache directory %s: %s" % (top, e))
    tools_dir = os.path.join(top, "tools")
    with open(os.path.join(top, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        tools = None if refresh else _verified(tools_dir)
        if tools is None:
            _fetch_into(tools_dir)
            tools = _verified(tools_dir)
            if tools is None:
                raise Unavailable("the binaries unpacked into %s do not answer --version" % tools_dir)
        return tools


_FOR_TESTS: List[Any] = []  # [Tools] or [Unavailable], once per test process


def for_tests() -> Tools:
    """The tools for a test; pytest.skip (or pytest.fail under PROCNET_REQUIRE_PROMETHEUS=1)."""
    import pytest

    if not _FOR_TESTS:
        try:
            _FOR_TESTS.append(fetch())
        except Unavailable as e:
            _FOR_TESTS.append(e)
    found = _FOR_TESTS[0]
    if isinstance(found, Unavailable):
        reason = "Debian's Prometheus tools are unavailable: %s" % found
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail("%s (%s=1 requires them)" % (reason, REQUIRE_ENV), pytrace=False)
        pytest.skip(reason)
    assert isinstance(found, Tools)
    return found


# --- running processes for the tests -------------------------------------------------------

def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, probe: Callable[[], Any], timeout: float, every: float = 0.1,
             explain: Optional[Callable[[], str]] = None) -> Any:
    """probe()'s first truthy result within timeout seconds, else AssertionError naming what."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = probe()
        except (OSError, http.client.HTTPException, ValueError) as e:
            last = e
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            detail = explain() if explain is not None else ""
            raise AssertionError("gave up after %.1f s waiting for %s; last: %r%s"
                                 % (timeout, what, last, ("\n" + detail) if detail else ""))
        time.sleep(every)


class Response(NamedTuple):
    status: int
    headers: Dict[str, str]  # lower-case names
    body: bytes


def request(method: str, host: str, port: int, path: str, headers: Optional[Dict[str, str]] = None,
         timeout: float = 10.0) -> Response:
    """One request on a fresh connection (loopback only)."""
    assert host in ("127.0.0.1", "::1", "localhost"), host
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, headers=headers or {})
        reply = conn.getresponse()
        body = reply.read()
        return Response(reply.status, {k.lower(): v for k, v in reply.getheaders()}, body)
    finally:
        conn.close()


class Process:
    """A process this test started: output in a log file, ended by its own pid only."""

    def __init__(self, argv: List[str], log_dir: str, name: str, **popen: Any) -> None:
        self.argv = argv
        self.log_path = os.path.join(log_dir, name + ".log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, **popen)
        self.pid = self.proc.pid

    def log(self, tail: int = 4000) -> str:
        with open(self.log_path, "rb") as f:
            data = f.read()
        return "--- %s (pid %d) log, last %d bytes ---\n%s" % (
            os.path.basename(self.log_path), self.pid, tail, data[-tail:].decode("utf-8", "replace"))

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> Optional[int]:
        """SIGTERM this pid, wait (bounded), then SIGKILL it; its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        self._log.close()
        return self.proc.returncode


@contextlib.contextmanager
def running(argv: List[str], log_dir: str, name: str, **popen: Any) -> Iterator[Process]:
    process = Process(argv, log_dir, name, **popen)
    try:
        yield process
    finally:
        process.stop()


LISTENER = r"""
import os, socket, sys
with open("/proc/self/comm", "wb") as f:
    f.write(bytes.fromhex(sys.argv[1]))
tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
tcp.bind(("127.0.0.1", 0))
tcp.listen(int(sys.argv[2]))
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("127.0.0.1", 0))
sys.stdout.write("%d %d\n" % (tcp.getsockname()[1], udp.getsockname()[1]))
sys.stdout.flush()
sys.stdin.read()
"""


class Listener(NamedTuple):
    pid: int
    tcp_port: int  # LISTEN, never accepting, with the backlog asked for
    udp_port: int  # bound, unconnected (an ephemeral port)


@contextlib.contextmanager
def listener(comm: bytes, backlog: int = 8) -> Iterator[Listener]:
    """A child process named comm (the kernel's bytes, at most 15) holding a TCP listener on
    127.0.0.1 that never accepts and a bound UDP socket; ended by its pid on exit."""
    proc = subprocess.Popen([sys.executable, "-c", LISTENER, comm.hex(), str(backlog)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode("ascii")
        assert line.endswith("\n"), "the listener child (pid %d) said %r" % (proc.pid, line)
        tcp_port, udp_port = (int(word) for word in line.split())
        yield Listener(proc.pid, tcp_port, udp_port)
    finally:
        proc.kill()
        proc.wait(10)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()


def main(args: List[str]) -> int:
    if args not in ([], ["--refresh"]):
        print("usage: python3 tests/promtools.py [--refresh]", file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        tools = fetch(refresh=args == ["--refresh"])
    except Unavailable as e:
        print("promtools: %s" % e, file=sys.stderr)
        return 1
    print("promtools: ready in %.1f s from %s" % (time.monotonic() - started,
                                                   tools.versions.strip().replace("\n", ", ")))
    for path in tools[:3]:
        print("  " + path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
