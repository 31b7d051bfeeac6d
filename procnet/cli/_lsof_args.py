"""``procnet lsof``'s command line: lsof's options as a table, one parser driven by it.

Each option is a :class:`Flag`: how its argument attaches (:class:`Takes`) and a pure
function that returns the :class:`Options` with the argument applied. lsof's spellings:
letters cluster after one ``-`` (``-nP``, ``-tnPi:80``); an option that takes a value
ends the cluster and takes the rest of the word or, when that is empty, the next
argument (``-p1,2``, ``-p 1,2``); ``-i``'s address is optional, so ``-i`` takes the
next argument only when it reads as an address (``-i TCP``, but ``-i /tmp/x`` is ``-i``
and a PATH); whole-word options (``--json``, ``--root DIR`` / ``--root=DIR``, ``-h``,
``-v``) do not cluster. Adding an option is adding a row to :data:`LETTERS` or
:data:`WORDS` (and a line to :data:`USAGE`).

Nothing here reads a file, except that a service name in ``-i :ssh`` is looked up in the
services table (a lookup function can be passed instead, as tests do).
"""

from __future__ import annotations

import enum
import ipaddress
import re
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, FrozenSet, List, NamedTuple, Optional, Sequence, Set, Tuple

USAGE = """\
usage: procnet lsof [-i [46][proto][@host][:port]]... [-U] [-p PID[,PID|^PID]]
                    [-u USER[,USER|^USER]] [-c [^]NAME]... [-d FD[,FD|^FD]] [-a]
                    [-P] [-n] [-t] [--json] [--root DIR] [PATH...]

Open files of processes, as lsof lists them (never opening or stat()ing them).

  -i SPEC   internet sockets: -i, -i4, -i6, -iTCP, -i :22, -i UDP@127.0.0.1:53,
            -i TCP:1-1024,8080, -i @[::1]:443 (repeatable; any -i may match)
  -U        unix sockets
  -p PIDS   processes by pid: -p 1234,5678 or -p ^1234 to exclude
  -u USERS  processes by login name or uid (^ to exclude)
  -c NAME   processes whose name starts with NAME (repeatable); -c ^NAME excludes
  -d FDS    descriptors: -d 0-2,cwd,txt,mem or -d ^0-2 to exclude
  -a        a file must match every selection (default: any)
  -P        numeric ports         -n   numeric host addresses
  -t        pids only, one per line
  --json    one JSON object per row (JSON Lines)
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
    """A command line procnet lsof cannot run; the message says what to write instead."""


# -- -i [46][protocol][@hostname|hostaddr][:service|port] ------------------------------------


class InetSpec(NamedTuple):
    """One ``-i`` argument: every part None when absent."""

    version: Optional[int]
    proto: Optional[str]
    host: Optional[str]
    ports: Optional[Tuple[Tuple[int, int], ...]]


ServicePort = Callable[[str, Optional[str]], Optional[int]]

_PROTO_END = re.compile(r"[@:]")


def parse_inet_spec(text: str, service_port: Optional[ServicePort] = None) -> InetSpec:
    """lsof's ``-i`` address: ``[46][protocol][@hostname|hostaddr][:service|port]``.

    The protocol is TCP or UDP (any case); an IPv6 address is written in brackets
    (``@[::1]``); ports are a comma list of numbers, ranges (``1-1024``) and service
    names. Raises ValueError saying what is accepted.

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
    if proto is not None and proto not in ("tcp", "udp"):
        raise ValueError("-i %s: unknown protocol %r; write TCP or UDP, e.g. -i TCP:22" % (text, proto))
    host: Optional[str] = None
    if s.startswith("@["):
        host, s = _bracketed_host(text, s[2:], version)
    elif s.startswith("@"):
        host, s = _named_host(text, s[1:], version)
    ports: Optional[Tuple[Tuple[int, int], ...]] = None
    if s.startswith(":"):
        ports = tuple(_port_item(text, item, proto, service_port) for item in s[1:].split(","))
        s = ""
    if s:
        raise ValueError("-i %s: unexpected %r; write [46][TCP|UDP][@host][:port]" % (text, s))
    return InetSpec(version, proto, host, ports)


