using NetLab.Stack.Tcp;
using NetLab.Stack.Tcp.CongestionControl;

namespace NetLab.Stack.Tests.Tcp.CongestionControl;

/// <summary>
/// tcp_cubic.c driven through <see cref="TcpCongestionState"/> by an <see cref="AckClock"/>. Expected values
/// come from RFC 9438's equations with its constants, or from Linux's integer arithmetic where the test says so.
/// </summary>
public class CubicCongestionControlTests
{
    private const double BetaCubic = 0.7;   // RFC 9438 §4.1.1; Linux 717/1024
    private const double C = 0.4;           // RFC 9438 §4.1.1; Linux 410/1024
    private const long Rtt = 100_000;       // µs
    private const long Burst = 50;          // µs between the ACKs of a round that arrives as a burst

    /// <summary>RFC 9438 §4.2 eq. 1: W_cubic(t) = C·(t − K)³ + W_max.</summary>
    private static double WCubic(double t, double k, double wMax) => C * Math.Pow(t - k, 3) + wMax;

    /// <summary>A connection in congestion avoidance at <paramref name="wMax"/> with delay_min = <paramref name="rttUs"/>,
    /// just repaired from a loss.</summary>
    private static (CubicCongestionControl Cc, AckClock Clock) AfterLossAt(uint wMax, long rttUs,
        CubicParameters? p = null)
    {
        var cc = new CubicCongestionControl(p ?? CubicParameters.Default);
        var c = new AckClock(cc, cwnd: wMax, ssthresh: wMax);
        cc.PktsAcked(c.Tp, new TcpAckSample(1, rttUs, wMax));
        c.FastRecovery();
        return (cc, c);
    }

    [Fact]
    public void Registry_ListsRenoThenCubic_AndCubicIsTheDefault()
    {
        Assert.Equal("reno cubic", CongestionControlRegistry.Available);
        Assert.Equal("cubic", new TcpSysctls().TcpCongestionControl);
        var cc = CongestionControlRegistry.Create("cubic");
        Assert.IsType<CubicCongestionControl>(cc);
        Assert.Equal("cubic", cc.Name);
        Assert.False(cc.HasCongControl);
    }

    [Theory]
    [InlineData(100u, 70u)]     // 100·717/1024 = 70.02
    [InlineData(1000u, 700u)]   // 700.2
    [InlineData(11u, 7u)]       // 7.70
    [InlineData(2u, 2u)]        // 1.40, raised to 2
    public void Ssthresh_IsCwndTimes717Over1024_AtLeastTwo_AndRemembersCwndAsWmax(uint cwnd, uint ssthresh)
    {
        var cc = new CubicCongestionControl();
        var tp = new TcpCongestionState { SndCwnd = cwnd };
        Assert.Equal(ssthresh, cc.SsThresh(tp));
        Assert.Equal(cwnd, cc.LastMaxCwnd);
    }

    [Fact]
    public void Ssthresh_BelowThePreviousWmax_LowersWmaxForFastConvergence()
    {
        var cc = new CubicCongestionControl();
        var tp = new TcpCongestionState { SndCwnd = 100 };
        cc.SsThresh(tp);
        tp.SndCwnd = 80;                        // the next loss comes before the previous maximum
        Assert.Equal(56u, cc.SsThresh(tp));     // 80·717/1024 = 56.02
        // RFC 9438 §4.7: W_max = cwnd·(1 + β)/2 = 80·1.7/2 = 68; Linux 80·1741/2048 = 68.0.
        Assert.Equal(68u, cc.LastMaxCwnd);
        tp.SndCwnd = 90;                        // above it: W_max is the window itself
        cc.SsThresh(tp);
        Assert.Equal(90u, cc.LastMaxCwnd);
    }

    [Fact]
    public void Ssthresh_WithoutFastConvergence_KeepsCwndAsWmax()
    {
        var cc = new CubicCongestionControl(CubicParameters.Default with { FastConvergence = 0 });
        var tp = new TcpCongestionState { SndCwnd = 100 };
        cc.SsThresh(tp);
        tp.SndCwnd = 80;
        cc.SsThresh(tp);
        Assert.Equal(80u, cc.LastMaxCwnd);
    }

