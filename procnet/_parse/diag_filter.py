"""inet_diag bytecode: the port filter the kernel runs on each socket of a dump. No I/O.

A sock_diag dump request (``inet_diag_req_v2``) may carry one attribute,
``INET_DIAG_REQ_BYTECODE``: a little program the kernel runs on every socket before it
sends it (``net/ipv4/inet_diag.c`` ``inet_diag_bc_run``), so that a question about one
port costs one ``NLMSG_DONE`` datagram while the port is closed, however many sockets
the machine has. procnet builds only conjunctions of port comparisons
(``INET_DIAG_BC_S_GE`` / ``S_LE`` / ``D_GE`` / ``D_LE``, present since the first
inet_diag; ``S_EQ`` came much later and an older kernel refuses a program that uses it).

How the program works (``include/uapi/linux/inet_diag.h``): a sequence of 4-byte
``struct inet_diag_bc_op {u8 code; u8 yes; u16 no}``; a port comparison is followed by a
second op whose ``no`` holds the port. Every op is a conditional jump forward: ``yes``
bytes when the condition holds, ``no`` bytes when not. The socket is sent when the jumps
land exactly on the end of the program. Here every ``yes`` is the op's own length (go on
to the next condition) and every ``no`` jumps 4 bytes past the end (reject). All fields
are in the byte order of the kernel that runs the program.

:func:`audit` is the kernel's ``inet_diag_bc_audit`` and :func:`run` its
``inet_diag_bc_run`` (port codes only), so that tests check what the kernel will accept
and do without asking it.
"""

from __future__ import annotations

import struct
import sys
from typing import Callable, Dict, Iterable, List, NamedTuple, Optional, Sequence

from .._errors import ParseError

#: the request attribute that carries the program (``enum { INET_DIAG_REQ_NONE, ...BYTECODE }``)
INET_DIAG_REQ_BYTECODE = 1

# enum { INET_DIAG_BC_NOP, ... } (include/uapi/linux/inet_diag.h)
BC_NOP = 0
BC_JMP = 1
BC_S_GE = 2
BC_S_LE = 3
BC_D_GE = 4
BC_D_LE = 5
BC_AUTO = 6
BC_S_COND = 7
BC_D_COND = 8
BC_DEV_COND = 9
BC_MARK_COND = 10
BC_S_EQ = 11
BC_D_EQ = 12
BC_CGROUP_COND = 13

#: the port comparisons: code -> (side, test), side "local" (source) or "remote"
_COMPARISONS: Dict[int, "tuple[str, Callable[[int, int], bool]]"] = {
    BC_S_GE: ("local", lambda port, bound: port >= bound),
    BC_S_LE: ("local", lambda port, bound: port <= bound),
    BC_D_GE: ("remote", lambda port, bound: port >= bound),
    BC_D_LE: ("remote", lambda port, bound: port <= bound),
    BC_S_EQ: ("local", lambda port, bound: port == bound),
    BC_D_EQ: ("remote", lambda port, bound: port == bound),
}
#: the shortest op of each code the audit knows, in bytes (its arguments included); the
#: host conditions add their address (see :func:`_hostcond_length`)
_MIN_LENGTH = {
    BC_NOP: 4, BC_JMP: 4, BC_AUTO: 4,
    BC_S_GE: 8, BC_S_LE: 8, BC_D_GE: 8, BC_D_LE: 8, BC_S_EQ: 8, BC_D_EQ: 8,
    BC_S_COND: 12, BC_D_COND: 12, BC_DEV_COND: 8, BC_MARK_COND: 12, BC_CGROUP_COND: 12,
}
_OP_LEN = 4
_NLMSG_HDRLEN = 16


class PortRange(NamedTuple):
    """A condition on one side's port: ``low <= port <= high`` (both inclusive)."""

    #: ``"local"`` (the socket's own port, the kernel's source) or ``"remote"``
    side: str
    low: int
    high: int


class Op(NamedTuple):
    """One decoded instruction: the ``inet_diag_bc_op`` and, for a port comparison, its port."""

    offset: int
    code: int
    yes: int
    no: int
    #: the port a comparison compares with (the ``no`` of the op after it), else None
    port: Optional[int]


def _op_struct(byteorder: str) -> struct.Struct:
    if byteorder not in ("little", "big"):
        raise ValueError("byteorder is 'little' or 'big', not %r" % (byteorder,))
    return struct.Struct(("<" if byteorder == "little" else ">") + "BBH")


