using NetLab.Stack.Tcp;

namespace NetLab.Stack.Tests.Tcp;

/// <summary>
/// Flow control (docs/reference/linux-tcp.md §6.1-§6.4): the persist timer and its probes (seq = snd_una − 1,
/// max(rto, 200 ms) doubling), sender SWS avoidance (a window smaller than a segment waits for the probe timer,
/// which sends what fits), the receiver's window selection (the right edge never retreats, SWS avoidance, zero
/// windows and their counters), data into a zero window, and the send buffer (EAGAIN, blocking, expansion).
/// </summary>
public class TcpWindowTests
{
    private const int Mss = 1448;

    private static Errno Send(TcpSocket s, int n) => s.TrySend(new byte[n], out _);

    /// <summary>The DUT sends 5000 bytes at 20 ms; the peer acknowledges all of them at 30 ms with this window.</summary>
    private static TcpPeer SendAndCloseWindow(TcpHarness h, ushort window)
    {
        var p = TcpPeer.Connect(h, rtt: 10.Ms());
        h.At(20.Ms(), () => Send(p.Socket, 5000));
        p.ExpectData(at: 20.Ms(), offset: 0, length: Mss);
        p.ExpectData(at: 20.Ms(), offset: Mss, length: Mss, psh: true); // two-segment GSO skbs, PSH on each last
        p.ExpectData(at: 20.Ms(), offset: 2 * Mss, length: Mss);
        p.ExpectData(at: 20.Ms(), offset: 3 * Mss, length: 5000 - 3 * Mss, psh: true);
        p.Ack(at: 30.Ms(), ackOffset: 5000, window: window);
        return p;
    }

    [Fact]
    public void ZeroWindow_IsProbedWithSndUnaMinusOne_BackingOffFromMaxRto200Ms_UntilItOpens()
    {
        using var h = new TcpHarness();
        var p = SendAndCloseWindow(h, window: 0);
        h.At(40.Ms(), () => Send(p.Socket, 3000));
        // tcp_check_probe_timer(): probe0 at max(rto, 200 ms) = 210 ms.
        var probe = new[] { Seg.Flags(TcpFlags.Ack), Seg.Seq(p.D(4999)), Seg.Ack(p.P(0)), Seg.PayloadLength(0) };
        h.ExpectNothingUntil(250.Ms());
        p.Expect(at: 250.Ms(), probe);
        p.Expect(at: 670.Ms(), probe); // 420 ms later: backoff 1
        Assert.Equal((2L, 2), (h.Host.TcpExtStats[TcpExtMib.TCPWinProbe], p.Socket.GetInfo().Probes));
        // The peer answers, window still 0: probes_out resets, and the probe timer restarts from the ACK
        // (tcp_ack_probe) with the current backoff: 210 · 2² = 840 ms.
        p.Ack(at: 680.Ms(), ackOffset: 5000, window: 0);
        h.At(681.Ms(), () => Assert.Equal(0, p.Socket.GetInfo().Probes));
        p.Expect(at: 1520.Ms(), probe);
        // The window opens: the queued data goes at once.
        p.Ack(at: 1600.Ms(), ackOffset: 5000, window: 2000);
        p.ExpectData(at: 1600.Ms(), offset: 5000, length: Mss);
        p.ExpectData(at: 1600.Ms(), offset: 5000 + Mss, length: Mss, psh: true);
        p.ExpectData(at: 1600.Ms(), offset: 5000 + 2 * Mss, length: 3000 - 2 * Mss, psh: true);
        Assert.Equal((3L, 0), (h.Host.TcpExtStats[TcpExtMib.TCPWinProbe], p.Socket.GetInfo().Backoff));
        p.Socket.Dispose();
    }

    [Fact]
    public void WindowSmallerThanASegment_SenderSwsAvoidance_ThePersistTimerSendsWhatFits()
    {
        using var h = new TcpHarness();
        var p = SendAndCloseWindow(h, window: 4); // 4 << 7 = 512 bytes
        h.At(40.Ms(), () => Send(p.Socket, 3000));
        h.ExpectNothingUntil(250.Ms());
        // tcp_write_wakeup(): the window is open but smaller than the segment: send what fits, with PSH.
        p.ExpectData(at: 250.Ms(), offset: 5000, length: 512, psh: true);
        Assert.Equal(0, h.Host.TcpExtStats[TcpExtMib.TCPWinProbe]);
        // Acknowledged with the same small window: again nothing fits, the persist timer again (backoff reset).
        p.Ack(at: 260.Ms(), ackOffset: 5512, window: 4);
        h.ExpectNothingUntil(470.Ms());
        p.ExpectData(at: 470.Ms(), offset: 5512, length: 512, psh: true);
        p.Socket.Dispose();
    }

