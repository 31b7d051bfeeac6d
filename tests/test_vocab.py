"""procnet._vocab: every table against the enums, against each other, and against the real
tools where they are installed (ss, lsof; /etc/protocols)."""

from __future__ import annotations

import ast
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

from procnet import _vocab
from procnet._records import SocketStatus, TcpState, Timer

SS = shutil.which("ss")
LSOF = shutil.which("lsof")
needs_ss = pytest.mark.skipif(SS is None, reason="iproute2's ss is not installed")
needs_lsof = pytest.mark.skipif(LSOF is None, reason="lsof is not installed")


# -- against the enums ---------------------------------------------------------------------


def test_kernel_state_names_are_tcpstate_members() -> None:
    assert _vocab.KERNEL_STATE == {int(m): m.name for m in TcpState}


def test_unix_status_names_are_socketstatus_members() -> None:
    assert _vocab.UNIX_STATUS == {int(m): m.name for m in SocketStatus}


def test_ss_names_of_the_records_come_from_the_table() -> None:
    for n in range(0, 20):
        assert TcpState(n).ss_name == _vocab.ss_state(n)
        assert Timer(n).ss_name == _vocab.ss_timer(n)
    assert _vocab.ss_state(0) == "UNKNOWN" and _vocab.ss_timer(5) == "unknown"


def test_every_table_is_keyed_by_known_states() -> None:
    for table in (_vocab.SS_STATE, _vocab.SS_STATE_WORD, _vocab.LSOF_TCP_STATE, _vocab.NODE_EXPORTER_STATE):
        assert set(table) <= set(_vocab.KERNEL_STATE) | {0}, table


# -- the tables against each other ---------------------------------------------------------


def test_ss_column_is_the_kernel_name_with_dashes_but_estab_and_unconn() -> None:
    irregular = {1: "ESTAB", 4: "FIN-WAIT-1", 5: "FIN-WAIT-2", 7: "UNCONN"}
    for n, name in _vocab.KERNEL_STATE.items():
        assert _vocab.SS_STATE[n] == irregular.get(n, name.replace("_", "-")), n


def test_lsof_uses_the_kernel_names_for_the_states_proc_shows() -> None:
    assert {n: v for n, v in _vocab.LSOF_TCP_STATE.items() if n} == {
        n: _vocab.KERNEL_STATE[n] for n in range(1, 12)
    }
    assert _vocab.lsof_tcp_state(12) == "UNKNOWN_TCP_STATE_12"
    assert _vocab.lsof_tcp_state(0) == "CLOSED"


def test_node_exporter_labels_are_lowercase_kernel_names_1_to_11() -> None:
    assert _vocab.NODE_EXPORTER_STATE == {n: _vocab.KERNEL_STATE[n].lower() for n in range(1, 12)}


def test_every_ss_word_resolves_to_the_state_whose_column_it_names() -> None:
    # The word procnet writes for a state reads back as that state, and ss's column for
    # that state is the one the word names ("closed" -> 7 -> UNCONN).
    for n, word in _vocab.SS_STATE_WORD.items():
        assert _vocab.SS_STATE_WORDS[word] == n
        assert _vocab.ss_state(_vocab.SS_STATE_WORDS[word]) == _vocab.SS_STATE[n]
    # and every word ss takes is one of ss's column names read as a word, or an alias of one
    aliases = {"close": "unconn", "closed": "unconn", "unconnected": "unconn", "syn-rcv": "syn-recv",
               "established": "estab", "listening": "listen", "unknown": "unknown"}
    for word, n in _vocab.SS_STATE_WORDS.items():
        assert aliases.get(word, word) == _vocab.ss_state(n).lower(), word


def test_the_filter_and_the_state_keyword_read_every_word_from_the_table() -> None:
    from procnet import _filter, _states

    for word, n in _vocab.SS_STATE_WORDS.items():
        expected = frozenset({TcpState(n)}) if n else frozenset()
        assert _filter.state_set(word) == expected, word
        assert _filter.state_set(word.upper()) == expected, word
        if n:
            assert _states.lookup(word) == expected, word
    for word in ("estab", "listen", "unconn", "new-syn-recv"):
        with pytest.raises(ValueError):
            _filter.state_set(word)
    # the state= keyword also takes ss's column names and the enum's names
    for n, column in _vocab.SS_STATE.items():
        assert _states.lookup(column) == frozenset({TcpState(n)})
        assert _states.lookup(column.lower()) == frozenset({TcpState(n)})
        assert _states.lookup(_vocab.KERNEL_STATE[n]) == frozenset({TcpState(n)})


def test_unix_spellings() -> None:
    assert _vocab.ss_unix_netid(socket.SOCK_STREAM) == "u_str"
    assert _vocab.ss_unix_netid(socket.SOCK_SEQPACKET) == "u_seq"
    assert _vocab.ss_unix_netid(socket.SOCK_DGRAM) == "u_dgr"
    assert _vocab.ss_unix_netid(99) == "u_dgr"  # unix_netid_name's default
    assert set(_vocab.LSOF_UNIX_TYPE.values()) == {"STREAM", "DGRAM", "SEQPACKET"}
    assert {socket.SocketKind(t).name for t in _vocab.LSOF_UNIX_TYPE} == {
        "SOCK_" + v for v in _vocab.LSOF_UNIX_TYPE.values()
    }
    assert _vocab.lsof_unix_status(0) == "UNKNOWN"
    assert [_vocab.lsof_unix_status(n) for n in range(1, 5)] == [
        "UNCONNECTED", "CONNECTING", "CONNECTED", "DISCONNECTING"
    ]


