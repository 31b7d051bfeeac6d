"""TcpInfo: the kernel's ``struct tcp_info``, as ss shows it (netlink, ``tcp_info=True``).

A module of its own: a 53-field dataclass takes milliseconds to create, and only a query
that asks for TCP details needs it.
"""

from __future__ import annotations

from typing import Optional

from ._records import _record


@_record
class TcpInfo:
    """The parts of the kernel's ``struct tcp_info`` that ss shows (netlink only).

    Times are microseconds unless named otherwise; rates bytes per second.
    """

    rtt_us: int
    rttvar_us: int
    rto_us: int
    ato_us: int
    snd_mss: int
    rcv_mss: int
    snd_cwnd: int
    snd_ssthresh: int
    retransmits: int
    total_retrans: int
    unacked: int
    lost: int
    bytes_acked: Optional[int] = None
    bytes_received: Optional[int] = None
    pacing_rate: Optional[int] = None
    delivery_rate: Optional[int] = None
    min_rtt_us: Optional[int] = None
    # Appended later; each is None when the kernel's struct tcp_info is too short to hold
    # it (older kernels send fewer bytes) or the attribute was not sent.
    #: the congestion control algorithm (``INET_DIAG_CONG``), e.g. ``"cubic"``, ``"bbr"``
    congestion: Optional[str] = None
    #: window scale shifts, sent and received (meaningful when ``options`` has
    #: TCPI_OPT_WSCALE, 4)
    snd_wscale: Optional[int] = None
    rcv_wscale: Optional[int] = None
    #: path MTU, bytes
    pmtu: Optional[int] = None
    #: receive-window slow-start threshold (window clamp while growing), bytes
    rcv_ssthresh: Optional[int] = None
    #: the MSS this side advertised, bytes
    advmss: Optional[int] = None
    #: receive buffer space the autotuning aims at, bytes
    rcv_space: Optional[int] = None
    #: the peer's last advertised receive window, bytes (Linux 5.4+)
    snd_wnd: Optional[int] = None
    #: the receive window this side last advertised, bytes (Linux 6.2+)
    rcv_wnd: Optional[int] = None
    #: segments sent and received, retransmissions included (Linux 4.2+)
    segs_out: Optional[int] = None
    segs_in: Optional[int] = None
    #: segments sent / received carrying data (Linux 4.6+)
    data_segs_out: Optional[int] = None
    data_segs_in: Optional[int] = None
    #: bytes sent, retransmissions included, and bytes retransmitted (Linux 4.19+)
    bytes_sent: Optional[int] = None
    bytes_retrans: Optional[int] = None
    #: milliseconds since data was last sent, data last received, an ACK last received
    last_data_sent_ms: Optional[int] = None
    last_data_recv_ms: Optional[int] = None
    last_ack_recv_ms: Optional[int] = None
    #: packets delivered (acknowledged), and of them those ECN CE-marked (Linux 4.18+)
    delivered: Optional[int] = None
    delivered_ce: Optional[int] = None
    #: microseconds spent busy sending; of them limited by the receive window / by the
    #: send buffer (Linux 4.18+)
    busy_time_us: Optional[int] = None
    rwnd_limited_us: Optional[int] = None
    sndbuf_limited_us: Optional[int] = None
    #: bytes written by the application and not yet sent (Linux 4.6+)
    notsent_bytes: Optional[int] = None
    #: the reordering degree the sender assumes, packets (3 unless reordering was seen)
    reordering: Optional[int] = None
    #: the receiver's RTT estimate, µs (0: none yet)
    rcv_rtt_us: Optional[int] = None
    #: D-SACK blocks received (Linux 5.2+), reorderings seen (Linux 4.19+)
    dsack_dups: Optional[int] = None
    reord_seen: Optional[int] = None
    #: the last delivery-rate sample was limited by the application (Linux 4.9+)
    app_limited: Optional[bool] = None
    #: ``tcpi_options`` bits: 1 timestamps, 2 SACK, 4 window scale, 8 ECN, 16 ECN seen,
    #: 32 SYN data acknowledged (Fast Open), 64 µs timestamps, 128 Fast Open child
    options: Optional[int] = None
    #: consecutive RTO backoffs (``icsk_backoff``)
    backoff: Optional[int] = None
    #: segments SACKed; for a LISTEN socket the kernel puts the backlog here
    sacked: Optional[int] = None
    #: segments retransmitted and not yet acknowledged (``tcpi_retrans``; see also
    #: ``retransmits``, the timer's count, and ``total_retrans``)
    retrans: Optional[int] = None
    #: SO_MAX_PACING_RATE, bytes per second (2**64 - 1: no limit) (Linux 4.0+)
    max_pacing_rate: Optional[int] = None
    #: out-of-order packets received (Linux 5.4+)
    rcv_ooopack: Optional[int] = None
    #: PLB or timeout-triggered rehashes of the flow label (Linux 6.2+)
    rehash: Optional[int] = None


__all__ = ["TcpInfo"]