def _bracketed_host(text: str, s: str, version: Optional[int]) -> Tuple[str, str]:
    """``[IPv6]`` after ``@[``: (the address, the text after ``]``)."""
    end = s.find("]")
    if end < 0:
        raise ValueError("-i %s: unterminated [IPv6 address]; write e.g. -i @[::1]:22" % text)
    host = s[:end]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError("-i %s: %r is not an IPv6 address" % (text, host)) from None
    if ip.version != 6:
        raise ValueError("-i %s: brackets hold an IPv6 address; write -i @%s for IPv4" % (text, host))
    if version == 4:
        raise ValueError("-i %s: an IPv6 address with -i4; drop the 4 or use an IPv4 address" % text)
    return host, s[end + 1 :]


def _named_host(text: str, s: str, version: Optional[int]) -> Tuple[str, str]:
    """A host name or IPv4 address after ``@``: (the host, the text from ``:`` on)."""
    end = s.find(":")
    host = s if end < 0 else s[:end]
    if not host:
        raise ValueError("-i %s: empty host after '@'; write e.g. -i @127.0.0.1" % text)
    if not all(c.isalnum() or c in ".-_" for c in host):
        raise ValueError("-i %s: %r is not a host name or IPv4 address (IPv6 goes in brackets)" % (text, host))
    if version == 6:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass  # a name: it may have an IPv6 address
        else:
            raise ValueError("-i %s: an IPv4 address with -i6; drop the 6 or use an IPv6 address" % text)
    return host, "" if end < 0 else s[end:]


def _port_item(text: str, item: str, proto: Optional[str], service_port: Optional[ServicePort]) -> Tuple[int, int]:
    if not item:
        raise ValueError("-i %s: empty port; write e.g. -i :22 or -i :1-1024" % text)
    lo_text, dash, hi_text = item.partition("-")
    if dash and _NUMBER.match(lo_text) and _NUMBER.match(hi_text):
        lo, hi = int(lo_text), int(hi_text)
        if lo > hi or hi > 65535:
            raise ValueError("-i %s: bad port range %r; write LOW-HIGH within 0-65535" % (text, item))
        return lo, hi
    if _NUMBER.match(item):
        port = int(item)
        if port > 65535:
            raise ValueError("-i %s: port %d is above 65535" % (text, port))
        return port, port
    if service_port is None:
        from .._services import service_port as lookup

        service_port = lookup
    found = service_port(item, proto)
    if found is None:
        raise ValueError("-i %s: unknown service %r; write a port number instead" % (text, item))
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
    numeric_ports: bool = False
    numeric_hosts: bool = False
    terse: bool = False
    json: bool = False
    root: Optional[str] = None
    paths: Tuple[str, ...] = ()
    help: bool = False
    version: bool = False

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


def _add_users(o: Options, text: Optional[str]) -> Options:
    yes, no = _id_list("u", text or "", False)
    return replace(o, users=o.users | yes, not_users=o.not_users | no)


def _add_inet(o: Options, text: Optional[str]) -> Options:
    if text is None:
        return replace(o, inet=o.inet + (InetSpec(None, None, None, None),))
    try:
        return replace(o, inet=o.inet + (parse_inet_spec(text),))
    except ValueError as exc:
        raise UsageError(str(exc)) from None


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
    #: ``-`` or ``+`` and the option accepts it (``-iTCP``, ``-i TCP``, ``-i``)
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
}


def parse_args(argv: Sequence[str]) -> Options:
    """lsof's argument conventions: ``-nP``, ``-i:22``, ``-i :22``, ``-p1,2``, ``-tnPi:80``.

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
            return replace(o, paths=o.paths + tuple(args[i:]))
        if arg in WORDS or arg.startswith("--"):
            o, i = _word(o, arg, args, i)
        elif arg.startswith("-") and arg != "-":
            o, i = _letters(o, arg, args, i)
        else:
            o = replace(o, paths=o.paths + (arg,))
    return o


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
        try:
            return flag.apply(o, args[i]), i + 1
        except UsageError:
            pass  # not this option's argument: a PATH after a bare -i
    return flag.apply(o, None), i

