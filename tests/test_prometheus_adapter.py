"""procnet.prometheus: the same metrics through prometheus_client as ``procnet exporter`` writes.

One Snapshot, built from a fixture tree's records with a listener's limit and drops, a
hostile process name (``"``, ``\\``, line feed, the byte ``\\xff`` kept as a surrogate
escape) and UDP drops, is fed to both :func:`procnet._metrics.render` and a
``CollectorRegistry`` holding :class:`ProcnetCollector`: ``generate_latest`` must give the
same HELP and TYPE lines (so the counter and info names the client derives are procnet's)
and, read back by ``prometheus_client.parser``, the same series with the same values. The
collector reads nothing to describe itself, checks its arguments when made, and
prometheus_client stays out of ``import procnet``, ``procnet.exporter`` and ``procnet
exporter`` (checked in a fresh interpreter); without it, importing the adapter names the
extra to install.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap
from typing import Any, Dict, List, Tuple

import pytest

from conftest import FIXTURES, ROOT

exporter = pytest.importorskip("procnet.exporter", reason="procnet.exporter is not written yet")
from procnet import _metrics  # noqa: E402
from procnet._records import InetSocket, Owner, TcpState  # noqa: E402

HOSTILE = 'we"b\\srv\nx\udcffy'
HOSTILE_LABEL = 'we"b\\srv\nx\\xffy'  # what the model writes for it (procnet's JSON rule)
Series = Dict[Tuple[str, Tuple[Tuple[str, str], ...]], float]


@pytest.fixture(scope="module")
def client() -> Any:
    return pytest.importorskip("prometheus_client")


def _hostile_owner(rec: InetSocket) -> InetSocket:
    """The listener as sock_diag would give it, held by a process with a hostile name."""
    owner = Owner(pid=4242, fd=7, mode="u", comm=HOSTILE)
    return dataclasses.replace(rec, owners=(owner,), listen_backlog=128, skmem=(0, 0, 0, 0, 0, 0, 0, 0, 9))


def rich_snapshot() -> _metrics.Snapshot:
    """Every kind of family with rows: listeners with limits and drops (a counter), UDP with
    drops, connections, process names, the health families; one listener's owner hostile."""
    snap = exporter.snapshot(os.path.join(FIXTURES, "live-loopback-every-kind"))
    records = list(snap.sockets)
    listeners = [i for i, r in enumerate(records) if isinstance(r, InetSocket) and r.state is TcpState.LISTEN]
    assert listeners, "the fixture has no TCP listener"
    for i in listeners:
        records[i] = _hostile_owner(records[i]) if i == listeners[0] else dataclasses.replace(
            records[i], listen_backlog=4096, skmem=(0,) * 8 + (i,))
    return snap._replace(sockets=records, namespaces=(4026531840,), owners_complete=True, errors=("a table",),
                         backend="netlink", version="0.1.0", duration=0.125)


def parsed(client: Any, text: str) -> Tuple[Series, Dict[str, Tuple[str, str]]]:
    """(series -> value, family name -> (type, help)) as prometheus_client's parser reads ``text``."""
    from prometheus_client.parser import text_string_to_metric_families

    series: Series = {}
    kinds: Dict[str, Tuple[str, str]] = {}
    for family in text_string_to_metric_families(text):
        kinds[family.name] = (family.type, family.documentation)
        for sample in family.samples:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            assert key not in series, key
            series[key] = sample.value
    return series, kinds


def meta_lines(text: str) -> List[str]:
    return [line for line in text.split("\n") if line.startswith("# ")]


def both(client: Any, snap: _metrics.Snapshot, **options: Any) -> Tuple[str, str]:
    """(procnet's own render, prometheus_client's generate_latest) of one snapshot."""
    from procnet.prometheus import ProcnetCollector

    collector = ProcnetCollector(snapshot=lambda: snap, **options)
    registry = client.CollectorRegistry()
    registry.register(collector)
    mine = _metrics.render(_metrics.build(snap, collector.options))
    return mine, client.generate_latest(registry).decode("utf-8")


@pytest.mark.parametrize("max_series", [500, 2])
def test_generate_latest_gives_procnet_names_series_and_values(client: Any, max_series: int) -> None:
    snap = rich_snapshot()
    mine, theirs = both(client, snap, max_series=max_series, udp_include_ephemeral=True)
    # The HELP and TYPE lines are the same, in the same order: the client's derived names
    # (CounterMetricFamily adds _total, InfoMetricFamily adds _info) are procnet's.
    assert meta_lines(theirs) == meta_lines(mine)
    assert "# TYPE procnet_tcp_listen_drops_total counter" in meta_lines(theirs)
    assert "# TYPE procnet_udp_drops_total counter" in meta_lines(theirs)
    assert "# TYPE procnet_exporter_info gauge" in meta_lines(theirs)
    series, kinds = parsed(client, theirs)
    assert (series, kinds) == parsed(client, mine)
    assert series[("procnet_exporter_info", (("backend", "netlink"), ("version", "0.1.0")))] == 1
    assert series[("procnet_scrape_error", ())] == 1
    assert series[("procnet_scrape_duration_seconds", ())] == 0.125
    drops = {k: v for k, v in series.items() if k[0] == "procnet_tcp_listen_drops_total"}
    if max_series == 2:  # the cap is the model's: kept rows plus one 'other' row
        assert len(drops) == 2 and any(dict(k[1])["port"] == "other" for k in drops)
    else:
        assert drops[next(k for k in drops if dict(k[1])["comm"] == HOSTILE_LABEL)] == 9


