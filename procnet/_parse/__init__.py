"""Parsers: text of one kernel file in, records out. No I/O here, ever."""

from .inet import INET_TABLES, format_inet, parse_inet
from .unix import format_unix, parse_unix

__all__ = ["INET_TABLES", "format_inet", "format_unix", "parse_inet", "parse_unix"]
