"""Every spelling procnet prints or reads for a state, a timer or a socket type: one table each.

A leaf module: it imports nothing from procnet and nothing slow, so any module can use it.
Tables are plain dicts keyed by the kernel's numbers; each cites where its spelling comes
from, and ``tests/test_vocab.py`` checks them against the enums and against each other.
What a tool prints for a number its table does not have is a function beside the table
(``ss_state``, ``lsof_tcp_state``...), so that no caller invents its own fallback.
"""

from __future__ import annotations

import socket
from typing import Dict

# --- TCP states (also what UDP, raw and unix sockets are shown in) --------------------------

#: include/net/tcp_states.h ``TCP_*``: the names of :class:`~procnet.TcpState`'s members.
#: 12 and 13 are kernel-internal: request minisockets (reported as SYN_RECV) and the
#: "bound-inactive" dump pseudo-state (Linux 6.8: bound TCP sockets, reported as CLOSE).
KERNEL_STATE: Dict[int, str] = {
    1: "ESTABLISHED",
    2: "SYN_SENT",
    3: "SYN_RECV",
    4: "FIN_WAIT1",
    5: "FIN_WAIT2",
    6: "TIME_WAIT",
    7: "CLOSE",
    8: "CLOSE_WAIT",
    9: "LAST_ACK",
    10: "LISTEN",
    11: "CLOSING",
    12: "NEW_SYN_RECV",
    13: "BOUND_INACTIVE",
}

#: ss's State column: iproute2 misc/ss.c ``sstate_name`` (1..11). The kernel never reports
#: 12 or 13 (ss 6.8+ has "UNDEF" for both); procnet spells them as ss spells the others.
SS_STATE: Dict[int, str] = {
    1: "ESTAB",
    2: "SYN-SENT",
    3: "SYN-RECV",
    4: "FIN-WAIT-1",
    5: "FIN-WAIT-2",
    6: "TIME-WAIT",
    7: "UNCONN",
    8: "CLOSE-WAIT",
    9: "LAST-ACK",
    10: "LISTEN",
    11: "CLOSING",
    12: "NEW-SYN-RECV",
    13: "BOUND-INACTIVE",
}


def ss_state(state: int) -> str:
    """ss's State column for a state number ("UNKNOWN", ``sstate_name[0]``, for others)."""
    return SS_STATE.get(state, "UNKNOWN")


#: The one word procnet writes for each state in ss's filter language (``state closed``...):
#: ss.c ``sstate_namel``, but "closed" for 7 (ss takes it; its table says "unconnected").
#: NEW_SYN_RECV has none: ss refuses "new-syn-recv" (iproute2 6.8 scan_state).
SS_STATE_WORD: Dict[int, str] = {
    1: "established",
    2: "syn-sent",
    3: "syn-recv",
    4: "fin-wait-1",
    5: "fin-wait-2",
    6: "time-wait",
    7: "closed",
    8: "close-wait",
    9: "last-ack",
    10: "listening",
    11: "closing",
    13: "bound-inactive",
}

#: Every single-state word ss's ``scan_state`` accepts (case-insensitively), and its state:
#: "close", "closed", "syn-rcv" (its special cases), then ``sstate_namel``: index 0 is
#: "UNKNOWN", a state no socket has (so "unknown" matches nothing), 7 is "unconnected";
#: "bound-inactive" from iproute2 6.8. Not accepted by ss: "estab", "listen", "unconn"
#: (its column names) and "new-syn-recv". Groups ("all", "connected"...) are in _states.
SS_STATE_WORDS: Dict[str, int] = {
    "close": 7,
    "closed": 7,
    "syn-rcv": 3,
    "unknown": 0,
    "established": 1,
    "syn-sent": 2,
    "syn-recv": 3,
    "fin-wait-1": 4,
    "fin-wait-2": 5,
    "time-wait": 6,
    "unconnected": 7,
    "close-wait": 8,
    "last-ack": 9,
    "listening": 10,
    "closing": 11,
    "bound-inactive": 13,
}

#: lsof's state in the NAME column of a TCP socket, ``(ESTABLISHED)``: lsof
#: dialects/linux/dsock.c ``build_IPstates`` (the kernel's names, and 0 "CLOSED").
LSOF_TCP_STATE: Dict[int, str] = {
    0: "CLOSED",
    1: "ESTABLISHED",
    2: "SYN_SENT",
    3: "SYN_RECV",
    4: "FIN_WAIT1",
    5: "FIN_WAIT2",
    6: "TIME_WAIT",
    7: "CLOSE",
    8: "CLOSE_WAIT",
    9: "LAST_ACK",
    10: "LISTEN",
    11: "CLOSING",
}


