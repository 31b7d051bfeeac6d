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
  word under ``family=AF_UNIX``, ss's ``-x``) are matched against the path as ss matches
  them, with glibc's ``fnmatch(pattern, path, 0)`` in the C locale (:class:`Glob`): byte
  by byte (``?`` is one byte of a UTF-8 name), ``*`` crossing ``/``, a backslash quoting.
  ``dst`` patterns see an empty peer name, as ss's netlink path does.
* A ``unix:``, ``inet:`` or ``inet6:`` prefix (and ``family=``) restricts the families
  listed, and, as in ss, the last such condition decides: see :attr:`Filter.families`.

procnet goes beyond ss only where ss would refuse the text: ``src != ADDR`` (ss has no
``!=`` for addresses) and ``[::1]/128`` (ss wants ``[::1/128]``) are accepted.
Host names are not resolved unless a resolver is passed (``resolve=``).

A malformed expression raises :class:`FilterError`, which points at the offending token.

There is no limit on the length or the nesting of an expression: parsing, matching and
every walk over the tree use explicit stacks, never recursion per token or per level
(a thousand ``or`` terms, or 100,000 nested parentheses, cost memory in proportion, and
give an answer or a :class:`FilterError`); a path pattern matches in at most
``len(pattern) * len(path)`` steps, where a backtracking matcher takes exponential time.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import itertools
import re
import socket
import string
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    FrozenSet,
    Iterable,
    Iterator,
    List,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from . import _states
from ._errors import ProcNetError
from ._records import InetSocket, IPAddress, Socket, TcpState, UnixSocket
from ._vocab import SS_STATE_WORD, SS_STATE_WORDS

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


# -- Operators, and walks over a tree of any depth -------------------------------------------
#
# A filter of 1,000 terms is a left-deep chain 1,000 nodes deep ("a or b or c ...": ss
# groups from the left), and "not not ... x" or nested parentheses can be deeper still.
# Nothing here recurses over the tree: the parser keeps its open parentheses on a list,
# and every walk (text, repr, equality, hashing, pickling, port hints, compiling) runs
# over an explicit stack. The operators are frozen dataclasses whose generated methods
# would recurse, so they write their own.


class _Operator:
    """What :class:`Not`, :class:`And` and :class:`Or` do without recursing."""

    __slots__ = ()

    def __str__(self) -> str:
        return _text(self)

    def __repr__(self) -> str:
        return _repr(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _OPERATORS):
            return NotImplemented
        return _equal(self, other)

    def __hash__(self) -> int:
        return _hash(self)

    def __reduce__(self) -> Tuple[Callable[[Tuple[object, ...]], Expr], Tuple[Tuple[object, ...]]]:
        # pickle and copy walk what they get recursively: give them a flat program
        program = tuple(type(n) if isinstance(n, _OPERATORS) else n for n in _postorder(self))
        return _from_postfix, (program,)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Not(_Operator):
    operand: Expr


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class And(_Operator):
    left: Expr
    right: Expr


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Or(_Operator):
    left: Expr
    right: Expr


Expr = Union[HostCond, UnixCond, PortCmp, AutoBound, Not, And, Or]
_BINARY = (And, Or)
_OPERATORS = (And, Or, Not)


def _children(expr: Any) -> Tuple[Expr, ...]:
    if isinstance(expr, _BINARY):
        return (expr.left, expr.right)
    if isinstance(expr, Not):
        return (expr.operand,)
    return ()


def _preorder(expr: Any) -> Iterator[Expr]:
    stack: List[Expr] = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(_children(node)))


def _postorder(expr: Any) -> Iterator[Expr]:
    """Every node after its operands, left before right."""
    stack: List[Tuple[Expr, bool]] = [(expr, False)]
    while stack:
        node, expanded = stack.pop()
        kids = _children(node)
        if expanded or not kids:
            yield node
        else:
            stack.append((node, True))
            stack.extend((kid, False) for kid in reversed(kids))