    [Fact]
    public void AfterLossAtWmax100_CwndRisesConcavelyToWmaxAtK_StaysOnThePlateau_ThenGrowsConvexly()
    {
        const uint wMax = 100;
        double rtt = Rtt / 1e6;
        // RFC 9438 §4.2 eq. 2 with cwnd_epoch = β·W_max: K = ∛(W_max·(1 − β)/C) = ∛75 = 4.217 s.
        double k = Math.Cbrt(wMax * (1 - BetaCubic) / C);
        // Within this distance of K the cubic term C·|t − K|³ is under one segment: 1.357 s.
        double flat = Math.Cbrt(1 / C);

        var (cc, c) = AfterLossAt(wMax, Rtt);
        uint cwndEpoch = c.Tp.SndCwnd;
        Assert.Equal(70u, cwndEpoch);
        var trace = new List<(double T, uint Cwnd)>();
        long epochUs = -1;
        do
        {
            c.SteadyRound(Rtt);
            if (epochUs < 0) epochUs = c.RoundStartUs;      // the epoch starts at the first ACK after recovery
            trace.Add(((c.Tp.NowUs - epochUs) / 1e6, c.Tp.SndCwnd));
        }
        while (trace[^1].T < k + 3);
        uint CwndAt(double t) => trace.Last(p => p.T <= t).Cwnd;

        // Linux's K (2^-10 s) is the RFC's: W_max − cwnd_epoch is 30 either way, and C differs by 0.1 %.
        Assert.InRange(cc.BicK / 1024.0, k - 0.01, k + 0.01);

        // cwnd follows W_cubic(t + RTT) (RFC 9438 §4.2's target; Linux looks delay_min ahead). Two segments of
        // tolerance: cwnd is an integer that moves one segment at a time behind its target, and the target
        // truncates C·(t − K)³ to whole segments.
        foreach (var (t, cwnd) in trace) Assert.InRange((double)cwnd, WCubic(t + rtt, k, wMax) - 2, WCubic(t + rtt, k, wMax) + 2);

        // Concave before K: each second adds less than the one before (17, 10, 3 segments).
        Assert.True(CwndAt(1) - cwndEpoch > CwndAt(2) - CwndAt(1));
        Assert.True(CwndAt(2) - CwndAt(1) > CwndAt(3) - CwndAt(2));

        // W_max is reached once the truncated deficit C·(K − t − RTT)³ is zero, at K − flat − RTT, within one
        // more RTT; at K itself cwnd is exactly W_max.
        double reached = trace.First(p => p.Cwnd >= wMax).T;
        Assert.InRange(reached, k - flat - rtt, k - flat + rtt);
        Assert.Equal(wMax, CwndAt(k));
        // The plateau holds until the target passes W_max + 1 at K + flat (minus the RTT look-ahead and one round).
        Assert.All(trace.Where(p => p.T >= reached && p.T <= k + flat - 2 * rtt), p => Assert.Equal(wMax, p.Cwnd));

        // Convex beyond: each second adds more than the one before.
        Assert.True(CwndAt(k + 3) - CwndAt(k + 2) > CwndAt(k + 2) - CwndAt(k + 1));
        Assert.True(CwndAt(k + 3) > wMax + 8);  // W_cubic(K + 3 s) = 100 + 0.4·27 = 110.8
    }

    [Fact]
    public void AtSmallRttAndWindow_TheRenoFriendlyRegionSetsTheGrowth()
    {
        // RTT 10 ms, W_max 30: K = ∛(30·0.3/0.4) = 2.8 s, so for the 2 s (200 RTTs) simulated the cubic curve
        // stays at or below W_max, while Reno would have added a segment per RTT.
        const long rtt = 10_000;
        const uint wMax = 30;
        uint[] Run(CubicParameters p)
        {
            var (_, c) = AfterLossAt(wMax, rtt, p);
            var cwnd = new uint[201];
            cwnd[0] = c.Tp.SndCwnd;
            for (int r = 1; r <= 200; r++)
            {
                c.SteadyRound(rtt);
                cwnd[r] = c.Tp.SndCwnd;
            }
            return cwnd;
        }
        uint[] friendly = Run(CubicParameters.Default);
        uint[] cubicOnly = Run(CubicParameters.Default with { TcpFriendliness = 0 });

        // RFC 9438 §4.3: W_est grows by α_cubic = 3(1 − β)/(1 + β) = 0.529 segments per RTT (Linux: 8/beta_scale
        // = 8/15 = 0.533). Over rounds 20..200 that is 95.3 (96.0) segments; ±2 for integer cwnd at both ends.
        double alpha = 3 * (1 - BetaCubic) / (1 + BetaCubic);
        Assert.InRange((double)(friendly[200] - friendly[20]), 180 * alpha - 2, 180 * alpha + 2);
        Assert.All(cubicOnly, w => Assert.True(w <= wMax));
        Assert.True(friendly[200] > 3 * wMax);   // ≈ 21 + 200·0.53, far past W_max
    }

