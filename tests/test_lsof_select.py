"""procnet lsof's selection, without I/O: select() from a command line, wanted() on rows
built here, exit_status(); tables of cases taken from lsof 4.95's behaviour, and the
properties of its AND/OR rule (lsof(8) "-a")."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import replace
from typing import Any, Dict, FrozenSet, List, Optional, Sequence, Tuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from procnet import InetSocket, TcpState, Timer, UnixSocket
from procnet._records import Endpoint, SocketStatus, UnixFlag
import procnet.cli._lsof_args
from procnet.cli._lsof_args import FdSet, InetSpec, parse_args
from procnet.cli._lsof_rows import ProcessColumns, Row
from procnet.cli._lsof_select import Selection, exit_status, select, wanted


#: the login names these tests use, whatever this machine's password database holds
USERS = {"root": 0, "bin": 1, "alice": 1000, "www-data": 33, "nobody": 65534}


@pytest.fixture(autouse=True)
def users(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(procnet.cli._lsof_args, "login_uid", USERS.get)


def sel(*argv: str, hosts: Optional[Dict[str, Any]] = None) -> Selection:
    s = select(parse_args(list(argv)), cwd="/home/u")
    return replace(s, hosts=hosts) if hosts else s


# -- argv -> selection ---------------------------------------------------------------------

ALL = ("all",)

# argv, criteria, -a, processes to read, sockets only, by socket inode, socket tables
SELECTIONS: List[Tuple[Tuple[str, ...], Tuple[str, ...], bool, Optional[Tuple[int, ...]], bool, bool, Tuple[str, ...]]] = [
    ((), (), False, None, False, False, ALL),
    (("-i",), ("inet",), False, None, True, True, ("tcp", "udp", "udplite", "raw")),
    (("-iTCP",), ("inet",), False, None, True, True, ("tcp",)),
    (("-i4TCP", "-i", "6UDP:53"), ("inet",), False, None, True, True, ("tcp4", "udp6")),
    (("-i4", "-iTCP"), ("inet",), False, None, True, True, ("tcp4", "udp4", "udplite4", "raw4", "tcp")),
    (("-p", "2,1"), ("pid",), False, (1, 2), False, False, ALL),
    (("-p", "2,1", "-i"), ("pid", "inet"), False, None, False, False, ALL),
    (("-a", "-p", "2,1", "-i"), ("pid", "inet"), True, (1, 2), True, False, ALL),
    (("-a", "-p", "1", "-u", "root"), ("pid", "user"), True, (1,), False, False, ALL),
    (("-U",), ("unix",), False, None, True, False, ALL),
    (("-i", "-U"), ("inet", "unix"), False, None, True, False, ALL),
    (("-a", "-U", "-c", "ssh"), ("command", "unix"), True, None, True, False, ALL),
    (("-c", "ssh", "-U"), ("command", "unix"), False, None, False, False, ALL),
    (("-d", "3"), ("fd",), False, None, False, False, ALL),
    (("-a", "-d", "^cwd", "-u", "root"), ("user", "fd"), True, None, False, False, ALL),
    (("-p", "^1", "-u", "^root", "-c", "^ssh"), (), False, None, False, False, ALL),
    (("-p", "^1", "-i"), ("inet",), False, None, True, True, ("tcp", "udp", "udplite", "raw")),
    (("x", "/etc/../tmp/y"), ("path",), False, None, False, False, ALL),
]


@pytest.mark.parametrize("argv, criteria, and_, processes, sockets_only, by_socket, protos", SELECTIONS)
def test_selection_of_a_command_line(
    argv: Tuple[str, ...], criteria: Tuple[str, ...], and_: bool, processes: Optional[Tuple[int, ...]],
    sockets_only: bool, by_socket: bool, protos: Tuple[str, ...],
) -> None:
    s = sel(*argv)
    assert (s.criteria, s.and_, s.processes) == (criteria, and_, processes)
    assert (s.sockets_only, s.by_socket, s.socket_protos) == (sockets_only, by_socket, protos)


def test_selection_keeps_every_value_and_exclusion() -> None:
    s = sel("-p1,^2", "-u", "root,^bin", "-c", "ssh", "-c^cron", "-d", "0-2,cwd", "-iTCP:22", "x")
    assert (s.pids, s.not_pids, s.users, s.not_users) == ({1}, {2}, {"root"}, {"bin"})
    assert (s.commands, s.not_commands) == (("ssh",), ("cron",))
    assert s.fds == FdSet(frozenset({"cwd"}), ((0, 2),), False)
    assert s.inet == (InetSpec(None, "tcp", None, ((22, 22),)),)
    assert s.paths == ("/home/u/x",)


def test_relative_paths_are_taken_from_the_given_directory() -> None:
    assert sel("a/../b", "/x/./y").paths == ("/home/u/b", "/x/y")


# -- rows built here -------------------------------------------------------------------------

SSHD = ProcessColumns(100, "sshd", 0, "root")
PY = ProcessColumns(200, "python3", 1000, "alice")
NGINX = ProcessColumns(300, "nginx", 33, "www-data")


def inet(proto: str, local: str, lport: int, remote: str, rport: int, state: TcpState, inode: int) -> InetSocket:
    family = socket.AF_INET6 if ":" in local else socket.AF_INET
    return InetSocket(
        proto=proto, family=family, local=Endpoint(ipaddress.ip_address(local), lport),
        remote=Endpoint(ipaddress.ip_address(remote), rport), state=state, tx_queue=0, rx_queue=0,
        timer=Timer.NONE, timer_expires=0, retransmits=0, uid=0, probes=0, inode=inode, refcount=1,
        pointer="0000000000000000", slot=0,
    )


def unix(path: Optional[str], inode: int) -> UnixSocket:
    return UnixSocket(type=socket.SOCK_STREAM, state=TcpState.LISTEN, status=SocketStatus.UNCONNECTED,
                      flags=UnixFlag.ACCEPTCON, refcount=2, inode=inode, path=path, pointer="0")


def socket_row(head: ProcessColumns, fd: int, rec: Any) -> Row:
    return Row(head, "%4d" % fd, "u", "sock", "", "0t0", str(rec.inode), "", fd, getattr(rec, "path", None), 0,
               rec.inode, rec)


def file_row(head: ProcessColumns, fd: str, path: str, number: Optional[int] = None) -> Row:
    return Row(head, fd if number is None else "%4d" % number, "", "unknown", "", "", "", path, number, path)


ROWS: Dict[str, Row] = {
    "cwd": file_row(SSHD, "cwd", "/"),
    "tcp": socket_row(SSHD, 3, inet("tcp", "127.0.0.1", 22, "0.0.0.0", 0, TcpState.LISTEN, 11)),
    "udp": socket_row(PY, 4, inet("udp", "127.0.0.1", 53, "0.0.0.0", 0, TcpState.CLOSE, 12)),
    "unix": socket_row(PY, 5, unix("/run/x.sock", 13)),
    "file": file_row(NGINX, "", "/var/log/a.log (deleted)", 6),
    "tcp6": socket_row(NGINX, 7, inet("tcp", "::1", 443, "::1", 50000, TcpState.ESTABLISHED, 14)),
    "mem": file_row(NGINX, "mem", "/usr/lib/libc.so.6"),
}
EVERY = frozenset(ROWS)
LOCALHOST = {"127.0.0.1": (ipaddress.ip_address("127.0.0.1"),), "localhost": (ipaddress.ip_address("::1"),)}

# argv -> the rows lsof lists
WANTED: List[Tuple[Tuple[str, ...], FrozenSet[str]]] = [
    ((), EVERY),
    (("-i",), frozenset({"tcp", "udp", "tcp6"})),
    (("-iTCP",), frozenset({"tcp", "tcp6"})),
    (("-i4",), frozenset({"tcp", "udp"})),
    (("-i6",), frozenset({"tcp6"})),
    (("-i", ":22"), frozenset({"tcp"})),
    (("-i:50000",), frozenset({"tcp6"})),  # either end's port
    (("-iUDP:1-100",), frozenset({"udp"})),
    (("-i@127.0.0.1",), frozenset({"tcp", "udp"})),
    (("-i@localhost:443",), frozenset({"tcp6"})),
    (("-i@nosuchhost",), frozenset()),
    (("-U",), frozenset({"unix"})),
    (("-p", "100"), frozenset({"cwd", "tcp"})),
    (("-p", "100", "-U"), frozenset({"cwd", "tcp", "unix"})),
    (("-a", "-p", "200", "-U"), frozenset({"unix"})),
    (("-a", "-i", "-U"), frozenset()),
    (("-u", "alice"), frozenset({"udp", "unix"})),
    (("-u", "1000"), frozenset({"udp", "unix"})),
    (("-u", "^root"), EVERY - {"cwd", "tcp"}),
    (("-u", "^0", "-p", "100"), frozenset()),  # exclusions first, whatever else selects
    (("-c", "ssh"), frozenset({"cwd", "tcp"})),
    (("-c", "sshd2"), frozenset()),
    (("-c", "^ssh", "-i"), frozenset({"udp", "tcp6"})),
    (("-c", "py", "-c", "ngi"), EVERY - {"cwd", "tcp"}),
    (("-d", "3"), frozenset({"tcp"})),
    (("-d", "cwd,mem"), frozenset({"cwd", "mem"})),
    (("-d", "^3-5"), frozenset({"cwd", "file", "tcp6", "mem"})),
    (("-a", "-p", "100", "-d", "^cwd"), frozenset({"tcp"})),
    (("-p", "100", "-d", "^3"), EVERY),  # OR: pid 100's files, and every descriptor but 3
    (("-a", "-c", "nginx", "-d", "6-7", "-i"), frozenset({"tcp6"})),
    (("/var/log/a.log",), frozenset({"file"})),  # "(deleted)" counts as the same path
    (("/run/x.sock", "-p", "100"), frozenset({"unix", "cwd", "tcp"})),
    (("-p", "300", "-p", "^100"), frozenset({"file", "tcp6", "mem"})),
    # -s TCP:STATE leaves out TCP and UDP sockets in other states, whatever selects them;
    # a UDP socket's state is in TCP's numbers (this one CLOSE); unix sockets are not filtered
    (("-sTCP:LISTEN",), EVERY - {"udp", "tcp6"}),
    (("-iTCP", "-sTCP:LISTEN"), frozenset({"tcp"})),
    (("-i", "-sTCP:^LISTEN"), frozenset({"udp", "tcp6"})),
    (("-i", "-sTCP:close"), frozenset({"udp"})),
    (("-i", "-s", "TCP:LISTEN,ESTABLISHED"), frozenset({"tcp", "tcp6"})),
    (("-i", "-sTCP:^LISTEN,ESTABLISHED"), frozenset({"tcp6"})),
    (("-p", "100", "-sTCP:^LISTEN"), frozenset({"cwd"})),
    (("-U", "-sTCP:LISTEN"), frozenset({"unix"})),
    (("-a", "-p", "100", "-sTCP:LISTEN", "-d", "3"), frozenset({"tcp"})),
    # +d DIR: the directory and its entries; +D DIR: its whole tree (by text, unwalked)
    (("+D", "/var"), frozenset({"file"})),
    (("+d", "/var"), frozenset()),
    (("+d", "/var/log/"), frozenset({"file"})),
    (("+D/usr", "-p", "100"), frozenset({"mem", "cwd", "tcp"})),
    (("+d", "/"), frozenset({"cwd"})),
]


@pytest.mark.parametrize("argv, names", WANTED)
def test_wanted_rows(argv: Tuple[str, ...], names: FrozenSet[str]) -> None:
    s = sel(*argv, hosts=LOCALHOST)
    assert {name for name, row in ROWS.items() if wanted(s, row)} == names


# argv, the rows listed, exit status
STATUSES: List[Tuple[Tuple[str, ...], Tuple[str, ...], int]] = [
    ((), (), 0),
    (("-d", "999"), (), 0),  # -d and -U are not search items (lsof main.c)
    (("-U",), (), 0),
    (("-p", "1"), (), 1),
    (("-i",), (), 1),
    (("x",), (), 1),
    (("-p", "100"), ("cwd", "tcp"), 0),
    (("-p", "100,999"), ("cwd", "tcp"), 1),  # a pid not found
    (("-a", "-p", "100,999", "-i"), ("tcp",), 0),
    (("-c", "ssh", "-c", "nginx"), ("cwd",), 1),  # a command not found
    (("-c", "ssh", "-c", "ng"), ("cwd", "mem"), 0),
    (("-a", "-c", "ssh", "-c", "nginx", "-i"), ("tcp",), 0),
    (("-u", "nobody", "-p", "100"), ("cwd",), 0),
    # every listed -s state is a search item; a left-out one is not
    (("-i", "-sTCP:LISTEN"), ("tcp",), 0),
    (("-i", "-sTCP:LISTEN,SYN_SENT"), ("tcp",), 1),
    (("-sTCP:LISTEN",), (), 1),
    (("-sTCP:^LISTEN",), (), 0),
    (("-i", "-sTCP:LISTEN,CLOSE"), ("tcp", "udp"), 0),
    # every PATH is a search item
    (("/var/log/a.log", "/nope"), ("file",), 1),
    (("/var/log/a.log", "/usr/lib/libc.so.6"), ("file", "mem"), 0),
]


@pytest.mark.parametrize("argv, names, status", STATUSES)
def test_exit_status(argv: Tuple[str, ...], names: Tuple[str, ...], status: int) -> None:
    assert exit_status(sel(*argv), [ROWS[name] for name in names]) == status


# -- properties of the AND/OR rule -------------------------------------------------------------

# at most one option of each kind (several values of one kind are ORed, even under -a)
KINDS: Dict[str, List[List[str]]] = {
    "pid": [["-p", "100"], ["-p", "200,300"], ["-p", "999"]],
    "user": [["-u", "alice"], ["-u", "0"], ["-u", "33,alice"]],
    "command": [["-c", "ssh"], ["-c", "py"], ["-c", "ssh", "-c", "nginx"]],
    "fd": [["-d", "3-5"], ["-d", "cwd,mem"], ["-d", "^3"], ["-d", "^cwd,^mem"]],
    "inet": [["-iTCP"], ["-i", ":53"], ["-i4"], ["-i", "@localhost"], ["-i6", "-iUDP"]],
    "unix": [["-U"]],
    "path": [["/var/log/a.log"], ["/run/x.sock", "/"]],
}
EXCLUSIONS = [[], ["-p", "^100"], ["-u", "^alice"], ["-c", "^ngin"], ["-p", "^300", "-c", "^pyth"]]

choices = st.fixed_dictionaries({kind: st.one_of(st.none(), st.sampled_from(opts)) for kind, opts in KINDS.items()})


def _listed(argv: Sequence[str]) -> FrozenSet[str]:
    s = sel(*argv, hosts=LOCALHOST)
    return frozenset(name for name, row in ROWS.items() if wanted(s, row))


@given(choices, st.sampled_from(EXCLUSIONS))
def test_and_is_the_intersection_and_or_the_union_of_single_selections(
    chosen: Dict[str, Optional[List[str]]], exclusion: List[str]
) -> None:
    groups = [opts for opts in chosen.values() if opts is not None]
    argv = [arg for group in groups for arg in group] + exclusion
    singles = [_listed(group + exclusion) for group in groups]
    anded, ored = _listed(["-a"] + argv), _listed(argv)
    everything = _listed(exclusion)
    if not singles:
        assert anded == ored == everything
        return
    for single in singles:  # -a: a subset of each single selection; without -a a superset
        assert anded <= single <= ored
    assert anded == frozenset.intersection(*singles)
    assert ored == frozenset.union(*singles)


@given(choices, st.booleans(), st.sampled_from(EXCLUSIONS[1:]))
def test_an_exclusion_only_removes_rows(chosen: Dict[str, Optional[List[str]]], and_: bool, exclusion: List[str]) -> None:
    argv = (["-a"] if and_ else []) + [arg for opts in chosen.values() if opts is not None for arg in opts]
    assert _listed(argv + exclusion) <= _listed(argv)
    excluded = _listed(exclusion[:2]) ^ EVERY  # the files of the excluded processes
    assert not (_listed(argv + exclusion) & excluded)


@given(choices)
def test_order_of_options_does_not_matter(chosen: Dict[str, Optional[List[str]]]) -> None:
    groups = [opts for opts in chosen.values() if opts is not None]
    forward = [arg for group in groups for arg in group]
    backward = [arg for group in reversed(groups) for arg in group]
    assert _listed(forward) == _listed(backward)
    assert _listed(["-a"] + forward) == _listed(backward + ["-a"])


# -- -s TCP:STATE ----------------------------------------------------------------------------

STATE_NAMES = ["ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE",
               "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "CLOSED"]


@given(st.sets(st.sampled_from(STATE_NAMES)), st.sets(st.sampled_from(STATE_NAMES)),
       st.sampled_from([[], ["-i"], ["-p", "200"], ["-a", "-i", "-c", "ng"], ["-U"]]))
def test_a_state_filter_keeps_exactly_the_sockets_in_its_states(
    listed: "set[str]", left_out: "set[str]", other: List[str]
) -> None:
    left_out -= listed  # both at once is lsof's error, tested in test_cli_lsof_args
    argv = list(other)
    if listed:
        argv.append("-sTCP:" + ",".join(sorted(listed)))
    if left_out:
        argv.append("-sTCP:" + ",".join("^" + name for name in sorted(left_out)))
    with_states, without = _listed(argv), _listed(other)
    assert with_states <= without
    for name in without:
        rec = ROWS[name].socket
        if isinstance(rec, InetSocket):
            state = rec.state.name  # lsof's names are the kernel's for the states rows hold
            kept = (not listed or state in listed) and state not in left_out
        else:
            kept = True  # a unix socket or a file: -s does not look at it
        assert (name in with_states) == kept, (argv, name)
