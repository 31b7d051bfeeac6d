"""Parsers: text of one kernel file in, records out. No I/O here, ever.

The names below load their module on first use: a query that sock_diag answers never
loads the text parsers.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_names
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


__getattr__ = lazy_names(globals(), __name__, _LAZY)
