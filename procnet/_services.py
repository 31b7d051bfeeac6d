"""Port vocabulary: the range a port belongs to, and service names.

Service names come from ``/etc/services`` where the file exists, read once and cached;
where it does not (many slim container images), from a table built into procnet that holds
the well-known services users meet. Lookups follow the C library's ``getservbyport`` and
``getservbyname``: the *first* line of the file that matches wins, which is the name
``ss`` and ``lsof`` print (``80/tcp`` is ``http``, not its alias ``www``).

:func:`parse_services` is pure (text in, table out); the only I/O in this module is the
one lazy read of the file, whose path is a parameter.
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Mapping, Optional, Tuple

#: Where the C library reads service names from.
SERVICES_PATH = "/etc/services"

#: The IANA port ranges (RFC 6335), with the names the seed notes use.
SYSTEM_PORTS = range(0, 1024)
REGISTERED_PORTS = range(1024, 49152)
DYNAMIC_PORTS = range(49152, 65536)


def port_range(port: int) -> str:
    """The IANA range of ``port``: ``"system"`` (0-1023, the well-known ports),
    ``"registered"`` (1024-49151) or ``"dynamic"`` (49152-65535, private/ephemeral).

    >>> port_range(22), port_range(8080), port_range(50000)
    ('system', 'registered', 'dynamic')

    Raises :class:`ValueError` for a number that is not a port (outside 0-65535) and
    :class:`TypeError` for a value that is not an int.
    """
    if isinstance(port, bool) or not isinstance(port, int):
        raise TypeError("a port is an int from 0 to 65535, not %r" % (port,))
    if port < 0 or port > 65535:
        raise ValueError("a port is a number from 0 to 65535, not %d" % port)
    if port < 1024:
        return "system"
    if port < 49152:
        return "registered"
    return "dynamic"


class ServiceTable:
    """Service names by (port, protocol) and ports by (name or alias, protocol).

    Built by :func:`parse_services` or :meth:`from_entries`; immutable after that. For
    each key the first entry wins, as in ``getservbyport``/``getservbyname``.
    """

    __slots__ = ("_by_port", "_by_name", "_by_name_any")

    def __init__(self) -> None:
        self._by_port: Dict[Tuple[int, str], str] = {}
        self._by_name: Dict[Tuple[str, str], int] = {}
        self._by_name_any: Dict[str, int] = {}

    @classmethod
    def from_entries(cls, entries: Iterable[Tuple[str, int, str, Tuple[str, ...]]]) -> ServiceTable:
        """A table from ``(name, port, proto, aliases)`` tuples, in file order."""
        table = cls()
        for name, port, proto, aliases in entries:
            table._by_port.setdefault((port, proto), name)
            for word in (name,) + tuple(aliases):
                table._by_name.setdefault((word, proto), port)
                table._by_name_any.setdefault(word, port)
        return table

    def name(self, port: int, proto: str = "tcp") -> Optional[str]:
        """The first name listed for ``port``/``proto``, or None."""
        return self._by_port.get((port, proto))

    def port(self, name: str, proto: Optional[str] = "tcp") -> Optional[int]:
        """The port of ``name`` (a name or an alias, case-sensitive) for ``proto``
        (``None``: any protocol, the first line naming it), or None."""
        if proto is None:
            return self._by_name_any.get(name)
        return self._by_name.get((name, proto))

    def __len__(self) -> int:
        return len(self._by_port)

    def __repr__(self) -> str:
        return "<ServiceTable %d ports>" % len(self._by_port)


def parse_services(text: str) -> ServiceTable:
    """Parse the text of an ``/etc/services`` file (services(5)).

    Each line is ``name port/protocol [aliases...]``; ``#`` starts a comment; a line that
    does not have that shape is skipped, as the C library skips it.

    >>> t = parse_services("http 80/tcp www # WorldWideWeb\\nhttp 80/udp\\n")
    >>> t.name(80, "tcp"), t.port("www", "tcp"), t.port("http", "udp")
    ('http', 80, 80)
    """
    entries: List[Tuple[str, int, str, Tuple[str, ...]]] = []
    # Split on "\n" only (a stray "\r" is whitespace to us, as to the C library's parser).
    for line in text.split("\n"):
        hash_at = line.find("#")
        if hash_at >= 0:
            line = line[:hash_at]
        fields = line.split()
        if len(fields) < 2:
            continue
        port_text, slash, proto = fields[1].partition("/")
        # At most 5 ASCII digits: a port is 0-65535 (and int() refuses 4300+ digits).
        if not slash or not proto or not port_text.isdigit() or not port_text.isascii() or len(port_text) > 5:
            continue
        port = int(port_text)
        if port > 65535:
            continue
        entries.append((fields[0], port, proto, tuple(fields[2:])))
    return ServiceTable.from_entries(entries)


# The well-known services: the seed notes' (ftp, ssh, dns, dhcp, http, https, openvpn,
# pptp) and the ones ss users meet most, with the names Debian's and IANA's
# /etc/services give them (first name first), so that procnet prints what ss prints
# on a machine that has the file.
_BUILTIN: Tuple[Tuple[str, int, str, Tuple[str, ...]], ...] = (
    ("ftp-data", 20, "tcp", ()),
    ("ftp", 21, "tcp", ()),
    ("ssh", 22, "tcp", ()),
    ("telnet", 23, "tcp", ()),
    ("smtp", 25, "tcp", ("mail",)),
    ("domain", 53, "tcp", ("dns",)),
    ("domain", 53, "udp", ("dns",)),
    ("bootps", 67, "udp", ("dhcp", "dhcps")),
    ("bootpc", 68, "udp", ("dhcpc",)),
    ("tftp", 69, "udp", ()),
    ("http", 80, "tcp", ("www",)),
    ("kerberos", 88, "tcp", ("kerberos5", "krb5", "kerberos-sec")),
    ("kerberos", 88, "udp", ("kerberos5", "krb5", "kerberos-sec")),
    ("pop3", 110, "tcp", ("pop-3",)),
    ("sunrpc", 111, "tcp", ("portmapper",)),
    ("sunrpc", 111, "udp", ("portmapper",)),
    ("auth", 113, "tcp", ("authentication", "tap", "ident")),
    ("nntp", 119, "tcp", ("readnews", "untp")),
    ("ntp", 123, "udp", ()),
    ("netbios-ns", 137, "udp", ()),
    ("netbios-dgm", 138, "udp", ()),
    ("netbios-ssn", 139, "tcp", ()),
    ("imap2", 143, "tcp", ("imap",)),
    ("snmp", 161, "tcp", ()),
    ("snmp", 161, "udp", ()),
    ("snmp-trap", 162, "tcp", ("snmptrap",)),
    ("snmp-trap", 162, "udp", ("snmptrap",)),
    ("bgp", 179, "tcp", ()),
    ("ldap", 389, "tcp", ()),
    ("ldap", 389, "udp", ()),
    ("https", 443, "tcp", ()),
    ("https", 443, "udp", ()),
    ("microsoft-ds", 445, "tcp", ()),
    ("submissions", 465, "tcp", ("ssmtp", "smtps", "urd")),
    ("isakmp", 500, "udp", ()),
    ("shell", 514, "tcp", ("cmd",)),
    ("syslog", 514, "udp", ()),
    ("printer", 515, "tcp", ("spooler",)),
    ("submission", 587, "tcp", ()),
    ("ipp", 631, "tcp", ()),
    ("ldaps", 636, "tcp", ()),
    ("ldaps", 636, "udp", ()),
    ("rsync", 873, "tcp", ()),
    ("imaps", 993, "tcp", ()),
    ("pop3s", 995, "tcp", ()),
    ("socks", 1080, "tcp", ()),
    ("openvpn", 1194, "tcp", ()),
    ("openvpn", 1194, "udp", ()),
    ("ms-sql-s", 1433, "tcp", ()),
    ("l2f", 1701, "udp", ("l2tp",)),
    ("pptp", 1723, "tcp", ()),
    ("radius", 1812, "tcp", ()),
    ("radius", 1812, "udp", ()),
    ("radius-acct", 1813, "tcp", ("radacct",)),
    ("radius-acct", 1813, "udp", ("radacct",)),
    ("nfs", 2049, "tcp", ()),
    ("nfs", 2049, "udp", ()),
    ("mysql", 3306, "tcp", ()),
    ("ms-wbt-server", 3389, "tcp", ()),
    ("epmd", 4369, "tcp", ()),
    ("ipsec-nat-t", 4500, "udp", ()),
    ("sip", 5060, "tcp", ()),
    ("sip", 5060, "udp", ()),
    ("xmpp-client", 5222, "tcp", ("jabber-client",)),
    ("mdns", 5353, "udp", ()),
    ("postgresql", 5432, "tcp", ("postgres",)),
    ("amqp", 5672, "tcp", ()),
    ("x11", 6000, "tcp", ("x11-0",)),
    ("redis", 6379, "tcp", ()),
    ("http-alt", 8080, "tcp", ("webcache",)),
)

#: The table built into procnet, used where there is no services file.
BUILTIN = ServiceTable.from_entries(_BUILTIN)

# One table per path, read on first use. A race between two threads reads the file twice
# and keeps the first result: harmless, and cheaper at import than a lock.
_cache: Dict[str, Optional[ServiceTable]] = {}


def load_services(path: str = SERVICES_PATH) -> Optional[ServiceTable]:
    """The table in the services file at ``path``, or None when it cannot be read.

    Read once per path and cached for the life of the process (the C library also reads
    it once); :func:`clear_cache` forgets it.
    """
    if path in _cache:
        return _cache[path]
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        table: Optional[ServiceTable] = None
    else:
        table = parse_services(data.decode("utf-8", "surrogateescape"))
    return _cache.setdefault(path, table)


def clear_cache() -> None:
    """Forget every services file read so far (the next lookup reads it again)."""
    _cache.clear()


def services(path: str = SERVICES_PATH) -> ServiceTable:
    """The table lookups use: the file at ``path`` when it exists, else :data:`BUILTIN`."""
    table = load_services(path)
    return BUILTIN if table is None else table


def service_name(port: int, proto: str = "tcp", *, path: str = SERVICES_PATH) -> Optional[str]:
    """The service name of ``port``/``proto`` (``"tcp"``, ``"udp"``...), or None.

    From the services file at ``path`` where it exists (the first line listing the port,
    as ``getservbyport`` and so ``ss`` pick it), else from the built-in table. A file that
    exists but does not list the port gives None, as it does for ss.

    >>> service_name(22, "tcp", path="/nonexistent")
    'ssh'
    """
    return services(path).name(port, proto)


def service_port(name: str, proto: Optional[str] = "tcp", *, path: str = SERVICES_PATH) -> Optional[int]:
    """The port of service ``name`` (or one of its aliases) for ``proto``, or None.

    ``proto=None`` accepts any protocol. Same sources as :func:`service_name`.

    >>> service_port("https", "tcp", path="/nonexistent")
    443
    """
    return services(path).port(name, proto)


def builtin_entries() -> Mapping[Tuple[int, str], str]:
    """The built-in table as ``{(port, proto): name}`` (first name per port)."""
    return {(port, proto): BUILTIN.name(port, proto) or name for name, port, proto, _ in _BUILTIN}


__all__ = [
    "BUILTIN",
    "DYNAMIC_PORTS",
    "REGISTERED_PORTS",
    "SERVICES_PATH",
    "SYSTEM_PORTS",
    "ServiceTable",
    "builtin_entries",
    "clear_cache",
    "load_services",
    "parse_services",
    "port_range",
    "service_name",
    "service_port",
    "services",
]
