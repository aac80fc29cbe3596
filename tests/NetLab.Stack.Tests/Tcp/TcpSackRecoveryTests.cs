using NetLab.Stack.Tcp;
using NetLab.Stack.Tcp.CongestionControl;

namespace NetLab.Stack.Tests.Tcp;

/// <summary>
/// Loss recovery (docs/reference/linux-tcp.md §5.5-§5.12): RACK's fast retransmit once three segments are SACKed
/// (reo_wnd 0) or after rack.rtt + min_rtt/4 (the REO timer), limited transmit, PRR, NewReno for peers without
/// SACK, the tail loss probe, RTO recovery from cwnd 1 with F-RTO, D-SACK undo; and the receiver's SACK and D-SACK
/// blocks. rtt 10 ms (srtt 10 ms, min_rtt 10 ms, rto 210 ms), MSS 1448. The senders use Reno (ssthresh = cwnd / 2)
/// so that PRR's numbers are fixed; one test checks the default CUBIC's ssthresh (β = 717/1024).
/// </summary>
public class TcpSackRecoveryTests
{
    /// <summary>A harness whose host uses Reno, as these scripts' cwnd and ssthresh assume.</summary>
    private static TcpHarness Reno()
    {
        var h = new TcpHarness();
        h.Host.Sysctl.Set("net.ipv4.tcp_congestion_control", "reno");
        return h;
    }

    private const int Mss = 1448;
    private static int S(int segment, int mss = Mss) => segment * mss;
    private static (int, int)[] Sack(int from, int to) => [(S(from), S(to))];

    private static Errno Send(TcpSocket s, int n) => s.TrySend(new byte[n], out _);

    /// <summary>
    /// Ten segments of <paramref name="total"/> leave at 20 ms (IW10), as five two-segment GSO skbs (tcp_tso_autosize
    /// at a 10 ms RTT gives tcp_min_tso_segs): PSH on every second segment.
    /// </summary>
    private static void SendInitialWindow(TcpHarness h, TcpPeer p, int total, int mss = Mss)
    {
        h.At(20.Ms(), () => Send(p.Socket, total));
        for (int i = 0; i < 10; i++) p.ExpectData(at: 20.Ms(), offset: S(i, mss), length: mss, psh: i % 2 == 1);
    }

