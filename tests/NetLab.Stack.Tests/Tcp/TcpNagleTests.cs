using NetLab.Core.Addressing;
using NetLab.Core.Time;
using NetLab.Net;
using NetLab.Stack.Tcp;

namespace NetLab.Stack.Tests.Tcp;

/// <summary>
/// The sender's small-segment rules (docs/reference/linux-tcp.md §6.5, §12.2): Nagle with Minshall's check,
/// TCP_NODELAY, TCP_CORK and MSG_MORE, the corked segment sent by the persist timer after max(rto, 200 ms), and the
/// write-write-read stall against a delayed-ACKing peer. The DUT sends; rtt 10 ms gives rto 210 ms.
/// </summary>
public class TcpNagleTests
{
    private static Errno Send(TcpSocket s, int n, bool more = false) => s.TrySend(new byte[n], out _, more);

    [Fact]
    public void SecondSmallWrite_WaitsForTheAckOfTheFirst()
    {
        using var h = new TcpHarness();
        var p = TcpPeer.Connect(h, rtt: 10.Ms());
        h.At(20.Ms(), () => Send(p.Socket, 100));
        p.ExpectData(at: 20.Ms(), offset: 0, length: 100, psh: true);
        h.At(21.Ms(), () => Send(p.Socket, 200));
        h.ExpectNothingUntil(30.Ms());
        p.Ack(at: 30.Ms(), ackOffset: 100);
        p.ExpectData(at: 30.Ms(), offset: 100, length: 200, psh: true);
        p.Ack(at: 40.Ms(), ackOffset: 300);
        h.ExpectNothingUntil(2.Sec());
        p.Socket.Dispose();
    }

    [Fact]
    public void Minshall_APartialTailAfterFullSegmentsGoesAtOnce_TheNextWaitsForItsAck()
    {
        using var h = new TcpHarness();
        var p = TcpPeer.Connect(h, rtt: 10.Ms());
        h.At(20.Ms(), () => Send(p.Socket, 1448 + 100));
        p.ExpectData(at: 20.Ms(), offset: 0, length: 1448);
        p.ExpectData(at: 20.Ms(), offset: 1448, length: 100, psh: true); // no small segment outstanding yet
        h.At(21.Ms(), () => Send(p.Socket, 100));
        p.Ack(at: 30.Ms(), ackOffset: 1448); // the small one is still unacknowledged (snd_sml > snd_una)
        h.ExpectNothingUntil(31.Ms());
        p.Ack(at: 31.Ms(), ackOffset: 1548);
        p.ExpectData(at: 31.Ms(), offset: 1548, length: 100, psh: true);
        p.Socket.Dispose();
    }

    [Fact]
    public void NoDelay_SendsEverySmallWrite_AndSettingItPushesWhatNagleHeld()
    {
        using var h = new TcpHarness();
        var p = TcpPeer.Connect(h, rtt: 10.Ms());
        h.At(20.Ms(), () => Send(p.Socket, 100));
        p.ExpectData(at: 20.Ms(), offset: 0, length: 100, psh: true);
        h.At(21.Ms(), () => Send(p.Socket, 200));
        h.At(22.Ms(), () => p.Socket.NoDelay = true); // TCP_NODELAY pushes the held 200 bytes
        p.ExpectData(at: 22.Ms(), offset: 100, length: 200, psh: true);
        h.At(23.Ms(), () => Send(p.Socket, 50));
        p.ExpectData(at: 23.Ms(), offset: 300, length: 50, psh: true);
        p.Socket.Dispose();
    }

    [Fact]
    public void Cork_HoldsAPartialSegment_UntilThePersistTimerSendsIt_AfterTheRto()
    {
        using var h = new TcpHarness();
        var p = TcpPeer.Connect(h, rtt: 10.Ms(), configure: s => s.Cork = true);
        Assert.Equal(210_000, p.Socket.GetInfo().RtoUs);
        h.At(20.Ms(), () => Send(p.Socket, 100));
        // Nothing in flight and nothing sendable: tcp_check_probe_timer() arms probe0 at max(rto, 200 ms).
        h.ExpectNothingUntil(230.Ms());
        p.ExpectData(at: 230.Ms(), offset: 0, length: 100, psh: true);
        Assert.Equal(0, h.Host.TcpExtStats[TcpExtMib.TCPWinProbe]); // data, not a window probe
        p.Socket.Dispose();
    }

