using NetLab.Core.Addressing;
using NetLab.Stack.IPv4;
using NetLab.Stack.Link;
using NetLab.Stack.Sockets;

namespace NetLab.Stack.Tests;

public class SocketDefaultsTests
{
    private sealed class FrameLog : IPacketTap
    {
        public readonly List<byte[]> Sent = [];
        public void OnFrame(NetDevice device, TapDirection direction, ReadOnlySpan<byte> frame, long timestampNs)
        {
            if (direction == TapDirection.Transmitted) Sent.Add(frame.ToArray());
        }
    }

    private static bool DontFragment(byte[] frame) => (frame[14 + 6] & 0x40) != 0;

    [Fact]
    public void NewSockets_StartAtPmtuDiscWant_SoDatagramsThatFitCarryDf()
    {
        var (w, a, _, _) = TestNetworks.TwoHostsOnSwitch();
        var log = new FrameLog();
        a.FindDevice("eth0")!.AddTap(log);
        var udp = a.Udp.Open();
        Assert.Equal(PmtuDisc.Want, udp.PmtuDisc);
        using var raw = RawSocket.Open(a, IpProtocol.Icmp);
        Assert.Equal(PmtuDisc.Want, raw.PmtuDisc);

        Assert.Equal(Errno.None, udp.SendTo(new byte[100], Ipv4Address.Parse("10.0.0.2"), 9));
        Assert.Equal(Errno.None, udp.SendTo(new byte[3000], Ipv4Address.Parse("10.0.0.2"), 9));
        w.RunFor(Core.Time.SimDuration.FromSeconds(1));
        var ip = log.Sent.Where(f => f[12] == 0x08 && f[13] == 0x00).ToList();
        Assert.True(DontFragment(ip[0]));   // 128 bytes fit the 1500 MTU: DF (ip_dont_fragment)
        Assert.False(DontFragment(ip[1]));  // 3028 bytes do not: fragments, DF clear
        Assert.Equal(4, ip.Count);
        udp.Dispose();
    }

    [Fact]
    public void IpNoPmtuDisc_MakesNewSocketsDont()
    {
        var (_, a, _, _) = TestNetworks.TwoHostsOnSwitch();
        a.Sysctl.Set("net.ipv4.ip_no_pmtu_disc", "1");
        Assert.Equal(PmtuDisc.Dont, a.Udp.Open().PmtuDisc);
    }
}
