using NetLab.Core.Time;
using NetLab.Stack.Link;
using NetLab.Stack.IPv4;
using NetLab.Stack.Tcp;
using NetLab.Stack.Tcp.CongestionControl;

namespace NetLab.Stack.Tests.Tcp;

/// <summary>
/// TCP output as GSO packets (tcp_write_xmit with TSO): the send head goes out in skbs of up to
/// min(cwnd_quota, tcp_tso_segs) segments — cwnd_quota at most half of cwnd (tcp_cwnd_test), tcp_tso_segs from the
/// pacing rate and the min RTT (tcp_tso_autosize) — and a device without TSO cuts them into MSS-sized frames after
/// its qdisc. A TSO device (packetdrill's tun) shows the super-segments themselves. MSS 1448 (timestamps).
/// </summary>
public class TcpGsoTests
{
    private const int Mss = 1448;

    private static TcpHarness TsoHarness()
    {
        var h = new TcpHarness();
        h.Device.Features = NetdevFeatures.Tso;
        return h;
    }

    private static void Send(TcpPeer p, SimDuration at, int bytes) => p.H.At(at, () => Assert.Equal(Errno.None, p.Socket.TrySend(new byte[bytes], out _)));

    [Fact]
    public void CloseByPeer_InitialWindowLeavesAsTwoSkbsOfHalfTheCwnd()
    {
        // min RTT 100 µs < 2^9 µs: tcp_tso_autosize() allows all of gso_max_size (45 segments); tcp_cwnd_test()
        // allows half of cwnd 10 per skb, so that two GSO packets are in flight.
        using var h = TsoHarness();
        var p = TcpPeer.Connect(h, rtt: 100.Us());
        Send(p, 1.Ms(), 10 * Mss);
        // __tcp_transmit_skb() puts PSH on every GSO skb.
        var first = p.ExpectData(at: 1.Ms(), offset: 0, length: 5 * Mss, psh: true);
        p.ExpectData(at: 1.Ms(), offset: 5 * Mss, length: 5 * Mss, psh: true);
        Assert.Equal(20 + 32 + 5 * Mss, Ipv4Repr.HeaderLength + first.Ip.PayloadLength);
        Assert.True(first.Ip.DontFragment);
        // Wire segments count as segments: packets_out and TCPOrigDataSent see 10, not 2.
        Assert.Equal(10, h.Host.TcpExtStats[TcpExtMib.TCPOrigDataSent]);
        Assert.Equal(10u, p.Socket.GetInfo().Unacked);
        p.Ack(at: 1100.Us(), ackOffset: 10 * Mss);
        h.ExpectNothingUntil(100.Ms());
        p.Socket.Dispose();
    }

    [Fact]
    public void TenMsRtt_AutosizesToTcpMinTsoSegs()
    {
        // Pacing rate after the handshake: 200 % of 10 · 1448 B / 10 ms = 2.9 MB/s, 2828 bytes per ms: one segment,
        // raised to tcp_min_tso_segs (2); the RTT allowance is gone (65536 >> (10000 >> 9)).
        using var h = TsoHarness();
        var p = TcpPeer.Connect(h, rtt: 10.Ms());
        Send(p, 20.Ms(), 10 * Mss);
        for (int i = 0; i < 5; i++) p.ExpectData(at: 20.Ms(), offset: 2 * i * Mss, length: 2 * Mss, psh: true);
        p.Socket.Dispose();
    }

    [Fact]
    public void TcpMinTsoSegs_RaisesTheSkbSize_UpToHalfTheCwnd()
    {
        using var h = TsoHarness();
        h.Host.Sysctl.Set("net.ipv4.tcp_min_tso_segs", "10");
        var p = TcpPeer.Connect(h, rtt: 10.Ms());
        Send(p, 20.Ms(), 10 * Mss);
        p.ExpectData(at: 20.Ms(), offset: 0, length: 5 * Mss, psh: true);
        p.ExpectData(at: 20.Ms(), offset: 5 * Mss, length: 5 * Mss, psh: true);
        p.Socket.Dispose();
    }