    /// <summary>
    /// A receiver with SO_RCVBUF 8192 (16384 bytes of buffer: an 8192-byte window space, no window scaling) that
    /// does not read. Its window never moves its right edge left; once less than half is free it offers either a
    /// window of at least max(rcv_mss, space/16) or nothing; reading reopens it with a window update.
    /// </summary>
    [Fact]
    public void ReceiverThatDoesNotRead_ClosesItsWindow_WithoutShrinkingIt_ThenReopensIt()
    {
        using var h = new TcpHarness();
        var p = TcpPeer.Connect(h, rtt: 10.Ms(), configure: s => s.ReceiveBufferSize = 8192);
        Assert.Equal(0, p.Socket.GetInfo().RcvWscale);
        // window_clamp = 8192 − one MSS = 6744; the SYN offered rounddown(8192, 1460) = 7300.
        p.Data(at: 20.Ms(), offset: 0, length: Mss, psh: false);
        p.ExpectAck(at: 20.Ms(), ackOffset: Mss, Seg.Window(7300 - Mss));      // quick ACK; 5792 would shrink it
        p.Data(at: 21.Ms(), offset: Mss, length: Mss, psh: false);
        p.ExpectAck(at: 21.Ms(), ackOffset: 2 * Mss, Seg.Window(7300 - 2 * Mss)); // the last quick ACK
        p.Data(at: 22.Ms(), offset: 2 * Mss, length: Mss, psh: false);
        p.Data(at: 23.Ms(), offset: 3 * Mss, length: Mss, psh: false);        // two segments, but the window would shrink: delayed
        p.Data(at: 24.Ms(), offset: 4 * Mss, length: Mss, psh: false);
        // 952 bytes free is below an MSS: the window wants to be 0 but may not retreat: the 60 bytes left.
        p.ExpectAck(at: 62.Ms(), ackOffset: 5 * Mss, Seg.Window(60));
        Assert.Equal((1L, 0L), (h.Host.TcpExtStats[TcpExtMib.TCPWantZeroWindowAdv], h.Host.TcpExtStats[TcpExtMib.TCPToZeroWindowAdv]));
        p.Data(at: 70.Ms(), offset: 5 * Mss, length: 60);
        p.ExpectAck(at: 110.Ms(), ackOffset: 5 * Mss + 60, Seg.Window(0));
        Assert.Equal(1, h.Host.TcpExtStats[TcpExtMib.TCPToZeroWindowAdv]);
        // Data into the zero window with a full queue: out of window (tcp_sequence), dropped, a duplicate ACK.
        p.Data(at: 150.Ms(), offset: 5 * Mss + 60, length: Mss);
        p.ExpectAck(at: 150.Ms(), ackOffset: 5 * Mss + 60, Seg.Window(0));
        Assert.Equal(1, h.Host.TcpExtStats[TcpExtMib.BeyondWindow]);
        // The application reads: the window can more than double, so a window update goes at once.
        h.At(200.Ms(), () => Assert.Equal(Errno.None, p.Socket.TryReceive(new byte[65536], out _)));
        p.ExpectAck(at: 200.Ms(), ackOffset: 5 * Mss + 60, Seg.Window(4 * Mss));
        Assert.Equal(1, h.Host.TcpExtStats[TcpExtMib.TCPFromZeroWindowAdv]);
        p.Socket.Dispose();
    }

    [Fact]
    public void SendBuffer_NonBlockingSendGetsEagainWhenFull_ABlockedSendResumesAsAcksFreeIt()
    {
        using var h = new TcpHarness();
        var p = TcpPeer.Connect(h, rtt: 10.Ms());
        // tcp_sndbuf_expand() at establishment: 2 · max(IW 10, cwnd, reordering + 1) · 4352 bytes per segment.
        Assert.Equal(87040, p.Socket.SendBufferSize);
        int sent = 0;
        h.At(20.Ms(), () =>
        {
            Assert.Equal(Errno.None, p.Socket.TrySend(new byte[200_000], out sent));
            Assert.Equal(Errno.EAGAIN, p.Socket.TrySend(new byte[1], out _));
        });
        Assert.Equal(87040, sent);
        for (int i = 0; i < 10; i++) p.ExpectData(at: 20.Ms(), offset: i * Mss, length: Mss, psh: null);
        var blocked = h.Start(21.Ms(), () => p.Socket.SendAsync(new byte[100_000]));
        Assert.False(blocked.IsCompleted);
        // Ten segments acknowledged: cwnd doubles to 20 and fills; with the congestion window full the buffer does
        // not grow (tcp_should_expand_sndbuf), and 14480 free bytes are less than half of the 72560 queued: no wakeup.
        p.Ack(at: 30.Ms(), ackOffset: 10 * Mss);
        for (int i = 10; i < 30; i++) p.ExpectData(at: 30.Ms(), offset: i * Mss, length: Mss, psh: null);
        Assert.Equal(87040, p.Socket.SendBufferSize);
        Assert.False(blocked.IsCompleted);
        // Thirty more: cwnd 40, and only 31 segments are queued, so cwnd is not full: sndbuf = 2·40·4352, the writer
        // wakes (free ≥ queued / 2), copies its 100 000 bytes, and cwnd takes 9 more segments.
        p.Ack(at: 40.Ms(), ackOffset: 30 * Mss);
        for (int i = 30; i < 60; i++) p.ExpectData(at: 40.Ms(), offset: i * Mss, length: Mss, psh: null);
        p.ExpectData(at: 40.Ms(), offset: 60 * Mss, length: 87040 - 60 * Mss, psh: true);
        for (int i = 0; i < 9; i++) p.ExpectData(at: 40.Ms(), offset: 87040 + i * Mss, length: Mss, psh: null);
        Assert.Equal(348160, p.Socket.SendBufferSize);
        Assert.True(blocked.IsCompletedSuccessfully);
        Assert.Equal(87040 + 100_000 - 30 * Mss, p.Socket.BytesUnacknowledged);
        p.Socket.Dispose();
    }
}
