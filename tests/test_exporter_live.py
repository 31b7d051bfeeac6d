"""The exporter against the running kernel, in a network namespace of its own (EXPORTER.md §11.5).

Each case runs in a child process started as ``unshare -n python tests/test_exporter_live.py
CASE``: a new network namespace holding only loopback, which the child brings up (``ip link
set lo up``). The child opens its sockets, collects with :mod:`procnet.exporter`, reads
``ss`` and ``/proc/net/netstat`` or ``/proc/net/snmp`` (the namespace's own counters) beside
it, and prints one JSON line that the test asserts on. Nothing leaves the namespace, no
other process's sockets are in it, every child is bounded (a timeout here, an alarm in the
child) and its sockets end with it.

* ``listen(1)`` with 6 connections never accepted: queue 2 (the kernel's full is queue >
  limit), limit 1, and drops equal to the ``d`` of ``ss -tlnm`` and to the rise of
  ``TcpExt: ListenOverflows`` (read before and after the collection; read again when a
  retransmitted SYN landed in between);
* ``procnet_tcp_sockets`` per state equals ``ss -tan`` at the same moment, established
  as ``ss -tan state established | wc -l`` - 1;
* IPv4 and IPv6 connections to a dual-stack listener (``[::]``, v6only 0) are all counted
  by ``procnet_tcp_inbound_connections`` of its port, their unread bytes by the queue sum;
* 3,000 more client connections to one listener change values only, never the series;
* a UDP socket flooded past ``SO_RCVBUF`` raises ``procnet_udp_drops_total`` by the rise of
  ``Udp: RcvbufErrors``; one on an ephemeral port is left out unless asked for;
* a listener whose process name holds ``"``, ``\\``, a line feed and the byte 0xff: the
  label is the escaped form, and the official parser and ``promtool`` read the text back.

Skipped, with the reason, where ``unshare`` or ``ip`` is missing or a network namespace
cannot be made (not root, a container without CAP_SYS_ADMIN).
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

CHILD_TIMEOUT = 120.0  # the parent's bound on one case
CHILD_ALARM = 100  # the child's own
HOSTILE_COMM = b'q"b\\c\nd\xffe'  # quote, backslash, line feed, a byte that is not UTF-8
HOSTILE_LABEL = 'q"b\\c\nd\\xffe'  # the label value: the bad byte written \xff (4 characters)
HOSTILE_TEXT = 'comm="q\\"b\\\\c\\nd\\\\xffe"'  # ... and as the exposition writes it
# ss's state names -> node_exporter's (the exporter's ``state`` label)
SS_STATES = {
    "ESTAB": "established", "SYN-SENT": "syn_sent", "SYN-RECV": "syn_recv", "FIN-WAIT-1": "fin_wait1",
    "FIN-WAIT-2": "fin_wait2", "TIME-WAIT": "time_wait", "UNCONN": "close", "CLOSE-WAIT": "close_wait",
    "LAST-ACK": "last_ack", "LISTEN": "listen", "CLOSING": "closing",
}
MORE_CLIENTS = 3000

Rows = Dict[str, List[Any]]  # family name -> [[label values..., value], ...]


# --- the child: runs inside the new namespace ---------------------------------------------


def _families(**options: Any) -> Dict[str, Any]:
    """One collection as JSON: {family: {"labels": [...], "rows": [[values..., value]]}}."""
    from procnet import exporter

    return {f.name: {"labels": list(f.labels), "rows": [list(k) + [v] for k, v in sorted(f.rows.items())]}
            for f in exporter.collect(**options)}


def _counter(path: str, group: str, name: str) -> int:
    """A counter of /proc/net/netstat or /proc/net/snmp (header line, value line)."""
    with open(path) as f:
        lines = f.read().splitlines()
    for head, values in zip(lines[::2], lines[1::2]):
        if head.startswith(group + ":"):
            return int(dict(zip(head.split()[1:], values.split()[1:]))[name])
    raise KeyError("%s %s" % (group, name))


def _ss(*args: str) -> List[str]:
    done = subprocess.run(["ss"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30,
                          universal_newlines=True)
    if done.returncode:
        raise RuntimeError("ss %s: %s" % (" ".join(args), done.stderr.strip()))
    return done.stdout.splitlines()


def _listener(family: int, address: str, port: int, backlog: int, v6only: Optional[bool] = None) -> socket.socket:
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(v6only))
    s.bind((address, port))
    s.listen(backlog)
    return s


def _pairs(listener: socket.socket, family: int, address: str, n: int) -> List[socket.socket]:
    """n connections to the listener, each accepted: 2n sockets."""
    port = listener.getsockname()[1]
    held = []
    for _ in range(n):
        c = socket.socket(family, socket.SOCK_STREAM)
        c.settimeout(10)
        c.connect((address, port))
        server, _ = listener.accept()
        held += [c, server]
    return held


def case_listen_queue() -> Dict[str, Any]:
    before = _counter("/proc/net/netstat", "TcpExt", "ListenOverflows")
    listener = _listener(socket.AF_INET, "127.0.0.1", 7000, 1)
    clients = []
    for _ in range(6):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", 7000))
        except BlockingIOError:
            pass
        clients.append(c)
    time.sleep(0.3)

    def ss_drops() -> int:
        lines = _ss("-tlnm", "sport = :7000")
        text = " ".join(lines)
        return int(text.split("skmem:(", 1)[1].split(")", 1)[0].rsplit(",d", 1)[1])

    for tries in range(1, 31):
        ss_before, rise_before = ss_drops(), _counter("/proc/net/netstat", "TcpExt", "ListenOverflows") - before
        families = _families()
        ss_after, rise_after = ss_drops(), _counter("/proc/net/netstat", "TcpExt", "ListenOverflows") - before
        if (ss_before, rise_before) == (ss_after, rise_after):
            break  # no SYN retransmission landed between the reads
        time.sleep(0.2)
    del clients, listener
    return {"families": families, "ss_drops": ss_after, "overflow_rise": rise_after, "tries": tries}


def case_state_counts() -> Dict[str, Any]:
    listener = _listener(socket.AF_INET, "127.0.0.1", 7001, 16)
    held = _pairs(listener, socket.AF_INET, "127.0.0.1", 5)
    half = _pairs(listener, socket.AF_INET, "127.0.0.1", 2)
    half[0].close()  # the client closes: FIN-WAIT-2 here, CLOSE-WAIT on the accepted end
    half[2].close()
    gone = _pairs(listener, socket.AF_INET, "127.0.0.1", 1)
    gone[0].close()  # the client closes first, then the server: TIME-WAIT on the client's side
    time.sleep(0.1)
    gone[1].close()
    time.sleep(0.3)
    for tries in range(1, 11):
        established = len(_ss("-tan", "state", "established")) - 1  # `| wc -l` - 1: the heading
        table = _ss("-tan")
        families = _families()
        if established == len(_ss("-tan", "state", "established")) - 1 and table == _ss("-tan"):
            break
        time.sleep(0.2)
    states: Dict[str, int] = {}
    for line in table[1:]:
        name = SS_STATES[line.split()[0]]
        states[name] = states.get(name, 0) + 1
    del held, half
    return {"families": families, "ss_established": established, "ss_states": states, "tries": tries}


def case_dual_stack() -> Dict[str, Any]:
    listener = _listener(socket.AF_INET6, "::", 7002, 16, v6only=False)
    v4 = _pairs(listener, socket.AF_INET, "127.0.0.1", 2)
    v6 = _pairs(listener, socket.AF_INET6, "::1", 3)
    for client in v4[::2]:
        client.sendall(b"x" * 100)  # left unread by the accepted end: its Recv-Q
    for client in v6[::2]:
        client.sendall(b"y" * 7)
    time.sleep(0.3)
    return {"families": _families(), "unread": 2 * 100 + 3 * 7, "connections": 5}


def _raise_nofile(need: int) -> Optional[str]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return None
    if hard != resource.RLIM_INFINITY and hard < need:
        return "RLIMIT_NOFILE allows %d descriptors, the case needs %d" % (hard, need)
    resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    return None


def case_many_clients() -> Dict[str, Any]:
    skip = _raise_nofile(2 * MORE_CLIENTS + 200)
    if skip:
        return {"skip": skip}
    listener = _listener(socket.AF_INET, "127.0.0.1", 7003, 4096)
    first = _pairs(listener, socket.AF_INET, "127.0.0.1", 10)
    time.sleep(0.2)
    before = _families()
    more = _pairs(listener, socket.AF_INET, "127.0.0.1", MORE_CLIENTS)
    time.sleep(0.2)
    after = _families()
    del first, more
    return {"before": before, "after": after, "more": MORE_CLIENTS}


def case_udp_drops() -> Dict[str, Any]:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])

    def receiver(port: int) -> socket.socket:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # the kernel doubles it, a few datagrams
        s.bind(("127.0.0.1", port))
        return s

    fixed = receiver(7004)
    ephemeral = receiver(0)
    eport = ephemeral.getsockname()[1]
    before_errors = _counter("/proc/net/snmp", "Udp", "RcvbufErrors")
    before = _families()
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for port in (7004, eport):
        for _ in range(200):
            sender.sendto(b"z" * 1000, ("127.0.0.1", port))
    time.sleep(0.2)
    errors = _counter("/proc/net/snmp", "Udp", "RcvbufErrors") - before_errors
    after = _families()
    with_ephemeral = _families(udp_include_ephemeral=True)
    del fixed
    return {"before": before, "after": after, "with_ephemeral": with_ephemeral, "ephemeral_port": eport,
            "low": low, "rcvbuf_errors": errors}


def _set_comm(name: bytes) -> None:
    """The task name, as prctl(PR_SET_NAME) sets it (at most 15 bytes)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(15, ctypes.c_char_p(name), 0, 0, 0) != 0:  # PR_SET_NAME
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NAME)")


