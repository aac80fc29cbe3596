using NetLab.Core.Time;
using NetLab.Stack.Tcp;

namespace NetLab.Stack.Tests.Tcp;

/// <summary>
/// RTT estimation and the retransmission timer (docs/reference/linux-tcp.md §5.2-§5.4): RFC 6298 as Linux computes
/// it (RTO = SRTT + max(rto_min, 4·RTTVAR), rounded up to a jiffy), Karn's rule and timestamp samples, exponential
/// backoff, and the tcp_retries2 time budget ending in ETIMEDOUT without a RST. The DUT sends.
/// </summary>
public class TcpRetransmitTests
{
    private static Errno Send(TcpSocket s, int n) => s.TrySend(new byte[n], out _);

    [Theory]
    [InlineData(10_000, 10_000, 210_000)]  // srtt 10 ms + rttvar floored at 200 ms
    [InlineData(50, 50, 201_000)]          // a LAN: 200.05 ms rounds up to 201 jiffies ("rto:201" in ss)
    [InlineData(300_000, 300_000, 900_000)] // the first sample: rttvar = 2·rtt = 600 ms
    public void FirstRttSample_FromTheSyn_GivesLinuxsRto(int rttUs, long srttUs, long rtoUs)
    {
        using var h = new TcpHarness();
        var p = TcpPeer.Connect(h, rtt: SimDuration.FromMicroseconds(rttUs));
        var info = p.Socket.GetInfo();
        Assert.Equal((srttUs, rtoUs, 0), (info.RttUs, info.RtoUs, info.Backoff));
        p.Socket.Dispose();
    }

    [Fact]
    public void Rto_BacksOffExponentially_CountingTcpTimeouts()
    {
        using var h = new TcpHarness();
        var p = TcpPeer.Connect(h, rtt: 10.Ms(), sack: false); // no SACK, so no tail loss probe
        h.At(20.Ms(), () => Send(p.Socket, 100));
        p.ExpectData(at: 20.Ms(), offset: 0, length: 100, psh: true);
        // 210 ms, then 420, 840, 1680, 3360 ms apart.
        var at = 20.Ms();
        long rto = 210;
        for (int k = 1; k <= 5; k++)
        {
            at += rto.Ms();
            p.ExpectData(at: at, offset: 0, length: 100, psh: true);
            rto *= 2;
            Assert.Equal((rto * 1000, k), (p.Socket.GetInfo().RtoUs, p.Socket.GetInfo().Backoff));
        }
        Assert.Equal(5, h.Host.TcpExtStats[TcpExtMib.TCPTimeouts]);
        Assert.Equal(5, h.Host.TcpStats[TcpMib.RetransSegs]);
        p.Socket.Dispose();
    }

    [Fact]
    public void KarnsRule_TheAckOfARetransmissionGivesNoSample_AndTheBackedOffRtoStays()
    {
        using var h = new TcpHarness();
        var p = TcpPeer.Connect(h, rtt: 10.Ms(), sack: false, ts: false);
        h.At(20.Ms(), () => Send(p.Socket, 100));
        p.ExpectData(at: 20.Ms(), offset: 0, length: 100, psh: true);
        p.ExpectData(at: 230.Ms(), offset: 0, length: 100, psh: true);
        p.Ack(at: 300.Ms(), ackOffset: 100);
        h.At(301.Ms(), () => { });
        var info = p.Socket.GetInfo();
        Assert.Equal((10_000L, 420_000L, 1), (info.RttUs, info.RtoUs, info.Backoff));
        // The next ACK of new data is a valid sample: backoff cleared, RTO from SRTT again.
        h.At(400.Ms(), () => Send(p.Socket, 100));
        p.ExpectData(at: 400.Ms(), offset: 100, length: 100, psh: true);
        p.Ack(at: 410.Ms(), ackOffset: 200);
        h.At(411.Ms(), () => { });
        info = p.Socket.GetInfo();
        Assert.Equal((10_000L, 210_000L, 0), (info.RttUs, info.RtoUs, info.Backoff));
        p.Socket.Dispose();
    }

