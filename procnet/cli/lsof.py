"""``procnet lsof``: lsof's listing of open files, derived without touching any file.

Supported: ``-i [46][proto][@host][:port[,port|-port]...]`` (repeatable, OR-ed),
``-p PID[,PID|^PID]``, ``-u USER[,USER|^USER]``, ``-a`` (AND the selections instead of
OR), ``-P`` (numeric ports), ``-n`` (numeric hosts), ``-t`` (pids only), ``--json``,
``--root DIR`` and ``PATH...`` (who has this file, directory or unix socket path open).
Columns are lsof's: COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME, sized and
aligned as lsof 4.95 prints them (lib/print.c print_file).

The hard rule: a descriptor's target and a mapped file are never opened nor stat()ed
(a FIFO or a device can block or act on open, a dead network mount hangs a stat).
Everything comes from readlink text, the lstat of the ``fd/<n>`` link itself,
``fdinfo/<n>`` (pos, flags, mnt_id, ino), ``maps`` (device and inode of each mapping),
``mountinfo`` (mount id -> device and file system type) and the socket tables. So, where
lsof stat()s and procnet cannot:

* TYPE of a descriptor naming a path is ``DIR`` when it was opened with O_DIRECTORY,
  ``CHR`` when it lives on a devpts mount (terminals), and ``unknown`` otherwise (lsof
  says REG, CHR, BLK, FIFO or DIR after a stat). ``mem`` rows are ``unknown`` for the
  same reason; ``cwd`` and ``rtd`` are ``DIR`` and ``txt`` ``REG`` by definition.
* SIZE/OFF: the offset (``0t<pos>``, from fdinfo) for every descriptor; lsof prints the
  size of regular files. ``cwd``, ``rtd``, ``txt`` and ``mem`` rows have none.
* DEVICE of a path is the device of the mount holding it (fdinfo's mnt_id, or for cwd and
  rtd the longest mount point prefix); for a character device lsof prints the device's
  own number (rdev), which only a stat gives, so it is left empty. NODE of cwd and rtd
  is empty (only a stat gives it); txt and mem take theirs from ``maps``.
* Locks are not shown (the FD column's third character is always a space).
* unix socket paths are printed whole; lsof 4.95 cuts them at the first blank. Their
  DEVICE is the Num column of /proc/net/unix, as lsof prints it, also where the socket
  came from sock_diag (which has no such address; its cookie is something else); empty
  for a socket that table does not list, as lsof prints a unix socket without one.
* Sockets of another network namespace than procnet's are ``sock`` / "can't identify
  protocol", as lsof prints sockets it cannot find in its tables.
* Text from other processes is escaped as lsof 4.95 escapes it (misc.c safepup), and
  more strictly where lsof prints raw what a terminal does not show
  (:func:`procnet.cli.render.lsof_text`, :func:`~procnet.cli.render.lsof_command`):
  ``\\b \\f \\n \\r \\t``, ``^@``..``^_`` for the other C0 controls, ``\\\\`` for a
  backslash, ``\\xNN`` for DEL and every byte above 0x7f that is not part of a printable
  character (as lsof on x86-64 prints them; where ``char`` is unsigned lsof prints the
  byte 0xff as ``^?``). COMMAND escapes every byte that is not printable ASCII, the
  space as ``\\x20`` (``sshd 1 ro`` cannot pass for pid 1), and is cut at 9 printed
  characters without cutting an escape, the column sized by lsof's own count (which
  counts a byte above 0x7f as 2 and prints 4, so a short non-ASCII name is cut as lsof
  cuts it). In NAME a printable non-ASCII character is kept, as lsof keeps it, except
  the format characters (U+200B, U+202E...), non-ASCII spaces and invisible fillers
  (U+3164, U+2800...) that lsof also prints raw: procnet writes their bytes as ``\\xNN``.
  USER (lsof prints the login name raw) is escaped as NAME, its spaces as ``\\x20``.
  Messages on stderr escape what they quote with :func:`~procnet.cli.render.escape_text`.

Exit status: 0 when something was listed (or nothing was asked for), 1 when a selection
matched nothing, as lsof; 2 for a usage error (lsof exits 1), with a message saying
what to write instead.

``--json`` prints one JSON object per row (JSON Lines) with the keys ``command``, ``pid``,
``user``, ``uid``, ``fd`` (as printed: ``"cwd"``, ``"3"``), ``fd_number`` (int or null),
``mode``, ``type``, ``device``, ``size_off``, ``node``, ``name`` (as printed, escaped),
``path`` (the unescaped readlink or socket path, null when none; ``path_hex`` added when it
is not UTF-8), ``offset`` and ``inode`` (ints or null), ``comm`` (the whole process name,
unescaped; ``comm_hex`` added when it is not UTF-8) and ``socket`` (the socket record as
:func:`procnet.to_jsonable` writes it, or null).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import socket
import sys
from typing import IO, Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Set, Tuple

from .render import (
    HostResolver,
    format_lsof_table,
    lsof_command,
    lsof_command_len,
    lsof_text,
    message,
    port_text,
    resolve_host_address,
)

USAGE = """\
usage: procnet lsof [-i [46][proto][@host][:port]]... [-p PID[,PID|^PID]] [-u USER[,USER|^USER]]
                    [-a] [-P] [-n] [-t] [--json] [--root DIR] [PATH...]

