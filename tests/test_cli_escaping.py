"""Text from other processes and from bundles cannot fake columns or drive the terminal.

Each test builds a proc tree (a bundle, as ``procnet capture`` writes one) whose process
name, socket path, descriptor targets and directory names are hostile: escape sequences
(``ESC ] 0 ; ... BEL`` retitles a terminal), quotes and backslashes, invisible "printable"
characters (U+3164, U+200B, U+2800), bidi overrides, invalid UTF-8. Every output mode of
``procnet ss`` and ``procnet lsof`` and every message on stderr must hold no character a
terminal would not show as itself, and the columns must still be the columns: lsof's
PID is the second word of its row, ss's ``users:(...)`` reads back as the owners.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile
from typing import Any, Callable, Iterator, List, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from procnet.cli import lsof, main, ss

PID = 4242
UNIX_INODE = 7001
TCP_INODE = 5001
ESC_TITLE = "\x1b]0;pwned\x07"

# printable by category, invisible on a terminal (Unicode's default-ignorable code points
# that str.isprintable() accepts, and the blank Braille pattern)
_INVISIBLE = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180d\u180f\u2800\u3164\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef]"
)


def unsafe(text: str) -> List[str]:
    """Characters a terminal would not show as themselves: controls (C0, DEL, C1), format
    characters (U+200B, U+202E...), separators, non-ASCII spaces, invisible fillers, and
    lone surrogates (bytes that were not UTF-8)."""
    return [c for c in text if not (c.isprintable() and not _INVISIBLE.match(c))]


def _run(module: Any, *argv: str) -> Tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = module.run(list(argv), out, err)
    return rc, out.getvalue(), err.getvalue()


# -- a hostile bundle ------------------------------------------------------------------------

UNIX_HEADER = b"Num       RefCount Protocol Flags    Type St Inode Path\n"
TCP_HEADER = (b"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
              b"inode\n")
TCP_ROW = (b"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 %d 1 "
           b"0000000000000000 100 0 0 10 0\n" % TCP_INODE)
MANIFEST = b'{"byteorder": "little", "owners": true, "kernel": "hostile (hand-written)"}\n'


def make_bundle(root: str, comm: bytes, path: bytes, target: bytes) -> str:
    """A proc tree with one process ``PID`` named ``comm``, holding a unix socket bound to
    ``path``, a TCP listener and a descriptor open on ``target``; ``root`` is created."""
    broot = os.fsencode(root)
    os.makedirs(os.path.join(broot, b"net"))
    files = {
        b"procnet-manifest.json": MANIFEST,
        b"net/unix": UNIX_HEADER
        + b"0000000000000000: 00000002 00000000 00010000 0001 01 %d %s\n" % (UNIX_INODE, path),
        b"net/tcp": TCP_HEADER + TCP_ROW,
        b"%d/comm" % PID: comm + b"\n",
        b"%d/cmdline" % PID: comm + b"\0-x\0",
        b"%d/status" % PID: b"Name:\tx\nTgid:\t%d\nPid:\t%d\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n"
        % (PID, PID),
        b"%d/stat" % PID: b"%d (x) S 1 %d %d 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0\n"
        % (PID, PID, PID),
    }
    for fd, ino in ((3, UNIX_INODE), (4, TCP_INODE), (5, 99)):
        files[b"%d/fdinfo/%d" % (PID, fd)] = b"pos:\t0\nflags:\t02\nmnt_id:\t8\nino:\t%d\n" % ino
    for name, data in files.items():
        full = os.path.join(broot, name)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
    links = {
        b"fd/3": b"socket:[%d]" % UNIX_INODE,
        b"fd/4": b"socket:[%d]" % TCP_INODE,
        b"fd/5": target,
        b"cwd": target,
        b"exe": target,
        b"ns/net": b"net:[4026531840]",
    }
    for name, dest in links.items():
        full = os.path.join(broot, b"%d" % PID, name)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        os.symlink(dest, full)
    return root


@pytest.fixture()
def new_dir() -> Iterator[Callable[[], str]]:
    made: List[str] = []

    def new() -> str:
        d = tempfile.mkdtemp(prefix="pn-hostile-")
        made.append(d)
        return d

    yield new
    for d in made:
        shutil.rmtree(d, ignore_errors=True)


# Hostile pieces: every one a terminal would act on, hide, or read as a column.
PIECES = [
    "\x1b[2J", ESC_TITLE, "\x07", "\r", "\t", "\x7f", "\x9b", "\u200b", "\u202e", "\u2066", "\u3164",
    "\u2800", "\u115f", "\ufeff", "\u00a0", "\u2028", '"', "\\", " ", "),(", ",pid=1,fd=3", "(", ")", "a",
    "\u00e9", "\udcff", "\udc9b", "x\"),pid=1,fd=3),(\"",
]


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


hostile = st.lists(st.sampled_from(PIECES), min_size=1, max_size=6).map("".join).map(_bytes)
comms = hostile.map(lambda b: b[:15].replace(b"\n", b"") or b"x")  # the kernel keeps 15 bytes
paths = hostile.map(lambda b: b"/run/" + b.replace(b"\n", b""))  # a newline splits /proc/net/unix rows
targets = hostile.map(lambda b: b"/tmp/" + b)


# -- ss -p: the users field reads back --------------------------------------------------------

_ENTRY = re.compile(r'\("((?:[^"\\]|\\x[0-9a-f]{2})*)",pid=([0-9]+),fd=([0-9]+)\)')


def parse_users(line: str) -> List[Tuple[bytes, int, int]]:
    """ss's ``users:(("name",pid=N,fd=M),...)`` of a row: (name bytes, pid, fd) each.
    A quote inside a name, or a name that breaks the form, fails the parse. (The hostile
    pieces below never spell "users:(", so the first one is the column's.)"""
    start = line.index("users:(") + len("users:(")
    entries: List[Tuple[bytes, int, int]] = []
    pos = start
    while True:
        m = _ENTRY.match(line, pos)
        assert m, "not a users entry at %d: %r" % (pos, line[pos:])
        entries.append((_unescape(m.group(1)), int(m.group(2)), int(m.group(3))))
        pos = m.end()
        if line[pos] == ",":
            pos += 1
            continue
        assert line[pos] == ")", line[pos:]
        return entries


def _unescape(text: str) -> bytes:
    out = bytearray()
    i = 0
    while i < len(text):
        if text.startswith("\\x", i):
            out.append(int(text[i + 2 : i + 4], 16))
            i += 4
        else:
            out += text[i].encode("utf-8")
            i += 1
    return bytes(out)


def test_a_name_cannot_show_another_pid_first(new_dir: Callable[[], str]) -> None:
    comm = b'"),pid=1,fd=3),("x'[:15]  # the kernel keeps 15 bytes: '"),pid=1,fd=3),'
    root = make_bundle(os.path.join(new_dir(), "b"), comm, b"/run/a.sock", b"/tmp/f")
    rc, out, err = _run(ss, "-xap", "--root", root)
    assert rc == 0, err
    rows = [line for line in out.splitlines() if "users:" in line]
    assert len(rows) == 1
    users = parse_users(rows[0])
    assert [(pid, fd) for _, pid, fd in users] == [(PID, 3)]
    assert rows[0].endswith('users:(("\\x22),pid=1,fd=3),",pid=%d,fd=3))' % PID)


def test_a_name_with_a_closing_quote_reads_back_as_one_entry() -> None:
    from test_cli_ss import renderer

    from procnet import Owner, TcpState, UnixSocket
    from procnet._records import SocketStatus, UnixFlag

    import socket as _socket

    rec = UnixSocket(type=_socket.SOCK_STREAM, state=TcpState.LISTEN, status=SocketStatus.UNCONNECTED,
                     flags=UnixFlag.ACCEPTCON, refcount=2, inode=77, path="/run/x", pointer="0",
                     owners=(Owner(4242, 5, "u", 'x",pid=1,fd=3'),))
    process = renderer("-xlp").cells(rec)["process"]
    assert parse_users(process) == [(b'x",pid=1,fd=3', 4242, 5)]


# -- every output mode, hostile bundles from hypothesis ----------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(comm=comms, path=paths, target=targets)
def test_every_output_mode_is_safe_and_keeps_its_columns(
    new_dir: Callable[[], str], comm: bytes, path: bytes, target: bytes
) -> None:
    root = make_bundle(os.path.join(new_dir(), "b"), comm, path, target)
    outputs: List[str] = []

    # ss: unix and TCP rows with -p, -e; the users field reads back as the one owner
    for argv in (["-xap"], ["-xape"], ["-tlnp"], ["-tanpe"], ["-axpO"]):
        rc, out, err = _run(ss, *argv, "--root", root)
        assert rc == 0, err
        outputs += [out, err]
        rows = [line for line in out.splitlines()[1:] if line]
        assert len(rows) == 1, (argv, out)
        assert parse_users(rows[0]) == [(comm, PID, 3 if "x" in argv[0] else 4)]
    rc, out, err = _run(ss, "-xap", "--json", "--root", root)
    assert rc == 0
    outputs += [out, err]
    (obj,) = [json.loads(line) for line in out.splitlines()]
    got = bytes.fromhex(obj["path_hex"]) if "path_hex" in obj else obj["path"].encode("utf-8")
    assert got == path

    # lsof: every row's PID is its second word (COMMAND cannot hold a blank)
    for argv in ([], ["-p", str(PID)], ["-i"], ["-iTCP:8080", "-P"], [os.fsdecode(target)], ["-P", "-n"]):
        rc, out, err = _run(lsof, "--root", root, *argv)
        outputs += [out, err]
        rows = out.splitlines()[1:]
        assert rows, (argv, out, err)
        for row in rows:
            assert row.split()[1] == str(PID), (argv, row)
    rc, out, err = _run(lsof, "--root", root, "-p", str(PID), "--json")
    outputs += [out, err]
    objs = [json.loads(line) for line in out.splitlines()]
    names = {bytes.fromhex(o["comm_hex"]) if "comm_hex" in o else o["comm"].encode("utf-8") for o in objs}
    assert names == {comm}

    for text in outputs:
        assert not unsafe(text.replace("\n", "")), (unsafe(text), text)


# -- messages on stderr -------------------------------------------------------------------------


def _bad_table_bundle(parent: str) -> str:
    """A bundle in a directory named with a terminal title sequence, whose TCP table has a
    line with an escape sequence: reading it fails, and the error quotes both."""
    root = make_bundle(os.path.join(parent, "b" + ESC_TITLE + "\u3164"), b"x", b"/run/a", b"/tmp/f")
    with open(os.path.join(root, "net", "tcp"), "ab") as f:
        f.write(b"   1: ZZ\x1b[2J\x07\xe2\x80\xae 0A\n")
    return root


@pytest.mark.parametrize("argv", [["ss", "-tan"], ["ss", "-tanp"], ["lsof", "-i"], ["lsof"], ["ss", "-tani"]])
def test_errors_quoting_a_bundle_are_escaped(
    new_dir: Callable[[], str], capsys: Any, argv: List[str]
) -> None:
    root = _bad_table_bundle(new_dir())
    rc = main(argv + ["--root", root])
    captured = capsys.readouterr()
    assert rc == 1, captured
    err = captured.err
    assert err and not unsafe(err.replace("\n", "")), err
    assert err.count("\n") == 1  # one message, one line
    assert "\\x1b]0;pwned\\x07" in err and "\\x1b[2J" in err
    assert "Traceback" not in err


def test_warning_naming_the_root_is_escaped(new_dir: Callable[[], str], capsys: Any) -> None:
    root = make_bundle(os.path.join(new_dir(), "b" + ESC_TITLE), b"x", b"/run/a", b"/tmp/f")
    assert main(["ss", "-tlni", "--root", root]) == 0
    err = capsys.readouterr().err
    assert "no TCP info" in err and "\\x1b]0;pwned\\x07" in err
    assert not unsafe(err.replace("\n", ""))


def test_unknown_command_and_usage_errors_are_escaped(capsys: Any) -> None:
    assert main(["ss\u3164\u202e"]) == 2
    assert main(["ss", "-\u3164"]) == 2
    assert main(["lsof", "-p", "1\u3164\x1b[2J"]) == 2
    assert main(["lsof", "-i@\u3164\x1b[2J"]) == 1  # lsof refuses it: its message and hint, status 1
    err = capsys.readouterr().err
    assert err.count("\n") == 5
    assert not unsafe(err.replace("\n", "")), err
    assert "\\xe3\\x85\\xa4" in err


def test_capture_usage_errors_are_escaped(capsys: Any) -> None:
    with pytest.raises(SystemExit) as info:
        main(["capture", "dir", "extra" + ESC_TITLE + "\u3164"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments" in err and "\\x1b]0;pwned\\x07" in err
    assert not unsafe(err.replace("\n", "")), err


def test_a_bad_filter_is_printed_escaped_with_its_marker(
    new_dir: Callable[[], str], capsys: Any
) -> None:
    root = make_bundle(os.path.join(new_dir(), "b"), b"x", b"/run/a", b"/tmp/f")
    assert main(["ss", "-t", "--root", root, "sport", "=", ":" + ESC_TITLE]) == 2
    err = capsys.readouterr().err
    assert not unsafe(err.replace("\n", "")), err
    lines = err.split("\n")
    expr, marker = lines[1], lines[2]
    assert expr == "    sport = :\\x1b]0;pwned\\x07"
    token = ":\\x1b]0;pwned\\x07"
    assert marker == " " * 12 + "~" * (len(token) - 1) + "^"
