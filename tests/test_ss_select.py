"""procnet ss's flag table and selection (procnet/cli/_ss_select.py): argv in, what is shown
out, as iproute2's ss 6.1 works it out (misc/ss.c main(): filter_db_set, filter_af_set,
filter_states_set, filter_merge_defaults); no I/O anywhere here."""

from __future__ import annotations

import shutil
import socket
import subprocess
from typing import Any, Dict, FrozenSet, List, Optional, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from procnet import TcpState
from procnet.cli import ss
from procnet.cli._ss_select import (
    ALL_TABLES,
    COLUMNS,
    FLAGS,
    UNSUPPORTED,
    Selection,
    UsageError,
    parse_args,
    select,
)

INET = frozenset({socket.AF_INET, socket.AF_INET6})
V4, V6, UNIX = frozenset({socket.AF_INET}), frozenset({socket.AF_INET6}), frozenset({socket.AF_UNIX})
EVERY_FAMILY = INET | UNIX
UNIX_TABLES = frozenset({"u_str", "u_dgr", "u_seq"})
INET_TABLES = frozenset({"tcp", "udp", "raw"})

S = TcpState
ALL = frozenset(TcpState(n) for n in range(1, 12))
# ss.c SS_CONN: what ss shows without -l/-a
CONN = ALL - {S.LISTEN, S.CLOSE, S.TIME_WAIT, S.SYN_RECV}
LISTENING = frozenset({S.LISTEN, S.CLOSE})
ESTAB = frozenset({S.ESTABLISHED})

EVERY_COLUMN = COLUMNS
EVERY_PROTO = ("tcp4", "tcp6", "udp4", "udp6", "raw4", "raw6", "unix")
NO_NETID = tuple(c for c in COLUMNS if c != "netid")
NO_NETID_NO_STATE = tuple(c for c in COLUMNS if c not in ("netid", "state"))

# argv -> (tables, families, states, protos, columns)
CASES: List[Any] = [
    # no table, no family: ss's do_default, every table in its connected states
    ([], ALL_TABLES, EVERY_FAMILY, CONN, EVERY_PROTO, EVERY_COLUMN),
    (["-a"], ALL_TABLES, EVERY_FAMILY, ALL, EVERY_PROTO, EVERY_COLUMN),
    (["-l"], ALL_TABLES, EVERY_FAMILY, LISTENING, EVERY_PROTO, EVERY_COLUMN),
    # one table: its default states, both families, no Netid column
    (["-t"], {"tcp"}, INET, CONN, ("tcp4", "tcp6"), NO_NETID),
    (["--tcp"], {"tcp"}, INET, CONN, ("tcp4", "tcp6"), NO_NETID),
    (["-ta"], {"tcp"}, INET, ALL, ("tcp4", "tcp6"), NO_NETID),
    (["-tl"], {"tcp"}, INET, LISTENING, ("tcp4", "tcp6"), NO_NETID),
    (["-u"], {"udp"}, INET, ESTAB, ("udp4", "udp6"), NO_NETID_NO_STATE),  # one state: no State column
    (["-ul"], {"udp"}, INET, LISTENING, ("udp4", "udp6"), NO_NETID),
    (["-w"], {"raw"}, INET, ESTAB, ("raw4", "raw6"), NO_NETID_NO_STATE),
    # -t -u mixes: the union of their default states, a Netid column
    (["-tu"], {"tcp", "udp"}, INET, CONN, ("tcp4", "tcp6", "udp4", "udp6"), EVERY_COLUMN),
    (["-t", "-u", "-l"], {"tcp", "udp"}, INET, LISTENING, ("tcp4", "tcp6", "udp4", "udp6"), EVERY_COLUMN),
    (["-uw"], {"udp", "raw"}, INET, ESTAB, ("udp4", "udp6", "raw4", "raw6"), ("netid",) + NO_NETID_NO_STATE),
    # -x: the unix family, so its three tables, SS_CONN
    (["-x"], UNIX_TABLES, UNIX, CONN, ("unix",), EVERY_COLUMN),
    (["-xl"], UNIX_TABLES, UNIX, LISTENING, ("unix",), EVERY_COLUMN),
    # -4 / -6: a family adds every inet table
    (["-4"], INET_TABLES, V4, CONN, ("tcp4", "udp4", "raw4"), EVERY_COLUMN),
    (["-6", "-a"], INET_TABLES, V6, ALL, ("tcp6", "udp6", "raw6"), EVERY_COLUMN),
    (["-46"], INET_TABLES, INET, CONN, ("tcp4", "tcp6", "udp4", "udp6", "raw4", "raw6"), EVERY_COLUMN),
    # a table and a family of it: only that family
    (["-t", "-6"], {"tcp"}, V6, CONN, ("tcp6",), NO_NETID),
    (["-u4"], {"udp"}, V4, CONN | ESTAB, ("udp4",), NO_NETID),  # -4 adds SS_CONN to udp's ESTAB
    # unix and a family: both families and their tables (ss -x -4 lists unix and every inet table)
    (["-x", "-4"], INET_TABLES | UNIX_TABLES, V4 | UNIX, CONN, ("tcp4", "udp4", "raw4", "unix"),
     EVERY_COLUMN),
    # a table of another family than the one named: both
    (["-t", "-x"], {"tcp"} | UNIX_TABLES, EVERY_FAMILY, CONN, ("tcp4", "tcp6", "unix"), EVERY_COLUMN),
    # the last of -a / -l counts
    (["-a", "-l", "-t"], {"tcp"}, INET, LISTENING, ("tcp4", "tcp6"), NO_NETID),
    (["-l", "-a", "-t"], {"tcp"}, INET, ALL, ("tcp4", "tcp6"), NO_NETID),
]