    [Fact]
    public void ThirdSackedSegment_TriggersFastRetransmit_WithLimitedTransmitBefore_AndPrrAfter()
    {
        using var h = Reno();
        var p = TcpPeer.Connect(h, rtt: 10.Ms());
        SendInitialWindow(h, p, S(20));
        // Segment 0 is lost. One and two SACKed segments: Disorder, and one new segment per SACK (RFC 3042).
        p.Ack(at: 30.Ms(), ackOffset: 0, sack: Sack(1, 2));
        p.ExpectData(at: 30.Ms(), offset: S(10), length: Mss);
        // 1.5 ms after the last transmission: within 1 ms, tcp_tso_should_defer() would hold the 9-segment send head.
        p.Ack(at: 31500.Us(), ackOffset: 0, sack: Sack(1, 3));
        p.ExpectData(at: 31500.Us(), offset: S(11), length: Mss);
        Assert.Equal(TcpCaState.Disorder, p.Socket.GetInfo().CaState);
        // The third: sacked_out reaches tcp_reordering, RACK's reo_wnd drops to 0, segment 0 is lost: Recovery.
        p.Ack(at: 32.Ms(), ackOffset: 0, sack: Sack(1, 4));
        p.ExpectData(at: 32.Ms(), offset: 0, length: Mss);
        var info = p.Socket.GetInfo();
        Assert.Equal((TcpCaState.Recovery, 9u, 5u), (info.CaState, info.SndCwnd, info.SndSsthresh));
        // PRR above ssthresh: ssthresh / prior_cwnd = one new segment per two delivered.
        p.Ack(at: 33.Ms(), ackOffset: 0, sack: Sack(1, 5));
        p.Ack(at: 34.Ms(), ackOffset: 0, sack: Sack(1, 6));
        p.ExpectData(at: 34.Ms(), offset: S(12), length: Mss);
        p.Ack(at: 35.Ms(), ackOffset: 0, sack: Sack(1, 7));
        p.Ack(at: 36.Ms(), ackOffset: 0, sack: Sack(1, 8));
        p.ExpectData(at: 36.Ms(), offset: S(13), length: Mss);
        // In flight falls to ssthresh (5): packet conservation, one segment per segment delivered beyond it.
        p.Ack(at: 37.Ms(), ackOffset: 0, sack: Sack(1, 9));
        p.Ack(at: 38.Ms(), ackOffset: 0, sack: Sack(1, 10));
        Assert.Equal((5u, 5u), (p.Socket.GetInfo().SndCwnd, p.Socket.GetInfo().InFlight));
        p.Ack(at: 39.Ms(), ackOffset: 0, sack: Sack(1, 11));
        p.ExpectData(at: 39.Ms(), offset: S(14), length: Mss);
        h.ExpectNothingUntil(42.Ms());
        // The retransmission arrives: everything up to high_seq is acknowledged, cwnd = ssthresh, Open.
        p.Ack(at: 42.Ms(), ackOffset: S(12));
        p.ExpectData(at: 42.Ms(), offset: S(15), length: Mss);
        p.ExpectData(at: 42.Ms(), offset: S(16), length: Mss, psh: true); // one two-segment GSO skb
        info = p.Socket.GetInfo();
        Assert.Equal((TcpCaState.Open, 5u, 5u), (info.CaState, info.SndCwnd, info.SndSsthresh));
        var ext = h.Host.TcpExtStats;
        Assert.Equal((1L, 1L, 0L, 0L), (ext[TcpExtMib.TCPSackRecovery], ext[TcpExtMib.TCPFastRetrans],
            ext[TcpExtMib.TCPFullUndo], ext[TcpExtMib.TCPTimeouts]));
        Assert.Equal(1, h.Host.TcpStats[TcpMib.RetransSegs]);
        p.Socket.Dispose();
    }

    [Fact]
    public void FastRetransmit_WithTheDefaultCubic_SetsSsthreshToSevenTenthsOfCwnd()
    {
        using var h = new TcpHarness();
        var p = TcpPeer.Connect(h, rtt: 10.Ms());
        Assert.Equal("cubic", p.Socket.GetInfo().Congestion);
        SendInitialWindow(h, p, S(20));
        p.Ack(at: 30.Ms(), ackOffset: 0, sack: Sack(1, 2));
        p.ExpectData(at: 30.Ms(), offset: S(10), length: Mss);
        // 1.5 ms after the last transmission: within 1 ms, tcp_tso_should_defer() would hold the 9-segment send head.
        p.Ack(at: 31500.Us(), ackOffset: 0, sack: Sack(1, 3));
        p.ExpectData(at: 31500.Us(), offset: S(11), length: Mss);
        p.Ack(at: 32.Ms(), ackOffset: 0, sack: Sack(1, 4));
        p.ExpectData(at: 32.Ms(), offset: 0, length: Mss);
        // ssthresh = max(10 · 717 / 1024, 2) = 7; PRR: in flight 8 > 7, ⌈7 · 1 / 10⌉ = 1 → cwnd 9.
        var info = p.Socket.GetInfo();
        Assert.Equal((TcpCaState.Recovery, 9u, 7u), (info.CaState, info.SndCwnd, info.SndSsthresh));
        p.Socket.Dispose();
    }

