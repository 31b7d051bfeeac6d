"""ss's filter expressions: ``state established ( sport = :ssh or dport = :https )``.

The language is the one iproute2's ``ss`` reads (``misc/ssfilter.y`` for the grammar and
the lexer, ``misc/ss.c`` for ``scan_state``, ``parse_hostcond`` and ``run_ssfilter``),
and :func:`compile_filter` gives the same answers as ss, including where ss surprises:

* Tokens are separated by blanks only: ``( sport = :22 )`` needs its spaces, as in ss
  (``(sport`` is one word). A backslash makes the next character literal.
* ``and`` and ``or`` have the *same* precedence and group from the left:
  ``a or b and c`` is ``(a or b) and c``. Juxtaposition means ``and``; ``not`` applies to
  the one condition that follows it.
* ``state X`` / ``exclude X`` come first, before the expression (ss reads them from its
  own argument list); several ``state`` add up, ``exclude`` starts from all states.
* ``src``/``dst`` take an address with an optional port; ``sport``/``dport`` a port, with
  ``=``, ``!=``, ``<``, ``>``, ``<=``, ``>=`` or their words. A port is a C integer
  (``0x16`` and the octal ``026`` are 22), a service name, or ``*``; ss's ``-1`` means any.
* An IPv4 condition matches IPv4 sockets and the IPv4-mapped IPv6 ones (``::ffff:a.b.c.d``)
  whose IPv4 address matches; an IPv6 condition never matches an IPv4 socket; a condition
  on the port alone matches every family.
* For unix sockets ss's "port" is the inode (``sport``) and the peer's inode (``dport``),
  so ``sport = :22`` matches a unix socket whose inode is 22 and ``sport > :1024`` nearly
  all of them. Address conditions match a unix socket only when they name no address
  bits (``*``, ``:22``, ``0.0.0.0/0``); unix path patterns (``src unix:/run/*``, or any
  word under ``family=AF_UNIX``, ss's ``-x``) are shell globs matched against the path.
  ``dst`` patterns see an empty peer name, as ss's netlink path does.
* A ``unix:``, ``inet:`` or ``inet6:`` prefix (and ``family=``) restricts the families
  listed, and, as in ss, the last such condition decides: see :attr:`Filter.families`.

procnet goes beyond ss only where ss would refuse the text: ``src != ADDR`` (ss has no
``!=`` for addresses) and ``[::1]/128`` (ss wants ``[::1/128]``) are accepted.
Host names are not resolved unless a resolver is passed (``resolve=``).

A malformed expression raises :class:`FilterError`, which points at the offending token.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import socket
from typing import (
    Callable,
    FrozenSet,
    Iterable,
    List,
    Optional,
    Pattern,
    Sequence,
    Tuple,
    Union,
)

from . import _states
from ._errors import ProcNetError
from ._records import InetSocket, IPAddress, Socket, TcpState, UnixSocket

IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

#: Linux's default ``net.ipv4.ip_local_port_range``: what ``autobound`` calls ephemeral
#: unless the caller passes the machine's own range.
DEFAULT_EPHEMERAL_PORTS = (32768, 60999)


class FilterError(ProcNetError, ValueError):
    """A filter expression procnet cannot read.

    ``expression`` is the text, ``span`` the ``(start, end)`` character offsets of the
    offending token in it, ``reason`` what was wrong. Prints as::

        expected a port after 'sport =', got 'foo'
            sport = foo
                    ~~^
    """

    def __init__(self, reason: str, expression: str, span: Tuple[int, int]) -> None:
        self.reason = reason
        self.expression = expression
        self.span = span
        super().__init__(str(self))

    def __str__(self) -> str:
        start, end = self.span
        marker = " " * start + "~" * max(end - start - 1, 0) + "^"
        return "%s\n    %s\n    %s" % (self.reason, self.expression, marker)

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (FilterError, (self.reason, self.expression, self.span))


# -- The syntax tree ------------------------------------------------------------------------
# One node per kind of ss's ``struct ssfilter``: ss turns ``!=``, ``<`` and ``>`` into a
# negation of ``=``, ``>=`` and ``<=`` while parsing, and so does procnet.


@dataclasses.dataclass(frozen=True)
class HostCond:
    """``src``/``dst``/``sport``/``dport`` with ``=``: ss's ``SSF_SCOND``/``SSF_DCOND``.

    ``side`` is ``"src"`` (the local end) or ``"dst"`` (the remote end). ``port`` is the
    port to equal, None for any. ``networks`` are the prefixes the address must fall in
    (any of them; several only for a resolved host name), empty for any address.
    ``host`` is the host name the networks were resolved from, if any.
    """

    side: str
    port: Optional[int] = None
    networks: Tuple[IPNetwork, ...] = ()
    host: Optional[str] = None

    def __str__(self) -> str:
        if not self.networks and self.host is None:
            if self.port is None:
                return "%s *" % self.side
            return "%s = :%d" % ("sport" if self.side == "src" else "dport", self.port)
        port = "" if self.port is None else ":%d" % self.port
        if self.host is not None:
            return "%s %s%s" % (self.side, _escape(self.host), port)
        net = self.networks[0]
        if net.version == 6:
            if net.prefixlen == 128:
                addr = "[%s]" % net.network_address
            else:
                addr = "[%s]" % net
        elif net.prefixlen == 32:
            addr = str(net.network_address)
        else:
            addr = str(net)
        return "%s %s%s" % (self.side, addr, port)


@dataclasses.dataclass(frozen=True)
class UnixCond:
    """``src``/``dst`` with a unix path pattern (a glob, as ss's ``fnmatch``)."""

    side: str
    pattern: str

    def __str__(self) -> str:
        return "%s %s" % (self.side, _escape("unix:" + self.pattern))


@dataclasses.dataclass(frozen=True)
class PortCmp:
    """``sport >= P`` / ``sport <= P`` (and dport): ss's ``SSF_S_GE`` ... ``SSF_D_LE``.

    ``op`` is ``">="`` or ``"<="``; ``port`` -1 stands for ss's "any" (``*``).
    """

    side: str
    op: str
    port: int

    def __str__(self) -> str:
        port = "*" if self.port == -1 else ":%d" % self.port
        return "%s %s %s" % ("sport" if self.side == "src" else "dport", self.op, port)


@dataclasses.dataclass(frozen=True)
class AutoBound:
    """``autobound``: a local port the kernel picked (in the ephemeral range), or an
    unbound or kernel-named (``@`` and 5 hex digits) unix socket."""

    def __str__(self) -> str:
        return "autobound"


@dataclasses.dataclass(frozen=True)
class Not:
    operand: Expr

    def __str__(self) -> str:
        return "! " + _atom(self.operand)


@dataclasses.dataclass(frozen=True)
class And:
    left: Expr
    right: Expr

    def __str__(self) -> str:
        return "%s and %s" % (_left(self.left, And), _atom(self.right))


@dataclasses.dataclass(frozen=True)
class Or:
    left: Expr
    right: Expr

    def __str__(self) -> str:
        return "%s or %s" % (_left(self.left, Or), _atom(self.right))


Expr = Union[HostCond, UnixCond, PortCmp, AutoBound, Not, And, Or]


def _atom(expr: Expr) -> str:
    # ss groups and/or from the left with one precedence: a right operand that is itself
    # a binary node needs parentheses, a left one does not.
    if isinstance(expr, (And, Or)):
        return "( %s )" % expr
    return str(expr)


def _left(expr: Expr, kind: type) -> str:
    # Left operands need no parentheses (ss groups from the left), but a mix of "and"
    # and "or" reads better with them.
    if isinstance(expr, (And, Or)) and not isinstance(expr, kind):
        return "( %s )" % expr
    return str(expr)


def _escape(word: str) -> str:
    return re.sub(r"([\\ \t\n\r])", r"\\\1", word)


# -- Tokens ---------------------------------------------------------------------------------

_BLANKS = " \t\n\r"

# ssfilter.y yylex(): the words it turns into grammar symbols.
_SYMBOLS = {
    "!": "!", "not": "!",
    "&": "&", "&&": "&", "and": "&",
    "|": "|", "||": "|", "or": "|",
    "(": "(", ")": ")",
    "dst": "DCOND", "src": "SCOND", "dport": "DPORT", "sport": "SPORT",
    "dev": "DEVNAME", "fwmark": "FWMARK", "cgroup": "CGROUPPATH",
    ">=": "GEQ", "ge": "GEQ", "geq": "GEQ",
    "<=": "LEQ", "le": "LEQ", "leq": "LEQ",
    "!=": "NEQ", "ne": "NEQ", "neq": "NEQ",
    "=": "=", "==": "=", "eq": "=",
    ">": ">", "gt": ">",
    "<": "<", "lt": "<",
    "autobound": "AUTOBOUND",
}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class _Token:
    kind: str  # a _SYMBOLS value, or "WORD"
    text: str  # backslash escapes removed
    start: int
    end: int


def _tokenize(text: str) -> List[_Token]:
    """Split as ssfilter.y's get_token_from_line: on blanks, a backslash escaping anything."""
    tokens: List[_Token] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in _BLANKS:
            i += 1
        if i >= n:
            return tokens
        start = i
        chars: List[str] = []
        while i < n and text[i] not in _BLANKS:
            if text[i] == "\\":
                i += 1
                if i >= n:
                    break
            chars.append(text[i])
            i += 1
        word = "".join(chars)
        tokens.append(_Token(_SYMBOLS.get(word, "WORD"), word, start, i))


# -- States ---------------------------------------------------------------------------------

# ss.c scan_state(): its names (case-insensitive), then the table sstate_namel. "UNKNOWN"
# is state 0, which no socket has. iproute2 6.8 added "bound-inactive" and refuses
# "new-syn-recv", a kernel-internal state.
_STATE_NAMES = {
    "close": frozenset({TcpState.CLOSE}),
    "closed": frozenset({TcpState.CLOSE}),
    "syn-rcv": frozenset({TcpState.SYN_RECV}),
    "unknown": frozenset(),
    "established": frozenset({TcpState.ESTABLISHED}),
    "syn-sent": frozenset({TcpState.SYN_SENT}),
    "syn-recv": frozenset({TcpState.SYN_RECV}),
    "fin-wait-1": frozenset({TcpState.FIN_WAIT1}),
    "fin-wait-2": frozenset({TcpState.FIN_WAIT2}),
    "time-wait": frozenset({TcpState.TIME_WAIT}),
    "unconnected": frozenset({TcpState.CLOSE}),
    "close-wait": frozenset({TcpState.CLOSE_WAIT}),
    "last-ack": frozenset({TcpState.LAST_ACK}),
    "listening": frozenset({TcpState.LISTEN}),
    "closing": frozenset({TcpState.CLOSING}),
    "bound-inactive": frozenset({TcpState.BOUND_INACTIVE}),
}


def state_set(name: str) -> FrozenSet[TcpState]:
    """The states one of ss's state names or groups stands for (case-insensitive).

    >>> sorted(s.name for s in state_set("bucket"))
    ['SYN_RECV', 'TIME_WAIT']

    Raises :class:`ValueError` for a name ss does not take.
    """
    key = name.lower()
    if key in _states.GROUPS:
        return _states.GROUPS[key]
    if key in _STATE_NAMES:
        return _STATE_NAMES[key]
    raise ValueError(
        "wrong state name %r: ss takes %s"
        % (name, ", ".join(sorted(set(_STATE_NAMES) | set(_states.GROUPS))))
    )


_STATE_WORDS = {
    TcpState.ESTABLISHED: "established",
    TcpState.SYN_SENT: "syn-sent",
    TcpState.SYN_RECV: "syn-recv",
    TcpState.FIN_WAIT1: "fin-wait-1",
    TcpState.FIN_WAIT2: "fin-wait-2",
    TcpState.TIME_WAIT: "time-wait",
    TcpState.CLOSE: "closed",
    TcpState.CLOSE_WAIT: "close-wait",
    TcpState.LAST_ACK: "last-ack",
    TcpState.LISTEN: "listening",
    TcpState.CLOSING: "closing",
    TcpState.BOUND_INACTIVE: "bound-inactive",
}


# -- Numbers and addresses, as iproute2 reads them -------------------------------------------

# strtol/strtoul with base 0: hex with 0x, octal with a leading 0, else decimal.
_C_INT = re.compile(r"([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\Z")
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def _c_int(text: str) -> Optional[int]:
    m = _C_INT.match(text)
    if m is None:
        return None
    digits = m.group(2)
    if len(digits) > 40:
        return None  # far past any port or address part (and int() refuses 4300+ digits)
    if digits[:2] in ("0x", "0X"):
        value = int(digits[2:], 16)
    elif len(digits) > 1 and digits[0] == "0":
        value = int(digits[1:], 8)
    else:
        value = int(digits)
    return -value if m.group(1) == "-" else value


def _ipv4(text: str) -> Optional[ipaddress.IPv4Address]:
    """iproute2 get_addr_ipv4(): up to four parts, each a C number up to 255; missing
    trailing parts are 0 (``10`` is 10.0.0.0, ``127.1`` is 127.1.0.0)."""
    parts = text.split(".")
    if len(parts) > 4:
        return None
    octets = []
    for part in parts:
        value = _c_int(part)
        if value is None or part[:1] in "+-" or value > 255:
            return None
        octets.append(value)
    octets += [0] * (4 - len(octets))
    return ipaddress.IPv4Address(bytes(octets))


def _mask_bits(text: str) -> Optional[int]:
    """iproute2 get_netmask(): a prefix length, or a contiguous dotted IPv4 mask."""
    value = _c_int(text)
    if value is not None and text[:1] not in "+-":
        return value
    mask = _ipv4(text) if "." in text else None
    if mask is None:
        return None
    bits = int(mask)
    ones = bin(bits).count("1")
    if bits != ((1 << 32) - 1) ^ ((1 << (32 - ones)) - 1):
        return None
    return ones


def _parse_prefix(text: str, family: Optional[int]) -> Optional[IPNetwork]:
    """iproute2 get_prefix_1(): ``ADDR[/LEN]``, or None if it is not one."""
    addr_text, slash, len_text = text.partition("/")
    if addr_text in ("default", "all", "any"):
        # Any address; of the given family when one is, else of every family.
        if slash or family not in (socket.AF_INET, socket.AF_INET6):
            return None if slash else _ANY
        return ipaddress.ip_network("::/0" if family == socket.AF_INET6 else "0.0.0.0/0")
    addr: Optional[IPAddress]
    if family == socket.AF_INET6 or (family is None and ":" in addr_text):
        if "%" in addr_text:
            return None
        try:
            addr = ipaddress.IPv6Address(addr_text)
        except ValueError:
            return None
    elif family in (None, socket.AF_INET):
        addr = _ipv4(addr_text)
        if addr is None:
            return None
    else:
        return None
    plen: int = addr.max_prefixlen
    if slash:
        bits = _mask_bits(len_text)
        if bits is None or bits > plen or bits < 0:
            return None
        plen = bits
    return ipaddress.ip_network((addr, plen), strict=False)


# get_prefix_1() of "any" with no family: no address to check (bitlen 0, family unspec).
_ANY = ipaddress.ip_network("0.0.0.0/0")


# -- Unix path patterns: glibc fnmatch(pattern, name, 0) -------------------------------------

_CLASSES = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "blank": " \\t",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "\\x21-\\x7e",
    "lower": "a-z",
    "print": "\\x20-\\x7e",
    "punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~").replace("]", "\\]"),
    "space": " \\t\\n\\r\\f\\v",
    "upper": "A-Z",
    "xdigit": "0-9A-Fa-f",
}