@pytest.mark.parametrize("argv, tables, families, states, protos, columns", CASES)
def test_selection_of_each_command_line(
    argv: List[str], tables: Any, families: Any, states: Any, protos: Any, columns: Any
) -> None:
    sel = select(parse_args(argv))
    assert sel.tables == frozenset(tables)
    assert sel.families == families
    assert sel.states == states
    assert sel.protos == protos
    assert sel.columns == columns
    assert sel.backend == "auto" and not sel.fallback and not sel.tcp_info and sel.nothing == ""


# (argv, filter's states, filter's families) -> (states, families, protos, columns)
FILTER_CASES: List[Any] = [
    # a "state" clause replaces -l / -a, and the default states too
    (["-tl"], ESTAB, None, ESTAB, INET, ("tcp4", "tcp6"), NO_NETID_NO_STATE),
    (["-ta"], frozenset({S.TIME_WAIT, S.LISTEN}), None, frozenset({S.TIME_WAIT, S.LISTEN}), INET,
     ("tcp4", "tcp6"), NO_NETID),
    ([], LISTENING, None, LISTENING, EVERY_FAMILY, EVERY_PROTO, EVERY_COLUMN),
    # an empty state set (a clause excluding everything it named) leaves the flags' states
    (["-t"], frozenset(), None, CONN, INET, ("tcp4", "tcp6"), NO_NETID),
    # a family word replaces the flags' families
    (["-t"], None, V6, CONN, V6, ("tcp6",), NO_NETID),
    (["-x", "-4"], None, UNIX, CONN, UNIX, ("unix",), EVERY_COLUMN),
    # a family with none of the tables: nothing to read, but something to show (the header)
    (["-t"], None, UNIX, CONN, UNIX, (), NO_NETID),
]


@pytest.mark.parametrize("argv, f_states, f_families, states, families, protos, columns", FILTER_CASES)
def test_a_filters_states_and_families_replace_the_flags(
    argv: List[str], f_states: Optional[FrozenSet[TcpState]], f_families: Optional[FrozenSet[int]],
    states: Any, families: Any, protos: Any, columns: Any,
) -> None:
    sel = select(parse_args(argv), f_states, f_families)
    assert (sel.states, sel.families, sel.protos, sel.columns) == (states, families, protos, columns)


def test_nothing_to_show_says_what_is_missing() -> None:
    assert select(parse_args(["-t"]), None, frozenset()).nothing == "families"
    assert select(parse_args(["-t"])).nothing == ""


@pytest.mark.parametrize("argv, live, backend, fallback", [
    (["-ti"], True, "netlink", True),
    (["-tm"], True, "netlink", True),
    (["-xm"], True, "netlink", True),
    (["-ti"], False, "proc", False),  # --root, a capture: the text tables, which have none of it
    (["-t"], True, "auto", False),
    (["-t"], False, "auto", False),
])
def test_backend_netlink_for_kernel_details_text_tables_allowed_otherwise(
    argv: List[str], live: bool, backend: str, fallback: bool
) -> None:
    sel = select(parse_args(argv), live=live)
    assert (sel.backend, sel.fallback, sel.tcp_info) == (backend, fallback, backend != "auto")


# -- the flag table --------------------------------------------------------------------------


@pytest.mark.parametrize("flag", FLAGS, ids=lambda f: f.long)
def test_short_and_long_spellings_mean_the_same(flag: Any) -> None:
    argv = ["--%s" % flag.long] + (["/x"] if flag.argument else [])
    long_form = parse_args(argv)
    if flag.short:
        assert parse_args(["-" + flag.short] + argv[1:]) == long_form
    assert long_form != parse_args([])


@pytest.mark.parametrize("flag", FLAGS, ids=lambda f: f.long)
def test_every_flag_is_in_the_usage_text(flag: Any) -> None:
    assert "--%s" % flag.long in ss.USAGE
    if flag.short:
        assert "-%s," % flag.short in ss.USAGE


def test_flags_set_the_fields_they_name() -> None:
    o = parse_args(["-tn", "-p", "-e", "--json", "--root=/r", "sport", "=", ":22"])
    assert o.tables == {"tcp"} and o.numeric and o.processes and o.extended and o.timers and o.json
    assert o.root == "/r" and o.filter_words == ("sport", "=", ":22")
    assert parse_args(["--root", "/r"]).root == "/r"
    assert parse_args(["-x", "-4", "-6"]).preferred_family == socket.AF_INET6  # the last one
    assert parse_args(["--list"]) == parse_args(["-l"])  # a unique prefix, as GNU getopt takes it
    assert parse_args(["--", "-t"]).filter_words == ("-t",) and not parse_args(["--", "-t"]).tables