    [Fact]
    public void OneSackedSegment_RetransmitsAfterRackRttPlusAQuarterMinRtt_TheReoTimer()
    {
        using var h = Reno();
        var p = TcpPeer.Connect(h, rtt: 10.Ms());
        SendInitialWindow(h, p, S(10));
        // Only the last segment arrives: reo_wnd = min_rtt/4 = 2.5 ms; the others are overdue at 20 + 10 + 2.5 ms,
        // and the REO timer rounds 2.5 ms + TCP_TIMEOUT_MIN up to 5 jiffies.
        p.Ack(at: 30.Ms(), ackOffset: 0, sack: Sack(9, 10));
        h.ExpectNothingUntil(35.Ms());
        p.ExpectData(at: 35.Ms(), offset: 0, length: Mss); // PRR: in flight 0 ≤ ssthresh → one segment
        Assert.Equal(TcpCaState.Recovery, p.Socket.GetInfo().CaState);
        Assert.Equal(9u, p.Socket.GetInfo().Lost);
        Assert.Equal(1, h.Host.TcpExtStats[TcpExtMib.TCPSackRecovery]);
        p.Socket.Dispose();
    }

    [Fact]
    public void NewReno_ThreeDupAcks_FastRetransmit_ThenAPartialAckRetransmitsTheNextHole()
    {
        using var h = Reno();
        var p = TcpPeer.Connect(h, rtt: 10.Ms(), sack: false);
        p.Ack(at: 15.Ms(), ackOffset: 0); // the peer's first window update, so that later ACKs are pure dup ACKs
        SendInitialWindow(h, p, S(20));
        p.Ack(at: 30.Ms(), ackOffset: 0);
        p.ExpectData(at: 30.Ms(), offset: S(10), length: Mss); // limited transmit: a dup ACK is an emulated SACK
        p.Ack(at: 31500.Us(), ackOffset: 0); // more than 1 ms after the last transmission (tcp_tso_should_defer)
        p.ExpectData(at: 31500.Us(), offset: S(11), length: Mss);
        p.Ack(at: 32.Ms(), ackOffset: 0);
        p.ExpectData(at: 32.Ms(), offset: 0, length: Mss); // dupthresh: the head is lost
        Assert.Equal(TcpCaState.Recovery, p.Socket.GetInfo().CaState);
        // Segments 0-4 are now in; 5 was lost too: the partial ACK marks the new head lost (RFC 6582).
        p.Ack(at: 42.Ms(), ackOffset: S(5));
        p.ExpectData(at: 42.Ms(), offset: S(5), length: Mss);
        Assert.Equal(TcpCaState.Recovery, p.Socket.GetInfo().CaState);
        var ext = h.Host.TcpExtStats;
        Assert.Equal((1L, 0L, 2L), (ext[TcpExtMib.TCPRenoRecovery], ext[TcpExtMib.TCPSackRecovery], ext[TcpExtMib.TCPFastRetrans]));
        p.Socket.Dispose();
    }

    [Fact]
    public void DsackOfTheFastRetransmission_UndoesTheReduction()
    {
        using var h = Reno();
        var p = TcpPeer.Connect(h, rtt: 10.Ms());
        SendInitialWindow(h, p, S(10));
        p.Ack(at: 30.Ms(), ackOffset: 0, sack: Sack(1, 2));
        p.Ack(at: 31.Ms(), ackOffset: 0, sack: Sack(1, 3));
        p.Ack(at: 32.Ms(), ackOffset: 0, sack: Sack(1, 4));
        p.ExpectData(at: 32.Ms(), offset: 0, length: Mss);
        // Segment 0 was only reordered: the peer ACKs everything (echoing the retransmission's timestamp)...
        p.Ack(at: 40.Ms(), ackOffset: S(10));
        h.At(40.5.Ms(), () => { });
        var info = p.Socket.GetInfo();
        // cwnd = ssthresh at the end of recovery, then one more in congestion avoidance for the 7 segments acked.
        Assert.Equal((TcpCaState.Open, 6u, 5u), (info.CaState, info.SndCwnd, info.SndSsthresh));
        // ... and then reports the retransmission as a duplicate: every retransmission was spurious.
        p.Ack(at: 41.Ms(), ackOffset: S(10), sack: [(0, S(1))]);
        h.At(41.5.Ms(), () => { });
        info = p.Socket.GetInfo();
        Assert.Equal((10u, TcpCongestionState.InfiniteSsthresh), (info.SndCwnd, info.SndSsthresh));
        var ext = h.Host.TcpExtStats;
        Assert.Equal((1L, 1L, 1L), (ext[TcpExtMib.TCPDSACKRecv], ext[TcpExtMib.TCPDSACKRecvSegs], ext[TcpExtMib.TCPDSACKUndo]));
        Assert.Equal(1, info.DsackDups);
        h.ExpectNothingUntil(2.Sec());
        p.Socket.Dispose();
    }

