"""procnet ss when something goes wrong: a malformed sock_diag answer is an error the user
sees, not a reason to read something else; only an unavailable sock_diag falls back to the
text tables. And the command's own housekeeping: a host name that does not resolve, the
collector restored, rows in ss's order."""

from __future__ import annotations

import gc
import io
import os
import socket
from typing import Any, Iterator, List, Tuple

import pytest

import procnet._netlink
import procnet._query
from procnet import ParseError
from procnet._parse.netlink import NetlinkUnavailable
from procnet._proc import ProcFS
from procnet.cli import ss

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures")


def run_ss(*args: str) -> Tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = ss.run(list(args), out, err)
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture
def listener() -> Iterator[int]:
    """A TCP listener on loopback: its port."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    try:
        yield s.getsockname()[1]
    finally:
        s.close()


@pytest.fixture
def live(monkeypatch: pytest.MonkeyPatch) -> None:
    """The live proc root, and sock_diag taken as available (whatever the sandbox allows)."""
    monkeypatch.delenv("PROC_ROOT", raising=False)
    monkeypatch.setattr(ProcFS, "is_live", lambda self: True)
    monkeypatch.setattr(procnet._query, "_netlink_available", lambda: True)


def _malformed(*args: Any, **kwargs: Any) -> Iterator[Any]:
    raise ParseError("attribute 2 of 300 bytes overruns its message", path="sock_diag tcp", lineno=7,
                     line=b"\x14\x00\x02\x00")
    yield  # pragma: no cover - a generator, as the real source is


def test_a_malformed_netlink_reply_under_i_is_an_error_not_a_fallback(
    live: None, listener: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(procnet._netlink, "iter_inet", _malformed)
    rc, out, err = run_ss("-tli", "sport = :%d" % listener)
    assert rc == 1
    assert out == ""  # nothing read from the text tables instead
    assert err == ("procnet ss: sock_diag tcp:7: attribute 2 of 300 bytes overruns its message "
                   "| \\x14\\x00\\x02\\x00\n")
    assert "text tables" not in err


def test_a_malformed_netlink_reply_without_i_is_an_error_too(
    live: None, listener: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(procnet._netlink, "iter_inet", _malformed)
    rc, out, err = run_ss("-tl", "sport = :%d" % listener)
    assert rc == 1 and out == "" and err.startswith("procnet ss: sock_diag tcp:7: ")


def test_unavailable_sock_diag_still_falls_back_to_the_text_tables(
    live: None, listener: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(procnet._query, "_netlink_available", lambda: False)
    rc, out, err = run_ss("-tlni", "sport = :%d" % listener)
    assert rc == 0
    lines = out.split("\n")
    assert lines[0].startswith("State") and ":%d" % listener in lines[1]
    assert "\t" not in out  # nothing invented for -i
    assert err.count("\n") == 1 and "sock_diag" in err and "text tables" in err


def test_unavailable_diag_module_reads_that_table_as_text(
    live: None, listener: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_module(*args: Any, **kwargs: Any) -> Iterator[Any]:
        raise NetlinkUnavailable(2, "sock_diag tcp: No such file or directory (ENOENT)")
        yield  # pragma: no cover

    monkeypatch.setattr(procnet._netlink, "iter_inet", no_module)
    rc, out, err = run_ss("-tlni", "sport = :%d" % listener)
    assert rc == 0 and ":%d" % listener in out


def test_a_host_name_that_does_not_resolve_is_a_bad_filter(monkeypatch: pytest.MonkeyPatch) -> None:
    import procnet.cli.render

    def unresolved(text: str, timeout: float = 2.0) -> List[Any]:
        raise ValueError("cannot resolve host name %r (within %.1fs)" % (text, timeout))

    monkeypatch.setattr(procnet.cli.render, "resolve_host_address", unresolved)
    rc, out, err = run_ss("-tn", "--root", os.path.join(FIXTURES, "owners-forked-listener"), "dst",
                          "nosuch.invalid")
    assert rc == 2 and out == ""
    assert err.startswith("procnet ss: bad FILTER: ") and "nosuch.invalid" in err and "^" in err
    assert "Traceback" not in err


def test_the_collector_is_back_on_after_the_command() -> None:
    assert gc.isenabled()
    run_ss("-tan", "--root", os.path.join(FIXTURES, "owners-forked-listener"))
    assert gc.isenabled()
    gc.disable()
    try:
        run_ss("-tan", "--root", os.path.join(FIXTURES, "owners-forked-listener"))
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


_SS_ORDER = {"u_str": 0, "u_dgr": 0, "u_seq": 0, "raw": 1, "udp": 2, "tcp": 3}
EVERY_KIND = os.path.join(FIXTURES, "live-loopback-every-kind")


def test_tables_come_in_ss_order() -> None:
    rc, out, _ = run_ss("-an", "--root", EVERY_KIND)
    assert rc == 0
    netids = [line.split()[0] for line in out.split("\n")[1:] if line]
    assert {"u_str", "udp", "tcp"} <= set(netids)
    assert [_SS_ORDER[n] for n in netids] == sorted(_SS_ORDER[n] for n in netids)


@pytest.mark.parametrize("argv", [["-ta"], ["-tl"], ["-ua"], ["-t6a"], ["-tua"], ["-xa"], ["-a"]])
def test_rows_not_sorted_are_in_the_order_sorting_gives(
    argv: List[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One inet protocol is read in ss's order already (IPv4 table, then IPv6): the sort is
    skipped only where it changes nothing."""
    rc, fast, _ = run_ss(*argv, "-n", "--root", EVERY_KIND)
    monkeypatch.setattr(ss, "_in_ss_order", lambda protos: False)
    rc2, sorted_, _ = run_ss(*argv, "-n", "--root", EVERY_KIND)
    assert rc == rc2 == 0 and fast.count("\n") > 2
    assert fast == sorted_
