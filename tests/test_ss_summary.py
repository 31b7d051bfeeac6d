"""``procnet ss -s``: the counters read as ss's get_sockstat / get_snmp_int read them, and
printed byte for byte as ss 6.1 prints them (compared live in a private network
namespace, where the counts do not move)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from typing import List, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from procnet.cli import ss
from procnet.cli._ss_summary import Sockstat, read_sockstat, snmp_value, summary_text

SS = shutil.which("ss")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SOCKSTAT = (
    "sockets: used 173\n"
    "TCP: inuse 8 orphan 1 tw 3 alloc 12 mem 2\n"
    "UDP: inuse 1 mem 1\n"
    "UDPLITE: inuse 0\n"
    "RAW: inuse 1\n"
    "FRAG: inuse 2 memory 4096\n"
)
SOCKSTAT6 = "TCP6: inuse 4\nUDP6: inuse 1\nUDPLITE6: inuse 0\nRAW6: inuse 0\nFRAG6: inuse 0 memory 0\n"
SNMP = (
    "Ip: Forwarding DefaultTTL\nIp: 1 64\n"
    "Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs\n"
    "Tcp: 1 200 120000 -1 10 20 0 3 8 5000\n"
)

# The example of ss(8)'s users, the numbers of the files above.
EXPECTED = (
    "Total: 173\n"
    "TCP:   15 (estab 8, closed 3, orphaned 1, timewait 3)\n"
    "\n"
    "Transport Total     IP        IPv6\n"
    "RAW\t  1         1         0        \n"
    "UDP\t  2         1         1        \n"
    "TCP\t  12        8         4        \n"
    "INET\t  15        10        5        \n"
    "FRAG\t  2         2         0        \n"
    "\n"
)


def test_summary_of_known_counters_is_ss_print_summary() -> None:
    s = read_sockstat(SOCKSTAT, SOCKSTAT6)
    assert (s.socks, s.tcp4_hashed, s.tcp_orphans, s.tcp_tws, s.tcp_total, s.tcp_mem) == (173, 8, 1, 3, 12, 2)
    assert (s.udp4, s.raw4, s.frag4, s.frag4_mem, s.tcp6_hashed, s.udp6) == (1, 1, 2, 4096, 4, 1)
    assert snmp_value(SNMP, "Tcp:", "CurrEstab") == 8
    assert summary_text(s, 8) == EXPECTED


@pytest.mark.parametrize("text, expected", [
    ("", Sockstat()),
    ("sockets: used\n", Sockstat()),  # no number: stays 0
    ("sockets: used x7\n", Sockstat()),
    ("sockets: used 7x\n", Sockstat(socks=7)),  # %d reads the digits it finds
    ("sockets:used 7\n", Sockstat()),  # no space after the key: not a line ss reads
    ("TCP: inuse 5 orphan\n", Sockstat(tcp4_hashed=5)),  # the scan stops where numbers end
    ("TCP: inuse 5 orphan x tw 3\n", Sockstat(tcp4_hashed=5)),
    ("UDP: inuse -2\n", Sockstat(udp4=-2)),
    ("UDP: inuse 4294967297\n", Sockstat(udp4=1)),  # a C int
    ("RAW6: inuse 3\nRAW6: inuse 4\n", Sockstat(raw6=4)),  # the last line counts
    ("UDPLITE: inuse 9\nFOO: inuse 9\n", Sockstat()),  # lines ss does not read
])
def test_sockstat_lines_read_as_ss_sscanf_reads_them(text: str, expected: Sockstat) -> None:
    assert read_sockstat(text, None) == expected


@pytest.mark.parametrize("text, expected", [
    (None, None),
    ("", None),
    ("Tcp: A CurrEstab\n", None),  # no line of values
    ("Tcp: A CurrEstab\nUdp: 1 2\n", None),
    ("Tcp: A CurrEstab\nTcp: 1 5\n", 5),
    ("Tcp: A CurrEstab B\nTcp: 1 5 6\n", 5),
    ("Tcp: A B\nTcp: 1 2\n", 2),  # no such column: ss reads the last one
    ("Tcp: A CurrEstab\nTcp: 1\n", None),  # too few values: ss reads on, finds none
    ("Tcp: A CurrEstab\nTcp: 1 x\n", 0),  # found, not a number: 0
    ("TcpExt: A CurrEstab\nTcpExt: 1 9\n", None),  # not "Tcp:" (ss compares its 4 bytes)
    ("Tcp:X A CurrEstab\nTcp:Y 1 9\n", 9),  # ... and only those
])
def test_snmp_value_found_as_ss_get_snmp_int_finds_it(text: Optional[str], expected: Optional[int]) -> None:
    assert snmp_value(text, "Tcp:", "CurrEstab") == expected


_COUNT = st.integers(min_value=0, max_value=2**31 - 1)


@settings(max_examples=200, deadline=None)
@given(st.lists(_COUNT, min_size=15, max_size=15), _COUNT)
def test_the_kernels_lines_give_back_their_counters(values: List[int], estab: int) -> None:
    s = Sockstat(*values)
    text = ("sockets: used %d\nTCP: inuse %d orphan %d tw %d alloc %d mem %d\nUDP: inuse %d mem 0\n"
            "RAW: inuse %d\nFRAG: inuse %d memory %d\n" % (
                s.socks, s.tcp4_hashed, s.tcp_orphans, s.tcp_tws, s.tcp_total, s.tcp_mem, s.udp4, s.raw4,
                s.frag4, s.frag4_mem))
    text6 = "TCP6: inuse %d\nUDP6: inuse %d\nRAW6: inuse %d\nFRAG6: inuse %d memory %d\n" % (
        s.tcp6_hashed, s.udp6, s.raw6, s.frag6, s.frag6_mem)
    assert read_sockstat(text, text6) == s
    assert snmp_value("Tcp: MaxConn CurrEstab\nTcp: -1 %d\n" % estab, "Tcp:", "CurrEstab") == estab
    out = summary_text(s, estab).split("\n")
    assert out[0] == "Total: %d" % s.socks and out[-2:] == ["", ""] and len(out) == 11


def _fixture_root(tmp_path: "os.PathLike[str]", sockstat: Optional[str] = SOCKSTAT) -> str:
    net = os.path.join(str(tmp_path), "net")
    os.makedirs(net)
    for name, text in (("sockstat", sockstat), ("sockstat6", SOCKSTAT6), ("snmp", SNMP)):
        if text is not None:
            with open(os.path.join(net, name), "w") as f:
                f.write(text)
    for table in ("tcp",):
        with open(os.path.join(net, table), "w") as f:
            f.write("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
                    "timeout inode\n")
    return str(tmp_path)


def _run(*argv: str) -> "tuple[int, str, str]":
    out, err = io.StringIO(), io.StringIO()
    rc = ss.run(list(argv), out, err)
    return rc, out.getvalue(), err.getvalue()


def test_dash_s_alone_prints_the_summary_only(tmp_path: "os.PathLike[str]") -> None:
    root = _fixture_root(tmp_path)
    assert _run("-s", "--root", root) == (0, EXPECTED, "")
    assert _run("-sa", "-n", "--root", root) == (0, EXPECTED, "")  # -a/-n: still the default tables


def test_dash_s_with_a_table_prints_the_summary_then_the_table(tmp_path: "os.PathLike[str]") -> None:
    root = _fixture_root(tmp_path)
    rc, out, err = _run("-s", "-t", "--root", root)
    assert rc == 0 and out.startswith(EXPECTED)
    assert out[len(EXPECTED):].startswith("State Recv-Q Send-Q")


def test_missing_counters_print_as_zero_with_a_message(tmp_path: "os.PathLike[str]") -> None:
    root = _fixture_root(tmp_path, sockstat=None)
    rc, out, err = _run("-s", "--root", root)
    assert rc == 0 and out.startswith("Total: 0\nTCP:   0 (estab 8, closed -4, orphaned 0, timewait 0)\n")  # ss: TCP6 still counted
    assert "no sockstat in %s" % os.path.join(root, "net") in err


def test_summary_of_every_namespace_at_once_is_refused() -> None:
    rc, out, err = _run("-s", "--netns", "all")
    assert rc == 2 and out == "" and "-s counts the sockets of one network namespace" in err


def _unshare() -> Optional[str]:
    unshare = shutil.which("unshare")
    if unshare is None or SS is None or os.geteuid() != 0:
        return None
    probe = subprocess.run([unshare, "-n", "true"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return unshare if probe.returncode == 0 else None


@pytest.mark.live
@pytest.mark.skipif(_unshare() is None, reason="needs root, unshare -n and iproute2's ss")
def test_summary_is_byte_for_byte_ss_in_a_private_namespace() -> None:
    # In a new network namespace only our own sockets count: a listener, a connection
    # (two sockets and CurrEstab 2), a UDP and an IPv6 socket, and a closed-but-bound one.
    script = r"""
