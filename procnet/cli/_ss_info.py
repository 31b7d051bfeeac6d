"""``procnet ss -i`` and ``-m``: ``struct tcp_info`` and the memory counters as ss prints them
(iproute2 ``misc/ss.c`` tcp_show_info, tcp_stats_print, print_skmeminfo). Loaded only when
one of the two is asked for.

:data:`TCP_INFO` is ss's tcp_show_info as a table, one item per word it prints, in its
order: a field of :class:`~procnet._records.TcpInfo` and its format, or for the few
irregular items a function of the whole struct.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, List, NamedTuple, Optional, Sequence, Tuple, Union

from .render import escape_text

if TYPE_CHECKING:
    from .._records import TcpInfo


def skmem_text(skmem: Sequence[int]) -> str:
    """ss's print_skmeminfo: `` skmem:(r0,rb131072,t0,tb16384,f0,w0,o0,bl0,d0)``.

    ``bl`` and ``d`` only when the kernel sent them; nothing for fewer than seven values.
    """
    if len(skmem) < 7:
        return ""
    out = " skmem:(r%d,rb%d,t%d,tb%d,f%d,w%d,o%d" % tuple(skmem[:7])
    if len(skmem) >= 8:
        out += ",bl%d" % skmem[7]
    if len(skmem) >= 9:
        out += ",d%d" % skmem[8]
    return out + ")"


def bw_text(bw: float, numeric: bool) -> str:
    """ss's sprint_bw: a rate in bits per second, ``%.0f`` with ``-n``, else ``1.2G``..."""
    if numeric:
        return "%.0f" % bw
    for limit, unit in ((1000000000.0, "G"), (1000000.0, "M"), (1000.0, "K")):
        if bw > limit:
            return "%.1f%s" % (bw / limit, unit)
    return "%g" % bw


class InfoContext(NamedTuple):
    """What the -i text depends on besides the struct."""

    #: the socket listens (its tcpi_sacked is its backlog, which ss does not print)
    listening: bool
    #: -o or -e: the option words (ts, sack...) are printed
    show_options: bool
    #: -n: rates as plain numbers
    numeric: bool


_U64_MAX = (1 << 64) - 1
# tcpi_options bits ss names with -o/-e, in its order (include/uapi/linux/tcp.h TCPI_OPT_*)
_OPTION_WORDS = ((1, "ts"), (64, "usec_ts"), (2, "sack"), (8, "ecn"), (16, "ecnseen"), (32, "fastopen"),
                 (128, "fastopen_child"))


def _n(value: Optional[int]) -> int:
    return value or 0


def _option_words(ti: "TcpInfo", ctx: InfoContext) -> str:
    options = _n(ti.options)
    return " ".join(word for bit, word in _OPTION_WORDS if ctx.show_options and options & bit)


def _congestion(ti: "TcpInfo", ctx: InfoContext) -> str:
    return escape_text(ti.congestion) if ti.congestion else ""


def _wscale(ti: "TcpInfo", ctx: InfoContext) -> str:
    if not _n(ti.options) & 4:  # TCPI_OPT_WSCALE
        return ""
    return "wscale:%d,%d" % (_n(ti.snd_wscale), _n(ti.rcv_wscale))


def _rtt(ti: "TcpInfo", ctx: InfoContext) -> str:
    return "rtt:%g/%g" % (ti.rtt_us / 1000.0, ti.rttvar_us / 1000.0) if ti.rtt_us else ""


def _ssthresh(ti: "TcpInfo", ctx: InfoContext) -> str:
    return "ssthresh:%d" % ti.snd_ssthresh if ti.snd_ssthresh and ti.snd_ssthresh < 0xFFFF else ""


def _send(ti: "TcpInfo", ctx: InfoContext) -> str:
    if not (ti.rtt_us and ti.snd_mss and ti.snd_cwnd):
        return ""
    bps = float(ti.snd_cwnd) * float(ti.snd_mss) * 8000000.0 / float(ti.rtt_us)
    return "send %sbps" % bw_text(bps, ctx.numeric)


def _pacing(ti: "TcpInfo", ctx: InfoContext) -> str:
    pacing, most = _n(ti.pacing_rate), _n(ti.max_pacing_rate)
    if not pacing or pacing == _U64_MAX:
        return ""
    text = "pacing_rate %sbps" % bw_text(pacing * 8.0, ctx.numeric)
    if most and most != _U64_MAX:
        text += "/%sbps" % bw_text(most * 8.0, ctx.numeric)
    return text


def _delivery_rate(ti: "TcpInfo", ctx: InfoContext) -> str:
    return "delivery_rate %sbps" % bw_text(ti.delivery_rate * 8.0, ctx.numeric) if ti.delivery_rate else ""


