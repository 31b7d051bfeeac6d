"""``skmem=True``: TCP's memory counters (a listener's drop count) without struct tcp_info."""

from __future__ import annotations

import socket
import struct

import pytest

import procnet
from procnet import _query
from procnet._parse import netlink


def _ext(request: bytes) -> int:
    # nlmsghdr (16 bytes), then inet_diag_req_v2: family, protocol, idiag_ext, pad, states
    return request[18]


@pytest.mark.parametrize("family", [socket.AF_INET, socket.AF_INET6])
def test_request_bits(family: int) -> None:
    skmem = 1 << (netlink.INET_DIAG_SKMEMINFO - 1)
    info = 1 << (netlink.INET_DIAG_INFO - 1)
    plain = _ext(netlink.inet_request("tcp", family, tcp_info=False))
    only_mem = _ext(netlink.inet_request("tcp", family, tcp_info=False, skmem=True))
    full = _ext(netlink.inet_request("tcp", family, tcp_info=True))
    assert not plain & skmem and not plain & info
    assert only_mem & skmem and not only_mem & info
    assert only_mem == plain | skmem
    assert full & skmem and full & info
    # UDP always asks for the memory counters (its drops)
    assert _ext(netlink.inet_request("udp", family, tcp_info=False)) & skmem
    assert struct.unpack_from("=I", netlink.inet_request("tcp", family, skmem=True))[0] == 72


def test_skmem_is_a_checked_flag() -> None:
    with pytest.raises(TypeError):
        procnet.sockets("tcp", skmem="yes")  # type: ignore[call-overload]


@pytest.mark.skipif(not _query._netlink_available(), reason="no sock_diag here")
def test_live_listener_has_skmem_without_tcp_info() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(3)
        port = s.getsockname()[1]
        with_mem = procnet.listening("tcp", port=port, skmem=True, owners=False)
        without = procnet.listening("tcp", port=port, owners=False)
    assert len(with_mem) == len(without) == 1
    rec = with_mem[0]
    assert rec.skmem is not None and len(rec.skmem) >= 9 and rec.skmem[8] == 0
    assert rec.tcp_info is None and rec.listen_backlog == 3
    assert without[0].skmem is None
