"""Parsers: text of one kernel file in, records out. No I/O here, ever.

The names below load their module on first use: a query that sock_diag answers never
loads the text parsers.
"""

from typing import TYPE_CHECKING, Any

from ._common import INET_TABLES

_LAZY = {
    "format_inet": "inet",
    "parse_inet": "inet",
    "format_unix": "unix",
    "parse_unix": "unix",
}

__all__ = ["INET_TABLES", "format_inet", "format_unix", "parse_inet", "parse_unix"]

if TYPE_CHECKING:
    from .inet import format_inet, parse_inet
    from .unix import format_unix, parse_unix


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError("module 'procnet._parse' has no attribute %r" % name)
    import importlib

    value = getattr(importlib.import_module("." + module, __name__), name)
    globals()[name] = value
    return value
