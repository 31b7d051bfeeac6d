"""The exporter's metric model (procnet/_metrics.py): records in, families and text out.

Scenarios of EXPORTER.md §11.1 built from records (sans-I/O), fixture trees read through
procnet.exporter.snapshot (both byte orders), golden text for one, properties of the cap
and of the text format.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from procnet import _metrics, exporter
from procnet._metrics import OTHER, Options, Snapshot, build, render
from procnet._records import Endpoint, InetSocket, Owner, Socket, TcpState, Timer, UnixSocket

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(os.path.dirname(HERE), "fixtures")
NS = 4026531840
_inode = [1000]


def inet(state: TcpState, local: str, lport: int, remote: str = "0.0.0.0", rport: int = 0, *,
         proto: str = "tcp", comms: Sequence[str] = (), netns: int = NS, **kw: Any) -> InetSocket:
    family = socket.AF_INET6 if ":" in local else socket.AF_INET
    if family == socket.AF_INET6 and remote == "0.0.0.0":
        remote = "::"
    _inode[0] += 1
    base: Dict[str, Any] = dict(
        proto=proto, family=family, local=Endpoint(ipaddress.ip_address(local), lport),
        remote=Endpoint(ipaddress.ip_address(remote), rport), state=state, tx_queue=0, rx_queue=0,
        timer=Timer.NONE, timer_expires=0, retransmits=0, uid=0, probes=0, inode=_inode[0], refcount=1,
        pointer="0", slot=0, netns=netns,
        owners=tuple(Owner(100 + i, 3 + i, "u", c) for i, c in enumerate(comms)), owners_complete=True,
    )
    base.update(kw)
    return InetSocket(**base)


def listener(local: str, port: int, comms: Sequence[str] = ("srv",), queue: int = 0,
             limit: Optional[int] = 128, drops: Optional[int] = 0, **kw: Any) -> InetSocket:
    skmem = None if drops is None else (0, 0, 0, 0, 0, 0, 0, 0, drops)
    return inet(TcpState.LISTEN, local, port, comms=comms, rx_queue=queue, listen_backlog=limit, skmem=skmem, **kw)


def snap(records: Sequence[Socket], **kw: Any) -> Snapshot:
    base: Dict[str, Any] = dict(sockets=list(records), namespaces=(NS,), owners_complete=True, backend="netlink",
                                version="0.0.0", duration=0.001)
    base.update(kw)
    return Snapshot(**base)


def rows(families: List[_metrics.Family], name: str) -> Dict[Tuple[str, ...], float]:
    for f in families:
        if f.name == name:
            return dict(f.rows)
    raise KeyError(name)


def by(families: List[_metrics.Family], name: str, **labels: str) -> float:
    fam = next(f for f in families if f.name == name)
    hits = [v for k, v in fam.rows.items() if all(dict(zip(fam.labels, k))[n] == x for n, x in labels.items())]
    assert len(hits) == 1, (name, labels, fam.rows)
    return hits[0]


# --- scenarios ---------------------------------------------------------------------------


def test_reuseport_group_is_one_identity() -> None:
    group = [listener("0.0.0.0", 8080, ("nginx",), queue=q, limit=lim, drops=d)
             for q, lim, d in ((1, 10, 3), (9, 10, 4), (2, 100, 5))]
    fam = build(snap(group))
    key = (str(NS), "ipv4", "0.0.0.0", "8080", "nginx")
    assert rows(fam, "procnet_tcp_listen_sockets") == {key: 3}
    # the member closest to full: 9/10, not the one with the largest queue of a bigger limit
    assert rows(fam, "procnet_tcp_listen_queue") == {key: 9}
    assert rows(fam, "procnet_tcp_listen_queue_limit") == {key: 10}
    assert rows(fam, "procnet_tcp_listen_drops_total") == {key: 12}


def test_socket_activated_listener_names_both_owners_sorted() -> None:
    fam = build(snap([listener("::", 631, ("systemd", "cupsd"))]))
    assert list(rows(fam, "procnet_tcp_listen_sockets")) == [(str(NS), "ipv6", "::", "631", "cupsd,systemd")]


def test_more_than_three_comms_are_counted() -> None:
    fam = build(snap([listener("0.0.0.0", 80, ("e", "d", "c", "b", "a"))]))
    assert list(rows(fam, "procnet_tcp_listen_sockets"))[0][4] == "a,b,c,+2"


def test_hidden_and_absent_owners_give_empty_comm_and_say_whether_the_scan_was_whole() -> None:
    rec = listener("127.0.0.1", 25, comms=())
    whole = build(snap([rec], owners_complete=True))
    partial = build(snap([rec], owners_complete=False))
    assert list(rows(whole, "procnet_tcp_listen_sockets"))[0][4] == ""
    assert rows(whole, "procnet_owner_scan_complete") == {(): 1}
    assert rows(partial, "procnet_owner_scan_complete") == {(): 0}


def test_hostile_comm_is_escaped_in_text_and_converted_in_the_model() -> None:
    comm = 'a"b\\c\nd' + "\udcff"  # surrogate escape: the byte 0xff of a comm that is not UTF-8
    fam = build(snap([listener("0.0.0.0", 99, (comm,))]))
    label = list(rows(fam, "procnet_tcp_listen_sockets"))[0][4]
    assert label == 'a"b\\c\nd\\xff'
    text = render(fam)
    assert 'comm="a\\"b\\\\c\\nd\\\\xff"' in text
    text.encode("utf-8")  # no surrogate left
    check_exposition(text)
    controls = build(snap([listener("0.0.0.0", 98, ("\x1b]0;pwned\x07\t\x9b",))]))
    assert list(rows(controls, "procnet_tcp_listen_sockets"))[0][4] == "\\x1b]0;pwned\\x07\\x09\\x9b"


def test_ipv6_address_compressed_without_brackets() -> None:
    fam = build(snap([listener("fe80:0:0:0:0:0:0:1", 22), listener("::ffff:127.0.0.1", 23)]))
    addresses = {k[2] for k in rows(fam, "procnet_tcp_listen_sockets")}
    assert addresses == {"fe80::1", "::ffff:127.0.0.1"}


def test_cap_folds_listeners_into_other_and_counts_them() -> None:
    many = [listener("10.0.%d.%d" % (i // 250, i % 250), 1000 + i, queue=i % 7, drops=i) for i in range(501)]
    fam = build(snap(many), Options(max_series=500))
    for name in ("procnet_tcp_listen_sockets", "procnet_tcp_listen_queue", "procnet_tcp_listen_queue_limit",
                 "procnet_tcp_listen_drops_total"):
        r = rows(fam, name)
        assert len(r) == 500
        assert (OTHER,) * 5 in r
        assert rows(fam, "procnet_series_dropped")[(name,)] == 2
    assert rows(fam, "procnet_tcp_listen_sockets")[(OTHER,) * 5] == 2
    # the same listeners are kept in all four families
    kept = [set(k for k in rows(fam, n)) for n in ("procnet_tcp_listen_sockets", "procnet_tcp_listen_drops_total")]
    assert kept[0] == kept[1]
    # sum() stays right
    assert sum(rows(fam, "procnet_tcp_listen_drops_total").values()) == sum(range(501))


def test_proc_source_has_no_limit_or_drops_series() -> None:
    fam = build(snap([listener("0.0.0.0", 80, limit=None, drops=None)], backend="proc"))
    text = render(fam)
    assert "procnet_tcp_listen_queue{" in text
    assert "procnet_tcp_listen_queue_limit{" not in text
    assert "procnet_tcp_listen_drops_total{" not in text
    assert "# TYPE procnet_tcp_listen_queue_limit" not in text


def test_inbound_connections_by_listener_port_wildcard_and_dual_stack() -> None:
    recs = [
        listener("::", 443, ("web",), v6only=False),
        inet(TcpState.ESTABLISHED, "::ffff:127.0.0.1", 443, "::ffff:127.0.0.1", 50000, rx_queue=5, tx_queue=7),
        inet(TcpState.ESTABLISHED, "::1", 443, "::1", 50001, rx_queue=1),
        inet(TcpState.CLOSE_WAIT, "::1", 443, "::1", 50002),
        # the clients' side: local ports are ephemeral, not served
        inet(TcpState.ESTABLISHED, "::1", 50001, "::1", 443, comms=("curl",)),
        listener("127.0.0.1", 5432, ("postgres",)),
        inet(TcpState.ESTABLISHED, "127.0.0.2", 5432, "127.0.0.1", 40000),  # another address: not served
    ]
    fam = build(snap(recs))
    assert rows(fam, "procnet_tcp_inbound_connections") == {
        (str(NS), "443", "established", "web"): 2, (str(NS), "443", "close_wait", "web"): 1}
    assert rows(fam, "procnet_tcp_inbound_receive_queue_bytes") == {(str(NS), "443", "web"): 6}
    assert rows(fam, "procnet_tcp_inbound_send_queue_bytes") == {(str(NS), "443", "web"): 7}


def test_v6only_wildcard_does_not_serve_ipv4() -> None:
    recs = [listener("::", 80, v6only=True),
            inet(TcpState.ESTABLISHED, "::ffff:127.0.0.1", 80, "::ffff:127.0.0.1", 40000)]
    assert rows(build(snap(recs)), "procnet_tcp_inbound_connections") == {}


def test_ephemeral_clients_add_no_series() -> None:
    base = [listener("127.0.0.1", 80, ("srv",))]
    few = base + [inet(TcpState.ESTABLISHED, "127.0.0.1", 80, "127.0.0.1", 40000 + i) for i in range(2)]
    few += [inet(TcpState.ESTABLISHED, "127.0.0.1", 40000 + i, "127.0.0.1", 80) for i in range(2)]
    many = base + [inet(TcpState.ESTABLISHED, "127.0.0.1", 80, "127.0.0.1", 40000 + i) for i in range(3000)]
    many += [inet(TcpState.ESTABLISHED, "127.0.0.1", 40000 + i, "127.0.0.1", 80) for i in range(3000)]

    def series(records: List[Socket]) -> set:
        return {(f.name, k) for f in build(snap(records)) for k in f.rows}
    assert series(few) == series(many)


def test_outbound_ports_are_opt_in() -> None:
    recs = [inet(TcpState.ESTABLISHED, "127.0.0.1", 40000, "127.0.0.1", 5432),
            inet(TcpState.SYN_SENT, "127.0.0.1", 40001, "127.0.0.1", 443)]
    assert "procnet_tcp_outbound_connections" not in {f.name for f in build(snap(recs))}
    fam = build(snap(recs), Options(outbound_ports=(5432,)))
    assert rows(fam, "procnet_tcp_outbound_connections") == {(str(NS), "5432", "established"): 1}


def test_tcp_states_all_eleven_with_zeros_per_namespace() -> None:
    fam = build(snap([inet(TcpState.TIME_WAIT, "127.0.0.1", 80, "127.0.0.1", 1)], namespaces=(NS, NS + 1)))
    r = rows(fam, "procnet_tcp_sockets")
    assert len(r) == 22
    assert r[(str(NS), "time_wait")] == 1
    assert sum(r.values()) == 1
    assert {k[1] for k in r} == {"established", "syn_sent", "syn_recv", "fin_wait1", "fin_wait2", "time_wait",
                                 "close", "close_wait", "last_ack", "listen", "closing"}


def test_udp_services_leave_out_ephemeral_and_connected_sockets() -> None:
    recs = [
        inet(TcpState.CLOSE, "0.0.0.0", 53, proto="udp", comms=("dnsmasq",), rx_queue=768, drops=3),
        inet(TcpState.CLOSE, "0.0.0.0", 53, proto="udp", comms=("dnsmasq",), rx_queue=0, drops=1),
        inet(TcpState.CLOSE, "0.0.0.0", 40000, proto="udp", comms=("resolver",), drops=0),
        inet(TcpState.ESTABLISHED, "127.0.0.1", 5353, "127.0.0.1", 53, proto="udp", drops=0),
        inet(TcpState.CLOSE, "::", 443, proto="udplite", comms=("quic",), drops=None),
    ]
    fam = build(snap(recs))
    key = (str(NS), "ipv4", "0.0.0.0", "53", "dnsmasq")
    assert rows(fam, "procnet_udp_sockets") == {key: 2, (str(NS), "ipv6", "::", "443", "quic"): 1}
    assert rows(fam, "procnet_udp_receive_queue_bytes")[key] == 768
    assert rows(fam, "procnet_udp_drops_total") == {key: 4}  # quic's drops unknown: no series
    wide = build(snap(recs), Options(udp_include_ephemeral=True))
    assert by(wide, "procnet_udp_sockets", port="40000") == 1


def test_process_sockets_counts_distinct_inodes_per_comm_and_proto() -> None:
    lst = listener("0.0.0.0", 80, ("nginx", "nginx"))
    unix = UnixSocket(refcount=2, protocol=0, flags=0, type=1, state=TcpState.ESTABLISHED, status=3,  # type: ignore[arg-type]
                      inode=77, path=None, pointer="0", owners=(Owner(5, 4, "u", "nginx"),), netns=NS)
    fam = build(snap([lst, unix]))
    assert rows(fam, "procnet_process_sockets") == {("nginx", "tcp"): 1, ("nginx", "unix"): 1}


def test_unix_listeners_opt_in() -> None:
    lst = UnixSocket(refcount=2, protocol=0, flags=0, type=1, state=TcpState.LISTEN, status=1,  # type: ignore[arg-type]
                     inode=78, path="@abstract", pointer="0", owners=(Owner(5, 4, "u", "dbus"),), netns=NS,
                     rqueue=2, wqueue=4096)
    assert "procnet_unix_listen_sockets" not in {f.name for f in build(snap([lst]))}
    fam = build(snap([lst]), Options(unix_listeners=True))
    key = (str(NS), "@abstract", "dbus")
    assert rows(fam, "procnet_unix_listen_sockets") == {key: 1}
    assert rows(fam, "procnet_unix_listen_queue") == {key: 2}
    assert rows(fam, "procnet_unix_listen_queue_limit") == {key: 4096}


def test_health_families() -> None:
    fam = build(snap([], errors=("net/tcp:3: bad row",), backend="proc", version="9.9"))
    assert rows(fam, "procnet_scrape_error") == {(): 1}
    assert rows(fam, "procnet_exporter_info") == {("9.9", "proc"): 1}
    assert rows(fam, "procnet_network_namespaces") == {(): 1}
    assert rows(build(snap([])), "procnet_scrape_error") == {(): 0}


def test_bad_max_series() -> None:
    with pytest.raises(ValueError):
        build(snap([]), Options(max_series=0))
    with pytest.raises(ValueError):
        exporter.collect(max_series=0)
    with pytest.raises(ValueError):
        exporter.collect(outbound_ports=[70000])


# --- the text format ---------------------------------------------------------------------

NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def check_exposition(text: str) -> None:
    """The format invariants of EXPORTER.md §11.2 that lenient parsers do not check."""
    text.encode("utf-8")
    assert text.endswith("\n") and "\r" not in text
    seen_families: List[str] = []
    series = set()
    current = None
    types: Dict[str, str] = {}
    for line in text[:-1].split("\n"):
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            assert name not in seen_families, "family %s split or repeated" % name
            seen_families.append(name)
            current = name
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert name == current and name not in types
            types[name] = kind
            assert kind in ("gauge", "counter")
            assert name.endswith("_total") == (kind == "counter")
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
        assert m, line
        assert m.group(1) == current, "sample %s outside its family" % line
        assert ":" not in m.group(1) and NAME.match(m.group(1))
        labels = re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3) or "")
        for label, _ in labels:
            assert not label.startswith("__")
        key = (m.group(1), tuple(labels))
        assert key not in series, "duplicate series %r" % (key,)
        series.add(key)
        float(m.group(4))  # a value, no timestamp after it


def test_render_golden() -> None:
    fam = build(snap([listener("0.0.0.0", 22, ("sshd",), queue=1, limit=128, drops=2)]), Options(max_series=3))
    text = render([f for f in fam if f.name.startswith("procnet_tcp_listen_")])
    key = 'netns="%d",family="ipv4",address="0.0.0.0",port="22",comm="sshd"' % NS
    assert text == (
        "# HELP procnet_tcp_listen_sockets TCP LISTEN sockets with this identity (an SO_REUSEPORT group counts "
        "each member).\n# TYPE procnet_tcp_listen_sockets gauge\nprocnet_tcp_listen_sockets{%s} 1\n"
        "# HELP procnet_tcp_listen_queue Connections completed and waiting for accept() (the fullest member of "
        "the group).\n# TYPE procnet_tcp_listen_queue gauge\nprocnet_tcp_listen_queue{%s} 1\n"
        "# HELP procnet_tcp_listen_queue_limit Accept-queue limit: the listen() backlog clamped to somaxconn; "
        "the kernel's full is queue > limit. Absent when unknown (text tables).\n"
        "# TYPE procnet_tcp_listen_queue_limit gauge\nprocnet_tcp_listen_queue_limit{%s} 128\n"
        "# HELP procnet_tcp_listen_drops_total Packets the listener dropped (sk_drops), accept-queue overflows "
        "included. Absent when unknown (text tables).\n# TYPE procnet_tcp_listen_drops_total counter\n"
        "procnet_tcp_listen_drops_total{%s} 2\n" % (key, key, key, key)
    )
    check_exposition(render(fam))


comms = st.text(st.characters(blacklist_categories=("Cs",)) | st.sampled_from(['"', "\\", "\n", "\udcff"]),
                max_size=16)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(comms, st.integers(1, 65535), st.integers(0, 50), st.integers(0, 5)), max_size=30),
       st.integers(1, 12))
def test_any_population_renders_valid_text_and_the_cap_keeps_sums(
        specs: List[Tuple[str, int, int, int]], max_series: int) -> None:
    recs = [listener("127.0.0.%d" % (1 + i % 200), port, (comm,), queue=q, drops=d)
            for i, (comm, port, q, d) in enumerate(specs)]
    fam = build(snap(recs), Options(max_series=max_series))
    check_exposition(render(fam))
    for f in fam:
        assert len(f.rows) <= max(max_series, 1) or f.name == "procnet_series_dropped"
    assert sum(rows(fam, "procnet_tcp_listen_drops_total").values()) == sum(d for *_, d in specs) or not recs
    uncapped = build(snap(recs), Options(max_series=10 ** 6))
    for name in ("procnet_tcp_listen_sockets", "procnet_tcp_listen_queue"):
        assert sum(rows(fam, name).values()) == sum(rows(uncapped, name).values())


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.tuples(st.text(max_size=3), st.text(max_size=3)), st.integers(0, 10 ** 6), max_size=40),
       st.integers(1, 50))
def test_cap_property(table: Dict[Tuple[str, str], int], n: int) -> None:
    fam = _metrics.Family("procnet_x", "gauge", "x", ("port", "comm"))
    for k, v in table.items():
        fam.add(k, v)
    before = dict(fam.rows)
    folded = _metrics.cap(fam, n)
    assert len(fam.rows) <= n
    assert sum(fam.rows.values()) == sum(before.values())
    if len(before) <= n:
        assert folded == 0 and fam.rows == before
    else:
        assert folded == len(before) - (n - 1)
        kept = [v for k, v in fam.rows.items() if k != (OTHER, OTHER)]
        assert min(kept, default=10 ** 9) >= max(v for k, v in before.items() if k not in fam.rows or k == (OTHER, OTHER)) \
            or (OTHER, OTHER) in before


# --- fixture trees -----------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["owners-forked-listener", "big-endian-capture", "live-loopback-every-kind"])
def test_fixture_trees_read_through_the_text_tables(fixture: str) -> None:
    root = os.path.join(FIXTURES, fixture)
    snapshot = exporter.snapshot(root)
    assert snapshot.backend == "proc"
    fam = build(snapshot)
    text = render(fam)
    check_exposition(text)
    assert "procnet_tcp_listen_queue_limit{" not in text and "procnet_tcp_listen_drops_total{" not in text
    tcp = [s for s in snapshot.sockets if isinstance(s, InetSocket) and s.proto == "tcp"]
    assert sum(rows(fam, "procnet_tcp_sockets").values()) == len(tcp)
    listening = [s for s in tcp if s.state is TcpState.LISTEN]
    assert sum(rows(fam, "procnet_tcp_listen_sockets").values()) == len(listening)


def test_forked_listener_fixture_names_its_owner() -> None:
    fam = build(exporter.snapshot(os.path.join(FIXTURES, "owners-forked-listener")))
    comms = {k[4] for k in rows(fam, "procnet_tcp_listen_sockets")}
    assert "nginx" in comms


def test_two_namespaces_fixture_with_netns_all() -> None:
    root = os.path.join(FIXTURES, "owners-two-namespaces")
    one = exporter.snapshot(root, "host")
    every = exporter.snapshot(root, "all")
    assert len(every.namespaces) >= 2 > len(one.namespaces) - 0 or len(every.namespaces) > len(one.namespaces)
    fam = build(every)
    assert rows(fam, "procnet_network_namespaces") == {(): len(every.namespaces)}
    assert len({k[0] for k in rows(fam, "procnet_tcp_sockets")}) == len(every.namespaces)
    check_exposition(render(fam))


def test_bad_netns() -> None:
    with pytest.raises(ValueError):
        exporter.snapshot(FIXTURES, "some")


def test_listener_drops_from_the_listeners_only_dump() -> None:
    a = listener("0.0.0.0", 80, drops=None)
    b = listener("0.0.0.0", 80, drops=None)
    memory = {a.inode: (0,) * 8 + (5,), b.inode: (0,) * 8 + (6,)}
    fam = build(snap([a, b], listen_memory=memory))
    assert list(rows(fam, "procnet_tcp_listen_drops_total").values()) == [11]
    # one member missing from the dump (it appeared between the two reads): unknown, no series
    fam = build(snap([a, b], listen_memory={a.inode: memory[a.inode]}))
    assert rows(fam, "procnet_tcp_listen_drops_total") == {}