    [Fact]
    public void BeforeAnyLoss_CongestionAvoidanceGrowsAtLeastFivePercentPerRtt()
    {
        var cc = new CubicCongestionControl();
        var c = new AckClock(cc, cwnd: 100, ssthresh: 100);
        c.SteadyRound(Rtt);
        // W_max is unknown (0): cnt is capped at 20 ACKs per segment, cwnd/20 per RTT.
        Assert.Equal(20u, cc.Cnt);
        Assert.Equal(105u, c.Tp.SndCwnd);
    }

    [Fact]
    public void CongestionAvoidance_DoesNotGrowWhenNotCwndLimited()
    {
        var cc = new CubicCongestionControl();
        var c = new AckClock(cc, cwnd: 100, ssthresh: 100);
        c.Tp.IsCwndLimited = false;
        c.SteadyRound(Rtt);
        Assert.Equal(100u, c.Tp.SndCwnd);
    }

    /// <summary>Slow start from IW 10 for two rounds of ACK bursts: cwnd 40, delay_min = <paramref name="rttUs"/>.</summary>
    private static AckClock SlowStartTo40(long rttUs, long spacingUs = Burst)
    {
        var c = new AckClock(new CubicCongestionControl());
        c.Round(rttUs, spacingUs);
        c.Round(rttUs, spacingUs);
        Assert.Equal(40u, c.Tp.SndCwnd);
        Assert.True(c.Tp.InSlowStart);
        return c;
    }

    [Theory]
    [InlineData(10_000L, 4_000L)]     // delay_min/8 = 1.25 ms, raised to HYSTART_DELAY_MIN (4 ms)
    [InlineData(100_000L, 12_500L)]   // delay_min/8
    [InlineData(200_000L, 16_000L)]   // delay_min/8 = 25 ms, capped at HYSTART_DELAY_MAX (16 ms)
    public void HyStartDelay_EndsSlowStart_WhenTheRoundMinRttExceedsDelayMinByTheThreshold(long rtt, long threshold)
    {
        var c = SlowStartTo40(rtt);
        c.Round(rtt, Burst, sampleRttUs: rtt + threshold + 1);
        // The first HYSTART_MIN_SAMPLES (8) ACKs of the round only collect; the 9th compares. Each of the 8 had
        // grown cwnd by one, so ssthresh = 40 + 8.
        Assert.Equal(48u, c.Tp.SndSsthresh);
        Assert.Equal(1, c.Mib[TcpExtMib.TCPHystartDelayDetect]);
        Assert.Equal(48, c.Mib[TcpExtMib.TCPHystartDelayCwnd]);
        Assert.Equal(0, c.Mib[TcpExtMib.TCPHystartTrainDetect]);
        Assert.True(c.Tp.SndCwnd < 80);     // the rest of the round grew cwnd on the cubic curve, not doubling it
    }

    [Theory]
    [InlineData(10_000L, 4_000L)]
    [InlineData(100_000L, 12_500L)]
    [InlineData(200_000L, 16_000L)]
    public void HyStartDelay_KeepsSlowStart_WhenTheRiseIsExactlyTheThreshold(long rtt, long threshold)
    {
        var c = SlowStartTo40(rtt);
        c.Round(rtt, Burst, sampleRttUs: rtt + threshold);
        Assert.Equal(TcpCongestionState.InfiniteSsthresh, c.Tp.SndSsthresh);
        Assert.Equal(80u, c.Tp.SndCwnd);
        Assert.Equal(0, c.Mib[TcpExtMib.TCPHystartDelayDetect]);
    }

    [Theory]
    [InlineData(0L)]                // no pacing rate yet: hystart_ack_delay() = 0
    [InlineData(524_288_000L)]      // four 64 KiB GSO packets at this rate: 500 µs
    [InlineData(100_000_000L)]      // 2.6 ms, capped at 1 ms
    public void HyStartAckTrain_EndsSlowStart_OnceARoundOfCloseAcksSpansHalfDelayMin(long pacingRate)
    {
        const long rtt = 10_000, spacing = 200;
        var c = SlowStartTo40(rtt, spacing);    // 20 ACKs 200 µs apart span 3.8 ms: no train yet
        c.Tp.PacingRate = pacingRate;
        c.Round(rtt, spacing);

        // threshold = (delay_min + hystart_ack_delay) / 2 (halved: not paced, SK_PACING_NONE); the train is found
        // at the first ACK more than that after the round's first, when cwnd is 40 plus the ACKs before it.
        long ackDelay = pacingRate == 0 ? 0 : Math.Min(1000, 65536L * 4 * 1_000_000 / pacingRate);
        long threshold = (rtt + ackDelay) / 2;
        long firstOver = threshold / spacing + 1;
        Assert.Equal(40 + firstOver, c.Tp.SndSsthresh);
        Assert.Equal(1, c.Mib[TcpExtMib.TCPHystartTrainDetect]);
        Assert.Equal(40 + firstOver, c.Mib[TcpExtMib.TCPHystartTrainCwnd]);
        Assert.Equal(0, c.Mib[TcpExtMib.TCPHystartDelayDetect]);
    }

