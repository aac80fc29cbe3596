using NetLab.Core.Addressing;
using NetLab.Core.Time;
using NetLab.Net;
using NetLab.Stack.IPv4;
using NetLab.Stack.Link;
using NetLab.Stack.Tcp;

namespace NetLab.Stack.Tests.Tcp;

/// <summary>
/// The initial window and slow start (docs/reference/linux-tcp.md §8.6, §12.1): IW10 and one segment more per
/// segment acknowledged, so with timestamps (1448-byte segments) a bulk sender puts 14 480, 28 960 and 57 920 bytes
/// on the wire in its first three round trips; after an idle RTO cwnd restarts from IW
/// (tcp_slow_start_after_idle); receive-buffer autotuning lets the window grow past 64 KiB.
/// </summary>
public class TcpSlowStartTests
{
    private const int Mss = 1448;

    /// <summary>Records the TCP payload bytes a device transmits, with their times.</summary>
    internal sealed class PayloadTap : IPacketTap
    {
        public readonly List<(long Ns, int Bytes)> Sent = [];

        public void OnFrame(NetDevice device, TapDirection direction, ReadOnlySpan<byte> frame, long timestampNs)
        {
            if (direction != TapDirection.Transmitted) return;
            var bytes = frame.ToArray();
            if (!EthernetRepr.TryParse(bytes, out var eth) || eth.EtherType != EtherType.Ipv4) return;
            var l3 = bytes.AsSpan(EthernetHeaderView.Length);
            if (!Ipv4Repr.TryParse(l3, out var ip) || ip.Protocol != IpProtocol.Tcp) return;
            var l4 = l3[Ipv4Repr.HeaderLength..(Ipv4Repr.HeaderLength + ip.PayloadLength)];
            if (!TcpRepr.TryParse(l4, ip.Source, ip.Destination, out var tcp) || tcp.PayloadLength == 0) return;
            Sent.Add((timestampNs, tcp.PayloadLength));
        }
    }

    /// <summary>a sends <paramref name="bytes"/> to b over a 1 Gbit/s path with a 100 ms RTT; the tap sees a's frames.</summary>
    private static (World W, PayloadTap Tap, Host A, Host B) Transfer(int bytes, LinkParameters link, double seconds = 30)
    {
        var (w, a, b, _) = TestNetworks.TwoHostsOnSwitch(link);
        var tap = new PayloadTap();
        a.FindDevice("eth0")!.AddTap(tap);
        var listener = b.Tcp.Open();
        Assert.Equal(Errno.None, listener.Bind(Ipv4Address.Any, 5001));
        Assert.Equal(Errno.None, listener.Listen(8));
        async Task Server()
        {
            using var c = await listener.AcceptAsync();
            var buf = new byte[1 << 16];
            while (await c.ReceiveAsync(buf) > 0) { }
        }
        async Task Client()
        {
            using var s = a.Tcp.Open();
            await s.ConnectAsync(Ipv4Address.Parse("10.0.0.2"), 5001);
            await s.SendAsync(new byte[bytes]);
            s.Shutdown(ShutdownHow.Write);
        }
        var t = TestNetworks.OnLoop(w, () => Task.WhenAll(Server(), Client()));
        w.Scheduler.Run(t, SimTime.Zero + SimDuration.FromSeconds(seconds));
        Assert.True(t.IsCompletedSuccessfully, t.Exception?.ToString());
        listener.Dispose();
        return (w, tap, a, b);
    }

    [Fact]
    public void FirstThreeRoundTrips_Send14480_28960_57920Bytes()
    {
        // 25 ms per cable, two cables: a 100 ms RTT; the bursts of a round trip are far apart.
        var link = new LinkParameters { RateBitsPerSecond = 1_000_000_000, Delay = SimDuration.FromMilliseconds(25) };
        var (_, tap, _, _) = Transfer(1 << 20, link);
        var rounds = new List<long>();
        long roundStart = -1;
        foreach (var (ns, bytes) in tap.Sent)
        {
            if (roundStart < 0 || ns - roundStart > 50_000_000)
            {
                roundStart = ns;
                rounds.Add(0);
            }
            rounds[^1] += bytes;
        }
        Assert.Equal([14480L, 28960L, 57920L], rounds.Take(3));
    }