_NEVER = "(?!)"


def _bracket(pattern: str, i: int) -> Tuple[Optional[str], int]:
    """The regex class for the bracket expression opening at ``pattern[i-1]``, and the
    index after it; (None, i) when it does not close (then ``[`` is an ordinary char)."""
    n = len(pattern)
    negate = i < n and pattern[i] in "!^"
    if negate:
        i += 1
    items: List[str] = []
    first = True
    while i < n:
        c = pattern[i]
        if c == "]" and not first:
            body = "".join(items)
            if not body:
                return ("[^\\s\\S]" if not negate else "[\\s\\S]"), i + 1
            return ("[^%s]" if negate else "[%s]") % body, i + 1
        first = False
        if c == "[" and pattern.startswith("[:", i):
            close = pattern.find(":]", i + 2)
            if close >= 0:
                name = pattern[i + 2 : close]
                if name not in _CLASSES:
                    return _NEVER, n  # glibc: an unknown class makes the pattern fail
                items.append(_CLASSES[name])
                i = close + 2
                continue
        if c == "\\":
            i += 1
            if i >= n:
                return None, i
            c = pattern[i]
        lo = c
        i += 1
        if i + 1 < n and pattern[i] == "-" and pattern[i + 1] != "]":
            hi = pattern[i + 1]
            if hi == "\\" and i + 2 < n:
                hi = pattern[i + 2]
                i += 1
            i += 2
            if ord(lo) <= ord(hi):
                items.append("%s-%s" % (re.escape(lo), re.escape(hi)))
            continue
        items.append(re.escape(lo))
    return None, i


