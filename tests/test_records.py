"""procnet._records: the vocabulary survives pickling, cannot be changed, keeps unknown numbers."""

from __future__ import annotations

import dataclasses
import ipaddress
import pickle
import socket
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import procnet
from procnet import Endpoint, InetSocket, Owner, Process, SocketStatus, TcpInfo, TcpState, Timer, UnixFlag, UnixSocket
from procnet._records import ip_text

import strategies as S

SETTINGS = settings(max_examples=100, deadline=None)

PROCESS = Process(4242, "nginx", ("nginx", "-g", "daemon off;"), 33, "www-data")
OWNER = Owner(4242, 6, "u", "nginx", tid=None, process=PROCESS)
TCP_INFO = TcpInfo(1000, 500, 204000, 40000, 1448, 536, 10, 2147483647, 0, 0, 0, 0, bytes_acked=1)


@SETTINGS
@given(rec=st.one_of(*(S.inet_rows(t) for t in S.INET_TABLES), S.unix_rows()))
def test_every_record_pickles_and_compares_equal(rec: Any) -> None:
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(rec, protocol))
        assert back == rec and type(back) is type(rec)
        assert back.state is rec.state  # enum members (also unknown ones) keep their identity


@pytest.mark.parametrize(
    "value",
    [
        PROCESS,
        OWNER,
        TCP_INFO,
        Endpoint(ipaddress.ip_address("::ffff:127.0.0.1"), 80),
        TcpState(200),
        Timer(9),
        SocketStatus(9),
        UnixFlag.ACCEPTCON,
        procnet.ParseError("bad", path="/proc/net/tcp", lineno=3, line="x"),
    ],
)
def test_other_values_pickle(value: Any) -> None:
    back = pickle.loads(pickle.dumps(value))
    if isinstance(value, Exception):
        assert str(back) == str(value) and back.lineno == 3
    else:
        assert back == value


def test_records_with_owners_pickle() -> None:
    rec = UnixSocket(socket.SOCK_STREAM, TcpState.LISTEN, SocketStatus.UNCONNECTED, UnixFlag.ACCEPTCON, 2, 9, "/x", "0" * 16, owners=(OWNER,))
    back = pickle.loads(pickle.dumps(rec))
    assert back == rec and back.owners[0].process.cmdline == ("nginx", "-g", "daemon off;")
    assert back.owners[0].cmdline == PROCESS.cmdline and back.owners[0].uid == 33


def test_fields_a_source_lacks_are_none_and_the_cookie_has_its_own_field() -> None:
    # as sock_diag makes them: no refcount nor pointer, a 64-bit cookie
    unix = UnixSocket(socket.SOCK_STREAM, TcpState.LISTEN, SocketStatus.UNCONNECTED, UnixFlag.ACCEPTCON,
                      None, 9, "/x", None, cookie=2**64 - 1)
    inet = InetSocket("tcp", socket.AF_INET, Endpoint(ipaddress.ip_address("127.0.0.1"), 22),
                      Endpoint(ipaddress.ip_address("0.0.0.0"), 0), TcpState.LISTEN, 0, 0, Timer.NONE, 0,
                      None, 0, None, 7, None, None, None, cookie=0x4B522)
    for rec in (unix, inet):
        assert pickle.loads(pickle.dumps(rec)) == rec and hash(rec) == hash(dataclasses.replace(rec))
        as_json = procnet.to_jsonable(rec)
        assert as_json["refcount"] is None and as_json["pointer"] is None
        assert isinstance(as_json["cookie"], int)
    assert procnet.to_jsonable(inet)["slot"] is None and procnet.to_jsonable(inet)["retransmits"] is None
    # the text's records: no cookie unless given
    text = UnixSocket(socket.SOCK_DGRAM, TcpState.CLOSE, SocketStatus.UNCONNECTED, UnixFlag(0), 2, 5, None, "0" * 16)
    assert text.cookie is None
    assert [f.name for f in dataclasses.fields(UnixSocket)][-1] == "cookie"
    assert [f.name for f in dataclasses.fields(InetSocket)][-2:] == ["cookie", "cgroup_id"]


@pytest.mark.parametrize("value", [PROCESS, OWNER, TCP_INFO, Endpoint(ipaddress.ip_address("10.0.0.1"), 1)])
def test_records_are_frozen(value: Any) -> None:
    name = dataclasses.fields(value)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, name, 1)


@SETTINGS
@given(rec=st.one_of(S.inet_rows("tcp"), S.unix_rows()))
def test_socket_records_are_frozen_and_hashable(rec: Any) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.inode = 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.owners = ()
    assert hash(rec) == hash(dataclasses.replace(rec))


def test_tcp_states_have_the_kernels_numbers() -> None:
    # include/net/tcp_states.h
    names = ["ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV", "BOUND_INACTIVE"]
    assert [(s.value, s.name) for s in TcpState] == list(enumerate(names, 1))
    assert all(s.is_known for s in TcpState)


