"""procnet lsof's command line: the flag table, the spellings lsof accepts (clustered
letters, attached or separate values, an optional -i address), the messages and exit
status of a command line it cannot run, and -c / -d lists."""

from __future__ import annotations

import io
import os
import re
import socket
from typing import List, Optional, Tuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

import procnet.cli._lsof_args
from procnet.cli import lsof
from procnet.cli._lsof_args import (
    LETTERS,
    USAGE,
    WORDS,
    FdSet,
    InetSpec,
    LsofError,
    Options,
    Takes,
    UsageError,
    parse_args,
    parse_fd_set,
)


#: the login names these tests use, whatever this machine's password database holds
USERS = {"root": 0, "bin": 1, "alice": 1000}


@pytest.fixture(autouse=True)
def users(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(procnet.cli._lsof_args, "login_uid", USERS.get)


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
    [["-i", "--", "/tmp/x"], ["/tmp/x", "-i"]],  # a bare -i and a PATH
    [["-sTCP:LISTEN"], ["-s", "TCP:LISTEN"], ["-s", "tcp:listen"], ["-sTCP:LISTEN,"]],
    [["-s", "-n"], ["-n", "-s"], ["-ns"]],  # -s alone (next word starts with -)
    [["-iTCP", "-sTCP:^LISTEN"], ["-s", "TCP:^LISTEN", "-i", "TCP"]],
    [["+D", "/tmp"], ["+D/tmp"]],
    [["--netns", "all"], ["--netns=all"]],
    [["--netns", "12"], ["--netns=12"]],
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
        assert exc.lines and all(exc.lines) and exc.status in (1, 2)
        assert exc.status == 2 or isinstance(exc, LsofError)
        return
    assert isinstance(o, Options) and not o.errors


def test_every_letter_of_the_table_is_in_the_usage_and_the_unknown_option_message() -> None:
    rc, _, err = run_lsof("-Z")
    assert rc == 2
    for letter in LETTERS:
        assert re.search(r"(^|[\s\[])-%s\b" % re.escape(letter), USAGE), letter
        assert "-" + letter in err
    assert all(word in WORDS and word in USAGE for word in ("--json", "--root", "--netns"))
    assert "+d DIR" in USAGE and "+D DIR" in USAGE


# -- what cannot run: exit 2, one line saying what to write --------------------------------

USAGE_ERRORS = [
    (["-p"], "-p needs a list; write e.g. -p 1234"),
    (["-u"], "-u needs a list; write e.g. -u root"),
    (["-c"], "-c needs a command name; write e.g. -c sshd"),
    (["-d"], "-d needs a list; write e.g. -d 0-2,cwd"),
    (["--root"], "--root needs a directory; write --root /host/proc"),
    (["--json=1"], "unknown option --json=1; see 'procnet lsof --help'"),
    (["-nh"], "unknown option -h; procnet lsof takes -i -U -p -u -c -d -a -s -P -n -t --json (see --help)"),
    (["--netns", "self"], "--netns takes all or a pid, not 'self'; write --netns all or --netns 1234"),
    (["--netns"], "--netns needs all or a pid; write --netns all"),
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


# -- what lsof itself refuses: lsof 4.95's words, exit 1 --------------------------------------
# (tests/test_cli_lsof_errors.py compares the same with the real lsof where it is installed)

LSOF_ERRORS = [
    (["-i", ":abc"], ["unknown service abc in: -i :abc"]),
    (["-i:abc"], ["unknown service abc in: -i :abc"]),
    (["-iTCP:abc"], ["unknown service abc for tcp in: -i TCP:abc"]),
    (["-i", "badspec"], ["unknown protocol name (badspec) in: -i badspec"]),
    (["-i", "/tmp/x"], ["unknown protocol name (/tmp/x) in: -i /tmp/x"]),  # lsof takes the next word
    (["-iSCTP"], ["unknown protocol name (SCTP) in: -i SCTP"]),
    (["-i", "TCP:22x"], ["unacceptable port specification in: -i TCP:22x"]),
    (["-i", ":"], ["unacceptable port specification in: -i :"]),
    (["-i", ":9-3"], ["unacceptable port specification in: -i :9-3"]),
    (["-i", ":1-"], ["unacceptable port specification in: -i :1-"]),
    (["-i", ":22,,80"], ["invalid service name: -i :22,,80"]),
    (["-i", "@"], ["unacceptable Internet address in: -i @"]),
    (["-i", "@[::1"], ["unacceptable Internet address in: -i @[::1"]),
    (["-i", "4@[::1]"], ["IPv6 addresses are prohibited: -i 4@[::1]"]),
    (["-i", "6@127.0.0.1"], ["IPv4 addresses are prohibited: -i 6@127.0.0.1"]),
    (["-u", "nosuchuser"], ["can't get UID for nosuchuser"]),
    (["-u", "root,nosuch,^other"], ["can't get UID for nosuch", "can't get UID for other"]),
    (["-i", ":abc", "-u", "nosuch"], ["unknown service abc in: -i :abc", "can't get UID for nosuch"]),
    (["-sTCP:FOO"], ["unknown TCP state name: FOO"]),
    (["-sSCTP:LISTEN"], ['unknown -s protocol: "SCTP:LISTEN"']),
    (["-s", "/tmp"], ['unknown -s protocol: "/tmp"']),
    (["-sTCP:"], ["no TCP state names in: TCP:"]),
    (["-sUDP:Idle"], ["no UDP state names available: UDP:Idle"]),
    (["-sTCP:LISTEN,,X"], ["NULL TCP state name in: TCP:LISTEN,,X", "unknown TCP state name: X"]),
    (["-sTCP:LISTEN,listen"], ["duplicate TCP inclusion: listen"]),
    (["-sTCP:^LISTEN", "-sTCP:^LISTEN"], ["duplicate TCP exclusion: LISTEN"]),
    (["-sTCP:^LISTEN,ESTABLISHED", "-sTCP:LISTEN,^ESTABLISHED"],
     ["can't include and exclude TCP state: ESTABLISHED", "can't include and exclude TCP state: LISTEN"]),
    (["+D"], ["+d not followed by a directory path"]),
    (["+d", "-n"], ["+d not followed by a directory path"]),
]


@pytest.mark.parametrize("argv, lines", LSOF_ERRORS)
def test_what_lsof_refuses_is_refused_in_its_words_with_its_status(argv: List[str], lines: List[str]) -> None:
    rc, out, err = run_lsof(*argv)
    assert (rc, out) == (1, "")
    assert err == "".join("procnet lsof: %s\n" % line for line in lines) + lsof.HELP_HINT


@pytest.mark.parametrize("argv", [["-i", ":99999"], ["-i", ":70000-99999"], ["-iTCP:22,"]])
def test_what_lsof_accepts_is_accepted(argv: List[str]) -> None:
    o = parse_args(argv)  # a port above 65535 matches nothing (lsof has no upper bound)
    assert o.inet and not o.errors


def test_states_land_in_their_fields() -> None:
    o = parse_args(["-sTCP:LISTEN,established,^CLOSE_WAIT", "-s", "TCP:^time_wait,closed"])
    assert (o.tcp_states, o.not_tcp_states, o.size) == ({10, 1, 0}, {8, 6}, False)
    assert parse_args(["-s"]).size and parse_args(["-s", "-i"]).size
    assert parse_args(["+d", "a", "+Db"]).dirs == (("a", False), ("b", True))
    assert (parse_args(["--netns", "all"]).netns, parse_args(["--netns=7"]).netns) == ("all", 7)


@given(st.text(max_size=20))
def test_any_state_spec_is_read_or_refused_in_lsofs_words(text: str) -> None:
    try:
        o = parse_args(["-s" + text] if text else ["-s"])
    except LsofError as exc:
        prefixes = ('unknown -s protocol: "', "no TCP state names in: ", "no UDP state names in: ",
                    "no UDP state names available: ", "NULL TCP state name in: ", "unknown TCP state name: ",
                    "duplicate TCP ", "can't include and exclude TCP state: ")
        assert all(line.startswith(prefixes) for line in exc.lines)
        return
    assert o.size == (text == "") and (o.tcp_states | o.not_tcp_states or not text)


def test_fd_sets() -> None:
    assert parse_fd_set("0-2,cwd,03,txt") == FdSet(frozenset({"cwd", "txt"}), ((0, 2), (3, 3)), False)
    fds = parse_fd_set("^0-2,^mem")
    assert fds.exclude and fds.holds("mem", None) and fds.holds("   1", 1) and not fds.holds("   3", 3)
    assert parse_fd_set("0x3").names == {"0x3"}  # not a number: a name no descriptor has, as in lsof


def test_commands_are_kept_once_in_order() -> None:
    o = parse_args(["-c", "b", "-c", "a", "-c", "b", "-c", "^z"])
    assert (o.commands, o.not_commands) == (("b", "a"), ("z",))


# -- --netns all|PID (a procnet extension) ------------------------------------------------------

TWO_NAMESPACES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures",
                              "owners-two-namespaces")


def test_netns_all_identifies_the_sockets_of_every_namespace() -> None:
    rc, plain, _ = run_lsof("-i", "-n", "-P", "--root", TWO_NAMESPACES)
    assert rc == 0 and [line.split()[1] for line in plain.splitlines()[1:]] == ["300"]
    rc, out, err = run_lsof("-i", "-n", "-P", "--root", TWO_NAMESPACES, "--netns", "all")
    assert (rc, err) == (0, "")
    assert [(line.split()[1], line.split(None, 7)[7]) for line in out.splitlines()[1:]] == [
        ("300", "TCP 127.0.0.1:22 (LISTEN)"), ("400", "TCP 127.0.0.1:80 (LISTEN)"), ("401", "TCP 127.0.0.1:80 (LISTEN)"),
    ]
    rc, out, _ = run_lsof("-p", "400", "-n", "-P", "--root", TWO_NAMESPACES)
    assert "can't identify protocol" in out  # a socket of another namespace, as lsof shows it
    rc, out, _ = run_lsof("-p", "400", "-n", "-P", "--root", TWO_NAMESPACES, "--netns=all")
    assert "can't identify protocol" not in out and "TCP 127.0.0.1:80 (LISTEN)" in out


def test_netns_pid_reads_that_process_namespace_only() -> None:
    rc, out, _ = run_lsof("-i", "-n", "-P", "--root", TWO_NAMESPACES, "--netns", "400")
    assert rc == 0 and [line.split()[1] for line in out.splitlines()[1:]] == ["400", "401"]


def test_netns_of_a_pid_that_does_not_exist() -> None:
    rc, out, err = run_lsof("-i", "--root", TWO_NAMESPACES, "--netns", "999")
    assert (rc, out) == (1, "")
    assert err == "procnet lsof: netns=999: no such process under %s\n" % TWO_NAMESPACES


@pytest.mark.live
def test_netns_of_this_process_is_the_default_namespace() -> None:
    with socket.socket() as lst:
        lst.bind(("127.0.0.1", 0))
        lst.listen(1)
        args = ("-iTCP:%d" % lst.getsockname()[1], "-n", "-P")
        plain = run_lsof(*args)
        assert plain[0] == 0 and "(LISTEN)" in plain[1]
        assert run_lsof(*args, "--netns", str(os.getpid())) == plain
        assert run_lsof(*args, "--netns", "all") == plain