def case_hostile_comm() -> Dict[str, Any]:
    _set_comm(HOSTILE_COMM)
    with open("/proc/self/comm", "rb") as f:
        seen = f.read()
    listener = _listener(socket.AF_INET, "127.0.0.1", 7005, 4)
    from procnet import exporter

    text = exporter.exposition()
    del listener
    return {"comm": seen.hex(), "text": text}


CASES: Dict[str, Callable[[], Dict[str, Any]]] = {
    "listen_queue": case_listen_queue,
    "state_counts": case_state_counts,
    "dual_stack": case_dual_stack,
    "many_clients": case_many_clients,
    "udp_drops": case_udp_drops,
    "hostile_comm": case_hostile_comm,
}


def child(case: str) -> int:
    signal.alarm(CHILD_ALARM)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=30)
    from procnet import _netlink

    with open("/proc/self/comm", "rb") as f:
        comm = f.read()[:-1].decode("utf-8", "backslashreplace")
    result = {"netns": str(os.stat("/proc/self/ns/net").st_ino), "comm": comm,
              "netlink": bool(_netlink.available())}
    result.update(CASES[case]())
    sys.stdout.write(json.dumps(result) + "\n")
    return 0



# --- the tests: run in the parent ---------------------------------------------------------

pytestmark = pytest.mark.live

