"""The sockets lsof lists from tables procnet's queries do not read: ``/proc/net/netlink``
(``netlink`` rows) and ``/proc/net/packet`` (``pack`` rows). No I/O: each parser takes
the table's bytes and returns inode -> what lsof prints (dialects/linux/dsock.c
get_netlink, get_pack, process_proc_sock). A line that does not parse is skipped.
"""

from __future__ import annotations

from typing import Dict, NamedTuple

#: include/uapi/linux/netlink.h protocol numbers, as lsof 4.95 names them (nlproto2str:
#: the constant without ``NETLINK_``; NETLINK_SOCK_DIAG keeps its old name INET_DIAG).
#: Checked against lsof 4.95 for 0, 2, 4, 6, 7, 9, 10, 11, 12, 15 and 16.
NETLINK_PROTOCOLS: Dict[int, str] = {
    0: "ROUTE", 1: "UNUSED", 2: "USERSOCK", 3: "FIREWALL", 4: "INET_DIAG", 5: "NFLOG", 6: "XFRM",
    7: "SELINUX", 8: "ISCSI", 9: "AUDIT", 10: "FIB_LOOKUP", 11: "CONNECTOR", 12: "NETFILTER",
    13: "IP6_FW", 14: "DNRTMSG", 15: "KOBJECT_UEVENT", 16: "GENERIC", 18: "SCSITRANSPORT",
    19: "ECRYPTFS", 20: "RDMA", 21: "CRYPTO",
}

#: include/uapi/linux/if_ether.h ETH_P_* -> lsof's name for a packet socket's protocol
#: (its NODE column); any other number is printed in decimal.
ETH_PROTOCOLS: Dict[int, str] = {
    0x0001: "802.3", 0x0002: "AX25", 0x0003: "ALL", 0x0004: "802.2", 0x0005: "SNAP", 0x0006: "DDCMP",
    0x0007: "WAN_PPP", 0x0008: "PPP MP", 0x0009: "LCLTALK", 0x0010: "PPPTALK", 0x0011: "802.2",
    0x0015: "MOBITEX", 0x0016: "CONTROL", 0x0017: "IRDA", 0x0018: "ECONET", 0x0019: "HDLC",
    0x001A: "ARCNET", 0x0060: "LOOP", 0x0200: "PUP", 0x0201: "PUPAT", 0x0800: "IP", 0x0805: "X25",
    0x0806: "ARP", 0x08FF: "BPQ", 0x0A00: "I3EPUP", 0x0A01: "I3EPUPA", 0x6000: "DEC", 0x6001: "DNA_DL",
    0x6002: "DNA_RC", 0x6003: "DNA_RT", 0x6004: "LAT", 0x6005: "DIAG", 0x6006: "CUST", 0x6007: "SCA",
    0x8035: "RARP", 0x809B: "ATALK", 0x80F3: "AARP", 0x8100: "8021Q", 0x8137: "IPX", 0x86DD: "IPV6",
    0x8809: "SLOW", 0x883E: "WCCP", 0x8847: "MPLS_UC", 0x8848: "MPLS_MC", 0x884C: "ATMMPOA",
    0x8863: "PPP_DIS", 0x8864: "PPP_SES", 0x8884: "ATMFATE", 0x88A2: "AOE", 0x88CA: "TIPC",
}

#: socket types as lsof names them after ``type=SOCK_`` (sockty2str)
SOCKET_TYPES: Dict[int, str] = {1: "STREAM", 2: "DGRAM", 3: "RAW", 4: "RDM", 5: "SEQPACKET", 10: "PACKET"}


class OtherSocket(NamedTuple):
    """What lsof prints for a netlink or packet socket, cell by cell."""

    type: str  # "netlink" or "pack"
    device: str  # a packet socket's inode; "" for netlink
    node: str  # the inode (netlink) or the protocol (packet)
    name: str


def parse_netlink(data: bytes) -> Dict[int, OtherSocket]:
    """``/proc/net/netlink`` (net/netlink/af_netlink.c netlink_seq_show): inode -> row
    cells; the protocol is the second column, the inode the tenth.

    >>> parse_netlink(b"sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode\\n0 9 1 0 0 0 0 2 0 77\\n")[77].name
    'AUDIT'
    """
    out: Dict[int, OtherSocket] = {}
    for line in data.split(b"\n")[1:]:
        fields = line.split()
        if len(fields) < 10 or not (fields[1].isdigit() and fields[9].isdigit()):
            continue
        proto, inode = int(fields[1]), int(fields[9])
        name = NETLINK_PROTOCOLS.get(proto, "unknown protocol: %d" % proto)
        out.setdefault(inode, OtherSocket("netlink", "", str(inode), name))
    return out


def parse_packet(data: bytes) -> Dict[int, OtherSocket]:
    """``/proc/net/packet`` (net/packet/af_packet.c packet_seq_show): inode -> row cells;
    type (decimal) third, protocol (hex) fourth, inode ninth. lsof puts the inode in
    DEVICE and the protocol's name, cut to 7 characters, in NODE.

    >>> parse_packet(b"sk RefCnt Type Proto Iface R Rmem User Inode\\n0 3 2 0800 0 1 0 0 55\\n")[55]
    OtherSocket(type='pack', device='55', node='IP', name='type=SOCK_DGRAM')
    """
    out: Dict[int, OtherSocket] = {}
    for line in data.split(b"\n")[1:]:
        fields = line.split()
        if len(fields) < 9 or not (fields[2].isdigit() and fields[8].isdigit()):
            continue
        try:
            proto = int(fields[3], 16)
        except ValueError:
            continue
        kind, inode = int(fields[2]), int(fields[8])
        name = "type=SOCK_" + SOCKET_TYPES[kind] if kind in SOCKET_TYPES else "type=%d" % kind
        node = ETH_PROTOCOLS.get(proto, str(proto))[:7]
        out.setdefault(inode, OtherSocket("pack", str(inode), node, name))
    return out