def _shape(expr: Any) -> Iterator[object]:
    """The tree in pre-order: the operator classes and the leaves, which say it whole (each
    operator has a fixed number of operands)."""
    for node in _preorder(expr):
        yield type(node) if isinstance(node, _OPERATORS) else node


def _equal(a: Any, b: Any) -> bool:
    missing = object()
    return all(x == y for x, y in itertools.zip_longest(_shape(a), _shape(b), fillvalue=missing))


def _hash(expr: Any) -> int:
    return hash(tuple(_shape(expr)))


def _from_postfix(program: Tuple[object, ...]) -> Expr:
    """The tree whose post-order ``_Operator.__reduce__`` wrote."""
    values: List[Expr] = []
    for item in program:
        if item is Not:
            values.append(Not(values.pop()))
        elif item is And or item is Or:
            right = values.pop()
            values.append(item(values.pop(), right))
        else:
            values.append(item)  # type: ignore[arg-type]
    (expr,) = values
    return expr


def _text(expr: Any) -> str:
    """The canonical text: ss groups and/or from the left with one precedence, so a right
    operand that is itself and/or needs parentheses, a left one only when it is the other
    operator (for the reader); ``!`` applies to one atom."""
    out: List[str] = []
    stack: List[Union[str, Expr]] = [expr]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, Not):
            stack.extend(reversed(["! "] + _atom_parts(item.operand)))
        elif isinstance(item, _BINARY):
            left: List[Union[str, Expr]] = [item.left]
            if isinstance(item.left, _BINARY) and type(item.left) is not type(item):
                left = ["( ", item.left, " )"]
            word = " and " if isinstance(item, And) else " or "
            stack.extend(reversed(left + [word] + _atom_parts(item.right)))
        else:
            out.append(str(item))
    return "".join(out)


def _atom_parts(expr: Expr) -> List[Union[str, Expr]]:
    return ["( ", expr, " )"] if isinstance(expr, _BINARY) else [expr]


def _repr(expr: Any) -> str:
    out: List[str] = []
    stack: List[Union[str, Expr]] = [expr]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, Not):
            stack.extend(reversed(["Not(operand=", item.operand, ")"]))
        elif isinstance(item, _BINARY):
            stack.extend(reversed(["%s(left=" % type(item).__name__, item.left, ", right=", item.right, ")"]))
        else:
            out.append(repr(item))
    return "".join(out)


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