    [Fact]
    public void Cork_SendsFullSegments_AndUncorkingPushesThePartialTail()
    {
        using var h = new TcpHarness();
        var p = TcpPeer.Connect(h, rtt: 10.Ms(), configure: s => s.Cork = true);
        h.At(20.Ms(), () => Send(p.Socket, 2000));
        p.ExpectData(at: 20.Ms(), offset: 0, length: 1448);
        h.At(25.Ms(), () => Send(p.Socket, 100));
        h.At(30.Ms(), () => p.Socket.Cork = false);
        p.ExpectData(at: 30.Ms(), offset: 1448, length: 652, psh: true);
        p.Socket.Dispose();
    }

    [Fact]
    public void MsgMore_CorksOneWrite_TheNextWithoutItSendsBoth()
    {
        using var h = new TcpHarness();
        var p = TcpPeer.Connect(h, rtt: 10.Ms());
        h.At(20.Ms(), () => Send(p.Socket, 100, more: true));
        h.ExpectNothingUntil(21.Ms());
        h.At(21.Ms(), () => Send(p.Socket, 100));
        p.ExpectData(at: 21.Ms(), offset: 0, length: 200, psh: true);
        p.Socket.Dispose();
    }

    /// <summary>
    /// §12.2 with numbers: a client writes a 100-byte header and a 200-byte body, then reads a 100-byte reply, ten
    /// times, over a 4 ms RTT to a NetLab server. The first exchange meets a server in quick-ACK mode (about two
    /// RTTs); from the second on the server is interactive, delays its ACK of the header by 40 ms and Nagle holds
    /// the body until then: 48 ms per exchange. With TCP_NODELAY every exchange takes one RTT.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WriteWriteRead_StallsFortyMilliseconds_UnlessNoDelay(bool noDelay)
    {
        var link = new LinkParameters { Delay = SimDuration.FromMilliseconds(1) };
        var (w, a, b, _) = TestNetworks.TwoHostsOnSwitch(link);
        var server = b.Tcp.Open();
        Assert.Equal(Errno.None, server.Bind(Ipv4Address.Any, 7000));
        Assert.Equal(Errno.None, server.Listen(16));
        const int rounds = 10;
        var latency = new double[rounds];
        async Task Server()
        {
            using var c = await server.AcceptAsync();
            var req = new byte[300];
            for (int i = 0; i < rounds; i++)
            {
                Assert.Equal(300, await c.ReceiveAllAsync(req));
                await c.SendAsync(new byte[100]);
            }
        }
        async Task Client()
        {
            using var s = a.Tcp.Open();
            s.NoDelay = noDelay;
            await s.ConnectAsync(Ipv4Address.Parse("10.0.0.2"), 7000);
            var reply = new byte[100];
            for (int i = 0; i < rounds; i++)
            {
                var t0 = w.Now;
                await s.SendAsync(new byte[100]);
                await s.SendAsync(new byte[200]);
                Assert.Equal(100, await s.ReceiveAllAsync(reply));
                latency[i] = (w.Now - t0).TotalMilliseconds;
            }
        }
        var t = TestNetworks.OnLoop(w, () => Task.WhenAll(Server(), Client()));
        w.Scheduler.Run(t, SimTime.Zero + SimDuration.FromSeconds(30));
        Assert.True(t.IsCompletedSuccessfully, t.Exception?.ToString());
        // Without NODELAY the first exchange is header, ACK, body, reply: two round trips.
        double rtt = noDelay ? latency[0] : latency[0] / 2;
        Assert.InRange(rtt, 4.0, 4.2);
        for (int i = 1; i < rounds; i++)
        {
            if (noDelay) Assert.InRange(latency[i], rtt - 0.05, rtt + 0.05);
            // Header out, the peer's 40 ms delayed ACK back, then body out and the reply back: 40 ms + 2 RTT.
            else Assert.InRange(latency[i], 40 + 2 * rtt - 0.05, 40 + 2 * rtt + 0.05);
        }
        server.Dispose();
        w.RunFor(SimDuration.FromSeconds(120)); // FINs, TIME_WAIT
        Assert.Equal(0, w.Pool.Outstanding);
    }
}
