"""``procnet exporter``: arguments, the textfile writer, the HTTP server's rules and signals.

The real Prometheus and node_exporter scrape it in tests/test_exporter_prometheus.py.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Iterator, List, Tuple

import pytest

from procnet.cli import exporter as cli

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
FIXTURE = os.path.join(TOP, "fixtures", "owners-forked-listener")


def run(*argv: str) -> Tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("argv,says", [
    ((), "--listen HOST:PORT or --textfile PATH.prom"),
    (("--textfile", "/tmp/x.txt"), "write --textfile /tmp/x.txt.prom"),
    (("--listen", "127.0.0.1"), "HOST:PORT"),
    (("--listen", "127.0.0.1:0"), "1-65535"),
    (("--listen", "127.0.0.1:70000"), "1-65535"),
    (("--listen", ":1", "--textfile", "a.prom"), "not allowed with"),
    (("--listen", ":1", "--every", "5"), "--every goes with --textfile"),
    (("--textfile", "a.prom", "--every", "0"), "greater than 0"),
    (("--textfile", "a.prom", "--every", "soon"), "30 or 30s"),
    (("--textfile", "a.prom", "--max-series", "0"), "at least 1"),
    (("--textfile", "a.prom", "--outbound-ports", "443,x"), "443,5432"),
    (("--textfile", "a.prom", "--netns", "some"), "invalid choice"),
])
def test_usage_errors_exit_2_and_say_what_to_write(argv: Tuple[str, ...], says: str) -> None:
    code, out, err = run(*argv)
    assert code == 2 and out == ""
    assert err.startswith("procnet exporter: ") and says in err
    assert "Traceback" not in err


def test_listen_forms() -> None:
    assert cli.parse_listen(":9469") == ("", 9469)
    assert cli.parse_listen("127.0.0.1:9469") == ("127.0.0.1", 9469)
    assert cli.parse_listen("[::1]:9469") == ("::1", 9469)
    assert cli.parse_listen("localhost:1") == ("localhost", 1)
    assert cli.parse_every("30s") == 30.0 and cli.parse_every("0.5") == 0.5
    assert cli.parse_ports("5432,443,443") == (443, 5432)


def test_textfile_once_is_0644_whatever_the_umask_and_leaves_nothing_else(tmp_path: Any) -> None:
    path = str(tmp_path / "procnet.prom")
    old = os.umask(0o077)
    try:
        code, out, err = run("--textfile", path, "--root", FIXTURE)
    finally:
        os.umask(old)
    assert (code, out, err) == (0, "", "")
    assert os.listdir(str(tmp_path)) == ["procnet.prom"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    text = open(path, encoding="utf-8").read()
    assert "procnet_tcp_listen_sockets{" in text and text.endswith("\n")
    assert "procnet_tcp_listen_queue_limit{" not in text  # a fixture tree: text tables, no limits


def test_textfile_failure_keeps_the_previous_file(tmp_path: Any, monkeypatch: Any) -> None:
    path = str(tmp_path / "procnet.prom")
    with open(path, "w") as f:
        f.write("# previous\n")

    def failing_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli.os, "fsync", failing_fsync)
    code, out, err = run("--textfile", path, "--root", FIXTURE)
    assert code == 1
    assert err == "procnet exporter: cannot write %s: No space left on device\n" % path
    assert open(path).read() == "# previous\n"
    assert os.listdir(str(tmp_path)) == ["procnet.prom"]


def test_textfile_in_a_missing_directory_exits_1(tmp_path: Any) -> None:
    code, _, err = run("--textfile", str(tmp_path / "no" / "x.prom"), "--root", FIXTURE)
    assert code == 1 and "cannot write" in err and "No such file" in err


def test_textfile_never_follows_a_planted_temporary_link(tmp_path: Any) -> None:
    path = str(tmp_path / "procnet.prom")
    victim = tmp_path / "victim"
    victim.write_text("keep")
    os.symlink(str(victim), "%s.%d" % (path, os.getpid()))
    code, _, err = run("--textfile", path, "--root", FIXTURE)
    assert code == 1 and "cannot write" in err
    assert victim.read_text() == "keep"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(port: int, deadline: float = 10.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the exporter did not listen on %d" % port)


@pytest.fixture
def server() -> Iterator[Tuple[subprocess.Popen, int]]:  # type: ignore[type-arg]
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "procnet", "exporter", "--listen", "127.0.0.1:%d" % port,
                             "--root", FIXTURE], cwd=TOP, stderr=subprocess.PIPE)
    try:
        _wait_for(port)
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        assert proc.stderr is not None
        proc.stderr.close()


def test_sigterm_stops_the_server_with_status_0(server: Tuple[subprocess.Popen, int]) -> None:  # type: ignore[type-arg]
    proc, port = server
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
        assert r.status == 200
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0


def test_every_rewrites_until_sigterm(tmp_path: Any) -> None:
    path = str(tmp_path / "p.prom")
    proc = subprocess.Popen([sys.executable, "-m", "procnet", "exporter", "--textfile", path, "--every", "0.2",
                             "--root", FIXTURE], cwd=TOP)
    try:
        end = time.monotonic() + 10
        while not os.path.exists(path) and time.monotonic() < end:
            time.sleep(0.05)
        first = os.stat(path).st_ino
        end = time.monotonic() + 10
        while os.stat(path).st_ino == first and time.monotonic() < end:
            time.sleep(0.05)
        assert os.stat(path).st_ino != first  # replaced, not rewritten in place
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert os.listdir(str(tmp_path)) == ["p.prom"]


class _Slow(cli.Collector):
    """A collector whose collection takes a while, or raises."""

    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        super().__init__(cli.settings(["--listen", ":1"]), io.StringIO())
        self.delay, self.fail, self.calls = delay, fail, 0

    def text(self) -> str:
        self.calls += 1
        time.sleep(self.delay)
        if self.fail:
            raise RuntimeError("kaputt\nsecond line")
        return "procnet_scrape_error 0\n"


def _serve(collector: cli.Collector) -> Tuple[Any, int]:
    srv = cli._bind("127.0.0.1", 0, cli._handler(collector))
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return srv, srv.server_address[1]


def _get(port: int, path: str = "/metrics") -> Tuple[int, Any, bytes]:
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=20) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def test_one_collection_at_a_time_and_503_past_the_waiting_limit() -> None:
    collector = _Slow(delay=0.4)
    srv, port = _serve(collector)
    try:
        results: List[Tuple[int, Any, bytes]] = []
        threads = [threading.Thread(target=lambda: results.append(_get(port))) for _ in range(cli.MAX_WAITING + 3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        codes = sorted(r[0] for r in results)
        assert codes.count(200) == cli.MAX_WAITING + 1
        assert codes.count(503) == 2
        assert all(r[1]["Retry-After"] == "1" for r in results if r[0] == 503)
        assert collector.calls == cli.MAX_WAITING + 1
    finally:
        srv.shutdown()
        srv.server_close()


def test_a_collection_that_raises_is_500_with_one_line() -> None:
    collector = _Slow(fail=True)
    srv, port = _serve(collector)
    try:
        code, headers, body = _get(port)
        assert code == 500
        assert body.count(b"\n") == 1 and body.startswith(b"collection failed: RuntimeError: kaputt")
        assert collector.err.getvalue().count("\n") == 1  # type: ignore[attr-defined]
    finally:
        srv.shutdown()
        srv.server_close()


def test_routes_and_methods() -> None:
    srv, port = _serve(_Slow())
    try:
        code, headers, body = _get(port)
        assert code == 200 and headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        assert headers["Content-Length"] == str(len(body))
        code, headers, body = _get(port, "/")
        assert code == 200 and b'href="/metrics"' in body
        assert _get(port, "/other")[0] == 404
        req = urllib.request.Request("http://127.0.0.1:%d/metrics" % port, method="HEAD")
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200 and r.read() == b"" and int(r.headers["Content-Length"]) > 0
        req = urllib.request.Request("http://127.0.0.1:%d/metrics" % port, data=b"x", method="POST")
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(req, timeout=10)
        assert info.value.code == 405 and info.value.headers["Allow"] == "GET, HEAD"
    finally:
        srv.shutdown()
        srv.server_close()


def test_an_idle_connection_lets_go_of_its_thread() -> None:
    handler = cli._handler(_Slow())
    assert handler.timeout == 30  # type: ignore[attr-defined]
    handler.timeout = 0.3  # type: ignore[attr-defined]
    srv = cli._bind("127.0.0.1", 0, handler)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        with socket.create_connection(("127.0.0.1", srv.server_address[1]), timeout=10) as idle:
            idle.sendall(b"GET /metr")  # a request never finished
            started = time.monotonic()
            assert idle.recv(100) == b""  # closed by the server
            assert time.monotonic() - started < 5
    finally:
        srv.shutdown()
        srv.server_close()


def test_cannot_bind_exits_1(tmp_path: Any) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        code, _, err = run("--listen", "127.0.0.1:%d" % port)
    assert code == 1 and err.startswith("procnet exporter: cannot listen on 127.0.0.1:%d: " % port)


def test_listed_in_procnet_help() -> None:
    out = subprocess.run([sys.executable, "-m", "procnet", "--help"], cwd=TOP, stdout=subprocess.PIPE,
                         universal_newlines=True, check=True).stdout
    assert "procnet exporter" in out
