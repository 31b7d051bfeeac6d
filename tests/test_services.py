"""procnet._services: port ranges, /etc/services parsing, the built-in fallback table."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from procnet import _services
from procnet._services import (
    BUILTIN,
    load_services,
    parse_services,
    port_range,
    service_name,
    service_port,
)


@pytest.mark.parametrize(
    "port, expected",
    [
        (0, "system"),
        (1, "system"),
        (22, "system"),
        (1023, "system"),
        (1024, "registered"),
        (8080, "registered"),
        (49151, "registered"),
        (49152, "dynamic"),
        (65535, "dynamic"),
    ],
)
def test_port_range_boundaries(port: int, expected: str) -> None:
    assert port_range(port) == expected


@pytest.mark.parametrize("port", [-1, 65536, 1 << 20])
def test_port_range_rejects_numbers_that_are_not_ports(port: int) -> None:
    with pytest.raises(ValueError, match="0 to 65535"):
        port_range(port)


@pytest.mark.parametrize("port", ["22", 22.0, True, None])
def test_port_range_rejects_non_ints(port: object) -> None:
    with pytest.raises(TypeError):
        port_range(port)  # type: ignore[arg-type]


@given(st.integers(0, 65535))
def test_port_range_names_the_one_range_holding_the_port(port: int) -> None:
    ranges = {
        "system": _services.SYSTEM_PORTS,
        "registered": _services.REGISTERED_PORTS,
        "dynamic": _services.DYNAMIC_PORTS,
    }
    holding = [name for name, r in ranges.items() if port in r]
    assert holding == [port_range(port)]


SAMPLE = """\
# Network services, Internet style
#
tcpmux\t\t1/tcp\t\t\t\t# TCP port service multiplexer
ftp\t\t21/tcp
fsp\t\t21/udp\t\tfspd
ssh\t\t22/tcp\t\t\t\t# SSH Remote Login Protocol
smtp\t\t25/tcp\t\tmail
domain\t\t53/tcp\t\t\t\t# Domain Name Server
domain\t\t53/udp
http\t\t80/tcp\t\twww\t\t# WorldWideWeb HTTP
www-alt\t\t80/tcp
  indented   8080/tcp   http-alt webcache   \r
broken-no-slash 99
broken-port\tabc/tcp
broken-range\t70000/tcp
broken-empty-proto\t98/
#commented\t97/tcp
amqp\t\t5672/sctp
"""


def test_parse_services_first_name_wins_as_getservbyport() -> None:
    t = parse_services(SAMPLE)
    assert t.name(80, "tcp") == "http"  # not the later www-alt, not the alias www
    assert t.name(21, "tcp") == "ftp"
    assert t.name(21, "udp") == "fsp"
    assert t.name(53, "udp") == "domain"


def test_parse_services_names_and_aliases_by_protocol() -> None:
    t = parse_services(SAMPLE)
    assert t.port("www", "tcp") == 80
    assert t.port("mail", "tcp") == 25
    assert t.port("fspd", "udp") == 21
    assert t.port("fspd", "tcp") is None
    assert t.port("ssh", "udp") is None
    assert t.port("ssh", None) == 22
    assert t.port("amqp", "sctp") == 5672
    assert t.port("SSH", "tcp") is None  # case-sensitive, as getservbyname


def test_parse_services_skips_comments_and_malformed_lines() -> None:
    t = parse_services(SAMPLE)
    assert t.name(99, "tcp") is None
    assert t.port("broken-port", "tcp") is None
    assert t.port("broken-range", "tcp") is None
    assert t.name(98, "tcp") is None
    assert t.name(97, "tcp") is None
    assert t.port("tcpmux", "tcp") == 1
    # leading blanks and a trailing "\r" do not hide a line
    assert t.name(8080, "tcp") == "indented"
    assert t.port("webcache", "tcp") == 8080


def test_parse_services_empty_text() -> None:
    assert len(parse_services("")) == 0


@pytest.mark.parametrize(
    "port, proto, name",
    [
        (21, "tcp", "ftp"),
        (22, "tcp", "ssh"),
        (53, "tcp", "domain"),
        (53, "udp", "domain"),
        (67, "udp", "bootps"),
        (68, "udp", "bootpc"),
        (80, "tcp", "http"),
        (443, "tcp", "https"),
        (1194, "tcp", "openvpn"),
        (1723, "tcp", "pptp"),
        (25, "tcp", "smtp"),
        (23, "tcp", "telnet"),
        (143, "tcp", "imap2"),
        (110, "tcp", "pop3"),
        (123, "udp", "ntp"),
        (3306, "tcp", "mysql"),
        (5432, "tcp", "postgresql"),
        (6379, "tcp", "redis"),
    ],
)
def test_builtin_table_holds_the_seed_notes_services(port: int, proto: str, name: str) -> None:
    assert BUILTIN.name(port, proto) == name
    assert BUILTIN.port(name, proto) == port


def test_builtin_table_keeps_protocols_apart() -> None:
    assert BUILTIN.name(67, "tcp") is None
    assert BUILTIN.name(22, "udp") is None


def test_builtin_names_agree_with_this_machines_services_file() -> None:
    # The built-in table exists so that procnet prints what ss prints where the file
    # exists; where it does here, every built-in name must be the file's first name.
    table = load_services(_services.SERVICES_PATH)
    if table is None:
        pytest.skip("no /etc/services on this machine")
    for (port, proto), name in _services.builtin_entries().items():
        found = table.name(port, proto)
        if found is not None:
            assert found == name, (port, proto)


def test_lookups_fall_back_to_builtin_when_the_file_is_missing(tmp_path: object) -> None:
    missing = os.path.join(str(tmp_path), "no-such-services")
    assert load_services(missing) is None
    assert service_name(22, "tcp", path=missing) == "ssh"
    assert service_port("https", "tcp", path=missing) == 443
    assert service_name(1723, "tcp", path=missing) == "pptp"


def test_lookups_use_the_file_when_it_exists(tmp_path: object) -> None:
    path = os.path.join(str(tmp_path), "services")
    with open(path, "w") as f:
        f.write("myssh 22/tcp sshd\n")
    _services.clear_cache()
    assert service_name(22, "tcp", path=path) == "myssh"
    assert service_port("sshd", "tcp", path=path) == 22
    # A file that exists but lacks the port gives None (ss prints the number), not the
    # built-in name.
    assert service_name(80, "tcp", path=path) is None


def test_file_is_read_once_and_cached(tmp_path: object) -> None:
    path = os.path.join(str(tmp_path), "services")
    with open(path, "w") as f:
        f.write("first 1000/tcp\n")
    _services.clear_cache()
    assert service_name(1000, "tcp", path=path) == "first"
    with open(path, "w") as f:
        f.write("second 1000/tcp\n")
    assert service_name(1000, "tcp", path=path) == "first"
    _services.clear_cache()
    assert service_name(1000, "tcp", path=path) == "second"


def test_import_reads_no_file() -> None:
    import importlib
    import builtins

    opened = []
    real_open = builtins.open

    def spy(*args: object, **kwargs: object) -> object:
        opened.append(args[0])
        return real_open(*args, **kwargs)  # type: ignore[call-overload]

    builtins.open = spy  # type: ignore[assignment]
    try:
        importlib.reload(_services)
    finally:
        builtins.open = real_open
    assert opened == []
