"""``procnet lsof``'s command line: lsof's options as a table, one parser driven by it.

Each option is a :class:`Flag`: how its argument attaches (:class:`Takes`) and a pure
function that returns the :class:`Options` with the argument applied. lsof's spellings:
letters cluster after one ``-`` (``-nP``, ``-tnPi:80``); an option that takes a value
ends the cluster and takes the rest of the word or, when that is empty, the next
argument (``-p1,2``, ``-p 1,2``); the values of ``-i`` and ``-s`` are optional, so they
take the next argument only when it does not start with ``-`` or ``+`` (``-i TCP``; as in
lsof, ``-i /tmp/x`` is a bad address, not a bare ``-i`` and a PATH); ``+d`` / ``+D`` take
a directory; whole-word options (``--json``, ``--root DIR`` / ``--root=DIR``,
``--netns all``, ``-h``, ``-v``) do not cluster. Adding an option is adding a row to
:data:`LETTERS`, :data:`WORDS` or :data:`PLUS` (and a line to :data:`USAGE`).

An argument lsof itself refuses is refused with lsof 4.95's own words (after the program
name) and its exit status 1: :class:`LsofError`, which holds every such message of the
command line, as lsof reports each bad argument before giving up. What only procnet
refuses (an unknown option, a ``-c`` regular expression, ``--root`` without a directory)
is a :class:`UsageError` with exit status 2 and a message saying what to write instead.

Nothing here reads a file, except that a service name in ``-i :ssh`` is looked up in the
services table (a lookup function can be passed instead, as tests do) and a login name in
``-u`` in the password database (:func:`login_uid`), as lsof looks them up.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, FrozenSet, List, Literal, NamedTuple, Optional, Sequence, Set, Tuple, Union

from .._vocab import LSOF_TCP_STATE

USAGE = """\
usage: procnet lsof [-i [46][proto][@host][:port]]... [-s [TCP:STATE[,STATE]]] [-U]
                    [-p PID[,PID|^PID]] [-u USER[,USER|^USER]] [-c [^]NAME]...
                    [-d FD[,FD|^FD]] [-a] [-P] [-n] [-t] [+d DIR] [+D DIR] [--json]
                    [--netns all|PID] [--root DIR] [PATH...]

