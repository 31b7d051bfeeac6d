"""The query layer: proto vocabulary, keyword filters (examples and properties), defaults
of listening()/connections(), pushdown, the iterator form and the backends."""

from __future__ import annotations

import ipaddress
import os
import socket
import tempfile
from typing import Any, Dict, List

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import procnet
from procnet import TcpState
from procnet._query import PROTOS, Query, tables_for

from strategies import inet_rows, unix_rows

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures")
FORKED = os.path.join(FIXTURES, "owners-forked-listener")


# -- vocabulary --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "proto,tables",
    [
        ("tcp", ("tcp", "tcp6")),
        ("tcp4", ("tcp",)),
        ("udp6", ("udp6",)),
        ("inet", ("tcp", "tcp6", "udp", "udp6")),
        ("inet4", ("tcp", "udp")),
        ("inet6", ("tcp6", "udp6")),
        ("raw", ("raw", "raw6")),
        ("udplite", ("udplite", "udplite6")),
        ("unix", ("unix",)),
        ("all", ("tcp", "tcp6", "udp", "udp6", "udplite", "udplite6", "raw", "raw6", "unix")),
        (["unix", "tcp4"], ("tcp", "unix")),
    ],
)
def test_proto_vocabulary_maps_to_tables(proto: Any, tables: Any) -> None:
    assert tables_for(proto) == tables


def test_psutil_vocabulary_is_all_there() -> None:
    for name in ("tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", "inet", "inet4", "inet6", "unix", "all"):
        assert name in PROTOS


@pytest.mark.parametrize(
    "kwargs,error",
    [
        ({"port": 70000}, ValueError),
        ({"port": "80"}, TypeError),
        ({"port": True}, TypeError),
        ({"local": "not-an-address"}, ValueError),
        ({"state": "establishd"}, ValueError),
        ({"state": [object()]}, TypeError),
        ({"pid": "12"}, TypeError),
        ({"netns": "everywhere"}, ValueError),
        ({"backend": "ebpf"}, ValueError),
        ({"filter": 42}, TypeError),
    ],
)
def test_bad_arguments_say_what_is_accepted(kwargs: Dict[str, Any], error: type) -> None:
    with pytest.raises(error) as err:
        Query("tcp", root=FORKED, **kwargs)
    assert str(err.value)


def test_unknown_state_name_lists_the_names() -> None:
    with pytest.raises(ValueError) as err:
        procnet.sockets("tcp", state="establishd", root=FORKED)
    assert "established" in str(err.value) and "time-wait" in str(err.value)


# -- defaults of the three questions -----------------------------------------------------


def states_of(result: List[procnet.Socket]) -> List[str]:
    return sorted({s.state.name for s in result})


def test_listening_is_ss_l() -> None:
    assert states_of(procnet.listening("tcp", root=FORKED)) == ["LISTEN"]


def test_connections_is_ss_default_without_time_wait() -> None:
    assert states_of(procnet.connections("tcp", root=FORKED)) == ["ESTABLISHED"]


def test_explicit_state_replaces_the_default() -> None:
    tw = procnet.connections("tcp", root=FORKED, state="time-wait")
    assert states_of(tw) == ["TIME_WAIT"]


@pytest.mark.parametrize(
    "state,expected",
    [
        ("all", ["ESTABLISHED", "LISTEN", "TIME_WAIT"]),
        ("connected", ["ESTABLISHED", "TIME_WAIT"]),
        ("synchronized", ["ESTABLISHED", "TIME_WAIT"]),
        ("bucket", ["TIME_WAIT"]),
        ("big", ["ESTABLISHED", "LISTEN"]),
        (TcpState.LISTEN, ["LISTEN"]),
        (["LISTEN", "estab"], ["ESTABLISHED", "LISTEN"]),
        ("TIME-WAIT", ["TIME_WAIT"]),
    ],
)
def test_state_names_groups_and_members(state: Any, expected: List[str]) -> None:
    assert states_of(procnet.sockets("tcp", root=FORKED, state=state, owners=False)) == expected


def test_unix_sockets_never_match_port_filters() -> None:
    assert list(procnet.sockets("all", root=FORKED, port=8080, owners=False)) != []
    assert all(s.proto != "unix" for s in procnet.sockets("all", root=FORKED, port=8080, owners=False))


def test_mapped_address_matches_its_ipv4_network() -> None:
    root = os.path.join(FIXTURES, "tcp6-v4-mapped")
    mapped = procnet.sockets("tcp6", root=root, local="127.0.0.0/8", owners=False)
    assert mapped, "the fixture has ::ffff:127.x sockets"
    assert all(s.local.unmapped_ip in ipaddress.ip_network("127.0.0.0/8") for s in mapped)


def test_filter_expression_and_keywords_combine() -> None:
    result = procnet.sockets("tcp", root=FORKED, filter="state established", remote_port=50000, owners=False)
    assert [(s.state.name, s.remote.port) for s in result] == [("ESTABLISHED", 50000)]


# -- properties: keyword filters against a predicate written independently ---------------


