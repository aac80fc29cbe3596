using NetLab.Stack.Tcp;
using static NetLab.Stack.Tcp.TcpFlags;

namespace NetLab.Stack.Tests.Tcp;

/// <summary>
/// The receiver's ACK policy (docs/reference/linux-tcp.md §6.6): quick-ACK mode at the start, then one ACK per two
/// full segments, a lone segment ACKed by the delayed-ACK timer (TCP_DELACK_MIN 40 ms, ato growing on each missed
/// timer, capped at rto_min − 1 jiffy = 199 ms), interactive (pingpong) mode, TCP_QUICKACK and ICSK_ACK_PUSHED.
/// The DUT is the receiver; the harness is a Linux sender with MSS 1448 (timestamps on).
/// </summary>
public class TcpDelayedAckTests
{
    private const int Mss = 1448;

    /// <summary>Reads everything the socket receives, as an application in a recv() loop.</summary>
    internal static Task ReadForever(TcpHarness h, TcpSocket s) => h.Start(h.Now, async () =>
    {
        var buf = new byte[1 << 16];
        while (await s.ReceiveAsync(buf) > 0) { }
    });

    [Fact]
    public void SixteenQuickAcks_ThenOneAckPerTwoFullSegments_WhileTheApplicationReads()
    {
        using var h = new TcpHarness();
        var p = TcpPeer.Connect(h, rtt: 10.Ms());
        ReadForever(h, p.Socket);
        // 16 segments, 1 ms apart: every one is ACKed at once (quick = min(rcv_wnd / (2·rcv_mss), 16) = 16).
        for (int i = 0; i < 16; i++)
        {
            p.Data(at: (20 + i).Ms(), offset: i * Mss, length: Mss, psh: false);
            p.ExpectAck(at: (20 + i).Ms(), ackOffset: (i + 1) * Mss);
        }
        // Quick ACKs used up: the 17th waits, the 18th makes two full segments unacknowledged and is ACKed at once.
        for (int i = 16; i < 24; i += 2)
        {
            p.Data(at: (20 + i).Ms(), offset: i * Mss, length: Mss, psh: false);
            h.ExpectNothingUntil((21 + i).Ms());
            p.Data(at: (21 + i).Ms(), offset: (i + 1) * Mss, length: Mss, psh: false);
            p.ExpectAck(at: (21 + i).Ms(), ackOffset: (i + 2) * Mss);
        }
        Assert.Equal(0, h.Host.TcpExtStats[TcpExtMib.DelayedACKs]);
        p.Socket.Dispose();
    }

    [Fact]
    public void LoneSegment_IsAckedByTheDelayedAckTimer_After40Ms_AndCountsDelayedAcks()
    {
        using var h = new TcpHarness();
        var p = TcpPeer.Connect(h, rtt: 10.Ms());
        ExhaustQuickAcks(h, p, start: 20.Ms());
        // No PSH, application not reading: nothing makes the ACK urgent.
        p.Data(at: 100.Ms(), offset: 16 * Mss, length: Mss, psh: false);
        p.ExpectAck(at: 140.Ms(), ackOffset: 17 * Mss);
        Assert.Equal(1, h.Host.TcpExtStats[TcpExtMib.DelayedACKs]);
        // A short segment is "pushed" data (ICSK_ACK_PUSHED), but without a reader it still waits for the timer.
        p.Data(at: 300.Ms(), offset: 17 * Mss, length: 100);
        // ato doubled to 80 ms, but an RTT estimate bounds it to max(srtt, 40 ms) = 40 ms.
        p.ExpectAck(at: 340.Ms(), ackOffset: 17 * Mss + 100);
        Assert.Equal(2, h.Host.TcpExtStats[TcpExtMib.DelayedACKs]);
        p.Socket.Dispose();
    }

    /// <summary>16 back-to-back full segments from <paramref name="start"/>, each quick-ACKed, read by nobody.</summary>
    internal static void ExhaustQuickAcks(TcpHarness h, TcpPeer p, NetLab.Core.Time.SimDuration start)
    {
        for (int i = 0; i < 16; i++)
        {
            p.Data(at: start + i.Ms(), offset: i * Mss, length: Mss, psh: false);
            p.ExpectAck(at: start + i.Ms(), ackOffset: (i + 1) * Mss);
        }
    }

    [Fact]
    public void MissedDelayedAcks_DoubleAto_40_80_160_ThenTheDelackMaxOf199Ms()
    {
        using var h = new TcpHarness();
        // A 300 ms path: srtt 300 ms, rto 900 ms, so neither bounds the delayed ACK below 199 ms.
        var p = TcpPeer.Connect(h, rtt: 300.Ms());
        ExhaustQuickAcks(h, p, start: 400.Ms());
        // Lone segments 700 ms apart (more than ato, less than the rto that would restart quick ACKs).
        var expected = new[] { 40, 80, 160, 199, 199 };
        for (int k = 0; k < expected.Length; k++)
        {
            var at = 1000.Ms() + (700 * k).Ms();
            p.Data(at: at, offset: (16 + k) * Mss, length: Mss, psh: false);
            p.ExpectAck(at: at + expected[k].Ms(), ackOffset: (17 + k) * Mss);
        }
        Assert.Equal(expected.Length, h.Host.TcpExtStats[TcpExtMib.DelayedACKs]);
        p.Socket.Dispose();
    }

