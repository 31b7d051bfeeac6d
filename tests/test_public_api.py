"""The public surface as a user meets it: the names procnet exports, the arguments its
query functions take (checked when called, with messages that say what is accepted), the
exceptions a caller can catch, and how its enums print, compare, pickle and copy."""

from __future__ import annotations

import ast
import copy
import errno
import inspect
import ipaddress
import os
import pickle
import shutil
import typing
from typing import Any, Callable, Dict, List

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import procnet
from conftest import ROOT, fixture_dir
from procnet import _query
from procnet._records import _Named

LOOPBACK = fixture_dir("live-loopback-every-kind")
DENIED = fixture_dir("owners-denied-and-hidepid")
QUERIES: List[Callable[..., Any]] = [procnet.sockets, procnet.listening, procnet.connections, procnet.iter_sockets]
ENUMS = [procnet.TcpState, procnet.Timer, procnet.SocketStatus, procnet.UnixFlag]


# -- names ------------------------------------------------------------------------------
def test_all_is_a_literal_list_type_checkers_can_read() -> None:
    with open(os.path.join(ROOT, "procnet", "__init__.py"), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    values = [node.value for node in tree.body if isinstance(node, ast.Assign)
              and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)]
    assert len(values) == 1 and isinstance(values[0], ast.List)
    assert all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in values[0].elts)


def test_all_is_exactly_what_the_package_exports() -> None:
    exported = set(procnet.__all__)
    assert len(exported) == len(procnet.__all__)  # no name twice
    assert exported == set(procnet._LAZY) | {"__version__"}
    for name in procnet.__all__:
        assert getattr(procnet, name) is not None
    # besides the exports: submodules once imported (procnet.cli), and the names the
    # package module uses itself
    public = {n for n in dir(procnet) if not n.startswith("_") and not inspect.ismodule(getattr(procnet, n))}
    assert public - {"TYPE_CHECKING", "annotations", "lazy_names"} <= exported


def test_a_misspelt_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="sokets"):
        getattr(procnet, "sokets")


# -- the keyword arguments, declared once ------------------------------------------------
def test_filters_and_their_defaults_are_in_step() -> None:
    assert set(procnet.Filters.__annotations__) == set(_query._DEFAULTS)


def test_proto_literals_are_the_protos() -> None:
    assert set(typing.get_args(procnet.Proto)) == set(procnet.PROTOS)
    assert set(typing.get_args(_query.InetProto)) == set(procnet.PROTOS) - {"unix", "all"}