def reference(sock: procnet.Socket, kw: Dict[str, Any]) -> bool:
    """The meaning of each keyword, written from the docs, not from the code."""
    if "state" in kw and sock.state not in kw["state"]:
        return False
    if "inode" in kw and sock.inode != kw["inode"]:
        return False
    if "uid" in kw and sock.uid != kw["uid"]:
        return False
    if isinstance(sock, procnet.UnixSocket):
        return not any(k in kw for k in ("port", "local_port", "remote_port", "local", "remote"))
    if "port" in kw and kw["port"] not in (sock.local.port, sock.remote.port):
        return False
    if "local_port" in kw and sock.local.port != kw["local_port"]:
        return False
    if "remote_port" in kw and sock.remote.port != kw["remote_port"]:
        return False
    for side in ("local", "remote"):
        if side in kw:
            net = ipaddress.ip_network(kw[side])
            ip = getattr(sock, side).ip
            if ip.version != net.version:
                ip = getattr(ip, "ipv4_mapped", None)
            if ip is None or ip not in net:
                return False
    return True


TABLES = ["tcp", "tcp6", "udp", "udp6", "raw", "raw6"]
records = st.one_of(*[inet_rows(t) for t in TABLES], unix_rows())


@st.composite
def keyword_filters(draw: Any) -> Dict[str, Any]:
    kw: Dict[str, Any] = {}
    if draw(st.booleans()):
        kw["state"] = frozenset(draw(st.sets(st.sampled_from(list(TcpState)[:11]), min_size=1, max_size=3)))
    for name in ("port", "local_port", "remote_port"):
        if draw(st.integers(0, 3)) == 0:
            kw[name] = draw(st.sampled_from([0, 22, 80, 443, 8080, 65535]))
    if draw(st.integers(0, 4)) == 0:
        kw["uid"] = draw(st.sampled_from([0, 33, 1000]))
    for side in ("local", "remote"):
        if draw(st.integers(0, 3)) == 0:
            kw[side] = draw(st.sampled_from(["127.0.0.0/8", "0.0.0.0/0", "10.0.0.0/8", "::1/128", "::/0", "fe80::/10"]))
    return kw


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sock=records, kw=keyword_filters())
def test_keyword_filters_match_the_reference(sock: procnet.Socket, kw: Dict[str, Any]) -> None:
    query = Query("all", root=FORKED, **kw)
    expected = reference(sock, kw)
    got = query._keep(sock) and (query.states is None or sock.state in query.states)
    assert got == expected


@settings(max_examples=150, deadline=None)
@given(kw=keyword_filters())
def test_filters_on_a_fixture_equal_filtering_everything(kw: Dict[str, Any]) -> None:
    everything = procnet.sockets("all", root=FORKED, owners=False)
    expected = [procnet.to_jsonable(s) for s in everything if reference(s, kw)]
    got = [procnet.to_jsonable(s) for s in procnet.sockets("all", root=FORKED, owners=False, **kw)]
    assert got == expected


# -- iterator form, backends ---------------------------------------------------------------


def test_iterator_without_owners_matches_the_list() -> None:
    it = procnet.iter_sockets("all", root=FORKED, owners=False)
    assert [procnet.to_jsonable(s) for s in it] == [
        procnet.to_jsonable(s) for s in procnet.sockets("all", root=FORKED, owners=False)
    ]
    assert it.report is None


def test_netlink_backend_refuses_a_capture_root() -> None:
    with pytest.raises(ValueError) as err:
        procnet.sockets("tcp", root=FORKED, backend="netlink")
    assert "backend='proc'" in str(err.value)


@pytest.mark.live
def test_auto_and_proc_backends_agree_on_live_sockets() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(3)
    client = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    try:
        inodes = [os.fstat(s.fileno()).st_ino for s in (listener, client, server)]
        view = lambda r: sorted((s.inode, str(s.local), str(s.remote), s.state.name, s.rx_queue) for s in r)  # noqa: E731
        auto = procnet.sockets("tcp", inode=inodes)
        text = procnet.sockets("tcp", inode=inodes, backend="proc")
        assert len(auto) == 3 and view(auto) == view(text)
    finally:
        for s in (listener, client, server):
            s.close()


@pytest.mark.live
def test_text_rows_forged_through_a_newline_are_flagged() -> None:
    if not procnet._query._netlink_available():
        pytest.skip("no sock_diag here")
    directory = tempfile.mkdtemp()
    forged = "x\n0000000000000000: 00000002 00000000 00010000 0001 01 99999 @forged"
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(os.path.join(directory, forged))
        sock.listen(1)
        inode = os.fstat(sock.fileno()).st_ino
        text = {s.inode: s for s in procnet.sockets("unix", backend="proc", owners=False) if s.inode in (inode, 99999)}
        assert text[99999].path == "@forged" and text[99999].text_only is True
        assert text[inode].text_only is True  # its path was cut at the newline
        exact = {s.inode: s for s in procnet.sockets("unix", backend="netlink", owners=False)}
        assert 99999 not in exact
        assert exact[inode].path == os.path.join(directory, forged)
        others = [s for s in procnet.sockets("unix", backend="proc", owners=False) if s.inode not in (inode, 99999)]
        assert sum(1 for s in others if s.text_only) <= 2  # only sockets born or gone between the reads
    finally:
        sock.close()
        os.unlink(os.path.join(directory, forged))
        os.rmdir(directory)
