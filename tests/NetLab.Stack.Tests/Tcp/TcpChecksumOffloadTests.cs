using NetLab.Core.Addressing;
using NetLab.Core.Time;
using NetLab.Net;
using NetLab.Stack.Tcp;

namespace NetLab.Stack.Tests.Tcp;

/// <summary>
/// Checksum offload semantics (skb->ip_summed): segments NetLab's TCP built cross a clean link marked
/// CHECKSUM_UNNECESSARY, as over a veth, so the receiver does not verify them again; a link that corrupts a frame
/// clears the mark, so the receiver still finds every corrupted segment (Tcp InCsumErrors) and TCP repairs it.
/// </summary>
public class TcpChecksumOffloadTests
{
    [Fact]
    public void CorruptedSegments_AreStillCaughtByTheReceiver_AndTheStreamArrivesIntact()
    {
        var w = new World(7);
        var a = w.AddHost("a");
        var b = w.AddHost("b");
        var ea = TestNetworks.AddInterface(a, "eth0", "10.0.0.1/24");
        var eb = TestNetworks.AddInterface(b, "eth0", "10.0.0.2/24");
        var link = w.Connect(ea, eb, new LinkParameters { RateBitsPerSecond = 100_000_000, Delay = SimDuration.FromMilliseconds(1), Corrupt = 0.05 });
        a.Neighbours.SetStatic(ea, Ipv4Address.Parse("10.0.0.2"), eb.Mac);
        b.Neighbours.SetStatic(eb, Ipv4Address.Parse("10.0.0.1"), ea.Mac);
        var data = new byte[300_000];
        new Random(7).NextBytes(data);
        var listener = b.Tcp.Open();
        Assert.Equal(Errno.None, listener.Bind(Ipv4Address.Any, 5001));
        Assert.Equal(Errno.None, listener.Listen(4));
        var received = new MemoryStream();
        async Task Server()
        {
            using var s = await listener.AcceptAsync();
            var buf = new byte[16 * 1024];
            int n;
            while ((n = await s.ReceiveAsync(buf)) > 0) received.Write(buf, 0, n);
        }
        async Task Client()
        {
            using var s = a.Tcp.Open();
            await s.ConnectAsync(Ipv4Address.Parse("10.0.0.2"), 5001);
            await s.SendAsync(data);
            s.Shutdown(ShutdownHow.Write);
        }
        var t = TestNetworks.OnLoop(w, () => Task.WhenAll(Server(), Client()));
        w.Scheduler.Run(t, SimTime.Zero + SimDuration.FromSeconds(600));
        Assert.True(t.IsCompletedSuccessfully, t.Exception?.ToString());
        Assert.Equal(data, received.ToArray());
        long corrupted = link.AToB.Stats.Corrupted;
        Assert.True(corrupted > 5, $"only {corrupted} frames corrupted");
        // Bits flipped in the TCP header or payload are caught by the TCP checksum; the rest by Ethernet, IP.
        long caught = b.TcpStats[TcpMib.InCsumErrors] + b.IpExtStats[IpExtMib.InCsumErrors] + b.IpStats[IpMib.InHdrErrors]
            + eb.Stats.RxErrors + eb.Stats.RxDropped;
        Assert.True(b.TcpStats[TcpMib.InCsumErrors] > 0, "no corrupted segment was caught by its TCP checksum");
        Assert.True(caught <= corrupted + 1);
        listener.Dispose();
        w.RunFor(SimDuration.FromSeconds(120));
    }
}