    [Fact]
    public void TailLossProbe_AfterTwoSrttPlus2Ms_RetransmitsTheLastSegment()
    {
        using var h = Reno();
        var p = TcpPeer.Connect(h, rtt: 10.Ms());
        h.At(20.Ms(), () => Send(p.Socket, S(2)));
        p.ExpectData(at: 20.Ms(), offset: 0, length: Mss);
        p.ExpectData(at: 20.Ms(), offset: S(1), length: Mss, psh: true);
        // PTO = 2·srtt + TCP_TIMEOUT_MIN (2 ms) with two segments out.
        p.ExpectData(at: 42.Ms(), offset: S(1), length: Mss, psh: true);
        Assert.Equal(1, h.Host.TcpExtStats[TcpExtMib.TCPLossProbes]);
        // Nothing answers: the RTO runs from the probe (42 + 210 ms) and resends the head.
        p.ExpectData(at: 252.Ms(), offset: 0, length: Mss);
        Assert.Equal(1, h.Host.TcpExtStats[TcpExtMib.TCPTimeouts]);
        p.Socket.Dispose();
    }

    [Fact]
    public void TailLossProbe_WithOneSegmentOut_IsBoundedByTheRto()
    {
        using var h = Reno();
        var p = TcpPeer.Connect(h, rtt: 10.Ms());
        h.At(20.Ms(), () => Send(p.Socket, 100));
        p.ExpectData(at: 20.Ms(), offset: 0, length: 100, psh: true);
        // PTO = 2·srtt + rto_min = 220 ms for a lone segment, but never later than the RTO (210 ms).
        p.ExpectData(at: 230.Ms(), offset: 0, length: 100, psh: true);
        Assert.Equal((1L, 0L), (h.Host.TcpExtStats[TcpExtMib.TCPLossProbes], h.Host.TcpExtStats[TcpExtMib.TCPTimeouts]));
        p.Ack(at: 240.Ms(), ackOffset: 100);
        h.ExpectNothingUntil(5.Sec());
        p.Socket.Dispose();
    }

    [Fact]
    public void TailLossProbe_WithOneSegmentOut_WaitsTwoSrttPlusRtoMin_WhenThatIsBeforeTheRto()
    {
        using var h = Reno();
        var p = TcpPeer.Connect(h, rtt: 300.Ms()); // srtt 300 ms, rto 900 ms
        h.At(400.Ms(), () => Send(p.Socket, 100));
        p.ExpectData(at: 400.Ms(), offset: 0, length: 100, psh: true);
        // 2·300 + 200 ms (one segment out: room for the peer's delayed ACK) = 800 ms < 900 ms.
        p.ExpectData(at: 1200.Ms(), offset: 0, length: 100, psh: true);
        Assert.Equal(1, h.Host.TcpExtStats[TcpExtMib.TCPLossProbes]);
        p.Socket.Dispose();
    }

