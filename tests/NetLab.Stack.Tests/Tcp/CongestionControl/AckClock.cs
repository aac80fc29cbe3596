using NetLab.Core.Counters;
using NetLab.Stack.Tcp.CongestionControl;

namespace NetLab.Stack.Tests.Tcp.CongestionControl;

/// <summary>
/// A bulk sender driven through <see cref="TcpCongestionState"/> only, as tcp_ack() drives a module: one ACK per
/// segment, pkts_acked() before cong_avoid() (tcp_clean_rtx_queue() runs before tcp_cong_control()), and the
/// window refilled after each ACK (snd_nxt = snd_una + cwnd). Sequence numbers count segments. A round is one
/// RTT: every segment in flight at its start is ACKed, the first ACK one RTT after the previous round's first.
/// </summary>
internal sealed class AckClock
{
    private readonly ICongestionControl _cc;
    private long _roundStartUs;

    public AckClock(ICongestionControl cc, uint cwnd = TcpCongestionState.InitCwnd,
        uint ssthresh = TcpCongestionState.InfiniteSsthresh)
    {
        _cc = cc;
        Tp = new TcpCongestionState
        {
            SndCwnd = cwnd, SndSsthresh = ssthresh, IsCwndLimited = true,
            Mib = new MibCounters<TcpExtMib>("TcpExt"),
        };
        cc.Init(Tp);        // tcp_init_congestion_control(): at establishment, before any data is sent
        Tp.SndNxt = cwnd;   // the initial window goes out at time 0
    }

    public TcpCongestionState Tp { get; }
    public MibCounters<TcpExtMib> Mib => Tp.Mib!;

    /// <summary>Time of the first ACK of the last round, µs.</summary>
    public long RoundStartUs => _roundStartUs;

    /// <summary>
    /// One round: the ACKs of every segment in flight, the first <paramref name="rttUs"/> after the previous
    /// round's first, then one every <paramref name="spacingUs"/>; each carries an RTT sample of
    /// <paramref name="sampleRttUs"/> (default: <paramref name="rttUs"/>).
    /// </summary>
    public void Round(long rttUs, long spacingUs, long? sampleRttUs = null)
    {
        _roundStartUs += rttUs;
        uint inFlight = Tp.SndNxt - Tp.SndUna;
        for (uint i = 0; i < inFlight; i++)
        {
            Tp.NowUs = _roundStartUs + i * spacingUs;
            Tp.SndUna++;
            _cc.PktsAcked(Tp, new TcpAckSample(1, sampleRttUs ?? rttUs, inFlight - i));
            _cc.CongAvoid(Tp, Tp.SndUna, 1);
            Tp.SndNxt = Tp.SndUna + Tp.SndCwnd;
            Tp.MaxPacketsOut = Tp.SndCwnd;
            Tp.LastSendUs = Tp.NowUs;
        }
    }

    /// <summary>
    /// A round whose ACKs are spread evenly over the RTT, as a sender at steady state sees them.
    /// </summary>
    public void SteadyRound(long rttUs) => Round(rttUs, rttUs / (Tp.SndNxt - Tp.SndUna));

    /// <summary>
    /// The application pauses for <paramref name="idleUs"/> after the last send, then writes again:
    /// tcp_event_data_sent() raises CA_EVENT_TX_START while lsndtime still holds the last send, and later rounds
    /// come <paramref name="idleUs"/> later. Linux raises the event only with nothing in flight; the clock keeps
    /// its window in flight across the pause, which the module cannot see. <paramref name="txStart"/> false
    /// withholds the event, to show what it is for.
    /// </summary>
    public void Pause(long idleUs, bool txStart = true)
    {
        Tp.NowUs = Tp.LastSendUs + idleUs;
        if (txStart) _cc.CwndEvent(Tp, TcpCaEvent.TxStart);
        _roundStartUs += idleUs;
    }

    /// <summary>
    /// A loss repaired by fast recovery: ssthresh() when recovery starts (tcp_init_cwnd_reduction()), and cwnd
    /// = ssthresh when it ends (tcp_end_cwnd_reduction()). The recovery round itself is not simulated.
    /// </summary>
    public void FastRecovery()
    {
        Tp.PriorCwnd = Tp.SndCwnd;
        Tp.SndSsthresh = _cc.SsThresh(Tp);
        Tp.SndCwnd = Tp.SndSsthresh;
        Tp.SndCwndCnt = 0;
        Tp.SndNxt = Tp.SndUna + Tp.SndCwnd;
    }
}
