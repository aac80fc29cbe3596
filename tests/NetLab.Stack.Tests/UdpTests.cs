using NetLab.Core.Addressing;
using NetLab.Core.Time;

namespace NetLab.Stack.Tests;

public class UdpTests
{
    [Fact]
    public void Datagram_WithPayload_ArrivesWithValidChecksum()
    {
        var (w, a, b, _) = TestNetworks.TwoHostsOnSwitch();
        var server = b.Udp.Open();
        Assert.Equal(Errno.None, server.Bind(Ipv4Address.Any, 7));
        var client = a.Udp.Open();
        Assert.Equal(Errno.None, client.SendTo("ping"u8, Ipv4Address.Parse("10.0.0.2"), 7));
        w.RunFor(SimDuration.FromSeconds(1));
        var buf = new byte[16];
        Assert.Equal(Errno.None, server.TryReceive(buf, out var r));
        Assert.Equal("ping"u8.ToArray(), buf[..r.Length]);
        Assert.Equal(Ipv4Address.Parse("10.0.0.1"), r.Address);
        Assert.Equal(0, b.UdpStats[UdpMib.InCsumErrors]);
        client.Dispose();
        server.Dispose();
        Assert.Equal(0, w.Pool.Outstanding);
    }

    [Fact]
    public void LocalEmsgsize_QueuesDeviceMtuWithInetDport_AndLeavesSkErr()
    {
        var (w, a, _, _) = TestNetworks.TwoHostsOnSwitch();
        var s = a.Udp.Open();
        s.RecvErr = true;
        s.PmtuDisc = Stack.IPv4.PmtuDisc.Probe;
        Assert.Equal(Errno.EMSGSIZE, s.SendTo(new byte[2000], Ipv4Address.Parse("10.0.0.2"), 44444));
        // ip_local_error() does not set sk_err: the next send is not failed by the queued error.
        Assert.Equal(Errno.None, s.PendingError);
        Assert.True(s.TryReceiveError(out var e));
        Assert.Equal(Sockets.ErrOrigin.Local, e!.Origin);
        Assert.Equal(1500u, e.Info);
        Assert.Equal((ushort)0, e.DestinationPort); // inet_dport of an unconnected socket
        Assert.Empty(e.Payload);
        Assert.Equal(Errno.None, s.SendTo(new byte[100], Ipv4Address.Parse("10.0.0.2"), 44444));
        w.RunFor(SimDuration.FromSeconds(1));
        s.Dispose();
    }

    [Fact]
    public void FullQdisc_CountsSndbufErrorsAndOutDiscards_AndFailsOnlyWithRecvErr()
    {
        var (w, a, _, _) = TestNetworks.TwoHostsOnSwitch();
        var dst = Ipv4Address.Parse("10.0.0.2");
        var dev = a.FindDevice("eth0")!;
        var s = a.Udp.Open();
        Assert.Equal(Errno.None, s.SendTo(new byte[1000], dst, 9)); // resolves the neighbour
        w.RunFor(SimDuration.FromSeconds(1));
        dev.TxQueueLen = 4;
        // One datagram on the wire, four in the qdisc, the rest dropped: udp_send_skb() hides ENOBUFS without IP_RECVERR.
        for (int i = 0; i < 20; i++) Assert.Equal(Errno.None, s.SendTo(new byte[1000], dst, 9));
        Assert.Equal(15, a.UdpStats[UdpMib.SndbufErrors]);
        Assert.Equal(15, a.IpStats[IpMib.OutDiscards]);
        Assert.Equal(6, a.UdpStats[UdpMib.OutDatagrams]);
        s.RecvErr = true;
        Assert.Equal(Errno.ENOBUFS, s.SendTo(new byte[1000], dst, 9));
        w.RunFor(SimDuration.FromSeconds(1));
        s.Dispose();
        Assert.Equal(0, w.Pool.Outstanding);
    }
}