import re, socket, subprocess, sys, time
ss = sys.argv[1]
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(4)
c = socket.create_connection(l.getsockname()); a, _ = l.accept()
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind(("::1", 0))
b = socket.socket(); b.bind(("127.0.0.1", 0))
# ip's netlink sockets are freed after an RCU grace period: wait for "sockets: used" to
# count our five sockets only
deadline = time.time() + 10
while "used 5\n" not in open("/proc/net/sockstat").read() and time.time() < deadline:
    time.sleep(0.05)
def unmoving(out):
    # TCP's total and closed count come from "TCP: alloc", which the kernel keeps for the
    # whole machine (as "orphan"): the sockets of every other namespace come and go
    return re.sub(rb"^TCP:   \d+ \(estab (\d+), closed -?\d+,", rb"TCP:   N (estab \1, closed N,", out, flags=re.M)
for args in (["-s"], ["-s", "-t", "-n"]):
    for attempt in range(20):
        real = subprocess.run([ss] + args, stdout=subprocess.PIPE, check=True).stdout
        ours = subprocess.run([sys.executable, "-m", "procnet", "ss"] + args, stdout=subprocess.PIPE, check=True).stdout
        if real == ours:
            break
    same = unmoving(real) == unmoving(ours) and b"estab 2, " in ours
    sys.stdout.write("%s\n%s\n" % (args, "SAME" if same else "DIFF\n%r\n%r" % (real, ours)))