def test_protocol_numbers_are_the_socket_modules() -> None:
    assert _vocab.IP_PROTOCOL["tcp"] == socket.IPPROTO_TCP
    assert _vocab.IP_PROTOCOL["udp"] == socket.IPPROTO_UDP
    assert _vocab.IP_PROTOCOL["raw"] == socket.IPPROTO_RAW
    assert _vocab.IP_PROTOCOL["udplite"] == getattr(socket, "IPPROTO_UDPLITE", 136)
    for name, number in _vocab.IP_PROTOCOL.items():
        assert _vocab.SS_IP_PROTOCOL_NAME[number] == name
    for number, name in _vocab.FAMILY_NAME.items():
        assert socket.AddressFamily(number).name == name


@pytest.mark.skipif(not os.path.exists("/etc/protocols"), reason="no /etc/protocols")
def test_ss_protocol_names_are_the_system_protocol_names() -> None:
    known: Dict[int, List[str]] = {}
    with open("/etc/protocols") as f:
        for line in f:
            fields = line.split("#", 1)[0].split()
            if len(fields) >= 2 and fields[1].isdigit():
                known.setdefault(int(fields[1]), []).append(fields[0])
    for number, name in _vocab.SS_IP_PROTOCOL_NAME.items():
        if number in known:
            assert known[number][0] == name, number


# -- the module is a leaf and the tables are its only copies --------------------------------


def test_vocab_imports_nothing_from_procnet_and_loads_alone() -> None:
    tree = ast.parse(Path(_vocab.__file__).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0 and not (node.module or "").startswith("procnet"), ast.dump(node)
        elif isinstance(node, ast.Import):
            assert all(a.name in ("socket", "typing") for a in node.names)
    # run alone, outside the package: it needs nothing from procnet
    code = ("import runpy, sys; runpy.run_path(sys.argv[1]); "
            "print(sorted(m for m in sys.modules if 'procnet' in m))")
    out = subprocess.run([sys.executable, "-c", code, _vocab.__file__], stdout=subprocess.PIPE, text=True,
                         check=True, cwd="/").stdout
    assert out.strip() == "[]"


_OWNED = ["_states.py", "_filter.py", "_json.py", "_netlink.py", "_query.py", "_parse/netlink.py"]


@pytest.mark.parametrize("name", _OWNED)
def test_no_other_copy_of_a_state_table(name: str) -> None:
    text = (Path(_vocab.__file__).parent / name).read_text()
    for spelling in ('"syn-sent"', '"fin-wait-1"', '"FIN-WAIT-1"', '"SYN_SENT"', '"fin_wait1"',
                     '"keepalive"', '"u_str"', '"SEQPACKET"', '"DISCONNECTING"'):
        assert spelling not in text, (name, spelling)


# -- against the real tools ----------------------------------------------------------------


def _ss_takes(word: str) -> bool:
    assert SS is not None
    res = subprocess.run([SS, "-tan", "state", word], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True, timeout=30)
    if res.returncode != 0:
        assert "wrong state name" in res.stderr
    return res.returncode == 0


def _ss_version() -> "tuple[int, int]":
    assert SS is not None
    out = subprocess.run([SS, "-V"], stdout=subprocess.PIPE, text=True, timeout=30).stdout
    m = re.search(r"iproute2-(?:ss)?v?(\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


@needs_ss
def test_real_ss_takes_every_word_and_refuses_the_others() -> None:
    new = _ss_version() >= (6, 8)
    for word in _vocab.SS_STATE_WORDS:
        if word == "bound-inactive" and not new:
            continue
        assert _ss_takes(word), word
        assert _ss_takes(word.upper()), word
    for word in ("estab", "listen", "unconn", "new-syn-recv", "syn-received"):
        assert not _ss_takes(word), word


@needs_ss
def test_real_ss_prints_the_column_names() -> None:
    # A listener and a connection on loopback: ss's State column for them.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname())
    accepted, _ = server.accept()
    try:
        port = server.getsockname()[1]
        assert SS is not None
        out = subprocess.run([SS, "-Htan", "sport", "= :%d" % port], stdout=subprocess.PIPE, text=True,
                             timeout=30).stdout
        states = sorted(line.split()[0] for line in out.splitlines())
        assert states == sorted([_vocab.SS_STATE[10], _vocab.SS_STATE[1]])
    finally:
        for s in (client, accepted, server):
            s.close()


@needs_lsof
def test_real_lsof_prints_the_tcp_and_unix_state_names() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname())
    accepted, _ = server.accept()
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        assert LSOF is not None
        out = ""
        for kind in ("-i", "-U"):
            out += subprocess.run([LSOF, "-nP", "-a", "-p", str(os.getpid()), kind], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True, timeout=60).stdout
        if "TCP" not in out:
            pytest.skip("lsof shows no sockets of this process here")
        assert "(%s)" % _vocab.LSOF_TCP_STATE[10] in out
        assert "(%s)" % _vocab.LSOF_TCP_STATE[1] in out
        unix = "type=%s (%s)" % (_vocab.LSOF_UNIX_TYPE[socket.SOCK_SEQPACKET], _vocab.lsof_unix_status(3))
        assert unix in out
    finally:
        for s in (client, accepted, server, left, right):
            s.close()