    [Fact]
    public void Rto_EntersLossWithCwndOne_AndFrtoDetectsASpuriousTimeout()
    {
        const int M = 1460; // no timestamps: 1460-byte segments
        using var h = Reno();
        var p = TcpPeer.Connect(h, rtt: 10.Ms(), ts: false); // without timestamps only F-RTO can tell
        SendInitialWindow(h, p, S(10, M), M);
        p.ExpectData(at: 42.Ms(), offset: S(9, M), length: M, psh: true); // the tail loss probe
        p.ExpectData(at: 252.Ms(), offset: 0, length: M);             // the RTO: head only
        var info = p.Socket.GetInfo();
        Assert.Equal((TcpCaState.Loss, 1u, 5u), (info.CaState, info.SndCwnd, info.SndSsthresh));
        // The ACK of never-retransmitted segments 1 and 2 proves the timeout spurious (RFC 5682 step 3.b).
        p.Ack(at: 260.Ms(), ackOffset: S(3, M));
        h.At(260.5.Ms(), () => { });
        info = p.Socket.GetInfo();
        Assert.Equal(TcpCaState.Open, info.CaState);
        Assert.True(info.SndCwnd >= 10);
        var ext = h.Host.TcpExtStats;
        Assert.Equal((1L, 1L, 1L), (ext[TcpExtMib.TCPSpuriousRTOs], ext[TcpExtMib.TCPLossUndo], ext[TcpExtMib.TCPTimeouts]));
        p.Ack(at: 270.Ms(), ackOffset: S(10, M));
        h.ExpectNothingUntil(5.Sec());
        p.Socket.Dispose();
    }

    [Fact]
    public void Rto_RealLoss_GoesBackNFromCwndOne_InSlowStart()
    {
        const int M = 1460; // no timestamps: 1460-byte segments
        using var h = Reno();
        var p = TcpPeer.Connect(h, rtt: 10.Ms(), ts: false);
        SendInitialWindow(h, p, S(10, M), M);
        p.ExpectData(at: 42.Ms(), offset: S(9, M), length: M, psh: true);
        p.ExpectData(at: 252.Ms(), offset: 0, length: M);
        // Only the retransmitted head is acknowledged: F-RTO has no new data to try, so go-back-N with cwnd 1 + 1.
        p.Ack(at: 262.Ms(), ackOffset: S(1, M));
        p.ExpectData(at: 262.Ms(), offset: S(1, M), length: M);
        p.ExpectData(at: 262.Ms(), offset: S(2, M), length: M);
        Assert.Equal((2u, TcpCaState.Loss), (p.Socket.GetInfo().SndCwnd, p.Socket.GetInfo().CaState));
        Assert.Equal(2, h.Host.TcpExtStats[TcpExtMib.TCPSlowStartRetrans]);
        Assert.Equal(0, h.Host.TcpExtStats[TcpExtMib.TCPSpuriousRTOs]);
        p.Socket.Dispose();
    }

    // ------------------------------------------------------------------ the receiver's SACK and D-SACK blocks

    private static SackBlock B(TcpPeer p, int from, int to) => new(p.P(S(from)), p.P(S(to)));