# ss.c scan_state(): the words of the one vocabulary (case-insensitive). "unknown" is
# state 0, which no socket has: it matches nothing.
_STATE_NAMES: Dict[str, FrozenSet[TcpState]] = {
    word: frozenset({TcpState(n)}) if n else frozenset() for word, n in SS_STATE_WORDS.items()
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


#: the word a state is written back as (``state closed``)
_STATE_WORDS: Dict[TcpState, str] = {TcpState(n): word for n, word in SS_STATE_WORD.items()}


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
#
# ss matches a unix path with fnmatch(pattern, name, 0) (misc/ss.c unix_match) in the C
# locale (ss never calls setlocale): every byte is a character, so "?" is one byte of a
# UTF-8 name, and the classes are ASCII's. Glob below is a port of glibc's matcher
# (posix/fnmatch_loop.c) for those flags, with its one strategy for stars: after a "*",
# the next stretch of pattern (up to the following "*") is matched at the first place it
# fits, and the match never goes back past that "*". That is also what makes it fast:
# O(len(pattern) * len(name)) steps at worst, where a regex or a matcher that backtracks
# into every star takes exponential time on "*a*a*a*a*b". Its brackets are read while
# matching, as glibc reads them (so a malformed one means what it means to glibc); what a
# bracket gives for a byte is remembered.

# ctype's classes in the C locale (wctype names; glibc: posix/fnmatch_loop.c IS_CHAR_CLASS)
_GRAPH = "".join(map(chr, range(0x21, 0x7F)))
_CLASSES: Dict[str, FrozenSet[str]] = {
    name: frozenset(members)
    for name, members in (
        ("alnum", string.ascii_letters + string.digits),
        ("alpha", string.ascii_letters),
        ("blank", " \t"),
        ("cntrl", "".join(map(chr, range(0x20))) + "\x7f"),
        ("digit", string.digits),
        ("graph", _GRAPH),
        ("lower", string.ascii_lowercase),
        ("print", " " + _GRAPH),
        ("punct", string.punctuation),
        ("space", " \t\n\v\f\r"),
        ("upper", string.ascii_uppercase),
        ("xdigit", string.hexdigits),
    )
}
_CLASS_NAME_MAX = 2048  # glibc's CHAR_CLASS_MAX_LENGTH: CHARCLASS_NAME_MAX
_END = "\0"  # what the C strings end with: a pattern or a name stops at its first NUL


def _c_bytes(text: str) -> str:
    """``text`` as the C string ss hands fnmatch: its bytes (UTF-8, an undecodable byte
    as itself), one character per byte, up to the first NUL."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogatepass")
    return raw.decode("latin-1").split(_END, 1)[0]


class Glob:
    """A unix path pattern, matched as ss matches it: glibc's ``fnmatch(pattern, name, 0)``
    in the C locale. ``*`` and ``?`` match any byte, ``/`` and a leading ``.`` included;
    ``[...]`` a set (``!`` or ``^`` to negate, ranges of byte values, ``[:alpha:]`` and the
    other C classes, ``[=c=]`` and ``[.c.]`` for a character); a backslash quotes the next
    character, and a trailing one never matches. A ``[`` that is never closed is itself.

    >>> g = Glob("/run/*.sock")
    >>> g.match("/run/a/b.sock"), g.match("/run/x")
    (True, False)

    ``steps`` is how many steps the last :meth:`match` took: at most
    ``(len(pattern) + 1) * (len(name) + 1)``, bytes counted.
    """

    __slots__ = ("pattern", "steps", "_p", "_brackets")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.steps = 0
        self._p = _c_bytes(pattern)
        self._brackets: Dict[Tuple[int, str], int] = {}

    def __repr__(self) -> str:
        return "Glob(%r)" % self.pattern

    def match(self, name: str) -> bool:
        """True when ``name`` (a whole path) matches the pattern."""
        p, s = self._p, _c_bytes(name)
        plen, slen = len(p), len(s)
        pi = ni = steps = 0
        star = -1  # the pattern position after the last "*", where a retry starts
        star_n = 0  # the name position that retry gave the "*"
        while True:
            steps += 1
            if pi < plen:
                c = p[pi]
                if c == "*":
                    # as glibc: the "?"s after a "*" take their bytes now ("*?" is "?*"), and
                    # a "*" that ends the pattern takes the rest of the name
                    pi += 1
                    while pi < plen and p[pi] in "*?":
                        if p[pi] == "?":
                            if ni == slen:
                                self.steps = steps
                                return False
                            ni += 1
                        pi += 1
                        steps += 1
                    if pi == plen:
                        self.steps = steps
                        return True
                    star, star_n = pi, ni
                    continue
                if ni < slen:
                    ch = s[ni]
                    if c == "?":
                        nxt = pi + 1
                    elif c == "\\":
                        nxt = pi + 2 if pi + 1 < plen and p[pi + 1] == ch else -1
                    elif c == "[":
                        key = (pi, ch)
                        found = self._brackets.get(key)
                        nxt = found if found is not None else self._bracket(pi, ch)
                    else:
                        nxt = pi + 1 if c == ch else -1
                    if nxt >= 0:
                        pi, ni = nxt, ni + 1
                        continue
            elif ni == slen:
                self.steps = steps
                return True
            # no match here: give the last "*" one more byte, or fail
            if star < 0 or star_n >= slen:
                self.steps = steps
                return False
            star_n += 1
            pi, ni = star, star_n

    def _bracket(self, start: int, fn: str) -> int:
        """glibc's ``case '['`` for the byte ``fn``: where the pattern goes on when the
        bracket opening at ``start`` matches it, else -1 (remembered)."""
        result = self._brackets[(start, fn)] = _bracket(self._p, start, fn)
        return result


def _at(p: str, k: int) -> str:
    return p[k] if k < len(p) else _END


#: _bracket's steps return this in place of its answer to mean "go on with the bracket"
_GO_ON = -2
if TYPE_CHECKING:
    #: a step of _bracket: (its answer or _GO_ON, c, q, cold, kind) as _bracket names them
    _Step = Tuple[int, str, int, str, str]


def _bracket(p: str, start: int, fn: str) -> int:
    """posix/fnmatch_loop.c, ``case L('[')``, for flags 0 in the C locale (no collation
    rules: ``[=c=]`` and ``[.c.]`` are the byte c, a range compares byte values): where
    the pattern goes on when the bracket opening at ``p[start]`` matches the byte ``fn``,
    else -1. The labels of glibc's loop are ``kind``: "normal" (normal_bracket), "range"
    (a member read: a "-" may follow), "next" (only the closing "]" may follow). ``c`` is
    the character read, ``p[q]`` the next one, ``cold`` the last member (a range's start)."""
    q = start + 1
    negate = _at(p, q) in "!^"  # "^" too: glibc unless POSIXLY_CORRECT is set
    if negate:
        q += 1
    c = _at(p, q)
    q += 1
    cold = c
    while True:
        answer, c, q, cold, kind = _bracket_member(p, start, q, c, cold, fn, negate)
        if answer != _GO_ON:
            return answer
        if kind == "normal":
            is_range = _at(p, q) == "-" and _at(p, q + 1) != _END and _at(p, q + 1) != "]"
            if not is_range and c == fn:
                return _matched(p, q, negate)
            cold = c
            c = _at(p, q)
            q += 1
            kind = "range"
        if kind == "range" and c == "-" and _at(p, q) != "]":
            answer, q = _bracket_range(p, q, cold, fn, negate)
            if answer != _GO_ON:
                return answer
            c = _at(p, q)
            q += 1
        if c == "]":
            return q if negate else -1


def _bracket_member(p: str, start: int, q: int, c: str, cold: str, fn: str, negate: bool) -> _Step:
    """The start of glibc's loop body: a member opening with ``c`` (an escape, a class,
    an equivalence class, a collating symbol, or a plain character left to _bracket)."""
    if c == "\\":
        if _at(p, q) == _END:
            return -1, c, q, cold, ""
        return _GO_ON, _at(p, q), q + 1, cold, "normal"
    if c == "[" and _at(p, q) == ":":
        return _bracket_class(p, q, cold, fn, negate)
    if c == "[" and _at(p, q) == "=":
        if _at(p, q + 1) == _END or _at(p, q + 2) != "=" or _at(p, q + 3) != "]":
            return _GO_ON, "[", q, cold, "normal"
        symbol = _at(p, q + 1)
        if fn == symbol:
            return _matched(p, q + 4, negate), c, q, cold, ""
        return _GO_ON, _at(p, q + 4), q + 5, cold, "next"
    if c == _END:
        # "[" never closed: an ordinary character, the pattern going on after it
        return (start + 1 if fn == "[" else -1), c, q, cold, ""
    if c == "[" and _at(p, q) == ".":
        symbol, q = _collating_symbol(p, q)
        if q < 0:
            return -1, c, q, cold, ""
        if not (_at(p, q) == "-" and _at(p, q + 1) != _END) and fn == symbol:
            return _matched(p, q, negate), c, q, cold, ""
        return _GO_ON, _at(p, q), q + 1, symbol, "range"
    return _GO_ON, c, q, cold, "normal"


def _bracket_class(p: str, q: int, cold: str, fn: str, negate: bool) -> _Step:
    """``[:name:]`` with ``p[q]`` the first ":"; not a class name: the "[" is a member."""
    startp = q
    name: List[str] = []
    while True:
        if len(name) == _CLASS_NAME_MAX:
            return -1, "", q, cold, ""
        q += 1
        c = _at(p, q)
        if c == ":" and _at(p, q + 1) == "]":
            q += 2
            break
        if c < "a" or c >= "z":  # not a class name: the "[" is a member
            return _GO_ON, "[", startp, cold, "normal"
        name.append(c)
    members = _CLASSES.get("".join(name))
    if members is None:
        return -1, "", q, cold, ""  # an invalid class name fails the match
    if fn in members:
        return _matched(p, q, negate), "", q, cold, ""
    return _GO_ON, _at(p, q), q + 1, cold, "next"


def _bracket_range(p: str, q: int, cold: str, fn: str, negate: bool) -> Tuple[int, int]:
    """A range from ``cold`` whose end starts at ``p[q]``: (_bracket's answer, q), or
    (_GO_ON, the index after the range's end)."""
    cend = _at(p, q)
    q += 1
    if cend == "[" and _at(p, q) == ".":
        cend, q = _collating_symbol(p, q)
        if q < 0:
            return -1, q
    else:
        if cend == "\\":
            cend = _at(p, q)
            q += 1
        if cend == _END:
            return -1, q
    if cold <= fn <= cend:
        return _matched(p, q, negate), q
    return _GO_ON, q


def _collating_symbol(p: str, q: int) -> Tuple[str, int]:
    """``[.c.]`` with ``p[q]`` the first ".": the character and the index after ``.]``;
    q -1 when it does not close, or names more than one character (the C locale has no
    multi-character collating elements)."""
    startp = q
    while True:
        q += 1
        c = p[q] if q < len(p) else _END
        if c == "." and q + 1 < len(p) and p[q + 1] == "]":
            q += 2
            break
        if c == _END:
            return "", -1
    if q - startp != 4:
        return "", -1
    return p[startp + 1], q


def _matched(p: str, q: int, negate: bool) -> int:
    """glibc's ``matched:``: skip the rest of a bracket that matched; where the pattern
    goes on, or -1 (the bracket does not close, or negated)."""
    while True:
        c = _at(p, q)
        q += 1
        if c == "]":
            break
        if c == _END:
            return -1
        if c == "\\":
            if _at(p, q) == _END:
                return -1
            q += 1
        elif c == "[" and _at(p, q) == ":":
            q = _skip_class(p, q)
            if q < 0:
                return -1
        elif c == "[" and _at(p, q) == "=":
            if _at(p, q + 1) == _END or _at(p, q + 2) != "=" or _at(p, q + 3) != "]":
                return -1
            q += 4
        elif c == "[" and _at(p, q) == ".":
            q = _skip_collating_symbol(p, q)
            if q < 0:
                return -1
    return -1 if negate else q


def _skip_class(p: str, q: int) -> int:
    """``matched:`` past ``[:name:]``, ``p[q]`` the first ":": the index after it; where
    the scan goes on when it is not a class name; -1 for a name too long."""
    startp = q
    count = 0
    while True:
        q += 1
        c = _at(p, q)
        count += 1
        if count == _CLASS_NAME_MAX:
            return -1
        if c == ":" and _at(p, q + 1) == "]":
            return q + 2
        if c < "a" or c >= "z":
            return startp


def _skip_collating_symbol(p: str, q: int) -> int:
    """``matched:`` past ``[.c.]``, ``p[q]`` the first ".": the index after it, or -1."""
    while True:
        q += 1
        c = _at(p, q)
        if c == _END:
            return -1
        if c == "." and _at(p, q + 1) == "]":
            return q + 2


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


class _Group:
    """An ``exprlist`` being read: what it holds so far, the operator and the "!"s waiting
    for the next expr, and the "(" that opened it (None at the top)."""

    __slots__ = ("opened", "left", "op", "nots")

    def __init__(self, opened: Optional[_Token]) -> None:
        self.opened = opened
        self.left: Optional[Expr] = None
        self.op = "&"
        self.nots = 0

    def add(self, expr: Expr) -> None:
        for _ in range(self.nots):
            expr = Not(expr)
        self.nots = 0
        if self.left is None:
            self.left = expr
        else:
            self.left = Or(self.left, expr) if self.op == "|" else And(self.left, expr)

    def result(self) -> Expr:
        assert self.left is not None  # add() has run: a group ends only after an expr
        return self.left


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
        """ssfilter.y's ``exprlist`` (``expr``, then any of ``| expr``, ``& expr``,
        ``expr``) with ``expr: '!' expr | '(' exprlist ')' | condition``, read without
        recursion: each open parenthesis is a :class:`_Group` on a list, so that 100,000
        of them cost memory, not stack. Stops before a ")" it did not open (the caller
        reports it) or at the end."""
        groups = [_Group(None)]
        group = groups[0]
        while True:
            # an expr is expected: "!"s and "("s, then a condition
            tok = self.next()
            if tok is None:
                raise self.error("expected a condition")
            if tok.kind == "!":
                group.nots += 1
                continue
            if tok.kind == "(":
                group = _Group(tok)
                groups.append(group)
                continue
            done = self.condition(tok)
            while True:
                group.add(done)
                tok = self.peek()
                if tok is None:
                    if len(groups) > 1:
                        raise self.error("this '(' is never closed: expected ')'", group.opened)
                    return group.result()
                if tok.kind == ")":
                    if len(groups) == 1:
                        return group.result()
                    self.pos += 1
                    done = groups.pop().result()
                    group = groups[-1]
                    continue  # the parenthesized expr completes one in the group around it
                if tok.kind in ("|", "&"):
                    self.pos += 1
                    group.op = tok.kind
                elif tok.kind in self._STARTS:
                    group.op = "&"  # juxtaposition
                elif tok.text in ("state", "exclude", "excl"):
                    raise self.error(_STATE_FIRST, tok)
                else:
                    raise self.error(self._unexpected(tok, "'and', 'or' or another condition"), tok)
                break

    def condition(self, tok: _Token) -> Expr:
        """One condition, ``tok`` its first word (never "(" nor "!": see :meth:`exprlist`)."""
        kind = tok.kind
        if kind == "AUTOBOUND":
            return AutoBound()
        if kind in ("SCOND", "DCOND"):
            return self.address_condition(tok)
        if kind in ("SPORT", "DPORT"):
            return self.port_condition(tok)
        if kind in ("DEVNAME", "FWMARK", "CGROUPPATH"):
            raise self.error(
                "procnet does not filter on %r: the kernel's text tables do not carry it" % tok.text, tok
            )
        if tok.text in ("state", "exclude", "excl"):
            raise self.error(_STATE_FIRST, tok)
        wanted = "a condition (src, dst, sport, dport, autobound, '(' or 'not')"
        raise self.error(self._unexpected(tok, wanted), tok)

    def address_condition(self, tok: _Token) -> Expr:
        """``src``/``dst`` (``tok``), an optional ``=`` or ``!=``, an address."""
        side = "src" if tok.kind == "SCOND" else "dst"
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

    def port_condition(self, tok: _Token) -> Expr:
        """``sport``/``dport`` (``tok``), an optional comparison, a port."""
        side = "src" if tok.kind == "SPORT" else "dst"
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
        addr, fam = self._inet_family(addr, fam, tok)
        addr, port_text = self._split_port(addr, is_port, tok)
        port = self._port(port_text, tok)
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

    def _inet_family(self, addr: str, fam: Optional[int], tok: _Token) -> Tuple[str, Optional[int]]:
        """The address without its "inet:"/"inet6:" prefix, and the family it or -f names."""
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
        return addr, fam

    def _split_port(self, addr: str, is_port: bool, tok: _Token) -> Tuple[str, Optional[str]]:
        """"ADDR:PORT", "[ADDR]:PORT", "*:PORT" and "ADDR/LEN:PORT" split as ss splits them
        (sport/dport: the whole word is the port)."""
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
            port_text = addr
        return addr, port_text

    def _port(self, port_text: Optional[str], tok: _Token) -> Optional[int]:
        """The port of a host condition: None for none, "*", or ss's -1."""
        port: Optional[int] = None
        if port_text:
            if port_text[0] == ":":
                port_text = port_text[1:]
            if port_text and port_text[0] != "*":
                port = self.port_number(port_text, tok)
        if port == -1:
            port = None  # ss's a.port == -1: no port condition
        return port

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


def _compile_leaf(expr: Expr, ephemeral: Tuple[int, int]) -> Predicate:
    """The predicate of one condition (not an operator)."""
    if isinstance(expr, HostCond):
        return _compile_host(expr)
    if isinstance(expr, UnixCond):
        match = Glob(expr.pattern).match
        local = expr.side == "src"

        def unix_cond(s: Socket) -> bool:
            if not isinstance(s, UnixSocket):
                return False
            # ss matches dst patterns against a peer name its netlink path never fills.
            return match((s.path or "") if local else "")

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


# -- Compiling a tree of any depth ------------------------------------------------------------
#
# The tree is first made flat where it can be: an and/or chain becomes one node of many
# operands (a thousand "or"s, one node), and "not not x" is x. Subtrees at most
# _CLOSURE_DEPTH deep (every ordinary filter, whole) become nested closures, the fast
# path; above that, the nodes become a small program of jumps run by one loop, so that
# evaluating a socket never recurses deeper than _CLOSURE_DEPTH, whatever the text.

_CLOSURE_DEPTH = 32


class _Node:
    """A node of the flattened tree: ``kind`` "and", "or", "not" or "leaf"; ``items`` the
    operands (``leaf`` the condition of a leaf); ``depth`` 0 for a leaf."""

    __slots__ = ("kind", "items", "leaf", "depth")

    def __init__(self, kind: str, leaf: Optional[Expr] = None) -> None:
        self.kind = kind
        self.items: List[_Node] = []
        self.leaf = leaf
        self.depth = 0


def _flatten(expr: Expr) -> _Node:
    """The flattened tree of ``expr``, built top-down with an explicit stack."""
    top: List[_Node] = []
    work: List[Tuple[Expr, List[_Node]]] = [(expr, top)]
    while work:
        e, sink = work.pop()
        negated = False
        while isinstance(e, Not):
            e, negated = e.operand, not negated
        if isinstance(e, _BINARY):
            node = _Node("and" if isinstance(e, And) else "or")
            chain: List[Expr] = [e]
            operands: List[Expr] = []
            while chain:  # the operands of a chain of one operator, left to right
                x = chain.pop()
                if type(x) is type(e):
                    chain.append(x.right)
                    chain.append(x.left)
                else:
                    operands.append(x)
            work.extend((operand, node.items) for operand in reversed(operands))
        else:
            node = _Node("leaf", e)
        if negated:
            outer = _Node("not")
            outer.items.append(node)
            node = outer
        sink.append(node)
    for node in _nodes_postorder(top[0]):
        if node.items:
            node.depth = 1 + max(child.depth for child in node.items)
    return top[0]


def _port_hints(root: _Node) -> Tuple[Optional[FrozenSet[int]], Optional[FrozenSet[int]]]:
    """Every local and every remote port a matching socket can have (None: any)."""
    hints: Dict[int, Tuple[Optional[FrozenSet[int]], Optional[FrozenSet[int]]]] = {}
    for node in _nodes_postorder(root):
        if node.kind == "leaf":
            cond = node.leaf
            if isinstance(cond, HostCond) and cond.port is not None:
                port = frozenset({cond.port})
                hints[id(node)] = (port, None) if cond.side == "src" else (None, port)
            else:
                hints[id(node)] = (None, None)
        elif node.kind == "not":
            hints[id(node)] = (None, None)
        else:
            parts = [hints.pop(id(child)) for child in node.items]
            sides: List[Optional[FrozenSet[int]]] = []
            for i in (0, 1):
                known: List[FrozenSet[int]] = []
                for h in parts:
                    side = h[i]
                    if side is not None:
                        known.append(side)
                if node.kind == "and":  # any operand's set bounds the ports
                    sides.append(frozenset.intersection(*known) if known else None)
                else:  # every operand must bound them
                    sides.append(frozenset().union(*known) if len(known) == len(parts) else None)
            hints[id(node)] = (sides[0], sides[1])
    return hints[id(root)]


def _nodes_postorder(root: _Node) -> Iterator[_Node]:
    stack: List[Tuple[_Node, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded or not node.items:
            yield node
        else:
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.items))


def _closure(node: _Node, ephemeral: Tuple[int, int]) -> Predicate:
    """Nested closures for a subtree at most _CLOSURE_DEPTH deep (so this recursion is too)."""
    if node.kind == "leaf":
        assert node.leaf is not None
        return _compile_leaf(node.leaf, ephemeral)
    preds = tuple(_closure(child, ephemeral) for child in node.items)
    if node.kind == "not":
        a = preds[0]
        return lambda s: not a(s)
    if len(preds) == 2:
        a, b = preds
        if node.kind == "and":
            return lambda s: a(s) and b(s)
        return lambda s: a(s) or b(s)
    if node.kind == "and":

        def all_of(s: Socket) -> bool:
            for p in preds:
                if not p(s):
                    return False
            return True

        return all_of

    def any_of(s: Socket) -> bool:
        for p in preds:
            if p(s):
                return True
        return False

    return any_of


# The instructions of the program for a deep tree: the value is a flag set by _TEST and
# _NOT, read by the jumps. An "and" of n operands is: operand, _JUMP_IF_FALSE end, ...,
# operand, end; an "or" the same with _JUMP_IF_TRUE; a "not": operand, _NOT.
_TEST, _NOT, _JUMP_IF_FALSE, _JUMP_IF_TRUE = range(4)


def _compile(expr: Expr, ephemeral: Tuple[int, int]) -> Predicate:
    root = _flatten(expr)
    if root.depth <= _CLOSURE_DEPTH:
        return _closure(root, ephemeral)
    program: List[Tuple[int, Any]] = []
    work: List[Tuple[str, Any]] = [("node", root)]
    while work:
        what, arg = work.pop()
        if what == "node":
            node: _Node = arg
            if node.kind == "leaf" or node.depth <= _CLOSURE_DEPTH:
                program.append((_TEST, _closure(node, ephemeral)))
            elif node.kind == "not":
                work.append(("emit", (_NOT, None)))
                work.append(("node", node.items[0]))
            else:
                jump = _JUMP_IF_FALSE if node.kind == "and" else _JUMP_IF_TRUE
                pending: List[int] = []  # the jumps to the end of this node
                steps: List[Tuple[str, Any]] = []
                for i, child in enumerate(node.items):
                    if i:
                        steps.append(("jump", (jump, pending)))
                    steps.append(("node", child))
                steps.append(("end", pending))
                work.extend(reversed(steps))
        elif what == "emit":
            program.append(arg)
        elif what == "jump":
            arg[1].append(len(program))
            program.append((arg[0], None))
        else:  # "end": the jumps of the node land here
            for at in arg:
                program[at] = (program[at][0], len(program))
    return _Program(tuple(program))


class _Program:
    """A deep expression as a flat program (see _compile); calling it runs one loop."""

    __slots__ = ("code",)

    def __init__(self, code: Tuple[Tuple[int, Any], ...]) -> None:
        self.code = code

    def __call__(self, sock: Socket) -> bool:
        code = self.code
        end = len(code)
        pc = 0
        value = False
        while pc < end:
            op, arg = code[pc]
            pc += 1
            if op == _TEST:
                value = arg(sock)
            elif op == _NOT:
                value = not value
            elif op == _JUMP_IF_FALSE:
                if not value:
                    pc = arg
            elif value:
                pc = arg
        return value


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
        self.local_ports: Optional[FrozenSet[int]] = None
        self.remote_ports: Optional[FrozenSet[int]] = None
        self._predicate: Optional[Predicate] = None
        if expression is not None:
            self.local_ports, self.remote_ports = _port_hints(_flatten(expression))
            self._predicate = _compile(expression, ephemeral_ports)

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
    "Glob",
    "HostCond",
    "Not",
    "Or",
    "PortCmp",
    "UnixCond",
    "compile_filter",
    "parse_filter",
    "state_set",
]
