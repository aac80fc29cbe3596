using NetLab.Core.Time;
using NetLab.Net;
using NetLab.Stack.Link;

namespace NetLab.Stack.Tests.Net;

public class SwitchTests
{
    [Fact]
    public void LearnsSources_FloodsUnknown_ThenForwardsToOnePort_AndAgesAfter300s()
    {
        var (w, sw, hosts) = TestNetworks.HostsOnSwitch(3);
        TestNetworks.Ping(w, hosts[0], "10.0.0.2");
        // ARP request was flooded to h2 and h3; the unicast echo only reached h2.
        var h3Rx = hosts[2].FindDevice("eth0")!.Stats.RxPackets;
        Assert.Equal(1, h3Rx);
        Assert.Equal(2, sw.Fdb().Count());
        TestNetworks.Ping(w, hosts[0], "10.0.0.2");
        Assert.Equal(h3Rx, hosts[2].FindDevice("eth0")!.Stats.RxPackets);

        // The last frames are b's unicast ARP probe and a's reply, 5 s in (b's entry for a: STALE → DELAY → PROBE).
        w.RunUntil(new SimTime(5_000_000_000L + 300_000_000_000L - 1));
        Assert.NotEmpty(sw.Fdb());
        w.RunFor(SimDuration.FromMilliseconds(10));
        Assert.Empty(sw.Fdb());
    }

    [Fact]
    public void FramesLargerThanTheEgressPortMtu_AreDiscarded()
    {
        var w = new World();
        var sw = w.AddSwitch("sw");
        var a = w.AddHost("a");
        var b = w.AddHost("b");
        var da = TestNetworks.AddInterface(a, "eth0", "10.0.0.1/24");
        var db = TestNetworks.AddInterface(b, "eth0", "10.0.0.2/24");
        w.Connect(da, sw.AddPort(), new LinkParameters { Mtu = 9000 });
        var port = sw.AddPort();
        w.Connect(db, port, new LinkParameters { Mtu = 1500 });
        TestNetworks.Ping(w, a, "10.0.0.2");
        var (reply, _) = TestNetworks.Ping(w, a, "10.0.0.2", dataLength: 3000, pmtu: Stack.IPv4.PmtuDisc.Do);
        Assert.Null(reply);
        Assert.Equal(1, port.Stats.TooBig);
    }
}