def _busy(ti: "TcpInfo", ctx: InfoContext) -> str:
    busy = _n(ti.busy_time_us)
    if not busy:
        return ""
    words = ["busy:%dms" % (busy // 1000)]
    for name, limited in (("rwnd_limited", ti.rwnd_limited_us), ("sndbuf_limited", ti.sndbuf_limited_us)):
        if limited:
            words.append("%s:%dms(%.1f%%)" % (name, limited // 1000, 100.0 * limited / busy))
    return " ".join(words)


def _retrans(ti: "TcpInfo", ctx: InfoContext) -> str:
    return "retrans:%d/%d" % (_n(ti.retrans), ti.total_retrans) if ti.retrans or ti.total_retrans else ""


def _sacked(ti: "TcpInfo", ctx: InfoContext) -> str:
    return "sacked:%d" % ti.sacked if ti.sacked and not ctx.listening else ""  # a listener's is its backlog


class InfoItem(NamedTuple):
    """One item of ss's tcp_show_info: ``name:value`` from a field of :class:`~procnet._records.TcpInfo`."""

    #: ss's word
    name: str
    #: the TcpInfo field printed ("" for an item printed by a function of the whole struct)
    field: str = ""
    #: the value's %-format after ``name:`` ("" for a word printed alone when the field is
    #: set), or a function of the struct giving the whole text ("" for nothing)
    format: Union[str, Callable[["TcpInfo", InfoContext], str]] = "%d"
    #: the value is divided by this first (µs -> ms: 1000)
    scale: float = 1.0
    #: values ss does not print (besides None: a field an older kernel did not send)
    unset: Tuple[int, ...] = (0,)


#: ss's tcp_show_info and tcp_stats_print, in their order.
TCP_INFO: Tuple[InfoItem, ...] = (
    InfoItem("options", format=_option_words),
    InfoItem("congestion", format=_congestion),
    InfoItem("wscale", format=_wscale),
    InfoItem("rto", "rto_us", "%g", 1000.0, unset=(0, 3000000)),  # 3 s: TCP_TIMEOUT_INIT, not printed
    InfoItem("backoff", "backoff"),
    InfoItem("rtt", format=_rtt),
    InfoItem("ato", "ato_us", "%g", 1000.0),
    InfoItem("mss", "snd_mss"),
    InfoItem("pmtu", "pmtu"),
    InfoItem("rcvmss", "rcv_mss"),
    InfoItem("advmss", "advmss"),
    InfoItem("cwnd", "snd_cwnd"),
    InfoItem("ssthresh", format=_ssthresh),
    InfoItem("bytes_sent", "bytes_sent"),
    InfoItem("bytes_retrans", "bytes_retrans"),
    InfoItem("bytes_acked", "bytes_acked"),
    InfoItem("bytes_received", "bytes_received"),
    InfoItem("segs_out", "segs_out"),
    InfoItem("segs_in", "segs_in"),
    InfoItem("data_segs_out", "data_segs_out"),
    InfoItem("data_segs_in", "data_segs_in"),
    InfoItem("send", format=_send),
    InfoItem("lastsnd", "last_data_sent_ms"),
    InfoItem("lastrcv", "last_data_recv_ms"),
    InfoItem("lastack", "last_ack_recv_ms"),
    InfoItem("pacing_rate", format=_pacing),
    InfoItem("delivery_rate", format=_delivery_rate),
    InfoItem("delivered", "delivered"),
    InfoItem("delivered_ce", "delivered_ce"),
    InfoItem("app_limited", "app_limited", ""),
    InfoItem("busy", format=_busy),
    InfoItem("unacked", "unacked"),
    InfoItem("retrans", format=_retrans),
    InfoItem("lost", "lost"),
    InfoItem("sacked", format=_sacked),
    InfoItem("dsack_dups", "dsack_dups"),
    InfoItem("reordering", "reordering", unset=(3,)),  # 3 is the default degree; 0 is printed
    InfoItem("reord_seen", "reord_seen"),
    InfoItem("rcv_rtt", "rcv_rtt_us", "%g", 1000.0),
    InfoItem("rcv_space", "rcv_space"),
    InfoItem("rcv_ssthresh", "rcv_ssthresh"),
    InfoItem("notsent", "notsent_bytes"),
    InfoItem("minrtt", "min_rtt_us", "%g", 1000.0, unset=(0, 0xFFFFFFFF)),
    InfoItem("rcv_ooopack", "rcv_ooopack"),
    InfoItem("snd_wnd", "snd_wnd"),
    InfoItem("rcv_wnd", "rcv_wnd"),
    InfoItem("rehash", "rehash"),
)


def _item_text(item: InfoItem, ti: "TcpInfo", ctx: InfoContext) -> str:
    fmt = item.format
    if not isinstance(fmt, str):
        return fmt(ti, ctx)
    value = getattr(ti, item.field)
    if value is None or value in item.unset:
        return ""
    if not fmt:
        return item.name
    return "%s:%s" % (item.name, fmt % (value / item.scale if item.scale != 1.0 else value))


def tcp_info_text(ti: "TcpInfo", listening: bool, show_options: bool, numeric: bool) -> str:
    """ss's tcp_show_info and tcp_stats_print (iproute2 misc/ss.c), for the fields procnet
    decodes, item by item of :data:`TCP_INFO`: `` cubic wscale:7,7 rto:204 rtt:0.03/0.015
    ... minrtt:0.01 snd_wnd:65536``.

    A field an older kernel did not send (None) prints as ss prints its zero-filled
    struct: not at all. The option words (``ts sack ...``) need ``show_options`` (-o, -e).
    """
    ctx = InfoContext(listening, show_options, numeric)
    return "".join(" " + text for text in (_item_text(item, ti, ctx) for item in TCP_INFO) if text)


__all__: List[str] = ["InfoContext", "InfoItem", "TCP_INFO", "bw_text", "skmem_text", "tcp_info_text"]