Open files of processes, as lsof lists them (never opening or stat()ing them).

  -i SPEC   internet sockets: -i, -i4, -i6, -iTCP, -i :22, -i UDP@127.0.0.1:53,
            -i TCP:1-1024,8080, -i @[::1]:443 (repeatable; any -i may match)
  -p PIDS   processes by pid: -p 1234,5678 or -p ^1234 to exclude
  -u USERS  processes by login name or uid (^ to exclude)
  -a        a file must match every selection (default: any)
  -P        numeric ports         -n   numeric host addresses
  -t        pids only, one per line
  --json    one JSON object per row (JSON Lines)
  --root DIR  read this proc root (default: the live one)
  PATH      processes that have PATH open (a file, directory or unix socket path)
"""

# A pid, a port: ASCII digits ("\u00b2".isdigit() is True and int() refuses it), and few
# of them (int() refuses more than 4300 on 3.11+; a port or pid needs 10 at most).
_NUMBER = re.compile(r"[0-9]{1,10}\Z")

CMD_LIMIT = 9  # lsof's default CmdLim: COMMAND shows the first 9 printed characters
CMD_TITLE = "COMMAND"
UNKNOWN_COMMAND = "(unknown)"  # lsof's name for a process whose name is empty


# -- -i [46][protocol][@hostname|hostaddr][:service|port] ------------------------------------


class InetSpec(NamedTuple):
    """One ``-i`` argument: every part None when absent."""

    version: Optional[int]
    proto: Optional[str]
    host: Optional[str]
    ports: Optional[Tuple[Tuple[int, int], ...]]


def parse_inet_spec(text: str, service_port: Optional[Any] = None) -> InetSpec:
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
    i = 0
    while i < len(s) and s[i] not in "@:":
        i += 1
    proto: Optional[str] = s[:i].lower() or None
    s = s[i:]
    if proto is not None and proto not in ("tcp", "udp"):
        raise ValueError(
            "-i %s: unknown protocol %r; write TCP or UDP, e.g. -i TCP:22" % (text, s[:0] + proto)
        )
    host: Optional[str] = None
    if s.startswith("@"):
        s = s[1:]
        if s.startswith("["):
            end = s.find("]")
            if end < 0:
                raise ValueError("-i %s: unterminated [IPv6 address]; write e.g. -i @[::1]:22" % text)
            host = s[1:end]
            s = s[end + 1 :]
            try:
                ip6 = ipaddress.ip_address(host)
            except ValueError:
                raise ValueError("-i %s: %r is not an IPv6 address" % (text, host)) from None
            if ip6.version != 6:
                raise ValueError("-i %s: brackets hold an IPv6 address; write -i @%s for IPv4" % (text, host))
            if version == 4:
                raise ValueError("-i %s: an IPv6 address with -i4; drop the 4 or use an IPv4 address" % text)
        else:
            end = s.find(":")
            host = s if end < 0 else s[:end]
            s = "" if end < 0 else s[end:]
            if not host:
                raise ValueError("-i %s: empty host after '@'; write e.g. -i @127.0.0.1" % text)
            if ":" in host or not all(c.isalnum() or c in ".-_" for c in host):
                raise ValueError("-i %s: %r is not a host name or IPv4 address (IPv6 goes in brackets)" % (text, host))
            try:
                ip4 = ipaddress.ip_address(host)
            except ValueError:
                ip4 = None
            if ip4 is not None and version == 6:
                raise ValueError("-i %s: an IPv4 address with -i6; drop the 6 or use an IPv6 address" % text)
    ports: Optional[Tuple[Tuple[int, int], ...]] = None
    if s.startswith(":"):
        items = s[1:].split(",")
        out: List[Tuple[int, int]] = []
        for item in items:
            out.append(_port_item(text, item, proto, service_port))
        ports = tuple(out)
        s = ""
    if s:
        raise ValueError("-i %s: unexpected %r; write [46][TCP|UDP][@host][:port]" % (text, s))
    return InetSpec(version, proto, host, ports)


def _port_item(text: str, item: str, proto: Optional[str], service_port: Optional[Any]) -> Tuple[int, int]:
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


def _ports_match(ports: Tuple[Tuple[int, int], ...], port: int) -> bool:
    return any(lo <= port <= hi for lo, hi in ports)


def _inet_match(spec: InetSpec, rec: Any, hosts: Dict[str, List[Any]]) -> bool:
    if spec.version == 4 and rec.family != socket.AF_INET:
        return False
    if spec.version == 6 and rec.family != socket.AF_INET6:
        return False
    if spec.proto is not None and rec.proto != spec.proto:
        return False
    if spec.host is not None:
        addrs = hosts.get(spec.host, [])
        ends = (rec.local.unmapped_ip, rec.remote.unmapped_ip, rec.local.ip, rec.remote.ip)
        if not any(a == e for a in addrs for e in ends):
            return False
    if spec.ports is not None:
        if not (_ports_match(spec.ports, rec.local.port) or _ports_match(spec.ports, rec.remote.port)):
            return False
    return True


# -- the command line -------------------------------------------------------------------------


class UsageError(Exception):
    """A command line procnet lsof cannot run; the message says what to write instead."""


class Options:
    def __init__(self) -> None:
        self.inet: List[InetSpec] = []
        self.inet_given = False
        self.pids: Set[int] = set()
        self.not_pids: Set[int] = set()
        self.users: Set[str] = set()
        self.not_users: Set[str] = set()
        self.and_ = False
        self.numeric_ports = False
        self.numeric_hosts = False
        self.terse = False
        self.json = False
        self.root: Optional[str] = None
        self.paths: List[str] = []
        self.help = False
        self.version = False


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


def parse_args(argv: Sequence[str]) -> Options:
    """lsof's argument conventions: ``-nP``, ``-i:22``, ``-i :22``, ``-p1,2``, ``-tnPi:80``."""
    o = Options()
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg in ("-h", "--help", "-?"):
            o.help = True
            continue
        if arg in ("-v", "-V", "--version"):
            o.version = True
            continue
        if arg == "--json":
            o.json = True
            continue
        if arg == "--root" or arg.startswith("--root="):
            if arg == "--root":
                if i >= len(args):
                    raise UsageError("--root needs a directory; write --root /host/proc")
                o.root = args[i]
                i += 1
            else:
                o.root = arg[len("--root="):]
            continue
        if arg == "--":
            o.paths.extend(args[i:])
            break
        if not arg.startswith("-") or arg == "-":
            o.paths.append(arg)
            continue
        if arg.startswith("--"):
            raise UsageError("unknown option %s; see 'procnet lsof --help'" % arg)
        j = 1
        while j < len(arg):
            c = arg[j]
            j += 1
            if c in "aPnt":
                if c == "a":
                    o.and_ = True
                elif c == "P":
                    o.numeric_ports = True
                elif c == "n":
                    o.numeric_hosts = True
                else:
                    o.terse = True
                continue
            if c in "ipu":
                value = arg[j:]
                if c == "i":
                    o.inet_given = True
                    if value:
                        try:
                            o.inet.append(parse_inet_spec(value))
                        except ValueError as exc:
                            raise UsageError(str(exc)) from None
                        break
                    if i < len(args) and not args[i].startswith(("-", "+")):
                        try:
                            o.inet.append(parse_inet_spec(args[i]))
                            i += 1
                            break
                        except ValueError:
                            pass  # not an address: a PATH after a bare -i
                    o.inet.append(InetSpec(None, None, None, None))
                    break
                if not value:
                    if i >= len(args):
                        raise UsageError("-%s needs a list; write e.g. -%s %s" % (c, c, "1234" if c == "p" else "root"))
                    value = args[i]
                    i += 1
                if c == "p":
                    yes, no = _id_list("p", value, True)
                    o.pids |= {int(p) for p in yes}
                    o.not_pids |= {int(p) for p in no}
                else:
                    yes, no = _id_list("u", value, False)
                    o.users |= yes
                    o.not_users |= no
                break
            raise UsageError(
                "unknown option -%s; procnet lsof takes -i -p -u -a -P -n -t --json (see --help)" % c
            )
    return o