_NAMESPACES: List[Optional[str]] = []  # [None] once private namespaces work, [reason] when they cannot
_RESULTS: Dict[str, Dict[str, Any]] = {}  # case -> its child's JSON, one child per case and test process


def _namespace_problem() -> Optional[str]:
    if not _NAMESPACES:
        _NAMESPACES.append(_probe())
    return _NAMESPACES[0]


def _probe() -> Optional[str]:
    for tool in ("unshare", "ip", "ss"):
        if shutil.which(tool) is None:
            return "%s is not installed (util-linux / iproute2)" % tool
    try:
        done = subprocess.run(["unshare", "-n", "ip", "link", "set", "lo", "up"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        return "unshare -n could not be run: %s" % e
    if done.returncode:
        return "a private network namespace is not permitted here (unshare -n ip link set lo up: %s)" % (
            done.stderr.decode("utf-8", "replace").strip() or "exit %d" % done.returncode)
    return None


def run_case(case: str) -> Dict[str, Any]:
    """The JSON a case's child printed; skips when namespaces cannot be made or the case says so."""
    problem = _namespace_problem()
    if problem:
        pytest.skip(problem)
    if case not in _RESULTS:
        _RESULTS[case] = _run_child(case)
    result = _RESULTS[case]
    if "skip" in result:
        pytest.skip(result["skip"])
    return result


def _run_child(case: str) -> Dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=ROOT)
    done = subprocess.run(["unshare", "-n", sys.executable, os.path.abspath(__file__), case], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=CHILD_TIMEOUT)
    assert done.returncode == 0, "case %s exited %d: %s" % (case, done.returncode, done.stderr.decode()[-3000:])
    result: Dict[str, Any] = json.loads(done.stdout.decode("utf-8").splitlines()[-1])
    return result


def rows(families: Dict[str, Any], name: str, **match: str) -> List[Tuple[Dict[str, str], float]]:
    """(labels, value) of a family's rows whose labels match."""
    family = families.get(name)
    if family is None:
        return []
    out = []
    for row in family["rows"]:
        labels = dict(zip(family["labels"], row[:-1]))
        if all(labels.get(k) == v for k, v in match.items()):
            out.append((labels, row[-1]))
    return out


def value(families: Dict[str, Any], name: str, **match: str) -> float:
    found = rows(families, name, **match)
    assert len(found) == 1, "%s%r: %r" % (name, match, found)
    return found[0][1]


def series(families: Dict[str, Any]) -> Iterator[Tuple[str, Tuple[str, ...]]]:
    for name, family in families.items():
        for row in family["rows"]:
            yield name, tuple(row[:-1])


def _needs_netlink(result: Dict[str, Any]) -> None:
    if not result["netlink"]:
        pytest.skip("sock_diag does not answer here: limits and drops are netlink-only (EXPORTER.md §5.3)")


def test_listen_backlog_1_shows_queue_2_limit_1_and_the_kernels_drops() -> None:
    result = run_case("listen_queue")
    _needs_netlink(result)
    f, me = result["families"], dict(netns=result["netns"], address="127.0.0.1", port="7000")
    assert value(f, "procnet_tcp_listen_sockets", **me) == 1
    assert value(f, "procnet_tcp_listen_queue", **me) == 2  # sk_acceptq_is_full(): queue > limit
    assert value(f, "procnet_tcp_listen_queue_limit", **me) == 1
    drops = value(f, "procnet_tcp_listen_drops_total", **me)
    assert drops >= 4, "the four connections past the queue lost at least their first SYN each"
    assert drops == result["ss_drops"] == result["overflow_rise"], result
    (labels, _), = rows(f, "procnet_tcp_listen_sockets", **me)
    assert labels["comm"] == result["comm"] and labels["family"] == "ipv4"


def test_state_counts_agree_with_ss_at_the_same_moment() -> None:
    result = run_case("state_counts")
    f, ns = result["families"], result["netns"]
    established = value(f, "procnet_tcp_sockets", netns=ns, state="established")
    assert established == result["ss_established"] == 10
    counted = {labels["state"]: v for labels, v in rows(f, "procnet_tcp_sockets", netns=ns) if v}
    assert counted == result["ss_states"]
    assert {"listen", "fin_wait2", "close_wait", "time_wait"} <= set(counted)
    assert len(rows(f, "procnet_tcp_sockets")) == 11  # every state, zeros too, one namespace


def test_ipv4_and_ipv6_connections_to_a_dual_stack_listener_are_inbound() -> None:
    result = run_case("dual_stack")
    f, ns = result["families"], result["netns"]
    assert value(f, "procnet_tcp_listen_sockets", netns=ns, family="ipv6", address="::", port="7002") == 1
    inbound = rows(f, "procnet_tcp_inbound_connections", netns=ns, port="7002")
    assert [(labels["state"], labels["comm"], v) for labels, v in inbound] == [
        ("established", result["comm"], result["connections"])]
    assert value(f, "procnet_tcp_inbound_receive_queue_bytes", netns=ns, port="7002") == result["unread"]
    assert value(f, "procnet_tcp_inbound_send_queue_bytes", netns=ns, port="7002") == 0


def test_thousands_of_client_connections_add_no_series() -> None:
    result = run_case("many_clients")
    before, after, ns = result["before"], result["after"], result["netns"]
    assert set(series(after)) == set(series(before))
    assert sorted(after) == sorted(before)
    more = result["more"]
    rise = (value(after, "procnet_tcp_inbound_connections", netns=ns, port="7003", state="established")
            - value(before, "procnet_tcp_inbound_connections", netns=ns, port="7003", state="established"))
    assert rise == more
    rise = (value(after, "procnet_tcp_sockets", netns=ns, state="established")
            - value(before, "procnet_tcp_sockets", netns=ns, state="established"))
    assert rise == 2 * more


def test_a_flooded_udp_socket_raises_its_drops() -> None:
    result = run_case("udp_drops")
    _needs_netlink(result)
    before, after, ns = result["before"], result["after"], result["netns"]
    me = dict(netns=ns, address="127.0.0.1", port="7004")
    assert value(before, "procnet_udp_drops_total", **me) == 0
    dropped = value(after, "procnet_udp_drops_total", **me)
    assert dropped > 0
    # the namespace's own counter: both receivers were flooded alike, and only they were
    eport = str(result["ephemeral_port"])
    assert int(eport) >= result["low"]
    assert not rows(after, "procnet_udp_sockets", port=eport)  # ephemeral: left out by default
    also = value(result["with_ephemeral"], "procnet_udp_drops_total", netns=ns, port=eport)
    assert also > 0
    assert value(result["with_ephemeral"], "procnet_udp_drops_total", **me) == dropped
    assert dropped + also == result["rcvbuf_errors"]
    assert value(after, "procnet_udp_sockets", **me) == 1


def _hostile() -> Tuple[Dict[str, Any], List[str]]:
    result = run_case("hostile_comm")
    assert bytes.fromhex(result["comm"]) == HOSTILE_COMM + b"\n"
    text: str = result["text"]
    mine = [line for line in text.splitlines() if line.startswith("procnet_tcp_listen_sockets{") and 'port="7005"' in line]
    return result, mine


def test_a_hostile_comm_is_escaped_in_the_exposition() -> None:
    result, mine = _hostile()
    assert len(mine) == 1 and HOSTILE_TEXT in mine[0], mine
    assert result["text"].endswith("\n") and "\r" not in result["text"]


def test_a_hostile_comm_reads_back_through_the_official_parser() -> None:
    parser = pytest.importorskip("prometheus_client.parser", reason="prometheus_client is not installed")
    result, _ = _hostile()
    found = [s for fam in parser.text_string_to_metric_families(result["text"]) for s in fam.samples
             if s.name == "procnet_tcp_listen_sockets" and s.labels.get("port") == "7005"]
    assert [(s.labels["comm"], s.value) for s in found] == [(HOSTILE_LABEL, 1.0)]


def test_a_hostile_comm_passes_promtool() -> None:
    import promtools

    tools = promtools.for_tests()
    result, _ = _hostile()
    done = subprocess.run([tools.promtool, "check", "metrics"], input=result["text"].encode("utf-8"),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert done.returncode == 0, (done.stdout + done.stderr).decode("utf-8", "replace")


if __name__ == "__main__":
    sys.exit(child(sys.argv[1]))