    [Fact]
    public void WithoutTso_TheDeviceCutsGsoPacketsIntoMssFrames_WithConsecutiveIpIds_AndPshOnEachLastSegment()
    {
        using var h = new TcpHarness();
        var p = TcpPeer.Connect(h, rtt: 100.Us());
        Send(p, 1.Ms(), 10 * Mss);
        var frames = new List<SentSegment>();
        // Two GSO skbs of five: tcp_gso_segment() leaves each skb's PSH on its last segment.
        for (int i = 0; i < 10; i++) frames.Add(p.ExpectData(at: 1.Ms(), offset: i * Mss, length: Mss, psh: i is 4 or 9));
        // Checksums were verified by the harness's parser; IDs count up across both GSO packets (ip_select_ident_segs).
        for (int i = 1; i < 10; i++) Assert.Equal((ushort)(frames[0].Ip.Identification + i), frames[i].Ip.Identification);
        Assert.All(frames, f => Assert.Equal(20 + 32 + Mss, Ipv4Repr.HeaderLength + f.Ip.PayloadLength));
        Assert.Equal(2, h.Host.IpStats[IpMib.OutRequests] - 2); // SYN and ACK, then two GSO skbs
        p.Socket.Dispose();
    }

    [Fact]
    public void AfterAnRto_TheHeadGoesAlone_ThenTheRestOfItsSkbAsOneGsoPacketPerCwnd()
    {
        using var h = TsoHarness();
        h.Host.Sysctl.Set("net.ipv4.tcp_frto", "0");
        h.Host.Sysctl.Set("net.ipv4.tcp_early_retrans", "0"); // no tail loss probe at 2·srtt + 2 ms
        var p = TcpPeer.Connect(h, rtt: 100.Us());
        Send(p, 1.Ms(), 10 * Mss);
        p.ExpectData(at: 1.Ms(), offset: 0, length: 5 * Mss, psh: true);
        p.ExpectData(at: 1.Ms(), offset: 5 * Mss, length: 5 * Mss, psh: true);
        // The RTO (200 ms + rttvar, in jiffies) retransmits one MSS of the head skb (tcp_retransmit_skb(.., 1)).
        var rtx = p.ExpectData(at: 202.Ms(), offset: 0, length: Mss);
        Assert.Equal(TcpCaState.Loss, p.Socket.GetInfo().CaState);
        // Its ACK grows cwnd to 2: the rest of the split skb goes out two segments at once.
        var t = rtx.At + 100.Us();
        p.Ack(at: t, ackOffset: Mss);
        p.ExpectData(at: t, offset: Mss, length: 2 * Mss, psh: true);
        h.ExpectNothingUntil(t + 50.Us());
        Assert.Equal(3, h.Host.TcpStats[TcpMib.RetransSegs]);
        p.Socket.Dispose();
    }

    [Fact]
    public void SackedSegments_SplitTheSkb_SoTheFastRetransmissionIsTheLostSegmentAlone()
    {
        using var h = TsoHarness();
        var p = TcpPeer.Connect(h, rtt: 100.Us());
        Send(p, 1.Ms(), 10 * Mss);
        p.ExpectData(at: 1.Ms(), offset: 0, length: 5 * Mss, psh: true);
        p.ExpectData(at: 1.Ms(), offset: 5 * Mss, length: 5 * Mss, psh: true);
        // Segment 0 is lost; 1..3 arrive. Three SACKed segments: RACK marks 0 lost and Recovery resends it alone.
        p.Ack(at: 1100.Us(), ackOffset: 0, sack: [(Mss, 4 * Mss)]);
        p.ExpectData(at: 1100.Us(), offset: 0, length: Mss);
        Assert.Equal(TcpCaState.Recovery, p.Socket.GetInfo().CaState);
        Assert.Equal(1, h.Host.TcpStats[TcpMib.RetransSegs]);
        p.Socket.Dispose();
    }
}