"""
    res = subprocess.run([_unshare() or "", "-n", sys.executable, "-c", script, SS or ""], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("SAME") == 2, res.stdout


def test_a_hostile_bundles_endless_number_is_no_traceback(tmp_path: "os.PathLike[str]") -> None:
    huge = "9" * 50000  # past Python's int-from-text limit (4300 digits) and any C long
    root = _fixture_root(tmp_path, sockstat="sockets: used %s\nTCP: inuse -%s orphan 0 tw 0 alloc 0 mem 0\n"
                                            % (huge, huge))
    rc, out, err = _run("-s", "--root", root)
    assert rc == 0 and err == ""
    # glibc's strtol saturates at LONG_MAX / LONG_MIN, then %d keeps the low 32 bits
    assert out.startswith("Total: -1\nTCP:   0 (estab ") and read_sockstat(
        "sockets: used %s\n" % huge, "").socks == -1


@given(st.integers(-(2 ** 70), 2 ** 70))
def test_scanned_numbers_are_cut_as_c_cuts_them(n: int) -> None:
    from procnet.cli._ss_summary import _scan_int

    long = max(min(n, 2 ** 63 - 1), -(2 ** 63))
    expected = long & 0xFFFFFFFF
    expected -= (1 << 32) if expected >= 1 << 31 else 0
    assert _scan_int(str(n)) == expected