@pytest.mark.parametrize("argv, text", [
    (["-q"], "option -q not recognized; run 'procnet ss --help' for the options"),
    (["--nope"], "option --nope not recognized; run 'procnet ss --help' for the options"),
    (["--n"], "option --n not a unique prefix; run 'procnet ss --help' for the options"),
    (["--root"], "option --root requires argument; run 'procnet ss --help' for the options"),
    (["--tcp=1"], "option --tcp must not have an argument; run 'procnet ss --help' for the options"),
    (["-K"], "option -K not recognized; procnet ss does not support ss's -K; run 'procnet ss --help' "
             "for the options"),
    (["-tA", "tcp"], "option -A not recognized; procnet ss does not support ss's -A; run 'procnet ss --help' "
                     "for the options"),
])
def test_usage_errors_say_what_to_write_and_exit_2(argv: List[str], text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_args(argv)
    assert str(info.value) == text
    import io

    out, err = io.StringIO(), io.StringIO()
    assert ss.run(argv, out, err) == 2
    assert err.getvalue() == "procnet ss: %s\n" % text and out.getvalue() == ""


# -- any combination of flags ----------------------------------------------------------------

_SPELLINGS = [s for f in FLAGS if not f.argument and f.long not in ("help", "version")
              for s in (["-" + f.short] if f.short else []) + ["--" + f.long]]
_BOGUS = ["-" + c for c in sorted(UNSUPPORTED)] + ["-q", "--bogus"]


def _family_tables(family: int) -> FrozenSet[str]:
    return UNIX_TABLES if family == socket.AF_UNIX else INET_TABLES


def _table_families(table: str) -> FrozenSet[int]:
    return UNIX if table in UNIX_TABLES else INET


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_SPELLINGS + _BOGUS), max_size=8))
def test_any_flags_give_a_usage_error_or_a_consistent_selection(argv: Sequence[str]) -> None:
    try:
        o = parse_args(argv)
    except UsageError:
        assert any(a in _BOGUS for a in argv)
        return
    assert not any(a in _BOGUS for a in argv)
    sel: Selection = select(o)
    assert sel.tables and sel.families and sel.states and sel.nothing == ""
    # every table shown has a family shown, every family a table (ss's filter_merge_defaults)
    assert all(_table_families(t) & sel.families for t in sel.tables)
    assert all(_family_tables(f) & sel.tables for f in sel.families)
    # the tables read are exactly the shown tables in the shown families, in ss's order
    expected = [t + v for t in ("tcp", "udp", "raw") if t in sel.tables
                for v, f in (("4", socket.AF_INET), ("6", socket.AF_INET6)) if f in sel.families]
    expected += ["unix"] if socket.AF_UNIX in sel.families else []
    assert list(sel.protos) == expected
    # tables named by a flag are all shown; the columns are ss's, Netid/State only when they vary
    assert o.tables <= sel.tables
    assert set(sel.columns) - {"netid", "state"} == set(COLUMNS) - {"netid", "state"}
    assert ("netid" in sel.columns) == (len(sel.tables) > 1)
    assert ("state" in sel.columns) == (len(sel.states) > 1)
    # ss's last -a/-l decides the states when any is given
    given_flags = [a for a in argv if a in ("-a", "--all", "-l", "--listening")]
    if given_flags:
        assert sel.states == (ALL if given_flags[-1] in ("-a", "--all") else LISTENING)


# -- against iproute2's ss: the same columns for the same flags --------------------------------

SS = shutil.which("ss")


@pytest.mark.skipif(SS is None, reason="iproute2's ss is not installed")
@pytest.mark.parametrize("argv", [c[0] for c in CASES if "--tcp" not in c[0]])
def test_header_as_real_ss_prints_it(argv: List[str]) -> None:
    import io

    # a filter nothing matches: the header alone, whose columns and widths are the flags'
    out, err = io.StringIO(), io.StringIO()
    words = ["sport", "=", ":1", "and", "dport", "=", ":1"]
    assert ss.run(argv + words, out, err) == 0, err.getvalue()
    assert SS is not None
    theirs = subprocess.run([SS, *argv, *words], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            timeout=20).stdout
    assert out.getvalue().split("\n")[0] == theirs.split("\n")[0]


def _options_dict(o: Any) -> Dict[str, Any]:
    import dataclasses

    return dataclasses.asdict(o)


def test_options_and_selection_are_frozen() -> None:
    import dataclasses

    o = parse_args(["-t"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        o.numeric = True  # type: ignore[misc]
    with pytest.raises(AttributeError):
        select(o).states = frozenset()  # type: ignore[misc]
    assert _options_dict(o)["tables"] == frozenset({"tcp"})