def lsof_tcp_state(state: int) -> str:
    """lsof's TCP state word; a number its table lacks is ``UNKNOWN_TCP_STATE_<n>`` (print.c)."""
    name = LSOF_TCP_STATE.get(state)
    return name if name is not None else "UNKNOWN_TCP_STATE_%d" % state


#: node_exporter's ``tcpstat`` collector, its ``state`` label (collector/tcpstat_linux.go
#: ``tcpConnectionState.String``): 1..11; anything else is "unknown" there.
NODE_EXPORTER_STATE: Dict[int, str] = {
    1: "established",
    2: "syn_sent",
    3: "syn_recv",
    4: "fin_wait1",
    5: "fin_wait2",
    6: "time_wait",
    7: "close",
    8: "close_wait",
    9: "last_ack",
    10: "listen",
    11: "closing",
}

# --- timers -------------------------------------------------------------------------------

#: ss -o ``timer:(<name>,...)``: ss.c ``tmr_name``, indexed by the ``tr`` code of
#: /proc/net/tcp (and idiag_timer); ss prints "unknown" past the table.
SS_TIMER: Dict[int, str] = {0: "off", 1: "on", 2: "keepalive", 3: "timewait", 4: "persist"}


def ss_timer(code: int) -> str:
    """ss's timer name for a timer code ("unknown" for a code its table lacks)."""
    return SS_TIMER.get(code, "unknown")


# --- unix sockets -------------------------------------------------------------------------

#: ``socket_state`` (include/uapi/linux/net.h SS_FREE..SS_DISCONNECTING), the St column of
#: /proc/net/unix: the names of :class:`~procnet.SocketStatus`'s members.
UNIX_STATUS: Dict[int, str] = {
    0: "FREE",
    1: "UNCONNECTED",
    2: "CONNECTING",
    3: "CONNECTED",
    4: "DISCONNECTING",
}

#: lsof's unix NAME suffix ``type=STREAM (CONNECTED)`` (lsof 4.95 dsock.c): the names of
#: SS_UNCONNECTED..SS_DISCONNECTING; "LISTEN" for a listener, "UNKNOWN" for anything else.
LSOF_UNIX_STATUS: Dict[int, str] = {k: v for k, v in UNIX_STATUS.items() if k != 0}


def lsof_unix_status(status: int) -> str:
    """lsof's state word for a unix socket that is not listening."""
    return LSOF_UNIX_STATUS.get(status, "UNKNOWN")


#: ss's Netid column for a unix socket: ss.c ``unix_netid_name``; every other type is "u_dgr".
SS_UNIX_NETID: Dict[int, str] = {
    int(socket.SOCK_STREAM): "u_str",
    int(socket.SOCK_SEQPACKET): "u_seq",
    int(socket.SOCK_DGRAM): "u_dgr",
}


def ss_unix_netid(sock_type: int) -> str:
    """ss's Netid for a unix socket of this type (``"u_dgr"`` for any it does not name)."""
    return SS_UNIX_NETID.get(sock_type, "u_dgr")


#: lsof's unix ``type=`` text (lsof dialects/linux dsock.c ``sockty2str``).
LSOF_UNIX_TYPE: Dict[int, str] = {
    int(socket.SOCK_STREAM): "STREAM",
    int(socket.SOCK_DGRAM): "DGRAM",
    int(socket.SOCK_SEQPACKET): "SEQPACKET",
}

# --- protocols and families ---------------------------------------------------------------

#: IP protocol numbers of the protocols procnet reads (include/uapi/linux/in.h IPPROTO_*):
#: sock_diag dumps by them (``sdiag_protocol``); a raw socket's table is IPPROTO_RAW's.
IP_PROTOCOL: Dict[str, int] = {"tcp": 6, "udp": 17, "udplite": 136, "raw": 255}

#: The name ss prints for a raw socket's protocol in place of its port (``inet_proto_n2a``:
#: getprotobynumber, so /etc/protocols' names as netbase ships them).
SS_IP_PROTOCOL_NAME: Dict[int, str] = {
    0: "ip",
    1: "icmp",
    2: "igmp",
    4: "ipencap",
    6: "tcp",
    17: "udp",
    41: "ipv6",
    47: "gre",
    50: "esp",
    51: "ah",
    58: "ipv6-icmp",
    89: "ospf",
    103: "pim",
    132: "sctp",
    136: "udplite",
    255: "raw",
}

#: Address family names, as JSON and error messages print them (``AF_INET``...).
FAMILY_NAME: Dict[int, str] = {
    int(socket.AF_UNIX): "AF_UNIX",
    int(socket.AF_INET): "AF_INET",
    int(socket.AF_INET6): "AF_INET6",
}
