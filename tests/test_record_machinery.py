"""How records are made (procnet/_records.py): dataclass behaviour without @dataclass.

Records are built by a metaclass from their annotated fields, so that importing procnet
does not import ``dataclasses``; the ``dataclasses`` functions must still treat them as
dataclasses, and they must behave as the frozen dataclass of the same fields would.
These tests compare every record class with that dataclass, and pin the rules of the
module docstring: no generated code, no writes outside the construction section, the
lazy fields' order.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import ipaddress
import os
import pickle
import socket
import subprocess
import sys
from typing import Any, Dict, List, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import procnet
from procnet import _records
from procnet._owners import ScanReport
from procnet._parse import inet

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.join(os.path.dirname(HERE), "procnet")
RECORDS = [procnet.Endpoint, procnet.Process, procnet.Owner, procnet.InetSocket, procnet.TcpInfo,
           procnet.UnixSocket, ScanReport]
SETTINGS = settings(max_examples=40, deadline=None)


def _mirror(cls: Any) -> Any:
    """The frozen dataclass with the same fields and defaults."""
    spec = []
    for name in cls._FIELDS:
        if name in cls._DEFAULTS:
            spec.append((name, Any, dataclasses.field(default=cls._DEFAULTS[name])))
        else:
            spec.append((name, Any))
    return dataclasses.make_dataclass(cls.__name__, spec, frozen=True)


def _python_files() -> List[str]:
    out = []
    for top, _, files in os.walk(PACKAGE):
        out += [os.path.join(top, f) for f in files if f.endswith(".py")]
    return sorted(out)


def _values(cls: Any, seed: int) -> Tuple[Any, ...]:
    """Distinct, hashable values, one per field."""
    return tuple("%s-%d" % (name, seed) for name in cls._FIELDS)


@pytest.mark.parametrize("cls", RECORDS, ids=lambda c: c.__name__)
def test_the_dataclasses_functions_see_a_dataclass(cls: Any) -> None:
    mirror = _mirror(cls)
    assert dataclasses.is_dataclass(cls)
    assert [f.name for f in dataclasses.fields(cls)] == [f.name for f in dataclasses.fields(mirror)]
    assert [f.default for f in dataclasses.fields(cls)] == [f.default for f in dataclasses.fields(mirror)]
    values = _values(cls, 1)
    rec, twin = cls(*values), mirror(*values)
    assert dataclasses.is_dataclass(rec)
    assert dataclasses.asdict(rec) == dataclasses.asdict(twin)
    assert dataclasses.astuple(rec) == dataclasses.astuple(twin) == values
    first = cls._FIELDS[0]
    changed = dataclasses.replace(rec, **{first: "other"})
    assert type(changed) is cls and getattr(changed, first) == "other"
    assert dataclasses.astuple(changed)[1:] == values[1:]
    with pytest.raises(TypeError):
        dataclasses.replace(rec, no_such_field=1)
    assert cls.__match_args__ == cls._FIELDS


@pytest.mark.parametrize("cls", RECORDS, ids=lambda c: c.__name__)
def test_records_behave_as_the_frozen_dataclass_of_their_fields(cls: Any) -> None:
    mirror = _mirror(cls)
    values = _values(cls, 2)
    rec, twin = cls(*values), mirror(*values)
    assert repr(rec) == repr(twin).replace(mirror.__qualname__, cls.__qualname__, 1)
    assert rec == cls(*values) and hash(rec) == hash(cls(*values)) == hash(twin)
    assert rec != cls(*_values(cls, 3)) and rec != twin  # (another class: not equal)
    for made in (copy.copy(rec), copy.deepcopy(rec), pickle.loads(pickle.dumps(rec))):
        assert type(made) is cls and made == rec
    for target in (cls._FIELDS[0], "not_a_field"):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(rec, target, 1)
        with pytest.raises(dataclasses.FrozenInstanceError):
            delattr(rec, target)
    assert not hasattr(rec, "__dict__")
    # keywords, positions and defaults as the dataclass takes them
    required = [n for n in cls._FIELDS if n not in cls._DEFAULTS]
    by_keyword = cls(**{n: v for n, v in zip(cls._FIELDS, values)})
    assert by_keyword == rec
    short = cls(*values[: len(required)])
    assert dataclasses.astuple(short) == dataclasses.astuple(mirror(*values[: len(required)]))


@pytest.mark.parametrize("cls", RECORDS, ids=lambda c: c.__name__)
def test_wrong_calls_fail_as_the_dataclass_fails(cls: Any) -> None:
    mirror = _mirror(cls)
    values = _values(cls, 4)
    required = [n for n in cls._FIELDS if n not in cls._DEFAULTS]
    calls: List[Tuple[Tuple[Any, ...], Dict[str, Any]]] = [
        (values + ("extra",), {}),
        ((), {"no_such": 1, **dict(zip(cls._FIELDS, values))}),
        (values[:1], {cls._FIELDS[0]: 1, **dict(zip(cls._FIELDS[1:], values[1:]))}),
    ]
    if required:
        calls.append((values[: len(required) - 1], {}))
    for args, kwargs in calls:
        with pytest.raises(TypeError):
            mirror(*args, **kwargs)
        with pytest.raises(TypeError):
            cls(*args, **kwargs)


@SETTINGS
@given(data=st.data())
def test_equality_and_hashing_follow_the_fields_in_order(data: Any) -> None:
    cls = data.draw(st.sampled_from(RECORDS))
    mirror = _mirror(cls)
    pool = st.one_of(st.integers(-3, 3), st.none(), st.text(max_size=2), st.tuples(st.integers(0, 2)))
    a = tuple(data.draw(pool) for _ in cls._FIELDS)
    b = tuple(data.draw(st.sampled_from([x, data.draw(pool)])) for x in a)
    assert (cls(*a) == cls(*b)) == (mirror(*a) == mirror(*b)) == (a == b)
    if a == b:
        assert hash(cls(*a)) == hash(cls(*b))


def test_the_builders_make_the_records_init_makes() -> None:
    # The parsers' builders skip __init__'s argument handling (and, where the interpreter
    # allows, set slots through a twin class): the record must be the same.
    for cls, build in _records._BUILDERS.items():
        values = _values(cls, 5)
        built = build(*values)
        assert type(built) is cls and built == cls(*values)
        assert dataclasses.astuple(built) == values
    # on CPython 3.8-3.13 the fast builders are the ones used
    assert {b.__name__ for b in _records._BUILDERS.values()} >= {"_endpoint", "_owner", "_unix_socket"}
    assert _records._LAZY_BUILDER is _records._lazy_inet_socket
    lazy = _records.lazy_constructor(procnet.InetSocket)
    fields = procnet.InetSocket._LAZY  # type: ignore[attr-defined]
    rec = lazy(lambda source: tuple("%s<-%s" % (f, source) for f in fields), "row", "tcp", socket.AF_INET,
               procnet.TcpState.LISTEN, 7)
    assert (rec.proto, rec.family, rec.state, rec.inode, rec.netns, rec.owners, rec.owners_complete) == (
        "tcp", socket.AF_INET, procnet.TcpState.LISTEN, 7, None, (), None)
    assert [getattr(rec, f) for f in fields] == ["%s<-row" % f for f in fields]


def test_the_text_decoder_returns_the_lazy_fields_in_their_order() -> None:
    # The row decoder builds the tuple positionally, in DECODED_FIELDS order; it must be
    # the record's own lazy order (checked here, not by an assert that python -O drops).
    assert inet.DECODED_FIELDS == procnet.InetSocket._LAZY  # type: ignore[attr-defined]
    # and each column lands in its field: a row whose every number differs
    header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    row = ("  11: 0100007F:0016 0200007F:0017 01 00000003:00000004 01:00000005 00000006  1007        8 99 "
           "10 00000000000000ab 12 13 29 15 16\n")
    (rec,) = procnet.parse_inet(header + row, "tcp", byteorder="little")
    got = {f: getattr(rec, f) for f in procnet.InetSocket._LAZY}  # type: ignore[attr-defined]
    assert got["local"] == procnet.Endpoint(ipaddress.ip_address("127.0.0.1"), 22)
    assert got["remote"] == procnet.Endpoint(ipaddress.ip_address("127.0.0.2"), 23)
    assert (got["tx_queue"], got["rx_queue"], got["timer"], got["timer_expires"], got["retransmits"]) == (
        3, 4, procnet.Timer.RETRANSMIT, 5, 6)
    assert (got["uid"], got["probes"], got["refcount"], got["pointer"], got["slot"]) == (1007, 8, 10, "00000000000000ab", 11)
    assert (got["rto"], got["ato"], got["quick_ack"], got["pingpong"], got["cwnd"], got["ssthresh"]) == (
        12, 13, 14, True, 15, 16)
    assert got["fastopen_max_qlen"] is None and got["drops"] is None and rec.inode == 99


def test_no_generated_code_in_the_package() -> None:
    # No exec, eval or compile (the builtins) anywhere in procnet/.
    found = []
    for path in _python_files():
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("exec", "eval", "compile"):
                found.append("%s:%d %s" % (os.path.relpath(path, PACKAGE), node.lineno, node.func.id))
    assert found == []


def test_records_are_written_only_by_the_records_module() -> None:
    # object.__setattr__ on a record (a frozen field written after construction) appears
    # nowhere but in _records.py's construction section.
    found = []
    for path in _python_files():
        if path.endswith(os.path.join("procnet", "_records.py")):
            continue
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr == "__setattr__" and isinstance(node.value, ast.Name)
                    and node.value.id == "object"):
                found.append("%s:%d" % (os.path.relpath(path, PACKAGE), node.lineno))
    assert found == []


def test_a_query_does_not_import_dataclasses() -> None:
    # (15-20 ms of a new process's start-up: inspect, ast, dis, tokenize)
    code = ("import sys, procnet; procnet.listening('tcp'); procnet.sockets('unix', owners=False); "
            "print('dataclasses' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=os.path.dirname(PACKAGE)))
    assert out.stdout.strip() == "False"