    [Theory]
    [InlineData(2000L, 131u)]    // hystart_ack_delta_us: ACKs at most 2 ms apart form a train
    [InlineData(2001L, null)]
    public void HyStartAckTrain_CountsOnlyAcksAtMostTwoMillisecondsApart(long spacing, uint? ssthresh)
    {
        const long rtt = 200_000;   // train threshold delay_min/2 = 100 ms
        var c = new AckClock(new CubicCongestionControl());
        for (int i = 0; i < 4; i++) c.Round(rtt, spacing);
        // Rounds of 10, 20, 40 and 80 ACKs: only the last spans more than 100 ms. At 2 ms it is found at its
        // 51st ACK (102 ms after the first), with cwnd 80 + 51.
        Assert.Equal(ssthresh ?? TcpCongestionState.InfiniteSsthresh, c.Tp.SndSsthresh);
        Assert.Equal(ssthresh is null ? 0 : 1, c.Mib[TcpExtMib.TCPHystartTrainDetect]);
    }

    [Fact]
    public void HyStart_LooksOnlyAtAcksThatFindCwndAtLeastHystartLowWindow()
    {
        var c = new AckClock(new CubicCongestionControl(), cwnd: 4);
        c.Round(Rtt, Burst);                                // 4 → 8, delay_min = RTT
        c.Round(Rtt, Burst, sampleRttUs: 2 * Rtt);          // ACKs find cwnd 8..15: no detection
        Assert.Equal(TcpCongestionState.InfiniteSsthresh, c.Tp.SndSsthresh);
        Assert.Equal(16u, c.Tp.SndCwnd);
        c.Round(Rtt, Burst, sampleRttUs: 2 * Rtt);          // cwnd 16: 8 samples, the 9th detects
        Assert.Equal(16u + 8, c.Tp.SndSsthresh);
        Assert.Equal(1, c.Mib[TcpExtMib.TCPHystartDelayDetect]);
    }

    [Fact]
    public void RttSamples_AreIgnoredInTheFirstSecondOfAnEpoch_AndWithoutATimestamp()
    {
        var cc = new CubicCongestionControl();
        var c = new AckClock(cc, cwnd: 100, ssthresh: 100);
        c.SteadyRound(Rtt);                     // the first ACK starts the epoch
        Assert.Equal((uint)Rtt, cc.DelayMin);
        long epochUs = c.RoundStartUs;

        c.Tp.NowUs = epochUs + 999_000;
        cc.PktsAcked(c.Tp, new TcpAckSample(1, Rtt / 2, 100));
        Assert.Equal((uint)Rtt, cc.DelayMin);   // 999 jiffies < HZ after epoch_start
        c.Tp.NowUs = epochUs + 1_000_000;
        cc.PktsAcked(c.Tp, new TcpAckSample(1, -1, 100));
        Assert.Equal((uint)Rtt, cc.DelayMin);   // no RTT sample
        cc.PktsAcked(c.Tp, new TcpAckSample(1, Rtt / 2, 100));
        Assert.Equal((uint)(Rtt / 2), cc.DelayMin);
        cc.PktsAcked(c.Tp, new TcpAckSample(1, 0, 100));
        Assert.Equal(1u, cc.DelayMin);          // a zero sample counts as 1 µs
    }

