using NetLab.Core.Addressing;
using NetLab.Core.Time;
using NetLab.Net;

namespace NetLab.Stack.Tests.IPv4;

public class BroadcastAndEchoTests
{
    [Fact]
    public void UdpToTheSubnetBroadcast_NeedsSoBroadcast_AndReachesEveryHost()
    {
        var (w, sw, hosts) = TestNetworks.HostsOnSwitch(3);
        var servers = hosts.Skip(1).Select(h => { var s = h.Udp.Open(); s.Bind(Ipv4Address.Any, 9); return s; }).ToArray();
        using var client = hosts[0].Udp.Open();
        Assert.Equal(Errno.EACCES, client.SendTo("x"u8, Ipv4Address.Parse("10.0.0.255"), 9));
        client.Broadcast = true;
        Assert.Equal(Errno.None, client.SendTo("hello"u8, Ipv4Address.Parse("10.0.0.255"), 9));
        Assert.Equal(Errno.None, client.SendTo("again"u8, Ipv4Address.Broadcast, 9));
        w.RunFor(SimDuration.FromMilliseconds(10));
        foreach (var s in servers)
        {
            Assert.Equal(2, s.QueuedDatagrams);
        }
        Assert.Equal(2, hosts[1].IpExtStats[IpExtMib.InBcastPkts]);
        // No ARP was needed: broadcasts go to ff:ff:ff:ff:ff:ff.
        Assert.Empty(hosts[0].Neighbours.Entries);
    }

    [Fact]
    public void EchoIgnoreAll_SilencesTheHost_EchoIgnoreBroadcasts_IsOnByDefault()
    {
        var (w, a, b, _) = TestNetworks.TwoHostsOnSwitch();
        Assert.NotNull(TestNetworks.Ping(w, a, "10.0.0.2").Reply);
        b.Sysctl.Set("net.ipv4.icmp_echo_ignore_all", "1");
        Assert.Null(TestNetworks.Ping(w, a, "10.0.0.2").Reply);

        b.Sysctl.Set("net.ipv4.icmp_echo_ignore_all", "0");
        using var s = Sockets.RawSocket.Open(a, Stack.IPv4.IpProtocol.Icmp);
        s.Broadcast = true;
        s.SendTo(TestNetworks.EchoRequest(5, 1, 8), Ipv4Address.Parse("10.0.0.255"));
        w.RunFor(SimDuration.FromMilliseconds(10));
        Assert.Equal(1, b.IcmpStats[IcmpMib.InErrors]);
        b.Sysctl.Set("net.ipv4.icmp_echo_ignore_broadcasts", "0");
        s.SendTo(TestNetworks.EchoRequest(5, 2, 8), Ipv4Address.Parse("10.0.0.255"));
        w.RunFor(SimDuration.FromMilliseconds(10));
        Assert.Equal(2, b.IcmpStats[IcmpMib.OutEchoReps]); // the first unicast ping and the last broadcast; nothing in between
    }
}
