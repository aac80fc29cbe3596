using NetLab.Stack.Tcp.CongestionControl;

namespace NetLab.Stack.Tests.Tcp.CongestionControl;

/// <summary>tcp_reno_* (tcp_cong.c), RFC 5681 §3.1.</summary>
public class RenoCongestionControlTests
{
    private const long Rtt = 50_000;

    [Fact]
    public void SlowStart_DoublesCwndEachRoundOfAcks()
    {
        var c = new AckClock(new RenoCongestionControl());
        uint[] expected = [20, 40, 80, 160];   // +1 per ACKed segment: IW 10 doubles every RTT
        foreach (uint cwnd in expected)
        {
            c.Round(Rtt, spacingUs: 100);
            Assert.Equal(cwnd, c.Tp.SndCwnd);
        }
    }

    [Fact]
    public void SlowStart_CountsEverySegmentOfAStretchAck()
    {
        // tcp_slow_start() adds the ACKed count without RFC 3465's L limit.
        var tp = new TcpCongestionState { IsCwndLimited = true };
        new RenoCongestionControl().CongAvoid(tp, ack: 0, acked: 10);
        Assert.Equal(20u, tp.SndCwnd);
    }

    [Fact]
    public void SlowStart_StopsAtSsthresh_AndTheRestOfTheRoundGoesToCongestionAvoidance()
    {
        var c = new AckClock(new RenoCongestionControl(), ssthresh: 25);
        c.Round(Rtt, spacingUs: 100);   // 10 → 20
        c.Round(Rtt, spacingUs: 100);   // 20 ACKs: 5 reach ssthresh, the other 15 count towards one more segment
        Assert.Equal(25u, c.Tp.SndCwnd);
        Assert.Equal(15u, c.Tp.SndCwndCnt);
        Assert.False(c.Tp.InSlowStart);
    }

    [Fact]
    public void CongestionAvoidance_AddsOneSegmentPerCwndOfAckedSegments()
    {
        var c = new AckClock(new RenoCongestionControl(), cwnd: 20, ssthresh: 20);
        for (uint round = 1; round <= 10; round++)
        {
            c.Round(Rtt, spacingUs: 100);   // cwnd ACKs: snd_cwnd_cnt reaches cwnd exactly once
            Assert.Equal(20 + round, c.Tp.SndCwnd);
            Assert.Equal(0u, c.Tp.SndCwndCnt);
        }
    }

    [Theory]
    [InlineData(100u, 50u)]
    [InlineData(101u, 50u)]
    [InlineData(5u, 2u)]
    [InlineData(3u, 2u)]    // never below 2
    [InlineData(1u, 2u)]
    public void Ssthresh_IsHalfTheWindow_AtLeastTwo(uint cwnd, uint ssthresh)
    {
        var tp = new TcpCongestionState { SndCwnd = cwnd };
        Assert.Equal(ssthresh, new RenoCongestionControl().SsThresh(tp));
    }

    [Theory]
    [InlineData(50u, 100u, 100u)]   // spurious reduction: back to the window before it
    [InlineData(120u, 100u, 120u)]  // cwnd grew past it since: keep it
    public void Undo_RestoresTheLargerOfCwndAndPriorCwnd(uint cwnd, uint priorCwnd, uint undone)
    {
        var tp = new TcpCongestionState { SndCwnd = cwnd, PriorCwnd = priorCwnd };
        Assert.Equal(undone, new RenoCongestionControl().UndoCwnd(tp));
    }

    [Fact]
    public void CongestionAvoidance_DoesNotGrowWhenNotCwndLimited()
    {
        var tp = new TcpCongestionState { SndCwnd = 30, SndSsthresh = 20, IsCwndLimited = false, MaxPacketsOut = 30 };
        var reno = new RenoCongestionControl();
        for (int i = 0; i < 100; i++) reno.CongAvoid(tp, 0, 1);
        Assert.Equal(30u, tp.SndCwnd);
        Assert.Equal(0u, tp.SndCwndCnt);
    }

    [Theory]
    [InlineData(5u, 10u)]   // cwnd 10 >= 2 * 5 in flight: the application, not cwnd, limits the sender
    [InlineData(6u, 11u)]   // cwnd 10 < 2 * 6: slow start may still grow
    public void SlowStart_GrowsOnlyWhileCwndIsBelowTwiceWhatWasInFlight(uint maxPacketsOut, uint cwndAfter)
    {
        var tp = new TcpCongestionState { IsCwndLimited = false, MaxPacketsOut = maxPacketsOut };
        new RenoCongestionControl().CongAvoid(tp, 0, 1);
        Assert.Equal(cwndAfter, tp.SndCwnd);
    }
}