def glob_regex(pattern: str) -> Pattern[str]:
    """A compiled regex that fully matches what glibc's ``fnmatch(pattern, s, 0)`` does:
    ``*`` and ``?`` match any character including ``/``, ``[...]`` (``!`` or ``^`` to
    negate, ranges, ``[:alpha:]`` classes), a backslash quotes the next character."""
    out: List[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "\\":
            if i >= n:
                out.append(_NEVER)  # glibc: a trailing backslash never matches
            else:
                out.append(re.escape(pattern[i]))
                i += 1
        elif c == "[":
            cls, j = _bracket(pattern, i)
            if cls is None:
                out.append(re.escape("["))
            else:
                out.append(cls)
                i = j
        else:
            out.append(re.escape(c))
    return re.compile("".join(out), re.DOTALL)


# -- The parser ------------------------------------------------------------------------------

ServicePort = Callable[[str, str], Optional[int]]
Resolver = Callable[[str], Iterable[IPAddress]]


def _default_service_port(name: str, proto: str) -> Optional[int]:
    from ._services import service_port

    return service_port(name, proto)


_STATE_FIRST = (
    "state filters come first, before the expression, as ss reads them: "
    "write 'state X ... EXPRESSION'"
)


class _Parser:
    def __init__(
        self,
        text: str,
        family: Optional[int],
        protocols: Sequence[str],
        service_port: ServicePort,
        resolve: Optional[Resolver],
    ) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0
        self.family = family
        self.protocols = protocols
        self.service_port = service_port
        self.resolve = resolve
        # ss.c parse_hostcond(): a condition with a family (a "unix:", "inet:" or
        # "inet6:" word, or ss -4/-6/-x) resets the families shown to that one alone.
        self.families: Optional[FrozenSet[int]] = None

    # -- helpers
    def error(self, reason: str, token: Optional[_Token] = None) -> FilterError:
        if token is None:
            end = len(self.text.rstrip(_BLANKS))
            return FilterError(reason, self.text, (end, end + 1))
        return FilterError(reason, self.text, (token.start, token.end))

    def peek(self) -> Optional[_Token]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def next(self) -> Optional[_Token]:
        tok = self.peek()
        if tok is not None:
            self.pos += 1
        return tok

    # -- the whole text
    def parse(self) -> Tuple[Optional[FrozenSet[TcpState]], Optional[Expr]]:
        states: Optional[FrozenSet[TcpState]] = None
        # ss.c main(): "state X" and "exclude X" pairs first, then the expression.
        while True:
            tok = self.peek()
            if tok is None or tok.text not in ("state", "exclude", "excl"):
                break
            self.pos += 1
            name = self.next()
            if name is None:
                raise self.error("expected a state name after %r" % tok.text)
            try:
                named = state_set(name.text)
            except ValueError as exc:
                raise self.error(str(exc), name) from None
            if tok.text == "state":
                states = named if states is None else states | named
            else:
                states = (_states.GROUPS["all"] if states is None else states) - named
        expr = None
        if self.peek() is not None:
            expr = self.exprlist()
            tok = self.peek()
            if tok is not None:
                # Only a ")" can stop exprlist at the top level.
                raise self.error("unbalanced ')'", tok)
        return states, expr

    _STARTS = frozenset(
        {"(", "!", "DCOND", "SCOND", "DPORT", "SPORT", "AUTOBOUND", "DEVNAME", "FWMARK", "CGROUPPATH"}
    )

    def exprlist(self) -> Expr:
        left = self.expr()
        while True:
            tok = self.peek()
            if tok is None or tok.kind == ")":
                return left
            if tok.kind in ("|", "&"):
                self.pos += 1
                right = self.expr()
                left = Or(left, right) if tok.kind == "|" else And(left, right)
            elif tok.kind in self._STARTS:
                left = And(left, self.expr())
            elif tok.text in ("state", "exclude", "excl"):
                raise self.error(_STATE_FIRST, tok)
            else:
                raise self.error(self._unexpected(tok, "'and', 'or' or another condition"), tok)

    def expr(self) -> Expr:
        tok = self.next()
        if tok is None:
            raise self.error("expected a condition")
        kind = tok.kind
        if kind == "(":
            inner = self.exprlist()
            close = self.next()
            if close is None:
                raise self.error("this '(' is never closed: expected ')'", tok)
            return inner
        if kind == "!":
            return Not(self.expr())
        if kind == "AUTOBOUND":
            return AutoBound()
        if kind in ("SCOND", "DCOND"):
            side = "src" if kind == "SCOND" else "dst"
            op = self.peek()
            negate = False
            if op is not None and op.kind in ("=", "NEQ"):
                self.pos += 1
                negate = op.kind == "NEQ"  # procnet only: ss has no "!=" for addresses
            elif op is not None and op.kind in ("GEQ", "LEQ", ">", "<"):
                raise self.error(
                    "%s takes an address, with '=' or '!=' or nothing; compare ports with %s"
                    % (tok.text, "sport" if side == "src" else "dport"),
                    op,
                )
            cond = self.hostcond(tok, side, is_port=False)
            return Not(cond) if negate else cond
        if kind in ("SPORT", "DPORT"):
            side = "src" if kind == "SPORT" else "dst"
            op = self.peek()
            op_kind = "="
            if op is not None and op.kind in ("=", "NEQ", "GEQ", "LEQ", ">", "<"):
                self.pos += 1
                op_kind = op.kind
            cond = self.hostcond(tok, side, is_port=True)
            if op_kind == "=":
                return cond
            if op_kind == "NEQ":
                return Not(cond)
            port = -1 if not isinstance(cond, HostCond) or cond.port is None else cond.port
            # ssfilter.y: ">" is "not <=", "<" is "not >=".
            if op_kind == "GEQ":
                return PortCmp(side, ">=", port)
            if op_kind == "LEQ":
                return PortCmp(side, "<=", port)
            if op_kind == ">":
                return Not(PortCmp(side, "<=", port))
            return Not(PortCmp(side, ">=", port))
        if kind in ("DEVNAME", "FWMARK", "CGROUPPATH"):
            raise self.error(
                "procnet does not filter on %r: the kernel's text tables do not carry it" % tok.text, tok
            )
        if tok.text in ("state", "exclude", "excl"):
            raise self.error(_STATE_FIRST, tok)
        wanted = "a condition (src, dst, sport, dport, autobound, '(' or 'not')"
        raise self.error(self._unexpected(tok, wanted), tok)

    def _unexpected(self, tok: _Token, wanted: str) -> str:
        hint = ""
        if tok.text.startswith("(") or tok.text.endswith(")"):
            hint = " (ss separates parentheses by spaces: write '( ... )')"
        elif any(op in tok.text for op in ("=", "<", ">")) and tok.kind == "WORD":
            hint = " (ss separates operators by spaces: write 'sport = :22')"
        return "expected %s, got %r%s" % (wanted, tok.text, hint)

    def hostcond(self, keyword: _Token, side: str, is_port: bool) -> Union[HostCond, UnixCond]:
        """ss.c parse_hostcond() for the word that follows src/dst/sport/dport."""
        tok = self.next()
        what = "%s after %r" % ("a port" if is_port else "an address", keyword.text)
        if tok is None:
            raise self.error("expected %s" % what)
        if tok.kind != "WORD":
            raise self.error("expected %s, got %r" % (what, tok.text), tok)
        addr = tok.text
        fam = self.family
        if fam == socket.AF_UNIX or addr.startswith("unix:"):
            if addr.startswith("unix:"):
                addr = addr[5:]
            self.families = frozenset({socket.AF_UNIX})
            return UnixCond(side, addr)
        for prefix in ("link:", "netlink:", "vsock:"):
            if addr.startswith(prefix):
                raise self.error("procnet lists inet and unix sockets only, not %s ones" % prefix[:-1], tok)
        if fam not in (None, socket.AF_INET, socket.AF_INET6):
            raise self.error("family %r is not one procnet filters" % (fam,), tok)
        if fam == socket.AF_INET or addr.startswith("inet:"):
            fam = socket.AF_INET
            if addr.startswith("inet:"):
                addr = addr[5:]
        elif fam == socket.AF_INET6 or addr.startswith("inet6:"):
            fam = socket.AF_INET6
            if addr.startswith("inet6:"):
                addr = addr[6:]

        # Split "ADDR:PORT", "[ADDR]:PORT", "*:PORT" and "ADDR/LEN:PORT" as ss does.
        port_text: Optional[str] = None
        if addr.startswith("["):
            close = addr.find("]")
            if close < 0:
                raise self.error("expected ']' to close the address in %r" % tok.text, tok)
            port_text = addr[close + 1 :]
            addr = addr[1:close]
            if port_text.startswith("/") and not is_port:
                # procnet only: "[::1]/128[:PORT]" (ss wants "[::1/128]").
                plen, sep, rest = port_text[1:].partition(":")
                addr += "/" + plen
                port_text = sep + rest
        elif addr.startswith("*"):
            port_text = addr[1:]
        elif not is_port:
            slash = addr.find("/")
            colon = addr.rfind(":", max(slash, 0))
            if colon >= 0:
                port_text = addr[colon:]
                addr = addr[:colon]
        if is_port:
            # sport/dport: the whole word is the port.
            port_text = addr

        port: Optional[int] = None
        if port_text:
            if port_text[0] == ":":
                port_text = port_text[1:]
            if port_text and port_text[0] != "*":
                port = self.port_number(port_text, tok)
        if port == -1:
            port = None  # ss's a.port == -1: no port condition

        networks: Tuple[IPNetwork, ...] = ()
        host: Optional[str] = None
        if not is_port and addr and addr[0] != "*":
            net = _parse_prefix(addr, fam)
            if net is _ANY:
                pass
            elif net is not None:
                networks = (net,)
            else:
                networks = self.resolve_host(addr, fam, tok)
                host = addr
        if fam is not None:
            self.families = frozenset({fam})
        return HostCond(side, port, networks, host)

    def port_number(self, text: str, tok: _Token) -> int:
        value = _c_int(text)
        if value is not None:
            if _INT_MIN <= value <= _INT_MAX:
                return value
        else:
            found = {}
            for proto in self.protocols:
                p = self.service_port(text, proto)
                if p is not None:
                    found[proto] = p
            if len(set(found.values())) > 1:
                raise self.error(
                    "ambiguous port %r: %s"
                    % (text, ", ".join("%s/%s" % (p, proto) for proto, p in found.items())),
                    tok,
                )
            if found:
                return next(iter(found.values()))
        raise self.error("%r does not look like a port (a number or a service name)" % text, tok)

    def resolve_host(self, name: str, fam: Optional[int], tok: _Token) -> Tuple[IPNetwork, ...]:
        if self.resolve is None:
            raise self.error(
                "an inet prefix is expected rather than %r (procnet does not resolve host names)" % name, tok
            )
        nets: List[IPNetwork] = []
        for found in self.resolve(name):
            ip = ipaddress.ip_address(found)
            if fam is None or (ip.version == 4) == (fam == socket.AF_INET):
                nets.append(ipaddress.ip_network(ip))
        if not nets:
            raise self.error("host name %r did not resolve to an address" % name, tok)
        return tuple(nets)


# -- Evaluation ------------------------------------------------------------------------------

Predicate = Callable[[Socket], bool]


def _endpoint_port(sock: Socket, side: str) -> int:
    if isinstance(sock, InetSocket):
        return (sock.local if side == "src" else sock.remote).port
    # ss.c unix_show_sock(): lport is the inode, rport the peer's inode (0: none known).
    if side == "src":
        return sock.inode
    return sock.peer_inode or 0


def _compile(expr: Expr, ephemeral: Tuple[int, int]) -> Predicate:
    if isinstance(expr, And):
        a, b = _compile(expr.left, ephemeral), _compile(expr.right, ephemeral)
        return lambda s: a(s) and b(s)
    if isinstance(expr, Or):
        a, b = _compile(expr.left, ephemeral), _compile(expr.right, ephemeral)
        return lambda s: a(s) or b(s)
    if isinstance(expr, Not):
        a = _compile(expr.operand, ephemeral)
        return lambda s: not a(s)
    if isinstance(expr, HostCond):
        return _compile_host(expr)
    if isinstance(expr, UnixCond):
        regex = glob_regex(expr.pattern)
        local = expr.side == "src"

        def unix_cond(s: Socket) -> bool:
            if not isinstance(s, UnixSocket):
                return False
            # ss matches dst patterns against a peer name its netlink path never fills.
            name = (s.path or "") if local else ""
            return regex.fullmatch(name) is not None

        return unix_cond
    if isinstance(expr, PortCmp):
        side, port = expr.side, expr.port
        if expr.op == ">=":
            return lambda s: _endpoint_port(s, side) >= port
        return lambda s: _endpoint_port(s, side) <= port
    if isinstance(expr, AutoBound):
        lo, hi = ephemeral
        autobind = re.compile(r"@[0-9a-f]{5}\Z")

        def autobound(s: Socket) -> bool:
            if isinstance(s, InetSocket):
                return lo <= s.local.port <= hi
            return s.path is None or autobind.match(s.path) is not None

        return autobound
    raise TypeError("not a filter expression node: %r" % (expr,))


def _compile_host(cond: HostCond) -> Predicate:
    local = cond.side == "src"
    port = cond.port
    nets = cond.networks
    # ss.c run_ssfilter() compares an address only when the prefix has bits
    # ("if (a->addr.bitlen)"); for unix sockets there is nothing else to compare.
    unix_ok = not nets or nets[0].prefixlen == 0

    def host_cond(s: Socket) -> bool:
        if isinstance(s, InetSocket):
            ep = s.local if local else s.remote
            if port is not None and ep.port != port:
                return False
            if not nets:
                return True
            ip = ep.ip
            for net in nets:
                if net.version == ip.version:
                    if ip in net:
                        return True
                elif net.version == 4:
                    # The kernel's inet_diag_bc_run(): an IPv4 condition matches an
                    # IPv4-mapped IPv6 socket by its IPv4 address; never the reverse.
                    mapped = ip.ipv4_mapped  # type: ignore[union-attr]
                    if mapped is not None and mapped in net:
                        return True
            return False
        if port is not None and _endpoint_port(s, cond.side) != port:
            return False
        return unix_ok

    return host_cond


def _port_hint(expr: Optional[Expr], side: str) -> Optional[FrozenSet[int]]:
    if isinstance(expr, HostCond):
        if expr.side == side and expr.port is not None:
            return frozenset({expr.port})
        return None
    if isinstance(expr, And):
        a, b = _port_hint(expr.left, side), _port_hint(expr.right, side)
        if a is None:
            return b
        return a if b is None else a & b
    if isinstance(expr, Or):
        a, b = _port_hint(expr.left, side), _port_hint(expr.right, side)
        return None if a is None or b is None else a | b
    return None


class Filter:
    """A compiled ss filter expression: :meth:`matches` tells whether a socket passes.

    ``states`` is the set of states the expression's ``state``/``exclude`` clauses allow
    (None when it has none), for the query layer to push down to the table parser; how
    it combines with ss's ``-l``/``-a`` is the query's business. ``families`` is the set of
    address families ss would list (None: no restriction). ``local_ports`` and
    ``remote_ports``, when not None, hold every port a matching socket can have at that
    end (for unix sockets ss's ports are inodes). ``expression`` is the syntax tree (None
    for an expression with only state clauses). ``str()`` gives the canonical text.
    """

    __slots__ = ("text", "states", "expression", "families", "local_ports", "remote_ports", "_predicate")

    def __init__(
        self,
        text: str,
        states: Optional[FrozenSet[TcpState]],
        expression: Optional[Expr],
        families: Optional[FrozenSet[int]],
        ephemeral_ports: Tuple[int, int] = DEFAULT_EPHEMERAL_PORTS,
    ) -> None:
        self.text = text
        self.states = states
        self.expression = expression
        self.families = families
        self.local_ports = _port_hint(expression, "src")
        self.remote_ports = _port_hint(expression, "dst")
        self._predicate = None if expression is None else _compile(expression, ephemeral_ports)

    def matches(self, sock: Socket) -> bool:
        """True when ``sock`` (an :class:`InetSocket` or :class:`UnixSocket`) passes the
        states, the families and the expression."""
        if self.states is not None and sock.state not in self.states:
            return False
        if self.families is not None and sock.family not in self.families:
            return False
        return self._predicate is None or self._predicate(sock)

    __call__ = matches

    def __str__(self) -> str:
        words = []
        if self.states is not None:
            if not self.states:
                words.append("state unknown")
            for state in sorted(self.states):
                words.append("state " + _STATE_WORDS.get(state, state.name.lower()))
        if self.expression is not None:
            words.append(str(self.expression))
        return " ".join(words)

    def __repr__(self) -> str:
        return "<Filter %r>" % self.text

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Filter):
            return NotImplemented
        mine = (self.states, self.expression, self.families)
        return mine == (other.states, other.expression, other.families)

    def __hash__(self) -> int:
        return hash((self.states, self.expression, self.families))


