using NetLab.Core.Addressing;
using NetLab.Core.Time;
using NetLab.Stack.Neighbour;

namespace NetLab.Stack.Tests.Neighbour;

/// <summary>The NUD state machine against Linux's timers (neigh_timer_handler, __neigh_event_send).</summary>
public class NudStateTests
{
    private static readonly Ipv4Address B = Ipv4Address.Parse("10.0.0.2");

    [Fact]
    public void Resolve_ThenReachable_DecaysToStale_ThenDelayProbeReachableOnUse()
    {
        var (w, a, b, _) = TestNetworks.TwoHostsOnSwitch();
        var dev = a.FindDevice("eth0")!;
        TestNetworks.Ping(w, a, "10.0.0.2");
        var n = a.Neighbours.Lookup(dev, B)!;
        Assert.Equal(NudState.Reachable, n.State);
        long reachable = a.Neighbours.ReachableTimeNs(dev);
        // reachable_time is drawn from [base/2, 3·base/2) with base_reachable_time_ms = 30000.
        Assert.InRange(reachable, 15_000_000_000L, 44_999_999_999L);

        // Traffic through the hh_cache fast path does not refresh 'used': the entry goes STALE. The timer
        // fires at confirmed + reachable_time, where time_before_eq() still holds, and re-arms HZ/100 later.
        w.RunUntil(new SimTime(n.Confirmed + reachable + 10_000_000 - 1));
        Assert.Equal(NudState.Reachable, n.State);
        w.RunUntil(new SimTime(n.Confirmed + reachable + 10_000_000));
        Assert.Equal(NudState.Stale, n.State);

        // Using a STALE entry: DELAY for delay_first_probe_time (5 s), then PROBE with unicast requests.
        var sent = w.Now;
        using var s = Sockets.RawSocket.Open(a, Stack.IPv4.IpProtocol.Icmp);
        s.SendTo(TestNetworks.EchoRequest(1, 1, 8), B);
        w.RunFor(SimDuration.FromMilliseconds(1));
        // The echo reply does not confirm reachability (only TCP or MSG_CONFIRM would): still DELAY.
        Assert.Equal(NudState.Delay, n.State);
        w.RunUntil(sent + SimDuration.FromSeconds(5) + SimDuration.FromMilliseconds(1));
        // DELAY expired unconfirmed → PROBE; the unicast probe is answered at once → REACHABLE.
        Assert.Equal(NudState.Reachable, n.State);
        Assert.Equal(0, a.Neighbours.Stats[Stack.NeighMib.ResFailed]);
    }

    [Fact]
    public void UnansweredResolution_SendsThreeBroadcastsOneSecondApart_ThenFails()
    {
        var (w, a, _, sw) = TestNetworks.TwoHostsOnSwitch();
        var dev = a.FindDevice("eth0")!;
        var requests = new List<double>();
        a.FindDevice("eth0")!.AddTap(new TapRecorder((dir, frame, t) =>
        {
            if (dir == Link.TapDirection.Transmitted && frame[12] == 0x08 && frame[13] == 0x06) requests.Add(t / 1e9);
        }));
        using var s = Sockets.RawSocket.Open(a, Stack.IPv4.IpProtocol.Icmp);
        s.SendTo(TestNetworks.EchoRequest(1, 1, 8), Ipv4Address.Parse("10.0.0.99"));
        w.RunFor(SimDuration.FromMilliseconds(2999));
        Assert.Equal(NudState.Incomplete, a.Neighbours.Lookup(dev, Ipv4Address.Parse("10.0.0.99"))!.State);
        w.RunFor(SimDuration.FromMilliseconds(2));
        Assert.Equal(new[] { 0.0, 1.0, 2.0 }, requests);
        Assert.Equal(NudState.Failed, a.Neighbours.Lookup(dev, Ipv4Address.Parse("10.0.0.99"))!.State);
        // The queued echo request came back as ICMP host unreachable from ourselves (arp_error_report).
        Assert.True(s.TryReceive(out var err));
        Assert.Equal(Icmp.IcmpType.DestinationUnreachable, err!.Datagram[20]);
        Assert.Equal(Icmp.IcmpCode.HostUnreachable, err.Datagram[21]);
        Assert.Equal(Ipv4Address.Parse("10.0.0.1"), err.Source);
    }

    [Fact]
    public void ArpRequestForUs_CreatesStaleEntryForTheAsker()
    {
        var (w, a, b, _) = TestNetworks.TwoHostsOnSwitch();
        TestNetworks.Ping(w, a, "10.0.0.2");
        // b learned a from a's request (neigh_event_ns → STALE), then used it for the reply → DELAY.
        var n = b.Neighbours.Lookup(b.FindDevice("eth0")!, Ipv4Address.Parse("10.0.0.1"))!;
        Assert.Equal(NudState.Delay, n.State);
        Assert.Equal(a.FindDevice("eth0")!.Mac, n.LinkAddress);
    }

    [Fact]
    public void QueueWhileIncomplete_IsBoundedByUnresQlenBytes_OldestDropped()
    {
        var (w, a, _, _) = TestNetworks.TwoHostsOnSwitch();
        a.Sysctl.Set("net.ipv4.neigh.eth0.unres_qlen_bytes", "3000");
        using var s = Sockets.RawSocket.Open(a, Stack.IPv4.IpProtocol.Icmp);
        for (ushort i = 0; i < 5; i++) s.SendTo(TestNetworks.EchoRequest(1, i, 900), Ipv4Address.Parse("10.0.0.99"));
        // Each queued packet costs 928 + 14 + 576 = 1518 bytes of truesize: only one fits under 3000.
        Assert.Equal(4, a.Neighbours.Stats[Stack.NeighMib.UnresolvedDiscards]);
        w.RunFor(SimDuration.FromSeconds(4));
        Assert.Equal(0, w.Pool.Outstanding);
    }

    [Fact]
    public void StaticEntry_IsPermanent_AndNeverProbed()
    {
        var (w, a, b, _) = TestNetworks.TwoHostsOnSwitch();
        var dev = a.FindDevice("eth0")!;
        a.Neighbours.SetStatic(dev, B, b.FindDevice("eth0")!.Mac);
        int requests = 0;
        dev.AddTap(new TapRecorder((dir, f, _) => { if (dir == Link.TapDirection.Transmitted && f[13] == 0x06 && f[21] == 1) requests++; }));
        TestNetworks.Ping(w, a, "10.0.0.2");
        w.RunFor(SimDuration.FromSeconds(120));
        Assert.Equal(0, requests); // a still answers b's requests; it never asks
        Assert.Equal(NudState.Permanent, a.Neighbours.Lookup(dev, B)!.State);
    }
}

internal sealed class TapRecorder(Action<Link.TapDirection, byte[], long> onFrame) : Link.IPacketTap
{
    public void OnFrame(Link.NetDevice device, Link.TapDirection direction, ReadOnlySpan<byte> frame, long timestampNs) =>
        onFrame(direction, frame.ToArray(), timestampNs);
}