@pytest.mark.parametrize("function", QUERIES + [procnet.Query.__init__], ids=lambda f: f.__qualname__)
def test_every_query_function_takes_proto_and_the_shared_keywords(function: Any) -> None:
    params = [p for p in inspect.signature(function).parameters.values() if p.name != "self"]
    assert [(p.name, p.kind) for p in params] == [
        ("proto", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        ("filters", inspect.Parameter.VAR_KEYWORD),
    ]


@pytest.mark.parametrize("function", QUERIES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("name", sorted(_query._DEFAULTS))
def test_every_keyword_is_accepted_with_its_default(function: Any, name: str) -> None:
    value = _query._DEFAULTS[name] if name != "root" else LOOPBACK
    list(function("tcp", owners=False, **{name: value})) if name != "owners" else list(function("tcp", root=LOOPBACK, owners=False))


# -- argument errors, at call time -------------------------------------------------------
BAD_CALLS = [
    # (args, keywords, exception, words the message must contain)
    ((6,), {}, TypeError, ["proto=", "'tcp'", "not 6"]),
    ((b"tcp",), {}, TypeError, ["proto=", "bytes"]),
    (("tpc",), {}, ValueError, ["unknown proto 'tpc'", "tcp, tcp4"]),
    (([],), {}, ValueError, ["names no protocol"]),
    (([6],), {}, TypeError, ["proto=", "not 6"]),
    (("tcp",), {"stat": "listen"}, TypeError, ["'stat'", "did you mean 'state'", "state, port"]),
    (("tcp",), {"port": "443"}, TypeError, ["port=", "'443'"]),
    (("tcp",), {"port": 70000}, ValueError, ["port=", "65535"]),
    (("tcp",), {"backend": "nl"}, ValueError, ["backend=", "'auto', 'proc' or 'netlink'"]),
    (("tcp",), {"owners": "no"}, TypeError, ["owners=", "True or False", "'no'"]),
    (("tcp",), {"details": "yes"}, TypeError, ["details=", "True or False"]),
    (("tcp",), {"tcp_info": 1}, TypeError, ["tcp_info=", "True or False", "not 1"]),
    (("tcp",), {"threads": None}, TypeError, ["threads="]),
    (("tcp",), {"strict": 0}, TypeError, ["strict="]),
    (("tcp",), {"on_error": 5}, TypeError, ["on_error=", "function", "not 5"]),
    (("tcp",), {"state": "listnen"}, ValueError, ["unknown state 'listnen'", "established"]),
    (("tcp",), {"local": "not-an-address"}, ValueError, ["local=", "127.0.0.1"]),
    (("tcp",), {"remote": 5}, TypeError, ["remote=", "not 5"]),
    (("tcp",), {"pid": "1"}, TypeError, ["pid=", "int"]),
    (("tcp",), {"netns": "other"}, ValueError, ["netns=", "'all'"]),
    (("tcp",), {"filter": 5}, TypeError, ["filter=", "not 5"]),
    (("tcp",), {"root": 5}, TypeError, ["root", "path"]),
]


@pytest.mark.parametrize("function", QUERIES + [procnet.Query], ids=lambda f: f.__name__)
@pytest.mark.parametrize("args,keywords,error,words", BAD_CALLS, ids=[repr(c[:2]) for c in BAD_CALLS])
def test_bad_arguments_fail_at_call_time_saying_what_is_accepted(
    function: Any, args: Any, keywords: Dict[str, Any], error: Any, words: List[str]
) -> None:
    keywords = dict(keywords)
    keywords.setdefault("root", fixture_dir("no-such-root-is-ever-read"))
    with pytest.raises(error) as info:
        function(*args, **keywords)  # iter_sockets too: nothing is read before it fails
    for word in words:
        assert word in str(info.value), str(info.value)


# -- addresses: an IPv4-mapped IPv6 network means its IPv4 network too -------------------
def _local(records: Any) -> List[str]:
    return sorted("%s %s %d %s" % (r.table, getattr(r, "local", None), r.inode, r.owners) for r in records)


def test_a_mapped_address_matches_the_ipv4_socket() -> None:
    mapped = procnet.sockets("inet", root=LOOPBACK, owners=False, local="::ffff:127.0.0.1")
    plain = procnet.sockets("inet", root=LOOPBACK, owners=False, local="127.0.0.1")
    assert any(r.table in ("tcp", "udp") for r in mapped)
    assert _local(mapped) == _local(plain)


@settings(max_examples=60, deadline=None)
@given(st.ip_addresses(v=4), st.integers(0, 32), st.sampled_from(["local", "remote"]))
def test_mapped_and_ipv4_networks_select_the_same_sockets(address: Any, prefix: int, side: str) -> None:
    net = ipaddress.ip_network((address, prefix), strict=False)
    mapped = ipaddress.ip_network(("::ffff:%s" % net.network_address, prefix + 96))
    a = procnet.sockets("inet", root=LOOPBACK, owners=False, **{side: net})
    b = procnet.sockets("inet", root=LOOPBACK, owners=False, **{side: mapped})
    c = procnet.sockets("inet", root=LOOPBACK, owners=False, **{side: str(mapped)})
    assert _local(a) == _local(b) == _local(c)
    for r in a:
        assert getattr(r, side).unmapped_ip in net


# -- exceptions a caller can catch -------------------------------------------------------
def test_public_exceptions_are_also_the_builtin_ones() -> None:
    assert issubclass(procnet.AccessDenied, procnet.ProcNetError)
    assert issubclass(procnet.AccessDenied, PermissionError)
    assert issubclass(procnet.NoSuchProcess, procnet.ProcNetError)
    assert issubclass(procnet.NoSuchProcess, ProcessLookupError)
    exc = procnet.AccessDenied(errno.EACCES, "Permission denied", "/proc/net/tcp")
    assert exc.errno == errno.EACCES and exc.filename == "/proc/net/tcp"
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is procnet.AccessDenied and back.filename == exc.filename


def test_an_unreadable_table_raises_access_denied(tmp_path: Any) -> None:
    root = str(tmp_path / "root")
    shutil.copytree(LOOPBACK, root, symlinks=True)
    os.remove(os.path.join(root, "net", "tcp"))
    os.symlink("tcp6", os.path.join(root, "net", "tcp"))  # a link is never read as a table
    with pytest.raises(PermissionError) as info:
        procnet.sockets("tcp", root=root, owners=False)
    assert isinstance(info.value, procnet.AccessDenied)
    assert info.value.filename == os.path.join(root, "net", "tcp")


def test_netns_of_a_process_that_does_not_exist_raises_no_such_process() -> None:
    with pytest.raises(ProcessLookupError) as info:
        procnet.sockets("tcp", root=DENIED, netns=987654)
    assert isinstance(info.value, procnet.NoSuchProcess) and "987654" in str(info.value)


def test_a_denied_pid_is_reported_by_default_and_raised_when_strict() -> None:
    found = procnet.sockets("all", root=DENIED, pid=200)
    assert list(found) == [] and found.report is not None and 200 in found.report.denied
    for function in QUERIES:
        with pytest.raises(procnet.AccessDenied, match="pid 200"):
            list(function("all", root=DENIED, pid=200, strict=True))


def test_a_pid_that_does_not_exist_raises_no_such_process_when_strict() -> None:
    found = procnet.sockets("all", root=DENIED, pid=999)
    assert list(found) == [] and found.report is not None and 999 in found.report.missing
    with pytest.raises(procnet.NoSuchProcess, match="pid 999"):
        procnet.sockets("all", root=DENIED, pid=999, strict=True)


def test_strict_without_pid_raises_when_owners_may_be_missing() -> None:
    assert procnet.sockets("all", root=DENIED).report.denied == (200,)  # type: ignore[union-attr]
    with pytest.raises(procnet.AccessDenied, match="owners may be missing"):
        procnet.sockets("all", root=DENIED, strict=True)
    # a complete scan answers as without strict
    forked = fixture_dir("owners-forked-listener")
    found = procnet.sockets("all", root=forked, strict=True)
    assert found and any(r.owners for r in found)
    assert _local(found) == _local(procnet.sockets("all", root=forked))


# -- enums: names when printed, by value when pickled or copied --------------------------
def _members(enum_class: Any) -> List[Any]:
    if enum_class is procnet.UnixFlag:
        return [procnet.UnixFlag(0), procnet.UnixFlag.ACCEPTCON, procnet.UnixFlag((1 << 16) | 5)]
    return list(enum_class) + [enum_class(99), enum_class(12345)]


@pytest.mark.parametrize("enum_class", ENUMS, ids=lambda e: e.__name__)
def test_enums_print_their_names_on_every_python(enum_class: Any) -> None:
    assert issubclass(enum_class, _Named)
    for member in _members(enum_class):
        name = str(member)
        assert name == "%s" % member == "{}".format(member) == f"{member}" == format(member, "")
        assert f"{member:>20}" == "%20s" % name and f"{member:d}" == str(int(member))
        if enum_class is not procnet.UnixFlag:
            assert name == member.name
    assert str(procnet.TcpState.LISTEN) == "LISTEN" and f"{procnet.TcpState(99)}" == "UNKNOWN_99"
    assert str(procnet.UnixFlag((1 << 16) | 5)) == "ACCEPTCON|0x5" and str(procnet.UnixFlag(0)) == "0"


@pytest.mark.parametrize("enum_class", ENUMS, ids=lambda e: e.__name__)
def test_enums_pickle_and_copy_by_value_known_or_not(enum_class: Any) -> None:
    for member in _members(enum_class):
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            back = pickle.loads(pickle.dumps(member, protocol))
            assert back == member and type(back) is enum_class and str(back) == str(member)
        assert copy.copy(member) == member and copy.deepcopy(member) == member
        assert member.__reduce_ex__(4) == (enum_class, (int(member),))


def test_a_state_compares_as_its_number_not_its_name() -> None:
    """The documented decision: TcpState is an int (as the kernel's number); comparing it
    with a string is always False (type checkers report it); use the member, is_listening,
    or .name, which is psutil's spelling."""
    listen = procnet.TcpState.LISTEN
    assert listen == 10 and listen != "LISTEN"  # type: ignore[comparison-overlap]
    assert listen.name == "LISTEN" and str(listen) == "LISTEN"
    assert procnet.TcpState["LISTEN"] is listen and procnet.TcpState(10) is listen
