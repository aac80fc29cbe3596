using NetLab.Stack.Tcp;

namespace NetLab.Drill.Running;

/// <summary>The tcpi_* names of struct tcp_info (include/uapi/linux/tcp.h), read from NetLab's <see cref="TcpInfo"/>.</summary>
internal static class TcpInfoFields
{
    /// <summary>The field's value, or null for a field NetLab's TCP_INFO does not have (tcpi_busy_time, ...).</summary>
    public static object? Get(TcpInfo i, string name) => name switch
    {
        "tcpi_state" => (long)i.State,
        "tcpi_ca_state" => (long)i.CaState,
        "tcpi_retransmits" => (long)i.Retransmits,
        "tcpi_probes" => (long)i.Probes,
        "tcpi_backoff" => (long)i.Backoff,
        "tcpi_options" => (long)i.Options,
        "tcpi_snd_wscale" => (long)i.SndWscale,
        "tcpi_rcv_wscale" => (long)i.RcvWscale,
        "tcpi_rto" => i.RtoUs,
        "tcpi_ato" => i.AtoUs,
        "tcpi_snd_mss" => (long)i.SndMss,
        "tcpi_rcv_mss" => (long)i.RcvMss,
        "tcpi_unacked" => (long)i.Unacked,
        "tcpi_sacked" => (long)i.Sacked,
        "tcpi_lost" => (long)i.Lost,
        "tcpi_retrans" => (long)i.Retrans,
        "tcpi_last_data_sent" => i.LastDataSentMs,
        "tcpi_last_data_recv" => i.LastDataRecvMs,
        "tcpi_last_ack_recv" => i.LastAckRecvMs,
        "tcpi_pmtu" => (long)i.Pmtu,
        "tcpi_rcv_ssthresh" => (long)i.RcvSsthresh,
        "tcpi_rtt" => i.RttUs,
        "tcpi_rttvar" => i.RttVarUs,
        "tcpi_snd_ssthresh" => (long)i.SndSsthresh,
        "tcpi_snd_cwnd" => (long)i.SndCwnd,
        "tcpi_advmss" => (long)i.Advmss,
        "tcpi_reordering" => (long)i.Reordering,
        "tcpi_rcv_rtt" => i.RcvRttUs,
        "tcpi_rcv_space" => (long)i.RcvSpace,
        "tcpi_total_retrans" => (long)i.TotalRetrans,
        "tcpi_pacing_rate" => i.PacingRate,
        "tcpi_bytes_acked" => i.BytesAcked,
        "tcpi_bytes_received" => i.BytesReceived,
        "tcpi_segs_out" => (long)i.SegsOut,
        "tcpi_segs_in" => (long)i.SegsIn,
        "tcpi_notsent_bytes" => (long)i.NotsentBytes,
        "tcpi_min_rtt" => i.MinRttUs,
        "tcpi_data_segs_in" => (long)i.DataSegsIn,
        "tcpi_data_segs_out" => (long)i.DataSegsOut,
        "tcpi_delivery_rate" => i.DeliveryRateBps / 8, // bytes per second, as the kernel reports it
        "tcpi_delivery_rate_app_limited" => i.DeliveryRateAppLimited ? 1L : 0L,
        "tcpi_delivered" => i.Delivered,
        "tcpi_bytes_sent" => i.BytesSent,
        "tcpi_bytes_retrans" => i.BytesRetrans,
        "tcpi_dsack_dups" => (long)i.DsackDups,
        "tcpi_snd_wnd" => (long)i.SndWnd,
        "tcpi_rcv_wnd" => (long)i.RcvWnd,
        _ => null,
    };
}