/// <summary>
/// Internal pacing (tcp_pacing_check, tcp_update_skb_after_send): with SO_MAX_PACING_RATE set, TCP spaces its skbs
/// len/rate apart itself, as it does for BBR without sch_fq; the first 10 data segments go unpaced, as sch_fq does.
/// </summary>
public class TcpPacingTests
{
    private const int Mss = 1448;

    [Fact]
    public void MaxPacingRate_SpacesSkbsByLengthOverRate_AfterTheFirstTenSegments()
    {
        using var h = new TcpHarness();
        h.Device.Features = NetdevFeatures.Tso;
        // 1448 · 1000 B/s: one MSS per millisecond. The RTT allowance of autosizing (min RTT 100 µs) keeps skbs at
        // half of cwnd.
        var p = TcpPeer.Connect(h, rtt: 100.Us(), configure: s => s.MaxPacingRate = Mss * 1000);
        h.At(1.Ms(), () => Assert.Equal(Errno.None, p.Socket.TrySend(new byte[20 * Mss], out _)));
        p.ExpectData(at: 1.Ms(), offset: 0, length: 5 * Mss, psh: true);
        // The second skb brings data_segs_out to 10: from it on, departures are paced, 5 ms for its 5 segments
        // (no idle credit: the first skb left at the same instant).
        p.ExpectData(at: 1.Ms(), offset: 5 * Mss, length: 5 * Mss, psh: true);
        p.Ack(at: 1200.Us(), ackOffset: 10 * Mss); // cwnd 20: ten segments allowed, but not before 6 ms
        p.ExpectData(at: 6.Ms(), offset: 10 * Mss, length: 10 * Mss, psh: true);
        // Ten segments take 10 ms at the rate; the next write waits until 16 ms.
        p.Ack(at: 6200.Us(), ackOffset: 20 * Mss);
        h.At(7.Ms(), () => Assert.Equal(Errno.None, p.Socket.TrySend(new byte[Mss], out _)));
        p.ExpectData(at: 16.Ms(), offset: 20 * Mss, length: Mss, psh: true);
        Assert.Equal(Mss * 1000, p.Socket.GetInfo().PacingRate);
        p.Socket.Dispose();
    }
}

/// <summary>Socket options the packetdrill suite sets: IP_MTU_DISCOVER on a TCP socket and TCP_INQ's hint.</summary>
public class TcpSocketOptionTests
{
    [Fact]
    public void IpPmtudiscDont_ClearsDf_OnEverySegment()
    {
        using var h = new TcpHarness();
        var p = TcpPeer.Connect(h, rtt: 10.Ms(), configure: s => s.PmtuDiscover = PmtuDisc.Dont);
        h.At(20.Ms(), () => Assert.Equal(Errno.None, p.Socket.TrySend(new byte[100], out _)));
        var data = p.ExpectData(at: 20.Ms(), offset: 0, length: 100, psh: true);
        Assert.False(data.Ip.DontFragment);
        p.Socket.Dispose();
    }

    [Fact]
    public void InqHint_CountsUnreadBytes_ThenOneAfterTheFin()
    {
        using var h = new TcpHarness();
        var p = TcpPeer.Connect(h, rtt: 10.Ms());
        p.Data(at: 20.Ms(), offset: 0, length: 1000, fin: true);
        p.ExpectAck(at: 20.Ms(), ackOffset: 1001); // quick-ACK mode at the start of the connection
        bool checkedHint = false;
        h.At(21.Ms(), () =>
        {
            checkedHint = true;
            Assert.Equal(1000, p.Socket.InqHint);
            var buf = new byte[600];
            Assert.Equal(Errno.None, p.Socket.TryReceive(buf, out int n));
            Assert.Equal(400, p.Socket.InqHint);
            Assert.Equal(Errno.None, p.Socket.TryReceive(buf, out n));
            Assert.Equal(1, p.Socket.InqHint); // nothing left but EOF (SOCK_DONE)
        });
        h.ExpectNothingUntil(22.Ms()); // runs the check at 21 ms
        Assert.True(checkedHint);
        p.Socket.Dispose();
    }
}