    [Fact]
    public void FullSegmentWithPsh_IsAckedWhenTheApplicationReadsIt_IcskAckPushed()
    {
        using var h = new TcpHarness();
        var p = TcpPeer.Connect(h, rtt: 10.Ms());
        ExhaustQuickAcks(h, p, start: 20.Ms());
        var buf = new byte[1 << 20];
        h.At(50.Ms(), () => p.Socket.TryReceive(buf, out _));
        ReadForever(h, p.Socket);
        // A full-sized segment with PSH marks ICSK_ACK_PUSHED: the read that empties the queue sends the ACK.
        p.Data(at: 100.Ms(), offset: 16 * Mss, length: Mss, psh: true);
        p.ExpectAck(at: 100.Ms(), ackOffset: 17 * Mss);
        // Without PSH the same segment waits for the timer even though it is read at once.
        p.Data(at: 200.Ms(), offset: 17 * Mss, length: Mss, psh: false);
        p.ExpectAck(at: 240.Ms(), ackOffset: 18 * Mss);
        p.Socket.Dispose();
    }

    [Fact]
    public void ReplyWithinAto_EntersPingpongMode_AndTheAckRidesOnTheReply()
    {
        using var h = new TcpHarness();
        var p = TcpPeer.Connect(h, rtt: 10.Ms());
        var s = p.Socket;
        var buf = new byte[4096];
        // Request 1 arrives in quick-ACK mode: ACKed at once; the reply 5 ms later is within ato (40 ms): pingpong.
        p.Data(at: 20.Ms(), offset: 0, length: 100);
        p.ExpectAck(at: 20.Ms(), ackOffset: 100);
        h.At(25.Ms(), () => { s.TryReceive(buf, out _); s.TrySend(new byte[50], out _); });
        p.ExpectData(at: 25.Ms(), offset: 0, length: 50, psh: true, Seg.Ack(p.P(100)));
        p.Ack(at: 35.Ms(), ackOffset: 50);
        // Request 2: interactive mode delays the ACK so that it rides on the reply sent 10 ms later.
        p.Data(at: 60.Ms(), offset: 100, length: 100, ackOffset: 50);
        h.ExpectNothingUntil(70.Ms());
        h.At(70.Ms(), () => { s.TryReceive(buf, out _); s.TrySend(new byte[50], out _); });
        p.ExpectData(at: 70.Ms(), offset: 50, length: 50, psh: true, Seg.Ack(p.P(200)));
        p.Ack(at: 80.Ms(), ackOffset: 100);
        // Request 3 unanswered: the delayed-ACK timer fires at 40 ms, leaves pingpong mode and counts DelayedACKs.
        p.Data(at: 100.Ms(), offset: 200, length: 100, ackOffset: 100);
        p.ExpectAck(at: 140.Ms(), ackOffset: 300);
        Assert.Equal(1, h.Host.TcpExtStats[TcpExtMib.DelayedACKs]);
        s.Dispose();
    }

    [Fact]
    public void TcpQuickAck_SendsTheOwedAckOnceTheDataIsRead_AndLeavesPingpongMode()
    {
        using var h = new TcpHarness();
        var p = TcpPeer.Connect(h, rtt: 10.Ms());
        var s = p.Socket;
        var buf = new byte[4096];
        h.At(15.Ms(), () => s.QuickAck = false); // TCP_QUICKACK 0: interactive mode, no quick ACKs
        p.Data(at: 20.Ms(), offset: 0, length: 100);
        h.ExpectNothingUntil(30.Ms());
        // TCP_QUICKACK 1 with the data still unread: no ACK yet (tcp_cleanup_rbuf wants an empty queue) ...
        h.At(30.Ms(), () => s.QuickAck = true);
        h.ExpectNothingUntil(35.Ms());
        // ... the read that empties it sends the ACK (ICSK_ACK_PUSHED, not interactive).
        h.At(35.Ms(), () => s.TryReceive(buf, out _));
        p.ExpectAck(at: 35.Ms(), ackOffset: 100);
        s.Dispose();
    }

    [Fact]
    public void TcpQuickAck_WithTheDataRead_SendsTheAckAtOnce()
    {
        using var h = new TcpHarness();
        var p = TcpPeer.Connect(h, rtt: 10.Ms());
        var s = p.Socket;
        var buf = new byte[4096];
        h.At(15.Ms(), () => s.QuickAck = false);
        p.Data(at: 20.Ms(), offset: 0, length: 100);
        h.At(22.Ms(), () => s.TryReceive(buf, out _)); // interactive: reading alone does not ACK
        h.ExpectNothingUntil(30.Ms());
        h.At(30.Ms(), () => s.QuickAck = true);
        p.ExpectAck(at: 30.Ms(), ackOffset: 100);
        s.Dispose();
    }

    [Fact]
    public void LongIdleGap_RestartsQuickAcks()
    {
        using var h = new TcpHarness();
        var p = TcpPeer.Connect(h, rtt: 10.Ms());
        ExhaustQuickAcks(h, p, start: 20.Ms());
        // rto is 210 ms; a gap longer than that gives quick ACKs back (tcp_event_data_recv: m > rto).
        p.Data(at: 500.Ms(), offset: 16 * Mss, length: Mss, psh: false);
        p.ExpectAck(at: 500.Ms(), ackOffset: 17 * Mss);
        p.Socket.Dispose();
    }
}
