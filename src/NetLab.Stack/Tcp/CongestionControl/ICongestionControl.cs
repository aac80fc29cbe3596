namespace NetLab.Stack.Tcp.CongestionControl;

/// <summary>icsk_ca_state (include/net/tcp.h: enum tcp_ca_state).</summary>
public enum TcpCaState : byte { Open = 0, Disorder = 1, Cwr = 2, Recovery = 3, Loss = 4 }

/// <summary>enum tcp_ca_event: what tcp_ca_event() tells a module.</summary>
public enum TcpCaEvent : byte
{
    /// <summary>First transmit when no packets are in flight.</summary>
    TxStart,
    /// <summary>Congestion window restart after idle (tcp_cwnd_restart).</summary>
    CwndRestart,
    /// <summary>End of congestion recovery (tcp_end_cwnd_reduction).</summary>
    CompleteCwr,
    /// <summary>Loss timeout (tcp_enter_loss).</summary>
    Loss,
    EcnNoCe,
    EcnIsCe,
}

/// <summary>struct ack_sample: what tcp_clean_rtx_queue() passes to pkts_acked().</summary>
/// <param name="PktsAcked">Segments newly acknowledged (cumulatively or by SACK).</param>
/// <param name="RttUs">RTT sample in µs, or -1 when there is none (Karn's rule).</param>
/// <param name="InFlight">Packets in flight before this ACK (tcp_packets_in_flight).</param>
public readonly record struct TcpAckSample(uint PktsAcked, long RttUs, uint InFlight);

/// <summary>struct rate_sample (tcp_rate.c), for modules with cong_control (BBR).</summary>
public readonly record struct TcpRateSample(
    long PriorDelivered, long Delivered, long IntervalUs, long RttUs, int Losses, uint AckedSacked,
    uint PriorInFlight, bool IsAppLimited, bool IsRetrans);

/// <summary>
/// The fields of struct tcp_sock (and icsk) that congestion-control modules read and write. The TCP
/// socket owns one; modules keep their private state (struct bictcp, ...) in their own instance.
/// Units are Linux's: cwnd and ssthresh in segments, times in µs unless named otherwise.
/// </summary>
public sealed class TcpCongestionState
{
    public const uint InfiniteSsthresh = 0x7fffffff; // TCP_INFINITE_SSTHRESH
    public const uint InitCwnd = 10;                  // TCP_INIT_CWND

    public uint SndCwnd = InitCwnd;
    public uint SndSsthresh = InfiniteSsthresh;
    /// <summary>snd_cwnd_cnt: the additive-increase accumulator.</summary>
    public uint SndCwndCnt;
    public uint SndCwndClamp = uint.MaxValue;
    /// <summary>prior_cwnd: cwnd when recovery started (for undo).</summary>
    public uint PriorCwnd;
    /// <summary>mss_cache: current sending MSS in bytes.</summary>
    public int MssCache = 536;
    /// <summary>srtt_us: smoothed RTT in µs, left-shifted by 3 as Linux keeps it (0 = no sample yet).</summary>
    public long SrttUs;
    /// <summary>tcp_min_rtt(): windowed minimum RTT in µs (uint.MaxValue-like ~0 before the first sample).</summary>
    public long MinRttUs = long.MaxValue;
    /// <summary>tcp_mstamp: the time of the current event in µs (virtual).</summary>
    public long NowUs;
    /// <summary>lsndtime: when data was last sent, in µs.</summary>
    public long LastSendUs;
    public uint SndNxt;
    public uint SndUna;
    public uint PacketsOut;
    public uint SackedOut;
    public uint LostOut;
    public uint RetransOut;
    /// <summary>tp->delivered: segments delivered so far (tcp_rate.c).</summary>
    public long Delivered;
    /// <summary>tp->is_cwnd_limited: the last send was limited by cwnd, not the application.</summary>
    public bool IsCwndLimited;
    /// <summary>max_packets_out in the current window (tcp_cwnd_validate).</summary>
    public uint MaxPacketsOut;
    public TcpCaState CaState;
    /// <summary>sk_pacing_rate in bytes per second (0 = no pacing).</summary>
    public long PacingRate;
    /// <summary>Counters the modules bump (TCPHystartTrainDetect, ...).</summary>
    public NetLab.Core.Counters.MibCounters<TcpExtMib>? Mib;

    /// <summary>tcp_packets_in_flight(): packets_out - left_out + retrans_out.</summary>
    public uint PacketsInFlight => PacketsOut - (SackedOut + LostOut) + RetransOut;

    /// <summary>tcp_in_slow_start().</summary>
    public bool InSlowStart => SndCwnd < SndSsthresh;

    /// <summary>tcp_is_cwnd_limited(): in slow start, cwnd may grow while it is below twice what was in flight.</summary>
    public bool CwndLimited => IsCwndLimited || (InSlowStart && SndCwnd < 2 * MaxPacketsOut);

    /// <summary>tcp_slow_start(): grow by the acked count up to ssthresh; returns the acked count left over.</summary>
    public uint SlowStart(uint acked)
    {
        uint cwnd = Math.Min(SndCwnd + acked, SndSsthresh);
        acked -= cwnd - SndCwnd;
        SndCwnd = Math.Min(cwnd, SndCwndClamp);
        return acked;
    }

    /// <summary>tcp_cong_avoid_ai(): one segment per <paramref name="w"/> acknowledged segments.</summary>
    public void CongAvoidAi(uint w, uint acked)
    {
        if (SndCwndCnt >= w)
        {
            SndCwndCnt = 0;
            SndCwnd++;
        }
        SndCwndCnt += acked;
        if (SndCwndCnt >= w)
        {
            uint delta = SndCwndCnt / w;
            SndCwndCnt -= delta * w;
            SndCwnd += delta;
        }
        SndCwnd = Math.Min(SndCwnd, SndCwndClamp);
    }
}

/// <summary>
/// struct tcp_congestion_ops: a pluggable congestion-control module (Reno, CUBIC; BBR later). One
/// instance per connection; the methods mirror the ops Linux calls, at the same points.
/// </summary>
public interface ICongestionControl
{
    /// <summary>The name in tcp_congestion_control and TCP_CONGESTION ("reno", "cubic").</summary>
    string Name { get; }

    /// <summary>init(): the connection is established or the module was switched to.</summary>
    void Init(TcpCongestionState tp);

    /// <summary>ssthresh(): the new slow-start threshold on loss (required).</summary>
    uint SsThresh(TcpCongestionState tp);

    /// <summary>cong_avoid(): grow cwnd for <paramref name="acked"/> newly acknowledged segments.</summary>
    void CongAvoid(TcpCongestionState tp, uint ack, uint acked);

    /// <summary>set_state(): icsk_ca_state is about to change.</summary>
    void SetState(TcpCongestionState tp, TcpCaState newState);

    /// <summary>cwnd_event().</summary>
    void CwndEvent(TcpCongestionState tp, TcpCaEvent ev);

    /// <summary>pkts_acked(): RTT and acked count of each ACK that acknowledged something.</summary>
    void PktsAcked(TcpCongestionState tp, in TcpAckSample sample);

    /// <summary>undo_cwnd(): the cwnd to restore when a reduction proves spurious (required).</summary>
    uint UndoCwnd(TcpCongestionState tp);

    /// <summary>True when the module sets cwnd and pacing itself from rate samples (cong_control, BBR).</summary>
    bool HasCongControl { get; }

    /// <summary>cong_control(): called on every ACK instead of cong_avoid when <see cref="HasCongControl"/>.</summary>
    void CongControl(TcpCongestionState tp, uint ack, in TcpRateSample rs);
}
