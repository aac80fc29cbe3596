using NetLab.Core.Addressing;
using NetLab.Core.Time;
using NetLab.Stack.Udp;

namespace NetLab.Stack.Tests.Udp;

public class UdpSocketTests
{
    private static readonly Ipv4Address B = Ipv4Address.Parse("10.0.0.2");

    [Fact]
    public void Datagrams_KeepBoundaries_AndSourceAddress()
    {
        var (w, a, b, _) = TestNetworks.TwoHostsOnSwitch();
        using var server = b.Udp.Open();
        Assert.Equal(Errno.None, server.Bind(Ipv4Address.Any, 7));
        using var client = a.Udp.Open();
        Assert.Equal(Errno.None, client.SendTo("hello"u8, B, 7));
        Assert.Equal(Errno.None, client.SendTo("world!"u8, B, 7));
        w.RunFor(SimDuration.FromMilliseconds(10));
        var buf = new byte[100];
        Assert.Equal(Errno.None, server.TryReceive(buf, out var r1));
        Assert.Equal("hello", System.Text.Encoding.ASCII.GetString(buf, 0, r1.Length));
        Assert.Equal(Ipv4Address.Parse("10.0.0.1"), r1.Address);
        Assert.Equal(client.LocalPort, r1.Port);
        Assert.InRange(client.LocalPort, 32768, 60999);
        Assert.Equal(Errno.None, server.TryReceive(buf, out var r2));
        Assert.Equal(6, r2.Length);
        Assert.Equal(Errno.EAGAIN, server.TryReceive(buf, out _));
    }

    [Fact]
    public void ClosedPort_PortUnreachable_ConnectedSocketGetsEconnrefusedOnNextCall()
    {
        var (w, a, b, _) = TestNetworks.TwoHostsOnSwitch();
        using var client = a.Udp.Open();
        Assert.Equal(Errno.None, client.Connect(B, 9999));
        Assert.Equal(Errno.None, client.Send("x"u8));
        w.RunFor(SimDuration.FromMilliseconds(10));
        Assert.Equal(1, b.UdpStats[UdpMib.NoPorts]);
        Assert.Equal(Errno.ECONNREFUSED, client.Send("y"u8));
        Assert.Equal(Errno.None, client.Send("z"u8)); // reported once, then cleared
    }

    [Fact]
    public void UnconnectedSocket_IgnoresPortUnreachable_UnlessRecvErr()
    {
        var (w, a, b, _) = TestNetworks.TwoHostsOnSwitch();
        using var quiet = a.Udp.Open();
        quiet.SendTo("x"u8, B, 9999);
        using var recverr = a.Udp.Open();
        recverr.RecvErr = true;
        recverr.SendTo("x"u8, B, 9998);
        w.RunFor(SimDuration.FromMilliseconds(10));
        Assert.Equal(Errno.None, quiet.PendingError);
        Assert.True(recverr.TryReceiveError(out var e));
        Assert.Equal(Errno.ECONNREFUSED, e!.Errno);
        Assert.Equal(Sockets.ErrOrigin.Icmp, e.Origin);
        Assert.Equal(9998, e.DestinationPort);
        Assert.Equal(B, e.Offender);
    }

    [Fact]
    public void FullReceiveBuffer_DropsAndCountsRcvbufErrors()
    {
        var (w, a, b, _) = TestNetworks.TwoHostsOnSwitch();
        using var server = b.Udp.Open();
        server.Bind(Ipv4Address.Any, 7);
        server.ReceiveBufferSize = 4096; // doubled to 8192 by the kernel
        Assert.Equal(8192, server.ReceiveBufferSize);
        using var client = a.Udp.Open();
        var payload = new byte[1000];
        for (int i = 0; i < 20; i++) client.SendTo(payload, B, 7);
        w.RunFor(SimDuration.FromMilliseconds(50));
        // Each datagram costs 1728 bytes of truesize; the queue may overshoot rcvbuf by one: 5 fit.
        Assert.Equal(5, server.QueuedDatagrams);
        Assert.Equal(15, b.UdpStats[UdpMib.RcvbufErrors]);
    }

    [Fact]
    public void BindConflicts_EaddrinuseUnlessBothReuse()
    {
        var (_, a, _, _) = TestNetworks.TwoHostsOnSwitch();
        using var s1 = a.Udp.Open();
        using var s2 = a.Udp.Open();
        Assert.Equal(Errno.None, s1.Bind(Ipv4Address.Any, 5000));
        Assert.Equal(Errno.EADDRINUSE, s2.Bind(Ipv4Address.Parse("10.0.0.1"), 5000));
        Assert.Equal(Errno.EADDRNOTAVAIL, s2.Bind(Ipv4Address.Parse("10.9.9.9"), 5001));
    }
}
