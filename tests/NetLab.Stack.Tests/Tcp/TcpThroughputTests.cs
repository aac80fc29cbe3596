using NetLab.Core.Addressing;
using NetLab.Core.Time;
using NetLab.Net;
using NetLab.Stack.Tcp;

namespace NetLab.Stack.Tests.Tcp;

/// <summary>
/// Bulk throughput over one 1 Gbit/s cable with 10 ms of propagation delay each way (BDP 2.5 MB), with the host's
/// default congestion control (Reno until CUBIC lands; the assertions hold for either).
/// </summary>
public class TcpThroughputTests
{
    internal sealed record Result(double GoodputBps, double WireUtilisation, double SteadyGoodputBps, double SteadyWireUtilisation, long Retransmits, double Seconds, long AllocatedBytes, long Segments);

    internal static Result Bulk(long bytes, double loss, ulong seed = 1, string? congestion = null)
    {
        var w = new World(seed);
        var a = w.AddHost("a");
        var b = w.AddHost("b");
        var p = new LinkParameters { RateBitsPerSecond = 1_000_000_000, Delay = SimDuration.FromMilliseconds(10), Loss = loss };
        var da = TestNetworks.AddInterface(a, "eth0", "10.0.0.1/24");
        var db = TestNetworks.AddInterface(b, "eth0", "10.0.0.2/24");
        var link = w.Connect(da, db, p);
        a.Neighbours.SetStatic(da, Ipv4Address.Parse("10.0.0.2"), db.Mac);
        b.Neighbours.SetStatic(db, Ipv4Address.Parse("10.0.0.1"), da.Mac);
        if (congestion is not null) { a.Sysctl.Set("net.ipv4.tcp_congestion_control", congestion); }
        var listener = b.Tcp.Open();
        Assert.Equal(Errno.None, listener.Bind(Ipv4Address.Any, 5001));
        Assert.Equal(Errno.None, listener.Listen(8));
        SimTime start = default, end = default, half = default;
        long halfWire = 0, halfGot = 0;
        long retrans = 0, segs = 0;
        var chunk = new byte[1 << 20];
        async Task Server()
        {
            using var c = await listener.AcceptAsync();
            var buf = new byte[1 << 20];
            long got = 0;
            int n;
            while ((n = await c.ReceiveAsync(buf)) > 0)
            {
                got += n;
                if (halfGot == 0 && got >= bytes / 2) { half = w.Now; halfWire = link.AToB.Stats.WireBytes; halfGot = got; }
            }
            Assert.Equal(bytes, got);
            end = w.Now;
        }
        async Task Client()
        {
            using var s = a.Tcp.Open();
            await s.ConnectAsync(Ipv4Address.Parse("10.0.0.2"), 5001);
            start = w.Now;
            for (long left = bytes; left > 0; left -= chunk.Length)
                await s.SendAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, left)));
            s.Shutdown(ShutdownHow.Write);
            retrans = s.GetInfo().TotalRetrans;
            segs = s.GetInfo().DataSegsOut;
        }
        long alloc0 = GC.GetAllocatedBytesForCurrentThread();
        var t = TestNetworks.OnLoop(w, () => Task.WhenAll(Server(), Client()));
        w.Scheduler.Run(t, SimTime.Zero + SimDuration.FromSeconds(600));
        long alloc = GC.GetAllocatedBytesForCurrentThread() - alloc0;
        Assert.True(t.IsCompletedSuccessfully, t.Exception?.ToString());
        double seconds = (end - start).TotalMilliseconds / 1000;
        double wireBits = link.AToB.Stats.WireBytes * 8.0;
        listener.Dispose();
        double steadySeconds = (end - half).TotalMilliseconds / 1000;
        return new Result(bytes * 8 / seconds, wireBits / (seconds * p.RateBitsPerSecond),
            (bytes - halfGot) * 8 / steadySeconds, (link.AToB.Stats.WireBytes - halfWire) * 8.0 / (steadySeconds * p.RateBitsPerSecond), retrans, seconds, alloc, segs);
    }

    /// <summary>
    /// Without loss the path fills: TCP Small Queues keep the sender's qdisc short (no local drops), receive
    /// autotuning opens the window past the BDP, and in steady state the wire carries ≥ 95 % of its bit rate —
    /// a goodput of ~941 Mbit/s, the most 1448-byte payloads in 1538 wire bytes per frame allow.
    /// </summary>
    [Fact]
    public void ZeroLoss_SteadyStateFillsTheLink()
    {
        var r = Bulk(100L << 20, loss: 0);
        Assert.True(r.SteadyWireUtilisation >= 0.95, r.ToString());
        Assert.True(r.SteadyGoodputBps >= 0.93e9, r.ToString());
        Assert.Equal(0, r.Retransmits);
    }

    /// <summary>
    /// With 1 % random loss each way throughput collapses to what loss-based congestion control sustains: about
    /// MSS/RTT · 1.22/√p (Mathis) ≈ 7 Mbit/s for Reno at a 20 ms RTT; CUBIC's Reno-friendly region gives the same order.
    /// </summary>
    [Fact]
    public void OnePercentLoss_ThroughputFallsToTheLossBound()
    {
        var r = Bulk(20L << 20, loss: 0.01);
        double mathis = 1448 * 8 / 0.020 * 1.22 / Math.Sqrt(0.01);
        Assert.True(r.GoodputBps < 0.1e9, r.ToString());
        Assert.InRange(r.GoodputBps, mathis / 3, mathis * 3);
        Assert.True(r.Retransmits > 0);
    }
}

