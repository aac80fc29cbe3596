using NetLab.Core.Addressing;
using NetLab.Net;
using NetLab.Stack.IPv4;

namespace NetLab.Stack.Tests;

public class FibTests
{
    private static string Show(FibTable t) =>
        string.Join("\n", t.All().Select(r => $"{r.Type} {r.Destination} {r.Device?.Name} {r.PreferredSource}"));

    [Fact]
    public void LocalTable_HasLinuxKernelRoutes_IncludingLoBroadcast()
    {
        var w = new World();
        var h = w.AddHost("h");
        TestNetworks.AddInterface(h, "eth0", "10.0.1.2/24");
        Assert.Equal("""
            Local 10.0.1.2/32 eth0 10.0.1.2
            Broadcast 10.0.1.255/32 eth0 10.0.1.2
            Local 127.0.0.0/8 lo 127.0.0.1
            Local 127.0.0.1/32 lo 127.0.0.1
            Broadcast 127.255.255.255/32 lo 127.0.0.1
            """, Show(h.Ipv4.LocalTable));
        Assert.Equal("Unicast 10.0.1.0/24 eth0 10.0.1.2", Show(h.Ipv4.MainTable));
    }

    [Fact]
    public void AddressWithoutBrd_HasNoBroadcastAddress_ButTheBroadcastRouteStays()
    {
        var w = new World();
        var h = w.AddHost("h");
        var eth = h.AddEthernet("eth0");
        eth.SetUp(true);
        var a = h.Ipv4.AddAddress(eth, Ipv4Prefix.Parse("10.0.1.2/24"), withBroadcast: false);
        Assert.Null(a.BroadcastAddress);
        Assert.True(h.Ipv4.IsBroadcast(Ipv4Address.Parse("10.0.1.255")));
        Assert.True(h.Ipv4.RemoveAddress(eth, a.Local));
        Assert.False(h.Ipv4.IsBroadcast(Ipv4Address.Parse("10.0.1.255")));
    }

    [Fact]
    public void All_ListsByKey_LongerPrefixFirst_ThenMetric()
    {
        var w = new World();
        var h = w.AddHost("h");
        TestNetworks.AddInterface(h, "eth0", "10.0.1.2/24");
        var gw = Ipv4Address.Parse("10.0.1.1");
        h.Ipv4.AddRoute(Ipv4Prefix.Parse("10.0.0.0/8"), gw, null);
        h.Ipv4.AddRoute(Ipv4Prefix.Parse("10.0.0.0/16"), gw, null, metric: 5);
        h.Ipv4.AddRoute(Ipv4Prefix.Parse("10.0.0.0/16"), gw, null);
        h.Ipv4.AddRoute(Ipv4Prefix.Parse("0.0.0.0/0"), gw, null);
        Assert.Equal(
            ["0.0.0.0/0", "10.0.0.0/16", "10.0.0.0/16", "10.0.0.0/8", "10.0.1.0/24"],
            h.Ipv4.MainTable.All().Select(r => r.Destination.ToString()));
        Assert.Equal([0, 5], h.Ipv4.MainTable.All().Where(r => r.Destination.Length == 16).Select(r => r.Metric));
    }
}
