using BenchmarkDotNet.Attributes;
using NetLab.Stack.Tcp.CongestionControl;

namespace NetLab.Bench;

/// <summary>
/// The congestion-control work of one ACK, as tcp_ack() does it: pkts_acked() with an RTT sample, then
/// cong_avoid() for one segment, through the interface the socket uses. The flow is in congestion avoidance
/// with a 100 ms RTT and ACKs spread over it, and halves back at 200 segments (ssthresh(), cwnd = ssthresh), so
/// the sawtooth covers the concave and convex parts of CUBIC's curve and a K computation per loss.
/// Reno is the baseline.
/// </summary>
[MemoryDiagnoser]
public class CongestionControlBench
{
    private const int AcksPerInvoke = 10_000;
    private const long RttUs = 100_000;
    private const uint LossAt = 200;

    [Params("reno", "cubic")]
    public string Module = "cubic";

    private ICongestionControl _cc = null!;
    private TcpCongestionState _tp = null!;

    [GlobalSetup]
    public void Setup()
    {
        _cc = CongestionControlRegistry.Create(Module)!;
        _tp = new TcpCongestionState { SndCwnd = 100, SndSsthresh = 100, IsCwndLimited = true };
        _cc.Init(_tp);
        _tp.SndNxt = _tp.SndCwnd;
    }

    /// <summary>One ACK per operation.</summary>
    [Benchmark(OperationsPerInvoke = AcksPerInvoke)]
    public uint Ack()
    {
        var tp = _tp;
        var cc = _cc;
        for (int i = 0; i < AcksPerInvoke; i++)
        {
            tp.NowUs += RttUs / tp.SndCwnd;
            tp.SndUna++;
            cc.PktsAcked(tp, new TcpAckSample(1, RttUs, tp.SndNxt - tp.SndUna + 1));
            cc.CongAvoid(tp, tp.SndUna, 1);
            if (tp.SndCwnd >= LossAt)
            {
                tp.SndSsthresh = cc.SsThresh(tp);
                tp.SndCwnd = tp.SndSsthresh;
            }
            tp.SndNxt = tp.SndUna + tp.SndCwnd;
        }
        return tp.SndCwnd;
    }
}