@pytest.mark.parametrize("value", [0, 14, 99, 255, 2**32 - 1])
def test_tcp_state_unknown_values_are_kept_visibly(value: int) -> None:
    state = TcpState(value)
    assert int(state) == value and state.name == "UNKNOWN_%d" % value
    assert not state.is_known and state.ss_name == "UNKNOWN"
    assert TcpState(value) is state
    assert state not in list(TcpState)  # not a new member of the closed set


@pytest.mark.parametrize("value", [-1, 2**32, "LISTEN", None, 3.5])
def test_tcp_state_rejects_what_is_not_a_kernel_number(value: Any) -> None:
    with pytest.raises(ValueError):
        TcpState(value)


@pytest.mark.parametrize(
    "state, name",
    [
        (TcpState.ESTABLISHED, "ESTAB"),
        (TcpState.SYN_SENT, "SYN-SENT"),
        (TcpState.SYN_RECV, "SYN-RECV"),
        (TcpState.FIN_WAIT1, "FIN-WAIT-1"),
        (TcpState.FIN_WAIT2, "FIN-WAIT-2"),
        (TcpState.TIME_WAIT, "TIME-WAIT"),
        (TcpState.CLOSE, "UNCONN"),
        (TcpState.CLOSE_WAIT, "CLOSE-WAIT"),
        (TcpState.LAST_ACK, "LAST-ACK"),
        (TcpState.LISTEN, "LISTEN"),
        (TcpState.CLOSING, "CLOSING"),
    ],
)
def test_ss_name(state: TcpState, name: str) -> None:
    # iproute2 ss.c sstate_name[]
    assert state.ss_name == name


def test_timer_names() -> None:
    assert [t.ss_name for t in Timer] == ["off", "on", "keepalive", "timewait", "persist"]
    assert Timer(5).name == "UNKNOWN_5" and Timer(5).ss_name == "unknown"


def test_endpoint_unmapped_ip() -> None:
    mapped = Endpoint(ipaddress.ip_address("::ffff:192.0.2.7"), 443)
    assert mapped.unmapped_ip == ipaddress.IPv4Address("192.0.2.7")
    assert mapped.ip.version == 6  # stays IPv6
    for plain in ("::1", "::", "2001:db8::1", "10.1.2.3", "0.0.0.0"):
        ep = Endpoint(ipaddress.ip_address(plain), 1)
        assert ep.unmapped_ip == ep.ip
    assert Endpoint(ipaddress.ip_address("::"), 0).is_unspecified
    assert Endpoint(ipaddress.ip_address("0.0.0.0"), 0).is_unspecified
    assert not mapped.is_unspecified


def test_endpoint_text_is_the_same_on_every_python() -> None:
    assert str(Endpoint(ipaddress.ip_address("::ffff:127.0.0.1"), 80)) == "[::ffff:127.0.0.1]:80"
    assert str(Endpoint(ipaddress.ip_address("::1"), 22)) == "[::1]:22"
    assert str(Endpoint(ipaddress.ip_address("127.0.0.1"), 22)) == "127.0.0.1:22"
    assert ip_text(ipaddress.IPv6Address("2001:db8::1")) == "2001:db8::1"
    assert procnet.to_jsonable(Endpoint(ipaddress.ip_address("::ffff:10.0.0.1"), 1)) == {"ip": "::ffff:10.0.0.1", "port": 1}


def test_inet_socket_derived_values() -> None:
    raw = InetSocket("raw", socket.AF_INET6, Endpoint(ipaddress.ip_address("::"), 58), Endpoint(ipaddress.ip_address("::"), 0),
                     TcpState.CLOSE, 0, 0, Timer.NONE, 0, 0, 0, 0, 5, 2, "0" * 16, 44, drops=0)
    assert raw.protocol == 58 and raw.table == "raw6" and raw.type == socket.SOCK_RAW and not raw.is_minisock
    assert raw.owners == () and raw.owners_complete is None and raw.netns is None


def test_unix_socket_class_constants() -> None:
    assert UnixSocket.proto == "unix" and UnixSocket.family == socket.AF_UNIX
    assert "proto" not in {f.name for f in dataclasses.fields(UnixSocket)}


@pytest.mark.parametrize("cls", [InetSocket, UnixSocket, Endpoint, Owner, Process, TcpInfo])
def test_type_hints_resolve(cls: Any) -> None:
    # Serializers (cattrs, pydantic's dataclass support) resolve the annotations: every name
    # an annotation uses must be importable from the record's module.
    import typing

    hints = typing.get_type_hints(cls)
    assert set(hints) == {f.name for f in dataclasses.fields(cls)}


@pytest.mark.parametrize("value", [PROCESS, OWNER, TCP_INFO, Endpoint(ipaddress.ip_address("10.0.0.1"), 1)])
def test_writes_to_names_that_are_not_fields_are_refused_the_same_way(value: Any) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        value.not_a_field = 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        del value.not_a_field
