using NetLab.Core.Addressing;
using NetLab.Core.Time;
using NetLab.Net;
using NetLab.Stack.Icmp;
using NetLab.Stack.IPv4;
using NetLab.Stack.Link;
using NetLab.Stack.Sockets;

namespace NetLab.Stack.Tests.IPv4;

public class ForwardingTests
{
    [Fact]
    public void RouterDecrementsTtl_AndRepliesComeBackWithTtl63()
    {
        var (w, a, r, b) = TestNetworks.Routed();
        var (reply, _) = TestNetworks.Ping(w, a, "10.0.2.2");
        Assert.NotNull(reply);
        Assert.Equal(63, reply!.Datagram[8]);
        Assert.Equal(2, r.IpStats[IpMib.ForwDatagrams]);
    }

    [Fact]
    public void TtlOne_RouterAnswersTimeExceeded_FromItsInboundAddress()
    {
        var (w, a, r, _) = TestNetworks.Routed();
        var (reply, _) = TestNetworks.Ping(w, a, "10.0.2.2", ttl: 1);
        Assert.NotNull(reply);
        Assert.Equal(IcmpType.TimeExceeded, reply!.Datagram[20]);
        Assert.Equal(Ipv4Address.Parse("10.0.1.1"), reply.Source);
        // The quote is the original IP header (TTL 1) and more of the datagram.
        Assert.Equal(1, reply.Datagram[28 + 8]);
        Assert.Equal(0xC0, reply.Datagram[1]); // TOS of ICMP errors: IPTOS_PREC_INTERNETCONTROL
        Assert.Equal(1, r.IcmpStats[IcmpMib.OutTimeExcds]);
    }

    [Fact]
    public void DfAcrossSmallerMtu_FragNeededWithNextHopMtu_AndPmtuLearned()
    {
        var (w, a, r, b) = TestNetworks.Routed(right: new LinkParameters { Mtu = 1400 });
        var (reply, _) = TestNetworks.Ping(w, a, "10.0.2.2", dataLength: 1472, pmtu: PmtuDisc.Do);
        Assert.NotNull(reply);
        Assert.Equal(IcmpType.DestinationUnreachable, reply!.Datagram[20]);
        Assert.Equal(IcmpCode.FragmentationNeeded, reply.Datagram[21]);
        Assert.Equal(1400, reply.Datagram[26] << 8 | reply.Datagram[27]);
        Assert.Equal(1, r.IpStats[IpMib.FragFails]);
        var route = a.Ipv4.RouteOutput(Ipv4Address.Parse("10.0.2.2"))!;
        Assert.Equal(1400, a.Ipv4.PathMtu(route, Ipv4Address.Parse("10.0.2.2")));
        // The learned PMTU expires after net.ipv4.route.mtu_expires (600 s).
        w.RunFor(SimDuration.FromSeconds(600));
        Assert.Equal(1500, a.Ipv4.PathMtu(route, Ipv4Address.Parse("10.0.2.2")));
    }

    [Fact]
    public void TheNotesFragmentationExample_5140Bytes_Become1500_1500_1500_700()
    {
        var (w, a, r, b) = TestNetworks.Routed();
        var frames = new List<byte[]>();
        a.FindDevice("eth0")!.AddTap(new Neighbour.TapRecorder((dir, f, _) =>
        {
            if (dir == TapDirection.Transmitted && f[12] == 0x08 && f[13] == 0x00) frames.Add(f);
        }));
        // 5120 bytes of IP payload: an ICMP header (8) and 5112 bytes of data, DF clear (WANT, too big to fit).
        TestNetworks.Ping(w, a, "10.0.2.2", dataLength: 5112);
        var lengths = frames.Select(f => f[16] << 8 | f[17]).ToArray();
        var offsets = frames.Select(f => (f[20] << 8 | f[21]) & 0x1FFF).ToArray();
        var mf = frames.Select(f => (f[20] & 0x20) != 0).ToArray();
        Assert.Equal(new[] { 1500, 1500, 1500, 700 }, lengths);
        Assert.Equal(new[] { 0, 185, 370, 555 }, offsets);
        Assert.Equal(new[] { true, true, true, false }, mf);
        Assert.All(frames, f => Assert.Equal(frames[0][18..20], f[18..20])); // same identification
        Assert.Equal(4, a.IpStats[IpMib.FragCreates]);
        Assert.Equal(1, a.IpStats[IpMib.FragOKs]);
        Assert.Equal(4, a.IpStats[IpMib.OutTransmits]);
    }