    [Theory]
    [InlineData(1, 10u)]
    [InlineData(0, 80u)]
    public void AfterAnIdleRto_CwndRestartsFromTheInitialWindow_HalvingPerIdleRto(int slowStartAfterIdle, uint cwndAfter)
    {
        using var h = new TcpHarness();
        h.Host.Sysctl.Set("net.ipv4.tcp_slow_start_after_idle", slowStartAfterIdle.ToString());
        var p = TcpPeer.Connect(h, rtt: 10.Ms(), configure: s => s.SendBufferSize = 1 << 20);
        // Three round trips of slow start: cwnd 10 → 20 → 40 → 80.
        h.At(20.Ms(), () => p.Socket.TrySend(new byte[70 * Mss], out _));
        int sent = 0;
        foreach (var (at, n) in new[] { (20, 10), (30, 20), (40, 40) })
        {
            if (at > 20) p.Ack(at: at.Ms(), ackOffset: sent * Mss);
            for (int i = 0; i < n; i++) p.ExpectData(at: at.Ms(), offset: (sent + i) * Mss, length: Mss, psh: null);
            sent += n;
        }
        p.Ack(at: 50.Ms(), ackOffset: sent * Mss);
        h.At(51.Ms(), () => Assert.Equal(80u, p.Socket.GetInfo().SndCwnd));
        // 710 ms since the last send at 40 ms, rto 210 ms: 80 → 40 → 20 → 10 (never below IW).
        h.At(750.Ms(), () => p.Socket.TrySend(new byte[100 * Mss], out _));
        for (int i = 0; i < cwndAfter; i++) p.ExpectData(at: 750.Ms(), offset: (sent + i) * Mss, length: Mss, psh: null);
        h.ExpectNothingUntil(759.Ms());
        Assert.Equal(cwndAfter, p.Socket.GetInfo().SndCwnd);
        p.Socket.Dispose();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BulkReceiver_AutotunesItsBuffer_UnlessSoRcvbufLocksIt(bool locked)
    {
        var link = new LinkParameters { RateBitsPerSecond = 100_000_000, Delay = SimDuration.FromMilliseconds(5) };
        var (w, a, b, _) = TestNetworks.TwoHostsOnSwitch(link);
        var listener = b.Tcp.Open();
        if (locked) listener.ReceiveBufferSize = 65536;
        Assert.Equal(Errno.None, listener.Bind(Ipv4Address.Any, 5001));
        Assert.Equal(Errno.None, listener.Listen(8));
        int rcvBufBefore = 0, rcvBufAfter = 0;
        SimTime done = default;
        async Task Server()
        {
            using var c = await listener.AcceptAsync();
            rcvBufBefore = c.GetInfo().RcvBuf;
            var buf = new byte[1 << 16];
            while (await c.ReceiveAsync(buf) > 0) { }
            rcvBufAfter = c.GetInfo().RcvBuf;
            done = w.Now;
        }
        async Task Client()
        {
            using var s = a.Tcp.Open();
            await s.ConnectAsync(Ipv4Address.Parse("10.0.0.2"), 5001);
            await s.SendAsync(new byte[10 << 20]);
            s.Shutdown(ShutdownHow.Write);
        }
        var t = TestNetworks.OnLoop(w, () => Task.WhenAll(Server(), Client()));
        w.Scheduler.Run(t, SimTime.Zero + SimDuration.FromSeconds(60));
        Assert.True(t.IsCompletedSuccessfully, t.Exception?.ToString());
        listener.Dispose();
        if (locked)
        {
            Assert.Equal((131072, 131072), (rcvBufBefore, rcvBufAfter));
        }
        else
        {
            Assert.Equal(131072, rcvBufBefore);
            Assert.True(rcvBufAfter >= 4 * 131072, $"rcvbuf {rcvBufAfter}");
        }
        w.RunFor(SimDuration.FromSeconds(120));
        Assert.Equal(0, w.Pool.Outstanding);
    }
}
