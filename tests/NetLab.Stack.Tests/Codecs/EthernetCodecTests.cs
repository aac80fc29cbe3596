using CsCheck;
using NetLab.Core;
using NetLab.Core.Addressing;
using NetLab.Stack.Link;
using static NetLab.Stack.Tests.Codecs.CodecTestHelpers;

namespace NetLab.Stack.Tests.Codecs;

public class EthernetCodecTests
{
    private static readonly MacAddress V1 = MacAddress.Parse("02:4e:4c:09:00:01");
    private static readonly MacAddress V2 = MacAddress.Parse("02:4e:4c:09:00:02");

    // Two real headers: the broadcast ARP request and the unicast IPv4 echo request.
    private static readonly byte[] ArpHeader = LinuxCaptures.ArpRequest[..EthernetHeaderView.Length];
    private static readonly byte[] IpHeader = LinuxCaptures.EchoRequest[..EthernetHeaderView.Length];
    private static readonly EthernetRepr ArpFrameRepr = new(MacAddress.Broadcast, V1, EtherType.Arp);
    private static readonly EthernetRepr IpFrameRepr = new(V2, V1, EtherType.Ipv4);

    [Fact]
    public void Deconstruct()
    {
        Assert.True(EthernetHeaderView.TryCreate(LinuxCaptures.ArpRequest, out var arp));
        Assert.Equal(MacAddress.Broadcast, arp.Destination);
        Assert.Equal(V1, arp.Source);
        Assert.Equal(EtherType.Arp, arp.EtherType);

        Assert.True(EthernetHeaderView.TryCreate(LinuxCaptures.EchoRequest, out var ip));
        Assert.Equal(V2, ip.Destination);
        Assert.Equal(V1, ip.Source);
        Assert.Equal(EtherType.Ipv4, ip.EtherType);
    }

    [Fact]
    public void Construct()
    {
        var b = Stale(EthernetHeaderView.Length);
        var v = EthernetHeaderView.ForEmit(b);
        v.Destination = MacAddress.Broadcast;
        v.Source = V1;
        v.EtherType = EtherType.Arp;
        Assert.Equal(Hex.Format(ArpHeader), Hex.Format(b));

        v.Destination = V2;
        v.EtherType = EtherType.Ipv4;
        Assert.Equal(Hex.Format(IpHeader), Hex.Format(b));
    }

    [Fact]
    public void Parse()
    {
        Assert.True(EthernetRepr.TryParse(LinuxCaptures.ArpRequest, out var arp));
        Assert.Equal(ArpFrameRepr, arp);
        Assert.True(EthernetRepr.TryParse(LinuxCaptures.EchoRequest, out var ip));
        Assert.Equal(IpFrameRepr, ip);
        Assert.Equal("02:4e:4c:09:00:01 > 02:4e:4c:09:00:02, ethertype 0x0800", ip.ToString());
    }

    [Fact]
    public void Emit()
    {
        var b = Stale(EthernetHeaderView.Length);
        ArpFrameRepr.Emit(b);
        Assert.Equal(Hex.Format(ArpHeader), Hex.Format(b));
        IpFrameRepr.Emit(b);
        Assert.Equal(Hex.Format(IpHeader), Hex.Format(b));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(13)]
    public void TooShort_IsRejected(int length)
    {
        Assert.False(EthernetHeaderView.TryCreate(new byte[length], out _));
        Assert.False(EthernetRepr.TryParse(new byte[length], out _));
    }

    [Theory]
    [InlineData(42, 84)]   // the ARP request: padded to 60, plus preamble, FCS and gap
    [InlineData(98, 122)]  // the echo request
    [InlineData(1514, 1538)]
    public void WireBytes(int frame, int expected) => Assert.Equal(expected, EthernetHeaderView.WireBytes(frame));

    [Fact]
    public void EmitThenParse_RoundTrips()
    {
        Gen.Select(GenMac, GenMac, Gen.UShort).Sample((dst, src, type) =>
        {
            var repr = new EthernetRepr(dst, src, type);
            var b = Stale(EthernetHeaderView.Length);
            repr.Emit(b);
            Assert.True(EthernetRepr.TryParse(b, out var back));
            Assert.Equal(repr, back);
        });
    }

    [Fact]
    public void RandomBytes_NeverThrow()
    {
        Fuzz(LinuxCaptures.ArpRequest, LinuxCaptures.EchoRequest).Sample(b =>
        {
            bool ok = EthernetRepr.TryParse(b, out var repr);
            Assert.Equal(b.Length >= EthernetHeaderView.Length, ok);
            if (EthernetHeaderView.TryCreate(b, out var v)) Assert.Equal(repr, new EthernetRepr(v.Destination, v.Source, v.EtherType));
        }, iter: 2000);
    }
}