    [Fact]
    public void OutOfOrderData_IsSacked_MostRecentFirst_ThreeBlocksWithTimestamps_AndCompressedAfterThreeDupAcks()
    {
        using var h = Reno();
        var p = TcpPeer.Connect(h, rtt: 10.Ms());
        p.Data(at: 20.Ms(), offset: S(1), length: Mss);
        p.ExpectAck(at: 20.Ms(), ackOffset: 0, Seg.SackBlocks(B(p, 1, 2)));
        p.Data(at: 21.Ms(), offset: S(3), length: Mss);
        p.ExpectAck(at: 21.Ms(), ackOffset: 0, Seg.SackBlocks(B(p, 3, 4), B(p, 1, 2)));
        p.Data(at: 22.Ms(), offset: S(5), length: Mss);
        p.ExpectAck(at: 22.Ms(), ackOffset: 0, Seg.SackBlocks(B(p, 5, 6), B(p, 3, 4), B(p, 1, 2)));
        // From the fourth dup ACK for the same rcv_nxt on, ACKs are compressed: one after 5 % of the RTT. The peer
        // echoes the DUT's latest timestamp, so the receiver's RTT estimate is 1 ms here: 50 µs.
        p.Data(at: 23.Ms(), offset: S(7), length: Mss);
        // A new block while two or more exist flushes the compressed ACK first (tcp_sack_compress_send_ack), so no
        // SACK information falls out of the three blocks. That ACK clears ICSK_ACK_SCHED, so the new block itself
        // waits for the next ACK, as in Linux.
        p.Data(at: 23.02.Ms(), offset: S(9), length: Mss);
        p.ExpectAck(at: 23.02.Ms(), ackOffset: 0, Seg.SackBlocks(B(p, 7, 8), B(p, 5, 6), B(p, 3, 4)));
        h.ExpectNothingUntil(24.Ms());
        // Extending a block moves it first and merges what it now touches ([3,4) + [4,5) + [5,6)).
        p.Data(at: 24.Ms(), offset: S(4), length: Mss);
        p.ExpectAck(at: 24.05.Ms(), ackOffset: 0, Seg.SackBlocks(B(p, 3, 6), B(p, 9, 10), B(p, 7, 8)));
        Assert.Equal(0, h.Host.TcpExtStats[TcpExtMib.TCPAckCompressed]);
        // Two dup ACKs folded into one: TCPAckCompressed counts the one not sent.
        p.Data(at: 25.Ms(), offset: S(10), length: Mss);
        p.Data(at: 25.01.Ms(), offset: S(11), length: Mss);
        p.ExpectAck(at: 25.05.Ms(), ackOffset: 0, Seg.SackBlocks(B(p, 9, 12), B(p, 3, 6), B(p, 7, 8)));
        Assert.Equal(1, h.Host.TcpExtStats[TcpExtMib.TCPAckCompressed]);
        // The hole at 0 fills: blocks below rcv_nxt go; quick ACK at once.
        p.Data(at: 30.Ms(), offset: 0, length: Mss);
        p.ExpectAck(at: 30.Ms(), ackOffset: S(2), Seg.SackBlocks(B(p, 9, 12), B(p, 3, 6), B(p, 7, 8)));
        Assert.Equal(8, h.Host.TcpExtStats[TcpExtMib.TCPOFOQueue]);
        p.Socket.Dispose();
    }

    [Fact]
    public void DuplicateData_IsReportedWithADsackBlockFirst()
    {
        using var h = Reno();
        var p = TcpPeer.Connect(h, rtt: 10.Ms());
        p.Data(at: 20.Ms(), offset: 0, length: Mss);
        p.ExpectAck(at: 20.Ms(), ackOffset: S(1), Seg.NoSackBlocks());
        // A retransmission of data already received: D-SACK below the cumulative ACK, sent at once.
        p.Data(at: 25.Ms(), offset: 0, length: Mss);
        p.ExpectAck(at: 25.Ms(), ackOffset: S(1), Seg.SackBlocks(B(p, 0, 1)));
        Assert.Equal((1L, 1L), (h.Host.TcpExtStats[TcpExtMib.TCPDSACKOldSent], h.Host.TcpExtStats[TcpExtMib.DelayedACKLost]));
        // An out-of-order segment received twice: D-SACK inside the SACK block that follows it.
        p.Data(at: 30.Ms(), offset: S(2), length: Mss);
        p.ExpectAck(at: 30.Ms(), ackOffset: S(1), Seg.SackBlocks(B(p, 2, 3)));
        p.Data(at: 31.Ms(), offset: S(2), length: Mss);
        p.ExpectAck(at: 31.Ms(), ackOffset: S(1), Seg.SackBlocks(B(p, 2, 3), B(p, 2, 3)));
        Assert.Equal((1L, 1L), (h.Host.TcpExtStats[TcpExtMib.TCPDSACKOfoSent], h.Host.TcpExtStats[TcpExtMib.TCPOFOMerge]));
        p.Socket.Dispose();
    }
}
