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
}