    [Fact]
    public void TxStartAfterIdle_ShiftsTheEpochByTheIdleTime_SoTheCurveResumesWhereItStopped()
    {
        var (steadyCc, steady) = AfterLossAt(100, Rtt);
        var (pausedCc, paused) = AfterLossAt(100, Rtt);
        var (_, unshifted) = AfterLossAt(100, Rtt);
        for (int i = 0; i < 10; i++)
        {
            steady.SteadyRound(Rtt);
            paused.SteadyRound(Rtt);
            unshifted.SteadyRound(Rtt);
        }
        uint epoch = pausedCc.EpochStart;
        paused.Pause(5_000_000);
        unshifted.Pause(5_000_000, txStart: false);
        Assert.Equal(epoch + 5000, pausedCc.EpochStart);    // 5 s of jiffies

        // Without the shift the 5 s idle would count as time on the curve: 6 s into the epoch (K = 4.2 s) the
        // target is W_cubic(6.1 s) = 102, some 15 segments above cwnd, instead of W_cubic(1.1 s) = 88, about one
        // above it; the flow grows by about ten segments in the next RTT instead of one or two.
        uint before = unshifted.Tp.SndCwnd;
        unshifted.SteadyRound(Rtt);
        Assert.True(unshifted.Tp.SndCwnd - before >= 8);

        // With it, the paused flow grows as the one that never paused: the same curve, with cnt recomputed at
        // slightly different ACKs (bictcp_update() skips recomputation within HZ/32 of the last one), so the two
        // may be one segment apart for a round.
        for (int i = 0; i < 40; i++)
        {
            steady.SteadyRound(Rtt);
            paused.SteadyRound(Rtt);
            Assert.InRange((int)paused.Tp.SndCwnd - (int)steady.Tp.SndCwnd, -1, 1);
        }
        Assert.Equal(steady.Tp.SndCwnd, paused.Tp.SndCwnd);
        Assert.Equal(steadyCc.EpochStart + 5000, pausedCc.EpochStart);
    }

    [Fact]
    public void TxStart_NeverMovesTheEpochPastNow()
    {
        // The epoch starts at an ACK one RTT after the last send, then the connection idles 2 s: the idle time
        // measured from lsndtime (2.1 s) is more than the time since the epoch began (2 s).
        var (cc, c) = AfterLossAt(100, Rtt);
        var tp = c.Tp;
        tp.LastSendUs = 10_000_000;
        tp.NowUs = tp.LastSendUs + Rtt;
        cc.CongAvoid(tp, tp.SndUna, 1);
        Assert.Equal(CubicCongestionControl.Jiffies32(tp.NowUs), cc.EpochStart);
        tp.NowUs += 2_000_000;
        cc.CwndEvent(tp, TcpCaEvent.TxStart);
        Assert.Equal(CubicCongestionControl.Jiffies32(tp.NowUs), cc.EpochStart);
    }

    [Fact]
    public void CwndEvents_OtherThanTxStart_AndTxStartOutsideAnEpoch_ChangeNothing()
    {
        var (cc, c) = AfterLossAt(100, Rtt);
        cc.CwndEvent(c.Tp, TcpCaEvent.TxStart);     // no epoch yet (cleared by ssthresh())
        Assert.Equal(0u, cc.EpochStart);
        c.SteadyRound(Rtt);
        uint epoch = cc.EpochStart;
        c.Tp.NowUs += 5_000_000;
        foreach (var ev in new[] { TcpCaEvent.CwndRestart, TcpCaEvent.CompleteCwr, TcpCaEvent.Loss, TcpCaEvent.EcnNoCe, TcpCaEvent.EcnIsCe })
            cc.CwndEvent(c.Tp, ev);
        Assert.Equal(epoch, cc.EpochStart);
    }

    [Fact]
    public void EnteringLoss_ForgetsWmaxTheEpochAndDelayMin()
    {
        var (cc, c) = AfterLossAt(100, Rtt);
        c.SteadyRound(Rtt);
        cc.SetState(c.Tp, TcpCaState.Recovery);     // other states keep everything
        Assert.Equal(100u, cc.LastMaxCwnd);
        Assert.NotEqual(0u, cc.EpochStart);

        // tcp_enter_loss(): ssthresh() records W_max, then set_state(Loss) resets struct bictcp. RFC 9438 §4.8
        // restarts the curve with K = 0 and W_max = cwnd at the start of congestion avoidance, as Linux does.
        c.Tp.SndSsthresh = cc.SsThresh(c.Tp);
        cc.SetState(c.Tp, TcpCaState.Loss);
        Assert.Equal(0u, cc.LastMaxCwnd);
        Assert.Equal(0u, cc.EpochStart);
        Assert.Equal(0u, cc.DelayMin);
        Assert.Equal(0u, cc.BicK);
    }

    [Theory]
    [InlineData(50u, 100u, 100u)]
    [InlineData(120u, 100u, 120u)]
    public void Undo_IsRenos_TheLargerOfCwndAndPriorCwnd(uint cwnd, uint priorCwnd, uint undone)
    {
        var tp = new TcpCongestionState { SndCwnd = cwnd, PriorCwnd = priorCwnd };
        Assert.Equal(undone, new CubicCongestionControl().UndoCwnd(tp));
    }
}
