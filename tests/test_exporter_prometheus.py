"""A real Prometheus scrapes ``procnet exporter --listen``; a real node_exporter reads ``--textfile``.

Both come from Debian's packages (tests/promtools.py: ``apt-get download`` + ``dpkg-deb
-x`` into a cache; nothing installed, no service started); without apt these tests skip and
say why, and under ``PROCNET_REQUIRE_PROMETHEUS=1`` (.ci/run) they fail instead. Everything
listens on 127.0.0.1 at ports the kernel just handed out; every process is started here
and ended by its pid; every wait is bounded (EXPORTER.md §11 steps 6-8).

* HTTP: exact ``Content-Type``, ``Content-Length``, HEAD, 404, 405 with ``Allow``, landing
  page, and the body valid by tests/test_exporter_format.py's checker.
* Prometheus 2.x (``scrape_interval: 1s``, a temporary TSDB): the target is up; its query
  API returns ``procnet_tcp_listen_sockets`` with the port and comm of a listener a child
  process holds (also a hostile comm), ``procnet_tcp_listen_queue`` = the 3 connections
  left unaccepted and ``..._queue_limit`` = the backlog asked for; a second job on the same
  target with ``sample_limit`` below the output size is down with "sample limit exceeded".
* node_exporter's textfile collector: ``node_textfile_scrape_error 0`` and the procnet
  series; only ``procnet.prom`` (mode 0644 whatever the umask) is left in the directory; a
  write that fails halfway (RLIMIT_FSIZE) or at the rename leaves the previous file as it
  was and no temporary file; ``--every`` rewrites it and exits 0 on SIGTERM.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import stat
import subprocess
import sys
import tempfile
import urllib.parse
from typing import Any, Dict, Iterator, List, NamedTuple, Tuple

import pytest

import promtools
from conftest import ROOT
from test_exporter_format import HOSTILE_COMM, HOSTILE_LABEL, check_exposition, parsed_samples, promtool_check

pytest.importorskip("procnet.cli.exporter", reason="procnet exporter's command line is not written yet")
import procnet  # noqa: E402

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not os.path.exists("/proc/self/ns/net"), reason="needs a live Linux /proc"),
]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# what Prometheus 2.42 sends (scrape/scrape.go scrapeAcceptHeader): OpenMetrics first
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                     "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
PROBE_COMM = b"pn-scrape-probe"
BACKLOG = 8
UNACCEPTED = 3
SAMPLE_LIMIT = 10
STARTUP = 30.0  # seconds any of the servers may take to answer
HOST = "127.0.0.1"


def exporter_argv(*args: str) -> List[str]:
    return [sys.executable, "-m", "procnet", "exporter"] + list(args)


def exporter_env() -> Dict[str, str]:
    return dict(os.environ, PYTHONPATH=ROOT)


def own_netns() -> str:
    return str(os.stat("/proc/self/ns/net").st_ino)


@pytest.fixture(scope="module")
def tools() -> promtools.Tools:
    return promtools.for_tests()


@pytest.fixture(scope="module")
def workdir() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="procnet-prom-") as d:
        yield d


class Held(NamedTuple):
    probe: promtools.Listener
    hostile: promtools.Listener


@pytest.fixture(scope="module")
def held() -> Iterator[Held]:
    """Two listeners in child processes, one named plainly and one hostile; the probe's
    queue holds UNACCEPTED connections (from this process, kept open)."""
    with promtools.listener(PROBE_COMM, BACKLOG) as probe, promtools.listener(HOSTILE_COMM, BACKLOG) as hostile:
        clients = [socket.create_connection((HOST, probe.tcp_port), timeout=5) for _ in range(UNACCEPTED)]
        try:
            yield Held(probe, hostile)
        finally:
            for c in clients:
                c.close()


def _metrics_ok(port: int) -> bool:
    return promtools.request("GET", HOST, port, "/metrics").status == 200


@pytest.fixture(scope="module")
def exporter(workdir: str, held: Held) -> Iterator[Tuple[promtools.Process, int]]:
    port = promtools.free_port()
    with promtools.running(exporter_argv("--listen", "%s:%d" % (HOST, port)), workdir, "exporter",
                           cwd=ROOT, env=exporter_env()) as proc:
        promtools.wait_for("procnet exporter to answer on %s:%d" % (HOST, port), lambda: _metrics_ok(port),
                           STARTUP, explain=proc.log)
        yield proc, port


# --- HTTP --------------------------------------------------------------------------------


def test_metrics_is_text_0_0_4_whatever_accept_asks(exporter: Tuple[promtools.Process, int]) -> None:
    _, port = exporter
    for accept in (PROMETHEUS_ACCEPT, "application/openmetrics-text;version=1.0.0", None):
        reply = promtools.request("GET", HOST, port, "/metrics", headers={"Accept": accept} if accept else None)
        assert reply.status == 200
        assert reply.headers["content-type"] == CONTENT_TYPE
        assert int(reply.headers["content-length"]) == len(reply.body)
        families = check_exposition(reply.body)
        assert "procnet_tcp_listen_sockets" in families and "procnet_exporter_info" in families
        assert families["procnet_scrape_error"].samples == {(): 0}


def test_metrics_passes_promtool(exporter: Tuple[promtools.Process, int]) -> None:
    reply = promtools.request("GET", HOST, exporter[1], "/metrics")
    assert reply.status == 200
    promtool_check(reply.body.decode("utf-8"))


def test_head_gives_the_headers_without_a_body(exporter: Tuple[promtools.Process, int]) -> None:
    _, port = exporter
    reply = promtools.request("HEAD", HOST, port, "/metrics")
    assert reply.status == 200
    assert reply.headers["content-type"] == CONTENT_TYPE
    assert int(reply.headers["content-length"]) > 0
    assert reply.body == b""


def test_landing_page_links_to_metrics(exporter: Tuple[promtools.Process, int]) -> None:
    _, port = exporter
    reply = promtools.request("GET", HOST, port, "/")
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/html")
    page = reply.body.decode("utf-8")
    assert 'href="/metrics"' in page and procnet.__version__ in page


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("path", ["/nope", "/metrics/", "/metricsx", "/favicon.ico"])
def test_other_paths_are_404(exporter: Tuple[promtools.Process, int], method: str, path: str) -> None:
    _, port = exporter
    assert promtools.request(method, HOST, port, path).status == 404


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"])
def test_other_methods_are_405_with_allow(exporter: Tuple[promtools.Process, int], method: str) -> None:
    _, port = exporter
    reply = promtools.request(method, HOST, port, "/metrics")
    assert (reply.status, reply.headers.get("allow")) == (405, "GET, HEAD")


def test_sigterm_ends_the_server_with_status_0(workdir: str) -> None:
    port = promtools.free_port()
    proc = promtools.Process(exporter_argv("--listen", "%s:%d" % (HOST, port)), workdir, "exporter-sigterm",
                             cwd=ROOT, env=exporter_env())
    try:
        promtools.wait_for("procnet exporter on %d" % port, lambda: _metrics_ok(port), STARTUP, explain=proc.log)
    finally:
        status = proc.stop()
    assert status == 0, proc.log()


# --- Prometheus ----------------------------------------------------------------------------

PROMETHEUS_CONFIG = """\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: procnet
    static_configs: [{targets: ['%(target)s']}]
  - job_name: procnet_limited
    sample_limit: %(limit)d
    scrape_interval: 2s
    scrape_timeout: 2s
    static_configs: [{targets: ['%(target)s']}]