Open files of processes, as lsof lists them (never opening them).

  -i SPEC   internet sockets: -i, -i4, -i6, -iTCP, -i :22, -i UDP@127.0.0.1:53,
            -i TCP:1-1024,8080, -i @[::1]:443 (repeatable; any -i may match)
  -s TCP:STATE[,STATE]  sockets in these states only: -iTCP -sTCP:LISTEN;
            -sTCP:^LISTEN leaves them out (lsof's names; UDP sockets are
            ESTABLISHED when connected, else CLOSE, as lsof on Linux has them)
  -s        the SIZE column: sizes only, no offsets
  -U        unix sockets
  -p PIDS   processes by pid: -p 1234,5678 or -p ^1234 to exclude
  -u USERS  processes by login name or uid (^ to exclude)
  -c NAME   processes whose name starts with NAME (repeatable); -c ^NAME excludes
  -d FDS    descriptors: -d 0-2,cwd,txt,mem or -d ^0-2 to exclude
  -a        a file must match every selection (default: any)
  -P        numeric ports         -n   numeric host addresses
  -t        pids only, one per line
  +d DIR    files open in DIR and its entries; +D DIR: its whole tree
  --json    one JSON object per row (JSON Lines)
  --netns all|PID  the socket tables of every network namespace, or of PID's
            (a procnet extension; default: procnet's own namespace)
  --root DIR  read this proc root (default: the live one)
  PATH      processes that have PATH open (a file, directory or unix socket path)
"""

# A pid, a port, a descriptor: ASCII digits ("\u00b2".isdigit() is True and int() refuses
# it), and few of them (int() refuses more than 4300 on 3.11+; these need 10 at most).
_NUMBER = re.compile(r"[0-9]{1,10}\Z")

#: the longest process name the kernel keeps (TASK_COMM_LEN 16, with its NUL); lsof
#: refuses a longer -c name as one no process can have
COMM_MAX = 15


class UsageError(Exception):
    """A command line procnet lsof cannot run; the message says what to write instead.
    Exit status 2."""

    status = 2

    @property
    def lines(self) -> Tuple[str, ...]:
        """The messages, one a line (without the program name)."""
        return (str(self),)


class LsofError(UsageError):
    """Arguments lsof itself refuses: lsof's messages, one per bad argument, in the order
    of the command line. Exit status 1, as lsof's."""

    status = 1

    def __init__(self, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self._lines = tuple(lines)

    @property
    def lines(self) -> Tuple[str, ...]:
        return self._lines


# -- -i [46][protocol][@hostname|hostaddr][:service|port] ------------------------------------


class InetSpec(NamedTuple):
    """One ``-i`` argument: every part None when absent."""

    version: Optional[int]
    proto: Optional[str]
    host: Optional[str]
    ports: Optional[Tuple[Tuple[int, int], ...]]


ServicePort = Callable[[str, Optional[str]], Optional[int]]

_PROTO_END = re.compile(r"[@:]")


#: lsof's -i protocols (arg.c enter_network_address)
INET_PROTOS = ("tcp", "udp", "udplite")


def parse_inet_spec(text: str, service_port: Optional[ServicePort] = None) -> InetSpec:
    """lsof's ``-i`` address: ``[46][protocol][@hostname|hostaddr][:service|port]``.

    The protocol is TCP, UDP or UDPLITE (any case); an IPv6 address is written in
    brackets (``@[::1]``); ports are a comma list of numbers, ranges (``1-1024``) and
    service names. A port above 65535 is accepted and matches nothing, as in lsof.
    Raises ValueError with lsof 4.95's message (arg.c enter_network_address).

    >>> parse_inet_spec("4TCP@127.0.0.1:22,80-81")
    InetSpec(version=4, proto='tcp', host='127.0.0.1', ports=((22, 22), (80, 81)))
    """
    s = text
    version: Optional[int] = None
    if s[:1] in ("4", "6"):
        version = int(s[0])
        s = s[1:]
    proto_text = _PROTO_END.split(s, 1)[0]
    proto: Optional[str] = proto_text.lower() or None
    s = s[len(proto_text) :]
    if proto is not None and proto not in INET_PROTOS:
        raise ValueError("unknown protocol name (%s) in: -i %s" % (proto_text, text))
    host: Optional[str] = None
    if s.startswith("@"):
        host, s = _host(text, s[1:], version)
    ports: Optional[Tuple[Tuple[int, int], ...]] = None
    if s:
        if not s.startswith(":") or s == ":":
            raise ValueError("unacceptable port specification in: -i %s" % text)
        items = s[1:].split(",")
        if items[-1] == "":
            items.pop()  # a trailing comma ends the list, as in lsof
        ports = tuple(_port_item(text, item, proto, service_port) for item in items)
    return InetSpec(version, proto, host, ports)


def _host(text: str, s: str, version: Optional[int]) -> Tuple[str, str]:
    """The address or name after ``@``: (the host, the text from ``:`` on)."""
    unacceptable = "unacceptable Internet address in: -i %s" % text
    if s.startswith("["):
        end = s.rfind("]")
        if version == 4:
            raise ValueError("IPv6 addresses are prohibited: -i %s" % text)
        try:
            ip = ipaddress.IPv6Address(s[1:end]) if end > 0 else None
        except ValueError:
            ip = None
        if ip is None:
            raise ValueError(unacceptable)
        # kept as written: lsof refuses [::] and reads [::ffff:a.b.c.d] as IPv4, which
        # inet_match's unmapped comparison makes the same
        return s[1:end], s[end + 1 :]
    end = s.find(":")
    host = s if end < 0 else s[:end]
    if not host:
        raise ValueError(unacceptable)
    if version == 6 and _IPV4.match(host):
        raise ValueError("IPv4 addresses are prohibited: -i %s" % text)
    if not all(c.isalnum() or c in ".-_" for c in host):
        # no resolver knows such a name; lsof's message for one it cannot resolve
        raise ValueError("unknown host name (%s) in: -i %s" % (host, text))
    return host, "" if end < 0 else s[end:]


_IPV4 = re.compile(r"[0-9]{1,3}(\.[0-9]{1,3}){3}\Z")
#: a port or a range as lsof reads one (digits, at most one "-"); 10 digits at most, so
#: that int() never meets a number it refuses (lsof's int would wrap)
_PORTS = re.compile(r"([0-9]{1,10})(?:-([0-9]{0,10}))?\Z")


def _port_item(text: str, item: str, proto: Optional[str], service_port: Optional[ServicePort]) -> Tuple[int, int]:
    """One item of the port list: a number, a range, or a service name (a word that does
    not start with an ASCII digit, ``-`` included: lsof's rule)."""
    if not item:
        raise ValueError("invalid service name: -i %s" % text)
    if "0" <= item[0] <= "9":
        m = _PORTS.match(item)
        if m is None:
            raise ValueError("unacceptable port specification in: -i %s" % text)
        lo = int(m.group(1))
        hi = lo if m.group(2) is None else int(m.group(2) or "0")
        if hi < lo:
            raise ValueError("unacceptable port specification in: -i %s" % text)
        return lo, hi
    if service_port is None:
        from .._services import service_port as lookup

        service_port = lookup
    found = service_port(item, proto)
    if found is None:
        if proto is None:
            raise ValueError("unknown service %s in: -i %s" % (item, text))
        raise ValueError("unknown service %s for %s in: -i %s" % (item, proto, text))
    return int(found), int(found)


def format_inet_spec(spec: InetSpec) -> str:
    """The text :func:`parse_inet_spec` reads back as ``spec`` (for tests and messages)."""
    out = "" if spec.version is None else str(spec.version)
    out += (spec.proto or "").upper()
    if spec.host is not None:
        out += "@[%s]" % spec.host if ":" in spec.host else "@" + spec.host
    if spec.ports is not None:
        out += ":" + ",".join(str(a) if a == b else "%d-%d" % (a, b) for a, b in spec.ports)
    return out


# -- -d [^]fd,... --------------------------------------------------------------------------


class FdSet(NamedTuple):
    """``-d``: descriptor names (``cwd``, ``txt``, ``mem``...) and number ranges, to list
    or, when ``exclude``, to leave out (lsof takes one kind per command line)."""

    names: FrozenSet[str]
    ranges: Tuple[Tuple[int, int], ...]
    exclude: bool

    def holds(self, name: str, number: Optional[int]) -> bool:
        """True when the descriptor (its FD column text, its number if it has one) is in the set."""
        if number is not None:
            return any(lo <= number <= hi for lo, hi in self.ranges)
        return name.strip() in self.names


_FD_RANGE = re.compile(r"[0-9]*-[0-9]*\Z")


def parse_fd_set(text: str) -> FdSet:
    """One ``-d`` list: ``0-2,cwd,txt`` or ``^0-2,^mem``; empty items are skipped, as lsof
    skips them. Raises UsageError.

    >>> parse_fd_set("^0-2,^cwd")
    FdSet(names=frozenset({'cwd'}), ranges=((0, 2),), exclude=True)
    """
    items = [item for item in text.split(",") if item]
    if not items:
        raise UsageError("-d %s: no descriptor in the list; write e.g. -d 0-2,cwd" % text)
    negated = [item.startswith("^") for item in items]
    if any(negated) and not all(negated):
        raise UsageError("-d %s: a list either lists or excludes (^) descriptors; write e.g. -d 0-2 or -d ^0-2" % text)
    exclude = negated[0]
    names: Set[str] = set()
    ranges: List[Tuple[int, int]] = []
    for item in items:
        word = item[1:] if exclude else item
        if _NUMBER.match(word):
            ranges.append((int(word), int(word)))
        elif _FD_RANGE.match(word):
            ranges.append(_fd_range(text, word))
        elif word:
            names.add(word)
        else:
            raise UsageError("-d %s: '^' names no descriptor; write e.g. -d ^0-2" % text)
    return FdSet(frozenset(names), tuple(ranges), exclude)


def _fd_range(text: str, word: str) -> Tuple[int, int]:
    lo_text, _, hi_text = word.partition("-")
    if not (_NUMBER.match(lo_text) and _NUMBER.match(hi_text)):
        raise UsageError("-d %s: %r is not a range; write LOW-HIGH, e.g. -d 0-2" % (text, word))
    lo, hi = int(lo_text), int(hi_text)
    if lo >= hi:  # lsof: "-d FD range's low >= its high"
        raise UsageError("-d %s: in %r the low end is not below the high end; write e.g. -d 0-2" % (text, word))
    return lo, hi


# -- the options ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    """A parsed command line: what to select (see :mod:`procnet.cli._lsof_select`) and
    how to print it. Built by :func:`parse_args` only."""

    #: -i, one per option (a bare -i is the spec with every part None)
    inet: Tuple[InetSpec, ...] = ()
    #: each -i's text as written (for lsof's messages)
    inet_texts: Tuple[str, ...] = field(default=(), compare=False)
    #: -U
    unix: bool = False
    pids: FrozenSet[int] = frozenset()
    not_pids: FrozenSet[int] = frozenset()
    #: login names or uids, as written
    users: FrozenSet[str] = frozenset()
    not_users: FrozenSet[str] = frozenset()
    #: -c: starts of process names
    commands: Tuple[str, ...] = ()
    not_commands: Tuple[str, ...] = ()
    #: -d
    fds: Optional[FdSet] = None
    #: -a: a file must match every selection (else any)
    and_: bool = False
    #: -s TCP:STATE,...: the kernel's TCP state numbers to list, and (``^``) to leave out
    tcp_states: FrozenSet[int] = frozenset()
    not_tcp_states: FrozenSet[int] = frozenset()
    #: -s alone: the SIZE column (sizes only, no offsets)
    size: bool = False
    #: +d DIR / +D DIR: (the directory as written, True for +D's whole tree)
    dirs: Tuple[Tuple[str, bool], ...] = ()
    #: --netns: None (procnet's namespace), "all", or a pid
    netns: Union[None, Literal["all"], int] = None
    numeric_ports: bool = False
    numeric_hosts: bool = False
    terse: bool = False
    json: bool = False
    root: Optional[str] = None
    paths: Tuple[str, ...] = ()
    help: bool = False
    version: bool = False
    #: lsof's messages for the arguments it refuses (parse_args raises them as LsofError)
    errors: Tuple[str, ...] = ()

    @property
    def inet_given(self) -> bool:
        """True when some -i was given (a bare -i included)."""
        return bool(self.inet)


def _id_list(option: str, text: str, numeric: bool) -> Tuple[Set[str], Set[str]]:
    yes: Set[str] = set()
    no: Set[str] = set()
    for item in text.split(","):
        neg = item.startswith("^")
        word = item[1:] if neg else item
        if not word or (numeric and not _NUMBER.match(word)):
            what = "a pid" if numeric else "a login name or uid"
            raise UsageError("-%s %s: %r is not %s; write e.g. -%s 1234,^5678" % (option, text, item, what, option))
        (no if neg else yes).add(word)
    return yes, no


def _add_pids(o: Options, text: Optional[str]) -> Options:
    yes, no = _id_list("p", text or "", True)
    return replace(o, pids=o.pids | {int(p) for p in yes}, not_pids=o.not_pids | {int(p) for p in no})


def login_uid(name: str) -> Optional[int]:
    """The uid of a login name (the password database, as lsof's getpwnam), None when unknown."""
    import pwd

    try:
        return pwd.getpwnam(name).pw_uid
    except (KeyError, UnicodeEncodeError, ValueError):
        return None


def _refuse(o: Options, text: str) -> Options:
    """``o`` with one more of lsof's messages (see :class:`LsofError`)."""
    return replace(o, errors=o.errors + (text,))


def _add_users(o: Options, text: Optional[str]) -> Options:
    yes, no = _id_list("u", text or "", False)
    for item in (text or "").split(","):  # in the order written, as lsof reports them
        name = item[1:] if item.startswith("^") else item
        if not _NUMBER.match(name) and login_uid(name) is None:
            o = _refuse(o, "can't get UID for %s" % name)
    return replace(o, users=o.users | yes, not_users=o.not_users | no)


def _add_inet(o: Options, text: Optional[str]) -> Options:
    if text is None:
        return replace(o, inet=o.inet + (InetSpec(None, None, None, None),), inet_texts=o.inet_texts + ("",))
    try:
        return replace(o, inet=o.inet + (parse_inet_spec(text),), inet_texts=o.inet_texts + (text,))
    except ValueError as exc:
        return _refuse(o, str(exc))


#: lsof's TCP state names (dialects/linux/dsock.c build_IPstates), upper case -> number
TCP_STATE_NUMBERS: Dict[str, int] = {name: number for number, name in LSOF_TCP_STATE.items()}


def _add_states(o: Options, text: Optional[str]) -> Options:
    """``-s PROTO:STATE[,STATE]...`` as lsof 4.95 reads it (arg.c enter_state_spec); ``-s``
    alone asks for the SIZE column. Every bad name is reported, as lsof does."""
    if text is None:
        return replace(o, size=True)
    proto = text[:4].upper()
    if proto not in ("TCP:", "UDP:"):
        return _refuse(o, 'unknown -s protocol: "%s"' % text)
    if not text[4:]:
        return _refuse(o, "no %s state names in: %s" % (proto[:3], text))
    if proto == "UDP:":  # Linux has no UDP state names (lsof keeps UDP's in TCP's numbers)
        return _refuse(o, "no UDP state names available: %s" % text)
    items = text[4:].split(",")
    if items[-1] == "":
        items.pop()  # a trailing comma ends the list
    for item in items:
        o = _add_state(o, text, item)
    return o


def _add_state(o: Options, text: str, item: str) -> Options:
    exclude = item.startswith("^")
    name = item[1:] if exclude else item
    number = TCP_STATE_NUMBERS.get(name.upper())
    if not name:
        return _refuse(o, "NULL TCP state name in: %s" % text)
    if number is None:
        return _refuse(o, "unknown TCP state name: %s" % name)
    if number in (o.not_tcp_states if exclude else o.tcp_states):
        return _refuse(o, "duplicate TCP %sclusion: %s" % ("ex" if exclude else "in", name))
    if exclude:
        return replace(o, not_tcp_states=o.not_tcp_states | {number})
    return replace(o, tcp_states=o.tcp_states | {number})


def _state_conflicts(o: Options) -> Options:
    """lsof's check once every -s is read: a state both listed and left out."""
    for number in sorted(o.tcp_states & o.not_tcp_states):
        o = _refuse(o, "can't include and exclude TCP state: %s" % LSOF_TCP_STATE[number])
    return o


def _add_dir(recursive: bool) -> Callable[[Options, Optional[str]], Options]:
    def apply(o: Options, text: Optional[str]) -> Options:
        if not text or text.startswith(("-", "+")):
            return _refuse(o, "+d not followed by a directory path")  # lsof says +d for +D too
        return replace(o, dirs=o.dirs + ((text, recursive),))

    return apply


def _set_netns(o: Options, text: Optional[str]) -> Options:
    if text == "all":
        return replace(o, netns="all")
    if text is not None and _NUMBER.match(text):
        return replace(o, netns=int(text))
    raise UsageError("--netns takes all or a pid, not %r; write --netns all or --netns 1234" % (text,))


_REGEX = re.compile(r"/.*/[bix]*\Z", re.S)


def _add_command(o: Options, text: Optional[str]) -> Options:
    text = text or ""
    exclude = text.startswith("^")
    name = text[1:] if exclude else text
    if not name:
        raise UsageError("-c %s: no command name; write e.g. -c sshd or -c ^sshd" % text)
    if _REGEX.match(name):
        raise UsageError("-c %s: regular expressions are not supported; write the start of the name, e.g. -c ssh" % text)
    if len(name.encode("utf-8", "surrogateescape")) > COMM_MAX:
        raise UsageError("-c %s: longer than the %d bytes of a process name" % (text, COMM_MAX))
    same, other = (o.not_commands, o.commands) if exclude else (o.commands, o.not_commands)
    if name in other:
        raise UsageError("-c %s conflicts with -c %s%s" % (text, "" if exclude else "^", name))
    if name in same:
        return o
    if exclude:
        return replace(o, not_commands=o.not_commands + (name,))
    return replace(o, commands=o.commands + (name,))


def _add_fds(o: Options, text: Optional[str]) -> Options:
    fds = parse_fd_set(text or "")
    if o.fds is not None:
        if o.fds.exclude != fds.exclude:
            raise UsageError("-d %s: the -d lists either list or exclude (^) descriptors; write one kind" % text)
        fds = FdSet(o.fds.names | fds.names, o.fds.ranges + fds.ranges, fds.exclude)
    return replace(o, fds=fds)


def _setter(name: str) -> Callable[[Options, Optional[str]], Options]:
    change: Dict[str, Any] = {name: True}

    def apply(o: Options, value: Optional[str]) -> Options:
        return replace(o, **change)

    return apply


def _set_root(o: Options, text: Optional[str]) -> Options:
    return replace(o, root=text)


# -- the flag table ----------------------------------------------------------------------------


class Takes(enum.Enum):
    """How an option's argument attaches."""

    #: none (``-a``); letters cluster: ``-nP``
    NOTHING = "nothing"
    #: required: the rest of the word, else the next argument whatever it is (``-p1,2``, ``-p 1,2``)
    VALUE = "value"
    #: optional: the rest of the word, else the next argument when it does not start with
    #: ``-`` or ``+`` (``-iTCP``, ``-i TCP``, ``-i``, ``-s``)
    OPTIONAL = "optional"
    #: a whole-word option's value: the next argument, or after ``=`` (``--root DIR``, ``--root=DIR``)
    NEXT_OR_EQUALS = "next-or-equals"


class Flag(NamedTuple):
    """One option: how its argument attaches, and what it does to the options."""

    takes: Takes
    #: the options with this option applied (the argument, None when there is none);
    #: raises UsageError for an argument it does not accept
    apply: Callable[[Options, Optional[str]], Options]
    #: the message when a required argument is missing
    missing: str = ""


#: Single letters after ``-``; they cluster, and one that takes a value ends the cluster.
LETTERS: Dict[str, Flag] = {
    "i": Flag(Takes.OPTIONAL, _add_inet),
    "U": Flag(Takes.NOTHING, _setter("unix")),
    "p": Flag(Takes.VALUE, _add_pids, "-p needs a list; write e.g. -p 1234"),
    "u": Flag(Takes.VALUE, _add_users, "-u needs a list; write e.g. -u root"),
    "c": Flag(Takes.VALUE, _add_command, "-c needs a command name; write e.g. -c sshd"),
    "d": Flag(Takes.VALUE, _add_fds, "-d needs a list; write e.g. -d 0-2,cwd"),
    "a": Flag(Takes.NOTHING, _setter("and_")),
    "s": Flag(Takes.OPTIONAL, _add_states),
    "P": Flag(Takes.NOTHING, _setter("numeric_ports")),
    "n": Flag(Takes.NOTHING, _setter("numeric_hosts")),
    "t": Flag(Takes.NOTHING, _setter("terse")),
}

_HELP = Flag(Takes.NOTHING, _setter("help"))
_VERSION = Flag(Takes.NOTHING, _setter("version"))

#: Whole arguments; they do not cluster (``-nh`` is an unknown ``-h``).
WORDS: Dict[str, Flag] = {
    "-h": _HELP,
    "--help": _HELP,
    "-?": _HELP,
    "-v": _VERSION,
    "-V": _VERSION,
    "--version": _VERSION,
    "--json": Flag(Takes.NOTHING, _setter("json")),
    "--root": Flag(Takes.NEXT_OR_EQUALS, _set_root, "--root needs a directory; write --root /host/proc"),
    "--netns": Flag(Takes.NEXT_OR_EQUALS, _set_netns, "--netns needs all or a pid; write --netns all"),
}

#: lsof's ``+`` options procnet takes (other words starting with ``+`` are PATHs); their
#: value is the rest of the word or the next argument
PLUS: Dict[str, Flag] = {
    "+d": Flag(Takes.VALUE, _add_dir(False)),
    "+D": Flag(Takes.VALUE, _add_dir(True)),
}


def parse_args(argv: Sequence[str]) -> Options:
    """lsof's argument conventions: ``-nP``, ``-i:22``, ``-i :22``, ``-p1,2``, ``-tnPi:80``.

    Raises :class:`UsageError` at the first option procnet does not know, and
    :class:`LsofError` with every message lsof would print for the arguments it refuses.

    >>> parse_args(["-nPi:80", "-p1,^2"]).not_pids
    frozenset({2})
    """
    o = Options()
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            o = replace(o, paths=o.paths + tuple(args[i:]))
            break
        if arg in WORDS or arg.startswith("--"):
            o, i = _word(o, arg, args, i)
        elif arg.startswith("-") and arg != "-":
            o, i = _letters(o, arg, args, i)
        elif arg[:2] in PLUS:
            o, i = _plus(o, arg, args, i)
        else:
            o = replace(o, paths=o.paths + (arg,))
    o = _state_conflicts(o)
    if o.errors:
        raise LsofError(*o.errors)
    return o


def _plus(o: Options, arg: str, args: List[str], i: int) -> Tuple[Options, int]:
    """``+d DIR`` / ``+D DIR`` (or ``+dDIR``) at ``args[i - 1]``: (the options, the next index)."""
    flag = PLUS[arg[:2]]
    if len(arg) > 2:
        return flag.apply(o, arg[2:]), i
    if i < len(args):
        return flag.apply(o, args[i]), i + 1
    return flag.apply(o, None), i


def _word(o: Options, arg: str, args: List[str], i: int) -> Tuple[Options, int]:
    """A whole-word option at ``args[i - 1]``: (the options, the next index)."""
    flag = WORDS.get(arg)
    if flag is not None and flag.takes is Takes.NOTHING:
        return flag.apply(o, None), i
    if flag is not None:
        if i >= len(args):
            raise UsageError(flag.missing)
        return flag.apply(o, args[i]), i + 1
    name, equals, value = arg.partition("=")
    flag = WORDS.get(name)
    if equals and name.startswith("--") and flag is not None and flag.takes is Takes.NEXT_OR_EQUALS:
        return flag.apply(o, value), i
    raise UsageError("unknown option %s; see 'procnet lsof --help'" % arg)


def _letters(o: Options, arg: str, args: List[str], i: int) -> Tuple[Options, int]:
    """A cluster of letters (``-nPi:80``) at ``args[i - 1]``: (the options, the next index)."""
    j = 1
    while j < len(arg):
        letter = arg[j]
        j += 1
        flag = LETTERS.get(letter)
        if flag is None:
            raise UsageError(
                "unknown option -%s; procnet lsof takes %s --json (see --help)"
                % (letter, " ".join("-" + known for known in LETTERS))
            )
        if flag.takes is Takes.NOTHING:
            o = flag.apply(o, None)
            continue
        return _letter_value(o, flag, arg[j:], args, i)
    return o, i


def _letter_value(o: Options, flag: Flag, attached: str, args: List[str], i: int) -> Tuple[Options, int]:
    """Apply a letter that takes a value: the rest of its word, else the next argument."""
    if attached:
        return flag.apply(o, attached), i
    if flag.takes is Takes.VALUE:
        if i >= len(args):
            raise UsageError(flag.missing)
        return flag.apply(o, args[i]), i + 1
    if i < len(args) and not args[i].startswith(("-", "+")):
        # lsof's rule: the next word is the value unless it starts with - or + (so
        # `-i /tmp/x` is a bad -i address there too, not a bare -i and a PATH)
        return flag.apply(o, args[i]), i + 1
    return flag.apply(o, None), i

