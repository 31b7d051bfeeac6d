"""procnet lsof's command line: the flag table, the spellings lsof accepts (clustered
letters, attached or separate values, an optional -i address), the messages and exit
status of a command line it cannot run, and -c / -d lists."""

from __future__ import annotations

import io
import re
from typing import List, Optional, Tuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from procnet.cli import lsof
from procnet.cli._lsof_args import (
    LETTERS,
    USAGE,
    WORDS,
    FdSet,
    InetSpec,
    Options,
    Takes,
    UsageError,
    parse_args,
    parse_fd_set,
)


def run_lsof(*args: str) -> Tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = lsof.run(list(args), out, err)
    return rc, out.getvalue(), err.getvalue()


# -- spellings -------------------------------------------------------------------------------

# each group: command lines lsof reads the same
SAME: List[List[List[str]]] = [
    [["-nPi:80"], ["-n", "-P", "-i", ":80"], ["-Pn", "-i:80"], ["-nPi", ":80"]],
    [["-p1,2"], ["-p", "1,2"], ["-p", "1", "-p", "2"], ["-p2,1,1"]],
    [["-iTCP"], ["-i", "TCP"], ["-itcp"]],
    [["-a", "-U", "-c", "ssh"], ["-aUc", "ssh"], ["-aUcssh"], ["-cssh", "-Ua"]],
    [["-d", "0-2,cwd"], ["-d0-2,cwd"], ["-d", "cwd", "-d", "0-2"], ["-d", ",0-2,,cwd,"]],
    [["-u", "root,^bin"], ["-uroot", "-u^bin"]],
    [["--root", "/r"], ["--root=/r"]],
    [["-h"], ["--help"], ["-?"]],
    [["-v"], ["-V"], ["--version"]],
    [["-i", "/tmp/x"], ["-i", "--", "/tmp/x"], ["/tmp/x", "-i"]],  # a bare -i before a PATH
]


@pytest.mark.parametrize("group", SAME, ids=lambda g: " | ".join(" ".join(a) for a in g))
def test_spellings_that_mean_the_same(group: List[List[str]]) -> None:
    first = parse_args(group[0])
    for argv in group[1:]:
        assert parse_args(argv) == first, argv


def test_values_land_in_their_fields() -> None:
    o = parse_args(["-tnPi:80", "-U", "-c^cron", "-d^3", "--json", "x", "-"])
    assert o == Options(inet=(InetSpec(None, None, None, ((80, 80),)),), unix=True, not_commands=("cron",),
                        fds=FdSet(frozenset(), ((3, 3),), True), numeric_ports=True, numeric_hosts=True,
                        terse=True, json=True, paths=("x", "-"))


def test_plus_words_are_paths_as_before() -> None:
    assert parse_args(["+c", "15"]).paths == ("+c", "15")
    assert parse_args(["-n", "--", "-p", "--json"]) == Options(numeric_hosts=True, paths=("-p", "--json"))


no_value_letters = sorted(c for c, f in LETTERS.items() if f.takes is Takes.NOTHING)
valued = st.sampled_from([
    ("p", "1,^2"), ("u", "root"), ("c", "ssh"), ("d", "0-2,cwd"), ("i", "TCP:22"), ("i", "@[::1]"), ("i", "6"),
])


@given(st.lists(st.sampled_from(no_value_letters), max_size=6), st.one_of(st.none(), valued))
def test_a_cluster_reads_as_its_letters_one_by_one(letters: List[str], last: Optional[Tuple[str, str]]) -> None:
    apart = ["-" + c for c in letters]
    if last is None:
        clusters = [["-" + "".join(letters)]] if letters else []
    else:
        letter, value = last
        apart += ["-" + letter, value]
        clusters = [["-" + "".join(letters) + letter + value], ["-" + "".join(letters) + letter, value]]
    for argv in clusters:
        assert parse_args(argv) == parse_args(apart), argv