"""


def api(port: int, path: str, **params: str) -> Any:
    query = ("?" + urllib.parse.urlencode(params)) if params else ""
    reply = promtools.request("GET", HOST, port, path + query)
    assert reply.status == 200, reply
    answer = json.loads(reply.body.decode("utf-8"))
    assert answer["status"] == "success", answer
    return answer["data"]


def targets(port: int) -> Dict[str, Dict[str, Any]]:
    """The active targets by job."""
    return {t["labels"]["job"]: t for t in api(port, "/api/v1/targets")["activeTargets"]}


def query(port: int, promql: str) -> List[Dict[str, Any]]:
    return list(api(port, "/api/v1/query", query=promql)["result"])


@pytest.fixture(scope="module")
def prometheus(tools: promtools.Tools, workdir: str, exporter: Tuple[promtools.Process, int]) -> Iterator[int]:
    target = "%s:%d" % (HOST, exporter[1])
    config = os.path.join(workdir, "prometheus.yml")
    with open(config, "w", encoding="utf-8") as f:
        f.write(PROMETHEUS_CONFIG % {"target": target, "limit": SAMPLE_LIMIT})
    port = promtools.free_port()
    argv = [tools.prometheus, "--config.file=" + config, "--storage.tsdb.path=" + os.path.join(workdir, "tsdb"),
            "--web.listen-address=%s:%d" % (HOST, port)]
    with promtools.running(argv, workdir, "prometheus", cwd=workdir) as proc:
        def up() -> bool:
            found = targets(port)
            return set(found) == {"procnet", "procnet_limited"} and all(t["health"] != "unknown" for t in found.values())

        promtools.wait_for("Prometheus to scrape both jobs once", up, STARTUP, every=0.25, explain=proc.log)
        yield port


def test_prometheus_scrapes_the_exporter(prometheus: int) -> None:
    # up at the latest scrape (a loaded machine may miss the 1 s timeout once: lastError says so)
    target = promtools.wait_for("the procnet target to be up", lambda: [
        t for t in [targets(prometheus)["procnet"]] if t["health"] == "up"], 10.0, every=0.25,
        explain=lambda: repr(targets(prometheus)["procnet"]))[0]
    assert target["lastError"] == ""
    scraped = query(prometheus, 'scrape_samples_scraped{job="procnet"}')
    assert len(scraped) == 1 and float(scraped[0]["value"][1]) > SAMPLE_LIMIT


def _one(port: int, promql: str) -> Tuple[Dict[str, str], str]:
    result = query(port, promql)
    assert len(result) == 1, (promql, result)
    return result[0]["metric"], result[0]["value"][1]


def test_prometheus_has_the_listener_with_its_port_and_comm(prometheus: int, held: Held) -> None:
    for listener, comm in ((held.probe, PROBE_COMM.decode()), (held.hostile, HOSTILE_LABEL)):
        labels, value = _one(prometheus, 'procnet_tcp_listen_sockets{job="procnet",port="%d"}' % listener.tcp_port)
        assert value == "1"
        assert labels == {"__name__": "procnet_tcp_listen_sockets", "job": "procnet",
                          "instance": labels["instance"], "netns": own_netns(), "family": "ipv4",
                          "address": "127.0.0.1", "port": str(listener.tcp_port), "comm": comm}


def test_prometheus_has_the_listen_queue_and_its_limit(prometheus: int, held: Held) -> None:
    port = held.probe.tcp_port

    def queue() -> bool:
        return _one(prometheus, 'procnet_tcp_listen_queue{job="procnet",port="%d"}' % port)[1] == str(UNACCEPTED)

    promtools.wait_for("procnet_tcp_listen_queue{port=%d} == %d" % (port, UNACCEPTED), queue, 10.0, every=0.25)
    limit = _one(prometheus, 'procnet_tcp_listen_queue_limit{job="procnet",port="%d"}' % port)[1]
    assert limit == str(BACKLOG)
    drops = _one(prometheus, 'procnet_tcp_listen_drops_total{job="procnet",port="%d"}' % port)[1]
    assert drops == "0"


def test_sample_limit_below_the_output_takes_the_target_down(prometheus: int) -> None:
    # the latest scrape's error (a loaded machine may have timed one out instead)
    target = promtools.wait_for("the limited target's sample limit error", lambda: [
        t for t in [targets(prometheus)["procnet_limited"]] if "sample limit exceeded" in t["lastError"]], 10.0,
        every=0.25, explain=lambda: repr(targets(prometheus)["procnet_limited"]))[0]
    assert target["health"] == "down"
    assert [r["value"][1] for r in query(prometheus, 'up{job="procnet_limited"}')] == ["0"]
    # none of its samples were kept: the whole scrape is rejected
    assert query(prometheus, 'procnet_exporter_info{job="procnet_limited"}') == []


# --- node_exporter's textfile collector -------------------------------------------------------


def write_textfile(path: str, *args: str, **popen: Any) -> "subprocess.CompletedProcess[bytes]":
    return subprocess.run(exporter_argv("--textfile", path, *args), cwd=ROOT, env=exporter_env(),
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=120, **popen)


def _strict_umask() -> None:
    os.umask(0o077)


def test_node_exporter_reads_the_textfile(tools: promtools.Tools, workdir: str, held: Held) -> None:
    directory = tempfile.mkdtemp(prefix="textfile-", dir=workdir)
    path = os.path.join(directory, "procnet.prom")
    done = write_textfile(path, preexec_fn=_strict_umask)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    assert os.listdir(directory) == ["procnet.prom"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    with open(path, "rb") as f:
        check_exposition(f.read())
    port = promtools.free_port()
    argv = [tools.node_exporter, "--web.listen-address=%s:%d" % (HOST, port), "--collector.disable-defaults",
            "--collector.textfile", "--collector.textfile.directory=" + directory]
    with promtools.running(argv, workdir, "node_exporter") as proc:
        reply = promtools.wait_for("node_exporter to answer on %d" % port,
                                   lambda: promtools.request("GET", HOST, port, "/metrics"), STARTUP, explain=proc.log)
    assert reply.status == 200
    samples = parsed_samples(reply.body.decode("utf-8"))
    assert samples[("node_textfile_scrape_error", ())] == 0.0
    assert [k for k in samples if k[0] == "node_textfile_mtime_seconds" and "procnet.prom" in dict(k[1])["file"]]
    for listener, comm in ((held.probe, PROBE_COMM.decode()), (held.hostile, HOSTILE_LABEL)):
        labels = (("address", "127.0.0.1"), ("comm", comm), ("family", "ipv4"), ("netns", own_netns()),
                  ("port", str(listener.tcp_port)))
        assert samples[("procnet_tcp_listen_sockets", labels)] == 1.0
    assert samples[("procnet_tcp_listen_queue", (("address", "127.0.0.1"), ("comm", PROBE_COMM.decode()),
                                                 ("family", "ipv4"), ("netns", own_netns()),
                                                 ("port", str(held.probe.tcp_port))))] == float(UNACCEPTED)


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (512, 512))  # CPython ignores SIGXFSZ: write() fails EFBIG


@pytest.mark.parametrize("failure", ["write fails halfway", "rename fails"])
def test_a_failed_write_leaves_the_previous_file_and_no_temporary(workdir: str, failure: str) -> None:
    directory = tempfile.mkdtemp(prefix="textfile-", dir=workdir)
    path = os.path.join(directory, "procnet.prom")
    if failure == "rename fails":
        os.mkdir(path)  # os.replace of a file onto a non-empty directory fails (EISDIR)
        with open(os.path.join(path, "keep"), "w") as f:
            f.write("x")
        done = write_textfile(path)
        assert os.path.isdir(path) and os.listdir(path) == ["keep"]
    else:
        assert write_textfile(path).returncode == 0
        with open(path, "rb") as f:
            before = f.read()
        assert len(before) > 512
        done = write_textfile(path, preexec_fn=_limit_file_size)
        with open(path, "rb") as f:
            assert f.read() == before
    assert done.returncode == 1, done
    assert done.stdout == b""
    assert done.stderr.count(b"\n") == 1 and b"procnet.prom" in done.stderr, done.stderr
    assert os.listdir(directory) == ["procnet.prom"]


def test_every_rewrites_the_file_and_sigterm_ends_it_with_status_0(workdir: str) -> None:
    directory = tempfile.mkdtemp(prefix="textfile-", dir=workdir)
    path = os.path.join(directory, "procnet.prom")
    proc = promtools.Process(exporter_argv("--textfile", path, "--every", "1s"), workdir, "every",
                             cwd=ROOT, env=exporter_env())
    try:
        first = promtools.wait_for("the first write", lambda: os.path.exists(path) and os.stat(path).st_mtime_ns,
                                   STARTUP, explain=proc.log)
        promtools.wait_for("a second write", lambda: os.stat(path).st_mtime_ns != first, 10.0, explain=proc.log)
    finally:
        status = proc.stop()
    assert status == 0, proc.log()
    assert os.listdir(directory) == ["procnet.prom"]
    with open(path, "rb") as f:
        check_exposition(f.read())
