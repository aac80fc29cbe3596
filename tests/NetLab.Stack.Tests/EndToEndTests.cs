using NetLab.Core.Time;
using NetLab.Net;
using NetLab.Stack.Icmp;
using NetLab.Stack.Neighbour;

namespace NetLab.Stack.Tests;

public class EndToEndTests
{
    [Fact]
    public void Ping_AcrossSwitch_RttIsExactlyTwoHopsOfSerialisationAndDelay_BothWays()
    {
        var p = new LinkParameters { RateBitsPerSecond = 100_000_000, Delay = SimDuration.FromMilliseconds(1) };
        var (w, a, b, _) = TestNetworks.TwoHostsOnSwitch(p);
        // First ping pays for ARP: request and reply each cross two links.
        var (first, _) = TestNetworks.Ping(w, a, "10.0.0.2");
        Assert.NotNull(first);
        var (reply, rtt) = TestNetworks.Ping(w, a, "10.0.0.2");
        Assert.NotNull(reply);
        Assert.Equal(IcmpType.EchoReply, reply!.Datagram[20]);
        // 98-byte frame: (98 + 24) * 8 bits at 100 Mbit/s = 9760 ns per link, plus 1 ms, four links in all.
        long perLink = Channel.SerializationNs(98, p.RateBitsPerSecond) + 1_000_000;
        Assert.Equal(9_760, Channel.SerializationNs(98, p.RateBitsPerSecond));
        Assert.Equal(4 * perLink, rtt.Nanoseconds);
        Assert.Equal(NudState.Reachable, a.Neighbours.Lookup(a.FindDevice("eth0")!, Core.Addressing.Ipv4Address.Parse("10.0.0.2"))!.State);
        Assert.Equal(2, a.IcmpStats[IcmpMib.InEchoReps]);
        Assert.Equal(2, b.IcmpStats[IcmpMib.OutEchoReps]);
        w.Scheduler.RunUntilIdle(w.Now + SimDuration.FromSeconds(1));
        Assert.Equal(0, w.Pool.Outstanding);
    }
}
