namespace NetLab.Stack.Tcp.CongestionControl;

/// <summary>
/// Reno/NewReno as Linux's tcp_reno_* in tcp_cong.c (RFC 5681): slow start to ssthresh, then one
/// segment per cwnd of ACKed segments; ssthresh = max(cwnd/2, 2). NewReno's partial-ACK handling
/// lives in the loss-recovery code, not here, as in Linux.
/// </summary>
public sealed class RenoCongestionControl : ICongestionControl
{
    public string Name => "reno";
    public bool HasCongControl => false;

    public void Init(TcpCongestionState tp) { }

    /// <summary>tcp_reno_ssthresh().</summary>
    public uint SsThresh(TcpCongestionState tp) => Math.Max(tp.SndCwnd >> 1, 2u);

    /// <summary>tcp_reno_cong_avoid().</summary>
    public void CongAvoid(TcpCongestionState tp, uint ack, uint acked)
    {
        if (!tp.CwndLimited) return;
        if (tp.InSlowStart)
        {
            acked = tp.SlowStart(acked);
            if (acked == 0) return;
        }
        tp.CongAvoidAi(tp.SndCwnd, acked);
    }

    public void SetState(TcpCongestionState tp, TcpCaState newState) { }
    public void CwndEvent(TcpCongestionState tp, TcpCaEvent ev) { }
    public void PktsAcked(TcpCongestionState tp, in TcpAckSample sample) { }

    /// <summary>tcp_reno_undo_cwnd().</summary>
    public uint UndoCwnd(TcpCongestionState tp) => Math.Max(tp.SndCwnd, tp.PriorCwnd);

    public void CongControl(TcpCongestionState tp, uint ack, in TcpRateSample rs) { }
}