/// <summary>The data path allocates nothing per segment once buffers have grown (CONVENTIONS rule 3's spirit).</summary>
public class TcpAllocationTests
{
    /// <summary>
    /// A 1 Gbit/s transfer driven by the sockets' readiness events (no Task per wakeup): after a second of warm-up,
    /// a second more of steady state (~80 000 data segments and their ACKs, both hosts) allocates no managed memory.
    /// </summary>
    [Fact]
    public void SteadyStateTransfer_AllocatesNothingPerSegment()
    {
        var w = new World(1);
        var a = w.AddHost("a");
        var b = w.AddHost("b");
        var p = new LinkParameters { RateBitsPerSecond = 1_000_000_000, Delay = SimDuration.FromMilliseconds(1) };
        var da = TestNetworks.AddInterface(a, "eth0", "10.0.0.1/24");
        var db = TestNetworks.AddInterface(b, "eth0", "10.0.0.2/24");
        w.Connect(da, db, p);
        a.Neighbours.SetStatic(da, Ipv4Address.Parse("10.0.0.2"), db.Mac);
        b.Neighbours.SetStatic(db, Ipv4Address.Parse("10.0.0.1"), da.Mac);
        var listener = b.Tcp.Open();
        listener.Bind(Ipv4Address.Any, 5001);
        listener.Listen(8);
        var client = a.Tcp.Open();
        client.Connect(Ipv4Address.Parse("10.0.0.2"), 5001);
        w.RunFor(SimDuration.FromMilliseconds(50));
        Assert.Equal(Errno.None, listener.TryAccept(out var server));
        var src = new byte[256 * 1024];
        var dst = new byte[256 * 1024];
        long received = 0;
        server!.Changed += () => { while (server.TryReceive(dst, out int n) == Errno.None && n > 0) received += n; };
        client.Changed += () => { while (client.TrySend(src, out int n) == Errno.None && n > 0) { } };
        client.TrySend(src, out _);
        w.RunFor(SimDuration.FromSeconds(1)); // warm-up: buffers, rings, windows grown
        long segs0 = client.GetInfo().DataSegsOut, rx0 = received;
        long alloc0 = GC.GetAllocatedBytesForCurrentThread();
        w.RunFor(SimDuration.FromSeconds(1));
        long alloc = GC.GetAllocatedBytesForCurrentThread() - alloc0;
        long segs = client.GetInfo().DataSegsOut - segs0;
        Assert.True(segs > 70_000, $"{segs} segments");
        Assert.True(received - rx0 > 100_000_000, $"{received - rx0} bytes");
        Assert.True(alloc == 0, $"{alloc} B allocated over {segs} segments ({(double)alloc / segs:F2} B/segment)");
    }
}