@given(st.lists(st.text(max_size=12), max_size=6))
def test_any_command_line_parses_or_raises_usage_error(argv: List[str]) -> None:
    try:
        o = parse_args(argv)
    except UsageError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert isinstance(o, Options)


def test_every_letter_of_the_table_is_in_the_usage_and_the_unknown_option_message() -> None:
    rc, _, err = run_lsof("-Z")
    assert rc == 2
    for letter in LETTERS:
        assert re.search(r"(^|[\s\[])-%s\b" % re.escape(letter), USAGE), letter
        assert "-" + letter in err
    assert all(word in WORDS and word in USAGE for word in ("--json", "--root"))


# -- what cannot run: exit 2, one line saying what to write --------------------------------

USAGE_ERRORS = [
    (["-p"], "-p needs a list; write e.g. -p 1234"),
    (["-u"], "-u needs a list; write e.g. -u root"),
    (["-c"], "-c needs a command name; write e.g. -c sshd"),
    (["-d"], "-d needs a list; write e.g. -d 0-2,cwd"),
    (["--root"], "--root needs a directory; write --root /host/proc"),
    (["--json=1"], "unknown option --json=1; see 'procnet lsof --help'"),
    (["-nh"], "unknown option -h; procnet lsof takes -i -U -p -u -c -d -a -P -n -t --json (see --help)"),
    (["-iSCTP"], "-i SCTP: unknown protocol 'sctp'; write TCP or UDP, e.g. -i TCP:22"),
    (["-c", "^"], "-c ^: no command name; write e.g. -c sshd or -c ^sshd"),
    (["-c", "/ss.*/"], "-c /ss.*/: regular expressions are not supported; write the start of the name, e.g. -c ssh"),
    (["-c", "a" * 16], "-c %s: longer than the 15 bytes of a process name" % ("a" * 16)),
    (["-c", "ssh", "-c", "^ssh"], "-c ^ssh conflicts with -c ssh"),
    (["-c", "^ssh", "-c", "ssh"], "-c ssh conflicts with -c ^ssh"),
    (["-d", "1-2,^3"], "-d 1-2,^3: a list either lists or excludes (^) descriptors; write e.g. -d 0-2 or -d ^0-2"),
    (["-d", "3-1"], "-d 3-1: in '3-1' the low end is not below the high end; write e.g. -d 0-2"),
    (["-d", "3-3"], "-d 3-3: in '3-3' the low end is not below the high end; write e.g. -d 0-2"),
    (["-d", "-1"], "-d -1: '-1' is not a range; write LOW-HIGH, e.g. -d 0-2"),
    (["-d", "^"], "-d ^: '^' names no descriptor; write e.g. -d ^0-2"),
    (["-d", ","], "-d ,: no descriptor in the list; write e.g. -d 0-2,cwd"),
    (["-d", "3", "-d", "^4"], "-d ^4: the -d lists either list or exclude (^) descriptors; write one kind"),
]


@pytest.mark.parametrize("argv, text", USAGE_ERRORS)
def test_usage_errors_exit_2_with_one_line_saying_what_to_write(argv: List[str], text: str) -> None:
    rc, out, err = run_lsof(*argv)
    assert (rc, out, err) == (2, "", "procnet lsof: %s\n" % text)


def test_fd_sets() -> None:
    assert parse_fd_set("0-2,cwd,03,txt") == FdSet(frozenset({"cwd", "txt"}), ((0, 2), (3, 3)), False)
    fds = parse_fd_set("^0-2,^mem")
    assert fds.exclude and fds.holds("mem", None) and fds.holds("   1", 1) and not fds.holds("   3", 3)
    assert parse_fd_set("0x3").names == {"0x3"}  # not a number: a name no descriptor has, as in lsof


def test_commands_are_kept_once_in_order() -> None:
    o = parse_args(["-c", "b", "-c", "a", "-c", "b", "-c", "^z"])
    assert (o.commands, o.not_commands) == (("b", "a"), ("z",))