def parse_filter(
    text: Union[str, Sequence[str]],
    *,
    family: Optional[int] = None,
    protocols: Sequence[str] = ("tcp", "udp"),
    service_port: Optional[ServicePort] = None,
    resolve: Optional[Resolver] = None,
) -> Tuple[Optional[FrozenSet[TcpState]], Optional[Expr], Optional[FrozenSet[int]]]:
    """The ``(states, expression, families)`` an ss filter text stands for, without
    compiling it. Takes the same arguments as :func:`compile_filter`."""
    if not isinstance(text, str):
        text = " ".join(text)
    parser = _Parser(text, family, protocols, service_port or _default_service_port, resolve)
    states, expr = parser.parse()
    families = parser.families
    if family is not None:
        families = frozenset({family})
    return states, expr, families


def compile_filter(
    text: Union[str, Sequence[str]],
    *,
    family: Optional[int] = None,
    protocols: Sequence[str] = ("tcp", "udp"),
    service_port: Optional[ServicePort] = None,
    resolve: Optional[Resolver] = None,
    ephemeral_ports: Tuple[int, int] = DEFAULT_EPHEMERAL_PORTS,
) -> Filter:
    """Compile an ss filter expression (a string, or ss's argument words).

    ``family`` is the family ss's ``-4``/``-6``/``-x`` selected (``socket.AF_INET``,
    ``AF_INET6``, ``AF_UNIX``), which decides how ss reads a bare address word (under
    ``AF_UNIX`` every address is a path pattern). ``protocols`` are the tables queried,
    whose service names a port word may use (ss looks ``:bootps`` up as udp only under
    ``-u``); ``service_port(name, proto)`` looks one up (default: ``/etc/services``, else
    procnet's table). ``resolve(name)`` returns the addresses of a host name; without it a
    host name is an error. ``ephemeral_ports`` is the ``(low, high)`` range ``autobound``
    tests (the machine's ``net.ipv4.ip_local_port_range``).

    >>> f = compile_filter("state listening sport = :22 or sport = :443")
    >>> sorted(f.local_ports), [s.name for s in f.states]
    ([22, 443], ['LISTEN'])

    Raises :class:`FilterError` for a malformed expression.
    """
    if not isinstance(text, str):
        text = " ".join(text)
    states, expr, families = parse_filter(
        text, family=family, protocols=protocols, service_port=service_port, resolve=resolve
    )
    return Filter(text, states, expr, families, ephemeral_ports)


__all__ = [
    "AutoBound",
    "And",
    "DEFAULT_EPHEMERAL_PORTS",
    "Expr",
    "Filter",
    "FilterError",
    "HostCond",
    "Not",
    "Or",
    "PortCmp",
    "UnixCond",
    "compile_filter",
    "glob_regex",
    "parse_filter",
    "state_set",
]
