"""The fuzz targets: one function per parser entry point, shared by the hypothesis suite
(tests/test_fuzz.py), the atheris harnesses (tests/fuzz/fuzz_*.py) and the replay of
fixtures/fuzz-regressions/.

``run(target, data)`` feeds ``data`` (bytes) to the parser named by ``target`` and
consumes every record. It returns normally when the parser gave records or raised one of
procnet's own errors with the details the contract promises; anything else (an
IndexError, a UnicodeDecodeError, an OverflowError, an AssertionError about a
ParseError without a line number) leaves it: that is a bug.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Callable, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import procnet  # noqa: E402
from procnet import ParseError, ProcNetError  # noqa: E402
from procnet._parse import netlink as _netlink  # noqa: E402
from procnet._parse import process as _process  # noqa: E402

INET_TABLES = ["tcp", "tcp6", "udp", "udp6", "udplite", "udplite6", "raw", "raw6"]
BYTEORDERS = ["little", "big"]
NETLINK_PROTOS = ["tcp", "udp", "udplite", "raw"]


def _lines(data: bytes) -> int:
    """Physical lines as the parsers count them (split on \\n only)."""
    n = data.count(b"\n")
    return n + (0 if data.endswith(b"\n") else 1)


def _check_table_error(err: ParseError, path: str, data: bytes) -> None:
    assert err.path == path, "ParseError names %r, not the file %r" % (err.path, path)
    assert isinstance(err.lineno, int), "ParseError without a line number: %s" % (err,)
    assert 1 <= err.lineno <= max(1, _lines(data)), "lineno %d outside 1..%d" % (err.lineno, _lines(data))
    assert err.line is not None, "ParseError without the line"
    str(err)  # printing an error must not fail either


def _text_table(parse: Callable[..., object], data: bytes, path: str, as_str: bool) -> None:
    arg = data.decode("utf-8", "surrogateescape") if as_str else data
    # strict: records, or one ParseError that points at a line
    try:
        for _ in parse(arg, path=path):  # type: ignore[attr-defined]
            pass
    except ParseError as err:
        _check_table_error(err, path, data)
    # lenient: never raises; every skipped line's error points at a line
    errors: List[ParseError] = []
    for _ in parse(arg, path=path, on_error=errors.append):  # type: ignore[attr-defined]
        pass
    for err in errors:
        _check_table_error(err, path, data)


def inet(table: str, byteorder: str, data: bytes, as_str: bool = False) -> None:
    def parse(arg: object, **kw: object) -> object:
        return procnet.parse_inet(arg, table, byteorder=byteorder, **kw)  # type: ignore[arg-type]

    _text_table(parse, data, "/fuzz/net/" + table, as_str)


def unix(data: bytes, as_str: bool = False) -> None:
    _text_table(procnet.parse_unix, data, "/fuzz/net/unix", as_str)


def _chunked(data: bytes, cut: Optional[int]) -> object:
    if cut is None or not data:
        return data
    cut %= len(data) + 1
    return [data[:cut], data[cut:]]


def netlink_inet(proto: str, byteorder: str, data: bytes, cut: Optional[int] = None) -> None:
    try:
        for _ in _netlink.parse_inet_dump(_chunked(data, cut), proto, byteorder=byteorder):  # type: ignore[arg-type]
            pass
    except ProcNetError as err:
        str(err)


def netlink_unix(byteorder: str, data: bytes, cut: Optional[int] = None) -> None:
    try:
        for _ in _netlink.parse_unix_dump(_chunked(data, cut), byteorder=byteorder):  # type: ignore[arg-type]
            pass
    except ProcNetError as err:
        str(err)


def _process_call(fn: Callable[[], object], path: Optional[str]) -> None:
    try:
        fn()
    except ParseError as err:
        if path is not None:
            assert err.path == path, "ParseError names %r, not %r" % (err.path, path)
        str(err)


def fdinfo(data: bytes) -> None:
    _process_call(lambda: _process.parse_fdinfo(data, path="/fuzz/1/fdinfo/3"), "/fuzz/1/fdinfo/3")
    _process_call(lambda: _process.fdinfo_flags(data, path="/fuzz/1/fdinfo/3"), "/fuzz/1/fdinfo/3")


def cmdline(data: bytes) -> None:
    argv = _process.parse_cmdline(data)
    # lossless: the kernel's bytes come back
    if data:
        joined = b"\0".join(os.fsencode(a) for a in argv)
        assert joined in (data, data[:-1]), "cmdline lost bytes"


def comm(data: bytes) -> None:
    name = _process.parse_comm(data)
    assert os.fsencode(name) == (data[:-1] if data.endswith(b"\n") else data), "comm lost bytes"


def status(data: bytes) -> None:
    _process.parse_status(data, path="/fuzz/1/status")
    _process_call(lambda: _process.status_uids(data, path="/fuzz/1/status"), "/fuzz/1/status")


def stat(data: bytes) -> None:
    _process_call(lambda: _process.stat_flags(data, path="/fuzz/1/stat"), "/fuzz/1/stat")


def socket_link(data: bytes) -> None:
    text = data.decode("utf-8", "surrogateescape")
    _process.socket_inode(text)
    _process.ns_inode(text)


_SAMPLE: List[object] = []


def _sample_records() -> List[object]:
    if not _SAMPLE:
        base = os.path.join(ROOT, "fixtures", "live-loopback-every-kind")
        for rec in procnet.sockets("all", root=base, owners=False):
            _SAMPLE.append(rec)
    return _SAMPLE


_FAMILIES = [None, socket.AF_INET, socket.AF_INET6, socket.AF_UNIX]


def filter_expr(data: bytes, family_index: int = 0) -> None:
    text = data.decode("utf-8", "surrogateescape")
    family = _FAMILIES[family_index % len(_FAMILIES)]
    try:
        compiled = procnet.compile_filter(text, family=family, service_port=_no_services)
    except ProcNetError as err:
        str(err)
        return
    for rec in _sample_records():
        compiled.matches(rec)  # type: ignore[arg-type]


def _no_services(name: str, proto: str) -> Optional[int]:
    # a fixed table: the fuzzer must not depend on /etc/services
    return {"ssh": 22, "http": 80, "https": 443, "domain": 53}.get(name)


def services(data: bytes) -> None:
    from procnet._services import parse_services

    table = parse_services(data.decode("utf-8", "surrogateescape"))
    len(table)


def targets() -> Dict[str, Callable[[bytes], None]]:
    """Every target by name: ``inet:tcp6:big``, ``unix``, ``netlink-inet:udp:little``..."""
    out: Dict[str, Callable[[bytes], None]] = {}
    for table in INET_TABLES:
        for order in BYTEORDERS:
            out["inet:%s:%s" % (table, order)] = (lambda t, o: lambda d: inet(t, o, d))(table, order)
    out["unix"] = unix
    for proto in NETLINK_PROTOS:
        for order in BYTEORDERS:
            out["netlink-inet:%s:%s" % (proto, order)] = (lambda p, o: lambda d: netlink_inet(p, o, d))(proto, order)
    for order in BYTEORDERS:
        out["netlink-unix:%s" % order] = (lambda o: lambda d: netlink_unix(o, d))(order)
    out.update(
        fdinfo=fdinfo,
        cmdline=cmdline,
        comm=comm,
        status=status,
        stat=stat,
        socket_link=socket_link,
        filter=filter_expr,
        services=services,
    )
    return out


def run(target: str, data: bytes) -> None:
    """Feed ``data`` to ``target`` (see :func:`targets`)."""
    targets()[target](data)


#: Bugs already reported and pinned by a strict xfail test, which the random fuzzers step
#: over so that they keep looking for new ones: target prefix -> (exception type, text in
#: its message, the xfail test that pins it). Remove an entry when its bug is fixed.
KNOWN_BUGS: List[Tuple[str, type, str, str]] = []


def known_bug(target: str, exc: BaseException) -> bool:
    """True when ``exc`` from ``target`` is one of :data:`KNOWN_BUGS` (and no ProcNetError)."""
    if isinstance(exc, ProcNetError):
        return False
    for prefix, kind, text, _ in KNOWN_BUGS:
        if target.startswith(prefix) and type(exc) is kind and text in str(exc):
            return True
    return False


def run_tolerant(target: str, data: bytes, counts: Optional[Dict[str, int]] = None) -> None:
    """:func:`run`, stepping over :data:`KNOWN_BUGS` (counted under ``known bug <target>``)."""
    try:
        run(target, data)
    except Exception as exc:
        if not known_bug(target, exc):
            raise
        if counts is not None:
            key = "known bug " + target.split(":")[0]
            counts[key] = counts.get(key, 0) + 1
