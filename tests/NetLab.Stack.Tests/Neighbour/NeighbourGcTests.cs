using NetLab.Core.Addressing;
using NetLab.Core.Time;
using NetLab.Stack.Neighbour;

namespace NetLab.Stack.Tests.Neighbour;

/// <summary>neigh_periodic_work() and neigh_forced_gc() with the gc_thresh sysctls.</summary>
public class NeighbourGcTests
{
    [Fact]
    public void PeriodicGc_OnlyAboveGcThresh1_RemovesFailedAndLongUnusedEntries()
    {
        var (w, a, _, _) = TestNetworks.TwoHostsOnSwitch();
        a.Sysctl.Set("net.ipv4.neigh.default.gc_thresh1", "4");
        using var s = Sockets.RawSocket.Open(a, Stack.IPv4.IpProtocol.Icmp);
        // Three unanswered addresses: below gc_thresh1 the table is left alone, even when FAILED.
        for (int i = 0; i < 3; i++) s.SendTo(TestNetworks.EchoRequest(1, 1, 8), Ipv4Address.Parse($"10.0.0.{100 + i}"));
        w.RunFor(SimDuration.FromSeconds(120));
        Assert.Equal(3, a.Neighbours.Entries.Count(n => n.State == NudState.Failed));
        Assert.Equal(0, a.Neighbours.Stats[Stack.NeighMib.PeriodicGcRuns]);

        // A fourth reaches gc_thresh1: the GC runs every base_reachable_time/2 and removes the FAILED ones.
        s.SendTo(TestNetworks.EchoRequest(1, 1, 8), Ipv4Address.Parse("10.0.0.103"));
        w.RunFor(SimDuration.FromSeconds(16));
        Assert.True(a.Neighbours.Stats[Stack.NeighMib.PeriodicGcRuns] >= 1);
        Assert.DoesNotContain(a.Neighbours.Entries, n => n.Address == Ipv4Address.Parse("10.0.0.100"));
        Assert.Equal(0, w.Pool.Outstanding);
    }

    [Fact]
    public void ForcedGc_AtGcThresh3_EvictsOldEntries_AndCountsTableFullsWhenItCannot()
    {
        var (w, a, _, _) = TestNetworks.TwoHostsOnSwitch();
        var dev = a.FindDevice("eth0")!;
        a.Sysctl.Set("net.ipv4.neigh.default.gc_thresh1", "2");
        a.Sysctl.Set("net.ipv4.neigh.default.gc_thresh2", "3");
        a.Sysctl.Set("net.ipv4.neigh.default.gc_thresh3", "4");
        var mac = MacAddress.Parse("02:00:00:00:00:01");
        for (int i = 0; i < 4; i++) a.Neighbours.SetStatic(dev, Ipv4Address.Parse($"10.0.0.{50 + i}"), mac);
        // Permanent entries are never evicted: the table is full and a new neighbour cannot be created.
        var (reply, _) = TestNetworks.Ping(w, a, "10.0.0.2");
        Assert.Null(reply);
        Assert.Equal(1, a.Neighbours.Stats[Stack.NeighMib.TableFulls]);

        // Dynamic entries older than 5 s are evicted down to gc_thresh2 to make room.
        a.Neighbours.Delete(dev, Ipv4Address.Parse("10.0.0.50"));
        a.Neighbours.Delete(dev, Ipv4Address.Parse("10.0.0.51"));
        a.Neighbours.SetStatic(dev, Ipv4Address.Parse("10.0.0.60"), mac, NudState.Stale);
        a.Neighbours.SetStatic(dev, Ipv4Address.Parse("10.0.0.61"), mac, NudState.Stale);
        w.RunFor(SimDuration.FromSeconds(10));
        var (ok, _) = TestNetworks.Ping(w, a, "10.0.0.2");
        Assert.NotNull(ok);
        Assert.True(a.Neighbours.Stats[Stack.NeighMib.ForcedGcRuns] >= 1);
        // Four entries at gc_thresh3: one of the two stale ones (excess over gc_thresh2) made room for 10.0.0.2.
        Assert.Equal(4, a.Neighbours.Count);
        Assert.Equal(1, a.Neighbours.Entries.Count(n => n.Address == Ipv4Address.Parse("10.0.0.60") || n.Address == Ipv4Address.Parse("10.0.0.61")));
        Assert.Equal(2, a.Neighbours.Entries.Count(n => n.State == NudState.Permanent));
    }
}
