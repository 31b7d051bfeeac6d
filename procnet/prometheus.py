"""procnet's metrics for applications that already run ``prometheus_client``.

>>> from prometheus_client import REGISTRY
>>> from procnet.prometheus import ProcnetCollector
>>> REGISTRY.register(ProcnetCollector(netns="host"))        # doctest: +SKIP

:class:`ProcnetCollector` is a custom collector (prometheus/client_python
``docs/content/collector/custom.md``). Each ``collect()`` reads afresh, as one scrape of
``procnet exporter`` does, and maps the same families, capped by ``max_series`` the same
way (:mod:`procnet._metrics`), to ``GaugeMetricFamily`` and ``CounterMetricFamily``;
``procnet_exporter_info`` becomes ``InfoMetricFamily("procnet_exporter")``, which the
client writes as ``procnet_exporter_info``. So ``generate_latest()`` gives the series,
values, HELP and TYPE lines that ``procnet exporter`` serves (the client writes ``1.0``
where procnet writes ``1``). ``describe()`` answers without reading anything: registering
costs nothing. Label values are the model's, already text (a process name's bytes that
are not UTF-8 are written ``\\xNN``), so the client never meets a lone surrogate.

A read that failed in part shows as ``procnet_scrape_error 1`` (the command also prints
the reason on stderr; a library collector does not). One collection runs at a time:
concurrent scrapes wait for it.

Only this module imports ``prometheus_client`` (``pip install 'procnet-sockets[prometheus]'``);
``import procnet``, :mod:`procnet.exporter` and ``procnet exporter`` never do.
"""

from __future__ import annotations

import os
import threading
from typing import Callable, Iterable, List, Optional, Sequence, Tuple, Union

from . import exporter
from ._metrics import Family, Key, Snapshot, build
from ._proc import DEFAULT_ROOT

#: what to install for this module
_EXTRA = "procnet-sockets[prometheus]"

try:
    # prometheus_client ships its own types (py.typed, 0.21 included); a type check run
    # without it installed sees Any here, hence the ignores that are unused when it is.
    from prometheus_client.metrics_core import (  # type: ignore[import-not-found, unused-ignore]
        CounterMetricFamily,
        GaugeMetricFamily,
        InfoMetricFamily,
        Metric,
    )
    from prometheus_client.registry import Collector  # type: ignore[import-not-found, unused-ignore]
except ImportError as exc:
    raise ImportError("procnet.prometheus needs prometheus_client: pip install '%s' (%s)" % (_EXTRA, exc),
                      name="prometheus_client") from exc

_INFO = "procnet_exporter_info"
Rows = Sequence[Tuple[Key, float]]


def _to_metric(family: Family, rows: Optional[Rows] = None) -> Metric:
    """One model family as prometheus_client's metric family, with ``rows`` (default: the
    family's own, sorted) as its samples. Counters are named without ``_total``, which the
    client adds back; the info family is named without ``_info``, likewise."""
    if rows is None:
        rows = sorted(family.rows.items())
    if family.name == _INFO:
        info = InfoMetricFamily(_INFO[:-len("_info")], family.help, labels=())
        for key, _ in rows:  # always 1
            info.add_metric((), dict(zip(family.labels, key)))
        return info
    if family.type == "counter":
        counter = CounterMetricFamily(family.name[:-len("_total")], family.help, labels=family.labels)
        for key, value in rows:
            counter.add_metric(key, value)
        return counter
    if family.type != "gauge":
        raise ValueError("%s: no prometheus_client family for type %r" % (family.name, family.type))
    gauge = GaugeMetricFamily(family.name, family.help, labels=family.labels)
    for key, value in rows:
        gauge.add_metric(key, value)
    return gauge


class ProcnetCollector(Collector):  # type: ignore[misc, unused-ignore]
    """The exporter's metrics as a prometheus_client collector.

    The parameters are those of :func:`procnet.exporter.collect` (and of ``procnet
    exporter``'s options); bad values raise ``ValueError`` here, not at the first scrape.
    ``snapshot``, for tests and callers that read for themselves, replaces the read: a
    function that returns a :class:`procnet._metrics.Snapshot` (default:
    ``procnet.exporter.snapshot(root, netns)``).

    >>> REGISTRY.register(ProcnetCollector(root="/host/proc", max_series=200))  # doctest: +SKIP
    """

    def __init__(
        self,
        netns: str = "host",
        root: Union[str, "os.PathLike[str]"] = DEFAULT_ROOT,
        max_series: int = 500,
        outbound_ports: Iterable[int] = (),
        udp_include_ephemeral: bool = False,
        unix_listeners: bool = False,
        *,
        snapshot: Optional[Callable[[], Snapshot]] = None,
    ) -> None:
        if netns not in exporter.NETNS_CHOICES:
            raise ValueError("netns is 'host' or 'all', not %r" % (netns,))
        self.netns = netns
        self.root = os.fspath(root)
        self.options = exporter._options(max_series, outbound_ports, udp_include_ephemeral, unix_listeners)
        self._snapshot = snapshot if snapshot is not None else self._read
        self._lock = threading.Lock()

    def _read(self) -> Snapshot:
        return exporter.snapshot(self.root, self.netns)

    def collect(self) -> List[Metric]:
        """Read afresh; the families that have series (as ``procnet exporter`` writes them)."""
        with self._lock:
            families = exporter.collected(self._snapshot, self.options)[1]
        return [_to_metric(family) for family in families if family.rows]

    def describe(self) -> List[Metric]:
        """Every family ``collect()`` may return, without samples and without reading."""
        return [_to_metric(family, ()) for family in build(Snapshot(sockets=(), namespaces=()), self.options)]

    def __repr__(self) -> str:
        return "ProcnetCollector(netns=%r, root=%r, %r)" % (self.netns, self.root, self.options)


__all__ = ["ProcnetCollector"]