    [Fact]
    public void Timestamps_GiveASampleForARetransmission_FromTheEchoedTsval()
    {
        using var h = new TcpHarness();
        var p = TcpPeer.Connect(h, rtt: 10.Ms(), sack: false);
        h.At(20.Ms(), () => Send(p.Socket, 100));
        p.ExpectData(at: 20.Ms(), offset: 0, length: 100, psh: true);
        p.ExpectData(at: 230.Ms(), offset: 0, length: 100, psh: true);
        p.Ack(at: 300.Ms(), ackOffset: 100); // echoes the retransmission's TSval: a 70 ms sample
        h.At(301.Ms(), () => { });
        var info = p.Socket.GetInfo();
        // srtt = 10 + (70 − 10)/8 = 17.5 ms; rttvar stays at its 200 ms floor; rto = 217.5 → 218 ms.
        Assert.Equal((17_500L, 218_000L, 0), (info.RttUs, info.RtoUs, info.Backoff));
        p.Socket.Dispose();
    }

    /// <summary>
    /// retransmits_timed_out(): tcp_retries2 = 15 is a time budget of 924.6 s (1023·0.2 + 6·120 s) counted from the
    /// first retransmission (retrans_stamp). With rto 201 ms the first retransmission is at 0.211 s and the timer
    /// fires at 0.211, 0.613, 1.417, ... 805.633 s (15 retransmissions); at 925.633 s the budget is spent, and the
    /// socket dies with ETIMEDOUT without sending anything (no RST).
    /// </summary>
    [Fact]
    public void DataGiveUp_AfterTheRetries2Budget_WithEtimedout_AndNoRst()
    {
        using var h = new TcpHarness();
        var p = TcpPeer.Connect(h, rtt: 1.Ms(), sack: false);
        Assert.Equal(201_000, p.Socket.GetInfo().RtoUs);
        Errno? error = null;
        SimDuration errorAt = default;
        h.Start(5.Ms(), async () =>
        {
            try { await p.Socket.ReceiveAsync(new byte[10]); }
            catch (NetLabSocketException e) { error = e.Errno; errorAt = h.Now; }
        });
        h.At(10.Ms(), () => Send(p.Socket, 100));
        p.ExpectData(at: 10.Ms(), offset: 0, length: 100, psh: true);
        long at = 10, rto = 201;
        for (int k = 1; k <= 15; k++)
        {
            at += rto;
            p.ExpectData(at: at.Ms(), offset: 0, length: 100, psh: true);
            rto = Math.Min(rto * 2, 120_000);
        }
        Assert.Equal(805_633, at);
        h.ExpectNothingUntil(1100.Sec());
        Assert.Equal(Errno.ETIMEDOUT, error);
        Assert.Equal(925_633.Ms(), errorAt);
        Assert.Equal(TcpState.Close, p.Socket.State);
        Assert.Equal(16, h.Host.TcpExtStats[TcpExtMib.TCPTimeouts]);
        Assert.Equal(1, h.Host.TcpExtStats[TcpExtMib.TCPAbortOnTimeout]);
        Assert.Equal(15, h.Host.TcpStats[TcpMib.RetransSegs]);
        Assert.Equal(0, h.Host.TcpStats[TcpMib.OutRsts]);
        p.Socket.Dispose();
    }

    [Fact]
    public void OutSegs_CountsNewSegmentsAndPureAcks_NotRetransmissions()
    {
        using var h = new TcpHarness();
        var p = TcpPeer.Connect(h, rtt: 10.Ms(), sack: false);
        long before = h.Host.TcpStats[TcpMib.OutSegs]; // SYN and the handshake ACK
        h.At(20.Ms(), () => Send(p.Socket, 100));
        p.ExpectData(at: 20.Ms(), offset: 0, length: 100, psh: true);
        p.ExpectData(at: 230.Ms(), offset: 0, length: 100, psh: true);
        Assert.Equal((2L, before + 1, 1L), (before, h.Host.TcpStats[TcpMib.OutSegs], h.Host.TcpStats[TcpMib.RetransSegs]));
        p.Socket.Dispose();
    }
}
