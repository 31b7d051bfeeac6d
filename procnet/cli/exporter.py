"""``procnet exporter``: the sockets as Prometheus metrics, served over HTTP or written to a file.

    procnet exporter --listen HOST:PORT                [OPTIONS]   # serve / and /metrics
    procnet exporter --textfile PATH [--every SECONDS] [OPTIONS]   # for node_exporter's textfile collector

HTTP (standard library's ``ThreadingHTTPServer``): ``GET``/``HEAD /metrics`` gives the text
format 0.0.4 with ``Content-Type: text/plain; version=0.0.4; charset=utf-8`` whatever
``Accept`` asks; ``/`` a small landing page; other paths 404, other methods 405. Every
scrape collects afresh, one at a time: scrapes that arrive meanwhile wait, and past
:data:`MAX_WAITING` waiting ones a scrape gets 503 with ``Retry-After: 1``. A read that
failed in part still answers 200 with ``procnet_scrape_error 1`` (and a line on stderr); a
collection that raised answers 500 with a one-line reason. SIGTERM or SIGINT: the scrape
under way finishes, then exit 0. No TLS or authentication: bind to loopback or the node's
address, or put a proxy in front.

Textfile: ``PATH.<pid>`` is written in PATH's own directory, flushed, fsynced, given mode
0644, then renamed onto PATH (and the directory fsynced): node_exporter never reads half a
file, and nothing else is left in the directory. On a failure the temporary file is removed
and PATH left as it was; once-mode exits 1, ``--every`` tries again next round.

Exit status: 0 (file written; server stopped by SIGTERM/SIGINT), 1 runtime failure (cannot
bind, cannot write) with a one-line message, 2 usage error.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any, Callable, List, NamedTuple, Optional, Sequence, Tuple

from .._proc import DEFAULT_ROOT
from .render import escape_text, message

PROG = "procnet exporter"
#: scrapes that may wait for the one being collected; more get 503
MAX_WAITING = 4


class Settings(NamedTuple):
    listen: Optional[Tuple[str, int]]
    textfile: Optional[str]
    every: Optional[float]
    netns: str
    root: str
    max_series: int
    outbound_ports: Tuple[int, ...]
    udp_include_ephemeral: bool
    unix_listeners: bool


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        raise UsageError(message)


def _parser() -> _Parser:
    p = _Parser(prog=PROG, add_help=True, description="Serve or write the sockets as Prometheus metrics.")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--listen", metavar="HOST:PORT", help="serve / and /metrics (HOST: IPv4, [IPv6], a name, "
                      "or empty for every address)")
    mode.add_argument("--textfile", metavar="PATH", help="write the metrics to PATH (*.prom) for node_exporter")
    p.add_argument("--every", metavar="SECONDS", help="with --textfile: rewrite every SECONDS until SIGTERM")
    p.add_argument("--netns", default="host", choices=("host", "all"), help="host (default) or every namespace")
    p.add_argument("--root", default=DEFAULT_ROOT, metavar="DIR", help="proc root to read (default %s)" % DEFAULT_ROOT)
    p.add_argument("--max-series", default="500", metavar="N", help="series per metric family (default 500)")
    p.add_argument("--outbound-ports", default="", metavar="LIST",
                   help="remote ports (443,5432) that turn on procnet_tcp_outbound_connections")
    p.add_argument("--udp-include-ephemeral", action="store_true",
                   help="keep UDP sockets bound inside ip_local_port_range")
    p.add_argument("--unix-listeners", action="store_true", help="the procnet_unix_listen_* families")
    return p


def parse_listen(text: str) -> Tuple[str, int]:
    """``HOST:PORT``, ``[IPv6]:PORT`` or ``:PORT`` -> (host, port); host ``""`` = every address."""
    m = re.fullmatch(r"(?:\[([0-9A-Fa-f:.%a-zA-Z0-9_-]+)\]|([^\[\]:]*)):([0-9]{1,5})", text)
    if m is None:
        raise UsageError("--listen takes HOST:PORT, [IPv6]:PORT or :PORT (say --listen 127.0.0.1:9469), not %r"
                         % text)
    port = int(m.group(3))
    if not 0 < port < 65536:
        raise UsageError("--listen: the port is 1-65535, not %d" % port)
    return (m.group(1) or m.group(2) or ""), port


def parse_every(text: str) -> float:
    m = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)s?", text)
    if m is None or float(m.group(1)) <= 0:
        raise UsageError("--every takes seconds greater than 0 (30 or 30s), not %r" % text)
    return float(m.group(1))


def parse_ports(text: str) -> Tuple[int, ...]:
    if not text:
        return ()
    ports = []
    for part in text.split(","):
        if not part.isdigit() or not 0 < int(part) < 65536:
            raise UsageError("--outbound-ports takes port numbers 1-65535 separated by commas (443,5432), not %r"
                             % text)
        ports.append(int(part))
    return tuple(sorted(set(ports)))


def settings(argv: Sequence[str]) -> Settings:
    a = _parser().parse_args(list(argv))
    if a.listen is None and a.textfile is None:
        raise UsageError("say where the metrics go: --listen HOST:PORT or --textfile PATH.prom")
    if a.textfile is not None and not a.textfile.endswith(".prom"):
        raise UsageError("--textfile: node_exporter reads only *.prom files; write --textfile %s.prom"
                         % a.textfile)
    if a.every is not None and a.textfile is None:
        raise UsageError("--every goes with --textfile (a server collects at each scrape)")
    if not a.max_series.isdigit() or int(a.max_series) < 1:
        raise UsageError("--max-series takes a whole number of at least 1, not %r" % a.max_series)
    return Settings(
        listen=parse_listen(a.listen) if a.listen is not None else None,
        textfile=a.textfile,
        every=parse_every(a.every) if a.every is not None else None,
        netns=a.netns,
        root=a.root,
        max_series=int(a.max_series),
        outbound_ports=parse_ports(a.outbound_ports),
        udp_include_ephemeral=a.udp_include_ephemeral,
        unix_listeners=a.unix_listeners,
    )


class Collector:
    """One collection at a time; the exposition text and whether it failed in part."""

    def __init__(self, s: Settings, err: IO[str]) -> None:
        self.settings = s
        self.err = err
        self.lock = threading.Lock()
        self.waiting = 0
        self.count_lock = threading.Lock()

    def text(self) -> str:
        from .. import _metrics, exporter

        s = self.settings
        options = _metrics.Options(s.max_series, s.outbound_ports, s.udp_include_ephemeral, s.unix_listeners)
        snap, families = exporter.collected(lambda: exporter.snapshot(s.root, s.netns), options)
        for line in snap.errors:
            self.err.write(message(PROG, line))
        return _metrics.render(families)

    def enter(self) -> bool:
        """Take a place in the queue; False when it is full."""
        with self.count_lock:
            if self.waiting >= MAX_WAITING + 1:
                return False
            self.waiting += 1
            return True

    def leave(self) -> None:
        with self.count_lock:
            self.waiting -= 1


LANDING = """<!DOCTYPE html>
<html><head><title>procnet exporter</title></head>
<body><h1>procnet exporter</h1><p>procnet %s: which sockets exist on this machine, and who owns them.</p>
<p><a href="/metrics">Metrics</a></p></body></html>
"""


def _handler(collector: Collector) -> type:
    from .. import __version__
    from .._metrics import CONTENT_TYPE

    class Handler(BaseHTTPRequestHandler):
        server_version = "procnet-exporter/" + __version__
        protocol_version = "HTTP/1.1"
        #: an idle keep-alive connection (or a client that never finishes its request)
        #: lets go of its thread after this many seconds
        timeout = 30

        def log_message(self, format: str, *args: Any) -> None:  # no access log on stderr
            pass

        def _send(self, code: int, body: bytes, ctype: str, extra: Sequence[Tuple[str, str]] = ()) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for name, value in extra:
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _metrics(self) -> None:
            if not collector.enter():
                self._send(503, b"too many scrapes waiting\n", "text/plain; charset=utf-8", [("Retry-After", "1")])
                return
            try:
                with collector.lock:
                    body = collector.text().encode("utf-8")
            except Exception as exc:  # a collection that raised: 500 with one line
                reason = escape_text("%s: %s" % (type(exc).__name__, exc))
                collector.err.write(message(PROG, "collection failed: " + reason))
                self._send(500, ("collection failed: %s\n" % reason).encode("utf-8"), "text/plain; charset=utf-8")
                return
            finally:
                collector.leave()
            self._send(200, body, CONTENT_TYPE)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._metrics()
            elif path == "/":
                self._send(200, (LANDING % html.escape(__version__)).encode("utf-8"), "text/html; charset=utf-8")
            else:
                self._send(404, b"not found: try /metrics\n", "text/plain; charset=utf-8")

        do_HEAD = do_GET

        def _not_allowed(self) -> None:
            self._send(405, b"method not allowed\n", "text/plain; charset=utf-8", [("Allow", "GET, HEAD")])

        def __getattr__(self, name: str) -> Any:
            # Every other method (POST, TRACE, CONNECT, made-up ones): 405, not the 501
            # BaseHTTPRequestHandler gives a method it has no do_X for.
            if name.startswith("do_"):
                return self._not_allowed
            raise AttributeError(name)

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def _bind(host: str, port: int, handler: type) -> _Server:
    """A server on HOST:PORT; the empty host is every address (IPv6 and IPv4 where possible)."""
    family = socket.AF_INET
    if host == "" and socket.has_ipv6:
        family, host = socket.AF_INET6, "::"
    elif ":" in host:
        family = socket.AF_INET6
    elif host:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]

    class Bound(_Server):
        address_family = family

        def server_bind(self) -> None:
            if family == socket.AF_INET6:
                self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            super().server_bind()

    try:
        return Bound((host, port), handler)
    except OSError:
        if host != "::":
            raise
        return _Server(("0.0.0.0", port), handler)  # no IPv6 here


def _on_signals(stop: Callable[[], None]) -> None:
    def handle(signum: int, frame: Any) -> None:
        stop()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def serve(s: Settings, err: IO[str]) -> int:
    assert s.listen is not None
    host, port = s.listen
    collector = Collector(s, err)
    try:
        server = _bind(host, port, _handler(collector))
    except (OSError, UnicodeError) as exc:
        err.write(message(PROG, "cannot listen on %s:%d: %s" % (host, port, getattr(exc, "strerror", None) or exc)))
        return 1
    stopping = threading.Event()

    def stop() -> None:
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    _on_signals(stop)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        with collector.lock:  # a scrape under way finishes first
            server.server_close()
    return 0


def _write_once(collector: Collector, path: str) -> bool:
    try:
        text = collector.text()
    except Exception as exc:
        collector.err.write(message(PROG, "collection failed: %s: %s" % (type(exc).__name__, exc)))
        return False
    try:
        from .._bundle import replace_file

        replace_file(path, text.encode("utf-8"))
    except OSError as exc:
        collector.err.write(message(PROG, "cannot write %s: %s" % (path, exc.strerror or exc)))
        return False
    return True


def textfile(s: Settings, err: IO[str]) -> int:
    assert s.textfile is not None
    collector = Collector(s, err)
    if s.every is None:
        return 0 if _write_once(collector, s.textfile) else 1
    stopping = threading.Event()
    _on_signals(stopping.set)
    while not stopping.is_set():
        started = time.monotonic()
        _write_once(collector, s.textfile)
        stopping.wait(max(0.0, s.every - (time.monotonic() - started)))
    return 0


def run(argv: Sequence[str], out: IO[str], err: IO[str]) -> int:
    try:
        s = settings(argv)
    except UsageError as exc:
        err.write(message(PROG, str(exc)))
        err.write("usage: procnet exporter (--listen HOST:PORT | --textfile PATH.prom [--every SECONDS]) "
                  "[--netns host|all] [--root DIR] [--max-series N] [--outbound-ports LIST] "
                  "[--udp-include-ephemeral] [--unix-listeners]\n")
        return 2
    if s.listen is not None:
        return serve(s, err)
    return textfile(s, err)


def main(argv: Optional[List[str]] = None) -> int:
    try:
        return run(sys.argv[1:] if argv is None else argv, sys.stdout, sys.stderr)
    except SystemExit as exc:  # --help
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
