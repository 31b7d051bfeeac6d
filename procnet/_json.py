"""Records as JSON-ready dicts: the stable keys of ``--json`` and of fixtures' expected results.

Every dataclass field becomes a key of the same name. Addresses are strings, enums their
names (``"LISTEN"``, ``"AF_INET6"``, ``"SOCK_STREAM"``), ``None`` is ``null``. Text that
is not valid UTF-8 (a socket path, a process name) is written with its bad bytes as
``\\xNN`` escapes, and the exact bytes are added as hex under ``<key>_hex``, so the JSON
is always valid and nothing is lost. Flag sets (a unix socket's ``flags``) are numbers.
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
import os
from typing import Any, Dict

from ._records import _Record, ip_text


def _utf8(value: str) -> bool:
    try:
        value.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _text(value: str) -> Any:
    if _utf8(value):
        return value
    return os.fsencode(value).decode("utf-8", "backslashreplace")


def to_jsonable(value: Any) -> Any:
    """A record (or anything inside one) as plain JSON types."""
    if isinstance(value, _Record) or dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _record(value)
    if isinstance(value, enum.IntFlag):
        return int(value)  # a set of bits: its number, as the kernel prints it (in hex)
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return ip_text(value)
    if isinstance(value, (tuple, list)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    raise TypeError("cannot turn %s into JSON" % type(value).__name__)


def _record(value: Any) -> Dict[str, Any]:
    """A record's fields by name; a str that is not UTF-8 also as ``<name>_hex`` (its bytes),
    and the class-level ``proto`` and ``family`` of a unix record."""
    out: Dict[str, Any] = {}
    names = type(value)._FIELDS if isinstance(value, _Record) else [f.name for f in dataclasses.fields(value)]
    for name in names:
        item = getattr(value, name)
        out[name] = to_jsonable(item)
        if isinstance(item, str) and out[name] is not item:
            out[name + "_hex"] = os.fsencode(item).hex()
        elif isinstance(item, tuple) and any(isinstance(v, str) and not _utf8(v) for v in item):
            # a command line with an argument that is not UTF-8: every argument's bytes
            out[name + "_hex"] = [os.fsencode(v).hex() if isinstance(v, str) else None for v in item]
    for name in ("proto", "family"):
        if name not in out and hasattr(value, name):
            out[name] = to_jsonable(getattr(value, name))
    return out