    [Fact]
    public void NoRoute_RouterSendsNetUnreachable_HostWithoutForwardingCountsInAddrErrors()
    {
        var (w, a, r, b) = TestNetworks.Routed();
        var (reply, _) = TestNetworks.Ping(w, a, "192.0.2.9");
        Assert.NotNull(reply);
        Assert.Equal(IcmpType.DestinationUnreachable, reply!.Datagram[20]);
        Assert.Equal(IcmpCode.NetUnreachable, reply.Datagram[21]);
        Assert.Equal(1, r.IpExtStats[IpExtMib.InNoRoutes]);

        r.Sysctl.Set("net.ipv4.ip_forward", "0");
        var (none, _) = TestNetworks.Ping(w, a, "10.0.2.2");
        Assert.Null(none);
        Assert.Equal(1, r.IpStats[IpMib.InAddrErrors]);
    }

    [Fact]
    public void LocalNoRoute_SendFailsWithEnetunreach()
    {
        var w = new World();
        var h = w.AddHost("h");
        TestNetworks.AddInterface(h, "eth0", "10.0.0.1/24");
        using var s = RawSocket.Open(h, IpProtocol.Icmp);
        Assert.Equal(Errno.ENETUNREACH, s.SendTo(TestNetworks.EchoRequest(1, 1, 8), Ipv4Address.Parse("192.0.2.1")));
        Assert.Equal(1, h.IpStats[IpMib.OutNoRoutes]);
    }

    [Fact]
    public void PingZeroZeroZeroZero_IsAnsweredByLoopback()
    {
        var w = new World();
        var h = w.AddHost("h");
        var (reply, _) = TestNetworks.Ping(w, h, "0.0.0.0");
        Assert.NotNull(reply);
        Assert.Equal(Ipv4Address.Loopback, reply!.Source);
    }

    [Fact]
    public void IcmpErrors_AreRateLimitedPerDestination_BurstOfSixThenOnePerSecond()
    {
        var (w, a, r, b) = TestNetworks.Routed();
        TestNetworks.Ping(w, a, "10.0.2.2"); // resolve neighbours first
        using var s = RawSocket.Open(a, IpProtocol.Icmp);
        s.Ttl = 1;
        for (ushort i = 0; i < 20; i++) s.SendTo(TestNetworks.EchoRequest(7, i, 8), Ipv4Address.Parse("10.0.2.2"));
        w.RunFor(SimDuration.FromMilliseconds(100));
        Assert.Equal(6, r.IcmpStats[IcmpMib.OutTimeExcds]);
        Assert.Equal(14, r.IcmpStats[IcmpMib.OutRateLimitHost]);
        w.RunFor(SimDuration.FromMilliseconds(900));
        for (ushort i = 0; i < 3; i++) s.SendTo(TestNetworks.EchoRequest(7, i, 8), Ipv4Address.Parse("10.0.2.2"));
        w.RunFor(SimDuration.FromMilliseconds(100));
        Assert.Equal(7, r.IcmpStats[IcmpMib.OutTimeExcds]); // one token refilled per icmp_ratelimit (1000 ms)
    }

    [Fact]
    public void SameSeedSameFrames_DifferentSeedWithLossDiffers()
    {
        static string Run(ulong seed)
        {
            var (w, a, _, _) = TestNetworks.Routed(new LinkParameters { Loss = 0.3, Jitter = SimDuration.FromMicroseconds(50) }, seed: seed);
            var log = new System.Text.StringBuilder();
            a.FindDevice("eth0")!.AddTap(new Neighbour.TapRecorder((d, f, t) => log.Append(t).Append(d).Append(Convert.ToHexString(f)).Append('\n')));
            for (int i = 0; i < 20; i++) TestNetworks.Ping(w, a, "10.0.2.2");
            return log.ToString();
        }
        Assert.Equal(Run(5), Run(5));
        Assert.NotEqual(Run(5), Run(6));
    }
}