def _comparisons(conditions: Iterable[PortRange]) -> List["tuple[int, int]"]:
    """(code, port) of each comparison the conditions need: a bound that every port
    meets (``low`` 0, ``high`` 65535) needs none."""
    out: List["tuple[int, int]"] = []
    for cond in conditions:
        side, low, high = cond
        if side not in ("local", "remote"):
            raise ValueError("a port condition's side is 'local' or 'remote', not %r" % (side,))
        for bound in (low, high):
            if isinstance(bound, bool) or not isinstance(bound, int) or not 0 <= bound <= 65535:
                raise ValueError("a port bound is an int from 0 to 65535, not %r" % (bound,))
        if low > high:
            raise ValueError("port range %d-%d is empty (low above high)" % (low, high))
        if low > 0:
            out.append((BC_S_GE if side == "local" else BC_D_GE, low))
        if high < 65535:
            out.append((BC_S_LE if side == "local" else BC_D_LE, high))
    return out


def port_filter(conditions: Iterable[PortRange], *, byteorder: str = sys.byteorder) -> bytes:
    """The program that lets through the sockets meeting every condition (an *and*).

    Empty bytes when no condition restricts anything (send no program then: the kernel
    refuses an empty one).

    >>> port_filter([PortRange("local", 8080, 8080)], byteorder="little").hex()
    '020814000000901f03080c000000901f'
    """
    op = _op_struct(byteorder)
    comparisons = _comparisons(conditions)
    size = 8 * len(comparisons)
    out = bytearray()
    for i, (code, port) in enumerate(comparisons):
        remaining = size - 8 * i
        # yes: the next comparison (or the end: accept); no: 4 bytes past the end (reject)
        out += op.pack(code, 8, remaining + _OP_LEN) + op.pack(0, 0, port)
    return bytes(out)


def with_bytecode(request: bytes, bytecode: bytes, *, byteorder: str = sys.byteorder) -> bytes:
    """A whole dump request (as :func:`~procnet._parse.netlink.inet_request` builds it)
    with ``bytecode`` appended as its ``INET_DIAG_REQ_BYTECODE`` attribute and its
    ``nlmsg_len`` grown to match. Empty bytecode returns the request unchanged."""
    if not bytecode:
        return request
    if len(request) < _NLMSG_HDRLEN or len(request) % 4 or len(bytecode) % 4:
        raise ValueError("a request and a program are whole 4-byte words")
    prefix = "<" if byteorder == "little" else ">"
    (length,) = struct.unpack_from(prefix + "I", request, 0)
    if length != len(request):
        raise ValueError("nlmsg_len %d is not the request's length %d" % (length, len(request)))
    attribute = struct.pack(prefix + "HH", 4 + len(bytecode), INET_DIAG_REQ_BYTECODE) + bytecode
    return struct.pack(prefix + "I", len(request) + len(attribute)) + request[4:] + attribute


def _fail(data: bytes, offset: int, reason: str) -> ParseError:
    return ParseError("offset %d: %s" % (offset, reason), path="inet_diag bytecode", line=data.hex())


def decode(data: bytes, *, byteorder: str = sys.byteorder) -> List[Op]:
    """The ops of a program, in order, each with its port argument (for listings and tests).

    Reads op after op, each as long as its code's arguments (a port comparison 8 bytes);
    a truncated op or an unknown code is a :class:`~procnet.ParseError` naming the offset.

    >>> [(o.code, o.port) for o in decode(port_filter([PortRange("local", 1, 2)]))]
    [(2, 1), (3, 2)]
    """
    op = _op_struct(byteorder)
    out: List[Op] = []
    pos = 0
    while pos < len(data):
        if pos + _OP_LEN > len(data):
            raise _fail(data, pos, "%d bytes left, an op is 4" % (len(data) - pos))
        code, yes, no = op.unpack_from(data, pos)
        size = _MIN_LENGTH.get(code)
        if size is None:
            raise _fail(data, pos, "unknown op code %d" % code)
        if code in (BC_S_COND, BC_D_COND) and pos + 12 <= len(data):
            address = _hostcond_address(data[pos + 4])
            if address < 0:
                raise _fail(data, pos, "host condition of unknown address family %d" % data[pos + 4])
            size += address
        if pos + size > len(data):
            raise _fail(data, pos, "op code %d needs %d bytes, %d left" % (code, size, len(data) - pos))
        port = op.unpack_from(data, pos + _OP_LEN)[2] if code in _COMPARISONS else None
        out.append(Op(pos, code, yes, no, port))
        pos += size
    return out


