"""An untrusted bundle: read with ``root=`` / ``--root``, it can never hang procnet,
exhaust its memory, send it outside its root, or crash it with a traceback.

A bundle comes from another machine: tar keeps FIFOs, root extracting it keeps device
nodes, links may point anywhere, files may be sparse giants and names anything. Each test
copies a fixture tree to a temporary directory and spoils one thing. Whatever could hang
(a FIFO) or eat the machine's memory (a device, a sparse file) is read in a child process
with a time limit and an address-space limit, so that a regression fails the test instead
of hanging the suite or the machine.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from typing import Any, Dict, List

import pytest
from conftest import ROOT, fixture_dir
from hypothesis import given, settings
from hypothesis import strategies as st

import procnet
from procnet._errors import UnsafeFile, quoted
from procnet._proc import LIMITS, ProcFS

SCENARIO = "owners-forked-listener"  # pids 100-102 hold sockets, 103 exited; a manifest
CHILD_TIMEOUT = 20
#: the child's address space: the old code read a device or a giant until MemoryError
CHILD_MEMORY = 2 << 30


@pytest.fixture
def bundle(tmp_path: Any) -> str:
    path = str(tmp_path / "bundle")
    shutil.copytree(fixture_dir(SCENARIO), path, symlinks=True)
    return path


def run_child(code: str, bundle: str) -> Dict[str, Any]:
    """Run ``code`` (which sets ``result``) with ``root`` bound to the bundle, in a child
    with a time and memory limit; return {"result": ...} or {"error": type, "message": ...}."""
    driver = textwrap.dedent(
        """
        import json, resource, sys
        sys.path.insert(0, %r)
        resource.setrlimit(resource.RLIMIT_AS, (%d, %d))
        import procnet
        root = sys.argv[1]
        try:
        %s
            out = {"result": result}
        except BaseException as exc:
            out = {"error": type(exc).__name__, "message": str(exc)[:5000],
                   "procnet": isinstance(exc, procnet.ProcNetError)}
        sys.stdout.write(json.dumps(out))
        """
    ) % (ROOT, CHILD_MEMORY, CHILD_MEMORY, textwrap.indent(textwrap.dedent(code), "    "))
    run = subprocess.run([sys.executable, "-c", driver, bundle], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         timeout=CHILD_TIMEOUT)
    assert run.returncode == 0, run.stderr.decode(errors="replace")[-2000:]
    out: Dict[str, Any] = json.loads(run.stdout)
    return out


def replace_with_fifo(bundle: str, rel: str) -> None:
    path = os.path.join(bundle, rel)
    if os.path.lexists(path):
        os.unlink(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.mkfifo(path)


# -- FIFOs: never opened, so nothing blocks ------------------------------------------------

QUERY = 'r = procnet.sockets("all", root=root, owners=True, details=True)\nresult = {"n": len(r), "denied": list(r.report.denied)}'


@pytest.mark.parametrize("rel", ["procnet-manifest.json", "net/tcp", "net/unix"])
def test_fifo_in_place_of_a_table_or_the_manifest_fails_the_query_clearly(bundle: str, rel: str) -> None:
    replace_with_fifo(bundle, rel)
    out = run_child(QUERY, bundle)
    assert out.get("procnet") is True, out
    assert rel.split("/")[-1] in out["message"] and "FIFO" in out["message"], out


@pytest.mark.parametrize("rel", ["100/comm", "100/cmdline", "100/status"])
def test_fifo_in_place_of_a_process_file_is_reported_not_waited_for(bundle: str, rel: str) -> None:
    replace_with_fifo(bundle, rel)
    out = run_child(QUERY, bundle)
    assert "result" in out, out
    assert out["result"]["n"] == 6
    if rel.endswith("comm"):  # the name is what the scan must read: pid 100 counts as not inspected
        assert 100 in out["result"]["denied"], out


def test_fifo_in_place_of_fdinfo_is_not_waited_for_by_lsof(bundle: str) -> None:
    replace_with_fifo(bundle, "100/fdinfo/3")
    code = """
    import io, contextlib
    from procnet.cli import lsof
    out, err = io.StringIO(), io.StringIO()
    status = lsof.run(["-p", "100", "--root", root], out, err)
    result = {"status": status, "out": out.getvalue(), "err": err.getvalue()}
    """
    out = run_child(code, bundle)
    assert "result" in out, out
    assert "nginx" in out["result"]["out"] and "Traceback" not in out["result"]["err"]


def test_fifo_in_place_of_the_port_range_gives_the_default(bundle: str) -> None:
    replace_with_fifo(bundle, "sys/net/ipv4/ip_local_port_range")
    code = """
    from procnet._proc import ProcFS
    r = procnet.sockets("tcp", root=root, owners=False, filter="sport = :8080")
    result = {"range": list(ProcFS(root).local_port_range()), "n": len(r)}
    """
    out = run_child(code, bundle)
    assert out.get("result") == {"range": [32768, 60999], "n": 3}, out


# -- devices, links to them, giants: refused before they are read ---------------------------

def test_table_that_links_to_dev_zero_is_refused_as_a_link(bundle: str) -> None:
    os.unlink(os.path.join(bundle, "net", "tcp"))
    os.symlink("/dev/zero", os.path.join(bundle, "net", "tcp"))
    out = run_child('procnet.sockets("tcp", root=root, owners=False)\nresult = None', bundle)
    assert out["error"] == "UnsafeFile" and "symbolic link" in out["message"], out


def test_port_range_that_links_to_dev_zero_is_not_read(bundle: str) -> None:
    """ip_local_port_range was read with a plain open(), which followed the link."""
    os.makedirs(os.path.join(bundle, "sys", "net", "ipv4"))
    os.symlink("/dev/zero", os.path.join(bundle, "sys", "net", "ipv4", "ip_local_port_range"))
    code = "from procnet._proc import ProcFS\nresult = list(ProcFS(root).local_port_range())"
    assert run_child(code, bundle) == {"result": [32768, 60999]}


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a device needs root")
@pytest.mark.parametrize("rel", ["net/tcp", "100/comm"])
def test_device_node_is_never_opened(bundle: str, rel: str) -> None:
    """A character device (here 1:5, /dev/zero's) is refused from its lstat: opening a
    device runs its driver, and reading /dev/zero ran until MemoryError."""
    path = os.path.join(bundle, rel)
    os.unlink(path)
    try:
        os.mknod(path, 0o644 | 0o020000, os.makedev(1, 5))
    except PermissionError:
        pytest.skip("mknod not allowed here")
    out = run_child(QUERY, bundle)
    if rel == "net/tcp":
        assert out["error"] == "UnsafeFile" and "character device" in out["message"], out
    else:
        assert 100 in out["result"]["denied"], out


def test_sparse_table_over_the_limit_is_refused_naming_the_limit(bundle: str) -> None:
    with open(os.path.join(bundle, "net", "tcp"), "r+b") as f:
        f.truncate(LIMITS["net"] + 1)  # sparse: no disk
    out = run_child('procnet.sockets("tcp", root=root, owners=False)\nresult = None', bundle)
    assert out["error"] == "UnsafeFile", out
    assert str(LIMITS["net"]) in out["message"] and "1 GiB" in out["message"], out


def test_sparse_comm_over_the_limit_makes_the_process_not_inspected(bundle: str) -> None:
    with open(os.path.join(bundle, "100", "comm"), "r+b") as f:
        f.truncate(1 << 30)
    out = run_child(QUERY, bundle)
    assert out["result"]["n"] == 6 and 100 in out["result"]["denied"], out


def test_bad_token_of_a_megabyte_gives_a_short_message(bundle: str) -> None:
    path = os.path.join(bundle, "net", "tcp")
    with open(path, "rb") as f:
        header = f.readline()
    with open(path, "wb") as f:
        f.write(header + b"   0: " + b"Z" * (1 << 20) + b":1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000"
                b"     0        0 5001 1 0000000000000000 100 0 0 10 0\n")
    with pytest.raises(procnet.ParseError) as err:
        procnet.sockets("tcp", root=bundle, owners=False)
    assert len(str(err.value)) < 1024
    assert "more characters]" in str(err.value)


# -- nothing outside the root is read ----------------------------------------------------------

def test_fdinfo_directory_linked_out_of_the_bundle_is_not_read(bundle: str, tmp_path: Any) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "3").write_text("pos:\t777777\nflags:\t02000002\nmnt_id:\t424242\nino:\t5001\n")
    shutil.rmtree(os.path.join(bundle, "100", "fdinfo"))
    os.symlink(str(outside), os.path.join(bundle, "100", "fdinfo"))
    with ProcFS(bundle).process(100) as proc:
        with pytest.raises(UnsafeFile) as err:
            proc.read("fdinfo/3")
    assert "777777" not in str(err.value)
    out, errs = io.StringIO(), io.StringIO()
    from procnet.cli import lsof

    lsof.run(["-p", "100", "--root", bundle, "--json"], out, errs)
    assert "nginx" in out.getvalue()
    assert "777777" not in out.getvalue() + errs.getvalue() and "424242" not in out.getvalue()


def test_sys_linked_out_of_the_bundle_is_not_read(bundle: str, tmp_path: Any) -> None:
    outside = tmp_path / "outside-sys"
    (outside / "net" / "ipv4").mkdir(parents=True)
    (outside / "net" / "ipv4" / "ip_local_port_range").write_text("1000\t2000\n")
    os.symlink(str(outside), os.path.join(bundle, "sys"))
    assert ProcFS(bundle).local_port_range() == (32768, 60999)


def test_self_linked_out_of_the_root_gives_no_mountinfo(tmp_path: Any) -> None:
    outside = tmp_path / "outside-self"
    outside.mkdir()
    (outside / "mountinfo").write_text("22 1 0:5 / %s rw - proc proc rw,hidepid=2\n" % (tmp_path / "root"))
    (tmp_path / "root" / "net").mkdir(parents=True)
    os.symlink(str(outside), str(tmp_path / "root" / "self"))
    assert ProcFS(str(tmp_path / "root"))._read_mountinfo() is None


# -- odd entries: skipped and reported, never a traceback -------------------------------------

def spoil(bundle: str, what: str) -> None:
    if what == "pid named superscript two":
        shutil.copytree(os.path.join(bundle, "101"), os.path.join(bundle, "\u00b2"), symlinks=True)
    elif what == "fd named x":
        os.symlink("socket:[5002]", os.path.join(bundle, "100", "fd", "x"))
    elif what == "socket link with a superscript inode":
        os.symlink("socket:[\u00b2]", os.path.join(bundle, "100", "fd", "11"))
    elif what == "plain file in fd":
        with open(os.path.join(bundle, "100", "fd", "12"), "w") as f:
            f.write("socket:[5002]")
    elif what == "deeply nested manifest":
        with open(os.path.join(bundle, "procnet-manifest.json"), "w") as f:
            f.write("[" * 100000 + "]" * 100000)
    else:  # pragma: no cover
        raise AssertionError(what)


ODD = ["pid named superscript two", "fd named x", "socket link with a superscript inode", "plain file in fd"]


@pytest.mark.parametrize("what", ODD)
def test_odd_entry_does_not_fail_the_query(bundle: str, what: str) -> None:
    spoil(bundle, what)
    records = procnet.sockets("all", root=bundle, owners=True)
    owners = {r.inode: sorted((o.pid, o.fd) for o in r.owners) for r in records}
    assert owners[5001] == [(100, 3), (101, 3), (102, 3)]  # the other descriptors of pid 100 still count
    assert owners[5002] == [(101, 7)]  # what an odd entry claims is not believed


@pytest.mark.parametrize("what, problem", [
    ("fd named x", "not a descriptor number"),
    ("socket link with a superscript inode", "a socket link without a decimal inode"),
    ("plain file in fd", "not a symbolic link"),
])
def test_odd_descriptor_entry_is_noted_in_skipped(bundle: str, what: str, problem: str) -> None:
    spoil(bundle, what)
    with ProcFS(bundle).process(100) as proc:
        names, found = proc.socket_fds()
        assert sorted(found) == [(3, 5001), (4, 6001)]
        assert all(name.isdigit() and name.isascii() for name in names)
        assert [p for _, p in proc.skipped] == [problem]
        assert proc.skipped[0][0].startswith(os.path.join(bundle, "100", "fd") + "/")


def test_deeply_nested_manifest_is_a_root_error(bundle: str) -> None:
    spoil(bundle, "deeply nested manifest")
    with pytest.raises(procnet.ProcRootError) as err:
        procnet.sockets("all", root=bundle)
    assert "procnet-manifest.json" in str(err.value) and len(str(err.value)) < 1024


def test_manifest_that_is_not_an_object_is_a_root_error(bundle: str) -> None:
    with open(os.path.join(bundle, "procnet-manifest.json"), "w") as f:
        f.write("[1, 2]")
    with pytest.raises(procnet.ProcRootError):
        procnet.sockets("all", root=bundle)


#: (argv, a regex for a row the odd entry must not have cost)
CLI = [
    (["ss", "-tanp"], r"pid=101,fd=3\b"),
    (["ss", "-xap"], r"pid=102,fd=9\b"),
    (["lsof"], r"(?m)^nginx +101 .* 3u +IPv4 "),
    (["lsof", "-p", "100"], r"(?m)^nginx +100 .* 3u +IPv4 "),
    (["lsof", "-i", "-n", "-P"], r"(?m)^nginx +102 .* 3u +IPv4 "),
]


@pytest.mark.parametrize("what", ODD + ["deeply nested manifest"])
@pytest.mark.parametrize("argv, row", CLI, ids=[" ".join(argv) for argv, _ in CLI])
def test_cli_on_an_odd_bundle_writes_no_traceback(bundle: str, what: str, argv: List[str], row: str,
                                                  capsys: Any) -> None:
    spoil(bundle, what)
    from procnet import cli

    status = cli.main(argv + ["--root", bundle])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    if what == "deeply nested manifest":
        assert status == 1 and "procnet-manifest.json" in captured.err
    else:
        assert status == 0, captured.err
        assert re.search(row, captured.out), captured.out


# -- netns="all" on a bundle that cannot answer it ---------------------------------------------

def test_netns_all_on_a_capture_without_per_namespace_tables_says_so() -> None:
    with pytest.raises(procnet.ProcRootError) as err:
        procnet.sockets("all", root=fixture_dir(SCENARIO), netns="all", owners=False)
    message = str(err.value)
    assert "netns='all'" in message and "4026531840" in message and "<pid>/net" in message


def test_netns_all_on_a_bundle_without_processes_says_so() -> None:
    with pytest.raises(procnet.ProcRootError) as err:
        procnet.sockets("all", root=fixture_dir("live-loopback-every-kind"), netns="all", owners=False)
    assert "netns='all'" in str(err.value) and "ns/net" in str(err.value)


def test_netns_all_fails_on_a_refused_member_table(tmp_path: Any) -> None:
    """A namespace's table that procnet refuses fails the query: it is not skipped as if
    that member had exited."""
    path = str(tmp_path / "b")
    shutil.copytree(fixture_dir("owners-two-namespaces"), path, symlinks=True)
    os.unlink(os.path.join(path, "400", "net", "tcp"))
    os.symlink("/dev/zero", os.path.join(path, "400", "net", "tcp"))
    with pytest.raises(UnsafeFile):
        procnet.sockets("tcp", root=path, netns="all", owners=False)


# -- messages ----------------------------------------------------------------------------

def test_quoted_cuts_and_escapes() -> None:
    assert quoted("/run/app.sock") == "/run/app.sock"
    assert quoted("a\x1b[2J\nb\udcff") == "a\\x1b[2J\\x0ab\\xff"
    assert quoted("x\u202ey") == "x\\xe2\\x80\\xaey"  # a bidi override, as the CLI escapes it
    assert quoted("caf\u00e9") == "caf\u00e9"
    assert quoted("z" * 1000, 10) == "z" * 10 + "[... 990 more characters]"


@settings(max_examples=300, deadline=None)
@given(st.text(), st.integers(min_value=0, max_value=300))
def test_quoted_is_short_and_printable(text: str, limit: int) -> None:
    shown = quoted(text, limit)
    assert shown.isprintable()
    assert len(shown) <= limit * 16 + len("[... %d more characters]" % len(text))
    if text.isascii() and text.isprintable() and len(text) <= limit:
        assert shown == text


def test_error_for_an_escape_sequence_in_a_file_name_is_escaped(tmp_path: Any) -> None:
    root = tmp_path / "b\x1b]0;pwned\x07"
    (root / "net" / "tcp").mkdir(parents=True)  # a directory where the table belongs
    with pytest.raises(UnsafeFile) as err:
        ProcFS(str(root)).read_net_table("tcp")
    assert "\x1b" not in str(err.value) and "\x07" not in str(err.value)
    assert "\\x1b]0;pwned\\x07" in str(err.value)


# -- stored sock_diag answers (sock_diag/<table>): bounded, checked, never a traceback ---------

from procnet._parse.netlink import NetlinkError  # noqa: E402
from test_capture_replay import stored_answers, write_bundle  # noqa: E402


@pytest.fixture
def answers(tmp_path: Any) -> str:
    """A bundle whose tcp and unix tables come from stored sock_diag answers."""
    path = str(tmp_path / "answers")
    write_bundle(path, "little")
    return path


def _store(bundle: str, table: str, data: bytes) -> str:
    path = os.path.join(bundle, "sock_diag", table)
    with open(path, "wb") as f:
        f.write(data)
    return path


def _u32(value: int) -> bytes:
    return value.to_bytes(4, "little")


def _spoiled(what: str) -> bytes:
    """A stored answer spoiled one way (the good ones: test_capture_replay.stored_answers)."""
    tcp, unix = stored_answers("little")["tcp"], stored_answers("little")["unix"]
    if what == "cut in a message":
        return tcp[:100]
    if what == "cut before NLMSG_DONE":
        return tcp[:-20]
    if what == "empty":
        return b""
    if what == "nlmsg_len past the end":
        return b"\xff\xff\xff\xff" + tcp[4:]
    if what == "nlmsg_len shorter than a header":
        return _u32(8) + tcp[4:]
    if what == "nla_len past the message":  # the first attribute of the first message
        return tcp[:88] + b"\xf0\xff" + tcp[90:]
    if what == "inet_diag_msg cut short":
        return _u32(16 + 40) + tcp[4:16] + tcp[16:56] + tcp[-20:]
    if what == "huge ICONS count":  # an attribute claiming 16,000 connections in 12 bytes
        return unix[:32] + b"\x00\xfa\x03\x00" + unix[36:]
    if what == "data after NLMSG_DONE":
        return tcp + tcp
    if what == "tcp6 socket in tcp":
        return tcp[:16] + b"\x0a" + tcp[17:]
    if what == "stored error reply":
        return tcp[:-4] + (-1 & 0xFFFFFFFF).to_bytes(4, "little")  # NLMSG_DONE carrying -EPERM
    raise AssertionError(what)  # pragma: no cover


SPOILED = ["cut in a message", "cut before NLMSG_DONE", "empty", "nlmsg_len past the end",
           "nlmsg_len shorter than a header", "nla_len past the message", "inet_diag_msg cut short",
           "huge ICONS count", "data after NLMSG_DONE", "tcp6 socket in tcp", "stored error reply"]


@pytest.mark.parametrize("what", SPOILED)
def test_spoiled_stored_answer_is_an_error_naming_the_file(answers: str, what: str) -> None:
    table = "unix" if "ICONS" in what else "tcp"
    path = _store(answers, table, _spoiled(what))
    with pytest.raises((procnet.ParseError, NetlinkError)) as err:
        procnet.sockets(table, root=answers, owners=False)
    assert path in str(err.value) and len(str(err.value)) < 1024, str(err.value)
    if isinstance(err.value, procnet.ParseError):
        assert err.value.path == path


@pytest.mark.parametrize("what", SPOILED)
def test_cli_on_a_spoiled_stored_answer_says_which_file(answers: str, what: str, capsys: Any) -> None:
    from procnet import cli

    table = "unix" if "ICONS" in what else "tcp"
    _store(answers, table, _spoiled(what))
    status = cli.main(["ss", "-xa" if table == "unix" else "-ta", "--root", answers])
    captured = capsys.readouterr()
    assert status == 1 and "Traceback" not in captured.err
    assert captured.err.startswith("procnet ss: ") and os.path.join("sock_diag", table) in captured.err, captured.err


def test_lenient_query_hands_a_spoiled_answer_to_on_error(answers: str) -> None:
    path = _store(answers, "tcp", _spoiled("cut before NLMSG_DONE"))
    errors: List[procnet.ParseError] = []
    records = procnet.sockets("tcp", root=answers, owners=False, on_error=errors.append)
    assert [r.inode for r in records] == [9001, 9002, 9003]  # what came before the cut
    assert [e.path for e in errors] == [path]


@pytest.mark.parametrize("kind", ["fifo", "link to /dev/zero", "sparse giant", "directory"])
def test_stored_answer_that_is_not_a_plain_file_is_refused(answers: str, kind: str) -> None:
    path = os.path.join(answers, "sock_diag", "tcp")
    os.unlink(path)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "link to /dev/zero":
        os.symlink("/dev/zero", path)
    elif kind == "directory":
        os.mkdir(path)
    else:
        with open(path, "wb") as f:
            f.truncate(LIMITS["sock_diag"] + 1)  # sparse: no disk
    out = run_child('r = procnet.sockets("tcp", root=root, owners=False)\nresult = len(r)', answers)
    assert out.get("error") == "UnsafeFile", out
    assert "sock_diag/tcp" in out["message"], out
    if kind == "sparse giant":
        assert str(LIMITS["sock_diag"]) in out["message"], out


def test_sock_diag_directory_linked_out_of_the_bundle_is_not_read(answers: str, tmp_path: Any) -> None:
    outside = tmp_path / "outside-diag"
    shutil.move(os.path.join(answers, "sock_diag"), str(outside))
    os.symlink(str(outside), os.path.join(answers, "sock_diag"))
    with pytest.raises(procnet.ProcRootError):
        procnet.sockets("tcp", root=answers, owners=False)


def test_only_table_names_are_read_from_sock_diag(answers: str) -> None:
    assert ProcFS(answers).read_sock_diag("../procnet-manifest.json") is None
    assert ProcFS(answers).read_sock_diag("tcp") == stored_answers("little")["tcp"]


def test_answers_are_read_only_for_a_manifest_that_says_so(answers: str) -> None:
    """A tree without the manifest entry (an old capture, a fixture) reads its text."""
    path = os.path.join(answers, "procnet-manifest.json")
    manifest = json.load(open(path))
    del manifest["sock_diag"]
    with open(path, "w") as f:
        json.dump(manifest, f)
    (listener,) = procnet.listening("tcp", root=answers, owners=False)
    assert listener.listen_backlog is None and listener.pointer == "0000000000000000"


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_spoiled_stored_answer_is_records_or_an_error_naming_the_file(tmp_path_factory: Any,
                                                                           data: Any) -> None:
    """Bytes flipped, cut, inserted anywhere in a stored answer, in either byte order:
    records, or a procnet error that names the file; nothing else."""
    order = data.draw(st.sampled_from(["little", "big"]))
    table = data.draw(st.sampled_from(["tcp", "unix"]))
    raw = bytearray(stored_answers(order)[table])
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw)))
        how = data.draw(st.sampled_from(["flip", "cut", "insert", "huge"]))
        if how == "flip" and at < len(raw):
            raw[at] ^= data.draw(st.integers(1, 255))
        elif how == "cut":
            del raw[at:at + data.draw(st.integers(1, 64))]
        elif how == "insert":
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=16))
        elif at + 4 <= len(raw):
            raw[at:at + 4] = b"\xff\xff\xff\x7f"
    root = str(tmp_path_factory.mktemp("fuzz"))
    write_bundle(root, order)
    path = _store(root, table, bytes(raw))
    try:
        records = procnet.sockets(table, root=root, owners=False, tcp_info=True)
    except procnet.ProcNetError as exc:
        assert path in str(exc), str(exc)
        return
    for rec in records:  # every field decodes
        procnet.to_jsonable(rec)


@pytest.mark.parametrize("content", [b"not json", b"[1, 2]", b'{"mount": "/x"}', b'{"paths": [1]}',
                                     b"[" * 100000 + b"]" * 100000])
def test_cgroup_paths_that_are_not_procnet_s_are_a_root_error(answers: str, content: bytes) -> None:
    path = _store(answers, "cgroup2.json", content)
    with pytest.raises(procnet.ProcRootError) as err:
        ProcFS(answers).stored_cgroup_paths()
    assert path in str(err.value) and len(str(err.value)) < 1024


def test_cgroup_paths_keep_only_decimal_ids_and_path_strings(answers: str) -> None:
    _store(answers, "cgroup2.json", json.dumps(
        {"mount": "/sys/fs/cgroup", "paths": {"1": "/", "77": "/a b", "x": "/no", "\u00b2": "/no", "9": 5}}).encode())
    assert ProcFS(answers).stored_cgroup_paths() == {1: "/", 77: "/a b"}
    assert ProcFS(fixture_dir(SCENARIO)).stored_cgroup_paths() is None  # no stored answers: the live walk


def test_cgroup_paths_fifo_is_refused(answers: str) -> None:
    replace_with_fifo(answers, "sock_diag/cgroup2.json")
    out = run_child("from procnet._proc import ProcFS\nresult = ProcFS(root).stored_cgroup_paths()", answers)
    assert out.get("error") == "UnsafeFile" and "cgroup2.json" in out["message"], out
