using NetLab.Core.Addressing;
using NetLab.Core.Packets;
using NetLab.Core.Time;
using NetLab.Net;
using NetLab.Stack.Neighbour;

namespace NetLab.Stack.Tests;

public class HostApiTests
{
    [Fact]
    public void ArpReceived_ReportsThePacketType_AsAPacketSocketSeesIt()
    {
        var (w, a, b, _) = TestNetworks.TwoHostsOnSwitch();
        var seen = new List<(ushort Op, PacketType Type)>();
        b.Neighbours.ArpReceived += (_, arp, type) => seen.Add((arp.Operation, type));
        a.Neighbours.ArpReceived += (_, arp, type) => seen.Add((arp.Operation, type));
        TestNetworks.Ping(w, a, "10.0.0.2");
        Assert.Equal([(ArpOp.Request, PacketType.Broadcast), (ArpOp.Reply, PacketType.Host)], seen);
    }

    [Fact]
    public void Pids_AreUniqueAndAscendingPerHost()
    {
        var w = new World();
        var h = w.AddHost("h");
        int first = h.AllocatePid();
        Assert.Equal(first + 1, h.AllocatePid());
        Assert.Equal(first, w.AddHost("g").AllocatePid());
    }

    [Fact]
    public void AddRoute_OnADownDevice_FailsLikeFibCheckNh()
    {
        var w = new World();
        var h = w.AddHost("h");
        var eth = h.AddEthernet("eth1");
        var e = Assert.Throws<ArgumentException>(() => h.Ipv4.AddRoute(Ipv4Prefix.Parse("10.9.0.0/16"), null, eth));
        Assert.Equal("Error: Device for nexthop is not up.", e.Message);
        eth.SetUp(true);
        h.Ipv4.AddRoute(Ipv4Prefix.Parse("10.9.0.0/16"), null, eth);
        w.RunFor(SimDuration.FromSeconds(1));
    }
}