def conditions(ops: Sequence[Op]) -> List[PortRange]:
    """The :class:`PortRange` conditions a program of :func:`port_filter` tests, one per
    side that it restricts, merged (the inverse of :func:`port_filter`, for its programs)."""
    bounds: Dict[str, List[int]] = {}
    for op in ops:
        if op.code not in (BC_S_GE, BC_S_LE, BC_D_GE, BC_D_LE) or op.port is None:
            raise ValueError("op code %d at offset %d is not a port comparison" % (op.code, op.offset))
        side = _COMPARISONS[op.code][0]
        low, high = bounds.setdefault(side, [0, 65535])
        if op.code in (BC_S_GE, BC_D_GE):
            bounds[side][0] = max(low, op.port)
        else:
            bounds[side][1] = min(high, op.port)
    return [PortRange(side, low, high) for side, (low, high) in sorted(bounds.items())]


def _hostcond_address(family: int) -> int:
    """Bytes of address after an ``inet_diag_hostcond`` of this family; -1: a family
    the kernel refuses."""
    return {0: 0, 2: 4, 10: 16}.get(family, -1)


def _valid_cc(data: bytes, op: struct.Struct, length: int, cc: int) -> bool:
    """``valid_cc``: whether ``cc`` bytes before the end is the start of an op, walking
    from the program's start by each op's ``yes``."""
    pos = 0
    while length >= 0:
        if cc > length:
            return False
        if cc == length:
            return True
        if pos + _OP_LEN > len(data):
            return False
        yes = op.unpack_from(data, pos)[1]
        if yes < 4 or yes & 3:
            return False
        length -= yes
        pos += yes
    return False


def _min_length(data: bytes, pos: int, left: int, code: int) -> Optional[int]:
    """The length the audit requires of the op at ``pos`` (None: the code or its
    arguments are refused)."""
    need = _MIN_LENGTH.get(code)
    if need is None or left < need:
        return None
    if code in (BC_S_COND, BC_D_COND):
        family, prefix_len = data[pos + 4], data[pos + 5]
        address = _hostcond_address(family)
        if address < 0 or left < need + address or prefix_len > 8 * address:
            return None
        need += address
    return need


def audit(data: bytes, *, byteorder: str = sys.byteorder, net_admin: bool = False) -> bool:
    """True when the kernel accepts the program (``inet_diag_bc_audit``; a refused one
    makes the dump fail with EINVAL, or EPERM for a mark condition without CAP_NET_ADMIN).

    >>> audit(port_filter([PortRange("local", 22, 22)]))
    True
    """
    op = _op_struct(byteorder)
    total = left = len(data)
    if total < _OP_LEN:
        return False
    pos = 0
    while left > 0:
        if left < _OP_LEN:
            return False
        code, yes, no = op.unpack_from(data, pos)
        need = _min_length(data, pos, left, code)
        if need is None or (code == BC_MARK_COND and not net_admin):
            return False
        if code != BC_NOP:
            if no < need or no > left + 4 or no & 3:
                return False
            if no < left and not _valid_cc(data, op, total, left - no):
                return False
        if yes < need or yes > left + 4 or yes & 3:
            return False
        pos += yes
        left -= yes
    return left == 0


def run(data: bytes, local_port: int, remote_port: int = 0, *, byteorder: str = sys.byteorder) -> bool:
    """Whether the kernel sends a socket with these ports (``inet_diag_bc_run``, for the
    port comparisons, NOP and JMP; a program of :func:`audit`)."""
    op = _op_struct(byteorder)
    left = len(data)
    pos = 0
    while left > 0:
        code, yes, no = op.unpack_from(data, pos)
        holds = code == BC_NOP
        if code in _COMPARISONS:
            side, test = _COMPARISONS[code]
            bound = op.unpack_from(data, pos + _OP_LEN)[2]
            holds = test(local_port if side == "local" else remote_port, bound)
        elif code not in (BC_NOP, BC_JMP):
            raise ValueError("run() models the port comparisons, NOP and JMP; not op code %d" % code)
        step = yes if holds else no
        pos += step
        left -= step
    return left == 0


__all__ = [
    "INET_DIAG_REQ_BYTECODE",
    "Op",
    "PortRange",
    "audit",
    "conditions",
    "decode",
    "port_filter",
    "run",
    "with_bytecode",
]
