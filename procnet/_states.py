"""State names and groups as ss takes them, shared by the query keywords and ss's filter language."""

from __future__ import annotations

from typing import Any, Dict, FrozenSet, Iterable, List, Union

from ._records import TcpState
from ._vocab import SS_STATE, SS_STATE_WORDS

ALL: FrozenSet[TcpState] = frozenset(TcpState(n) for n in range(1, 12))
# iproute2 ss.c: SS_CONN is what ss shows without -l/-a: no listeners, no closed
# sockets, and neither TIME-WAIT nor SYN-RECV minisockets.
DEFAULT: FrozenSet[TcpState] = ALL - {TcpState.LISTEN, TcpState.CLOSE, TcpState.TIME_WAIT, TcpState.SYN_RECV}
# ss -l: listening TCP sockets, and the "unconnected" sockets of the other protocols
# (a bound UDP socket is an open port).
LISTENING: FrozenSet[TcpState] = frozenset({TcpState.LISTEN, TcpState.CLOSE})
BUCKET: FrozenSet[TcpState] = frozenset({TcpState.SYN_RECV, TcpState.TIME_WAIT})

#: ss's state names and groups (ss.c sstate_namel / ss_state_lookup).
GROUPS = {
    "all": ALL,
    "connected": ALL - {TcpState.LISTEN, TcpState.CLOSE},
    "synchronized": ALL - {TcpState.LISTEN, TcpState.CLOSE, TcpState.SYN_SENT},
    "bucket": BUCKET,
    "big": ALL - BUCKET,
}

#: The single-state names :func:`lookup` takes besides the groups: every word ss's filter
#: takes (but "unknown", state 0, which no socket has) and ss's column names read as words
#: ("estab", "unconn", "listen"...), from the one vocabulary.
_NAMES: Dict[str, TcpState] = {word: TcpState(n) for word, n in SS_STATE_WORDS.items() if n}
_NAMES.update((column.lower(), TcpState(n)) for n, column in SS_STATE.items())

StateSpec = Union[str, int, TcpState, Iterable[Union[str, int, TcpState]]]


def state_names() -> list[str]:
    """Every name :func:`resolve` accepts (besides the enum's own names)."""
    return sorted(set(_NAMES) | set(GROUPS))


def lookup(name: str) -> FrozenSet[TcpState]:
    """One state or group by ss's name (``established``, ``time-wait``, ``connected``...),
    by the enum's name (``TIME_WAIT``) or by ss's column name (``ESTAB``, ``UNCONN``).
    Raises ValueError naming the accepted ones.
    """
    key = name.strip().lower()
    if key in GROUPS:
        return GROUPS[key]
    if key in _NAMES:
        return frozenset({_NAMES[key]})
    enum_name = name.strip().upper().replace("-", "_")
    if enum_name in TcpState.__members__:
        return frozenset({TcpState[enum_name]})
    raise ValueError(
        "unknown state %r; expected one of %s, or a TcpState name" % (name, ", ".join(state_names()))
    )


def resolve(spec: StateSpec) -> FrozenSet[TcpState]:
    """The set of states a ``state=`` argument means: a name, a group, a member, or several."""
    if isinstance(spec, (TcpState, int)) and not isinstance(spec, bool):
        return frozenset({TcpState(int(spec))})
    if isinstance(spec, str):
        return lookup(spec)
    out: set[TcpState] = set()
    try:
        items: List[Any] = list(spec)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError("state= takes a name, a TcpState, or an iterable of them, not %r" % (spec,)) from None
    for item in items:
        if isinstance(item, (str, int)) and not isinstance(item, bool):
            out |= resolve(item)
        else:
            raise TypeError("state= takes names or TcpState members, not %r" % (item,))
    return frozenset(out)