# -- reading one process ------------------------------------------------------------------------


class Mount(NamedTuple):
    device: str  # "major,minor" as lsof prints it
    fstype: str
    point: str


def parse_mountinfo(data: bytes) -> Dict[int, Mount]:
    """mount id -> (device, fs type, mount point) from ``<pid>/mountinfo`` (proc(5))."""
    out: Dict[int, Mount] = {}
    for raw in data.split(b"\n"):
        fields = raw.split(b" ")
        if len(fields) < 10 or not fields[0].isdigit():
            continue
        try:
            sep = fields.index(b"-", 6)
        except ValueError:
            continue
        major, _, minor = fields[2].partition(b":")
        point = _unoctal(os.fsdecode(fields[4]))
        fstype = os.fsdecode(fields[sep + 1]) if sep + 1 < len(fields) else ""
        out[int(fields[0])] = Mount("%s,%s" % (major.decode(), minor.decode()), fstype, point)
    return out


def _unoctal(text: str) -> str:
    if "\\" not in text:
        return text
    out = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and text[i + 1 : i + 4].isdigit() and len(text[i + 1 : i + 4]) == 3:
            out.append(chr(int(text[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def mount_of_path(mounts: Dict[int, Mount], path: str) -> Optional[Mount]:
    """The mount whose point is the longest prefix of ``path`` (the last mounted on ties)."""
    best: Optional[Mount] = None
    best_len = -1
    for mid in sorted(mounts):
        m = mounts[mid]
        p = m.point
        if path == p or p == "/" or path.startswith(p.rstrip("/") + "/"):
            if len(p) >= best_len:
                best, best_len = m, len(p)
    return best


class MapEntry(NamedTuple):
    device: str
    inode: int
    path: str
    deleted: bool


def parse_maps(data: bytes) -> List[MapEntry]:
    """File-backed mappings of ``<pid>/maps``, first occurrence of each (device, inode)."""
    seen: Set[Tuple[str, int]] = set()
    out: List[MapEntry] = []
    for raw in data.split(b"\n"):
        parts = raw.split(None, 5)
        if len(parts) < 6 or not parts[5].startswith(b"/"):
            continue
        try:
            inode = int(parts[4])
            major, minor = (int(x, 16) for x in parts[3].split(b":"))
        except ValueError:
            continue
        if inode == 0:
            continue
        device = "%d,%d" % (major, minor)
        if (device, inode) in seen:
            continue
        seen.add((device, inode))
        path = os.fsdecode(parts[5])
        deleted = path.endswith(" (deleted)")
        out.append(MapEntry(device, inode, path[: -len(" (deleted)")] if deleted else path, deleted))
    return out


_O_DIRECTORY = 0o200000  # include/uapi/asm-generic/fcntl.h (x86, arm, most)

_TCP_STATE_NAMES = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2",
                    6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN",
                    11: "CLOSING"}
_UNIX_TYPES: Dict[int, str] = {int(socket.SOCK_STREAM): "STREAM", int(socket.SOCK_DGRAM): "DGRAM", int(socket.SOCK_SEQPACKET): "SEQPACKET"}
_UNIX_STATUS = {0: "UNKNOWN", 1: "UNCONNECTED", 2: "CONNECTING", 3: "CONNECTED", 4: "DISCONNECTING"}


class Lister:
    """Builds lsof's rows for processes, with the socket tables read once."""

    def __init__(self, o: Options, fs: Any) -> None:
        self.o = o
        self.fs = fs
        self.resolver = None if o.numeric_hosts else HostResolver()
        self._sockets: Optional[Dict[int, Any]] = None
        self._unix_pointers: Optional[Dict[int, str]] = None
        self._mounts: Dict[str, Dict[int, Mount]] = {}

    # names
    def host(self, ip: Any) -> str:
        if ip.is_unspecified:
            return "*"
        name = self.resolver.name(ip) if self.resolver is not None else None
        if name is not None:
            return lsof_text(name)
        from .._records import ip_text

        return "[%s]" % ip_text(ip) if ip.version == 6 else str(ip)

    def endpoint(self, ep: Any, proto: str) -> str:
        if ep.port == 0:
            port = "*"
        else:
            port = port_text(ep.port, proto if proto in ("tcp", "udp") else "tcp", self.o.numeric_ports)
        return "%s:%s" % (self.host(ep.ip), lsof_text(port))

    def inet_name(self, rec: Any) -> str:
        name = self.endpoint(rec.local, rec.proto)
        if not (rec.remote.ip.is_unspecified and rec.remote.port == 0):
            name += "->" + self.endpoint(rec.remote, rec.proto)
        if rec.proto == "tcp":
            return name + " (%s)" % _TCP_STATE_NAMES.get(int(rec.state), "UNKNOWN")
        return name + " "  # lsof 4.95 leaves the state of a datagram socket empty

    # tables
    def sockets(self) -> Dict[int, Any]:
        if self._sockets is None:
            from .._query import Query

            self._sockets = {}
            # backend auto: on the live machine sock_diag gives unix paths whole (a path with
            # a newline is cut in /proc/net/unix, and can forge a row there).
            for rec in Query("all", owners=False, root=self.fs.root).run():
                if rec.inode:
                    self._sockets.setdefault(rec.inode, rec)
        return self._sockets

    def socket_row(self, inode: int, rec: Any, mount: Optional[Mount]) -> Dict[str, Any]:
        if rec is None:
            return {"type": "sock", "device": mount.device if mount else "", "size_off": "0t0",
                    "node": str(inode), "name": "can't identify protocol", "socket": None}
        if rec.proto == "unix":
            state = "LISTEN" if rec.is_listening else _UNIX_STATUS.get(int(rec.status), "UNKNOWN")
            kind = _UNIX_TYPES.get(rec.type, str(rec.type))
            name = "type=%s (%s)" % (kind, state)
            if rec.path is not None:
                name = lsof_text(rec.path) + " " + name
            pointer = rec.pointer if rec.pointer is not None else self.unix_pointers().get(inode)
            return {"type": "unix", "device": "" if pointer is None else "0x" + lsof_text(pointer),
                    "size_off": "0t0", "node": str(inode), "name": name, "socket": rec, "path": rec.path}
        return {"type": "IPv4" if rec.family == socket.AF_INET else "IPv6", "device": str(inode),
                "size_off": "0t0", "node": rec.proto.upper(), "name": self.inet_name(rec), "socket": rec}

    def unix_pointers(self) -> Dict[int, str]:
        """inode -> the Num column of /proc/net/unix, which lsof prints as a unix socket's
        DEVICE. Read only when a record has no pointer (one from sock_diag, which has
        none): the first row of an inode counts, as in lsof (dialects/linux/dsock.c
        get_unix). A socket the text does not list (it came after the read) gets no
        DEVICE, as lsof prints a unix socket it has no PCB address for."""
        if self._unix_pointers is None:
            from .._errors import ProcNetError
            from .._parse.unix import parse_unix

            pointers: Dict[int, str] = {}
            try:
                data = self.fs.read_net_table("unix")
            except (ProcNetError, OSError):
                data = None
            if data is not None:
                for rec in parse_unix(data, on_error=lambda error: None):
                    if rec.pointer is not None:
                        pointers.setdefault(rec.inode, rec.pointer)
            self._unix_pointers = pointers
        return self._unix_pointers

    def mounts(self, proc: Any) -> Dict[int, Mount]:
        from .._errors import ProcNetError

        try:
            key = proc.readlink("ns/mnt")
        except ProcNetError:
            key = "pid:%d" % proc.pid
        if key not in self._mounts:
            try:
                self._mounts[key] = parse_mountinfo(proc.read("mountinfo"))
            except ProcNetError:
                self._mounts[key] = {}
        return self._mounts[key]

    # one process
    def process_rows(self, pid: int, wanted_fds: Optional[Set[int]] = None, only_sockets: bool = False) -> List[Dict[str, Any]]:
        """Every file of ``pid`` as lsof lists it; [] when the process went away."""
        from .._errors import ProcNetError
        from .._parse.process import (
            mode_from_flags,
            mode_from_link_mode,
            parse_comm,
            parse_fdinfo,
            socket_inode,
            status_uids,
        )
        from .._proc import Denied, Gone

        fs = self.fs
        try:
            proc = fs.process(pid)
        except (Gone, Denied):
            return []
        rows: List[Dict[str, Any]] = []
        with proc:
            try:
                comm = parse_comm(proc.read("comm"))
            except Gone:
                return []
            except ProcNetError:
                comm = "?"
            uid: Optional[int] = None
            try:
                uid = status_uids(proc.read("status"))[1]
            except (ProcNetError, ValueError):
                uid = None
            user = _user_name(uid)
            base = {"command": lsof_command(comm or UNKNOWN_COMMAND, CMD_LIMIT), "pid": pid, "user": user,
                    "uid": uid, "comm": comm}
            mounts = self.mounts(proc) if not only_sockets else {}

            def add(fd: str, **kw: Any) -> None:
                row = dict(base)
                row.update({"fd": fd, "fd_number": None, "mode": "", "lock": "", "type": "", "device": "",
                            "size_off": "", "node": "", "name": "", "path": None, "offset": None,
                            "inode": None, "socket": None})
                row.update(kw)
                rows.append(row)

            maps: List[MapEntry] = []
            if not only_sockets:
                try:
                    maps = parse_maps(proc.read("maps"))
                except ProcNetError:
                    maps = []
                for fd, link in (("cwd", "cwd"), ("rtd", "root"), ("txt", "exe")):
                    try:
                        target = proc.readlink(link)
                    except Denied as exc:
                        add(fd, type="unknown",
                            name=lsof_text("%s/%s (readlink: %s)" % (proc.path, link, _reason(exc))))
                        continue
                    except ProcNetError:
                        add(fd, type="unknown", name=lsof_text("%s/%s" % (proc.path, link)))
                        continue
                    if fd == "txt":
                        entry = next((m for m in maps if m.path == target or m.path + " (deleted)" == target), None)
                        add(fd, type="REG", device=entry.device if entry else "", node=str(entry.inode) if entry else "",
                            name=lsof_text(target), path=target, inode=entry.inode if entry else None)
                    else:
                        m = mount_of_path(mounts, target)
                        add(fd, type="DIR", device=m.device if m else "", name=lsof_text(target), path=target)
                exe = next((r for r in rows if r["fd"] == "txt" and r["inode"] is not None), None)
                for entry in maps:
                    if exe is not None and entry.inode == exe["inode"] and entry.device == exe["device"]:
                        continue
                    add("DEL" if entry.deleted else "mem", type="unknown", device=entry.device, node=str(entry.inode),
                        name=lsof_text(entry.path), path=entry.path, inode=entry.inode)
            try:
                names = proc.fds()
            except Denied as exc:
                add("NOFD", name=lsof_text("%s/fd (opendir: %s)" % (proc.path, _reason(exc))))
                return rows
            except ProcNetError:
                return rows
            # ASCII digits only: "\u00b2".isdigit() is True and int() refuses it (a bundle's names)
            for name in sorted((n for n in names if n.isascii() and n.isdigit()), key=int):
                fdn = int(name)
                if wanted_fds is not None and fdn not in wanted_fds:
                    continue
                fdtext = "%4d" % fdn
                try:
                    target = proc.fd_target(name)
                except Denied as exc:
                    add(fdtext, fd_number=fdn, type="unknown",
                        name=lsof_text("%s/fd/%s (readlink: %s)" % (proc.path, name, _reason(exc))))
                    continue
                except ProcNetError:
                    continue
                if target is None:
                    continue
                if only_sockets and not target.startswith("socket:["):
                    continue
                info: Dict[str, str] = {}
                try:
                    info = parse_fdinfo(proc.read("fdinfo/" + name))
                except (ProcNetError, ValueError):
                    info = {}
                mode = ""
                try:
                    st_mode = proc.fd_link_mode(name)
                except ProcNetError:
                    st_mode = None
                if st_mode is not None:
                    mode = mode_from_link_mode(st_mode) or ""
                flags = _octal(info.get("flags"))
                if not mode and flags is not None:
                    mode = mode_from_flags(flags)
                pos = _int(info.get("pos"))
                mount = mounts.get(_int(info.get("mnt_id")) or -1) if mounts else None
                ino = _int(info.get("ino"))
                common = {"fd_number": fdn, "mode": mode, "offset": pos}
                inode = socket_inode(target)  # ASCII digits, at most 20 (a bundle's link is any text)
                if inode is not None:
                    rec = self.sockets().get(inode)
                    kw = self.socket_row(inode, rec, mount)
                    add(fdtext, inode=inode, **common, **kw)
                elif target.startswith("pipe:[") and target.endswith("]"):
                    add(fdtext, type="FIFO", device=mount.device if mount else "", size_off="0t%d" % (pos or 0),
                        node=lsof_text(target[6:-1]), name="pipe", inode=_int(target[6:-1]), **common)
                elif target.startswith("anon_inode:"):
                    add(fdtext, type="a_inode", device=mount.device if mount else "", size_off="0",
                        node=str(ino) if ino is not None else "", name=lsof_text(target[len("anon_inode:"):]),
                        inode=ino, **common)
                elif target.startswith("/"):
                    kind = "unknown"
                    device = mount.device if mount else ""
                    if flags is not None and flags & _O_DIRECTORY:
                        kind = "DIR"
                    elif mount is not None and mount.fstype == "devpts" and target != mount.point:
                        kind, device = "CHR", ""
                    add(fdtext, type=kind, device=device, size_off="0t%d" % pos if pos is not None else "",
                        node=str(ino) if ino is not None else "", name=lsof_text(target), path=target,
                        inode=ino, **common)
                else:
                    add(fdtext, type="unknown", device=mount.device if mount else "",
                        size_off="0t%d" % pos if pos is not None else "", node=str(ino) if ino is not None else "",
                        name=lsof_text(target), path=target, inode=ino, **common)
        return rows


def _reason(exc: Exception) -> str:
    """The error's own words (``Permission denied``), as lsof prints them after ``readlink:``."""
    strerror = getattr(exc, "strerror", None)
    if isinstance(strerror, str) and strerror:
        return strerror
    text = str(exc)
    return text.rsplit(": ", 1)[-1] if ": " in text else text


def _int(text: Optional[str]) -> Optional[int]:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _octal(text: Optional[str]) -> Optional[int]:
    if text is None:
        return None
    try:
        return int(text, 8)
    except ValueError:
        return None


_USERS: Dict[int, str] = {}


def _user_name(uid: Optional[int]) -> str:
    """lsof's USER: the login name, else the uid right-aligned in 8 (lsof's USERPRTL)."""
    if uid is None:
        return ""
    if uid not in _USERS:
        try:
            import pwd

            _USERS[uid] = lsof_text(pwd.getpwuid(uid).pw_name).replace(" ", "\\x20")
        except (KeyError, ImportError):
            _USERS[uid] = "%8d" % uid
    return _USERS[uid]


def _user_matches(users: Set[str], row: Dict[str, Any]) -> bool:
    return row["user"].strip() in users or (row["uid"] is not None and str(row["uid"]) in users)


def _path_matches(paths: Iterable[str], row: Dict[str, Any]) -> bool:
    path = row.get("path")
    if path is None:
        return False
    for p in paths:
        if path == p or path == p + " (deleted)":
            return True
    return False


def collect(o: Options, fs: Any, err: IO[str]) -> Tuple[List[Dict[str, Any]], bool]:
    """The rows to print, and whether every search argument found something."""
    lister = Lister(o, fs)
    paths = [os.path.abspath(p) for p in o.paths]
    hosts: Dict[str, List[Any]] = {}
    for spec in o.inet:
        if spec.host is not None and spec.host not in hosts:
            try:
                hosts[spec.host] = resolve_host_address(spec.host)
            except ValueError as exc:
                err.write(message("procnet lsof", str(exc)))
                hosts[spec.host] = []
    process_sel = bool(o.pids or o.users)
    any_sel = process_sel or o.inet_given or bool(paths)
    only_inet = o.inet_given and not process_sel and not paths
    if o.pids and (o.and_ or not (o.inet_given or o.users or paths)):
        candidates = sorted(o.pids)
    else:
        candidates = fs.pids()
    rows: List[Dict[str, Any]] = []
    found_pids: Set[int] = set()
    if only_inet:
        # Only sockets are asked for: read only the descriptors that hold an inet socket.
        table = lister.sockets()
        inet_inodes = {i for i, r in table.items() if r.proto != "unix" and any(_inet_match(s, r, hosts) for s in o.inet)}
        from .._owners import scan

        index = scan(fs, inodes=inet_inodes, pids=None)
        by_pid: Dict[int, Set[int]] = {}
        for inode in inet_inodes:
            for owner in index.get(inode):
                if owner.tid is None:
                    by_pid.setdefault(owner.pid, set()).add(owner.fd)
        for pid in sorted(by_pid):
            if pid in o.not_pids:
                continue
            for row in lister.process_rows(pid, wanted_fds=by_pid[pid], only_sockets=True):
                rec = row.get("socket")
                if rec is not None and rec.proto != "unix" and any(_inet_match(s, rec, hosts) for s in o.inet):
                    if o.not_users and _user_matches(o.not_users, row):
                        continue
                    rows.append(row)
        return rows, bool(rows)
    for pid in candidates:
        if pid in o.not_pids:
            continue
        for row in lister.process_rows(pid):
            if o.not_users and _user_matches(o.not_users, row):
                continue
            checks: List[bool] = []
            if o.pids:
                checks.append(pid in o.pids)
            if o.users:
                checks.append(_user_matches(o.users, row))
            if o.inet_given:
                rec = row.get("socket")
                checks.append(rec is not None and rec.proto != "unix" and any(_inet_match(s, rec, hosts) for s in o.inet))
            if paths:
                checks.append(_path_matches(paths, row))
            if not any_sel or (all(checks) if o.and_ else any(checks)):
                rows.append(row)
                found_pids.add(pid)
    complete = bool(rows) or not any_sel
    if o.pids and not o.and_ and (o.pids - found_pids):
        complete = False
    return rows, complete


def run(argv: Sequence[str], out: IO[str], err: IO[str]) -> int:
    """The whole command, writing to ``out``/``err``; returns the exit status."""
    try:
        o = parse_args(argv)
    except UsageError as exc:
        err.write(message("procnet lsof", str(exc)))
        return 2
    if o.help:
        out.write(USAGE)
        return 0
    if o.version:
        from .. import __version__

        out.write("procnet lsof %s (lsof's output)\n" % __version__)
        return 0
    from .._errors import ProcNetError
    from .._proc import ProcFS

    try:
        fs = ProcFS(o.root) if o.root else ProcFS()
    except (TypeError, ValueError) as exc:
        err.write(message("procnet lsof", str(exc)))
        return 2
    try:
        rows, complete = collect(o, fs, err)
    except BrokenPipeError:
        raise
    except (ProcNetError, OSError) as exc:
        # a file of the proc root (a bundle's, say) that cannot be read: its name escaped
        err.write(message("procnet lsof", str(exc)))
        return 1
    if o.terse:
        for pid in sorted({r["pid"] for r in rows}):
            out.write("%d\n" % pid)
    elif o.json:
        from .._json import to_jsonable

        for r in rows:
            obj = {k: r[k] for k in ("command", "pid", "user", "uid", "mode", "type", "device", "size_off",
                                     "node", "name", "offset", "inode", "fd_number")}
            # the whole process name, exact (COMMAND is lsof's escaped 9-character column)
            obj["comm"] = to_jsonable(r["comm"])
            if obj["comm"] != r["comm"]:
                obj["comm_hex"] = os.fsencode(r["comm"]).hex()
            obj["user"] = obj["user"].strip()
            obj["fd"] = r["fd"].strip()
            path = r.get("path")
            obj["path"] = to_jsonable(path) if path is not None else None
            if path is not None and obj["path"] != path:
                obj["path_hex"] = os.fsencode(path).hex()
            obj["socket"] = to_jsonable(r["socket"]) if r.get("socket") is not None else None
            out.write(json.dumps(obj, sort_keys=True) + "\n")
    else:
        # lsof's print_file: COMMAND is as wide as its longest name by lsof's count, at most
        # CMD_LIMIT, and every name is cut to that width
        names = [r["comm"] or UNKNOWN_COMMAND for r in rows]
        width = max([len(CMD_TITLE)] + [min(lsof_command_len(n), CMD_LIMIT) for n in names])
        table = [{k: str(r[k]) for k in ("pid", "user", "fd", "mode", "lock", "type", "device",
                                          "size_off", "node", "name")} for r in rows]
        for cells, name in zip(table, names):
            cells["command"] = lsof_command(name, width)
        out.write(format_lsof_table(table, command_width=width))
    return 0 if complete and (rows or not (o.inet_given or o.pids or o.users or o.paths)) else 1


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``procnet lsof ARGS``; returns the exit status."""
    return run(sys.argv[1:] if argv is None else argv, sys.stdout, sys.stderr)