def test_hostile_comm_reaches_the_client_as_text(client: Any) -> None:
    from procnet.prometheus import ProcnetCollector

    metrics = ProcnetCollector(snapshot=rich_snapshot).collect()
    values = [v for m in metrics for s in m.samples for v in s.labels.values()]
    assert HOSTILE_LABEL in values
    for value in values:
        value.encode("utf-8")  # no lone surrogate: the client would raise UnicodeEncodeError
    _, theirs = both(client, rich_snapshot())
    assert 'comm="we\\"b\\\\srv\\nx\\\\xffy"' in theirs
    series, _ = parsed(client, theirs)
    assert ("procnet_process_sockets", (("comm", HOSTILE_LABEL), ("proto", "tcp"))) in series


def test_describe_reads_nothing_and_names_every_family(client: Any) -> None:
    from procnet.prometheus import ProcnetCollector

    def refuse() -> _metrics.Snapshot:
        raise AssertionError("describe() or register() read the machine")

    collector = ProcnetCollector(snapshot=refuse, outbound_ports=[443], unix_listeners=True)
    registry = client.CollectorRegistry()
    registry.register(collector)  # calls describe(): must not read
    described = {m.name: m.type for m in collector.describe()}
    assert all(not m.samples for m in collector.describe())
    assert described["procnet_tcp_listen_drops_total".replace("_total", "")] == "counter"
    assert described["procnet_exporter"] == "info"
    assert {"procnet_tcp_outbound_connections", "procnet_unix_listen_queue_limit"} <= set(described)
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        registry.register(ProcnetCollector(snapshot=refuse))  # the names are claimed
    # and what collect() returns is among what describe() announced
    collected = ProcnetCollector(snapshot=rich_snapshot, outbound_ports=[443], unix_listeners=True).collect()
    assert {(m.name, m.type) for m in collected} <= set(described.items())


def test_default_read_is_the_exporters(client: Any) -> None:
    from procnet.prometheus import ProcnetCollector

    root = os.path.join(FIXTURES, "owners-forked-listener")
    registry = client.CollectorRegistry()
    registry.register(ProcnetCollector(root=root, max_series=3))
    text = client.generate_latest(registry).decode("utf-8")
    expected = exporter.exposition(root=root, max_series=3)
    # the text tables know no limit and no drops: those families are left out, not empty
    assert meta_lines(text) == meta_lines(expected) and "# HELP procnet_tcp_listen_queue_limit " not in text
    theirs, _ = parsed(client, text)
    mine, _ = parsed(client, expected)
    duration = ("procnet_scrape_duration_seconds", ())
    assert theirs.pop(duration) >= 0 and mine.pop(duration) >= 0
    assert theirs == mine
    assert any(k[0] == "procnet_tcp_listen_sockets" and ("comm", "nginx") in k[1] for k in theirs)


@pytest.mark.parametrize("kwargs, message", [
    ({"netns": "pods"}, "netns"),
    ({"max_series": 0}, "max_series"),
    ({"outbound_ports": [0]}, "outbound_ports"),
])
def test_bad_arguments_raise_when_made(client: Any, kwargs: Dict[str, Any], message: str) -> None:
    from procnet.prometheus import ProcnetCollector

    with pytest.raises(ValueError, match=message):
        ProcnetCollector(**kwargs)


def _fresh_python(code: str) -> "subprocess.CompletedProcess[bytes]":
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=120, env=dict(os.environ, PYTHONPATH=ROOT))


def test_procnet_and_its_exporter_never_import_prometheus_client(tmp_path: Any) -> None:
    done = _fresh_python("""
        import sys
        import procnet, procnet.exporter
        from procnet.cli import main
        procnet.exporter.exposition(root=%r)
        assert main(["exporter", "--textfile", %r, "--root", %r]) == 0
        loaded = sorted(m for m in sys.modules if m.split(".")[0] == "prometheus_client")
        print("loaded:", loaded)
        """ % (os.path.join(FIXTURES, "owners-forked-listener"), str(tmp_path / "p.prom"),
               os.path.join(FIXTURES, "owners-forked-listener")))
    assert done.returncode == 0 and done.stdout.decode().strip().endswith("loaded: []"), done.stdout.decode()
    assert (tmp_path / "p.prom").read_text().startswith("# HELP procnet_")


def test_without_prometheus_client_the_import_names_the_extra() -> None:
    done = _fresh_python("""
        import sys
        sys.modules["prometheus_client"] = None  # what an absent package looks like to import
        try:
            import procnet.prometheus
        except ImportError as exc:
            print(type(exc).__name__, exc.name, exc)
        """)
    out = done.stdout.decode()
    assert done.returncode == 0, out
    assert out.startswith("ImportError prometheus_client ") and "pip install 'procnet-sockets[prometheus]'" in out
